"""Retries with backoff and jitter: a sans-I/O retry policy and its sync and asyncio drivers.

The core decides, the drivers act. A :class:`RetryPolicy` starts a :class:`RetryState` for each
call; after every failed attempt the state answers either "attempt again after 0.37 s" or "give
up". It never sleeps or reads a clock itself, so the same policy drives simulated time (see
:func:`distlab.sim.retry_call`), plain functions (``time.sleep``) and coroutines
(``asyncio.sleep``), and tests inject a fake clock and never sleep for real.

Delay before retry n (n = 1, 2, ...), with v_n = min(cap, base·2^(n-1)):

=================  ======================================================
no jitter          v_n
``"full"``         U(0, v_n)
``"equal"``        v_n/2 + U(0, v_n/2)
``"decorrelated"`` s_n = min(cap, U(base, 3·s_(n-1))), s_0 = base
=================  ======================================================

>>> from distlab.retry import RetryPolicy, ExponentialBackoff
>>> policy = RetryPolicy(max_attempts=4, backoff=ExponentialBackoff(base=0.1, cap=1.0, jitter="full"), rng=7)
>>> [round(d, 3) for d in policy.delays()]
[0.063, 0.179, 0.31]
>>> @policy
... def fetch():
...     return "ok"
>>> fetch()
'ok'

This module imports neither SimPy nor pandas nor matplotlib: it is meant for production code.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import numbers
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from distlab._validate import check_choice, check_int, check_number

__all__ = [
    "Backoff",
    "ConstantBackoff",
    "Decision",
    "ExponentialBackoff",
    "JITTERS",
    "NoBackoff",
    "RetryBudget",
    "RetryPolicy",
    "RetryState",
    "RetryStats",
]

JITTERS = (None, "full", "equal", "decorrelated")


class UniformSource(Protocol):
    """Anything with ``uniform(low, high)``, such as a ``numpy.random.Generator``."""

    def uniform(self, low: float, high: float) -> float: ...


# -- backoff ----------------------------------------------------------------------------------


class Backoff:
    """How long to wait before retry ``n``. Subclasses implement :meth:`delay`."""

    def delay(self, n: int, previous: float | None, rng: UniformSource) -> float:
        """The wait in seconds before retry ``n`` (1-based); ``previous`` is the last wait."""
        raise NotImplementedError  # pragma: no cover - abstract

    def delays(self, rng: UniformSource) -> Iterator[float]:
        """The waits before retries 1, 2, 3, ... (an endless iterator).

        >>> from itertools import islice
        >>> list(islice(ExponentialBackoff(base=1.0).delays(None), 4))
        [1.0, 2.0, 4.0, 8.0]
        """
        previous = None
        n = 1
        while True:
            previous = self.delay(n, previous, rng)
            yield previous
            n += 1


@dataclass(frozen=True)
class NoBackoff(Backoff):
    """Retry at once.

    >>> NoBackoff().delay(3, None, None)
    0.0
    """

    def delay(self, n: int, previous: float | None, rng: UniformSource) -> float:
        return 0.0


@dataclass(frozen=True)
class ConstantBackoff(Backoff):
    """Wait the same ``delay`` seconds before every retry.

    >>> ConstantBackoff(0.5).delay(7, None, None)
    0.5
    """

    delay_s: float = 1.0

    def __init__(self, delay: float = 1.0) -> None:
        object.__setattr__(self, "delay_s", check_number("delay", delay, 0.0))

    def delay(self, n: int, previous: float | None, rng: UniformSource) -> float:
        return self.delay_s


@dataclass(frozen=True)
class ExponentialBackoff(Backoff):
    """Exponential backoff from ``base`` seconds, doubling, at most ``cap``, with optional jitter.

    ``jitter`` is ``None`` (no jitter), ``"full"``, ``"equal"`` or ``"decorrelated"`` (see the
    module docstring for the formulas; they follow Marc Brooker's "Exponential Backoff And
    Jitter", with the first retry waiting ``base``).

    >>> ExponentialBackoff(base=1.0).delay(3, None, None)
    4.0
    >>> ExponentialBackoff(base=1.0, cap=3.0).delay(3, None, None)
    3.0
    """

    base: float = 1.0
    cap: float | None = None
    jitter: str | None = None

    def __post_init__(self) -> None:
        base = check_number("base", self.base, 0.0)
        cap = self.cap
        if cap is not None:
            cap = check_number("cap", cap, 0.0, allow_inf=True)
            if cap < base:
                raise ValueError(f"cap={cap:g} must be at least base={base:g}")
        check_choice("jitter", self.jitter, JITTERS)
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "cap", cap)
        # not a field: the cap as a float (inf when there is none), read on every delay
        object.__setattr__(self, "_cap", math.inf if cap is None else cap)

    def _ceiling(self, n: int) -> float:
        """v_n = min(cap, base·2^(n-1)), exact for every n >= 1 and never overflowing.

        ``ldexp`` scales by a power of two exactly; it raises ``OverflowError`` only when the
        result exceeds the largest float, and then the cap (or infinity) is the answer.

        >>> ExponentialBackoff(base=1e-300, cap=1.0)._ceiling(10**9)
        1.0
        >>> ExponentialBackoff(base=5e-324)._ceiling(1100)  # 2^1099 times the smallest float
        33554432.0
        """
        base = self.base
        if base == 0.0:
            return 0.0
        try:
            value = math.ldexp(base, n - 1)
        except OverflowError:
            return self._cap
        return value if value < self._cap else self._cap

    def delay(self, n: int, previous: float | None, rng: UniformSource) -> float:
        jitter = self.jitter
        if jitter is None:
            return self._ceiling(n)
        if jitter == "full":
            return float(rng.uniform(0.0, self._ceiling(n)))
        if jitter == "equal":
            half = self._ceiling(n) / 2
            return half + float(rng.uniform(0.0, half))
        last = self.base if previous is None else previous
        return min(self._cap, float(rng.uniform(self.base, 3.0 * last)))


# -- budget -----------------------------------------------------------------------------------


class RetryBudget:
    """gRPC-style retry throttling, shared between policies (thread-safe).

    The token count starts at ``max_tokens`` and stays within [0, ``max_tokens``]; every failed
    attempt takes 1 token, every success gives back ``token_ratio``. Retries are allowed only
    while the count is above ``max_tokens / 2``. As in gRPC (proposal A6), a policy charges only
    the failures it would retry: an exception outside its ``retry_on`` costs nothing. When a dependency keeps failing, the budget runs
    dry and retries stop, so they cannot multiply the load on it.

    >>> budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    >>> for _ in range(2):
    ...     budget.on_failure()
    >>> budget.tokens, budget.allows_retry()
    (2.0, False)
    >>> budget.on_success(); budget.allows_retry()
    True
    """

    def __init__(self, max_tokens: float = 10, token_ratio: float = 0.1) -> None:
        self.max_tokens = check_number("max_tokens", max_tokens, 0.0, min_inclusive=False)
        self.token_ratio = check_number("token_ratio", token_ratio, 0.0, 1.0, min_inclusive=False)
        self._tokens = self.max_tokens
        self._lock = threading.Lock()

    @property
    def tokens(self) -> float:
        """The current token count."""
        return self._tokens

    def on_failure(self) -> None:
        """Record a failed attempt: one token less (never below 0)."""
        with self._lock:
            self._tokens = max(0.0, self._tokens - 1.0)

    def on_success(self) -> None:
        """Record a successful attempt: ``token_ratio`` more (never above ``max_tokens``)."""
        with self._lock:
            self._tokens = min(self.max_tokens, self._tokens + self.token_ratio)

    def allows_retry(self) -> bool:
        """Whether a retry may be sent now (tokens above half of ``max_tokens``)."""
        return self._tokens > self.max_tokens / 2

    def __repr__(self) -> str:
        return (
            f"RetryBudget(max_tokens={self.max_tokens:g}, token_ratio={self.token_ratio:g}, "
            f"tokens={self._tokens:g})"
        )


# -- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt: ``retry`` after ``delay`` seconds, or stop.

    ``reason`` says why it stopped: ``"success"``, ``"not retryable"``, ``"attempts"`` (all
    ``max_attempts`` used), ``"deadline"`` (the next attempt would start after it) or
    ``"budget"`` (the retry budget refused).
    """

    retry: bool
    delay: float = 0.0
    reason: str = ""


_NOTHING = object()

# Decisions are immutable: the ones without a delay are shared instead of built per attempt.
_SUCCESS = Decision(False, reason="success")
_NOT_RETRYABLE = Decision(False, reason="not retryable")
_ATTEMPTS = Decision(False, reason="attempts")
_DEADLINE = Decision(False, reason="deadline")
_BUDGET = Decision(False, reason="budget")
_GO = Decision(True)


class RetryState:
    """One call's progress through a :class:`RetryPolicy`: the sans-I/O decision step.

    A driver calls :meth:`after_attempt` once per attempt with the time and the outcome and does
    what the returned :class:`Decision` says. A driver whose waits may overrun (a real
    ``sleep``) also asks :meth:`before_attempt` when it wakes up, so that no attempt starts
    after the deadline.

    >>> policy = RetryPolicy(max_attempts=2, backoff=ConstantBackoff(0.5))
    >>> state = policy.start(now=0.0)
    >>> state.after_attempt(now=0.1, exception=TimeoutError())
    Decision(retry=True, delay=0.5, reason='')
    >>> state.after_attempt(now=0.7, exception=TimeoutError())
    Decision(retry=False, delay=0.0, reason='attempts')
    """

    def __init__(self, policy: RetryPolicy, now: float, rng: UniformSource) -> None:
        self.policy = policy
        self.started = float(now)
        self.attempts = 0
        self.total_wait = 0.0
        self.last_delay: float | None = None
        self._rng = rng
        self._recorded = False  # counted in the policy's statistics (drivers only)

    def after_attempt(
        self, now: float, *, exception: BaseException | None = None, result: Any = _NOTHING
    ) -> Decision:
        """Record one attempt that ended at ``now`` with ``exception`` or ``result``; decide.

        An exception the policy does not retry (see ``retry_on``) and a result it accepts both
        stop at once; anything else is retried while attempts, deadline and budget allow.
        """
        policy = self.policy
        self.attempts += 1
        failed = exception is not None or (
            result is not _NOTHING
            and policy.retry_on_result is not None
            and policy.retry_on_result(result)
        )
        budget = policy.budget
        if not failed:
            if budget is not None:
                budget.on_success()
            return _SUCCESS
        if exception is not None and not policy._retryable(exception):
            # gRPC A6: only failures that qualify for a retry count against the budget, so a
            # malformed request is not mistaken for a struggling server.
            return _NOT_RETRYABLE
        if budget is not None:
            budget.on_failure()
        if self.attempts >= policy.max_attempts:
            return _ATTEMPTS
        delay = policy.backoff.delay(self.attempts, self.last_delay, self._rng)
        if policy.deadline is not None and now + delay > self.started + policy.deadline:
            return _DEADLINE
        if budget is not None and not budget.allows_retry():
            return _BUDGET
        self.last_delay = delay
        self.total_wait += delay
        return Decision(True, delay=delay)

    def before_attempt(self, now: float) -> Decision:
        """Whether the retry about to start at ``now`` may still start: a wait that overran
        (a real ``sleep`` is never exact) must not push an attempt past the deadline.

        >>> policy = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(1.0), deadline=1.5)
        >>> state = policy.start(now=0.0)
        >>> state.after_attempt(now=0.5, exception=OSError()).delay
        1.0
        >>> state.before_attempt(now=1.5).retry, state.before_attempt(now=1.6).reason
        (True, 'deadline')
        """
        deadline = self.policy.deadline
        if deadline is not None and now > self.started + deadline:
            return _DEADLINE
        return _GO


# -- statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryStats:
    """Counts over every call made through one policy (a consistent snapshot).

    ``calls`` started, ``attempts`` made, ``retries`` (attempts after the first), ``successes``,
    ``give_ups`` (calls that ended in an exception or an unaccepted result), ``total_wait``
    seconds slept between attempts.
    """

    calls: int = 0
    attempts: int = 0
    retries: int = 0
    successes: int = 0
    give_ups: int = 0
    total_wait: float = 0.0


# -- the policy and its drivers ---------------------------------------------------------------


def _make_rng(rng: Any) -> UniformSource:
    if rng is None or isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng is not None and rng < 0:
            raise ValueError(f"rng={rng} must be a non-negative int seed")
        return np.random.default_rng(None if rng is None else int(rng))
    if callable(getattr(rng, "uniform", None)):
        return rng
    raise TypeError(
        f"rng={rng!r} must be an int seed, a numpy.random.Generator or an object with "
        ".uniform(low, high)"
    )


def _is_async(fn: Any) -> bool:
    """A coroutine function, or a callable object whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(fn) or (
        not inspect.isroutine(fn) and inspect.iscoroutinefunction(getattr(fn, "__call__", None))
    )


class RetryPolicy:
    """Retry a call on failure, waiting according to ``backoff`` between attempts.

    Args:
        max_attempts: attempts in all, the first included (``1`` never retries).
        backoff: a :class:`Backoff`; default ``ExponentialBackoff()`` (1 s, 2 s, 4 s, ...).
        deadline: seconds from the first attempt after which no new attempt is started.
        retry_on: exception types (a type or a tuple) or a predicate ``exc -> bool``; any other
            exception propagates at once.
        retry_on_result: optional predicate ``result -> bool``; True asks for another attempt.
        budget: an optional :class:`RetryBudget`, which may be shared between policies.
        rng: an int seed, a ``numpy.random.Generator`` or anything with ``.uniform``.
        sleep: replaces ``time.sleep`` in the sync driver (tests pass a fake).
        async_sleep: replaces ``asyncio.sleep`` in the asyncio driver.
        clock: replaces ``time.monotonic`` (seconds).
        on_retry: called as ``on_retry(state, exception_or_result, delay)`` before each wait.
        on_give_up: called as ``on_give_up(state, exception_or_result, reason)`` when it stops
            on a failure.

    When the policy gives up it re-raises the last exception unchanged; the number of attempts
    is in ``exc.retry_attempts`` and in a note on the exception. A result refused by
    ``retry_on_result`` on the last attempt is returned as it is. Exceptions that are not
    ``Exception`` s (``KeyboardInterrupt``, ``asyncio.CancelledError``) are never retried and
    never charged to the budget; the call is counted as given up.

    >>> calls = []
    >>> policy = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(0.0))
    >>> @policy
    ... def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ConnectionError("try again")
    ...     return "done"
    >>> flaky(), len(calls)
    ('done', 3)
    >>> policy.stats
    RetryStats(calls=1, attempts=3, retries=2, successes=1, give_ups=0, total_wait=0.0)

    Giving up re-raises the last exception itself, with the attempt count:

    >>> @RetryPolicy(max_attempts=2, backoff=NoBackoff())
    ... def down():
    ...     raise ConnectionError("refused")
    >>> try:
    ...     down()
    ... except ConnectionError as exc:
    ...     print(exc, exc.retry_attempts, exc.__notes__)
    refused 2 ['distlab.retry: gave up after 2 attempts (attempts)']
    """

    def __init__(
        self,
        max_attempts: int = 3,
        backoff: Backoff | None = None,
        deadline: float | None = None,
        retry_on: type[BaseException]
        | tuple[type[BaseException], ...]
        | Callable[[BaseException], bool] = Exception,
        retry_on_result: Callable[[Any], bool] | None = None,
        budget: RetryBudget | None = None,
        rng: Any = None,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] | None = None,
        *,
        async_sleep: Callable[[float], Any] | None = None,
        on_retry: Callable[..., Any] | None = None,
        on_give_up: Callable[..., Any] | None = None,
    ) -> None:
        self.max_attempts = check_int("max_attempts", max_attempts, 1)
        if backoff is None:
            backoff = ExponentialBackoff()
        if not isinstance(backoff, Backoff):
            raise TypeError(
                f"backoff={backoff!r} must be a Backoff (ExponentialBackoff, ConstantBackoff, "
                "NoBackoff)"
            )
        self.backoff = backoff
        self.deadline = (
            None
            if deadline is None
            else check_number("deadline", deadline, 0.0, min_inclusive=False)
        )
        self.retry_on = retry_on
        self._retryable = _retry_predicate(retry_on)
        if retry_on_result is not None and not callable(retry_on_result):
            raise TypeError(
                f"retry_on_result={retry_on_result!r} must be callable (result -> bool)"
            )
        self.retry_on_result = retry_on_result
        if budget is not None and not isinstance(budget, RetryBudget):
            raise TypeError(f"budget={budget!r} must be a RetryBudget")
        self.budget = budget
        self._rng = _make_rng(rng)
        self._rng_lock = threading.Lock()
        self._locked_rng = _LockedRng(self)  # one per policy, shared by all its calls
        for name, fn in (
            ("sleep", sleep),
            ("async_sleep", async_sleep),
            ("clock", clock),
            ("on_retry", on_retry),
            ("on_give_up", on_give_up),
        ):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}={fn!r} must be callable")
        self._sleep = sleep or time.sleep
        self._async_sleep = async_sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self.on_retry = on_retry
        self.on_give_up = on_give_up
        self._stats_lock = threading.Lock()
        # Counters behind _stats_lock. Calls that succeed at the first attempt without going
        # through a RetryState (the fast path) only bump _fast; the others are counted in full.
        self._fast = 0
        self._calls = 0
        self._attempts = 0
        self._successes = 0
        self._total_wait = 0.0

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, backoff={self.backoff!r}, "
            f"deadline={self.deadline!r}, budget={self.budget!r})"
        )

    # -- the sans-I/O part ---------------------------------------------------------------------

    def start(self, now: float, rng: UniformSource | None = None) -> RetryState:
        """Begin one call at time ``now``; ``rng`` overrides the policy's generator (the
        simulation passes the world's, so a run is a function of its seed)."""
        return RetryState(self, now, rng if rng is not None else self._locked_rng)

    def delays(self) -> Iterator[float]:
        """The waits this policy would use between its attempts (``max_attempts - 1`` of them),
        drawn from the policy's generator, ignoring deadline and budget.

        >>> list(RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=1.0)).delays())
        [1.0, 2.0]
        """
        previous = None
        rng = self._locked_rng
        for n in range(1, self.max_attempts):
            previous = self.backoff.delay(n, previous, rng)
            yield previous

    @property
    def stats(self) -> RetryStats:
        """Counts over every call so far (correct under concurrent use from many threads)."""
        with self._stats_lock:
            fast, calls, attempts = self._fast, self._calls, self._attempts
            successes, total_wait = self._successes, self._total_wait
        return RetryStats(
            calls=fast + calls,
            attempts=fast + attempts,
            retries=attempts - calls,
            successes=fast + successes,
            give_ups=calls - successes,
            total_wait=total_wait,
        )

    def reset_stats(self) -> None:
        """Start counting from zero."""
        with self._stats_lock:
            self._fast = self._calls = self._attempts = self._successes = 0
            self._total_wait = 0.0

    def record(self, state: RetryState, succeeded: bool, unslept: float = 0.0) -> None:
        """Count one finished call in :attr:`stats`; for drivers of the sans-I/O decision step
        other than this module's own (:func:`distlab.sim.retry_call` uses it).

        ``unslept`` is a wait the decision granted but the driver never slept.
        """
        if state._recorded:
            raise ValueError("record(): this call is already counted in the policy's stats")
        state._recorded = True
        with self._stats_lock:
            self._calls += 1
            self._attempts += state.attempts
            self._successes += succeeded
            self._total_wait += state.total_wait - unslept

    def _give_up(self, state: RetryState, decision: Decision, outcome: Any) -> None:
        if isinstance(outcome, BaseException):
            attempts = state.attempts
            try:
                outcome.retry_attempts = attempts
                outcome.add_note(
                    f"distlab.retry: gave up after {attempts} attempt"
                    f"{'s' if attempts != 1 else ''} ({decision.reason})"
                )
            except (AttributeError, TypeError):  # pragma: no cover - an exotic exception type
                pass
        self.record(state, succeeded=False)
        if self.on_give_up is not None:
            self.on_give_up(state, outcome, decision.reason)

    def _stop(self, state: RetryState, decision: Decision, outcome: Any) -> Any:
        """End the call as ``decision`` says: return the result or raise the last exception."""
        if decision.reason == "success":
            self.record(state, succeeded=True)
            return outcome
        self._give_up(state, decision, outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # a result refused by retry_on_result, and no retry is left

    def _interrupted(self, state: RetryState | None, unslept: float = 0.0) -> None:
        """A call ended by a BaseException outside the decision (KeyboardInterrupt, a cancelled
        task, a hook or a sleep that raised): count it once, as given up, without the wait it
        was about to sleep (``unslept``)."""
        if state is None:
            state = RetryState(self, 0.0, self._locked_rng)
            state.attempts = 1
        if not state._recorded:
            self.record(state, succeeded=False, unslept=unslept)

    # -- the drivers ---------------------------------------------------------------------------
    #
    # The first attempt runs inline: when it succeeds and no result predicate is set, the
    # decision is known to be "success" without building a RetryState (the fast path, the one
    # whose overhead bench/bench_retry.py measures). Anything else goes through the decision
    # step, RetryState.after_attempt, in _retry_sync / _retry_async.

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` with retries. For a coroutine function this returns a
        coroutine to await, which sleeps with ``asyncio.sleep``.

        >>> RetryPolicy().call(lambda x: x + 1, 41)
        42
        """
        if _is_async(fn):
            return self._call_async(fn, args, kwargs)
        return self._call_sync(fn, args, kwargs)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use the policy as a decorator, on a plain function or a coroutine function."""
        if not callable(fn):
            raise TypeError(f"RetryPolicy decorates a function, not {fn!r}")
        if _is_async(fn):
            call_async = self._call_async

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await call_async(fn, args, kwargs)

            return async_wrapper

        call_sync = self._call_sync

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return call_sync(fn, args, kwargs)

        return wrapper

    def _call_sync(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        started = self._clock()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            first: BaseException | None = exc
            result = _NOTHING
        except BaseException:
            self._interrupted(None)
            raise
        else:
            if self.retry_on_result is None:  # fast path: nothing left to decide
                if self.budget is not None:
                    self.budget.on_success()
                with self._stats_lock:
                    self._fast += 1
                return result
            first = None
        return self._retry_sync(fn, args, kwargs, started, first, result)

    def _retry_sync(
        self,
        fn: Callable[..., Any],
        args: tuple,
        kwargs: dict,
        started: float,
        exc: BaseException | None,
        result: Any,
    ) -> Any:
        state = RetryState(self, started, self._locked_rng)
        clock = self._clock
        unslept = 0.0  # the wait decided but not slept yet, if the sleep or a hook raises
        try:
            while True:
                if exc is not None:
                    outcome: Any = exc
                    decision = state.after_attempt(clock(), exception=exc)
                    exc = None
                else:
                    outcome = result
                    decision = state.after_attempt(clock(), result=result)
                if decision.retry:
                    unslept = decision.delay
                    if self.on_retry is not None:
                        self.on_retry(state, outcome, unslept)
                    self._sleep(decision.delay)
                    unslept = 0.0
                    decision = state.before_attempt(clock())
                if not decision.retry:
                    return self._stop(state, decision, outcome)
                outcome = None
                try:
                    result = fn(*args, **kwargs)
                except Exception as e:
                    exc = e
                except BaseException:
                    state.attempts += 1  # an attempt was made, though nothing decides on it
                    raise
        except BaseException:
            self._interrupted(state, unslept)
            raise

    async def _call_async(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        started = self._clock()
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:
            first: BaseException | None = exc
            result = _NOTHING
        except BaseException:
            self._interrupted(None)
            raise
        else:
            if self.retry_on_result is None:  # fast path: nothing left to decide
                if self.budget is not None:
                    self.budget.on_success()
                with self._stats_lock:
                    self._fast += 1
                return result
            first = None
        return await self._retry_async(fn, args, kwargs, started, first, result)

    async def _retry_async(
        self,
        fn: Callable[..., Any],
        args: tuple,
        kwargs: dict,
        started: float,
        exc: BaseException | None,
        result: Any,
    ) -> Any:
        state = RetryState(self, started, self._locked_rng)
        clock = self._clock
        unslept = 0.0  # the wait decided but not slept yet, if the sleep or a hook raises
        try:
            while True:
                if exc is not None:
                    outcome: Any = exc
                    decision = state.after_attempt(clock(), exception=exc)
                    exc = None
                else:
                    outcome = result
                    decision = state.after_attempt(clock(), result=result)
                if decision.retry:
                    unslept = decision.delay
                    if self.on_retry is not None:
                        self.on_retry(state, outcome, unslept)
                    await self._async_sleep(decision.delay)
                    unslept = 0.0
                    decision = state.before_attempt(clock())
                if not decision.retry:
                    return self._stop(state, decision, outcome)
                outcome = None
                try:
                    result = await fn(*args, **kwargs)
                except Exception as e:
                    exc = e
                except BaseException:
                    state.attempts += 1  # an attempt was made, though nothing decides on it
                    raise
        except BaseException:
            self._interrupted(state, unslept)
            raise


class _LockedRng:
    """The policy's generator behind the policy's lock, shared by all its calls: a uniform
    source (``random.Random`` subclass, a user's own object) need not be thread-safe."""

    __slots__ = ("_policy",)

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def uniform(self, low: float, high: float) -> float:
        with self._policy._rng_lock:
            return float(self._policy._rng.uniform(low, high))


def _retry_predicate(retry_on: Any) -> Callable[[BaseException], bool]:
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        return lambda exc: isinstance(exc, retry_on)
    if (
        isinstance(retry_on, tuple)
        and retry_on
        and all(isinstance(t, type) and issubclass(t, BaseException) for t in retry_on)
    ):
        return lambda exc: isinstance(exc, retry_on)
    if callable(retry_on) and not isinstance(retry_on, type):
        return lambda exc: bool(retry_on(exc))
    raise TypeError(
        f"retry_on={retry_on!r} must be an exception type, a non-empty tuple of them, or a "
        "predicate exc -> bool"
    )
