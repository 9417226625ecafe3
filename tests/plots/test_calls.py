"""plots.calls: call timelines and latency distributions in the outcome colours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from distlab.plots import (
    OUTCOME_COLORS,
    STATE_COLORS,
    call_timeline,
    latency_distribution,
    outcome_color,
)

from .conftest import figure_legend_labels, png


def test_call_timeline_one_bar_per_call_coloured_by_outcome(calls):
    fig = call_timeline(calls, title="Caller with a 1 s timeout")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Caller with a 1 s timeout"
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "service"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    (bars,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bars.get_paths()) == len(calls)
    colors = [to_hex(c) for c in bars.get_facecolor()]
    assert colors == [outcome_color(o).lower() for o in calls["outcome"]]
    assert figure_legend_labels(fig)[:4] == ["ok", "error", "timeout", "rejected"]
    # the zero-duration rejected call is still visible
    rejected = bars.get_paths()[2].vertices
    assert np.ptp(rejected[:, 0]) > 0
    # D's two calls overlap in time: stacked in two rows, not drawn on top of each other
    d0, d1 = (bars.get_paths()[i].vertices for i in (4, 5))
    assert d0[:, 1].max() <= d1[:, 1].min() or d1[:, 1].max() <= d0[:, 1].min()


def test_call_timeline_shades_health_per_lane(calls):
    health = pd.DataFrame(
        {
            "service": ["B", "D", "A"],
            "start": [0.0, 0.0, 0.0],
            "end": [2.0, 2.0, 2.0],
            "state": ["down", "slow", "up"],
            "label": ["down", "slow ×10", "up"],
        }
    )
    fig = call_timeline(calls, health=health)
    ax = fig.axes[0]
    shaded = {p.get_label(): p for p in ax.patches}
    assert set(shaded) == {"down", "slow ×10"}  # "up" not shaded
    assert shaded["down"].get_y() == 0.5 and shaded["down"].get_height() == 1.0  # B is lane 1
    assert to_hex(shaded["slow ×10"].get_facecolor()) == STATE_COLORS["slow"].lower()
    assert "down" in figure_legend_labels(fig)


def test_call_timeline_lane_column_and_errors(calls):
    by_client = calls.rename(columns={"service": "client"})
    fig = call_timeline(by_client, lane="client")
    assert fig.axes[0].get_ylabel() == "client"
    with pytest.raises(ValueError, match="lane=.service. is not a column of calls; it has client"):
        call_timeline(by_client)
    empty = call_timeline(calls.iloc[:0])
    assert any("no calls" in t.get_text() for t in empty.axes[0].texts)
    png(empty)


def test_latency_distribution_panels_timeout_and_colours(calls):
    fig = latency_distribution(calls, by="service", timeout_s=1.0, title="Latency per service")
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title(loc="left") == "Latency per service"
    assert fig.axes[-1].get_xlabel() == "latency (s)"
    for ax in fig.axes:
        assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.lines)
    d_fill = [p for p in fig.axes[3].patches]
    assert {to_hex(p.get_facecolor()) for p in d_fill} == {outcome_color("timeout").lower()}
    labels = figure_legend_labels(fig)
    assert labels == ["ok", "error", "timeout", "rejected", "timeout = 1 s"]
    assert "median" in " ".join(t.get_text() for t in fig.axes[0].texts)
    png(fig)


def test_same_outcome_same_colour_across_plots(calls):
    timeline = call_timeline(calls)
    (bars,) = [c for c in timeline.axes[0].collections if isinstance(c, PolyCollection)]
    timeline_timeout = to_hex(bars.get_facecolor()[4])
    hist = latency_distribution(calls, timeout_s=1.0)
    hist_timeout = to_hex(hist.axes[3].patches[0].get_facecolor())
    assert timeline_timeout == hist_timeout == OUTCOME_COLORS["timeout"].lower()
    seq_ok = OUTCOME_COLORS["delivered"]
    assert seq_ok == outcome_color("ok")


def test_latency_distribution_uses_latency_column_and_handles_empty(calls):
    with_latency = calls.assign(latency=[0.01] * len(calls)).drop(columns=["start", "end"])
    fig = latency_distribution(with_latency, by=None)
    assert len(fig.axes) == 1
    empty = latency_distribution(calls.iloc[:0])
    assert isinstance(empty, Figure)
    png(empty)
    with pytest.raises(ValueError, match="timeout_s=0"):
        latency_distribution(calls, timeout_s=0)
    with pytest.raises(ValueError, match="by=.client. is not a column of calls; it has service"):
        latency_distribution(calls, by="client")


def test_latency_distribution_bounds_the_number_of_panels(calls):
    many = pd.concat([calls] * 10, ignore_index=True).reset_index(names="request")
    with pytest.raises(ValueError, match="by='request' makes 60 panels; at most 40 are drawn"):
        latency_distribution(many, by="request")


def test_latency_distribution_refuses_a_timeout_that_makes_infinite_bins(calls):
    # timeout_s=1e308 made the histogram's edges infinite (numpy overflow warnings, a blank axis).
    with pytest.raises(ValueError, match=r"timeout_s=1e\+308 must be in \(0, 86400\]"):
        latency_distribution(calls, timeout_s=1e308)
