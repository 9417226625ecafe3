"""What a saga is: an ordered list of steps, their kinds, save-points and retry policies.

A step has an action and, where it has one, a compensation that undoes the action
*semantically* (cancel the reservation). Steps come in the three kinds of the microservices
literature (Richardson, "Microservices Patterns"), in this order:

- :data:`COMPENSATABLE` steps, which a later failure undoes;
- at most one :data:`PIVOT`, the go/no-go step: once it has succeeded the saga must complete;
- :data:`RETRIABLE` steps, retried until they succeed (forward recovery), never compensated.

Garcia-Molina and Salem's save-points (SIGMOD 1987, section 5) say where a recovered saga may
resume: at the last save-point, after compensating the steps done since. ``save_points="every"``
(the default: a save-point before every step, the durable-execution behaviour) resumes where the
crash left off; ``save_points=()`` is the paper's plain backward recovery (a saga found unfinished
before its pivot is compensated); a tuple of step names puts a save-point after each of them.

>>> book = Saga("trip", [
...     Step("flight", action=lambda ctx: "F1", compensation=lambda ctx: None),
...     Step("charge", action=lambda ctx: "paid", kind=PIVOT),
...     Step("email", action=lambda ctx: None, kind=RETRIABLE),
... ])
>>> [step.kind for step in book.steps], book.commit_position
(['compensatable', 'pivot', 'retriable'], 2)
>>> Saga("bad", [Step("a", action=print), Step("a", action=print)])
Traceback (most recent call last):
ValueError: steps: step name 'a' is used twice (step 1 and step 2); names must be unique
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from distlab.retry import ExponentialBackoff, RetryPolicy

__all__ = [
    "COMPENSATABLE",
    "KINDS",
    "PIVOT",
    "RETRIABLE",
    "Saga",
    "Step",
    "is_async_callable",
    "temporal_retry",
]

COMPENSATABLE = "compensatable"
PIVOT = "pivot"
RETRIABLE = "retriable"
KINDS = (COMPENSATABLE, PIVOT, RETRIABLE)

#: Temporal's default activity retry: 1 s initial interval, x2, at most 100 s, no attempt limit.
UNLIMITED = sys.maxsize


def temporal_retry(*, max_attempts: int = UNLIMITED, rng: Any = None) -> RetryPolicy:
    """Temporal's default activity retry policy: waits of 1 s, 2 s, 4 s ... at most 100 s,
    unlimited attempts (``max_attempts`` bounds them, for tests and for the impatient).

    >>> [round(d) for d in temporal_retry(max_attempts=10).delays()]
    [1, 2, 4, 8, 16, 32, 64, 100, 100]
    """
    return RetryPolicy(
        max_attempts=max_attempts, backoff=ExponentialBackoff(base=1.0, cap=100.0), rng=rng
    )


#: One attempt: a compensatable step or the pivot that fails is compensated, not retried.
def single_attempt() -> RetryPolicy:
    """A policy that never retries (the default for compensatable steps and the pivot)."""
    return RetryPolicy(max_attempts=1)


def is_async_callable(fn: Any) -> bool:
    """A coroutine function, or a callable object whose ``__call__`` is one.

    >>> async def f(ctx): ...
    >>> is_async_callable(f), is_async_callable(print)
    (True, False)
    """
    if inspect.iscoroutinefunction(fn):
        return True
    return (
        callable(fn)
        and not inspect.isroutine(fn)
        and inspect.iscoroutinefunction(type(fn).__call__)
    )


@dataclass(frozen=True)
class Step:
    """One step of a saga.

    Args:
        name: unique within the saga; part of the step's idempotency key.
        action: ``action(ctx) -> result`` (a plain or a coroutine function); ``ctx`` is a
            :class:`~distlab.saga.core.StepContext` with the idempotency key to pass on.
        compensation: ``compensation(ctx)`` undoing the action, or ``None`` (nothing to undo).
            It is registered before the action runs, so it may be called for an action whose
            outcome is unknown or that never arrived: it must then be a harmless no-op (see
            :class:`~distlab.saga.idempotency.IdempotencyStore`).
        kind: :data:`COMPENSATABLE` (default), :data:`PIVOT` or :data:`RETRIABLE`.
        retry: the action's :class:`~distlab.retry.RetryPolicy`; default one attempt for a
            compensatable step or the pivot (a failure is compensated), the saga's ``retry``
            for a retriable step.
        compensation_retry: the compensation's policy; default the saga's.

    >>> Step("refund", action=print, compensation="oops")
    Traceback (most recent call last):
    TypeError: step 'refund': compensation='oops' must be callable (ctx -> None) or None
    """

    name: str
    action: Callable[..., Any]
    compensation: Callable[..., Any] | None = None
    kind: str = COMPENSATABLE
    retry: RetryPolicy | None = None
    compensation_retry: RetryPolicy | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name={self.name!r} must be a non-empty string")
        where = f"step {self.name!r}"
        if not callable(self.action):
            raise TypeError(f"{where}: action={self.action!r} must be callable (ctx -> result)")
        if self.compensation is not None and not callable(self.compensation):
            raise TypeError(
                f"{where}: compensation={self.compensation!r} must be callable (ctx -> None) "
                "or None"
            )
        if self.kind not in KINDS:
            allowed = ", ".join(repr(k) for k in KINDS)
            raise ValueError(f"{where}: kind={self.kind!r} must be one of {allowed}")
        if self.kind == RETRIABLE and self.compensation is not None:
            raise ValueError(
                f"{where}: a retriable step is never compensated (it is retried until it "
                "succeeds), so its compensation could never run; drop it or make the step "
                "compensatable"
            )
        for param in ("retry", "compensation_retry"):
            value = getattr(self, param)
            if value is not None and not isinstance(value, RetryPolicy):
                raise TypeError(f"{where}: {param}={value!r} must be a RetryPolicy or None")

    @property
    def is_async(self) -> bool:
        """Whether the action or the compensation is a coroutine function."""
        return is_async_callable(self.action) or is_async_callable(self.compensation)


class Saga:
    """A named, validated, ordered list of :class:`Step` s: the definition drivers run.

    Args:
        name: the saga's name; an orchestrator finds the definition of a logged saga by it.
        steps: the steps, compensatable ones first, then at most one pivot, then retriable ones.
        save_points: ``"every"`` (default), ``()`` or the names of the steps after which a
            save-point is taken (see the module docstring).
        retry: the default action policy of retriable steps (default :func:`temporal_retry`).
        compensation_retry: the default policy of compensations (default
            :func:`temporal_retry`); a compensation that exhausts it leaves the saga stuck.

    ``commit_position`` is how many steps must have succeeded before the saga is committed to
    completing: the pivot's position plus one, or, without a pivot, the number of compensatable
    steps.
    """

    def __init__(
        self,
        name: str,
        steps: Iterable[Step],
        *,
        save_points: str | Iterable[str] = "every",
        retry: RetryPolicy | None = None,
        compensation_retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"name={name!r} must be a non-empty string")
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
            raise TypeError(f"steps={steps!r} must be a list of Step")
        self.name = name
        self.steps: tuple[Step, ...] = tuple(steps)
        _check_steps(self.steps)
        self.index = {step.name: i for i, step in enumerate(self.steps)}
        self.save_points = _save_point_positions(save_points, self.steps)
        for param, value in (("retry", retry), ("compensation_retry", compensation_retry)):
            if value is not None and not isinstance(value, RetryPolicy):
                raise TypeError(f"{param}={value!r} must be a RetryPolicy or None")
        self.retry = retry if retry is not None else temporal_retry()
        self.compensation_retry = (
            compensation_retry if compensation_retry is not None else temporal_retry()
        )
        self._single = single_attempt()
        kinds = [step.kind for step in self.steps]
        self.commit_position = (
            kinds.index(PIVOT) + 1 if PIVOT in kinds else kinds.count(COMPENSATABLE)
        )

    def __repr__(self) -> str:
        return f"Saga({self.name!r}, steps={[s.name for s in self.steps]})"

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def is_async(self) -> bool:
        """Whether any step has a coroutine function (only the asyncio driver runs it)."""
        return any(step.is_async for step in self.steps)

    def action_retry(self, index: int) -> RetryPolicy:
        """The policy for the action of step ``index``."""
        step = self.steps[index]
        if step.retry is not None:
            return step.retry
        return self.retry if step.kind == RETRIABLE else self._single

    def compensation_policy(self, index: int) -> RetryPolicy:
        """The policy for the compensation of step ``index``."""
        step = self.steps[index]
        return step.compensation_retry or self.compensation_retry


def _check_steps(steps: tuple[Step, ...]) -> None:
    if not steps:
        raise ValueError("steps=[] must hold at least one Step")
    seen: dict[str, int] = {}
    pivot: int | None = None
    for i, step in enumerate(steps, start=1):
        if not isinstance(step, Step):
            raise TypeError(f"steps: step {i} is {step!r}, it must be a Step")
        if step.name in seen:
            raise ValueError(
                f"steps: step name {step.name!r} is used twice (step {seen[step.name]} and "
                f"step {i}); names must be unique"
            )
        seen[step.name] = i
        if step.kind == PIVOT:
            if pivot is not None:
                raise ValueError(
                    f"steps: step {step.name!r} is a second pivot (step {pivot} is one); a saga "
                    "has at most one pivot"
                )
            pivot = i
    _check_order(steps)


def _check_order(steps: tuple[Step, ...]) -> None:
    """Compensatable steps, then the pivot, then retriable steps, in that order."""
    rank = {COMPENSATABLE: 0, PIVOT: 1, RETRIABLE: 2}
    highest = steps[0]
    for step in steps[1:]:
        if rank[step.kind] < rank[highest.kind]:
            raise ValueError(
                f"steps: step {step.name!r} is {step.kind} but comes after the "
                f"{highest.kind} step {highest.name!r}; compensatable steps come first, then "
                "at most one pivot, then retriable steps"
            )
        if rank[step.kind] > rank[highest.kind]:
            highest = step


def _save_point_positions(save_points: Any, steps: tuple[Step, ...]) -> frozenset[int]:
    """Positions (number of steps done) at which a recovered saga may resume."""
    if save_points == "every":
        return frozenset(range(len(steps) + 1))
    if isinstance(save_points, (str, bytes)) or not isinstance(save_points, Iterable):
        raise TypeError(f"save_points={save_points!r} must be 'every' or a tuple of step names")
    names = {step.name: i for i, step in enumerate(steps)}
    positions = set()
    for name in save_points:
        if name not in names:
            known = ", ".join(repr(n) for n in names)
            raise ValueError(f"save_points: {name!r} is not a step of this saga ({known})")
        positions.add(names[name] + 1)
    return frozenset(positions)
