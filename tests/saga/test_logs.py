"""Both log back-ends behind one interface: appends, order checks, leases, status, durability."""

from __future__ import annotations

import sqlite3

import pytest

from distlab.saga import InMemoryLog, LeaseLost, SagaLog, SQLiteLog
from distlab.saga import records as rec
from distlab.saga.records import LogRecord


@pytest.fixture(params=["memory", "sqlite"])
def log(request, tmp_path):
    if request.param == "memory":
        yield InMemoryLog()
    else:
        log = SQLiteLog(tmp_path / "sagas.db")
        yield log
        log.close()


def started(saga_id="s1", seq=0, data=None):
    return LogRecord(saga_id, seq, rec.SAGA_STARTED, 0.0, payload={"saga": "trip", "data": data})


def action(saga_id, seq, kind=rec.ACTION_STARTED, **kw):
    return LogRecord(saga_id, seq, kind, float(seq), step="a", attempt=1, key=f"{saga_id}/a", **kw)


def test_both_are_saga_logs(log):
    assert isinstance(log, SagaLog)


def test_append_and_read_back(log):
    log.append([started(data={"n": [1, 2]})], owner="o", now=0.0, lease=10.0)
    log.append(
        [action("s1", 1), action("s1", 2, rec.ACTION_ENDED, outcome="ok", payload={"r": 1})],
        owner="o",
        now=1.0,
        lease=10.0,
    )
    records = log.read("s1")
    assert [r.seq for r in records] == [0, 1, 2]
    assert records[0].payload == {"saga": "trip", "data": {"n": [1, 2]}}
    assert records[2] == action("s1", 2, rec.ACTION_ENDED, outcome="ok", payload={"r": 1})
    assert log.read("nope") == [] and log.status("nope") is None


def test_status_and_unfinished(log):
    for saga_id in ("a", "b", "c"):
        log.append([started(saga_id)], owner="o", now=0.0, lease=10.0)
    log.append([LogRecord("a", 1, rec.ABORTING, 1.0)], owner="o", now=1.0, lease=10.0)
    log.append(
        [LogRecord("b", 1, rec.SAGA_ENDED, 1.0, outcome=rec.COMPLETED)],
        owner="o",
        now=1.0,
        lease=10.0,
    )
    log.append([LogRecord("c", 1, rec.STUCK, 1.0, step="a")], owner="o", now=1.0, lease=10.0)
    assert [log.status(s) for s in "abc"] == [rec.COMPENSATING, rec.COMPLETED, rec.STUCK]
    assert log.unfinished() == ["a"]
    assert log.saga_ids() == ["a", "b", "c"]


def test_out_of_order_and_mixed_batches_are_refused(log):
    log.append([started()], owner="o", now=0.0, lease=10.0)
    with pytest.raises(ValueError, match=r"records\[0\].seq=2 of saga 's1' must be 1"):
        log.append([action("s1", 2)], owner="o", now=0.0, lease=10.0)
    with pytest.raises(ValueError, match=r"seq=0 of saga .s1. must be 1: the log holds 1 record"):
        log.append([started()], owner="o", now=0.0, lease=10.0)
    with pytest.raises(ValueError, match="records\\[1\\] is of saga 's2'; one append writes one"):
        log.append([action("s1", 1), action("s2", 2)], owner="o", now=0.0, lease=10.0)
    with pytest.raises(ValueError, match="records=\\[\\] must hold at least one LogRecord"):
        log.append([], owner="o", now=0.0, lease=10.0)
    assert len(log.read("s1")) == 1  # nothing of a refused batch was written


def test_leases(log):
    log.append([started()], owner="a", now=0.0, lease=10.0)
    assert not log.claim("s1", owner="b", now=5.0, lease=10.0)
    with pytest.raises(LeaseLost, match="saga 's1' is leased to 'a' until 10; 'b' may not"):
        log.append([action("s1", 1)], owner="b", now=5.0, lease=10.0)
    assert log.claim("s1", owner="a", now=5.0, lease=10.0)  # renew: until 15
    assert not log.claim("s1", owner="b", now=12.0, lease=10.0)
    assert log.claim("s1", owner="b", now=15.0, lease=10.0)  # expired: taken over
    with pytest.raises(LeaseLost):  # the old owner is fenced off
        log.append([action("s1", 1)], owner="a", now=16.0, lease=10.0)
    log.release("s1", owner="a")  # not a's: nothing happens
    assert not log.claim("s1", owner="c", now=16.0, lease=10.0)
    log.release("s1", owner="b")
    assert log.claim("s1", owner="c", now=16.0, lease=10.0)


def test_an_ended_saga_cannot_be_claimed(log):
    log.append([started()], owner="a", now=0.0, lease=10.0)
    log.append(
        [LogRecord("s1", 1, rec.SAGA_ENDED, 1.0, outcome=rec.COMPENSATED)],
        owner="a",
        now=1.0,
        lease=10.0,
    )
    assert not log.claim("s1", owner="a", now=2.0, lease=10.0)
    assert not log.claim("unknown", owner="a", now=2.0, lease=10.0)


def test_in_memory_log_survives_a_crash_unless_told_otherwise():
    durable, volatile = InMemoryLog(), InMemoryLog(lost_on_crash=True)
    for log in (durable, volatile):
        log.append([started()], owner="a", now=0.0, lease=10.0)
        log.crash()
    assert durable.unfinished() == ["s1"]
    assert volatile.unfinished() == [] and volatile.read("s1") == []
    assert "lost_on_crash=True" in repr(volatile)
    with pytest.raises(TypeError, match="lost_on_crash=1 must be True or False"):
        InMemoryLog(lost_on_crash=1)


def test_sqlite_log_persists_across_connections(tmp_path):
    path = tmp_path / "sagas.db"
    first = SQLiteLog(path)
    first.append([started(data=[1])], owner="a", now=0.0, lease=10.0)
    first.close()
    again = SQLiteLog(str(path))
    assert again.read("s1")[0].payload["data"] == [1]
    assert again.unfinished() == ["s1"]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert repr(again) == f"SQLiteLog({str(path)!r})"
    again.close()


def test_sqlite_log_refuses_payloads_it_cannot_store(tmp_path):
    log = SQLiteLog(tmp_path / "s.db")
    with pytest.raises(TypeError, match="saga_started payload .* cannot be stored as JSON"):
        log.append(
            [LogRecord("s1", 0, rec.SAGA_STARTED, 0.0, payload={"data": object()})],
            owner="a",
            now=0.0,
            lease=1.0,
        )
    assert log.saga_ids() == []


def test_sqlite_log_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="path=3 must be a file path"):
        SQLiteLog(3)
    with pytest.raises(TypeError, match="durable_commits='yes' must be True or False"):
        SQLiteLog(tmp_path / "x.db", durable_commits="yes")
    with pytest.raises(ValueError, match="busy_timeout=-1 must be at least 0"):
        SQLiteLog(tmp_path / "x.db", busy_timeout=-1)
    full = SQLiteLog(tmp_path / "full.db", durable_commits=True)
    full.append([started()], owner="a", now=0.0, lease=1.0)
    full.close()
