"""Figures for notebook 04 (sagas): one run as a timeline, and end states over many runs.

:func:`saga_timeline` draws what :func:`distlab.experiments.sagas.saga_run` returns;
:func:`end_states_figure` what :func:`distlab.experiments.sagas.saga_end_states` returns.
End states have one colour each everywhere (:data:`distlab.plots.style.END_STATE_COLORS`),
outcomes theirs (:data:`distlab.plots.style.OUTCOME_COLORS`).

>>> from distlab.experiments.sagas import saga_run
>>> fig = saga_timeline(saga_run(fail_step="charge_payment", crash_after_step="reserve_stock"))
>>> [ax.get_title(loc="left") for ax in fig.axes]
['An order saga, step by step']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_bool, check_frame
from distlab.plots.style import (
    END_STATE_COLORS,
    OKABE_ITO,
    check_result,
    check_title,
    finish,
    new_figure,
    outcome_color,
    shade_bands,
)

__all__ = ["LANES", "end_states_figure", "saga_timeline"]

#: The timeline's lanes, top to bottom: the orchestrator, then each participant.
LANES = ("orchestrator", "order", "inventory", "payment")
_CALL_OUTCOMES = (outcomes.OK, outcomes.ERROR, outcomes.TIMEOUT)
_ATTEMPT_COLUMNS = (
    "saga_id", "participant", "op", "sent", "ended", "outcome", "effects", "took_effect",
    "duplicate", "tombstone",
)  # fmt: skip
_HATCH = "////"
_MARKS = (  # column, test, marker, colour, legend label
    ("duplicate", None, "o", OKABE_ITO["black"], "duplicate, from the record"),
    ("tombstone", None, "s", OKABE_ITO["grey"], "tombstone: no-op"),
    ("effects", 2, "X", OKABE_ITO["vermillion"], "took effect twice"),
)


def _lane_rows(saga_ids: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    """(lane, saga id) -> (bottom, height) of that order's row inside the lane (lane i spans
    [n - 1 - i, n - i), the orchestrator on top)."""
    rows = {}
    per = 0.8 / max(len(saga_ids), 1)
    for i, lane in enumerate(LANES):
        top = len(LANES) - i - 0.1
        for j, sid in enumerate(saga_ids):
            rows[lane, sid] = (top - (j + 1) * per + 0.06 * per, per * 0.88)
    return rows


def saga_timeline(result, *, title: str | None = None, compact: bool = False) -> Figure:
    """One saga run on a time axis: a lane per participant (order, inventory, payment) with a
    row per order, and the orchestrator's lane on top.

    Each request the orchestrator sent is a bar from when it was sent to when the answer came
    (or it stopped waiting), coloured by the outcome it saw; compensations are hatched; a bar
    is filled when the request took effect at the participant and hollow when it did not.
    Marks at a bar's end: a duplicate answered from the idempotency record, a tombstone no-op,
    a request that took effect twice. The orchestrator's lane shows every write to its saga log
    as a tick; its crashes are shaded across all lanes, each restart a triangle. Each order's
    end state is written at the right, in its colour. Each lane has a row per order, the first
    order on top. ``compact`` draws it smaller at 80 dpi (the saga explorer redraws it on every
    change). ``result`` is a :class:`~distlab.experiments.sagas.SagaRunResult`.

    >>> from distlab.experiments.sagas import saga_run
    >>> fig = saga_timeline(saga_run("course", orders=2, crash_after_step="reserve_stock"))
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("o"))
    ['o0: half_done', 'o1: half_done']
    """
    check_result("result", result, ("frame", "crashes", "log_writes", "end_states"),
                 what="saga_run()")  # fmt: skip
    title = check_title(title)
    compact = check_bool("compact", compact)
    attempts = check_frame("result.frame", result.frame, _ATTEMPT_COLUMNS)
    crashes = check_frame("result.crashes", result.crashes, ("start", "end", "state"))
    writes = check_frame("result.log_writes", result.log_writes, ("time", "saga_id", "kind"))
    ends = check_frame("result.end_states", result.end_states, ("saga_id", "end_state"))
    saga_ids = [str(s) for s in ends["saga_id"]]
    rows = _lane_rows(saga_ids)
    size, dpi = ((9.0, 3.9), 80) if compact else ((11.0, 4.6), 100)
    fig, ax = new_figure(figsize=size, dpi=dpi)
    end = _right_edge(attempts, crashes, writes)
    shade_bands(ax, crashes.assign(label="orchestrator down"), until=end, alpha=0.14)
    _bars(ax, attempts, rows)
    _marks(ax, attempts, rows)
    _orchestrator_lane(ax, writes, crashes, rows, end)
    _end_states(ax, ends, rows, end)
    ax.set_ylim(0, len(LANES))
    ax.set_yticks([len(LANES) - i - 0.5 for i in range(len(LANES))], list(LANES))
    ax.tick_params(axis="y", length=0)
    for y in range(1, len(LANES)):
        ax.axhline(y, color="#cccccc", linewidth=0.6, zorder=0.5)
    ax.xaxis.set_major_locator(MaxNLocator(6 if compact else 10))
    ax.set_xlabel("time (s)")
    handles = _legend_handles(attempts)
    fig = finish(fig, ax, title=title or "An order saga, step by step",
                 subtitle=_subtitle(result, attempts, ends, crashes, writes),
                 handles=handles)  # fmt: skip
    # room at the right for the end states, now that the legend has set the axes' width
    labels = [f"{sid}: {state}" for sid, state in zip(ends["saga_id"], ends["end_state"])]
    ax.set_xlim(0, _right_limit(end, labels, ax.get_position().width * fig.get_figwidth()))
    return fig


def _right_limit(end: float, labels: list[str], axes_width_in: float) -> float:
    """The x limit that leaves room for the end-state labels, which start at ``end * 1.02``:
    their width is estimated (bold 8.5 pt, generous), measuring would cost a draw."""
    label_in = max((len(t) for t in labels), default=0) * 0.64 * 8.5 / 72 + 0.08
    share = min(label_in / max(axes_width_in, 0.1), 0.6)  # of the axes the labels need
    return max(end * 1.25, end * 1.02 / (0.99 - share))


def _right_edge(attempts: pd.DataFrame, crashes: pd.DataFrame, writes: pd.DataFrame) -> float:
    times = [0.5, *attempts["ended"], *crashes["start"], *writes["time"]]
    times += [t for t in crashes["end"] if isinstance(t, (int, float)) and not math.isnan(t)]
    return max(float(t) for t in times) * 1.04


def _bars(ax, attempts: pd.DataFrame, rows) -> None:
    """One collection per (op, outcome, took effect): filled or hollow, hatched if undoing."""
    groups: dict[tuple, list] = {}
    columns = ("participant", "saga_id", "op", "outcome", "took_effect", "sent", "ended")
    for lane, sid, op, outcome, effect, sent, ended in zip(*(attempts[c] for c in columns)):
        row = rows.get((lane, str(sid)))
        if row is None:
            raise ValueError(
                f"result.frame has participant={lane!r}, saga_id={sid!r}: not a lane of {LANES} "
                "with an order of result.end_states"
            )
        bottom, top = row[0], row[0] + row[1]
        right = max(float(ended), float(sent) + 0.004)
        groups.setdefault((op, outcome, bool(effect)), []).append(
            [(sent, bottom), (right, bottom), (right, top), (sent, top)]
        )
    for (op, outcome, effect), verts in sorted(groups.items()):
        color = outcome_color(outcome)
        hatched = op == "compensation"
        ax.add_collection(
            PolyCollection(
                verts,
                facecolors=color if effect else "none",
                # a hatch is drawn in the edge colour: white on a filled bar
                edgecolors="white" if effect and hatched else color,
                linewidths=1.0,
                hatch=_HATCH if hatched else None,
                label=f"_{op} {outcome} {'effect' if effect else 'no effect'}",
                zorder=2,
            ),
            autolim=False,
        )


def _marks(ax, attempts: pd.DataFrame, rows) -> None:
    """A marker at the end of each bar whose request was a duplicate, hit a tombstone, or took
    effect more than once (markers on a line without a line: cheaper to draw than scatter)."""
    where = [rows.get((p, str(s))) for p, s in zip(attempts["participant"], attempts["saga_id"])]
    ends = attempts["ended"].tolist()
    for column, at_least, marker, color, label in _MARKS:
        values = attempts[column].tolist()
        hit = [i for i, v in enumerate(values) if (v >= at_least if at_least else bool(v))]
        if not hit:
            continue
        ax.plot([ends[i] for i in hit], [where[i][0] + where[i][1] / 2 for i in hit],
                linestyle="none", marker=marker, markersize=6,
                markerfacecolor="white" if marker == "o" else color, markeredgecolor=color,
                markeredgewidth=1.1, zorder=4, label=label)  # fmt: skip


def _orchestrator_lane(ax, writes, crashes, rows, end) -> None:
    """The log's writes as ticks on each order's row, restarts as triangles."""
    if len(writes):
        ys = []
        for sid in writes["saga_id"]:
            row = rows.get(("orchestrator", str(sid)))
            ys.append(row[0] + row[1] / 2 if row else len(LANES) - 0.5)
        ax.plot(writes["time"].tolist(), ys, linestyle="none", marker="|", markersize=8,
                color="#333333", markeredgewidth=1.0, zorder=3,
                label="log write")  # fmt: skip
    else:
        ax.text(end * 0.5, len(LANES) - 0.5, "no saga log: nothing to recover from", ha="center",
                va="center", fontsize=8.5, color="#555555")  # fmt: skip
    restarts = [float(t) for t in crashes["end"] if not pd.isna(t) and float(t) <= end]
    if restarts:
        ax.plot(restarts, [len(LANES) - 0.08] * len(restarts), linestyle="none", marker="v",
                markersize=7, color=OKABE_ITO["vermillion"], markeredgecolor="#333333",
                markeredgewidth=0.5, zorder=4, label="restart", clip_on=False)  # fmt: skip


def _end_states(ax, ends: pd.DataFrame, rows, end: float) -> None:
    """Each order's end state at the right, on its row of the order lane, in its colour."""
    for sid, state in zip(ends["saga_id"], ends["end_state"]):
        if state not in END_STATE_COLORS:
            raise ValueError(
                f"result.end_states has end_state={state!r}; allowed: {tuple(END_STATE_COLORS)}"
            )
        bottom, height = rows["order", str(sid)]
        ax.text(end * 1.02, bottom + height / 2, f"{sid}: {state}", ha="left", va="center",
                fontsize=8.5, fontweight="bold", color=END_STATE_COLORS[state])  # fmt: skip


