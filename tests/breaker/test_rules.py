"""Conformance: one or more tests per rule of REFERENCES.md, "Circuit breaker" (resilience4j's
semantics), each named after its rule. A fake clock; nothing sleeps."""

from __future__ import annotations

import asyncio
import logging

import pytest
from breaker_fakes import FakeClock, breaker, fail, open_breaker, succeed, transitions

from distlab.breaker import (
    BreakerEvent,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    exponential_wait,
)
from distlab.observe import events_rows

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


# -- rule 1: what is recorded ---------------------------------------------------------------------


def test_rule1_successes_and_errors_are_recorded(clock):
    b = breaker(clock, minimum_calls=10, window_size=10)
    succeed(b)
    fail(b)
    fail(b, exc=RuntimeError("boom"))
    m = b.metrics()
    assert (m.recorded, m.successes, m.failures, m.window_calls, m.window_failures) == (
        3,
        1,
        2,
        3,
        2,
    )


def test_rule1_slow_means_strictly_greater_than_slow_call_duration(clock):
    b = breaker(clock, slow_call_duration=1.0, minimum_calls=10, window_size=10)
    succeed(b, duration=1.0)  # exactly at the threshold: not slow
    assert b.metrics().slow == 0
    succeed(b, duration=1.0 + 1e-9)
    fail(b, duration=5.0)  # an error can be slow too
    m = b.metrics()
    assert (m.slow, m.window_slow, m.successes, m.failures) == (2, 2, 2, 1)


def test_rule1_ignored_exceptions_are_not_recorded(clock):
    b = breaker(clock, ignore=(KeyError,), minimum_calls=1, window_size=1)
    fail(b, exc=KeyError("not a failure"))
    m = b.metrics()
    assert (m.recorded, m.ignored, m.window_calls, m.in_flight, m.state) == (0, 1, 0, 0, CLOSED)


def test_rule1_ignore_wins_over_record_on(clock):
    b = breaker(clock, record_on=LookupError, ignore=KeyError, minimum_calls=1, window_size=1)
    fail(b, exc=KeyError("ignored"))
    assert b.metrics().ignored == 1 and b.state is CLOSED
    fail(b, exc=IndexError("recorded"))
    assert b.state is OPEN


def test_rule1_record_on_other_exceptions_count_as_success(clock):
    b = breaker(clock, record_on=(ConnectionError, TimeoutError), minimum_calls=2, window_size=4)
    fail(b, exc=ValueError("a bad request, not the dependency's fault"))
    fail(b, exc=ValueError("again"))
    m = b.metrics()
    assert (m.successes, m.failures, m.failure_rate, b.state) == (2, 0, 0.0, CLOSED)
    fail(b, exc=ConnectionRefusedError())  # a subclass of ConnectionError
    assert b.state is CLOSED  # 1 of 3
    fail(b, exc=TimeoutError())  # 2 of 4
    assert b.state is OPEN


def test_rule1_record_on_and_ignore_accept_predicates(clock):
    b = breaker(
        clock,
        record_on=lambda e: getattr(e, "status", 0) >= 500,
        ignore=lambda e: getattr(e, "status", 0) == 404,
        minimum_calls=1,
        window_size=1,
    )

    class HTTPError(Exception):
        def __init__(self, status):
            self.status = status

    fail(b, exc=HTTPError(404))
    fail(b, exc=HTTPError(400))
    m = b.metrics()
    assert (m.ignored, m.successes, b.state) == (1, 1, CLOSED)
    fail(b, exc=HTTPError(503))
    assert b.state is OPEN


def test_rule1_on_error_without_exception_is_a_failure(clock):
    b = breaker(clock, minimum_calls=1, window_size=1)
    fail(b)
    assert b.metrics().failures == 1 and b.state is OPEN


def test_rule1_a_stopped_call_is_not_recorded_unless_record_on_names_it(clock):
    b = breaker(clock, minimum_calls=1, window_size=1)
    with pytest.raises(KeyboardInterrupt):
        b.call(_raise, KeyboardInterrupt())
    assert b.metrics().recorded == 0 and b.metrics().ignored == 1
    counted = breaker(
        clock, minimum_calls=1, window_size=1, record_on=(Exception, asyncio.CancelledError)
    )
    with pytest.raises(asyncio.CancelledError):
        counted.call(_raise, asyncio.CancelledError())
    assert counted.metrics().failures == 1 and counted.state is OPEN


