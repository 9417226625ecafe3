"""The observed-remove set (OR-set, add-wins), the cart that does not resurrect deletions.

Each :meth:`ORSet.add` tags the element with a fresh ``(replica, n)``; :meth:`ORSet.remove`
tombstones the tags it has observed, and only those. Merge unions the tags and the tombstones:
an element is in the set while one of its tags is live. A remove concurrent with an add keeps
the element (add wins: the remove never saw that add's tag); a remove that saw the adds wins
for good, however the states travel. Tombstones are kept forever (no garbage collection here).

>>> cart = ORSet().add("book", "a")
>>> phone = cart.add("phone", "a")
>>> elsewhere = phone.remove("book")           # replica b removes the book it saw
>>> phone.merge(elsewhere).elements            # a's stale copy does not bring it back
frozenset({'phone'})
>>> again = phone.add("book", "a")             # an add b never saw: it wins
>>> again.merge(elsewhere).elements == {"book", "phone"}
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from distlab.crdt.base import CRDT, check_element, check_replica

__all__ = ["ORSet"]

Tag = tuple[str, int]


def _element_key(element: str | int) -> tuple[str, Any]:
    return (type(element).__name__, element)


def _check_tag(name: str, tag: Any) -> Tag:
    if not isinstance(tag, (tuple, list)) or len(tag) != 2:
        raise TypeError(f"{name}={tag!r} must be a (replica, n) pair")
    replica, n = tag
    check_replica(f"{name} replica", replica)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name}={tag!r}: n must be an int >= 1")
    return (replica, n)


class ORSet(CRDT):
    """An add-wins observed-remove set of str or int elements.

    ``adds`` maps each element to its live tags; ``removed`` is the set of tombstoned tags.

    >>> s = ORSet().add(1, "a").add(2, "b").remove(1)
    >>> s.elements, sorted(s.removed)
    (frozenset({2}), [('a', 1)])
    """

    __slots__ = ("_adds", "_removed")
    TYPE = "or_set"

    def __init__(
        self,
        adds: Mapping[str | int, Iterable[Tag]] | None = None,
        removed: Iterable[Tag] = (),
    ) -> None:
        adds = {} if adds is None else adds
        if not isinstance(adds, Mapping):
            raise TypeError(f"adds={adds!r} must map element -> its (replica, n) tags")
        if isinstance(removed, (str, bytes)) or not isinstance(removed, Iterable):
            raise TypeError(f"removed={removed!r} must be an iterable of (replica, n) tags")
        tombs = frozenset(_check_tag("removed item", t) for t in removed)
        live: dict[str | int, frozenset[Tag]] = {}
        owner: dict[Tag, str | int] = {}
        for element, tags in adds.items():
            check_element("adds key", element)
            kept = frozenset(_check_tag(f"adds[{element!r}] tag", t) for t in tags) - tombs
            for tag in kept:
                if owner.setdefault(tag, element) != element:
                    raise ValueError(
                        f"tag {tag!r} is on two elements, {owner[tag]!r} and {element!r}"
                    )
            if kept:
                live[element] = kept
        self._adds = dict(sorted(live.items(), key=lambda item: _element_key(item[0])))
        self._removed = tombs

    @property
    def elements(self) -> frozenset:
        """The elements with a live tag."""
        return frozenset(self._adds)

    @property
    def adds(self) -> dict[str | int, frozenset[Tag]]:
        """``{element: its live tags}``."""
        return dict(self._adds)

    @property
    def removed(self) -> frozenset[Tag]:
        """The tombstoned tags."""
        return self._removed

    def __contains__(self, element: object) -> bool:
        return element in self._adds

    def _next_tag(self, replica: str) -> Tag:
        seen = [n for tags in self._adds.values() for r, n in tags if r == replica]
        seen += [n for r, n in self._removed if r == replica]
        return (replica, max(seen, default=0) + 1)

    def add(self, element: str | int, replica: str) -> ORSet:
        """``element`` added by ``replica`` with a fresh tag."""
        check_element("element", element)
        check_replica("replica", replica)
        adds = dict(self._adds)
        adds[element] = adds.get(element, frozenset()) | {self._next_tag(replica)}
        return ORSet(adds, self._removed)

    def remove(self, element: str | int) -> ORSet:
        """``element`` removed: the tags observed here are tombstoned (absent: no change)."""
        check_element("element", element)
        return ORSet(self._adds, self._removed | self._adds.get(element, frozenset()))

    def merge(self, other: ORSet) -> ORSet:
        """Tags and tombstones unioned; a tombstoned tag is dead everywhere."""
        self.check_same_type(other)
        adds = dict(self._adds)
        for element, tags in other.adds.items():
            adds[element] = adds.get(element, frozenset()) | tags
        return ORSet(adds, self._removed | other.removed)

    def to_data(self) -> dict[str, Any]:
        return {
            "adds": [[e, sorted(list(t) for t in tags)] for e, tags in self._adds.items()],
            "removed": sorted(list(t) for t in self._removed),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ORSet:
        if set(data) != {"adds", "removed"}:
            raise ValueError(f"data={data!r} must have exactly the keys adds, removed")
        adds: dict[Any, list] = {}
        for element, tags in data["adds"]:
            if element in adds:
                raise ValueError(f"element {element!r} is listed twice")
            adds[element] = [tuple(t) for t in tags]
        return cls(adds, [tuple(t) for t in data["removed"]])
