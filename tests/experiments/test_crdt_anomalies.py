"""Experiment 4 of notebook 05, CRDT part: the union-merged cart and the sum-merged counter."""

from __future__ import annotations

import pandas as pd
import pytest

from distlab import outcomes
from distlab.experiments.crdt_anomalies import cart_partition, counter_redelivery

CARTS = {"carts": 60}


def test_cart_same_seed_same_result():
    a, b = cart_partition(**CARTS, seed=2), cart_partition(**CARTS, seed=2)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.operations, b.operations)
    assert a.params["seed"] == 2 and a.params["partition"] == (0.25, 0.75)
    assert not a.operations.equals(cart_partition(**CARTS, seed=3).operations)


@pytest.mark.parametrize("seed", range(5))
def test_union_brings_deleted_items_back_and_the_or_set_does_not(seed):
    r = cart_partition(**CARTS, seed=seed)
    union, orset = r.summary.loc["union"], r.summary.loc["or_set"]
    assert union["resurrected"] > 0 and union["carts_affected"] > 0
    assert orset["resurrected"] == 0 and orset["lost_adds"] == 0 and union["lost_adds"] == 0
    # add-wins: both keep an item whose remove missed a concurrent add (not an anomaly)
    assert union["concurrent_kept"] == orset["concurrent_kept"]
    assert (r.frame.loc[r.frame["variant"] == "or_set", "outcome"] == outcomes.OK).all()
    lost = r.frame[r.frame["outcome"] == outcomes.LOST_WRITE]
    assert (lost["variant"] == "union").all() and lost["in_cart"].all()
    assert not lost["intended"].any() and (lost["removes"] > 0).all()


def test_the_partition_is_what_makes_the_union_cart_wrong():
    # replicas that always exchange states never hold siblings: Dynamo's merge replaces the
    # older state, and the union is never taken
    calm = cart_partition(**CARTS, gossip=1.0, partition=(0.0, 0.0))
    assert calm.summary.loc["union", "resurrected"] == 0
    cut = cart_partition(**CARTS, gossip=1.0, partition=(0.25, 0.75))
    assert cut.summary.loc["union", "resurrected"] > 0
    assert cut.operations["partitioned"].any() and not calm.operations["partitioned"].any()


def test_cart_tables():
    r = cart_partition(carts=5, operations=6)
    assert set(r.frame["variant"]) == {"union", "or_set"}
    assert set(r.operations["op"]) <= {"add", "remove"}
    assert r.operations.groupby("cart").size().eq(6).all()
    assert list(r.summary.index) == ["union", "or_set"]


@pytest.mark.parametrize("seed", range(4))
def test_a_sum_merged_counter_counts_redeliveries_and_the_g_counter_does_not(seed):
    r = counter_redelivery(duplicates=[0.0, 0.1, 0.3], trials=40, seed=seed)
    s = r.summary
    assert (s.xs("g_counter")["over_count"] == 0).all()
    assert (s.xs("g_counter")["share_wrong"] == 0).all()
    assert s.loc[("sum", 0.0), "over_count"] == 0  # delivered exactly once: sum is right
    assert 0 < s.loc[("sum", 0.1), "over_count"] < s.loc[("sum", 0.3), "over_count"]
    assert s.loc[("sum", 0.3), "redeliveries"] == s.loc[("g_counter", 0.3), "redeliveries"]
    # each redelivered state adds the sender's own count once more at its receiver
    sums = r.frame[r.frame["variant"] == "sum"]
    extra = sums.loc[sums["copy"] == 1].groupby("duplicate")["count_sent"].sum() / 40
    assert s.xs("sum")["over_count"].loc[0.3] == pytest.approx(extra.loc[0.3] / 5)


def test_anti_entropy_rounds_double_count_even_without_redelivery():
    r = counter_redelivery(replicas=4, duplicates=[0.0], rounds=2, seed=1)
    true = int(r.summary["true_total"].iloc[0])
    assert r.summary.loc[("sum", 0.0), "mean_value"] > true
    assert r.summary.loc[("g_counter", 0.0), "mean_value"] == true


def test_counter_same_seed_same_result():
    a, b = counter_redelivery(seed=7), counter_redelivery(seed=7)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.params == b.params


@pytest.mark.parametrize(
    "function, kwargs, error, match",
    [
        (cart_partition, {"replicas": 1}, ValueError, "replicas=1"),
        (cart_partition, {"items": 9}, ValueError, "items=9"),
        (cart_partition, {"remove_share": 1.5}, ValueError, "remove_share=1.5"),
        (cart_partition, {"partition": (0.8, 0.2)}, ValueError, "partition=.* the end"),
        (cart_partition, {"partition": (0.2,)}, ValueError, "partition="),
        (cart_partition, {"partition": (0.2, 2)}, ValueError, r"partition\[1\]=2"),
        (cart_partition, {"gossip": -0.1}, ValueError, "gossip=-0.1"),
        (cart_partition, {"carts": 100_000, "operations": 10_000}, ValueError, "carts=100000"),
        (counter_redelivery, {"duplicates": []}, ValueError, r"duplicates=\(\) is empty"),
        (counter_redelivery, {"duplicates": [0.1, 2.0]}, ValueError, r"duplicates\[1\]=2"),
        (counter_redelivery, {"duplicates": 0.1}, TypeError, "duplicates=0.1"),
        (counter_redelivery, {"increments": 0.5}, ValueError, "increments=0.5"),
        (counter_redelivery, {"rounds": 0}, ValueError, "rounds=0"),
        (counter_redelivery, {"trials": 0}, ValueError, "trials=0"),
        (counter_redelivery, {"seed": -2}, ValueError, "seed=-2"),
    ],
)
def test_bad_input_is_refused_by_name(function, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(**kwargs)
