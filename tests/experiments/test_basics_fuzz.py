"""Fuzz the basics vertical's public callables with extreme and wrong-typed arguments.

Each call either succeeds with finite results, or raises ValueError/TypeError whose message names
the parameter that was given the odd value. Never an OverflowError, a hang, inf in a result, or
a message about a parameter the caller did not pass.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odd_values import ODD_VALUES, assert_finite, assert_names, fuzz_experiments, odd_value_run

from distlab import plots
from distlab.experiments import challenges, sweep
from distlab.experiments.network import latency_distribution, message_exchange

# An overflow that numpy only warns about is a bug here too (inf where a number should be).
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# Each experiment with small defaults, so a call that succeeds stays fast.
EXPERIMENTS = {
    "message_exchange": (
        message_exchange,
        {"nodes": 3, "messages": 20},
        [
            "nodes",
            "messages",
            "interval_s",
            "mean_latency_s",
            "loss",
            "partition_at_s",
            "partition_for_s",
            "latency",
            "partition",
            "seed",
        ],
    ),
    "partial_failures": (
        challenges.partial_failures,
        {"duration_s": 2.0},
        [
            "d_state",
            "timeout_s",
            "workers",
            "rate_per_s",
            "duration_s",
            "service_time_s",
            "slow_factor",
            "latency_s",
            "seed",
        ],
    ),
    "timeout_ambiguity": (
        challenges.timeout_ambiguity,
        {"requests": 10},
        ["requests", "timeout_s", "mean_service_s", "interval_s", "latency_s", "loss", "seed"],
    ),
    "write_race": (
        challenges.write_race,
        {"trials": 20},
        ["trials", "gap_s", "mean_latency_s", "seed"],
    ),
    "clock_order": (
        challenges.clock_order,
        {"events": 50},
        ["events", "skew_s", "mean_gap_s", "seed"],
    ),
}


@fuzz_experiments(EXPERIMENTS, max_examples=300)
def test_experiments_refuse_odd_values_by_name_or_give_finite_results(experiment, data, value):
    result = odd_value_run(EXPERIMENTS, experiment, data, value)
    if result is not None:
        assert type(result.params["seed"]) is int  # a plain value, not a numpy scalar


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["shape", "mean_s"]), value=st.sampled_from(ODD_VALUES))
def test_latency_distribution_refuses_odd_values_by_name(name, value):
    args = {"shape": "uniform", "mean_s": 0.1, name: value}
    try:
        dist = latency_distribution(**args)
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert math.isfinite(dist.mean)


@pytest.fixture(scope="module")
def results():
    return {
        "exchange": message_exchange(nodes=3, messages=20, loss=0.2, seed=1),
        "partial": challenges.partial_failures(duration_s=2.0, seed=1),
        "ambiguity": challenges.timeout_ambiguity(requests=10, seed=1),
        "race": challenges.write_race(trials=20, seed=1),
        "clocks": challenges.clock_order(events=50, seed=1),
    }


FIGURES = {
    "exchange_figure": ("exchange", plots.exchange_figure, ["title", "max_messages"]),
    "partial_failure_figure": ("partial", plots.partial_failure_figure, ["title", "timeout_s"]),
    "ambiguity_figure": ("ambiguity", plots.ambiguity_figure, ["title"]),
    "write_race_figure": ("race", plots.write_race_figure, ["title"]),
    "clock_order_figure": ("clocks", plots.clock_order_figure, ["title", "show"]),
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(figure=st.sampled_from(sorted(FIGURES)), data=st.data(), value=st.sampled_from(ODD_VALUES))
def test_figures_refuse_odd_values_by_name(results, figure, data, value):
    key, function, names = FIGURES[figure]
    name = data.draw(st.sampled_from(names), label="parameter")
    try:
        fig = function(results[key], **{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert fig.axes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.sampled_from(ODD_VALUES))
def test_figures_refuse_what_is_not_their_result(value):
    for function in (plots.exchange_figure, plots.ambiguity_figure, plots.clock_order_figure):
        with pytest.raises(TypeError, match="result="):
            function(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["max_messages", "title", "nodes"]),
    value=st.sampled_from(ODD_VALUES),
)
def test_message_sequence_refuses_odd_values_by_name(name, value):
    events = message_exchange(nodes=3, messages=10, seed=0).events
    try:
        fig = plots.message_sequence(events, **{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert fig.axes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["grid", "seeds", "table", "experiment"]),
    value=st.sampled_from(ODD_VALUES),
)
def test_sweep_refuses_odd_values_by_name(name, value):
    args = {
        "experiment": challenges.clock_order,
        "grid": {"skew_s": [0.0]},
        "seeds": [0],
        "table": "frame",
        name: value,
    }
    try:
        table = sweep(**args, events=10)
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert_finite(table, f"sweep({name}={value!r})")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    figure=st.sampled_from(["call_timeline", "latency_distribution"]),
    data=st.data(),
    value=st.sampled_from(ODD_VALUES),
)
def test_call_figures_refuse_odd_values_by_name(figure, data, value):
    calls = challenges.partial_failures(duration_s=1.0, seed=0).frame
    if figure == "call_timeline":
        function, names = plots.call_timeline, ["title", "lane", "lanes", "figsize"]
    else:
        function = plots.latency_distribution
        names = ["title", "by", "timeout_s", "bins", "figsize"]
    name = data.draw(st.sampled_from(names), label="parameter")
    try:
        fig = function(calls, **{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert fig.axes
