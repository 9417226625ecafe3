"""The synchronous saga driver: runs a saga's steps as plain function calls, logging first.

:class:`SagaOrchestrator` asks the core (:class:`~distlab.saga.core.SagaRun`) what to do,
appends the decision to the durable log, does it, reports the outcome, and loops. If its process
dies at any point, :meth:`SagaOrchestrator.recover` (in a new process, on the same log) carries
every unfinished saga on from its log. Its clock and sleep are injectable: the default clock is
``time.time``, since log times and leases are compared across processes.

>>> from distlab.saga import InMemoryLog, Saga, Step
>>> seats = []
>>> trip = Saga("trip", [
...     Step("seat", action=lambda ctx: seats.append(ctx.key) or "12A",
...          compensation=lambda ctx: seats.remove(ctx.key)),
...     Step("pay", action=lambda ctx: 1 / 0),
... ])
>>> orchestrator = SagaOrchestrator(InMemoryLog(), name="trips")
>>> result = orchestrator.run(trip, {"who": "ada"}, saga_id="t1")
>>> result.status, result.cause, seats
('compensated', ('pay', 'ZeroDivisionError: division by zero'), [])
>>> [e.kind for e in orchestrator.events()][:3]
['saga_started', 'action_started', 'action_ended']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from distlab.saga import frame
from distlab.saga.core import Finished, RunAction, SagaResult, SagaRun, Wait
from distlab.saga.definition import Saga
from distlab.saga.journal import Journal, SagaEvent, SagaMetrics
from distlab.saga.log import LeaseLost, SagaLog
from distlab.saga.records import STUCK, LogRecord

__all__ = ["OrchestratorBase", "SagaOrchestrator", "check_callable"]


def check_callable(name: str, fn: Any) -> Any:
    """``fn`` if it is callable or ``None``, else a ``TypeError`` naming ``name``."""
    if fn is not None and not callable(fn):
        raise TypeError(f"{name}={fn!r} must be callable")
    return fn


class OrchestratorBase:
    """What the sync and asyncio orchestrators share: the journal (log, leases, events), the
    clock, and the observation and history methods.

    Args:
        log: a :class:`~distlab.saga.log.SagaLog`: :class:`~distlab.saga.log.InMemoryLog` or
            :class:`~distlab.saga.sqlite_log.SQLiteLog`.
        sagas: the saga definitions :meth:`recover` may find in the log (those passed to
            :meth:`run` are added).
        name: the ``source`` of this orchestrator's events.
        owner: the lease owner id (see :class:`~distlab.saga.journal.Journal`).
        lease: seconds this orchestrator holds a saga after each write.
        clock: seconds, default ``time.time``; sleep: default ``time.sleep``.
        max_events: how many recent events :meth:`events` keeps.
    """

    def __init__(
        self,
        log: SagaLog,
        sagas: Iterable[Saga] = (),
        *,
        name: str | None = None,
        owner: str | None = None,
        lease: float = 30.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Any] | None = None,
        max_events: int = 1000,
    ) -> None:
        self.clock = check_callable("clock", clock) or time.time
        self.sleep = check_callable("sleep", sleep) or time.sleep
        self.journal = Journal(
            log, sagas, name=name, owner=owner, lease=lease, max_events=max_events
        )

    def __repr__(self) -> str:
        j = self.journal
        return f"{type(self).__name__}(log={j.log!r}, name={j.name!r}, owner={j.owner!r})"

    # -- observing -------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[SagaEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later event; returns a function that unsubscribes."""
        return self.journal.subscribe(listener)

    def events(self) -> list[SagaEvent]:
        """The recent events (one per log record written), oldest first."""
        return self.journal.events()

    def metrics(self) -> SagaMetrics:
        """A snapshot of the counters."""
        return self.journal.metrics()

    def stuck(self) -> dict[str, tuple[str | None, str | None]]:
        """The sagas waiting for an operator: saga id -> (step, error) that made it stuck."""
        log = self.journal.log
        found = {}
        for saga_id in log.saga_ids():
            if log.status(saga_id) == STUCK:
                last = [r for r in log.read(saga_id) if r.kind == STUCK][-1]
                found[saga_id] = (last.step, last.error)
        return found

    def history(self, saga_id: str | None = None) -> list[LogRecord]:
        """The log's records of one saga, or of every saga."""
        log = self.journal.log
        ids = log.saga_ids() if saga_id is None else [saga_id]
        return [record for one in ids for record in log.read(one)]

    def to_frame(self, saga_id: str | None = None) -> Any:
        """The history as a tidy pandas DataFrame (see :func:`distlab.saga.frame.to_frame`)."""
        return frame.to_frame(self.history(saga_id))


class SagaOrchestrator(OrchestratorBase):
    """Run sagas with a durable log, synchronously (see the module docstring and
    :class:`OrchestratorBase` for the arguments)."""

    # -- running ---------------------------------------------------------------------------

    def run(self, saga: Saga, data: Any = None, *, saga_id: str | None = None) -> SagaResult:
        """Run a new saga to its end: ``completed``, ``compensated`` or ``stuck``.

        ``data`` is the saga's input (``ctx.data``; JSON for an SQLite log); ``saga_id``
        defaults to a random one. A step's exception never escapes: it is retried,
        compensated, or makes the saga stuck, as the result says. ``LeaseLost`` means another
        orchestrator took the saga over (this one's lease ran out during a step, longer than
        ``lease``): that one carries it on.
        """
        if isinstance(saga, Saga) and saga.is_async:
            raise TypeError(f"saga={saga!r} has coroutine steps; run it with AsyncSagaOrchestrator")
        run = self.journal.begin(saga, saga_id=saga_id, data=data, now=self.clock())
        return self._drive(run)

    def recover(self) -> list[SagaResult]:
        """Carry on every unfinished saga of the log that no other orchestrator holds (after a
        crash, at start-up), one after the other; return how each ended. Stuck sagas wait for
        :meth:`resume`; a saga another orchestrator takes over meanwhile is left to it."""
        results = []
        for saga_id in self.journal.log.unfinished():
            run = self.journal.claim(saga_id, self.clock())
            if run is None:
                continue
            try:
                results.append(self._drive(run))
            except LeaseLost:
                continue
        return results

    def resume(self, saga_id: str) -> SagaResult:
        """An operator's retry of a stuck saga (after fixing what made it stuck)."""
        return self._drive(self.journal.claim_stuck(saga_id, self.clock()))

    def _drive(self, run: SagaRun) -> SagaResult:
        journal, clock = self.journal, self.clock
        while True:
            now = clock()
            command = run.next(now)
            journal.write(run, now)  # the decision is durable before it is acted on
            if isinstance(command, Finished):
                if command.result.status == STUCK:
                    journal.release(run)  # an operator may resume it from anywhere
                return command.result
            if isinstance(command, Wait):
                journal.renew(run, now, wait=command.delay)
                self.sleep(command.delay)
                continue
            context = command.context
            if isinstance(command, RunAction):
                try:
                    result = command.step.action(context)
                except Exception as exc:
                    run.action_ended(clock(), error=exc)
                else:
                    run.action_ended(clock(), result=result)
            else:
                try:
                    command.step.compensation(context)  # type: ignore[misc]
                except Exception as exc:
                    run.compensation_ended(clock(), error=exc)
                else:
                    run.compensation_ended(clock())
            journal.write(run, clock())  # the outcome is durable before the next decision
