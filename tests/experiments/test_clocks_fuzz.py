"""Fuzz the time-and-order vertical's public callables with extreme and wrong-typed arguments.

Each call either succeeds with finite results, or raises ValueError/TypeError whose message names
the parameter that was given the odd value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odd_values import ODD_VALUES, assert_names, fuzz_experiments, odd_value_run

from distlab.experiments import clocks as ex
from distlab.sim.clocks import NodeClock

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# Each experiment with small settings, so a call that succeeds stays fast.
EXPERIMENTS = {
    "lamport_concurrency": (
        ex.lamport_concurrency,
        {"duration_s": 0.5},
        ["nodes", "rate_per_s", "duration_s", "offset_spread_s", "latency_s", "seed"],
    ),
    "lww_skew": (
        ex.lww_skew,
        {"skews_s": [0.01], "gaps_s": [0.0, 0.01], "pairs": 20, "duration_s": 5.0},
        [
            "skews_s",
            "gaps_s",
            "pairs",
            "drift",
            "sync_interval_s",
            "sync_error_s",
            "correction",
            "duration_s",
            "warmup_s",
            "seed",
        ],
    ),  # fmt: skip
    "lww_daemon_died": (
        ex.lww_daemon_died,
        {"duration_s": 5.0, "died_at_s": 1.0, "writes_per_s": 5.0},
        [
            "nodes",
            "writes_per_s",
            "died_at_s",
            "victim_drift",
            "drift",
            "sync_interval_s",
            "sync_error_s",
            "latency_s",
            "seed",
        ],
    ),  # fmt: skip
    "hlc_drift": (
        ex.hlc_drift,
        {"duration_s": 0.05, "messages_per_s": 100.0},
        ["nodes", "offset_spread_s", "latency_s", "tick_s", "seed"],
    ),
    "hlc_bounds": (ex.hlc_bounds, {"runs": 1, "duration_s": 0.05}, ["runs", "tick_s", "seed"]),
    "commit_wait": (
        ex.commit_wait,
        {"uncertainties_s": [0.001], "transactions": 5, "clients": 2},
        ["uncertainties_s", "nodes", "work_s", "think_s", "seed"],
    ),
    "pruned_clocks": (
        ex.pruned_clocks,
        {"writers": [3, 12], "versions": 12, "chains": 1},
        ["writers", "max_entries", "versions", "chains", "seed"],
    ),
}


@fuzz_experiments(EXPERIMENTS, max_examples=250)
def test_experiments_refuse_odd_values_by_name_or_give_finite_results(experiment, data, value):
    odd_value_run(EXPERIMENTS, experiment, data, value)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(
        ["offset_s", "drift", "sync_interval_s", "sync_error_s", "correction", "slew_rate"]
    ),
    value=st.sampled_from(ODD_VALUES),
)
def test_node_clocks_refuse_odd_values_by_name(name, value):
    try:
        NodeClock(**{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)


def test_a_rate_too_small_to_give_an_arrival_gives_none():
    from distlab.experiments.scenario import poisson_arrivals

    rng = np.random.default_rng(0)
    assert poisson_arrivals(rng, 5e-324, 5.0).size == 0
    assert poisson_arrivals(rng, 0.0, 5.0).size == 0
    result = ex.lww_daemon_died(writes_per_s=5e-324, duration_s=5.0, died_at_s=1.0, seed=0)
    assert result.frame.empty
