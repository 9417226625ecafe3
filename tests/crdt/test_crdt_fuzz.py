"""Fuzz: the CRDTs' public callables with odd arguments answer or raise ValueError/TypeError."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.crdt import GCounter, LWWRegister, MVRegister, ORSet, PNCounter, sum_merge, union_merge

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(-2, 2), max_size=3),
    st.tuples(st.text(max_size=2), st.integers(-2, 2)),
    st.dictionaries(st.text(max_size=2), st.integers(-(10**20), 10**20), max_size=3),
    st.just(math.inf),
)

CALLS = [
    lambda x, y: GCounter(x),
    lambda x, y: GCounter().increment(x, y),
    lambda x, y: PNCounter().decrement(x, y),
    lambda x, y: PNCounter(x, y),
    lambda x, y: LWWRegister().assign(x, timestamp=y, replica="a"),
    lambda x, y: LWWRegister(x, y, "a"),
    lambda x, y: MVRegister(x),
    lambda x, y: MVRegister(("a",)).assign(x, y),
    lambda x, y: ORSet(x, y),
    lambda x, y: ORSet().add(x, y),
    lambda x, y: ORSet().remove(x),
    lambda x, y: sum_merge(x, y),
    lambda x, y: union_merge(x, y),
    lambda x, y: GCounter.from_json(x),
    lambda x, y: ORSet.from_json(x),
    lambda x, y: MVRegister.from_json(x),
    lambda x, y: LWWRegister.from_json(x),
]


@settings(max_examples=600)
@given(st.sampled_from(range(len(CALLS))), ODD, ODD)
def test_odd_arguments(which, x, y):
    try:
        CALLS[which](x, y)
    except (ValueError, TypeError) as error:
        assert str(error)


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=2)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300)
@given(
    st.sampled_from([GCounter, PNCounter, LWWRegister, MVRegister, ORSet]),
    st.dictionaries(
        st.sampled_from(
            [
                "counts",
                "up",
                "down",
                "value",
                "timestamp",
                "replica",
                "cluster",
                "entries",
                "adds",
                "removed",
            ]
        ),
        JSONISH,
        max_size=4,
    ),
)
def test_odd_json_states(cls, data):
    import json

    try:
        state = cls.from_json(json.dumps({"type": cls.TYPE, **data}))
    except (ValueError, TypeError) as error:
        assert str(error)
    else:
        assert cls.from_json(state.to_json()) == state
