"""The exercise checks: right answers pass, wrong ones fail with a reason, None is 'not yet'."""

import re
from collections import Counter

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


def test_check_amplification():
    assert ex.check_amplification(3, 5, 243).passed is True
    assert ex.check_amplification(4, 3, 64).passed is True
    added = ex.check_amplification(3, 5, 15)
    assert added.passed is False and "multiply" in added.message
    assert ex.check_amplification(3, 5, 100).passed is False


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
    for near_miss in (0, "3", 3.0, True):  # feedback, never a traceback
        assert "whole number of nodes" in ex.check_majority(5, near_miss).message


# -- notebook 06 (CAP): sides that accept writes, quorum sizes, reading a history --------------


def test_check_sides_accepting():
    right = ex.check_sides_accepting([3, 2, 2], (3, 0))
    assert right.passed is True and "no group holds one" in right.message.lower()
    assert ex.check_sides_accepting([4, 2, 1], (3, 1)).passed is True
    course_wrong = ex.check_sides_accepting([3, 2, 2], (1, 0))
    assert course_wrong.passed is False and "floor(s / 2) + 1" in course_wrong.message
    majority_wrong = ex.check_sides_accepting([3, 2, 2], (3, 1))
    assert majority_wrong.passed is False and "4 of all 7" in majority_wrong.message
    assert ex.check_sides_accepting([3, 2, 2], None).passed is None
    for near_miss in (3, "3, 0", (3,), (3, "0"), (3, -1), (True, 0), [3, 0, 0]):
        check = ex.check_sides_accepting([3, 2, 2], near_miss)
        assert check.passed is False and "pair of counts" in check.message
    assert ex.check_sides_accepting([3, 2, 2], [3, 0]).passed is True
    with pytest.raises(TypeError, match="sides='322' must be a list of group sizes"):
        ex.check_sides_accepting("322", (3, 0))
    with pytest.raises(ValueError, match=r"sides\[1\]=0 must be between 1 and 15"):
        ex.check_sides_accepting([3, 0], (1, 1))


def test_check_quorum_sizes():
    assert ex.check_quorum_sizes(5, 1, 2, 4).passed is True
    assert ex.check_quorum_sizes(5, 2, 3, 3).passed is True
    no_overlap = ex.check_quorum_sizes(5, 1, 1, 4)
    assert no_overlap.passed is False and "miss it" in no_overlap.message
    all_nodes = ex.check_quorum_sizes(5, 1, 1, 5)
    assert all_nodes.passed is False and "writes stop" in all_nodes.message
    not_minimal = ex.check_quorum_sizes(5, 1, 3, 3)
    assert not_minimal.passed is False and "fewer" in not_minimal.message
    assert ex.check_quorum_sizes(5, 1, None, 4).passed is None
    for r, w in (("2", 4), (2.0, 4), (0, 5), (2, 6), (True, 4)):
        check = ex.check_quorum_sizes(5, 1, r, w)
        assert check.passed is False and "whole numbers of nodes" in check.message
    with pytest.raises(ValueError, match="unreachable=5 must be between 0 and 4"):
        ex.check_quorum_sizes(5, 5, 1, 1)


def _history(*rows):
    import math

    from distlab.history import History, Operation

    ops = []
    for i, (process, f, value, start, end, kind) in enumerate(rows):
        written, returned = (value, None) if f == "write" else (None, value)
        end = math.inf if end is None else end
        ops.append(Operation(i, process, f, None, written, returned, kind, start, end))
    return History(ops)


def test_check_history_verdict():
    stale = _history((0, "write", 1, 0.0, 1.0, "ok"), (1, "read", None, 1.5, 2.0, "ok"))
    late = _history(
        (0, "write", 1, 0.0, 0.8, "ok"),
        (1, "write", 2, 0.3, None, "info"),
        (2, "read", 1, 1.0, 1.4, "ok"),
        (2, "read", 2, 2.5, 2.8, "ok"),
    )
    right = ex.check_history_verdict(stale, "not-linearizable")
    assert right.passed is True and "cannot be placed" in right.message
    assert ex.check_history_verdict(stale, "Not linearizable").passed is True
    wrong = ex.check_history_verdict(stale, "linearizable")
    assert wrong.passed is False and "finds no place" in wrong.message
    ok = ex.check_history_verdict(late, "linearizable")
    assert ok.passed is True and "unknown outcome" in ok.message
    assert "outcome unknown" in ex.check_history_verdict(late, "not-linearizable").message
    assert ex.check_history_verdict(late, None).passed is None
    for near_miss in ("yes", True, "unknown", 1, "linearisable"):
        check = ex.check_history_verdict(late, near_miss)
        assert check.passed is False and "'not-linearizable'" in check.message
    with pytest.raises(TypeError, match="must be a distlab.history.History"):
        ex.check_history_verdict([], "linearizable")


# --- Notebooks 00 and 01: near-miss answers get feedback, never a traceback; new exercises ---


@pytest.mark.parametrize(
    "check",
    [
        lambda a: ex.check_round_trip(0.1, a),
        lambda a: ex.check_call_success(4, 0.1, a),
        lambda a: ex.check_loss_for_target(0.99, a),
        lambda a: ex.check_partition_pairs(5, [3, 2], a),
        lambda a: ex.check_timeout_for_target(0.05, 0.01, 0.01, a),
        lambda a: ex.check_workers_for_slow_dependency(a),
        lambda a: ex.check_timed_out_that_ran(2.0, a),
    ],
)
@pytest.mark.parametrize("near_miss", ["Unknown?", "No", True, "ca", "0.81", [1], float("nan"), -3])
def test_notebook_00_01_checks_answer_near_misses_with_feedback(check, near_miss):
    result = check(near_miss)
    assert result.passed is False
    assert result.message and "Traceback" not in repr(result)


