"""The asyncio saga driver: the same core and log, steps as coroutines (or plain functions).

Cancelling the task that runs a saga does not leave it half-undone: before its pivot the saga is
aborted and its compensations run to the end, shielded from the cancellation (a second cancel
does not stop them either); then ``CancelledError`` propagates. Past its pivot a saga cannot be
compensated: cancellation leaves it in the log, unfinished, for :meth:`recover` to complete. The
same while the pivot itself is in flight: it has no compensation, and whether it took effect is
unknown, so recovery runs it again with the same idempotency key and its answer decides.
A compensation that is running when the cancel arrives finishes first.

The log is written synchronously from the event loop (an SQLite append takes well under a
millisecond).

>>> import asyncio
>>> from distlab.saga import InMemoryLog, Saga, Step
>>> async def reserve(ctx):
...     await asyncio.sleep(0)
...     return "room 7"
>>> hotel = Saga("hotel", [Step("reserve", action=reserve)])
>>> asyncio.run(AsyncSagaOrchestrator(InMemoryLog()).run(hotel, saga_id="h1")).results
{'reserve': 'room 7'}
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from distlab.saga.core import Finished, RunAction, RunCompensation, SagaResult, SagaRun, Wait
from distlab.saga.definition import Saga, is_async_callable
from distlab.saga.log import LeaseLost, SagaLog
from distlab.saga.orchestrator import OrchestratorBase, check_callable
from distlab.saga.records import STUCK

__all__ = ["AsyncSagaOrchestrator"]


async def _call(fn: Callable[..., Any], context: Any) -> Any:
    if is_async_callable(fn):
        return await fn(context)
    return fn(context)


class AsyncSagaOrchestrator(OrchestratorBase):
    """Run sagas with a durable log on asyncio (see the module docstring). Arguments as
    :class:`~distlab.saga.orchestrator.OrchestratorBase`, with ``async_sleep`` (default
    ``asyncio.sleep``) in place of ``sleep``."""

    def __init__(
        self,
        log: SagaLog,
        sagas: Iterable[Saga] = (),
        *,
        name: str | None = None,
        owner: str | None = None,
        lease: float = 30.0,
        clock: Callable[[], float] | None = None,
        async_sleep: Callable[[float], Awaitable[Any]] | None = None,
        max_events: int = 1000,
    ) -> None:
        super().__init__(
            log, sagas, name=name, owner=owner, lease=lease, clock=clock, max_events=max_events
        )
        self.async_sleep = check_callable("async_sleep", async_sleep) or asyncio.sleep

    async def run(self, saga: Saga, data: Any = None, *, saga_id: str | None = None) -> SagaResult:
        """Run a new saga to its end (see :meth:`SagaOrchestrator.run`)."""
        run = self.journal.begin(saga, saga_id=saga_id, data=data, now=self.clock())
        return await self._drive(run)

    async def recover(self) -> list[SagaResult]:
        """Carry on every unfinished saga of the log that no other orchestrator holds (see
        :meth:`SagaOrchestrator.recover`)."""
        results = []
        for saga_id in self.journal.log.unfinished():
            run = self.journal.claim(saga_id, self.clock())
            if run is None:
                continue
            try:
                results.append(await self._drive(run))
            except LeaseLost:
                continue
        return results

    async def resume(self, saga_id: str) -> SagaResult:
        """An operator's retry of a stuck saga."""
        return await self._drive(self.journal.claim_stuck(saga_id, self.clock()))

    async def _drive(self, run: SagaRun) -> SagaResult:
        journal, clock = self.journal, self.clock
        cancelled = False
        while True:
            now = clock()
            command = run.next(now)
            journal.write(run, now)
            if isinstance(command, Finished):
                break
            try:
                if isinstance(command, Wait):
                    journal.renew(run, now, wait=command.delay)
                    await self.async_sleep(command.delay)
                elif isinstance(command, RunAction):
                    await self._act(run, command)
                else:
                    cancelled |= await self._compensate(run, command)
            except asyncio.CancelledError:
                cancelled = True
                if not run.cancel(clock(), "cancelled"):
                    raise  # past the pivot: left unfinished in the log for recover()
        if command.result.status == STUCK:
            journal.release(run)
        if cancelled:
            raise asyncio.CancelledError
        return command.result

    async def _act(self, run: SagaRun, command: RunAction) -> None:
        try:
            result = await _call(command.step.action, command.context)
        except Exception as exc:
            run.action_ended(self.clock(), error=exc)
        else:
            run.action_ended(self.clock(), result=result)
        self.journal.write(run, self.clock())

    async def _compensate(self, run: SagaRun, command: RunCompensation) -> bool:
        """Run one compensation to its end, shielded: True if a cancel arrived meanwhile."""
        task = asyncio.ensure_future(_call(command.step.compensation, command.context))
        cancelled = False
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    raise
                cancelled = True
            except Exception:
                break
        error = task.exception()
        run.compensation_ended(self.clock(), error=error)
        self.journal.write(run, self.clock())
        return cancelled
