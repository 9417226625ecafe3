"""Last-writer-wins under clock skew: how often a later write loses.

Two writes to one key, on two nodes whose clock offsets are independent and uniform on
``[-delta, delta]``; the second is made ``gap`` seconds (true time) after the first. It loses
(its timestamp is smaller) when the offset difference exceeds ``gap``; the difference of two
uniforms is triangular on ``[-2 delta, 2 delta]``, so::

    P(lose) = (2 delta - gap)^2 / (8 delta^2)   for 0 <= gap <= 2 delta,   0 beyond.

>>> lww_loss_probability(0.0, delta=0.01)           # simultaneous: a coin toss
0.5
>>> round(lww_loss_probability(0.005, delta=0.01), 4)
0.2812
>>> float(lww_loss_probability([0.0, 0.02, 0.05], delta=0.01)[2])
0.0
>>> round(simulate_lww_loss(0.005, delta=0.01, trials=200_000, seed=1), 2)
0.28
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from distlab._validate import check_int, check_number, check_seed

__all__ = ["MAX_TRIALS", "lww_loss_probability", "simulate_lww_loss"]

#: The most trials :func:`simulate_lww_loss` draws in one call.
MAX_TRIALS = 50_000_000


def _gaps(gap: Any) -> tuple[np.ndarray, bool]:
    scalar = not isinstance(gap, (Sequence, np.ndarray))
    if scalar:
        check_number("gap", gap, 0.0)
        return np.asarray(float(gap)), True
    try:
        values = np.asarray(gap, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"gap={gap!r} must be a number or a sequence of numbers") from exc
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"gap={gap!r} must be finite numbers >= 0 (seconds)")
    return values, False


def lww_loss_probability(gap: float | Sequence[float], *, delta: float) -> Any:
    """The probability that a write made ``gap`` seconds after another, on another node, loses
    under last-writer-wins, with offsets uniform on ``[-delta, delta]``.

    ``gap`` may be a sequence (a numpy array is returned). With ``delta = 0`` the clocks agree:
    a later write never loses, and simultaneous ones tie (0.5, as with the coin of a tie-break).
    """
    delta = check_number("delta", delta, 0.0)
    gaps, scalar = _gaps(gap)
    if delta == 0.0:
        p = np.where(gaps == 0.0, 0.5, 0.0)
    else:
        p = np.where(gaps <= 2 * delta, (2 * delta - np.minimum(gaps, 2 * delta)) ** 2, 0.0)
        p = p / (8 * delta * delta)
    return float(p) if scalar else p


def simulate_lww_loss(gap: float, *, delta: float, trials: int = 100_000, seed: int = 0) -> float:
    """Monte Carlo of :func:`lww_loss_probability`: draw the two offsets ``trials`` times and
    count how often the later write gets the smaller timestamp (ties count half)."""
    gap = check_number("gap", gap, 0.0)
    delta = check_number("delta", delta, 0.0)
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    rng = np.random.default_rng(check_seed(seed))
    first = rng.uniform(-delta, delta, trials)
    second = gap + rng.uniform(-delta, delta, trials)
    lost = np.count_nonzero(second < first) + 0.5 * np.count_nonzero(second == first)
    return float(lost / trials)
