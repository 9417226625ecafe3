"""The sans-I/O core: forward and backward recovery, retries, stuck, save-points, replay."""

from __future__ import annotations

import pytest
from saga_fakes import Boom, FakeTime, Ledger, Plan, build_saga, run_with_crashes

from distlab.retry import ConstantBackoff, ExponentialBackoff, NoBackoff, RetryPolicy
from distlab.saga import (
    PIVOT,
    RETRIABLE,
    Finished,
    InMemoryLog,
    RunAction,
    RunCompensation,
    Saga,
    SagaOrchestrator,
    SagaRun,
    Step,
    Wait,
)
from distlab.saga import records as rec
from distlab.saga.records import LogRecord


def recorder(executed):
    def action(ctx):
        executed.append(ctx.step)
        return ctx.step.lower()

    def compensation(ctx):
        executed.append("C" + ctx.step[1:])

    return action, compensation


def paper_saga(executed, save_points):
    action, compensation = recorder(executed)
    steps = [
        Step(f"T{i}", action=action, compensation=compensation if i < 6 else None)
        for i in range(1, 7)
    ]
    return Saga("paper", steps, save_points=save_points)


def test_paper_save_point_example():
    """Garcia-Molina & Salem, section 5: save-points after T1 and T3, a crash after T2 and
    another after T5."""
    executed: list[str] = []
    saga = paper_saga(executed, save_points=("T1", "T3"))
    # Incarnation 1 writes [started, T1 s], [T1 e], [T2 s], [T2 e] and dies right after
    # write 3; incarnation 2 writes [rollback, C2 s], [C2 e], [T2 s], [T2 e], [T3 s], [T3 e],
    # [T4 s], [T4 e], [T5 s], [T5 e] and dies right after write 9.
    result, hit = run_with_crashes(saga, [(3, True), (9, True)], saga_id="p")
    assert hit == 2
    assert " ".join(executed) == "T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6"
    assert result.status == rec.COMPLETED
    assert result.results == {f"T{i}": f"t{i}" for i in range(1, 7)}


def test_paper_example_keys_change_per_round():
    executed: list[str] = []
    saga = paper_saga(executed, save_points=("T1", "T3"))
    log = InMemoryLog()
    run_with_crashes(saga, [(3, True), (9, True)], log=log, saga_id="p")
    started = [(r.step, r.key) for r in log.read("p") if r.kind == rec.ACTION_STARTED]
    assert started[:3] == [("T1", "p/T1"), ("T2", "p/T2"), ("T2", "p/T2/1")]
    assert started[-3:] == [("T4", "p/T4/2"), ("T5", "p/T5/2"), ("T6", "p/T6/2")]
    compensated = [r.key for r in log.read("p") if r.kind == rec.COMPENSATION_STARTED]
    assert compensated == ["p/T2", "p/T5/1", "p/T4/1"]  # each undoes the execution it names


def test_every_save_point_resumes_where_it_stopped():
    executed: list[str] = []
    saga = paper_saga(executed, save_points="every")
    result, hit = run_with_crashes(saga, [(3, True), (4, False)], saga_id="p")
    assert hit == 2 and result.status == rec.COMPLETED
    assert executed == [f"T{i}" for i in range(1, 7)]


def test_no_save_point_means_backward_recovery_after_a_crash():
    executed: list[str] = []
    saga = paper_saga(executed, save_points=())
    result, _ = run_with_crashes(saga, [(3, False)], saga_id="p")  # T2 ran, unlogged
    assert executed == ["T1", "T2", "C2", "C1"]
    assert result.status == rec.COMPENSATED
    assert result.cause[1] == "recovered after a crash, no save-point to resume from"


def test_a_crash_mid_step_reruns_the_action_with_the_same_key(ledger):
    """The orchestrator dies after the action took effect but before its end was logged."""
    saga = build_saga(["compensatable", "compensatable"], Plan(), ledger)
    result, _ = run_with_crashes(saga, [(3, False)])  # write 3 = T2 ended
    assert result.status == rec.COMPLETED
    assert ledger.effects == [("T", "x/T1"), ("T", "x/T2")]
    assert ledger.store.metrics().duplicates == 1  # the re-run was answered from the record


