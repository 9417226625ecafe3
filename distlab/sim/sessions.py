"""Client sessions on a replicated store: read routing and Terry's session guarantees.

A :class:`ClientSession` is one client of a ``"primary"``
:class:`~distlab.sim.ReplicatedStore`. Writes go to the primary; how it reads is its
``routing`` (:data:`ROUTINGS`):

- ``"primary"``: every read from the primary (up to date while the primary lives);
- ``"any"``: each read from a replica drawn at random (stale reads, and newer-then-older);
- ``"sticky"``: every read from one replica (``replica=``, else drawn once);
- ``"guaranteed"``: each read from a random replica, with the ``guarantees`` switched on
  (any of :data:`~distlab.sessions.GUARANTEES`) **enforced by Terry et al.'s mechanism**. The
  session keeps its write-set and read-set as log positions ``(term, lsn)``, the latest per
  key (a later version of a key supersedes the earlier ones in the log): the session token.
  Before a read the serving replica must have applied the session's writes of that key
  (``read_your_writes``) and the version its earlier reads of that key saw
  (``monotonic_reads``); before a write the primary must have applied all of the session's
  writes (``monotonic_writes``) and every version it read (``writes_follow_reads``). A node
  that has not applied them serves nothing and, by ``on_behind`` (:data:`ON_BEHIND`): waits up
  to ``wait_s`` for its apply queue (``"wait"``), answers an error at once (``"error"``), or
  the session asks the primary instead (``"primary"``; a write refused by the primary is an
  error at once). A position a failover discarded is never
  held again: the guarantee then costs availability (errors), never correctness.

The session records every operation (:class:`SessionOp`) and its history in a
:class:`SessionLog` (shared by the sessions of one run, so that reads of another session's
writes resolve); :func:`check_store_sessions` runs :func:`distlab.sessions.check_sessions` on
it, with each write's log stamp as its version and each node's log as its applied order.

>>> from distlab.sim import World, Network, ReplicatedStore
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = ReplicatedStore(net, "primary", nodes=3, replication_lag=0.5)
>>> log = SessionLog()
>>> any_s = ClientSession(store, "a", routing="any", log=log)
>>> ryw = ClientSession(store, "b", routing="guaranteed", guarantees="read_your_writes", log=log)
>>> def client(s, value):
...     yield s.write("x", value)
...     yield s.read("x")
>>> _ = world.env.process(client(any_s, 1)); _ = world.env.process(client(ryw, 2))
>>> world.run(until=2)
>>> [(op.client, op.f, op.outcome, op.result) for op in log.ops if op.f == "read"]
[('a', 'read', 'ok', None), ('b', 'read', 'ok', 2)]
>>> check_store_sessions(store, log).violated()["read_your_writes"]
1
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from distlab import outcomes
from distlab._validate import check_bool, check_choice, check_choices, check_number, is_hashable
from distlab.history import History, Operation
from distlab.sessions import GUARANTEES, SessionReport, check_sessions
from distlab.sim.distributions import MAX_SECONDS
from distlab.sim.store_messages import SessionNeeds
from distlab.sim.stores import ReplicatedStore, StoreResult

__all__ = [
    "ON_BEHIND",
    "ROUTINGS",
    "ClientSession",
    "SessionLog",
    "SessionOp",
    "check_store_sessions",
]

#: How a session reads.
ROUTINGS = ("primary", "any", "sticky", "guaranteed")
#: What a guaranteed session does when the node asked has not applied what it needs.
ON_BEHIND = ("wait", "error", "primary")


@dataclass(frozen=True, slots=True)
class SessionOp:
    """One operation of a session, as the session saw it.

    ``node``: the node asked first; ``served_by``: the node that answered last (the primary after
    a redirect); ``outcome`` in :mod:`distlab.outcomes` words; ``result``: the value read;
    ``stamp``: the version read or written (``None`` if unknown); ``needed``: how many log
    positions the session token asked for; ``redirected``: whether the read went on to the
    primary; ``type``: the history type (``ok``, ``fail``, ``info``).

    >>> op = SessionOp("c1", "read", "x", None, "n2", "n2", "ok", 3, (1, 2, 2), 0.0, 0.02, 1,
    ...                False, "ok")
    >>> op.latency_s
    0.02
    """

    client: str
    f: str
    key: str
    value: Any
    node: str
    served_by: str
    outcome: str
    result: Any
    stamp: tuple | None
    start: float
    end: float
    needed: int
    redirected: bool
    type: str

    @property
    def latency_s(self) -> float:
        """``end - start``: what the client waited, redirects and waits included."""
        return self.end - self.start


class SessionLog:
    """The operations of one or more sessions, in completion order; their :class:`History`.

    >>> log = SessionLog(); len(log.ops), len(log.history())
    (0, 0)
    """

    def __init__(self) -> None:
        self.ops: list[SessionOp] = []

    def add(self, op: SessionOp) -> None:
        """Record one completed operation."""
        if not isinstance(op, SessionOp):
            raise TypeError(f"op={op!r} must be a SessionOp")
        self.ops.append(op)

    def history(self, client: str | None = None) -> History:
        """The operations (of ``client`` only, if given) as a :class:`~distlab.history.History`:
        one process per client, keys kept, a read's result its value."""
        events = []
        for op in self.ops:
            if client is not None and op.client != client:
                continue
            events.append((op.start, op.client, "invoke", op.f, op.key, op.value))
            result = op.result if op.f == "read" else op.value
            events.append((op.end, op.client, op.type, op.f, op.key, result))
        return History.from_events(sorted(events, key=lambda e: e[0]))

    def to_frame(self):
        """One row per operation (the fields of :class:`SessionOp` and ``latency_s``)."""
        import pandas as pd

        columns = [*SessionOp.__slots__, "latency_s"]
        rows = [[getattr(op, c) for c in columns] for op in self.ops]
        return pd.DataFrame(rows, columns=columns)


