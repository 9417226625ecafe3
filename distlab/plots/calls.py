"""Figures of calls between services: an outcome timeline per lane and latency distributions.

Colours are the project's outcome colours (:mod:`distlab.outcomes`): a timeout is orange in the
timeline and in the latency histogram, as in every other notebook. An ``outcome`` that is not one
of those words is refused with a ``ValueError``.

>>> from distlab.experiments.challenges import partial_failures
>>> calls = partial_failures("slow", duration_s=2.0, seed=0).frame
>>> fig = call_timeline(calls, title="Caller with a 1 s timeout")
>>> fig = latency_distribution(calls, by="service", timeout_s=1.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from distlab import outcomes as outcome_words
from distlab._validate import check_frame, check_int, check_number
from distlab.plots.style import (
    OUTCOME_ORDER,
    check_figsize,
    check_names,
    check_title,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = ["call_timeline", "latency_distribution"]

_MAX_SUBROWS = 6  # concurrent calls in one lane are stacked in at most this many thin rows
_MAX_PANELS = 40  # latency_distribution draws at most this many groups


def call_timeline(
    calls: pd.DataFrame,
    *,
    health: pd.DataFrame | None = None,
    title: str | None = None,
    lane: str = "service",
    lanes: list | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """One lane per ``calls[lane]`` value, each call a bar from ``start`` to ``end`` by outcome.

    ``calls`` has columns ``lane`` (default ``"service"``; ``"client"`` etc. also work),
    ``start``, ``end`` (seconds) and ``outcome`` (a word of :mod:`distlab.outcomes`). Calls
    that overlap in time are stacked in thin rows inside their lane so none hides
    another; a call of zero duration (rejected fast) still shows as a thin bar. A missing
    ``end`` (still running when the run stopped) is drawn up to the last time in the frame.

    ``health`` (optional, e.g. ``HealthSchedule.bands()`` with a lane column added) has columns
    ``lane`` (same name as ``lane``; or ``"lane"``), ``start``, ``end``, ``state`` (a key of
    :data:`~distlab.plots.style.STATE_COLORS`) and optionally ``label``; each band is shaded
    behind its own lane ("up" periods are not shaded).

    ``lanes`` fixes which lanes appear, top to bottom (default: order of first appearance).
    Empty ``calls`` give a valid empty timeline with a note.

    >>> calls = pd.DataFrame({"service": ["A", "B"], "start": [0.0, 0.1],
    ...                       "end": [0.05, 1.1], "outcome": ["ok", "timeout"]})
    >>> fig = call_timeline(calls, title="Two calls")
    """
    df, health = _check_timeline_inputs(calls, lane, health)
    check_title(title)
    figsize = check_figsize(figsize)
    order = _lane_order(df[lane], lanes, health[lane] if health is not None else None)
    y_of = {name: i for i, name in enumerate(order)}

    size = figsize or (9.0, max(2.4, min(7.0, 1.3 + 0.6 * max(len(order), 1))))
    fig, ax = new_figure(figsize=size)

    df = df[df[lane].isin(y_of)]
    outcomes = _draw_calls(ax, df, lane, y_of, health, order)
    present = set(outcomes)
    ordered = [o for o in OUTCOME_ORDER if o in present]  # legend in the project's order
    handles = [Patch(facecolor=outcome_color(o), label=o) for o in ordered]
    counts = pd.Series(outcomes).value_counts()
    subtitle = f"{len(df)} calls" + (
        ": " + ", ".join(f"{counts[o]} {o}" for o in ordered) if len(df) else ""
    )
    return finish(
        fig,
        ax,
        title=title or f"Calls by {lane}",
        xlabel="time (s)",
        ylabel=lane,
        subtitle=subtitle,
        handles=handles,
    )


def latency_distribution(
    calls: pd.DataFrame,
    *,
    by: str | None = "service",
    timeout_s: float | None = None,
    title: str | None = None,
    bins: int = 40,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Histogram of call latency, one panel per ``calls[by]`` group, stacked by outcome.

    Latency is ``calls["latency"]`` when present, else ``end - start`` (seconds). Each bar is
    split by ``outcome`` in the project's outcome colours (words of :mod:`distlab.outcomes`; if
    there is no outcome column, all calls count as "ok"), so a fast failure and a slow timeout
    look different at a glance. The median and 99th percentile are written on each panel;
    ``timeout_s`` is drawn as a dashed vertical line. ``by=None`` gives one panel for all
    calls. Bins are shared by every panel.

    Empty ``calls`` give a valid empty figure with a note.

    >>> calls = pd.DataFrame({"service": ["A", "A", "D"], "start": [0.0, 1.0, 2.0],
    ...                       "end": [0.05, 1.06, 3.0], "outcome": ["ok", "ok", "timeout"]})
    >>> fig = latency_distribution(calls, timeout_s=1.0)
    """
    df = _check_latency_inputs(calls, by)
    check_title(title)
    figsize = check_figsize(figsize)
    bins = check_int("bins", bins, 1, 10_000)
    if timeout_s is not None:
        timeout_s = check_number("timeout_s", timeout_s, 0.0, 86_400.0, min_inclusive=False)
    latency, outcome, df = _latencies(df)
    groups = list(dict.fromkeys(df[by])) if by is not None else ["all calls"]
    if len(groups) > _MAX_PANELS:
        raise ValueError(
            f"by={by!r} makes {len(groups)} panels; at most {_MAX_PANELS} are drawn "
            "(group by a column with fewer values)"
        )
    groups = groups or ["(no calls)"]
    n = len(groups)
    size = figsize or (9.0, max(2.6, min(8.0, 0.8 + 1.15 * n)))
    fig, axes = new_figure(n, 1, sharex=True, figsize=size)
    axes = axes if isinstance(axes, list) else [axes]

    ordered = _draw_panels(fig, axes, df, by, groups, latency, outcome, bins, timeout_s)
    handles = [Patch(facecolor=outcome_color(o), label=o) for o in ordered]
    if timeout_s is not None:
        handles.append(
            Line2D([], [], color="#333333", linestyle=(0, (4, 3)), linewidth=1.1,
                   label=f"timeout = {timeout_s:g} s")
        )  # fmt: skip
    name = by if by is not None else "all calls"
    fig = finish(fig, axes[0], title=title or f"Latency by {name}", handles=handles)
    if n > 1:
        fig.subplots_adjust(hspace=0.25)
    return fig


