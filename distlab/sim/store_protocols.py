"""How each kind of :class:`~distlab.sim.ReplicatedStore` coordinates an operation: one protocol
class per kind, on a common base that holds the shared plumbing (quorum phases, stamps, what a
replica answers).

- :class:`ABD` (``"cp"``): Attiya, Bar-Noy, Dolev (1995) on majority quorums of the whole
  cluster, with the read's write-back: linearizable.
- :class:`ABDWithoutWriteBack` (``"cp-no-writeback"``): the same without the write-back:
  quorums overlap, yet reads are not linearizable.
- :class:`AllNodes` (``"all-nodes"``): ABD whose phases wait for every node, as the course
  text's banking example does: linearizable, but one unreachable node stops every operation.
- :class:`CourseQuorum` (``"course-quorum"``): the course text's ``CPDatabase``: a quorum of the
  nodes that look healthy (split brain under a partition).
- :class:`LastWriterWins` (``"ap"``): local reads and writes, background replication,
  last-writer-wins on the node's clock.

A protocol's :meth:`~StoreProtocol.coordinate` is a SimPy generator that returns an
:class:`~distlab.sim.store_messages.Answer` or an
:class:`~distlab.sim.store_messages.Unavailable`; the store sends it back to the client.

>>> sorted(PROTOCOLS)
['all-nodes', 'ap', 'course-quorum', 'cp', 'cp-no-writeback']
>>> PROTOCOLS["cp"].supports_cas, PROTOCOLS["ap"].supports_cas
(False, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

from distlab.sim.store_messages import (
    Answer,
    Put,
    PutReply,
    Query,
    QueryReply,
    Replicate,
    StoreRequest,
    Unavailable,
)
from distlab.sim.versions import check_crdt_value

if TYPE_CHECKING:  # pragma: no cover
    import simpy

    from distlab.sim.network import Message
    from distlab.sim.stores import ReplicatedStore

__all__ = [
    "ABD",
    "INITIAL_STAMP",
    "AllNodes",
    "PROTOCOLS",
    "ABDWithoutWriteBack",
    "CourseQuorum",
    "LastWriterWins",
    "StoreProtocol",
]

#: The stamp of a key never written (lower than every real stamp).
INITIAL_STAMP: tuple = (-math.inf, -1, -1)

Reply = Answer | Unavailable
Coordination = Generator[Any, Any, Reply]


class _Gather:
    """Collects replies for one phase until ``needed`` arrived; ignores replies once closed."""

    __slots__ = ("needed", "replies", "event", "closed")

    def __init__(self, env: simpy.Environment, needed: int) -> None:
        self.needed = needed
        self.replies: list[Any] = []
        self.event = env.event()
        self.closed = False

    def add(self, reply: Any) -> None:
        if self.closed:
            return
        self.replies.append(reply)
        if len(self.replies) >= self.needed and not self.event.triggered:
            self.event.succeed(True)

    def deliver(self, message: Message) -> None:
        """The network hands a reply message here (``on_delivery``)."""
        self.add(message.payload)


class StoreProtocol:
    """The shared plumbing of a store kind; subclasses implement :meth:`coordinate`.

    Class attributes: ``kind`` (the :data:`~distlab.sim.ALL_STORE_KINDS` name),
    ``supports_cas``, ``blind_puts`` (a replica overwrites whatever it holds, newer or not),
    ``clock_stamps`` (versions stamped with the coordinator's clock rather than ABD tags),
    ``default_anti_entropy_s``, ``anti_entropy`` (whether the kind accepts anti-entropy) and
    ``own_anti_entropy`` (the kind runs its own, so the store's push-pull stays off) and
    ``merge_values`` (:meth:`~distlab.sim.ReplicatedStore.put` merges CRDT values).
    A kind with messages of its own handles them in :meth:`receive`.

    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> store = ReplicatedStore(Network(World()), "cp", nodes=3)
    >>> type(store.protocol).__name__, store.protocol.new_stamp("n2", INITIAL_STAMP)
    ('ABD', (1, 1, 1))
    """

    kind = ""
    supports_cas = False
    blind_puts = False
    clock_stamps = False
    default_anti_entropy_s = 0.25
    anti_entropy = True  # whether the kind accepts anti-entropy (``anti_entropy_s`` > 0)
    supports_session_tokens = False  # whether requests may carry SessionNeeds
    own_anti_entropy = False
    merge_values = False  # replicas merge values (CRDTs) instead of keeping the newer stamp

    def __init__(self, store: ReplicatedStore) -> None:
        self.store = store
        self.seq = 0  # unique even for concurrent writes coordinated by one node

    def start(self) -> None:
        """Called once by the store at the end of its construction (nothing by default)."""

    def receive(self, node: str, payload: Any) -> None:
        """A message of the kind's own (none by default) reached ``node``."""

    def lost_acknowledged(self) -> list:
        """Acknowledged writes the protocol discarded (none by default)."""
        return []

    def check_write(self, value: Any) -> Any:
        """Refuse, before any work, a written value the kind cannot hold (anything by
        default); called by :meth:`~distlab.sim.ReplicatedStore.request`. Returns the CRDT the
        write merges into the key's replicas (``None``: the kind does not merge values), whose
        type the store checks against the key's."""
        return None

    def coordinate(self, node: str, request: StoreRequest) -> Coordination:  # pragma: no cover
        """Serve ``request`` at coordinator ``node`` (a generator returning the reply)."""
        raise NotImplementedError

    # -- stamps --------------------------------------------------------------------------------
    def new_stamp(self, node: str, base: tuple) -> tuple:
        """A stamp newer than ``base`` for a write coordinated by ``node``:
        ``(clock, writer, seq)`` for clock-stamped kinds, else the ABD tag ``(ts + 1, writer,
        seq)``."""
        self.seq += 1
        writer = self.store.index[node]
        if self.clock_stamps:
            return (self.store.clock(node), writer, self.seq)
        ts = base[0] if base[0] != -math.inf else 0
        return (int(ts) + 1, writer, self.seq)

    # -- the replica's side --------------------------------------------------------------------
    def serve(self, node: str, message: Query | Put) -> QueryReply | PutReply:
        """What replica ``node`` answers to a :class:`Query` or a :class:`Put`."""
        store = self.store
        if isinstance(message, Query):
            stamp, value = store.get(node, message.key)
            return QueryReply(node, stamp, value)
        stored = store.put(node, message.key, message.stamp, message.value, blind=self.blind_puts)
        return PutReply(node, stored)

    # -- the coordinator's side ----------------------------------------------------------------
    def phase(
        self,
        coord: str,
        targets: Sequence[str],
        needed: int,
        message: Callable[[Callable[[Message], Any]], Query | Put],
    ) -> Generator[Any, Any, list[Any]]:
        """Send ``message(on_reply)`` to ``targets`` (the coordinator answers itself at once)
        and wait for ``needed`` replies or the store's ``phase_timeout_s``; return the replies
        that arrived."""
        store = self.store
        env = store.env
        gather = _Gather(env, needed)
        msg = message(gather.deliver)
        for target in targets:
            if target == coord:
                gather.add(self.serve(coord, msg))
            else:
                store.net.send(coord, target, msg)
        if not gather.event.triggered:
            yield gather.event | env.timeout(store.phase_timeout_s)
        gather.closed = True
        return list(gather.replies)

    def query(self, coord: str, targets: Sequence[str], needed: int, key: str):
        """A read phase: the replies (:class:`QueryReply`) of at least ``needed`` targets, or
        fewer if the phase timed out."""
        return self.phase(coord, targets, needed, lambda on_reply: Query(key, on_reply))

    def put(self, coord: str, targets: Sequence[str], needed: int, key: str, stamp, value):
        """A write phase: the acknowledgements (:class:`PutReply`) that arrived."""
        return self.phase(coord, targets, needed, lambda on_reply: Put(key, stamp, value, on_reply))


def _latest(replies: list[QueryReply]) -> QueryReply:
    return max(replies, key=lambda r: r.stamp)


class ABD(StoreProtocol):
    """ABD on majority quorums of the whole cluster, with the read's write-back (``"cp"``).

    Write: ask a majority for their tags, store ``(ts + 1, writer)`` on a majority. Read: ask a
    majority, take the highest tag and write it back to a majority before answering. Without a
    majority within ``phase_timeout_s`` the answer is :class:`Unavailable`.
    """

    kind = "cp"
    write_back = True

    def quorum(self) -> int:
        """How many replies each phase waits for: a majority of the whole cluster."""
        return self.store.majority

    def coordinate(self, node: str, request: StoreRequest) -> Coordination:
        store = self.store
        everyone, majority, key = store.names, self.quorum(), request.key
        replies = yield from self.query(node, everyone, majority, key)
        if len(replies) < majority:
            return Unavailable()
        latest = _latest(replies)
        stamp, current = latest.stamp, latest.value
        if request.f == "write":
            new = self.new_stamp(node, stamp)
            store.record_write(new, stamp, request.value, node, request.f)
            stamp, current = new, request.value
        elif not self.write_back:
            return Answer(current, stamp)
        if stamp == INITIAL_STAMP:
            return Answer(current, stamp)  # nothing to write back
        acks = yield from self.put(node, everyone, majority, key, stamp, current)
        if len(acks) < majority:
            return Unavailable(partial=True)
        return Answer(current, stamp)


class ABDWithoutWriteBack(ABD):
    """ABD whose reads skip the write-back (``"cp-no-writeback"``): R + W > N, not
    linearizable (two reads during one write can see new, then old)."""

    kind = "cp-no-writeback"
    write_back = False


class AllNodes(ABD):
    """ABD whose phases wait for every node of the cluster (``"all-nodes"``): the course text's
    banking example, which refuses a transfer unless all nodes are reachable. Linearizable like
    ``"cp"``, but a single unreachable or crashed node makes every operation, on every side,
    ``"unavailable"``; a majority quorum gives the same consistency with fewer nodes."""

    kind = "all-nodes"

    def quorum(self) -> int:
        return len(self.store.names)


class CourseQuorum(StoreProtocol):
    """The course text's ``CPDatabase`` (``"course-quorum"``), faithfully.

    Its quorum is ``floor(healthy / 2) + 1`` over the nodes the coordinator can reach now; a
    write goes to all of them and stays where it landed if it misses its quorum; replicas
    overwrite blindly; ``cas`` is a read then a write, not atomic.
    """

    kind = "course-quorum"
    supports_cas = True
    blind_puts = True
    clock_stamps = True
    default_anti_entropy_s = 0.0

    def coordinate(self, node: str, request: StoreRequest) -> Coordination:
        store = self.store
        healthy = [n for n in store.names if store.net.can_reach(node, n)]
        quorum = len(healthy) // 2 + 1
        if len(healthy) < quorum:  # never: the bug this store shows
            return Unavailable()
        replies = yield from self.query(node, healthy, quorum, request.key)
        if len(replies) < quorum:
            return Unavailable()
        latest = _latest(replies)
        if request.f == "read":
            return Answer(latest.value, latest.stamp)
        value = request.value
        if request.f == "cas":
            expected, value = value
            if latest.value != expected:
                return Answer(latest.value, latest.stamp, applied=False)
        new = self.new_stamp(node, latest.stamp)
        store.record_write(new, latest.stamp, value, node, request.f)
        # write to all healthy nodes, wait for every one of them (Promise.allSettled)
        acks = yield from self.put(node, healthy, len(healthy), request.key, new, value)
        if len(acks) < quorum:
            return Unavailable(partial=True)
        return Answer(value, new)


class LastWriterWins(StoreProtocol):
    """The AP store (``"ap"``): every node answers from its own replica, pushes each write to
    its peers in the background, and settles conflicts by last-writer-wins on its (possibly
    skewed) clock; ``cas`` compares and sets locally.

    With ``conflicts="crdt"`` every value written must be a CRDT (anything with ``merge``, e.g.
    :mod:`distlab.crdt`'s types) and replicas keep the merge of what they receive (the write,
    replication, anti-entropy) under the greatest stamp: no concurrent update is lost, whatever
    the clocks say.

    >>> from distlab.crdt import GCounter
    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> world = World(seed=1); net = Network(world, latency=0.01)
    >>> store = ReplicatedStore(net, "ap", nodes=2, conflicts="crdt", clock_skew_s=0.5)
    >>> store.attach_client("c1", "n1"); store.attach_client("c2", "n2")
    >>> _ = store.request("c1", "write", value=GCounter().increment("c1"))
    >>> _ = store.request("c2", "write", value=GCounter().increment("c2"))
    >>> world.run(until=1)
    >>> [counter.value for counter in store.values("x").values()]
    [2, 2]
    """

    kind = "ap"
    supports_cas = True
    clock_stamps = True
    default_anti_entropy_s = 0.1

    def start(self) -> None:
        """Merge values if ``conflicts="crdt"`` (called by the store)."""
        self.merge_values = self.store.quorum.conflicts == "crdt"

    def check_write(self, value: Any) -> Any:
        """With ``conflicts="crdt"``, refuse a value without a ``merge`` method; the CRDT."""
        return check_crdt_value("value", value) if self.merge_values else None

    def coordinate(self, node: str, request: StoreRequest) -> Coordination:
        yield from ()  # answers at once, from the local replica
        store = self.store
        key = request.key
        stamp, current = store.get(node, key)
        if request.f == "read":
            return Answer(current, stamp)
        value = request.value
        if request.f == "cas":
            expected, value = value
            if current != expected:
                return Answer(current, stamp, applied=False)
        new = self.new_stamp(node, stamp)
        store.record_write(new, stamp, value, node, request.f)
        store.put(node, key, new, value)  # LWW: a skewed clock may lose it at once
        for peer in store.names:
            if peer != node:
                store.net.send(node, peer, Replicate(key, new, value))
        return Answer(value, new)


#: Store kind -> its protocol class.
PROTOCOLS: dict[str, type[StoreProtocol]] = {
    p.kind: p for p in (ABD, ABDWithoutWriteBack, AllNodes, CourseQuorum, LastWriterWins)
}
