"""What sagas cost: simulated sagas per second, the SQLite log's overhead per step, recovery.

0. **Simulated sagas.** ``simulated`` order sagas of four steps (create order, reserve stock,
   charge payment, complete order) through :func:`distlab.sim.simulate_order_sagas` on a
   network of 10 ms latency, distlab's orchestrator with its log and idempotency keys, then the
   course's: sagas per second of wall time, the whole simulation (network, participants, log)
   included. Target: 10,000 sagas in a few seconds (at least 2,000 per second), so that a sweep
   of 1,000 runs fits in an explorer's budget.

1. **Overhead per step.** A saga of ``steps`` trivial steps (each action returns at once) runs
   through :class:`distlab.saga.SagaOrchestrator` on an SQLite log in a temporary directory (WAL,
   ``synchronous=NORMAL``); the time of one whole saga (its start and end records included)
   divided by its steps, minus the bare cost of calling the actions, is the overhead per step.
   Each step is two committed transactions (its start, then its result). Median and 90th
   percentile over ``sagas`` sagas; the same with the in-memory log, for comparison, and the
   marginal cost of one more step (a saga of 2 x ``steps`` against one of ``steps``).
2. **Recovery.** ``interrupted`` sagas of four steps whose orchestrator died after step 2 (their
   records written, their leases expired) wait in a fresh SQLite file; a new orchestrator's
   ``recover()`` claims each one, rebuilds it from its log and runs it to its end (steps 3 and
   4). The figure is the wall time of that ``recover()`` call, median of ``repeats`` files
   (with its CPU time: on a busy machine the wall time is mostly waiting for a core).

    python bench/bench_saga.py            # prints the figures

Targets (issue 10): at least 2,000 simulated sagas per second; overhead per step at most 1 ms
(median) on a 2-core machine; recovering 1,000 interrupted sagas in under 1 s.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from distlab.saga import InMemoryLog, Saga, SagaOrchestrator, SQLiteLog, Step
from distlab.saga import records as rec
from distlab.saga.records import LogRecord
from distlab.sim.sagas import simulate_order_sagas

MIN_SIMULATED_PER_S = 2000.0
MAX_STEP_OVERHEAD_S = 0.001
MAX_RECOVERY_S = 1.0


def _noop(ctx: Any) -> None:
    return None


def _saga(name: str, steps: int) -> Saga:
    return Saga(name, [Step(f"T{i}", action=_noop, compensation=_noop) for i in range(steps)])


def _time_sagas(orchestrator: SagaOrchestrator, saga: Saga, sagas: int, tag: str) -> list[float]:
    times = []
    run = orchestrator.run
    for i in range(sagas):
        start = time.perf_counter()
        result = run(saga, saga_id=f"{tag}-{i}")
        times.append(time.perf_counter() - start)
        assert result.ok
    return times


def _bare(steps: int, calls: int = 2000) -> float:
    """Seconds to call ``steps`` actions directly (what a saga would cost with no log)."""
    start = time.perf_counter()
    for _ in range(calls):
        for _ in range(steps):
            _noop(None)
    return (time.perf_counter() - start) / calls


def step_overhead(steps: int = 10, sagas: int = 300) -> dict[str, float]:
    """Median and p90 overhead per step, SQLite and in memory; the marginal cost of a step."""
    bare = _bare(steps)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        logs = {"sqlite": SQLiteLog(Path(tmp) / "bench.db"), "memory": InMemoryLog()}
        gc.disable()
        try:
            for name, log in logs.items():
                orch = SagaOrchestrator(log, owner="bench")
                _time_sagas(orch, _saga(f"warm-{name}", steps), 20, f"warm-{name}")
                short = _time_sagas(orch, _saga(f"short-{name}", steps), sagas, f"s-{name}")
                long = _time_sagas(orch, _saga(f"long-{name}", 2 * steps), sagas, f"l-{name}")
                per_step = sorted((t - bare) / steps for t in short)
                figures[f"{name}_median_s"] = statistics.median(per_step)
                figures[f"{name}_p90_s"] = per_step[int(0.9 * len(per_step))]
                figures[f"{name}_marginal_s"] = (
                    statistics.median(long) - statistics.median(short)
                ) / steps
        finally:
            gc.enable()
        logs["sqlite"].close()
    return figures


def simulated(sagas: int = 10_000, repeats: int = 3) -> dict[str, float]:
    """Simulated four-step order sagas per second of wall time, per driver (best of ``repeats``:
    the others ran while something else had the core)."""
    figures: dict[str, float] = {"simulated_sagas": float(sagas)}
    for driver in ("distlab", "course"):
        times = []
        for _ in range(repeats):
            gc.collect()
            start = time.perf_counter()
            run = simulate_order_sagas(orders=sagas, driver=driver, horizon_s=0.1 * sagas + 60.0)
            times.append(time.perf_counter() - start)
        done = int((run.end_states()["end_state"] == "completed").sum())
        assert done == sagas, f"{driver}: {done} of {sagas} sagas completed"
        figures[f"simulated_{driver}_s"] = min(times)
        figures[f"simulated_{driver}_per_s"] = sagas / min(times)
    return figures


def _interrupted(path: Path, saga: Saga, count: int) -> None:
    """``count`` sagas whose orchestrator died after step 2, written straight to the log."""
    log = SQLiteLog(path)
    for i in range(count):
        sid = f"job-{i}"
        records = [LogRecord(sid, 0, rec.SAGA_STARTED, 0.0, payload={"saga": saga.name, "data": i})]
        for n, step in enumerate(saga.steps[:2]):
            key = f"{sid}/{step.name}"
            seq = 1 + 2 * n
            records.append(
                LogRecord(sid, seq, rec.ACTION_STARTED, 0.0, step=step.name, attempt=1, key=key)
            )
            records.append(
                LogRecord(sid, seq + 1, rec.ACTION_ENDED, 0.0, step=step.name, attempt=1, key=key,
                          outcome="ok")
            )  # fmt: skip
        log.append(records, owner="dead", now=0.0, lease=1.0)
    log.close()


def recovery(interrupted: int = 1000, repeats: int = 3) -> dict[str, float]:
    """Wall time of one ``recover()`` over ``interrupted`` sagas, median of ``repeats``."""
    saga = _saga("order", 4)
    times, cpu = [], []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "recover.db"
            _interrupted(path, saga, interrupted)
            log = SQLiteLog(path)
            orch = SagaOrchestrator(log, [saga], owner=f"new-{r}")
            start, start_cpu = time.perf_counter(), time.process_time()
            results = orch.recover()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert len(results) == interrupted and all(x.ok for x in results)
            log.close()
    return {
        "recover_s": statistics.median(times),
        "recover_max_s": max(times),
        "recover_cpu_s": statistics.median(cpu),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulated", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--sagas", type=int, default=300)
    parser.add_argument("--interrupted", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    figures = simulated(args.simulated, args.repeats)
    figures.update(step_overhead(args.steps, args.sagas))
    figures.update(recovery(args.interrupted, args.repeats))
    us = 1e6
    for driver in ("distlab", "course"):
        rate = figures[f"simulated_{driver}_per_s"]
        verdict = "PASS" if rate >= MIN_SIMULATED_PER_S else "OVER"
        print(
            f"{args.simulated:,} simulated four-step sagas, {driver} driver: "
            f"{figures[f'simulated_{driver}_s']:.2f} s ({rate:,.0f} per s; target >= "
            f"{MIN_SIMULATED_PER_S:,.0f})  {verdict}"
        )
    print(f"saga of {args.steps} trivial steps, {args.sagas} sagas; overhead per step:")
    for name in ("sqlite", "memory"):
        print(
            f"  {name:6s}  median {figures[f'{name}_median_s'] * us:7.1f} us   "
            f"p90 {figures[f'{name}_p90_s'] * us:7.1f} us   "
            f"marginal {figures[f'{name}_marginal_s'] * us:7.1f} us"
        )
    verdict = "PASS" if figures["sqlite_median_s"] <= MAX_STEP_OVERHEAD_S else "OVER"
    print(f"  target: SQLite median <= {MAX_STEP_OVERHEAD_S * 1e3:g} ms  {verdict}")
    verdict = "PASS" if figures["recover_s"] < MAX_RECOVERY_S else "OVER"
    print(
        f"recover() of {args.interrupted} interrupted sagas (2 steps left each): "
        f"median {figures['recover_s']:.3f} s, max {figures['recover_max_s']:.3f} s "
        f"(target < {MAX_RECOVERY_S:g} s)  {verdict}; CPU time {figures['recover_cpu_s']:.3f} s"
    )
    return figures


if __name__ == "__main__":
    main()