def _draw_panels(fig, axes, df, by, groups, latency, outcome, bins, timeout_s) -> list[str]:
    """One histogram panel per group on shared bins; returns the outcomes drawn, in order."""
    top = float(latency.max()) if len(latency) else 1.0
    if timeout_s is not None:
        top = max(top, float(timeout_s))
    top = top * 1.04 if top > 0 else 1.0
    edges = np.linspace(0.0, top, bins + 1)
    present = set(outcome)
    ordered = [o for o in OUTCOME_ORDER if o in present]
    for ax, group in zip(axes, groups):
        mask = (df[by] == group).to_numpy() if by is not None else np.ones(len(df), bool)
        lat, out = latency.to_numpy()[mask], outcome.to_numpy()[mask]
        _latency_panel(ax, str(group), lat, out, edges=edges, ordered=ordered, timeout_s=timeout_s)
    for ax in axes[:-1]:
        ax.tick_params(axis="x", labelbottom=False)
    axes[-1].set_xlim(0.0, top)
    axes[-1].set_xlabel("latency (s)")
    fig.supylabel("calls", fontsize=10, x=0.01)
    return ordered


def _check_latency_inputs(calls, by) -> pd.DataFrame:
    if by is not None and not isinstance(by, str):
        raise TypeError(f"by={by!r} must be a column name (str) or None")
    needed = ("latency",) if "latency" in getattr(calls, "columns", ()) else ("start", "end")
    df = check_frame("calls", calls, needed)
    if by is not None:
        _check_column("by", by, df)
    return df


