"""Fuzz the leaderless store's experiments and constructor with extreme and wrong-typed arguments.

Each call either succeeds with finite results, or raises ValueError/TypeError whose message names
the parameter that was given the odd value.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from odd_values import ODD_VALUES, assert_names, fuzz_experiments, odd_value_run

from distlab.experiments import convergence, quorums
from distlab.sim import Network, ReplicatedStore, World

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

# Each experiment with small settings, so a call that succeeds stays fast.
EXPERIMENTS = {
    "quorum_visibility": (
        quorums.quorum_visibility,
        {"times_ms": (0.0, 5.0), "trials": 20, "mc_trials": 1000},
        ["model", "times_ms", "n", "r", "w", "trials", "mc_trials", "seed"],
    ),
    "anti_entropy_convergence": (
        convergence.anti_entropy_convergence,
        {"anti_entropy_s": (0.1,), "partition_s": 0.2, "writes_per_s": 10.0, "horizon_s": 2.0},
        ["anti_entropy_s", "nodes", "partition_s", "writes_per_s", "keys", "horizon_s", "seed"],
    ),
    "lost_updates": (
        convergence.lost_updates,
        {"clients": 2, "adds": 2, "partition_s": 0.2},
        [
            "conflicts",
            "clients",
            "adds",
            "think_s",
            "nodes",
            "partition_at_s",
            "partition_s",
            "anti_entropy_s",
            "seed",
        ],
    ),  # fmt: skip
}


@fuzz_experiments(EXPERIMENTS, max_examples=200)
def test_experiments_refuse_odd_values_by_name_or_give_finite_results(experiment, data, value):
    odd_value_run(EXPERIMENTS, experiment, data, value)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["n", "r", "w", "read_repair", "sloppy", "conflicts"]),
    value=st.sampled_from(ODD_VALUES),
)
def test_the_store_refuses_odd_quorum_parameters_by_name(name, value):
    try:
        store = ReplicatedStore(Network(World()), "leaderless", nodes=3, **{name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
    else:
        assert 1 <= store.quorum.r <= store.quorum.n and 1 <= store.quorum.w <= store.quorum.n
