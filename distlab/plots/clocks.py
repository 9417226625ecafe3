"""Figures of time and order (notebook 07): a space-time diagram with each event's timestamp and
each node's clock against real time, the last-writer-wins loss under skew (simulation and closed
form), and the hybrid logical clock against the naive one.

Each takes the result of its experiment in :mod:`distlab.experiments.clocks`:

>>> from distlab.experiments import clocks
>>> fig = space_time_figure(clocks.lamport_concurrency(seed=0), timestamp="vector")
>>> fig = lww_loss_figure(clocks.lww_skew(pairs=200))
>>> fig = hlc_drift_figure(clocks.hlc_drift(duration_s=0.5))
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from distlab._validate import check_choice, check_number
from distlab.plots.display import check_figure, keep, keep_background, set_limits, set_titles
from distlab.plots.display import kept as kept_parts
from distlab.plots.style import OKABE_ITO, check_result, check_title, finish, new_figure

__all__ = ["TIMESTAMPS", "hlc_drift_figure", "lww_loss_figure", "space_time_figure"]

#: The timestamps :func:`space_time_figure` can write beside each event.
TIMESTAMPS = ("lamport", "vector", "hlc", "none")

_NODE_COLORS = [
    OKABE_ITO[k] for k in ("blue", "reddish_purple", "bluish_green", "orange", "sky_blue", "black")
]
_MARKERS = {"send": ">", "deliver": "s", "write": "o"}


def _label(row, timestamp: str) -> str:
    if timestamp == "lamport":
        return str(row.lamport)
    if timestamp == "vector":
        return "[" + ",".join(str(c) for c in row.vector) + "]"
    if timestamp == "hlc":
        return f"{row.hlc_l / 1000:.1f}ms,{row.hlc_c}"
    return ""


#: Label rows beside a lane, nearest first: offsets in points (above > 0, below < 0).
_LABEL_ROWS = (8, -9, 17, -18, 26, -27)


def _label_rows(frame, timestamp: str, seconds_per_point: float) -> list[int]:
    """An offset per event so that no two labels on one lane overlap: each label takes the
    nearest row beside its lane still free at its time (the last row if none is)."""
    free_from: dict[tuple[str, int], float] = {}
    rows = []
    for row in frame.itertuples(index=False):
        # half the label's width (DejaVu Sans at 7 pt: about 0.56 em a character) plus a gap
        half = (len(_label(row, timestamp)) * 0.56 * 7 / 2 + 3.5) * seconds_per_point
        start, end = row.time - half, row.time + half
        pick = next((r for r in _LABEL_ROWS if free_from.get((row.node, r), -np.inf) <= start),
                    _LABEL_ROWS[-1])  # fmt: skip
        free_from[(row.node, pick)] = end
        rows.append(pick)
    return rows


def _lanes(ax, frame, processes, timestamp: str, width_pt: float) -> None:
    lane = {p: i for i, p in enumerate(reversed(processes))}
    t0, t1 = frame["time"].min(), frame["time"].max()
    for y in lane.values():
        ax.plot([t0, t1], [y, y], color="#bbbbbb", linewidth=1, zorder=1)
    sends = {m: (t, n) for t, n, k, m in frame[["time", "node", "kind", "msg_id"]].itertuples(
        index=False) if k == "send"}  # fmt: skip
    span = (t1 - t0) * 1.1 or 1.0  # matplotlib's default x margins: 5 % each side
    offsets = _label_rows(frame, timestamp, span / width_pt)
    for row, offset in zip(frame.itertuples(index=False), offsets):
        y = lane[row.node]
        if row.kind == "deliver" and row.msg_id in sends:
            ts, src = sends[row.msg_id]
            ax.annotate("", xy=(row.time, y), xytext=(ts, lane[src]),
                        arrowprops={"arrowstyle": "->", "color": "#777777", "lw": 1})  # fmt: skip
        color = _NODE_COLORS[processes.index(row.node) % len(_NODE_COLORS)]
        ax.scatter([row.time], [y], color=color, marker=_MARKERS.get(row.kind, "o"), s=30,
                   zorder=3)  # fmt: skip
        text = _label(row, timestamp)
        if text:
            ax.annotate(text, (row.time, y), xytext=(0, offset), fontsize=7,
                        textcoords="offset points", ha="center",
                        va="bottom" if offset > 0 else "top", color=color)  # fmt: skip
    ax.set_yticks(list(lane.values()), list(lane))
    ax.set_ylim(-0.6, len(processes) - 0.4)


def space_time_figure(result, *, timestamp: str = "vector", title: str | None = None) -> Figure:
    """The run of :func:`~distlab.experiments.clocks.lamport_concurrency` as a space-time
    (Lamport) diagram: one lane per node, messages as arrows, each event labelled with its
    ``timestamp`` (``lamport``, ``vector``, ``hlc`` or ``none``); the pair of concurrent events
    Lamport orders against real time ringed; below, each node's clock minus real time (ms).
    """
    check_result("result", result, ("frame", "trace", "processes", "pair"),
                 what="lamport_concurrency()")  # fmt: skip
    check_choice("timestamp", timestamp, TIMESTAMPS)
    check_title(title)
    frame, processes = result.frame, list(result.processes)
    fig, (ax, clock_ax) = new_figure(2, sharex=True, figsize=(9.0, 5.6), height_ratios=[3, 1.3])
    _lanes(ax, frame, processes, timestamp, width_pt=(9.0 - 1.2) * 72)
    pair = []
    if result.pair is not None:
        lane = {p: i for i, p in enumerate(reversed(processes))}
        rows = frame.loc[list(result.pair)]
        label = "concurrent, yet Lamport orders them against real time"
        ring = ax.scatter(rows["time"], [lane[n] for n in rows["node"]], s=180,
                          facecolors="none", edgecolors=OKABE_ITO["vermillion"], linewidths=1.6,
                          zorder=4, label=label)  # fmt: skip
        pair = [ring]
    trace = result.trace
    for i, p in enumerate(processes):
        mine = trace[trace["node"] == p]
        clock_ax.plot(mine["time"], mine["error"] * 1000, color=_NODE_COLORS[i % 6], label=p)
    clock_ax.axhline(0, color="#999999", linewidth=0.8)
    clock_ax.set_ylabel("clock - real (ms)")
    clock_ax.set_xlabel("real time (s)")
    handles = [Line2D([], [], color="#777777", marker=m, linestyle="none", label=k)
               for k, m in _MARKERS.items()] + pair  # fmt: skip
    s = result.summary.iloc[0]
    order = f"; vector = [{', '.join(processes)}]" if timestamp == "vector" else ""
    fig = finish(
        fig,
        ax,
        title=title or f"Space-time diagram with {timestamp} timestamps",
        subtitle=f"{int(s['events'])} events, {int(s['concurrent_pairs'])} concurrent pairs, "
        f"{int(s['lamport_misleads'])} of them given an order by Lamport time{order}",
        legend=None,
    )
    # the legend below the figure, so the lanes take the whole width; node colours in the
    # lower panel's own legend
    fig.subplots_adjust(bottom=fig.subplotpars.bottom + 0.45 / fig.get_figheight())
    fig.legend(handles=handles, loc="lower left", ncol=len(handles), fontsize=8.5,
               frameon=False, bbox_to_anchor=(fig.subplotpars.left, 0.0))  # fmt: skip
    clock_ax.legend(fontsize=8, ncol=len(processes), loc="center right", framealpha=0.8)
    return fig


def lww_loss_figure(
    result,
    *,
    mark_gap_s: float | None = None,
    title: str | None = None,
    figure: Figure | None = None,
) -> Figure:
    """Lost writes under last-writer-wins against the gap between the writes, one colour per
    skew: the simulation's rates as points, the closed form as lines
    (:func:`~distlab.experiments.clocks.lww_skew`). ``mark_gap_s``: a gap to mark with a
    vertical line, its simulated loss rate in the subtitle (it must be one of the gaps run).
    ``figure``: a figure this function returned before, updated in place when it has as many
    skews and a mark as well (the picture is the one a new figure shows); else a new figure."""
    check_result("result", result, ("summary", "curve"), what="lww_skew()")
    check_title(title)
    figure = check_figure(figure)
    table = result.summary.reset_index()
    marked = None
    if mark_gap_s is not None:
        gap = check_number("mark_gap_s", mark_gap_s, 0.0)
        rows = table[np.isclose(table["gap_s"], gap)]
        if rows.empty:
            raise ValueError(f"mark_gap_s={gap:g} is not one of the gaps of the result")
        marked = (gap, rows)
    skews = sorted(table["skew_s"].unique())
    labels = []
    for skew in skews:
        curve = result.curve[result.curve["skew_s"] == skew]
        spread = float(curve["spread_s"].iloc[0]) if "spread_s" in curve else skew
        shown = "" if np.isclose(spread, skew) else f" (spread ±{spread * 1000:.3g} ms)"
        labels += [f"skew ±{skew * 1000:g} ms: closed form{shown}",
                   f"skew ±{skew * 1000:g} ms: simulation"]  # fmt: skip
    key = (len(skews), marked is None, max(map(len, labels)))
    kept = kept_parts(figure, "lww_loss_figure")
    fresh = kept is None or kept[0] != key
    if fresh:
        figure, kept = _lww_figure(key)
    ax, curves, mark = kept[1], kept[2], kept[3]
    for (line, points), skew in zip(curves, skews):
        sim = table[table["skew_s"] == skew]
        curve = result.curve[result.curve["skew_s"] == skew]
        line.set_data(curve["gap_s"].to_numpy() * 1000, curve["loss_probability"].to_numpy())
        points.set_offsets(np.column_stack([sim["gap_s"] * 1000, sim["loss_rate"]]))
    for artist, label in zip((a for pair in curves for a in pair), labels):
        artist.set_label(label)
    gaps = table["gap_s"].to_numpy() * 1000
    set_limits(ax, x=(-0.05 * gaps.max(), 1.05 * gaps.max()))  # as autoscaling would, but kept
    pairs = int(table["pairs"].iloc[0])
    subtitle = f"{pairs} pairs per point; lines: closed form, offsets uniform on ±spread"
    if marked is not None:
        gap, rows = marked
        mark.set_xdata([gap * 1000, gap * 1000])
        rates = ", ".join(f"{r:.1%}" for r in rows["loss_rate"])
        subtitle = f"writes {gap * 1000:g} ms apart: {rates} of the later ones lost; " + subtitle
    heading = title or "Last-writer-wins: a causally later write lost to clock skew"
    if fresh:
        finish(figure, ax, title=heading, subtitle=subtitle, ylabel="share of later writes lost",
               xlabel="gap between the two writes (ms)")  # fmt: skip
    # The legend names the skews: it changes with them.
    for text, label in zip(figure.legends[0].get_texts(), labels):
        text.set_text(label)
    texts = set_titles(ax, heading, subtitle)
    moving = [a for pair in curves for a in pair] + [a for a in (mark,) if a is not None]
    keep_background(figure, key, moving=[*moving, figure.legends[0], *texts])
    return figure


# keep() keeps with each figure:
# its key, its axes, [(line, points) per skew], the gap's mark or None


def _lww_figure(key: tuple) -> tuple:
    """A new figure for :func:`lww_loss_figure`, its lines and points empty."""
    fig, ax = new_figure(figsize=(9.0, 4.2))
    colors = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange", "sky_blue")]
    curves = []
    for i in range(key[0]):
        color = colors[i % len(colors)]
        (line,) = ax.plot([], [], color=color)
        curves.append((line, ax.scatter([], [], color=color, s=22, zorder=3)))
    ax.set_ylim(-0.02, 0.55)
    mark = None if key[1] else ax.axvline(0.0, color="#555555", linestyle="--", linewidth=1)
    kept = (key, ax, curves, mark)
    keep(fig, "lww_loss_figure", kept)
    return fig, kept


def hlc_drift_figure(result, *, title: str | None = None) -> Figure:
    """How far each clock's ``l`` runs ahead of physical time, over the run: the naive hybrid
    clock (top, it drifts away) and the hybrid logical clock (bottom, within ``eps``)
    (:func:`~distlab.experiments.clocks.hlc_drift`)."""
    check_result("result", result, ("frame", "summary", "params"), what="hlc_drift()")
    check_title(title)
    frame, summary = result.frame, result.summary
    fig, (top, bottom) = new_figure(2, sharex=True, figsize=(9.0, 5.0))
    styles = {"naive": OKABE_ITO["vermillion"], "hlc": OKABE_ITO["bluish_green"]}
    names = {"naive": "naive hybrid clock", "hlc": "hybrid logical clock"}
    for v in ("naive", "hlc"):
        mine = frame[frame["variant"] == v]
        top.plot(mine["time"], mine["ahead_s"] * 1000, color=styles[v], linewidth=1,
                 label=names[v])  # fmt: skip
    hlc = frame[frame["variant"] == "hlc"]
    bottom.scatter(hlc["time"], hlc["ahead_s"] * 1000, color=styles["hlc"], s=3, alpha=0.5)
    eps_ms = float(summary["eps_s"].iloc[0]) * 1000
    tick_ms = float(result.params["tick_s"]) * 1000
    bottom.axhline(eps_ms + tick_ms, color="#555555", linestyle="--", linewidth=1)
    top.set_ylabel("l - pt (ms)")
    bottom.set_ylabel("l - pt (ms)")
    bottom.set_xlabel("real time (s)")
    bottom.set_ylim(-0.1 * (eps_ms + tick_ms), 1.4 * (eps_ms + tick_ms))
    naive = summary.loc["naive", "final_ahead_s"] * 1000
    return finish(
        fig,
        top,
        title=title or "Hybrid logical clock against the naive hybrid clock",
        subtitle=f"the naive clock ends {naive:.0f} ms ahead; the HLC stays within "
        f"eps = {eps_ms:.1f} ms (+ a {tick_ms:g} ms tick)",
        handles=[
            Line2D(
                [],
                [],
                color="#555555",
                linestyle="--",
                label="HLC bound: eps (clock spread) + 1 tick",
            )
        ],
    )
