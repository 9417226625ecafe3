"""The history model: :class:`Operation`, :class:`History`, and pairing events into operations.

>>> h = History.from_events([
...     (0.0, "a", "invoke", "write", None, 1),
...     (1.0, "a", "ok", "write", None, 1),
... ])
>>> h[0].describe()
"#0 process 'a': write 1, ok [0 .. 1]"
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "COLUMNS",
    "FUNCTIONS",
    "KINDS",
    "TYPES",
    "History",
    "Operation",
    "check_operation",
    "operations_from_events",
]

FUNCTIONS = ("read", "write", "cas", "get", "put", "append")
TYPES = ("ok", "fail", "info")
KINDS = ("invoke", *TYPES)
COLUMNS = ("process", "f", "key", "value", "result", "type", "invoke", "complete")
READS = ("read", "get")


def format_time(t: float) -> str:
    """``1.5`` -> ``'1.5'``, ``inf`` -> ``'inf'``.

    >>> format_time(2.0), format_time(math.inf)
    ('2', 'inf')
    """
    return "inf" if math.isinf(t) else f"{t:g}"


def format_value(v: Any) -> str:
    """A value as a history shows it: ``nil`` for ``None``, strings quoted, pairs in parentheses.

    >>> format_value(None), format_value("x"), format_value((1, 2))
    ('nil', "'x'", '(1, 2)')
    """
    if v is None:
        return "nil"
    if isinstance(v, tuple) and len(v) == 2:
        return f"({format_value(v[0])}, {format_value(v[1])})"
    return repr(v) if isinstance(v, str) else str(v)


@dataclass(frozen=True, slots=True)
class Operation:
    """One request of one process, from invocation to completion.

    ``value`` is the argument (the value written, put or appended; ``(expected, new)`` for a
    ``cas``; ``None`` for a read or get); ``result`` is what an ``ok`` read or get returned
    (``None`` for a register never written, and for every other operation). ``type`` is Jepsen's
    completion type, the file format's own word (``ok``, ``fail``, ``info``; see
    ``distlab.outcomes.HISTORY_OUTCOME``).
    """

    index: int
    process: int | str
    f: str
    key: str | None
    value: Any
    result: Any
    type: str
    invoke: float
    complete: float

    def describe(self) -> str:
        """A one-line human description, e.g. ``#3 process 1: read returned 2, ok [4 .. 6]``."""
        key = "" if self.key is None else f"[{self.key!r}]"
        if self.f in READS:
            what = f"{self.f}{key}"
            if self.type == "ok":
                what += f" returned {format_value(self.result)}"
        elif self.f == "cas" and isinstance(self.value, tuple) and len(self.value) == 2:
            what = f"cas{key} from {format_value(self.value[0])} to {format_value(self.value[1])}"
        else:
            what = f"{self.f}{key} {format_value(self.value)}"
        outcome = {"ok": "ok", "fail": "failed", "info": "unknown outcome"}.get(
            self.type, self.type
        )
        return (
            f"#{self.index} process {self.process!r}: {what}, {outcome} "
            f"[{format_time(self.invoke)} .. {format_time(self.complete)}]"
        )


def _is_time(t: Any) -> bool:
    return not isinstance(t, bool) and isinstance(t, int | float) and not math.isnan(t)


