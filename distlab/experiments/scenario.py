"""Building blocks that experiments share: arrivals, time bins, work bounds, variant tables.

Each experiment's body should read as its lesson: set up the world, run it, tabulate. The steps
every experiment takes in the same way live here, once.

>>> import numpy as np
>>> times = poisson_arrivals(np.random.default_rng(0), rate_per_s=10, duration_s=2.0)
>>> bool((np.diff(times) > 0).all()) and bool(times[-1] < 2.0)
True
>>> starts, counts = binned([0.1, 0.2, 1.5], bin_s=1.0, until=2.0)
>>> starts.tolist(), counts.tolist()
([0.0, 1.0], [2, 1])
>>> check_work("calls", 30_000, 20_000, "rate_per_s=100 for duration_s=300")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: rate_per_s=100 for duration_s=300 asks for 30,000 calls; at most 20,000 are ...
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["MAX_BINS", "binned", "check_work", "poisson_arrivals", "stack_variants"]

#: The most time bins a rate-over-time table may have (a figure cannot show more anyway).
MAX_BINS = 100_000


def check_work(what: str, amount: float, limit: float, asked_by: str) -> None:
    """Refuse, before starting, a run that would simulate more than ``limit`` ``what``.

    ``asked_by`` names the parameters (and values) that asked for it, so the message tells the
    caller which knob to turn.
    """
    if not math.isfinite(amount) or amount > limit:
        shown = f"{amount:,.0f}" if math.isfinite(amount) else "unboundedly many"
        raise ValueError(
            f"{asked_by} asks for {shown} {what}; at most {limit:,.0f} are simulated "
            "(lower one of them)"
        )


def poisson_arrivals(rng: np.random.Generator, rate_per_s: float, duration_s: float) -> np.ndarray:
    """Arrival times of a Poisson process of ``rate_per_s`` in ``[0, duration_s)``, sorted
    (none for a rate so small that not even one in a billion runs would see an arrival)."""
    if not rate_per_s * duration_s >= 1e-9:
        return np.empty(0)
    size = int(rate_per_s * duration_s * 1.3) + 20
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, size=size))
    while times[-1] < duration_s:  # pragma: no cover - 1.3x plus 20 almost always suffices
        more = times[-1] + np.cumsum(rng.exponential(1.0 / rate_per_s, size=size))
        times = np.concatenate([times, more])
    return times[times < duration_s]


def binned(times: Iterable[float], bin_s: float, until: float) -> tuple[np.ndarray, np.ndarray]:
    """Bins of ``bin_s`` seconds from 0 to ``until``: each bin's start and how many ``times``
    fall in it (a time at or past ``until`` counts in the last bin).

    Raises ``ValueError`` naming ``bin_s`` when it would make more than :data:`MAX_BINS` bins.
    """
    ratio = until / bin_s
    if not math.isfinite(ratio) or ratio > MAX_BINS:
        raise ValueError(
            f"bin_s={bin_s:g} cuts {until:g} s into more than {MAX_BINS:,} bins; "
            f"use bin_s >= {until / MAX_BINS:.3g}"
        )
    bins = max(1, math.ceil(ratio - 1e-9))
    index = np.minimum((np.asarray(times, dtype=float) / bin_s).astype(int), bins - 1)
    return np.arange(bins) * bin_s, np.bincount(index, minlength=bins)


def stack_variants(
    frames: Sequence[tuple[str, pd.DataFrame]], column: str = "variant"
) -> pd.DataFrame:
    """One table from ``(label, frame)`` pairs, with the label in ``column`` first.

    >>> a = pd.DataFrame({"x": [1]}); b = pd.DataFrame({"x": [2, 3]})
    >>> stack_variants([("course", a), ("recommended", b)]).to_dict("list")
    {'variant': ['course', 'recommended', 'recommended'], 'x': [1, 2, 3]}
    """
    parts = []
    for label, frame in frames:
        part = frame.copy()
        part.insert(0, column, label)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
