"""Overlapping faults compose: each fault's end undoes only its own effect; the others hold."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.sim import (
    Crash,
    Fault,
    FaultEffect,
    FaultSchedule,
    LossBurst,
    Network,
    Partition,
    SlowNode,
    World,
)

NODES = "abcd"


def _at(world, t):
    world.run(until=t)


# -- the three reported bugs, and their siblings ------------------------------------------------
def test_overlapping_slow_nodes_end_back_at_the_base_factor(world, net):
    FaultSchedule([SlowNode(0, 10, "b", 10), SlowNode(5, 10, "b", 3)]).apply(net)
    seen = []
    for t in (2, 7, 12, 16):
        _at(world, t)
        seen.append(net.node("b").slow_factor)
    assert seen == [10, 3, 3, 1]  # was [10, 3, 10, 10]: the first end restored 10 for ever


def test_overlapping_loss_bursts_end_back_at_the_base_loss(world, net):
    net.set_loss(0.05)
    FaultSchedule([LossBurst(0, 10, 0.5), LossBurst(5, 10, 0.2)]).apply(net)
    seen = []
    for t in (2, 7, 12, 16):
        _at(world, t)
        seen.append(net.loss)
    assert seen == [0.5, 0.2, 0.2, 0.05]  # was [..., 0.5] at the end


def test_overlapping_crashes_keep_the_node_down_until_the_last_ends(world, net):
    FaultSchedule([Crash(0, 10, "b"), Crash(5, 10, "b")]).apply(net)
    seen = []
    for t in (2, 7, 12, 16):
        _at(world, t)
        seen.append(net.node("b").alive)
    assert seen == [False, False, False, True]  # was back up at 10
    ev = world.events()
    changes = ev[ev["kind"].isin(["crash", "restart"])][["time", "kind"]].values.tolist()
    assert changes == [[0.0, "crash"], [15.0, "restart"]]
    assert net.node("b").incarnation == 1


def test_overlapping_partitions_intersect_and_each_lifts_only_its_cut(world, net):
    FaultSchedule(
        [Partition(0, 10, [["a", "b"], ["c", "d"]]), Partition(5, 10, [["a", "c"]])]
    ).apply(net)
    seen = []
    for t in (2, 7, 12, 16):
        _at(world, t)
        seen.append(net.groups)
    assert seen == [
        [["a", "b"], ["c", "d"]],
        [["a"], ["b"], ["c"], ["d"]],
        [["a", "c"], ["b", "d"]],
        None,
    ]
    ev = world.events()
    assert ev[ev["kind"].isin(["partition", "heal"])]["kind"].tolist() == [
        "partition",
        "partition",
        "partition",
        "heal",
    ]


def test_a_crash_by_hand_outlives_a_crash_fault(world, net):
    net.crash("b")
    FaultSchedule([Crash(1, 1, "b")]).apply(net)
    world.run()
    assert not net.node("b").alive
    net.restart("b")
    assert net.node("b").alive


def test_settings_made_during_a_fault_apply_when_it_ends(world, net):
    FaultSchedule([SlowNode(0, 2, "a", 10), LossBurst(0, 2, 0.9)]).apply(net)
    world.run(until=1)
    net.slow("a", 4)
    net.set_loss(0.1)
    assert (net.node("a").slow_factor, net.loss) == (10, 0.9)
    world.run()
    assert (net.node("a").slow_factor, net.loss) == (4, 0.1)


def test_a_hand_partition_and_a_fault_partition_hold_together(world, net):
    net.partition(["a"])
    FaultSchedule([Partition(1, 1, [["b"]])]).apply(net)
    world.run(until=1.5)
    assert net.groups == [["a"], ["b"], ["c", "d"]]
    net.heal()  # lifts the hand-made partition only
    assert net.groups == [["b"], ["a", "c", "d"]]
    world.run()
    assert net.groups is None


class Cut(Fault):
    """A partition-like fault defined outside distlab: it only says its effect."""

    kind = "partition"
    state = "partitioned"

    def __init__(self, at, duration, links):
        super().__init__(at, duration)
        self.links = tuple(links)

    @property
    def label(self):
        return "cut " + ", ".join(f"{a}->{b}" for a, b in self.links)

    def effect(self):
        return FaultEffect(cut=self.links)


def test_a_new_fault_kind_plugs_in_by_its_effect(world, net, message_fates):
    net.set_link("a", "b", latency=0.5, loss=0.25)
    FaultSchedule([Cut(1, 2, [("a", "b")]), Cut(2, 2, [("a", "b")])]).apply(net)
    seen = []
    for t in (0.5, 1.5, 3.5, 4.5):
        _at(world, t)
        seen.append(net.can_reach("a", "b"))
    assert seen == [True, False, False, True]
    assert net.can_reach("b", "a")
    net.set_link("a", "b")  # the base link override survived the cuts; reset it
    assert net.can_reach("a", "b")


def test_a_new_fault_is_checked_before_the_run(world, net):
    with pytest.raises(ValueError, match=r"src='zz' is not one of"):
        FaultSchedule([Cut(1, 1, [("zz", "a")])]).apply(net)
    assert world.events().empty


def test_effect_errors(net):
    with pytest.raises(ValueError, match=r"handle=99 is not an active effect"):
        net.remove_effect(99)
    with pytest.raises(TypeError, match=r"effect='x' must be a distlab.sim.FaultEffect"):
        net.apply_effect("x")
    with pytest.raises(ValueError, match=r"node='q' is not one of"):
        net.apply_effect(FaultEffect(slow={"q": 2}))
    with pytest.raises(TypeError, match=r"crashed='ab' must be a list of node names"):
        FaultEffect(crashed="ab")
    with pytest.raises(TypeError, match=r"cut\[0\]=\('a',\) must be a \(src, dst\) pair"):
        FaultEffect(cut=[("a",)])
    with pytest.raises(ValueError, match=r"loss=2 must be between 0 and 1"):
        FaultEffect(loss=2)
    assert all(net.node(n).alive for n in NODES)


# -- property: any schedule, composed; back to the base once the last fault ends --------------
_times = st.integers(0, 8)
_durations = st.integers(1, 6)
_node = st.sampled_from(NODES)
_groups = st.lists(
    st.lists(_node, min_size=1, max_size=3, unique=True), min_size=1, max_size=3
).filter(lambda gs: len({n for g in gs for n in g}) == sum(len(g) for g in gs))
_fault = st.one_of(
    st.builds(Crash, _times, _durations, _node),
    st.builds(SlowNode, _times, _durations, _node, st.sampled_from([0.5, 2.0, 3.0, 10.0])),
    st.builds(LossBurst, _times, _durations, st.sampled_from([0.0, 0.3, 1.0])),
    st.builds(Partition, _times, _durations, _groups),
    st.builds(Cut, _times, _durations, st.lists(st.tuples(_node, _node), min_size=1, max_size=3)),
)


def _expected(faults, t, base_slow, base_loss):
    """What the schedule should make hold at time t (not a boundary), computed independently."""
    active = sorted(
        ((f.at, i, f) for i, f in enumerate(faults) if f.at <= t < f.end), key=lambda x: x[:2]
    )
    active = [f for _, _, f in active]
    alive = {n: not any(isinstance(f, Crash) and f.node == n for f in active) for n in NODES}
    slow = dict(base_slow)
    loss = base_loss
    cut = set()
    parts = []
    for f in active:  # in start order: later ones win
        if isinstance(f, SlowNode):
            slow[f.node] = f.factor
        elif isinstance(f, LossBurst):
            loss = f.loss
        elif isinstance(f, Partition):
            parts.append({n: gi for gi, g in enumerate(f.groups) for n in g})
        elif isinstance(f, Cut):
            cut |= set(f.links)
    groups = None
    if parts:
        sides = {}
        for n in NODES:
            sides.setdefault(tuple(p.get(n, -1) for p in parts), set()).add(n)
        groups = {frozenset(s) for s in sides.values()}
    return alive, slow, loss, groups, cut


def _observed(net):
    alive = {n: net.node(n).alive for n in NODES}
    slow = {n: net.node(n).slow_factor for n in NODES}
    groups = None if net.groups is None else {frozenset(g) for g in net.groups}
    return alive, slow, net.loss, groups


def _same_side(groups, a, b):
    return groups is None or any(a in g and b in g for g in groups)


@settings(max_examples=60, deadline=None)
@given(st.lists(_fault, min_size=1, max_size=7))
def test_any_schedule_composes_and_ends_at_the_base_state(faults):
    world = World(seed=0)
    net = Network(world, latency=0.01, loss=0.05)
    for n in NODES:
        net.add_node(n)
    net.slow("d", 2)
    net.set_link("a", "b", loss=0.25)
    base_slow = {n: 1.0 for n in NODES} | {"d": 2.0}
    FaultSchedule(faults).apply(net)
    last = max(f.end for f in faults)
    for t in [k + 0.5 for k in range(int(last) + 1)]:
        world.run(until=t)
        alive, slow, loss, groups, cut = _expected(faults, t, base_slow, 0.05)
        assert _observed(net) == (alive, slow, loss, groups), t
        for a, b in itertools.permutations(NODES, 2):
            reach = alive[a] and alive[b] and _same_side(groups, a, b) and (a, b) not in cut
            assert net.can_reach(a, b) == reach, (t, a, b)
    world.run()
    assert _observed(net) == ({n: True for n in NODES}, base_slow, 0.05, None)
    assert all(net.can_reach(a, b) for a, b in itertools.permutations(NODES, 2))
    ends = world.events().query("kind == 'fault_end'")
    assert len(ends) == len(faults)
