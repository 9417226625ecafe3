"""Notebook 06's figures: operations during a partition, the trade-off, histories, use cases."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.text import Text

from distlab import outcomes, plots
from distlab.experiments import cap
from distlab.history import History, Operation
from distlab.plots.style import STATE_COLORS

from .conftest import all_legend_labels, same_color


def test_cap_timeline_draws_every_operation_in_its_outcome_colour():
    result = cap.run("cp", seed=0)
    fig = plots.cap_timeline(result, title="cp")
    ax = fig.axes[0]
    bars = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert sum(len(c.get_paths()) for c in bars) == len(result.frame)
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert all("(majority)" in lane for lane in lanes[:3]) and "(minority)" in lanes[-1]
    assert {"partition", "ok", "unavailable"} <= set(all_legend_labels(fig))
    colors = {tuple(np.round(c, 3)) for coll in bars for c in coll.get_facecolors()}
    unavailable = mcolors.to_rgba(outcomes.color(outcomes.UNAVAILABLE))
    assert tuple(np.round(unavailable, 3)) in colors  # drawn in the error colour, not grey
    band = next(p for p in ax.patches if p.get_label() == "partition")
    assert same_color(band.get_facecolor(), STATE_COLORS["partitioned"])


def test_tradeoff_figure_takes_the_stacked_summaries():
    summaries = pd.concat([cap.run(s, seed=0).summary for s in ("cp", "ap")])
    fig = plots.tradeoff_figure(summaries)
    left = fig.axes[0]
    assert sorted(round(p.get_height()) for p in left.patches) == [0, 100, 100, 100]
    assert [t.get_text().split("\n")[0] for t in fig.axes[1].get_xticklabels()] == ["cp", "ap"]


def test_history_intervals_labels_and_colours_by_type():
    history = History(
        [
            Operation(0, 0, "write", None, 1, None, "ok", 0.0, 1.0),
            Operation(1, 1, "read", None, None, None, "ok", 1.5, 2.0),
            Operation(2, 2, "cas", None, (1, 2), None, "info", 2.0, float("inf")),
        ]
    )
    fig = plots.history_intervals(history)
    assert [t.get_text() for t in fig.axes[0].texts] == ["w(1)", "r() → nil", "cas(1→2)"]
    assert set(all_legend_labels(fig)) == {"ok", "info"}
    colors = [p.get_facecolor() for p in fig.axes[0].patches]
    assert same_color(colors[0], outcomes.color("ok"))
    assert same_color(colors[2], outcomes.color("timeout"))  # info: HISTORY_OUTCOME says so


def test_history_intervals_of_an_empty_history():
    fig = plots.history_intervals(History([]))  # used to fail in matplotlib: NaN axis limits
    assert fig.axes[0].get_xlim() == (0.0, 1.0) and not fig.axes[0].texts


def test_use_case_figure_one_panel_per_store_with_its_verdict():
    table = cap.compare_use_case("e-commerce inventory", ("cp", "ap"), seed=0).frame
    fig = plots.use_case_figure(table)
    cp, ap = fig.axes
    assert (cp.get_title(loc="left"), ap.get_title(loc="left")) == ("cp", "ap")
    assert [t.get_text() for t in cp.texts][-1] == "linearizable"  # after the bar labels
    assert [t.get_text() for t in ap.texts][-1] == "not-linearizable"
    counts = table.set_index(["store", "consequence"])["count"]
    consequences = list(dict.fromkeys(table["consequence"]))
    for ax, store in ((cp, "cp"), (ap, "ap")):
        assert [p.get_width() for p in ax.patches] == [counts[store, c] for c in consequences]
    # the colour key is a legend that names what the colours mean, not a colour word
    assert set(all_legend_labels(fig)) == {"harmful for this use case", "tolerable for it"}
    words = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "red" not in words.split() and "orange" not in words.split()


def test_use_case_figure_cuts_no_label_and_no_title():
    # The explorer's title is long and two consequences are long: wrapped, never cut or clipped.
    table = cap.compare_use_case("banking", ("cp", "course-quorum", "ap"), seed=0).frame
    title = (
        "banking: the course picks CP (consistency critical); majority-minority partition; "
        "a title longer than the figure is wide"
    )
    fig = plots.use_case_figure(table, title=title)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    inside = fig.bbox.padded(1)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), text
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert all("…" not in t for t in ticks)
    assert [t.replace("\n", " ") for t in ticks] == list(dict.fromkeys(table["consequence"]))
    shown = " ".join(t.get_text().replace("\n", " ") for t in texts)
    assert title in shown


def test_history_intervals_says_the_unit_of_time():
    history = History([Operation(0, 0, "write", None, 1, None, "ok", 0.0, 1.0)])
    assert plots.history_intervals(history).axes[0].get_xlabel() == "time (s)"
    lines = plots.history_intervals(history, xlabel="log line")
    assert lines.axes[0].get_xlabel() == "log line"


def test_cap_figures_refuse_bad_input():
    with pytest.raises(TypeError, match="summaries=dict must be a pandas DataFrame"):
        plots.tradeoff_figure({})
    with pytest.raises(ValueError, match="summaries is missing column"):
        plots.tradeoff_figure(pd.DataFrame({"verdict": ["x"]}))
    empty = pd.concat([cap.run("cp", seed=0).summary]).iloc[:0]
    with pytest.raises(ValueError, match="summaries has no rows"):
        plots.tradeoff_figure(empty)
    with pytest.raises(ValueError, match="table is missing column"):
        plots.use_case_figure(pd.DataFrame({"store": ["cp"]}))
    bad = History([Operation(0, 0, "write", None, 1, None, "ok", 0.0, 1.0)]).to_frame()
    with pytest.raises(ValueError, match="history type='success' must be one of 'ok', 'fail'"):
        plots.history_intervals(bad.assign(type="success"))
