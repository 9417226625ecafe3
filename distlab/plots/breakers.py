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
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_bool, check_frame
from distlab.plots.display import keep, keep_background, kept, set_limits, set_text, text_artist
from distlab.plots.style import (
    OKABE_ITO,
    STATE_COLORS,
    band_color,
    check_title,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = [
    "breaker_retry_figure",
    "breaker_timeline",
    "half_open_figure",
    "state_diagram",
    "with_and_without_figure",
]

#: Colours of the variants an experiment compares: the course's or no protection in vermillion,
#: the recommended setting in bluish green, others from the rest of the palette.
_VARIANT_COLORS = {
    "without breaker": OKABE_ITO["vermillion"],
    "with breaker": OKABE_ITO["bluish_green"],
    "course": OKABE_ITO["vermillion"],
    "recommended": OKABE_ITO["bluish_green"],
    "no retry": OKABE_ITO["grey"],
    "retry around breaker": OKABE_ITO["bluish_green"],
    "breaker around retry": OKABE_ITO["orange"],
}
_OTHER_COLORS = (
    OKABE_ITO["blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
)


def _variant_colors(variants) -> dict[str, str]:
    others = iter(_OTHER_COLORS * 4)
    return {v: _VARIANT_COLORS.get(v) or next(others) for v in variants}


_CALL_OUTCOMES = (outcomes.OK, outcomes.ERROR, outcomes.TIMEOUT, outcomes.REJECTED)


def breaker_timeline(
    result, *, title: str | None = None, compact: bool = False, figure: Figure | None = None
) -> Figure:
    """A breaker at work. Top: every call at its start time and latency, coloured by outcome
    (slow calls hollow, rejected calls at zero), the breaker's OPEN and HALF_OPEN periods shaded
    (CLOSED is left clear), each change of state a triangle in the colour of the state entered,
    and the dependency's health as a strip along the top. Bottom: the failure and slow-call
    rates the breaker saw, with its thresholds; a breaker that keeps no rates (the course's,
    which counts failures in a row) gets no bottom panel, and the subtitle says so.

    ``compact`` draws it smaller, at 80 dpi: the breaker explorer redraws it on every move of a
    control, passing the ``figure`` it got last: a figure of the same layout is updated in place
    (its axes, legend and labels kept, only what the run changes redrawn) and returned; the
    picture is the same as a new figure's.
    ``result`` is a :class:`~distlab.experiments.breakers.TransitionsResult`.

    >>> from distlab.experiments.breakers import transitions
    >>> fig = breaker_timeline(transitions(seed=0), compact=True)
    >>> breaker_timeline(transitions(seed=1), compact=True, figure=fig) is fig
    True
    """
    calls = check_frame("result.frame", result.frame, ("start", "latency_s", "outcome", "slow"))
    title = check_title(title)
    compact = check_bool("compact", compact)
    keeps_rates = len(result.rates) > 0 and not result.rates["failure_rate"].isna().all()
    thresholds = getattr(result, "thresholds", {}) or {}
    counts_slow = bool(thresholds.get("counts_slow", True))
    kind = ("breaker_timeline", keeps_rates, compact, counts_slow)
    parts = kept(figure, kind)
    if parts is None:
        figure, parts = _timeline_figure(keeps_rates, compact, counts_slow)
    end = max(
        float(calls["start"].max()) if len(calls) else 1.0,
        float(result.states["end"].max()) if len(result.states) else 1.0,
    )
    high = max(float(calls["latency_s"].max()) if len(calls) else 1.0, 0.1) * 1.25
    top, bottom = parts["top"], parts["bottom"]
    set_limits(top, y=(0, high))
    set_limits(bottom, x=(0, end))
    states = result.states[result.states["state"] != "CLOSED"]
    for state, bands in parts["bands"].items():
        rows = states[states["state"] == state]
        bands.set_verts(_spans(rows["start"], rows["end"], end, (0.0, 1.0)))
    _health_strip(parts, result.health, end, high)
    _call_marks(parts, calls, scale=parts["scale"])
    moves = result.transitions[result.transitions["from_state"] != result.transitions["state"]]
    parts["moves"].set_offsets(np.column_stack([moves["time"], np.full(len(moves), high * 0.89)]))
    parts["moves"].set_facecolors([STATE_COLORS.get(s, "#999999") for s in moves["state"]])
    if keeps_rates:
        _rate_lines(parts, result.rates, thresholds)
    counts = calls["outcome"].value_counts()
    subtitle = (
        ", ".join(f"{int(counts.get(o, 0))} {o}" for o in _CALL_OUTCOMES)
        + f"; {len(moves)} changes of state"
    )
    if not keeps_rates:
        subtitle += "; no panel of rates: this breaker counts failures in a row"
    parts["title"].set_text(title or "A circuit breaker at work")
    parts["subtitle"].set_text(subtitle)
    keep_background(figure, kind, moving=parts["moving"])
    return figure


def _timeline_figure(keeps_rates: bool, compact: bool, counts_slow: bool) -> tuple[Figure, dict]:
    """The timeline's still parts (axes, labels, legend) and its moving parts, empty."""
    size, dpi, scale = ((8.6, 4.6), 80, 1.0) if compact else ((11.0, 5.8), 100, 0.8)
    if keeps_rates:
        fig, (top, bottom) = new_figure(
            2, 1, sharex=True, figsize=size, dpi=dpi, height_ratios=(2.6, 1.2)
        )
    else:
        fig, top = new_figure(figsize=(size[0], size[1] * 0.72), dpi=dpi)
        bottom = top
    parts: dict = {"top": top, "bottom": bottom, "scale": scale}
    parts["bands"] = {
        state: _collection(top, PolyCollection([], facecolors=STATE_COLORS[state], alpha=0.16,
                                               linewidths=0, zorder=0),
                           transform=top.get_xaxis_transform())
        for state in ("OPEN", "HALF_OPEN")
    }  # fmt: skip
    parts["health"] = _collection(top, PolyCollection([], alpha=0.6, linewidths=0, zorder=0))
    parts["health_labels"] = [
        top.text(0, 0, "", ha="center", va="center", fontsize=7, color="#222222", clip_on=True)
        for _ in range(_HEALTH_LABELS)
    ]
    parts["calls"] = {
        outcome: top.scatter([], [], edgecolors=outcome_color(outcome), zorder=3,
                             label=f"_{outcome}")
        for outcome in _CALL_OUTCOMES
    }  # fmt: skip
    parts["moves"] = top.scatter([], [], marker="v", s=30 * scale, edgecolors="#333333",
                                 linewidths=0.5, zorder=4, label="_transition")  # fmt: skip
    top.set_ylabel("latency (s)")
    # Few ticks: each is several artists, and this figure is redrawn on every control change.
    top.yaxis.set_major_locator(MaxNLocator(4))
    bottom.xaxis.set_major_locator(MaxNLocator(12 if not compact else 6))
    bottom.set_xlabel("time (s)")
    if keeps_rates:
        _rate_panel(parts, bottom, counts_slow)
    finish(fig, top, title="(title)", subtitle="(subtitle)", handles=_timeline_key())
    parts["title"] = text_artist(top, "(title)")
    parts["subtitle"] = text_artist(top, "(subtitle)")
    parts.setdefault("moving", []).extend(
        [
            parts["title"],
            parts["subtitle"],
            parts["health"],
            parts["moves"],
            *parts["bands"].values(),
            *parts["calls"].values(),
        ]
    )
    return fig, keep(fig, ("breaker_timeline", keeps_rates, compact, counts_slow), parts)


def _timeline_key() -> list:
    """The legend, the same for every run: states, outcomes, slow calls, transitions."""
    return [
        Patch(facecolor=STATE_COLORS[s], alpha=0.16, label=s.lower().replace("_", "-"))
        for s in ("OPEN", "HALF_OPEN")
    ] + [
        Line2D([], [], linestyle="none", marker="o", markersize=5, color=outcome_color(o),
               label=o)
        for o in _CALL_OUTCOMES
    ] + [
        Line2D([], [], linestyle="none", marker="o", markersize=5, markerfacecolor="none",
               color="#666666", label="hollow: slow call"),
        Line2D([], [], linestyle="none", marker="v", markersize=6,
               markerfacecolor=STATE_COLORS["OPEN"],
               markeredgecolor="#333333", markeredgewidth=0.5, label="transition")
    ]  # fmt: skip


#: Labels the health strip can show (a schedule has a few bands wide enough to name).
_HEALTH_LABELS = 6


def _collection(ax, collection, transform=None):
    """Add ``collection`` to ``ax`` without touching the data limits (they are set by hand)."""
    if transform is not None:
        collection.set_transform(transform)
    return ax.add_collection(collection, autolim=False)


def _spans(starts, ends, until: float, y: tuple[float, float]) -> list:
    """Rectangles ``[start, min(end, until)) x y`` as polygons (the empty ones left out)."""
    boxes = []
    for start, stop in zip(starts, ends):
        stop = until if stop is None or not np.isfinite(stop) else min(float(stop), until)
        if stop > start:
            boxes.append([(start, y[0]), (stop, y[0]), (stop, y[1]), (start, y[1])])
    return boxes


def _health_strip(parts: dict, health: pd.DataFrame, end: float, high: float) -> None:
    """The dependency's trouble as a strip along the top, each band wide enough named in it (a
    short legend draws faster)."""
    strip = health[health["state"] != "up"] if "state" in health else health
    strip = strip[strip["start"] < end]
    parts["health"].set_verts(_spans(strip["start"], strip["end"], end, (high * 0.93, high)))
    parts["health"].set_facecolors([band_color(s) for s in strip["state"]] or "none")
    wide = [b for b in strip.itertuples(index=False) if b.end - b.start > 0.07 * end]
    for i, text in enumerate(parts["health_labels"]):  # still parts: they change with the schedule
        band = wide[i] if i < len(wide) else None
        if band is None:
            set_text(text, None)
        else:
            set_text(text, str(band.label), ((band.start + min(band.end, end)) / 2, high * 0.965))


def _call_marks(parts: dict, calls: pd.DataFrame, *, scale: float = 1.0) -> None:
    """One scatter per outcome: each call at its start and latency, slow calls hollow."""
    for outcome, marks in parts["calls"].items():
        rows = calls[calls["outcome"] == outcome]
        color = outcome_color(outcome)
        slow = rows["slow"].astype(bool).to_numpy()
        marks.set_offsets(np.column_stack([rows["start"], rows["latency_s"]]))
        marks.set_sizes(np.where(slow, 16, 9) * scale)
        marks.set_facecolors([(0, 0, 0, 0) if is_slow else color for is_slow in slow] or "none")
        marks.set_linewidths(np.where(slow, 0.9, 0.0) if len(slow) else [0.0])


def _rate_panel(parts: dict, ax, counts_slow: bool) -> None:
    """The rate panel's still parts and its lines (steps, thresholds dashed, names above)."""
    lines = [("failure_rate", "failure_rate_threshold", outcome_color(outcomes.ERROR))]
    if counts_slow:
        lines.append(("slow_call_rate", "slow_call_rate_threshold", OKABE_ITO["blue"]))
    parts["rates"] = []
    for i, (column, key, color) in enumerate(lines):
        step = ax.add_line(Line2D([], [], color=color, linewidth=1.4, drawstyle="steps-post"))
        limit = ax.add_line(Line2D([0, 1], [0, 0], color=color, linestyle="--", linewidth=0.9,
                                   transform=ax.get_yaxis_transform()))  # fmt: skip
        name = ax.text(  # one text per line instead of a legend
            0.0 + 0.5 * i, 1.03, "", transform=ax.transAxes, color=color, fontsize=8,
            va="bottom", fontweight="bold",
        )  # fmt: skip
        parts["rates"].append((column, key, step, limit, name))
        parts.setdefault("moving", []).extend([step, limit])
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 50, 100])
    ax.set_ylabel("% of window", fontsize=9)


