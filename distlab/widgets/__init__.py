"""Explorers: ipywidgets controls -> experiment -> figure, for the notebooks.

Thin by design: all logic lives in :mod:`distlab.experiments` and :mod:`distlab.plots`.
Concrete explorers are modules of this package that register a factory with :func:`register`;
:func:`all_explorers` finds them all (tests and benchmarks use it).

>>> from distlab.widgets import all_explorers
>>> ex = all_explorers()["network"]()  # doctest: +SKIP
>>> network_explorer()  # in a notebook: shows the explorer  # doctest: +SKIP
"""

from distlab.widgets.base import Explorer, all_explorers, register
from distlab.widgets.breakers import breaker_explorer
from distlab.widgets.cap import partition_explorer, use_case_explorer
from distlab.widgets.clocks import skew_explorer
from distlab.widgets.consistency import pbs_explorer
from distlab.widgets.network import network_explorer
from distlab.widgets.partial_failures import partial_failure_explorer
from distlab.widgets.retries import contention_explorer, retry_timeline_explorer
from distlab.widgets.sagas import saga_explorer
from distlab.widgets.sessions import session_explorer

__all__ = [
    "Explorer",
    "all_explorers",
    "breaker_explorer",
    "contention_explorer",
    "network_explorer",
    "partial_failure_explorer",
    "partition_explorer",
    "register",
    "retry_timeline_explorer",
    "use_case_explorer",
    "saga_explorer",
    "skew_explorer",
    "pbs_explorer",
    "session_explorer",
]
