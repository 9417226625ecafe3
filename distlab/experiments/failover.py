"""Failover of a primary/replica store: acknowledged writes lost, and what the remedy costs
(notebook 05, issue 11's experiment 2).

The course text says to "read from master for critical operations: always up-to-date". That holds
only while the primary lives. :func:`failover_run` runs the same seeded workload against a
``"primary"`` :class:`~distlab.sim.ReplicatedStore` once per replication mode: clients, each with
its own record (key ``c1``, ``c2``...), write it and read it back, always at the primary (they
find the current primary as a Sentinel-aware client does); the primary crashes at
``crash_at_s``; after ``failover_s`` the most advanced live replica is promoted (see
:mod:`distlab.sim.primary_replica`).

- ``"async"``: the primary acknowledges a write before any replica has it. The writes still in
  the replicas' apply queues when it crashes are gone: the new primary never had them, and when
  the old one comes back its divergent suffix is discarded. A client that reads its record from
  the new primary gets an older value than the one it was told was written: a ``stale_read`` at
  the primary, a read-your-writes violation (:func:`distlab.sessions.check_sessions` proves it).
- ``"semi-sync"``: the primary acknowledges once **one** replica has applied the write. The
  promoted replica is the one that has applied the longest log, so it holds every write some
  replica had applied, and thus every acknowledged write: none is lost **provided the replica
  that acknowledged is still alive at the failover** (with the primary and that replica both
  down, the write can be lost: one crash is survived, not two). The cost: a write waits for
  the fastest replica (latency), and with no replica reachable it answers ``unavailable``.
- ``"sync"``: every replica must apply each write: nothing lost, the highest latency, and while
  any node is down (the old primary, until it restarts and catches up) no write is
  acknowledged at all.

Tables: ``frame`` (one row per operation), ``applied`` (each version's arrival at each node, for
:func:`distlab.plots.replication_timeline`), ``lost`` (the acknowledged writes that vanished:
which client, value, log position, when acknowledged, and what the client read back),
``failovers``, ``crashes``, ``violations`` (session guarantees) and ``summary`` (per mode: lost
writes, stale reads, write latency median and p99, unavailability).

Lost writes against the replication lag, over seeds, is a :func:`~distlab.experiments.sweep`:
``sweep(failover_run, {"replication_lag_s": [0.01, 0.1, 0.5]}, seeds=range(10),
table="summary")``.

>>> r = failover_run(seed=0)
>>> int(r.summary.loc["async", "lost_acknowledged"]) > 0
True
>>> r.summary.loc[["semi-sync", "sync"], "lost_acknowledged"].tolist()
[0, 0]
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choices, check_int, check_number, check_probability, check_seed
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work
from distlab.history import History, Operation
from distlab.sessions import SessionReport, check_sessions
from distlab.sim import REPLICATION_MODES, Crash, Exponential, FaultSchedule, Network, World
from distlab.sim.recording_store import RecordingStore

__all__ = [
    "APPLIED_COLUMNS",
    "LOST_COLUMNS",
    "MAX_OPERATIONS",
    "MAX_WATCH_ROUNDS",
    "OPERATION_COLUMNS",
    "REPLICATIONS",
    "FailoverResult",
    "failover_run",
]

#: The replication modes compared (:data:`distlab.sim.REPLICATION_MODES`).
REPLICATIONS = REPLICATION_MODES
#: The most operations :func:`failover_run` simulates (all modes together).
MAX_OPERATIONS = 20_000
#: The most rounds of the failover watcher (every ``failover_s / 10``) one call simulates.
MAX_WATCH_ROUNDS = 200_000
#: Columns of :attr:`FailoverResult.frame`.
OPERATION_COLUMNS = [
    "variant", "client", "node", "f", "key", "value", "result", "stamp", "term", "lsn",
    "start", "end", "type", "outcome", "after_crash",
]  # fmt: skip
#: Columns of :attr:`FailoverResult.applied`.
APPLIED_COLUMNS = [
    "variant", "node", "time", "key", "value", "stamp", "term", "lsn", "client", "lost",
]  # fmt: skip
#: Columns of :attr:`FailoverResult.lost`.
LOST_COLUMNS = [
    "variant", "client", "key", "value", "term", "lsn", "written_at", "acknowledged_at",
    "read_back", "read_back_at", "overwritten_at",
]  # fmt: skip


#: The types of :attr:`FailoverResult.lost`'s number columns (a mode that lost nothing adds an
#: empty frame, which would make them ``object`` in the concatenation, and unroundable).
_LOST_TYPES = {"term": int, "lsn": int, "written_at": float, "acknowledged_at": float,
               "read_back_at": float, "overwritten_at": float}  # fmt: skip


@dataclass(frozen=True)
class FailoverResult(Result):
    """What :func:`failover_run` returns.

    Attributes:
        frame: one row per operation (:data:`OPERATION_COLUMNS`): ``variant`` (the replication
            mode), ``client``, ``node`` (where it was sent: the primary at the time), ``f``
            (read or write), ``key`` (the client's record), ``value`` (written), ``result``
            (read), ``stamp`` (the version read, or the version the write created, known to
            the store even when the client got no answer: ``(term, lsn, seq)``; ``None`` for the
            initial value or a write that never reached a primary), ``term`` and ``lsn`` (its
            log position), ``start``, ``end`` (s),
            ``type`` (the history's ok / fail / info), ``outcome`` (``ok``, ``timeout``,
            ``unavailable``, ``stale_read``: a read older than the latest write of its key
            acknowledged before it started, ``lost_write``: an acknowledged write a failover
            discarded) and ``after_crash`` (invoked at or after the crash).
        summary: one row per replication mode (index ``variant``): ``operations``, ``writes``,
            ``acknowledged`` (writes answered ok), ``lost_acknowledged``, ``lost_unacknowledged``
            (writes discarded whose client never heard ok), ``stale_reads``,
            ``reads_of_lost`` (answered reads that returned a version a failover later
            discarded: the primary applies a write before it waits for the replicas, so in
            every mode a read at the primary can see a write that is not yet safe, as MySQL's
            ``AFTER_COMMIT`` wait point allows), ``reads_of_unavailable`` (answered reads
            that returned a version whose write was answered ``unavailable``: the primary had
            logged it, so it replicates and is read, and a client that retries it writes it
            twice), ``ryw_violations`` and ``mr_violations`` (a count of **sessions**, not
            reads: the sessions whose read-your-writes or monotonic reads the checker finds
            violated),
            ``timeouts``, ``unavailable``, ``availability`` (share of operations answered),
            ``write_median_s``, ``write_p99_s`` (latency of acknowledged writes),
            ``failover_at_s`` (NaN without a failover), ``new_primary`` and ``write_outage_s``
            (from the crash to the acknowledgement of the first write invoked after it; NaN if
            none was).
        params: the parameters used, ``seed`` included.
        applied: one row per version a node applied (:data:`APPLIED_COLUMNS`), the first time
            it did: ``node``, ``time``, ``key``, ``value``, ``stamp``, ``term``, ``lsn``,
            ``client`` (the writer) and ``lost`` (discarded at a failover).
        lost: the acknowledged writes that vanished (:data:`LOST_COLUMNS`): ``client``, ``key``,
            ``value``, ``term``, ``lsn``, ``written_at`` and ``acknowledged_at`` (s), and
            ``read_back``/``read_back_at``: what the client's first read of its record after the
            failover returned, and when, counting only reads before the client's own next
            write of the record that survived (``None``/NaN if it made none), and
            ``overwritten_at``: when that later write was invoked, if the client wrote again
            before reading back, so its own new value hid the loss from it (NaN otherwise).
        failovers: ``variant, time, old, new, term`` per promotion.
        crashes: the crash as bands: ``variant, start, end, state, label, node`` (``end`` NaN
            when the node stays down).
        violations: the session checker's violations (:meth:`SessionReport.to_frame` with a
            ``variant`` column first).
        sessions: ``{variant: SessionReport}``.
        histories: ``{variant: History}`` of the clients' operations (process = client).

    >>> r = failover_run("async", seed=0)
    >>> r.lost[["client", "value", "term", "lsn"]].values.tolist()
    [['c2', 15, 1, 15], ['c3', 16, 1, 16], ['c1', 17, 1, 17], ['c1', 18, 1, 18]]
    >>> r.sessions["async"].violated()["read_your_writes"]
    2
    """

    applied: pd.DataFrame
    lost: pd.DataFrame
    failovers: pd.DataFrame
    crashes: pd.DataFrame
    violations: pd.DataFrame
    sessions: dict
    histories: dict


def failover_run(
    replications: tuple[str, ...] | list[str] | str = REPLICATIONS,
    *,
    nodes: int = 3,
    clients: int = 3,
    read_share: float = 0.5,
    think_s: float = 0.05,
    replication_lag_s: float = 0.1,
    latency_s: float = 0.005,
    crash_at_s: float = 1.0,
    down_s: float | None = 2.0,
    failover_s: float = 0.5,
    duration_s: float = 4.0,
    timeout_s: float = 0.5,
    phase_timeout_s: float = 0.4,
    seed: int = 0,
) -> FailoverResult:
    """Crash the primary of a ``nodes``-node primary/replica store under a read/write workload,
    once per mode of ``replications``; count the acknowledged writes lost and the price of not
    losing them.

    ``clients`` clients (``c1``...) each loop until ``duration_s``: wait Exponential(``think_s``),
    then read their record (probability ``read_share``) or write it a new unique value, at the
    current primary, and wait for the answer (at most ``timeout_s``). Each replica applies a
    shipped write Exponential(``replication_lag_s``) after it arrived (0: at once), in log order;
    messages take Exponential(``latency_s``). The primary ``n1`` crashes at ``crash_at_s`` and
    restarts ``down_s`` later (``None``: never); a replica is promoted once it has been down
    ``failover_s``. A write waits at most ``phase_timeout_s`` for the replicas' acknowledgements
    (``"semi-sync"``, ``"sync"``), then answers ``unavailable``. The client workload is drawn
    from its own generator, so every mode sees the same think times and operations.

    Work is bounded before anything runs (:data:`MAX_OPERATIONS`, :data:`MAX_WATCH_ROUNDS`).

    >>> r = failover_run("async", seed=0)
    >>> row = r.lost.iloc[0]
    >>> bool(row.acknowledged_at < 1.0 and row.read_back != row.value)
    True
    """
    p = _validate(dict(locals()))
    runs = [(mode, _simulate(mode, p)) for mode in p["replications"]]
    return _result(p, runs)


def _validate(p: dict[str, Any]) -> dict[str, Any]:
    p["replications"] = _replications(p["replications"])
    p["nodes"] = check_int("nodes", p["nodes"], 2, 9)
    p["clients"] = check_int("clients", p["clients"], 1, 50)
    p["read_share"] = check_probability("read_share", p["read_share"])
    p["think_s"] = check_number("think_s", p["think_s"], 0.0, 10.0, min_inclusive=False)
    for name in ("replication_lag_s", "latency_s"):
        p[name] = check_number(name, p[name], 0.0, 60.0)
    p["duration_s"] = check_number("duration_s", p["duration_s"], 0.0, 600.0, min_inclusive=False)
    p["crash_at_s"] = check_number("crash_at_s", p["crash_at_s"], 0.0, 600.0)
    if p["crash_at_s"] >= p["duration_s"]:
        raise ValueError(
            f"crash_at_s={p['crash_at_s']:g} must be before duration_s={p['duration_s']:g}, "
            "the end of the workload"
        )
    if p["down_s"] is not None:
        p["down_s"] = check_number("down_s", p["down_s"], 0.0, 3600.0, min_inclusive=False)
    p["failover_s"] = check_number("failover_s", p["failover_s"], 0.0, 600.0)
    for name in ("timeout_s", "phase_timeout_s"):
        p[name] = check_number(name, p[name], 0.0, 60.0, min_inclusive=False)
    p["seed"] = check_seed(p["seed"])
    check_work(
        "operations",
        len(p["replications"]) * p["clients"] * p["duration_s"] / p["think_s"],
        MAX_OPERATIONS,
        f"clients={p['clients']} thinking think_s={p['think_s']:g} for duration_s="
        f"{p['duration_s']:g} in {len(p['replications'])} modes",
    )
    until = p["duration_s"] + p["timeout_s"]
    check_work(
        "failover-watcher rounds",
        len(p["replications"]) * until / max(1e-3, p["failover_s"] / 10),
        MAX_WATCH_ROUNDS,
        f"failover_s={p['failover_s']:g} (the watcher looks every failover_s / 10, at least "
        f"every 1 ms) for duration_s={p['duration_s']:g}",
    )
    return p


def _replications(value: Any) -> tuple[str, ...]:
    return check_choices("replications", value, REPLICATIONS, noun="a mode")


@dataclass
class _Run:
    """One mode's run: the store, what the clients saw, and when each version got where."""

    store: RecordingStore
    results: list
    writer: dict  # (key, value) -> client


