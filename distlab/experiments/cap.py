"""The CAP trade-off, as an experiment (notebook 06).

:func:`run` drives the same seeded workload (reads, writes and, for the stores that support it,
compare-and-set, from several clients, each attached to one store node) against a replicated store
of :mod:`distlab.sim.stores` while the network splits and heals, classifies every operation
(ok, unavailable, timeout, stale read, lost write), asks the linearizability checker for a verdict
and measures when the replicas agree again after the heal.

Partition shapes (:data:`PARTITIONS`), for nodes ``n1..nN``:

- ``"majority-minority"``: ``{n1..n(N//2+1)} | {the rest}``;
- ``"isolate-one"``: the last node alone;
- ``"bridge"``: ``left | bridge | right`` where the bridge node still talks to both halves but
  the halves cannot talk to each other (a :class:`~distlab.sim.BridgePartition`);
- ``"none"``: no partition (PACELC's "else": latency against consistency).

Clients sit with their node: a client on the minority side can reach its node, not the others.

:data:`USE_CASES` holds the course's table (banking, social media, e-commerce inventory,
recommendations, healthcare records, analytics dashboard) and :func:`consequences` turns a run's
summary into that domain's terms.

>>> from distlab.experiments.cap import run
>>> cp = run("cp", seed=0)
>>> cp.summary[["availability_majority", "availability_minority"]].to_dict("records")
[{'availability_majority': 1.0, 'availability_minority': 0.0}]
>>> ap = run("ap", seed=0)
>>> ap.summary[["availability_minority", "converged"]].to_dict("records")
[{'availability_minority': 1.0, 'converged': True}]
"""

from __future__ import annotations

import bisect
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_seed,
)
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import check_work
from distlab.history import History
from distlab.linearizability import check_linearizable
from distlab.sim import (
    STORE_KINDS,
    BridgePartition,
    Exponential,
    Fault,
    FaultSchedule,
    Network,
    Partition,
    ReplicatedStore,
    World,
)
from distlab.sim.store_protocols import PROTOCOLS
from distlab.sim.stores import MIN_ANTI_ENTROPY_S

__all__ = [
    "MAX_ANTI_ENTROPY_ROUNDS",
    "MAX_CHECK_STEPS",
    "MAX_OPERATIONS",
    "OPERATION_COLUMNS",
    "OUTCOMES",
    "PARTITIONS",
    "STORES",
    "USE_CASES",
    "CapResult",
    "UseCase",
    "UseCaseComparison",
    "UseCaseResult",
    "compare_use_case",
    "consequences",
    "partition_groups",
    "run",
    "use_case_run",
]

#: Store kinds (see :mod:`distlab.sim.stores`).
STORES = STORE_KINDS
#: Partition shapes.
PARTITIONS = ("majority-minority", "isolate-one", "bridge", "none")
#: Outcomes of an operation (:mod:`distlab.outcomes` words), for the plots.
OUTCOMES = (
    outcomes.OK,
    outcomes.UNAVAILABLE,
    outcomes.TIMEOUT,
    outcomes.STALE_READ,
    outcomes.LOST_WRITE,
)
_ANSWERED = (outcomes.OK, outcomes.STALE_READ, outcomes.LOST_WRITE)
#: Columns of :attr:`CapResult.frame`.
OPERATION_COLUMNS = [
    "client",
    "process",
    "node",
    "side",
    "f",
    "key",
    "value",
    "result",
    "start",
    "end",
    "type",
    "outcome",
    "during_partition",
    "conflicting",
]
#: The most operations :func:`run` simulates.
MAX_OPERATIONS = 5_000
#: The most anti-entropy rounds (all nodes together) :func:`run` simulates.
MAX_ANTI_ENTROPY_ROUNDS = 200_000
#: The largest search budget :func:`run` gives the linearizability checker per key.
MAX_CHECK_STEPS = 100_000_000


# -- partitions -------------------------------------------------------------------------------