def _rate_lines(parts: dict, rates: pd.DataFrame, thresholds) -> None:
    """The failure and slow-call rates as steps, their thresholds dashed, named above."""
    for column, key, step, limit, name in parts["rates"]:
        step.set_data(rates["time"].to_numpy(), rates[column].to_numpy())
        value = thresholds.get(key)
        text = "failure rate" if column == "failure_rate" else "slow-call rate"
        shown = value is not None and value < 100
        limit.set_visible(shown)
        if shown:
            limit.set_ydata([value, value])
            text += " (dashed: its threshold)"
        set_text(name, text)  # a still part: it changes only when a threshold reaches 100 %


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
    usual = [
        ("CLOSED", "OPEN"),
        ("OPEN", "HALF_OPEN"),
        ("HALF_OPEN", "CLOSED"),
        ("HALF_OPEN", "OPEN"),
    ]
    edges = list(dict.fromkeys(usual + [e for e in counts if e[0] != e[1]]))
    states = list(dict.fromkeys(s for edge in edges for s in edge))
    fig, ax = new_figure(figsize=(6.4, 3.6))
    ax.set_axis_off()
    for state in states:
        _state_box(ax, state)
    for source, target in edges:
        bend = 0.25 if (target, source) in edges else 0.0
        _edge(ax, source, target, int(counts.get((source, target), 0)), bend)
    xs = [_POSITIONS.get(s, (1, -1))[0] for s in states]
    ys = [_POSITIONS.get(s, (1, -1))[1] for s in states]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    return finish(fig, ax, title=title or "Transitions taken in the run", legend=None)


