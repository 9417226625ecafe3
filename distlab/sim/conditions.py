"""What holds on a network now: its own settings composed with the effects of active faults.

A :class:`~distlab.sim.Network` keeps two layers. Its *base* is what its methods set
(``crash``/``restart``, ``slow``, ``set_loss``, ``set_link``, ``partition``/``heal``). On top, each
active fault adds one :class:`FaultEffect` (``Network.apply_effect``), and takes exactly that
effect away when it ends (``Network.remove_effect``). What the network does at any moment is the
composition of the base and the active effects, recomputed on every change, so overlapping faults
undo only themselves:

- ``crashed``: a node is down while the base or any active effect says so;
- ``slow``: a node's latency factor is the one of the latest active effect that names it, else
  the base factor;
- ``loss``: the default loss is the one of the latest active effect that sets it, else the base;
- ``groups``: every active partition applies at once (the base one too): two nodes can talk only
  if they are on the same side of each of them;
- ``cut``: a directed link loses every message while any active effect cuts it.

"Latest" means applied last (faults starting at the same time: in schedule order).

>>> from distlab.sim import World, Network
>>> net = Network(World()); _ = net.add_node("a"); _ = net.add_node("b")
>>> first = net.apply_effect(FaultEffect(slow={"b": 10}))
>>> second = net.apply_effect(FaultEffect(slow={"b": 3}))
>>> net.remove_effect(first); net.node("b").slow_factor     # the other one still holds
3.0
>>> net.remove_effect(second); net.node("b").slow_factor    # back to the base
1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_number, check_probability

__all__ = ["FaultEffect", "Conditions", "MAX_SLOW_FACTOR"]

#: The largest latency multiplier a slow node may have (beyond it, delays stop being finite).
MAX_SLOW_FACTOR = 1e6


def check_slow_factor(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a latency factor in (0, :data:`MAX_SLOW_FACTOR`].

    >>> check_slow_factor("factor", 0)
    Traceback (most recent call last):
    ValueError: factor=0 must be greater than 0
    """
    factor = check_number(name, value, minimum=0, min_inclusive=False)
    if factor > MAX_SLOW_FACTOR:
        raise ValueError(f"{name}={factor:g} must be at most {MAX_SLOW_FACTOR:g}")
    return factor


def _names(param: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{param}={value!r} must be a list of node names")
    names = tuple(value)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(f"{param}[{i}]={name!r} must be a node name (str)")
    return names


@dataclass(frozen=True)
class FaultEffect:
    """What one fault changes while it is active (see the module docstring for how effects
    compose). Every field is optional; node names are checked against the network when the
    effect is applied.

    - ``crashed``: names of the nodes the fault keeps down;
    - ``slow``: ``{node: factor}`` latency multipliers, each in (0, 1e6];
    - ``loss``: the network's default loss probability while the fault holds (``None``: unchanged);
    - ``groups``: a partition, as for ``Network.partition`` (``None``: none);
    - ``cut``: directed links ``(src, dst)`` that lose every message.

    >>> FaultEffect(crashed=["db"], loss=0.5)
    FaultEffect(crashed=('db',), slow=(), loss=0.5, groups=None, cut=())
    >>> FaultEffect(slow={"b": 0})
    Traceback (most recent call last):
    ValueError: slow['b']=0 must be greater than 0
    """

    crashed: tuple[str, ...] = ()
    slow: tuple[tuple[str, float], ...] = ()
    loss: float | None = None
    groups: tuple[tuple[str, ...], ...] | None = None
    cut: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "crashed", _names("crashed", self.crashed))
        slow = self.slow
        pairs = slow.items() if isinstance(slow, Mapping) else slow
        if isinstance(pairs, str) or not isinstance(pairs, Iterable):
            raise TypeError(f"slow={slow!r} must be a mapping of node name -> factor")
        checked = []
        for pair in pairs:
            if not isinstance(pair, tuple | list) or len(pair) != 2 or not isinstance(pair[0], str):
                raise TypeError(f"slow item {pair!r} must be a (node name, factor) pair")
            checked.append((pair[0], check_slow_factor(f"slow[{pair[0]!r}]", pair[1])))
        set_(self, "slow", tuple(checked))
        if self.loss is not None:
            set_(self, "loss", check_probability("loss", self.loss))
        if self.groups is not None:
            if isinstance(self.groups, str) or not isinstance(self.groups, Iterable):
                raise TypeError(f"groups={self.groups!r} must be a list of groups of node names")
            set_(self, "groups", tuple(_group(i, g) for i, g in enumerate(self.groups)))
        cut = []
        for pair in _pairs("cut", self.cut):
            cut.append(pair)
        set_(self, "cut", tuple(cut))


