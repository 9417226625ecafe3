"""Sagas: long-lived transactions as steps and compensations, driven from a durable log.

A :class:`Saga` is an ordered list of :class:`Step` s: compensatable steps, at most one pivot,
then retriable steps. The core (:class:`~distlab.saga.core.SagaRun`) is a sans-I/O state machine
told the time and each step's outcome; it guarantees Garcia-Molina and Salem's property: a saga
that ends has run T1..Tn, or T1..Tj then Cj..C1. Its decisions go to a durable log
(:class:`InMemoryLog`, :class:`SQLiteLog`) before they are acted on, so that
``recover()`` carries every unfinished saga on after a crash. :class:`SagaOrchestrator` and
:class:`AsyncSagaOrchestrator` are the real-time drivers; :class:`IdempotencyStore` is the
participant's side (idempotency keys, tombstones).

Modules: ``definition`` (steps, kinds, save-points), ``records`` (the log's records),
``state`` and ``core`` (the state machine), ``log`` and ``sqlite_log`` (back-ends),
``journal`` (log + leases + events, shared by drivers), ``orchestrator`` and ``aio`` (drivers),
``idempotency`` (participants), ``frame`` (the history as a table).

>>> from distlab.saga import Saga, Step, PIVOT, SagaOrchestrator, InMemoryLog
>>> order = Saga("order", [
...     Step("reserve", action=lambda ctx: "r1", compensation=lambda ctx: None),
...     Step("charge", action=lambda ctx: "c1", kind=PIVOT),
... ])
>>> SagaOrchestrator(InMemoryLog()).run(order, saga_id="o1").status
'completed'
"""

from __future__ import annotations

from distlab.saga.aio import AsyncSagaOrchestrator
from distlab.saga.core import (
    Finished,
    RunAction,
    RunCompensation,
    SagaResult,
    SagaRun,
    StepContext,
    Wait,
)
from distlab.saga.definition import (
    COMPENSATABLE,
    PIVOT,
    RETRIABLE,
    Saga,
    Step,
    temporal_retry,
)
from distlab.saga.frame import history_rows, to_frame
from distlab.saga.idempotency import IdempotencyStore, SQLiteIdempotencyStore, Tombstoned
from distlab.saga.journal import Journal, SagaEvent, SagaMetrics
from distlab.saga.log import InMemoryLog, LeaseLost, SagaLog
from distlab.saga.orchestrator import SagaOrchestrator
from distlab.saga.records import LogRecord
from distlab.saga.sqlite_log import SQLiteLog

__all__ = [
    "COMPENSATABLE",
    "PIVOT",
    "RETRIABLE",
    "AsyncSagaOrchestrator",
    "Finished",
    "IdempotencyStore",
    "InMemoryLog",
    "Journal",
    "LeaseLost",
    "LogRecord",
    "RunAction",
    "RunCompensation",
    "SQLiteIdempotencyStore",
    "SQLiteLog",
    "Saga",
    "SagaEvent",
    "SagaLog",
    "SagaMetrics",
    "SagaOrchestrator",
    "SagaResult",
    "SagaRun",
    "Step",
    "StepContext",
    "Tombstoned",
    "Wait",
    "history_rows",
    "temporal_retry",
    "to_frame",
]
