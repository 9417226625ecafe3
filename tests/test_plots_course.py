"""The course's figures: each draws what its experiment produced, in the shared colours."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from distlab import plots
from distlab.experiments import challenges, retries
from distlab.experiments.contention import contention_runs
from distlab.experiments.idempotency import retried_payments
from distlab.experiments.network import message_exchange
from distlab.plots.style import outcome_color, strategy_style


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


def test_retry_timeline_draws_every_attempt_and_every_wait():
    result = retries.timeline(seed=0)
    fig = plots.retry_timeline(result, title="course text")
    top = fig.axes[0]
    bars = [c for c in top.collections if isinstance(c, PolyCollection)][0]
    assert len(bars.get_paths()) == len(result.attempts)
    waits = [c for c in top.collections if isinstance(c, LineCollection)][0]
    assert len(waits.get_segments()) == int((result.attempts["attempt"] > 1).sum())
    assert "course text" in _title(fig)
    assert {"error", "ok", "waiting (backoff)", "gave up", "down"} <= set(_legend_labels(fig))


def test_retry_timeline_limits_lanes_but_says_so():
    result = retries.timeline(clients=12, seed=0)
    fig = plots.retry_timeline(result, max_clients=4)
    assert len(fig.axes[0].get_yticks()) == 4
    assert "4 lanes shown" in " ".join(t.get_text() for t in fig.axes[0].texts)


def test_contention_figures_use_one_style_per_strategy():
    runs = contention_runs(30, ("exponential", "full"), seed=1)
    fig = plots.contention_run_figure(runs)
    lines = fig.axes[0].get_lines()
    assert [line.get_label().split(":")[0] for line in lines] == ["exponential", "full"]
    for line in lines:
        strategy = line.get_label().split(":")[0]
        assert _same_color(line.get_color(), strategy_style(strategy)[0])
        calls = int(line.get_label().split(": ")[1].split(" calls")[0].replace(",", ""))
        assert calls == int((runs["strategy"] == strategy).sum())
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
    assert "service capacity" in _legend_labels(fig)

    budget = retries.budget_effect(seed=0)
    fig = plots.budget_figure(budget)
    assert {"no budget", "budget"} <= set(_legend_labels(fig))

    table = pd.concat([retries.amplification(mode=m) for m in retries.AMPLIFICATION_MODES])
    fig = plots.amplification_figure(table)
    heights = sorted(int(p.get_height()) for p in fig.axes[0].patches)
    assert heights[-1] == 243
    assert fig.axes[0].get_yscale() == "log"

    payments = {
        "no key": retried_payments(seed=1),
        "key": retried_payments(idempotency_keys=True, seed=1),
    }
    fig = plots.idempotency_figure(payments)
    assert sum(p.get_width() for p in fig.axes[0].patches) == 400

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
            "runs=list must be a pandas DataFrame",
        ),
        (lambda: plots.idempotency_figure({}), TypeError, "variants must be a non-empty dict"),
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


