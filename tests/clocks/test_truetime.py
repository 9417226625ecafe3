"""TrueTime: the sawtooth, intervals, commit wait, and external consistency with and without
commit wait on simulated clocks; DriftingClock; check_external_consistency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.clocks import (
    MAX_DRIFT,
    DriftingClock,
    Transaction,
    TrueTime,
    TTInterval,
    check_external_consistency,
)


def test_spanner_figures():
    tt = TrueTime()
    assert tt.uncertainty(0.0) == pytest.approx(0.001)
    assert tt.uncertainty(29.999999) == pytest.approx(0.007, abs=1e-9)
    assert tt.uncertainty(30.0) == pytest.approx(0.001)  # a poll: back to the base
    assert tt.max_uncertainty == pytest.approx(0.007)
    assert tt.mean_uncertainty == pytest.approx(0.004)
    grid = np.linspace(0, 300, 300_001)[:-1]
    assert np.mean([tt.uncertainty(t) for t in grid[::10]]) == pytest.approx(0.004, rel=1e-3)


def test_since_sync_overrides_the_schedule():
    tt = TrueTime()
    assert tt.uncertainty(1e9, since_sync=10.0) == pytest.approx(0.003)
    assert tt.interval(100.0, since_sync=0.0) == TTInterval(99.999, 100.001)
    assert tt.uncertainty(5.0, since_sync=100.0) == pytest.approx(0.021)  # missed polls


def test_interval_after_before():
    tt = TrueTime()
    iv = tt.interval(10.0)
    assert iv.contains(10.0) and iv.width == pytest.approx(2 * tt.uncertainty(10.0))
    assert tt.after(9.99, now=10.0) and not tt.after(9.999, now=10.0)
    assert tt.before(10.01, now=10.0) and not tt.before(10.002, now=10.0)


@settings(max_examples=300, deadline=None)
@given(st.floats(-100, 1000), st.floats(1, 60), st.floats(0, MAX_DRIFT), st.floats(0, 0.01))
def test_visible_at_is_the_first_moment_after_holds(s, interval, drift, base):
    tt = TrueTime(sync_interval=interval, drift=drift, base_uncertainty=base)
    t = tt.visible_at(s)
    assert t >= s + base - 1e-9
    assert tt.after(s, now=t + 1e-7)
    assert not tt.after(s, now=t - 1e-7)


def test_commit_wait_is_about_two_eps():
    tt = TrueTime()
    waits = [tt.commit(now).wait for now in np.linspace(0, 300, 3001)]
    assert np.mean(waits) == pytest.approx(2 * tt.mean_uncertainty, rel=0.01)
    commit = tt.commit(now=10.0)
    assert commit.timestamp == pytest.approx(10.003)
    assert commit.wait == pytest.approx(0.006, rel=1e-3)


def test_commit_wait_across_a_poll():
    tt = TrueTime()
    commit = tt.commit(29.99)  # eps is 7 ms; the poll at 30 s cuts it to 1 ms: wait ends there
    assert commit.visible_at == 30.0
    assert commit.wait == pytest.approx(0.01) and commit.wait < 2 * tt.uncertainty(29.99)
    assert tt.after(commit.timestamp, now=commit.visible_at + 1e-9)
    later = tt.commit(29.995)  # here the timestamp is past 30 s - 1 ms: the wait goes on
    assert later.visible_at == pytest.approx(30.003, abs=1e-6)


def simulate(commit_wait: bool, seed: int, n: int = 400):
    """Transactions on three nodes whose clocks are off by up to the base uncertainty."""
    rng = np.random.default_rng(seed)
    tt = TrueTime()
    nodes = [DriftingClock(offset=o) for o in (-0.0009, 0.0, 0.0009)]
    txs = []
    for i in range(n):
        node = nodes[rng.integers(3)]
        start = rng.uniform(0, 60)
        ready = start + rng.exponential(0.002)  # true time when it asks to commit
        local = node.read(ready)
        assert tt.interval(local).contains(ready)  # TrueTime's guarantee holds here
        if commit_wait:
            c = tt.commit(local)
            timestamp, visible = c.timestamp, c.visible_at - node.offset
        else:
            timestamp, visible = local, ready
        txs.append(Transaction(f"t{i}", start=start, commit=visible, timestamp=timestamp))
    return check_external_consistency(txs)


@pytest.mark.parametrize("seed", range(5))
def test_commit_wait_gives_external_consistency(seed):
    assert simulate(commit_wait=True, seed=seed).ok


def test_without_commit_wait_skewed_clocks_break_it():
    check = simulate(commit_wait=False, seed=0, n=2000)
    assert not check.ok and len(check.violations) > 0


def test_external_consistency_checker():
    txs = [
        Transaction("a", 0.0, 1.0, 5.0),
        Transaction("b", 0.5, 2.0, 1.0),  # overlaps a: no constraint between them
        Transaction("c", 2.5, 3.0, 6.0),
        Transaction("d", 3.5, 4.0, 5.5),  # after a, b, c committed; smaller than c's
    ]
    check = check_external_consistency(txs)
    assert check.violations == (("c", "d"),) and check.checked == 4
    assert check_external_consistency(txs[:3]).ok
    assert check_external_consistency([]).ok
    # equal timestamps across a real-time gap are a violation too
    tie = [Transaction("x", 0, 1, 3.0), Transaction("y", 2, 3, 3.0)]
    assert check_external_consistency(tie).violations == (("x", "y"),)


def test_external_consistency_against_all_pairs():
    rng = np.random.default_rng(3)
    for _ in range(50):
        txs = []
        for i in range(12):
            start = float(rng.uniform(0, 10))
            txs.append(
                Transaction(
                    str(i), start, start + float(rng.uniform(0, 3)), float(rng.uniform(0, 12))
                )
            )
        brute = {
            t2.name
            for t1 in txs
            for t2 in txs
            if t1.commit < t2.start and not t1.timestamp < t2.timestamp
        }
        check = check_external_consistency(txs)
        assert {later for _, later in check.violations} == brute
        assert check.ok == (not brute)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sync_interval": 0}, ValueError, "sync_interval=0 must be greater than 0"),
        ({"sync_interval": -1}, ValueError, "sync_interval=-1"),
        ({"drift": 0.5}, ValueError, "drift=0.5 is beyond physical sense"),
        ({"drift": -1e-6}, ValueError, "drift=-1e-06 is beyond physical sense"),
        ({"drift": "fast"}, TypeError, "drift='fast' must be a number"),
        ({"base_uncertainty": -0.001}, ValueError, "base_uncertainty=-0.001 must be at least 0"),
        ({"sync_interval": float("nan")}, ValueError, "finite"),
    ],
)
def test_bad_truetime(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrueTime(**kwargs)


def test_bad_truetime_calls():
    tt = TrueTime()
    with pytest.raises(ValueError, match="since_sync=-1 must be at least 0"):
        tt.interval(0.0, since_sync=-1)
    with pytest.raises(TypeError, match="now=None must be a number"):
        tt.interval(None)
    with pytest.raises(TypeError, match="t='x'"):
        tt.after("x", now=1.0)


def test_drifting_clock():
    clock = DriftingClock(offset=-0.5, drift=1e-4)
    assert clock.read(100.0) == pytest.approx(99.51)
    assert clock.error(100.0) == pytest.approx(-0.49)
    assert clock.read_ticks(100.0, tick=1e-3) == 99510
    assert DriftingClock().read_ticks(1.0) == 1_000_000_000
    with pytest.raises(ValueError, match="before its epoch"):
        clock.read_ticks(0.0)
    with pytest.raises(ValueError, match="drift=0.01 is beyond physical sense"):
        DriftingClock(drift=0.01)
    with pytest.raises(ValueError, match="drift=-2 is beyond physical sense"):
        DriftingClock(drift=-2)
    with pytest.raises(ValueError, match="tick=0 must be greater than 0"):
        clock.read_ticks(1.0, tick=0)


def test_bad_transactions():
    with pytest.raises(ValueError, match="commit=1 of 't' is before its start=2"):
        Transaction("t", start=2.0, commit=1.0, timestamp=0.0)
    with pytest.raises(TypeError, match="timestamp=None must be a number"):
        Transaction("t", 0.0, 1.0, None)
    with pytest.raises(TypeError, match=r"transactions\[1\]=.* must be a Transaction"):
        check_external_consistency([Transaction("t", 0, 1, 1), (0, 1, 2)])


@st.composite
def workloads(draw):
    """Transactions on nodes whose clocks are off by at most the base uncertainty (so TrueTime's
    interval always holds the true time): (node offset, true start, true commit request)."""
    offsets = draw(st.lists(st.floats(-0.001, 0.001), min_size=1, max_size=4))
    txs = []
    for _ in range(draw(st.integers(1, 25))):
        node = draw(st.integers(0, len(offsets) - 1))
        start = draw(st.floats(0, 120))
        txs.append((offsets[node], start, start + draw(st.floats(0, 0.02))))
    return txs


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_commit_wait_gives_external_consistency_for_any_workload(workload):
    tt = TrueTime()
    txs = []
    for i, (offset, start, ready) in enumerate(workload):
        commit = tt.commit(ready + offset)  # the node's clock reading
        # just after the wait ends (the wait ends strictly after visible_at)
        visible = max(commit.visible_at - offset, ready) + 1e-9
        txs.append(Transaction(str(i), start, visible, commit.timestamp))
    assert check_external_consistency(txs).ok
