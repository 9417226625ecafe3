"""The saga's defining properties, for any sequence of step failures, lost replies, duplicate
and late requests, compensation failures and orchestrator crashes at any log write:

- every saga that ends has run T1..Tn, or T1..Tj then Cj..C1 (Garcia-Molina and Salem);
- no compensation runs for a step that never started, and a compensation that arrives before
  its action leaves a tombstone that turns the late action into a no-op;
- no action takes effect twice;
- recovery from the log reaches the same end state as an uninterrupted run (with save-points
  that roll back, the same net effects).
"""

from __future__ import annotations

import asyncio
import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st
from saga_fakes import (
    Crash,
    CrashingLog,
    FakeTime,
    Ledger,
    Plan,
    build_saga,
    deliver_late,
    net_applied_steps,
    run_with_crashes,
)

from distlab.saga import (
    COMPENSATABLE,
    PIVOT,
    RETRIABLE,
    AsyncSagaOrchestrator,
    InMemoryLog,
    SagaRun,
    SQLiteLog,
)
from distlab.saga import records as rec

BEHAVIOURS = st.sampled_from(["ok", "ok", "ok", "fail", "lost", "dup", "late"])


@st.composite
def sagas(draw):
    kinds = [COMPENSATABLE] * draw(st.integers(0, 3))
    if draw(st.booleans()):
        kinds.append(PIVOT)
    kinds += [RETRIABLE] * draw(st.integers(0, 2))
    if not kinds:
        kinds = [COMPENSATABLE]
    actions = {}
    compensations = {}
    for i, kind in enumerate(kinds, start=1):
        attempts = draw(st.lists(BEHAVIOURS, max_size=4))
        actions[f"T{i}"] = dict(enumerate(attempts, start=1))
        if kind != RETRIABLE:
            compensations[f"T{i}"] = draw(st.integers(0, 3))  # 3 failures: stuck
    return kinds, Plan(actions, compensations)


CRASHES = st.lists(st.tuples(st.integers(0, 12), st.booleans()), max_size=3)


def _run(kinds, plan, crashes, save_points="every"):
    ledger = Ledger()
    late: list[str] = []
    saga = build_saga(kinds, plan, ledger, late=late, save_points=save_points)
    log = InMemoryLog()
    result, _ = run_with_crashes(saga, crashes, log=log)
    return result, ledger, late, log.read("x")


def _step(key: str) -> str:
    return key.split("/")[1]


def check_guarantee(result, ledger, n):
    """The effects that took place, in order, are T1..Tn or T1..Tj Cj..C1."""
    names = [(what, _step(key)) for what, key in ledger.effects]
    if result.status == rec.COMPLETED:
        assert names == [("T", f"T{i}") for i in range(1, n + 1)]
    elif result.status == rec.COMPENSATED:
        done = [step for what, step in names if what == "T"]
        j = len(done)
        assert done == [f"T{i}" for i in range(1, j + 1)]
        assert names[j:] == [("C", f"T{i}") for i in range(j, 0, -1)]


def check_no_stray_compensation(records, ledger):
    """A compensation is only ever started for a step whose action was started (registered);
    a tombstone only for a key that never took effect."""
    started = set()
    for record in records:
        if record.kind == rec.ACTION_STARTED:
            started.add(record.key)
        if record.kind == rec.COMPENSATION_STARTED:
            assert record.key in started
    applied = {key for what, key in ledger.effects if what == "T"}
    tombstoned = {e.key for e in ledger.store.events() if e.kind == "tombstone"}
    assert not tombstoned & applied


def assert_same_end_state(result, ledger, base, base_ledger):
    """``result`` and ``ledger`` end as the uninterrupted run's ``base`` and ``base_ledger``:
    the same status, cause, results and effects, and no effect applied twice."""
    assert (result.status, result.cause, result.results) == (
        base.status,
        base.cause,
        base.results,
    )
    assert ledger.effects == base_ledger.effects and not ledger.doubles


@settings(max_examples=300)
@given(sagas(), CRASHES)
def test_crashes_anywhere_reach_the_uninterrupted_end_state(saga_plan, crashes):
    kinds, plan = saga_plan
    base, base_ledger, base_late, base_records = _run(kinds, plan, [])
    result, ledger, late, records = _run(kinds, plan, crashes)

    assert_same_end_state(result, ledger, base, base_ledger)
    assert not base_ledger.doubles
    check_guarantee(result, ledger, len(kinds))
    check_no_stray_compensation(records, ledger)
    if result.status in rec.ENDED:  # a late request never takes effect after the end
        assert set(deliver_late(ledger, late)) <= {"no-op"}
    else:
        assert result.status == rec.STUCK and result.cause[0] is not None


@settings(max_examples=200)
@given(sagas(), CRASHES, st.data())
def test_save_points_keep_the_guarantee_on_net_effects(saga_plan, crashes, data):
    """With save-points that roll back (or none: a crash before the pivot aborts), steps may
    run, be compensated and run again, but what stays in place is all or nothing."""
    kinds, plan = saga_plan
    names = [f"T{i}" for i in range(1, len(kinds) + 1)]
    points = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    result, ledger, late, records = _run(kinds, plan, crashes, save_points=points)

    assert not ledger.doubles
    check_no_stray_compensation(records, ledger)
    if result.status == rec.COMPLETED:
        assert net_applied_steps(ledger) == set(names)
    elif result.status == rec.COMPENSATED:
        assert net_applied_steps(ledger) == set()
    else:
        assert result.status == rec.STUCK
    if not crashes:
        base, base_ledger, _, _ = _run(kinds, plan, [], save_points="every")
        assert (result.status, ledger.effects) == (base.status, base_ledger.effects)


async def _run_async(saga, crashes, log, time):
    pending = list(crashes)
    while True:
        crash_at, after = pending.pop(0) if pending else (None, False)
        orchestrator = AsyncSagaOrchestrator(
            CrashingLog(log, crash_at, after=after),
            [saga],
            owner="node",
            clock=time.clock,
            async_sleep=time.async_sleep,
        )
        try:
            if log.status("x") is None:
                await orchestrator.run(saga, saga_id="x")
            else:
                await orchestrator.recover()
        except Crash:
            continue
        if not log.unfinished():
            return SagaRun.from_log(saga, log.read("x")).result()


@settings(max_examples=100)
@given(sagas(), CRASHES)
def test_the_asyncio_driver_reaches_the_same_end_state(saga_plan, crashes):
    kinds, plan = saga_plan
    base, base_ledger, _, _ = _run(kinds, plan, [])
    ledger = Ledger()
    saga = build_saga(kinds, plan, ledger, late=[])
    result = asyncio.run(_run_async(saga, crashes, InMemoryLog(), FakeTime()))
    assert_same_end_state(result, ledger, base, base_ledger)


@settings(max_examples=40)
@given(sagas(), CRASHES)
def test_the_sqlite_log_reaches_the_same_end_state(saga_plan, crashes):
    kinds, plan = saga_plan
    base, base_ledger, _, _ = _run(kinds, plan, [])
    ledger = Ledger()
    saga = build_saga(kinds, plan, ledger, late=[])
    with tempfile.TemporaryDirectory() as tmp:
        log = SQLiteLog(os.path.join(tmp, "sagas.db"))
        result, _ = run_with_crashes(saga, crashes, log=log)
        log.close()
    assert_same_end_state(result, ledger, base, base_ledger)
