"""Retries with backoff and jitter: a sans-I/O retry policy and its sync and asyncio drivers.

The core decides, the drivers act. A :class:`RetryPolicy` starts a :class:`RetryState` for each
call; after every failed attempt the state answers either "attempt again after 0.37 s" or "give
up". It never sleeps or reads a clock itself, so the same policy drives simulated time (see
:func:`distlab.sim.retry_call`), plain functions (``time.sleep``) and coroutines
(``asyncio.sleep``), and tests inject a fake clock and never sleep for real. Every decision is
reported the same way whatever the driver, timed by the driver's clock: a :class:`RetryEvent`
to the policy's subscribers and in :meth:`RetryPolicy.events`, and counts in
:meth:`RetryPolicy.metrics` (the one observation API of :mod:`distlab.observe`).

Delay before retry n (n = 1, 2, ...), with v_n = min(cap, base·2^(n-1)):

=================  ======================================================
no jitter          v_n
``"full"``         U(0, v_n)
``"equal"``        v_n/2 + U(0, v_n/2)
``"decorrelated"`` s_n = min(cap, U(base, 3·s_(n-1))), s_0 = base
=================  ======================================================

>>> from distlab.retry import RetryPolicy, ExponentialBackoff
>>> backoff = ExponentialBackoff(base=0.1, cap=1.0, jitter="full")
>>> policy = RetryPolicy(max_attempts=4, backoff=backoff, rng=7)
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
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from distlab._validate import check_choice, check_int, check_number
from distlab.observe import Event, Listeners
from distlab.outcomes import ERROR, OK, OUTCOMES, TIMEOUT

__all__ = [
    "Backoff",
    "ConstantBackoff",
    "Decision",
    "EVENT_KINDS",
    "ExponentialBackoff",
    "JITTERS",
    "MAX_TOKENS",
    "NoBackoff",
    "RetryBudget",
    "RetryEvent",
    "RetryMetrics",
    "RetryPolicy",
    "RetryState",
    "STOP_REASONS",
]

JITTERS = (None, "full", "equal", "decorrelated")
_FLOAT_MAX = sys.float_info.max


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
        # An unbounded wait (no cap, a huge n) is drawn below the largest float: a uniform draw
        # needs a finite range.
        if jitter == "full":
            return float(rng.uniform(0.0, min(self._ceiling(n), _FLOAT_MAX)))
        if jitter == "equal":
            half = min(self._ceiling(n), _FLOAT_MAX) / 2
            return half + float(rng.uniform(0.0, half))
        last = self.base if previous is None else previous
        high = 3.0 * last
        if high > _FLOAT_MAX:  # only when it overflowed to inf
            high = _FLOAT_MAX
        return min(self._cap, float(rng.uniform(self.base, high)))


# -- budget -----------------------------------------------------------------------------------

#: A :class:`RetryBudget` counts tokens in whole thousandths (as gRPC does), so that taking one
#: token and giving back ``token_ratio`` are exact at every size.
_MILLI = 1000
#: The largest ``max_tokens`` a :class:`RetryBudget` accepts (gRPC itself allows 1000): beyond
#: it, thousandths of a token would not all be exact as floats.
MAX_TOKENS = 10**12


def _thousandths(name: str, value: float) -> int:
    units = round(value * _MILLI)
    if units < 1 or abs(units - value * _MILLI) > 1e-6 * max(1.0, value * _MILLI):
        raise ValueError(
            f"{name}={value:g} must be a whole number of thousandths (at least 0.001): a budget "
            "counts thousandths of a token"
        )
    return units


class RetryBudget:
    """gRPC-style retry throttling, shared between policies (thread-safe).

    The token count starts at ``max_tokens`` and stays within [0, ``max_tokens``]; every failed
    attempt takes 1 token, every success gives back ``token_ratio``. Retries are allowed only
    while the count is above ``max_tokens / 2``. As in gRPC (proposal A6), a policy charges only
    the failures it would retry: an exception outside its ``retry_on`` costs nothing. When a
    dependency keeps failing, the budget runs dry and retries stop, so they cannot multiply the
    load on it. Tokens are counted in whole thousandths, as gRPC does, so the count is exact:
    ``max_tokens`` is at most :data:`MAX_TOKENS` and both numbers are multiples of 0.001.

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
        if self.max_tokens > MAX_TOKENS:
            raise ValueError(
                f"max_tokens={self.max_tokens:g} must be at most {MAX_TOKENS:,} (gRPC allows 1000)"
            )
        self.token_ratio = check_number("token_ratio", token_ratio, 0.0, 1.0, min_inclusive=False)
        self._max = _thousandths("max_tokens", self.max_tokens)
        self._ratio = _thousandths("token_ratio", self.token_ratio)
        self._units = self._max
        self._lock = threading.Lock()

    @property
    def tokens(self) -> float:
        """The current token count."""
        return self._units / _MILLI

    def on_failure(self) -> None:
        """Record a failed attempt: one token less (never below 0)."""
        with self._lock:
            self._units = max(0, self._units - _MILLI)

    def on_success(self) -> None:
        """Record a successful attempt: ``token_ratio`` more (never above ``max_tokens``)."""
        with self._lock:
            self._units = min(self._max, self._units + self._ratio)

    def allows_retry(self) -> bool:
        """Whether a retry may be sent now (tokens above half of ``max_tokens``)."""
        return 2 * self._units > self._max

    def __repr__(self) -> str:
        return (
            f"RetryBudget(max_tokens={self.max_tokens:g}, token_ratio={self.token_ratio:g}, "
            f"tokens={self.tokens:g})"
        )