def test_near_miss_feedback_says_what_is_allowed():
    assert "without quotes: answer = 0.81" in ex.check_round_trip(0.1, "0.81").message
    assert "81 % is 0.81" in ex.check_round_trip(0.1, 81).message
    assert "yes/no value" in ex.check_round_trip(0.1, True).message
    assert ex.check_partition_pairs(5, [3, 2], 8.0).passed is True  # 8.0 is the count 8
    assert "whole number" in ex.check_partition_pairs(5, [3, 2], 7.5).message
    assert "positive number of seconds" in ex.check_timeout_for_target(0.05, 0.01, 0.01, 0).message
    assert "from 1 to 200" in ex.check_workers_for_slow_dependency(0).message


def test_check_call_success():
    assert ex.check_call_success(4, 0.1, 0.6561).passed is True
    assert ex.check_call_success(4, 0.1, 0.66).passed is True
    assert "direct round trip" in ex.check_call_success(4, 0.1, 0.81).message
    assert "one message" in ex.check_call_success(4, 0.1, 0.9).message
    assert "multiply" in ex.check_call_success(4, 0.1, 0.6).message
    assert ex.check_call_success(4, 0.1, None).passed is None


def test_check_loss_for_target():
    assert ex.check_loss_for_target(0.99, 0.005).passed is True
    assert ex.check_loss_for_target(0.99, 0.00501).passed is True
    budget = ex.check_loss_for_target(0.99, 0.01)
    assert budget.passed is False and "a round trip is two" in budget.message
    assert "too few" in ex.check_loss_for_target(0.99, 0.006).message
    assert "stricter than needed" in ex.check_loss_for_target(0.99, 0.001).message
    assert ex.check_loss_for_target(0.99, None).passed is None


def test_check_timed_out_that_ran_measures_the_share():
    from distlab.experiments.challenges import timeout_ambiguity

    frame = timeout_ambiguity(requests=5000, timeout_s=2.0, seed=0).frame
    measured = frame.loc[frame["outcome"] == "timeout", "executed"].mean()
    assert 0.4 < measured < 0.56  # lost answers keep about half the timeouts ambiguous
    assert ex.check_timed_out_that_ran(2.0, round(measured, 2)).passed is True
    assert "too low" in ex.check_timed_out_that_ran(2.0, 0.0).message
    assert "too high" in ex.check_timed_out_that_ran(2.0, 1.0).message
    assert ex.check_timed_out_that_ran(2.0, None).passed is None


def test_compare_prediction_shows_the_guess_beside_the_result():
    assert ex.compare_prediction(640, 633, what="calls").passed is True
    far = ex.compare_prediction(800, 633, what="calls")
    assert far.passed is False and "you guessed 800 calls; the run shows 633" in far.message
    unwritten = ex.compare_prediction(None, 633, what="calls")
    assert unwritten.passed is None and "633" in unwritten.message
    assert "without quotes" in ex.compare_prediction("640", 633, what="calls").message
    assert ex.compare_prediction(True, 633, what="calls").passed is False


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


# -- notebook 04: sagas ---------------------------------------------------------------------


def _idempotent_refund(ctx, payments):
    if ctx.key in payments.refunded:
        return
    payments.refunded.add(ctx.key)  # a tombstone too, when nothing was charged
    if ctx.key in payments.charged:
        payments.give_back(payments.charged[ctx.key])


def test_check_idempotent_refund_runs_the_learners_refund_through_the_saga_library():
    assert ex.check_idempotent_refund(_idempotent_refund).passed is True
    assert ex.check_idempotent_refund(None).passed is None


@pytest.mark.parametrize(
    ("refund", "says"),
    [
        (lambda ctx, p: p.give_back(ctx.data["amount"]), "a refund of a charge that never"),
        (lambda ctx, p: p.give_back(p.charged[ctx.key]), "raised KeyError"),
        (
            lambda ctx, p: p.give_back(p.charged[ctx.key]) if ctx.key in p.charged else None,
            "double refund",
        ),
    ],
)
def test_check_idempotent_refund_says_what_went_wrong(refund, says):
    check = ex.check_idempotent_refund(refund)
    assert check.passed is False and says in check.message


def test_check_idempotent_refund_asks_for_a_tombstone_and_for_the_lost_reply():
    def no_tombstone(ctx, p):
        if ctx.key in p.charged and ctx.key not in p.refunded:
            p.refunded.add(ctx.key)
            p.give_back(p.charged[ctx.key])

    check = ex.check_idempotent_refund(no_tombstone)
    assert check.passed is False and check.message.startswith("1 of 5")
    assert "left no tombstone" in check.message

    def trusts_the_reply(ctx, p):
        if ctx.key not in p.refunded:
            p.refunded.add(ctx.key)
            if ctx.result is not None:
                p.give_back(ctx.data["amount"])

    check = ex.check_idempotent_refund(trusts_the_reply)
    assert check.passed is False and "reply is lost" in check.message
    assert "not refunded" in check.message


def test_check_idempotent_refund_answers_near_misses_without_a_traceback():
    assert "not a function" in ex.check_idempotent_refund(3).message
    wrong_arity = ex.check_idempotent_refund(lambda ctx: None)
    assert wrong_arity.passed is False and "refund(ctx, payments)" in wrong_arity.message


