"""Circuit breakers in simulated time: :func:`breaker_call` drives a
:class:`~distlab.breaker.CircuitBreaker`.

The breaker is the very one an engineer uses in real code (``distlab.breaker``); only the time
it is told differs: the driver tells it the simulated time (``env.now``) at every step, so any
breaker works, whatever its clock. Each call asks the breaker first; a rejected call sends no
message and ends at once with the outcome ``"rejected"``. An admitted call is a
:func:`~distlab.sim.call_process`, and its outcome goes back to the breaker with its latency:
``on_success`` for ``"ok"``, ``on_error`` with a :class:`~distlab.sim.CallError` or
:class:`~distlab.sim.CallTimeout` otherwise (so the breaker's ``record_on`` and ``ignore`` may
single out timeouts).

>>> from distlab.breaker import CircuitBreaker
>>> from distlab.sim import World, Network, Service, Down, breaker_call
>>> world = World(seed=1)
>>> net = Network(world, latency=0.01); _ = net.add_node("client")
>>> _ = Service(net, "api", health=Down())
>>> breaker = CircuitBreaker.consecutive(failures=2, wait_in_open=30)
>>> procs = [breaker_call(net, "client", "api", timeout_s=1.0, breaker=breaker)
...          for _ in range(3)]
>>> world.run()
>>> [(p.value.outcome, p.value.breaker_state) for p in procs]
[('error', 'CLOSED'), ('error', 'CLOSED'), ('error', 'CLOSED')]
>>> breaker.state_at(world.now).value   # opened by the second error; the third was in flight
'OPEN'
>>> late = breaker_call(net, "client", "api", timeout_s=1.0, breaker=breaker); world.run()
>>> late.value.outcome, late.value.latency, late.value.request_id
('rejected', 0.0, None)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from distlab import outcomes
from distlab._validate import check_choice
from distlab.breaker import BreakerEvent, CircuitBreaker
from distlab.retry import RetryPolicy
from distlab.sim.network import Network
from distlab.sim.retrying import CallFailed, run_retries
from distlab.sim.rpc import CallResult, call_process, check_call
from distlab.sim.world import World

__all__ = [
    "BreakerCallResult",
    "NESTINGS",
    "breaker_call",
    "breaker_call_process",
    "sim_clock",
]

#: Where :func:`breaker_call` puts a retry policy: ``"inside"`` the breaker (every attempt goes
#: through it) or ``"outside"`` (the whole retried call is one call through the breaker).
#: How a retry policy and a breaker nest: which one wraps the other.
NESTINGS = ("retry around breaker", "breaker around retry")


def sim_clock(world: World | Network) -> Callable[[], float]:
    """The simulated time as a breaker clock. The simulated driver does not need it (it tells
    the breaker ``env.now``); give it to a breaker whose ``state`` or ``metrics()`` you want to
    read during or after a run without passing the time: ``CircuitBreaker(...,
    clock=sim_clock(world))``.

    >>> from distlab.sim import World
    >>> world = World(); clock = sim_clock(world)
    >>> world.run(until=2.5); clock()
    2.5
    """
    if isinstance(world, Network):
        world = world.world
    if not isinstance(world, World):
        raise TypeError(f"world={world!r} must be a distlab.sim.World (or a Network)")
    env = world.env
    return lambda: env.now


@dataclass(slots=True, frozen=True)
class BreakerCallResult(CallResult):
    """A :class:`~distlab.sim.CallResult` from :func:`breaker_call`, with the breaker's view.

    ``outcome`` may also be ``"rejected"`` (the breaker refused: no message was sent,
    ``request_id`` is ``None``, ``latency`` 0 unless retries came before). ``breaker_state`` is
    the breaker's state when the (last) call was admitted or rejected (``"CLOSED"``,
    ``"HALF_OPEN"``, ``"OPEN"``...); ``attempts`` counts the retry policy's attempts (1 without
    one; with ``nesting="retry around breaker"`` rejected attempts count too) and
    ``attempt_results`` holds each attempt's own result, in order. With a retry policy,
    ``started`` is when the first attempt began and ``latency`` spans all attempts and waits.

    >>> r = BreakerCallResult(None, "rejected", None, "circuit OPEN", 3.0, 3.0, 0.0, "OPEN")
    >>> r.ok, r.attempts
    (False, 1)
    """

    breaker_state: str = "CLOSED"
    attempts: int = 1
    attempt_results: tuple[CallResult, ...] = ()


# breaker -> [world]: where its transitions are logged (the listener is subscribed once).
_WATCHED: weakref.WeakKeyDictionary[CircuitBreaker, list[World]] = weakref.WeakKeyDictionary()


def _watch(breaker: CircuitBreaker, world: World) -> None:
    cell = _WATCHED.get(breaker)
    if cell is not None:
        cell[0] = world
        return
    cell = [world]
    _WATCHED[breaker] = cell

    def listener(event: BreakerEvent) -> None:
        if event.kind == "transition":
            cell[0].log(
                "breaker_transition",
                breaker=event.source,
                from_state=event.from_state,
                state=event.state,
                failure_rate=event.failure_rate,
                slow_call_rate=event.slow_call_rate,
                at=event.time,
            )

    breaker.subscribe(listener)


def breaker_call(
    net: Network,
    src: str,
    dst: str,
    request: Any = None,
    *,
    timeout_s: float,
    breaker: CircuitBreaker,
    retry: RetryPolicy | None = None,
    nesting: str = "retry around breaker",
) -> simpy.Process:
    """Call ``dst`` from ``src`` through ``breaker``, in simulated time (see the module).

    Returns a SimPy process whose value is a :class:`BreakerCallResult` (to ``yield from``
    inside a process instead, use :func:`breaker_call_process`). With a ``retry`` policy,
    ``nesting`` says which wraps which:

    - ``"retry around breaker"``: ``Retry(CircuitBreaker(call))``, as resilience4j composes
      them: every attempt goes through the breaker, which sees every failed attempt and opens
      sooner; a rejected attempt is shown to the policy as a ``CallRejected``, which
      ``retry_on=CallFailed`` does not retry (fail fast);
    - ``"breaker around retry"``: ``CircuitBreaker(Retry(call))``: the breaker admits the whole
      retried call once and is told one outcome,
      the last attempt's, with the duration of all the attempts and waits.

    The policy's waits are drawn from the world's generator. Logs ``breaker_rejected`` (node =
    ``src``, ``service`` = ``dst``, ``breaker``, ``state``) for each rejection and
    ``breaker_transition`` (``breaker``, ``from_state``, ``state``, ``failure_rate``,
    ``slow_call_rate``, ``at``) for each transition; with a policy, ``retry_wait`` and
    ``give_up`` as :func:`~distlab.sim.retry_call` does.

    >>> from distlab.breaker import CircuitBreaker
    >>> from distlab.sim import World, Network, Service, HealthSchedule, Up, Down
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", health=HealthSchedule([(0, Down()), (5, Up())]))
    >>> breaker = CircuitBreaker.consecutive(3, wait_in_open=4)
    >>> def client():
    ...     while world.now < 8:
    ...         result = yield breaker_call(net, "c", "db", timeout_s=1.0, breaker=breaker)
    ...         world.log("seen", node="c", detail=result.outcome)
    ...         yield world.env.timeout(1.0)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist()
    ['error', 'error', 'error', 'rejected', 'rejected', 'rejected', 'ok', 'ok']
    >>> world.events().query("kind == 'breaker_transition'")["state"].tolist()
    ['OPEN', 'HALF_OPEN', 'CLOSED']
    """
    process = breaker_call_process(
        net, src, dst, request, timeout_s=timeout_s, breaker=breaker, retry=retry,
        nesting=nesting,
    )  # fmt: skip
    return net.env.process(process)


def breaker_call_process(
    net: Network,
    src: str,
    dst: str,
    request: Any = None,
    *,
    timeout_s: float,
    breaker: CircuitBreaker,
    retry: RetryPolicy | None = None,
    nesting: str = "retry around breaker",
) -> Generator[Any, Any, BreakerCallResult]:
    """The generator behind :func:`breaker_call`, to ``yield from`` inside a SimPy process (no
    process of its own); its value is the :class:`BreakerCallResult`. Checks its arguments at
    once, as :func:`breaker_call` does.

    >>> from distlab.breaker import CircuitBreaker
    >>> from distlab.sim import World, Network, Service
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", service_time=0.0)
    >>> breaker = CircuitBreaker()
    >>> def client():
    ...     result = yield from breaker_call_process(net, "c", "db", timeout_s=1.0,
    ...                                              breaker=breaker)
    ...     world.log("seen", node="c", detail=result.outcome)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist()
    ['ok']
    """
    timeout_s = _check_call(net, src, dst, timeout_s, breaker, retry, nesting)
    return _run(net, src, dst, request, timeout_s, breaker, retry, nesting)


def _check_call(net, src, dst, timeout_s, breaker, retry, nesting) -> float:
    timeout_s = check_call(net, src, dst, timeout_s=timeout_s)
    if not isinstance(breaker, CircuitBreaker):
        raise TypeError(f"breaker={breaker!r} must be a distlab.breaker.CircuitBreaker")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry={retry!r} must be a distlab.retry.RetryPolicy or None")
    check_choice("nesting", nesting, NESTINGS)
    return timeout_s


def _run(net, src, dst, request, timeout_s, breaker, retry, nesting):
    _watch(breaker, net.world)
    if retry is None:
        result = yield from _guarded(net, src, dst, request, timeout_s, breaker)
        return _with_attempts(result, result.started, result.ended, result.breaker_state, (result,))
    tries: list[CallResult] = []
    started = net.env.now
    if nesting == "retry around breaker":

        def attempt(net, src, dst, request, timeout_s):
            result = yield from _guarded(net, src, dst, request, timeout_s, breaker)
            tries.append(result)
            return result

        last = yield from run_retries(
            net, src, dst, request, timeout_s=timeout_s, retry=retry, call=attempt
        )
        return _with_attempts(last, started, net.env.now, last.breaker_state, tuple(tries))
    now = net.env.now
    if not breaker.try_acquire(now):
        return _rejected(net, src, dst, breaker, now)
    state = breaker.state_at(now).value

    def plain(net, src, dst, request, timeout_s):
        result = yield from call_process(net, src, dst, request, timeout_s)
        tries.append(result)
        return result

    last = yield from run_retries(
        net, src, dst, request, timeout_s=timeout_s, retry=retry, call=plain
    )
    _report(breaker, net.env.now, net.env.now - started, last)
    return _with_attempts(last, started, net.env.now, state, tuple(tries))


def _with_attempts(result, started, ended, state, tries) -> BreakerCallResult:
    return BreakerCallResult(
        result.request_id,
        result.outcome,
        result.value,
        result.error,
        started,
        ended,
        ended - started,
        state,
        max(1, len(tries)),
        tries,
    )


def _guarded(net, src, dst, request, timeout_s, breaker):
    """One attempt through the breaker."""
    now = net.env.now
    if not breaker.try_acquire(now):
        return _rejected(net, src, dst, breaker, now)
    state = breaker.state_at(now).value
    r: CallResult = yield from call_process(net, src, dst, request, timeout_s)
    _report(breaker, net.env.now, r.latency, r)
    return BreakerCallResult(
        r.request_id, r.outcome, r.value, r.error, r.started, r.ended, r.latency, state
    )


def _report(breaker: CircuitBreaker, now: float, duration: float, result: CallResult) -> None:
    if result.outcome == outcomes.OK:
        breaker.on_success(now, duration)
    else:
        breaker.on_error(now, duration, CallFailed.of(result))


def _rejected(net, src, dst, breaker, now) -> BreakerCallResult:
    state = breaker.state_at(now).value
    net.world.log("breaker_rejected", node=src, service=dst, breaker=breaker.name, state=state)
    return BreakerCallResult(
        None, outcomes.REJECTED, None, f"circuit {state}", now, now, 0.0, state
    )
