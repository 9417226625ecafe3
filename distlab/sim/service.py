"""Services: request handlers on a node, with a health schedule and a concurrency limit.

Health states: :class:`Up`, :class:`Down` (the process is dead on a live host: it answers an error
at once, like a refused connection), :class:`Slow` (service time multiplied by a factor),
:class:`Flaky` (each request fails with a probability) and :class:`Recovering` (back, but with a
reduced capacity: fewer requests served at once, each possibly slower). A :class:`HealthSchedule`
says which state holds when.

>>> from distlab.sim import World, Network, Service, HealthSchedule, Up, Down, Slow, call
>>> world = World(seed=2)
>>> net = Network(world, latency=0.01); _ = net.add_node("client")
>>> health = HealthSchedule([(0, Up()), (1.0, Down()), (2.0, Slow(5))])
>>> svc = Service(net, "b", service_time=0.05, health=health)
>>> health.at(1.5)
Down()
"""

from __future__ import annotations

import bisect
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from distlab._validate import check_bool, check_int, check_number, check_probability
from distlab.sim.conditions import check_slow_factor
from distlab.sim.distributions import MAX_SECONDS, Distribution, as_distribution, at_most
from distlab.sim.network import Message, Network, Sampler
from distlab.sim.rpc import Request, Response

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Health",
    "Up",
    "Down",
    "Slow",
    "Flaky",
    "Recovering",
    "HealthSchedule",
    "FragileRecovery",
    "Service",
]


class Health:
    """Base class of the health states; ``.state`` is a short name, ``.label`` a readable one.

    >>> Slow(3).label
    'slow ×3'
    """

    __slots__ = ()
    state = "health"

    @property
    def label(self) -> str:
        return self.state


@dataclass(frozen=True, slots=True)
class Up(Health):
    """Healthy: requests take the normal service time.

    >>> Up().label
    'up'
    """

    state = "up"


@dataclass(frozen=True, slots=True)
class Down(Health):
    """The service process is dead on a live host: every request gets an error at once.

    >>> Down().label
    'down'
    """

    state = "down"


@dataclass(frozen=True, slots=True)
class Slow(Health):
    """Service time multiplied by ``factor`` (in (0, 1e6]).

    >>> Slow(factor=4).factor
    4.0
    """

    factor: float
    state = "slow"

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor", check_slow_factor("factor", self.factor))

    @property
    def label(self) -> str:
        return f"slow ×{self.factor:g}"


@dataclass(frozen=True, slots=True)
class Flaky(Health):
    """Each request fails (after its service time) with probability ``error_rate``.

    >>> Flaky(error_rate=0.2).label
    'flaky 20%'
    """

    error_rate: float
    state = "flaky"

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_rate", check_probability("error_rate", self.error_rate))

    @property
    def label(self) -> str:
        return f"flaky {self.error_rate:.0%}"


@dataclass(frozen=True, slots=True)
class Recovering(Health):
    """Back up with a reduced capacity (a restarted process with cold caches, fewer instances):
    at most ``capacity`` requests are served at once (others wait in the service's queue), each
    taking ``factor`` times the service time. The service's own ``concurrency``, if lower, still
    applies; its ``queue_limit`` too.

    >>> Recovering(capacity=2).label
    'recovering (2 at once)'
    >>> Recovering(1, factor=4).label
    'recovering (1 at once, ×4)'
    """

    capacity: int
    factor: float = 1.0
    state = "recovering"

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacity", check_int("capacity", self.capacity, 1))
        object.__setattr__(self, "factor", check_slow_factor("factor", self.factor))

    @property
    def label(self) -> str:
        slower = "" if self.factor == 1 else f", ×{self.factor:g}"
        return f"recovering ({self.capacity} at once{slower})"


