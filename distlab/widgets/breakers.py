"""The circuit breaker explorer (notebook 03): settings and a dependency's schedule -> states.

>>> from distlab.widgets import breaker_explorer
>>> breaker_explorer()  # in a notebook  # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as w

from distlab.breaker import exponential_wait
from distlab.experiments.breakers import SCHEDULES, transitions
from distlab.plots.breakers import breaker_timeline
from distlab.widgets.base import Explorer, register

__all__ = ["breaker_explorer"]

_STYLE = {"description_width": "170px"}
_LAYOUT = w.Layout(width="420px")
_KINDS = [("sliding window (resilience4j)", "window"), ("course text: 5 in a row", "course")]


def _controls() -> dict[str, w.Widget]:
    def slider(cls, value, low, high, step, label, fmt=None):
        extra = {"readout_format": fmt} if fmt else {}
        return cls(
            value,
            min=low,
            max=high,
            step=step,
            description=label,
            style=_STYLE,
            layout=_LAYOUT,
            **extra,
        )

    return {
        "kind": w.Dropdown(
            options=_KINDS, value="window", description="breaker", style=_STYLE, layout=_LAYOUT
        ),
        "schedule": w.Dropdown(
            options=SCHEDULES,
            value="outage",
            description="dependency",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "failure_rate_threshold": slider(
            w.FloatSlider, 50, 5, 100, 5, "failure threshold (%)", ".0f"
        ),
        "slow_call_rate_threshold": slider(
            w.FloatSlider, 80, 5, 100, 5, "slow-call threshold (%)", ".0f"
        ),
        "slow_call_duration_s": slider(w.FloatSlider, 2.0, 0.5, 5.0, 0.5, "slow above (s)", ".1f"),
        "window_type": w.Dropdown(
            options=("count", "time"),
            value="count",
            description="window",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "window_size": slider(w.IntSlider, 20, 1, 100, 1, "window (calls or s)"),
        "minimum_calls": slider(w.IntSlider, 10, 1, 100, 1, "minimum calls"),
        "wait_in_open_s": slider(w.FloatSlider, 5.0, 1.0, 60.0, 1.0, "wait in open (s)", ".0f"),
        "growing_wait": w.Checkbox(
            True, description="wait ×2 per opening in a row", style=_STYLE, layout=_LAYOUT
        ),
        "permitted_calls_in_half_open": slider(w.IntSlider, 3, 1, 20, 1, "half-open probes"),
        "rate_per_s": slider(w.FloatSlider, 2.0, 0.5, 10.0, 0.5, "calls per second", ".1f"),
        "seed": slider(w.IntSlider, 0, 0, 50, 1, "seed"),
    }


PRESETS = {
    "course text (5 consecutive, 60 s)": {"kind": "course", "wait_in_open_s": 60.0},
    "recommended": {
        "kind": "window",
        "failure_rate_threshold": 50.0,
        "slow_call_rate_threshold": 80.0,
        "slow_call_duration_s": 2.0,
        "window_type": "count",
        "window_size": 20,
        "minimum_calls": 10,
        "wait_in_open_s": 5.0,
        "growing_wait": True,
        "permitted_calls_in_half_open": 3,
    },
    "Hystrix's old defaults (10 s window, 50 %, 20 calls)": {
        "kind": "window",
        "failure_rate_threshold": 50.0,
        "slow_call_rate_threshold": 100.0,
        "window_type": "time",
        "window_size": 10,
        "minimum_calls": 20,
        "wait_in_open_s": 5.0,
        "growing_wait": False,
        "permitted_calls_in_half_open": 1,
    },
}


def _run(
    kind,
    schedule,
    failure_rate_threshold,
    slow_call_rate_threshold,
    slow_call_duration_s,
    window_type,
    window_size,
    minimum_calls,
    wait_in_open_s,
    growing_wait,
    permitted_calls_in_half_open,
    rate_per_s,
    seed,
):
    if kind == "course":
        breaker = {"preset": "course", "wait_in_open": wait_in_open_s}
    else:
        breaker = {
            "failure_rate_threshold": failure_rate_threshold,
            "slow_call_rate_threshold": slow_call_rate_threshold,
            "slow_call_duration": slow_call_duration_s,
            "window_type": window_type,
            "window_size": window_size,
            "minimum_calls": minimum_calls,
            "wait_in_open": (
                exponential_wait(wait_in_open_s, 2.0, 8 * wait_in_open_s)
                if growing_wait
                else wait_in_open_s
            ),
            "permitted_calls_in_half_open": permitted_calls_in_half_open,
        }
    return transitions(breaker=breaker, schedule=schedule, rate_per_s=rate_per_s, seed=seed)


def _plot(result, params, figure=None):
    if params["kind"] == "course":
        title = f"The course's breaker (5 failures in a row, {params['wait_in_open_s']:g} s open)"
    else:
        unit = "s" if params["window_type"] == "time" else "calls"
        title = (
            f"Window of {params['window_size']} {unit}"
            f", opens at {params['failure_rate_threshold']:g}% failures or "
            f"{params['slow_call_rate_threshold']:g}% slow, "
            f"{params['permitted_calls_in_half_open']} half-open probes"
        )
    # the figure shown last is updated in place (see breaker_timeline)
    return breaker_timeline(result, title=title, compact=True, figure=figure)


@register("circuit breaker")
def breaker_explorer() -> Explorer:
    """Move a breaker's settings and the dependency's schedule; see its states and every call."""
    return Explorer(
        _run,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Circuit breaker explorer",
        description=(
            "Three clients call a dependency through one breaker (2 calls per second in all, by "
            "default). Top: each call (latency against "
            "time; rejected calls at zero), the breaker's OPEN and HALF_OPEN periods shaded, "
            "transitions as triangles, the dependency's health along the top. Bottom: the "
            "failure and slow-call rates the breaker saw (none for the course's breaker, which "
            "counts failures in a row)."
        ),
    )
