"""CRDTs as the value type of the leaderless store (``conflicts="crdt"``): concurrent updates
from both sides of a partition all survive the heal (last-writer-wins loses some), an OR-set
cart keeps a removed item removed, replicas converge over seeds; bad input; determinism."""

import numpy as np
import pytest

from distlab.crdt import GCounter, ORSet, PNCounter
from distlab.sim import ALL_STORE_KINDS, Network, ReplicatedStore, World
from distlab.sim.distributions import Uniform
from distlab.sim.versions import KeyState, Version, Versioned, merge_states

SIDES = (["n1", "n2", "c1", "c2"], ["n3", "n4", "c3", "c4"])


def _store(seed, conflicts, kind="leaderless", **kw):
    """Four nodes, client ``ci`` at node ``ni``; leaderless with R = W = 1 and anti-entropy
    every 0.05 s unless ``kw`` says otherwise."""
    world = World(seed=seed)
    net = Network(world, latency=Uniform(0.002, 0.02))
    if kind == "leaderless":
        kw = dict(r=1, w=1, anti_entropy_s=0.05) | kw
    store = ReplicatedStore(net, kind, nodes=4, conflicts=conflicts, **kw)
    for i, node in enumerate(store.names, start=1):
        store.attach_client(f"c{i}", node)
    return world, net, store


def _client(world, store, client, rng, empty, steps, update):
    """Read, merge into the client's own copy, update it, write it back; ``steps`` times."""
    mine = empty
    for _ in range(steps):
        read = yield store.request(client, "read")
        if read.outcome == "ok" and read.result is not None:
            mine = mine.merge(read.result)
        mine = update(mine, client, rng)
        yield store.request(client, "write", value=mine)
        yield world.env.timeout(float(rng.exponential(0.02)))


def _bump(counter, client, rng):
    if isinstance(counter, PNCounter) and rng.random() < 0.3:
        return counter.decrement(client)
    return counter.increment(client)


def _partitioned_counter(seed, conflicts, empty, steps=10, kind="leaderless", **kw):
    """Four clients update one counter, two on each side of a partition; then the heal.
    Returns the store."""
    world, net, store = _store(seed, conflicts, kind, **kw)
    rng = np.random.default_rng(seed)
    net.partition(*SIDES)
    procs = [
        world.env.process(_client(world, store, f"c{i}", rng, empty, steps, _bump))
        for i in range(1, 5)
    ]
    world.run(until=world.now + 3)
    assert all(p.triggered for p in procs)
    net.heal()
    world.run(until=world.now + 3)
    return store


def _expected(store):
    """Every update the clients made: the merge of every write's value."""
    merged = None
    for rec in store.writes.values():
        merged = rec.value if merged is None else merged.merge(rec.value)
    return merged.value


@pytest.mark.parametrize("empty", [GCounter(), PNCounter()], ids=["g", "pn"])
@pytest.mark.parametrize("seed", range(6))
def test_concurrent_increments_all_survive_the_heal(seed, empty):
    store = _partitioned_counter(seed, "crdt", empty)
    expected = _expected(store)
    values = store.values("x")
    assert {v.value for v in values.values()} == {expected}
    assert len(set(values.values())) == 1 and store.protocol.converged()
    if isinstance(empty, GCounter):
        assert expected == 40  # 4 clients x 10 increments


@pytest.mark.parametrize("seed", range(6))
def test_last_writer_wins_loses_increments_of_one_side(seed):
    crdt = _partitioned_counter(seed, "crdt", GCounter())
    lww = _partitioned_counter(seed, "lww", GCounter())
    assert lww.protocol.converged()
    kept = {v.value for v in lww.values("x").values()}
    assert len(kept) == 1
    assert kept.pop() < 40 == crdt.values("x")["n1"].value


def test_numbers_at_seed_0():
    crdt = _partitioned_counter(0, "crdt", GCounter())
    lww = _partitioned_counter(0, "lww", GCounter())
    assert (crdt.values("x")["n1"].value, lww.values("x")["n1"].value) == (40, 20)


