"""The real-time drivers on fake clocks: nothing sleeps for real."""

from __future__ import annotations

import time

import pytest

from distlab.clocks import HLCTimestamp, TrueTime, TrueTimeClock, WallClockHLC


class FakeClocks:
    """A wall clock and a monotonic clock (ns) that move together when ``sleep`` is called; the
    wall clock can also be stepped on its own (as NTP does)."""

    def __init__(self, wall_ns: int = 1_700_000_000 * 10**9, mono_ns: int = 5 * 10**9):
        self.wall_ns = wall_ns
        self.mono_ns = mono_ns
        self.slept: list[float] = []

    def wall(self) -> int:
        return self.wall_ns

    def mono(self) -> int:
        return self.mono_ns

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.wall_ns += round(seconds * 1e9)
        self.mono_ns += round(seconds * 1e9)


def test_wall_clock_hlc_survives_a_backward_step():
    fake = FakeClocks()
    hlc = WallClockHLC(name="n1", clock=fake.wall)
    first = hlc.now()
    fake.wall_ns -= 10**9  # NTP steps the wall clock back a second
    second = hlc.send()
    assert second > first and second == HLCTimestamp(first.l, 1)
    got = hlc.receive(HLCTimestamp(first.l + 5, 0))
    assert got == HLCTimestamp(first.l + 5, 1)
    assert hlc.hlc.metrics().send == 1


def test_wall_clock_hlc_defaults_to_time_ns():
    hlc = WallClockHLC()
    before = time.time_ns()
    stamp = hlc.now()
    assert stamp.l >= before and hlc.clock is time.time_ns


def test_truetime_clock_interval_and_sawtooth_on_the_monotonic_clock():
    fake = FakeClocks()
    tt = TrueTimeClock(clock=fake.wall, monotonic=fake.mono, sleep=fake.sleep)
    iv = tt.now()
    assert iv.contains(fake.wall_ns / 1e9) and iv.width == pytest.approx(0.002, abs=1e-6)
    fake.advance(15.0)
    assert tt.now().width == pytest.approx(2 * 0.004, abs=1e-6)
    fake.wall_ns += 3600 * 10**9  # a wall-clock step does not change the uncertainty
    assert tt.now().width == pytest.approx(2 * 0.004, abs=1e-6)
    fake.advance(15.0)  # the next poll
    assert tt.now().width == pytest.approx(0.002, abs=1e-6)


def test_commit_waits_until_the_timestamp_has_certainly_passed():
    fake = FakeClocks()
    tt = TrueTimeClock(TrueTime(), clock=fake.wall, monotonic=fake.mono, sleep=fake.sleep)
    fake.advance(10.0)
    timestamp = tt.commit()
    assert tt.after(timestamp) and not tt.before(timestamp)
    assert sum(fake.slept) == pytest.approx(0.006, rel=0.01)  # about 2 eps at 10 s
    assert tt.commit_wait(timestamp) == 0.0  # already passed: no wait


def test_bad_drivers():
    with pytest.raises(TypeError, match="clock=5 must be callable"):
        WallClockHLC(clock=5)
    with pytest.raises(TypeError, match="truetime=.* must be a TrueTime"):
        TrueTimeClock(truetime=30)
    with pytest.raises(TypeError, match="sleep=None must be callable"):
        TrueTimeClock(sleep=None)