def _state_box(ax, state: str) -> None:
    x, y = _POSITIONS.get(state, (1.0, -1.0))
    ax.text(
        x,
        y,
        state.replace("_", "\n") if len(state) > 9 else state,
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        zorder=3,
        bbox=dict(
            boxstyle="round,pad=0.5",
            facecolor=STATE_COLORS.get(state, "#dddddd"),
            alpha=0.35,
            edgecolor="#555555",
        ),
    )


def _edge(ax, source: str, target: str, n: int, bend: float) -> None:
    """An arrow from ``source`` to ``target`` labelled ``n×`` (faint when never taken)."""
    (x0, y0), (x1, y1) = _POSITIONS.get(source, (1, -1)), _POSITIONS.get(target, (1, -1))
    arrow = FancyArrowPatch(
        (x0, y0),
        (x1, y1),
        connectionstyle=f"arc3,rad={bend}",
        arrowstyle="-|>",
        mutation_scale=14,
        shrinkA=28,
        shrinkB=28,
        linewidth=1.2 + min(n, 20) * 0.15,
        color="#333333" if n else "#bbbbbb",
        zorder=2,
    )
    ax.add_patch(arrow)
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    # Put the count on the bulge of a curved arrow, beside a straight one.
    nx, ny = -(y1 - y0), x1 - x0
    norm = float(np.hypot(nx, ny)) or 1.0
    offset = 0.18 + bend * 0.9
    ax.text(
        mx + nx / norm * offset * (-1 if bend else 1),
        my + ny / norm * offset * (-1 if bend else 1),
        f"{n}×",
        ha="center",
        va="center",
        fontsize=9.5,
        color="#111111" if n else "#999999",
    )


