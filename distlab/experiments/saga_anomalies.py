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
- :func:`saga_isolation`: two Create Order sagas and a Cancel Order saga on the orders and one
  customer's credit, interleaved by a seeded scheduler: lost updates, dirty reads and
  inconsistent end states per 1,000 runs, and what each of Richardson's countermeasures removes
  (each only some) and costs (rejected and retried sagas, extra reads).
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
    to_frame,
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
    "SharedState",
    "SimTime",
    "drive_step",
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
ISOLATION_VARIANTS = (
    "none", "semantic lock", "commutative updates", "reread value",
    "semantic lock + commutative updates", "semantic lock + reserve in one transaction",
)  # fmt: skip
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

    ``summary``: per variant: ``orders``; before the fix, ``completed``,
    ``reported_compensated`` (the orchestrator's word: sagas that ended ``compensated``),
    ``really_compensated`` (orders not completed with no effect left in place: what the
    participants' state says) and ``stuck``; ``operator_sees`` (sagas in ``stuck()``),
    ``inconsistent_before`` and ``inconsistent_after`` (orders with effects left over),
    ``resumed``, ``swallowed_errors``.

    ``stuck``: what the operator's ``stuck()`` showed in ``"stop"`` (``saga_id``, ``step``,
    ``error``); ``history``: the first stuck saga's history (``to_frame``), to the end of its
    resume, each attempt marked ``when``: ``before fix`` or ``after resume``.
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

    ``"stop"`` is the saga core's rule: a compensation that exhausts its retries leaves the
    saga ``stuck``, and the compensations before it wait. ``"continue"`` catches the error in the
    compensation, logs it (``swallowed_errors``) and lets the others run, as code does that
    treats compensations as best effort.

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
    rows_before = len(orchestrator.to_frame(first)) if first else 0
    for shop in shops.values():
        shop.fixed = True  # the operator's fix: the refund works again
    after = dict(before)
    for saga_id in seen:
        after[saga_id] = orchestrator.resume(saga_id).status
    history = orchestrator.to_frame(first) if first else to_frame([])
    history["when"] = ["before fix"] * rows_before + ["after resume"] * (len(history) - rows_before)
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
        "reported_compensated": statuses.count("compensated"),
        "really_compensated": sum(
            1 for oid, shop in shops.items()
            if before[oid] != "completed" and not left_before[oid]
        ),
        "stuck": statuses.count("stuck"),
        "operator_sees": len(seen),
        "inconsistent_before": sum(1 for n in left_before.values() if n),
        "inconsistent_after": sum(1 for s in shops.values() if s.left_over()),
        "resumed": len(seen), "swallowed_errors": sum(s.swallowed for s in shops.values()),
    }  # fmt: skip
    return {
        "rows": rows,
        "summary": summary,
        "stuck": stuck,
        "history": history.reset_index(drop=True),
    }


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
    (``action`` / ``compensation``), ``key`` (the idempotency key the step was called with: a
    step run again after a rollback gets a new round, ``paper-1/T2/1``), ``incarnation``
    (which orchestrator process ran it: 0, then one more after each crash), ``start``, ``end``
    (simulated seconds), ``outcome``.

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
        variants=variants,
        steps=steps,
        crashes_after=crashes_after,
        step_time_s=step_time_s,
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
                             "key": ctx.key, "incarnation": incarnation[0]})  # fmt: skip
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


# -- (6) no isolation ---------------------------------------------------------------------------


class Rejected(Exception):
    """A step refused to act: a semantic lock (``*_PENDING``) or a reread that found a change."""


class KitchenStarted(Exception):
    """Cancel Order's pivot: the restaurant has started cooking, the order cannot be cancelled."""


