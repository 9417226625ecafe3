"""Figures for notebook 05 (eventual consistency): a replicated store's run as a timeline.

:func:`replication_timeline` draws a run of a primary/replica store: one lane per node, each
write's propagation from the node that took it to every replica that applied it, reads coloured
fresh or stale, crashes shaded, promotions marked, lost writes crossed out, and the session
guarantees a :class:`~distlab.sessions.SessionReport` finds violated ringed. It draws from a
run's tables (any result with a ``frame`` of operations and an ``applied`` table, such as
:func:`distlab.experiments.failover.failover_run`'s), never from a simulation.

>>> from distlab.experiments.failover import failover_run
>>> fig = replication_timeline(failover_run("async", seed=0))
>>> fig.axes[0].get_title(loc="left")
"Primary and replicas: each write's propagation (async)"
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_bool, check_frame
from distlab.plots.style import (
    OKABE_ITO,
    check_result,
    check_title,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = [
    "APPLIED_COLUMNS",
    "OPERATION_COLUMNS",
    "FEW_ACKNOWLEDGED",
    "REPLICATION_STYLES",
    "failover_cost_figure",
    "primary_until",
    "replication_timeline",
    "stale_read_rows",
]

#: Columns :func:`replication_timeline` needs in ``result.frame`` (one row per operation).
OPERATION_COLUMNS = ("client", "node", "f", "key", "stamp", "start", "end", "outcome")
#: Columns it needs in ``result.applied`` (one row per version a node applied).
APPLIED_COLUMNS = ("node", "time", "key", "stamp")
_ANSWERED_WRITE = (outcomes.OK, outcomes.LOST_WRITE)
_FAILED = (outcomes.TIMEOUT, outcomes.UNAVAILABLE, outcomes.ERROR)
_VIOLATION_COLOR = OKABE_ITO["reddish_purple"]
#: Replication mode -> (colour, marker) in every figure that compares them: ``async`` in
#: vermillion (it loses acknowledged writes), ``semi-sync`` bluish green (the usual remedy),
#: ``sync`` blue.
REPLICATION_STYLES: dict[str, tuple[str, str]] = {
    "async": (OKABE_ITO["vermillion"], "o"),
    "semi-sync": (OKABE_ITO["bluish_green"], "^"),
    "sync": (OKABE_ITO["blue"], "s"),
}
_COST_PANELS = (  # column, y label
    ("lost_acknowledged", "acknowledged writes lost"),
    ("write_p99_s", "write latency, p99 (s)"),
    ("write_outage_s", "write outage after the crash (s)"),
)


def _stamp(value: Any) -> tuple | None:
    """A version stamp as a tuple, or None (no version: the initial value, or not known)."""
    return tuple(value) if isinstance(value, (tuple, list)) and len(value) else None


def stale_read_rows(frame: pd.DataFrame) -> list[int]:
    """Positions (0-based) of the answered reads of ``frame`` that are stale: older (by
    ``stamp``) than the latest write of their key acknowledged before the read started.

    ``frame`` has a row per operation with ``f``, ``key``, ``stamp``, ``start``, ``end`` and
    ``outcome`` (a write is acknowledged when its outcome is ``ok`` or ``lost_write``; a read
    of the initial value has stamp ``None``, older than any write).

    >>> ops = pd.DataFrame({"f": ["write", "read", "read"], "key": ["x"] * 3,
    ...                     "stamp": [(1, 1, 1), None, (1, 1, 1)], "start": [0.0, 1.0, 2.0],
    ...                     "end": [0.5, 1.1, 2.1], "outcome": ["ok", "ok", "ok"]})
    >>> stale_read_rows(ops)
    [1]
    """
    check_frame("frame", frame, ("f", "key", "stamp", "start", "end", "outcome"))
    f, key = frame["f"].tolist(), frame["key"].tolist()
    stamp = [_stamp(s) for s in frame["stamp"]]
    start, end, outcome = frame["start"].tolist(), frame["end"].tolist(), frame["outcome"].tolist()
    acked: dict[Any, list[tuple[float, tuple]]] = {}
    for i in range(len(frame)):
        if f[i] in ("write", "put", "cas") and outcome[i] in _ANSWERED_WRITE and stamp[i]:
            acked.setdefault(key[i], []).append((end[i], stamp[i]))
    latest: dict[Any, tuple[list[float], list[tuple]]] = {}
    for k, writes in acked.items():
        writes.sort()
        best: list[tuple] = []
        for _, s in writes:
            best.append(max(s, best[-1]) if best else s)
        latest[k] = ([e for e, _ in writes], best)
    stale = []
    for i in range(len(frame)):
        if f[i] not in ("read", "get") or outcome[i] in _FAILED or key[i] not in latest:
            continue
        ends, best = latest[key[i]]
        j = bisect.bisect_left(ends, start[i])
        if j and (stamp[i] is None or best[j - 1] > stamp[i]):
            stale.append(i)
    return stale


def replication_timeline(
    result,
    *,
    variant: str | None = None,
    report=None,
    title: str | None = None,
    compact: bool = False,
) -> Figure:
    """A replicated store's run on a time axis, one lane per node (the first on top).

    - a node's lane is a thick line while it is the primary, a thin one while a replica;
    - each version is a tick where a node applied it, joined by a thin line to where it was
      first applied (the primary that took it): its propagation; a tick far to the right of
      the primary's is replication lag;
    - each answered read is a dot on the lane of the node that served it, at the middle of the
      call, in the colour of ``ok`` when fresh and of ``stale_read`` when stale (older than the
      latest write of its key acknowledged before it started: :func:`stale_read_rows`);
      operations that got no answer are triangles in the colour of their outcome;
    - crashes are shaded on their node's lane, a promotion is a star on the new primary's lane;
    - acknowledged writes a failover lost are crossed (an X in the colour of ``lost_write``)
      where they had been applied; discarded writes never acknowledged get a grey x;
    - the operations that violate a session guarantee in ``report`` (a
      :class:`~distlab.sessions.SessionReport` of the same run: processes are clients, an
      operation is found by its client and start time) are ringed.

    ``result`` needs ``frame`` (:data:`OPERATION_COLUMNS`) and ``applied``
    (:data:`APPLIED_COLUMNS`); it may have ``crashes`` (bands: ``start, end, state, label,
    node``), ``failovers`` (``time, old, new, term``) and ``sessions`` (``{variant: report}``,
    used when ``report`` is ``None``). Tables with a ``variant`` column are cut to ``variant``
    (default: the first in ``frame``); a ``served_by`` column in ``frame`` (as
    :func:`distlab.experiments.read_routing.read_routing`'s) puts each operation on the lane of
    the node that answered it. ``compact`` draws it smaller at 80 dpi.

    >>> from distlab.experiments.failover import failover_run
    >>> r = failover_run(seed=0)
    >>> fig = replication_timeline(r, variant="semi-sync", title="semi-sync")
    >>> sorted(line.get_label() for line in fig.axes[0].lines if line.get_label()[0] != "_")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['discarded, never acknowledged', 'fresh read', 'primary', 'promoted to primary', 'replica',
     'timeout (at its start)', 'write applied']
    """
    check_result("result", result, ("frame", "applied"), what="a replicated store's run "
                 "(e.g. failover_run())")  # fmt: skip
    title = check_title(title)
    compact = check_bool("compact", compact)
    ops = check_frame("result.frame", result.frame, OPERATION_COLUMNS)
    applied = check_frame("result.applied", result.applied, APPLIED_COLUMNS)
    for word in dict.fromkeys(ops["outcome"]):
        outcome_color(word)  # an outcome that is not one of distlab.outcomes' words: refused
    variant = _pick_variant(ops, variant)
    ops, applied = _cut(ops, variant), _cut(applied, variant)
    if "served_by" in ops.columns:  # a redirected read is drawn where it was answered
        ops = ops.assign(node=ops["served_by"].where(ops["served_by"].notna(), ops["node"]))
    crashes = _optional(result, "crashes", ("start", "end", "state", "node"), variant)
    failovers = _optional(result, "failovers", ("time", "old", "new"), variant)
    report = _report(result, report, variant)
    lanes = _lanes(ops, applied, crashes, failovers)
    y = {node: len(lanes) - 1 - i for i, node in enumerate(lanes)}
    end = _right_edge(ops, applied, crashes, failovers)
    fig, ax = new_figure(figsize=(9.0, 3.2) if compact else (11.0, 1.6 + 0.9 * len(lanes)),
                         dpi=80 if compact else 100)  # fmt: skip
    for row in crashes.itertuples(index=False):
        band = pd.DataFrame([(row.start, row.end, row.state, getattr(row, "label", row.state))],
                            columns=["start", "end", "state", "label"])  # fmt: skip
        shade_bands(ax, band, y=(y[row.node] - 0.4, y[row.node] + 0.4), until=end, alpha=0.2)
    _roles(ax, lanes, y, ops, applied, failovers, end, crashes)
    lost_acked = _propagation(ax, y, ops, applied, failovers)
    stale = _reads(ax, y, ops)
    ringed = _violations(ax, y, ops, report)
    _promotions(ax, y, failovers)
    ax.set_yticks([y[n] for n in lanes], [str(n) for n in lanes])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, end)
    ax.xaxis.set_major_locator(MaxNLocator(6 if compact else 10))
    label = f" ({variant})" if variant is not None else ""
    return finish(
        fig, ax, title=title or f"Primary and replicas: each write's propagation{label}",
        xlabel="time (s)",
        subtitle=_subtitle(result, ops, applied, lost_acked, stale, ringed, failovers),
    )  # fmt: skip


def _pick_variant(ops: pd.DataFrame, variant: Any) -> Any:
    if "variant" not in ops.columns:
        if variant is not None:
            raise ValueError(f"variant={variant!r} given, but result.frame has no variant column")
        return None
    allowed = list(dict.fromkeys(ops["variant"]))
    if variant is None:
        if not allowed:
            raise ValueError("result.frame has no rows: nothing to draw")
        return allowed[0]
    if variant not in allowed:
        raise ValueError(f"variant={variant!r} must be one of {', '.join(map(repr, allowed))}")
    return variant


def _cut(table: pd.DataFrame, variant: Any) -> pd.DataFrame:
    if variant is None or "variant" not in table.columns:
        return table.reset_index(drop=True)
    return table[table["variant"] == variant].reset_index(drop=True)


def _optional(result, name: str, columns: tuple[str, ...], variant: Any) -> pd.DataFrame:
    table = getattr(result, name, None)
    if table is None:
        return pd.DataFrame(columns=list(columns))
    return _cut(check_frame(f"result.{name}", table, columns), variant)


def _report(result, report, variant: Any):
    if report is None:
        sessions = getattr(result, "sessions", None)
        if isinstance(sessions, Mapping):
            report = sessions.get(variant)
    if report is not None and not hasattr(report, "violations"):
        raise TypeError(
            f"report={type(report).__name__} must be a SessionReport (distlab.check_sessions)"
        )
    return report


def _lanes(ops, applied, crashes, failovers) -> list:
    names = [*applied["node"], *ops["node"], *crashes["node"], *failovers["old"],
             *failovers["new"]]  # fmt: skip
    return sorted(dict.fromkeys(str(n) for n in names if isinstance(n, str)),
                  key=lambda n: (len(n), n))  # fmt: skip


def _right_edge(ops, applied, crashes, failovers) -> float:
    times = [1.0, *applied["time"], *ops["start"], *failovers["time"]]
    times += [t for t in ops["end"] if math.isfinite(t)]
    times += [t for t in [*crashes["start"], *crashes["end"]] if pd.notna(t) and math.isfinite(t)]
    return max(float(t) for t in times) * 1.02


def primary_until(crashes: pd.DataFrame, node: str, *, since: float, until: float) -> float:
    """Where the thick line of ``node``, primary from ``since`` to ``until``, ends: at its first
    crash in ``[since, until)``, or ``until``: a crashed primary's line ends at its crash, not at
    the promotion after it (``crashes``: columns ``start``, ``node``).

    >>> crashes = pd.DataFrame({"start": [2.0, 7.0], "node": ["n1", "n2"]})
    >>> primary_until(crashes, "n1", since=0.0, until=5.0)
    2.0
    >>> primary_until(crashes, "n2", since=0.0, until=5.0)
    5.0
    """
    starts = [float(t) for t, n in zip(crashes["start"], crashes["node"])
              if str(n) == node and since <= float(t) < until]  # fmt: skip
    return min(starts, default=until)


def _roles(ax, lanes, y, ops, applied, failovers, end: float, crashes) -> None:
    """Each lane a thin line (replica), thick where the node was the primary (up to its
    crash, if it crashed while primary)."""
    if len(failovers):
        first = str(failovers["old"].iloc[0])
    elif len(applied):
        first = str(applied.sort_values("time", kind="stable")["node"].iloc[0])
    else:
        first = str(ops["node"].iloc[0]) if len(ops) else lanes[0]
    spans, since, current = [], 0.0, first
    for t, new in zip(failovers["time"], failovers["new"]):
        spans.append((current, since, float(t)))
        since, current = float(t), str(new)
    spans.append((current, since, end))
    xs, ys = [], []
    for node, a, b in spans:
        b = primary_until(crashes, node, since=a, until=b)
        xs += [a, b, math.nan]
        ys += [y[node]] * 2 + [math.nan]
    ax.plot(xs, ys, color="#444444", linewidth=3.2, solid_capstyle="butt", zorder=1,
            label="primary")  # fmt: skip
    for node in lanes:
        ax.plot([0, end], [y[node]] * 2, color="#bbbbbb", linewidth=0.8, zorder=0.5,
                label="replica" if node == lanes[-1] else "_replica")  # fmt: skip


def _shipper(t: float, failovers: pd.DataFrame) -> Any:
    """The primary at time ``t`` (the node that ships the log then); ``None`` without a
    failover before ``t``, or with no failovers table."""
    primary = None
    for time, new in zip(failovers["time"], failovers["new"]):
        if t >= time:
            primary = new
    return primary


def _propagation(ax, y, ops: pd.DataFrame, applied: pd.DataFrame, failovers=None) -> set:
    """Ticks where each version was applied, lines from the node that shipped it (its first
    apply, or after a failover the new primary's apply); lost ones crossed. Returns the stamps
    of the acknowledged writes that were lost."""
    stamps = [_stamp(s) for s in ops["stamp"]]
    acked = {s for f, s, o in zip(ops["f"], stamps, ops["outcome"])
             if f not in ("read", "get") and s and o in _ANSWERED_WRITE}  # fmt: skip
    lost_acked = {s for s, o in zip(stamps, ops["outcome"]) if s and o == outcomes.LOST_WRITE}
    lost = set(lost_acked)
    if "lost" in applied.columns:
        lost |= {_stamp(s) for s in applied["stamp"][applied["lost"].eq(True)]}
    order = applied.sort_values("time", kind="stable")
    origin: dict[tuple, tuple[float, float]] = {}
    at: dict[tuple, dict[str, tuple[float, float]]] = {}  # stamp -> node -> where applied
    no_failovers = pd.DataFrame({"time": [], "new": []})
    failovers = no_failovers if failovers is None or not len(failovers) else failovers
    segments, ticks = [], ([], [])
    crossed: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
    for node, t, stamp in zip(order["node"], order["time"], order["stamp"]):
        stamp, point = _stamp(stamp), (float(t), float(y[str(node)]))
        if stamp in origin:
            shipper = _shipper(float(t), failovers)
            source = at[stamp].get(str(shipper), origin[stamp])
            segments.append([source, point])
        else:
            origin[stamp] = point
        at.setdefault(stamp, {})[str(node)] = point
        ticks[0].append(point[0])
        ticks[1].append(point[1])
        if stamp in lost:
            crossed[stamp in acked][0].append(point[0])
            crossed[stamp in acked][1].append(point[1])
    ax.add_collection(LineCollection(segments, colors="#9a9a9a", linewidths=0.7,
                                     alpha=0.7, zorder=1.5, label="propagation"),
                      autolim=False)  # fmt: skip
    ax.plot(*ticks, linestyle="none", marker="|", markersize=9, markeredgewidth=1.0,
            color="#333333", zorder=2, label="write applied")  # fmt: skip
    if crossed[True][0]:
        ax.plot(*crossed[True], linestyle="none", marker="X", markersize=9, zorder=4,
                color=outcome_color(outcomes.LOST_WRITE), markeredgecolor="white",
                label="acknowledged write lost")  # fmt: skip
    if crossed[False][0]:
        ax.plot(*crossed[False], linestyle="none", marker="x", markersize=7, zorder=3,
                color=OKABE_ITO["grey"], label="discarded, never acknowledged")  # fmt: skip
    return lost_acked


def _reads(ax, y, ops: pd.DataFrame) -> list[int]:
    """Answered reads as dots (fresh or stale); unanswered operations as triangles."""
    stale = set(stale_read_rows(ops))
    mid = ((ops["start"] + ops["end"].where(np.isfinite(ops["end"]), ops["start"])) / 2).tolist()
    groups: dict[str, tuple[list, list]] = {}
    for i, (f, node, outcome) in enumerate(zip(ops["f"], ops["node"], ops["outcome"])):
        if outcome in _FAILED:
            word = outcome
        elif f in ("read", "get"):
            word = outcomes.STALE_READ if i in stale else outcomes.OK
        else:
            continue
        xs, ys = groups.setdefault(word, ([], []))
        xs.append(mid[i] if word not in _FAILED else float(ops["start"].iloc[i]))
        ys.append(y[str(node)] + (0.18 if word not in _FAILED else -0.22))
    labels = {outcomes.OK: "fresh read", outcomes.STALE_READ: "stale read"}
    for word, (xs, ys) in groups.items():
        failed = word in _FAILED
        ax.plot(xs, ys, linestyle="none", marker="v" if failed else "o",
                markersize=5 if failed else 4.5, color=outcome_color(word), zorder=3,
                markeredgecolor="white", markeredgewidth=0.4,
                label=labels.get(word, f"{word.replace('_', ' ')} (at its start)"))  # fmt: skip
    return sorted(stale)


def _violations(ax, y, ops: pd.DataFrame, report) -> int:
    """Ring the operations that violate a session guarantee; returns how many were ringed."""
    if report is None or not report.violations:
        return 0
    start = ops["start"].to_numpy(float)
    clients = ops["client"].astype(str).to_numpy()
    xs, ys = [], []
    for v in report.violations:
        op = v.operation
        hit = np.flatnonzero((clients == str(op.process)) & np.isclose(start, op.invoke))
        if len(hit):
            i = int(hit[0])
            end = ops["end"].iloc[i]
            xs.append((start[i] + (end if math.isfinite(end) else start[i])) / 2)
            ys.append(y[str(ops["node"].iloc[i])] + 0.18)
    if xs:
        ax.plot(xs, ys, linestyle="none", marker="o", markersize=13, markerfacecolor="none",
                markeredgecolor=_VIOLATION_COLOR, markeredgewidth=1.6, zorder=5,
                label="session guarantee violated")  # fmt: skip
    return len(xs)


def _promotions(ax, y, failovers: pd.DataFrame) -> None:
    if not len(failovers):
        return
    xs = [float(t) for t in failovers["time"]]
    ys = [y[str(n)] for n in failovers["new"]]
    ax.plot(xs, ys, linestyle="none", marker="*", markersize=15, color=OKABE_ITO["orange"],
            markeredgecolor="#333333", markeredgewidth=0.6, zorder=5,
            label="promoted to primary")  # fmt: skip
    terms = failovers["term"] if "term" in failovers.columns else [None] * len(xs)
    for x, yy, new, term in zip(xs, ys, failovers["new"], terms):
        text = f"{new} promoted" + (f" (term {term})" if term is not None else "")
        ax.text(x, yy + 0.3, text, fontsize=8, ha="left", va="bottom", color="#333333")


def _subtitle(result, ops, applied, lost_acked, stale, ringed, failovers) -> str:
    writes = int((ops["f"] != "read").sum())
    reads = int((ops["f"] == "read").sum())
    parts = [f"{writes} writes, {reads} reads", f"{len(lost_acked)} acknowledged writes lost",
             f"{len(stale)} stale reads"]  # fmt: skip
    if ringed:
        parts.append(f"{ringed} session violations")
    for t, old, new in zip(failovers["time"], failovers["old"], failovers["new"]):
        parts.append(f"failover {old} -> {new} at {float(t):.2f} s")
    seed = (getattr(result, "params", None) or {}).get("seed")
    if seed is not None:
        parts.append(f"seed {seed}")
    return "; ".join(parts)


#: Fewer acknowledged writes per run (the median over seeds) than this, and a latency point of
#: :func:`failover_cost_figure` is drawn hollow and labelled with the count: a p99 of 1 write.
FEW_ACKNOWLEDGED = 5


def _few_acknowledged(ax, rows: pd.DataFrame, means: pd.Series, color, marker) -> None:
    """Hollow markers on the latency means that rest on few writes, labelled with the writes
    behind the point: ``"2 writes, in 2 of 8 runs"`` (the runs with a latency, of all)."""
    if "acknowledged" not in rows.columns:
        return
    by_lag = rows.groupby("replication_lag_s")
    n = by_lag["acknowledged"].median().reindex(means.index)
    few = n < FEW_ACKNOWLEDGED
    if not few.any():
        return
    ax.plot(means.index[few], means[few].to_numpy(), linestyle="none", marker=marker,
            markersize=7, markerfacecolor="white", markeredgecolor=color, zorder=4,
            label="_few")  # fmt: skip
    for lag, mean in zip(means.index[few], means[few]):
        if np.isfinite(mean):
            runs = by_lag.get_group(lag)
            measured = runs[np.isfinite(runs["write_p99_s"].to_numpy(float))]
            writes = int(measured["acknowledged"].sum())
            ax.annotate(f"{writes} write{'s' if writes != 1 else ''}, in {len(measured)} of "
                        f"{len(runs)} runs", (lag, mean), xytext=(-6, -12), fontsize=7,
                        textcoords="offset points", color=color, ha="right")  # fmt: skip


def failover_cost_figure(summaries: pd.DataFrame, *, title: str | None = None) -> Figure:
    """What each replication mode loses and what it costs, against the replication lag: the
    acknowledged writes lost at the failover, the write latency (p99) and how long after the
    crash no write was acknowledged, one line per mode (the mean over the seeds, each seed a
    faint dot).

    The outage is the time from the crash to the acknowledgement of the first write invoked
    after it: the failover for ``async`` and ``semi-sync``, the old primary's return for
    ``sync``. ``summaries`` has one row per run and mode, with columns ``variant``,
    ``replication_lag_s``, ``lost_acknowledged``, ``write_p99_s`` and ``write_outage_s``:
    ``sweep(failover_run, {"replication_lag_s": [...]}, seeds=..., table="summary")``.

    >>> from distlab.experiments import sweep
    >>> from distlab.experiments.failover import failover_run
    >>> df = sweep(failover_run, {"replication_lag_s": [0.0, 0.2]}, seeds=range(2),
    ...            table="summary")
    >>> fig = failover_cost_figure(df)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['acknowledged writes lost', 'write latency, p99 (s)', 'write outage after the crash (s)']
    """
    columns = ("variant", "replication_lag_s", *(c for c, _ in _COST_PANELS))
    check_frame("summaries", summaries, columns,
                what='sweep(failover_run, ..., table="summary")')  # fmt: skip
    title = check_title(title)
    if summaries.empty:
        raise ValueError("summaries has no rows: sweep failover_run over at least one lag")
    fig, axes = new_figure(1, len(_COST_PANELS), figsize=(11.0, 3.6), sharex=True)
    rng = np.random.default_rng(0)  # horizontal jitter of the seed dots only, for legibility
    for mode, rows in summaries.groupby("variant", sort=False):
        if mode not in REPLICATION_STYLES:
            raise ValueError(
                f"summaries has variant={mode!r}; allowed: {', '.join(REPLICATION_STYLES)}"
            )
        color, marker = REPLICATION_STYLES[mode]
        lag = rows["replication_lag_s"].to_numpy(float)
        spread = 0.01 * max(float(summaries["replication_lag_s"].max()), 0.01)
        for ax, (column, label) in zip(axes, _COST_PANELS):
            values = rows[column].to_numpy(float)
            ax.plot(lag + rng.uniform(-spread, spread, len(lag)), values, linestyle="none",
                    marker=marker, markersize=3, color=color, alpha=0.25,
                    label="_seeds")  # fmt: skip
            means = rows.groupby("replication_lag_s")[column].mean()
            ax.plot(means.index, means.to_numpy(), color=color, marker=marker, markersize=5,
                    linewidth=1.6, label=mode)  # fmt: skip
            if column == "write_p99_s":
                _few_acknowledged(ax, rows, means, color, marker)
            ax.set_ylabel(label)
    for ax in axes:
        ax.set_xlabel("replication lag, mean (s)")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    runs = int(summaries.groupby(["variant", "replication_lag_s"]).size().max())
    fig = finish(
        fig, axes[0], title=title or "Failover: acknowledged writes lost, and the price of not "
        "losing them", legend_title="replication",
        subtitle=f"{runs} run{'s' if runs > 1 else ''} per mode and lag; lines: means, dots: "
        "single runs; latency of acknowledged writes only (hollow: under "
        f"{FEW_ACKNOWLEDGED} acknowledged per run)",
    )  # fmt: skip
    fig.subplots_adjust(wspace=0.32)
    return fig
