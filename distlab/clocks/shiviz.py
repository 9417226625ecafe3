"""Export a run as a ShiViz log, and check a log the way ShiViz does before drawing it.

ShiViz (https://distributedclocks.github.io/shiviz/) draws a distributed run as a time-space
diagram from a text log: for every event, its host, its vector clock as JSON and a description,
parsed with a regular expression whose named groups are ``host``, ``clock`` and ``event``.
:func:`to_shiviz` writes the log in the format of GoVector (the two lines below per event) and
:data:`SHIVIZ_REGEX` is the expression to paste into ShiViz for it.

ShiViz refuses a log unless (:func:`check_shiviz` reports each breach, with its line):

1. each event's clock contains its own host (entries equal to 0 are ignored);
2. each host's own entry starts at 1 and increases by exactly 1 from one logged event of that
   host to the next (so every send, receive and local event must be logged);
3. no clock names an unknown host, or a value beyond the number of that host's events;
4. every clock equals the max-merge recomputed along the messages, which ShiViz infers from the
   entries that grew since the host's previous event (and the inferred graph has no cycle).

>>> from distlab.clocks.runs import Run, local, receive, send
>>> run = Run({"a": [send("m")], "b": [local(), receive("m")]})
>>> text = to_shiviz(run)
>>> print(text)
a {"a":1}
send m
b {"b":1}
local
b {"a":1,"b":2}
receive m
>>> check_shiviz(text).ok
True
>>> check_shiviz(text.replace('{"a":1,"b":2}', '{"a":1,"b":3}')).problems
('line 5: host "b" goes from 1 to 3 (must increase by exactly 1 per logged event)',)

A clock that forgets what its message carried is caught by the recomputation:

>>> run = Run({"c": [send("m0")], "a": [receive("m0"), send("m")], "b": [receive("m")]})
>>> text = to_shiviz(run).replace('b {"c":1,"a":2,"b":1}', 'b {"a":2,"b":1}')
>>> print(*check_shiviz(text).problems)
line 7: host "b" has {"a": 2, "b": 1}; the messages give {"a": 2, "b": 1, "c": 1}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from distlab.clocks.runs import Run

__all__ = ["SHIVIZ_REGEX", "ShivizCheck", "check_shiviz", "to_shiviz"]

#: The parser expression to give ShiViz for :func:`to_shiviz`'s output (JavaScript syntax).
SHIVIZ_REGEX = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)"


def _description(run: Run, event: tuple[str, int]) -> str:
    step = run.step(event)
    if step.label:
        return step.label
    return step.kind if step.kind == "local" else f"{step.kind} {step.message}"


def to_shiviz(run: Run) -> str:
    """The run as a ShiViz log: per event, ``host {clock}`` then its description.

    The description is the step's label, or ``send m1`` / ``receive m1`` / ``local``. Host names
    may not contain whitespace, labels may not contain a line break (``ValueError``).
    """
    if not isinstance(run, Run):
        raise TypeError(f"run={run!r} must be a Run")
    for p in run.processes:
        if re.search(r"\s", p):
            raise ValueError(f"process {p!r} contains whitespace: ShiViz hosts cannot")
    vectors = run.vector_timestamps()
    lines = []
    for event in run.event_ids():
        text = _description(run, event)
        if "\n" in text or "\r" in text:
            raise ValueError(f"the label of event {event} contains a line break: {text!r}")
        clock = {p: c for p, c in vectors[event].as_dict().items() if c}
        lines.append(f"{event[0]} {json.dumps(clock, separators=(',', ':'))}\n{text}")
    return "\n".join(lines)


@dataclass(frozen=True)
class ShivizCheck:
    """What :func:`check_shiviz` found: ``ok`` when ShiViz would draw the log; ``problems``
    (each starting with its line number) otherwise; ``events`` and ``hosts`` parsed."""

    ok: bool
    problems: tuple[str, ...]
    events: int
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class _Entry:
    line: int
    host: str
    clock: dict[str, int]


def _python_regex(regex: str) -> re.Pattern[str]:
    if not isinstance(regex, str):
        raise TypeError(f"regex={regex!r} must be text")
    try:
        pattern = re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", regex))
    except re.error as exc:
        raise ValueError(f"regex={regex!r} is not a valid regular expression: {exc}") from exc
    missing = {"host", "clock", "event"} - set(pattern.groupindex)
    if missing:
        raise ValueError(f"regex={regex!r} lacks the named group(s) {sorted(missing)}")
    return pattern


def _parse(text: str, pattern: re.Pattern[str], problems: list[str]) -> list[_Entry]:
    entries = []
    for match in pattern.finditer(text.strip()):
        line = text.strip().count("\n", 0, match.start()) + 1
        host, raw = match.group("host"), match.group("clock")
        try:
            clock = json.loads(raw)
        except json.JSONDecodeError:
            problems.append(f"line {line}: clock {raw!r} is not JSON")
            continue
        if not isinstance(clock, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in clock.values()
        ):
            problems.append(f"line {line}: clock {raw!r} must map hosts to whole numbers >= 0")
            continue
        if host not in clock:
            problems.append(f'line {line}: host "{host}" is missing from its own clock {raw}')
            continue
        entries.append(_Entry(line, host, {h: v for h, v in clock.items() if v}))
    return entries


def _by_host(entries: list[_Entry], problems: list[str]) -> dict[str, list[_Entry]]:
    hosts: dict[str, list[_Entry]] = {}
    for entry in entries:
        hosts.setdefault(entry.host, []).append(entry)
    for host, own in hosts.items():
        own.sort(key=lambda e: e.clock.get(host, 0))
        for i, entry in enumerate(own):
            value = entry.clock.get(host, 0)
            if value == i + 1:
                continue
            if i == 0:
                problems.append(f'line {entry.line}: host "{host}" starts at {value}, not at 1')
            else:
                problems.append(
                    f'line {entry.line}: host "{host}" goes from {own[i - 1].clock[host]} to '
                    f"{value} (must increase by exactly 1 per logged event)"
                )
    return hosts


def _check_bounds(entries: list[_Entry], hosts: Mapping[str, list[_Entry]], problems: list[str]):
    for entry in entries:
        for host, value in entry.clock.items():
            if host == entry.host:  # numbered by _by_host
                continue
            if host not in hosts:
                problems.append(f'line {entry.line}: clock names an unknown host "{host}"')
            elif value > len(hosts[host]):
                problems.append(
                    f'line {entry.line}: clock gives host "{host}" the value {value}, but it '
                    f"logged only {len(hosts[host])} event(s)"
                )


def _parents(hosts: Mapping[str, list[_Entry]]) -> dict[tuple[str, int], list[tuple[str, int]]]:
    """ShiViz's inference: a message arrives where an entry grew; drop implied candidates."""
    parents: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for host, own in hosts.items():
        known: dict[str, int] = {}
        for entry in own:
            candidates = []
            known[host] = entry.clock[host]
            for other, value in entry.clock.items():
                if other != host and known.get(other, 0) < value:
                    known[other] = value
                    candidates.append((other, value))
            implied = {
                (h, v)
                for c_host, c_value in candidates
                for h, v in hosts[c_host][c_value - 1].clock.items()
                if h != c_host
            }
            parents[(host, entry.clock[host])] = [c for c in candidates if c not in implied]
    return parents


