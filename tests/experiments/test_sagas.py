"""The saga experiments: deterministic, their lessons hold over seeds, bad input refused."""

from __future__ import annotations

import pytest

from distlab.experiments import Result
from distlab.experiments.sagas import (
    END_STATE_VARIANTS,
    LOST_REPLY_VARIANTS,
    SCENARIOS,
    duplicate_charges,
    lost_replies,
    saga_end_states,
)

SEEDS = (0, 1, 2)


def _same(a, b):
    assert a.frame.equals(b.frame)
    assert a.summary.equals(b.summary)
    assert a.params == b.params


def test_deterministic():
    _same(saga_end_states(runs=2, seed=5), saga_end_states(runs=2, seed=5))
    _same(duplicate_charges(orders=50, seed=5), duplicate_charges(orders=50, seed=5))
    _same(lost_replies(orders=5, loss=0.1, seed=5), lost_replies(orders=5, loss=0.1, seed=5))


def test_result_shapes():
    r = saga_end_states(runs=2)
    assert isinstance(r, Result)
    assert r.summary.index.tolist() == list(END_STATE_VARIANTS)
    assert len(r.frame) == 3 * len(SCENARIOS) * 2
    assert r.table.index.names == ["variant", "scenario"] and len(r.table) == 3 * len(SCENARIOS)
    assert r.params["seed"] == 0 and r.params["runs"] == 2
    assert lost_replies(orders=2).summary.index.tolist() == list(LOST_REPLY_VARIANTS)


@pytest.mark.parametrize("seed", SEEDS)
def test_end_states_lesson(seed):
    t = saga_end_states(runs=5, seed=seed).table
    ours = t.loc["distlab"]
    assert (ours[["half_done", "inconsistent", "stuck"]] == 0).all().all()
    assert ours.loc["crash after reserve_stock", "completed"] == 5
    crashes = [s for s in SCENARIOS if s.startswith("crash")]
    for variant in ("course", "distlab, log lost"):
        assert (t.loc[variant].loc[crashes, "half_done"] >= 4).all()  # 1% loss may end one early
    for s in SCENARIOS:
        if s.startswith("fail"):
            assert t.loc[("distlab", s), "compensated"] == 5


def test_end_states_without_loss_are_exact():
    t = saga_end_states(runs=3, loss=0.0).table
    crashes = [s for s in SCENARIOS if s.startswith("crash")]
    assert (t.loc["course"].loc[crashes, "half_done"] == 3).all()
    assert (t.loc["distlab"].loc[crashes, "completed"] == 3).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_duplicate_charges_lesson(seed):
    s = duplicate_charges(orders=400, duplicate=0.05, seed=seed).summary
    rate = s.loc["no idempotency keys", "charged_twice_rate"]
    assert 0.025 < rate < 0.12  # about the duplicate rate (retries after a loss add a little)
    assert s.loc["idempotency keys", "charged_twice"] == 0
    assert s.loc["idempotency keys", "inconsistent"] == 0


def test_lost_reply_variants_name_the_saga_that_runs():
    # The first variant is the course's saga (its driver, no refund at all), not distlab's with
    # the compensation registered late: its name says so.
    course, ours = LOST_REPLY_VARIANTS[:2]
    assert course.startswith("course:") and "no refund" in course
    assert ours.startswith("distlab:")
    f = lost_replies(orders=3).frame
    assert (f.loc[f["variant"] == course, "status"] == "compensated").all()
    assert f.loc[f["variant"] == course, "charged"].tolist() == [1, 1, 1]


@pytest.mark.parametrize("seed", SEEDS)
def test_lost_replies_lesson(seed):
    s = lost_replies(orders=30, loss=0.02, seed=seed).summary
    after, before, no_tomb, tomb = LOST_REPLY_VARIANTS
    assert s.loc[after, "charged_but_cancelled"] >= 25
    assert s.loc[before, "charged_but_cancelled"] == 0
    assert s.loc[no_tomb, "reserved_but_cancelled"] >= 25
    assert s.loc[tomb, "reserved_but_cancelled"] == 0
    assert (s.loc[[before, tomb], ["half_done", "inconsistent"]] == 0).all().all()


@pytest.mark.parametrize(
    "fn, kwargs, error",
    [
        (saga_end_states, dict(variants="nope"), ValueError),
        (saga_end_states, dict(variants=["course", "course"]), ValueError),
        (saga_end_states, dict(scenarios="crash after complete_order"), ValueError),
        (saga_end_states, dict(runs=0), ValueError),
        (saga_end_states, dict(runs=10_000), ValueError),
        (saga_end_states, dict(loss=1.5), ValueError),
        (saga_end_states, dict(seed=-1), ValueError),
        (duplicate_charges, dict(orders="many"), TypeError),
        (duplicate_charges, dict(orders=100_000), ValueError),
        (duplicate_charges, dict(duplicate=2), ValueError),
        (duplicate_charges, dict(retries=0), ValueError),
        (lost_replies, dict(hold_s=-1), ValueError),
        (lost_replies, dict(timeout_s=0), ValueError),
        (lost_replies, dict(variants=3), TypeError),
    ],
)
def test_bad_input(fn, kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        fn(**kwargs)
