"""The CAP explorers (notebook 06): a partition against a store, and a use case's consequences.

>>> from distlab.widgets import partition_explorer, use_case_explorer
>>> partition_explorer()  # in a notebook  # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.cap import PARTITIONS, STORES, USE_CASES, compare_use_case, run
from distlab.plots.cap import cap_timeline, use_case_figure
from distlab.widgets.base import Explorer, register

__all__ = ["partition_explorer", "use_case_explorer"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="420px")


#: The anti-entropy periods offered: the store's default, off, or a period in seconds.
_ANTI_ENTROPY = [
    ("the store's default", None),
    ("off", 0.0),
    ("0.05 s", 0.05),
    ("0.1 s", 0.1),
    ("0.25 s", 0.25),
    ("0.5 s", 0.5),
]


def _slider(value: float, low: float, high: float, step: float, label: str) -> w.FloatSlider:
    digits = 1 if step >= 0.1 else 2
    return w.FloatSlider(
        value,
        min=low,
        max=high,
        step=step,
        readout_format=f".{digits}f",
        description=label,
        style=_STYLE,
        layout=_LAYOUT,
    )


def _partition_controls() -> dict[str, w.Widget]:
    return {
        "store": w.Dropdown(
            options=STORES, value="cp", description="store", style=_STYLE, layout=_LAYOUT
        ),
        "nodes": w.IntSlider(5, min=3, max=7, description="nodes", style=_STYLE, layout=_LAYOUT),
        "partition": w.Dropdown(
            options=PARTITIONS,
            value="majority-minority",
            description="partition",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "partition_at_s": _slider(0.5, 0.0, 1.5, 0.1, "partition at (s)"),
        "partition_s": _slider(1.0, 0.2, 2.0, 0.1, "partition lasts (s)"),
        "read_share": _slider(0.5, 0.0, 1.0, 0.1, "share of reads"),
        "loss": _slider(0.0, 0.0, 0.3, 0.05, "message loss"),
        "anti_entropy_s": w.Dropdown(
            options=_ANTI_ENTROPY,
            value=None,
            description="anti-entropy every",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


# Every preset sets every control, so it shows the same run whatever was chosen before it.
_PARTITION_DEFAULTS = {
    "nodes": 5,
    "partition": "majority-minority",
    "partition_at_s": 0.5,
    "partition_s": 1.0,
    "read_share": 0.5,
    "loss": 0.0,
    "anti_entropy_s": None,
    "seed": 0,
}

PARTITION_PRESETS = {
    "course text's CPDatabase": {**_PARTITION_DEFAULTS, "store": "course-quorum"},
    "majority quorum": {**_PARTITION_DEFAULTS, "store": "cp"},
    "AP with LWW": {**_PARTITION_DEFAULTS, "store": "ap"},
    # notebook 06's run: without background repair and with some loss, a write is left
    # half-done and two reads disagree about it
    "quorum overlap without write-back": {
        **_PARTITION_DEFAULTS,
        "store": "cp-no-writeback",
        "partition": "none",
        "read_share": 0.7,
        "loss": 0.15,
        "anti_entropy_s": 0.0,
        "seed": 1,
    },
}


def _partition_plot(result, params, figure=None):
    summary = result.summary.iloc[0]
    title = (
        f"{params['store']} on {params['nodes']} nodes, {params['partition']} partition: "
        f"{summary['verdict']}"
    )
    if "availability_minority" in summary:
        share = summary["availability_minority"]
        title += f"; minority side: {share:.0%} non-error answers"
    return cap_timeline(result, title=title, compact=True, figure=figure)  # updated in place


@register("partition")
def partition_explorer() -> Explorer:
    """A store under a partition: every operation, the partition, and the checker's verdict."""
    return Explorer(
        run,
        _partition_plot,
        _partition_controls(),
        presets=PARTITION_PRESETS,
        title="Partition explorer",
        description=(
            "Clients on both sides of a partition read and write one register. Each bar is an "
            "operation from invocation to answer, coloured by outcome; the title gives the "
            "linearizability checker's verdict on the whole history."
        ),
    )


def _use_case_controls() -> dict[str, w.Widget]:
    return {
        "use_case": w.Dropdown(
            options=list(USE_CASES),
            value="e-commerce inventory",
            description="use case",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "stores": w.SelectMultiple(
            options=STORES,
            value=("cp", "ap"),
            rows=5,
            description="stores",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "partition": w.Dropdown(
            options=PARTITIONS,
            value="majority-minority",
            description="partition",
            style=_STYLE,
            layout=_LAYOUT,
        ),
        "seed": w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE, layout=_LAYOUT),
    }


USE_CASE_PRESETS = {
    "inventory: CP against AP": {"use_case": "e-commerce inventory", "stores": ("cp", "ap")},
    "social media: CP against AP": {"use_case": "social media", "stores": ("cp", "ap")},
    "banking: the course's CPDatabase": {"use_case": "banking", "stores": ("cp", "course-quorum")},
    "banking: all nodes against a majority": {
        "use_case": "banking",
        "stores": ("all-nodes", "cp"),
        "partition": "isolate-one",
    },
}


def _use_case_plot(result, params, figure=None):
    case = USE_CASES[params["use_case"]]
    title = (
        f"{case.name}: the course picks {case.choice} ({case.reason.lower()}); "
        f"{params['partition']} partition"
    )
    # updated in place
    return use_case_figure(result.frame, title=title, compact=True, figure=figure)


@register("use case")
def use_case_explorer() -> Explorer:
    """A use case from the course's table, run on the stores you choose, in the domain's terms."""
    return Explorer(
        compare_use_case,
        _use_case_plot,
        _use_case_controls(),
        presets=USE_CASE_PRESETS,
        title="Use-case explorer",
        description=(
            "The same partition and workload on each store, translated into what it means for "
            "the business. Select several stores with Ctrl or Shift."
        ),
    )
