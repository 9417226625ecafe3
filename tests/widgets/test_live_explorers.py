"""The explorers that update their figure in place (circuit breaker, saga, partition, use case):
after any moves of their controls, the picture shown is the one a figure built anew gives."""

from __future__ import annotations

import pytest

from distlab.plots.display import figure_png
from distlab.widgets import all_explorers

#: explorer -> moves, each a dict of control values set at once
MOVES = {
    "circuit breaker": [
        {"failure_rate_threshold": 55.0},
        {"seed": 3},
        {"kind": "course"},
        {"kind": "window", "schedule": "slow"},
        {"slow_call_rate_threshold": 100.0},
        {"failure_rate_threshold": 50.0},
    ],
    "saga": [
        {"duplicate": 0.15},
        {"driver": "course"},
        {"orders": 3},
        {"duplicate": 0.3, "driver": "distlab"},
        {"crash_after_step": "none"},
    ],
    "partition": [{"nodes": 6}, {"seed": 3}, {"nodes": 3}, {"store": "ap"}, {"partition": "none"}],
    "use case": [{"seed": 1}, {"stores": ("cp", "ap", "course-quorum")}, {"seed": 2}],
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_explorer_picture_after_moves_is_a_new_figures(name):
    explorer = all_explorers()[name]()
    figures = {id(explorer.last_figure)}
    for values in MOVES[name]:
        before = explorer.last_png
        explorer.update(**values)
        assert explorer.error is None, f"{values}: {explorer.error}"
        assert explorer.last_png != before, values
        fresh = explorer.plot(explorer.last_result, dict(explorer.last_params))
        assert fresh is not explorer.last_figure
        assert explorer.last_png == figure_png(fresh), values
        figures.add(id(explorer.last_figure))
    # kept across the moves that change no layout: fewer figures than pictures
    assert len(figures) < len(MOVES[name]) + 1
