"""The simulated retry driver: retry_call runs a RetryPolicy in simulated time."""

import numpy as np
import pandas as pd
import pytest

import distlab
from distlab.retry import (
    ConstantBackoff,
    Decision,
    ExponentialBackoff,
    RetryBudget,
    RetryEvent,
    RetryPolicy,
)
from distlab.sim import (
    CallError,
    CallFailed,
    CallRejected,
    CallResult,
    CallTimeout,
    Down,
    HealthSchedule,
    Network,
    Service,
    Slow,
    Up,
    World,
    call_process,
    retry_call,
    run_retries,
)


def _setup(health=None, seed=0, service_time=0.05, handler=None):
    """A client and a service; constant latency and service time, so that the only random
    draws from the world's generator are the policy's waits."""
    world = World(seed=seed)
    net = Network(world, latency=0.01)
    net.add_node("client")
    health = Up() if health is None else health
    Service(net, "api", service_time=service_time, health=health, handler=handler)
    return world, net


def _run(policy, health=None, seed=0, timeout_s=1.0, **kwargs):
    world, net = _setup(
        health, seed, **{k: kwargs.pop(k) for k in ("service_time", "handler") if k in kwargs}
    )
    results = []

    def recorded(net, src, dst, request, timeout_s):
        result = yield from call_process(net, src, dst, request, timeout_s)
        results.append(result)
        return result

    def client():
        return (
            yield from run_retries(
                net, "client", "api", "req", timeout_s=timeout_s, retry=policy, call=recorded
            )
        )

    proc = world.env.process(client())
    world.run()
    return world, proc.value, attempts_seen(policy.events(), results)


def attempts_seen(events: list[RetryEvent], results: list[CallResult]) -> list[tuple]:
    """(n, result, decision) per attempt, the decision rebuilt from the policy's events (an
    attempt that succeeded at once has none: it stopped with reason "ok")."""
    decided = {}
    for e in events:
        decided[e.attempt] = Decision(e.kind == "retry", e.delay or 0.0, e.reason or "")
        if e.kind == "ok":
            decided[e.attempt] = Decision(False, reason="ok")
    return [(n, r, decided.get(n, Decision(False, reason="ok"))) for n, r in enumerate(results, 1)]


def test_retries_exactly_max_attempts_then_returns_the_last_result():
    world, result, seen = _run(RetryPolicy(4, ConstantBackoff(0.5)), health=Down())
    assert [n for n, _, _ in seen] == [1, 2, 3, 4]
    assert [d.retry for _, _, d in seen] == [True, True, True, False]
    assert seen[-1][2].reason == "attempts"
    assert isinstance(result, CallResult)
    assert result is seen[-1][1]  # the last attempt's result, unchanged
    assert (result.outcome, result.error) == ("error", "down")
    starts = [r.started for _, r, _ in seen]
    ends = [r.ended for _, r, _ in seen]
    assert np.allclose(np.array(starts[1:]) - np.array(ends[:-1]), 0.5)
    events = world.events()
    assert (events["kind"] == "call_start").sum() == 4


def test_stops_at_the_first_success():
    health = HealthSchedule([(0, Down()), (2.5, Up())])
    world, result, seen = _run(RetryPolicy(5, ExponentialBackoff(base=1.0)), health=health)
    assert result.ok
    assert [r.outcome for _, r, _ in seen] == ["error", "error", "ok"]
    assert seen[-1][2].reason == "ok"
    assert "give_up" not in set(world.events()["kind"])


@pytest.mark.parametrize("jitter", [None, "full", "equal", "decorrelated"])
def test_waits_are_the_policys_delays_drawn_from_the_worlds_generator(jitter):
    backoff = ExponentialBackoff(base=0.2, cap=3.0, jitter=jitter)
    world, result, seen = _run(RetryPolicy(6, backoff), health=Down(), seed=42)
    expected = list(RetryPolicy(6, backoff, rng=42).delays())  # same seed, same draws
    waits = [d.delay for _, _, d in seen if d.retry]
    assert waits == pytest.approx(expected, abs=1e-12)
    starts = np.array([r.started for _, r, _ in seen])
    ends = np.array([r.ended for _, r, _ in seen])
    assert starts[1:] - ends[:-1] == pytest.approx(expected, abs=1e-9)
    logged = world.events().query("kind == 'retry_wait'")
    assert logged["detail"].tolist() == [f"{w:.3f}" for w in expected]


def test_course_text_waits_one_then_two_seconds_not_four():
    world, result, seen = _run(RetryPolicy(), health=Down())  # the default: the course text
    assert len(seen) == 3
    assert [d.delay for _, _, d in seen if d.retry] == [1.0, 2.0]


