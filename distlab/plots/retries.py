"""Figures for notebook 02: retry timelines, retry storms, contention curves, amplification.

Each function takes what an experiment of :mod:`distlab.experiments.retries`,
:mod:`distlab.experiments.contention` or :mod:`distlab.experiments.idempotency` returns (its
:class:`~distlab.experiments.Result`, or a table stacked from results) and gives back a Figure.
Outcomes are coloured with :mod:`distlab.outcomes`.

>>> import pandas as pd
>>> curves = pd.DataFrame({"strategy": ["full", "full"], "clients": [10, 20],
...                        "calls": [30.0, 90.0], "completion_s": [0.2, 0.5]})
>>> fig = contention_figure(curves)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from distlab import outcomes
from distlab._validate import check_frame
from distlab.plots.display import (
    check_figure,
    keep,
    keep_background,
    round_up,
    set_limits,
    set_titles,
    tick_label_chars,
)
from distlab.plots.display import kept as kept_parts
from distlab.plots.style import (
    OKABE_ITO,
    QUIET_STATES,
    finish,
    new_figure,
    outcome_color,
    plain_log_scale,
    shade_bands,
    strategy_style,
)

__all__ = [
    "amplification_figure",
    "backoff_figure",
    "budget_figure",
    "contention_figure",
    "contention_run_figure",
    "idempotency_figure",
    "retry_timeline",
    "storm_figure",
]

#: Outcome colour for each kind of answer a storm's attempts get.
_STORM_PARTS = (("ok", "ok"), ("down", "error"), ("overloaded", "rejected"), ("timeout", "timeout"))
_VARIANT_COLORS = {"no budget": OKABE_ITO["vermillion"], "budget": OKABE_ITO["bluish_green"]}

_ATTEMPT_COLUMNS = ("client", "call", "attempt", "start", "end", "outcome")


def retry_timeline(
    result, *, title: str | None = None, max_clients: int = 12, figure: Figure | None = None
) -> Figure:
    """Each client's attempts as bars on its own lane, the backoff waits between them as dotted
    lines, the service's health shaded; below, the load the attempts put on the service.

    ``result`` is a :class:`~distlab.experiments.retries.TimelineResult` (``frame``: one row
    per attempt, ``health``, ``load``). Only the first ``max_clients`` clients get a lane; the
    load panel counts them all. The time axis ends a little after the run's duration or the
    last attempt, rounded up (so that nearby runs share it). ``figure``: a figure this function
    returned before, updated in place when its lanes, time axis, shading and legend stay the
    same (the picture is the one a new figure shows); otherwise a new figure.
    """
    attempts = check_frame("result.frame", getattr(result, "frame", None), _ATTEMPT_COLUMNS)
    figure = check_figure(figure)
    clients = list(dict.fromkeys(attempts["client"]))
    shown = clients[:max_clients]
    lane = {client: i for i, client in enumerate(reversed(shown))}
    rows = attempts[attempts["client"].isin(lane)]
    span = max(float(attempts["end"].max()) if len(attempts) else 1.0, 1e-9)
    health = getattr(result, "health", None)
    load = getattr(result, "load", None)
    waits = _waits(rows, lane)
    gave_up = rows[rows["gave_up"].astype(bool)] if "gave_up" in rows else rows.iloc[:0]
    key = (
        tuple(shown),
        # The clients call until the run's duration: the time axis ends a little after it (or
        # after the last attempt), rounded up.
        round_up(max(span, getattr(result, "params", {}).get("duration_s", 0.0)) * 1.02, 0.1),
        tuple(dict.fromkeys(rows["outcome"])),
        waits is not None,
        len(gave_up) > 0,
        _shaded(health),
    )
    peak = float(load["rate_per_s"].max()) if load is not None and len(load) else 0.0
    load_top = round_up(peak * 1.05) if peak > 0 else 1.0
    kept = kept_parts(figure, "retry_timeline")
    if kept is not None:  # the margins come from the lanes' and the load's labels too
        set_limits(kept[2], y=(0, load_top))
    fresh = kept is None or kept[0] != (*key, tick_label_chars(kept[2].yaxis))
    if fresh:
        figure, kept = _timeline_figure(key, shown, load_top)
    top, bottom, drawn = kept[1], kept[2], kept[3]
    for artist in drawn:
        artist.remove()
    drawn[:] = _draw_attempts(top, rows, lane, span) + _draw_load(bottom, load)
    if waits is not None:
        drawn.append(_draw_waits(top, waits))
    if len(gave_up):
        drawn.append(top.scatter(gave_up["end"], gave_up["client"].map(lane), marker="x", s=40,
                                 zorder=4, color=OKABE_ITO["black"], label="gave up"))  # fmt: skip
    hidden = len(clients) - len(shown)
    subtitle = f"{len(attempts)} attempts by {len(clients)} clients" + (
        f"; {len(shown)} lanes shown" if hidden else ""
    )
    if fresh:  # after the attempts, so that the legend lists them first
        for ax in (top, bottom):
            shade_bands(ax, health, until=key[1])
        finish(figure, top, title="title", subtitle="subtitle", legend_title="attempt")
    texts = set_titles(top, title or "Retry timeline", subtitle)
    keep_background(figure, kept[0], moving=[*drawn, *texts])
    return figure


def _shaded(bands: pd.DataFrame | None) -> tuple:
    """The bands :func:`~distlab.plots.style.shade_bands` draws (not the quiet ones), as a key."""
    if bands is None or not len(bands):
        return ()
    drawn = bands[~bands["state"].isin(QUIET_STATES)]
    return tuple(map(tuple, drawn.astype(str).to_numpy()))


# keep() keeps with each figure: (its key, its two axes, the artists an update replaces)


def _timeline_figure(key: tuple, shown: list, load_top: float) -> tuple:
    """A new timeline figure: lanes, time axis and the legend's entries for outcomes."""
    fig, (top, bottom) = new_figure(2, 1, sharex=True, figsize=(9.0, 5.0), height_ratios=(3.0, 1.2))
    top.set_yticks(range(len(shown)), list(reversed(shown)), fontsize=8.5)
    top.set_ylim(-0.6, len(shown) - 0.4)
    top.set_xlim(0, key[1])
    for outcome in key[2]:  # legend entries: the bars themselves are one collection
        top.add_line(Line2D([], [], color=outcome_color(outcome), linewidth=6, label=outcome))
    bottom.set_ylabel("attempts/s", fontsize=9)
    bottom.set_xlabel("time (s)")
    bottom.set_ylim(0, load_top)
    kept = ((*key, tick_label_chars(bottom.yaxis)), top, bottom, [])
    keep(fig, "retry_timeline", kept)
    return fig, kept