def _legend_handles(attempts: pd.DataFrame) -> list:
    """Proxy entries for what is drawn: the outcomes seen, hatched and hollow bars if any."""
    seen = set(attempts["outcome"])
    handles: list = [
        Patch(facecolor=outcome_color(o), edgecolor=outcome_color(o), label=o)
        for o in _CALL_OUTCOMES
        if o in seen
    ]
    grey = "#666666"
    if (attempts["op"] == "compensation").any():
        handles.append(
            Patch(facecolor="#bbbbbb", edgecolor="white", hatch=_HATCH, label="compensation")
        )
    if not attempts["took_effect"].all():
        handles.append(Patch(facecolor="none", edgecolor=grey, label="hollow: no effect"))
    return handles


def _subtitle(result, attempts, ends, crashes, writes) -> str:
    counts = ends["end_state"].value_counts()
    states = ", ".join(f"{int(n)} {s}" for s, n in counts.items())
    parts = [f"{len(ends)} order{'s' if len(ends) > 1 else ''}: {states}",
             f"{len(attempts)} requests"]  # fmt: skip
    if len(crashes):
        parts.append(f"{len(crashes)} crash{'es' if len(crashes) > 1 else ''}")
    if len(writes):
        ticks = len(writes[["saga_id", "time"]].drop_duplicates())
        same = f" ({ticks} ticks: writes at one instant share one)" if ticks < len(writes) else ""
        parts.append(f"{len(writes)} log writes{same}")
    params = getattr(result, "params", None) or {}
    for name, word in (("duplicate", "duplicated"), ("loss", "lost")):
        if params.get(name):
            parts.append(f"{100 * params[name]:g}% {word}")
    seed = params.get("seed")
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(parts)


