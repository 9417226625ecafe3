"""State-based CRDTs (Shapiro et al., 2011): replicated values that converge without
coordination, because their merge is commutative, associative and idempotent.

- :class:`GCounter`, :class:`PNCounter`: counters (per-replica counts, merged by max);
- :class:`LWWRegister`: one value, the greatest ``(timestamp, replica)`` wins;
- :class:`MVRegister`: concurrent values kept as siblings, with version vectors;
- :class:`ORSet`: an add-wins observed-remove set (the cart that keeps deletions).

Each is an immutable value: updates return a new state, ``merge`` joins two states, and
``to_json`` / ``from_json`` and pickle carry it between processes. :mod:`distlab.crdt.broken`
has the two merges that go wrong (a union-merged cart, a sum-merged counter) and
:func:`merge_law_violations` checks any merge against the three laws.

>>> from distlab.crdt import GCounter
>>> a, b = GCounter().increment("a"), GCounter().increment("b", 2)
>>> a.merge(b).value, b.merge(a) == a.merge(b), a.merge(a) == a
(3, True, True)
"""

from distlab.crdt.base import CRDT
from distlab.crdt.broken import sum_merge, union_merge
from distlab.crdt.counters import GCounter, PNCounter
from distlab.crdt.laws import LAWS, LawViolation, merge_law_violations
from distlab.crdt.orset import ORSet
from distlab.crdt.registers import LWWRegister, MVRegister

__all__ = [
    "CRDT",
    "LAWS",
    "GCounter",
    "LWWRegister",
    "LawViolation",
    "MVRegister",
    "ORSet",
    "PNCounter",
    "merge_law_violations",
    "sum_merge",
    "union_merge",
]