def _latencies(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Each call's latency and outcome, and the calls, without those of unknown latency."""
    latency = (
        df["latency"].astype(float)
        if "latency" in df.columns
        else df["end"].astype(float) - df["start"].astype(float)
    )
    outcome = (
        _outcomes(df["outcome"])
        if "outcome" in df.columns
        else pd.Series(outcome_words.OK, index=df.index)
    )
    keep = latency.notna().to_numpy()
    return latency[keep], outcome[keep], df[keep]


def _latency_panel(ax, group: str, lat, out, *, edges, ordered: list, timeout_s) -> None:
    """One group's histogram, stacked by outcome, the timeout as a dashed line, and the group's
    name and percentiles written on it."""
    bottom = np.zeros(len(edges) - 1)
    for o in ordered:
        counts, _ = np.histogram(lat[out == o], bins=edges)
        if counts.any():
            # One artist per outcome (stairs), not one rectangle per bin: much faster.
            ax.stairs(bottom + counts, edges, baseline=bottom.copy(), fill=True,
                      color=outcome_color(o), linewidth=0)  # fmt: skip
            bottom += counts
    if timeout_s is not None:
        ax.axvline(timeout_s, color="#333333", linestyle=(0, (4, 3)), linewidth=1.1, zorder=3)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    ax.set_ylim(0, max(1.0, bottom.max()) * 1.25)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    if len(lat):
        p50, p99 = np.percentile(lat, [50, 99])
        stats = f"n={len(lat)}   median {_fmt_s(p50)}   p99 {_fmt_s(p99)}"
    else:
        stats = "no calls"
    box = dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5)
    ax.text(0.005, 0.97, group, transform=ax.transAxes, ha="left", va="top", fontsize=10,
            fontweight="bold", bbox=box)  # fmt: skip
    ax.text(0.995, 0.97, stats, transform=ax.transAxes, ha="right", va="top", fontsize=8.5,
            color="#333333", bbox=box)  # fmt: skip


def _draw_calls(ax, df: pd.DataFrame, lane: str, y_of: dict, health, order: list) -> np.ndarray:
    """Every call as a bar in its lane, the health bands behind; returns the calls' outcomes."""
    t_min = min(float(df["start"].min()) if len(df) else 0.0, 0.0)
    t_max = _nanmax(df["end"], df["start"], health["end"] if health is not None else None)
    if not np.isfinite(t_max) or t_max <= t_min:
        t_max = t_min + 1.0
    # One PolyCollection for every bar (fast for thousands of calls).
    verts = _call_bars(df, lane, y_of, t_min, t_max)
    outcomes = df["outcome"].astype(str).to_numpy()
    colors = [outcome_color(o) for o in outcomes]
    if len(verts):
        ax.add_collection(PolyCollection(verts, facecolors=colors, edgecolors="none", zorder=2))
    _shade_health(ax, health, lane, y_of, t_max)
    _lane_axis(ax, order, t_min, t_max + 0.01 * (t_max - t_min))
    if len(df) == 0:
        ax.text(
            0.5, 0.5, "no calls", transform=ax.transAxes, ha="center", va="center", color="#777777"
        )
    return outcomes


def _check_timeline_inputs(calls, lane, health):
    if not isinstance(lane, str):
        raise TypeError(f"lane={lane!r} must be a column name (str)")
    df = check_frame("calls", calls, ("start", "end", "outcome"))
    _check_column("lane", lane, df)
    _outcomes(df["outcome"])
    return df, (None if health is None else _check_health(health, lane))


def _shade_health(ax, health, lane: str, y_of: dict, t_max: float) -> None:
    """Each health band behind its own lane."""
    if health is None:
        return
    for name, rows in health.groupby(lane, sort=False):
        if name in y_of:
            y = y_of[name]
            shade_bands(ax, rows, y=(y - 0.5, y + 0.5), until=t_max, alpha=0.2)


def _check_column(param: str, column: str, calls: pd.DataFrame) -> None:
    if column not in calls.columns:
        have = ", ".join(map(str, calls.columns))
        raise ValueError(f"{param}={column!r} is not a column of calls; it has {have}")


