"""The leaderless store agrees with the PBS (WARS) Monte Carlo run on the same latency model."""

import math

import pytest

from distlab import pbs
from distlab.experiments.quorums import MODELS, Z_TOLERANCE, quorum_visibility, sim_latency
from distlab.sim import Exponential

TIMES = (0.0, 2.0, 10.0, 40.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_store_agrees_with_the_monte_carlo(seed):
    res = quorum_visibility("LNKD-DISK", times_ms=TIMES, trials=400, mc_trials=100_000, seed=seed)
    s = res.summary
    assert s.index.tolist() == list(TIMES)
    assert (s["reads"] == 400).all()
    # within Z_TOLERANCE standard errors of the difference at every t
    assert s["agrees"].all(), s
    # and the curve is not trivial: LNKD-DISK reads at t = 0 are mostly stale, later fresh
    assert s.loc[0.0, "sim_p"] < 0.6 and s.loc[40.0, "sim_p"] > 0.95
    curve = res.curve
    assert curve["t_ms"].iloc[[0, -1]].tolist() == [0.0, 40.0]
    assert curve["mc_p"].is_monotonic_increasing
    assert curve["mc_p"].iloc[0] == pytest.approx(s.loc[0.0, "mc_p"])


def test_the_comparison_has_power_against_another_model():
    res = quorum_visibility("LNKD-DISK", times_ms=(0.0,), trials=200, mc_trials=5_000)
    other = pbs.t_visibility("LNKD-SSD", trials=20_000).consistent_probability(0.0)
    se = math.sqrt(other * (1 - other) / 200 + res.summary.loc[0.0, "sim_se"] ** 2)
    assert abs(res.summary.loc[0.0, "sim_p"] - other) / se > 2 * Z_TOLERANCE


def test_exponential_model_with_larger_quorums():
    res = quorum_visibility(
        "exponential", times_ms=(0.0, 1.0), n=3, r=2, w=1, trials=300, mc_trials=50_000
    )
    assert res.summary["agrees"].all()
    assert res.params["r"] == 2 and res.params["model"] == "exponential"


def test_same_seed_same_result():
    a = quorum_visibility("YMMR", times_ms=(0.0, 100.0), trials=60, mc_trials=1000, seed=3)
    b = quorum_visibility("YMMR", times_ms=(0.0, 100.0), trials=60, mc_trials=1000, seed=3)
    assert a.frame.equals(b.frame) and a.summary.equals(b.summary) and a.params == b.params
    assert a.curve.equals(b.curve)
    assert set(a.frame.columns) == {"trial", "t_ms", "commit_ms", "consistent", "outcome"}
    assert (a.frame["outcome"] == "ok").all()


def test_sim_latency_scales_milliseconds_to_seconds():
    assert sim_latency(Exponential(2.0)).mean == pytest.approx(0.002)
    mix = pbs.PRESETS["LNKD-DISK"].w
    assert sim_latency(mix).mean == pytest.approx(mix.mean * 1e-3)
    assert set(MODELS) == {*pbs.PRESETS, "exponential"}


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"model": "LNKD"}, ValueError, "model='LNKD'"),
        ({"times_ms": (-1.0,)}, ValueError, "times_ms=-1"),
        ({"times_ms": ()}, ValueError, "times_ms=()"),
        ({"times_ms": "0"}, TypeError, "times_ms='0'"),
        ({"r": 4}, ValueError, "r=4 must be between 1 and n=3"),
        ({"w": 0}, ValueError, "w=0"),
        ({"n": 11}, ValueError, "n=11"),
        ({"trials": 10**6}, ValueError, "trials=1000000 at 6 times_ms"),
        ({"mc_trials": 0}, ValueError, "mc_trials=0"),
        ({"seed": -1}, ValueError, "-1"),
    ],
)
def test_bad_input_is_refused_by_name(kw, error, match):
    with pytest.raises(error, match=match):
        quorum_visibility(**kw)


def test_sim_latency_refuses_other_parts():
    with pytest.raises(TypeError, match="part=0.5"):
        sim_latency(0.5)