def partition_groups(partition: str, nodes: int) -> list[tuple[str, list[str]]]:
    """The sides of ``partition`` (a shape of :data:`PARTITIONS`) over nodes ``n1..n{nodes}``:
    ``[(label, names), ...]``.

    A side holding a majority of the whole cluster is ``"majority"``, another ``"minority"``;
    the bridge's sides are ``"left"``, ``"bridge"``, ``"right"``; no partition is ``"all"``.

    >>> partition_groups("majority-minority", 5)
    [('majority', ['n1', 'n2', 'n3']), ('minority', ['n4', 'n5'])]
    >>> partition_groups("bridge", 5)
    [('left', ['n1', 'n2']), ('bridge', ['n3']), ('right', ['n4', 'n5'])]
    """
    check_choice("partition", partition, PARTITIONS)
    nodes = check_int("nodes", nodes, 1, 15)
    names = [f"n{i}" for i in range(1, nodes + 1)]
    if partition == "none":
        return [("all", names)]
    if nodes < 3:
        raise ValueError(f"nodes={nodes} must be at least 3 for partition={partition!r}")
    majority = nodes // 2 + 1

    def label(group: list[str]) -> str:
        return "majority" if len(group) >= majority else "minority"

    if partition == "majority-minority":
        return [("majority", names[:majority]), ("minority", names[majority:])]
    if partition == "isolate-one":
        return [(label(names[:-1]), names[:-1]), ("minority", names[-1:])]
    left_n = (nodes - 1) // 2
    return [("left", names[:left_n]), ("bridge", [names[left_n]]), ("right", names[left_n + 1 :])]


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapResult(Result):
    """What :func:`run` returns.

    Attributes:
        frame: one row per operation (:data:`OPERATION_COLUMNS`): ``client`` ("c1"...),
            ``process`` (the history's process: a client gets a new one after an operation of
            unknown outcome, as in Jepsen), ``node`` (its store node), ``side`` (of the
            partition), ``f`` (read, write, cas), ``key``, ``value`` (written value, or
            ``(expected, new)``), ``result`` (value read; for a cas that found another value,
            that value), ``start``, ``end`` (s), ``type`` (Jepsen's history type ok / fail /
            info: a cas that found another value is ``fail``), ``outcome`` (:data:`OUTCOMES`; a
            cas that found another value is an answer: ``ok``), ``during_partition`` (invoked
            while the partition lasted), ``conflicting`` (``"same side"``, ``"other side"`` or
            ``""``: an acknowledged write that had not seen an earlier acknowledged one).
        summary: one row for the run, indexed by ``store``, of plain numbers: ``operations``,
            ``ok``, ``unavailable``, ``timeout``, ``stale_reads``, ``lost_writes``,
            ``conflicting_writes``, ``split_brain`` (writes acknowledged on two sides during the
            partition that did not see each other), ``availability`` and
            ``availability_<side>`` for each side (see :attr:`availability`),
            ``writes_ok_<side>`` (writes and cas invoked and acknowledged during the partition),
            ``minority_writes_ok`` (the same on the sides labelled ``minority``), ``verdict``
            (``linearizable``, ``not-linearizable``, ``unknown`` or ``unchecked``),
            ``converged`` (all replicas equal at the end), ``converged_at_s`` (first moment
            after the heal with all replicas equal; NaN if never) and ``convergence_s`` (that
            minus the heal time). The side columns depend on the partition shape (``majority``
            and ``minority``; ``left``, ``bridge``, ``right``; ``all``). No wall-clock time:
            the same parameters and seed give the same summary.
        params: the parameters used (:func:`run`'s, after validation), ``seed`` included.
        availability: per side, during the partition: ``side``, ``requests`` (operations
            invoked while it lasted), ``completed`` (of those, answered or given up before the
            heal), ``answered`` (of the completed, the ones that got a non-error answer: ok,
            stale read or lost write; "unavailable" and timeouts are not) and ``availability``
            (answered / completed; NaN if none completed). An operation still waiting at the
            heal is left out of both. Without a partition every operation counts.
        events: the world's event log (see :meth:`distlab.sim.World.events`).
        history: a :class:`distlab.History` of the operations; keys are ``None`` when there is
            one key (register models).
        partition: the partition as bands: ``start, end, state, label`` (``state`` is
            ``"partitioned"``; empty for ``"none"``).
        sides: side label -> node names.
        check: the checker's result per key (empty if unchecked).
        replicas: final ``{node: {key: value}}``.
    """

    availability: pd.DataFrame
    events: pd.DataFrame
    history: History
    partition: pd.DataFrame
    sides: dict
    check: dict
    replicas: dict


# -- the run ----------------------------------------------------------------------------------


