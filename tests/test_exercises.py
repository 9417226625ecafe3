"""The exercise checks: right answers pass, wrong ones fail with a reason, None is 'not yet'."""

import pytest

from distlab import exercises as ex


def test_check_round_trip():
    assert ex.check_round_trip(0.1, 0.81).passed is True
    wrong = ex.check_round_trip(0.1, 0.9)
    assert wrong.passed is False and "two" in wrong.message
    assert ex.check_round_trip(0.1, 0.5).passed is False
    assert ex.check_round_trip(0.1, None).passed is None
    assert repr(ex.check_round_trip(0.1, None)).startswith("✏️ Not answered yet")
    assert repr(ex.check_round_trip(0.1, 0.81)).startswith("✅ Right")
    assert repr(ex.check_round_trip(0.1, 0.5)).startswith("❌ Not yet")


def test_check_timeout_meaning():
    assert ex.check_timeout_meaning("unknown").passed is True
    assert ex.check_timeout_meaning("it ran").passed is False
    assert ex.check_timeout_meaning("it did not run").passed is False
    with pytest.raises(ValueError, match="answer='maybe' is not one of 'it ran'"):
        ex.check_timeout_meaning("maybe")


def test_check_partition_pairs_names_the_bad_group():
    with pytest.raises(ValueError, match=r"groups\[1\]=0 must be between 1 and 5"):
        ex.check_partition_pairs(5, [5, 0], 8)
    with pytest.raises(TypeError, match="groups=5 must be a list of group sizes"):
        ex.check_partition_pairs(5, 5, 8)
    with pytest.raises(ValueError, match="nodes=100000 must be between 2 and 10000"):
        ex.check_partition_pairs(100_000, [100_000], 0)


def test_check_workers_for_slow_dependency_checks_its_seed():
    with pytest.raises(TypeError, match="seed=0.5 must be an int"):
        ex.check_workers_for_slow_dependency(3, seed=0.5)


def test_check_partition_pairs():
    assert ex.check_partition_pairs(5, [3, 2], 8).passed is True
    assert ex.check_partition_pairs(5, [3, 2], 20).passed is False
    assert ex.check_partition_pairs(4, [1, 1, 2], 2).passed is True
    with pytest.raises(ValueError, match=r"groups=\[3, 3\] must add up to nodes=5"):
        ex.check_partition_pairs(5, [3, 3], 8)


def test_check_timeout_for_target():
    exact = 0.01 + 0.05 * 4.605170185988091  # round trip - mean * ln(0.01)
    assert ex.check_timeout_for_target(0.05, 0.01, 0.01, round(exact, 3)).passed is True
    assert ex.check_timeout_for_target(0.05, 0.01, 0.01, 0.1).passed is False
    too_long = ex.check_timeout_for_target(0.05, 0.01, 0.01, 2.0)
    assert too_long.passed is False and "go lower" in too_long.message
    with pytest.raises(ValueError, match="target=1 must be in"):
        ex.check_timeout_for_target(0.05, 0.01, 1, 0.3)


def test_check_workers_for_slow_dependency_accepts_only_the_minimum():
    from distlab.experiments.challenges import partial_failures

    def p99(workers):
        return partial_failures("slow", workers=workers).summary.loc["A", "p99_latency_s"]

    minimum = next(w for w in range(1, 30) if p99(w) < 0.5)
    assert ex.check_workers_for_slow_dependency(minimum).passed is True
    assert ex.check_workers_for_slow_dependency(minimum - 1).passed is False
    assert ex.check_workers_for_slow_dependency(minimum + 3).passed is False
    assert ex.check_workers_for_slow_dependency(None).passed is None


def test_check_course_waits():
    assert ex.check_course_waits([1, 2]).passed is True
    assert ex.check_course_waits([1.0, 2.0, 4.0]).passed is False
    assert "comment promises" in ex.check_course_waits([1, 2, 4]).message
    assert ex.check_course_waits([2, 4]).passed is False
    assert ex.check_course_waits(None).passed is None
    with pytest.raises(TypeError, match="must be a list of waits"):
        ex.check_course_waits(3)