def test_check_recovery_end_state_runs_the_crash():
    assert ex.check_recovery_end_state("every", "completed").passed is True
    assert ex.check_recovery_end_state("none", "compensated").passed is True
    assert "refunded too" in ex.check_recovery_end_state("none", "Compensated").message
    wrong = ex.check_recovery_end_state("none", "completed")
    assert wrong.passed is False and "backwards" in wrong.message
    assert "same key" in ex.check_recovery_end_state("every", "compensated").message
    assert ex.check_recovery_end_state("every", None).passed is None
    for near_miss, says in (("PENDING", "course"), ("stuck", "keeps failing"), (True, "one of")):
        check = ex.check_recovery_end_state("every", near_miss)
        assert check.passed is False and says in check.message
    with pytest.raises(ValueError, match="save_points='all' is not one of"):
        ex.check_recovery_end_state("all", "completed")


def test_check_save_point_sequence_runs_the_saga_library():
    paper = "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6"
    assert ex.check_save_point_sequence(("T1", "T3"), ("T2", "T5"), paper).passed is True
    mine = ex.check_save_point_sequence(("T2", "T4"), ("T3", "T5"), "t1,t2,t3,c3,t3,t4,t5,c5,t5,t6")
    assert mine.passed is True and "2 compensations" in mine.message
    for answer, says in (
        (paper, "the paper's example"),
        ("T1 T2 T3 T3 T4 T5 T5 T6", "no compensation"),
        ("T1 T2 T3 T4 T5 T6", "without crashes"),
        ("T1 T2 T3 C3 C2", "first 4 are right"),
        ("first T1", "not a sequence"),
        (12, "not a sequence"),
    ):
        check = ex.check_save_point_sequence(("T2", "T4"), ("T3", "T5"), answer)
        assert check.passed is False and says in check.message, (answer, check)
    assert ex.check_save_point_sequence(("T2",), ("T3",), None).passed is None
    with pytest.raises(ValueError, match="crashes_after='T6' is not one of"):
        ex.check_save_point_sequence(("T2",), ("T6",), None)
    with pytest.raises(TypeError, match="save_points='T2' must be a tuple"):
        ex.check_save_point_sequence("T2", ("T3",), None)


def test_check_pivot_builds_the_saga_and_explains_wrong_pivots():
    right = ex.check_pivot("capture_payment")
    assert right.passed is True and "capture_payment pivot" in right.message
    assert ex.check_pivot(None).passed is None
    early = ex.check_pivot("book_hotel")
    assert early.passed is False and "capture_payment comes after" in early.message
    late = ex.check_pivot("issue_tickets")
    assert late.passed is False and "cannot be undone" in late.message
    for near_miss in ("pay", 3, True):
        check = ex.check_pivot(near_miss)
        assert check.passed is False and "not a step" in check.message


def test_check_save_point_sequence_checks_the_number_of_compensations():
    paper = "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6"
    right = ex.check_save_point_sequence(("T1", "T3"), ("T2", "T5"), paper, compensations=3)
    assert right.passed is True and "3 compensations" in right.message
    wrong = ex.check_save_point_sequence(("T1", "T3"), ("T2", "T5"), paper, compensations=2)
    assert wrong.passed is False and "3 compensations, not 2" in wrong.message
    for near_miss in ("3", 2.5, True):
        check = ex.check_save_point_sequence(
            ("T1", "T3"), ("T2", "T5"), paper, compensations=near_miss
        )
        assert check.passed is False and "whole number" in check.message


def test_check_trip_order_builds_the_saga_and_explains_wrong_orders():
    good = ["create_trip", "book_flight", "book_hotel", "capture_payment", "issue_tickets",
            "email_itinerary"]  # fmt: skip
    right = ex.check_trip_order(good)
    assert right.passed is True and "capture_payment pivot" in right.message
    also = ex.check_trip_order(" ".join([good[0], good[2], good[1], *good[3:]]))
    assert also.passed is True
    as_written = ex.check_trip_order([s for s, *_ in ex.TRIP_ORDER_STEPS])
    assert as_written.passed is False and "capture_payment cannot be undone" in as_written.message
    needs = ex.check_trip_order(["create_trip", "book_flight", "book_hotel", "issue_tickets",
                                 "capture_payment", "email_itinerary"])  # fmt: skip
    assert needs.passed is False and "issue_tickets needs capture_payment" in needs.message
    assert ex.check_trip_order(None).passed is None
    for near_miss in ("capture_payment", 3, good[:5], [*good[:5], "book_flight"]):
        check = ex.check_trip_order(near_miss)
        assert check.passed is False and "not an order of the six steps" in check.message


# -- notebook 07: the vector clock's receive rule, ordered or concurrent --


def _receive(local, message, me):
    clock = {p: max(local[p], message[p]) for p in local}
    clock[me] += 1
    return clock


def _increment_first(local, message, me):
    clock = dict(local)
    clock[me] += 1
    return {p: max(clock[p], message[p]) for p in clock}


def _max_on_sender_only(local, message, me):
    clock = dict(local)
    clock[me] += 1
    sender = max((p for p in message if p != me), key=lambda p: message[p] - local[p])
    clock[sender] = max(clock[sender], message[sender])
    return clock


def _adds(local, message, me):
    clock = {p: local[p] + message[p] for p in local}
    clock[me] += 1
    return clock


def test_check_vector_receive_passes_the_rule_in_either_order():
    assert ex.check_vector_receive(_receive).passed is True
    assert ex.check_vector_receive(_increment_first).passed is True  # same clocks in any run
    assert ex.check_vector_receive(None).passed is None


@pytest.mark.parametrize(
    "rule, hint, said",
    [
        (lambda loc, msg, me: {p: max(loc[p], msg[p]) for p in loc}, "forget to count", "equal"),
        (_max_on_sender_only, "below the max of local and message", "concurrent"),
        (lambda loc, msg, me: {**msg, me: loc[me] + 1}, "wholesale", "concurrent"),
        (lambda loc, msg, me: dict(msg), "wholesale", ""),
        (_adds, "you add the two vectors", "happened before"),
    ],
)
def test_check_vector_receive_names_the_mistake_and_a_misordered_pair(rule, hint, said):
    check = ex.check_vector_receive(rule)
    assert check.passed is False
    assert hint in check.message and said in check.message
    assert "In random run" in check.message and "but your clocks {" in check.message


