"""Circuit breakers: a sans-I/O state machine with sliding windows, and its sync/asyncio drivers.

A :class:`CircuitBreaker` is told the time (by its ``clock``) and the outcome of each call it
admitted; it answers whether the next call may go through. It follows resilience4j's semantics:

- every admitted call that completes is recorded as a success or an error, and as *slow* when its
  duration exceeds ``slow_call_duration``; ignored exceptions are not recorded;
- the failure rate (and the slow-call rate) is taken over a sliding window, count-based (the last
  N calls) or time-based (the last N seconds, in one-second buckets), and nothing is decided
  before ``minimum_calls`` are recorded; the breaker opens when a rate is **at or above** its
  threshold;
- OPEN rejects every call until ``wait_in_open`` has passed (a call exactly at the deadline is
  still rejected); the next call moves it to HALF_OPEN, which admits at most
  ``permitted_calls_in_half_open`` probes and decides on them alone: close, reopen, or wait;
- a probe that never returns cannot wedge the breaker: after ``max_wait_in_half_open`` it reopens;
- entering CLOSED starts an empty window; the wait in OPEN may grow with each opening in a row;
- FORCED_OPEN, DISABLED and METRICS_ONLY are there for operators.

The lock is never held while the protected call runs, so one slow call never blocks the others.
:meth:`CircuitBreaker.consecutive` builds the course text's breaker, exactly, for comparison.

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
import math
import threading
import time
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
    BreakerState.FORCED_OPEN, BreakerState.DISABLED, BreakerState.METRICS_ONLY,
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
        if exponent > 1023 or initial * multiplier**exponent > maximum:
            return maximum
        return initial * multiplier**exponent

    return wait


@dataclass(frozen=True)
class BreakerMetrics:
    """A snapshot of a breaker's counters.

    ``failure_rate`` and ``slow_call_rate`` are percentages over the current window (``None``
    while fewer than the minimum calls are recorded). The totals count since creation or the
    last :meth:`CircuitBreaker.reset`: ``admitted = recorded + ignored + in_flight`` always holds,
    and ``rejected`` calls are counted apart.
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


# -- windows ------------------------------------------------------------------------------------


