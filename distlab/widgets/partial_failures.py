"""The partial-failure explorer (notebook 01): services A-D seen from a caller with a timeout.

>>> from distlab.widgets import partial_failure_explorer
>>> explorer = partial_failure_explorer()  # in a notebook, the cell's result shows it
>>> explorer.apply_preset("D dead instead of slow")
>>> explorer.last_params["d_state"]
'down'
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.challenges import D_STATES, partial_failures
from distlab.plots.challenges import partial_failure_figure
from distlab.widgets.base import Explorer, register

__all__ = ["partial_failure_explorer"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="420px")


def _controls() -> dict[str, w.Widget]:
    return {
        "d_state": w.Dropdown(
            options=D_STATES, value="slow", description="service D is", style=_STYLE, layout=_LAYOUT
        ),
        "slow_factor": w.FloatSlider(
            40, min=1, max=100, step=1, description="D slower by (×)", style=_STYLE, layout=_LAYOUT
        ),
        "timeout_s": w.FloatSlider(
            1.0,
            min=0.1,
            max=3.0,
            step=0.1,
            readout_format=".1f",
            description="caller timeout (s)",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "workers": w.IntSlider(
            4, min=1, max=16, description="caller workers", style=_STYLE, layout=_LAYOUT
        ),
        "rate_per_s": w.FloatSlider(
            16, min=2, max=40, step=1, description="requests per s", style=_STYLE, layout=_LAYOUT
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


PRESETS = {
    "course text: A up, B down, C up, D slow": {
        "d_state": "slow",
        "slow_factor": 40,
        "timeout_s": 1.0,
        "workers": 4,
        "rate_per_s": 16,
    },
    "D dead instead of slow": {
        "d_state": "down",
        "slow_factor": 40,
        "timeout_s": 1.0,
        "workers": 4,
        "rate_per_s": 16,
    },
    "D slow, short timeout": {
        "d_state": "slow",
        "slow_factor": 40,
        "timeout_s": 0.3,
        "workers": 4,
        "rate_per_s": 16,
    },
    "D healthy": {
        "d_state": "up",
        "slow_factor": 40,
        "timeout_s": 1.0,
        "workers": 4,
        "rate_per_s": 16,
    },
}


def _plot(result, params, *, figure=None):
    title = (
        f"Caller with {params['workers']} workers and a {params['timeout_s']:g} s timeout; "
        f"D is {params['d_state']}"
    )
    return partial_failure_figure(result, title=title, timeout_s=params["timeout_s"], figure=figure)


@register("partial failures")
def partial_failure_explorer() -> Explorer:
    """Make D slow or dead and watch what happens to the calls to the healthy A and C."""
    return Explorer(
        partial_failures,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Partial failure explorer",
        description=(
            "One lane per service: every request is a point at its arrival time, as high as "
            "the user waited, coloured by outcome. Compare A and C when D is slow with when D "
            "is down."
        ),
    )
