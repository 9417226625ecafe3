"""Sagas on the simulated network: the course's order saga and distlab's, side by side.

Three participants answer requests on a :class:`~distlab.sim.Network`: ``order`` (create the
order PENDING, cancel it, complete it), ``inventory`` (reserve stock, release it) and ``payment``
(charge, refund). Each request carries ``(op, step, saga_id, key)``; a :class:`Participant`
with ``idempotency=True`` answers a repeated key from its
:class:`~distlab.saga.IdempotencyStore` and leaves a tombstone for a compensation that arrives
before its action. Every effect a participant applies is recorded (:attr:`Participant.effects`):
that is the ground truth the end states are read from.

Two orchestrators, each a node: :class:`SagaNode` drives distlab's :class:`~distlab.saga.SagaRun`
core with ``env.now`` and writes every decision to its log (an
:class:`~distlab.saga.InMemoryLog` that survives a crash, or not with ``lost_on_crash=True``) and
``recover()`` s on restart; :class:`CourseSagaNode` is the course's saga, faithfully: no log, no
idempotency key, one attempt at each compensation (a failed one stops the saga there, the order
left ``PENDING``), and only the steps that answered "ok" are compensated.
:func:`simulate_order_sagas` builds a world and runs either.

>>> run = simulate_order_sagas(orders=3, driver="distlab", loss=0.05, duplicate=0.1, seed=1)
>>> run.end_states()["end_state"].tolist()
['completed', 'completed', 'completed']
>>> course = simulate_order_sagas(driver="course", crash_after_step="reserve_stock", seed=1)
>>> course.end_states()[["order", "reserved", "end_state"]].values.tolist()
[['PENDING', 1, 'half_done']]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import simpy

from distlab import outcomes
from distlab._validate import check_bool, check_choice, check_int, check_number
from distlab.retry import ConstantBackoff, RetryPolicy
from distlab.saga import (
    RETRIABLE,
    Finished,
    IdempotencyStore,
    InMemoryLog,
    Journal,
    RunAction,
    Saga,
    SagaResult,
    SagaRun,
    Step,
    Tombstoned,
    Wait,
    temporal_retry,
)
from distlab.saga.core import describe_error
from distlab.sim.distributions import Distribution, as_distribution
from distlab.sim.network import Message, Network
from distlab.sim.rpc import Request, call_process, respond
from distlab.sim.world import World

__all__ = [
    "ATTEMPT_COLUMNS",
    "DRIVERS",
    "END_STATES",
    "HANDLINGS",
    "ORDER_STEPS",
    "PARTICIPANT_OF",
    "CourseSagaNode",
    "Participant",
    "Remote",
    "SagaNode",
    "SagaSimRun",
    "StepRefused",
    "StepTimeout",
    "end_state",
    "order_saga",
    "simulate_order_sagas",
]

#: The order saga's steps, in order, and the participant each runs on.
ORDER_STEPS = ("create_order", "reserve_stock", "charge_payment", "complete_order")
PARTICIPANT_OF = {
    "create_order": "order",
    "reserve_stock": "inventory",
    "charge_payment": "payment",
    "complete_order": "order",
}
#: The two orchestrators :func:`simulate_order_sagas` can run.
DRIVERS = ("distlab", "course")
#: How an order ended, read from the participants' effects (see :func:`end_state`).
END_STATES = ("completed", "compensated", "stuck", "half_done", "inconsistent")
ACTION, COMPENSATION = "action", "compensation"
#: The columns of :meth:`SagaSimRun.attempts`.
ATTEMPT_COLUMNS = (
    "saga_id", "participant", "step", "op", "attempt", "key", "sent", "ended", "outcome",
    "deliveries", "effects", "took_effect", "duplicate", "tombstone",
)  # fmt: skip
ORCHESTRATOR = "orchestrator"


class StepRefused(RuntimeError):
    """A participant's definite "no" (out of stock, card declined): not retried."""