class _CountWindow:
    """The last ``size`` outcomes in a ring; running totals so that recording is O(1)."""

    __slots__ = ("size", "_ring", "_next", "calls", "failures", "slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self._ring = [0] * size  # 0 empty, else 1 | 2·failed | 4·slow
        self._next = 0
        self.calls = self.failures = self.slow = 0

    def record(self, now: float, failed: bool, slow: bool) -> None:
        old = self._ring[self._next]
        if old:
            self.calls -= 1
            self.failures -= (old >> 1) & 1
            self.slow -= (old >> 2) & 1
        self._ring[self._next] = 1 | (failed << 1) | (slow << 2)
        self._next = (self._next + 1) % self.size
        self.calls += 1
        self.failures += failed
        self.slow += slow

    def advance(self, now: float) -> None:
        """Count windows do not age."""


class _TimeWindow:
    """The outcomes of the last ``size`` seconds, in one-second buckets."""

    __slots__ = ("size", "_epochs", "_calls", "_failures", "_slow", "_latest", "calls",
                 "failures", "slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self._epochs = [-1] * size
        self._calls = [0] * size
        self._failures = [0] * size
        self._slow = [0] * size
        self._latest = -1
        self.calls = self.failures = self.slow = 0

    def advance(self, now: float) -> None:
        """Forget the buckets that fell out of the window by time ``now``."""
        second = math.floor(now)
        if second <= self._latest:
            return
        start = max(self._latest + 1, second - self.size + 1)
        for epoch in range(start, second + 1):
            i = epoch % self.size
            if self._epochs[i] != epoch:
                self.calls -= self._calls[i]
                self.failures -= self._failures[i]
                self.slow -= self._slow[i]
                self._epochs[i] = epoch
                self._calls[i] = self._failures[i] = self._slow[i] = 0
        self._latest = second

    def record(self, now: float, failed: bool, slow: bool) -> None:
        self.advance(now)
        i = math.floor(now) % self.size
        self._calls[i] += 1
        self._failures[i] += failed
        self._slow[i] += slow
        self.calls += 1
        self.failures += failed
        self.slow += slow


# -- the breaker ------------------------------------------------------------------------------


def _exception_predicate(name: str, spec: Any, *, allow_empty: bool) -> Callable[[BaseException], bool]:
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return lambda exc: isinstance(exc, spec)
    if isinstance(spec, tuple) and (spec or allow_empty) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in spec
    ):
        return (lambda exc: isinstance(exc, spec)) if spec else (lambda exc: False)
    if callable(spec) and not isinstance(spec, type):
        return lambda exc: bool(spec(exc))
    raise TypeError(
        f"{name}={spec!r} must be an exception type, a tuple of them, or a predicate exc -> bool"
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
            openings in a row returning seconds (see :func:`exponential_wait`).
        permitted_calls_in_half_open: probes admitted in HALF_OPEN.
        max_wait_in_half_open: seconds after which HALF_OPEN reopens if its probes have not all
            completed (``None``: wait forever).
        automatic_transition: move from OPEN to HALF_OPEN when the wait is over (at that very
            time, as a timer would) rather than on the first call after it.
        record_on: exceptions that count as failures (types, a tuple, or a predicate); any other
            exception counts as a success, as in resilience4j.
        ignore: exceptions that are not recorded at all.
        clock: the time in seconds (``time.monotonic``); tests and simulations pass their own.
        name: shown in errors and events.
        fallback: called with the :class:`CircuitOpenError` instead of raising it when a call
            is rejected; its result is returned.
        max_events: how many events :meth:`events` keeps (the oldest are dropped).

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
        self.failure_rate_threshold = check_number(
            "failure_rate_threshold", failure_rate_threshold, 0.0, 100.0, min_inclusive=False
        )
        self.slow_call_rate_threshold = check_number(
            "slow_call_rate_threshold", slow_call_rate_threshold, 0.0, 100.0, min_inclusive=False
        )
        self.slow_call_duration = check_number("slow_call_duration", slow_call_duration, 0.0)
        self.minimum_calls = check_int("minimum_calls", minimum_calls, 1)
        self.window_type = check_choice("window_type", window_type, ("count", "time"))
        self.window_size = check_int("window_size", window_size, 1)
        if callable(wait_in_open):
            self._wait_in_open = wait_in_open
        else:
            seconds = check_number("wait_in_open", wait_in_open, 0.0)
            self._wait_in_open = lambda openings: seconds
        self.wait_in_open = wait_in_open
        self.permitted_calls_in_half_open = check_int(
            "permitted_calls_in_half_open", permitted_calls_in_half_open, 1
        )
        self.max_wait_in_half_open = None if max_wait_in_half_open is None else check_number(
            "max_wait_in_half_open", max_wait_in_half_open, 0.0, min_inclusive=False
        )
        if not isinstance(automatic_transition, bool):
            raise TypeError(f"automatic_transition={automatic_transition!r} must be True or False")
        self.automatic_transition = automatic_transition
        self._records = _exception_predicate("record_on", record_on, allow_empty=True)
        self._ignores = _exception_predicate("ignore", ignore, allow_empty=True)
        if not callable(clock):
            raise TypeError(f"clock={clock!r} must be callable, returning seconds")
        if fallback is not None and not callable(fallback):
            raise TypeError(f"fallback={fallback!r} must be callable")
        self.clock = clock
        self.name = name
        self.fallback = fallback
        self._consecutive: int | None = None  # the course text's breaker, see consecutive()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[dict[str, Any]], Any]] = []
        self._events: deque[dict[str, Any]] = deque(maxlen=check_int("max_events", max_events, 0))
        self._state = _CLOSED
        self._openings = 0
        self._open_until = 0.0
        self._half_open_since = 0.0
        self._half_open_permits = 0
        self._failure_count = 0  # consecutive mode only
        self._new_window()
        self._admitted = self._recorded = self._ignored = self._rejected = 0
        self._successes = self._failures = self._slow = 0

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
        return breaker

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<CircuitBreaker{name} {self._state.value}>"

    # -- reading ---------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state (timed transitions are applied first)."""
        with self._lock:
            self._advance(self.clock())
            return self._state

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
        with self._lock:
            self._advance(self.clock())
            window = self._window
            failure_rate, slow_rate = self._rates()
            return BreakerMetrics(
                state=self._state,
                failure_rate=failure_rate,
                slow_call_rate=slow_rate,
                window_calls=window.calls,
                window_failures=window.failures,
                window_slow=window.slow,
                admitted=self._admitted,
                recorded=self._recorded,
                ignored=self._ignored,
                in_flight=self._admitted - self._recorded - self._ignored,
                rejected=self._rejected,
                successes=self._successes,
                failures=self._failures,
                slow=self._slow,
            )

    def events(self) -> list[dict[str, Any]]:
        """Every transition and rejection so far (the last ``max_events``), oldest first: dicts
        with ``time``, ``kind`` (``"transition"`` or ``"rejected"``), ``breaker``, ``state``
        (the state after the event), ``from_state`` (transitions) and the ``failure_rate`` and
        ``slow_call_rate`` at that moment; ``pandas.DataFrame(breaker.events())`` is a table."""
        with self._lock:
            return list(self._events)

    def subscribe(self, listener: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``listener(event)`` on every transition and rejection (after the lock is released
        is not guaranteed: keep listeners short and do not call the breaker from them)."""
        if not callable(listener):
            raise TypeError(f"listener={listener!r} must be callable")
        self._listeners.append(listener)

    # -- the sans-I/O decision step --------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Ask to make a call now: ``True`` admits it (report its outcome with
        :meth:`on_success` or :meth:`on_error`), ``False`` rejects it (counted, and an event)."""
        with self._lock:
            now = self.clock()
            state = self._state
            if state is _CLOSED or state is _METRICS_ONLY or state is _DISABLED:
                self._admitted += 1
                return True
            self._advance(now)
            state = self._state
            if state is _OPEN:
                if self._consecutive is not None:
                    admit = now >= self._open_until  # the course: `Date.now() < nextAttempt`
                else:
                    admit = now > self._open_until
                if not admit:
                    self._reject(now)
                    return False
                self._transition(_HALF_OPEN, now)
                state = _HALF_OPEN
            if state is _HALF_OPEN:
                if self._consecutive is None:
                    if self._half_open_permits >= self.permitted_calls_in_half_open:
                        self._reject(now)
                        return False
                    self._half_open_permits += 1
                self._admitted += 1
                return True
            if state is _CLOSED:  # _advance may have closed it (it never does today)
                self._admitted += 1
                return True
            self._reject(now)  # FORCED_OPEN
            return False

    def on_success(self, duration: float) -> None:
        """Report that an admitted call succeeded after ``duration`` seconds."""
        self._on_outcome(duration, failed=False)

    def on_error(self, duration: float, exc: BaseException | None = None) -> None:
        """Report that an admitted call failed after ``duration`` seconds with ``exc``.

        ``exc`` matching ``ignore`` is not recorded; one not matching ``record_on`` is recorded
        as a success. Without ``exc`` the call counts as a failure.
        """
        if exc is not None:
            if self._ignores(exc):
                with self._lock:
                    self._ignored += 1
                return
            if not self._records(exc):
                self._on_outcome(duration, failed=False)
                return
        self._on_outcome(duration, failed=True)

    def _on_outcome(self, duration: float, failed: bool) -> None:
        slow = duration > self.slow_call_duration
        with self._lock:
            now = self.clock()
            self._recorded += 1
            if failed:
                self._failures += 1
            else:
                self._successes += 1
            if slow:
                self._slow += 1
            state = self._state
            if state is _DISABLED:
                return
            if self._consecutive is not None:
                self._course_outcome(now, failed)
                return
            if state is _CLOSED or state is _METRICS_ONLY:
                self._window.record(now, failed, slow)
                if state is _CLOSED and self._should_open():
                    self._open(now)
            elif state is _HALF_OPEN:
                self._window.record(now, failed, slow)
                if self._window.calls >= self.permitted_calls_in_half_open:
                    if self._over_threshold():
                        self._open(now)
                    else:
                        self._transition(_CLOSED, now)
            # An outcome arriving in OPEN or FORCED_OPEN (a call admitted before it opened) is
            # counted above but decides nothing.

    def _course_outcome(self, now: float, failed: bool) -> None:
        if failed:
            self._failure_count += 1
            if self._failure_count >= self._consecutive:
                self._open(now)  # the course sets OPEN and a new deadline, even if already OPEN
        else:
            self._failure_count = 0
            if self._state is not _CLOSED:
                self._transition(_CLOSED, now)

    # -- operators -------------------------------------------------------------------------------

    def force_open(self) -> None:
        """Reject every call until :meth:`reset` (or another manual state)."""
        self._manual(_FORCED_OPEN)

    def disable(self) -> None:
        """Admit every call and record nothing."""
        self._manual(_DISABLED)

    def metrics_only(self) -> None:
        """Admit every call and record outcomes, but never open."""
        self._manual(_METRICS_ONLY)

    def reset(self) -> None:
        """Back to CLOSED with an empty window and zeroed counters."""
        with self._lock:
            self._admitted = self._recorded = self._ignored = self._rejected = 0
            self._successes = self._failures = self._slow = 0
            self._openings = 0
            self._transition(_CLOSED, self.clock(), force_event=True)

    def _manual(self, state: BreakerState) -> None:
        with self._lock:
            self._transition(state, self.clock(), force_event=True)

    # -- internals (the lock is held) ------------------------------------------------------------

    def _new_window(self, *, probes: bool = False) -> None:
        if probes:  # HALF_OPEN judges its probes by count, whatever the window type
            self._window = _CountWindow(self.permitted_calls_in_half_open)
        elif self.window_type == "count":
            self._window: _CountWindow | _TimeWindow = _CountWindow(self.window_size)
        else:
            self._window = _TimeWindow(self.window_size)

    def _minimum(self) -> int:
        if self._state is _HALF_OPEN:
            return self.permitted_calls_in_half_open
        if self.window_type == "count":
            return min(self.minimum_calls, self.window_size)
        return self.minimum_calls

    def _rates(self) -> tuple[float | None, float | None]:
        window = self._window
        if self._consecutive is not None or window.calls < self._minimum() or not window.calls:
            return None, None
        return 100.0 * window.failures / window.calls, 100.0 * window.slow / window.calls

    def _over_threshold(self) -> bool:
        failure_rate, slow_rate = self._rates()
        if failure_rate is None:
            return False
        return (failure_rate >= self.failure_rate_threshold
                or slow_rate >= self.slow_call_rate_threshold)

    def _should_open(self) -> bool:
        return self._window.calls >= self._minimum() and self._over_threshold()

    def _open(self, now: float) -> None:
        self._openings += 1
        wait = float(self._wait_in_open(self._openings))
        if not wait >= 0:
            raise ValueError(f"wait_in_open({self._openings}) returned {wait!r}: it must be >= 0")
        self._open_until = now + wait
        self._transition(_OPEN, now, force_event=self._consecutive is not None)

    def _advance(self, now: float) -> None:
        """Apply the transitions that time alone makes: the automatic OPEN -> HALF_OPEN, and the
        reopening of a HALF_OPEN whose probes did not come back in time."""
        self._window.advance(now)
        if self._state is _OPEN and self.automatic_transition and now > self._open_until:
            self._transition(_HALF_OPEN, self._open_until)
        if (self._state is _HALF_OPEN and self.max_wait_in_half_open is not None
                and now >= self._half_open_since + self.max_wait_in_half_open):
            self._open(self._half_open_since + self.max_wait_in_half_open)

    def _transition(self, state: BreakerState, now: float, *, force_event: bool = False) -> None:
        previous = self._state
        if previous is state and not force_event:
            return
        failure_rate, slow_rate = self._rates()
        self._state = state
        if state is _CLOSED:
            self._openings = 0
            self._failure_count = 0
        if state in (_CLOSED, _METRICS_ONLY):
            self._new_window()  # CLOSED starts with an empty window
        elif state is _HALF_OPEN:
            self._new_window(probes=True)  # HALF_OPEN judges its probes alone
        if state is _HALF_OPEN:
            self._half_open_since = now
            self._half_open_permits = 0
        self._emit({
            "time": now, "kind": "transition", "breaker": self.name, "state": state.value,
            "from_state": previous.value, "failure_rate": failure_rate,
            "slow_call_rate": slow_rate,
        })

    def _reject(self, now: float) -> None:
        self._rejected += 1
        failure_rate, slow_rate = self._rates()
        self._emit({
            "time": now, "kind": "rejected", "breaker": self.name, "state": self._state.value,
            "from_state": None, "failure_rate": failure_rate, "slow_call_rate": slow_rate,
        })

    def _emit(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        for listener in self._listeners:
            listener(event)

    def _retry_at(self) -> float | None:
        if self._state is _OPEN:
            return self._open_until
        return None

    def _rejection(self) -> CircuitOpenError:
        with self._lock:
            return CircuitOpenError(self.name, self._state, self._retry_at())

    # -- the drivers -----------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` through the breaker. A rejected call raises
        :class:`CircuitOpenError` (or returns ``fallback(error)``). For a coroutine function this
        returns a coroutine to await.

        >>> CircuitBreaker().call(lambda x: x * 2, 21)
        42
        """
        if inspect.iscoroutinefunction(fn):
            return self._call_async(fn, args, kwargs)
        if not self.try_acquire():
            return self._rejected_call()
        start = self.clock()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._after_exception(start, exc)
            raise
        self.on_success(self.clock() - start)
        return result

    async def _call_async(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        if not self.try_acquire():
            return self._rejected_call()
        start = self.clock()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._after_exception(start, exc)
            raise
        self.on_success(self.clock() - start)
        return result

    def _after_exception(self, start: float, exc: BaseException) -> None:
        if isinstance(exc, Exception):
            self.on_error(self.clock() - start, exc)
        else:  # KeyboardInterrupt, a cancelled task: the call did not fail, it was stopped
            with self._lock:
                self._ignored += 1

    def _rejected_call(self) -> Any:
        error = self._rejection()
        if self.fallback is not None:
            return self.fallback(error)
        raise error

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use the breaker as a decorator, on a plain function or a coroutine function."""
        if not callable(fn):
            raise TypeError(f"CircuitBreaker decorates a function, not {fn!r}")
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self._call_async(fn, args, kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(fn, *args, **kwargs)

        return wrapper

    def __enter__(self) -> CircuitBreaker:
        """``with breaker:`` guards a block: rejected -> :class:`CircuitOpenError` (no fallback
        here: a block cannot be skipped); an exception leaving the block is an error."""
        if not self.try_acquire():
            raise self._rejection()
        _starts.set((*_starts.get(), self.clock()))
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        stack = _starts.get()
        start = stack[-1]
        _starts.set(stack[:-1])
        if exc is None:
            self.on_success(self.clock() - start)
        else:
            self._after_exception(start, exc)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


# Start times of the `with breaker:` blocks in progress, per thread and per asyncio task (each
# task runs in its own copy of the context), so blocks may nest and tasks may interleave.
_starts: contextvars.ContextVar[tuple[float, ...]] = contextvars.ContextVar(
    "distlab_breaker_starts", default=()
)