def check_operation(op: Any, position: int) -> None:
    """Raise ``TypeError``/``ValueError`` naming ``op`` if it cannot be item ``position``.

    >>> check_operation(Operation(0, 1, "read", None, None, None, "ok", 2.0, 1.0), 0)
    Traceback (most recent call last):
    ValueError: operation #0 (process 1, read): completes at 1, before its invocation at 2
    """
    if not isinstance(op, Operation):
        raise TypeError(f"history item #{position} is a {type(op).__name__}, not an Operation")
    desc = f"operation #{position} (process {op.process!r}, {op.f})"
    if op.index != position:
        raise ValueError(
            f"{desc}: index={op.index} but it is at position {position}; indices must "
            "be 0..n-1 in order (History.from_events and History.from_frame number "
            "operations for you)"
        )
    if op.f not in FUNCTIONS:
        raise ValueError(
            f"{desc}: unknown function f={op.f!r}; expected one of {', '.join(FUNCTIONS)}"
        )
    if op.type not in TYPES:
        raise ValueError(f"{desc}: unknown type={op.type!r}; expected one of {', '.join(TYPES)}")
    check_process(op.process, desc)
    check_key(op.key, desc)
    for name in ("invoke", "complete"):
        t = getattr(op, name)
        if not _is_time(t):
            raise TypeError(f"{desc}: {name}={t!r} must be a number")
    if math.isinf(op.invoke):
        raise ValueError(f"{desc}: invoke={op.invoke} must be finite")
    if op.complete < op.invoke:
        raise ValueError(
            f"{desc}: completes at {op.complete:g}, before its invocation at {op.invoke:g}"
        )
    if op.type != "info" and math.isinf(op.complete):
        raise ValueError(
            f"{desc}: a {op.type!r} operation must have a finite completion time "
            "(only 'info' ones never complete)"
        )
    if op.f == "cas" and not (isinstance(op.value, tuple) and len(op.value) == 2):
        raise ValueError(f"{desc}: a cas needs value=(expected, new), got {op.value!r}")


def check_process(process: Any, where: str) -> None:
    """A process id is an int or a str (``TypeError`` naming ``where`` otherwise).

    >>> check_process({"a": 1}, "line 3")
    Traceback (most recent call last):
    TypeError: line 3: process={'a': 1} must be an int or a str
    """
    if isinstance(process, bool) or not isinstance(process, int | str):
        raise TypeError(f"{where}: process={process!r} must be an int or a str")


def check_key(key: Any, where: str) -> None:
    """A key is ``None`` (one register), a str or an int (else ``TypeError`` naming ``where``)."""
    if key is not None and (isinstance(key, bool) or not isinstance(key, int | str)):
        raise TypeError(f"{where}: key={key!r} must be None, a str or an int")


