"""Timing contenders side by side: interleaved repeats, rotating order, medians.

Used by the per-call overhead benchmarks (retry against tenacity, breaker against pybreaker and
circuitbreaker) so that every contender sees the same machine conditions in the same run.

>>> medians = interleaved_medians(
...     {"bare": abs, "twice": lambda x: abs(abs(x))}, calls=100, repeats=3
... )
>>> sorted(medians)
['bare', 'twice']
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any


def time_per_call(fn: Callable[[int], Any], calls: int) -> float:
    """Seconds per call of ``fn(i)`` over ``calls`` calls."""
    loop = range(calls)
    start = time.perf_counter()
    for i in loop:
        fn(i)
    return (time.perf_counter() - start) / calls


def interleaved_medians(
    contenders: dict[str, Callable[[int], Any]], calls: int, repeats: int
) -> dict[str, float]:
    """Median seconds per call of each contender. Each repeat times all of them, ``calls`` calls
    each, in an order rotated from one repeat to the next, with the garbage collector off (as
    ``timeit`` does)."""
    if calls < 1 or repeats < 1:
        raise ValueError(f"calls={calls} and repeats={repeats} must be at least 1")
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(repeats):
            order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
            for name in order:
                samples[name].append(time_per_call(contenders[name], calls))
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}
