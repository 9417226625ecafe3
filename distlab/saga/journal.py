"""What every saga driver shares: the registry of saga definitions, the durable log with this
orchestrator's leases, and the observation API (events and metrics).

Every record a driver appends becomes a :class:`SagaEvent` (its ``kind`` is the record's kind:
``action_started``, ``compensation_ended``, ``stuck`` ...), and :meth:`Journal.metrics` counts
them. The sync and asyncio orchestrators use one :class:`Journal` each; a simulated driver can
use one too, with the simulation's clock.

>>> from distlab.saga.definition import Saga, Step
>>> from distlab.saga.log import InMemoryLog
>>> journal = Journal(InMemoryLog(), name="orders", owner="node-1")
>>> seen = []
>>> unsubscribe = journal.subscribe(seen.append)
>>> run = journal.begin(Saga("one", [Step("a", action=str)]), saga_id="s1", data=None, now=0.0)
>>> command = run.next(now=0.0)  # run step "a": first, log what was decided
>>> journal.write(run, now=0.0)
>>> [e.kind for e in seen], journal.metrics().started
(['saga_started', 'action_started'], 1)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from distlab import outcomes
from distlab._validate import check_int, check_number
from distlab.observe import Event, Listeners
from distlab.saga import records as rec
from distlab.saga.core import SagaRun
from distlab.saga.definition import Saga
from distlab.saga.log import LeaseLost, SagaLog

__all__ = ["Journal", "SagaEvent", "SagaMetrics"]


@dataclass(frozen=True)
class SagaEvent(Event):
    """A saga log record, as an event: ``kind`` is the record's kind (see
    :mod:`distlab.saga.records`), ``source`` the orchestrator's name."""

    saga_id: str = ""
    step: str | None = None
    round: int = 0
    attempt: int = 0
    outcome: str | None = None
    error: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class SagaMetrics:
    """Counts since the orchestrator was made: sagas ``started``, ``completed``,
    ``compensated``, ``stuck``, ``recovered`` (taken over from the log), ``rollbacks`` (to a
    save-point); ``actions`` and ``compensations`` attempts started, ``action_errors`` and
    ``compensation_errors`` among them."""

    started: int = 0
    completed: int = 0
    compensated: int = 0
    stuck: int = 0
    recovered: int = 0
    rollbacks: int = 0
    actions: int = 0
    action_errors: int = 0
    compensations: int = 0
    compensation_errors: int = 0


_COUNTED = {
    rec.SAGA_STARTED: "started",
    rec.STUCK: "stuck",
    rec.ROLLBACK: "rollbacks",
    rec.ACTION_STARTED: "actions",
    rec.COMPENSATION_STARTED: "compensations",
}


