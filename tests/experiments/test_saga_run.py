"""One saga run as the timeline draws it: saga_run and the tables behind it (attempts, crashes,
log writes), checked against the participants' effects, the ground truth."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab import outcomes
from distlab.experiments.sagas import SagaRunResult, saga_run
from distlab.sim.sagas import ATTEMPT_COLUMNS, END_STATES, ORDER_STEPS, simulate_order_sagas

STEPS = ORDER_STEPS[:-1]


def _same(a: SagaRunResult, b: SagaRunResult) -> None:
    for table in ("frame", "summary", "crashes", "log_writes", "end_states"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.params == b.params


def test_deterministic():
    kwargs = dict(orders=3, duplicate=0.3, loss=0.1, crash_after_step="create_order")
    _same(saga_run(seed=4, **kwargs), saga_run(seed=4, **kwargs))
    assert not saga_run(seed=5, **kwargs).frame.equals(saga_run(seed=4, **kwargs).frame)


def test_result_shape():
    r = saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.2)
    assert list(r.frame.columns) == list(ATTEMPT_COLUMNS)
    assert list(r.crashes.columns) == ["start", "end", "state"]
    assert list(r.log_writes.columns) == ["time", "saga_id", "kind", "step"]
    assert list(r.summary.index) == ["distlab"] and r.summary.index.name == "driver"
    assert set(END_STATES) <= set(r.summary.columns)
    assert r.params["seed"] == 0 and r.params["fail_step"] == "charge_payment"
    assert set(r.frame["outcome"]) <= set(outcomes.OUTCOMES)
    assert (r.frame["ended"] >= r.frame["sent"]).all()
    s = r.summary.iloc[0]
    assert s["attempts"] == len(r.frame) and s["log_writes"] == len(r.log_writes)
    assert s["crashes"] == len(r.crashes) == 1
    assert s["sagas"] == sum(s[state] for state in END_STATES)


def test_attempt_effects_are_the_participants_effects():
    """Every effect a participant applied belongs to exactly one request in the table."""
    for seed in range(5):
        run = simulate_order_sagas(orders=4, idempotency=False, duplicate=0.3, loss=0.1, seed=seed)
        attempts = run.attempts()
        by_request = attempts.groupby(["participant", "saga_id", "step", "op"])["effects"].sum()
        for name, part in run.participants.items():
            for sid in run.saga_ids:
                for step in ORDER_STEPS:
                    for op in ("action", "compensation"):
                        expected = part.count(sid, step, op)
                        assert by_request.get((name, sid, step, op), 0) == expected


def test_without_keys_a_duplicate_takes_effect_twice_with_keys_it_is_answered_from_the_record():
    twice = answered = 0
    for seed in range(10):
        without = saga_run(orders=3, idempotency=False, duplicate=0.3, seed=seed).frame
        with_keys = saga_run(orders=3, idempotency=True, duplicate=0.3, seed=seed).frame
        twice += int((without["effects"] >= 2).sum())
        answered += int(with_keys["duplicate"].sum())
        assert (with_keys["effects"] <= 1).all()
        assert not without["duplicate"].any()  # no record to answer from
    assert twice >= 5 and answered >= 5


def test_a_crash_after_a_step_distlab_recovers_from_its_log_the_course_forgets():
    for seed in range(3):
        r = saga_run(crash_after_step="reserve_stock", seed=seed)
        (start, end), = r.crashes[["start", "end"]].itertuples(index=False)  # fmt: skip
        assert r.end_states["end_state"].tolist() == ["completed"]
        assert not ((r.frame["sent"] > start) & (r.frame["sent"] < end)).any()
        assert (r.log_writes["time"] >= end).sum() >= 4  # recovery carries on, logging
        assert set(r.frame.loc[r.frame["sent"] >= end, "step"]) == {
            "charge_payment",
            "complete_order",
        }
        course = saga_run("course", crash_after_step="reserve_stock", seed=seed)
        assert course.end_states["end_state"].tolist() == ["half_done"]
        assert len(course.log_writes) == 0
        assert (course.frame["sent"] < course.crashes["start"].iloc[0]).all()


def test_a_failing_compensation_leaves_distlab_stuck_and_the_course_half_done():
    kwargs = dict(fail_step="charge_payment", fail_compensation_step="reserve_stock")
    r = saga_run(compensation_attempts=3, **kwargs)
    undo = r.frame[(r.frame["step"] == "reserve_stock") & (r.frame["op"] == "compensation")]
    assert undo["outcome"].tolist() == ["error"] * 3 and not undo["took_effect"].any()
    assert r.end_states["end_state"].tolist() == ["stuck"]
    assert "stuck" in set(r.log_writes["kind"])
    course = saga_run("course", **kwargs)
    undo = course.frame[course.frame["op"] == "compensation"]
    # tried once; its error propagates out of the course's catch: the cancel never runs
    assert undo["step"].tolist() == ["reserve_stock"]
    ends = course.end_states
    assert ends[["status", "order", "reserved", "end_state"]].values.tolist() == [
        ["error", "PENDING", 1, "half_done"]
    ]


def test_an_early_compensation_leaves_a_tombstone_and_the_late_action_is_a_no_op():
    run = simulate_order_sagas(orders=2, hold_step="reserve_stock", hold_s=2.0, retries=1)
    a = run.attempts()
    undo = a[(a["step"] == "reserve_stock") & (a["op"] == "compensation")]
    assert undo["tombstone"].all() and not undo["took_effect"].any()
    late = [h for h in run.participants["inventory"].handled if h[4] == "action"]
    assert {h[6] for h in late} == {"tombstone"}
    assert run.end_states()["end_state"].tolist() == ["compensated", "compensated"]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(driver="nope"), ValueError, "driver"),
        (dict(orders=0), ValueError, "orders"),
        (dict(orders=21), ValueError, "orders"),
        (dict(fail_step="complete_order"), ValueError, "fail_step"),
        (dict(fail_compensation_step="reserve_stock"), ValueError, "fail_compensation_step"),
        (
            dict(fail_step="reserve_stock", fail_compensation_step="charge_payment"),
            ValueError,
            "fail_compensation_step",
        ),
        (
            dict(fail_step="reserve_stock", crash_after_step="reserve_stock"),
            ValueError,
            "crash_after_step",
        ),
        (dict(duplicate=1.5), ValueError, "duplicate"),
        (dict(loss="0.1"), TypeError, "loss"),
        (dict(idempotency="yes"), TypeError, "idempotency"),
        (dict(compensation_attempts=0), ValueError, "compensation_attempts"),
        (dict(timeout_s=0), ValueError, "timeout_s"),
        (dict(horizon_s=float("inf")), ValueError, "horizon_s"),
        (dict(seed=-1), ValueError, "seed"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, error, words):
    with pytest.raises(error, match=words):
        saga_run(**kwargs)


@settings(max_examples=25, deadline=None)
@given(
    driver=st.sampled_from(["distlab", "course"]),
    fail=st.sampled_from([None, *STEPS]),
    crash=st.sampled_from([None, *STEPS]),
    undo=st.sampled_from([None, *STEPS]),
    idempotency=st.booleans(),
    duplicate=st.sampled_from([0.0, 0.3, 1.0]),
    loss=st.sampled_from([0.0, 0.2, 0.9]),
    seed=st.integers(0, 2**31),
)
def test_any_faults_either_run_or_say_why(driver, fail, crash, undo, idempotency, duplicate,
                                          loss, seed):  # fmt: skip
    try:
        r = saga_run(driver, orders=2, idempotency=idempotency, fail_step=fail,
                     crash_after_step=crash, fail_compensation_step=undo, duplicate=duplicate,
                     loss=loss, seed=seed)  # fmt: skip
    except ValueError as exc:
        assert "fail_compensation_step" in str(exc) or "crash_after_step" in str(exc)
        return
    assert set(r.end_states["end_state"]) <= set(END_STATES)
    assert r.frame["sent"].max() <= r.params["horizon_s"]
    if driver == "distlab" and idempotency:
        assert (r.frame["effects"] <= 1).all()
