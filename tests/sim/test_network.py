"""Network: delivery, loss, latency, links, partitions, crashes, slow nodes, determinism."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from distlab.sim import Exponential, Message, Network, World


def test_delivers_into_inbox_with_message_fields(world, net):
    mid = net.send("a", "b", {"k": 1})
    world.run()
    inbox = net.node("b").inbox
    assert len(inbox.items) == 1
    msg = inbox.items[0]
    assert msg == Message(mid, "a", "b", {"k": 1}, 0.0)
    events = world.events()
    assert events["kind"].tolist() == ["send", "deliver"]
    assert events["node"].tolist() == ["a", "b"]
    assert events["time"].tolist() == [0.0, 0.01]
    assert (events["msg_id"] == mid).all()


def test_message_ids_increase(net):
    assert [net.send("a", "b") for _ in range(3)] == [0, 1, 2]


def test_recv_waits_for_delivery(world, net):
    got = []

    def server():
        msg = yield net.node("b").recv()
        got.append((world.now, msg.payload))

    world.env.process(server())
    net.send("a", "b", "hi")
    world.run()
    assert got == [(0.01, "hi")]


def test_on_message_replaces_inbox(world, net):
    seen = []
    net.node("b").on_message = lambda m: seen.append(m.payload)
    net.send("a", "b", 1)
    world.run()
    assert seen == [1]
    assert net.node("b").inbox.items == []


def test_nodes_and_lookup(net):
    assert net.nodes == ["a", "b", "c", "d"]
    assert "a" in net and "z" not in net
    assert net.node("c").name == "c"
    assert "Node('c', alive)" == repr(net.node("c"))
    assert "nodes=['a', 'b', 'c', 'd']" in repr(net)


@pytest.mark.parametrize("loss", [0.0, 0.1, 0.3, 0.7, 1.0])
def test_fraction_lost_matches_loss(loss, message_fates):
    world = World(seed=21)
    net = Network(world, latency=Exponential(0.01), loss=loss)
    net.add_node("a")
    net.add_node("b")
    n = 10_000
    for i in range(n):
        net.send("a", "b", i)
    world.run()
    fates = message_fates(world.events())
    dropped = fates["fate"] == "drop"
    assert dropped.mean() == pytest.approx(loss, abs=0.015)
    assert (fates.loc[dropped, "reason"] == "loss").all()
    assert len(net.node("b").inbox.items) == n - dropped.sum()


def test_lost_message_is_logged_at_the_receiver_when_it_would_arrive(world, net):
    net.set_loss(1.0)
    net.send("a", "b")
    world.run()
    drop = world.events().iloc[-1]
    assert (drop["kind"], drop["node"], drop["time"], drop["reason"]) == ("drop", "b", 0.01, "loss")


def test_slow_factor_multiplies_latency_of_both_ends(world, net, message_fates):
    net.slow("a", 3)
    net.slow("b", 2)
    net.send("a", "b")  # 0.01 * 3 * 2
    net.send("c", "a")  # 0.01 * 3
    net.send("c", "d")  # 0.01
    world.run()
    fates = message_fates(world.events())
    assert (fates["at"] - fates["sent"]).round(9).tolist() == [0.06, 0.03, 0.01]
    net.slow("a", 1)
    assert net.node("a").slow_factor == 1.0
    kinds = world.events().query("kind == 'slow'")
    assert kinds["detail"].tolist() == ["factor=3", "factor=2", "factor=1"]


def test_set_link_overrides_latency_and_loss(world, net, message_fates):
    net.set_link("a", "b", latency=0.5)
    net.set_link("c", "d", loss=1.0, symmetric=False)
    for src, dst in [("a", "b"), ("b", "a"), ("a", "c"), ("c", "d"), ("d", "c")]:
        net.send(src, dst)
    world.run()
    fates = message_fates(world.events())
    assert (fates["at"] - fates["sent"]).round(9).tolist() == [0.5, 0.5, 0.01, 0.01, 0.01]
    assert fates["fate"].tolist() == ["deliver", "deliver", "deliver", "drop", "deliver"]


def test_set_link_both_none_resets_and_set_loss_keeps_link_loss(world, net, message_fates):
    net.set_link("a", "b", latency=0.5, loss=0.0)
    net.set_loss(1.0)
    net.send("a", "b")  # link keeps loss 0 and latency 0.5
    net.send("a", "c")  # default: lost
    world.run()
    net.set_link("a", "b")
    net.set_loss(0.0)
    net.send("a", "b")
    world.run()
    fates = message_fates(world.events())
    assert fates["fate"].tolist() == ["deliver", "drop", "deliver"]
    assert (fates["at"] - fates["sent"]).round(9).tolist() == [0.5, 0.01, 0.01]
    assert net.loss == 0.0


def test_partition_drops_exactly_the_messages_between_groups(world, net, message_fates):
    net.partition(["a", "b"], ["c"])  # d, not named, is a third group
    assert net.groups == [["a", "b"], ["c"], ["d"]]
    group = {"a": 0, "b": 0, "c": 1, "d": 2}
    pairs = list(itertools.permutations("abcd", 2))
    for src, dst in pairs:
        net.send(src, dst)
    world.run()
    fates = message_fates(world.events())
    crossing = [group[s] != group[d] for s, d in pairs]
    assert (fates["fate"] == "drop").tolist() == crossing
    assert (fates.loc[fates["fate"] == "drop", "reason"] == "partition").all()
    # dropped at send: at the sender, at the send time
    drops = world.events().query("kind == 'drop'")
    assert (drops["node"] == drops["src"]).all() and (drops["time"] == 0).all()

    net.heal()
    assert net.groups is None
    for src, dst in pairs:
        net.send(src, dst)
    world.run()
    after = message_fates(world.events()).iloc[len(pairs) :]
    assert (after["fate"] == "deliver").all()
    kinds = world.events()["kind"]
    assert kinds[kinds.isin(["partition", "heal"])].tolist() == ["partition", "heal"]
    assert world.events().query("kind == 'partition'")["detail"].item() == "{a, b} | {c} | {d}"


def test_partition_in_flight_message_is_dropped_on_arrival(world, net, message_fates):
    net.set_link("a", "b", latency=1.0)
    net.send("a", "b")
    world.run(until=0.5)
    net.partition(["a"])  # b, c, d form the other group
    world.run()
    fates = message_fates(world.events())
    assert fates["fate"].tolist() == ["drop"]
    drop = world.events().query("kind == 'drop'").iloc[0]
    assert (drop["node"], drop["time"], drop["reason"]) == ("b", 1.0, "partition")


def test_heal_before_arrival_delivers_in_flight_messages(world, net, message_fates):
    net.set_link("a", "b", latency=1.0)
    net.send("a", "b")
    net.partition("a", "b")
    world.run(until=0.5)
    net.heal()
    world.run()
    assert message_fates(world.events())["fate"].tolist() == ["deliver"]


def test_new_partition_replaces_old_one(world, net, message_fates):
    net.partition(["a"], ["b"])
    net.partition(["a", "b"])
    net.send("a", "b")
    net.send("a", "c")
    world.run()
    assert message_fates(world.events())["fate"].tolist() == ["deliver", "drop"]


def test_crashed_node_receives_nothing_until_restarted(world, net, message_fates):
    b = net.node("b")
    b.state["balance"] = 100
    net.send("a", "b", "before")
    world.run()
    assert len(b.inbox.items) == 1
    net.crash("b")
    assert not b.alive and b.state == {} and b.inbox.items == []
    assert b.incarnation == 1
    net.send("a", "b", "to crashed")
    net.send("b", "a", "from crashed")
    world.run(until=1)
    assert b.inbox.items == [] and net.node("a").inbox.items == []
    net.restart("b")
    assert b.alive
    net.send("a", "b", "after")
    world.run()
    assert [m.payload for m in b.inbox.items] == ["after"]
    fates = message_fates(world.events())
    assert fates["fate"].tolist() == ["deliver", "drop", "drop", "deliver"]
    assert fates["reason"].iloc[1:3].tolist() == ["crashed", "crashed"]
    drops = world.events().query("kind == 'drop'")
    assert drops["node"].tolist() == ["b", "b"]  # at the receiver; at the (crashed) sender
    kinds = world.events()["kind"]
    assert kinds[kinds.isin(["crash", "restart"])].tolist() == ["crash", "restart"]


def test_crash_drops_messages_in_flight_and_kills_waiting_receivers(world, net):
    woke = []

    def server():
        msg = yield net.node("b").recv()
        woke.append(msg.payload)

    world.env.process(server())
    net.set_link("a", "b", latency=1.0)
    net.send("a", "b", "in flight")
    world.run(until=0.5)
    net.crash("b")
    world.run(until=2)
    net.restart("b")
    net.send("a", "b", "after restart")
    world.run()
    assert woke == []  # the receiver died with the node
    assert [m.payload for m in net.node("b").inbox.items] == ["after restart"]


def test_crash_and_restart_are_idempotent(world, net):
    net.restart("a")
    net.crash("a")
    net.crash("a")
    net.restart("a")
    assert world.events()["kind"].tolist() == ["crash", "restart"]


def _scenario(seed: int) -> pd.DataFrame:
    world = World(seed=seed)
    net = Network(world, latency=Exponential(0.02), loss=0.2)
    for name in "xyz":
        net.add_node(name)
    for i in range(200):
        net.send("xyz"[i % 3], "xyz"[(i + 1) % 3], i)
    world.run(until=0.01)
    net.partition(["x"])
    world.run(until=0.03)
    net.heal()
    world.run()
    return world.events()


def test_same_seed_same_events_other_seed_different():
    pd.testing.assert_frame_equal(_scenario(1), _scenario(1))
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(_scenario(1), _scenario(2))


def test_properties(net):
    assert net.latency.mean == 0.01
    assert net.loss == 0.0
    assert net.groups is None
