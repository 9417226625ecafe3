"""RetryPolicy and its sync driver, with a fake clock and a fake sleep (nothing sleeps)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import random

import numpy as np
import pytest
from retry_fakes import FakeTime, Script, make

from distlab.retry import (
    ConstantBackoff,
    Decision,
    ExponentialBackoff,
    NoBackoff,
    RetryBudget,
    RetryEvent,
    RetryMetrics,
    RetryPolicy,
    RetryState,
)


def give_ups(policy: RetryPolicy) -> list[tuple]:
    """(attempt, error text, reason) of every give_up event."""
    return [(e.attempt, e.error, e.reason) for e in policy.events() if e.kind == "give_up"]


# -- attempts and retry_on ------------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 2, 3, 7])
def test_max_attempts_respected(fake_time, max_attempts):
    fn = Script([ConnectionError], fake_time)
    policy = make(fake_time, max_attempts=max_attempts)
    with pytest.raises(ConnectionError):
        policy.call(fn)
    assert fn.calls == max_attempts
    assert fake_time.sleeps == [1.0] * (max_attempts - 1)


def test_succeeds_after_failures(fake_time):
    fn = Script([TimeoutError, TimeoutError, "ok"], fake_time)
    assert make(fake_time, max_attempts=5).call(fn) == "ok"
    assert fn.calls == 3
    assert fake_time.sleeps == [1.0, 1.0]


@pytest.mark.parametrize(
    "retry_on, retried, not_retried",
    [
        (ConnectionError, ConnectionRefusedError, ValueError),  # subclasses count
        ((ConnectionError, TimeoutError), TimeoutError, KeyError),
        (lambda exc: "transient" in str(exc), OSError("transient glitch"), OSError("disk on fire")),
        (Exception, KeyError, None),
    ],
)
def test_retry_on_types_tuples_and_predicates(fake_time, retry_on, retried, not_retried):
    fn = Script([retried, "ok"], fake_time)
    assert make(fake_time, retry_on=retry_on).call(fn) == "ok"
    assert fn.calls == 2
    if not_retried is not None:
        fn = Script([not_retried, "never reached"], fake_time)
        with pytest.raises(
            type(not_retried) if isinstance(not_retried, BaseException) else not_retried
        ):
            make(fake_time, retry_on=retry_on).call(fn)
        assert fn.calls == 1


def test_non_matching_exception_propagates_at_once(fake_time):
    policy = make(fake_time, max_attempts=5, retry_on=ConnectionError)
    fn = Script([ValueError], fake_time)
    with pytest.raises(ValueError) as info:
        policy.call(fn)
    assert fn.calls == 1 and fake_time.sleeps == []
    assert info.value is fn.raised[-1]
    assert give_ups(policy) == [(1, "ValueError: attempt 1", "not retryable")]
    assert policy.metrics() == RetryMetrics(calls=1, attempts=1, retries=0, successes=0, give_ups=1)


def test_base_exceptions_are_never_retried(fake_time):
    policy = make(fake_time, retry_on=BaseException)
    fn = Script([KeyboardInterrupt, "ok"], fake_time)
    with pytest.raises(KeyboardInterrupt):
        policy.call(fn)
    assert fn.calls == 1
    assert policy.metrics().calls == 1 and policy.metrics().give_ups == 1


# -- retry_on_result ------------------------------------------------------------------------------


def test_retry_on_result(fake_time):
    fn = Script([None, None, 42], fake_time)
    seen = []
    policy = make(fake_time, max_attempts=5, retry_on_result=lambda r: seen.append(r) or r is None)
    assert policy.call(fn) == 42
    assert fn.calls == 3
    assert seen == [None, None, 42]  # the predicate sees every result exactly once
    assert policy.metrics() == RetryMetrics(
        calls=1, attempts=3, retries=2, successes=1, give_ups=0, total_wait=2.0
    )


def test_refused_result_on_the_last_attempt_is_returned(fake_time):
    policy = make(fake_time, max_attempts=2, retry_on_result=lambda r: r == "busy")
    assert policy.call(Script(["busy"], fake_time)) == "busy"
    assert give_ups(policy) == [(2, "result refused by retry_on_result", "attempts")]
    assert policy.events()[-1].outcome == "error"
    assert policy.metrics().give_ups == 1 and policy.metrics().successes == 0


def test_result_then_exception_mix(fake_time):
    fn = Script(["busy", ConnectionError, "fine"], fake_time)
    policy = make(fake_time, max_attempts=3, retry_on_result=lambda r: r == "busy")
    assert policy.call(fn) == "fine"
    assert fn.calls == 3


# -- deadline -------------------------------------------------------------------------------------


def test_deadline_no_retry_begins_after_it(fake_time):
    # attempts take 0.2 s, waits are 1 s; deadline 2.5 s after the first attempt begins
    t0 = fake_time.now
    policy = make(fake_time, max_attempts=10, deadline=2.5)
    fn = Script([TimeoutError], fake_time, duration=0.2)
    with pytest.raises(TimeoutError) as info:
        policy.call(fn)
    assert [round(s - t0, 9) for s in fn.starts] == [0.0, 1.2, 2.4]  # a 4th would begin at 3.6
    assert give_ups(policy) == [(3, "TimeoutError: attempt 3", "deadline")]
    assert policy.events()[-1].outcome == "timeout"
    assert info.value.retry_attempts == 3
    assert "(deadline)" in info.value.__notes__[-1]


def test_retry_starting_exactly_at_the_deadline_is_allowed(fake_time):
    t0 = fake_time.now
    fn = Script([TimeoutError, TimeoutError, "ok"], fake_time, duration=0.5)
    policy = make(fake_time, max_attempts=3, deadline=3.0)  # starts at 0, 1.5, 3.0
    assert policy.call(fn) == "ok"
    assert [s - t0 for s in fn.starts] == [0.0, 1.5, 3.0]


def test_deadline_holds_when_sleep_overruns():
    # the wait is planned to end at the deadline exactly, but the sleep wakes up late
    fake = FakeTime(oversleep=0.01)
    t0 = fake.now
    policy = make(fake, max_attempts=5, deadline=1.0, backoff=ConstantBackoff(1.0))
    fn = Script([TimeoutError], fake)
    with pytest.raises(TimeoutError):
        policy.call(fn)
    assert fn.calls == 1 and fake.sleeps == [1.0]
    assert fake.now - t0 > 1.0 and [r for *_, r in give_ups(policy)] == ["deadline"]
    assert policy.events()[-1].time == fake.now  # decided when the late sleep woke up
    assert policy.metrics().total_wait == 1.0


def test_no_clock_beyond_the_policy_is_needed(fake_time):
    # the policy reads only the injected clock: time.monotonic would make these starts differ
    fn = Script([OSError, OSError, "ok"], fake_time, duration=0.25)
    make(fake_time, max_attempts=3, deadline=10.0).call(fn)
    assert np.diff(fn.starts).tolist() == [1.25, 1.25]


# -- events, the escaping exception, metrics ------------------------------------------------------


def test_events_say_each_decision_timed_by_the_injected_clock(fake_time):
    t0 = fake_time.now
    policy = make(fake_time, max_attempts=3, backoff=ExponentialBackoff(base=0.5), name="fetch")
    seen = []
    policy.subscribe(seen.append)
    fn = Script([ConnectionError], fake_time, duration=0.25)
    with pytest.raises(ConnectionError):
        policy.call(fn)
    assert seen == policy.events()
    rows = [
        (e.kind, e.source, e.call, e.attempt, e.started - t0, e.time - t0, e.outcome, e.delay,
         e.reason)
        for e in seen
    ]  # fmt: skip
    assert rows == [
        ("retry", "fetch", 1, 1, 0.0, 0.25, "error", 0.5, None),
        ("retry", "fetch", 1, 2, 0.75, 1.0, "error", 1.0, None),
        ("give_up", "fetch", 1, 3, 2.0, 2.25, "error", None, "attempts"),
    ]
    assert [e.error for e in seen] == [f"ConnectionError: attempt {n}" for n in (1, 2, 3)]
    assert all(isinstance(e, RetryEvent) for e in seen)


def test_a_call_that_succeeds_at_once_makes_no_event(fake_time):
    policy = make(fake_time)
    assert policy.call(Script(["ok"], fake_time)) == "ok"
    assert policy.events() == []
    assert policy.call(Script([OSError, "ok"], fake_time)) == "ok"
    assert [(e.kind, e.call, e.attempt, e.outcome) for e in policy.events()] == [
        ("retry", 2, 1, "error"),
        ("ok", 2, 2, "ok"),
    ]


def test_unsubscribe_stops_the_events(fake_time):
    policy = make(fake_time)
    seen = []
    unsubscribe = policy.subscribe(seen.append)
    policy.call(Script([OSError, "ok"], fake_time))
    unsubscribe()
    policy.call(Script([OSError, "ok"], fake_time))
    assert len(seen) == 2 and len(policy.events()) == 4
    with pytest.raises(TypeError, match="listener=3 must be callable"):
        policy.subscribe(3)


def test_escaping_exception_is_the_last_one_raised(fake_time):
    class Flaky(ConnectionError):
        pass

    fn = Script([ConnectionError, TimeoutError, Flaky], fake_time)
    policy = make(fake_time, max_attempts=3)
    with pytest.raises(Flaky) as info:
        policy.call(fn)
    exc = info.value
    assert exc is fn.raised[-1] and type(exc) is Flaky  # identity, unchanged type
    assert len({id(e) for e in fn.raised}) == 3
    assert exc.retry_attempts == 3
    assert exc.__notes__ == ["distlab.retry: gave up after 3 attempts (attempts)"]
    assert exc.args == ("attempt 3",)
    # not chained to the earlier attempts' exceptions, no wrapper
    assert exc.__context__ is None and exc.__cause__ is None


def test_one_attempt_note_is_singular(fake_time):
    with pytest.raises(OSError) as info:
        make(fake_time, max_attempts=1).call(Script([OSError], fake_time))
    assert info.value.__notes__ == ["distlab.retry: gave up after 1 attempt (attempts)"]
    assert info.value.retry_attempts == 1


def test_stats(fake_time):
    policy = make(fake_time, max_attempts=3, backoff=ConstantBackoff(0.5))
    policy.call(Script(["a"], fake_time))  # 1 attempt
    policy.call(Script([OSError, "b"], fake_time))  # 2 attempts, 0.5 s
    with pytest.raises(OSError):
        policy.call(Script([OSError], fake_time))  # 3 attempts, 1 s, give up
    with pytest.raises(KeyError):
        make(fake_time).call(Script([KeyError], fake_time))  # another policy: not counted here
    assert policy.metrics() == RetryMetrics(
        calls=3, attempts=6, retries=3, successes=2, give_ups=1, total_wait=1.5
    )
    policy.reset_metrics()
    assert policy.metrics() == RetryMetrics()


def test_a_listener_that_raises_is_logged_and_the_call_goes_on(fake_time, caplog):
    def boom(event):
        raise RuntimeError("listener failed")

    policy = make(fake_time)
    policy.subscribe(boom)
    assert policy.call(Script([OSError, "ok"], fake_time)) == "ok"
    assert policy.metrics() == RetryMetrics(
        calls=1, attempts=2, retries=1, successes=1, give_ups=0, total_wait=1.0
    )
    assert "listener failed" in caplog.text


def test_a_sleep_that_raises_counts_the_call_once_without_its_wait(fake_time):
    def boom(delay):
        raise RuntimeError("sleep failed")

    policy = RetryPolicy(backoff=ConstantBackoff(1.0), sleep=boom, clock=fake_time.clock)
    with pytest.raises(RuntimeError):
        policy.call(Script([OSError, "ok"], fake_time))
    assert policy.metrics() == RetryMetrics(calls=1, attempts=1, retries=0, successes=0, give_ups=1)


# -- decorator and .call --------------------------------------------------------------------------


def test_decorator_preserves_metadata(fake_time):
    policy = make(fake_time)

    @policy
    def fetch(key: str, *, default: int = 0) -> int:
        """Fetch a key."""
        return len(key) + default

    assert fetch.__name__ == "fetch" and fetch.__doc__ == "Fetch a key."
    assert fetch.__wrapped__.__name__ == "fetch"
    assert str(inspect.signature(fetch)) == "(key: 'str', *, default: 'int' = 0) -> 'int'"
    assert fetch("abc", default=1) == 4

    @policy
    async def afetch(x):
        """Async fetch."""
        return x

    assert afetch.__name__ == "afetch" and afetch.__doc__ == "Async fetch."
    assert inspect.iscoroutinefunction(afetch)
    assert asyncio.run(afetch(5)) == 5


def test_decorated_methods_bind_self(fake_time):
    class Client:
        def __init__(self):
            self.n = 0

        @make(fake_time, max_attempts=3)
        def get(self, x):
            self.n += 1
            if self.n < 2:
                raise ConnectionError
            return x * 2

    c = Client()
    assert c.get(21) == 42 and c.n == 2


def test_call_plain_and_coroutine_functions(fake_time):
    policy = make(fake_time)
    assert policy.call(lambda a, b=0: a + b, 1, b=2) == 3
    assert policy.call(functools.partial(pow, 2), 10) == 1024

    async def add(a, b=0):
        return a + b

    coro = policy.call(add, 1, b=2)
    assert inspect.iscoroutine(coro)
    assert asyncio.run(coro) == 3
    assert asyncio.run(policy.call(functools.partial(add, 40), 2)) == 42


def test_decorating_a_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="decorates a function"):
        RetryPolicy()(42)


# -- delays() and the RNG -------------------------------------------------------------------------

JITTERY = ExponentialBackoff(base=0.1, cap=5.0, jitter="full")


def test_delays_deterministic_with_a_seed():
    a = list(RetryPolicy(max_attempts=6, backoff=JITTERY, rng=3).delays())
    b = list(RetryPolicy(max_attempts=6, backoff=JITTERY, rng=3).delays())
    c = list(RetryPolicy(max_attempts=6, backoff=JITTERY, rng=4).delays())
    assert len(a) == 5 and a == b and a != c
    assert list(RetryPolicy(max_attempts=1, backoff=JITTERY).delays()) == []


@pytest.mark.parametrize("jitter", [None, "full", "equal", "decorrelated"])
def test_delays_within_bounds(jitter):
    d = list(
        RetryPolicy(max_attempts=30, backoff=ExponentialBackoff(0.1, 2.0, jitter), rng=1).delays()
    )
    assert len(d) == 29 and all(0 <= x <= 2.0 for x in d)


def test_rng_accepts_int_generator_and_uniform_objects(fake_time):
    seeded = list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=11).delays())
    assert (
        list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=np.random.default_rng(11)).delays())
        == seeded
    )
    assert list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=np.int64(11)).delays()) == seeded

    class Half:
        def __init__(self):
            self.calls = []

        def uniform(self, low, high):
            self.calls.append((low, high))
            return (low + high) / 2

    half = Half()
    assert list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=half).delays()) == [0.05, 0.1, 0.2]
    assert half.calls == [(0.0, 0.1), (0.0, 0.2), (0.0, 0.4)]
    r1 = list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=random.Random(2)).delays())
    r2 = list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=random.Random(2)).delays())
    assert r1 == r2


def test_the_driver_draws_from_the_policy_rng(fake_time):
    policy = make(fake_time, max_attempts=4, backoff=JITTERY, rng=9)
    with pytest.raises(OSError):
        policy.call(Script([OSError], fake_time))
    assert fake_time.sleeps == list(RetryPolicy(max_attempts=4, backoff=JITTERY, rng=9).delays())
    assert policy.metrics().total_wait == pytest.approx(sum(fake_time.sleeps))


# -- the sans-I/O step ----------------------------------------------------------------------------


def test_state_machine_directly():
    policy = RetryPolicy(
        max_attempts=3, backoff=ConstantBackoff(2.0), deadline=5.0, retry_on=OSError
    )
    state = policy.start(now=10.0, rng=np.random.default_rng(0))
    assert isinstance(state, RetryState) and state.started == 10.0
    assert state.after_attempt(10.5, exception=OSError()) == Decision(True, 2.0)
    assert state.before_attempt(12.5) == Decision(True)
    assert state.after_attempt(13.2, exception=OSError()) == Decision(
        False, reason="deadline"
    )  # 15.2 > 15
    other = policy.start(now=0.0)
    assert other.after_attempt(0.1, exception=KeyError()).reason == "not retryable"
    assert policy.start(now=0.0).after_attempt(0.1, result="x").reason == "ok"
    # the step itself counts and reports: every driver does the same
    assert policy.metrics() == RetryMetrics(
        calls=3, attempts=4, retries=1, successes=1, give_ups=2, total_wait=2.0
    )
    assert [(e.kind, e.time, e.reason) for e in policy.events()] == [
        ("retry", 10.5, None),
        ("give_up", 13.2, "deadline"),
        ("give_up", 0.1, "not retryable"),
    ]


def test_the_core_never_reads_a_clock(monkeypatch):
    # sans-I/O: the decision step is told the time; a clock read would raise here
    import time as time_module

    def no_clock():
        raise AssertionError("the core read the clock")

    monkeypatch.setattr(time_module, "monotonic", no_clock)
    monkeypatch.setattr(time_module, "time", no_clock)
    policy = RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(0.1, 1.0, "full"),
                         deadline=5.0, budget=RetryBudget(), rng=1)  # fmt: skip
    state = policy.start(now=0.0)
    assert state.after_attempt(1.0, exception=OSError()).retry
    assert state.before_attempt(1.2).retry
    assert state.after_attempt(1.5, result="fine").reason == "ok"


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_bad, error, words",
    [
        (lambda: ExponentialBackoff(base=-1.0), ValueError, ["base=-1", "at least 0"]),
        (lambda: ExponentialBackoff(base=2.0, cap=1.0), ValueError, ["cap=1", "base=2"]),
        (lambda: ExponentialBackoff(cap=-1.0), ValueError, ["cap=-1"]),
        (
            lambda: ExponentialBackoff(jitter="ful"),
            ValueError,
            ["jitter='ful'", "'full'", "'equal'", "'decorrelated'"],
        ),
        (lambda: ExponentialBackoff(base="1"), TypeError, ["base='1'", "number"]),
        (lambda: ConstantBackoff(-0.5), ValueError, ["delay=-0.5", "at least 0"]),
        (lambda: RetryPolicy(max_attempts=0), ValueError, ["max_attempts=0", "at least 1"]),
        (lambda: RetryPolicy(max_attempts=2.5), TypeError, ["max_attempts=2.5", "integer"]),
        (lambda: RetryPolicy(max_attempts=True), TypeError, ["max_attempts=True", "integer"]),
        (lambda: RetryPolicy(deadline=0), ValueError, ["deadline=0", "greater than 0"]),
        (lambda: RetryPolicy(deadline=-3), ValueError, ["deadline=-3", "greater than 0"]),
        (
            lambda: RetryPolicy(retry_on=42),
            TypeError,
            ["retry_on=42", "exception type", "predicate"],
        ),
        (lambda: RetryPolicy(retry_on=()), TypeError, ["retry_on=()", "non-empty tuple"]),
        (lambda: RetryPolicy(retry_on=(OSError, "x")), TypeError, ["retry_on=", "exception type"]),
        (
            lambda: RetryPolicy(retry_on=int),
            TypeError,
            ["retry_on=<class 'int'>", "exception type"],
        ),
        (lambda: RetryPolicy(retry_on_result=5), TypeError, ["retry_on_result=5", "callable"]),
        (
            lambda: RetryPolicy(rng="seed"),
            TypeError,
            ["rng='seed'", "int seed", "Generator", ".uniform"],
        ),
        (lambda: RetryPolicy(rng=1.5), TypeError, ["rng=1.5", "int seed"]),
        (lambda: RetryPolicy(rng=-1), ValueError, ["rng=-1", "non-negative"]),
        (lambda: RetryPolicy(rng=True), TypeError, ["rng=True"]),
        (lambda: RetryPolicy(backoff=1.0), TypeError, ["backoff=1.0", "Backoff"]),
        (lambda: RetryPolicy(budget=10), TypeError, ["budget=10", "RetryBudget"]),
        (lambda: RetryPolicy(sleep=1), TypeError, ["sleep=1", "callable"]),
        (lambda: RetryPolicy(clock="now"), TypeError, ["clock='now'", "callable"]),
        (lambda: RetryPolicy(async_sleep=3), TypeError, ["async_sleep=3", "callable"]),
        (lambda: RetryPolicy(name=3), TypeError, ["name=3", "str"]),
        (lambda: RetryPolicy(max_events=-1), ValueError, ["max_events=-1", "between 0"]),
        (lambda: RetryPolicy(on_retry=print), TypeError, ["on_retry"]),
        (lambda: RetryBudget(max_tokens=1e17), ValueError, ["max_tokens=1e+17", "at most"]),
        (lambda: RetryBudget(token_ratio=1e-300), ValueError, ["token_ratio=1e-300", "0.001"]),
        (lambda: RetryBudget(token_ratio=0.0005), ValueError, ["token_ratio=0.0005", "0.001"]),
        (lambda: RetryBudget(max_tokens=float("nan")), ValueError, ["max_tokens=nan"]),
        (lambda: RetryBudget(max_tokens=0), ValueError, ["max_tokens=0", "greater than 0"]),
        (lambda: RetryBudget(max_tokens=-5), ValueError, ["max_tokens=-5"]),
        (lambda: RetryBudget(token_ratio=0), ValueError, ["token_ratio=0", "(0, 1]"]),
        (lambda: RetryBudget(token_ratio=1.5), ValueError, ["token_ratio=1.5", "(0, 1]"]),
        (lambda: RetryBudget(token_ratio=-0.1), ValueError, ["token_ratio=-0.1", "(0, 1]"]),
    ],
)
def test_bad_input_is_named(make_bad, error, words):
    with pytest.raises(error) as info:
        make_bad()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_good_edge_input_is_accepted():
    RetryBudget(max_tokens=0.5, token_ratio=1.0)
    RetryPolicy(max_attempts=1, deadline=1e-9, backoff=NoBackoff(), retry_on=(OSError,))
    ExponentialBackoff(base=0.0, cap=0.0, jitter="decorrelated")
    ExponentialBackoff(base=1.0, cap=float("inf"))


def test_the_retry_names_are_reexported_from_distlab():
    import distlab
    import distlab.retry

    for name in (
        "RetryPolicy",
        "RetryBudget",
        "ExponentialBackoff",
        "ConstantBackoff",
        "NoBackoff",
    ):
        assert getattr(distlab, name) is getattr(distlab.retry, name)
