"""RetryBudget: gRPC retry throttling (proposal A6) as REFERENCES.md states it: the token count
starts at max_tokens, stays within [0, max_tokens], loses 1 per failed attempt, gains token_ratio
per success, and retries are allowed only while it is above max_tokens / 2."""

from __future__ import annotations

import threading

import pytest
from retry_fakes import FakeTime, Script

from distlab.retry import NoBackoff, RetryBudget, RetryPolicy


def test_starts_full():
    assert RetryBudget().tokens == 10.0
    assert RetryBudget(max_tokens=4, token_ratio=0.5).tokens == 4.0
    assert RetryBudget().allows_retry()


def test_failures_take_one_token_and_floor_at_zero():
    b = RetryBudget(max_tokens=3, token_ratio=0.1)
    seen = []
    for _ in range(5):
        b.on_failure()
        seen.append(b.tokens)
    assert seen == [2.0, 1.0, 0.0, 0.0, 0.0]


def test_successes_give_token_ratio_and_cap_at_max():
    b = RetryBudget(max_tokens=10, token_ratio=0.25)
    b.on_success()
    assert b.tokens == 10.0  # already full
    for _ in range(4):
        b.on_failure()
    assert b.tokens == 6.0
    b.on_success()
    assert b.tokens == 6.25
    for _ in range(100):
        b.on_success()
    assert b.tokens == 10.0


def test_threshold_is_strictly_above_half():
    b = RetryBudget(max_tokens=10, token_ratio=0.5)
    for _ in range(4):
        b.on_failure()
    assert b.tokens == 6.0 and b.allows_retry()
    b.on_failure()
    assert b.tokens == 5.0 and not b.allows_retry()  # at half: no retries
    b.on_success()
    assert b.tokens == 5.5 and b.allows_retry()


def test_grpc_example_max_10_ratio_point_1():
    # A6's example: 10 tokens, ratio 0.1. The 5th failure in a row brings the count to 5, half of
    # max_tokens: retries stop. One success (5.1) lets them through again; 2 more failures (3.1)
    # stop them, and it then takes 20 successes (about 5.1 again) to reopen.
    b = RetryBudget(10, 0.1)
    for _ in range(4):
        b.on_failure()
    assert b.tokens == 6.0 and b.allows_retry()
    b.on_failure()
    assert b.tokens == 5.0 and not b.allows_retry()
    b.on_success()
    assert b.tokens == pytest.approx(5.1) and b.allows_retry()
    for _ in range(2):
        b.on_failure()
    assert b.tokens == pytest.approx(3.1) and not b.allows_retry()
    for _ in range(18):
        b.on_success()
    assert b.tokens == pytest.approx(4.9) and not b.allows_retry()
    for _ in range(2):
        b.on_success()
    assert b.tokens == pytest.approx(5.1) and b.allows_retry()


def test_a_refused_retry_gives_up_with_reason_budget():
    fake = FakeTime()
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)  # threshold 2
    policy = RetryPolicy(
        max_attempts=10, backoff=NoBackoff(), budget=budget, **fake.policy_kwargs()
    )
    fn = Script([ConnectionError], fake)
    with pytest.raises(ConnectionError) as info:
        policy.call(fn)
    # 4 -> 3 (retry), 3 -> 2 (at half: refused)
    reasons = [(e.attempt, e.reason) for e in policy.events() if e.kind == "give_up"]
    assert fn.calls == 2 and reasons == [(2, "budget")]
    assert budget.tokens == 2.0
    assert "(budget)" in info.value.__notes__[-1]


def test_successes_through_a_policy_refill_the_budget():
    fake = FakeTime()
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    policy = RetryPolicy(max_attempts=3, backoff=NoBackoff(), budget=budget, **fake.policy_kwargs())
    assert policy.call(Script([OSError, "ok"], fake)) == "ok"  # -1 + 0.5
    assert budget.tokens == 3.5
    assert policy.call(Script(["ok"], fake)) == "ok"  # the fast path counts too
    assert budget.tokens == 4.0


def test_shared_between_two_policies():
    fake = FakeTime()
    budget = RetryBudget(max_tokens=6, token_ratio=0.1)  # threshold 3
    a = RetryPolicy(max_attempts=3, backoff=NoBackoff(), budget=budget, **fake.policy_kwargs())
    b = RetryPolicy(max_attempts=3, backoff=NoBackoff(), budget=budget, **fake.policy_kwargs())
    assert a.budget is b.budget
    fa = Script([OSError], fake)
    with pytest.raises(OSError):
        a.call(fa)  # 6 -> 5 -> 4 -> 3: two retries, then out of attempts
    assert fa.calls == 3 and budget.tokens == 3.0
    fb = Script([OSError, "ok"], fake)
    with pytest.raises(OSError):
        b.call(fb)  # b's first failure: 3 -> 2, and the budget refuses b's retry
    assert fb.calls == 1 and budget.tokens == 2.0
    assert b.metrics().give_ups == 1


def test_thread_safe_counting():
    b = RetryBudget(max_tokens=1000, token_ratio=1.0)
    for _ in range(500):
        b.on_failure()  # 500 tokens

    def work():
        for _ in range(1000):
            b.on_failure()
            b.on_success()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.tokens == 500.0  # every -1 matched by a +1, none lost


def test_a_failure_the_policy_does_not_retry_costs_no_token():
    """gRPC A6: only failures with a retryable status count against the budget."""
    budget = RetryBudget(max_tokens=10, token_ratio=0.1)
    policy = RetryPolicy(
        max_attempts=3, backoff=NoBackoff(), retry_on=ConnectionError, budget=budget
    )

    def malformed():
        raise ValueError("bad request")

    for _ in range(20):
        with pytest.raises(ValueError):
            policy.call(malformed)
    assert budget.tokens == 10
    assert budget.allows_retry()
