"""Fault schedules: timed partitions, crashes, slow nodes and loss bursts applied during a run.

Each fault starts at ``at`` (seconds, absolute simulated time) and is undone at ``at + duration``
(``duration=None``: it lasts until the end of the run). Both moments are logged as
``fault_start`` / ``fault_end`` with ``node`` (or ``None``) and a readable ``detail``.

Faults may overlap, of one kind or several, on one target or several: each fault describes what it
changes as a :class:`~distlab.sim.FaultEffect` (its :meth:`Fault.effect`); the network applies it
on top of everything else at the start and takes exactly that effect away at the end, so the others
still hold (two crashes of one node: it comes back when the last one ends; two slow-downs: the one
started last holds while it lasts). :mod:`distlab.sim.conditions` gives the rules. A new kind of
fault only has to say its effect: it never saves and restores state itself.

>>> from distlab.sim import World, Network, FaultSchedule, Crash, Partition
>>> world = World(seed=0); net = Network(world)
>>> for n in ("a", "b", "c"):
...     _ = net.add_node(n)
>>> faults = FaultSchedule([Partition(at=1, duration=2, groups=[["a"], ["b", "c"]]),
...                         Crash(at=2, duration=1, node="c")])
>>> faults.apply(net)
>>> world.run()
>>> log = world.events().query("kind.str.startswith('fault')")
>>> for row in log[["time", "kind", "detail"]].itertuples(index=False):
...     print(*row)
1.0 fault_start partition {a} | {b, c}
2.0 fault_start crash c
3.0 fault_end partition {a} | {b, c}
3.0 fault_end crash c
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from distlab._validate import check_number, check_probability
from distlab.sim.conditions import FaultEffect, check_slow_factor
from distlab.sim.distributions import MAX_SECONDS, at_most
from distlab.sim.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "BridgePartition",
    "Crash",
    "Fault",
    "FaultSchedule",
    "LossBurst",
    "NodeFault",
    "Partition",
    "SlowNode",
]


class Fault:
    """Base class of the faults: a start time ``at`` and a ``duration`` (``None`` = forever).

    A subclass sets ``kind`` (the word in the log and in :meth:`FaultSchedule.bands`), a
    ``label`` and :meth:`effect`; :meth:`check` may refuse a network early (unknown node...).

    >>> Crash(at=1, duration=2, node="b").end
    3.0
    """

    kind = "fault"
    #: The band state for plots: a key of ``distlab.plots.style.STATE_COLORS``.
    state = "fault"

    def __init__(self, at: float, duration: float | None) -> None:
        self.at = at_most("at", check_number("at", at, minimum=0), MAX_SECONDS)
        self.duration = (
            None
            if duration is None
            else at_most(
                "duration",
                check_number("duration", duration, minimum=0, min_inclusive=False),
                MAX_SECONDS,
            )
        )

    @property
    def end(self) -> float:
        """When the fault is undone (``math.inf`` if never)."""
        return float("inf") if self.duration is None else self.at + self.duration

    @property
    def node(self) -> str | None:
        """The node the fault is about, if any."""
        return None

    @property
    def label(self) -> str:  # pragma: no cover - overridden
        return self.kind

    def check(self, net: Network) -> None:
        """Raise ``ValueError`` if the fault cannot apply to ``net`` (unknown node...), before the
        run. By default the network checks the fault's :meth:`effect`; subclasses may say more
        (the network checks the effect again when it applies it)."""
        net.check_effect(self.effect())

    def effect(self) -> FaultEffect:
        """What the fault changes while it holds (see :mod:`distlab.sim.conditions`).

        >>> LossBurst(at=0, duration=1, loss=0.5).effect()
        FaultEffect(crashed=(), slow=(), loss=0.5, groups=None, cut=())
        """
        raise NotImplementedError(f"{type(self).__name__} must define effect()")

    def run(self, net: Network):
        """The SimPy process of the fault on ``net``: apply it at ``at``, undo it at its end, and
        log both (``fault_start`` / ``fault_end``). :meth:`FaultSchedule.apply` starts it.

        >>> from distlab.sim import World, Network
        >>> world = World(); net = Network(world); _ = net.add_node("a")
        >>> _ = world.env.process(Crash(at=1, duration=1, node="a").run(net))
        >>> world.run(until=1.5); net.node("a").alive
        False
        """
        env = net.env
        if self.at > env.now:
            yield env.timeout(self.at - env.now)
        saved = self._start(net)
        net.world.log(
            "fault_start", node=self.node, detail=self.label, fault=self.kind, state=self.state
        )
        if self.duration is None:
            return
        yield env.timeout(self.duration)
        self._end(net, saved)
        net.world.log(
            "fault_end", node=self.node, detail=self.label, fault=self.kind, state=self.state
        )

    def _start(self, net: Network) -> Any:
        """Apply the fault; return what :meth:`_end` needs to undo it (the effect's handle)."""
        return net.apply_effect(self.effect())

    def _end(self, net: Network, saved: Any) -> None:
        """Undo exactly this fault's effect."""
        net.remove_effect(saved)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(at={self.at:g}, duration={self.duration}, {self.label!r})"


class Partition(Fault):
    """Partition the network into ``groups`` (as for :meth:`Network.partition`); heal at the end.

    Overlapping partitions all hold at once: two nodes talk only if they are on the same side of
    every active partition; each one's end lifts only its own cut.

    >>> Partition(at=5, duration=10, groups=[["a", "b"], ["c"]]).label
    'partition {a, b} | {c}'
    """

    kind = "partition"
    state = "partitioned"

    def __init__(self, at: float, duration: float | None, groups: Iterable[Iterable[str] | str]):
        super().__init__(at, duration)
        if isinstance(groups, str) or not isinstance(groups, Iterable):
            raise TypeError(f"groups={groups!r} must be a list of groups of node names")
        self.groups = list(FaultEffect(groups=groups).groups or ())
        if not self.groups:
            raise ValueError("groups=[] is empty: a partition needs at least one group of nodes")

    @property
    def label(self) -> str:
        return "partition " + " | ".join("{" + ", ".join(map(str, g)) + "}" for g in self.groups)

    def check(self, net: Network) -> None:
        net.check_groups(tuple(self.groups))  # as Network.partition will, without applying it

    def effect(self) -> FaultEffect:
        return FaultEffect(groups=self.groups)


class NodeFault(Fault):
    """A fault of one ``node``: the node's name checked when built, and against the network
    before the run (an unknown node is refused by name).

    >>> Crash(at=1, duration=None, node="db").node
    'db'
    """

    def __init__(self, at: float, duration: float | None, node: str) -> None:
        super().__init__(at, duration)
        if not isinstance(node, str):
            raise TypeError(f"node={node!r} must be a node name (str)")
        self._node = node

    @property
    def node(self) -> str:
        return self._node

    def check(self, net: Network) -> None:
        net.check_node("node", self._node)


class Crash(NodeFault):
    """Crash ``node`` at ``at`` and restart it after ``duration`` (``None``: stays down). While
    other crashes of the node (or :meth:`Network.crash`) hold, it stays down until they end too.

    >>> Crash(at=1, duration=None, node="db").label
    'crash db'
    """

    kind = "crash"
    state = "crashed"

    @property
    def label(self) -> str:
        return f"crash {self._node}"

    def effect(self) -> FaultEffect:
        return FaultEffect(crashed=(self._node,))


class SlowNode(NodeFault):
    """Multiply latencies to and from ``node`` by ``factor`` (in (0, 1e6]) instead of its own
    factor; at the end, the factor of the latest other slow-down still active applies, else the
    node's own.

    >>> SlowNode(at=0, duration=3, node="b", factor=10).label
    'slow b ×10'
    """

    kind = "slow"
    state = "slow"

    def __init__(self, at: float, duration: float | None, node: str, factor: float) -> None:
        super().__init__(at, duration, node)
        self.factor = check_slow_factor("factor", factor)

    @property
    def label(self) -> str:
        return f"slow {self._node} ×{self.factor:g}"

    def effect(self) -> FaultEffect:
        return FaultEffect(slow=((self._node, self.factor),))


class LossBurst(Fault):
    """Set the network's default loss probability to ``loss``; at the end, the loss of the latest
    other burst still active applies, else the network's own.

    Links with their own ``loss`` (see :meth:`Network.set_link`) keep it.

    >>> LossBurst(at=2, duration=1, loss=0.5).label
    'loss 50%'
    """

    kind = "loss"
    state = "loss_burst"

    def __init__(self, at: float, duration: float | None, loss: float) -> None:
        super().__init__(at, duration)
        self.loss = check_probability("loss", loss)

    @property
    def label(self) -> str:
        return f"loss {self.loss:.0%}"

    def effect(self) -> FaultEffect:
        return FaultEffect(loss=self.loss)


class BridgePartition(Fault):
    """A non-transitive cut: ``left`` and ``right`` cannot talk to each other, but every node of
    ``bridge`` still talks to both. Made by cutting each link between the two halves (loss 1);
    the cut ends with the fault, whatever else holds then.

    Unlike :class:`Partition`, "can reach" is then not transitive: ``left`` reaches ``bridge``,
    ``bridge`` reaches ``right``, ``left`` does not reach ``right``.

    >>> from distlab.sim import World, Network, FaultSchedule
    >>> world = World(); net = Network(world)
    >>> for n in ("a", "b", "c"):
    ...     _ = net.add_node(n)
    >>> cut = BridgePartition(at=1, duration=2, left=["a"], bridge=["b"], right=["c"])
    >>> cut.label
    'bridge {a} | b | {c}'
    >>> FaultSchedule([cut]).apply(net); world.run(until=2)
    >>> net.can_reach("a", "b"), net.can_reach("b", "c"), net.can_reach("a", "c")
    (True, True, False)
    """

    kind = "partition"
    state = "partitioned"

    def __init__(
        self,
        at: float,
        duration: float | None,
        left: Iterable[str],
        bridge: Iterable[str],
        right: Iterable[str],
    ) -> None:
        super().__init__(at, duration)
        self.left = _node_list("left", left)
        self.bridge = _node_list("bridge", bridge)
        self.right = _node_list("right", right)
        seen: dict[str, str] = {}
        for param, names in (("left", self.left), ("bridge", self.bridge), ("right", self.right)):
            for name in names:
                if name in seen:
                    raise ValueError(
                        f"{param}: node={name!r} is also in {seen[name]}; the three groups of a "
                        "bridge partition must not share nodes"
                    )
                seen[name] = param

    @property
    def label(self) -> str:
        return (
            "bridge {"
            + ", ".join(self.left)
            + "} | "
            + ", ".join(self.bridge)
            + " | {"
            + ", ".join(self.right)
            + "}"
        )

    def check(self, net: Network) -> None:
        for param, names in (("left", self.left), ("bridge", self.bridge), ("right", self.right)):
            for name in names:
                net.check_node(param, name)

    def effect(self) -> FaultEffect:
        cut = [(a, b) for a in self.left for b in self.right]
        return FaultEffect(cut=cut + [(b, a) for a, b in cut])


def _node_list(param: str, names: Iterable[str]) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(f"{param}={names!r} must be a list of node names")
    out = list(names)
    if not out:
        raise ValueError(f"{param}=[] is empty: each group of a bridge partition needs a node")
    for name in out:
        if not isinstance(name, str):
            raise TypeError(f"{param}: node={name!r} must be a node name (str)")
    return out


class FaultSchedule:
    """A list of faults to apply to a network during a run.

    >>> from distlab.sim import World, Network, FaultSchedule, LossBurst
    >>> sched = FaultSchedule([LossBurst(at=1, duration=2, loss=0.3)])
    >>> sched.bands()[["start", "end", "state", "label"]].values.tolist()
    [[1.0, 3.0, 'loss_burst', 'loss 30%']]
    """

    def __init__(self, faults: Iterable[Fault]) -> None:
        if isinstance(faults, Fault):
            faults = [faults]
        if isinstance(faults, (str, bytes)) or not isinstance(faults, Iterable):
            raise TypeError(f"faults={faults!r} must be a list of faults")
        self.faults: list[Fault] = list(faults)
        for i, fault in enumerate(self.faults):
            if not isinstance(fault, Fault):
                raise TypeError(
                    f"faults[{i}]={fault!r} must be Partition, Crash, SlowNode or LossBurst"
                )

    def __repr__(self) -> str:
        return f"FaultSchedule({self.faults!r})"

    def __len__(self) -> int:
        return len(self.faults)

    def apply(self, net: Network) -> None:
        """Check every fault against ``net``, then schedule them (one SimPy process per fault).

        Raises ``ValueError`` for an unknown node or a start time already in the past.
        """
        if not isinstance(net, Network):
            raise TypeError(f"net={net!r} must be a distlab.sim.Network")
        now = net.env.now
        for i, fault in enumerate(self.faults):
            if fault.at < now:
                raise ValueError(
                    f"faults[{i}] at={fault.at:g} is in the past: the world is at time {now:g}"
                )
            fault.check(net)
        for fault in self.faults:
            net.env.process(fault.run(net))

    def bands(self, until: float | None = None) -> pd.DataFrame:
        """DataFrame(start, end, state, label, kind, node), one row per fault, for shading plots.

        ``state`` is the band's key in ``STATE_COLORS`` (``partitioned``, ``crashed``, ``slow``,
        ``loss_burst``), ``kind`` the fault's word in the event log. A fault without duration
        ends at ``until`` (``math.inf`` if ``until`` is None).
        """
        import pandas as pd

        limit = float("inf") if until is None else check_number("until", until, minimum=0)
        rows = [
            (f.at, min(f.end, limit), f.state, f.label, f.kind, f.node)
            for f in self.faults
            if f.at < limit
        ]
        return pd.DataFrame(rows, columns=["start", "end", "state", "label", "kind", "node"])
