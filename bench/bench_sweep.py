"""Sweep throughput: 1,000 runs of a typical experiment in-process, on 2 processes, on Dask.

The experiment is notebook 00's message exchange (``distlab.experiments.network.message_exchange``
at its defaults, 10 to 35 ms a run on this machine depending on its load), swept over 4 loss
rates x 250 seeds, stacking each run's frame. Four ways, in this process:

- ``in_process_s``: ``sweep(...)``, the default;
- ``pool_s``: ``sweep(..., workers=2)``: a process pool of 2 that the sweep starts and shuts
  down, both included;
- ``dask_s``: ``sweep(..., executor=client.get_executor())`` on a Dask ``LocalCluster`` of 2
  worker processes of 1 thread each, started under ``dask.config.set(dask_sweep_settings())``
  (as the README starts one) and warmed up beforehand (``dask_start_s``, reported apart: a
  cluster is started once and serves many sweeps);
- ``dask_defaults_s``: the same on a cluster started with Dask's default settings.

The four take turns over ``repeats`` rounds (5 by default; the two Dask ways in alternating
order) and each figure is the median of its rounds. Each result is checked equal to the
in-process frame. Speed-ups are ``in_process_s`` over each. Target (issue 14): at least 1.6x on a
2-core machine, for the pool and for Dask as the README starts it; Dask's defaults are reported.
``load_before`` is the machine's load average over the minute before (``os.getloadavg``): on 2
cores, a load of 1 or more from other work leaves the parallel sweeps less than the two cores
they need, and the speed-ups say so.
``ceiling_speedup`` measures what the machine allows at that moment: the same pure-Python loop run
8 times in-process and on a process pool of 2 (no distlab, nothing sent but a number); a sweep
cannot gain more than that.

Where a parallel sweep's time goes, as CPU seconds (medians of the rounds, less noisy than wall
times on a shared machine): ``*_main_cpu_s`` of this process (the sweep gathering and stacking
frames; for Dask also the scheduler and client, which a LocalCluster runs in it) and
``*_workers_cpu_s`` of the worker processes, summed (the pool's from their start, as its wall
time; the Dask workers' during the sweep, their nanny processes not counted). On 2 cores, workers
and this process share the two: the more CPU the same 1,000 runs take in all, the smaller the
speed-up.

    python bench/bench_sweep.py
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from distlab.experiments import dask_sweep_settings, sweep
from distlab.experiments.network import message_exchange

GRID = {"loss": [0.0, 0.1, 0.2, 0.3]}
WORKERS = 2


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def ceiling_speedup(loops: int = 8, n: int = 2_000_000) -> float:
    """How much faster 2 processes run ``loops`` pure-Python loops than this process alone."""
    t = time.perf_counter()
    for _ in range(loops):
        _burn(n)
    alone = time.perf_counter() - t
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(_burn, [1] * WORKERS))  # start the workers
        t = time.perf_counter()
        list(pool.map(_burn, [n] * loops))
        return alone / (time.perf_counter() - t)


def _timed(fn: Any) -> tuple[float, pd.DataFrame]:
    t = time.perf_counter()
    df = fn()
    return time.perf_counter() - t, df


def _children_cpu_s() -> float:
    """CPU seconds of this process's ended and reaped child processes (a pool's, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pool_round(seeds: range) -> tuple[float, float, float, pd.DataFrame]:
    """One sweep on its own pool: wall time, this process's CPU, the workers' CPU, the frame."""
    main, children = time.process_time(), _children_cpu_s()
    elapsed, df = _timed(lambda: sweep(message_exchange, GRID, seeds=seeds, workers=WORKERS))
    return elapsed, time.process_time() - main, _children_cpu_s() - children, df


def _dask_round(
    seeds: range, settings: dict[str, Any]
) -> tuple[float, float, float, float, pd.DataFrame]:
    """Start a LocalCluster with ``settings``, warm its workers, time one sweep on it, close it:
    the start time, the sweep's wall time, this process's CPU, the workers' CPU, the frame."""
    import dask
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(WORKERS, timeout=120)
        start_s = time.perf_counter() - t
        executor = client.get_executor()
        sweep(message_exchange, GRID, seeds=range(2), executor=executor)  # workers import distlab
        main, workers = time.process_time(), sum(client.run(time.process_time).values())
        elapsed, df = _timed(lambda: sweep(message_exchange, GRID, seeds=seeds, executor=executor))
        main = time.process_time() - main
        workers = sum(client.run(time.process_time).values()) - workers
    return start_s, elapsed, main, workers, df


