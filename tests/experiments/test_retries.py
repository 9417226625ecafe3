"""The retry experiments of notebook 02: timeline, storm, amplification, budget."""

import numpy as np
import pandas as pd
import pytest

from distlab.experiments import retries, sweep
from distlab.retry import ConstantBackoff, ExponentialBackoff, NoBackoff

# -- backoff_for ------------------------------------------------------------------------------


def test_backoff_for_maps_each_strategy():
    assert retries.backoff_for("none") == NoBackoff()
    assert retries.backoff_for("constant", 0.5) == ConstantBackoff(0.5)
    assert retries.backoff_for("exponential", 1.0, 8.0) == ExponentialBackoff(1.0, 8.0, None)
    for jitter in ("full", "equal", "decorrelated"):
        assert retries.backoff_for(jitter, 0.1, 2.0) == ExponentialBackoff(0.1, 2.0, jitter)
    assert retries.STRATEGIES == (
        "none",
        "constant",
        "exponential",
        "full",
        "equal",
        "decorrelated",
    )


# -- timeline ---------------------------------------------------------------------------------


def test_timeline_course_text_has_two_waits_of_1_and_2_seconds_not_three():
    attempts = retries.timeline(seed=0).frame
    first = attempts[attempts["call"] == 1]
    for _, call in first.groupby("client"):
        assert call["attempt"].tolist() == [1, 2, 3]
        assert call["wait_before_s"].tolist() == [0.0, 1.0, 2.0]
        assert call["outcome"].tolist() == ["error"] * 3  # all inside the 5 s outage
        assert call["gave_up"].tolist() == [False, False, True]
        assert call["reason"].tolist() == ["", "", "attempts"]
    assert attempts.groupby(["client", "call"]).size().max() == 3
    assert set(attempts["wait_before_s"]) == {0.0, 1.0, 2.0}  # never the promised 4 s
    # Each wait is exactly the gap between an attempt and the one before it.
    gaps = attempts.groupby(["client", "call"]).apply(
        lambda c: (c["start"].iloc[1:].to_numpy() - c["end"].iloc[:-1].to_numpy()).tolist(),
        include_groups=False,
    )
    waits = attempts[attempts["attempt"] > 1].groupby(["client", "call"])["wait_before_s"]
    for key, values in waits:
        assert values.tolist() == pytest.approx(gaps[key])


def test_timeline_without_jitter_clients_retry_in_synchronized_waves():
    for seed in range(3):
        a = retries.timeline(seed=seed).frame
        first = a[a["call"] == 1]
        spread = first.groupby("attempt")["start"].agg(lambda s: s.max() - s.min())
        assert (spread < 0.05).all()  # every client's attempt n within 50 ms of the others


def test_timeline_with_full_jitter_the_waves_spread_out():
    for seed in range(3):
        a = retries.timeline("full", seed=seed).frame
        first = a[(a["call"] == 1) & (a["attempt"] > 1)]
        spread = first.groupby("attempt")["start"].agg(lambda s: s.max() - s.min())
        assert (spread > 0.25).all()


def test_timeline_budget_stops_retries_once_dry():
    plain = retries.timeline(seed=0).frame
    budget = retries.timeline(budget=True, seed=0).frame
    assert "budget" in set(budget["reason"])
    # The budget (10 tokens, retries above 5) allows four retries for the first wave, none later.
    in_outage = budget[budget["start"] < 5.0]
    assert (in_outage["attempt"] > 1).sum() == 4
    assert (in_outage["attempt"] == 3).sum() == 0
    assert (budget["attempt"] > 1).sum() < (plain["attempt"] > 1).sum()


def test_timeline_health_load_and_summary():
    result = retries.timeline(seed=2)
    assert result.health[["start", "end", "label"]].values.tolist()[0] == [0.0, 5.0, "down"]
    assert result.health["label"].tolist() == ["down", "up"]
    assert result.health["end"].iloc[-1] >= result.frame["end"].max()
    load = result.load
    assert list(load.columns) == ["time", "attempts", "rate_per_s"]
    assert load["attempts"].sum() == len(result.frame)
    assert np.allclose(load["rate_per_s"], load["attempts"] / 0.25)
    assert np.allclose(np.diff(load["time"]), 0.25)
    summary = result.summary
    assert list(summary.index) == [f"client {k}" for k in range(1, 6)]
    assert (summary["give_ups"] == 1).all()  # the first call gives up before the service is back
    assert (summary["first_ok_s"] > 5.0).all()
    assert (summary["attempts"] == summary["calls"] + summary["retries"]).all()
    assert list(result.frame.columns) == [
        "client",
        "call",
        "attempt",
        "start",
        "end",
        "outcome",
        "wait_before_s",
        "final",
        "gave_up",
        "reason",
    ]


