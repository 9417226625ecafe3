"""Fuzz the public callables of the simulated world with extreme and wrong inputs.

Every call either succeeds, and then what it gives (draws, means, the clock after a short run) is
finite, or raises ValueError/TypeError whose message names the parameter as the caller passed it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distlab.sim import (
    Constant,
    Crash,
    Down,
    Exponential,
    FaultEffect,
    FaultSchedule,
    Flaky,
    HealthSchedule,
    LogNormal,
    LossBurst,
    Mixture,
    Network,
    Normal,
    Pareto,
    Partition,
    Recovering,
    Service,
    Slow,
    SlowNode,
    Uniform,
    Up,
    World,
    as_distribution,
    call,
)

EXTREMES = [1e308, -1e308, 5e-324, -5e-324, math.nan, math.inf, -math.inf, 0, 0.0, -1, 1, 0.5]
HUGE_INTS = [10**12, 2**70, -(2**63), np.int64(2**62)]
WRONG_TYPES = [None, "x", "", True, False, [1], ["a"], [["a"], "b"], {"a": 1}, (1, 2), object()]
VALUES = st.one_of(
    st.sampled_from(EXTREMES + HUGE_INTS + WRONG_TYPES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**80), max_value=2**80),
)


def _net() -> Network:
    net = Network(World(seed=1), latency=0.01)
    for name in "ab":
        net.add_node(name)
    return net


def _finite(x: Any) -> None:
    """Every number in ``x`` (a float, an array, a tuple) is finite."""
    if isinstance(x, np.ndarray):
        assert np.isfinite(x).all()
    elif isinstance(x, float):
        assert math.isfinite(x), x
    elif isinstance(x, tuple | list):
        for item in x:
            _finite(item)


def _draws(dist) -> None:
    _finite(dist.sample(np.random.default_rng(0), 512))
    _finite(dist.sample(np.random.default_rng(1)))
    assert not math.isnan(dist.mean) and dist.mean >= 0  # inf where documented


def _runs(net: Network, *, send: bool = True) -> None:
    """A message each way and a run to quiescence: the clock ends finite."""
    if send:
        net.send("a", "b", 1)
        net.send("b", "a", 2)
    net.world.run()
    _finite(net.world.now)


def _fault(fault) -> None:
    net = _net()
    FaultSchedule([fault]).apply(net)
    _runs(net)
    _finite(FaultSchedule([fault]).bands(until=10)[["start", "end"]].to_numpy(dtype=float))


def _service(**kwargs) -> None:
    net = _net()
    Service(net, "s", **kwargs)
    call(net, "a", "s", timeout_s=5)
    _runs(net)


def _health(schedule) -> None:
    net = _net()
    Service(net, "s", health=schedule)
    call(net, "a", "s", timeout_s=5)
    _runs(net)
    schedule.bands(until=100)


def _effect(**kwargs) -> None:
    net = _net()
    net.remove_effect(net.apply_effect(FaultEffect(**kwargs)))
    _runs(net)


# (parameter the message must name, call with the fuzzed value)
TARGETS: list[tuple[str, Callable[[Any], Any]]] = [
    # world
    ("seed", lambda v: World(seed=v)),
    ("log_messages", lambda v: World(log_messages=v)),
    ("until", lambda v: World().run(until=v)),
    ("kind", lambda v: World().log(v)),
    # distributions
    ("value", lambda v: _draws(Constant(v))),
    ("low", lambda v: _draws(Uniform(v, 1e9))),
    ("high", lambda v: _draws(Uniform(0, v))),
    ("mean", lambda v: _draws(Exponential(v))),
    ("mean", lambda v: _draws(Normal(v, 1))),
    ("sd", lambda v: _draws(Normal(1, v))),
    ("median", lambda v: _draws(LogNormal(v, 1))),
    ("sigma", lambda v: _draws(LogNormal(1, v))),
    ("scale", lambda v: _draws(Pareto(v, 1.5))),
    ("alpha", lambda v: _draws(Pareto(1, v))),
    ("components[0] weight", lambda v: _draws(Mixture([(v, 1.0), (1, Exponential(1))]))),
    ("components[1] weight", lambda v: _draws(Mixture([(1e308, 1.0), (v, 2.0)]))),
    ("components[0] distribution", lambda v: _draws(Mixture([(1, v)]))),
    ("components", lambda v: _draws(Mixture(v))),
    ("latency", lambda v: _draws(as_distribution(v))),
    ("size", lambda v: _finite(Exponential(1).sample(np.random.default_rng(0), v))),
    # network
    ("latency", lambda v: _runs(Network(World(), latency=v) and _net())),
    ("loss", lambda v: Network(World(), loss=v)),
    ("name", lambda v: _net().add_node(v)),
    ("node", lambda v: _net().node(v)),
    ("src", lambda v: _net().send(v, "b")),
    ("dst", lambda v: _net().send("a", v)),
    ("on_delivery", lambda v: _net().send("a", "b", on_delivery=v)),
    ("a", lambda v: _net().can_reach(v, "b")),
    ("latency", lambda v: _set_link_then_run(latency=v)),
    ("loss", lambda v: _set_link_then_run(loss=v)),
    ("symmetric", lambda v: _set_link_then_run(latency=0.5, symmetric=v)),
    ("loss", lambda v: _net().set_loss(v)),
    ("factor", lambda v: _slow_then_run(v)),
    ("groups", lambda v: _net().partition(v)),
    ("groups[0]", lambda v: _net().partition(["a", v])),
    ("node", lambda v: _net().crash(v)),
    ("node", lambda v: _net().restart(v)),
    ("handle", lambda v: _net().remove_effect(v)),
    ("effect", lambda v: _net().apply_effect(v)),
    ("crashed", lambda v: _effect(crashed=v)),
    ("slow", lambda v: _effect(slow=v)),
    ("slow['a']", lambda v: _effect(slow={"a": v})),
    ("loss", lambda v: _effect(loss=v)),
    ("groups", lambda v: _effect(groups=v)),
    ("cut", lambda v: _effect(cut=v)),
    # faults
    ("at", lambda v: _fault(Crash(v, 1, "a"))),
    ("duration", lambda v: _fault(Crash(0, v, "a"))),
    ("node", lambda v: _fault(Crash(0, 1, v))),
    ("factor", lambda v: _fault(SlowNode(0, 1, "a", v))),
    ("loss", lambda v: _fault(LossBurst(0, 1, v))),
    ("groups", lambda v: _fault(Partition(0, 1, v))),
    ("faults", lambda v: FaultSchedule(v)),
    ("until", lambda v: _finite(FaultSchedule([Crash(0, 1, "a")]).bands(v)["end"].to_numpy(float))),
    ("net", lambda v: FaultSchedule([Crash(0, 1, "a")]).apply(v)),
    # service health and services
    ("factor", lambda v: _health(HealthSchedule(Slow(v)))),
    ("error_rate", lambda v: _health(HealthSchedule(Flaky(v)))),
    ("capacity", lambda v: _health(HealthSchedule(Recovering(v)))),
    ("factor", lambda v: _health(HealthSchedule(Recovering(1, v)))),
    ("changes", lambda v: _health(HealthSchedule(v))),
    ("start_time", lambda v: _health(HealthSchedule([(0, Up()), (v, Down())]))),
    ("t", lambda v: HealthSchedule([(1, Down())]).at(v)),
    ("until", lambda v: HealthSchedule(Down()).bands(until=v)),
    ("include_up", lambda v: HealthSchedule(Down()).bands(until=1, include_up=v)),
    ("service_time", lambda v: _service(service_time=v)),
    ("concurrency", lambda v: _service(concurrency=v)),
    ("queue_limit", lambda v: _service(concurrency=1, queue_limit=v)),
    ("health", lambda v: _service(health=v)),
    ("handler", lambda v: _service(handler=v)),
]


def _set_link_then_run(**kwargs) -> None:
    net = _net()
    net.set_link("a", "b", **kwargs)
    _runs(net)


def _slow_then_run(factor) -> None:
    net = _net()
    net.slow("a", factor)
    _runs(net)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TARGETS), VALUES)
def test_public_sim_callables_succeed_finitely_or_name_the_parameter(target, value):
    param, make = target
    try:
        make(value)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(param + end in message for end in "= ["), (param, value, message)
