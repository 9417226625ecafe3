"""The saga core: a sans-I/O state machine told the time and the outcome of each step.

A driver asks :meth:`SagaRun.next` what to do at ``now`` and gets a command: run an action
(:class:`RunAction`), run a compensation (:class:`RunCompensation`), wait (:class:`Wait`) or
stop (:class:`Finished`). Every decision is a :class:`~distlab.saga.records.LogRecord` that the
driver takes with :meth:`SagaRun.drain` and appends to the durable log *before* it acts on the
command; it then reports the outcome (:meth:`SagaRun.action_ended`,
:meth:`SagaRun.compensation_ended`). The core never reads a clock, sleeps, or calls a step, so
one implementation serves the sync, asyncio and simulated drivers.

Garcia-Molina and Salem's guarantee holds by construction: a saga that ends has run T1..Tn, or
T1..Tj then Cj..C1 (compensations in reverse order, each retried until it succeeds or, when its
policy gives up, the saga is ``stuck`` with the step and error for an operator).

>>> from distlab.saga.definition import Saga, Step
>>> saga = Saga("demo", [Step("a", action=str, compensation=str),
...                      Step("b", action=str, compensation=str)])
>>> run = SagaRun.start(saga, "s1", data=None, now=0.0)
>>> cmd = run.next(now=0.0); cmd.context.key, [r.kind for r in run.drain()]
('s1/a', ['saga_started', 'action_started'])
>>> run.action_ended(now=0.1, result="A")
>>> cmd = run.next(now=0.1); run.action_ended(now=0.2, error=RuntimeError("card declined"))
>>> while not isinstance(cmd := run.next(now=0.3), Finished):
...     print(cmd.context.step, cmd.context.key); run.compensation_ended(now=0.3)
b s1/b
a s1/a
>>> cmd.result.status, cmd.result.cause
('compensated', ('b', 'RuntimeError: card declined'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from distlab import outcomes
from distlab.saga import records as rec
from distlab.saga.definition import PIVOT, RETRIABLE, Saga, Step
from distlab.saga.state import Execution, SagaState, Tries

__all__ = [
    "Finished",
    "RunAction",
    "RunCompensation",
    "SagaResult",
    "SagaRun",
    "StepContext",
    "Wait",
    "describe_error",
]


@dataclass(frozen=True)
class StepContext:
    """What a step's action or compensation is told.

    ``key`` is the idempotency key to pass to the participant: derived from (saga id, step,
    round), the same for every attempt. ``results`` holds the results of the steps done before;
    ``result`` (compensations only) the action's result, ``None`` if it never reported one.
    """

    saga_id: str
    saga: str
    step: str
    index: int
    key: str
    attempt: int
    round: int
    data: Any
    results: Mapping[str, Any]
    result: Any = None


@dataclass(frozen=True)
class RunAction:
    """Run ``step.action(context)`` and report with :meth:`SagaRun.action_ended`."""

    step: Step
    context: StepContext


@dataclass(frozen=True)
class RunCompensation:
    """Run ``step.compensation(context)``; report with :meth:`SagaRun.compensation_ended`."""

    step: Step
    context: StepContext


@dataclass(frozen=True)
class Wait:
    """Ask again after ``delay`` seconds (a retry's backoff)."""

    delay: float


@dataclass(frozen=True)
class SagaResult:
    """How a saga ended: ``status`` ``completed``, ``compensated`` or ``stuck`` (or
    ``running`` / ``compensating`` if a driver stopped before the end); ``results`` by step;
    ``cause`` = ``(step, error)`` that made it abort or get stuck, ``(None, None)`` otherwise."""

    saga_id: str
    saga: str
    status: str
    results: Mapping[str, Any]
    cause: tuple[str | None, str | None] = (None, None)

    @property
    def ok(self) -> bool:
        """Whether every step ran (status ``completed``)."""
        return self.status == rec.COMPLETED


@dataclass(frozen=True)
class Finished:
    """Nothing more to do: the saga ended (or is stuck)."""

    result: SagaResult


Command = RunAction | RunCompensation | Wait | Finished


def describe_error(error: BaseException) -> str:
    """An exception as the log keeps it: ``"Type: message"``.

    >>> describe_error(ValueError("no seats"))
    'ValueError: no seats'
    """
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class SagaRun(SagaState):
    """One saga's decisions (see the module docstring). Build it with :meth:`start` for a new
    saga or :meth:`from_log` for one read back from the log (then call :meth:`recover`).

    ``rng`` is passed to the retry policies (the simulation passes its world's generator).
    """

    def __init__(self, saga: Saga, saga_id: str, *, rng: Any = None) -> None:
        super().__init__(saga, saga_id)
        self.rng = rng
        self.outbox: list[rec.LogRecord] = []

    @classmethod
    def start(
        cls, saga: Saga, saga_id: str, *, data: Any = None, now: float, rng: Any = None
    ) -> SagaRun:
        """A new saga, its ``saga_started`` record waiting in the outbox."""
        if not isinstance(saga, Saga):
            raise TypeError(f"saga={saga!r} must be a Saga")
        if not isinstance(saga_id, str) or not saga_id:
            raise TypeError(f"saga_id={saga_id!r} must be a non-empty string")
        run = cls(saga, saga_id, rng=rng)
        run.emit(now, rec.SAGA_STARTED, payload={"saga": saga.name, "data": data})
        return run

    @classmethod
    def from_log(cls, saga: Saga, records: list[rec.LogRecord], *, rng: Any = None) -> SagaRun:
        """The saga as its log left it (``records`` in ``seq`` order)."""
        if not records or records[0].kind != rec.SAGA_STARTED:
            raise ValueError("records must start with the saga's saga_started record")
        run = cls(saga, records[0].saga_id, rng=rng)
        for record in records:
            run.apply(record)
        return run

    def emit(self, now: float, kind: str, **fields: Any) -> rec.LogRecord:
        """Decide: make the next record, apply it, queue it for the log."""
        record = rec.LogRecord(self.saga_id, self.seq, kind, float(now), **fields)
        self.apply(record)
        self.outbox.append(record)
        return record

    def drain(self) -> list[rec.LogRecord]:
        """The records decided since the last call, to append to the log before acting."""
        out, self.outbox = self.outbox, []
        return out

    @property
    def finished(self) -> bool:
        """Whether the saga ended or is stuck (nothing runs until an operator resumes it)."""
        return self.status in rec.ENDED or self.status == rec.STUCK

    def result(self) -> SagaResult:
        """The saga's outcome so far."""
        return SagaResult(
            self.saga_id, self.saga.name, self.status or rec.RUNNING, self.results(), self.cause
        )

    # -- deciding --------------------------------------------------------------------------

    def next(self, now: float) -> Command:
        """What to do at ``now``. Calling it again before reporting gives the same command."""
        if self.finished:
            return Finished(self.result())
        if now < self.not_before:
            return Wait(self.not_before - now)
        if self.status == rec.RUNNING:
            return self._next_forward(now)
        return self._next_backward(now)

    def _context(self, ex: Execution, attempt: int, result: Any = None) -> StepContext:
        step = self.saga.steps[ex.index]
        return StepContext(
            self.saga_id, self.saga.name, step.name, ex.index, ex.key, attempt, ex.round,
            self.data, self.results(), result,
        )  # fmt: skip

    def _next_forward(self, now: float) -> Command:
        index = self.position
        steps = self.saga.steps
        if index == len(steps):
            self.emit(now, rec.SAGA_ENDED, outcome=rec.COMPLETED)
            return Finished(self.result())
        ex = self.executions.get(index)
        if ex is None or ex.round != self.round:
            ex = Execution(index, self.round, self.key(index))
        elif ex.action.in_flight:  # started, outcome unknown (a crash): the same attempt again
            return RunAction(steps[index], self._context(ex, ex.action.in_flight))
        attempt = ex.action.ended + 1
        self.emit(
            now, rec.ACTION_STARTED, step=steps[index].name, round=ex.round, attempt=attempt,
            key=ex.key,
        )  # fmt: skip
        return RunAction(steps[index], self._context(self.executions[index], attempt))

    def _next_backward(self, now: float) -> Command:
        ex = self.to_compensate()
        if ex is None:
            self.emit(now, rec.SAGA_ENDED, outcome=rec.COMPENSATED)
            return Finished(self.result())
        step = self.saga.steps[ex.index]
        if ex.compensation.in_flight:
            return RunCompensation(step, self._context(ex, ex.compensation.in_flight, ex.result))
        attempt = ex.compensation.ended + 1
        self.emit(
            now, rec.COMPENSATION_STARTED, step=step.name, round=ex.round, attempt=attempt,
            key=ex.key,
        )  # fmt: skip
        return RunCompensation(step, self._context(ex, attempt, ex.result))

    # -- being told ------------------------------------------------------------------------

    def _retry_in(
        self, policy: Any, tries: Tries, now: float, error: BaseException
    ) -> float | None:
        """Ask the retry policy about one more failure: the wait before the next attempt, or
        ``None`` to give up. The policy's state is rebuilt from the log's counts, so a recovered
        saga keeps counting where it stopped."""
        state = policy.start(
            now=tries.first_time if tries.first_time is not None else now, rng=self.rng
        )
        state.attempts = tries.failures - tries.counted_from
        state.last_delay = tries.retry_in
        decision = state.after_attempt(now, exception=error)
        return decision.delay if decision.retry else None

    def _in_flight(self, what: str) -> Execution:
        for ex in self.executions.values():
            if getattr(ex, what).in_flight:
                return ex
        raise ValueError(f"{what}_ended(): no {what} of saga {self.saga_id!r} is in flight")

    def action_ended(
        self, now: float, *, result: Any = None, error: BaseException | None = None
    ) -> None:
        """The action in flight returned ``result`` or raised ``error`` at ``now``."""
        ex = self._in_flight("action")
        step = self.saga.steps[ex.index]
        common = dict(step=step.name, round=ex.round, attempt=ex.action.in_flight, key=ex.key)
        if error is None:
            self.emit(now, rec.ACTION_ENDED, outcome=outcomes.OK, payload=result, **common)
            self._end_if_done(now)
            return
        text = describe_error(error)
        retry_in = self._retry_in(self.saga.action_retry(ex.index), ex.action, now, error)
        payload = None if retry_in is None else {"retry_in": retry_in}
        self.emit(
            now, rec.ACTION_ENDED, outcome=outcomes.ERROR, error=text, payload=payload, **common
        )
        if retry_in is not None:
            return
        if step.kind == RETRIABLE or self.committed:
            self.emit(now, rec.STUCK, step=step.name, round=ex.round, error=text)
        else:
            self.emit(now, rec.ABORTING, step=step.name, round=ex.round, error=text)
            self._end_if_done(now)

    def compensation_ended(self, now: float, *, error: BaseException | None = None) -> None:
        """The compensation in flight returned (``error`` ``None``) or raised ``error``."""
        ex = self._in_flight("compensation")
        step = self.saga.steps[ex.index]
        common = dict(step=step.name, round=ex.round, attempt=ex.compensation.in_flight, key=ex.key)
        if error is None:
            self.emit(now, rec.COMPENSATION_ENDED, outcome=outcomes.OK, **common)
            self._end_if_done(now)
            return
        text = describe_error(error)
        policy = self.saga.compensation_policy(ex.index)
        retry_in = self._retry_in(policy, ex.compensation, now, error)
        payload = None if retry_in is None else {"retry_in": retry_in}
        self.emit(
            now, rec.COMPENSATION_ENDED, outcome=outcomes.ERROR, error=text, payload=payload,
            **common,
        )  # fmt: skip
        if retry_in is None:
            self.emit(now, rec.STUCK, step=step.name, round=ex.round, error=text)

    def _end_if_done(self, now: float) -> None:
        """End the saga with the outcome that completes it (one write instead of two)."""
        if self.status == rec.RUNNING and self.position == len(self.saga.steps):
            self.emit(now, rec.SAGA_ENDED, outcome=rec.COMPLETED)
        elif self.status == rec.COMPENSATING and self.to_compensate() is None:
            self.emit(now, rec.SAGA_ENDED, outcome=rec.COMPENSATED)

    # -- recovery, cancellation, operators -------------------------------------------------

    def recover(self, now: float) -> None:
        """After a crash: a saga running before its pivot resumes at its last save-point
        (compensating the steps done since) or, with none, is compensated (backward recovery).
        A saga whose pivot was in flight resumes there, whatever its save-points: the pivot has
        no compensation, so only its answer, asked again with the same key, can say whether
        the saga completes or is compensated. Anything else carries on as logged."""
        if self.status != rec.RUNNING or self.committed or self.pivot_in_flight():
            return
        position = self.position
        points = [p for p in self.saga.save_points if p <= position]
        if points and max(points) == position:
            return  # resume here; an action in flight is re-run with its key
        reason = "recovered after a crash"
        if points:
            self.emit(now, rec.ROLLBACK, error=reason, payload={"position": max(points)})
        else:
            self.emit(now, rec.ABORTING, error=f"{reason}, no save-point to resume from")

    def pivot_in_flight(self) -> bool:
        """Whether the pivot has started and its outcome is not yet known (then neither a
        cancel nor a crash may compensate the saga: the pivot's answer decides)."""
        return any(
            ex.action.in_flight and self.saga.steps[ex.index].kind == PIVOT
            for ex in self.executions.values()
        )

    def cancel(self, now: float, reason: str = "cancelled") -> bool:
        """Abort at ``now`` (the caller cancelled): True if the saga will be compensated, False
        if it cannot be (already committed past its pivot, ended or stuck, or its pivot is in
        flight: the pivot has no compensation, so only its outcome, learnt by running it again
        with the same key on recovery, can say whether the saga completes or is compensated)."""
        if self.finished or self.status == rec.COMPENSATING:
            return self.status == rec.COMPENSATING
        if self.committed or self.pivot_in_flight():
            return False
        for ex in list(self.executions.values()):
            if ex.action.in_flight:  # its outcome will never be known: it is compensated
                step = self.saga.steps[ex.index].name
                self.emit(
                    now, rec.ACTION_ENDED, step=step, round=ex.round, attempt=ex.action.in_flight,
                    key=ex.key, outcome=outcomes.ERROR, error=f"CancelledError: {reason}",
                )  # fmt: skip
        self.emit(now, rec.ABORTING, error=reason)
        return True

    def resume(self, now: float) -> None:
        """An operator's answer to ``stuck``: try the stuck step again, its retry policy
        counting afresh."""
        if self.status != rec.STUCK:
            raise ValueError(
                f"saga {self.saga_id!r} is {self.status}, not stuck: nothing to resume"
            )
        self.emit(now, rec.RESUMED, payload={"status": self.resume_status})