@pytest.mark.parametrize(
    "rule, says",
    [
        (lambda loc, msg, me: None, "returned None; return the new clock"),
        (lambda loc, msg, me: loc["zz"], "raised KeyError"),
        (lambda loc, msg, me: {me: 1}, "keep exactly one entry per process"),
        (lambda loc, msg, me: {**loc, me: 0.5}, "an int >= 0"),
        (lambda loc, msg: loc, "raised TypeError"),
        (3, "is not a function"),
    ],
)
def test_check_vector_receive_answers_broken_code_with_feedback(rule, says):
    check = ex.check_vector_receive(rule)
    assert check.passed is False and says in check.message


def test_check_vector_receive_is_deterministic():
    wrong = lambda loc, msg, me: {**msg, me: loc[me] + 1}
    assert ex.check_vector_receive(wrong).message == ex.check_vector_receive(wrong).message


@pytest.mark.parametrize(
    "first, second, right",
    [
        ({"a": 2, "b": 0}, {"a": 2, "b": 1}, "before"),
        ({"a": 3, "b": 1}, {"a": 1, "b": 1}, "after"),
        ({"a": 3, "b": 0, "c": 1}, {"a": 1, "b": 2, "c": 1}, "concurrent"),
        ({"a": 1}, {"a": 1}, "equal"),
    ],
)
def test_check_vector_order(first, second, right):
    assert ex.check_vector_order(first, second, right).passed is True
    assert ex.check_vector_order(first, second, f" {right.upper()} ").passed is True
    assert ex.check_vector_order(first, second, None).passed is None
    for wrong in {"before", "after", "concurrent", "equal"} - {right}:
        check = ex.check_vector_order(first, second, wrong)
        assert check.passed is False and check.message
        assert right not in check.message  # the reason entry by entry, never the answer


def test_check_vector_order_explains_the_sum_mistake_and_the_direction():
    by_sum = ex.check_vector_order({"a": 3, "b": 0}, {"a": 1, "b": 1}, "after")
    assert by_sum.passed is False and "the sums order nothing" in by_sum.message
    reversed_ = ex.check_vector_order({"a": 1, "b": 0}, {"a": 1, "b": 2}, "after")
    assert "look at 'b': first has 0, second 2; is any entry of first larger?" in reversed_.message
    assert "before" not in reversed_.message and "other way round" not in reversed_.message
    assert "answer one of" in ex.check_vector_order({"a": 1}, {"a": 2}, "maybe").message


@pytest.mark.parametrize(
    "first, second, error, message",
    [
        ([1, 0], {"a": 1}, TypeError, r"first=\[1, 0\] must be a vector timestamp"),
        ({"a": 1}, {}, TypeError, "second={} must be a vector timestamp"),
        ({"a": -1}, {"a": 1}, ValueError, r"first\['a'\]=-1 must be an int >= 0"),
        ({"a": 1}, {"a": True}, ValueError, r"second\['a'\]=True must be an int >= 0"),
        ({"a": 1}, {"b": 1}, ValueError, "first and second must be timestamps of one cluster"),
    ],
)
def test_check_vector_order_rejects_bad_timestamps_naming_them(first, second, error, message):
    with pytest.raises(error, match=message):
        ex.check_vector_order(first, second, "before")


@pytest.mark.parametrize(
    "first, second",
    [
        ({"a": 2, "b": 1, "c": 0}, {"a": 3, "b": 1, "c": 2}),
        ({"a": 4, "b": 0, "c": 1}, {"a": 1, "b": 3, "c": 1}),
        ({"a": 1, "b": 5, "c": 2}, {"a": 1, "b": 2, "c": 2}),
    ],
)
def test_check_vector_order_names_one_entry_not_the_verdict(first, second):
    for wrong in ("before", "after", "concurrent", "equal"):
        check = ex.check_vector_order(first, second, wrong)
        if check.passed:
            continue
        assert len(re.findall(r"look at '(\w)'", check.message)) == 1
        for verdict in ("every entry", "each has seen", "happened before", "concurrent"):
            assert verdict not in check.message
        if sum(first.values()) == sum(second.values()):
            assert "sum" not in check.message


def test_check_vector_order_accepts_happened_before():
    first, second = {"a": 2, "b": 0}, {"a": 2, "b": 1}
    for said in ("happened before", "Happened-Before", " happens  before "):
        assert ex.check_vector_order(first, second, said).passed is True
    assert ex.check_vector_order(second, first, "happened after").passed is True
    assert ex.check_vector_order(first, second, "happened after").passed is False


def test_check_vector_receive_accepts_numpy_counts():
    import numpy as np

    def receive(local, message, me):
        clock = {p: np.int64(max(local[p], message[p])) for p in local}
        clock[me] += 1
        return clock

    assert ex.check_vector_receive(receive).passed is True


@pytest.mark.parametrize("eps", [0.001, 0.004, 0.007])
def test_check_commit_wait(eps):
    assert ex.check_commit_wait(eps, 2 * eps).passed is True
    assert ex.check_commit_wait(eps, None).passed is None
    to_s = ex.check_commit_wait(eps, eps)
    assert to_s.passed is False and "your clock has reached s" in to_s.message
    assert "smaller than s" in to_s.message
    none = ex.check_commit_wait(eps, 0)
    assert none.passed is False and "too short" in none.message
    longer = ex.check_commit_wait(eps, 4 * eps)
    assert longer.passed is False and "longer than needed" in longer.message
    assert f"{2 * eps:g}" not in longer.message  # it does not hand over the answer


