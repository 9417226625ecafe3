"""Leaderless N/R/W quorums (Dynamo, DeCandia et al. 2007): the ``"leaderless"`` kind of
:class:`~distlab.sim.ReplicatedStore`.

Each key lives on ``n`` replicas, its **preference list**: the ring of store nodes (in
``store.names`` order) from a position set by a hash of the key (``n`` = the number of nodes by
default: every node holds every key). Any store node coordinates. A write gets a new
:class:`~distlab.sim.versions.Version` and is sent to all ``n`` replicas; the coordinator
answers after ``w`` acknowledgements. A read asks all ``n`` and answers with the merge of the
first ``r`` replies (expanding quorums, as in PBS's WARS model); without ``w`` (``r``) replies
within ``phase_timeout_s`` the answer is ``"unavailable"``. Options:

- ``read_repair``: the coordinator keeps collecting replies until ``phase_timeout_s`` after
  answering and sends the merged state to every replica of the preference list that was behind;
- anti-entropy (the store's ``anti_entropy_s``, off by default): every period each node
  exchanges its versions of the keys they share with a random peer, both ways;
- ``sloppy``: a preferred replica the coordinator cannot reach (the network's reachability as the
  failure detector) is replaced by the next reachable node of the ring past the preference list,
  which keeps the write apart as a **hint** for the intended node and hands it off once it can
  reach it again (checked every :data:`HANDOFF_CHECK_S`). :meth:`Leaderless.hinted_writes`
  says which writes were hinted, where, and when handed off;
- ``conflicts``: ``"siblings"`` keeps concurrent versions (dotted version vectors) and a read
  returns them together as :class:`~distlab.sim.versions.Siblings`, with the read's causal
  context as its ``stamp``; a write of ``Versioned(value, context)`` supersedes what that read
  saw. ``"lww"``: the greatest stamp ``(clock, writer, seq)`` wins (clocks may be skewed).
  Blind writes (plain values) under ``"siblings"`` pile up: each is concurrent with every
  version held, as in Riak without a causal context. ``"crdt"``: every value written must be a
  CRDT (something with ``merge``, e.g. :mod:`distlab.crdt`'s types; anything else is refused
  with a ``ValueError``); concurrent versions become ONE version whose value is their merge,
  wherever states meet (a replica's write, the coordinator's read, read repair, anti-entropy,
  hinted handoff), as in Riak's data types: concurrent increments all count.

Writes are recorded in ``store.writes`` (for ``acked``), but ``store.lost_writes()`` does not
apply to this kind: which versions survive is ``conflicts``'s rule, and
:mod:`distlab.experiments.convergence` counts the updates each mode loses.

>>> from distlab.sim import World, Network, ReplicatedStore
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = ReplicatedStore(net, "leaderless", nodes=3, n=3, r=1, w=1)
>>> store.attach_client("c1", "n1"); store.attach_client("c2", "n2")
>>> a = store.request("c1", "write", value="a"); b = store.request("c2", "write", value="b")
>>> world.run(until=1)
>>> read = store.request("c1", "read"); world.run(until=2)
>>> read.value.result                                  # concurrent writes: siblings
Siblings(values=('a', 'b'))
>>> from distlab.sim.versions import Versioned
>>> _ = store.request("c1", "write", value=Versioned("ab", read.value.stamp)); world.run(until=3)
>>> store.values("x")                                  # the write that saw both supersedes them
{'n1': 'ab', 'n2': 'ab', 'n3': 'ab'}

With ``conflicts="crdt"``, concurrent increments of a counter merge instead:

>>> from distlab.crdt import GCounter
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = ReplicatedStore(net, "leaderless", nodes=3, r=1, w=1, conflicts="crdt")
>>> store.attach_client("c1", "n1"); store.attach_client("c2", "n2")
>>> _ = store.request("c1", "write", value=GCounter().increment("c1"))
>>> _ = store.request("c2", "write", value=GCounter().increment("c2", 2))
>>> world.run(until=1)
>>> {node: counter.value for node, counter in store.values("x").items()}
{'n1': 3, 'n2': 3, 'n3': 3}
>>> store.request("c1", "write", value=4)  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: value=4 cannot be written with conflicts='crdt': it must be a CRDT with a merge ...
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distlab._validate import check_bool, check_choice, check_int
from distlab.sim.store_messages import Answer, StoreRequest, Unavailable
from distlab.sim.store_protocols import INITIAL_STAMP, Coordination, StoreProtocol
from distlab.sim.versions import (
    CONFLICT_MODES,
    CausalContext,
    KeyState,
    Version,
    Versioned,
    check_crdt_value,
    merge_states,
)

if TYPE_CHECKING:  # pragma: no cover
    import simpy

    from distlab.sim.network import Message
    from distlab.sim.stores import ReplicatedStore

__all__ = [
    "HANDOFF_CHECK_S",
    "HintedWrite",
    "Leaderless",
    "QuorumConfig",
    "quorum_config",
]

#: How often a node holding hints checks whether it can reach their intended replicas (s).
HANDOFF_CHECK_S = 0.05


@dataclass(frozen=True)
class QuorumConfig:
    """The ``"leaderless"`` kind's parameters, validated (see :func:`quorum_config`).

    >>> QuorumConfig(3, 1, 1, False, False, "lww").w
    1
    """

    n: int
    r: int
    w: int
    read_repair: bool
    sloppy: bool
    conflicts: str


def quorum_config(
    nodes: int,
    *,
    n: int | None = None,
    r: int | None = None,
    w: int | None = None,
    read_repair: bool = True,
    sloppy: bool = False,
    conflicts: str = "siblings",
) -> QuorumConfig:
    """Check the leaderless parameters for a store of ``nodes`` nodes: ``n`` replicas per key
    (1..nodes, default all), ``r`` and ``w`` in 1..n (default a majority of ``n``).

    >>> quorum_config(5, n=3)
    QuorumConfig(n=3, r=2, w=2, read_repair=True, sloppy=False, conflicts='siblings')
    >>> quorum_config(3, r=4)
    Traceback (most recent call last):
    ValueError: r=4 must be between 1 and n=3
    """
    n = nodes if n is None else check_int("n", n)
    if not 1 <= n <= nodes:
        raise ValueError(f"n={n} must be between 1 and the number of nodes ({nodes})")
    quorums = {}
    for name, value in (("r", r), ("w", w)):
        value = n // 2 + 1 if value is None else check_int(name, value)
        if not 1 <= value <= n:
            raise ValueError(f"{name}={value} must be between 1 and n={n}")
        quorums[name] = value
    return QuorumConfig(
        n,
        quorums["r"],
        quorums["w"],
        check_bool("read_repair", read_repair),
        check_bool("sloppy", sloppy),
        check_choice("conflicts", conflicts, CONFLICT_MODES),
    )


@dataclass(slots=True)
class HintedWrite:
    """A write a fallback node (``holder``) took for ``intended`` at ``hinted_at``;
    ``handed_off_at`` is when ``intended`` acknowledged it (``None`` until then).

    >>> HintedWrite("x", (0.1, 0, 1), ("n1", 1), "n3", "n4", 0.1).handed_off_at is None
    True
    """

    key: str
    stamp: tuple
    dot: tuple
    intended: str
    holder: str
    hinted_at: float
    handed_off_at: float | None = None


# -- messages between the nodes (the coordinator's address rides along: replies go to it) -------
@dataclass(frozen=True, slots=True)
class ReadKey:
    """Coordinator -> replica: your state of ``key``."""

    key: str
    coord: str
    on_reply: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class KeyReply:
    """Replica -> coordinator: ``node`` holds ``state`` for the key asked."""

    node: str
    state: KeyState


@dataclass(frozen=True, slots=True)
class WriteKey:
    """Coordinator -> replica: merge ``state`` into ``key`` (as a hint for ``hint_for``, if set)."""

    key: str
    state: KeyState
    coord: str
    hint_for: str | None
    on_reply: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class WriteAck:
    """Replica -> coordinator: ``node`` stored the write."""

    node: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """Anti-entropy: ``src``'s states of the keys it shares with the receiver; ``reply``: send
    yours back."""

    states: dict
    src: str
    reply: bool


@dataclass(frozen=True, slots=True)
class Handoff:
    """A hint's holder -> its intended replica: merge ``state`` into ``key``."""

    key: str
    state: KeyState
    src: str


