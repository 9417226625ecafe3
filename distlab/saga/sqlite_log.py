"""A :class:`~distlab.saga.log.SagaLog` in SQLite, for real programs (stdlib ``sqlite3``).

The database is in WAL mode with ``synchronous=NORMAL``: a committed append survives the
process being killed (what a saga orchestrator must survive); a power cut may lose the last
transactions before a checkpoint (``durable_commits=True`` sets ``synchronous=FULL`` for that).
Every append, claim and release is one ``BEGIN IMMEDIATE`` transaction, which takes SQLite's
write lock first, so two orchestrators on one file see each other's leases and never both write
to one saga. Payloads (the saga's input, the steps' results) are stored as JSON.

>>> import tempfile, os
>>> from distlab.saga.records import LogRecord
>>> path = os.path.join(tempfile.mkdtemp(), "sagas.db")
>>> log = SQLiteLog(path)
>>> log.append([LogRecord("s1", 0, "saga_started", 0.0, payload={"saga": "t", "data": [1]})],
...            owner="a", now=0.0, lease=30.0)
>>> log.read("s1")[0].payload, log.status("s1")
({'saga': 't', 'data': [1]}, 'running')
>>> log.close()
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from distlab._validate import check_bool, check_number
from distlab.saga import records as rec
from distlab.saga.log import UNFINISHED, LeaseLost, check_batch, status_of

__all__ = ["SQLiteLog"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS saga (
    saga_id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, count INTEGER NOT NULL,
    owner TEXT, lease_until REAL
);
CREATE INDEX IF NOT EXISTS saga_status ON saga (status);
CREATE TABLE IF NOT EXISTS saga_log (
    saga_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, time REAL NOT NULL,
    step TEXT, round INTEGER NOT NULL, attempt INTEGER NOT NULL, outcome TEXT, error TEXT,
    key TEXT, payload TEXT, PRIMARY KEY (saga_id, seq)
) WITHOUT ROWID;
"""

_INSERT = (
    "INSERT INTO saga_log (saga_id, seq, kind, time, step, round, attempt, outcome, error, key,"
    " payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = "saga_id, seq, kind, time, step, round, attempt, outcome, error, key, payload"


def _row(record: rec.LogRecord) -> tuple[Any, ...]:
    try:
        payload = None if record.payload is None else json.dumps(record.payload)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"saga {record.saga_id!r}, step {record.step!r}: {record.kind} payload "
            f"{record.payload!r} cannot be stored as JSON ({exc}); results and saga data "
            "must be JSON values"
        ) from None
    return (
        record.saga_id, record.seq, record.kind, record.time, record.step, record.round,
        record.attempt, record.outcome, record.error, record.key, payload,
    )  # fmt: skip


def _record(row: tuple[Any, ...]) -> rec.LogRecord:
    payload = None if row[10] is None else json.loads(row[10])
    return rec.LogRecord(*row[:10], payload=payload)


