"""What the session-guarantee checker found: :class:`Violation` and :class:`SessionReport`.

>>> from distlab.history import History
>>> from distlab.sessions import check_sessions
>>> h = History.from_events([
...     (0, "a", "invoke", "write", None, 1), (1, "a", "ok", "write", None, 1),
...     (2, "a", "invoke", "read", None, None), (3, "a", "ok", "read", None, None),
... ])
>>> report = check_sessions(h)
>>> report.ok("read_your_writes"), report.ok("monotonic_reads")
(False, True)
>>> print(report.earliest("a", "read_your_writes").explanation)  # doctest: +ELLIPSIS
read_your_writes violated by #1 process 'a': read returned nil, ok [2 .. 3]: it does not see #0...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.history import Operation

__all__ = ["GUARANTEES", "SessionReport", "Violation"]

#: Terry et al.'s four session guarantees, in the paper's order.
GUARANTEES = ("read_your_writes", "monotonic_reads", "writes_follow_reads", "monotonic_writes")


@dataclass(frozen=True)
class Violation:
    """The earliest operation of one session that violates one guarantee.

    ``operation`` is that operation; ``proof`` the operations that prove it, the earlier one(s)
    of the session first and ``operation`` last; ``replica`` the replica whose applied order
    shows it (``None`` when the version order does); ``explanation`` says it in words.

    >>> from distlab.history import History
    >>> from distlab.sessions import check_sessions
    >>> h = History.from_events([
    ...     (0, "a", "invoke", "write", None, 2), (1, "a", "ok", "write", None, 2),
    ...     (2, "a", "invoke", "write", None, 1), (3, "a", "ok", "write", None, 1),
    ... ])
    >>> v = check_sessions(h).violations[0]
    >>> v.guarantee, [op.index for op in v.proof]
    ('monotonic_writes', [0, 1])
    """

    guarantee: str
    process: int | str
    operation: Operation
    proof: tuple[Operation, ...]
    replica: str | None
    explanation: str


@dataclass(frozen=True)
class SessionReport:
    """Per session (process) and guarantee checked, the earliest violation (if any).

    ``guarantees`` are the guarantees checked, ``sessions`` the processes in order of first
    appearance, ``violations`` at most one per (session, guarantee), in session order.

    >>> from distlab.history import History
    >>> from distlab.sessions import check_sessions
    >>> report = check_sessions(History([]))
    >>> report.ok(), report.sessions, report.violated()["monotonic_reads"]
    (True, (), 0)
    """

    guarantees: tuple[str, ...]
    sessions: tuple[int | str, ...]
    violations: tuple[Violation, ...]

    def ok(self, guarantee: str | None = None) -> bool:
        """Whether no session violates ``guarantee`` (any checked guarantee when None)."""
        if guarantee is not None and guarantee not in self.guarantees:
            raise ValueError(
                f"guarantee={guarantee!r} was not checked; checked: {', '.join(self.guarantees)}"
            )
        return not any(guarantee in (None, v.guarantee) for v in self.violations)

    def earliest(self, process: Any, guarantee: str) -> Violation | None:
        """The earliest violation of ``guarantee`` in ``process``'s session, or None."""
        if guarantee not in self.guarantees:
            raise ValueError(
                f"guarantee={guarantee!r} was not checked; checked: {', '.join(self.guarantees)}"
            )
        for v in self.violations:
            if v.process == process and v.guarantee == guarantee:
                return v
        return None

    def violated(self) -> dict[str, int]:
        """``{guarantee: number of sessions that violate it}`` for every guarantee checked."""
        return {g: sum(v.guarantee == g for v in self.violations) for g in self.guarantees}

    def to_frame(self):
        """One row per violation: ``process, guarantee, index, proof, replica, explanation``
        (``index`` the violating operation's, ``proof`` the proving operations' indices)."""
        import pandas as pd

        rows = [
            {
                "process": v.process,
                "guarantee": v.guarantee,
                "index": v.operation.index,
                "proof": tuple(op.index for op in v.proof),
                "replica": v.replica,
                "explanation": v.explanation,
            }
            for v in self.violations
        ]
        columns = ["process", "guarantee", "index", "proof", "replica", "explanation"]
        return pd.DataFrame(rows, columns=columns)