def _draw_attempts(ax, rows: pd.DataFrame, lane: dict, span: float) -> list:
    """One bar per attempt on its client's lane, coloured by its outcome."""
    y = rows["client"].map(lane).to_numpy(dtype=float)
    width = np.maximum((rows["end"] - rows["start"]).to_numpy(dtype=float), 0.004 * span)
    colors = [outcome_color(o) for o in rows["outcome"]]
    starts = rows["start"].to_numpy(dtype=float)
    boxes = [
        ((x0, y0 - 0.275), (x0 + w, y0 - 0.275), (x0 + w, y0 + 0.275), (x0, y0 + 0.275))
        for x0, w, y0 in zip(starts, width, y)
    ]
    # One collection for every bar: a Rectangle per attempt is slow to build and to draw.
    return [ax.add_collection(PolyCollection(boxes, facecolors=colors, linewidths=0, zorder=3))]


def _waits(rows: pd.DataFrame, lane: dict) -> np.ndarray | None:
    """The backoff waits between a call's attempts, as segments (None if there is none)."""
    previous_end = rows.groupby(["client", "call"])["end"].shift(1)
    waits = rows[previous_end.notna()]
    if not len(waits):
        return None
    wait_y = waits["client"].map(lane).to_numpy(dtype=float)
    return np.stack(
        [
            np.column_stack([previous_end[waits.index], wait_y]),
            np.column_stack([waits["start"], wait_y]),
        ],
        axis=1,
    )