def test_rule1_rejected_calls_are_not_recorded_but_counted_apart(clock):
    b = breaker(clock, minimum_calls=2, window_size=2)
    fail(b)
    fail(b)
    before = b.metrics()
    for _ in range(5):
        assert not b.try_acquire(clock.now)
    with pytest.raises(CircuitOpenError):
        b.call(lambda: "never called")
    m = b.metrics()
    assert m.rejected == 6
    assert (m.recorded, m.admitted, m.window_calls) == (before.recorded, before.admitted, 2)


def _raise(exc):
    raise exc


# -- rule 2: rates, the threshold, the minimum, the check after each call -------------------------


def test_rule2_failure_rate_is_errors_over_recorded_calls(clock):
    b = breaker(clock, failure_rate_threshold=100, minimum_calls=8, window_size=8)
    for outcome in "FSSFSSSS":
        (fail if outcome == "F" else succeed)(b)
    assert b.failure_rate == pytest.approx(25.0)
    assert b.slow_call_rate == 0.0


def test_rule2_slow_call_rate_is_slow_over_recorded_calls(clock):
    b = breaker(clock, slow_call_duration=1.0, minimum_calls=4, window_size=4)
    succeed(b, 2.0)
    fail(b, 0.5)
    succeed(b, 0.5)
    succeed(b, 0.5)
    assert (b.failure_rate, b.slow_call_rate) == (25.0, 25.0)


@pytest.mark.parametrize("order", ["successes first", "failures first"])
def test_rule2_exactly_at_the_failure_threshold_opens(clock, order):
    b = breaker(clock, failure_rate_threshold=50, minimum_calls=10, window_size=10)
    outcomes = "SSSSSFFFFF" if order == "successes first" else "FFFFFSSSSS"
    for i, outcome in enumerate(outcomes):
        assert b.state is CLOSED, f"opened early, after {i} calls"
        (fail if outcome == "F" else succeed)(b)
    assert b.state is OPEN
    assert transitions(b)[-1][1:] == ("CLOSED", "OPEN")
    assert b.events()[-1].failure_rate == 50.0


def test_rule2_just_below_the_failure_threshold_does_not_open(clock):
    b = breaker(clock, failure_rate_threshold=50.01, minimum_calls=10, window_size=10)
    for outcome in "SSSSSFFFFF":
        (fail if outcome == "F" else succeed)(b)
    assert b.state is CLOSED and b.failure_rate == 50.0
    b2 = breaker(clock, failure_rate_threshold=50, minimum_calls=10, window_size=10)
    for outcome in "SSSSSSFFFF":
        (fail if outcome == "F" else succeed)(b2)
    assert b2.state is CLOSED and b2.failure_rate == 40.0


def test_rule2_exactly_at_the_slow_threshold_opens_and_just_below_does_not(clock):
    b = breaker(
        clock, slow_call_rate_threshold=50, slow_call_duration=1.0, minimum_calls=4, window_size=4
    )
    succeed(b, 2.0)
    succeed(b, 0.1)
    succeed(b, 0.1)
    assert b.state is CLOSED
    succeed(b, 2.0)  # 2 slow of 4: 50 %
    assert b.state is OPEN
    below = breaker(
        clock, slow_call_rate_threshold=51, slow_call_duration=1.0, minimum_calls=4, window_size=4
    )
    for d in (2.0, 0.1, 0.1, 2.0):
        succeed(below, d)
    assert below.state is CLOSED


def test_rule2_slow_calls_open_at_the_default_100_percent(clock):
    b = breaker(clock, slow_call_duration=1.0, minimum_calls=3, window_size=3)
    for _ in range(3):
        succeed(b, 1.5)  # slow successes: the failure rate stays 0
    assert b.state is OPEN and b.events()[-1].slow_call_rate == 100.0


def test_rule2_nothing_is_decided_below_minimum_calls(clock):
    b = breaker(clock, minimum_calls=10, window_size=20)
    for _ in range(9):
        fail(b)
    assert b.state is CLOSED
    assert b.failure_rate is None and b.slow_call_rate is None
    assert b.metrics().window_failures == 9
    fail(b)
    assert b.state is OPEN