class StepTimeout(RuntimeError):
    """No answer in time: the step may or may not have taken effect."""


class Remote:
    """A step's action or compensation that runs on participant ``node`` of the network (the
    simulated drivers send it there as a request; calling it directly is an error)."""

    def __init__(self, node: str) -> None:
        self.node = node

    def __call__(self, ctx: Any) -> Any:
        raise TypeError(f"this step runs on simulated node {self.node!r}: drive it with SagaNode")

    def __repr__(self) -> str:
        return f"Remote({self.node!r})"


def order_saga(
    *, retries: int = 3, retry_wait_s: float = 0.5, compensation_attempts: int | None = None
) -> Saga:
    """The order saga as distlab runs it: three compensatable steps whose actions are retried
    (same key) up to ``retries`` attempts after a timeout, never after a refusal; then
    ``complete_order``, retriable until it succeeds. Save-points before every step.
    Compensations are retried with :func:`~distlab.saga.temporal_retry` (waits of 1 s, 2 s,
    4 s...), without limit or at most ``compensation_attempts`` times, then the saga is stuck.

    >>> [s.kind for s in order_saga().steps]
    ['compensatable', 'compensatable', 'compensatable', 'retriable']
    """
    retries = check_int("retries", retries, 1, 100)
    wait = check_number("retry_wait_s", retry_wait_s, 0.0)
    undo = None
    if compensation_attempts is not None:
        undo = temporal_retry(
            max_attempts=check_int("compensation_attempts", compensation_attempts, 1, 100)
        )
    policy = RetryPolicy(max_attempts=retries, backoff=ConstantBackoff(wait), retry_on=StepTimeout)
    steps = [
        Step(name, action=Remote(PARTICIPANT_OF[name]),
             compensation=Remote(PARTICIPANT_OF[name]), retry=policy)
        for name in ORDER_STEPS[:-1]
    ]  # fmt: skip
    steps.append(Step(ORDER_STEPS[-1], action=Remote("order"), kind=RETRIABLE))
    return Saga("order", steps, compensation_retry=undo)


# -- participants -----------------------------------------------------------------------------


