"""Hypothesis properties of the clocks over random executions: the clock condition (Lamport),
vector order == happened-before (against an independent transitive closure), the HLC bounds,
the naive hybrid clock's drift, and ShiViz accepting every exported run."""

from __future__ import annotations

from clock_runs import event_ids, reachability, run_of, schedules
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.clocks import (
    HybridLogicalClock,
    LamportClock,
    NaiveHybridClock,
    Order,
    VectorClock,
    check_shiviz,
    to_shiviz,
)

PROPS = settings(max_examples=100, deadline=None)


def drive(processes, schedule, make, now=None):
    """Run one clock per process along the schedule; return each event's timestamp."""
    clocks = {p: make(p) for p in processes}
    carried = {}
    stamps = []
    for i, s in enumerate(schedule):
        kwargs = {} if now is None else {"now": now(i, s)}
        clock = clocks[s.process]
        if s.kind == "local":
            stamp = clock.local(**kwargs)
        elif s.kind == "send":
            stamp = carried[s.message] = clock.send(**kwargs)
        else:
            stamp = clock.receive(carried[s.message], **kwargs)
        stamps.append(stamp)
    return dict(zip(event_ids(processes, schedule), stamps))


@PROPS
@given(schedules())
def test_lamport_clock_condition(case):
    processes, schedule = case
    stamps = drive(processes, schedule, LamportClock)
    closure = reachability(processes, schedule)
    for e, later in closure.items():
        for f in later:
            assert stamps[e].time < stamps[f].time
            assert stamps[e] < stamps[f]
    # the run's own Lamport timestamps are the same as the clocks'
    assert run_of(processes, schedule).lamport_timestamps() == stamps


@PROPS
@given(schedules())
def test_vector_clocks_ordered_iff_happened_before(case):
    processes, schedule = case
    stamps = drive(processes, schedule, lambda p: VectorClock(p, processes))
    closure = reachability(processes, schedule)
    run = run_of(processes, schedule)
    assert run.vector_timestamps() == stamps
    for e in stamps:
        for f in stamps:
            expected = (
                Order.EQUAL
                if e == f
                else Order.BEFORE
                if f in closure[e]
                else Order.AFTER
                if e in closure[f]
                else Order.CONCURRENT
            )
            assert stamps[e].compare(stamps[f]) is expected
            assert run.order(e, f) is expected


@st.composite
def timed(draw):
    """A schedule, eps (ticks) and each step's physical clock reading: true time plus an error
    in [0, eps), so any two clocks are within eps. The error is fixed per process (steady
    clocks) or drawn afresh at every step (clocks that jump about, even backwards, as NTP may
    step them), always within eps."""
    processes, schedule = draw(schedules())
    eps = draw(st.integers(1, 6))
    offsets = {p: draw(st.integers(0, eps - 1)) for p in processes}
    if draw(st.booleans()):
        errors = [offsets[s.process] for s in schedule]
    else:
        errors = [draw(st.integers(0, eps - 1)) for _ in schedule]
    readings = [s.time + e for s, e in zip(schedule, errors)]
    return processes, schedule, eps, readings


@PROPS
@given(timed())
def test_hlc_bounds(case):
    processes, schedule, eps, readings = case
    pt = dict(zip(event_ids(processes, schedule), readings))
    stamps = drive(
        processes, schedule, lambda p: HybridLogicalClock(), now=lambda i, s: readings[i]
    )
    closure = reachability(processes, schedule)
    for e, later in closure.items():
        for f in later:
            assert stamps[e] < stamps[f]  # e -> f implies hlc(e) < hlc(f)
    for f, stamp in stamps.items():
        assert 0 <= stamp.l - pt[f] < eps
        same_l = sum(1 for g in stamps if f in closure[g] and stamps[g].l == stamp.l)
        assert stamp.c <= same_l  # Kulkarni et al., the corollary of theorem 2
    strictly_advancing = all(
        pt[(p, i)] < pt[(p, i + 1)]
        for p in processes
        for i in range(sum(1 for s in schedule if s.process == p) - 1)
    )
    if strictly_advancing:
        assert all(s.c <= len(processes) * (eps + 1) for s in stamps.values())


@PROPS
@given(schedules(), st.integers(0, 10**6))
def test_naive_hybrid_clock_drifts_one_tick_per_event_in_a_tick(case, base):
    """All events within one tick: the naive clock runs ahead by the longest causal chain,
    without bound; the real one stays on physical time."""
    processes, schedule = case
    naive = drive(processes, schedule, lambda p: NaiveHybridClock(), now=lambda i, s: base)
    hlc = drive(processes, schedule, lambda p: HybridLogicalClock(), now=lambda i, s: base)
    depth = _depths(processes, schedule)
    for f in naive:
        assert naive[f].l - base == depth[f] - 1
        assert hlc[f].l == base


def _depths(processes, schedule):
    """The number of events on the longest causal chain ending at each event (itself included),
    in schedule order (which is a topological order)."""
    ids = event_ids(processes, schedule)
    depth: dict[tuple, int] = {}
    last: dict[str, tuple] = {}
    sent: dict[int, tuple] = {}
    for s, e in zip(schedule, ids):
        before = [last[s.process]] if s.process in last else []
        if s.kind == "receive":
            before.append(sent[s.message])
        depth[e] = 1 + max((depth[b] for b in before), default=0)
        last[s.process] = e
        if s.kind == "send":
            sent[s.message] = e
    return depth


@PROPS
@given(timed())
def test_naive_hybrid_clock_never_behind_the_real_one(case):
    processes, schedule, eps, readings = case
    now = lambda i, s: readings[i]
    naive = drive(processes, schedule, lambda p: NaiveHybridClock(), now=now)
    hlc = drive(processes, schedule, lambda p: HybridLogicalClock(), now=now)
    closure = reachability(processes, schedule)
    for e, later in closure.items():
        for f in later:
            assert naive[e].l < naive[f].l
    assert all(naive[e].l >= hlc[e].l for e in naive)


@PROPS
@given(schedules(max_processes=5, max_steps=60))
def test_shiviz_accepts_every_exported_run(case):
    run = run_of(*case)
    text = to_shiviz(run)
    check = check_shiviz(text)
    if not len(run):  # ShiViz refuses a log without events
        assert check.problems == ("the expression matches no event in the log",)
        return
    assert check.ok, check.problems
    assert check.events == len(run)
