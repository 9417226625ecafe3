"""Is a history linearizable? Wing & Gong's search with Lowe's memoization, as Porcupine and Knossos do.

A history is *linearizable* if every operation can be given one instant between its invocation and
its completion such that, taken in the order of those instants, the operations are what a single
copy of the data would have answered. :func:`check_linearizable` searches for such an order:

- the operations' invocations and completions are put in one time-ordered doubly-linked list;
  an operation may be placed next (*linearized*) if its invocation comes before the first completion
  still in the list (no unplaced operation finished before it started) and the model accepts it;
  a completion reached in the list means its operation should have been placed already: backtrack;
- every configuration tried (the set of placed operations as an integer bitset, the model's state)
  is remembered, so no configuration is explored twice (Lowe's memoization);
- an ``info`` operation (outcome unknown) may be placed at any point after its invocation or never:
  it has no completion in the list, and the search succeeds once every completed operation is
  placed. Leaving it out is never worse than placing it, so a configuration is also skipped when an
  explored one had the same completed operations and state with a subset of its ``info`` ones;
- a read (or refused compare-and-set) the state allows is placed at once, without branching: putting
  it earlier can never hurt, since it changes nothing;
- ``fail`` operations did not take effect and are dropped, except a refused ``cas``, whose refusal
  the model checks (the value really differed); so are reads whose outcome is unknown;
- for ``model="kv"`` each key is checked on its own (P-compositionality), stopping at the first key
  that is not linearizable.

Checking is NP-complete: ``timeout_s`` bounds the time spent and gives the verdict ``"unknown"``.

>>> from distlab.history import History
>>> h = History.from_events([
...     (0, "a", "invoke", "write", None, 1), (1, "a", "ok", "write", None, 1),
...     (2, "b", "invoke", "read", None, None), (3, "b", "ok", "read", None, None),
... ])
>>> r = check_linearizable(h, model="register")
>>> r.verdict
'not-linearizable'
>>> print(r.explanation.splitlines()[0])
Not linearizable: #1 process 'b': read returned nil, ok [2 .. 3] cannot be placed anywhere.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from distlab._validate import check_choice, check_number
from distlab.history import History, Operation

__all__ = ["MODELS", "LinearizabilityResult", "check_linearizable"]

MODELS = {
    "register": ("read", "write"),
    "cas-register": ("read", "write", "cas"),
    "kv": ("get", "put", "append"),
}
VERDICTS = ("linearizable", "not-linearizable", "unknown")

# Model steps. Kinds below _PURE never change the state (placed greedily when allowed).
_READ, _REFUSED_CAS, _WRITE, _CAS, _MAYBE_CAS, _APPEND = range(6)
_PURE = 2
_CHECK_EVERY = 2048  # search steps between two looks at the clock


@dataclass(frozen=True)
class LinearizabilityResult:
    """The checker's answer.

    ``verdict``: ``"linearizable"``, ``"not-linearizable"`` or ``"unknown"`` (time limit reached).
    ``explanation``: for people: the order found, or the longest linearizable prefix, the operations
    that could not be ordered after it and the state there. ``linearization``: the indices of the
    operations in an order found (``info`` operations that never took effect are left out), or, when
    not linearizable, the longest prefix found; for ``kv``, that of the key explained. ``per_key``:
    for ``kv``, key -> verdict of every key checked (keys after the first non-linearizable one are
    not checked). ``state``: the model's state at the end of ``linearization``.
    """

    verdict: str
    explanation: str
    elapsed_s: float
    model: str
    per_key: dict[Any, str] | None = None
    linearization: tuple[int, ...] | None = None
    state: Any = None
    explored: int = 0
    blocked: tuple[int, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True only when the history is known to be linearizable."""
        return self.verdict == "linearizable"

    def __bool__(self) -> bool:  # a result is a verdict, not a truth value: avoid `if check(...)`
        raise TypeError("use result.verdict (or result.ok): 'unknown' is neither true nor false")

    def summary(self) -> str:
        keys = "" if self.per_key is None else f", {len(self.per_key)} key(s) checked"
        return f"{self.verdict} ({self.model}{keys}, {self.explored} configurations, {self.elapsed_s:.3f} s)"


class _Timeout(Exception):
    pass