def run(
    store: str = "cp",
    *,
    nodes: int = 5,
    partition: str = "majority-minority",
    partition_at_s: float = 0.5,
    partition_s: float = 1.0,
    after_s: float = 0.5,
    settle_s: float = 0.5,
    clients: int | None = None,
    read_share: float = 0.5,
    cas_share: float = 0.0,
    keys: int = 1,
    think_s: float = 0.15,
    latency_s: float = 0.01,
    loss: float = 0.0,
    timeout_s: float = 0.5,
    phase_timeout_s: float = 0.2,
    clock_skew_s: float = 0.02,
    anti_entropy_s: float | None = None,
    check: bool = True,
    check_max_steps: int = 2_000_000,
    log_messages: bool = False,
    seed: int = 0,
) -> CapResult:
    """Run ``clients`` clients against a ``store`` of ``nodes`` replicas while ``partition``
    cuts the network from ``partition_at_s`` for ``partition_s`` seconds.

    Each client (``c1``, ``c2``... attached round-robin to ``n1``, ``n2``...) waits
    Exponential(``think_s``) then issues one operation and waits for its answer (closed loop),
    until ``after_s`` after the heal; the world then runs ``settle_s`` more for the replicas to
    converge. An operation is a read with probability ``read_share``, a compare-and-set with
    ``cas_share`` (not for the CP kinds: ABD has no cas), a write otherwise; written values are
    unique integers 1, 2, 3... and a cas expects the last value its client saw. Messages take
    Exponential(``latency_s``) seconds and are lost with probability ``loss``; clients give up
    after ``timeout_s``, coordinators after ``phase_timeout_s``; ``clock_skew_s`` offsets the
    node clocks that ``"ap"`` and ``"course-quorum"`` stamp versions with; ``anti_entropy_s`` is
    the period of the background repair (``None``: the store's default, ``0``: off).

    ``check``: ask :func:`distlab.check_linearizable` for a verdict, one key at a time
    (``register`` or ``cas-register`` model), with a deterministic search budget of
    ``check_max_steps`` steps per key (``"unknown"`` only beyond it: the verdict never depends
    on the machine's speed).

    Work is bounded before anything runs: at most :data:`MAX_OPERATIONS` operations and
    :data:`MAX_ANTI_ENTROPY_ROUNDS` anti-entropy rounds (a ``ValueError`` names the
    parameters to change).

    >>> r = run("course-quorum", seed=1)
    >>> r.summary[["split_brain", "availability_minority", "verdict"]].to_dict("records")
    [{'split_brain': True, 'availability_minority': 1.0, 'verdict': 'not-linearizable'}]
    """
    p = _validate_run(dict(locals()))  # every argument, by name, before anything else
    sim = _Simulation(p)
    sim.run()
    return _result(p, sim)


def _validate_run(p: dict[str, Any]) -> dict[str, Any]:
    """``run``'s arguments checked (and filled in), in the order a caller reads them."""
    kind = p["store"] = check_choice("store", p["store"], STORE_KINDS)
    nodes = p["nodes"] = check_int("nodes", p["nodes"], 1, 15)
    check_choice("partition", p["partition"], PARTITIONS)
    for name, low_open in (("partition_at_s", False), ("partition_s", True)):
        p[name] = check_number(name, p[name], 0.0, 60.0, min_inclusive=not low_open)
    for name in ("after_s", "settle_s"):
        p[name] = check_number(name, p[name], 0.0, 60.0)
    p["clients"] = nodes if p["clients"] is None else check_int("clients", p["clients"], 1, 50)
    read_share = p["read_share"] = check_probability("read_share", p["read_share"])
    cas_share = p["cas_share"] = check_probability("cas_share", p["cas_share"])
    if read_share + cas_share > 1:
        raise ValueError(f"read_share={read_share:g} + cas_share={cas_share:g} must be at most 1")
    if cas_share > 0 and not PROTOCOLS[kind].supports_cas:
        raise ValueError(
            f"cas_share={cas_share:g} needs a store with compare-and-set; store={kind!r} is an "
            "ABD read/write register (a linearizable cas needs consensus): use cas_share=0"
        )
    p["keys"] = check_int("keys", p["keys"], 1, 8)
    p["think_s"] = check_number("think_s", p["think_s"], 0.0, 10.0, min_inclusive=False)
    p["latency_s"] = check_number("latency_s", p["latency_s"], 0.0, 1.0)
    p["loss"] = check_probability("loss", p["loss"])
    for name in ("timeout_s", "phase_timeout_s"):
        p[name] = check_number(name, p[name], 0.0, 60.0, min_inclusive=False)
    p["clock_skew_s"] = check_number("clock_skew_s", p["clock_skew_s"], 0.0, 10.0)
    p["check"] = check_bool("check", p["check"])
    p["check_max_steps"] = check_int("check_max_steps", p["check_max_steps"], 1, MAX_CHECK_STEPS)
    p["log_messages"] = check_bool("log_messages", p["log_messages"])
    p["seed"] = check_seed(p["seed"])
    partition_groups(p["partition"], nodes)  # the shape needs enough nodes
    _check_anti_entropy(p)
    end_ops = p["partition_at_s"] + p["partition_s"] + p["after_s"]
    check_work(
        "operations",
        p["clients"] * end_ops / p["think_s"],
        MAX_OPERATIONS,
        f"clients={p['clients']} thinking think_s={p['think_s']:g} for {end_ops:g} s",
    )
    return p


