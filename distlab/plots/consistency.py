"""Figures of eventual consistency (notebook 05): PBS t-visibility and k-staleness, the latency a
partial quorum saves against the inconsistency it buys, and the two merges that lose updates.

Each takes the result of its experiment in :mod:`distlab.experiments.staleness` or
:mod:`distlab.experiments.crdt_anomalies`:

>>> from distlab.experiments import staleness, crdt_anomalies
>>> r = staleness.pbs_staleness(["LNKD-DISK"], trials=20_000)
>>> fig = visibility_figure(r)
>>> fig = k_staleness_figure(r)
>>> fig = latency_tradeoff_figure(r)
>>> fig = pbs_figure(r)            # the explorer's two panels, updated in place when it can
>>> fig = cart_figure(crdt_anomalies.cart_partition(carts=20))
>>> fig = counter_figure(crdt_anomalies.counter_redelivery())

Times are drawn in milliseconds (the tables hold seconds).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from distlab import outcomes
from distlab.plots.display import keep, keep_background, kept, set_limits
from distlab.plots.style import (
    OKABE_ITO,
    check_result,
    check_title,
    finish,
    new_figure,
    plain_log_scale,
)

__all__ = [
    "cart_figure",
    "counter_figure",
    "k_staleness_figure",
    "latency_tradeoff_figure",
    "pbs_figure",
    "visibility_figure",
]

_COLORS = [
    OKABE_ITO[k]
    for k in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue")
]
_GREY = "#555555"
_FIELDS = ("frame", "summary", "k_staleness", "params")
_WHAT = "pbs_staleness()"


def _model(result, model: str | None) -> str:
    models = list(result.params["models"])
    if model is None:
        return models[0]
    if model not in models:
        raise ValueError(f"model={model!r} is not one of the result's models {models}")
    return model


def _partial_first(summary) -> list[str]:
    """The variants, the partial quorums first (as asked), then the strict ones."""
    return sorted(summary.index, key=lambda v: bool(summary.loc[v, "strict"]))


def _paper_points(ax, row, t_first_ms: float, color: str) -> None:
    if np.isnan(row["paper_t_999_s"]):
        return
    ax.scatter([row["paper_t_999_s"] * 1000, t_first_ms],
               [0.999, row["paper_consistent_at_0"]], marker="*", s=110, color=color,
               edgecolor="black", linewidth=0.6, zorder=4, clip_on=False,
               label="paper (Bailis et al.): t = 0 at the left, t for 99.9 %")  # fmt: skip


def visibility_figure(result, *, model: str | None = None, title: str | None = None) -> Figure:
    """t-visibility of one ``model`` (default: the result's first): for each quorum, the share
    of reads that see a write against the time since its commit, by Monte Carlo (solid), the
    closed form ``1 - p_s`` with no propagation (dashed, the floor) and the paper's figures
    (stars) where it reports them. Log time axis; t = 0 is at its left end."""
    check_result("result", result, _FIELDS, what=_WHAT)
    check_title(title)
    model = _model(result, model)
    frame = result.frame[result.frame["model"] == model]
    summary = result.summary.loc[model]
    fig, ax = new_figure(figsize=(9.0, 4.4))
    positive = frame.loc[frame["t_s"] > 0, "t_s"]
    t_first = float(positive.min()) * 1000
    for i, variant in enumerate(_partial_first(summary)):
        color = _COLORS[i % len(_COLORS)]
        curve = frame[frame["variant"] == variant]
        t = np.maximum(curve["t_s"].to_numpy() * 1000, t_first)
        ax.plot(t, curve["consistent"], color=color, linewidth=1.8,
                label=f"{variant}: Monte Carlo")  # fmt: skip
        ax.axhline(summary.loc[variant, "closed_form_at_0"], color=color, linestyle="--",
                   linewidth=1, label=f"{variant}: closed form 1 - p_s")  # fmt: skip
        _paper_points(ax, summary.loc[variant], t_first, color)
    ax.axhline(0.999, color=_GREY, linestyle=":", linewidth=1, label="99.9 % consistent")
    plain_log_scale(ax.xaxis)
    ax.set_ylim(min(0.3, float(summary["closed_form_at_0"].min()) - 0.05), 1.02)
    first = summary.loc[_partial_first(summary)[0]]
    subtitle = (
        f"{first.name}: {first['consistent_at_0']:.1%} consistent at t = 0, 99.9 % after "
        f"{first['t_999_s'] * 1000:.1f} ms; {int(result.params['trials']):,} trials per quorum"
    )
    return finish(fig, ax, title=title or f"How soon a write is visible ({model})",
                  subtitle=subtitle, xlabel="time since the write committed (ms, log)",
                  ylabel="share of reads that see it")  # fmt: skip


def k_staleness_figure(result, *, title: str | None = None) -> Figure:
    """The share of reads at least k versions old, for each quorum: the closed form
    ``p_s ** k`` (lines) and a Monte Carlo of random quorums (points), log scale. Strict
    quorums (never stale) are left out."""
    check_result("result", result, _FIELDS, what=_WHAT)
    check_title(title)
    table = result.k_staleness
    fig, ax = new_figure(figsize=(9.0, 4.0))
    partial = [v for v in dict.fromkeys(table["variant"]) if table.loc[table["variant"] == v,
               "closed_form"].iloc[0] > 0]  # fmt: skip
    for i, variant in enumerate(partial):
        color = _COLORS[i % len(_COLORS)]
        rows = table[table["variant"] == variant]
        ax.plot(rows["k"], rows["closed_form"], color=color, label=f"{variant}: p_s^k")
        seen = rows[rows["monte_carlo"] > 0]
        ax.scatter(seen["k"], seen["monte_carlo"], color=color, s=24, zorder=3,
                   label=f"{variant}: Monte Carlo")  # fmt: skip
    if partial:
        plain_log_scale(ax.yaxis)
    ax.set_xticks(sorted(table["k"].unique()))
    return finish(fig, ax, title=title or "k-staleness: reads at least k versions old",
                  subtitle="quorums picked at random, no propagation beyond the write quorum",
                  xlabel="k (versions behind)", ylabel="share of reads")  # fmt: skip


def latency_tradeoff_figure(result, *, title: str | None = None) -> Figure:
    """What a partial quorum buys, one panel per model: for each quorum, the write plus read
    latency at the 99.9th percentile (x) against the t by which 99.9 % of reads are consistent
    (y). Strict quorums sit on the x axis: consistent at once, and the slowest."""
    check_result("result", result, _FIELDS, what=_WHAT)
    check_title(title)
    summary = result.summary.reset_index()
    models = list(result.params["models"])
    fig, axes = new_figure(1, len(models), figsize=(3.3 * len(models) + 1.0, 3.8))
    axes = axes if isinstance(axes, list) else [axes]
    for i, (ax, model) in enumerate(zip(axes, models)):
        rows = summary[summary["model"] == model]
        x = (rows["write_p999_s"] + rows["read_p999_s"]) * 1000
        y = rows["t_999_s"] * 1000
        colors = [_GREY if strict else _COLORS[i % len(_COLORS)] for strict in rows["strict"]]
        ax.scatter(x, y, color=colors, s=32, zorder=3)
        for k, (xi, yi, label) in enumerate(zip(x, y, rows["variant"])):
            ax.annotate(label, (xi, yi), fontsize=7, color="#333333", xytext=(4, 3 + 7 * (k % 2)),
                        textcoords="offset points")  # fmt: skip
        # the model's name under its panel: above it, it ran into the figure's title, and
        # inside it, into the points' labels
        ax.set_xlabel(f"{model}: write + read p99.9 (ms)")
        ax.margins(x=0.25, y=0.12)
    axes[0].set_ylabel("t for 99.9 % consistent (ms)")
    return finish(fig, axes[0], title=title or "Latency saved against the window of "
                  "inconsistency it buys", subtitle="grey: strict quorums (R + W > N)",
                  legend=None)  # fmt: skip


# -- the explorer's figure: built once, then updated in place --------------------------------


def _pbs_parts(result) -> dict[str, Any]:
    model = _model(result, None)
    summary = result.summary.loc[model]
    variant = _partial_first(summary)[0]
    row = summary.loc[variant]
    curve = result.frame[(result.frame["model"] == model) & (result.frame["variant"] == variant)]
    t_ms = curve["t_s"].to_numpy() * 1000
    t_first = float(t_ms[t_ms > 0].min())
    k = result.k_staleness[result.k_staleness["variant"] == variant]
    base = summary[summary["strict"]]
    return {"model": model, "variant": variant, "row": row, "t_ms": np.maximum(t_ms, t_first),
            "consistent": curve["consistent"].to_numpy(), "k": k,
            "base": base.iloc[0] if len(base) else None,
            "paper": not np.isnan(row["paper_t_999_s"]),
            "trials": int(result.params["trials"])}  # fmt: skip


def _ms(seconds: float) -> str:
    """A duration in ms, as a person writes it: 1,364 ms, 45.5 ms, 1.88 ms."""
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if abs(ms) >= 100 else f"{ms:.3g} ms"


def _pbs_text(parts: dict[str, Any]) -> tuple[str, str]:
    row, base = parts["row"], parts["base"]
    title = f"{parts['model']}, {parts['variant']}"
    if row["strict"]:
        title += ": R + W > N, every read sees the last write"
    else:
        title += (f": {row['consistent_at_0']:.1%} consistent at once, 99.9 % after "
                  f"{_ms(row['t_999_s'])}")  # fmt: skip
    lat = (row["write_p999_s"] + row["read_p999_s"]) * 1000
    subtitle = f"write + read p99.9 {_ms(lat / 1000)}"
    if base is not None and base.name != row.name:
        subtitle += f", {_ms(row['saved_p999_s'])} less than {base.name}"
    subtitle += f"; Monte Carlo of {parts['trials']:,} trials"
    return title, subtitle


def _pbs_build(parts: dict[str, Any]) -> Figure:
    fig, (left, right) = new_figure(1, 2, figsize=(10.0, 4.0))
    green, red = OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"]
    artists = {"left": left, "right": right}
    (artists["mc"],) = left.plot([], [], color=OKABE_ITO["blue"], linewidth=1.8,
                                 label="Monte Carlo (WARS)")  # fmt: skip
    artists["floor"] = left.axhline(0.5, color=OKABE_ITO["blue"], linestyle="--", linewidth=1,
                                    label="closed form 1 - p_s (no propagation)")  # fmt: skip
    artists["line_999"] = left.axhline(0.999, color=_GREY, linestyle=":", linewidth=1,
                                       label="99.9 %")  # fmt: skip
    artists["paper"] = left.scatter([], [], marker="*", s=110, color=green, edgecolor="black",
                                    linewidth=0.6, zorder=4, clip_on=False,
                                    label="paper (N=3, R=W=1)")  # fmt: skip
    plain_log_scale(left.xaxis)
    left.set_xlabel("time since the write committed (ms, log)")
    left.set_ylabel("share of reads that see it")
    left.set_ylim(-0.02, 1.02)
    (artists["k_closed"],) = right.plot([], [], color=red)
    (artists["k_mc"],) = right.plot([], [], "o", color=red, markersize=4)
    plain_log_scale(right.yaxis)
    right.set_xlabel("k (versions behind)")
    right.set_ylabel("share of reads k versions old")
    right.set_title("k-staleness: line p_s^k, dots Monte Carlo", fontsize=9.5, loc="left")
    artists["title"] = fig.suptitle("", x=0.01, ha="left", fontsize=11)
    artists["subtitle"] = fig.text(0.01, 0.895, "", fontsize=8.5, color=_GREY, ha="left")
    artists["never"] = right.text(0.5, 0.5, "", transform=right.transAxes, ha="center",
                                  va="center", fontsize=9, color=_GREY)  # fmt: skip
    left.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    fig.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.13, wspace=0.28)
    keep(fig, "pbs_figure", artists)
    return fig


def _pbs_update(fig: Figure, parts: dict[str, Any]) -> None:
    a = kept(fig, "pbs_figure")
    row = parts["row"]
    t_ms, consistent = parts["t_ms"], parts["consistent"]
    # 1, 2 or 5 times a power of ten at each end: nearby runs share the axes (which then need
    # no redraw from nothing); the share at t = 0 is drawn from the left edge
    left_ms = _round_125(t_ms[0], down=True)
    set_limits(a["left"], x=(left_ms, _round_125(t_ms[-1])))
    a["mc"].set_data(np.r_[left_ms, t_ms], np.r_[consistent[:1], consistent])
    a["floor"].set_ydata([row["closed_form_at_0"]] * 2)
    if parts["paper"]:  # the paper's t for 99.9 %, and its share at t = 0 on the left edge
        points = [[row["paper_t_999_s"] * 1000, 0.999], [left_ms, row["paper_consistent_at_0"]]]
        a["paper"].set_offsets(points)
    else:
        a["paper"].set_offsets(np.empty((0, 2)))
    k = parts["k"]
    shown = k["closed_form"] > 0
    a["k_closed"].set_data(k["k"][shown], k["closed_form"][shown])
    mc = k["monte_carlo"] > 0
    a["k_mc"].set_data(k["k"][mc], k["monte_carlo"][mc])
    right = a["right"]
    set_limits(right, x=(0.5, float(k["k"].max()) + 0.5))
    low = float(k.loc[shown | mc, ["closed_form", "monte_carlo"]].replace(0, np.nan).min().min())
    set_limits(right, y=(_round_125(low / 2, down=True), 1.5) if np.isfinite(low) else (1e-3, 1.5))
    never = "R + W > N: every read quorum meets the\nlast write quorum; no read is stale"
    a["never"].set_text("" if shown.any() else never)
    handles = [a["mc"], a["floor"], a["line_999"]] + ([a["paper"]] if parts["paper"] else [])
    if a.get("handles") != handles:  # a new legend only when its entries change
        legend = a["left"].legend(handles=handles, fontsize=8, loc="lower right", framealpha=0.9)
        # drawn under the curves, as when the legend was a still part and they moved over it
        legend.set_zorder(1.9)
        a["handles"] = handles
    title, subtitle = _pbs_text(parts)
    a["title"].set_text(title)
    a["subtitle"].set_text(subtitle)


def _round_125(value: float, *, down: bool = False) -> float:
    """``value`` (positive) rounded up (or ``down``) to 1, 2 or 5 times a power of ten."""
    power = 10.0 ** math.floor(math.log10(value))
    steps = [power * m for m in (1, 2, 5, 10)]
    if down:
        return max(s for s in steps if s <= value * (1 + 1e-12))
    return min(s for s in steps if s >= value * (1 - 1e-12))


def pbs_figure(result, *, title: str | None = None, figure: Figure | None = None) -> Figure:
    """The PBS explorer's figure for the result's first model and first quorum: t-visibility
    (Monte Carlo against the closed form's floor, the paper's figures where it reports them)
    and k-staleness (closed form against Monte Carlo). Given a ``figure`` this function built
    before, it updates that figure's artists instead of building a new one (fast).

    >>> from distlab.experiments.staleness import pbs_staleness
    >>> fig = pbs_figure(pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], trials=20_000))
    >>> again = pbs_figure(pbs_staleness(["YMMR"], quorums=[(5, 1, 2)], trials=20_000),
    ...                    figure=fig)
    >>> again is fig
    True
    """
    check_result("result", result, _FIELDS, what=_WHAT)
    check_title(title)
    if figure is not None and not isinstance(figure, Figure):
        raise TypeError(f"figure={figure!r} must be a Figure from pbs_figure, or None")
    parts = _pbs_parts(result)
    if kept(figure, "pbs_figure") is None:
        figure = _pbs_build(parts)
    _pbs_update(figure, parts)
    a = kept(figure, "pbs_figure")
    if title:
        a["title"].set_text(title)
    moving = [a[k] for k in ("mc", "floor", "paper", "k_closed", "k_mc", "title", "subtitle")]
    # The legend (with or without the paper's stars) and the k-staleness panel's y axis (with
    # the spines drawn over its ticks) change with nearly every N: drawing them alone over the
    # kept background is much quicker than drawing the whole figure again.
    right = a["right"]
    moving += [a["left"].get_legend(), right.yaxis, right.spines["left"], right.spines["bottom"]]
    keep_background(figure, "pbs_figure", moving=moving, moving_y=[right])
    return figure


# -- CRDT anomalies -----------------------------------------------------------------------------


def cart_figure(result, *, title: str | None = None) -> Figure:
    """Deleted items back in the cart after the heal, and items kept by add-wins, per merge
    (:func:`~distlab.experiments.crdt_anomalies.cart_partition`)."""
    check_result("result", result, ("frame", "summary", "operations"), what="cart_partition()")
    check_title(title)
    s = result.summary
    fig, ax = new_figure(figsize=(8.0, 3.2))
    names = {"union": "union of sets (Dynamo)", "or_set": "OR-set (add-wins)"}
    y = np.arange(len(s.index))
    ax.barh(y + 0.2, s["resurrected"], height=0.38, color=outcomes.color(outcomes.LOST_WRITE),
            label="deleted item back (its removal lost)")  # fmt: skip
    ax.barh(y - 0.2, s["concurrent_kept"], height=0.38, color=OKABE_ITO["sky_blue"],
            label="kept: an add the remove never saw")  # fmt: skip
    ax.set_yticks(y, [names.get(v, v) for v in s.index])
    ax.invert_yaxis()
    removed = int(s["removed_items"].iloc[0])
    return finish(fig, ax, title=title or "A cart after a partition heals",
                  subtitle=f"{int(s['carts'].iloc[0])} carts, {removed} items removed at "
                  "least once", xlabel="items")  # fmt: skip


def counter_figure(result, *, title: str | None = None) -> Figure:
    """How far each merge's counter ends above the true count, against the redelivery rate
    (:func:`~distlab.experiments.crdt_anomalies.counter_redelivery`)."""
    check_result("result", result, ("frame", "summary", "params"), what="counter_redelivery()")
    check_title(title)
    table = result.summary.reset_index()
    fig, ax = new_figure(figsize=(8.0, 3.4))
    styles = {"sum": (OKABE_ITO["vermillion"], "merged by sum"),
              "g_counter": (OKABE_ITO["bluish_green"], "G-counter")}  # fmt: skip
    for variant, (color, label) in styles.items():
        rows = table[table["variant"] == variant]
        ax.plot(rows["duplicate"], rows["over_count"], "o-", color=color, label=label)
    true = int(table["true_total"].iloc[0])
    rounds = int(result.params["rounds"])
    return finish(fig, ax, title=title or "A counter merged by sum counts redeliveries again",
                  subtitle=f"true count {true}, {int(table['replicas'].iloc[0])} replicas, "
                  f"{rounds} round(s) of state exchange, mean of "
                  f"{int(result.params['trials'])} trials",
                  xlabel="probability a message is delivered twice",
                  ylabel="counted minus true (mean)")  # fmt: skip
