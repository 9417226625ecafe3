"""Real-time drivers: the clock cores on this machine's clocks (injectable, for tests).

Which clock, and why:

- :class:`WallClockHLC` reads **wall time**, ``time.time_ns()``: hybrid timestamps are compared
  across machines, so they need the shared epoch of wall time (a monotonic clock starts anywhere,
  per boot). A wall clock stepped backwards (NTP) is absorbed: ``l = max(l, pt)`` never goes back.
- :class:`TrueTimeClock` centres its interval on **wall time** (``time.time_ns()``) and measures
  the time since the last poll, which sets the uncertainty, on the **monotonic** clock
  (``time.monotonic_ns()``): an elapsed duration must not jump when the wall clock is stepped.
  Its commit wait sleeps with an injectable ``sleep``.
- Lamport and vector clocks read no clock at all.

>>> fake_ns = iter(range(1_000, 10_000, 10))
>>> hlc = WallClockHLC(name="n1", clock=lambda: next(fake_ns))
>>> hlc.now(), hlc.send()
(HLCTimestamp(l=1000, c=0), HLCTimestamp(l=1010, c=0))
>>> hlc.receive(HLCTimestamp(5000, 3))
HLCTimestamp(l=5000, c=4)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from distlab.clocks.hlc import HLCTimestamp, HybridLogicalClock
from distlab.clocks.truetime import TrueTime, TTInterval

__all__ = ["TrueTimeClock", "WallClockHLC"]

_NS = 1e-9


def _callable(name: str, value: Any) -> Callable[..., Any]:
    if not callable(value):
        raise TypeError(f"{name}={value!r} must be callable")
    return value


class WallClockHLC:
    """A :class:`~distlab.clocks.HybridLogicalClock` that reads the wall clock itself.

    Args:
        name, max_offset, max_events: as for :class:`~distlab.clocks.HybridLogicalClock`
            (``max_offset`` in nanoseconds).
        clock: returns wall time in integer nanoseconds (default ``time.time_ns``).
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        max_offset: int | None = None,
        max_events: int = 1000,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.clock = _callable("clock", clock)
        self.hlc = HybridLogicalClock(name=name, max_offset=max_offset, max_events=max_events)

    def __repr__(self) -> str:
        return f"WallClockHLC({self.hlc!r})"

    def now(self) -> HLCTimestamp:
        """Stamp a local event now."""
        return self.hlc.local(now=self.clock())

    def send(self) -> HLCTimestamp:
        """Stamp a send now; the message carries the result."""
        return self.hlc.send(now=self.clock())

    def receive(self, remote: HLCTimestamp) -> HLCTimestamp:
        """Stamp, now, the receipt of a message that carried ``remote``."""
        return self.hlc.receive(remote, now=self.clock())


class TrueTimeClock:
    """TrueTime on this machine: ``now()`` as an interval, ``after``, ``before``, commit wait.

    The driver counts its creation as a poll of the time masters, and one every
    ``truetime.sync_interval`` after it (measured on ``monotonic``).

    Args:
        truetime: the uncertainty model (default :class:`~distlab.clocks.TrueTime`'s Spanner
            figures).
        clock: wall time in integer nanoseconds (default ``time.time_ns``).
        monotonic: monotonic time in integer nanoseconds (default ``time.monotonic_ns``).
        sleep: sleeps for a number of seconds (default ``time.sleep``).
    """

    def __init__(
        self,
        truetime: TrueTime | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        if truetime is None:
            truetime = TrueTime()
        if not isinstance(truetime, TrueTime):
            raise TypeError(f"truetime={truetime!r} must be a TrueTime")
        self.truetime = truetime
        self.clock = _callable("clock", clock)
        self.monotonic = _callable("monotonic", monotonic)
        self.sleep = _callable("sleep", sleep)
        self._polled = self.monotonic()

    def since_sync(self) -> float:
        """Seconds since the last (modelled) poll."""
        elapsed = (self.monotonic() - self._polled) * _NS
        return elapsed % self.truetime.sync_interval

    def now(self) -> TTInterval:
        """``TT.now()``: an interval that holds the true time, in seconds since the epoch."""
        return self.truetime.interval(self.clock() * _NS, since_sync=self.since_sync())

    def after(self, t: float) -> bool:
        """Whether ``t`` (seconds since the epoch) has certainly passed."""
        return t < self.now().earliest

    def before(self, t: float) -> bool:
        """Whether ``t`` has certainly not arrived."""
        return t > self.now().latest

    def commit_wait(self, timestamp: float) -> float:
        """Sleep until ``after(timestamp)``; return the seconds waited (monotonic)."""
        started = self.monotonic()
        while True:
            earliest = self.now().earliest
            if timestamp < earliest:
                return (self.monotonic() - started) * _NS
            self.sleep(max(timestamp - earliest, 1e-6))

    def commit(self) -> float:
        """Pick a commit timestamp (``now().latest``), wait it out, return it."""
        timestamp = self.now().latest
        self.commit_wait(timestamp)
        return timestamp