def _check_anti_entropy(p: dict[str, Any]) -> None:
    period = p["anti_entropy_s"]
    if period is None:
        return
    period = p["anti_entropy_s"] = check_number("anti_entropy_s", period, 0.0, 60.0)
    if 0 < period < MIN_ANTI_ENTROPY_S:
        raise ValueError(
            f"anti_entropy_s={period:g} must be 0 (off) or at least {MIN_ANTI_ENTROPY_S:g} s"
        )
    if period > 0:
        until = p["partition_at_s"] + p["partition_s"] + p["after_s"] + p["settle_s"]
        check_work(
            "anti-entropy rounds",
            p["nodes"] * until / period,
            MAX_ANTI_ENTROPY_ROUNDS,
            f"nodes={p['nodes']} with anti_entropy_s={period:g} for {until:g} s",
        )


class _Simulation:
    """One run of :func:`run`: the world, the store, the fault and the clients' closed loops."""

    def __init__(self, p: dict[str, Any]) -> None:
        self.p = p
        self.world = World(seed=p["seed"], log_messages=p["log_messages"])
        latency = Exponential(p["latency_s"]) if p["latency_s"] > 0 else 0.0
        self.net = Network(self.world, latency=latency, loss=p["loss"])
        self.store = ReplicatedStore(
            self.net,
            p["store"],
            p["nodes"],
            phase_timeout_s=p["phase_timeout_s"],
            anti_entropy_s=p["anti_entropy_s"],
            clock_skew_s=p["clock_skew_s"],
        )
        self.sides = partition_groups(p["partition"], p["nodes"])
        self.heal_at = p["partition_at_s"] + p["partition_s"]
        self.end_ops = self.heal_at + p["after_s"]
        self.side_of = {n: label for label, names in self.sides for n in names}
        self.clients = [f"c{i}" for i in range(1, p["clients"] + 1)]
        self.home = {c: self.store.names[i % p["nodes"]] for i, c in enumerate(self.clients)}
        for c in self.clients:
            self.store.attach_client(c, self.home[c])
            self.side_of[c] = self.side_of[self.home[c]]
        self.fault = self._fault()
        if self.fault is not None:
            FaultSchedule([self.fault]).apply(self.net)
        self.store.watch_convergence(self.heal_at)
        keys = p["keys"]
        self.keys = ["x"] if keys == 1 else [f"k{i}" for i in range(1, keys + 1)]
        self.written = 0
        self.results: list[tuple[Any, int]] = []  # (StoreResult, process)
        self.events: list[tuple] = []  # the history's (time, process, type, f, key, value)

    def _fault(self) -> Fault | None:
        p = self.p
        if p["partition"] == "none":
            return None
        if p["partition"] == "bridge":
            left, bridge, right = (g for _, g in self.sides)
            return BridgePartition(p["partition_at_s"], p["partition_s"], left, bridge, right)
        groups = [g + [c for c in self.clients if self.home[c] in g] for _, g in self.sides]
        return Partition(p["partition_at_s"], p["partition_s"], groups)

    def run(self) -> None:
        for i, c in enumerate(self.clients):
            self.world.env.process(self._client(i, c))
        self.world.run(until=self.end_ops + self.p["settle_s"])

    def _next_operation(self, last_seen: dict[str, Any]) -> tuple[str, str, Any]:
        p, rng = self.p, self.world.rng
        u = float(rng.random())
        key = self.keys[int(rng.integers(p["keys"]))] if p["keys"] > 1 else self.keys[0]
        if u < p["read_share"]:
            return "read", key, None
        self.written += 1
        if u < p["read_share"] + p["cas_share"]:
            return "cas", key, (last_seen.get(key), self.written)
        return "write", key, self.written

    def _client(self, index: int, name: str):
        env, rng = self.world.env, self.world.rng
        process = index
        last_seen: dict[str, Any] = {}
        while True:
            yield env.timeout(float(rng.exponential(self.p["think_s"])))
            if env.now >= self.end_ops:
                return
            f, key, value = self._next_operation(last_seen)
            hkey = None if self.p["keys"] == 1 else key
            self.events.append((env.now, process, "invoke", f, hkey, value))
            r = yield self.store.request(name, f, key, value, timeout_s=self.p["timeout_s"])
            self.events.append(
                (r.end, process, r.type, f, hkey, r.result if f == "read" else value)
            )
            self.results.append((r, process))
            if r.outcome == outcomes.OK:
                seen = value[1] if f == "cas" else value
                last_seen[key] = r.result if f == "read" or r.applied is False else seen
            if r.type == "info":
                process += self.p[
                    "clients"
                ]  # Jepsen: a process with an unknown outcome is not reused


# -- tables -----------------------------------------------------------------------------------