def _recompute(hosts: Mapping[str, list[_Entry]], problems: list[str]) -> None:
    parents = _parents(hosts)
    done: dict[tuple[str, int], dict[str, int]] = {}
    pending = list(parents)
    while pending:
        left = []
        for node in pending:
            host, value = node
            before = [(host, value - 1)] if value > 1 else []
            deps = before + parents[node]
            if any(d not in done for d in deps):
                left.append(node)
                continue
            clock = {host: value}
            for dep in deps:
                for h, v in done[dep].items():
                    clock[h] = max(clock.get(h, 0), v)
            done[node] = clock
            entry = hosts[host][value - 1]
            if clock != entry.clock:
                problems.append(
                    f'line {entry.line}: host "{host}" has {json.dumps(entry.clock)}; the '
                    f"messages give {json.dumps(dict(sorted(clock.items())))}"
                )
        if len(left) == len(pending):
            problems.append(
                "the clocks are intransitive: the inferred messages form a cycle "
                f"(around {sorted(left)[:3]})"
            )
            return
        pending = left


def check_shiviz(text: str, *, regex: str = SHIVIZ_REGEX) -> ShivizCheck:
    """Check a log against the rules ShiViz enforces (see the module's docstring).

    ``regex`` is the parser expression, in ShiViz's (JavaScript) syntax or Python's; it must have
    the named groups ``host``, ``clock`` and ``event``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text={text!r} must be the log as text")
    pattern = _python_regex(regex)
    problems: list[str] = []
    entries = _parse(text, pattern, problems)
    if not entries and not problems:
        problems.append("the expression matches no event in the log")
    hosts = _by_host(entries, problems)
    _check_bounds(entries, hosts, problems)
    if not problems:
        _recompute(hosts, problems)
    return ShivizCheck(not problems, tuple(problems), len(entries), tuple(hosts))
