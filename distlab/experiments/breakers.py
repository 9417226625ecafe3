"""Circuit breakers, as experiments (notebook 03).

Every experiment runs the real :class:`~distlab.breaker.CircuitBreaker` in simulated time through
:func:`distlab.sim.breaker_call_process`, so what a learner sees is what the library does, and
returns a :class:`~distlab.experiments.Result` (``frame``, ``summary``, ``params`` and the tables
its figures need).

- :func:`transitions`: callers and a dependency that goes down, then slow, then recovers with a
  reduced capacity: every call, every state and the rates the breaker saw.
- :func:`with_and_without`: the same stall with and without a breaker: load on the dependency,
  what the callers wait, how soon the dependency recovers.
- :func:`half_open_probing`: the course's unlimited half-open against a few probes, on a
  dependency that falls over again if it is hammered while it recovers.
- :func:`breaker_and_retry`: the retry around the breaker versus the breaker around the retry.

Breakers are named by preset (:data:`PRESETS`): ``"course"`` is the course text's breaker,
``CircuitBreaker.consecutive(5, 60)``; ``"recommended"`` is :data:`RECOMMENDED`. A dict of
:class:`~distlab.breaker.CircuitBreaker` keyword arguments changes the recommended one (see
:func:`make_breaker`). Times are seconds of simulated time, the course's 60 s wait included: the
runs last a few simulated minutes at moderate call rates, which keeps them fast.

>>> from distlab.experiments.breakers import transitions
>>> course = transitions(breaker="course", seed=0)
>>> int(course.frame.query("slow and state == 'CLOSED'").shape[0]) > 0  # slow calls go unseen
True
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import (
    check_choice,
    check_choices,
    check_int,
    check_number,
    check_probability,
    check_seed,
)
from distlab.breaker import BreakerEvent, CircuitBreaker, exponential_wait
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import (
    MAX_BINS,
    binned,
    check_work,
    poisson_arrivals,
    stack_variants,
)
from distlab.retry import ExponentialBackoff, RetryPolicy
from distlab.sim import (
    NESTINGS,
    CallFailed,
    Down,
    Exponential,
    Flaky,
    FragileRecovery,
    Health,
    HealthSchedule,
    Network,
    Normal,
    Recovering,
    Service,
    Slow,
    Up,
    World,
    breaker_call_process,
)
from distlab.sim.rpc import call_process

__all__ = [
    "PRESETS",
    "RECOMMENDED",
    "SCHEDULES",
    "PROBING_VARIANTS",
    "RETRY_VARIANTS",
    "WITH_WITHOUT_VARIANTS",
    "BreakerAndRetryResult",
    "HalfOpenProbingResult",
    "TransitionsResult",
    "WithAndWithoutResult",
    "breaker_and_retry",
    "half_open_probing",
    "make_breaker",
    "outage_schedule",
    "transitions",
    "with_and_without",
]

#: Breaker presets by name.
PRESETS = ("course", "recommended")

#: The recommended breaker's settings (resilience4j-style): open at 50 % failures or 80 % calls
#: slower than 2 s over the last 20 calls (at least 10 recorded); wait 5 s in OPEN, doubling with
#: each opening in a row up to 40 s; 3 probes in HALF_OPEN, which reopens if they have not all
#: come back within 10 s.
RECOMMENDED: dict[str, Any] = {
    "failure_rate_threshold": 50.0,
    "slow_call_rate_threshold": 80.0,
    "slow_call_duration": 2.0,
    "minimum_calls": 10,
    "window_type": "count",
    "window_size": 20,
    "wait_in_open": exponential_wait(5.0, 2.0, 40.0),
    "permitted_calls_in_half_open": 3,
    "max_wait_in_half_open": 10.0,
}

_COURSE_KEYS = ("failures", "wait_in_open")

#: Dependency schedules of :func:`transitions` (see :func:`outage_schedule`).
SCHEDULES = ("outage", "down", "slow", "up")

#: The variants of :func:`with_and_without`.
WITH_WITHOUT_VARIANTS = ("without breaker", "with breaker")
#: The variants of :func:`half_open_probing`: the course's breaker and the recommended one.
PROBING_VARIANTS = ("course", "recommended")
#: The variants of :func:`breaker_and_retry`.
RETRY_VARIANTS = ("no retry", "retry around breaker", "breaker around retry")

#: The most calls one variant of an experiment simulates.
MAX_CALLS = 50_000
#: The longest run, and the longest per-call timeout, in simulated seconds.
MAX_DURATION_S = 3600.0

_DEPENDENCY = "dependency"
_CALLER = "caller"
_STATE_LABELS = {
    "CLOSED": "closed",
    "OPEN": "open",
    "HALF_OPEN": "half-open",
    "FORCED_OPEN": "forced open",
    "DISABLED": "disabled",
    "METRICS_ONLY": "metrics only",
}
_OUTCOMES = (outcomes.OK, outcomes.ERROR, outcomes.TIMEOUT, outcomes.REJECTED)
_TRANSITION_COLUMNS = ["time", "from_state", "state", "failure_rate", "slow_call_rate"]
_BAND_COLUMNS = ["start", "end", "state", "label"]


# -- breakers ---------------------------------------------------------------------------------


def make_breaker(
    breaker: str | Mapping[str, Any] = "recommended",
    *,
    clock: Callable[[], float] = time.monotonic,
    name: str | None = None,
) -> CircuitBreaker:
    """A :class:`~distlab.breaker.CircuitBreaker` from a preset name or a dict of settings.

    - ``"course"``: ``CircuitBreaker.consecutive(5, 60)``, the course text's breaker;
    - ``"recommended"``: ``CircuitBreaker(**RECOMMENDED)``;
    - a dict: :class:`~distlab.breaker.CircuitBreaker` keyword arguments (the core's names, in
      seconds) that change the recommended settings, e.g.
      ``{"permitted_calls_in_half_open": 10}``; with ``"preset": "course"`` it changes the
      course's breaker instead (``failures`` and ``wait_in_open`` only).

    The experiments tell the breaker the simulated time; ``clock`` only serves its
    conveniences (``state``, ``metrics()`` without a time).

    >>> make_breaker("course").state.value
    'CLOSED'
    >>> make_breaker({"window_size": 50}).window_size
    50
    >>> make_breaker({"preset": "course", "wait_in_open": 30}).wait_in_open
    30.0
    >>> make_breaker({"window_sise": 50})
    Traceback (most recent call last):
    ValueError: breaker setting 'window_sise' is not one of ...
    """
    if isinstance(breaker, str):
        check_choice("breaker", breaker, PRESETS)
        settings: dict[str, Any] = {"preset": breaker}
    elif isinstance(breaker, Mapping):
        settings = dict(breaker)
        settings.setdefault("preset", "recommended")
        check_choice("breaker preset", settings["preset"], PRESETS)
    else:
        raise TypeError(
            f"breaker={breaker!r} must be one of {PRESETS} or a dict of CircuitBreaker settings"
        )
    preset = settings.pop("preset")
    allowed = _COURSE_KEYS if preset == "course" else tuple(RECOMMENDED) + ("automatic_transition",)
    for key in settings:
        if key not in allowed:
            raise ValueError(
                f"breaker setting {key!r} is not one of {', '.join(allowed)} "
                f"(for the {preset!r} preset)"
            )
    if preset == "course":
        return CircuitBreaker.consecutive(
            settings.get("failures", 5),
            settings.get("wait_in_open", 60.0),
            clock=clock,
            name=name,
        )
    return CircuitBreaker(**{**RECOMMENDED, **settings}, clock=clock, name=name)


def _breaker_label(breaker: str | Mapping[str, Any]) -> str:
    return breaker if isinstance(breaker, str) else "custom"


def _is_course(breaker: str | Mapping[str, Any]) -> bool:
    if isinstance(breaker, str):
        return breaker == "course"
    return breaker.get("preset") == "course"


def _slow_threshold(spec: str | Mapping[str, Any], breaker: CircuitBreaker) -> tuple[float, bool]:
    """The slow-call duration to mark calls with, and whether the breaker counts slow calls.

    The course's breaker ignores durations; its calls are marked against the recommended 2 s so
    that a plot can show the slow calls it never noticed."""
    if _is_course(spec):
        return RECOMMENDED["slow_call_duration"], False
    return breaker.slow_call_duration, True


def _variants(breakers: Any, name: str) -> list[tuple[str, Any]]:
    """``(label, spec)`` pairs from preset names, a dict label -> spec, or a mix of names and
    ``(label, spec)`` pairs."""
    if isinstance(breakers, str):
        breakers = (breakers,)
    if isinstance(breakers, Mapping):
        pairs = list(breakers.items())
    elif isinstance(breakers, Iterable):
        pairs = [(b, b) if isinstance(b, str) else b for b in breakers]
    else:
        raise TypeError(
            f"{name}={breakers!r} must be a list of {PRESETS} or a dict label -> breaker settings"
        )
    if not pairs:
        raise ValueError(f"{name}=() is empty: give at least one breaker")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2 or not isinstance(pair[0], str):
            raise TypeError(
                f"{name} item {pair!r} must be a preset name or a (label, settings) pair"
            )
        try:
            make_breaker(pair[1])
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{name} item {pair[0]!r}: {exc}") from None
    labels = [label for label, _ in pairs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{name}={labels!r} names a variant twice")
    return pairs


# -- schedules --------------------------------------------------------------------------------


def outage_schedule(name: str = "outage", *, recovering_capacity: int = 1) -> HealthSchedule:
    """The dependency's health for :func:`transitions`, by name (:data:`SCHEDULES`):

    - ``"outage"``: up for 10 s, down (errors at once) until 30 s, slow (×25: answers in about
      2.5 s instead of 0.1 s) until 100 s, recovering with ``recovering_capacity`` request(s)
      at once, each ×5 slower, until 200 s, then up;
    - ``"down"``: up, down from 10 s to 40 s, up; ``"slow"``: up, slow from 10 s to 80 s, up;
      ``"up"``: always up.

    >>> [s.label for _, s in outage_schedule().changes]
    ['up', 'down', 'slow ×25', 'recovering (1 at once, ×5)', 'up']
    """
    check_choice("schedule", name, SCHEDULES)
    capacity = check_int("recovering_capacity", recovering_capacity, 1, 1000)
    if name == "outage":
        return HealthSchedule(
            [
                (0.0, Up()),
                (10.0, Down()),
                (30.0, Slow(25)),
                (100.0, Recovering(capacity, 5)),
                (200.0, Up()),
            ]
        )
    if name == "down":
        return HealthSchedule([(0.0, Up()), (10.0, Down()), (40.0, Up())])
    if name == "slow":
        return HealthSchedule([(0.0, Up()), (10.0, Slow(25)), (80.0, Up())])
    return HealthSchedule([(0.0, Up())])


def _coerce_schedule(schedule: Any) -> HealthSchedule:
    if isinstance(schedule, str):
        return outage_schedule(schedule)
    if isinstance(schedule, HealthSchedule | Health):
        return HealthSchedule.coerce(schedule)
    if isinstance(schedule, list | tuple):
        try:
            return HealthSchedule(schedule)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"schedule={schedule!r}: {exc}") from None
    raise TypeError(
        f"schedule={schedule!r} must be one of {SCHEDULES}, a HealthSchedule or a list of "
        "(start_time, state) pairs"
    )


def _trouble(start_s: float, length_s: float, names: tuple[str, str], trouble: Health, normal):
    """``normal``, then ``trouble`` from ``start_s`` for ``length_s``, then ``normal``."""
    end_s = start_s + length_s
    if not end_s > start_s:
        raise ValueError(
            f"{names[1]}={length_s:g} is too short to end after {names[0]}={start_s:g} "
            "(their sum must be greater)"
        )
    changes = [(0.0, normal)] if start_s > 0 else []
    return HealthSchedule(changes + [(start_s, trouble), (end_s, normal)]), end_s


# -- the steps every experiment takes ------------------------------------------------------------


def _check_common(rate_per_s, duration_s, timeout_s, seed, *, max_rate, max_calls):
    """The checks every experiment shares; returns the validated values."""
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, max_rate, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, MAX_DURATION_S, min_inclusive=False)
    timeout_s = check_number("timeout_s", timeout_s, 0.0, MAX_DURATION_S, min_inclusive=False)
    check_work(
        "calls per variant",
        rate_per_s * duration_s,
        max_calls,
        f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g}",
    )
    return rate_per_s, duration_s, timeout_s, check_seed(seed)


def _check_bins(bin_s: Any, duration_s: float, timeout_s: float) -> float:
    """``bin_s``, checked now against the bins the tables will need."""
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    binned([], bin_s, duration_s + timeout_s)
    return bin_s


@dataclass
class _Run:
    """One variant's simulated world: the network with its callers, the breaker (if any), and
    the transitions it made (gathered as they happen: ``events()`` keeps only the recent)."""

    world: World
    net: Network
    breaker: CircuitBreaker | None
    transitions: list[BreakerEvent]

    @property
    def env(self):
        return self.world.env


def _new_run(seed: int, spec: Any, name: str, *, latency: Any, callers=(_CALLER,)) -> _Run:
    world = World(seed=seed, log_messages=False)
    breaker = None
    log: list[BreakerEvent] = []
    if spec is not None:
        breaker = make_breaker(spec, name=name)
        breaker.subscribe(lambda e: log.append(e) if e.kind == "transition" else None)
    net = Network(world, latency=latency)
    for caller in callers:
        net.add_node(caller)
    return _Run(world, net, breaker, log)


def _caller_latency() -> Normal:
    return Normal(0.005, 0.001)


def _open_loop(env, times: np.ndarray, start: Callable[[int], Any]) -> None:
    """Start ``start(i)`` as a process at each of ``times`` (open loop: whatever happened to the
    calls before)."""

    def source():
        for i, t in enumerate(times.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(start(i))

    env.process(source())


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _transitions_frame(log: list[BreakerEvent]) -> pd.DataFrame:
    rows = [
        (e.time, e.from_state, e.state, _nan(e.failure_rate), _nan(e.slow_call_rate)) for e in log
    ]
    return pd.DataFrame(rows, columns=_TRANSITION_COLUMNS)


def _state_bands(transitions: pd.DataFrame, until: float) -> pd.DataFrame:
    starts = [0.0] + transitions["time"].tolist()
    states = ["CLOSED"] + transitions["state"].tolist()
    ends = starts[1:] + [until]
    rows = [
        (s, max(e, s), st, _STATE_LABELS.get(st, st))
        for s, e, st in zip(starts, ends, states)
        if e > s or s == starts[-1]
    ]
    return pd.DataFrame(rows, columns=_BAND_COLUMNS)


def _breaker_tables(run: _Run, until: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The transitions and the state bands of a run (empty bands without a breaker)."""
    trans = _transitions_frame(run.transitions)
    if run.breaker is None:
        return trans, pd.DataFrame(columns=_BAND_COLUMNS)
    return trans, _state_bands(trans, until)


