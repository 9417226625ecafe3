"""The simulated world: a clock, a seeded generator, an event log, a network, services and faults.

>>> from distlab.sim import World, Network, Service, Exponential, call
>>> world = World(seed=42)
>>> net = Network(world, latency=Exponential(0.01), loss=0.05)
>>> _ = net.add_node("client")
>>> _ = Service(net, "api", service_time=0.02)
>>> procs = [call(net, "client", "api", i, timeout_s=0.5) for i in range(10)]
>>> world.run()
>>> {p.value.outcome for p in procs} <= {"ok", "error", "timeout"}
True
"""

from distlab.sim.breaking import (
    NESTINGS,
    BreakerCallResult,
    breaker_call,
    breaker_call_process,
    sim_clock,
)
from distlab.sim.conditions import FaultEffect
from distlab.sim.distributions import (
    Constant,
    Distribution,
    Exponential,
    LogNormal,
    Mixture,
    Normal,
    Pareto,
    Uniform,
    as_distribution,
)
from distlab.sim.faults import (
    BridgePartition,
    Crash,
    Fault,
    FaultSchedule,
    LossBurst,
    Partition,
    SlowNode,
)
from distlab.sim.leaderless import Leaderless
from distlab.sim.network import Message, Network, Node
from distlab.sim.primary_replica import REPLICATION_MODES, PrimaryReplica
from distlab.sim.recording_store import RecordingStore
from distlab.sim.retrying import (
    CallError,
    CallFailed,
    CallRejected,
    CallTimeout,
    retry_call,
    run_retries,
)
from distlab.sim.rpc import CallResult, Request, Response, call, call_process, respond
from distlab.sim.service import (
    Down,
    Flaky,
    FragileRecovery,
    Health,
    HealthSchedule,
    Recovering,
    Service,
    Slow,
    Up,
)
from distlab.sim.sessions import ClientSession, SessionLog, check_store_sessions
from distlab.sim.stores import ALL_STORE_KINDS, STORE_KINDS, ReplicatedStore, StoreResult
from distlab.sim.versions import CausalContext, Siblings, Versioned
from distlab.sim.world import EVENT_COLUMNS, World

__all__ = [
    "EVENT_COLUMNS",
    "NESTINGS",
    "STORE_KINDS",
    "BreakerCallResult",
    "BridgePartition",
    "CallError",
    "CallFailed",
    "CallRejected",
    "CallResult",
    "CallTimeout",
    "CourseSagaNode",
    "Constant",
    "Crash",
    "Distribution",
    "Down",
    "Exponential",
    "Fault",
    "FaultEffect",
    "FaultSchedule",
    "Flaky",
    "FragileRecovery",
    "Health",
    "HealthSchedule",
    "LogNormal",
    "LossBurst",
    "Message",
    "Mixture",
    "Network",
    "Node",
    "Normal",
    "Pareto",
    "Participant",
    "Partition",
    "Recovering",
    "ReplicatedStore",
    "Request",
    "Response",
    "SagaNode",
    "SagaSimRun",
    "Service",
    "Slow",
    "SlowNode",
    "StoreResult",
    "Uniform",
    "Up",
    "World",
    "as_distribution",
    "breaker_call",
    "breaker_call_process",
    "call",
    "call_process",
    "order_saga",
    "respond",
    "retry_call",
    "run_retries",
    "sim_clock",
    "simulate_order_sagas",
    "CausalRun",
    "NodeClock",
    "SyncDaemonDied",
    "clock_trace",
    "happened_before",
    "vector_timestamps",
    "ALL_STORE_KINDS",
    "REPLICATION_MODES",
    "PrimaryReplica",
    "RecordingStore",
    "ClientSession",
    "SessionLog",
    "check_store_sessions",
    "Leaderless",
    "CausalContext",
    "Siblings",
    "Versioned",
]

#: Names of :mod:`distlab.sim.sagas`, imported on first use: the saga library is not loaded
#: (nor its objects tracked by the garbage collector) by simulations that do not use it.
_SAGA_NAMES = frozenset(
    {"CourseSagaNode", "Participant", "SagaNode", "SagaSimRun", "order_saga",
     "simulate_order_sagas"}
)  # fmt: skip


#: Names of :mod:`distlab.sim.clocks` and :mod:`distlab.sim.causality`, imported on first use.
_CLOCK_NAMES = {
    "NodeClock": "clocks",
    "SyncDaemonDied": "clocks",
    "clock_trace": "clocks",
    "CausalRun": "causality",
    "happened_before": "causality",
    "vector_timestamps": "causality",
}


def __getattr__(name: str):
    if name in _SAGA_NAMES:
        from distlab.sim import sagas

        return getattr(sagas, name)
    if name in _CLOCK_NAMES:
        import importlib

        return getattr(importlib.import_module(f"distlab.sim.{_CLOCK_NAMES[name]}"), name)
    raise AttributeError(f"module 'distlab.sim' has no attribute {name!r}")
