"""Retried payments: idempotency keys turn double charges into single ones."""

import pandas as pd
import pytest

from distlab.experiments.idempotency import IDEMPOTENCY_VARIANTS, VERDICTS, retried_payments


def _variant(result, name):
    return result.frame[result.frame["variant"] == name].reset_index(drop=True)


def test_without_keys_retries_charge_twice_and_with_keys_never():
    for seed in range(3):
        result = retried_payments(seed=seed)
        without, with_keys = _variant(result, "no key"), _variant(result, "idempotency key")
        assert (without["charges"] > 1).sum() > 0
        assert (with_keys["charges"] <= 1).all()
        # Same seed, same network: the clients saw the same thing; only the server differs.
        pd.testing.assert_series_equal(without["attempts"], with_keys["attempts"])
        pd.testing.assert_series_equal(without["outcome"], with_keys["outcome"])
        assert result.summary.loc["idempotency key", "charged_twice_or_more"] == 0


def test_charges_never_exceed_attempts_and_an_ok_payment_was_charged():
    table = retried_payments("no key", payments=300, seed=4).frame
    assert (table["charges"] <= table["attempts"]).all()
    assert (table.loc[table["outcome"] == "ok", "charges"] >= 1).all()


def test_without_retries_there_is_no_double_charge():
    table = retried_payments(max_attempts=1, seed=0).frame
    assert (table["charges"] <= 1).all()
    assert (table["attempts"] == 1).all()


def test_verdicts_partition_the_payments():
    result = retried_payments("no key", payments=400, loss=0.2, seed=2)
    table = result.frame
    ok = table["outcome"] == "ok"
    expected = pd.Series("charged once", index=table.index)
    expected[table["charges"] > 1] = "charged twice or more"
    expected[~ok & (table["charges"] == 0)] = "not charged"
    expected[~ok & (table["charges"] == 1)] = "charged, client saw failure"
    assert (table["verdict"] == expected).all()
    assert {"not charged", "charged, client saw failure"} <= set(table["verdict"])
    s = result.summary.loc["no key"]
    assert s["payments"] == 400 and s["attempts"] == table["attempts"].sum()
    counts = table["verdict"].value_counts()
    for verdict in VERDICTS:
        column = verdict.replace(",", "").replace(" ", "_")
        assert s[column] == counts.get(verdict, 0)


def test_the_attempts_are_read_from_the_policys_events():
    table = retried_payments("no key", payments=100, loss=0.3, seed=3).frame
    assert table["attempts"].between(1, 3).all() and (table["attempts"] > 1).any()
    assert set(table["outcome"]) <= {"ok", "error", "timeout"}
    gave_up = table["outcome"] != "ok"
    assert (table.loc[gave_up, "attempts"] == 3).all()


def test_same_seed_same_result():
    a, b = retried_payments(seed=9), retried_payments(seed=9)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.params == b.params and a.params["seed"] == 9
    assert not a.frame.equals(retried_payments(seed=10).frame)
    assert list(a.summary.index) == list(IDEMPOTENCY_VARIANTS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"payments": 0}, ValueError, "payments=0 must be between 1"),
        ({"max_attempts": 0}, ValueError, "max_attempts=0 must be between 1 and 20"),
        ({"loss": 2}, ValueError, "loss=2 must be between 0 and 1"),
        ({"timeout_s": 0}, ValueError, "timeout_s=0 must be in"),
        ({"timeout_s": 1e308}, ValueError, "timeout_s=1e"),
        ({"delay_s": float("inf")}, ValueError, "delay_s=inf"),
        ({"variants": "keys"}, ValueError, "variants item='keys' is not one of"),
        ({"variants": []}, ValueError, r"variants=\(\) is empty"),
        ({"seed": 1.0}, TypeError, "seed=1.0 must be an int"),
    ],
)
def test_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        retried_payments(**kwargs)