class Journal:
    """The log, the leases and the observation API of one orchestrator.

    Args:
        log: a :class:`~distlab.saga.log.SagaLog` (in memory or SQLite).
        sagas: saga definitions to know by name (for :meth:`claim` after a crash).
        name: the ``source`` of the events.
        owner: this orchestrator's lease owner id (default: a random one). An orchestrator
            restarted with the same ``owner`` takes its sagas back at once; another one waits
            for their leases to expire.
        lease: seconds a saga stays this orchestrator's after its last write (longer than any
            step and any retry wait).
        max_events: how many recent events :meth:`events` keeps.
    """

    def __init__(
        self,
        log: SagaLog,
        sagas: Iterable[Saga] = (),
        *,
        name: str | None = None,
        owner: str | None = None,
        lease: float = 30.0,
        max_events: int = 1000,
    ) -> None:
        if not isinstance(log, SagaLog):
            raise TypeError(f"log={log!r} must be a SagaLog (InMemoryLog, SQLiteLog)")
        if owner is not None and (not isinstance(owner, str) or not owner):
            raise TypeError(f"owner={owner!r} must be a non-empty string or None")
        self.log = log
        self.name = name
        self.owner = owner or uuid.uuid4().hex
        self.lease = check_number("lease", lease, 0.0, min_inclusive=False)
        self.sagas: dict[str, Saga] = {}
        for saga in sagas:
            self.register(saga)
        self._listeners = Listeners(name, check_int("max_events", max_events, 0))
        self._counts = dict.fromkeys(SagaMetrics.__dataclass_fields__, 0)
        self._lock = threading.Lock()  # guards the counts when threads share the journal

    def register(self, saga: Saga) -> None:
        """Know ``saga`` by its name (a different definition with the same name is refused)."""
        if not isinstance(saga, Saga):
            raise TypeError(f"saga={saga!r} must be a Saga")
        known = self.sagas.get(saga.name)
        if known is not None and known is not saga:
            raise ValueError(f"saga name {saga.name!r} is already registered to {known!r}")
        self.sagas[saga.name] = saga

    # -- writing ---------------------------------------------------------------------------

    def begin(
        self, saga: Saga, *, saga_id: str | None, data: Any, now: float, rng: Any = None
    ) -> SagaRun:
        """Start a new saga (its first record is written with the driver's first write)."""
        self.register(saga)
        saga_id = uuid.uuid4().hex if saga_id is None else saga_id
        if not isinstance(saga_id, str) or not saga_id:
            raise TypeError(f"saga_id={saga_id!r} must be a non-empty string or None")
        status = self.log.status(saga_id)
        if status is not None:
            raise ValueError(
                f"saga_id={saga_id!r} is already in the log ({status}); a saga id names one "
                "saga (use recover() or resume() to carry an existing one on)"
            )
        return SagaRun.start(saga, saga_id, data=data, now=now, rng=rng)

    def write(self, run: SagaRun, now: float) -> None:
        """Append the run's new records, all in one transaction, and report them.

        A driver writes after each decision, before acting on it (a step's start), and after
        each outcome, before deciding anything else (its result, with the abort or stuck it
        causes): the log then tells a crash inside a step (started, no result) from a crash
        between steps, as Garcia-Molina and Salem's recovery needs."""
        records = run.drain()
        if not records:
            return
        self.log.append(records, owner=self.owner, now=now, lease=self.lease)
        self._observe(records)

    def renew(self, run: SagaRun, now: float, *, wait: float = 0.0) -> None:
        """Extend this orchestrator's lease on ``run`` to cover a ``wait`` (a retry's backoff,
        which may be longer than the lease) and then ``lease`` seconds more."""
        lease = self.lease + check_number("wait", wait, 0.0)
        if not self.log.claim(run.saga_id, owner=self.owner, now=now, lease=lease):
            raise LeaseLost(f"saga {run.saga_id!r} was taken over by another orchestrator")

    def release(self, run: SagaRun) -> None:
        """Let another orchestrator take ``run`` at once (it is stuck, or we stop)."""
        self.log.release(run.saga_id, owner=self.owner)

    # -- reading back ----------------------------------------------------------------------

    def claim(self, saga_id: str, now: float, rng: Any = None) -> SagaRun | None:
        """Take an unfinished (or stuck) saga from the log, rebuilt and recovered (see
        :meth:`SagaRun.recover`); ``None`` if another orchestrator holds it."""
        if not self.log.claim(saga_id, owner=self.owner, now=now, lease=self.lease):
            return None
        records = self.log.read(saga_id)
        name = (records[0].payload or {}).get("saga") if records else None
        saga = self.sagas.get(name)  # type: ignore[arg-type]
        if saga is None:
            self.log.release(saga_id, owner=self.owner)
            known = ", ".join(repr(n) for n in self.sagas) or "none"
            raise ValueError(
                f"saga {saga_id!r} in the log is a {name!r} saga, which this orchestrator does "
                f"not know (registered: {known}); pass its Saga in sagas="
            )
        run = SagaRun.from_log(saga, records, rng=rng)
        with self._lock:
            self._counts["recovered"] += 1
        run.recover(now)
        return run

    def claim_stuck(self, saga_id: str, now: float) -> SagaRun:
        """Take a stuck saga for an operator's retry (:meth:`SagaRun.resume` at ``now``); a
        ``ValueError`` if it is unknown, ended, held by another orchestrator or not stuck."""
        run = self.claim(saga_id, now)
        if run is None:
            raise ValueError(
                f"saga_id={saga_id!r} is unknown, ended or held by another orchestrator"
            )
        try:
            run.resume(now)
        except ValueError:
            self.release(run)
            raise
        return run

    # -- observing -------------------------------------------------------------------------

    def _observe(self, records: list[rec.LogRecord]) -> None:
        counts = self._counts
        listeners = self._listeners
        for record in records:
            kind = record.kind
            field = _COUNTED.get(kind)
            if field is None and kind == rec.SAGA_ENDED:
                field = record.outcome  # "completed" or "compensated"
            elif field is None and record.outcome == outcomes.ERROR:
                field = "action_errors" if kind == rec.ACTION_ENDED else "compensation_errors"
            if field is not None:
                with self._lock:
                    counts[field] += 1
            listeners.emit(
                SagaEvent(
                    record.time,
                    kind,
                    self.name,
                    record.saga_id,
                    record.step,
                    record.round,
                    record.attempt,
                    record.outcome,
                    record.error,
                    record.key,
                )  # fmt: skip
            )
        listeners.deliver()

    def subscribe(self, listener: Callable[[SagaEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later :class:`SagaEvent`; returns unsubscribe."""
        return self._listeners.subscribe(listener)

    def events(self) -> list[SagaEvent]:
        """The recent events, oldest first."""
        return self._listeners.recent()

    def metrics(self) -> SagaMetrics:
        """The counters, now."""
        with self._lock:
            return SagaMetrics(**self._counts)