def _tables(p: dict[str, Any], sim: _Simulation) -> tuple:
    """The operations, the availability, the checker's verdicts and the summary's fields."""
    partitioned = p["partition"] != "none"
    ops = _operations(sim, p["partition_at_s"], partitioned)
    availability = _availability(ops, [label for label, _ in sim.sides], sim.heal_at, partitioned)
    checks: dict = {}
    verdict = "unchecked"
    if p["check"]:
        checks = _check(sim.events, sim.keys if p["keys"] > 1 else [None], p["check_max_steps"])
        verdict = _combine([c.verdict for c in checks.values()])
    fields = _summary(ops, availability, sim, partitioned)
    fields["verdict"] = verdict
    fields.update(_convergence(sim))
    return ops, availability, checks, fields


def _result(p: dict[str, Any], sim: _Simulation) -> CapResult:
    partitioned = p["partition"] != "none"
    ops, availability, checks, fields = _tables(p, sim)
    history = History.from_events(sorted(sim.events, key=lambda e: e[0]))
    bands = pd.DataFrame(
        [(p["partition_at_s"], sim.heal_at, "partitioned", sim.fault.label)] if partitioned else [],
        columns=["start", "end", "state", "label"],
    )
    st = sim.store
    return CapResult(
        frame=ops,
        summary=summary_row(p["store"], "store", **fields),
        params=plain_params(**p),
        availability=availability,
        events=sim.world.events(),
        history=history,
        partition=bands,
        sides={label: list(g) for label, g in sim.sides},
        check=checks,
        replicas={n: {k: v for k, (_, v) in st.replicas[n].items()} for n in st.names},
    )


def _operations(sim: _Simulation, p_start: float, partitioned: bool) -> pd.DataFrame:
    results, st = sim.results, sim.store
    lost = set(st.lost_writes())
    stale = _stale_reads(results)
    conflicting = _conflicting_writes(results, st, sim.side_of)
    rows = []
    for i, (r, process) in enumerate(results):
        outcome = r.outcome
        if r.outcome == outcomes.OK and r.applied and r.stamp in lost:
            outcome = outcomes.LOST_WRITE
        elif i in stale:
            outcome = outcomes.STALE_READ
        rows.append(
            (
                r.client,
                process,
                r.node,
                sim.side_of[r.client],
                r.f,
                r.key,
                r.value,
                r.result,
                r.start,
                r.end,
                r.type,
                outcome,
                partitioned and p_start <= r.start < sim.heal_at,
                conflicting.get(i, ""),
            )
        )
    ops = pd.DataFrame(rows, columns=OPERATION_COLUMNS)
    return ops.sort_values(["start", "client"], kind="stable").reset_index(drop=True)


def _visible(r: Any) -> bool:
    """Whether ``r`` returned or created a version others may see (not a cas that found
    another value, which changed nothing)."""
    return r.outcome == outcomes.OK and r.applied is not False and r.stamp is not None


def _stale_reads(results: list) -> set[int]:
    """Indices of ok reads that returned a version older than one already visible when they
    started: written by an acknowledged write, or returned by a read, that completed before."""
    stale: set[int] = set()
    by_key: dict[str, list[int]] = {}
    for i, (r, _) in enumerate(results):
        if _visible(r):
            by_key.setdefault(r.key, []).append(i)
    for idx in by_key.values():
        visible = sorted((results[i][0].end, results[i][0].stamp) for i in idx)
        ends = [v[0] for v in visible]
        prefix: list[tuple] = []
        best: tuple | None = None
        for _, stamp in visible:
            best = stamp if best is None or stamp > best else best
            prefix.append(best)
        for i in idx:
            r = results[i][0]
            if r.f != "read":
                continue
            k = bisect.bisect_left(ends, r.start)
            if k and prefix[k - 1] > r.stamp:
                stale.add(i)
    return stale


def _conflicting_writes(results: list, st: ReplicatedStore, side_of: dict) -> dict[int, str]:
    """Acknowledged writes accepted without seeing an earlier acknowledged write (their
    coordinator's ``base`` is older than a write that completed before they started): index ->
    ``"same side"`` or ``"other side"`` (where the unseen write was acknowledged)."""
    acked: dict[str, list[tuple]] = {}
    for i, (r, _) in enumerate(results):
        if _visible(r) and r.f != "read" and r.stamp in st.writes:
            acked.setdefault(r.key, []).append((r.end, r.stamp, side_of[r.client], i))
    out: dict[int, str] = {}
    for writes in acked.values():
        writes.sort()
        for _, stamp2, side2, i in writes:
            r = results[i][0]
            base = st.writes[stamp2].base
            unseen = [side for end1, stamp1, side, _ in writes if end1 < r.start and stamp1 > base]
            if unseen:
                out[i] = "other side" if any(s != side2 for s in unseen) else "same side"
    return out


