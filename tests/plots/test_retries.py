"""The retry figures of notebook 02: each draws what its experiment returned, in the shared
colours (moved here from tests/test_plots_course.py)."""

import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from distlab import outcomes, plots
from distlab.experiments import retries
from distlab.experiments.contention import contention_runs
from distlab.experiments.idempotency import retried_payments
from distlab.plots.style import strategy_style

from .conftest import all_legend_labels, fig_title, same_color


def _legend_handles(fig: Figure) -> dict:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return {t.get_text(): h for lg in legends for t, h in zip(lg.get_texts(), lg.legend_handles)}


def test_retry_timeline_draws_every_attempt_and_every_wait():
    result = retries.timeline(seed=0)
    fig = plots.retry_timeline(result, title="course text")
    top = fig.axes[0]
    bars = [c for c in top.collections if isinstance(c, PolyCollection)][0]
    assert len(bars.get_paths()) == len(result.frame)
    waits = [c for c in top.collections if isinstance(c, LineCollection)][0]
    assert len(waits.get_segments()) == int((result.frame["attempt"] > 1).sum())
    assert "course text" in fig_title(fig)
    assert {"error", "ok", "waiting (backoff)", "gave up", "down"} <= set(all_legend_labels(fig))


def test_retry_timeline_limits_lanes_but_says_so():
    result = retries.timeline(clients=12, seed=0)
    fig = plots.retry_timeline(result, max_clients=4)
    assert len(fig.axes[0].get_yticks()) == 4
    assert "4 lanes shown" in " ".join(t.get_text() for t in fig.axes[0].texts)


def test_contention_figures_use_one_style_per_strategy():
    runs = contention_runs(("exponential", "full"), clients=30, seed=1)
    fig = plots.contention_run_figure(runs)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["exponential", "full"]
    # each strategy's work in the subtitle (the legend stays the same from run to run)
    subtitle = [t for t in fig.axes[0].texts if t.get_position() == (0.0, 1.015)][0].get_text()
    assert subtitle.startswith("calls (last client done): ")
    parts = subtitle.removeprefix("calls (last client done): ").split("), ")
    for line, part in zip(lines, parts, strict=True):
        strategy = line.get_label()
        assert same_color(line.get_color(), strategy_style(strategy)[0])
        assert part.startswith(f"{strategy} ")
        calls = int(part.split(" ")[1].replace(",", ""))
        assert calls == int((runs.frame["strategy"] == strategy).sum())
    curves = pd.DataFrame(
        {
            "strategy": ["full"] * 2,
            "clients": [10, 20],
            "calls": [30.0, 90.0],
            "completion_s": [0.2, 0.5],
        }
    )
    fig = plots.contention_figure(curves)
    assert len(fig.axes) == 2 and list(fig.axes[0].get_lines()[0].get_ydata()) == [30.0, 90.0]


def test_storm_budget_amplification_idempotency_and_backoff_figures():
    storm = retries.storm(seed=0)
    fig = plots.storm_figure(storm, capacity_per_s=40)
    assert len(fig.axes) == storm.load["strategy"].nunique()
    assert "service capacity" in all_legend_labels(fig)

    budget = retries.budget_effect(seed=0)
    fig = plots.budget_figure(budget)
    assert {"no budget", "budget"} <= set(all_legend_labels(fig))
    assert fig.axes[1].get_ylabel() == "requests waiting"  # a unit, not "queue"

    table = pd.concat([retries.amplification(m).frame for m in retries.AMPLIFICATION_MODES])
    fig = plots.amplification_figure(table)
    heights = sorted(int(p.get_height()) for p in fig.axes[0].patches)
    assert heights[-1] == 243
    assert fig.axes[0].get_yscale() == "log"

    payments = retried_payments(seed=1)
    fig = plots.idempotency_figure(payments)
    assert sum(p.get_width() for p in fig.axes[0].patches) == 400
    colors = {k: h.get_facecolor() for k, h in _legend_handles(fig).items()}
    assert same_color(colors["charged twice or more"], outcomes.color("error"))
    assert same_color(colors["charged once"], outcomes.color("ok"))

    samples = retries.backoff_samples(("exponential", "full"), retries=4, samples=30)
    fig = plots.backoff_figure(samples)
    assert len(fig.axes) == 2


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: plots.contention_figure(pd.DataFrame({"strategy": ["x"]})),
            ValueError,
            "curves is missing column",
        ),
        (
            lambda: plots.contention_run_figure([1, 2]),
            TypeError,
            "runs.frame=NoneType must be a pandas DataFrame",
        ),
        (lambda: plots.idempotency_figure({}), TypeError, "result.frame=NoneType must be"),
        (lambda: plots.retry_timeline(pd.DataFrame()), TypeError, "result.frame=NoneType must"),
        (
            lambda: plots.amplification_figure(pd.DataFrame({"layer": [1]})),
            ValueError,
            "table is missing column",
        ),
    ],
)
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_storm_figure_colours_each_part_by_its_outcome():
    fig = plots.storm_figure(retries.storm(("exponential",), clients=20, seed=0))
    legend = _legend_handles(fig)
    for part, word in (("ok", "ok"), ("down", "error"), ("overloaded", "rejected")):
        assert same_color(legend[part].get_facecolor(), outcomes.color(word))


def test_contention_run_figure_counts_the_clients_done():
    runs = contention_runs("full", clients=25, seed=2)
    line = plots.contention_run_figure(runs).axes[0].get_lines()[0]
    assert line.get_ydata()[-1] == 25  # every client ends with exactly one ok write
