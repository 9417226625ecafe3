"""Replicated stores on the simulated network: CP (ABD majority quorums), the course's
``CPDatabase``, and AP (local writes, last-writer-wins, anti-entropy).

A store runs on ``N`` nodes of a :class:`~distlab.sim.Network`. Clients are nodes too: they send a
request to one store node with :func:`~distlab.sim.call` (through :meth:`ReplicatedStore.request`)
and that node coordinates the operation by messages to its peers, so partitions, loss and crashes
act exactly as the network says.

Kinds (:data:`ALL_STORE_KINDS`):

- ``"cp"``: ABD (Attiya, Bar-Noy, Dolev 1995) on majority quorums of the **whole** cluster.
  Write: ask a majority for their tags, pick a higher tag ``(ts + 1, writer)``, store on a
  majority. Read: ask a majority, take the highest tag, **write it back** to a majority, then
  return. Linearizable. A coordinator that cannot gather a majority within ``phase_timeout_s``
  answers ``"unavailable"``: during a partition only the side holding a majority of the whole
  cluster completes operations. ABD is a read/write register: compare-and-set needs consensus
  (Paxos, CASPaxos), so the CP kinds refuse ``cas`` requests with a ``ValueError``.
- ``"cp-no-writeback"``: the same without the read's write-back: quorums still overlap
  (R + W > N), yet two reads during one write can see new then old: not linearizable.
- ``"all-nodes"``: ABD whose phases wait for **every** node, as the course text's banking
  example does: linearizable, but one unreachable node makes every operation ``"unavailable"``.
- ``"course-quorum"``: the course text's ``CPDatabase``, faithfully: the quorum is
  ``floor(healthy / 2) + 1`` over the nodes the coordinator can currently reach, a write goes to
  all of them, and a write that misses its quorum stays where it landed (a "failed" write can be
  read later). Under a partition both sides reach "quorum": split brain. Replicas overwrite
  blindly (the course has no versions); reads ask a quorum of the healthy nodes and return the
  answer with the latest (clock) stamp. ``cas`` is a read then a write, not atomic.
- ``"ap"``: every node answers reads and writes from its own replica, replicates each write to its
  peers in the background and runs anti-entropy (push-pull of whole replicas with a random peer
  every ``anti_entropy_s``); conflicts are settled by last-writer-wins on the node's clock (clocks
  may be skewed, ``clock_skew_s``). ``cas`` compares and sets locally.
- ``"primary"``: primary/replica replication from a log, asynchronous, semi-synchronous or
  synchronous (``replication``), with a replication lag and failover
  (:mod:`distlab.sim.primary_replica`); reads are served by the node asked, so a replica's
  answer can be stale, and a failover can lose acknowledged writes (:meth:`lost_acknowledged`).
- ``"leaderless"``: Dynamo's N/R/W quorums (``n``, ``r``, ``w``) with read repair, anti-entropy,
  optional sloppy quorum with hinted handoff, and siblings (version vectors) or last-writer-wins
  (``conflicts``) (:mod:`distlab.sim.leaderless`).

Every version carries a ``stamp`` (a comparable tuple: ABD tags ``(ts, writer, seq)``, clock stamps
``(clock_time, writer, seq)``) and every write records the stamp its coordinator had seen
(``base``), which is how an experiment finds stale reads and lost updates (see
:meth:`ReplicatedStore.lost_writes`).

Each kind is one protocol class of :mod:`distlab.sim.store_protocols`; the nodes speak the typed
messages of :mod:`distlab.sim.store_messages`. A compare-and-set that finds another value is an
answer (outcome ``ok``, ``applied=False``: Jepsen's ``fail``), not an error.

>>> from distlab.sim import World, Network, ReplicatedStore
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = ReplicatedStore(net, "cp", nodes=3)
>>> store.attach_client("c1", "n1")
>>> w = store.request("c1", "write", value=7); world.run(until=1)
>>> r = store.request("c1", "read"); world.run(until=2)
>>> w.value.outcome, r.value.outcome, r.value.result
('ok', 'ok', 7)
>>> store.values("x")
{'n1': 7, 'n2': 7, 'n3': 7}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from distlab import outcomes
from distlab._validate import check_choice, check_int, check_number
from distlab.sim.distributions import MAX_SECONDS, Distribution, as_distribution
from distlab.sim.leaderless import Leaderless, QuorumConfig, quorum_config
from distlab.sim.network import Message, Network
from distlab.sim.primary_replica import REPLICATION_MODES, PrimaryReplica
from distlab.sim.rpc import Request, call, respond
from distlab.sim.store_messages import (
    Put,
    Query,
    Replicate,
    SessionNeeds,
    StoreRequest,
    Sync,
    Unavailable,
)
from distlab.sim.store_protocols import INITIAL_STAMP, PROTOCOLS, StoreProtocol

_PROTOCOLS = {**PROTOCOLS, PrimaryReplica.kind: PrimaryReplica, Leaderless.kind: Leaderless}

__all__ = [
    "ALL_STORE_KINDS",
    "INITIAL_STAMP",
    "MAX_CLOCK_SKEW_S",
    "MIN_ANTI_ENTROPY_S",
    "STORE_KINDS",
    "ReplicatedStore",
    "StoreResult",
    "WriteRecord",
]

#: The quorum and AP kinds of store (those the CAP experiments compare).
STORE_KINDS = ("cp", "cp-no-writeback", "all-nodes", "course-quorum", "ap")
#: Every kind :class:`ReplicatedStore` builds: :data:`STORE_KINDS`, ``"primary"`` and
#: ``"leaderless"``.
ALL_STORE_KINDS = (*STORE_KINDS, PrimaryReplica.kind, Leaderless.kind)
_FUNCTIONS = ("read", "write", "cas")
#: The shortest anti-entropy period (seconds): shorter ones would flood the event queue.
MIN_ANTI_ENTROPY_S = 1e-3
#: The largest clock skew (seconds) a store accepts.
MAX_CLOCK_SKEW_S = 3600.0


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What a client saw for one request.

    ``outcome`` (:mod:`distlab.outcomes` words): ``"ok"`` (an answer: a read's ``result`` is the
    value read, ``None`` if never written; a compare-and-set that found another value is an
    answer too, with ``applied=False`` and that value in ``result``), ``"unavailable"`` (the
    coordinator could not reach its quorum) or ``"timeout"`` (no answer within the client's
    timeout). ``effect``: ``"yes"``, ``"no"`` or ``"maybe"`` (an unavailable write that reached
    some replicas, or a timeout: it may take effect). ``stamp``: the version written or read
    (``None`` if not known to the client). ``applied``: for an answered write or cas, whether it
    took effect (``None`` for reads and unanswered operations). ``type`` is the history type,
    Jepsen's word: ``ok``, ``fail`` (no effect) or ``info`` (unknown).

    >>> StoreResult("c1", "n1", "read", "x", None, "ok", 3, (1, 0, 0), "no", 0.0, 0.02).type
    'ok'
    >>> StoreResult("c1", "n1", "cas", "x", (1, 2), "ok", 5, (3, 0, 0), "no", 0.0, 0.02,
    ...             applied=False).type
    'fail'
    """

    client: str
    node: str
    f: str
    key: str
    value: Any
    outcome: str
    result: Any
    stamp: tuple | None
    effect: str
    start: float
    end: float
    applied: bool | None = None

    @property
    def type(self) -> str:
        if self.outcome == outcomes.OK:
            return "fail" if self.applied is False else "ok"
        if self.effect == "no" and self.f != "cas":
            return "fail"
        # a cas that failed for want of a quorum did not find another value: unknown
        return "info"


