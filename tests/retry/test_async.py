"""The asyncio driver, with a fake ``async_sleep`` and a fake clock (run by asyncio.run)."""

from __future__ import annotations

import asyncio

import pytest
from retry_fakes import FakeTime, Script, make

from distlab.retry import (
    ConstantBackoff,
    ExponentialBackoff,
    RetryBudget,
    RetryMetrics,
    RetryPolicy,
)


def test_async_retries_then_succeeds(fake_time):
    fn = Script([ConnectionError, TimeoutError, "ok"], fake_time, duration=0.1)
    policy = make(fake_time, max_attempts=3, backoff=ExponentialBackoff(base=0.5))
    assert asyncio.run(policy.call(fn.acall)) == "ok"
    assert fn.calls == 3 and fake_time.sleeps == [0.5, 1.0]
    assert policy.metrics() == RetryMetrics(
        calls=1, attempts=3, retries=2, successes=1, give_ups=0, total_wait=1.5
    )


def test_async_uses_async_sleep_not_sleep():
    fake = FakeTime()
    slept = []

    def sync_sleep(d):  # must never be used by the asyncio driver
        raise AssertionError("sync sleep in the asyncio driver")

    async def async_sleep(d):
        slept.append(d)
        fake.advance(d)

    policy = RetryPolicy(
        max_attempts=2,
        backoff=ConstantBackoff(0.3),
        clock=fake.clock,
        sleep=sync_sleep,
        async_sleep=async_sleep,
    )
    assert asyncio.run(policy.call(Script([OSError, 1], fake).acall)) == 1
    assert slept == [0.3]


def test_async_gives_up_with_the_last_exception(fake_time):
    fn = Script([OSError], fake_time)
    policy = make(fake_time, max_attempts=4)

    @policy
    async def fetch():
        return await fn.acall()

    with pytest.raises(OSError) as info:
        asyncio.run(fetch())
    assert info.value is fn.raised[-1] and info.value.retry_attempts == 4
    assert info.value.__context__ is None
    gave_up = [(e.attempt, e.error, e.reason) for e in policy.events() if e.kind == "give_up"]
    assert gave_up == [(4, "OSError: attempt 4", "attempts")]


def test_async_non_matching_exception_propagates_at_once(fake_time):
    fn = Script([ValueError, "x"], fake_time)
    policy = make(fake_time, retry_on=ConnectionError)
    with pytest.raises(ValueError):
        asyncio.run(policy.call(fn.acall))
    assert fn.calls == 1 and fake_time.sleeps == []


def test_async_deadline(fake_time):
    t0 = fake_time.now
    fn = Script([TimeoutError], fake_time, duration=0.2)
    policy = make(fake_time, max_attempts=10, deadline=2.5)
    with pytest.raises(TimeoutError):
        asyncio.run(policy.call(fn.acall))
    assert [round(s - t0, 9) for s in fn.starts] == [0.0, 1.2, 2.4]


def test_async_deadline_with_an_overrunning_sleep():
    fake = FakeTime(oversleep=0.5)
    fn = Script([TimeoutError], fake)
    policy = make(fake, max_attempts=5, deadline=1.2, backoff=ConstantBackoff(1.0))
    with pytest.raises(TimeoutError) as info:
        asyncio.run(policy.call(fn.acall))
    assert fn.calls == 1 and "(deadline)" in info.value.__notes__[-1]


def test_async_retry_on_result_and_budget(fake_time):
    budget = RetryBudget(max_tokens=10, token_ratio=0.5)
    policy = make(fake_time, max_attempts=3, retry_on_result=lambda r: r is None, budget=budget)
    assert asyncio.run(policy.call(Script([None, 7], fake_time).acall)) == 7
    assert budget.tokens == 9.5


def test_cancellation_is_not_retried_and_is_counted(fake_time):
    async def main():
        started = asyncio.Event()

        async def slow():
            started.set()
            await asyncio.sleep(3600)  # a real (never finished) wait: the task is cancelled

        policy = make(fake_time, retry_on=BaseException)
        task = asyncio.ensure_future(policy.call(slow))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return policy

    policy = asyncio.run(main())
    assert policy.metrics() == RetryMetrics(calls=1, attempts=1, retries=0, successes=0, give_ups=1)


def test_cancelled_during_the_backoff_wait(fake_time):
    async def main():
        calls = []

        async def failing():
            calls.append(1)
            raise OSError("down")

        # the real asyncio.sleep, cancelled: the 60 s wait is not counted as slept
        policy = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(60.0), clock=fake_time.clock)
        task = asyncio.ensure_future(policy.call(failing))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return policy, calls

    policy, calls = asyncio.run(main())
    assert len(calls) == 1
    assert policy.metrics() == RetryMetrics(
        calls=1, attempts=1, retries=0, successes=0, give_ups=1, total_wait=0.0
    )


def test_many_concurrent_tasks_share_one_policy(fake_time):
    policy = make(fake_time, max_attempts=3, backoff=ExponentialBackoff(0.01, 1.0, "full"), rng=1)

    async def main():
        scripts = [Script([OSError] * (i % 3) + ["ok"], fake_time) for i in range(300)]
        return scripts, await asyncio.gather(*(policy.call(s.acall) for s in scripts))

    scripts, results = asyncio.run(main())
    assert results == ["ok"] * 300
    s = policy.metrics()
    assert (s.calls, s.attempts, s.retries, s.successes) == (300, 600, 300, 300)


def test_async_callable_object(fake_time):
    class Client:
        def __init__(self):
            self.n = 0

        async def __call__(self, x):
            self.n += 1
            if self.n == 1:
                raise ConnectionError
            return x

    c = Client()
    assert asyncio.run(make(fake_time).call(c, 5)) == 5 and c.n == 2
