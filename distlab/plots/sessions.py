"""Figures for experiment 1 of notebook 05: read routing and the price of session guarantees.

- :func:`ryw_rate_figure`: read-your-writes violations against the client's think time, one
  line per replication lag, one panel per read routing (from
  :func:`distlab.experiments.read_routing.ryw_grid`), with the exponential model dashed where a
  session reads replicas;
- :func:`guarantee_price_figure`: per variant, the violations it lets through against what it
  pays for them (read latency, waits, errors, redirects), without and with a fault (from
  :func:`distlab.experiments.read_routing.read_routing`, one result per fault).

They draw from tables only, never from a simulation.

>>> from distlab.experiments.read_routing import ryw_grid
>>> g = ryw_grid(["any"], lags_s=[0.05, 0.2], thinks_s=[0.0, 0.1], cycles=10)
>>> [t.get_text() for t in ryw_rate_figure(g).axes[0].texts if t.get_gid() == "variant"]
['any']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_frame
from distlab.plots.display import keep, keep_background, kept, round_up, set_limits
from distlab.plots.replication import primary_until, stale_read_rows
from distlab.plots.style import (
    OKABE_ITO,
    band_color,
    check_result,
    check_title,
    finish,
    new_figure,
    outcome_color,
)

__all__ = [
    "FAULT_COLORS",
    "PRICE_PANELS",
    "guarantee_price_figure",
    "ryw_rate_figure",
    "session_timeline",
]

_LAG_COLORS = (
    OKABE_ITO["sky_blue"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"], OKABE_ITO["orange"],
    OKABE_ITO["vermillion"], OKABE_ITO["reddish_purple"], OKABE_ITO["black"],
)  # fmt: skip
#: The variants whose sessions read replicas with no check: ``exp(-think/lag)`` is drawn for them.
_MODELLED = ("any", "sticky")
#: Fault of a :func:`read_routing` run -> bar colour in :func:`guarantee_price_figure`.
FAULT_COLORS: dict[str, str] = {
    "none": OKABE_ITO["grey"],
    "replica-cut": OKABE_ITO["blue"],
    "replica-isolated": OKABE_ITO["sky_blue"],
    "primary-crash": OKABE_ITO["vermillion"],
}
#: The panels of :func:`guarantee_price_figure`: (summary column, x label).
PRICE_PANELS = (
    ("ryw_violation_rate", "read-your-writes violations\n(per answered read)"),
    ("mr_violations", "monotonic-reads violations"),
    ("read_latency_mean_s", "read latency (ms)\nbar: mean, tick: p99"),
    ("waits", "waits for the session token"),
    ("read_errors", "reads refused or timed out"),
    ("redirects", "reads sent on to the primary"),
)
_SUMMARY_COLUMNS = (*(c for c, _ in PRICE_PANELS), "read_latency_p99_s")


def ryw_rate_figure(grid, *, model: bool = True, title: str | None = None) -> Figure:
    """Read-your-writes violation rate (per answered read) against the think time between a
    write and the session's read of it, one line per replication lag (mean of the
    exponential), one panel per variant of ``grid`` (a
    :func:`~distlab.experiments.read_routing.ryw_grid` result, or its ``frame``).

    With ``model``, the panels of sessions that read replicas unchecked (``any``, ``sticky``)
    also show dashed the chance that a write's own replication delay (exponential, mean
    ``lag``) outlasts the wait before a read: ``exp(-think/lag)`` for the first read of a cycle,
    ``exp(-2 think/lag)`` for the second, so ``(exp(-think/lag) + exp(-2 think/lag)) / 2`` per
    read. It is a reference, not a fit: the measured rate runs above it, because a replica
    applies its log in order (a write also waits behind the writes before it, which the model
    ignores); the network's delays (the acknowledgement and the read's request give the
    replica a few more milliseconds) pull the other way, visible only at lags of a few
    milliseconds.

    >>> from distlab.experiments.read_routing import ryw_grid
    >>> g = ryw_grid(["any", "read_your_writes"], lags_s=[0.1], thinks_s=[0.0, 0.2], cycles=10)
    >>> fig = ryw_rate_figure(g)
    >>> [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "variant"]
    ['any', 'read_your_writes']
    """
    frame = getattr(grid, "frame", grid)
    check_frame("grid", frame, ("variant", "lag_s", "think_s", "ryw_violation_rate"),
                what="ryw_grid()")  # fmt: skip
    if not isinstance(model, bool):
        raise TypeError(f"model={model!r} must be True or False")
    title = check_title(title)
    if frame.empty:
        raise ValueError("grid has no rows: run ryw_grid over at least one lag and think time")
    variants = list(dict.fromkeys(frame["variant"]))
    lags = sorted(dict.fromkeys(frame["lag_s"]))
    width = min(3.2 * len(variants) + 2.2, 15.0)
    fig, axes = new_figure(1, len(variants), figsize=(width, 3.6), sharey=True)
    axes = axes if isinstance(axes, list) else [axes]
    for ax, variant in zip(axes, variants):
        rows = frame[frame["variant"] == variant]
        for i, lag in enumerate(lags):
            color = _LAG_COLORS[i % len(_LAG_COLORS)]
            line = rows[rows["lag_s"] == lag].sort_values("think_s")
            ax.plot(line["think_s"], line["ryw_violation_rate"], color=color, marker="o",
                    markersize=4, linewidth=1.6, label=f"lag {lag:g} s")  # fmt: skip
            if model and variant in _MODELLED and lag > 0:
                think = np.linspace(0.0, float(line["think_s"].max()), 60)
                chance = (np.exp(-think / lag) + np.exp(-2 * think / lag)) / 2
                ax.plot(think, chance, color=color, linestyle="--",
                        linewidth=1.0, alpha=0.8, label="_model")  # fmt: skip
        ax.text(0.97, 0.97, str(variant), transform=ax.transAxes, ha="right", va="top",
                fontsize=10, fontweight="bold", gid="variant")  # fmt: skip
        ax.set_xlabel("think time (s)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(color="#eeeeee", linewidth=0.6)
    axes[0].set_ylabel("read-your-writes violations (per answered read)")
    handles = []
    if model and any(v in _MODELLED for v in variants):
        handles = [Line2D([], [], color="#555555", linestyle="--",
                          label="dashed, in each lag's colour: its model\n"
                                "(e^(-think/lag) + e^(-2 think/lag)) / 2")]  # fmt: skip
    seed = (getattr(grid, "params", None) or {}).get("seed")
    return finish(
        fig, axes[0],
        title=title or "Reading your own write back: how often a session misses it",
        subtitle=f"{_reads(frame)} reads per point" + (f"; seed {seed}" if seed is not None
                                                       else ""),
        legend_title="replication lag", handles=handles,
    )  # fmt: skip


def _reads(frame: pd.DataFrame) -> str:
    if "reads" not in frame.columns:
        return "?"
    low, high = int(frame["reads"].min()), int(frame["reads"].max())
    return f"{low}" if low == high else f"{low}-{high}"


def guarantee_price_figure(results: Any, *, title: str | None = None) -> Figure:
    """What each variant lets through and what it pays: one panel per column of
    :data:`PRICE_PANELS` (violations, read latency with its p99, waits, errors, redirects), a
    row of bars per variant, one bar per run of ``results`` (a
    :func:`~distlab.experiments.read_routing.read_routing` result or a list of them, e.g. one
    without a fault and one with; each coloured by its ``fault``, :data:`FAULT_COLORS`).

    >>> from distlab.experiments.read_routing import read_routing
    >>> runs = [read_routing(["any", "read_your_writes"], cycles=10, fault=f)
    ...         for f in ("none", "replica-cut")]
    >>> fig = guarantee_price_figure(runs)
    >>> len(fig.axes), [t.get_text() for t in fig.legends[0].get_texts()]
    (6, ['no fault', 'replica cut'])
    """
    title = check_title(title)
    runs = [results] if hasattr(results, "summary") else results
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Iterable):
        raise TypeError(f"results={type(results).__name__} must be a read_routing() result "
                        "or a list of them")  # fmt: skip
    runs = list(runs)
    if not runs:
        raise ValueError("results=[] is empty: give at least one read_routing() result")
    faults = []
    for i, run in enumerate(runs):
        check_result(f"results[{i}]", run, ("summary", "params"), what="read_routing()")
        check_frame(f"results[{i}].summary", run.summary, _SUMMARY_COLUMNS,
                    what="read_routing()")  # fmt: skip
        fault = run.params.get("fault", "none")
        if fault not in FAULT_COLORS:
            raise ValueError(f"results[{i}] has fault={fault!r}; allowed: "
                             f"{', '.join(FAULT_COLORS)}")  # fmt: skip
        faults.append(fault)
    if len(set(faults)) < len(faults):
        raise ValueError(f"results have faults {faults}: give one run per fault")
    variants = list(dict.fromkeys(v for run in runs for v in run.summary.index))
    fig, axes = new_figure(2, 3, figsize=(11.0, 2.2 + 0.45 * len(variants) * 2), sharey=True)
    height = 0.8 / len(runs)
    ys = np.arange(len(variants))[::-1].astype(float)
    for k, (run, fault) in enumerate(zip(runs, faults)):
        s = run.summary.reindex(variants)
        offset = ys + 0.4 - height * (k + 0.5)
        for ax, (column, _) in zip(axes, PRICE_PANELS):
            scale = 1000.0 if column.endswith("_s") else 1.0
            ax.barh(offset, s[column].to_numpy(float) * scale, height=height * 0.9,
                    color=FAULT_COLORS[fault], label="_bar")  # fmt: skip
            if column == "read_latency_mean_s":
                ax.plot(s["read_latency_p99_s"].to_numpy(float) * 1000.0, offset,
                        linestyle="none", marker="|", markersize=9, markeredgewidth=1.6,
                        color="#222222", label="_p99")  # fmt: skip
                _mean_labels(ax, s, offset)
    _price_axes(axes, runs, variants)
    for ax in axes[::3]:
        ax.set_yticks(ys, variants)
    fig.subplots_adjust(wspace=0.12)
    p = runs[0].params
    handles = [Patch(color=FAULT_COLORS[f], label=_fault_label(f)) for f in faults]
    fig = finish(
        fig, axes[0], title=title or "The price of each session guarantee",
        subtitle=f"lag {p.get('lag_s', math.nan):g} s, think {p.get('think_s', math.nan):g} s, "
        f"{p.get('clients')} clients x {p.get('cycles')} cycles, on_behind="
        f"{p.get('on_behind')}; seed {p.get('seed')}",
        legend_title="fault", handles=handles,
    )  # fmt: skip
    # Room between the rows for the first row's tick labels and axis labels (0.65 in).
    sp = fig.subplotpars
    rows_in = (sp.top - sp.bottom) * fig.get_figheight()
    fig.subplots_adjust(hspace=0.65 / ((rows_in - 0.65) / 2))
    return fig


def _price_axes(axes, runs: list, variants: list) -> None:
    """Each panel's label and limits; a panel with nothing in any run says so, rather than look
    broken."""
    for ax, (column, label) in zip(axes, PRICE_PANELS):
        ax.set_xlabel(label, fontsize=9)
        ax.set_xlim(0, 1.0 if column == "ryw_violation_rate" else max(ax.get_xlim()[1], 1.0))
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
        values = np.concatenate([run.summary.reindex(variants)[column].to_numpy(float)
                                 for run in runs])  # fmt: skip
        if not np.nansum(np.abs(values)):
            ax.text(0.5, 0.5, "none in these runs", transform=ax.transAxes, ha="center",
                    va="center", fontsize=8.5, color="#666666")  # fmt: skip


def _mean_labels(ax, summary: pd.DataFrame, offset) -> None:
    """Each mean latency in ms beside its bar, past the p99 tick: a 4 ms bar on a 500 ms axis
    is too short to see, its number is not."""
    mean = summary["read_latency_mean_s"].to_numpy(float) * 1000.0
    p99 = summary["read_latency_p99_s"].to_numpy(float) * 1000.0
    for m, tail, y in zip(mean, p99, offset):
        if np.isfinite(m):
            ax.annotate(f"{m:.0f}", (np.nanmax([m, tail]), y), xytext=(5, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=7,
                        color="#333333")  # fmt: skip


def _fault_label(fault: str) -> str:
    return "no fault" if fault == "none" else fault.replace("-", " ")


# -- the session explorer's figure: a compact timeline whose artists are updated in place ------

_GUARANTEE_SHORT = {  # the usual abbreviations (Terry et al.)
    "read_your_writes": "RYW",
    "monotonic_reads": "MR",
    "writes_follow_reads": "WFR",
    "monotonic_writes": "MW",
}
_RUN_FIELDS = ("frame", "summary", "applied", "failovers", "crashes", "sessions", "params")
_RUN_COLUMNS = ("variant", "client", "f", "key", "node", "served_by", "stamp", "start", "end",
                "outcome")  # fmt: skip
_MARKS = {  # artist id -> (legend label, line style keywords)
    "applied": ("write applied", dict(marker="|", markersize=9, markeredgewidth=1.0,
                                      color="#333333", zorder=2)),
    "fresh": ("fresh read", dict(marker="o", markersize=4.5, color=outcome_color(outcomes.OK),
                                 markeredgecolor="white", markeredgewidth=0.4, zorder=3)),
    "stale": ("stale read", dict(marker="o", markersize=4.5,
                                 color=outcome_color(outcomes.STALE_READ),
                                 markeredgecolor="white", markeredgewidth=0.4, zorder=3)),
    "failed": ("no answer", dict(marker="v", markersize=5,
                                                color=outcome_color(outcomes.TIMEOUT),
                                                markeredgecolor="white", zorder=3)),
    "lost": ("acknowledged write lost", dict(marker="X", markersize=9,
                                             color=outcome_color(outcomes.LOST_WRITE),
                                             markeredgecolor="white", zorder=4)),
    "ringed": ("guarantee violated", dict(marker="o", markersize=13,
                                                  markerfacecolor="none",
                                                  markeredgecolor=OKABE_ITO["reddish_purple"],
                                                  markeredgewidth=1.6, zorder=5)),
    "promoted": ("promoted to primary", dict(marker="*", markersize=15,
                                             color=OKABE_ITO["orange"], markeredgecolor="#333333",
                                             markeredgewidth=0.6, zorder=5)),
}  # fmt: skip


def session_timeline(
    result, *, variant: str | None = None, title: str | None = None, figure: Figure | None = None
) -> Figure:
    """A small :func:`~distlab.experiments.read_routing.read_routing` run of one ``variant`` as
    a compact replication timeline (one lane per node, the primary thick, each write's ticks
    where it was applied joined to the primary's, reads fresh or stale on the node that answered,
    unanswered operations as triangles, the crash shaded, a promotion starred, acknowledged
    writes a failover lost crossed, the earliest violation of each guarantee per session
    ringed), and under it the count of sessions violating each guarantee and the price
    (waits, errors, redirects, read latency).

    ``figure``: a figure this function returned before, for the same number of nodes: its
    artists are updated in place (an explorer's fast path); any other figure, or ``None``,
    builds a new one.

    >>> from distlab.experiments.read_routing import read_routing
    >>> r = read_routing("any", clients=2, cycles=5, seed=0)
    >>> fig = session_timeline(r)
    >>> fig.texts[0].get_text().splitlines()[0]
    'sessions violating RYW 2/2, MR 2/2, WFR 0/2, MW 0/2'
    >>> session_timeline(read_routing("primary", clients=2, cycles=5), figure=fig) is fig
    True
    """
    check_result("result", result, _RUN_FIELDS, what="read_routing()")
    title = check_title(title)
    if figure is not None and not isinstance(figure, Figure):
        raise TypeError(f"figure={type(figure).__name__} must be a matplotlib Figure or None")
    ops = check_frame("result.frame", result.frame, _RUN_COLUMNS, what="read_routing()")
    variants = list(dict.fromkeys(ops["variant"]))
    if variant is None:
        if not variants:
            raise ValueError("result.frame has no rows: nothing to draw")
        variant = variants[0]
    elif variant not in variants:
        raise ValueError(f"variant={variant!r} must be one of {', '.join(map(repr, variants))}")
    nodes = [f"n{i}" for i in range(1, int(result.params.get("nodes", 3)) + 1)]
    data = _timeline_data(result, variant, nodes)
    art = kept(figure, ("session_timeline", tuple(nodes)))
    if art is None:
        figure, art = _timeline_build(nodes)
    _timeline_update(art, data)
    art["title"].set_text(title or f"A session's reads: {variant}")
    moving = [art[key] for key in ("primary", "segments", "title", "subtitle", "counts", *_MARKS)]
    keep_background(figure, tuple(nodes), moving=[*moving, *art["crash"], *art["labels"]])
    return figure


def _cut(table: pd.DataFrame, variant: str) -> pd.DataFrame:
    if "variant" not in table.columns:
        return table.reset_index(drop=True)
    return table[table["variant"] == variant].reset_index(drop=True)


def _timeline_data(result, variant: str, nodes: list[str]) -> dict[str, Any]:
    """Every coordinate the timeline shows, from the run's tables."""
    ops = _cut(result.frame, variant)
    applied = _cut(result.applied, variant).sort_values("time", kind="stable")
    failovers = _cut(result.failovers, variant)
    crashes = _cut(result.crashes, variant)
    y = {n: len(nodes) - 1 - i for i, n in enumerate(nodes)}
    start, end = ops["start"].to_numpy(float), ops["end"].to_numpy(float)
    mid = (start + np.where(np.isfinite(end), end, start)) / 2
    served = [y.get(str(n), 0) for n in ops["served_by"]]
    asked = [y.get(str(n), 0) for n in ops["node"]]
    failed = ops["outcome"].isin((outcomes.TIMEOUT, outcomes.UNAVAILABLE, outcomes.ERROR))
    reads = (ops["f"] == "read") & ~failed
    stale = np.zeros(len(ops), bool)
    stale[stale_read_rows(ops)] = True
    d: dict[str, Any] = {
        "fresh": (mid[reads & ~stale], [s + 0.18 for s, r in zip(served, reads & ~stale) if r]),
        "stale": (mid[reads & stale], [s + 0.18 for s, r in zip(served, reads & stale) if r]),
        "failed": (start[failed], [a - 0.22 for a, f in zip(asked, failed) if f]),
    }
    first: dict[Any, tuple[float, float]] = {}
    segments, ticks, lost = [], ([], []), ([], [])
    lost_flags = applied["lost"] if "lost" in applied.columns else [False] * len(applied)
    acked = {tuple(st) for f, st, o in zip(ops["f"], ops["stamp"], ops["outcome"])
             if f == "write" and o == outcomes.OK and st is not None}  # fmt: skip
    for node, t, stamp, was_lost in zip(applied["node"], applied["time"], applied["stamp"],
                                        lost_flags):  # fmt: skip
        point = (float(t), float(y.get(str(node), 0)))
        stamp = tuple(stamp)
        if stamp in first:
            segments.append([first[stamp], point])
        else:
            first[stamp] = point
        ticks[0].append(point[0])
        ticks[1].append(point[1])
        if was_lost and stamp in acked:
            lost[0].append(point[0])
            lost[1].append(point[1])
    d.update(applied=ticks, lost=lost, segments=segments)
    *d["ringed"], rings = _rings(ops, result.sessions.get(variant), mid, served)
    d["ring_labels"] = list(zip(*d["ringed"], rings))
    d["promoted"] = ([float(t) for t in failovers["time"]],
                     [y.get(str(n), 0) for n in failovers["new"]])  # fmt: skip
    d["promotion_labels"] = [(float(t), y.get(str(n), 0), f"{n} promoted")
                             for t, n in zip(failovers["time"], failovers["new"])]  # fmt: skip
    d["end"] = max([1.0, *start, *end[np.isfinite(end)], *ticks[0]]) * 1.02
    primary, since, xs, ys = nodes[0], 0.0, [], []
    for t, new in zip(failovers["time"], failovers["new"]):
        xs += [since, primary_until(crashes, primary, since=since, until=float(t)), math.nan]
        ys += [y[primary]] * 2 + [math.nan]
        primary, since = str(new), float(t)
    d["primary"] = ([*xs, since, d["end"]], [*ys, y[primary], y[primary]])
    d["crash"] = [
        (float(a), float(b) if math.isfinite(b) else d["end"], y.get(str(n), 0))
        for a, b, n in zip(crashes["start"], crashes["end"], crashes["node"])
    ]
    d["counts"] = _counts(result, variant)
    return d


def _rings(ops: pd.DataFrame, report, mid, served) -> tuple[list, list, list]:
    """Where each violation is ringed, and its label: the guarantee and the session
    (``"RYW c2"``)."""
    xs, ys, labels = [], [], []
    if report is None:
        return xs, ys, labels
    clients, start = ops["client"].astype(str).to_numpy(), ops["start"].to_numpy(float)
    for v in report.violations:
        hit = np.flatnonzero((clients == str(v.operation.process))
                             & np.isclose(start, v.operation.invoke))  # fmt: skip
        if len(hit):
            xs.append(float(mid[hit[0]]))
            ys.append(served[hit[0]] + 0.18)
            labels.append(f"{_GUARANTEE_SHORT.get(v.guarantee, v.guarantee)} {v.process}")
    return xs, ys, labels


def _counts(result, variant: str) -> str:
    s = result.summary.loc[variant]
    report = result.sessions.get(variant)
    sessions = len(report.sessions) if report is not None else 0
    violated = report.violated() if report is not None else {}
    guarantees = ", ".join(f"{_GUARANTEE_SHORT.get(g, g)} {n}/{sessions}"
                           for g, n in violated.items())  # fmt: skip
    return (
        f"sessions violating {guarantees}\n"
        f"price: {int(s['waits'])} waits, errors {int(s['read_errors'])} reads "
        f"{int(s['write_errors'])} writes, {int(s['redirects'])} redirects, read "
        f"{s['read_latency_mean_s'] * 1000:.0f} ms mean {s['read_latency_p99_s'] * 1000:.0f} p99"
    )


def _timeline_build(nodes: list[str]) -> tuple[Figure, dict[str, Any]]:
    """A new figure with every artist the timeline updates, empty."""
    fig, ax = new_figure(figsize=(9.0, 3.5), dpi=80)
    art: dict[str, Any] = {"nodes": nodes, "ax": ax, "labels": []}
    for node in nodes:
        ax.plot([0, 1e9], [len(nodes) - 1 - nodes.index(node)] * 2, color="#bbbbbb",
                linewidth=0.8, zorder=0.5, label="_lane")  # fmt: skip
    art["crash"] = []
    art["primary"] = ax.plot([], [], color="#444444", linewidth=3.2, solid_capstyle="butt",
                             zorder=1, label="primary")[0]  # fmt: skip
    art["segments"] = LineCollection([], colors="#9a9a9a", linewidths=0.7, alpha=0.7,
                                     zorder=1.5)  # fmt: skip
    ax.add_collection(art["segments"], autolim=False)
    for key, (label, style) in _MARKS.items():
        art[key] = ax.plot([], [], linestyle="none", label=label, **style)[0]
    ax.set_yticks(range(len(nodes)), nodes[::-1])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(nodes) - 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(6))
    handles = [Patch(color=band_color("crashed"), alpha=0.25, label="crash")]
    finish(fig, ax, title=" ", subtitle=" ", xlabel="time (s)", handles=handles)
    anchor = fig.legends[0].get_bbox_to_anchor()  # room for every entry; each update shows
    art["legend_at"] = tuple(fig.transFigure.inverted().transform((anchor.x0, anchor.y1)))
    art["title"] = ax.set_title(" ", fontsize=11, loc="left", pad=17)
    art["subtitle"] = ax.texts[-1]
    sp = fig.subplotpars
    fig.subplots_adjust(bottom=sp.bottom + 0.42 / fig.get_figheight())
    art["counts"] = fig.text(sp.left, 0.02, "", fontsize=8.5, color="#333333", ha="left",
                             va="bottom")  # fmt: skip
    return fig, keep(fig, ("session_timeline", tuple(nodes)), art)


