"""The three laws a state-based merge must obey, checked on sample states.

A merge must be commutative (``m(a, b) == m(b, a)``), associative (``m(m(a, b), c) ==
m(a, m(b, c))``) and idempotent (``m(a, a) == a``): then replicas that receive each other's
states in any order, any number of times, converge. :func:`merge_law_violations` tries every
pair and triple of the sample states and reports each law that fails, with the states that
show it.

>>> merge_law_violations(max, [1, 5, 3])
[]
>>> v = merge_law_violations(lambda a, b: a - b, [0, 1])
>>> [x.law for x in v]
['commutative', 'associative', 'idempotent']
>>> v[0].states
(0, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

__all__ = ["LAWS", "MAX_SAMPLES", "LawViolation", "merge_law_violations"]

LAWS = ("commutative", "associative", "idempotent")
#: The most sample states :func:`merge_law_violations` takes (it tries every triple).
MAX_SAMPLES = 60


@dataclass(frozen=True)
class LawViolation:
    """The first counterexample found to one law: the ``states`` (two for commutative, three
    for associative, one for idempotent) and the two results that should have been equal.

    >>> merge_law_violations(lambda a, b: a + b, [1])
    [LawViolation(law='idempotent', states=(1,), left=2, right=1)]
    """

    law: str
    states: tuple[Any, ...]
    left: Any
    right: Any


def merge_law_violations(merge: Callable[[Any, Any], Any], states: Sequence[Any]) -> list:
    """One :class:`LawViolation` per law that ``merge`` breaks on ``states`` (none: ``[]``).

    ``states`` (at most :data:`MAX_SAMPLES`) should be states replicas can reach; a merge
    that raises on them is reported as a ``TypeError`` from here, naming the states.

    >>> merge_law_violations(lambda a, b: a | b, [{1}, {2}, set()])
    []
    """
    if not callable(merge):
        raise TypeError(f"merge={merge!r} must be a function of two states")
    if isinstance(states, (str, bytes)) or not isinstance(states, Sequence):
        raise TypeError(f"states={states!r} must be a sequence of states")
    if not 1 <= len(states) <= MAX_SAMPLES:
        raise ValueError(f"states has {len(states)} items; give 1 to {MAX_SAMPLES}")

    def m(*args):
        try:
            return merge(*args)
        except Exception as exc:  # the learner's merge: say which states broke it
            raise TypeError(f"merge{args!r} raised {type(exc).__name__}: {exc}") from exc

    found: list[LawViolation] = []
    for a, b in product(states, repeat=2):
        if m(a, b) != m(b, a):
            found.append(LawViolation("commutative", (a, b), m(a, b), m(b, a)))
            break
    for a, b, c in product(states, repeat=3):
        left, right = m(m(a, b), c), m(a, m(b, c))
        if left != right:
            found.append(LawViolation("associative", (a, b, c), left, right))
            break
    for a in states:
        if m(a, a) != a:
            found.append(LawViolation("idempotent", (a,), m(a, a), a))
            break
    return found