def test_timeline_no_outage_no_retries():
    a = retries.timeline(outage_s=0, seed=0).frame
    assert (a["outcome"] == "ok").all() and (a["attempt"] == 1).all()


# -- storm ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def storms():
    return [retries.storm(seed=seed) for seed in range(4)]


def test_storm_without_jitter_the_load_comes_in_spikes(storms):
    for result in storms:
        s = result.summary
        assert s.loc["exponential", "peak_rate_per_s"] > 2 * s.loc["full", "peak_rate_per_s"]
        assert (
            s.loc["exponential", "peak_after_recovery_per_s"]
            > 5 * s.loc["full", "peak_after_recovery_per_s"]
        )
        # Without jitter, one spike after the recovery holds every client at once.
        assert s.loc["exponential", "peak_after_recovery_per_s"] == 50 / 0.1


def test_storm_synchronized_retries_knock_the_service_over_again(storms):
    for result in storms:
        s = result.summary
        assert s.loc["exponential", "overloaded"] > 20
        assert s.loc["full", "overloaded"] == 0
        assert s.loc["exponential", "caught_up_at_s"] > 1.5 * s.loc["full", "caught_up_at_s"]
        load = result.load
        after = load[(load["strategy"] == "exponential") & (load["time"] >= 5.0)]
        assert after["overloaded"].sum() == s.loc["exponential", "overloaded"]


def test_storm_with_ample_capacity_no_jitter_is_not_knocked_over():
    s = retries.storm(capacity_per_s=10_000, concurrency=100, queue_limit=1000, seed=0).summary
    assert s.loc["exponential", "overloaded"] == 0
    # One wave at 1 + 2 + 4 = 7 s serves everybody.
    assert s.loc["exponential", "caught_up_at_s"] == pytest.approx(7.0, abs=0.2)


def test_storm_tables_are_consistent(storms):
    result = storms[0]
    a, load = result.frame, result.load
    assert list(load.columns) == [
        "strategy",
        "time",
        "attempts",
        "rate_per_s",
        "ok",
        "down",
        "overloaded",
        "timeout",
    ]
    assert (load[["ok", "down", "overloaded", "timeout"]].sum(axis=1) == load["attempts"]).all()
    for strategy, part in a.groupby("strategy"):
        assert load.loc[load["strategy"] == strategy, "attempts"].sum() == len(part)
        assert part["client"].nunique() == 50
    r = result.summary
    assert (r["total_attempts"] == a.groupby("strategy").size()).all()
    assert list(r.index) == ["exponential", "full"] and r.index.name == "strategy"
    assert (a.loc[a["start"] < 5.0, "outcome"] == "error").all()


# -- amplification ----------------------------------------------------------------------------


def test_amplification_multiplies_by_attempts_at_every_layer():
    five = retries.amplification(layers=5, max_attempts=3).frame
    assert five["calls"].tolist() == [3, 9, 27, 81, 243]
    assert five["layer"].tolist() == [1, 2, 3, 4, 5]
    assert (five["mode"] == "every layer").all()
    three = retries.amplification(layers=3, max_attempts=4).frame
    assert three["calls"].iloc[-1] == 64
    assert (five["first_s"] <= five["last_s"]).all()


def test_amplification_retrying_at_the_top_only_and_with_a_budget():
    top = retries.amplification("top only", layers=5, max_attempts=3).frame
    assert top["calls"].tolist() == [3] * 5
    budget = retries.amplification("budget", layers=5, max_attempts=3).frame
    assert budget["calls"].iloc[-1] <= 3 + 5 * 4  # each budget allows at most 5 retries
    assert budget["calls"].is_monotonic_increasing
    assert retries.amplification("top only", layers=3, max_attempts=4).frame["calls"].tolist() == [
        4,
        4,
        4,
    ]


# -- budget -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def budget_runs():
    return [retries.budget_effect(seed=seed) for seed in range(4)]


def test_budget_bounds_the_extra_load(budget_runs):
    for result in budget_runs:
        s = result.summary
        assert s.loc["budget", "load_ratio"] < 1.3  # about the failure-free rate, plus a little
        assert s.loc["no budget", "load_ratio"] > 1.8
        assert s.loc["budget", "extra_load"] < 0.15
        assert s.loc["budget", "peak_rate_per_s"] < s.loc["no budget", "peak_rate_per_s"]


