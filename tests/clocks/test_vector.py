"""VectorClock and VectorTimestamp: compare (before, after, equal, concurrent), merge, clusters,
serialisation and bad input."""

from __future__ import annotations

import pytest

from distlab.clocks import Order, VectorClock, VectorTimestamp, compare_counts

ABC = ("a", "b", "c")


def vt(*counts, processes=ABC):
    return VectorTimestamp(processes, counts)


@pytest.mark.parametrize(
    "x, y, order",
    [
        ((1, 0, 0), (1, 1, 0), Order.BEFORE),
        ((1, 1, 0), (1, 0, 0), Order.AFTER),
        ((2, 1, 3), (2, 1, 3), Order.EQUAL),
        ((1, 0, 0), (0, 1, 0), Order.CONCURRENT),
        ((0, 0, 0), (0, 0, 1), Order.BEFORE),
    ],
)
def test_compare(x, y, order):
    assert vt(*x).compare(vt(*y)) is order
    assert vt(*y).compare(vt(*x)) is order.reverse()
    assert compare_counts(dict(zip(ABC, x)), dict(zip(ABC, y))) is order
    assert vt(*x).happened_before(vt(*y)) == (order is Order.BEFORE)
    assert vt(*x).concurrent_with(vt(*y)) == (order is Order.CONCURRENT)


def test_merge_is_the_elementwise_max():
    assert vt(1, 5, 0).merge(vt(3, 2, 0)) == vt(3, 5, 0)


def test_clock_rules():
    a, b = VectorClock("a", ABC), VectorClock("b", ABC)
    assert a.local() == vt(1, 0, 0)
    m = a.send()
    assert m == vt(2, 0, 0)
    assert b.receive(m) == vt(2, 1, 0)
    assert b.send() == vt(2, 2, 0)
    assert b.time == vt(2, 2, 0)
    assert b.metrics().receive == 1 and b.metrics().send == 1


def test_sparse_compare_treats_missing_as_zero():
    assert compare_counts({"a": 1}, {"a": 1, "b": 0}) is Order.EQUAL
    assert compare_counts({}, {"z": 1}) is Order.BEFORE


def test_sort_key_extends_happened_before():
    stamps = [vt(2, 2, 0), vt(0, 0, 1), vt(1, 0, 0), vt(2, 1, 0)]
    ordered = sorted(stamps, key=VectorTimestamp.sort_key)
    for i, x in enumerate(ordered):
        for y in ordered[:i]:
            assert not x.happened_before(y)


def test_vectors_of_different_clusters_are_refused():
    with pytest.raises(ValueError, match="different clusters cannot be compared"):
        vt(1, 0, 0).compare(vt(1, 0, processes=("a", "b")))
    with pytest.raises(ValueError, match="different clusters"):
        vt(1, 0, 0).merge(vt(0, 0, 1, processes=("c", "b", "a")))
    clock = VectorClock("a", ABC)
    with pytest.raises(ValueError, match="remote belongs to the cluster"):
        clock.receive(vt(1, 0, processes=("a", "x")))
    with pytest.raises(TypeError, match="must be a VectorTimestamp"):
        clock.receive({"a": 1})
    with pytest.raises(TypeError, match="other=.* must be a VectorTimestamp"):
        vt(1, 0, 0).compare((1, 0, 0))
    assert clock.time == vt(0, 0, 0)


def test_json_and_bytes_round_trip():
    x = vt(3, 0, 7)
    assert x.to_json() == '{"a": 3, "b": 0, "c": 7}'
    assert VectorTimestamp.from_json(x.to_json()) == x
    assert VectorTimestamp.from_bytes(x.to_bytes()) == x
    assert VectorTimestamp.from_bytes(x.to_bytes(), ABC) == x
    # a cluster given in another order is the same cluster, reordered
    assert VectorTimestamp.from_json('{"c": 7, "a": 3, "b": 0}', ABC) == x


@pytest.mark.parametrize(
    "text, match",
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"a": -1}', "must be at least 0"),
        ('{"a": 1.5}', "malformed"),
        ('{"a": "1"}', "malformed"),
        ("{}", "malformed|at least one process"),
    ],
)
def test_malformed_vector_text_is_refused(text, match):
    with pytest.raises(ValueError, match=match):
        VectorTimestamp.from_json(text)


def test_from_json_checks_the_cluster():
    with pytest.raises(ValueError, match="not the cluster"):
        VectorTimestamp.from_json('{"a": 1, "x": 2}', ABC)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((("a", "a"), (1, 1)), ValueError, "names a process twice"),
        ((("a", "b"), (1,)), ValueError, "one entry per process"),
        ((("a",), (-1,)), ValueError, r"counts\[0\]=-1"),
        ((("a",), (True,)), TypeError, r"counts\[0\]=True must be an integer"),
        (("ab", (1, 1)), TypeError, "must be a sequence of process names"),
        (((), ()), ValueError, "at least one process"),
        ((("a",), 1), TypeError, "counts=1 must be a sequence"),
    ],
)
def test_bad_timestamps(args, error, match):
    with pytest.raises(error, match=match):
        VectorTimestamp(*args)


def test_bad_clock():
    with pytest.raises(ValueError, match="process='z' is not one of"):
        VectorClock("z", ABC)
    with pytest.raises(ValueError, match=r"counts names \['x'\], not in the cluster"):
        VectorTimestamp.from_dict({"x": 1}, ABC)
    with pytest.raises(TypeError, match="must be a mapping"):
        VectorTimestamp.from_dict([("a", 1)])


def test_getitem_and_zero():
    x = vt(3, 0, 7)
    assert x["c"] == 7
    with pytest.raises(KeyError):
        x["z"]
    assert VectorTimestamp.zero(ABC) == vt(0, 0, 0)