class Participant:
    """A node answering saga requests ``(op, step, saga_id, key)``, ``op`` ``"action"`` or
    ``"compensation"``; it records each effect it applies in :attr:`effects` as
    ``(time, saga_id, step, op, key)``.

    Args:
        idempotency: answer a repeated key from an :class:`~distlab.saga.IdempotencyStore`
            (``False``: the course's participants, every request takes effect).
        tombstones: with ``idempotency``, a compensation of a key never seen leaves a tombstone
            that refuses the late action (``False``: it does nothing and the action, arriving
            later, takes effect).

    Faults, for experiments: :attr:`refuse` (steps whose action it refuses), :attr:`lose_reply`
    (steps whose first action reply is lost after the effect), :attr:`hold` (step -> seconds
    the first action request is delayed before it arrives), :attr:`refuse_compensation` (steps
    whose compensation it refuses, every time: a compensation with a bug).

    :attr:`handled` records every request it answered, as ``(time, request_id, saga_id, step,
    op, key, handling)``; ``handling`` is one of :data:`HANDLINGS`.
    """

    def __init__(
        self, net: Network, name: str, *, idempotency: bool = True, tombstones: bool = True
    ) -> None:
        self.net = net
        self.name = name
        self.node = net.add_node(name)
        self.node.on_message = self._on_message
        self.tombstones = check_bool("tombstones", tombstones)
        self.store = None
        if check_bool("idempotency", idempotency):
            self.store = IdempotencyStore(
                remember_errors=(StepRefused,), name=name, clock=lambda: net.env.now
            )
        self.refuse: set[str] = set()
        self.lose_reply: set[str] = set()
        self.hold: dict[str, float] = {}
        self.refuse_compensation: set[str] = set()
        self.effects: list[tuple[float, str, str, str, str | None]] = []
        self.handled: list[tuple[float, int, str, str, str, str | None, str]] = []
        self._first: set[tuple[str, str, str]] = set()

    def __repr__(self) -> str:
        return f"Participant({self.name!r}, idempotency={self.store is not None})"

    def _on_message(self, msg: Message) -> None:
        request = msg.payload
        if not isinstance(request, Request):
            return
        op, step, saga_id, _key = request.body
        first = (op, step, saga_id) not in self._first
        self._first.add((op, step, saga_id))
        held = self.hold.get(step) if op == ACTION and first else None
        if held:
            env = self.net.env
            env.timeout(held).callbacks.append(lambda _e: self._answer(msg, first))
        else:
            self._answer(msg, first)

    def _answer(self, msg: Message, first: bool) -> None:
        op, step, saga_id, key = msg.payload.body
        value, error = None, None
        before = len(self.effects)
        seen = self.store.state(key) if self.store is not None and key is not None else None
        try:
            value = self.apply(op, step, saga_id, key)
        except (StepRefused, Tombstoned) as exc:
            error = describe_error(exc)
        handling = _handling(op, len(self.effects) > before, seen, error, self.tombstones)
        self.handled.append(
            (self.net.env.now, msg.payload.request_id, saga_id, step, op, key, handling)
        )
        if op == ACTION and first and step in self.lose_reply:
            return
        respond(self.net, msg, value=value, error=error)

    def apply(self, op: str, step: str, saga_id: str, key: str | None) -> Any:
        """Apply one request now (what a delivered message does); returns the answer."""
        store = self.store
        if op == ACTION:
            if store is None or key is None:
                return self._do(saga_id, step, key)
            return store.run(key, self._do, saga_id, step, key)
        if step in self.refuse_compensation:
            raise StepRefused(f"{self.name} fails to undo {step}")
        if store is None or key is None:
            self._undo(None, saga_id, step, key)
        elif self.tombstones or store.state(key) is not None:
            store.compensate(key, self._undo, saga_id, step, key)
        return None

    def _do(self, saga_id: str, step: str, key: str | None) -> str:
        if step in self.refuse:
            raise StepRefused(f"{self.name} refuses {step}")
        self.effects.append((self.net.env.now, saga_id, step, ACTION, key))
        return f"{step}:{saga_id}"

    def _undo(self, _result: Any, saga_id: str, step: str, key: str | None) -> None:
        self.effects.append((self.net.env.now, saga_id, step, COMPENSATION, key))

    def count(self, saga_id: str, step: str, op: str = ACTION) -> int:
        """How many times ``op`` of ``step`` took effect here for ``saga_id``."""
        return sum(1 for e in self.effects if e[1] == saga_id and e[2] == step and e[3] == op)


#: How a participant handled a request: ``effect`` (it took effect), ``replayed`` (a key seen
#: before: answered from the record, no effect), ``tombstone`` (a compensation that found no
#: action left a tombstone, or an action refused by one: no effect), ``refused`` (a definite
#: no), ``ignored`` (a compensation of an action never seen, without tombstones: no effect).
HANDLINGS = ("effect", "replayed", "tombstone", "refused", "ignored")


def _handling(op: str, effect: bool, seen: str | None, error: str | None, tombstones: bool) -> str:
    """How a request was handled, from whether it took effect, the key's state before it
    (``seen``, ``None`` without idempotency or for a new key) and the error it answered."""
    if effect:
        return "effect"
    if error is not None:
        if "Tombstoned" in error:
            return "tombstone"
        return "replayed" if op == ACTION and seen == "failed" else "refused"
    if op == ACTION:
        return "replayed"
    if seen is None:
        return "tombstone" if tombstones else "ignored"
    return "replayed" if seen in ("undone", "tombstone") else "ignored"


# -- orchestrators ----------------------------------------------------------------------------


