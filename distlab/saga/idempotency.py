"""The participant's side of a saga: idempotency keys and tombstones.

An orchestrator calls each step with a stable idempotency key (``ctx.key``): retries, duplicates
and calls repeated after a crash all carry the same key. :class:`IdempotencyStore` records each
key with its answer, so a duplicate request is answered from the record instead of being
executed twice. It also handles the other half of McCaffrey's distributed sagas: a compensation
may arrive before its action (the action's request is delayed, or lost, while the orchestrator
has given up on it). Compensating a key that was never executed leaves a *tombstone*, and the
late action then becomes a no-op (it raises :class:`Tombstoned` instead of running).

In a real service, record the key in the same local transaction as the effect; this in-memory
store shows the rules and serves tests and simulations.

>>> store = IdempotencyStore(clock=lambda: 0.0)
>>> balance = {"ada": 100}
>>> def debit(amount):
...     balance["ada"] -= amount
...     return balance["ada"]
>>> store.run("s1/debit", debit, 30), store.run("s1/debit", debit, 30)  # a duplicate
(70, 70)
>>> store.compensate("s2/debit", lambda result: None)  # before its action: a tombstone
False
>>> store.run("s2/debit", debit, 30)  # doctest: +ELLIPSIS
Traceback (most recent call last):
distlab.saga.idempotency.Tombstoned: key 's2/debit' was compensated before its action arrived...
>>> balance, store.metrics().executed, store.metrics().duplicates
({'ada': 70}, 1, 1)
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from distlab.observe import Event, Listeners

__all__ = [
    "IdempotencyEvent",
    "IdempotencyMetrics",
    "IdempotencyStore",
    "SQLiteIdempotencyStore",
    "Tombstoned",
]


class Tombstoned(RuntimeError):
    """The action's key was compensated before the action arrived: the action is a no-op."""


@dataclass(frozen=True)
class IdempotencyEvent(Event):
    """What the store did with a request: ``kind`` is ``executed``, ``duplicate``,
    ``tombstone`` (a compensation before its action), ``late_action`` (an action refused by a
    tombstone), ``compensated`` or ``duplicate_compensation``."""

    key: str = ""


@dataclass(frozen=True)
class IdempotencyMetrics:
    """How many requests were ``executed``, answered as ``duplicates``, and how many
    ``tombstones`` were left, ``late_actions`` refused, ``compensated`` (undone) and
    ``duplicate_compensations`` ignored."""

    executed: int = 0
    duplicates: int = 0
    tombstones: int = 0
    late_actions: int = 0
    compensated: int = 0
    duplicate_compensations: int = 0


_TOMBSTONE = "tombstone"
_DONE = "done"
_FAILED = "failed"
_UNDONE = "undone"


@dataclass
class _Entry:
    state: str
    value: Any = None


