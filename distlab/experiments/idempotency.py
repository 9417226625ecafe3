"""Retrying a payment: double charges without an idempotency key, none with one (notebook 02).

A client pays through a service with a timeout and retries. A timed-out attempt may have been
charged already (notebook 01: a timeout means "unknown"), so each retry can charge again. With an
idempotency key, the server remembers the keys it has seen and answers a repeated request with the
first answer instead of charging again: retries become safe.

>>> from distlab.experiments.idempotency import retried_payments
>>> result = retried_payments(seed=1)
>>> result.summary["charged_twice_or_more"].tolist()   # no key, idempotency key
[36, 0]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from distlab import outcomes
from distlab._validate import check_choice, check_int, check_number, check_probability, check_seed
from distlab.experiments.result import Result, plain_params
from distlab.retry import ConstantBackoff, RetryEvent, RetryPolicy
from distlab.sim import CallResult, Constant, Exponential, Network, Service, World, retry_call

__all__ = ["IDEMPOTENCY_VARIANTS", "VERDICTS", "RetriedPaymentsResult", "retried_payments"]

#: The two runs of :func:`retried_payments`: without and with an idempotency key.
IDEMPOTENCY_VARIANTS = ("no key", "idempotency key")
#: What became of a payment, in legend order.
VERDICTS = ("charged once", "not charged", "charged, client saw failure", "charged twice or more")

_LONGEST_S = 3600.0


@dataclass(frozen=True)
class RetriedPaymentsResult(Result):
    """What :func:`retried_payments` returns.

    ``frame``: one row per payment and variant: ``variant``, ``payment``, ``outcome`` (what the
    client finally saw: ``ok``, ``error`` or ``timeout``), ``attempts``, ``charges`` (times the
    card was charged) and ``verdict`` (:data:`VERDICTS`): ``"charged once"``, ``"charged twice
    or more"``, ``"not charged"`` (the client saw a failure and nothing happened: fine) or
    ``"charged, client saw failure"`` (the client gave up, yet the money was taken).

    ``summary``: per variant: ``payments``, ``attempts``, and the number of payments with each
    verdict (``charged_once``, ``not_charged``, ``charged_client_saw_failure``,
    ``charged_twice_or_more``).
    """


def retried_payments(
    variants: Iterable[str] | str = IDEMPOTENCY_VARIANTS,
    *,
    payments: int = 200,
    max_attempts: int = 3,
    timeout_s: float = 0.5,
    delay_s: float = 0.2,
    service_time_s: float = 0.25,
    loss: float = 0.05,
    latency_s: float = 0.01,
    seed: int = 0,
) -> RetriedPaymentsResult:
    """Make ``payments`` payments, each retried up to ``max_attempts`` times; count the charges.

    The service's work takes Exponential(``service_time_s``) seconds; each message is lost with
    probability ``loss``; the client waits ``timeout_s`` for an answer and ``delay_s`` before
    retrying (a ``ConstantBackoff``). In the ``"idempotency key"`` variant every attempt of a
    payment carries the same key and the server charges a key once. Each variant runs in its
    own world with the same seed: the network does the same to both.

    >>> s = retried_payments(payments=50, seed=2).summary
    >>> int(s.loc["idempotency key", "charged_twice_or_more"])
    0
    """
    if isinstance(variants, str):
        variants = (variants,)
    if not isinstance(variants, Iterable):
        raise TypeError(
            f"variants={variants!r} must be a list of names from {IDEMPOTENCY_VARIANTS}"
        )
    names = tuple(variants)
    if not names:
        raise ValueError(f"variants=() is empty: give at least one of {IDEMPOTENCY_VARIANTS}")
    for name in names:
        check_choice("variants item", name, IDEMPOTENCY_VARIANTS)
    params = plain_params(
        variants=names,
        payments=check_int("payments", payments, 1, 100_000),
        max_attempts=check_int("max_attempts", max_attempts, 1, 20),
        timeout_s=check_number("timeout_s", timeout_s, 0.0, _LONGEST_S, min_inclusive=False),
        delay_s=check_number("delay_s", delay_s, 0.0, _LONGEST_S),
        service_time_s=check_number(
            "service_time_s", service_time_s, 0.0, _LONGEST_S, min_inclusive=False
        ),  # fmt: skip
        loss=check_probability("loss", loss),
        latency_s=check_number("latency_s", latency_s, 0.0, _LONGEST_S),
        seed=check_seed(seed),
    )
    frame = pd.concat([_run(params, name) for name in names], ignore_index=True)
    return RetriedPaymentsResult(frame=frame, summary=_summary(frame), params=params)


def _run(p: dict, variant: str) -> pd.DataFrame:
    world = World(seed=p["seed"])
    net = Network(world, latency=Constant(p["latency_s"]), loss=p["loss"])
    net.add_node("client")
    charges = [0] * p["payments"]
    answered: dict[str, int] = {}  # idempotency key -> the payment it charged
    keyed = variant == "idempotency key"

    def charge(request):
        payment, key = request.body
        if key is not None and key in answered:
            return answered[key]  # seen before: the first answer again, no new charge
        charges[payment] += 1
        if key is not None:
            answered[key] = payment
        return payment

    Service(net, "payments", service_time=Exponential(p["service_time_s"]), handler=charge)
    policy = RetryPolicy(p["max_attempts"], ConstantBackoff(p["delay_s"]), name="client")
    events: list[RetryEvent] = []
    policy.subscribe(events.append)
    finals: list[CallResult] = []

    def client():
        for payment in range(p["payments"]):  # one after the other: call k is payment k - 1
            key = f"payment-{payment}" if keyed else None
            finals.append((yield retry_call(net, "client", "payments", (payment, key),
                                            timeout_s=p["timeout_s"], retry=policy)))  # fmt: skip

    world.env.process(client())
    world.run()
    attempts = [1] * p["payments"]
    for e in events:
        attempts[e.call - 1] = max(attempts[e.call - 1], e.attempt)
    table = pd.DataFrame(
        {
            "variant": variant,
            "payment": range(p["payments"]),
            "outcome": [r.outcome for r in finals],
            "attempts": attempts,
            "charges": charges,
        }
    )
    ok = table["outcome"] == outcomes.OK
    table["verdict"] = "charged once"
    table.loc[table["charges"] > 1, "verdict"] = "charged twice or more"
    table.loc[~ok & (table["charges"] == 0), "verdict"] = "not charged"
    table.loc[~ok & (table["charges"] == 1), "verdict"] = "charged, client saw failure"
    return table


def _summary(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby("variant", sort=False)
    counts = pd.crosstab(frame["variant"], frame["verdict"]).reindex(
        index=list(grouped.groups), columns=list(VERDICTS), fill_value=0
    )
    counts.columns = [v.replace(",", "").replace(" ", "_") for v in VERDICTS]
    summary = pd.concat(
        [grouped.agg(payments=("payment", "size"), attempts=("attempts", "sum")), counts], axis=1
    )
    summary.index.name = "variant"
    return summary.astype(int)
