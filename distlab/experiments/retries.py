"""Retries with backoff and jitter, as experiments (notebook 02).

Every experiment runs the real :class:`~distlab.retry.RetryPolicy` in simulated time through
:func:`distlab.sim.retry_call`, so what a learner sees is what the library does, and reads what
happened from the policy's own events (:class:`~distlab.retry.RetryEvent`), as an engineer would.

- :func:`timeline`: a few clients retry against a service that is down for the first seconds:
  one row per attempt, for the retry timeline (the course text's retry by default).
- :func:`storm`: the thundering herd: many clients fail together; without jitter their retries
  hit the recovering service in spikes and knock it over again, with jitter they are smoothed.
- :func:`amplification`: a chain of services, each retrying the one below: 3 attempts at each of
  5 layers send 243 requests to the bottom for one user request.
- :func:`budget_effect`: a dependency stalls under steady traffic; with a
  :class:`~distlab.retry.RetryBudget` the extra load stays bounded and it recovers sooner.
- :func:`backoff_samples`: the waits each backoff strategy draws.

(The AWS contention experiment lives in :mod:`distlab.experiments.contention`, the idempotency
one in :mod:`distlab.experiments.idempotency`.)

>>> from distlab.experiments.retries import timeline
>>> result = timeline(seed=0)          # the course text: 3 attempts, 1 s, 2 s, no jitter
>>> sorted(set(result.frame["wait_before_s"].round(6)))
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import (
    check_bool,
    check_choice,
    check_choices,
    check_int,
    check_number,
    check_seed,
)
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import MAX_BINS, binned, check_work
from distlab.retry import (
    Backoff,
    ConstantBackoff,
    ExponentialBackoff,
    NoBackoff,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
)
from distlab.sim import (
    CallResult,
    Constant,
    Down,
    Exponential,
    HealthSchedule,
    Network,
    Normal,
    Service,
    Slow,
    Up,
    World,
    retry_call,
)

__all__ = [
    "AMPLIFICATION_MODES",
    "ATTEMPT_COLUMNS",
    "BUDGET_VARIANTS",
    "MAX_DURATION_S",
    "STRATEGIES",
    "STRATEGIES_SHOWN",
    "AmplificationResult",
    "BackoffSamplesResult",
    "BudgetEffectResult",
    "StormResult",
    "TimelineResult",
    "amplification",
    "attempt_rows",
    "backoff_for",
    "backoff_samples",
    "budget_effect",
    "storm",
    "timeline",
]

#: Backoff strategies by name: ``"none"`` retries at once, ``"constant"`` waits ``base``,
#: ``"exponential"`` doubles from ``base`` without jitter, the others add that jitter.
STRATEGIES = ("none", "constant", "exponential", "full", "equal", "decorrelated")
#: The strategies :func:`storm` compares by default: no jitter against full jitter.
STRATEGIES_SHOWN = ("exponential", "full")
#: Where :func:`amplification` retries.
AMPLIFICATION_MODES = ("every layer", "top only", "budget")
#: The two runs of :func:`budget_effect`.
BUDGET_VARIANTS = ("no budget", "budget")
#: The longest duration (a wait, a timeout, an outage, a run) the experiments accept, in seconds.
MAX_DURATION_S = 3600.0

_SERVICE = "service"


# -- helpers ----------------------------------------------------------------------------------


def backoff_for(strategy: str, base_s: float = 1.0, cap_s: float | None = None) -> Backoff:
    """The :class:`~distlab.retry.Backoff` for a strategy name of :data:`STRATEGIES`.

    ``base_s`` and ``cap_s`` are seconds; ``cap_s`` (``None`` = no cap) bounds the exponential
    kinds and is ignored by ``"none"`` and ``"constant"``.

    >>> backoff_for("full", 0.1, 2.0)
    ExponentialBackoff(base=0.1, cap=2.0, jitter='full')
    >>> backoff_for("constant", 0.5)
    ConstantBackoff(delay_s=0.5)
    """
    check_choice("strategy", strategy, STRATEGIES)
    base_s, cap_s = _check_backoff(base_s, cap_s)
    if strategy == "none":
        return NoBackoff()
    if strategy == "constant":
        return ConstantBackoff(base_s)
    jitter = None if strategy == "exponential" else strategy
    return ExponentialBackoff(base=base_s, cap=cap_s, jitter=jitter)


def _check_backoff(base_s: float, cap_s: float | None) -> tuple[float, float | None]:
    base_s = check_number("base_s", base_s, 0.0, MAX_DURATION_S)
    if cap_s is not None:
        cap_s = check_number("cap_s", cap_s, 0.0, MAX_DURATION_S)
        if cap_s < base_s:
            raise ValueError(f"cap_s={cap_s:g} must be at least base_s={base_s:g} (or None)")
    return base_s, cap_s


def _longest_waits_s(strategy: str, base_s: float, cap_s: float | None, retries: int) -> float:
    """An upper bound of the waits one call can sleep in ``retries`` retries (seconds)."""
    if strategy == "none" or retries <= 0:
        return 0.0
    if strategy == "constant":
        return base_s * retries
    cap = math.inf if cap_s is None else cap_s
    growth = 3.0 if strategy == "decorrelated" else 2.0
    total = 0.0
    for n in range(retries):
        total += min(cap, base_s * growth**n)
    return total


def _check_span(
    strategy: str, base_s: float, cap_s: float | None, max_attempts: int, timeout_s: float,
    horizon_s: float, bin_s: float,
) -> float:  # fmt: skip
    """Refuse a run whose load table would need more than :data:`MAX_BINS` bins; return the
    latest time a call can end (``horizon_s`` plus one call's attempts and waits)."""
    waits = _longest_waits_s(strategy, base_s, cap_s, max_attempts - 1)
    until = horizon_s + waits + max_attempts * timeout_s
    bins = until / bin_s
    if not bins <= MAX_BINS:
        raise ValueError(
            f"bin_s={bin_s:g} cuts the {until:.3g} s a run may last into {bins:.3g} bins; at "
            f"most {MAX_BINS:,}: raise bin_s to {until / MAX_BINS:.3g} or more, or shorten the "
            f"waits (a call may wait {waits:.3g} s with base_s={base_s:g}, cap_s={cap_s}, "
            f"max_attempts={max_attempts})"
        )
    return until


def _check_calls(calls: float, limit: int, asked_by: str) -> None:
    """:func:`~distlab.experiments.scenario.check_work` for calls, readable for huge counts."""
    if not calls <= 1e15:
        raise ValueError(f"{asked_by} asks for {calls:.3g} calls; at most {limit:,} are simulated")
    check_work("calls", calls, limit, asked_by)


def _latency(latency_s: float):
    return Normal(latency_s, latency_s / 5) if latency_s > 0 else Constant(0.0)


def _outage_health(outage_s: float) -> HealthSchedule:
    if outage_s == 0:
        return HealthSchedule([(0.0, Up())])
    return HealthSchedule([(0.0, Down()), (outage_s, Up())])


def _bands(schedule: HealthSchedule, until: float) -> pd.DataFrame:
    bands = schedule.bands(until, include_up=True)
    return bands[["start", "end", "state", "label"]].reset_index(drop=True)


#: The columns of :func:`attempt_rows`.
ATTEMPT_COLUMNS = (
    "label", "call", "attempt", "start", "end", "outcome", "error", "wait_before_s", "final",
    "gave_up", "reason",
)  # fmt: skip


def attempt_rows(
    events: Iterable[RetryEvent], calls: Iterable[tuple[str | None, int, CallResult]]
) -> pd.DataFrame:
    """One row per attempt, from the retry policies' events and the calls' results.

    ``events`` are what the policies reported (a listener's list); ``calls`` are ``(label,
    call, result)`` for every call made: ``label`` is the policy's ``name`` (the events'
    ``source``), ``call`` the policy's number for the call (1, 2, ... in the order its calls
    started) and ``result`` the :class:`~distlab.sim.CallResult` that ``retry_call`` returned.
    A call that succeeded at its first attempt makes no event; its row comes from its result.

    Columns :data:`ATTEMPT_COLUMNS`: ``label, call, attempt`` (1-based), ``start, end`` (s),
    ``outcome`` (``ok``, ``error``, ``timeout``, ``rejected``), ``error`` (``down``,
    ``overloaded``, ``timeout`` or ``""``), ``wait_before_s`` (the backoff slept before this
    attempt; 0 for the first), ``final`` (the call's last attempt), ``gave_up`` (final and not
    ok), ``reason`` (why the call stopped, on final rows: ``ok``, ``attempts``, ``budget``,
    ``deadline``, ``not retryable``; ``""`` on attempts that were retried).

    >>> from distlab.retry import RetryEvent
    >>> from distlab.sim import CallResult
    >>> events = [RetryEvent(1.0, "retry", "c", call=1, attempt=1, started=0.0,
    ...                      outcome="error", error="down", delay=0.5),
    ...           RetryEvent(1.6, "ok", "c", call=1, attempt=2, started=1.5)]
    >>> final = CallResult(7, "ok", None, None, 1.5, 1.6, 0.1)
    >>> rows = attempt_rows(events, [("c", 1, final)])
    >>> rows[["attempt", "outcome", "wait_before_s", "reason"]].values.tolist()
    [[1, 'error', 0.0, ''], [2, 'ok', 0.5, 'ok']]
    """
    by_call: dict[tuple[str | None, int], list[RetryEvent]] = {}
    for event in events:
        by_call.setdefault((event.source, event.call), []).append(event)
    rows = []
    for label, call, result in calls:
        seen = by_call.get((label, call))
        if not seen:  # succeeded at once: no decision was reported
            rows.append((label, call, 1, result.started, result.ended, result.outcome,
                         result.error or "", 0.0, True, False, "ok"))  # fmt: skip
            continue
        waited = 0.0
        for e in seen:
            final = e.kind != "retry"
            reason = "" if not final else ("ok" if e.kind == "ok" else e.reason)
            rows.append((label, call, e.attempt, e.started, e.time, e.outcome, e.error or "",
                         waited, final, e.kind == "give_up", reason))  # fmt: skip
            waited = e.delay or 0.0
    return pd.DataFrame(rows, columns=list(ATTEMPT_COLUMNS))


def _recording(policies: Sequence[RetryPolicy]) -> list[RetryEvent]:
    """Every event of ``policies``, in order, in one list (the policies' own ``events()`` keep
    only the recent ones)."""
    events: list[RetryEvent] = []
    for policy in policies:
        policy.subscribe(events.append)
    return events


# -- backoff samples --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackoffSamplesResult(Result):
    """What :func:`backoff_samples` returns.

    ``frame``: one row per wait: ``strategy, sample, retry`` (1-based) and ``delay_s``.
    ``summary``: per strategy: ``samples``, ``mean_delay_s``, ``max_delay_s``.
    """


def backoff_samples(
    strategies: Iterable[str] | str = ("exponential", "full", "equal", "decorrelated"),
    *,
    base_s: float = 1.0,
    cap_s: float | None = 20.0,
    retries: int = 6,
    samples: int = 200,
    seed: int = 0,
) -> BackoffSamplesResult:
    """The waits each strategy draws before retries 1 to ``retries``, ``samples`` times over.

    Drawn with the library's own backoff classes, as a :class:`~distlab.retry.RetryPolicy` would.

    >>> backoff_samples(("exponential",), retries=3, samples=2).frame["delay_s"].tolist()
    [1.0, 2.0, 4.0, 1.0, 2.0, 4.0]
    """
    names = check_choices("strategies", strategies, STRATEGIES, noun="a strategy")
    base_s, cap_s = _check_backoff(base_s, cap_s)
    retries = check_int("retries", retries, 1, 60)
    samples = check_int("samples", samples, 1, 100_000)
    check_work("waits", len(names) * retries * samples, 1_000_000,
               f"retries={retries} times samples={samples}")  # fmt: skip
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    rows = []
    for strategy in names:
        backoff = backoff_for(strategy, base_s, cap_s)
        for sample in range(samples):
            for retry, delay in zip(range(1, retries + 1), backoff.delays(rng)):
                rows.append((strategy, sample, retry, delay))
    frame = pd.DataFrame(rows, columns=["strategy", "sample", "retry", "delay_s"])
    summary = frame.groupby("strategy", sort=False).agg(
        samples=("sample", "nunique"), mean_delay_s=("delay_s", "mean"),
        max_delay_s=("delay_s", "max"),
    )  # fmt: skip
    params = plain_params(strategies=names, base_s=base_s, cap_s=cap_s, retries=retries,
                          samples=samples, seed=seed)  # fmt: skip
    return BackoffSamplesResult(frame, summary, params)


# -- timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineResult(Result):
    """What :func:`timeline` returns.

    ``frame``: one row per attempt: ``client`` ("client 1", ...), ``call`` (1, 2, ... per
    client), ``attempt`` (1-based within the call), ``start``, ``end`` (s), ``outcome``
    (``ok``, ``error``, ``timeout``), ``wait_before_s`` (the backoff slept before this attempt;
    0 for attempt 1), ``final`` (the call's last attempt), ``gave_up`` (final and not ok),
    ``reason`` (why the call stopped, on final rows: ``ok``, ``attempts``, ``budget``; ``""``
    on attempts that were retried).

    ``summary``: per client: ``calls, attempts, retries, give_ups, ok_share`` (share of calls
    that succeeded) and ``first_ok_s`` (when its first call succeeded; NaN if none did).

    ``health``: the service's health as bands: ``start, end, state, label`` (``down``, ``up``).
    ``load``: attempts started per bin: ``time`` (bin start, s), ``attempts``, ``rate_per_s``.

    >>> timeline(seed=0).summary.loc["client 1", ["calls", "attempts", "give_ups"]].tolist()
    [8, 11, 1]
    """

    health: pd.DataFrame
    load: pd.DataFrame


def timeline(
    strategy: str = "exponential",
    *,
    clients: int = 5,
    max_attempts: int = 3,
    base_s: float = 1.0,
    cap_s: float | None = None,
    outage_s: float = 5.0,
    budget: bool = False,
    timeout_s: float = 1.0,
    think_s: float = 1.0,
    duration_s: float = 12.0,
    service_time_s: float = 0.02,
    latency_s: float = 0.005,
    bin_s: float = 0.25,
    seed: int = 0,
) -> TimelineResult:
    """``clients`` clients call one service that is down for the first ``outage_s`` seconds.

    Each client starts at t = 0 and loops: one call (retried by its own
    :class:`~distlab.retry.RetryPolicy` with ``max_attempts`` attempts and the ``strategy``
    backoff of :func:`backoff_for` from ``base_s``, capped at ``cap_s``, each attempt waiting
    at most ``timeout_s``), then ``think_s`` seconds of pause, until ``duration_s``. With
    ``budget=True`` all clients share one ``RetryBudget(max_tokens=10, token_ratio=0.1)``
    (gRPC's example). The service is down (it answers an error at once) for ``[0, outage_s)``,
    then up; its work takes Exponential(``service_time_s``), each message
    Normal(``latency_s``, ``latency_s``/5).

    The defaults are the course text's retry: 3 attempts, base 1 s, no jitter. Its comment
    promises waits of 1 s, 2 s and 4 s, but 3 attempts have only two waits (1 s, 2 s): see
    ``wait_before_s``. Every client's first call fails at the same moment, so without jitter all
    their retries line up in waves; with ``"full"`` jitter they spread out; with a budget the
    retries stop once the shared budget runs dry.

    >>> course = timeline(seed=1).frame
    >>> first = course.query("client == 'client 1' and call == 1")
    >>> first[["attempt", "wait_before_s", "outcome"]].values.tolist()
    [[1, 0.0, 'error'], [2, 1.0, 'error'], [3, 2.0, 'error']]
    """
    p = _check_timeline(locals())
    health = _outage_health(p["outage_s"])
    events, calls = _timeline_run(p, health)
    return _timeline_result(p, events, calls, health)


def _timeline_run(p: dict, health: HealthSchedule) -> tuple[list, list]:
    """The clients' loops in one world: the policies' events and every call's result."""
    world = World(seed=p["seed"], log_messages=False)
    net = Network(world, latency=_latency(p["latency_s"]))
    Service(net, _SERVICE, service_time=Exponential(p["service_time_s"]), health=health)
    shared = RetryBudget(10, 0.1) if p["budget"] else None
    backoff = backoff_for(p["strategy"], p["base_s"], p["cap_s"])
    names = [f"client {k}" for k in range(1, p["clients"] + 1)]
    policies = [RetryPolicy(p["max_attempts"], backoff, budget=shared, name=n) for n in names]
    events = _recording(policies)
    calls: list[tuple[str, int, CallResult]] = []

    def client(name: str, policy: RetryPolicy):
        call_no = 0
        while world.env.now < p["duration_s"]:
            call_no += 1
            result = yield retry_call(net, name, _SERVICE, call_no, timeout_s=p["timeout_s"],
                                      retry=policy)  # fmt: skip
            calls.append((name, call_no, result))
            yield world.env.timeout(p["think_s"])

    for name, policy in zip(names, policies):
        net.add_node(name)
        world.env.process(client(name, policy))
    world.run()
    return events, calls


def _check_timeline(args: dict) -> dict:
    p = {
        "strategy": check_choice("strategy", args["strategy"], STRATEGIES),
        "clients": check_int("clients", args["clients"], 1, 200),
        "max_attempts": check_int("max_attempts", args["max_attempts"], 1, 50),
    }
    p["base_s"], p["cap_s"] = _check_backoff(args["base_s"], args["cap_s"])
    p["outage_s"] = check_number("outage_s", args["outage_s"], 0.0, MAX_DURATION_S)
    p["budget"] = check_bool("budget", args["budget"])
    p["timeout_s"] = check_number("timeout_s", args["timeout_s"], 0.0, MAX_DURATION_S,
                                  min_inclusive=False)  # fmt: skip
    p["think_s"] = check_number("think_s", args["think_s"], 0.0, MAX_DURATION_S)
    p["duration_s"] = check_number("duration_s", args["duration_s"], 0.0, MAX_DURATION_S,
                                   min_inclusive=False)  # fmt: skip
    p["service_time_s"] = check_number("service_time_s", args["service_time_s"], 0.0,
                                       MAX_DURATION_S, min_inclusive=False)  # fmt: skip
    p["latency_s"] = check_number("latency_s", args["latency_s"], 0.0, MAX_DURATION_S)
    p["bin_s"] = check_number("bin_s", args["bin_s"], 0.0, min_inclusive=False)
    p["seed"] = check_seed(args["seed"])
    if p["think_s"] == 0 and p["latency_s"] == 0:
        raise ValueError(
            "think_s=0 with latency_s=0: calls refused by the down service would take no time "
            "and a client would loop forever at t=0; make one of them greater than 0"
        )
    # A call to the down service takes at least about two message latencies: bound the calls.
    per_call_s = p["think_s"] + 2 * p["latency_s"]
    _check_calls(p["clients"] * p["duration_s"] / per_call_s, 200_000,
               f"clients={p['clients']} for duration_s={p['duration_s']:g} with "
               f"think_s={p['think_s']:g} and latency_s={p['latency_s']:g}")  # fmt: skip
    _check_span(p["strategy"], p["base_s"], p["cap_s"], p["max_attempts"], p["timeout_s"],
                p["duration_s"], p["bin_s"])  # fmt: skip
    return p


def _timeline_result(p: dict, events, calls, health: HealthSchedule) -> TimelineResult:
    table = attempt_rows(events, calls).rename(columns={"label": "client"})
    table = table.drop(columns="error")
    number = table["client"].str.rsplit(" ", n=1).str[-1].astype(int).to_numpy()  # "client 10"
    order = np.lexsort((table["attempt"].to_numpy(), table["call"].to_numpy(), number))
    table = table.take(order).reset_index(drop=True)
    until = max(p["duration_s"], float(table["end"].max()))
    times, counts = binned(table["start"].to_numpy(), p["bin_s"], until)
    load = pd.DataFrame({"time": times, "attempts": counts, "rate_per_s": counts / p["bin_s"]})
    return TimelineResult(
        frame=table,
        summary=_timeline_summary(table),
        params=plain_params(**p),
        health=_bands(health, until),
        load=load,
    )


def _timeline_summary(a: pd.DataFrame) -> pd.DataFrame:
    # A few hundred rows: one pass in Python is several times faster than pandas group-bys, and
    # the explorer recomputes it on every move of a control.
    per: dict[str, list] = {}  # client -> [attempts, calls, give_ups, first ok end]
    columns = (a["client"], a["final"], a["gave_up"], a["outcome"], a["end"])
    for client, final, gave_up, outcome, end in zip(*(c.tolist() for c in columns)):
        row = per.get(client)
        if row is None:
            row = per[client] = [0, 0, 0, math.inf]
        row[0] += 1
        if final:
            row[1] += 1
            row[2] += 1 if gave_up else 0
        if outcome == outcomes.OK and end < row[3]:
            row[3] = end
    clients = [c for c, row in per.items() if row[1]]
    rows = [per[c] for c in clients]
    out = pd.DataFrame(
        {
            "calls": np.array([r[1] for r in rows], dtype=np.int64),
            "attempts": np.array([r[0] for r in rows], dtype=np.int64),
            "retries": np.array([r[0] - r[1] for r in rows], dtype=np.int64),
            "give_ups": np.array([r[2] for r in rows], dtype=np.int64),
            "ok_share": np.array([1.0 - r[2] / r[1] for r in rows]),
            "first_ok_s": np.array([r[3] if r[3] != math.inf else math.nan for r in rows]),
        },
        index=pd.Index(clients, name="client"),
    )
    return out


# -- storm ------------------------------------------------------------------------------------

_RECOVERY_COLUMNS = [
    "peak_rate_per_s", "peak_after_recovery_per_s", "caught_up_at_s", "total_attempts",
    "overloaded", "give_ups",
]  # fmt: skip


@dataclass(frozen=True)
class StormResult(Result):
    """What :func:`storm` returns.

    ``frame``: one row per attempt: ``strategy, client, attempt, start, end, outcome`` (``ok``,
    ``error``, ``timeout``), ``error`` (``down``, ``overloaded``, ``timeout`` or ``""``),
    ``wait_before_s``.

    ``summary``: one row per strategy (indexed by it): ``peak_rate_per_s`` (highest rate of
    retries, all attempts after the first), ``peak_after_recovery_per_s`` (highest rate of
    attempts once the service is back up), ``caught_up_at_s`` (when the last client's call
    ended: the herd is served or gave up), ``total_attempts``, ``overloaded`` (attempts refused
    for lack of room), ``give_ups``.

    ``load``: attempts reaching the service per bin and strategy: ``strategy, time`` (bin
    start, s), ``attempts``, ``rate_per_s`` and, by what became of them, ``ok``, ``down``
    (refused: the service was down), ``overloaded`` (refused: no room in its queue),
    ``timeout``.

    ``health``: the service's health as bands (``start, end, state, label``).

    >>> s = storm(seed=0).summary
    >>> bool(s.loc["exponential", "caught_up_at_s"] > s.loc["full", "caught_up_at_s"])
    True
    """

    load: pd.DataFrame
    health: pd.DataFrame


def storm(
    strategies: Iterable[str] | str = STRATEGIES_SHOWN,
    *,
    clients: int = 50,
    max_attempts: int = 8,
    base_s: float = 1.0,
    cap_s: float | None = 8.0,
    outage_s: float = 5.0,
    capacity_per_s: float = 40.0,
    concurrency: int = 4,
    queue_limit: int = 8,
    timeout_s: float = 1.0,
    latency_s: float = 0.005,
    bin_s: float = 0.1,
    seed: int = 0,
) -> StormResult:
    """The thundering herd: ``clients`` clients whose first calls fail together, per strategy.

    The service is down for ``[0, outage_s)`` and then up, with a limited capacity: at most
    ``concurrency`` requests at once, each taking Exponential(``concurrency / capacity_per_s``)
    seconds (so it serves ``capacity_per_s`` requests per second), and at most ``queue_limit``
    waiting; any request beyond that is refused at once as ``"overloaded"``. Every client calls
    it at t = 0 and retries with ``max_attempts`` attempts and the strategy's backoff from
    ``base_s``, capped at ``cap_s``, each attempt waiting at most ``timeout_s``. Each strategy
    runs in its own world with the same ``seed``.

    Without jitter all clients retry at the same instants: the load comes in spikes, each spike
    after the recovery overflows the service's queue, most of it is refused again, and the herd
    takes many rounds (or gives up) before it is served. With jitter the same retries are spread
    out and the recovered service keeps up.

    >>> peak = storm(seed=1).summary["peak_after_recovery_per_s"]
    >>> bool(peak["exponential"] > 3 * peak["full"])
    True
    """
    p = _check_storm(locals())
    health = _outage_health(p["outage_s"])
    tables = []
    for strategy in p["strategies"]:
        table = _storm_run(p, strategy, health)
        table.insert(0, "strategy", strategy)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    until = max(p["outage_s"], float(table["end"].max())) + p["bin_s"]
    loads, recovery = [], {}
    for strategy, part in table.groupby("strategy", sort=False):
        load, recovery[strategy] = _storm_tally(part, p, until)
        loads.append(load.assign(strategy=strategy)[["strategy", *load.columns]])
    summary = pd.DataFrame.from_dict(recovery, orient="index", columns=_RECOVERY_COLUMNS)
    summary.index.name = "strategy"
    return StormResult(
        frame=table,
        summary=summary,
        params=plain_params(**p),
        load=pd.concat(loads, ignore_index=True),
        health=_bands(health, until),
    )


def _check_storm(args: dict) -> dict:
    p = {
        "strategies": check_choices(
            "strategies", args["strategies"], STRATEGIES, noun="a strategy"
        ),
        "clients": check_int("clients", args["clients"], 1, 2000),
        "max_attempts": check_int("max_attempts", args["max_attempts"], 1, 50),
    }
    p["base_s"], p["cap_s"] = _check_backoff(args["base_s"], args["cap_s"])
    p["outage_s"] = check_number("outage_s", args["outage_s"], 0.0, MAX_DURATION_S)
    p["capacity_per_s"] = check_number("capacity_per_s", args["capacity_per_s"], 0.0,
                                       min_inclusive=False)  # fmt: skip
    p["concurrency"] = check_int("concurrency", args["concurrency"], 1, 10_000)
    _check_capacity(p["capacity_per_s"], p["concurrency"])
    p["queue_limit"] = check_int("queue_limit", args["queue_limit"], 0, 100_000)
    p["timeout_s"] = check_number("timeout_s", args["timeout_s"], 0.0, MAX_DURATION_S,
                                  min_inclusive=False)  # fmt: skip
    p["latency_s"] = check_number("latency_s", args["latency_s"], 0.0, MAX_DURATION_S)
    p["bin_s"] = check_number("bin_s", args["bin_s"], 0.0, min_inclusive=False)
    p["seed"] = check_seed(args["seed"])
    _check_span(p["strategies"][0], p["base_s"], p["cap_s"], p["max_attempts"], p["timeout_s"],
                p["outage_s"] + 2 * p["bin_s"], p["bin_s"])  # fmt: skip
    for strategy in p["strategies"][1:]:
        _check_span(strategy, p["base_s"], p["cap_s"], p["max_attempts"], p["timeout_s"],
                    p["outage_s"] + 2 * p["bin_s"], p["bin_s"])  # fmt: skip
    return p


def _check_capacity(capacity_per_s: float, concurrency: int) -> float:
    """The mean service time ``concurrency / capacity_per_s``, refused beyond an hour."""
    mean_s = concurrency / capacity_per_s
    if not mean_s <= MAX_DURATION_S:
        raise ValueError(
            f"capacity_per_s={capacity_per_s:g} with concurrency={concurrency} makes each "
            f"request take {mean_s:g} s on average; at most {MAX_DURATION_S:g} s "
            f"(capacity_per_s >= {concurrency / MAX_DURATION_S:.3g})"
        )
    return mean_s


def _storm_run(p: dict, strategy: str, health: HealthSchedule) -> pd.DataFrame:
    world = World(seed=p["seed"], log_messages=False)
    net = Network(world, latency=_latency(p["latency_s"]))
    Service(
        net,
        _SERVICE,
        service_time=Exponential(p["concurrency"] / p["capacity_per_s"]),
        health=health,
        concurrency=p["concurrency"],
        queue_limit=p["queue_limit"],
    )
    backoff = backoff_for(strategy, p["base_s"], p["cap_s"])
    names = [f"client {k}" for k in range(1, p["clients"] + 1)]
    policies = [RetryPolicy(p["max_attempts"], backoff, name=n) for n in names]
    events = _recording(policies)
    procs = []
    for name, policy in zip(names, policies):
        net.add_node(name)
        procs.append(retry_call(net, name, _SERVICE, timeout_s=p["timeout_s"], retry=policy))
    world.run()
    table = attempt_rows(events, [(n, 1, proc.value) for n, proc in zip(names, procs)])
    # in the order the attempts ended, as the service saw the herd
    table = table.sort_values("end", kind="stable").reset_index(drop=True)
    table = table.rename(columns={"label": "client"})
    return table[["client", "attempt", "start", "end", "outcome", "error", "wait_before_s"]]


def _storm_tally(part: pd.DataFrame, p: dict, until: float) -> tuple[pd.DataFrame, list]:
    bin_s = p["bin_s"]
    starts = part["start"].to_numpy()
    times, counts = binned(starts, bin_s, until)
    load = pd.DataFrame({"time": times, "attempts": counts, "rate_per_s": counts / bin_s})
    kind = np.where(
        part["outcome"] == outcomes.OK,
        "ok",
        np.where(part["outcome"] == outcomes.TIMEOUT, "timeout", part["error"]),
    )
    for what in ("ok", "down", "overloaded", "timeout"):
        load[what] = binned(starts[kind == what], bin_s, until)[1]
    retries = binned(starts[part["attempt"].to_numpy() > 1], bin_s, until)[1]
    after = binned(starts[starts >= p["outage_s"]], bin_s, until)[1]
    final = part.groupby("client", sort=False).tail(1)
    recovery = [
        retries.max() / bin_s,
        after.max() / bin_s,
        float(final["end"].max()),
        len(part),
        int((kind == "overloaded").sum()),
        int((final["outcome"] != outcomes.OK).sum()),
    ]
    return load, recovery


# -- amplification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AmplificationResult(Result):
    """What :func:`amplification` returns.

    ``frame``: one row per layer: ``layer`` (1 = top), ``service``, ``calls`` (requests it
    received), ``first_s``, ``last_s`` (when the first and the last of them arrived) and
    ``mode``.

    ``summary``: one row, indexed by the mode: ``layers``, ``max_attempts``,
    ``bottom_calls`` (requests at the bottom layer for one user request) and ``total_calls``.
    """


def amplification(
    mode: str = "every layer",
    *,
    layers: int = 5,
    max_attempts: int = 3,
    strategy: str = "full",
    base_s: float = 0.01,
    max_tokens: float = 10.0,
    token_ratio: float = 0.1,
    latency_s: float = 0.001,
    seed: int = 0,
) -> AmplificationResult:
    """One user request through a chain of ``layers`` services whose bottom one always fails.

    A user calls layer 1, layer 1 calls layer 2, ... down to layer ``layers``, which is down
    (it answers an error at once). Each caller (the user and every layer but the bottom one)
    uses :func:`distlab.sim.retry_call` with ``max_attempts`` attempts and the ``strategy``
    backoff from ``base_s``, waiting as long as the layer below takes (no timeout), and a layer
    whose call finally fails answers its own caller with an error. ``mode``:

    - ``"every layer"``: every caller retries: layer k receives ``max_attempts**k`` requests,
      so the bottom sees ``max_attempts**layers`` (3 at each of 5 layers: 243; 4 at each of 3:
      64);
    - ``"top only"``: only the user retries, the services call once: every layer receives
      ``max_attempts`` requests;
    - ``"budget"``: every caller retries but has its own
      ``RetryBudget(max_tokens, token_ratio)``: the retries stop when it runs dry, so the load
      at the bottom is bounded.

    >>> amplification(layers=5, max_attempts=3).frame["calls"].tolist()
    [3, 9, 27, 81, 243]
    >>> amplification("top only", layers=3, max_attempts=4).frame["calls"].tolist()
    [4, 4, 4]
    """
    check_choice("mode", mode, AMPLIFICATION_MODES)
    layers = check_int("layers", layers, 1, 10)
    max_attempts = check_int("max_attempts", max_attempts, 1, 20)
    check_choice("strategy", strategy, STRATEGIES)
    base_s, _ = _check_backoff(base_s, None)
    budget = RetryBudget(max_tokens, token_ratio)  # checks both
    latency_s = check_number("latency_s", latency_s, 0.0, MAX_DURATION_S)
    seed = check_seed(seed)
    if mode != "top only" and max_attempts**layers > 100_000:
        raise ValueError(
            f"max_attempts={max_attempts} at each of layers={layers} would send "
            f"{max_attempts**layers:,} requests to the bottom layer; at most 100,000 are "
            "simulated (lower one of them)"
        )
    params = plain_params(
        mode=mode, layers=layers, max_attempts=max_attempts, strategy=strategy, base_s=base_s,
        max_tokens=budget.max_tokens, token_ratio=budget.token_ratio, latency_s=latency_s,
        seed=seed,
    )  # fmt: skip
    return _amplification_run(params)


def _amplification_run(p: dict) -> AmplificationResult:
    world = World(seed=p["seed"], log_messages=False)
    latency = Exponential(p["latency_s"]) if p["latency_s"] > 0 else Constant(0.0)
    net = Network(world, latency=latency)
    backoff = backoff_for(p["strategy"], p["base_s"])
    layers, mode = p["layers"], p["mode"]
    names = [f"layer {k}" for k in range(1, layers + 1)]
    callers = ["user", *names[:-1]]  # callers[k] calls names[k]

    def policy_for(k: int) -> RetryPolicy:
        if mode == "top only" and k > 0:
            return RetryPolicy(1, name=callers[k])
        budget = RetryBudget(p["max_tokens"], p["token_ratio"]) if mode == "budget" else None
        return RetryPolicy(p["max_attempts"], backoff, budget=budget, name=callers[k])

    policies = [policy_for(k) for k in range(layers)]
    events = _recording(policies)

    def handler_for(k: int):
        def handler(request):
            result = yield retry_call(net, names[k], names[k + 1], request, timeout_s=math.inf,
                                      retry=policies[k + 1])  # fmt: skip
            if not result.ok:
                raise RuntimeError(result.error)
            return result.value

        return handler

    net.add_node("user")
    for k, name in enumerate(names):
        if k == layers - 1:
            Service(net, name, service_time=0.0, health=Down())
        else:
            Service(net, name, service_time=Exponential(0.001), handler=handler_for(k))
    retry_call(net, "user", names[0], "GET /", timeout_s=math.inf, retry=policies[0])
    world.run()
    # The bottom always fails, so every attempt was decided on and reported as an event.
    arrivals = {c: [] for c in callers}
    for e in events:
        arrivals[e.source].append(e.started)
    frame = pd.DataFrame(
        {
            "layer": np.arange(1, layers + 1),
            "service": names,
            "calls": [len(arrivals[c]) for c in callers],
            "first_s": [min(arrivals[c]) for c in callers],
            "last_s": [max(arrivals[c]) for c in callers],
            "mode": mode,
        }
    )
    summary = summary_row(mode, "mode", layers=layers, max_attempts=p["max_attempts"],
                          bottom_calls=int(frame["calls"].iloc[-1]),
                          total_calls=int(frame["calls"].sum()))  # fmt: skip
    return AmplificationResult(frame, summary, p)


# -- budget -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetEffectResult(Result):
    """What :func:`budget_effect` returns.

    ``frame``: one row per attempt: ``variant, request, attempt, start, end, outcome`` (``ok``,
    ``error``, ``timeout``), ``error`` (``overloaded``, ``timeout`` or ``""``).

    ``summary``: per variant: ``requests``, ``attempts``, ``extra_load`` (retries per request),
    ``trouble_rate_per_s`` (mean load on the dependency, attempts per second, from the start
    of the failure until it recovered), ``load_ratio`` (that over the user request rate: 1
    means no extra load), ``peak_rate_per_s``, ``recovered_at_s`` (the first time after the
    failure at which its queue was empty: the backlog drained; NaN if it never was, sampled
    every ``bin_s``), ``recovery_s`` (that minus the end of the failure), ``give_ups`` (user
    requests that failed after all their attempts).

    ``load``: per variant and bin: ``variant`` ("no budget", "budget"), ``time`` (bin start,
    s), ``rate_per_s`` (attempts sent to the dependency per second), ``ok_per_s`` (of which
    succeeded), ``failed_per_s``, ``base_rate_per_s`` (user requests per second: the load
    without any retry) and ``queue`` (requests waiting at the dependency, sampled at the bin's
    start).

    ``health``: the dependency's health as bands (``start, end, state, label``).

    >>> s = budget_effect(seed=0).summary
    >>> bool(s.loc["budget", "recovery_s"] < s.loc["no budget", "recovery_s"])
    True
    """

    load: pd.DataFrame
    health: pd.DataFrame


def budget_effect(
    variants: Iterable[str] | str = BUDGET_VARIANTS,
    *,
    rate_per_s: float = 12.0,
    capacity_per_s: float = 40.0,
    concurrency: int = 4,
    queue_limit: int = 60,
    max_attempts: int = 3,
    strategy: str = "full",
    base_s: float = 0.1,
    cap_s: float | None = 1.0,
    failure_at_s: float = 2.0,
    failure_s: float = 3.0,
    slow_factor: float = 5.0,
    timeout_s: float = 0.5,
    duration_s: float = 12.0,
    max_tokens: float = 10.0,
    token_ratio: float = 0.1,
    bin_s: float = 0.25,
    seed: int = 0,
) -> BudgetEffectResult:
    """Steady traffic to a dependency that stalls for a while, with and without a retry budget.

    User requests arrive at ``rate_per_s`` (Poisson) for ``duration_s`` seconds; each is one
    call from a frontend to the dependency with ``timeout_s`` per attempt, retried by the
    frontend's policy with ``max_attempts`` attempts and the ``strategy`` backoff (``base_s``,
    ``cap_s``). With the budget, all of them share one ``RetryBudget(max_tokens, token_ratio)``
    (gRPC retry throttling).

    The dependency serves ``capacity_per_s`` requests per second (``concurrency`` at once, each
    Exponential(``concurrency / capacity_per_s``) s), keeps at most ``queue_limit`` waiting and
    refuses the rest as ``"overloaded"``. From ``failure_at_s`` for ``failure_s`` seconds it
    stalls (its work takes ``slow_factor`` times longer): calls time out and its queue fills.
    A timed-out request stays in the queue and is served anyway, for nobody. Once the stall is
    over the dependency recovers only when its queue drains, which needs the load on it to be
    well below its capacity. Without a budget every failing request is sent ``max_attempts``
    times, which keeps the queue full long after the stall; with the budget the retries stop
    when it runs dry, the load stays near the user rate and the queue drains at once.

    >>> s = budget_effect(seed=0).summary
    >>> bool(s.loc["budget", "load_ratio"] < 1.5 < s.loc["no budget", "load_ratio"])
    True
    """
    p = _check_budget_effect(locals())
    failure_end_s = p["failure_at_s"] + p["failure_s"]
    health = _stall_health(p["failure_at_s"], failure_end_s, p["slow_factor"])
    runs = {variant: _budget_run(p, variant, health) for variant in p["variants"]}
    return _budget_result(p, runs, health, failure_end_s)


def _budget_result(p: dict, runs: dict, health: HealthSchedule, failure_end_s: float):
    table = pd.concat([frame for frame, _ in runs.values()], ignore_index=True)
    queues = {variant: queue for variant, (_, queue) in runs.items()}
    until = max(p["duration_s"], float(table["end"].max()) if len(table) else 0.0)
    loads = [
        _budget_load(part, queues[variant], p, until)
        for variant, part in table.groupby("variant", sort=False)
    ]
    load = pd.concat(loads, ignore_index=True) if loads else pd.DataFrame()
    return BudgetEffectResult(
        frame=table,
        summary=_budget_summary(table, load, p, failure_end_s),
        params=plain_params(**p),
        load=load,
        health=_bands(health, until),
    )


def _stall_health(start_s: float, end_s: float, slow_factor: float) -> HealthSchedule:
    if start_s > 0:
        return HealthSchedule([(0.0, Up()), (start_s, Slow(slow_factor)), (end_s, Up())])
    return HealthSchedule([(0.0, Slow(slow_factor)), (end_s, Up())])


def _check_budget_effect(args: dict) -> dict:
    names = check_choices("variants", args["variants"], BUDGET_VARIANTS)
    p = {"variants": names}
    p["rate_per_s"] = check_number("rate_per_s", args["rate_per_s"], 0.0, 10_000.0,
                                   min_inclusive=False)  # fmt: skip
    p["capacity_per_s"] = check_number("capacity_per_s", args["capacity_per_s"], 0.0,
                                       min_inclusive=False)  # fmt: skip
    p["concurrency"] = check_int("concurrency", args["concurrency"], 1, 10_000)
    mean_s = _check_capacity(p["capacity_per_s"], p["concurrency"])
    p["queue_limit"] = check_int("queue_limit", args["queue_limit"], 0, 100_000)
    p["max_attempts"] = check_int("max_attempts", args["max_attempts"], 1, 50)
    p["strategy"] = check_choice("strategy", args["strategy"], STRATEGIES)
    p["base_s"], p["cap_s"] = _check_backoff(args["base_s"], args["cap_s"])
    p["duration_s"] = check_number("duration_s", args["duration_s"], 0.0, MAX_DURATION_S,
                                   min_inclusive=False)  # fmt: skip
    p["failure_at_s"] = check_number("failure_at_s", args["failure_at_s"], 0.0, p["duration_s"])
    # at least a microsecond: the stall must end after it starts, in floating point too
    p["failure_s"] = check_number("failure_s", args["failure_s"], 1e-6, MAX_DURATION_S)
    p["slow_factor"] = check_number("slow_factor", args["slow_factor"], 1.0)
    if mean_s * p["slow_factor"] > MAX_DURATION_S:
        raise ValueError(
            f"slow_factor={p['slow_factor']:g} makes each request of the stalled dependency "
            f"take {mean_s * p['slow_factor']:g} s on average; at most {MAX_DURATION_S:g} s"
        )
    p["timeout_s"] = check_number("timeout_s", args["timeout_s"], 0.0, MAX_DURATION_S,
                                  min_inclusive=False)  # fmt: skip
    budget = RetryBudget(args["max_tokens"], args["token_ratio"])  # checks both
    p["max_tokens"], p["token_ratio"] = budget.max_tokens, budget.token_ratio
    p["bin_s"] = check_number("bin_s", args["bin_s"], 0.0, min_inclusive=False)
    p["seed"] = check_seed(args["seed"])
    check_work("requests", p["rate_per_s"] * p["duration_s"], 200_000,
               f"rate_per_s={p['rate_per_s']:g} for duration_s={p['duration_s']:g}")  # fmt: skip
    _check_span(p["strategy"], p["base_s"], p["cap_s"], p["max_attempts"], p["timeout_s"],
                p["duration_s"], p["bin_s"])  # fmt: skip
    return p


def _budget_run(p: dict, variant: str, health: HealthSchedule) -> tuple[pd.DataFrame, list]:
    world = World(seed=p["seed"], log_messages=False)
    env = world.env
    net = Network(world, latency=Normal(0.005, 0.001))
    net.add_node("frontend")
    svc = Service(
        net,
        "dependency",
        service_time=Exponential(p["concurrency"] / p["capacity_per_s"]),
        health=health,
        concurrency=p["concurrency"],
        queue_limit=p["queue_limit"],
    )
    budget = RetryBudget(p["max_tokens"], p["token_ratio"]) if variant == "budget" else None
    backoff = backoff_for(p["strategy"], p["base_s"], p["cap_s"])
    policy = RetryPolicy(p["max_attempts"], backoff, budget=budget, name="frontend")
    events = _recording([policy])
    calls: list[tuple[str, int, CallResult]] = []
    arrivals = _arrivals(world.rng, p["rate_per_s"], p["duration_s"])
    horizon = _check_span(p["strategy"], p["base_s"], p["cap_s"], p["max_attempts"],
                          p["timeout_s"], p["duration_s"], p["bin_s"])  # fmt: skip

    def request(i: int):
        # the policy numbers its calls in the order they start: request i is call i + 1,
        # since every request starts at its own arrival time
        result = yield retry_call(net, "frontend", "dependency", i, timeout_s=p["timeout_s"],
                                  retry=policy)  # fmt: skip
        calls.append(("frontend", i + 1, result))

    def source():
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            env.process(request(i))

    queue: list[int] = []

    def monitor():
        # samples beyond the last call's end are never shown: stop there at the latest
        while env.now < horizon and (env.now < p["duration_s"] or svc.queued):
            queue.append(svc.queued)
            yield env.timeout(p["bin_s"])
        queue.append(svc.queued)

    env.process(source())
    env.process(monitor())
    world.run()
    table = attempt_rows(events, sorted(calls, key=lambda c: c[1]))
    table["request"] = table["call"] - 1
    table.insert(0, "variant", variant)
    table = table.sort_values(["request", "attempt"], kind="stable").reset_index(drop=True)
    return table[["variant", "request", "attempt", "start", "end", "outcome", "error"]], queue


def _arrivals(rng: np.random.Generator, rate_per_s: float, duration_s: float) -> np.ndarray:
    """Poisson arrival times in ``[0, duration_s)``, drawn as this experiment always has.

    Not :func:`~distlab.experiments.scenario.poisson_arrivals`: that draws a different number
    of gaps (1.3x instead of 1.2x the expected count), which shifts every later draw of the
    world's generator and so changes the seeded runs the notebook and the tests show.
    """
    size = int(rate_per_s * duration_s * 1.2) + 20
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, size=size))
    return times[times < duration_s]


