"""Every public callable of the retry vertical, fed extreme and wrong inputs: each call either
succeeds with finite results or raises ValueError/TypeError whose message names a parameter.
Never a hang, an OverflowError, a MemoryError or a numpy warning turned error.

One parameter at a time is replaced in a small, fast base call, so a success stays cheap."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab import exercises
from distlab.experiments import contention as cont
from distlab.experiments import idempotency, retries
from distlab.retry import ConstantBackoff, ExponentialBackoff, RetryBudget, RetryPolicy
from distlab.sim import Network, Service, World, retry_call

EXTREMES = [
    1e308, -1e308, 5e-324, -5e-324, float("nan"), float("inf"), float("-inf"), -0.0, 0, 1, -1,
    10**20, -(10**20), 2**63, "x", None, True, [], (), 1.5,
]  # fmt: skip


def _small(**kw):
    return kw


# callable -> (base keyword arguments, parameters to fuzz)
CASES = {
    "timeline": (
        retries.timeline,
        _small(clients=2, duration_s=3.0, outage_s=1.0),
        ["strategy", "clients", "max_attempts", "base_s", "cap_s", "outage_s", "budget",
         "timeout_s", "think_s", "duration_s", "service_time_s", "latency_s", "bin_s", "seed"],
    ),
    "storm": (
        retries.storm,
        _small(strategies=("full",), clients=3, max_attempts=3, outage_s=1.0),
        ["strategies", "clients", "max_attempts", "base_s", "cap_s", "outage_s",
         "capacity_per_s", "concurrency", "queue_limit", "timeout_s", "latency_s", "bin_s",
         "seed"],
    ),
    "amplification": (
        retries.amplification,
        _small(layers=2, max_attempts=2),
        ["mode", "layers", "max_attempts", "strategy", "base_s", "max_tokens", "token_ratio",
         "latency_s", "seed"],
    ),
    "budget_effect": (
        retries.budget_effect,
        _small(variants=("budget",), rate_per_s=5.0, duration_s=3.0, failure_at_s=1.0,
               failure_s=1.0),
        ["variants", "rate_per_s", "capacity_per_s", "concurrency", "queue_limit",
         "max_attempts", "strategy", "base_s", "cap_s", "failure_at_s", "failure_s",
         "slow_factor", "timeout_s", "duration_s", "max_tokens", "token_ratio", "bin_s", "seed"],
    ),
    "backoff_samples": (
        retries.backoff_samples,
        _small(strategies=("full",), retries=3, samples=3),
        ["strategies", "base_s", "cap_s", "retries", "samples", "seed"],
    ),
    "backoff_for": (retries.backoff_for, _small(strategy="full"), ["strategy", "base_s", "cap_s"]),
    "contention": (
        cont.contention,
        _small(strategy="full", clients=5),
        ["strategy", "clients", "base_s", "cap_s", "decorrelated_base_s", "latency_mean_s",
         "latency_sd_s", "seed"],
    ),
    "contention_runs": (
        cont.contention_runs,
        _small(strategies=("full",), clients=5),
        ["strategies", "clients", "seed", "base_s", "cap_s", "latency_sd_s"],
    ),
    "contention_sweep": (
        cont.contention_sweep,
        _small(clients=[5], strategies=["full"], seeds=[0]),
        ["clients", "strategies", "seeds", "base_s", "latency_mean_s"],
    ),
    "retried_payments": (
        idempotency.retried_payments,
        _small(payments=5),
        ["variants", "payments", "max_attempts", "timeout_s", "delay_s", "service_time_s",
         "loss", "latency_s", "seed"],
    ),
    "RetryPolicy": (
        RetryPolicy,
        {},
        ["max_attempts", "deadline", "retry_on", "retry_on_result", "budget", "rng", "sleep",
         "clock", "async_sleep", "name", "max_events"],
    ),
    "ExponentialBackoff": (ExponentialBackoff, {}, ["base", "cap", "jitter"]),
    "ConstantBackoff": (ConstantBackoff, {}, ["delay"]),
    "RetryBudget": (RetryBudget, {}, ["max_tokens", "token_ratio"]),
    "check_amplification": (
        exercises.check_amplification,
        _small(max_attempts=3, layers=5, answer=243),
        ["max_attempts", "layers", "answer"],
    ),
    "check_budget_pattern": (
        exercises.check_budget_pattern,
        _small(max_tokens=10, token_ratio=0.8, pattern="ffs", answer=8),
        ["max_tokens", "token_ratio", "pattern", "answer"],
    ),
    "check_full_jitter": (exercises.check_full_jitter, {"function": None}, ["function"]),
}  # fmt: skip


def _names(fn) -> set[str]:
    target = fn.__init__ if inspect.isclass(fn) else fn
    return set(inspect.signature(target).parameters) - {"self"}


def _finite(value) -> None:
    """Every number in what came back is finite (NaN allowed: 'never happened')."""
    tables = []
    if isinstance(value, pd.DataFrame):
        tables.append(value)
    for name in ("frame", "summary", "load"):
        if isinstance(getattr(value, name, None), pd.DataFrame):
            tables.append(getattr(value, name))
    for table in tables:
        numbers = table.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any(), f"infinite numbers in {table.head()}"
    if isinstance(value, float):
        assert not math.isinf(value)


def _call_one(name: str, param: str, value) -> None:
    fn, base, _ = CASES[name]
    kwargs = {**base, param: value}
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = fn(**kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        known = _names(fn) | set(CASES[name][2])
        assert any(p in message for p in known), f"{name}({param}={value!r}): {message!r}"
        return
    _finite(out)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_extreme_value_of_every_parameter(name):
    for param in CASES[name][2]:
        for value in EXTREMES:
            _call_one(name, param, value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.sampled_from(sorted(CASES)),
    data=st.data(),
)
def test_random_values_from_hypothesis(case, data):
    param = data.draw(st.sampled_from(CASES[case][2]))
    value = data.draw(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(2**70), 2**70),
            st.text(max_size=3),
            st.none(),
            st.booleans(),
        )
    )
    _call_one(case, param, value)


def test_the_simulated_driver_refuses_bad_input_by_name():
    world = World()
    net = Network(world, latency=0.01)
    net.add_node("c")
    Service(net, "s")
    for kwargs in (
        {"timeout_s": float("nan")},
        {"timeout_s": -0.0},
        {"timeout_s": "1"},
        {"retry": 3},
    ):
        with pytest.raises((ValueError, TypeError)) as info:
            retry_call(net, "c", "s", **kwargs)
        assert next(iter(kwargs)) in str(info.value)
    retry_call(net, "c", "s", timeout_s=float("inf"), retry=RetryPolicy())  # wait forever: fine


def test_a_backoff_never_overflows_at_any_retry_number():
    for jitter in (None, "full", "equal", "decorrelated"):
        backoff = ExponentialBackoff(base=1e308, cap=None, jitter=jitter)
        rng = np.random.default_rng(0)
        for n in (1, 2, 1100, 10**6):
            delay = backoff.delay(n, None, rng)
            assert delay >= 0 and not math.isnan(delay)