def _cart_run(seed, conflicts):
    world, net, store = _store(seed, conflicts)
    cart = ORSet().add("book", "c1").add("pen", "c1")
    store.request("c1", "write", value=cart)
    world.run(until=1)
    net.partition(*SIDES)
    a = store.request("c1", "read")
    b = store.request("c3", "read")
    world.run(until=2)
    store.request("c1", "write", value=a.value.result.remove("pen"))
    store.request("c3", "write", value=b.value.result.add("mug", "c3"))
    world.run(until=3)
    net.heal()
    world.run(until=6)
    return store


@pytest.mark.parametrize("seed", range(4))
def test_orset_cart_keeps_a_removed_item_removed(seed):
    store = _cart_run(seed, "crdt")
    carts = store.values("x")
    assert {v.elements for v in carts.values()} == {frozenset({"book", "mug"})}
    lww = {v.elements for v in _cart_run(seed, "lww").values("x").values()}
    assert len(lww) == 1 and lww.pop() != frozenset({"book", "mug"})  # one side's update lost


@pytest.mark.parametrize("seed", range(8))
def test_replicas_converge_over_seeds(seed):
    rng = np.random.default_rng(seed)
    kw = dict(
        n=int(rng.integers(2, 5)),
        sloppy=bool(seed % 2),
        read_repair=bool(rng.integers(2)),
        anti_entropy_s=(0.0, 0.05)[seed % 4 >= 2] if seed % 2 else 0.05,
    )
    world, net, store = _store(seed, "crdt", **kw)
    net.partition(SIDES[0][:1] + SIDES[0][2:3])  # n1 and c1 alone
    written, acked = {}, {}
    for _ in range(40):
        client = f"c{int(rng.integers(1, 5))}"
        key = f"k{int(rng.integers(3))}"
        value = GCounter().increment(client, int(rng.integers(1, 4)))
        written[key] = written.get(key, GCounter()).merge(value)
        proc = store.request(client, "write", key, value)
        world.run(until=world.now + float(rng.exponential(0.02)))
        acked.setdefault(key, []).append((proc, value))
    net.heal()
    for key in written:  # reads repair; the hints go home; anti-entropy does the rest
        store.request("c2", "read", key)
    world.run(until=world.now + 5)
    assert store.protocol.converged()
    for key, value in written.items():
        held = {store.get(p, key)[1] for p in store.protocol.preference_list(key)}
        assert len(held) == 1
        held = held.pop()
        assert held.merge(value) == value  # nothing invented
        for proc, v in acked[key]:
            if proc.value.outcome == "ok":  # every acknowledged update kept
                assert held.merge(v) == held


def test_hinted_handoff_merges_into_the_intended_replica():
    world, net, store = _store(0, "crdt", n=3, sloppy=True, anti_entropy_s=0.0, read_repair=False)
    prefs = store.protocol.preference_list("x")
    cut = prefs[0]
    net.crash(cut)
    store.request("c1", "write", value=GCounter().increment("c1"))
    for client in ("c2", "c3", "c4"):
        if store.clients[client] != cut:
            store.request(client, "write", value=GCounter().increment(client, 2))
    world.run(until=1)
    net.restart(cut)
    world.run(until=2)
    hints = store.protocol.hinted_writes()
    assert hints and all(h.intended == cut and h.handed_off_at for h in hints)
    assert store.protocol.converged()
    assert {store.get(p, "x")[1] for p in prefs} == {store.get(prefs[1], "x")[1]}
    assert store.get(cut, "x")[1].value == sum(
        2 for c in ("c2", "c3", "c4") if store.clients[c] != cut
    ) + (store.clients["c1"] != cut)


def test_a_read_returns_the_merge_of_the_replies():
    world, net, store = _store(0, "crdt", r=2, anti_entropy_s=0.0, read_repair=False)
    net.partition(["n1", "c1"], ["n2", "c2"])
    store.request("c1", "write", value=GCounter().increment("c1"))
    store.request("c2", "write", value=GCounter().increment("c2"))
    world.run(until=1)
    net.heal()
    read = store.request("c1", "read")
    world.run(until=2)
    assert read.value.result == GCounter({"c1": 1, "c2": 1})
    assert store.get("n1", "x")[1].value == 1  # no read repair: n1 still holds its own