@dataclass(slots=True)
class WriteRecord:
    """A version created by a write or a compare-and-set: its ``stamp``, the ``base`` stamp its
    coordinator had seen, the ``value``, the coordinating ``node``, ``f``, and once the client
    was answered ``acked`` with the client's ``start``/``end``."""

    stamp: tuple
    base: tuple
    value: Any
    node: str
    start: float
    f: str
    end: float = math.inf
    acked: bool = False


class ReplicatedStore:
    """A key-value store of ``kind`` (:data:`ALL_STORE_KINDS`) replicated on ``nodes`` nodes.

    Parameters
    ----------
    net: the network; the store adds its nodes to it (``n1``, ``n2``... or the names given).
    kind: ``"cp"``, ``"cp-no-writeback"``, ``"all-nodes"``, ``"course-quorum"``, ``"ap"`` or
        ``"primary"``.
    nodes: how many replicas (1-15) or their names.
    phase_timeout_s: how long a coordinator waits for a quorum before answering
        ``"unavailable"`` (CP kinds and course-quorum).
    anti_entropy_s: period of the push-pull anti-entropy per node (``None``: the kind's default,
        0.1 s for ``"ap"``, 0.25 s for the CP kinds, off for ``"course-quorum"``; 0 = off;
        otherwise at least :data:`MIN_ANTI_ENTROPY_S`).
    clock_skew_s: each node's clock is offset by a draw from Uniform(-skew, +skew), at most
        :data:`MAX_CLOCK_SKEW_S`; only the clock-stamped kinds (``"ap"``, ``"course-quorum"``)
        use clocks.
    rng: a ``numpy.random.Generator`` or an int seed for skews and anti-entropy peers (default:
        the world's generator).
    replication_lag, replication, failover_s: for ``"primary"`` only (see
        :mod:`distlab.sim.primary_replica`): the delay a replica's apply queue adds to each
        shipped write (seconds or a distribution), ``"async"``, ``"semi-sync"`` or ``"sync"``,
        and how long the primary must be seen down before a replica is promoted.
    n, r, w, read_repair, sloppy, conflicts: for ``"leaderless"`` only (see
        :mod:`distlab.sim.leaderless`): replicas per key (default: every node), read and write
        quorums in 1..n (default: a majority of n), read repair (default on), sloppy quorum with
        hinted handoff (default off), ``"siblings"`` (default), ``"lww"`` or ``"crdt"``
        (values are CRDTs, merged); checked for every kind, as ``store.quorum``. ``"ap"``
        also takes ``conflicts="crdt"`` (other kinds refuse it): its replicas then merge CRDT
        values, not last-writer-wins (which any other ``conflicts`` leaves). With ``"crdt"`` a
        key keeps its first write's type: another type is a ``ValueError``.

    Replicas live in ``store.replicas[node][key] = (stamp, value)``; they survive a crash (they
    model the disk), but a crashed node neither answers nor coordinates. ``store.protocol`` is
    the kind's :class:`~distlab.sim.store_protocols.StoreProtocol`.
    """

    def __init__(
        self,
        net: Network,
        kind: str,
        nodes: int | Iterable[str] = 5,
        *,
        phase_timeout_s: float = 0.2,
        anti_entropy_s: float | None = None,
        clock_skew_s: float = 0.0,
        rng: Any = None,
        replication_lag: float | Distribution = 0.0,
        replication: str = "async",
        failover_s: float = 1.0,
        n: int | None = None,
        r: int | None = None,
        w: int | None = None,
        read_repair: bool = True,
        sloppy: bool = False,
        conflicts: str = "siblings",
    ) -> None:
        if not isinstance(net, Network):
            raise TypeError(f"net={net!r} must be a distlab.sim.Network")
        self.net = net
        self.kind = check_choice("kind", kind, ALL_STORE_KINDS)
        self.protocol: StoreProtocol = _PROTOCOLS[kind](self)
        names = _node_names(nodes)
        self.names: list[str] = names
        self.index = {n: i for i, n in enumerate(names)}
        self.majority = len(names) // 2 + 1
        self.phase_timeout_s = check_number(
            "phase_timeout_s", phase_timeout_s, 0.0, min_inclusive=False
        )
        self.anti_entropy_s = _anti_entropy_period(anti_entropy_s, self.protocol)
        self.clock_skew_s = check_number("clock_skew_s", clock_skew_s, 0.0, MAX_CLOCK_SKEW_S)
        self.replication_lag = as_distribution(replication_lag, name="replication_lag")
        self.replication = check_choice("replication", replication, REPLICATION_MODES)
        self.failover_s = check_number("failover_s", failover_s, 0.0, MAX_SECONDS)
        quorum = dict(n=n, r=r, w=w, read_repair=read_repair, sloppy=sloppy, conflicts=conflicts)
        self.quorum = _quorum(self.kind, len(names), quorum)
        self.world = net.world
        self.env = net.world.env
        self.rng = net.world.rng if rng is None else _generator(rng)
        for name in names:
            if name not in net:
                net.add_node(name)
            net.node(name).on_message = self._handler(name)
        self.replicas: dict[str, dict[str, tuple[tuple, Any]]] = {n: {} for n in names}
        self.clock_offset: dict[str, float] = _clock_offsets(self.rng, self.clock_skew_s, names)
        self.clients: dict[str, str] = {}
        self.writes: dict[tuple, WriteRecord] = {}
        self._crdt_types: dict[str, type] = {}  # key -> the CRDT type its first write requested
        self._watch_from: float | None = None
        self.converged_at: float | None = None
        self.protocol.start()
        if self.anti_entropy_s > 0 and len(names) > 1 and not self.protocol.own_anti_entropy:
            for name in names:
                self.env.process(self._anti_entropy(name))

    def __repr__(self) -> str:
        return f"ReplicatedStore({self.kind!r}, nodes={self.names!r})"

    # -- clients -------------------------------------------------------------------------------
    def attach_client(self, client: str, node: str) -> None:
        """Add node ``client`` to the network (if missing) and make ``node`` its store node."""
        if not isinstance(client, str) or not client:
            raise TypeError(f"client={client!r} must be a non-empty string")
        check_choice("node", node, self.names)
        if client in self.index:
            raise ValueError(f"client={client!r} is a store node; clients are separate nodes")
        if client not in self.net:
            self.net.add_node(client)
        self.clients[client] = node

    def request(
        self,
        client: str,
        f: str,
        key: str = "x",
        value: Any = None,
        *,
        timeout_s: float = 0.5,
        node: str | None = None,
        needs: SessionNeeds | None = None,
    ) -> simpy.Process:
        """Send one operation from ``client`` to its store node (or to ``node``, for this
        request); a process whose value is a :class:`StoreResult`. ``f`` is ``"read"``,
        ``"write"`` (``value``: the value) or ``"cas"`` (``value``: ``(expected, new)``; not for
        the CP kinds). ``needs``: a session token the serving node checks first (a
        :class:`~distlab.sim.store_messages.SessionNeeds`; ``"primary"`` kind; see
        :mod:`distlab.sim.sessions`)."""
        if client not in self.clients:
            raise ValueError(
                f"client={client!r} is not attached; call attach_client(client, node) first"
            )
        check_choice("f", f, _FUNCTIONS)
        if not isinstance(key, str):
            raise TypeError(f"key={key!r} must be a string")
        crdt = _check_value(f, key, value, self.protocol, self._crdt_types)
        timeout_s = check_number("timeout_s", timeout_s, 0.0, min_inclusive=False)
        node = self.clients[client] if node is None else check_choice("node", node, self.names)
        if needs is not None:
            _check_needs(needs, self.protocol)
        if crdt is not None:
            self._crdt_types.setdefault(key, type(crdt))
        request = StoreRequest(f, key, value, needs)
        return self.env.process(self._client_op(client, node, request, timeout_s))

    def _client_op(self, client: str, node: str, request: StoreRequest, timeout_s: float):
        start = self.env.now
        r = yield call(self.net, client, node, request, timeout_s=timeout_s)
        end = self.env.now

        def seen(outcome: str, effect: str, result=None, stamp=None, applied=None) -> StoreResult:
            f, key, value = request.f, request.key, request.value
            return StoreResult(
                client, node, f, key, value, outcome, result, stamp, effect, start, end, applied
            )

        if r.outcome == outcomes.TIMEOUT:
            return seen(outcomes.TIMEOUT, "maybe")
        reply = r.value  # the coordinator answers every StoreRequest with a typed reply
        if isinstance(reply, Unavailable):
            return seen(outcomes.UNAVAILABLE, "maybe" if reply.partial else "no")
        if request.f == "read":
            return seen(outcomes.OK, "no", reply.result, reply.stamp)
        if not reply.applied:  # a cas that found another value: an answer, no effect
            return seen(outcomes.OK, "no", reply.result, reply.stamp, applied=False)
        if reply.stamp in self.writes:
            rec = self.writes[reply.stamp]
            rec.acked = True
            rec.start, rec.end = start, end  # the client's invocation and acknowledgement
        return seen(outcomes.OK, "yes", None, reply.stamp, applied=True)

    # -- replicas ------------------------------------------------------------------------------
    def get(self, node: str, key: str) -> tuple[tuple, Any]:
        """``(stamp, value)`` of ``key`` at ``node`` (``(INITIAL_STAMP, None)`` if never set)."""
        return self.replicas[node].get(key, (INITIAL_STAMP, None))

    def put(self, node: str, key: str, stamp: tuple, value: Any, *, blind: bool = False) -> bool:
        """Keep ``(stamp, value)`` for ``key`` at ``node`` if newer than what it holds (or
        always, ``blind``); return whether it was kept. Merging CRDTs, it keeps the merge of
        both under the greater stamp (``blind`` or not) and returns whether that changed it.

        >>> from distlab.sim import World, Network
        >>> store = ReplicatedStore(Network(World()), "ap", nodes=2)
        >>> store.put("n1", "x", (1.0, 0, 1), "a"), store.put("n1", "x", (0.5, 1, 2), "b")
        (True, False)
        """
        replica = self.replicas[node]
        held, old = replica.get(key, (INITIAL_STAMP, None))
        if self.protocol.merge_values and old is not None:  # CRDTs: keep the merge of both
            stamp, value = max(held, stamp), old.merge(value)
            if (stamp, value) == (held, old):
                return False
        elif not blind and held >= stamp:
            return False
        replica[key] = (stamp, value)
        if self._watch_from is not None:
            self._check_converged()
        return True

    def record_write(self, stamp: tuple, base: tuple, value: Any, node: str, f: str) -> None:
        """Remember the version ``stamp`` a coordinator created (see :class:`WriteRecord`)."""
        self.writes[stamp] = WriteRecord(stamp, base, value, node, self.env.now, f)

    def clock(self, node: str) -> float:
        """``node``'s clock now: the simulated time plus its offset (see ``clock_skew_s``)."""
        return self.env.now + self.clock_offset[node]

    def values(self, key: str = "x") -> dict[str, Any]:
        """The value of ``key`` on every replica."""
        return {n: self.get(n, key)[1] for n in self.names}

    def converged(self) -> bool:
        """Whether every replica holds the same version of every key."""
        first = self.replicas[self.names[0]]
        return all(self.replicas[n] == first for n in self.names[1:])

    def watch_convergence(self, after: float) -> None:
        """Record in ``converged_at`` the first time at or after ``after`` when all replicas agree
        (checked at ``after`` and after every change of a replica)."""
        self._watch_from = check_number("after", after, 0.0)
        self.converged_at = None

        def check_at_start():
            yield self.env.timeout(max(0.0, self._watch_from - self.env.now))
            self._check_converged()

        self.env.process(check_at_start())

    def _check_converged(self) -> None:
        if (
            self._watch_from is not None
            and self.converged_at is None
            and self.env.now >= self._watch_from
            and self.converged()
        ):
            self.converged_at = float(self.env.now)

    def lost_writes(self) -> list[tuple]:
        """Stamps of acknowledged writes that were lost: overwritten by a version whose writer
        never saw them (its ``base`` is older) and that either completed before they started
        (a clock-skew inversion: the past wins) or is a compare-and-set (a read-modify-write
        computed on a state that lacked them)."""
        recs = sorted(self.writes.values(), key=lambda r: r.stamp)
        lost = []
        for i, w in enumerate(recs):
            if not w.acked:
                continue
            for other in recs[i + 1 :]:
                if other.base < w.stamp and (other.f == "cas" or other.end < w.start):
                    lost.append(w.stamp)
                    break
        return lost

    def lost_acknowledged(self) -> list[WriteRecord]:
        """The acknowledged writes a failover discarded (``"primary"`` kind; empty for the others,
        whose lost updates :meth:`lost_writes` finds), oldest first."""
        return self.protocol.lost_acknowledged()

    # -- messages ------------------------------------------------------------------------------
    def _handler(self, name: str):
        net = self.net
        protocol = self.protocol

        def on_message(msg: Message) -> None:
            payload = msg.payload
            if isinstance(payload, (Query, Put)):
                net.send(name, msg.src, protocol.serve(name, payload), on_delivery=payload.on_reply)
            elif isinstance(payload, Request):
                if isinstance(payload.body, StoreRequest):
                    self.env.process(self._coordinate(name, msg))
                else:
                    respond(net, msg, error=f"bad request {payload.body!r}")
            elif isinstance(payload, Replicate):
                self.put(name, payload.key, payload.stamp, payload.value)
            elif isinstance(payload, Sync):
                if payload.reply:
                    net.send(name, msg.src, Sync(dict(self.replicas[name]), False))
                for key, (stamp, value) in payload.snapshot.items():
                    self.put(name, key, stamp, value)
            else:
                protocol.receive(name, payload)

        return on_message

    def _coordinate(self, node: str, msg: Message):
        incarnation = self.net.node(node).incarnation
        reply = yield from self.protocol.coordinate(node, msg.payload.body)
        if self.net.node(node).incarnation != incarnation:
            return  # the coordinator crashed meanwhile: no answer
        respond(self.net, msg, value=reply)

    def _anti_entropy(self, name: str):
        period = self.anti_entropy_s
        peers = [n for n in self.names if n != name]
        rng = self.rng
        yield self.env.timeout(float(rng.uniform(0, period)))
        while True:
            if self.net.node(name).alive:
                peer = peers[int(rng.integers(len(peers)))]
                self.net.send(name, peer, Sync(dict(self.replicas[name]), True))
            yield self.env.timeout(period)