def test_budget_the_dependency_recovers_sooner(budget_runs):
    for result in budget_runs:
        s = result.summary
        assert s.loc["budget", "recovery_s"] < 2.0
        assert s.loc["no budget", "recovery_s"] > s.loc["budget", "recovery_s"] + 1.0
        load = result.load
        backlog = load.groupby("variant")["queue"].max()
        assert backlog["no budget"] > 2 * backlog["budget"]  # the retries fill its queue


def test_budget_tables_are_consistent(budget_runs):
    result = budget_runs[0]
    load, a = result.load, result.frame
    assert list(load.columns) == [
        "variant",
        "time",
        "rate_per_s",
        "ok_per_s",
        "failed_per_s",
        "base_rate_per_s",
        "queue",
    ]
    assert np.allclose(load["rate_per_s"], load["ok_per_s"] + load["failed_per_s"])
    assert list(a["variant"].unique()) == ["no budget", "budget"]
    assert a.groupby("variant")["request"].nunique().nunique() == 1  # the same users in both
    assert result.health["state"].tolist() == ["up", "slow", "up"]
    assert list(a.columns) == ["variant", "request", "attempt", "start", "end", "outcome", "error"]
    assert set(a["error"]) <= {"", "overloaded", "timeout"}


# -- every experiment -------------------------------------------------------------------------

RUNS = {
    "timeline": lambda seed: retries.timeline(seed=seed).frame,
    "timeline full": lambda seed: retries.timeline("full", seed=seed).frame,
    "storm": lambda seed: retries.storm(clients=20, seed=seed).load,
    "amplification": lambda seed: retries.amplification(layers=3, max_attempts=3, seed=seed).frame,
    "budget": lambda seed: retries.budget_effect(duration_s=8, seed=seed).load,
}


@pytest.mark.parametrize("name", list(RUNS))
def test_deterministic_per_seed(name):
    run = RUNS[name]
    pd.testing.assert_frame_equal(run(5), run(5))
    assert not run(5).equals(run(6))


def test_sweep_stacks_the_frames():
    df = sweep(
        retries.storm,
        {"strategies": [("exponential",)]},
        seeds=range(2),
        clients=10,
        table="summary",
    )
    assert len(df) == 2 and set(df["seed"]) == {0, 1}
    frames = sweep(retries.storm, {"strategies": ["full"]}, seeds=range(2), clients=10)
    assert set(frames["seed"]) == {0, 1} and frames["client"].nunique() == 10


@pytest.mark.parametrize(
    ("function", "kwargs", "error", "message"),
    [
        (
            retries.backoff_for,
            {"strategy": "linear"},
            ValueError,
            "strategy='linear' is not one of 'none', 'constant'",
        ),
        (
            retries.backoff_for,
            {"strategy": "full", "base_s": 2.0, "cap_s": 1.0},
            ValueError,
            "cap_s=1 must be at least base_s=2",
        ),
        (retries.timeline, {"strategy": "fast"}, ValueError, "strategy='fast' is not one of"),
        (
            retries.timeline,
            {"max_attempts": 0},
            ValueError,
            "max_attempts=0 must be between 1 and 50",
        ),
        (retries.timeline, {"clients": 0}, ValueError, "clients=0 must be between 1 and 200"),
        (retries.timeline, {"base_s": -1}, ValueError, r"base_s=-1 must be in \[0, 3600\]"),
        (
            retries.timeline,
            {"base_s": 2.0, "cap_s": 1.0},
            ValueError,
            r"cap_s=1 must be at least base_s=2 \(or None\)",
        ),
        (retries.timeline, {"outage_s": -1}, ValueError, "outage_s=-1 must be in"),
        (retries.timeline, {"budget": "yes"}, TypeError, "budget='yes' must be True or False"),
        (retries.timeline, {"timeout_s": 0}, ValueError, "timeout_s=0 must be in"),
        (
            retries.timeline,
            {"think_s": 0, "latency_s": 0},
            ValueError,
            "think_s=0 with latency_s=0",
        ),
        (retries.timeline, {"seed": -1}, ValueError, "seed=-1 must be a non-negative integer"),
        (
            retries.storm,
            {"strategies": ["full", "slow"]},
            ValueError,
            "strategies item='slow' is not one of",
        ),
        (retries.storm, {"strategies": []}, ValueError, r"strategies=\(\) is empty"),
        (retries.storm, {"strategies": ["full", "full"]}, ValueError, "names a strategy twice"),
        (retries.storm, {"capacity_per_s": 0}, ValueError, "capacity_per_s=0 must be greater"),
        (retries.storm, {"queue_limit": -1}, ValueError, "queue_limit=-1 must be between 0"),
        (retries.storm, {"clients": 1.5}, TypeError, "clients=1.5 must be an integer"),
        (retries.amplification, {"layers": 0}, ValueError, "layers=0 must be between 1 and 10"),
        (
            retries.amplification,
            {"mode": "everywhere"},
            ValueError,
            "mode='everywhere' is not one of 'every layer', 'top only', 'budget'",
        ),
        (
            retries.amplification,
            {"layers": 10, "max_attempts": 5},
            ValueError,
            "max_attempts=5 at each of layers=10 would send 9,765,625 requests",
        ),
        (
            retries.amplification,
            {"token_ratio": 0},
            ValueError,
            r"token_ratio=0 must be in \(0, 1\]",
        ),
        (
            retries.budget_effect,
            {"variants": ["none"]},
            ValueError,
            "variants item='none' is not one of 'no budget', 'budget'",
        ),
        (retries.budget_effect, {"rate_per_s": 0}, ValueError, "rate_per_s=0 must be in"),
        (
            retries.budget_effect,
            {"failure_at_s": 20},
            ValueError,
            r"failure_at_s=20 must be in \[0, 12\]",
        ),
        (
            retries.budget_effect,
            {"slow_factor": 0.5},
            ValueError,
            "slow_factor=0.5 must be at least 1",
        ),
        (
            retries.budget_effect,
            {"max_tokens": 0},
            ValueError,
            "max_tokens=0 must be greater than 0",
        ),
    ],
)
def test_bad_input_is_refused_clearly(function, kwargs, error, message):
    with pytest.raises(error, match=message):
        function(**kwargs)