def _simulate(mode: str, p: dict[str, Any]) -> _Run:
    world = World(seed=p["seed"], log_messages=False)
    latency = Exponential(p["latency_s"]) if p["latency_s"] > 0 else 0.0
    net = Network(world, latency=latency)
    lag = Exponential(p["replication_lag_s"]) if p["replication_lag_s"] > 0 else 0.0
    store = RecordingStore(
        net, "primary", p["nodes"], replication=mode, replication_lag=lag,
        failover_s=p["failover_s"], phase_timeout_s=p["phase_timeout_s"],
    )  # fmt: skip
    FaultSchedule([Crash(p["crash_at_s"], p["down_s"], store.names[0])]).apply(net)
    workload = np.random.default_rng([p["seed"], 1])  # the same in every mode
    run = _Run(store, [], {})
    counter = iter(range(1, 10**9))
    names = [f"c{i}" for i in range(1, p["clients"] + 1)]
    for name in names:
        store.attach_client(name, store.names[0])
    for name, rng in zip(names, workload.spawn(len(names))):
        world.env.process(_client(world, store, name, rng, counter, run, p))
    world.run(until=p["duration_s"] + p["timeout_s"])
    return run


def _client(world: World, store: RecordingStore, name: str, rng, counter, run: _Run, p):
    env = world.env
    while True:
        yield env.timeout(float(rng.exponential(p["think_s"])))
        if env.now >= p["duration_s"]:
            return
        if float(rng.random()) < p["read_share"]:
            f, value = "read", None
        else:
            f, value = "write", next(counter)
            run.writer[name, value] = name
        primary = store.protocol.primary  # the client asks where the primary is (Sentinel)
        r = yield store.request(name, f, name, value, timeout_s=p["timeout_s"], node=primary)
        run.results.append(r)


