"""The PBS explorer (notebook 05): N, R, W and a latency model -> how soon a write is visible
(t-visibility) and how many versions old a read can be (k-staleness), the Monte Carlo beside
the closed form, in the spirit of the PBS demo of Bailis et al.

The R and W sliders never go past N: their maximum follows the N slider, and lowering N below
them lowers them with it (the sliders show the new values).

>>> from distlab.widgets import pbs_explorer
>>> explorer = pbs_explorer()  # in a notebook, the cell's result shows it
>>> explorer.update(nodes=5)
>>> explorer.update(read_quorum=2, write_quorum=2)
>>> explorer.error is None, explorer.controls["read_quorum"].max
(True, 5)
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.staleness import RunCache, pbs_staleness
from distlab.pbs import PRESETS as MODELS
from distlab.plots.consistency import pbs_figure
from distlab.widgets.base import Explorer, register

__all__ = ["PRESETS", "TRIALS", "pbs_explorer"]

_STYLE = {"description_width": "120px"}
_LAYOUT = w.Layout(width="330px")
#: Monte Carlo trials per curve: enough for the curve and its 99.9 % point, fast enough to drag.
TRIALS = 20_000
#: The largest N offered.
MAX_NODES = 7


def _controls() -> dict[str, w.Widget]:
    def slider(value, low, high, label):
        return w.IntSlider(value, min=low, max=high, description=label, style=_STYLE,
                           layout=_LAYOUT)  # fmt: skip

    nodes = slider(3, 1, MAX_NODES, "N (replicas)")
    read = slider(1, 1, 3, "R (read quorum)")
    write = slider(1, 1, 3, "W (write quorum)")

    def follow(change):  # R and W at most N: their maximum follows N (lowering them with it)
        for quorum in (read, write):
            quorum.max = change["new"]

    # Observed before the explorer's own observers are added: a run sees R and W already lowered.
    nodes.observe(follow, names="value")
    return {
        "model": w.Dropdown(
            options=list(MODELS),
            value="LNKD-SSD",
            description="latencies",
            style=_STYLE,
            layout=_LAYOUT,
        ),  # fmt: skip
        "nodes": nodes,
        "read_quorum": read,
        "write_quorum": write,
        "seed": slider(0, 0, 50, "seed"),
    }


PRESETS = {
    "LinkedIn SSDs, R = W = 1 (the paper's point)": {
        "model": "LNKD-SSD", "nodes": 3, "read_quorum": 1, "write_quorum": 1,
    },
    "LinkedIn disks, R = W = 1: writes are slow to spread": {
        "model": "LNKD-DISK", "nodes": 3, "read_quorum": 1, "write_quorum": 1,
    },
    "Yammer, R = W = 1: a second-long tail": {
        "model": "YMMR", "nodes": 3, "read_quorum": 1, "write_quorum": 1,
    },
    "Yammer, R = 2, W = 1: read more, stale less": {
        "model": "YMMR", "nodes": 3, "read_quorum": 2, "write_quorum": 1,
    },
    "strict quorum R = W = 2: never stale": {
        "model": "LNKD-DISK", "nodes": 3, "read_quorum": 2, "write_quorum": 2,
    },
}  # fmt: skip


def _run(model, nodes, read_quorum, write_quorum, seed, cache=None):
    return pbs_staleness(
        [model], quorums=[(nodes, read_quorum, write_quorum)], trials=TRIALS, points=80,
        k_max=6, seed=seed, cache=cache,
    )  # fmt: skip


def _plot(result, params, figure=None):
    return pbs_figure(result, figure=figure)


@register("pbs")
def pbs_explorer() -> Explorer:
    """Choose N, R, W and a production latency model: how soon is a write visible to reads,
    how many versions old can a read be, and what latency does a partial quorum save?

    >>> ex = pbs_explorer()
    >>> ex.apply_preset("strict quorum R = W = 2: never stale")
    >>> float(ex.last_result.summary["consistent_at_0"].iloc[0])
    1.0
    """
    # The WARS draws of the (model, N, seed) shown are kept: moving R or W evaluates the new
    # quorum on them (the strict quorum's run, also shown, is kept too): the same numbers.
    cache = RunCache()

    def run(model, nodes, read_quorum, write_quorum, seed):
        return _run(model, nodes, read_quorum, write_quorum, seed, cache=cache)

    return Explorer(
        run,
        _plot,
        _controls(),
        presets=PRESETS,
        title="PBS explorer: how eventual is eventual consistency?",
        description=(
            "N replicas; a write waits for W acknowledgements, a read for R answers (Dynamo's "
            "expanding quorums: the write still reaches every replica, later). <b>Left:</b> the "
            "share of reads started t after the write committed that see it, by Monte Carlo "
            "of the WARS model with the chosen production latencies (solid), above the closed "
            "form 1 - p_s, p_s = C(N-W, R) / C(N, R), for quorums picked at random with no "
            "propagation (dashed); stars mark the paper's figures. <b>Right:</b> the share of "
            "reads at least k versions old, p_s<sup>k</sup>. R + W > N: never stale, and slower "
            "(the title says by how much at the 99.9th percentile)."
        ),
    )
