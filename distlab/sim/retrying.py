"""Retries in simulated time: :func:`retry_call` drives a :class:`~distlab.retry.RetryPolicy`.

The policy is the very one an engineer uses in real code (``distlab.retry``); only the clock
differs. Each attempt is a :func:`~distlab.sim.call`; an attempt whose outcome is ``"error"`` or
``"timeout"`` counts as a failure and is shown to the policy as a :class:`CallFailed` exception
(:class:`CallError` or :class:`CallTimeout`), so ``retry_on`` decides what is retried, e.g.
``retry_on=CallTimeout`` retries only timeouts, and ``retry_on=TimeoutError`` does the same.

>>> from distlab.retry import RetryPolicy, ExponentialBackoff
>>> from distlab.sim import World, Network, Service, HealthSchedule, Up, Down, retry_call
>>> world = World(seed=1)
>>> net = Network(world, latency=0.01); _ = net.add_node("client")
>>> _ = Service(net, "api", health=HealthSchedule([(0, Down()), (2.5, Up())]))
>>> course = RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=1.0))
>>> proc = retry_call(net, "client", "api", "GET /", timeout_s=1.0, policy=course)
>>> world.run()
>>> proc.value.outcome
'ok'
>>> waits = world.events().query("kind == 'retry_wait'")
>>> waits["detail"].tolist(), waits["attempt"].tolist()
(['1.000', '2.000'], [1, 2])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from distlab._validate import check_number
from distlab.retry import Decision, RetryPolicy
from distlab.sim.network import Network
from distlab.sim.rpc import CallResult, call_process

__all__ = ["CallError", "CallFailed", "CallRejected", "CallTimeout", "retry_call", "run_retries"]


class CallFailed(Exception):
    """A simulated call that did not succeed; ``.result`` is its :class:`~distlab.sim.CallResult`.

    :func:`retry_call` raises nothing: it shows this exception to the policy (for ``retry_on``)
    and returns the last :class:`~distlab.sim.CallResult`.

    >>> from distlab.sim import CallResult
    >>> exc = CallFailed.of(CallResult(3, "error", None, "down", 0.0, 0.02, 0.02))
    >>> type(exc).__name__, str(exc)
    ('CallError', 'request 3 failed: error (down)')
    """

    def __init__(self, result: CallResult) -> None:
        self.result = result
        super().__init__(f"request {result.request_id} failed: {result.outcome} ({result.error})")

    @staticmethod
    def of(result: CallResult) -> CallFailed:
        """The exception for a failed ``result``: :class:`CallTimeout` or :class:`CallError`."""
        return CallTimeout(result) if result.outcome == "timeout" else CallError(result)


class CallError(CallFailed):
    """The service answered with an error (down, overloaded, its handler raised...)."""


class CallTimeout(CallFailed, TimeoutError):
    """No answer within the caller's timeout (the work may still have run at the server)."""


