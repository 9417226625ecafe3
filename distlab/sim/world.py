"""The simulated world: one clock, one seeded random generator and one event log.

Everything that happens in a simulation (a message sent, a node crashed, a call that timed out) is
appended to the world's event log, which :meth:`World.events` returns as a tidy pandas DataFrame.

>>> world = World(seed=1)
>>> world.log("hello", node="a", detail="first record")
>>> world.run(until=2.0)
>>> world.now
2.0
>>> list(world.events().columns[:8])
['time', 'kind', 'node', 'src', 'dst', 'msg_id', 'reason', 'detail']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from distlab._validate import check_bool, check_number, check_seed

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from distlab.sim.clocks import NodeClocks, SimClock

__all__ = ["World", "EVENT_COLUMNS", "RECORD_WIDTH"]

#: The columns every event log starts with, in this order.
EVENT_COLUMNS: tuple[str, ...] = (
    "time",
    "kind",
    "node",
    "src",
    "dst",
    "msg_id",
    "reason",
    "detail",
)
#: Cells per record in :attr:`World.cells`: the event columns, then the extra fields.
RECORD_WIDTH: int = len(EVENT_COLUMNS) + 1
_FIXED = frozenset(EVENT_COLUMNS[2:])
_INT_COLUMNS = ("msg_id",)


class World:
    """A simulated world: a SimPy clock, a seeded numpy random generator and an event log.

    Parameters
    ----------
    seed:
        Non-negative ``int``; the only source of randomness is ``numpy.random.default_rng(seed)``.
    log_messages:
        Record every ``send`` / ``deliver`` / ``drop`` in the event log (default ``True``). Turn it
        off for long sweeps that only need summary numbers; other kinds are always logged.
    clocks:
        ``{node: NodeClock(...)}``: give these nodes their own physical clock
        (:mod:`distlab.sim.clocks`; read with :meth:`clock_of`); the event log then has a
        ``clock`` column after ``time``. ``None`` (default): no node clocks, no such column.

    Example
    -------
    >>> world = World(seed=7)
    >>> def ticker(env):
    ...     while True:
    ...         yield env.timeout(1.0)
    ...         world.log("tick")
    >>> _ = world.env.process(ticker(world.env))
    >>> world.run(until=3.5)
    >>> world.events()["time"].tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(
        self, seed: int = 0, *, log_messages: bool = True, clocks: Mapping[str, Any] | None = None
    ) -> None:
        self.seed: int = check_seed(seed)
        self._log_messages = check_bool("log_messages", log_messages)
        #: The nodes' physical clocks (:class:`~distlab.sim.clocks.NodeClocks`), or ``None``.
        self.clocks: NodeClocks | None = None
        if clocks is not None:
            from distlab.sim.clocks import NodeClocks  # only worlds with clocks load it

            self.clocks = NodeClocks(clocks, seed=self.seed)
        self.env: simpy.Environment = simpy.Environment()
        self.rng: np.random.Generator = np.random.default_rng(self.seed)
        #: The raw event log, flat: each record is :data:`RECORD_WIDTH` consecutive cells, the 8
        #: :data:`EVENT_COLUMNS` then a dict of extra fields (or ``None``). Append-only; it
        #: becomes a DataFrame only in :meth:`events` (:attr:`records` reads it as tuples).
        #: :meth:`log` is the way to add to it; the network's hot path extends it directly.
        #: Flat rather than a list of tuples because a kept tuple per record is an object the
        #: garbage collector must count and pass over (in bench/bench_network.py's 200,000
        #: messages: 638 collections, about a tenth of the run, against 5 for bare SimPy); a
        #: temporary tuple given to ``cells.extend`` leaves nothing behind.
        self.cells: list[Any] = []

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, now={self.now:g}, records={self.record_count})"

    @property
    def record_count(self) -> int:
        """How many records the event log holds.

        >>> world = World(); world.log("hello"); world.record_count
        1
        """
        return len(self.cells) // RECORD_WIDTH

    @property
    def records(self) -> tuple[tuple[Any, ...], ...]:
        """The event log's records as tuples, in order: the 8 :data:`EVENT_COLUMNS`, then the
        dict of extra fields or ``None``. A read-only copy (a tuple, so that code appending to it,
        as to the list it once was, fails loudly): :meth:`log` adds to the log.

        >>> world = World(); world.log("hello", node="a", request_id=1)
        >>> world.records
        ((0, 'hello', 'a', None, None, None, None, None, {'request_id': 1}),)
        """
        cells = self.cells
        return tuple(tuple(cells[i : i + RECORD_WIDTH]) for i in range(0, len(cells), RECORD_WIDTH))

    @property
    def log_messages(self) -> bool:
        """Whether ``send`` / ``deliver`` / ``drop`` records are kept (set with the world)."""
        return self._log_messages

    def clock_of(self, node: str) -> SimClock:
        """The physical clock of ``node``: ``clock_of(node).read(t)`` is its reading at true
        time ``t`` (``ValueError`` for a world without clocks or a node without one).

        >>> from distlab.sim.clocks import NodeClock
        >>> World(clocks={"a": NodeClock(offset_s=0.25)}).clock_of("a").read(1.0)
        1.25
        """
        if self.clocks is None:
            raise ValueError(
                f"node={node!r}: this world has no clocks; give them with "
                "World(seed, clocks={node: NodeClock(...)})"
            )
        return self.clocks.clock(node)

    @property
    def now(self) -> float:
        """The current simulated time in seconds."""
        return float(self.env.now)

    def run(self, until: float | simpy.Event | None = None) -> None:
        """Run the simulation until time ``until`` (seconds), until an event fires, or until idle.

        With ``until=None`` the run goes on until no event is left (the world is quiescent).
        ``until`` equal to the current time does nothing.

        >>> world = World()
        >>> world.run(until=1.5); world.now
        1.5
        """
        if until is None or isinstance(until, simpy.Event):
            self.env.run(until)
            return
        at = check_number("until", until, minimum=self.env.now, allow_inf=False)
        if at > self.env.now:
            self.env.run(at)

    def log(self, kind: str, node: str | None = None, **fields: Any) -> None:
        """Append one record to the event log, stamped with the current time.

        ``src``, ``dst``, ``msg_id``, ``reason`` and ``detail`` fill the fixed columns; any other
        keyword becomes an extra column (in the order first seen).

        >>> world = World()
        >>> world.log("call_end", node="client", request_id=3, outcome="ok")
        >>> world.events().loc[0, "outcome"]
        'ok'
        """
        if not isinstance(kind, str) or not kind:
            raise TypeError(f"kind={kind!r} must be a non-empty string")
        extra = None
        if fields.keys() - _FIXED:
            extra = {k: v for k, v in fields.items() if k not in _FIXED}
            if "clock" in extra and self.clocks is not None:
                raise ValueError(
                    "clock=...: in a world with clocks the log's clock column is each event's "
                    "reading on its node's clock; name the field otherwise"
                )
        self.cells.extend(
            (
                self.env.now,
                kind,
                node,
                fields.get("src"),
                fields.get("dst"),
                fields.get("msg_id"),
                fields.get("reason"),
                fields.get("detail"),
                extra,
            )
        )

    def events(self) -> pd.DataFrame:
        """The event log as a DataFrame, one row per record, in the order recorded (time order).

        Columns start with ``time, kind, node, src, dst, msg_id, reason, detail``; fields given to
        :meth:`log` beyond those (``request_id``, ``outcome``, ``latency``, ``service``...) follow
        in the order first seen. Missing values are ``None``/``NaN``/``<NA>``; whole-number columns
        such as ``msg_id`` and ``request_id`` use pandas' nullable ``Int64``.

        >>> World().events().empty
        True
        """
        import pandas as pd

        cells = self.cells
        n = len(cells) // RECORD_WIDTH
        cols = [cells[i::RECORD_WIDTH] for i in range(RECORD_WIDTH)]
        data: dict[str, Any] = {}
        data["time"] = np.asarray(cols[0], dtype=float)
        if self.clocks is not None:
            data["clock"] = self.clocks.readings(data["time"], cols[2])
        for name, values in zip(EVENT_COLUMNS[1:], cols[1:8]):
            data[name] = _column(values, force_int=name in _INT_COLUMNS)
        extras = cols[8]
        names: dict[str, None] = {}
        for extra in extras:
            if extra is not None:
                for key in extra:
                    names.setdefault(key, None)
        for key in names:
            values = [None if e is None else e.get(key) for e in extras]
            data[key] = _column(values, force_int=False)
        return pd.DataFrame(data, index=pd.RangeIndex(n))


def _column(values: Any, *, force_int: bool) -> Any:
    """One column: nullable ``Int64`` for whole numbers, otherwise whatever pandas infers."""
    import pandas as pd

    vals = list(values)
    present = [v for v in vals if v is not None]
    if (force_int and not present) or (
        present
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present)
    ):
        return pd.array(vals, dtype="Int64")
    if not present:
        return pd.Series(vals, dtype=object)
    return pd.Series(vals)
