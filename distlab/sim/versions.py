"""Versions of one key in a leaderless store: dots, causal contexts, siblings and their merge.

Each write creates a :class:`Version`: its ``stamp`` ``(clock, writer, seq)`` (unique, and the
order last-writer-wins uses) and its ``dot`` ``(coordinator, n)``, the n-th write that
coordinator made to the key. A replica keeps a :class:`KeyState` per key: the versions it holds
and the :class:`CausalContext` of every dot it has seen (a version vector plus the dots seen out
of order). Merging two states with ``conflicts="siblings"`` keeps a version unless the other side
has seen its dot without keeping it (a write that saw it superseded it): concurrent versions stay
together as siblings (dotted version vectors: Preguiça et al. 2010; Riak's DVVSet). With
``conflicts="lww"`` the version with the greatest stamp wins and the others are dropped. With
``conflicts="crdt"`` the values are CRDTs (anything with a ``merge``, e.g. :mod:`distlab.crdt`)
and the states keep ONE version: the greatest stamp, holding the merge of every value (no
update is lost, whatever the order of delivery).

>>> a = Version((1.0, 0, 1), ("n1", 1), "blue")
>>> b = Version((2.0, 1, 2), ("n2", 1), "red")
>>> s1, s2 = KeyState.of(a), KeyState.of(b)
>>> merge_states(s1, s2, "siblings").values
('blue', 'red')
>>> merge_states(s1, s2, "lww").values
('red',)
>>> seen = merge_states(s1, s2, "siblings").context      # what a reader of both has seen
>>> c = Version((3.0, 0, 3), ("n1", 2), "purple")
>>> merge_states(merge_states(s1, s2, "siblings"), KeyState.of(c, seen), "siblings").values
('purple',)
>>> from distlab.crdt import GCounter
>>> g1 = KeyState.of(Version((1.0, 0, 1), ("n1", 1), GCounter({"c1": 1})))
>>> g2 = KeyState.of(Version((2.0, 1, 2), ("n2", 1), GCounter({"c2": 1})))
>>> merge_states(g1, g2, "crdt").result.value, merge_states(g1, g2, "lww").result.value
(2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "CONFLICT_MODES",
    "CausalContext",
    "KeyState",
    "Siblings",
    "Version",
    "Versioned",
    "check_crdt_value",
    "merge_states",
]

#: How a leaderless store settles concurrent writes.
CONFLICT_MODES = ("siblings", "lww", "crdt")

Dot = tuple[str, int]


class CausalContext(NamedTuple):
    """The dots seen: ``vector`` (sorted ``(node, n)``: dots 1..n of ``node``) and ``cloud``
    (sorted dots seen beyond the vector, out of order). A tuple, so it can stand for a read's
    ``stamp``.

    >>> ctx = CausalContext().add(("n1", 1)).add(("n1", 3))
    >>> ctx, ctx.covers(("n1", 2))
    (CausalContext(vector=(('n1', 1),), cloud=(('n1', 3),)), False)
    >>> ctx.add(("n1", 2))
    CausalContext(vector=(('n1', 3),), cloud=())
    """

    vector: tuple[Dot, ...] = ()
    cloud: tuple[Dot, ...] = ()

    def covers(self, dot: Dot) -> bool:
        """Whether ``dot`` has been seen."""
        node, n = dot
        for name, count in self.vector:
            if name == node:
                if n <= count:
                    return True
                break
        return dot in self.cloud

    def add(self, dot: Dot) -> CausalContext:
        """This context with ``dot`` seen too."""
        return _compact(dict(self.vector), {*self.cloud, dot})

    def join(self, other: CausalContext) -> CausalContext:
        """Every dot seen by either."""
        if other == self or not other:
            return self
        if not self:
            return other
        vector = dict(self.vector)
        for node, count in other.vector:
            if count > vector.get(node, 0):
                vector[node] = count
        return _compact(vector, {*self.cloud, *other.cloud})


def _compact(vector: dict[str, int], cloud: set[Dot]) -> CausalContext:
    changed = True
    while changed and cloud:
        changed = False
        for dot in sorted(cloud):
            node, n = dot
            if n <= vector.get(node, 0):
                cloud.discard(dot)
            elif n == vector.get(node, 0) + 1:
                vector[node] = n
                cloud.discard(dot)
                changed = True
    return CausalContext(tuple(sorted(vector.items())), tuple(sorted(cloud)))


@dataclass(frozen=True, slots=True)
class Version:
    """One write's version: ``stamp`` ``(clock, writer index, seq)``, ``dot`` ``(coordinator,
    n)`` and ``value``.

    >>> Version((0.5, 1, 7), ("n2", 3), "red").dot
    ('n2', 3)
    """

    stamp: tuple
    dot: Dot
    value: Any


@dataclass(frozen=True, slots=True)
class KeyState:
    """What a replica holds for one key: ``versions`` (sorted by stamp) and ``context`` (every
    dot it has seen, kept or superseded).

    >>> KeyState().values, KeyState().result
    ((), None)
    """

    versions: tuple[Version, ...] = ()
    context: CausalContext = field(default_factory=CausalContext)

    @classmethod
    def of(cls, version: Version, context: CausalContext | None = None) -> KeyState:
        """A write's delta: ``version`` written by a client that had seen ``context``."""
        return cls((version,), (context or CausalContext()).add(version.dot))

    @property
    def values(self) -> tuple[Any, ...]:
        """The values held, oldest stamp first."""
        return tuple(v.value for v in self.versions)

    @property
    def result(self) -> Any:
        """What a read returns: ``None`` (never written), the value, or :class:`Siblings`."""
        if not self.versions:
            return None
        if len(self.versions) == 1:
            return self.versions[0].value
        return Siblings(self.values)

    @property
    def stamp(self) -> tuple | None:
        """The stamp of the single version held; with siblings, the tuple of their stamps;
        ``None`` when empty."""
        if not self.versions:
            return None
        if len(self.versions) == 1:
            return self.versions[0].stamp
        return tuple(v.stamp for v in self.versions)