class _OrchestratorNode:
    """What both orchestrators share: a node, crashes and restarts, calls to participants.

    What it did, for timelines: :attr:`calls` (one ``(request_id, saga_id, step, op, key,
    attempt, sent, ended, outcome)`` per request sent; ``attempt`` counts the requests for that
    saga, step and op, over retries and crashes), :attr:`crash_times` and
    :attr:`restart_times`.
    """

    def __init__(self, net: Network, name: str, timeout_s: float) -> None:
        self.net = net
        self.name = name
        self.node = net.add_node(name)
        self.timeout_s = check_number("timeout_s", timeout_s, 0.0, min_inclusive=False)
        self.crash_after_step: str | None = None
        self.down_s = 1.0
        self.crashes = 0
        self.calls: list[tuple] = []
        self.crash_times: list[float] = []
        self.restart_times: list[float] = []
        self._tries: dict[tuple[str, str, str], int] = {}

    def crash(self) -> None:
        """Crash the orchestrator now; it restarts ``down_s`` later."""
        self.net.crash(self.name)
        self.crashes += 1
        self.crash_times.append(self.net.env.now)
        self.net.env.timeout(self.down_s).callbacks.append(lambda _e: self.restart())

    def restart(self) -> None:
        """Bring the node back (subclasses then recover what they can)."""
        self.net.restart(self.name)
        self.restart_times.append(self.net.env.now)

    def crash_at(self, times: Iterable[float]) -> None:
        """Crash at each of ``times`` (simulated seconds) when up."""
        for t in times:
            delay = max(0.0, float(t) - self.net.env.now)
            self.net.env.timeout(delay).callbacks.append(
                lambda _e: self.crash() if self.node.alive else None
            )

    def request(self, op: str, step: str, saga_id: str, key: str | None):
        """Call the step's participant; the value is ``None`` (ok, or dead) or an exception."""
        body = (op, step, saga_id, key)
        tries = self._tries
        attempt = tries[op, step, saga_id] = tries.get((op, step, saga_id), 0) + 1
        result = yield from call_process(
            self.net, self.name, PARTICIPANT_OF[step], body, self.timeout_s
        )
        self.calls.append(
            (result.request_id, saga_id, step, op, key, attempt, result.started, result.ended,
             result.outcome)
        )  # fmt: skip
        if result.outcome == outcomes.OK:
            return None, result.value
        if result.outcome == outcomes.TIMEOUT:
            return StepTimeout(
                f"no answer from {PARTICIPANT_OF[step]} in {self.timeout_s:g} s"
            ), None
        return StepRefused(result.error or "refused"), None