class SharedState:
    """The order and the customer's credit, shared by the sagas of one run, with the bookkeeping
    that finds anomalies: each item's version and last writer, and the version each saga last
    saw of it.

    A *lost update* is a write by a saga that had seen the item (read or written it) at an
    older version: it overwrites a change it never saw. A *dirty read* is a read of a value a
    saga wrote that the saga later compensated (counted by :meth:`dirty_reads` at the end).
    Writes made by a compensation are not dirty: they are the undo.

    >>> s = SharedState(order="NONE", credit=100.0)
    >>> s.write("create", "order", "CREATED"); s.write("cancel", "order", "CANCELLED")
    >>> s.write("create", "order", "APPROVED"); s.lost
    {'order': 1, 'credit': 0}
    """

    def __init__(self, **values: Any) -> None:
        self.values: dict[str, Any] = dict(values)
        self.version = {item: 0 for item in values}
        self.writer: dict[str, str | None] = {item: None for item in values}
        self.seen: dict[tuple[str, str], int] = {}
        self.read_from: list[str] = []
        self.lost: dict[str, int] = {item: 0 for item in values}
        self.reads = 0
        self.extra_reads = 0

    def read(self, saga: str, item: str, *, extra: bool = False) -> Any:
        """``item``'s value as ``saga`` reads it; ``extra``: a read a countermeasure added."""
        self.reads += 1
        self.extra_reads += int(extra)
        writer = self.writer[item]
        if writer is not None and writer != saga:
            self.read_from.append(writer)
        self.seen[(saga, item)] = self.version[item]
        return self.values[item]

    def changed_since_seen(self, saga: str, item: str) -> bool:
        """Reread ``item`` (an extra read): whether another saga changed it since ``saga``
        last saw it."""
        before = self.seen.get((saga, item))
        self.read(saga, item, extra=True)
        return before is not None and before != self.version[item]

    def write(self, saga: str, item: str, value: Any, *, undo: bool = False) -> None:
        """``saga`` sets ``item`` (``undo``: a compensation's write)."""
        before = self.seen.get((saga, item))
        if before is not None and before != self.version[item]:
            self.lost[item] += 1
        self.values[item] = value
        self.version[item] += 1
        self.writer[item] = None if undo else saga
        self.seen[(saga, item)] = self.version[item]

    def add(self, saga: str, item: str, delta: float, *, undo: bool = False) -> None:
        """A commutative update: ``item += delta`` whatever it is now (never a lost update)."""
        self.values[item] += delta
        self.version[item] += 1
        self.writer[item] = None if undo else saga
        self.seen[(saga, item)] = self.version[item]

    def dirty_reads(self, compensated: set[str]) -> int:
        """Reads of values written by sagas that ended compensated."""
        return sum(1 for writer in self.read_from if writer in compensated)


class NoCredit(Exception):
    """Create Order's business failure: the customer's available credit is too low."""


@dataclass(frozen=True)
class Measures:
    """Which countermeasures a variant of :func:`saga_isolation` applies; ``once`` is the
    one-attempt policy its sagas share (nothing here is retried: the steps are local)."""

    lock: bool
    commutative: bool
    reread: bool
    once: RetryPolicy
    atomic: bool = False

    @classmethod
    def of(cls, variant: str) -> Measures:
        once = RetryPolicy(max_attempts=1)
        atomic = "one transaction" in variant
        return cls(
            "lock" in variant, "commutative" in variant or atomic, "reread" in variant, once,
            atomic,
        )  # fmt: skip

    def change_credit(self, state: SharedState, me: str, delta: float, undo: bool) -> None:
        """``credit += delta`` in one local transaction: a commutative update, or a read and a
        write of the computed value."""
        if self.commutative:
            state.add(me, "credit", delta, undo=undo)
        else:
            state.write(me, "credit", state.read(me, "credit") + delta, undo=undo)


