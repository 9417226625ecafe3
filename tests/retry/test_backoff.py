"""The delay formulas of REFERENCES.md ("Retries, backoff and jitter"): exactly for the
deterministic kinds, statistically (a two-sided Kolmogorov-Smirnov test written here, numpy
only) for the jittered ones. Each statistical check is also shown to reject a wrong formula."""

from __future__ import annotations

import math
import random
from itertools import islice

import numpy as np
import pytest

from distlab.retry import Backoff, ConstantBackoff, ExponentialBackoff, NoBackoff, RetryPolicy

SAMPLES = 20_000
ALPHA = 1e-3  # with fixed seeds the outcome is deterministic; ALPHA only sets the threshold


# -- a Kolmogorov-Smirnov test against U(0, 1) --------------------------------------------------


def ks_statistic(u: np.ndarray) -> float:
    """D_n = sup |F_n(x) - x| for a sample ``u`` that should be U(0, 1)."""
    u = np.sort(np.asarray(u, dtype=float))
    n = len(u)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))


def ks_critical(n: int, alpha: float = ALPHA) -> float:
    """Asymptotic two-sided critical value c(alpha) / sqrt(n), c = sqrt(-ln(alpha/2) / 2)."""
    return math.sqrt(-math.log(alpha / 2) / 2) / math.sqrt(n)


def is_uniform(u: np.ndarray) -> bool:
    u = np.asarray(u, dtype=float)
    assert np.all((u >= 0) & (u <= 1)), "a probability-integral transform left [0, 1]"
    return ks_statistic(u) <= ks_critical(len(u))


def test_ks_check_accepts_uniform_and_rejects_others():
    rng = np.random.default_rng(1)
    assert is_uniform(rng.random(SAMPLES))
    assert not is_uniform(rng.beta(1.1, 1.0, SAMPLES))  # a mild tilt
    assert not is_uniform(0.98 * rng.random(SAMPLES))  # 2 % too narrow
    assert not is_uniform(np.sqrt(rng.random(SAMPLES)))
    # the statistic itself, on a case worked by hand: {0.5}: D = max(1 - 0.5, 0.5 - 0) = 0.5
    assert ks_statistic(np.array([0.5])) == 0.5
    assert ks_statistic(np.array([0.25, 0.75])) == pytest.approx(0.25)


# -- exact formulas -----------------------------------------------------------------------------


def test_no_backoff_is_zero():
    assert [NoBackoff().delay(n, None, None) for n in (1, 2, 50, 10**9)] == [0.0] * 4


def test_constant_backoff():
    b = ConstantBackoff(0.25)
    assert [b.delay(n, 0.25, None) for n in (1, 2, 7, 10**6)] == [0.25] * 4
    assert ConstantBackoff(0).delay(1, None, None) == 0.0


@pytest.mark.parametrize("base", [0.001, 0.1, 1.0, 3.0])
def test_exponential_doubles_from_base(base):
    b = ExponentialBackoff(base=base)
    assert [b.delay(n, None, None) for n in range(1, 12)] == [
        base * 2.0 ** (n - 1) for n in range(1, 12)
    ]


def test_exponential_first_retry_waits_base_and_course_text_delays():
    # the course text: 3 attempts, base 1 s, no jitter -> two waits, 1 s and 2 s
    assert list(RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=1.0)).delays()) == [
        1.0,
        2.0,
    ]


def test_exponential_cap():
    b = ExponentialBackoff(base=0.1, cap=1.0)
    expected = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    assert [b.delay(n, None, None) for n in range(1, 8)] == expected
    # the cap can equal the base: constant from the start
    assert [ExponentialBackoff(base=2.0, cap=2.0).delay(n, None, None) for n in (1, 5)] == [
        2.0,
        2.0,
    ]


@pytest.mark.parametrize("n", [1100, 5000, 10**6, 10**30])
def test_huge_n_does_not_overflow(n):
    assert ExponentialBackoff(base=0.5, cap=30.0).delay(n, None, None) == 30.0
    assert ExponentialBackoff(base=0.5, cap=math.inf).delay(n, None, None) == math.inf
    assert ExponentialBackoff(base=0.5).delay(n, None, None) == math.inf  # no cap: unbounded
    full = ExponentialBackoff(base=0.5, cap=30.0, jitter="full").delay(
        n, None, np.random.default_rng(0)
    )
    assert 0.0 <= full <= 30.0


def test_exponential_is_exact_near_the_float_limits():
    # 2^1099 times the smallest subnormal is a plain float: no premature jump to the cap
    assert ExponentialBackoff(base=5e-324).delay(1100, None, None) == 2.0**25
    assert ExponentialBackoff(base=1.0).delay(1024, None, None) == 2.0**1023
    assert ExponentialBackoff(base=1.0).delay(1025, None, None) == math.inf
    assert ExponentialBackoff(base=0.0, cap=1.0).delay(10**6, None, None) == 0.0


def test_backoff_delays_iterator():
    assert list(islice(ExponentialBackoff(base=1.0, cap=5.0).delays(None), 5)) == [1, 2, 4, 5, 5]


# -- jittered formulas, statistically -------------------------------------------------------------

