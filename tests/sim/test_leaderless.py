"""The leaderless (Dynamo) store kind: quorums, read repair, hinted handoff, siblings, convergence,
bad input, determinism."""

import numpy as np
import pytest

from distlab.sim import Network, ReplicatedStore, World
from distlab.sim.leaderless import quorum_config
from distlab.sim.versions import CausalContext, Siblings, Versioned


def _store(nodes=3, seed=1, latency=0.01, **kw):
    world = World(seed=seed)
    net = Network(world, latency=latency)
    store = ReplicatedStore(net, "leaderless", nodes=nodes, **kw)
    for i, node in enumerate(store.names, start=1):
        store.attach_client(f"c{i}", node)
    return world, net, store


def _do(world, store, client, f, value=None, key="x"):
    proc = store.request(client, f, key, value)
    world.run(until=world.now + 1.0)
    return proc.value


# -- quorums -----------------------------------------------------------------------------------
def test_write_then_read_everywhere():
    world, _, store = _store()
    assert _do(world, store, "c1", "write", 5).outcome == "ok"
    for client in ("c1", "c2", "c3"):
        r = _do(world, store, client, "read")
        assert (r.outcome, r.result) == ("ok", 5)
    assert store.values("x") == {"n1": 5, "n2": 5, "n3": 5}
    assert store.converged() and store.protocol.converged()


@pytest.mark.parametrize(("w", "crashed", "outcome"), [(2, 1, "ok"), (2, 2, "unavailable")])
def test_write_needs_w_acknowledgements(w, crashed, outcome):
    world, net, store = _store(w=w)
    for node in store.names[1 : 1 + crashed]:
        net.crash(node)
    r = _do(world, store, "c1", "write", 1)
    assert r.outcome == outcome
    if outcome == "unavailable":
        assert r.effect == "maybe"  # it reached the coordinator's replica


@pytest.mark.parametrize(("r", "outcome"), [(2, "ok"), (3, "unavailable")])
def test_read_needs_r_replies(r, outcome):
    world, net, store = _store(r=r, w=1)
    net.crash("n3")
    assert _do(world, store, "c1", "read").outcome == outcome


@pytest.mark.parametrize(("w", "hops"), [(1, 0), (3, 2)])
def test_expanding_quorum_answers_at_the_w_th_ack(w, hops):
    # constant 10 ms per message: the client's round trip, plus a replica's round trip unless
    # the coordinator's own replica is enough
    world, _, store = _store(w=w)
    r = _do(world, store, "c1", "write", 1)
    assert r.end - r.start == pytest.approx(0.02 + 0.01 * hops)


def test_a_read_answered_by_a_stale_replica_is_stale():
    world, net, store = _store(r=1, w=1, read_repair=False)
    net.partition(["n1", "c1"], ["n2", "n3", "c2", "c3"])
    assert _do(world, store, "c2", "write", "new").outcome == "ok"
    net.heal()
    assert _do(world, store, "c1", "read").result is None  # n1 answers itself first


def test_preference_list_and_replication_factor():
    world, _, store = _store(nodes=5, n=3, r=1, w=1)
    prefs = store.protocol.preference_list("x")
    assert len(prefs) == 3 and len(set(prefs)) == 3
    _do(world, store, "c1", "write", 9)
    held = {n for n in store.names if store.get(n, "x")[1] == 9}
    assert held == set(prefs)
    assert store.protocol.converged()


# -- read repair and anti-entropy ---------------------------------------------------------------
@pytest.mark.parametrize("read_repair", [True, False])
def test_read_repair_fixes_a_stale_replica(read_repair):
    world, net, store = _store(w=2, read_repair=read_repair)
    net.partition(["n3", "c3"], ["n1", "n2", "c1", "c2"])
    assert _do(world, store, "c1", "write", 7).outcome == "ok"
    net.heal()
    assert store.values("x")["n3"] is None
    r = _do(world, store, "c1", "read")
    assert r.result == 7
    assert (store.values("x")["n3"] == 7) is read_repair
    assert bool(store.protocol.read_repairs) is read_repair


def test_anti_entropy_alone_converges_after_a_heal():
    world, net, store = _store(nodes=4, r=1, w=1, read_repair=False, anti_entropy_s=0.1)
    net.partition(["n1", "n2", "c1", "c2"], ["n3", "n4", "c3", "c4"])
    _do(world, store, "c1", "write", "left", key="a")
    _do(world, store, "c3", "write", "right", key="b")
    assert not store.converged()
    net.heal()
    store.watch_convergence(world.now)
    world.run(until=world.now + 5)
    assert store.converged() and store.converged_at is not None
    assert store.values("a") == dict.fromkeys(store.names, "left")


