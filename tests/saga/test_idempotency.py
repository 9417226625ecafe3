"""The participant's helper: keys recorded once, duplicates answered from the record,
tombstones for compensations that arrive first, and thread safety."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from distlab.saga import IdempotencyStore, SQLiteIdempotencyStore, Tombstoned


class Refused(Exception):
    pass


def test_a_duplicate_is_answered_from_the_record():
    store = IdempotencyStore(clock=lambda: 1.0, name="bank")
    calls = []
    assert store.run("k", lambda x: calls.append(x) or x * 2, 21) == 42
    assert store.run("k", lambda x: calls.append(x) or -1, 21) == 42
    assert calls == [21] and store.state("k") == "done"
    m = store.metrics()
    assert (m.executed, m.duplicates) == (1, 1)
    assert [(e.kind, e.key, e.source, e.time) for e in store.events()] == [
        ("executed", "k", "bank", 1.0),
        ("duplicate", "k", "bank", 1.0),
    ]


def test_errors_are_not_recorded_unless_they_are_answers():
    store = IdempotencyStore(remember_errors=(Refused,))
    with pytest.raises(ConnectionError):
        store.run("a", lambda: (_ for _ in ()).throw(ConnectionError("db down")))
    assert store.state("a") is None
    assert store.run("a", lambda: "ok") == "ok"  # the retry runs it
    refused = Refused("card declined")

    def decline():
        raise refused

    with pytest.raises(Refused):
        store.run("b", decline)
    with pytest.raises(Refused) as again:
        store.run("b", lambda: "would succeed now")
    assert again.value is refused and store.state("b") == "failed"
    assert store.compensate("b", lambda result: None) is False  # nothing took effect


def test_compensation_undoes_once_with_the_recorded_result():
    store = IdempotencyStore()
    undone = []
    store.run("k", lambda: {"reservation": 7})
    assert store.compensate("k", undone.append) is True
    assert store.compensate("k", undone.append) is False  # a duplicate compensation
    assert undone == [{"reservation": 7}] and store.state("k") == "undone"
    with pytest.raises(Tombstoned, match="key 'k' was already compensated"):
        store.run("k", lambda: "again")
    m = store.metrics()
    assert (m.compensated, m.duplicate_compensations, m.late_actions) == (1, 1, 1)


def test_a_compensation_before_its_action_leaves_a_tombstone():
    store = IdempotencyStore()
    assert store.compensate("k", lambda result: pytest.fail("nothing to undo")) is False
    assert store.state("k") == "tombstone"
    ran = []
    with pytest.raises(Tombstoned, match="compensated before its action arrived"):
        store.run("k", lambda: ran.append(1))
    assert ran == [] and store.metrics().tombstones == 1


def test_a_failing_compensation_can_be_retried():
    store = IdempotencyStore()
    store.run("k", lambda: 1)
    with pytest.raises(ConnectionError):
        store.compensate("k", lambda result: (_ for _ in ()).throw(ConnectionError()))
    assert store.state("k") == "done"
    assert store.compensate("k", lambda result: None) is True


def test_concurrent_duplicates_run_the_function_once():
    store = IdempotencyStore()
    calls = []
    gate = threading.Barrier(8)

    def effect():
        calls.append(1)
        return "done"

    answers = []

    def request():
        gate.wait()
        answers.append(store.run("same", effect))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and answers == ["done"] * 8


def test_subscribe_and_bad_arguments():
    store = IdempotencyStore()
    seen = []
    unsubscribe = store.subscribe(seen.append)
    store.run("k", lambda: 1)
    unsubscribe()
    store.run("k", lambda: 1)
    assert [e.kind for e in seen] == ["executed"]
    with pytest.raises(TypeError, match="key=3 must be a non-empty string"):
        store.run(3, lambda: 1)
    with pytest.raises(TypeError, match="remember_errors=.* must be a tuple of exception types"):
        IdempotencyStore(remember_errors=ValueError)
    with pytest.raises(TypeError, match="clock=0 must be callable"):
        IdempotencyStore(clock=0)


def _bank(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("CREATE TABLE IF NOT EXISTS account (name TEXT PRIMARY KEY, balance INTEGER)")
    conn.execute("INSERT OR IGNORE INTO account VALUES ('ada', 100)")
    return conn, SQLiteIdempotencyStore(conn, clock=lambda: 0.0)


def _balance(conn):
    return conn.execute("SELECT balance FROM account").fetchone()[0]


def _debit(conn, amount, fail=False):
    conn.execute("UPDATE account SET balance = balance - ?", (amount,))
    if fail:
        raise ConnectionError("lost the reply")
    return {"balance": _balance(conn)}


def test_sqlite_store_commits_the_effect_and_its_key_together(tmp_path):
    conn, store = _bank(tmp_path / "bank.db")
    with pytest.raises(ConnectionError):
        store.run("s1/debit", _debit, 30, fail=True)
    assert _balance(conn) == 100 and store.state("s1/debit") is None  # rolled back, both
    assert store.run("s1/debit", _debit, 30) == {"balance": 70}
    assert store.run("s1/debit", _debit, 30) == {"balance": 70}  # from the record
    assert _balance(conn) == 70
    assert store.metrics().executed == 1 and store.metrics().duplicates == 1


def test_sqlite_store_records_survive_the_connection(tmp_path):
    path = tmp_path / "bank.db"
    conn, store = _bank(path)
    store.run("a", _debit, 10)
    assert store.compensate("b", lambda conn, result: None) is False  # tombstone first
    conn.close()
    conn, again = _bank(path)
    assert again.state("a") == "done" and again.state("b") == "tombstone"
    with pytest.raises(Tombstoned):
        again.run("b", _debit, 10)
    refunds = []
    assert again.compensate("a", lambda conn, result: refunds.append(result)) is True
    assert refunds == [{"balance": 90}] and again.state("a") == "undone"
    assert _balance(conn) == 90  # the late b never took effect


def test_sqlite_store_refuses_what_it_cannot_handle(tmp_path):
    with pytest.raises(TypeError, match="conn='x' must be an sqlite3.Connection"):
        SQLiteIdempotencyStore("x")
    with pytest.raises(ValueError, match="conn.isolation_level='' must be None"):
        SQLiteIdempotencyStore(sqlite3.connect(":memory:"))
    conn = sqlite3.connect(":memory:", isolation_level=None)
    with pytest.raises(ValueError, match="table='keys; DROP' must be a plain SQL identifier"):
        SQLiteIdempotencyStore(conn, table="keys; DROP")
    store = SQLiteIdempotencyStore(conn, table="my_keys")
    with pytest.raises(TypeError, match="not JSON serializable"):
        store.run("k", lambda conn: object())
    assert store.state("k") is None