class History(Sequence[Operation]):
    """An immutable sequence of :class:`Operation` (``op.index`` = position).

    :meth:`from_events` and the file readers number operations in invocation order; a history
    built from operations keeps their order, and the checker does not depend on it.

    >>> h = History([Operation(0, 1, "write", None, 3, None, "ok", 0.0, 1.0)])
    >>> h.to_frame().columns.tolist()
    ['process', 'f', 'key', 'value', 'result', 'type', 'invoke', 'complete']
    """

    __slots__ = ("_ops",)

    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        if isinstance(operations, str | bytes) or not isinstance(operations, Iterable):
            raise TypeError(f"operations={operations!r} must be an iterable of Operation")
        ops = tuple(operations)
        for i, op in enumerate(ops):
            check_operation(op, i)
        self._ops = ops

    # -- sequence protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._ops)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return list(self._ops[i])
        return self._ops[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self._ops == other._ops

    def __hash__(self) -> int:
        return hash(self._ops)

    def __repr__(self) -> str:
        counts = {t: sum(op.type == t for op in self._ops) for t in TYPES}
        return (
            f"History({len(self._ops)} operations: {counts['ok']} ok, {counts['fail']} fail, "
            f"{counts['info']} info; keys={self.keys()!r})"
        )

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self._ops

    def keys(self) -> list[Any]:
        """The distinct keys, in order of first appearance (``[None]`` for a register history)."""
        return list(dict.fromkeys(op.key for op in self._ops))

    def for_key(self, key: Any) -> History:
        """The sub-history of one key, renumbered from 0."""
        return History(
            replace(op, index=i) for i, op in enumerate(o for o in self._ops if o.key == key)
        )

    # -- DataFrames ----------------------------------------------------------------------------
    def to_frame(self, *, outcome: bool = False):
        """One row per operation, in index order, columns ``process, f, key, value, result, type,
        invoke, complete``; with ``outcome=True`` also ``outcome``, the type in distlab's words
        (``distlab.outcomes.HISTORY_OUTCOME``: ``info`` is a ``timeout``, ``fail`` an ``error``).

        >>> h = History.from_events([(0, 1, "invoke", "write", None, 5)])
        >>> h.to_frame(outcome=True)[["type", "outcome"]].values.tolist()
        [['info', 'timeout']]
        """
        import pandas as pd

        from distlab._validate import check_bool
        from distlab.outcomes import HISTORY_OUTCOME

        check_bool("outcome", outcome)
        data = {c: [getattr(op, c) for op in self._ops] for c in COLUMNS}
        frame = pd.DataFrame({c: pd.Series(data[c], dtype=object) for c in COLUMNS[:6]})
        frame["invoke"] = pd.Series(data["invoke"], dtype=float)
        frame["complete"] = pd.Series(data["complete"], dtype=float)
        if outcome:
            frame["outcome"] = pd.Series([HISTORY_OUTCOME[t] for t in data["type"]], dtype=object)
        frame.index.name = "index"
        return frame

    @classmethod
    def from_frame(cls, df) -> History:
        """The inverse of :meth:`to_frame`: one operation per row, in row order (validated)."""
        from distlab._validate import check_frame

        check_frame("df", df, COLUMNS, what="History.to_frame()")
        ops = []
        columns = [df[c].tolist() for c in COLUMNS]
        for i, row in enumerate(zip(*columns)):
            process, f, key, value, result, typ, invoke, complete = (_none_if_nan(x) for x in row)
            if isinstance(value, list):
                value = tuple(value)
            where = f"row {i} of df ({process=!r}, {f=!r})"
            if not (_is_time(invoke) and _is_time(complete)):
                raise TypeError(
                    f"{where}: invoke and complete must be numbers, got {invoke!r} and {complete!r}"
                )
            check_process(process, where)
            check_key(key, where)
            ops.append(
                Operation(i, process, f, key, value, result, typ, float(invoke), float(complete))
            )
        return cls(ops)

    # -- events --------------------------------------------------------------------------------
    @classmethod
    def from_events(cls, events: Iterable[Sequence[Any]]) -> History:
        """Pair invocations with completions, per process; number operations by invocation time.

        ``events`` are ``(time, process, kind, f, key, value)`` with ``kind`` in ``invoke``, ``ok``,
        ``fail``, ``info``, each process's events in the order they happened (events of different
        processes may come in any order: operations are numbered by invocation time, ties in the
        order given). On an ``ok`` read or get, ``value`` is what it returned; on the other
        completions it is ignored (the invocation's argument is kept). An invocation never completed
        is an ``info`` operation; an ``info`` completion also means the outcome is unknown
        (``complete = inf``). A completion without a pending invocation of that process, or of
        another function, raises ``ValueError`` naming the event.

        >>> History.from_events([(1.0, 7, "ok", "read", None, 3)])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: event #0 (time=1.0, process=7, ok read): completion without an invocation ...
        """
        if isinstance(events, str | bytes) or not isinstance(events, Iterable):
            raise TypeError(
                f"events={events!r} must be an iterable of (time, process, kind, f, "
                "key, value) tuples"
            )
        return cls(operations_from_events(events))

    @classmethod
    def from_jepsen_log(cls, path, *, allow_empty: bool = False, skip_unreadable: bool = False):
        """Read a Jepsen etcd log (``INFO jepsen.util - 3 :invoke :write 4`` lines).

        See :func:`distlab.history.readers.read_jepsen_log`, which this calls.
        """
        from distlab.history.readers import read_jepsen_log

        return read_jepsen_log(path, allow_empty=allow_empty, skip_unreadable=skip_unreadable)

    @classmethod
    def from_edn(cls, path, *, allow_empty: bool = False, skip_unreadable: bool = False):
        """Read EDN maps, one event per line (the kv fixtures).

        See :func:`distlab.history.readers.read_edn`, which this calls.
        """
        from distlab.history.readers import read_edn

        return read_edn(path, allow_empty=allow_empty, skip_unreadable=skip_unreadable)


def _none_if_nan(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x


def operations_from_events(
    events: Iterable[Sequence[Any]], where: Callable[[int], str] | None = None
) -> list[Operation]:
    """The operations of ``events`` (see :meth:`History.from_events`), numbered by invocation time.

    ``where(n)`` names event ``n`` in error messages (a reader passes ``file:line``); by default
    ``event #n (time=..., process=..., kind f)``.

    >>> [op.index for op in operations_from_events([(2, "a", "invoke", "read", None, None),
    ...                                              (1, "b", "invoke", "read", None, None)])]
    [0, 1]
    """
    pending: dict[Any, int] = {}  # process -> position in rows
    rows: list[list[Any]] = []  # [process, f, key, value, result, type, invoke, complete]
    for n, event in enumerate(events):
        time, process, kind, f, key, value = _unpack_event(n, event, where)
        desc = where(n) if where else f"event #{n} (time={time!r}, process={process!r}, {kind} {f})"
        if isinstance(value, list):
            value = tuple(value)
        if kind == "invoke":
            _invoke(rows, pending, desc, (time, process, f, key, value))
        else:
            _complete(rows, pending, desc, (time, process, kind, f, key, value))
    order = sorted(range(len(rows)), key=lambda i: rows[i][6])  # stable: ties in the order given
    return [Operation(k, *rows[i]) for k, i in enumerate(order)]


def _unpack_event(n: int, event: Any, where: Callable[[int], str] | None) -> tuple:
    try:
        time, process, kind, f, key, value = event
    except (TypeError, ValueError):
        at = where(n) if where else f"event #{n} ({event!r})"
        raise ValueError(f"{at} must be (time, process, kind, f, key, value)") from None
    desc = where(n) if where else f"event #{n} (time={time!r}, process={process!r}, {kind} {f})"
    if not _is_time(time):
        raise TypeError(f"{desc}: time must be a number, got {time!r}")
    if math.isinf(time):
        raise ValueError(f"{desc}: time={time} must be finite")
    check_process(process, desc)
    check_key(key, desc)
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"{desc}: kind={kind!r}: kind must be one of {', '.join(KINDS)}")
    if not isinstance(f, str) or f not in FUNCTIONS:
        raise ValueError(f"{desc}: unknown function {f!r}; expected one of {', '.join(FUNCTIONS)}")
    return float(time), process, kind, f, key, value


def _invoke(rows: list, pending: dict, desc: str, event: tuple) -> None:
    time, process, f, key, value = event
    if process in pending:
        other = rows[pending[process]]
        raise ValueError(
            f"{desc}: process {process!r} invokes again while its {other[1]} invoked at "
            f"{other[6]:g} is still pending"
        )
    if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
        raise ValueError(f"{desc}: a cas needs value=(expected, new), got {value!r}")
    pending[process] = len(rows)
    rows.append([process, f, key, None if f in READS else value, None, "info", time, math.inf])


def _complete(rows: list, pending: dict, desc: str, event: tuple) -> None:
    time, process, kind, f, key, value = event
    if process not in pending:
        raise ValueError(f"{desc}: completion without an invocation by process {process!r}")
    op = rows[pending.pop(process)]
    if op[1] != f or op[2] != key:
        raise ValueError(
            f"{desc}: completes a {f} of key {key!r} but process {process!r} invoked a "
            f"{op[1]} of key {op[2]!r}"
        )
    if time < op[6]:
        raise ValueError(f"{desc}: completes before its invocation at {op[6]:g}")
    op[5] = kind
    if kind != "info":
        op[7] = time
    if kind == "ok" and f in READS:
        op[4] = value