def check_linearizable(history: History | Iterable[Operation], model: str = "register",
                       timeout_s: float | None = None) -> LinearizabilityResult:  # fmt: skip
    """Check ``history`` against ``model`` (``"register"``, ``"cas-register"`` or ``"kv"``).

    A register starts as ``None`` (never written); a kv key starts as ``""`` (a get of a missing key
    returns ``""``; a get that returned ``None`` is read as ``""``). Raises ``ValueError`` naming the
    operation for a function the model does not have, a cas without ``(expected, new)``, an append
    of a non-string, or keys in a register history.
    """
    started = time.perf_counter()
    check_choice("model", model, MODELS)
    if timeout_s is not None:
        timeout_s = check_number(
            "timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True
        )
    if not isinstance(history, History):
        history = History(history)
    deadline = math.inf if timeout_s is None else started + timeout_s
    _validate_for_model(history, model)

    if model != "kv":
        res = _drive({None: _check_part(list(history), model)}, deadline)[None]
        return _result(res, model, started, None)

    groups: dict[Any, list[Operation]] = {}
    for op in history:
        groups.setdefault(op.key, []).append(op)
    # keys are searched in turns, a slice each, so one key that is quickly found not linearizable
    # is not kept waiting behind a slow one (Porcupine runs them in parallel for the same reason)
    results = _drive({key: _check_part(ops, model) for key, ops in groups.items()}, deadline)
    per_key = {key: res["verdict"] for key, res in results.items()}
    explored = sum(res["explored"] for res in results.values())
    bad = [key for key, v in per_key.items() if v == "not-linearizable"]
    if bad:
        res = dict(results[bad[0]], explored=explored)
        unchecked = len(groups) - len(results)
        res["explanation"] = (f"Key {bad[0]!r}: " + res["explanation"]
                              + (f"\n({unchecked} other key(s) not checked to the end: one key that is not "
                                 "linearizable is enough.)" if unchecked else ""))  # fmt: skip
        return _result(res, model, started, per_key)
    unknown = [key for key, v in per_key.items() if v == "unknown"]
    if unknown:
        res = dict(results[unknown[0]], explored=explored)
        res["explanation"] = f"Key {unknown[0]!r}: " + res["explanation"]
        return _result(res, model, started, per_key)
    return _result({"verdict": "linearizable", "explored": explored, "linearization": None, "state": None,
                    "explanation": f"Linearizable: each of the {len(groups)} key(s) has a valid order of its "
                                   "operations (keys are independent, so the whole store does)."},
                   model, started, per_key)  # fmt: skip


def _drive(searches: dict[Any, Generator[int, None, dict]], deadline: float) -> dict[Any, dict]:
    """Run the searches in turns until one is not linearizable, all are done, or time is up.

    Returns key -> result for the searches that finished (and the ones cut short by the clock, as
    "unknown"); searches left waiting after a not-linearizable one are not in it.
    """
    results: dict[Any, dict] = {}
    active = dict(searches)
    turn = 1
    while active:
        for key in list(active):
            search = active[key]
            try:
                for _ in range(turn):
                    explored = next(search)
                    if time.perf_counter() > deadline:
                        for other in active:
                            active[other].close()
                            results[other] = {
                                "verdict": "unknown", "explored": explored if other == key else 0,
                                "linearization": None, "state": None,
                                "explanation": f"Unknown: the time limit was reached after exploring {explored:,} "
                                               "configurations; raise timeout_s to get a verdict.",
                            }  # fmt: skip
                        return results
            except StopIteration as stop:
                results[key] = stop.value
                del active[key]
                if stop.value["verdict"] == "not-linearizable":
                    for other in active.values():
                        other.close()
                    return results
        turn = min(2 * turn, 64)  # slices grow, so a long search is not slowed down by switching
    return results


def _result(res: dict, model: str, started: float, per_key: dict | None) -> LinearizabilityResult:
    lin = res.get("linearization")
    return LinearizabilityResult(
        verdict=res["verdict"],
        explanation=res["explanation"],
        elapsed_s=time.perf_counter() - started,
        model=model,
        per_key=per_key,
        linearization=None if lin is None else tuple(lin),
        state=res.get("state"),
        explored=res["explored"],
        blocked=tuple(res.get("blocked", ())),
    )