def test_merge_states_crdt_is_a_join():
    s = [
        KeyState.of(Version((float(i), i, i), (f"n{i}", 1), GCounter().increment(f"c{i}", i)))
        for i in range(1, 4)
    ]
    ab, ba = merge_states(s[0], s[1], "crdt"), merge_states(s[1], s[0], "crdt")
    assert ab == ba and len(ab.versions) == 1 and ab.result.value == 3
    assert merge_states(ab, ab, "crdt") == ab == merge_states(ab, s[0], "crdt")
    left = merge_states(ab, s[2], "crdt")
    right = merge_states(s[0], merge_states(s[1], s[2], "crdt"), "crdt")
    assert left == right and left.result.value == 6 and left.stamp == (3.0, 3, 3)


def test_versioned_crdt_is_accepted():
    world, _, store = _store(0, "crdt")
    proc = store.request("c1", "write", value=Versioned(GCounter().increment("c1")))
    world.run(until=1)
    assert proc.value.outcome == "ok" and store.get("n4", "x")[1].value == 1


# -- bad input, determinism ---------------------------------------------------------------------
@pytest.mark.parametrize("value", [3, "cart", None, {"a": 1}, Versioned(5)])
def test_a_value_without_merge_is_refused(value):
    world, _, store = _store(0, "crdt")
    with pytest.raises(ValueError, match=r"value=.* conflicts='crdt'.*merge"):
        store.request("c1", "write", value=value)
    assert store.writes == {}


def test_plain_values_still_work_in_the_other_modes():
    for conflicts in ("siblings", "lww"):
        world, _, store = _store(0, conflicts)
        store.request("c1", "write", value=3)
        world.run(until=1)
        assert store.values("x")["n2"] == 3


def test_bad_conflicts_names_the_choices():
    with pytest.raises(ValueError, match="conflicts='crdts'.*crdt"):
        _store(0, "crdts")


def test_same_seed_same_replicas():
    a = _partitioned_counter(3, "crdt", PNCounter(), sloppy=True)
    b = _partitioned_counter(3, "crdt", PNCounter(), sloppy=True)
    assert a.replicas == b.replicas and a.protocol.read_repairs == b.protocol.read_repairs


# -- the "ap" kind -------------------------------------------------------------------------------
def _ap_counter(seed, conflicts, empty=None, steps=10, skew=0.0):
    empty = GCounter() if empty is None else empty
    return _partitioned_counter(seed, conflicts, empty, steps, kind="ap", clock_skew_s=skew)


@pytest.mark.parametrize("skew", [0.0, 0.2])
@pytest.mark.parametrize("seed", range(4))
def test_ap_merges_crdts_and_last_writer_wins_loses(seed, skew):
    crdt = _ap_counter(seed, "crdt", skew=skew)
    lww = _ap_counter(seed, "lww", skew=skew)
    assert crdt.converged() and lww.converged()
    assert {v.value for v in crdt.values("x").values()} == {40}
    assert len({v.value for v in lww.values("x").values()}) == 1
    assert lww.values("x")["n1"].value < 40


@pytest.mark.parametrize("seed", range(4))
def test_ap_pn_counter_converges_to_every_update(seed):
    store = _ap_counter(seed, "crdt", PNCounter(), skew=0.1)
    assert store.converged()
    assert {v.value for v in store.values("x").values()} == {_expected(store)}


def test_ap_numbers_at_seed_0():
    crdt, lww = _ap_counter(0, "crdt"), _ap_counter(0, "siblings")  # "siblings": ap ignores it
    assert (crdt.values("x")["n1"].value, lww.values("x")["n1"].value) == (40, 18)


