"""Figures for notebook 01: partial failures, timeout ambiguity, write races, skewed clocks.

Each function takes the result of the experiment of the same name in
:mod:`distlab.experiments.challenges` and returns a Figure.

>>> from distlab.experiments.challenges import clock_order
>>> fig = clock_order_figure(clock_order(events=100, skew_s=0.005, seed=0))
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from distlab import outcomes
from distlab._validate import check_int, check_number
from distlab.plots.display import check_figure, keep, keep_background, set_titles
from distlab.plots.display import kept as kept_parts
from distlab.plots.style import (
    OKABE_ITO,
    check_result,
    check_title,
    finish,
    new_figure,
    outcome_color,
)

__all__ = [
    "ambiguity_figure",
    "clock_order_figure",
    "partial_failure_figure",
    "write_race_figure",
]

_OUTCOMES = (outcomes.OK, outcomes.ERROR, outcomes.TIMEOUT)


def partial_failure_figure(
    result,
    *,
    title: str | None = None,
    timeout_s: float | None = None,
    figure: Figure | None = None,
) -> Figure:
    """One lane per service: each request's latency as the user saw it, against its arrival time.

    Within a lane, height is latency, from 0 at the lane's floor to the highest latency of the
    run at its ceiling; points are coloured by outcome and the dashed line is the caller's
    timeout. The lane's label gives its share of ok calls and its 99th-percentile latency.
    (One axes with lanes, rather than one axes per service, keeps the explorer fast.)
    ``result`` is a :class:`~distlab.experiments.challenges.PartialFailureResult`. ``figure``: a
    figure this function returned before, updated in place when its lanes, time axis and legend
    stay the same (the picture is the one a new figure shows); otherwise a new figure.
    """
    check_result("result", result, ("frame", "health"), what="partial_failures()")
    check_title(title)
    figure = check_figure(figure)
    if timeout_s is not None:
        timeout_s = check_number("timeout_s", timeout_s, 0.0, min_inclusive=False)
    calls = result.frame
    health = result.health.set_index("service")["state"]
    services = list(health.index)
    top = max(float(calls["latency_s"].max()) if len(calls) else 1.0, timeout_s or 0.0) * 1.1
    floors = {service: len(services) - 1 - i for i, service in enumerate(services)}
    labels = [_lane_label(s, health[s], calls[calls["service"] == s]) for s in services]
    present = tuple(o for o in _OUTCOMES if bool((calls["outcome"] == o).any()))
    end = float(calls["arrival"].max()) if len(calls) else 1.0
    key = (
        tuple(services),
        present,
        timeout_s,
        max(float(getattr(result, "params", {}).get("duration_s", end)), end),
        max(len(line) for label in labels for line in label.split("\n")),  # the left margin
    )
    kept = kept_parts(figure, "partial_failure_figure")
    fresh = kept is None or kept[0] != key
    if fresh:
        figure, kept = _lanes_figure(key, floors)
    ax, points, timeouts = kept[1], kept[2], kept[3]
    # Height in a lane: latency, from 0 at its floor to the highest latency at its ceiling.
    y = calls["service"].map(floors).to_numpy(dtype=float) + calls["latency_s"] / top * _LANE
    xy = np.column_stack([calls["arrival"].to_numpy(dtype=float), y])
    outcome = calls["outcome"].to_numpy()
    for word, scatter in points.items():
        scatter.set_offsets(xy[outcome == word])
    for service, line in zip(services, timeouts):
        level = floors[service] + timeout_s / top * _LANE
        line.set_ydata([level, level])
    # The lane labels change with every run: the y axis is drawn with the points (over the
    # axes' left edge, where nothing else is drawn).
    ax.set_yticks([floors[s] + _LANE / 2 for s in services], labels, fontsize=8.5)
    ax.tick_params(axis="y", length=0)
    ax.yaxis.set_zorder(2.55)
    subtitle = f"height in each lane: latency seen by the user, 0 to {top:.1f} s"
    heading = title or "Requests to four services through one caller"
    if fresh:
        finish(figure, ax, title=heading, subtitle=subtitle, xlabel="request arrival time (s)",
               legend_title="outcome")  # fmt: skip
    texts = set_titles(ax, heading, subtitle)
    moving = [*points.values(), *timeouts, ax.yaxis, *texts]
    keep_background(figure, key, moving=moving)
    return figure


# keep() keeps with each figure:
# its key, its axes, {outcome: its points}, the timeout's line in each lane
_LANE = 0.8  # of each lane's unit of height; the rest separates lanes


def _lanes_figure(key: tuple, floors: dict) -> tuple:
    """A new figure with the lanes' floors, one (empty) collection of points per outcome and
    a timeout line per lane, and what :func:`~distlab.plots.display.keep` keeps of it."""
    services, present, timeout_s, duration, _ = key
    figure, ax = new_figure(figsize=(9.0, 4.4))
    ax.set_ylim(-0.1, len(floors))
    ax.set_xlim(-0.05 * duration, 1.05 * duration)  # arrivals: 0 to the run's duration
    for floor in floors.values():
        ax.axhline(floor, color="#999999", linewidth=0.6, zorder=1)
    # One collection per outcome for all lanes: lanes do not overlap, so the order of drawing
    # across lanes does not show.
    points = {
        word: ax.scatter(np.empty(0), np.empty(0), s=10, color=outcome_color(word), label=word,
                         linewidths=0, zorder=3)
        for word in present
    }  # fmt: skip
    timeouts = []
    if timeout_s is not None:
        timeouts = [
            ax.axhline(0.0, color=OKABE_ITO["grey"], linestyle="--", linewidth=1, zorder=2,
                       label=f"caller timeout ({timeout_s:g} s)")
            for _ in services
        ]  # fmt: skip
    kept = (key, ax, points, timeouts)
    keep(figure, "partial_failure_figure", kept)
    return figure, kept


def _lane_label(service: str, state: str, calls) -> str:
    ok = float((calls["outcome"] == "ok").mean()) if len(calls) else float("nan")
    p99 = float(calls["latency_s"].quantile(0.99)) if len(calls) else float("nan")
    return f"{service} ({state})\n{ok:.0%} ok, p99 {p99:.2f} s"


def ambiguity_figure(result, *, title: str | None = None) -> Figure:
    """What the caller saw against what the server did, one bar per combination.

    ``result`` is :func:`~distlab.experiments.challenges.timeout_ambiguity`'s result.
    """
    check_result("result", result, ("frame",), what="timeout_ambiguity()")
    check_title(title)
    table = result.frame
    groups = [
        ("ok", True, "caller: ok\nserver: ran", "ok"),
        ("timeout", False, "caller: timeout\nserver: never ran", "timeout"),
        ("timeout", True, "caller: timeout\nserver: ran anyway", "error"),
    ]
    counts = [
        int(((table["outcome"] == seen) & (table["executed"] == ran)).sum())
        for seen, ran, _, _ in groups
    ]
    fig, ax = new_figure(figsize=(7.5, 3.2))
    labels = [label for _, _, label, _ in groups]
    colors = [outcome_color(color) for *_, color in groups]
    bars = ax.barh(labels, counts, color=colors)
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(counts + [1]) * 1.15)
    return finish(
        fig,
        ax,
        title=title or f"{len(table)} requests with a timeout: what really happened",
        xlabel="requests",
        legend=None,
    )


def write_race_figure(result, *, title: str | None = None) -> Figure:
    """Which user's write stuck, against how much later user 2 sent theirs.

    ``result`` is :func:`~distlab.experiments.challenges.write_race`'s result.
    """
    check_result("result", result, ("frame",), what="write_race()")
    check_title(title)
    table = result.frame
    fig, ax = new_figure(figsize=(7.5, 3.2))
    arrival_gap = (table["arrived_1"] - table["arrived_2"]) * 1000
    winners = [
        ("user 2", "ok", "user 2's later write stuck"),
        ("user 1", "error", "user 1's earlier write stuck"),
    ]
    step = 2.0  # ms; 0 is a bin edge, so each bar holds one winner only
    bins = np.arange(np.floor(arrival_gap.min() / step) * step, arrival_gap.max() + step, step)
    for winner, color, label in winners:
        ax.hist(
            arrival_gap[table["winner"] == winner],
            bins=bins,
            color=outcome_color(color),
            label=label,
            alpha=0.85,
        )
    ax.axvline(0, color=OKABE_ITO["grey"], linewidth=1)
    share = float(table["earlier_write_won"].mean())
    return finish(
        fig,
        ax,
        title=title or f"{len(table)} races: the earlier write won {share:.0%} of the time",
        xlabel="arrival of user 1's write minus arrival of user 2's (ms)",
        ylabel="trials",
        legend="inside",
    )


def clock_order_figure(result, *, title: str | None = None, show: int = 24) -> Figure:
    """The first ``show`` events: each joins its true time (top) to its timestamp (bottom).

    Crossing lines are events whose timestamps put them in the wrong order; those are drawn in
    the error colour. ``result`` is :func:`~distlab.experiments.challenges.clock_order`'s result.
    """
    from matplotlib.collections import LineCollection

    check_result("result", result, ("frame",), what="clock_order()")
    check_title(title)
    show = check_int("show", show, 1, 10_000)
    table = result.frame
    head = table.head(show)
    fig, ax = new_figure(figsize=(9.0, 3.4))
    true_ms = head["true_time"].to_numpy() * 1000
    stamp_ms = head["timestamp"].to_numpy() * 1000
    # An event is drawn as wrong if its stamp is out of order with a neighbour on either side.
    wrong = head["misordered"].to_numpy().copy()
    wrong[:-1] |= head["misordered"].to_numpy()[1:]
    segments = [[(t, 1.0), (s, 0.0)] for t, s in zip(true_ms, stamp_ms)]
    colors = [outcome_color("error") if w else "#bbbbbb" for w in wrong]
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.4, zorder=2))
    # Two hues far apart (blue and sky blue were hard to tell apart), neither the error colour.
    for server, color in ((1, OKABE_ITO["blue"]), (2, OKABE_ITO["reddish_purple"])):
        mine = (head["server"] == server).to_numpy()
        ax.scatter(
            true_ms[mine],
            np.ones(mine.sum()),
            color=color,
            s=22,
            zorder=3,
            label=f"server {server}",
        )
        ax.scatter(stamp_ms[mine], np.zeros(mine.sum()), color=color, s=22, zorder=3, marker="s")
    ax.plot([], [], color=outcome_color("error"), label="order flipped by the timestamps")
    ax.set_yticks([0, 1], ["timestamp", "true time"])
    ax.set_ylim(-0.25, 1.25)
    ax.set_xlim(min(true_ms.min(), stamp_ms.min()) - 2, max(true_ms.max(), stamp_ms.max()) + 2)
    share = float(table["misordered"].mean())
    return finish(
        fig,
        ax,
        title=title or f"Two clocks: {share:.0%} of {len(table)} events stamped out of order",
        subtitle=f"the first {len(head)} events; server 2's clock is ahead",
        xlabel="time (ms)",
    )