def _draw_waits(ax, segments: np.ndarray) -> LineCollection:
    """The backoff waits, as dotted segments."""
    return ax.add_collection(
        LineCollection(
            segments,
            colors=OKABE_ITO["grey"],
            linewidths=1.2,
            linestyles=(0, (1, 2)),
            zorder=2,
            label="waiting (backoff)",
        )
    )


def _draw_load(ax, load: pd.DataFrame | None) -> list:
    """The attempts started per second, as a filled step line."""
    if load is None or not len(load):
        return []
    (line,) = ax.step(
        load["time"], load["rate_per_s"], where="post", color=OKABE_ITO["blue"], linewidth=1.2
    )
    fill = ax.fill_between(
        load["time"],
        load["rate_per_s"],
        step="post",
        color=OKABE_ITO["blue"],
        alpha=0.25,
        linewidth=0,
    )
    return [line, fill]


def contention_figure(curves: pd.DataFrame, *, title: str | None = None) -> Figure:
    """The two figures of the AWS post side by side: total calls and completion time (on a log
    scale) against the number of clients, one line per strategy.

    ``curves`` has columns ``strategy, clients, calls, completion_s`` (means over seeds, e.g.
    :func:`~distlab.experiments.contention.contention_curves`).
    """
    check_frame("curves", curves, ("strategy", "clients", "calls", "completion_s"))
    fig, (left, right) = new_figure(1, 2, figsize=(9.5, 3.8))
    for strategy, rows in curves.groupby("strategy", sort=False):
        rows = rows.sort_values("clients")
        color, marker = strategy_style(strategy)
        style = dict(color=color, marker=marker, markersize=4, linewidth=1.5, label=strategy)
        left.plot(rows["clients"], rows["calls"], **style)
        right.plot(rows["clients"], rows["completion_s"], **style)
    right.set_xlabel("clients")
    left.set_ylabel("work: write attempts (calls)")
    # log scale: no jitter takes ten times longer and would squash the other curves flat
    right.set_yscale("log")
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))  # 10, not 10^1
    right.set_ylabel("time until the last success (s, log)")
    left.set_ylim(bottom=0)
    for ax in (left, right):
        ax.grid(axis="y", which="both", color="#dddddd", linewidth=0.6)
    return finish(
        fig,
        left,
        title=title or "Optimistic concurrency under contention: backoff strategies",
        xlabel="clients",
        legend_title="backoff",
    )


def backoff_figure(samples, *, title: str | None = None) -> Figure:
    """The waits before each retry, one panel per strategy: every draw as a dot, the mean as a line.

    ``samples`` is what :func:`~distlab.experiments.retries.backoff_samples` returns.
    """
    samples = check_frame("samples.frame", getattr(samples, "frame", None),
                          ("strategy", "retry", "delay_s"))  # fmt: skip
    strategies = list(dict.fromkeys(samples["strategy"]))
    fig, axes = new_figure(1, len(strategies), sharey=True, figsize=(9.5, 3.2))
    axes = [axes] if len(strategies) == 1 else axes
    rng = np.random.default_rng(0)  # horizontal jitter of the dots only, for legibility
    for ax, strategy in zip(axes, strategies):
        rows = samples[samples["strategy"] == strategy]
        color, _ = strategy_style(strategy)
        x = rows["retry"].to_numpy(dtype=float) + rng.uniform(-0.18, 0.18, size=len(rows))
        ax.scatter(x, rows["delay_s"], s=4, color=color, alpha=0.35, linewidths=0)
        means = rows.groupby("retry")["delay_s"].mean()
        ax.plot(means.index, means.to_numpy(), color=color, linewidth=1.8, marker="o", markersize=3)
        name = "exponential (no jitter)" if strategy == "exponential" else f"{strategy} jitter"
        ax.text(
            0.03,
            0.97,
            name,
            transform=ax.transAxes,
            va="top",
            fontsize=9.5,
            color=color,
            fontweight="bold",
        )
        ax.set_xticks(sorted(rows["retry"].unique()))
        ax.set_xlabel("retry")
    axes[0].set_ylim(0, float(samples["delay_s"].max()) * 1.22 or 1.0)  # room for the names
    axes[0].set_ylabel("wait before the retry (s)")
    return finish(
        fig,
        axes[0],
        title=title or "How long each strategy waits before retry n",
        subtitle="dots: individual draws; line: the mean",
        legend=None,
    )


