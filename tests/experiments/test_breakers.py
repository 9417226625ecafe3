"""The circuit-breaker experiments of notebook 03: each lesson, over a few seeds."""

import math

import numpy as np
import pandas as pd
import pytest

from distlab.breaker import CircuitBreaker
from distlab.experiments import breakers
from distlab.sim import HealthSchedule, Up

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def runs():
    """Each experiment once per seed (and per preset for transitions), shared by the tests."""
    return {
        "course": {s: breakers.transitions(breaker="course", seed=s) for s in SEEDS},
        "recommended": {s: breakers.transitions(breaker="recommended", seed=s) for s in SEEDS},
        "with_and_without": {s: breakers.with_and_without(seed=s) for s in SEEDS},
        "probing": {s: breakers.half_open_probing(seed=s) for s in SEEDS},
        "retry": {s: breakers.breaker_and_retry(seed=s) for s in SEEDS},
    }


# -- make_breaker -----------------------------------------------------------------------------


def test_presets():
    course = breakers.make_breaker("course")
    for _ in range(5):
        assert course.try_acquire(clock.now)
        course.on_error(clock.now, 0.0)
    assert course.state.value == "OPEN"
    rec = breakers.make_breaker("recommended")
    assert (
        rec.failure_rate_threshold,
        rec.slow_call_rate_threshold,
        rec.slow_call_duration,
        rec.minimum_calls,
        rec.window_size,
        rec.permitted_calls_in_half_open,
    ) == (50.0, 80.0, 2.0, 10, 20, 3)
    custom = breakers.make_breaker({"permitted_calls_in_half_open": 10}, name="x")
    assert (custom.permitted_calls_in_half_open, custom.window_size, custom.name) == (10, 20, "x")
    assert isinstance(breakers.make_breaker({"preset": "course", "failures": 2}), CircuitBreaker)


def test_make_breaker_bad_input():
    with pytest.raises(ValueError, match="breaker='fast' is not one of 'course', 'recommended'"):
        breakers.make_breaker("fast")
    with pytest.raises(ValueError, match="breaker setting 'window_size' is not one of failures"):
        breakers.make_breaker({"preset": "course", "window_size": 3})
    with pytest.raises(ValueError, match="failure_rate_threshold=150 must be in"):
        breakers.make_breaker({"failure_rate_threshold": 150})
    with pytest.raises(TypeError, match="must be one of"):
        breakers.make_breaker(3)


# -- transitions ------------------------------------------------------------------------------


def test_transitions_frames_and_columns(runs):
    r = runs["recommended"][0]
    assert list(r.calls.columns) == [
        "client",
        "start",
        "end",
        "latency_s",
        "outcome",
        "slow",
        "state",
    ]
    assert list(r.transitions.columns) == [
        "time",
        "from_state",
        "state",
        "failure_rate",
        "slow_call_rate",
    ]
    assert list(r.states.columns) == ["start", "end", "state", "label"]
    assert list(r.rates.columns) == ["time", "failure_rate", "slow_call_rate", "state"]
    assert list(r.health.columns) == ["start", "end", "state", "label"]
    assert r.frame is r.calls
    assert set(r.calls["outcome"]) == {"success", "error", "timeout", "rejected"}
    assert set(r.calls["client"]) == {"client 1", "client 2", "client 3"}
    assert r.health["state"].tolist() == ["up", "down", "slow", "recovering", "up"]
    # the state bands tile the run, in order, and agree with the transitions
    s = r.states
    assert s["start"].iloc[0] == 0.0 and s["state"].iloc[0] == "CLOSED"
    assert np.allclose(s["start"].iloc[1:].to_numpy(), s["end"].iloc[:-1].to_numpy())
    assert s["end"].iloc[-1] >= 240.0
    # rejections are instant; a rejected call was rejected in OPEN or a full HALF_OPEN
    rejected = r.calls[r.calls["outcome"] == "rejected"]
    assert (rejected["latency_s"] == 0).all()
    assert set(rejected["state"]) <= {"OPEN", "HALF_OPEN"}
    assert r.thresholds == {
        "failure_rate_threshold": 50.0,
        "slow_call_rate_threshold": 80.0,
        "slow_call_duration": 2.0,
        "counts_slow": True,
    }
    # rates: NaN below the minimum, percentages otherwise
    rates = r.rates.dropna()
    assert len(rates) and rates["failure_rate"].between(0, 100).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_transitions_course_never_notices_the_slow_phase(runs, seed):
    r = runs["course"][seed]
    calls = r.calls
    slow_phase = calls[(calls["start"] >= 30) & (calls["start"] < 100)]
    closed_slow = slow_phase[(slow_phase["state"] == "CLOSED") & slow_phase["slow"]]
    assert len(closed_slow) >= 30  # it closed on a slow success and let them all through
    # no transition is decided during the slow phase after it closed (nothing counts)
    tr = r.transitions
    closed_at = tr[(tr["state"] == "CLOSED") & (tr["time"] >= 30)]["time"].iloc[0]
    assert not ((tr["time"] > closed_at) & (tr["time"] < 100) & (tr["state"] == "OPEN")).any()
    assert r.rates[["failure_rate", "slow_call_rate"]].isna().all().all()
    assert r.thresholds["counts_slow"] is False
    # unlimited half-open: more than 3 calls admitted in a half-open band
    half = r.states[r.states["state"] == "HALF_OPEN"]
    admitted = calls[calls["outcome"] != "rejected"]
    most = max(
        ((admitted["start"] >= a) & (admitted["start"] <= b)).sum()
        for a, b in zip(half["start"], half["end"])
    )
    assert most > 3


