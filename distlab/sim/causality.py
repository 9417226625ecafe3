"""Happened-before in a simulated run: vector, Lamport and hybrid timestamps for its event log.

:func:`happened_before` reads a world's event log (or ``world.events()``) as a
:class:`~distlab.clocks.Run`: each node is a process, a ``send`` row is a send, the ``deliver``
row of the same ``msg_id`` its receive, and every other row logged by a node (``call_end``,
``write``...) a local event. Rows the world logs about itself rather than about a node's
program (drops, faults, crashes, partitions) are not events of any process. The result answers
"ordered or concurrent?" for two rows of the log, adds ``lamport`` and ``vector`` columns to
it, and exports the run for ShiViz.

>>> from distlab.sim import World, Network
>>> world = World(seed=0); net = Network(world, latency=0.1)
>>> for n in ("a", "b", "c"):
...     _ = net.add_node(n)
>>> world.log("write", node="a"); _ = net.send("a", "b", "x"); world.log("write", node="c")
>>> world.run()
>>> causal = happened_before(world, processes=net.nodes)
>>> for row in causal.frame()[["kind", "node", "lamport", "vector"]].values.tolist():
...     print(*row)
write a 1 (1, 0, 0)
send a 2 (2, 0, 0)
write c 1 (0, 0, 1)
deliver b 3 (2, 1, 0)
>>> causal.order(0, 3), causal.order(2, 3)
(<Order.BEFORE: 'before'>, <Order.CONCURRENT: 'concurrent'>)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from distlab._validate import check_number
from distlab.clocks.hlc import HybridLogicalClock
from distlab.clocks.order import Order
from distlab.clocks.runs import EventId, Run, Step
from distlab.clocks.shiviz import to_shiviz
from distlab.sim.world import World

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MESSAGE_KINDS", "WORLD_KINDS", "CausalRun", "happened_before", "vector_timestamps"]

#: The log's message kinds and what they are in a run.
MESSAGE_KINDS = {"send": "send", "deliver": "receive"}

#: Kinds the network and the faults log about the world, not events of a node's program.
WORLD_KINDS = frozenset(
    {"drop", "fault_start", "fault_end", "crash", "restart", "slow", "partition", "heal"}
)


def _log_frame(source: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(source, World):
        return source.events()
    if isinstance(source, pd.DataFrame):
        missing = {"time", "kind", "node", "msg_id"} - set(source.columns)
        if missing:
            raise ValueError(
                f"events lacks the column(s) {sorted(missing)}: give World.events() or the world"
            )
        return source
    raise TypeError(f"source={source!r} must be a World or its events() DataFrame")


class CausalRun:
    """A simulated run's event log read as a :class:`~distlab.clocks.Run`.

    Attributes:
        events: the log's rows that are events of a process (index as in the log).
        run: the :class:`~distlab.clocks.Run` (process = node).
        processes: the nodes, in the order of the entries of each ``vector``.

    Events are named by their row index in the log (``events.index``).
    """

    def __init__(self, events: pd.DataFrame, run: Run, ids: list[EventId]) -> None:
        self.events = events
        self.run = run
        self.processes = run.processes
        self._ids = dict(zip(events.index.tolist(), ids))

    def __repr__(self) -> str:
        return f"CausalRun({len(self.events)} events on {len(self.processes)} nodes)"

    def event(self, row: Any) -> EventId:
        """The run's ``(node, index)`` for the log row ``row`` (``ValueError`` if it is none)."""
        try:
            return self._ids[row]
        except (KeyError, TypeError):
            raise ValueError(
                f"row={row!r} is not an event of the run: a row index of a send, deliver or "
                "node-local record of the log"
            ) from None

    def order(self, first: Any, second: Any) -> Order:
        """How the events of rows ``first`` and ``second`` relate (``BEFORE``: first -> second,
        ``AFTER``, ``EQUAL``, ``CONCURRENT``)."""
        return self.run.order(self.event(first), self.event(second))

    def happened_before(self, first: Any, second: Any) -> bool:
        """Whether row ``first``'s event happened before row ``second``'s."""
        return self.order(first, second) is Order.BEFORE

    def concurrent(self, first: Any, second: Any) -> bool:
        """Whether the events of two distinct rows are concurrent."""
        return self.order(first, second) is Order.CONCURRENT

    def frame(self) -> pd.DataFrame:
        """:attr:`events` with ``lamport`` (int) and ``vector`` (a tuple of counts, in the order
        of :attr:`processes`) columns."""
        vectors = self.run.vector_counts()
        lamports = self.run.lamport_times()
        ids = [self._ids[row] for row in self.events.index]
        out = self.events.copy()
        out["lamport"] = np.asarray([lamports[e] for e in ids], dtype=np.int64)
        out["vector"] = [vectors[e] for e in ids]
        return out

    def hlc(self, *, tick_s: float = 1e-6) -> pd.Series:
        """Each event's hybrid logical clock timestamp ``(l, c)``, the physical time being its
        node's ``clock`` reading in whole ``tick_s`` (the log needs a ``clock`` column: a world
        with clocks). ``ValueError`` for a reading before the clock's epoch (negative)."""
        import pandas as pd

        tick_s = check_number("tick_s", tick_s, 1e-9, 1.0)
        if "clock" not in self.events.columns:
            raise ValueError("the log has no 'clock' column: run a World(seed, clocks={...})")
        clocks = {p: HybridLogicalClock(name=p, max_events=0) for p in self.processes}
        ticks = {}
        for row, reading in self.events["clock"].items():
            if not math.isfinite(reading) or reading < 0:
                raise ValueError(
                    f"row {row}: clock={reading!r} has no HLC physical time (needs a reading "
                    ">= 0: a node with a clock, after its epoch)"
                )
            ticks[self._ids[row]] = math.floor(round(reading / tick_s, 6))
        stamps: dict[EventId, Any] = {}
        for event in self.run.event_ids():
            step = self.run.step(event)
            clock, now = clocks[event[0]], ticks[event]
            if step.kind == "receive":
                sender = self.run.messages[step.message][0]
                stamps[event] = clock.receive(stamps[sender], now=now)
            elif step.kind == "send":
                stamps[event] = clock.send(now=now)
            else:
                stamps[event] = clock.local(now=now)
        return pd.Series(
            [stamps[self._ids[r]] for r in self.events.index], index=self.events.index, name="hlc"
        )

    def to_shiviz(self) -> str:
        """The run as a ShiViz log (see :func:`distlab.clocks.to_shiviz`)."""
        return to_shiviz(self.run)


