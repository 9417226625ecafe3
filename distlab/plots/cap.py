"""Figures for notebook 06: operations during a partition, the CP / AP trade-off, and histories
drawn as intervals (the picture behind linearizability).

>>> import pandas as pd
>>> ops = pd.DataFrame({"process": [0, 1], "f": ["write", "read"], "key": [None, None],
...                     "value": [1, None], "result": [None, 1], "type": ["ok", "ok"],
...                     "invoke": [0.0, 0.5], "complete": [1.0, 1.5]})
>>> fig = history_intervals(ops)
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_bool, check_frame
from distlab.plots.display import keep, keep_background, kept, set_limits, text_artist
from distlab.plots.style import (
    OKABE_ITO,
    STATE_COLORS,
    check_title,
    finish,
    new_figure,
)

__all__ = ["cap_timeline", "history_intervals", "tradeoff_figure", "use_case_figure"]

#: Characters per line of a figure-wide title on a 9-inch figure (11 pt, with room to spare).
_TITLE_CHARS = 95


def _bars(bars: PolyCollection, starts, ends, ys, colors, height: float, minimum: float) -> None:
    widths = np.maximum(np.asarray(ends, float) - np.asarray(starts, float), minimum)
    boxes = [
        ((x, y - height / 2), (x + w, y - height / 2), (x + w, y + height / 2), (x, y + height / 2))
        for x, w, y in zip(starts, widths, ys)
    ]
    bars.set_verts(boxes)
    bars.set_facecolors(colors or "none")


def cap_timeline(
    result, *, title: str | None = None, compact: bool = False, figure: Figure | None = None
) -> Figure:
    """One lane per client, grouped by the side of the partition it is on; each operation a bar
    from invocation to completion, coloured by outcome (ok, unavailable, timed out, stale read,
    lost write); the partition shaded.

    ``result`` is a :class:`~distlab.experiments.cap.CapResult` (its ``frame``, one row per
    operation with :mod:`distlab.outcomes` words, and its ``partition`` bands). ``compact``
    draws it at 80 dpi (fewer pixels to draw and send); the partition explorer does, and passes
    the ``figure`` it got last: one with the same lanes, partitions and outcomes
    is updated in place (its axes, lanes and legend kept), with the same picture as a new one's.

    >>> from distlab.experiments.cap import run
    >>> fig = cap_timeline(run("cp", seed=0))
    >>> cap_timeline(run("cp", seed=0, read_share=0.6), figure=fig) is fig
    True
    """
    ops = check_frame("result.frame", result.frame, ("client", "side", "start", "end", "outcome"))
    title = check_title(title)
    compact = check_bool("compact", compact)
    lanes = (
        ops[["client", "side"]]
        .drop_duplicates("client")
        .sort_values(["side", "client"], key=lambda c: c.astype(str))
    )
    order = [f"{row.client} ({row.side})" for row in lanes.itertuples(index=False)]
    lane_of = {row.client: i for i, row in enumerate(lanes.itertuples(index=False))}
    partition = getattr(result, "partition", None)
    bands = 0 if partition is None else len(partition)
    seen = set(ops["outcome"])
    shown = tuple(o for o in outcomes.ALL if o in seen) + tuple(sorted(seen - set(outcomes.ALL)))
    kind = ("cap_timeline", bands, shown, compact)
    parts = kept(figure, kind)
    if parts is None:
        figure, parts = _cap_figure(order, bands, shown, kind, dpi=80 if compact else 100)
    _lanes(figure, parts, order)
    ax = parts["ax"]
    end = float(ops["end"].replace(math.inf, np.nan).max()) if len(ops) else 1.0
    end = end if end == end else float(ops["start"].max())
    for band, row in zip(parts["bands"], [] if partition is None else partition.itertuples()):
        open_ended = pd.isna(row.end) or not np.isfinite(float(row.end))  # never healed
        stop = end * 1.02 if open_ended else min(float(row.end), end * 1.02)
        band.set_x(float(row.start))
        band.set_width(max(stop - float(row.start), 0.0))
    ends = ops["end"].replace(math.inf, end).fillna(end)
    writes = ~ops["f"].isin(["read", "get"]) if "f" in ops else pd.Series(True, index=ops.index)
    for mask, height, bars in ((writes, 0.66, parts["writes"]), (~writes, 0.3, parts["reads"])):
        rows = ops[mask]  # writes tall, reads short
        colors = [outcomes.color(o) for o in rows["outcome"]]
        _bars(bars, rows["start"], ends[mask], rows["client"].map(lane_of), colors, height,
              end * 0.004)  # fmt: skip
    set_limits(ax, x=(0, end * 1.02))
    counts = ops["outcome"].value_counts()
    subtitle = (
        ", ".join(f"{int(counts[o])} {o.replace('_', ' ')}" for o in counts.index)
        + "; tall bars: writes, short bars: reads"
    )
    parts["title"].set_text(title or "Operations during a partition")
    parts["subtitle"].set_text(subtitle)
    keep_background(figure, kind, moving=parts["moving"])
    return figure


def _lanes_height(order: list[str]) -> float:
    return 1.6 + 0.42 * max(len(order), 1)


def _lanes(fig: Figure, parts: dict, order: list[str]) -> None:
    """Show the lanes of ``order``: the figure's height follows their number, its margins (in
    inches) and legend staying where a new figure has them."""
    ax = parts["ax"]
    if order != parts["order"]:
        old, new = fig.get_figheight(), _lanes_height(order)
        if new != old:
            top_in, bottom_in = (1 - fig.subplotpars.top) * old, fig.subplotpars.bottom * old
            fig.set_size_inches(fig.get_figwidth(), new)
            fig.subplots_adjust(top=1 - top_in / new, bottom=bottom_in / new)
            for legend in fig.legends:
                x = legend.get_bbox_to_anchor().transformed(fig.transFigure.inverted()).x0
                legend.set_bbox_to_anchor((x, fig.subplotpars.top), transform=fig.transFigure)
        ax.set_yticks(range(len(order)), order, fontsize=8.5)
        parts["order"] = list(order)
    set_limits(ax, y=(len(order) - 0.3, -0.7))  # the first lane on top


def _cap_figure(order: list[str], bands: int, shown: tuple, kind, dpi: int) -> tuple[Figure, dict]:
    """The timeline's still parts (lanes, legend, labels) and its moving parts, empty."""
    fig, ax = new_figure(figsize=(9.0, _lanes_height(order)), dpi=dpi)
    parts: dict = {"ax": ax, "order": list(order)}
    parts["bands"] = [
        ax.add_artist(Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(),
                                facecolor=STATE_COLORS["partitioned"], alpha=0.16, linewidth=0,
                                zorder=0, label="partition" if i == 0 else "_nolegend_"))
        for i in range(bands)
    ]  # fmt: skip
    parts["writes"], parts["reads"] = (
        ax.add_collection(PolyCollection([], edgecolors="#333333", linewidths=0.3, zorder=3),
                          autolim=False)
        for _ in range(2)
    )  # fmt: skip
    for outcome in shown:
        ax.add_line(
            Line2D([], [], color=outcomes.color(outcome), linewidth=6,
                   label=outcome.replace("_", " "))
        )  # fmt: skip
    ax.set_yticks(range(len(order)), order, fontsize=8.5)
    ax.set_ylim(len(order) - 0.3, -0.7)  # the first lane on top
    ax.xaxis.set_major_locator(MaxNLocator(6))  # few ticks: each is several artists to draw
    finish(fig, ax, title="(title)", subtitle="(subtitle)", xlabel="time (s)",
           legend_title="operation")  # fmt: skip
    parts["title"] = text_artist(ax, "(title)")
    parts["subtitle"] = text_artist(ax, "(subtitle)")
    parts["moving"] = [*parts["bands"], parts["writes"], parts["reads"], parts["title"],
                       parts["subtitle"]]  # fmt: skip
    return fig, keep(fig, kind, parts)


