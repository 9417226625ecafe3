"""External consistency: a transaction that commits before another starts has the smaller
commit timestamp (Spanner's guarantee, which TrueTime's commit wait provides).

>>> txs = [
...     Transaction("t1", start=0.0, commit=1.0, timestamp=0.9),
...     Transaction("t2", start=2.0, commit=3.0, timestamp=2.5),
...     Transaction("t3", start=1.5, commit=2.2, timestamp=0.8),   # started after t1 committed
... ]
>>> check = check_external_consistency(txs)
>>> check.ok, check.violations
(False, (('t1', 't3'),))

``start`` and ``commit`` are true (absolute) times: when the transaction began and when its
commit became visible (acknowledged); ``timestamp`` is the commit timestamp it was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from distlab._validate import check_number

__all__ = ["ExternalConsistencyCheck", "Transaction", "check_external_consistency"]


@dataclass(frozen=True)
class Transaction:
    """A transaction's ``name``, true ``start`` and ``commit`` times and commit ``timestamp``."""

    name: str
    start: float
    commit: float
    timestamp: float

    def __post_init__(self) -> None:
        start = check_number("start", self.start)
        commit = check_number("commit", self.commit)
        check_number("timestamp", self.timestamp)
        if commit < start:
            raise ValueError(f"commit={commit:g} of {self.name!r} is before its start={start:g}")


@dataclass(frozen=True)
class ExternalConsistencyCheck:
    """``ok`` when no violation; each violation ``(earlier, later)`` names a transaction that
    committed before ``later`` started yet has a timestamp at least ``later``'s (for each
    ``later``, the earlier one with the largest timestamp); ``checked`` transactions."""

    ok: bool
    violations: tuple[tuple[str, str], ...]
    checked: int


def check_external_consistency(transactions: Iterable[Transaction]) -> ExternalConsistencyCheck:
    """Check that ``T1.commit < T2.start`` implies ``T1.timestamp < T2.timestamp``.

    O(n log n): transactions by start time against the largest timestamp committed before it.
    """
    txs = list(transactions)
    for i, tx in enumerate(txs):
        if not isinstance(tx, Transaction):
            raise TypeError(f"transactions[{i}]={tx!r} must be a Transaction")
    by_commit = sorted(txs, key=lambda t: t.commit)
    violations = []
    best: Transaction | None = None
    k = 0
    for later in sorted(txs, key=lambda t: t.start):
        while k < len(by_commit) and by_commit[k].commit < later.start:
            if best is None or by_commit[k].timestamp > best.timestamp:
                best = by_commit[k]
            k += 1
        if best is not None and best.timestamp >= later.timestamp:
            violations.append((best.name, later.name))
    return ExternalConsistencyCheck(not violations, tuple(violations), len(txs))