def _availability(
    ops: pd.DataFrame, sides: list[str], heal_at: float, partitioned: bool
) -> pd.DataFrame:
    """Per side: operations invoked during the partition, those completed before the heal, and
    how many of those got an answer (see :attr:`CapResult.availability`)."""
    # numpy, not pandas: a run has a few hundred operations and the explorers rerun it per move
    n = len(ops)
    during = ops["during_partition"].to_numpy(bool) if partitioned else np.ones(n, bool)
    completed = during & (ops["end"].to_numpy() <= heal_at) if partitioned else during
    answered = completed & np.isin(ops["outcome"].to_numpy(object), _ANSWERED)
    side_of = ops["side"].to_numpy(object)
    rows = []
    for side in sides:
        mine = side_of == side
        n_done, n_answered = int((completed & mine).sum()), int((answered & mine).sum())
        share = n_answered / n_done if n_done else math.nan
        rows.append((side, int((during & mine).sum()), n_done, n_answered, share))
    columns = ["side", "requests", "completed", "answered", "availability"]
    return pd.DataFrame(rows, columns=columns)


def _summary(
    ops: pd.DataFrame, availability: pd.DataFrame, sim: _Simulation, partitioned: bool
) -> dict[str, Any]:
    outcome = ops["outcome"].to_numpy(object)
    conflicting = ops["conflicting"].to_numpy(object)
    side_of = ops["side"].to_numpy(object)
    out: dict[str, Any] = {"operations": len(ops)}
    for word in (outcomes.OK, outcomes.UNAVAILABLE, outcomes.TIMEOUT):
        out[word] = int((outcome == word).sum())
    out["stale_reads"] = int((outcome == outcomes.STALE_READ).sum())
    out["lost_writes"] = int((outcome == outcomes.LOST_WRITE).sum())
    out["conflicting_writes"] = int((conflicting != "").sum())
    during = ops["during_partition"].to_numpy(bool) if partitioned else np.ones(len(ops), bool)
    out["split_brain"] = bool(partitioned and ((conflicting == "other side") & during).any())
    done = int(availability["completed"].sum())
    out["availability"] = int(availability["answered"].sum()) / done if done else math.nan
    for row in availability.itertuples(index=False):
        out[f"availability_{row.side}"] = float(row.availability)
    writes_ok = (
        (ops["f"].to_numpy(object) != "read")
        & (ops["type"].to_numpy(object) == "ok")
        & during
        & (ops["end"].to_numpy() <= sim.heal_at)
    )
    minority_writes = 0
    for label, _ in sim.sides:
        out[f"writes_ok_{label}"] = int((writes_ok & (side_of == label)).sum())
        if label == "minority":
            minority_writes += out[f"writes_ok_{label}"]
    out["minority_writes_ok"] = minority_writes
    return out


def _convergence(sim: _Simulation) -> dict[str, Any]:
    at = sim.store.converged_at
    return {
        "converged": bool(sim.store.converged()),
        "converged_at_s": math.nan if at is None else at,
        "convergence_s": math.nan if at is None else at - sim.heal_at,
    }


# -- checking ---------------------------------------------------------------------------------


def _check(events: list[tuple], keys: list, max_steps: int) -> dict:
    out = {}
    for key in keys:
        mine = [(t, p, k, f, None, v) for (t, p, k, f, kk, v) in events if kk == key]
        mine.sort(key=lambda e: e[0])
        model = "cas-register" if any(e[3] == "cas" for e in mine) else "register"
        out[key if key is not None else "x"] = check_linearizable(
            History.from_events(mine), model=model, timeout_s=None, max_steps=max_steps
        )
    return out


def _combine(verdicts: list[str]) -> str:
    if "not-linearizable" in verdicts:
        return "not-linearizable"
    if "unknown" in verdicts:
        return "unknown"
    return "linearizable"


# -- use cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseCase:
    """One row of the course's table, with what its anomalies mean in the domain.

    ``choice``/``reason``: the course's column (CP or AP, and why). ``store``: the store that
    fits it here. ``workload``: :func:`run` arguments for a typical mix. ``terms``: summary field
    -> what it means in the domain. ``harmful``: the summary fields this domain cannot tolerate.
    """

    name: str
    choice: str
    reason: str
    store: str
    anomaly: str
    workload: Mapping[str, Any]
    terms: Mapping[str, str]
    harmful: tuple[str, ...]


def _terms(lost: str, conflicting: str, stale: str, unanswered: str) -> dict[str, str]:
    return {
        "lost_writes": lost,
        "conflicting_writes": conflicting,
        "stale_reads": stale,
        "unanswered": unanswered,
    }


_ANOMALIES = ("lost_writes", "conflicting_writes", "stale_reads")

