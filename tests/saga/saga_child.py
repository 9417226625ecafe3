"""A saga orchestrator in a process of its own, to be killed with SIGKILL (test_sigkill.py).

    python saga_child.py LOG_DB PARTICIPANT_DB MODE KILL_AT

MODE ``completes`` or ``compensates`` (the pivot refuses); the process SIGKILLs itself right
after its KILL_AT-th log write (0-based), or, with KILL_AT = -1, prints ``ready`` inside step
T2's action (after its effect) and blocks until its parent kills it. MODE ``recover`` runs
``recover()`` on the log (a ``completes`` saga) once a line arrives on its stdin, and prints how
many sagas it finished.

The participant is a real SQLite table: an action inserts its key once (``INSERT OR IGNORE``:
idempotent), a compensation inserts ``undo:<key>`` once; every call is also counted in ``calls``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading

from distlab.saga import PIVOT, RETRIABLE, Saga, SagaOrchestrator, SQLiteLog, Step

OWNER = "node-1"


class Participant:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS effects (n INTEGER PRIMARY KEY, key TEXT UNIQUE)"
        )
        self.conn.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT, pid INTEGER)")

    def apply(self, key: str) -> None:
        self.conn.execute("INSERT INTO calls VALUES (?, ?)", (key, os.getpid()))
        self.conn.execute("INSERT OR IGNORE INTO effects (key) VALUES (?)", (key,))

    def calls(self) -> list[tuple[str, int]]:
        return list(self.conn.execute("SELECT key, pid FROM calls"))

    def effects(self) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT key FROM effects ORDER BY n")]


def make_saga(participant: Participant, mode: str, on_t2=None) -> Saga:
    def action(ctx):
        participant.apply(ctx.key)
        if ctx.step == "T2" and on_t2 is not None:
            on_t2()
        if ctx.step == "T3" and mode == "compensates":
            raise RuntimeError("payment refused")
        return ctx.step

    def compensation(ctx):
        participant.apply("undo:" + ctx.key)

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
