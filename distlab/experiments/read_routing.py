"""Read routing and session guarantees on a primary/replica store (notebook 05, experiment 1).

The course: write to the primary, read from a replica that "might be slightly behind". How often
does a client then miss its own write, against the replication lag and the client's think time
between its write and its read, for each way of routing reads? And what does each session
guarantee cost (read latency, waits, errors), also when the replica a session needs is cut off
from the primary by a partition, or when the primary crashes and a replica that lacked some
acknowledged writes is promoted?

Each variant (:data:`VARIANTS`) runs in its own world with the same seed: ``"primary"``,
``"any"``, ``"sticky"`` (the routings of :class:`~distlab.sim.sessions.ClientSession`), one
guarantee name (``"read_your_writes"``...: a guaranteed session with that guarantee alone) or
``"guaranteed"`` (the ``guarantees`` given; all four by default). Every client repeats a cycle:
pause (exponential, mean ``gap_s``), write a new value to its own key, think ``think_s``, read
it, think ``think_s``, read it again.

>>> r = read_routing(["any", "read_your_writes"], cycles=20, seed=1)
>>> r.summary["ryw_violations"].to_dict()
{'any': 108, 'read_your_writes': 0}
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choice, check_choices, check_int, check_number, check_seed
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work
from distlab.sessions import GUARANTEES
from distlab.sim import (
    BridgePartition,
    Crash,
    Exponential,
    FaultSchedule,
    Network,
    Partition,
    World,
)
from distlab.sim.recording_store import RecordingStore
from distlab.sim.sessions import (
    ON_BEHIND,
    ROUTINGS,
    ClientSession,
    SessionLog,
    check_store_sessions,
)

__all__ = [
    "FAULTS",
    "VARIANTS",
    "ReadRoutingResult",
    "RywGridResult",
    "read_routing",
    "ryw_grid",
]

#: What :func:`read_routing` compares: the routings, and a guaranteed session with one guarantee.
VARIANTS = (*ROUTINGS, *GUARANTEES)
#: ``"none"``; ``"replica-cut"``: the last replica cut off from the primary (a bridge partition:
#: clients still reach it, it gets no shipments); ``"replica-isolated"``: the last replica cut
#: off from every other node, clients included; ``"primary-crash"``: the primary crashes (and
#: after ``failover_s`` a replica is promoted; the old primary rejoins as a replica).
FAULTS = ("none", "replica-cut", "replica-isolated", "primary-crash")
#: The operations a run may simulate (all variants and grid points together).
MAX_OPERATIONS = 100_000
_LONGEST_S = 3600.0
_DEFAULT_VARIANTS = ("primary", "any", "sticky", "read_your_writes", "monotonic_reads")


@dataclass(frozen=True)
class ReadRoutingResult(Result):
    """What :func:`read_routing` returns.

    ``frame``: one row per operation: ``variant``, ``client``, ``cycle``, ``f``, ``key``,
    ``value``, ``node`` (asked), ``served_by``, ``outcome``, ``result``, ``start``, ``end``,
    ``latency_s``, ``needed`` (log positions the session token asked for), ``redirected``,
    ``during_fault`` (started while the fault held), ``ryw_violation`` (an ``ok`` read older
    than the session's latest acknowledged write of the key at the read's start) and
    ``mr_violation`` (an ``ok`` read older than a version an earlier read of the session saw).

    ``summary``: per variant: ``reads``, ``ok_reads``, ``read_errors`` (unavailable or timed
    out), ``ryw_violations``, ``ryw_violation_rate`` (per ok read), ``mr_violations``,
    ``read_latency_mean_s``, ``read_latency_p50_s``, ``read_latency_p99_s``, ``waits`` (reads and
    writes a node held back for their session token), ``redirects``, ``write_errors``, the same
    for the reads that started during the fault (``fault_reads``, ``fault_read_errors``,
    ``fault_ryw_violations``, ``fault_read_latency_mean_s``), ``lost_acknowledged`` (acknowledged
    writes a failover discarded),
    and per guarantee the sessions the checker (:func:`distlab.sessions.check_sessions`) finds
    violating it (``sessions_read_your_writes``...).

    ``violations``: the checker's report as a table (``variant`` column added).

    For :func:`distlab.plots.replication_timeline` (one variant at a time): ``applied`` (each
    version's first apply at each node: ``variant, node, time, key, stamp, value, lost``, the
    last true for a version a failover discarded),
    ``failovers`` (``variant, time, old, new, term``), ``crashes`` (``variant, start, end,
    state, label, node``: the primary's crash, when ``fault="primary-crash"``) and ``sessions``
    (``{variant: SessionReport}``); ``frame`` keeps each operation's ``stamp`` (log position).
    """

    violations: pd.DataFrame
    applied: pd.DataFrame
    failovers: pd.DataFrame
    crashes: pd.DataFrame
    sessions: dict


@dataclass(frozen=True)
class RywGridResult(Result):
    """What :func:`ryw_grid` returns.

    ``frame``: one row per variant, ``lag_s`` and ``think_s``: ``reads``, ``ryw_violations``,
    ``ryw_violation_rate``, ``read_errors``, ``read_latency_mean_s`` and ``exp_model``
    (``exp(-think_s / lag_s)``: the chance that one write's exponential lag of mean ``lag_s``
    outlasts the think time: a reference curve, which ignores the network delays, which give the
    replica more time, and the apply queue, where a write also waits for the writes before it).

    ``summary``: per variant: ``mean_violation_rate`` and ``max_violation_rate`` over the grid.
    """


def read_routing(
    variants: str | Iterable[str] = _DEFAULT_VARIANTS,
    *,
    lag_s: float = 0.1,
    think_s: float = 0.05,
    clients: int = 4,
    cycles: int = 50,
    nodes: int = 3,
    latency_s: float = 0.002,
    gap_s: float = 0.2,
    on_behind: str = "wait",
    wait_s: float = 0.5,
    timeout_s: float = 0.5,
    fault: str = "none",
    fault_at_s: float = 2.0,
    fault_s: float = 3.0,
    failover_s: float = 0.3,
    guarantees: str | Iterable[str] = GUARANTEES,
    seed: int = 0,
) -> ReadRoutingResult:
    """Run every variant's clients on a ``"primary"`` store with ``nodes`` nodes; tabulate.

    Replication lag: Exponential(``lag_s``) per shipped write; one-way network delay:
    Exponential(``latency_s``). ``on_behind``, ``wait_s``: what a guaranteed session does when the
    replica asked lacks what it needs (:class:`~distlab.sim.sessions.ClientSession`).
    ``fault`` (:data:`FAULTS`) holds from ``fault_at_s`` for ``fault_s``; a crashed primary is
    replaced after ``failover_s``. ``guarantees``: those the ``"guaranteed"`` variant enforces
    (any of :data:`~distlab.sessions.GUARANTEES`).

    >>> s = read_routing(["sticky", "read_your_writes"], fault="replica-cut", cycles=20,
    ...                  seed=2).summary
    >>> int(s.loc["read_your_writes", "ryw_violations"]), int(s.loc["sticky", "ryw_violations"]) > 0
    (0, True)
    """
    p = _params(variants, locals())
    frames, checks, rows, applied, failovers, sessions = [], [], {}, [], [], {}
    for variant in p["variants"]:
        frame, report, extra, store = _run(p, variant)
        frames.append(frame)
        checks.append(report.to_frame().assign(variant=variant))
        rows[variant] = {**_summary(frame), **extra}
        rows[variant].update({f"sessions_{g}": n for g, n in report.violated().items()})
        lost = set(store.protocol.lost)
        table = store.applied_frame()
        applied.append(table.assign(lost=[stamp in lost for stamp in table["stamp"]],
                                    variant=variant))  # fmt: skip
        failovers.append(pd.DataFrame(
            [(variant, t, old, new, term)
             for term, (t, old, new) in enumerate(store.protocol.failovers, start=2)],
            columns=["variant", "time", "old", "new", "term"],
        ))  # fmt: skip
        sessions[variant] = report
    summary = pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant")
    violations = pd.concat(checks, ignore_index=True)
    applied_frame = pd.concat(applied, ignore_index=True)
    return ReadRoutingResult(
        frame=pd.concat(frames, ignore_index=True),
        summary=summary,
        params=plain_params(**p),
        violations=violations[["variant", *violations.columns[:-1]]],
        applied=applied_frame[["variant", *applied_frame.columns[:-1]]],
        failovers=pd.concat(failovers, ignore_index=True),
        crashes=_crashes(p),
        sessions=sessions,
    )


def _crashes(p: dict[str, Any]) -> pd.DataFrame:
    """The primary's crash as a band per variant (none unless ``fault="primary-crash"``)."""
    rows = []
    if p["fault"] == "primary-crash" and p["fault_s"] > 0:
        end = p["fault_at_s"] + p["fault_s"]
        rows = [(v, p["fault_at_s"], end, "crashed", "crash n1", "n1") for v in p["variants"]]
    return pd.DataFrame(rows, columns=["variant", "start", "end", "state", "label", "node"])


def ryw_grid(
    variants: str | Iterable[str] = ("any", "sticky", "primary", "read_your_writes"),
    *,
    lags_s: Iterable[float] = (0.01, 0.05, 0.1, 0.2, 0.5),
    thinks_s: Iterable[float] = (0.0, 0.05, 0.1, 0.2, 0.5),
    clients: int = 4,
    cycles: int = 30,
    seed: int = 0,
    **fixed: Any,
) -> RywGridResult:
    """Read-your-writes violation rate against replication lag and think time, per variant:
    :func:`read_routing` at every ``(lag_s, think_s)`` (``fixed``: its other parameters).

    >>> g = ryw_grid(["any"], lags_s=[0.01, 0.5], thinks_s=[0.1], cycles=20, seed=1).frame
    >>> g[["lag_s", "ryw_violation_rate"]].round(2).values.tolist()
    [[0.01, 0.0], [0.5, 0.98]]
    """
    lags = _floats("lags_s", lags_s)
    thinks = _floats("thinks_s", thinks_s)
    names = _variants(variants)
    for name in ("lag_s", "think_s", "variants", "seed"):
        if name in fixed:
            raise TypeError(f"{name}= is set by ryw_grid itself; not a fixed parameter")
    clients = check_int("clients", clients, 1, 100)
    cycles = check_int("cycles", cycles, 1, 100_000)
    check_work(
        "operations",
        len(lags) * len(thinks) * len(names) * clients * cycles * 3,
        MAX_OPERATIONS,
        f"{len(lags)} lags x {len(thinks)} think times x {len(names)} variants x "
        f"clients={clients} x cycles={cycles}",
    )
    rows = []
    for lag in lags:
        for think in thinks:
            r = read_routing(
                names, lag_s=lag, think_s=think, clients=clients, cycles=cycles, seed=seed,
                **fixed,
            )  # fmt: skip
            for variant, s in r.summary.iterrows():
                rows.append(
                    {
                        "variant": variant,
                        "lag_s": lag,
                        "think_s": think,
                        "reads": int(s["reads"]),
                        "ryw_violations": int(s["ryw_violations"]),
                        "ryw_violation_rate": float(s["ryw_violation_rate"]),
                        "read_errors": int(s["read_errors"]),
                        "read_latency_mean_s": float(s["read_latency_mean_s"]),
                        "exp_model": math.exp(-think / lag) if lag > 0 else 0.0,
                    }
                )
    frame = pd.DataFrame(rows)
    rate = frame.groupby("variant", sort=False)["ryw_violation_rate"]
    summary = pd.DataFrame(
        {"mean_violation_rate": rate.mean(), "max_violation_rate": rate.max()}
    ).rename_axis("variant")
    params = plain_params(
        variants=names, lags_s=lags, thinks_s=thinks, clients=clients, cycles=cycles,
        seed=check_seed(seed), **fixed,
    )  # fmt: skip
    return RywGridResult(frame=frame, summary=summary, params=params)


# -- parameters ---------------------------------------------------------------------------------


def _variants(variants: Any) -> tuple[str, ...]:
    return check_choices("variants", variants, VARIANTS, noun="a variant")


def _floats(name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name}={values!r} must be a list of durations in seconds")
    out = tuple(check_number(f"{name} item", v, 0.0, _LONGEST_S) for v in values)
    if not out:
        raise ValueError(f"{name}=() is empty: give at least one duration")
    return out


def _params(variants: Any, given: dict[str, Any]) -> dict[str, Any]:
    duration = lambda name: check_number(name, given[name], 0.0, _LONGEST_S)
    p = {
        "variants": _variants(variants),
        "lag_s": duration("lag_s"),
        "think_s": duration("think_s"),
        "clients": check_int("clients", given["clients"], 1, 100),
        "cycles": check_int("cycles", given["cycles"], 1, 100_000),
        "nodes": check_int("nodes", given["nodes"], 1, 15),
        "latency_s": duration("latency_s"),
        "gap_s": duration("gap_s"),
        "on_behind": check_choice("on_behind", given["on_behind"], ON_BEHIND),
        "wait_s": duration("wait_s"),
        "timeout_s": check_number("timeout_s", given["timeout_s"], 0.0, 60.0, min_inclusive=False),
        "fault": check_choice("fault", given["fault"], FAULTS),
        "fault_at_s": duration("fault_at_s"),
        "fault_s": duration("fault_s"),
        "failover_s": duration("failover_s"),
        "guarantees": check_choices("guarantees", given["guarantees"], GUARANTEES),
        "seed": check_seed(given["seed"]),
    }
    if p["fault"] != "none" and p["nodes"] < 3:
        raise ValueError(f"nodes={p['nodes']} must be at least 3 for fault={p['fault']!r}")
    check_work(
        "operations",
        len(p["variants"]) * p["clients"] * p["cycles"] * 3,
        MAX_OPERATIONS,
        f"{len(p['variants'])} variants x clients={p['clients']} x cycles={p['cycles']}",
    )
    return p


# -- one variant --------------------------------------------------------------------------------


def _run(p: dict[str, Any], variant: str):
    world = World(seed=p["seed"])
    latency = Exponential(p["latency_s"]) if p["latency_s"] > 0 else 0.0
    net = Network(world, latency=latency)
    lag = Exponential(p["lag_s"]) if p["lag_s"] > 0 else 0.0
    store = RecordingStore(
        net, "primary", p["nodes"], replication_lag=lag, failover_s=p["failover_s"]
    )
    log = SessionLog()
    clients = [f"c{i}" for i in range(1, p["clients"] + 1)]
    sessions = [_session(p, variant, store, c, log, i) for i, c in enumerate(clients)]
    _fault(p, net, store.names, clients)
    done = world.env.all_of([world.env.process(_client(p, world, s)) for s in sessions])
    world.run(until=done)
    frame = _frame(p, variant, log)
    report = check_store_sessions(store, log)
    extra = {
        "waits": int(store.protocol.token_waits),
        "lost_acknowledged": len(store.lost_acknowledged()),
    }
    return frame, report, extra, store


def _session(p, variant, store, client, log, index) -> ClientSession:
    kw: dict[str, Any] = {"log": log, "timeout_s": p["timeout_s"]}
    if variant in ROUTINGS:
        kw["routing"] = variant
    else:
        kw.update(routing="guaranteed", guarantees=variant)
    if variant == "guaranteed":
        kw["guarantees"] = p["guarantees"]
    if kw["routing"] == "sticky" and p["nodes"] > 1:
        kw["replica"] = store.names[1 + index % (p["nodes"] - 1)]  # spread over the replicas
    if kw["routing"] == "guaranteed":
        kw.update(on_behind=p["on_behind"], wait_s=p["wait_s"])
    return ClientSession(store, client, **kw)


def _fault(p, net: Network, names: list[str], clients: list[str]) -> None:
    if p["fault"] == "none" or p["fault_s"] <= 0:
        return
    at, span, cut = p["fault_at_s"], p["fault_s"], names[-1]
    if p["fault"] == "primary-crash":
        fault = Crash(at, span, names[0])
    elif p["fault"] == "replica-cut":
        fault = BridgePartition(at, span, [names[0]], [*names[1:-1], *clients], [cut])
    else:
        fault = Partition(at, span, [[cut]])
    FaultSchedule([fault]).apply(net)


def _client(p, world: World, session: ClientSession):
    env, rng, index = world.env, world.rng, int(session.client[1:]) - 1
    for cycle in range(p["cycles"]):
        yield env.timeout(float(rng.exponential(p["gap_s"])) if p["gap_s"] > 0 else 0.0)
        yield session.write(session.client, cycle * p["clients"] + index + 1)
        for _ in range(2):
            yield env.timeout(p["think_s"])
            yield session.read(session.client)


# -- tables -------------------------------------------------------------------------------------


def _frame(p, variant: str, log: SessionLog) -> pd.DataFrame:
    frame = log.to_frame().drop(columns=["type"])
    frame.insert(0, "variant", variant)
    frame.insert(2, "cycle", frame.groupby("client").cumcount() // 3)  # write, read, read
    start, end = p["fault_at_s"], p["fault_at_s"] + p["fault_s"]
    frame["during_fault"] = (
        (p["fault"] != "none") & (frame["start"] >= start) & (frame["start"] < end)
    )
    frame["ryw_violation"], frame["mr_violation"] = _violations(log)
    return frame


def _violations(log: SessionLog) -> tuple[list[bool], list[bool]]:
    """Per operation: an ok read older than its session's latest acknowledged write of the key
    (read-your-writes), or than a version an earlier read of the session saw (monotonic reads),
    on the log stamps (the version order). A session's operations run one after the other, so
    the log (in completion order) holds each session's in session order."""
    ryw, mr = [], []
    written: dict[tuple, tuple] = {}
    seen: dict[tuple, tuple] = {}
    for op in log.ops:
        key = (op.client, op.key)
        if op.f == "write" and op.outcome == outcomes.OK:
            written[key] = max(written.get(key, op.stamp), op.stamp)
        ok_read = op.f == "read" and op.outcome == outcomes.OK
        ryw.append(ok_read and key in written and op.stamp < written[key])
        mr.append(ok_read and key in seen and op.stamp < seen[key])
        if ok_read:
            seen[key] = max(seen.get(key, op.stamp), op.stamp)
    return ryw, mr


def _summary(frame: pd.DataFrame) -> dict[str, Any]:
    reads = frame[frame["f"] == "read"]
    ok = reads[reads["outcome"] == outcomes.OK]
    during = reads[reads["during_fault"]]
    writes = frame[frame["f"] == "write"]
    latency = reads["latency_s"].to_numpy()
    return {
        "reads": len(reads),
        "ok_reads": len(ok),
        "read_errors": int((reads["outcome"] != outcomes.OK).sum()),
        "ryw_violations": int(reads["ryw_violation"].sum()),
        "ryw_violation_rate": float(ok["ryw_violation"].mean()) if len(ok) else 0.0,
        "mr_violations": int(reads["mr_violation"].sum()),
        "read_latency_mean_s": float(latency.mean()) if len(latency) else 0.0,
        "read_latency_p50_s": float(np.percentile(latency, 50)) if len(latency) else 0.0,
        "read_latency_p99_s": float(np.percentile(latency, 99)) if len(latency) else 0.0,
        "redirects": int(reads["redirected"].sum()),
        "write_errors": int((writes["outcome"] != outcomes.OK).sum()),
        "fault_reads": len(during),
        "fault_read_errors": int((during["outcome"] != outcomes.OK).sum()),
        "fault_ryw_violations": int(during["ryw_violation"].sum()),
        "fault_read_latency_mean_s": (float(during["latency_s"].mean()) if len(during) else 0.0),
    }
