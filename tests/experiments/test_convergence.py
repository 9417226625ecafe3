"""Experiment 4 (first two items): anti-entropy against time to converge; LWW against siblings."""

import math

import numpy as np
import pytest

from distlab.experiments.convergence import anti_entropy_convergence, lost_updates


def test_convergence_time_grows_with_the_anti_entropy_period_and_never_without_it():
    fast, slow = [], []
    for seed in range(4):
        res = anti_entropy_convergence((0.05, 1.0, 0.0), partition_s=1.0, seed=seed)
        s = res.summary
        assert s.index.tolist() == ["0.05 s", "1 s", "off"]
        assert (s["divergent_keys"] > 0).all()  # the partition left the replicas apart
        assert s.loc["0.05 s", "converged"] and s.loc["1 s", "converged"]
        assert not s.loc["off", "converged"] and math.isnan(s.loc["off", "converge_s"])
        fast.append(s.loc["0.05 s", "converge_s"])
        slow.append(s.loc["1 s", "converge_s"])
    assert max(fast) < min(slow)
    assert np.mean(fast) < 0.2 and 0.3 < np.mean(slow) < 5.0


def test_convergence_is_deterministic_and_tidy():
    a = anti_entropy_convergence((0.1,), partition_s=0.5, seed=2)
    b = anti_entropy_convergence((0.1,), partition_s=0.5, seed=2)
    assert a.frame.equals(b.frame) and a.summary.equals(b.summary) and a.params == b.params
    assert a.params["anti_entropy_s"] == (0.1,) and a.params["seed"] == 2
    assert a.summary.loc["0.1 s", "periods"] == pytest.approx(
        a.summary.loc["0.1 s", "converge_s"] / 0.1
    )


@pytest.mark.parametrize("seed", range(4))
def test_lww_loses_concurrent_adds_and_siblings_keep_them(seed):
    res = lost_updates(clients=4, adds=6, partition_s=1.0, seed=seed)
    s = res.summary
    assert s.index.tolist() == ["lww", "siblings"]
    assert s.loc["siblings", "lost"] == 0 and s.loc["siblings", "reads_with_siblings"] > 0
    assert s.loc["lww", "lost"] > 0 and s.loc["lww", "max_siblings"] == 1
    assert s["converged"].all()
    assert (s["adds_acked"] == 24).all()
    frame = res.frame
    assert not frame.loc[frame["variant"] == "siblings", "kept"].eq(False).any()


@pytest.mark.parametrize("seed", range(4))
def test_an_orset_cart_merged_by_the_store_loses_no_add(seed):
    res = lost_updates(("lww", "crdt"), clients=4, adds=6, partition_s=1.0, seed=seed)
    s = res.summary
    assert s.index.tolist() == ["lww", "crdt"]
    assert s.loc["crdt", "lost"] == 0 < s.loc["lww", "lost"]
    assert s.loc["crdt", "reads_with_siblings"] == 0 and s["converged"].all()
    assert (s["adds_acked"] == 24).all()


def test_more_writers_and_a_partition_lose_more_under_lww():
    def lost(clients, partition_s):
        return sum(
            lost_updates(
                "lww", clients=clients, adds=6, partition_s=partition_s, seed=seed
            ).summary.loc["lww", "lost_share"]
            for seed in range(3)
        )

    assert lost(1, 0.0) == 0  # one writer alone loses nothing
    assert lost(2, 0.0) < lost(6, 0.0)
    assert lost(2, 0.0) < lost(2, 1.0)


def test_lost_updates_is_deterministic():
    a = lost_updates(clients=3, adds=4, seed=5)
    b = lost_updates(clients=3, adds=4, seed=5)
    assert a.frame.equals(b.frame) and a.summary.equals(b.summary) and a.params == b.params


@pytest.mark.parametrize(
    ("fn", "kw", "error", "match"),
    [
        (anti_entropy_convergence, {"anti_entropy_s": (0.0005,)}, ValueError, "0.0005"),
        (anti_entropy_convergence, {"anti_entropy_s": ()}, ValueError, "anti_entropy_s=()"),
        (anti_entropy_convergence, {"anti_entropy_s": "0.1"}, TypeError, "anti_entropy_s='0.1'"),
        (anti_entropy_convergence, {"nodes": 1}, ValueError, "nodes=1"),
        (anti_entropy_convergence, {"writes_per_s": -1}, ValueError, "writes_per_s=-1"),
        (anti_entropy_convergence, {"writes_per_s": 10_000, "partition_s": 3600},
         ValueError, "writes_per_s=10000 for partition_s=3600"),
        (anti_entropy_convergence, {"horizon_s": 0}, ValueError, "horizon_s=0"),
        (lost_updates, {"conflicts": "crdts"}, ValueError, "crdts"),
        (lost_updates, {"clients": 0}, ValueError, "clients=0"),
        (lost_updates, {"think_s": math.nan}, ValueError, "think_s=nan"),
        (lost_updates, {"clients": 100, "adds": 10_000}, ValueError, "clients=100 \\* adds=10000"),
        (lost_updates, {"anti_entropy_s": 0}, ValueError, "anti_entropy_s=0"),
        (lost_updates, {"seed": 1.5}, TypeError, "1.5"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_by_name(fn, kw, error, match):
    with pytest.raises(error, match=match):
        fn(**kw)