@pytest.mark.parametrize("seed", SEEDS)
def test_transitions_recommended_opens_on_slow_calls_and_limits_probes(runs, seed):
    r = runs["recommended"][seed]
    tr = r.transitions
    slow_opens = tr[
        (tr["state"] == "OPEN")
        & (tr["slow_call_rate"] >= 80)
        & (tr["time"] >= 30)
        & (tr["time"] < 100)
    ]
    assert len(slow_opens) >= 1
    # few calls reach the slow dependency, against the course's many
    course = runs["course"][seed].calls

    def slow_admitted(c):
        return ((c["start"] >= 30) & (c["start"] < 100) & (c["outcome"] != "rejected")).sum()

    assert slow_admitted(r.calls) < slow_admitted(course) / 2
    # never more than 3 probes per HALF_OPEN
    half = r.states[r.states["state"] == "HALF_OPEN"]
    admitted = r.calls[(r.calls["outcome"] != "rejected") & (r.calls["state"] == "HALF_OPEN")]
    for a, b in zip(half["start"], half["end"]):
        assert ((admitted["start"] >= a) & (admitted["start"] <= b)).sum() <= 3


def test_transitions_summary(runs):
    s = runs["recommended"][0].summary()
    assert s.name == "recommended"
    assert s["calls"] == s["success"] + s["error"] + s["timeout"] + s["rejected"]
    assert s["openings"] == s["CLOSED->OPEN"] + s.get("HALF_OPEN->OPEN", 0)
    assert s["time_open_s"] + s["time_half_open_s"] + s["time_closed_s"] == pytest.approx(
        runs["recommended"][0].states["end"].iloc[-1]
    )
    assert 10 < s["first_open_s"] < 20


def test_transitions_determinism_and_seeds():
    a = breakers.transitions(seed=5, duration_s=60)
    b = breakers.transitions(seed=5, duration_s=60)
    c = breakers.transitions(seed=6, duration_s=60)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.transitions, b.transitions)
    pd.testing.assert_frame_equal(a.rates, b.rates)
    assert not a.calls.equals(c.calls)


def test_transitions_other_schedules_and_custom_breakers():
    up = breakers.transitions(schedule="up", duration_s=30)
    assert set(up.calls["outcome"]) == {"success"} and up.transitions.empty
    assert up.states["state"].tolist() == ["CLOSED"]
    own = breakers.transitions(
        schedule=[(0, Up())], duration_s=10, breaker={"preset": "course", "wait_in_open": 5}
    )
    assert own.breaker == "custom" and own.thresholds["counts_slow"] is False
    down = breakers.transitions(schedule="down", duration_s=60, breaker="course")
    assert "OPEN" in set(down.transitions["state"])
    assert isinstance(breakers.outage_schedule("slow"), HealthSchedule)


