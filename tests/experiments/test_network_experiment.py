"""message_exchange: every message's fate, the statistics, reordering and partitions."""

import re

import numpy as np
import pandas as pd
import pytest

from distlab.experiments import Result
from distlab.experiments.network import (
    LATENCY_SHAPES,
    ExchangeResult,
    latency_distribution,
    message_exchange,
)


def test_same_seed_same_tables_and_another_seed_differs():
    a = message_exchange(messages=50, loss=0.2, seed=4)
    b = message_exchange(messages=50, loss=0.2, seed=4)
    c = message_exchange(messages=50, loss=0.2, seed=5)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.params == b.params
    assert not a.frame.equals(c.frame)


def test_the_result_has_the_house_shape():
    result = message_exchange(nodes=3, messages=40, loss=0.2, partition="split", seed=1)
    assert isinstance(result, ExchangeResult) and isinstance(result, Result)
    assert result.params == {
        "nodes": 3, "messages": 40, "interval_s": 0.05, "latency": "exponential",
        "mean_latency_s": 0.05, "loss": 0.2, "partition": "split", "partition_at_s": 0.5,
        "partition_for_s": 0.5, "seed": 1,
    }  # fmt: skip
    assert list(result.summary.index) == ["exchange"]
    row = result.summary.loc["exchange"]
    assert row["messages"] == 40 == row["delivered"] + row["dropped"]
    assert row["dropped"] == row["dropped_loss"] + row["dropped_partition"] + row["dropped_crashed"]
    assert list(result.faults.columns) == ["start", "end", "state", "label"]
    assert list(result.faults["state"]) == ["partitioned"]


def test_every_message_has_exactly_one_fate():
    result = message_exchange(nodes=4, messages=200, loss=0.3, partition="split", seed=1)
    table = result.frame
    assert len(table) == 200
    assert table["msg_id"].is_unique
    assert set(table["fate"]) == {"delivered", "dropped"}
    delivered = table["fate"] == "delivered"
    assert set(table.loc[~delivered, "reason"]) == {"loss", "partition"}
    assert table.loc[delivered, "reason"].isna().all()
    assert table.loc[delivered, "arrived"].notna().all()
    assert table.loc[~delivered, "arrived"].isna().all()
    assert (table.loc[delivered, "latency"] >= 0).all()


def test_loss_share_matches_the_loss_probability():
    result = message_exchange(nodes=2, messages=4000, loss=0.25, interval_s=0.001, seed=0)
    row = result.summary.loc["exchange"]
    assert row["dropped_loss_share"] == pytest.approx(0.25, abs=0.025)
    assert row["delivered"] + row["dropped_loss"] == 4000


def test_sources_and_destinations_differ_and_cover_all_nodes():
    table = message_exchange(nodes=5, messages=300, seed=2).frame
    assert (table["src"] != table["dst"]).all()
    assert set(table["src"]) == set(table["dst"]) == set("ABCDE")


def test_constant_latency_never_reorders_but_a_heavy_tail_does():
    constant = message_exchange(nodes=2, messages=300, latency="constant", interval_s=0.01, seed=0)
    pareto = message_exchange(nodes=2, messages=300, latency="pareto", interval_s=0.01, seed=0)
    assert constant.summary.loc["exchange", "reordered"] == 0
    assert pareto.summary.loc["exchange", "reordered"] > 10


def test_reordered_means_overtaken_by_a_later_message_on_the_same_link():
    table = message_exchange(nodes=2, messages=200, latency="pareto", interval_s=0.01, seed=3).frame
    for _, link in table[table["fate"] == "delivered"].groupby(["src", "dst"]):
        link = link.sort_values("sent")
        arrived = link["arrived"].to_numpy()
        expected = [bool(i and arrived[i] < arrived[:i].max()) for i in range(len(arrived))]
        assert link["reordered"].tolist() == expected


def test_split_partition_drops_only_messages_between_the_sides_while_it_lasts():
    result = message_exchange(
        nodes=5,
        messages=400,
        interval_s=0.005,
        latency="constant",
        mean_latency_s=0.001,
        partition="split",
        partition_at_s=0.5,
        partition_for_s=0.5,
        seed=0,
    )
    table = result.frame
    majority, minority = set("ABC"), set("DE")
    crosses = table["src"].isin(majority) != table["dst"].isin(majority)
    during = (table["sent"] >= 0.5) & (table["sent"] < 1.0 - 0.001)
    assert (table.loc[crosses & during, "reason"] == "partition").all()
    assert (table.loc[crosses & during, "fate"] == "dropped").all()
    assert (table.loc[~(crosses & during), "fate"] == "delivered").all()
    assert minority <= set(table["src"])
    bands = result.faults
    assert list(bands[["start", "end"]].iloc[0]) == [0.5, 1.0]


