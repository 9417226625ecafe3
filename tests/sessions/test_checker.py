"""The session-guarantee checker: minimal histories by hand, a brute-force oracle, bad input."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distlab.history import History, Operation
from distlab.sessions import GUARANTEES, SessionReport, check_sessions

RYW, MR, WFR, MW = GUARANTEES


def hist(*ops):
    """``(process, f, value_or_result)`` in order; each op takes [2i, 2i + 1]."""
    events = []
    for i, (process, f, x) in enumerate(ops):
        key = None
        if isinstance(x, tuple):  # (key, value)
            key, x = x
        arg = x if f in ("write", "put") else None
        events.append((2 * i, process, "invoke", f, key, arg))
        events.append((2 * i + 1, process, "ok", f, key, x))
    return History.from_events(events)


def violated(report: SessionReport) -> set[tuple[object, str, int]]:
    return {(v.process, v.guarantee, v.operation.index) for v in report.violations}


# -- minimal histories, by hand -------------------------------------------------------------------


def test_read_your_writes_minimal():
    bad = hist(("a", "write", 1), ("a", "read", None))
    report = check_sessions(bad)
    assert violated(report) == {("a", RYW, 1)}
    v = report.earliest("a", RYW)
    assert [op.index for op in v.proof] == [0, 1] and v.replica is None
    assert "does not see #0 process 'a': write 1" in v.explanation
    # another session's write puts no obligation; reading one's own write or newer is fine
    assert check_sessions(hist(("a", "write", 1), ("b", "read", None))).ok()
    assert check_sessions(hist(("a", "write", 1), ("b", "write", 2), ("a", "read", 2))).ok()
    # an older version than one's own write is a violation even if it is not nil
    older = hist(("b", "write", 1), ("a", "write", 2), ("a", "read", 1))
    assert violated(check_sessions(older)) == {("a", RYW, 2)}


def test_monotonic_reads_minimal():
    bad = hist(("x", "write", 1), ("x", "write", 2), ("a", "read", 2), ("a", "read", 1))
    report = check_sessions(bad)
    assert violated(report) == {("a", MR, 3)}
    assert [op.index for op in report.earliest("a", MR).proof] == [2, 3]
    assert check_sessions(hist(("x", "write", 1), ("a", "read", 1), ("a", "read", 1))).ok()
    assert not check_sessions(hist(("x", "write", 1), ("a", "read", 1), ("a", "read", None))).ok()
    # two sessions each monotonic, though one reads older data than the other did
    fine = hist(("x", "write", 1), ("x", "write", 2), ("a", "read", 2), ("b", "read", 1))
    assert check_sessions(fine).ok()


def test_writes_follow_reads_minimal():
    # a reads x's 2, then writes 1: ordered before the write it read
    bad = hist(("x", "write", 2), ("a", "read", 2), ("a", "write", 1))
    report = check_sessions(bad)
    assert violated(report) == {("a", WFR, 2)}
    assert "ordered before #0 process 'x': write 2" in report.earliest("a", WFR).explanation
    assert check_sessions(hist(("x", "write", 1), ("a", "read", 1), ("a", "write", 2))).ok()


def test_monotonic_writes_minimal():
    bad = hist(("a", "write", 2), ("a", "write", 1))
    assert violated(check_sessions(bad)) == {("a", MW, 1)}
    assert check_sessions(hist(("a", "write", 1), ("a", "write", 2))).ok()
    assert check_sessions(hist(("a", "write", 2), ("b", "write", 1))).ok()


def test_replica_orders_judge_writes():
    two = hist(("a", "write", "x"), ("a", "write", "y"))
    report = check_sessions(two, applied={"r1": ["x", "y"], "r2": ["y", "x"]})
    v = report.earliest("a", MW)
    assert v.replica == "r2" and [op.index for op in v.proof] == [0, 1]
    # applied later write without the earlier one: violated; without either: fine
    assert not check_sessions(two, applied={"r1": ["y"]}).ok(MW)
    assert check_sessions(two, applied={"r1": ["x"], "r2": []}).ok()
    wfr = hist(("b", "write", "p"), ("a", "read", "p"), ("a", "write", "q"))
    assert check_sessions(wfr, applied={"r1": ["p", "q"]}).ok()
    report = check_sessions(wfr, applied={"r1": ["p", "q"], "r2": ["q", "p"]})
    v = report.earliest("a", WFR)
    assert v.replica == "r2" and [op.index for op in v.proof] == [1, 0, 2]
    assert "which its session read in #1" in v.explanation


def test_versions_from_a_mapping_or_a_function():
    h = hist(("a", "write", "old"), ("a", "write", "new"), ("a", "read", "old"))
    order = {"old": 1, "new": 2}
    assert violated(check_sessions(h, versions=order)) == {("a", RYW, 2)}
    by_time = check_sessions(h, versions=lambda op: op.invoke)
    assert violated(by_time) == {("a", RYW, 2)}
    # if "old" superseded "new", reading it sees both, but the writes went out of order
    flipped = check_sessions(h, versions={"old": 2, "new": 1})
    assert violated(flipped) == {("a", MW, 1)}


def test_keys_are_separate_registers():
    h = hist(("a", "put", ("k1", 1)), ("a", "get", ("k2", None)), ("a", "get", ("k1", None)))
    assert violated(check_sessions(h)) == {("a", RYW, 2)}
    same_values = hist(("a", "put", ("k1", 1)), ("a", "put", ("k2", 1)), ("a", "get", ("k2", 1)))
    assert check_sessions(same_values, applied={"r": [("k1", 1), ("k2", 1)]}).ok()


def test_failed_and_unknown_operations():
    events = [
        (0, "a", "invoke", "write", None, 1),
        (1, "a", "fail", "write", None, 1),
        (2, "a", "invoke", "read", None, None),
        (3, "a", "ok", "read", None, None),
        (4, "b", "invoke", "write", None, 2),  # never completes: info, may have taken effect
        (5, "c", "invoke", "read", None, None),
        (6, "c", "ok", "read", None, 2),
    ]
    assert check_sessions(History.from_events(events)).ok()


def test_only_the_earliest_violation_per_session_and_guarantee():
    h = hist(
        ("a", "write", 3),
        ("a", "read", None),
        ("a", "read", 1),
        ("x", "write", 1),
    )
    report = check_sessions(h)
    assert [v.operation.index for v in report.violations] == [1]
    assert report.violated() == {RYW: 1, MR: 0, WFR: 0, MW: 0}
    assert report.sessions == ("a", "x")


def test_subset_of_guarantees_and_the_report():
    h = hist(("a", "write", 2), ("a", "write", 1), ("a", "read", None))
    full = check_sessions(h)
    assert violated(full) == {("a", MW, 1), ("a", RYW, 2)}
    only = check_sessions(h, guarantees=MW)
    assert only.guarantees == (MW,) and violated(only) == {("a", MW, 1)}
    with pytest.raises(ValueError, match="guarantee='read_your_writes' was not checked"):
        only.ok(RYW)
    with pytest.raises(ValueError, match="was not checked"):
        only.earliest("a", RYW)
    frame = full.to_frame()
    assert frame.columns.tolist() == [
        "process",
        "guarantee",
        "index",
        "proof",
        "replica",
        "explanation",
    ]
    assert frame["proof"].tolist() == [(0, 1), (0, 2)]  # the unseen write is the newest, #0
    assert pickle.loads(pickle.dumps(full)) == full


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: check_sessions(hist(), guarantees=["read_your_write"]),
            ValueError,
            "guarantees item='read_your_write' is not one of 'read_your_writes', "
            "'monotonic_reads', 'writes_follow_reads', 'monotonic_writes'",
        ),
        (lambda: check_sessions(hist(), guarantees=[]), ValueError, "guarantees=()"),
        (lambda: check_sessions(hist(), guarantees=[RYW, RYW]), ValueError, "twice"),
        (lambda: check_sessions([]), TypeError, "history=\\[\\] must be a distlab"),
        (
            lambda: check_sessions(hist(("a", "write", 1), ("b", "write", 1))),
            ValueError,
            "writes must carry unique values",
        ),
        (
            lambda: check_sessions(hist(("a", "read", 7))),
            ValueError,
            "no write of the history wrote that value",
        ),
        (
            lambda: check_sessions(hist(("a", "write", 1), ("a", "write", "x"))),
            TypeError,
            "cannot be ordered",
        ),
        (
            lambda: check_sessions(hist(("a", "write", 1)), versions={}),
            ValueError,
            "versions has no version for 1",
        ),
        (
            lambda: check_sessions(
                hist(("a", "write", 1), ("a", "write", 2)), versions=lambda o: 0
            ),
            ValueError,
            "have the same version 0",
        ),
        (lambda: check_sessions(hist(), versions=3), TypeError, "versions=3 must be a mapping"),
        (lambda: check_sessions(hist(), applied=[1]), TypeError, "applied=\\[1\\] must map"),
        (
            lambda: check_sessions(hist(("a", "write", 1)), applied={"r": [2]}),
            ValueError,
            "applied\\['r'\\]\\[0\\]=2 is no write",
        ),
        (
            lambda: check_sessions(hist(("a", "write", 1)), applied={"r": [1, 1]}),
            ValueError,
            "applies 1 twice",
        ),
        (lambda: check_sessions(hist(), applied={"r": "ab"}), TypeError, "must be a sequence"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_cas_and_append_are_refused():
    h = History([Operation(0, "a", "cas", None, (1, 2), None, "ok", 0.0, 1.0)])
    with pytest.raises(ValueError, match="understands read, get, write and put, not 'cas'"):
        check_sessions(h)


# -- properties -----------------------------------------------------------------------------------


def oracle(history, versions, applied):
    """The four definitions, pair by pair (quadratic): the earliest violation per session."""
    writes = {op.value: op for op in history if op.f == "write"}
    rank = {w.index: versions[v] for v, w in writes.items()}
    read_rank = {}
    for op in history:
        if op.f == "read" and op.type == "ok":
            read_rank[op.index] = -1 if op.result is None else rank[writes[op.result].index]
    pos = None
    if applied is not None:
        pos = {r: {writes[v].index: i for i, v in enumerate(seq)} for r, seq in applied.items()}

    def out_of_order(first, later):  # some replica applied `later` without `first` before it
        return any(
            later in where and where.get(first, float("inf")) > where[later]
            for where in pos.values()
        )

    found = set()
    for process in dict.fromkeys(op.process for op in history):
        ops = sorted(
            (op for op in history if op.process == process and op.type == "ok"),
            key=lambda op: (op.invoke, op.index),
        )
        first: dict[str, int] = {}
        for i, op in enumerate(ops):
            before = ops[:i]
            bad = set()
            if op.f == "read":
                x = read_rank[op.index]
                if any(b.f == "write" and rank[b.index] > x for b in before):
                    bad.add(RYW)
                if any(b.f == "read" and read_rank[b.index] > x for b in before):
                    bad.add(MR)
            elif pos is None:
                y = rank[op.index]
                if any(b.f == "write" and rank[b.index] > y for b in before):
                    bad.add(MW)
                if any(b.f == "read" and read_rank[b.index] > y for b in before):
                    bad.add(WFR)
            else:
                if any(b.f == "write" and out_of_order(b.index, op.index) for b in before):
                    bad.add(MW)
                if any(
                    b.f == "read"
                    and b.result is not None
                    and out_of_order(writes[b.result].index, op.index)
                    for b in before
                ):
                    bad.add(WFR)
            for g in bad:
                first.setdefault(g, op.index)
        found |= {(process, g, index) for g, index in first.items()}
    return found


@st.composite
def histories(draw, with_replicas=False):
    n = draw(st.integers(1, 24))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from("abc"),
                st.sampled_from(["read", "write"]),
                st.sampled_from(["ok", "ok", "ok", "fail", "info"]),
                st.integers(0, 10**6),
            ),
            min_size=n,
            max_size=n,
        )
    )
    events, written, pending = [], [], set()
    for t, (process, f, outcome, pick) in enumerate(steps):
        if process in pending:  # an info operation never completes: its process is done
            continue
        if f == "write":
            value = len(written)
            written.append(value)
            events.append((2 * t, process, "invoke", "write", None, value))
            if outcome == "info":
                pending.add(process)
            else:
                events.append((2 * t + 1, process, outcome, "write", None, value))
        else:
            choices = [None, *written]
            result = choices[pick % len(choices)]
            events.append((2 * t, process, "invoke", "read", None, None))
            events.append((2 * t + 1, process, "ok", "read", None, result))
    history = History.from_events(events)
    order = draw(st.permutations(written))
    versions = {v: i for i, v in enumerate(order)}
    applied = None
    if with_replicas:
        applied = {
            r: draw(st.permutations(written).map(lambda p, k=k: p[:k]))
            for r, k in zip(("r1", "r2"), draw(st.tuples(*[st.integers(0, len(written))] * 2)))
        }
    return history, versions, applied


@given(histories())
def test_agrees_with_the_definitions_on_the_version_order(case):
    history, versions, _ = case
    assert violated(check_sessions(history, versions=versions)) == oracle(history, versions, None)


@given(histories(with_replicas=True))
def test_agrees_with_the_definitions_on_replica_orders(case):
    history, versions, applied = case
    report = check_sessions(history, versions=versions, applied=applied)
    assert violated(report) == oracle(history, versions, applied)


@given(histories(), st.sets(st.sampled_from(GUARANTEES), min_size=1))
def test_checking_fewer_guarantees_finds_the_same_violations_of_those(case, some):
    history, versions, _ = case
    full = violated(check_sessions(history, versions=versions))
    part = violated(check_sessions(history, versions=versions, guarantees=sorted(some)))
    assert part == {v for v in full if v[1] in some}


@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), max_size=40))
def test_one_copy_never_violates_a_guarantee(steps):
    """Every operation against a single copy (the latest write): all four hold."""
    ops, latest = [], None
    for i, (process, is_write) in enumerate(steps):
        if is_write:
            latest = i
            ops.append((process, "write", i))
        else:
            ops.append((process, "read", latest))
    assert check_sessions(hist(*ops)).ok()
