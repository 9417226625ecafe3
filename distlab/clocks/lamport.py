"""Lamport's logical clock (1978): a counter that respects happened-before.

Rules: tick before every local event and every send; a message carries the sender's time; a
receiver moves past it (``max(own, received) + 1``). The clock condition holds, a -> b implies
C(a) < C(b), but not its converse: a smaller time does not mean "happened before". Ties are
broken by process name, which gives a total order every process agrees on.

>>> a, b = LamportClock("a"), LamportClock("b")
>>> m = a.send()
>>> m
LamportTimestamp(time=1, process='a')
>>> b.local(), b.receive(m)
(LamportTimestamp(time=1, process='b'), LamportTimestamp(time=2, process='b'))
>>> [(t.time, t.process) for t in sorted([b.time, m, LamportTimestamp(1, "b")])]
[(1, 'a'), (1, 'b'), (2, 'b')]
>>> LamportTimestamp.from_bytes(m.to_bytes()) == m, m.to_json()
(True, '{"time": 1, "process": "a"}')

Timestamps serialise to JSON and to bytes; the bytes sort like the timestamps (time big-endian,
then the process name in UTF-8), so they can be index keys. No physical time is involved:
``now`` (seconds, optional) only dates the steps in :meth:`LamportClock.events`.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_int
from distlab.clocks._observed import ObservedClock
from distlab.clocks.codec import check_process, load_json_object, parsed, require_bytes

__all__ = ["LamportClock", "LamportTimestamp"]

_TIME = struct.Struct(">Q")


@dataclass(frozen=True, order=True)
class LamportTimestamp:
    """A Lamport time and the process that made it; ordered by (time, process)."""

    time: int
    process: str

    def __post_init__(self) -> None:
        check_int("time", self.time, 0, 2**64 - 1)
        check_process("process", self.process)

    def to_json(self) -> str:
        """``{"time": ..., "process": ...}`` as text."""
        return json.dumps({"time": self.time, "process": self.process})

    @classmethod
    def from_json(cls, text: str) -> LamportTimestamp:
        """Read what :meth:`to_json` wrote; ``ValueError`` if it is anything else."""
        data = load_json_object("text", text, ("time", "process"))
        return parsed("text", text, cls, data["time"], data["process"])

    def to_bytes(self) -> bytes:
        """8 bytes of time (big-endian) then the process name in UTF-8: sorts like the stamp."""
        return _TIME.pack(self.time) + self.process.encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LamportTimestamp:
        """Read what :meth:`to_bytes` wrote; ``ValueError`` if it is anything else."""
        data = require_bytes("data", data)
        if len(data) < _TIME.size + 1:
            raise ValueError(
                f"data={data!r} is too short for a Lamport timestamp: 8 bytes of time and a "
                "process name"
            )
        try:
            process = data[_TIME.size :].decode()
        except UnicodeDecodeError as exc:
            raise ValueError(f"data={data!r}: the process name is not UTF-8") from exc
        return cls(_TIME.unpack_from(data)[0], process)


def _trusted(time: int, process: str) -> LamportTimestamp:
    """A timestamp from values this module already checked (skips validation: hot path)."""
    stamp = object.__new__(LamportTimestamp)
    object.__setattr__(stamp, "time", time)
    object.__setattr__(stamp, "process", process)
    return stamp


class LamportClock(ObservedClock):
    """One process's Lamport clock. Thread-safe; told nothing but what it receives.

    Args:
        process: this process's name (non-empty text), the tie-breaker of its timestamps.
        start: the initial time (0: the first event gets 1).
        max_events: how many recent steps :meth:`events` keeps (0: none).
    """

    def __init__(self, process: str, *, start: int = 0, max_events: int = 1000) -> None:
        self.process = check_process("process", process)
        self._time = check_int("start", start, 0, 2**64 - 2)
        super().__init__(self.process, max_events)

    def __repr__(self) -> str:
        return f"LamportClock({self.process!r}, time={self._time})"

    @property
    def time(self) -> LamportTimestamp:
        """The timestamp of the last event (time 0 before any)."""
        return LamportTimestamp(self._time, self.process)

    def local(self, *, now: float | None = None) -> LamportTimestamp:
        """Stamp a local event."""
        return self._step("local", now, None)

    def send(self, *, now: float | None = None) -> LamportTimestamp:
        """Stamp a send event; the message carries the returned timestamp."""
        return self._step("send", now, None)

    def receive(
        self, remote: LamportTimestamp | int, *, now: float | None = None
    ) -> LamportTimestamp:
        """Stamp the receipt of a message that carried ``remote`` (a timestamp or its time)."""
        if isinstance(remote, LamportTimestamp):
            remote_time = remote.time
        else:
            remote_time = check_int("remote", remote, 0, 2**64 - 2)
        return self._step("receive", now, remote, remote_time)

    def _step(self, kind: str, now: Any, remote: Any, remote_time: int = 0) -> LamportTimestamp:
        observer = self._observer
        with observer.lock:
            self._time = max(self._time, remote_time) + 1
            stamp = _trusted(self._time, self.process)
            observer.record(kind, now, stamp, remote)
        observer.deliver()
        return stamp

    def _stamp(self) -> LamportTimestamp:
        return LamportTimestamp(self._time, self.process)
