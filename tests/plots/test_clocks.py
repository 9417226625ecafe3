"""plots.clocks: the space-time diagram, the LWW loss figure and the HLC drift figure."""

from __future__ import annotations

import pytest
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.text import Annotation

from distlab import plots
from distlab.experiments import clocks

from .conftest import all_legend_labels, fig_title, png


@pytest.fixture(scope="module")
def run():
    return clocks.lamport_concurrency(seed=0)


def _texts(ax) -> list[str]:
    """The timestamp labels: annotations without an arrow (the subtitle is a plain text)."""
    return [
        t.get_text()
        for t in ax.texts
        if isinstance(t, Annotation) and t.arrow_patch is None and t.get_text()
    ]


@pytest.mark.parametrize(
    ("timestamp", "first"),
    [("lamport", "1"), ("vector", "[0,0,1]"), ("hlc", "ms,0")],
)
def test_space_time_labels_every_event_with_the_chosen_timestamp(run, timestamp, first):
    fig = plots.space_time_figure(run, timestamp=timestamp)
    ax = fig.axes[0]
    labels = _texts(ax)
    assert len(labels) == len(run.frame)
    assert any(first in label for label in labels)
    if timestamp == "vector":
        expected = {"[" + ",".join(map(str, v)) + "]" for v in run.frame["vector"]}
        assert set(labels) == expected
    arrows = [a for a in ax.texts if isinstance(a, Annotation) and a.arrow_patch is not None]
    assert len(arrows) == (run.frame["kind"] == "deliver").sum()
    assert timestamp in fig_title(fig)
    assert png(fig)


def test_space_time_rings_the_misleading_pair_and_draws_each_clock(run):
    fig = plots.space_time_figure(run, timestamp="none")
    assert _texts(fig.axes[0]) == []
    assert "concurrent, yet Lamport orders them against real time" in all_legend_labels(fig)
    clock_ax = fig.axes[1]
    lines = [line for line in clock_ax.get_lines() if line.get_label() in run.processes]
    assert len(lines) == 3
    for line, node in zip(lines, run.processes):
        error = run.trace.loc[run.trace["node"] == node, "error"].to_numpy() * 1000
        assert line.get_ydata() == pytest.approx(error)


def test_lww_loss_figure_draws_points_and_the_closed_form_for_each_skew():
    result = clocks.lww_skew(skews_s=[0.01, 0.03], gaps_s=[0.0, 0.01, 0.02], pairs=300)
    fig = plots.lww_loss_figure(result)
    ax = fig.axes[0]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == 6
    curves = [line for line in ax.get_lines() if "closed form" in line.get_label()]
    assert len(curves) == 2
    assert curves[1].get_ydata()[0] == pytest.approx(0.5)
    labels = all_legend_labels(fig)
    assert "skew ±30 ms: simulation" in labels and "skew ±10 ms: closed form" in labels


def test_hlc_drift_figure_shows_the_naive_clock_running_away():
    result = clocks.hlc_drift(duration_s=0.5, seed=0)
    fig = plots.hlc_drift_figure(result)
    top, bottom = fig.axes[:2]
    naive = [line for line in top.get_lines() if line.get_label() == "naive hybrid clock"][0]
    assert max(naive.get_ydata()) == pytest.approx(result.summary.loc["naive", "max_ahead_s"] * 1e3)
    bound = [line for line in bottom.get_lines() if isinstance(line, Line2D)][0]
    eps_ms = result.summary.loc["hlc", "eps_s"] * 1000 + 1.0
    assert bound.get_ydata()[0] == pytest.approx(eps_ms)
    assert f"{result.summary.loc['naive', 'final_ahead_s'] * 1000:.0f} ms ahead" in " ".join(
        t.get_text() for t in top.texts
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r: plots.space_time_figure(r.frame), TypeError, r"lamport_concurrency\(\)"),
        (lambda r: plots.space_time_figure(r, timestamp="wall"), ValueError, r"timestamp='wall'"),
        (lambda r: plots.space_time_figure(r, title=3), TypeError, r"title=3"),
        (lambda r: plots.lww_loss_figure(r), TypeError, r"result=LamportResult must be .*lww"),
        (lambda r: plots.hlc_drift_figure(None), TypeError, r"hlc_drift\(\)"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(run, call, error, message):
    with pytest.raises(error, match=message):
        call(run)


def test_lww_loss_figure_marks_a_gap_and_says_its_loss():
    result = clocks.lww_skew(skews_s=[0.02], gaps_s=[0.0, 0.01], pairs=400, seed=1)
    fig = plots.lww_loss_figure(result, mark_gap_s=0.01)
    rate = result.summary["loss_rate"].iloc[1]
    assert f"writes 10 ms apart: {rate:.1%} of the later ones lost" in " ".join(
        t.get_text() for t in fig.axes[0].texts
    )
    assert any(list(line.get_xdata()) == [10.0, 10.0] for line in fig.axes[0].get_lines())
    with pytest.raises(ValueError, match=r"mark_gap_s=0.005 is not one of the gaps"):
        plots.lww_loss_figure(result, mark_gap_s=0.005)


@pytest.mark.parametrize("timestamp", ["vector", "lamport", "hlc"])
def test_space_time_labels_do_not_overlap_and_the_vector_order_is_stated(run, timestamp):
    fig = plots.space_time_figure(run, timestamp=timestamp)
    ax = fig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    labels = [
        t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is None and t.get_text()
    ]
    boxes = [t.get_window_extent(renderer) for t in labels]
    clashes = [
        (labels[i].get_text(), labels[j].get_text())
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]
    assert clashes == []
    subtitle = " ".join(t.get_text() for t in ax.texts if not isinstance(t, Annotation))
    assert ("vector = [a, b, c]" in subtitle) == (timestamp == "vector")
    # the legend sits below the figure: the lanes keep the whole width
    assert ax.get_position().x1 > 0.9