def test_isolate_partition_cuts_off_the_first_node_only():
    table = message_exchange(
        nodes=4,
        messages=300,
        interval_s=0.005,
        latency="constant",
        mean_latency_s=0.001,
        partition="isolate",
        partition_at_s=0.0,
        partition_for_s=10.0,
        seed=1,
    ).frame
    touches_a = (table["src"] == "A") | (table["dst"] == "A")
    assert (table.loc[touches_a, "reason"] == "partition").all()
    assert (table.loc[~touches_a, "fate"] == "delivered").all()


@pytest.mark.parametrize("shape", LATENCY_SHAPES)
def test_every_latency_shape_has_the_requested_mean(shape):
    dist = latency_distribution(shape, 0.04)
    assert dist.mean == pytest.approx(0.04, rel=1e-4)  # |Normal| folds a sliver of mass at 0
    samples = dist.sample(np.random.default_rng(0), size=200_000)
    tolerance = 0.15 if shape == "pareto" else 0.02  # alpha 1.5 has an infinite variance
    assert samples.mean() == pytest.approx(0.04, rel=tolerance)


def test_summary_counts_and_shares_match_the_frame():
    result = message_exchange(nodes=4, messages=300, loss=0.2, latency="pareto", seed=5)
    frame, row = result.frame, result.summary.loc["exchange"]
    dropped = frame["fate"] == "dropped"
    assert row["delivered"] == (~dropped).sum() and row["dropped"] == dropped.sum()
    assert row["dropped_loss"] == (frame["reason"] == "loss").sum()
    assert row["reordered"] == frame["reordered"].sum()
    assert row["delivered_share"] == row["delivered"] / 300
    assert row["reordered_share"] == row["reordered"] / 300
    assert row["mean_latency_s"] == pytest.approx(frame["latency"].mean())
    assert all(isinstance(v, (int, float, np.integer, np.floating)) for v in row.to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"nodes": 1}, ValueError, "nodes=1 must be between 2 and 26"),
        ({"messages": 0}, ValueError, "messages=0 must be between 1 and 100000"),
        ({"loss": 1.5}, ValueError, "loss=1.5 must be between 0 and 1"),
        ({"latency": "gaussian"}, ValueError, "latency='gaussian' is not one of"),
        ({"partition": "half"}, ValueError, "partition='half' is not one of 'none', 'split'"),
        ({"mean_latency_s": 0}, ValueError, "mean_latency_s=0 must be in (0, 86400]"),
        ({"interval_s": -1}, ValueError, "interval_s=-1 must be in (0, 86400]"),
        ({"partition_for_s": 0}, ValueError, "partition_for_s=0 must be in (0, 86400]"),
        # Each of these was accepted and gave infinite times (or named a parameter not passed).
        ({"mean_latency_s": 1e308}, ValueError, "mean_latency_s=1e+308 must be in (0, 86400]"),
        ({"interval_s": 1e308}, ValueError, "interval_s=1e+308 must be in (0, 86400]"),
        (
            {"latency": "uniform", "mean_latency_s": 1e308},
            ValueError,
            "mean_latency_s=1e+308 must be in (0, 86400]",
        ),
        ({"partition_at_s": 1e308}, ValueError, "partition_at_s=1e+308 must be in [0, 86400]"),
        (
            {"nodes": 2, "partition": "split"},
            ValueError,
            "partition='split' needs nodes >= 3 (a majority and a minority); nodes=2",
        ),
        ({"mean_latency_s": float("nan")}, ValueError, "mean_latency_s=nan must be a finite"),
        ({"loss": True}, TypeError, "loss=True must be a number between 0 and 1"),
        ({"seed": 1.5}, TypeError, "seed=1.5 must be an int"),
        ({"nodes": "3"}, TypeError, "nodes='3' must be an integer"),
    ],
)
def test_bad_input_names_the_parameter_value_and_what_is_allowed(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        message_exchange(**kwargs)


def test_latency_distribution_names_its_own_parameters():
    with pytest.raises(ValueError, match="shape='gaussian' is not one of"):
        latency_distribution("gaussian", 0.1)
    with pytest.raises(ValueError, match=re.escape("mean_s=1e+308 must be in (0, 86400]")):
        latency_distribution("uniform", 1e308)
