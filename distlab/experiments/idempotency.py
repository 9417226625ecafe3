"""Retrying a payment: double charges without an idempotency key, none with one (notebook 02).

A client pays through a service with a timeout and retries. A timed-out attempt may have been
charged already (notebook 01: a timeout means "unknown"), so each retry can charge again. With an
idempotency key, the server remembers the keys it has seen and answers a repeated request with the
first answer instead of charging again: retries become safe.

>>> from distlab.experiments.idempotency import retried_payments
>>> without = retried_payments(seed=1)
>>> with_keys = retried_payments(idempotency_keys=True, seed=1)
>>> int((without["charges"] > 1).sum()) > 0, int((with_keys["charges"] > 1).sum())
(True, 0)
"""

from __future__ import annotations

import pandas as pd

from distlab._validate import check_int, check_number, check_probability, check_seed
from distlab.retry import ConstantBackoff, RetryPolicy
from distlab.sim import Constant, Exponential, Network, Service, World, retry_call

__all__ = ["retried_payments"]


def retried_payments(
    payments: int = 200,
    *,
    idempotency_keys: bool = False,
    attempts: int = 3,
    timeout_s: float = 0.5,
    retry_wait_s: float = 0.2,
    mean_service_s: float = 0.25,
    loss: float = 0.05,
    latency_s: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """Make ``payments`` payments, each retried up to ``attempts`` times; count the charges.

    The service's work takes Exponential(``mean_service_s``) seconds; each message is lost with
    probability ``loss``; the client waits ``timeout_s`` for an answer and ``retry_wait_s`` before
    retrying. With ``idempotency_keys`` every attempt of a payment carries the same key and the
    server charges a key once. One row per payment: ``payment, outcome`` (what the client finally
    saw: ``ok``, ``error`` or ``timeout``), ``attempts``, ``charges`` (times the card was charged)
    and ``verdict``: ``"charged once"``, ``"charged twice or more"``, ``"not charged"`` (the client
    saw a failure and nothing happened: fine) or ``"charged, client saw failure"`` (the client
    gave up, yet the money was taken).
    """
    payments = check_int("payments", payments, 1, 100_000)
    attempts = check_int("attempts", attempts, 1, 20)
    timeout_s = check_number("timeout_s", timeout_s, 0.0, min_inclusive=False)
    retry_wait_s = check_number("retry_wait_s", retry_wait_s, 0.0)
    mean_service_s = check_number("mean_service_s", mean_service_s, 0.0, min_inclusive=False)
    loss = check_probability("loss", loss)
    latency_s = check_number("latency_s", latency_s, 0.0)
    seed = check_seed(seed)
    if not isinstance(idempotency_keys, bool):
        raise TypeError(f"idempotency_keys={idempotency_keys!r} must be True or False")

    world = World(seed=seed)
    net = Network(world, latency=Constant(latency_s), loss=loss)
    net.add_node("client")
    charges = [0] * payments
    answered: dict[str, int] = {}  # idempotency key -> the payment it charged

    def charge(request):
        payment, key = request.body
        if key is not None and key in answered:
            return answered[key]  # seen before: the first answer again, no new charge
        charges[payment] += 1
        if key is not None:
            answered[key] = payment
        return payment

    Service(net, "payments", service_time=Exponential(mean_service_s), handler=charge)
    policy = RetryPolicy(max_attempts=attempts, backoff=ConstantBackoff(retry_wait_s))
    rows: list[tuple[int, str, int]] = []

    def client():
        for payment in range(payments):
            key = f"payment-{payment}" if idempotency_keys else None
            tries = []
            result = yield retry_call(
                net,
                "client",
                "payments",
                (payment, key),
                timeout_s,
                policy,
                on_attempt=lambda n, attempt_result, decision: tries.append(n),
            )
            rows.append((payment, result.outcome, len(tries)))

    world.env.process(client())
    world.run()
    table = pd.DataFrame(rows, columns=["payment", "outcome", "attempts"])
    table["charges"] = [charges[p] for p in table["payment"]]
    ok = table["outcome"] == "ok"
    table["verdict"] = "charged once"
    table.loc[table["charges"] > 1, "verdict"] = "charged twice or more"
    table.loc[~ok & (table["charges"] == 0), "verdict"] = "not charged"
    table.loc[~ok & (table["charges"] == 1), "verdict"] = "charged, client saw failure"
    return table
