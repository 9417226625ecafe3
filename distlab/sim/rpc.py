"""Request/response over the simulated network, with a timeout at the caller.

A call sends a request message to a node (usually a :class:`~distlab.sim.Service`) and waits for
the response message or for its timeout, whichever comes first. A timeout does **not** cancel the
work at the server: the request may still run after the caller gave up, which the event log shows
(``request_end`` after ``call_end``).

>>> from distlab.sim import World, Network, Service, call
>>> world = World(seed=1)
>>> net = Network(world, latency=0.01)
>>> _ = net.add_node("client")
>>> _ = Service(net, "orders", service_time=0.05, handler=lambda req: req.body * 2)
>>> proc = call(net, "client", "orders", 21, timeout_s=1.0)
>>> world.run()
>>> proc.value.outcome, proc.value.value, round(proc.value.latency, 3)
('ok', 42, 0.07)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from distlab._validate import check_number
from distlab.sim.network import Message, Network

__all__ = ["Request", "Response", "CallResult", "call", "call_process", "check_call", "respond"]


@dataclass(slots=True, frozen=True)
class Request:
    """The payload of a request message: what a service's handler receives.

    ``on_reply`` is set by :func:`call`: the response is handed to it on delivery (pass it to
    ``Network.send(..., on_delivery=request.on_reply)`` when answering by hand, or use
    :func:`respond`).

    >>> Request(request_id=0, src="client", body="GET /")
    Request(request_id=0, src='client', body='GET /')
    """

    request_id: int
    src: str
    body: Any = None
    on_reply: Callable[[Message], Any] | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True, frozen=True)
class Response:
    """The payload of a response message.

    >>> Response(request_id=0, ok=False, error="overloaded")
    Response(request_id=0, ok=False, value=None, error='overloaded')
    """

    request_id: int
    ok: bool
    value: Any = None
    error: str | None = None


@dataclass(slots=True, frozen=True)
class CallResult:
    """What a call returned: ``outcome`` is ``"ok"``, ``"error"`` or ``"timeout"``.

    ``started``/``ended`` are simulated times; ``latency = ended - started`` (seconds). ``value``
    is the handler's return value when ok; ``error`` a short reason when not.

    >>> r = CallResult(0, "timeout", None, "timeout", 1.0, 2.0, 1.0)
    >>> r.ok
    False
    """

    request_id: int
    outcome: str
    value: Any
    error: str | None
    started: float
    ended: float
    latency: float

    @property
    def ok(self) -> bool:
        """``True`` when the outcome is ``"ok"``."""
        return self.outcome == "ok"


def call(
    net: Network, src: str, dst: str, request: Any = None, timeout_s: float = 1.0
) -> simpy.Process:
    """Call ``dst`` from ``src`` and wait at most ``timeout_s`` seconds for the response.

    Returns a SimPy process whose value is a :class:`CallResult`; ``yield`` it from another
    process, or run the world and read ``.value``. ``timeout_s`` may be ``math.inf`` (wait
    forever). Logs ``call_start`` and ``call_end`` (node = ``src``, with ``request_id``,
    ``outcome``, ``latency``, ``service`` = ``dst``, and the error text in ``detail``).

    >>> from distlab.sim import World, Network, Service, Down, call
    >>> world = World()
    >>> net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "b", health=Down())
    >>> def client():
    ...     result = yield call(net, "c", "b", timeout_s=0.5)
    ...     world.log("seen", node="c", detail=result.outcome)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist()
    ['error']
    """
    timeout_s = check_call(net, src, dst, timeout_s=timeout_s)
    return net.env.process(call_process(net, src, dst, request, timeout_s))


def check_call(net: Any, src: Any, dst: Any, *, timeout_s: Any) -> float:
    """Check what every simulated call takes (a :class:`Network`, two of its nodes, a timeout
    in (0, inf]) and return ``timeout_s`` as a float; raise naming the bad argument.

    >>> from distlab.sim import World, Network
    >>> net = Network(World()); _ = net.add_node("c")
    >>> check_call(net, "c", "c", timeout_s=0)
    Traceback (most recent call last):
    ValueError: timeout_s=0 must be greater than 0
    """
    if not isinstance(net, Network):
        raise TypeError(f"net={net!r} must be a distlab.sim.Network")
    net.check_node("src", src)
    net.check_node("dst", dst)
    return check_number("timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True)


def call_process(net: Network, src: str, dst: str, request: Any, timeout_s: float):
    """The generator behind :func:`call`, to ``yield from`` inside a SimPy process (no process
    of its own, no argument checks: :func:`call` checks them); its value is the
    :class:`CallResult`. Logs as :func:`call` does.

    >>> from distlab.sim import World, Network, Service
    >>> world = World(); net = Network(world, latency=0.01); _ = net.add_node("c")
    >>> _ = Service(net, "echo", service_time=0.0, handler=lambda req: req.body)
    >>> def client():
    ...     result = yield from call_process(net, "c", "echo", "hi", 1.0)
    ...     world.log("seen", node="c", detail=result.value)
    >>> _ = world.env.process(client()); world.run()
    >>> world.events().query("kind == 'seen'")["detail"].tolist()
    ['hi']
    """
    env = net.env
    world = net.world
    rid = net.new_request_id()
    started = env.now
    world.log("call_start", node=src, request_id=rid, service=dst)
    done = env.event()

    def on_reply(msg: Message) -> None:
        if not done.triggered:
            done.succeed(msg.payload)

    def on_timeout(_event: simpy.events.Event) -> None:
        if not done.triggered:
            done.succeed(None)

    if timeout_s != float("inf"):
        env.timeout(timeout_s).callbacks.append(on_timeout)
    net.send(src, dst, Request(rid, src, request, on_reply))
    response: Response | None = yield done
    ended = env.now
    if response is None:
        outcome, value, error = "timeout", None, "timeout"
    elif response.ok:
        outcome, value, error = "ok", response.value, None
    else:
        outcome, value, error = "error", None, response.error
    latency = ended - started
    world.log(
        "call_end",
        node=src,
        request_id=rid,
        outcome=outcome,
        latency=latency,
        service=dst,
        detail=error,
    )
    return CallResult(rid, outcome, value, error, started, ended, latency)


def respond(net: Network, message: Message, value: Any = None, error: str | None = None) -> int:
    """Answer a request ``message`` received by a custom server (not a :class:`Service`).

    Sends a response from the message's destination back to its source; an ``error`` string makes
    the call's outcome ``"error"``. Returns the response's message id.

    >>> from distlab.sim import World, Network, call, respond
    >>> world = World(); net = Network(world, latency=0.01)
    >>> _ = net.add_node("c"); echo = net.add_node("echo")
    >>> echo.on_message = lambda msg: respond(net, msg, value=msg.payload.body)
    >>> proc = call(net, "c", "echo", "hi"); world.run()
    >>> proc.value.value
    'hi'
    """
    request = message.payload
    if not isinstance(request, Request):
        raise TypeError(f"message.payload={request!r} must be a Request (sent by call())")
    response = Response(request.request_id, error is None, value if error is None else None, error)
    return net.send(message.dst, message.src, response, on_delivery=request.on_reply)
