"""What a circuit breaker says: its states, the error of a rejected call, its events and metrics.

>>> BreakerState("HALF_OPEN")
<BreakerState.HALF_OPEN: 'HALF_OPEN'>
>>> str(CircuitOpenError("payments", BreakerState.OPEN, 12.5))
'circuit breaker payments is OPEN; next call admitted after t=12.5'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from distlab.observe import Event

__all__ = ["BreakerEvent", "BreakerMetrics", "BreakerState", "CircuitOpenError"]


class BreakerState(enum.Enum):
    """The states of a :class:`~distlab.breaker.CircuitBreaker`."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"
    FORCED_OPEN = "FORCED_OPEN"
    DISABLED = "DISABLED"
    METRICS_ONLY = "METRICS_ONLY"


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


@dataclass(frozen=True)
class BreakerEvent(Event):
    """A transition (``kind="transition"``) or a rejected call (``kind="rejected"``).

    ``time`` is the breaker's time of the event (the ``now`` it was told, or the deadline of a
    timed transition), ``source`` the breaker's name, ``state`` the state after the event,
    ``from_state`` the state before a transition (``None`` for a rejection), and
    ``failure_rate`` / ``slow_call_rate`` the rates (percent) the breaker saw at that moment
    (``None`` below its minimum of calls, and always for the course's consecutive breaker).

    >>> BreakerEvent(time=3.0, kind="transition", source="db", state="OPEN",
    ...              from_state="CLOSED", failure_rate=60.0, slow_call_rate=0.0).state
    'OPEN'
    """

    state: str = "CLOSED"
    from_state: str | None = None
    failure_rate: float | None = None
    slow_call_rate: float | None = None


@dataclass(frozen=True)
class BreakerMetrics:
    """A snapshot of a breaker's counters.

    ``failure_rate`` and ``slow_call_rate`` are percentages over the current window (``None``
    while fewer than the minimum calls are recorded, and always for the course's consecutive
    breaker). The totals count since creation or the last ``reset``, in every state:
    ``admitted = recorded + ignored + in_flight`` always holds (``recorded = successes +
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
