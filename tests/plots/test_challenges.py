"""plots.challenges: the figures of notebook 01, each from its experiment's result."""

from __future__ import annotations

import matplotlib.colors as mcolors
import pytest
from matplotlib.collections import LineCollection

from distlab import plots
from distlab.experiments import challenges
from distlab.plots.style import outcome_color

from .conftest import fig_title


def test_partial_failure_figure_one_lane_per_service_coloured_by_outcome():
    result = challenges.partial_failures("slow", seed=0)
    fig = plots.partial_failure_figure(result, timeout_s=1.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split()[0] for label in labels] == ["A", "B", "C", "D"]
    assert "A (up)" in labels[0] and "D (slow)" in labels[3]
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == len(result.frame)
    colors = {mcolors.to_hex(c.get_facecolor()[0]).upper() for c in ax.collections}
    assert {outcome_color(o).upper() for o in ("ok", "error", "timeout")} <= colors


def test_ambiguity_figure_counts_each_case():
    result = challenges.timeout_ambiguity(seed=0)
    table = result.frame
    fig = plots.ambiguity_figure(result)
    bars = fig.axes[0].patches
    ran_anyway = int(table["ambiguous"].sum())
    assert [int(b.get_width()) for b in bars][2] == ran_anyway
    assert sum(int(b.get_width()) for b in bars) == len(table)


def test_write_race_and_clock_figures_put_the_share_in_the_title():
    race = challenges.write_race(trials=200, seed=0)
    share = f"{race.frame['earlier_write_won'].mean():.0%}"
    assert share in fig_title(plots.write_race_figure(race))
    stamps = challenges.clock_order(events=100, seed=0)
    fig = plots.clock_order_figure(stamps, show=20)
    assert f"{stamps.summary.loc['clocks', 'misordered_share']:.0%}" in fig_title(fig)
    segments = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)][0]
    assert len(segments.get_segments()) == 20


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: plots.ambiguity_figure(challenges.timeout_ambiguity(requests=5).frame),
            TypeError,
            r"result=DataFrame must be the result of timeout_ambiguity\(\)",
        ),
        (
            lambda: plots.partial_failure_figure(None),
            TypeError,
            r"result=NoneType must be the result of partial_failures\(\)",
        ),
        (
            lambda: plots.partial_failure_figure(
                challenges.partial_failures(duration_s=1.0), timeout_s=-1
            ),
            ValueError,
            "timeout_s=-1 must be greater than 0",
        ),
        (
            lambda: plots.clock_order_figure(challenges.clock_order(events=10), show=0),
            ValueError,
            "show=0 must be between 1 and 10000",
        ),
        (
            lambda: plots.write_race_figure(challenges.write_race(trials=5), title=3),
            TypeError,
            "title=3 must be a string or None",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_clock_figure_tells_the_two_servers_apart_by_clearly_different_colours():
    fig = plots.clock_order_figure(challenges.clock_order(events=40, seed=0))
    ax = fig.axes[0]
    by_server = {}
    for collection in ax.collections:
        label = collection.get_label()
        if label.startswith("server"):
            by_server[label] = mcolors.to_rgb(collection.get_facecolor()[0])
    assert set(by_server) == {"server 1", "server 2"}
    one, two = by_server["server 1"], by_server["server 2"]
    # Blue and sky blue (distance about 0.47) were too close to tell apart at a glance.
    distance = sum((a - b) ** 2 for a, b in zip(one, two)) ** 0.5
    assert distance > 0.6