@dataclass(frozen=True, slots=True)
class HandoffAck:
    """The intended replica -> the hint's holder: ``state`` of ``key`` is delivered."""

    key: str
    state: KeyState
    node: str


class _Replies:
    """Replies to one phase; ``event`` fires at ``needed``; later replies still count."""

    __slots__ = ("needed", "replies", "event")

    def __init__(self, env: simpy.Environment, needed: int) -> None:
        self.needed = needed
        self.replies: list[Any] = []
        self.event = env.event()

    def add(self, reply: Any) -> None:
        self.replies.append(reply)
        if len(self.replies) >= self.needed and not self.event.triggered:
            self.event.succeed(True)

    def deliver(self, message: Message) -> None:
        self.add(message.payload)


class Leaderless(StoreProtocol):
    """The ``"leaderless"`` kind (see the module docstring).

    State: ``states[node][key]`` (a :class:`~distlab.sim.versions.KeyState`; mirrored into
    ``store.replicas`` as ``(stamp, value)``, siblings as a :class:`Siblings` value),
    ``hints[node][(intended, key)]`` (hinted states a fallback holds), ``read_repairs``
    (``(time, node, key)`` per repair sent) and ``config`` (a :class:`QuorumConfig`).

    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> store = ReplicatedStore(Network(World()), "leaderless", nodes=5, n=3, w=1)
    >>> store.protocol.preference_list("x"), store.protocol.config.w
    (['n4', 'n5', 'n1'], 1)
    """

    kind = "leaderless"
    supports_cas = False
    clock_stamps = True
    default_anti_entropy_s = 0.0
    own_anti_entropy = True

    def __init__(self, store: ReplicatedStore) -> None:
        super().__init__(store)
        self.states: dict[str, dict[str, KeyState]] = {}
        self.hints: dict[str, dict[tuple[str, str], KeyState]] = {}
        self.hint_log: list[HintedWrite] = []
        self.read_repairs: list[tuple[float, str, str]] = []
        self.counters: dict[tuple[str, str], int] = {}

    def start(self) -> None:
        """Set up the replicas and start the handoff and anti-entropy loops (called by the
        store)."""
        store = self.store
        self.config: QuorumConfig = store.quorum
        self.states = {name: {} for name in store.names}
        self.hints = {name: {} for name in store.names}
        if len(store.names) > 1:
            for name in store.names:
                if self.config.sloppy:
                    store.env.process(self._handoff_loop(name))
                if store.anti_entropy_s > 0:
                    store.env.process(self._anti_entropy(name))

    def check_write(self, value: Any) -> Any:
        """With ``conflicts="crdt"``, refuse a value (or a :class:`Versioned`'s value) without
        a ``merge`` method; the CRDT."""
        if self.store.quorum.conflicts != "crdt":
            return None
        return check_crdt_value("value", value.value if isinstance(value, Versioned) else value)

    # -- placement -----------------------------------------------------------------------------
    def preference_list(self, key: str) -> list[str]:
        """The ``n`` replicas of ``key``: the ring from the key's hash position."""
        return self._ring(key)[: self.config.n]

    def _ring(self, key: str) -> list[str]:
        names = self.store.names
        start = zlib.crc32(key.encode()) % len(names)
        return names[start:] + names[:start]

    def targets(self, coord: str, key: str) -> list[tuple[str, str | None]]:
        """``(node, hint_for)`` pairs the coordinator sends to: the preference list, where
        (with ``sloppy``) each replica it cannot reach is replaced by the next reachable
        fallback, holding a hint for it."""
        ring = self._ring(key)
        prefs, fallbacks = ring[: self.config.n], ring[self.config.n :]
        if not self.config.sloppy:
            return [(p, None) for p in prefs]
        reach = self.store.net.can_reach
        out: list[tuple[str, str | None]] = []
        for p in prefs:
            if reach(coord, p):
                out.append((p, None))
                continue
            while fallbacks and not reach(coord, fallbacks[0]):
                fallbacks.pop(0)
            if fallbacks:
                out.append((fallbacks.pop(0), p))
        return out

    # -- the coordinator -----------------------------------------------------------------------
    def coordinate(self, node: str, request: StoreRequest) -> Coordination:
        if request.f == "read":
            return (yield from self._read(node, request.key))
        return (yield from self._write(node, request))

    def _send(self, coord: str, targets, make, needed: int) -> _Replies:
        gather = _Replies(self.store.env, needed)
        for target, hint_for in targets:
            msg = make(hint_for, gather.deliver)
            if target == coord:
                gather.add(self.serve(coord, msg))
            else:
                self.store.net.send(coord, target, msg)
        return gather

    def _write(self, coord: str, request: StoreRequest) -> Coordination:
        store, key, value = self.store, request.key, request.value
        context = CausalContext()
        if isinstance(value, Versioned):
            value, context = value.value, value.context
        count = self.counters.get((coord, key), 0) + 1
        self.counters[(coord, key)] = count
        stamp = self.new_stamp(coord, INITIAL_STAMP)
        store.record_write(stamp, INITIAL_STAMP, value, coord, request.f)
        delta = KeyState.of(Version(stamp, (coord, count), value), context)
        targets = self.targets(coord, key)
        gather = self._send(
            coord,
            targets,
            lambda hint_for, on_reply: WriteKey(key, delta, coord, hint_for, on_reply),
            self.config.w,
        )
        if not gather.event.triggered:
            yield gather.event | store.env.timeout(store.phase_timeout_s)
        if len(gather.replies) < self.config.w:
            return Unavailable(partial=True)
        return Answer(value, stamp)

    def _read(self, coord: str, key: str) -> Coordination:
        store, r = self.store, self.config.r
        targets = self.targets(coord, key)
        gather = self._send(
            coord, targets, lambda _hint, on_reply: ReadKey(key, coord, on_reply), r
        )
        if not gather.event.triggered:
            yield gather.event | store.env.timeout(store.phase_timeout_s)
        replies = list(gather.replies)
        if len(replies) < r:
            return Unavailable()
        state = self._merge_all(replies)
        if self.config.read_repair:
            store.env.process(self._repair(coord, key, gather, len(targets)))
        if self.config.conflicts == "siblings":
            return Answer(state.result, state.context)
        return Answer(state.result, state.stamp or INITIAL_STAMP)

    def _merge_all(self, replies: list[KeyReply]) -> KeyState:
        state = KeyState()
        for reply in replies:
            state = merge_states(state, reply.state, self.config.conflicts)
        return state

    def _repair(self, coord: str, key: str, gather: _Replies, asked: int):
        """Read repair: once every replica asked replied (or the phase timed out), send the
        merged state to the preferred replicas that were behind."""
        store = self.store
        if len(gather.replies) < asked:
            gather.needed = asked
            gather.event = store.env.event()
            yield gather.event | store.env.timeout(store.phase_timeout_s)
        replies = list(gather.replies)
        merged = self._merge_all(replies)
        prefs = self.preference_list(key)
        for reply in replies:
            if reply.node in prefs and reply.state != merged:
                self.read_repairs.append((float(store.env.now), reply.node, key))
                msg = WriteKey(key, merged, coord, None, _ignore)
                if reply.node == coord:
                    self.serve(coord, msg)
                else:
                    store.net.send(coord, reply.node, msg)

    # -- the replica's side --------------------------------------------------------------------
    def serve(self, node: str, message: Any) -> Any:
        """What ``node`` answers to a :class:`ReadKey` (its state, hints included) or a
        :class:`WriteKey` (it stores the write, as a hint if it is one, and acknowledges)."""
        if isinstance(message, ReadKey):
            state = self.state(node, message.key)
            for (_, key), hinted in self.hints[node].items():
                if key == message.key:
                    state = merge_states(state, hinted, self.config.conflicts)
            return KeyReply(node, state)
        if message.hint_for is None or message.hint_for == node:
            self.apply(node, message.key, message.state)
        else:
            self._hold_hint(node, message.hint_for, message.key, message.state)
        return WriteAck(node)

    def receive(self, node: str, payload: Any) -> None:
        """Handle the kind's messages (see the message classes of this module)."""
        net = self.store.net
        if isinstance(payload, (ReadKey, WriteKey)):
            net.send(node, payload.coord, self.serve(node, payload), on_delivery=payload.on_reply)
        elif isinstance(payload, Exchange):
            for key, state in payload.states.items():
                self.apply(node, key, state)
            if payload.reply:
                net.send(node, payload.src, Exchange(self._shared(node, payload.src), node, False))
        elif isinstance(payload, Handoff):
            self.apply(node, payload.key, payload.state)
            net.send(node, payload.src, HandoffAck(payload.key, payload.state, node))
        elif isinstance(payload, HandoffAck):
            self._handed_off(node, payload)

    def state(self, node: str, key: str) -> KeyState:
        """``node``'s state of ``key`` (empty if it holds none; hints not included)."""
        return self.states[node].get(key, KeyState())

    def apply(self, node: str, key: str, state: KeyState) -> bool:
        """Merge ``state`` into ``node``'s replica of ``key``; return whether it changed."""
        old = self.state(node, key)
        new = merge_states(old, state, self.config.conflicts)
        if new == old:
            return False
        self.states[node][key] = new
        self.store.put(node, key, new.stamp, new.result, blind=True)
        return True

    # -- hinted handoff ------------------------------------------------------------------------
    def _hold_hint(self, node: str, intended: str, key: str, state: KeyState) -> None:
        hints = self.hints[node]
        hints[(intended, key)] = merge_states(
            hints.get((intended, key), KeyState()), state, self.config.conflicts
        )
        now = float(self.store.env.now)
        for v in state.versions:
            self.hint_log.append(HintedWrite(key, v.stamp, v.dot, intended, node, now))

    def _handoff_loop(self, node: str):
        store = self.store
        while True:
            yield store.env.timeout(HANDOFF_CHECK_S)
            if not store.net.node(node).alive:
                continue
            for (intended, key), state in list(self.hints[node].items()):
                if store.net.can_reach(node, intended):
                    store.net.send(node, intended, Handoff(key, state, node))

    def _handed_off(self, node: str, ack: HandoffAck) -> None:
        now = float(self.store.env.now)
        for rec in self.hint_log:
            if (
                rec.holder == node
                and rec.intended == ack.node
                and rec.key == ack.key
                and rec.handed_off_at is None
                and ack.state.context.covers(rec.dot)
            ):
                rec.handed_off_at = now
        if self.hints[node].get((ack.node, ack.key)) == ack.state:
            del self.hints[node][(ack.node, ack.key)]

    def hinted_writes(self) -> list[HintedWrite]:
        """Every write a fallback took as a hint, in the order taken, with when it was handed
        off (``None``: not yet)."""
        return list(self.hint_log)

    # -- anti-entropy --------------------------------------------------------------------------
    def _shared(self, node: str, peer: str) -> dict[str, KeyState]:
        return {k: s for k, s in self.states[node].items() if peer in self.preference_list(k)}

    def _anti_entropy(self, name: str):
        store = self.store
        period, rng = store.anti_entropy_s, store.rng
        peers = [n for n in store.names if n != name]
        yield store.env.timeout(float(rng.uniform(0, period)))
        while True:
            if store.net.node(name).alive:
                peer = peers[int(rng.integers(len(peers)))]
                store.net.send(name, peer, Exchange(self._shared(name, peer), name, True))
            yield store.env.timeout(period)

    def converged(self) -> bool:
        """Whether the replicas of every key (its preference list) hold the same versions and no
        hint waits for handoff."""
        if any(self.hints[n] for n in self.store.names):
            return False
        keys = {k for states in self.states.values() for k in states}
        for key in keys:
            prefs = self.preference_list(key)
            first = self.state(prefs[0], key).versions
            if any(self.state(p, key).versions != first for p in prefs[1:]):
                return False
        return True


def _ignore(message: Any) -> None:
    """A read repair's acknowledgement: nothing waits for it."""
