"""Operation histories: what clients asked a store, what they were told, and when.

A history is the input of a linearizability checker (:mod:`distlab.linearizability`). Each
:class:`Operation` is one request from one process: its function (``read``, ``write``, ``cas`` for a
register; ``get``, ``put``, ``append`` for a key-value store), its argument, what it returned, when it
was invoked and when it completed, and how it ended:

- ``ok``: it took effect and returned ``result``;
- ``fail``: it did not take effect (for a compare-and-set, ``fail`` is its answer: refused because the
  value differed);
- ``info``: the outcome is unknown (a timeout): it may have taken effect at any time after its
  invocation, or never. Its ``complete`` is ``math.inf``.

>>> h = History.from_events([
...     (0.0, "a", "invoke", "write", None, 1),
...     (0.5, "b", "invoke", "read", None, None),
...     (1.0, "a", "ok", "write", None, 1),
...     (1.2, "b", "ok", "read", None, 1),
... ])
>>> len(h), h[1].f, h[1].result, h[1].complete
(2, 'read', 1, 1.2)
>>> print(h[0].describe())
#0 process 'a': write 1, ok [0 .. 1]

Readers for the Jepsen fixtures: :meth:`History.from_jepsen_log` (etcd logs) and
:meth:`History.from_edn` (EDN maps, one event per line). Times in those files are event positions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FUNCTIONS", "TYPES", "History", "Operation"]

FUNCTIONS = ("read", "write", "cas", "get", "put", "append")
TYPES = ("ok", "fail", "info")
COLUMNS = ("process", "f", "key", "value", "result", "type", "invoke", "complete")
_READS = ("read", "get")


def _fmt_time(t: float) -> str:
    return "inf" if math.isinf(t) else f"{t:g}"


def _fmt_value(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, tuple) and len(v) == 2:
        return f"({_fmt_value(v[0])}, {_fmt_value(v[1])})"
    return repr(v) if isinstance(v, str) else str(v)


@dataclass(frozen=True, slots=True)
class Operation:
    """One request of one process, from invocation to completion.

    ``value`` is the argument (the value written, put or appended; ``(expected, new)`` for a
    ``cas``; ``None`` for a read or get); ``result`` is what an ``ok`` read or get returned
    (``None`` for a register never written, and for every other operation).
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
        if self.f in _READS:
            what = f"{self.f}{key}"
            if self.type == "ok":
                what += f" returned {_fmt_value(self.result)}"
        elif self.f == "cas" and isinstance(self.value, tuple) and len(self.value) == 2:
            what = f"cas{key} from {_fmt_value(self.value[0])} to {_fmt_value(self.value[1])}"
        else:
            what = f"{self.f}{key} {_fmt_value(self.value)}"
        outcome = {"ok": "ok", "fail": "failed", "info": "unknown outcome"}.get(
            self.type, self.type
        )
        return (
            f"#{self.index} process {self.process!r}: {what}, {outcome} "
            f"[{_fmt_time(self.invoke)} .. {_fmt_time(self.complete)}]"
        )


def _bad(op_desc: str, why: str) -> ValueError:
    return ValueError(f"{op_desc}: {why}")


def _validate(op: Operation, position: int) -> None:
    desc = f"operation #{position} ({op!r})"
    if not isinstance(op, Operation):
        raise TypeError(f"history item #{position} is a {type(op).__name__}, not an Operation")
    if op.index != position:
        raise _bad(desc, f"index={op.index} but it is at position {position}; indices must be 0..n-1 in order "
                         "(History.from_events and History.from_frame number operations for you)")  # fmt: skip
    if op.f not in FUNCTIONS:
        raise _bad(desc, f"unknown function f={op.f!r}; expected one of {', '.join(FUNCTIONS)}")
    if op.type not in TYPES:
        raise _bad(desc, f"unknown type={op.type!r}; expected one of {', '.join(TYPES)}")
    for name in ("invoke", "complete"):
        t = getattr(op, name)
        if isinstance(t, bool) or not isinstance(t, int | float) or math.isnan(t):
            raise _bad(desc, f"{name}={t!r} must be a number")
    if math.isinf(op.invoke):
        raise _bad(desc, f"invoke={op.invoke} must be finite")
    if op.complete < op.invoke:
        raise _bad(desc, f"completes at {op.complete:g}, before its invocation at {op.invoke:g}")
    if op.type != "info" and math.isinf(op.complete):
        raise _bad(
            desc,
            f"a {op.type!r} operation must have a finite completion time (only 'info' ones never complete)",
        )
    if op.f == "cas" and not (isinstance(op.value, tuple) and len(op.value) == 2):
        raise _bad(desc, f"a cas needs value=(expected, new), got {op.value!r}")


