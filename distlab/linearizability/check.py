""":func:`check_linearizable` and its :class:`LinearizabilityResult`: validation, the split per key,
the time and step budgets, and the driver that runs the searches in turns."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from distlab._validate import check_int, check_number
from distlab.history import History, Operation
from distlab.history.operations import check_operation
from distlab.linearizability.explain import PartResult
from distlab.linearizability.models import MODELS, Model
from distlab.linearizability.search import PREP_CHUNK, search

__all__ = ["VERDICTS", "LinearizabilityResult", "check_linearizable"]

VERDICTS = ("linearizable", "not-linearizable", "unknown")
#: Search steps in a key's first turn (turns double, up to 64 times this).
TURN_STEPS = 2048


@dataclass(frozen=True)
class LinearizabilityResult:
    """The checker's answer: the same history and model give the same result (with ``max_steps``,
    on any machine; a time limit can only turn a verdict into ``"unknown"``).

    ``verdict``: ``"linearizable"``, ``"not-linearizable"`` or ``"unknown"`` (time limit or step
    budget reached). ``explanation``: for people: the order found, or the longest linearizable
    prefix, the operations that could not be ordered after it and the state there.
    ``linearization``: the indices of the operations in an order found (``info`` operations that
    never took effect are left out), or, when not linearizable, the longest prefix found; for
    ``kv``, that of the key explained. ``per_key``: for ``kv``, key -> verdict of every key checked
    (keys after the first non-linearizable one are not checked). ``state``: the model's state at
    the end of ``linearization``. ``explored``: configurations explored; ``steps``: search steps
    taken (the unit of ``max_steps``). ``elapsed_s``: wall-clock seconds the check took, for
    information only: it is not part of the result's identity (excluded from ``==`` and ``repr``).
    """

    verdict: str
    explanation: str
    model: str
    per_key: dict[Any, str] | None = None
    linearization: tuple[int, ...] | None = None
    state: Any = None
    explored: int = 0
    blocked: tuple[int, ...] = field(default=())
    steps: int = 0
    elapsed_s: float = field(default=0.0, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True only when the history is known to be linearizable."""
        return self.verdict == "linearizable"

    def __bool__(self) -> bool:  # a result is a verdict, not a truth value: avoid `if check(...)`
        raise TypeError("use result.verdict (or result.ok): 'unknown' is neither true nor false")

    def summary(self) -> str:
        """One line: verdict, model, keys checked, configurations explored."""
        keys = "" if self.per_key is None else f", {len(self.per_key)} key(s) checked"
        return f"{self.verdict} ({self.model}{keys}, {self.explored:,} configurations)"


