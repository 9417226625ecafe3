"""The sans-I/O state machine of a circuit breaker: told the time and the outcome of each call.

:class:`BreakerCore` never reads a clock to decide: :meth:`~BreakerCore.try_acquire`,
:meth:`~BreakerCore.on_success`, :meth:`~BreakerCore.on_error` and
:meth:`~BreakerCore.state_at` take ``now`` (seconds) from their caller. Its ``clock`` is used
only by the conveniences that read it without being told (``state``, ``metrics()``, the
operators) and by the drivers of :class:`~distlab.breaker.CircuitBreaker`.

>>> from distlab.breaker.config import BreakerConfig
>>> core = BreakerCore(BreakerConfig(minimum_calls=2, window_size=4, wait_in_open=10))
>>> for t in (0.0, 1.0):
...     if core.try_acquire(t):
...         core.on_error(t, duration=0.1)
>>> core.state_at(5.0).value, core.try_acquire(5.0), core.try_acquire(11.5)
('OPEN', False, True)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from distlab._validate import check_int
from distlab.breaker.config import BreakerConfig, ConfigAttributes
from distlab.breaker.model import BreakerEvent, BreakerMetrics, BreakerState, CircuitOpenError
from distlab.breaker.policy import ConsecutivePolicy, decision_policy
from distlab.breaker.windows import CountWindow
from distlab.observe import Listeners

__all__ = ["BreakerCore", "MAX_EVENTS"]

_CLOSED, _OPEN, _HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
_FORCED_OPEN, _DISABLED = BreakerState.FORCED_OPEN, BreakerState.DISABLED
_METRICS_ONLY = BreakerState.METRICS_ONLY
_ADMIT_ALL = (_CLOSED, _METRICS_ONLY, _DISABLED)

#: The most events a breaker may be asked to keep.
MAX_EVENTS = 10_000_000


def check_now(now: Any, name: str = "now") -> float:
    """``now`` if it is a finite number of seconds (cheap enough for every call)."""
    try:
        finite = -math.inf < now < math.inf
    except TypeError:
        raise TypeError(f"{name}={now!r} must be a number of seconds") from None
    if not finite:
        raise ValueError(f"{name}={now!r} must be a finite number of seconds")
    return now


class _Locked:
    """``with core._locked:`` holds the breaker's lock, then delivers the events it queued."""

    __slots__ = ("_lock", "_listeners")

    def __init__(self, lock: threading.Lock, listeners: Listeners) -> None:
        self._lock = lock
        self._listeners = listeners

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc_info: Any) -> None:
        self._lock.release()
        if self._listeners.pending:
            self._listeners.deliver()