def _budget_load(part: pd.DataFrame, queue: list, p: dict, until: float) -> pd.DataFrame:
    bin_s = p["bin_s"]
    starts = part["start"].to_numpy()
    times, counts = binned(starts, bin_s, until)
    ok = binned(starts[part["outcome"].to_numpy() == outcomes.OK], bin_s, until)[1]
    sampled = np.zeros(len(times), dtype=int)
    kept = queue[: len(times)]
    sampled[: len(kept)] = kept
    return pd.DataFrame(
        {
            "variant": part["variant"].iloc[0],
            "time": times,
            "rate_per_s": counts / bin_s,
            "ok_per_s": ok / bin_s,
            "failed_per_s": (counts - ok) / bin_s,
            "base_rate_per_s": p["rate_per_s"],
            "queue": sampled,
        }
    )


def _budget_summary(
    table: pd.DataFrame, load: pd.DataFrame, p: dict, failure_end_s: float
) -> pd.DataFrame:
    rows = {}
    for variant, part in table.groupby("variant", sort=False):
        starts = part["start"]
        final = part.groupby("request", sort=False).tail(1)
        here = load[load["variant"] == variant]
        drained = here.loc[(here["time"] >= failure_end_s) & (here["queue"] == 0), "time"]
        recovered = float(drained.iloc[0]) if len(drained) else math.nan
        until = p["duration_s"] if math.isnan(recovered) else min(p["duration_s"], recovered)
        until = max(until, failure_end_s)
        trouble = ((starts >= p["failure_at_s"]) & (starts < until)).sum()
        trouble_rate = trouble / (until - p["failure_at_s"])
        requests = int(part["request"].nunique())
        rows[variant] = {
            "requests": requests,
            "attempts": len(part),
            "extra_load": len(part) / requests - 1.0,
            "trouble_rate_per_s": trouble_rate,
            "load_ratio": trouble_rate / p["rate_per_s"],
            "peak_rate_per_s": float(here["rate_per_s"].max()),
            "recovered_at_s": recovered,
            "recovery_s": recovered - failure_end_s,
            "give_ups": int((final["outcome"] != outcomes.OK).sum()),
        }
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "variant"
    return summary
