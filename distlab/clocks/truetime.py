"""TrueTime (Spanner, OSDI 2012): the time as an interval, and commit wait.

``now()`` does not return an instant but an interval ``[earliest, latest]`` guaranteed to hold
the true time. Its half-width ``eps`` is a sawtooth: right after a node polls its time masters
it is ``base_uncertainty`` (about 1 ms), then it grows by the assumed worst drift (200 us/s)
until the next poll (every 30 s): between about 1 and 7 ms, 4 ms on average.

A commit picks the timestamp ``s = now().latest`` and waits until ``now().earliest > s`` before
anyone may see it (commit wait, about ``2 eps``). Then a transaction that starts after another
commits gets a larger timestamp: external consistency, checked by
:func:`~distlab.clocks.check_external_consistency`.

>>> tt = TrueTime()                     # 30 s polls, 200e-6 drift, 1 ms base uncertainty
>>> tt.interval(0.0), round(tt.uncertainty(29.999), 6), round(tt.mean_uncertainty, 6)
(TTInterval(earliest=-0.001, latest=0.001), 0.007, 0.004)
>>> commit = tt.commit(now=15.0)
>>> round(commit.timestamp, 6), round(commit.wait, 6)
(15.004, 0.008002)
>>> tt.after(commit.timestamp, now=commit.visible_at + 1e-9)
True

Every method is told ``now``: the reading of the node's own clock, in seconds. The sawtooth's
phase is ``now`` modulo ``sync_interval`` (polls at whole multiples of it) unless the caller
says how long ago the last poll was (``since_sync``), as the real-time
:class:`~distlab.clocks.TrueTimeClock` does from a monotonic clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from distlab._validate import check_number
from distlab.clocks.physical import check_drift

__all__ = ["Commit", "TTInterval", "TrueTime"]


@dataclass(frozen=True)
class TTInterval:
    """An interval of time (seconds) that holds the true time."""

    earliest: float
    latest: float

    @property
    def width(self) -> float:
        """``latest - earliest`` (twice the uncertainty)."""
        return self.latest - self.earliest

    def contains(self, t: float) -> bool:
        """Whether ``t`` lies in the interval (ends included)."""
        return self.earliest <= t <= self.latest


@dataclass(frozen=True)
class Commit:
    """A commit at ``start`` (node clock): its ``timestamp``, the clock reading ``visible_at``
    from which it may be seen, and the commit ``wait`` between them (seconds)."""

    start: float
    timestamp: float
    visible_at: float

    @property
    def wait(self) -> float:
        """How long the commit waited before it became visible."""
        return self.visible_at - self.start


class TrueTime:
    """TrueTime's uncertainty model and commit rule, told the node's clock reading.

    Args:
        sync_interval: seconds between polls of the time masters (> 0; Spanner: 30).
        drift: the assumed worst drift rate, seconds per second (Spanner: 200e-6).
        base_uncertainty: the uncertainty right after a poll, seconds (Spanner: about 1 ms).
    """

    def __init__(
        self, *, sync_interval: float = 30.0, drift: float = 200e-6, base_uncertainty: float = 1e-3
    ) -> None:
        self.sync_interval = check_number("sync_interval", sync_interval, 0.0, min_inclusive=False)
        self.drift = check_drift("drift", drift, minimum=0.0)
        self.base_uncertainty = check_number("base_uncertainty", base_uncertainty, 0.0)

    def __repr__(self) -> str:
        return (
            f"TrueTime(sync_interval={self.sync_interval:g}, drift={self.drift:g}, "
            f"base_uncertainty={self.base_uncertainty:g})"
        )

    @property
    def max_uncertainty(self) -> float:
        """The uncertainty just before a poll."""
        return self.base_uncertainty + self.drift * self.sync_interval

    @property
    def mean_uncertainty(self) -> float:
        """The uncertainty averaged over a sync interval."""
        return self.base_uncertainty + self.drift * self.sync_interval / 2

    def uncertainty(self, now: float, *, since_sync: float | None = None) -> float:
        """``eps`` at clock reading ``now`` (``since_sync``: seconds since the last poll)."""
        now = check_number("now", now)
        if since_sync is None:
            since_sync = now % self.sync_interval
        else:
            since_sync = check_number("since_sync", since_sync, 0.0)
        return self.base_uncertainty + self.drift * since_sync

    def interval(self, now: float, *, since_sync: float | None = None) -> TTInterval:
        """``TT.now()``: ``[now - eps, now + eps]``."""
        eps = self.uncertainty(now, since_sync=since_sync)
        return TTInterval(now - eps, now + eps)

    def after(self, t: float, *, now: float, since_sync: float | None = None) -> bool:
        """``TT.after(t)``: whether ``t`` has certainly passed."""
        return check_number("t", t) < self.interval(now, since_sync=since_sync).earliest

    def before(self, t: float, *, now: float, since_sync: float | None = None) -> bool:
        """``TT.before(t)``: whether ``t`` has certainly not arrived."""
        return check_number("t", t) > self.interval(now, since_sync=since_sync).latest

    def visible_at(self, timestamp: float) -> float:
        """The clock reading from which ``after(timestamp)`` holds (just after it, strictly),
        with polls at multiples of ``sync_interval``."""
        s = check_number("timestamp", timestamp)
        period, d, b = self.sync_interval, self.drift, self.base_uncertainty
        k = math.floor((s + b) / period)
        # within poll period k, earliest(t) = t (1 - d) - b + d k period, increasing in t
        t = (s + b - d * k * period) / (1.0 - d)
        return t if t < (k + 1) * period else (k + 1) * period

    def commit(self, now: float) -> Commit:
        """Commit at clock reading ``now``: timestamp ``now().latest``, then commit wait."""
        timestamp = self.interval(now).latest
        return Commit(float(now), timestamp, max(float(now), self.visible_at(timestamp)))