def _event_rows(log: pd.DataFrame, local_kinds: frozenset[str] | None) -> np.ndarray:
    """The positions of the log's rows that are events of a node, in log order."""
    kind = log["kind"]
    mine = np.fromiter((isinstance(n, str) for n in log["node"].tolist()), bool, len(log))
    mine &= ~kind.isin(WORLD_KINDS).to_numpy(dtype=bool)
    if local_kinds is not None:
        mine &= kind.isin(local_kinds | MESSAGE_KINDS.keys()).to_numpy(dtype=bool)
    return np.flatnonzero(mine)


def happened_before(
    source: Any, *, processes: Iterable[str] = (), local_kinds: Iterable[str] | None = None
) -> CausalRun:
    """Read a world's event log (a :class:`World` or its ``events()``) as a run.

    ``processes``: nodes to list first, in this order (e.g. ``net.nodes``; the others follow in
    order of their first event). ``local_kinds``: the kinds of rows that are local events
    (``None``: every kind logged with a node except the message kinds and
    :data:`WORLD_KINDS`). A send whose deliver is missing (a
    lost message) is a send never received.
    """
    log = _log_frame(source)
    if local_kinds is not None:
        if isinstance(local_kinds, str) or not isinstance(local_kinds, Iterable):
            raise TypeError(f"local_kinds={local_kinds!r} must be a list of kinds")
        local_kinds = frozenset(local_kinds)
    if isinstance(processes, str) or not isinstance(processes, Iterable):
        raise TypeError(f"processes={processes!r} must be a list of node names")
    steps: dict[str, list[Step]] = {}
    for p in processes:
        if not isinstance(p, str):
            raise TypeError(f"processes: {p!r} must be a node name (str)")
        steps[p] = []
    keep = _event_rows(log, local_kinds)
    rows = keep.tolist()
    kinds = log["kind"].to_numpy(dtype=object)[keep].tolist()
    nodes = log["node"].to_numpy(dtype=object)[keep].tolist()
    mids = log["msg_id"].to_numpy(dtype=object)[keep].tolist()
    ids: list[EventId] = []
    locals_: dict[str, Step] = {}  # steps are immutable: one per local kind is enough
    for i, kind, node, mid in zip(rows, kinds, nodes, mids):
        if kind in MESSAGE_KINDS:
            if not isinstance(mid, (int, np.integer)):
                raise ValueError(f"row {log.index[i]}: a {kind} record needs a msg_id, not {mid!r}")
            step = Step(MESSAGE_KINDS[kind], int(mid))
        else:
            step = locals_.get(kind) or locals_.setdefault(kind, Step("local", None, str(kind)))
        own = steps.get(node)
        if own is None:
            own = steps[node] = []
        ids.append((node, len(own)))
        own.append(step)
    if not rows:
        raise ValueError("the log has no event of a node: nothing to order")
    events = log.iloc[keep]
    try:  # a log in time order is an order of happened-before: Run checks it as it uses it
        run = Run(steps, order=ids)
    except ValueError:  # a frame sorted otherwise (by node...): the run computes an order
        run = Run(steps)
    return CausalRun(events, run, ids)


def vector_timestamps(
    source: Any, *, processes: Iterable[str] = (), local_kinds: Iterable[str] | None = None
) -> pd.DataFrame:
    """The log's events with their ``lamport`` and ``vector`` timestamps (see
    :func:`happened_before`; the vector's entries are the nodes in order of first event).

    >>> from distlab.sim import World, Network
    >>> world = World(); net = Network(world); _ = net.add_node("a"); _ = net.add_node("b")
    >>> _ = net.send("a", "b"); world.run()
    >>> vector_timestamps(world)[["kind", "node", "lamport", "vector"]].values.tolist()
    [['send', 'a', 1, (1, 0)], ['deliver', 'b', 2, (1, 1)]]
    """
    return happened_before(source, processes=processes, local_kinds=local_kinds).frame()