def _end_of(calls: pd.DataFrame, duration_s: float) -> float:
    return max(duration_s, float(calls["end"].max()) if len(calls) else 0.0)


def _outcome_counts(calls: pd.DataFrame) -> dict[str, Any]:
    counts = Counter(calls["outcome"].tolist())  # plain lists: the explorer runs it per move
    out: dict[str, Any] = {"calls": len(calls)}
    for outcome in _OUTCOMES:
        out[outcome] = counts.get(outcome, 0)
    out["ok_share"] = out[outcomes.OK] / len(calls) if len(calls) else math.nan
    return out


def _latency_stats(calls: pd.DataFrame) -> dict[str, float]:
    lat = calls["latency_s"]
    failed = calls.loc[calls["outcome"] != outcomes.OK, "latency_s"]
    return {
        "mean_latency_s": float(lat.mean()) if len(lat) else math.nan,
        "p95_latency_s": float(lat.quantile(0.95)) if len(lat) else math.nan,
        "mean_failed_latency_s": float(failed.mean()) if len(failed) else math.nan,
        "time_waiting_on_failures_s": float(failed.sum()),
    }


def _openings(trans: pd.DataFrame) -> list[float]:
    """When the breaker opened: transitions into OPEN from another state. The course's breaker
    also moves OPEN -> OPEN when a late failure restarts its wait; that is no opening."""
    moves = zip(trans["time"].tolist(), trans["from_state"].tolist(), trans["state"].tolist())
    return [float(t) for t, a, b in moves if b == "OPEN" and a != "OPEN"]


