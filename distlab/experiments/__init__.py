"""Experiments: pure, deterministic functions of (parameters, seed), one module per topic.

Every experiment returns a :class:`Result` (see :mod:`distlab.experiments.result`): ``frame``
(the tidy main table), ``summary`` (plain numbers, one row per variant) and ``params`` (what the
run used, ``seed`` included), plus the extra tables its figures need. Outcomes are the words of
:mod:`distlab.outcomes`. Same parameters and seed, same result, on any machine.

- :mod:`distlab.experiments.network`: messages across a lossy, delaying, partitioned network (00).
- :mod:`distlab.experiments.challenges`: partial failures, timeouts, races, clocks (01).
- :mod:`distlab.experiments.retries`, :mod:`~distlab.experiments.contention`,
  :mod:`~distlab.experiments.idempotency`: retries, the AWS contention experiment, idempotency
  keys (02).
- :mod:`distlab.experiments.breakers`: circuit breakers (03).
- :mod:`distlab.experiments.sagas`: the order saga, the course's against distlab's (04).
- :mod:`distlab.experiments.saga_anomalies`: stuck sagas, save-points, isolation, in-transit (04).
- :mod:`distlab.experiments.cap`: replicated stores under partitions, use cases (06).
- :mod:`distlab.experiments.clocks`: time and order: clocks, skew, LWW, HLC, commit wait (07).
- :mod:`distlab.experiments.failover`: a primary's crash: acknowledged writes lost, remedies (05).
- :mod:`distlab.experiments.read_routing`: read routing and session guarantees on a primary
  store: read-your-writes against lag and think time, the price of each guarantee (05).
- :mod:`distlab.experiments.staleness`: PBS t-visibility, k-staleness, latency saved (05).
- :mod:`distlab.experiments.crdt_anomalies`: the union-merged cart, the sum-merged counter (05).
- :mod:`distlab.experiments.quorums`, :mod:`~distlab.experiments.convergence`: the leaderless
  store against the PBS Monte Carlo; anti-entropy and convergence, LWW against siblings (05).

:func:`sweep` runs any of them over a grid of parameters and seeds, on any executor.
"""

from distlab.experiments.result import Result
from distlab.experiments.runner import SweepRunError
from distlab.experiments.sweep import dask_sweep_settings, sweep

__all__ = ["Result", "sweep", "dask_sweep_settings", "SweepRunError"]