class SagaNode(_OrchestratorNode):
    """distlab's orchestrator as a node: it drives :class:`~distlab.saga.SagaRun` with
    ``env.now``, writes each decision to ``log`` before acting on it, and on restart
    ``recover()`` s every unfinished saga of the log (``crash_after_step``: crash once, right
    after that step's success is logged; :meth:`crash_at`: crash at given times)."""

    def __init__(
        self,
        net: Network,
        *,
        sagas: Iterable[Saga],
        log: InMemoryLog | None = None,
        name: str = ORCHESTRATOR,
        timeout_s: float = 0.5,
    ) -> None:
        super().__init__(net, name, timeout_s)
        self.log = log if log is not None else InMemoryLog()
        self.journal = Journal(self.log, sagas, name=name, owner=name, lease=1e12)
        self.journal.subscribe(self._on_event)
        self.results: dict[str, SagaResult] = {}
        self.recovered = 0
        #: Every record written to the log, as ``(time, saga_id, kind, step)``.
        self.log_writes: list[tuple[float, str, str, str | None]] = []

    def start(self, saga: Saga, saga_id: str, *, data: Any = None) -> None:
        """Start a new saga now (nothing happens if the node is down: the request is lost)."""
        if not self.node.alive:
            return
        env = self.net.env
        run = self.journal.begin(saga, saga_id=saga_id, data=data, now=env.now, rng=None)
        env.process(self._drive(run, self.node.incarnation))

    def crash(self) -> None:
        """Crash: the node and, with ``lost_on_crash``, the log's records are gone."""
        super().crash()
        self.log.crash()

    def restart(self) -> None:
        """Restart and :meth:`recover`."""
        super().restart()
        self.recover()

    def recover(self) -> None:
        """Carry on every unfinished saga of the log (none if the log was lost)."""
        env = self.net.env
        for saga_id in self.log.unfinished():
            run = self.journal.claim(saga_id, env.now)
            if run is not None:
                self.recovered += 1
                env.process(self._drive(run, self.node.incarnation))

    def _on_event(self, event: Any) -> None:
        self.log_writes.append((event.time, event.saga_id, event.kind, event.step))
        if (
            event.kind == "action_ended"
            and event.outcome == outcomes.OK
            and event.step == self.crash_after_step
        ):
            self.crash_after_step = None
            self.crash()

    def _drive(self, run: SagaRun, incarnation: int):
        env, journal, node = self.net.env, self.journal, self.node
        while node.incarnation == incarnation:
            command = run.next(env.now)
            journal.write(run, env.now)  # durable before it is acted on
            if node.incarnation != incarnation:
                return
            if isinstance(command, Finished):
                self.results[run.saga_id] = command.result
                return
            if isinstance(command, Wait):
                yield env.timeout(command.delay)
                continue
            ctx = command.context
            op = ACTION if isinstance(command, RunAction) else COMPENSATION
            error, value = yield from self.request(op, ctx.step, ctx.saga_id, ctx.key)
            if node.incarnation != incarnation:
                return  # died waiting: the reply, if any, is lost with it
            if op == ACTION:
                run.action_ended(env.now, result=value, error=error)
            else:
                run.compensation_ended(env.now, error=error)
            journal.write(run, env.now)  # the outcome is durable before the next decision


class CourseSagaNode(_OrchestratorNode):
    """The course's order saga, faithfully: no saga log (only the order row), no idempotency
    key, each step one call; a failure compensates the steps that answered ok, latest first,
    one attempt each; a compensation that fails stops it there (the course's error propagates
    out of its ``catch``: the order stays ``PENDING``, status ``"error"``); a crash loses the
    saga."""

    def __init__(self, net: Network, *, name: str = ORCHESTRATOR, timeout_s: float = 0.5):
        super().__init__(net, name, timeout_s)
        self.results: dict[str, str] = {}

    def start(self, saga_id: str) -> None:
        """Run ``createOrder`` for ``saga_id`` now (nothing if the node is down)."""
        if self.node.alive:
            self.net.env.process(self._create_order(saga_id, self.node.incarnation))

    def _step(self, op: str, step: str, saga_id: str, incarnation: int):
        error, _value = yield from self.request(op, step, saga_id, None)
        alive = self.node.incarnation == incarnation
        if alive and op == ACTION and error is None and step == self.crash_after_step:
            self.crash_after_step = None
            self.crash()
            alive = False
        return alive, error is None

    def _create_order(self, saga_id: str, inc: int):
        done: list[str] = []
        for step in ORDER_STEPS:
            alive, ok = yield from self._step(ACTION, step, saga_id, inc)
            if not alive:
                return
            if not ok and step == ORDER_STEPS[-1]:  # the final update is outside any try
                self.results[saga_id] = "error"
                return
            if not ok:
                for undo in reversed(done):  # release inventory, cancel the order
                    alive, undone = yield from self._step(COMPENSATION, undo, saga_id, inc)
                    if not alive:
                        return
                    if not undone:  # the error propagates out of the catch: nothing more runs
                        self.results[saga_id] = "error"
                        return
                self.results[saga_id] = "compensated"
                return
            done.append(step)
        self.results[saga_id] = "completed"


# -- a whole run ------------------------------------------------------------------------------


