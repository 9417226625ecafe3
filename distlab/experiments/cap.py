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
  the halves cannot talk to each other (a non-transitive cut, made by cutting links);
- ``"none"``: no partition (PACELC's "else": latency against consistency).

Clients sit with their node: a client on the minority side can reach its node, not the others.

:data:`USE_CASES` holds the course's table (banking, social media, e-commerce inventory,
recommendations, healthcare records, analytics dashboard) and :func:`consequences` turns a run's
summary into that domain's terms.

>>> from distlab.experiments.cap import run
>>> cp = run("cp", seed=0)
>>> cp.summary["availability_majority"] > 0.9, cp.summary["availability_minority"]
(True, 0.0)
>>> ap = run("ap", seed=0)
>>> ap.summary["availability_minority"], ap.summary["converged"]
(1.0, True)
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from distlab._validate import check_choice, check_int, check_number, check_probability, check_seed
from distlab.sim import Exponential, FaultSchedule, Network, Partition, World
from distlab.sim.faults import Fault
from distlab.sim.stores import _CP, STORE_KINDS, ReplicatedStore

__all__ = [
    "compare_use_case",
    "OPERATION_COLUMNS",
    "OUTCOMES",
    "PARTITIONS",
    "STORES",
    "USE_CASES",
    "CapResult",
    "UseCase",
    "UseCaseResult",
    "consequences",
    "partition_groups",
    "run",
    "use_case_run",
]

#: Store kinds (see :mod:`distlab.sim.stores`).
STORES = STORE_KINDS
#: Partition shapes.
PARTITIONS = ("majority-minority", "isolate-one", "bridge", "none")
#: Outcomes of an operation, for the plots.
OUTCOMES = ("ok", "unavailable", "timeout", "stale_read", "lost_write")
#: Columns of :attr:`CapResult.operations`.
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


# -- partitions -------------------------------------------------------------------------------


def partition_groups(shape: str, nodes: int) -> list[tuple[str, list[str]]]:
    """The sides of partition ``shape`` over nodes ``n1..n{nodes}``: ``[(label, names), ...]``.

    A side holding a majority of the whole cluster is ``"majority"``, another ``"minority"``;
    the bridge's sides are ``"left"``, ``"bridge"``, ``"right"``; no partition is ``"all"``.

    >>> partition_groups("majority-minority", 5)
    [('majority', ['n1', 'n2', 'n3']), ('minority', ['n4', 'n5'])]
    >>> partition_groups("bridge", 5)
    [('left', ['n1', 'n2']), ('bridge', ['n3']), ('right', ['n4', 'n5'])]
    """
    check_choice("partition", shape, PARTITIONS)
    nodes = check_int("nodes", nodes, 1, 15)
    names = [f"n{i}" for i in range(1, nodes + 1)]
    if shape == "none":
        return [("all", names)]
    if nodes < 3:
        raise ValueError(f"nodes={nodes} must be at least 3 for partition={shape!r}")
    majority = nodes // 2 + 1

    def label(group: list[str]) -> str:
        return "majority" if len(group) >= majority else "minority"

    if shape == "majority-minority":
        return [("majority", names[:majority]), ("minority", names[majority:])]
    if shape == "isolate-one":
        return [(label(names[:-1]), names[:-1]), ("minority", names[-1:])]
    left_n = (nodes - 1) // 2
    return [("left", names[:left_n]), ("bridge", [names[left_n]]), ("right", names[left_n + 1 :])]