# -- tables -----------------------------------------------------------------------------------


def _result(p: dict[str, Any], runs: list[tuple[str, _Run]]) -> FailoverResult:
    frames, applied, lost, failovers, violations = [], [], [], [], []
    sessions, histories, rows = {}, {}, {}
    for mode, run in runs:
        ops = _operations(mode, run, p)
        history = _history(ops)
        report = check_sessions(history, versions=_versions(ops))
        frames.append(ops)
        applied.append(_applied(mode, run))
        lost.append(_lost(mode, run, ops))
        failovers.append(
            pd.DataFrame([(mode, t, old, new, term) for term, (t, old, new) in
                          enumerate(run.store.protocol.failovers, start=2)],
                         columns=["variant", "time", "old", "new", "term"])
        )  # fmt: skip
        violations.append(report.to_frame().assign(variant=mode))
        sessions[mode], histories[mode] = report, history
        rows[mode] = _summary(ops, run, report, failovers[-1], p)
    end = math.nan if p["down_s"] is None else p["crash_at_s"] + p["down_s"]
    crashes = pd.DataFrame(
        [(mode, p["crash_at_s"], end, "crashed", "crash n1", "n1") for mode, _ in runs],
        columns=["variant", "start", "end", "state", "label", "node"],
    )
    violation_frame = pd.concat(violations, ignore_index=True)
    violation_frame = violation_frame[["variant", *violation_frame.columns[:-1]]]
    return FailoverResult(
        frame=pd.concat(frames, ignore_index=True),
        summary=pd.DataFrame.from_dict(rows, orient="index").rename_axis("variant"),
        params=plain_params(**p),
        applied=pd.concat(applied, ignore_index=True),
        lost=pd.concat(lost, ignore_index=True).astype(_LOST_TYPES),
        failovers=pd.concat(failovers, ignore_index=True),
        crashes=crashes,
        violations=violation_frame,
        sessions=sessions,
        histories=histories,
    )


