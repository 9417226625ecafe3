"""Bad input gets a ValueError or TypeError naming the parameter, the value and what is allowed."""

from __future__ import annotations

import pytest

from distlab.breaker import CircuitBreaker, exponential_wait

BAD = [
    # (keyword arguments, error type, words the message must contain)
    ({"failure_rate_threshold": 0}, ValueError, ["failure_rate_threshold=0", "(0, 100]"]),
    ({"failure_rate_threshold": 100.5}, ValueError, ["failure_rate_threshold=100.5", "(0, 100]"]),
    ({"failure_rate_threshold": -5}, ValueError, ["failure_rate_threshold=-5"]),
    ({"failure_rate_threshold": float("nan")}, ValueError, ["failure_rate_threshold", "finite"]),
    ({"failure_rate_threshold": "50"}, TypeError, ["failure_rate_threshold='50'", "number"]),
    ({"slow_call_rate_threshold": 0}, ValueError, ["slow_call_rate_threshold=0", "(0, 100]"]),
    ({"slow_call_rate_threshold": 101}, ValueError, ["slow_call_rate_threshold=101"]),
    ({"slow_call_duration": -1}, ValueError, ["slow_call_duration=-1", "at least 0"]),
    ({"window_size": 0}, ValueError, ["window_size=0", "at least 1"]),
    ({"window_size": 2.5}, TypeError, ["window_size=2.5", "integer"]),
    ({"window_size": True}, TypeError, ["window_size=True", "integer"]),
    ({"minimum_calls": 0}, ValueError, ["minimum_calls=0", "at least 1"]),
    ({"window_type": "sliding"}, ValueError, ["window_type='sliding'", "'count'", "'time'"]),
    ({"wait_in_open": -1}, ValueError, ["wait_in_open=-1", "at least 0"]),
    ({"wait_in_open": float("inf")}, ValueError, ["wait_in_open", "finite"]),
    ({"wait_in_open": "60"}, TypeError, ["wait_in_open='60'"]),
    ({"wait_in_open": lambda n: -5}, ValueError, ["wait_in_open(1) returned -5", ">= 0"]),
    ({"wait_in_open": lambda n: "soon"}, TypeError, ["wait_in_open(1) returned 'soon'", "number"]),
    ({"wait_in_open": lambda n: float("nan")}, ValueError, ["wait_in_open(1) returned nan"]),
    (
        {"permitted_calls_in_half_open": 0},
        ValueError,
        ["permitted_calls_in_half_open=0", "at least 1"],
    ),
    ({"max_wait_in_half_open": 0}, ValueError, ["max_wait_in_half_open=0", "greater than 0"]),
    ({"max_wait_in_half_open": -3}, ValueError, ["max_wait_in_half_open=-3"]),
    ({"automatic_transition": "yes"}, TypeError, ["automatic_transition='yes'", "True or False"]),
    (
        {"record_on": "ConnectionError"},
        TypeError,
        ["record_on='ConnectionError'", "exception type"],
    ),
    ({"record_on": int}, TypeError, ["record_on=<class 'int'>", "exception type"]),
    ({"record_on": (ValueError, 3)}, TypeError, ["record_on=(<class 'ValueError'>, 3)"]),
    ({"record_on": None}, TypeError, ["record_on=None"]),
    ({"ignore": 404}, TypeError, ["ignore=404", "predicate"]),
    ({"ignore": [KeyError, "x"]}, TypeError, ["ignore=", "exception type"]),
    ({"clock": 5.0}, TypeError, ["clock=5.0", "callable"]),
    ({"name": 7}, TypeError, ["name=7", "string"]),
    ({"fallback": "default"}, TypeError, ["fallback='default'", "callable"]),
    ({"max_events": -1}, ValueError, ["max_events=-1", "between 0 and"]),
    ({"max_events": 10**30}, ValueError, ["max_events=1000000000000000000000000000000"]),
]


