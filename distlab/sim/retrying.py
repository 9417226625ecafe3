"""Retries in simulated time: :func:`retry_call` drives a :class:`~distlab.retry.RetryPolicy`.

The policy is the very one an engineer uses in real code (``distlab.retry``); only the clock
differs: the policy is told the simulated time, so its events (:class:`~distlab.retry.RetryEvent`)
are timed in simulated seconds. Each attempt is a :func:`~distlab.sim.call_process`; an attempt
whose outcome is ``"error"`` or ``"timeout"`` counts as a failure and is shown to the policy as a
:class:`CallFailed` exception (:class:`CallError` or :class:`CallTimeout`), so ``retry_on``
decides what is retried, e.g. ``retry_on=CallTimeout`` retries only timeouts, and
``retry_on=TimeoutError`` does the same.

>>> from distlab.retry import RetryPolicy, ExponentialBackoff
>>> from distlab.sim import World, Network, Service, HealthSchedule, Up, Down, retry_call
>>> world = World(seed=1)
>>> net = Network(world, latency=0.01); _ = net.add_node("client")
>>> _ = Service(net, "api", health=HealthSchedule([(0, Down()), (2.5, Up())]))
>>> course = RetryPolicy(max_attempts=3, backoff=ExponentialBackoff(base=1.0))
>>> proc = retry_call(net, "client", "api", "GET /", timeout_s=1.0, retry=course)
>>> world.run()
>>> proc.value.outcome
'ok'
>>> [(e.kind, e.attempt, e.delay) for e in course.events()]
[('retry', 1, 1.0), ('retry', 2, 2.0), ('ok', 3, None)]
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from distlab import outcomes
from distlab.retry import RetryPolicy
from distlab.sim.network import Network
from distlab.sim.rpc import CallResult, call_process, check_call

__all__ = ["CallError", "CallFailed", "CallRejected", "CallTimeout", "retry_call", "run_retries"]


class CallFailed(Exception):
    """A simulated call that did not succeed; ``.result`` is its :class:`~distlab.sim.CallResult`.

    :func:`retry_call` raises nothing: it shows this exception to the policy (for ``retry_on``)
    and returns the last :class:`~distlab.sim.CallResult`. ``outcome`` and ``detail`` are what
    the policy's events report (the result's outcome word and error text).

    >>> from distlab.sim import CallResult
    >>> exc = CallFailed.of(CallResult(3, "error", None, "down", 0.0, 0.02, 0.02))
    >>> type(exc).__name__, str(exc), exc.outcome, exc.detail
    ('CallError', 'request 3 failed: error (down)', 'error', 'down')
    """

    def __init__(self, result: CallResult) -> None:
        self.result = result
        super().__init__(f"request {result.request_id} failed: {result.outcome} ({result.error})")

    @property
    def outcome(self) -> str:
        """The failed result's outcome word (``"error"``, ``"timeout"``)."""
        return self.result.outcome

    @property
    def detail(self) -> str | None:
        """The failed result's error text (``"down"``, ``"overloaded"``, ``"timeout"``...)."""
        return self.result.error

    @staticmethod
    def of(result: CallResult) -> CallFailed:
        """The exception for a failed ``result``: :class:`CallTimeout` or :class:`CallError`."""
        return CallTimeout(result) if result.outcome == outcomes.TIMEOUT else CallError(result)


class CallError(CallFailed):
    """The service answered with an error (down, overloaded, its handler raised...)."""


class CallTimeout(CallFailed, TimeoutError):
    """No answer within the caller's timeout (the work may still have run at the server)."""


class CallRejected(Exception):
    """An attempt the caller's own guard refused before sending anything (outcome
    ``"rejected"``, e.g. an open circuit breaker); ``.result`` is its result.

    Not a :class:`CallFailed`: ``retry_on=CallFailed`` retries errors and timeouts and stops
    at the first rejection (fail fast).

    >>> from distlab.sim import CallResult
    >>> exc = CallRejected(CallResult(None, "rejected", None, "circuit OPEN", 1.0, 1.0, 0.0))
    >>> str(exc), exc.outcome, exc.detail
    ('attempt rejected: circuit OPEN', 'rejected', 'circuit OPEN')
    """

    outcome = outcomes.REJECTED

    def __init__(self, result: CallResult) -> None:
        self.result = result
        super().__init__(f"attempt rejected: {result.error}")

    @property
    def detail(self) -> str | None:
        """The rejected result's error text."""
        return self.result.error


def _failure(result: CallResult) -> Exception:
    if result.outcome == outcomes.REJECTED:
        return CallRejected(result)
    return CallFailed.of(result)


#: What :func:`run_retries` calls for each attempt: ``call(net, src, dst, request, timeout_s)``,
#: a generator function returning a :class:`~distlab.sim.CallResult`.
AttemptCall = Callable[[Network, str, str, Any, float], Generator[Any, Any, CallResult]]


