"""The participant's helper: keys recorded once, duplicates answered from the record,
tombstones for compensations that arrive first, and thread safety."""

from __future__ import annotations

import threading

import pytest

from distlab.saga import IdempotencyStore, Tombstoned


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