def test_rule2_count_window_needs_at_most_window_size_calls(clock):
    b = breaker(clock, minimum_calls=100, window_size=5)  # min(minimum_calls, window_size) = 5
    for _ in range(4):
        fail(b)
    assert b.state is CLOSED
    fail(b)
    assert b.state is OPEN


def test_rule2_time_window_needs_minimum_calls_whatever_its_size(clock):
    b = breaker(clock, window_type="time", window_size=2, minimum_calls=5)
    for _ in range(4):
        fail(b)
    assert b.state is CLOSED and b.failure_rate is None
    fail(b)
    assert b.state is OPEN


@pytest.mark.parametrize("driver", ["sans-io", "call", "decorator", "with"])
def test_rule2_the_check_runs_after_each_recorded_call_even_a_success(clock, driver):
    # 9 failures below the minimum decide nothing; the 10th call, a success, reaches it: 90 %.
    b = breaker(clock, minimum_calls=10, window_size=10)
    for _ in range(9):
        fail(b)
    assert b.state is CLOSED
    clock.advance(1.0)
    if driver == "sans-io":
        succeed(b)
    elif driver == "call":
        b.call(lambda: None)
    elif driver == "decorator":
        b(lambda: None)()
    else:
        with b:
            pass
    assert b.state is OPEN
    assert transitions(b) == [(1001.0, "CLOSED", "OPEN")]
    assert b.events()[-1].failure_rate == 90.0


def test_rule2_the_check_runs_after_each_call_not_only_at_the_minimum(clock):
    b = breaker(clock, minimum_calls=4, window_size=100)
    for outcome in "SSSSFFF":  # 3 of 7 failed: below 50 %
        (fail if outcome == "F" else succeed)(b)
    assert b.state is CLOSED
    fail(b)  # 4 of 8
    assert b.state is OPEN


# -- rule 3: windows ------------------------------------------------------------------------------


def test_rule3_count_window_is_a_ring_the_newest_evicts_the_oldest(clock):
    b = breaker(clock, failure_rate_threshold=75, minimum_calls=4, window_size=4)
    seen = []
    for outcome in "FSSSFF":
        (fail if outcome == "F" else succeed)(b)
        m = b.metrics()
        seen.append((m.window_calls, m.window_failures))
    assert seen == [(1, 1), (2, 1), (3, 1), (4, 1), (4, 1), (4, 2)]  # the first F fell out
    assert b.state is CLOSED
    fail(b)  # S F F F: 75 %
    assert b.state is OPEN


def test_rule3_count_window_evicts_slow_calls_too(clock):
    b = breaker(
        clock, slow_call_duration=1.0, slow_call_rate_threshold=100, minimum_calls=3, window_size=3
    )
    succeed(b, 5.0)
    for _ in range(3):
        succeed(b, 0.1)
    m = b.metrics()
    assert (m.window_slow, m.slow, m.slow_call_rate) == (0, 1, 0.0)


def test_rule3_time_window_has_one_second_buckets_that_age(clock):
    clock.set(100.0)
    b = breaker(
        clock, window_type="time", window_size=10, minimum_calls=1, failure_rate_threshold=100
    )
    succeed(b)  # second 100
    clock.set(100.99)
    fail(b)  # second 100 as well
    clock.set(105.5)
    succeed(b)  # second 105
    assert b.metrics().window_calls == 3
    clock.set(109.999)  # the window is seconds 100..109
    assert b.metrics().window_calls == 3
    clock.set(110.0)  # seconds 101..110: second 100's bucket is gone, both its calls with it
    m = b.metrics()
    assert (m.window_calls, m.window_failures, m.failure_rate) == (1, 0, 0.0)
    clock.set(115.0)
    assert b.metrics().window_calls == 0
    assert b.metrics().recorded == 3  # the totals do not age


def test_rule3_time_window_forgets_everything_after_a_long_silence(clock):
    b = breaker(clock, window_type="time", window_size=5, minimum_calls=3)
    for _ in range(2):
        fail(b)
    clock.advance(1000)
    fail(b)
    fail(b)
    assert b.state is CLOSED and b.metrics().window_calls == 2


