"""Fuzz the failover experiment and the replication timeline with extreme and wrong-typed
arguments: each call either gives finite results or refuses the value naming the parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odd_values import assert_names, refused_by_name_or_finite

from distlab import plots
from distlab.experiments.failover import failover_run

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ODD_VALUES = [0, -1, 1, 2**63, 10**30, 0.0, -1.5, 0.5, 5e-324, 1e308, math.inf, -math.inf,
              math.nan, True, None, "1", "", [1], ("async",), np.int64(2),
              np.float64(0.25)]  # fmt: skip
BASE = {"replications": ("async", "sync"), "clients": 2, "duration_s": 2.0, "crash_at_s": 0.5}
NAMES = ["replications", "nodes", "clients", "read_share", "think_s", "replication_lag_s",
         "latency_s", "crash_at_s", "down_s", "failover_s", "duration_s", "timeout_s",
         "phase_timeout_s", "seed"]  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), value=st.sampled_from(ODD_VALUES))
def test_failover_run_refuses_odd_values_by_name_or_gives_finite_results(name, value):
    result = refused_by_name_or_finite(failover_run, BASE, name, value, "failover_run")
    if result is not None:
        assert type(result.params["seed"]) is int


@pytest.fixture(scope="module")
def run():
    return failover_run(**BASE, seed=1)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(["title", "variant", "compact", "report"]),
       value=st.sampled_from(ODD_VALUES))  # fmt: skip
def test_replication_timeline_refuses_odd_values_by_name(run, name, value):
    try:
        fig = plots.replication_timeline(run, **{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return
    assert fig.axes
