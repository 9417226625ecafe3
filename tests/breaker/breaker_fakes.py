"""Fakes shared by the breaker tests: a clock that only moves when told, and helpers that drive
a breaker through its sans-I/O calls. Nothing here sleeps for real.

Imported by the tests as ``breaker_fakes`` (pytest puts tests/breaker on sys.path)."""

from __future__ import annotations

from typing import Any

from distlab.breaker import CircuitBreaker


class FakeClock:
    """A breaker's ``clock``: ``clock()`` is ``clock.now``; ``advance`` / ``set`` move it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, now: float) -> float:
        self.now = now
        return now


def breaker(clock: FakeClock, **kwargs: Any) -> CircuitBreaker:
    """A breaker on ``clock``; small windows unless told otherwise."""
    kwargs.setdefault("minimum_calls", 4)
    kwargs.setdefault("window_size", 4)
    kwargs.setdefault("wait_in_open", 10.0)
    kwargs.setdefault("permitted_calls_in_half_open", 2)
    return CircuitBreaker(clock=clock, **kwargs)


def succeed(b: CircuitBreaker, duration: float = 0.01) -> None:
    """One admitted call that succeeds (fails the test if the breaker rejects it)."""
    now = b.clock()
    assert b.try_acquire(now), f"rejected in {b.state}"
    b.on_success(now, duration)


def fail(b: CircuitBreaker, duration: float = 0.01, exc: BaseException | None = None) -> None:
    """One admitted call that fails (fails the test if the breaker rejects it)."""
    now = b.clock()
    assert b.try_acquire(now), f"rejected in {b.state}"
    b.on_error(now, duration, exc)


def transitions(b: CircuitBreaker) -> list[tuple[float, str, str]]:
    """(time, from_state, state) of every transition so far."""
    return [(e.time, e.from_state, e.state) for e in b.events() if e.kind == "transition"]


def open_breaker(b: CircuitBreaker, clock: FakeClock) -> float:
    """Fail calls until ``b`` opens; returns the time it opened."""
    for _ in range(10_000):
        if b.state.value == "OPEN":
            return clock.now
        fail(b)
    raise AssertionError("never opened")
