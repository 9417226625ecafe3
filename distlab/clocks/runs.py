"""Happened-before on an abstract run: processes, their events in order, and messages.

A :class:`Run` is a list of steps per process (:func:`local`, :func:`send`, :func:`receive`,
each send and receive naming its message). No simulation is involved: a run can be written by
hand, drawn at random, or read from a simulation's event log (:meth:`Run.from_records`). From it
come a vector and a Lamport timestamp for every event, and the answer to "ordered or
concurrent?" for any two events. An event is named by ``(process, index)``, index from 0.

>>> run = Run({
...     "a": [send("m1"), local("write x")],
...     "b": [local(), receive("m1"), send("m2")],
...     "c": [receive("m2")],
... })
>>> run.vector_timestamps()[("c", 0)].as_dict()
{'a': 1, 'b': 3, 'c': 1}
>>> run.order(("a", 0), ("c", 0)), run.order(("a", 1), ("c", 0))
(<Order.BEFORE: 'before'>, <Order.CONCURRENT: 'concurrent'>)
>>> run.lamport_timestamps()[("c", 0)].time
4
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_choice
from distlab.clocks.codec import check_process
from distlab.clocks.lamport import LamportTimestamp
from distlab.clocks.order import Order
from distlab.clocks.vector import VectorTimestamp, trusted_timestamp

__all__ = ["STEP_KINDS", "EventId", "Run", "Step", "local", "receive", "send"]

STEP_KINDS = ("local", "send", "receive")

_PAST = {"send": "sent", "receive": "received"}

#: An event: its process and its position (from 0) among that process's events.
EventId = tuple[str, int]


@dataclass(frozen=True)
class Step:
    """One event of a process: ``kind`` is ``local``, ``send`` or ``receive``; ``message``
    names the message of a send or receive (``None`` for a local event); ``label`` is free text."""

    kind: str
    message: Hashable | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            check_choice("kind", self.kind, STEP_KINDS)
        if not isinstance(self.label, str):
            raise TypeError(f"label={self.label!r} must be text")
        if self.kind == "local" and self.message is not None:
            raise ValueError(f"message={self.message!r}: a local step has no message")
        if self.kind != "local":
            if self.message is None:
                raise ValueError(f"a {self.kind} step needs a message id (got None)")
            if not isinstance(self.message, (int, str)) and not isinstance(self.message, Hashable):
                raise TypeError(f"message={self.message!r} must be hashable (a str or int id)")


def local(label: str = "") -> Step:
    """A local event."""
    return Step("local", None, label)


def send(message: Hashable, label: str = "") -> Step:
    """The sending of ``message``."""
    return Step("send", message, label)


def receive(message: Hashable, label: str = "") -> Step:
    """The receipt of ``message``."""
    return Step("receive", message, label)


def _check_steps(process: str, steps: Any) -> tuple[Step, ...]:
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise TypeError(f"processes[{process!r}]={steps!r} must be a sequence of steps")
    for i, step in enumerate(steps):
        if not isinstance(step, Step):
            raise TypeError(
                f"processes[{process!r}][{i}]={step!r} must be a Step (local(), send(m), "
                "receive(m))"
            )
    return tuple(steps)


class Run:
    """Processes with their events in order, linked by messages.

    Each message is sent exactly once and received at most once (a message never received was
    lost). ``ValueError`` if a receive has no send, or if the run is impossible (a process would
    receive a message that can only be sent after that receipt).

    Args:
        processes: ``{process name: [steps...]}``; the mapping's order is the cluster's order.
        order: optionally, every event once in an order its caller knows to respect
            happened-before (a log in time order, each receive logged after its send): checked
            as it is used, in one pass, instead of computing one. ``ValueError`` if it skips or
            repeats an event, or puts a receive before its send.

    >>> Run({"a": [send("m")], "b": [receive("m")]}, order=[("a", 0), ("b", 0)]).event_ids()
    [('a', 0), ('b', 0)]
    """

    def __init__(
        self, processes: Mapping[str, Sequence[Step]], *, order: Iterable[EventId] | None = None
    ) -> None:
        if not isinstance(processes, Mapping):
            raise TypeError(f"processes={processes!r} must be a mapping of name -> steps")
        if not processes:
            raise ValueError("processes={} must name at least one process")
        self.processes: tuple[str, ...] = tuple(
            check_process("processes key", p) for p in processes
        )
        self.steps: dict[str, tuple[Step, ...]] = {
            p: _check_steps(p, processes[p]) for p in self.processes
        }
        self.messages = self._link_messages()
        self._order = self._topological_order() if order is None else self._checked_order(order)
        self._vectors: dict[EventId, VectorTimestamp] | None = None
        self._counts: dict[EventId, tuple[int, ...]] | None = None

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        processes: Sequence[str] = (),
        *,
        kinds: Mapping[str, str] | None = None,
        process_key: str = "process",
        message_key: str = "message",
    ) -> Run:
        """A run from rows with a process, a kind and (for send/receive) a message id, and
        optionally a ``label``; each process's rows in the order they happened.

        ``kinds`` maps the rows' kinds to ``local``/``send``/``receive``; rows of other kinds are
        skipped (``None``: the rows already use those three words). ``processes`` lists
        processes first (so that those without events are in the cluster). A simulated world's
        log, for instance, has ``node``, ``kind`` (``send``, ``deliver``, ``drop``...) and
        ``msg_id``:

        >>> rows = [
        ...     {"node": "a", "kind": "send", "msg_id": 1},
        ...     {"node": "b", "kind": "deliver", "msg_id": 1},
        ...     {"node": None, "kind": "partition", "msg_id": None},
        ... ]
        >>> run = Run.from_records(rows, kinds={"send": "send", "deliver": "receive"},
        ...                        process_key="node", message_key="msg_id")
        >>> run.vector_timestamps()[("b", 0)].as_dict()
        {'a': 1, 'b': 1}
        """
        if kinds is not None and not isinstance(kinds, Mapping):
            raise TypeError(f"kinds={kinds!r} must map the records' kinds to {STEP_KINDS}")
        for source, target in (kinds or {}).items():
            check_choice(f"kinds[{source!r}]", target, STEP_KINDS)
        steps: dict[str, list[Step]] = {check_process("processes", p): [] for p in processes}
        for i, row in enumerate(records):
            if not isinstance(row, Mapping) or process_key not in row or "kind" not in row:
                raise ValueError(f"records[{i}]={row!r} needs at least {process_key!r} and 'kind'")
            kind = row["kind"] if kinds is None else kinds.get(row["kind"])
            if kind is None:
                continue
            process = check_process(f"records[{i}][{process_key!r}]", row[process_key])
            message = None if kind == "local" else row.get(message_key)
            step = Step(kind, message, row.get("label", "") or "")
            steps.setdefault(process, []).append(step)
        return cls(steps)

    def __repr__(self) -> str:
        return f"Run({len(self)} events on {len(self.processes)} processes)"

    def __len__(self) -> int:
        return sum(len(s) for s in self.steps.values())

    def event_ids(self) -> list[EventId]:
        """Every event, in an order consistent with happened-before."""
        return list(self._order)

    def step(self, event: EventId) -> Step:
        """The step of ``event``."""
        self._check_event("event", event)
        return self.steps[event[0]][event[1]]

    def _check_event(self, name: str, event: Any) -> None:
        ok = (
            isinstance(event, tuple)
            and len(event) == 2
            and event[0] in self.steps
            and isinstance(event[1], int)
            and 0 <= event[1] < len(self.steps[event[0]])
        )
        if not ok:
            raise ValueError(f"{name}={event!r} is not an event of this run: (process, index)")

    def _link_messages(self) -> dict[Hashable, tuple[EventId, EventId | None]]:
        sends: dict[Hashable, EventId] = {}
        receives: dict[Hashable, EventId] = {}
        for p in self.processes:
            for i, step in enumerate(self.steps[p]):
                if step.kind == "local":
                    continue
                book = sends if step.kind == "send" else receives
                if step.message in book:
                    raise ValueError(
                        f"message {step.message!r} is {_PAST[step.kind]} twice: at "
                        f"{book[step.message]} and at {(p, i)}"
                    )
                book[step.message] = (p, i)
        orphans = [m for m in receives if m not in sends]
        if orphans:
            raise ValueError(f"message(s) {orphans!r} are received but never sent")
        return {m: (event, receives.get(m)) for m, event in sends.items()}

    def predecessors(self, event: EventId) -> list[EventId]:
        """The events ``event`` directly follows: its process's previous event and, for a
        receive, the send of its message."""
        process, index = event
        found = [(process, index - 1)] if index > 0 else []
        step = self.steps[process][index]
        if step.kind == "receive":
            found.append(self.messages[step.message][0])
        return found

    def _topological_order(self) -> list[EventId]:
        position = dict.fromkeys(self.processes, 0)
        ready = deque(p for p in self.processes if self.steps[p])
        sent: set[Hashable] = set()
        order: list[EventId] = []
        waiting: dict[Hashable, str] = {}
        while ready:
            p = ready.popleft()
            while position[p] < len(self.steps[p]):
                step = self.steps[p][position[p]]
                if step.kind == "receive" and step.message not in sent:
                    waiting[step.message] = p
                    break
                order.append((p, position[p]))
                position[p] += 1
                if step.kind == "send":
                    sent.add(step.message)
                    if step.message in waiting:
                        ready.append(waiting.pop(step.message))
        if len(order) != len(self):
            stuck = {p: position[p] for p in self.processes if position[p] < len(self.steps[p])}
            raise ValueError(
                f"the run is impossible: these events wait for messages sent only after them "
                f"(a cycle): {sorted(stuck.items())}"
            )
        return order

    def _checked_order(self, order: Any) -> list[EventId]:
        if isinstance(order, (str, bytes)) or not isinstance(order, Iterable):
            raise TypeError(f"order={order!r} must be a list of (process, index) events")
        order = list(order)
        position = dict.fromkeys(self.processes, 0)
        steps, messages = self.steps, self.messages
        done: set[Hashable] = set()
        for k, event in enumerate(order):
            try:
                process, i = event if isinstance(event, tuple) else ()
                expected = position[process]
            except (TypeError, ValueError, KeyError):
                raise ValueError(
                    f"order[{k}]={event!r} is not an event of this run: (process, index)"
                ) from None
            if i != expected or isinstance(i, bool):
                raise ValueError(
                    f"order[{k}]={event!r}: the next event of {process!r} in this order must be "
                    f"{(process, expected)!r}"
                )
            step = steps[process][i] if i < len(steps[process]) else None
            if step is None:
                raise ValueError(f"order[{k}]={event!r}: {process!r} has only {i} events")
            if step.kind == "send":
                done.add(step.message)
            elif step.kind == "receive" and step.message not in done:
                raise ValueError(
                    f"order[{k}]={event!r} receives {step.message!r} before its send "
                    f"{messages[step.message][0]!r}: not an order of happened-before"
                )
            position[process] = i + 1
        if len(order) != len(self):
            missing = {p: n for p, n in position.items() if n < len(steps[p])}
            raise ValueError(f"order lacks events: from these (process: index) on {missing}")
        return order

    def vector_counts(self) -> dict[EventId, tuple[int, ...]]:
        """The vector timestamp of every event as plain counts, in the order of
        :attr:`processes` (what :meth:`vector_timestamps` wraps; cheaper for large runs)."""
        if self._counts is None:
            index = {p: k for k, p in enumerate(self.processes)}
            last = dict.fromkeys(self.processes, (0,) * len(self.processes))
            counts: dict[EventId, tuple[int, ...]] = {}
            steps, messages = self.steps, self.messages
            for event in self._order:
                process, i = event
                step = steps[process][i]
                if step.kind == "receive":
                    sent = counts[messages[step.message][0]]
                    merged = [a if a >= b else b for a, b in zip(last[process], sent)]
                else:
                    merged = list(last[process])
                merged[index[process]] = i + 1
                counts[event] = last[process] = tuple(merged)
            self._counts = counts
        return dict(self._counts)

    def vector_timestamps(self) -> dict[EventId, VectorTimestamp]:
        """The vector timestamp of every event (Fidge/Mattern rules)."""
        if self._vectors is None:
            processes = self.processes  # checked by __init__, and the counts are ints >= 0
            self._vectors = {
                e: trusted_timestamp(processes, c) for e, c in self.vector_counts().items()
            }
        return dict(self._vectors)

    def lamport_times(self) -> dict[EventId, int]:
        """The Lamport time of every event, as a plain int (tick, and move past a received
        time); :meth:`lamport_timestamps` adds the process for the total order."""
        times: dict[EventId, int] = {}
        last = dict.fromkeys(self.processes, 0)
        steps, messages = self.steps, self.messages
        for event in self._order:
            process, i = event
            t = last[process]
            step = steps[process][i]
            if step.kind == "receive":
                sent = times[messages[step.message][0]]
                t = sent if sent > t else t
            times[event] = last[process] = t + 1
        return times

    def lamport_timestamps(self) -> dict[EventId, LamportTimestamp]:
        """The Lamport timestamp of every event (tick, and move past a received time)."""
        return {e: LamportTimestamp(t, e[0]) for e, t in self.lamport_times().items()}

    def order(self, first: EventId, second: EventId) -> Order:
        """How ``first`` and ``second`` relate: ``BEFORE`` (first -> second), ``AFTER``,
        ``EQUAL`` (the same event) or ``CONCURRENT``."""
        self._check_event("first", first)
        self._check_event("second", second)
        vectors = self._vectors if self._vectors is not None else self.vector_timestamps()
        return vectors[first].compare(vectors[second])

    def happened_before(self, first: EventId, second: EventId) -> bool:
        """Whether ``first`` -> ``second``."""
        return self.order(first, second) is Order.BEFORE

    def concurrent(self, first: EventId, second: EventId) -> bool:
        """Whether neither of two distinct events happened before the other."""
        return self.order(first, second) is Order.CONCURRENT

    def concurrent_pairs(self) -> list[tuple[EventId, EventId]]:
        """Every unordered pair of concurrent events, each pair once (in event order)."""
        vectors = self.vector_timestamps()
        events = self._order
        return [
            (e, f)
            for i, e in enumerate(events)
            for f in events[i + 1 :]
            if vectors[e].compare(vectors[f]) is Order.CONCURRENT
        ]
