"""Two merges that look right and are not: the union-merged cart and the sum-merged counter.

**The cart whose deleted item comes back.** Dynamo's shopping cart merges siblings by set union:
an added item is never lost, but a deletion is. Replica ``b`` removes the book; replica ``a``
still holds the old cart; the union brings the book back. An :class:`~distlab.crdt.ORSet` keeps
the deletion because it removes the add-tags it observed:

>>> from distlab.crdt import ORSet
>>> old = frozenset({"book", "phone"})
>>> new = old - {"book"}                       # b deletes the book
>>> sorted(union_merge(old, new))              # a's stale copy brings it back
['book', 'phone']
>>> s = ORSet().add("book", "a").add("phone", "a")
>>> sorted(s.merge(s.remove("book")).elements)
['phone']

**The counter merged by sum.** A per-replica counter merged by adding the entries counts every
redelivery of the same state again (gossip redelivers); merge must be idempotent. The element-wise
max of a :class:`~distlab.crdt.GCounter` is:

>>> from distlab.crdt import GCounter
>>> a = {"a": 3}
>>> sum(sum_merge(sum_merge(a, a), a).values())    # one state delivered three times
9
>>> g = GCounter(a)
>>> g.merge(g).merge(g).value
3
>>> from distlab.crdt import merge_law_violations
>>> merge_law_violations(sum_merge, [{"a": 1}])[0].law
'idempotent'
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from distlab.crdt.base import check_amount, check_replica

__all__ = ["sum_merge", "union_merge"]


def union_merge(a: Set, b: Set) -> frozenset:
    """Dynamo's cart merge, ``a | b``: commutative, associative, idempotent, and still wrong
    for removals (a removal is just an absence, which union cannot tell from "not added yet").

    >>> union_merge({"x"}, {"y"}) == {"x", "y"}
    True
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, Set):
            raise TypeError(f"{name}={value!r} must be a set")
    return frozenset(a) | frozenset(b)


def sum_merge(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    """Per-replica counts merged by adding them: not idempotent, so redelivery double-counts.

    >>> sum_merge({"a": 1}, {"a": 1, "b": 2})
    {'a': 2, 'b': 2}
    """
    out: dict[str, int] = {}
    for name, counts in (("a", a), ("b", b)):
        if not isinstance(counts, Mapping):
            raise TypeError(f"{name}={counts!r} must be a mapping of replica -> count")
        for replica, n in counts.items():
            check_replica(f"{name} key", replica)
            out[replica] = out.get(replica, 0) + check_amount(f"{name}[{replica!r}]", n)
    return out
