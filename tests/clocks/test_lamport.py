"""LamportClock and LamportTimestamp: the rules, the total order, serialisation, observation,
threads and bad input."""

from __future__ import annotations

import json
import threading

import pytest

from distlab.clocks import ClockEvent, ClockMetrics, LamportClock, LamportTimestamp


def test_tick_on_local_and_send_and_move_past_a_received_time():
    a, b = LamportClock("a"), LamportClock("b")
    assert [a.local().time, a.local().time, a.send().time] == [1, 2, 3]
    assert b.receive(LamportTimestamp(3, "a")).time == 4
    assert b.receive(1).time == 5  # an older message: still one tick
    assert b.time == LamportTimestamp(5, "b")


def test_start_sets_the_initial_time():
    assert LamportClock("a", start=41).local() == LamportTimestamp(42, "a")


def test_total_order_breaks_ties_by_process():
    stamps = [LamportTimestamp(2, "a"), LamportTimestamp(1, "b"), LamportTimestamp(1, "a")]
    assert sorted(stamps) == [
        LamportTimestamp(1, "a"),
        LamportTimestamp(1, "b"),
        LamportTimestamp(2, "a"),
    ]


@pytest.mark.parametrize(
    "stamps",
    [
        [(1, "a"), (1, "ab"), (1, "b"), (2, "a"), (256, "a"), (2**40, "zz")],
        [(0, "é"), (0, "z"), (0, "日本")],
    ],
)
def test_bytes_sort_like_timestamps_and_round_trip(stamps):
    objs = [LamportTimestamp(t, p) for t, p in stamps]
    assert sorted(objs, key=LamportTimestamp.to_bytes) == sorted(objs)
    for obj in objs:
        assert LamportTimestamp.from_bytes(obj.to_bytes()) == obj
        assert LamportTimestamp.from_json(obj.to_json()) == obj
        assert json.loads(obj.to_json()) == {"time": obj.time, "process": obj.process}


@pytest.mark.parametrize(
    "text, error",
    [
        ("not json", ValueError),
        ('{"time": 1}', ValueError),
        ('{"time": "1", "process": "a"}', ValueError),
        ('{"time": -1, "process": "a"}', ValueError),
        ('{"time": true, "process": "a"}', ValueError),
        ('{"time": 1, "process": ""}', ValueError),
        ('[1, "a"]', ValueError),
        (17, TypeError),
    ],
)
def test_malformed_json_is_refused(text, error):
    with pytest.raises(error):
        LamportTimestamp.from_json(text)


def test_malformed_bytes_are_refused():
    with pytest.raises(ValueError, match="too short"):
        LamportTimestamp.from_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match="not UTF-8"):
        LamportTimestamp.from_bytes(b"\x00" * 8 + b"\xff")
    with pytest.raises(TypeError, match="must be bytes"):
        LamportTimestamp.from_bytes("abc")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"process": ""}, ValueError, "process='' must be a non-empty"),
        ({"process": 3}, TypeError, "process=3 must be a process name"),
        ({"process": "a", "start": -1}, ValueError, "start=-1 must be between"),
        ({"process": "a", "start": 1.5}, TypeError, "start=1.5 must be an integer"),
        ({"process": "a", "max_events": -1}, ValueError, "max_events=-1 must be at least 0"),
    ],
)
def test_bad_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        LamportClock(**kwargs)


def test_bad_remote():
    clock = LamportClock("a")
    with pytest.raises(TypeError, match="remote='3' must be an integer"):
        clock.receive("3")
    with pytest.raises(ValueError, match="remote=-2"):
        clock.receive(-2)
    assert clock.time.time == 0  # nothing happened


def test_events_metrics_and_subscribe():
    clock = LamportClock("a")
    seen = []
    unsubscribe = clock.subscribe(seen.append)
    clock.local(now=0.5)
    clock.send(now=1.0)
    clock.receive(LamportTimestamp(9, "b"), now=2.0)
    unsubscribe()
    clock.local()
    assert [e.kind for e in seen] == ["local", "send", "receive"]
    assert seen[2] == ClockEvent(
        2.0, "receive", "a", LamportTimestamp(10, "a"), LamportTimestamp(9, "b")
    )
    assert [e.time for e in clock.events()] == [0.5, 1.0, 2.0, None]
    assert clock.metrics() == ClockMetrics(
        local=2, send=1, receive=1, rejected=0, timestamp=LamportTimestamp(11, "a")
    )


def test_max_events_zero_keeps_nothing_but_still_delivers():
    clock = LamportClock("a", max_events=0)
    seen = []
    clock.subscribe(seen.append)
    clock.local()
    assert clock.events() == [] and len(seen) == 1


def test_a_failing_listener_does_not_reach_the_caller(caplog):
    clock = LamportClock("a")
    clock.subscribe(lambda event: 1 / 0)
    assert clock.local().time == 1
    assert "listener" in caplog.text


def test_threads_never_reuse_a_time():
    clock = LamportClock("a", max_events=0)
    stamps: list[LamportTimestamp] = []
    lock = threading.Lock()

    def work():
        mine = [clock.local() for _ in range(2000)]
        with lock:
            stamps.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s.time for s in stamps) == list(range(1, 8001))
