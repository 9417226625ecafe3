"""Hand-made histories, one per rule of the checker, each with its verdict; a brute-force oracle."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab import History, Operation, check_linearizable

INF = math.inf


def hist(*rows, key=None):
    """rows: (process, f, value, result, type, invoke, complete)."""
    return History(
        Operation(i, p, f, key, v, r, t, s, e) for i, (p, f, v, r, t, s, e) in enumerate(rows)
    )


def verdict(h, model="cas-register", **kw):
    return check_linearizable(h, model=model, **kw).verdict


LIN, NOT = "linearizable", "not-linearizable"


def test_empty_history_is_linearizable():
    assert verdict(History([])) == LIN
    assert verdict(History([]), "kv") == LIN


def test_sequential_ok():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "read", None, 1, "ok", 2, 3),
        (0, "write", 2, None, "ok", 4, 5),
        (1, "read", None, 2, "ok", 6, 7),
    )
    r = check_linearizable(h, model="register")
    assert r.verdict == LIN and r.linearization == (0, 1, 2, 3) and r.state == 2


def test_read_of_initial_value_is_nil():
    assert verdict(hist((0, "read", None, None, "ok", 0, 1))) == LIN
    assert verdict(hist((0, "read", None, 0, "ok", 0, 1))) == NOT


@pytest.mark.parametrize("seen", [1, 2])
def test_concurrent_writes_either_order(seen):
    # two overlapping writes, then a read: it may see either, whichever took effect last
    h = hist(
        (0, "write", 1, None, "ok", 0, 10),
        (1, "write", 2, None, "ok", 1, 11),
        (2, "read", None, seen, "ok", 12, 13),
    )
    assert verdict(h) == LIN


@pytest.mark.parametrize("seen", [None, 1])
def test_read_concurrent_with_write_sees_old_or_new(seen):
    h = hist((0, "write", 1, None, "ok", 0, 10), (1, "read", None, seen, "ok", 2, 3))
    assert verdict(h) == LIN


def test_stale_read_after_completed_write():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (0, "write", 2, None, "ok", 2, 3),
        (1, "read", None, 1, "ok", 4, 5),
    )
    r = check_linearizable(h, model="register")
    assert r.verdict == NOT
    assert "#2" in r.explanation.splitlines()[0] and "holds 2" in r.explanation
    assert r.linearization == (0, 1) and r.state == 2


def test_reads_disagree_on_order():
    # two readers see the concurrent writes in opposite orders: no single order explains both
    h = hist(
        (0, "write", 1, None, "ok", 0, 10),
        (1, "write", 2, None, "ok", 0, 10),
        (2, "read", None, 1, "ok", 1, 2),
        (2, "read", None, 2, "ok", 3, 4),
        (3, "read", None, 2, "ok", 1, 2),
        (3, "read", None, 1, "ok", 3, 4),
    )
    assert verdict(h) == NOT


def test_read_of_value_never_written():
    h = hist((0, "write", 1, None, "ok", 0, 1), (1, "read", None, 7, "ok", 2, 3))
    r = check_linearizable(h, model="register")
    assert r.verdict == NOT and "no operation ever writes 7" in r.explanation


def test_read_of_value_written_only_later():
    h = hist((1, "read", None, 7, "ok", 0, 1), (0, "write", 7, None, "ok", 2, 3))
    r = check_linearizable(h, model="register")
    assert r.verdict == NOT and "after this one completed" in r.explanation


def test_touching_operations_are_concurrent():
    # the write completes at 1, the read is invoked at 1: either order is allowed
    h = hist((0, "write", 1, None, "ok", 0, 1), (1, "read", None, None, "ok", 1, 2))
    assert verdict(h) == LIN


def test_cas_ok_and_refused():
    ok = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "cas", (1, 2), None, "ok", 2, 3),
        (0, "read", None, 2, "ok", 4, 5),
    )
    assert verdict(ok) == LIN
    # a refused cas is checked: refused while the value was 1 is impossible
    refused_wrongly = hist(
        (0, "write", 1, None, "ok", 0, 1), (1, "cas", (1, 2), None, "fail", 2, 3)
    )
    r = check_linearizable(refused_wrongly, model="cas-register")
    assert r.verdict == NOT and "refused" in r.explanation
    refused_rightly = hist(
        (0, "write", 3, None, "ok", 0, 1),
        (1, "cas", (1, 2), None, "fail", 2, 3),
        (0, "read", None, 3, "ok", 4, 5),
    )
    assert verdict(refused_rightly) == LIN
    # a successful cas needs the expected value
    assert (
        verdict(hist((0, "write", 3, None, "ok", 0, 1), (1, "cas", (1, 2), None, "ok", 2, 3)))
        == NOT
    )


def test_failed_operations_did_not_take_effect():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "write", 5, None, "fail", 2, 3),
        (0, "read", None, 1, "ok", 4, 5),
    )
    assert verdict(h) == LIN
    assert (
        verdict(hist((1, "write", 5, None, "fail", 0, 1), (0, "read", None, 5, "ok", 2, 3))) == NOT
    )


def test_failed_or_unknown_read_constrains_nothing():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "read", None, None, "fail", 2, 3),
        (2, "read", None, None, "info", 2, INF),
        (1, "read", None, 1, "ok", 4, 5),
    )
    assert verdict(h) == LIN


def test_info_write_may_take_effect_late():
    # the write timed out at 1, yet a read long after sees it: it took effect late
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "write", 2, None, "info", 2, INF),
        (0, "read", None, 1, "ok", 10, 11),
        (0, "read", None, 2, "ok", 20, 21),
    )
    r = check_linearizable(h, model="register")
    assert r.verdict == LIN and r.linearization.index(1) > r.linearization.index(2)
    # ... but not before its invocation
    early = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (0, "read", None, 2, "ok", 2, 3),
        (1, "write", 2, None, "info", 4, INF),
    )
    assert verdict(early) == NOT


def test_info_write_may_never_take_effect():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "write", 2, None, "info", 2, INF),
        (0, "read", None, 1, "ok", 10, 11),
    )
    r = check_linearizable(h, model="register")
    assert r.verdict == LIN and 1 not in r.linearization


def test_info_write_takes_effect_at_most_once():
    h = hist(
        (0, "write", 1, None, "ok", 0, 1),
        (1, "write", 2, None, "info", 2, INF),
        (0, "read", None, 2, "ok", 3, 4),
        (0, "write", 1, None, "ok", 5, 6),
        (0, "read", None, 2, "ok", 7, 8),
    )
    assert verdict(h) == NOT


def test_info_cas_late_or_never():
    base = [(0, "write", 1, None, "ok", 0, 1), (1, "cas", (1, 5), None, "info", 2, INF)]
    assert (
        verdict(hist(*base, (0, "read", None, 1, "ok", 3, 4), (0, "read", None, 5, "ok", 5, 6)))
        == LIN
    )
    assert verdict(hist(*base, (0, "read", None, 1, "ok", 3, 4))) == LIN
    # once the value is 2 the cas can no longer succeed
    assert (
        verdict(hist(*base, (0, "write", 2, None, "ok", 3, 4), (0, "read", None, 5, "ok", 5, 6)))
        == NOT
    )


def test_kv_per_key_independence():
    rows = [
        Operation(0, 0, "put", "a", "1", None, "ok", 0, 1),
        Operation(1, 1, "put", "b", "2", None, "ok", 0, 1),
        Operation(2, 0, "append", "a", "x", None, "ok", 2, 3),
        Operation(3, 1, "get", "b", None, "2", "ok", 4, 5),
        Operation(4, 2, "get", "a", None, "1x", "ok", 4, 5),
        Operation(5, 2, "get", "c", None, "", "ok", 6, 7),
    ]
    r = check_linearizable(History(rows), model="kv")
    assert r.verdict == LIN and r.per_key == {"a": LIN, "b": LIN, "c": LIN}
    # a stale get on key b: only b is wrong; the explanation names it
    bad = rows + [Operation(6, 3, "get", "b", None, "", "ok", 8, 9)]
    r = check_linearizable(History(bad), model="kv")
    assert r.verdict == NOT and r.per_key["b"] == NOT and "Key 'b'" in r.explanation
    # keys do not see each other's values
    cross = [
        Operation(0, 0, "put", "a", "1", None, "ok", 0, 1),
        Operation(1, 1, "get", "b", None, "1", "ok", 2, 3),
    ]
    assert verdict(History(cross), "kv") == NOT


def test_kv_append_order_and_missing_key():
    rows = [
        Operation(0, 0, "append", "k", "x", None, "ok", 0, 10),
        Operation(1, 1, "append", "k", "y", None, "ok", 0, 10),
        Operation(2, 2, "get", "k", None, "yx", "ok", 11, 12),
        Operation(
            3, 2, "get", "m", None, None, "ok", 11, 12
        ),  # a get of a missing key: "" (None accepted)
    ]
    assert verdict(History(rows), "kv") == LIN
    rows[2] = Operation(2, 2, "get", "k", None, "xx", "ok", 11, 12)
    assert verdict(History(rows), "kv") == NOT


def test_timeout_gives_unknown():
    # 18 concurrent writes, then two reads after all of them that disagree: refuting it means trying
    # every subset of the writes (2^18 configurations), far more than 50 ms allows
    rows = [(p, "write", p, None, "ok", 0.0, 100.0) for p in range(18)]
    rows += [(99, "read", None, 0, "ok", 101.0, 102.0), (99, "read", None, 1, "ok", 103.0, 104.0)]
    r = check_linearizable(hist(*rows), model="register", timeout_s=0.05)
    assert r.verdict == "unknown" and "time limit" in r.explanation
    kv = History(
        Operation(i, p, f, k, v, res, "ok", s, e)
        for i, (p, f, k, v, res, s, e) in enumerate(
            [(p, "append", "k", f"x{p}", None, 0.0, 100.0) for p in range(18)]
            + [(99, "get", "k", None, "nope", 101.0, 102.0)]
        )
    )
    r = check_linearizable(kv, model="kv", timeout_s=0.05)
    assert r.verdict == "unknown" and r.per_key == {"k": "unknown"}


def test_bad_timeout():
    with pytest.raises(ValueError, match="timeout_s"):
        check_linearizable(History([]), timeout_s=0)
    with pytest.raises(ValueError, match="model='queue'"):
        check_linearizable(History([]), model="queue")


# ---------------------------------------------------------------------------------------------
# a brute-force oracle: every order of every subset of the info operations


def _oracle(h: History) -> bool:
    ops = [
        op
        for op in h
        if not (op.f == "read" and op.type != "ok") and not (op.type == "fail" and op.f != "cas")
    ]
    done = [op for op in ops if op.type != "info"]
    info = [op for op in ops if op.type == "info"]

    def legal(order):
        state = None
        for k, op in enumerate(order):
            if any(later.complete < op.invoke for later in order[k + 1 :]):
                return False
            if op.f == "read":
                if state != op.result:
                    return False
            elif op.f == "write":
                state = op.value
            elif op.type == "ok":
                if state != op.value[0]:
                    return False
                state = op.value[1]
            elif op.type == "fail":
                if state == op.value[0]:
                    return False
            elif state == op.value[0]:
                state = op.value[1]
        return True

    for size in range(len(info) + 1):
        for chosen in itertools.combinations(info, size):
            if any(legal(order) for order in itertools.permutations(done + list(chosen))):
                return True
    return False


@st.composite
def small_histories(draw):
    n = draw(st.integers(1, 6))
    rows = []
    for p in range(n):
        f = draw(st.sampled_from(["read", "write", "cas"]))
        typ = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
        start = draw(st.integers(0, 8))
        end = INF if typ == "info" else start + draw(st.integers(0, 4))
        value = (
            None
            if f == "read"
            else draw(st.integers(0, 2))
            if f == "write"
            else (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        )
        result = draw(st.sampled_from([None, 0, 1, 2])) if f == "read" and typ == "ok" else None
        rows.append((p, f, value, result, typ, float(start), float(end)))
    rows.sort(key=lambda r: r[5])
    return hist(*rows)


@settings(max_examples=400, deadline=None)
@given(small_histories())
def test_agrees_with_brute_force(h):
    expected = LIN if _oracle(h) else NOT
    assert verdict(h) == expected, "\n".join(op.describe() for op in h)


def _renumbered(ops):
    return History(
        Operation(i, op.process, op.f, op.key, op.value, op.result, op.type, op.invoke, op.complete)
        for i, op in enumerate(ops)
    )


@settings(max_examples=300, deadline=None)
@given(small_histories(), st.randoms(use_true_random=False))
def test_any_order_of_the_operations_gets_the_oracles_verdict(h, rnd):
    """Reliability 1: the checker does not depend on the order it is given the operations in."""
    ops = list(h)
    rnd.shuffle(ops)
    shuffled = _renumbered(ops)
    expected = LIN if _oracle(h) else NOT
    assert verdict(shuffled) == expected, "\n".join(op.describe() for op in shuffled)


def _events(h):
    out = []
    for op in h:
        value = op.value
        out.append((op.invoke, op.process, "invoke", op.f, op.key, value))
        if op.type != "info":
            answer = op.result if op.f == "read" else value
            out.append((op.complete, op.process, op.type, op.f, op.key, answer))
    return out


@settings(max_examples=200, deadline=None)
@given(small_histories(), st.randoms(use_true_random=False))
def test_any_order_of_the_events_gives_the_same_history_and_verdict(h, rnd):
    """Events of different processes may come in any order: the same operations, numbered by
    invocation time, and the same verdict."""
    events = _events(h)  # one operation per process: any permutation keeps each process's order
    rnd.shuffle(events)
    # each process's invocation must still come before its completion
    events = [e for e in events if e[2] == "invoke"] + [e for e in events if e[2] != "invoke"]
    rebuilt = History.from_events(events)
    assert [op.invoke for op in rebuilt] == sorted(op.invoke for op in h)
    assert verdict(rebuilt) == verdict(h)


def test_regression_order_of_unknown_writes():
    """The example of the issue: two unknown-outcome writes of 1, listed out of time order, and a
    read of 1 that only the earlier one can explain."""
    events = [
        (10, "a", "invoke", "write", None, 1),
        (0, "b", "invoke", "write", None, 1),
        (1, "c", "invoke", "read", None, None),
        (2, "c", "ok", "read", None, 1),
    ]
    assert verdict(History.from_events(events), "register") == LIN
    assert verdict(History.from_events(sorted(events, key=lambda e: e[0])), "register") == LIN
    # a History built from the operations as listed (not by time): the checker sorts them itself
    listed = hist((0, "write", 1, None, "info", 10, INF), (1, "write", 1, None, "info", 0, INF),
                  (2, "read", None, 1, "ok", 1, 2))  # fmt: skip
    assert verdict(listed, "register") == LIN