def _group(i: int, group: Any) -> tuple[str, ...]:
    if isinstance(group, str):
        return (group,)
    return _names(f"groups[{i}]", group)


def _pairs(param: str, value: Any) -> Iterable[tuple[str, str]]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{param}={value!r} must be a list of (src, dst) node pairs")
    for i, pair in enumerate(value):
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or not all(isinstance(n, str) for n in pair)
        ):
            raise TypeError(f"{param}[{i}]={pair!r} must be a (src, dst) pair of node names")
        yield (pair[0], pair[1])


class Conditions:
    """A network's base settings and its active :class:`FaultEffect` s, and what they compose to.

    Pure bookkeeping: :class:`~distlab.sim.Network` owns one, changes it and applies what it says.

    >>> c = Conditions(loss=0.1)
    >>> h = c.add(FaultEffect(loss=0.5, crashed=["a"]))
    >>> c.default_loss(), c.is_down("a")
    (0.5, True)
    >>> _ = c.remove(h); c.default_loss(), c.is_down("a")
    (0.1, False)
    """

    def __init__(self, loss: float) -> None:
        self.loss = loss  # base default loss
        self.down: set[str] = set()  # nodes crashed by Network.crash
        self.slow: dict[str, float] = {}  # base latency factors (missing: 1)
        self.partition: tuple[tuple[str, ...], ...] | None = None  # set by Network.partition
        self.effects: dict[int, FaultEffect] = {}  # handle -> effect, in the order applied
        self._next = 0

    def add(self, effect: FaultEffect) -> int:
        """Record ``effect`` as active; return its handle (for :meth:`remove`)."""
        handle = self._next
        self._next = handle + 1
        self.effects[handle] = effect
        return handle

    def remove(self, handle: Any) -> FaultEffect:
        """Forget the effect with ``handle``; return it (``ValueError`` if it is not active)."""
        if isinstance(handle, bool) or not isinstance(handle, int) or handle not in self.effects:
            raise ValueError(f"handle={handle!r} is not an active effect of this network")
        return self.effects.pop(handle)

    def is_down(self, name: str) -> bool:
        """Whether node ``name`` is down: crashed by hand or by an active effect."""
        return name in self.down or any(name in e.crashed for e in self.effects.values())

    def slow_factor(self, name: str) -> float:
        """The latency factor of node ``name``: the latest active effect's, else the base one."""
        for effect in reversed(self.effects.values()):
            for node, factor in effect.slow:
                if node == name:
                    return factor
        return self.slow.get(name, 1.0)

    def default_loss(self) -> float:
        """The default loss: the latest active effect's, else the base one."""
        for effect in reversed(self.effects.values()):
            if effect.loss is not None:
                return effect.loss
        return self.loss

    def cut_links(self) -> set[tuple[str, str]]:
        """The directed links cut by active effects."""
        return {pair for e in self.effects.values() for pair in e.cut}

    def partitions(self) -> list[tuple[tuple[str, ...], ...]]:
        """Every partition in force: the base one first, then the active effects', in order."""
        found = [] if self.partition is None else [self.partition]
        return found + [e.groups for e in self.effects.values() if e.groups is not None]

    def sides(self, nodes: Iterable[str]) -> tuple[dict[str, Any] | None, list[tuple[str, ...]]]:
        """``(node -> side, named groups)`` for every partition in force at once (``None`` if
        none). Nodes missing from the mapping form one more side together. ``nodes`` gives the
        order of the groups when several partitions combine.

        >>> c = Conditions(loss=0); c.partition = (("a", "b"),)
        >>> _ = c.add(FaultEffect(groups=[["a"]]))
        >>> c.sides("abc")[1]
        [('a',), ('b',)]
        """
        parts = self.partitions()
        if not parts:
            return None, []
        if len(parts) == 1:
            return {n: gi for gi, g in enumerate(parts[0]) for n in g}, list(parts[0])
        maps = [{n: gi for gi, g in enumerate(p) for n in g} for p in parts]
        where: dict[str, Any] = {}
        named: dict[Any, list[str]] = {}
        for node in nodes:
            key = tuple(m.get(node, -1) for m in maps)
            if any(k != -1 for k in key):  # in no named group of any partition: the default side
                where[node] = key
                named.setdefault(key, []).append(node)
        return where, [tuple(g) for g in named.values()]