def storm_figure(
    result, *, capacity_per_s: float | None = None, title: str | None = None
) -> Figure:
    """The load on a recovering service, one panel per strategy, stacked by what each attempt got.

    ``result`` is a :class:`~distlab.experiments.retries.StormResult`; ``capacity_per_s`` draws
    the service's capacity as a dashed line.
    """
    load = check_frame("result.load", result.load, ("strategy", "time", "rate_per_s"))
    strategies = list(dict.fromkeys(load["strategy"]))
    fig, axes = new_figure(
        len(strategies), 1, sharex=True, sharey=True, figsize=(9.0, 1.2 + 1.5 * len(strategies))
    )
    axes = [axes] if len(strategies) == 1 else axes
    recovery = result.summary
    end = float(load["time"].max()) if len(load) else 1.0
    for ax, strategy in zip(axes, strategies):
        _stack_by_outcome(ax, load[load["strategy"] == strategy])
        if capacity_per_s is not None:
            ax.axhline(
                capacity_per_s,
                color=OKABE_ITO["black"],
                linestyle="--",
                linewidth=1,
                label="service capacity",
            )
        shade_bands(ax, getattr(result, "health", None), until=end)
        caught_up = recovery.loc[strategy, "caught_up_at_s"]
        ax.text(
            1.0,
            0.95,
            f"{strategy}: all served at {caught_up:.1f} s",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8.5,
        )
        ax.set_ylabel("attempts/s", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    return finish(
        fig,
        axes[0],
        title=title or "A retry storm: many clients, one recovering service",
        legend_title="attempt got",
    )


def _stack_by_outcome(ax, rows: pd.DataFrame) -> None:
    """The attempts per second of each bin, stacked by what they got (:data:`_STORM_PARTS`)."""
    width = float(rows["time"].diff().dropna().min()) if len(rows) > 1 else 0.1
    bottom = np.zeros(len(rows))
    for column, outcome in _STORM_PARTS:
        if column in rows:
            height = rows[column].to_numpy(dtype=float) / width
            ax.bar(
                rows["time"],
                height,
                width=width,
                bottom=bottom,
                align="edge",
                color=outcome_color(outcome),
                label=column,
                linewidth=0,
            )
            bottom += height


def amplification_figure(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Requests received at each layer for one user request, one group of bars per mode.

    ``table`` stacks :func:`~distlab.experiments.retries.amplification` runs (columns ``layer,
    calls, mode``). The y axis is logarithmic: retries multiply.
    """
    check_frame("table", table, ("layer", "calls", "mode"))
    modes = list(dict.fromkeys(table["mode"]))
    layers = sorted(table["layer"].unique())
    palette = [
        OKABE_ITO["vermillion"],
        OKABE_ITO["blue"],
        OKABE_ITO["bluish_green"],
        OKABE_ITO["orange"],
    ]
    fig, ax = new_figure(figsize=(8.5, 3.6))
    width = 0.8 / max(len(modes), 1)
    for i, mode in enumerate(modes):
        rows = table[table["mode"] == mode].set_index("layer").reindex(layers)
        x = np.arange(len(layers)) + (i - (len(modes) - 1) / 2) * width
        bars = ax.bar(x, rows["calls"], width=width, color=palette[i % len(palette)], label=mode)
        ax.bar_label(bars, fontsize=8, padding=1)
    plain_log_scale(ax.yaxis)
    ax.set_xticks(range(len(layers)), [f"layer {n}" + (" (top)" if n == 1 else "") for n in layers])
    ax.set_ylim(0.8, float(table["calls"].max()) * 3)
    return finish(
        fig,
        ax,
        title=title or "One user request, retried at every layer",
        ylabel="requests received (log scale)",
        legend_title="who retries",
    )


def budget_figure(result, *, title: str | None = None) -> Figure:
    """The load on a stalled dependency with and without a retry budget, and its queue.

    ``result`` is a :class:`~distlab.experiments.retries.BudgetEffectResult`.
    """
    load = check_frame("result.load", result.load, ("variant", "time", "rate_per_s", "queue"))
    fig, (top, bottom) = new_figure(2, 1, sharex=True, figsize=(9.0, 4.6), height_ratios=(2.2, 1.0))
    end = float(load["time"].max()) if len(load) else 1.0
    for variant, rows in load.groupby("variant", sort=False):
        color = _VARIANT_COLORS.get(variant, OKABE_ITO["grey"])
        top.step(
            rows["time"],
            rows["rate_per_s"],
            where="post",
            color=color,
            linewidth=1.6,
            label=variant,
        )
        bottom.step(rows["time"], rows["queue"], where="post", color=color, linewidth=1.4)
    if "base_rate_per_s" in load and len(load):
        top.axhline(
            float(load["base_rate_per_s"].iloc[0]),
            color=OKABE_ITO["black"],
            linestyle="--",
            linewidth=1,
            label="user requests/s",
        )
    for ax in (top, bottom):
        shade_bands(ax, getattr(result, "health", None), until=end)
        ax.set_ylim(bottom=0)
    top.set_ylabel("attempts/s at the dependency", fontsize=9)
    bottom.set_ylabel("requests waiting", fontsize=9)
    bottom.set_xlabel("time (s)")
    summary = result.summary
    parts = [
        f"{v}: load ×{row['load_ratio']:.2f}, drained {row['recovery_s']:.2f} s after"
        for v, row in summary.iterrows()
    ]
    return finish(
        fig,
        top,
        title=title or "A dependency stalls: retries with and without a budget",
        subtitle="; ".join(parts),
        legend_title="retries",
    )


#: The colour of each payment verdict: what the client saw, or grey for "nothing happened".
_VERDICT_COLORS = (
    ("charged once", outcomes.color(outcomes.OK)),
    ("not charged", OKABE_ITO["grey"]),
    ("charged, client saw failure", outcomes.color(outcomes.TIMEOUT)),
    ("charged twice or more", outcomes.color(outcomes.ERROR)),
)


def idempotency_figure(result, *, title: str | None = None) -> Figure:
    """What happened to each payment, per variant, as stacked bars.

    ``result`` is what :func:`~distlab.experiments.idempotency.retried_payments` returns
    (``frame``: one row per payment, with ``variant`` and ``verdict``).
    """
    frame = check_frame("result.frame", getattr(result, "frame", None), ("variant", "verdict"),
                        what="retried_payments()")  # fmt: skip
    names = list(dict.fromkeys(frame["variant"]))
    if not names:
        raise ValueError("result.frame has no payments to draw")
    fig, ax = new_figure(figsize=(8.5, 1.3 + 0.7 * len(names)))
    left = np.zeros(len(names))
    table = pd.crosstab(frame["variant"], frame["verdict"])
    for verdict, color in _VERDICT_COLORS:
        column = table[verdict] if verdict in table else pd.Series(dtype=int)
        counts = column.reindex(names, fill_value=0).to_numpy(dtype=int)
        bars = ax.barh(names, counts, left=left, color=color, label=verdict)
        ax.bar_label(
            bars, labels=[str(c) if c else "" for c in counts], label_type="center", fontsize=8.5
        )
        left += counts
    ax.invert_yaxis()
    return finish(
        fig,
        ax,
        title=title or "Retried payments: what happened to each one",
        xlabel="payments",
        legend_title="payment",
    )


def contention_run_figure(
    runs, *, title: str | None = None, figure: Figure | None = None
) -> Figure:
    """One run per strategy: how many clients are done as time goes on (log time); the subtitle
    gives the work each strategy did (write attempts in all) and when its last client was done.

    One axes on purpose: the contention explorer redraws it on every move of a control. The time
    axis runs from a power of ten to 1, 2 or 5 times one, around the successes.
    ``runs`` is what :func:`~distlab.experiments.contention.contention_runs` returns.
    ``figure``: a figure this function returned before, updated in place when it shows the same
    strategies (the picture is the one a new figure shows); otherwise a new figure.
    """
    runs = check_frame("runs.frame", getattr(runs, "frame", None),
                       ("strategy", "client", "end", "outcome"))  # fmt: skip
    figure = check_figure(figure)
    clients = int(runs["client"].nunique())
    curves = []
    # plain numpy columns: a pandas string column is slow to iterate and compare, per frame
    strategies = runs["strategy"].to_numpy(dtype=object)
    ends = runs["end"].to_numpy(dtype=float)
    succeeded = runs["outcome"].to_numpy(dtype=object) == outcomes.OK
    for strategy in pd.unique(strategies):  # in the order of their first rows
        rows = strategies == strategy
        done = np.sort(ends[rows & succeeded])
        last = f" ({done[-1]:.1f} s)" if len(done) else " (none done)"
        xs = np.concatenate([[done[0] if len(done) else 0.0], done])
        label = f"{strategy} {int(rows.sum()):,}{last}"
        curves.append((strategy, xs, np.arange(len(done) + 1), label))
    times = np.concatenate([xs[xs > 0] for _, xs, _, _ in curves])
    # From a power of ten below the first success to 1, 2 or 5 times one above the last: round
    # numbers, shared by nearby runs (the first success comes after about one write's time).
    xlim = (0.1, 1.0)
    if len(times):
        xlim = (10.0 ** math.floor(math.log10(times.min() / 1.4)), _round_125(times.max() * 1.4))
    # The margins come from the legend's and the y axis' labels.
    key = [tuple(c[0] for c in curves)]
    kept = kept_parts(figure, "contention_run_figure")
    if kept is not None:
        set_limits(kept[1], y=(0, clients * 1.05))
    fresh = kept is None or kept[0] != (*key, tick_label_chars(kept[1].yaxis))
    if fresh:
        figure, ax = new_figure(figsize=(9.0, 3.6))
        for strategy, *_ in curves:
            ax.step([], [], where="post", color=strategy_style(strategy)[0], linewidth=1.8)
        plain_log_scale(ax.xaxis)
        ax.yaxis.set_zorder(2.55)  # drawn with the curves (over the axes' left edge only)
        ax.set_ylim(0, clients * 1.05)
        kept = ((*key, tick_label_chars(ax.yaxis)), ax)
        keep(figure, "contention_run_figure", kept)
    ax, key = kept[1], kept[0]
    for line, (strategy, xs, ys, _) in zip(ax.get_lines(), curves):
        line.set_data(xs, ys)
        line.set_label(strategy)
    set_limits(ax, x=xlim)
    heading = title or f"{clients} clients race to update one record"
    # Each strategy's work in the subtitle, not the legend: the legend stays the same.
    subtitle = "calls (last client done): " + ", ".join(label for *_, label in curves)
    if fresh:
        finish(figure, ax, title=heading, subtitle=subtitle, xlabel="time (s, log scale)",
               ylabel="clients done", legend_title="backoff")  # fmt: skip
    moving = [*ax.get_lines(), ax.yaxis, *set_titles(ax, heading, subtitle)]
    keep_background(figure, key, moving=moving, moving_y=[ax])
    return figure


# keep() keeps with each figure: (its key, its axes)


def _round_125(value: float) -> float:
    """``value`` rounded up to 1, 2 or 5 times a power of ten."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(s for s in (power * m for m in (1, 2, 5, 10)) if s >= value * (1 - 1e-12))