def _validate_for_model(history: History, model: str) -> None:
    allowed = MODELS[model]
    for op in history:
        if op.f not in allowed:
            hint = " (use model='cas-register')" if op.f == "cas" and model == "register" else ""
            raise ValueError(f"operation {op.describe()}: function {op.f!r} is not part of the {model!r} model, "
                             f"which has {', '.join(allowed)}{hint}")  # fmt: skip
        if model != "kv" and op.key is not None:
            raise ValueError(f"operation {op.describe()}: has key {op.key!r}, but the {model!r} model checks one "
                             "register (use model='kv', or History.for_key(key) for one key)")  # fmt: skip
        if op.f == "append" and op.type != "fail" and not isinstance(op.value, str):
            raise ValueError(
                f"operation {op.describe()}: append needs a str value, got {op.value!r}"
            )
        for name in ("value", "result"):
            try:
                hash(getattr(op, name))
            except TypeError:
                raise ValueError(f"operation {op.describe()}: {name} {getattr(op, name)!r} is not hashable "
                                 "(use tuples, not lists)") from None  # fmt: skip


# ---------------------------------------------------------------------------------------------
# one register / one key


def _model_ops(ops: list[Operation], model: str) -> list[tuple[Operation, int, Any, Any, bool]]:
    """(operation, kind, a, b, is_info) for the operations that constrain the search."""
    kv = model == "kv"
    out = []
    for op in ops:
        f, typ = op.f, op.type
        if f in ("read", "get"):
            if typ != "ok":
                continue  # failed, or unknown: a read that returned nothing constrains nothing
            r = op.result
            if kv and r is None:
                r = ""
            out.append((op, _READ, r, None, False))
        elif f == "cas":
            a, b = op.value
            if typ == "ok":
                out.append((op, _CAS, a, b, False))
            elif typ == "fail":
                out.append((op, _REFUSED_CAS, a, None, False))
            else:
                out.append((op, _MAYBE_CAS, a, b, True))
        else:  # write, put, append
            if typ == "fail":
                continue
            kind = _APPEND if f == "append" else _WRITE
            out.append((op, kind, op.value, None, typ == "info"))
    return out


def _describe_step(kind: int, a: Any, b: Any, state: Any, reg: str) -> str:
    """Why the model refuses this step in ``state`` (for explanations)."""
    if kind == _READ:
        return f"it needs {_v(a)} but the {reg} holds {_v(state)}"
    if kind == _CAS:
        return f"it needs {_v(a)} to succeed but the {reg} holds {_v(state)}"
    if kind == _REFUSED_CAS:
        return f"it was refused, but the {reg} holds {_v(state)}, so it would have succeeded"
    return "allowed"


def _v(x: Any) -> str:
    return "nil (never written)" if x is None else repr(x)