#: The course's use-case table (name -> :class:`UseCase`).
USE_CASES: dict[str, UseCase] = {
    u.name: u
    for u in (
        UseCase(
            "banking",
            "CP",
            "Consistency critical",
            "cp",
            "a balance update lost or accepted twice is money created or destroyed",
            {"read_share": 0.5},
            _terms(
                "transfers lost (money vanished or double-spent)",
                "conflicting balance updates accepted on both sides (double spending)",
                "balances shown out of date",
                "transactions rejected",
            ),
            _ANOMALIES,
        ),
        UseCase(
            "social media",
            "AP",
            "Availability critical",
            "ap",
            "a like shown late or a like lost is barely noticed",
            {"read_share": 0.7, "cas_share": 0.1},
            _terms(
                "likes lost",
                "diverging like counts on both sides",
                "stale like counts shown",
                "posts and likes refused",
            ),
            ("unanswered",),
        ),
        UseCase(
            "e-commerce inventory",
            "CP",
            "Prevent overselling",
            "cp",
            "two orders accepted for the last item: an item oversold",
            {"read_share": 0.4},
            # The workload writes values; it does not model sales. A lost or conflicting
            # stock update is how overselling starts, but a linearizable store alone does not
            # prevent it (two read-then-write decrements still sell one item twice).
            _terms(
                "stock updates lost",
                "stock updates made without seeing an earlier one",
                "stock levels shown out of date",
                "orders rejected",
            ),
            _ANOMALIES,
        ),
        UseCase(
            "e-commerce recommendations",
            "AP",
            "Stale data acceptable",
            "ap",
            "recommendations computed from slightly old data",
            {"read_share": 0.8},
            _terms(
                "preference updates lost",
                "diverging recommendation inputs",
                "recommendations from old data",
                "pages without recommendations",
            ),
            ("unanswered",),
        ),
        UseCase(
            "healthcare records",
            "CP",
            "Accuracy critical",
            "cp",
            "a clinician reads an outdated allergy list or an update disappears",
            {"read_share": 0.6},
            _terms(
                "record updates lost",
                "conflicting versions of a record",
                "outdated records shown to clinicians",
                "record look-ups refused",
            ),
            _ANOMALIES,
        ),
        UseCase(
            "analytics dashboard",
            "AP",
            "Slight delays acceptable",
            "ap",
            "a tile a few seconds behind, a few events missing from a count",
            {"read_share": 0.7},
            _terms(
                "events missing from counts",
                "diverging counters",
                "tiles a little behind",
                "dashboard refreshes failed",
            ),
            ("unanswered",),
        ),
    )
}


def _summary_fields(summary: Any) -> Mapping[str, Any]:
    """A run's summary as ``{field: value}``: from a :class:`CapResult`, its one-row summary
    DataFrame, or a mapping."""
    if isinstance(summary, CapResult):
        summary = summary.summary
    if isinstance(summary, pd.DataFrame):
        if len(summary) != 1:
            raise ValueError(
                f"summary has {len(summary)} rows; pass one run's summary (CapResult.summary)"
            )
        return summary.iloc[0].to_dict()
    if not isinstance(summary, Mapping):
        raise TypeError(f"summary={summary!r} must be a CapResult, its summary DataFrame or a dict")
    return summary


def _count(fields: Mapping[str, Any], name: str) -> int:
    value = fields.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"summary[{name!r}]={value!r} must be a finite count")
    return int(value)


def consequences(use_case: str | UseCase, summary: Any) -> pd.DataFrame:
    """A run's summary in the domain's terms: one row per consequence, ``consequence, count,
    harmful`` (whether this domain can tolerate it), the requests not served first.

    ``summary``: a :class:`CapResult`, its ``summary`` (one row) or a dict of its fields.

    >>> s = {"lost_writes": 2, "conflicting_writes": 0, "stale_reads": 1, "unavailable": 3,
    ...      "timeout": 1}
    >>> table = consequences("banking", s)
    >>> table.to_dict("records")[:2]  # doctest: +NORMALIZE_WHITESPACE
    [{'consequence': 'transactions rejected', 'count': 4, 'harmful': False},
     {'consequence': 'transfers lost (money vanished or double-spent)', 'count': 2,
      'harmful': True}]
    """
    if not isinstance(use_case, UseCase):
        use_case = USE_CASES[check_choice("use_case", use_case, list(USE_CASES))]
    fields = _summary_fields(summary)
    counts = {
        "unanswered": _count(fields, outcomes.UNAVAILABLE) + _count(fields, outcomes.TIMEOUT),
        **{k: _count(fields, k) for k in _ANOMALIES},
    }
    rows = [
        (use_case.terms[k], counts[k], k in use_case.harmful)
        for k in ("unanswered", "lost_writes", "conflicting_writes", "stale_reads")
    ]
    return pd.DataFrame(rows, columns=["consequence", "count", "harmful"])


