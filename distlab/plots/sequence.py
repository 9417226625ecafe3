"""Message-sequence diagram of a simulated run: who sent what to whom, what arrived, what was lost.

The picture Maelstrom and ShiViz give their users: one horizontal line per node, time flowing to
the right, one arrow per delivered message from (send time, sender) to (delivery time, receiver),
an X for every dropped message coloured by why it was dropped, partitions and crashed nodes shaded.

>>> from distlab.sim import Network, World
>>> world = World(seed=1)
>>> net = Network(world, latency=0.05, loss=0.1)
>>> for name in ("A", "B"):
...     _ = net.add_node(name)
>>> for i in range(10):
...     _ = net.send("A", "B", payload=i)
>>> world.run()
>>> fig = message_sequence(world.events(), title="10 messages over a 10% lossy link")
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from distlab import outcomes
from distlab._validate import check_frame, check_int
from distlab.plots.display import (
    check_figure,
    clear_figure,
    keep,
    keep_background,
    round_up,
    set_titles,
)
from distlab.plots.display import kept as kept_parts
from distlab.plots.style import (
    DROP_COLORS,
    check_figsize,
    check_names,
    check_title,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = ["message_sequence"]

_REQUIRED = ("time", "kind")
_DROP_LABELS = {
    "loss": "dropped: lost on the network",
    "partition": "dropped: partition",
    "crashed": "dropped: node crashed",
}


def message_sequence(
    events: pd.DataFrame,
    *,
    title: str | None = None,
    nodes: list[str] | None = None,
    max_messages: int = 400,
    faults: pd.DataFrame | None = None,
    figsize: tuple[float, float] | None = None,
    figure: Figure | None = None,
) -> Figure:
    """Draw the messages of an event log as a sequence diagram and return the Figure.

    ``events`` is ``World.events()``: columns ``time, kind, node, src, dst, msg_id, reason,
    detail``. Kinds used: ``send``, ``deliver``, ``drop`` (``reason`` loss / partition /
    crashed), ``partition`` / ``heal``, ``crash`` / ``restart`` (``node``), ``slow`` (``node``,
    factor in ``detail``; factor 1 ends it) and ``fault_start`` / ``fault_end`` (with the
    fault's band ``state``, as :class:`~distlab.sim.FaultSchedule` logs them). Other kinds are
    ignored.

    - ``nodes``: which nodes to draw, top to bottom (default: every node in order of appearance).
    - ``max_messages``: only the first that many messages (by send time) are drawn, so a long
      run stays readable and fast; the subtitle says how many were left out.
    - ``faults``: optional bands DataFrame (``FaultSchedule.bands()``: start, end, state, label)
      shaded over the whole height; if omitted, faults are read from ``fault_start`` /
      ``fault_end`` rows. Partitions and crashes are always taken from the network's own
      ``partition``/``heal`` and ``crash``/``restart`` rows when the log has them (a crash is
      shaded on the crashed node's line only).
    - ``figure``: a figure this function returned before. It is updated in place and returned
      when its node lines, time axis, shading and legend stay the same (then only the messages
      and the titles change, and :func:`~distlab.plots.display.figure_png` redraws only them);
      otherwise a new figure is returned. Either way the picture is the one a new figure shows.

    The time axis ends a little after the last event, rounded up to a round number (so that
    nearby runs share it). An event log with no messages gives a valid, empty diagram (the node
    lines, if any, and a note). Missing ``time``/``kind`` columns raise ``ValueError``. See the
    module for an example.
    """
    ev = _check_events(events)
    max_messages = check_int("max_messages", max_messages, 1)
    check_title(title)
    figsize = check_figsize(figsize)
    figure = check_figure(figure)
    nodes = None if nodes is None else check_names("nodes", nodes)
    if faults is not None:
        check_frame("faults", faults, ("start", "end", "state"), what="FaultSchedule.bands()")

    shown_sends, delivers, drop_rows, n_total = _shown_messages(ev, max_messages)
    node_order = _node_order(ev, nodes)
    y_of = {name: i for i, name in enumerate(node_order)}
    send_idx = shown_sends.set_index("msg_id")
    arrows = _delivery_arrows(send_idx, delivers, y_of)
    drops = _drop_marks(send_idx, drop_rows, y_of)
    n_dropped = sum(len(xs) for _, xs, _, _ in drops)
    empty = n_total == 0 and len(drop_rows) == 0
    shading = _shading_key(ev, faults)
    frame = _Frame(
        size=figsize or (9.0, max(2.6, min(6.5, 1.2 + 0.55 * max(len(node_order), 1)))),
        # The node lines are redrawn with the messages, unless something is shaded on them.
        nodes=tuple(node_order) if _per_node(shading) or not node_order else (),
        widest=max((len(str(n)) for n in node_order), default=0),
        t_start=min(float(ev["time"].min()) if len(ev) else 0.0, 0.0),
        t_end=_time_extent(ev, shown_sends, delivers, drop_rows, truncated=n_total > max_messages),
        delivered=arrows is not None,
        drop_reasons=tuple(reason for reason, *_ in drops),
        shading=shading,
        empty=empty,
    )
    kept = kept_parts(figure, "message_sequence") if node_order else None
    if kept is None or kept[0] != frame:
        # A kept figure is cleared and drawn again (quicker than a new one) unless it or the new
        # picture has no node lines, where the limits would come from what was drawn before.
        reuse = figure if kept is not None and kept[0].widest and frame.widest else None
        figure, kept = _skeleton(frame, ev, faults, node_order, (arrows, drops), reuse)
    else:
        for artist in kept[2]:
            artist.remove()
        kept[2][:] = _draw_messages(kept[1], arrows, drops)
        if kept[3][0] != node_order:  # the node lines, when the nodes change
            kept[3][1].remove()
            kept[3][:] = [node_order, *_lanes(kept[1], node_order, frame.t_start, frame.t_end)]
    n_delivered = 0 if arrows is None else len(arrows[0])
    subtitle = _subtitle(n_total, n_delivered, n_dropped, max_messages, empty)
    texts = set_titles(kept[1], title or "Message sequence", subtitle)
    moving = [*kept[2], *kept[3][1:], kept[1].yaxis, *texts]
    keep_background(figure, frame, moving=moving, moving_y=[kept[1]])
    return figure


def _subtitle(n_total: int, delivered: int, dropped: int, max_messages: int, empty: bool) -> str:
    counts = f"{delivered} delivered · {dropped} dropped"
    if n_total > max_messages:
        return f"first {max_messages} of {n_total} messages shown: {counts}"
    return "0 messages" if empty else f"{n_total} messages sent: {counts}"


@dataclass(frozen=True)
class _Frame:
    """What a sequence diagram's figure depends on besides its messages and titles."""

    size: tuple[float, float]
    nodes: tuple
    widest: int
    t_start: float
    t_end: float
    delivered: bool
    drop_reasons: tuple[str, ...]
    shading: tuple
    empty: bool


# keep() keeps with each figure:
# its _Frame, its axes, the messages an update replaces, [nodes, their lines]


def _skeleton(frame: _Frame, ev: pd.DataFrame, faults, node_order, messages, reuse) -> tuple:
    """A new figure, or ``reuse`` cleared (the messages given drawn) and what
    :func:`~distlab.plots.display.keep` keeps of it."""
    if reuse is None:
        fig, ax = new_figure(figsize=frame.size)
    else:
        fig, ax = reuse, clear_figure(reuse, frame.size)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    lanes = [node_order, *_lanes(ax, node_order, frame.t_start, frame.t_end)]
    drawn = _draw_messages(ax, *messages)
    # Shading: partitions (whole height), crashes and slow nodes (per node line), other faults.
    y_of = {name: i for i, name in enumerate(node_order)}
    _shade_network_states(ax, ev, y_of, frame.t_end, faults)
    ax.set_xlim(frame.t_start, frame.t_end if frame.t_end > frame.t_start else frame.t_start + 1)
    if frame.empty:
        _note(ax, "no messages in this event log")
    delivered = outcome_color(outcomes.DELIVERED)
    handles = [Line2D([], [], color=delivered, linewidth=1.5, label="delivered")]
    # Placeholder titles: they only need to be there for the margins; each update sets them.
    finish(fig, ax, handles=handles if frame.delivered else [], title="title", xlabel="time (s)",
           ylabel="node", subtitle="subtitle")  # fmt: skip
    kept = (frame, ax, drawn, lanes)
    keep(fig, "message_sequence", kept)
    return fig, kept


def _lanes(ax, node_order: list, t_start: float, t_end: float) -> list:
    """The node lines and the nodes as y ticks, the first at the top: they move with the number
    of nodes (the y axis is drawn with them, over the axes' left edge only)."""
    # one line per node (an empty collection for none)
    drawn = [ax.hlines(range(len(node_order)), t_start, t_end, colors="#444444", linewidth=1.0,
                       zorder=1)]  # fmt: skip
    if node_order:
        ax.set_ylim(len(node_order) - 0.5, -0.5)  # first node at the top
        ax.set_yticks(range(len(node_order)), [str(n) for n in node_order])
    else:
        ax.set_yticks([])
    ax.tick_params(axis="y", length=0, labelsize=10)
    ax.spines["left"].set_visible(False)
    ax.yaxis.set_zorder(2.55)
    return drawn


def _per_node(shading: tuple) -> bool:
    """Whether the shading rows shade single nodes' lines (crashes, slow nodes)."""
    return any(row[1] in ("crash", "restart", "slow") for row in shading)


_SHADED_KINDS = ["partition", "heal", "crash", "restart", "slow", "fault_start", "fault_end"]


def _shading_key(ev: pd.DataFrame, faults) -> tuple:
    """The rows the shading is drawn from: the same rows give the same shading."""
    shaded = np.isin(ev["kind"].to_numpy().astype(str), _SHADED_KINDS)
    if (faults is None or not len(faults)) and not shaded.any():
        return ()
    rows = ev[shaded]
    columns = [c for c in ("time", "kind", "node", "detail", "state") if c in rows.columns]
    key = tuple(map(tuple, rows[columns].astype(str).to_numpy()))
    if faults is not None:
        key += tuple(map(tuple, faults.astype(str).to_numpy()))
    return key


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#777777",
            fontsize=10)  # fmt: skip


def _shown_messages(ev: pd.DataFrame, max_messages: int):
    """The first ``max_messages`` sends, their deliveries and drops, and how many were sent."""
    kind = ev["kind"].to_numpy().astype(str)
    sends = ev[kind == "send"]
    delivers = ev[kind == "deliver"]
    drops = ev[kind == "drop"]
    n_total = int(sends["msg_id"].nunique()) if len(sends) else 0
    shown_sends = sends.drop_duplicates("msg_id").iloc[:max_messages]
    if n_total > max_messages:
        shown_ids = set(shown_sends["msg_id"].tolist())
        delivers = delivers[delivers["msg_id"].isin(shown_ids)]
        drops = drops[drops["msg_id"].isin(shown_ids)]
    return shown_sends, delivers, drops, n_total


def _check_events(events: pd.DataFrame) -> pd.DataFrame:
    check_frame("events", events, _REQUIRED, what="World.events()")
    ev = events
    for col in ("node", "src", "dst", "msg_id", "reason", "detail"):
        if col not in ev.columns:
            ev = ev.assign(**{col: None})
    return ev


def _node_order(ev: pd.DataFrame, nodes: list[str] | None) -> list:
    if nodes is not None:
        return nodes
    # Row order is time order, so this is the order of first appearance.
    stacked = pd.Series(ev[["node", "src", "dst"]].to_numpy().ravel())
    return list(stacked.dropna().unique())


def _time_extent(ev, shown_sends, delivers, drops, *, truncated: bool) -> float:
    if truncated:
        times = [shown_sends["time"].max(), delivers["time"].max(), drops["time"].max()]
        times = [t for t in times if t is not None and not pd.isna(t)]
        end = max(times) if times else 0.0
    else:
        end = float(ev["time"].max()) if len(ev) else 0.0
    start = min(float(ev["time"].min()) if len(ev) else 0.0, 0.0)
    span = end - start
    if not span > 0:
        return end + 1.0
    # A little room after the last event, rounded up: neighbouring runs then share their time
    # axis (and an explorer need not redraw it).
    return start + round_up(span * 1.02)


def _delivery_arrows(send_idx: pd.DataFrame, delivers: pd.DataFrame, y_of: dict):
    """``(x0, y0, dx, dy)`` of every delivered message drawn (None if there is none)."""
    if len(delivers) == 0 or len(send_idx) == 0:
        return None
    d = delivers[delivers["msg_id"].isin(send_idx.index)]
    if len(d) == 0:
        return None
    s = send_idx.loc[d["msg_id"].to_numpy()]
    src = s["src"].map(y_of).to_numpy(dtype=float)
    dst_name = d["dst"].where(d["dst"].notna(), s["dst"].to_numpy())
    dst = dst_name.map(y_of).to_numpy(dtype=float)
    x0 = s["time"].to_numpy(dtype=float)
    x1 = d["time"].to_numpy(dtype=float)
    ok = ~(np.isnan(src) | np.isnan(dst))  # messages between nodes not drawn
    x0, x1, src, dst = x0[ok], x1[ok], src[ok], dst[ok]
    if len(x0) == 0:
        return None
    return x0, src, x1 - x0, dst - src


def _draw_messages(ax, arrows, drops) -> list:
    """Arrows for deliveries and Xs for drops; returns the artists."""
    drawn = []
    if arrows is not None:
        # Arrow heads sized in points, independent of the data range: lines + a quiver of unit
        # vectors would distort; a quiver in data units with scale=1 draws exact arrows.
        drawn.append(ax.quiver(*arrows, angles="xy", scale_units="xy", scale=1,
                               color=outcome_color(outcomes.DELIVERED), width=0.0022,
                               headwidth=4.5, headlength=6, headaxislength=5.5, alpha=0.85,
                               zorder=3))  # fmt: skip
    for reason, xs, ys, segments in drops:
        color = DROP_COLORS.get(reason, outcome_color(outcomes.DROPPED))
        if segments:
            drawn.append(ax.add_collection(LineCollection(
                segments, colors=color, linewidths=0.9, linestyles=(0, (2, 2)), alpha=0.7,
                zorder=2,
            )))  # fmt: skip
        drawn.append(ax.scatter(xs, ys, marker="X", s=42, color=color, edgecolors="white",
                                linewidths=0.5, zorder=4,
                                label=_DROP_LABELS.get(reason, f"dropped: {reason}")))  # fmt: skip
    return drawn


def _drop_marks(send_idx: pd.DataFrame, drops: pd.DataFrame, y_of: dict) -> list:
    """``[(reason, xs, ys, segments)]``: where each drawn drop is marked, by reason."""
    if len(drops) == 0:
        return []
    marks = []
    reasons = drops["reason"].astype(str)
    for reason in list(dict.fromkeys(reasons)):
        rows = drops[reasons == reason]
        xs, ys, segments = [], [], []
        for row in rows.itertuples(index=False):
            t_drop = float(row.time)
            t_send, ys_src, ys_dst = _drop_path(row, send_idx, y_of)
            if ys_src is None:
                continue
            y = _drop_y(reason, t_send, t_drop, ys_src, ys_dst)
            xs.append(t_drop)
            ys.append(y)
            if (t_drop, y) != (t_send, ys_src):
                segments.append(((t_send, ys_src), (t_drop, y)))
        if xs:
            marks.append((reason, xs, ys, segments))
    return marks


def _drop_path(row, send_idx: pd.DataFrame, y_of: dict):
    """(send time, sender's y, receiver's y) of a dropped message; ys None if neither is drawn."""
    if row.msg_id in send_idx.index:
        sent = send_idx.loc[row.msg_id]
        if isinstance(sent, pd.DataFrame):
            sent = sent.iloc[0]
        t_send = float(sent["time"])
        ys_src = y_of.get(sent["src"])
        ys_dst = y_of.get(sent["dst"] if pd.notna(sent["dst"]) else row.dst)
    else:
        t_send = float(row.time)
        ys_src = y_of.get(row.src) if pd.notna(row.src) else y_of.get(row.node)
        ys_dst = y_of.get(row.dst) if pd.notna(row.dst) else None
    if ys_src is None:
        ys_src = ys_dst
    if ys_dst is None:
        ys_dst = ys_src
    return t_send, ys_src, ys_dst


def _drop_y(reason: str, t_send: float, t_drop: float, y_src: float, y_dst: float) -> float:
    """Where on the diagram a drop happened.

    Lost on the network: half-way along its path. Otherwise: at the receiver if it travelled
    (dropped on arrival), else a little way out of the sender (refused at send time).
    """
    if reason == "loss":
        return (y_src + y_dst) / 2
    if t_drop > t_send:
        return y_dst
    return y_src + 0.25 * (y_dst - y_src)


def _shade_network_states(ax, ev: pd.DataFrame, y_of: dict, t_end: float, faults) -> None:
    kind = ev["kind"].astype(str)
    has_partition_rows = bool((kind == "partition").any())
    has_crash_rows = bool((kind == "crash").any())

    # Partitions, whole height: from a partition row to the next heal (or re-partition).
    periods = []
    start = None
    for row in ev[kind.isin(["partition", "heal"])].itertuples(index=False):
        if start is not None:
            periods.append((start, float(row.time)))
        start = float(row.time) if row.kind == "partition" else None
    if start is not None:
        periods.append((start, math.inf))
    if periods:
        shade_bands(ax, _bands(periods, "partitioned"), until=t_end, alpha=0.14)

    # Crashed nodes, on their own line.
    _shade_per_node(
        ax,
        ev[kind.isin(["crash", "restart"])],
        y_of,
        t_end,
        starts=lambda r: r.kind == "crash",
        state="crashed",
    )
    # Slow nodes: a slow row with factor 1 ends the slowness.
    _shade_per_node(
        ax, ev[kind == "slow"], y_of, t_end, starts=lambda r: _factor(r.detail) != 1.0, state="slow"
    )

    # Other faults over the whole height; partitions and crashes the network logged itself are
    # drawn above already.
    bands = (
        faults if faults is not None else _fault_bands(ev[kind.isin(["fault_start", "fault_end"])])
    )
    if bands is not None and len(bands):
        state = bands["state"].reset_index(drop=True)
        keep = np.ones(len(bands), dtype=bool)
        if has_partition_rows:
            keep &= (state != "partitioned").to_numpy()
        if has_crash_rows:
            keep &= (state != "crashed").to_numpy()
        shade_bands(ax, bands.reset_index(drop=True)[keep], until=t_end, alpha=0.12)


def _bands(periods, state: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": [p[0] for p in periods],
            "end": [p[1] for p in periods],
            "state": state,
            "label": state,
        }
    )