class _Bridge(Fault):
    """Cut every link between ``left`` and ``right`` (the bridge keeps both); restore at the end."""

    kind = "partition"

    def __init__(
        self, at: float, duration: float, left: list[str], bridge: list[str], right: list[str]
    ) -> None:
        super().__init__(at, duration)
        self.left, self.bridge, self.right = left, bridge, right

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

    def _start(self, net: Network) -> None:
        for a in self.left:
            for b in self.right:
                net.set_link(a, b, loss=1.0)

    def _end(self, net: Network, saved: Any) -> None:
        for a in self.left:
            for b in self.right:
                net.set_link(a, b)


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapResult:
    """What :func:`run` returns.

    Attributes:
        operations: one row per operation (:data:`OPERATION_COLUMNS`): ``client`` ("c1"...),
            ``process`` (the history's process: a client gets a new one after an operation of
            unknown outcome, as in Jepsen), ``node`` (its store node), ``side`` (of the
            partition), ``f`` (read, write, cas), ``key``, ``value`` (written value, or
            ``(expected, new)``), ``result`` (value read), ``start``, ``end`` (s), ``type``
            (history type ok / fail / info), ``outcome`` (:data:`OUTCOMES`; a refused cas is an
            answer: ``ok``), ``during_partition`` (invoked while the partition lasted).
        events: the world's event log (see :meth:`distlab.sim.World.events`).
        history: a :class:`distlab.History` of the operations (``None`` if the history module is
            missing); keys are ``None`` when there is one key (register models).
        summary: a dict: ``store, partition, nodes, clients, operations, ok, unavailable,
            timeout, stale_reads, lost_writes, conflicting_writes, split_brain,
            availability`` (share of requests invoked during the partition that got an answer),
            ``availability_<side>`` per side, ``writes_ok_<side>`` (writes and cas invoked and
            acknowledged during the partition), ``minority_writes_ok`` (the same on the sides
            labelled ``minority``), ``verdict``
            (``linearizable``, ``not-linearizable``, ``unknown`` or ``unchecked``),
            ``check_s``, ``converged`` (all replicas equal at the end), ``converged_at_s`` (first
            moment after the heal with all replicas equal; NaN if never), ``convergence_s``
            (that minus the heal time), ``sim_s`` (wall time of the simulation).
        partition: the partition as bands: ``start, end, label`` (empty for ``"none"``).
        sides: side label -> node names.
        check: the checker's result per key (empty if unchecked).
        replicas: final ``{node: {key: value}}``.
    """

    operations: pd.DataFrame
    events: pd.DataFrame
    history: Any
    summary: dict
    partition: pd.DataFrame
    sides: dict
    check: dict = field(default_factory=dict)
    replicas: dict = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        """The per-operation table (what :func:`distlab.experiments.sweep` stacks)."""
        return self.operations

    @property
    def availability(self) -> pd.DataFrame:
        """During the partition, per side: ``side, requests, answered, availability``."""
        ops = self.operations[self.operations["during_partition"]]
        rows = []
        for side in self.sides:
            mine = ops[ops["side"] == side]
            answered = int(mine["outcome"].isin(["ok", "stale_read", "lost_write"]).sum())
            rows.append(
                (side, len(mine), answered, answered / len(mine) if len(mine) else math.nan)
            )
        return pd.DataFrame(rows, columns=["side", "requests", "answered", "availability"])


# -- the run ----------------------------------------------------------------------------------