def _check_value(
    f: str, key: str, value: Any, protocol: StoreProtocol, crdt_types: dict[str, type]
) -> Any:
    """Refuse a value ``f`` cannot take, or a CRDT of another type than ``key`` holds (by
    ``crdt_types``); return the CRDT written (``None``: not a CRDT write)."""
    if f == "cas":
        if not protocol.supports_cas:
            raise ValueError(
                f"f='cas' is not supported by kind={protocol.kind!r}: a quorum read/write "
                "register; a linearizable compare-and-set needs consensus (Paxos)"
            )
        if not isinstance(value, tuple) or len(value) != 2:
            raise TypeError(f"value={value!r} must be an (expected, new) pair for f='cas'")
    if f == "read" and value is not None:
        raise ValueError(f"value={value!r} must be None for f='read'")
    crdt = protocol.check_write(value if f == "write" else value[1]) if f != "read" else None
    held = crdt_types.get(key) if crdt is not None else None
    if held is not None and type(crdt) is not held:  # a CRDT merges only with its own type
        raise ValueError(
            f"value={value!r} cannot be written to key={key!r}: the key holds a CRDT of type "
            f"{held.__name__} and a {type(crdt).__name__} does not merge with it (with "
            "conflicts='crdt' a key keeps the type of its first write)"
        )
    return crdt


