"""PBS additions: write and read latencies of the same trials; k-staleness by Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from distlab.pbs import (
    WARS,
    k_stale_monte_carlo,
    k_stale_probability,
    t_visibility,
    t_visibility_quorums,
    wars_draws,
)
from distlab.sim.distributions import Constant, Exponential


@pytest.mark.parametrize("n, r, w", [(3, 1, 1), (3, 2, 1), (5, 2, 3)])
def test_latencies_come_from_the_same_trials(n, r, w):
    plain = t_visibility("LNKD-DISK", nodes=n, read_quorum=r, write_quorum=w, trials=20_000)
    both = t_visibility("LNKD-DISK", nodes=n, read_quorum=r, write_quorum=w, trials=20_000,
                        latencies=True)  # fmt: skip
    assert np.array_equal(plain.thresholds, both.thresholds)
    assert plain.write_latencies is None and plain.read_latencies is None
    for values in (both.write_latencies, both.read_latencies):
        assert values.shape == (20_000,) and np.all(np.diff(values) >= 0) and values[0] > 0


def test_latencies_are_the_w_th_ack_and_the_r_th_answer():
    # constant one-way delays per replica are not available, so use a model where only the
    # request legs vary: the commit is the W-th smallest W_i + A_i, the read the R-th R_i + S_i
    model = WARS(Exponential(1.0), Constant(1.0), Exponential(1.0), Constant(2.0), "test")
    one = t_visibility(model, nodes=3, read_quorum=1, write_quorum=1, trials=50_000,
                       latencies=True)  # fmt: skip
    all3 = t_visibility(model, nodes=3, read_quorum=3, write_quorum=3, trials=50_000,
                        latencies=True)  # fmt: skip
    # min of 3 Exp(1) has mean 1/3, max has mean 1 + 1/2 + 1/3
    assert one.write_latencies.mean() == pytest.approx(1 + 1 / 3, rel=0.02)
    assert all3.write_latencies.mean() == pytest.approx(1 + 11 / 6, rel=0.02)
    assert one.read_latencies.mean() == pytest.approx(2 + 1 / 3, rel=0.02)
    assert all3.read_latencies.mean() == pytest.approx(2 + 11 / 6, rel=0.02)


def test_latencies_must_be_a_bool():
    with pytest.raises(TypeError, match="latencies='yes'"):
        t_visibility(trials=10, latencies="yes")


@pytest.mark.parametrize("n, r, w", [(3, 1, 1), (5, 2, 2), (5, 1, 3), (7, 2, 3), (4, 1, 1)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_k_staleness_monte_carlo_agrees_with_the_closed_form(n, r, w, seed):
    trials = 100_000
    got = k_stale_monte_carlo(5, nodes=n, read_quorum=r, write_quorum=w, trials=trials, seed=seed)
    for k, p_hat in enumerate(got, start=1):
        p = k_stale_probability(k, nodes=n, read_quorum=r, write_quorum=w)
        assert abs(p_hat - p) <= 5 * math.sqrt(p * (1 - p) / trials) + 1e-12


def test_k_staleness_of_strict_quorums_is_zero_and_runs_are_deterministic():
    assert k_stale_monte_carlo(4, nodes=3, read_quorum=2, write_quorum=2).tolist() == [0.0] * 4
    a = k_stale_monte_carlo(3, nodes=5, read_quorum=1, write_quorum=2, trials=1000, seed=4)
    b = k_stale_monte_carlo(3, nodes=5, read_quorum=1, write_quorum=2, trials=1000, seed=4)
    assert np.array_equal(a, b)
    assert np.all(np.diff(a) <= 0)  # at least k+1 versions old implies at least k


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k_max": 0}, "k_max=0"),
        ({"k_max": 2.5}, "k_max=2.5"),
        ({"read_quorum": 4}, "read_quorum=4 must be between 1 and nodes=3"),
        ({"trials": 0}, "trials=0"),
        ({"trials": 20_000_000, "k_max": 1000}, "trials=20,000,000 x k_max=1000"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_k_staleness_monte_carlo_rejects_bad_input(kwargs, match):
    args = {"k_max": 3, "nodes": 3, "read_quorum": 1, "write_quorum": 1, "trials": 10, **kwargs}
    k_max = args.pop("k_max")
    with pytest.raises((ValueError, TypeError), match=match):
        k_stale_monte_carlo(k_max, **args)


@pytest.mark.parametrize("nodes, quorums", [(3, [(1, 1), (2, 2), (1, 3)]), (5, [(2, 3), (5, 5)])])
def test_quorums_on_the_same_draws_equal_separate_runs_with_that_seed(nodes, quorums):
    runs = t_visibility_quorums("YMMR", nodes=nodes, quorums=quorums, trials=30_000, seed=9)
    assert list(runs) == quorums
    for (r, w), vis in runs.items():
        one = t_visibility("YMMR", nodes=nodes, read_quorum=r, write_quorum=w, trials=30_000,
                           seed=9, latencies=True)  # fmt: skip
        assert np.array_equal(vis.thresholds, one.thresholds)
        assert np.array_equal(vis.write_latencies, one.write_latencies)
        assert np.array_equal(vis.read_latencies, one.read_latencies)


def test_quorums_on_the_same_draws_order_their_latencies():
    runs = t_visibility_quorums("LNKD-DISK", nodes=3, quorums=[(1, 1), (2, 2), (3, 3)],
                                trials=20_000)  # fmt: skip
    # on the same draws, waiting for more answers is never faster, trial by trial
    writes = [runs[q, q].write_latencies for q in (1, 2, 3)]
    assert np.all(writes[0] <= writes[1]) and np.all(writes[1] <= writes[2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"quorums": []}, "quorums=\\[\\] must be a non-empty list"),
        ({"quorums": [(1, 1, 1)]}, r"quorums\[0\]=\(1, 1, 1\) must be a"),
        ({"quorums": [(4, 1)]}, "read_quorum=4 must be between 1 and nodes=3"),
        ({"model": "X"}, "model='X' is not one of"),
        ({"latencies": 1}, "latencies=1"),
    ],
)
def test_quorums_on_the_same_draws_reject_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        t_visibility_quorums(**{"trials": 10, **kwargs})


@pytest.mark.parametrize(
    "model, nodes, seed", [("YMMR", 3, 9), ("LNKD-SSD", 5, 0), ("LNKD-DISK", 2, 4)]
)
def test_kept_draws_evaluate_every_quorum_as_a_separate_run(model, nodes, seed):
    draws = wars_draws(model, nodes=nodes, trials=30_000, seed=seed)
    pairs = [(r, w) for r in range(1, nodes + 1) for w in range(1, nodes + 1)]
    runs = t_visibility_quorums(model, nodes=nodes, quorums=pairs, trials=30_000, seed=seed)
    for (r, w), vis in runs.items():
        kept = draws.visibility(r, w)
        assert np.array_equal(kept.thresholds, vis.thresholds)
        assert np.array_equal(kept.write_latencies, vis.write_latencies)
        assert np.array_equal(kept.read_latencies, vis.read_latencies)
        assert (kept.model, kept.nodes, kept.trials, kept.seed) == (vis.model, nodes, 30_000, seed)
    assert draws.visibility(1, 1, latencies=False).write_latencies is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"nodes": 0}, "nodes=0"),
        ({"trials": 0}, "trials=0"),
        ({"model": "X"}, "model='X' is not one of"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_kept_draws_reject_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        wars_draws(**{"trials": 10, **kwargs})


def test_kept_draws_reject_a_quorum_larger_than_their_nodes():
    draws = wars_draws("YMMR", nodes=3, trials=10)
    with pytest.raises(ValueError, match="read_quorum=4"):
        draws.visibility(4, 1)
    with pytest.raises(TypeError, match="latencies=1"):
        draws.visibility(1, 1, latencies=1)
