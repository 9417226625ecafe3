"""The course's figures: each draws what its experiment produced, in the shared colours."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
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


def test_breaker_figures_draw_states_calls_and_variants():
    from distlab.experiments import breakers

    result = breakers.transitions(seed=0)
    fig = plots.breakers.breaker_timeline(result, title="recommended")
    top, bottom = fig.axes
    points = sum(len(c.get_offsets()) for c in top.collections if c.get_label() != "transition")
    assert points == len(result.calls)
    moves = result.transitions[result.transitions["from_state"] != result.transitions["state"]]
    marks = [c for c in top.collections if c.get_label() == "transition"][0]
    assert len(marks.get_offsets()) == len(moves)
    assert {"open", "half-open", "success", "rejected", "transition"} <= set(_legend_labels(fig))
    assert f"{len(moves)} transitions" in " ".join(t.get_text() for t in top.texts)
    assert [line.get_ydata()[0] for line in bottom.get_lines() if line.get_linestyle() == "--"] == [
        50.0,
        80.0,
    ]

    course = plots.breakers.breaker_timeline(breakers.transitions(breaker="course", seed=0))
    assert "keeps no rates" in " ".join(t.get_text() for t in course.axes[1].texts)

    fig = plots.breakers.state_diagram(result.transitions)
    labels = [t.get_text() for t in fig.axes[0].texts]
    opened = int(
        (
            (result.transitions["from_state"] == "CLOSED") & (result.transitions["state"] == "OPEN")
        ).sum()
    )
    assert f"{opened}×" in labels and "CLOSED" in labels

    fig = plots.breakers.with_and_without_figure(breakers.with_and_without(seed=0))
    assert {"without breaker", "with breaker"} <= set(_legend_labels(fig))
    fig = plots.breakers.half_open_figure(breakers.half_open_probing(seed=0))
    assert len(fig.axes) == 2
    assert "knocked over" in " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    fig = plots.breakers.breaker_retry_figure(breakers.breaker_and_retry(seed=0))
    assert len([t for t in _legend_labels(fig) if "requests sent" in t]) == 3


def test_cap_figures():
    from distlab.experiments import cap
    from distlab.history import History, Operation

    result = cap.run("cp", seed=0)
    fig = plots.cap_timeline(result, title="cp")
    ax = fig.axes[0]
    bars = sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PolyCollection))
    assert bars == len(result.operations)
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert all("(majority)" in lane for lane in lanes[:3]) and "(minority)" in lanes[-1]
    assert {"partition", "ok", "unavailable"} <= set(_legend_labels(fig))

    summaries = {s: cap.run(s, seed=0).summary for s in ("cp", "ap")}
    fig = plots.tradeoff_figure(summaries)
    left = fig.axes[0]
    assert sorted(round(p.get_height()) for p in left.patches) == [0, 100, 100, 100]

    history = History(
        [
            Operation(0, 0, "write", None, 1, None, "ok", 0.0, 1.0),
            Operation(1, 1, "read", None, None, None, "ok", 1.5, 2.0),
            Operation(2, 2, "cas", None, (1, 2), None, "info", 2.0, float("inf")),
        ]
    )
    fig = plots.history_intervals(history)
    assert [t.get_text() for t in fig.axes[0].texts] == ["w(1)", "r() → nil", "cas(1→2)"]

    table = cap.compare_use_case("e-commerce inventory", ("cp", "ap"), seed=0)
    fig = plots.use_case_figure(table)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(label.startswith("cp: ") for label in labels)
    assert "cp: linearizable" in " ".join(
        t.get_text() for t in fig.axes[0].texts + [fig.axes[0].title]
    )


def test_cap_figures_refuse_bad_input():
    with pytest.raises(TypeError, match="summaries must be a non-empty dict"):
        plots.tradeoff_figure({})
    with pytest.raises(ValueError, match="table is missing column"):
        plots.use_case_figure(pd.DataFrame({"store": ["cp"]}))