def test_transitions_bad_input():
    with pytest.raises(ValueError, match="schedule='stormy' is not one of"):
        breakers.transitions(schedule="stormy")
    with pytest.raises(TypeError, match="schedule=3 must be one of"):
        breakers.transitions(schedule=3)
    with pytest.raises(ValueError, match="clients=0 must be between 1 and 100"):
        breakers.transitions(clients=0)
    with pytest.raises(ValueError, match="rate_per_s=0 must be in"):
        breakers.transitions(rate_per_s=0)
    with pytest.raises(ValueError, match="at most 20,000 are simulated"):
        breakers.transitions(rate_per_s=200, duration_s=3600)
    with pytest.raises(TypeError, match="seed="):
        breakers.transitions(seed=1.5)
    with pytest.raises(ValueError, match="breaker setting 'windw_size'"):
        breakers.transitions(breaker={"windw_size": 3})


# -- with and without -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_with_a_breaker_callers_fail_fast_and_the_dependency_recovers_sooner(runs, seed):
    r = runs["with_and_without"][seed]
    s = r.summary()
    without, with_ = s.loc["without breaker"], s.loc["with breaker"]
    assert without["rejected"] == 0 and with_["rejected"] > 50
    assert with_["mean_failed_latency_s"] < 0.5 * without["mean_failed_latency_s"]
    assert with_["time_waiting_on_failures_s"] < 0.3 * without["time_waiting_on_failures_s"]
    assert with_["sent"] < without["sent"]
    assert with_["served_for_nobody"] < 0.3 * without["served_for_nobody"]
    assert with_["peak_queue"] < without["peak_queue"]
    assert with_["recovery_s"] <= 2.0
    assert without["recovery_s"] > with_["recovery_s"] + 10
    assert with_["success_share"] > without["success_share"]


def test_with_and_without_frames(runs):
    r = runs["with_and_without"][0]
    assert list(r.calls.columns) == ["variant", "start", "end", "latency_s", "outcome", "state"]
    assert list(r.load.columns) == [
        "variant",
        "time",
        "sent_per_s",
        "success_per_s",
        "error_per_s",
        "timeout_per_s",
        "rejected_per_s",
        "queue",
    ]
    assert list(r.transitions.columns) == [
        "variant",
        "time",
        "from_state",
        "state",
        "failure_rate",
        "slow_call_rate",
    ]
    assert list(r.states.columns) == ["variant", "start", "end", "state", "label"]
    assert set(r.states["variant"]) == {"with breaker"}
    assert set(r.calls.loc[r.calls["variant"] == "without breaker", "state"]) == {""}
    assert r.health["state"].tolist() == ["up", "slow", "up"]
    # the load during the stall: without a breaker, every call reaches the dependency
    stall = r.load[(r.load["time"] >= 8) & (r.load["time"] < 15)]
    by = stall.groupby("variant")["sent_per_s"].mean()
    assert by["with breaker"] < 0.5 * by["without breaker"]


def test_with_and_without_determinism_and_bad_input():
    a = breakers.with_and_without("with breaker", seed=3, duration_s=20)
    b = breakers.with_and_without("with breaker", seed=3, duration_s=20)
    c = breakers.with_and_without("with breaker", seed=4, duration_s=20)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.load, b.load)
    assert not a.calls.equals(c.calls)
    with pytest.raises(ValueError, match="variants item='with' is not one of"):
        breakers.with_and_without("with")
    with pytest.raises(ValueError, match="variants=\\(\\) is empty"):
        breakers.with_and_without(())
    with pytest.raises(ValueError, match="slow_factor=0.5 must be at least 1"):
        breakers.with_and_without(slow_factor=0.5)
    with pytest.raises(ValueError, match="stall_at_s=50 must be in"):
        breakers.with_and_without(stall_at_s=50)


# -- half-open probing ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_unlimited_probing_knocks_it_over_limited_probing_lets_it_recover(runs, seed):
    r = runs["probing"][seed]
    s = r.summary()
    course, rec = s.loc["course"], s.loc["recommended"]
    assert course["knockovers"] >= 2 and math.isnan(course["recovered_at_s"])
    assert course["openings"] > rec["openings"]  # it keeps reopening
    assert math.isnan(course["closed_at_s"])
    assert rec["knockovers"] == 0 and rec["recovered_at_s"] == pytest.approx(30 + 90)
    assert rec["closed_at_s"] >= rec["recovered_at_s"]
    assert rec["max_half_open_admitted"] <= 3 < course["max_half_open_admitted"]
    assert rec["success_share"] > 3 * course["success_share"]
    knocked = r.health[r.health["label"] == "down (knocked over)"]
    assert set(knocked["variant"]) == {"course"}
    assert list(r.health.columns) == ["variant", "start", "end", "state", "label"]


