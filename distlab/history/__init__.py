"""Operation histories: what clients asked a store, what they were told, and when.

A history is the input of a linearizability checker (:mod:`distlab.linearizability`). Each
:class:`Operation` is one request from one process: its function (``read``, ``write``, ``cas``
for a register; ``get``, ``put``, ``append`` for a key-value store), its argument, what it
returned, when it was invoked and when it completed, and how it ended, in Jepsen's words (the file
format's own; ``distlab.outcomes.HISTORY_OUTCOME`` maps them to distlab's outcomes):

- ``ok``: it took effect and returned ``result``;
- ``fail``: it did not take effect (for a compare-and-set, ``fail`` is its answer: refused because
  the value differed);
- ``info``: the outcome is unknown (a timeout): it may have taken effect at any time after its
  invocation, or never. Its ``complete`` is ``math.inf``.

>>> h = History.from_events([
...     (0.0, "a", "invoke", "write", None, 1),
...     (0.5, "b", "invoke", "read", None, None),
...     (1.0, "a", "ok", "write", None, 1),
...     (1.2, "b", "ok", "read", None, 1),
... ])
>>> len(h), h[1].f, h[1].result, h[1].complete
(2, 'read', 1, 1.2)
>>> print(h[0].describe())
#0 process 'a': write 1, ok [0 .. 1]

Modules: :mod:`~distlab.history.operations` (the model: :class:`Operation`, :class:`History`),
:mod:`~distlab.history.readers` (Jepsen's files: :meth:`History.from_jepsen_log` for etcd logs,
:meth:`History.from_edn` for EDN maps, strict: every line understood or reported),
:mod:`~distlab.history.edn` (a small EDN reader).
"""

from distlab.history.operations import COLUMNS, FUNCTIONS, TYPES, History, Operation

__all__ = ["COLUMNS", "FUNCTIONS", "TYPES", "History", "Operation"]