class HealthSchedule:
    """Health over time: a list of ``(start_time, state)``; each state holds until the next one.

    Start times are seconds, in [0, 1e9] and strictly increasing. Before the first start the
    service is :class:`Up`.

    >>> s = HealthSchedule([(0, Up()), (10, Down()), (20, Up())])
    >>> s.at(5), s.at(10), s.at(25)
    (Up(), Down(), Up())
    >>> s.bands(until=30)[["start", "end", "state"]].values.tolist()
    [[10.0, 20.0, 'down']]
    """

    def __init__(self, changes: Iterable[tuple[float, Health]]) -> None:
        if isinstance(changes, Health):
            changes = [(0.0, changes)]
        if isinstance(changes, (str, bytes)) or not isinstance(changes, Iterable):
            raise TypeError(f"changes={changes!r} must be a list of (start_time, state) pairs")
        times: list[float] = []
        states: list[Health] = []
        for i, item in enumerate(changes):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise TypeError(f"changes[{i}]={item!r} must be a (start_time, state) pair")
            name = f"changes[{i}] start_time"
            start = at_most(name, check_number(name, item[0], minimum=0), MAX_SECONDS)
            if not isinstance(item[1], Health):
                raise TypeError(
                    f"changes[{i}] state={item[1]!r} must be Up(), Down(), Slow(factor), "
                    "Flaky(error_rate) or Recovering(capacity)"
                )
            if times and start <= times[-1]:
                raise ValueError(
                    f"changes[{i}] start_time={start:g} must be greater than the previous "
                    f"start_time={times[-1]:g}"
                )
            times.append(start)
            states.append(item[1])
        if not times:
            raise ValueError("changes=[] must hold at least one (start_time, state) pair")
        self._times = times
        self._states = states

    @classmethod
    def coerce(cls, health: HealthSchedule | Health) -> HealthSchedule:
        """A schedule as is, or a bare state turned into a constant schedule.

        >>> HealthSchedule.coerce(Down()).at(100)
        Down()
        """
        if isinstance(health, HealthSchedule):
            return health
        if isinstance(health, Health):
            return cls([(0.0, health)])
        raise TypeError(
            f"health={health!r} must be a HealthSchedule or a state "
            "(Up(), Down(), Slow(factor), Flaky(error_rate), Recovering(capacity))"
        )

    @property
    def changes(self) -> list[tuple[float, Health]]:
        """The ``(start_time, state)`` pairs."""
        return list(zip(self._times, self._states))

    def at(self, t: float) -> Health:
        """The state in force at time ``t`` (seconds; not NaN).

        >>> HealthSchedule([(1, Down())]).at(float("nan"))
        Traceback (most recent call last):
        ValueError: t=nan must be a finite number
        """
        if t.__class__ is not float or t != t:  # the simulation's clock is a float: fast path
            t = check_number("t", t, allow_inf=True)
        i = bisect.bisect_right(self._times, t) - 1
        return self._states[i] if i >= 0 else Up()

    def bands(self, until: float, *, include_up: bool = False) -> pd.DataFrame:
        """Intervals of constant state up to ``until``: DataFrame(start, end, state, label).

        ``Up`` intervals are left out unless ``include_up=True``, since plots shade only trouble.
        """
        import pandas as pd

        until = check_number("until", until, minimum=0)
        include_up = check_bool("include_up", include_up)
        rows = []
        bounds = self._times[1:] + [float("inf")]
        for start, end, state in zip(self._times, bounds, self._states):
            if start >= until:
                break
            if isinstance(state, Up) and not include_up:
                continue
            rows.append((start, min(end, until), state.state, state.label))
        return pd.DataFrame(rows, columns=["start", "end", "state", "label"])

    def __repr__(self) -> str:
        inner = ", ".join(f"({t:g}, {s!r})" for t, s in zip(self._times, self._states))
        return f"HealthSchedule([{inner}])"


def _fragile_seconds(name: str, value: Any) -> float:
    checked = check_number(name, value, 0.0, min_inclusive=False)
    return at_most(name, checked, MAX_SECONDS, " s (MAX_SECONDS)")


