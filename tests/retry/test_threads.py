"""One policy used from many threads at once: statistics exact, the RNG shared safely.

The thread switch interval is made tiny during these tests so that threads interleave inside
the driver far more often than they would by default (a lost update would show)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from distlab.retry import ExponentialBackoff, RetryBudget, RetryPolicy

THREADS = 16
CALLS = 500
BASE, CAP = 0.001, 0.05


@pytest.fixture(autouse=True)
def busy_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def failures_before_success(thread: int, call: int) -> int:
    """How many times call ``call`` of thread ``thread`` fails first (5 = it never succeeds)."""
    k = thread * CALLS + call
    if k % 11 == 0:
        return 5
    return k % 4  # 0, 1, 2 or 3 failures


def run_threads(policy: RetryPolicy, max_attempts: int):
    errors: list[BaseException] = []
    outcomes = {"ok": 0, "gave_up": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        local_ok = local_fail = 0
        barrier.wait()
        for c in range(CALLS):
            left = [failures_before_success(t, c)]

            def fn(left=left, t=t, c=c):
                if left[0] > 0:
                    left[0] -= 1
                    raise ConnectionError(f"{t}/{c}")
                return (t, c)

            try:
                assert policy.call(fn) == (t, c)
                local_ok += 1
            except ConnectionError:
                local_fail += 1
            except BaseException as exc:
                errors.append(exc)
        with lock:
            outcomes["ok"] += local_ok
            outcomes["gave_up"] += local_fail

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    return outcomes


def expected_counts(max_attempts: int) -> dict[str, int]:
    attempts = successes = 0
    for t in range(THREADS):
        for c in range(CALLS):
            f = failures_before_success(t, c)
            if f < max_attempts:
                attempts += f + 1
                successes += 1
            else:
                attempts += max_attempts
    calls = THREADS * CALLS
    return {
        "calls": calls,
        "attempts": attempts,
        "retries": attempts - calls,
        "successes": successes,
        "give_ups": calls - successes,
    }


def test_stats_exact_under_16_threads():
    sleeps: list[float] = []
    policy = RetryPolicy(
        max_attempts=4, backoff=ExponentialBackoff(BASE, CAP, "full"), rng=2024, sleep=sleeps.append
    )
    outcomes = run_threads(policy, 4)
    s = policy.metrics()
    want = expected_counts(4)
    assert {k: getattr(s, k) for k in want} == want
    assert outcomes == {"ok": want["successes"], "gave_up": want["give_ups"]}
    assert len(sleeps) == want["retries"]
    assert s.total_wait == pytest.approx(sum(sleeps), rel=1e-9)


def test_shared_rng_loses_and_repeats_no_draw():
    # Full jitter draws U(0, v_n) = v_n * u with u the generator's next double; recover every u
    # from the waits (each retry event tells n) and compare with the generator's own stream: no
    # draw is repeated or skipped. (numpy guards its bit generator itself;
    # test_the_policy_serializes_its_rng below uses a source that needs the policy's lock.)
    draws: list[float] = []
    policy = RetryPolicy(
        max_attempts=4,
        backoff=ExponentialBackoff(BASE, CAP, "full"),
        rng=7,
        sleep=lambda d: None,
    )
    policy.subscribe(
        lambda e: (
            draws.append(e.delay / min(CAP, BASE * 2 ** (e.attempt - 1)))
            if e.kind == "retry"
            else None
        )
    )
    run_threads(policy, 4)
    assert len(draws) == policy.metrics().retries
    stream = np.random.default_rng(7).random(len(draws))
    np.testing.assert_allclose(np.sort(draws), np.sort(stream), rtol=1e-12, atol=0)


def test_shared_budget_and_policy_under_threads():
    # every success refunds 1 token and every failed attempt takes 1; a bucket far from both
    # bounds makes the final count exact arithmetic, whatever the interleaving
    budget = RetryBudget(max_tokens=1e9, token_ratio=1.0)
    for _ in range(10_000):
        budget.on_failure()
    policy = RetryPolicy(
        max_attempts=3,
        backoff=ExponentialBackoff(BASE, CAP, "equal"),
        rng=1,
        sleep=lambda d: None,
        budget=budget,
    )
    run_threads(policy, 3)
    s = policy.metrics()
    assert s.calls == THREADS * CALLS
    assert budget.tokens == 1e9 - 10_000 - (s.attempts - s.successes) + s.successes


class UnsafeSource:
    """A uniform source that is not thread-safe by itself (a read-modify-write with a thread
    switch in the middle, as pure-Python generators have): u_k = k / 2^20 for the k-th draw."""

    def __init__(self) -> None:
        self.k = 0

    def uniform(self, low: float, high: float) -> float:
        k = self.k
        sys.modules["time"].sleep(0)  # invite a switch between the read and the write
        self.k = k + 1
        return low + (high - low) * (k / 2**20)


def test_the_policy_serializes_its_rng():
    source = UnsafeSource()
    draws: list[float] = []
    policy = RetryPolicy(
        max_attempts=4,
        backoff=ExponentialBackoff(1.0, None, "full"),
        rng=source,
        sleep=lambda d: None,
    )
    policy.subscribe(
        lambda e: draws.append(e.delay / 2 ** (e.attempt - 1)) if e.kind == "retry" else None
    )
    run_threads(policy, 4)
    k = sorted(round(u * 2**20) for u in draws)
    assert k == list(range(len(draws)))  # every draw distinct, none skipped
