"""The network explorer (notebooks 00 and 01): loss, latency and partitions, as a message diagram.

>>> from distlab.widgets import network_explorer
>>> explorer = network_explorer()  # in a notebook, the cell's result shows it
>>> explorer.update(loss=0.3)
>>> explorer.error is None and explorer.last_params["loss"]
0.3
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.network import LATENCY_SHAPES, PARTITION_SHAPES, message_exchange
from distlab.plots.network import exchange_figure
from distlab.widgets.base import Explorer, register

__all__ = ["network_explorer"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="420px")


def _controls() -> dict[str, w.Widget]:
    return {
        "nodes": w.IntSlider(3, min=2, max=6, description="nodes", style=_STYLE, layout=_LAYOUT),
        "messages": w.IntSlider(
            30, min=5, max=120, step=5, description="messages", style=_STYLE, layout=_LAYOUT
        ),
        "latency": w.Dropdown(
            options=LATENCY_SHAPES,
            value="exponential",
            description="latency shape",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "mean_latency_s": w.FloatSlider(
            0.05,
            min=0.005,
            max=0.3,
            step=0.005,
            readout_format=".3f",
            description="mean latency (s)",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "loss": w.FloatSlider(
            0.1,
            min=0.0,
            max=0.6,
            step=0.02,
            readout_format=".2f",
            description="loss (per message)",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "partition": w.Dropdown(
            options=PARTITION_SHAPES,
            value="none",
            description="partition at 0.5 s",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


PRESETS = {
    "default: 10% loss, exponential latency": {
        "nodes": 3,
        "messages": 30,
        "latency": "exponential",
        "mean_latency_s": 0.05,
        "loss": 0.1,
        "partition": "none",
    },
    "a quiet LAN: constant 5 ms, no loss": {
        "nodes": 3,
        "messages": 30,
        "latency": "constant",
        "mean_latency_s": 0.005,
        "loss": 0.0,
        "partition": "none",
    },
    "heavy tail: Pareto latency reorders messages": {
        "nodes": 3,
        "messages": 60,
        "latency": "pareto",
        "mean_latency_s": 0.1,
        "loss": 0.0,
        "partition": "none",
    },
    "partition: a majority and a minority for 0.5 s": {
        "nodes": 5,
        "messages": 60,
        "latency": "exponential",
        "mean_latency_s": 0.03,
        "loss": 0.0,
        "partition": "split",
    },
}


#: One size for any number of nodes: the picture keeps its place while the nodes slider moves,
#: and only the node lines and the messages are redrawn.
FIGSIZE = (9.0, 3.4)


def _plot(result, params, *, figure=None):
    return exchange_figure(result, title=_title(params), figsize=FIGSIZE, figure=figure)


def _title(params: dict) -> str:
    cut = "" if params["partition"] == "none" else f", {params['partition']} partition"
    return (
        f"{params['messages']} messages among {params['nodes']} nodes: "
        f"{params['latency']} latency (mean {params['mean_latency_s'] * 1000:g} ms), "
        f"{params['loss']:.0%} loss{cut}"
    )


@register("network")
def network_explorer() -> Explorer:
    """Move loss, latency and partition controls; see every message's fate and the statistics."""
    return Explorer(
        message_exchange,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Network explorer",
        description=(
            "Each arrow is a message from its sender's line to its receiver's, drawn from when it "
            "was sent to when it arrived; an ✕ is a message that never arrived."
        ),
    )
