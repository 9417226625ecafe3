"""Experiments: pure, deterministic functions of (parameters, seed) that return DataFrames.

Modules, one per topic of the course:

- :mod:`distlab.experiments.network`: messages across a lossy, delaying, partitioned network.
- :mod:`distlab.experiments.challenges`: partial failures, timeouts, races, clocks (notebook 01).

:func:`sweep` runs any of them over a grid of parameters and seeds, on any executor.
"""

from distlab.experiments.sweep import sweep

__all__ = ["sweep"]
