"""Circuit breakers: a sans-I/O state machine with sliding windows, and its sync/asyncio drivers.

A :class:`CircuitBreaker` is told the time (by its ``clock``) and the outcome of each call it
admitted; it answers whether the next call may go through. It follows resilience4j's semantics
(the numbered rules of REFERENCES.md, "Circuit breaker"):

1. every admitted call that completes is recorded as a success or an error, and as *slow* when its
   duration is strictly greater than ``slow_call_duration``; ignored exceptions are not recorded,
   and neither are rejected calls (they are counted apart);
2. the failure rate (and the slow-call rate) is taken over the window; nothing is decided before
   ``minimum_calls`` are recorded (at most ``window_size`` for a count window); the breaker opens
   when a rate is **at or above** its threshold, checked after each recorded call;
3. the window is count-based (the last N calls, a ring) or time-based (the last N seconds, in
   one-second buckets);
4. OPEN rejects every call until ``wait_in_open`` has passed (a call exactly at the deadline is
   still rejected); the next call, or the clock itself with ``automatic_transition``, moves it to
   HALF_OPEN;
5. HALF_OPEN admits at most ``permitted_calls_in_half_open`` probes and decides on them alone:
   reopen at or above a threshold, close below both, wait while too few are back; a probe that
   never returns cannot wedge it: after ``max_wait_in_half_open`` it reopens;
6. entering CLOSED starts an empty window; the wait in OPEN may grow with each opening in a row;
7. FORCED_OPEN, DISABLED and METRICS_ONLY are there for operators;
8. every transition and every rejection is an event with its time.

The lock is never held while the protected call runs, so one slow call never blocks the others,
and listeners are called after the lock is released. :meth:`CircuitBreaker.consecutive` builds
the course text's breaker, exactly, for comparison.

>>> clock = iter(range(100)).__next__          # a fake clock: 0, 1, 2, ... seconds
>>> breaker = CircuitBreaker(minimum_calls=2, window_size=4, wait_in_open=10, clock=clock)
>>> for _ in range(2):
...     if breaker.try_acquire():
...         breaker.on_error(duration=0.1)
>>> breaker.state
<BreakerState.OPEN: 'OPEN'>
>>> breaker.try_acquire()
False

This module imports neither SimPy nor pandas nor matplotlib: it is meant for production code.
"""

from __future__ import annotations

import contextvars
import enum
import functools
import inspect
import logging
import math
import numbers
import threading
import time
import types
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distlab._validate import check_choice, check_int, check_number

__all__ = [
    "BreakerMetrics",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
    "exponential_wait",
]

_log = logging.getLogger(__name__)
_CoroutineType = types.CoroutineType