def _create_order_saga(state: SharedState, m: Measures, me: str, order: str, amount: float):
    """Create Order: create the order, check the credit, reserve it, approve (the pivot)."""
    pending = "APPROVAL_PENDING" if m.lock else "CREATED"
    checked: dict[str, float] = {}

    def check_credit(ctx: Any) -> None:
        checked["credit"] = state.read(me, "credit")
        if checked["credit"] < amount:
            raise NoCredit(f"available credit {checked['credit']:g} < {amount:g}")

    def reserve(ctx: Any) -> None:
        if m.atomic:  # check and reserve in one local transaction: a conditional decrement
            available = state.read(me, "credit")
            if available < amount:
                raise NoCredit(f"available credit {available:g} < {amount:g}")
            state.add(me, "credit", -amount)
        elif m.commutative:
            state.add(me, "credit", -amount)
        elif m.reread and state.changed_since_seen(me, "credit"):
            raise Rejected("credit changed since it was checked")
        else:  # a PUT of the value computed from the check
            state.write(me, "credit", checked["credit"] - amount)
        state.write(me, f"{order}_reserved", amount)

    def release(ctx: Any) -> None:
        if state.read(me, f"{order}_reserved"):
            m.change_credit(state, me, amount, True)
            state.write(me, f"{order}_reserved", 0.0, undo=True)

    def approve(ctx: Any) -> None:
        if m.reread and state.changed_since_seen(me, order):
            raise Rejected("order changed since it was created")
        state.write(me, order, "APPROVED")

    def reject(ctx: Any) -> None:
        if state.read(me, order) == pending:
            state.write(me, order, "REJECTED", undo=True)

    steps = [
        Step("create_order", action=lambda ctx: state.write(me, order, pending),
             compensation=reject),
        Step("check_credit", action=check_credit),
        Step("reserve_credit", action=reserve, compensation=release),
        Step("approve_order", action=approve, kind=PIVOT),
    ]  # fmt: skip
    if m.atomic:  # the check is part of the reservation's transaction
        steps.pop(1)
    return Saga("create_order", steps, retry=m.once, compensation_retry=m.once)


def _cancel_order_saga(state: SharedState, m: Measures, me: str, order: str, kitchen: bool):
    """Cancel Order: cancel the order, release its reserved credit, tell the kitchen (the
    pivot, which refuses when ``kitchen`` has started cooking)."""

    def cancel(ctx: Any) -> str:
        status = state.read(me, order)
        if m.lock and status.endswith("_PENDING"):
            raise Rejected(f"order is {status}")
        state.write(me, order, "CANCEL_PENDING" if m.lock else "CANCELLED")
        return status

    def restore(ctx: Any) -> None:
        if ctx.result is not None and state.read(me, order) in ("CANCELLED", "CANCEL_PENDING"):
            state.write(me, order, ctx.result, undo=True)

    def release(ctx: Any) -> float:
        reserved = state.read(me, f"{order}_reserved")
        if reserved:
            m.change_credit(state, me, reserved, False)
            state.write(me, f"{order}_reserved", 0.0)
        return reserved

    def reserve_again(ctx: Any) -> None:
        if ctx.result:
            m.change_credit(state, me, -ctx.result, True)
            state.write(me, f"{order}_reserved", ctx.result, undo=True)

    def notify_kitchen(ctx: Any) -> None:
        if kitchen:
            raise KitchenStarted("the kitchen has started cooking")
        if m.lock:
            state.write(me, order, "CANCELLED")

    return Saga("cancel_order", [
        Step("cancel_order", action=cancel, compensation=restore),
        Step("release_credit", action=release, compensation=reserve_again),
        Step("notify_kitchen", action=notify_kitchen, kind=PIVOT),
    ], retry=m.once, compensation_retry=m.once)  # fmt: skip