def test_rule3_time_window_aging_can_raise_the_rate_and_a_success_then_opens(clock):
    clock.set(0.0)
    b = breaker(clock, window_type="time", window_size=10, minimum_calls=5)
    for _ in range(10):
        succeed(b)  # second 0
    clock.set(5.0)
    for _ in range(5):
        fail(b)  # second 5: 5 of 15, 33 %
    assert b.state is CLOSED
    clock.set(10.5)  # second 0 falls out: 5 failures of 5
    succeed(b)  # 5 of 6 failed: the check after this success opens it
    assert b.state is OPEN
    assert transitions(b) == [(10.5, "CLOSED", "OPEN")]


def test_rule3_time_window_works_with_negative_clock_times(clock):
    clock.set(-50.0)
    b = breaker(clock, window_type="time", window_size=3, minimum_calls=2)
    fail(b)
    clock.set(-40.0)
    fail(b)
    assert b.state is CLOSED and b.metrics().window_calls == 1


# -- rule 4: OPEN and its deadline ----------------------------------------------------------------


def test_rule4_open_rejects_until_the_wait_has_elapsed(clock):
    b = breaker(clock, wait_in_open=10)
    opened = open_breaker(b, clock)
    for t in (0.0, 1.0, 9.999):
        clock.set(opened + t)
        assert not b.try_acquire(clock.now)
    assert b.metrics().rejected == 3
    assert b.state is OPEN


def test_rule4_a_call_exactly_at_the_deadline_is_still_rejected(clock):
    b = breaker(clock, wait_in_open=10)
    opened = open_breaker(b, clock)
    clock.set(opened + 10)
    assert not b.try_acquire(clock.now)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.retry_at == opened + 10
    assert b.state is OPEN


def test_rule4_the_first_call_after_the_deadline_moves_to_half_open(clock):
    b = breaker(clock, wait_in_open=10)
    opened = open_breaker(b, clock)
    clock.set(opened + 25)
    assert b.state is OPEN  # without automatic transition, only a call moves it
    clock.set(opened + 30)
    assert b.try_acquire(clock.now)
    assert b.state is HALF_OPEN
    assert transitions(b)[-1] == (opened + 30, "OPEN", "HALF_OPEN")


def test_rule4_automatic_transition_at_the_deadline(clock):
    b = breaker(clock, wait_in_open=10, automatic_transition=True)
    opened = open_breaker(b, clock)
    clock.set(opened + 10)
    assert b.state is OPEN  # exactly at the deadline: still OPEN
    clock.set(opened + 10.5)
    assert b.state is HALF_OPEN  # no call needed
    assert transitions(b)[-1] == (opened + 10, "OPEN", "HALF_OPEN")  # dated as a timer would


# -- rule 5: HALF_OPEN ----------------------------------------------------------------------------


def _half_open(b, clock, wait=10.0):
    """Open ``b`` and move the clock past its (first) wait: the next call goes to HALF_OPEN."""
    opened = open_breaker(b, clock)
    clock.set(opened + wait + 1)
    return clock.now


def test_rule5_half_open_admits_at_most_its_permits(clock):
    b = breaker(clock, permitted_calls_in_half_open=3)
    _half_open(b, clock)
    assert [b.try_acquire(clock.now) for _ in range(5)] == [True, True, True, False, False]
    assert b.state is HALF_OPEN
    assert [e.state for e in b.events()[-2:]] == ["HALF_OPEN", "HALF_OPEN"]  # rejections


def test_rule5_permits_are_not_returned_on_completion(clock):
    b = breaker(clock, permitted_calls_in_half_open=3)
    _half_open(b, clock)
    assert b.try_acquire(clock.now) and b.try_acquire(clock.now)
    b.on_success(clock.now, 0.01)
    assert b.try_acquire(clock.now)  # the third permit
    b.on_success(clock.now, 0.01)
    assert not b.try_acquire(clock.now)  # two back, one out: no more permits
    assert b.state is HALF_OPEN