def test_ap_refuses_a_value_without_merge_and_same_seed_same_replicas():
    world = World(seed=0)
    store = ReplicatedStore(Network(world), "ap", nodes=2, conflicts="crdt")
    store.attach_client("c1", "n1")
    with pytest.raises(ValueError, match=r"value=3 cannot be written with conflicts='crdt'"):
        store.request("c1", "write", value=3)
    with pytest.raises(ValueError, match=r"value='b' cannot be written with conflicts='crdt'"):
        store.request("c1", "cas", value=(None, "b"))
    assert store.writes == {}
    a, b = (
        _ap_counter(2, "crdt", PNCounter(), skew=0.3),
        _ap_counter(2, "crdt", PNCounter(), 10, 0.3),
    )
    assert a.replicas == b.replicas


# -- a CRDT of another type over a key that holds one ------------------------------------------
def _crdt_store(kind):
    world = World(seed=0)
    net = Network(world, latency=0.01)
    store = ReplicatedStore(net, kind, nodes=3, conflicts="crdt")
    store.attach_client("c1", "n1")
    store.attach_client("c2", "n2")
    return world, store


@pytest.mark.parametrize("kind", ["leaderless", "ap"])
def test_another_crdt_type_over_a_key_is_refused_at_the_request(kind):
    world, store = _crdt_store(kind)
    store.request("c1", "write", value=ORSet().add("book", "c1"))
    world.run(until=1)
    written = dict(store.writes)
    pattern = r"key='x': the key holds a CRDT of type ORSet and a GCounter does not merge"
    with pytest.raises(ValueError, match=pattern):
        store.request("c2", "write", value=GCounter().increment("c2"))
    wrapped = Versioned(GCounter()) if kind == "leaderless" else GCounter()
    f, value = ("write", wrapped) if kind == "leaderless" else ("cas", (None, wrapped))
    with pytest.raises(ValueError, match=pattern):
        store.request("c1", f, value=value)
    world.run(until=2)  # nothing reached the replicas: no TypeError inside the simulation
    assert store.writes == written
    assert {cart.elements for cart in store.values("x").values()} == {frozenset({"book"})}


@pytest.mark.parametrize("kind", ["leaderless", "ap"])
def test_the_type_is_set_by_the_first_request_even_before_it_lands(kind):
    world, store = _crdt_store(kind)
    store.request("c1", "write", value=GCounter().increment("c1"))
    with pytest.raises(ValueError, match=r"key='x'.*type GCounter and a PNCounter"):
        store.request("c2", "write", value=PNCounter().increment("c2"))  # in flight together
    store.request("c2", "write", "y", PNCounter().decrement("c2"))  # another key, its own type
    world.run(until=1)
    assert {c.value for c in store.values("x").values()} == {1}
    assert {c.value for c in store.values("y").values()} == {-1}


@pytest.mark.parametrize("kind", ["leaderless", "ap"])
def test_a_crdt_of_the_same_type_still_merges(kind):
    world, store = _crdt_store(kind)
    store.request("c1", "write", value=ORSet().add("book", "c1"))
    store.request("c2", "write", value=ORSet().add("mug", "c2"))
    world.run(until=1)
    store.request("c1", "read")  # the leaderless kind's read repairs what the quorum missed
    world.run(until=2)
    carts = store.values("x")
    assert {cart.elements for cart in carts.values()} == {frozenset({"book", "mug"})}


def test_without_crdt_a_value_of_another_type_overwrites():
    world = World(seed=0)
    store = ReplicatedStore(Network(world, latency=0.01), "ap", nodes=2)
    store.attach_client("c1", "n1")
    store.request("c1", "write", value=GCounter())
    world.run(until=1)
    store.request("c1", "write", value=ORSet().add("book", "c1"))  # last-writer-wins: no merge
    world.run(until=2)
    assert {cart.elements for cart in store.values("x").values()} == {frozenset({"book"})}


@pytest.mark.parametrize("kind", sorted(set(ALL_STORE_KINDS) - {"leaderless", "ap"}))
def test_crdt_conflicts_are_refused_by_kinds_that_do_not_merge(kind):
    # asked of a kind whose replicas keep the newer stamp, it would be last-writer-wins silently
    with pytest.raises(ValueError, match=rf"conflicts='crdt' with kind='{kind}'"):
        ReplicatedStore(Network(World()), kind, nodes=3, conflicts="crdt")
    ReplicatedStore(Network(World()), kind, nodes=3, conflicts="lww")  # the others: as before
