"""The drivers around the sans-I/O core: call(), the decorator, ``with`` and ``async with``,
fallbacks, CircuitOpenError, and the docstring examples."""

from __future__ import annotations

import asyncio
import doctest
import importlib
import inspect
import pickle

import pytest
from breaker_fakes import breaker, open_breaker

import distlab.breaker
from distlab.breaker import BreakerState, CircuitOpenError


def test_docstring_examples():
    modules = [distlab.breaker] + [
        importlib.import_module(f"distlab.breaker.{name}")
        for name in ("config", "core", "drivers", "model", "policy", "windows")
    ]
    attempted = 0
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 10


def test_call_passes_arguments_and_returns_the_result(clock):
    b = breaker(clock)
    assert b.call(lambda a, *, k: (a, k), 1, k=2) == (1, 2)
    assert b.metrics().successes == 1


def test_call_measures_durations_with_the_clock(clock):
    b = breaker(clock, slow_call_duration=1.0)

    def takes(seconds):
        clock.advance(seconds)

    b.call(takes, 1.0)
    b.call(takes, 1.5)
    with pytest.raises(ConnectionError):
        b.call(_fail_after, clock, 3.0)
    m = b.metrics()
    assert (m.slow, m.failures) == (2, 1)


def _fail_after(clock, seconds):
    clock.advance(seconds)
    raise ConnectionError("down")


def test_call_reraises_the_exception_itself(clock):
    b = breaker(clock)
    error = ConnectionError("down")
    with pytest.raises(ConnectionError) as info:
        b.call(_raise, error)
    assert info.value is error


def _raise(exc):
    raise exc


def test_decorator_keeps_the_function_metadata(clock):
    b = breaker(clock)

    @b
    def fetch(url: str, timeout: float = 1.0) -> str:
        """Fetch a URL."""
        return url

    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Fetch a URL."
    assert str(inspect.signature(fetch)) == "(url: 'str', timeout: 'float' = 1.0) -> 'str'"
    assert fetch.__wrapped__.__name__ == "fetch" and fetch.breaker is b
    assert fetch("x") == "x"

    @b
    async def afetch(url: str) -> str:
        """Fetch, asynchronously."""
        return url

    assert inspect.iscoroutinefunction(afetch)
    assert afetch.__name__ == "afetch" and afetch.__doc__ == "Fetch, asynchronously."
    assert asyncio.run(afetch("y")) == "y"


def test_decorator_rejects_what_is_not_callable(clock):
    with pytest.raises(TypeError, match="decorates a function"):
        breaker(clock)(42)


def test_circuit_open_error_carries_name_state_and_retry_at(clock):
    b = breaker(clock, name="payments", wait_in_open=30)
    opened = open_breaker(b, clock)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    error = info.value
    assert (error.name, error.state, error.retry_at) == ("payments", BreakerState.OPEN, opened + 30)
    assert "payments" in str(error) and "OPEN" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.name, copy.state, copy.retry_at) == ("payments", BreakerState.OPEN, opened + 30)


def test_fallback_replaces_the_rejection(clock):
    got = []

    def fallback(error):
        got.append(error)
        return "cached"

    b = breaker(clock, fallback=fallback, name="svc")
    open_breaker(b, clock)
    assert b.call(lambda: "fresh") == "cached"
    assert b(lambda: "fresh")() == "cached"
    assert all(isinstance(e, CircuitOpenError) and e.name == "svc" for e in got)
    assert b.metrics().rejected == 2


def test_async_fallback_is_awaited(clock):
    async def fallback(error):
        return f"fallback for {error.name}"

    b = breaker(clock, fallback=fallback, name="svc")
    open_breaker(b, clock)

    @b
    async def fetch():
        return "fresh"

    assert asyncio.run(fetch()) == "fallback for svc"


def test_with_block_records_success_and_error_and_reraises(clock):
    b = breaker(clock, minimum_calls=10, window_size=10)
    with b:
        clock.advance(0.5)
    with pytest.raises(ConnectionError):
        with b:
            raise ConnectionError("down")
    m = b.metrics()
    assert (m.successes, m.failures, m.in_flight) == (1, 1, 0)


