"""Fuzz saga_run and the saga figures with extreme and wrong-typed arguments: each call either
gives finite results or raises ValueError/TypeError naming the parameter it was given."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab import plots
from distlab.experiments.sagas import saga_run

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ODD_VALUES = [
    0, -1, 1, 3, 2**31, 2**63, 10**30, 0.0, -0.0, -1.5, 0.5, 5e-324, 1e-300, 1e308, -1e308,
    math.inf, -math.inf, math.nan, True, None, "1", "", [1], "reserve_stock", "complete_order",
    np.int64(2), np.float64(0.25),
]  # fmt: skip
NAMES = [
    "driver", "orders", "idempotency", "fail_step", "fail_compensation_step", "crash_after_step",
    "duplicate", "loss", "log_lost_on_crash", "compensation_attempts", "latency_s", "timeout_s",
    "down_s", "horizon_s", "seed",
]  # fmt: skip
# A fault elsewhere, so that fail_compensation_step and crash_after_step can be valid.
BASE = {"fail_step": "charge_payment"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), value=st.sampled_from(ODD_VALUES))
def test_saga_run_refuses_odd_values_by_name_or_gives_finite_results(name, value):
    try:
        result = saga_run(**{**BASE, name: value})
    except (ValueError, TypeError) as error:
        assert f"{name}=" in str(error), f"{type(error).__name__} does not name {name}: {error}"
        return
    for table in (result.frame, result.summary, result.crashes, result.log_writes):
        numbers = table.select_dtypes(include="number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any()
    assert len(plots.saga_timeline(result, compact=True).axes) == 1


@settings(max_examples=30, deadline=None)
@given(value=st.sampled_from(ODD_VALUES))
def test_figures_refuse_odd_results_and_titles(value):
    with pytest.raises((TypeError, ValueError), match="result"):
        plots.saga_timeline(value)
    with pytest.raises((TypeError, ValueError), match="result"):
        plots.end_states_figure(value)
    if not isinstance(value, str) and value is not None:
        with pytest.raises(TypeError, match="title"):
            plots.saga_timeline(saga_run(), title=value)
