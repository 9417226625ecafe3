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

    def _ceiling(self, n: int) -> float:
        # base·2^(n-1), computed so that a large n cannot overflow.
        cap = math.inf if self.cap is None else self.cap
        if self.base == 0.0:
            return 0.0
        exponent = n - 1
        if exponent > 1023 or self.base * 2.0**exponent > cap:
            return cap
        return self.base * 2.0**exponent

    def delay(self, n: int, previous: float | None, rng: UniformSource) -> float:
        if self.jitter is None:
            return self._ceiling(n)
        if self.jitter == "full":
            return float(rng.uniform(0.0, self._ceiling(n)))
        if self.jitter == "equal":
            half = self._ceiling(n) / 2
            return half + float(rng.uniform(0.0, half))
        last = self.base if previous is None else previous
        cap = math.inf if self.cap is None else self.cap
        return min(cap, float(rng.uniform(self.base, 3.0 * last)))


# -- budget -----------------------------------------------------------------------------------


class RetryBudget:
    """gRPC-style retry throttling, shared between policies (thread-safe).

    The token count starts at ``max_tokens`` and stays within [0, ``max_tokens``]; every failed
    attempt takes 1 token, every success gives back ``token_ratio``. Retries are allowed only
    while the count is above ``max_tokens / 2``. When a dependency keeps failing, the budget runs
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
        self.token_ratio = check_number(
            "token_ratio", token_ratio, 0.0, 1.0, min_inclusive=False
        )
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


class RetryState:
    """One call's progress through a :class:`RetryPolicy`: the sans-I/O decision step.

    A driver calls :meth:`after_attempt` once per attempt with the time and the outcome and does
    what the returned :class:`Decision` says.

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
            result is not _NOTHING and policy.retry_on_result is not None
            and policy.retry_on_result(result)
        )
        budget = policy.budget
        if not failed:
            if budget is not None:
                budget.on_success()
            return Decision(False, reason="success")
        if budget is not None:
            budget.on_failure()
        if exception is not None and not policy._retryable(exception):
            return Decision(False, reason="not retryable")
        if self.attempts >= policy.max_attempts:
            return Decision(False, reason="attempts")
        delay = policy.backoff.delay(self.attempts, self.last_delay, self._rng)
        if policy.deadline is not None and now + delay > self.started + policy.deadline:
            return Decision(False, reason="deadline")
        if budget is not None and not budget.allows_retry():
            return Decision(False, reason="budget")
        self.last_delay = delay
        self.total_wait += delay
        return Decision(True, delay=delay)


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
            raise ValueError(f"rng={rng} must be a non-negative seed")
        return np.random.default_rng(rng)
    if hasattr(rng, "uniform"):
        return rng
    raise TypeError(
        f"rng={rng!r} must be an int seed, a numpy.random.Generator or an object with .uniform"
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
    ``retry_on_result`` on the last attempt is returned as it is.

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
    """

    def __init__(
        self,
        max_attempts: int = 3,
        backoff: Backoff | None = None,
        deadline: float | None = None,
        retry_on: type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool] = Exception,
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
        self.deadline = None if deadline is None else check_number(
            "deadline", deadline, 0.0, min_inclusive=False
        )
        self.retry_on = retry_on
        self._retryable = _retry_predicate(retry_on)
        if retry_on_result is not None and not callable(retry_on_result):
            raise TypeError(f"retry_on_result={retry_on_result!r} must be callable")
        self.retry_on_result = retry_on_result
        if budget is not None and not isinstance(budget, RetryBudget):
            raise TypeError(f"budget={budget!r} must be a RetryBudget")
        self.budget = budget
        self._rng = _make_rng(rng)
        self._rng_lock = threading.Lock()
        for name, fn in (("sleep", sleep), ("async_sleep", async_sleep), ("clock", clock),
                         ("on_retry", on_retry), ("on_give_up", on_give_up)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name}={fn!r} must be callable")
        self._sleep = sleep or time.sleep
        self._async_sleep = async_sleep or asyncio.sleep
        self._clock = clock or time.monotonic
        self.on_retry = on_retry
        self.on_give_up = on_give_up
        self._stats_lock = threading.Lock()
        self._stats = RetryStats()

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, backoff={self.backoff!r}, "
            f"deadline={self.deadline!r}, budget={self.budget!r})"
        )

    # -- the sans-I/O part ---------------------------------------------------------------------

    def start(self, now: float, rng: UniformSource | None = None) -> RetryState:
        """Begin one call at time ``now``; ``rng`` overrides the policy's generator (the
        simulation passes the world's, so a run is a function of its seed)."""
        return RetryState(self, now, rng if rng is not None else _LockedRng(self))

    def delays(self) -> Iterator[float]:
        """The waits this policy would use between its attempts (``max_attempts - 1`` of them),
        drawn from the policy's generator, ignoring deadline and budget.

        >>> list(RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=1.0)).delays())
        [1.0, 2.0]
        """
        previous = None
        rng = _LockedRng(self)
        for n in range(1, self.max_attempts):
            previous = self.backoff.delay(n, previous, rng)
            yield previous

    @property
    def stats(self) -> RetryStats:
        """Counts over every call so far (correct under concurrent use from many threads)."""
        with self._stats_lock:
            return self._stats

    def reset_stats(self) -> None:
        """Start counting from zero."""
        with self._stats_lock:
            self._stats = RetryStats()

    def _record(self, state: RetryState, succeeded: bool) -> None:
        with self._stats_lock:
            s = self._stats
            self._stats = RetryStats(
                calls=s.calls + 1,
                attempts=s.attempts + state.attempts,
                retries=s.retries + state.attempts - 1,
                successes=s.successes + succeeded,
                give_ups=s.give_ups + (not succeeded),
                total_wait=s.total_wait + state.total_wait,
            )

    def _give_up(self, state: RetryState, decision: Decision, outcome: Any) -> None:
        self._record(state, succeeded=False)
        if self.on_give_up is not None:
            self.on_give_up(state, outcome, decision.reason)
        if isinstance(outcome, BaseException):
            outcome.retry_attempts = state.attempts
            outcome.add_note(
                f"distlab.retry: gave up after {state.attempts} attempt"
                f"{'s' if state.attempts != 1 else ''} ({decision.reason})"
            )

    # -- the drivers ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` with retries. For a coroutine function this returns a
        coroutine to await, which sleeps with ``asyncio.sleep``.

        >>> RetryPolicy().call(lambda x: x + 1, 41)
        42
        """
        if inspect.iscoroutinefunction(fn):
            return self._call_async(fn, args, kwargs)
        return self._call_sync(fn, args, kwargs)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use the policy as a decorator, on a plain function or a coroutine function."""
        if not callable(fn):
            raise TypeError(f"RetryPolicy decorates a function, not {fn!r}")
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self._call_async(fn, args, kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self._call_sync(fn, args, kwargs)

        return wrapper

    def _call_sync(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        state = self.start(self._clock())
        while True:
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by retry_on
                decision = state.after_attempt(self._clock(), exception=exc)
                if not decision.retry:
                    self._give_up(state, decision, exc)
                    raise
                outcome: Any = exc
            else:
                decision = state.after_attempt(self._clock(), result=result)
                if not decision.retry:
                    self._finish(state, decision, result)
                    return result
                outcome = result
            if self.on_retry is not None:
                self.on_retry(state, outcome, decision.delay)
            self._sleep(decision.delay)

    async def _call_async(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        state = self.start(self._clock())
        while True:
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified by retry_on
                decision = state.after_attempt(self._clock(), exception=exc)
                if not decision.retry:
                    self._give_up(state, decision, exc)
                    raise
                outcome: Any = exc
            else:
                decision = state.after_attempt(self._clock(), result=result)
                if not decision.retry:
                    self._finish(state, decision, result)
                    return result
                outcome = result
            if self.on_retry is not None:
                self.on_retry(state, outcome, decision.delay)
            await self._async_sleep(decision.delay)

    def _finish(self, state: RetryState, decision: Decision, result: Any) -> None:
        if decision.reason == "success":
            self._record(state, succeeded=True)
        else:  # the result was refused and no retry is left
            self._give_up(state, decision, result)


class _LockedRng:
    """The policy's generator behind a lock: numpy Generators are not thread-safe."""

    __slots__ = ("_policy",)

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def uniform(self, low: float, high: float) -> float:
        with self._policy._rng_lock:
            return float(self._policy._rng.uniform(low, high))


def _retry_predicate(retry_on: Any) -> Callable[[BaseException], bool]:
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        return lambda exc: isinstance(exc, retry_on)
    if isinstance(retry_on, tuple) and retry_on and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in retry_on
    ):
        return lambda exc: isinstance(exc, retry_on)
    if callable(retry_on) and not isinstance(retry_on, type):
        return lambda exc: bool(retry_on(exc))
    raise TypeError(
        f"retry_on={retry_on!r} must be an exception type, a tuple of them, or a predicate "
        "exc -> bool"
    )
