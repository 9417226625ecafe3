"""Replicated stores on the simulated network: CP (ABD majority quorums), the course's
``CPDatabase``, and AP (local writes, last-writer-wins, anti-entropy).

A store runs on ``N`` nodes of a :class:`~distlab.sim.Network`. Clients are nodes too: they send a
request to one store node with :func:`~distlab.sim.call` (through :meth:`ReplicatedStore.request`)
and that node coordinates the operation by messages to its peers, so partitions, loss and crashes
act exactly as the network says.

Kinds (:data:`STORE_KINDS`):

- ``"cp"``: ABD (Attiya, Bar-Noy, Dolev 1995) on majority quorums of the **whole** cluster.
  Write: ask a majority for their tags, pick a higher tag ``(ts + 1, writer)``, store on a
  majority. Read: ask a majority, take the highest tag, **write it back** to a majority, then
  return. Linearizable. A coordinator that cannot gather a majority within ``phase_timeout_s``
  answers ``"unavailable"``: during a partition only the side holding a majority of the whole
  cluster completes operations. ABD is a read/write register: compare-and-set needs consensus
  (Paxos, CASPaxos), so the CP kinds refuse ``cas`` requests with a ``ValueError``.
- ``"cp-no-writeback"``: the same without the read's write-back: quorums still overlap
  (R + W > N), yet two reads during one write can see new then old: not linearizable.
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

Every version carries a ``stamp`` (a comparable tuple: ABD tags ``(ts, writer, seq)``, clock stamps
``(clock_time, writer, seq)``) and every write records the stamp its coordinator had seen
(``base``), which is how an experiment finds stale reads and lost updates (see
:meth:`ReplicatedStore.lost_writes`).

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import simpy

from distlab._validate import check_choice, check_int, check_number
from distlab.sim.network import Message, Network
from distlab.sim.rpc import Request, call, respond

__all__ = [
    "STORE_KINDS",
    "StoreResult",
    "ReplicatedStore",
    "reachable",
]

#: The kinds of store :class:`ReplicatedStore` builds.
STORE_KINDS = ("cp", "cp-no-writeback", "course-quorum", "ap")
_FUNCTIONS = ("read", "write", "cas")
_CP = ("cp", "cp-no-writeback")

#: The stamp of a key never written (lower than every real stamp).
INITIAL_STAMP: tuple = (-math.inf, -1, -1)


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What a client saw for one request.

    ``outcome``: ``"ok"`` (a read's ``result`` is the value read, ``None`` if never written),
    ``"refused"`` (a compare-and-set whose expected value differed: an answer, no effect),
    ``"unavailable"`` (the coordinator could not reach its quorum), ``"timeout"`` (no answer
    within the client's timeout). ``effect``: ``"yes"``, ``"no"`` or ``"maybe"`` (an unavailable
    write that reached some replicas, or a timeout: it may take effect). ``stamp``: the version
    written or read (``None`` if not known to the client). ``type`` is the history type:
    ``ok``, ``fail`` (no effect) or ``info`` (unknown).

    >>> StoreResult("c1", "n1", "read", "x", None, "ok", 3, (1, 0, 0), "no", 0.0, 0.02).type
    'ok'
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
    error: str | None = None

    @property
    def type(self) -> str:
        if self.outcome == "ok":
            return "ok"
        if self.outcome == "refused":
            return "fail"
        if self.effect == "no" and self.f != "cas":
            return "fail"
        # a cas that failed for want of a quorum is not "refused": unknown for the checker
        return "info"


@dataclass(slots=True)
class _WriteRecord:
    """A version created by a write or a successful cas."""

    stamp: tuple
    base: tuple
    value: Any
    node: str
    start: float
    f: str
    end: float = math.inf
    acked: bool = False


class _Gather:
    """Collects replies for one phase of a coordinator until ``needed`` arrived or time is up."""

    __slots__ = ("needed", "replies", "event", "expect")

    def __init__(self, env: simpy.Environment, needed: int, expect: int) -> None:
        self.needed = needed
        self.expect = expect
        self.replies: list[Any] = []
        self.event = env.event()

    def add(self, reply: Any) -> None:
        self.replies.append(reply)
        if len(self.replies) >= self.needed and not self.event.triggered:
            self.event.succeed(True)


def reachable(net: Network, a: str, b: str) -> bool:
    """Whether a message from ``a`` can currently reach ``b``: both alive, same side of any
    partition, and the link not cut (loss < 1). The course's ``getHealthyNodes()`` as a perfect
    failure detector.

    >>> from distlab.sim import World, Network
    >>> net = Network(World()); _ = net.add_node("a"); _ = net.add_node("b")
    >>> net.partition(["a"], ["b"]); reachable(net, "a", "b")
    False
    """
    return net.can_reach(a, b)


class ReplicatedStore:
    """A key-value store of ``kind`` (:data:`STORE_KINDS`) replicated on ``nodes`` nodes.

    Parameters
    ----------
    net: the network; the store adds its nodes to it (``n1``, ``n2``... or the names given).
    kind: ``"cp"``, ``"cp-no-writeback"``, ``"course-quorum"`` or ``"ap"``.
    nodes: how many replicas (1-15) or their names.
    phase_timeout_s: how long a coordinator waits for a quorum before answering
        ``"unavailable"`` (CP kinds and course-quorum).
    anti_entropy_s: period of the push-pull anti-entropy per node (``None``: the kind's default,
        0.1 s for ``"ap"``, 0.25 s for the CP kinds, off for ``"course-quorum"``; 0 = off).
    clock_skew_s: each node's clock is offset by a draw from Uniform(-skew, +skew); only the
        clock-stamped kinds (``"ap"``, ``"course-quorum"``) use clocks.
    rng: the generator for skews and anti-entropy peers (default: the world's).

    Replicas live in ``store.replicas[node][key] = (stamp, value)``; they survive a crash (they
    model the disk), but a crashed node neither answers nor coordinates.
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
    ) -> None:
        if not isinstance(net, Network):
            raise TypeError(f"net={net!r} must be a distlab.sim.Network")
        self.net = net
        self.kind = check_choice("kind", kind, STORE_KINDS)
        if isinstance(nodes, (str, bytes)):
            raise TypeError(f"nodes={nodes!r} must be a number of nodes or a list of names")
        if isinstance(nodes, Iterable):
            names = list(nodes)
            check_int("len(nodes)", len(names), 1, 15)
        else:
            names = [f"n{i}" for i in range(1, check_int("nodes", nodes, 1, 15) + 1)]
        self.names: list[str] = names
        self.index = {n: i for i, n in enumerate(names)}
        self.majority = len(names) // 2 + 1
        self.phase_timeout_s = check_number(
            "phase_timeout_s", phase_timeout_s, 0.0, min_inclusive=False
        )
        if anti_entropy_s is None:
            anti_entropy_s = {"ap": 0.1, "course-quorum": 0.0}.get(kind, 0.25)
        self.anti_entropy_s = check_number("anti_entropy_s", anti_entropy_s, 0.0)
        self.clock_skew_s = check_number("clock_skew_s", clock_skew_s, 0.0)
        self.world = net.world
        self.env = net.world.env
        self.rng = net.world.rng if rng is None else rng
        for name in names:
            if name not in net:
                net.add_node(name)
            net.node(name).on_message = self._handler(name)
        self.replicas: dict[str, dict[str, tuple[tuple, Any]]] = {n: {} for n in names}
        if self.clock_skew_s > 0:
            skews = self.rng.uniform(-self.clock_skew_s, self.clock_skew_s, len(names)).tolist()
        else:
            skews = [0.0] * len(names)
        self.clock_offset: dict[str, float] = dict(zip(names, skews))
        self.clients: dict[str, str] = {}
        self.writes: dict[tuple, _WriteRecord] = {}
        self._pending: dict[int, _Gather] = {}
        self._next_rid = 0
        self._seq = 0
        self._watch_from: float | None = None
        self.converged_at: float | None = None
        self.on_change: Callable[[], None] | None = None
        if self.anti_entropy_s > 0 and len(names) > 1:
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
    ) -> simpy.Process:
        """Send one operation from ``client`` to its store node; a process whose value is a
        :class:`StoreResult`. ``f`` is ``"read"``, ``"write"`` (``value``: the value) or
        ``"cas"`` (``value``: ``(expected, new)``; not for the CP kinds)."""
        if client not in self.clients:
            raise ValueError(
                f"client={client!r} is not attached; call attach_client(client, node) first"
            )
        check_choice("f", f, _FUNCTIONS)
        if not isinstance(key, str):
            raise TypeError(f"key={key!r} must be a string")
        if f == "cas":
            if self.kind in _CP:
                raise ValueError(
                    f"f='cas' is not supported by kind={self.kind!r}: ABD is a read/write "
                    "register; a linearizable compare-and-set needs consensus (Paxos)"
                )
            if not isinstance(value, tuple) or len(value) != 2:
                raise TypeError(f"value={value!r} must be an (expected, new) pair for f='cas'")
        if f == "read" and value is not None:
            raise ValueError(f"value={value!r} must be None for f='read'")
        timeout_s = check_number("timeout_s", timeout_s, 0.0, min_inclusive=False)
        return self.env.process(self._client_op(client, f, key, value, timeout_s))

    def _client_op(self, client: str, f: str, key: str, value: Any, timeout_s: float):
        node = self.clients[client]
        start = self.env.now
        r = yield call(self.net, client, node, ("op", f, key, value), timeout_s=timeout_s)
        end = self.env.now
        if r.outcome == "timeout":
            return StoreResult(
                client, node, f, key, value, "timeout", None, None, "maybe", start, end, "timeout"
            )
        if r.outcome == "error":
            effect = "maybe" if r.error.endswith("partial") else "no"
            return StoreResult(
                client, node, f, key, value, "unavailable", None, None, effect, start, end, r.error
            )
        status, result, stamp = r.value
        if status == "refused":
            return StoreResult(
                client, node, f, key, value, "refused", result, stamp, "no", start, end
            )
        if f != "read" and stamp in self.writes:
            rec = self.writes[stamp]
            rec.acked = True
            rec.start, rec.end = start, end  # the client's invocation and acknowledgement
        return StoreResult(
            client,
            node,
            f,
            key,
            value,
            "ok",
            result if f == "read" else None,
            stamp,
            "no" if f == "read" else "yes",
            start,
            end,
        )

    # -- replicas ------------------------------------------------------------------------------
    def get(self, node: str, key: str) -> tuple[tuple, Any]:
        """``(stamp, value)`` of ``key`` at ``node`` (``(INITIAL_STAMP, None)`` if never set)."""
        return self.replicas[node].get(key, (INITIAL_STAMP, None))

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

    def _store(self, node: str, key: str, stamp: tuple, value: Any, *, blind: bool = False) -> bool:
        """Keep ``(stamp, value)`` at ``node`` if newer (or always, ``blind``)."""
        replica = self.replicas[node]
        if not blind and replica.get(key, (INITIAL_STAMP, None))[0] >= stamp:
            return False
        replica[key] = (stamp, value)
        if self._watch_from is not None:
            self._check_converged()
        if self.on_change is not None:
            self.on_change()
        return True

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

    # -- messages ------------------------------------------------------------------------------
    def _handler(self, name: str) -> Callable[[Message], None]:
        def on_message(msg: Message) -> None:
            payload = msg.payload
            if isinstance(payload, Request):
                body = payload.body
                if not (isinstance(body, tuple) and len(body) == 4 and body[0] == "op"):
                    respond(self.net, msg, error=f"bad request {body!r}")
                    return
                self.env.process(self._coordinate(name, msg))
                return
            kind = payload[0]
            if kind == "q":  # ("q", rid, key) -> ("r", rid, node, stamp, value)
                stamp, value = self.get(name, payload[2])
                self.net.send(name, msg.src, ("r", payload[1], name, stamp, value))
            elif kind == "s":  # ("s", rid, key, stamp, value) -> ("r", rid, node, stored)
                stored = self._store(
                    name, payload[2], payload[3], payload[4], blind=self.kind == "course-quorum"
                )
                self.net.send(name, msg.src, ("r", payload[1], name, stored, None))
            elif kind == "r":
                gather = self._pending.get(payload[1])
                if gather is not None:
                    gather.add(payload[2:])
            elif kind == "rep":  # ("rep", key, stamp, value): background replication
                self._store(name, payload[1], payload[2], payload[3])
            elif kind == "ae":  # ("ae", snapshot, reply?)
                if payload[2]:
                    self.net.send(name, msg.src, ("ae", dict(self.replicas[name]), False))
                for key, (stamp, value) in payload[1].items():
                    self._store(name, key, stamp, value)

        return on_message

    def _anti_entropy(self, name: str):
        period = self.anti_entropy_s
        peers = [n for n in self.names if n != name]
        rng = self.rng
        yield self.env.timeout(float(rng.uniform(0, period)))
        while True:
            if self.net.node(name).alive:
                peer = peers[int(rng.integers(len(peers)))]
                self.net.send(name, peer, ("ae", dict(self.replicas[name]), True))
            yield self.env.timeout(period)

    def _phase(self, coord: str, targets: list[str], needed: int, message: tuple):
        """Send ``message`` (with a fresh request id) to ``targets``, answering locally for the
        coordinator itself; wait for ``needed`` replies or the phase timeout. Returns replies."""
        rid = self._next_rid
        self._next_rid = rid + 1
        gather = _Gather(self.env, needed, len(targets))
        self._pending[rid] = gather
        kind = message[0]
        for target in targets:
            if target == coord:
                if kind == "q":
                    stamp, value = self.get(coord, message[1])
                    gather.add((coord, stamp, value))
                else:
                    stored = self._store(
                        coord,
                        message[1],
                        message[2],
                        message[3],
                        blind=self.kind == "course-quorum",
                    )
                    gather.add((coord, stored, None))
            else:
                self.net.send(coord, target, (kind, rid) + message[1:])
        if not gather.event.triggered:
            timer = self.env.timeout(self.phase_timeout_s)
            yield gather.event | timer
        del self._pending[rid]
        return list(gather.replies)

    def _clock(self, node: str) -> float:
        return self.env.now + self.clock_offset[node]

    def _new_stamp(self, node: str, base: tuple) -> tuple:
        self._seq += 1  # unique even for concurrent writes coordinated by one node
        if self.kind in _CP:
            ts = base[0] if base[0] != -math.inf else 0
            return (int(ts) + 1, self.index[node], self._seq)
        return (self._clock(node), self.index[node], self._seq)

    def _record(self, stamp: tuple, base: tuple, value: Any, node: str, f: str) -> None:
        self.writes[stamp] = _WriteRecord(stamp, base, value, node, self.env.now, f)

    def _coordinate(self, node: str, msg: Message):
        _, f, key, value = msg.payload.body
        incarnation = self.net.node(node).incarnation
        if self.kind == "ap":
            reply = self._ap(node, f, key, value)
        elif self.kind == "course-quorum":
            reply = yield from self._course(node, f, key, value)
        else:
            reply = yield from self._abd(node, f, key, value)
        if self.net.node(node).incarnation != incarnation:
            return  # the coordinator crashed meanwhile: no answer
        if isinstance(reply, str):
            respond(self.net, msg, error=reply)
        else:
            respond(self.net, msg, value=reply)

    # ABD ------------------------------------------------------------------------------------
    def _abd(self, node: str, f: str, key: str, value: Any):
        everyone = self.names
        replies = yield from self._phase(node, everyone, self.majority, ("q", key))
        if len(replies) < self.majority:
            return "unavailable"
        _, stamp, current = max(replies, key=lambda r: r[1])
        if f == "write":
            new = self._new_stamp(node, stamp)
            self._record(new, stamp, value, node, f)
            stamp, current = new, value
        elif self.kind == "cp-no-writeback":
            return ("ok", current, stamp)
        if stamp == INITIAL_STAMP:
            return ("ok", current, stamp)  # nothing to write back
        acks = yield from self._phase(node, everyone, self.majority, ("s", key, stamp, current))
        if len(acks) < self.majority:
            return "unavailable partial"
        return ("ok", current, stamp)

    # the course's CPDatabase ----------------------------------------------------------------
    def _course(self, node: str, f: str, key: str, value: Any):
        healthy = [n for n in self.names if reachable(self.net, node, n)]
        quorum = len(healthy) // 2 + 1
        if len(healthy) < quorum:
            return "unavailable"
        replies = yield from self._phase(node, healthy, quorum, ("q", key))
        if len(replies) < quorum:
            return "unavailable"
        _, stamp, current = max(replies, key=lambda r: r[1])
        if f == "read":
            return ("ok", current, stamp)
        if f == "cas":
            expected, value = value
            if current != expected:
                return ("refused", current, stamp)
        new = self._new_stamp(node, stamp)
        self._record(new, stamp, value, node, f)
        # write to all healthy nodes, wait for every one of them (Promise.allSettled)
        acks = yield from self._phase(node, healthy, len(healthy), ("s", key, new, value))
        if len(acks) < quorum:
            return "unavailable partial"
        return ("ok", value, new)

    # AP -------------------------------------------------------------------------------------
    def _ap(self, node: str, f: str, key: str, value: Any):
        stamp, current = self.get(node, key)
        if f == "read":
            return ("ok", current, stamp)
        if f == "cas":
            expected, value = value
            if current != expected:
                return ("refused", current, stamp)
        new = self._new_stamp(node, stamp)
        self._record(new, stamp, value, node, f)
        self._store(node, key, new, value)  # LWW: a skewed clock may lose it at once
        for peer in self.names:
            if peer != node:
                self.net.send(node, peer, ("rep", key, new, value))
        return ("ok", value, new)
