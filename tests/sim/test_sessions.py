"""Client sessions on the primary store: read routing, session tokens, the four guarantees
enforced (never violated, whatever the lag, partition or failover), violations without them,
bad input, determinism."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab.history import History
from distlab.sessions import GUARANTEES, check_sessions
from distlab.sim import (
    BridgePartition,
    Crash,
    Exponential,
    FaultSchedule,
    Network,
    Partition,
    ReplicatedStore,
    World,
)
from distlab.sim.sessions import ClientSession, SessionLog, SessionOp, check_store_sessions
from distlab.sim.store_messages import SessionNeeds

FAULTS = ("none", "replica-cut", "replica-isolated", "crash-primary")


def _store(seed=0, nodes=3, lag_s=0.1, latency_s=0.005, failover_s=0.3):
    world = World(seed=seed)
    net = Network(world, latency=Exponential(latency_s))
    lag = Exponential(lag_s) if lag_s > 0 else 0.0
    store = ReplicatedStore(net, "primary", nodes, replication_lag=lag, failover_s=failover_s)
    return world, net, store


def _fault(net, store, fault, clients, at=0.3, span=0.6):
    names = store.names
    if fault == "replica-cut":
        f = BridgePartition(at, span, [names[0]], [*names[1:-1], *clients], [names[-1]])
    elif fault == "replica-isolated":
        f = Partition(at, span, [[names[-1]]])
    elif fault == "crash-primary":
        f = Crash(at, span, names[0])
    else:
        return
    FaultSchedule([f]).apply(net)


def _workload(seed, sessions, ops=15, keys=("x", "y"), think_s=0.03, read_share=0.6):
    """Each session does ``ops`` random reads and writes (unique values) on shared ``keys``."""
    world = sessions[0].store.world
    rng = np.random.default_rng(seed)
    plans = [
        [
            (
                "read" if rng.random() < read_share else "write",
                keys[int(rng.integers(len(keys)))],
                float(rng.exponential(think_s)),
            )
            for _ in range(ops)
        ]
        for _ in sessions
    ]

    def client(i, session):
        for n, (f, key, pause) in enumerate(plans[i]):
            yield world.env.timeout(pause)
            if f == "read":
                yield session.read(key)
            else:
                yield session.write(key, f"{session.client}-{n}")

    procs = [world.env.process(client(i, s)) for i, s in enumerate(sessions)]
    world.run(until=world.env.all_of(procs))


def _run(seed, routing="guaranteed", *, guarantees=None, fault="none", clients=3, nodes=3,
         lag_s=0.1, on_behind="wait", ops=15, wait_s=0.3):  # fmt: skip
    world, net, store = _store(seed, nodes=nodes, lag_s=lag_s)
    log = SessionLog()
    names = [f"c{i}" for i in range(1, clients + 1)]
    kw = {"guarantees": guarantees, "on_behind": on_behind, "wait_s": wait_s}
    kw = kw if routing == "guaranteed" else {}
    sessions = [ClientSession(store, c, routing=routing, log=log, **kw) for c in names]
    _fault(net, store, fault, names)
    _workload(seed, sessions, ops=ops)
    return store, log


# -- routing -------------------------------------------------------------------------------------


def test_primary_routing_reads_its_own_write_at_once():
    world, _, store = _store(lag_s=1.0)
    s = ClientSession(store, "c", routing="primary")

    def run():
        yield s.write("x", 1)
        op = yield s.read("x")
        assert (op.node, op.result) == ("n1", 1)

    world.env.process(run())
    world.run(until=0.5)
    assert [op.f for op in s.log.ops] == ["write", "read"]


def test_any_routing_misses_its_write_and_the_checker_says_so():
    world, _, store = _store(lag_s=1.0)
    s = ClientSession(store, "c", routing="any")

    def run():
        yield s.write("x", 1)
        yield s.read("x")

    world.env.process(run())
    world.run(until=0.5)
    read = s.log.ops[-1]
    assert read.node in ("n2", "n3") and read.outcome == "ok" and read.result is None
    report = check_sessions(s.history())
    assert not report.ok("read_your_writes")
    assert check_store_sessions(store, s.log).earliest("c", "read_your_writes") is not None


def test_sticky_routing_reads_one_replica():
    store, log = _run(1, "sticky", clients=1)
    nodes = {op.node for op in log.ops if op.f == "read"}
    assert len(nodes) == 1 and nodes < {"n2", "n3"}


def test_a_guaranteed_read_waits_for_the_replica_to_apply_the_write():
    world, _, store = _store(lag_s=0.2, latency_s=0.001)
    s = ClientSession(store, "c", routing="guaranteed", guarantees="read_your_writes", wait_s=2)

    def run():
        w = yield s.write("x", "mine")
        op = yield s.read("x")
        assert op.result == "mine" and op.needed == 1 and op.served_by != "n1"
        assert store.protocol.holds(op.served_by, (w.stamp[:2],))

    world.env.process(run())
    world.run(until=3)
    assert len(s.log.ops) == 2 and store.protocol.token_waits == 1


@pytest.mark.parametrize("on_behind, outcome, served_by", [
    ("error", "unavailable", "n3"), ("primary", "ok", "n1"), ("wait", "unavailable", "n3"),
])  # fmt: skip
def test_on_behind_when_the_replica_is_cut_off_from_the_primary(on_behind, outcome, served_by):
    world, net, store = _store(nodes=3, lag_s=0.01, latency_s=0.001)
    s = ClientSession(store, "c", routing="guaranteed", on_behind=on_behind, wait_s=0.2)
    # n3 gets no shipments; the client still reaches it
    FaultSchedule([BridgePartition(0, None, ["n1"], ["n2", "c"], ["n3"])]).apply(net)
    seen = []

    def run():
        yield s.write("x", 1)
        while True:
            op = yield s.read("x")
            if op.node == "n3":
                seen.append(op)
                return

    world.env.process(run())
    world.run(until=5)
    (op,) = seen
    assert (op.outcome, op.served_by, op.redirected) == (outcome, served_by, on_behind == "primary")
    if on_behind == "wait":
        assert op.latency_s >= 0.2
    else:
        assert op.latency_s < 0.05


def test_a_write_a_failover_lost_blocks_the_session_instead_of_vanishing():
    world, net, store = _store(lag_s=5.0, latency_s=0.001, failover_s=0.1)
    s = ClientSession(store, "c", routing="guaranteed", on_behind="error")
    FaultSchedule([Crash(0.1, None, "n1")]).apply(net)
    ops = []

    def run():
        ops.append((yield s.write("x", "lost")))
        yield world.env.timeout(1.0)  # the failover promotes n2 or n3, without the write
        for _ in range(6):  # from a random replica: the crashed n1 times out, the other refuses
            ops.append((yield s.read("x")))
        ops.append((yield s.write("x", "next")))

    world.env.process(run())
    world.run(until=9)
    assert len(store.protocol.failovers) == 1
    outcomes = [o.outcome for o in ops]
    assert outcomes[0] == "ok" and "ok" not in outcomes[1:]
    assert outcomes[-1] == "unavailable" and "unavailable" in outcomes[1:-1]
    assert [r.value for r in store.lost_acknowledged()] == ["lost"]
    assert check_store_sessions(store, s.log).ok()


def test_read_from_the_primary_loses_its_write_at_failover():
    """The course's "read from master: always up to date", false under failover."""
    world, net, store = _store(lag_s=5.0, latency_s=0.001, failover_s=0.1)
    s = ClientSession(store, "c", routing="primary")
    FaultSchedule([Crash(0.1, None, "n1")]).apply(net)

    def run():
        yield s.write("x", "lost")
        yield world.env.timeout(1.0)
        yield s.read("x")
        yield s.write("y", "after")

    world.env.process(run())
    world.run(until=3)
    read = s.log.ops[1]
    assert read.outcome == "ok" and read.result is None and read.node != "n1"
    report = check_store_sessions(store, s.log)
    assert not report.ok("read_your_writes") and not report.ok("monotonic_writes")
    assert report.earliest("c", "monotonic_writes").replica == read.node


