"""A saga's history as a tidy table: one row per action attempt and per compensation attempt.

Columns: ``saga_id``, ``saga`` (its name), ``step``, ``phase`` (``action`` or
``compensation``), ``round``, ``attempt``, ``key`` (the idempotency key), ``start``, ``end``
and ``duration`` (seconds, on the driver's clock), ``outcome`` (a word from
:mod:`distlab.outcomes`: ``ok``, ``error``, or ``timeout`` for an attempt whose end was never
logged: its process died and nobody knows whether it took effect) and ``error``.

>>> from distlab.saga.records import LogRecord as R
>>> rows = history_rows([
...     R("s", 0, "saga_started", 0.0, payload={"saga": "trip"}),
...     R("s", 1, "action_started", 0.5, step="a", attempt=1, key="s/a"),
...     R("s", 2, "action_ended", 0.75, step="a", attempt=1, key="s/a", outcome="ok"),
... ])
>>> {k: rows[0][k] for k in ("step", "phase", "outcome", "duration")}
{'step': 'a', 'phase': 'action', 'outcome': 'ok', 'duration': 0.25}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from distlab import outcomes
from distlab.saga import records as rec

__all__ = ["COLUMNS", "history_rows", "to_frame"]

COLUMNS = (
    "saga_id", "saga", "step", "phase", "round", "attempt", "key", "start", "end", "duration",
    "outcome", "error",
)  # fmt: skip

_PHASE = {
    rec.ACTION_STARTED: "action",
    rec.ACTION_ENDED: "action",
    rec.COMPENSATION_STARTED: "compensation",
    rec.COMPENSATION_ENDED: "compensation",
}
_STARTS = (rec.ACTION_STARTED, rec.COMPENSATION_STARTED)


def history_rows(records: Iterable[rec.LogRecord]) -> list[dict[str, Any]]:
    """The rows of :func:`to_frame` as plain dicts, in the order the attempts started.

    An attempt started twice (its process died before its end was logged, and recovery ran it
    again) is one row, timed from its first start.
    """
    names: dict[str, str] = {}
    rows: dict[tuple, dict[str, Any]] = {}
    for record in records:
        if record.kind == rec.SAGA_STARTED:
            names[record.saga_id] = (record.payload or {}).get("saga")
            continue
        phase = _PHASE.get(record.kind)
        if phase is None:
            continue
        ident = (record.saga_id, record.step, phase, record.round, record.attempt)
        row = rows.get(ident)
        if record.kind in _STARTS:
            if row is None:
                rows[ident] = {
                    "saga_id": record.saga_id, "saga": names.get(record.saga_id),
                    "step": record.step, "phase": phase, "round": record.round,
                    "attempt": record.attempt, "key": record.key, "start": record.time,
                    "end": None, "duration": None, "outcome": outcomes.TIMEOUT, "error": None,
                }  # fmt: skip
            continue
        if row is not None:
            row.update(
                end=record.time,
                duration=record.time - row["start"],
                outcome=record.outcome,
                error=record.error,
            )
    return list(rows.values())


def to_frame(records: Iterable[rec.LogRecord]) -> Any:
    """A pandas DataFrame of :func:`history_rows` (pandas is imported only here).

    >>> to_frame([]).columns.tolist()[:4]
    ['saga_id', 'saga', 'step', 'phase']
    """
    import pandas as pd

    return pd.DataFrame(history_rows(records), columns=list(COLUMNS))