def test_backward_recovery_compensates_in_reverse_order(ledger):
    plan = Plan({"T3": {1: "fail"}})
    saga = build_saga(["compensatable"] * 3 + ["pivot"], plan, ledger)
    result, _ = run_with_crashes(saga, [])
    assert result.status == rec.COMPENSATED
    assert result.cause == ("T3", "Boom: T3 attempt 1")
    # T3's compensation still runs (registered before its action): a no-op, as a tombstone
    assert ledger.effects == [("T", "x/T1"), ("T", "x/T2"), ("C", "x/T2"), ("C", "x/T1")]
    assert ledger.store.state("x/T3") == "tombstone"


def test_an_action_whose_reply_was_lost_is_still_compensated(ledger):
    plan = Plan({"T2": {1: "lost"}})
    saga = build_saga(["compensatable", "pivot"], plan, ledger)
    result, _ = run_with_crashes(saga, [])
    assert result.status == rec.COMPENSATED
    assert ledger.effects == [("T", "x/T1"), ("T", "x/T2"), ("C", "x/T2"), ("C", "x/T1")]
    assert ledger.applied == set()


def test_pivot_failure_aborts_and_retriable_failures_are_retried(ledger):
    plan = Plan({"T3": {1: "fail", 2: "lost", 3: "fail"}})
    saga = build_saga(["compensatable", "pivot", "retriable"], plan, ledger)
    time = FakeTime()
    result, _ = run_with_crashes(saga, [], time=time)
    assert result.status == rec.COMPLETED
    assert ledger.effects == [("T", "x/T1"), ("T", "x/T2"), ("T", "x/T3")]
    plan = Plan({"T2": {1: "fail"}})
    other = Ledger()
    result, _ = run_with_crashes(build_saga(["compensatable", "pivot"], plan, other), [])
    assert result.status == rec.COMPENSATED and other.applied == set()


def test_retry_waits_come_from_the_policy():
    calls = []

    def flaky(ctx):
        calls.append(ctx.attempt)
        if ctx.attempt < 4:
            raise Boom("busy")
        return "sent"

    retry = RetryPolicy(max_attempts=10, backoff=ExponentialBackoff(base=1.0, cap=3.0))
    saga = Saga("m", [Step("mail", action=flaky, kind=RETRIABLE, retry=retry)])
    time = FakeTime()
    orch = SagaOrchestrator(InMemoryLog(), clock=time.clock, sleep=time.sleep)
    assert orch.run(saga, saga_id="m1").status == rec.COMPLETED
    assert calls == [1, 2, 3, 4] and time.sleeps == [1.0, 2.0, 3.0]


def test_retriable_step_that_gives_up_is_stuck_then_resumed():
    state = {"down": True}

    def mail(ctx):
        if state["down"]:
            raise Boom("smtp down")
        return "ok"

    saga = Saga(
        "m",
        [
            Step("pay", action=lambda ctx: 1, kind=PIVOT),
            Step(
                "mail",
                action=mail,
                kind=RETRIABLE,
                retry=RetryPolicy(max_attempts=2, backoff=NoBackoff()),
            ),
        ],
    )
    orch = SagaOrchestrator(InMemoryLog(), owner="n")
    result = orch.run(saga, saga_id="m1")
    assert (result.status, result.cause) == (rec.STUCK, ("mail", "Boom: smtp down"))
    assert orch.journal.log.unfinished() == []  # recover() leaves it to an operator
    assert orch.recover() == []
    state["down"] = False
    result = orch.resume("m1")
    assert result.status == rec.COMPLETED and result.results == {"pay": 1, "mail": "ok"}
    attempts = [r.attempt for r in orch.history("m1") if r.kind == rec.ACTION_STARTED]
    assert attempts == [1, 1, 2, 3]  # attempt numbers keep counting across the resume


def test_failing_compensation_is_retried_then_stuck_then_resumed(ledger):
    plan = Plan({"T3": {1: "fail"}}, compensations={"T2": 6})
    saga = build_saga(["compensatable"] * 3, plan, ledger, compensation_attempts=3)
    time = FakeTime()
    orch = SagaOrchestrator(InMemoryLog(), owner="n", clock=time.clock, sleep=time.sleep)
    result = orch.run(saga, saga_id="x")
    assert result.status == rec.STUCK
    assert result.cause == ("T2", "Boom: C2 attempt 3")
    assert ledger.applied == {"x/T1", "x/T2"}  # visibly stuck, not silently half-undone
    assert orch.journal.log.status("x") == rec.STUCK
    assert orch.stuck() == {"x": ("T2", "Boom: C2 attempt 3")}
    result = orch.resume("x")  # attempts 4 to 6 fail too: the policy allows 3 per resume
    assert result.status == rec.STUCK and result.cause == ("T2", "Boom: C2 attempt 6")
    result = orch.resume("x")
    assert result.status == rec.COMPENSATED and ledger.applied == set()
    assert orch.stuck() == {}
    with pytest.raises(ValueError, match="saga_id='x' is unknown, ended or held"):
        orch.resume("x")


