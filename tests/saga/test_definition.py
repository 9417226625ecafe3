"""Saga definitions: step kinds, their order, save-points, and clear errors for bad input."""

from __future__ import annotations

import pytest

from distlab.retry import ExponentialBackoff, RetryPolicy
from distlab.saga import COMPENSATABLE, PIVOT, RETRIABLE, Saga, Step, temporal_retry


def noop(ctx):
    return None


def test_kinds_default_and_commit_position():
    saga = Saga(
        "trip",
        [
            Step("a", action=noop, compensation=noop),
            Step("b", action=noop, compensation=noop),
            Step("pay", action=noop, kind=PIVOT),
            Step("mail", action=noop, kind=RETRIABLE),
        ],
    )
    assert [s.kind for s in saga.steps] == [COMPENSATABLE, COMPENSATABLE, PIVOT, RETRIABLE]
    assert saga.commit_position == 3
    assert len(saga) == 4 and saga.index["pay"] == 2
    assert "trip" in repr(saga)


def test_commit_position_without_a_pivot():
    only_compensatable = Saga("c", [Step("a", action=noop), Step("b", action=noop)])
    assert only_compensatable.commit_position == 2  # committed once everything is done
    forward = Saga("f", [Step("a", action=noop), Step("r", action=noop, kind=RETRIABLE)])
    assert forward.commit_position == 1
    pure_forward = Saga("p", [Step("r", action=noop, kind=RETRIABLE)])
    assert pure_forward.commit_position == 0


def test_no_steps():
    with pytest.raises(ValueError, match=r"steps=\[\] must hold at least one Step"):
        Saga("empty", [])


def test_duplicate_step_names():
    with pytest.raises(ValueError, match="step name 'a' is used twice .step 1 and step 3."):
        Saga("d", [Step("a", action=noop), Step("b", action=noop), Step("a", action=noop)])


def test_compensation_not_callable():
    with pytest.raises(TypeError, match="step 'x': compensation=42 must be callable"):
        Step("x", action=noop, compensation=42)


def test_action_not_callable():
    with pytest.raises(TypeError, match="step 'x': action='go' must be callable"):
        Step("x", action="go")


def test_compensatable_step_after_the_pivot():
    with pytest.raises(
        ValueError, match="step 'refund' is compensatable but comes after the pivot"
    ):
        Saga("o", [Step("pay", action=noop, kind=PIVOT), Step("refund", action=noop)])


def test_compensatable_step_after_a_retriable_one():
    with pytest.raises(ValueError, match="'b' is compensatable but comes after the retriable"):
        Saga("o", [Step("a", action=noop, kind=RETRIABLE), Step("b", action=noop)])


def test_pivot_after_a_retriable_step():
    with pytest.raises(ValueError, match="'p' is pivot but comes after the retriable step 'r'"):
        Saga("o", [Step("r", action=noop, kind=RETRIABLE), Step("p", action=noop, kind=PIVOT)])


def test_two_pivots():
    with pytest.raises(ValueError, match="step 'q' is a second pivot .step 1 is one."):
        Saga("o", [Step("p", action=noop, kind=PIVOT), Step("q", action=noop, kind=PIVOT)])


def test_retriable_step_with_a_compensation_that_can_never_run():
    with pytest.raises(ValueError, match="step 'mail': a retriable step is never compensated"):
        Step("mail", action=noop, compensation=noop, kind=RETRIABLE)


def test_unknown_kind():
    with pytest.raises(ValueError, match="step 'x': kind='maybe' must be one of 'compensatable'"):
        Step("x", action=noop, kind="maybe")


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_step_name(name):
    with pytest.raises(TypeError, match="name=.* must be a non-empty string"):
        Step(name, action=noop)


def test_bad_saga_name_and_steps():
    with pytest.raises(TypeError, match="name='' must be a non-empty string"):
        Saga("", [Step("a", action=noop)])
    with pytest.raises(TypeError, match="steps='ab' must be a list of Step"):
        Saga("s", "ab")
    with pytest.raises(TypeError, match="steps: step 2 is 'b', it must be a Step"):
        Saga("s", [Step("a", action=noop), "b"])


def test_retry_policies_are_checked():
    with pytest.raises(TypeError, match="step 'a': retry=3 must be a RetryPolicy or None"):
        Step("a", action=noop, retry=3)
    with pytest.raises(TypeError, match="compensation_retry='x' must be a RetryPolicy or None"):
        Saga("s", [Step("a", action=noop)], compensation_retry="x")


def test_default_policies():
    fast = RetryPolicy(max_attempts=2)
    saga = Saga(
        "s",
        [
            Step("a", action=noop, compensation=noop),
            Step("b", action=noop, compensation=noop, retry=fast, compensation_retry=fast),
            Step("p", action=noop, kind=PIVOT),
            Step("r", action=noop, kind=RETRIABLE),
        ],
    )
    assert saga.action_retry(0).max_attempts == 1  # compensatable: a failure is compensated
    assert saga.action_retry(1) is fast
    assert saga.action_retry(2).max_attempts == 1  # the pivot: go/no-go
    assert saga.action_retry(3) is saga.retry  # retriable: Temporal's default
    assert saga.compensation_policy(0) is saga.compensation_retry
    assert saga.compensation_policy(1) is fast


def test_temporal_default():
    policy = temporal_retry()
    assert policy.backoff == ExponentialBackoff(base=1.0, cap=100.0)
    assert policy.max_attempts > 10**15  # unlimited, for all practical purposes
    assert Saga("s", [Step("a", action=noop)]).compensation_retry.backoff == policy.backoff


def test_save_points():
    steps = [Step(n, action=noop) for n in ("T1", "T2", "T3")]
    assert Saga("s", steps).save_points == frozenset({0, 1, 2, 3})
    assert Saga("s", steps, save_points=()).save_points == frozenset()
    assert Saga("s", steps, save_points=("T1", "T3")).save_points == frozenset({1, 3})
    with pytest.raises(ValueError, match="save_points: 'T9' is not a step of this saga"):
        Saga("s", steps, save_points=["T9"])
    with pytest.raises(TypeError, match="save_points='some' must be 'every' or a tuple"):
        Saga("s", steps, save_points="some")


def test_async_steps_are_recognised():
    async def go(ctx):
        return 1

    class Callable:
        async def __call__(self, ctx):
            return 2

    assert Step("a", action=go).is_async
    assert Step("b", action=noop, compensation=Callable()).is_async
    assert not Step("c", action=noop).is_async
    assert Saga("s", [Step("a", action=go)]).is_async
