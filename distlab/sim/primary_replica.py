"""Primary/replica replication with failover: the ``"primary"`` kind of
:class:`~distlab.sim.ReplicatedStore`.

One node is the primary. A write (sent to any node: a replica forwards it to the primary) is
applied by the primary, appended to its log at the next position (``lsn``), and shipped to every
replica; each replica applies shipped entries in log order through its apply queue, each entry
``replication_lag`` (a :mod:`distlab.sim` distribution) after its shipment arrived and not before
the previous entry: the lag stands for the whole way to the replica's disk (shipping, relay log,
apply), so a write still in a replica's queue is not on that replica, and the writes whose lag
has not run out when the primary crashes never reach it. When the primary acknowledges the
client depends on ``replication``:

- ``"async"``: at once, after applying locally;
- ``"semi-sync"``: once one replica has applied the entry (MySQL's semi-synchronous replication);
- ``"sync"``: once every replica has applied it.

Without the acknowledgements it waits for within ``phase_timeout_s`` the write answers
``"unavailable"`` (effect ``"maybe"``: it is in the primary's log). A read is served by whichever
node the client asks, from its own replica: a replica's answer can be stale.

Each write's stamp is ``(term, lsn, seq)``: the client learns the log position of its write
(what a session token holds). A request may carry a session token
(:class:`~distlab.sim.store_messages.SessionNeeds`): the node that serves it (the replica asked,
for a read; the primary, for a write) first checks that it has applied every position in it,
``(term, lsn)`` matched in its log (:meth:`PrimaryReplica.holds`), waits up to ``wait_s`` for
its apply queue to get there, and otherwise answers ``"unavailable"``; a position a failover
discarded is never held again (see :mod:`distlab.sim.sessions`).

Failover. A watcher (an oracle standing for the orchestrator: Sentinel, Patroni, MHA) looks at
the nodes every ``failover_s / 10`` (at least 1 ms); it sees crashes, not partitions (a primary
cut off from its replicas stays primary, and they catch up on the shipments after the heal).
Once the primary has been seen down for ``failover_s``, it promotes the live replica that has
applied the longest log (ties: the first in ``store.names``). The term goes up by one.
Writes the new primary never received are **lost**, acknowledged or not:
:meth:`PrimaryReplica.lost_acknowledged` lists the acknowledged ones. A node that comes back (the
old primary, or a crashed replica) **rejoins as a replica: the suffix of its log that diverges
from the primary's is discarded** and its replica rebuilt from the common prefix, then the
primary ships it the rest. Shipments the network loses are covered by later ones (each shipment
carries the entries from the replica's last acknowledged position, up to :data:`MAX_BATCH`).

>>> from distlab.sim import World, Network, ReplicatedStore
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = ReplicatedStore(net, "primary", nodes=3, replication_lag=0.5)
>>> store.attach_client("c1", "n1")
>>> w = store.request("c1", "write", value=7); world.run(until=0.1)
>>> w.value.outcome, store.values("x")
('ok', {'n1': 7, 'n2': None, 'n3': None})
>>> world.run(until=1.0); store.values("x")
{'n1': 7, 'n2': 7, 'n3': 7}
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from distlab.sim.network import Sampler
from distlab.sim.rpc import call
from distlab.sim.store_messages import Answer, LogEntry, Ship, ShipAck, StoreRequest, Unavailable
from distlab.sim.store_protocols import Coordination, StoreProtocol

if TYPE_CHECKING:  # pragma: no cover
    from distlab.sim.stores import ReplicatedStore, WriteRecord

__all__ = ["MAX_BATCH", "REPLICATION_MODES", "PrimaryReplica"]

#: The replication modes of the ``"primary"`` kind.
REPLICATION_MODES = ("async", "semi-sync", "sync")
#: The most log entries one shipment carries.
MAX_BATCH = 64


class PrimaryReplica(StoreProtocol):
    """The ``"primary"`` kind: a replication log shipped from the primary to the replicas, with
    failover (see the module docstring).

    State: ``primary`` (the node now primary), ``term``, ``logs[node]`` (the entries each node
    has applied, in order), ``received[node]`` (the longest log prefix it has queued),
    ``lost`` (stamps of the writes discarded at failovers), ``failovers`` (``(time, old,
    new)``) and ``token_waits`` (requests that waited for their session token).

    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> store = ReplicatedStore(Network(World()), "primary", nodes=2)
    >>> store.protocol.primary, store.protocol.term, store.protocol.replication
    ('n1', 1, 'async')
    """

    kind = "primary"
    supports_cas = True
    default_anti_entropy_s = 0.0
    anti_entropy = False  # replicas follow the primary's log, not each other
    supports_session_tokens = True

    def __init__(self, store: ReplicatedStore) -> None:
        super().__init__(store)
        self.term = 1
        self.primary = ""
        self.replication = "async"
        self.logs: dict[str, list[LogEntry]] = {}
        self.received: dict[str, int] = {}
        self.lost: list[tuple] = []
        self.failovers: list[tuple[float, str, str]] = []

    def start(self) -> None:
        """Set up the log of every node and start the failover watcher (called by the store)."""
        store = self.store
        names = store.names
        self.primary = names[0]
        self.replication = store.replication
        self.lag = Sampler(store.replication_lag, store.rng)
        self.logs = {n: [] for n in names}
        self.received = {n: 0 for n in names}
        self.pending: dict[str, dict[int, LogEntry]] = {n: {} for n in names}
        # each node's apply queue: (entry, when it is due), in log order
        self.queued: dict[str, deque[tuple[LogEntry, float]]] = {n: deque() for n in names}
        self.ready_at = {n: 0.0 for n in names}
        self.epoch = {n: 0 for n in names}
        self.match = {n: 0 for n in names}  # on the primary: each replica's acknowledged lsn
        self.incarnation = {n: store.net.node(n).incarnation for n in names}
        self.waiters: list[tuple[int, int, Any]] = []
        self.token_waiters: list[tuple[str, tuple, float, Any]] = []
        self.token_waits = 0  # requests that waited for their session token
        store.env.process(self._watch())

    # -- clients -------------------------------------------------------------------------------
    def coordinate(self, node: str, request: StoreRequest) -> Coordination:
        store = self.store
        needs = request.needs
        if needs is not None and (request.f == "read" or node == self.primary):
            held = yield from self._await_positions(node, needs.positions, needs.wait_s)
            if not held:
                return Unavailable()
        if request.f == "read":
            stamp, value = store.get(node, request.key)
            return Answer(value, stamp)
        if node != self.primary:  # forward the write to the primary
            r = yield call(
                store.net, node, self.primary, request, timeout_s=2 * store.phase_timeout_s
            )
            reply = r.value
            return reply if isinstance(reply, (Answer, Unavailable)) else Unavailable(partial=True)
        stamp, current = store.get(node, request.key)
        value = request.value
        if request.f == "cas":
            expected, value = value
            if current != expected:
                return Answer(current, stamp, applied=False)
        entry = self._append(node, request, stamp, value)
        needed = self.acks_needed()
        if needed == 0:
            return Answer(value, entry.stamp)
        event = store.env.event()
        self.waiters.append((entry.lsn, needed, event))
        self._check_waiters()
        if not event.triggered:
            yield event | store.env.timeout(store.phase_timeout_s)
        if not event.triggered:
            return Unavailable(partial=True)
        return Answer(value, entry.stamp)

    def holds(self, node: str, positions: tuple) -> bool:
        """Whether ``node`` has applied every log position ``(term, lsn)`` of ``positions``: its
        log has an entry of that term at that lsn (so, by the log's order, all before it).

        >>> from distlab.sim import World, Network, ReplicatedStore
        >>> world = World(); store = ReplicatedStore(Network(world), "primary", nodes=2,
        ...                                          replication_lag=1.0)
        >>> store.attach_client("c", "n1"); w = store.request("c", "write", value=1)
        >>> world.run(until=0.5); pos = w.value.stamp[:2]
        >>> store.protocol.holds("n1", (pos,)), store.protocol.holds("n2", (pos,))
        (True, False)
        """
        log = self.logs[node]
        return all(0 < lsn <= len(log) and log[lsn - 1].term == term for term, lsn in positions)

    def _await_positions(self, node: str, positions: tuple, wait_s: float):
        """Wait (up to ``wait_s``) until ``node`` holds ``positions``; whether it does."""
        env = self.store.env
        if self.holds(node, positions) or wait_s <= 0:
            yield from ()
            return self.holds(node, positions)
        event = env.event()
        self.token_waits += 1
        self.token_waiters.append((node, positions, env.now + wait_s, event))
        yield event | env.timeout(wait_s)
        return self.holds(node, positions)

    def _wake_token_waiters(self, node: str) -> None:
        now, still = self.store.env.now, []
        for waiter in self.token_waiters:
            where, positions, deadline, event = waiter
            if where == node and self.holds(node, positions):
                event.succeed(True)
            elif deadline >= now:
                still.append(waiter)
        self.token_waiters = still

    def acks_needed(self) -> int:
        """How many replicas must have applied a write before the primary acknowledges it."""
        replicas = len(self.store.names) - 1
        return {"async": 0, "semi-sync": min(1, replicas), "sync": replicas}[self.replication]

    def _append(self, node: str, request: StoreRequest, base: tuple, value: Any) -> LogEntry:
        lsn = len(self.logs[node]) + 1
        self.seq += 1
        stamp = (self.term, lsn, self.seq)
        entry = LogEntry(self.term, lsn, request.key, stamp, value)
        self.store.record_write(stamp, base, value, node, request.f)
        self.logs[node].append(entry)
        self.received[node] = lsn
        self.store.put(node, entry.key, stamp, value, blind=True)
        self._wake_token_waiters(node)
        for replica in self.store.names:
            if replica != node:
                self._ship(replica)
        return entry

    def _ship(self, replica: str) -> None:
        log = self.logs[self.primary]
        start = self.match[replica]
        if start < len(log):
            batch = tuple(log[start : start + MAX_BATCH])
            self.store.net.send(self.primary, replica, Ship(self.term, batch))

    # -- replicas ------------------------------------------------------------------------------
    def receive(self, node: str, payload: Any) -> None:
        """Handle a :class:`Ship` (a replica queues entries) or a :class:`ShipAck` (the primary
        counts acknowledgements)."""
        self._notice_restart(node)
        if isinstance(payload, ShipAck):
            if node == self.primary:
                self.match[payload.node] = max(self.match[payload.node], payload.lsn)
                self._check_waiters()
        elif isinstance(payload, Ship) and payload.term == self.term and node != self.primary:
            for entry in payload.entries:
                if entry.lsn > self.received[node]:
                    self.pending[node][entry.lsn] = entry
            self._enqueue(node)

    def _enqueue(self, node: str) -> None:
        pending, env = self.pending[node], self.store.env
        while self.received[node] + 1 in pending:
            entry = pending.pop(self.received[node] + 1)
            self.received[node] = entry.lsn
            ready = max(self.ready_at[node], env.now + max(0.0, self.lag.next()))
            self.ready_at[node] = ready
            self.queued[node].append((entry, ready))
            env.process(self._apply_due(node, ready, self.epoch[node]))

    def _apply_due(self, node: str, ready: float, epoch: int):
        """Wake at ``ready`` and apply the head of the queue while it is due (in log order,
        whatever the order the wake-ups fire in)."""
        store = self.store
        yield store.env.timeout(max(0.0, ready - store.env.now))
        if self.epoch[node] != epoch or not store.net.node(node).alive:
            return
        if not store.net.node(self.primary).alive:
            self._drop_queue(node)  # not yet on its way when the primary crashed
            return
        queue, applied = self.queued[node], 0
        while queue and queue[0][1] <= store.env.now + 1e-9:
            entry, _ = queue.popleft()
            self._apply(node, entry)
            applied = entry.lsn
        if applied:
            store.net.send(node, self.primary, ShipAck(node, applied))

    def _drop_queue(self, node: str) -> None:
        self.epoch[node] += 1
        self.queued[node].clear()
        self.pending[node].clear()
        self.received[node] = len(self.logs[node])

    def _apply(self, node: str, entry: LogEntry) -> None:
        self.logs[node].append(entry)
        self.store.put(node, entry.key, entry.stamp, entry.value, blind=True)
        self._wake_token_waiters(node)

    def _check_waiters(self) -> None:
        others = [n for n in self.store.names if n != self.primary]
        still = []
        for lsn, needed, event in self.waiters:
            if sum(self.match[n] >= lsn for n in others) >= needed:
                event.succeed(True)
            else:
                still.append((lsn, needed, event))
        self.waiters = still

    # -- failover ------------------------------------------------------------------------------
    def _watch(self):
        store = self.store
        every = max(1e-3, store.failover_s / 10)
        down_since = None
        while True:
            yield store.env.timeout(every)
            for node in store.names:
                self._notice_restart(node)
            if store.net.node(self.primary).alive:
                down_since = None
            elif down_since is None:
                down_since = store.env.now
            elif store.env.now - down_since >= store.failover_s - 1e-12 and self._promote():
                down_since = None

    def _notice_restart(self, node: str) -> None:
        incarnation = self.store.net.node(node).incarnation
        if incarnation != self.incarnation[node] and self.store.net.node(node).alive:
            self.incarnation[node] = incarnation
            if node != self.primary:
                self.rejoin(node)
            else:  # back before a failover: the replicas dropped what had not reached them
                for replica in self.store.names:
                    if replica != node:
                        self._ship(replica)

    def _promote(self) -> bool:
        store = self.store
        old = self.primary
        alive = [n for n in store.names if n != old and store.net.node(n).alive]
        if not alive:
            return False
        new = max(alive, key=lambda n: (len(self.logs[n]), -store.index[n]))
        kept = len(self.logs[new])
        self._drop_queue(new)
        self.lost.extend(e.stamp for e in self.logs[old][kept:])
        self.term += 1
        self.primary = new
        self.waiters = []
        self.match = {n: 0 for n in store.names}
        self.failovers.append((float(store.env.now), old, new))
        store.world.log("failover", node=new, detail=f"{old} -> {new}, term {self.term}")
        for node in alive:
            if node != new:
                self.rejoin(node)
        return True

    def rejoin(self, node: str) -> None:
        """Make ``node`` a replica of the current primary: discard the suffix of its log that
        diverges from the primary's, rebuild its replica from the rest, and ship it what it
        lacks."""
        store = self.store
        log, primary_log = self.logs[node], self.logs[self.primary]
        common = 0
        while common < min(len(log), len(primary_log)) and log[common] == primary_log[common]:
            common += 1
        if common < len(log):
            del log[common:]
            store.replicas[node].clear()
            for entry in log:
                store.put(node, entry.key, entry.stamp, entry.value, blind=True)
        self.epoch[node] += 1
        self.received[node] = common
        self.pending[node].clear()
        self.queued[node].clear()
        self.ready_at[node] = store.env.now
        self.match[node] = common
        self._ship(node)

    def lost_acknowledged(self) -> list[WriteRecord]:
        """The acknowledged writes discarded at failovers (their :class:`WriteRecord`: value,
        coordinating node, the client's start and end), oldest first."""
        writes = self.store.writes
        return [writes[s] for s in self.lost if s in writes and writes[s].acked]