class FragileRecovery(HealthSchedule):
    """A service that recovers only if it is not hammered while it recovers.

    Up until ``outage_at_s``; down for ``down_s``; then recovering (``Recovering(capacity,
    factor)``) until it has gone ``recover_s`` seconds without being knocked over, then up.
    While recovering, a request arriving when more than ``overload`` requests are already
    waiting or in service knocks it over: down for ``restart_s``, then its recovery starts
    again. Its states depend on the load of the :class:`Service` it is given to (the service
    attaches itself), so a schedule serves one service. What happened is recorded as it happens
    (``history``, ``knockovers``); :meth:`bands` returns it, knock-overs labelled
    ``"down (knocked over)"``.

    >>> health = FragileRecovery(outage_at_s=10, down_s=20, recover_s=90, overload=5)
    >>> health.at(5), health.at(15), health.at(35).label
    (Up(), Down(), 'recovering (1 at once, ×25)')
    >>> health.bands(200)["state"].tolist()
    ['down', 'recovering']
    """

    def __init__(
        self,
        *,
        outage_at_s: float,
        down_s: float,
        recover_s: float,
        capacity: int = 1,
        factor: float = 25.0,
        overload: int = 5,
        restart_s: float = 10.0,
    ) -> None:
        outage_at_s = _fragile_seconds("outage_at_s", outage_at_s)
        down_s = _fragile_seconds("down_s", down_s)
        recover_s = _fragile_seconds("recover_s", recover_s)
        restart_s = _fragile_seconds("restart_s", restart_s)
        if not outage_at_s + down_s > outage_at_s:
            raise ValueError(
                f"down_s={down_s:g} is too short to end after outage_at_s={outage_at_s:g} "
                "(their sum must be greater)"
            )
        self._recovering = Recovering(capacity, factor)
        super().__init__(
            [(0.0, Up()), (outage_at_s, Down()), (outage_at_s + down_s, self._recovering)]
        )
        self._recover_s = recover_s
        self._overload = check_int("overload", overload, 0)
        self._restart_s = restart_s
        self._service: Service | None = None
        self._phase: tuple[Health, float, str] = (Up(), outage_at_s, "up")  # state, until, label
        #: ``(start, state, label)`` of every phase so far, oldest first.
        self.history: list[tuple[float, Health, str]] = [(0.0, Up(), "up")]
        self._pending = [(outage_at_s, Down(), "down", down_s)]
        #: How many times the load knocked it over while it recovered.
        self.knockovers = 0

    def watch(self, service: Service) -> None:
        """Judge the load on ``service`` (a :class:`Service` calls it when given this schedule)."""
        if self._service is not None and self._service is not service:
            raise ValueError(
                f"health={self!r} already follows service {self._service.name!r}: "
                "give each service its own FragileRecovery"
            )
        self._service = service

    def _enter(self, t: float, state: Health, label: str, until: float) -> None:
        self._phase = (state, until, label)
        self.history.append((t, state, label))

    def at(self, t: float) -> Health:
        """The state at time ``t`` (reading it at a recovering time may knock it over).

        >>> FragileRecovery(outage_at_s=1, down_s=1, recover_s=1).at(float("nan"))
        Traceback (most recent call last):
        ValueError: t=nan must be a finite number
        """
        if t.__class__ is not float or t != t:  # the simulation's clock is a float: fast path
            t = check_number("t", t, allow_inf=True)
        state, until, label = self._phase
        while t >= until:
            if self._pending:
                start, nxt, nlabel, length = self._pending.pop(0)
                self._enter(start, nxt, nlabel, start + length)
            elif isinstance(state, Down):
                self._enter(
                    until, self._recovering, self._recovering.label, until + self._recover_s
                )
            else:  # recovered
                self._enter(until, Up(), "up", math.inf)
            state, until, label = self._phase
        if isinstance(state, Recovering) and self._service is not None:
            busy = self._service.queued + self._service.in_service
            if busy > self._overload:
                self.knockovers += 1
                self._enter(t, Down(), "down (knocked over)", t + self._restart_s)
                return self._phase[0]
        return state

    def bands(self, until: float, *, include_up: bool = False) -> pd.DataFrame:
        """What happened up to ``until``: DataFrame(start, end, state, label)."""
        import pandas as pd

        until = check_number("until", until, minimum=0)
        self.at(until)
        rows = []
        bounds = [h[0] for h in self.history[1:]] + [math.inf]
        for (start, state, label), end in zip(self.history, bounds):
            if start >= until:
                break
            if end <= start or (isinstance(state, Up) and not include_up):
                continue
            rows.append((start, min(end, until), state.state, label))
        return pd.DataFrame(rows, columns=["start", "end", "state", "label"])

    def __repr__(self) -> str:
        return f"FragileRecovery(knockovers={self.knockovers})"