def run(
    store: str = "cp",
    nodes: int = 5,
    partition: str = "majority-minority",
    *,
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
    check_timeout_s: float = 1.0,
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
    node clocks that ``"ap"`` and ``"course-quorum"`` stamp versions with.

    ``check``: ask :func:`distlab.check_linearizable` (one key at a time, ``register`` or
    ``cas-register`` model) with ``check_timeout_s`` per key.

    >>> r = run("course-quorum", seed=1)
    >>> r.summary["split_brain"], r.summary["availability_minority"]
    (True, 1.0)
    """
    kind = check_choice("store", store, STORE_KINDS)
    nodes = check_int("nodes", nodes, 1, 15)
    check_choice("partition", partition, PARTITIONS)
    partition_at_s = check_number("partition_at_s", partition_at_s, 0.0, 60.0)
    partition_s = check_number("partition_s", partition_s, 0.0, 60.0, min_inclusive=False)
    after_s = check_number("after_s", after_s, 0.0, 60.0)
    settle_s = check_number("settle_s", settle_s, 0.0, 60.0)
    clients = nodes if clients is None else check_int("clients", clients, 1, 50)
    read_share = check_probability("read_share", read_share)
    cas_share = check_probability("cas_share", cas_share)
    if read_share + cas_share > 1:
        raise ValueError(f"read_share={read_share:g} + cas_share={cas_share:g} must be at most 1")
    if cas_share > 0 and kind in _CP:
        raise ValueError(
            f"cas_share={cas_share:g} needs a store with compare-and-set; store={kind!r} is an "
            "ABD read/write register (a linearizable cas needs consensus): use cas_share=0"
        )
    keys = check_int("keys", keys, 1, 8)
    think_s = check_number("think_s", think_s, 0.0, 10.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0, 1.0)
    loss = check_probability("loss", loss)
    timeout_s = check_number("timeout_s", timeout_s, 0.0, 60.0, min_inclusive=False)
    phase_timeout_s = check_number(
        "phase_timeout_s", phase_timeout_s, 0.0, 60.0, min_inclusive=False
    )
    clock_skew_s = check_number("clock_skew_s", clock_skew_s, 0.0, 10.0)
    check_timeout_s = check_number("check_timeout_s", check_timeout_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    sides = partition_groups(partition, nodes)
    heal_at = partition_at_s + partition_s
    end_ops = heal_at + after_s
    expected_ops = clients * end_ops / think_s
    if expected_ops > 5_000:
        raise ValueError(
            f"clients={clients} thinking think_s={think_s:g} for {end_ops:g} s make about "
            f"{expected_ops:,.0f} operations; at most 5,000 are simulated"
        )

    t0 = time.perf_counter()
    world = World(seed=seed, log_messages=log_messages)
    net = Network(world, latency=Exponential(latency_s) if latency_s > 0 else 0.0, loss=loss)
    st = ReplicatedStore(
        net,
        kind,
        nodes,
        phase_timeout_s=phase_timeout_s,
        anti_entropy_s=anti_entropy_s,
        clock_skew_s=clock_skew_s,
    )
    side_of = {n: label for label, names in sides for n in names}
    names = [f"c{i}" for i in range(1, clients + 1)]
    home = {c: st.names[i % nodes] for i, c in enumerate(names)}
    for c in names:
        st.attach_client(c, home[c])
        side_of[c] = side_of[home[c]]
    if partition == "bridge":
        fault: Fault = _Bridge(partition_at_s, partition_s, *(g for _, g in sides))
    elif partition != "none":
        groups = [g + [c for c in names if home[c] in g] for _, g in sides]
        fault = Partition(partition_at_s, partition_s, groups)
    if partition != "none":
        FaultSchedule([fault]).apply(net)
    st.watch_convergence(heal_at)

    env = world.env
    rng = world.rng
    key_names = ["x"] if keys == 1 else [f"k{i}" for i in range(1, keys + 1)]
    counter = [0]
    rows: list[tuple] = []
    results: list[Any] = []
    events: list[tuple] = []

    def client(index: int, name: str):
        process = index
        last_seen: dict[str, Any] = {}
        while True:
            yield env.timeout(float(rng.exponential(think_s)))
            if env.now >= end_ops:
                return
            u = float(rng.random())
            key = key_names[int(rng.integers(keys))] if keys > 1 else key_names[0]
            if u < read_share:
                f, value = "read", None
            else:
                counter[0] += 1
                if u < read_share + cas_share:
                    f, value = "cas", (last_seen.get(key), counter[0])
                else:
                    f, value = "write", counter[0]
            hkey = None if keys == 1 else key
            events.append((env.now, process, "invoke", f, hkey, value))
            r = yield st.request(name, f, key, value, timeout_s=timeout_s)
            kind_ = r.type
            events.append((r.end, process, kind_, f, hkey, r.result if f == "read" else value))
            results.append((r, process))
            if r.outcome == "ok":
                if f == "read":
                    last_seen[key] = r.result
                else:
                    last_seen[key] = value[1] if f == "cas" else value
            elif r.outcome == "refused":
                last_seen[key] = r.result
            if kind_ == "info":
                process += clients  # Jepsen: a process with an unknown outcome is never reused

    for i, c in enumerate(names):
        env.process(client(i, c))
    world.run(until=end_ops + settle_s)
    sim_s = time.perf_counter() - t0

    ops = _operations(results, st, side_of, partition_at_s, heal_at, partition != "none")
    summary = _summary(ops, st, kind, partition, nodes, clients, sides, heal_at)
    summary["sim_s"] = sim_s
    history, checks = None, {}
    summary["verdict"], summary["check_s"] = "unchecked", 0.0
    history = _history(events)
    if check and history is not None:
        checks = _check(events, key_names if keys > 1 else [None], check_timeout_s)
        summary["verdict"] = _combine([c.verdict for c in checks.values()])
        summary["check_s"] = float(sum(c.elapsed_s for c in checks.values()))
    bands = pd.DataFrame(
        [] if partition == "none" else [(partition_at_s, heal_at, fault.label)],
        columns=["start", "end", "label"],
    )
    return CapResult(
        operations=ops,
        events=world.events(),
        history=history,
        summary=summary,
        partition=bands,
        sides={label: list(g) for label, g in sides},
        check=checks,
        replicas={n: {k: v for k, (_, v) in st.replicas[n].items()} for n in st.names},
    )


def _operations(
    results: list,
    st: ReplicatedStore,
    side_of: dict,
    p_start: float,
    p_end: float,
    partitioned: bool,
) -> pd.DataFrame:
    lost = set(st.lost_writes())
    stale = _stale_reads(results)
    conflicting = _conflicting_writes(results, st, side_of)
    rows = []
    for i, (r, process) in enumerate(results):
        outcome = {"ok": "ok", "refused": "ok"}.get(r.outcome, r.outcome)
        if outcome == "ok" and r.f != "read" and r.stamp in lost and r.outcome == "ok":
            outcome = "lost_write"
        elif i in stale:
            outcome = "stale_read"
        rows.append(
            (
                r.client,
                process,
                r.node,
                side_of[r.client],
                r.f,
                r.key,
                r.value,
                r.result,
                r.start,
                r.end,
                r.type,
                outcome,
                partitioned and p_start <= r.start < p_end,
                conflicting.get(i, ""),
            )
        )
    ops = pd.DataFrame(rows, columns=OPERATION_COLUMNS)
    return ops.sort_values(["start", "client"], kind="stable").reset_index(drop=True)


def _stale_reads(results: list) -> set[int]:
    """Indices of ok reads that returned a version older than one already visible when they
    started: written by an acknowledged write, or returned by a read, that completed before."""
    stale: set[int] = set()
    by_key: dict[str, list[int]] = {}
    for i, (r, _) in enumerate(results):
        if r.outcome == "ok" and r.stamp is not None:
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
        if r.outcome == "ok" and r.f != "read" and r.stamp in st.writes:
            acked.setdefault(r.key, []).append((r.end, r.stamp, side_of[r.client], i))
    out: dict[int, str] = {}
    for writes in acked.values():
        writes.sort()
        for end2, stamp2, side2, i in writes:
            r = results[i][0]
            base = st.writes[stamp2].base
            unseen = [side for end1, stamp1, side, _ in writes if end1 < r.start and stamp1 > base]
            if unseen:
                out[i] = "other side" if any(s != side2 for s in unseen) else "same side"
    return out


def _summary(
    ops: pd.DataFrame,
    st: ReplicatedStore,
    kind: str,
    partition: str,
    nodes: int,
    clients: int,
    sides: list,
    heal_at: float,
) -> dict:
    out: dict[str, Any] = {
        "store": kind,
        "partition": partition,
        "nodes": nodes,
        "clients": clients,
        "operations": len(ops),
    }
    counts = ops["outcome"].value_counts()
    for outcome in OUTCOMES:
        out[outcome] = int(counts.get(outcome, 0))
    out["stale_reads"] = out.pop("stale_read")
    out["lost_writes"] = out.pop("lost_write")
    answered = ops["outcome"].isin(["ok", "stale_read", "lost_write"])
    during = ops["during_partition"] if partition != "none" else pd.Series(True, ops.index)
    writes_ok = (ops["f"] != "read") & (ops["type"] == "ok")
    out["availability"] = float(answered[during].mean()) if during.any() else math.nan
    minority_writes = 0
    for label, _ in sides:
        mine = during & (ops["side"] == label)
        out[f"availability_{label}"] = float(answered[mine].mean()) if mine.any() else math.nan
        out[f"writes_ok_{label}"] = int((writes_ok & mine & (ops["end"] <= heal_at)).sum())
        if label == "minority":
            minority_writes += out[f"writes_ok_{label}"]
    out["minority_writes_ok"] = minority_writes
    out["conflicting_writes"] = int((ops["conflicting"] != "").sum())
    out["split_brain"] = bool(
        ((ops["conflicting"] == "other side") & during).any() and partition != "none"
    )
    out["converged"] = bool(st.converged())
    at = st.converged_at
    out["converged_at_s"] = math.nan if at is None else at
    out["convergence_s"] = math.nan if at is None else at - heal_at
    return out


# -- history and checking ---------------------------------------------------------------------


def _history_module():
    try:
        from distlab.history import History
    except ImportError:  # pragma: no cover - while the history module is being written
        return None
    return History


def _history(events: list[tuple]):
    History = _history_module()
    if History is None:  # pragma: no cover
        return None
    return History.from_events(sorted(events, key=lambda e: e[0]))


def _check(events: list[tuple], keys: list, timeout_s: float) -> dict:
    History = _history_module()
    from distlab.linearizability import check_linearizable

    out = {}
    for key in keys:
        mine = [(t, p, k, f, None, v) for (t, p, k, f, kk, v) in events if kk == key]
        mine.sort(key=lambda e: e[0])
        model = "cas-register" if any(e[3] == "cas" for e in mine) else "register"
        out[key if key is not None else "x"] = check_linearizable(
            History.from_events(mine), model=model, timeout_s=timeout_s
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


def _terms(lost: str, conflicting: str, stale: str, refused: str) -> dict[str, str]:
    return {
        "lost_writes": lost,
        "conflicting_writes": conflicting,
        "stale_reads": stale,
        "refused": refused,
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
            ("refused",),
        ),
        UseCase(
            "e-commerce inventory",
            "CP",
            "Prevent overselling",
            "cp",
            "two orders accepted for the last item: an item oversold",
            {"read_share": 0.4},
            _terms(
                "stock decrements lost (items oversold)",
                "orders accepted on both sides for the same stock (oversold items)",
                "stock levels shown wrong",
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
            ("refused",),
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
            ("refused",),
        ),
    )
}


def consequences(use_case: str | UseCase, summary: Mapping[str, Any]) -> pd.DataFrame:
    """A run's summary in the domain's terms: one row per consequence, ``consequence, count,
    harmful`` (whether this domain can tolerate it), the requests refused first.

    >>> s = {"lost_writes": 2, "conflicting_writes": 0, "stale_reads": 1, "unavailable": 3,
    ...      "timeout": 1}
    >>> consequences("banking", s).values.tolist()[:2]
    [['transactions rejected', 4, False], ['transfers lost (money vanished or double-spent)', 2, True]]
    """
    uc = (
        use_case
        if isinstance(use_case, UseCase)
        else USE_CASES[check_choice("use_case", use_case, list(USE_CASES))]
    )
    if not isinstance(summary, Mapping):
        raise TypeError(f"summary={summary!r} must be a dict (CapResult.summary)")
    counts = {
        "refused": int(summary.get("unavailable", 0)) + int(summary.get("timeout", 0)),
        **{k: int(summary.get(k, 0)) for k in _ANOMALIES},
    }
    rows = [
        (uc.terms[k], counts[k], k in uc.harmful)
        for k in ("refused", "lost_writes", "conflicting_writes", "stale_reads")
    ]
    return pd.DataFrame(rows, columns=["consequence", "count", "harmful"])


@dataclass(frozen=True)
class UseCaseResult:
    """What :func:`use_case_run` returns: the use case, the run and its consequences."""

    use_case: UseCase
    result: CapResult
    consequences: pd.DataFrame


def use_case_run(use_case: str, store: str | None = None, **kwargs: Any) -> UseCaseResult:
    """Run the use case's workload on ``store`` (default: the store that fits it) and translate.

    >>> r = use_case_run("e-commerce inventory", "ap", seed=0)
    >>> r.use_case.choice, r.result.summary["store"]
    ('CP', 'ap')
    """
    uc = USE_CASES[check_choice("use_case", use_case, list(USE_CASES))]
    store = uc.store if store is None else store
    params = dict(uc.workload)
    if store in _CP:
        params.pop("cas_share", None)
    params.update(kwargs)
    result = run(store, **params)
    return UseCaseResult(uc, result, consequences(uc, result.summary))


def compare_use_case(
    use_case: str = "e-commerce inventory",
    stores: tuple[str, ...] = ("cp", "ap"),
    *,
    partition: str = "majority-minority",
    seed: int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """The use case's workload on each of ``stores``, under the same partition and seed, in the
    domain's terms: one row per (store, consequence) with ``count`` and ``harmful``, plus the
    store's ``verdict`` and minority-side ``availability_minority`` (the use-case explorer's
    experiment).

    >>> df = compare_use_case("banking", ("cp", "ap"), seed=0)
    >>> sorted(df["store"].unique().tolist())
    ['ap', 'cp']
    """
    stores = tuple(stores)
    if not stores:
        raise ValueError("stores=() must name at least one of " + ", ".join(STORE_KINDS))
    frames = []
    for store in stores:
        check_choice("stores", store, STORE_KINDS)
        outcome = use_case_run(use_case, store, partition=partition, seed=seed, **kwargs)
        frames.append(
            outcome.consequences.assign(
                store=store,
                verdict=outcome.result.summary["verdict"],
                availability_minority=outcome.result.summary.get(
                    "availability_minority", float("nan")
                ),
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table[["store", "consequence", "count", "harmful", "verdict", "availability_minority"]]
