"""Sagas going wrong (notebook 04): a compensation that fails, save-points after crashes, no
isolation between sagas, and money in transit.

Four experiments on the saga core (:mod:`distlab.saga`), each driven on simulated time with
in-memory participants whose behaviour is drawn from ``numpy.random.default_rng(seed)``:

- :func:`failing_compensation`: a refund that fails. ``"stop"`` (the core's rule: retry, then
  ``stuck``, the earlier compensations wait) shows the operator what is wrong (``stuck()``, the
  saga's history) and an operator's ``resume`` after the fix undoes everything; ``"continue"``
  (swallow the error and compensate the rest) ends every saga ``compensated`` while money stays
  charged, and nobody is told.
- :func:`save_point_recovery`: Garcia-Molina and Salem's example (section 5): save-points after
  T1 and T3, crashes after T2 and after T5 execute ``T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6``;
  without save-points the first crash compensates the whole saga.
- :func:`saga_isolation`: Create Order and Cancel Order sagas on one order and one customer's
  credit, interleaved by a seeded scheduler: lost updates, dirty reads and inconsistent end
  states per 1,000 runs, and what each of Richardson's countermeasures removes and costs.
- :func:`money_in_transit`: an audit between a transfer's debit and its credit sees money
  missing, unless the in-transit amount is recorded where the audit reads it.

>>> from distlab.experiments.saga_anomalies import save_point_recovery
>>> save_point_recovery(seed=0).sequences["after T1 and T3"]
'T1 T2 C2 T2 T3 T4 T5 C5 C4 T4 T5 T6'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import (
    check_choices,
    check_int,
    check_number,
    check_probability,
    check_seed,
)
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work
from distlab.retry import ConstantBackoff, RetryPolicy
from distlab.saga import (
    PIVOT,
    Finished,
    InMemoryLog,
    RunAction,
    Saga,
    SagaOrchestrator,
    SagaRun,
    Step,
    Wait,
)

__all__ = [
    "COMPENSATION_VARIANTS",
    "ISOLATION_VARIANTS",
    "SAVE_POINT_VARIANTS",
    "TRANSIT_VARIANTS",
    "FailingCompensationResult",
    "IsolationResult",
    "MoneyInTransitResult",
    "SavePointResult",
    "SimTime",
    "failing_compensation",
    "money_in_transit",
    "saga_isolation",
    "save_point_recovery",
]

#: :func:`failing_compensation`: stop at the failing compensation (stuck), or swallow it.
COMPENSATION_VARIANTS = ("stop", "continue")
#: :func:`save_point_recovery`: the paper's save-points, none (backward recovery), every step.
SAVE_POINT_VARIANTS = ("after T1 and T3", "none", "every step")
#: :func:`saga_isolation`: no countermeasure, then each of Richardson's countermeasures.
ISOLATION_VARIANTS = ("none", "semantic lock", "commutative updates", "reread value")
#: :func:`money_in_transit`: the audit reads balances only, or balances plus money in transit.
TRANSIT_VARIANTS = ("balances only", "in-transit recorded")

_SAVE_POINTS = {"after T1 and T3": ("T1", "T3"), "none": (), "every step": "every"}
_MAX_RUNS = 200_000
_MAX_STEPS = 100
_LONGEST_S = 3600.0


class SimTime:
    """Simulated seconds for a driver: ``clock()`` reads, ``sleep(d)`` and ``advance(d)`` move.

    >>> t = SimTime(); t.sleep(1.5); t.advance(0.5); t.clock()
    2.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def clock(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        self.now += delay

    def advance(self, delay: float) -> None:
        self.now += delay


# -- (4) a compensation that fails -------------------------------------------------------------


class Declined(Exception):
    """The pivot's business answer: the order is not approved."""


class RefundBug(Exception):
    """The payment service's refund has a bug: it fails every time until someone fixes it."""


@dataclass
class Shop:
    """The participants' state for one order (what the business sees)."""

    declined: bool
    buggy: bool
    fixed: bool = False
    status: str = "NONE"
    reserved: bool = False
    charged: bool = False
    swallowed: int = 0

    def left_over(self) -> int:
        """Effects still in place that the saga's outcome says are gone: an order that is not
        APPROVED with stock reserved, money charged or the order still PENDING."""
        if self.status == "APPROVED":
            return 0
        return int(self.reserved) + int(self.charged) + int(self.status == "PENDING")


def _order_saga(shop_of: Callable[[Any], Shop], *, attempts: int, delay_s: float, swallow: bool):
    def refund(ctx: Any) -> None:
        shop = shop_of(ctx)
        if shop.buggy and not shop.fixed:
            raise RefundBug("refund API returns 500: currency field missing")
        shop.charged = False

    def careful(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        if not swallow:
            return fn

        def swallowing(ctx: Any) -> None:
            try:
                fn(ctx)
            except Exception:
                shop_of(ctx).swallowed += 1  # logged somewhere, the saga carries on

        return swallowing

    def approve(ctx: Any) -> None:
        shop = shop_of(ctx)
        if shop.declined:
            raise Declined("fraud check declined the order")
        shop.status = "APPROVED"

    steps = [
        Step("create_order", action=lambda c: setattr(shop_of(c), "status", "PENDING"),
             compensation=careful(lambda c: setattr(shop_of(c), "status", "REJECTED"))),
        Step("reserve_inventory", action=lambda c: setattr(shop_of(c), "reserved", True),
             compensation=careful(lambda c: setattr(shop_of(c), "reserved", False))),
        Step("charge_payment", action=lambda c: setattr(shop_of(c), "charged", True),
             compensation=careful(refund)),
        Step("approve_order", action=approve, kind=PIVOT),
    ]  # fmt: skip
    policy = RetryPolicy(max_attempts=attempts, backoff=ConstantBackoff(delay_s))
    return Saga("create_order", steps, compensation_retry=policy)


@dataclass(frozen=True)
class FailingCompensationResult(Result):
    """What :func:`failing_compensation` returns.

    ``frame``: one row per order and variant: ``variant``, ``order`` (the saga id),
    ``declined`` (the pivot said no), ``buggy`` (its refund fails until fixed),
    ``status_before`` (how the saga ended before the operator acted: ``completed``,
    ``compensated`` or ``stuck``), ``left_over_before`` (effects still in place that should not
    be), ``status`` and ``left_over`` (after the fix and the operator's ``resume``), ``outcome``
    (``ok`` for an approved order, else ``error``).

    ``summary``: per variant: ``orders``, ``completed``, ``compensated`` and ``stuck`` (before
    the fix), ``operator_sees`` (sagas in ``stuck()``), ``inconsistent_before`` and
    ``inconsistent_after`` (orders with effects left over), ``resumed``,
    ``swallowed_errors``.

    ``stuck``: what the operator's ``stuck()`` showed in ``"stop"`` (``saga_id``, ``step``,
    ``error``); ``history``: the first stuck saga's history (``to_frame``), before and after its
    resume (``when``: ``before fix`` / ``after resume``).
    """

    stuck: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


def failing_compensation(
    variants: Iterable[str] | str = COMPENSATION_VARIANTS,
    *,
    orders: int = 200,
    decline: float = 0.3,
    compensation_bug: float = 0.2,
    compensation_attempts: int = 3,
    retry_delay_s: float = 1.0,
    seed: int = 0,
) -> FailingCompensationResult:
    """Run ``orders`` order sagas (create order PENDING, reserve inventory, charge payment,
    approve as the pivot) through a :class:`~distlab.saga.SagaOrchestrator` on simulated time.

    The pivot declines with probability ``decline``; a declined order's refund is buggy with
    probability ``compensation_bug`` (it fails on every attempt until fixed). Compensations are
    retried ``compensation_attempts`` times, ``retry_delay_s`` apart. Then the bug is fixed and
    the operator resumes every saga ``stuck()`` lists. The draws are the same for both variants.

    >>> s = failing_compensation(orders=100, seed=1).summary
    >>> s[["operator_sees", "inconsistent_before", "inconsistent_after"]].to_dict("index")
    {'stop': {'operator_sees': 3, 'inconsistent_before': 3, 'inconsistent_after': 0}, \
'continue': {'operator_sees': 0, 'inconsistent_before': 3, 'inconsistent_after': 3}}
    """
    variants = check_choices("variants", variants, COMPENSATION_VARIANTS, noun="variant")
    orders = check_int("orders", orders, 1)
    check_work("orders", orders * len(variants), _MAX_RUNS, f"orders={orders}")
    decline = check_probability("decline", decline)
    compensation_bug = check_probability("compensation_bug", compensation_bug)
    compensation_attempts = check_int("compensation_attempts", compensation_attempts, 1, 100)
    retry_delay_s = check_number("retry_delay_s", retry_delay_s, 0.0, _LONGEST_S)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    declined = rng.random(orders) < decline
    buggy = declined & (rng.random(orders) < compensation_bug)
    rows, summaries, stuck, history = [], {}, pd.DataFrame(), pd.DataFrame()
    for variant in variants:
        shops = {f"o{i}": Shop(bool(declined[i]), bool(buggy[i])) for i in range(orders)}
        saga = _order_saga(
            lambda ctx, shops=shops: shops[ctx.saga_id], attempts=compensation_attempts,
            delay_s=retry_delay_s, swallow=variant == "continue",
        )  # fmt: skip
        one = _run_orders(saga, shops)
        rows += [{"variant": variant, **row} for row in one["rows"]]
        summaries[variant] = one["summary"]
        if variant == "stop":
            stuck, history = one["stuck"], one["history"]
    params = plain_params(
        variants=variants, orders=orders, decline=decline, compensation_bug=compensation_bug,
        compensation_attempts=compensation_attempts, retry_delay_s=retry_delay_s, seed=seed,
    )  # fmt: skip
    summary = pd.DataFrame.from_dict(summaries, orient="index").rename_axis("variant")
    return FailingCompensationResult(pd.DataFrame(rows), summary, params, stuck, history)


def _run_orders(saga: Saga, shops: dict[str, Shop]) -> dict[str, Any]:
    """Run every order, then fix the bug and resume what the operator sees stuck."""
    time = SimTime()
    orchestrator = SagaOrchestrator(
        InMemoryLog(), [saga], name="orders", owner="orders-1", clock=time.clock,
        sleep=time.sleep,
    )  # fmt: skip
    before = {oid: orchestrator.run(saga, saga_id=oid).status for oid in shops}
    left_before = {oid: shop.left_over() for oid, shop in shops.items()}
    seen = orchestrator.stuck()
    stuck = pd.DataFrame(
        [(sid, step, error) for sid, (step, error) in seen.items()],
        columns=["saga_id", "step", "error"],
    )
    first = next(iter(seen), None)
    history = orchestrator.to_frame(first).assign(when="before fix") if first else pd.DataFrame()
    for shop in shops.values():
        shop.fixed = True  # the operator's fix: the refund works again
    after = dict(before)
    for saga_id in seen:
        after[saga_id] = orchestrator.resume(saga_id).status
    if first:
        history = pd.concat([history, orchestrator.to_frame(first).assign(when="after resume")])
    rows = [
        {
            "order": oid, "declined": shop.declined, "buggy": shop.buggy,
            "status_before": before[oid], "left_over_before": left_before[oid],
            "status": after[oid], "left_over": shop.left_over(),
            "outcome": outcomes.OK if shop.status == "APPROVED" else outcomes.ERROR,
        }
        for oid, shop in shops.items()
    ]  # fmt: skip
    statuses = list(before.values())
    summary = {
        "orders": len(shops), "completed": statuses.count("completed"),
        "compensated": statuses.count("compensated"), "stuck": statuses.count("stuck"),
        "operator_sees": len(seen),
        "inconsistent_before": sum(1 for n in left_before.values() if n),
        "inconsistent_after": sum(1 for s in shops.values() if s.left_over()),
        "resumed": len(seen), "swallowed_errors": sum(s.swallowed for s in shops.values()),
    }  # fmt: skip
    return {"rows": rows, "summary": summary, "stuck": stuck, "history": history.reset_index(drop=True)}


# -- a driver of one SagaRun on simulated time ---------------------------------------------------


def drive_step(run: SagaRun, log: InMemoryLog, now: float, duration: float) -> tuple[Any, float]:
    """One move of a saga at ``now``, logging first: returns (the command, the time after it).

    An action or compensation takes ``duration`` seconds; a :class:`~distlab.saga.Wait` takes
    its delay; :class:`~distlab.saga.Finished` takes nothing. The step's callable runs here and
    its outcome is reported and logged.
    """
    command = run.next(now)
    _write(run, log, now)
    if isinstance(command, Finished):
        return command, now
    if isinstance(command, Wait):
        return command, now + command.delay
    now += duration
    if isinstance(command, RunAction):
        try:
            result = command.step.action(command.context)
        except Exception as exc:
            run.action_ended(now, error=exc)
        else:
            run.action_ended(now, result=result)
    else:
        try:
            command.step.compensation(command.context)  # type: ignore[misc]
        except Exception as exc:
            run.compensation_ended(now, error=exc)
        else:
            run.compensation_ended(now)
    _write(run, log, now)
    return command, now


def _write(run: SagaRun, log: InMemoryLog, now: float) -> None:
    records = run.drain()
    if records:
        log.append(records, owner="orchestrator", now=now, lease=_LONGEST_S)


# -- (5) save-points ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SavePointResult(Result):
    """What :func:`save_point_recovery` returns.

    ``frame``: one row per executed step and variant, in order: ``variant``, ``order``
    (0-based), ``label`` (``T2`` for an action, ``C2`` for a compensation), ``step``, ``phase``
    (``action`` / ``compensation``), ``incarnation`` (which orchestrator process ran it: 0, then
    one more after each crash), ``start``, ``end`` (simulated seconds), ``outcome``.

    ``summary``: per variant: ``executed``, ``actions``, ``compensations``, ``redone``
    (actions beyond the first run of each step), ``crashes`` (crashes that happened; a
    compensated saga never reaches the later ones), ``completed`` (bool), ``duration_s``.

    ``sequences``: variant -> the executed sequence as one string (``"T1 T2 C2 ..."``).
    """

    sequences: dict[str, str] = field(default_factory=dict)


def save_point_recovery(
    variants: Iterable[str] | str = SAVE_POINT_VARIANTS,
    *,
    steps: int = 6,
    crashes_after: Iterable[str] = ("T2", "T5"),
    step_time_s: float = 1.0,
    seed: int = 0,
) -> SavePointResult:
    """Run the saga T1..T\\ ``steps`` (C1..C\\ ``steps-1``; the last step has no compensation)
    and crash the orchestrator right after each step of ``crashes_after`` (in that order, each
    once); a new orchestrator recovers the saga from its log. Step times are
    Exponential(``step_time_s``). With the default arguments the variant ``"after T1 and T3"``
    is the paper's example.

    >>> save_point_recovery(seed=0).summary["redone"].to_dict()
    {'after T1 and T3': 3, 'none': 0, 'every step': 0}
    """
    variants = check_choices("variants", variants, SAVE_POINT_VARIANTS, noun="variant")
    steps = check_int("steps", steps, 4, _MAX_STEPS)
    names = [f"T{i}" for i in range(1, steps + 1)]
    if isinstance(crashes_after, str) or not isinstance(crashes_after, Iterable):
        raise TypeError(f"crashes_after={crashes_after!r} must be a tuple of step names")
    crashes_after = tuple(crashes_after)
    for name in crashes_after:
        if name not in names[:-1]:
            raise ValueError(
                f"crashes_after: {name!r} must be one of T1..T{steps - 1} (a crash after the "
                "last step finds the saga ended)"
            )
    step_time_s = check_number("step_time_s", step_time_s, 0.0, _LONGEST_S)
    seed = check_seed(seed)
    rows, summaries, sequences = [], {}, {}
    for variant in variants:
        rng = np.random.default_rng(seed)  # the same step times for every variant
        one, status, crashes = _run_with_crashes(names, variant, crashes_after, step_time_s, rng)
        rows += [{"variant": variant, "order": i, **row} for i, row in enumerate(one)]
        labels = [row["label"] for row in one]
        actions = [row for row in one if row["phase"] == "action"]
        sequences[variant] = " ".join(labels)
        summaries[variant] = {
            "executed": len(one), "actions": len(actions),
            "compensations": len(one) - len(actions),
            "redone": len(actions) - len({row["step"] for row in actions}),
            "crashes": crashes, "completed": status == "completed",
            "duration_s": one[-1]["end"] if one else 0.0,
        }  # fmt: skip
    params = plain_params(
        variants=variants, steps=steps, crashes_after=crashes_after, step_time_s=step_time_s,
        seed=seed,
    )
    summary = pd.DataFrame.from_dict(summaries, orient="index").rename_axis("variant")
    return SavePointResult(pd.DataFrame(rows), summary, params, sequences)


def _run_with_crashes(
    names: list[str], variant: str, crashes_after: tuple[str, ...], step_time_s: float, rng: Any
) -> tuple[list[dict[str, Any]], str, int]:
    executed: list[dict[str, Any]] = []
    incarnation = [0]

    def record(label: str, phase: str) -> Callable[[Any], str]:
        def run_step(ctx: Any) -> str:
            executed.append({"label": label + ctx.step[1:], "step": ctx.step, "phase": phase,
                             "incarnation": incarnation[0]})  # fmt: skip
            return "t" + ctx.step[1:]

        return run_step

    saga = Saga(
        "paper",
        [Step(n, action=record("T", "action"),
              compensation=record("C", "compensation") if n != names[-1] else None)
         for n in names],
        save_points=_SAVE_POINTS[variant],
    )  # fmt: skip
    log, now, pending = InMemoryLog(), 0.0, list(crashes_after)
    run = SagaRun.start(saga, "paper-1", now=now)
    while True:
        start = now
        command, now = drive_step(run, log, now, float(rng.exponential(step_time_s)))
        if isinstance(command, Finished):
            return executed, command.result.status, incarnation[0]
        if isinstance(command, Wait):
            continue
        executed[-1].update(start=start, end=now, outcome=outcomes.OK)
        if pending and isinstance(command, RunAction) and command.step.name == pending[0]:
            pending.pop(0)  # the orchestrator dies; a new one reads the log and recovers
            incarnation[0] += 1
            run = SagaRun.from_log(saga, log.read("paper-1"))
            run.recover(now)