def test_rule5_half_open_judges_its_probes_only_below_threshold_closes(clock):
    b = breaker(clock, permitted_calls_in_half_open=4, failure_rate_threshold=50)
    t = _half_open(b, clock)  # the window before was 100 % failures
    for outcome in "FSSS":
        (fail if outcome == "F" else succeed)(b)
    assert b.state is CLOSED
    assert transitions(b)[-1] == (t, "HALF_OPEN", "CLOSED")
    assert b.events()[-1].failure_rate == 25.0


def test_rule5_half_open_at_threshold_reopens(clock):
    b = breaker(clock, permitted_calls_in_half_open=4, failure_rate_threshold=50)
    _half_open(b, clock)
    for outcome in "SFSF":
        (fail if outcome == "F" else succeed)(b)
    assert b.state is OPEN
    assert transitions(b)[-1][1:] == ("HALF_OPEN", "OPEN")
    assert b.events()[-1].failure_rate == 50.0


def test_rule5_half_open_slow_probes_reopen(clock):
    b = breaker(
        clock, permitted_calls_in_half_open=2, slow_call_duration=1.0, slow_call_rate_threshold=50
    )
    _half_open(b, clock)
    succeed(b, 3.0)
    succeed(b, 0.1)
    assert b.state is OPEN


def test_rule5_half_open_with_too_few_back_stays(clock):
    b = breaker(clock, permitted_calls_in_half_open=3)
    _half_open(b, clock)
    assert b.try_acquire(clock.now) and b.try_acquire(clock.now) and b.try_acquire(clock.now)
    b.on_error(clock.now, 0.01)
    b.on_error(clock.now, 0.01)  # 2 of 3 failed already, but only 2 are back
    assert b.state is HALF_OPEN
    assert not b.try_acquire(clock.now)
    b.on_success(clock.now, 0.01)
    assert b.state is OPEN  # 2 of 3: 67 %


def test_rule5_an_ignored_probe_gives_its_permit_back(clock):
    b = breaker(clock, permitted_calls_in_half_open=1, ignore=KeyError)
    _half_open(b, clock)
    assert b.try_acquire(clock.now)
    assert not b.try_acquire(clock.now)
    b.on_error(
        clock.now, 0.01, KeyError()
    )  # never recorded: the half-open would otherwise wait forever
    assert b.try_acquire(clock.now)
    b.on_success(clock.now, 0.01)
    assert b.state is CLOSED


def test_rule5_max_wait_in_half_open_reopens_a_wedged_half_open(clock):
    b = breaker(clock, permitted_calls_in_half_open=1, max_wait_in_half_open=5)
    t = _half_open(b, clock)
    assert b.try_acquire(clock.now)  # a probe that never comes back
    clock.set(t + 5)
    assert b.state is HALF_OPEN  # not yet after
    clock.set(t + 5.5)
    assert b.state is OPEN
    assert transitions(b)[-1] == (t + 5, "HALF_OPEN", "OPEN")
    b.on_success(clock.now, 0.01)  # the hung probe comes back at last: too late to decide anything
    assert b.state is OPEN


def test_rule5_a_late_probe_does_not_decide_after_the_max_wait(clock):
    b = breaker(clock, permitted_calls_in_half_open=1, max_wait_in_half_open=5, wait_in_open=10)
    t = _half_open(b, clock)
    assert b.try_acquire(clock.now)
    clock.set(t + 7)  # nobody looked at the breaker in between
    b.on_success(clock.now, 7.0)
    assert b.state is OPEN
    assert transitions(b)[-1] == (t + 5, "HALF_OPEN", "OPEN")


def test_rule5_without_max_wait_a_hung_probe_keeps_half_open(clock):
    b = breaker(clock, permitted_calls_in_half_open=1)
    t = _half_open(b, clock)
    assert b.try_acquire(clock.now)
    clock.set(t + 1e6)
    assert b.state is HALF_OPEN and not b.try_acquire(clock.now)


# -- rule 6: fresh window on CLOSED, growing waits ------------------------------------------------


def test_rule6_entering_closed_starts_a_fresh_empty_window(clock):
    b = breaker(clock, minimum_calls=4, window_size=4, permitted_calls_in_half_open=1)
    _half_open(b, clock)
    succeed(b)
    assert b.state is CLOSED
    m = b.metrics()
    assert (m.window_calls, m.window_failures, m.failure_rate) == (0, 0, None)
    for _ in range(3):
        fail(b)  # the 4 failures from before are forgotten: 3 are below the minimum
    assert b.state is CLOSED
    fail(b)
    assert b.state is OPEN