def _quorum(kind: str, nodes: int, quorum: dict[str, Any]) -> QuorumConfig:
    """The leaderless settings, checked for every kind; ``conflicts="crdt"`` only where the
    replicas merge (asked of another kind, it would be last-writer-wins without a word)."""
    config = quorum_config(nodes, **quorum)
    if config.conflicts == "crdt" and kind not in ("leaderless", "ap"):
        raise ValueError(
            f"conflicts='crdt' with kind={kind!r}: only kinds 'leaderless' and 'ap' merge "
            "CRDT values"
        )
    return config


def _check_needs(needs: Any, protocol: StoreProtocol) -> None:
    if not isinstance(needs, SessionNeeds):
        raise TypeError(f"needs={needs!r} must be a SessionNeeds or None")
    if not protocol.supports_session_tokens:
        raise ValueError(f"needs= is not supported by kind={protocol.kind!r}; use 'primary'")
    check_number("needs.wait_s", needs.wait_s, 0.0, MAX_SECONDS)
    for position in needs.positions:
        if not (
            isinstance(position, tuple)
            and len(position) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in position)
        ):
            raise TypeError(f"needs.positions item={position!r} must be a (term, lsn) pair")


def _node_names(nodes: Any) -> list[str]:
    if isinstance(nodes, (str, bytes)):
        raise TypeError(f"nodes={nodes!r} must be a number of nodes or a list of names")
    if not isinstance(nodes, Iterable):
        return [f"n{i}" for i in range(1, check_int("nodes", nodes, 1, 15) + 1)]
    names = list(nodes)
    if not 1 <= len(names) <= 15:
        raise ValueError(f"nodes={names!r} must name between 1 and 15 replicas")
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"nodes: name={name!r} must be a non-empty string")
    if len(set(names)) != len(names):
        raise ValueError(f"nodes={names!r} has a name twice; each replica needs its own")
    return names


