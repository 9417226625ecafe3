"""Latency distributions: sampling, means, reprs; and mean latency through the network."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distlab.sim import (
    Constant,
    Exponential,
    LogNormal,
    Mixture,
    Network,
    Normal,
    Pareto,
    Uniform,
    World,
    as_distribution,
)

DISTRIBUTIONS = [
    Constant(0.02),
    Uniform(0.005, 0.015),
    Exponential(0.01),
    Normal(0.01, 0.002),
    Normal(0.0, 0.01),  # folded at 0: the mean is sd * sqrt(2 / pi), not 0
    LogNormal(0.01, 0.5),
    Pareto(0.005, 3.0),
    Mixture([(0.8, Exponential(0.01)), (0.2, Uniform(0.02, 0.04))]),
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_sample_mean_matches_mean(dist):
    x = dist.sample(np.random.default_rng(1), size=200_000)
    assert x.shape == (200_000,)
    assert (x >= 0).all()
    assert x.mean() == pytest.approx(dist.mean, rel=0.02)


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_mean_latency_through_network_matches_distribution(dist, message_fates):
    world = World(seed=3)
    net = Network(world, latency=dist)
    net.add_node("a")
    net.add_node("b")
    for i in range(5000):
        net.send("a", "b", i)
    world.run()
    fates = message_fates(world.events())
    assert (fates["fate"] == "deliver").all()
    latency = fates["at"] - fates["sent"]
    assert latency.mean() == pytest.approx(dist.mean, rel=0.05)


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_single_sample_is_a_float(dist):
    value = dist.sample(np.random.default_rng(0))
    assert type(value) is float and value >= 0


def test_folded_normal_mean():
    assert Normal(0, 1).mean == pytest.approx(math.sqrt(2 / math.pi))
    assert Normal(0.01, 0.002).mean == pytest.approx(0.01, rel=1e-6)
    assert Normal(3, 0).mean == 3
    assert Normal(0.01, 0.002).mu == 0.01 and Normal(0.01, 0.002).sd == 0.002


def test_pareto_mean_infinite_for_small_alpha():
    assert Pareto(1, 1).mean == math.inf
    assert Pareto(1, 0.5).mean == math.inf
    assert Pareto(2, 2).mean == 4
    assert Pareto(2, 2).sample(np.random.default_rng(0), size=1000).min() >= 2


def test_lognormal_median():
    x = LogNormal(0.01, 1.0).sample(np.random.default_rng(0), size=100_000)
    assert np.median(x) == pytest.approx(0.01, rel=0.03)


def test_mixture_normalises_weights_and_accepts_numbers():
    m = Mixture([(1, 0.5), (3, Constant(1.0))])
    assert m.weights == (0.25, 0.75)
    assert m.components == (Constant(0.5), Constant(1.0))
    assert m.mean == pytest.approx(0.875)
    x = m.sample(np.random.default_rng(2), size=40_000)
    assert set(np.unique(x)) == {0.5, 1.0}
    assert (x == 0.5).mean() == pytest.approx(0.25, abs=0.01)


def test_mixture_with_infinite_component_has_infinite_mean():
    assert Mixture([(0.5, Pareto(1, 1)), (0.5, 1)]).mean == math.inf
    assert Mixture([(0.0, Pareto(1, 1)), (1.0, 1)]).mean == 1.0


def test_reprs_are_readable():
    assert repr(Constant(0.05)) == "Constant(0.05)"
    assert repr(Uniform(0, 1)) == "Uniform(low=0, high=1)"
    assert repr(Exponential(0.1)) == "Exponential(mean=0.1)"
    assert repr(Normal(0.01, 0.002)) == "Normal(mean=0.01, sd=0.002)"
    assert repr(LogNormal(0.01, 1)) == "LogNormal(median=0.01, sigma=1)"
    assert repr(Pareto(0.01, 2)) == "Pareto(scale=0.01, alpha=2)"
    assert repr(Mixture([(1, 0.1)])) == "Mixture([(1, Constant(0.1))])"


def test_as_distribution_and_equality():
    assert as_distribution(0.1) == Constant(0.1)
    assert as_distribution(1) == Constant(1.0)
    e = Exponential(0.2)
    assert as_distribution(e) is e
    assert Exponential(0.2) == e and hash(Exponential(0.2)) == hash(e)
    assert Exponential(0.2) != Constant(0.2)


def test_same_rng_state_same_samples():
    a = Exponential(1).sample(np.random.default_rng(9), size=5)
    b = Exponential(1).sample(np.random.default_rng(9), size=5)
    assert (a == b).all()
    assert Exponential(1).sample(np.random.default_rng(9), size=0).shape == (0,)