def test_rule6_reset_starts_a_fresh_window_too(clock):
    b = breaker(clock, minimum_calls=4, window_size=4)
    for _ in range(3):
        fail(b)
    b.reset()
    for _ in range(3):
        fail(b)
    assert b.state is CLOSED


def test_rule6_exponential_waits_grow_with_each_opening_in_a_row(clock):
    b = breaker(clock, wait_in_open=exponential_wait(10, 2, 60), permitted_calls_in_half_open=1)
    opened = open_breaker(b, clock)
    waits = []
    for _ in range(5):
        with pytest.raises(CircuitOpenError) as info:
            b.call(lambda: None)
        waits.append(info.value.retry_at - opened)
        clock.set(info.value.retry_at + 1)
        fail(b)  # the probe fails: reopen
        opened = clock.now
    assert waits == [10, 20, 40, 60, 60]


def test_rule6_a_custom_wait_function_gets_the_openings_in_a_row(clock):
    seen = []

    def wait(openings):
        seen.append(openings)
        return 5.0 * openings

    b = breaker(clock, wait_in_open=wait, permitted_calls_in_half_open=1)
    seen.clear()  # the constructor checks wait(1)
    opened = open_breaker(b, clock)
    clock.set(opened + 5.5)
    fail(b)  # reopens: 2nd opening in a row, 10 s
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.retry_at == clock.now + 10
    assert seen == [1, 2]


def test_rule6_closing_resets_the_growing_wait(clock):
    b = breaker(clock, wait_in_open=exponential_wait(10, 2, 60), permitted_calls_in_half_open=1)
    opened = open_breaker(b, clock)
    clock.set(opened + 11)
    fail(b)  # second opening: 20 s
    clock.advance(21)
    succeed(b)  # closes
    assert b.state is CLOSED
    opened = open_breaker(b, clock)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.retry_at == opened + 10  # the first wait again


def test_rule6_max_wait_reopening_grows_the_wait_as_well(clock):
    b = breaker(
        clock,
        wait_in_open=exponential_wait(10, 2, 60),
        max_wait_in_half_open=1,
        permitted_calls_in_half_open=1,
    )
    t = _half_open(b, clock)
    assert b.try_acquire(clock.now)  # hangs
    clock.set(t + 2)  # reopened at t + 1, for 20 s (the second opening in a row)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.retry_at == t + 1 + 20


# -- rule 7: the extra states ---------------------------------------------------------------------


def test_rule7_forced_open_rejects_everything_until_reset(clock):
    b = breaker(clock, name="db")
    b.force_open()
    clock.advance(1e6)
    assert not b.try_acquire(clock.now)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert (info.value.state, info.value.retry_at, info.value.name) == (
        BreakerState.FORCED_OPEN,
        None,
        "db",
    )
    assert b.state is BreakerState.FORCED_OPEN
    b.reset()
    assert b.state is CLOSED and b.try_acquire(clock.now)


def test_rule7_disabled_admits_everything_and_records_nothing(clock):
    b = breaker(clock, minimum_calls=2, window_size=2)
    fail(b)
    b.disable()
    for _ in range(100):
        fail(b)
    m = b.metrics()
    assert m.state is BreakerState.DISABLED
    assert (m.window_calls, m.window_failures) == (1, 1)  # the window is as it was
    assert [e.state for e in b.events()] == ["DISABLED"]  # no transition, no rejection


def test_rule7_metrics_only_records_but_never_trips(clock):
    b = breaker(clock, minimum_calls=2, window_size=10)
    b.metrics_only()
    for _ in range(50):
        fail(b)
    m = b.metrics()
    assert m.state is BreakerState.METRICS_ONLY
    assert (m.window_calls, m.failure_rate) == (10, 100.0)
    assert len(b.events()) == 1


def test_rule7_the_course_breaker_has_the_extra_states_too(clock):
    b = CircuitBreaker.consecutive(failures=2, wait_in_open=5, clock=clock)
    b.metrics_only()
    for _ in range(5):
        fail(b)
    assert b.state is BreakerState.METRICS_ONLY
    b.force_open()
    assert not b.try_acquire(clock.now)


