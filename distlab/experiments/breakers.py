"""Circuit breakers, as experiments (notebook 03).

Every experiment runs the real :class:`~distlab.breaker.CircuitBreaker` in simulated time through
:func:`distlab.sim.breaker_call`, so what a learner sees is what the library does.

- :func:`transitions`: callers and a dependency that goes down, then slow, then recovers with a
  reduced capacity: every call, every state and the rates the breaker saw.
- :func:`with_and_without`: the same stall with and without a breaker: load on the dependency,
  what the callers wait, how soon the dependency recovers.
- :func:`half_open_probing`: the course's unlimited half-open against a few probes, on a
  dependency that falls over again if it is hammered while it recovers.
- :func:`breaker_and_retry`: retries inside versus outside the breaker.

Breakers are named by preset (:data:`PRESETS`): ``"course"`` is the course text's breaker,
``CircuitBreaker.consecutive(5, 60)``; ``"recommended"`` is :data:`RECOMMENDED`. A dict of
:class:`~distlab.breaker.CircuitBreaker` keyword arguments changes the recommended one (see
:func:`make_breaker`). Times are seconds of simulated time, the course's 60 s wait included: the
runs last a few simulated minutes at moderate call rates, which keeps them fast.

>>> from distlab.experiments.breakers import transitions
>>> course = transitions(breaker="course", seed=0)
>>> int(course.calls.query("slow and state == 'CLOSED'").shape[0]) > 0  # slow calls go unseen
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab._validate import (
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_seed,
)
from distlab.breaker import CircuitBreaker, exponential_wait
from distlab.retry import ExponentialBackoff, RetryPolicy
from distlab.sim import (
    CallFailed,
    Down,
    Exponential,
    Flaky,
    Health,
    HealthSchedule,
    Network,
    Normal,
    Recovering,
    Service,
    Slow,
    Up,
    World,
    sim_clock,
)
from distlab.sim.breaking import _breaker_call
from distlab.sim.rpc import call_process as _call

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
RETRY_VARIANTS = ("no retry", "retry inside", "retry outside")

_DEPENDENCY = "dependency"
_STATE_LABELS = {
    "CLOSED": "closed",
    "OPEN": "open",
    "HALF_OPEN": "half-open",
    "FORCED_OPEN": "forced open",
    "DISABLED": "disabled",
    "METRICS_ONLY": "metrics only",
}
_OUTCOMES = {"ok": "success", "error": "error", "timeout": "timeout", "rejected": "rejected"}


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
    - a dict: :class:`~distlab.breaker.CircuitBreaker` keyword arguments that change the
      recommended settings, e.g. ``{"permitted_calls_in_half_open": 10}``; with
      ``"preset": "course"`` it changes the course's breaker instead (``failures`` and
      ``wait_in_open`` only).

    >>> make_breaker("course").state.value
    'CLOSED'
    >>> make_breaker({"window_size": 50}).window_size
    50
    >>> make_breaker({"preset": "course", "wait_in_open": 30}).wait_in_open
    30
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
    if isinstance(breaker, str):
        return breaker
    return "custom"


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
        return HealthSchedule(schedule)
    raise TypeError(
        f"schedule={schedule!r} must be one of {SCHEDULES}, a HealthSchedule or a list of "
        "(start_time, state) pairs"
    )


# -- shared machinery -------------------------------------------------------------------------


def _arrivals(rng: np.random.Generator, rate_per_s: float, duration_s: float) -> np.ndarray:
    """Poisson arrival times in [0, duration_s)."""
    size = int(rate_per_s * duration_s * 1.3) + 20
    times = np.cumsum(rng.exponential(1.0 / rate_per_s, size=size))
    while times[-1] < duration_s:  # pragma: no cover - 1.3x plus 20 almost always suffices
        more = times[-1] + np.cumsum(rng.exponential(1.0 / rate_per_s, size=size))
        times = np.concatenate([times, more])
    return times[times < duration_s]


def _transition_log(breaker: CircuitBreaker) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = []
    breaker.subscribe(lambda e: log.append(e) if e["kind"] == "transition" else None)
    return log


def _transitions_frame(log: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        (e["time"], e["from_state"], e["state"], _nan(e["failure_rate"]), _nan(e["slow_call_rate"]))
        for e in log
    ]
    return pd.DataFrame(
        rows, columns=["time", "from_state", "state", "failure_rate", "slow_call_rate"]
    )


def _state_bands(transitions: pd.DataFrame, until: float) -> pd.DataFrame:
    starts = [0.0] + transitions["time"].tolist()
    states = ["CLOSED"] + transitions["state"].tolist()
    ends = starts[1:] + [until]
    rows = [
        (s, max(e, s), st, _STATE_LABELS.get(st, st))
        for s, e, st in zip(starts, ends, states)
        if e > s or s == starts[-1]
    ]
    return pd.DataFrame(rows, columns=["start", "end", "state", "label"])


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _time_in(bands: pd.DataFrame, state: str) -> float:
    part = bands[bands["state"] == state]
    return float((part["end"] - part["start"]).sum())


def _binned(times: np.ndarray, bin_s: float, until: float) -> tuple[np.ndarray, np.ndarray]:
    bins = max(1, math.ceil(until / bin_s - 1e-9))
    index = np.minimum((np.asarray(times, dtype=float) / bin_s).astype(int), bins - 1)
    return np.arange(bins) * bin_s, np.bincount(index, minlength=bins)


def _client_names(clients: int) -> list[str]:
    return [f"client {k}" for k in range(1, clients + 1)]


# -- transitions ------------------------------------------------------------------------------

_CALL_COLUMNS = ["client", "start", "end", "latency_s", "outcome", "slow", "state"]


@dataclass(frozen=True)
class TransitionsResult:
    """What :func:`transitions` returns.

    Attributes:
        calls: one row per call: ``client`` ("client 1", ...), ``start``, ``end`` (s),
            ``latency_s`` (0 for a rejection), ``outcome`` (``success``, ``error``,
            ``timeout``, ``rejected``), ``slow`` (latency above ``thresholds
            ["slow_call_duration"]``), ``state`` (the breaker's state when the call was admitted
            or rejected: ``CLOSED``, ``OPEN``, ``HALF_OPEN``).
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
        breaker: the preset name (``"course"``, ``"recommended"``) or ``"custom"``.
    """

    calls: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    rates: pd.DataFrame
    health: pd.DataFrame
    thresholds: dict
    breaker: str

    @property
    def frame(self) -> pd.DataFrame:
        """The per-call table (what :func:`distlab.experiments.sweep` stacks)."""
        return self.calls

    def summary(self) -> pd.Series:
        """One number per line: ``calls``, the count of each outcome, ``slow``, ``admitted``
        (calls that reached the dependency), ``openings`` (transitions to OPEN),
        ``first_open_s``, ``time_open_s``, ``time_half_open_s``, ``time_closed_s``, and one
        line per kind of transition taken, e.g. ``"CLOSED->OPEN"``.

        >>> s = transitions(breaker="recommended", seed=0).summary()
        >>> int(s["calls"]) == int(s[["success", "error", "timeout", "rejected"]].sum())
        True
        """
        calls = self.calls
        counts = calls["outcome"].value_counts()
        out: dict[str, float] = {"calls": len(calls)}
        for outcome in ("success", "error", "timeout", "rejected"):
            out[outcome] = int(counts.get(outcome, 0))
        out["slow"] = int(calls["slow"].sum())
        out["admitted"] = len(calls) - out["rejected"]
        tr = self.transitions
        opened = tr[tr["state"] == "OPEN"]
        out["openings"] = len(opened)
        out["first_open_s"] = float(opened["time"].iloc[0]) if len(opened) else math.nan
        for state in ("OPEN", "HALF_OPEN", "CLOSED"):
            out[f"time_{state.lower()}_s"] = _time_in(self.states, state)
        for (a, b), n in tr.groupby(["from_state", "state"], sort=False).size().items():
            out[f"{a}->{b}"] = int(n)
        return pd.Series(out, name=self.breaker)


def transitions(
    *,
    breaker: str | Mapping[str, Any] = "recommended",
    schedule: Any = "outage",
    clients: int = 3,
    rate_per_s: float = 3.0,
    duration_s: float = 240.0,
    call_timeout_s: float = 4.0,
    service_time_s: float = 0.1,
    latency_s: float = 0.005,
    seed: int = 0,
) -> TransitionsResult:
    """``clients`` callers share one breaker in front of a dependency whose health follows
    ``schedule``; record every call, every transition and the rates the breaker saw.

    Calls arrive at ``rate_per_s`` in all (Poisson, each from a client picked at random) for
    ``duration_s`` seconds, whatever happened to the previous ones (open loop), each with
    ``call_timeout_s``. The dependency serves a request in Normal(``service_time_s``,
    ``service_time_s``/10) seconds and its health follows ``schedule``: a name of
    :data:`SCHEDULES` (see :func:`outage_schedule`), a :class:`~distlab.sim.HealthSchedule` or a
    list of ``(start_time, state)``. ``breaker`` is ``"course"``, ``"recommended"`` or a dict (see
    :func:`make_breaker`).

    With the default ``"outage"`` schedule, the course's breaker opens on the outage, waits its
    60 s, and closes on the first success of the slow phase: it never notices that every call
    takes 2.5 s (slow calls do not count), and each time its wait ends it lets every caller
    through. The recommended breaker opens on the outage, stays open through the slow phase
    (100 % slow calls), and probes the recovering dependency with 3 calls at a time.

    >>> course = transitions(breaker="course", seed=0).summary()
    >>> rec = transitions(breaker="recommended", seed=0).summary()
    >>> bool(rec["rejected"] > course["rejected"]), bool(rec["slow"] < course["slow"])
    (True, True)
    """
    clients = check_int("clients", clients, 1, 100)
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, 200.0, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    service_time_s = check_number("service_time_s", service_time_s, 0.0, min_inclusive=False)
    latency_s = check_number("latency_s", latency_s, 0.0)
    seed = check_seed(seed)
    health = _coerce_schedule(schedule)
    if rate_per_s * duration_s > 20_000:
        raise ValueError(
            f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g} makes "
            f"{rate_per_s * duration_s:,.0f} calls; at most 20,000 are simulated"
        )

    world = World(seed=seed, log_messages=False)
    clock = sim_clock(world)
    cb = make_breaker(breaker, clock=clock, name=_breaker_label(breaker))
    slow_s, counts_slow = _slow_threshold(breaker, cb)
    log = _transition_log(cb)
    latency = Normal(latency_s, latency_s / 5) if latency_s > 0 else 0.0
    net = Network(world, latency=latency)
    names = _client_names(clients)
    for name in names:
        net.add_node(name)
    Service(
        net, _DEPENDENCY, service_time=Normal(service_time_s, service_time_s / 10), health=health
    )
    rng = world.rng
    starts = _arrivals(rng, rate_per_s, duration_s)
    who = rng.integers(0, clients, size=len(starts))
    rows: list[tuple] = []
    rates: list[tuple] = []
    env = world.env

    def one_call(client: str):
        r = yield from _breaker_call(
            net, client, _DEPENDENCY, None, call_timeout_s, cb, None, "inside", None
        )
        outcome = r.outcome
        rows.append(
            (
                client,
                r.started,
                r.ended,
                r.latency,
                _OUTCOMES[outcome],
                r.latency > slow_s,
                r.breaker_state,
            )
        )
        if outcome != "rejected":
            m = cb.metrics()
            rates.append((r.ended, _nan(m.failure_rate), _nan(m.slow_call_rate), m.state.value))

    def source():
        for t, k in zip(starts.tolist(), who.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(one_call(names[k]))

    env.process(source())
    world.run()

    calls = (
        pd.DataFrame(rows, columns=_CALL_COLUMNS)
        .sort_values("start", kind="stable")
        .reset_index(drop=True)
    )
    until = max(duration_s, float(calls["end"].max()) if len(calls) else 0.0)
    trans = _transitions_frame(log)
    thresholds = {
        "failure_rate_threshold": cb.failure_rate_threshold,
        "slow_call_rate_threshold": cb.slow_call_rate_threshold,
        "slow_call_duration": slow_s,
        "counts_slow": counts_slow,
    }
    return TransitionsResult(
        calls=calls,
        transitions=trans,
        states=_state_bands(trans, until),
        rates=pd.DataFrame(rates, columns=["time", "failure_rate", "slow_call_rate", "state"]),
        health=health.bands(until, include_up=True).reset_index(drop=True),
        thresholds=thresholds,
        breaker=_breaker_label(breaker),
    )


# -- variants ---------------------------------------------------------------------------------


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
        make_breaker(pair[1])  # validates
    labels = [label for label, _ in pairs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{name}={labels!r} names a variant twice")
    return pairs


def _latency_stats(calls: pd.DataFrame) -> dict[str, float]:
    lat = calls["latency_s"]
    failed = calls.loc[calls["outcome"] != "success", "latency_s"]
    return {
        "mean_latency_s": float(lat.mean()) if len(lat) else math.nan,
        "p95_latency_s": float(lat.quantile(0.95)) if len(lat) else math.nan,
        "mean_failed_latency_s": float(failed.mean()) if len(failed) else math.nan,
        "time_waiting_on_failures_s": float(failed.sum()),
    }


def _outcome_counts(calls: pd.DataFrame) -> dict[str, int]:
    counts = calls["outcome"].value_counts()
    out = {"calls": len(calls)}
    for outcome in ("success", "error", "timeout", "rejected"):
        out[outcome] = int(counts.get(outcome, 0))
    out["success_share"] = out["success"] / len(calls) if len(calls) else math.nan
    return out


def _first_open(trans: pd.DataFrame, after: float) -> float:
    opened = trans[(trans["state"] == "OPEN") & (trans["time"] >= after)]
    return float(opened["time"].iloc[0]) if len(opened) else math.nan


def _load_frame(
    label_col: str,
    label: str,
    sent: np.ndarray,
    calls: pd.DataFrame,
    queue: list[int],
    bin_s: float,
    until: float,
) -> pd.DataFrame:
    times, sent_counts = _binned(sent, bin_s, until)
    starts = calls["start"].to_numpy()
    outcome = calls["outcome"].to_numpy()
    frame = {label_col: label, "time": times, "sent_per_s": sent_counts / bin_s}
    for name in ("success", "error", "timeout", "rejected"):
        frame[f"{name}_per_s"] = _binned(starts[outcome == name], bin_s, until)[1] / bin_s
    q = np.zeros(len(times), dtype=int)
    sampled = queue[: len(times)]
    q[: len(sampled)] = sampled
    frame["queue"] = q
    return pd.DataFrame(frame)


# -- with and without -------------------------------------------------------------------------


@dataclass(frozen=True)
class WithAndWithoutResult:
    """What :func:`with_and_without` returns.

    Attributes:
        calls: one row per call: ``variant`` ("without breaker", "with breaker"), ``start``,
            ``end``, ``latency_s`` (what the caller waited), ``outcome`` (``success``,
            ``error``, ``timeout``, ``rejected``), ``state`` (breaker state; ``""`` without).
        load: per variant and bin: ``variant, time`` (bin start, s), ``sent_per_s`` (requests
            that reached the dependency), ``success_per_s``, ``error_per_s``,
            ``timeout_per_s``, ``rejected_per_s`` (calls by outcome, by start time), ``queue``
            (requests waiting at the dependency, sampled at the bin start).
        transitions: the breaker's transitions (``variant, time, from_state, state,
            failure_rate, slow_call_rate``).
        states: the breaker's state bands (``variant, start, end, state, label``).
        health: the dependency's scheduled health as bands (``start, end, state, label``).
        params: ``rate_per_s``, ``capacity_per_s``, ``stall_at_s``, ``stall_end_s``,
            ``duration_s``, ``call_timeout_s``, and per variant ``sent``, ``wasted`` (served for
            nobody) and ``recovered_at`` (dicts variant -> value; see :meth:`summary`).
    """

    calls: pd.DataFrame
    load: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame
    params: dict

    @property
    def frame(self) -> pd.DataFrame:
        """The per-call table."""
        return self.calls

    def summary(self) -> pd.DataFrame:
        """Per variant: ``calls``, each outcome's count, ``success_share``, ``sent`` (requests
        that reached the dependency), ``served_for_nobody`` (requests it served after their
        caller had timed out), latency figures (``mean_latency_s``, ``p95_latency_s``,
        ``mean_failed_latency_s``, ``time_waiting_on_failures_s``: caller seconds spent on calls
        that failed), ``peak_queue``, ``recovered_at_s`` (first time after the stall at which
        the dependency's queue was empty: it caught up; sampled every ``bin_s``, after the run's
        end too) and ``recovery_s``
        (that minus the end of the stall).

        >>> s = with_and_without(seed=0).summary()
        >>> bool(s.loc["with breaker", "recovery_s"] < s.loc["without breaker", "recovery_s"])
        True
        """
        p = self.params
        rows = []
        for variant, calls in self.calls.groupby("variant", sort=False):
            load = self.load[self.load["variant"] == variant]
            row: dict[str, Any] = {"variant": variant, **_outcome_counts(calls)}
            row["sent"] = int(p["sent"][variant])
            row["served_for_nobody"] = int(p["wasted"][variant])
            row.update(_latency_stats(calls))
            row["peak_queue"] = int(load["queue"].max())
            row["recovered_at_s"] = p["recovered_at"][variant]
            row["recovery_s"] = row["recovered_at_s"] - p["stall_end_s"]
            rows.append(row)
        return pd.DataFrame(rows).set_index("variant")


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
    call_timeout_s: float = 1.0,
    duration_s: float = 40.0,
    bin_s: float = 0.5,
    seed: int = 0,
) -> WithAndWithoutResult:
    """The same stalled dependency, called with and without a breaker.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds, each with
    ``call_timeout_s``. The dependency serves ``capacity_per_s`` requests per second
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

    >>> s = with_and_without(seed=1).summary()
    >>> bool(s.loc["with breaker", "mean_failed_latency_s"]
    ...      < s.loc["without breaker", "mean_failed_latency_s"])
    True
    """
    if isinstance(variants, str):
        variants = (variants,)
    names = tuple(variants)
    if not names:
        raise ValueError(f"variants=() is empty: give at least one of {WITH_WITHOUT_VARIANTS}")
    for name in names:
        check_choice("variants item", name, WITH_WITHOUT_VARIANTS)
    make_breaker(breaker)
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, 500.0, min_inclusive=False)
    capacity_per_s = check_number("capacity_per_s", capacity_per_s, 0.0, min_inclusive=False)
    concurrency = check_int("concurrency", concurrency, 1, 10_000)
    queue_limit = check_int("queue_limit", queue_limit, 0, 100_000)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    stall_at_s = check_number("stall_at_s", stall_at_s, 0.0, duration_s)
    stall_s = check_number("stall_s", stall_s, 0.0, min_inclusive=False)
    slow_factor = check_number("slow_factor", slow_factor, 1.0)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    if rate_per_s * duration_s > 50_000:
        raise ValueError(
            f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g} makes "
            f"{rate_per_s * duration_s:,.0f} calls per variant; at most 50,000 are simulated"
        )
    stall_end_s = stall_at_s + stall_s
    changes = [(0.0, Up())] if stall_at_s > 0 else []
    health = HealthSchedule(changes + [(stall_at_s, Slow(slow_factor)), (stall_end_s, Up())])

    calls_frames, loads, trans_frames, state_frames = [], [], [], []
    sent_by, wasted_by, recovered_by = {}, {}, {}
    for variant in names:
        world = World(seed=seed, log_messages=False)
        env = world.env
        cb = None
        log: list[dict[str, Any]] = []
        if variant == "with breaker":
            cb = make_breaker(breaker, clock=sim_clock(world), name=_breaker_label(breaker))
            log = _transition_log(cb)
        net = Network(world, latency=Normal(0.005, 0.001))
        net.add_node("caller")
        served: dict[int, float] = {}
        svc = Service(
            net,
            _DEPENDENCY,
            service_time=Exponential(concurrency / capacity_per_s),
            health=health,
            concurrency=concurrency,
            queue_limit=queue_limit,
            handler=lambda req, served=served, env=env: served.__setitem__(req.request_id, env.now),
        )
        rows: list[tuple] = []
        sent: list[float] = []
        timed_out: dict[int, float] = {}
        starts = _arrivals(world.rng, rate_per_s, duration_s)

        def one_call(cb=cb, net=net, rows=rows, sent=sent, timed_out=timed_out):
            if cb is None:
                r = yield from _call(net, "caller", _DEPENDENCY, None, call_timeout_s)
                state = ""
            else:
                r = yield from _breaker_call(
                    net, "caller", _DEPENDENCY, None, call_timeout_s, cb, None, "inside", None
                )
                state = r.breaker_state
            if r.outcome != "rejected":
                sent.append(r.started)
            if r.outcome == "timeout":
                timed_out[r.request_id] = r.ended
            rows.append((variant, r.started, r.ended, r.latency, _OUTCOMES[r.outcome], state))

        def source(starts=starts, env=env, one_call=one_call):
            for t in starts.tolist():
                if t > env.now:
                    yield env.timeout(t - env.now)
                env.process(one_call())

        queue: list[int] = []

        def monitor(svc=svc, queue=queue, env=env):
            while True:
                queue.append(svc.queued)
                if env.now >= duration_s and svc.queued == 0 and svc.in_service == 0:
                    return
                yield env.timeout(bin_s)

        env.process(source())
        env.process(monitor())
        world.run()
        calls = pd.DataFrame(
            rows, columns=["variant", "start", "end", "latency_s", "outcome", "state"]
        )
        calls = calls.sort_values("start", kind="stable").reset_index(drop=True)
        until = max(duration_s, float(calls["end"].max()))
        loads.append(_load_frame("variant", variant, np.asarray(sent), calls, queue, bin_s, until))
        calls_frames.append(calls)
        sent_by[variant] = len(sent)
        after = [
            t for t, q in zip(np.arange(len(queue)) * bin_s, queue) if t >= stall_end_s and q == 0
        ]
        recovered_by[variant] = float(after[0]) if after else math.nan
        wasted_by[variant] = sum(
            1 for rid, end in timed_out.items() if rid in served and served[rid] >= end
        )
        trans = _transitions_frame(log)
        if cb is not None:
            bands = _state_bands(trans, until)
        else:
            bands = pd.DataFrame(columns=["start", "end", "state", "label"])
        trans.insert(0, "variant", variant)
        bands.insert(0, "variant", variant)
        trans_frames.append(trans)
        state_frames.append(bands)
    calls = pd.concat(calls_frames, ignore_index=True)
    until = max(duration_s, float(calls["end"].max()))
    params = {
        "rate_per_s": rate_per_s,
        "capacity_per_s": capacity_per_s,
        "stall_at_s": stall_at_s,
        "stall_end_s": stall_end_s,
        "duration_s": duration_s,
        "call_timeout_s": call_timeout_s,
        "sent": sent_by,
        "wasted": wasted_by,
        "recovered_at": recovered_by,
    }
    return WithAndWithoutResult(
        calls=calls,
        load=pd.concat(loads, ignore_index=True),
        transitions=pd.concat(trans_frames, ignore_index=True),
        states=pd.concat(state_frames, ignore_index=True),
        health=health.bands(until, include_up=True).reset_index(drop=True),
        params=params,
    )


# -- half-open probing ------------------------------------------------------------------------


class _FragileHealth(HealthSchedule):
    """A dependency that recovers only if it is not hammered while it recovers.

    Up until ``outage_at``; down for ``down_s``; then recovering (``Recovering(capacity,
    factor)``) until it has gone ``recover_s`` seconds without being knocked over, then up. While
    recovering, a request arriving when more than ``overload`` requests are already waiting or in
    service knocks it over: down for ``restart_s``, then its recovery starts again. Its history
    is recorded as it happens; :meth:`bands` returns it.
    """

    def __init__(
        self,
        outage_at: float,
        down_s: float,
        recover_s: float,
        capacity: int,
        factor: float,
        overload: int,
        restart_s: float,
    ) -> None:
        self._recovering = Recovering(capacity, factor)
        super().__init__([(0.0, Up()), (outage_at, Down()), (outage_at + down_s, self._recovering)])
        self.service: Service | None = None
        self._recover_s = recover_s
        self._overload = overload
        self._restart_s = restart_s
        self._phase: tuple[Health, float, str] = (Up(), outage_at, "up")  # state, until, label
        self.history: list[tuple[float, Health, str]] = [(0.0, Up(), "up")]
        self._pending = [(outage_at, Down(), "down", down_s)]
        self.knockovers = 0

    def _enter(self, t: float, state: Health, label: str, until: float) -> None:
        self._phase = (state, until, label)
        self.history.append((t, state, label))

    def at(self, t: float) -> Health:
        state, until, label = self._phase
        while t >= until:
            if self._pending:
                start, nxt, nlabel, length = self._pending.pop(0)
                self._enter(start, nxt, nlabel, start + length)
            elif isinstance(state, Down):
                self._enter(
                    until, self._recovering, self._recovering.label, until + self._recover_s
                )
            else:  # recovered
                self._enter(until, Up(), "up", math.inf)
            state, until, label = self._phase
        if isinstance(state, Recovering) and self.service is not None:
            busy = self.service.queued + self.service.in_service
            if busy > self._overload:
                self.knockovers += 1
                self._enter(t, Down(), "down (knocked over)", t + self._restart_s)
                return self._phase[0]
        return state

    def bands(self, until: float, *, include_up: bool = False) -> pd.DataFrame:
        self.at(until)
        rows = []
        bounds = [h[0] for h in self.history[1:]] + [math.inf]
        for (start, state, label), end in zip(self.history, bounds):
            if start >= until:
                break
            if end <= start or (isinstance(state, Up) and not include_up):
                continue
            rows.append((start, min(end, until), state.state, label))
        return pd.DataFrame(rows, columns=["start", "end", "state", "label"])


@dataclass(frozen=True)
class HalfOpenProbingResult:
    """What :func:`half_open_probing` returns.

    Attributes:
        calls: one row per call: ``variant`` (e.g. "course", "recommended"), ``start``,
            ``end``, ``latency_s``, ``outcome`` (``success``, ``error``, ``timeout``,
            ``rejected``), ``state`` (the breaker's state when admitted or rejected).
        transitions: ``variant, time, from_state, state, failure_rate, slow_call_rate``.
        states: the breaker's state bands: ``variant, start, end, state, label``.
        health: what the dependency went through, per variant: ``variant, start, end, state,
            label`` (``up``, ``down``, ``recovering``, and ``down (knocked over)`` each time the
            callers knocked it over while it recovered).
        load: per variant and bin: ``variant, time, sent_per_s`` (requests reaching the
            dependency), ``success_per_s``, ``error_per_s``, ``timeout_per_s``,
            ``rejected_per_s``, ``queue``.
        params: the scenario's settings (``outage_at_s``, ``down_s``, ``recover_s``,
            ``overload``, ``restart_s``, ``duration_s``...).
    """

    calls: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame
    load: pd.DataFrame
    params: dict

    @property
    def frame(self) -> pd.DataFrame:
        """The per-call table."""
        return self.calls

    def summary(self) -> pd.DataFrame:
        """Per variant: ``calls``, each outcome's count, ``success_share``, ``knockovers``
        (times the dependency was knocked over while recovering), ``recovered_at_s`` (when it
        was finally up; NaN if never within the run), ``openings`` (transitions to OPEN),
        ``half_opens``, ``max_half_open_admitted`` (most calls one HALF_OPEN let through),
        ``closed_at_s`` (when the breaker closed for good after the outage; NaN if it did not).

        >>> s = half_open_probing(seed=0).summary()
        >>> s["knockovers"].tolist(), s["recovered_at_s"].notna().tolist()
        ([3, 0], [False, True])
        """
        rows = []
        for variant, calls in self.calls.groupby("variant", sort=False):
            row: dict[str, Any] = {"variant": variant, **_outcome_counts(calls)}
            health = self.health[self.health["variant"] == variant]
            row["knockovers"] = int((health["label"] == "down (knocked over)").sum())
            up = health[(health["state"] == "up") & (health["start"] > 0)]
            row["recovered_at_s"] = float(up["start"].iloc[0]) if len(up) else math.nan
            tr = self.transitions[self.transitions["variant"] == variant]
            row["openings"] = int((tr["state"] == "OPEN").sum())
            row["half_opens"] = int((tr["state"] == "HALF_OPEN").sum())
            half = calls[(calls["state"] == "HALF_OPEN") & (calls["outcome"] != "rejected")]
            bands = self.states[
                (self.states["variant"] == variant) & (self.states["state"] == "HALF_OPEN")
            ]
            most = 0
            for start, end in zip(bands["start"], bands["end"]):
                most = max(most, int(((half["start"] >= start) & (half["start"] <= end)).sum()))
            row["max_half_open_admitted"] = most
            last = self.states[self.states["variant"] == variant].iloc[-1]
            closed = last["state"] == "CLOSED" and last["start"] > self.params["outage_at_s"]
            row["closed_at_s"] = float(last["start"]) if closed else math.nan
            rows.append(row)
        return pd.DataFrame(rows).set_index("variant")


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
    call_timeout_s: float = 3.0,
    duration_s: float = 240.0,
    bin_s: float = 1.0,
    seed: int = 0,
) -> HalfOpenProbingResult:
    """Unlimited half-open probing (the course's breaker) against a few probes, on a dependency
    that is knocked over again if it is hammered while it recovers.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds, each with
    ``call_timeout_s``, through one breaker per variant (``breakers``: preset names, or a dict
    label -> settings for :func:`make_breaker`). The dependency (service time
    Normal(``service_time_s``, ``service_time_s``/10)) goes down at ``outage_at_s`` for
    ``down_s`` seconds, then recovers: ``recovering_capacity`` request(s) at once, each
    ``recovering_factor`` times slower, until it has gone ``recover_s`` seconds without being
    knocked over. If more than ``overload`` requests are waiting or in service while it
    recovers, it falls over again: down for ``restart_s``, and its recovery starts again.

    The course's breaker waits 60 s, then lets every caller through: the dependency is
    knocked over each time, the breaker keeps reopening and the dependency never recovers
    within the run. The recommended breaker sends 3 probes at a time (they fail: too slow), so
    the dependency recovers in peace, and the next probes find it up and close the breaker.
    ``{"recommended": "recommended", "many probes": {"permitted_calls_in_half_open": 20}}``
    shows that it is the limit on probes that matters.

    >>> s = half_open_probing(seed=1).summary()
    >>> s["max_half_open_admitted"].to_dict()["recommended"]
    3
    """
    variants = _variants(breakers, "breakers")
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, 200.0, min_inclusive=False)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    outage_at_s = check_number("outage_at_s", outage_at_s, 0.0, duration_s, min_inclusive=False)
    down_s = check_number("down_s", down_s, 0.0, min_inclusive=False)
    recover_s = check_number("recover_s", recover_s, 0.0, min_inclusive=False)
    recovering_capacity = check_int("recovering_capacity", recovering_capacity, 1, 1000)
    recovering_factor = check_number("recovering_factor", recovering_factor, 1.0)
    overload = check_int("overload", overload, 0, 100_000)
    restart_s = check_number("restart_s", restart_s, 0.0, min_inclusive=False)
    service_time_s = check_number("service_time_s", service_time_s, 0.0, min_inclusive=False)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    if rate_per_s * duration_s > 20_000:
        raise ValueError(
            f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g} makes "
            f"{rate_per_s * duration_s:,.0f} calls per variant; at most 20,000 are simulated"
        )

    calls_frames, loads, trans_frames, state_frames, health_frames = [], [], [], [], []
    for label, spec in variants:
        world = World(seed=seed, log_messages=False)
        env = world.env
        cb = make_breaker(spec, clock=sim_clock(world), name=label)
        log = _transition_log(cb)
        net = Network(world, latency=Normal(0.005, 0.001))
        net.add_node("caller")
        health = _FragileHealth(
            outage_at_s,
            down_s,
            recover_s,
            recovering_capacity,
            recovering_factor,
            overload,
            restart_s,
        )
        svc = Service(
            net,
            _DEPENDENCY,
            service_time=Normal(service_time_s, service_time_s / 10),
            health=health,
        )
        health.service = svc
        rows: list[tuple] = []
        sent: list[float] = []
        starts = _arrivals(world.rng, rate_per_s, duration_s)

        def one_call(cb=cb, net=net, rows=rows, sent=sent, label=label):
            r = yield from _breaker_call(
                net, "caller", _DEPENDENCY, None, call_timeout_s, cb, None, "inside", None
            )
            if r.outcome != "rejected":
                sent.append(r.started)
            rows.append(
                (label, r.started, r.ended, r.latency, _OUTCOMES[r.outcome], r.breaker_state)
            )

        def source(starts=starts, env=env, one_call=one_call):
            for t in starts.tolist():
                if t > env.now:
                    yield env.timeout(t - env.now)
                env.process(one_call())

        queue: list[int] = []

        def monitor(svc=svc, queue=queue, env=env):
            while env.now < duration_s:
                queue.append(svc.queued)
                yield env.timeout(bin_s)

        env.process(source())
        env.process(monitor())
        world.run()
        calls = pd.DataFrame(
            rows, columns=["variant", "start", "end", "latency_s", "outcome", "state"]
        )
        calls = calls.sort_values("start", kind="stable").reset_index(drop=True)
        until = max(duration_s, float(calls["end"].max()))
        calls_frames.append(calls)
        loads.append(_load_frame("variant", label, np.asarray(sent), calls, queue, bin_s, until))
        trans = _transitions_frame(log)
        bands = _state_bands(trans, until)
        hb = health.bands(until, include_up=True)
        for frame in (trans, bands, hb):
            frame.insert(0, "variant", label)
        trans_frames.append(trans)
        state_frames.append(bands)
        health_frames.append(hb)
    params = {
        "rate_per_s": rate_per_s,
        "outage_at_s": outage_at_s,
        "down_s": down_s,
        "recover_s": recover_s,
        "recovering_capacity": recovering_capacity,
        "recovering_factor": recovering_factor,
        "overload": overload,
        "restart_s": restart_s,
        "duration_s": duration_s,
        "call_timeout_s": call_timeout_s,
    }
    return HalfOpenProbingResult(
        calls=pd.concat(calls_frames, ignore_index=True),
        transitions=pd.concat(trans_frames, ignore_index=True),
        states=pd.concat(state_frames, ignore_index=True),
        health=pd.concat(health_frames, ignore_index=True),
        load=pd.concat(loads, ignore_index=True),
        params=params,
    )


# -- breaker and retry ------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakerAndRetryResult:
    """What :func:`breaker_and_retry` returns.

    Attributes:
        calls: one row per caller call: ``variant`` ("no retry", "retry inside", "retry
            outside"), ``call``, ``start``, ``end``, ``latency_s`` (what the caller waited, all
            attempts and backoff included), ``outcome`` (``success``, ``error``, ``timeout``,
            ``rejected``: the caller's final answer), ``attempts`` (attempts the retry policy
            made, rejected ones included), ``state`` (breaker state at the last admission or
            rejection).
        attempts: one row per request that reached the dependency: ``variant, call,
            attempt, start, end, outcome`` (``success``, ``error``, ``timeout``).
        load: per variant and bin: ``variant, time, sent_per_s`` (requests reaching the
            dependency), ``success_per_s``, ``error_per_s``, ``timeout_per_s``,
            ``rejected_per_s`` (caller calls by final outcome), ``queue`` (always 0 here).
        transitions: ``variant, time, from_state, state, failure_rate, slow_call_rate``.
        states: ``variant, start, end, state, label``.
        health: the dependency's health bands (``start, end, state, label``).
        params: ``failure_at_s``, ``failure_end_s``, ``rate_per_s``, ``attempts``,
            ``duration_s``.
    """

    calls: pd.DataFrame
    attempts: pd.DataFrame
    load: pd.DataFrame
    transitions: pd.DataFrame
    states: pd.DataFrame
    health: pd.DataFrame
    params: dict

    @property
    def frame(self) -> pd.DataFrame:
        """The per-call table."""
        return self.calls

    def summary(self) -> pd.DataFrame:
        """Per variant: ``calls``, each final outcome's count, ``success_share``, ``sent``
        (requests that reached the dependency), ``sent_during_failure`` (of which while it was
        failing), ``sent_per_call``, ``time_to_open_s`` (from the start of the failure to the
        first opening), ``sent_before_open`` (requests sent between the failure's start and
        that opening), latency figures (``mean_latency_s``, ``p95_latency_s``,
        ``mean_failed_latency_s``, ``time_waiting_on_failures_s``), ``openings``.

        >>> s = breaker_and_retry(seed=0).summary()
        >>> bool(s.loc["retry inside", "time_to_open_s"] < s.loc["retry outside", "time_to_open_s"])
        True
        """
        p = self.params
        rows = []
        for variant, calls in self.calls.groupby("variant", sort=False):
            att = self.attempts[self.attempts["variant"] == variant]
            tr = self.transitions[self.transitions["variant"] == variant]
            row: dict[str, Any] = {"variant": variant, **_outcome_counts(calls)}
            row["sent"] = len(att)
            failing = (att["start"] >= p["failure_at_s"]) & (att["start"] < p["failure_end_s"])
            row["sent_during_failure"] = int(failing.sum())
            row["sent_per_call"] = len(att) / len(calls) if len(calls) else math.nan
            opened = _first_open(tr, p["failure_at_s"])
            row["time_to_open_s"] = opened - p["failure_at_s"]
            row["sent_before_open"] = int(
                ((att["start"] >= p["failure_at_s"]) & (att["start"] < opened)).sum()
            )
            row.update(_latency_stats(calls))
            row["openings"] = int((tr["state"] == "OPEN").sum())
            rows.append(row)
        return pd.DataFrame(rows).set_index("variant")


def breaker_and_retry(
    variants: Iterable[str] = RETRY_VARIANTS,
    *,
    breaker: str | Mapping[str, Any] = "recommended",
    attempts: int = 3,
    base_s: float = 0.2,
    cap_s: float = 2.0,
    rate_per_s: float = 10.0,
    flaky: float = 0.1,
    failure_at_s: float = 5.0,
    failure_s: float = 10.0,
    call_timeout_s: float = 1.0,
    duration_s: float = 30.0,
    bin_s: float = 0.5,
    seed: int = 0,
) -> BreakerAndRetryResult:
    """Retries inside versus outside the breaker, on a dependency that is down for a while.

    Calls arrive at ``rate_per_s`` (Poisson, open loop) for ``duration_s`` seconds. The
    dependency answers in Exponential(0.02) s and fails a share ``flaky`` of its requests at
    random (transient errors: what retries are for); from ``failure_at_s`` for ``failure_s``
    seconds it is down (errors at once). The caller has a breaker (``breaker``, see
    :func:`make_breaker`) and, except in ``"no retry"``, a
    ``RetryPolicy(attempts, ExponentialBackoff(base_s, cap_s, jitter="full"),
    retry_on=CallFailed)``: failed and timed-out requests are retried, a rejection is not.

    - ``"retry inside"``: every attempt passes through the breaker (resilience4j's
      ``Retry(CircuitBreaker(call))``): the breaker sees every failed attempt and opens after
      a few calls; then the first attempt is rejected and the call fails fast.
    - ``"retry outside"``: the whole retried call passes through the breaker once
      (``CircuitBreaker(Retry(call))``): the breaker sees one failure per ``attempts`` requests,
      opens later, and each half-open probe is a retried call that sends up to ``attempts``
      requests; callers wait for all the attempts and backoffs before hearing of a failure.

    >>> s = breaker_and_retry(seed=0).summary()
    >>> bool(s.loc["retry inside", "sent_during_failure"]
    ...      < s.loc["retry outside", "sent_during_failure"])
    True
    """
    if isinstance(variants, str):
        variants = (variants,)
    names = tuple(variants)
    if not names:
        raise ValueError(f"variants=() is empty: give at least one of {RETRY_VARIANTS}")
    for name in names:
        check_choice("variants item", name, RETRY_VARIANTS)
    if len(set(names)) != len(names):
        raise ValueError(f"variants={names!r} names a variant twice")
    make_breaker(breaker)
    attempts = check_int("attempts", attempts, 1, 20)
    base_s = check_number("base_s", base_s, 0.0)
    cap_s = check_number("cap_s", cap_s, base_s)
    rate_per_s = check_number("rate_per_s", rate_per_s, 0.0, 500.0, min_inclusive=False)
    flaky = check_probability("flaky", flaky)
    duration_s = check_number("duration_s", duration_s, 0.0, 3600.0, min_inclusive=False)
    failure_at_s = check_number("failure_at_s", failure_at_s, 0.0, duration_s)
    failure_s = check_number("failure_s", failure_s, 0.0, min_inclusive=False)
    call_timeout_s = check_number("call_timeout_s", call_timeout_s, 0.0, min_inclusive=False)
    bin_s = check_number("bin_s", bin_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)
    if rate_per_s * duration_s > 50_000:
        raise ValueError(
            f"rate_per_s={rate_per_s:g} for duration_s={duration_s:g} makes "
            f"{rate_per_s * duration_s:,.0f} calls per variant; at most 50,000 are simulated"
        )
    failure_end_s = failure_at_s + failure_s
    normal = Flaky(flaky) if flaky > 0 else Up()
    changes = [(0.0, normal)] if failure_at_s > 0 else []
    health = HealthSchedule(changes + [(failure_at_s, Down()), (failure_end_s, normal)])
    backoff = ExponentialBackoff(base_s, cap_s, jitter="full")

    calls_frames, att_frames, loads, trans_frames, state_frames = [], [], [], [], []
    for variant in names:
        world = World(seed=seed, log_messages=False)
        env = world.env
        cb = make_breaker(breaker, clock=sim_clock(world), name=variant)
        log = _transition_log(cb)
        net = Network(world, latency=Normal(0.005, 0.001))
        net.add_node("caller")
        Service(net, _DEPENDENCY, service_time=Exponential(0.02), health=health)
        policy = (
            None if variant == "no retry" else RetryPolicy(attempts, backoff, retry_on=CallFailed)
        )
        placement = "outside" if variant == "retry outside" else "inside"
        rows: list[tuple] = []
        att_rows: list[tuple] = []
        starts = _arrivals(world.rng, rate_per_s, duration_s)

        def one_call(
            i,
            cb=cb,
            net=net,
            rows=rows,
            att_rows=att_rows,
            policy=policy,
            placement=placement,
            variant=variant,
        ):
            def on_attempt(n, result, decision):
                if result.outcome != "rejected":
                    att_rows.append(
                        (variant, i, n, result.started, result.ended, _OUTCOMES[result.outcome])
                    )

            r = yield from _breaker_call(
                net, "caller", _DEPENDENCY, i, call_timeout_s, cb, policy, placement, on_attempt
            )
            rows.append(
                (
                    variant,
                    i,
                    r.started,
                    r.ended,
                    r.latency,
                    _OUTCOMES[r.outcome],
                    r.attempts,
                    r.breaker_state,
                )
            )

        def source(starts=starts, env=env, one_call=one_call):
            for i, t in enumerate(starts.tolist()):
                if t > env.now:
                    yield env.timeout(t - env.now)
                env.process(one_call(i))

        env.process(source())
        world.run()
        calls = pd.DataFrame(
            rows,
            columns=[
                "variant",
                "call",
                "start",
                "end",
                "latency_s",
                "outcome",
                "attempts",
                "state",
            ],
        )
        calls = calls.sort_values("call", kind="stable").reset_index(drop=True)
        att = pd.DataFrame(
            att_rows, columns=["variant", "call", "attempt", "start", "end", "outcome"]
        )
        att = att.sort_values(["call", "attempt"], kind="stable").reset_index(drop=True)
        until = max(duration_s, float(calls["end"].max()))
        calls_frames.append(calls)
        att_frames.append(att)
        loads.append(
            _load_frame("variant", variant, att["start"].to_numpy(), calls, [], bin_s, until)
        )
        trans = _transitions_frame(log)
        bands = _state_bands(trans, until)
        trans.insert(0, "variant", variant)
        bands.insert(0, "variant", variant)
        trans_frames.append(trans)
        state_frames.append(bands)
    calls = pd.concat(calls_frames, ignore_index=True)
    until = max(duration_s, float(calls["end"].max()))
    params = {
        "failure_at_s": failure_at_s,
        "failure_end_s": failure_end_s,
        "rate_per_s": rate_per_s,
        "attempts": attempts,
        "duration_s": duration_s,
    }
    return BreakerAndRetryResult(
        calls=calls,
        attempts=pd.concat(att_frames, ignore_index=True),
        load=pd.concat(loads, ignore_index=True),
        transitions=pd.concat(trans_frames, ignore_index=True),
        states=pd.concat(state_frames, ignore_index=True),
        health=health.bands(until, include_up=True).reset_index(drop=True),
        params=params,
    )