@pytest.mark.parametrize("kwargs, error, words", BAD, ids=[str(k) for k, _, _ in BAD])
def test_bad_input_names_the_parameter_the_value_and_what_is_allowed(kwargs, error, words):
    with pytest.raises(error) as info:
        CircuitBreaker(**kwargs)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_a_wait_function_going_negative_later_is_caught_without_corrupting_the_state():
    now = [0.0]
    b = CircuitBreaker(
        minimum_calls=1,
        window_size=1,
        permitted_calls_in_half_open=1,
        wait_in_open=lambda n: 1.0 if n == 1 else -1.0,
        clock=lambda: now[0],
    )
    b.try_acquire(now[0])
    b.on_error(now[0], 0.0)
    now[0] = 2.0
    assert b.try_acquire(now[0])
    with pytest.raises(ValueError, match=r"wait_in_open\(2\) returned -1.0"):
        b.on_error(now[0], 0.0)  # the probe fails: the second opening asks for a negative wait
    assert b.state.value == "HALF_OPEN"
    assert b.metrics().in_flight == 0


def test_accepted_edge_values():
    CircuitBreaker(
        failure_rate_threshold=100,
        slow_call_rate_threshold=0.001,
        window_size=1,
        minimum_calls=1,
        wait_in_open=0,
        slow_call_duration=0,
        record_on=(),
        ignore=[KeyError, IndexError],
        max_events=0,
    )


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"initial": 0}, ["initial=0", "greater than 0"]),
        ({"multiplier": 0.5}, ["multiplier=0.5", "at least 1"]),
        ({"initial": 10, "maximum": 5}, ["maximum=5", "at least initial=10"]),
    ],
)
def test_exponential_wait_checks_its_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        exponential_wait(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_exponential_wait_never_overflows():
    wait = exponential_wait(1.0, 1e10, 300.0)
    assert [wait(n) for n in (1, 2, 1000, 10**6)] == [1.0, 300.0, 300.0, 300.0]


def test_listener_must_be_callable():
    with pytest.raises(TypeError, match="listener=3 must be callable"):
        CircuitBreaker().subscribe(3)


def test_a_huge_time_window_costs_only_what_it_holds():
    import tracemalloc

    tracemalloc.start()
    try:
        b = CircuitBreaker(window_type="time", window_size=10**9, minimum_calls=3)
        for now in (0.0, 1.0, 5e8):
            assert b.try_acquire(now)
            b.on_error(now, 0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # it used to allocate 3 lists of 10**9 slots (MemoryError)
    assert b.state_at(5e8).value == "OPEN"


def test_the_decision_step_never_reads_the_clock():
    def clock():
        raise AssertionError("the core read its clock")

    b = CircuitBreaker(minimum_calls=2, window_size=2, wait_in_open=10, clock=clock)
    for now in (0.0, 1.0):
        assert b.try_acquire(now)
        b.on_error(now, 0.1, ConnectionError())
    assert b.state_at(5.0).value == "OPEN" and not b.try_acquire(5.0)
    assert b.try_acquire(11.5) and b.state_at(11.5).value == "HALF_OPEN"
    b.on_success(12.0, 0.5)
    assert b.metrics(12.0).state.value == "HALF_OPEN"
    b.force_open(13.0)
    b.reset(14.0)
    assert b.state_at(14.0).value == "CLOSED"


@pytest.mark.parametrize("now", [float("nan"), float("inf"), -float("inf")])
def test_now_must_be_a_finite_time(now):
    b = CircuitBreaker(window_type="time")
    for call in (b.try_acquire, b.state_at, b.metrics):
        with pytest.raises(ValueError, match="now=.* must be a finite number of seconds"):
            call(now)
    with pytest.raises(ValueError, match="now="):
        b.on_success(now, 0.1)
    with pytest.raises(TypeError, match="now='soon' must be a number of seconds"):
        b.on_error("soon", 0.1)