# -- rule 8: events -------------------------------------------------------------------------------


def test_rule8_every_transition_and_rejection_is_an_event_with_its_time(clock):
    clock.set(0.0)
    b = breaker(clock, wait_in_open=10, permitted_calls_in_half_open=1, name="svc")
    for _ in range(4):
        fail(b)  # opens at 0
    clock.set(3.0)
    assert not b.try_acquire(clock.now)
    clock.set(11.0)
    assert b.try_acquire(clock.now)
    assert not b.try_acquire(clock.now)
    b.on_success(clock.now, 0.1)
    b.force_open()
    b.reset()
    got = [(e.time, e.kind, e.from_state, e.state) for e in b.events()]
    assert got == [
        (0.0, "transition", "CLOSED", "OPEN"),
        (3.0, "rejected", None, "OPEN"),
        (11.0, "transition", "OPEN", "HALF_OPEN"),
        (11.0, "rejected", None, "HALF_OPEN"),
        (11.0, "transition", "HALF_OPEN", "CLOSED"),
        (11.0, "transition", "CLOSED", "FORCED_OPEN"),
        (11.0, "transition", "FORCED_OPEN", "CLOSED"),
    ]
    assert {e.source for e in b.events()} == {"svc"}
    assert isinstance(b.events()[0], BreakerEvent)
    assert set(events_rows(b.events())[0]) == {
        "time",
        "kind",
        "source",
        "state",
        "from_state",
        "failure_rate",
        "slow_call_rate",
    }
    assert b.events()[0].failure_rate == 100.0


def test_rule8_events_make_a_dataframe(clock):
    import pandas as pd

    b = breaker(clock)
    open_breaker(b, clock)
    b.try_acquire(clock.now)
    frame = pd.DataFrame(events_rows(b.events()))
    assert list(frame["kind"]) == ["transition", "rejected"]


def test_rule8_listeners_get_every_event_in_order(clock):
    b = breaker(clock, permitted_calls_in_half_open=1)
    got = []
    b.subscribe(got.append)
    _half_open(b, clock)
    assert b.try_acquire(clock.now) and not b.try_acquire(clock.now)
    assert got == b.events()
    assert [e.state for e in got] == ["OPEN", "HALF_OPEN", "HALF_OPEN"]


def test_rule8_listeners_run_outside_the_lock_and_may_use_the_breaker(clock):
    b = breaker(clock)
    seen = []
    b.subscribe(lambda e: seen.append((e.state, b.state, b.metrics().rejected)))
    open_breaker(b, clock)
    assert seen == [("OPEN", OPEN, 0)]  # no deadlock


def test_rule8_a_failing_listener_is_logged_and_does_not_break_the_call(clock, caplog):
    b = breaker(clock)
    got = []

    def broken(event):
        raise RuntimeError("listener bug")

    b.subscribe(broken)
    b.subscribe(got.append)
    with caplog.at_level(logging.ERROR, logger="distlab.breaker"):
        open_breaker(b, clock)
    assert b.state is OPEN and len(got) == 1
    assert "listener bug" in caplog.text


def test_rule8_unsubscribe(clock):
    b = breaker(clock)
    got = []
    unsubscribe = b.subscribe(got.append)
    unsubscribe()
    open_breaker(b, clock)
    assert got == [] and len(b.events()) == 1


def test_rule8_events_keep_the_last_max_events(clock):
    b = breaker(clock, max_events=3)
    open_breaker(b, clock)
    for _ in range(10):
        clock.advance(0.1)
        b.try_acquire(clock.now)
    events = b.events()
    assert len(events) == 3 and all(e.kind == "rejected" for e in events)
    assert events[-1].time == pytest.approx(clock.now)


def test_rule8_event_times_never_go_back(clock):
    b = breaker(clock, automatic_transition=True, max_wait_in_half_open=2, wait_in_open=3)
    open_breaker(b, clock)
    clock.advance(100)  # many timed transitions happened while nobody looked
    b.try_acquire(clock.now)
    times = [e.time for e in b.events()]
    assert times == sorted(times) and len(times) > 10


def test_fake_clock_is_what_the_breaker_reads():
    c = FakeClock(5.0)
    b = breaker(c)
    assert b.clock is c
