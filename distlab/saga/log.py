"""The durable saga log: one small interface (:class:`SagaLog`) and an in-memory back-end.

The log is the source of truth. An orchestrator appends every decision before it acts on it and,
after a crash, rebuilds each unfinished saga from it. Each saga has a lease: the orchestrator that
appends to a saga (or claims it) holds it for ``lease`` seconds, and no other orchestrator may
write to that saga meanwhile (:class:`LeaseLost`), so two orchestrators never drive one saga.

:class:`InMemoryLog` keeps the records in the process. It survives a *simulated* crash of the
orchestrator (the object lives on, as durable storage would), unless it was built with
``lost_on_crash=True``, which shows why a saga log must be durable: then :meth:`InMemoryLog.crash`
forgets everything. :class:`~distlab.saga.sqlite_log.SQLiteLog` is the back-end for real programs.

>>> from distlab.saga.records import LogRecord
>>> log = InMemoryLog()
>>> log.append([LogRecord("s1", 0, "saga_started", 0.0, payload={"saga": "t"})],
...            owner="a", now=0.0, lease=30.0)
>>> log.unfinished(), log.claim("s1", owner="b", now=1.0, lease=30.0)
(['s1'], False)
>>> log.claim("s1", owner="b", now=31.0, lease=30.0)  # a's lease has expired
True
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from distlab._validate import check_bool
from distlab.saga import records as rec

__all__ = ["InMemoryLog", "LeaseLost", "SagaLog", "check_batch", "SagaRow"]

UNFINISHED = (rec.RUNNING, rec.COMPENSATING, rec.ROLLING_BACK)


class LeaseLost(RuntimeError):
    """Another orchestrator holds this saga's lease: this one must stop driving it."""


@runtime_checkable
class SagaLog(Protocol):
    """What an orchestrator needs from a durable log. Every method is atomic."""

    def append(
        self, records: Sequence[rec.LogRecord], *, owner: str, now: float, lease: float
    ) -> None:
        """Write one saga's next records, all or none, renewing ``owner``'s lease until
        ``now + lease`` (releasing it when the saga ends); :class:`LeaseLost` if another owner
        holds an unexpired lease; ``ValueError`` if ``seq`` does not follow the saga's last."""

    def claim(self, saga_id: str, *, owner: str, now: float, lease: float) -> bool:
        """Take the lease of an unfinished saga if it is free, expired or already ``owner``'s."""

    def release(self, saga_id: str, *, owner: str) -> None:
        """Give up ``owner``'s lease (another orchestrator may claim the saga at once)."""

    def read(self, saga_id: str) -> list[rec.LogRecord]:
        """The saga's records in ``seq`` order (``[]`` for an unknown saga)."""

    def unfinished(self) -> list[str]:
        """Sagas that are running, compensating or rolling back (not ended, not stuck)."""

    def status(self, saga_id: str) -> str | None:
        """The saga's latest status, ``None`` for an unknown saga."""

    def saga_ids(self) -> list[str]:
        """Every saga in the log, in the order they started."""


@dataclass
class SagaRow:
    """What a log keeps per saga besides its records: status and lease."""

    status: str | None
    count: int = 0
    owner: str | None = None
    until: float = float("-inf")

    def held_by_other(self, owner: str, now: float) -> bool:
        return self.owner is not None and self.owner != owner and self.until > now


def check_batch(records: Sequence[rec.LogRecord], expected_seq: int) -> str:
    """Check that ``records`` are one saga's, numbered from ``expected_seq``; return its id.

    Records older than the log's (another orchestrator wrote meanwhile) raise
    :class:`LeaseLost`; any other mismatch is a ``ValueError``."""
    if not records:
        raise ValueError("records=[] must hold at least one LogRecord")
    saga_id = records[0].saga_id
    if 0 < records[0].seq < expected_seq:
        raise LeaseLost(
            f"saga {saga_id!r} has {expected_seq} records, this orchestrator's next is "
            f"seq={records[0].seq}: another orchestrator has driven it meanwhile"
        )
    for offset, record in enumerate(records):
        if not isinstance(record, rec.LogRecord):
            raise TypeError(f"records[{offset}]={record!r} must be a LogRecord")
        if record.saga_id != saga_id:
            raise ValueError(
                f"records[{offset}] is of saga {record.saga_id!r}; one append writes one saga "
                f"({saga_id!r})"
            )
        if record.seq != expected_seq + offset:
            raise ValueError(
                f"records[{offset}].seq={record.seq} of saga {saga_id!r} must be "
                f"{expected_seq + offset}: the log holds {expected_seq} record(s) for it"
            )
    return saga_id


def status_of(records: Sequence[rec.LogRecord], status: str | None) -> str | None:
    """The saga's status after ``records``, from ``status`` before them."""
    for record in records:
        status = record.status_after(status)
    return status


class InMemoryLog:
    """A :class:`SagaLog` in memory, thread-safe (see the module docstring).

    Args:
        lost_on_crash: if True, :meth:`crash` forgets every record, as a log kept only in the
            orchestrator's memory would.
    """

    def __init__(self, *, lost_on_crash: bool = False) -> None:
        self.lost_on_crash = check_bool("lost_on_crash", lost_on_crash)
        self._records: dict[str, list[rec.LogRecord]] = {}
        self._rows: dict[str, SagaRow] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryLog(sagas={len(self._rows)}, lost_on_crash={self.lost_on_crash})"

    def crash(self) -> None:
        """The orchestrator's process died: a durable log keeps everything; one that was kept
        in that process's memory (``lost_on_crash=True``) loses everything."""
        if self.lost_on_crash:
            with self._lock:
                self._records.clear()
                self._rows.clear()

    def append(
        self, records: Sequence[rec.LogRecord], *, owner: str, now: float, lease: float
    ) -> None:
        records = list(records)
        with self._lock:
            first = records[0] if records else None
            row = self._rows.get(first.saga_id) if first is not None else None
            saga_id = check_batch(records, row.count if row is not None else 0)
            if row is None:
                row = SagaRow(status=None)
            elif row.held_by_other(owner, now):
                raise LeaseLost(
                    f"saga {saga_id!r} is leased to {row.owner!r} until {row.until:g}; "
                    f"{owner!r} may not write to it"
                )
            row.status = status_of(records, row.status)
            row.count += len(records)
            ended = row.status in rec.ENDED
            row.owner, row.until = (None, float("-inf")) if ended else (owner, now + lease)
            self._rows[saga_id] = row
            self._records.setdefault(saga_id, []).extend(records)

    def claim(self, saga_id: str, *, owner: str, now: float, lease: float) -> bool:
        with self._lock:
            row = self._rows.get(saga_id)
            if row is None or row.status in rec.ENDED or row.held_by_other(owner, now):
                return False
            row.owner, row.until = owner, now + lease
            return True

    def release(self, saga_id: str, *, owner: str) -> None:
        with self._lock:
            row = self._rows.get(saga_id)
            if row is not None and row.owner == owner:
                row.owner, row.until = None, float("-inf")

    def read(self, saga_id: str) -> list[rec.LogRecord]:
        with self._lock:
            return list(self._records.get(saga_id, ()))

    def unfinished(self) -> list[str]:
        with self._lock:
            return [s for s, row in self._rows.items() if row.status in UNFINISHED]

    def status(self, saga_id: str) -> str | None:
        with self._lock:
            row = self._rows.get(saga_id)
            return None if row is None else row.status

    def saga_ids(self) -> list[str]:
        with self._lock:
            return list(self._rows)