def test_check_amplification():
    assert ex.check_amplification(3, 5, 243).passed is True
    assert ex.check_amplification(4, 3, 64).passed is True
    added = ex.check_amplification(3, 5, 15)
    assert added.passed is False and "multiply" in added.message
    assert ex.check_amplification(3, 5, 100).passed is False


def test_check_budget_stops_after():
    assert ex.check_budget_stops_after(10, 0.1, 5).passed is True
    assert ex.check_budget_stops_after(10, 0.1, 10).passed is False
    assert ex.check_budget_stops_after(3, 0.5, 2).passed is True  # 3 -> 2 -> 1.0: 1.5 is the bar
    with pytest.raises(ValueError, match="token_ratio=2 must be in"):
        ex.check_budget_stops_after(10, 2, 5)


def test_check_budget_stops_after_counts_instead_of_looping():
    # regression: a huge budget used to loop once per token (1e17 of them)
    with pytest.raises(ValueError, match="max_tokens=1e\\+17 must be at most"):
        ex.check_budget_stops_after(1e17, 0.1, 5)
    assert ex.check_budget_stops_after(1e12, 0.1, 5 * 10**11).passed is True
    assert ex.check_budget_stops_after(7, 0.1, 4).passed is True  # 7 -> 6 -> 5 -> 4 -> 3
    assert ex.check_budget_stops_after(0.5, 0.1, 1).passed is True
    with pytest.raises(ValueError, match="max_attempts=0"):
        ex.check_amplification(0, 3, 1)
    with pytest.raises(ValueError, match="layers=1000 must be between 1 and 100"):
        ex.check_amplification(3, 1000, 1)


def test_check_retry_settings_runs_the_timeline():
    assert ex.check_retry_settings("full", 8, 1.0, 4.0).passed is True
    lockstep = ex.check_retry_settings("exponential", 8, 1.0, 4.0)
    assert lockstep.passed is False and "lockstep" in lockstep.message
    too_few = ex.check_retry_settings("full", 3, 1.0, None)
    assert too_few.passed is False and "gave up" in too_few.message
    too_long = ex.check_retry_settings("full", 8, 1.0, None)
    assert too_long.passed is False and "longest call" in too_long.message
    assert ex.check_retry_settings(None, None, None, None).passed is None
    with pytest.raises(ValueError, match="strategy='gentle' is not one of"):
        ex.check_retry_settings("gentle", 3, 1.0, None)


def test_check_alternating_failures():
    assert ex.check_alternating_failures("no").passed is True
    assert ex.check_alternating_failures("yes").passed is False
    assert "10 calls" in ex.check_alternating_failures("no").message
    with pytest.raises(ValueError, match="answer='maybe' is not one of 'yes', 'no'"):
        ex.check_alternating_failures("maybe")


def test_check_failures_to_open_runs_a_real_breaker():
    assert ex.check_failures_to_open(6, 20, 10, 50, 6).passed is True
    assert ex.check_failures_to_open(0, 20, 10, 50, 10).passed is True  # the minimum decides
    assert ex.check_failures_to_open(0, 5, 10, 50, 5).passed is True  # min(minimum, window)
    assert ex.check_failures_to_open(6, 20, 10, 50, 5).passed is False
    assert ex.check_failures_to_open(19, 20, 10, 50, 10).passed is True  # ring evicts successes


def test_check_growing_wait():
    assert ex.check_growing_wait(10, 2, 60, 4, 60).passed is True
    assert ex.check_growing_wait(10, 2, 60, 3, 40).passed is True
    assert ex.check_growing_wait(10, 2, 60, 4, 80).passed is False
    with pytest.raises(ValueError, match="openings=0 must be between 1 and 100"):
        ex.check_growing_wait(10, 2, 60, 0, 10)
    with pytest.raises(ValueError, match="openings=1000000000000 must be between 1 and 100"):
        ex.check_growing_wait(10, 2, 60, 10**12, 60)  # it used to list 10**12 waits