def _first_open(trans: pd.DataFrame, after: float) -> float:
    return next((t for t in _openings(trans) if t >= after), math.nan)


def _load_frame(
    sent: np.ndarray, calls: pd.DataFrame, queue: list[int], bin_s: float, until: float
) -> pd.DataFrame:
    """Per bin: requests that reached the dependency, calls by outcome (by start), the queue."""
    times, sent_counts = binned(sent, bin_s, until)
    starts = calls["start"].to_numpy()
    outcome = calls["outcome"].to_numpy()
    frame = {"time": times, "sent_per_s": sent_counts / bin_s}
    for name in _OUTCOMES:
        frame[f"{name}_per_s"] = binned(starts[outcome == name], bin_s, until)[1] / bin_s
    q = np.zeros(len(times), dtype=int)
    sampled = queue[: len(times)]
    q[: len(sampled)] = sampled
    frame["queue"] = q
    return pd.DataFrame(frame)


def _summary(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index("variant")


# -- transitions ------------------------------------------------------------------------------

_CALL_COLUMNS = ["client", "start", "end", "latency_s", "outcome", "slow", "state"]


@dataclass(frozen=True)
class TransitionsResult(Result):
    """What :func:`transitions` returns.

    Attributes:
        frame: one row per call: ``client`` ("client 1", ...), ``start``, ``end`` (s),
            ``latency_s`` (0 for a rejection), ``outcome`` (``ok``, ``error``, ``timeout``,
            ``rejected``), ``slow`` (latency above ``thresholds["slow_call_duration"]``),
            ``state`` (the breaker's state when the call was admitted or rejected: ``CLOSED``,
            ``OPEN``, ``HALF_OPEN``).
        summary: one row, indexed by the breaker's label (``"course"``, ``"recommended"``,
            ``"custom"``): ``calls``, the count of each outcome, ``ok_share``, ``slow``,
            ``admitted`` (calls that reached the dependency), ``openings`` (changes into
            OPEN from another state; a late failure that restarts the course breaker's wait is
            the ``"OPEN->OPEN"`` column, not an opening), ``first_open_s``, ``time_open_s``,
            ``time_half_open_s``, ``time_closed_s``, and one column per kind of transition
            taken, e.g. ``"CLOSED->OPEN"``.
        params: the parameters (the breaker and the schedule by label).
        transitions: one row per transition: ``time, from_state, state, failure_rate,
            slow_call_rate`` (the rates, in percent, that decided it; NaN when none applied,
            e.g. the course's breaker, which counts failures in a row).
        states: the breaker's state as bands covering the run: ``start, end, state, label``.
        rates: after every recorded call: ``time, failure_rate, slow_call_rate`` (percent over
            the breaker's window; NaN below its minimum of calls, and always for the course's
            breaker), ``state`` (after the call).
        health: the dependency's schedule as bands: ``start, end, state, label`` (up included).
        thresholds: ``failure_rate_threshold``, ``slow_call_rate_threshold``,
            ``slow_call_duration`` (s) and ``counts_slow`` (False for the course's breaker, which
            ignores durations: its calls are marked slow against the recommended 2 s).

    >>> s = transitions(breaker="recommended", seed=0).summary.loc["recommended"]
    >>> int(s["calls"]) == int(s[["ok", "error", "timeout", "rejected"]].sum())
    True
    """

    transitions: pd.DataFrame
    states: pd.DataFrame
    rates: pd.DataFrame
    health: pd.DataFrame
    thresholds: Mapping[str, Any]


def transitions(
    *,
    breaker: str | Mapping[str, Any] = "recommended",
    schedule: Any = "outage",
    clients: int = 3,
    rate_per_s: float = 3.0,
    duration_s: float = 240.0,
    timeout_s: float = 4.0,
    service_time_s: float = 0.1,
    latency_s: float = 0.005,
    seed: int = 0,
) -> TransitionsResult:
    """``clients`` callers share one breaker in front of a dependency whose health follows
    ``schedule``; record every call, every transition and the rates the breaker saw.

    Calls arrive at ``rate_per_s`` in all (Poisson, each from a client picked at random) for
    ``duration_s`` seconds, whatever happened to the previous ones (open loop), each with
    ``timeout_s``. The dependency serves a request in Normal(``service_time_s``,
    ``service_time_s``/10) seconds and its health follows ``schedule``: a name of
    :data:`SCHEDULES` (see :func:`outage_schedule`), a :class:`~distlab.sim.HealthSchedule` or a
    list of ``(start_time, state)``. ``breaker`` is ``"course"``, ``"recommended"`` or a dict (see
    :func:`make_breaker`).

    With the default ``"outage"`` schedule, the course's breaker opens on the outage, waits its
    60 s, and closes on the first success of the slow phase: it never notices that every call
    takes 2.5 s (slow calls do not count), and each time its wait ends it lets every caller
    through. The recommended breaker opens on the outage, stays open through the slow phase
    (100 % slow calls), and probes the recovering dependency with 3 calls at a time.

    >>> course = transitions(breaker="course", seed=0).summary.iloc[0]
    >>> rec = transitions(breaker="recommended", seed=0).summary.iloc[0]
    >>> bool(rec["rejected"] > course["rejected"]), bool(rec["slow"] < course["slow"])
    (True, True)
    """
    p = _check_transitions(
        breaker, schedule, clients, rate_per_s, duration_s, timeout_s, service_time_s, latency_s,
        seed,
    )  # fmt: skip
    health = _coerce_schedule(schedule)
    run, calls, rates = _run_shared_breaker(breaker, health, p)
    until = _end_of(calls, p["duration_s"])
    trans, bands = _breaker_tables(run, until)
    slow_s, counts_slow = _slow_threshold(breaker, run.breaker)
    return TransitionsResult(
        frame=calls,
        summary=_transitions_summary(p["breaker"], calls, trans, bands),
        params=plain_params(**p),
        transitions=trans,
        states=bands,
        rates=pd.DataFrame(rates, columns=["time", "failure_rate", "slow_call_rate", "state"]),
        health=health.bands(until, include_up=True).reset_index(drop=True),
        thresholds={
            "failure_rate_threshold": run.breaker.failure_rate_threshold,
            "slow_call_rate_threshold": run.breaker.slow_call_rate_threshold,
            "slow_call_duration": slow_s,
            "counts_slow": counts_slow,
        },
    )


def _check_transitions(
    breaker, schedule, clients, rate_per_s, duration_s, timeout_s, service_time_s, latency_s, seed
) -> dict[str, Any]:
    """The parameters of :func:`transitions`, validated (the breaker and schedule by label)."""
    clients = check_int("clients", clients, 1, 100)
    rate_per_s, duration_s, timeout_s, seed = _check_common(
        rate_per_s, duration_s, timeout_s, seed, max_rate=200.0, max_calls=20_000
    )
    service_time_s = check_number("service_time_s", service_time_s, 0.0, 60.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0, 60.0)
    _coerce_schedule(schedule)
    make_breaker(breaker)
    return {
        "breaker": _breaker_label(breaker),
        "schedule": schedule if isinstance(schedule, str) else "custom",
        "clients": clients, "rate_per_s": rate_per_s, "duration_s": duration_s,
        "timeout_s": timeout_s, "service_time_s": service_time_s, "latency_s": latency_s,
        "seed": seed,
    }  # fmt: skip


def _run_shared_breaker(spec, health: HealthSchedule, p: dict[str, Any]):
    """Every call of :func:`transitions` through the one breaker: the run, the calls, and the
    rates after each recorded call."""
    names = [f"client {k}" for k in range(1, p["clients"] + 1)]
    latency = Normal(p["latency_s"], p["latency_s"] / 5) if p["latency_s"] > 0 else 0.0
    run = _new_run(p["seed"], spec, p["breaker"], latency=latency, callers=names)
    slow_s, _ = _slow_threshold(spec, run.breaker)
    service_time = Normal(p["service_time_s"], p["service_time_s"] / 10)
    Service(run.net, _DEPENDENCY, service_time=service_time, health=health)
    starts = poisson_arrivals(run.world.rng, p["rate_per_s"], p["duration_s"])
    who = run.world.rng.integers(0, p["clients"], size=len(starts)).tolist()
    rows: list[tuple] = []
    rates: list[tuple] = []
    breaker, env = run.breaker, run.env

    def one_call(i: int):
        client = names[who[i]]
        r = yield from breaker_call_process(
            run.net, client, _DEPENDENCY, timeout_s=p["timeout_s"], breaker=breaker
        )
        row = (client, r.started, r.ended, r.latency, r.outcome, r.latency > slow_s)
        rows.append((*row, r.breaker_state))
        if r.outcome != outcomes.REJECTED:
            m = breaker.metrics(env.now)
            rates.append((r.ended, _nan(m.failure_rate), _nan(m.slow_call_rate), m.state.value))

    _open_loop(env, starts, one_call)
    run.world.run()
    calls = pd.DataFrame(rows, columns=_CALL_COLUMNS).sort_values("start", kind="stable")
    return run, calls.reset_index(drop=True), rates


def _transitions_summary(label, calls, trans, bands) -> pd.DataFrame:
    # plain lists and numpy, no pandas filter per figure: this runs on every move of the explorer
    out = _outcome_counts(calls)
    out["slow"] = int(calls["slow"].sum())
    out["admitted"] = len(calls) - out[outcomes.REJECTED]
    opened = _openings(trans)
    out["openings"] = len(opened)
    out["first_open_s"] = opened[0] if opened else math.nan
    moves = list(zip(trans["from_state"].tolist(), trans["state"].tolist()))
    states = bands["state"].to_numpy(dtype=object)
    spans = bands["end"].to_numpy(dtype=float) - bands["start"].to_numpy(dtype=float)
    for state in ("OPEN", "HALF_OPEN", "CLOSED"):
        out[f"time_{state.lower()}_s"] = float(spans[states == state].sum())
    for (a, b), n in Counter(moves).items():  # in order of first appearance, as groupby's
        out[f"{a}->{b}"] = n
    return summary_row(label, "breaker", **out)


# -- with and without -------------------------------------------------------------------------

_VARIANT_CALL_COLUMNS = ["variant", "start", "end", "latency_s", "outcome", "state"]


@dataclass(frozen=True)
class WithAndWithoutResult(Result):
    """What :func:`with_and_without` returns.

    Attributes:
        frame: one row per call: ``variant`` ("without breaker", "with breaker"), ``start``,
            ``end``, ``latency_s`` (what the caller waited), ``outcome`` (``ok``, ``error``,
            ``timeout``, ``rejected``), ``state`` (breaker state; ``""`` without).
        summary: per variant: ``calls``, each outcome's count, ``ok_share``, ``sent`` (requests
            that reached the dependency), ``served_for_nobody`` (requests it served after their
            caller had timed out), latency figures (``mean_latency_s``, ``p95_latency_s``,
            ``mean_failed_latency_s``, ``time_waiting_on_failures_s``: caller seconds spent on
            calls that failed), ``peak_queue``, ``recovered_at_s`` (first time after the stall
            at which the dependency's queue was empty: it caught up; sampled every ``bin_s``,
            after the run's end too) and ``recovery_s`` (that minus the end of the stall).
        params: the parameters.
        load: per variant and bin: ``variant, time`` (bin start, s), ``sent_per_s`` (requests
            that reached the dependency), ``ok_per_s``, ``error_per_s``, ``timeout_per_s``,
            ``rejected_per_s`` (calls by outcome, by start time), ``queue`` (requests waiting at
            the dependency, sampled at the bin start).
        transitions: the breaker's transitions (``variant, time, from_state, state,
            failure_rate, slow_call_rate``).
        states: the breaker's state bands (``variant, start, end, state, label``).
        health: the dependency's scheduled health as bands (``start, end, state, label``).

    >>> s = with_and_without(seed=0).summary
    >>> bool(s.loc["with breaker", "recovery_s"] < s.loc["without breaker", "recovery_s"])
    True
    """

    load: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame


def with_and_without(
    variants: Iterable[str] = WITH_WITHOUT_VARIANTS,
    *,
    breaker: str | Mapping[str, Any] = "recommended",
    rate_per_s: float = 15.0,
    capacity_per_s: float = 20.0,
    concurrency: int = 4,
    queue_limit: int = 100,
    stall_at_s: float = 5.0,
    stall_s: float = 10.0,
    slow_factor: float = 5.0,
    timeout_s: float = 1.0,
    duration_s: float = 40.0,
    bin_s: float = 0.5,
    seed: int = 0,
) -> WithAndWithoutResult:
    """The same stalled dependency, called with and without a breaker.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds, each with
    ``timeout_s``. The dependency serves ``capacity_per_s`` requests per second
    (``concurrency`` at once, each Exponential(``concurrency / capacity_per_s``) s), keeps at
    most ``queue_limit`` waiting (refusing the rest as ``"overloaded"``) and serves what it
    queued even when the caller has given up. From ``stall_at_s`` for ``stall_s`` seconds its
    work takes ``slow_factor`` times longer: its queue fills and calls time out. Its recovery
    depends on load: once the stall is over it must drain its queue, at ``capacity_per_s``
    minus the load.

    Without a breaker every caller waits its full timeout during the trouble and the queue stays
    full of work nobody waits for, long after the stall. With ``breaker`` (see
    :func:`make_breaker`) callers are rejected at once, the load drops to a few probes, the
    queue drains even during the stall, and the dependency is back as soon as the stall ends.

    >>> s = with_and_without(seed=1).summary
    >>> bool(s.loc["with breaker", "mean_failed_latency_s"]
    ...      < s.loc["without breaker", "mean_failed_latency_s"])
    True
    """
    names = check_choices("variants", variants, WITH_WITHOUT_VARIANTS, noun="a variant")
    p = _check_stall(
        breaker, rate_per_s, capacity_per_s, concurrency, queue_limit, stall_at_s, stall_s,
        slow_factor, timeout_s, duration_s, bin_s, seed,
    )  # fmt: skip
    health, stall_end_s = _trouble(
        p["stall_at_s"], p["stall_s"], ("stall_at_s", "stall_s"), Slow(p["slow_factor"]), Up()
    )
    parts = [
        _stall_variant(v, None if v == "without breaker" else breaker, health, p, stall_end_s)
        for v in names
    ]
    return WithAndWithoutResult(
        params=plain_params(variants=names, **p), **_compared(parts, health, p["duration_s"])
    )


def _check_stall(
    breaker, rate_per_s, capacity_per_s, concurrency, queue_limit, stall_at_s, stall_s,
    slow_factor, timeout_s, duration_s, bin_s, seed,
) -> dict[str, Any]:  # fmt: skip
    """The parameters of :func:`with_and_without`, validated (the breaker by label)."""
    make_breaker(breaker)
    rate_per_s, duration_s, timeout_s, seed = _check_common(
        rate_per_s, duration_s, timeout_s, seed, max_rate=500.0, max_calls=MAX_CALLS
    )
    return {
        "breaker": _breaker_label(breaker),
        "rate_per_s": rate_per_s,
        "capacity_per_s": check_number("capacity_per_s", capacity_per_s, 0.001, 1e6),
        "concurrency": check_int("concurrency", concurrency, 1, 10_000),
        "queue_limit": check_int("queue_limit", queue_limit, 0, 100_000),
        "stall_at_s": check_number("stall_at_s", stall_at_s, 0.0, duration_s),
        "stall_s": check_number("stall_s", stall_s, 0.0, MAX_DURATION_S, min_inclusive=False),
        "slow_factor": check_number("slow_factor", slow_factor, 1.0, 1000.0),
        "timeout_s": timeout_s,
        "duration_s": duration_s,
        "bin_s": _check_bins(bin_s, duration_s, timeout_s),
        "seed": seed,
    }


def _compared(parts: list[dict[str, Any]], health, duration_s: float) -> dict[str, Any]:
    """The tables of a comparison of breaker variants: ``frame``, ``summary``, ``load``,
    ``transitions``, ``states`` and the ``health`` bands up to the last call's end."""
    calls = pd.concat([q["calls"] for q in parts], ignore_index=True)
    until = _end_of(calls, duration_s)
    return {
        "frame": calls,
        "summary": _summary([q["summary"] for q in parts]),
        "load": _stacked(parts, "load"),
        "transitions": _stacked(parts, "transitions"),
        "states": _stacked(parts, "states"),
        "health": health.bands(until, include_up=True).reset_index(drop=True),
    }


def _stacked(parts: list[dict[str, Any]], table: str) -> pd.DataFrame:
    """One of the variants' tables, stacked with a ``variant`` column."""
    return stack_variants([(part["label"], part[table]) for part in parts])


def _stall_variant(variant, spec, health, p: dict[str, Any], stall_end_s: float) -> dict[str, Any]:
    """One variant of :func:`with_and_without`: its tables and its summary row."""
    name = _breaker_label(spec) if spec else variant
    run = _new_run(p["seed"], spec, name, latency=_caller_latency())
    served: dict[int, float] = {}
    env = run.env
    svc = Service(
        run.net,
        _DEPENDENCY,
        service_time=Exponential(p["concurrency"] / p["capacity_per_s"]),
        health=health,
        concurrency=p["concurrency"],
        queue_limit=p["queue_limit"],
        handler=lambda req: served.__setitem__(req.request_id, env.now),
    )
    rows: list[tuple] = []
    sent: list[float] = []
    timed_out: dict[int, float] = {}
    starts = poisson_arrivals(run.world.rng, p["rate_per_s"], p["duration_s"])

    def one_call(_i: int):
        if run.breaker is None:
            r = yield from call_process(run.net, _CALLER, _DEPENDENCY, None, p["timeout_s"])
            state = ""
        else:
            r = yield from breaker_call_process(
                run.net, _CALLER, _DEPENDENCY, timeout_s=p["timeout_s"], breaker=run.breaker
            )
            state = r.breaker_state
        if r.outcome != outcomes.REJECTED:
            sent.append(r.started)
        if r.outcome == outcomes.TIMEOUT:
            timed_out[r.request_id] = r.ended
        rows.append((variant, r.started, r.ended, r.latency, r.outcome, state))

    _open_loop(env, starts, one_call)
    drained = lambda: env.now >= p["duration_s"] and svc.queued + svc.in_service == 0
    queue = _sample_queue(env, svc, p["bin_s"], until=drained)
    run.world.run()
    calls = pd.DataFrame(rows, columns=_VARIANT_CALL_COLUMNS)
    calls = calls.sort_values("start", kind="stable").reset_index(drop=True)
    until = _end_of(calls, p["duration_s"])
    load = _load_frame(np.asarray(sent), calls, queue, p["bin_s"], until)
    trans, bands = _breaker_tables(run, until)
    row = _stall_row(variant, calls, load, queue, p["bin_s"], stall_end_s, len(sent))
    row["served_for_nobody"] = sum(
        1 for rid, end in timed_out.items() if rid in served and served[rid] >= end
    )
    return {"label": variant, "calls": calls, "load": load, "transitions": trans,
            "states": bands, "summary": row}  # fmt: skip


def _stall_row(variant, calls, load, queue, bin_s, stall_end_s, sent) -> dict[str, Any]:
    after = [t for t, q in zip(np.arange(len(queue)) * bin_s, queue) if t >= stall_end_s and q == 0]
    recovered_at = float(after[0]) if after else math.nan
    row: dict[str, Any] = {"variant": variant, **_outcome_counts(calls), "sent": sent}
    row["served_for_nobody"] = 0
    row.update(_latency_stats(calls))
    row["peak_queue"] = int(load["queue"].max())
    row["recovered_at_s"] = recovered_at
    row["recovery_s"] = recovered_at - stall_end_s
    return row


def _sample_queue(
    env, svc: Service, bin_s: float, *, until: Callable[[], bool], last: bool = True
) -> list[int]:
    """The dependency's queue, sampled every ``bin_s`` until ``until()`` holds (sampled once
    more then if ``last``), at most :data:`~distlab.experiments.scenario.MAX_BINS` times (a
    queue that never drains stops being watched, and never counts as recovered)."""
    queue: list[int] = []

    def monitor():
        while len(queue) < MAX_BINS:
            if not last and until():
                return
            queue.append(svc.queued)
            if last and until():
                return
            yield env.timeout(bin_s)

    env.process(monitor())
    return queue


# -- half-open probing ------------------------------------------------------------------------


@dataclass(frozen=True)
class HalfOpenProbingResult(Result):
    """What :func:`half_open_probing` returns.

    Attributes:
        frame: one row per call: ``variant`` (e.g. "course", "recommended"), ``start``,
            ``end``, ``latency_s``, ``outcome`` (``ok``, ``error``, ``timeout``,
            ``rejected``), ``state`` (the breaker's state when admitted or rejected).
        summary: per variant: ``calls``, each outcome's count, ``ok_share``, ``knockovers``
            (times the dependency was knocked over while recovering), ``recovered_at_s`` (when
            it was finally up; NaN if never within the run), ``openings`` (changes into OPEN
            from another state), ``half_opens``, ``max_half_open_admitted`` (most calls one
            HALF_OPEN let through),
            ``closed_at_s`` (when the breaker closed for good after the outage; NaN if it did
            not).
        params: the parameters (the breakers by label).
        transitions: ``variant, time, from_state, state, failure_rate, slow_call_rate``.
        states: the breaker's state bands: ``variant, start, end, state, label``.
        health: what the dependency went through, per variant: ``variant, start, end, state,
            label`` (states ``up``, ``down``, ``recovering``; the label says ``down (knocked
            over)`` each time the callers knocked it over while it recovered).
        load: per variant and bin: ``variant, time, sent_per_s`` (requests reaching the
            dependency), ``ok_per_s``, ``error_per_s``, ``timeout_per_s``, ``rejected_per_s``,
            ``queue``.

    >>> s = half_open_probing(seed=0).summary
    >>> s["knockovers"].tolist(), s["recovered_at_s"].notna().tolist()
    ([3, 0], [False, True])
    """

    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame
    load: pd.DataFrame


def half_open_probing(
    breakers: Any = PROBING_VARIANTS,
    *,
    rate_per_s: float = 4.0,
    outage_at_s: float = 10.0,
    down_s: float = 20.0,
    recover_s: float = 90.0,
    recovering_capacity: int = 1,
    recovering_factor: float = 25.0,
    overload: int = 5,
    restart_s: float = 10.0,
    service_time_s: float = 0.1,
    timeout_s: float = 3.0,
    duration_s: float = 240.0,
    bin_s: float = 1.0,
    seed: int = 0,
) -> HalfOpenProbingResult:
    """Unlimited half-open probing (the course's breaker) against a few probes, on a dependency
    that is knocked over again if it is hammered while it recovers.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds, each with
    ``timeout_s``, through one breaker per variant (``breakers``: preset names, or a dict
    label -> settings for :func:`make_breaker`). The dependency (service time
    Normal(``service_time_s``, ``service_time_s``/10)) goes down at ``outage_at_s`` for
    ``down_s`` seconds, then recovers: ``recovering_capacity`` request(s) at once, each
    ``recovering_factor`` times slower, until it has gone ``recover_s`` seconds without being
    knocked over. If more than ``overload`` requests are waiting or in service while it
    recovers, it falls over again: down for ``restart_s``, and its recovery starts again (a
    :class:`~distlab.sim.FragileRecovery`).

    The course's breaker waits 60 s, then lets every caller through: the dependency is
    knocked over each time, the breaker keeps reopening and the dependency never recovers
    within the run. The recommended breaker sends 3 probes at a time (they fail: too slow), so
    the dependency recovers in peace, and the next probes find it up and close the breaker.
    ``{"recommended": "recommended", "many probes": {"permitted_calls_in_half_open": 20}}``
    shows that it is the limit on probes that matters.

    >>> s = half_open_probing(seed=1).summary
    >>> s["max_half_open_admitted"].to_dict()["recommended"]
    3
    """
    variants = _variants(breakers, "breakers")
    p = _check_probing(
        rate_per_s, outage_at_s, down_s, recover_s, recovering_capacity, recovering_factor,
        overload, restart_s, service_time_s, timeout_s, duration_s, bin_s, seed,
    )  # fmt: skip
    parts = [_probing_variant(label, spec, p) for label, spec in variants]
    return HalfOpenProbingResult(
        frame=pd.concat([q["calls"] for q in parts], ignore_index=True),
        summary=_summary([q["summary"] for q in parts]),
        params=plain_params(breakers=[label for label, _ in variants], **p),
        transitions=_stacked(parts, "transitions"),
        states=_stacked(parts, "states"),
        health=_stacked(parts, "health"),
        load=_stacked(parts, "load"),
    )


def _check_probing(
    rate_per_s, outage_at_s, down_s, recover_s, recovering_capacity, recovering_factor,
    overload, restart_s, service_time_s, timeout_s, duration_s, bin_s, seed,
) -> dict[str, Any]:  # fmt: skip
    """The parameters of :func:`half_open_probing`, validated."""
    rate_per_s, duration_s, timeout_s, seed = _check_common(
        rate_per_s, duration_s, timeout_s, seed, max_rate=200.0, max_calls=20_000
    )
    p = {
        "rate_per_s": rate_per_s,
        "outage_at_s": check_number(
            "outage_at_s", outage_at_s, 0.0, duration_s, min_inclusive=False
        ),
        "down_s": check_number("down_s", down_s, 0.0, MAX_DURATION_S, min_inclusive=False),
        "recover_s": check_number("recover_s", recover_s, 0.0, MAX_DURATION_S, min_inclusive=False),
        "recovering_capacity": check_int("recovering_capacity", recovering_capacity, 1, 1000),
        "recovering_factor": check_number("recovering_factor", recovering_factor, 1.0, 1000.0),
        "overload": check_int("overload", overload, 0, 100_000),
        "restart_s": check_number("restart_s", restart_s, 0.0, MAX_DURATION_S, min_inclusive=False),
        "service_time_s": check_number(
            "service_time_s", service_time_s, 0.0, 60.0, min_inclusive=False
        ),
        "timeout_s": timeout_s,
        "duration_s": duration_s,
        "bin_s": _check_bins(bin_s, duration_s, timeout_s),
        "seed": seed,
    }
    _fragile(p)  # checks the schedule before any work
    return p


def _fragile(p: dict[str, Any]) -> FragileRecovery:
    return FragileRecovery(
        outage_at_s=p["outage_at_s"], down_s=p["down_s"], recover_s=p["recover_s"],
        capacity=p["recovering_capacity"], factor=p["recovering_factor"],
        overload=p["overload"], restart_s=p["restart_s"],
    )  # fmt: skip


def _probing_variant(label: str, spec: Any, p: dict[str, Any]) -> dict[str, Any]:
    """One variant of :func:`half_open_probing`: its tables and its summary row."""
    run = _new_run(p["seed"], spec, label, latency=_caller_latency())
    health = _fragile(p)
    service_time = Normal(p["service_time_s"], p["service_time_s"] / 10)
    svc = Service(run.net, _DEPENDENCY, service_time=service_time, health=health)
    rows: list[tuple] = []
    sent: list[float] = []
    starts = poisson_arrivals(run.world.rng, p["rate_per_s"], p["duration_s"])

    def one_call(_i: int):
        r = yield from breaker_call_process(
            run.net, _CALLER, _DEPENDENCY, timeout_s=p["timeout_s"], breaker=run.breaker
        )
        if r.outcome != outcomes.REJECTED:
            sent.append(r.started)
        rows.append((label, r.started, r.ended, r.latency, r.outcome, r.breaker_state))

    env = run.env
    _open_loop(env, starts, one_call)
    queue = _sample_queue(
        env, svc, p["bin_s"], until=lambda: env.now >= p["duration_s"], last=False
    )
    run.world.run()
    calls = pd.DataFrame(rows, columns=_VARIANT_CALL_COLUMNS)
    calls = calls.sort_values("start", kind="stable").reset_index(drop=True)
    until = _end_of(calls, p["duration_s"])
    trans, bands = _breaker_tables(run, until)
    bands_health = health.bands(until, include_up=True)
    row = _probing_row(label, calls, trans, bands, bands_health, p["outage_at_s"])
    return {"label": label, "calls": calls, "transitions": trans, "states": bands,
            "health": bands_health, "summary": row,
            "load": _load_frame(np.asarray(sent), calls, queue, p["bin_s"], until)}  # fmt: skip


def _probing_row(label, calls, trans, bands, health, outage_at_s) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": label, **_outcome_counts(calls)}
    row["knockovers"] = int((health["label"] == "down (knocked over)").sum())
    up = health[(health["state"] == "up") & (health["start"] > 0)]
    row["recovered_at_s"] = float(up["start"].iloc[0]) if len(up) else math.nan
    row["openings"] = len(_openings(trans))
    row["half_opens"] = int((trans["state"] == "HALF_OPEN").sum())
    half = calls[(calls["state"] == "HALF_OPEN") & (calls["outcome"] != outcomes.REJECTED)]
    most = 0
    halves = bands[bands["state"] == "HALF_OPEN"]
    for start, end in zip(halves["start"], halves["end"]):
        most = max(most, int(((half["start"] >= start) & (half["start"] <= end)).sum()))
    row["max_half_open_admitted"] = most
    last = bands.iloc[-1]
    closed = last["state"] == "CLOSED" and last["start"] > outage_at_s
    row["closed_at_s"] = float(last["start"]) if closed else math.nan
    return row


# -- breaker and retry ------------------------------------------------------------------------

_RETRY_CALL_COLUMNS = [
    "variant", "call", "start", "end", "latency_s", "outcome", "attempts", "state",
]  # fmt: skip
_ATTEMPT_COLUMNS = ["variant", "call", "attempt", "start", "end", "outcome"]


@dataclass(frozen=True)
class BreakerAndRetryResult(Result):
    """What :func:`breaker_and_retry` returns.

    Attributes:
        frame: one row per caller call: ``variant`` ("no retry", "retry around breaker",
            "breaker around retry"), ``call``, ``start``, ``end``, ``latency_s`` (what the
            caller waited, all attempts and backoff included), ``outcome`` (``ok``,
            ``error``, ``timeout``, ``rejected``: the caller's final answer), ``attempts``
            (attempts the retry policy made, rejected ones included), ``state`` (breaker state
            at the last admission or rejection).
        summary: per variant: ``calls``, each final outcome's count, ``ok_share``, ``sent``
            (requests that reached the dependency), ``sent_during_failure`` (of which while it
            was failing), ``sent_per_call``, ``time_to_open_s`` (from the start of the failure
            to the first opening), ``sent_before_open`` (requests sent between the failure's
            start and that opening), latency figures (``mean_latency_s``, ``p95_latency_s``,
            ``mean_failed_latency_s``, ``time_waiting_on_failures_s``), ``openings``.
        params: the parameters.
        attempts: one row per request that reached the dependency: ``variant, call,
            attempt, start, end, outcome`` (``ok``, ``error``, ``timeout``).
        load: per variant and bin: ``variant, time, sent_per_s`` (requests reaching the
            dependency), ``ok_per_s``, ``error_per_s``, ``timeout_per_s``, ``rejected_per_s``
            (caller calls by final outcome), ``queue`` (always 0 here).
        transitions: ``variant, time, from_state, state, failure_rate, slow_call_rate``.
        states: ``variant, start, end, state, label``.
        health: the dependency's health bands (``start, end, state, label``).

    >>> s = breaker_and_retry(seed=0).summary
    >>> around_breaker, around_retry = s.loc["retry around breaker"], s.loc["breaker around retry"]
    >>> bool(around_breaker["time_to_open_s"] < around_retry["time_to_open_s"])
    True
    """

    attempts: pd.DataFrame
    load: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame


def breaker_and_retry(
    variants: Iterable[str] = RETRY_VARIANTS,
    *,
    breaker: str | Mapping[str, Any] = "recommended",
    max_attempts: int = 3,
    base_s: float = 0.2,
    cap_s: float = 2.0,
    rate_per_s: float = 10.0,
    flaky: float = 0.1,
    failure_at_s: float = 5.0,
    failure_s: float = 10.0,
    timeout_s: float = 1.0,
    duration_s: float = 30.0,
    bin_s: float = 0.5,
    seed: int = 0,
) -> BreakerAndRetryResult:
    """A retry around the breaker versus a breaker around the retry, on a dependency that is
    down for a while.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds. The
    dependency answers in Exponential(0.02) s and fails a share ``flaky`` of its requests at
    random (transient errors: what retries are for); from ``failure_at_s`` for ``failure_s``
    seconds it is down (errors at once). The caller has a breaker (``breaker``, see
    :func:`make_breaker`) and, except in ``"no retry"``, a ``RetryPolicy(max_attempts,
    ExponentialBackoff(base_s, cap_s, jitter="full"), retry_on=CallFailed)``: failed and
    timed-out requests are retried, a rejection is not.

    - ``"retry around breaker"``: every attempt passes through the breaker (resilience4j's
      ``Retry(CircuitBreaker(call))``): the breaker sees every failed attempt and opens after
      a few calls; then the first attempt is rejected and the call fails fast.
    - ``"breaker around retry"``: the whole retried call passes once
      (``CircuitBreaker(Retry(call))``):
      one failure per ``max_attempts`` requests, so it opens later; each half-open probe sends
      up to ``max_attempts`` requests, and callers wait for every attempt and backoff.

    >>> s = breaker_and_retry(seed=0).summary
    >>> bool(s.loc["retry around breaker", "sent_during_failure"]
    ...      < s.loc["breaker around retry", "sent_during_failure"])
    True
    """
    names = check_choices("variants", variants, RETRY_VARIANTS, noun="a variant")
    p = _check_retry(
        breaker, max_attempts, base_s, cap_s, rate_per_s, flaky, failure_at_s, failure_s,
        timeout_s, duration_s, bin_s, seed,
    )  # fmt: skip
    normal = Flaky(p["flaky"]) if p["flaky"] > 0 else Up()
    health, failure_end_s = _trouble(
        p["failure_at_s"], p["failure_s"], ("failure_at_s", "failure_s"), Down(), normal
    )
    parts = [_retry_variant(variant, breaker, health, p, failure_end_s) for variant in names]
    return BreakerAndRetryResult(
        params=plain_params(variants=names, **p),
        attempts=pd.concat([q["attempts"] for q in parts], ignore_index=True),
        **_compared(parts, health, p["duration_s"]),
    )


def _check_retry(
    breaker, max_attempts, base_s, cap_s, rate_per_s, flaky, failure_at_s, failure_s, timeout_s,
    duration_s, bin_s, seed,
) -> dict[str, Any]:  # fmt: skip
    """The parameters of :func:`breaker_and_retry`, validated (the breaker by label)."""
    make_breaker(breaker)
    max_attempts = check_int("max_attempts", max_attempts, 1, 20)
    base_s = check_number("base_s", base_s, 0.0, MAX_DURATION_S)
    cap_s = check_number("cap_s", cap_s, 0.0, MAX_DURATION_S)
    if cap_s < base_s:
        raise ValueError(f"cap_s={cap_s:g} must be at least base_s={base_s:g}")
    rate_per_s, duration_s, timeout_s, seed = _check_common(
        rate_per_s, duration_s, timeout_s, seed, max_rate=500.0, max_calls=MAX_CALLS
    )
    return {
        "breaker": _breaker_label(breaker),
        "max_attempts": max_attempts,
        "base_s": base_s,
        "cap_s": cap_s,
        "rate_per_s": rate_per_s,
        "flaky": check_probability("flaky", flaky),
        "failure_at_s": check_number("failure_at_s", failure_at_s, 0.0, duration_s),
        "failure_s": check_number("failure_s", failure_s, 0.0, MAX_DURATION_S, min_inclusive=False),
        "timeout_s": timeout_s,
        "duration_s": duration_s,
        "bin_s": _check_bins(bin_s, duration_s, timeout_s),
        "seed": seed,
    }


def _retry_variant(variant, spec, health, p: dict[str, Any], failure_end_s: float) -> dict:
    """One variant of :func:`breaker_and_retry`: its tables and its summary row."""
    run = _new_run(p["seed"], spec, variant, latency=_caller_latency())
    Service(run.net, _DEPENDENCY, service_time=Exponential(0.02), health=health)
    policy = None
    if variant != "no retry":
        backoff = ExponentialBackoff(p["base_s"], p["cap_s"], jitter="full")
        policy = RetryPolicy(p["max_attempts"], backoff, retry_on=CallFailed)
    rows: list[tuple] = []
    att_rows: list[tuple] = []
    starts = poisson_arrivals(run.world.rng, p["rate_per_s"], p["duration_s"])

    def one_call(i: int):
        r = yield from breaker_call_process(
            run.net, _CALLER, _DEPENDENCY, i, timeout_s=p["timeout_s"], breaker=run.breaker,
            retry=policy, nesting=variant if variant in NESTINGS else NESTINGS[0],
        )  # fmt: skip
        for n, a in enumerate(r.attempt_results, start=1):
            if a.outcome != outcomes.REJECTED:
                att_rows.append((variant, i, n, a.started, a.ended, a.outcome))
        row = (variant, i, r.started, r.ended, r.latency, r.outcome, r.attempts)
        rows.append((*row, r.breaker_state))

    _open_loop(run.env, starts, one_call)
    run.world.run()
    calls = pd.DataFrame(rows, columns=_RETRY_CALL_COLUMNS)
    calls = calls.sort_values("call", kind="stable").reset_index(drop=True)
    att = pd.DataFrame(att_rows, columns=_ATTEMPT_COLUMNS)
    att = att.sort_values(["call", "attempt"], kind="stable").reset_index(drop=True)
    until = _end_of(calls, p["duration_s"])
    trans, bands = _breaker_tables(run, until)
    load = _load_frame(att["start"].to_numpy(), calls, [], p["bin_s"], until)
    row = _retry_row(variant, calls, att, trans, p["failure_at_s"], failure_end_s)
    return {"label": variant, "calls": calls, "attempts": att, "load": load,
            "transitions": trans, "states": bands, "summary": row}  # fmt: skip


def _retry_row(variant, calls, att, trans, failure_at_s, failure_end_s) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": variant, **_outcome_counts(calls)}
    row["sent"] = len(att)
    failing = (att["start"] >= failure_at_s) & (att["start"] < failure_end_s)
    row["sent_during_failure"] = int(failing.sum())
    row["sent_per_call"] = len(att) / len(calls) if len(calls) else math.nan
    opened = _first_open(trans, failure_at_s)
    row["time_to_open_s"] = opened - failure_at_s
    row["sent_before_open"] = int(((att["start"] >= failure_at_s) & (att["start"] < opened)).sum())
    row.update(_latency_stats(calls))
    row["openings"] = len(_openings(trans))
    return row
