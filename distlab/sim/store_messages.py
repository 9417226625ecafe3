"""What the nodes of a :class:`~distlab.sim.ReplicatedStore` say to each other, as small typed
messages, and what a coordinator answers a client.

A client's request body is a :class:`StoreRequest`; its coordinator answers with an
:class:`Answer` (the operation was served) or an :class:`Unavailable` (no quorum). Between
replicas: :class:`Query` / :class:`QueryReply` (read a replica's version), :class:`Put` /
:class:`PutReply` (store a version), :class:`Replicate` (background replication, no reply) and
:class:`Sync` (anti-entropy: a whole replica, push-pull). A request that expects a reply carries
the callable the reply message is delivered to (``on_reply``, for
``Network.send(..., on_delivery=...)``), as :class:`~distlab.sim.Request` does.

>>> Answer(result=3, stamp=(1, 0, 1))
Answer(result=3, stamp=(1, 0, 1), applied=True)
>>> Unavailable(partial=True).outcome
'unavailable'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distlab import outcomes

__all__ = [
    "Answer",
    "LogEntry",
    "Put",
    "PutReply",
    "Query",
    "QueryReply",
    "Replicate",
    "SessionNeeds",
    "Ship",
    "ShipAck",
    "StoreRequest",
    "Sync",
    "Unavailable",
]

Stamp = tuple


@dataclass(frozen=True, slots=True)
class SessionNeeds:
    """A session token (Terry et al.'s check, as MongoDB's causal sessions and Postgres LSN waits
    do it): the node that serves the request must first have applied every log position
    ``(term, lsn)`` in ``positions``; if it has not, it waits up to ``wait_s`` for them, then
    answers :class:`Unavailable` (``wait_s=0``: at once).

    >>> SessionNeeds(((1, 4),), wait_s=0.5)
    SessionNeeds(positions=((1, 4),), wait_s=0.5)
    """

    positions: tuple[tuple[int, int], ...] = ()
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class StoreRequest:
    """A client's operation: ``f`` (read, write, cas) on ``key`` with ``value`` (the value to
    write, or ``(expected, new)`` for a cas); ``needs``: a :class:`SessionNeeds` the serving
    node checks first (kinds with ``supports_session_tokens``), or ``None``."""

    f: str
    key: str
    value: Any = None
    needs: SessionNeeds | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The coordinator served the operation: ``result`` (the value read; for a cas that found
    another value, that value), ``stamp`` (the version read or written) and ``applied`` (``False``
    only for a compare-and-set that found another value: an answer, with no effect)."""

    result: Any
    stamp: Stamp
    applied: bool = True

    outcome = outcomes.OK


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The coordinator could not reach its quorum. ``partial``: a write (or a read's write-back)
    had already reached some replicas, so the operation may still take effect."""

    partial: bool = False

    outcome = outcomes.UNAVAILABLE


@dataclass(frozen=True, slots=True)
class Query:
    """Coordinator -> replica: send me your version of ``key``."""

    key: str
    on_reply: Callable[[Any], Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class QueryReply:
    """Replica -> coordinator: ``node`` holds ``(stamp, value)`` for the key asked."""

    node: str
    stamp: Stamp
    value: Any


@dataclass(frozen=True, slots=True)
class Put:
    """Coordinator -> replica: keep ``(stamp, value)`` for ``key`` (if newer, unless the store
    overwrites blindly)."""

    key: str
    stamp: Stamp
    value: Any
    on_reply: Callable[[Any], Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class PutReply:
    """Replica -> coordinator: ``node`` handled the put (``stored``: whether it kept it)."""

    node: str
    stored: bool


@dataclass(frozen=True, slots=True)
class Replicate:
    """A write pushed to a peer in the background (AP): keep it if newer; no reply."""

    key: str
    stamp: Stamp
    value: Any


@dataclass(frozen=True, slots=True)
class Sync:
    """Anti-entropy: a whole replica ``{key: (stamp, value)}``; ``reply``: send yours back."""

    snapshot: dict
    reply: bool


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One write in a primary's replication log: its ``term`` (which primary wrote it), its log
    position ``lsn`` (1, 2, ...), and the ``key``, ``stamp`` and ``value`` it sets.

    >>> LogEntry(1, 3, "x", (1, 3, 0), "v").lsn
    3
    """

    term: int
    lsn: int
    key: str
    stamp: Stamp
    value: Any


@dataclass(frozen=True, slots=True)
class Ship:
    """Primary -> replica: log entries to apply in log order, from the primary of ``term``."""

    term: int
    entries: tuple


@dataclass(frozen=True, slots=True)
class ShipAck:
    """Replica -> primary: ``node`` has applied the log up to position ``lsn``."""

    node: str
    lsn: int
