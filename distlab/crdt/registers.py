"""Registers: :class:`LWWRegister` (last writer wins) and :class:`MVRegister` (multi-value).

An LWW-register keeps one value tagged ``(timestamp, replica)``; merge keeps the greater tag.
Concurrent assignments are silently discarded: only the one with the greater timestamp (ties:
the greater replica name) survives, whatever the clocks' skew. An MV-register keeps every
value no later assignment has seen, each with its version vector
(:class:`distlab.clocks.vector.VectorTimestamp`): concurrent assignments come back as
siblings for the application to reconcile, as in Dynamo.

>>> a = LWWRegister().assign("blue", timestamp=10.0, replica="a")
>>> b = LWWRegister().assign("red", timestamp=9.5, replica="b")   # b's clock is behind
>>> a.merge(b).value                                              # red is lost
'blue'
>>> m = MVRegister(("a", "b"))
>>> x, y = m.assign("blue", "a"), m.assign("red", "b")
>>> x.merge(y).values
('red', 'blue')
>>> x.merge(y).assign("purple", "a").values                       # a write that saw both
('purple',)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from distlab._validate import check_number
from distlab.clocks.order import Order
from distlab.clocks.vector import VectorTimestamp, check_cluster
from distlab.crdt.base import CRDT, check_json_value, check_replica

__all__ = ["LWWRegister", "MVRegister"]


def _order_key(value: Any) -> str:
    """A total order on JSON values (their canonical text), for ties and for listing."""
    return json.dumps(value, sort_keys=True)


class LWWRegister(CRDT):
    """A last-writer-wins register: ``value`` with its tag ``(timestamp, replica)``.

    The empty register has no tag (``value`` None). Ties between equal tags (one replica
    assigning twice at one timestamp) go to the greater value's JSON text, so merge stays
    commutative.

    >>> r = LWWRegister().assign({"qty": 1}, timestamp=1, replica="a")
    >>> r.assign({"qty": 2}, timestamp=0.5, replica="a").value    # an older timestamp loses
    {'qty': 1}
    """

    __slots__ = ("_value", "_timestamp", "_replica")
    TYPE = "lww_register"

    def __init__(
        self, value: Any = None, timestamp: float | None = None, replica: str | None = None
    ) -> None:
        if (timestamp is None) != (replica is None):
            raise ValueError("timestamp and replica must be given together (or neither)")
        if timestamp is None and value is not None:
            raise ValueError(f"value={value!r} needs a timestamp and a replica")
        if timestamp is not None:
            timestamp = check_number("timestamp", timestamp)
            if not math.isfinite(timestamp):
                raise ValueError(f"timestamp={timestamp!r} must be finite")
            check_replica("replica", replica)
        self._value = check_json_value("value", value)
        self._timestamp, self._replica = timestamp, replica

    @property
    def value(self) -> Any:
        """The surviving value (None for the empty register)."""
        return self._value

    @property
    def tag(self) -> tuple[float, str] | None:
        """``(timestamp, replica)`` of the surviving assignment, or None."""
        return None if self._timestamp is None else (self._timestamp, self._replica)

    def _rank(self) -> tuple:
        if self._timestamp is None:
            return (0,)
        return (1, self._timestamp, self._replica, _order_key(self._value))

    def assign(self, value: Any, *, timestamp: float, replica: str) -> LWWRegister:
        """This state merged with an assignment of ``value`` at ``timestamp`` by ``replica``
        (the caller's clock: a core is told the time)."""
        return self.merge(LWWRegister(value, timestamp, replica))

    def merge(self, other: LWWRegister) -> LWWRegister:
        """The state with the greater tag."""
        self.check_same_type(other)
        return self if self._rank() >= other._rank() else other

    def to_data(self) -> dict[str, Any]:
        return {"value": self._value, "timestamp": self._timestamp, "replica": self._replica}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LWWRegister:
        if set(data) != {"value", "timestamp", "replica"}:
            raise ValueError(f"data={data!r} must have exactly the keys value, timestamp, replica")
        return cls(data["value"], data["timestamp"], data["replica"])


class MVRegister(CRDT):
    """A multi-value register over a fixed cluster of replicas (version vectors need one).

    ``entries`` are ``(value, VectorTimestamp)`` pairs, none dominated by another: the values
    no later assignment has seen. :meth:`assign` by a replica supersedes every entry it holds.

    >>> r = MVRegister(("a", "b")).assign(1, "a")
    >>> [(v, t.as_dict()) for v, t in r.entries]
    [(1, {'a': 1, 'b': 0})]
    """

    __slots__ = ("_cluster", "_entries")
    TYPE = "mv_register"

    def __init__(
        self, cluster: Sequence[str], entries: Sequence[tuple[Any, VectorTimestamp]] = ()
    ) -> None:
        self._cluster = check_cluster("cluster", cluster)
        if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
            raise TypeError(f"entries={entries!r} must be a sequence of (value, vector) pairs")
        kept: list[tuple[Any, VectorTimestamp]] = []
        for i, pair in enumerate(entries):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"entries[{i}]={pair!r} must be a (value, vector) pair")
            value, stamp = check_json_value(f"entries[{i}] value", pair[0]), pair[1]
            if not isinstance(stamp, VectorTimestamp) or stamp.processes != self._cluster:
                raise ValueError(
                    f"entries[{i}] vector must be a VectorTimestamp of {self._cluster}"
                )
            kept.append((value, stamp))
        self._entries = _maximal(kept)

    @property
    def cluster(self) -> tuple[str, ...]:
        """The replicas, in vector order."""
        return self._cluster

    @property
    def entries(self) -> tuple[tuple[Any, VectorTimestamp], ...]:
        """The concurrent ``(value, vector)`` pairs, in a fixed order."""
        return self._entries

    @property
    def values(self) -> tuple[Any, ...]:
        """The concurrent values (siblings), in a fixed order; ``()`` before any assignment."""
        return tuple(value for value, _ in self._entries)

    def assign(self, value: Any, replica: str) -> MVRegister:
        """``value`` assigned by ``replica``: its vector dominates every entry held here."""
        check_replica("replica", replica)
        if replica not in self._cluster:
            raise ValueError(f"replica={replica!r} is not in the cluster {self._cluster!r}")
        stamp = VectorTimestamp.zero(self._cluster)
        for _, seen in self._entries:
            stamp = stamp.merge(seen)
        counts = list(stamp.counts)
        counts[self._cluster.index(replica)] += 1
        return MVRegister(self._cluster, [(value, VectorTimestamp(self._cluster, tuple(counts)))])

    def merge(self, other: MVRegister) -> MVRegister:
        """Every entry of both that no entry of either dominates."""
        self.check_same_type(other)
        if other.cluster != self._cluster:
            raise ValueError(
                f"other's cluster {other.cluster!r} is not this register's {self._cluster!r}"
            )
        return MVRegister(self._cluster, [*self._entries, *other.entries])

    def to_data(self) -> dict[str, Any]:
        return {
            "cluster": list(self._cluster),
            "entries": [[value, list(stamp.counts)] for value, stamp in self._entries],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MVRegister:
        if set(data) != {"cluster", "entries"}:
            raise ValueError(f"data={data!r} must have exactly the keys cluster, entries")
        cluster = check_cluster("cluster", data["cluster"])
        entries = [(value, VectorTimestamp(cluster, tuple(c))) for value, c in data["entries"]]
        return cls(cluster, entries)


def _maximal(entries: list[tuple[Any, VectorTimestamp]]) -> tuple[tuple[Any, VectorTimestamp], ...]:
    """The entries no other entry dominates, once each, sorted by (vector, value)."""
    unique = {(_order_key(v), s.counts): (v, s) for v, s in entries}
    kept = [
        (v, s)
        for v, s in unique.values()
        if not any(s.compare(t) is Order.BEFORE for _, t in unique.values())
    ]
    return tuple(sorted(kept, key=lambda e: (e[1].sort_key(), _order_key(e[0]))))