@pytest.mark.parametrize("eps, above, right", [(0.006, 0.003, 0.015), (0.004, 0.001, 0.009)])
def test_check_commit_wait_with_a_timestamp_above_latest(eps, above, right):
    assert ex.check_commit_wait(eps, right, above_latest_s=above).passed is True
    two_eps = ex.check_commit_wait(eps, 2 * eps, above_latest_s=above)
    assert two_eps.passed is False and "smaller than s" in two_eps.message
    with pytest.raises(ValueError, match="above_latest_s=-1"):
        ex.check_commit_wait(eps, right, above_latest_s=-1)


@pytest.mark.parametrize("answer", [6, 12, 15])
def test_check_commit_wait_reads_an_answer_of_1_or_more_as_milliseconds(answer):
    check = ex.check_commit_wait(0.006, answer, above_latest_s=0.003)
    assert check.passed is False and "milliseconds" in check.message
    assert f"{answer:g} ms is {answer / 1000:g} s" in check.message
    assert "safe" not in check.message and "too short" not in check.message


def test_check_commit_wait_accepts_no_wait_shorter_than_the_rule():
    for short in (0.0147, 0.0149, 0.01499):
        check = ex.check_commit_wait(0.006, short, above_latest_s=0.003)
        assert check.passed is False and "too short" in check.message
    for right in (0.015, 0.015 - 1e-15, 0.0153):
        assert ex.check_commit_wait(0.006, right, above_latest_s=0.003).passed is True
    assert ex.check_commit_wait(0.006, 0.0155, above_latest_s=0.003).passed is False
    right = ex.check_commit_wait(0.004, 0.008).message
    assert "its latest end, the timestamp it takes, is larger than s" in right
    assert "beyond s" not in right and "entirely above" not in right
    one = ex.check_commit_wait(0.006, 1.0, above_latest_s=0.003).message
    assert "1 s is a second or more: is that milliseconds?" in one


def test_compare_prediction_asks_about_milliseconds_and_shares():
    ms = ex.compare_prediction(800, 2.027, what="s ahead", unit="s")
    assert ms.passed is False and "Is 800 in milliseconds? " in ms.message
    assert "800 ms is 0.8 s" in ms.message and "39367 % off" in ms.message
    assert "milliseconds" not in ex.compare_prediction(28, 2.027, what="s", unit="s").message
    assert "milliseconds" not in ex.compare_prediction(800, 2.027, what="s").message
    count = ex.compare_prediction(0.83, 83, what="pairs", unit="count", out_of=96)
    assert count.passed is False and "Is 0.83 a share? The question asks how many" in count.message
    assert "(0.83 x 96 ~ 80)" in count.message
    assert "share?" in ex.compare_prediction(0.3, 136, what="x", unit="count").message
    assert "share?" not in ex.compare_prediction(1, 2, what="x", unit="count").message
    assert "share?" not in ex.compare_prediction(50, 83, what="x", unit="count").message
    # shares keep their reading of percentages, whatever the unit
    assert ex.compare_prediction(28, 0.273, what="of writes").passed is True
    with pytest.raises(ValueError, match="unit='ms' must be None, 's'"):
        ex.compare_prediction(1, 2, what="x", unit="ms")
    with pytest.raises(ValueError, match="out_of=0"):
        ex.compare_prediction(1, 2, what="x", unit="count", out_of=0)


def test_check_vector_receive_refuses_an_own_entry_that_does_not_count_by_one():
    def plus_two(local, message, me):
        clock = {p: max(local[p], message[p]) for p in local}
        clock[me] += 2
        return clock

    check = ex.check_vector_receive(plus_two)
    assert check.passed is False and "plus exactly 1" in check.message


def test_check_vector_receive_names_events_as_the_figures_do_and_sorts_clocks():
    def backwards(local, message, me):  # builds its dict in reverse order, forgets the tick
        return {p: max(local[p], message[p]) for p in reversed(list(local))}

    message = ex.check_vector_receive(backwards).message
    assert re.search(r"\b[a-d]:\d+ \((sends|receives|local)", message)
    assert not re.search(r"\bm\d+\b", message)  # no message names the figures do not show
    assert "{'a': " in message and "{'c': " not in message


@pytest.mark.parametrize(
    ("guess", "says", "passed"),
    [
        (28, "28 read as 28 % = 0.28", True),
        ("28%", "28 % is 0.28", True),
        (5, "5 read as 5 % = 0.05", False),
        (150, "is not a share", False),
        ("lots", "the answer is a number, e.g. 0.05", False),
    ],
)
def test_compare_prediction_reads_a_percentage_against_a_share(guess, says, passed):
    check = ex.compare_prediction(guess, 0.273, what="of the later writes lost")
    assert check.passed is passed and says in check.message


def test_compare_prediction_keeps_counts_and_seconds_as_they_are():
    check = ex.compare_prediction(28, 2.027, what="s ahead")
    assert check.passed is False and "read as" not in check.message
    assert "e.g. 500" in ex.compare_prediction("many", 136, what="violations").message


def test_compare_prediction_with_share_false_keeps_seconds_below_one_as_seconds():
    check = ex.compare_prediction(2.0, 0.415581, what="s to converge", share=False)
    assert check.passed is False and "read as" not in check.message
    assert "you guessed 2 s to converge; the run shows 0.416 (381 % off)" in check.message
    assert ex.compare_prediction(0.4, 0.415581, what="s", share=False).passed is True
    assert ex.compare_prediction(40, 0.415581, what="s", share=False).passed is False
    assert ex.compare_prediction(40, 0.415581, what="s").passed is True  # read as 40 %


