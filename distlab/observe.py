"""One way to watch a pattern at work: ``subscribe(listener)``, ``events()`` and ``metrics()``.

Every pattern object (a :class:`~distlab.retry.RetryPolicy`, a
:class:`~distlab.breaker.CircuitBreaker`, a saga orchestrator) offers the same three things:

- ``subscribe(listener) -> unsubscribe``: ``listener(event)`` is called on every later event;
- ``events()``: the recent events, oldest first (``pandas.DataFrame(events_rows(obj.events()))``
  makes a table of them);
- ``metrics()``: a frozen snapshot of the object's counters, taken now.

An event is a frozen dataclass with at least ``time`` (seconds, on the clock the object was told
or was given), ``kind`` (a short word: ``"transition"``, ``"rejected"``, ``"retry"``,
``"give_up"``) and ``source`` (the object's name, ``None`` if it has none). :class:`Listeners`
holds the subscriptions and delivers events outside the object's lock, in order, one thread at a
time; an exception in a listener is logged and never reaches the caller.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Ping(Event):
...     count: int = 0
>>> listeners = Listeners("demo")
>>> seen = []
>>> unsubscribe = listeners.subscribe(seen.append)
>>> listeners.emit(Ping(time=1.0, kind="ping", source="demo", count=1))
>>> listeners.deliver()
>>> seen
[Ping(time=1.0, kind='ping', source='demo', count=1)]
>>> unsubscribe(); listeners.emit(Ping(time=2.0, kind="ping", source="demo")); listeners.deliver()
>>> len(seen), len(listeners.recent())
(1, 2)
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "Listeners", "events_rows"]

_log = logging.getLogger("distlab")


@dataclass(frozen=True)
class Event:
    """Something a pattern object did, at ``time`` (seconds), of ``kind``, by ``source``."""

    time: float
    kind: str
    source: str | None


def events_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """Events as plain dicts (one per event, fields as keys), ready for ``pandas.DataFrame``.

    >>> events_rows([Event(time=0.5, kind="tick", source=None)])
    [{'time': 0.5, 'kind': 'tick', 'source': None}]
    """
    return [dataclasses.asdict(event) for event in events]


class Listeners:
    """Subscriptions, a bounded buffer of recent events, and delivery outside the owner's lock.

    The owner calls :meth:`emit` while it holds its own lock (cheap: an append) and
    :meth:`deliver` after releasing it. Delivery is serialised: a thread that finds another one
    delivering leaves its events to it.

    Args:
        owner: a name for log messages (the object's name).
        max_events: how many recent events :meth:`recent` keeps (``0``: none).
    """

    def __init__(self, owner: str | None = None, max_events: int = 1000) -> None:
        self._owner = owner
        self._listeners: tuple[Callable[[Any], Any], ...] = ()
        self._recent: collections.deque[Event] = collections.deque(maxlen=max_events)
        self._outbox: list[Event] = []
        self._lock = threading.Lock()
        self._delivering = threading.Lock()

    def subscribe(self, listener: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later event; return a function that unsubscribes."""
        if not callable(listener):
            raise TypeError(f"listener={listener!r} must be callable (event -> None)")
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                listeners = list(self._listeners)
                if listener in listeners:
                    listeners.remove(listener)
                self._listeners = tuple(listeners)

        return unsubscribe

    @property
    def active(self) -> bool:
        """Whether anyone is subscribed (an owner may skip building events nobody reads)."""
        return bool(self._listeners)

    def emit(self, event: Event) -> None:
        """Keep ``event`` and queue it for the listeners (call :meth:`deliver` afterwards)."""
        with self._lock:
            self._recent.append(event)
            if self._listeners:
                self._outbox.append(event)

    def recent(self) -> list[Event]:
        """The kept events, oldest first."""
        return list(self._recent)

    def clear(self) -> None:
        """Forget the kept events (subscriptions stay)."""
        self._recent.clear()

    @property
    def pending(self) -> bool:
        """Whether events wait to be delivered."""
        return bool(self._outbox)

    def deliver(self) -> None:
        """Hand the queued events to the listeners, in order; log a listener's exception."""
        while self._outbox:
            if not self._delivering.acquire(blocking=False):
                return
            try:
                with self._lock:
                    batch, self._outbox = self._outbox, []
                    listeners = self._listeners
                for event in batch:
                    for listener in listeners:
                        try:
                            listener(event)
                        except Exception:
                            _log.exception(
                                "%s: listener %r failed on %r", self._owner, listener, event
                            )
            finally:
                self._delivering.release()
