"""A saga orchestrator in a process of its own, to be killed with SIGKILL (test_sigkill.py).

    python saga_child.py LOG_DB PARTICIPANT_DB MODE KILL_AT

MODE ``completes`` or ``compensates`` (the pivot refuses); the process SIGKILLs itself right
after its KILL_AT-th log write (0-based), or, with KILL_AT = -1, prints ``ready`` inside step
T2's action (after its effect) and blocks until its parent kills it. MODE ``recover`` runs
``recover()`` on the log (a ``completes`` saga) once a line arrives on its stdin, and prints how
many sagas it finished.

The participant is a real SQLite database with the library's SQLiteIdempotencyStore: an action
inserts its key into ``effects`` once, a compensation ``undo:<key>`` once (a compensation that
arrives first leaves a tombstone), and every request is counted in ``calls``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading

from distlab.saga import (
    PIVOT,
    RETRIABLE,
    Saga,
    SagaOrchestrator,
    SQLiteIdempotencyStore,
    SQLiteLog,
    Step,
)

OWNER = "node-1"


class Participant:
    """A service with its own SQLite database: each effect is a row of ``effects`` written in
    the same transaction as its idempotency key (SQLiteIdempotencyStore); every request is
    also counted in ``calls``."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS effects (n INTEGER PRIMARY KEY, key TEXT)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT, pid INTEGER)")
        self.store = SQLiteIdempotencyStore(self.conn)

    def _effect(self, key: str, refuse: bool = False):
        def effect(conn, *result):
            conn.execute("INSERT INTO effects (key) VALUES (?)", (key,))
            if refuse:  # a business refusal: the transaction, effect included, rolls back
                raise RuntimeError("payment refused")
            return key

        return effect

    def apply(self, key: str, refuse: bool = False) -> str:
        self.conn.execute("INSERT INTO calls VALUES (?, ?)", (key, os.getpid()))
        return self.store.run(key, self._effect(key, refuse))

    def undo(self, key: str) -> bool:
        return self.store.compensate(key, self._effect("undo:" + key))

    def effects(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT key FROM effects ORDER BY n")]

    def calls(self) -> list[tuple[str, int]]:
        return list(self.conn.execute("SELECT key, pid FROM calls"))


def make_saga(participant: Participant, mode: str, on_t2=None) -> Saga:
    def action(ctx):
        result = participant.apply(ctx.key, refuse=ctx.step == "T3" and mode == "compensates")
        if ctx.step == "T2" and on_t2 is not None:
            on_t2()  # the effect is committed; the reply is not sent yet
        return result

    def compensation(ctx):
        participant.undo(ctx.key)

    return Saga(
        "child",
        [
            Step("T1", action=action, compensation=compensation),
            Step("T2", action=action, compensation=compensation),
            Step("T3", action=action, compensation=compensation, kind=PIVOT),
            Step("T4", action=action, kind=RETRIABLE),
        ],
    )


class KillingLog(SQLiteLog):
    """An SQLiteLog whose process is SIGKILLed right after its ``kill_at``-th append."""

    def __init__(self, path: str, kill_at: int) -> None:
        super().__init__(path)
        self.kill_at = kill_at
        self.appends = 0

    def append(self, records, **kwargs):
        super().append(records, **kwargs)
        if self.appends == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.appends += 1


def main() -> None:
    log_path, participant_path, mode, kill_at = sys.argv[1:5]
    participant = Participant(participant_path)
    if mode == "recover":
        orchestrator = SagaOrchestrator(
            SQLiteLog(log_path), [make_saga(participant, "completes")], owner=f"p{os.getpid()}"
        )
        print("ready", flush=True)
        sys.stdin.readline()  # "go": both recovering processes start together
        print(len(orchestrator.recover()), flush=True)
        return

    def block():
        print("ready", flush=True)
        threading.Event().wait()  # until the parent's SIGKILL

    saga = make_saga(participant, mode, on_t2=block if int(kill_at) < 0 else None)
    SagaOrchestrator(KillingLog(log_path, int(kill_at)), owner=OWNER).run(saga, saga_id="job")
    print("finished", flush=True)


if __name__ == "__main__":
    main()