# -- the guarantees hold -------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    guarantees=st.sets(st.sampled_from(GUARANTEES), min_size=1).map(sorted),
    fault=st.sampled_from(FAULTS),
    on_behind=st.sampled_from(("wait", "error", "primary")),
    lag_s=st.sampled_from((0.0, 0.02, 0.1, 0.3)),
    nodes=st.integers(2, 4),
)
def test_a_session_with_a_guarantee_on_never_violates_it(
    seed, guarantees, fault, on_behind, lag_s, nodes
):
    if fault in ("replica-cut", "replica-isolated") and nodes < 3:
        nodes = 3
    store, log = _run(seed, guarantees=guarantees, fault=fault, on_behind=on_behind,
                      lag_s=lag_s, nodes=nodes)  # fmt: skip
    report = check_store_sessions(store, log, guarantees=guarantees)
    assert report.ok(), report.violations[0].explanation


@pytest.mark.parametrize("fault", FAULTS)
def test_all_four_hold_over_many_seeds(fault):
    for seed in range(8):
        store, log = _run(seed, fault=fault, lag_s=0.2)
        assert check_store_sessions(store, log).ok(), (fault, seed)
        ok = sum(op.outcome == "ok" for op in log.ops)
        # a session that needs a write the failover lost is refused from then on
        assert ok > (0 if fault == "crash-primary" else len(log.ops) // 2)


@pytest.mark.parametrize("fault", FAULTS)
def test_reading_any_replica_with_lag_violates(fault):
    found = {g: 0 for g in GUARANTEES}
    for seed in range(6):
        store, log = _run(seed, "any", fault=fault, lag_s=0.2)
        for g, n in check_store_sessions(store, log).violated().items():
            found[g] += n
    assert found["read_your_writes"] > 0 and found["monotonic_reads"] > 0


def test_failover_under_read_from_the_primary_violates_all_four():
    found = {g: 0 for g in GUARANTEES}
    for seed in range(10):
        store, log = _run(seed, "primary", fault="crash-primary", lag_s=0.3, ops=25)
        for g, n in check_store_sessions(store, log).violated().items():
            found[g] += n
    assert all(found.values()), found


# -- history, determinism, bad input -------------------------------------------------------------


def test_the_history_is_the_checkers_and_has_a_process_per_client():
    store, log = _run(3, "any")
    h = log.history()
    assert isinstance(h, History) and len(h) == len(log.ops)
    assert {op.process for op in h} == {"c1", "c2", "c3"}
    assert len(log.history("c1")) == sum(op.client == "c1" for op in log.ops)
    frame = log.to_frame()
    assert len(frame) == len(log.ops) and "latency_s" in frame.columns


def test_same_seed_same_sessions():
    a = _run(5, fault="replica-cut", lag_s=0.2)[1].to_frame()
    b = _run(5, fault="replica-cut", lag_s=0.2)[1].to_frame()
    assert a.equals(b)
    c = _run(6, fault="replica-cut", lag_s=0.2)[1].to_frame()
    assert not a.equals(c)


def test_token_records_the_latest_position_per_key():
    world, _, store = _store(lag_s=0.0)
    s = ClientSession(store, "c", routing="guaranteed")

    def run():
        yield s.write("x", 1)
        yield s.write("x", 2)
        yield s.read("y")

    world.env.process(run())
    world.run(until=1)
    assert s.token() == {"writes": {"x": (1, 2)}, "reads": {}}


def test_bad_input():
    _, _, store = _store()
    with pytest.raises(ValueError, match="guarantees item='read_your_write' is not one of"):
        ClientSession(store, "c", guarantees=["read_your_write"])
    with pytest.raises(ValueError, match="routing='nearest' is not one of"):
        ClientSession(store, "c", routing="nearest")
    with pytest.raises(ValueError, match="on_behind='retry' is not one of"):
        ClientSession(store, "c", on_behind="retry")
    with pytest.raises(ValueError, match="only with routing='guaranteed'"):
        ClientSession(store, "c", routing="any", guarantees="monotonic_reads")
    with pytest.raises(ValueError, match="replica='n2' is only for routing='sticky'"):
        ClientSession(store, "c", routing="any", replica="n2")
    with pytest.raises(ValueError, match="replica='n9' is not one of"):
        ClientSession(store, "c", routing="sticky", replica="n9")
    with pytest.raises(ValueError, match="wait_s=-1 must be"):
        ClientSession(store, "c", wait_s=-1)
    with pytest.raises(ValueError, match="timeout_s=0 must be"):
        ClientSession(store, "c", timeout_s=0)
    with pytest.raises(TypeError, match="rng=1 must be"):
        ClientSession(store, "c", rng=1)
    with pytest.raises(TypeError, match="log=.* must be a SessionLog"):
        ClientSession(store, "c", log=[])
    with pytest.raises(TypeError, match="store=None must be"):
        ClientSession(None, "c")
    cp = ReplicatedStore(Network(World()), "cp", nodes=3)
    with pytest.raises(ValueError, match="kind='cp' must be 'primary'"):
        ClientSession(cp, "c")
    s = ClientSession(store, "c")
    with pytest.raises(ValueError, match="value=None"):
        s.write("x", None)
    with pytest.raises(TypeError, match="key=1 must be a string"):
        s.read(1)
    with pytest.raises(TypeError, match="op=1 must be a SessionOp"):
        SessionLog().add(1)
    with pytest.raises(TypeError, match="applied=1 must be"):
        check_store_sessions(store, s.log, applied=1)
    with pytest.raises(TypeError, match="log=None must be a SessionLog"):
        check_store_sessions(store, None)


def test_needs_are_checked_by_the_store():
    _, _, store = _store()
    store.attach_client("c", "n1")
    with pytest.raises(TypeError, match="needs=.* must be a SessionNeeds"):
        store.request("c", "read", needs=((1, 1),))
    with pytest.raises(ValueError, match="needs.wait_s=-1 must be"):
        store.request("c", "read", needs=SessionNeeds(((1, 1),), wait_s=-1))
    with pytest.raises(TypeError, match="needs.positions item=\\(1,\\) must be"):
        store.request("c", "read", needs=SessionNeeds(((1,),)))
    ap = ReplicatedStore(Network(World()), "ap", nodes=2)
    ap.attach_client("c", "n1")
    with pytest.raises(ValueError, match="needs= is not supported by kind='ap'"):
        ap.request("c", "read", needs=SessionNeeds())


def test_session_op_latency():
    op = SessionOp("c", "read", "x", None, "n2", "n2", "ok", 1, (1, 1, 1), 1.0, 1.5, 0, False,
                   "ok")  # fmt: skip
    assert op.latency_s == 0.5


ODD = [0, -1, 2**63, 1e308, -0.0, 5e-324, float("inf"), float("nan"), True, None, "1", [1]]


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["routing", "guarantees", "on_behind", "wait_s", "timeout_s", "replica"]),
    value=st.sampled_from(ODD),
)
def test_fuzz_session_arguments_are_refused_by_name_or_work(name, value):
    world, _, store = _store(lag_s=0.05)
    try:
        s = ClientSession(store, "c", **{name: value})
    except (ValueError, TypeError) as error:
        assert f"{name}=" in str(error) or f"{name} item=" in str(error), str(error)
        return
    s.write("x", 1)
    world.run(until=1)
    assert all(np.isfinite(op.latency_s) for op in s.log.ops)
