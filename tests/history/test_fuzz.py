"""Fuzz: History.from_events and History.from_frame on wrong types, NaN or infinite times and huge
values either build a history or raise ValueError/TypeError saying which event, row or operation."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab import History, check_linearizable

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.integers(0, 2), max_size=3),
    st.dictionaries(st.text(max_size=1), st.integers(), max_size=1),
)
TIME = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**20), 10**20), ANY
)
EVENT = st.tuples(
    TIME,
    st.one_of(st.integers(0, 3), st.sampled_from(["a", "b"]), ANY),
    st.one_of(st.sampled_from(["invoke", "ok", "fail", "info"]), ANY),
    st.one_of(st.sampled_from(["read", "write", "cas", "get", "put", "append"]), ANY),
    st.one_of(st.none(), st.sampled_from(["k", "j"]), ANY),
    st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)), ANY),
)
NAMED = re.compile(r"event #\d+|row \d+|operation #\d+|events=")


def _check(h):
    for model in ("cas-register", "kv"):
        try:
            r = check_linearizable(h, model=model, max_steps=2_000)
        except ValueError as exc:  # the model does not have the function, or keys, ...
            assert "operation #" in str(exc), str(exc)
        else:
            assert r.verdict in ("linearizable", "not-linearizable", "unknown")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(EVENT, ANY), max_size=8))
def test_fuzz_from_events(events):
    try:
        h = History.from_events(events)
    except (ValueError, TypeError) as exc:
        assert NAMED.search(str(exc)), str(exc)
        return
    assert all(math.isfinite(op.invoke) for op in h)
    _check(h)


@settings(max_examples=150, deadline=None)
@given(st.lists(EVENT, min_size=1, max_size=6))
def test_fuzz_from_frame(events):
    try:
        h = History.from_events(events)
    except (ValueError, TypeError):
        return
    df = h.to_frame()
    column = events[0][4] if events[0][4] in df.columns else "invoke"
    df[column] = pd.Series([events[0][0]] * len(df), dtype=object)
    try:
        back = History.from_frame(df)
    except (ValueError, TypeError) as exc:
        assert NAMED.search(str(exc)), str(exc)
        return
    _check(back)


@pytest.mark.parametrize(
    ("events", "error", "message"),
    [
        ([(math.nan, 1, "invoke", "read", None, None)], TypeError, "time must be a number"),
        ([(math.inf, 1, "invoke", "read", None, None)], ValueError, "time=inf must be finite"),
        ([(0, {"a": 1}, "invoke", "read", None, None)], TypeError, "process=\\{'a': 1\\}"),
        ([(0, True, "invoke", "read", None, None)], TypeError, "process=True"),
        ([(0, 1, "invoke", "read", ["k"], None)], TypeError, "key=\\['k'\\]"),
        ([(0, 1, ["invoke"], "read", None, None)], ValueError, "kind=\\['invoke'\\]"),
        ([(0, 1, "invoke", {"f": 1}, None, None)], ValueError, "unknown function"),
        ([(0, 1, "invoke", "cas", None, 5)], ValueError, "a cas needs value=\\(expected, new\\)"),
        (None, TypeError, "events=None must be an iterable"),
        ("abc", TypeError, "events='abc' must be an iterable"),
    ],
)
def test_bad_events_name_the_event(events, error, message):
    with pytest.raises(error, match=message):
        History.from_events(events)


def test_from_frame_names_the_row():
    df = History.from_events([(0, 1, "invoke", "read", None, None)]).to_frame()
    df["process"] = pd.Series([[1]], dtype=object)
    with pytest.raises(TypeError, match=r"row 0 of df .*process=\[1\] must be an int or a str"):
        History.from_frame(df)
    df = History.from_events([(0, 1, "invoke", "read", None, None)]).to_frame()
    df["invoke"] = pd.Series(["noon"], dtype=object)
    with pytest.raises(TypeError, match="row 0 of df .*invoke and complete must be numbers"):
        History.from_frame(df)


def test_outcome_column():
    h = History.from_events(
        [(0, 1, "invoke", "write", None, 1), (1, 1, "ok", "write", None, 1),
         (2, 2, "invoke", "cas", None, (0, 1)), (3, 2, "fail", "cas", None, (0, 1)),
         (4, 3, "invoke", "read", None, None)]
    )  # fmt: skip
    frame = h.to_frame(outcome=True)
    assert frame["type"].tolist() == ["ok", "fail", "info"]
    assert frame["outcome"].tolist() == ["ok", "error", "timeout"]
    assert "outcome" not in h.to_frame().columns
    with pytest.raises(TypeError, match="outcome=1 must be True or False"):
        h.to_frame(outcome=1)