def _operations(mode: str, run: _Run, p: dict[str, Any]) -> pd.DataFrame:
    lost = {rec.stamp for rec in run.store.lost_acknowledged()}
    results = sorted(run.results, key=lambda r: (r.start, r.client))
    stale = _stale(results)
    created = {(rec.value, rec.f): stamp for stamp, rec in run.store.writes.items()}
    rows = []
    for i, r in enumerate(results):
        outcome = r.outcome
        if r.f == "write" and r.outcome == outcomes.OK and r.stamp in lost:
            outcome = outcomes.LOST_WRITE
        elif i in stale:
            outcome = outcomes.STALE_READ
        stamp = created.get((r.value, r.f)) if r.f == "write" else r.stamp
        stamp = stamp if stamp is not None and stamp[0] > 0 else None
        term, lsn = (stamp[0], stamp[1]) if stamp else (None, None)
        rows.append((mode, r.client, r.node, r.f, r.key, r.value, r.result, stamp, term, lsn,
                     r.start, r.end, r.type, outcome, r.start >= p["crash_at_s"]))  # fmt: skip
    return _table(rows, OPERATION_COLUMNS, objects=("value", "result", "stamp", "term", "lsn"))


def _table(rows: list[tuple], columns: list[str], *, objects: tuple[str, ...]) -> pd.DataFrame:
    """A frame whose ``objects`` columns keep Python values (``None`` stays ``None``, an int an
    int), the others inferred."""
    data = {c: list(values) for c, values in zip(columns, zip(*rows))} if rows else {}
    return pd.DataFrame(
        {c: pd.Series(data.get(c, []), dtype=object if c in objects else None) for c in columns}
    )