def test_check_breaker_settings_runs_the_experiment():
    assert ex.check_breaker_settings(80, 2.0, 3, 5.0).passed is True
    not_slow = ex.check_breaker_settings(80, 3.0, 3, 5.0)
    assert not_slow.passed is False and "never opened on slow calls" in not_slow.message
    many = ex.check_breaker_settings(80, 2.0, 10, 5.0)
    assert many.passed is False and "half-open period" in many.message
    slow_to_close = ex.check_breaker_settings(80, 2.0, 3, 60.0)
    assert slow_to_close.passed is False and "still OPEN" in slow_to_close.message
    assert ex.check_breaker_settings(None, None, None, None).passed is None
    with pytest.raises(ValueError, match="wait_in_open_s=-1 must be in"):
        ex.check_breaker_settings(80, 2.0, 3, -1)
    with pytest.raises(ValueError, match="slow_call_duration_s=inf must be a finite number"):
        ex.check_breaker_settings(80, float("inf"), 3, 5.0)


def test_check_failures_to_open_names_its_own_parameters():
    with pytest.raises(ValueError, match="threshold=150 must be in"):
        ex.check_failures_to_open(6, 20, 10, 150, 6)
    with pytest.raises(ValueError, match="window_size=1000000000 must be between 1 and 10000"):
        ex.check_failures_to_open(6, 10**9, 10, 50, 6)


def test_cap_checks():
    assert ex.check_majority(5, 3).passed is True
    assert ex.check_majority(4, 3).passed is True
    assert "disjoint" in ex.check_majority(5, 2).message
    assert ex.check_majority(5, 4).passed is False
    too_many = ex.check_majority(5, 6)  # used to say "6 works but is more than needed"
    assert too_many.passed is False and "can never form" in too_many.message
    with pytest.raises(ValueError, match="answer=0 must be at least 1"):
        ex.check_majority(5, 0)
    assert ex.check_course_quorum(5, 2, "yes").passed is True
    assert "split brain" in ex.check_course_quorum(5, 2, "yes").message
    assert ex.check_course_quorum(5, 2, "no").passed is False
    assert "split brain" not in ex.check_course_quorum(5, 3, "yes").message
    assert ex.check_ca_choice("CA").passed is True
    assert ex.check_ca_choice("CP").passed is False
    with pytest.raises(ValueError, match="answer='PA' is not one of 'CP', 'AP', 'CA'"):
        ex.check_ca_choice("PA")
    with pytest.raises(ValueError, match="reachable=6 must be between 1 and 5"):
        ex.check_course_quorum(5, 6, "yes")


# -- Notebooks 02 and 03: exercises answered by code the check runs, or by a prediction --


def _full_jitter(n, base, cap, rng):
    return rng.uniform(0, min(cap, base * 2 ** (n - 1)))


def test_check_full_jitter_runs_the_learners_function():
    assert ex.check_full_jitter(_full_jitter).passed is True
    assert ex.check_full_jitter(None).passed is None
    off_by_one = ex.check_full_jitter(lambda n, b, c, r: r.uniform(0, min(c, b * 2**n)))
    assert off_by_one.passed is False and "n - 1" in off_by_one.message
    no_jitter = ex.check_full_jitter(lambda n, b, c, r: min(c, b * 2 ** (n - 1)))
    assert no_jitter.passed is False and "no jitter" in no_jitter.message
    uncapped = ex.check_full_jitter(lambda n, b, c, r: r.uniform(0, b * 2 ** (n - 1)))
    assert uncapped.passed is False and "cap" in uncapped.message
    equal = ex.check_full_jitter(
        lambda n, b, c, r: min(c, b * 2 ** (n - 1)) / 2 + r.uniform(0, min(c, b * 2 ** (n - 1)) / 2)
    )
    assert equal.passed is False and "equal jitter" in equal.message