def test_compare_prediction_rounds_what_it_shows():
    assert "shows 0.703 of" in ex.compare_prediction(None, 0.7025, what="of reads").message
    assert "shows 0.435 (15 % off)" in ex.compare_prediction(0.5, 0.43536, what="x").message
    assert "shows 2.027 (" in ex.compare_prediction(28, 2.027, what="s ahead").message
    assert "shows 1480 ms" in ex.compare_prediction(None, 1480.29, what="ms").message


def test_compare_prediction_rejects_a_share_flag_that_is_not_one():
    with pytest.raises(TypeError, match="share='yes' must be True or False"):
        ex.compare_prediction(1, 0.5, what="x", share="yes")
    with pytest.raises(ValueError, match="measured=2.5 is not a share"):
        ex.compare_prediction(1, 2.5, what="x", share=True)


def test_check_commit_wait_answers_non_numbers_without_giving_it_away():
    for answer, says in (("x", "is text"), (True, "yes/no"), (-1, "cannot be negative")):
        check = ex.check_commit_wait(0.004, answer)
        assert check.passed is False and says in check.message and "0.008" not in check.message
    with pytest.raises(ValueError, match="uncertainty_s=0 must be"):
        ex.check_commit_wait(0, 0.1)


# -- notebook 05: the learner's merge, property-tested --


def _max_merge(a, b):
    return {r: max(a.get(r, 0), b.get(r, 0)) for r in a.keys() | b.keys()}


def _cart_merge(a, b):
    return {"added": a["added"] | b["added"], "removed": a["removed"] | b["removed"]}


def _mutating_max(a, b):
    for r, n in b.items():
        a[r] = max(a.get(r, 0), n)
    return a


def test_check_merge_passes_the_joins():
    assert ex.check_merge(_max_merge).passed is True
    assert ex.check_merge(_cart_merge, "cart").passed is True
    assert ex.check_merge(None).passed is None
    assert ex.check_merge(None, "cart").passed is None


@pytest.mark.parametrize(
    "merge, says",
    [
        (lambda a, b: {r: a.get(r, 0) + b.get(r, 0) for r in a.keys() | b.keys()},
         "you add the counts"),
        (lambda a, b: a, "returns its first argument unchanged"),
        (lambda a, b: b, "returns its second argument unchanged"),
        (lambda a, b: a if sum(a.values()) >= sum(b.values()) else b, "it loses increments"),
        (lambda a, b: {r: max(a.get(r, 0), b.get(r, 0)) + 1 for r in a.keys() | b.keys()},
         "more for"),
    ],
)  # fmt: skip
def test_check_merge_names_the_counter_mistake_with_a_counterexample(merge, says):
    check = ex.check_merge(merge)
    assert check.passed is False and says in check.message
    assert "merge({" in check.message  # the states that show it


@pytest.mark.parametrize(
    "merge, says",
    [
        (lambda a, b: {"added": a["added"] | b["added"], "removed": set()},
         "is gone and it is back in the cart"),
        (lambda a, b: {"added": (a["added"] - a["removed"]) | (b["added"] - b["removed"]),
                       "removed": set()}, "the tombstone of"),
        (lambda a, b: {"added": a["added"] | b["added"], "removed": a["removed"] & b["removed"]},
         "the tombstone of"),
        (lambda a, b: {"added": a["added"] & b["added"], "removed": a["removed"] | b["removed"]},
         "loses the add of"),
        (lambda a, b: a, "returns its first argument unchanged"),
    ],
)  # fmt: skip
def test_check_merge_names_the_cart_mistake_with_a_counterexample(merge, says):
    check = ex.check_merge(merge, "cart")
    assert check.passed is False and says in check.message


def test_check_merge_finds_a_merge_wrong_on_some_states_only():
    def merge(a, b):  # drops r1 when only the first side has it
        out = _max_merge(a, b)
        if "r1" in a and "r1" not in b:
            out.pop("r1")
        return out

    check = ex.check_merge(merge)
    assert check.passed is False and "it loses increments of 'r1'" in check.message


@pytest.mark.parametrize(
    "merge, says",
    [
        (lambda a, b: 3, "returned 3; return the merged state"),
        (lambda a, b: 1 / 0, "raised ZeroDivisionError"),
        (lambda a, b: {"r1": -1}, "every count is an int >= 0"),
        (lambda a, b: {"r1": 1.5}, "every count is an int >= 0"),
        (lambda a: a, "raised TypeError"),
        ("max", "is not a function"),
    ],
)
def test_check_merge_answers_broken_code_with_feedback(merge, says):
    check = ex.check_merge(merge)
    assert check.passed is False and says in check.message


def test_check_merge_answers_a_broken_cart_with_feedback():
    check = ex.check_merge(lambda a, b: {"added": a["added"] | b["added"]}, "cart")
    assert check.passed is False and "keep exactly 'added' and 'removed'" in check.message
    check = ex.check_merge(lambda a, b: {"added": list(a["added"]), "removed": set()}, "cart")
    assert check.passed is False and "each part is a set of items" in check.message


def test_check_merge_is_deterministic_and_answers_an_unknown_kind_with_the_allowed_ones():
    wrong = lambda a, b: {"added": a["added"] | b["added"], "removed": set()}
    first, second = ex.check_merge(wrong, "cart"), ex.check_merge(wrong, "cart")
    assert first.message.split(". ")[0] == second.message.split(". ")[0]
    for kind in ("set", 3, None):
        check = ex.check_merge(_max_merge, kind)
        assert check.passed is False and "kind='counter'" in check.message
        assert "kind='cart'" in check.message


@pytest.mark.parametrize("kind", ["Counter", "COUNTER", " counter ", "g-counter", "GCounter"])
def test_check_merge_reads_the_kind_in_any_case(kind):
    assert ex.check_merge(_max_merge, kind).passed is True
    assert ex.check_merge(_cart_merge, "2P-set").passed is True