class ClientSession:
    """One client session of a ``"primary"`` store with a read ``routing`` (see the module).

    Parameters
    ----------
    store: a :class:`~distlab.sim.ReplicatedStore` of kind ``"primary"``.
    client: the client's node name (attached to the store if it is not yet).
    routing: one of :data:`ROUTINGS`.
    guarantees: for ``routing="guaranteed"``: one or more of
        :data:`~distlab.sessions.GUARANTEES` (default: all four); not for the other routings.
    on_behind: for ``"guaranteed"``: one of :data:`ON_BEHIND`.
    wait_s: how long a node may wait to catch up (``on_behind="wait"``).
    timeout_s: the client's timeout per request (a wait comes on top).
    replica: the replica of a ``"sticky"`` session (default: drawn once).
    rng: a ``numpy.random.Generator`` for the replicas drawn (default: the world's).
    log: the :class:`SessionLog` to record into (default: a new one, ``session.log``).

    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> store = ReplicatedStore(Network(World()), "primary", nodes=3)
    >>> ClientSession(store, "c", routing="guaranteed", guarantees=["monotonic_read"])
    Traceback (most recent call last):
    ValueError: guarantees item='monotonic_read' is not one of 'read_your_writes', \
'monotonic_reads', 'writes_follow_reads', 'monotonic_writes'
    """

    def __init__(
        self,
        store: ReplicatedStore,
        client: str,
        *,
        routing: str = "guaranteed",
        guarantees: str | Iterable[str] | None = None,
        on_behind: str = "wait",
        wait_s: float = 0.5,
        timeout_s: float = 0.5,
        replica: str | None = None,
        rng: np.random.Generator | None = None,
        log: SessionLog | None = None,
    ) -> None:
        if not isinstance(store, ReplicatedStore):
            raise TypeError(f"store={store!r} must be a distlab.sim.ReplicatedStore")
        if store.kind != "primary":
            raise ValueError(f"store kind={store.kind!r} must be 'primary' for a ClientSession")
        self.routing = check_choice("routing", routing, ROUTINGS)
        self.guarantees = _guarantees(routing, guarantees)
        self.on_behind = check_choice("on_behind", on_behind, ON_BEHIND)
        self.wait_s = check_number("wait_s", wait_s, 0.0, MAX_SECONDS)
        self.timeout_s = check_number("timeout_s", timeout_s, 0.0, MAX_SECONDS, min_inclusive=False)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng={rng!r} must be a numpy.random.Generator or None")
        if log is not None and not isinstance(log, SessionLog):
            raise TypeError(f"log={log!r} must be a SessionLog or None")
        self.store, self.client = store, client
        self.rng = store.world.rng if rng is None else rng
        self.log = SessionLog() if log is None else log
        if replica is not None:
            if routing != "sticky":
                raise ValueError(f"replica={replica!r} is only for routing='sticky'")
            check_choice("replica", replica, store.names)
        elif routing == "sticky":
            replica = self._random_replica()
        self.replica = replica
        if client not in store.clients:
            store.attach_client(client, replica or self.primary)
        self.write_set: dict[str, tuple] = {}  # key -> log position of the latest own write
        self.read_set: dict[str, tuple] = {}  # key -> log position of the latest version read

    def __repr__(self) -> str:
        extra = f", guarantees={self.guarantees!r}" if self.guarantees else ""
        return f"ClientSession({self.client!r}, routing={self.routing!r}{extra})"

    @property
    def primary(self) -> str:
        """The node the store's orchestrator says is primary now (where writes go)."""
        return self.store.protocol.primary

    def token(self) -> dict[str, dict[str, tuple]]:
        """The session token: ``{"writes": {key: (term, lsn)}, "reads": {key: (term, lsn)}}``."""
        return {"writes": dict(self.write_set), "reads": dict(self.read_set)}

    def read(self, key: str = "x") -> simpy.Process:
        """Read ``key`` by the session's routing; a process whose value is a :class:`SessionOp`."""
        if not isinstance(key, str):
            raise TypeError(f"key={key!r} must be a string")
        return self.store.env.process(self._read(key))

    def write(self, key: str, value: Any) -> simpy.Process:
        """Write ``value`` (unique per run, not ``None``) to ``key`` at the primary; a process
        whose value is a :class:`SessionOp`."""
        if not isinstance(key, str):
            raise TypeError(f"key={key!r} must be a string")
        if value is None:
            raise ValueError("value=None is the initial value of every key; write another value")
        return self.store.env.process(self._write(key, value))

    def history(self) -> History:
        """This session's operations as a :class:`~distlab.history.History`."""
        return self.log.history(self.client)

    # -- reads and writes ----------------------------------------------------------------------
    def _read(self, key: str):
        start = self.store.env.now
        node = self._read_node()
        positions = self._read_positions(key)
        guarded = self.routing == "guaranteed" and bool(positions)
        wait = self.wait_s if guarded and self.on_behind == "wait" else 0.0
        r = yield self._request("read", key, None, node, positions if guarded else None, wait)
        served_by, redirected = node, False
        if (
            guarded
            and r.outcome != outcomes.OK
            and self.on_behind == "primary"
            and node != self.primary
        ):
            served_by, redirected = self.primary, True
            r = yield self._request("read", key, None, served_by, positions, 0.0)
        if r.outcome == outcomes.OK and r.stamp is not None and r.stamp[1] > 0:
            self._remember(self.read_set, key, r.stamp)
        return self._record(r, start, node, served_by, len(positions) if guarded else 0, redirected)

    def _write(self, key: str, value: Any):
        start = self.store.env.now
        node = self.primary
        positions = self._write_positions()
        guarded = self.routing == "guaranteed" and bool(positions)
        wait = self.wait_s if guarded and self.on_behind == "wait" else 0.0
        r = yield self._request("write", key, value, node, positions if guarded else None, wait)
        if r.outcome == outcomes.OK and r.stamp is not None:
            self._remember(self.write_set, key, r.stamp)
        return self._record(r, start, node, node, len(positions) if guarded else 0, False)

    def _request(self, f, key, value, node, positions, wait_s) -> simpy.Process:
        needs = None if positions is None else SessionNeeds(positions, wait_s)
        return self.store.request(
            self.client, f, key, value, node=node, timeout_s=self.timeout_s + wait_s, needs=needs
        )

    def _record(self, r: StoreResult, start, node, served_by, needed, redirected) -> SessionOp:
        op = SessionOp(
            self.client, r.f, r.key, r.value, node, served_by, r.outcome, r.result, r.stamp,
            start, r.end, needed, redirected, r.type,
        )  # fmt: skip
        self.log.add(op)
        return op

    @staticmethod
    def _remember(positions: dict[str, tuple], key: str, stamp: tuple) -> None:
        if key not in positions or stamp[:2] > positions[key]:
            positions[key] = stamp[:2]

    def _read_node(self) -> str:
        if self.routing == "primary":
            return self.primary
        if self.routing == "sticky":
            return self.replica
        return self._random_replica()

    def _random_replica(self) -> str:
        names = [n for n in self.store.names if n != self.primary] or [self.primary]
        return names[int(self.rng.integers(len(names)))]

    def _read_positions(self, key: str) -> tuple:
        wanted = []
        if "read_your_writes" in self.guarantees and key in self.write_set:
            wanted.append(self.write_set[key])
        if "monotonic_reads" in self.guarantees and key in self.read_set:
            wanted.append(self.read_set[key])
        return tuple(sorted(set(wanted)))

    def _write_positions(self) -> tuple:
        wanted = []
        if "monotonic_writes" in self.guarantees:
            wanted.extend(self.write_set.values())
        if "writes_follow_reads" in self.guarantees:
            wanted.extend(self.read_set.values())
        return tuple(sorted(set(wanted)))


