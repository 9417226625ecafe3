"""Experiment 3 of notebook 05: PBS t-visibility, k-staleness, the latency partial quorums save."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from distlab.experiments.staleness import RunCache, pbs_staleness, quorum_label
from distlab.pbs import PAPER

SMALL = {"trials": 20_000, "points": 40, "k_max": 4}


@pytest.fixture(scope="module")
def paper_run():
    return pbs_staleness(quorums=[(3, 1, 1), (3, 2, 1), (5, 1, 1)], trials=100_000, seed=0)


def test_same_seed_same_result_and_another_seed_differs():
    a = pbs_staleness(["LNKD-DISK"], **SMALL, seed=3)
    b = pbs_staleness(["LNKD-DISK"], **SMALL, seed=3)
    c = pbs_staleness(["LNKD-DISK"], **SMALL, seed=4)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.k_staleness, b.k_staleness)
    assert a.params == b.params and a.params["seed"] == 3
    assert not a.frame["consistent"].equals(c.frame["consistent"])


def test_the_strict_majority_quorum_is_added_as_the_baseline(paper_run):
    variants = set(paper_run.summary.loc["YMMR"].index)
    assert variants == {"N=3 R=1 W=1", "N=3 R=2 W=1", "N=5 R=1 W=1", "N=3 R=2 W=2",
                        "N=5 R=3 W=3"}  # fmt: skip
    strict = paper_run.summary[paper_run.summary["strict"]]
    assert (strict["consistent_at_0"] == 1.0).all() and (strict["t_999_s"] == 0.0).all()
    assert (strict["saved_p999_s"] == 0.0).all()


def test_reproduces_the_papers_consistency_at_zero(paper_run):
    for model, figures in PAPER.items():
        row = paper_run.summary.loc[(model, "N=3 R=1 W=1")]
        assert row["consistent_at_0"] == pytest.approx(figures.consistent_at_0, abs=0.01)
        assert row["paper_consistent_at_0"] == figures.consistent_at_0
        assert row["paper_t_999_s"] == pytest.approx(figures.t_999_ms / 1000)
        # the quantile lands later than the paper's first-crossing estimator (pbs.sweep_t_for)
        assert 1.0 <= row["t_999_s"] / row["paper_t_999_s"] <= 1.3
    others = paper_run.summary.drop(index=[(m, "N=3 R=1 W=1") for m in PAPER])
    assert others["paper_t_999_s"].isna().all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_r_w_1_saves_latency_and_buys_a_window_of_inconsistency(seed):
    r = pbs_staleness(quorums=[(3, 1, 1)], **SMALL, seed=seed)
    for model in PAPER:
        fast = r.summary.loc[(model, "N=3 R=1 W=1")]
        strict = r.summary.loc[(model, "N=3 R=2 W=2")]
        assert fast["saved_p999_s"] > 0
        assert fast["write_p999_s"] < strict["write_p999_s"]
        assert fast["read_p999_s"] < strict["read_p999_s"]
        assert fast["t_999_s"] > 0 and fast["consistent_at_0"] < 1


@pytest.mark.parametrize("seed", [0, 5])
def test_curves_start_above_the_closed_form_and_reach_the_999_point(seed):
    r = pbs_staleness(quorums=[(3, 1, 1), (5, 2, 2), (3, 1, 2)], **SMALL, seed=seed)
    for (model, variant), curve in r.frame.groupby(["model", "variant"]):
        values = curve["consistent"].to_numpy()
        assert np.all(np.diff(values) >= 0), (model, variant)
        # expanding quorums: at t = 0 at least as consistent as quorums picked at random
        sd = math.sqrt(0.25 / SMALL["trials"])
        assert values[0] >= curve["closed_form"].iloc[0] - 5 * sd
        assert values[-1] >= 0.999
        t_999 = r.summary.loc[(model, variant), "t_999_s"]
        assert curve["t_s"].max() >= t_999


def test_k_staleness_monte_carlo_beside_the_closed_form():
    r = pbs_staleness(["LNKD-SSD"], quorums=[(3, 1, 1), (5, 2, 2)], trials=50_000, k_max=5)
    table = r.k_staleness
    assert set(table["variant"]) == {"N=3 R=1 W=1", "N=5 R=2 W=2", "N=3 R=2 W=2", "N=5 R=3 W=3"}
    sd = np.sqrt(table["closed_form"] * (1 - table["closed_form"]) / 50_000)
    assert (abs(table["monte_carlo"] - table["closed_form"]) <= 5 * sd + 1e-12).all()
    assert table.loc[table["variant"] == "N=5 R=2 W=2", "closed_form"].iloc[1] == pytest.approx(
        0.09
    )


def test_times_are_in_seconds():
    r = pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], **SMALL)
    row = r.summary.loc[("YMMR", "N=3 R=1 W=1")]
    assert 1.0 < row["t_999_s"] < 2.0  # about 1.4 s of Yammer's tail
    assert 0.003 < row["write_p50_s"] < 0.01


def test_quorum_label():
    assert quorum_label(5, 2, 3) == "N=5 R=2 W=3"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"models": ["LNKD"]}, ValueError, r"models\[0\]='LNKD' is not one of"),
        ({"models": []}, TypeError, "models=\\[\\] must be a non-empty list"),
        ({"models": ["YMMR", "YMMR"]}, ValueError, "names a model twice"),
        ({"quorums": [(3, 4, 1)]}, ValueError,
         r"quorums\[0\]=\(3, 4, 1\): read_quorum=4 must be between 1 and nodes=3"),
        ({"quorums": [(3, 1)]}, TypeError, r"quorums\[0\]=\(3, 1\) must be an \(N, R, W\)"),
        ({"quorums": [(3, 1, 1), (3, 1, 1)]}, ValueError, "names a quorum twice"),
        ({"quorums": "311"}, TypeError, "quorums='311'"),
        ({"trials": 0}, ValueError, "trials=0"),
        ({"trials": 10_000_000}, ValueError, "trials=10,000,000 x 6 .* asks for"),
        ({"points": 1}, ValueError, "points=1"),
        ({"k_max": 0}, ValueError, "k_max=0"),
        ({"seed": 1.5}, TypeError, "seed=1.5"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_by_name(kwargs, error, match):
    args = {"models": ["LNKD-SSD", "YMMR"], "quorums": [(3, 1, 1), (3, 1, 2)], "trials": 100}
    with pytest.raises(error, match=match):
        pbs_staleness(**{**args, **kwargs})


def _same(a, b):
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    pd.testing.assert_frame_equal(a.k_staleness, b.k_staleness, check_exact=True)
    assert a.params == b.params


@pytest.mark.parametrize("model, seed", [("YMMR", 0), ("LNKD-DISK", 5)])
def test_a_run_cache_changes_no_number(model, seed):
    cache = RunCache(draws=1, runs=4)  # small: runs are dropped and computed again
    quorums = [(3, 1, 1), (3, 2, 1), (3, 1, 1), (5, 1, 2), (3, 2, 2), (5, 3, 3), (3, 1, 2)]
    for q in quorums:
        kwargs = {**SMALL, "quorums": [q], "seed": seed}
        _same(pbs_staleness([model], **kwargs), pbs_staleness([model], **kwargs, cache=cache))
    several = {**SMALL, "quorums": [(3, 1, 1), (5, 2, 1), (3, 1, 2)], "seed": seed}
    _same(pbs_staleness([model, "LNKD-SSD"], **several),
          pbs_staleness([model, "LNKD-SSD"], **several, cache=cache))  # fmt: skip
    assert cache.hits > 0


def test_a_run_cache_answers_a_move_of_r_or_w_from_the_kept_draws():
    cache = RunCache()
    pbs_staleness(["YMMR"], **SMALL, quorums=[(3, 1, 1)], cache=cache)
    hits = cache.hits
    pbs_staleness(["YMMR"], **SMALL, quorums=[(3, 1, 2)], cache=cache)
    # the draws (for R=1 W=2 and the strict quorum), the strict quorum's run and k-staleness
    assert cache.hits - hits == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [({"draws": 0}, "draws=0"), ({"runs": 0}, "runs=0"), ({"draws": "2"}, "draws='2'")],
)
def test_a_run_cache_rejects_bad_sizes(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        RunCache(**kwargs)


def test_pbs_staleness_rejects_a_cache_of_another_kind():
    with pytest.raises(TypeError, match="cache=\\{\\} must be a RunCache"):
        pbs_staleness(["YMMR"], **SMALL, cache={})
