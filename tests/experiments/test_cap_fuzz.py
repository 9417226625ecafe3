"""Every public callable of the CAP vertical, fed extreme, wrong or nonsense values: each call
either works and gives finite results, or raises ValueError/TypeError naming the parameter."""

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab import exercises
from distlab.experiments import cap
from distlab.sim import BridgePartition, FaultSchedule, Network, ReplicatedStore, World

WEIRD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2, 3, 10**6, 10**30, -(10**30), 5e-324, 1e308, 0.5, 59.9]),
    st.integers(-(10**20), 10**20),
    st.none(),
    st.booleans(),
    st.text(max_size=4),
    st.sampled_from(["cp", "ap", "none", "bridge", "x", (), ("cp",), [1, 2], {"a": 1}]),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# fast defaults; each example changes one parameter to a weird value
RUN_BASE = dict(think_s=1.0, check=False)
RUN_PARAMS = [
    "store",
    "nodes",
    "partition",
    "partition_at_s",
    "partition_s",
    "after_s",
    "settle_s",
    "clients",
    "read_share",
    "cas_share",
    "keys",
    "think_s",
    "latency_s",
    "loss",
    "timeout_s",
    "phase_timeout_s",
    "clock_skew_s",
    "anti_entropy_s",
    "check",
    "check_max_steps",
    "log_messages",
    "seed",
]
# columns that are NaN by definition when there is nothing to count
MAY_BE_NAN = ("availability", "converged_at_s", "convergence_s")


def _names_a_parameter(exc: Exception, *names: str) -> bool:
    text = str(exc)
    return any(f"{name}=" in text or f"{name}:" in text or f"{name}[" in text for name in names)


def _finite_summary(summary: pd.DataFrame) -> None:
    for column, value in summary.iloc[0].items():
        if isinstance(value, (bool, np.bool_, str)):
            continue
        assert not math.isinf(value), (column, value)
        assert not math.isnan(value) or column.startswith(MAY_BE_NAN), (column, value)


@FUZZ
@given(param=st.sampled_from(RUN_PARAMS), value=WEIRD)
def test_run(param, value):
    kwargs = {**RUN_BASE, param: value}
    if param == "think_s" and isinstance(value, (int, float)) and 0 < value < 0.01:
        kwargs["think_s"] = 0.001  # stays quick: refused by the work bound
    try:
        r = cap.run(**kwargs)
    except (ValueError, TypeError) as exc:
        # a weird value may make another parameter's rule fail (e.g. nodes=2 for a partition)
        assert _names_a_parameter(exc, param, "nodes", "clients"), exc
        return
    _finite_summary(r.summary)
    assert np.isfinite(r.frame[["start", "end"]].to_numpy(float)).all()


@FUZZ
@given(partition=WEIRD, nodes=WEIRD)
def test_partition_groups(partition, nodes):
    try:
        sides = cap.partition_groups(partition, nodes)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, "partition", "nodes"), exc
        return
    assert sum(len(names) for _, names in sides) == nodes


@FUZZ
@given(use_case=WEIRD, field=st.sampled_from(["lost_writes", "unavailable", "timeout"]), v=WEIRD)
def test_consequences(use_case, field, v):
    summary = {"lost_writes": 1, "stale_reads": 0, field: v}
    try:
        table = cap.consequences(use_case, summary)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, "use_case", "summary"), exc
        return
    assert table["count"].map(math.isfinite).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(param=st.sampled_from(["use_case", "stores", "partition", "seed"]), value=WEIRD)
def test_compare_use_case(param, value):
    kwargs = {"use_case": "banking", "stores": ("cp",), "think_s": 1.0, param: value}
    try:
        r = cap.compare_use_case(**kwargs)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, param, "nodes"), exc
        return
    assert r.frame["count"].map(math.isfinite).all()


STORE_PARAMS = ["kind", "nodes", "phase_timeout_s", "anti_entropy_s", "clock_skew_s", "rng"]
PRIMARY_PARAMS = ["replication_lag", "replication", "failover_s"]
LEADERLESS_PARAMS = ["n", "r", "w", "read_repair", "sloppy", "conflicts"]


@FUZZ
@given(param=st.sampled_from(STORE_PARAMS + PRIMARY_PARAMS + LEADERLESS_PARAMS), value=WEIRD)
def test_replicated_store(param, value):
    kind = "primary" if param in PRIMARY_PARAMS else "ap"
    kind = "leaderless" if param in LEADERLESS_PARAMS else kind
    kwargs = {"kind": kind, "nodes": 3, param: value}
    world = World(seed=1)
    net = Network(world, latency=0.01)
    try:
        store = ReplicatedStore(net, **kwargs)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, param), exc
        return
    store.attach_client("c", store.names[0])
    proc = store.request("c", "write", "x", 1)
    world.run(until=1.0)
    assert proc.value.outcome in {"ok", "unavailable", "timeout"}
    assert all(math.isfinite(offset) for offset in store.clock_offset.values())


@FUZZ
@given(
    param=st.sampled_from(["client", "f", "key", "value", "timeout_s", "node", "after"]),
    value=WEIRD,
)
def test_store_requests(param, value):
    world = World(seed=1)
    store = ReplicatedStore(Network(world, latency=0.01), "course-quorum", 3)
    args = {"client": "c", "f": "write", "key": "x", "value": 1, "timeout_s": 0.5, "node": "n1"}
    try:
        if param == "after":
            store.watch_convergence(value)
            return
        args[param] = value
        store.attach_client(args["client"], args["node"])
        proc = store.request(
            args["client"], args["f"], args["key"], args["value"], timeout_s=args["timeout_s"]
        )
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, param, "client", "value"), exc
        return
    world.run(until=2.0)
    assert proc.value.outcome in {"ok", "unavailable", "timeout"}


@FUZZ
@given(param=st.sampled_from(["at", "duration", "left", "bridge", "right"]), value=WEIRD)
def test_bridge_partition(param, value):
    kwargs = {"at": 0.5, "duration": 1.0, "left": ["a"], "bridge": ["b"], "right": ["c"]}
    kwargs[param] = value
    world = World()
    net = Network(world)
    for name in "abc":
        net.add_node(name)
    try:
        FaultSchedule([BridgePartition(**kwargs)]).apply(net)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, param), exc
        return
    world.run(until=5.0)


@FUZZ
@given(a=WEIRD, b=WEIRD)
def test_exercise_checks(a, b):
    try:
        result = exercises.check_majority(a, b)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc, "nodes", "answer"), exc
        return
    assert result.passed in (True, False, None) and isinstance(result.message, str)


def test_the_fuzzed_parameter_lists_are_complete():
    import inspect

    assert set(RUN_PARAMS) == set(inspect.signature(cap.run).parameters)
    store_params = set(inspect.signature(ReplicatedStore).parameters) - {"net"}
    assert set(STORE_PARAMS + PRIMARY_PARAMS + LEADERLESS_PARAMS) == store_params