def test_logs_retry_wait_and_give_up_with_the_failed_attempt():
    world, result, seen = _run(RetryPolicy(3, ConstantBackoff(0.25)), health=Down())
    events = world.events()
    waits = events[events["kind"] == "retry_wait"]
    assert waits["node"].tolist() == ["client", "client"]
    assert waits["attempt"].tolist() == [1, 2]
    assert waits["request_id"].tolist() == [seen[0][1].request_id, seen[1][1].request_id]
    assert waits["detail"].tolist() == ["0.250", "0.250"]
    assert waits["time"].tolist() == pytest.approx([seen[0][1].ended, seen[1][1].ended])
    give_up = events[events["kind"] == "give_up"]
    assert len(give_up) == 1
    row = give_up.iloc[0]
    assert (row["node"], row["reason"], row["attempt"]) == ("client", "attempts", 3)
    assert row["request_id"] == result.request_id
    assert row["time"] == pytest.approx(result.ended)


def test_retry_on_timeouts_only():
    stalled = Slow(100)  # 5 s per request: every attempt times out
    policy = RetryPolicy(3, ConstantBackoff(0.1), retry_on=CallTimeout)
    world, result, seen = _run(policy, health=stalled, timeout_s=0.5)
    assert [r.outcome for _, r, _ in seen] == ["timeout"] * 3
    assert result.outcome == "timeout"
    # An error is not retried: the call stops at once.
    world, result, seen = _run(policy, health=Down())
    assert len(seen) == 1
    assert seen[0][2].reason == "not retryable"
    assert world.events().query("kind == 'give_up'")["reason"].tolist() == ["not retryable"]
    # TimeoutError works as well: a CallTimeout is one.
    world, result, seen = _run(
        RetryPolicy(3, ConstantBackoff(0.1), retry_on=TimeoutError), health=stalled, timeout_s=0.5
    )
    assert len(seen) == 3


def test_retry_on_errors_only_and_by_predicate():
    policy = RetryPolicy(3, ConstantBackoff(0.1), retry_on=CallError)
    assert len(_run(policy, health=Down())[2]) == 3
    assert len(_run(policy, health=Slow(100), timeout_s=0.5)[2]) == 1
    overloaded_only = RetryPolicy(
        3, ConstantBackoff(0.1), retry_on=lambda exc: exc.result.error == "overloaded"
    )
    assert len(_run(overloaded_only, health=Down())[2]) == 1


def test_failed_attempts_are_shown_to_the_policy_as_call_failed():
    judged = []

    def retry_on(exc):
        judged.append(exc)
        return True

    policy = RetryPolicy(2, ConstantBackoff(0.1), retry_on=retry_on)
    world, result, _ = _run(policy, health=Down())
    first, last = judged
    assert isinstance(first, CallError) and isinstance(first, CallFailed)
    assert first.result.error == "down"
    assert last.result is result
    assert not isinstance(first, TimeoutError)
    assert issubclass(CallTimeout, TimeoutError)


def test_events_are_timed_in_simulated_seconds():
    policy = RetryPolicy(3, ConstantBackoff(0.5), name="client")
    world, result, seen = _run(policy, health=Down())
    events = policy.events()
    assert [(e.kind, e.source, e.call, e.attempt) for e in events] == [
        ("retry", "client", 1, 1),
        ("retry", "client", 1, 2),
        ("give_up", "client", 1, 3),
    ]
    assert [e.time for e in events] == [r.ended for _, r, _ in seen]
    assert [e.started for e in events] == [r.started for _, r, _ in seen]
    assert {(e.outcome, e.error) for e in events} == {("error", "down")}
    assert events[-1].reason == "attempts" and events[0].delay == 0.5


def test_a_rejected_attempt_is_shown_as_call_rejected_not_call_failed():
    world, net = _setup()

    def guard(net, src, dst, request, timeout_s):  # a guard that refuses every attempt
        yield net.env.timeout(0)
        now = net.env.now
        return CallResult(None, "rejected", None, "circuit OPEN", now, now, 0.0)

    judged = []
    fail_fast = RetryPolicy(3, ConstantBackoff(0.1), retry_on=CallFailed)
    retry_all = RetryPolicy(3, ConstantBackoff(0.1), retry_on=lambda e: judged.append(e) or True)
    for policy in (fail_fast, retry_all):
        world.env.process(
            run_retries(net, "client", "api", None, timeout_s=1.0, retry=policy, call=guard)
        )
    world.run()
    assert [(e.kind, e.outcome, e.reason) for e in fail_fast.events()] == [
        ("give_up", "rejected", "not retryable")
    ]
    assert retry_all.metrics().attempts == 3
    assert all(isinstance(e, CallRejected) and not isinstance(e, CallFailed) for e in judged)


