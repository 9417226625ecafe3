"""RecordingStore: when each node applied each version, once per node and version."""

from __future__ import annotations

import pytest

from distlab.sim import Crash, FaultSchedule, Network, RecordingStore, ReplicatedStore, World


def _write(world, store, values, think_s=0.01):
    def client():
        for v in values:
            yield store.request("c1", "write", value=v)
            yield world.env.timeout(think_s)

    world.env.process(client())


def test_each_apply_is_recorded_once_per_node_in_log_order():
    world = World(seed=2)
    store = RecordingStore(Network(world, latency=0.005), "primary", nodes=3,
                           replication_lag=0.05)  # fmt: skip
    store.attach_client("c1", "n1")
    _write(world, store, range(5))
    world.run(until=2.0)
    applied = store.applied_frame()
    assert isinstance(store, ReplicatedStore)
    assert len(applied) == 15 and not applied.duplicated(["node", "stamp"]).any()
    for _node, rows in applied.groupby("node"):
        assert rows["value"].tolist() == list(range(5))
        assert rows["time"].is_monotonic_increasing
    first = applied.drop_duplicates("stamp")
    assert set(first["node"]) == {"n1"}  # the primary applies first, then ships


def test_a_rebuilt_replica_is_not_recorded_twice_and_a_discarded_version_stays_noted():
    world = World(seed=0)
    net = Network(world, latency=0.005)
    store = RecordingStore(net, "primary", nodes=3, replication_lag=0.3, failover_s=0.2)
    store.attach_client("c1", "n1")
    FaultSchedule([Crash(0.2, 0.5, "n1")]).apply(net)
    _write(world, store, range(6))
    world.run(until=3.0)
    applied = store.applied_frame()
    assert not applied.duplicated(["node", "stamp"]).any()
    lost = {rec.stamp for rec in store.lost_acknowledged()}
    assert lost and lost <= set(applied.loc[applied["node"] == "n1", "stamp"])
    assert store.converged()


def test_other_kinds_record_too_and_bad_input_is_the_stores():
    world = World(seed=1)
    store = RecordingStore(Network(world, latency=0.005), "ap", nodes=3)
    store.attach_client("c1", "n1")
    _write(world, store, ["a"])
    world.run(until=1.0)
    assert sorted(store.applied_frame()["node"]) == ["n1", "n2", "n3"]
    with pytest.raises(ValueError, match="kind='primry'"):
        RecordingStore(Network(World()), "primry")
