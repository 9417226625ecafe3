"""Check a history for Terry et al.'s session guarantees: the earliest violation per session.

A session is a process of the :class:`~distlab.history.History` (its operations in invocation
order; a process has one operation at a time). Only ``read``/``get`` and ``write``/``put`` are
understood. Writes carry unique values per key, and a **version order** per key says in which
order replicas order them: by default the written values themselves (a log position, a
timestamp, a ``(timestamp, replica)`` tag), else ``versions`` (a mapping or a function from a
write to its version). A write is named by its value, or by ``(key, value)`` when the history has
keys.

What "a read sees a write" means here. A replica of a register holds the write of highest
version it has applied (a log applied in order, or last-writer-wins on versions). A read that
returned the value of write ``v`` ran at a replica that had applied ``v``, and it *sees* write
``w`` (same key) iff ``version(w) <= version(v)``: the replica had applied ``w`` or a write that
supersedes it; the history cannot tell these apart and the session is served the same state.
A read of the initial value (``None``) sees no write. ``fail`` operations took no effect and are
skipped; an ``info`` write may have taken effect (its value can be read) but puts no obligation
on its session; obligations come from ``ok`` operations.

The guarantees, for operations of one session, earlier meaning earlier in the session:

- ``read_your_writes``: a read sees every earlier write of its session;
- ``monotonic_reads``: a read sees every write an earlier read of its session saw (its version
  is at least theirs);
- ``writes_follow_reads``: a write is ordered after every write its session had read;
- ``monotonic_writes``: a write is ordered after every earlier write of its session.

The last two are about the order in which replicas apply writes, which reads alone do not show.
Without ``applied`` they are judged on the version order (the order every replica converges to):
a write whose version is below that of a write the session wrote (or read) before it is ordered
before it everywhere. With ``applied`` (``{replica: [write, ...]}``, each replica's writes in
the order it applied them, across keys) they are judged as Terry defines them: at every replica
that applied the later write, the earlier one (or the one read) was applied before it.

>>> from distlab.history import History
>>> h = History.from_events([
...     (0, "a", "invoke", "write", None, 1), (1, "a", "ok", "write", None, 1),
...     (2, "b", "invoke", "read", None, None), (3, "b", "ok", "read", None, 1),
...     (4, "b", "invoke", "read", None, None), (5, "b", "ok", "read", None, None),
... ])
>>> check_sessions(h).violated()
{'read_your_writes': 0, 'monotonic_reads': 1, 'writes_follow_reads': 0, 'monotonic_writes': 0}
>>> check_sessions(h, guarantees=["monotonic_read"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: guarantees item='monotonic_read' is not one of 'read_your_writes', ...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from distlab._validate import check_choices, is_hashable
from distlab.history import History, Operation
from distlab.sessions.report import GUARANTEES, SessionReport, Violation

__all__ = ["check_sessions"]

_READS = ("read", "get")
_WRITES = ("write", "put")
_NOTHING = (-1, None)  # (version rank, operation) before any write or read


def check_sessions(
    history: History,
    *,
    guarantees: Iterable[str] = GUARANTEES,
    versions: Mapping[Any, Any] | Callable[[Operation], Any] | None = None,
    applied: Mapping[str, Sequence[Any]] | None = None,
) -> SessionReport:
    """For each session of ``history`` and each of ``guarantees``, the earliest violation.

    ``versions``: each write's version (default: its value); ``applied``: each replica's writes
    in the order it applied them, to judge ``monotonic_writes`` and ``writes_follow_reads`` as
    Terry defines them (default: on the version order). See the module docstring.

    >>> from distlab.history import History
    >>> h = History.from_events([
    ...     (0, 1, "invoke", "write", None, "x"), (1, 1, "ok", "write", None, "x"),
    ...     (2, 1, "invoke", "write", None, "y"), (3, 1, "ok", "write", None, "y"),
    ... ])
    >>> check_sessions(h, applied={"r1": ["x", "y"], "r2": ["y", "x"]}).ok("monotonic_writes")
    False
    >>> check_sessions(h, applied={"r1": ["x", "y"], "r2": ["x"]}).ok()
    True
    """
    if not isinstance(history, History):
        raise TypeError(f"history={history!r} must be a distlab.history.History")
    names = check_choices("guarantees", guarantees, GUARANTEES, noun="a guarantee")
    keyed = any(op.key is not None for op in history)
    ranks, by_id = _write_ranks(history, versions, keyed)
    sources = _read_sources(history, by_id, keyed)
    replicas = None if applied is None else _Replicas(applied, by_id)
    sessions: dict[Any, list[Operation]] = {}
    for op in history:
        sessions.setdefault(op.process, []).append(op)
    violations: list[Violation] = []
    for process, ops in sessions.items():
        ops.sort(key=lambda op: (op.invoke, op.index))
        session = _Session(process, names, ranks, replicas)
        violations.extend(_sweep(session, ops, sources))
    return SessionReport(names, tuple(sessions), tuple(violations))


def _write_id(op: Operation, keyed: bool) -> Any:
    return (op.key, op.value) if keyed else op.value


def _write_ranks(
    history: History, versions: Any, keyed: bool
) -> tuple[dict[int, int], dict[Any, Operation]]:
    """Each write's rank in its key's version order, and the writes by name."""
    if versions is not None and not (isinstance(versions, Mapping) or callable(versions)):
        raise TypeError(f"versions={versions!r} must be a mapping or a function of a write")
    by_id: dict[Any, Operation] = {}
    per_key: dict[Any, list[tuple[Any, Operation]]] = {}
    for op in history:
        if op.f in _READS:
            continue
        if op.f not in _WRITES:
            raise ValueError(
                f"{op.describe()}: the session checker understands read, get, write and put, "
                f"not {op.f!r}"
            )
        name = _write_id(op, keyed)
        try:
            twin = by_id.setdefault(name, op)
        except TypeError:
            raise TypeError(f"{op.describe()}: a written value must be hashable") from None
        if twin is not op:
            raise ValueError(
                f"writes must carry unique values: {twin.describe()} and {op.describe()}"
            )
        per_key.setdefault(op.key, []).append((_version(op, name, versions), op))
    ranks: dict[int, int] = {}
    for key, pairs in per_key.items():
        try:
            pairs.sort(key=lambda pair: pair[0])
        except TypeError:
            raise TypeError(
                f"the versions of key={key!r} cannot be ordered (pass versions= to give each "
                "write a comparable version)"
            ) from None
        for i, (version, op) in enumerate(pairs):
            if i and not pairs[i - 1][0] < version:
                raise ValueError(
                    f"{pairs[i - 1][1].describe()} and {op.describe()} have the same version "
                    f"{version!r}: versions must be unique per key"
                )
            ranks[op.index] = i
    return ranks, by_id


def _version(op: Operation, name: Any, versions: Any) -> Any:
    if versions is None:
        return op.value
    if callable(versions) and not isinstance(versions, Mapping):
        return versions(op)
    if name not in versions:
        raise ValueError(f"versions has no version for {name!r} ({op.describe()})")
    return versions[name]


class _Replicas:
    """Each replica's applied order as, per write, its position at every replica (inf: never)."""

    def __init__(self, applied: Any, by_id: dict[Any, Operation]) -> None:
        if not isinstance(applied, Mapping):
            raise TypeError(f"applied={applied!r} must map replica -> its writes in applied order")
        self.names = tuple(str(r) for r in applied)
        where: dict[int, list[float]] = {}
        for j, (replica, writes) in enumerate(applied.items()):
            if isinstance(writes, (str, bytes)) or not isinstance(writes, Sequence):
                raise TypeError(f"applied[{replica!r}]={writes!r} must be a sequence of writes")
            for pos, name in enumerate(writes):
                op = by_id.get(name) if is_hashable(name) else None
                if op is None:
                    raise ValueError(
                        f"applied[{replica!r}][{pos}]={name!r} is no write of the history"
                    )
                row = where.setdefault(op.index, [math.inf] * len(applied))
                if row[j] != math.inf:
                    raise ValueError(f"applied[{replica!r}] applies {name!r} twice")
                row[j] = pos
        self.never = (math.inf,) * len(self.names)
        self.at = {index: tuple(row) for index, row in where.items()}