def _outcomes(column: pd.Series) -> pd.Series:
    """``calls["outcome"]`` as strings, refused (ValueError) if any is not an outcome word."""
    words = column.astype(str)
    for word in dict.fromkeys(words):
        outcome_words.check_outcome(word, param='calls["outcome"] value')
    return words


def _call_bars(df: pd.DataFrame, lane: str, y_of: dict, t_min: float, t_max: float) -> np.ndarray:
    """Each call's bar as 4 vertices; calls that overlap in a lane get rows inside it."""
    ends = df["end"].fillna(t_max).to_numpy(dtype=float)
    starts = df["start"].to_numpy(dtype=float)
    widths = np.maximum(ends - starts, 0.003 * (t_max - t_min))  # a 0 s call still shows
    lane_pos = df[lane].map(y_of).to_numpy(dtype=float)
    sub, nsub = _pack(df[lane].to_numpy(), starts, starts + widths)
    band_h = 0.8  # per-lane row count: a lane with no overlapping calls keeps full-height bars
    h = band_h / nsub
    y0 = lane_pos - band_h / 2 + sub * h
    gap = np.minimum(0.15 * h, 0.02)
    return np.stack(
        [
            np.column_stack([starts, y0 + gap]),
            np.column_stack([starts + widths, y0 + gap]),
            np.column_stack([starts + widths, y0 + h - gap]),
            np.column_stack([starts, y0 + h - gap]),
        ],
        axis=1,
    )


def _lane_axis(ax, order: list, t_min: float, t_right: float) -> None:
    """Time limits, one lane per name (the first at the top) with a thin line between lanes."""
    ax.set_xlim(t_min, t_right)
    ax.set_ylim(max(len(order), 1) - 0.5, -0.5)
    ax.set_yticks(range(len(order)), [str(n) for n in order])
    for y in range(len(order) - 1):
        ax.axhline(y + 0.5, color="#e3e3e3", linewidth=0.8, zorder=1)
    ax.tick_params(axis="y", length=0, labelsize=10)


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _check_health(health, lane: str) -> pd.DataFrame:
    check_frame("health", health, ())
    if lane not in health.columns and "lane" in health.columns:
        health = health.rename(columns={"lane": lane})
    return check_frame("health", health, (lane, "start", "end", "state"))


def _lane_order(values: pd.Series, lanes, health_lanes) -> list:
    if lanes is not None:
        return check_names("lanes", lanes)
    seen = list(dict.fromkeys(values.dropna()))
    if health_lanes is not None:
        seen += [h for h in dict.fromkeys(health_lanes.dropna()) if h not in seen]
    return seen


def _nanmax(*series) -> float:
    values = [float(s.max()) for s in series if s is not None and len(s) and s.notna().any()]
    values = [v for v in values if np.isfinite(v)]
    return max(values) if values else 0.0


def _pack(lanes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give each call a row inside its lane so overlapping calls do not cover each other.

    Greedy interval partitioning by start time; beyond ``_MAX_SUBROWS`` rows, rows are reused
    (the busiest lanes then overlap a little rather than becoming unreadably thin).
    Returns each call's row and the number of rows of its lane.
    """
    sub = np.zeros(len(starts), dtype=int)
    if len(starts) == 0:
        return sub, np.ones(0, dtype=int)
    free_at: dict = {}
    for i in np.lexsort((starts, lanes.astype(str))):
        rows = free_at.setdefault(lanes[i], [])
        for r, t in enumerate(rows):
            if t <= starts[i]:
                rows[r] = ends[i]
                sub[i] = r
                break
        else:
            if len(rows) < _MAX_SUBROWS:
                rows.append(ends[i])
                sub[i] = len(rows) - 1
            else:
                r = int(np.argmin(rows))
                rows[r] = ends[i]
                sub[i] = r
    nrows = {name: len(rows) for name, rows in free_at.items()}
    return sub, np.array([nrows[name] for name in lanes], dtype=int)