def _isolation_run(
    m: Measures, rng: np.random.Generator, *, amounts: dict[str, float], kitchen: bool,
    credit: float, max_cancel_attempts: int,
) -> dict[str, Any]:  # fmt: skip
    """One run: Create Order for ``o1`` and ``o2`` (``amounts``) and Cancel Order for ``o1``
    (retried while a semantic lock rejects it), interleaved move by move by ``rng``."""
    state = SharedState(credit=credit, o1="NONE", o2="NONE", o1_reserved=0.0, o2_reserved=0.0)
    log = InMemoryLog()
    creates = [
        SagaRun.start(_create_order_saga(state, m, f"create-{o}", o, a), f"create-{o}", now=0.0)
        for o, a in amounts.items()
    ]
    runs, cancels, schedule = list(creates), [], []
    while runs:
        pick = runs[int(rng.integers(len(runs)))]
        command, _ = drive_step(pick, log, 0.0, 0.0)
        if not isinstance(command, Finished | Wait):
            schedule.append(pick.saga_id[0 if pick in cancels else -1])
        if pick.finished:
            runs.remove(pick)
        if _start_cancel(creates[0], cancels, max_cancel_attempts):
            me = f"cancel-{len(cancels) + 1}"
            cancels.append(
                SagaRun.start(_cancel_order_saga(state, m, me, "o1", kitchen), me, now=0.0)
            )
            runs.append(cancels[-1])
    every = creates + cancels
    compensated = {run.saga_id for run in every if run.status == "compensated"}
    return {
        "amount_o1": amounts["o1"], "amount_o2": amounts["o2"], "kitchen_started": kitchen,
        "schedule": "".join(schedule), "create_o1": _saga_outcome(creates[0]),
        "create_o2": _saga_outcome(creates[1]), "cancel_o1": _saga_outcome(cancels[-1]),
        "cancel_attempts": len(cancels), "o1": state.values["o1"], "o2": state.values["o2"],
        "credit": state.values["credit"], "lost_updates_order": state.lost["o1"],
        "lost_updates_credit": state.lost["credit"],
        "dirty_reads": state.dirty_reads(compensated),
        "consistent": _consistent(state, amounts, credit, cancels[-1]),
        "reads": state.reads, "extra_reads": state.extra_reads,
    }  # fmt: skip


def _start_cancel(create: SagaRun, cancels: list[SagaRun], limit: int) -> bool:
    """Start the first Cancel Order once the order exists; another while a semantic lock
    rejected the last one (at most ``limit`` in all)."""
    if not cancels:
        return create.position >= 1 or create.finished
    last = cancels[-1]
    if not last.finished or len(cancels) >= limit or last.status != "compensated":
        return False
    step, error = last.result().cause
    return step == "cancel_order" and str(error).startswith("Rejected")


def _consistent(state: SharedState, amounts: dict[str, float], credit: float, cancel: SagaRun):
    """The end state one serial order of the sagas could give: every order decided, credit
    reserved exactly for the approved ones and never below zero (a serial Create Order checks
    it), and a cancelled order if Cancel Order completed."""
    values = state.values
    approved = [o for o in amounts if values[o] == "APPROVED"]
    return bool(
        all(values[o] in ("APPROVED", "CANCELLED", "REJECTED") for o in amounts)
        and values["credit"] == credit - sum(amounts[o] for o in approved)
        and values["credit"] >= 0
        and all(values[f"{o}_reserved"] == (amounts[o] if o in approved else 0) for o in amounts)
        and (cancel.status != "completed" or values["o1"] == "CANCELLED")
    )


def _saga_outcome(run: SagaRun) -> str:
    """``ok`` (completed), ``rejected`` (a step refused: lock or reread), ``error``."""
    if run.status == "completed":
        return outcomes.OK
    step, error = run.result().cause
    return outcomes.REJECTED if error and error.startswith("Rejected") else outcomes.ERROR