BASE, CAP = 0.1, 2.0  # v_n = 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0


def v(n: int) -> float:
    return min(CAP, BASE * 2 ** (n - 1))


class WrongFull(Backoff):
    """A plausible bug: full jitter over U(0, 0.97 v_n), 3 % short of the formula."""

    def delay(self, n, previous, rng):
        return float(rng.uniform(0.0, 0.97 * v(n)))


class WrongEqual(Backoff):
    """A plausible bug: equal jitter as v_n/2 + U(0, v_n) (the whole range added to the half)."""

    def delay(self, n, previous, rng):
        return v(n) / 2 + float(rng.uniform(0.0, v(n)))


class WrongDecorrelated(Backoff):
    """A plausible bug: decorrelated jitter drawing U(base, 3 * base) (no memory of s_(n-1))."""

    def delay(self, n, previous, rng):
        return min(CAP, float(rng.uniform(BASE, 3.0 * BASE)))


def full_pit(backoff: Backoff, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([backoff.delay(n, None, rng) for _ in range(SAMPLES)]) / v(n)


def equal_pit(backoff: Backoff, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    half = v(n) / 2
    d = np.array([backoff.delay(n, None, rng) for _ in range(SAMPLES)])
    return (d - half) / half


@pytest.mark.parametrize("n", [1, 3, 5, 6, 40])
def test_full_jitter_is_uniform_on_0_vn(n):
    b = ExponentialBackoff(base=BASE, cap=CAP, jitter="full")
    assert is_uniform(full_pit(b, n, seed=n))


@pytest.mark.parametrize("n", [1, 3, 6])
def test_equal_jitter_is_uniform_on_half_vn_to_vn(n):
    b = ExponentialBackoff(base=BASE, cap=CAP, jitter="equal")
    assert is_uniform(equal_pit(b, n, seed=100 + n))


def test_wrong_jitter_formulas_are_rejected():
    assert not is_uniform(np.clip(full_pit(WrongFull(), 3, seed=3), 0, 1))
    assert not is_uniform(np.clip(equal_pit(WrongEqual(), 3, seed=3), 0, 1))
    # and the right ones for the other kind are rejected too: the checks discriminate
    full = ExponentialBackoff(base=BASE, cap=CAP, jitter="full")
    assert not is_uniform(np.clip(equal_pit(full, 3, seed=3), 0, 1))


def decorrelated_pit(
    backoff: Backoff, cap: float, seed: int, chains: int = 2000, steps: int = 10
) -> np.ndarray:
    """Probability-integral transform of every s_n given s_(n-1), along many chains.

    Given s_(n-1) = p, s_n = min(cap, U(base, 3p)): F(x) = (x - base) / (3p - base) below the
    cap, with an atom at the cap; an atom is mapped to U(F(cap), 1) (randomized PIT), so that
    under the right formula every transformed value is U(0, 1), independently."""
    rng = np.random.default_rng(seed)
    tie_rng = np.random.default_rng(seed + 1)
    out = []
    for _ in range(chains):
        previous = None
        for n in range(1, steps + 1):
            s = backoff.delay(n, previous, rng)
            p = BASE if previous is None else previous
            assert BASE <= s <= min(cap, 3 * p) + 1e-12  # s_n within [base, min(cap, 3 s_(n-1))]
            width = 3 * p - BASE
            if s >= cap:
                low = (cap - BASE) / width
                out.append(tie_rng.uniform(low, 1.0) if low < 1 else tie_rng.uniform(0.0, 1.0))
            else:
                out.append((s - BASE) / width)
            previous = s
    return np.array(out)


def test_decorrelated_without_cap_is_uniform_given_previous():
    b = ExponentialBackoff(base=BASE, cap=None, jitter="decorrelated")
    assert is_uniform(decorrelated_pit(b, math.inf, seed=7, steps=8))


def test_decorrelated_with_cap_is_uniform_given_previous():
    b = ExponentialBackoff(base=BASE, cap=CAP, jitter="decorrelated")
    u = decorrelated_pit(b, CAP, seed=8)
    assert is_uniform(u)


def test_decorrelated_wrong_formula_is_rejected():
    u = decorrelated_pit(WrongDecorrelated(), CAP, seed=8)
    assert not is_uniform(np.clip(u, 0, 1))


def test_decorrelated_starts_from_base_and_reaches_cap():
    b = ExponentialBackoff(base=BASE, cap=CAP, jitter="decorrelated")
    rng = np.random.default_rng(3)
    first = np.array([b.delay(1, None, rng) for _ in range(SAMPLES)])
    assert first.min() >= BASE and first.max() <= 3 * BASE
    assert is_uniform((first - BASE) / (2 * BASE))  # s_1 ~ U(base, 3 base)
    chain = list(islice(b.delays(rng), 60))
    assert max(chain) == CAP  # capped, and it gets there


def test_any_uniform_source_works():
    b = ExponentialBackoff(base=1.0, cap=8.0, jitter="full")
    assert 0 <= b.delay(2, None, random.Random(4)) <= 2.0  # random.Random has .uniform
    r = random.Random(5)
    assert is_uniform(np.array([b.delay(3, None, r) for _ in range(SAMPLES)]) / 4.0)