def test_with_block_rejected_raises_without_running_the_block(clock):
    b = breaker(clock)
    open_breaker(b, clock)
    ran = []
    with pytest.raises(CircuitOpenError):
        with b:
            ran.append(1)
    assert ran == []


def test_nested_with_blocks_time_each_block(clock):
    b = breaker(clock, slow_call_duration=1.0, minimum_calls=10, window_size=10)
    other = breaker(clock, slow_call_duration=1.0, minimum_calls=10, window_size=10)
    with b:  # outer: 2.5 s, slow
        clock.advance(1.0)
        with b:  # inner: 0.5 s, not slow
            clock.advance(0.5)
            with other:  # another breaker in between: 0.2 s
                clock.advance(0.2)
        clock.advance(0.8)
    assert (b.metrics().successes, b.metrics().slow) == (2, 1)
    assert other.metrics().slow == 0


def test_async_with_in_interleaved_tasks_times_each_task(clock):
    b = breaker(clock, slow_call_duration=1.0, minimum_calls=10, window_size=10)

    async def block(seconds, gate):
        async with b:
            await gate.wait()
            clock.advance(seconds)

    async def main():
        g1, g2 = asyncio.Event(), asyncio.Event()
        t1 = asyncio.create_task(block(2.0, g1))  # starts first, ends last
        t2 = asyncio.create_task(block(0.1, g2))
        await asyncio.sleep(0)
        g2.set()
        await t2
        g1.set()
        await t1

    asyncio.run(main())
    m = b.metrics()
    assert (m.successes, m.slow) == (2, 1)


def test_call_of_a_coroutine_function_returns_a_coroutine(clock):
    b = breaker(clock)

    async def fetch(x):
        return x

    coro = b.call(fetch, 3)
    assert inspect.iscoroutine(coro)
    assert b.metrics().admitted == 0  # admitted when awaited, not before
    assert asyncio.run(coro) == 3
    assert b.metrics().successes == 1


def test_call_of_a_lambda_returning_a_coroutine_records_on_completion(clock):
    b = breaker(clock, minimum_calls=1, window_size=1)

    async def fail():
        raise ConnectionError("down")

    coro = b.call(lambda: fail())
    assert b.metrics().in_flight == 1
    with pytest.raises(ConnectionError):
        asyncio.run(coro)
    assert b.metrics().failures == 1 and b.state is BreakerState.OPEN


def test_rejected_async_call_raises(clock):
    b = breaker(clock)
    open_breaker(b, clock)

    async def fetch():
        return "never"

    with pytest.raises(CircuitOpenError):
        asyncio.run(b.call(fetch))


def test_repr_and_read_only_configuration(clock):
    b = breaker(clock, name="db", window_size=7)
    assert repr(b) == "<CircuitBreaker 'db' CLOSED>"
    assert b.window_size == 7 and b.name == "db" and b.clock is clock
    with pytest.raises(AttributeError):
        b.window_size = 3


def test_reset_keeps_calls_in_flight_counted(clock):
    b = breaker(clock)
    assert b.try_acquire(clock.now) and b.try_acquire(clock.now)
    b.on_success(clock.now, 0.0)
    b.reset()
    m = b.metrics()
    assert (m.admitted, m.recorded, m.in_flight) == (1, 0, 1)
    b.on_success(clock.now, 0.0)
    m = b.metrics()
    assert (m.admitted, m.recorded, m.in_flight) == (1, 1, 0)


def test_is_reexported_from_distlab():
    import distlab

    names = (
        "CircuitBreaker",
        "BreakerState",
        "CircuitOpenError",
        "BreakerMetrics",
        "exponential_wait",
    )
    exported = [n for n in names if hasattr(distlab, n)]
    assert exported == list(names)
    assert all(getattr(distlab, n) is getattr(distlab.breaker, n) for n in exported)
