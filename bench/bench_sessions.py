"""Session-guarantee checker: wall time of check_sessions on a 100,000-operation history.

    python bench/bench_sessions.py                 # 100,000 operations, median of 5 repeats
    python bench/bench_sessions.py --operations 20000 --repeats 3

The history: 100 sessions on one register, each operation a read (70 %) or a write; the store
is a primary with three lagging replicas (a replica holds a prefix of the write log; a read goes
to a random replica), so every guarantee is violated somewhere. Prints the median seconds to
check all four guarantees on the version order and on the replicas' applied orders. Budget
(issue 11): under 2 s. Not yet a part of bench/run.py.
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

from distlab.history import History, Operation
from distlab.sessions import check_sessions


def lagging_history(operations: int, *, sessions: int = 100, seed: int = 0):
    """A history of reads from lagging replicas, and each replica's applied order."""
    rng = np.random.default_rng(seed)
    ops, log = [], []
    lag = {f"r{i}": 0 for i in range(3)}
    for i in range(operations):
        process = int(rng.integers(sessions))
        if rng.random() < 0.3:
            log.append(i)
            ops.append(Operation(i, process, "write", None, i, None, "ok", float(i), i + 0.5))
        else:
            replica = f"r{int(rng.integers(3))}"
            lag[replica] = min(len(log), lag[replica] + int(rng.integers(0, 3)))
            result = log[lag[replica] - 1] if lag[replica] else None
            ops.append(Operation(i, process, "read", None, None, result, "ok", float(i), i + 0.5))
    applied = {r: log[:n] for r, n in lag.items()}
    # one replica applied some neighbouring writes out of order (monotonic writes, writes follow
    # reads can break there)
    r0 = applied["r0"]
    for i in range(0, len(r0) - 1, 50):
        r0[i], r0[i + 1] = r0[i + 1], r0[i]
    return History(ops), applied


def bench(operations: int, repeats: int) -> dict[str, float]:
    history, applied = lagging_history(operations)
    out = {}
    for label, kwargs in (("version order", {}), ("replica orders", {"applied": applied})):
        times = []
        for _ in range(repeats):
            gc.collect()
            start = time.perf_counter()
            report = check_sessions(history, **kwargs)
            times.append(time.perf_counter() - start)
        out[label] = statistics.median(times)
        out[f"{label} violations"] = report.violated()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    figures = bench(args.operations, args.repeats)
    print(f"check_sessions, {args.operations:,} operations, median of {args.repeats}")
    for label in ("version order", "replica orders"):
        seconds = figures[label]
        verdict = "PASS" if seconds < 2.0 else "OVER"
        print(f"{label:<15} {seconds:>7.3f} s  {verdict} (< 2 s)  {figures[label + ' violations']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
