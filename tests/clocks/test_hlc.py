"""HybridLogicalClock: every branch of Kulkarni et al.'s rules, serialisation, max_offset,
the naive variant, the observation API and bad input."""

from __future__ import annotations

import pytest

from distlab.clocks import (
    ClockOffsetError,
    HLCTimestamp,
    HybridLogicalClock,
    NaiveHybridClock,
)


def clock_at(wall, c):
    """A clock whose last timestamp is (wall, c)."""
    clock = HybridLogicalClock()
    clock.local(now=wall)
    for _ in range(c):
        clock.local(now=wall)
    assert clock.time == HLCTimestamp(wall, c)
    return clock


def test_local_and_send_follow_physical_time_or_count():
    clock = HybridLogicalClock()
    assert clock.local(now=10) == HLCTimestamp(10, 0)
    assert clock.send(now=10) == HLCTimestamp(10, 1)
    assert clock.local(now=9) == HLCTimestamp(10, 2)  # physical time went back: count
    assert clock.local(now=12) == HLCTimestamp(12, 0)


def test_first_event_at_time_zero_has_counter_zero():
    assert HybridLogicalClock().local(now=0) == HLCTimestamp(0, 0)
    assert HybridLogicalClock().time == HLCTimestamp(0, 0)


@pytest.mark.parametrize(
    "own, remote, now, expected",
    [
        ((10, 3), (10, 5), 8, (10, 6)),  # l' == l == l_m: max(c, c_m) + 1
        ((10, 7), (10, 5), 8, (10, 8)),
        ((10, 3), (9, 9), 8, (10, 4)),  # only l' == l: c + 1
        ((10, 3), (12, 4), 8, (12, 5)),  # only l' == l_m: c_m + 1
        ((10, 3), (12, 4), 15, (15, 0)),  # physical time wins: 0
        ((10, 3), (10, 5), 10, (10, 6)),  # pt ties both: still max + 1
        ((10, 3), (12, 4), 12, (12, 5)),  # pt ties l_m: c_m + 1
        ((10, 3), (8, 4), 10, (10, 4)),  # pt ties l: c + 1
    ],
)
def test_receive_rules(own, remote, now, expected):
    clock = clock_at(*own)
    assert clock.receive(HLCTimestamp(*remote), now=now) == HLCTimestamp(*expected)


def test_bytes_are_12_and_sort_like_timestamps():
    stamps = [
        HLCTimestamp(w, c) for w in (0, 1, 255, 256, 2**40, 2**64 - 1) for c in (0, 1, 2**32 - 1)
    ]
    assert all(len(s.to_bytes()) == 12 for s in stamps)
    assert sorted(stamps, key=HLCTimestamp.to_bytes) == sorted(stamps)
    assert all(HLCTimestamp.from_bytes(s.to_bytes()) == s for s in stamps)
    assert all(HLCTimestamp.from_json(s.to_json()) == s for s in stamps)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: HLCTimestamp.from_bytes(b"\x00" * 11), ValueError, "exactly 12 bytes"),
        (lambda: HLCTimestamp.from_bytes(None), TypeError, "must be bytes"),
        (lambda: HLCTimestamp.from_json('{"l": 1}'), ValueError, "exactly the keys l, c"),
        (lambda: HLCTimestamp.from_json('{"l": 1.5, "c": 0}'), ValueError, "malformed"),
        (lambda: HLCTimestamp.from_json('{"l": 1, "c": -1}'), ValueError, "c=-1"),
        (lambda: HLCTimestamp.from_json(b"\xff"), ValueError, "not UTF-8"),
        (lambda: HLCTimestamp(-1, 0), ValueError, "l=-1"),
        (lambda: HLCTimestamp(1, 2**32), ValueError, "c=4294967296"),
        (lambda: HLCTimestamp("1", 0), TypeError, "l='1' must be an integer"),
    ],
)
def test_malformed_timestamps(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda c: c.local(now=1.5), TypeError, "now=1.5 must be an integer number of ticks"),
        (lambda c: c.local(now=-1), ValueError, "now=-1"),
        (lambda c: c.send(now="5"), TypeError, "now='5'"),
        (lambda c: c.receive((1, 0), now=5), TypeError, "remote=.* must be an HLCTimestamp"),
        (lambda c: c.local(), TypeError, "now"),
    ],
)
def test_bad_calls(call, error, match):
    clock = HybridLogicalClock()
    with pytest.raises(error, match=match):
        call(clock)
    assert clock.metrics().local == 0 and clock.time == HLCTimestamp(0, 0)


def test_bad_construction():
    with pytest.raises(ValueError, match="max_offset=-1"):
        HybridLogicalClock(max_offset=-1)
    with pytest.raises(TypeError, match="max_offset=0.5"):
        HybridLogicalClock(max_offset=0.5)


def test_max_offset_refuses_a_timestamp_from_the_future_and_changes_nothing():
    clock = HybridLogicalClock(name="n1", max_offset=100)
    clock.local(now=1000)
    assert clock.receive(HLCTimestamp(1100, 0), now=1000) == HLCTimestamp(1100, 1)
    with pytest.raises(
        ClockOffsetError, match="is 101 ticks ahead of now=1000, more than max_offset=100"
    ):
        clock.receive(HLCTimestamp(1101, 0), now=1000)
    assert isinstance(ClockOffsetError("x"), ValueError)
    assert clock.time == HLCTimestamp(1100, 1)
    m = clock.metrics()
    assert (m.local, m.receive, m.rejected) == (1, 1, 1)
    assert [e.kind for e in clock.events()] == ["local", "receive", "rejected"]


def test_metrics_track_distance_from_physical_time_and_the_counter():
    clock = HybridLogicalClock()
    clock.receive(HLCTimestamp(50, 7), now=40)
    clock.local(now=45)
    m = clock.metrics()
    assert (m.max_ahead, m.max_counter, m.timestamp) == (10, 9, HLCTimestamp(50, 9))


def test_naive_variant_runs_ahead_while_events_outpace_ticks_and_falls_back_after_a_lull():
    naive, hlc = NaiveHybridClock(), HybridLogicalClock()
    for _ in range(1000):  # a burst: 1000 events in one tick
        naive.local(now=5)
        hlc.local(now=5)
    assert naive.time.l - 5 == 999 and hlc.time.l == 5
    # physical time moves on, slower than events: the naive clock stays ahead
    for t in range(6, 500):
        naive.local(now=t)
        naive.local(now=t)
        hlc.local(now=t)
        hlc.local(now=t)
    assert naive.time.l - 499 > 999 and hlc.time.l == 499
    assert naive.metrics().max_ahead > 1000 and hlc.metrics().max_ahead == 0
    # a lull: physical time passes l, and the naive clock is back on physical time
    assert naive.local(now=5000) == HLCTimestamp(5000, 0)


def test_naive_receive():
    naive = NaiveHybridClock()
    assert naive.receive(HLCTimestamp(20, 0), now=3) == HLCTimestamp(21, 0)
    assert naive.receive(HLCTimestamp(2, 0), now=30) == HLCTimestamp(30, 0)


def test_events_carry_the_physical_time_as_told():
    clock = HybridLogicalClock(name="n1")
    seen = []
    clock.subscribe(seen.append)
    clock.send(now=123)
    assert (seen[0].time, seen[0].kind, seen[0].source, seen[0].timestamp) == (
        123,
        "send",
        "n1",
        HLCTimestamp(123, 0),
    )
    assert "HybridLogicalClock(name='n1', l=123, c=0)" == repr(clock)
