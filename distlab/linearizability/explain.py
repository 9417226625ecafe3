"""The verdict on one register or key (:class:`PartResult`), with its explanation in words.

>>> from distlab.history import Operation
>>> read = Operation(0, 1, "read", None, None, 7, "ok", 0.0, 1.0)
>>> print(impossible(read, "needs 7, but nothing writes 7").explanation)
Not linearizable: #0 process 1: read returned 7, ok [0 .. 1] needs 7, but nothing writes 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distlab.history import Operation

if TYPE_CHECKING:  # pragma: no cover
    from distlab.linearizability.search import Prepared

__all__ = ["MAX_LISTED", "PartResult", "impossible", "linearizable", "listing", "not_linearizable"]

#: Operations listed in full in an explanation (longer lists are shortened in the middle).
MAX_LISTED = 12


@dataclass(frozen=True)
class PartResult:
    """The verdict on one register or key.

    ``linearization``: operation indices in an order found (or, when not linearizable, the
    longest prefix found); ``blocked``: the operations that could not be placed after that
    prefix; ``state``: the model's state at its end; ``explored``: configurations explored;
    ``steps``: search steps taken (the unit of ``max_steps``).
    """

    verdict: str
    explanation: str
    explored: int = 0
    steps: int = 0
    linearization: tuple[int, ...] | None = None
    state: Any = None
    blocked: tuple[int, ...] = ()


def impossible(op: Operation, reason: str) -> PartResult:
    """Not linearizable without a search: ``op`` cannot be placed, for ``reason``."""
    return PartResult(
        verdict="not-linearizable",
        explanation=f"Not linearizable: {op.describe()} {reason}.",
        linearization=(),
        blocked=(op.index,),
    )


def linearizable(
    p: Prepared, order: list[int], state: Any, explored: int, steps: int
) -> PartResult:
    """The order found (``order``: positions in ``p.ops``) and the state it ends in."""
    placed = [p.ops[i] for i in order]
    infos = sum(p.is_info)
    used = sum(1 for op in placed if op.type == "info")
    lines = [
        f"Linearizable: the {len(placed)} operations below fit one order that respects real "
        f"time and what each returned; the {p.model.noun} ends as "
        f"{p.model.describe(state)}."
    ]
    if infos:
        lines.append(
            f"({used} of the {infos} operations with an unknown outcome took effect in "
            "it; the others never did.)"
        )
    lines += listing(placed)
    return PartResult(
        "linearizable", "\n".join(lines), explored, steps, tuple(op.index for op in placed), state
    )


def not_linearizable(p: Prepared, best: tuple | None, explored: int, steps: int) -> PartResult:
    """The longest linearizable prefix found, the operation that could not be placed after it,
    and why each candidate fails there. ``best`` is (prefix, state, blocking, candidates)."""
    assert best is not None  # a failed search got stuck at least once
    prefix, state, blocking, candidates = best
    model, noun = p.model, p.model.noun
    placed = [p.ops[i] for i in prefix]
    blocked_op = p.ops[blocking]
    lines = [
        f"Not linearizable: {blocked_op.describe()} cannot be placed anywhere.",
        f"The longest linearizable prefix found orders {len(placed)} operation(s); after it the "
        f"{noun} holds {model.describe(state)}:",
    ]
    lines += listing(placed, tail=True) if placed else ["  (none)"]
    lines.append(
        f"Next, #{blocked_op.index} must take effect before it completes at "
        f"{blocked_op.complete:g}, but none of the operations that may still go first "
        "leads anywhere:"
    )
    for i in candidates:
        op = p.ops[i]
        accepted = model.step(state, op)[0]
        why = (
            "the model accepts it here, but every order continuing with it fails later"
            if accepted
            else "refused by the model: " + model.why_refused(state, op)
        )
        lines.append(f"  - {op.describe()}: {why}")
    lines.append(f"({explored:,} configurations explored.)")
    blocked = tuple(p.ops[i].index for i in candidates) or (blocked_op.index,)
    return PartResult(
        "not-linearizable",
        "\n".join(lines),
        explored,
        steps,
        tuple(op.index for op in placed),
        state,
        blocked,
    )


def listing(ops: list[Operation], tail: bool = False) -> list[str]:
    """Numbered lines, one per operation; past :data:`MAX_LISTED`, the middle (or, with
    ``tail``, the beginning) is left out."""
    if len(ops) <= MAX_LISTED:
        return [f"  {k + 1:>3}. {op.describe()}" for k, op in enumerate(ops)]
    if tail:
        skip = len(ops) - MAX_LISTED
        return [f"  ... ({skip} earlier operations)"] + [
            f"  {skip + k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[skip:])
        ]
    half = MAX_LISTED // 2
    return (
        [f"  {k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[:half])]
        + [f"  ... ({len(ops) - 2 * half} more)"]
        + [f"  {len(ops) - half + k + 1:>3}. {op.describe()}" for k, op in enumerate(ops[-half:])]
    )
