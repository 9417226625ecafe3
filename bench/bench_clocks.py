"""Time and order: vector timestamps of a 100,000-event simulated run, and clock operations per
second for each clock.

    python bench/bench_clocks.py                  # 100,000 events on 5 nodes, median of 5
    python bench/bench_clocks.py --events 20000 --repeats 3

Prints the median seconds to give every event of a world's log its Lamport and vector timestamps
(``distlab.sim.vector_timestamps``: log -> run -> columns; budget: under 1 s), the same for the
core alone (``Run.vector_timestamps`` on the run already built), and, for each clock, operations
per second (no listeners, no kept events). The run is built once, outside the timings.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from distlab.clocks import (
    DriftingClock,
    HLCTimestamp,
    HybridLogicalClock,
    LamportClock,
    LamportTimestamp,
    NaiveHybridClock,
    TrueTime,
    VectorClock,
)
from distlab.sim import Network, World
from distlab.sim.causality import happened_before, vector_timestamps
from distlab.sim.clocks import NodeClock, NodeClocks

#: The budget for timestamping a 100,000-event run (issue 12).
BUDGET_S = 1.0


def simulated_log(events: int, nodes: int = 5, seed: int = 0):
    """A world's event log of ``events`` rows: ``events / 2`` messages, each a send and a
    deliver, between random pairs of ``nodes`` nodes."""
    world = World(seed)
    net = Network(world, latency=0.01)
    names = [f"n{i}" for i in range(nodes)]
    for n in names:
        net.add_node(n)
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, nodes, (events // 2, 2))

    def traffic(env):
        for a, b in pairs:
            net.send(names[a], names[(a + 1 + b % (nodes - 1)) % nodes])
            yield env.timeout(0.001)

    world.env.process(traffic(world.env))
    world.run()
    return world.events()


def _median(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_timestamps(events: int, repeats: int) -> dict[str, float]:
    log = simulated_log(events)
    runs = [happened_before(log).run for _ in range(repeats)]  # fresh ones: nothing cached
    return {
        "events": float(len(log)),
        "vector_timestamps(log)": _median(lambda: vector_timestamps(log), repeats),
        "Run.vector_timestamps()": _median(lambda: runs.pop().vector_timestamps(), repeats),
    }


def bench_clock_operations(steps: int = 100_000) -> dict[str, float]:
    cluster = ("a", "b", "c", "d", "e")
    lamport = LamportClock("a", max_events=0)
    vector = VectorClock("a", cluster, max_events=0)
    other = VectorClock("b", cluster, max_events=0).send()
    hlc = HybridLogicalClock(max_events=0)
    naive = NaiveHybridClock(max_events=0)
    remote = HLCTimestamp(10, 0)
    truetime = TrueTime()
    drifting = DriftingClock(offset=0.001, drift=1e-5)
    synced = NodeClocks({"a": NodeClock(drift=1e-5, sync_interval_s=16, sync_error_s=1e-3)})
    sim_clock = synced.clock("a")
    cases = {
        "LamportClock.local": lambda i: lamport.local(),
        "LamportClock.receive": lambda i: lamport.receive(LamportTimestamp(i, "b")),
        "VectorClock.local (5 processes)": lambda i: vector.local(),
        "VectorClock.receive (5 processes)": lambda i: vector.receive(other),
        "HybridLogicalClock.local": lambda i: hlc.local(now=i),
        "HybridLogicalClock.receive": lambda i: hlc.receive(remote, now=i),
        "NaiveHybridClock.local": lambda i: naive.local(now=i),
        "TrueTime.commit": lambda i: truetime.commit(i * 0.001),
        "DriftingClock.read": lambda i: drifting.read(i * 0.001),
        "sim SimClock.read (synced)": lambda i: sim_clock.read(i * 0.001),
    }
    out = {}
    for name, step in cases.items():
        gc.collect()
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        out[name] = steps / (time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    figures = bench_timestamps(args.events, args.repeats)
    print(f"vector timestamps of a {int(figures['events']):,}-event run (median of {args.repeats})")
    for name in ("vector_timestamps(log)", "Run.vector_timestamps()"):
        verdict = "PASS" if figures[name] < BUDGET_S else "OVER"
        print(f"  {name:<26} {figures[name]:>7.3f} s   budget < {BUDGET_S:g} s: {verdict}")
    print("\nclock operations per second (no listeners, no kept events)")
    for name, rate in bench_clock_operations().items():
        print(f"  {name:<36} {rate:>12,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
