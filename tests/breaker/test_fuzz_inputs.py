"""Fuzzing the breaker vertical's public callables with extreme floats, huge ints, NaN and wrong
types: each call succeeds with finite results, or raises ValueError / TypeError naming one of
its parameters. Nothing hangs, nothing allocates gigabytes, no OverflowError escapes."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab import exercises
from distlab.breaker import BreakerConfig, CircuitBreaker, exponential_wait
from distlab.experiments import Result, breakers
from distlab.sim import FragileRecovery, Network, Service, World, breaker_call

NASTY = [
    0, 0.0, -0.0, -1, 1, 2.5, 1e-300, 5e-324, 1e300, -1e300, math.inf, -math.inf, math.nan,
    10**12, -(10**12), 10**30, True, "x", None, [1],
]  # fmt: skip
VALUES = st.one_of(st.sampled_from(NASTY), st.floats(allow_nan=True), st.integers(-(10**20)))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _names(fn) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p not in ("self", "args", "kwargs")]


def _call(fn, kwargs: dict, names: list[str]):
    """Call ``fn(**kwargs)``: a result, or None after a ValueError/TypeError naming a
    parameter."""
    try:
        return fn(**kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(name in message for name in names), f"{fn.__name__}: {message!r}"
        return None


def _finite(result) -> None:
    frames = []
    if isinstance(result, Result):
        frames = [result.frame, result.summary] + [
            v for v in result.__dict__.values() if isinstance(v, pd.DataFrame)
        ]
    for frame in frames:
        numbers = frame.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any(), "an infinite number in a result table"


# -- the core -------------------------------------------------------------------------------------

CONFIG_NAMES = _names(BreakerConfig)


@FAST
@given(name=st.sampled_from(CONFIG_NAMES + ["max_events", "name"]), value=VALUES)
def test_circuit_breaker_settings(name, value):
    breaker = _call(CircuitBreaker, {name: value}, [name])
    if breaker is not None:
        assert breaker.try_acquire(0.0) in (True, False)
        breaker.on_error(0.5, 0.5)
        breaker.metrics(1e6)


@FAST
@given(window_type=st.sampled_from(["count", "time"]), size=st.sampled_from([1, 10**9, 10**18]))
def test_huge_windows_cost_only_what_they_hold(window_type, size):
    breaker = CircuitBreaker(window_type=window_type, window_size=size, minimum_calls=2)
    for now in (0.0, 1e9, 1e18, 1e300):
        assert breaker.try_acquire(now)
        breaker.on_error(now, 0.1)
    assert breaker.metrics(1e300).window_calls >= 0


@FAST
@given(
    method=st.sampled_from(["try_acquire", "state_at", "metrics", "on_success", "on_error"]),
    now=VALUES,
    duration=st.sampled_from([0.0, 0.1, 1e300]),
    window_type=st.sampled_from(["count", "time"]),
)
def test_told_the_time_methods(method, now, duration, window_type):
    breaker = CircuitBreaker(window_type=window_type, minimum_calls=1, window_size=3)
    fn = getattr(breaker, method)
    args = (now, duration) if method.startswith("on_") else (now,)
    try:
        fn(*args)
    except (ValueError, TypeError) as exc:
        assert "now=" in str(exc)


@FAST
@given(name=st.sampled_from(["initial", "multiplier", "maximum"]), value=VALUES, n=VALUES)
def test_exponential_wait(name, value, n):
    wait = _call(exponential_wait, {name: value}, [name])
    if wait is not None and isinstance(n, int) and not isinstance(n, bool):
        seconds = wait(n)
        assert math.isfinite(seconds) and seconds >= 0


# -- the simulated world --------------------------------------------------------------------------


@FAST
@given(name=st.sampled_from(_names(FragileRecovery)), value=VALUES)
def test_fragile_recovery(name, value):
    kwargs = {"outage_at_s": 10.0, "down_s": 5.0, "recover_s": 20.0, name: value}
    health = _call(FragileRecovery, kwargs, [name])
    if health is not None:
        health.bands(100.0)


@FAST
@given(name=st.sampled_from(["request", "timeout_s", "retry", "nesting"]), value=VALUES)
def test_breaker_call(name, value):
    world = World(seed=0)
    net = Network(world, latency=0.01)
    net.add_node("c")
    Service(net, "s", service_time=0.01)
    kwargs = {"timeout_s": 1.0, "breaker": CircuitBreaker(), name: value}
    process = _call(lambda **k: breaker_call(net, "c", "s", **k), kwargs, [name])
    if process is not None:
        world.run()
        assert process.value.outcome in ("ok", "error", "timeout", "rejected")


# -- experiments and exercises --------------------------------------------------------------------

SMALL = {
    breakers.transitions: {"duration_s": 20.0, "rate_per_s": 2.0},
    breakers.with_and_without: {"duration_s": 10.0, "stall_at_s": 2.0, "stall_s": 3.0},
    breakers.half_open_probing: {
        "duration_s": 30.0, "outage_at_s": 5.0, "down_s": 5.0, "recover_s": 10.0,
    },
    breakers.breaker_and_retry: {"duration_s": 10.0, "failure_at_s": 2.0, "failure_s": 3.0},
}  # fmt: skip
CASES = [(fn, name) for fn in SMALL for name in _names(fn) if name != "seed"] + [
    (fn, "seed") for fn in SMALL
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), value=st.sampled_from(NASTY))
def test_experiments(case, value):
    fn, name = case
    result = _call(fn, {**SMALL[fn], name: value}, _names(fn))
    if result is not None:
        _finite(result)


@FAST
@given(
    name=st.sampled_from(["breaker", "name"]),
    value=st.one_of(VALUES, st.dictionaries(st.sampled_from(["window_size", "x"]), VALUES)),
)
def test_make_breaker_and_schedules(name, value):
    _call(breakers.make_breaker, {name: value}, [name, "breaker setting"] + CONFIG_NAMES)
    _call(breakers.outage_schedule, {"recovering_capacity": value}, ["recovering_capacity"])


EXERCISES = {
    exercises.check_failures_to_open: {
        "successes_first": 6, "window_size": 20, "minimum_calls": 10, "threshold": 50,
        "answer": 6,
    },
    exercises.check_growing_wait: {
        "initial": 10, "multiplier": 2, "maximum": 60, "openings": 4, "answer": 60,
    },
    exercises.check_half_open_rule: {"function": None},
}  # fmt: skip


@FAST
@given(
    case=st.sampled_from([(fn, name) for fn, kw in EXERCISES.items() for name in kw]),
    value=st.sampled_from(NASTY),
)
def test_exercise_checks(case, value):
    fn, name = case
    check = _call(fn, {**EXERCISES[fn], name: value}, [name])
    if check is not None:
        assert check.passed in (True, False, None)


@pytest.mark.parametrize("name", ["slow_call_rate_threshold", "slow_call_duration_s",
                                  "permitted_calls_in_half_open", "wait_in_open_s"])  # fmt: skip
@pytest.mark.parametrize("value", [-1, math.nan, math.inf, 10**12, "x"])
def test_check_breaker_settings_refuses_bad_values_before_running(name, value):
    kwargs = {
        "slow_call_rate_threshold": 80, "slow_call_duration_s": 2.0,
        "permitted_calls_in_half_open": 3, "wait_in_open_s": 5.0, name: value,
    }  # fmt: skip
    with pytest.raises((ValueError, TypeError), match=name):
        exercises.check_breaker_settings(**kwargs)