class _Session:
    """One session's sweep: what its earlier operations oblige the next one to see."""

    def __init__(self, process, names, ranks, replicas: _Replicas | None) -> None:
        self.process, self.names, self.ranks, self.replicas = process, names, ranks, replicas
        self.own: dict[Any, tuple[int, Operation | None]] = {}  # key -> newest own write
        self.seen: dict[Any, tuple[int, Operation | None]] = {}  # key -> newest read, by rank
        self.sources: dict[int, Operation] = {}  # read index -> the write it read
        # per replica: the latest position an earlier write (or read's source) had there, and
        # the operations that prove it
        width = 0 if replicas is None else len(replicas.names)
        self.need = {g: [(-1, ())] * width for g in ("monotonic_writes", "writes_follow_reads")}
        self.found: dict[str, Violation] = {}

    def wants(self, guarantee: str) -> bool:
        return guarantee in self.names and guarantee not in self.found

    def flag(self, guarantee, op, proof, replica, why) -> None:
        """Record the violation; ``why`` is the reason, or a function giving it (lazily)."""
        text = f"{guarantee} violated by {op.describe()}: {why() if callable(why) else why}"
        self.found[guarantee] = Violation(guarantee, self.process, op, proof, replica, text)

    def read(self, op: Operation, source: Operation | None) -> None:
        rank = -1 if source is None else self.ranks[source.index]
        w_rank, w = self.own.get(op.key, _NOTHING)
        if rank < w_rank and self.wants("read_your_writes"):
            why = f"it does not see {w.describe()}, an earlier write of its session"
            self.flag("read_your_writes", op, (w, op), None, why)
        r_rank, r = self.seen.get(op.key, _NOTHING)
        if rank < r_rank and self.wants("monotonic_reads"):
            self.flag(
                "monotonic_reads",
                op,
                (r, op),
                None,
                lambda: (
                    f"it sees less than {r.describe()}, an earlier read of its session, "
                    f"which saw {self.sources[r.index].describe()}"
                ),
            )
        if source is not None and rank > r_rank:
            self.seen[op.key] = (rank, op)
            self.sources[op.index] = source
        if source is not None and self.replicas is not None:
            self._raise("writes_follow_reads", source, (op, source))

    def write(self, op: Operation) -> None:
        rank = self.ranks[op.index]
        if self.replicas is None:
            self._write_by_versions(op, rank)
        else:
            self._write_at_replicas(op)
            self._raise("monotonic_writes", op, (op,))
        if rank > self.own.get(op.key, _NOTHING)[0]:
            self.own[op.key] = (rank, op)

    def _write_by_versions(self, op: Operation, rank: int) -> None:
        w_rank, w = self.own.get(op.key, _NOTHING)
        if rank < w_rank and self.wants("monotonic_writes"):
            why = f"it is ordered before {w.describe()}, an earlier write of its session"
            self.flag("monotonic_writes", op, (w, op), None, why)
        r_rank, r = self.seen.get(op.key, _NOTHING)
        if rank < r_rank and self.wants("writes_follow_reads"):
            self.flag(
                "writes_follow_reads",
                op,
                (r, op),
                None,
                lambda: (
                    f"it is ordered before {self.sources[r.index].describe()}, which its "
                    f"session read in {r.describe()}"
                ),
            )

    def _write_at_replicas(self, op: Operation) -> None:
        at = self.replicas.at.get(op.index, self.replicas.never)
        for guarantee, need in self.need.items():
            if not self.wants(guarantee):
                continue
            for j, pos in enumerate(at):
                latest, ops = need[j]
                if latest > pos != math.inf:
                    replica = self.replicas.names[j]
                    why = _replica_why(replica, ops)
                    self.flag(guarantee, op, (*ops, op), replica, why)
                    break

    def _raise(self, guarantee: str, write: Operation, ops: tuple[Operation, ...]) -> None:
        if not self.wants(guarantee):
            return
        need = self.need[guarantee]
        for j, pos in enumerate(self.replicas.at.get(write.index, self.replicas.never)):
            if pos > need[j][0]:
                need[j] = (pos, ops)