@dataclass(frozen=True)
class IsolationResult(Result):
    """What :func:`saga_isolation` returns.

    ``frame``: one row per run and variant: ``variant``, ``run``, ``amount_o1``,
    ``amount_o2``, ``kitchen_started`` (Cancel Order's pivot will refuse), ``schedule`` (who
    moved, in order: ``1``/``2`` Create Order o1/o2, ``c`` Cancel Order), the outcome of each
    saga (``create_o1``, ``create_o2``, ``cancel_o1``: ``ok``, ``error`` or ``rejected``),
    ``cancel_attempts``, the end state (``o1``, ``o2``, ``credit``), the anomalies
    (``lost_updates_order``, ``lost_updates_credit``, ``dirty_reads``), ``consistent`` (an end
    state some serial order gives), ``over_limit`` (credit below zero: mostly both Create Orders
    checked the credit before either reserved it, a stale read only ``"reread value"``
    catches), ``reads``,
    ``extra_reads`` (rereads a countermeasure added).

    ``summary``: per variant, per 1,000 runs: runs with a lost update of the order
    (``lost_order_per_1000``) or of the credit (``lost_credit_per_1000``), with a dirty read
    (``dirty_read_per_1000``), ``inconsistent_per_1000``, ``over_limit_per_1000``; and the
    costs: ``rejected_per_1000`` (saga attempts a lock or a reread refused),
    ``retried_per_1000`` (Cancel Order attempts beyond the first), ``reads_per_run``,
    ``extra_reads_per_run``.
    """


