"""Retried payments: idempotency keys turn double charges into single ones."""

import pandas as pd
import pytest

from distlab.experiments.idempotency import retried_payments


def test_without_keys_retries_charge_twice_and_with_keys_never():
    for seed in range(3):
        without = retried_payments(seed=seed)
        with_keys = retried_payments(idempotency_keys=True, seed=seed)
        assert (without["charges"] > 1).sum() > 0
        assert (with_keys["charges"] <= 1).all()
        # Same seed, same network: the clients saw the same thing; only the server differs.
        pd.testing.assert_series_equal(without["attempts"], with_keys["attempts"])
        pd.testing.assert_series_equal(without["outcome"], with_keys["outcome"])


def test_charges_never_exceed_attempts_and_an_ok_payment_was_charged():
    table = retried_payments(payments=300, seed=4)
    assert (table["charges"] <= table["attempts"]).all()
    assert (table.loc[table["outcome"] == "ok", "charges"] >= 1).all()


def test_without_retries_there_is_no_double_charge():
    table = retried_payments(attempts=1, seed=0)
    assert (table["charges"] <= 1).all()
    assert (table["attempts"] == 1).all()


def test_verdicts_partition_the_payments():
    table = retried_payments(payments=400, loss=0.2, seed=2)
    ok = table["outcome"] == "ok"
    expected = pd.Series("charged once", index=table.index)
    expected[table["charges"] > 1] = "charged twice or more"
    expected[~ok & (table["charges"] == 0)] = "not charged"
    expected[~ok & (table["charges"] == 1)] = "charged, client saw failure"
    assert (table["verdict"] == expected).all()
    assert {"not charged", "charged, client saw failure"} <= set(table["verdict"])


def test_same_seed_same_table():
    pd.testing.assert_frame_equal(retried_payments(seed=9), retried_payments(seed=9))
    assert not retried_payments(seed=9).equals(retried_payments(seed=10))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"payments": 0}, ValueError, "payments=0 must be between 1"),
        ({"attempts": 0}, ValueError, "attempts=0 must be between 1 and 20"),
        ({"loss": 2}, ValueError, "loss=2 must be between 0 and 1"),
        ({"timeout_s": 0}, ValueError, "timeout_s=0 must be greater than 0"),
        ({"idempotency_keys": "yes"}, TypeError, "idempotency_keys='yes' must be True or False"),
    ],
)
def test_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        retried_payments(**kwargs)
