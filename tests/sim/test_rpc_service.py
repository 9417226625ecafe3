"""Request/response calls and services: outcomes, timeouts, health, overload."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from distlab.sim import (
    CallResult,
    Down,
    Flaky,
    HealthSchedule,
    Network,
    Request,
    Service,
    Slow,
    Up,
    World,
    call,
    respond,
)


def _call_at(world, net, t, dst, timeout_s=1.0, body=None):
    """Start a call from 'a' to dst at time t; return a list that gets the CallResult."""
    out: list[CallResult] = []

    def proc():
        yield world.env.timeout(t)
        out.append((yield call(net, "a", dst, body, timeout_s=timeout_s)))

    world.env.process(proc())
    return out


def test_ok_call_value_and_latency(world, net):
    Service(net, "svc", service_time=0.05, handler=lambda req: req.body + 1)
    proc = call(net, "a", "svc", 41, timeout_s=1)
    world.run()
    r = proc.value
    assert isinstance(r, CallResult)
    assert (r.outcome, r.value, r.error, r.ok) == ("ok", 42, None, True)
    assert r.latency == pytest.approx(0.07)
    assert (r.started, r.ended) == (0.0, pytest.approx(0.07))
    ends = world.events().query("kind == 'call_end'").iloc[0]
    assert (ends["node"], ends["service"], ends["outcome"]) == ("a", "svc", "ok")
    assert ends["latency"] == pytest.approx(0.07)


def test_call_log_columns(world, net):
    Service(net, "svc")
    call(net, "a", "svc")
    world.run()
    events = world.events()
    for col in ("request_id", "outcome", "latency", "service"):
        assert col in events.columns
    kinds = events["kind"].tolist()
    assert kinds == [
        "call_start",
        "send",
        "deliver",
        "request_start",
        "request_end",
        "send",
        "deliver",
        "call_end",
    ]


def test_down_answers_error_fast(world, net):
    Service(net, "svc", service_time=0.5, health=Down())
    proc = call(net, "a", "svc", timeout_s=1)
    world.run()
    assert (proc.value.outcome, proc.value.error) == ("error", "down")
    assert proc.value.latency == pytest.approx(0.02)  # two network hops, no service time


def test_timeout_does_not_cancel_the_work_at_the_server(world, net):
    done = []
    Service(net, "svc", service_time=0.3, handler=lambda req: done.append(world.now))
    proc = call(net, "a", "svc", timeout_s=0.1)
    world.run()
    r = proc.value
    assert (r.outcome, r.error) == ("timeout", "timeout")
    assert r.latency == pytest.approx(0.1)
    assert done == [pytest.approx(0.31)]  # the request still ran
    events = world.events()
    call_end = events.query("kind == 'call_end' and request_id == @r.request_id")
    request_end = events.query("kind == 'request_end' and request_id == @r.request_id")
    assert call_end.index[0] < request_end.index[0]
    assert request_end["outcome"].item() == "ok"
    assert call_end["outcome"].item() == "timeout"


def test_no_server_and_lost_request_time_out(world, net):
    net.set_link("a", "c", loss=1.0)
    p1 = call(net, "a", "b", timeout_s=0.2)  # b has no service: nobody answers
    p2 = call(net, "a", "c", timeout_s=0.3)
    world.run()
    assert [p1.value.outcome, p2.value.outcome] == ["timeout", "timeout"]
    assert [p1.value.latency, p2.value.latency] == [pytest.approx(0.2), pytest.approx(0.3)]


def test_infinite_timeout_waits(world, net):
    Service(net, "svc", service_time=100)
    proc = call(net, "a", "svc", timeout_s=math.inf)
    world.run()
    assert proc.value.outcome == "ok" and proc.value.latency == pytest.approx(100.02)


def test_handler_exception_becomes_error(world, net):
    def handler(req):
        raise KeyError("no such order")

    Service(net, "svc", handler=handler)
    proc = call(net, "a", "svc")
    world.run()
    assert proc.value.outcome == "error"
    assert proc.value.error == "KeyError: 'no such order'"
    assert world.events().query("kind == 'request_end'")["detail"].item() == proc.value.error


def test_generator_handler_can_call_downstream(world, net):
    Service(net, "db", service_time=0.1, handler=lambda req: f"row {req.body}")

    def api(req):
        result = yield call(net, "api", "db", req.body, timeout_s=1)
        return result.value.upper()

    Service(net, "api", service_time=0.01, handler=api)
    proc = call(net, "a", "api", 7, timeout_s=2)
    world.run()
    assert proc.value.value == "ROW 7"
    assert proc.value.latency == pytest.approx(0.02 + 0.01 + 0.02 + 0.1)


def test_slow_multiplies_service_time(world, net):
    Service(net, "svc", service_time=0.1, health=Slow(4))
    proc = call(net, "a", "svc", timeout_s=5)
    world.run()
    assert proc.value.latency == pytest.approx(0.42)


def test_flaky_errors_at_its_rate():
    world = World(seed=5)
    net = Network(world, latency=0.001)
    net.add_node("a")
    Service(net, "svc", service_time=0.001, health=Flaky(0.3))
    procs = [call(net, "a", "svc", timeout_s=1) for _ in range(3000)]
    world.run()
    outcomes = pd.Series([p.value.outcome for p in procs])
    assert set(outcomes) == {"ok", "error"}
    assert (outcomes == "error").mean() == pytest.approx(0.3, abs=0.03)
    assert {p.value.error for p in procs if not p.value.ok} == {"flaky"}


def test_health_schedule_over_time(world, net):
    health = HealthSchedule([(1.0, Down()), (2.0, Slow(10)), (3.0, Up())])
    Service(net, "svc", service_time=0.01, health=health)
    results = [_call_at(world, net, t, "svc") for t in (0.5, 1.5, 2.5, 3.5)]
    world.run()
    got = [(r[0].outcome, round(r[0].latency, 6)) for r in results]
    assert got == [("ok", 0.03), ("error", 0.02), ("ok", 0.12), ("ok", 0.03)]


def test_health_schedule_at_and_bands():
    s = HealthSchedule([(0, Up()), (1, Down()), (3, Flaky(0.5)), (4, Up()), (6, Slow(2))])
    assert s.at(0.5) == Up() and s.at(1) == Down() and s.at(3.9) == Flaky(0.5)
    assert HealthSchedule([(2, Down())]).at(1) == Up()  # before the first change: up
    bands = s.bands(until=7)
    assert list(bands.columns) == ["start", "end", "state", "label"]
    assert bands.values.tolist() == [
        [1.0, 3.0, "down", "down"],
        [3.0, 4.0, "flaky", "flaky 50%"],
        [6.0, 7.0, "slow", "slow ×2"],
    ]
    assert len(s.bands(until=7, include_up=True)) == 5
    assert s.bands(until=2).values.tolist() == [[1.0, 2.0, "down", "down"]]
    assert HealthSchedule.coerce(Down()).changes == [(0.0, Down())]
    assert HealthSchedule(Slow(2)).at(9) == Slow(2.0)
    assert repr(HealthSchedule([(0, Up())])) == "HealthSchedule([(0, Up())])"


def test_concurrency_and_queue_limit_overload():
    world = World(seed=1)
    net = Network(world, latency=0.01)
    net.add_node("a")
    svc = Service(net, "svc", service_time=0.1, concurrency=2, queue_limit=3)
    procs = [call(net, "a", "svc", i, timeout_s=5) for i in range(10)]
    world.run(until=0.011)
    assert (svc.in_service, svc.queued) == (2, 3)
    world.run()
    results = [p.value for p in procs]
    assert [r.outcome for r in results] == ["ok"] * 5 + ["error"] * 5
    assert {r.error for r in results[5:]} == {"overloaded"}
    assert all(r.latency == pytest.approx(0.02) for r in results[5:])  # refused at once
    ok_latencies = sorted(round(r.latency, 6) for r in results[:5])
    assert ok_latencies == [0.12, 0.12, 0.22, 0.22, 0.32]


def test_concurrency_without_queue_limit_queues_everything(world, net):
    Service(net, "svc", service_time=0.1, concurrency=1)
    procs = [call(net, "a", "svc", timeout_s=5) for _ in range(4)]
    world.run()
    assert [round(p.value.latency, 6) for p in procs] == [0.12, 0.22, 0.32, 0.42]


def test_unlimited_concurrency(world, net):
    svc = Service(net, "svc", service_time=0.1)
    procs = [call(net, "a", "svc", timeout_s=5) for _ in range(50)]
    world.run(until=0.05)
    assert svc.in_service == 50 and svc.queued == 0
    world.run()
    assert all(p.value.latency == pytest.approx(0.12) for p in procs)


def test_host_crash_abandons_work_and_restart_serves_again(world, net):
    Service(net, "svc", service_time=0.2)
    first = _call_at(world, net, 0.0, "svc", timeout_s=0.5)
    world.run(until=0.1)
    net.crash("svc")
    world.run(until=0.3)
    net.restart("svc")
    second = _call_at(world, net, 0.0, "svc", timeout_s=0.5)
    world.run()
    assert first[0].outcome == "timeout"
    assert second[0].outcome == "ok"
    ends = world.events().query("kind == 'request_end'")
    assert ends["request_id"].tolist() == [second[0].request_id]


def test_non_request_messages_go_to_the_inbox(world, net):
    svc = Service(net, "svc")
    net.send("a", "svc", "plain")
    world.run()
    assert [m.payload for m in svc.node.inbox.items] == ["plain"]


def test_service_adds_missing_node_and_reuses_existing(net):
    Service(net, "b")
    Service(net, "new")
    assert net.nodes == ["a", "b", "c", "d", "new"]
    assert "Service('other', service_time=Constant(0.05)" in repr(Service(net, "other"))


def test_respond_from_custom_server(world, net):
    net.node("b").on_message = lambda m: respond(net, m, error="nope")
    net.node("c").on_message = lambda m: respond(net, m, value=m.payload.body * 2)
    p1 = call(net, "a", "b")
    p2 = call(net, "a", "c", 4)
    world.run()
    assert (p1.value.outcome, p1.value.error) == ("error", "nope")
    assert (p2.value.outcome, p2.value.value) == ("ok", 8)


def test_request_ids_are_unique_per_network(world, net):
    Service(net, "svc")
    procs = [call(net, "a", "svc") for _ in range(3)]
    world.run()
    assert [p.value.request_id for p in procs] == [0, 1, 2]
    assert repr(Request(1, "a", "x")) == "Request(request_id=1, src='a', body='x')"