class IdempotencyStore:
    """Records of the keys a participant has seen (see the module docstring). Thread-safe:
    concurrent requests with one key run the function once; the others wait for its answer.

    Args:
        remember_errors: exception types that are a definite answer (a refused payment): they
            are recorded and raised again for a duplicate. Other exceptions are not recorded,
            so a retry runs the function again.
        name: the ``source`` of the events; clock: event times (default ``time.time``).
        max_events: how many recent events :meth:`events` keeps.
    """

    def __init__(
        self,
        *,
        remember_errors: tuple[type[BaseException], ...] = (),
        name: str | None = None,
        clock: Callable[[], float] | None = None,
        max_events: int = 1000,
    ) -> None:
        if not isinstance(remember_errors, tuple) or not all(
            isinstance(t, type) and issubclass(t, BaseException) for t in remember_errors
        ):
            raise TypeError(
                f"remember_errors={remember_errors!r} must be a tuple of exception types"
            )
        if clock is not None and not callable(clock):
            raise TypeError(f"clock={clock!r} must be callable")
        self.remember_errors = remember_errors
        self.name = name
        self._clock = clock or time.time
        self._entries: dict[str, _Entry] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._listeners = Listeners(name, max_events)
        self._counts = dict.fromkeys(IdempotencyMetrics.__dataclass_fields__, 0)

    def _key_lock(self, key: str) -> threading.Lock:
        if not isinstance(key, str) or not key:
            raise TypeError(f"key={key!r} must be a non-empty string")
        with self._lock:
            lock = self._key_locks.get(key)
            if lock is None:
                lock = self._key_locks[key] = threading.Lock()
            return lock

    def _note(self, kind: str, key: str, counter: str) -> None:
        with self._lock:
            self._counts[counter] += 1
        self._listeners.emit(IdempotencyEvent(self._clock(), kind, self.name, key))
        self._listeners.deliver()

    # -- where the records live (SQLiteIdempotencyStore overrides these) ------------------

    @contextlib.contextmanager
    def _transaction(self, key: str) -> Iterator[None]:
        with self._key_lock(key):
            yield

    def _get(self, key: str) -> _Entry | None:
        return self._entries.get(key)

    def _put(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry

    def _invoke(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    # -- the rules --------------------------------------------------------------------------

    def run(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` once per ``key``: a later request with the key gets the
        recorded answer; a key already compensated raises :class:`Tombstoned`."""
        with self._transaction(key):
            entry = self._get(key)
            if entry is not None:
                if entry.state in (_TOMBSTONE, _UNDONE):
                    self._note("late_action", key, "late_actions")
                    raise Tombstoned(
                        f"key {key!r} was compensated before its action arrived; the action "
                        "is a no-op"
                        if entry.state == _TOMBSTONE
                        else f"key {key!r} was already compensated; the action is a no-op"
                    )
                self._note("duplicate", key, "duplicates")
                if entry.state == _FAILED:
                    raise entry.value
                return entry.value
            try:
                result = self._invoke(fn, *args, **kwargs)
            except self.remember_errors as exc:
                self._put(key, _Entry(_FAILED, exc))
                self._note("executed", key, "executed")
                raise
            self._put(key, _Entry(_DONE, result))
            self._note("executed", key, "executed")
            return result

    def compensate(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Undo the action of ``key``: ``fn(result, *args, **kwargs)`` with the action's
        recorded result, once. True if it ran; False if there was nothing to undo (the action
        never ran, and a tombstone now refuses it; it failed; or it was already undone).
        If ``fn`` raises, nothing is recorded and the compensation can be retried."""
        with self._transaction(key):
            entry = self._get(key)
            if entry is None:
                self._put(key, _Entry(_TOMBSTONE))
                self._note("tombstone", key, "tombstones")
                return False
            if entry.state != _DONE:
                self._note("duplicate_compensation", key, "duplicate_compensations")
                return False
            self._invoke(fn, entry.value, *args, **kwargs)
            self._put(key, _Entry(_UNDONE, entry.value))
            self._note("compensated", key, "compensated")
            return True

    def state(self, key: str) -> str | None:
        """``None`` (never seen), ``"done"``, ``"failed"`` (a remembered error),
        ``"undone"`` (compensated) or ``"tombstone"``."""
        with self._transaction(key):
            entry = self._get(key)
        return None if entry is None else entry.state

    def subscribe(self, listener: Callable[[IdempotencyEvent], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` on every later event; returns unsubscribe."""
        return self._listeners.subscribe(listener)

    def events(self) -> list[IdempotencyEvent]:
        """The recent events, oldest first."""
        return self._listeners.recent()

    def metrics(self) -> IdempotencyMetrics:
        """A snapshot of the counters."""
        with self._lock:
            return IdempotencyMetrics(**self._counts)


class SQLiteIdempotencyStore(IdempotencyStore):
    """The same rules, with the records in an SQLite table of the participant's own database,
    written in the same transaction as the effect: the effect and its key commit together or
    not at all, even if the process is killed in between.

    ``fn`` gets the connection first (``fn(conn, *args)``; a compensation ``fn(conn, result,
    *args)``) and makes its changes on it, inside the store's ``BEGIN IMMEDIATE`` transaction;
    if it raises, the transaction rolls back, effect included. Results must be JSON values.

    Args:
        conn: an ``sqlite3.Connection`` opened with ``isolation_level=None`` (the store runs the
            transactions).
        table: the name of the table of keys (created if missing).
        name, clock, max_events: as :class:`IdempotencyStore`.

    >>> conn = sqlite3.connect(":memory:", isolation_level=None)
    >>> _ = conn.execute("CREATE TABLE account (name TEXT PRIMARY KEY, balance INTEGER)")
    >>> _ = conn.execute("INSERT INTO account VALUES ('ada', 100)")
    >>> store = SQLiteIdempotencyStore(conn, clock=lambda: 0.0)
    >>> def debit(conn, amount):
    ...     conn.execute("UPDATE account SET balance = balance - ?", (amount,))
    ...     return conn.execute("SELECT balance FROM account").fetchone()[0]
    >>> store.run("s1/debit", debit, 30), store.run("s1/debit", debit, 30)
    (70, 70)
    >>> store.compensate("s1/debit", lambda conn, balance: conn.execute(
    ...     "UPDATE account SET balance = balance + 30"))
    True
    >>> conn.execute("SELECT balance FROM account").fetchone()[0], store.state("s1/debit")
    (100, 'undone')
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        table: str = "idempotency_keys",
        name: str | None = None,
        clock: Callable[[], float] | None = None,
        max_events: int = 1000,
    ) -> None:
        if not isinstance(conn, sqlite3.Connection):
            raise TypeError(f"conn={conn!r} must be an sqlite3.Connection")
        if conn.isolation_level is not None:
            raise ValueError(
                f"conn.isolation_level={conn.isolation_level!r} must be None (autocommit): "
                "the store begins and commits the transactions itself"
            )
        if not isinstance(table, str) or not table.isidentifier():
            raise ValueError(f"table={table!r} must be a plain SQL identifier")
        super().__init__(name=name, clock=clock, max_events=max_events)
        self.conn = conn
        self.table = table
        self._conn_guard = threading.Lock()  # one transaction at a time on the connection
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} "
            "(key TEXT PRIMARY KEY, state TEXT NOT NULL, value TEXT)"
        )

    @contextlib.contextmanager
    def _transaction(self, key: str) -> Iterator[None]:
        with self._key_lock(key), self._conn_guard:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _get(self, key: str) -> _Entry | None:
        row = self.conn.execute(
            f"SELECT state, value FROM {self.table} WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return _Entry(row[0], None if row[1] is None else json.loads(row[1]))

    def _put(self, key: str, entry: _Entry) -> None:
        value = None if entry.value is None else json.dumps(entry.value)
        self.conn.execute(
            f"INSERT OR REPLACE INTO {self.table} (key, state, value) VALUES (?, ?, ?)",
            (key, entry.state, value),
        )

    def _invoke(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(self.conn, *args, **kwargs)