# -- reliability: each of these used to hang, crash or fail inside numpy ------------------------


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        (retries.timeline, {"bin_s": 1e-7}, r"bin_s=1e-07 cuts the .* into .* bins; at most"),
        (retries.timeline, {"bin_s": 5e-324}, r"bin_s=4.94066e-324 cuts"),
        (retries.timeline, {"base_s": 1e12}, r"base_s=1e\+12 must be in \[0, 3600\]"),
        (retries.timeline, {"max_attempts": 50}, r"raise bin_s to .* or shorten the waits"),
        (retries.timeline, {"think_s": 0, "latency_s": 1e-300}, r"asks for .* calls; at most"),
        (retries.storm, {"bin_s": 5e-324}, r"bin_s=4.94066e-324 cuts"),
        (retries.storm, {"capacity_per_s": 5e-324}, r"capacity_per_s=4.94066e-324 with conc"),
        (retries.budget_effect, {"slow_factor": 1e12}, r"slow_factor=1e\+12 makes each request"),
        (retries.budget_effect, {"failure_s": 5e-324}, r"failure_s=4.94066e-324 must be in"),
        (retries.budget_effect, {"variants": 1.0}, r"variants=1.0 must be a list of names"),
        (retries.amplification, {"base_s": 1e308}, r"base_s=1e\+308 must be in \[0, 3600\]"),
        (retries.amplification, {"latency_s": 1e308}, r"latency_s=1e\+308 must be in"),
        (retries.amplification, {"token_ratio": 1e-300}, r"token_ratio=1e-300 must be a whole"),
    ],
)
def test_work_is_bounded_and_refused_by_name(function, kwargs, message):
    with pytest.raises(ValueError if "variants" not in kwargs else TypeError, match=message):
        function(**kwargs)


def test_a_rate_so_low_that_nobody_arrives_is_an_empty_run():
    result = retries.budget_effect(rate_per_s=1e-300, seed=0)
    assert len(result.frame) == 0 and len(result.summary) == 0
    assert result.params["rate_per_s"] == 1e-300


def test_every_result_has_the_house_shape():
    from distlab.experiments import Result

    for result in (
        retries.timeline(seed=0),
        retries.storm(clients=5, seed=0),
        retries.amplification(layers=2, max_attempts=2),
        retries.budget_effect(duration_s=4, seed=0),
        retries.backoff_samples(samples=2),
    ):
        assert isinstance(result, Result)
        assert result.params["seed"] == 0
        numbers = result.summary.select_dtypes("number")
        assert len(numbers.columns) == len(result.summary.columns)  # plain numbers only
        assert "success" not in set(result.frame.get("outcome", [])) | set(
            result.frame.get("reason", [])
        )