def _stale(results: list) -> set[int]:
    """Indices of ok reads older than the latest write of their key acknowledged before they
    started (stamps compare as log positions: a later term wins)."""
    acked: dict[str, list[tuple[float, tuple]]] = {}
    for r in results:
        if r.f == "write" and r.outcome == outcomes.OK:
            acked.setdefault(r.key, []).append((r.end, r.stamp))
    latest: dict[str, tuple[list[float], list[tuple]]] = {}
    for key, writes in acked.items():
        writes.sort()
        best, prefix = None, []
        for _, stamp in writes:
            best = stamp if best is None or stamp > best else best
            prefix.append(best)
        latest[key] = ([end for end, _ in writes], prefix)
    stale = set()
    for i, r in enumerate(results):
        if r.f != "read" or r.outcome != outcomes.OK or r.key not in latest:
            continue
        ends, prefix = latest[r.key]
        k = bisect.bisect_left(ends, r.start)
        if k and prefix[k - 1] > r.stamp:
            stale.add(i)
    return stale


def _history(ops: pd.DataFrame) -> History:
    events = []
    columns = ("client", "f", "key", "value", "result", "start", "end", "type")
    for client, f, key, value, result, start, end, kind in zip(*(ops[c] for c in columns)):
        events.append((start, client, "invoke", f, key, value))
        events.append((end, client, kind, f, key, result if f == "read" else value))
    return History.from_events(sorted(events, key=lambda e: e[0]))


def _versions(ops: pd.DataFrame):
    """Each write's version: its stamp (a log position), or, for a write that never reached
    the primary, a version after every real one."""
    known = {
        (key, value): stamp
        for f, key, value, stamp in zip(ops["f"], ops["key"], ops["value"], ops["stamp"])
        if f == "write" and stamp is not None
    }

    def version(op: Operation) -> tuple:
        return known.get((op.key, op.value), (math.inf, math.inf, op.value))

    return version


