"""Shared plumbing of the clock objects: a lock, counters and the observation API.

Every clock (:class:`~distlab.clocks.LamportClock`, :class:`~distlab.clocks.VectorClock`,
:class:`~distlab.clocks.HybridLogicalClock`) is an :class:`ObservedClock`: it holds one
:class:`ClockObserver` and offers ``subscribe(listener)``, ``events()`` and ``metrics()``
through it. The names here are public
within :mod:`distlab.clocks` (this module is private to the package, not to its neighbours).

>>> observer = ClockObserver("n1", max_events=10)
>>> with observer.lock:
...     observer.record("send", 1.5, timestamp=3)
>>> observer.deliver()
>>> observer.events()
[ClockEvent(time=1.5, kind='send', source='n1', timestamp=3, remote=None)]
>>> observer.counts()
{'local': 0, 'send': 1, 'receive': 0, 'rejected': 0}
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_int
from distlab.observe import Event, Listeners

__all__ = ["KINDS", "ClockEvent", "ClockMetrics", "ClockObserver", "ObservedClock"]

#: What a clock does: stamp a local event, stamp an outgoing message, take in a received one,
#: or refuse a received timestamp (a hybrid clock with ``max_offset``).
KINDS = ("local", "send", "receive", "rejected")


@dataclass(frozen=True)
class ClockEvent(Event):
    """One step of a clock: ``kind`` is one of :data:`KINDS`; ``timestamp`` is the clock's
    timestamp after the step (before it, for ``rejected``); ``remote`` the one received.

    ``time`` is the ``now`` the caller gave (``None`` when a logical clock was not told).
    """

    timestamp: Any = None
    remote: Any = None


@dataclass(frozen=True)
class ClockMetrics:
    """Counts of a clock's steps since it was made, and its current timestamp."""

    local: int
    send: int
    receive: int
    rejected: int
    timestamp: Any


class ClockObserver:
    """A clock's lock, step counters and :class:`~distlab.observe.Listeners`.

    The clock holds ``lock`` while it updates and calls :meth:`record`; it calls :meth:`deliver`
    after releasing the lock, so listeners run outside it.
    """

    def __init__(self, name: str | None, max_events: int) -> None:
        self.max_events = check_int("max_events", max_events, 0)
        self.name = name
        self.lock = threading.Lock()
        self.listeners = Listeners(name, self.max_events)
        self.tally = dict.fromkeys(KINDS, 0)

    def record(self, kind: str, now: Any, timestamp: Any, remote: Any = None) -> None:
        """Count a step (call with ``lock`` held); keep an event if anyone can read it."""
        self.tally[kind] += 1
        if self.max_events or self.listeners.active:
            self.listeners.emit(ClockEvent(now, kind, self.name, timestamp, remote))

    def deliver(self) -> None:
        """Hand queued events to the listeners (call without ``lock``)."""
        if self.listeners.pending:
            self.listeners.deliver()

    def subscribe(self, listener: Callable[[ClockEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later step; return a function that unsubscribes."""
        return self.listeners.subscribe(listener)

    def events(self) -> list[ClockEvent]:
        """The recent steps, oldest first (at most ``max_events``)."""
        return self.listeners.recent()

    def counts(self) -> dict[str, int]:
        """A copy of the step counters."""
        with self.lock:
            return dict(self.tally)

    def metrics(self, timestamp: Any) -> ClockMetrics:
        """The counters and ``timestamp`` as a frozen snapshot (call with ``lock`` held)."""
        return ClockMetrics(timestamp=timestamp, **self.tally)


class ObservedClock:
    """The observation API of a clock, served by its :class:`ClockObserver` (``_observer``).

    A clock calls ``super().__init__(name, max_events)`` and defines ``_stamp()``, its current
    timestamp (called with the lock held, for :meth:`metrics`).

    >>> class Ticker(ObservedClock):
    ...     def __init__(self):
    ...         super().__init__("n1", max_events=10)
    ...     def _stamp(self):
    ...         return 0
    >>> Ticker().metrics()
    ClockMetrics(local=0, send=0, receive=0, rejected=0, timestamp=0)
    """

    def __init__(self, name: str | None, max_events: int) -> None:
        self._observer = ClockObserver(name, max_events)

    def _stamp(self) -> Any:
        raise NotImplementedError  # pragma: no cover - abstract

    def subscribe(self, listener: Callable[[ClockEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later step; return a function that unsubscribes."""
        return self._observer.subscribe(listener)

    def events(self) -> list[ClockEvent]:
        """The recent steps, oldest first (``time`` is the ``now`` the caller gave)."""
        return self._observer.events()

    def metrics(self) -> ClockMetrics:
        """Counts of local, send and receive steps and the current timestamp."""
        with self._observer.lock:
            return self._observer.metrics(self._stamp())
