"""Physical clocks in the simulated world: each node's own clock, its drift and its sync.

A world made with ``World(seed, clocks={node: NodeClock(...)})`` gives each named node a clock
that reads ``offset_s`` at true time 0 and gains ``drift`` seconds per second (1e-6 is 1 ppm;
quartz: a few ppm). With ``sync_interval_s``, an NTP-like daemon corrects it every
``sync_interval_s`` seconds (the first time at a random phase within the first interval) to the
true time plus an error drawn uniformly from ``[-sync_error_s, sync_error_s]``: at once
(``correction="step"``, which can move the clock backwards) or gradually (``"slew"``: the clock
runs faster or slower by ``slew_rate`` until the error is gone, never backwards).
:class:`SyncDaemonDied` is the fault that stops the corrections of one node from a time on.

``world.clock_of(node).read(t)`` is what the node's clock shows at true time ``t``, and the event
log gains a ``clock`` column next to ``time``: each event's reading on its node's clock (``NaN``
for events of nodes without a clock). Worlds without clocks log exactly what they did before.

>>> from distlab.sim import World
>>> world = World(seed=0, clocks={"a": NodeClock(offset_s=0.010, drift=100e-6),
...                               "b": NodeClock(offset_s=-0.002)})
>>> round(world.clock_of("a").read(10.0), 6), world.clock_of("b").read(10.0)
(10.011, 9.998)
>>> world.log("write", node="a"); world.run(until=1.0); world.log("write", node="b")
>>> world.events()[["time", "clock", "kind", "node"]].values.tolist()
[[0.0, 0.01, 'write', 'a'], [1.0, 0.998, 'write', 'b']]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from distlab._validate import check_choice, check_number, check_seed
from distlab.clocks.physical import MAX_DRIFT, check_drift
from distlab.sim.conditions import FaultEffect
from distlab.sim.distributions import MAX_SECONDS
from distlab.sim.faults import NodeFault

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from distlab.sim.network import Network

__all__ = [
    "CORRECTIONS",
    "MAX_SYNCS",
    "MIN_SYNC_INTERVAL_S",
    "NodeClock",
    "NodeClocks",
    "SimClock",
    "SyncDaemonDied",
    "clock_trace",
    "step_clock_readings",
]

#: How a sync corrects a clock: ``step`` (jump to the new time) or ``slew`` (run faster or
#: slower until it gets there).
CORRECTIONS = ("step", "slew")

#: The shortest sync interval accepted: more often than every millisecond is no NTP daemon.
MIN_SYNC_INTERVAL_S = 1e-3

#: The most syncs one clock computes (reading far ahead with a short interval asks for more).
MAX_SYNCS = 2_000_000

#: ntpd's largest slew rate: 500 ppm (0.5 ms per second).
DEFAULT_SLEW_RATE = 500e-6

_NEVER = math.inf


@dataclass(frozen=True)
class NodeClock:
    """How one node's clock behaves (see the module's docstring).

    Args:
        offset_s: how far ahead the clock is at true time 0 (seconds; negative: behind).
        drift: seconds gained per second, within [-1e-3, 1e-3] (1e-6 is 1 ppm).
        sync_interval_s: seconds between corrections, at least 1 ms (``None``: never corrected).
        sync_error_s: each correction sets the clock to the true time plus an error uniform on
            ``[-sync_error_s, sync_error_s]``.
        correction: ``"step"`` or ``"slew"``.
        slew_rate: how much faster or slower a slewing clock runs, in (0, 1e-3] seconds per
            second (ntpd: 500e-6).

    >>> NodeClock(drift=2e-3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: drift=0.002 is beyond physical sense: a clock drift rate must be within ...
    >>> NodeClock(sync_interval_s=0)
    Traceback (most recent call last):
    ValueError: sync_interval_s=0 must be at least 0.001 s (None: never synchronised)
    """

    offset_s: float = 0.0
    drift: float = 0.0
    sync_interval_s: float | None = None
    sync_error_s: float = 0.0
    correction: str = "step"
    slew_rate: float = DEFAULT_SLEW_RATE

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "offset_s", check_number("offset_s", self.offset_s, -MAX_SECONDS, MAX_SECONDS))
        set_(self, "drift", check_drift("drift", self.drift))
        if self.sync_interval_s is not None:
            interval = check_number("sync_interval_s", self.sync_interval_s, None, MAX_SECONDS)
            if interval < MIN_SYNC_INTERVAL_S:
                raise ValueError(
                    f"sync_interval_s={interval:g} must be at least {MIN_SYNC_INTERVAL_S:g} s "
                    "(None: never synchronised)"
                )
            set_(self, "sync_interval_s", interval)
        set_(self, "sync_error_s", check_number("sync_error_s", self.sync_error_s, 0.0, 3600.0))
        check_choice("correction", self.correction, CORRECTIONS)
        set_(
            self,
            "slew_rate",
            check_number("slew_rate", self.slew_rate, 0.0, MAX_DRIFT, min_inclusive=False),
        )


class SimClock:
    """One node's clock in a world: piecewise linear in true time, computed lazily.

    Made by :class:`NodeClocks`; ``read`` and ``read_many`` are pure functions of true time
    (given the sync faults known so far), whatever the order in which they are asked.

    >>> clock = NodeClocks({"a": NodeClock(drift=1e-4, sync_interval_s=10)}, seed=0).clock("a")
    >>> clock.read(5.0) < 5.001, abs(clock.error(19.0)) < 1e-3 + 1e-6
    (True, True)
    """

    def __init__(self, node: str, spec: NodeClock, rng: np.random.Generator | None) -> None:
        self.node = node
        self.spec = spec
        self._rng = rng
        interval = spec.sync_interval_s
        self._phase = _NEVER if interval is None else _draw_phase(rng, interval)
        self._errors: list[float] = []
        self._stops: list[list[float]] = []  # [from, until) with the daemon dead
        self._reset()

    def __repr__(self) -> str:
        return f"SimClock({self.node!r}, {self.spec!r})"

    def _reset(self) -> None:
        self._starts = [0.0]
        self._bases = [self.spec.offset_s]
        self._rates = [1.0 + self.spec.drift]
        self._next = 0  # index of the next sync to compute
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def sync_times(self, until: float) -> list[float]:
        """The true times of the corrections up to ``until`` (skipping those while the
        daemon was dead)."""
        until = check_number("until", until)
        return [s for s in self._schedule(until) if not self._stopped(s)]

    def _schedule(self, until: float) -> list[float]:
        interval = self.spec.sync_interval_s
        if interval is None:
            return []
        count = _sync_count(self._phase, interval, until, f"node {self.node!r}")
        return [self._phase + k * interval for k in range(count)]

    def _stopped(self, at: float) -> bool:
        return any(start <= at < end for start, end in self._stops)

    def _error(self, k: int) -> float:
        while len(self._errors) <= k:  # drawn in blocks: the same values, fewer calls
            self._errors.extend(_draw_error_block(self._rng, self.spec.sync_error_s).tolist())
        return self._errors[k]

    def _extend(self, until: float) -> None:
        interval = self.spec.sync_interval_s
        if interval is None:
            return
        self._schedule(until)  # refuses unbounded work before doing any
        while True:
            s = self._phase + self._next * interval
            if s > until:
                return
            error = self._error(self._next)
            self._next += 1
            if not self._stopped(s):
                self._correct(s, s + error)

    def _segment(self, t: float) -> int:
        return bisect.bisect_right(self._starts, t) - 1 if t >= 0 else 0

    def _at(self, t: float) -> float:
        i = self._segment(t)
        return self._bases[i] + (t - self._starts[i]) * self._rates[i]

    def _append(self, start: float, base: float, rate: float) -> None:
        while self._starts and self._starts[-1] >= start:
            self._starts.pop(), self._bases.pop(), self._rates.pop()
        self._starts.append(start)
        self._bases.append(base)
        self._rates.append(rate)
        self._arrays = None

    def _correct(self, at: float, target: float) -> None:
        rate = 1.0 + self.spec.drift
        if self.spec.correction == "step":
            self._append(at, target, rate)
            return
        reading = self._at(at)
        gap = target - reading
        if gap == 0.0:
            return
        slew = math.copysign(self.spec.slew_rate, gap)
        duration = abs(gap) / self.spec.slew_rate
        self._append(at, reading, rate + slew)
        self._append(at + duration, target + duration * rate, rate)

    def read(self, t: float) -> float:
        """What the clock shows at true time ``t`` (seconds)."""
        t = check_number("t", t, None, MAX_SECONDS)
        self._extend(t)
        return self._at(t)

    def read_many(self, times: Iterable[float]) -> np.ndarray:
        """What the clock shows at each of ``times`` (an array)."""
        ts = np.asarray(times, dtype=float)
        if ts.size == 0:
            return ts.copy()
        if not np.all(np.isfinite(ts)):
            raise ValueError("times must be finite numbers (seconds)")
        self._extend(float(ts.max()))
        if self._arrays is None:
            self._arrays = (
                np.asarray(self._starts),
                np.asarray(self._bases),
                np.asarray(self._rates),
            )
        starts, bases, rates = self._arrays
        i = np.maximum(np.searchsorted(starts, ts, side="right") - 1, 0)
        return bases[i] + (ts - starts[i]) * rates[i]

    def error(self, t: float) -> float:
        """How far the clock is off at true time ``t`` (positive: ahead)."""
        return self.read(t) - float(t)

    def stop_sync(self, at: float) -> None:
        """From true time ``at`` on, no correction (the sync daemon died)."""
        at = check_number("at", at, 0.0, MAX_SECONDS)
        self._stops.append([at, _NEVER])
        self._reset()

    def resume_sync(self, at: float) -> None:
        """From true time ``at`` on, corrections again (ends the latest :meth:`stop_sync`)."""
        at = check_number("at", at, 0.0, MAX_SECONDS)
        open_ = [s for s in self._stops if s[1] == _NEVER]
        if not open_:
            raise ValueError(f"the sync daemon of {self.node!r} is not stopped")
        open_[-1][1] = at
        self._reset()


def _clock_generator(seed: int, position: int) -> np.random.Generator:
    """The generator of the clock at ``position`` in a world's mapping (its phase, its errors)."""
    return np.random.default_rng([seed, 0xC10C, position])


# A synchronised clock's draws, in this order from its own generator: its phase, then its sync
# errors in blocks. SimClock draws them lazily, step_clock_readings all at once; both call these.
_ERROR_BLOCK = 64


def _draw_phase(rng: np.random.Generator, interval: float) -> float:
    """The true time of a clock's first sync, uniform in ``[0, interval)``."""
    return float(rng.uniform(0.0, interval))


def _draw_error_block(rng: np.random.Generator, bound: float) -> np.ndarray:
    """The next :data:`_ERROR_BLOCK` sync errors, uniform in ``[-bound, bound]`` (none drawn
    when ``bound`` is 0)."""
    return rng.uniform(-bound, bound, _ERROR_BLOCK) if bound else np.zeros(_ERROR_BLOCK)


def _sync_count(phase: float, interval: float, until: float, who: str) -> int:
    """How many syncs fall in ``[0, until]``; a ValueError naming ``who`` past :data:`MAX_SYNCS`."""
    if until < phase:
        return 0
    count = math.floor((until - phase) / interval) + 1
    if count > MAX_SYNCS:
        raise ValueError(
            f"reading {who} at t={until:g} s needs {count:,} syncs of "
            f"sync_interval_s={interval:g}; at most {MAX_SYNCS:,} are computed"
        )
    return count


def _step_draws(i, rng, interval, bound, until):
    """The phase of clock ``i`` and its sync errors up to true time ``until``, drawn exactly as
    :class:`SimClock` draws them."""
    phase = _draw_phase(rng, interval)
    count = _sync_count(phase, interval, until, f"clock {i}")
    blocks = [_draw_error_block(rng, bound) for _ in range(-(-(count + 1) // _ERROR_BLOCK))]
    return phase, np.concatenate(blocks)


def _float_array(name: str, values: Any) -> np.ndarray:
    """``values`` as a float array; rows of different lengths are a ValueError, anything else
    that is not numbers a TypeError, each naming ``name`` (numpy raises one ValueError for both).
    """
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        lengths = _row_lengths(values)
        if lengths is not None and len(set(lengths)) > 1:
            raise ValueError(
                f"{name} has rows of lengths {lengths}: give every row the same number of values"
            ) from None
        raise TypeError(f"{name}={values!r} must be numbers (seconds, drifts or times)") from None


def _row_lengths(values: Any) -> list[int] | None:
    """The length of each row of ``values`` if it is a list of sized rows (not text), else None."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        return None
    if not all(isinstance(row, Sized) and not isinstance(row, (str, bytes)) for row in values):
        return None
    return [len(row) for row in values]


def step_clock_readings(
    offsets_s: Any,
    drifts: Any,
    times: Any,
    *,
    sync_interval_s: float | None = None,
    sync_error_s: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """What many step-corrected clocks read, all at once: row ``i`` is clock ``i`` (offset
    ``offsets_s[i]``, drift ``drifts[i]``) read at each of ``times[i]`` (a 2-D array, one row per
    clock). The same numbers, to the last bit, as the ``i``-th clock of
    ``NodeClocks({node_i: NodeClock(offsets_s[i], drifts[i], sync_interval_s, sync_error_s)},
    seed=seed)`` (a world's clocks) gives from ``read_many(times[i])``: it draws the same phase
    and sync errors from the same generator, without building a clock object per node.

    >>> readings = step_clock_readings([0.01, -0.02], [1e-4, 0.0], [[0.0, 10.0], [0.0, 10.0]],
    ...                                sync_interval_s=4.0, sync_error_s=0.001, seed=3)
    >>> clocks = NodeClocks({"a": NodeClock(0.01, 1e-4, 4.0, 0.001),
    ...                      "b": NodeClock(-0.02, 0.0, 4.0, 0.001)}, seed=3)
    >>> bool((readings[1] == clocks.clock("b").read_many([0.0, 10.0])).all())
    True
    >>> step_clock_readings([0.0], [0.0], [1.0])
    Traceback (most recent call last):
    ValueError: times must be a 2-D array with one row per clock (1 clocks), not of shape (1,)
    >>> step_clock_readings(["a"], [0.0], [[1.0]])
    Traceback (most recent call last):
    TypeError: offsets_s=['a'] must be numbers (seconds, drifts or times)
    >>> step_clock_readings([0.0, 0.0], [0.0, 0.0], [[1.0, 2.0], [1.0]])
    Traceback (most recent call last):
    ValueError: times has rows of lengths [2, 1]: give every row the same number of values
    """
    offsets = _float_array("offsets_s", offsets_s)
    rates = 1.0 + _float_array("drifts", drifts)
    ts = _float_array("times", times)
    if offsets.ndim != 1 or rates.shape != offsets.shape:
        raise ValueError("offsets_s and drifts must be 1-D arrays of the same length")
    if ts.ndim != 2 or len(ts) != len(offsets):
        raise ValueError(
            f"times must be a 2-D array with one row per clock ({len(offsets)} clocks), "
            f"not of shape {ts.shape}"
        )
    if not (np.all(np.isfinite(offsets)) and np.all(np.abs(offsets) <= MAX_SECONDS)):
        raise ValueError(f"offsets_s must be finite numbers of seconds within ±{MAX_SECONDS:g}")
    if len(offsets):
        check_drift("drifts", float(np.max(np.abs(rates - 1.0))))
    if not np.all(np.isfinite(ts)):
        raise ValueError("times must be finite numbers (seconds)")
    NodeClock(sync_interval_s=sync_interval_s, sync_error_s=sync_error_s)  # validates both
    seed = check_seed(seed)
    free = offsets[:, None] + (ts - 0.0) * rates[:, None]  # before the first sync (or none)
    if sync_interval_s is None or ts.size == 0:
        return free
    interval, bound = float(sync_interval_s), float(sync_error_s)
    draws = [
        _step_draws(i, _clock_generator(seed, i), interval, bound, float(row.max()))
        for i, row in enumerate(ts)
    ]
    phases = np.array([phase for phase, _ in draws])[:, None]
    errors = np.zeros((len(draws), max(len(e) for _, e in draws)))
    for i, (_, e) in enumerate(draws):
        errors[i, : len(e)] = e
    # k: the last sync at or before t (-1: none yet), as SimClock's bisection finds it
    k = np.floor((ts - phases) / interval)
    k += phases + (k + 1) * interval <= ts
    k -= (k >= 0) & (phases + k * interval > ts)
    k = np.maximum(k, -1).astype(np.int64)
    starts = phases + np.maximum(k, 0) * interval
    bases = starts + np.take_along_axis(errors, np.maximum(k, 0), axis=1)
    synced = bases + (ts - starts) * rates[:, None]
    return np.where(k >= 0, synced, free)


class NodeClocks:
    """The clocks of a world's nodes: ``{node: NodeClock}``, each node drawing its sync phase
    and errors from its own generator, derived from ``seed`` and its position in the mapping.

    >>> clocks = NodeClocks({"a": NodeClock(offset_s=1.0)}, seed=0)
    >>> clocks.nodes, clocks.clock("a").read(2.0)
    (('a',), 3.0)
    >>> clocks.clock("z")
    Traceback (most recent call last):
    ValueError: node='z' has no clock: the clocks are those of 'a'
    """

    def __init__(self, specs: Mapping[str, NodeClock], *, seed: int = 0) -> None:
        if not isinstance(specs, Mapping):
            raise TypeError(f"clocks={specs!r} must be a mapping of node name -> NodeClock")
        seed = check_seed(seed)
        self._clocks: dict[str, SimClock] = {}
        for i, (node, spec) in enumerate(specs.items()):
            if not isinstance(node, str) or not node:
                raise TypeError(f"clocks key {node!r} must be a node name (non-empty str)")
            if not isinstance(spec, NodeClock):
                raise TypeError(f"clocks[{node!r}]={spec!r} must be a NodeClock")
            # only a synchronised clock draws (its phase and errors): others need no generator
            rng = None if spec.sync_interval_s is None else _clock_generator(seed, i)
            self._clocks[node] = SimClock(node, spec, rng)

    def __repr__(self) -> str:
        return f"NodeClocks({list(self._clocks)!r})"

    def __contains__(self, node: object) -> bool:
        return node in self._clocks

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes that have a clock, in the order given."""
        return tuple(self._clocks)

    def clock(self, node: str) -> SimClock:
        """The clock of ``node`` (``ValueError`` naming the nodes that have one)."""
        if not isinstance(node, str):
            raise TypeError(f"node={node!r} must be a node name (str)")
        if node not in self._clocks:
            names = ", ".join(repr(n) for n in self._clocks) or "no node"
            raise ValueError(f"node={node!r} has no clock: the clocks are those of {names}")
        return self._clocks[node]

    def readings(self, times: Any, nodes: Any) -> np.ndarray:
        """Each event's reading: ``times[i]`` on the clock of ``nodes[i]`` (``NaN`` without one)."""
        ts = np.asarray(times, dtype=float)
        names = np.asarray(list(nodes), dtype=object)
        out = np.full(ts.shape, np.nan)
        for node, clock in self._clocks.items():
            mine = names == node
            if mine.any():
                out[mine] = clock.read_many(ts[mine])
        return out


def clock_trace(clocks: NodeClocks, times: Iterable[float]) -> pd.DataFrame:
    """A table of every clock at ``times``: ``time, node, clock, error`` (error = clock - time),
    for drawing real time against each node's clock.

    >>> clocks = NodeClocks({"a": NodeClock(offset_s=0.5)}, seed=0)
    >>> clock_trace(clocks, [0.0, 1.0])["error"].tolist()
    [0.5, 0.5]
    """
    import pandas as pd

    if not isinstance(clocks, NodeClocks):
        raise TypeError(f"clocks={clocks!r} must be NodeClocks (world.clocks)")
    ts = np.asarray(list(times), dtype=float)
    if ts.ndim != 1 or not np.all(np.isfinite(ts)):
        raise ValueError("times must be a list of finite numbers (seconds)")
    parts = []
    for node in clocks.nodes:
        reading = clocks.clock(node).read_many(ts)
        parts.append(
            pd.DataFrame({"time": ts, "node": node, "clock": reading, "error": reading - ts})
        )
    return pd.concat(parts, ignore_index=True)


class SyncDaemonDied(NodeFault):
    """The fault "the sync daemon of ``node`` died" at ``at``: its clock is no longer corrected
    (from then on it drifts freely); after ``duration`` (``None``: never) the daemon is back.

    The world must have a clock for ``node``. The network is not affected.

    >>> from distlab.sim import World, Network, FaultSchedule
    >>> world = World(seed=0, clocks={"a": NodeClock(drift=-1e-4, sync_interval_s=1)})
    >>> net = Network(world); _ = net.add_node("a")
    >>> FaultSchedule([SyncDaemonDied(at=10, node="a")]).apply(net)
    >>> world.run(until=100)
    >>> abs(world.clock_of("a").error(10.0)) < 1e-4, round(world.clock_of("a").error(100.0), 3)
    (True, -0.009)
    """

    kind = "sync_daemon_died"
    state = "down"

    def __init__(self, at: float, node: str, duration: float | None = None) -> None:
        super().__init__(at, duration, node)

    @property
    def label(self) -> str:
        return f"sync daemon of {self._node} died"

    def check(self, net: Network) -> None:
        super().check(net)
        clocks = net.world.clocks
        if clocks is None:
            raise ValueError(
                f"node={self._node!r}: the world has no clocks (World(seed, clocks={{...}}))"
            )
        clocks.clock(self._node)

    def effect(self) -> FaultEffect:
        return FaultEffect()

    def _start(self, net: Network) -> Any:
        net.world.clock_of(self._node).stop_sync(net.env.now)

    def _end(self, net: Network, saved: Any) -> None:
        net.world.clock_of(self._node).resume_sync(net.env.now)
