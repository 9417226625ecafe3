"""Sagas going wrong: a failing compensation, save-points, no isolation, money in transit."""

import pandas as pd
import pytest

from distlab.experiments import sweep
from distlab.experiments.saga_anomalies import (
    COMPENSATION_VARIANTS,
    ISOLATION_VARIANTS,
    SAVE_POINT_VARIANTS,
    TRANSIT_VARIANTS,
    SharedState,
    failing_compensation,
    money_in_transit,
    saga_isolation,
    save_point_recovery,
)

PAPER = "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6"
SEEDS = range(4)


def _same(a, b):
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.params == b.params


# -- (4) a compensation that fails ---------------------------------------------------------------


def test_stop_makes_the_failure_visible_and_resume_repairs_it():
    for seed in SEEDS:
        result = failing_compensation(orders=150, seed=seed)
        stop, cont = result.summary.loc["stop"], result.summary.loc["continue"]
        buggy = int(result.frame.loc[result.frame["variant"] == "stop", "buggy"].sum())
        assert buggy > 0
        assert stop["stuck"] == stop["operator_sees"] == stop["resumed"] == buggy
        assert stop["inconsistent_before"] == buggy and stop["inconsistent_after"] == 0
        # Continuing past the failure: every saga says it ended, nobody is told, money stays.
        assert cont["stuck"] == cont["operator_sees"] == 0
        assert cont["swallowed_errors"] == buggy
        assert cont["inconsistent_before"] == cont["inconsistent_after"] == buggy
        # The orchestrator's word against the participants' state.
        assert stop["reported_compensated"] == stop["really_compensated"]
        assert cont["reported_compensated"] == cont["really_compensated"] + buggy


def test_the_operator_sees_the_step_the_error_and_the_history():
    result = failing_compensation(orders=100, seed=1)
    assert set(result.stuck["step"]) == {"charge_payment"}
    assert result.stuck["error"].str.startswith("RefundBug").all()
    frame = result.frame[result.frame["variant"] == "stop"]
    assert set(result.stuck["saga_id"]) == set(
        frame.loc[frame["status_before"] == "stuck", "order"]
    )
    assert (frame.loc[frame["status_before"] == "stuck", "status"] == "compensated").all()
    history = result.history
    before = history[history["when"] == "before fix"]
    refunds = before[before["phase"] == "compensation"]
    assert list(refunds["step"]) == ["charge_payment"] * 3  # three attempts, then stuck
    assert (refunds["outcome"] == "error").all()
    after = history[history["when"] == "after resume"]
    assert list(after["step"]) == ["charge_payment", "reserve_inventory", "create_order"]
    assert list(after["attempt"]) == [4, 1, 1] and (after["outcome"] == "ok").all()
    assert list(history["when"]) == ["before fix"] * 7 + ["after resume"] * 3


def test_the_same_orders_are_declined_in_both_variants():
    frame = failing_compensation(seed=2).frame
    stop, cont = (
        frame[frame["variant"] == v].reset_index(drop=True) for v in COMPENSATION_VARIANTS
    )
    pd.testing.assert_series_equal(stop["declined"], cont["declined"])
    pd.testing.assert_series_equal(stop["outcome"], cont["outcome"])


# -- (5) save-points -----------------------------------------------------------------------------


