"""The course's figures: each draws what its experiment produced, in the shared colours."""

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from distlab import plots
from distlab.experiments import retries
from distlab.experiments.contention import contention_runs
from distlab.experiments.idempotency import retried_payments
from distlab.plots.style import strategy_style


def _title(fig: Figure) -> str:
    return " ".join(ax.get_title(loc="left") for ax in fig.axes)


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()] + [
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]


def _same_color(a, b) -> bool:
    return np.allclose(mcolors.to_rgba(a)[:3], mcolors.to_rgba(b)[:3])


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