def _timeline_legend(art: dict[str, Any], d: dict[str, Any]) -> None:
    """The legend names only what this run shows (no crash, no star, no ring when none)."""
    fig = art["ax"].figure
    entries = [Patch(color=band_color("crashed"), alpha=0.25, label="crash")] if d["crash"] else []
    entries += [art["primary"], *(art[key] for key in _MARKS if len(d[key][0]))]
    labels = [e.get_label() for e in entries]
    if art.get("legend_labels") == labels:
        return  # the same entries: a new legend would make the kept background redraw
    art["legend_labels"] = labels
    for legend in list(fig.legends):
        legend.remove()
    fig.legend(entries, labels, loc="upper left", fontsize=8.5,
               frameon=False, alignment="left", bbox_to_anchor=art["legend_at"])  # fmt: skip


def _timeline_update(art: dict[str, Any], d: dict[str, Any]) -> None:
    ax = art["ax"]
    for key in _MARKS:
        art[key].set_data(*d[key])
    art["primary"].set_data(*d["primary"])
    art["segments"].set_segments(d["segments"])
    for patch in art["crash"]:
        patch.remove()
    art["crash"] = [ax.add_patch(Rectangle((a, yy - 0.4), b - a, 0.8, color=band_color("crashed"),
                                           alpha=0.2, zorder=0.2, linewidth=0))
                    for a, b, yy in d["crash"]]  # fmt: skip
    for text in art["labels"]:
        text.remove()
    art["labels"] = [
        ax.text(x, yy + 0.3, label, fontsize=8, ha="left", va="bottom", color="#333333")
        for x, yy, label in d["promotion_labels"]
    ]
    art["labels"] += [
        ax.annotate(
            label,
            (x, yy),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=7,
            color=OKABE_ITO["reddish_purple"],
            ha="left",
            va="bottom",
            zorder=6,
        )
        for x, yy, label in d["ring_labels"]
    ]
    _timeline_legend(art, d)
    set_limits(ax, x=(0, round_up(d["end"], 0.5)))  # rounded: nearby runs share the axis
    art["counts"].set_text(d["counts"])
    fresh, stale = len(d["fresh"][0]), len(d["stale"][0])
    art["subtitle"].set_text(
        f"{fresh + stale} reads answered, {stale} stale; {len(d['failed'][0])} unanswered"
    )