def _check_part(ops: list[Operation], model: str) -> Generator[int, None, dict]:
    """The search for one register or key: a generator that yields now and then, returns the result."""
    kv = model == "kv"
    reg = "key" if kv else "register"
    init: Any = "" if kv else None
    mops = _model_ops(ops, model)
    n = len(mops)

    quick = _quick_refutation(mops, init, reg) if not kv else None
    if quick is not None:
        return quick

    # op i: kind, a, b, bit (in the completed or in the info bitset), info flag
    kind = [m[1] for m in mops]
    arg_a = [m[2] for m in mops]
    arg_b = [m[3] for m in mops]
    is_info = [m[4] for m in mops]
    bit = [0] * n
    same_before = [
        0
    ] * n  # info ops: earlier info ops with the same effect (interchangeable once invoked)
    effects: dict[tuple, int] = {}
    n_done = n_info = 0
    for i in range(n):
        if is_info[i]:
            bit[i] = 1 << n_info
            n_info += 1
            eff = (kind[i], arg_a[i], arg_b[i])
            same_before[i] = effects.get(eff, 0)
            effects[eff] = same_before[i] | bit[i]
        else:
            bit[i] = 1 << n_done
            n_done += 1

    # time-ordered entries; at equal times invocations first (touching operations are concurrent)
    raw = []
    for i, m in enumerate(mops):
        op = m[0]
        raw.append((op.invoke, 0, i))
        if not m[4]:
            raw.append((op.complete, 1, i))
    raw.sort()
    e_count = len(raw)
    head, tail = e_count, e_count + 1  # sentinels: tail is neither a call nor anyone's completion
    op_of = [r[2] for r in raw] + [-1, -1]
    is_call = [r[1] == 0 for r in raw] + [False, False]
    nxt = list(range(1, e_count + 1)) + [0, -1]
    nxt[e_count - 1 if e_count else head] = tail
    prv = list(range(-1, e_count - 1)) + [-1, e_count - 1 if e_count else head]
    if e_count:
        prv[0] = head
    ret_of = [-1] * n  # op -> its completion entry
    for e in range(e_count):
        if not is_call[e]:
            ret_of[op_of[e]] = e

    state = init
    done = 0  # bitset of completed operations placed
    info = 0  # bitset of info operations placed
    remaining = n_done
    stack: list[tuple[int, Any, bool]] = []  # (call entry, state before, placed greedily)
    seen_plain: set[tuple[int, Any]] = {(0, init)}
    seen_info: dict[tuple[int, Any], list[int]] = {(0, init): [0]}
    explored = 1
    best_depth = -1
    best: tuple[list[int], Any, int, list[int]] | None = None
    steps = 0
    fresh = True  # at a configuration not yet scanned for a greedy step
    entry = nxt[head]

    while True:
        if remaining == 0:
            lin = [mops[op_of[s[0]]][0].index for s in stack]
            return {"verdict": "linearizable", "explored": explored, "linearization": lin, "state": state,
                    "explanation": _explain_ok(mops, stack, op_of, state, reg)}  # fmt: skip
        steps += 1
        if steps % _CHECK_EVERY == 0:
            yield explored  # let the caller look at the clock, or give another key a turn
        backtrack = False
        if fresh:
            fresh = False
            # a pure operation the state allows goes first, without branching
            e = nxt[head]
            while is_call[e]:
                i = op_of[e]
                k = kind[i]
                if k < _PURE and ((state == arg_a[i]) if k == _READ else (state != arg_a[i])):
                    new_done = done | bit[i]
                    key = (new_done, state)
                    if n_info:
                        lst = seen_info.get(key)
                        if lst is not None and any(v & ~info == 0 for v in lst):
                            backtrack = True
                        else:
                            if lst is None:
                                seen_info[key] = [info]
                            else:
                                lst.append(info)
                    elif key in seen_plain:
                        backtrack = True
                    else:
                        seen_plain.add(key)
                    if not backtrack:
                        explored += 1
                        stack.append((e, state, True))
                        done = new_done
                        remaining -= 1
                        r = ret_of[i]
                        nxt[prv[e]] = nxt[e]
                        prv[nxt[e]] = prv[e]
                        nxt[prv[r]] = nxt[r]
                        prv[nxt[r]] = prv[r]
                        fresh = True
                    break
                e = nxt[e]
            if fresh:
                continue
            if not backtrack:
                entry = nxt[head]
        if not backtrack:
            # branch on the operations that change the state
            while is_call[entry]:
                i = op_of[entry]
                k = kind[i]
                if k >= _PURE:
                    if k == _WRITE:
                        new_state = arg_a[i]
                    elif k == _CAS:
                        new_state = arg_b[i] if state == arg_a[i] else _NOPE
                    elif k == _MAYBE_CAS:
                        new_state = arg_b[i] if state == arg_a[i] else _NOPE
                    else:
                        new_state = state + arg_a[i]
                    if new_state is not _NOPE and not (
                        is_info[i] and (new_state == state or same_before[i] & ~info)
                    ):
                        if is_info[i]:
                            new_done, new_info = done, info | bit[i]
                        else:
                            new_done, new_info = done | bit[i], info
                        key = (new_done, new_state)
                        fresh_conf = True
                        if n_info:
                            lst = seen_info.get(key)
                            if lst is None:
                                seen_info[key] = [new_info]
                            elif any(v & ~new_info == 0 for v in lst):
                                fresh_conf = False
                            else:
                                lst.append(new_info)
                        elif key in seen_plain:
                            fresh_conf = False
                        else:
                            seen_plain.add(key)
                        if fresh_conf:
                            explored += 1
                            stack.append((entry, state, False))
                            state = new_state
                            done, info = new_done, new_info
                            nxt[prv[entry]] = nxt[entry]
                            prv[nxt[entry]] = prv[entry]
                            if not is_info[i]:
                                remaining -= 1
                                r = ret_of[i]
                                nxt[prv[r]] = nxt[r]
                                prv[nxt[r]] = prv[r]
                            fresh = True
                            break
                entry = nxt[entry]
            if fresh:
                continue
            # stuck at the completion `entry`: its operation should have been placed by now
            depth = len(stack)
            if depth > best_depth:
                best_depth = depth
                cands = []
                e = nxt[head]
                while is_call[e]:
                    cands.append(op_of[e])
                    e = nxt[e]
                best = ([op_of[s[0]] for s in stack], state, op_of[entry], cands)
        # backtrack: undo placements until one leaves an alternative to try
        while True:
            if not stack:
                return _explain_bad(mops, best, reg, explored)
            e, state, greedy = stack.pop()
            i = op_of[e]
            if is_info[i]:
                info ^= bit[i]
            else:
                done ^= bit[i]
                remaining += 1
                r = ret_of[i]
                nxt[prv[r]] = r
                prv[nxt[r]] = r
            nxt[prv[e]] = e
            prv[nxt[e]] = e
            if not greedy:
                entry = nxt[e]
                break


