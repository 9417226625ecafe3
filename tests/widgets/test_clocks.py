"""The skew explorer (notebook 07): each preset shows what its name promises."""

from __future__ import annotations

import pytest

from distlab.clocks import lww_loss_probability
from distlab.widgets import skew_explorer
from distlab.widgets.clocks import PAIRS, PRESETS


def _loss_at(explorer, gap_s: float) -> float:
    rows = explorer.last_result.summary.reset_index()
    return float(rows.loc[(rows["gap_s"] - gap_s).abs() < 1e-9, "loss_rate"].iloc[0])


def test_the_controls_reach_the_experiment_and_the_chosen_gap_is_marked():
    explorer = skew_explorer()
    explorer.update(offset_spread_s=0.03, gap_s=0.014, seed=3)
    assert explorer.error is None
    params = explorer.last_result.params
    assert params["skews_s"] == (0.03,) and 0.014 in params["gaps_s"] and params["seed"] == 3
    subtitle = " ".join(t.get_text() for t in explorer.last_figure.axes[0].texts)
    assert "writes 14 ms apart" in subtitle
    assert "±30 ms" in explorer.last_figure.axes[0].get_title(loc="left")


def test_without_sync_the_simulation_follows_the_closed_form():
    explorer = skew_explorer()
    explorer.apply_preset("no sync: offsets spread ±20 ms")
    summary = explorer.last_result.summary
    tolerance = 4.5 * (0.25 / PAIRS) ** 0.5
    assert ((summary["loss_rate"] - summary["closed_form"]).abs() <= tolerance).all()
    assert _loss_at(explorer, 0.01) == pytest.approx(
        lww_loss_probability(0.01, delta=0.02), abs=0.1
    )


def test_ntp_on_a_lan_loses_no_write_10_ms_later():
    explorer = skew_explorer()
    explorer.apply_preset("NTP on a LAN: sync every 16 s within ±1 ms")
    assert _loss_at(explorer, 0.01) == 0.0
    assert _loss_at(explorer, 0.0) > 0.3  # simultaneous writes still a coin toss


@pytest.mark.parametrize(
    "preset", ["NTP over the internet: ±10 ms", "cheap clocks, no sync: 500 ppm drift"]
)
def test_poor_sync_or_cheap_clocks_lose_writes_10_ms_later(preset):
    explorer = skew_explorer()
    explorer.apply_preset(preset)
    assert _loss_at(explorer, 0.01) > 0.05


def test_every_preset_sets_only_existing_controls():
    controls = set(skew_explorer().controls)
    for values in PRESETS.values():
        assert set(values) <= controls
