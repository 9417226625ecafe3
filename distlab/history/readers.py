r"""Readers for Jepsen's history files: every line is understood or reported.

:func:`read_jepsen_log` reads the etcd logs (``INFO  jepsen.util - 3 :invoke :write 4``);
:func:`read_edn` reads EDN maps, one event per line (``{:process 0, :type :invoke, :f :get,
:key "4", :value nil}``). Both number times by event position unless the file gives ``:time``.

A line that is not understood raises ``ValueError`` naming ``file:line`` and why (a cut-off last
line, an unknown function such as ``:add``, an unknown type such as ``:crash``, a process id that
is not a number...): skipping it silently could turn an operation into one with an unknown outcome
and flip the verdict. ``skip_unreadable=True`` skips such lines instead, with one warning that
counts them and names the first. A file with no operation at all is an error unless
``allow_empty=True``.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "cut.log"
>>> _ = path.write_text("INFO  jepsen.util - 3\t:invoke\t:write\t4\n"
...                     "INFO  jepsen.util - 3\t:ok\t:wri")
>>> read_jepsen_log(path)  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: ...cut.log:2: expected 'process :type :f value', got '3\t:ok\t:wri' (cut off?)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distlab._validate import check_bool
from distlab.history.edn import parse_edn
from distlab.history.operations import History, operations_from_events

__all__ = ["read_edn", "read_jepsen_log"]

_LOG_LINE = re.compile(r"\b(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+([\w.$-]+)\s+-\s(.*)$")
_JEPSEN_FUNCTIONS = {":read": "read", ":write": "write", ":cas": "cas"}
_JEPSEN_TYPES = {":invoke": "invoke", ":ok": "ok", ":fail": "fail", ":info": "info"}


class Unreadable(ValueError):
    """A line a reader does not understand (the message says why)."""


@dataclass
class _Lines:
    """The events read so far, the line each came from, and the lines skipped."""

    path: str
    skip: bool
    events: list[tuple] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def add(self, lineno: int, event: tuple) -> None:
        self.events.append(event)
        self.lines.append(lineno)

    def unreadable(self, lineno: int, why: str) -> None:
        if not self.skip:
            raise ValueError(f"{self.path}:{lineno}: {why}")
        self.skipped.append((lineno, why))

    def history(self, allow_empty: bool) -> History:
        if self.skipped:
            first, why = self.skipped[0]
            warnings.warn(
                f"{self.path}: skipped {len(self.skipped)} line(s) that could not be "
                f"read (the first, line {first}: {why})",
                stacklevel=3,
            )
        ops = operations_from_events(self.events, where=lambda n: f"{self.path}:{self.lines[n]}")
        if not ops and not allow_empty:
            raise ValueError(
                f"{self.path}: no operations in the file (pass allow_empty=True to "
                "accept an empty history)"
            )
        return History(ops)


def _open(path: Any, allow_empty: Any, skip_unreadable: Any) -> tuple[Path, list[str]]:
    if not isinstance(path, str | Path):
        raise TypeError(f"path={path!r} must be a str or a pathlib.Path")
    check_bool("allow_empty", allow_empty)
    check_bool("skip_unreadable", skip_unreadable)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    return path, text.splitlines()


def read_jepsen_log(
    path: str | Path, *, allow_empty: bool = False, skip_unreadable: bool = False
) -> History:
    """Read a Jepsen etcd log (``INFO jepsen.util - 3 :invoke :write 4`` lines).

    Times are event positions (0, 1, 2, ...). ``:fail :read :timed-out`` is a failed read (it
    constrains nothing); ``:info`` or no completion at all is an unknown outcome. Understood and
    left out: blank lines, the nemesis's events (``jepsen.util - :nemesis :info :start ...``) and
    the lines of other loggers (``INFO jepsen.core - ...``). Any other line raises ``ValueError``
    naming ``path:line`` (see the module's docstring for ``skip_unreadable`` and ``allow_empty``).
    """
    path, lines = _open(path, allow_empty, skip_unreadable)
    out = _Lines(str(path), skip_unreadable)
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = _jepsen_event(line)
        except Unreadable as exc:
            out.unreadable(lineno, str(exc))
            continue
        if event is not None:
            out.add(lineno, (float(len(out.events)), *event))
    return out.history(allow_empty)


def _jepsen_event(line: str) -> tuple | None:
    """(process, kind, f, key, value) of an operation line; None for a line that is not one."""
    m = _LOG_LINE.search(line)
    if m is None:
        raise Unreadable(f"not a log line: {line[:60]!r}")
    if m.group(2) != "jepsen.util":
        return None  # another logger's line: not an operation
    fields = m.group(3).split(None, 3)
    if fields and fields[0] == ":nemesis":
        return None
    if len(fields) < 4:
        raise Unreadable(f"expected 'process :type :f value', got {m.group(3)!r} (cut off?)")
    process, kind, f, raw = fields[0], fields[1], fields[2], fields[3].strip()
    if not process.isdigit():
        raise Unreadable(f"process {process!r} is not a number (nor :nemesis)")
    if kind not in _JEPSEN_TYPES:
        raise Unreadable(f"unknown type {kind!r} (expected :invoke, :ok, :fail or :info)")
    if f not in _JEPSEN_FUNCTIONS:
        raise Unreadable(f"unknown function {f!r} (expected :read, :write or :cas)")
    try:
        value = parse_edn(raw)
    except ValueError as exc:
        raise Unreadable(f"cannot read the value {raw!r} ({exc})") from None
    if raw.startswith(":"):  # a keyword is a reason (:timed-out), never a value
        if kind in (":invoke", ":ok"):
            raise Unreadable(f"{kind} {f} needs a value, got the keyword {raw!r}")
        value = None
    return int(process), _JEPSEN_TYPES[kind], _JEPSEN_FUNCTIONS[f], None, value


def read_edn(
    path: str | Path, *, allow_empty: bool = False, skip_unreadable: bool = False
) -> History:
    """Read EDN maps, one event per line: ``{:process 0, :type :invoke, :f :get, :key "4",
    :value nil}`` (the kv fixtures; a map without ``:key`` is a register operation).

    Times are event positions unless a map has ``:time``. Understood and left out: blank lines,
    ``;`` comments and the nemesis's events (``:process :nemesis``). Any other line that is not
    a map with ``:process``, ``:type`` and ``:f`` raises ``ValueError`` naming ``path:line``, as
    does an event with an unknown type or function (see the module's docstring for
    ``skip_unreadable`` and ``allow_empty``).
    """
    path, lines = _open(path, allow_empty, skip_unreadable)
    out = _Lines(str(path), skip_unreadable)
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        try:
            event = _edn_event(line, float(len(out.events)))
        except Unreadable as exc:
            out.unreadable(lineno, str(exc))
            continue
        if event is not None:
            out.add(lineno, event)
    return out.history(allow_empty)


def _edn_event(line: str, position: float) -> tuple | None:
    try:
        m = parse_edn(line)
    except ValueError as exc:
        raise Unreadable(f"cannot read {line[:60]!r} ({exc})") from None
    if not isinstance(m, dict) or not {"process", "type", "f"} <= m.keys():
        raise Unreadable(f"expected a map with :process, :type and :f, got {line[:60]!r}")
    if m["process"] == "nemesis":
        return None
    for name, allowed in (("type", ("invoke", "ok", "fail", "info")), ("f", _FUNCTIONS)):
        if m[name] not in allowed:
            raise Unreadable(f":{name} {m[name]!r} is not one of {', '.join(allowed)}")
    if isinstance(m["process"], bool) or not isinstance(m["process"], int | str):
        raise Unreadable(f":process {m['process']!r} must be a number or a string")
    key = m.get("key")
    if key is not None and (isinstance(key, bool) or not isinstance(key, int | str)):
        raise Unreadable(f":key {key!r} must be a string or a number")
    time = m.get("time", position)
    if isinstance(time, bool) or not isinstance(time, int | float):
        raise Unreadable(f":time {time!r} must be a number")
    return time, m["process"], m["type"], m["f"], key, m.get("value")


_FUNCTIONS = ("read", "write", "cas", "get", "put", "append")