def _guarantees(routing: str, guarantees: Any) -> tuple[str, ...]:
    if routing != "guaranteed":
        if guarantees is not None:
            raise ValueError(
                f"guarantees={guarantees!r} are enforced only with routing='guaranteed' "
                f"(routing={routing!r})"
            )
        return ()
    if guarantees is None:
        return GUARANTEES
    return check_choices("guarantees", guarantees, GUARANTEES, noun="a guarantee")


def check_store_sessions(
    store: ReplicatedStore,
    log: SessionLog,
    *,
    guarantees: str | Iterable[str] = GUARANTEES,
    applied: bool = True,
) -> SessionReport:
    """:func:`distlab.sessions.check_sessions` on the sessions of ``log`` run on ``store``.

    Each write's version is its log stamp ``(term, lsn, seq)`` (a write that never reached a
    primary ranks last); with ``applied`` (default), each node's log (its applied order, at the
    end of the run) judges ``monotonic_writes`` and ``writes_follow_reads`` as Terry defines
    them, so a session write applied by a new primary without an earlier one a failover
    discarded is a violation.

    >>> from distlab.sim import World, Network, ReplicatedStore
    >>> world = World(); store = ReplicatedStore(Network(world), "primary", nodes=2)
    >>> s = ClientSession(store, "c", routing="primary"); _ = s.write("x", 1); world.run(until=1)
    >>> check_store_sessions(store, s.log).ok()
    True
    """
    if not isinstance(store, ReplicatedStore) or store.kind != "primary":
        raise TypeError(f"store={store!r} must be a ReplicatedStore of kind 'primary'")
    if not isinstance(log, SessionLog):
        raise TypeError(f"log={log!r} must be a SessionLog")
    applied = check_bool("applied", applied)
    history = log.history()
    by_value: dict[Any, list[tuple]] = {}
    for stamp, rec in store.writes.items():
        if is_hashable(rec.value):
            by_value.setdefault(rec.value, []).append(stamp)
    known = {(op.key, op.value): op.stamp for op in log.ops if op.f == "write" and op.stamp}

    def version(op: Operation) -> tuple:
        stamp = known.get((op.key, op.value))
        if stamp is None and len(by_value.get(op.value, ())) == 1:
            stamp = by_value[op.value][0]
        return stamp if stamp is not None else (math.inf, op.index, 0)

    orders = None
    if applied:
        names = {(op.key, op.value) for op in history if op.f == "write"}
        logs = store.protocol.logs
        orders = {
            node: [(e.key, e.value) for e in logs[node] if (e.key, e.value) in names]
            for node in store.names
        }
    return check_sessions(history, guarantees=guarantees, versions=version, applied=orders)