def test_the_papers_save_point_sequence_exactly():
    for seed in SEEDS:
        result = save_point_recovery(seed=seed)
        assert result.sequences["after T1 and T3"] == PAPER
        frame = result.frame[result.frame["variant"] == "after T1 and T3"]
        assert " ".join(frame["label"]) == PAPER
        assert list(frame["incarnation"]) == [0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
        s = result.summary.loc["after T1 and T3"]
        assert s["crashes"] == 2 and s["completed"] and s["redone"] == 3


def test_a_step_run_again_after_a_rollback_gets_a_new_key():
    frame = save_point_recovery(seed=0).frame
    paper = frame[frame["variant"] == "after T1 and T3"]
    t2 = paper[paper["label"] == "T2"]["key"].tolist()
    assert t2 == ["paper-1/T2", "paper-1/T2/1"]
    c2 = paper[paper["label"] == "C2"]["key"].tolist()
    assert c2 == ["paper-1/T2"]  # the compensation undoes the first round's T2
    t5 = paper[paper["label"] == "T5"]["key"].tolist()
    assert len(set(t5)) == 2


def test_without_save_points_the_first_crash_compensates_everything():
    result = save_point_recovery(seed=0)
    assert result.sequences["none"] == "T1 T2 C2 C1"
    assert not result.summary.loc["none", "completed"]
    assert result.summary.loc["none", "crashes"] == 1  # it never reaches T5
    assert result.sequences["every step"] == "T1 T2 T3 T4 T5 T6"
    assert result.summary.loc["every step", "crashes"] == 2


def test_other_crash_points():
    result = save_point_recovery("after T1 and T3", crashes_after=("T4",), seed=3)
    assert result.sequences["after T1 and T3"] == "T1 T2 T3 T4 C4 T4 T5 T6"
    result = save_point_recovery("none", crashes_after=(), seed=3)
    assert result.sequences["none"] == "T1 T2 T3 T4 T5 T6"


# -- (6) no isolation ----------------------------------------------------------------------------


def test_anomalies_without_countermeasures_and_what_each_removes():
    for seed in SEEDS:
        s = saga_isolation(runs=300, seed=seed).summary
        none = s.loc["none"]
        assert none["lost_order_per_1000"] > 300 and none["lost_credit_per_1000"] > 100
        assert none["dirty_read_per_1000"] > 0 and none["inconsistent_per_1000"] > 300
        lock = s.loc["semantic lock"]
        assert lock["lost_order_per_1000"] == 0 and lock["lost_credit_per_1000"] > 0
        assert lock["retried_per_1000"] > 500  # the cost: Cancel Order rejected and retried
        comm = s.loc["commutative updates"]
        assert comm["lost_credit_per_1000"] == 0 and comm["lost_order_per_1000"] > 300
        assert comm["rejected_per_1000"] == 0 and comm["extra_reads_per_run"] == 0
        reread = s.loc["reread value"]
        assert reread["lost_order_per_1000"] == reread["lost_credit_per_1000"] == 0
        assert reread["extra_reads_per_run"] > 1 and reread["rejected_per_1000"] > 500
        both = s.loc["semantic lock + commutative updates"]
        assert both["lost_order_per_1000"] == both["lost_credit_per_1000"] == 0
        # Left: dirty reads (Create Order o2 checks credit a Cancel Order released, then took
        # back when its kitchen refused), and going over the limit when both Create Orders check
        # the credit before either reserves it (the check is a read in an earlier step): both
        # orders approved with the credit below zero, an end no serial order gives.
        assert both["dirty_read_per_1000"] > 0 and both["over_limit_per_1000"] > 0
        assert both["inconsistent_per_1000"] == both["over_limit_per_1000"]
        one = s.loc["semantic lock + reserve in one transaction"]
        assert one["lost_order_per_1000"] == one["lost_credit_per_1000"] == 0
        assert one["over_limit_per_1000"] < both["over_limit_per_1000"]
        assert none["extra_reads_per_run"] == lock["extra_reads_per_run"] == 0


def test_a_credit_below_zero_is_never_a_consistent_end():
    frame = saga_isolation(runs=300, seed=0).frame
    over = frame[frame["over_limit"]]
    assert len(over) > 0 and not over["consistent"].any()
    # With the check and the reservation in one transaction, the credit goes below zero only
    # when Cancel Order's compensation takes back credit it had released, after Create Order o2
    # reserved it: a compensation cannot be refused.
    one = over[over["variant"] == "semantic lock + reserve in one transaction"]
    assert len(one) > 0
    assert one["kitchen_started"].all() and (one["cancel_o1"] == "error").all()


def test_every_variant_sees_the_same_draws():
    frame = saga_isolation(runs=100, seed=5).frame
    by = [frame[frame["variant"] == v].reset_index(drop=True) for v in ISOLATION_VARIANTS]
    for other in by[1:]:
        pd.testing.assert_series_equal(by[0]["amount_o1"], other["amount_o1"])
        pd.testing.assert_series_equal(by[0]["kitchen_started"], other["kitchen_started"])


def test_lost_update_and_dirty_read_bookkeeping():
    s = SharedState(order="NONE", credit=100.0)
    s.write("a", "order", "CREATED")
    s.write("b", "order", "CANCELLED")
    s.write("a", "order", "APPROVED")  # a never saw b's write
    s.add("a", "credit", -10.0)
    s.add("b", "credit", +10.0)  # commutative: never lost
    assert s.lost == {"order": 1, "credit": 0}
    s.read("c", "order")  # written by a
    s.write("b", "credit", 50.0, undo=True)
    s.read("c", "credit")  # an undo is not dirty
    assert s.dirty_reads({"a"}) == 1 and s.dirty_reads({"b"}) == 0
    assert s.changed_since_seen("a", "credit") and not s.changed_since_seen("a", "credit")


# -- (7) money in transit ------------------------------------------------------------------------


def test_an_audit_in_transit_sees_money_missing_unless_it_is_recorded():
    for seed in SEEDS:
        result = money_in_transit(transfers=400, seed=seed)
        frame, s = result.frame, result.summary
        plain = frame[frame["variant"] == "balances only"]
        in_transit = plain["phase"] == "in transit"
        assert in_transit.sum() > 50
        assert (plain.loc[in_transit, "missing"] == plain.loc[in_transit, "amount"]).all()
        assert (plain.loc[~in_transit, "missing"] == 0).all()
        assert s.loc["balances only", "missing_per_1000"] == 1000 * in_transit.sum() / 400
        recorded = frame[frame["variant"] == "in-transit recorded"]
        assert (recorded["missing"] == 0).all() and (recorded["outcome"] == "ok").all()
        assert s.loc["in-transit recorded", "missing_per_1000"] == 0


def test_a_longer_transit_means_more_audits_see_money_missing():
    short = money_in_transit("balances only", transit_s=0.2, seed=1).summary
    long = money_in_transit("balances only", transit_s=10.0, seed=1).summary
    assert long.iloc[0]["missing_per_1000"] > 2 * short.iloc[0]["missing_per_1000"]


def test_refunded_transfers_balance_after_the_refund():
    frame = money_in_transit("balances only", credit_fails=1.0, seed=2).frame
    assert not frame["credited"].any()
    assert (frame.loc[frame["phase"] == "settled", "missing"] == 0).all()


# -- shape, determinism, bad input ---------------------------------------------------------------

EXPERIMENTS = [
    (failing_compensation, {"orders": 60}, COMPENSATION_VARIANTS),
    (save_point_recovery, {}, SAVE_POINT_VARIANTS),
    (saga_isolation, {"runs": 80}, ISOLATION_VARIANTS),
    (money_in_transit, {"transfers": 80}, TRANSIT_VARIANTS),
]


@pytest.mark.parametrize("experiment, small, variants", EXPERIMENTS)
def test_deterministic_and_shaped(experiment, small, variants):
    a, b = experiment(**small, seed=7), experiment(**small, seed=7)
    _same(a, b)
    assert list(a.summary.index) == list(variants) and a.summary.index.name == "variant"
    assert set(a.frame["variant"]) == set(variants)
    assert a.params["seed"] == 7 and a.params["variants"] == tuple(variants)
    one = experiment(variants[-1], **small, seed=7)
    assert list(one.summary.index) == [variants[-1]]


def test_different_seeds_differ():
    a, b = saga_isolation(runs=50, seed=0), saga_isolation(runs=50, seed=1)
    assert not a.frame.equals(b.frame)


def test_sweep_stacks_the_summaries():
    table = sweep(money_in_transit, {"transit_s": [1.0, 4.0]}, seeds=[0, 1], table="summary")
    assert len(table) == 2 * 2 * len(TRANSIT_VARIANTS)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: failing_compensation("abort"), ValueError, "variants"),
        (lambda: failing_compensation(orders=0), ValueError, "orders"),
        (lambda: failing_compensation(orders=10**9), ValueError, "orders"),
        (lambda: failing_compensation(decline=1.5), ValueError, "decline"),
        (
            lambda: failing_compensation(compensation_attempts=0),
            ValueError,
            "compensation_attempts",
        ),
        (lambda: failing_compensation(retry_delay_s=float("nan")), ValueError, "retry_delay_s"),
        (lambda: save_point_recovery(crashes_after=("T6",)), ValueError, "crashes_after"),
        (lambda: save_point_recovery(crashes_after=("T9",)), ValueError, "crashes_after"),
        (lambda: save_point_recovery(crashes_after="T2"), TypeError, "crashes_after"),
        (lambda: save_point_recovery(steps=2), ValueError, "steps"),
        (lambda: save_point_recovery(step_time_s=-1.0), ValueError, "step_time_s"),
        (lambda: saga_isolation(runs=1.5), TypeError, "runs"),
        (lambda: saga_isolation(runs=10**7), ValueError, "runs"),
        (lambda: saga_isolation(cancel_fails=-0.1), ValueError, "cancel_fails"),
        (lambda: saga_isolation(credit="100"), TypeError, "credit"),
        (lambda: saga_isolation(max_cancel_attempts=0), ValueError, "max_cancel_attempts"),
        (lambda: money_in_transit(transit_s=float("inf")), ValueError, "transit_s"),
        (lambda: money_in_transit(transfers=-1), ValueError, "transfers"),
        (lambda: money_in_transit(credit_fails=2), ValueError, "credit_fails"),
        (lambda: money_in_transit(seed=-1), ValueError, "seed"),
        (lambda: money_in_transit(seed="0"), TypeError, "seed"),
    ],
)
def test_bad_input_names_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()


