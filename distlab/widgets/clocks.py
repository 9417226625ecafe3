"""The skew explorer (notebook 07): clock offsets, drift and sync against lost writes under
last-writer-wins, the simulation beside the closed form.

>>> from distlab.widgets import skew_explorer
>>> explorer = skew_explorer()  # in a notebook, the cell's result shows it
>>> explorer.update(offset_spread_s=0.01)
>>> explorer.error is None and explorer.last_params["offset_spread_s"]
0.01
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np

from distlab.experiments.clocks import lww_skew
from distlab.plots.clocks import lww_loss_figure
from distlab.widgets.base import Explorer, register

__all__ = ["skew_explorer"]

_STYLE = {"description_width": "170px"}
_LAYOUT = w.Layout(width="440px")

#: The gaps every run simulates (seconds); the chosen write gap is added to them.
GAPS_S = tuple(np.round(np.linspace(0.0, 0.1, 11), 3))

#: Writes start after the longest sync interval offered: every synchronised clock was corrected.
WARMUP_S = 64.0

#: Pairs of writes per point: enough for a loss rate within a few percent of the truth.
PAIRS = 300


def _controls() -> dict[str, w.Widget]:
    def seconds(value, low, high, step, label):
        return w.FloatSlider(value, min=low, max=high, step=step, readout_format=".3f",
                             description=label, style=_STYLE, layout=_LAYOUT)  # fmt: skip

    return {
        "offset_spread_s": seconds(0.02, 0.0, 0.05, 0.001, "offset spread ± (s)"),
        "drift": w.SelectionSlider(
            options=[
                ("0", 0.0),
                ("10 ppm", 1e-5),
                ("50 ppm", 5e-5),
                ("100 ppm", 1e-4),
                ("200 ppm", 2e-4),
                ("500 ppm", 5e-4),
            ],  # fmt: skip
            value=5e-5,
            description="drift up to",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "sync_interval_s": w.Dropdown(
            options=[("never", None), ("1 s", 1.0), ("4 s", 4.0), ("16 s", 16.0), ("64 s", 64.0)],
            value=16.0,
            description="sync every",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "sync_error_s": seconds(0.001, 0.0, 0.02, 0.0005, "sync error ± (s)"),
        "gap_s": seconds(0.01, 0.0, 0.1, 0.002, "write gap (s)"),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


PRESETS = {
    "no sync: offsets spread ±20 ms": {
        "offset_spread_s": 0.02,
        "drift": 0.0,
        "sync_interval_s": None,
        "sync_error_s": 0.001,
        "gap_s": 0.01,
    },
    "NTP on a LAN: sync every 16 s within ±1 ms": {
        "offset_spread_s": 0.02,
        "drift": 5e-5,
        "sync_interval_s": 16.0,
        "sync_error_s": 0.001,
        "gap_s": 0.01,
    },
    "NTP over the internet: ±10 ms": {
        "offset_spread_s": 0.02,
        "drift": 5e-5,
        "sync_interval_s": 16.0,
        "sync_error_s": 0.01,
        "gap_s": 0.01,
    },
    "cheap clocks, no sync: 500 ppm drift": {
        "offset_spread_s": 0.0,
        "drift": 5e-4,
        "sync_interval_s": None,
        "sync_error_s": 0.001,
        "gap_s": 0.01,
    },
}


def _run(offset_spread_s, drift, sync_interval_s, sync_error_s, gap_s, seed):
    return lww_skew(
        skews_s=[offset_spread_s],
        gaps_s=sorted({*GAPS_S, round(gap_s, 6)}),
        pairs=PAIRS,
        drift=drift,
        sync_interval_s=sync_interval_s,
        sync_error_s=sync_error_s,
        duration_s=60.0,
        warmup_s=WARMUP_S,
        seed=seed,
    )


def _plot(result, params, *, figure=None):
    sync = params["sync_interval_s"]
    how = (
        "no sync"
        if sync is None
        else f"sync every {sync:g} s (±{params['sync_error_s'] * 1000:g} ms)"
    )
    return lww_loss_figure(
        result,
        mark_gap_s=round(params["gap_s"], 6),
        title=f"Offsets ±{params['offset_spread_s'] * 1000:g} ms, drift up to "
        f"{params['drift'] * 1e6:g} ppm, {how}",
        figure=figure,
    )


@register("skew")
def skew_explorer() -> Explorer:
    """Move clock offsets, drift and sync: how many causally later writes does last-writer-wins
    throw away, and does the closed form still say? Its spread is the effective one at the
    writes (:func:`~distlab.experiments.clocks.effective_spread`): the offsets plus the drift
    so far without sync, the sync error plus the drift between corrections with it."""
    return Explorer(
        _run,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Clock skew explorer",
        description=(
            "Two writes to one key on two nodes, the second a <i>write gap</i> after the first; "
            "last-writer-wins keeps the one with the larger clock reading. Points: the "
            "simulation; line: the closed form for offsets uniform on ± the effective spread "
            "(no sync: the offsets plus the drift so far; with sync: the sync error plus the "
            "drift between corrections)."
        ),
    )