def _check(net: Any, src: Any, dst: Any, timeout_s: Any, retry: Any, name: str) -> float:
    timeout_s = check_call(net, src, dst, timeout_s=timeout_s)
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"{name}={retry!r} must be a distlab.retry.RetryPolicy")
    return timeout_s


def retry_call(
    net: Network,
    src: str,
    dst: str,
    request: Any = None,
    *,
    timeout_s: float = 1.0,
    retry: RetryPolicy | None = None,
) -> simpy.Process:
    """Call ``dst`` from ``src`` with retries per ``retry``, in simulated time.

    Returns a SimPy process whose value is the :class:`~distlab.sim.CallResult` of the last
    attempt (ok, or the failure it gave up on). ``timeout_s`` applies to each attempt.
    ``retry`` defaults to ``RetryPolicy()``: the course text's 3 attempts, waiting 1 s then 2 s.
    The attempts and decisions are reported as the policy's events (see :func:`run_retries`).

    >>> from distlab.retry import RetryPolicy, ConstantBackoff
    >>> from distlab.sim import World, Network, Service, Down
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", health=Down())
    >>> policy = RetryPolicy(4, ConstantBackoff(0.5))
    >>> proc = retry_call(net, "c", "db", retry=policy)
    >>> world.run()
    >>> last = policy.events()[-1]
    >>> last.kind, last.attempt, last.reason, last.error, proc.value.error
    ('give_up', 4, 'attempts', 'down', 'down')
    """
    if retry is None:
        retry = RetryPolicy()
    timeout_s = _check(net, src, dst, timeout_s, retry, "retry")
    return net.env.process(_run(net, src, dst, request, timeout_s, retry, call_process))


def run_retries(
    net: Network,
    src: str,
    dst: str,
    request: Any,
    *,
    timeout_s: float,
    retry: RetryPolicy,
    call: AttemptCall | None = None,
) -> Generator[Any, Any, CallResult]:
    """The retry loop of :func:`retry_call`, to ``yield from`` inside a SimPy process; its value
    is the last attempt's :class:`~distlab.sim.CallResult`.

    Each attempt is ``call(net, src, dst, request, timeout_s)``, a generator function returning
    a :class:`~distlab.sim.CallResult` (default: :func:`~distlab.sim.call_process`, one call
    over the network; a circuit breaker driver passes one that goes through its breaker). An
    ``"ok"`` attempt's value goes to the policy's ``retry_on_result``; a failed one is shown to
    the policy as :class:`CallError`, :class:`CallTimeout` or, for ``"rejected"``,
    :class:`CallRejected`. The policy's waits are drawn from the world's generator
    (``retry.start(now, rng=world.rng)``), so a run is a function of the world's seed.

    Reports through the policy: a :class:`~distlab.retry.RetryEvent` per decision, timed in
    simulated seconds (``started`` = the attempt's start), and the call in its ``metrics()``.
    Also logs, in the world's event log, ``retry_wait`` before each wait (node = ``src``,
    ``request_id`` of the failed attempt, ``detail`` = the wait in seconds as ``"1.000"``,
    ``attempt`` = its number, ``service`` = ``dst``) and ``give_up`` when it stops on a failure
    (with ``reason``: ``"attempts"``, ``"budget"``, ``"deadline"`` or ``"not retryable"``).

    >>> from distlab.retry import RetryPolicy, NoBackoff
    >>> from distlab.sim import World, Network, Service, Down
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", health=Down())
    >>> policy = RetryPolicy(2, NoBackoff())
    >>> def client():
    ...     result = yield from run_retries(net, "c", "db", None, timeout_s=1.0, retry=policy)
    ...     world.log("seen", node="c", detail=result.outcome)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist(), policy.metrics().attempts
    (['error'], 2)
    """
    timeout_s = _check(net, src, dst, timeout_s, retry, "retry")
    if call is None:
        call = call_process
    elif not callable(call):
        raise TypeError(
            f"call={call!r} must be a generator function (net, src, dst, request, timeout_s) "
            "-> CallResult, or None"
        )
    return _run(net, src, dst, request, timeout_s, retry, call)


def _run(
    net: Network, src: str, dst: str, request: Any, timeout_s: float, retry: RetryPolicy,
    call: AttemptCall,
) -> Generator[Any, Any, CallResult]:  # fmt: skip
    env = net.env
    world = net.world
    state = retry.start(env.now, rng=world.rng)
    while True:
        result: CallResult = yield from call(net, src, dst, request, timeout_s)
        if result.outcome == outcomes.OK:
            decision = state.after_attempt(env.now, result=result.value, started=result.started)
        else:
            decision = state.after_attempt(
                env.now, exception=_failure(result), started=result.started
            )
        if not decision.retry:
            if decision.reason != "ok":
                world.log("give_up", node=src, request_id=result.request_id,
                          reason=decision.reason, attempt=state.attempts, service=dst)  # fmt: skip
            return result
        delay = decision.delay
        world.log("retry_wait", node=src, request_id=result.request_id, detail=f"{delay:.3f}",
                  attempt=state.attempts, service=dst)  # fmt: skip
        if delay > 0:
            yield env.timeout(delay)