ODD = [0, -1, 1, 2**31, 2**63, 0.0, -1.5, 0.5, 5e-324, 1e308, float("inf"), float("nan"), True,
       "1", None, [1]]  # fmt: skip
FUZZED = [
    (failing_compensation, {"orders": 5}, ["orders", "decline", "compensation_bug",
     "compensation_attempts", "retry_delay_s", "seed"]),
    (save_point_recovery, {}, ["steps", "step_time_s", "seed"]),
    (saga_isolation, {"runs": 3}, ["runs", "credit", "cancel_fails", "max_cancel_attempts",
     "seed"]),
    (money_in_transit, {"transfers": 3}, ["transfers", "balance", "step_time_s", "transit_s",
     "credit_fails", "seed"]),
]  # fmt: skip


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("experiment, small, names", FUZZED)
def test_odd_values_give_finite_results_or_a_named_error(experiment, small, names):
    for name in names:
        for value in ODD:
            kwargs = {**small, name: value}
            try:
                result = experiment(**kwargs)
            except (ValueError, TypeError) as exc:
                assert name in str(exc), (name, value, exc)
                continue
            numbers = result.summary.select_dtypes("number").to_numpy(dtype=float)
            assert numbers.size and (abs(numbers) < float("inf")).all(), (name, value)