def end_state(order: str | None, reserved: int, charged: int, status: str | None) -> str:
    """How an order ended (:data:`END_STATES`): ``stuck`` if its saga is; ``completed`` (order
    COMPLETED, stock reserved once, charged once); ``compensated`` (no order or CANCELLED,
    nothing reserved or charged); ``half_done`` (PENDING: stock reserved or not, never
    finished); ``inconsistent`` (anything else: cancelled but charged, charged twice...).

    >>> end_state("PENDING", 1, 0, None), end_state("CANCELLED", 0, 1, "compensated")
    ('half_done', 'inconsistent')
    """
    if status == "stuck":
        return "stuck"
    if order == "COMPLETED" and reserved == 1 and charged == 1:
        return "completed"
    if order in (None, "CANCELLED") and reserved == 0 and charged == 0:
        return "compensated"
    if order == "PENDING":
        return "half_done"
    return "inconsistent"


@dataclass(frozen=True)
class SagaSimRun:
    """A finished simulation: the ``world``, the ``participants`` by name, the
    ``orchestrator`` and the ``saga_ids``; :meth:`end_states` reads how each order ended;
    :meth:`attempts`, :meth:`crashes` and :meth:`log_writes` are what a timeline draws.

    >>> run = simulate_order_sagas(crash_after_step="create_order", latency_s=0.1)
    >>> run.attempts()[["step", "sent", "outcome"]].values.tolist()[:2]
    [['create_order', 0.0, 'ok'], ['reserve_stock', 1.2, 'ok']]
    >>> run.crashes().values.tolist(), len(run.log_writes())
    ([[0.2, 1.2, 'crashed']], 10)
    """

    world: World
    participants: dict[str, Participant]
    orchestrator: SagaNode | CourseSagaNode
    saga_ids: tuple[str, ...]

    def order_status(self, saga_id: str) -> str | None:
        """The order's status from the order participant's effects, in the order applied."""
        return _order_statuses(self.participants["order"].effects).get(saga_id)

    def end_states(self) -> pd.DataFrame:
        """One row per saga: ``saga_id``, ``status`` (the orchestrator's word, ``None`` if it
        never said), ``order``, ``reserved`` and ``charged`` (net: actions minus
        compensations), ``charges`` (charges that took effect), ``end_state``."""
        took = Counter(
            (sid, step, op)
            for name in ("inventory", "payment")
            for _t, sid, step, op, _key in self.participants[name].effects
        )
        orders = _order_statuses(self.participants["order"].effects)
        rows = []
        for sid in self.saga_ids:
            result = self.orchestrator.results.get(sid)
            status = getattr(result, "status", result)
            if isinstance(self.orchestrator, SagaNode) and status is None:
                status = self.orchestrator.log.status(sid)
            reserved = took[sid, "reserve_stock", ACTION] - took[sid, "reserve_stock", COMPENSATION]
            charges = took[sid, "charge_payment", ACTION]
            charged = charges - took[sid, "charge_payment", COMPENSATION]
            order = orders.get(sid)
            rows.append(
                (sid, status, order, reserved, charged, charges,
                 end_state(order, reserved, charged, status))
            )  # fmt: skip
        columns = ["saga_id", "status", "order", "reserved", "charged", "charges", "end_state"]
        return pd.DataFrame(rows, columns=columns)

    def attempts(self) -> pd.DataFrame:
        """One row per request the orchestrator sent (each step attempt and each compensation
        attempt), in the order they ended: ``saga_id``, ``participant``, ``step``, ``op``
        (``action`` or ``compensation``), ``attempt`` (1, 2, ... per saga, step and op, over
        retries and crashes), ``key`` (the idempotency key, ``None`` for the course), ``sent``
        and ``ended`` (seconds: the answer came, or the orchestrator stopped waiting),
        ``outcome`` (what the orchestrator saw: ``ok``, ``error`` or ``timeout``), and what the
        participant did with it (the network may deliver a request twice, or not at all):
        ``deliveries``, ``effects`` (deliveries that took effect), ``took_effect``,
        ``duplicate`` (answered from the idempotency record, no effect) and ``tombstone`` (a
        no-op because of a tombstone: a compensation that left one, or an action it refused).
        """
        handled: dict[int, list[str]] = {}
        for part in self.participants.values():
            for row in part.handled:
                handled.setdefault(row[1], []).append(row[6])
        rows = []
        for rid, sid, step, op, key, attempt, sent, ended, outcome in self.orchestrator.calls:
            seen = handled.get(rid, [])
            effects = seen.count("effect")
            rows.append(
                (sid, PARTICIPANT_OF[step], step, op, attempt, key, sent, ended, outcome,
                 len(seen), effects, effects > 0, "replayed" in seen, "tombstone" in seen)
            )  # fmt: skip
        return pd.DataFrame(rows, columns=list(ATTEMPT_COLUMNS))

    def crashes(self) -> pd.DataFrame:
        """One row per crash of the orchestrator: ``start``, ``end`` (its restart; ``NaN`` if
        it had not restarted when the simulation stopped), ``state`` (``"crashed"``)."""
        node = self.orchestrator
        ends = list(node.restart_times) + [float("nan")] * len(node.crash_times)
        return pd.DataFrame(
            {"start": node.crash_times, "end": ends[: len(node.crash_times)],
             "state": ["crashed"] * len(node.crash_times)},
            columns=["start", "end", "state"],
        )  # fmt: skip

    def log_writes(self) -> pd.DataFrame:
        """One row per record written to distlab's saga log: ``time``, ``saga_id``, ``kind``
        (see :mod:`distlab.saga.records`), ``step``; empty for the course (it keeps no log)."""
        writes = getattr(self.orchestrator, "log_writes", [])
        return pd.DataFrame(writes, columns=["time", "saga_id", "kind", "step"])


