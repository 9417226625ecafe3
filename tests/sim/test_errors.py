"""Bad input raises ValueError/TypeError naming the parameter, the value and what is allowed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from distlab.sim import (
    Constant,
    Crash,
    Down,
    Exponential,
    FaultSchedule,
    Flaky,
    HealthSchedule,
    LogNormal,
    LossBurst,
    Message,
    Mixture,
    Network,
    Normal,
    Pareto,
    Partition,
    Service,
    Slow,
    SlowNode,
    Uniform,
    Up,
    World,
    as_distribution,
    call,
    respond,
)


def raises(exc, text):
    return pytest.raises(exc, match=re.escape(text))


# -- world -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "seed, exc, text",
    [
        (1.5, TypeError, "seed=1.5 must be an int (got float)"),
        ("7", TypeError, "seed='7' must be an int (got str)"),
        (True, TypeError, "seed=True must be an int (got bool)"),
        (None, TypeError, "seed=None must be an int"),
        (-1, ValueError, "seed=-1 must be a non-negative integer"),
    ],
)
def test_bad_seed(seed, exc, text):
    with raises(exc, text):
        World(seed=seed)


def test_bad_run_until(world):
    world.run(until=2)
    with raises(ValueError, "until=1 must be at least 2"):
        world.run(until=1)
    with raises(TypeError, "until='soon' must be a number"):
        world.run(until="soon")
    with raises(ValueError, "until=nan must be a finite number"):
        world.run(until=float("nan"))


def test_bad_log_kind(world):
    with raises(TypeError, "kind='' must be a non-empty string"):
        world.log("")


# -- distributions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, exc, text",
    [
        (lambda: Constant(-1), ValueError, "value=-1 must be at least 0"),
        (lambda: Constant("fast"), TypeError, "value='fast' must be a number"),
        (lambda: Uniform(-1, 1), ValueError, "low=-1 must be at least 0"),
        (lambda: Uniform(2, 1), ValueError, "high=1 must be at least low=2"),
        (lambda: Exponential(mean=-1), ValueError, "mean=-1 must be greater than 0"),
        (lambda: Exponential(mean=0), ValueError, "mean=0 must be greater than 0"),
        (lambda: Exponential(mean=float("inf")), ValueError, "mean=inf must be a finite number"),
        (lambda: Normal(-0.01, 0.002), ValueError, "mean=-0.01 must be at least 0"),
        (lambda: Normal(0.01, -1), ValueError, "sd=-1 must be at least 0"),
        (lambda: LogNormal(0, 1), ValueError, "median=0 must be greater than 0"),
        (lambda: LogNormal(1, -1), ValueError, "sigma=-1 must be at least 0"),
        (lambda: Pareto(0, 2), ValueError, "scale=0 must be greater than 0"),
        (lambda: Pareto(1, -2), ValueError, "alpha=-2 must be greater than 0"),
        (lambda: Mixture([]), ValueError, "components=[] must hold at least one"),
        (lambda: Mixture("abc"), TypeError, "components='abc' must be a list of (weight, "),
        (lambda: Mixture([(1,)]), TypeError, "components[0]=(1,) must be a (weight, distribution)"),
        (lambda: Mixture([(-1, 1)]), ValueError, "components[0] weight=-1 must be at least 0"),
        (lambda: Mixture([(0, 1), (0, 2)]), ValueError, "weights=[0.0, 0.0] must have a positive"),
        (lambda: Mixture([(1, "x")]), TypeError, "components[0] distribution='x' must be a number"),
        (lambda: as_distribution("fast"), TypeError, "latency='fast' must be a number of seconds"),
        (lambda: as_distribution(-0.1), ValueError, "latency=-0.1 must be at least 0"),
    ],
)
def test_bad_distribution(make, exc, text):
    with raises(exc, text):
        make()


def test_bad_sample_arguments():
    with raises(ValueError, "size=-1 must be None or a non-negative integer"):
        Constant(1).sample(np.random.default_rng(0), size=-1)
    with raises(TypeError, "rng=0 must be a numpy.random.Generator"):
        Constant(1).sample(0)


# -- network ---------------------------------------------------------------------------------------
def test_bad_network_arguments(world):
    with raises(TypeError, "world=0 must be a distlab.sim.World"):
        Network(0)
    with raises(ValueError, "loss=1.5 must be between 0 and 1"):
        Network(world, loss=1.5)
    with raises(ValueError, "loss=-0.1 must be between 0 and 1"):
        Network(world, loss=-0.1)
    with raises(TypeError, "loss='high' must be a number between 0 and 1"):
        Network(world, loss="high")
    with raises(ValueError, "latency=-0.01 must be at least 0"):
        Network(world, latency=-0.01)


def test_bad_node_names(world, net):
    with raises(ValueError, "name='a' is already a node of this network"):
        net.add_node("a")
    with raises(TypeError, "name=3 must be a non-empty string"):
        net.add_node(3)
    with raises(ValueError, "src='zz' is not one of 'a', 'b', 'c', 'd'"):
        net.send("zz", "a")
    with raises(ValueError, "dst='zz' is not one of 'a', 'b', 'c', 'd'"):
        net.send("a", "zz")
    with raises(ValueError, "node='zz' is not one of 'a', 'b', 'c', 'd'"):
        net.node("zz")
    with raises(ValueError, "node='zz' is not one of"):
        net.crash("zz")
    with raises(ValueError, "node='zz' is not one of"):
        net.restart("zz")
    with raises(ValueError, "dst='zz' is not one of"):
        net.set_link("a", "zz", latency=1)
    with raises(ValueError, "src='a' is not a node: the network has no nodes yet"):
        Network(world).send("a", "b")


def test_bad_link_and_loss(net):
    with raises(ValueError, "loss=1.5 must be between 0 and 1"):
        net.set_link("a", "b", loss=1.5)
    with raises(ValueError, "latency=-1 must be at least 0"):
        net.set_link("a", "b", latency=-1)
    with raises(ValueError, "loss=2 must be between 0 and 1"):
        net.set_loss(2)


def test_bad_slow(net):
    with raises(ValueError, "factor=0 must be greater than 0"):
        net.slow("a", 0)
    with raises(ValueError, "factor=-2 must be greater than 0"):
        net.slow("a", -2)
    with raises(ValueError, "node='q' is not one of"):
        net.slow("q", 2)


def test_bad_partitions(net):
    with raises(ValueError, "groups: node='a' appears in groups[0] and groups[1]; each node may"):
        net.partition(["a", "b"], ["a", "c"])
    with raises(ValueError, "groups: node='b' appears in groups[0] and groups[0]"):
        net.partition(["b", "b"])
    with raises(ValueError, "groups[1] node='x' is not one of 'a', 'b', 'c', 'd'"):
        net.partition(["a"], ["x"])
    with raises(ValueError, "groups=() is empty: partition() needs at least one group"):
        net.partition()
    with raises(ValueError, "groups[0]=[] is empty: each group needs at least one node"):
        net.partition([])
    with raises(TypeError, "groups[0]=3 must be a node name or a list of names"):
        net.partition(3)
    assert net.groups is None  # a failed partition() changes nothing


# -- rpc and services ------------------------------------------------------------------------------
def test_bad_call(net):
    with raises(ValueError, "timeout_s=0 must be greater than 0"):
        call(net, "a", "b", timeout_s=0)
    with raises(ValueError, "timeout_s=-1 must be greater than 0"):
        call(net, "a", "b", timeout_s=-1)
    with raises(ValueError, "dst='nope' is not one of"):
        call(net, "a", "nope")
    with raises(TypeError, "net='net' must be a distlab.sim.Network"):
        call("net", "a", "b")
    with raises(TypeError, "message.payload='x' must be a Request (sent by call())"):
        respond(net, Message(0, "a", "b", "x", 0.0))


def test_bad_service(net):
    with raises(ValueError, "concurrency=0 must be at least 1"):
        Service(net, "s1", concurrency=0)
    with raises(TypeError, "concurrency=1.5 must be an integer"):
        Service(net, "s1", concurrency=1.5)
    with raises(ValueError, "queue_limit=-1 must be at least 0"):
        Service(net, "s1", concurrency=1, queue_limit=-1)
    with raises(ValueError, "queue_limit=3 needs a concurrency limit"):
        Service(net, "s1", queue_limit=3)
    with raises(ValueError, "service_time=-0.5 must be at least 0"):
        Service(net, "s1", service_time=-0.5)
    with raises(TypeError, "handler=5 must be callable(request) or None"):
        Service(net, "s1", handler=5)
    with raises(TypeError, "health='up' must be a HealthSchedule or a state"):
        Service(net, "s1", health="up")
    with raises(TypeError, "net=None must be a distlab.sim.Network"):
        Service(None, "s1")
    Service(net, "s2")
    with raises(ValueError, "name='s2' already has a message handler"):
        Service(net, "s2")


def test_bad_health():
    with raises(ValueError, "factor=0 must be greater than 0"):
        Slow(0)
    with raises(ValueError, "error_rate=1.5 must be between 0 and 1"):
        Flaky(1.5)
    with raises(ValueError, "changes[1] start_time=1 must be greater than the previous start_"):
        HealthSchedule([(2, Up()), (1, Down())])
    with raises(ValueError, "changes[0] start_time=-1 must be at least 0"):
        HealthSchedule([(-1, Up())])
    with raises(TypeError, "changes[0] state='down' must be Up(), Down(), Slow(factor)"):
        HealthSchedule([(0, "down")])
    with raises(TypeError, "changes[0]=5 must be a (start_time, state) pair"):
        HealthSchedule([5])
    with raises(ValueError, "changes=[] must hold at least one (start_time, state) pair"):
        HealthSchedule([])
    with raises(ValueError, "until=-1 must be at least 0"):
        HealthSchedule(Up()).bands(until=-1)


# -- faults ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, exc, text",
    [
        (lambda: Crash(at=-1, duration=1, node="a"), ValueError, "at=-1 must be at least 0"),
        (lambda: Crash(1, duration=-2, node="a"), ValueError, "duration=-2 must be greater than 0"),
        (lambda: Crash(1, duration=0, node="a"), ValueError, "duration=0 must be greater than 0"),
        (lambda: Crash(at=1, duration=1, node=3), TypeError, "node=3 must be a node name (str)"),
        (lambda: SlowNode(0, 1, "a", factor=0), ValueError, "factor=0 must be greater than 0"),
        (lambda: SlowNode(0, 1, "a", factor=-1), ValueError, "factor=-1 must be greater than 0"),
        (lambda: LossBurst(0, 1, loss=1.5), ValueError, "loss=1.5 must be between 0 and 1"),
        (lambda: Partition(0, 1, groups=[]), ValueError, "groups=[] is empty"),
        (lambda: Partition(0, 1, groups="ab"), TypeError, "groups='ab' must be a list of groups"),
        (
            lambda: FaultSchedule([Crash(0, 1, "a"), "boom"]),
            TypeError,
            "faults[1]='boom' must be Partition, Crash, SlowNode or LossBurst",
        ),
        (lambda: FaultSchedule(5), TypeError, "faults=5 must be a list of faults"),
    ],
)
def test_bad_fault(make, exc, text):
    with raises(exc, text):
        make()


def test_bad_fault_schedule_apply(world, net):
    with raises(ValueError, "node='zz' is not one of 'a', 'b', 'c', 'd'"):
        FaultSchedule([Crash(1, 1, "zz")]).apply(net)
    with raises(ValueError, "node='zz' is not one of"):
        FaultSchedule([SlowNode(1, 1, "zz", 2)]).apply(net)
    with raises(ValueError, "groups: node='a' appears in groups[0] and groups[1]"):
        FaultSchedule([Partition(1, 1, [["a"], ["a", "b"]])]).apply(net)
    with raises(ValueError, "groups[0] node='q' is not one of"):
        FaultSchedule([Partition(1, 1, [["q"]])]).apply(net)
    with raises(TypeError, "net=None must be a distlab.sim.Network"):
        FaultSchedule([]).apply(None)
    with raises(ValueError, "until=-5 must be at least 0"):
        FaultSchedule([]).bands(until=-5)
    world.run(until=5)
    with raises(ValueError, "faults[0] at=1 is in the past: the world is at time 5"):
        FaultSchedule([Crash(1, 1, "a")]).apply(net)
    assert "fault_start" not in world.events()["kind"].tolist()


# -- reliability: extreme values, flags, NaN times, unbounded work (each failed before its fix) --
def test_every_distribution_draws_finite_values_or_refuses_its_parameters():
    rng = np.random.default_rng(0)
    with raises(ValueError, "alpha=4.94066e-324 must be at least 0.1"):
        Pareto(0.1, 5e-324)  # its draws were inf
    assert np.isfinite(Pareto(1e9, 0.1).sample(rng, 100_000)).all()
    assert np.isfinite(LogNormal(1e9, 40).sample(rng, 100_000)).all()
    with raises(ValueError, "sigma=41 must be at most 40"):
        LogNormal(1, 41)
    with raises(ValueError, "mean=1e+308 must be at most 1e+09 s (MAX_SECONDS)"):
        Exponential(1e308)  # its draws overflowed
    with raises(ValueError, "sd=1e+308 must be at most 1e+09"):
        Normal(0, 1e308)
    with raises(ValueError, "value=1e+10 must be at most 1e+09"):
        Constant(1e10)
    with raises(ValueError, "latency=1e+300 must be at most 1e+09"):
        as_distribution(1e300)


def test_mixture_of_huge_weights_keeps_its_proportions():
    mix = Mixture([(1e308, 0.1), (1e308, 0.2)])  # the sum overflowed: both weights became 0
    assert mix.weights == (0.5, 0.5)
    assert set(mix.sample(np.random.default_rng(0), 100).tolist()) == {0.1, 0.2}
    assert Mixture([(1e308, 0.1), (5e-324, 0.2)]).weights == (1.0, 0.0)


def test_lognormal_mean_is_inf_where_it_overflows():
    assert LogNormal(1, 40).mean == float("inf")  # raised "math range error"
    assert LogNormal(1e9, 37).mean < float("inf")


def test_sample_size_is_bounded():
    rng = np.random.default_rng(0)
    with raises(ValueError, "size=1000000000000 must be at most 10000000 values per call"):
        Constant(1).sample(rng, size=10**12)
    with raises(TypeError, "size=2.0 must be None or a non-negative integer"):
        Constant(1).sample(rng, size=2.0)


def test_flags_are_not_coerced():
    with raises(TypeError, "log_messages='no' must be True or False"):
        World(log_messages="no")  # was truthy: messages were logged
    net = Network(World())
    net.add_node("a")
    net.add_node("b")
    with raises(TypeError, "symmetric='no' must be True or False"):
        net.set_link("a", "b", latency=1, symmetric="no")
    with raises(TypeError, "include_up=1 must be True or False"):
        HealthSchedule(Up()).bands(until=1, include_up=1)


def test_nan_times_are_refused():
    schedule = HealthSchedule([(0, Up()), (5, Down())])
    with raises(ValueError, "t=nan must be a finite number"):
        schedule.at(float("nan"))  # was Down()
    assert schedule.at(float("inf")) == Down()
    with raises(ValueError, "at=nan must be a finite number"):
        Crash(float("nan"), 1, "a")
    with raises(ValueError, "until=nan must be a finite number"):
        FaultSchedule([]).bands(until=float("nan"))


def test_partition_group_of_lists_names_the_group(net):
    with raises(TypeError, "groups[0] node=['b'] must be a node name (str)"):
        net.partition(["a", ["b"]])  # was "unhashable type: 'list'"
    with raises(TypeError, "node=['a'] must be a node name (str)"):
        net.crash(["a"])
    assert net.groups is None and ["a"] not in net


def test_factors_and_times_that_would_overflow_are_refused(net):
    with raises(ValueError, "factor=1e+308 must be at most 1e+06"):
        net.slow("a", 1e308)  # a latency of inf
    with raises(ValueError, "factor=1e+07 must be at most 1e+06"):
        SlowNode(0, 1, "a", 1e7)
    with raises(ValueError, "factor=1e+308 must be at most 1e+06"):
        Slow(1e308)
    with raises(ValueError, "at=1e+308 must be at most 1e+09"):
        Crash(1e308, 1e308, "a")  # ended at inf
    with raises(ValueError, "duration=1e+308 must be at most 1e+09"):
        LossBurst(0, 1e308, 0.5)
    with raises(ValueError, "changes[0] start_time=1e+12 must be at most 1e+09"):
        HealthSchedule([(1e12, Down())])