def _replica_why(replica: str, ops: tuple[Operation, ...]) -> str:
    if len(ops) == 1:
        return f"replica {replica!r} applied it before (or without) {ops[0].describe()}"
    return (
        f"replica {replica!r} applied it before (or without) {ops[1].describe()}, which its "
        f"session read in {ops[0].describe()}"
    )


def _read_sources(history: History, by_id: dict[Any, Operation], keyed: bool) -> dict:
    """``{read index: the write whose value it returned, or None}`` for every ok read."""
    sources: dict[int, Operation | None] = {}
    for op in history:
        if op.f not in _READS or op.type != "ok":
            continue
        source = None
        if op.result is not None:
            try:
                source = by_id.get((op.key, op.result) if keyed else op.result)
            except TypeError:
                source = None
            if source is None:
                raise ValueError(f"{op.describe()}: no write of the history wrote that value")
        sources[op.index] = source
    return sources


def _sweep(session: _Session, ops: list[Operation], sources: dict) -> list[Violation]:
    """Run one session's operations, in session order, through its sweep."""
    for op in ops:
        if op.type != "ok":
            continue
        if op.f in _READS:
            session.read(op, sources[op.index])
        else:
            session.write(op)
        if len(session.found) == len(session.names):
            break
    return sorted(session.found.values(), key=lambda v: (v.operation.invoke, v.operation.index))