def test_check_merge_refuses_a_merge_that_changes_its_arguments_in_place():
    check = ex.check_merge(_mutating_max)
    assert check.passed is False and "changed its first argument in place" in check.message

    def mutating_cart(a, b):
        a["added"] |= b["added"]
        a["removed"] |= b["removed"]
        return a

    check = ex.check_merge(mutating_cart, "cart")
    assert check.passed is False and "in place" in check.message


def test_check_merge_accepts_a_cart_that_drops_removed_items_from_added():
    def merge_cart(a, b):
        removed = a["removed"] | b["removed"]
        return {"added": (a["added"] | b["added"]) - removed, "removed": removed}

    assert ex.check_merge(merge_cart, "cart").passed is True


def test_check_merge_says_which_exercise_a_swapped_function_belongs_to():
    check = ex.check_merge(_max_merge, "cart")
    assert check.passed is False and "did you pass merge instead of merge_cart" in check.message
    check = ex.check_merge(_cart_merge, "counter")
    assert check.passed is False and "did you pass merge_cart instead of merge" in check.message


def test_check_merge_names_the_function_each_exercise_asks_for():
    assert "check_merge(merge_cart, kind='cart')" in ex.check_merge(None, "cart").message
    assert "check_merge(merge, kind='counter')" in ex.check_merge(None).message


def test_check_merge_shows_the_rule_only_from_the_second_miss(monkeypatch):
    monkeypatch.setitem(ex._MISSES, ("merge", "counter"), 0)
    summed = lambda a, b: {r: a.get(r, 0) + b.get(r, 0) for r in a.keys() | b.keys()}
    first, second = ex.check_merge(summed), ex.check_merge(summed)
    assert "you add the counts" in first.message and "max" not in first.message
    assert "Run the check again" in first.message
    assert "take the max entry by entry" in second.message


def test_check_routing_guarantees_accepts_the_runs_answer_and_explains_a_wrong_one(monkeypatch):
    monkeypatch.setitem(ex._MISSES, ("routing", "none"), 1)  # a second miss: named
    right = {"primary": [], "any": ["ryw", "monotonic reads"], "sticky": ["read_your_writes"]}
    assert ex.check_routing_guarantees(right).passed is True
    wrong = ex.check_routing_guarantees(
        {"primary": [], "any": ["read_your_writes"], "sticky": ["monotonic_reads"]}
    )
    assert wrong.passed is False
    assert "any: monotonic_reads is broken" in wrong.message
    assert "sticky" in wrong.message and "no session breaks monotonic_reads" in wrong.message


@pytest.mark.parametrize(
    "answer, says",
    [
        (None, "replace None"),
        ("any", "keys 'primary', 'any' and 'sticky'"),
        ({"primary": "no", "any": [], "sticky": []}, "the guarantees asked about"),
        ({"primary": 3, "any": [], "sticky": []}, "a list of guarantee names"),
    ],
)
def test_check_routing_guarantees_answers_a_near_miss_with_what_is_allowed(answer, says):
    check = ex.check_routing_guarantees(answer)
    assert check.passed is not True and says in check.message


# -- notebook 05: a quorum chosen to meet a staleness target --


@pytest.mark.parametrize(
    "answer, passed, says",
    [
        ((3, 1), True, "the cheapest that meets 99.9 %"),
        ({"R": 3, "W": 1}, True, "15.0 ms"),
        ((1, 1), False, "92.54 % of reads are consistent 10 ms after the commit, below 99.9 %"),
        ((2, 1), False, "below 99.9 %"),
        ((2, 2), False, "another choice meets the target for less"),
        ([1, 3], False, "another choice meets the target for less"),
    ],
)
def test_check_quorum_for_target_wants_the_cheapest_quorum_that_meets_it(answer, passed, says):
    check = ex.check_quorum_for_target(answer)
    assert check.passed is passed and says in check.message


@pytest.mark.parametrize(
    "answer, says",
    [
        (None, "replace None"),
        ("3,1", "answer a pair (R, W)"),
        ((0, 1), "R and W are 1 to 3"),
        ((1.5, 1), "whole numbers"),
        ((True, 1), "whole numbers"),
        ((1, 2, 3), "answer a pair"),
    ],
)
def test_check_quorum_for_target_answers_a_near_miss_with_what_is_allowed(answer, says):
    check = ex.check_quorum_for_target(answer)
    assert check.passed is not True and says in check.message


def test_check_quorum_for_target_rejects_a_bad_setting():
    with pytest.raises(ValueError, match="model='DISK'"):
        ex.check_quorum_for_target((1, 1), model="DISK")


def test_check_routing_guarantees_under_a_primary_crash(monkeypatch):
    monkeypatch.setitem(ex._MISSES, ("routing", "primary-crash"), 0)
    monkeypatch.setitem(ex._MISSES, ("routing", "none"), 1)
    right = {"primary": ["ryw", "mr"], "any": ["ryw", "mr"], "sticky": ["read_your_writes"]}
    check = ex.check_routing_guarantees(right, fault="primary-crash")
    assert check.passed is True and "(primary crash)" in check.message
    only_ryw = {"primary": ["ryw"], "any": ["ryw", "mr"], "sticky": ["ryw"]}
    # a first miss gets a hint, not the answer; a second names the guarantee
    first = ex.check_routing_guarantees(only_ryw, fault="primary-crash")
    assert first.passed is False and "monotonic_reads" not in first.message
    assert "primary: think of a session that read its own write from the old primary" in (
        first.message
    )
    assert "Run the check again" in first.message
    second = ex.check_routing_guarantees(only_ryw, fault="primary-crash")
    assert second.passed is False and "primary: monotonic_reads is broken" in second.message
    check = ex.check_routing_guarantees({**right, "primary": ["ryw"]})
    assert check.passed is False and "(no fault)" in check.message
    with pytest.raises(ValueError, match="fault='cut'"):
        ex.check_routing_guarantees(right, fault="cut")


