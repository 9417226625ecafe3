"""Property tests: network invariants under random loss, partition, crash and slow schedules."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab.sim import (
    Crash,
    Exponential,
    FaultSchedule,
    LossBurst,
    Network,
    Partition,
    Service,
    SlowNode,
    Uniform,
    World,
    call,
)

NAMES = ["n0", "n1", "n2", "n3", "n4"]

times = st.floats(min_value=0, max_value=2, allow_nan=False)
durations = st.one_of(st.none(), st.floats(min_value=0.001, max_value=1.5, allow_nan=False))


@st.composite
def scenarios(draw):
    n_nodes = draw(st.integers(2, 5))
    nodes = NAMES[:n_nodes]
    node = st.sampled_from(nodes)
    latency = draw(
        st.one_of(
            st.floats(0, 0.3).map(float),
            st.floats(0.001, 0.3).map(Exponential),
            st.floats(0, 0.2).map(lambda low: Uniform(low, low + 0.1)),
        )
    )
    loss = draw(st.floats(0, 1))
    messages = draw(st.lists(st.tuples(times, node, node), max_size=40))

    def partition(at, duration):
        shuffled = draw(st.permutations(nodes))
        cut = draw(st.integers(1, len(nodes)))
        return Partition(at, duration, [shuffled[:cut]])

    fault_makers = st.sampled_from(["partition", "crash", "slow", "loss"])
    faults = []
    for kind in draw(st.lists(fault_makers, max_size=5)):
        at, duration = draw(times), draw(durations)
        if kind == "partition":
            faults.append(partition(at, duration))
        elif kind == "crash":
            faults.append(Crash(at, duration, draw(node)))
        elif kind == "slow":
            faults.append(SlowNode(at, duration, draw(node), draw(st.floats(0.1, 10))))
        else:
            faults.append(LossBurst(at, duration, draw(st.floats(0, 1))))
    seed = draw(st.integers(0, 2**32 - 1))
    return nodes, latency, loss, messages, faults, seed


def _run(nodes, latency, loss, messages, faults, seed):
    world = World(seed=seed)
    net = Network(world, latency=latency, loss=loss)
    for name in nodes:
        net.add_node(name)
    FaultSchedule(faults).apply(net)

    def sender(at, src, dst, i):
        yield world.env.timeout(at)
        net.send(src, dst, i)

    for i, (at, src, dst) in enumerate(messages):
        world.env.process(sender(at, src, dst, i))
    world.run()  # until quiescent
    return world, net


@settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_message_has_exactly_one_fate_never_before_it_was_sent(scenario):
    world, net = _run(*scenario)
    events = world.events()
    msgs = events[events["kind"].isin(["send", "deliver", "drop"])]
    sends = msgs[msgs["kind"] == "send"]
    assert len(sends) == len(scenario[3])
    assert sends["msg_id"].is_unique
    fates = msgs[msgs["kind"] != "send"]
    # every sent message is delivered or dropped, exactly once (so never delivered twice)
    assert fates["msg_id"].is_unique
    assert set(fates["msg_id"]) == set(sends["msg_id"])
    sent_at = sends.set_index("msg_id")["time"]
    assert (fates["time"].to_numpy() >= sent_at.loc[fates["msg_id"]].to_numpy()).all()
    # each message keeps its endpoints
    ends = fates.set_index("msg_id")[["src", "dst"]].sort_index()
    assert ends.equals(sends.set_index("msg_id")[["src", "dst"]].sort_index())
    # inboxes hold delivered messages only, each once
    delivered = set(fates.loc[fates["kind"] == "deliver", "msg_id"])
    in_boxes = [m.msg_id for name in net.nodes for m in net.node(name).inbox.items]
    assert len(in_boxes) == len(set(in_boxes)) and set(in_boxes) <= delivered


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_no_delivery_to_crashed_nodes_or_across_a_partition(scenario):
    world, _ = _run(*scenario)
    events = world.events()
    drops = events[events["kind"] == "drop"].set_index("msg_id")
    alive = {name: True for name in scenario[0]}
    group_of: dict[str, int] | None = None
    for rec in events.itertuples():
        if rec.kind in ("crash", "restart"):
            alive[rec.node] = rec.kind == "restart"
        elif rec.kind == "partition":  # detail looks like "{n0, n2} | {n1}"
            groups = [g.strip("{}").split(", ") for g in rec.detail.split(" | ")]
            group_of = {name: i for i, g in enumerate(groups) for name in g}
        elif rec.kind == "heal":
            group_of = None
        elif rec.kind == "deliver":
            assert alive[rec.dst]
            assert group_of is None or group_of[rec.src] == group_of[rec.dst]
        elif rec.kind == "send" and not alive[rec.src]:
            drop = drops.loc[rec.msg_id]
            assert (drop["reason"], drop["time"], drop["node"]) == ("crashed", rec.time, rec.src)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenarios(),
    st.floats(0.01, 1.0),
    st.integers(1, 3),
    st.one_of(st.none(), st.integers(0, 3)),
)
def test_every_call_ends_once_within_its_timeout(scenario, timeout_s, concurrency, queue_limit):
    nodes, latency, loss, messages, faults, seed = scenario
    world = World(seed=seed)
    net = Network(world, latency=latency, loss=loss)
    for name in nodes:
        net.add_node(name)
    Service(
        net, "svc", service_time=Exponential(0.05), concurrency=concurrency, queue_limit=queue_limit
    )
    FaultSchedule([f for f in faults if not isinstance(f, Partition)]).apply(net)
    procs = []

    def client(at, src):
        yield world.env.timeout(at)
        procs.append((yield call(net, src, "svc", timeout_s=timeout_s)))

    for at, src, _ in messages:
        world.env.process(client(at, src))
    world.run()
    assert len(procs) == len(messages)
    events = world.events()
    if messages:
        starts = events[events["kind"] == "call_start"]
        ends = events[events["kind"] == "call_end"]
        assert starts["request_id"].is_unique and ends["request_id"].is_unique
        assert set(starts["request_id"]) == set(ends["request_id"])
    for result in procs:
        assert result.outcome in {"ok", "error", "timeout"}
        assert 0 <= result.latency <= timeout_s + 1e-9
        assert (result.outcome == "timeout") == (
            result.latency >= timeout_s - 1e-12 and result.error == "timeout"
        )


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_same_seed_same_event_log(scenario):
    first, _ = _run(*scenario)
    second, _ = _run(*scenario)
    pd.testing.assert_frame_equal(first.events(), second.events())
