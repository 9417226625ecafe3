"""Hypothesis properties of RetryPolicy's drivers and of RetryBudget, over random scripts of
outcomes, policies, attempt durations and late-waking sleeps (fake time: nothing sleeps)."""

from __future__ import annotations

import asyncio

from hypothesis import example, given, settings
from hypothesis import strategies as st
from retry_fakes import FakeTime, Script

from distlab.retry import ConstantBackoff, ExponentialBackoff, NoBackoff, RetryBudget, RetryPolicy

OUTCOMES = st.sampled_from([ConnectionError, TimeoutError, KeyError, "ok", "busy"])
BACKOFFS = st.one_of(
    st.just(NoBackoff()),
    st.floats(0, 2).map(ConstantBackoff),
    st.builds(
        lambda base, factor, jitter: ExponentialBackoff(
            base=base, cap=base * factor, jitter=jitter
        ),
        st.floats(0, 1),
        st.floats(1, 100),
        st.sampled_from([None, "full", "equal", "decorrelated"]),
    ),
)


@st.composite
def scenarios(draw):
    return {
        "outcomes": draw(st.lists(OUTCOMES, min_size=1, max_size=10)),
        "max_attempts": draw(st.integers(1, 7)),
        "backoff": draw(BACKOFFS),
        "deadline": draw(st.one_of(st.none(), st.floats(0.01, 6))),
        "retry_result": draw(st.booleans()),
        "budget": draw(
            st.one_of(st.none(), st.tuples(thousandths(500, 8000), thousandths(10, 1000)))
        ),
        "duration": draw(st.floats(0, 1)),
        "oversleep": draw(st.sampled_from([0.0, 0.0, 0.05, 0.7])),
        "seed": draw(st.integers(0, 2**32)),
        "use_async": draw(st.booleans()),
    }


def thousandths(low: int, high: int):
    """A float that is a whole number of thousandths (what a RetryBudget counts in)."""
    return st.integers(low, high).map(lambda k: k / 1000)


def run(sc):
    fake = FakeTime(oversleep=sc["oversleep"])
    t0 = fake.now
    fn = Script(sc["outcomes"], fake, duration=sc["duration"])
    budget = None if sc["budget"] is None else RetryBudget(*sc["budget"])
    policy = RetryPolicy(
        max_attempts=sc["max_attempts"],
        backoff=sc["backoff"],
        deadline=sc["deadline"],
        retry_on=(ConnectionError, TimeoutError),
        retry_on_result=(lambda r: r == "busy") if sc["retry_result"] else None,
        budget=budget,
        rng=sc["seed"],
        **fake.policy_kwargs(),
    )
    reasons = []
    policy.subscribe(lambda e: reasons.append(e.reason) if e.kind == "give_up" else None)
    escaped = result = None
    try:
        if sc["use_async"]:
            result = asyncio.run(policy.call(fn.acall))
        else:
            result = policy.call(fn)
    except Exception as exc:
        escaped = exc
    return fake, t0, fn, policy, escaped, result, reasons


def outcome_of(sc, i):
    outcomes = sc["outcomes"]
    return outcomes[min(i, len(outcomes) - 1)]


LATE_WAKEUP = {  # a sleep that wakes up past the deadline: the retry must not start
    "outcomes": [ConnectionError],
    "max_attempts": 2,
    "backoff": NoBackoff(),
    "deadline": 0.03125,
    "retry_result": False,
    "budget": None,
    "duration": 0.0,
    "oversleep": 0.05,
    "seed": 0,
    "use_async": False,
}


@settings(max_examples=300)
@given(scenarios())
@example(LATE_WAKEUP)
@example({**LATE_WAKEUP, "use_async": True})
def test_driver_properties(sc):
    fake, t0, fn, policy, escaped, result, reasons = run(sc)
    n = fn.calls
    # never more than max_attempts calls
    assert 1 <= n <= sc["max_attempts"]
    # never a retry that starts after the deadline (the first attempt starts at t0)
    if sc["deadline"] is not None:
        assert all(start <= t0 + sc["deadline"] for start in fn.starts)
    # a non-matching exception is never retried: it can only be the last outcome
    for i in range(n - 1):
        assert outcome_of(sc, i) is not KeyError
    last = outcome_of(sc, n - 1)
    if isinstance(last, type):
        # the escaping exception is the last one raised, unchanged
        assert escaped is fn.raised[-1] and type(escaped) is last
        assert escaped.retry_attempts == n
        assert len(reasons) == 1
    else:
        assert escaped is None and result == last
    # the stats agree with what happened
    s = policy.metrics()
    assert (s.calls, s.attempts, s.retries) == (1, n, n - 1)
    assert s.successes + s.give_ups == 1
    assert s.total_wait == sum(fake.sleeps) or abs(s.total_wait - sum(fake.sleeps)) < 1e-9
    # one wait before each retry; plus, at most, one that overran the deadline and was not
    # followed by an attempt
    if reasons == ["deadline"] and sc["oversleep"] > 0:
        assert len(fake.sleeps) in (n - 1, n)
    else:
        assert len(fake.sleeps) == n - 1
    if policy.budget is not None:
        assert 0.0 <= policy.budget.tokens <= policy.budget.max_tokens


@given(st.integers(500, 50_000), st.integers(1, 1000), st.lists(st.booleans(), max_size=300))
def test_budget_stays_within_bounds_and_follows_the_rules(max_milli, ratio_milli, events):
    # the model counts thousandths of a token in integers: the budget must be exactly as exact
    budget = RetryBudget(max_milli / 1000, ratio_milli / 1000)
    model = max_milli
    for success in events:
        if success:
            budget.on_success()
            model = min(max_milli, model + ratio_milli)
        else:
            budget.on_failure()
            model = max(0, model - 1000)
        assert 0.0 <= budget.tokens <= budget.max_tokens
        assert budget.tokens == model / 1000
        assert budget.allows_retry() == (2 * model > max_milli)


@given(st.floats(1, 1e12), st.integers(1, 1000), st.integers(0, 50))
def test_no_token_is_lost_to_rounding_at_any_size(max_tokens, ratio_milli, failures):
    max_tokens = round(max_tokens, 3)
    budget = RetryBudget(max_tokens, ratio_milli / 1000)
    for _ in range(failures):
        budget.on_failure()
    assert budget.tokens == max(0, round(max_tokens * 1000) - 1000 * failures) / 1000


@given(
    st.integers(1, 6),
    st.lists(st.sampled_from([ValueError, KeyError, AttributeError]), min_size=1, max_size=6),
)
def test_non_matching_exception_never_retried(max_attempts, raised):
    fake = FakeTime()
    fn = Script(raised, fake)
    policy = RetryPolicy(
        max_attempts=max_attempts, retry_on=ConnectionError, **fake.policy_kwargs()
    )
    try:
        policy.call(fn)
    except (ValueError, KeyError, AttributeError) as exc:
        assert exc is fn.raised[0]
    assert fn.calls == 1 and fake.sleeps == []
