"""Fuzz the PBS and CRDT-anomaly experiments with extreme and wrong-typed arguments.

Each call either succeeds with finite results, or raises ValueError/TypeError whose message names
the parameter that was given the odd value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odd_values import refused_by_name_or_finite

from distlab.experiments.crdt_anomalies import cart_partition, counter_redelivery
from distlab.experiments.staleness import pbs_staleness

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

ODD_VALUES = [0, -1, 1, 2**31, 2**63, 10**30, 0.0, -0.0, -1.5, 0.5, 5e-324, 1e-300, 1e308,
              -1e308, math.inf, -math.inf, math.nan, True, None, "1", "", [1], (0.1, 0.2),
              [(3, 1, 1)], [(3, 9, 1)], ["YMMR"], np.int64(3), np.float64(0.25)]  # fmt: skip

EXPERIMENTS = {
    "pbs_staleness": (
        pbs_staleness,
        {"models": ["LNKD-SSD"], "quorums": [(3, 1, 1)], "trials": 200, "points": 5, "k_max": 2},
        ["models", "quorums", "trials", "points", "k_max", "seed"],
    ),
    "cart_partition": (
        cart_partition,
        {"carts": 3, "operations": 4},
        ["replicas", "carts", "operations", "items", "remove_share", "partition", "gossip", "seed"],
    ),  # fmt: skip
    "counter_redelivery": (
        counter_redelivery,
        {"replicas": 3, "trials": 2},
        ["replicas", "increments", "duplicates", "rounds", "trials", "seed"],
    ),
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    experiment=st.sampled_from(sorted(EXPERIMENTS)),
    data=st.data(),
    value=st.sampled_from(ODD_VALUES),
)
def test_experiments_refuse_odd_values_by_name_or_give_finite_results(experiment, data, value):
    function, base, names = EXPERIMENTS[experiment]
    name = data.draw(st.sampled_from(names), label="parameter")
    refused_by_name_or_finite(function, base, name, value, experiment)
