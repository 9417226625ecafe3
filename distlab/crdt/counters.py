"""Counters: :class:`GCounter` (grow-only) and :class:`PNCounter` (up and down).

A G-counter keeps one count per replica; a replica only ever increments its own entry. Merge
takes the element-wise maximum, so receiving the same state twice changes nothing; the value
is the sum of the entries. A PN-counter is two G-counters, one for increments and one for
decrements (Shapiro et al. 2011).

>>> a = GCounter().increment("a", 2)
>>> b = GCounter().increment("b")
>>> a.merge(b).value, a.merge(b).merge(b).value      # a duplicate delivery counts once
(3, 3)
>>> p = PNCounter().increment("a", 5).decrement("b", 2)
>>> p.value
3
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from distlab.crdt.base import CRDT, check_amount, check_replica

__all__ = ["GCounter", "PNCounter"]


class GCounter(CRDT):
    """A grow-only counter: ``{replica: count}``; merge = element-wise max, value = sum.

    >>> c = GCounter({"a": 1}).increment("a").increment("b", 3)
    >>> c.counts, c.value
    ({'a': 2, 'b': 3}, 5)
    """

    __slots__ = ("_counts",)
    TYPE = "g_counter"

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        counts = {} if counts is None else counts
        if not isinstance(counts, Mapping):
            raise TypeError(f"counts={counts!r} must be a mapping of replica -> count")
        clean = {}
        for replica, n in counts.items():
            check_replica("counts key", replica)
            if check_amount(f"counts[{replica!r}]", n):
                clean[replica] = n
        self._counts = dict(sorted(clean.items()))

    @property
    def counts(self) -> dict[str, int]:
        """``{replica: count}`` (replicas with 0 left out), by replica name."""
        return dict(self._counts)

    @property
    def value(self) -> int:
        """The sum of the replicas' counts."""
        return sum(self._counts.values())

    def increment(self, replica: str, amount: int = 1) -> GCounter:
        """This state with ``replica``'s own count raised by ``amount`` (an int >= 0)."""
        check_replica("replica", replica)
        amount = check_amount("amount", amount)
        counts = dict(self._counts)
        counts[replica] = counts.get(replica, 0) + amount
        return GCounter(counts)

    def merge(self, other: GCounter) -> GCounter:
        """The element-wise maximum of the two states."""
        self.check_same_type(other)
        counts = dict(self._counts)
        for replica, n in other.counts.items():
            counts[replica] = max(counts.get(replica, 0), n)
        return GCounter(counts)

    def to_data(self) -> dict[str, Any]:
        return {"counts": dict(self._counts)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> GCounter:
        if set(data) != {"counts"}:
            raise ValueError(f"data={data!r} must have exactly the key 'counts'")
        return cls(data["counts"])


class PNCounter(CRDT):
    """A counter that goes up and down: increments and decrements in two :class:`GCounter`.

    >>> a = PNCounter().increment("a", 3)
    >>> b = a.decrement("b")
    >>> a.merge(b).value, b.merge(a) == a.merge(b)
    (2, True)
    """

    __slots__ = ("_up", "_down")
    TYPE = "pn_counter"

    def __init__(self, up: GCounter | None = None, down: GCounter | None = None) -> None:
        for name, part in (("up", up), ("down", down)):
            if part is not None and not isinstance(part, GCounter):
                raise TypeError(f"{name}={part!r} must be a GCounter")
        self._up = GCounter() if up is None else up
        self._down = GCounter() if down is None else down

    @property
    def up(self) -> GCounter:
        """The increments."""
        return self._up

    @property
    def down(self) -> GCounter:
        """The decrements."""
        return self._down

    @property
    def value(self) -> int:
        """Increments minus decrements."""
        return self._up.value - self._down.value

    def increment(self, replica: str, amount: int = 1) -> PNCounter:
        """This state with ``amount`` (>= 0) more increments by ``replica``."""
        return PNCounter(self._up.increment(replica, amount), self._down)

    def decrement(self, replica: str, amount: int = 1) -> PNCounter:
        """This state with ``amount`` (>= 0) more decrements by ``replica``."""
        return PNCounter(self._up, self._down.increment(replica, amount))

    def merge(self, other: PNCounter) -> PNCounter:
        """Both halves merged."""
        self.check_same_type(other)
        return PNCounter(self._up.merge(other.up), self._down.merge(other.down))

    def to_data(self) -> dict[str, Any]:
        return {"up": self._up.counts, "down": self._down.counts}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PNCounter:
        if set(data) != {"up", "down"}:
            raise ValueError(f"data={data!r} must have exactly the keys 'up', 'down'")
        return cls(GCounter(data["up"]), GCounter(data["down"]))
