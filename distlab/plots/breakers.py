"""Figures for notebook 03: a breaker's states and calls over time, and its state diagram.

Each function takes what an experiment of :mod:`distlab.experiments.breakers` returns.

>>> import pandas as pd
>>> moves = pd.DataFrame({"from_state": ["CLOSED", "OPEN", "HALF_OPEN"],
...                       "state": ["OPEN", "HALF_OPEN", "CLOSED"]})
>>> fig = state_diagram(moves)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from distlab._validate import check_frame
from distlab.plots.style import (
    OKABE_ITO,
    STATE_COLORS,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = ["breaker_timeline", "state_diagram"]

_CALL_OUTCOMES = ("success", "error", "timeout", "rejected")


def breaker_timeline(result, *, title: str | None = None) -> Figure:
    """A breaker at work. Top: every call at its start time and latency, coloured by outcome
    (slow calls hollow, rejected calls at zero), the breaker's state shaded behind, the
    dependency's health as a strip along the top, transitions marked. Bottom: the failure and
    slow-call rates the breaker saw, with its thresholds.

    ``result`` is a :class:`~distlab.experiments.breakers.TransitionsResult`.
    """
    calls = check_frame("result.calls", result.calls, ("start", "latency_s", "outcome", "slow"))
    fig, (top, bottom) = new_figure(2, 1, sharex=True, figsize=(9.0, 5.0),
                                    height_ratios=(2.6, 1.2))
    end = max(float(calls["start"].max()) if len(calls) else 1.0,
              float(result.states["end"].max()) if len(result.states) else 1.0)
    high = max(float(calls["latency_s"].max()) if len(calls) else 1.0, 0.1) * 1.25
    for ax in (top, bottom):
        shade_bands(ax, result.states, until=end, alpha=0.14, show_quiet=True)
    shade_bands(top, result.health, until=end, y=(high * 0.92, high), alpha=0.55)

    for outcome in _CALL_OUTCOMES:
        rows = calls[calls["outcome"] == outcome]
        if not len(rows):
            continue
        color = outcome_color(outcome)
        slow = rows["slow"].astype(bool).to_numpy()
        if (~slow).any():
            top.scatter(rows["start"][~slow], rows["latency_s"][~slow], s=9, color=color,
                        linewidths=0, label=outcome, zorder=3)
        if slow.any():
            top.scatter(rows["start"][slow], rows["latency_s"][slow], s=14, facecolors="none",
                        edgecolors=color, linewidths=0.9, label=f"{outcome} (slow)", zorder=3)
    for row in result.transitions.itertuples(index=False):
        top.axvline(row.time, color="#555555", linewidth=0.7, linestyle=":", zorder=2)
        top.text(row.time, high * 0.9, f" {row.state}", fontsize=7, rotation=90, va="top",
                 ha="left", color="#333333")
    top.set_ylim(0, high)
    top.set_ylabel("latency (s)")

    rates = result.rates
    bottom.step(rates["time"], rates["failure_rate"], where="post", color=outcome_color("error"),
                linewidth=1.4, label="failure rate")
    bottom.step(rates["time"], rates["slow_call_rate"], where="post", color=OKABE_ITO["blue"],
                linewidth=1.4, label="slow-call rate")
    thresholds = getattr(result, "thresholds", {}) or {}
    if "failure_rate_threshold" in thresholds:
        bottom.axhline(thresholds["failure_rate_threshold"], color=outcome_color("error"),
                       linestyle="--", linewidth=0.9, label="failure threshold")
    if thresholds.get("slow_call_rate_threshold", 100) < 100:
        bottom.axhline(thresholds["slow_call_rate_threshold"], color=OKABE_ITO["blue"],
                       linestyle="--", linewidth=0.9, label="slow-call threshold")
    bottom.set_ylim(0, 105)
    bottom.set_ylabel("% of window", fontsize=9)
    bottom.set_xlabel("time (s)")
    bottom.set_xlim(0, end)
    counts = calls["outcome"].value_counts()
    subtitle = ", ".join(f"{int(counts.get(o, 0))} {o}" for o in _CALL_OUTCOMES)
    return finish(fig, top, title=title or "A circuit breaker at work", subtitle=subtitle,
                  legend_title="calls, states")


_POSITIONS = {
    "CLOSED": (0.0, 0.0),
    "OPEN": (2.0, 0.0),
    "HALF_OPEN": (1.0, 1.35),
    "FORCED_OPEN": (3.3, 0.9),
    "DISABLED": (-1.3, 0.9),
    "METRICS_ONLY": (-1.3, -0.9),
}


def state_diagram(transitions: pd.DataFrame, *, title: str | None = None) -> Figure:
    """The breaker's state machine, each transition an arrow labelled with how many times the run
    took it (arrows never taken are drawn faint, with 0).

    ``transitions`` has columns ``from_state`` and ``state`` (one row per transition).
    """
    check_frame("transitions", transitions, ("from_state", "state"))
    counts = transitions.groupby(["from_state", "state"]).size().to_dict()
    usual = [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED"),
             ("HALF_OPEN", "OPEN")]
    edges = list(dict.fromkeys(usual + [e for e in counts if e[0] != e[1]]))
    states = list(dict.fromkeys(s for edge in edges for s in edge))
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.set_axis_off()
    for state in states:
        x, y = _POSITIONS.get(state, (1.0, -1.0))
        ax.text(x, y, state.replace("_", "\n") if len(state) > 9 else state, ha="center",
                va="center", fontsize=10, fontweight="bold", zorder=3,
                bbox=dict(boxstyle="round,pad=0.5", facecolor=STATE_COLORS.get(state, "#dddddd"),
                          alpha=0.35, edgecolor="#555555"))
    for source, target in edges:
        n = int(counts.get((source, target), 0))
        (x0, y0), (x1, y1) = _POSITIONS.get(source, (1, -1)), _POSITIONS.get(target, (1, -1))
        reverse = (target, source) in edges
        bend = 0.25 if reverse else 0.0
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
            mutation_scale=14, shrinkA=28, shrinkB=28, linewidth=1.2 + min(n, 20) * 0.15,
            color="#333333" if n else "#bbbbbb", zorder=2,
        )
        ax.add_patch(arrow)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        # Put the count on the bulge of a curved arrow, beside a straight one.
        nx, ny = -(y1 - y0), x1 - x0
        norm = float(np.hypot(nx, ny)) or 1.0
        offset = 0.18 + bend * 0.9
        ax.text(mx + nx / norm * offset * (-1 if bend else 1),
                my + ny / norm * offset * (-1 if bend else 1), f"{n}×", ha="center",
                va="center", fontsize=9.5, color="#111111" if n else "#999999")
    xs = [_POSITIONS.get(s, (1, -1))[0] for s in states]
    ys = [_POSITIONS.get(s, (1, -1))[1] for s in states]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    return finish(fig, ax, title=title or "Transitions taken in the run", legend=None)
