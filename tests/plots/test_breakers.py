"""Figures of notebook 03 (circuit breakers): distlab.plots.breakers."""

from __future__ import annotations

import pandas as pd
import pytest

from distlab import plots
from distlab.experiments import breakers
from distlab.plots.style import outcome_color

from .conftest import all_legend_labels

#: The band states of plots.style.STATE_COLORS (after the style rewrite, "recovering" included).
BAND_STATES = {
    "CLOSED", "OPEN", "HALF_OPEN", "up", "down", "slow", "flaky", "recovering", "partitioned",
    "crashed", "loss_burst", "overloaded", "healed",
}  # fmt: skip


def test_breaker_figures_draw_states_calls_and_variants():
    result = breakers.transitions(seed=0)
    fig = plots.breakers.breaker_timeline(result, title="recommended")
    top, bottom = fig.axes
    # one scatter per outcome (labelled "_ok"...: the legend lists every outcome, drawn or not)
    by_label = {c.get_label(): c for c in top.collections}
    points = sum(
        len(by_label[f"_{o}"].get_offsets()) for o in ("ok", "error", "timeout", "rejected")
    )
    assert points == len(result.frame)
    moves = result.transitions[result.transitions["from_state"] != result.transitions["state"]]
    marks = by_label["_transition"]
    assert len(marks.get_offsets()) == len(moves)
    assert {"open", "half-open", "ok", "rejected", "transition"} <= set(all_legend_labels(fig))
    assert f"{len(moves)} changes of state" in " ".join(t.get_text() for t in top.texts)
    assert [line.get_ydata()[0] for line in bottom.get_lines() if line.get_linestyle() == "--"] == [
        50.0,
        80.0,
    ]

    # the course's breaker keeps no rates: no empty panel, and the subtitle says why
    course = plots.breakers.breaker_timeline(breakers.transitions(breaker="course", seed=0))
    assert len(course.axes) == 1
    assert "counts failures in a row" in " ".join(t.get_text() for t in course.axes[0].texts)
    compact = plots.breakers.breaker_timeline(result, compact=True)
    assert compact.dpi == 80 and len(compact.axes) == 2

    fig = plots.breakers.state_diagram(result.transitions)
    labels = [t.get_text() for t in fig.axes[0].texts]
    opened = int(
        (
            (result.transitions["from_state"] == "CLOSED") & (result.transitions["state"] == "OPEN")
        ).sum()
    )
    assert f"{opened}×" in labels and "CLOSED" in labels

    fig = plots.breakers.with_and_without_figure(breakers.with_and_without(seed=0))
    assert {"without breaker", "with breaker"} <= set(all_legend_labels(fig))
    assert all(ax.get_ylabel() for ax in fig.axes)  # each axis says what it counts
    assert "requests waiting" in fig.axes[1].get_ylabel()  # a unit, not "its queue"
    fig = plots.breakers.half_open_figure(breakers.half_open_probing(seed=0))
    assert len(fig.axes) == 2
    assert "knocked over" in " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    fig = plots.breakers.breaker_retry_figure(breakers.breaker_and_retry(seed=0))
    assert len([t for t in all_legend_labels(fig) if "requests sent" in t]) == 3


def test_breaker_tables_use_exact_outcome_words_and_state_keys():
    result = breakers.transitions(seed=0)
    for outcome in set(result.frame["outcome"]):
        outcome_color(outcome)  # only distlab.outcomes words are accepted after the merge
    assert set(result.states["state"]) <= BAND_STATES
    assert set(result.health["state"]) <= BAND_STATES
    probing = breakers.half_open_probing(seed=0, duration_s=120)
    assert set(probing.health["state"]) <= BAND_STATES


def test_breaker_timeline_refuses_a_table_without_its_columns():
    result = breakers.transitions(duration_s=20)
    broken = type(result)(**{**result.__dict__, "frame": pd.DataFrame({"start": [0.0]})})
    with pytest.raises(ValueError, match="result.frame is missing column"):
        plots.breakers.breaker_timeline(broken)
