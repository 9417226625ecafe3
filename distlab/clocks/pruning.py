"""Dynamo's truncated vector clocks: with a size cap, ordered versions can look concurrent.

Dynamo keeps, per object, a vector clock of ``(node, counter)`` pairs, each with the time the
node last updated it. When the clock grows past a threshold (about 10 entries) the entry
updated longest ago is dropped. A dropped entry makes an older version look as if it knew
something the newer one does not: the store then reports two *ordered* versions as
*concurrent* and keeps both as siblings for the client to reconcile.

>>> report = truncation_anomalies([f"n{i}" for i in range(12)], max_entries=10)
>>> len(report.false_concurrent), report.pairs
(21, 66)
>>> (9, 10) in report.false_concurrent, (10, 11) in report.false_concurrent  # even successive ones
(True, True)
>>> truncation_anomalies(["a", "b", "a", "b"], max_entries=10).false_concurrent
()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from distlab._validate import check_int
from distlab.clocks.codec import check_process
from distlab.clocks.order import Order, compare_counts

__all__ = ["TruncationReport", "VersionEntry", "prune", "truncation_anomalies"]


@dataclass(frozen=True)
class VersionEntry:
    """One node's entry in a version clock: its ``counter`` and when it last ``updated`` it."""

    counter: int
    updated: float


def prune(clock: Mapping[str, VersionEntry], *, max_entries: int = 10) -> dict[str, VersionEntry]:
    """Drop the entries updated longest ago until at most ``max_entries`` remain (ties: the
    node name decides, so pruning is deterministic)."""
    max_entries = check_int("max_entries", max_entries, 1)
    if not isinstance(clock, Mapping):
        raise TypeError(f"clock={clock!r} must be a mapping of node -> VersionEntry")
    for node, entry in clock.items():
        if not isinstance(entry, VersionEntry):
            raise TypeError(f"clock[{node!r}]={entry!r} must be a VersionEntry")
    newest = sorted(clock, key=lambda node: (clock[node].updated, node))[-max_entries:]
    keep = set(newest)
    return {node: entry for node, entry in clock.items() if node in keep}


def _counts(clock: Mapping[str, VersionEntry]) -> dict[str, int]:
    return {node: entry.counter for node, entry in clock.items()}


@dataclass(frozen=True)
class TruncationReport:
    """Versions ``0..n-1`` of one object, each written on ``writers[i]`` at time ``i`` and
    descending from the one before (so every pair is ordered).

    ``clocks``: each version's pruned clock as ``{node: counter}``; ``false_concurrent``: the
    pairs ``(i, j)``, ``i < j``, that the pruned clocks report as concurrent; ``pairs``: how
    many pairs were compared.
    """

    writers: tuple[str, ...]
    max_entries: int
    clocks: tuple[dict[str, int], ...]
    false_concurrent: tuple[tuple[int, int], ...]
    pairs: int


def truncation_anomalies(writers: Sequence[str], *, max_entries: int = 10) -> TruncationReport:
    """Write a chain of versions, one per entry of ``writers`` (the coordinating node), prune
    each clock to ``max_entries`` and list the ordered pairs it reports as concurrent."""
    if isinstance(writers, str) or not isinstance(writers, Sequence):
        raise TypeError(f"writers={writers!r} must be a sequence of node names")
    writers = tuple(check_process(f"writers[{i}]", w) for i, w in enumerate(writers))
    check_int("len(writers)", len(writers), 0, 10_000)
    max_entries = check_int("max_entries", max_entries, 1)
    clock: dict[str, VersionEntry] = {}
    clocks = []
    for time, node in enumerate(writers):
        previous = clock.get(node, VersionEntry(0, 0.0)).counter
        clock = prune(
            {**clock, node: VersionEntry(previous + 1, float(time))}, max_entries=max_entries
        )
        clocks.append(_counts(clock))
    false = tuple(
        (i, j)
        for j in range(len(clocks))
        for i in range(j)
        if compare_counts(clocks[i], clocks[j]) is not Order.BEFORE
    )
    return TruncationReport(
        writers, max_entries, tuple(clocks), false, len(clocks) * (len(clocks) - 1) // 2
    )
