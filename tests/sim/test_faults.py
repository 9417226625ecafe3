"""Fault schedules: logged at the right times, with the right effect, undone at the end."""

from __future__ import annotations

import math

from distlab.sim import (
    Crash,
    FaultSchedule,
    LossBurst,
    Partition,
    Service,
    SlowNode,
    call,
)


def _send_every(world, net, src, dst, period, until):
    """A process sending src -> dst every `period` seconds up to `until`."""

    def proc():
        while world.now < until:
            net.send(src, dst)
            yield world.env.timeout(period)

    world.env.process(proc())


def _fault_log(world):
    ev = world.events()
    log = ev[ev["kind"].isin(["fault_start", "fault_end"])][["time", "kind", "node", "detail"]]
    return log.astype(object).where(log.notna(), None)


def test_partition_fault_logged_and_effective(world, net, message_fates):
    FaultSchedule([Partition(at=1, duration=2, groups=[["a"], ["b"]])]).apply(net)
    _send_every(world, net, "a", "b", 0.125, 4)
    _send_every(world, net, "c", "d", 0.125, 4)  # c and d are together: never cut
    world.run()
    log = _fault_log(world)
    assert log.values.tolist() == [
        [1.0, "fault_start", None, "partition {a} | {b}"],
        [3.0, "fault_end", None, "partition {a} | {b}"],
    ]
    fates = message_fates(world.events())
    ab = fates[fates["src"] == "a"]
    inside = (ab["sent"] >= 1) & (ab["sent"] < 3)
    assert (ab.loc[inside, "fate"] == "drop").all() and inside.sum() == 16
    assert (ab.loc[~inside, "fate"] == "deliver").all()
    assert (fates.loc[fates["src"] == "c", "fate"] == "deliver").all()


def test_crash_fault_restarts_node(world, net, message_fates):
    FaultSchedule([Crash(at=0.5, duration=1.0, node="b")]).apply(net)
    _send_every(world, net, "a", "b", 0.125, 2)
    world.run()
    log = _fault_log(world)
    assert log.values.tolist() == [
        [0.5, "fault_start", "b", "crash b"],
        [1.5, "fault_end", "b", "crash b"],
    ]
    fates = message_fates(world.events())
    arrival = fates["sent"] + 0.01
    down = (arrival >= 0.5) & (arrival < 1.5)
    assert (fates.loc[down, "fate"] == "drop").all() and down.sum() == 8
    assert (fates.loc[down, "reason"] == "crashed").all()
    assert (fates.loc[~down, "fate"] == "deliver").all()
    assert net.node("b").alive


def test_crash_fault_takes_a_service_down(world, net):
    Service(net, "svc", service_time=0.01)
    FaultSchedule([Crash(at=1, duration=1, node="svc")]).apply(net)
    outcomes = {}

    def client():
        for t in (0.5, 1.5, 2.5):
            yield world.env.timeout(t - world.now)
            result = yield call(net, "a", "svc", timeout_s=0.2)
            outcomes[t] = result.outcome

    world.env.process(client())
    world.run()
    assert outcomes == {0.5: "ok", 1.5: "timeout", 2.5: "ok"}


def test_slow_node_fault_multiplies_latency_then_restores(world, net, message_fates):
    net.slow("b", 2)
    FaultSchedule([SlowNode(at=1, duration=1, node="b", factor=10)]).apply(net)
    for t in (0.5, 1.5, 2.5):
        world.env.process(_at(world, t, lambda: net.send("a", "b")))
    world.run()
    fates = message_fates(world.events())
    assert (fates["at"] - fates["sent"]).round(9).tolist() == [0.02, 0.1, 0.02]
    assert net.node("b").slow_factor == 2
    assert _fault_log(world)["detail"].tolist() == ["slow b ×10", "slow b ×10"]


def _at(world, t, action):
    yield world.env.timeout(t)
    action()


def test_loss_burst_fault(world, net, message_fates):
    net.set_loss(0.0)
    FaultSchedule([LossBurst(at=1, duration=1, loss=1.0)]).apply(net)
    _send_every(world, net, "a", "b", 0.125, 3)
    world.run()
    fates = message_fates(world.events())
    inside = (fates["sent"] >= 1) & (fates["sent"] < 2)
    assert (fates.loc[inside, "fate"] == "drop").all() and inside.sum() == 8
    assert (fates.loc[~inside, "fate"] == "deliver").all()
    assert net.loss == 0.0
    assert _fault_log(world)["time"].tolist() == [1.0, 2.0]


def test_fault_without_duration_lasts_to_the_end(world, net):
    FaultSchedule([Crash(at=1, duration=None, node="c")]).apply(net)
    world.run(until=10)
    assert _fault_log(world)["kind"].tolist() == ["fault_start"]
    assert not net.node("c").alive


def test_fault_at_zero_applies_immediately(world, net):
    FaultSchedule([Partition(0, 1, ["a", "b"])]).apply(net)
    world.run(until=0.5)
    assert net.groups == [["a"], ["b"], ["c", "d"]]


def test_bands():
    sched = FaultSchedule(
        [
            Partition(at=1, duration=2, groups=[["a"], ["b"]]),
            Crash(at=2, duration=None, node="c"),
            SlowNode(at=0, duration=5, node="b", factor=3),
            LossBurst(at=8, duration=1, loss=0.25),
        ]
    )
    bands = sched.bands(until=6)
    assert list(bands.columns) == ["start", "end", "state", "label", "kind", "node"]
    assert bands.astype(object).where(bands.notna(), None).values.tolist() == [
        [1.0, 3.0, "partitioned", "partition {a} | {b}", "partition", None],
        [2.0, 6.0, "crashed", "crash c", "crash", "c"],
        [0.0, 5.0, "slow", "slow b ×3", "slow", "b"],
    ]
    assert LossBurst(0, 1, 0.5).state == "loss_burst"
    assert sched.bands()["end"].tolist() == [3.0, math.inf, 5.0, 9.0]
    assert len(sched) == 4


def test_reprs_and_single_fault():
    fault = Crash(at=1, duration=2, node="b")
    assert repr(fault) == "Crash(at=1, duration=2.0, 'crash b')"
    assert FaultSchedule(fault).faults == [fault]
    assert fault.end == 3.0


def test_extra_fault_column_in_events(world, net):
    FaultSchedule([LossBurst(at=0, duration=1, loss=0.5)]).apply(net)
    world.run()
    assert world.events()["fault"].tolist() == ["loss", "loss"]
