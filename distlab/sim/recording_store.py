"""A replicated store that records when each replica applies each version: what a replication
timeline draws (a write's propagation from the primary to every replica).

:class:`RecordingStore` is a :class:`~distlab.sim.ReplicatedStore` (any kind) whose
:meth:`~RecordingStore.put` also notes ``(time, node, key, stamp, value)`` the first time a node
keeps a version. A version a node applies again (a replica rebuilt from its log after a
failover) is not noted twice; a version a node discarded (the divergent suffix of a demoted
primary) stays noted at the time it was first applied: :meth:`ReplicatedStore.lost_acknowledged`
says which were lost.

>>> from distlab.sim import World, Network
>>> world = World(seed=1); net = Network(world, latency=0.01)
>>> store = RecordingStore(net, "primary", nodes=3, replication_lag=0.5)
>>> store.attach_client("c1", "n1")
>>> _ = store.request("c1", "write", value=7); world.run(until=1.0)
>>> store.applied_frame()[["node", "time", "value"]].values.tolist()
[['n1', 0.01, 7], ['n2', 0.52, 7], ['n3', 0.52, 7]]
"""

from __future__ import annotations

from typing import Any

from distlab.sim.stores import ReplicatedStore

__all__ = ["APPLIED_COLUMNS", "RecordingStore"]

#: Columns of :meth:`RecordingStore.applied_frame`.
APPLIED_COLUMNS = ("node", "time", "key", "stamp", "value")


class RecordingStore(ReplicatedStore):
    """A :class:`~distlab.sim.ReplicatedStore` that also records, in ``applied``, each version
    each node keeps, the first time it keeps it: ``(node, time, key, stamp, value)``.

    Same parameters as :class:`~distlab.sim.ReplicatedStore`.

    >>> from distlab.sim import World, Network
    >>> store = RecordingStore(Network(World()), "ap", nodes=2)
    >>> store.put("n1", "x", (1.0, 0, 1), "a"), store.put("n1", "x", (1.0, 0, 1), "a", blind=True)
    (True, True)
    >>> store.applied
    [('n1', 0.0, 'x', (1.0, 0, 1), 'a')]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.applied: list[tuple[str, float, str, tuple, Any]] = []
        self._noted: set[tuple[str, str, tuple]] = set()
        super().__init__(*args, **kwargs)

    def put(self, node: str, key: str, stamp: tuple, value: Any, *, blind: bool = False) -> bool:
        """Keep ``(stamp, value)`` as :meth:`ReplicatedStore.put` does, and note it if kept for
        the first time at ``node``."""
        kept = super().put(node, key, stamp, value, blind=blind)
        if kept and (node, key, stamp) not in self._noted:
            self._noted.add((node, key, stamp))
            self.applied.append((node, float(self.env.now), key, stamp, value))
        return kept

    def applied_frame(self):
        """``applied`` as a table (:data:`APPLIED_COLUMNS`), in the order the versions were
        kept."""
        import pandas as pd

        return pd.DataFrame(self.applied, columns=list(APPLIED_COLUMNS))