def with_and_without_figure(result, *, title: str | None = None) -> Figure:
    """A stalled dependency, with and without a breaker: the requests it receives per second
    (top) and the requests waiting at it (bottom); the subtitle gives what callers saw.

    ``result`` is a :class:`~distlab.experiments.breakers.WithAndWithoutResult`.
    """
    load = check_frame("result.load", result.load, ("variant", "time", "sent_per_s", "queue"))
    colors = _variant_colors(dict.fromkeys(load["variant"]))
    fig, (top, bottom) = new_figure(2, 1, sharex=True, figsize=(9.0, 4.6), height_ratios=(1.6, 1.0))
    end = float(load["time"].max()) if len(load) else 1.0
    for variant, rows in load.groupby("variant", sort=False):
        top.step(
            rows["time"],
            rows["sent_per_s"],
            where="post",
            color=colors[variant],
            linewidth=1.5,
            label=variant,
        )
        bottom.step(rows["time"], rows["queue"], where="post", color=colors[variant], linewidth=1.5)
    for ax in (top, bottom):
        shade_bands(ax, result.health, until=end)
        ax.set_ylim(bottom=0)
    top.set_ylabel("requests/s at the\ndependency", fontsize=9)
    bottom.set_ylabel("requests waiting\nat the dependency", fontsize=9)
    bottom.set_xlabel("time (s)")
    summary = result.summary
    parts = [
        f"{v}: waits {summary.loc[v, 'mean_latency_s']:.2f} s a call, "
        f"drained +{summary.loc[v, 'recovery_s']:.1f} s"
        for v in summary.index
    ]
    return finish(
        fig,
        top,
        title=title or "A dependency stalls: callers with and without a breaker",
        subtitle="; ".join(parts),
        legend_title="caller",
    )


