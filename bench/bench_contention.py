"""Running time of the AWS contention experiment (``distlab.experiments.contention``).

Figures, all wall-clock, in this process:

- ``sweep_s``: the sweep notebook 02 shows, ``contention_sweep(clients=range(10, 200, 20),
  seeds=range(20))`` (5 strategies x 10 client counts x 20 seeds = 1000 runs, in-process), median
  of ``repeats`` runs. It must leave most of the notebook's 20 s budget to the rest of the notebook.
- ``run_ms[strategy]``: one ``contention(strategy, clients=100)`` call (a Result whose frame has
  one row per write), median over seeds 0..``runs``-1.
- ``simpy_run_ms``: the same model written as SimPy processes (one per client, a timeout per
  message), on the same runs, summed over the strategies, against ``fast_run_ms``: what a sweep
  spends per run (distlab's ``heapq`` loop, counting calls without building a DataFrame), summed
  likewise. Why the experiment uses its own loop and not SimPy.

    python bench/bench_contention.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import simpy

from distlab.experiments.contention import (
    STRATEGIES,
    _BlockUniform,
    _simulate,
    backoff_for,
    contention,
    contention_sweep,
)

NOTEBOOK_CLIENTS = range(10, 200, 20)
NOTEBOOK_SEEDS = range(20)
RUN_CLIENTS = 100


def _simpy_run(clients: int, strategy: str, seed: int) -> tuple[int, float]:
    """The contention experiment message by message in SimPy (the baseline, not used by distlab)."""
    rng = np.random.default_rng(seed)
    uniform = _BlockUniform(rng)
    backoff = backoff_for(strategy)
    buf: list[float] = []

    def latency() -> float:
        if not buf:
            buf.extend(np.abs(rng.normal(0.010, 0.002, 4096)).tolist())
        return buf.pop()

    env = simpy.Environment()
    state = {"version": 0, "calls": 0, "done": 0.0}

    def client() -> Any:
        attempt, previous = 1, None
        while True:
            yield env.timeout(latency())  # the read reaches the server
            seen = state["version"]
            yield env.timeout(latency() + latency())  # the version back, the write out
            state["calls"] += 1
            ok = state["version"] == seen
            state["version"] += ok
            yield env.timeout(latency())  # the answer back
            if ok:
                state["done"] = env.now
                return
            previous = backoff.delay(attempt, previous, uniform)
            attempt += 1
            yield env.timeout(previous)

    for _ in range(clients):
        env.process(client())
    env.run()
    return state["calls"], state["done"]


def _median_s(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(repeats: int = 3, runs: int = 5) -> dict[str, Any]:
    """The notebook sweep's wall time and single runs at 100 clients.

    >>> figures = measure(repeats=1, runs=1)
    >>> sorted(figures)
    ['fast_run_ms', 'run_ms', 'runs', 'simpy_run_ms', 'sweep_runs', 'sweep_s']
    """
    contention_sweep(clients=[10], seeds=[0])  # warm up imports and caches
    sweep_s = _median_s(
        lambda: contention_sweep(clients=NOTEBOOK_CLIENTS, seeds=NOTEBOOK_SEEDS), repeats
    )
    run_ms = {}
    fast_ms = simpy_ms = 0.0
    for strategy in STRATEGIES:
        backoff = backoff_for(strategy)
        frame, fast, slow = [], [], []
        for seed in range(runs):
            t = time.perf_counter()
            contention(strategy, clients=RUN_CLIENTS, seed=seed)
            frame.append(time.perf_counter() - t)
            t = time.perf_counter()
            _simulate(RUN_CLIENTS, backoff, seed, 0.010, 0.002, record=False)
            fast.append(time.perf_counter() - t)
            t = time.perf_counter()
            _simpy_run(RUN_CLIENTS, strategy, seed)
            slow.append(time.perf_counter() - t)
        run_ms[strategy] = 1000 * statistics.median(frame)
        fast_ms += 1000 * statistics.median(fast)
        simpy_ms += 1000 * statistics.median(slow)
    return {
        "sweep_s": sweep_s,
        "sweep_runs": len(STRATEGIES) * len(NOTEBOOK_CLIENTS) * len(NOTEBOOK_SEEDS),
        "run_ms": run_ms,
        "fast_run_ms": fast_ms,
        "simpy_run_ms": simpy_ms,
        "runs": runs,
    }


if __name__ == "__main__":
    figures = measure()
    print(
        f"notebook sweep ({figures['sweep_runs']} runs)  {figures['sweep_s']:6.2f} s   "
        "(notebook budget: 20 s in all)"
    )
    for strategy, ms in figures["run_ms"].items():
        call = f"contention({strategy!r}, clients={RUN_CLIENTS})"
        print(f"{call:<42}{ms:8.1f} ms")
    print(f"all five at {RUN_CLIENTS}, as a sweep runs them  {figures['fast_run_ms']:8.1f} ms   "
          f"(SimPy baseline: {figures['simpy_run_ms']:.1f} ms)")  # fmt: skip