@dataclass(frozen=True, slots=True)
class Siblings:
    """Concurrent values a read returned together (``values``, oldest stamp first): the
    application reconciles them and writes the result with the read's context.

    >>> s = Siblings(("a", "b")); len(s), list(s)
    (2, ['a', 'b'])
    """

    values: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values)


@dataclass(frozen=True, slots=True)
class Versioned:
    """A write's value with the ``context`` of the read it was computed from (a read's
    ``stamp``): the write supersedes every version that read saw. A plain value is written with
    an empty context (concurrent with every version held).

    >>> Versioned("cart-2", CausalContext((("n1", 1),))).context.covers(("n1", 1))
    True
    """

    value: Any
    context: CausalContext = field(default_factory=CausalContext)

    def __post_init__(self) -> None:
        if not isinstance(self.context, CausalContext):
            raise TypeError(
                f"context={self.context!r} must be a CausalContext (a read's stamp with "
                "conflicts='siblings')"
            )


def merge_states(a: KeyState, b: KeyState, conflicts: str) -> KeyState:
    """The join of two replicas' states of one key (see the module docstring); commutative,
    associative and idempotent.

    >>> old = KeyState.of(Version((1.0, 0, 1), ("n1", 1), "a"))
    >>> new = KeyState.of(Version((2.0, 0, 2), ("n1", 2), "b"), old.context)  # saw a
    >>> merge_states(old, new, "siblings").values, merge_states(new, old, "siblings").values
    (('b',), ('b',))
    """
    if a == b:
        return a
    context = a.context.join(b.context)
    if conflicts == "crdt":
        return KeyState(_merge_crdt_versions(a.versions + b.versions), context)
    if conflicts == "lww":
        versions = a.versions + b.versions
        best = max(versions, key=lambda v: v.stamp) if versions else None
        return KeyState((best,) if best else (), context)
    theirs = {v.stamp for v in b.versions}  # stamps identify versions (values may not hash)
    mine = {v.stamp for v in a.versions}
    kept = [v for v in a.versions if v.stamp in theirs or not b.context.covers(v.dot)]
    kept += [v for v in b.versions if v.stamp not in mine and not a.context.covers(v.dot)]
    return KeyState(tuple(sorted(kept, key=lambda v: v.stamp)), context)


def _merge_crdt_versions(versions: tuple[Version, ...]) -> tuple[Version, ...]:
    """One version: the greatest stamp (and its dot), valued with the merge of every value."""
    if len(versions) < 2:
        return versions
    best = max(versions, key=lambda v: v.stamp)
    value = versions[0].value
    for v in versions[1:]:
        value = value.merge(v.value)
    return (Version(best.stamp, best.dot, value),)


def check_crdt_value(name: str, value: Any) -> Any:
    """``value`` if it can be written under ``conflicts="crdt"`` (it has a ``merge`` method, as
    the :mod:`distlab.crdt` types do), else ``ValueError`` naming ``name``.

    >>> from distlab.crdt import PNCounter
    >>> check_crdt_value("value", PNCounter()).value
    0
    >>> check_crdt_value("value", 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: value=3 cannot be written with conflicts='crdt': it must be a CRDT with a merge ...
    """
    if not callable(getattr(value, "merge", None)):
        raise ValueError(
            f"{name}={value!r} cannot be written with conflicts='crdt': it must be a CRDT with a "
            "merge method (e.g. distlab.crdt's GCounter, PNCounter, LWWRegister, MVRegister, "
            "ORSet)"
        )
    return value
