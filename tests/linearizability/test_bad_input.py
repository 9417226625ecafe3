"""Bad input to check_linearizable: clear TypeError/ValueError naming the parameter (Reliability 9),
and a fuzz test over operations with wrong types, NaN or infinite times and huge values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab import History, Operation, check_linearizable


@pytest.mark.parametrize(
    ("history", "error", "message"),
    [
        (None, TypeError, "history=None must be a History or an iterable of Operation"),
        ("abc", TypeError, "history='abc' must be a History"),
        (5, TypeError, "history=5 must be a History"),
        ([None], TypeError, "history item #0 is a NoneType, not an Operation"),
        ([Operation(1, 1, "read", None, None, None, "ok", 0, 1)], ValueError, "index=1"),
        ([Operation(0, 1, "read", None, None, None, "ok", math.nan, 1)], TypeError, "invoke=nan"),
    ],
)
def test_bad_history(history, error, message):
    with pytest.raises(error, match=message):
        check_linearizable(history)


@pytest.mark.parametrize("model", [None, 5, "Register", ["kv"]])
def test_bad_model(model):
    with pytest.raises(
        ValueError, match=r"model=.* is not one of 'register', 'cas-register', 'kv'"
    ):
        check_linearizable(History([]), model=model)


ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.tuples(st.integers(0, 2), st.integers(0, 2)),
    st.lists(st.integers(0, 2), max_size=2),
)


@st.composite
def operations(draw):
    n = draw(st.integers(0, 5))
    ops = []
    for i in range(n):
        ops.append(
            Operation(
                i,
                draw(st.one_of(st.integers(0, 3), ANY)),
                draw(st.one_of(st.sampled_from(["read", "write", "cas", "get", "put"]), ANY)),
                draw(st.one_of(st.none(), st.just("k"), ANY)),
                draw(st.one_of(st.integers(0, 2), ANY)),
                draw(st.one_of(st.integers(0, 2), ANY)),
                draw(st.one_of(st.sampled_from(["ok", "fail", "info"]), ANY)),
                draw(st.one_of(st.floats(0, 10), ANY)),
                draw(st.one_of(st.floats(0, 20), ANY)),
            )
        )
    return ops


@settings(max_examples=120, deadline=None)
@given(operations(), st.sampled_from(["register", "cas-register", "kv"]))
def test_fuzz_check_linearizable(ops, model):
    try:
        r = check_linearizable(ops, model=model, max_steps=1_000)
    except (ValueError, TypeError) as exc:
        assert "operation #" in str(exc) or "history item #" in str(exc), str(exc)
        return
    assert r.verdict in ("linearizable", "not-linearizable", "unknown")
