"""The challenges of notebook 01: partial failures, timeout ambiguity, write races, clocks."""

import re

import numpy as np
import pandas as pd
import pytest

from distlab.experiments import Result, challenges
from distlab.experiments.network import message_exchange


def test_partial_failures_is_deterministic_per_seed():
    a = challenges.partial_failures("slow", duration_s=5, seed=3)
    b = challenges.partial_failures("slow", duration_s=5, seed=3)
    c = challenges.partial_failures("slow", duration_s=5, seed=4)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.params == b.params
    assert not a.frame.equals(c.frame)


@pytest.mark.parametrize(
    ("function", "result_class", "index", "columns"),
    [
        (
            challenges.partial_failures,
            challenges.PartialFailureResult,
            ["A", "B", "C", "D"],
            ["requests", "ok_share", "median_latency_s", "p99_latency_s"],
        ),
        (
            challenges.timeout_ambiguity,
            challenges.AmbiguityResult,
            ["payments"],
            ["requests", "ok", "timeout", "executed", "ambiguous", "ambiguous_share"],
        ),
        (
            challenges.write_race,
            challenges.WriteRaceResult,
            ["race"],
            ["trials", "earlier_write_won", "earlier_write_won_share"],
        ),
        (
            challenges.clock_order,
            challenges.ClockOrderResult,
            ["clocks"],
            ["events", "misordered", "misordered_share"],
        ),
    ],
)
def test_each_experiment_returns_its_result_with_a_summary_of_plain_numbers(
    function, result_class, index, columns
):
    result = function(seed=2)
    assert type(result) is result_class and isinstance(result, Result)
    assert list(result.summary.index) == index
    assert list(result.summary.columns) == columns
    assert all(np.issubdtype(dtype, np.number) for dtype in result.summary.dtypes)
    assert result.params["seed"] == 2
    again = function(**{k: v for k, v in result.params.items()})
    pd.testing.assert_frame_equal(again.frame, result.frame)


def test_partial_failures_outcomes_follow_each_services_health():
    result = challenges.partial_failures("slow", seed=0)
    calls = result.frame
    by_service = calls.groupby("service")["outcome"]
    assert set(by_service.get_group("A")) == {"ok"}
    assert set(by_service.get_group("C")) == {"ok"}
    assert set(by_service.get_group("B")) == {"error"}
    assert "timeout" in set(by_service.get_group("D"))
    # B's host refuses at once: the call itself takes one round trip.
    assert calls.loc[calls["service"] == "B", "call_s"].max() == pytest.approx(0.01)
    assert (calls["call_s"] <= 1.0 + 1e-9).all()  # nothing waits past the timeout
    assert np.allclose(calls["latency_s"], calls["wait_s"] + calls["call_s"])
    assert list(result.health["state"]) == ["up", "down", "up", "slow"]
    assert list(result.health.columns) == ["service", "start", "end", "state", "label"]


def test_slow_is_worse_than_dead_for_the_healthy_services():
    for seed in range(3):
        slow = challenges.partial_failures("slow", seed=seed).summary
        dead = challenges.partial_failures("down", seed=seed).summary
        for healthy in ("A", "C"):
            assert slow.loc[healthy, "p99_latency_s"] > 1.5 * dead.loc[healthy, "p99_latency_s"]


def test_more_workers_protect_the_healthy_services_from_a_slow_one():
    few = challenges.partial_failures("slow", workers=2, seed=0).summary
    many = challenges.partial_failures("slow", workers=12, seed=0).summary
    assert many.loc["A", "p99_latency_s"] < few.loc["A", "p99_latency_s"]


def test_arrivals_stop_at_the_duration_and_match_the_rate():
    calls = challenges.partial_failures("up", rate_per_s=20, duration_s=50, seed=1).frame
    assert calls["arrival"].max() <= 50
    assert len(calls) == pytest.approx(1000, rel=0.1)
    assert calls["service"].value_counts().max() - calls["service"].value_counts().min() <= 1


def test_timeout_ambiguity_finds_requests_that_ran_after_the_caller_gave_up():
    result = challenges.timeout_ambiguity(requests=200, seed=0)
    table = result.frame
    ambiguous = table[table["ambiguous"]]
    assert len(ambiguous) > 0 and result.summary.loc["payments", "ambiguous"] == len(ambiguous)
    assert (ambiguous["outcome"] == "timeout").all()
    # Some of them finished at the server only after the client had given up.
    assert (ambiguous["server_done"] > ambiguous["client_done"]).any()
    ok = table[table["outcome"] == "ok"]
    assert ok["executed"].all()
    # With loss, some timed-out requests never reached the server at all.
    assert ((table["outcome"] == "timeout") & ~table["executed"]).any()


def test_no_ambiguity_without_loss_and_with_a_generous_timeout():
    table = challenges.timeout_ambiguity(requests=100, timeout_s=100.0, loss=0.0, seed=0).frame
    assert (table["outcome"] == "ok").all()
    assert not table["ambiguous"].any()


