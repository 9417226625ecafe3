"""Sagas on a simulated network: the course's order saga against distlab's (notebook 04).

Three experiments on :func:`distlab.sim.simulate_order_sagas` (order, inventory and payment
participants, an orchestrator node that can crash):

- :func:`saga_end_states`: a failure injected at every step and a crash at every point between
  steps, for the course's saga (no saga log), distlab's (a log that survives the crash)
  and distlab's with a log lost in the crash: how the orders end, over many seeds.
- :func:`duplicate_charges`: a network that duplicates and loses messages, steps retried after a
  timeout: without idempotency keys orders are charged twice, at about the duplicate rate; with
  them, never.
- :func:`lost_replies`: a charge's reply lost after the card was charged (the course's saga,
  which undoes only the steps that answered and has no refund at all, against distlab's, which
  registers each compensation before its action), and a reservation that arrives after its
  compensation (with and without a tombstone).
- :func:`saga_run`: one to a few orders with chosen faults, every request the orchestrator sent,
  its crashes and its log's writes: what :func:`distlab.plots.saga_timeline` draws.

>>> s = saga_end_states(runs=3, seed=0).summary
>>> s[["completed", "half_done"]].to_dict("index")["course"]
{'completed': 3, 'half_done': 9}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab._validate import (
    check_bool,
    check_choice,
    check_choices,
    check_int,
    check_number,
    check_probability,
    check_seed,
)
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.scenario import check_work
from distlab.sim.sagas import DRIVERS, END_STATES, ORDER_STEPS, simulate_order_sagas

__all__ = [
    "DUPLICATE_VARIANTS",
    "END_STATE_VARIANTS",
    "LOST_REPLY_VARIANTS",
    "SCENARIOS",
    "DuplicateChargesResult",
    "LostRepliesResult",
    "SagaEndStatesResult",
    "duplicate_charges",
    "lost_replies",
    "saga_end_states",
    "SagaRunResult",
    "saga_run",
]

#: The orchestrators :func:`saga_end_states` compares.
END_STATE_VARIANTS = ("course", "distlab", "distlab, log lost")
#: Where :func:`saga_end_states` injects a fault: nowhere, a refused step, a crash after a step.
SCENARIOS = (
    ("no fault",)
    + tuple(f"fail {step}" for step in ORDER_STEPS[:-1])
    + tuple(f"crash after {step}" for step in ORDER_STEPS[:-1])
)
#: The runs of :func:`duplicate_charges`.
DUPLICATE_VARIANTS = ("no idempotency keys", "idempotency keys")
#: The runs of :func:`lost_replies`.
LOST_REPLY_VARIANTS = (
    "course: undoes answered steps, no refund",
    "distlab: compensation registered first",
    "late action, no tombstone",
    "late action, tombstone",
)
_MAX_SAGAS = 50_000
_LONGEST_S = 3600.0
_COLUMNS = ["saga_id", "status", "order", "reserved", "charged", "charges", "end_state"]


def _counts(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """End states counted per group, every state a column (zeros included)."""
    table = pd.crosstab([frame[c] for c in by], frame["end_state"])
    table = table.reindex(columns=list(END_STATES), fill_value=0).astype(int)
    table.columns.name = None
    table.insert(0, "sagas", table.sum(axis=1))
    return table


def _run_seeds(seed: int, runs: int) -> list[int]:
    return [int(s) for s in np.random.default_rng(seed).integers(0, 2**31 - 1, size=runs)]


# -- 1. end states --------------------------------------------------------------------------


@dataclass(frozen=True)
class SagaEndStatesResult(Result):
    """What :func:`saga_end_states` returns.

    ``frame``: one row per variant, scenario and run: ``variant``, ``scenario``, ``run``,
    ``run_seed`` and the order's end (``status``, ``order``, ``reserved``, ``charged``,
    ``charges``, ``end_state``, see :func:`distlab.sim.sagas.end_state`).
    ``summary``: per variant: ``sagas`` and how many ended in each of
    :data:`~distlab.sim.sagas.END_STATES`. ``table``: the same counts per (variant, scenario).
    """

    table: pd.DataFrame


def saga_end_states(
    variants: Iterable[str] | str = END_STATE_VARIANTS,
    *,
    scenarios: Iterable[str] | str = SCENARIOS,
    runs: int = 20,
    loss: float = 0.01,
    latency_s: float = 0.01,
    timeout_s: float = 0.5,
    seed: int = 0,
) -> SagaEndStatesResult:
    """Run one order saga per variant, scenario and run (``runs`` seeds drawn from ``seed``) on a
    network losing ``loss`` of the messages; the orchestrator crashed restarts 1 s later.

    >>> t = saga_end_states(scenarios="crash after reserve_stock", runs=2).table
    >>> t["half_done"].tolist()
    [2, 0, 2]
    """
    params = plain_params(
        variants=check_choices("variants", variants, END_STATE_VARIANTS, noun="a variant"),
        scenarios=check_choices("scenarios", scenarios, SCENARIOS, noun="a scenario"),
        runs=check_int("runs", runs, 1),
        loss=check_probability("loss", loss),
        latency_s=check_number("latency_s", latency_s, 0.0, _LONGEST_S),
        timeout_s=check_number("timeout_s", timeout_s, 0.0, _LONGEST_S, min_inclusive=False),
        seed=check_seed(seed),
    )
    total = len(params["variants"]) * len(params["scenarios"]) * params["runs"]
    check_work("sagas", total, _MAX_SAGAS, f"runs={params['runs']} x variants x scenarios")
    run_seeds = _run_seeds(params["seed"], params["runs"])
    rows = [
        (variant, scenario, run, run_seed, *_one_saga(params, variant, scenario, run_seed))
        for variant in params["variants"]
        for scenario in params["scenarios"]
        for run, run_seed in enumerate(run_seeds)
    ]
    frame = pd.DataFrame(rows, columns=["variant", "scenario", "run", "run_seed", *_COLUMNS[1:]])
    table = _counts(frame, ["variant", "scenario"])
    table = table.reindex(
        pd.MultiIndex.from_product([params["variants"], params["scenarios"]],
                                   names=["variant", "scenario"])
    )  # fmt: skip
    summary = _counts(frame, ["variant"]).reindex(list(params["variants"]))
    return SagaEndStatesResult(frame=frame, summary=summary, params=params, table=table)


def _one_saga(p: dict, variant: str, scenario: str, run_seed: int) -> tuple:
    fault: dict[str, Any] = {}
    if scenario.startswith("fail "):
        fault["fail_step"] = scenario.removeprefix("fail ")
    elif scenario.startswith("crash after "):
        fault["crash_after_step"] = scenario.removeprefix("crash after ")
    run = simulate_order_sagas(
        driver="course" if variant == "course" else "distlab",
        log_lost_on_crash=variant == "distlab, log lost",
        loss=p["loss"], latency_s=p["latency_s"], timeout_s=p["timeout_s"], seed=run_seed,
        **fault,
    )  # fmt: skip
    return tuple(run.end_states().iloc[0][_COLUMNS[1:]].tolist())


# -- 2. duplicates and retries --------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateChargesResult(Result):
    """What :func:`duplicate_charges` returns.

    ``frame``: one row per variant and order: ``variant`` and the order's end (``saga_id``,
    ``status``, ``order``, ``reserved``, ``charged``, ``charges``, ``end_state``) and
    ``charged_twice`` (two charges or more took effect).
    ``summary``: per variant: ``sagas``, the end-state counts, ``charged_twice``,
    ``charged_twice_rate`` and ``duplicate`` (the network's duplicate probability, to compare).
    """


def duplicate_charges(
    variants: Iterable[str] | str = DUPLICATE_VARIANTS,
    *,
    orders: int = 500,
    duplicate: float = 0.05,
    loss: float = 0.01,
    latency_s: float = 0.01,
    timeout_s: float = 0.5,
    retries: int = 3,
    seed: int = 0,
) -> DuplicateChargesResult:
    """Run ``orders`` sagas with distlab's orchestrator on a network that duplicates
    ``duplicate`` and loses ``loss`` of the messages; each step's action is retried (same key)
    up to ``retries`` attempts after a timeout. ``"no idempotency keys"``: participants apply
    every request; ``"idempotency keys"``: they answer a key seen before from their record.
    Both variants run in a world with the same seed.

    >>> s = duplicate_charges(orders=200, duplicate=0.1, seed=1).summary
    >>> s["charged_twice"].tolist()
    [23, 0]
    """
    params = plain_params(
        variants=check_choices("variants", variants, DUPLICATE_VARIANTS, noun="a variant"),
        orders=check_int("orders", orders, 1),
        duplicate=check_probability("duplicate", duplicate),
        loss=check_probability("loss", loss),
        latency_s=check_number("latency_s", latency_s, 0.0, _LONGEST_S),
        timeout_s=check_number("timeout_s", timeout_s, 0.0, _LONGEST_S, min_inclusive=False),
        retries=check_int("retries", retries, 1, 100),
        seed=check_seed(seed),
    )
    check_work("sagas", params["orders"] * len(params["variants"]), _MAX_SAGAS,
               f"orders={params['orders']} x variants")  # fmt: skip
    frames = []
    for variant in params["variants"]:
        run = simulate_order_sagas(
            orders=params["orders"], idempotency=variant == "idempotency keys",
            duplicate=params["duplicate"], loss=params["loss"], latency_s=params["latency_s"],
            timeout_s=params["timeout_s"], retries=params["retries"], seed=params["seed"],
        )  # fmt: skip
        ends = run.end_states()
        ends.insert(0, "variant", variant)
        frames.append(ends)
    frame = pd.concat(frames, ignore_index=True)
    frame["charged_twice"] = frame["charges"] >= 2
    summary = _counts(frame, ["variant"]).reindex(list(params["variants"]))
    twice = frame.groupby("variant", sort=False)["charged_twice"].sum().astype(int)
    summary["charged_twice"] = twice
    summary["charged_twice_rate"] = twice / summary["sagas"]
    summary["duplicate"] = params["duplicate"]
    return DuplicateChargesResult(frame=frame, summary=summary, params=params)


# -- 3. lost replies, early compensations ---------------------------------------------------


@dataclass(frozen=True)
class LostRepliesResult(Result):
    """What :func:`lost_replies` returns.

    ``frame``: one row per variant and order (``variant``, then as
    :class:`DuplicateChargesResult`'s frame without ``charged_twice``).
    ``summary``: per variant: ``sagas``, the end-state counts, ``charged_but_cancelled``
    (money taken for an order that is not completed) and ``reserved_but_cancelled`` (stock
    held for an order that is not completed).
    """


def lost_replies(
    variants: Iterable[str] | str = LOST_REPLY_VARIANTS,
    *,
    orders: int = 100,
    hold_s: float = 2.0,
    loss: float = 0.0,
    latency_s: float = 0.01,
    timeout_s: float = 0.5,
    seed: int = 0,
) -> LostRepliesResult:
    """Two faults, each step tried once (no retry), ``orders`` sagas per variant.

    The first two variants lose the reply to every order's ``charge_payment`` after the card was
    charged. The first runs the course's saga (its driver: no keys, one attempt per step, and
    no refund anywhere: it undoes only the steps that answered); the second distlab's, which
    registers the compensation before the action, so the charge is refunded. The last
    two hold every order's first ``reserve_stock`` request ``hold_s`` seconds (longer than
    ``timeout_s``): the release arrives first. Without a tombstone the late reservation then
    takes effect for a cancelled order; with one it is refused.

    >>> s = lost_replies(orders=10).summary
    >>> (s["charged_but_cancelled"] + s["reserved_but_cancelled"]).tolist()
    [10, 0, 10, 0]
    """
    params = plain_params(
        variants=check_choices("variants", variants, LOST_REPLY_VARIANTS, noun="a variant"),
        orders=check_int("orders", orders, 1),
        hold_s=check_number("hold_s", hold_s, 0.0, _LONGEST_S),
        loss=check_probability("loss", loss),
        latency_s=check_number("latency_s", latency_s, 0.0, _LONGEST_S),
        timeout_s=check_number("timeout_s", timeout_s, 0.0, _LONGEST_S, min_inclusive=False),
        seed=check_seed(seed),
    )
    check_work("sagas", params["orders"] * len(params["variants"]), _MAX_SAGAS,
               f"orders={params['orders']} x variants")  # fmt: skip
    frames = []
    for variant in params["variants"]:
        ends = _lost_reply_run(params, variant).end_states()
        ends.insert(0, "variant", variant)
        frames.append(ends)
    frame = pd.concat(frames, ignore_index=True)
    summary = _counts(frame, ["variant"]).reindex(list(params["variants"]))
    not_done = frame["order"] != "COMPLETED"
    for column, amount in (
        ("charged_but_cancelled", "charged"),
        ("reserved_but_cancelled", "reserved"),
    ):
        hit = not_done & (frame[amount] > 0)
        summary[column] = hit.groupby(frame["variant"], sort=False).sum().astype(int)
    return LostRepliesResult(frame=frame, summary=summary, params=params)


def _lost_reply_run(p: dict, variant: str) -> Any:
    common = dict(orders=p["orders"], loss=p["loss"], latency_s=p["latency_s"],
                  timeout_s=p["timeout_s"], retries=1, seed=p["seed"])  # fmt: skip
    if variant in LOST_REPLY_VARIANTS[:2]:
        driver = "course" if variant.startswith("course") else "distlab"
        return simulate_order_sagas(driver=driver, lose_reply_step="charge_payment", **common)
    return simulate_order_sagas(
        hold_step="reserve_stock", hold_s=p["hold_s"], tombstones=variant.endswith(", tombstone"),
        **common,
    )  # fmt: skip


# -- one run, for the timeline --------------------------------------------------------------

_MAX_RUN_ORDERS = 20


@dataclass(frozen=True)
class SagaRunResult(Result):
    """What :func:`saga_run` returns.

    ``frame``: one row per request the orchestrator sent, each step attempt and each
    compensation attempt (:meth:`distlab.sim.sagas.SagaSimRun.attempts`): ``saga_id``,
    ``participant``, ``step``, ``op`` (``action`` or ``compensation``), ``attempt``, ``key``,
    ``sent``, ``ended`` (seconds), ``outcome`` (``ok``, ``error``, ``timeout``: what the
    orchestrator saw), ``deliveries``, ``effects``, ``took_effect``, ``duplicate`` (answered
    from the idempotency record) and ``tombstone`` (a no-op because of a tombstone).
    ``crashes``: the orchestrator's crashes, ``start``, ``end`` (its restart) and ``state``
    (``crashed``). ``log_writes``: every record of distlab's saga log, ``time``, ``saga_id``,
    ``kind``, ``step`` (empty for the course, which keeps none). ``end_states``: one row per
    order (:meth:`~distlab.sim.sagas.SagaSimRun.end_states`). ``summary``: one row, indexed by
    the driver: ``sagas``, how many ended in each of :data:`~distlab.sim.sagas.END_STATES`,
    ``attempts``, ``effects``, ``duplicates``, ``tombstones``, ``crashes``, ``log_writes``.

    >>> r = saga_run(crash_after_step="create_order")
    >>> r.crashes.values.tolist(), r.log_writes["kind"].tolist()[:3]
    ([[0.2, 1.2, 'crashed']], ['saga_started', 'action_started', 'action_ended'])
    """

    crashes: pd.DataFrame
    log_writes: pd.DataFrame
    end_states: pd.DataFrame


def saga_run(
    driver: str = "distlab",
    *,
    orders: int = 1,
    idempotency: bool = True,
    fail_step: str | None = None,
    fail_compensation_step: str | None = None,
    crash_after_step: str | None = None,
    duplicate: float = 0.0,
    loss: float = 0.0,
    log_lost_on_crash: bool = False,
    compensation_attempts: int = 3,
    latency_s: float = 0.1,
    timeout_s: float = 0.5,
    down_s: float = 1.0,
    horizon_s: float = 120.0,
    seed: int = 0,
) -> SagaRunResult:
    """Run ``orders`` order sagas (0.1 s apart) with ``driver`` (``"distlab"`` or ``"course"``)
    on a network of ``latency_s`` each way that duplicates ``duplicate`` and loses ``loss`` of
    the messages. Faults: ``fail_step`` (its participant refuses it: the card is declined),
    ``fail_compensation_step`` (a step before ``fail_step`` whose undo fails every time:
    distlab tries it ``compensation_attempts`` times, 1 s, 2 s ... apart, then the saga is
    stuck; the course tries once, and its failure stops the saga: the order stays
    ``PENDING``), ``crash_after_step`` (the orchestrator crashes right after that step
    succeeds and restarts ``down_s`` later; a step before ``fail_step``).
    ``idempotency=False``: distlab's participants execute every request they receive (the
    course's never keep keys). The faults are placed on the three steps that have a
    compensation (``complete_order``, after the pivot, is retried until it succeeds). The
    simulation stops at ``horizon_s``.

    >>> r = saga_run(fail_step="charge_payment", crash_after_step="reserve_stock")
    >>> r.summary[["compensated", "crashes"]].values.tolist()
    [[1, 1]]
    >>> r.frame.groupby("op").size().to_dict()
    {'action': 3, 'compensation': 3}
    >>> saga_run("course", crash_after_step="reserve_stock").end_states["end_state"].tolist()
    ['half_done']
    """
    params = _run_params(
        driver=driver, orders=orders, idempotency=idempotency, fail_step=fail_step,
        fail_compensation_step=fail_compensation_step, crash_after_step=crash_after_step,
        duplicate=duplicate, loss=loss, log_lost_on_crash=log_lost_on_crash,
        compensation_attempts=compensation_attempts, latency_s=latency_s, timeout_s=timeout_s,
        down_s=down_s, horizon_s=horizon_s, seed=seed,
    )  # fmt: skip
    run = simulate_order_sagas(**params)
    frame, crashes, log_writes = run.attempts(), run.crashes(), run.log_writes()
    ends = run.end_states()
    counts = ends["end_state"].value_counts()
    summary = summary_row(
        params["driver"], "driver", sagas=len(ends),
        **{state: int(counts.get(state, 0)) for state in END_STATES},
        attempts=len(frame), effects=int(frame["effects"].sum()),
        duplicates=int(frame["duplicate"].sum()), tombstones=int(frame["tombstone"].sum()),
        crashes=len(crashes), log_writes=len(log_writes),
    )  # fmt: skip
    return SagaRunResult(
        frame=frame, summary=summary, params=plain_params(**params), crashes=crashes,
        log_writes=log_writes, end_states=ends,
    )  # fmt: skip


def _run_params(**p: Any) -> dict[str, Any]:
    """:func:`saga_run`'s parameters, checked, with the combinations that cannot happen refused."""
    steps = ORDER_STEPS[:-1]  # the steps that have a compensation
    p["driver"] = check_choice("driver", p["driver"], DRIVERS)
    p["orders"] = check_int("orders", p["orders"], 1, _MAX_RUN_ORDERS)
    for flag in ("idempotency", "log_lost_on_crash"):
        p[flag] = check_bool(flag, p[flag])
    for name in ("fail_step", "fail_compensation_step", "crash_after_step"):
        if p[name] is not None:
            check_choice(name, p[name], steps)
    for name in ("duplicate", "loss"):
        p[name] = check_probability(name, p[name])
    p["compensation_attempts"] = check_int(
        "compensation_attempts", p["compensation_attempts"], 1, 10
    )
    p["latency_s"] = check_number("latency_s", p["latency_s"], 0.0, 60.0)
    for name in ("timeout_s", "down_s"):
        p[name] = check_number(name, p[name], 0.0, 600.0, min_inclusive=False)
    p["horizon_s"] = check_number("horizon_s", p["horizon_s"], 0.0, _LONGEST_S, min_inclusive=False)
    p["seed"] = check_seed(p["seed"])
    fail, undo, crash = p["fail_step"], p["fail_compensation_step"], p["crash_after_step"]
    fail_at = ORDER_STEPS.index(fail) if fail is not None else len(ORDER_STEPS)
    if undo is not None and (fail is None or ORDER_STEPS.index(undo) >= fail_at):
        raise ValueError(
            f"fail_compensation_step={undo!r} never runs: a step is undone only when a later "
            f"step fails (fail_step={fail!r}); choose a fail_step after it"
        )
    if crash is not None and ORDER_STEPS.index(crash) >= fail_at:
        raise ValueError(
            f"crash_after_step={crash!r} never happens: the saga stops at fail_step={fail!r} "
            "before that step succeeds; crash after an earlier step"
        )
    return p