def _shade_per_node(ax, rows: pd.DataFrame, y_of: dict, t_end: float, *, starts, state) -> None:
    open_at: dict = {}
    periods: dict = {}
    for row in rows.itertuples(index=False):
        if row.node not in y_of:
            continue
        if row.node in open_at:
            periods.setdefault(row.node, []).append((open_at.pop(row.node), float(row.time)))
        if starts(row):
            open_at[row.node] = float(row.time)
    for node, t in open_at.items():
        periods.setdefault(node, []).append((t, math.inf))
    for node, spans in periods.items():
        y = y_of[node]
        shade_bands(
            ax, _bands(spans, state), y=(y - 0.32, y + 0.32), until=t_end, alpha=0.3, zorder=0.5
        )


def _factor(detail) -> float:
    """The factor of a network ``slow`` row (its detail is ``factor=<number>``)."""
    match = re.search(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", str(detail))
    return float(match.group()) if match else math.nan


def _fault_bands(rows: pd.DataFrame) -> pd.DataFrame | None:
    """Pair fault_start/fault_end rows (same node, detail and state) into bands."""
    if len(rows) == 0:
        return None
    if "state" not in rows.columns:
        raise ValueError(
            "events has fault_start/fault_end rows without a state column; log them with "
            "FaultSchedule (it records each fault's band state) or pass faults= bands"
        )
    open_at: dict = {}
    out = []
    for row in rows.itertuples(index=False):
        key = (row.node if pd.notna(row.node) else None, str(row.detail), row.state)
        if row.kind == "fault_start":
            open_at.setdefault(key, []).append(float(row.time))
        elif open_at.get(key):
            out.append((open_at[key].pop(0), float(row.time), key))
    for key, starts in open_at.items():
        out.extend((t, math.inf, key) for t in starts)
    if not out:
        return None
    return pd.DataFrame(
        {
            "start": [o[0] for o in out],
            "end": [o[1] for o in out],
            "state": [k[2] for _, _, k in out],
            "label": [k[1] for _, _, k in out],
        }
    )
