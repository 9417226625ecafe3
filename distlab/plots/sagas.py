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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from distlab import outcomes
from distlab._validate import check_bool, check_frame
from distlab.plots.display import keep, keep_background, kept, set_limits, set_text, text_artist
from distlab.plots.style import (
    END_STATE_COLORS,
    OKABE_ITO,
    STATE_COLORS,
    check_result,
    check_title,
    finish,
    new_figure,
    outcome_color,
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


def saga_timeline(
    result, *, title: str | None = None, compact: bool = False, figure: Figure | None = None
) -> Figure:
    """One saga run on a time axis: a lane per participant (order, inventory, payment) with a
    row per order, and the orchestrator's lane on top.

    Each request the orchestrator sent is a bar from when it was sent to when the answer came
    (or it stopped waiting), coloured by the outcome it saw; compensations are hatched; a bar
    is filled when the request took effect at the participant and hollow when it did not.
    Marks at a bar's end: a duplicate answered from the idempotency record, a tombstone no-op,
    a request that took effect twice. The orchestrator's lane shows every write to its saga log
    as a tick; its crashes are shaded across all lanes, each restart a triangle. Each order's
    end state is written at the right, in its colour. Each lane has a row per order, the first
    order on top. ``compact`` draws it smaller at 80 dpi: the saga explorer redraws it on every
    change, passing the ``figure`` it got last, which is updated in place when it shows as
    many orders (its axes, legend and labels kept), with the same picture as a new figure's.
    ``result`` is a :class:`~distlab.experiments.sagas.SagaRunResult`.

    >>> from distlab.experiments.sagas import saga_run
    >>> fig = saga_timeline(saga_run("course", orders=2, crash_after_step="reserve_stock"))
    >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("o"))
    ['o0: half_done', 'o1: half_done']
    >>> saga_timeline(saga_run("course", orders=2, seed=3), figure=fig) is fig
    True
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
    for state in ends["end_state"]:
        if state not in END_STATE_COLORS:
            raise ValueError(
                f"result.end_states has end_state={state!r}; allowed: {tuple(END_STATE_COLORS)}"
            )
    kind = ("saga_timeline", compact, tuple(saga_ids))
    parts = kept(figure, kind)
    if parts is None:
        figure, parts = _timeline_figure(compact, saga_ids, kind)
    ax = parts["ax"]
    end = _right_edge(attempts, crashes, writes)
    _bars(parts, attempts, rows)  # checks every request's lane first
    _crash_bands(parts, crashes, end)
    _marks(parts, attempts, rows)
    _orchestrator_lane(parts, writes, crashes, rows, end)
    _end_states(parts, ends, rows, end)
    set_text(parts["title"], title or "An order saga, step by step")
    parts["subtitle"].set_text(_subtitle(result, attempts, ends, crashes, writes))
    # room at the right for the end states, the axes' width set by the legend
    labels = [f"{sid}: {state}" for sid, state in zip(ends["saga_id"], ends["end_state"])]
    width_in = ax.get_position(original=True).width * figure.get_figwidth()  # not stale
    set_limits(ax, x=(0, _right_limit(end, labels, width_in)))
    keep_background(figure, kind, moving=parts["moving"])
    return figure


def _timeline_figure(compact: bool, saga_ids: list[str], kind) -> tuple[Figure, dict]:
    """The timeline's still parts (lanes, legend, labels) and its moving parts, empty."""
    size, dpi = ((9.0, 3.9), 80) if compact else ((11.0, 4.6), 100)
    fig, ax = new_figure(figsize=size, dpi=dpi)
    parts: dict = {"ax": ax}
    parts["crashes"] = [
        ax.add_artist(Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(),
                                facecolor=STATE_COLORS["crashed"], alpha=0.14, linewidth=0,
                                zorder=0, label="orchestrator down"))
        for _ in range(_CRASH_BANDS)
    ]  # fmt: skip
    parts["bars"] = {}
    for op in ("action", "compensation"):
        for outcome in sorted(_CALL_OUTCOMES):
            for effect in (False, True):
                color, hatched = outcome_color(outcome), op == "compensation"
                parts["bars"][op, outcome, effect] = ax.add_collection(
                    PolyCollection(
                        [],
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
    parts["marks"] = [
        ax.plot([], [], linestyle="none", marker=marker, markersize=6,
                markerfacecolor="white" if marker == "o" else color, markeredgecolor=color,
                markeredgewidth=1.1, zorder=4, label=label)[0]
        for _column, _at_least, marker, color, label in _MARKS
    ]  # fmt: skip
    parts["writes"] = ax.plot([], [], linestyle="none", marker="|", markersize=8,
                              color="#333333", markeredgewidth=1.0, zorder=3,
                              label="log write")[0]  # fmt: skip
    parts["restarts"] = ax.plot([], [], linestyle="none", marker="v", markersize=7,
                                color=OKABE_ITO["vermillion"], markeredgecolor="#333333",
                                markeredgewidth=0.5, zorder=4, label="restart",
                                clip_on=False)[0]  # fmt: skip
    parts["no_log"] = ax.text(0, len(LANES) - 0.5, "", ha="center", va="center", fontsize=8.5,
                              color="#555555", visible=False)  # fmt: skip
    parts["ends"] = [
        ax.text(0, 0, "", ha="left", va="center", fontsize=8.5, fontweight="bold") for _ in saga_ids
    ]
    ax.set_ylim(0, len(LANES))
    ax.set_yticks([len(LANES) - i - 0.5 for i in range(len(LANES))], list(LANES))
    ax.tick_params(axis="y", length=0)
    for y in range(1, len(LANES)):
        ax.axhline(y, color="#cccccc", linewidth=0.6, zorder=0.5)
    ax.xaxis.set_major_locator(MaxNLocator(6 if compact else 10))
    ax.set_xlabel("time (s)")
    fig = finish(fig, ax, title="(title)", subtitle="(subtitle)", handles=_legend_handles())
    parts["title"] = text_artist(ax, "(title)")
    parts["subtitle"] = text_artist(ax, "(subtitle)")
    parts["moving"] = [parts["subtitle"], *parts["crashes"], *parts["bars"].values(),
                       *parts["marks"], parts["writes"], parts["restarts"]]  # fmt: skip
    return fig, keep(fig, kind, parts)


#: Crashes of the orchestrator one timeline shades (a run crashes it once at most).
_CRASH_BANDS = 3


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


def _bars(parts: dict, attempts: pd.DataFrame, rows) -> None:
    """One collection per (op, outcome, took effect): filled or hollow, hatched if undoing."""
    groups: dict[tuple, list] = {key: [] for key in parts["bars"]}
    columns = ("participant", "saga_id", "op", "outcome", "took_effect", "sent", "ended")
    for lane, sid, op, outcome, effect, sent, ended in zip(*(attempts[c] for c in columns)):
        row = rows.get((lane, str(sid)))
        if row is None:
            raise ValueError(
                f"result.frame has participant={lane!r}, saga_id={sid!r}: not a lane of {LANES} "
                "with an order of result.end_states"
            )
        outcome_color(outcome)  # refuses a word that is not an outcome
        key = (op, outcome, bool(effect))
        if key not in groups:
            raise ValueError(
                f"result.frame has op={op!r}, outcome={outcome!r}: a saga's requests are "
                f"actions or compensations answered {', '.join(_CALL_OUTCOMES)}"
            )
        bottom, top = row[0], row[0] + row[1]
        right = max(float(ended), float(sent) + 0.004)
        groups[key].append([(sent, bottom), (right, bottom), (right, top), (sent, top)])
    for key, verts in groups.items():
        parts["bars"][key].set_verts(verts)


def _crash_bands(parts: dict, crashes: pd.DataFrame, end: float) -> None:
    """The orchestrator's crashes shaded across all lanes (until its restart, or the end)."""
    spans = []
    for start, stop in zip(crashes["start"], crashes["end"]):
        stop = end if pd.isna(stop) or not np.isfinite(stop) else min(float(stop), end)
        if stop > start:
            spans.append((float(start), stop))
    for i, band in enumerate(parts["crashes"]):
        band.set_visible(i < len(spans))
        if i < len(spans):
            band.set_x(spans[i][0])
            band.set_width(spans[i][1] - spans[i][0])


def _marks(parts: dict, attempts: pd.DataFrame, rows) -> None:
    """A marker at the end of each bar whose request was a duplicate, hit a tombstone, or took
    effect more than once (markers on a line without a line: cheaper to draw than scatter)."""
    where = [rows.get((p, str(s))) for p, s in zip(attempts["participant"], attempts["saga_id"])]
    ends = attempts["ended"].tolist()
    for line, (column, at_least, _marker, _color, label) in zip(parts["marks"], _MARKS):
        values = attempts[column].tolist()
        hit = [i for i, v in enumerate(values) if (v >= at_least if at_least else bool(v))]
        line.set_data([ends[i] for i in hit], [where[i][0] + where[i][1] / 2 for i in hit])
        line.set_label(label if hit else f"_{label}")  # named only when drawn


def _orchestrator_lane(parts: dict, writes, crashes, rows, end) -> None:
    """The log's writes as ticks on each order's row, restarts as triangles."""
    ys = []
    for sid in writes["saga_id"]:
        row = rows.get(("orchestrator", str(sid)))
        ys.append(row[0] + row[1] / 2 if row else len(LANES) - 0.5)
    parts["writes"].set_data(writes["time"].tolist(), ys)
    parts["writes"].set_label("log write" if len(writes) else "_log write")
    set_text(parts["no_log"], None if len(writes) else "no saga log: nothing to recover from",
             (end * 0.5, len(LANES) - 0.5))  # fmt: skip
    restarts = [float(t) for t in crashes["end"] if not pd.isna(t) and float(t) <= end]
    parts["restarts"].set_data(restarts, [len(LANES) - 0.08] * len(restarts))


def _end_states(parts: dict, ends: pd.DataFrame, rows, end: float) -> None:
    """Each order's end state at the right, on its row of the order lane, in its colour."""
    for text, sid, state in zip(parts["ends"], ends["saga_id"], ends["end_state"]):
        bottom, height = rows["order", str(sid)]
        set_text(text, f"{sid}: {state}", (end * 1.02, bottom + height / 2))
        if text.get_color() != END_STATE_COLORS[state]:
            text.set_color(END_STATE_COLORS[state])


def _legend_handles() -> list:
    """The key, the same for every run: outcomes, hatched and hollow bars, marks."""
    handles: list = [
        Patch(facecolor=outcome_color(o), edgecolor=outcome_color(o), label=o)
        for o in _CALL_OUTCOMES
    ]
    grey = "#666666"
    handles.append(
        Patch(facecolor="#bbbbbb", edgecolor="white", hatch=_HATCH, label="compensation")
    )
    handles.append(Patch(facecolor="none", edgecolor=grey, label="hollow: no effect"))
    handles.append(Patch(facecolor=STATE_COLORS["crashed"], alpha=0.14,
                         label="orchestrator down"))  # fmt: skip
    handles += [
        Line2D([], [], linestyle="none", marker=marker, markersize=6,
               markerfacecolor="white" if marker == "o" else color, markeredgecolor=color,
               markeredgewidth=1.1, label=label)
        for _column, _at_least, marker, color, label in _MARKS
    ]  # fmt: skip
    handles.append(Line2D([], [], linestyle="none", marker="|", markersize=8, color="#333333",
                          markeredgewidth=1.0, label="log write"))  # fmt: skip
    handles.append(Line2D([], [], linestyle="none", marker="v", markersize=7,
                          color=OKABE_ITO["vermillion"], markeredgecolor="#333333",
                          markeredgewidth=0.5, label="restart"))  # fmt: skip
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