def test_compensation_retries_wait_as_the_policy_says():
    fails = {"n": 2}

    def undo(ctx):
        if fails["n"]:
            fails["n"] -= 1
            raise Boom("db down")

    saga = Saga(
        "s",
        [Step("a", action=lambda ctx: 1, compensation=undo), Step("b", action=lambda ctx: 1 / 0)],
        compensation_retry=RetryPolicy(max_attempts=5, backoff=ConstantBackoff(7.0)),
    )
    time = FakeTime()
    orch = SagaOrchestrator(InMemoryLog(), clock=time.clock, sleep=time.sleep)
    assert orch.run(saga, saga_id="s").status == rec.COMPENSATED
    assert time.sleeps == [7.0, 7.0]


def test_steps_without_compensation_are_skipped_when_compensating():
    executed: list[str] = []
    action, compensation = recorder(executed)
    saga = Saga(
        "s",
        [
            Step("T1", action=action, compensation=compensation),
            Step("T2", action=action),  # nothing to undo (a read)
            Step("T3", action=lambda ctx: 1 / 0, compensation=compensation),
        ],
    )
    result = SagaOrchestrator(InMemoryLog()).run(saga, saga_id="s")
    assert result.status == rec.COMPENSATED
    assert executed == ["T1", "T2", "C3", "C1"]


def test_the_key_is_the_same_for_every_attempt():
    keys = []

    def flaky(ctx):
        keys.append((ctx.key, ctx.attempt))
        if ctx.attempt < 3:
            raise Boom("again")

    retry = RetryPolicy(max_attempts=3, backoff=NoBackoff())
    saga = Saga("s", [Step("a", action=flaky, kind=RETRIABLE, retry=retry)])
    SagaOrchestrator(InMemoryLog()).run(saga, saga_id="id-9")
    assert keys == [("id-9/a", 1), ("id-9/a", 2), ("id-9/a", 3)]


def test_contexts_carry_data_and_results():
    seen = {}

    def second(ctx):
        seen["action"] = (ctx.saga_id, ctx.saga, ctx.step, ctx.index, ctx.data, dict(ctx.results))
        raise Boom("no")

    def undo_first(ctx):
        seen["compensation"] = (ctx.result, dict(ctx.results))

    saga = Saga(
        "s",
        [
            Step("a", action=lambda ctx: {"id": 5}, compensation=undo_first),
            Step("b", action=second),
        ],
    )
    SagaOrchestrator(InMemoryLog()).run(saga, {"user": "ada"}, saga_id="s1")
    assert seen["action"] == ("s1", "s", "b", 1, {"user": "ada"}, {"a": {"id": 5}})
    assert seen["compensation"][0] == {"id": 5}


def test_next_repeats_its_command_until_told_and_waits_for_retries():
    retry = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(2.0))
    saga = Saga("s", [Step("a", action=str, kind=RETRIABLE, retry=retry)])
    run = SagaRun.start(saga, "s1", data=None, now=0.0)
    first = run.next(0.0)
    assert isinstance(first, RunAction) and run.next(0.5) == first
    assert [r.kind for r in run.drain()] == [rec.SAGA_STARTED, rec.ACTION_STARTED]
    run.action_ended(1.0, error=Boom("x"))
    assert run.next(2.0) == Wait(1.0)
    assert isinstance(run.next(3.0), RunAction) and run.next(3.0).context.attempt == 2
    run.action_ended(3.5, result="done")
    finished = run.next(4.0)
    assert isinstance(finished, Finished) and finished.result.ok
    assert run.next(5.0) == finished


def test_reports_without_anything_in_flight_are_refused():
    run = SagaRun.start(Saga("s", [Step("a", action=str)]), "s1", data=None, now=0.0)
    with pytest.raises(ValueError, match="action_ended\\(\\): no action of saga 's1' is in flight"):
        run.action_ended(0.0, result=1)
    with pytest.raises(ValueError, match="no compensation of saga 's1' is in flight"):
        run.compensation_ended(0.0)
    with pytest.raises(ValueError, match="saga 's1' is running, not stuck"):
        run.resume(0.0)


