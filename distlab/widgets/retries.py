"""The retry explorers (notebook 02): a retry timeline, and the contention race.

>>> from distlab.widgets import retry_timeline_explorer, contention_explorer
>>> retry_timeline_explorer()  # in a notebook  # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.contention import STRATEGIES as CONTENTION_STRATEGIES
from distlab.experiments.contention import contention_runs
from distlab.experiments.retries import STRATEGIES, timeline
from distlab.plots.retries import contention_run_figure, retry_timeline
from distlab.widgets.base import Explorer, register

__all__ = ["contention_explorer", "retry_timeline_explorer"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="420px")
#: The cap dropdown's "no cap" is 0 and not None: a Dropdown whose value is None shows no
#: selection at all, so the control looked empty. :func:`_timeline_run` passes it on as None.
NO_CAP = 0.0
_CAPS = [("no cap", NO_CAP), ("1 s", 1.0), ("2 s", 2.0), ("4 s", 4.0), ("8 s", 8.0)]


def _timeline_controls() -> dict[str, w.Widget]:
    return {
        "strategy": w.Dropdown(
            options=STRATEGIES,
            value="exponential",
            description="backoff",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "base_s": w.FloatSlider(
            1.0,
            min=0.1,
            max=2.0,
            step=0.1,
            readout_format=".1f",
            description="base (s)",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "cap_s": w.Dropdown(
            options=_CAPS, value=NO_CAP, description="cap", style=_STYLE, layout=_LAYOUT
        ),
        "max_attempts": w.IntSlider(
            3, min=1, max=8, description="attempts (in all)", style=_STYLE, layout=_LAYOUT
        ),
        "clients": w.IntSlider(
            5, min=1, max=12, description="clients", style=_STYLE, layout=_LAYOUT
        ),
        "outage_s": w.FloatSlider(
            5.0,
            min=0.0,
            max=10.0,
            step=0.5,
            readout_format=".1f",
            description="service down for (s)",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "budget": w.Checkbox(
            False, description="retry budget (10 tokens, 0.1)", style=_STYLE, layout=_LAYOUT
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


TIMELINE_PRESETS = {
    "course text: 3 attempts, 1 s, no jitter": {
        "strategy": "exponential",
        "base_s": 1.0,
        "cap_s": NO_CAP,
        "max_attempts": 3,
        "budget": False,
    },
    "recommended: full jitter, cap, budget": {
        "strategy": "full",
        "base_s": 0.5,
        "cap_s": 4.0,
        "max_attempts": 6,
        "budget": True,
    },
    "full jitter without a budget": {
        "strategy": "full",
        "base_s": 0.5,
        "cap_s": 4.0,
        "max_attempts": 6,
        "budget": False,
    },
    "no backoff: retry at once": {
        "strategy": "none",
        "base_s": 1.0,
        "cap_s": NO_CAP,
        "max_attempts": 6,
        "budget": False,
    },
}


def _timeline_run(*, cap_s, **params):
    return timeline(cap_s=None if cap_s == NO_CAP else cap_s, **params)


def _timeline_plot(result, params, *, figure=None):
    cap = "no cap" if params["cap_s"] in (None, NO_CAP) else f"cap {params['cap_s']:g} s"
    budget = ", budget" if params["budget"] else ""
    title = (
        f"{params['clients']} clients, {params['strategy']} backoff from "
        f"{params['base_s']:g} s ({cap}), {params['max_attempts']} attempts{budget}; "
        f"service down for {params['outage_s']:g} s"
    )
    return retry_timeline(result, title=title, figure=figure)


@register("retry timeline")
def retry_timeline_explorer() -> Explorer:
    """Clients retrying against a service that is down for a while: attempts, waits and load."""
    return Explorer(
        _timeline_run,
        _timeline_plot,
        _timeline_controls(),
        presets=TIMELINE_PRESETS,
        title="Retry timeline explorer",
        description=(
            "Each lane is a client; each bar an attempt, coloured by its outcome; dotted lines "
            "are the waits between attempts; ✕ marks a call given up. Below: the load the "
            "attempts put on the service. The shaded period is the outage."
        ),
    )


def _contention_controls() -> dict[str, w.Widget]:
    return {
        "clients": w.IntSlider(
            100, min=10, max=200, step=10, description="clients", style=_STYLE, layout=_LAYOUT
        ),
        "strategies": w.SelectMultiple(
            options=CONTENTION_STRATEGIES,
            value=CONTENTION_STRATEGIES,
            rows=5,
            description="strategies shown",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


CONTENTION_PRESETS = {
    "all five strategies, 100 clients": {"clients": 100, "strategies": CONTENTION_STRATEGIES},
    "no jitter against full jitter": {"clients": 100, "strategies": ("exponential", "full")},
    "the three jitters": {"clients": 100, "strategies": ("full", "equal", "decorrelated")},
}


def _contention_plot(runs, params, *, figure=None):
    return contention_run_figure(runs, figure=figure)


@register("contention")
def contention_explorer() -> Explorer:
    """The AWS contention experiment, one run per strategy at the chosen number of clients."""
    return Explorer(
        contention_runs,
        _contention_plot,
        _contention_controls(),
        presets=CONTENTION_PRESETS,
        title="Contention explorer",
        description=(
            "Clients update one record with optimistic concurrency and back off after each "
            "conflict. Left: how many are done as time goes on (log scale); right: how many "
            "write attempts it took. Select several strategies with Ctrl or Shift."
        ),
    )
