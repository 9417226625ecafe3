"""The PBS explorer (notebook 05): N, R, W sliders kept within N, presets that keep their
promise, the figure updated in place."""

from __future__ import annotations

import pytest

from distlab.widgets import pbs_explorer
from distlab.widgets.consistency import PRESETS, TRIALS


def _row(explorer):
    summary = explorer.last_result.summary
    return summary[~summary["strict"]].iloc[0] if (~summary["strict"]).any() else summary.iloc[0]


def test_the_controls_reach_the_experiment():
    explorer = pbs_explorer()
    explorer.update(model="YMMR", nodes=5, seed=4)
    explorer.update(read_quorum=2, write_quorum=1)
    assert explorer.error is None
    params = explorer.last_result.params
    assert params["models"] == ("YMMR",) and params["seed"] == 4 and params["trials"] == TRIALS
    assert params["quorums"][0] == (5, 2, 1)
    assert "YMMR, N=5 R=2 W=1" in explorer.last_figure.get_suptitle()


def test_r_and_w_never_go_past_n():
    explorer = pbs_explorer()
    read, write = explorer.controls["read_quorum"], explorer.controls["write_quorum"]
    explorer.update(nodes=7)
    explorer.update(read_quorum=6, write_quorum=4)
    assert (read.max, write.max) == (7, 7)
    explorer.controls["nodes"].value = 3  # as from the browser: R and W follow
    assert (read.value, write.value, read.max, write.max) == (3, 3, 3, 3)
    assert explorer.error is None and explorer.last_params["read_quorum"] == 3
    with pytest.raises(ValueError, match="read_quorum=4 must be between 1 and 3"):
        explorer.update(read_quorum=4)


def test_an_invalid_combination_is_a_readable_message_not_a_traceback():
    explorer = pbs_explorer()
    with pytest.raises(ValueError, match="read_quorum=4 must be between 1 and nodes=3"):
        explorer.experiment(model="YMMR", nodes=3, read_quorum=4, write_quorum=1, seed=0)
    # shown by the explorer as a message, should its controls ever reach it
    explorer.controls["read_quorum"].max = 7
    explorer.controls["read_quorum"].value = 5
    assert "read_quorum=5 must be between 1 and nodes=3" in explorer.error
    explorer.controls["read_quorum"].value = 2
    assert explorer.error is None


def test_the_figure_is_built_once_and_updated():
    explorer = pbs_explorer()
    figure = explorer.last_figure
    explorer.update(model="LNKD-DISK")
    explorer.update(nodes=5)
    assert explorer.last_figure is figure


def test_the_papers_point_shows_lnkd_ssd_nearly_always_consistent():
    explorer = pbs_explorer()
    explorer.apply_preset("LinkedIn SSDs, R = W = 1 (the paper's point)")
    row = _row(explorer)
    assert row["consistent_at_0"] == pytest.approx(0.974, abs=0.01)
    assert row["t_999_s"] < 0.003


def test_lnkd_disks_are_slow_to_spread():
    explorer = pbs_explorer()
    explorer.apply_preset("LinkedIn disks, R = W = 1: writes are slow to spread")
    row = _row(explorer)
    assert row["consistent_at_0"] < 0.5 and row["t_999_s"] > 0.03


def test_yammer_has_a_second_long_tail_and_reading_more_shortens_it():
    explorer = pbs_explorer()
    explorer.apply_preset("Yammer, R = W = 1: a second-long tail")
    one = _row(explorer)
    explorer.apply_preset("Yammer, R = 2, W = 1: read more, stale less")
    two = _row(explorer)
    assert one["t_999_s"] > 1.0 and two["t_999_s"] < one["t_999_s"] / 3


def test_a_strict_quorum_is_never_stale_and_slower():
    explorer = pbs_explorer()
    explorer.apply_preset("strict quorum R = W = 2: never stale")
    summary = explorer.last_result.summary
    assert summary["strict"].all() and (summary["consistent_at_0"] == 1.0).all()
    assert "every read sees the last write" in explorer.last_figure.get_suptitle()


def test_every_preset_sets_n_first_and_only_existing_controls():
    controls = set(pbs_explorer().controls)
    for values in PRESETS.values():
        assert set(values) <= controls
        keys = list(values)
        assert keys.index("nodes") < keys.index("read_quorum")


def test_moves_of_r_and_w_show_what_a_fresh_run_shows():
    from distlab.experiments.staleness import pbs_staleness

    explorer = pbs_explorer()
    for values in ({"nodes": 5}, {"read_quorum": 2}, {"write_quorum": 3}, {"read_quorum": 1}):
        explorer.update(**values)
        p = explorer.last_params
        fresh = pbs_staleness([p["model"]], quorums=[(p["nodes"], p["read_quorum"],
                              p["write_quorum"])], trials=TRIALS, points=80, k_max=6,
                              seed=p["seed"])  # fmt: skip
        shown = explorer.last_result
        for name in ("frame", "summary", "k_staleness"):
            assert getattr(shown, name).equals(getattr(fresh, name)), name