def test_a_result_the_policy_refuses_is_retried():
    answers = iter(["busy", "busy", "done"])
    policy = RetryPolicy(5, ConstantBackoff(0.1), retry_on_result=lambda value: value == "busy")
    world, result, seen = _run(policy, handler=lambda request: next(answers))
    assert [r.value for _, r, _ in seen] == ["busy", "busy", "done"]
    assert result.value == "done"


def test_budget_refusal_gives_up():
    budget = RetryBudget(max_tokens=4, token_ratio=0.1)
    world, net = _setup(Down())
    policy = RetryPolicy(5, ConstantBackoff(0.1), budget=budget)
    procs = [retry_call(net, "client", "api", i, timeout_s=1.0, retry=policy) for i in range(3)]
    world.run()
    events = world.events()
    reasons = events.query("kind == 'give_up'")["reason"].tolist()
    assert "budget" in reasons
    # 4 tokens, retries only above 2: two failures use up the budget, then nothing is retried.
    assert (events["kind"] == "retry_wait").sum() == 1
    assert budget.tokens == 0.0
    assert all(p.value.outcome == "error" for p in procs)


def test_deadline_stops_retries():
    policy = RetryPolicy(10, ConstantBackoff(1.0), deadline=2.5)
    world, result, seen = _run(policy, health=Down())
    assert seen[-1][2].reason == "deadline"
    assert max(r.started for _, r, _ in seen) <= 2.5


def test_same_seed_same_run_different_seed_different_waits():
    backoff = ExponentialBackoff(base=0.3, jitter="full")

    def events(seed):
        world, _, _ = _run(RetryPolicy(5, backoff), health=Down(), seed=seed)
        return world.events()

    pd.testing.assert_frame_equal(events(3), events(3))
    assert not events(3)["time"].equals(events(4)["time"])


def test_a_retrying_handler_calls_the_service_below():
    world = World(seed=1)
    net = Network(world, latency=0.01)
    net.add_node("user")
    Service(net, "db", health=Down())

    def api(request):
        policy = RetryPolicy(2, ConstantBackoff(0.1))
        result = yield retry_call(net, "api", "db", request, timeout_s=1.0, retry=policy)
        return result.outcome

    Service(net, "api", handler=api)
    proc = retry_call(net, "user", "api", None, timeout_s=10.0, retry=RetryPolicy(1))
    world.run()
    assert proc.value.value == "error"
    assert (world.events().query("kind == 'request_start'")["node"] == "db").sum() == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"retry": "fast"}, TypeError, "retry='fast' must be a distlab.retry.RetryPolicy"),
        ({"timeout_s": 0}, ValueError, "timeout_s=0 must be greater than 0"),
        ({"timeout_s": float("nan")}, ValueError, "timeout_s=nan"),
        ({"timeout_s": "1"}, TypeError, "timeout_s='1' must be a number"),
        ({"dst": "nowhere"}, ValueError, "dst='nowhere' is not one of"),
        ({"src": "ghost"}, ValueError, "src='ghost' is not one of"),
        ({"net": None}, TypeError, "net=None must be a distlab.sim.Network"),
    ],
)
def test_bad_input_is_refused_clearly(kwargs, error, message):
    world, net = _setup()
    args = {"net": net, "src": "client", "dst": "api", "retry": RetryPolicy(), **kwargs}
    with pytest.raises(error, match=message):
        retry_call(**args)
    args.setdefault("timeout_s", 1.0)
    args.setdefault("request", None)
    with pytest.raises(error, match=message):
        run_retries(**args)  # checked when called, before any work


def test_options_are_keyword_only():
    world, net = _setup()
    with pytest.raises(TypeError, match="positional"):
        retry_call(net, "client", "api", None, 1.0, RetryPolicy())
    with pytest.raises(TypeError, match="call=3 must be a generator function"):
        run_retries(net, "client", "api", None, timeout_s=1.0, retry=RetryPolicy(), call=3)
    with pytest.raises(TypeError, match="on_attempt"):
        retry_call(net, "client", "api", retry=RetryPolicy(), on_attempt=print)


def test_exported_from_distlab():
    assert distlab.retry_call is retry_call
    assert "retry_call" in dir(distlab)


def test_simulated_calls_are_counted_in_the_policy_metrics():
    from distlab.retry import ConstantBackoff, RetryPolicy
    from distlab.sim import Down, Network, Service, World, retry_call

    world = World(seed=0)
    net = Network(world, latency=0.01)
    net.add_node("client")
    Service(net, "up")
    Service(net, "down", health=Down())
    policy = RetryPolicy(max_attempts=3, backoff=ConstantBackoff(0.1))
    retry_call(net, "client", "up", retry=policy)
    retry_call(net, "client", "down", retry=policy)
    world.run()
    stats = policy.metrics()
    assert (stats.calls, stats.attempts, stats.successes, stats.give_ups) == (2, 4, 1, 1)
    assert stats.total_wait == pytest.approx(0.2)