def test_write_race_the_last_arrival_wins():
    result = challenges.write_race(trials=300, seed=0)
    race = result.frame
    assert len(race) == 300
    assert result.summary.loc["race", "earlier_write_won"] == race["earlier_write_won"].sum()
    user_1_last = race["arrived_1"] > race["arrived_2"]
    assert (race["final_balance"] == np.where(user_1_last, 100, 200)).all()
    assert (race["sent_2"] - race["sent_1"]).round(9).eq(0.002).all()
    assert 0.2 < race["earlier_write_won"].mean() < 0.5


def test_write_race_without_a_gap_is_a_coin_toss_and_with_a_long_one_user_2_wins():
    even = challenges.write_race(trials=2000, gap_s=0.0, seed=1).frame
    assert even["earlier_write_won"].mean() == pytest.approx(0.5, abs=0.05)
    late = challenges.write_race(trials=200, gap_s=1.0, seed=1).frame
    assert not late["earlier_write_won"].any()


def test_clock_order_misorders_only_with_skew_and_more_with_more_skew():
    assert not challenges.clock_order(events=500, skew_s=0.0, seed=0).frame["misordered"].any()
    small = challenges.clock_order(events=2000, skew_s=0.001, seed=0).frame["misordered"].mean()
    large = challenges.clock_order(events=2000, skew_s=0.01, seed=0).frame["misordered"].mean()
    assert 0 < small < large


def test_clock_order_flags_exactly_the_inversions():
    table = challenges.clock_order(events=300, skew_s=0.004, seed=2).frame
    stamps = table["timestamp"].to_numpy()
    assert (table["misordered"].to_numpy()[1:] == (stamps[1:] <= stamps[:-1])).all()
    assert table["true_time"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("function", "kwargs", "error", "message"),
    [
        (
            challenges.partial_failures,
            {"d_state": "asleep"},
            ValueError,
            "d_state='asleep' is not one of 'slow', 'down', 'up'",
        ),
        (challenges.partial_failures, {"workers": 0}, ValueError, "workers=0 must be between 1"),
        (
            challenges.partial_failures,
            {"timeout_s": 0},
            ValueError,
            "timeout_s=0 must be in (0, 86400]",
        ),
        (
            challenges.partial_failures,
            {"slow_factor": 0.5},
            ValueError,
            "slow_factor=0.5 must be in [1, 10000]",
        ),
        (
            challenges.timeout_ambiguity,
            {"loss": -0.1},
            ValueError,
            "loss=-0.1 must be between 0 and 1",
        ),
        (challenges.timeout_ambiguity, {"requests": 0}, ValueError, "requests=0 must be between 1"),
        (challenges.write_race, {"gap_s": -1}, ValueError, "gap_s=-1 must be in [0, 86400]"),
        # Accepted before: infinite latencies, and a race "won" on infinite arrival times.
        (
            challenges.write_race,
            {"mean_latency_s": 1e308},
            ValueError,
            "mean_latency_s=1e+308 must be in (0, 86400]",
        ),
        (challenges.write_race, {"gap_s": 1e308}, ValueError, "gap_s=1e+308 must be in [0, 86400]"),
        (
            challenges.clock_order,
            {"mean_gap_s": 1e308},
            ValueError,
            "mean_gap_s=1e+308 must be in (0, 86400]",
        ),
        (
            challenges.partial_failures,
            {"rate_per_s": 10_000, "duration_s": 3600},
            ValueError,
            "rate_per_s=10000 for duration_s=3600 asks for 36,000,000 requests; at most 100,000",
        ),
        (
            challenges.partial_failures,
            {"slow_factor": 1e308},
            ValueError,
            "slow_factor=1e+308 must be in [1, 10000]",
        ),
        (
            challenges.timeout_ambiguity,
            {"mean_service_s": 1e308},
            ValueError,
            "mean_service_s=1e+308 must be in (0, 86400]",
        ),
        (challenges.clock_order, {"events": 1}, ValueError, "events=1 must be between 2"),
        (challenges.clock_order, {"seed": "x"}, TypeError, "seed='x' must be an int"),
    ],
)
def test_bad_input_is_refused_clearly(function, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        function(**kwargs)


def test_partial_failures_with_no_request_at_all_still_has_a_summary_per_service():
    # Found by the fuzz test: rate_per_s=5e-324 made no request, and the summary failed inside
    # pandas ("dtype 'object' does not support operation 'quantile'").
    result = challenges.partial_failures(rate_per_s=5e-324)
    assert len(result.frame) == 0
    assert list(result.summary.index) == ["A", "B", "C", "D"]
    assert (result.summary["requests"] == 0).all()
    assert result.summary["p99_latency_s"].isna().all()


@pytest.mark.parametrize(
    "function",
    [
        challenges.partial_failures,
        challenges.timeout_ambiguity,
        challenges.write_race,
        challenges.clock_order,
        message_exchange,
    ],
)
def test_signature_one_positional_then_keywords_and_seed_last(function):
    import inspect

    parameters = list(inspect.signature(function).parameters.values())
    positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert len(positional) <= 1
    assert parameters[-1].name == "seed" and parameters[-1].default == 0
