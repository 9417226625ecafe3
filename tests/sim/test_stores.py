"""Replicated stores on the simulated network: protocols, partitions, bad input."""

import pytest

from distlab.sim import Network, ReplicatedStore, World


def _store(kind, nodes=3, seed=1, **kw):
    world = World(seed=seed)
    net = Network(world, latency=0.01)
    store = ReplicatedStore(net, kind, nodes=nodes, **kw)
    for i, node in enumerate(store.names, start=1):
        store.attach_client(f"c{i}", node)
    return world, net, store


def _do(world, store, client, f, value=None, key="x"):
    proc = store.request(client, f, key, value)
    world.run(until=world.now + 1.0)
    return proc.value


@pytest.mark.parametrize("kind", ["cp", "cp-no-writeback", "all-nodes", "course-quorum", "ap"])
def test_write_then_read_everywhere(kind):
    world, _, store = _store(kind)
    assert _do(world, store, "c1", "write", 5).outcome == "ok"
    for client in ("c1", "c2", "c3"):
        r = _do(world, store, client, "read")
        assert (r.outcome, r.result, r.type) == ("ok", 5, "ok")
    assert store.values("x") == {"n1": 5, "n2": 5, "n3": 5}
    assert store.converged()


def test_read_of_a_key_never_written_is_none():
    world, _, store = _store("cp")
    r = _do(world, store, "c1", "read", key="y")
    assert (r.outcome, r.result) == ("ok", None)


def test_cp_minority_is_unavailable_and_majority_is_not():
    world, net, store = _store("cp", nodes=5)
    net.partition(["n1", "n2", "n3", "c1", "c2", "c3"], ["n4", "n5", "c4", "c5"])
    assert _do(world, store, "c1", "write", 1).outcome == "ok"
    r = _do(world, store, "c4", "write", 2)
    assert (r.outcome, r.type, r.effect) == ("unavailable", "fail", "no")
    assert _do(world, store, "c5", "read").outcome == "unavailable"
    net.heal()
    assert _do(world, store, "c5", "read").result == 1


def test_cp_write_back_makes_replicas_agree():
    world, _, store = _store("cp", nodes=3, anti_entropy_s=0)
    store.replicas["n1"]["x"] = ((9, 0, 0), "late")  # a write that reached one replica only
    assert _do(world, store, "c2", "read").result == "late"
    assert store.values("x") == {"n1": "late", "n2": "late", "n3": "late"}


def test_no_writeback_read_leaves_replicas_as_they_were():
    world, _, store = _store("cp-no-writeback", nodes=3, anti_entropy_s=0)
    store.replicas["n1"]["x"] = ((9, 0, 0), "late")
    assert _do(world, store, "c1", "read").result == "late"
    assert store.values("x")["n3"] is None


def test_course_quorum_counts_healthy_nodes_only():
    world, net, store = _store("course-quorum", nodes=5)
    net.partition(["n1", "n2", "n3", "c1", "c2", "c3"], ["n4", "n5", "c4", "c5"])
    assert _do(world, store, "c1", "write", "left").outcome == "ok"
    assert _do(world, store, "c4", "write", "right").outcome == "ok"  # 2 healthy: quorum 2
    assert store.values("x") == {
        "n1": "left",
        "n2": "left",
        "n3": "left",
        "n4": "right",
        "n5": "right",
    }


def test_ap_answers_locally_and_converges_after_heal():
    world, net, store = _store("ap", nodes=3)
    net.partition(["n1", "c1"], ["n2", "n3", "c2", "c3"])
    assert _do(world, store, "c1", "write", "a").outcome == "ok"
    assert _do(world, store, "c2", "read").result is None  # stale, but an answer
    assert not store.converged()
    net.heal()
    world.run(until=world.now + 2.0)
    assert store.converged() and store.values("x")["n3"] == "a"


def test_ap_cas_is_local():
    world, _, store = _store("ap", nodes=3)
    assert _do(world, store, "c1", "cas", (None, 1)).outcome == "ok"
    r = _do(world, store, "c1", "cas", (7, 2))  # found another value: an answer, no effect
    assert (r.outcome, r.type, r.result, r.applied, r.effect) == ("ok", "fail", 1, False, "no")
    assert store.values("x") == {"n1": 1, "n2": 1, "n3": 1}


def test_course_quorum_counts_only_reachable_nodes():
    world, net, store = _store("course-quorum", nodes=3)
    net.set_link("n1", "n2", loss=1.0)
    net.crash("n3")
    assert _do(world, store, "c1", "write", 4).outcome == "ok"  # alone, its quorum is 1
    assert store.values("x") == {"n1": 4, "n2": None, "n3": None}


def test_bad_input():
    world, net, store = _store("cp")
    with pytest.raises(ValueError, match="kind='ca' is not one of"):
        ReplicatedStore(net, "ca")
    with pytest.raises(ValueError, match="f='cas' is not supported by kind='cp'"):
        store.request("c1", "cas", "x", (1, 2))
    with pytest.raises(ValueError, match="f='delete' is not one of"):
        store.request("c1", "delete")
    with pytest.raises(ValueError, match="client='zz' is not attached"):
        store.request("zz", "read")
    with pytest.raises(ValueError, match="node='n9' is not one of"):
        store.attach_client("c9", "n9")
    with pytest.raises(ValueError, match="must be None for f='read'"):
        store.request("c1", "read", "x", 3)
    _, _, ap = _store("ap")
    with pytest.raises(TypeError, match=r"must be an \(expected, new\) pair"):
        ap.request("c1", "cas", "x", 3)
    with pytest.raises(ValueError, match="nodes=0 must be between 1 and 15"):
        ReplicatedStore(Network(World()), "ap", nodes=0)