def _drive_live(run, outcomes):
    """Drive ``run`` by hand: actions/compensations fail as ``outcomes`` says, in order."""
    outcomes = list(outcomes)
    now = 0.0
    while True:
        now += 1.0
        command = run.next(now)
        if isinstance(command, Finished):
            return command.result
        if isinstance(command, Wait):
            continue
        error = Boom("x") if outcomes and outcomes.pop(0) else None
        if isinstance(command, RunAction):
            run.action_ended(now, error=error, result=None if error else command.context.step)
        else:
            assert isinstance(command, RunCompensation)
            run.compensation_ended(now, error=error)


@pytest.mark.parametrize("outcomes", [[], [0, 0, 1], [0, 1, 1, 0, 0], [1, 1, 1, 1]])
def test_replaying_any_prefix_of_the_log_rebuilds_the_same_state(outcomes):
    steps = [Step("a", action=str, compensation=str), Step("b", action=str, compensation=str)]
    steps.append(Step("p", action=str, kind=PIVOT))
    saga = Saga("s", steps, compensation_retry=RetryPolicy(max_attempts=2, backoff=NoBackoff()))
    run = SagaRun.start(saga, "s1", data=[1], now=0.0)
    _drive_live(run, outcomes)
    records = run.drain()
    for n in range(1, len(records) + 1):
        replayed = SagaRun.from_log(saga, records[:n])
        assert replayed.seq == n
    assert replayed.result() == run.result()
    assert (replayed.status, replayed.position, replayed.round) == (
        run.status,
        run.position,
        run.round,
    )


def test_bad_logs_are_refused():
    saga = Saga("s", [Step("a", action=str)])
    with pytest.raises(ValueError, match="records must start with the saga's saga_started"):
        SagaRun.from_log(saga, [LogRecord("s1", 0, rec.ACTION_STARTED, 0.0, step="a")])
    start = LogRecord("s1", 0, rec.SAGA_STARTED, 0.0, payload={"saga": "s"})
    with pytest.raises(ValueError, match="record seq=2 of saga 's1' is out of order"):
        SagaRun.from_log(saga, [start, LogRecord("s1", 2, rec.ACTION_STARTED, 0.0, step="a")])
    with pytest.raises(ValueError, match="names step 'zz', which saga 's' does not have"):
        SagaRun.from_log(saga, [start, LogRecord("s1", 1, rec.ACTION_STARTED, 0.0, step="zz")])
    with pytest.raises(TypeError, match="saga='s' must be a Saga"):
        SagaRun.start("s", "id", now=0.0)
    with pytest.raises(TypeError, match="saga_id=7 must be a non-empty string"):
        SagaRun.start(saga, 7, now=0.0)


def test_cancel_before_the_pivot_compensates_the_action_in_flight():
    saga = Saga(
        "s",
        [
            Step("a", action=str, compensation=str),
            Step("b", action=str, compensation=str),
            Step("p", action=str, kind=PIVOT),
        ],
    )
    run = SagaRun.start(saga, "s1", data=None, now=0.0)
    run.next(0.0)
    run.action_ended(1.0, result="A")
    run.next(1.0)  # b is in flight: its compensation was registered before it ran
    assert run.cancel(2.0, "user gave up")
    kinds = [r.kind for r in run.drain()][-2:]
    assert kinds == [rec.ACTION_ENDED, rec.ABORTING]
    assert [run.next(3.0).context.step, run.next(3.0).context.step] == ["b", "b"]
    run.drain()
    assert run.cancel(3.0)  # already compensating: still True, nothing new
    assert run.drain() == []


def test_cancel_with_the_pivot_in_flight_is_refused():
    saga = Saga("s", [Step("a", action=str, compensation=str), Step("p", action=str, kind=PIVOT)])
    run = SagaRun.start(saga, "s1", data=None, now=0.0)
    run.next(0.0)
    run.action_ended(1.0, result="A")
    run.next(1.0)  # the pivot is in flight: no compensation, outcome unknown
    run.drain()
    assert not run.cancel(2.0, "user gave up")
    assert run.status == rec.RUNNING and run.drain() == []


def test_cancel_after_the_pivot_is_refused():
    saga = Saga("s", [Step("p", action=str, kind=PIVOT), Step("r", action=str, kind=RETRIABLE)])
    run = SagaRun.start(saga, "s1", data=None, now=0.0)
    run.next(0.0)
    run.action_ended(1.0, result="P")
    run.next(1.0)
    assert not run.cancel(2.0)
    assert run.status == rec.RUNNING
