"""The saga explorer (notebook 04): each preset shows what its name promises."""

from __future__ import annotations

import pytest
from matplotlib.collections import PolyCollection

from distlab.widgets import all_explorers
from distlab.widgets.sagas import PRESETS, saga_explorer


@pytest.fixture(scope="module")
def explorer():
    return saga_explorer()


def _preset(explorer, name):
    explorer.apply_preset(name)
    assert explorer.error is None, explorer.error
    return explorer.last_result


def _bar_count(explorer) -> int:
    ax = explorer.last_figure.axes[0]
    return sum(len(c.get_paths()) for c in ax.collections if isinstance(c, PolyCollection))


def test_registered():
    assert all_explorers()["saga"] is saga_explorer


def test_course_preset_leaves_the_order_half_done_after_a_crash(explorer):
    r = _preset(explorer, "course text's saga")
    assert r.end_states["end_state"].tolist() == ["half_done"]
    assert len(r.crashes) == 1 and len(r.log_writes) == 0
    assert (r.frame["sent"] < r.crashes["start"].iloc[0]).all()  # nobody came back for it


def test_durable_log_preset_recovers_and_answers_duplicates_from_the_record(explorer):
    r = _preset(explorer, "durable log and idempotency keys")
    assert r.end_states["end_state"].tolist() == ["completed"]
    assert len(r.crashes) == 1
    assert (r.frame["sent"] >= r.crashes["end"].iloc[0]).sum() >= 2  # carried on after restart
    assert r.frame["duplicate"].any() and (r.frame["effects"] <= 1).all()


def test_no_idempotency_keys_preset_charges_someone_twice(explorer):
    r = _preset(explorer, "no idempotency keys")
    twice = r.frame[r.frame["effects"] >= 2]
    assert "charge_payment" in set(twice["step"])
    assert "inconsistent" in set(r.end_states["end_state"])


def test_failing_compensation_preset_leaves_the_saga_stuck(explorer):
    r = _preset(explorer, "failing compensation")
    assert r.end_states["end_state"].tolist() == ["stuck"]
    undo = r.frame[(r.frame["step"] == "reserve_stock") & (r.frame["op"] == "compensation")]
    assert len(undo) >= 2 and (undo["outcome"] == "error").all()


def test_failing_compensation_with_the_course_stops_at_the_failed_undo(explorer):
    _preset(explorer, "failing compensation")
    explorer.controls["driver"].value = "course"
    r = explorer.last_result
    assert r.frame[r.frame["op"] == "compensation"]["step"].tolist() == ["reserve_stock"]
    assert r.end_states[["order", "reserved", "end_state"]].values.tolist() == [
        ["PENDING", 1, "half_done"]
    ]


def test_every_preset_is_tested():
    assert set(PRESETS) == {
        "course text's saga",
        "durable log and idempotency keys",
        "no idempotency keys",
        "failing compensation",
    }


def test_changing_a_control_changes_the_figure_data():
    ex = saga_explorer()
    bars = _bar_count(ex)
    assert bars == len(ex.last_result.frame)
    ex.controls["orders"].value = 3
    assert ex.last_result.end_states["saga_id"].tolist() == ["o0", "o1", "o2"]
    assert _bar_count(ex) == len(ex.last_result.frame) > bars
    ex.controls["driver"].value = "course"
    assert len(ex.last_result.log_writes) == 0
    texts = [t.get_text() for t in ex.last_figure.axes[0].texts]
    assert "no saga log: nothing to recover from" in texts
    assert ex.last_figure.axes[0].get_title(loc="left").startswith("The course's saga")


def test_bad_combinations_show_a_readable_message():
    ex = saga_explorer()
    good = ex.last_result
    ex.update(fail_step="create_order")  # the default crash is after reserve_stock
    assert ex.error is not None
    assert "crash_after_step='reserve_stock' never happens" in ex.error
    assert ex.last_result is good
    ex.update(fail_step="charge_payment", fail_compensation_step="charge_payment")
    assert "fail_compensation_step='charge_payment' never runs" in ex.error
    ex.update(fail_compensation_step="none")
    assert ex.error is None