def test_messages_are_typed_and_errors_are_values():
    from distlab.sim.store_messages import Answer, Unavailable

    world, net, store = _store("cp", nodes=3)
    net.partition(["n1", "c1"], ["n2", "n3", "c2", "c3"])
    r = _do(world, store, "c1", "write", 1)
    assert (r.outcome, r.effect, r.type) == ("unavailable", "no", "fail")
    calls = world.events().query("kind == 'call_end'")
    assert calls["outcome"].tolist() == ["ok"]  # the store answered: Unavailable is its answer
    assert Unavailable(partial=True).outcome == "unavailable" and Answer(1, (1, 0, 1)).applied


def test_an_unavailable_write_that_reached_a_replica_may_take_effect():
    world, net, store = _store("cp", nodes=3, anti_entropy_s=0)
    net.set_link("n1", "n3", loss=1.0)
    proc = store.request("c1", "write", "x", 5)
    world.run(until=world.now + 0.035)  # tags read (0.03 s), values on their way: cut n2
    net.set_link("n1", "n2", loss=1.0)
    world.run(until=world.now + 1.0)
    r = proc.value
    assert (r.outcome, r.effect, r.type) == ("unavailable", "maybe", "info")
    assert store.values("x")["n1"] == 5  # the coordinator kept it: it may be read later


def test_rng_takes_a_seed_or_a_generator():
    import numpy as np

    a = ReplicatedStore(Network(World()), "ap", 3, clock_skew_s=0.1, rng=5)
    b = ReplicatedStore(Network(World()), "ap", 3, clock_skew_s=0.1, rng=np.random.default_rng(5))
    assert a.clock_offset == b.clock_offset
    with pytest.raises(TypeError, match="rng='5' must be a numpy.random.Generator or an int seed"):
        ReplicatedStore(Network(World()), "ap", 3, rng="5")
    with pytest.raises(ValueError, match="rng=-1 must be a non-negative int seed"):
        ReplicatedStore(Network(World()), "ap", 3, rng=-1)


def test_work_and_values_are_bounded_before_anything_runs():
    net = Network(World())
    with pytest.raises(ValueError, match="anti_entropy_s=4.94066e-324 must be 0 \\(off\\) or at"):
        ReplicatedStore(net, "ap", 3, anti_entropy_s=5e-324)  # used to hang world.run(until=1)
    with pytest.raises(ValueError, match="clock_skew_s=1e\\+308 must be in \\[0, 3600\\]"):
        ReplicatedStore(net, "ap", 3, clock_skew_s=1e308)  # used to fail inside numpy
    with pytest.raises(ValueError, match="clock_skew_s=nan must be a finite number"):
        ReplicatedStore(net, "ap", 3, clock_skew_s=float("nan"))
    with pytest.raises(ValueError, match="has a name twice"):
        ReplicatedStore(net, "ap", ["a", "a"])
    with pytest.raises(TypeError, match="name=3 must be a non-empty string"):
        ReplicatedStore(net, "ap", ["a", 3])
    world = World()
    store = ReplicatedStore(Network(world), "ap", 3, anti_entropy_s=0.001)
    world.run(until=0.1)
    assert store.converged()


def test_each_kind_is_one_protocol_class():
    from distlab.sim.store_protocols import PROTOCOLS

    net = Network(World())
    for kind in ("cp", "cp-no-writeback", "all-nodes", "course-quorum", "ap"):
        store = ReplicatedStore(net, kind, [f"{kind}-{i}" for i in range(3)])
        assert type(store.protocol) is PROTOCOLS[kind] and store.protocol.kind == kind


def test_node_names_are_checked_under_their_name():
    with pytest.raises(ValueError, match=r"nodes=\[\] must name between 1 and 15 replicas"):
        ReplicatedStore(Network(World()), "ap", ())


def test_all_nodes_store_waits_for_every_node():
    world, net, store = _store("all-nodes", nodes=5)
    assert _do(world, store, "c1", "write", 1).outcome == "ok"
    assert store.values("x") == {f"n{i}": 1 for i in range(1, 6)}
    net.partition(["n1", "n2", "n3", "n4", "c1", "c2", "c3", "c4"], ["n5", "c5"])
    for client in ("c1", "c5"):  # one node cut off stops both sides
        assert _do(world, store, client, "read").outcome == "unavailable"
    r = _do(world, store, "c1", "write", 2)
    assert (r.outcome, r.type) == ("unavailable", "fail")  # refused before storing anything
    net.heal()
    assert _do(world, store, "c5", "read").result == 1
    with pytest.raises(ValueError, match="f='cas' is not supported by kind='all-nodes'"):
        store.request("c1", "cas", value=(1, 3))


def test_all_nodes_is_abd_with_every_node_as_its_quorum():
    from distlab.sim.store_protocols import ABD, PROTOCOLS

    store = ReplicatedStore(Network(World()), "all-nodes", nodes=5)
    assert issubclass(PROTOCOLS["all-nodes"], ABD)
    assert store.protocol.quorum() == 5 and store.majority == 3