_KNOCKED_OVER = "down (knocked over)"


def half_open_figure(result, *, title: str | None = None) -> Figure:
    """One panel per breaker: successful calls per second, the dependency's health behind
    (``down (knocked over)`` when probing overloaded it) and the breaker's state along the top.

    ``result`` is a :class:`~distlab.experiments.breakers.HalfOpenProbingResult`.
    """
    load = check_frame("result.load", result.load, ("variant", "time", "ok_per_s"))
    variants = list(dict.fromkeys(load["variant"]))
    fig, axes = new_figure(
        len(variants), 1, sharex=True, sharey=True, figsize=(9.0, 1.3 + 1.7 * len(variants))
    )
    axes = [axes] if len(variants) == 1 else axes
    end = float(load["time"].max()) if len(load) else 1.0
    high = float(load["ok_per_s"].max()) * 1.35 or 1.0
    summary = result.summary
    for ax, variant in zip(axes, variants):
        rows = load[load["variant"] == variant]
        health = result.health[result.health["variant"] == variant]
        knocked_over = health["label"] == _KNOCKED_OVER
        shade_bands(ax, health[~knocked_over], until=end, alpha=0.22)
        for band in health[knocked_over].itertuples(index=False):
            # the same state as "down", told apart by a hatch in a stronger colour
            ax.axvspan(
                band.start, min(band.end, end), facecolor=band_color("down"), alpha=0.35,
                hatch="///", edgecolor=OKABE_ITO["vermillion"], linewidth=0, label=_KNOCKED_OVER,
                zorder=0,
            )  # fmt: skip
        states = result.states[
            (result.states["variant"] == variant) & (result.states["state"] != "CLOSED")
        ]
        shade_bands(ax, states, until=end, y=(high * 0.9, high), alpha=0.8)
        ax.step(
            rows["time"],
            rows["ok_per_s"],
            where="post",
            color=outcome_color(outcomes.OK),
            linewidth=1.3,
            label="successful calls/s",
        )
        knocked = int(summary.loc[variant, "knockovers"])
        ax.text(
            0.01,
            0.8,
            f"{variant}: knocked over {knocked}×, at most "
            f"{int(summary.loc[variant, 'max_half_open_admitted'])} calls let "
            "through per half-open",
            transform=ax.transAxes,
            fontsize=8.5,
        )
        ax.set_ylim(0, high)
        ax.set_ylabel("calls/s", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    return finish(
        fig,
        axes[0],
        title=title or "Half-open probing against a fragile recovery",
        subtitle="top strip of each panel: the breaker's OPEN / HALF_OPEN periods",
        legend_title="dependency, breaker",
    )


def breaker_retry_figure(result, *, title: str | None = None) -> Figure:
    """Requests reaching a failing dependency per second, for each way of combining a breaker
    with retries; a dotted line marks when each variant's breaker first opened.

    ``result`` is a :class:`~distlab.experiments.breakers.BreakerAndRetryResult`.
    """
    load = check_frame("result.load", result.load, ("variant", "time", "sent_per_s"))
    colors = _variant_colors(dict.fromkeys(load["variant"]))
    fig, ax = new_figure(figsize=(9.0, 3.6))
    end = float(load["time"].max()) if len(load) else 1.0
    shade_bands(ax, result.health, until=end)
    summary = result.summary
    openings = result.transitions[result.transitions["state"] == "OPEN"]
    for variant, rows in load.groupby("variant", sort=False):
        label = f"{variant}: {int(summary.loc[variant, 'sent'])} requests sent"
        ax.step(
            rows["time"],
            rows["sent_per_s"],
            where="post",
            color=colors[variant],
            linewidth=1.5,
            label=label,
        )
        first = openings.loc[openings["variant"] == variant, "time"]
        if len(first):
            ax.axvline(float(first.min()), color=colors[variant], linestyle=":", linewidth=1.2)
    ax.set_ylim(bottom=0)
    return finish(
        fig,
        ax,
        title=title or "A breaker and retries: which goes inside which?",
        subtitle="dotted: when each variant's breaker first opened",
        xlabel="time (s)",
        ylabel="requests/s at the dependency",
        legend_title="variant",
    )