class BreakerState(enum.Enum):
    """The states of a :class:`CircuitBreaker`."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"
    FORCED_OPEN = "FORCED_OPEN"
    DISABLED = "DISABLED"
    METRICS_ONLY = "METRICS_ONLY"


_CLOSED, _OPEN, _HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
_FORCED_OPEN, _DISABLED, _METRICS_ONLY = (
    BreakerState.FORCED_OPEN,
    BreakerState.DISABLED,
    BreakerState.METRICS_ONLY,
)


class CircuitOpenError(Exception):
    """A call rejected by a breaker: ``name`` of the breaker, its ``state`` and ``retry_at``, the
    clock time after which it will next admit a call (``None`` when only an operator can tell,
    e.g. FORCED_OPEN, or while half-open probes are out)."""

    def __init__(self, name: str | None, state: BreakerState, retry_at: float | None) -> None:
        self.name = name
        self.state = state
        self.retry_at = retry_at
        when = "" if retry_at is None else f"; next call admitted after t={retry_at:g}"
        super().__init__(f"circuit breaker {name or '(unnamed)'} is {state.value}{when}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, e.g. across processes
        return (type(self), (self.name, self.state, self.retry_at))


def exponential_wait(
    initial: float = 1.0, multiplier: float = 2.0, maximum: float = 300.0
) -> Callable[[int], float]:
    """A ``wait_in_open`` that grows with each opening in a row: initial · multiplier^(n-1),
    capped at ``maximum``.

    >>> wait = exponential_wait(10, 2, 60)
    >>> [wait(n) for n in (1, 2, 3, 4)]
    [10.0, 20.0, 40.0, 60.0]
    """
    initial = check_number("initial", initial, 0.0, min_inclusive=False)
    multiplier = check_number("multiplier", multiplier, 1.0)
    maximum = check_number("maximum", maximum, initial)

    def wait(openings: int) -> float:
        exponent = max(0, openings - 1)
        try:
            seconds = initial * multiplier**exponent
        except OverflowError:
            return maximum
        return maximum if seconds > maximum else seconds

    return wait


@dataclass(frozen=True)
class BreakerMetrics:
    """A snapshot of a breaker's counters.

    ``failure_rate`` and ``slow_call_rate`` are percentages over the current window (``None``
    while fewer than the minimum calls are recorded, and always for the course's consecutive
    breaker). The totals count since creation or the last :meth:`CircuitBreaker.reset`, in every
    state: ``admitted = recorded + ignored + in_flight`` always holds (``recorded = successes +
    failures``; ``slow`` calls are among them), and ``rejected`` calls are counted apart.
    """

    state: BreakerState
    failure_rate: float | None
    slow_call_rate: float | None
    window_calls: int
    window_failures: int
    window_slow: int
    admitted: int
    recorded: int
    ignored: int
    in_flight: int
    rejected: int
    successes: int
    failures: int
    slow: int


# -- the time window ----------------------------------------------------------------------------


class _TimeWindow:
    """The outcomes of the last ``size`` seconds, in one-second buckets (bucket ``s % size``
    holds second ``s``); running totals so that recording is O(1) amortised."""

    __slots__ = ("size", "_calls", "_failures", "_slow", "_latest", "calls", "failures", "slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self._calls = [0] * size
        self._failures = [0] * size
        self._slow = [0] * size
        self._latest: int | None = None  # the newest second seen
        self.calls = self.failures = self.slow = 0

    def clear(self) -> None:
        self.__init__(self.size)  # type: ignore[misc]

    def advance(self, now: float) -> None:
        """Forget the buckets that fell out of the window by time ``now``."""
        second = math.floor(now)
        latest = self._latest
        if latest is not None and second <= latest:
            return
        if latest is None or second - latest >= self.size:
            if self.calls:
                self.clear()
        else:
            size = self.size
            for epoch in range(latest + 1, second + 1):
                i = epoch % size
                if self._calls[i]:
                    self.calls -= self._calls[i]
                    self.failures -= self._failures[i]
                    self.slow -= self._slow[i]
                    self._calls[i] = self._failures[i] = self._slow[i] = 0
        self._latest = second

    def record(self, now: float, failed: bool, slow: bool) -> None:
        self.advance(now)
        second = math.floor(now)
        if second <= self._latest - self.size:  # type: ignore[operator]  # a clock gone back
            return
        i = second % self.size
        self._calls[i] += 1
        self._failures[i] += failed
        self._slow[i] += slow
        self.calls += 1
        self.failures += failed
        self.slow += slow


# -- the breaker ------------------------------------------------------------------------------


def _exception_predicate(name: str, spec: Any) -> Callable[[BaseException], bool]:
    if isinstance(spec, (list, set, frozenset)):
        spec = tuple(spec)
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return lambda exc: isinstance(exc, spec)
    if isinstance(spec, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in spec
    ):
        return (lambda exc: isinstance(exc, spec)) if spec else (lambda exc: False)
    if callable(spec) and not isinstance(spec, type):
        return lambda exc: bool(spec(exc))
    raise TypeError(
        f"{name}={spec!r} must be an exception type, a tuple of them, or a predicate exc -> bool"
    )


#: configuration attributes, read-only after construction (the fast path caches some of them)
_CONFIG = (
    "failure_rate_threshold",
    "slow_call_rate_threshold",
    "slow_call_duration",
    "minimum_calls",
    "window_type",
    "window_size",
    "wait_in_open",
    "permitted_calls_in_half_open",
    "max_wait_in_half_open",
    "automatic_transition",
    "clock",
    "name",
    "fallback",
)


class CircuitBreaker:
    """A circuit breaker with resilience4j's semantics (see the module docstring).

    Args:
        failure_rate_threshold: percent of recorded calls that failed, in (0, 100], that opens it.
        slow_call_rate_threshold: percent of recorded calls that were slow, in (0, 100].
        slow_call_duration: seconds; a call strictly longer than this is slow.
        minimum_calls: recorded calls needed before any decision (for a count window, at most
            ``window_size`` are needed).
        window_type: ``"count"`` (the last ``window_size`` calls) or ``"time"`` (the last
            ``window_size`` seconds).
        window_size: calls or seconds, at least 1.
        wait_in_open: seconds in OPEN before a probe is admitted, or a function of the number of
            openings in a row (1, 2, ...) returning seconds (see :func:`exponential_wait`).
        permitted_calls_in_half_open: probes admitted in HALF_OPEN. A probe whose exception is
            ignored gives its permit back (it was not recorded), as in resilience4j.
        max_wait_in_half_open: seconds after which HALF_OPEN reopens if its probes have not all
            completed (``None``: wait forever).
        automatic_transition: move from OPEN to HALF_OPEN as soon as the wait is over (the
            transition is dated at the deadline, as a timer would; it is applied when the breaker
            is next used or read) rather than on the first call after it.
        record_on: exceptions that count as failures (types, a tuple, or a predicate); any other
            ``Exception`` counts as a success, as in resilience4j. A ``BaseException`` that is not
            an ``Exception`` (a cancelled task, ``KeyboardInterrupt``) stops the call rather than
            failing it: it is not recorded unless ``record_on`` names it.
        ignore: exceptions that are not recorded at all (they win over ``record_on``).
        clock: the time in seconds (``time.monotonic``); tests and simulations pass their own.
        name: shown in errors and events.
        fallback: called with the :class:`CircuitOpenError` instead of raising it when a call
            is rejected; its result is returned (awaited for a coroutine function's call).
        max_events: how many events :meth:`events` keeps (the oldest are dropped).

    The configuration is read-only once built. Durations given to :meth:`on_success` and
    :meth:`on_error` are trusted (no check: this is the hot path).

    >>> breaker = CircuitBreaker(failure_rate_threshold=50, minimum_calls=10, window_size=20,
    ...                          wait_in_open=30, name="payments")
    >>> @breaker
    ... def charge(amount):
    ...     return f"charged {amount}"
    >>> charge(10)
    'charged 10'
    """

    def __init__(
        self,
        failure_rate_threshold: float = 50.0,
        slow_call_rate_threshold: float = 100.0,
        slow_call_duration: float = 60.0,
        minimum_calls: int = 100,
        window_type: str = "count",
        window_size: int = 100,
        wait_in_open: float | Callable[[int], float] = 60.0,
        permitted_calls_in_half_open: int = 10,
        max_wait_in_half_open: float | None = None,
        automatic_transition: bool = False,
        record_on: Any = Exception,
        ignore: Any = (),
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        *,
        fallback: Callable[[CircuitOpenError], Any] | None = None,
        max_events: int = 10_000,
    ) -> None:
        self._failure_rate_threshold = check_number(
            "failure_rate_threshold", failure_rate_threshold, 0.0, 100.0, min_inclusive=False
        )
        self._slow_call_rate_threshold = check_number(
            "slow_call_rate_threshold", slow_call_rate_threshold, 0.0, 100.0, min_inclusive=False
        )
        self._slow_call_duration = check_number("slow_call_duration", slow_call_duration, 0.0)
        self._minimum_calls = check_int("minimum_calls", minimum_calls, 1)
        self._window_type = check_choice("window_type", window_type, ("count", "time"))
        self._window_size = check_int("window_size", window_size, 1)
        self._wait_in_open = wait_in_open
        if callable(wait_in_open) and not isinstance(wait_in_open, (bool, numbers.Number)):
            self._wait_fn: Callable[[int], float] | None = wait_in_open
            self._wait_s = 0.0
            self._wait_for(1)  # a function that is wrong from the start fails here, not later
        else:
            self._wait_fn = None
            self._wait_s = check_number("wait_in_open", wait_in_open, 0.0)
        self._permitted_calls_in_half_open = check_int(
            "permitted_calls_in_half_open", permitted_calls_in_half_open, 1
        )
        self._max_wait_in_half_open = (
            None
            if max_wait_in_half_open is None
            else check_number(
                "max_wait_in_half_open", max_wait_in_half_open, 0.0, min_inclusive=False
            )
        )
        if not isinstance(automatic_transition, bool):
            raise TypeError(f"automatic_transition={automatic_transition!r} must be True or False")
        self._automatic_transition = automatic_transition
        self._records = _exception_predicate("record_on", record_on)
        self._ignores = _exception_predicate("ignore", ignore)
        if not callable(clock):
            raise TypeError(f"clock={clock!r} must be callable, returning seconds")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name={name!r} must be a string or None")
        if fallback is not None and not callable(fallback):
            raise TypeError(f"fallback={fallback!r} must be callable or None")
        self._clock = clock
        self._name = name
        self._fallback = fallback
        self._consecutive: int | None = None  # the course text's breaker, see consecutive()
        self._lock = threading.Lock()
        self._dispatching = threading.Lock()  # one thread at a time delivers events
        self._listeners: tuple[Callable[[dict[str, Any]], Any], ...] = ()
        self._outbox: list[dict[str, Any]] = []  # events waiting for the listeners
        self._events: deque[dict[str, Any]] = deque(maxlen=check_int("max_events", max_events, 0))
        # totals (see BreakerMetrics): recorded = _recorded_apart + _seq
        self._admitted = self._ignored = self._rejected = 0
        self._recorded_apart = 0
        self._failures = self._slow = 0
        # the window: a count window is the sequence number of the last call recorded in it
        # (`_seq`, since the window started) and those of its failed and slow calls, so that a
        # success is one addition; a time window is a _TimeWindow
        self._seq = 0
        self._failed_seqs: deque[int] = deque()
        self._slow_seqs: deque[int] = deque()
        self._time_window = _TimeWindow(self._window_size) if window_type == "time" else None
        self._min_calls = (
            min(self._minimum_calls, self._window_size)
            if window_type == "count"
            else self._minimum_calls
        )
        # the state
        self._state = _CLOSED
        self._fast = False  # CLOSED with a count window: a success is `_seq += 1`
        self._openings = 0
        self._open_until = 0.0
        self._half_open_since = 0.0
        self._half_open_permits = 0
        self._probe_calls = self._probe_failures = self._probe_slow = 0
        self._failure_count = 0  # consecutive mode only
        self._refresh_fast()

    @classmethod
    def consecutive(
        cls,
        failures: int = 5,
        wait_in_open: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        **kwargs: Any,
    ) -> CircuitBreaker:
        """The course text's breaker, exactly: it counts failures in a row, opens at
        ``failures``, rejects until ``wait_in_open`` has passed (a call exactly at the deadline
        goes through), then lets **every** call through in HALF_OPEN; one success closes it and
        resets the count, one failure reopens it. Durations are ignored: slow calls never count.

        >>> clock = iter(range(100)).__next__
        >>> course = CircuitBreaker.consecutive(failures=2, wait_in_open=5, clock=clock)
        >>> for _ in range(2):
        ...     _ = course.try_acquire(); course.on_error(0.0)
        >>> course.state.value
        'OPEN'
        """
        breaker = cls(wait_in_open=wait_in_open, clock=clock, name=name, **kwargs)
        breaker._consecutive = check_int("failures", failures, 1)
        breaker._refresh_fast()
        return breaker

    def __repr__(self) -> str:
        name = f" {self._name!r}" if self._name else ""
        return f"<CircuitBreaker{name} {self._state.value}>"

    # -- reading ---------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state (timed transitions are applied first)."""
        self._lock.acquire()
        try:
            self._advance(self._clock())
            state = self._state
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()
        return state

    @property
    def failure_rate(self) -> float | None:
        """Percent of the window's recorded calls that failed; ``None`` below the minimum."""
        return self.metrics().failure_rate

    @property
    def slow_call_rate(self) -> float | None:
        """Percent of the window's recorded calls that were slow; ``None`` below the minimum."""
        return self.metrics().slow_call_rate

    def metrics(self) -> BreakerMetrics:
        """A consistent snapshot of the state, the window and the counters."""
        self._lock.acquire()
        try:
            now = self._clock()
            self._advance(now)
            if self._time_window is not None and self._state in (_CLOSED, _METRICS_ONLY):
                self._time_window.advance(now)
            calls, failures, slow = self._window_counts()
            failure_rate, slow_rate = self._rates()
            recorded = self._recorded_apart + self._seq
            metrics = BreakerMetrics(
                state=self._state,
                failure_rate=failure_rate,
                slow_call_rate=slow_rate,
                window_calls=calls,
                window_failures=failures,
                window_slow=slow,
                admitted=self._admitted,
                recorded=recorded,
                ignored=self._ignored,
                in_flight=self._admitted - recorded - self._ignored,
                rejected=self._rejected,
                successes=recorded - self._failures,
                failures=self._failures,
                slow=self._slow,
            )
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()
        return metrics

    def events(self) -> list[dict[str, Any]]:
        """Every transition and rejection so far (the last ``max_events``), oldest first: dicts
        with ``time``, ``kind`` (``"transition"`` or ``"rejected"``), ``breaker``, ``state``
        (the state after the event), ``from_state`` (transitions) and the ``failure_rate`` and
        ``slow_call_rate`` at that moment; ``pandas.DataFrame(breaker.events())`` is a table."""
        self._lock.acquire()
        try:
            return [dict(event) for event in self._events]
        finally:
            self._lock.release()

    def subscribe(self, listener: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later transition and rejection; returns a function
        that unsubscribes it.

        Listeners run after the breaker's lock is released (they may read the breaker, even call
        through it), in the order the events happened, one thread at a time; an exception in a
        listener is logged (logger ``distlab.breaker``) and does not reach the caller.
        """
        if not callable(listener):
            raise TypeError(f"listener={listener!r} must be callable")
        self._lock.acquire()
        try:
            self._listeners = (*self._listeners, listener)
        finally:
            self._lock.release()

        def unsubscribe() -> None:
            self._lock.acquire()
            try:
                listeners = list(self._listeners)
                if listener in listeners:
                    listeners.remove(listener)
                self._listeners = tuple(listeners)
            finally:
                self._lock.release()

        return unsubscribe

    # -- the sans-I/O decision step --------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Ask to make a call now: ``True`` admits it (report its outcome with
        :meth:`on_success` or :meth:`on_error`), ``False`` rejects it (counted, and an event)."""
        self._lock.acquire()
        try:
            state = self._state
            if state is _CLOSED or state is _METRICS_ONLY or state is _DISABLED:
                self._admitted += 1
                return True
            admitted = self._admit(self._clock())
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()
        return admitted

    def on_success(self, duration: float) -> None:
        """Report that an admitted call succeeded after ``duration`` seconds."""
        self._lock.acquire()
        try:
            if self._fast and duration <= self._slow_call_duration:
                self._seq = seq = self._seq + 1
                if seq != self._min_calls:
                    return
                self._check(self._clock())
            else:
                self._record(self._clock(), duration, False)
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()

    def on_error(self, duration: float, exc: BaseException | None = None) -> None:
        """Report that an admitted call raised ``exc`` after ``duration`` seconds.

        ``exc`` matching ``ignore`` is not recorded; one matching ``record_on`` (or no ``exc``)
        is a failure; any other ``Exception`` is recorded as a success; any other
        ``BaseException`` (the call was stopped, not failed) is not recorded.
        """
        if exc is None:
            failed = True
        elif self._ignores(exc):
            self._on_ignored()
            return
        else:
            failed = self._records(exc)
            if not failed and not isinstance(exc, Exception):
                self._on_ignored()
                return
        self._lock.acquire()
        try:
            self._record(self._clock(), duration, failed)
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()

    # -- operators -------------------------------------------------------------------------------

    def force_open(self) -> None:
        """Reject every call until :meth:`reset` (or another manual state)."""
        self._manual(_FORCED_OPEN)

    def disable(self) -> None:
        """Admit every call and record nothing (the window is left as it was)."""
        self._manual(_DISABLED)

    def metrics_only(self) -> None:
        """Admit every call and record outcomes in a fresh window, but never open."""
        self._manual(_METRICS_ONLY)

    def reset(self) -> None:
        """Back to CLOSED with an empty window and zeroed counters (calls still in flight stay
        counted as admitted, so that the totals keep adding up when they complete)."""
        self._lock.acquire()
        try:
            now = self._clock()
            self._advance(now)
            in_flight = self._admitted - self._recorded_apart - self._seq - self._ignored
            self._transition(_CLOSED, now, force_event=True)
            self._admitted = in_flight
            self._ignored = self._rejected = self._recorded_apart = 0
            self._failures = self._slow = 0
            self._openings = 0
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()

    def _manual(self, state: BreakerState) -> None:
        self._lock.acquire()
        try:
            now = self._clock()
            self._advance(now)
            self._transition(state, now, force_event=True)
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()

    # -- internals (the lock is held) ------------------------------------------------------------

    def _refresh_fast(self) -> None:
        self._fast = (
            self._state is _CLOSED and self._time_window is None and self._consecutive is None
        )

    def _admit(self, now: float) -> bool:
        """try_acquire beyond the trivially admitting states."""
        self._advance(now)
        state = self._state
        if state is _OPEN:
            if self._consecutive is not None:
                admit = now >= self._open_until  # the course: `if (Date.now() < nextAttempt) throw`
            else:
                admit = now > self._open_until  # exactly at the deadline: still rejected
            if not admit:
                self._reject(now)
                return False
            self._transition(_HALF_OPEN, now)
            state = _HALF_OPEN
        if state is _HALF_OPEN:
            if self._consecutive is None:
                if self._half_open_permits >= self._permitted_calls_in_half_open:
                    self._reject(now)
                    return False
                self._half_open_permits += 1
            self._admitted += 1
            return True
        if state is _FORCED_OPEN:
            self._reject(now)
            return False
        self._admitted += 1  # CLOSED, DISABLED, METRICS_ONLY
        return True

    def _on_ignored(self) -> None:
        self._lock.acquire()
        try:
            self._advance(self._clock())
            self._ignored += 1
            # resilience4j gives the permit of an ignored probe back: it will never be recorded
            if (
                self._state is _HALF_OPEN
                and self._consecutive is None
                and self._half_open_permits > self._probe_calls
            ):
                self._half_open_permits -= 1
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()

    def _record(self, now: float, duration: float, failed: bool) -> None:
        """Record a completed call (any state, any window)."""
        self._advance(now)
        slow = duration > self._slow_call_duration
        if failed:
            self._failures += 1
        if slow:
            self._slow += 1
        state = self._state
        if self._consecutive is not None:
            self._recorded_apart += 1
            self._course_outcome(now, failed)
            return
        if state is _CLOSED or state is _METRICS_ONLY:
            window = self._time_window
            if window is None:
                self._seq = seq = self._seq + 1
                if failed:
                    self._failed_seqs.append(seq)
                if slow:
                    self._slow_seqs.append(seq)
                self._evict()
            else:
                self._recorded_apart += 1
                window.record(now, failed, slow)
            if state is _CLOSED:
                self._check(now)
            return
        self._recorded_apart += 1
        if state is _HALF_OPEN:
            self._probe_calls += 1
            self._probe_failures += failed
            self._probe_slow += slow
            if self._probe_calls >= self._permitted_calls_in_half_open:
                if self._over_threshold():
                    self._open(now)
                else:
                    self._transition(_CLOSED, now)
        # An outcome arriving in OPEN or FORCED_OPEN (a call admitted before it opened) or in
        # DISABLED is counted above but decides nothing.

    def _course_outcome(self, now: float, failed: bool) -> None:
        """The course's onSuccess / onFailure."""
        state = self._state
        if state is _DISABLED or state is _FORCED_OPEN:
            return
        if failed:
            self._failure_count += 1
            if self._failure_count >= self._consecutive and state is not _METRICS_ONLY:  # type: ignore[operator]
                self._open(now)  # the course sets OPEN and a new deadline, even if already OPEN
        else:
            self._failure_count = 0
            if state is not _CLOSED and state is not _METRICS_ONLY:
                self._transition(_CLOSED, now)  # even from OPEN: `this.state = 'CLOSED'`

    def _evict(self) -> None:
        """Drop from a count window the failed and slow calls the ring has overwritten."""
        oldest_gone = self._seq - self._window_size
        failed, slow = self._failed_seqs, self._slow_seqs
        while failed and failed[0] <= oldest_gone:
            failed.popleft()
        while slow and slow[0] <= oldest_gone:
            slow.popleft()

    def _window_counts(self) -> tuple[int, int, int]:
        """(calls, failures, slow) in the window that decides in the current state."""
        if self._state is _HALF_OPEN:
            return self._probe_calls, self._probe_failures, self._probe_slow
        window = self._time_window
        if window is not None:
            return window.calls, window.failures, window.slow
        self._evict()
        return min(self._seq, self._window_size), len(self._failed_seqs), len(self._slow_seqs)

    def _rates(self) -> tuple[float | None, float | None]:
        if self._consecutive is not None:
            return None, None
        calls, failures, slow = self._window_counts()
        minimum = (
            self._permitted_calls_in_half_open if self._state is _HALF_OPEN else self._min_calls
        )
        if calls < minimum or not calls:
            return None, None
        return 100.0 * failures / calls, 100.0 * slow / calls

    def _over_threshold(self) -> bool:
        failure_rate, slow_rate = self._rates()
        if failure_rate is None:
            return False
        return (
            failure_rate >= self._failure_rate_threshold
            or slow_rate >= self._slow_call_rate_threshold
        )  # type: ignore[operator]

    def _check(self, now: float) -> None:
        """After a call recorded in CLOSED: open if a rate is at or above its threshold."""
        if self._over_threshold():
            self._open(now)

    def _wait_for(self, openings: int) -> float:
        if self._wait_fn is None:
            return self._wait_s
        wait = self._wait_fn(openings)
        if isinstance(wait, bool) or not isinstance(wait, numbers.Real):
            raise TypeError(
                f"wait_in_open({openings}) returned {wait!r}: it must return a number of seconds"
            )
        wait = float(wait)
        if not wait >= 0.0:
            raise ValueError(f"wait_in_open({openings}) returned {wait!r}: it must be >= 0 seconds")
        return wait

    def _open(self, now: float) -> None:
        openings = self._openings + 1
        wait = self._wait_for(openings)  # may raise: nothing has changed yet
        self._openings = openings
        self._open_until = now + wait
        self._transition(_OPEN, now, force_event=self._consecutive is not None)

    def _advance(self, now: float) -> None:
        """Apply the transitions that time alone makes, dated when a timer would have made them:
        the automatic OPEN -> HALF_OPEN after the wait, and the reopening of a HALF_OPEN whose
        probes did not come back within ``max_wait_in_half_open``."""
        state = self._state
        if state is not _OPEN and state is not _HALF_OPEN:
            return
        max_wait = self._max_wait_in_half_open
        while True:
            state = self._state
            if state is _OPEN and self._automatic_transition and now > self._open_until:
                self._transition(_HALF_OPEN, self._open_until)
            elif (
                state is _HALF_OPEN
                and max_wait is not None
                and now > self._half_open_since + max_wait
            ):
                self._open(self._half_open_since + max_wait)
            else:
                return

    def _transition(self, state: BreakerState, now: float, *, force_event: bool = False) -> None:
        previous = self._state
        if previous is state and not force_event:
            return
        failure_rate, slow_rate = self._rates()
        self._state = state
        if state is _CLOSED:
            self._openings = 0  # the waits in OPEN start again from the first
            self._failure_count = 0
        if state is _CLOSED or state is _METRICS_ONLY:
            self._new_window()  # CLOSED starts with an empty window
        elif state is _HALF_OPEN:
            self._half_open_since = now
            self._half_open_permits = 0
            self._probe_calls = self._probe_failures = self._probe_slow = 0
        self._refresh_fast()
        self._emit(
            {
                "time": now,
                "kind": "transition",
                "breaker": self._name,
                "state": state.value,
                "from_state": previous.value,
                "failure_rate": failure_rate,
                "slow_call_rate": slow_rate,
            }
        )

    def _new_window(self) -> None:
        self._recorded_apart += self._seq
        self._seq = 0
        self._failed_seqs.clear()
        self._slow_seqs.clear()
        if self._time_window is not None:
            self._time_window.clear()

    def _reject(self, now: float) -> None:
        self._rejected += 1
        failure_rate, slow_rate = self._rates()
        self._emit(
            {
                "time": now,
                "kind": "rejected",
                "breaker": self._name,
                "state": self._state.value,
                "from_state": None,
                "failure_rate": failure_rate,
                "slow_call_rate": slow_rate,
            }
        )

    def _emit(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        if self._listeners:
            self._outbox.append(event)

    def _retry_at(self) -> float | None:
        if self._state is _OPEN:
            return self._open_until
        return None

    # -- delivering events (the lock is not held) ------------------------------------------------

    def _flush(self) -> None:
        """Deliver the waiting events. One thread delivers at a time; a thread that finds another
        delivering leaves its events to it (it loops until the outbox is empty)."""
        while self._outbox:
            if not self._dispatching.acquire(blocking=False):
                return
            try:
                self._lock.acquire()
                try:
                    batch, self._outbox = self._outbox, []
                    listeners = self._listeners
                finally:
                    self._lock.release()
                for event in batch:
                    for listener in listeners:
                        try:
                            listener(event)
                        except Exception:
                            _log.exception(
                                "circuit breaker listener %r failed on %r", listener, event
                            )
            finally:
                self._dispatching.release()

    # -- the drivers -----------------------------------------------------------------------------

    def _acquire_or_error(self) -> CircuitOpenError | None:
        """Admit a call (``None``) or say why not, consistently with the decision."""
        self._lock.acquire()
        try:
            state = self._state
            if state is _CLOSED or state is _METRICS_ONLY or state is _DISABLED:
                self._admitted += 1
                return None
            if self._admit(self._clock()):
                error = None
            else:
                error = CircuitOpenError(self._name, self._state, self._retry_at())
        finally:
            self._lock.release()
        if self._outbox:
            self._flush()
        return error

    def _rejected_call(self, error: CircuitOpenError) -> Any:
        if self._fallback is not None:
            return self._fallback(error)
        raise error

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` through the breaker. A rejected call raises
        :class:`CircuitOpenError` (or returns ``fallback(error)``). For a coroutine function (or
        any function returning a coroutine) this returns a coroutine to await.

        >>> CircuitBreaker().call(lambda x: x * 2, 21)
        42
        """
        if inspect.iscoroutinefunction(fn):
            return self._call_async(fn, args, kwargs)
        return self._call_sync(fn, args, kwargs)

    def _call_sync(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        # The closed path, written out for speed: the same steps as try_acquire, then
        # on_success (a count window in CLOSED, not slow) without the method calls.
        lock = self._lock
        lock.acquire()
        if self._state is _CLOSED:
            self._admitted += 1
            lock.release()
        else:
            lock.release()
            error = self._acquire_or_error()
            if error is not None:
                return self._rejected_call(error)
        clock = self._clock
        start = clock()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self.on_error(clock() - start, exc)
            raise
        if type(result) is _CoroutineType:  # a lambda or partial returning a coroutine
            return self._finish_async(result, start)
        duration = clock() - start
        lock.acquire()
        try:
            if self._fast and duration <= self._slow_call_duration:
                self._seq = seq = self._seq + 1
                if seq != self._min_calls:
                    return result
                self._check(clock())
            else:
                self._record(clock(), duration, False)
        finally:
            lock.release()
        if self._outbox:
            self._flush()
        return result

    async def _finish_async(self, coroutine: Any, start: float) -> Any:
        try:
            result = await coroutine
        except BaseException as exc:
            self.on_error(self._clock() - start, exc)
            raise
        self.on_success(self._clock() - start)
        return result

    async def _call_async(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        error = self._acquire_or_error()
        if error is not None:
            result = self._rejected_call(error)
            return (await result) if inspect.isawaitable(result) else result
        clock = self._clock
        start = clock()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self.on_error(clock() - start, exc)
            raise
        self.on_success(clock() - start)
        return result

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use the breaker as a decorator, on a plain function or a coroutine function; the
        wrapper keeps the function's name, docstring and signature (``functools.wraps``) and has
        a ``breaker`` attribute."""
        if not callable(fn):
            raise TypeError(f"CircuitBreaker decorates a function, not {fn!r}")
        if inspect.iscoroutinefunction(fn):
            call_async = self._call_async

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await call_async(fn, args, kwargs)

            async_wrapper.breaker = self  # type: ignore[attr-defined]
            return async_wrapper

        call_sync = self._call_sync

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return call_sync(fn, args, kwargs)

        wrapper.breaker = self  # type: ignore[attr-defined]
        return wrapper

    def __enter__(self) -> CircuitBreaker:
        """``with breaker:`` guards a block: rejected -> :class:`CircuitOpenError` (no fallback
        here: a block cannot be skipped); an exception leaving the block is reported with
        :meth:`on_error`. Blocks may nest, in threads and asyncio tasks alike."""
        error = self._acquire_or_error()
        if error is not None:
            raise error
        _starts.set((*_starts.get(), self._clock()))
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        stack = _starts.get()
        start = stack[-1]
        _starts.set(stack[:-1])
        if exc is None:
            self.on_success(self._clock() - start)
        else:
            self.on_error(self._clock() - start, exc)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


for _attribute in _CONFIG:
    setattr(
        CircuitBreaker,
        _attribute,
        property(
            (lambda private: lambda self: getattr(self, private))(f"_{_attribute}"),
            doc=f"``{_attribute}`` as given to the constructor (read-only).",
        ),
    )
del _attribute


# Start times of the `with breaker:` blocks in progress, per thread and per asyncio task (each
# task runs in its own copy of the context), so blocks may nest and tasks may interleave.
_starts: contextvars.ContextVar[tuple[float, ...]] = contextvars.ContextVar(
    "distlab_breaker_starts", default=()
)