class History(Sequence[Operation]):
    """An immutable sequence of :class:`Operation`, in invocation order (``op.index`` = position).

    >>> h = History([Operation(0, 1, "write", None, 3, None, "ok", 0.0, 1.0)])
    >>> h.to_frame().columns.tolist()
    ['process', 'f', 'key', 'value', 'result', 'type', 'invoke', 'complete']
    """

    __slots__ = ("_ops",)

    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        ops = tuple(operations)
        for i, op in enumerate(ops):
            _validate(op, i)
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
        return (f"History({len(self._ops)} operations: {counts['ok']} ok, {counts['fail']} fail, "
                f"{counts['info']} info; keys={self.keys()!r})")  # fmt: skip

    @property
    def operations(self) -> tuple[Operation, ...]:
        return self._ops

    def keys(self) -> list[Any]:
        """The distinct keys, in order of first appearance (``[None]`` for a register history)."""
        return list(dict.fromkeys(op.key for op in self._ops))

    def for_key(self, key: Any) -> History:
        """The sub-history of one key, renumbered from 0."""
        from dataclasses import replace

        return History(
            replace(op, index=i) for i, op in enumerate(o for o in self._ops if o.key == key)
        )

    # -- DataFrames ----------------------------------------------------------------------------
    def to_frame(self):
        """One row per operation, in index order, columns ``process, f, key, value, result, type,
        invoke, complete``."""
        import pandas as pd

        data = {c: [getattr(op, c) for op in self._ops] for c in COLUMNS}
        frame = pd.DataFrame({c: pd.Series(data[c], dtype=object) for c in COLUMNS[:6]})
        frame["invoke"] = pd.Series(data["invoke"], dtype=float)
        frame["complete"] = pd.Series(data["complete"], dtype=float)
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
            if invoke is None or complete is None:
                raise ValueError(f"row {i} of df ({process=!r}, {f=!r}): invoke and complete must be numbers, "
                                 f"got {invoke!r} and {complete!r}")  # fmt: skip
            ops.append(
                Operation(i, process, f, key, value, result, typ, float(invoke), float(complete))
            )
        return cls(ops)

    # -- events --------------------------------------------------------------------------------
    @classmethod
    def from_events(cls, events: Iterable[Sequence[Any]]) -> History:
        """Pair invocations with completions, per process.

        ``events`` are ``(time, process, kind, f, key, value)`` with ``kind`` in ``invoke``, ``ok``,
        ``fail``, ``info``. On an ``ok`` read or get, ``value`` is what it returned; on the other
        completions it is ignored (the invocation's argument is kept). An invocation never completed
        is an ``info`` operation; an ``info`` completion also means the outcome is unknown
        (``complete = inf``). A completion without a pending invocation of that process, or of another
        function, raises ``ValueError`` naming the event.

        >>> History.from_events([(1.0, 7, "ok", "read", None, 3)])
        Traceback (most recent call last):
        ValueError: event #0 (time=1.0, process=7, ok read): completion without an invocation by process 7
        """
        pending: dict[Any, list[Any]] = {}  # process -> [position, time, f, key, value]
        ops: list[list[Any]] = []  # [process, f, key, value, result, type, invoke, complete]
        for n, event in enumerate(events):
            try:
                time, process, kind, f, key, value = event
            except (TypeError, ValueError):
                raise ValueError(
                    f"event #{n} ({event!r}) must be (time, process, kind, f, key, value)"
                ) from None
            where = f"event #{n} (time={time!r}, process={process!r}, {kind} {f})"
            if isinstance(time, bool) or not isinstance(time, int | float) or math.isnan(time):
                raise ValueError(f"{where}: time must be a number")
            if kind not in ("invoke", "ok", "fail", "info"):
                raise ValueError(f"{where}: kind must be one of invoke, ok, fail, info")
            if f not in FUNCTIONS:
                raise ValueError(
                    f"{where}: unknown function {f!r}; expected one of {', '.join(FUNCTIONS)}"
                )
            if isinstance(value, list):
                value = tuple(value)
            if kind == "invoke":
                if process in pending:
                    other = ops[pending[process]]
                    raise ValueError(f"{where}: process {process!r} invokes again while its {other[1]} invoked at "
                                     f"{other[6]:g} is still pending")  # fmt: skip
                pending[process] = len(ops)
                ops.append(
                    [
                        process,
                        f,
                        key,
                        None if f in _READS else value,
                        None,
                        "info",
                        float(time),
                        math.inf,
                    ]
                )
                continue
            if process not in pending:
                raise ValueError(
                    f"{where}: completion without an invocation by process {process!r}"
                )
            op = ops[pending.pop(process)]
            if op[1] != f or op[2] != key:
                raise ValueError(f"{where}: completes a {f} of key {key!r} but process {process!r} invoked a "
                                 f"{op[1]} of key {op[2]!r}")  # fmt: skip
            if time < op[6]:
                raise ValueError(f"{where}: completes before its invocation at {op[6]:g}")
            op[5] = kind
            if kind != "info":
                op[7] = float(time)
            if kind == "ok" and f in _READS:
                op[4] = value
        return cls(Operation(i, *op) for i, op in enumerate(ops))

    # -- fixture files -------------------------------------------------------------------------
    @classmethod
    def from_jepsen_log(cls, path: str | Path) -> History:
        """Read a Jepsen etcd log (``INFO jepsen.util - 3 :invoke :write 4`` lines).

        Times are event positions (0, 1, 2, ...). ``:fail :read :timed-out`` is a failed read (it
        constrains nothing); ``:info`` or no completion at all is an unknown outcome. Lines that are
        not client operations (nemesis, noise) are skipped.
        """
        events = []
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            m = _JEPSEN_LINE.search(line)
            if m is None:
                continue
            process, kind, f, raw = m.group(1), m.group(2), m.group(3), m.group(4).strip()
            try:
                value = _parse_edn(raw) if raw else None
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: cannot read value {raw!r} ({exc})") from None
            if isinstance(value, str) and raw.startswith(":"):  # :timed-out and other keywords
                value = None
            events.append((float(len(events)), int(process), kind, f, None, value))
        try:
            return cls.from_events(events)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def from_edn(cls, path: str | Path) -> History:
        """Read EDN maps, one event per line: ``{:process 0, :type :invoke, :f :get, :key "4",
        :value nil}`` (the kv fixtures; a map without ``:key`` is a register operation).

        Times are event positions unless a map has ``:time``.
        """
        events = []
        for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            try:
                m = _parse_edn(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: cannot read {line!r} ({exc})") from None
            if not isinstance(m, dict) or not {"process", "type", "f"} <= m.keys():
                raise ValueError(
                    f"{path}:{lineno}: expected a map with :process, :type and :f, got {line!r}"
                )
            time = m.get("time", float(len(events)))
            events.append((time, m["process"], m["type"], m["f"], m.get("key"), m.get("value")))
        try:
            return cls.from_events(events)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _none_if_nan(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x


_JEPSEN_LINE = re.compile(
    r"jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\b(.*)$"
)
_EDN_TOKEN = re.compile(r'\s*(?:,\s*)*(?:("(?:[^"\\]|\\.)*")|([\[\]{}()])|([^\s,\[\]{}()"]+))')


def _parse_edn(text: str) -> Any:
    """A small EDN reader: maps, vectors, lists, strings, keywords (as str), nil, booleans, numbers."""
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _EDN_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip(" ,\t") == "":
                break
            raise ValueError(f"unexpected {text[pos : pos + 10]!r}")
        pos = m.end()
        if m.group(1) is not None:
            tokens.append(("s", m.group(1)))
        elif m.group(2) is not None:
            tokens.append(("p", m.group(2)))
        elif m.group(3) is not None:
            tokens.append(("a", m.group(3)))
    value, end = _edn_value(tokens, 0)
    if end != len(tokens):
        raise ValueError("trailing data")
    return value


_CLOSE = {"[": "]", "(": ")", "{": "}"}
_STRING_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _edn_value(tokens: list[tuple[str, str]], i: int) -> tuple[Any, int]:
    if i >= len(tokens):
        raise ValueError("unexpected end")
    kind, tok = tokens[i]
    if kind == "s":
        return re.sub(
            r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(1)), tok[1:-1]
        ), i + 1
    if kind == "p":
        if tok not in _CLOSE:
            raise ValueError(f"unexpected {tok!r}")
        items = []
        i += 1
        while True:
            if i >= len(tokens):
                raise ValueError(f"unclosed {tok!r}")
            if tokens[i] == ("p", _CLOSE[tok]):
                break
            item, i = _edn_value(tokens, i)
            items.append(item)
        if tok == "{":
            if len(items) % 2:
                raise ValueError("a map needs an even number of forms")
            return dict(zip(items[::2], items[1::2])), i + 1
        return tuple(items), i + 1
    if tok == "nil":
        return None, i + 1
    if tok in ("true", "false"):
        return tok == "true", i + 1
    if tok.startswith(":"):
        return tok[1:], i + 1
    try:
        return int(tok), i + 1
    except ValueError:
        pass
    try:
        return float(tok), i + 1
    except ValueError:
        raise ValueError(f"unknown token {tok!r}") from None