def test_check_full_jitter_answers_near_misses_with_feedback():
    for answer in ("Unknown", "No", True, 0.5):
        check = ex.check_full_jitter(answer)
        assert check.passed is False and "not a function" in check.message
    wrong_arity = ex.check_full_jitter(lambda n, base, cap: 1.0)
    assert wrong_arity.passed is False and "raised TypeError" in wrong_arity.message
    not_a_number = ex.check_full_jitter(lambda n, b, c, r: "1 s")
    assert not_a_number.passed is False and "a float" in not_a_number.message
    nan = ex.check_full_jitter(lambda n, b, c, r: float("nan"))
    assert nan.passed is False


def test_check_budget_pattern_replays_a_real_budget():
    assert ex.check_budget_pattern(10, 0.8, "ffs", 8).passed is True
    only_failures = ex.check_budget_pattern(10, 0.8, "ffs", 5)
    assert only_failures.passed is False and "failures alone" in only_failures.message
    assert ex.check_budget_pattern(10, 0.1, "f", 5).passed is True
    assert ex.check_budget_pattern(10, 0.8, "ffs", None).passed is None
    for answer in ("8", True, 8.0, "Unknown"):
        check = ex.check_budget_pattern(10, 0.8, "ffs", answer)
        assert check.passed is False and "whole number" in check.message
    never = ex.check_budget_pattern(10, 1.0, "fs", 0)
    assert never.passed is True and "never" in never.message
    with pytest.raises(ValueError, match="pattern='fx'"):
        ex.check_budget_pattern(10, 0.8, "fx", 3)


def _half_open_rule(outcomes, permitted, threshold):
    if len(outcomes) < permitted:
        return "HALF_OPEN"
    return "OPEN" if 100 * outcomes.count("error") / permitted >= threshold else "CLOSED"


def test_check_half_open_rule_compares_with_the_real_breaker():
    assert ex.check_half_open_rule(_half_open_rule).passed is True
    lower = ex.check_half_open_rule(lambda o, p, t: _half_open_rule(o, p, t).lower())
    assert lower.passed is True

    def course(outcomes, permitted, threshold):
        if not outcomes:
            return "HALF_OPEN"
        return "CLOSED" if outcomes[0] == "ok" else "OPEN"

    check = ex.check_half_open_rule(course)
    assert check.passed is False and "course's rule" in check.message

    def strictly_above(outcomes, permitted, threshold):
        if len(outcomes) < permitted:
            return "HALF_OPEN"
        return "OPEN" if 100 * outcomes.count("error") / permitted > threshold else "CLOSED"

    check = ex.check_half_open_rule(strictly_above)
    assert check.passed is False and "at or above" in check.message


def test_check_half_open_rule_answers_near_misses_with_feedback():
    assert ex.check_half_open_rule(None).passed is None
    for answer in ("Unknown", "No", True, "ca"):
        check = ex.check_half_open_rule(answer)
        assert check.passed is False and "not a function" in check.message
    assert "return one of" in ex.check_half_open_rule(lambda o, p, t: True).message
    assert "raised ZeroDivisionError" in ex.check_half_open_rule(lambda o, p, t: 1 / 0).message


def test_check_budget_pattern_bounds_its_work():
    # the slowest drain the bounds allow still ends, and a refilling pattern answers "never"
    assert ex.check_budget_pattern(100, 0.999, "fs", 3).passed is False
    assert ex.check_budget_pattern(10, 1.0, "fs", 0).passed is True
    with pytest.raises(ValueError, match="max_tokens=1000 must be"):
        ex.check_budget_pattern(1000, 0.5, "fs", 3)
    with pytest.raises(ValueError, match="up to 20"):
        ex.check_budget_pattern(10, 0.5, "f" * 21, 3)
