"""Session guarantees (Terry et al., PDIS 1994): a checker for histories, beside the
linearizability checker.

A client session that reads from any replica of an eventually consistent store can see its own
write vanish, read newer then older data, or have its writes applied out of order. Terry's four
session guarantees name those anomalies; :func:`check_sessions` finds, for each session
(process) of a :class:`~distlab.history.History`, the earliest operation that violates each of
them, with the operations that prove it.

>>> from distlab.history import History
>>> h = History.from_events([
...     (0, "a", "invoke", "write", None, 1), (1, "a", "ok", "write", None, 1),
...     (2, "a", "invoke", "read", None, None), (3, "a", "ok", "read", None, None),
... ])
>>> [v.guarantee for v in check_sessions(h).violations]
['read_your_writes']

Modules: :mod:`~distlab.sessions.checker` (:func:`check_sessions`, and what "a read sees a
write" means), :mod:`~distlab.sessions.report` (:class:`SessionReport`, :class:`Violation`).
"""

from distlab.sessions.checker import check_sessions
from distlab.sessions.report import GUARANTEES, SessionReport, Violation

__all__ = ["GUARANTEES", "SessionReport", "Violation", "check_sessions"]
