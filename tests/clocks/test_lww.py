"""LWW loss under skew: the closed form against an independent numpy Monte Carlo, its edges,
and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from distlab.clocks import lww_loss_probability, simulate_lww_loss


def monte_carlo(gap, delta, trials, seed):
    """Independent of the package: two writes on two nodes, offsets uniform on [-delta, delta];
    the later one (true time gap) loses when its timestamp is smaller."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-delta, delta, size=(trials, 2))
    return float(np.mean(gap + offsets[:, 1] < 0.0 + offsets[:, 0]))


@pytest.mark.parametrize("delta", [0.001, 0.01, 0.25])
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 1.0, 1.5, 1.9, 2.0, 3.0])
def test_closed_form_agrees_with_monte_carlo(delta, fraction):
    gap = fraction * delta
    trials = 400_000
    p = lww_loss_probability(gap, delta=delta)
    sd = max(np.sqrt(p * (1 - p) / trials), 1e-9)
    assert abs(monte_carlo(gap, delta, trials, seed=int(fraction * 10)) - p) < 5 * sd + 1e-6
    assert abs(simulate_lww_loss(gap, delta=delta, trials=trials, seed=7) - p) < 5 * sd + 1e-6


def test_shape():
    assert lww_loss_probability(0.0, delta=0.01) == 0.5
    assert lww_loss_probability(0.02, delta=0.01) == 0.0
    assert lww_loss_probability(1.0, delta=0.01) == 0.0
    gaps = np.linspace(0, 0.03, 31)
    p = lww_loss_probability(gaps, delta=0.01)
    assert isinstance(p, np.ndarray) and p.shape == (31,)
    assert np.all(np.diff(p) <= 0)  # a later write loses less often
    assert p[5] == pytest.approx((0.02 - 0.005) ** 2 / (8 * 0.01**2))


def test_zero_skew():
    assert lww_loss_probability(0.0, delta=0.0) == 0.5
    assert lww_loss_probability(1e-9, delta=0.0) == 0.0
    assert simulate_lww_loss(0.0, delta=0.0, trials=10) == 0.5
    assert simulate_lww_loss(0.1, delta=0.0, trials=10) == 0.0


def test_same_seed_same_answer():
    assert simulate_lww_loss(0.004, delta=0.01, seed=3) == simulate_lww_loss(
        0.004, delta=0.01, seed=3
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: lww_loss_probability(-0.1, delta=0.01), ValueError, "gap=-0.1 must be at least 0"),
        (lambda: lww_loss_probability(0.1, delta=-1), ValueError, "delta=-1 must be at least 0"),
        (lambda: lww_loss_probability("x", delta=0.1), TypeError, "gap='x' must be a number"),
        (lambda: lww_loss_probability([0.1, -1], delta=0.1), ValueError, "finite numbers >= 0"),
        (lambda: lww_loss_probability([0.1, "a"], delta=0.1), TypeError, "sequence of numbers"),
        (lambda: lww_loss_probability([[0.1]], delta=0.1), ValueError, "finite numbers >= 0"),
        (
            lambda: simulate_lww_loss(0.1, delta=0.1, trials=0),
            ValueError,
            "trials=0 must be between",
        ),
        (lambda: simulate_lww_loss(0.1, delta=0.1, trials=10**9), ValueError, "trials=1000000000"),
        (lambda: simulate_lww_loss(0.1, delta=0.1, seed=-1), ValueError, "seed=-1"),
        (lambda: lww_loss_probability(0.1), TypeError, "delta"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
