"""distlab.sim.causality: happened-before, vector/Lamport/HLC timestamps and ShiViz export of a
simulated run's event log, checked against a transitive closure computed from the log alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.clocks import Order, Run, check_shiviz
from distlab.sim import Exponential, FaultSchedule, LossBurst, Network, World
from distlab.sim.causality import happened_before, vector_timestamps
from distlab.sim.clocks import NodeClock


def random_world(seed: int, *, nodes: int = 3, actions: int = 25, loss: float = 0.2) -> World:
    """Nodes that write locally and send to each other at random times; some messages lost."""
    names = [f"n{i}" for i in range(nodes)]
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(0.0, 0.01, nodes)
    world = World(seed, clocks={n: NodeClock(offset_s=float(o)) for n, o in zip(names, offsets)})
    net = Network(world, latency=Exponential(0.05), loss=loss)
    for n in names:
        net.add_node(n)
    FaultSchedule([LossBurst(at=0.2, duration=0.1, loss=1.0)]).apply(net)

    def act(node, times, sends, targets):
        for t, s, k in zip(times, sends, targets):
            yield world.env.timeout(t - world.env.now)
            if s:
                net.send(node, names[k])  # to itself too, sometimes
            else:
                world.log("write", node=node)

    for n in names:
        times = np.sort(rng.uniform(0.0, 1.0, actions))
        world.env.process(act(n, times, rng.random(actions) < 0.6, rng.integers(0, nodes, actions)))
    world.run()
    return world


def closure(log: pd.DataFrame) -> dict[int, set[int]]:
    """For each event row, the rows that happened before it: program order on each node and
    send -> deliver, closed transitively (independently of any clock)."""
    events = log[log["node"].notna() & ~log["kind"].isin(["drop", "fault_start", "fault_end"])]
    preds: dict[int, set[int]] = {}
    last: dict[str, int] = {}
    sends: dict[int, int] = {}
    for row, kind, node, mid in zip(events.index, events["kind"], events["node"], events["msg_id"]):
        direct = set()
        if node in last:
            direct.add(last[node])
        if kind == "deliver":
            direct.add(sends[int(mid)])
        if kind == "send":
            sends[int(mid)] = row
        before = set(direct)
        for d in direct:
            before |= preds[d]
        preds[row] = before
        last[node] = row
    return preds


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), nodes=st.integers(1, 4))
def test_vectors_order_exactly_the_pairs_that_happened_before(seed, nodes):
    world = random_world(seed, nodes=nodes, actions=8)
    log = world.events()
    causal = happened_before(world)
    preds = closure(log)
    rows = list(causal.events.index)
    assert sorted(rows) == sorted(preds)
    lamport = causal.frame()["lamport"]
    for a in rows:
        for b in rows:
            expected = (
                Order.EQUAL
                if a == b
                else Order.BEFORE
                if a in preds[b]
                else Order.AFTER
                if b in preds[a]
                else Order.CONCURRENT
            )
            assert causal.order(a, b) is expected
            if expected is Order.BEFORE:  # the clock condition
                assert lamport[a] < lamport[b]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), nodes=st.integers(1, 4))
def test_shiviz_accepts_every_simulated_run(seed, nodes):
    text = happened_before(random_world(seed, nodes=nodes, actions=10)).to_shiviz()
    check = check_shiviz(text)
    assert check.ok, check.problems


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hlc_respects_happened_before_and_stays_near_the_clocks(seed):
    world = random_world(seed)
    causal = happened_before(world)
    hlc = causal.hlc(tick_s=1e-6)
    frame = causal.frame()
    ticks = np.floor(frame["clock"].to_numpy() / 1e-6 + 1e-6)
    ahead = np.array([h.l for h in hlc]) - ticks
    assert ahead.max() <= 0.01 / 1e-6 + 1  # offsets within 10 ms of each other
    rows = list(frame.index)
    for a in rows[:40]:
        for b in rows[:40]:
            if causal.happened_before(a, b):
                assert hlc[a] < hlc[b]


def test_the_frame_adds_lamport_and_vector_columns_in_node_order():
    world = World()
    net = Network(world, latency=1.0)
    for n in ("x", "y"):
        net.add_node(n)
    net.send("y", "x")
    world.log("write", node="x")
    world.run()
    frame = vector_timestamps(world, processes=["x", "y"])
    assert frame[["kind", "node", "lamport", "vector"]].values.tolist() == [
        ["send", "y", 1, (0, 1)],
        ["write", "x", 1, (1, 0)],
        ["deliver", "x", 2, (2, 1)],
    ]
    only_messages = happened_before(world, local_kinds=[])
    assert only_messages.frame()["kind"].tolist() == ["send", "deliver"]
    assert only_messages.happened_before(0, 2)
    assert vector_timestamps(world)["vector"].tolist() == [(1, 0), (0, 1), (1, 2)]  # y first


def test_same_seed_same_timestamps():
    a = vector_timestamps(random_world(7))
    b = vector_timestamps(random_world(7))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda w: happened_before("log"), TypeError, r"source='log' must be a World"),
        (
            lambda w: happened_before(pd.DataFrame({"time": [0.0]})),
            ValueError,
            r"events lacks the column\(s\) \['kind', 'msg_id', 'node'\]",
        ),
        (lambda w: happened_before(World()), ValueError, r"the log has no event of a node"),
        (lambda w: happened_before(w).order(0, 999), ValueError, r"row=999 is not an event"),
        (lambda w: happened_before(w, processes="ab"), TypeError, r"processes='ab' must be"),
        (lambda w: happened_before(w, local_kinds=3), TypeError, r"local_kinds=3 must be"),
        (
            lambda w: happened_before(_no_clock()).hlc(),
            ValueError,
            r"the log has no 'clock' column",
        ),
        (lambda w: happened_before(w).hlc(tick_s=0), ValueError, r"tick_s=0 must be in"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(call, error, message):
    world = random_world(0)
    with pytest.raises(error, match=message):
        call(world)


def _no_clock() -> World:
    world = World()
    world.log("write", node="a")
    return world


def test_a_send_record_without_message_id_is_refused():
    world = World()
    world.log("send", node="a")
    with pytest.raises(ValueError, match=r"row 0: a send record needs a msg_id"):
        happened_before(world)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), nodes=st.integers(1, 4))
def test_the_log_order_gives_the_same_stamps_as_a_computed_order(seed, nodes):
    causal = happened_before(random_world(seed, nodes=nodes, actions=10))
    general = Run(causal.run.steps)  # no order given: the run computes one
    assert causal.run.vector_counts() == general.vector_counts()
    assert causal.run.lamport_times() == general.lamport_times()


def test_local_kinds_never_count_the_worlds_own_records():
    world = random_world(0)
    plain = happened_before(world, local_kinds=["write"])
    with_world_kinds = happened_before(world, local_kinds=["write", "drop", "fault_start"])
    assert list(plain.events.index) == list(with_world_kinds.events.index)
    assert set(plain.events["kind"]) == {"write", "send", "deliver"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_log_not_in_time_order_gives_the_same_stamps(seed):
    log = random_world(seed).events()
    by_node = log.sort_values("node", kind="stable")  # deliveries may now precede their sends
    nodes = ["n0", "n1", "n2"]  # the vectors' entries in one order for both
    stamps = vector_timestamps(log, processes=nodes)
    shuffled = vector_timestamps(by_node, processes=nodes).loc[stamps.index]
    assert shuffled["vector"].tolist() == stamps["vector"].tolist()
    assert shuffled["lamport"].tolist() == stamps["lamport"].tolist()
