"""The circuit-breaker experiments of notebook 03: each lesson, over a few seeds."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from distlab.breaker import CircuitBreaker
from distlab.experiments import Result, breakers, sweep
from distlab.experiments.result import plain_params
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


def assert_same_seed_same_tables(experiment, *args, seed, tables, **kwargs):
    """Two runs at ``seed`` give the same frame and ``tables``; the next seed another frame."""
    a = experiment(*args, seed=seed, **kwargs)
    b = experiment(*args, seed=seed, **kwargs)
    for table in ("frame", *tables):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert not a.frame.equals(experiment(*args, seed=seed + 1, **kwargs).frame)


# -- make_breaker -----------------------------------------------------------------------------


def test_presets():
    course = breakers.make_breaker("course")
    for _ in range(5):
        assert course.try_acquire(0.0)
        course.on_error(0.0, 0.0)
    assert course.state_at(1.0).value == "OPEN"
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
    assert list(r.frame.columns) == [
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
    assert set(r.frame["outcome"]) == {"ok", "error", "timeout", "rejected"}
    assert set(r.frame["client"]) == {"client 1", "client 2", "client 3"}
    assert r.health["state"].tolist() == ["up", "down", "slow", "recovering", "up"]
    # the state bands tile the run, in order, and agree with the transitions
    s = r.states
    assert s["start"].iloc[0] == 0.0 and s["state"].iloc[0] == "CLOSED"
    assert np.allclose(s["start"].iloc[1:].to_numpy(), s["end"].iloc[:-1].to_numpy())
    assert s["end"].iloc[-1] >= 240.0
    # rejections are instant; a rejected call was rejected in OPEN or a full HALF_OPEN
    rejected = r.frame[r.frame["outcome"] == "rejected"]
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
    calls = r.frame
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
    course = runs["course"][seed].frame

    def slow_admitted(c):
        return ((c["start"] >= 30) & (c["start"] < 100) & (c["outcome"] != "rejected")).sum()

    assert slow_admitted(r.frame) < slow_admitted(course) / 2
    # never more than 3 probes per HALF_OPEN
    half = r.states[r.states["state"] == "HALF_OPEN"]
    admitted = r.frame[(r.frame["outcome"] != "rejected") & (r.frame["state"] == "HALF_OPEN")]
    for a, b in zip(half["start"], half["end"]):
        assert ((admitted["start"] >= a) & (admitted["start"] <= b)).sum() <= 3


def test_transitions_summary(runs):
    summary = runs["recommended"][0].summary
    assert summary.index.tolist() == ["recommended"] and summary.index.name == "breaker"
    s = summary.loc["recommended"]
    assert s["calls"] == s["ok"] + s["error"] + s["timeout"] + s["rejected"]
    assert s["openings"] == s["CLOSED->OPEN"] + s.get("HALF_OPEN->OPEN", 0)
    assert s["time_open_s"] + s["time_half_open_s"] + s["time_closed_s"] == pytest.approx(
        runs["recommended"][0].states["end"].iloc[-1]
    )
    assert 10 < s["first_open_s"] < 20


def _real_openings(trans) -> int:
    """Changes into OPEN from another state, counted from the transitions table."""
    return int(((trans["state"] == "OPEN") & (trans["from_state"] != "OPEN")).sum())


def test_openings_count_state_changes_not_restarts_of_the_wait(runs):
    # The course's breaker restarts its wait when a late failure (from a call admitted before
    # it opened) arrives while it is OPEN: an OPEN -> OPEN event, which is not an opening.
    course = runs["course"][0]
    s = course.summary.loc["course"]
    assert s["OPEN->OPEN"] > 0  # this run does contain restarts of the wait ...
    assert s["openings"] == s["CLOSED->OPEN"] + s.get("HALF_OPEN->OPEN", 0)  # ... not counted
    assert s["openings"] == _real_openings(course.transitions)
    # the same counting in the experiments that compare variants
    for name in ("probing", "retry"):
        r = runs[name][0]
        for variant, trans in r.transitions.groupby("variant"):
            assert r.summary.loc[variant, "openings"] == _real_openings(trans), (name, variant)


def test_the_course_run_shows_both_defects_of_the_course_breaker(runs):
    # late failures restart the OPEN wait, and a late success closes it straight from OPEN
    moves = runs["course"][0].transitions
    pairs = set(zip(moves["from_state"], moves["state"]))
    assert ("OPEN", "OPEN") in pairs and ("OPEN", "CLOSED") in pairs


def test_transitions_determinism_and_seeds():
    assert_same_seed_same_tables(
        breakers.transitions, seed=5, duration_s=60, tables=("transitions", "rates")
    )


def test_transitions_other_schedules_and_custom_breakers():
    up = breakers.transitions(schedule="up", duration_s=30)
    assert set(up.frame["outcome"]) == {"ok"} and up.transitions.empty
    assert up.states["state"].tolist() == ["CLOSED"]
    own = breakers.transitions(
        schedule=[(0, Up())], duration_s=10, breaker={"preset": "course", "wait_in_open": 5}
    )
    assert own.params["breaker"] == "custom" and own.thresholds["counts_slow"] is False
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
    s = r.summary
    without, with_ = s.loc["without breaker"], s.loc["with breaker"]
    assert without["rejected"] == 0 and with_["rejected"] > 50
    assert with_["mean_failed_latency_s"] < 0.5 * without["mean_failed_latency_s"]
    assert with_["time_waiting_on_failures_s"] < 0.3 * without["time_waiting_on_failures_s"]
    assert with_["sent"] < without["sent"]
    assert with_["served_for_nobody"] < 0.3 * without["served_for_nobody"]
    assert with_["peak_queue"] < without["peak_queue"]
    assert with_["recovery_s"] <= 2.0
    assert without["recovery_s"] > with_["recovery_s"] + 10
    assert with_["ok_share"] > without["ok_share"]


def test_with_and_without_frames(runs):
    r = runs["with_and_without"][0]
    assert list(r.frame.columns) == ["variant", "start", "end", "latency_s", "outcome", "state"]
    assert list(r.load.columns) == [
        "variant",
        "time",
        "sent_per_s",
        "ok_per_s",
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
    assert set(r.frame.loc[r.frame["variant"] == "without breaker", "state"]) == {""}
    assert r.health["state"].tolist() == ["up", "slow", "up"]
    # the load during the stall: without a breaker, every call reaches the dependency
    stall = r.load[(r.load["time"] >= 8) & (r.load["time"] < 15)]
    by = stall.groupby("variant")["sent_per_s"].mean()
    assert by["with breaker"] < 0.5 * by["without breaker"]


def test_with_and_without_determinism_and_bad_input():
    assert_same_seed_same_tables(
        breakers.with_and_without, "with breaker", seed=3, duration_s=20, tables=("load",)
    )
    with pytest.raises(ValueError, match="variants item='with' is not one of"):
        breakers.with_and_without("with")
    with pytest.raises(ValueError, match="variants=\\(\\) is empty"):
        breakers.with_and_without(())
    with pytest.raises(ValueError, match=r"slow_factor=0.5 must be in \[1, 1000\]"):
        breakers.with_and_without(slow_factor=0.5)
    with pytest.raises(ValueError, match="stall_at_s=50 must be in"):
        breakers.with_and_without(stall_at_s=50)


# -- half-open probing ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_unlimited_probing_knocks_it_over_limited_probing_lets_it_recover(runs, seed):
    r = runs["probing"][seed]
    s = r.summary
    course, rec = s.loc["course"], s.loc["recommended"]
    assert course["knockovers"] >= 2 and math.isnan(course["recovered_at_s"])
    assert course["openings"] > rec["openings"]  # it keeps reopening
    assert math.isnan(course["closed_at_s"])
    assert rec["knockovers"] == 0 and rec["recovered_at_s"] == pytest.approx(30 + 90)
    assert rec["closed_at_s"] >= rec["recovered_at_s"]
    assert rec["max_half_open_admitted"] <= 3 < course["max_half_open_admitted"]
    assert rec["ok_share"] > 3 * course["ok_share"]
    knocked = r.health[r.health["label"] == "down (knocked over)"]
    assert set(knocked["variant"]) == {"course"}
    assert list(r.health.columns) == ["variant", "start", "end", "state", "label"]


def test_half_open_probing_it_is_the_limit_on_probes():
    r = breakers.half_open_probing(
        {"3 probes": "recommended", "20 probes": {"permitted_calls_in_half_open": 20}}, seed=0
    )
    s = r.summary
    assert s.loc["3 probes", "knockovers"] == 0 < s.loc["20 probes", "knockovers"]
    assert math.isnan(s.loc["20 probes", "recovered_at_s"])


def test_half_open_probing_determinism_and_bad_input():
    assert_same_seed_same_tables(
        breakers.half_open_probing, "course", seed=2, duration_s=100, tables=("health",)
    )
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
    s = r.summary
    none, inside, outside = (s.loc[v] for v in breakers.RETRY_VARIANTS)
    assert inside["time_to_open_s"] < outside["time_to_open_s"]
    assert inside["time_to_open_s"] <= none["time_to_open_s"]
    assert inside["sent_before_open"] <= 12 < 2 * 12 < outside["sent_before_open"]
    assert inside["sent_during_failure"] < 0.5 * outside["sent_during_failure"]
    assert inside["time_waiting_on_failures_s"] < outside["time_waiting_on_failures_s"]
    # retries are for transient errors: both retrying variants beat no retry outside the outage
    calm = r.frame[(r.frame["start"] < 5) & (r.frame["end"] < 5)]
    share = calm.groupby("variant")["outcome"].apply(lambda o: (o == "ok").mean())
    assert share["retry around breaker"] > share["no retry"]
    assert share["breaker around retry"] > share["no retry"]
    # outside: a rejected call sent nothing (the breaker refused the whole retried call)
    calls = r.frame[r.frame["variant"] == "breaker around retry"]
    assert (calls.loc[calls["outcome"] == "rejected", "attempts"] == 1).all()


def test_breaker_and_retry_frames(runs):
    r = runs["retry"][0]
    assert list(r.frame.columns) == [
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
        "retry around breaker": 3,
        "breaker around retry": 3,
    }
    assert r.health["state"].tolist() == ["flaky", "down", "flaky"]


def test_breaker_and_retry_determinism_and_bad_input():
    assert_same_seed_same_tables(
        breakers.breaker_and_retry,
        "retry around breaker",
        seed=1,
        duration_s=15,
        tables=("attempts",),
    )
    with pytest.raises(ValueError, match="variants item='inside' is not one of"):
        breakers.breaker_and_retry("inside")
    with pytest.raises(ValueError, match="max_attempts=0 must be between 1 and 20"):
        breakers.breaker_and_retry(max_attempts=0)
    with pytest.raises(ValueError, match="flaky=1.5 must be between 0 and 1"):
        breakers.breaker_and_retry(flaky=1.5)
    with pytest.raises(ValueError, match="cap_s=0.1 must be at least base_s=0.2"):
        breakers.breaker_and_retry(cap_s=0.1)


# -- the result shape and bounded work --------------------------------------------------------


@pytest.mark.parametrize(
    "run, index",
    [
        (lambda: breakers.transitions(duration_s=30), ["recommended"]),
        (lambda: breakers.with_and_without(duration_s=20), list(breakers.WITH_WITHOUT_VARIANTS)),
        (lambda: breakers.half_open_probing(duration_s=60), list(breakers.PROBING_VARIANTS)),
        (lambda: breakers.breaker_and_retry(duration_s=15), list(breakers.RETRY_VARIANTS)),
    ],
)
def test_every_experiment_returns_a_result_with_plain_params_and_a_numeric_summary(run, index):
    r = run()
    assert isinstance(r, Result)
    assert r.summary.index.tolist() == index
    assert all(pd.api.types.is_numeric_dtype(t) for t in r.summary.dtypes)
    assert r.params == plain_params(**r.params) and r.params["seed"] == 0
    assert "success" not in set(r.frame["outcome"]) and set(r.frame["outcome"]) <= {
        "ok",
        "error",
        "timeout",
        "rejected",
    }
    assert set(r.states["state"]) <= {"CLOSED", "OPEN", "HALF_OPEN"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.frame = None


def test_sweep_stacks_the_summaries():
    table = sweep(breakers.breaker_and_retry, {"max_attempts": [1, 2]}, seeds=[0], table="summary")
    assert len(table) == 2 * len(breakers.RETRY_VARIANTS)


def test_a_near_zero_capacity_is_refused_at_once():
    with pytest.raises(ValueError, match="capacity_per_s=1e-300 must be in"):
        breakers.with_and_without(capacity_per_s=1e-300)


def test_a_dependency_that_never_drains_stops_being_watched():
    r = breakers.with_and_without(  # it would drain after about 1e5 s: 1e7 samples
        capacity_per_s=0.001, duration_s=10, stall_at_s=2, stall_s=2, bin_s=0.01
    )
    assert r.summary["recovered_at_s"].isna().all()


def test_a_failure_too_short_to_end_names_failure_s():
    with pytest.raises(ValueError, match="failure_s=1e-300 is too short"):
        breakers.breaker_and_retry(failure_s=1e-300)
    with pytest.raises(ValueError, match="stall_s=1e-300 is too short"):
        breakers.with_and_without(stall_s=1e-300)
    with pytest.raises(ValueError, match="down_s=1e-300 is too short"):
        breakers.half_open_probing(down_s=1e-300)


def test_cap_s_below_base_s_names_both():
    with pytest.raises(ValueError, match="cap_s=2 must be at least base_s=3"):
        breakers.breaker_and_retry(base_s=3)


@pytest.mark.parametrize(
    "run",
    [
        lambda: breakers.with_and_without(bin_s=1e-9),
        lambda: breakers.half_open_probing(bin_s=1e-300),
        lambda: breakers.breaker_and_retry(bin_s=1e-9),
    ],
)
def test_too_many_bins_are_refused_before_any_work(run):
    with pytest.raises(ValueError, match="bin_s="):
        run()


def test_timeouts_and_service_times_are_bounded():
    with pytest.raises(ValueError, match="timeout_s=1e\\+300 must be in"):
        breakers.transitions(timeout_s=1e300)
    with pytest.raises(ValueError, match="service_time_s=1e\\+300 must be in"):
        breakers.half_open_probing(service_time_s=1e300)


def test_variant_and_schedule_errors_name_the_parameter_passed():
    with pytest.raises(ValueError, match="breakers item 'x': breaker='x' is not one of"):
        breakers.half_open_probing("x")
    with pytest.raises(TypeError, match=r"schedule=\[1\]: changes\[0\]=1 must be"):
        breakers.transitions(schedule=[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("breaker", ["course", "recommended"])
@pytest.mark.parametrize("schedule", ["outage", "slow"])
def test_transitions_summary_counts_what_its_tables_hold(seed, breaker, schedule):
    r = breakers.transitions(breaker=breaker, schedule=schedule, seed=seed)
    row, calls, trans, bands = r.summary.iloc[0], r.frame, r.transitions, r.states
    counts = calls["outcome"].value_counts()
    for outcome in ("ok", "error", "timeout", "rejected"):
        assert row[outcome] == counts.get(outcome, 0)
    assert row["slow"] == calls["slow"].sum()
    opened = trans[(trans["state"] == "OPEN") & (trans["from_state"] != "OPEN")]
    assert row["openings"] == len(opened) and (row["openings"] > 0 or schedule != "outage")
    first = opened["time"].iloc[0] if len(opened) else math.nan
    assert row["first_open_s"] == first or math.isnan(row["first_open_s"]) and math.isnan(first)
    for state in ("OPEN", "HALF_OPEN", "CLOSED"):
        part = bands[bands["state"] == state]
        assert row[f"time_{state.lower()}_s"] == (part["end"] - part["start"]).sum()
    moves = trans.groupby(["from_state", "state"], sort=False).size()
    assert [c for c in r.summary.columns if "->" in c] == [f"{a}->{b}" for a, b in moves.index]
    assert all(row[f"{a}->{b}"] == n for (a, b), n in moves.items())
