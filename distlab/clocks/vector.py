"""Vector clocks (Fidge, Mattern 1988): timestamps that capture happened-before exactly.

Each process keeps one counter per process of its cluster. Rules: tick your own entry on every
local, send and receive event; a receive first takes the element-wise max with the message's
vector. Then a -> b iff V(a) < V(b) (<= everywhere, < somewhere); otherwise a and b are
concurrent. A clock belongs to a cluster (its fixed, ordered set of processes): comparing or
merging vectors of different clusters raises ``ValueError``.

>>> cluster = ("a", "b", "c")
>>> a, b = VectorClock("a", cluster), VectorClock("b", cluster)
>>> m = a.send()
>>> x = b.local()
>>> m.compare(x)
<Order.CONCURRENT: 'concurrent'>
>>> r = b.receive(m)
>>> r.as_dict(), m.compare(r), r.compare(m)
({'a': 1, 'b': 2, 'c': 0}, <Order.BEFORE: 'before'>, <Order.AFTER: 'after'>)
>>> VectorTimestamp.from_json(r.to_json()) == r
True
>>> [t.as_dict() for t in sorted([r, m, x], key=VectorTimestamp.sort_key)]
[{'a': 0, 'b': 1, 'c': 0}, {'a': 1, 'b': 0, 'c': 0}, {'a': 1, 'b': 2, 'c': 0}]

Vectors form a partial order, so ``<`` is not defined on them (``sorted`` would silently give
nonsense); :meth:`VectorTimestamp.sort_key` is a total order that extends happened-before (the
sum of the entries first). Version vectors (one per replica and object, as in Dynamo) are a
different use of the same comparison: see :mod:`distlab.clocks.pruning`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_int
from distlab.clocks._observed import ObservedClock
from distlab.clocks.codec import check_process, load_json_object, parsed, require_bytes
from distlab.clocks.order import Order

__all__ = ["VectorClock", "VectorTimestamp", "check_cluster", "trusted_timestamp"]


def check_cluster(name: str, processes: Any) -> tuple[str, ...]:
    """Return ``processes`` as a tuple if it is a non-empty sequence of distinct names."""
    if isinstance(processes, (str, bytes)) or not isinstance(processes, Sequence):
        raise TypeError(f"{name}={processes!r} must be a sequence of process names")
    names = tuple(check_process(f"{name}[{i}]", p) for i, p in enumerate(processes))
    if not names:
        raise ValueError(f"{name}=() must name at least one process")
    if len(set(names)) != len(names):
        raise ValueError(f"{name}={names!r} names a process twice")
    return names


@dataclass(frozen=True)
class VectorTimestamp:
    """A vector time: ``counts[i]`` events of ``processes[i]`` are known.

    ``processes`` is the cluster (ordered); two timestamps of different clusters cannot be
    compared or merged.
    """

    processes: tuple[str, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        processes = check_cluster("processes", self.processes)
        counts = self.counts
        if isinstance(counts, (str, bytes)) or not isinstance(counts, Sequence):
            raise TypeError(f"counts={counts!r} must be a sequence of integers")
        if len(counts) != len(processes):
            raise ValueError(
                f"counts={tuple(counts)!r} must have one entry per process of {processes!r}"
            )
        counts = tuple(check_int(f"counts[{i}]", c, 0) for i, c in enumerate(counts))
        object.__setattr__(self, "processes", processes)
        object.__setattr__(self, "counts", counts)

    @classmethod
    def zero(cls, processes: Sequence[str]) -> VectorTimestamp:
        """The vector before any event of ``processes``."""
        processes = check_cluster("processes", processes)
        return cls(processes, (0,) * len(processes))

    @classmethod
    def from_dict(
        cls, counts: Mapping[str, int], processes: Sequence[str] | None = None
    ) -> VectorTimestamp:
        """From ``{process: count}``; with ``processes``, missing entries are 0 and unknown
        processes are an error (the cluster is ``processes``, in that order)."""
        if not isinstance(counts, Mapping):
            raise TypeError(f"counts={counts!r} must be a mapping of process -> count")
        if processes is None:
            return cls(tuple(counts), tuple(counts.values()))
        processes = check_cluster("processes", processes)
        unknown = [p for p in counts if p not in processes]
        if unknown:
            raise ValueError(f"counts names {unknown!r}, not in the cluster {processes!r}")
        return cls(processes, tuple(counts.get(p, 0) for p in processes))

    def as_dict(self) -> dict[str, int]:
        """``{process: count}``, in cluster order."""
        return dict(zip(self.processes, self.counts))

    def __getitem__(self, process: str) -> int:
        try:
            return self.counts[self.processes.index(process)]
        except ValueError:
            raise KeyError(process) from None

    def _check_same(self, other: Any, name: str) -> None:
        if not isinstance(other, VectorTimestamp):
            raise TypeError(f"{name}={other!r} must be a VectorTimestamp")
        if other.processes != self.processes:
            raise ValueError(
                f"{name} belongs to the cluster {other.processes!r}, this timestamp to "
                f"{self.processes!r}: vectors of different clusters cannot be compared or merged"
            )

    def compare(self, other: VectorTimestamp) -> Order:
        """``BEFORE`` if this happened before ``other``, ``AFTER``, ``EQUAL`` or ``CONCURRENT``."""
        self._check_same(other, "other")
        pairs = list(zip(self.counts, other.counts))
        less = any(x < y for x, y in pairs)
        greater = any(x > y for x, y in pairs)
        if less and greater:
            return Order.CONCURRENT
        if less:
            return Order.BEFORE
        return Order.AFTER if greater else Order.EQUAL

    def happened_before(self, other: VectorTimestamp) -> bool:
        """Whether this timestamp's event happened before ``other``'s."""
        return self.compare(other) is Order.BEFORE

    def concurrent_with(self, other: VectorTimestamp) -> bool:
        """Whether neither event happened before the other (and they differ)."""
        return self.compare(other) is Order.CONCURRENT

    def merge(self, other: VectorTimestamp) -> VectorTimestamp:
        """The element-wise maximum (what a receive takes before ticking)."""
        self._check_same(other, "other")
        return _trusted(self.processes, tuple(map(max, self.counts, other.counts)))

    def sort_key(self) -> tuple[int, tuple[int, ...]]:
        """A total order that extends happened-before: (sum of entries, entries)."""
        return sum(self.counts), self.counts

    def to_json(self) -> str:
        """``{process: count, ...}`` as text, every process of the cluster in order."""
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(
        cls, text: str | bytes, processes: Sequence[str] | None = None
    ) -> VectorTimestamp:
        """Read what :meth:`to_json` wrote (``processes``: the cluster it must belong to)."""
        data = load_json_object("text", text)
        stamp = parsed("text", text, cls.from_dict, data)
        if processes is not None:
            expected = check_cluster("processes", processes)
            if set(stamp.processes) != set(expected):
                raise ValueError(
                    f"text={text!r} names the processes {stamp.processes!r}, not the cluster "
                    f"{expected!r}"
                )
            stamp = cls.from_dict(data, expected)
        return stamp

    def to_bytes(self) -> bytes:
        """The compact JSON in UTF-8."""
        return json.dumps(self.as_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes, processes: Sequence[str] | None = None) -> VectorTimestamp:
        """Read what :meth:`to_bytes` wrote."""
        return cls.from_json(require_bytes("data", data), processes)


def trusted_timestamp(processes: tuple[str, ...], counts: tuple[int, ...]) -> VectorTimestamp:
    """A timestamp from a cluster and counts its caller has already checked (a tuple of
    distinct names; a tuple of ints >= 0, one per name): no validation, for hot paths such as
    :meth:`distlab.clocks.Run.vector_timestamps`. Anything else: build ``VectorTimestamp``.

    >>> trusted_timestamp(("a", "b"), (1, 0)) == VectorTimestamp(("a", "b"), (1, 0))
    True
    """
    return _trusted(processes, counts)


def _trusted(processes: tuple[str, ...], counts: tuple[int, ...]) -> VectorTimestamp:
    """A timestamp from values this module already checked (skips validation: hot path)."""
    stamp = object.__new__(VectorTimestamp)
    object.__setattr__(stamp, "processes", processes)
    object.__setattr__(stamp, "counts", counts)
    return stamp


class VectorClock(ObservedClock):
    """One process's vector clock in a cluster of ``processes``. Thread-safe.

    Args:
        process: this process's name; one of ``processes``.
        processes: the cluster, in a fixed order shared by all its clocks.
        max_events: how many recent steps :meth:`events` keeps (0: none).
    """

    def __init__(self, process: str, processes: Sequence[str], *, max_events: int = 1000) -> None:
        self.processes = check_cluster("processes", processes)
        self.process = check_process("process", process)
        if process not in self.processes:
            raise ValueError(f"process={process!r} is not one of processes={self.processes!r}")
        self._index = self.processes.index(process)
        self._counts = [0] * len(self.processes)
        super().__init__(self.process, max_events)

    def __repr__(self) -> str:
        return f"VectorClock({self.process!r}, {self.time.as_dict()})"

    @property
    def time(self) -> VectorTimestamp:
        """The timestamp of the last event (all zeros before any)."""
        with self._observer.lock:
            return VectorTimestamp(self.processes, tuple(self._counts))

    def local(self, *, now: float | None = None) -> VectorTimestamp:
        """Stamp a local event (``now``, seconds, only dates the step in :meth:`events`)."""
        return self._step("local", now, None)

    def send(self, *, now: float | None = None) -> VectorTimestamp:
        """Stamp a send event; the message carries the returned timestamp."""
        return self._step("send", now, None)

    def receive(self, remote: VectorTimestamp, *, now: float | None = None) -> VectorTimestamp:
        """Stamp the receipt of a message that carried ``remote`` (same cluster)."""
        if not isinstance(remote, VectorTimestamp):
            raise TypeError(f"remote={remote!r} must be a VectorTimestamp")
        if remote.processes != self.processes:
            raise ValueError(
                f"remote belongs to the cluster {remote.processes!r}, this clock to "
                f"{self.processes!r}"
            )
        return self._step("receive", now, remote)

    def _step(self, kind: str, now: Any, remote: VectorTimestamp | None) -> VectorTimestamp:
        observer = self._observer
        with observer.lock:
            counts = self._counts
            if remote is not None:
                counts[:] = map(max, counts, remote.counts)
            counts[self._index] += 1
            stamp = _trusted(self.processes, tuple(counts))
            observer.record(kind, now, stamp, remote)
        observer.deliver()
        return stamp

    def _stamp(self) -> VectorTimestamp:
        return VectorTimestamp(self.processes, tuple(self._counts))
