"""BridgePartition: a non-transitive cut, as a fault."""

import pytest

from distlab.sim import BridgePartition, FaultSchedule, Network, World


def _net(names="abcde"):
    world = World(seed=0)
    net = Network(world, latency=0.01)
    for n in names:
        net.add_node(n)
    return world, net


def test_halves_are_cut_the_bridge_is_not_and_the_links_come_back():
    world, net = _net()
    cut = BridgePartition(at=1, duration=2, left=["a", "b"], bridge=["c"], right=["d", "e"])
    FaultSchedule([cut]).apply(net)
    world.run(until=2)
    assert not net.can_reach("a", "d") and not net.can_reach("e", "b")
    assert net.can_reach("a", "c") and net.can_reach("c", "e") and net.can_reach("a", "b")
    world.run(until=4)
    assert net.can_reach("a", "d")
    log = world.events().query("kind.str.startswith('fault')")
    assert log["detail"].tolist() == ["bridge {a, b} | c | {d, e}"] * 2
    assert cut.kind == "partition" and cut.end == 3.0


def test_bad_groups():
    with pytest.raises(TypeError, match="left='ab' must be a list of node names"):
        BridgePartition(0, 1, "ab", ["c"], ["d"])
    with pytest.raises(ValueError, match="bridge=\\[\\] is empty"):
        BridgePartition(0, 1, ["a"], [], ["d"])
    with pytest.raises(ValueError, match="right: node='a' is also in left"):
        BridgePartition(0, 1, ["a"], ["c"], ["a"])
    with pytest.raises(TypeError, match="left: node=1 must be a node name"):
        BridgePartition(0, 1, [1], ["c"], ["d"])
    _, net = _net("abc")
    with pytest.raises(ValueError, match="right='z' is not one of"):
        FaultSchedule([BridgePartition(0, 1, ["a"], ["b"], ["z"])]).apply(net)