class _OutOfBudget(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


@dataclass
class Budget:
    """How much a check may spend: wall-clock time (``deadline`` on ``clock``) and search steps.

    :meth:`spend` adds steps and raises when either is used up; :meth:`steps_left` is what the
    next search may take (``None``: no step budget).
    """

    clock: Callable[[], float]
    deadline: float = math.inf
    max_steps: int | None = None
    timeout_s: float | None = None
    steps: int = 0

    def spend(self, steps: int = 0) -> None:
        self.steps += steps
        if self.max_steps is not None and self.steps > self.max_steps:
            raise _OutOfBudget(f"the step budget (max_steps={self.max_steps:,}) was reached")
        if self.deadline != math.inf and self.clock() > self.deadline:
            raise _OutOfBudget(f"the time limit (timeout_s={self.timeout_s:g}) was reached")

    def steps_left(self) -> int | None:
        return None if self.max_steps is None else self.max_steps - self.steps

    def advice(self) -> str:
        return (
            "max_steps"
            if self.max_steps is not None and self.steps > self.max_steps
            else "timeout_s"
        )


def check_linearizable(
    history: History | Iterable[Operation],
    model: str | Model = "register",
    timeout_s: float | None = None,
    *,
    max_steps: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LinearizabilityResult:
    """Check ``history`` against ``model`` (``"register"``, ``"cas-register"``, ``"kv"``, or a
    :class:`~distlab.linearizability.models.Model`).

    A register starts as ``None`` (never written); a kv key starts as ``""`` (a get of a missing key
    returns ``""``; a get that returned ``None`` is read as ``""``). The order of the operations in
    ``history`` does not matter. Raises ``TypeError`` if ``history`` is not a History (or an
    iterable of Operation), ``ValueError`` naming the operation for a function the model does not
    have, a cas without ``(expected, new)``, an append of a non-string, or keys in a register
    history.

    Budgets (checking is NP-complete): ``timeout_s`` bounds the time spent (``clock`` is read
    after every few thousand units of work, preparation included, so the limit holds at any
    size);
    ``max_steps`` bounds the search steps, deterministically: the same input gives the same
    verdict on any machine. Either gives ``"unknown"`` when reached.
    """
    if not callable(clock):
        raise TypeError(f"clock={clock!r} must be a function returning seconds")
    model = _check_model(model)
    if timeout_s is not None:
        timeout_s = check_number(
            "timeout_s", timeout_s, minimum=0, min_inclusive=False, allow_inf=True
        )
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
    started = clock()
    deadline = math.inf if timeout_s is None else started + timeout_s
    budget = Budget(clock, deadline, max_steps, timeout_s)
    try:
        ops = _validated(history, model, budget)
        groups = _split(ops, model, budget)
    except _OutOfBudget as out:
        part = PartResult(
            "unknown",
            f"Unknown: {out.why} while reading the history; raise "
            f"{budget.advice()} to get a verdict.",
        )
        return _result(part, model, None, budget, started)
    results = _drive({key: search(part, model) for key, part in groups.items()}, budget)
    if not model.keyed:
        return _result(results[None], model, None, budget, started)
    return _combine(results, len(groups), model, budget, started)


def _check_model(model: Any) -> Model:
    if isinstance(model, Model):
        return model
    if not isinstance(model, str) or model not in MODELS:
        options = ", ".join(repr(m) for m in MODELS)
        raise ValueError(f"model={model!r} is not one of {options} (or a Model instance)")
    return MODELS[model]


def _validated(history: Any, model: Model, budget: Budget) -> list[Operation]:
    """The operations of ``history``, each checked (by the model too), the clock read as it goes."""
    if isinstance(history, History):
        ops, checked = list(history), True
    elif isinstance(history, str | bytes) or not isinstance(history, Iterable):
        raise TypeError(f"history={history!r} must be a History or an iterable of Operation")
    else:
        ops, checked = list(history), False
    for k, op in enumerate(ops):
        if k % PREP_CHUNK == PREP_CHUNK - 1:
            budget.spend()
        if not checked:
            check_operation(op, k)
        model.check(op)
    return ops


def _split(ops: list[Operation], model: Model, budget: Budget) -> dict[Any, list[Operation]]:
    """One part per key for a keyed model (P-compositionality), else one part."""
    if not model.keyed:
        return {None: ops}
    groups: dict[Any, list[Operation]] = {}
    for k, op in enumerate(ops):
        if k % PREP_CHUNK == PREP_CHUNK - 1:
            budget.spend()
        groups.setdefault(op.key, []).append(op)
    return groups


def _drive(searches: dict[Any, Any], budget: Budget) -> dict[Any, PartResult]:
    """Run the searches in turns until one is not linearizable, all are done, or the budget is
    spent (the searches still running are then "unknown"; those left waiting behind a
    not-linearizable one are not in the result).

    Turns, of TURN_STEPS steps and more, so a key quickly found not linearizable is not kept
    waiting behind a slow one (Porcupine runs keys in parallel for the same reason)."""
    results: dict[Any, PartResult] = {}
    active = dict(searches)
    progress = {key: (0, 0) for key in searches}  # (steps, explored) at the last stop
    turn = TURN_STEPS
    try:
        while active:
            for key in list(active):
                result = _turn(active[key], key, turn, budget, progress)
                if result is None:
                    continue
                results[key] = result
                del active[key]
                if result.verdict == "not-linearizable":
                    return results
            turn = min(2 * turn, 64 * TURN_STEPS)  # turns grow: a long search is not slowed down
    except _OutOfBudget as out:
        for key in active:
            explored = progress[key][1]
            results[key] = PartResult(
                "unknown",
                f"Unknown: {out.why} after exploring {explored:,} "
                f"configurations; raise {budget.advice()} to get a verdict.",
                explored,
                progress[key][0],
            )
        return results
    finally:
        for gen in active.values():
            gen.close()
    return results


def _turn(gen, key, quota: int, budget: Budget, progress: dict) -> PartResult | None:
    """Let one search take ``quota`` more steps (or finish); its result if it finished."""
    start = progress[key][0]
    try:
        while progress[key][0] - start < quota or progress[key][0] == 0:
            # a generator just created must be started with None; later stops get the budget
            fresh = inspect.getgeneratorstate(gen) == inspect.GEN_CREATED
            steps, explored = gen.send(None if fresh else budget.steps_left())
            budget.spend(steps - progress[key][0])
            progress[key] = (steps, explored)
    except StopIteration as stop:
        budget.steps += stop.value.steps - progress[key][0]
        return stop.value
    return None


def _combine(results: dict, n_keys: int, model: Model, budget: Budget, started: float):
    """The verdict on a keyed history from the verdicts of its keys."""
    per_key = {key: res.verdict for key, res in results.items()}
    explored = sum(res.explored for res in results.values())
    bad = [key for key, v in per_key.items() if v == "not-linearizable"]
    if bad:
        res = results[bad[0]]
        unchecked = n_keys - len(results)
        note = (
            f"\n({unchecked} other key(s) not checked to the end: one key that is not "
            "linearizable is enough.)"
            if unchecked
            else ""
        )
        part = _with(res, f"Key {bad[0]!r}: " + res.explanation + note, explored)
        return _result(part, model, per_key, budget, started)
    unknown = [key for key, v in per_key.items() if v == "unknown"]
    if unknown:
        res = results[unknown[0]]
        part = _with(res, f"Key {unknown[0]!r}: " + res.explanation, explored)
        return _result(part, model, per_key, budget, started)
    part = PartResult(
        "linearizable",
        f"Linearizable: each of the {n_keys} key(s) has a valid "
        "order of its operations (keys are independent, so the whole store does).",
        explored,
    )
    return _result(part, model, per_key, budget, started)


def _with(res: PartResult, explanation: str, explored: int) -> PartResult:
    return PartResult(
        res.verdict, explanation, explored, res.steps, res.linearization, res.state, res.blocked
    )


def _result(part: PartResult, model: Model, per_key, budget: Budget, started: float):
    return LinearizabilityResult(
        verdict=part.verdict,
        explanation=part.explanation,
        model=model.name,
        per_key=per_key,
        linearization=part.linearization,
        state=part.state,
        explored=part.explored,
        blocked=part.blocked,
        steps=budget.steps,
        elapsed_s=budget.clock() - started,
    )
