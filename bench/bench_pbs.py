"""PBS t-visibility: wall time of a 1,000,000-trial WARS Monte Carlo per preset, and its figures.

    python bench/bench_pbs.py                 # N=3, R=W=1, 1e6 trials, median of 5 repeats
    python bench/bench_pbs.py --trials 200000 --repeats 3

Prints, per preset: the median seconds for the run, the probability of a consistent read at
t = 0 and the t (ms) at which 99.9 % of reads are consistent, beside the paper's figures
(distlab.pbs.PAPER) and the paper's estimator of that t on this model (sweep_t_for: fresh
50,000 reads per grid time, first crossing, median of 7 seeds). Also the cost of one step of
each clock core (Lamport, vector of 5, hybrid), for scale. Not yet a part of bench/run.py.
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

from distlab.clocks import HLCTimestamp, HybridLogicalClock, LamportClock, VectorClock
from distlab.pbs import PAPER, PRESETS, sweep_t_for, t_visibility

GRIDS = {"LNKD-SSD": (0, 4, 0.01), "LNKD-DISK": (0, 150, 0.1), "YMMR": (1, 1500, 1.0)}


def bench_pbs(trials: int, repeats: int) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for name in PRESETS:
        times = []
        for seed in range(repeats):
            gc.collect()
            start = time.perf_counter()
            vis = t_visibility(
                name, nodes=3, read_quorum=1, write_quorum=1, trials=trials, seed=seed
            )
            times.append(time.perf_counter() - start)
        grid = np.arange(*GRIDS[name])
        swept = statistics.median(sweep_t_for(vis, grid, seed=s) or np.inf for s in range(7))
        p0, t999 = vis.consistent_probability(0.0), vis.t_for(0.999)
        rows.append((name, statistics.median(times), p0, t999, swept))
    return rows


def bench_clock_steps(steps: int = 100_000) -> dict[str, float]:
    cluster = ("a", "b", "c", "d", "e")
    lamport = LamportClock("a", max_events=0)
    vector = VectorClock("a", cluster, max_events=0)
    hlc = HybridLogicalClock(max_offset=None, max_events=0)
    remote = HLCTimestamp(10, 0)
    cases = {
        "LamportClock.local": lambda i: lamport.local(),
        "VectorClock.local (5 processes)": lambda i: vector.local(),
        "HybridLogicalClock.local": lambda i: hlc.local(now=i),
        "HybridLogicalClock.receive": lambda i: hlc.receive(remote, now=i),
    }
    out = {}
    for name, step in cases.items():
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        out[name] = (time.perf_counter() - start) / steps * 1e6
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"PBS t-visibility, N=3 R=1 W=1, {args.trials:,} trials, median of {args.repeats}")
    print(
        f"{'preset':<10} {'seconds':>8} {'P(t=0)':>7} {'paper':>6} "
        f"{'t 99.9% (ms)':>12} {'swept':>8} {'paper':>8}"
    )
    for name, seconds, p0, t999, swept in bench_pbs(args.trials, args.repeats):
        paper = PAPER[name]
        print(
            f"{name:<10} {seconds:>8.3f} {p0:>7.4f} {paper.consistent_at_0:>6.3f} "
            f"{t999:>12.2f} {swept:>8.2f} {paper.t_999_ms:>8.2f}"
        )
    print("\nclock core steps (microseconds each, no listeners, no kept events)")
    for name, us in bench_clock_steps().items():
        print(f"{name:<34} {us:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