class _Nope:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<refused>"


_NOPE = _Nope()


def _quick_refutation(mops: list, init: Any, reg: str) -> dict | None:
    """A read of a value no operation invoked before the read completed could have written."""
    first_write: dict[Any, float] = {}
    for op, k, a, b, _info in mops:
        written = a if k == _WRITE else b if k in (_CAS, _MAYBE_CAS) else _NOPE
        if written is not _NOPE and op.invoke < first_write.get(written, math.inf):
            first_write[written] = op.invoke
    for op, k, a, b, _info in mops:
        if k in (_READ, _CAS) and a != init and not first_write.get(a, math.inf) <= op.complete:
            when = (f"no operation ever writes {_v(a)}" if a not in first_write
                    else f"the first operation that could write {_v(a)} was invoked at {first_write[a]:g}, "
                         "after this one completed")  # fmt: skip
            return {
                "verdict": "not-linearizable", "explored": 0, "linearization": [], "state": None,
                "blocked": [op.index],
                "explanation": (f"Not linearizable: {op.describe()} needs the {reg} to hold {_v(a)} while it "
                                f"runs, but {when}."),
            }  # fmt: skip
    return None


_MAX_LISTED = 12


def _explain_ok(mops: list, stack: list, op_of: list, state: Any, reg: str) -> str:
    placed = [mops[op_of[s[0]]][0] for s in stack]
    infos = [m[0] for m in mops if m[4]]
    used = sum(1 for op in placed if op.type == "info")
    lines = [f"Linearizable: the {len(placed)} operations below fit one order that respects real time and "
             f"what each returned; the {reg} ends as {_v(state)}."]  # fmt: skip
    if infos:
        lines.append(f"({used} of the {len(infos)} operations with an unknown outcome took effect in it; the "
                     "others never did.)")  # fmt: skip
    lines += _listing(placed)
    return "\n".join(lines)


def _listing(ops: list[Operation], tail: bool = False) -> list[str]:
    if len(ops) <= _MAX_LISTED:
        return [f"  {k + 1:>3}. {op.describe()}" for k, op in enumerate(ops)]
    if tail:
        skip = len(ops) - _MAX_LISTED
        return [f"  ... ({skip} earlier operations)"] + [
            f"  {skip + k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[skip:])
        ]
    half = _MAX_LISTED // 2
    return ([f"  {k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[:half])]
            + [f"  ... ({len(ops) - 2 * half} more)"]
            + [f"  {len(ops) - half + k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[-half:])])  # fmt: skip


def _explain_bad(mops: list, best: tuple | None, reg: str, explored: int) -> dict:
    assert best is not None  # a failed search got stuck at least once
    prefix, state, blocking, cands = best
    placed = [mops[i][0] for i in prefix]
    blocked_op = mops[blocking][0]
    lines = [
        f"Not linearizable: {blocked_op.describe()} cannot be placed anywhere.",
        f"The longest linearizable prefix found orders {len(placed)} operation(s); after it the {reg} holds "
        f"{_v(state)}:",
    ]
    lines += _listing(placed, tail=True) if placed else ["  (none)"]
    lines.append(f"Next, #{blocked_op.index} must take effect before it completes at {blocked_op.complete:g}, "
                 "but none of the operations that may still go first leads anywhere:")  # fmt: skip
    for i in cands:
        op, k, a, b, _info = mops[i]
        if k < _PURE:
            ok = (state == a) if k == _READ else (state != a)
        elif k == _CAS:
            ok = state == a
        else:
            ok = True
        why = (
            "the model accepts it here, but every order continuing with it fails later"
            if ok
            else ("refused by the model: " + _describe_step(k, a, b, state, reg))
        )
        lines.append(f"  - {op.describe()}: {why}")
    lines.append(f"({explored:,} configurations explored.)")
    return {"verdict": "not-linearizable", "explored": explored, "linearization": [op.index for op in placed],
            "state": state, "blocked": [mops[i][0].index for i in cands] or [blocked_op.index],
            "explanation": "\n".join(lines)}  # fmt: skip
