"""Figures for notebook 02: retry timelines, retry storms, contention curves, amplification.

Each function takes what the experiment of the same name in :mod:`distlab.experiments.retries`
or :mod:`distlab.experiments.contention` returns and gives back a Figure.

>>> import pandas as pd
>>> curves = pd.DataFrame({"strategy": ["full", "full"], "clients": [10, 20],
...                        "calls": [30.0, 90.0], "completion_s": [0.2, 0.5]})
>>> fig = contention_figure(curves)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from distlab._validate import check_frame
from distlab.plots.style import (
    OKABE_ITO,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
    strategy_style,
)

__all__ = ["contention_figure", "retry_timeline"]

_ATTEMPT_COLUMNS = ("client", "call", "attempt", "start", "end", "outcome")


def retry_timeline(result, *, title: str | None = None, max_clients: int = 12) -> Figure:
    """Each client's attempts as bars on its own lane, the backoff waits between them as dotted
    lines, the service's health shaded; below, the load the attempts put on the service.

    ``result`` is a :class:`~distlab.experiments.retries.TimelineResult` (``attempts``,
    ``health``, ``load``). Only the first ``max_clients`` clients get a lane; the load panel
    counts them all.
    """
    attempts = check_frame("result.attempts", result.attempts, _ATTEMPT_COLUMNS)
    clients = list(dict.fromkeys(attempts["client"]))
    shown = clients[:max_clients]
    lane = {client: i for i, client in enumerate(reversed(shown))}
    fig, (top, bottom) = new_figure(
        2, 1, sharex=True, figsize=(9.0, 5.0), height_ratios=(3.0, 1.2)
    )
    rows = attempts[attempts["client"].isin(lane)]
    span = max(float(attempts["end"].max()) if len(attempts) else 1.0, 1e-9)
    y = rows["client"].map(lane).to_numpy(dtype=float)
    width = np.maximum((rows["end"] - rows["start"]).to_numpy(dtype=float), 0.004 * span)
    colors = [outcome_color(o) for o in rows["outcome"]]
    top.barh(y, width, left=rows["start"].to_numpy(dtype=float), height=0.55, color=colors,
             zorder=3)
    for outcome in dict.fromkeys(rows["outcome"]):
        top.add_line(Line2D([], [], color=outcome_color(outcome), linewidth=6, label=outcome))

    previous_end = rows.groupby(["client", "call"])["end"].shift(1)
    waits = rows[previous_end.notna()]
    if len(waits):
        wait_y = waits["client"].map(lane).to_numpy(dtype=float)
        segments = np.stack(
            [np.column_stack([previous_end[waits.index], wait_y]),
             np.column_stack([waits["start"], wait_y])], axis=1,
        )
        top.add_collection(LineCollection(segments, colors=OKABE_ITO["grey"], linewidths=1.2,
                                          linestyles=(0, (1, 2)), zorder=2,
                                          label="waiting (backoff)"))
    if "gave_up" in rows:
        gave_up = rows[rows["gave_up"].astype(bool)]
        top.scatter(gave_up["end"], gave_up["client"].map(lane), marker="x", s=40, zorder=4,
                    color=OKABE_ITO["black"], label="gave up")

    top.set_yticks(range(len(shown)), list(reversed(shown)), fontsize=8.5)
    top.set_ylim(-0.6, len(shown) - 0.4)
    top.set_xlim(0, span * 1.02)
    health = getattr(result, "health", None)
    for ax in (top, bottom):
        shade_bands(ax, health, until=span * 1.02)

    load = getattr(result, "load", None)
    if load is not None and len(load):
        bottom.step(load["time"], load["rate_per_s"], where="post", color=OKABE_ITO["blue"],
                    linewidth=1.2)
        bottom.fill_between(load["time"], load["rate_per_s"], step="post",
                            color=OKABE_ITO["blue"], alpha=0.25, linewidth=0)
    bottom.set_ylabel("attempts/s", fontsize=9)
    bottom.set_ylim(bottom=0)
    hidden = len(clients) - len(shown)
    subtitle = (f"{len(attempts)} attempts by {len(clients)} clients"
                + (f"; {len(shown)} lanes shown" if hidden else ""))
    bottom.set_xlabel("time (s)")
    return finish(fig, top, title=title or "Retry timeline", subtitle=subtitle,
                  legend_title="attempt")


def contention_figure(curves: pd.DataFrame, *, title: str | None = None) -> Figure:
    """The two figures of the AWS post side by side: total calls and completion time against the
    number of clients, one line per strategy.

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
    right.set_ylabel("time until the last success (s)")
    for ax in (left, right):
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    return finish(
        fig, left, title=title or "Optimistic concurrency under contention: backoff strategies",
        xlabel="clients", legend_title="backoff",
    )
