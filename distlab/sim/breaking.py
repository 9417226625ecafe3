"""Circuit breakers in simulated time: :func:`breaker_call` drives a
:class:`~distlab.breaker.CircuitBreaker`.

The breaker is the very one an engineer uses in real code (``distlab.breaker``); only its clock
differs: give it the world's, ``clock=sim_clock(world)``. Each call asks the breaker first; a
rejected call sends no message and ends at once with the outcome ``"rejected"``. An admitted call
is a :func:`~distlab.sim.call`, and its outcome goes back to the breaker with its latency:
``on_success`` for ``"ok"``, ``on_error`` with a :class:`~distlab.sim.CallError` or
:class:`~distlab.sim.CallTimeout` otherwise (so the breaker's ``record_on`` and ``ignore`` may
single out timeouts).

>>> from distlab.breaker import CircuitBreaker
>>> from distlab.sim import World, Network, Service, Down, breaker_call, sim_clock
>>> world = World(seed=1)
>>> net = Network(world, latency=0.01); _ = net.add_node("client")
>>> _ = Service(net, "api", health=Down())
>>> breaker = CircuitBreaker.consecutive(failures=2, wait_in_open=30, clock=sim_clock(world))
>>> procs = [breaker_call(net, "client", "api", breaker=breaker) for _ in range(3)]
>>> world.run()
>>> [(p.value.outcome, p.value.breaker_state) for p in procs]
[('error', 'CLOSED'), ('error', 'CLOSED'), ('error', 'CLOSED')]
>>> breaker.state.value        # opened by the second error; the third was already in flight
'OPEN'
>>> late = breaker_call(net, "client", "api", breaker=breaker); world.run()
>>> late.value.outcome, late.value.latency, late.value.request_id
('rejected', 0.0, None)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from distlab._validate import check_choice, check_number
from distlab.breaker import CircuitBreaker
from distlab.retry import Decision, RetryPolicy
from distlab.sim.network import Network
from distlab.sim.retrying import CallFailed, run_retries
from distlab.sim.rpc import CallResult
from distlab.sim.rpc import call_process as _call
from distlab.sim.world import World

__all__ = ["BreakerCallResult", "RETRY_PLACEMENTS", "breaker_call", "sim_clock"]

#: Where :func:`breaker_call` puts a retry policy: ``"inside"`` the breaker (every attempt goes
#: through it) or ``"outside"`` (the whole retried call is one call through the breaker).
RETRY_PLACEMENTS = ("inside", "outside")


def sim_clock(world: World | Network) -> Callable[[], float]:
    """The simulated time as a breaker clock: ``CircuitBreaker(..., clock=sim_clock(world))``.

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
    one; with ``retry="inside"`` rejected attempts count too). With a retry policy, ``started``
    is when the first attempt began and ``latency`` spans all attempts and waits.

    >>> r = BreakerCallResult(None, "rejected", None, "circuit OPEN", 3.0, 3.0, 0.0, "OPEN")
    >>> r.ok, r.attempts
    (False, 1)
    """

    breaker_state: str = "CLOSED"
    attempts: int = 1


# breaker -> [world]: where its transitions are logged (the listener is subscribed once).
_WATCHED: weakref.WeakKeyDictionary[CircuitBreaker, list[World]] = weakref.WeakKeyDictionary()


def _watch(breaker: CircuitBreaker, world: World) -> None:
    cell = _WATCHED.get(breaker)
    if cell is not None:
        cell[0] = world
        return
    cell = [world]
    _WATCHED[breaker] = cell

    def listener(event: dict[str, Any]) -> None:
        if event["kind"] == "transition":
            cell[0].log(
                "breaker_transition",
                breaker=event["breaker"],
                from_state=event["from_state"],
                state=event["state"],
                failure_rate=event["failure_rate"],
                slow_call_rate=event["slow_call_rate"],
                at=event["time"],
            )

    breaker.subscribe(listener)


def breaker_call(
    net: Network,
    src: str,
    dst: str,
    request: Any = None,
    timeout_s: float = 1.0,
    breaker: CircuitBreaker | None = None,
    *,
    retry: RetryPolicy | None = None,
    retry_placement: str = "inside",
    on_attempt: Callable[[int, CallResult, Decision | None], Any] | None = None,
) -> simpy.Process:
    """Call ``dst`` from ``src`` through ``breaker``, in simulated time.

    Returns a SimPy process whose value is a :class:`BreakerCallResult`. ``breaker`` is
    required and must read the simulated time (``clock=sim_clock(world)``): a breaker on the
    wall clock is refused with a ``ValueError``.

    - Rejected by the breaker: no message is sent; the outcome is ``"rejected"``, latency 0.
    - Admitted: one :func:`~distlab.sim.call` with ``timeout_s``; ``"ok"`` is reported with
      ``breaker.on_success(latency)``, ``"error"`` and ``"timeout"`` with
      ``breaker.on_error(latency, CallError | CallTimeout)``.

    With a ``retry`` policy, ``retry_placement`` says how the two compose:

    - ``"inside"``: every attempt goes through the breaker (resilience4j's
      ``Retry(CircuitBreaker(call))``): the breaker sees every failed attempt, so it opens
      sooner; a rejected attempt is shown to the policy as a
      :class:`~distlab.sim.CallRejected`, and the policy's ``retry_on`` decides whether
      to wait and try again (``retry_on=CallFailed`` stops at the first rejection: fail fast);
    - ``"outside"``: the breaker admits the whole retried call once and is told one outcome,
      the last attempt's, with the duration of all the attempts and waits.

    The policy's waits are drawn from the world's generator. ``on_attempt(n, result, decision)``
    is called after every attempt (``decision`` is ``None`` without a policy).

    Logs ``breaker_rejected`` (node = ``src``, ``service`` = ``dst``, ``breaker`` name, its
    ``state``) for each rejection and ``breaker_transition`` (``breaker``, ``from_state``,
    ``state``, ``failure_rate``, ``slow_call_rate``, ``at`` = the breaker's time of the
    transition) for each of its transitions; with a policy, ``retry_wait`` and ``give_up`` as
    :func:`~distlab.sim.retry_call` does.

    >>> from distlab.breaker import CircuitBreaker
    >>> from distlab.sim import World, Network, Service, HealthSchedule, Up, Down, sim_clock
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "db", health=HealthSchedule([(0, Down()), (5, Up())]))
    >>> breaker = CircuitBreaker.consecutive(3, wait_in_open=4, clock=sim_clock(world))
    >>> def client():
    ...     while world.now < 8:
    ...         result = yield breaker_call(net, "c", "db", breaker=breaker)
    ...         world.log("seen", node="c", detail=result.outcome)
    ...         yield world.env.timeout(1.0)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist()
    ['error', 'error', 'error', 'rejected', 'rejected', 'rejected', 'ok', 'ok']
    >>> world.events().query("kind == 'breaker_transition'")["state"].tolist()
    ['OPEN', 'HALF_OPEN', 'CLOSED']
    """
    _check_call(net, src, dst, timeout_s, breaker, retry, retry_placement, on_attempt)
    return net.env.process(
        _breaker_call(
            net, src, dst, request, float(timeout_s), breaker, retry, retry_placement, on_attempt
        )
    )


def _check_call(net, src, dst, timeout_s, breaker, retry, retry_placement, on_attempt) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net={net!r} must be a distlab.sim.Network")
    net.check_node("src", src)
    net.check_node("dst", dst)
    check_number("timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True)
    if not isinstance(breaker, CircuitBreaker):
        raise TypeError(
            f"breaker={breaker!r} must be a distlab.breaker.CircuitBreaker "
            "(made with clock=sim_clock(world))"
        )
    now = net.env.now
    seen = breaker.clock()
    if seen != now:
        raise ValueError(
            f"breaker.clock() returned {seen!r} but the simulated time is {now!r}: create the "
            "breaker with clock=sim_clock(world)"
        )
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry={retry!r} must be a distlab.retry.RetryPolicy or None")
    check_choice("retry_placement", retry_placement, RETRY_PLACEMENTS)
    if on_attempt is not None and not callable(on_attempt):
        raise TypeError(f"on_attempt={on_attempt!r} must be callable(n, result, decision) or None")


def _breaker_call(net, src, dst, body, timeout_s, breaker, retry, placement, on_attempt):
    """The generator behind :func:`breaker_call` (experiments ``yield from`` it directly)."""
    _watch(breaker, net.world)
    if retry is None:
        result = yield from _guarded(net, src, dst, body, timeout_s, breaker)
        if on_attempt is not None:
            on_attempt(1, result, None)
        return result
    if placement == "inside":
        return (yield from _retried(net, src, dst, body, timeout_s, retry, on_attempt, breaker))
    env = net.env
    if not breaker.try_acquire():
        return _rejected(net, src, dst, breaker, env.now)
    state = breaker.state.value
    result = yield from _retried(net, src, dst, body, timeout_s, retry, on_attempt, None)
    _report(breaker, result)
    return BreakerCallResult(
        result.request_id,
        result.outcome,
        result.value,
        result.error,
        result.started,
        result.ended,
        result.latency,
        state,
        result.attempts,
    )


def _guarded(net, src, dst, body, timeout_s, breaker):
    """One attempt through the breaker."""
    env = net.env
    if not breaker.try_acquire():
        return _rejected(net, src, dst, breaker, env.now)
    state = breaker.state.value
    r: CallResult = yield from _call(net, src, dst, body, timeout_s)
    _report(breaker, r)
    return BreakerCallResult(
        r.request_id, r.outcome, r.value, r.error, r.started, r.ended, r.latency, state
    )


def _report(breaker: CircuitBreaker, result: CallResult) -> None:
    if result.outcome == "ok":
        breaker.on_success(result.latency)
    else:
        breaker.on_error(result.latency, CallFailed.of(result))


def _rejected(net, src, dst, breaker, now) -> BreakerCallResult:
    state = breaker.state.value
    net.world.log("breaker_rejected", node=src, service=dst, breaker=breaker.name, state=state)
    return BreakerCallResult(None, "rejected", None, f"circuit {state}", now, now, 0.0, state)


def _retried(net, src, dst, body, timeout_s, policy, on_attempt, breaker):
    """Attempts per ``policy``, each through ``breaker`` if one is given: the retry driver's own
    loop (:func:`~distlab.sim.run_retries`), where a rejection is judged as a
    :class:`~distlab.sim.CallRejected`."""
    # Interim adapter on the retry branch (the breaker branch rewrites this driver): on_attempt
    # is fed from the policy's events, which say the decision taken on each attempt.
    started = net.env.now
    results: list[CallResult] = []
    reported = [0]

    def attempt(net, src, dst, request, timeout_s):
        if breaker is None:
            r = yield from _call(net, src, dst, request, timeout_s)
        else:
            r = yield from _guarded(net, src, dst, request, timeout_s, breaker)
        results.append(r)
        return r

    def listen(event) -> None:  # called at the moment of the decision, as on_attempt was
        n = event.attempt
        if n == len(results) > reported[0] and event.started == results[-1].started:
            reported[0] = n
            retry = event.kind == "retry"
            on_attempt(n, results[-1], Decision(retry, event.delay or 0.0, event.reason or "ok"))

    unsubscribe = policy.subscribe(listen) if on_attempt is not None else None
    try:
        result = yield from run_retries(
            net, src, dst, body, timeout_s=timeout_s, retry=policy, call=attempt
        )
    finally:
        if unsubscribe is not None:
            unsubscribe()
    if on_attempt is not None and reported[0] < len(results):  # ok at once: no event
        on_attempt(len(results), result, Decision(False, reason="ok"))
    attempts = len(results)
    end = net.env.now
    breaker_state = getattr(result, "breaker_state", "CLOSED")
    return BreakerCallResult(
        result.request_id,
        result.outcome,
        result.value,
        result.error,
        started,
        end,
        end - started,
        breaker_state,
        attempts,
    )