def measure(runs: int = 1000, repeats: int = 5) -> dict[str, Any]:
    """Median wall times and CPU seconds of one sweep of ``runs`` runs, four ways, and the
    speed-ups.

    The ways take turns, ``repeats`` rounds, so that a change in the machine's load falls on all
    of them alike; each Dask cluster runs only during its own turn (started and closed around
    it, untimed), so that its idle processes weigh on no other figure.

    >>> figures = measure(runs=8, repeats=1)
    >>> figures["runs"], figures["pool_speedup"] > 0, figures["dask_defaults_speedup"] > 0
    (8, True, True)
    """
    load_before = os.getloadavg()[0]
    seeds = range(max(1, runs // len(GRID["loss"])))
    runs = len(seeds) * len(GRID["loss"])
    sweep(message_exchange, GRID, seeds=range(2))  # warm up imports and caches
    dask_ways = {"dask": dask_sweep_settings(), "dask_defaults": {}}
    names = ["in_process_s", "pool_s", "in_process_cpu_s", "pool_main_cpu_s", "pool_workers_cpu_s"]
    for way in dask_ways:
        names += [f"{way}_s", f"{way}_main_cpu_s", f"{way}_workers_cpu_s"]
    times: dict[str, list[float]] = {name: [] for name in names}
    starts = []
    for round_ in range(repeats):
        cpu = time.process_time()
        elapsed, expected = _timed(lambda: sweep(message_exchange, GRID, seeds=seeds))
        times["in_process_s"].append(elapsed)
        times["in_process_cpu_s"].append(time.process_time() - cpu)
        elapsed, main, workers, df = _pool_round(seeds)
        times["pool_s"].append(elapsed)
        times["pool_main_cpu_s"].append(main)
        times["pool_workers_cpu_s"].append(workers)
        pd.testing.assert_frame_equal(df, expected)
        for way in sorted(dask_ways, reverse=round_ % 2 == 1):
            start_s, elapsed, main, workers, df = _dask_round(seeds, dask_ways[way])
            starts.append(start_s)
            times[f"{way}_s"].append(elapsed)
            times[f"{way}_main_cpu_s"].append(main)
            times[f"{way}_workers_cpu_s"].append(workers)
            pd.testing.assert_frame_equal(df, expected)
    medians = {name: statistics.median(values) for name, values in times.items()}
    ceiling = ceiling_speedup()
    return {
        "runs": runs,
        "repeats": repeats,
        "load_before": load_before,
        **medians,
        "dask_start_s": statistics.median(starts),  # both clusters' starts: the same work
        "pool_speedup": medians["in_process_s"] / medians["pool_s"],
        "dask_speedup": medians["in_process_s"] / medians["dask_s"],
        "dask_defaults_speedup": medians["in_process_s"] / medians["dask_defaults_s"],
        "ceiling_speedup": ceiling,
    }


def cpu_line(figures: dict[str, Any]) -> str:
    """The CPU seconds of the three ways, in one line."""
    return (
        f"CPU s: in-process {figures['in_process_cpu_s']:.2f}; pool: workers "
        f"{figures['pool_workers_cpu_s']:.2f} + this process {figures['pool_main_cpu_s']:.2f}; "
        f"Dask: workers {figures['dask_workers_cpu_s']:.2f} + this process (scheduler, client) "
        f"{figures['dask_main_cpu_s']:.2f}; at Dask's defaults "
        f"{figures['dask_defaults_workers_cpu_s']:.2f} + {figures['dask_defaults_main_cpu_s']:.2f}"
    )


if __name__ == "__main__":
    figures = measure()
    print(f"{figures['runs']} runs of message_exchange (load average before: "
          f"{figures['load_before']:.1f})")  # fmt: skip
    print(f"in-process                    {figures['in_process_s']:6.2f} s")
    print(f"process pool of {WORKERS} (workers=)   {figures['pool_s']:6.2f} s   "
          f"{figures['pool_speedup']:.2f}x")  # fmt: skip
    print(f"Dask LocalCluster of {WORKERS}        {figures['dask_s']:6.2f} s   "
          f"{figures['dask_speedup']:.2f}x  "
          f"(cluster start {figures['dask_start_s']:.1f} s)")  # fmt: skip
    print(f"  at Dask's default settings     {figures['dask_defaults_s']:6.2f} s   "
          f"{figures['dask_defaults_speedup']:.2f}x")  # fmt: skip
    print(f"ceiling: a bare loop on {WORKERS} processes       {figures['ceiling_speedup']:.2f}x")
    print(cpu_line(figures))
