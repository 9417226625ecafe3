"""Each CRDT's semantics by example, the anti-examples, and bad input."""

from __future__ import annotations

import pytest

from distlab.clocks.vector import VectorTimestamp
from distlab.crdt import (
    GCounter,
    LWWRegister,
    MVRegister,
    ORSet,
    PNCounter,
    merge_law_violations,
    sum_merge,
    union_merge,
)


def test_counters():
    a = GCounter().increment("a", 2)
    b = GCounter().increment("b").increment("b")
    assert a.merge(b).counts == {"a": 2, "b": 2} and a.merge(b).value == 4
    assert a.merge(a.increment("a")).value == 3  # the newer state of a wins, not the sum
    assert GCounter({"a": 0}) == GCounter() and GCounter().increment("a", 0) == GCounter()
    p = PNCounter().increment("a", 3)
    q = p.decrement("b", 5)
    assert q.merge(p).value == -2 and q.up == p.up and q.down.counts == {"b": 5}


def test_lww_keeps_the_greatest_tag_and_loses_the_other_write():
    early = LWWRegister().assign("x", timestamp=1, replica="b")
    late = LWWRegister().assign("y", timestamp=2, replica="a")
    assert early.merge(late).value == late.merge(early).value == "y"
    assert late.merge(early).tag == (2, "a")
    tie_a = LWWRegister().assign("x", timestamp=1, replica="a")
    tie_b = LWWRegister().assign("y", timestamp=1, replica="b")
    assert tie_a.merge(tie_b).value == "y"  # equal timestamps: the replica name decides
    same_tag = LWWRegister().assign("z", timestamp=1, replica="b")
    assert tie_b.merge(same_tag) == same_tag.merge(tie_b)  # then the value, deterministically
    assert LWWRegister().value is None and LWWRegister().tag is None


def test_mv_register_keeps_concurrent_values_until_a_write_sees_them():
    m = MVRegister(("a", "b", "c"))
    x = m.assign("x", "a")
    y = m.assign("y", "b")
    both = x.merge(y)
    assert sorted(both.values) == ["x", "y"]
    z = both.assign("z", "c")
    assert z.values == ("z",) and z.entries[0][1].as_dict() == {"a": 1, "b": 1, "c": 1}
    assert z.merge(x).values == ("z",)  # x is older than z: dropped
    assert x.merge(x.assign("x2", "a")).values == ("x2",)
    assert m.values == ()


def test_or_set_add_wins_and_observed_removes_stick():
    s = ORSet().add("book", "a")
    removed = s.remove("book")
    concurrent_add = s.add("book", "b")  # b adds again, not having seen the remove
    assert "book" in removed.merge(concurrent_add)  # add wins
    assert "book" not in removed.merge(s)  # the removed tag stays dead
    assert removed.remove("nothing") == removed
    re_added = removed.add("book", "a")
    assert re_added.adds["book"] == {("a", 2)}  # a fresh tag, never the tombstoned one
    assert ORSet().add(1, "a").add("1", "a").elements == {1, "1"}


def test_the_union_cart_resurrects_and_the_or_set_does_not():
    old = frozenset({"book", "phone"})
    new = old - {"book"}
    assert union_merge(old, new) == old  # the deleted book is back
    assert merge_law_violations(union_merge, [old, new, frozenset()]) == []  # laws hold anyway
    cart = ORSet().add("book", "a").add("phone", "a")
    assert cart.merge(cart.remove("book")).elements == {"phone"}


def test_the_sum_merged_counter_double_counts():
    state = {"a": 2, "b": 1}
    assert sum(sum_merge(state, state).values()) == 6  # one redelivery: 3 counted twice
    (violation,) = merge_law_violations(sum_merge, [state])
    assert violation.law == "idempotent" and violation.left == {"a": 4, "b": 2}
    assert merge_law_violations(lambda a, b: a.merge(b), [GCounter(state)]) == []