# -- sloppy quorum and hinted handoff -----------------------------------------------------------
def _sloppy_case(sloppy):
    world, net, store = _store(nodes=5, n=3, r=3, w=3, sloppy=sloppy)
    key = "x"
    prefs = store.protocol.preference_list(key)
    cut = prefs[-1]
    coord = prefs[0]
    client = f"c{store.names.index(coord) + 1}"
    cut_client = f"c{store.names.index(cut) + 1}"
    net.partition([cut, cut_client])  # everyone else: the other side
    return world, net, store, key, prefs, cut, client


def test_without_sloppy_quorum_a_cut_replica_blocks_w_equals_n():
    world, _, store, key, _, _, client = _sloppy_case(False)
    assert _do(world, store, client, "write", 1, key=key).outcome == "unavailable"


def test_hinted_handoff_delivers_after_the_heal():
    world, net, store, key, prefs, cut, client = _sloppy_case(True)
    r = _do(world, store, client, "write", 1, key=key)
    assert r.outcome == "ok"
    [hint] = store.protocol.hinted_writes()
    assert hint.intended == cut and hint.holder not in prefs and hint.stamp == r.stamp
    assert hint.handed_off_at is None and store.values(key)[cut] is None
    assert _do(world, store, client, "read", key=key).result == 1  # r = 3 with the fallback
    heal_at = world.now
    net.heal()
    world.run(until=world.now + 1)
    [hint] = store.protocol.hinted_writes()
    assert heal_at < hint.handed_off_at < heal_at + 0.2
    assert store.values(key)[cut] == 1
    assert store.protocol.converged()  # no hint left, replicas agree


# -- siblings and last-writer-wins --------------------------------------------------------------
def test_concurrent_writes_become_siblings_and_a_write_that_saw_them_collapses_them():
    world, _, store = _store(r=1, w=1)
    store.request("c1", "write", "x", "a")
    store.request("c2", "write", "x", "b")
    world.run(until=1)
    read = _do(world, store, "c3", "read")
    assert read.result == Siblings(("a", "b"))
    assert isinstance(read.stamp, CausalContext)
    _do(world, store, "c3", "write", Versioned("ab", read.stamp))
    assert store.values("x") == dict.fromkeys(store.names, "ab")
    assert _do(world, store, "c1", "read").result == "ab"


def test_a_write_keeps_the_versions_its_read_did_not_see():
    world, _, store = _store(r=1, w=1)
    _do(world, store, "c1", "write", "a")
    first = _do(world, store, "c1", "read")
    _do(world, store, "c2", "write", "b")  # blind: concurrent with a
    _do(world, store, "c1", "write", Versioned("a2", first.stamp))  # saw a, not b
    assert _do(world, store, "c3", "read").result == Siblings(("b", "a2"))


def test_lww_keeps_the_greatest_stamp_only():
    world, _, store = _store(r=1, w=1, conflicts="lww")
    a = store.request("c1", "write", "x", "a")
    b = store.request("c2", "write", "x", "b")
    world.run(until=1)
    winner = max((a.value, b.value), key=lambda res: res.stamp)
    read = _do(world, store, "c3", "read")
    assert read.result == winner.value and read.stamp == winner.stamp
    assert store.values("x") == dict.fromkeys(store.names, winner.value)


def test_lww_follows_skewed_clocks():
    # n2's clock is behind: its later write loses to n1's earlier one
    world, _, store = _store(r=1, w=3, conflicts="lww")
    store.clock_offset["n2"] = -10.0
    _do(world, store, "c1", "write", "early")
    _do(world, store, "c2", "write", "late")
    assert _do(world, store, "c3", "read").result == "early"


