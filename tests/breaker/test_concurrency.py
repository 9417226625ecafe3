"""Threads and asyncio tasks hammering one breaker: no deadlock, no lost count, and a slow call in
flight never blocks the others (the lock is not held while the protected call runs). Events and
asyncio events only: nothing sleeps for real, and nothing asserts timing."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from distlab.breaker import BreakerState, CircuitBreaker, CircuitOpenError

THREADS, CALLS = 16, 10_000
JOIN_S = 60  # generous: only a deadlock would reach it


def _ticking_breaker(calls):
    """A breaker with a window of ``calls`` calls that half-opens as soon as it opened, with one
    probe let through; its clock ticks by one at each reading."""
    return CircuitBreaker(
        minimum_calls=calls,
        window_size=calls,
        wait_in_open=0.0,
        permitted_calls_in_half_open=1,
        clock=itertools.count().__next__,
    )


def _opened(breaker):
    """``breaker`` after one failed call (open, if it judges one call)."""
    breaker.try_acquire(breaker.clock())
    breaker.on_error(breaker.clock(), 0.0)
    return breaker


def _run_threads(target, n=THREADS):
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i):
        try:
            start.wait()
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_S)
    assert not any(t.is_alive() for t in threads), "deadlock: threads still running"
    assert not errors, errors[:3]


def test_16_threads_x_10000_calls_with_failures_lose_no_count():
    # Never opens (it would take 100 % failures), so every count is known exactly.
    b = CircuitBreaker(
        failure_rate_threshold=100, minimum_calls=10, window_size=50, ignore=KeyError
    )

    @b
    def work(i):
        if i % 7 == 0:
            raise ConnectionError("down")
        if i % 11 == 0:
            raise KeyError("ignored")
        return i

    def client(_):
        for i in range(CALLS):
            try:
                work(i)
            except (ConnectionError, KeyError):
                pass

    _run_threads(client)
    failures = sum(1 for i in range(CALLS) if i % 7 == 0) * THREADS
    ignored = sum(1 for i in range(CALLS) if i % 7 and i % 11 == 0) * THREADS
    m = b.metrics()
    assert m.state is BreakerState.CLOSED
    assert (m.admitted, m.rejected, m.in_flight) == (THREADS * CALLS, 0, 0)
    assert (m.failures, m.ignored) == (failures, ignored)
    assert m.successes == THREADS * CALLS - failures - ignored


def test_threads_with_the_breaker_opening_and_closing_keep_exact_counts():
    ticks = itertools.count()  # a shared fake clock: each reading is one microsecond later

    def clock():
        return next(ticks) * 1e-6

    b = CircuitBreaker(
        failure_rate_threshold=50,
        minimum_calls=5,
        window_size=10,
        wait_in_open=0.001,
        permitted_calls_in_half_open=2,
        clock=clock,
        ignore=KeyError,
    )
    seen = [dict(ok=0, failed=0, ignored=0, rejected=0) for _ in range(8)]

    def client(k):
        for i in range(2_000):
            try:
                b.call(_outcome, k, i)
            except CircuitOpenError:
                seen[k]["rejected"] += 1
            except ConnectionError:
                seen[k]["failed"] += 1
            except KeyError:
                seen[k]["ignored"] += 1
            else:
                seen[k]["ok"] += 1

    _run_threads(client, n=8)
    total = {key: sum(s[key] for s in seen) for key in seen[0]}
    m = b.metrics()
    assert m.rejected == total["rejected"] > 0
    assert m.failures == total["failed"]
    assert m.successes == total["ok"]
    assert m.ignored == total["ignored"]
    assert m.admitted == m.recorded + m.ignored and m.in_flight == 0
    kinds = {(e.from_state, e.state) for e in b.events() if e.kind == "transition"}
    assert ("CLOSED", "OPEN") in kinds and ("OPEN", "HALF_OPEN") in kinds


def _outcome(k, i):
    if (i // 50) % 3 == 0 and i % 2 == 0:  # bursts of failures
        raise ConnectionError("down")
    if i % 13 == 0:
        raise KeyError("ignored")
    return i


def test_a_slow_call_in_flight_does_not_block_other_threads():
    b = CircuitBreaker()
    entered, release = threading.Event(), threading.Event()

    def slow():
        entered.set()
        assert release.wait(JOIN_S)
        return "slow"

    results = []
    slow_thread = threading.Thread(target=lambda: results.append(b.call(slow)), daemon=True)
    slow_thread.start()
    assert entered.wait(JOIN_S)
    # the slow call holds no lock: another thread's calls all go through meanwhile
    others = threading.Thread(
        target=lambda: [b.call(lambda: None) for _ in range(1000)], daemon=True
    )
    others.start()
    others.join(JOIN_S)
    assert not others.is_alive(), "blocked behind the slow call"
    assert slow_thread.is_alive()
    m = b.metrics()  # readable too while the call is in flight
    assert (m.in_flight, m.successes) == (1, 1000)
    release.set()
    slow_thread.join(JOIN_S)
    assert results == ["slow"] and b.metrics().in_flight == 0


def test_a_hung_half_open_probe_lets_others_get_a_fast_rejection():
    b = _opened(_ticking_breaker(1))
    entered, release = threading.Event(), threading.Event()

    def probe():
        entered.set()
        release.wait(JOIN_S)

    t = threading.Thread(target=b.call, args=(probe,), daemon=True)
    t.start()
    assert entered.wait(JOIN_S)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.state is BreakerState.HALF_OPEN and info.value.retry_at is None
    release.set()
    t.join(JOIN_S)
    assert b.state is BreakerState.CLOSED


def test_listeners_called_from_many_threads_get_every_event_once():
    b = _ticking_breaker(2)
    got = []
    lock = threading.Lock()

    def listener(event):
        with lock:
            got.append(event)
        b.metrics()  # a listener may use the breaker

    b.subscribe(listener)

    def client(_):
        for i in range(500):
            if b.try_acquire(b.clock()):
                (b.on_error if i % 2 else b.on_success)(b.clock(), 0.0)

    _run_threads(client, n=8)
    assert len(got) == len(b.events()) > 0  # each event delivered once
    assert sorted((e.time, e.kind, e.state) for e in got) == sorted(
        (e.time, e.kind, e.state) for e in b.events()
    )


# -- asyncio ------------------------------------------------------------------------------------


def test_many_asyncio_tasks_through_decorator_and_async_with():
    # the tasks move in lockstep (200 failures in a row at each i % 5 == 0): a window wide
    # enough that the rate stays below 100 %, so every call is admitted
    b = CircuitBreaker(failure_rate_threshold=100, minimum_calls=1000, window_size=1000)

    @b
    async def work(i):
        await asyncio.sleep(0)
        if i % 5 == 0:
            raise ConnectionError("down")
        return i

    async def task(k):
        done = 0
        for i in range(50):
            try:
                await work(i)
            except ConnectionError:
                pass
            async with b:
                await asyncio.sleep(0)
            done += 1
        return done

    async def main():
        return await asyncio.gather(*(task(k) for k in range(200)))

    assert sum(asyncio.run(main())) == 200 * 50
    m = b.metrics()
    assert (m.admitted, m.in_flight, m.failures) == (200 * 100, 0, 200 * 10)


def test_a_slow_asyncio_task_in_flight_does_not_block_the_others():
    b = CircuitBreaker()

    async def main():
        release = asyncio.Event()
        entered = asyncio.Event()

        async def slow():
            entered.set()
            await release.wait()
            return "slow"

        async def fast(i):
            async with b:
                await asyncio.sleep(0)
            return await b.call(_async_identity, i)

        slow_task = asyncio.create_task(b.call(slow))
        await entered.wait()
        results = await asyncio.gather(*(fast(i) for i in range(100)))
        assert results == list(range(100))
        assert not slow_task.done()
        assert b.metrics().in_flight == 1
        release.set()
        return await slow_task

    assert asyncio.run(main()) == "slow"
    assert b.metrics().in_flight == 0


async def _async_identity(x):
    await asyncio.sleep(0)
    return x


def test_a_cancelled_asyncio_call_is_not_recorded_and_returns_its_permit():
    b = _opened(_ticking_breaker(1))

    async def main():
        gate = asyncio.Event()

        async def hang():
            await gate.wait()

        probe = asyncio.create_task(b.call(hang))
        await asyncio.sleep(0)
        assert b.state is BreakerState.HALF_OPEN
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        assert await b.call(_async_identity, 7) == 7  # the permit came back

    asyncio.run(main())
    m = b.metrics()
    assert (m.ignored, m.state) == (1, BreakerState.CLOSED)
