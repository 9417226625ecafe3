"""The asyncio driver: coroutine steps, retries on an injected sleep, and cancellation that
never leaves a saga half-undone (compensations are shielded)."""

from __future__ import annotations

import asyncio

import pytest
from saga_fakes import Boom, Crash, CrashingLog, FakeTime

from distlab.retry import ConstantBackoff, NoBackoff, RetryPolicy
from distlab.saga import (
    PIVOT,
    RETRIABLE,
    AsyncSagaOrchestrator,
    IdempotencyStore,
    InMemoryLog,
    Saga,
    SQLiteLog,
    Step,
)
from distlab.saga import records as rec


class Bank:
    """An async participant with idempotency keys, and gates a test opens when it likes."""

    def __init__(self) -> None:
        self.store = IdempotencyStore(clock=lambda: 0.0)
        self.log: list[str] = []
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def do(self, ctx):
        await asyncio.sleep(0)
        return self.store.run(ctx.key, lambda: self.log.append(ctx.step) or ctx.step)

    async def undo(self, ctx):
        await asyncio.sleep(0)
        self.store.compensate(ctx.key, lambda result: self.log.append("C" + ctx.step))

    async def hang(self, ctx):
        self.started.set()
        await self.gate.wait()
        return await self.do(ctx)

    async def slow_undo(self, ctx):
        self.started.set()
        await self.gate.wait()
        await self.undo(ctx)


async def cancel_once_started(orchestrator, saga, bank):
    """Run ``saga`` as a task and cancel it once one of ``bank``'s gated steps has started."""
    task = asyncio.create_task(orchestrator.run(saga, saga_id="s1"))
    await bank.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_runs_coroutine_and_plain_steps():
    async def main():
        bank = Bank()
        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("b", action=lambda ctx: "plain", kind=PIVOT),
            ],
        )
        return await AsyncSagaOrchestrator(InMemoryLog()).run(saga, saga_id="s1"), bank

    result, bank = asyncio.run(main())
    assert result.ok and result.results == {"a": "a", "b": "plain"} and bank.log == ["a"]


def test_failure_is_compensated_with_coroutines():
    async def main():
        bank = Bank()

        async def refuse(ctx):
            raise Boom("no")

        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("b", action=bank.do, compensation=bank.undo),
                Step("p", action=refuse, kind=PIVOT),
            ],
        )
        return await AsyncSagaOrchestrator(InMemoryLog()).run(saga, saga_id="s1"), bank

    result, bank = asyncio.run(main())
    assert result.status == rec.COMPENSATED and bank.log == ["a", "b", "Cb", "Ca"]


def test_retries_sleep_with_the_injected_async_sleep():
    time = FakeTime()
    tries = []

    async def flaky(ctx):
        tries.append(ctx.attempt)
        if ctx.attempt < 3:
            raise Boom("busy")
        return "sent"

    retry = RetryPolicy(max_attempts=5, backoff=ConstantBackoff(2.5))
    saga = Saga("s", [Step("mail", action=flaky, kind=RETRIABLE, retry=retry)])
    orch = AsyncSagaOrchestrator(InMemoryLog(), clock=time.clock, async_sleep=time.async_sleep)
    result = asyncio.run(orch.run(saga, saga_id="s1"))
    assert result.ok and tries == [1, 2, 3] and time.sleeps == [2.5, 2.5]


def test_cancelled_before_the_pivot_still_compensates():
    async def main():
        bank = Bank()
        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("b", action=bank.hang, compensation=bank.undo),  # never returns
                Step("p", action=bank.do, kind=PIVOT),
            ],
        )
        log = InMemoryLog()
        await cancel_once_started(AsyncSagaOrchestrator(log), saga, bank)
        return bank, log

    bank, log = asyncio.run(main())
    assert bank.log == ["a", "Ca"]
    assert bank.store.state("s1/b") == "tombstone"  # b's compensation arrived first
    assert log.status("s1") == rec.COMPENSATED
    ended = [r for r in log.read("s1") if r.kind == rec.ACTION_ENDED][-1]
    assert (ended.step, ended.error) == ("b", "CancelledError: cancelled")