def retry_call(
    net: Network,
    src: str,
    dst: str,
    request: Any = None,
    timeout_s: float = 1.0,
    policy: RetryPolicy | None = None,
    *,
    on_attempt: Callable[[int, CallResult, Decision], Any] | None = None,
) -> simpy.Process:
    """Call ``dst`` from ``src`` with retries per ``policy``, in simulated time.

    Returns a SimPy process whose value is the :class:`~distlab.sim.CallResult` of the last
    attempt (ok, or the failure it gave up on). ``timeout_s`` applies to each attempt.
    ``policy`` defaults to ``RetryPolicy()``: the course text's 3 attempts, waiting 1 s then 2 s.

    The policy's waits are drawn from the world's generator (``policy.start(now,
    rng=world.rng)``), so a run is a function of the world's seed. An ``"ok"`` attempt's value
    goes to the policy's ``retry_on_result``; a failed attempt is shown as :class:`CallError` or
    :class:`CallTimeout`. The policy's ``on_retry`` and ``on_give_up`` hooks are called as in the
    real-time drivers (with the :class:`CallFailed`, or the value for a refused result).

    Logs ``retry_wait`` before each wait (node = ``src``, ``request_id`` of the failed attempt,
    ``detail`` = the wait in seconds as ``"1.000"``, ``attempt`` = its number, ``service`` =
    ``dst``) and ``give_up`` when it stops on a failure (``reason``: ``"attempts"``,
    ``"budget"``, ``"deadline"`` or ``"not retryable"``). ``on_attempt(n, result, decision)``, if
    given, is called after every attempt n (1-based) with its result and the policy's decision.

    >>> from distlab.retry import RetryPolicy, ConstantBackoff
    >>> from distlab.sim import World, Network, Service, Down
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", health=Down())
    >>> seen = []
    >>> proc = retry_call(net, "c", "db", policy=RetryPolicy(4, ConstantBackoff(0.5)),
    ...                   on_attempt=lambda n, r, d: seen.append((n, r.outcome, d.retry)))
    >>> world.run()
    >>> seen[-1], proc.value.error
    ((4, 'error', False), 'down')
    """
    if not isinstance(net, Network):
        raise TypeError(f"net={net!r} must be a distlab.sim.Network")
    net.check_node("src", src)
    net.check_node("dst", dst)
    timeout_s = check_number("timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True)
    if policy is None:
        policy = RetryPolicy()
    elif not isinstance(policy, RetryPolicy):
        raise TypeError(f"policy={policy!r} must be a distlab.retry.RetryPolicy")
    if on_attempt is not None and not callable(on_attempt):
        raise TypeError(f"on_attempt={on_attempt!r} must be callable(n, result, decision) or None")
    return net.env.process(_retry_call(net, src, dst, request, timeout_s, policy, on_attempt))


def _retry_call(
    net: Network,
    src: str,
    dst: str,
    body: Any,
    timeout_s: float,
    policy: RetryPolicy,
    on_attempt: Callable[[int, CallResult, Decision], Any] | None,
):
    result, _attempts = yield from _retry_loop(
        net, src, dst, policy, on_attempt, lambda: call_process(net, src, dst, body, timeout_s)
    )
    return result


def _retry_loop(
    net: Network,
    src: str,
    dst: str,
    policy: RetryPolicy,
    on_attempt: Callable[[int, CallResult, Decision], Any] | None,
    attempt: Callable[[], Any],
    failure: Callable[[CallResult], BaseException] | None = None,
):
    """Attempts as ``policy`` decides, each made by the generator ``attempt()``; ``failure``
    turns a failed result into the exception the policy judges (default: :class:`CallFailed`).
    Logs ``retry_wait`` and ``give_up``, calls the hooks, counts the call in the policy's stats.
    Returns the last result and the number of attempts. (The breaker driver reuses it.)"""
    env = net.env
    world = net.world
    state = policy.start(env.now, rng=world.rng)
    failure = failure or CallFailed.of
    n = 0
    while True:
        n += 1
        result: CallResult = yield from attempt()
        if result.outcome == "ok":
            outcome: Any = result.value
            decision = state.after_attempt(env.now, result=outcome)
        else:
            outcome = failure(result)
            decision = state.after_attempt(env.now, exception=outcome)
        if on_attempt is not None:
            on_attempt(n, result, decision)
        if not decision.retry:
            policy.record(state, succeeded=decision.reason == "success")
            if decision.reason != "success":
                world.log(
                    "give_up",
                    node=src,
                    request_id=result.request_id,
                    reason=decision.reason,
                    attempt=n,
                    service=dst,
                )
                if policy.on_give_up is not None:
                    policy.on_give_up(state, outcome, decision.reason)
            return result, n
        delay = decision.delay
        world.log(
            "retry_wait",
            node=src,
            request_id=result.request_id,
            detail=f"{delay:.3f}",
            attempt=n,
            service=dst,
        )
        if policy.on_retry is not None:
            policy.on_retry(state, outcome, delay)
        if delay > 0:
            yield env.timeout(delay)


# -- SHIM until the merge: the retry engineer's branch provides the real run_retries and
# CallRejected (same signature, same meaning); keep theirs.


class CallRejected(Exception):
    """An attempt the caller's own guard refused before sending anything (outcome
    ``"rejected"``, e.g. an open circuit breaker); ``.result`` is its result. Not a
    :class:`CallFailed`: ``retry_on=CallFailed`` stops at the first rejection."""

    def __init__(self, result: CallResult) -> None:
        self.result = result
        super().__init__(f"attempt rejected: {result.error}")


def _failure(result: CallResult) -> Exception:
    if result.outcome == "rejected":
        return CallRejected(result)
    return CallFailed.of(result)


def run_retries(
    net: Network,
    src: str,
    dst: str,
    request: Any,
    *,
    timeout_s: float,
    retry: RetryPolicy,
    call: Callable[..., Any] | None = None,
):
    """The retry loop of :func:`retry_call`, to ``yield from`` inside a SimPy process; its value
    is the last attempt's :class:`~distlab.sim.CallResult`. Each attempt is ``call(net, src,
    dst, request, timeout_s)``, a generator function returning a CallResult (default:
    :func:`~distlab.sim.call_process`); a ``"rejected"`` attempt is shown to the policy as
    :class:`CallRejected`."""
    if not isinstance(net, Network):
        raise TypeError(f"net={net!r} must be a distlab.sim.Network")
    net.check_node("src", src)
    net.check_node("dst", dst)
    timeout_s = check_number("timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True)
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry={retry!r} must be a distlab.retry.RetryPolicy")
    call = call_process if call is None else call
    return _shim_run(net, src, dst, request, timeout_s, retry, call)


def _shim_run(net, src, dst, request, timeout_s, retry, call):
    result, _attempts = yield from _retry_loop(
        net, src, dst, retry, None, lambda: call(net, src, dst, request, timeout_s), _failure
    )
    return result