def test_merge_law_violations_reports_each_law():
    found = merge_law_violations(lambda a, b: a, [1, 2])
    assert [v.law for v in found] == ["commutative"]
    with pytest.raises(TypeError, match="merge\\(1, 1\\) raised ZeroDivisionError"):
        merge_law_violations(lambda a, b: a / 0, [1, 2])
    with pytest.raises(ValueError, match="give 1 to 60"):
        merge_law_violations(max, [])
    with pytest.raises(TypeError, match="merge=3 must be a function"):
        merge_law_violations(3, [1])
    with pytest.raises(TypeError, match="states='ab' must be a sequence"):
        merge_law_violations(max, "ab")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: GCounter().increment("a", -1), ValueError, "amount=-1 must be an int >= 0"),
        (lambda: GCounter().increment("a", 1.5), TypeError, "amount=1.5 must be an int"),
        (lambda: GCounter().increment("a", True), TypeError, "amount=True"),
        (lambda: GCounter().increment("", 1), ValueError, "replica=''"),
        (lambda: GCounter({"a": -2}), ValueError, "counts\\['a'\\]=-2"),
        (lambda: GCounter([1]), TypeError, "counts=\\[1\\] must be a mapping"),
        (lambda: GCounter().merge(PNCounter()), TypeError, "must be a GCounter to merge"),
        (lambda: PNCounter(up=3), TypeError, "up=3 must be a GCounter"),
        (lambda: LWWRegister().assign(1, timestamp=float("nan"), replica="a"), ValueError, "nan"),
        (
            lambda: LWWRegister().assign(1, timestamp=float("inf"), replica="a"),
            ValueError,
            "finite",
        ),
        (lambda: LWWRegister().assign((1, 2), timestamp=1, replica="a"), TypeError, "JSON data"),
        (lambda: LWWRegister(1), ValueError, "value=1 needs a timestamp"),
        (lambda: LWWRegister(None, 1.0), ValueError, "given together"),
        (lambda: MVRegister(()), ValueError, "cluster=\\(\\) must name at least one"),
        (
            lambda: MVRegister(("a",)).assign(1, "z"),
            ValueError,
            "replica='z' is not in the cluster",
        ),
        (
            lambda: MVRegister(("a",)).merge(MVRegister(("b",))),
            ValueError,
            "is not this register's",
        ),
        (
            lambda: MVRegister(("a",), [(1, VectorTimestamp(("b",), (1,)))]),
            ValueError,
            "must be a VectorTimestamp of",
        ),
        (lambda: ORSet().add(1.5, "a"), TypeError, "element=1.5 must be a str or an int"),
        (lambda: ORSet().add(True, "a"), TypeError, "element=True"),
        (lambda: ORSet({"x": [("a", 0)]}), ValueError, "n must be an int >= 1"),
        (lambda: ORSet({"x": [("a", 1)], "y": [("a", 1)]}), ValueError, "on two elements"),
        (lambda: union_merge([1], {2}), TypeError, "a=\\[1\\] must be a set"),
        (lambda: sum_merge({"a": -1}, {}), ValueError, "a\\['a'\\]=-1"),
        (
            lambda: GCounter.from_json('{"type": "or_set", "adds": [], "removed": []}'),
            ValueError,
            "not a GCounter",
        ),
        (
            lambda: GCounter.from_json('{"type": "g_counter", "counts": {"a": -1}}'),
            ValueError,
            "not a valid GCounter",
        ),
        (
            lambda: ORSet.from_json('{"type": "or_set", "adds": 3, "removed": []}'),
            ValueError,
            "not a valid ORSet",
        ),
        (lambda: MVRegister.from_json("{"), ValueError, "not valid JSON"),
        (lambda: PNCounter.from_json(b"\xff"), ValueError, "not UTF-8"),
        (lambda: LWWRegister.from_json(3), TypeError, "must be JSON text"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
