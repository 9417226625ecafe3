"""The saga log's records: what an orchestrator appends before each move, and replays after a crash.

A record is a frozen, plain value (strings, numbers and a JSON-able ``payload``), so that any
log back-end can store it. One saga's records are numbered ``seq`` = 0, 1, 2, ... in order.

========================  ===================================================================
``saga_started``          payload ``{"saga": name, "data": input}``
``action_started``        an attempt of a step's action begins; registers its compensation
``action_ended``          ``outcome`` ``ok`` (payload: the result) or ``error`` (``error``: the
                          exception, payload ``{"retry_in": seconds}`` if it will be retried)
``compensation_started``  an attempt of a step's compensation begins
``compensation_ended``    ``outcome`` ``ok`` or ``error`` (as above)
``aborting``              backward recovery begins (``error`` says why)
``rollback``              recovery rolls back to a save-point: payload ``{"position": n}``
``stuck``                 a compensation (or a retriable step) gave up: an operator must act
``resumed``               an operator resumed a stuck saga: payload ``{"status": status}``
``saga_ended``            ``outcome``: ``completed`` or ``compensated``
========================  ===================================================================

>>> r = LogRecord("s1", 0, SAGA_STARTED, time=0.0, payload={"saga": "trip", "data": None})
>>> r.kind, r.seq
('saga_started', 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ABORTING",
    "ACTION_ENDED",
    "ACTION_STARTED",
    "COMPENSATED",
    "COMPENSATING",
    "COMPENSATION_ENDED",
    "COMPENSATION_STARTED",
    "COMPLETED",
    "KINDS",
    "LogRecord",
    "ROLLBACK",
    "RESUMED",
    "ROLLING_BACK",
    "RUNNING",
    "SAGA_ENDED",
    "SAGA_STARTED",
    "STATUSES",
    "STUCK",
    "ENDED",
]

SAGA_STARTED = "saga_started"
ACTION_STARTED = "action_started"
ACTION_ENDED = "action_ended"
COMPENSATION_STARTED = "compensation_started"
COMPENSATION_ENDED = "compensation_ended"
ABORTING = "aborting"
ROLLBACK = "rollback"
STUCK = "stuck"
RESUMED = "resumed"
SAGA_ENDED = "saga_ended"
KINDS = (
    SAGA_STARTED,
    ACTION_STARTED,
    ACTION_ENDED,
    COMPENSATION_STARTED,
    COMPENSATION_ENDED,
    ABORTING,
    ROLLBACK,
    STUCK,
    RESUMED,
    SAGA_ENDED,
)

# A saga's status (the log keeps the latest one per saga).
RUNNING = "running"
COMPENSATING = "compensating"
ROLLING_BACK = "rolling_back"
COMPLETED = "completed"
COMPENSATED = "compensated"
# STUCK is both a record kind and a status.
STATUSES = (RUNNING, COMPENSATING, ROLLING_BACK, COMPLETED, COMPENSATED, STUCK)
#: Statuses a saga never leaves by itself (``stuck`` waits for an operator).
ENDED = (COMPLETED, COMPENSATED)


@dataclass(frozen=True)
class LogRecord:
    """One entry of a saga's log (see the module docstring for the kinds).

    ``step`` is the step's name, ``round`` how many times the saga rolled back to a
    save-point before this step started, ``attempt`` the attempt number (1, 2, ...), ``key``
    the step's idempotency key, ``time`` the driver's clock in seconds.
    """

    saga_id: str
    seq: int
    kind: str
    time: float
    step: str | None = None
    round: int = 0
    attempt: int = 0
    outcome: str | None = None
    error: str | None = None
    key: str | None = None
    payload: Any = None

    def status_after(self, previous: str | None) -> str | None:
        """The saga's status once this record is written (``previous`` before it).

        >>> LogRecord("s", 3, ABORTING, 1.0).status_after(RUNNING)
        'compensating'
        """
        kind = self.kind
        if kind == SAGA_STARTED:
            return RUNNING
        if kind == ABORTING:
            return COMPENSATING
        if kind == ROLLBACK:
            return ROLLING_BACK
        if kind == STUCK:
            return STUCK
        if kind == RESUMED:
            return self.payload["status"]
        if kind == SAGA_ENDED:
            return self.outcome
        if previous == ROLLING_BACK and kind == ACTION_STARTED:
            return RUNNING
        return previous