def saga_isolation(
    variants: Iterable[str] | str = ISOLATION_VARIANTS,
    *,
    runs: int = 1000,
    credit: float = 100.0,
    cancel_fails: float = 0.3,
    max_cancel_attempts: int = 20,
    seed: int = 0,
) -> IsolationResult:
    """Run ``runs`` times, per variant: a customer with ``credit`` places orders o1 and o2
    (Create Order: create PENDING, check credit, reserve credit, approve) and cancels o1 as
    soon as it exists (Cancel Order: cancel, release its credit, tell the kitchen, which
    refuses with probability ``cancel_fails``). A seeded scheduler picks which saga makes the
    next move (a step or a compensation, each one local transaction), from a generator of its
    own per run, so every variant sees the same orders and starts from the same schedule.
    Amounts are 10..59.

    Variants: ``"none"``; ``"semantic lock"`` (``APPROVAL_PENDING``/``CANCEL_PENDING``: Cancel
    Order is rejected while the order is pending and retried, at most
    ``max_cancel_attempts`` times); ``"commutative updates"`` (credit += / -=, never a value
    computed from an earlier read); ``"reread value"`` (reread before writing, abort if it
    changed); ``"semantic lock + commutative updates"``; ``"semantic lock + reserve in one
    transaction"`` (the credit is checked and reserved in one local transaction, a conditional
    decrement, as Richardson's Customer Service does). Every variant sees the same draws.

    >>> s = saga_isolation(runs=200, seed=1).summary
    >>> s.loc["none", "lost_order_per_1000"] > 0, s.loc["semantic lock", "lost_order_per_1000"]
    (np.True_, np.float64(0.0))
    """
    variants = check_choices("variants", variants, ISOLATION_VARIANTS, noun="variant")
    runs = check_int("runs", runs, 1)
    check_work("runs", runs * len(variants), _MAX_RUNS // 4, f"runs={runs}")
    credit = check_number("credit", credit, 0.0, 1e9)
    cancel_fails = check_probability("cancel_fails", cancel_fails)
    max_cancel_attempts = check_int("max_cancel_attempts", max_cancel_attempts, 1, 100)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    amounts = rng.integers(10, 60, size=(runs, 2)).astype(float)
    kitchen = rng.random(runs) < cancel_fails
    rows = []
    for variant in variants:
        measures = Measures.of(variant)
        for run in range(runs):
            row = _isolation_run(
                measures, np.random.default_rng([seed, run]),
                amounts={"o1": amounts[run, 0], "o2": amounts[run, 1]},
                kitchen=bool(kitchen[run]), credit=credit,
                max_cancel_attempts=max_cancel_attempts,
            )  # fmt: skip
            rows.append({"variant": variant, "run": run, **row})
    frame = pd.DataFrame(rows)
    frame["over_limit"] = frame["credit"] < 0
    summary = _isolation_summary(frame, variants)
    params = plain_params(
        variants=variants, runs=runs, credit=credit, cancel_fails=cancel_fails,
        max_cancel_attempts=max_cancel_attempts, seed=seed,
    )  # fmt: skip
    return IsolationResult(frame, summary, params)


def _isolation_summary(frame: pd.DataFrame, variants: tuple[str, ...]) -> pd.DataFrame:
    out = {}
    for variant in variants:
        f = frame[frame["variant"] == variant]
        per = 1000.0 / len(f)
        rejected = (f[["create_o1", "create_o2"]] == outcomes.REJECTED).sum().sum()
        retried = (f["cancel_attempts"] - 1).sum()
        out[variant] = {
            "lost_order_per_1000": (f["lost_updates_order"] > 0).sum() * per,
            "lost_credit_per_1000": (f["lost_updates_credit"] > 0).sum() * per,
            "dirty_read_per_1000": (f["dirty_reads"] > 0).sum() * per,
            "inconsistent_per_1000": (~f["consistent"]).sum() * per,
            "over_limit_per_1000": f["over_limit"].sum() * per,
            "rejected_per_1000": (rejected + retried) * per,
            "retried_per_1000": retried * per,
            "reads_per_run": f["reads"].mean(),
            "extra_reads_per_run": f["extra_reads"].mean(),
        }
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("variant").astype(float)


# -- (7) money in transit -----------------------------------------------------------------------


class AccountClosed(Exception):
    """The credit step's business failure: the payee's account is closed."""


@dataclass(frozen=True)
class MoneyInTransitResult(Result):
    """What :func:`money_in_transit` returns.

    ``frame``: one row per transfer (each audited once, at a random moment while it runs) and
    variant: ``variant``, ``transfer``, ``amount``, ``credited`` (False: the payee's account was
    closed and the debit was refunded), ``audit_s`` (when the audit ran, simulated seconds from
    the transfer's start, drawn over its run plus ``step_time_s``), ``phase`` at the audit
    (``before debit``, ``in transit``, ``settled``), ``audited_total`` (what the audit
    summed), ``missing`` (the true total minus that), ``outcome`` (``ok`` if the audit
    balanced, ``error`` if money was missing).

    ``summary``: per variant: ``audits``, ``in_transit`` (audits that ran between the debit
    and the credit or the refund), ``missing_per_1000`` (audits that found money missing),
    ``missing_mean`` (over those audits, 0 if none), ``missing_max``.
    """


def money_in_transit(
    variants: Iterable[str] | str = TRANSIT_VARIANTS,
    *,
    transfers: int = 1000,
    balance: float = 1000.0,
    step_time_s: float = 1.0,
    transit_s: float = 2.0,
    credit_fails: float = 0.1,
    seed: int = 0,
) -> MoneyInTransitResult:
    """Transfer money from account A to account B with a saga (debit A, then credit B, the
    pivot; a closed account, with probability ``credit_fails``, refunds A), ``transfers``
    times; an audit sums the money at a moment drawn uniformly over each transfer's run. The
    debit takes Exponential(``step_time_s``), the credit Exponential(``transit_s``) (a queue, a
    batch, another bank). In ``"in-transit recorded"`` the debit writes the amount to an
    in-transit table in the same local transaction and the credit (or the refund) clears it;
    the audit reads that table too.

    >>> s = money_in_transit(transfers=200, seed=1).summary
    >>> s["missing_per_1000"].gt(0).tolist()
    [True, False]
    """
    variants = check_choices("variants", variants, TRANSIT_VARIANTS, noun="variant")
    transfers = check_int("transfers", transfers, 1)
    check_work("transfers", transfers * len(variants), _MAX_RUNS, f"transfers={transfers}")
    balance = check_number("balance", balance, 100.0, 1e12)
    step_time_s = check_number("step_time_s", step_time_s, 1e-6, _LONGEST_S)
    transit_s = check_number("transit_s", transit_s, 1e-6, _LONGEST_S)
    credit_fails = check_probability("credit_fails", credit_fails)
    seed = check_seed(seed)
    rows = []
    for variant in variants:
        rng = np.random.default_rng(seed)
        for transfer in range(transfers):
            row = _audited_transfer(
                variant == "in-transit recorded", rng, balance=balance,
                step_time_s=step_time_s, transit_s=transit_s, credit_fails=credit_fails,
            )  # fmt: skip
            rows.append({"variant": variant, "transfer": transfer, **row})
    frame = pd.DataFrame(rows)
    summary = {}
    for variant in variants:
        f = frame[frame["variant"] == variant]
        missing = f.loc[f["missing"] > 0, "missing"]
        summary[variant] = {
            "audits": len(f), "in_transit": int((f["phase"] == "in transit").sum()),
            "missing_per_1000": 1000.0 * len(missing) / len(f),
            "missing_mean": float(missing.mean()) if len(missing) else 0.0,
            "missing_max": float(missing.max()) if len(missing) else 0.0,
        }  # fmt: skip
    params = plain_params(
        variants=variants, transfers=transfers, balance=balance, step_time_s=step_time_s,
        transit_s=transit_s, credit_fails=credit_fails, seed=seed,
    )  # fmt: skip
    summary_frame = pd.DataFrame.from_dict(summary, orient="index").rename_axis("variant")
    return MoneyInTransitResult(frame, summary_frame, params)


def _audited_transfer(
    recorded: bool, rng: np.random.Generator, *, balance: float, step_time_s: float,
    transit_s: float, credit_fails: float,
) -> dict[str, Any]:  # fmt: skip
    """One transfer saga on simulated time, and one audit at a uniformly drawn moment."""
    amount = float(rng.integers(1, 100))
    closed = bool(rng.random() < credit_fails)
    ledger = {"A": balance, "B": balance, "transit": 0.0}

    def move(account: str, delta: float, transit: float) -> Callable[[Any], None]:
        def apply(ctx: Any) -> None:
            if account == "B" and closed:
                raise AccountClosed("the payee's account is closed")
            ledger[account] += delta  # one local transaction, with the in-transit row
            if recorded:
                ledger["transit"] += transit

        return apply

    saga = Saga("transfer", [
        Step("debit", action=move("A", -amount, amount), compensation=move("A", amount, -amount)),
        Step("credit", action=move("B", amount, -amount), kind=PIVOT),
    ])  # fmt: skip
    run, log, now = SagaRun.start(saga, "transfer", now=0.0), InMemoryLog(), 0.0
    states = [(0.0, dict(ledger))]  # (from when, the ledger) as the audit would read it
    durations = iter([rng.exponential(step_time_s), rng.exponential(transit_s)])
    while not run.finished:
        command, now = drive_step(run, log, now, float(next(durations, step_time_s)))
        states.append((now, dict(ledger)))
    audit_s = float(rng.uniform(0.0, now + step_time_s))  # some audits come after the end
    seen = [state for since, state in states if since <= audit_s][-1]
    audited = seen["A"] + seen["B"] + (seen["transit"] if recorded else 0.0)
    debit_end = states[1][0]
    phase = "before debit" if audit_s < debit_end else "in transit" if audit_s < now else "settled"
    missing = 2 * balance - audited
    return {
        "amount": amount, "credited": not closed, "audit_s": audit_s, "phase": phase,
        "audited_total": audited, "missing": missing,
        "outcome": outcomes.OK if missing == 0 else outcomes.ERROR,
    }  # fmt: skip
