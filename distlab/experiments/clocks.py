"""Time and order: what "no global clock" costs, measured in the simulated world (07).

- :func:`lamport_concurrency`: Lamport clocks order concurrent events too; vector clocks tell
  them apart (a pair found in a simulated run).
- :func:`lww_skew`: last-writer-wins under clock skew: how often a causally later write loses,
  against the skew and the gap between the writes, beside the closed form.
- :func:`lww_daemon_died`: a node whose sync daemon died: its writes are silently discarded.
- :func:`hlc_drift`, :func:`hlc_bounds`: the hybrid logical clock stays within ``eps`` of
  physical time, the naive hybrid clock drifts away; the bounds over many random runs.
- :func:`commit_wait`: TrueTime's commit wait against the uncertainty, and the
  external-consistency violations without it.
- :func:`pruned_clocks`: Dynamo's vector clocks pruned to 10 entries report ordered versions
  as concurrent once there are more writers than entries.

Every node's physical clock is a :class:`distlab.sim.clocks.NodeClock` of a
``World(seed, clocks=...)``; the clocks themselves are the cores of :mod:`distlab.clocks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choice, check_choices, check_int, check_number, check_seed
from distlab.clocks.external import Transaction, check_external_consistency
from distlab.clocks.hlc import HybridLogicalClock, NaiveHybridClock
from distlab.clocks.lww import lww_loss_probability
from distlab.clocks.physical import check_drift
from distlab.clocks.pruning import truncation_anomalies
from distlab.clocks.truetime import TrueTime
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import check_work, poisson_arrivals
from distlab.sim.causality import happened_before
from distlab.sim.clocks import (
    CORRECTIONS,
    NodeClock,
    SyncDaemonDied,
    clock_trace,
    step_clock_readings,
)
from distlab.sim.distributions import Exponential
from distlab.sim.faults import FaultSchedule
from distlab.sim.network import Network
from distlab.sim.world import World

__all__ = [
    "CommitWaitResult",
    "HLCBoundsResult",
    "HLCDriftResult",
    "LamportResult",
    "LwwDaemonResult",
    "LwwSkewResult",
    "PrunedClocksResult",
    "commit_wait",
    "effective_spread",
    "hlc_bounds",
    "hlc_drift",
    "lamport_concurrency",
    "lww_daemon_died",
    "lww_skew",
    "pruned_clocks",
]

#: The most events (messages, writes, transactions) one experiment simulates.
MAX_EVENTS = 2_000_000


def _names(count: int) -> list[str]:
    return [chr(ord("a") + i) if count <= 26 else f"n{i}" for i in range(count)]


def _floats(name: str, values: Any, low: float, high: float) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name}={values!r} must be a list of numbers")
    out = tuple(check_number(f"{name}[{i}]", v, low, high) for i, v in enumerate(values))
    if not out:
        raise ValueError(f"{name}=() must hold at least one value")
    return out


# -- 1. Lamport orders concurrent events -----------------------------------------------------


@dataclass(frozen=True)
class LamportResult(Result):
    """What :func:`lamport_concurrency` returns.

    Attributes:
        frame: one row per event of the run (the world's log rows that are events of a node):
            ``time, clock, kind, node, src, dst, msg_id``, ``lamport``, ``vector`` (a tuple in
            the order of ``processes``), ``hlc_l, hlc_c`` (hybrid logical clock, ``l`` in
            microseconds) and ``event`` (``node:index``).
        summary: one row: ``events, pairs, ordered_pairs, concurrent_pairs``,
            ``concurrent_ties`` (concurrent pairs with equal Lamport times),
            ``lamport_misleads`` (concurrent pairs to which Lamport times give an order, that
            is distinct times) and ``misleads_against_real_time`` (those where the Lamport
            order is the reverse of the real-time order).
        pair: two row labels of ``frame``: concurrent events with ``lamport`` of the first
            smaller, though the first happened later in real time (``None`` if no such pair).
        processes: the nodes, in vector order.
        trace: ``clock_trace`` of the nodes' clocks (``time, node, clock, error``).
    """

    pair: tuple[int, int] | None
    processes: tuple[str, ...]
    trace: pd.DataFrame


def _chatter(world: World, net: Network, nodes: list[str], *, rate: float, until: float):
    """Each node acts at Poisson times: a local write, or a send to another node."""
    rng = world.rng
    for node in nodes:
        times = 1.0 + poisson_arrivals(rng, rate, until)
        kinds = rng.random(len(times)) < 0.5
        targets = rng.integers(0, len(nodes) - 1, len(times))
        world.env.process(_acts(world, net, node, nodes, times, kinds, targets))


def _acts(world, net, node, nodes, times, sends, targets):
    others = [n for n in nodes if n != node]
    for t, is_send, target in zip(times, sends, targets):
        yield world.env.timeout(t - world.env.now)
        if is_send:
            net.send(node, others[target])
        else:
            world.log("write", node=node)


def _misleading_pair(frame: pd.DataFrame) -> tuple[tuple[int, int] | None, int, int, int]:
    """(a misleading pair, concurrent pairs, those Lamport orders, those against real time)."""
    vectors = np.asarray(frame["vector"].tolist())
    le = (vectors[:, None, :] <= vectors[None, :, :]).all(axis=2)
    upper = np.triu(np.ones(le.shape, dtype=bool), k=1)
    concurrent = ~le & ~le.T & upper
    lam = frame["lamport"].to_numpy()
    time = frame["time"].to_numpy()
    ordered = concurrent & (lam[:, None] != lam[None, :])
    # the event with the smaller Lamport time happened later in real time
    later = np.where(lam[:, None] < lam[None, :], time[:, None] > time[None, :],
                     time[None, :] > time[:, None])  # fmt: skip
    against = ordered & later
    pair = None
    if against.any():
        i, j = (int(k) for k in np.argwhere(against)[0])
        pair = (i, j) if lam[i] < lam[j] else (j, i)
    return pair, int(concurrent.sum()), int(ordered.sum()), int(against.sum())


def lamport_concurrency(
    *,
    nodes: int = 3,
    rate_per_s: float = 4.0,
    duration_s: float = 1.0,
    offset_spread_s: float = 0.05,
    latency_s: float = 0.05,
    seed: int = 0,
) -> LamportResult:
    """Nodes write locally and message each other; which pairs does Lamport order wrongly?

    Each of ``nodes`` acts ``rate_per_s`` times a second (Poisson), from true time 1 s for
    ``duration_s``: a local ``write`` or a send to another node (even odds). Clock offsets are
    uniform on ``[-offset_spread_s, offset_spread_s]``; latency is exponential with mean
    ``latency_s``. See :class:`LamportResult`.

    >>> r = lamport_concurrency(seed=0)
    >>> r.summary[["events", "concurrent_pairs", "lamport_misleads"]].values.tolist()
    [[23, 96, 83]]
    >>> for row in r.frame.loc[list(r.pair), ["event", "time", "lamport", "vector"]].values:
    ...     print(row[0], round(row[1], 3), row[2], row[3])
    b:0 1.135 1 (0, 1, 0)
    a:0 1.121 2 (1, 0, 1)
    """
    nodes = check_int("nodes", nodes, 2, 26)
    rate = check_number("rate_per_s", rate_per_s, 0.0, 1000.0, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, 60.0, min_inclusive=False)
    spread = check_number("offset_spread_s", offset_spread_s, 0.0, 0.5)
    latency_s = check_number("latency_s", latency_s, 0.0, 10.0, min_inclusive=False)
    seed = check_seed(seed)
    check_work(
        "actions", nodes * rate * duration_s, 300,
        f"nodes={nodes}, rate_per_s={rate:g}, duration_s={duration_s:g}",
    )  # fmt: skip
    names = _names(nodes)
    offsets = np.random.default_rng([seed, 1]).uniform(-spread, spread + 0.0, nodes)
    world = World(seed, clocks={n: NodeClock(offset_s=float(o)) for n, o in zip(names, offsets)})
    net = Network(world, latency=Exponential(latency_s))
    for n in names:
        net.add_node(n)
    _chatter(world, net, names, rate=rate, until=duration_s)
    world.run()
    if not world.cells:
        raise ValueError(
            f"rate_per_s={rate:g} for duration_s={duration_s:g} made no event: raise either"
        )
    causal = happened_before(world, processes=names)
    frame = causal.frame()
    hlc = causal.hlc(tick_s=1e-6)
    frame["hlc_l"] = [h.l for h in hlc]
    frame["hlc_c"] = [h.c for h in hlc]
    frame["event"] = [f"{causal.event(r)[0]}:{causal.event(r)[1]}" for r in frame.index]
    frame = frame.drop(columns=["reason", "detail"]).reset_index(drop=True)
    pair, concurrent, misleads, against = _misleading_pair(frame)
    n = len(frame)
    summary = summary_row(
        "run",
        events=n,
        pairs=n * (n - 1) // 2,
        ordered_pairs=n * (n - 1) // 2 - concurrent,
        concurrent_pairs=concurrent,
        concurrent_ties=concurrent - misleads,
        lamport_misleads=misleads,
        misleads_against_real_time=against,
    )
    params = plain_params(
        nodes=nodes, rate_per_s=rate, duration_s=duration_s, offset_spread_s=spread,
        latency_s=latency_s, seed=seed,
    )  # fmt: skip
    trace = clock_trace(world.clocks, np.linspace(1.0, max(world.now, 1.0), 50))
    return LamportResult(frame, summary, params, pair, tuple(names), trace)


# -- 2. Last-writer-wins under skew ------------------------------------------------------------


@dataclass(frozen=True)
class LwwSkewResult(Result):
    """What :func:`lww_skew` returns.

    Attributes:
        frame: one row per pair of writes: ``skew_s, gap_s, pair``, the nodes ``first_node,
            second_node``, true times ``first_time, second_time``, clock readings (the LWW
            timestamps) ``first_clock, second_clock`` and the second write's ``outcome``
            (``ok``, or ``lost_write`` when its timestamp is smaller: last-writer-wins keeps
            the earlier write).
        summary: one row per ``(skew_s, gap_s)``: ``pairs, lost_writes, loss_rate``,
            ``spread_s`` (the effective spread of the offsets when the writes are made, see
            :func:`effective_spread`) and ``closed_form``, the probability from
            :func:`distlab.clocks.lww_loss_probability` with ``delta = spread_s`` (exact for
            offsets uniform on ``[-skew_s, skew_s]`` with no drift and no sync, an
            approximation otherwise).
        curve: the closed form on a fine grid of gaps: ``skew_s, spread_s, gap_s,
            loss_probability``.
    """

    curve: pd.DataFrame


def _pair_readings(offsets, drifts, starts, gaps, seed: int, spec: dict[str, Any]):
    """Node w{2k}'s clock at ``starts[k]`` and node w{2k+1}'s at ``starts[k] + gaps`` (a row per
    pair): a world of the 2 x pairs clocks, read at once where the clocks are step-corrected."""
    pairs = len(starts)
    if spec["correction"] == "step":
        times = np.empty((2 * pairs, len(gaps)))
        times[0::2] = starts[:, None]
        times[1::2] = starts[:, None] + gaps
        readings = step_clock_readings(
            offsets, drifts, times, sync_interval_s=spec["sync_interval_s"],
            sync_error_s=spec["sync_error_s"], seed=seed,
        )  # fmt: skip
        return readings[0::2, 0], readings[1::2]
    clocks = {
        f"w{k}": NodeClock(offset_s=float(offsets[k]), drift=float(drifts[k]),
                           sync_interval_s=spec["sync_interval_s"],
                           sync_error_s=spec["sync_error_s"], correction=spec["correction"])
        for k in range(2 * pairs)
    }  # fmt: skip
    world = World(seed, clocks=clocks)
    first = np.array([world.clock_of(f"w{2 * k}").read(t) for k, t in enumerate(starts)])
    second = np.array(
        [world.clock_of(f"w{2 * k + 1}").read_many(t + gaps) for k, t in enumerate(starts)]
    )
    return first, second


def _lww_pairs(seed: int, skew: float, gaps, pairs: int, spec: dict[str, Any]) -> pd.DataFrame:
    """Pair k: node w{2k} writes at t_k, node w{2k+1} at t_k + gap, for every gap."""
    rng = np.random.default_rng([seed, 2, int(round(skew * 1e9))])
    offsets = rng.uniform(-skew, skew + 0.0, 2 * pairs)
    drift = spec["drift"]
    drifts = rng.uniform(-drift, drift + 0.0, 2 * pairs) if drift else np.zeros(2 * pairs)
    starts = spec["warmup_s"] + rng.uniform(0.0, spec["duration_s"] + 0.0, pairs)
    gaps = np.asarray(gaps, dtype=float)
    first, second = _pair_readings(offsets, drifts, starts, gaps, seed, spec)
    nodes = np.array([f"w{k}" for k in range(2 * pairs)], dtype=object)
    count = len(gaps)
    lost = second.T < first
    return pd.DataFrame(
        {
            "skew_s": skew,
            "gap_s": np.repeat(gaps, pairs),
            "pair": np.tile(np.arange(pairs), count),
            "first_node": np.tile(nodes[0::2], count),
            "second_node": np.tile(nodes[1::2], count),
            "first_time": np.tile(starts, count),
            "second_time": (starts + gaps[:, None]).ravel(),
            "first_clock": np.tile(first, count),
            "second_clock": second.T.ravel(),
            "outcome": np.where(lost, outcomes.LOST_WRITE, outcomes.OK).ravel(),
        }
    )


def effective_spread(
    skew_s: float,
    *,
    drift: float = 0.0,
    sync_interval_s: float | None = None,
    sync_error_s: float = 0.0,
    at_s: float = 0.0,
) -> float:
    """The half-width of the clock offsets that :func:`lww_skew` meets at true time ``at_s``
    (the ``delta`` of the closed form): unsynchronised, the initial spread plus what a drift of
    up to ``drift`` adds by then (``skew_s + drift * at_s``); synchronised (``at_s`` past the
    first correction), the sync error plus the drift over half an interval, the mean time since
    the last correction (``sync_error_s + drift * sync_interval_s / 2``).

    >>> effective_spread(0.02)                    # no drift, no sync: the offsets as drawn
    0.02
    >>> round(effective_spread(0.0, drift=5e-4, at_s=94.0), 4)   # cheap clocks, 94 s in
    0.047
    >>> round(effective_spread(0.02, drift=5e-5, sync_interval_s=16.0, sync_error_s=0.01,
    ...                        at_s=94.0), 4)
    0.0104
    """
    skew_s = check_number("skew_s", skew_s, 0.0)
    drift = check_drift("drift", drift, minimum=0.0)
    NodeClock(sync_interval_s=sync_interval_s, sync_error_s=sync_error_s)  # validates both
    at_s = check_number("at_s", at_s, 0.0)
    if sync_interval_s is not None and at_s >= sync_interval_s:
        return float(sync_error_s) + drift * sync_interval_s / 2
    return skew_s + drift * at_s


def _lww_summary(frame: pd.DataFrame, spreads: dict[float, float]) -> pd.DataFrame:
    lost = frame["outcome"] == outcomes.LOST_WRITE
    grouped = lost.groupby([frame["skew_s"], frame["gap_s"]], sort=True)
    summary = pd.DataFrame({"pairs": grouped.size(), "lost_writes": grouped.sum()})
    summary["lost_writes"] = summary["lost_writes"].astype(int)
    summary["loss_rate"] = summary["lost_writes"] / summary["pairs"]
    skews = summary.index.get_level_values("skew_s")
    gaps = summary.index.get_level_values("gap_s")
    summary["spread_s"] = [spreads[d] for d in skews]
    summary["closed_form"] = [
        lww_loss_probability(g, delta=spreads[d]) for d, g in zip(skews, gaps)
    ]
    return summary


def lww_skew(
    *,
    skews_s: Sequence[float] = (0.005, 0.02, 0.05),
    gaps_s: Sequence[float] = tuple(np.round(np.arange(0.0, 0.105, 0.005), 3)),
    pairs: int = 1000,
    drift: float = 0.0,
    sync_interval_s: float | None = None,
    sync_error_s: float = 0.0,
    correction: str = "step",
    duration_s: float = 60.0,
    warmup_s: float = 0.0,
    seed: int = 0,
) -> LwwSkewResult:
    """Two writes to one key on two nodes, the second ``gap_s`` after the first (it knows the
    first: it is causally later); last-writer-wins keeps the larger clock reading.

    For each skew, ``pairs`` pairs of nodes with clock offsets uniform on ``[-skew, skew]``
    (drift uniform on ``[-drift, drift]``, synchronised as a :class:`NodeClock` says) write at
    a uniform time in ``[warmup_s, warmup_s + duration_s]`` and at that time plus each gap
    (a warm-up longer than the sync interval: every clock has been corrected at least once). See
    :class:`LwwSkewResult`; the closed form takes the :func:`effective_spread` in the middle of
    the writes: exact with no drift and no sync, close otherwise.

    >>> r = lww_skew(skews_s=[0.01], gaps_s=[0.0, 0.01, 0.03], pairs=2000)
    >>> r.summary[["loss_rate", "closed_form"]].round(2).values.tolist()
    [[0.5, 0.5], [0.12, 0.12], [0.0, 0.0]]
    """
    skews = _floats("skews_s", skews_s, 0.0, 60.0)
    gaps = _floats("gaps_s", gaps_s, 0.0, 3600.0)
    pairs = check_int("pairs", pairs, 1, 100_000)
    spec = {
        "drift": check_drift("drift", drift, minimum=0.0),
        "sync_interval_s": sync_interval_s,
        "sync_error_s": sync_error_s,
        "correction": check_choice("correction", correction, CORRECTIONS),
        "duration_s": check_number("duration_s", duration_s, 0.0, 86_400.0),
        "warmup_s": check_number("warmup_s", warmup_s, 0.0, 86_400.0),
    }
    NodeClock(sync_interval_s=sync_interval_s, sync_error_s=sync_error_s)  # validates both
    seed = check_seed(seed)
    check_work("writes", 2 * pairs * len(skews) * len(gaps), MAX_EVENTS,
               f"pairs={pairs} x {len(skews)} skews_s x {len(gaps)} gaps_s")  # fmt: skip
    frame = pd.concat(
        [_lww_pairs(seed, skew, gaps, pairs, spec) for skew in skews], ignore_index=True
    )
    middle = spec["warmup_s"] + spec["duration_s"] / 2
    spreads = {
        d: effective_spread(d, drift=spec["drift"], sync_interval_s=sync_interval_s,
                            sync_error_s=sync_error_s, at_s=middle)
        for d in skews
    }  # fmt: skip
    fine = np.linspace(0.0, max(gaps), 201)
    curve = pd.concat(
        [
            pd.DataFrame({"skew_s": d, "spread_s": spreads[d], "gap_s": fine,
                          "loss_probability": lww_loss_probability(fine, delta=spreads[d])})
            for d in skews
        ],
        ignore_index=True,
    )  # fmt: skip
    params = plain_params(
        skews_s=skews, gaps_s=gaps, pairs=pairs, drift=spec["drift"],
        sync_interval_s=sync_interval_s, sync_error_s=sync_error_s, correction=correction,
        duration_s=spec["duration_s"], warmup_s=spec["warmup_s"], seed=seed,
    )  # fmt: skip
    return LwwSkewResult(frame, _lww_summary(frame, spreads), params, curve)


@dataclass(frozen=True)
class LwwDaemonResult(Result):
    """What :func:`lww_daemon_died` returns.

    Attributes:
        frame: one row per write: ``node, time`` (true time it was made), ``clock`` (its
            timestamp), ``arrived`` (true time at the store), ``discarded`` (the store already
            held a larger timestamp when it arrived), ``after_death`` (made after the victim's
            daemon died) and ``outcome``: ``lost_write`` when a write made *earlier* in true
            time has a timestamp at least as large, so last-writer-wins keeps that one and
            loses this one (acknowledged all the same), else ``ok``. A write discarded only
            because it reached the store after a write made later (network reordering) is
            ``ok``: last-writer-wins doing its job.
        summary: one row per node: ``writes, lost_writes, loss_rate``, the loss rates of the
            writes made before and after the daemon died (``loss_rate_before``,
            ``loss_rate_after``) and ``reordered`` (writes discarded on arrival though no
            earlier write beat them: overtaken by a later write on the way).
        victim: the node whose sync daemon died.
        trace: ``clock_trace`` of the writers' clocks (``time, node, clock, error``).
    """

    victim: str
    trace: pd.DataFrame


def _writer(world: World, net: Network, node: str, times) -> Any:
    clock = world.clock_of(node)
    for t in times:
        yield world.env.timeout(t - world.env.now)
        stamp = clock.read(world.env.now)
        net.send(node, "store", (node, world.env.now, stamp))


def _store(world: World, rows: list[tuple]):
    """The last-writer-wins store: keeps the largest timestamp; ``discarded`` when it already
    held a larger one as the write arrived (whether the write made earlier or later)."""
    best = [-math.inf]

    def apply(msg) -> None:
        node, made, stamp = msg.payload
        discarded = stamp <= best[0]
        best[0] = max(best[0], stamp)
        rows.append((node, made, stamp, world.now, discarded))

    return apply


def _beaten_by_earlier(made: np.ndarray, stamps: np.ndarray) -> np.ndarray:
    """For each write, whether a write made earlier in true time has a timestamp at least as
    large: last-writer-wins keeps the earlier write and loses this one, whatever the order
    they reached the store in."""
    order = np.argsort(made, kind="stable")
    ahead = np.maximum.accumulate(stamps[order])
    before = np.concatenate(([-np.inf], ahead[:-1]))  # the largest stamp of the earlier writes
    lost = np.empty(len(made), dtype=bool)
    lost[order] = stamps[order] <= before
    return lost


def lww_daemon_died(
    *,
    nodes: int = 3,
    writes_per_s: float = 10.0,
    duration_s: float = 300.0,
    died_at_s: float = 60.0,
    victim_drift: float = -200e-6,
    drift: float = 20e-6,
    sync_interval_s: float = 16.0,
    sync_error_s: float = 0.001,
    latency_s: float = 0.005,
    seed: int = 0,
) -> LwwDaemonResult:
    """Writers send writes of one key to a last-writer-wins store, timestamped by their clocks;
    the sync daemon of the last writer dies at ``died_at_s``: its clock, which drifts by
    ``victim_drift`` from the start (each sync hid it until then), is no longer corrected and
    falls behind, so its writes lose to writes made earlier in true time.

    ``nodes`` writers together make ``writes_per_s`` writes a second (Poisson) for
    ``duration_s``; the others drift up to ``drift`` and stay synchronised every
    ``sync_interval_s`` within ``sync_error_s``. Latency to the store is exponential with
    mean ``latency_s``. A write is lost when one made earlier in true time carries a timestamp
    at least as large; one overtaken on the way by a later write is not. See
    :class:`LwwDaemonResult`.

    >>> r = lww_daemon_died(seed=0)
    >>> r.summary["loss_rate_after"].round(3).to_dict()
    {'a': 0.001, 'b': 0.0, 'c': 0.149}
    """
    nodes = check_int("nodes", nodes, 2, 26)
    rate = check_number("writes_per_s", writes_per_s, 0.0, 10_000.0, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, 86_400.0, min_inclusive=False)
    died_at_s = check_number("died_at_s", died_at_s, 0.0, duration_s)
    victim_drift = check_drift("victim_drift", victim_drift)
    drift = check_drift("drift", drift, minimum=0.0)
    latency_s = check_number("latency_s", latency_s, 0.0, 10.0, min_inclusive=False)
    NodeClock(sync_interval_s=sync_interval_s, sync_error_s=sync_error_s)  # validates both
    sync_error_s = float(sync_error_s)
    seed = check_seed(seed)
    check_work("writes", rate * duration_s, MAX_EVENTS,
               f"writes_per_s={rate:g} x duration_s={duration_s:g}")  # fmt: skip
    names = _names(nodes)
    victim = names[-1]
    rng = np.random.default_rng([seed, 3])
    specs = {
        n: NodeClock(
            offset_s=float(rng.uniform(-sync_error_s, sync_error_s)) if sync_error_s else 0.0,
            drift=victim_drift if n == victim else float(rng.uniform(-drift, drift + 0.0)),
            sync_interval_s=sync_interval_s,
            sync_error_s=sync_error_s,
        )
        for n in names
    }
    world = World(seed, clocks=specs)
    net = Network(world, latency=Exponential(latency_s))
    for n in [*names, "store"]:
        net.add_node(n)
    rows: list[tuple] = []
    net.node("store").on_message = _store(world, rows)
    for n in names:
        world.env.process(_writer(world, net, n, poisson_arrivals(rng, rate / nodes, duration_s)))
    FaultSchedule([SyncDaemonDied(at=died_at_s, node=victim)]).apply(net)
    world.run()
    frame = pd.DataFrame(rows, columns=["node", "time", "clock", "arrived", "discarded"])
    frame["after_death"] = frame["time"] >= died_at_s
    lost = _beaten_by_earlier(frame["time"].to_numpy(), frame["clock"].to_numpy())
    frame["outcome"] = np.where(lost, outcomes.LOST_WRITE, outcomes.OK)
    params = plain_params(
        nodes=nodes, writes_per_s=rate, duration_s=duration_s, died_at_s=died_at_s,
        victim_drift=victim_drift, drift=drift, sync_interval_s=sync_interval_s,
        sync_error_s=sync_error_s, latency_s=latency_s, seed=seed,
    )  # fmt: skip
    trace = clock_trace(world.clocks, np.linspace(0.0, duration_s, 301))
    return LwwDaemonResult(frame, _daemon_summary(frame, names), params, victim, trace)


def _daemon_summary(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    lost = frame["outcome"] == outcomes.LOST_WRITE
    rows = {}
    for node in names:
        mine = frame["node"] == node
        before, after = mine & ~frame["after_death"], mine & frame["after_death"]
        rows[node] = {
            "writes": int(mine.sum()),
            "lost_writes": int((lost & mine).sum()),
            "loss_rate": float(lost[mine].mean()) if mine.any() else 0.0,
            "loss_rate_before": float(lost[before].mean()) if before.any() else 0.0,
            "loss_rate_after": float(lost[after].mean()) if after.any() else 0.0,
            "reordered": int((frame["discarded"] & ~lost & mine).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("node")


# -- 3. Hybrid logical clocks against the naive hybrid clock ----------------------------------


@dataclass(frozen=True)
class HLCDriftResult(Result):
    """What :func:`hlc_drift` returns.

    Attributes:
        frame: one row per event and clock: ``variant`` (``hlc`` or ``naive``), ``node, kind``
            (``send``/``receive``), ``time`` (true), ``pt`` (the node's clock in ticks), ``l, c``
            and ``ahead_s``: ``(l - pt) * tick_s``, how far the clock is ahead of physical time.
        summary: one row per variant: ``events, max_ahead_s, final_ahead_s`` (the largest
            ``ahead_s`` over the last tenth of the run), ``max_counter`` and ``eps_s`` (the
            largest difference between two nodes' clocks: the HLC's bound on ``ahead_s``).
    """


def _exchange(world: World, net: Network, names: list[str], rate: float, until: float, tick_s):
    """Every node sends to random others at ``rate`` per second; both clocks stamp each event."""
    rows: list[tuple] = []
    clocks = {n: (HybridLogicalClock(max_events=0), NaiveHybridClock(max_events=0)) for n in names}

    def ticks(node: str) -> int:
        return math.floor(round(world.clock_of(node).read(world.env.now) / tick_s, 6))

    def stamp(node: str, kind: str, remote) -> tuple:
        now = ticks(node)
        hlc, naive = clocks[node]
        out = []
        for variant, clock, rem in (("hlc", hlc, remote and remote[0]),
                                    ("naive", naive, remote and remote[1])):  # fmt: skip
            ts = clock.receive(rem, now=now) if rem else clock.send(now=now)
            rows.append((variant, node, kind, world.env.now, now, ts.l, ts.c))
            out.append(ts)
        return tuple(out)

    def on_message(msg) -> None:
        stamp(msg.dst, "receive", msg.payload)

    def sender(node: str, times, targets):
        others = [n for n in names if n != node]
        for t, k in zip(times, targets):
            yield world.env.timeout(t - world.env.now)
            net.send(node, others[k], stamp(node, "send", None))

    for node in names:
        net.node(node).on_message = on_message
        times = poisson_arrivals(world.rng, rate, until)
        world.env.process(sender(node, times, world.rng.integers(0, len(names) - 1, len(times))))
    world.run()
    return rows


def _hlc_run(nodes: int, rate: float, duration_s: float, spread: float, latency_s: float,
             tick_s: float, seed: int) -> tuple[pd.DataFrame, float]:  # fmt: skip
    names = _names(nodes)
    offsets = np.random.default_rng([seed, 4]).uniform(0.0, spread + 0.0, nodes)
    world = World(seed, clocks={n: NodeClock(offset_s=float(o)) for n, o in zip(names, offsets)})
    net = Network(world, latency=Exponential(latency_s))
    for n in names:
        net.add_node(n)
    rows = _exchange(world, net, names, rate, duration_s, tick_s)
    frame = pd.DataFrame(rows, columns=["variant", "node", "kind", "time", "pt", "l", "c"])
    frame["ahead_s"] = (frame["l"] - frame["pt"]) * tick_s
    frame = frame.sort_values(["variant", "time"], kind="stable").reset_index(drop=True)
    return frame, float(offsets.max() - offsets.min())


def hlc_drift(
    *,
    nodes: int = 3,
    messages_per_s: float = 700.0,
    duration_s: float = 2.0,
    offset_spread_s: float = 0.005,
    latency_s: float = 0.001,
    tick_s: float = 1e-3,
    seed: int = 0,
) -> HLCDriftResult:
    """Nodes message each other fast; every event is stamped by a hybrid logical clock and by
    the naive one (``l = max(pt, l + 1, l_m + 1)``), from clocks read in ``tick_s`` ticks.

    Each node sends ``messages_per_s`` messages a second (Poisson) to random others; clock
    offsets are uniform on ``[0, offset_spread_s]``; latency is exponential (mean
    ``latency_s``). The naive clock runs ahead of physical time for as long as events outpace
    the clocks' ticks (each receipt takes the sender's ``l + 1``, so the nodes' leads add up),
    by an amount with no bound; it falls back to physical time only once the clock catches up
    in a lull. The HLC's lead stays under ``eps_s`` whatever the load. See
    :class:`HLCDriftResult`.

    >>> r = hlc_drift(seed=0)
    >>> s = r.summary
    >>> bool(s.loc["hlc", "max_ahead_s"] <= s.loc["hlc", "eps_s"] + 1e-3)
    True
    >>> bool(s.loc["naive", "final_ahead_s"] > 10 * s.loc["hlc", "eps_s"])
    True
    """
    nodes = check_int("nodes", nodes, 2, 26)
    rate = check_number("messages_per_s", messages_per_s, 0.0, 100_000.0, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    spread = check_number("offset_spread_s", offset_spread_s, 0.0, 60.0)
    latency_s = check_number("latency_s", latency_s, 0.0, 10.0, min_inclusive=False)
    tick_s = check_number("tick_s", tick_s, 1e-9, 1.0)
    seed = check_seed(seed)
    check_work("messages", nodes * rate * duration_s, 200_000,
               f"nodes={nodes} x messages_per_s={rate:g} x duration_s={duration_s:g}")  # fmt: skip
    frame, eps = _hlc_run(nodes, rate, duration_s, spread, latency_s, tick_s, seed)
    tail = frame["time"] >= 0.9 * duration_s
    groups = frame.groupby("variant", sort=False)
    summary = pd.DataFrame(
        {
            "events": groups.size(),
            "max_ahead_s": groups["ahead_s"].max(),
            "final_ahead_s": frame[tail].groupby("variant", sort=False)["ahead_s"].max(),
            "max_counter": groups["c"].max(),
        }
    ).fillna(0.0)
    summary["eps_s"] = eps
    summary = summary.loc[["hlc", "naive"]].rename_axis("variant")
    params = plain_params(
        nodes=nodes, messages_per_s=rate, duration_s=duration_s, offset_spread_s=spread,
        latency_s=latency_s, tick_s=tick_s, seed=seed,
    )  # fmt: skip
    return HLCDriftResult(frame, summary, params)


@dataclass(frozen=True)
class HLCBoundsResult(Result):
    """What :func:`hlc_bounds` returns.

    Attributes:
        frame: one row per random run: ``run, nodes, messages_per_s, latency_s, events``,
            ``eps_ticks`` (the largest difference between two clocks, in ticks), the HLC's
            ``max_ahead_ticks`` and ``max_counter``, the naive clock's
            ``naive_max_ahead_ticks``, ``busiest_tick`` (the most events one node had within
            one tick) and whether the two bounds held: ``ahead_ok`` (``l - pt <= eps``, plus
            one tick for reading clocks in whole ticks) and ``counter_ok``
            (``c <= nodes * (eps + 1)``, which Kulkarni et al. prove for at most one event per
            node and tick: ``busiest_tick <= 1``).
        summary: one row: ``runs``, ``ahead_violations``, ``counter_violations`` (of
            ``counter_ok``), ``busiest_tick`` (the largest: above 1, the counter bound's
            assumption does not hold, and with coarse ticks the bound can fail), the worst
            ``max_ahead_ticks / (eps_ticks + 1)`` (``worst_ahead_share``) and the naive clock's
            largest ``naive_max_ahead_ticks``.
    """


def hlc_bounds(
    *, runs: int = 20, duration_s: float = 0.3, tick_s: float = 1e-4, seed: int = 0
) -> HLCBoundsResult:
    """Check the HLC's bounds over ``runs`` random runs: 2 to 6 nodes, clock offsets uniform
    within a random spread of up to 20 ms, 50 to 1000 messages a second per node, latency of
    0.1 to 20 ms (mean), for ``duration_s`` each, clocks read in ``tick_s`` ticks. See
    :class:`HLCBoundsResult`.

    >>> r = hlc_bounds(runs=5, seed=0)
    >>> r.summary[["runs", "ahead_violations", "counter_violations"]].values.tolist()
    [[5, 0, 0]]
    """
    runs = check_int("runs", runs, 1, 10_000)
    duration_s = check_number("duration_s", duration_s, 0.0, 60.0, min_inclusive=False)
    tick_s = check_number("tick_s", tick_s, 1e-9, 1.0)
    seed = check_seed(seed)
    check_work("messages", runs * 6 * 1000 * duration_s, MAX_EVENTS,
               f"runs={runs} x duration_s={duration_s:g}")  # fmt: skip
    rng = np.random.default_rng([seed, 5])
    rows = []
    for run in range(runs):
        nodes = int(rng.integers(2, 7))
        rate = float(rng.uniform(50.0, 1000.0))
        spread = float(rng.uniform(0.0, 0.02))
        latency = float(rng.uniform(1e-4, 0.02))
        frame, eps = _hlc_run(nodes, rate, duration_s, spread, latency, tick_s, seed + run)
        eps_ticks = math.ceil(round(eps / tick_s, 6))
        hlc, naive = frame[frame["variant"] == "hlc"], frame[frame["variant"] == "naive"]
        ahead = int((hlc["l"] - hlc["pt"]).max())
        counter = int(hlc["c"].max())
        busiest = int(hlc.groupby(["node", "pt"]).size().max())
        rows.append((run, nodes, rate, latency, len(hlc), eps_ticks, ahead, counter,
                     int((naive["l"] - naive["pt"]).max()), busiest, ahead <= eps_ticks + 1,
                     counter <= nodes * (eps_ticks + 1)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=[
        "run", "nodes", "messages_per_s", "latency_s", "events", "eps_ticks", "max_ahead_ticks",
        "max_counter", "naive_max_ahead_ticks", "busiest_tick", "ahead_ok", "counter_ok",
    ])  # fmt: skip
    summary = summary_row(
        "hlc",
        runs=runs,
        ahead_violations=int((~frame["ahead_ok"]).sum()),
        counter_violations=int((~frame["counter_ok"]).sum()),
        busiest_tick=int(frame["busiest_tick"].max()),
        worst_ahead_share=float((frame["max_ahead_ticks"] / (frame["eps_ticks"] + 1)).max()),
        naive_max_ahead_ticks=int(frame["naive_max_ahead_ticks"].max()),
    )
    params = plain_params(runs=runs, duration_s=duration_s, tick_s=tick_s, seed=seed)
    return HLCBoundsResult(frame, summary, params)


# -- 4. Commit wait ---------------------------------------------------------------------------

VARIANTS_COMMIT = ("commit_wait", "no_wait")


@dataclass(frozen=True)
class CommitWaitResult(Result):
    """What :func:`commit_wait` returns.

    Attributes:
        frame: one row per transaction: ``variant`` (``commit_wait`` or ``no_wait``),
            ``uncertainty_s``, ``client``, ``name``, ``node``, true ``start`` and ``commit``
            (when it became visible), its ``timestamp`` and ``wait_s`` (the commit wait).
        summary: one row per ``(variant, uncertainty_s)``: ``transactions``, ``violations``
            (of external consistency: a transaction that started after another committed got a
            timestamp no larger; at most one counted per later transaction), ``mean_wait_s``
            and ``mean_latency_s`` (start to visible).
    """


def _client(world, tt, names, txs, rows, *, client, variant, work_s, think_s):
    rng = world.rng
    for k in range(txs):
        node = names[int(rng.integers(0, len(names)))]
        start = world.env.now
        yield world.env.timeout(float(rng.exponential(work_s)))
        reading = world.clock_of(node).read(world.env.now)
        if variant == "commit_wait":
            commit = tt.commit(reading)
            timestamp, wait = commit.timestamp, commit.wait
            yield world.env.timeout(wait)  # the clocks do not drift: clock and true seconds agree
        else:
            timestamp, wait = reading, 0.0
        rows.append((client, f"c{client}t{k}", node, start, world.env.now, timestamp, wait))
        yield world.env.timeout(float(rng.exponential(think_s)))


def _commit_run(variant, eps, *, nodes, clients, transactions, work_s, think_s, seed):
    names = _names(nodes)
    offsets = np.random.default_rng([seed, 6]).uniform(-eps, eps + 0.0, nodes)
    world = World(seed, clocks={n: NodeClock(offset_s=float(o)) for n, o in zip(names, offsets)})
    tt = TrueTime(sync_interval=30.0, drift=0.0, base_uncertainty=eps)
    rows: list[tuple] = []
    for c in range(clients):
        world.env.process(_client(world, tt, names, transactions, rows, client=c,
                                  variant=variant, work_s=work_s, think_s=think_s))  # fmt: skip
    world.run()
    frame = pd.DataFrame(
        rows, columns=["client", "name", "node", "start", "commit", "timestamp", "wait_s"]
    )
    check = check_external_consistency(
        Transaction(r.name, r.start, r.commit, r.timestamp) for r in frame.itertuples()
    )
    frame.insert(0, "uncertainty_s", eps)
    frame.insert(0, "variant", variant)
    return frame, len(check.violations)


def commit_wait(
    *,
    uncertainties_s: Sequence[float] = (0.001, 0.004, 0.007),
    nodes: int = 3,
    clients: int = 4,
    transactions: int = 100,
    work_s: float = 0.002,
    think_s: float = 0.001,
    variants: Sequence[str] = VARIANTS_COMMIT,
    seed: int = 0,
) -> CommitWaitResult:
    """Clients run transactions one after another on random nodes whose clocks are off by up to
    the TrueTime uncertainty ``eps`` (offsets uniform on ``[-eps, eps]``, no drift).

    With commit wait, a commit takes ``TT.now().latest`` as its timestamp and becomes visible
    once ``TT.now().earliest`` has passed it (about ``2 eps`` later); without, it takes the
    node's clock reading and is visible at once. Each transaction works ``work_s`` (mean,
    exponential) and its client thinks ``think_s`` (mean) before the next. ``variants``: which
    of ``commit_wait`` and ``no_wait`` to run (both by default; one alone halves the work of a
    sweep that needs only it). See :class:`CommitWaitResult`.

    >>> r = commit_wait(uncertainties_s=[0.004], seed=0)
    >>> r.summary["violations"].to_dict()
    {('commit_wait', 0.004): 0, ('no_wait', 0.004): 136}
    """
    eps_values = _floats("uncertainties_s", uncertainties_s, 0.0, 1.0)
    nodes = check_int("nodes", nodes, 1, 26)
    clients = check_int("clients", clients, 1, 1000)
    transactions = check_int("transactions", transactions, 1, 100_000)
    work_s = check_number("work_s", work_s, 0.0, 60.0, min_inclusive=False)
    think_s = check_number("think_s", think_s, 0.0, 60.0, min_inclusive=False)
    chosen = check_choices("variants", variants, VARIANTS_COMMIT, noun="a variant")
    seed = check_seed(seed)
    check_work("transactions", len(chosen) * len(eps_values) * clients * transactions, MAX_EVENTS,
               f"clients={clients} x transactions={transactions} x uncertainties_s")  # fmt: skip
    frames, summary = [], {}
    for variant in chosen:
        for eps in eps_values:
            frame, violations = _commit_run(
                variant, eps, nodes=nodes, clients=clients, transactions=transactions,
                work_s=work_s, think_s=think_s, seed=seed,
            )  # fmt: skip
            frames.append(frame)
            summary[(variant, eps)] = {
                "transactions": len(frame),
                "violations": violations,
                "mean_wait_s": float(frame["wait_s"].mean()),
                "mean_latency_s": float((frame["commit"] - frame["start"]).mean()),
            }
    table = pd.DataFrame.from_dict(summary, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["variant", "uncertainty_s"])
    params = plain_params(
        uncertainties_s=eps_values, nodes=nodes, clients=clients, transactions=transactions,
        work_s=work_s, think_s=think_s, variants=chosen, seed=seed,
    )  # fmt: skip
    return CommitWaitResult(pd.concat(frames, ignore_index=True), table, params)


# -- 5. Pruned vector clocks -----------------------------------------------------------------


@dataclass(frozen=True)
class PrunedClocksResult(Result):
    """What :func:`pruned_clocks` returns.

    Attributes:
        frame: one row per chain of versions: ``writers`` (how many nodes write), ``chain``,
            ``versions``, ``pairs`` (all ordered: each version descends from the one before),
            ``false_concurrent`` (pairs the pruned clocks report as concurrent) and ``share``.
        summary: one row per number of writers: ``chains, pairs, false_concurrent, share``.
    """


def pruned_clocks(
    *,
    writers: Sequence[int] = (2, 5, 10, 11, 12, 15, 20, 30),
    max_entries: int = 10,
    versions: int = 40,
    chains: int = 10,
    seed: int = 0,
) -> PrunedClocksResult:
    """Chains of ``versions`` versions of one object, each written by a node drawn uniformly
    from ``writers`` nodes and descending from the one before; Dynamo's clocks pruned to
    ``max_entries`` entries then compared pair by pair. See :class:`PrunedClocksResult`.

    >>> r = pruned_clocks(writers=[5, 20], chains=3, seed=0)
    >>> r.summary["false_concurrent"].to_dict()
    {5: 0, 20: 1880}
    """
    if isinstance(writers, (str, bytes)) or not isinstance(writers, (Sequence, np.ndarray)):
        raise TypeError(f"writers={writers!r} must be a list of numbers of writers")
    counts = tuple(check_int(f"writers[{i}]", w, 1, 10_000) for i, w in enumerate(writers))
    if not counts:
        raise ValueError("writers=() must hold at least one number of writers")
    max_entries = check_int("max_entries", max_entries, 1, 10_000)
    versions = check_int("versions", versions, 1, 2_000)
    chains = check_int("chains", chains, 1, 10_000)
    seed = check_seed(seed)
    check_work("version pairs", len(counts) * chains * versions * versions / 2, 20_000_000,
               f"writers x chains={chains} x versions={versions}**2")  # fmt: skip
    rng = np.random.default_rng([seed, 7])
    rows = []
    for n in counts:
        names = [f"n{i}" for i in range(n)]
        for chain in range(chains):
            picks = [names[i] for i in rng.integers(0, n, versions)]
            report = truncation_anomalies(picks, max_entries=max_entries)
            false = len(report.false_concurrent)
            rows.append((n, chain, versions, report.pairs, false,
                         false / report.pairs if report.pairs else 0.0))  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["writers", "chain", "versions", "pairs", "false_concurrent", "share"]
    )
    grouped = frame.groupby("writers", sort=False)
    summary = pd.DataFrame(
        {
            "chains": grouped.size(),
            "pairs": grouped["pairs"].sum(),
            "false_concurrent": grouped["false_concurrent"].sum(),
        }
    )
    summary["share"] = summary["false_concurrent"] / summary["pairs"].where(summary["pairs"] > 0)
    summary["share"] = summary["share"].fillna(0.0)
    params = plain_params(
        writers=counts, max_entries=max_entries, versions=versions, chains=chains, seed=seed
    )
    return PrunedClocksResult(frame, summary, params)
