"""Fuzz the PBS and CRDT-anomaly experiments with extreme and wrong-typed arguments.

Each call either succeeds with finite results, or raises ValueError/TypeError whose message names
the parameter that was given the odd value.
"""

from __future__ import annotations

import pytest
from odd_values import ODD_VALUES, fuzz_experiments, odd_value_run

from distlab.experiments.crdt_anomalies import cart_partition, counter_redelivery
from distlab.experiments.staleness import pbs_staleness

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# and values right for one parameter given to another: quorum lists (one R > N), a model list
VALUES = [*ODD_VALUES, [(3, 1, 1)], [(3, 9, 1)], ["YMMR"]]

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


@fuzz_experiments(EXPERIMENTS, max_examples=200, values=VALUES)
def test_experiments_refuse_odd_values_by_name_or_give_finite_results(experiment, data, value):
    odd_value_run(EXPERIMENTS, experiment, data, value)