def _order_statuses(effects: Iterable[tuple]) -> dict[str, str]:
    """Each saga's order status after the order participant's ``effects``, in the order applied."""
    statuses: dict[str, str] = {}
    for _t, sid, step, op, _key in effects:
        if step == "create_order":
            statuses[sid] = "PENDING" if op == ACTION else "CANCELLED"
        elif op == ACTION:
            statuses[sid] = "COMPLETED"
    return statuses


def simulate_order_sagas(
    *,
    orders: int = 1,
    driver: str = "distlab",
    idempotency: bool = True,
    tombstones: bool = True,
    log_lost_on_crash: bool = False,
    latency_s: float | Distribution = 0.01,
    loss: float = 0.0,
    duplicate: float = 0.0,
    timeout_s: float = 0.5,
    fail_step: str | None = None,
    lose_reply_step: str | None = None,
    hold_step: str | None = None,
    hold_s: float = 1.0,
    crash_after_step: str | None = None,
    crash_at: Iterable[float] = (),
    down_s: float = 1.0,
    retries: int = 3,
    horizon_s: float = 3600.0,
    fail_compensation_step: str | None = None,
    compensation_attempts: int | None = None,
    seed: int = 0,
) -> SagaSimRun:
    """Run ``orders`` order sagas (started 0.1 s apart) with ``driver`` (:data:`DRIVERS`) on a
    network of ``latency_s`` (seconds, constant, or a distribution such as ``Exponential(0.01)``:
    then a duplicate or a retried request can overtake an earlier one), ``loss`` and
    ``duplicate`` probabilities, until
    ``horizon_s``. Faults: ``fail_step`` (its participant refuses it), ``lose_reply_step`` (the
    first reply to it is lost after the effect), ``hold_step`` (its first request arrives
    ``hold_s`` late), ``crash_after_step`` (the orchestrator crashes once right after that
    step succeeds) and ``crash_at`` (crash times); each crash lasts ``down_s``;
    ``fail_compensation_step`` (its participant refuses to undo it, every time: distlab retries
    the compensation ``compensation_attempts`` times, default without limit, then the saga is
    stuck; the course tries once and stops there, the order left ``PENDING``). The course
    driver has no keys, so its participants run without idempotency whatever ``idempotency``
    says. See the module docstring for an example.
    """
    driver = check_choice("driver", driver, DRIVERS)
    _check_steps(
        fail_step=fail_step, lose_reply_step=lose_reply_step, hold_step=hold_step,
        crash_after_step=crash_after_step, fail_compensation_step=fail_compensation_step,
    )  # fmt: skip
    if compensation_attempts is not None:
        check_int("compensation_attempts", compensation_attempts, 1, 100)
    world = World(seed, log_messages=False)
    latency = as_distribution(latency_s, name="latency_s")
    net = Network(world, latency=latency, loss=loss, duplicate=duplicate)
    keyed = driver == "distlab" and check_bool("idempotency", idempotency)
    participants = {
        name: Participant(net, name, idempotency=keyed, tombstones=tombstones)
        for name in ("order", "inventory", "payment")
    }
    _inject(
        participants, fail_step, lose_reply_step, hold_step, check_number("hold_s", hold_s, 0.0),
        fail_compensation_step,
    )  # fmt: skip
    if driver == "distlab":
        saga = order_saga(retries=retries, compensation_attempts=compensation_attempts)
        node: SagaNode | CourseSagaNode = SagaNode(
            net, sagas=[saga], timeout_s=timeout_s,
            log=InMemoryLog(lost_on_crash=log_lost_on_crash),
        )  # fmt: skip
    else:
        node = CourseSagaNode(net, timeout_s=timeout_s)
    node.crash_after_step = crash_after_step
    node.down_s = check_number("down_s", down_s, 0.0, min_inclusive=False)
    node.crash_at(_check_times(crash_at))
    ids = tuple(f"o{i}" for i in range(check_int("orders", orders, 1, 100_000)))
    _schedule_starts(world, node, ids)
    world.run(until=check_number("horizon_s", horizon_s, 0.0, min_inclusive=False))
    return SagaSimRun(world, participants, node, ids)