@dataclass(frozen=True)
class UseCaseResult(Result):
    """What :func:`use_case_run` returns.

    Attributes:
        frame: the consequences (:func:`consequences`): ``consequence, count, harmful``.
        summary: the run's summary (one row, indexed by ``store``; see :class:`CapResult`).
        params: the run's parameters, with ``use_case``.
        use_case: the :class:`UseCase`.
        result: the :class:`CapResult` of the run.
    """

    use_case: UseCase
    result: CapResult


def use_case_run(use_case: str, store: str | None = None, **kwargs: Any) -> UseCaseResult:
    """Run the use case's workload on ``store`` (default: the store that fits it) and translate.
    ``kwargs`` are :func:`run`'s (they override the use case's workload).

    >>> r = use_case_run("e-commerce inventory", "ap", seed=0)
    >>> r.use_case.choice, r.params["store"]
    ('CP', 'ap')
    """
    uc = USE_CASES[check_choice("use_case", use_case, list(USE_CASES))]
    store = uc.store if store is None else check_choice("store", store, STORE_KINDS)
    result = run(store, **_workload(uc, store, kwargs))
    return UseCaseResult(
        frame=consequences(uc, result.summary),
        summary=result.summary,
        params={"use_case": uc.name, **result.params},
        use_case=uc,
        result=result,
    )


def _workload(uc: UseCase, store: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """:func:`run`'s arguments for the use case on ``store``: its workload, then ``kwargs``."""
    params = dict(uc.workload)
    if not PROTOCOLS[store].supports_cas:
        params.pop("cas_share", None)
    params.update(kwargs)
    return params


def _use_case_summary(uc: UseCase, store: str, kwargs: dict[str, Any]) -> pd.DataFrame:
    """The summary :func:`use_case_run` would give, without the tables the comparison does not
    show (the event log and the history): the same simulation, the same numbers."""
    params = _workload(uc, store, kwargs)
    signature = inspect.signature(run)
    for name in params:  # as run(store, **params) would say
        if name not in signature.parameters or name == "store":
            raise TypeError(f"run() got an unexpected keyword argument {name!r}")
    arguments = signature.bind(store, **params)
    arguments.apply_defaults()
    p = _validate_run(dict(arguments.arguments))
    sim = _Simulation(p)
    sim.run()
    return summary_row(p["store"], "store", **_tables(p, sim)[3])


@dataclass(frozen=True)
class UseCaseComparison(Result):
    """What :func:`compare_use_case` returns.

    Attributes:
        frame: one row per (store, consequence): ``store, consequence, count, harmful,
            verdict`` and the store's ``availability_minority`` (NaN when the partition has
            no minority side).
        summary: the runs' summaries, one row per store (indexed by ``store``); the side
            columns are those of the partition shape.
        params: ``use_case``, ``stores``, ``partition``, ``seed`` and the other :func:`run`
            arguments given.
        use_case: the :class:`UseCase`.
    """

    use_case: UseCase


def compare_use_case(
    use_case: str = "e-commerce inventory",
    stores: tuple[str, ...] = ("cp", "ap"),
    *,
    partition: str = "majority-minority",
    seed: int = 0,
    **kwargs: Any,
) -> UseCaseComparison:
    """The use case's workload on each of ``stores``, under the same partition and seed, in the
    domain's terms (the use-case explorer's experiment).

    >>> r = compare_use_case("banking", ("cp", "ap"), seed=0)
    >>> sorted(r.frame["store"].unique().tolist()), r.summary.index.tolist()
    (['ap', 'cp'], ['cp', 'ap'])
    """
    uc = USE_CASES[check_choice("use_case", use_case, list(USE_CASES))]
    if isinstance(stores, str) or not isinstance(stores, (tuple, list)):
        raise TypeError(f"stores={stores!r} must be a tuple of store kinds")
    stores = tuple(stores)
    if not stores:
        raise ValueError("stores=() must name at least one of " + ", ".join(STORE_KINDS))
    for store in stores:
        check_choice("stores", store, STORE_KINDS)
    if len(set(stores)) != len(stores):
        raise ValueError(f"stores={stores!r} names a store twice")
    frames, summaries = [], []
    for store in stores:
        summary = _use_case_summary(uc, store, {"partition": partition, "seed": seed, **kwargs})
        fields = summary.iloc[0]
        frames.append(
            consequences(uc, summary).assign(
                store=store,
                verdict=fields["verdict"],
                availability_minority=fields.get("availability_minority", math.nan),
            )
        )
        summaries.append(summary)
    table = pd.concat(frames, ignore_index=True)
    columns = ["store", "consequence", "count", "harmful", "verdict", "availability_minority"]
    return UseCaseComparison(
        frame=table[columns],
        summary=pd.concat(summaries),
        params=plain_params(
            use_case=uc.name, stores=stores, partition=partition, seed=seed, **kwargs
        ),
        use_case=uc,
    )
