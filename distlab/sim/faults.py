"""Fault schedules: timed partitions, crashes, slow nodes and loss bursts applied during a run.

Each fault starts at ``at`` (seconds, absolute simulated time) and is undone at ``at + duration``
(``duration=None``: it lasts until the end of the run). Both moments are logged as
``fault_start`` / ``fault_end`` with ``node`` (or ``None``) and a readable ``detail``.

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
from distlab.sim.network import Network

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "BridgePartition",
    "Crash",
    "Fault",
    "FaultSchedule",
    "LossBurst",
    "Partition",
    "SlowNode",
]


class Fault:
    """Base class of the faults: a start time ``at`` and a ``duration`` (``None`` = forever).

    >>> Crash(at=1, duration=2, node="b").end
    3.0
    """

    kind = "fault"
    #: The band state while the fault holds (a key of ``distlab.plots.style.STATE_COLORS``).
    state = "fault"

    def __init__(self, at: float, duration: float | None) -> None:
        self.at = check_number("at", at, minimum=0)
        self.duration = (
            None
            if duration is None
            else check_number("duration", duration, minimum=0, min_inclusive=False)
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

    def _check(self, net: Network) -> None:
        """Raise if the fault cannot apply to ``net`` (unknown node...)."""

    def _start(self, net: Network) -> Any:  # pragma: no cover - overridden
        """Apply the fault; return what :meth:`_end` needs to undo it."""

    def _end(self, net: Network, saved: Any) -> None:  # pragma: no cover - overridden
        """Undo the fault."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(at={self.at:g}, duration={self.duration}, {self.label!r})"


class Partition(Fault):
    """Partition the network into ``groups`` (as for :meth:`Network.partition`); heal at the end.

    Partitions do not stack: the end of any partition fault heals the network.

    >>> Partition(at=5, duration=10, groups=[["a", "b"], ["c"]]).label
    'partition {a, b} | {c}'
    """

    kind = "partition"
    state = "partitioned"

    def __init__(self, at: float, duration: float | None, groups: Iterable[Iterable[str] | str]):
        super().__init__(at, duration)
        if isinstance(groups, str) or not isinstance(groups, Iterable):
            raise TypeError(f"groups={groups!r} must be a list of groups of node names")
        self.groups = [(g,) if isinstance(g, str) else tuple(g) for g in groups]
        if not self.groups:
            raise ValueError("groups=[] is empty: a partition needs at least one group of nodes")

    @property
    def label(self) -> str:
        return "partition " + " | ".join("{" + ", ".join(map(str, g)) + "}" for g in self.groups)

    def _check(self, net: Network) -> None:
        net.check_groups(tuple(self.groups))  # as Network.partition will, without applying it

    def _start(self, net: Network) -> None:
        net.partition(*self.groups)

    def _end(self, net: Network, saved: Any) -> None:
        net.heal()


class Crash(Fault):
    """Crash ``node`` at ``at`` and restart it after ``duration`` (``None``: stays down).

    >>> Crash(at=1, duration=None, node="db").label
    'crash db'
    """

    kind = "crash"
    state = "crashed"

    def __init__(self, at: float, duration: float | None, node: str) -> None:
        super().__init__(at, duration)
        if not isinstance(node, str):
            raise TypeError(f"node={node!r} must be a node name (str)")
        self._node = node

    @property
    def node(self) -> str:
        return self._node

    @property
    def label(self) -> str:
        return f"crash {self._node}"

    def _check(self, net: Network) -> None:
        net.check_node("node", self._node)

    def _start(self, net: Network) -> None:
        net.crash(self._node)

    def _end(self, net: Network, saved: Any) -> None:
        net.restart(self._node)


class SlowNode(Fault):
    """Multiply latencies to and from ``node`` by ``factor`` (> 0); restore the old factor after.

    >>> SlowNode(at=0, duration=3, node="b", factor=10).label
    'slow b ×10'
    """

    kind = "slow"
    state = "slow"

    def __init__(self, at: float, duration: float | None, node: str, factor: float) -> None:
        super().__init__(at, duration)
        if not isinstance(node, str):
            raise TypeError(f"node={node!r} must be a node name (str)")
        self._node = node
        self.factor = check_number("factor", factor, minimum=0, min_inclusive=False)

    @property
    def node(self) -> str:
        return self._node

    @property
    def label(self) -> str:
        return f"slow {self._node} ×{self.factor:g}"

    def _check(self, net: Network) -> None:
        net.check_node("node", self._node)

    def _start(self, net: Network) -> float:
        before = net.node(self._node).slow_factor
        net.slow(self._node, self.factor)
        return before

    def _end(self, net: Network, saved: Any) -> None:
        net.slow(self._node, saved)


class LossBurst(Fault):
    """Set the network's default loss probability to ``loss``; restore the old value after.

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

    def _start(self, net: Network) -> float:
        before = net.loss
        net.set_loss(self.loss)
        return before

    def _end(self, net: Network, saved: Any) -> None:
        net.set_loss(saved)


class BridgePartition(Fault):
    """A non-transitive cut: ``left`` and ``right`` cannot talk to each other, but every node of
    ``bridge`` still talks to both. Made by cutting each link between the two halves (loss 1);
    the links are restored at the end.

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

    def _check(self, net: Network) -> None:
        for param, names in (("left", self.left), ("bridge", self.bridge), ("right", self.right)):
            for name in names:
                net.check_node(param, name)

    def _start(self, net: Network) -> None:
        for a in self.left:
            for b in self.right:
                net.set_link(a, b, loss=1.0)

    def _end(self, net: Network, saved: Any) -> None:
        for a in self.left:
            for b in self.right:
                net.set_link(a, b)


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
    >>> sched.bands()[["start", "end", "kind", "label"]].values.tolist()
    [[1.0, 3.0, 'loss', 'loss 30%']]
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
            fault._check(net)
        for fault in self.faults:
            net.env.process(_run_fault(net, fault))

    def bands(self, until: float | None = None) -> pd.DataFrame:
        """DataFrame(start, end, kind, label, node, state), one row per fault, for shading plots.

        A fault without duration ends at ``until`` (``math.inf`` if ``until`` is None).
        """
        import pandas as pd

        limit = float("inf") if until is None else check_number("until", until, minimum=0)
        rows = [
            (f.at, min(f.end, limit), f.kind, f.label, f.node, f.state)
            for f in self.faults
            if f.at < limit
        ]
        return pd.DataFrame(rows, columns=["start", "end", "kind", "label", "node", "state"])


def _run_fault(net: Network, fault: Fault):
    env = net.env
    if fault.at > env.now:
        yield env.timeout(fault.at - env.now)
    saved = fault._start(net)
    net.world.log(
        "fault_start", node=fault.node, detail=fault.label, fault=fault.kind, state=fault.state
    )
    if fault.duration is None:
        return
    yield env.timeout(fault.duration)
    fault._end(net, saved)
    net.world.log(
        "fault_end", node=fault.node, detail=fault.label, fault=fault.kind, state=fault.state
    )