def test_compensations_are_shielded_from_further_cancels():
    async def main():
        bank = Bank()
        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("b", action=bank.do, compensation=bank.slow_undo),
                Step("p", action=lambda ctx: 1 / 0, kind=PIVOT),
            ],
        )
        log = InMemoryLog()
        task = asyncio.create_task(AsyncSagaOrchestrator(log).run(saga, saga_id="s1"))
        await bank.started.wait()  # b's compensation is running
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()  # and again
        await asyncio.sleep(0)
        bank.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        return bank, log

    bank, log = asyncio.run(main())
    assert bank.log == ["a", "b", "Cb", "Ca"]
    assert log.status("s1") == rec.COMPENSATED


def test_a_timeout_around_the_saga_compensates_it():
    async def main():
        bank = Bank()
        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("b", action=bank.hang, compensation=bank.undo),
            ],
        )
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await AsyncSagaOrchestrator(InMemoryLog()).run(saga, saga_id="s1")
        return bank

    assert asyncio.run(main()).log == ["a", "Ca"]


def test_cancelled_after_the_pivot_is_left_for_recovery():
    async def main():
        bank = Bank()
        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("p", action=bank.do, kind=PIVOT),
                Step("r", action=bank.hang, kind=RETRIABLE),
            ],
        )
        log = InMemoryLog()
        await cancel_once_started(AsyncSagaOrchestrator(log, owner="n"), saga, bank)
        assert log.unfinished() == ["s1"]  # committed: it cannot be compensated
        bank.gate.set()
        results = await AsyncSagaOrchestrator(log, [saga], owner="n").recover()
        return bank, results

    bank, results = asyncio.run(main())
    assert [r.status for r in results] == [rec.COMPLETED]
    assert bank.log == ["a", "p", "r"]


def test_cancelled_while_the_pivot_is_in_flight_is_left_for_recovery():
    """The pivot has no compensation: aborting would leave its effect (a charge that did
    happen) in place. The saga stays unfinished; recovery asks the pivot again, same key."""

    async def main(pivot_takes_effect):
        bank = Bank()

        async def charge(ctx):
            bank.started.set()
            if pivot_takes_effect:
                bank.store.run(ctx.key, lambda: bank.log.append("p") or "charged")
            await bank.gate.wait()  # the reply never comes back before the cancel
            return "charged"

        saga = Saga(
            "s",
            [
                Step("a", action=bank.do, compensation=bank.undo),
                Step("p", action=charge, kind=PIVOT),
                Step("r", action=bank.do, kind=RETRIABLE),
            ],
        )
        log = InMemoryLog()
        await cancel_once_started(AsyncSagaOrchestrator(log, owner="n"), saga, bank)
        assert log.unfinished() == ["s1"] and bank.log == ["a"] + ["p"] * pivot_takes_effect

        async def pivot_again(ctx):
            return bank.store.run(ctx.key, lambda: bank.log.append("p") or "charged")

        retry = Saga("s", [saga.steps[0], Step("p", action=pivot_again, kind=PIVOT), saga.steps[2]])
        results = await AsyncSagaOrchestrator(log, [retry], owner="n").recover()
        return bank, results

    for took_effect in (True, False):
        bank, results = asyncio.run(main(took_effect))
        assert [r.status for r in results] == [rec.COMPLETED]
        assert bank.log == ["a", "p", "r"]  # charged once, never compensated behind its back


def test_recover_and_resume_on_sqlite(tmp_path):
    calls = {"n": 0}

    async def undo(ctx):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise Boom("db down")

    async def main():
        saga = Saga(
            "s",
            [
                Step("a", action=lambda ctx: 1, compensation=undo),
                Step("b", action=lambda ctx: 1 / 0),
            ],
            compensation_retry=RetryPolicy(max_attempts=2, backoff=NoBackoff()),
        )
        log = SQLiteLog(tmp_path / "s.db")
        with pytest.raises(Crash):
            await AsyncSagaOrchestrator(CrashingLog(log, 1), owner="n").run(saga, saga_id="s1")
        orch = AsyncSagaOrchestrator(log, [saga], owner="n")
        stuck = await orch.recover()
        resumed = await orch.resume("s1")
        return stuck, resumed

    stuck, resumed = asyncio.run(main())
    assert [r.status for r in stuck] == [rec.STUCK]
    assert resumed.status == rec.COMPENSATED


def test_bad_async_sleep():
    with pytest.raises(TypeError, match="async_sleep=3 must be callable"):
        AsyncSagaOrchestrator(InMemoryLog(), async_sleep=3)
