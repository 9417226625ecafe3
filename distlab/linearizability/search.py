"""The search for one register or one key: Wing & Gong with Lowe's memoization.

:func:`prepare` turns operations into a :class:`Prepared` search (steps compiled by the model, the
time-ordered :class:`Entries` list, bitsets); :func:`search` runs it as a generator that stops
now and then (``yield``) so the caller can look at the clock, count steps, or give another key a
turn, and returns a :class:`PartResult`.

>>> from distlab.history import History
>>> from distlab.linearizability.models import REGISTER
>>> h = History.from_events([(0, "a", "invoke", "write", None, 1),
...                          (1, "a", "ok", "write", None, 1)])
>>> run_to_end(search(h.operations, REGISTER)).verdict
'linearizable'
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from distlab.history import Operation
from distlab.linearizability import explain
from distlab.linearizability.explain import PartResult
from distlab.linearizability.models import REFUSED, Model

__all__ = [
    "DENSE_BITS",
    "PREP_CHUNK",
    "WORK_CHUNK",
    "Entries",
    "LazyBits",
    "Memo",
    "PartResult",
    "Prepared",
    "prepare",
    "run_to_end",
    "search",
    "time_order",
]

#: Units of work (operations prepared, candidates a step may examine, memo entries compared)
#: between two stops: about a millisecond, so a time limit is read often enough at any size.
WORK_CHUNK = 4096

#: Operations prepared (or validated) between two stops.
PREP_CHUNK = 512
#: Beyond this many operations, bits are made when needed instead of kept (n bits for each of n
#: operations would take n^2 / 8 bytes: 200 MB for 40,000 operations).
DENSE_BITS = 8192

#: What a search yields at each stop: (steps taken, configurations explored); it is sent back the
#: number of steps it may still take (the driver's step budget), or None to go on freely.
Progress = tuple[int, int]
Search = Generator[Progress, "int | None", "PartResult"]


class Entries:
    """The invocations and completions of the operations in one time-ordered doubly-linked list.

    ``order`` lists the entries in time order as (operation, is_call), invocations first at equal
    times (touching operations are concurrent); ``info`` operations have no completion (see
    :func:`time_order`). :meth:`lift` takes an operation out of the list, :meth:`unlift` puts it
    back (in the reverse order of the lifts: dancing links).
    """

    def __init__(self, order: list[tuple[int, bool]], n_ops: int) -> None:
        count = len(order)
        self.head, self.tail = count, count + 1  # sentinels: the tail is neither call nor return
        self.op_of = [i for i, _ in order] + [-1, -1]
        self.is_call = [c for _, c in order] + [False, False]
        self.nxt = list(range(1, count + 1)) + [0, -1]
        self.nxt[count - 1 if count else self.head] = self.tail
        self.prv = list(range(-1, count - 1)) + [-1, count - 1 if count else self.head]
        if count:
            self.prv[0] = self.head
        self.call_of = [-1] * n_ops
        self.return_of = [-1] * n_ops
        open_now = max_open = 0
        for e, (i, is_call) in enumerate(order):
            if is_call:
                self.call_of[i] = e
                open_now += 1
                if open_now > max_open:
                    max_open = open_now
            else:
                self.return_of[i] = e
                open_now -= 1
        self.max_open = max_open

    def lift(self, i: int) -> None:
        """Take operation ``i`` (its invocation and its completion, if any) out of the list."""
        nxt, prv = self.nxt, self.prv
        e = self.call_of[i]
        nxt[prv[e]] = nxt[e]
        prv[nxt[e]] = prv[e]
        r = self.return_of[i]
        if r >= 0:
            nxt[prv[r]] = nxt[r]
            prv[nxt[r]] = prv[r]

    def unlift(self, i: int) -> None:
        """Put operation ``i`` back where it was (undoes the last :meth:`lift`)."""
        nxt, prv = self.nxt, self.prv
        r = self.return_of[i]
        if r >= 0:
            nxt[prv[r]] = r
            prv[nxt[r]] = r
        e = self.call_of[i]
        nxt[prv[e]] = e
        prv[nxt[e]] = e

    def calls_first(self) -> list[int]:
        """The operations whose invocation comes before the first completion still listed."""
        out, e = [], self.nxt[self.head]
        while self.is_call[e]:
            out.append(self.op_of[e])
            e = self.nxt[e]
        return out


def time_order(ops: Sequence[Operation], has_return: Sequence[bool]):
    """The entries of ``ops`` (sorted by invocation) in time order, as (operation, is_call):
    a merge of the invocations with the completions sorted by time, invocations first at equal
    times. A generator (stops every :data:`PREP_CHUNK` entries) returning the list."""
    returns = sorted((i for i in range(len(ops)) if has_return[i]), key=lambda i: ops[i].complete)
    yield 0, 0
    order: list[tuple[int, bool]] = []
    r = 0
    for i, op in enumerate(ops):
        while r < len(returns) and ops[returns[r]].complete < op.invoke:
            order.append((returns[r], False))
            r += 1
        order.append((i, True))
        if i % PREP_CHUNK == PREP_CHUNK - 1:
            yield 0, 0
    order.extend((i, False) for i in returns[r:])
    return order


class Memo:
    """Lowe's cache of the configurations explored: (completed operations placed, state).

    With ``info`` operations a configuration is also explored if one had the same completed
    operations and state with a subset of its ``info`` ones (leaving an ``info`` operation out is
    never worse than placing it). ``work`` counts the subsets compared (the cost of the cache).
    """

    def __init__(self, with_info: bool) -> None:
        self.plain: set[tuple[int, Any]] = set()
        self.subsets: dict[tuple[int, Any], list[int]] = {}
        self.work = 0
        self.add = self._add_info if with_info else self._add_plain

    def _add_plain(self, done: int, info: int, state: Any) -> bool:
        """True if the configuration is new (and remember it)."""
        key = (done, state)
        if key in self.plain:
            return False
        self.plain.add(key)
        return True

    def _add_info(self, done: int, info: int, state: Any) -> bool:
        key = (done, state)
        seen = self.subsets.get(key)
        if seen is None:
            self.subsets[key] = [info]
            return True
        self.work += len(seen)
        outside = ~info
        for v in seen:
            if not v & outside:  # an explored configuration with a subset of these info ops
                return False
        seen.append(info)
        return True


@dataclass
class Prepared:
    """A search ready to run: the operations that constrain it, in invocation order, and per
    operation its compiled step, whether it is pure or ``info``, its bit (in the completed or in
    the ``info`` bitset) and, for an ``info`` operation, the bit of the previous one with the same
    effect (interchangeable: one may only be placed once the earlier ones are)."""

    model: Model
    ops: list[Operation]
    pure: list[bool]
    fn: list[Callable[[Any], Any]]
    is_info: list[bool]
    bit: Any  # list[int] or LazyBits
    same_before: Any
    n_done: int
    n_info: int
    entries: Entries


def prepare(ops: Sequence[Operation], model: Model) -> Generator[Progress, Any, Prepared]:
    """Compile ``ops`` for a search (stopping every :data:`WORK_CHUNK` operations)."""
    kept = []
    for k, op in enumerate(ops):
        if k % PREP_CHUNK == PREP_CHUNK - 1:
            yield 0, 0
        if model.constrains(op) and not (op.type == "info" and model.is_pure(op)):
            kept.append(op)
    kept.sort(key=lambda op: op.invoke)  # stable: the checker does not depend on the input order
    yield 0, 0
    steps = []
    for k, op in enumerate(kept):
        if k % PREP_CHUNK == PREP_CHUNK - 1:
            yield 0, 0
        steps.append(model.compile(op))
    is_info = [op.type == "info" for op in kept]
    bit, same_before, n_done, n_info = _bits(kept, is_info)
    yield 0, 0
    order = yield from time_order(kept, [not x for x in is_info])
    entries = Entries(order, len(kept))
    yield 0, 0
    return Prepared(
        model,
        kept,
        [s.pure for s in steps],
        [s.fn for s in steps],
        is_info,
        bit,
        same_before,
        n_done,
        n_info,
        entries,
    )


class LazyBits:
    """``bits[i] == 1 << position[i]`` (0 where the position is -1), made when asked."""

    __slots__ = ("position",)

    def __init__(self, position: list[int]) -> None:
        self.position = position

    def __getitem__(self, i: int) -> int:
        k = self.position[i]
        return 0 if k < 0 else 1 << k


def _bits(ops: list[Operation], is_info: list[bool]) -> tuple[Any, Any, int, int]:
    """Each operation's bit (in the completed or the ``info`` bitset), and for an ``info``
    operation the bit of the previous ``info`` operation with the same effect (0 if none): it may
    only be placed once that one is (then, by the same rule, all earlier ones are)."""
    position = [0] * len(ops)
    previous = [-1] * len(ops)
    last: dict[tuple, int] = {}
    n_done = n_info = 0
    for i, op in enumerate(ops):
        if is_info[i]:
            position[i] = n_info
            n_info += 1
            effect = (op.f, op.key, op.value)
            previous[i] = position[last[effect]] if effect in last else -1
            last[effect] = i
        else:
            position[i] = n_done
            n_done += 1
    if len(ops) > DENSE_BITS:
        return LazyBits(position), LazyBits(previous), n_done, n_info
    bit = [1 << k for k in position]
    return bit, [0 if k < 0 else 1 << k for k in previous], n_done, n_info


def search(ops: Sequence[Operation], model: Model) -> Search:
    """Check ``ops`` (one register or key) against ``model``; a generator (see the module)."""
    p = yield from prepare(ops, model)
    impossible = model.impossible(p.ops)
    if impossible is not None:
        return explain.impossible(*impossible)
    return (yield from _wing_gong(p))


def _wing_gong(p: Prepared) -> Search:
    """The search loop (kept whole: it is the hot path, and every call taken out of it costs
    a measurable share of the running time)."""
    entries, memo = p.entries, Memo(p.n_info > 0)
    nxt, is_call, op_of, head = entries.nxt, entries.is_call, entries.op_of, entries.head
    pure, fn, is_info, bit, same_before = p.pure, p.fn, p.is_info, p.bit, p.same_before
    lift, unlift, add = entries.lift, entries.unlift, memo.add
    state = p.model.init()
    done = info = 0  # bitsets of the completed / info operations placed
    remaining = p.n_done
    stack: list[tuple[int, Any, bool]] = []  # (operation, state before, placed greedily)
    add(0, 0, state)
    # work units: a step may examine every open operation; each step or undo also copies the
    # bitsets (whose size grows with the operations: about one unit per 256 of them)
    per_undo = 1 + len(p.ops) // 256
    explored, steps, work, per_step = 1, 0, 0, per_undo + entries.max_open
    check_at = 0  # stop at the first step, to be told the step budget
    best: tuple | None = None
    fresh = True  # at a configuration not yet scanned for a greedy step
    e = head
    while remaining:
        steps += 1
        work += per_step
        if work + memo.work >= check_at:
            left = yield steps, explored
            allowed = WORK_CHUNK if left is None else min(WORK_CHUNK, per_step * (left + 1))
            check_at = work + memo.work + allowed
        blocked = False
        if fresh:
            fresh = False
            e = nxt[head]
            while is_call[e]:  # a pure operation the state allows goes first, without branching
                i = op_of[e]
                if pure[i] and fn[i](state):
                    if add(done | bit[i], info, state):
                        explored += 1
                        stack.append((i, state, True))
                        done |= bit[i]
                        remaining -= 1
                        lift(i)
                        fresh = True
                    else:
                        blocked = True
                    break
                e = nxt[e]
            if fresh:
                continue
            if not blocked:
                e = nxt[head]
        if not blocked:
            while is_call[e]:  # branch on the operations that change the state
                i = op_of[e]
                if not pure[i]:
                    new = fn[i](state)
                    if new is not REFUSED and not (
                        is_info[i] and (new == state or same_before[i] & ~info)
                    ):
                        new_done = done if is_info[i] else done | bit[i]
                        new_info = info | bit[i] if is_info[i] else info
                        if add(new_done, new_info, new):
                            explored += 1
                            stack.append((i, state, False))
                            state, done, info = new, new_done, new_info
                            remaining -= 0 if is_info[i] else 1
                            lift(i)
                            fresh = True
                            break
                e = nxt[e]
            if fresh:
                continue
            if best is None or len(stack) > len(best[0]):  # stuck at the completion e
                best = ([s[0] for s in stack], state, op_of[e], entries.calls_first())
                work += len(stack)
        while True:  # backtrack: undo placements until one leaves an alternative to try
            if not stack:
                return explain.not_linearizable(p, best, explored, steps)
            i, state, greedy = stack.pop()
            work += per_undo
            if is_info[i]:
                info ^= bit[i]
            else:
                done ^= bit[i]
                remaining += 1
            unlift(i)
            if not greedy:
                e = nxt[entries.call_of[i]]
                break
    return explain.linearizable(p, [s[0] for s in stack], state, explored, steps)


def run_to_end(gen: Search) -> PartResult:
    """Run a search with no limit and return its result."""
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value