# -- the decision -----------------------------------------------------------------------------

#: Why a call stopped (:attr:`Decision.reason`): ``"ok"`` (it succeeded), ``"not retryable"``,
#: ``"attempts"`` (all ``max_attempts`` used), ``"deadline"``, ``"budget"``.
STOP_REASONS = ("ok", "not retryable", "attempts", "deadline", "budget")


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt: ``retry`` after ``delay`` seconds, or stop.

    ``reason`` says why it stopped (:data:`STOP_REASONS`): ``"ok"`` (the attempt succeeded),
    ``"not retryable"``, ``"attempts"`` (all ``max_attempts`` used), ``"deadline"`` (the next
    attempt would start after it) or ``"budget"`` (the retry budget refused).
    """

    retry: bool
    delay: float = 0.0
    reason: str = ""


_NOTHING = object()

# Decisions are immutable: the ones without a delay are shared instead of built per attempt.
_OK = Decision(False, reason="ok")
_NOT_RETRYABLE = Decision(False, reason="not retryable")
_ATTEMPTS = Decision(False, reason="attempts")
_DEADLINE = Decision(False, reason="deadline")
_BUDGET = Decision(False, reason="budget")
_GO = Decision(True)


# -- events and metrics -----------------------------------------------------------------------

#: The kinds of :class:`RetryEvent`.
EVENT_KINDS = ("retry", "give_up", "ok")


@dataclass(frozen=True)
class RetryEvent(Event):
    """One decision of a :class:`RetryPolicy` about one attempt, at ``time`` (when it was made,
    on the driver's clock: ``time.monotonic``, the injected ``clock``, or simulated time).

    ``kind`` is ``"retry"`` (attempt ``attempt`` failed; the next one follows after ``delay``
    seconds), ``"give_up"`` (the call stops on a failure, for ``reason``: ``"attempts"``,
    ``"deadline"``, ``"budget"`` or ``"not retryable"``) or ``"ok"`` (the call succeeded after
    at least one retry: like resilience4j, a call that succeeds at once makes no event, so the
    fast path stays cheap; :meth:`RetryPolicy.metrics` counts it).

    ``source`` is the policy's ``name``; ``call`` numbers the policy's calls from 1 in the order
    they started; ``started`` is when the attempt began (``None`` if the driver did not say);
    ``outcome`` is the attempt's :mod:`distlab.outcomes` word (``"ok"``, ``"error"``,
    ``"timeout"`` for a ``TimeoutError``, or what the exception's ``outcome`` attribute says) and
    ``error`` a short text of what went wrong (the exception's ``detail`` attribute, else its
    type and message; ``None`` when ok).
    """

    call: int = 0
    attempt: int = 0
    started: float | None = None
    outcome: str = OK
    error: str | None = None
    delay: float | None = None
    reason: str | None = None


def _describe(exception: BaseException | None) -> tuple[str, str | None]:
    """An attempt's outcome word and error text (see :class:`RetryEvent`)."""
    if exception is None:
        return ERROR, "result refused by retry_on_result"
    outcome = getattr(exception, "outcome", None)
    if outcome not in OUTCOMES or outcome == OK:
        outcome = TIMEOUT if isinstance(exception, TimeoutError) else ERROR
    detail = getattr(exception, "detail", None)
    if not isinstance(detail, str):
        text = str(exception)
        detail = f"{type(exception).__name__}: {text}" if text else type(exception).__name__
    return outcome, detail


@dataclass(frozen=True)
class RetryMetrics:
    """Counts over every call made through one policy (a consistent snapshot).

    ``calls`` started, ``attempts`` made, ``retries`` (attempts after the first), ``successes``
    (calls that ended ok), ``give_ups`` (calls that ended in an exception or an unaccepted
    result), ``total_wait`` seconds slept between attempts.
    """

    calls: int = 0
    attempts: int = 0
    retries: int = 0
    successes: int = 0
    give_ups: int = 0
    total_wait: float = 0.0


class _Counters:
    """The policy's counters behind one lock. Calls that succeed at the first attempt without a
    :class:`RetryState` (the drivers' fast path) only bump ``fast``."""

    __slots__ = ("lock", "fast", "started", "calls", "attempts", "successes", "total_wait")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fast = self.started = self.calls = self.attempts = self.successes = 0
        self.total_wait = 0.0

    def new_call(self) -> int:
        """Number a call that takes the decision path: 1, 2, ... in the order calls began,
        fast-path calls included (each call bumps ``fast`` or ``started``, never both)."""
        with self.lock:
            self.started += 1
            return self.fast + self.started

    def add(self, attempts: int, succeeded: bool, waited: float) -> None:
        with self.lock:
            self.calls += 1
            self.attempts += attempts
            self.successes += succeeded
            self.total_wait += waited

    def snapshot(self) -> RetryMetrics:
        with self.lock:
            fast, calls, attempts = self.fast, self.calls, self.attempts
            successes, total_wait = self.successes, self.total_wait
        return RetryMetrics(
            calls=fast + calls,
            attempts=fast + attempts,
            retries=attempts - calls,
            successes=fast + successes,
            give_ups=calls - successes,
            total_wait=total_wait,
        )


# -- one call's state -------------------------------------------------------------------------


class RetryState:
    """One call's progress through a :class:`RetryPolicy`: the sans-I/O decision step.

    A driver calls :meth:`after_attempt` once per attempt with the time and the outcome and does
    what the returned :class:`Decision` says. A driver whose waits may overrun (a real
    ``sleep``) also asks :meth:`before_attempt` when it wakes up, so that no attempt starts
    after the deadline. The step reports each decision as a :class:`RetryEvent` and counts the
    call in :meth:`RetryPolicy.metrics` when it stops: every driver reports the same way.

    >>> policy = RetryPolicy(max_attempts=2, backoff=ConstantBackoff(0.5))
    >>> state = policy.start(now=0.0)
    >>> state.after_attempt(now=0.1, exception=TimeoutError())
    Decision(retry=True, delay=0.5, reason='')
    >>> state.after_attempt(now=0.7, exception=TimeoutError())
    Decision(retry=False, delay=0.0, reason='attempts')
    >>> [(e.kind, e.time, e.outcome) for e in policy.events()]
    [('retry', 0.1, 'timeout'), ('give_up', 0.7, 'timeout')]
    """

    def __init__(self, policy: RetryPolicy, now: float, rng: UniformSource) -> None:
        self.policy = policy
        self.started = float(now)
        self.call = policy._counters.new_call()
        self.attempts = 0
        self.total_wait = 0.0
        self.last_delay: float | None = None
        self._rng = rng
        self._recorded = False  # counted in the policy's metrics
        self._last: tuple[float | None, str, str | None] = (None, OK, None)

    def after_attempt(
        self,
        now: float,
        *,
        exception: BaseException | None = None,
        result: Any = _NOTHING,
        started: float | None = None,
    ) -> Decision:
        """Record one attempt that began at ``started`` and ended at ``now`` with ``exception``
        or ``result``; decide.

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
            self._last = (started, OK, None)
            return self._stop(now, _OK)
        self._last = (started, *_describe(exception))
        if exception is not None and not policy.is_retryable(exception):
            # gRPC A6: only failures that qualify for a retry count against the budget, so a
            # malformed request is not mistaken for a struggling server.
            return self._stop(now, _NOT_RETRYABLE)
        if budget is not None:
            budget.on_failure()
        if self.attempts >= policy.max_attempts:
            return self._stop(now, _ATTEMPTS)
        delay = policy.backoff.delay(self.attempts, self.last_delay, self._rng)
        if policy.deadline is not None and now + delay > self.started + policy.deadline:
            return self._stop(now, _DEADLINE)
        if budget is not None and not budget.allows_retry():
            return self._stop(now, _BUDGET)
        self.last_delay = delay
        self.total_wait += delay
        self._report(now, "retry", delay=delay)
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
            return self._stop(now, _DEADLINE)
        return _GO

    def _stop(self, now: float, decision: Decision) -> Decision:
        ok = decision is _OK
        if not self._recorded:
            self._recorded = True
            self.policy._counters.add(self.attempts, ok, self.total_wait)
        if not ok:
            self._report(now, "give_up", reason=decision.reason)
        elif self.attempts > 1:
            self._report(now, "ok")
        return decision

    def _report(self, now: float, kind: str, **fields: Any) -> None:
        started, outcome, error = self._last
        listeners = self.policy._listeners
        listeners.emit(
            RetryEvent(
                time=now,
                kind=kind,
                source=self.policy.name,
                call=self.call,
                attempt=self.attempts,
                started=started,
                outcome=outcome,
                error=error,
                **fields,
            )
        )
        listeners.deliver()

    def interrupted(self, unslept: float = 0.0) -> None:
        """Count the call as given up when something outside the decision ended it (a
        ``KeyboardInterrupt``, a cancelled task, a ``sleep`` that raised), without the wait it
        was about to sleep (``unslept``). Counted once; no event (nothing was decided)."""
        if not self._recorded:
            self._recorded = True
            self.policy._counters.add(self.attempts, False, self.total_wait - unslept)


# -- the policy -------------------------------------------------------------------------------


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
        not inspect.isroutine(fn) and inspect.iscoroutinefunction(getattr(fn, "__call__", None))  # noqa: B004 - its method
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
        clock: replaces ``time.monotonic`` (seconds) in both real-time drivers.
        async_sleep: replaces ``asyncio.sleep`` in the asyncio driver.
        name: the ``source`` of the policy's events.
        max_events: how many recent events :meth:`events` keeps.

    Watch it with :meth:`subscribe` (a :class:`RetryEvent` per retry, give-up, and success
    after retries), :meth:`events` and :meth:`metrics` (see :mod:`distlab.observe`).

    When the policy gives up it re-raises the last exception unchanged; the number of attempts
    is in ``exc.retry_attempts`` and in a note on the exception. A result refused by
    ``retry_on_result`` on the last attempt is returned as it is. Exceptions that are not
    ``Exception`` s (``KeyboardInterrupt``, ``asyncio.CancelledError``) are never retried and
    never charged to the budget; the call is counted as given up.

    >>> calls = []
    >>> policy = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(0.0), name="flaky")
    >>> unsubscribe = policy.subscribe(lambda e: print(e.kind, e.attempt, e.error))
    >>> @policy
    ... def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ConnectionError("try again")
    ...     return "done"
    >>> flaky(), len(calls)
    retry 1 ConnectionError: try again
    retry 2 ConnectionError: try again
    ok 3 None
    ('done', 3)
    >>> policy.metrics()
    RetryMetrics(calls=1, attempts=3, retries=2, successes=1, give_ups=0, total_wait=0.0)

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
        name: str | None = None,
        max_events: int = 1000,
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
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name={name!r} must be a str or None")
        self.name = name
        max_events = check_int("max_events", max_events, 0, 1_000_000)
        self._rng = _make_rng(rng)
        self._rng_lock = threading.Lock()
        self._locked_rng = _LockedRng(self._rng, self._rng_lock)  # shared by all its calls
        for label, fn in (("sleep", sleep), ("async_sleep", async_sleep), ("clock", clock)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{label}={fn!r} must be callable")
        self.sleep = sleep or time.sleep
        self.async_sleep = async_sleep or asyncio.sleep
        self.clock = clock or time.monotonic
        self._counters = _Counters()
        self._listeners = Listeners(name, max_events)

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

    def is_retryable(self, exception: BaseException) -> bool:
        """Whether ``retry_on`` retries ``exception``.

        >>> RetryPolicy(retry_on=TimeoutError).is_retryable(KeyError())
        False
        """
        return self._retryable(exception)

    # -- observation ---------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[RetryEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later :class:`RetryEvent`; return a function that
        unsubscribes. A listener's exception is logged, never raised to the caller.

        >>> policy = RetryPolicy(max_attempts=2, backoff=NoBackoff())
        >>> seen = []
        >>> stop = policy.subscribe(seen.append)
        >>> try:
        ...     policy.call(lambda: 1 / 0)
        ... except ZeroDivisionError:
        ...     pass
        >>> [e.kind for e in seen], seen[-1].reason
        (['retry', 'give_up'], 'attempts')
        """
        return self._listeners.subscribe(listener)

    def events(self) -> list[RetryEvent]:
        """The recent events (at most ``max_events``), oldest first; ``pandas.DataFrame(
        distlab.observe.events_rows(policy.events()))`` makes a table of them."""
        return self._listeners.recent()

    def metrics(self) -> RetryMetrics:
        """Counts over every call so far (correct under concurrent use from many threads)."""
        return self._counters.snapshot()

    def reset_metrics(self) -> None:
        """Start counting from zero and forget the recent events (subscriptions stay)."""
        counters = self._counters
        with counters.lock:
            counters.started += counters.fast  # call numbers go on from where they were
            counters.fast = counters.calls = counters.attempts = counters.successes = 0
            counters.total_wait = 0.0
        self._listeners.clear()

    # -- the drivers ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` with retries. For a coroutine function this returns a
        coroutine to await, which sleeps with ``asyncio.sleep``.

        >>> RetryPolicy().call(lambda x: x + 1, 41)
        42
        """
        if _is_async(fn):
            return _call_async(self, fn, args, kwargs)
        return _call_sync(self, fn, args, kwargs)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Use the policy as a decorator, on a plain function or a coroutine function."""
        if not callable(fn):
            raise TypeError(f"RetryPolicy decorates a function, not {fn!r}")
        policy = self
        if _is_async(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await _call_async(policy, fn, args, kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _call_sync(policy, fn, args, kwargs)

        return wrapper

    def first_attempt_ok(self) -> None:
        """Count a call whose first attempt succeeded and needs no decision (the drivers'
        fast path: no :class:`RetryState`, no event)."""
        if self.budget is not None:
            self.budget.on_success()
        counters = self._counters
        with counters.lock:
            counters.fast += 1


class _LockedRng:
    """A generator behind a lock, shared by all of a policy's calls: a uniform source
    (``random.Random`` subclass, a user's own object) need not be thread-safe."""

    __slots__ = ("_rng", "_lock")

    def __init__(self, rng: UniformSource, lock: threading.Lock) -> None:
        self._rng = rng
        self._lock = lock

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return float(self._rng.uniform(low, high))


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


# -- the real-time drivers ----------------------------------------------------------------------
#
# The first attempt runs inline: when it succeeds and no result predicate is set, the decision
# is known to be "ok" without building a RetryState (the fast path, the one whose overhead
# bench/bench_retry.py measures). Anything else goes through the decision step,
# RetryState.after_attempt, through _Retries: the decisions of one call's retries, made once
# for _retry_sync / _retry_async, which only sleep and call, one with `sleep` and `fn(...)`,
# the other with `await async_sleep` and `await fn(...)`.


class _Retries:
    """The retries after a call's first attempt, as both real-time drivers run them: told each
    attempt's outcome (:meth:`attempted`), it decides with the policy's clock and says how long
    to wait (:meth:`next_wait`); the driver sleeps and calls, its own way."""

    __slots__ = ("state", "clock", "started", "exc", "result", "decision", "unslept")

    def __init__(
        self, policy: RetryPolicy, started: float, exc: BaseException | None, result: Any
    ) -> None:
        self.state = RetryState(policy, started, policy._locked_rng)
        self.clock = policy.clock
        self.started, self.exc, self.result = started, exc, result
        self.decision = _GO
        self.unslept = 0.0  # the wait decided but not slept yet, if the sleep raises

    def next_wait(self) -> float | None:
        """Decide on the last attempt: the wait before the next one, or ``None`` (stop)."""
        now, state, exc = self.clock(), self.state, self.exc
        if exc is not None:
            self.decision = state.after_attempt(now, exception=exc, started=self.started)
        else:
            self.decision = state.after_attempt(now, result=self.result, started=self.started)
        if not self.decision.retry:
            return None
        self.unslept = self.decision.delay
        return self.unslept

    def slept(self) -> bool:
        """The wait is over: whether the next attempt may still start (a wait may overrun)."""
        self.unslept = 0.0
        self.decision = self.state.before_attempt(self.clock())
        if self.decision.retry:
            self.started = self.clock()
        return self.decision.retry

    def attempted(self, exc: BaseException | None, result: Any = _NOTHING) -> None:
        """The attempt since :meth:`slept` raised ``exc`` or returned ``result``."""
        self.exc = exc
        if exc is None:
            self.result = result

    def finish(self) -> Any:
        """End the call as the last decision says: return the result or raise the last
        exception."""
        outcome = self.exc if self.exc is not None else self.result
        if self.decision.reason == "ok" or not isinstance(outcome, BaseException):
            return outcome  # a result (accepted, or refused on the last attempt)
        attempts = self.state.attempts
        try:
            outcome.retry_attempts = attempts
            outcome.add_note(
                f"distlab.retry: gave up after {attempts} attempt"
                f"{'s' if attempts != 1 else ''} ({self.decision.reason})"
            )
        except (AttributeError, TypeError):  # pragma: no cover - an exotic exception type
            pass
        raise outcome

    def interrupted(self) -> None:
        """Something outside the decisions ended the call (see :meth:`RetryState.interrupted`)."""
        self.state.interrupted(self.unslept)


def _call_sync(policy: RetryPolicy, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    started = policy.clock()
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:
        first: BaseException | None = exc
        result = _NOTHING
    except BaseException:
        _interrupted_first(policy, started)
        raise
    else:
        if policy.retry_on_result is None:  # fast path: nothing left to decide
            # first_attempt_ok(), written out: this is the path production code takes almost
            # always, and a method call is a fifth of the wrapper's cost
            budget = policy.budget
            if budget is not None:
                budget.on_success()
            counters = policy._counters
            with counters.lock:
                counters.fast += 1
            return result
        first = None
    return _retry_sync(policy, fn, args, kwargs, started, first, result)


def _retry_sync(
    policy: RetryPolicy, fn: Callable[..., Any], args: tuple, kwargs: dict,
    started: float, exc: BaseException | None, result: Any,
) -> Any:  # fmt: skip
    retries = _Retries(policy, started, exc, result)
    try:
        while (wait := retries.next_wait()) is not None:
            policy.sleep(wait)
            if not retries.slept():
                break
            try:
                retries.attempted(None, fn(*args, **kwargs))
            except Exception as e:
                retries.attempted(e)
            except BaseException:
                retries.state.attempts += 1  # an attempt was made, though nothing decides on it
                raise
        return retries.finish()
    except BaseException:
        retries.interrupted()
        raise


async def _call_async(
    policy: RetryPolicy, fn: Callable[..., Any], args: tuple, kwargs: dict
) -> Any:
    started = policy.clock()
    try:
        result = await fn(*args, **kwargs)
    except Exception as exc:
        first: BaseException | None = exc
        result = _NOTHING
    except BaseException:
        _interrupted_first(policy, started)
        raise
    else:
        if policy.retry_on_result is None:  # fast path: nothing left to decide
            policy.first_attempt_ok()
            return result
        first = None
    return await _retry_async(policy, fn, args, kwargs, started, first, result)


async def _retry_async(
    policy: RetryPolicy, fn: Callable[..., Any], args: tuple, kwargs: dict,
    started: float, exc: BaseException | None, result: Any,
) -> Any:  # fmt: skip
    retries = _Retries(policy, started, exc, result)
    try:
        while (wait := retries.next_wait()) is not None:
            await policy.async_sleep(wait)
            if not retries.slept():
                break
            try:
                retries.attempted(None, await fn(*args, **kwargs))
            except Exception as e:
                retries.attempted(e)
            except BaseException:
                retries.state.attempts += 1  # an attempt was made, though nothing decides on it
                raise
        return retries.finish()
    except BaseException:
        retries.interrupted()
        raise


def _interrupted_first(policy: RetryPolicy, started: float) -> None:
    """The first attempt was ended by a BaseException (KeyboardInterrupt, a cancelled task):
    count the call once, as given up."""
    state = RetryState(policy, started, policy._locked_rng)
    state.attempts = 1
    state.interrupted()