def _check_steps(**steps: str | None) -> None:
    for param, value in steps.items():
        if value is not None:  # the last step has no compensation to fail
            allowed = ORDER_STEPS[:-1] if param == "fail_compensation_step" else ORDER_STEPS
            check_choice(param, value, allowed)


def _inject(
    parts: dict[str, Participant], fail: Any, lose: Any, hold: Any, hold_s: float, undo: Any
) -> None:
    if undo is not None:
        parts[PARTICIPANT_OF[undo]].refuse_compensation.add(undo)
    if fail is not None:
        parts[PARTICIPANT_OF[fail]].refuse.add(fail)
    if lose is not None:
        parts[PARTICIPANT_OF[lose]].lose_reply.add(lose)
    if hold is not None:
        parts[PARTICIPANT_OF[hold]].hold[hold] = hold_s


def _check_times(times: Any) -> list[float]:
    if isinstance(times, (str, bytes)) or not isinstance(times, Iterable):
        raise TypeError(f"crash_at={times!r} must be a list of times in seconds")
    return [check_number("crash_at", t, 0.0) for t in times]


def _schedule_starts(world: World, node: SagaNode | CourseSagaNode, ids: tuple[str, ...]) -> None:
    saga = next(iter(node.journal.sagas.values())) if isinstance(node, SagaNode) else None
    starter: Callable[[str], None] = (
        (lambda sid: node.start(saga, sid)) if saga is not None else node.start  # type: ignore[union-attr,arg-type]
    )
    env: simpy.Environment = world.env
    for i, sid in enumerate(ids):
        env.timeout(0.1 * i).callbacks.append(lambda _e, sid=sid: starter(sid))
