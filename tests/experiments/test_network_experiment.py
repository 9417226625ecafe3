"""message_exchange: every message's fate, the statistics, reordering and partitions."""

import numpy as np
import pandas as pd
import pytest

from distlab.experiments.network import (
    LATENCY_SHAPES,
    delivery_stats,
    latency_distribution,
    message_exchange,
)


def test_same_seed_same_tables_and_another_seed_differs():
    a = message_exchange(messages=50, loss=0.2, seed=4)
    b = message_exchange(messages=50, loss=0.2, seed=4)
    c = message_exchange(messages=50, loss=0.2, seed=5)
    pd.testing.assert_frame_equal(a.messages, b.messages)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.messages.equals(c.messages)


def test_every_message_has_exactly_one_fate():
    result = message_exchange(nodes=4, messages=200, loss=0.3, partition="split", seed=1)
    table = result.messages
    assert len(table) == 200
    assert table["msg_id"].is_unique
    assert set(table["outcome"]) <= {"delivered", "lost", "partitioned", "crashed"}
    delivered = table["outcome"] == "delivered"
    assert table.loc[delivered, "arrived"].notna().all()
    assert table.loc[~delivered, "arrived"].isna().all()
    assert (table.loc[delivered, "latency"] >= 0).all()


def test_loss_share_matches_the_loss_probability():
    stats = message_exchange(nodes=2, messages=4000, loss=0.25, interval_s=0.001, seed=0).stats
    assert stats.loc["lost", "share"] == pytest.approx(0.25, abs=0.025)
    assert stats.loc["delivered", "count"] + stats.loc["lost", "count"] == 4000


def test_sources_and_destinations_differ_and_cover_all_nodes():
    table = message_exchange(nodes=5, messages=300, seed=2).messages
    assert (table["src"] != table["dst"]).all()
    assert set(table["src"]) == set(table["dst"]) == set("ABCDE")


def test_constant_latency_never_reorders_but_a_heavy_tail_does():
    constant = message_exchange(nodes=2, messages=300, latency="constant", interval_s=0.01, seed=0)
    pareto = message_exchange(nodes=2, messages=300, latency="pareto", interval_s=0.01, seed=0)
    assert constant.stats.loc["reordered", "count"] == 0
    assert pareto.stats.loc["reordered", "count"] > 10


def test_reordered_means_overtaken_by_a_later_message_on_the_same_link():
    table = message_exchange(
        nodes=2, messages=200, latency="pareto", interval_s=0.01, seed=3
    ).messages
    for _, link in table[table["outcome"] == "delivered"].groupby(["src", "dst"]):
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
    table = result.messages
    majority, minority = set("ABC"), set("DE")
    crosses = table["src"].isin(majority) != table["dst"].isin(majority)
    during = (table["sent"] >= 0.5) & (table["sent"] < 1.0 - 0.001)
    assert (table.loc[crosses & during, "outcome"] == "partitioned").all()
    assert (table.loc[~(crosses & during), "outcome"] == "delivered").all()
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
    ).messages
    touches_a = (table["src"] == "A") | (table["dst"] == "A")
    assert (table.loc[touches_a, "outcome"] == "partitioned").all()
    assert (table.loc[~touches_a, "outcome"] == "delivered").all()


@pytest.mark.parametrize("shape", LATENCY_SHAPES)
def test_every_latency_shape_has_the_requested_mean(shape):
    dist = latency_distribution(shape, 0.04)
    assert dist.mean == pytest.approx(0.04, rel=1e-4)  # |Normal| folds a sliver of mass at 0
    samples = dist.sample(np.random.default_rng(0), size=200_000)
    tolerance = 0.15 if shape == "pareto" else 0.02  # alpha 1.5 has an infinite variance
    assert samples.mean() == pytest.approx(0.04, rel=tolerance)


def test_delivery_stats_counts_and_shares():
    table = pd.DataFrame(
        {
            "outcome": ["delivered", "delivered", "lost", "partitioned"],
            "reordered": [False, True, False, False],
        }
    )
    stats = delivery_stats(table)
    assert stats["count"].to_dict() == {
        "delivered": 2,
        "lost": 1,
        "partitioned": 1,
        "crashed": 0,
        "reordered": 1,
    }
    assert stats.loc["delivered", "share"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"nodes": 1}, ValueError, "nodes=1 must be between 2 and 26"),
        ({"messages": 0}, ValueError, "messages=0 must be between 1 and 100000"),
        ({"loss": 1.5}, ValueError, "loss=1.5 must be between 0 and 1"),
        ({"latency": "gaussian"}, ValueError, "latency='gaussian' is not one of"),
        ({"partition": "half"}, ValueError, "partition='half' is not one of 'none', 'split'"),
        ({"mean_latency_s": 0}, ValueError, "mean_latency_s=0 must be greater than 0"),
        ({"interval_s": -1}, ValueError, "interval_s=-1 must be greater than 0"),
        ({"partition_for_s": 0}, ValueError, "partition_for_s=0 must be greater than 0"),
        ({"seed": 1.5}, TypeError, "seed=1.5 must be an int"),
        ({"nodes": "3"}, TypeError, "nodes='3' must be an integer"),
    ],
)
def test_bad_input_names_the_parameter_value_and_what_is_allowed(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        message_exchange(**kwargs)
