"""distlab.sim.clocks: each node's physical clock (offset, drift, sync by step or slew), the
sync-daemon-died fault and the event log's clock column."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.sim import EVENT_COLUMNS, FaultSchedule, Network, World
from distlab.sim.clocks import (
    MAX_SYNCS,
    NodeClock,
    NodeClocks,
    SyncDaemonDied,
    clock_trace,
    step_clock_readings,
)


def test_a_world_without_clocks_logs_what_it_did_before():
    world = World(seed=1)
    net = Network(world)
    net.add_node("a"), net.add_node("b")
    net.send("a", "b")
    world.run()
    assert tuple(world.events().columns) == EVENT_COLUMNS
    assert world.clocks is None


def test_the_clock_column_is_each_events_reading_on_its_nodes_clock():
    world = World(clocks={"a": NodeClock(offset_s=0.5, drift=1e-4), "b": NodeClock(offset_s=-1)})
    net = Network(world, latency=2.0)
    for n in ("a", "b", "c"):
        net.add_node(n)
    net.send("a", "b")
    net.send("a", "c")
    world.log("note")  # no node: no reading
    world.run()
    log = world.events()
    assert list(log.columns[:3]) == ["time", "clock", "kind"]
    by_kind = {(k, n): c for k, n, c in zip(log["kind"], log["node"], log["clock"])}
    assert by_kind[("send", "a")] == pytest.approx(0.5)
    assert by_kind[("deliver", "b")] == pytest.approx(1.0)
    assert math.isnan(by_kind[("deliver", "c")])
    assert log.loc[log["kind"] == "note", "clock"].isna().all()


def test_free_running_clock_is_offset_plus_drift():
    clock = NodeClocks({"a": NodeClock(offset_s=0.002, drift=50e-6)}, seed=0).clock("a")
    assert clock.read(100.0) == pytest.approx(100.0 * (1 + 50e-6) + 0.002)
    assert clock.read_many([0.0, 100.0]).tolist() == pytest.approx([0.002, 100.007])
    assert clock.sync_times(1000.0) == []


@pytest.mark.parametrize("correction", ["step", "slew"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sync_keeps_the_error_within_what_the_sync_and_the_drift_allow(correction, seed):
    spec = NodeClock(
        offset_s=0.0, drift=100e-6, sync_interval_s=10, sync_error_s=0.002, correction=correction
    )
    clock = NodeClocks({"a": spec}, seed=seed).clock("a")
    times = np.linspace(20.0, 600.0, 2000)
    error = clock.read_many(times) - times
    # a step lands within the sync error, then drifts for at most one interval; a slew (500 ppm)
    # removes up to 5 ms per interval, so it also stays within that bound once settled
    assert np.abs(error).max() <= 0.002 + 100e-6 * 10 + 1e-9
    free = NodeClocks({"a": NodeClock(drift=100e-6)}, seed=seed).clock("a")
    assert free.error(600.0) == pytest.approx(0.06)


def test_a_step_can_move_the_clock_backwards_a_slew_never_does():
    def readings(correction):
        spec = NodeClock(
            drift=200e-6, sync_interval_s=5, sync_error_s=0.0005, correction=correction
        )
        clock = NodeClocks({"a": spec}, seed=0).clock("a")
        return clock.read_many(np.linspace(0.0, 60.0, 60_001))

    assert (np.diff(readings("step")) < 0).any()
    assert (np.diff(readings("slew")) > 0).all()


def test_readings_are_pure_functions_of_true_time_and_seed():
    spec = NodeClock(drift=-30e-6, sync_interval_s=3, sync_error_s=0.01, correction="slew")
    late_first = NodeClocks({"a": spec, "b": spec}, seed=4)
    fresh = NodeClocks({"a": spec, "b": spec}, seed=4)
    late_first.clock("b").read(500.0)
    assert late_first.clock("b").read(17.0) == fresh.clock("b").read(17.0)
    assert fresh.clock("a").read(17.0) != fresh.clock("b").read(17.0)  # own draws per node
    other = NodeClocks({"a": spec, "b": spec}, seed=5)
    assert other.clock("b").read(17.0) != fresh.clock("b").read(17.0)


@settings(max_examples=40, deadline=None)
@given(
    drift=st.floats(-1e-3, 1e-3),
    interval=st.floats(0.5, 50.0),
    error=st.floats(0.0, 0.05),
    correction=st.sampled_from(["step", "slew"]),
    t=st.floats(0.0, 500.0),
)
def test_read_and_read_many_agree(drift, interval, error, correction, t):
    spec = NodeClock(
        drift=drift, sync_interval_s=interval, sync_error_s=error, correction=correction
    )
    clock = NodeClocks({"a": spec}, seed=0).clock("a")
    assert clock.read_many([t])[0] == pytest.approx(clock.read(t), abs=1e-12)
    assert math.isfinite(clock.read(t))


def test_sync_daemon_died_stops_the_corrections_from_then_on():
    world = World(seed=3, clocks={"a": NodeClock(drift=-200e-6, sync_interval_s=2)})
    net = Network(world)
    net.add_node("a")
    FaultSchedule([SyncDaemonDied(at=50, node="a")]).apply(net)
    world.run(until=150)
    clock = world.clock_of("a")
    assert abs(clock.error(49.0)) <= 200e-6 * 2 + 1e-12
    assert clock.error(150.0) == pytest.approx(-200e-6 * (150.0 - clock.sync_times(50.0)[-1]))
    assert clock.sync_times(150.0)[-1] < 50.0
    log = world.events()
    assert log.loc[log["kind"] == "fault_start", "detail"].tolist() == ["sync daemon of a died"]


def test_a_sync_daemon_that_comes_back_corrects_again():
    world = World(seed=0, clocks={"a": NodeClock(drift=300e-6, sync_interval_s=1)})
    net = Network(world)
    net.add_node("a")
    FaultSchedule([SyncDaemonDied(at=10, node="a", duration=20)]).apply(net)
    world.run(until=60)
    clock = world.clock_of("a")
    assert clock.error(29.9) > 300e-6 * 15
    assert abs(clock.error(40.0)) <= 300e-6 * 1 + 1e-12
    assert any(10 <= s < 30 for s in clock.sync_times(60)) is False


def test_clock_trace_draws_real_time_against_each_clock():
    clocks = NodeClocks({"a": NodeClock(offset_s=1.0), "b": NodeClock(drift=1e-3)}, seed=0)
    trace = clock_trace(clocks, [0.0, 10.0])
    assert trace[["node", "error"]].values.tolist() == [
        ["a", 1.0],
        ["a", 1.0],
        ["b", 0.0],
        ["b", pytest.approx(0.01)],
    ]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: NodeClock(sync_interval_s=0), ValueError, r"sync_interval_s=0 must be at least"),
        (lambda: NodeClock(drift=-0.5), ValueError, r"drift=-0.5 is beyond physical sense"),
        (lambda: NodeClock(drift="fast"), TypeError, r"drift='fast' must be a number"),
        (lambda: NodeClock(correction="jump"), ValueError, r"correction='jump'"),
        (lambda: NodeClock(sync_error_s=-1), ValueError, r"sync_error_s=-1"),
        (lambda: NodeClock(slew_rate=0), ValueError, r"slew_rate=0"),
        (lambda: NodeClock(offset_s=math.nan), ValueError, r"offset_s=nan"),
        (lambda: World(clocks={"a": 0.1}), TypeError, r"clocks\['a'\]=0.1 must be a NodeClock"),
        (lambda: World(clocks=[NodeClock()]), TypeError, r"clocks=.* must be a mapping"),
        (lambda: World().clock_of("a"), ValueError, r"node='a': this world has no clocks"),
        (
            lambda: World(clocks={"a": NodeClock()}).clock_of("b"),
            ValueError,
            r"node='b' has no clock: the clocks are those of 'a'",
        ),
        (
            lambda: NodeClocks({"a": NodeClock(sync_interval_s=0.001)}).clock("a").read(1e6),
            ValueError,
            r"needs 1,000,000,00\d syncs",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_max_syncs_is_a_real_bound():
    clock = NodeClocks({"a": NodeClock(sync_interval_s=1.0)}, seed=0).clock("a")
    clock.read(MAX_SYNCS * 0.5)  # within the bound: computed
    with pytest.raises(ValueError, match="sync_interval_s=1"):
        clock.read(MAX_SYNCS * 1.5)


def test_sync_daemon_died_needs_a_clock_for_its_node():
    world = World(clocks={"a": NodeClock()})
    net = Network(world)
    net.add_node("a"), net.add_node("b")
    with pytest.raises(ValueError, match="node='b' has no clock"):
        FaultSchedule([SyncDaemonDied(at=1, node="b")]).apply(net)
    with pytest.raises(ValueError, match="node='z' is not one of"):
        FaultSchedule([SyncDaemonDied(at=1, node="z")]).apply(net)
    bare = Network(World())
    bare.add_node("a")
    with pytest.raises(ValueError, match="the world has no clocks"):
        FaultSchedule([SyncDaemonDied(at=1, node="a")]).apply(bare)


def test_a_logged_field_cannot_shadow_the_clock_column():
    World().log("note", node="a", clock=3)  # no clocks: an ordinary extra field
    with pytest.raises(ValueError, match=r"clock=\.\.\.: in a world with clocks"):
        World(clocks={"a": NodeClock()}).log("note", node="a", clock=3)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    clocks=st.integers(1, 6),
    interval=st.sampled_from([None, 0.01, 0.37, 1.0, 4.0, 16.0, 64.0]),
    error=st.sampled_from([0.0, 1e-6, 0.001, 0.02]),
    drift=st.sampled_from([0.0, 1e-5, 5e-4, 1e-3]),
    spread=st.floats(0.0, 10.0),
    horizon=st.floats(0.0, 200.0),
)
def test_step_readings_are_those_of_the_worlds_clocks_to_the_bit(
    seed, clocks, interval, error, drift, spread, horizon
):
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-spread, spread, clocks)
    drifts = rng.uniform(-drift, drift, clocks)
    times = np.sort(rng.uniform(0.0, horizon, (clocks, 5)), axis=1)
    times[:, 0] = rng.choice([0.0, horizon], clocks)  # the ends too
    specs = {f"n{i}": NodeClock(offsets[i], drifts[i], interval, error) for i in range(clocks)}
    world = NodeClocks(specs, seed=seed)
    expected = np.array([world.clock(f"n{i}").read_many(times[i]) for i in range(clocks)])
    got = step_clock_readings(offsets, drifts, times, sync_interval_s=interval,
                              sync_error_s=error, seed=seed)  # fmt: skip
    assert np.array_equal(got, expected)


def test_step_readings_at_the_sync_instants_take_the_new_segment():
    clock = NodeClocks({"a": NodeClock(0.5, 1e-4, 1.0, 0.01)}, seed=4).clock("a")
    syncs = clock.sync_times(10.0)
    times = np.array([syncs + [s - 1e-9 for s in syncs]])
    got = step_clock_readings([0.5], [1e-4], times, sync_interval_s=1.0, sync_error_s=0.01, seed=4)
    assert np.array_equal(got[0], clock.read_many(times[0]))
    assert np.all(np.abs(got[0][: len(syncs)] - syncs) <= 0.01)  # just corrected: within the error


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"times": [1.0]}, ValueError, r"times must be a 2-D array with one row per clock"),
        ({"times": [[np.nan]]}, ValueError, r"times must be finite"),
        ({"times": [[1.0, 2.0], [1.0]]}, ValueError, r"times has rows of lengths \[2, 1\]"),
        ({"times": [["a"]]}, TypeError, r"times=\[\['a'\]\] must be numbers"),
        ({"times": ["ab"]}, TypeError, r"times=\['ab'\] must be numbers"),
        ({"drifts": [0.01]}, ValueError, r"drifts=0.01 is beyond physical sense"),
        ({"drifts": [0.0, 0.0]}, ValueError, r"offsets_s and drifts must be 1-D"),
        ({"offsets_s": [np.inf]}, ValueError, r"offsets_s must be finite"),
        ({"sync_interval_s": 0}, ValueError, r"sync_interval_s=0"),
        ({"sync_error_s": -1}, ValueError, r"sync_error_s=-1"),
        ({"seed": -1}, ValueError, r"seed=-1"),
        ({"sync_interval_s": 1e-3, "times": [[MAX_SYNCS * 1e-3 * 1.5]]}, ValueError, r"syncs of"),
    ],
)
def test_step_readings_refuse_bad_input_by_name(kwargs, error, message):
    args = {"offsets_s": [0.0], "drifts": [0.0], "times": [[1.0]]} | kwargs
    with pytest.raises(error, match=message):
        step_clock_readings(**args)