def test_check_routing_guarantees_under_a_crash_does_not_rest_on_one_seed():
    from distlab.experiments.read_routing import read_routing

    seeds = ex._ROUTING_SEEDS["primary-crash"]
    broke = [seed for seed in seeds
             if read_routing(["primary"], cycles=20, seed=seed, fault="primary-crash")
             .summary.loc["primary", "sessions_monotonic_reads"] > 0]  # fmt: skip
    assert len(broke) >= 2


def test_check_merge_names_the_equivalent_cart_merge_when_it_passes():
    check = ex.check_merge(_cart_merge, "cart")
    assert check.passed is True and "drops removed items from `added`" in check.message


@pytest.mark.parametrize(
    "guess, converge_s, passed, says",
    [
        (
            float("inf"),
            float("nan"),
            True,
            "you guessed never; the run shows: not converged within 20 s",
        ),
        ("never", float("nan"), True, "you guessed never"),
        (25, float("inf"), True, "you guessed 25 s"),
        (5, float("nan"), False, "the run shows: not converged within 20 s"),
        (None, float("nan"), None, "no guess written"),
        ("soon", float("nan"), False, "is text"),
        (0.4, 0.416, True, "the run shows 0.416"),
        (2.0, 0.416, False, "the run shows 0.416"),
    ],
)
def test_compare_convergence_guess_gives_a_verdict_on_never(guess, converge_s, passed, says):
    check = ex.compare_convergence_guess(guess, converge_s, horizon_s=20.0)
    assert check.passed is passed and says in check.message


def test_compare_convergence_guess_rejects_a_bad_setting():
    with pytest.raises(ValueError, match="horizon_s"):
        ex.compare_convergence_guess(1.0, float("nan"), horizon_s=0.0)
    with pytest.raises(TypeError, match="converge_s"):
        ex.compare_convergence_guess(1.0, "never", horizon_s=20.0)


def test_compare_prediction_with_a_unit_never_reads_the_guess_as_a_percentage():
    seconds = ex.compare_prediction(40, 0.4, what="s to converge", unit="s")
    assert seconds.passed is False and "read as" not in seconds.message
    assert "you guessed 40 s to converge; the run shows 0.4" in seconds.message
    ms = ex.compare_prediction(400, 0.4, what="s to converge", unit="s")
    assert ms.passed is False and "not a share" not in ms.message
    assert "Is 400 in milliseconds? " in ms.message and "400 ms is 0.4 s" in ms.message
    count = ex.compare_prediction(40, 0.4, what="pairs", unit="count")
    assert count.passed is False and "read as" not in count.message
    assert "you guessed 40 pairs; the run shows 0.4" in count.message
    with pytest.raises(ValueError, match=r"share=True .*unit='s'"):
        ex.compare_prediction(0.4, 0.4, what="x", unit="s", share=True)
    with pytest.raises(ValueError, match=r"share=True .*unit='count'"):
        ex.compare_prediction(0.4, 0.4, what="x", unit="count", share=True)
    for unit in (None, "s"):
        with pytest.raises(ValueError, match="out_of=96"):
            ex.compare_prediction(1, 2, what="x", unit=unit, out_of=96)


def test_compare_convergence_guess_answers_never_when_the_run_converged():
    for guess in (float("inf"), "never", " Never ", "inf"):
        check = ex.compare_convergence_guess(guess, 4.0, horizon_s=20.0)
        assert check.passed is False
        assert "you guessed never; the run converged after 4 s" in check.message
    with pytest.raises(ValueError, match="converge_s=25"):
        ex.compare_convergence_guess(5, 25.0, horizon_s=20.0)


def test_a_guess_too_big_for_a_float_is_too_large_to_compare():
    for guess in (10**400, 10**5000):  # 5001 digits: too long for Python to print
        check = ex.compare_prediction(guess, 633, what="calls")
        assert check.passed is False and "too large to compare" in check.message
        converge = ex.compare_convergence_guess(guess, 4.0, horizon_s=20.0)
        assert converge.passed is False and "too large to compare" in converge.message


def test_check_vector_order_hints_at_the_entry_that_contradicts_the_answer():
    first, second = {"a": 4, "b": 0, "c": 1}, {"a": 1, "b": 3, "c": 1}  # concurrent
    before = ex.check_vector_order(first, second, "before").message
    assert "look at 'a': first has 4, second 1; is any entry of first smaller?" in before
    after = ex.check_vector_order(first, second, "after").message
    assert "look at 'b': first has 0, second 3; is any entry of first larger?" in after
    equal = ex.check_vector_order(first, second, "equal").message
    assert "look at 'a': first has 4, second 1; and in the other entries?" in equal


def test_wrong_answers_are_counted_per_exercise_and_kind(monkeypatch):
    monkeypatch.setattr(ex, "_MISSES", Counter())
    summed = lambda a, b: {r: a.get(r, 0) + b.get(r, 0) for r in a.keys() | b.keys()}
    assert "Run the check again" in ex.check_merge(summed).message
    wrong = {"primary": [], "any": [], "sticky": []}
    first = ex.check_routing_guarantees(wrong)  # a merge miss does not count here
    assert "Run the check again: a second miss names the guarantees" in first.message
    assert "is broken" not in first.message
    second = ex.check_routing_guarantees(wrong)
    assert "Run the check again" not in second.message and "is broken" in second.message
    assert ex._MISSES == {("merge", "counter"): 1, ("routing", "none"): 2}