def test_half_open_probing_it_is_the_limit_on_probes():
    r = breakers.half_open_probing(
        {"3 probes": "recommended", "20 probes": {"permitted_calls_in_half_open": 20}}, seed=0
    )
    s = r.summary()
    assert s.loc["3 probes", "knockovers"] == 0 < s.loc["20 probes", "knockovers"]
    assert math.isnan(s.loc["20 probes", "recovered_at_s"])


def test_half_open_probing_determinism_and_bad_input():
    a = breakers.half_open_probing("course", seed=2, duration_s=100)
    b = breakers.half_open_probing("course", seed=2, duration_s=100)
    c = breakers.half_open_probing("course", seed=3, duration_s=100)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.health, b.health)
    assert not a.calls.equals(c.calls)
    with pytest.raises(ValueError, match="breakers=\\(\\) is empty"):
        breakers.half_open_probing(())
    with pytest.raises(ValueError, match="names a variant twice"):
        breakers.half_open_probing([("a", "course"), ("a", "recommended")])
    with pytest.raises(ValueError, match="overload=-1 must be between 0"):
        breakers.half_open_probing(overload=-1)
    with pytest.raises(ValueError, match="recovering_capacity=0"):
        breakers.half_open_probing(recovering_capacity=0)


# -- breaker and retry ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_retry_inside_opens_sooner_and_spares_the_dependency(runs, seed):
    r = runs["retry"][seed]
    s = r.summary()
    none, inside, outside = (s.loc[v] for v in breakers.RETRY_VARIANTS)
    assert inside["time_to_open_s"] < outside["time_to_open_s"]
    assert inside["time_to_open_s"] <= none["time_to_open_s"]
    assert inside["sent_before_open"] <= 12 < 2 * 12 < outside["sent_before_open"]
    assert inside["sent_during_failure"] < 0.5 * outside["sent_during_failure"]
    assert inside["time_waiting_on_failures_s"] < outside["time_waiting_on_failures_s"]
    # retries are for transient errors: both retrying variants beat no retry outside the outage
    calm = r.calls[(r.calls["start"] < 5) & (r.calls["end"] < 5)]
    share = calm.groupby("variant")["outcome"].apply(lambda o: (o == "success").mean())
    assert share["retry inside"] > share["no retry"]
    assert share["retry outside"] > share["no retry"]
    # outside: a rejected call sent nothing (the breaker refused the whole retried call)
    calls = r.calls[r.calls["variant"] == "retry outside"]
    assert (calls.loc[calls["outcome"] == "rejected", "attempts"] == 1).all()


def test_breaker_and_retry_frames(runs):
    r = runs["retry"][0]
    assert list(r.calls.columns) == [
        "variant",
        "call",
        "start",
        "end",
        "latency_s",
        "outcome",
        "attempts",
        "state",
    ]
    assert list(r.attempts.columns) == ["variant", "call", "attempt", "start", "end", "outcome"]
    assert "rejected" not in set(r.attempts["outcome"])
    assert r.attempts.groupby("variant")["attempt"].max().to_dict() == {
        "no retry": 1,
        "retry inside": 3,
        "retry outside": 3,
    }
    assert r.health["state"].tolist() == ["flaky", "down", "flaky"]


def test_breaker_and_retry_determinism_and_bad_input():
    a = breakers.breaker_and_retry("retry inside", seed=1, duration_s=15)
    b = breakers.breaker_and_retry("retry inside", seed=1, duration_s=15)
    c = breakers.breaker_and_retry("retry inside", seed=2, duration_s=15)
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.attempts, b.attempts)
    assert not a.calls.equals(c.calls)
    with pytest.raises(ValueError, match="variants item='inside' is not one of"):
        breakers.breaker_and_retry("inside")
    with pytest.raises(ValueError, match="attempts=0 must be between 1 and 20"):
        breakers.breaker_and_retry(attempts=0)
    with pytest.raises(ValueError, match="flaky=1.5 must be between 0 and 1"):
        breakers.breaker_and_retry(flaky=1.5)
    with pytest.raises(ValueError, match="cap_s=0.1 must be at least 0.2"):
        breakers.breaker_and_retry(cap_s=0.1)
