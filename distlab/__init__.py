"""distlab: learn, see and choose the patterns that keep distributed systems alive.

The package has layers that import downwards only (see the README): pattern cores, the simulated
world (:mod:`distlab.sim`), experiments, plots and explorers. Importing ``distlab`` is cheap: the
public names below are loaded lazily, on first use, so ``import distlab.retry`` never pulls in
SimPy, pandas or matplotlib.

>>> import distlab
>>> world = distlab.World(seed=1)
>>> policy = distlab.RetryPolicy(max_attempts=3)
>>> breaker = distlab.CircuitBreaker(name="payments")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "RetryPolicy": "distlab.retry",
    "RetryBudget": "distlab.retry",
    "ExponentialBackoff": "distlab.retry",
    "ConstantBackoff": "distlab.retry",
    "NoBackoff": "distlab.retry",
    "RetryEvent": "distlab.retry",
    "RetryMetrics": "distlab.retry",
    "CircuitBreaker": "distlab.breaker",
    "CircuitOpenError": "distlab.breaker",
    "BreakerState": "distlab.breaker",
    "BreakerMetrics": "distlab.breaker",
    "BreakerConfig": "distlab.breaker",
    "BreakerEvent": "distlab.breaker",
    "exponential_wait": "distlab.breaker",
    "World": "distlab.sim",
    "Network": "distlab.sim",
    "Message": "distlab.sim",
    "Constant": "distlab.sim",
    "Uniform": "distlab.sim",
    "Exponential": "distlab.sim",
    "Normal": "distlab.sim",
    "LogNormal": "distlab.sim",
    "Pareto": "distlab.sim",
    "Mixture": "distlab.sim",
    "Service": "distlab.sim",
    "HealthSchedule": "distlab.sim",
    "Up": "distlab.sim",
    "Down": "distlab.sim",
    "Slow": "distlab.sim",
    "Flaky": "distlab.sim",
    "Recovering": "distlab.sim",
    "FragileRecovery": "distlab.sim",
    "CallResult": "distlab.sim",
    "call": "distlab.sim",
    "retry_call": "distlab.sim",
    "breaker_call": "distlab.sim",
    "sim_clock": "distlab.sim",
    "FaultSchedule": "distlab.sim",
    "Partition": "distlab.sim",
    "Crash": "distlab.sim",
    "SlowNode": "distlab.sim",
    "LossBurst": "distlab.sim",
    "BridgePartition": "distlab.sim",
    "ReplicatedStore": "distlab.sim",
    "sweep": "distlab.experiments",
    "History": "distlab.history",
    "Operation": "distlab.history",
    "check_linearizable": "distlab.linearizability",
    "LinearizabilityResult": "distlab.linearizability",
    "LamportClock": "distlab.clocks",
    "VectorClock": "distlab.clocks",
    "HybridLogicalClock": "distlab.clocks",
    "TrueTime": "distlab.clocks",
    "stale_read_probability": "distlab.pbs",
    "t_visibility": "distlab.pbs",
    "Saga": "distlab.saga",
    "SagaOrchestrator": "distlab.saga",
    "AsyncSagaOrchestrator": "distlab.saga",
    "SagaRun": "distlab.saga",
    "SagaResult": "distlab.saga",
    "IdempotencyStore": "distlab.saga",
    "check_sessions": "distlab.sessions",
    "SessionReport": "distlab.sessions",
    "GCounter": "distlab.crdt",
    "PNCounter": "distlab.crdt",
    "LWWRegister": "distlab.crdt",
    "MVRegister": "distlab.crdt",
    "ORSet": "distlab.crdt",
    "SweepRunError": "distlab.experiments",
    "ClientSession": "distlab.sim",
}

_SUBMODULES = {
    "breaker",
    "clocks",
    "exercises",
    "experiments",
    "history",
    "linearizability",
    "observe",
    "outcomes",
    "pbs",
    "plots",
    "retry",
    "saga",
    "sim",
    "widgets",
    "sessions",
    "crdt",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"distlab.{name}")
    raise AttributeError(f"module 'distlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