class BreakerCore(ConfigAttributes):
    """The decision step of a circuit breaker (see the module); thread-safe.

    Args:
        config: the settings (a :class:`~distlab.breaker.config.BreakerConfig`).
        clock: read only when no ``now`` is given (``state``, ``metrics()``, the operators).
        name: shown in errors and as the ``source`` of events.
        max_events: how many events :meth:`events` keeps (the oldest are dropped).
    """

    def __init__(
        self,
        config: BreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        max_events: int = 10_000,
    ) -> None:
        if not isinstance(config, BreakerConfig):
            raise TypeError(f"config={config!r} must be a distlab.breaker.BreakerConfig")
        if not callable(clock):
            raise TypeError(f"clock={clock!r} must be callable, returning seconds")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name={name!r} must be a string or None")
        self.config = config
        self._clock = clock
        self._name = name
        self._listeners = Listeners(name, check_int("max_events", max_events, 0, MAX_EVENTS))
        self._lock = threading.Lock()
        self._locked = _Locked(self._lock, self._listeners)
        self._policy = decision_policy(config)
        self._slow_s = config.slow_call_duration
        self._min_calls = config.min_calls
        self._admitted = self._ignored = self._rejected = 0
        self._failures = self._slow = 0
        self._state = _CLOSED
        self._openings = 0
        self._open_until = self._half_open_since = 0.0
        self._fast: CountWindow | None = None  # CLOSED, count window, rates: the fast path's
        self._refresh_fast()

    @property
    def name(self) -> str | None:
        """The breaker's name (``None`` if it has none)."""
        return self._name

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the conveniences and the real drivers read."""
        return self._clock

    def __repr__(self) -> str:
        name = f" {self._name!r}" if self._name else ""
        return f"<{type(self).__name__}{name} {self._state.value}>"

    # -- the decision step (told the time) -------------------------------------------------------

    def try_acquire(self, now: float) -> bool:
        """Ask to make a call at ``now``: ``True`` admits it (report its outcome with
        :meth:`on_success` or :meth:`on_error`), ``False`` rejects it (counted, and an event)."""
        check_now(now)
        with self._locked:
            if self._state in _ADMIT_ALL:
                self._admitted += 1
                return True
            return self._admit(now)

    def on_success(self, now: float, duration: float) -> None:
        """Report at ``now`` that an admitted call succeeded after ``duration`` seconds."""
        check_now(now)
        with self._locked:
            self._record(now, duration, False)

    def on_error(self, now: float, duration: float, exc: BaseException | None = None) -> None:
        """Report at ``now`` that an admitted call raised ``exc`` after ``duration`` seconds:
        not recorded if ``exc`` matches ``ignore``; a failure if it matches ``record_on`` (or no
        ``exc``); else a success for an ``Exception``, not recorded for a ``BaseException``."""
        check_now(now)
        self._report_error(now, duration, exc)

    def state_at(self, now: float) -> BreakerState:
        """The state at ``now`` (timed transitions up to ``now`` applied first)."""
        check_now(now)
        with self._locked:
            self._advance(now)
            return self._state

    @property
    def state(self) -> BreakerState:
        """The state now, by the breaker's clock: ``state_at(clock())``."""
        return self.state_at(self._clock())

    # -- observation -----------------------------------------------------------------------------

    def metrics(self, now: float | None = None) -> BreakerMetrics:
        """A consistent snapshot of the state, the window and the counters at ``now`` (default:
        the breaker's clock)."""
        now = self._clock() if now is None else check_now(now)
        with self._locked:
            self._advance(now)
            if self._state is _CLOSED or self._state is _METRICS_ONLY:
                self._policy.window.advance(now)
            return self._policy.snapshot(
                self._state, admitted=self._admitted, ignored=self._ignored,
                rejected=self._rejected, failures=self._failures, slow=self._slow,
            )  # fmt: skip

    @property
    def failure_rate(self) -> float | None:
        """Percent of the window's recorded calls that failed; ``None`` below the minimum."""
        return self.metrics().failure_rate

    @property
    def slow_call_rate(self) -> float | None:
        """Percent of the window's recorded calls that were slow; ``None`` below the minimum."""
        return self.metrics().slow_call_rate

    def events(self) -> list[BreakerEvent]:
        """Every transition and rejection so far (the last ``max_events``), oldest first, as
        :class:`~distlab.breaker.BreakerEvent`; ``pd.DataFrame(events_rows(b.events()))`` is a
        table."""
        return self._listeners.recent()

    def subscribe(self, listener: Callable[[BreakerEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later transition and rejection (after the lock is
        released, in order; an exception is logged, never raised); returns the unsubscriber."""
        return self._listeners.subscribe(listener)

    # -- operators -------------------------------------------------------------------------------

    def force_open(self, now: float | None = None) -> None:
        """Reject every call until :meth:`reset` (or another manual state)."""
        self._manual(_FORCED_OPEN, now)

    def disable(self, now: float | None = None) -> None:
        """Admit every call and record nothing (the window is left as it was)."""
        self._manual(_DISABLED, now)

    def metrics_only(self, now: float | None = None) -> None:
        """Admit every call and record outcomes in a fresh window, but never open."""
        self._manual(_METRICS_ONLY, now)

    def reset(self, now: float | None = None) -> None:
        """Back to CLOSED with an empty window and zeroed counters (calls still in flight stay
        counted as admitted, so that the totals keep adding up when they complete)."""
        now = self._clock() if now is None else check_now(now)
        with self._locked:
            self._advance(now)
            policy = self._policy
            in_flight = self._admitted - policy.recorded - self._ignored
            self._transition(_CLOSED, now, force_event=True)
            self._admitted = in_flight
            self._ignored = self._rejected = self._failures = self._slow = 0
            policy.reset_totals()

    def _manual(self, state: BreakerState, now: float | None) -> None:
        now = self._clock() if now is None else check_now(now)
        with self._locked:
            self._advance(now)
            self._transition(state, now, force_event=True)

    # -- internals (the lock is held unless said otherwise) --------------------------------------

    def _refresh_fast(self) -> None:
        policy = self._policy
        fast = self._state is _CLOSED and not isinstance(policy, ConsecutivePolicy)
        self._fast = policy.window if fast and isinstance(policy.window, CountWindow) else None

    def _acquire_or_error(self, now: float) -> CircuitOpenError | None:
        """Admit a call (``None``) or say why not (the lock is not held; the drivers' step)."""
        with self._locked:
            if self._state in _ADMIT_ALL:
                self._admitted += 1
                return None
            if self._admit(now):
                return None
            return CircuitOpenError(self._name, self._state, self._retry_at())

    def _report_error(self, now: float, duration: float, exc: BaseException | None) -> None:
        """on_error without checking ``now`` (the lock is not held; the drivers' step)."""
        config = self.config
        if exc is None:
            failed = True
        elif config.is_ignored(exc):
            return self._on_ignored(now)
        else:
            failed = config.is_recorded_failure(exc)
            if not failed and not isinstance(exc, Exception):
                return self._on_ignored(now)
        with self._locked:
            self._record(now, duration, failed)

    def _admit(self, now: float) -> bool:
        """try_acquire beyond the trivially admitting states."""
        self._advance(now)
        state = self._state
        policy = self._policy
        if state is _OPEN:
            deadline = self._open_until
            if not (now >= deadline if policy.admits_at_deadline else now > deadline):
                return self._reject(now)
            self._transition(_HALF_OPEN, now)
            state = _HALF_OPEN
        if state is _HALF_OPEN and not policy.take_permit():
            return self._reject(now)
        if state is _FORCED_OPEN:
            return self._reject(now)
        self._admitted += 1
        return True

    def _on_ignored(self, now: float) -> None:
        with self._locked:
            self._advance(now)
            self._ignored += 1
            if self._state is _HALF_OPEN:
                self._policy.give_back_permit()

    def _record(self, now: float, duration: float, failed: bool) -> None:
        """Record a completed call (any state, any window)."""
        self._advance(now)
        slow = duration > self._slow_s
        if failed:
            self._failures += 1
        if slow:
            self._slow += 1
        verdict = self._policy.record(self._state, now, failed, slow)
        if verdict is _OPEN:
            self._open(now)
        elif verdict is _CLOSED:
            self._transition(_CLOSED, now)

    def _open(self, now: float) -> None:
        openings = self._openings + 1
        wait = self.config.wait_for(openings)  # may raise: nothing has changed yet
        self._openings = openings
        self._open_until = now + wait
        self._transition(_OPEN, now, force_event=self.config.consecutive_failures is not None)

    def _advance(self, now: float) -> None:
        """Apply the transitions that time alone makes, dated when a timer would have made them:
        the automatic OPEN -> HALF_OPEN after the wait, and the reopening of a HALF_OPEN whose
        probes did not come back within ``max_wait_in_half_open``."""
        if self._state is not _OPEN and self._state is not _HALF_OPEN:
            return
        automatic = self.config.automatic_transition
        max_wait = self.config.max_wait_in_half_open
        while True:
            state = self._state
            if state is _OPEN and automatic and now > self._open_until:
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
        policy = self._policy
        failure_rate, slow_rate = policy.rates(previous)
        self._state = state
        if state is _CLOSED:
            self._openings = 0  # the waits in OPEN start again from the first
            policy.restart_count()
        if state is _CLOSED or state is _METRICS_ONLY:
            policy.new_window()  # CLOSED starts with an empty window
        elif state is _HALF_OPEN:
            self._half_open_since = now
            policy.start_half_open()
        self._refresh_fast()
        self._emit("transition", now, state, previous, failure_rate, slow_rate)

    def _reject(self, now: float) -> bool:
        self._rejected += 1
        failure_rate, slow_rate = self._policy.rates(self._state)
        self._emit("rejected", now, self._state, None, failure_rate, slow_rate)
        return False

    def _emit(self, kind, now, state, previous, failure_rate, slow_rate) -> None:
        self._listeners.emit(
            BreakerEvent(
                time=now,
                kind=kind,
                source=self._name,
                state=state.value,
                from_state=None if previous is None else previous.value,
                failure_rate=failure_rate,
                slow_call_rate=slow_rate,
            )
        )

    def _retry_at(self) -> float | None:
        return self._open_until if self._state is _OPEN else None