class Service:
    """A request handler on node ``name``, answering :func:`~distlab.sim.call` requests.

    Parameters
    ----------
    net: the network; the node ``name`` is added if missing.
    service_time: seconds per request, a number or a distribution (default 50 ms).
    health: a :class:`HealthSchedule` or a bare state (default ``Up()``).
    concurrency: at most this many requests served at once (``None`` = unlimited); while the
        health is :class:`Recovering`, at most its ``capacity`` (if lower).
    queue_limit: at most this many requests waiting for a slot; beyond that a request is refused
        at once with the error ``"overloaded"`` (``None`` = unlimited; needs ``concurrency``).
    handler: ``callable(Request) -> value`` run at the end of the service time; it may also be a
        generator function (to wait or call other services). An exception becomes an error
        response with its text. ``None`` answers ``None``.

    Messages that are not requests go to the node's inbox as usual. Logs ``request_start`` on
    arrival and ``request_end`` when the response is sent (node = service, ``request_id``,
    ``outcome`` ``ok``/``error``, ``latency`` at the server, error text in ``detail``). If the host
    crashes, work in progress is abandoned: a ``request_start`` without ``request_end``.

    >>> from distlab.sim import World, Network, Service, call
    >>> world = World(seed=4); net = Network(world, latency=0.01)
    >>> _ = net.add_node("client")
    >>> svc = Service(net, "db", service_time=0.1, concurrency=1, queue_limit=1)
    >>> procs = [call(net, "client", "db", i, timeout_s=5) for i in range(3)]
    >>> world.run()
    >>> [p.value.error for p in procs]
    [None, None, 'overloaded']
    """

    def __init__(
        self,
        net: Network,
        name: str,
        service_time: float | Distribution = 0.05,
        health: HealthSchedule | Health = Up(),
        concurrency: int | None = None,
        queue_limit: int | None = None,
        handler: Callable[[Request], Any] | None = None,
    ) -> None:
        if not isinstance(net, Network):
            raise TypeError(f"net={net!r} must be a distlab.sim.Network")
        self.net = net
        self.service_time = as_distribution(service_time, name="service_time")
        self.health = HealthSchedule.coerce(health)
        if isinstance(self.health, FragileRecovery):
            self.health.watch(self)
        self.concurrency = None if concurrency is None else check_int("concurrency", concurrency, 1)
        self.queue_limit = None if queue_limit is None else check_int("queue_limit", queue_limit, 0)
        if self.queue_limit is not None and self.concurrency is None:
            raise ValueError(
                f"queue_limit={self.queue_limit} needs a concurrency limit (concurrency=None "
                "means no request ever waits)"
            )
        if handler is not None and not callable(handler):
            raise TypeError(f"handler={handler!r} must be callable(request) or None")
        self.handler = handler
        self.node = net.node(name) if name in net else net.add_node(name)
        if self.node.on_message is not None:
            raise ValueError(f"name={name!r} already has a message handler (another Service?)")
        self.name = name
        self._env = net.env
        self._world = net.world
        self._sampler = Sampler(self.service_time, net.world.rng)
        if any(isinstance(state, Recovering) for _, state in self.health.changes):
            # The capacity follows the schedule: a resource whose capacity is read at each use.
            self._slots: simpy.Resource | None = _ScheduledSlots(
                self._env, self.concurrency, self.health
            )
        elif self.concurrency:
            self._slots = simpy.Resource(self._env, capacity=self.concurrency)
        else:
            self._slots = None
        self._busy = 0
        self.node.on_message = self._on_message

    def __repr__(self) -> str:
        return (
            f"Service({self.name!r}, service_time={self.service_time!r}, "
            f"health={self.health!r}, concurrency={self.concurrency}, "
            f"queue_limit={self.queue_limit})"
        )

    @property
    def in_service(self) -> int:
        """Requests being served right now."""
        return self._busy

    @property
    def queued(self) -> int:
        """Requests waiting for a slot."""
        return len(self._slots.queue) if self._slots is not None else 0

    def _on_message(self, msg: Message) -> None:
        request = msg.payload
        if not isinstance(request, Request):
            self.node.inbox.put(msg)
            return
        now = self._env.now
        self._world.log("request_start", node=self.name, src=msg.src, request_id=request.request_id)
        if isinstance(self.health.at(now), Down):
            self._finish(msg, now, False, None, "down")
            return
        slots = self._slots
        if (
            slots is not None
            and slots.count >= slots.capacity
            and self.queue_limit is not None
            and len(slots.queue) >= self.queue_limit
        ):
            self._finish(msg, now, False, None, "overloaded")
            return
        self._env.process(self._serve(msg, now, self.node.incarnation))

    def _serve(self, msg: Message, arrived: float, incarnation: int):
        slots = self._slots
        slot = None
        if slots is not None:
            slot = slots.request()
            yield slot
        try:
            if self.node.incarnation != incarnation:
                return  # the host crashed while the request waited: it is gone
            state = self.health.at(self._env.now)
            if isinstance(state, Down):
                self._finish(msg, arrived, False, None, "down")
                return
            delay = self._sampler.next()
            if isinstance(state, Slow | Recovering):
                delay *= state.factor
            self._busy += 1
            try:
                yield self._env.timeout(delay)
            finally:
                self._busy -= 1
            if self.node.incarnation != incarnation:
                return
            if isinstance(state, Flaky) and self._world.rng.random() < state.error_rate:
                self._finish(msg, arrived, False, None, "flaky")
                return
            value = None
            if self.handler is not None:
                try:
                    value = self.handler(msg.payload)
                    if inspect.isgenerator(value):
                        value = yield from value
                except Exception as exc:  # the handler's failure becomes the caller's error
                    self._finish(msg, arrived, False, None, f"{type(exc).__name__}: {exc}")
                    return
                if self.node.incarnation != incarnation:
                    return
            self._finish(msg, arrived, True, value, None)
        finally:
            if slot is not None:
                slots.release(slot)  # type: ignore[union-attr]

    def _finish(self, msg: Message, arrived: float, ok: bool, value: Any, error: str | None):
        request: Request = msg.payload
        now = self._env.now
        self._world.log(
            "request_end",
            node=self.name,
            dst=msg.src,
            request_id=request.request_id,
            outcome="ok" if ok else "error",
            latency=now - arrived,
            detail=error,
        )
        self.net.send(
            self.name,
            msg.src,
            Response(request.request_id, ok, value, error),
            on_delivery=request.on_reply,
        )


class _ScheduledSlots(simpy.Resource):
    """A :class:`simpy.Resource` whose capacity follows a health schedule: ``concurrency``
    (``None``: unlimited), lowered to a :class:`Recovering` state's capacity while it holds.
    When the capacity rises, waiting requests are let in at once."""

    def __init__(
        self, env: simpy.Environment, concurrency: int | None, health: HealthSchedule
    ) -> None:
        super().__init__(env, capacity=concurrency or 1)
        self._base = concurrency if concurrency else float("inf")
        self._health = health
        env.process(self._follow(health))

    @property
    def capacity(self) -> float:  # type: ignore[override]
        state = self._health.at(self._env.now)
        if isinstance(state, Recovering):
            return min(self._base, state.capacity)
        return self._base

    def _follow(self, health: HealthSchedule):
        env = self._env
        for start, _state in health.changes:
            if start > env.now:
                yield env.timeout(start - env.now)
            while self.put_queue and len(self.users) < self.capacity:
                self._trigger_put(None)
