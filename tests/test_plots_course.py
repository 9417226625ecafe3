"""The course's figures: each draws what its experiment produced, in the shared colours."""

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from distlab import plots
from distlab.experiments import challenges
from distlab.experiments.network import message_exchange
from distlab.plots.style import outcome_color


def _title(fig: Figure) -> str:
    return " ".join(ax.get_title(loc="left") for ax in fig.axes)


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()] + [
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]


def _same_color(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a)[:3], mcolors.to_rgba(b)[:3])


def test_exchange_figure_states_the_statistics_and_orders_nodes_by_name():
    result = message_exchange(nodes=4, messages=40, loss=0.2, seed=1)
    fig = plots.exchange_figure(result, title="scenario")
    lost = int(result.stats.loc["lost", "count"])
    assert "scenario" in _title(fig) and f"{lost} lost" in _title(fig)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    assert ax.yaxis_inverted()  # so A, the first, is drawn at the top


def test_partial_failure_figure_one_lane_per_service_coloured_by_outcome():
    result = challenges.partial_failures("slow", seed=0)
    fig = plots.partial_failure_figure(result, timeout_s=1.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split()[0] for label in labels] == ["A", "B", "C", "D"]
    assert "A (up)" in labels[0] and "D (slow)" in labels[3]
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == len(result.calls)
    colors = {mcolors.to_hex(c.get_facecolor()[0]).upper() for c in ax.collections}
    assert {outcome_color(o).upper() for o in ("ok", "error", "timeout")} <= colors


def test_ambiguity_figure_counts_each_case():
    table = challenges.timeout_ambiguity(seed=0)
    fig = plots.ambiguity_figure(table)
    bars = fig.axes[0].patches
    ran_anyway = int(table["ambiguous"].sum())
    assert [int(b.get_width()) for b in bars][2] == ran_anyway
    assert sum(int(b.get_width()) for b in bars) == len(table)


def test_write_race_and_clock_figures_put_the_share_in_the_title():
    race = challenges.write_race(trials=200, seed=0)
    share = f"{race['earlier_write_won'].mean():.0%}"
    assert share in _title(plots.write_race_figure(race))
    stamps = challenges.clock_order(events=100, seed=0)
    fig = plots.clock_order_figure(stamps, show=20)
    assert f"{stamps['misordered'].mean():.0%}" in _title(fig)
    segments = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)][0]
    assert len(segments.get_segments()) == 20
