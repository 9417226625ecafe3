"""Fuzz: check_sessions with odd arguments either answers or raises ValueError/TypeError."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from distlab.history import History
from distlab.sessions import SessionReport, check_sessions

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.one_of(st.integers(), st.text(max_size=3), st.floats()), max_size=4),
    st.dictionaries(st.text(max_size=3), st.lists(st.integers(0, 3), max_size=4), max_size=3),
    st.just(math.nan),
)

H = History.from_events(
    [
        (0, "a", "invoke", "write", None, 1),
        (1, "a", "ok", "write", None, 1),
        (2, "a", "invoke", "read", None, None),
        (3, "a", "ok", "read", None, None),
        (4, "b", "invoke", "write", None, 2),
        (5, "b", "ok", "write", None, 2),
    ]
)


@given(guarantees=ODD, versions=ODD, applied=ODD)
def test_odd_arguments(guarantees, versions, applied):
    try:
        report = check_sessions(H, guarantees=guarantees, versions=versions, applied=applied)
    except (ValueError, TypeError) as error:
        assert str(error)
    else:
        assert isinstance(report, SessionReport)


@given(values=st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=2)), max_size=6))
def test_odd_written_values(values):
    events = []
    for i, v in enumerate(values):
        events += [
            (2 * i, "p", "invoke", "write", None, v),
            (2 * i + 1, "p", "ok", "write", None, v),
        ]
    try:
        report = check_sessions(History.from_events(events))
    except (ValueError, TypeError) as error:
        assert str(error)
    else:
        assert isinstance(report, SessionReport)
