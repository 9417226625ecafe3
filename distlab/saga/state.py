"""A saga's state, rebuilt from its log records: the part of the core that only listens.

:class:`SagaState` changes only by :meth:`SagaState.apply` of a :class:`LogRecord`, whether the
record was just decided (live) or read back from the log (recovery), so a recovered saga is in
exactly the state it was in when its last record was written. The deciding part is
:class:`distlab.saga.core.SagaRun`.

>>> from distlab.saga.definition import Saga, Step
>>> from distlab.saga.records import LogRecord
>>> saga = Saga("demo", [Step("a", action=print), Step("b", action=print)])
>>> state = SagaState(saga, "s1")
>>> state.apply(LogRecord("s1", 0, "saga_started", 0.0, payload={"saga": "demo", "data": 7}))
>>> state.apply(LogRecord("s1", 1, "action_started", 0.1, step="a", attempt=1, key="s1/a"))
>>> state.apply(LogRecord("s1", 2, "action_ended", 0.2, step="a", attempt=1, outcome="ok"))
>>> state.status, state.position, state.data
('running', 1, 7)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distlab import outcomes
from distlab.saga import records as rec
from distlab.saga.definition import Saga

__all__ = ["Execution", "SagaState", "Tries"]


@dataclass
class Tries:
    """The attempts of one action or one compensation: what numbering and retrying need.

    ``ended`` attempts have a logged end, ``failures`` of them failed, ``in_flight`` is the
    number of an attempt started but not ended (0: none), ``first_time`` when the first attempt
    counted by the retry policy started, ``counted_from`` how many failures an operator's
    resume wiped from the policy's count, ``retry_in`` the last decided wait.
    """

    ended: int = 0
    failures: int = 0
    in_flight: int = 0
    first_time: float | None = None
    counted_from: int = 0
    retry_in: float | None = None

    def start(self, attempt: int, time: float) -> None:
        self.in_flight = attempt
        if self.first_time is None:
            self.first_time = time

    def end(self, ok: bool, retry_in: float | None) -> None:
        self.in_flight = 0
        self.ended += 1
        if not ok:
            self.failures += 1
            self.retry_in = retry_in

    def restart_count(self) -> None:
        """An operator resumed: the retry policy counts afresh from the next attempt."""
        self.counted_from = self.failures
        self.first_time = None
        self.retry_in = None


@dataclass
class Execution:
    """One execution of one step: its action's and compensation's attempts and its key.

    A step runs more than once only when recovery rolls back past it to a save-point; each
    execution has its own ``round`` and so its own idempotency ``key``.
    """

    index: int
    round: int
    key: str
    action: Tries = field(default_factory=Tries)
    compensation: Tries = field(default_factory=Tries)
    done: bool = False
    result: Any = None
    compensated: bool = False


class SagaState:
    """Everything decided so far about one saga, from its records (see the module docstring).

    Public attributes: ``status`` (``None`` before ``saga_started``), ``data`` (the saga's
    input), ``round``, ``position`` (steps done in a row), ``executions`` (index ->
    :class:`Execution`, the latest of each step), ``rollback_to``, ``not_before`` (a retry's
    earliest time), ``cause`` (``(step, error)`` that made the saga abort or get stuck),
    ``resume_status`` (the status a stuck saga had), ``seq`` (records so far).
    """

    def __init__(self, saga: Saga, saga_id: str) -> None:
        self.saga = saga
        self.saga_id = saga_id
        self.status: str | None = None
        self.data: Any = None
        self.round = 0
        self.position = 0
        self.executions: dict[int, Execution] = {}
        self.rollback_to: int | None = None
        self.not_before = float("-inf")
        self.cause: tuple[str | None, str | None] = (None, None)
        self.resume_status: str | None = None
        self.seq = 0

    def key(self, index: int) -> str:
        """The idempotency key of step ``index`` in the current round: the same for every
        attempt, different for a re-execution after a rollback to a save-point."""
        name = self.saga.steps[index].name
        if self.round == 0:
            return f"{self.saga_id}/{name}"
        return f"{self.saga_id}/{name}/{self.round}"

    @property
    def committed(self) -> bool:
        """Whether the saga has passed its pivot: from here it can only go forward."""
        return self.position >= self.saga.commit_position

    def results(self) -> dict[str, Any]:
        """The results of the steps done, by step name."""
        steps = self.saga.steps
        return {steps[i].name: ex.result for i, ex in sorted(self.executions.items()) if ex.done}

    def apply(self, record: rec.LogRecord) -> None:
        """Change the state as ``record`` says (records must come in ``seq`` order)."""
        if record.seq != self.seq:
            raise ValueError(
                f"record seq={record.seq} of saga {self.saga_id!r} is out of order: "
                f"expected seq={self.seq}"
            )
        self.seq += 1
        previous, self.status = self.status, record.status_after(self.status)
        kind = record.kind
        if kind == rec.SAGA_STARTED:
            self.data = (record.payload or {}).get("data")
        elif kind in (rec.ACTION_STARTED, rec.ACTION_ENDED):
            self._apply_action(record)
        elif kind in (rec.COMPENSATION_STARTED, rec.COMPENSATION_ENDED):
            self._apply_compensation(record)
        elif kind in (rec.ABORTING, rec.STUCK):
            self.cause = (record.step, record.error)
            if kind == rec.STUCK:
                self.resume_status = previous
        elif kind == rec.ROLLBACK:
            self.round += 1
            self.rollback_to = int(record.payload["position"])
            self._end_rollback_if_done()
        elif kind == rec.RESUMED:
            self._apply_resumed()

    def _execution(self, record: rec.LogRecord) -> Execution:
        index = self.saga.index.get(record.step)  # type: ignore[arg-type]
        if index is None:
            raise ValueError(
                f"record seq={record.seq} of saga {self.saga_id!r} names step {record.step!r}, "
                f"which saga {self.saga.name!r} does not have"
            )
        ex = self.executions.get(index)
        if ex is None or ex.round != record.round:
            ex = self.executions[index] = Execution(index, record.round, record.key or "")
        return ex

    def _apply_action(self, record: rec.LogRecord) -> None:
        ex = self._execution(record)
        if self._apply_try(record, ex.action, rec.ACTION_STARTED):
            ex.done, ex.result = True, record.payload
            self.position = ex.index + 1

    def _apply_compensation(self, record: rec.LogRecord) -> None:
        ex = self._execution(record)
        ended_ok = self._apply_try(record, ex.compensation, rec.COMPENSATION_STARTED)
        if ended_ok is not None:
            ex.compensated = ended_ok
            if ended_ok:
                self._end_rollback_if_done()

    def _apply_try(self, record: rec.LogRecord, tries: Tries, started: str) -> bool | None:
        """Apply a try's start (kind ``started``; ``None``) or its end: whether it ended ok,
        the failed try's wait before the next (``retry_in``) kept in ``not_before``."""
        if record.kind == started:
            tries.start(record.attempt, record.time)
            return None
        ok = record.outcome == outcomes.OK
        retry_in = None if ok or not record.payload else record.payload.get("retry_in")
        tries.end(ok, retry_in)
        self._wait(record.time, retry_in)
        return ok

    def _wait(self, time: float, retry_in: float | None) -> None:
        self.not_before = float("-inf") if retry_in is None else time + retry_in

    def to_compensate(self) -> Execution | None:
        """The next execution to compensate (backward recovery or a rollback), latest first."""
        low = self.rollback_to if self.status == rec.ROLLING_BACK else 0
        steps = self.saga.steps
        for index in sorted(self.executions, reverse=True):
            ex = self.executions[index]
            if index < (low or 0) or ex.compensated or steps[index].compensation is None:
                continue
            if ex.action.in_flight or ex.action.ended:
                return ex
        return None

    def _end_rollback_if_done(self) -> None:
        if self.status != rec.ROLLING_BACK or self.to_compensate() is not None:
            return
        target = self.rollback_to or 0
        for index in [i for i in self.executions if i >= target]:
            del self.executions[index]
        self.position = target
        self.status = rec.RUNNING

    def _apply_resumed(self) -> None:
        for ex in self.executions.values():
            ex.action.restart_count()
            ex.compensation.restart_count()
        self.not_before = float("-inf")
        self.cause = (None, None)