def _applied(mode: str, run: _Run) -> pd.DataFrame:
    lost = set(run.store.protocol.lost)
    rows = [
        (mode, node, time, key, value, stamp, stamp[0], stamp[1], run.writer.get((key, value)),
         stamp in lost)
        for node, time, key, stamp, value in run.store.applied
    ]  # fmt: skip
    return _table(rows, APPLIED_COLUMNS, objects=("value", "stamp", "client"))


def _lost(mode: str, run: _Run, ops: pd.DataFrame) -> pd.DataFrame:
    failed_over = [t for t, _, _ in run.store.protocol.failovers]
    discarded = set(run.store.protocol.lost)
    columns = ("f", "client", "key", "stamp", "start", "result", "type")
    rows_of = list(zip(*(ops[c].tolist() for c in columns)))
    writer = {stamp: (client, key) for f, client, key, stamp, *_ in rows_of if f == "write"}
    rows = []
    for rec in run.store.lost_acknowledged():
        client, key = writer[rec.stamp]
        after = next((t for t in failed_over if t > rec.end), math.inf)
        # the client's next write of its record that survived hides the loss from it
        overwritten = next(
            (start for f, c, k, stamp, start, *_ in rows_of
             if f == "write" and c == client and k == key and start > rec.start
             and stamp is not None and stamp not in discarded),
            math.inf,
        )  # fmt: skip
        back = next(
            ((start, result) for f, c, k, _, start, result, kind in rows_of
             if f == "read" and kind == "ok" and c == client and k == key
             and after <= start < overwritten),
            (math.nan, None),
        )  # fmt: skip
        hidden = overwritten if back[1] is None and overwritten < math.inf else math.nan
        rows.append((mode, client, key, rec.value, rec.stamp[0], rec.stamp[1], rec.start,
                     rec.end, back[1], back[0], hidden))  # fmt: skip
    return _table(rows, LOST_COLUMNS, objects=("value", "read_back"))


def _summary(ops, run: _Run, report: SessionReport, failovers, p) -> dict[str, Any]:
    outcome = ops["outcome"]
    writes = ops[ops["f"] == "write"]
    acked = writes[writes["outcome"].isin([outcomes.OK, outcomes.LOST_WRITE])]
    latency = (acked["end"] - acked["start"]).to_numpy()
    lost_all = set(run.store.protocol.lost)
    lost_acked = {rec.stamp for rec in run.store.lost_acknowledged()}
    answered = outcome.isin([outcomes.OK, outcomes.STALE_READ, outcomes.LOST_WRITE])
    after = acked[acked["start"] >= p["crash_at_s"]]
    refused = set(writes.loc[writes["outcome"] == outcomes.UNAVAILABLE, "stamp"]) - {None}
    return {
        "operations": len(ops),
        "writes": len(writes),
        "acknowledged": len(acked),
        "lost_acknowledged": len(lost_acked),
        "lost_unacknowledged": len(lost_all - lost_acked),
        "stale_reads": int((outcome == outcomes.STALE_READ).sum()),
        "reads_of_lost": sum(
            f == "read" and stamp in lost_all for f, stamp in zip(ops["f"], ops["stamp"])
        ),
        "reads_of_unavailable": sum(
            f == "read" and kind == "ok" and stamp in refused
            for f, kind, stamp in zip(ops["f"], ops["type"], ops["stamp"])
        ),
        "ryw_violations": int(report.violated()["read_your_writes"]),
        "mr_violations": int(report.violated()["monotonic_reads"]),
        "timeouts": int((outcome == outcomes.TIMEOUT).sum()),
        "unavailable": int((outcome == outcomes.UNAVAILABLE).sum()),
        "availability": float(answered.mean()) if len(ops) else math.nan,
        "write_median_s": float(np.median(latency)) if len(latency) else math.nan,
        "write_p99_s": float(np.quantile(latency, 0.99)) if len(latency) else math.nan,
        "failover_at_s": float(failovers["time"].iloc[0]) if len(failovers) else math.nan,
        "new_primary": str(failovers["new"].iloc[0]) if len(failovers) else "",
        "write_outage_s": float(after["end"].min() - p["crash_at_s"]) if len(after) else math.nan,
    }
