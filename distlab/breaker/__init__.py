"""Circuit breakers: a sans-I/O state machine with sliding windows, and its sync/asyncio drivers.

A :class:`CircuitBreaker` is told the time and the outcome of each call it admitted; it answers
whether the next call may go through. Its decision methods take ``now`` from the caller
(``try_acquire(now)``, ``on_success(now, duration)``, ``on_error(now, duration, exc)``,
``state_at(now)``); its real drivers (``breaker.call``, ``@breaker``, ``with breaker:``, and
their asyncio forms) read an injectable ``clock`` (``time.monotonic`` by default) and pass it;
the simulated driver (:func:`distlab.sim.breaker_call`) passes the simulated time. It follows
resilience4j's semantics (the numbered rules of REFERENCES.md, "Circuit breaker"):

1. every admitted call that completes is recorded as a success or an error, and as *slow* when its
   duration is strictly greater than ``slow_call_duration``; ignored exceptions are not recorded,
   and neither are rejected calls (they are counted apart);
2. the failure rate (and the slow-call rate) is taken over the window; nothing is decided before
   ``minimum_calls`` are recorded (at most ``window_size`` for a count window); the breaker opens
   when a rate is **at or above** its threshold, checked after each recorded call;
3. the window is count-based (the last N calls) or time-based (the last N seconds, in
   one-second buckets);
4. OPEN rejects every call until ``wait_in_open`` has passed (a call exactly at the deadline is
   still rejected); the next call, or the time itself with ``automatic_transition``, moves it to
   HALF_OPEN;
5. HALF_OPEN admits at most ``permitted_calls_in_half_open`` probes and decides on them alone:
   reopen at or above a threshold, close below both, wait while too few are back; a probe that
   never returns cannot wedge it: after ``max_wait_in_half_open`` it reopens;
6. entering CLOSED starts an empty window; the wait in OPEN may grow with each opening in a row;
7. FORCED_OPEN, DISABLED and METRICS_ONLY are there for operators;
8. every transition and every rejection is an event (:class:`BreakerEvent`) with its time.

The pieces, each in its own module: :class:`BreakerConfig` (the settings), the windows
(:mod:`distlab.breaker.windows`), the decision policies (:mod:`distlab.breaker.policy`: rates,
or the course's failures in a row, :meth:`CircuitBreaker.consecutive`), the state machine
(:class:`~distlab.breaker.core.BreakerCore`) and the drivers (:class:`CircuitBreaker`).

>>> breaker = CircuitBreaker(minimum_calls=2, window_size=4, wait_in_open=10)
>>> for now in (0.0, 1.0):
...     if breaker.try_acquire(now):
...         breaker.on_error(now, duration=0.1)
>>> breaker.state_at(2.0)
<BreakerState.OPEN: 'OPEN'>
>>> breaker.try_acquire(2.0), breaker.try_acquire(11.5)
(False, True)

This package imports neither SimPy nor pandas nor matplotlib: it is meant for production code.
"""

from distlab.breaker.config import BreakerConfig, exponential_wait
from distlab.breaker.drivers import CircuitBreaker
from distlab.breaker.model import BreakerEvent, BreakerMetrics, BreakerState, CircuitOpenError

__all__ = [
    "BreakerConfig",
    "BreakerEvent",
    "BreakerMetrics",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
    "exponential_wait",
]