def _clock_offsets(rng: np.random.Generator, skew_s: float, names: list[str]) -> dict[str, float]:
    """Each node's clock offset, a draw from Uniform(-skew_s, +skew_s) (none without skew)."""
    if skew_s <= 0:
        return dict.fromkeys(names, 0.0)
    return dict(zip(names, rng.uniform(-skew_s, skew_s, len(names)).tolist()))


def _anti_entropy_period(anti_entropy_s: Any, protocol: StoreProtocol) -> float:
    if anti_entropy_s is None:
        return protocol.default_anti_entropy_s
    period = check_number("anti_entropy_s", anti_entropy_s, 0.0)
    if period > 0 and not protocol.anti_entropy:
        raise ValueError(
            f"anti_entropy_s={period:g} must be 0 for kind={protocol.kind!r}: its replicas "
            "follow the primary's log, not each other"
        )
    if 0 < period < MIN_ANTI_ENTROPY_S:
        raise ValueError(
            f"anti_entropy_s={period:g} must be 0 (off) or at least {MIN_ANTI_ENTROPY_S:g} s: "
            "a shorter period floods the simulation with anti-entropy rounds"
        )
    return period


def _generator(rng: Any) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng={rng} must be a non-negative int seed")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng={rng!r} must be a numpy.random.Generator or an int seed")
