"""Retries with backoff and jitter, as experiments (notebook 02).

Every experiment runs the real :class:`~distlab.retry.RetryPolicy` in simulated time through
:func:`distlab.sim.retry_call`, so what a learner sees is what the library does.

- :func:`timeline`: a few clients retry against a service that is down for the first seconds:
  one row per attempt, for the retry timeline (the course text's retry by default).
- :func:`storm`: the thundering herd: many clients fail together; without jitter their retries
  hit the recovering service in spikes and knock it over again, with jitter they are smoothed.
- :func:`amplification`: a chain of services, each retrying the one below: 3 attempts at each of
  5 layers send 243 requests to the bottom for one user request.
- :func:`budget_effect`: a dependency stalls under steady traffic; with a
  :class:`~distlab.retry.RetryBudget` the extra load stays bounded and it recovers sooner.

(The AWS contention experiment lives in :mod:`distlab.experiments.contention`.)

>>> from distlab.experiments.retries import timeline
>>> result = timeline(seed=0)          # the course text: 3 attempts, 1 s, 2 s, no jitter
>>> sorted(set(result.attempts["wait_before_s"].round(6)))
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from distlab._validate import check_choice, check_int, check_number, check_seed
from distlab.retry import (
    Backoff,
    ConstantBackoff,
    ExponentialBackoff,
    NoBackoff,
    RetryBudget,
    RetryPolicy,
)
from distlab.sim import (
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
    "BUDGET_VARIANTS",
    "STRATEGIES",
    "STRATEGIES_SHOWN",
    "BudgetEffectResult",
    "StormResult",
    "TimelineResult",
    "amplification",
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

_SERVICE = "service"


# -- helpers ----------------------------------------------------------------------------------


def backoff_for(strategy: str, base: float = 1.0, cap: float | None = None) -> Backoff:
    """The :class:`~distlab.retry.Backoff` for a strategy name of :data:`STRATEGIES`.

    ``base`` and ``cap`` are seconds; ``cap`` (``None`` = no cap) bounds the exponential kinds
    and is ignored by ``"none"`` and ``"constant"``.

    >>> backoff_for("full", 0.1, 2.0)
    ExponentialBackoff(base=0.1, cap=2.0, jitter='full')
    >>> backoff_for("constant", 0.5)
    ConstantBackoff(delay_s=0.5)
    """
    check_choice("strategy", strategy, STRATEGIES)
    base, cap = _check_backoff("base", base, "cap", cap)
    if strategy == "none":
        return NoBackoff()
    if strategy == "constant":
        return ConstantBackoff(base)
    jitter = None if strategy == "exponential" else strategy
    return ExponentialBackoff(base=base, cap=cap, jitter=jitter)


def backoff_samples(
    strategies: tuple[str, ...] = ("exponential", "full", "equal", "decorrelated"),
    *,
    base_s: float = 1.0,
    cap_s: float | None = 20.0,
    retries: int = 6,
    samples: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """The waits each strategy draws before retries 1 to ``retries``, ``samples`` times over.

    Drawn with the library's own backoff classes, as a :class:`~distlab.retry.RetryPolicy` would.
    One row per wait: ``strategy, sample, retry`` (1-based) and ``delay_s``.

    >>> df = backoff_samples(("exponential",), retries=3, samples=2)
    >>> df["delay_s"].tolist()
    [1.0, 2.0, 4.0, 1.0, 2.0, 4.0]
    """
    for strategy in strategies:
        check_choice("strategies", strategy, STRATEGIES)
    retries = check_int("retries", retries, 1, 60)
    samples = check_int("samples", samples, 1, 100_000)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    rows = []
    for strategy in strategies:
        backoff = backoff_for(strategy, base_s, cap_s)
        for sample in range(samples):
            for retry, delay in zip(range(1, retries + 1), backoff.delays(rng)):
                rows.append((strategy, sample, retry, delay))
    return pd.DataFrame(rows, columns=["strategy", "sample", "retry", "delay_s"])


def _check_backoff(
    base_name: str, base: float, cap_name: str, cap: float | None
) -> tuple[float, float | None]:
    base = check_number(base_name, base, 0.0)
    if cap is not None:
        cap = check_number(cap_name, cap, 0.0)
        if cap < base:
            raise ValueError(f"{cap_name}={cap:g} must be at least {base_name}={base:g} (or None)")
    return base, cap


def _check_strategies(strategies: Iterable[str]) -> tuple[str, ...]:
    if isinstance(strategies, str):
        strategies = (strategies,)
    if not isinstance(strategies, Iterable):
        raise TypeError(f"strategies={strategies!r} must be a list of names from {STRATEGIES}")
    names = tuple(strategies)
    if not names:
        raise ValueError(f"strategies=() is empty: give at least one of {STRATEGIES}")
    for name in names:
        check_choice("strategies item", name, STRATEGIES)
    if len(set(names)) != len(names):
        raise ValueError(f"strategies={names!r} names a strategy twice")
    return names


def _binned(times: np.ndarray, bin_s: float, until: float) -> tuple[np.ndarray, np.ndarray]:
    """Bin starts and, for each bin of ``bin_s`` seconds from 0 to ``until``, the count of times."""
    bins = max(1, math.ceil(until / bin_s - 1e-9))
    index = np.minimum((np.asarray(times, dtype=float) / bin_s).astype(int), bins - 1)
    return np.arange(bins) * bin_s, np.bincount(index, minlength=bins)


def _outage_health(outage_s: float) -> HealthSchedule:
    if outage_s == 0:
        return HealthSchedule([(0.0, Up())])
    return HealthSchedule([(0.0, Down()), (outage_s, Up())])


def _bands(schedule: HealthSchedule, until: float) -> pd.DataFrame:
    bands = schedule.bands(until, include_up=True)
    return bands[["start", "end", "state", "label"]].reset_index(drop=True)


# -- timeline ---------------------------------------------------------------------------------

_ATTEMPT_COLUMNS = [
    "client",
    "call",
    "attempt",
    "start",
    "end",
    "outcome",
    "wait_before_s",
    "final",
    "gave_up",
    "reason",
]


@dataclass(frozen=True)
class TimelineResult:
    """What :func:`timeline` returns.

    Attributes:
        attempts: one row per attempt: ``client`` ("client 1", ...), ``call`` (1, 2, ... per
            client), ``attempt`` (1-based within the call), ``start``, ``end`` (s), ``outcome``
            (``ok``, ``error``, ``timeout``), ``wait_before_s`` (the backoff slept before this
            attempt; 0 for attempt 1), ``final`` (the call's last attempt), ``gave_up`` (final and
            not ok), ``reason`` (why the call stopped, on final rows: ``success``, ``attempts``,
            ``budget``; ``""`` on attempts that were retried).
        health: the service's health as bands: ``start, end, state, label`` ("down", "up").
        load: attempts started per bin: ``time`` (bin start, s), ``attempts``, ``rate_per_s``.
    """

    attempts: pd.DataFrame
    health: pd.DataFrame
    load: pd.DataFrame

    @property
    def frame(self) -> pd.DataFrame:
        """The per-attempt table (what :func:`distlab.experiments.sweep` stacks)."""
        return self.attempts

    def summary(self) -> pd.DataFrame:
        """Per client: ``calls, attempts, retries, give_ups, ok_share`` (share of calls that
        succeeded) and ``first_ok_s`` (when its first call succeeded; NaN if none did).

        >>> timeline(seed=0).summary().loc["client 1", ["calls", "attempts", "give_ups"]].tolist()
        [8, 11, 1]
        """
        a = self.attempts
        grouped = a.groupby("client", sort=False)
        final = a[a["final"]].groupby("client", sort=False)
        ok = a[a["outcome"] == "ok"].groupby("client", sort=False)["end"].min()
        out = pd.DataFrame(
            {
                "calls": final.size(),
                "attempts": grouped.size(),
                "retries": grouped.size() - final.size(),
                "give_ups": final["gave_up"].sum().astype(int),
                "ok_share": 1.0 - final["gave_up"].mean(),
                "first_ok_s": ok.reindex(final.size().index),
            }
        )
        out.index.name = "client"
        return out


def timeline(
    strategy: str = "exponential",
    *,
    clients: int = 5,
    attempts: int = 3,
    base_s: float = 1.0,
    cap_s: float | None = None,
    outage_s: float = 5.0,
    budget: bool = False,
    call_timeout_s: float = 1.0,
    think_s: float = 1.0,
    duration_s: float = 12.0,
    service_time_s: float = 0.02,
    latency_s: float = 0.005,
    bin_s: float = 0.25,
    seed: int = 0,
) -> TimelineResult:
    """``clients`` clients call one service that is down for the first ``outage_s`` seconds.

    Each client starts at t = 0 and loops: one call (retried by its own
    :class:`~distlab.retry.RetryPolicy` with ``attempts`` attempts and the ``strategy`` backoff
    of :func:`backoff_for` from ``base_s``, capped at ``cap_s``), then ``think_s`` seconds of
    pause, until ``duration_s``. With ``budget=True`` all clients share one
    ``RetryBudget(max_tokens=10, token_ratio=0.1)`` (gRPC's example). The service is down (it
    answers an error at once) for ``[0, outage_s)``, then up; its work takes
    Exponential(``service_time_s``), each message Normal(``latency_s``, ``latency_s``/5).

    The defaults are the course text's retry: 3 attempts, base 1 s, no jitter. Its comment
    promises waits of 1 s, 2 s and 4 s, but 3 attempts have only two waits (1 s, 2 s): see
    ``wait_before_s``. Every client's first call fails at the same moment, so without jitter all
    their retries line up in waves; with ``"full"`` jitter they spread out; with a budget the
    retries stop once the shared budget runs dry.

    >>> course = timeline(seed=1).attempts
    >>> first = course.query("client == 'client 1' and call == 1")
    >>> first[["attempt", "wait_before_s", "outcome"]].values.tolist()
    [[1, 0.0, 'error'], [2, 1.0, 'error'], [3, 2.0, 'error']]
    """
    check_choice("strategy", strategy, STRATEGIES)
    clients = check_int("clients", clients, 1, 200)
    attempts = check_int("attempts", attempts, 1, 50)
    base_s, cap_s = _check_backoff("base_s", base_s, "cap_s", cap_s)
    outage_s = check_number("outage_s", outage_s, 0.0, 3600.0)
    if not isinstance(budget, bool | np.bool_):
        raise TypeError(f"budget={budget!r} must be True or False")
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    think_s = check_number("think_s", think_s, 0.0)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    service_time_s = check_number("service_time_s", service_time_s, 0.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    if think_s == 0 and latency_s == 0:
        raise ValueError(
            "think_s=0 with latency_s=0: calls refused by the down service would take no time "
            "and a client would loop forever at t=0; make one of them greater than 0"
        )

    world = World(seed=seed, log_messages=False)
    latency = Normal(latency_s, latency_s / 5) if latency_s > 0 else Constant(0.0)
    net = Network(world, latency=latency)
    health = _outage_health(outage_s)
    Service(net, _SERVICE, service_time=Exponential(service_time_s), health=health)
    shared = RetryBudget(10, 0.1) if budget else None
    backoff = backoff_for(strategy, base_s, cap_s)
    rows: list[tuple] = []
    env = world.env

    def client(name: str):
        policy = RetryPolicy(attempts, backoff, budget=shared)
        call_no = 0
        while env.now < duration_s:
            call_no += 1
            waited = [0.0]

            def on_attempt(n, result, decision, call_no=call_no, waited=waited):
                final = not decision.retry
                rows.append(
                    (
                        name,
                        call_no,
                        n,
                        result.started,
                        result.ended,
                        result.outcome,
                        waited[0],
                        final,
                        final and result.outcome != "ok",
                        decision.reason if final else "",
                    )
                )
                waited[0] = decision.delay

            yield retry_call(
                net, name, _SERVICE, call_no, call_timeout_s, policy, on_attempt=on_attempt
            )
            yield env.timeout(think_s)

    for k in range(1, clients + 1):
        name = f"client {k}"
        net.add_node(name)
        env.process(client(name))
    world.run()

    table = pd.DataFrame(rows, columns=_ATTEMPT_COLUMNS)
    table = table.sort_values(
        ["client", "call", "attempt"], kind="stable", key=_client_order
    ).reset_index(drop=True)
    until = max(duration_s, float(table["end"].max()))
    times, counts = _binned(table["start"].to_numpy(), bin_s, until)
    load = pd.DataFrame({"time": times, "attempts": counts, "rate_per_s": counts / bin_s})
    return TimelineResult(table, _bands(health, until), load)


def _client_order(column: pd.Series) -> pd.Series:
    """Sort "client 10" after "client 9"."""
    if column.name == "client":
        return column.str.rsplit(" ", n=1).str[-1].astype(int)
    return column


# -- storm ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StormResult:
    """What :func:`storm` returns.

    Attributes:
        attempts: one row per attempt: ``strategy, client, attempt, start, end, outcome``
            (``ok``, ``error``, ``timeout``), ``error`` (``down``, ``overloaded``, ``timeout`` or
            ``""``), ``wait_before_s``.
        load: attempts reaching the service per bin and strategy: ``strategy, time`` (bin start,
            s), ``attempts``, ``rate_per_s`` and, by what became of them, ``ok``, ``down``
            (refused: the service was down), ``overloaded`` (refused: no room in its queue),
            ``timeout``.
        recovery: one row per strategy: ``strategy``, ``peak_rate_per_s`` (highest rate of
            retries, all attempts after the first), ``peak_after_recovery_per_s`` (highest
            rate of attempts once the service is back up), ``caught_up_at_s`` (when the last
            client's call ended: the herd is served or gave up), ``total_attempts``,
            ``overloaded`` (attempts refused for lack of room), ``give_ups``.
        health: the service's health as bands (``start, end, state, label``).
    """

    attempts: pd.DataFrame
    load: pd.DataFrame
    recovery: pd.DataFrame
    health: pd.DataFrame

    @property
    def frame(self) -> pd.DataFrame:
        """The per-strategy recovery table (what :func:`distlab.experiments.sweep` stacks)."""
        return self.recovery

    def summary(self) -> pd.DataFrame:
        """The recovery table indexed by strategy.

        >>> s = storm(seed=0).summary()
        >>> bool(s.loc["exponential", "caught_up_at_s"] > s.loc["full", "caught_up_at_s"])
        True
        """
        return self.recovery.set_index("strategy")


def storm(
    strategies: Iterable[str] = STRATEGIES_SHOWN,
    *,
    clients: int = 50,
    attempts: int = 8,
    base_s: float = 1.0,
    cap_s: float | None = 8.0,
    outage_s: float = 5.0,
    capacity_per_s: float = 40.0,
    concurrency: int = 4,
    queue_limit: int = 8,
    call_timeout_s: float = 1.0,
    latency_s: float = 0.005,
    bin_s: float = 0.1,
    seed: int = 0,
) -> StormResult:
    """The thundering herd: ``clients`` clients whose first calls fail together, per strategy.

    The service is down for ``[0, outage_s)`` and then up, with a limited capacity: at most
    ``concurrency`` requests at once, each taking Exponential(``concurrency / capacity_per_s``)
    seconds (so it serves ``capacity_per_s`` requests per second), and at most ``queue_limit``
    waiting; any request beyond that is refused at once as ``"overloaded"``. Every client calls
    it at t = 0 and retries with ``attempts`` attempts and the strategy's backoff from
    ``base_s``, capped at ``cap_s``. Each strategy runs in its own world with the same ``seed``.

    Without jitter all clients retry at the same instants: the load comes in spikes, each spike
    after the recovery overflows the service's queue, most of it is refused again, and the herd
    takes many rounds (or gives up) before it is served. With jitter the same retries are spread
    out and the recovered service keeps up.

    >>> s = storm(seed=1).summary()
    >>> peak = s["peak_after_recovery_per_s"]
    >>> bool(peak["exponential"] > 3 * peak["full"])
    True
    """
    names = _check_strategies(strategies)
    clients = check_int("clients", clients, 1, 2000)
    attempts = check_int("attempts", attempts, 1, 50)
    base_s, cap_s = _check_backoff("base_s", base_s, "cap_s", cap_s)
    outage_s = check_number("outage_s", outage_s, 0.0, 3600.0)
    capacity_per_s = check_number("capacity_per_s", capacity_per_s, 0.0, min_inclusive=False)
    concurrency = check_int("concurrency", concurrency, 1, 10_000)
    queue_limit = check_int("queue_limit", queue_limit, 0, 100_000)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)

    health = _outage_health(outage_s)
    tables = []
    for strategy in names:
        world = World(seed=seed, log_messages=False)
        latency = Normal(latency_s, latency_s / 5) if latency_s > 0 else Constant(0.0)
        net = Network(world, latency=latency)
        Service(
            net,
            _SERVICE,
            service_time=Exponential(concurrency / capacity_per_s),
            health=health,
            concurrency=concurrency,
            queue_limit=queue_limit,
        )
        policy = RetryPolicy(attempts, backoff_for(strategy, base_s, cap_s))
        rows: list[tuple] = []
        for k in range(1, clients + 1):
            name = f"client {k}"
            net.add_node(name)
            waited = [0.0]

            def on_attempt(n, result, decision, name=name, waited=waited):
                rows.append(
                    (
                        name,
                        n,
                        result.started,
                        result.ended,
                        result.outcome,
                        result.error or "",
                        waited[0],
                    )
                )
                waited[0] = decision.delay

            retry_call(net, name, _SERVICE, None, call_timeout_s, policy, on_attempt=on_attempt)
        world.run()
        table = pd.DataFrame(
            rows, columns=["client", "attempt", "start", "end", "outcome", "error", "wait_before_s"]
        )
        table.insert(0, "strategy", strategy)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    until = max(outage_s, float(table["end"].max())) + bin_s

    loads, recovery = [], []
    for strategy, part in table.groupby("strategy", sort=False):
        starts = part["start"].to_numpy()
        times, counts = _binned(starts, bin_s, until)
        load = pd.DataFrame(
            {"strategy": strategy, "time": times, "attempts": counts, "rate_per_s": counts / bin_s}
        )
        kind = np.where(
            part["outcome"] == "ok",
            "ok",
            np.where(part["outcome"] == "timeout", "timeout", part["error"]),
        )
        for what in ("ok", "down", "overloaded", "timeout"):
            load[what] = _binned(starts[kind == what], bin_s, until)[1]
        loads.append(load)
        retries = _binned(starts[part["attempt"].to_numpy() > 1], bin_s, until)[1]
        after = _binned(starts[starts >= outage_s], bin_s, until)[1]
        final = part.groupby("client", sort=False).tail(1)
        recovery.append(
            (
                strategy,
                retries.max() / bin_s,
                after.max() / bin_s,
                float(final["end"].max()),
                len(part),
                int((kind == "overloaded").sum()),
                int((final["outcome"] != "ok").sum()),
            )
        )
    recovery_df = pd.DataFrame(
        recovery,
        columns=[
            "strategy",
            "peak_rate_per_s",
            "peak_after_recovery_per_s",
            "caught_up_at_s",
            "total_attempts",
            "overloaded",
            "give_ups",
        ],
    )
    return StormResult(
        table, pd.concat(loads, ignore_index=True), recovery_df, _bands(health, until)
    )


# -- amplification ----------------------------------------------------------------------------


def amplification(
    layers: int = 5,
    attempts: int = 3,
    *,
    mode: str = "every layer",
    strategy: str = "full",
    base_s: float = 0.01,
    max_tokens: float = 10.0,
    token_ratio: float = 0.1,
    latency_s: float = 0.001,
    seed: int = 0,
) -> pd.DataFrame:
    """One user request through a chain of ``layers`` services whose bottom one always fails.

    A user calls layer 1, layer 1 calls layer 2, ... down to layer ``layers``, which is down
    (it answers an error at once). Each caller (the user and every layer but the bottom one)
    uses :func:`distlab.sim.retry_call` with ``attempts`` attempts and the ``strategy`` backoff
    from ``base_s``, waiting as long as the layer below takes (no timeout), and a layer whose
    call finally fails answers its own caller with an error. ``mode``:

    - ``"every layer"``: every caller retries: layer k receives ``attempts**k`` requests, so the
      bottom sees ``attempts**layers`` (3 at each of 5 layers: 243; 4 at each of 3: 64);
    - ``"top only"``: only the user retries, the services call once: every layer receives
      ``attempts`` requests;
    - ``"budget"``: every caller retries but has its own
      ``RetryBudget(max_tokens, token_ratio)``: the retries stop when it runs dry, so the load
      at the bottom is bounded.

    One row per layer: ``layer`` (1 = top), ``service``, ``calls`` (requests it received),
    ``first_s``, ``last_s`` (when the first and the last of them arrived) and ``mode``.

    >>> amplification(5, 3)["calls"].tolist()
    [3, 9, 27, 81, 243]
    >>> amplification(3, 4, mode="top only")["calls"].tolist()
    [4, 4, 4]
    """
    layers = check_int("layers", layers, 1, 10)
    attempts = check_int("attempts", attempts, 1, 20)
    check_choice("mode", mode, AMPLIFICATION_MODES)
    check_choice("strategy", strategy, STRATEGIES)
    base_s = check_number("base_s", base_s, 0.0)
    max_tokens = check_number("max_tokens", max_tokens, 0.0, min_inclusive=False)
    token_ratio = check_number("token_ratio", token_ratio, 0.0, 1.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0)
    seed = check_seed(seed)
    if mode != "top only" and attempts**layers > 100_000:
        raise ValueError(
            f"attempts={attempts} at each of layers={layers} would send {attempts**layers:,} "
            "requests to the bottom layer; at most 100,000 are simulated (lower one of them)"
        )

    world = World(seed=seed, log_messages=False)
    latency = Exponential(latency_s) if latency_s > 0 else Constant(0.0)
    net = Network(world, latency=latency)
    backoff = backoff_for(strategy, base_s)
    names = [f"layer {k}" for k in range(1, layers + 1)]
    arrivals: list[list[float]] = [[] for _ in names]

    def policy_for(caller: int) -> RetryPolicy:
        if mode == "top only" and caller > 0:
            return RetryPolicy(1)
        budget = RetryBudget(max_tokens, token_ratio) if mode == "budget" else None
        return RetryPolicy(attempts, backoff, budget=budget)

    def counter(below: int):
        seen = arrivals[below]
        return lambda n, result, decision: seen.append(result.started)

    def handler_for(k: int):
        policy = policy_for(k + 1)  # the caller after the user: layer k + 1 calls layer k + 2
        on_attempt = counter(k + 1)

        def handler(request):
            result = yield retry_call(
                net, names[k], names[k + 1], request, math.inf, policy, on_attempt=on_attempt
            )
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
    retry_call(net, "user", names[0], "GET /", math.inf, policy_for(0), on_attempt=counter(0))
    world.run()
    return pd.DataFrame(
        {
            "layer": np.arange(1, layers + 1),
            "service": names,
            "calls": [len(a) for a in arrivals],
            "first_s": [min(a) for a in arrivals],
            "last_s": [max(a) for a in arrivals],
            "mode": mode,
        }
    )


# -- budget -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetEffectResult:
    """What :func:`budget_effect` returns.

    Attributes:
        load: per variant and bin: ``variant`` ("no budget", "budget"), ``time`` (bin start,
            s), ``rate_per_s`` (attempts sent to the dependency per second), ``ok_per_s``
            (of which succeeded), ``failed_per_s`` and ``base_rate_per_s`` (user requests per
            second: the load without any retry).
        attempts: one row per attempt: ``variant, request, attempt, start, end, outcome``
            (``ok``, ``error``, ``timeout``), ``error`` (``overloaded``, ``timeout`` or ``""``).
        health: the dependency's health as bands (``start, end, state, label``).
        params: ``rate_per_s``, ``failure_at_s``, ``failure_end_s``, ``duration_s``.
    """

    load: pd.DataFrame
    attempts: pd.DataFrame
    health: pd.DataFrame
    params: dict

    @property
    def frame(self) -> pd.DataFrame:
        """The load over time (what :func:`distlab.experiments.sweep` stacks)."""
        return self.load

    def summary(self) -> pd.DataFrame:
        """Per variant: ``requests``, ``attempts``, ``extra_load`` (retries per request),
        ``trouble_rate_per_s`` (mean load on the dependency, attempts per second, from the start
        of the failure until it recovered), ``load_ratio`` (that over the user request rate: 1
        means no extra load), ``peak_rate_per_s``, ``recovered_at_s`` (the first time after the
        failure at which its queue was empty: the backlog drained; NaN if it never was, sampled
        every ``bin_s``), ``recovery_s`` (that minus the end of the failure), ``give_ups``
        (user requests that failed after all their attempts).

        >>> s = budget_effect(seed=0).summary()
        >>> bool(s.loc["budget", "recovery_s"] < s.loc["no budget", "recovery_s"])
        True
        """
        p = self.params
        rows = []
        for variant, part in self.attempts.groupby("variant", sort=False):
            starts = part["start"]
            final = part.groupby("request", sort=False).tail(1)
            load = self.load[self.load["variant"] == variant]
            drained = load.loc[(load["time"] >= p["failure_end_s"]) & (load["queue"] == 0), "time"]
            recovered = float(drained.iloc[0]) if len(drained) else math.nan
            until = min(p["duration_s"], recovered) if recovered == recovered else p["duration_s"]
            until = max(until, p["failure_end_s"])
            trouble = ((starts >= p["failure_at_s"]) & (starts < until)).sum()
            trouble_rate = trouble / (until - p["failure_at_s"])
            rows.append(
                {
                    "variant": variant,
                    "requests": int(part["request"].nunique()),
                    "attempts": len(part),
                    "extra_load": len(part) / part["request"].nunique() - 1.0,
                    "trouble_rate_per_s": trouble_rate,
                    "load_ratio": trouble_rate / p["rate_per_s"],
                    "peak_rate_per_s": float(load["rate_per_s"].max()),
                    "recovered_at_s": recovered,
                    "recovery_s": recovered - p["failure_end_s"],
                    "give_ups": int((final["outcome"] != "ok").sum()),
                }
            )
        return pd.DataFrame(rows).set_index("variant")


def budget_effect(
    variants: Iterable[str] = BUDGET_VARIANTS,
    *,
    rate_per_s: float = 12.0,
    capacity_per_s: float = 40.0,
    concurrency: int = 4,
    queue_limit: int = 60,
    attempts: int = 3,
    strategy: str = "full",
    base_s: float = 0.1,
    cap_s: float | None = 1.0,
    failure_at_s: float = 2.0,
    failure_s: float = 3.0,
    slow_factor: float = 5.0,
    call_timeout_s: float = 0.5,
    duration_s: float = 12.0,
    max_tokens: float = 10.0,
    token_ratio: float = 0.1,
    bin_s: float = 0.25,
    seed: int = 0,
) -> BudgetEffectResult:
    """Steady traffic to a dependency that stalls for a while, with and without a retry budget.

    User requests arrive at ``rate_per_s`` (Poisson) for ``duration_s`` seconds; each is one
    call from a frontend to the dependency with ``call_timeout_s`` per attempt, retried with
    ``attempts`` attempts and the ``strategy`` backoff (``base_s``, ``cap_s``). With the budget,
    all of them share one ``RetryBudget(max_tokens, token_ratio)`` (gRPC retry throttling).

    The dependency serves ``capacity_per_s`` requests per second (``concurrency`` at once, each
    Exponential(``concurrency / capacity_per_s``) s), keeps at most ``queue_limit`` waiting and
    refuses the rest as ``"overloaded"``. From ``failure_at_s`` for ``failure_s`` seconds it
    stalls (its work takes ``slow_factor`` times longer): calls time out and its queue fills.
    A timed-out request stays in the queue and is served anyway, for nobody. Once the stall is
    over the dependency recovers only when its queue drains, which needs the load on it to be
    well below its capacity. Without a budget every failing request is sent ``attempts`` times,
    which keeps the queue full long after the stall; with the budget the retries stop when it
    runs dry, the load stays near the user rate and the queue drains at once.

    >>> s = budget_effect(seed=0).summary()
    >>> bool(s.loc["budget", "load_ratio"] < 1.5 < s.loc["no budget", "load_ratio"])
    True
    """
    if isinstance(variants, str):
        variants = (variants,)
    names = tuple(variants)
    if not names:
        raise ValueError(f"variants=() is empty: give at least one of {BUDGET_VARIANTS}")
    for name in names:
        check_choice("variants item", name, BUDGET_VARIANTS)
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, 10_000.0, min_inclusive=False)
    capacity_per_s = check_number("capacity_per_s", capacity_per_s, 0.0, min_inclusive=False)
    concurrency = check_int("concurrency", concurrency, 1, 10_000)
    queue_limit = check_int("queue_limit", queue_limit, 0, 100_000)
    attempts = check_int("attempts", attempts, 1, 50)
    check_choice("strategy", strategy, STRATEGIES)
    base_s, cap_s = _check_backoff("base_s", base_s, "cap_s", cap_s)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    failure_at_s = check_number("failure_at_s", failure_at_s, 0.0, duration_s)
    failure_s = check_number("failure_s", failure_s, 0.0, min_inclusive=False)
    slow_factor = check_number("slow_factor", slow_factor, 1.0)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    max_tokens = check_number("max_tokens", max_tokens, 0.0, min_inclusive=False)
    token_ratio = check_number("token_ratio", token_ratio, 0.0, 1.0, min_inclusive=False)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    if rate_per_s * duration_s > 200_000:
        raise ValueError(
            f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g} makes "
            f"{rate_per_s * duration_s:,.0f} requests; at most 200,000 are simulated"
        )

    failure_end_s = failure_at_s + failure_s
    health = HealthSchedule(
        [(0.0, Up()), (failure_at_s, Slow(slow_factor)), (failure_end_s, Up())]
        if failure_at_s > 0
        else [(0.0, Slow(slow_factor)), (failure_end_s, Up())]
    )
    backoff = backoff_for(strategy, base_s, cap_s)
    tables = []
    queues: dict[str, list[int]] = {}
    for variant in names:
        world = World(seed=seed, log_messages=False)
        net = Network(world, latency=Normal(0.005, 0.001))
        net.add_node("frontend")
        svc = Service(
            net,
            "dependency",
            service_time=Exponential(concurrency / capacity_per_s),
            health=health,
            concurrency=concurrency,
            queue_limit=queue_limit,
        )
        budget = RetryBudget(max_tokens, token_ratio) if variant == "budget" else None
        policy = RetryPolicy(attempts, backoff, budget=budget)
        rows: list[tuple] = []
        env = world.env

        def arrivals(policy=policy, rows=rows, world=world, net=net, env=env):
            size = int(rate_per_s * duration_s * 1.2) + 20
            gaps = world.rng.exponential(1.0 / rate_per_s, size=size)
            t = 0.0
            for i, gap in enumerate(gaps):
                t += float(gap)
                if t >= duration_s:
                    return
                yield env.timeout(t - env.now)

                def on_attempt(n, result, decision, i=i):
                    rows.append(
                        (i, n, result.started, result.ended, result.outcome, result.error or "")
                    )

                retry_call(
                    net, "frontend", "dependency", i, call_timeout_s, policy, on_attempt=on_attempt
                )

        queue: list[int] = []

        def monitor(svc=svc, queue=queue, env=env):
            while True:
                queue.append(svc.queued)
                if env.now >= duration_s and svc.queued == 0:
                    return
                yield env.timeout(bin_s)

        env.process(arrivals())
        env.process(monitor())
        world.run()
        queues[variant] = queue
        table = pd.DataFrame(
            rows, columns=["request", "attempt", "start", "end", "outcome", "error"]
        )
        table.insert(0, "variant", variant)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table = table.sort_values(
        ["variant", "request", "attempt"],
        kind="stable",
        key=lambda c: c.map(names.index) if c.name == "variant" else c,
    )
    table = table.reset_index(drop=True)
    until = max(duration_s, float(table["end"].max()))
    loads = []
    for variant, part in table.groupby("variant", sort=False):
        starts = part["start"].to_numpy()
        times, counts = _binned(starts, bin_s, until)
        ok = _binned(starts[part["outcome"].to_numpy() == "ok"], bin_s, until)[1]
        queue = np.zeros(len(times), dtype=int)
        sampled = queues[variant][: len(times)]
        queue[: len(sampled)] = sampled
        loads.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "time": times,
                    "rate_per_s": counts / bin_s,
                    "ok_per_s": ok / bin_s,
                    "failed_per_s": (counts - ok) / bin_s,
                    "base_rate_per_s": rate_per_s,
                    "queue": queue,
                }
            )
        )
    params = {
        "rate_per_s": rate_per_s,
        "failure_at_s": failure_at_s,
        "failure_end_s": failure_end_s,
        "duration_s": duration_s,
    }
    bands = _bands(health, until)
    return BudgetEffectResult(pd.concat(loads, ignore_index=True), table, bands, params)