# -- property: convergence after the heal, over seeds -------------------------------------------
@pytest.mark.parametrize("seed", range(8))
def test_replicas_agree_after_heal_and_anti_entropy(seed):
    rng = np.random.default_rng(seed)
    conflicts = ("siblings", "lww")[seed % 2]
    sloppy = seed % 4 >= 2
    nodes = int(rng.integers(3, 7))
    n = int(rng.integers(2, nodes + 1))
    world, net, store = _store(
        nodes=nodes, seed=seed, n=n, r=1, w=1, sloppy=sloppy, conflicts=conflicts,
        read_repair=bool(rng.integers(2)), anti_entropy_s=0.05,
    )  # fmt: skip
    side = [name for name in store.names if rng.random() < 0.5] or store.names[:1]
    clients = {name: f"c{i}" for i, name in enumerate(store.names, start=1)}
    net.partition([*side, *(clients[s] for s in side)])
    for _ in range(30):
        node = store.names[int(rng.integers(nodes))]
        key = f"k{int(rng.integers(4))}"
        store.request(clients[node], str(rng.choice(["read", "write"])), key, None)
        world.run(until=world.now + float(rng.exponential(0.02)))
    for proc_key in range(4):  # writes with values
        store.request(clients[store.names[0]], "write", f"k{proc_key}", proc_key)
    world.run(until=world.now + 0.5)
    net.heal()
    world.run(until=world.now + 5)
    assert store.protocol.converged()
    for key in (f"k{k}" for k in range(4)):
        prefs = store.protocol.preference_list(key)
        assert len({repr(store.get(p, key)) for p in prefs}) == 1


# -- determinism and bad input ------------------------------------------------------------------
def test_same_seed_same_replicas():
    def run():
        world, net, store = _store(nodes=5, n=3, seed=4, sloppy=True, anti_entropy_s=0.1)
        net.partition(["n1", "c1"])
        for i in range(10):
            store.request(f"c{i % 5 + 1}", "write", f"k{i % 3}", i)
            world.run(until=world.now + 0.03)
        net.heal()
        world.run(until=world.now + 2)
        return store.replicas, [h.handed_off_at for h in store.protocol.hinted_writes()]

    assert run() == run()


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"r": 0}, ValueError, r"r=0 must be between 1 and n=3"),
        ({"w": 4}, ValueError, r"w=4 must be between 1 and n=3"),
        ({"n": 4}, ValueError, r"n=4 must be between 1 and the number of nodes \(3\)"),
        ({"n": 2, "r": 3}, ValueError, r"r=3 must be between 1 and n=2"),
        ({"w": "2"}, TypeError, r"w='2' must be an integer"),
        ({"n": 2.5}, TypeError, r"n=2.5"),
        ({"conflicts": "crdts"}, ValueError, r"conflicts='crdts'"),
        ({"read_repair": "yes"}, TypeError, r"read_repair='yes'"),
        ({"sloppy": 1}, TypeError, r"sloppy=1"),
    ],
)
def test_bad_parameters_are_refused_by_name(kw, error, match):
    with pytest.raises(error, match=match):
        ReplicatedStore(Network(World()), "leaderless", nodes=3, **kw)


def test_bad_parameters_are_refused_before_any_node_is_added():
    net = Network(World())
    with pytest.raises(ValueError, match="r=9"):
        ReplicatedStore(net, "leaderless", nodes=3, r=9)
    assert net.nodes == []


def test_cas_and_bad_contexts_are_refused():
    world, _, store = _store()
    with pytest.raises(ValueError, match="f='cas' is not supported by kind='leaderless'"):
        store.request("c1", "cas", "x", (1, 2))
    with pytest.raises(TypeError, match="context=.* must be a CausalContext"):
        Versioned("v", (("n1", 1),))


def test_quorum_config_defaults_to_majorities_of_every_node():
    assert quorum_config(5) == quorum_config(5, n=5, r=3, w=3)
    assert quorum_config(4, n=2).r == 2


def test_a_crashed_replica_gets_its_hint_when_it_restarts():
    world, net, store = _store(nodes=4, n=3, r=1, w=3, sloppy=True)
    prefs = store.protocol.preference_list("x")
    coord = prefs[0]
    client = f"c{store.names.index(coord) + 1}"
    net.crash(prefs[1])
    assert _do(world, store, client, "write", "v").outcome == "ok"
    [hint] = store.protocol.hinted_writes()
    assert hint.intended == prefs[1] and hint.holder not in prefs
    world.run(until=world.now + 1)
    assert hint.handed_off_at is None  # still down
    net.restart(prefs[1])
    world.run(until=world.now + 1)
    assert hint.handed_off_at is not None and store.values("x")[prefs[1]] == "v"


def test_a_read_merges_the_siblings_of_the_replicas_it_hears():
    world, net, store = _store(r=3, w=1, read_repair=False)
    net.partition(["n1", "c1"], ["n2", "n3", "c2", "c3"])
    _do(world, store, "c1", "write", "left")
    _do(world, store, "c2", "write", "right")
    net.heal()
    assert store.values("x") == {"n1": "left", "n2": "right", "n3": "right"}
    assert _do(world, store, "c3", "read").result == Siblings(("left", "right"))
