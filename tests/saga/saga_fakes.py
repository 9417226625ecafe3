"""Fakes shared by the saga tests: a fake clock, a log that crashes the orchestrator at a chosen
write, and scripted participants that record which effects took place. Nothing sleeps for real.

Imported by the tests as ``saga_fakes`` (conftest.py puts tests/saga on sys.path)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distlab.retry import NoBackoff, RetryPolicy
from distlab.saga import (
    PIVOT,
    RETRIABLE,
    IdempotencyStore,
    InMemoryLog,
    Saga,
    SagaOrchestrator,
    SagaRun,
    Step,
    Tombstoned,
)
from distlab.saga.records import LogRecord


class Crash(BaseException):
    """The orchestrator's process dies (a BaseException: nothing in the driver catches it)."""


class Boom(Exception):
    """A step failed before it had any effect."""


class ReplyLost(Exception):
    """A step took effect but its reply never came back."""


class FakeTime:
    """A clock that moves only when the code under test sleeps (or a test says so)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay

    async def async_sleep(self, delay: float) -> None:
        self.sleep(delay)


class CrashingLog:
    """A SagaLog that kills the orchestrator at its ``crash_at``-th append (0-based): before
    the write (``after=False``) or right after it (``after=True``)."""

    def __init__(self, log: Any, crash_at: int | None = None, *, after: bool = False) -> None:
        self.log = log
        self.crash_at = crash_at
        self.after = after
        self.appends = 0

    def append(self, records: Sequence[LogRecord], **kwargs: Any) -> None:
        n = self.appends
        self.appends += 1
        if n == self.crash_at and not self.after:
            raise Crash(f"before write {n}")
        self.log.append(records, **kwargs)
        if n == self.crash_at:
            raise Crash(f"after write {n}")

    def claim(self, saga_id: str, **kwargs: Any) -> bool:
        return self.log.claim(saga_id, **kwargs)

    def release(self, saga_id: str, **kwargs: Any) -> None:
        self.log.release(saga_id, **kwargs)

    def read(self, saga_id: str) -> list[LogRecord]:
        return self.log.read(saga_id)

    def unfinished(self) -> list[str]:
        return self.log.unfinished()

    def status(self, saga_id: str) -> str | None:
        return self.log.status(saga_id)

    def saga_ids(self) -> list[str]:
        return self.log.saga_ids()


class Ledger:
    """The participants: an IdempotencyStore and, in order, every effect that took place
    (``("T", key)`` for an action, ``("C", key)`` for a compensation). An action that would
    take effect twice for one key is recorded in ``doubles``."""

    def __init__(self) -> None:
        self.store = IdempotencyStore(clock=lambda: 0.0)
        self.effects: list[tuple[str, str]] = []
        self.applied: set[str] = set()
        self.doubles: list[str] = []

    def do(self, key: str) -> str:
        def effect() -> str:
            if key in self.applied or ("T", key) in self.effects:
                self.doubles.append(key)
            self.applied.add(key)
            self.effects.append(("T", key))
            return key

        return self.store.run(key, effect)

    def undo(self, key: str) -> bool:
        def effect(result: Any) -> None:
            self.applied.discard(key)
            self.effects.append(("C", key))

        return self.store.compensate(key, effect)


class Plan:
    """What each attempt does. ``actions[step][attempt]`` is one of ``ok``, ``fail`` (raise
    before any effect), ``lost`` (take effect, then lose the reply), ``dup`` (the request is
    delivered twice), ``late`` (the request is delayed: no effect now, delivered after the saga
    ends); a missing entry is ``ok``. ``compensations[step]`` = how many first attempts fail.
    Behaviour depends on (step, attempt) only, not on the round."""

    def __init__(
        self, actions: dict[str, dict[int, str]] | None = None, compensations=None
    ) -> None:
        self.actions = actions or {}
        self.compensations = compensations or {}

    def action(self, step: str, attempt: int) -> str:
        return self.actions.get(step, {}).get(attempt, "ok")


def build_saga(
    kinds: Sequence[str],
    plan: Plan,
    ledger: Ledger,
    *,
    late: list[str] | None = None,
    save_points: Any = "every",
    retriable_attempts: int = 4,
    compensation_attempts: int = 3,
    name: str = "s",
) -> Saga:
    """A saga of len(kinds) steps T1.. whose actions and compensations follow ``plan``."""
    late = late if late is not None else []

    def action(ctx):
        what = plan.action(ctx.step, ctx.attempt)
        if what == "fail":
            raise Boom(f"{ctx.step} attempt {ctx.attempt}")
        if what == "late":
            late.append(ctx.key)
            raise Boom(f"{ctx.step} attempt {ctx.attempt}: no reply")
        result = ledger.do(ctx.key)
        if what == "dup":
            ledger.do(ctx.key)
        if what == "lost":
            raise ReplyLost(ctx.step)
        return result

    def compensation(ctx):
        if ctx.attempt <= plan.compensations.get(ctx.step, 0):
            raise Boom(f"C{ctx.step[1:]} attempt {ctx.attempt}")
        ledger.undo(ctx.key)

    steps = []
    for i, kind in enumerate(kinds, start=1):
        steps.append(
            Step(
                f"T{i}",
                action=action,
                compensation=None if kind == RETRIABLE else compensation,
                kind=kind,
                retry=RetryPolicy(max_attempts=retriable_attempts, backoff=NoBackoff())
                if kind == RETRIABLE
                else None,
            )
        )
    return Saga(
        name,
        steps,
        save_points=save_points,
        compensation_retry=RetryPolicy(max_attempts=compensation_attempts, backoff=NoBackoff()),
    )


def deliver_late(ledger: Ledger, late: list[str]) -> list[str]:
    """Deliver the delayed requests now; return what each did ('effect' or 'no-op')."""
    what = []
    for key in late:
        before = len(ledger.effects)
        try:
            ledger.do(key)
        except Tombstoned:
            pass
        what.append("effect" if len(ledger.effects) > before else "no-op")
    return what


def run_with_crashes(
    saga: Saga,
    crashes: Sequence[tuple[int, bool]],
    *,
    log: Any = None,
    saga_id: str = "x",
    time: FakeTime | None = None,
) -> tuple[Any, int]:
    """Run ``saga``; the orchestrator dies at each write in ``crashes`` (write number counted
    per incarnation, before/after), a new one recovers. Returns (final result, crashes hit)."""
    log = log if log is not None else InMemoryLog()
    time = time or FakeTime()
    pending = list(crashes)
    hit = 0
    while True:
        crash_at, after = pending.pop(0) if pending else (None, False)
        wrapped = CrashingLog(log, crash_at, after=after)
        orchestrator = SagaOrchestrator(
            wrapped, [saga], owner="node", clock=time.clock, sleep=time.sleep
        )
        try:
            if log.status(saga_id) is None:  # never started (or died before its first write)
                orchestrator.run(saga, saga_id=saga_id)
            else:
                orchestrator.recover()
        except Crash:
            hit += 1
            continue
        if not log.unfinished():
            return SagaRun.from_log(saga, log.read(saga_id)).result(), hit


def net_applied_steps(ledger: Ledger) -> set[str]:
    """Step names whose effect is in place now (keys are saga_id/step[/round])."""
    return {key.split("/")[1] for key in ledger.applied}


__all__ = [
    "PIVOT",
    "Boom",
    "Crash",
    "CrashingLog",
    "FakeTime",
    "Ledger",
    "Plan",
    "ReplyLost",
    "build_saga",
    "deliver_late",
    "net_applied_steps",
    "run_with_crashes",
]
