"""Time and order: logical, vector and hybrid clocks, TrueTime, happened-before, skew.

Pattern cores only (no simulation, no tables, no drawing): every clock is told the time by its
caller, so the same objects run in a simulation and in production code. The real-time drivers
(:class:`WallClockHLC`, :class:`TrueTimeClock`) read this machine's clocks, injectably.

=====================  ===============================================================
:mod:`.lamport`        :class:`LamportClock`, :class:`LamportTimestamp` (total order)
:mod:`.vector`         :class:`VectorClock`, :class:`VectorTimestamp` (before/after/concurrent)
:mod:`.hlc`            :class:`HybridLogicalClock`, :class:`NaiveHybridClock`
:mod:`.physical`       :class:`DriftingClock`: offset and drift against true time
:mod:`.truetime`       :class:`TrueTime`: intervals, sawtooth uncertainty, commit wait
:mod:`.external`       :func:`check_external_consistency` over transactions
:mod:`.realtime`       :class:`WallClockHLC`, :class:`TrueTimeClock`
:mod:`.runs`           :class:`Run`: vector/Lamport timestamps of a run, ordered or concurrent
:mod:`.shiviz`         :func:`to_shiviz`, :func:`check_shiviz`
:mod:`.lww`            :func:`lww_loss_probability` under skew, and its Monte Carlo
:mod:`.pruning`        :func:`truncation_anomalies`: Dynamo's truncated clocks
=====================  ===============================================================

>>> from distlab.clocks import Run, local, receive, send
>>> run = Run({"a": [send("m"), local()], "b": [receive("m")]})
>>> run.order(("a", 1), ("b", 0))
<Order.CONCURRENT: 'concurrent'>
"""

from distlab.clocks._observed import ClockEvent, ClockMetrics
from distlab.clocks.external import (
    ExternalConsistencyCheck,
    Transaction,
    check_external_consistency,
)
from distlab.clocks.hlc import (
    ClockOffsetError,
    HLCMetrics,
    HLCTimestamp,
    HybridLogicalClock,
    NaiveHybridClock,
)
from distlab.clocks.lamport import LamportClock, LamportTimestamp
from distlab.clocks.lww import lww_loss_probability, simulate_lww_loss
from distlab.clocks.order import Order, compare_counts
from distlab.clocks.physical import MAX_DRIFT, DriftingClock
from distlab.clocks.pruning import TruncationReport, VersionEntry, prune, truncation_anomalies
from distlab.clocks.realtime import TrueTimeClock, WallClockHLC
from distlab.clocks.runs import Run, Step, local, receive, send
from distlab.clocks.shiviz import SHIVIZ_REGEX, ShivizCheck, check_shiviz, to_shiviz
from distlab.clocks.truetime import Commit, TrueTime, TTInterval
from distlab.clocks.vector import VectorClock, VectorTimestamp

__all__ = [
    "MAX_DRIFT",
    "SHIVIZ_REGEX",
    "ClockEvent",
    "ClockMetrics",
    "ClockOffsetError",
    "Commit",
    "DriftingClock",
    "ExternalConsistencyCheck",
    "HLCMetrics",
    "HLCTimestamp",
    "HybridLogicalClock",
    "LamportClock",
    "LamportTimestamp",
    "NaiveHybridClock",
    "Order",
    "Run",
    "ShivizCheck",
    "Step",
    "TTInterval",
    "Transaction",
    "TrueTime",
    "TrueTimeClock",
    "TruncationReport",
    "VectorClock",
    "VectorTimestamp",
    "VersionEntry",
    "WallClockHLC",
    "check_external_consistency",
    "check_shiviz",
    "compare_counts",
    "local",
    "lww_loss_probability",
    "prune",
    "receive",
    "send",
    "simulate_lww_loss",
    "to_shiviz",
    "truncation_anomalies",
]