_TRADEOFF_COLUMNS = (
    "availability_majority",
    "availability_minority",
    "stale_reads",
    "lost_writes",
    "conflicting_writes",
    "verdict",
    "converged",
)


def tradeoff_figure(summaries: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Stores side by side: the share of operations given a non-error answer on each side of
    the partition (left) and the anomalies each let through (right), with the checker's verdict.

    ``summaries`` has one row per store, indexed by its name: the runs' summaries stacked,
    ``pd.concat([r.summary for r in runs])`` (columns ``availability_majority``,
    ``availability_minority``, ``stale_reads``, ``lost_writes``, ``conflicting_writes``,
    ``verdict`` and ``converged``).
    """
    check_frame("summaries", summaries, _TRADEOFF_COLUMNS, what="CapResult.summary rows")
    if summaries.empty:
        raise ValueError("summaries has no rows: stack at least one run's summary")
    rows = {str(name): row for name, row in summaries.iterrows()}
    names = list(rows)
    fig, (left, right) = new_figure(1, 2, figsize=(9.5, 3.6))
    x = np.arange(len(names))
    sides = (
        ("availability_majority", "majority side", OKABE_ITO["blue"]),
        ("availability_minority", "minority side", OKABE_ITO["grey"]),
    )
    for i, (key, label, color) in enumerate(sides):
        values = [100 * float(rows[n][key]) for n in names]
        bars = left.bar(x + (i - 0.5) * 0.38, values, width=0.38, color=color, label=label)
        left.bar_label(bars, fmt="%.0f%%", fontsize=7.5, padding=1)
    left.set_xticks(x, names, fontsize=8.5)
    left.set_ylim(0, 118)
    left.set_ylabel("non-error answers during\nthe partition (%)", fontsize=9)
    anomalies = (
        ("stale_reads", "stale reads", "stale_read"),
        ("lost_writes", "lost writes", "lost_write"),
        ("conflicting_writes", "conflicting writes", None),
    )
    for i, (key, label, outcome) in enumerate(anomalies):
        values = [float(rows[n][key] or 0) for n in names]
        color = OKABE_ITO["vermillion"] if outcome is None else outcomes.color(outcome)
        bars = right.bar(x + (i - 1) * 0.27, values, width=0.27, color=color, label=label)
        right.bar_label(bars, fmt="%.0f", fontsize=7.5, padding=1)
    verdicts = [
        f"{n}\n{rows[n]['verdict']}" + ("\nconverged" if rows[n]["converged"] else "")
        for n in names
    ]
    right.set_xticks(x, verdicts, fontsize=7.5)
    right.set_ylabel("anomalies", fontsize=9)
    top = max([float(rows[n][k] or 0) for n in names for k, _, _ in anomalies] + [1])
    right.set_ylim(0, top * 1.25)
    return finish(fig, left, title=title or "The same partition, different stores", legend_title="")


def _show(value) -> str:
    """A value as a learner would write it: nil for nothing, 1 rather than 1.0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nil"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _describe(row) -> str:
    f, value = row.f, row.value
    key = "" if _missing(row.key) else f"{row.key}:"
    if f in ("read", "get"):
        shown = "?" if row.type != "ok" else _show(row.result)
        return f"{f[0]}({key}) → {shown}"
    if f == "cas" and isinstance(value, (tuple, list)) and len(value) == 2:
        return f"cas({key}{_show(value[0])}→{_show(value[1])})"
    return f"{f[0] if f in ('write', 'put') else f}({key}{_show(value)})"


def _type_color(kind: str) -> str:
    """The colour of a Jepsen completion type (``ok``, ``fail``, ``info``)."""
    if kind not in outcomes.HISTORY_OUTCOME:
        allowed = ", ".join(repr(k) for k in outcomes.HISTORY_OUTCOME)
        raise ValueError(f"history type={kind!r} must be one of {allowed}")
    return outcomes.color(outcomes.HISTORY_OUTCOME[kind])


def history_intervals(history, *, title: str | None = None, xlabel: str = "time (s)") -> Figure:
    """A history as intervals: one lane per process, each operation a bar from its invocation to
    its completion, labelled (``w(1)``, ``r() → 1``, ``cas(1→2)``) and coloured by type (ok,
    fail, info, in the colours of the outcomes :data:`distlab.outcomes.HISTORY_OUTCOME` maps them
    to: an info operation's bar runs to the right edge, dashed: it may take effect any time after
    its invocation).

    ``history`` is a :class:`~distlab.history.History` or its ``to_frame()`` DataFrame;
    ``xlabel`` names the time axis and its unit (a history read from a log whose times are not
    seconds, e.g. line numbers, says so here).
    """
    ops = history if isinstance(history, pd.DataFrame) else history.to_frame()
    check_frame("history", ops, ("process", "f", "value", "result", "type", "invoke", "complete"))
    if "key" not in ops:
        ops = ops.assign(key=None)
    processes = list(dict.fromkeys(ops["process"]))
    lane = {p: i for i, p in enumerate(processes)}
    times = pd.concat([ops["invoke"], ops["complete"]]).replace(math.inf, np.nan).dropna()
    end = float(times.max()) * 1.1 if len(times) else 0.0
    end = end or 1.0  # an empty history, or one at time 0, still gets an axis
    fig, ax = new_figure(figsize=(8.5, 1.4 + 0.55 * len(processes)))
    for row in ops.itertuples(index=False):
        y = lane[row.process]
        stop = end if not math.isfinite(row.complete) else row.complete
        color = _type_color(row.type)
        ax.barh(
            y,
            stop - row.invoke,
            left=row.invoke,
            height=0.5,
            color=color,
            alpha=0.85,
            linestyle="--" if row.type == "info" else "-",
            edgecolor="#333333",
            linewidth=0.6,
        )
        ax.text(
            (row.invoke + stop) / 2,
            y,
            _describe(row),
            ha="center",
            va="center",
            fontsize=8.5,
            color="#111111",
        )
    for kind in outcomes.HISTORY_OUTCOME:
        if (ops["type"] == kind).any():
            ax.add_line(Line2D([], [], color=_type_color(kind), linewidth=6, label=kind))
    ax.set_yticks(range(len(processes)), [f"process {p}" for p in processes], fontsize=9)
    ax.set_ylim(-0.6, len(processes) - 0.4)
    ax.invert_yaxis()
    ax.set_xlim(0, end)
    return finish(
        fig,
        ax,
        title=title or "A history: each operation from invocation to completion",
        xlabel=xlabel,
        legend_title="operation",
    )


def use_case_figure(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    compact: bool = False,
    figure: Figure | None = None,
) -> Figure:
    """A use case's consequences, one panel per store (its name and the checker's verdict on top),
    one bar per consequence: harmful for the use case in the error colour, tolerable in grey (the
    legend says which is which). Long consequence names and titles are wrapped, never cut.

    ``table`` is the ``frame`` of :func:`~distlab.experiments.cap.compare_use_case`'s result.
    ``compact`` draws it at 80 dpi; the use-case explorer does, and passes the ``figure`` it got
    last: one with the same stores, consequences
    and title is updated in place, with the same picture as a new one's.

    >>> from distlab.experiments.cap import compare_use_case
    >>> fig = use_case_figure(compare_use_case("banking", ("cp", "ap"), seed=0).frame)
    >>> use_case_figure(compare_use_case("banking", ("cp", "ap"), seed=1).frame, figure=fig) is fig
    True
    """
    check_frame("table", table, ("store", "consequence", "count", "harmful"))
    title = check_title(title) or "What the partition means for this use case"
    compact = check_bool("compact", compact)
    stores = list(dict.fromkeys(table["store"]))
    consequences = list(dict.fromkeys(table["consequence"]))
    kind = ("use_case_figure", tuple(stores), tuple(consequences), title, compact)
    parts = kept(figure, kind)
    if parts is None:
        figure, parts = _use_case_panels(stores, consequences, title, kind, 80 if compact else 100)
    top = max(float(table["count"].max()), 1.0) * 1.3
    # in steps of 10: a new seed seldom moves the axis (which redraws the figure from nothing)
    top = math.ceil(top / 10) * 10 if top > 5 else 5
    harmful_color, tolerable_color = outcomes.color(outcomes.ERROR), OKABE_ITO["grey"]
    for ax, store in zip(parts["axes"], stores):
        rows = table[table["store"] == store].set_index("consequence").reindex(consequences)
        counts = rows["count"].fillna(0)
        harmful = rows["harmful"].fillna(False)
        for bar, label, count, bad in zip(parts["bars"][store], parts["labels"][store], counts,
                                          harmful):  # fmt: skip
            bar.set_width(count)
            bar.set_facecolor(harmful_color if bad else tolerable_color)
            label.xy = (count, label.xy[1])
            label.set_text(f"{int(count)}")
        set_limits(ax, x=(0, top))
        parts["verdicts"][store].set_text(rows["verdict"].iloc[0] if "verdict" in rows else "")
    keep_background(figure, kind, moving=parts["moving"])
    return figure


def _use_case_panels(
    stores: list, consequences: list, title: str, kind, dpi: int
) -> tuple[Figure, dict]:
    """The panels' still parts (names, consequences, legend, title) and their bars, empty."""
    names = [textwrap.fill(c, 30) for c in consequences]
    lines = sum(name.count("\n") + 1 for name in names)
    width = 9.0 + 1.4 * max(0, len(stores) - 2)  # room for each panel's title
    title_lines = textwrap.wrap(title, int(_TITLE_CHARS * width / 9.0))
    height = 1.75 + 0.2 * len(title_lines) + 0.24 * lines + 0.25 * len(consequences)
    fig, axes = new_figure(1, len(stores), figsize=(width, height), sharey=True, dpi=dpi)
    axes = axes if isinstance(axes, list) else [axes]
    harmful_color, tolerable_color = outcomes.color(outcomes.ERROR), OKABE_ITO["grey"]
    y = np.arange(len(consequences))
    parts: dict = {"axes": axes, "bars": {}, "labels": {}, "verdicts": {}}
    for ax, store in zip(axes, stores):
        bars = ax.barh(y, np.zeros(len(y)), height=0.6, color=tolerable_color, edgecolor="white",
                       linewidth=0.5)  # fmt: skip
        parts["bars"][store] = list(bars)
        parts["labels"][store] = [
            ax.annotate("", xy=(0, level), xytext=(2, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=8.5)
            for level in y
        ]  # fmt: skip
        # counts; few ticks: each is several artists, and a new seed may redraw them all
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_xlabel("count in the run")
        ax.set_title(store, loc="left", fontsize=10.5, fontweight="bold", pad=17)
        parts["verdicts"][store] = ax.text(0.0, 1.015, "", transform=ax.transAxes, fontsize=8.5,
                                           va="bottom")  # fmt: skip
        parts.setdefault("moving", []).extend(
            [*bars, *parts["labels"][store], parts["verdicts"][store]]
        )
    axes[0].set_yticks(y, names, fontsize=8.5)
    axes[0].set_ylim(len(consequences) - 0.5, -0.5)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    key = [
        Patch(color=harmful_color, label="harmful for this use case"),
        Patch(color=tolerable_color, label="tolerable for it"),
    ]
    finish(fig, axes[0], handles=key)
    # The title spans the figure from its left edge, wrapped, above the panels' own titles.
    top_in = 0.12 + 0.24 * len(title_lines) + 0.6
    fig.subplots_adjust(top=1.0 - top_in / height, wspace=0.2)
    fig.text(
        0.01,
        1.0 - 0.1 / height,
        "\n".join(title_lines),
        fontsize=11,
        ha="left",
        va="top",
    )
    for legend in fig.legends:
        x, _ = legend.get_bbox_to_anchor().transformed(fig.transFigure.inverted()).p0
        legend.set_bbox_to_anchor((x, fig.subplotpars.top), transform=fig.transFigure)
    return fig, keep(fig, kind, parts)
