"""The course preset, ``CircuitBreaker.consecutive``, behaves exactly as the course's JavaScript
class (shared/course, "2. Circuit Breaker"): a line-by-line Python transliteration of that class
is the oracle, and both are driven by the same random calls, outcomes and clock steps."""

from __future__ import annotations

import asyncio

import pytest
from breaker_fakes import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.breaker import CircuitBreaker, CircuitOpenError


class JsCircuitBreaker:
    """The course's class, transliterated; ``Date.now()`` is the ``now`` argument.

    ``call`` is async in JS: everything before ``await fn()`` is :meth:`call_start` (``False``
    where JS throws 'Circuit breaker is OPEN'), and the await resolves later with
    :meth:`onSuccess` or :meth:`onFailure`, so calls may overlap.
    """

    def __init__(self, threshold: int = 5, timeout: float = 60.0, now: float = 0.0) -> None:
        self.failureCount = 0
        self.threshold = threshold
        self.timeout = timeout
        self.state = "CLOSED"  # CLOSED, OPEN, HALF_OPEN
        self.nextAttempt = now

    def call_start(self, now: float) -> bool:
        if self.state == "OPEN":
            if now < self.nextAttempt:
                return False  # throw new Error('Circuit breaker is OPEN')
            self.state = "HALF_OPEN"
        return True

    def onSuccess(self) -> None:
        self.failureCount = 0
        self.state = "CLOSED"

    def onFailure(self, now: float) -> None:
        self.failureCount += 1
        if self.failureCount >= self.threshold:
            self.state = "OPEN"
            self.nextAttempt = now + self.timeout


WAIT = 10.0
ops = st.lists(
    st.one_of(
        st.tuples(st.just("start")),
        st.tuples(st.just("finish"), st.integers(0, 7), st.booleans()),
        st.tuples(
            st.just("advance"), st.sampled_from([0.0, 0.5, 1.0, 3.0, WAIT - 1, WAIT, WAIT + 1])
        ),
    ),
    max_size=80,
)


@settings(max_examples=300)
@given(threshold=st.integers(1, 4), ops=ops)
def test_course_preset_matches_the_course_code_on_overlapping_calls(threshold, ops):
    clock = FakeClock(0.0)
    ours = CircuitBreaker.consecutive(failures=threshold, wait_in_open=WAIT, clock=clock)
    js = JsCircuitBreaker(threshold, WAIT, now=clock.now)
    in_flight = 0
    for op in ops:
        if op[0] == "start":
            admitted = js.call_start(clock.now)
            assert ours.try_acquire(clock.now) == admitted
            in_flight += admitted
        elif op[0] == "finish" and in_flight:
            in_flight -= 1
            if op[2]:
                js.onSuccess()
                ours.on_success(clock.now, 123.0)  # durations never matter to the course's breaker
            else:
                js.onFailure(clock.now)
                ours.on_error(clock.now, 0.0, RuntimeError("down"))
        elif op[0] == "advance":
            clock.advance(op[1])
        assert ours.state.value == js.state, op
    assert ours.metrics().in_flight == in_flight


@settings(max_examples=100)
@given(
    threshold=st.integers(1, 4),
    calls=st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 1.0, WAIT, WAIT + 0.5])), max_size=40
    ),
)
def test_course_preset_matches_the_course_code_through_call_sync_and_async(threshold, calls):
    clock = FakeClock(0.0)
    ours = CircuitBreaker.consecutive(failures=threshold, wait_in_open=WAIT, clock=clock)
    ours_async = CircuitBreaker.consecutive(failures=threshold, wait_in_open=WAIT, clock=clock)
    js = JsCircuitBreaker(threshold, WAIT, now=clock.now)

    def work(ok):
        if not ok:
            raise ConnectionError("down")
        return "data"

    async def awork(ok):
        return work(ok)

    async def run_async(ok):
        return await ours_async.call(awork, ok)

    for ok, step in calls:
        clock.advance(step)
        expected = "rejected"
        if js.call_start(clock.now):
            if ok:
                js.onSuccess()
                expected = "data"
            else:
                js.onFailure(clock.now)
                expected = "error"
        for run in (lambda ok=ok: ours.call(work, ok), lambda ok=ok: asyncio.run(run_async(ok))):
            try:
                got = run()
            except CircuitOpenError:
                got = "rejected"
            except ConnectionError:
                got = "error"
            assert got == expected
        assert ours.state.value == js.state == ours_async.state.value


def test_course_preset_numbers_5_failures_60_seconds():
    clock = FakeClock(0.0)
    course = CircuitBreaker.consecutive(clock=clock)  # the course's defaults
    js = JsCircuitBreaker(now=0.0)
    for _ in range(4):
        assert course.try_acquire(clock.now)
        course.on_error(clock.now, 0.0)
        js.onFailure(clock.now)
    assert course.state.value == js.state == "CLOSED"
    course.try_acquire(clock.now)
    course.on_error(clock.now, 0.0)
    js.onFailure(clock.now)
    assert course.state.value == js.state == "OPEN"
    clock.set(59.999)
    assert not course.try_acquire(clock.now) and not js.call_start(clock.now)
    clock.set(60.0)  # the course admits a call exactly at nextAttempt
    assert course.try_acquire(clock.now) and js.call_start(clock.now)
    assert course.try_acquire(clock.now)  # and every call after it, in HALF_OPEN
    course.on_success(clock.now, 0.0)
    assert course.state.value == "CLOSED"


def test_course_preset_never_counts_slow_calls_nor_uses_a_window():
    clock = FakeClock(0.0)
    course = CircuitBreaker.consecutive(failures=2, clock=clock)
    for _ in range(100):
        assert course.try_acquire(clock.now)
        course.on_success(clock.now, 1e9)
    m = course.metrics()
    assert course.state.value == "CLOSED"
    assert m.failure_rate is None and m.slow_call_rate is None


@pytest.mark.parametrize("failures", [0, -1])
def test_course_preset_rejects_a_bad_failure_count(failures):
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker.consecutive(failures=failures)
