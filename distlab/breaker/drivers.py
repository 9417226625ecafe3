"""The real drivers of a breaker: ``breaker.call(fn)``, ``@breaker``, ``with breaker:`` and their
asyncio forms. They own the clock (injectable, ``time.monotonic`` by default), read it around
each call and tell the sans-I/O core (:class:`~distlab.breaker.core.BreakerCore`) what happened.

The lock is never held while the protected call runs, so one slow call never blocks the others.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
import types
from collections.abc import Callable
from typing import Any

from distlab.breaker.config import BreakerConfig
from distlab.breaker.core import BreakerCore
from distlab.breaker.model import BreakerState, CircuitOpenError

__all__ = ["CircuitBreaker"]

_CoroutineType = types.CoroutineType
_CLOSED = BreakerState.CLOSED

# Start times of the `with breaker:` blocks in progress, per thread and per asyncio task (each
# task runs in its own copy of the context), so blocks may nest and tasks may interleave.
_starts: contextvars.ContextVar[tuple[float, ...]] = contextvars.ContextVar(
    "distlab_breaker_starts", default=()
)


class CircuitBreaker(BreakerCore):
    """A circuit breaker with resilience4j's semantics (see :mod:`distlab.breaker`).

    Args: the settings of :class:`~distlab.breaker.BreakerConfig` (``failure_rate_threshold``,
    ``slow_call_rate_threshold``, ``slow_call_duration``, ``minimum_calls``, ``window_type``,
    ``window_size``, ``wait_in_open``, ``permitted_calls_in_half_open``,
    ``max_wait_in_half_open``, ``automatic_transition``, ``record_on``, ``ignore``), then:

    - ``clock``: the time in seconds the drivers read (``time.monotonic``); tests and
      simulations pass their own;
    - ``name``: shown in errors and as the ``source`` of events;
    - ``fallback``: called with the :class:`CircuitOpenError` instead of raising it when a call
      is rejected; its result is returned (awaited for a coroutine function's call);
    - ``max_events``: how many events :meth:`events` keeps (the oldest are dropped).

    The settings are read-only once built (``breaker.config``, and one attribute each).
    Durations given to :meth:`on_success` and :meth:`on_error` are trusted.

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
        config = BreakerConfig(
            failure_rate_threshold=failure_rate_threshold,
            slow_call_rate_threshold=slow_call_rate_threshold,
            slow_call_duration=slow_call_duration,
            minimum_calls=minimum_calls,
            window_type=window_type,
            window_size=window_size,
            wait_in_open=wait_in_open,
            permitted_calls_in_half_open=permitted_calls_in_half_open,
            max_wait_in_half_open=max_wait_in_half_open,
            automatic_transition=automatic_transition,
            record_on=record_on,
            ignore=ignore,
        )
        self._setup(config, clock, name, fallback, max_events)

    def _setup(self, config, clock, name, fallback, max_events) -> None:
        if fallback is not None and not callable(fallback):
            raise TypeError(f"fallback={fallback!r} must be callable or None")
        super().__init__(config, clock=clock, name=name, max_events=max_events)
        self._fallback = fallback

    @classmethod
    def from_config(
        cls,
        config: BreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
        fallback: Callable[[CircuitOpenError], Any] | None = None,
        max_events: int = 10_000,
    ) -> CircuitBreaker:
        """A breaker with the settings of ``config``.

        >>> CircuitBreaker.from_config(BreakerConfig(window_size=5)).window_size
        5
        """
        self = cls.__new__(cls)
        self._setup(config, clock, name, fallback, max_events)
        return self

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
        ``kwargs``: more :class:`~distlab.breaker.BreakerConfig` settings (``record_on``,
        ``ignore``...), ``fallback`` or ``max_events``.

        >>> course = CircuitBreaker.consecutive(failures=2, wait_in_open=5)
        >>> for t in (0.0, 1.0):
        ...     _ = course.try_acquire(t); course.on_error(t, 0.0)
        >>> course.state_at(2.0).value, course.try_acquire(6.0)
        ('OPEN', True)
        """
        extra = {k: kwargs.pop(k) for k in ("fallback", "max_events") if k in kwargs}
        config = BreakerConfig(wait_in_open=wait_in_open, consecutive_failures=failures, **kwargs)
        return cls.from_config(config, clock=clock, name=name, **extra)

    @property
    def fallback(self) -> Callable[[CircuitOpenError], Any] | None:
        """What answers a rejected call instead of raising (``None``: raise)."""
        return self._fallback

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
        clock = self._clock
        lock.acquire()
        if self._state is _CLOSED:
            self._admitted += 1
            lock.release()
        else:
            lock.release()
            error = self._acquire_or_error(clock())
            if error is not None:
                return self._rejected_call(error)
        start = clock()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            duration = clock() - start
            self._report_error(clock(), duration, exc)
            raise
        if type(result) is _CoroutineType:  # a lambda or partial returning a coroutine
            return self._finish_async(result, start)
        duration = clock() - start
        lock.acquire()
        try:
            window = self._fast
            if window is not None and duration <= self._slow_s:
                window.seq = seq = window.seq + 1
                if seq != self._min_calls:
                    return result
                if self._policy.over_threshold(_CLOSED):
                    self._open(clock())
            else:
                self._record(clock(), duration, False)
        finally:
            lock.release()
        if self._listeners.pending:
            self._listeners.deliver()
        return result

    def _succeeded(self, start: float) -> None:
        duration = self._clock() - start
        with self._locked:
            self._record(self._clock(), duration, False)

    def _failed(self, start: float, exc: BaseException) -> None:
        duration = self._clock() - start
        self._report_error(self._clock(), duration, exc)

    async def _finish_async(self, coroutine: Any, start: float) -> Any:
        try:
            result = await coroutine
        except BaseException as exc:
            self._failed(start, exc)
            raise
        self._succeeded(start)
        return result

    async def _call_async(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        error = self._acquire_or_error(self._clock())
        if error is not None:
            result = self._rejected_call(error)
            return (await result) if inspect.isawaitable(result) else result
        start = self._clock()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._failed(start, exc)
            raise
        self._succeeded(start)
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
        error = self._acquire_or_error(self._clock())
        if error is not None:
            raise error
        _starts.set((*_starts.get(), self._clock()))
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        stack = _starts.get()
        start = stack[-1]
        _starts.set(stack[:-1])
        if exc is None:
            self._succeeded(start)
        else:
            self._failed(start, exc)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)