class SQLiteLog:
    """The saga log in an SQLite file at ``path`` (created if missing).

    Args:
        path: the database file; every orchestrator sharing sagas opens the same file.
        durable_commits: ``synchronous=FULL`` instead of ``NORMAL`` (survives power loss too).
        busy_timeout: seconds to wait for another process's write lock before failing.

    One object may be used from several threads (a lock serialises them); each process opens
    its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durable_commits: bool = False,
        busy_timeout: float = 10.0,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path={path!r} must be a file path (str or os.PathLike)")
        check_bool("durable_commits", durable_commits)
        busy = check_number("busy_timeout", busy_timeout, 0.0)
        self.path = os.fspath(path)
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy
        )
        self._lock = threading.Lock()
        self._known: dict[str, tuple[str | None, int]] = {}  # saga -> (status, count)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if durable_commits else 'NORMAL'}")
        with self._lock, self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)

    def __repr__(self) -> str:
        return f"SQLiteLog({self.path!r})"

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            self._conn.close()

    def _transaction(self) -> _Immediate:
        return _Immediate(self._conn)

    def append(
        self, records: Sequence[rec.LogRecord], *, owner: str, now: float, lease: float
    ) -> None:
        records = list(records)
        rows = [_row(r) for r in records]  # JSON first: a bad payload writes nothing
        saga_id = records[0].saga_id if records else ""
        known = self._known.get(saga_id)
        if known is not None and self._append_known(records, rows, known, owner, now, lease):
            return
        with self._lock, self._transaction() as conn:
            found = conn.execute(
                "SELECT status, count, owner, lease_until FROM saga WHERE saga_id = ?",
                (saga_id,),
            ).fetchone()
            status, count, holder, until = found if found else (None, 0, None, None)
            check_batch(records, count)
            if holder is not None and holder != owner and until > now:
                raise LeaseLost(
                    f"saga {saga_id!r} is leased to {holder!r} until {until:g}; {owner!r} may "
                    "not write to it"
                )
            status = status_of(records, status)
            ended = status in rec.ENDED
            lease_owner, lease_until = (None, None) if ended else (owner, now + lease)
            conn.executemany(_INSERT, rows)
            if found is None:
                name = (records[0].payload or {}).get("saga") if count == 0 else None
                conn.execute(
                    "INSERT INTO saga VALUES (?, ?, ?, ?, ?, ?)",
                    (saga_id, name, status, len(records), lease_owner, lease_until),
                )
            else:
                conn.execute(
                    "UPDATE saga SET status = ?, count = ?, owner = ?, lease_until = ? "
                    "WHERE saga_id = ?",
                    (status, count + len(records), lease_owner, lease_until, saga_id),
                )
        self._remember(saga_id, status, count + len(records))

    def _remember(self, saga_id: str, status: str | None, count: int) -> None:
        """What this connection last wrote (or read) of a saga, for the next append's fast
        path; an ended saga is forgotten (nothing more may be written to it)."""
        if status in rec.ENDED:
            self._known.pop(saga_id, None)
        else:
            self._known[saga_id] = (status, count)

    def _append_known(
        self,
        records: list[rec.LogRecord],
        rows: list[tuple[Any, ...]],
        known: tuple[str | None, int],
        owner: str,
        now: float,
        lease: float,
    ) -> bool:
        """Append without reading the saga's row first: one UPDATE that succeeds only if the
        row still has the count this connection knows and the lease is ``owner``'s or free,
        the very conditions the full path checks. False (nothing written) sends the append
        down the full path, which says what went wrong."""
        previous, count = known
        if records[0].seq != count:
            return False
        check_batch(records, count)
        status = status_of(records, previous)
        ended = status in rec.ENDED
        lease_owner, lease_until = (None, None) if ended else (owner, now + lease)
        with self._lock, self._transaction() as conn:
            updated = conn.execute(
                "UPDATE saga SET status = ?, count = ?, owner = ?, lease_until = ? "
                "WHERE saga_id = ? AND count = ? "
                "AND (owner IS NULL OR owner = ? OR lease_until <= ?)",
                (status, count + len(records), lease_owner, lease_until, records[0].saga_id,
                 count, owner, now),
            ).rowcount  # fmt: skip
            if updated == 1:
                conn.executemany(_INSERT, rows)
        if updated == 1:
            self._remember(records[0].saga_id, status, count + len(records))
        return updated == 1

    def claim(self, saga_id: str, *, owner: str, now: float, lease: float) -> bool:
        with self._lock, self._transaction() as conn:
            updated = conn.execute(
                "UPDATE saga SET owner = ?, lease_until = ? WHERE saga_id = ? "
                "AND status NOT IN (?, ?) AND (owner IS NULL OR owner = ? OR lease_until <= ?)",
                (owner, now + lease, saga_id, *rec.ENDED, owner, now),
            ).rowcount
        return updated == 1

    def release(self, saga_id: str, *, owner: str) -> None:
        with self._lock, self._transaction() as conn:
            conn.execute(
                "UPDATE saga SET owner = NULL, lease_until = NULL WHERE saga_id = ? AND owner = ?",
                (saga_id, owner),
            )

    def read(self, saga_id: str) -> list[rec.LogRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM saga_log WHERE saga_id = ? ORDER BY seq", (saga_id,)
            ).fetchall()
        records = [_record(row) for row in rows]
        if records:
            self._remember(saga_id, status_of(records, None), len(records))
        return records

    def unfinished(self) -> list[str]:
        marks = ", ".join("?" * len(UNFINISHED))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT saga_id FROM saga WHERE status IN ({marks}) ORDER BY rowid",
                UNFINISHED,
            ).fetchall()
        return [row[0] for row in rows]

    def status(self, saga_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT status FROM saga WHERE saga_id = ?", (saga_id,)
            ).fetchone()
        return None if row is None else row[0]

    def saga_ids(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute("SELECT saga_id FROM saga ORDER BY rowid").fetchall()
        return [row[0] for row in rows]


class _Immediate:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")