# -- end states over many runs --------------------------------------------------------------


def end_states_figure(result, *, title: str | None = None) -> Figure:
    """How the orders ended in each scenario, one panel per variant (the course's saga,
    distlab's, distlab's with its log lost...): per scenario a bar of the runs, stacked by
    end state in :data:`~distlab.plots.style.END_STATE_COLORS`, each share written on it.
    ``result`` is a :class:`~distlab.experiments.sagas.SagaEndStatesResult`.

    >>> from distlab.experiments.sagas import saga_end_states
    >>> fig = end_states_figure(saga_end_states(scenarios="crash after reserve_stock", runs=2))
    >>> len(fig.axes)
    3
    """
    check_result("result", result, ("table", "params"), what="saga_end_states()")
    title = check_title(title)
    table = result.table
    if not isinstance(table, pd.DataFrame) or table.index.nlevels != 2:
        raise TypeError(
            f"result={type(result).__name__} must be the result of saga_end_states() (its "
            "table: a DataFrame indexed by variant and scenario)"
        )
    missing = [s for s in END_STATE_COLORS if s not in table.columns]
    if missing:
        raise ValueError(f"result.table is missing end-state column(s) {missing}")
    variants = list(dict.fromkeys(table.index.get_level_values(0)))
    scenarios = list(dict.fromkeys(table.index.get_level_values(1)))
    width = 3.6 * len(variants) + 2.4
    fig, axes = new_figure(1, len(variants), sharey=True, figsize=(width, 0.42 * len(scenarios)
                                                                   + 1.6))  # fmt: skip
    axes = axes if isinstance(axes, list) else [axes]
    ys = np.arange(len(scenarios))[::-1]
    for ax, variant in zip(axes, variants):
        _stacked(ax, table.loc[variant].reindex(scenarios), ys)
        ax.set_xlabel(f"{variant}: runs", fontweight="bold")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes[0].set_yticks(ys, scenarios)
    runs = (result.params or {}).get("runs")
    subtitle = f"{runs} runs per scenario and variant" if runs else None
    return finish(fig, axes[0], title=title or "How the orders ended", subtitle=subtitle,
                  legend_title="end state")  # fmt: skip


def _stacked(ax, counts: pd.DataFrame, ys: np.ndarray) -> None:
    left = np.zeros(len(ys))
    biggest = max(float(counts[list(END_STATE_COLORS)].fillna(0).sum(axis=1).max()), 1.0)
    for state, color in END_STATE_COLORS.items():
        values = counts[state].fillna(0).to_numpy(dtype=float)
        ax.barh(ys, values, left=left, color=color, height=0.7, label=state, edgecolor="white",
                linewidth=0.5)  # fmt: skip
        for y, x0, value in zip(ys, left, values):
            if value >= 0.08 * biggest:
                ax.text(x0 + value / 2, y, f"{int(value)}", ha="center", va="center",
                        fontsize=7.5, color="white")  # fmt: skip
        left += values
