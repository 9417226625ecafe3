"""Hybrid logical clocks (Kulkarni et al., 2014): timestamps close to physical time that
still respect happened-before.

A timestamp is ``(l, c)``: ``l`` is the largest physical time the clock has heard of, ``c``
counts events that share that ``l``. The caller tells the clock its physical time ``now``
(integer ticks, e.g. ``time.time_ns()``; :class:`~distlab.clocks.WallClockHLC` reads it for
you). Rules, with ``pt = now``:

- local or send: ``l' = max(l, pt)``; ``c = c + 1`` if ``l' == l`` else 0;
- receive ``(l_m, c_m)``: ``l' = max(l, l_m, pt)``; ``c = max(c, c_m) + 1`` if
  ``l' == l == l_m``, ``c + 1`` if only ``l' == l``, ``c_m + 1`` if only ``l' == l_m``, else 0.

With physical clocks within ``eps`` of each other: e -> f implies hlc(e) < hlc(f); ``l - pt``
stays below ``eps``; ``c`` stays bounded. :class:`NaiveHybridClock` is the tempting shortcut
``l = max(pt, l + 1, l_m + 1)``: it also respects happened-before, but every event pushes ``l``
one tick further ahead, so under load it drifts away from physical time without bound.

>>> a, b = HybridLogicalClock(name="a"), HybridLogicalClock(name="b")
>>> m = a.send(now=100)
>>> m
HLCTimestamp(l=100, c=0)
>>> b.receive(m, now=98)          # b's clock is behind: it adopts l=100 and counts
HLCTimestamp(l=100, c=1)
>>> b.local(now=99), b.local(now=101)
(HLCTimestamp(l=100, c=2), HLCTimestamp(l=101, c=0))
>>> HLCTimestamp.from_bytes(m.to_bytes()) == m, len(m.to_bytes())
(True, 12)
>>> naive = NaiveHybridClock()
>>> [naive.local(now=5).l for _ in range(4)]    # four events in one tick: 3 ticks ahead
[5, 6, 7, 8]

``max_offset`` (ticks, optional) refuses a received timestamp more than that far ahead of this
clock's physical time, as CockroachDB does: a peer with a broken clock cannot drag everyone's
timestamps into the future. The refusal is a :class:`ClockOffsetError` (a ``ValueError``).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_int
from distlab.clocks._observed import ObservedClock
from distlab.clocks.codec import load_json_object, parsed, require_bytes

__all__ = [
    "ClockOffsetError",
    "HLCMetrics",
    "HLCTimestamp",
    "HybridLogicalClock",
    "NaiveHybridClock",
]

_PACK = struct.Struct(">QI")
_MAX_L = 2**64 - 1
_MAX_C = 2**32 - 1


@dataclass(frozen=True, order=True)
class HLCTimestamp:
    """A hybrid timestamp ``(l, c)``, ordered by ``l`` then ``c``.

    ``l`` is in the ticks of the physical clock (nanoseconds for ``time.time_ns()``); ``c`` is
    a counter. Serialises to JSON and to 12 bytes (``l`` as 8, ``c`` as 4, big-endian), and the
    bytes sort like the timestamps.
    """

    l: int  # noqa: E741 - the paper's name
    c: int = 0

    def __post_init__(self) -> None:
        check_int("l", self.l, 0, _MAX_L)
        check_int("c", self.c, 0, _MAX_C)

    def to_json(self) -> str:
        """``{"l": ..., "c": ...}`` as text."""
        return json.dumps({"l": self.l, "c": self.c})

    @classmethod
    def from_json(cls, text: str | bytes) -> HLCTimestamp:
        """Read what :meth:`to_json` wrote; ``ValueError`` if it is anything else."""
        data = load_json_object("text", text, ("l", "c"))
        return parsed("text", text, cls, data["l"], data["c"])

    def to_bytes(self) -> bytes:
        """12 bytes: ``l`` (8) and ``c`` (4), big-endian."""
        return _PACK.pack(self.l, self.c)

    @classmethod
    def from_bytes(cls, data: bytes) -> HLCTimestamp:
        """Read what :meth:`to_bytes` wrote; ``ValueError`` unless it is exactly 12 bytes."""
        data = require_bytes("data", data)
        if len(data) != _PACK.size:
            raise ValueError(f"data={data!r} must be exactly {_PACK.size} bytes (l: 8, c: 4)")
        return cls(*_PACK.unpack(data))


def _trusted(wall: int, c: int) -> HLCTimestamp:
    """A timestamp from values this module already checked (skips validation: hot path)."""
    stamp = object.__new__(HLCTimestamp)
    object.__setattr__(stamp, "l", wall)
    object.__setattr__(stamp, "c", c)
    return stamp


class ClockOffsetError(ValueError):
    """A received timestamp is further ahead of the local physical clock than ``max_offset``."""


@dataclass(frozen=True)
class HLCMetrics:
    """Counts of a hybrid clock's steps, its timestamp, and how far it got from physical time:
    ``max_ahead`` is the largest ``l - now`` after a step, ``max_counter`` the largest ``c``."""

    local: int
    send: int
    receive: int
    rejected: int
    timestamp: HLCTimestamp
    max_ahead: int
    max_counter: int


def _check_now(now: Any) -> int:
    if isinstance(now, float):
        raise TypeError(
            f"now={now!r} must be an integer number of ticks (e.g. time.time_ns()), not a float"
        )
    return check_int("now", now, 0, _MAX_L)


class _HybridBase(ObservedClock):
    """The observation plumbing and the checks both hybrid clocks share."""

    def __init__(self, name: str | None, max_offset: int | None, max_events: int) -> None:
        self.name = name
        self.max_offset = None if max_offset is None else check_int("max_offset", max_offset, 0)
        self._l = -1  # before any event: the first event at pt gets (pt, 0), even at pt = 0
        self._c = 0
        self._max_ahead = 0
        self._max_counter = 0
        super().__init__(name, max_events)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, l={self._l}, c={self._c})"

    @property
    def time(self) -> HLCTimestamp:
        """The timestamp of the last event (``(0, 0)`` before any)."""
        return HLCTimestamp(max(self._l, 0), self._c)

    def local(self, *, now: int) -> HLCTimestamp:
        """Stamp a local event at physical time ``now`` (ticks)."""
        return self._step("local", _check_now(now), None)

    def send(self, *, now: int) -> HLCTimestamp:
        """Stamp a send event at physical time ``now``; the message carries the result."""
        return self._step("send", _check_now(now), None)

    def receive(self, remote: HLCTimestamp, *, now: int) -> HLCTimestamp:
        """Stamp the receipt, at physical time ``now``, of a message that carried ``remote``."""
        now = _check_now(now)
        if not isinstance(remote, HLCTimestamp):
            raise TypeError(f"remote={remote!r} must be an HLCTimestamp")
        return self._step("receive", now, remote)

    def _advance(self, now: int, remote: HLCTimestamp | None) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def _step(self, kind: str, now: int, remote: HLCTimestamp | None) -> HLCTimestamp:
        observer = self._observer
        refused = None
        with observer.lock:
            if remote is not None and self.max_offset is not None:
                if remote.l - now > self.max_offset:
                    refused = remote.l - now
                    observer.record("rejected", now, self.time, remote)
            if refused is None:
                self._advance(now, remote)
                self._max_ahead = max(self._max_ahead, self._l - now)
                self._max_counter = max(self._max_counter, self._c)
                if self._c > _MAX_C:
                    raise OverflowError(f"the counter passed {_MAX_C} at l={self._l}")
                stamp = _trusted(self._l, self._c)
                observer.record(kind, now, stamp, remote)
        observer.deliver()
        if refused is not None:
            raise ClockOffsetError(
                f"remote={remote!r} is {refused} ticks ahead of now={now}, more than "
                f"max_offset={self.max_offset}"
            )
        return stamp

    def _stamp(self) -> HLCTimestamp:
        return HLCTimestamp(max(self._l, 0), self._c)

    def metrics(self) -> HLCMetrics:
        """Step counts, the current timestamp, the largest ``l - now`` and ``c`` seen."""
        with self._observer.lock:
            return HLCMetrics(
                timestamp=self._stamp(),
                max_ahead=self._max_ahead,
                max_counter=self._max_counter,
                **self._observer.tally,
            )


class HybridLogicalClock(_HybridBase):
    """One process's hybrid logical clock (Kulkarni et al.). Thread-safe, sans-I/O.

    Args:
        name: this process's name (for events and messages).
        max_offset: refuse received timestamps more than this many ticks ahead of ``now``
            (``None``: accept any).
        max_events: how many recent steps :meth:`events` keeps (0: none).
    """

    def __init__(
        self, *, name: str | None = None, max_offset: int | None = None, max_events: int = 1000
    ) -> None:
        super().__init__(name, max_offset, max_events)

    def _advance(self, now: int, remote: HLCTimestamp | None) -> None:
        l_old, c_old = self._l, self._c
        if remote is None:
            self._l = max(l_old, now)
            self._c = c_old + 1 if self._l == l_old else 0
            return
        self._l = l_new = max(l_old, remote.l, now)
        if l_new == l_old == remote.l:
            self._c = max(c_old, remote.c) + 1
        elif l_new == l_old:
            self._c = c_old + 1
        elif l_new == remote.l:
            self._c = remote.c + 1
        else:
            self._c = 0


class NaiveHybridClock(_HybridBase):
    """The naive hybrid clock ``l = max(pt, l + 1, l_m + 1)`` (``c`` always 0): it respects
    happened-before but drifts ahead of physical time by one tick per event it outpaces.

    Same arguments as :class:`HybridLogicalClock`; here for comparison, not for use.
    """

    def __init__(
        self, *, name: str | None = None, max_offset: int | None = None, max_events: int = 1000
    ) -> None:
        super().__init__(name, max_offset, max_events)

    def _advance(self, now: int, remote: HLCTimestamp | None) -> None:
        after = self._l + 1 if remote is None else max(self._l, remote.l) + 1
        self._l = max(now, after)
