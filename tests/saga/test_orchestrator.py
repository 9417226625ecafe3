"""The synchronous driver on a real SQLite file: crash between any two log writes and recover,
leases between orchestrators, events, metrics and the history table."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from saga_fakes import (
    Boom,
    Crash,
    CrashingLog,
    FakeTime,
    Ledger,
    Plan,
    build_saga,
    run_with_crashes,
)

from distlab import outcomes
from distlab.retry import ConstantBackoff, RetryPolicy
from distlab.saga import (
    PIVOT,
    IdempotencyStore,
    InMemoryLog,
    LeaseLost,
    Saga,
    SagaEvent,
    SagaOrchestrator,
    SQLiteLog,
    Step,
)
from distlab.saga import records as rec

KINDS = ["compensatable", "compensatable", "pivot", "retriable"]


def _writes(plan):
    """How many appends an uninterrupted run of the KINDS saga makes."""
    counting = CrashingLog(InMemoryLog())
    saga = build_saga(KINDS, plan, Ledger())
    SagaOrchestrator(counting, clock=FakeTime().clock).run(saga, saga_id="x")
    return counting.appends


PLANS = {
    "completes": Plan({"T4": {1: "fail", 2: "lost"}}),
    "compensates": Plan({"T3": {1: "lost"}}, compensations={"T2": 1}),
}


@pytest.mark.parametrize("plan_name", sorted(PLANS))
@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_killed_between_any_two_writes_recovers_to_the_same_end(tmp_path, plan_name, after):
    plan = PLANS[plan_name]
    base_ledger = Ledger()
    base, _ = run_with_crashes(build_saga(KINDS, plan, base_ledger), [])
    for n in range(_writes(plan)):
        ledger = Ledger()
        log = SQLiteLog(tmp_path / f"{plan_name}-{after}-{n}.db")
        result, hit = run_with_crashes(build_saga(KINDS, plan, ledger), [(n, after)], log=log)
        assert hit == 1
        assert (result.status, result.cause, result.results) == (
            base.status,
            base.cause,
            base.results,
        )
        assert ledger.effects == base_ledger.effects and not ledger.doubles
        log.close()


def test_an_in_memory_log_that_is_lost_forgets_the_saga(ledger):
    """Why the log must be durable: after the crash nobody knows T1 must be undone."""
    log = InMemoryLog(lost_on_crash=True)
    saga = build_saga(["compensatable", "compensatable"], Plan(), ledger)
    orch = SagaOrchestrator(CrashingLog(log, 1, after=True), owner="n")
    with pytest.raises(Crash):
        orch.run(saga, saga_id="x")
    log.crash()
    assert SagaOrchestrator(log, [saga], owner="n").recover() == []
    assert ledger.applied == {"x/T1"}  # half done, forever


def test_events_metrics_and_subscriptions():
    saga = Saga(
        "trip",
        [
            Step("a", action=lambda ctx: 1, compensation=lambda ctx: None),
            Step("b", action=lambda ctx: 1 / 0),
        ],
    )
    orch = SagaOrchestrator(InMemoryLog(), name="trips")
    seen: list[SagaEvent] = []
    unsubscribe = orch.subscribe(seen.append)
    orch.run(saga, saga_id="t1")
    kinds = [e.kind for e in seen]
    assert kinds == [
        "saga_started",
        "action_started",
        "action_ended",
        "action_started",
        "action_ended",
        "aborting",
        "compensation_started",
        "compensation_ended",
        "saga_ended",
    ]
    assert all(e.source == "trips" and e.saga_id == "t1" for e in seen)
    assert seen[4].outcome == outcomes.ERROR and seen[4].error.startswith("ZeroDivisionError")
    m = orch.metrics()
    assert (m.started, m.completed, m.compensated, m.stuck) == (1, 0, 1, 0)
    assert (m.actions, m.action_errors, m.compensations, m.compensation_errors) == (2, 1, 1, 0)
    unsubscribe()
    orch.run(saga, saga_id="t2")
    assert len(seen) == 9 and len(orch.events()) == 18
    assert orch.metrics().compensated == 2


def test_history_table():
    pytest.importorskip("pandas")
    plan = Plan({"T2": {1: "fail"}})
    saga = build_saga(["compensatable", "retriable"], plan, Ledger())
    time = FakeTime()
    orch = SagaOrchestrator(InMemoryLog(), clock=time.clock)
    orch.run(saga, saga_id="x")
    frame = orch.to_frame()
    assert list(frame.columns) == [
        "saga_id", "saga", "step", "phase", "round", "attempt", "key", "start", "end",
        "duration", "outcome", "error",
    ]  # fmt: skip
    assert frame[["step", "phase", "attempt", "outcome"]].values.tolist() == [
        ["T1", "action", 1, "ok"],
        ["T2", "action", 1, "error"],
        ["T2", "action", 2, "ok"],
    ]
    assert set(frame["key"]) == {"x/T1", "x/T2"}
    assert set(frame["outcome"]) <= set(outcomes.OUTCOMES)


def test_history_marks_an_attempt_cut_by_a_crash_as_timeout():
    pytest.importorskip("pandas")
    log = InMemoryLog()
    saga = build_saga(["compensatable"], Plan(), Ledger())
    with pytest.raises(Crash):
        SagaOrchestrator(CrashingLog(log, 1), owner="n").run(saga, saga_id="x")
    frame = SagaOrchestrator(log).to_frame("x")
    assert frame["outcome"].tolist() == [outcomes.TIMEOUT]
    assert frame["end"].isna().all()


def test_refusals():
    async def go(ctx):
        return 1

    orch = SagaOrchestrator(InMemoryLog())
    with pytest.raises(TypeError, match="has coroutine steps; run it with AsyncSagaOrchestrator"):
        orch.run(Saga("a", [Step("x", action=go)]))
    saga = Saga("s", [Step("x", action=str)])
    orch.run(saga, saga_id="one")
    with pytest.raises(ValueError, match="saga_id='one' is already in the log .completed."):
        orch.run(saga, saga_id="one")
    with pytest.raises(ValueError, match="saga name 's' is already registered"):
        orch.run(Saga("s", [Step("y", action=str)]))
    with pytest.raises(ValueError, match="saga_id='nope' is unknown, ended or held"):
        orch.resume("nope")
    with pytest.raises(TypeError, match="saga_id=5 must be a non-empty string or None"):
        orch.run(saga, saga_id=5)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="log=.* must be a SagaLog"):
        SagaOrchestrator({})
    with pytest.raises(TypeError, match="clock=1 must be callable"):
        SagaOrchestrator(InMemoryLog(), clock=1)
    with pytest.raises(ValueError, match="lease=0 must be greater than 0"):
        SagaOrchestrator(InMemoryLog(), lease=0)
    with pytest.raises(TypeError, match="owner=3 must be a non-empty string or None"):
        SagaOrchestrator(InMemoryLog(), owner=3)
    with pytest.raises(TypeError, match="saga='x' must be a Saga"):
        SagaOrchestrator(InMemoryLog(), sagas=["x"])


def test_recover_needs_the_definition():
    log = InMemoryLog()
    saga = Saga("trip", [Step("a", action=str), Step("b", action=str)])
    with pytest.raises(Crash):
        SagaOrchestrator(CrashingLog(log, 2), owner="n").run(saga, saga_id="t")
    with pytest.raises(ValueError, match="saga 't' in the log is a 'trip' saga, which this"):
        SagaOrchestrator(log, owner="n").recover()
    assert SagaOrchestrator(log, [saga], owner="n").recover()[0].status == rec.COMPLETED


def test_another_orchestrator_waits_for_the_lease(tmp_path):
    path = tmp_path / "sagas.db"
    saga = Saga("trip", [Step("a", action=str), Step("b", action=str)])
    time = FakeTime()
    with pytest.raises(Crash):
        SagaOrchestrator(
            CrashingLog(SQLiteLog(path), 2), owner="dead", lease=30.0, clock=time.clock
        ).run(saga, saga_id="t")
    other = SagaOrchestrator(SQLiteLog(path), [saga], owner="alive", clock=time.clock)
    assert other.recover() == []  # the dead orchestrator's lease still runs
    time.now += 30.0
    assert [r.status for r in other.recover()] == [rec.COMPLETED]
    assert other.metrics().recovered == 1


def test_a_stalled_orchestrator_is_fenced_off(tmp_path):
    """A is stuck in a step longer than its lease; B takes the saga over and finishes it; A's
    next write is refused, so the saga is not driven twice."""
    path = tmp_path / "sagas.db"
    time = FakeTime()
    calls = Counter()
    b_holder = {}

    def slow(ctx):
        calls[ctx.key] += 1
        if ctx.key == "t/b" and calls[ctx.key] == 1:
            time.now += 60.0  # A stalls past its lease; meanwhile B recovers
            b_holder["results"] = b_holder["b"].recover()
        return ctx.step

    saga = Saga("trip", [Step("a", action=slow), Step("b", action=slow), Step("c", action=slow)])
    a = SagaOrchestrator(SQLiteLog(path), owner="A", lease=30.0, clock=time.clock)
    b_holder["b"] = SagaOrchestrator(SQLiteLog(path), [saga], owner="B", clock=time.clock)
    with pytest.raises(LeaseLost, match="another orchestrator has driven it"):
        a.run(saga, saga_id="t")
    assert [r.status for r in b_holder["results"]] == [rec.COMPLETED]
    assert calls == {"t/a": 1, "t/b": 2, "t/c": 1}  # b re-run by B with the same key


def test_concurrent_orchestrators_never_drive_a_saga_twice(tmp_path):
    path = tmp_path / "sagas.db"
    executions = Counter()
    lock = threading.Lock()

    def act(ctx):
        with lock:
            executions[ctx.key] += 1
        return 1

    saga = Saga("s", [Step("a", action=act), Step("p", action=act, kind=PIVOT)])
    setup = SQLiteLog(path)
    for i in range(60):  # 60 sagas that died right after logging their start
        with pytest.raises(Crash):
            SagaOrchestrator(CrashingLog(setup, 0, after=True), owner="dead", lease=0.001).run(
                saga, saga_id=f"s{i}"
            )
    results: list = []

    def worker(name):
        orch = SagaOrchestrator(SQLiteLog(path), [saga], owner=name)
        results.extend(orch.recover())

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 60 and all(r.ok for r in results)
    assert set(executions.values()) == {1} and len(executions) == 120


def test_recover_leaves_a_saga_taken_over_meanwhile_and_goes_on(tmp_path):
    """While A recovers saga one, B takes it over (A's lease has expired) and recovers both:
    A's next write is refused, A leaves saga one to B and finds saga two done."""
    path = tmp_path / "sagas.db"
    time = FakeTime()
    holder = {}

    def slow(ctx):
        if ctx.saga_id == "one" and "b" not in holder:
            time.now += 60.0
            holder["b"] = SagaOrchestrator(SQLiteLog(path), [saga], owner="B", clock=time.clock)
            holder["b_results"] = holder["b"].recover()
        return 1

    saga = Saga("s", [Step("a", action=slow)])
    setup = SQLiteLog(path)
    for saga_id in ("one", "two"):
        with pytest.raises(Crash):
            SagaOrchestrator(CrashingLog(setup, 0, after=True), owner="dead", clock=time.clock).run(
                saga, saga_id=saga_id
            )
    time.now += 60.0
    a = SagaOrchestrator(SQLiteLog(path), [saga], owner="A", lease=30.0, clock=time.clock)
    assert a.recover() == []
    assert [r.saga_id for r in holder["b_results"]] == ["one", "two"]
    assert setup.unfinished() == []


def test_threads_share_one_orchestrator_and_one_sqlite_log(tmp_path):
    log = SQLiteLog(tmp_path / "sagas.db")
    orch = SagaOrchestrator(log, name="shared")
    calls = Counter()
    lock = threading.Lock()

    def act(ctx):
        with lock:
            calls[ctx.key] += 1
        if ctx.step == "p" and ctx.data % 3 == 0:
            raise Boom("refused")
        return ctx.data

    saga = Saga(
        "s",
        [Step("a", action=act, compensation=lambda ctx: None), Step("p", action=act, kind=PIVOT)],
    )
    results: list = []

    def worker(first):
        for i in range(first, first + 10):
            results.append(orch.run(saga, i, saga_id=f"s{i}"))

    threads = [threading.Thread(target=worker, args=(10 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = Counter(r.status for r in results)
    assert statuses == {rec.COMPLETED: 26, rec.COMPENSATED: 14}
    assert set(calls.values()) == {1} and len(calls) == 80
    m = orch.metrics()
    assert (m.started, m.completed, m.compensated, m.actions) == (40, 26, 14, 80)
    assert len(orch.history()) == sum(len(log.read(f"s{i}")) for i in range(40))
    assert "owner=" in repr(orch)


def test_resume_refuses_a_saga_that_is_not_stuck_and_lets_it_go(tmp_path):
    log = InMemoryLog()
    saga = Saga("s", [Step("a", action=str), Step("b", action=str)])
    with pytest.raises(Crash):
        SagaOrchestrator(CrashingLog(log, 1), owner="dead", lease=1.0).run(saga, saga_id="r")
    time = FakeTime(start=2e9)
    orch = SagaOrchestrator(log, [saga], owner="op", clock=time.clock)
    with pytest.raises(ValueError, match="saga 'r' is running, not stuck: nothing to resume"):
        orch.resume("r")
    other = SagaOrchestrator(log, [saga], owner="other", clock=time.clock)
    assert [r.status for r in other.recover()] == [rec.COMPLETED]  # not held by "op"


def test_a_long_backoff_keeps_the_lease(tmp_path):
    """A retry waits 100 s, longer than the 30 s lease: the lease is extended over the wait,
    so another orchestrator recovering meanwhile leaves the saga alone."""
    path = tmp_path / "sagas.db"
    time = FakeTime()
    seen = {}

    def sleep(delay):
        time.sleep(delay - 1.0)  # one second before waking up, another node looks
        other = SagaOrchestrator(SQLiteLog(path), [saga], clock=time.clock, sleep=time.sleep)
        seen["other"] = other.recover()
        time.sleep(1.0)

    retry = RetryPolicy(max_attempts=2, backoff=ConstantBackoff(100.0))
    flaky = iter([Boom("busy"), None])

    def mail(ctx):
        error = next(flaky)
        if error:
            raise error
        return "sent"

    saga = Saga("m", [Step("mail", action=mail, kind="retriable", retry=retry)])
    orch = SagaOrchestrator(SQLiteLog(path), owner="A", lease=30.0, clock=time.clock, sleep=sleep)
    assert orch.run(saga, saga_id="m1").ok
    assert seen["other"] == []


@pytest.mark.parametrize("save_points", ["every", (), ("a",)])
@pytest.mark.parametrize("reached", [True, False])
def test_a_crash_with_the_pivot_in_flight_resumes_the_pivot_with_its_key(
    tmp_path, save_points, reached
):
    """Rolling back would leave a charge that did happen in place (the pivot has no
    compensation), or charge again under a new key: recovery asks the pivot again instead."""
    charges = IdempotencyStore()
    effects: list[str] = []
    crash = {"armed": True}

    def charge(ctx):
        if crash["armed"] and not reached:
            crash["armed"] = False
            raise Crash("died before the charge request left")
        receipt = charges.run(ctx.key, lambda: effects.append(ctx.key) or "charged")
        if crash["armed"]:
            crash["armed"] = False
            raise Crash("died after the charge, before its reply was logged")
        return receipt

    saga = Saga(
        "order",
        [
            Step("a", action=lambda ctx: effects.append("a"), compensation=lambda ctx: None),
            Step("b", action=lambda ctx: effects.append("b"), compensation=lambda ctx: None),
            Step("charge", action=charge, kind=PIVOT),
            Step("done", action=lambda ctx: effects.append("done"), kind="retriable"),
        ],
        save_points=save_points,
    )
    path = tmp_path / "sagas.db"
    with pytest.raises(Crash):
        SagaOrchestrator(SQLiteLog(path), [saga], owner="n").run(saga, saga_id="o1")
    results = SagaOrchestrator(SQLiteLog(path), [saga], owner="n").recover()
    assert [r.status for r in results] == [rec.COMPLETED]
    assert effects == ["a", "b", "o1/charge", "done"]  # charged once, under its first key
