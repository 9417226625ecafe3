"""Primary/replica replication: lag, stale replica reads, failover losing acknowledged writes,
semi-synchronous and synchronous replication, session guarantees, bad input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.history import History
from distlab.sessions import check_sessions
from distlab.sim import Crash, Exponential, FaultSchedule, Network, ReplicatedStore, World

SEEDS = range(20)


def _store(seed=0, nodes=3, **kw):
    world = World(seed=seed)
    net = Network(world, latency=0.005)
    store = ReplicatedStore(net, "primary", nodes=nodes, **kw)
    store.attach_client("c1", store.names[0])
    return world, net, store


def _session(world, store, ops, client="c1", think_s=0.02):
    """Run ``ops`` ((f, value, node), ...) one after the other from ``client``; the results."""
    results = []

    def run():
        for f, value, node in ops:
            r = yield store.request(client, f, value=value, node=node)
            results.append(r)
            yield world.env.timeout(think_s)

    world.env.process(run())
    return results


def _history(results):
    events = []
    for r in results:
        events.append((r.start, r.client, "invoke", r.f, r.key, r.value))
        events.append((r.end, r.client, r.type, r.f, r.key, r.result))
    return History.from_events(sorted(events, key=lambda e: e[0]))


def _crash_run(replication, seed, lag_s=0.2, writes=30, crash_at=0.5):
    world, net, store = _store(
        seed, replication=replication, replication_lag=Exponential(lag_s), failover_s=0.3
    )
    FaultSchedule([Crash(crash_at, 2.0, "n1")]).apply(net)
    ops = [("write", i, "n1") for i in range(writes)]
    results = _session(world, store, ops, think_s=0.01)
    world.run(until=6.0)
    return store, results


def test_write_is_acknowledged_before_the_replicas_apply_it():
    world, _, store = _store(replication_lag=0.5)
    results = _session(world, store, [("write", "a", "n1")])
    world.run(until=0.1)
    assert results[0].outcome == "ok"
    assert store.values() == {"n1": "a", "n2": None, "n3": None}
    world.run(until=1.0)
    assert store.values() == {"n1": "a", "n2": "a", "n3": "a"}
    assert [e.lsn for e in store.protocol.logs["n2"]] == [1]


def test_replicas_apply_in_log_order_whatever_the_lag():
    world, _, store = _store(seed=3, replication_lag=Exponential(0.1))
    _session(world, store, [("write", i, "n1") for i in range(40)], think_s=0.0)
    world.run(until=20.0)
    for node in store.names:
        assert [e.lsn for e in store.protocol.logs[node]] == list(range(1, 41))
        assert store.values()[node] == 39


def test_same_seed_same_run():
    def run(seed):
        store, results = _crash_run("async", seed)
        return [(r.outcome, r.stamp, r.end) for r in results], store.protocol.failovers

    assert run(4) == run(4)
    assert run(4) != run(5)


def test_a_read_from_a_lagging_replica_is_stale():
    world, _, store = _store(replication_lag=0.3)
    ops = [("write", "v1", "n1"), ("read", None, "n2"), ("read", None, "n1")]
    results = _session(world, store, ops)
    world.run(until=1.0)
    assert [r.result for r in results[1:]] == [None, "v1"]
    world.run(until=2.0)
    late = _session(world, store, [("read", None, "n2")])
    world.run(until=3.0)
    assert late[0].result == "v1"


def test_reads_from_a_crashed_replica_time_out():
    world, net, store = _store()
    net.crash("n2")
    results = _session(world, store, [("read", None, "n2")])
    world.run(until=1.0)
    assert results[0].outcome == "timeout"


def test_a_write_sent_to_a_replica_is_forwarded_to_the_primary():
    world, _, store = _store(replication_lag=0.2)
    results = _session(world, store, [("write", "v", "n3")])
    world.run(until=0.1)
    assert results[0].outcome == "ok"
    assert store.values() == {"n1": "v", "n2": None, "n3": None}


def test_failover_promotes_the_most_up_to_date_replica():
    world, net, store = _store(nodes=3, replication_lag=0.05, failover_s=0.2)
    net.set_link("n1", "n3", latency=0.5)  # n3 receives the log late
    _session(world, store, [("write", i, "n1") for i in range(5)], think_s=0.01)
    world.run(until=0.3)
    net.crash("n1")
    world.run(until=1.0)
    (at, old, new), *_ = store.protocol.failovers
    assert (old, new, store.protocol.term) == ("n1", "n2", 2)
    assert 0.5 <= at <= 0.55  # seen down by 0.32, promoted 0.2 s later
    late = _session(world, store, [("write", "after", "n2"), ("read", None, "n3")], think_s=0.2)
    world.run(until=2.0)
    assert late[0].outcome == "ok"
    assert late[1].result == "after"


@pytest.mark.parametrize("seed", SEEDS)
def test_async_failover_loses_acknowledged_writes(seed):
    store, results = _crash_run("async", seed)
    lost = store.lost_acknowledged()
    assert lost, "a primary crash under async replication with lag loses acknowledged writes"
    acked = {r.result if r.f == "read" else r.value for r in results if r.type == "ok"}
    new = store.protocol.failovers[0][2]
    for rec in lost:
        assert rec.acked and rec.value in acked and rec.end <= 0.5
        assert rec.value not in [e.value for e in store.protocol.logs[new]]
    # the old primary rejoined: its divergent suffix is gone, everyone holds the new log
    assert store.protocol.logs["n1"] == store.protocol.logs[new]
    assert store.converged()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("replication", ["semi-sync", "sync"])
def test_semi_sync_and_sync_lose_no_acknowledged_write(seed, replication):
    store, results = _crash_run(replication, seed)
    assert store.protocol.failovers
    assert store.lost_acknowledged() == []
    new_log = [e.value for e in store.protocol.logs[store.protocol.primary]]
    for r in results:
        if r.type == "ok":
            assert r.value in new_log


def test_semi_sync_costs_latency():
    def mean_latency(replication):
        total = []
        for seed in range(5):
            world, _, store = _store(
                seed, replication=replication, replication_lag=Exponential(0.02)
            )
            results = _session(world, store, [("write", i, "n1") for i in range(20)])
            world.run(until=5.0)
            assert all(r.outcome == "ok" for r in results)
            total += [r.end - r.start for r in results]
        return sum(total) / len(total)

    fast, semi, sync = (mean_latency(m) for m in ("async", "semi-sync", "sync"))
    assert fast < semi < sync
    assert fast == pytest.approx(0.01)  # one round trip to the primary


def test_sync_without_a_replica_is_unavailable_and_async_is_not():
    for replication, outcome in (("sync", "unavailable"), ("async", "ok")):
        world, net, store = _store(replication=replication)
        net.crash("n3")
        results = _session(world, store, [("write", "v", "n1")])
        world.run(until=1.0)
        assert results[0].outcome == outcome


def test_cas_at_the_primary():
    world, _, store = _store()
    ops = [("write", 1, "n1"), ("cas", (1, 2), "n1"), ("cas", (1, 3), "n1"), ("read", None, "n1")]
    results = _session(world, store, ops)
    world.run(until=1.0)
    assert [r.type for r in results] == ["ok", "ok", "fail", "ok"]
    assert results[-1].result == 2


def _versions(store):
    return {("x", rec.value): rec.stamp for rec in store.writes.values()}


@pytest.mark.parametrize("seed", range(10))
def test_read_your_writes_from_the_primary_holds(seed):
    world, _, store = _store(seed, replication_lag=Exponential(0.2))
    ops = [(f, i if f == "write" else None, "n1") for i in range(15) for f in ("write", "read")]
    results = _session(world, store, ops)
    world.run(until=5.0)
    report = check_sessions(_history(results), versions=_versions(store))
    assert report.ok("read_your_writes") and report.ok("monotonic_reads")


@pytest.mark.parametrize("seed", range(10))
def test_read_your_writes_from_a_replica_is_violated(seed):
    world, _, store = _store(seed, replication_lag=Exponential(0.2))
    ops = [
        (f, i if f == "write" else None, n)
        for i in range(15)
        for f, n in (("write", "n1"), ("read", "n2"))
    ]
    results = _session(world, store, ops)
    world.run(until=5.0)
    report = check_sessions(_history(results), versions=_versions(store))
    v = report.earliest("c1", "read_your_writes")
    assert v is not None
    assert report.ok("monotonic_writes")


def test_bad_input_is_rejected_by_name():
    net = Network(World())
    with pytest.raises(ValueError, match="replication_lag=-0.1"):
        ReplicatedStore(net, "primary", replication_lag=-0.1)
    with pytest.raises(TypeError, match="replication_lag="):
        ReplicatedStore(net, "primary", replication_lag="slow")
    with pytest.raises(ValueError, match="replication='semisync'"):
        ReplicatedStore(net, "primary", replication="semisync")
    with pytest.raises(ValueError, match="failover_s=-1"):
        ReplicatedStore(net, "primary", failover_s=-1)
    with pytest.raises(ValueError, match="anti_entropy_s=0.1"):
        ReplicatedStore(net, "primary", anti_entropy_s=0.1)
    world, _, store = _store()
    with pytest.raises(ValueError, match="node='n9'"):
        store.request("c1", "read", node="n9")


def test_a_primary_back_before_the_failover_stays_primary_and_replicas_catch_up():
    world, net, store = _store(replication_lag=0.3, failover_s=1.0)
    _session(world, store, [("write", i, "n1") for i in range(3)])
    world.run(until=0.1)
    net.crash("n1")
    world.run(until=0.5)  # what was on its way was dropped with the crash
    assert store.values() == {"n1": 2, "n2": None, "n3": None}
    net.restart("n1")
    world.run(until=2.0)
    assert store.protocol.failovers == [] and store.protocol.primary == "n1"
    assert store.values() == {"n1": 2, "n2": 2, "n3": 2}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    crash_at=st.floats(0.05, 0.6),
    down_s=st.floats(0.1, 2.0),
    lag_s=st.floats(0.001, 0.5),
    replication=st.sampled_from(["async", "semi-sync", "sync"]),
)
def test_after_any_single_crash_logs_agree_and_semi_sync_loses_no_acknowledged_write(
    seed, crash_at, down_s, lag_s, replication
):
    world, net, store = _store(
        seed, replication=replication, replication_lag=Exponential(lag_s), failover_s=0.3
    )
    FaultSchedule([Crash(crash_at, down_s, "n1")]).apply(net)
    results = _session(world, store, [("write", i, "n1") for i in range(30)], think_s=0.01)
    world.run(until=20.0)
    if replication != "async":
        assert store.lost_acknowledged() == []
    logs = store.protocol.logs
    assert logs["n1"] == logs["n2"] == logs["n3"]
    kept = {e.value for e in logs["n1"]}
    lost = {rec.value for rec in store.lost_acknowledged()}
    assert {r.value for r in results if r.type == "ok"} <= kept | lost  # every ack accounted for
    assert not kept & lost
