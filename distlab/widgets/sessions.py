"""The session-guarantee explorer (notebook 05): how a client reads from a primary/replica store,
which of Terry's guarantees it enforces, and what a fault does to both -> a small run's
timeline, the sessions violating each guarantee and the price paid (waits, errors, latency).

>>> from distlab.widgets.sessions import session_explorer
>>> ex = session_explorer()  # in a notebook, the cell's result shows it
>>> ex.apply_preset("session token: read-your-writes")
>>> int(ex.last_result.summary.loc["guaranteed", "ryw_violations"])
0
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.read_routing import FAULTS, ON_BEHIND, ROUTINGS, read_routing
from distlab.plots.sessions import session_timeline
from distlab.sessions import GUARANTEES
from distlab.widgets.base import Explorer, register

__all__ = ["PRESETS", "RUN", "session_explorer"]

_STYLE = {"description_width": "150px"}
_LAYOUT = w.Layout(width="400px")
_BOX = w.Layout(width="200px")
#: The small run every change simulates: few clients and cycles, so the timeline is readable
#: and a change is quick; the fault starts after a few cycles and lasts about as many.
RUN = {"clients": 3, "cycles": 6, "think_s": 0.05, "fault_at_s": 0.6, "fault_s": 0.8}
_ROUTING_LABELS = {
    "primary": "read from the primary",
    "any": "any replica",
    "sticky": "sticky to one replica",
    "guaranteed": "guaranteed (checked below)",
}
_FAULT_LABELS = {
    "none": "none",
    "replica-cut": "replica cut from the primary",
    "replica-isolated": "replica isolated",
    "primary-crash": "primary crash (failover)",
}
#: Checked at first (with routing "guaranteed"): the two a session reading its own key can break.
_DEFAULT_ON = ("read_your_writes", "monotonic_reads")
_BEHIND_LABELS = {
    "wait": "wait for it",
    "error": "answer an error",
    "primary": "ask the primary",
}


def _controls() -> dict[str, w.Widget]:
    def dropdown(labels, value, description):
        return w.Dropdown(options=[(label, key) for key, label in labels.items()], value=value,
                          description=description, style=_STYLE, layout=_LAYOUT)  # fmt: skip

    controls: dict[str, w.Widget] = {
        "routing": dropdown(
            {r: _ROUTING_LABELS[r] for r in ROUTINGS}, "guaranteed", "reads go to"
        ),  # fmt: skip
    }
    for g in GUARANTEES:
        controls[g] = w.Checkbox(g in _DEFAULT_ON, description=g.replace("_", " "),
                                 indent=False, layout=_BOX)  # fmt: skip
    controls["on_behind"] = dropdown({b: _BEHIND_LABELS[b] for b in ON_BEHIND}, "wait",
                                     "replica behind")  # fmt: skip
    controls["lag_s"] = w.FloatSlider(0.1, min=0.0, max=0.5, step=0.02, readout_format=".2f",
                                      description="replication lag (s)", style=_STYLE,
                                      layout=_LAYOUT)  # fmt: skip
    controls["fault"] = dropdown({f: _FAULT_LABELS[f] for f in FAULTS}, "none", "fault")
    controls["seed"] = w.IntSlider(0, min=0, max=50, description="seed", style=_STYLE,
                                   layout=_LAYOUT)  # fmt: skip
    return controls


def _guarantees_on(**checked: bool) -> dict[str, bool]:
    return {g: g in checked for g in GUARANTEES}


_CALM = {"on_behind": "wait", "lag_s": 0.1, "fault": "none"}
PRESETS = {
    "course: read from the primary": {**_CALM, "routing": "primary", **_guarantees_on()},
    "read any replica": {**_CALM, "routing": "any", **_guarantees_on()},
    "sticky": {**_CALM, "routing": "sticky", **_guarantees_on()},
    "session token: read-your-writes": {
        **_CALM, "routing": "guaranteed", **_guarantees_on(read_your_writes=True),
    },
    "all four under failover": {
        **_CALM, "routing": "guaranteed", "fault": "primary-crash",
        **{g: True for g in GUARANTEES},
    },
    # seed 5: the failover loses an acknowledged write in both runs (seed 0 loses none)
    "course under failover (seed 5)": {
        **_CALM, "routing": "primary", "fault": "primary-crash", "seed": 5, **_guarantees_on(),
    },
    "session token under failover (seed 5)": {
        **_CALM, "routing": "guaranteed", "fault": "primary-crash", "seed": 5,
        **_guarantees_on(read_your_writes=True),
    },
}  # fmt: skip


def _run(routing, read_your_writes, monotonic_reads, writes_follow_reads, monotonic_writes,
         on_behind, lag_s, fault, seed):  # fmt: skip
    checked = dict(zip(GUARANTEES, (read_your_writes, monotonic_reads, writes_follow_reads,
                                    monotonic_writes)))  # fmt: skip
    chosen = [g for g, on in checked.items() if on]
    if routing == "guaranteed" and not chosen:
        raise ValueError(
            "routing 'guaranteed' enforces the guarantees checked, and none is: check at least "
            "one, or choose another routing"
        )
    return read_routing(routing, guarantees=chosen or GUARANTEES, on_behind=on_behind,
                        lag_s=lag_s, fault=fault, seed=seed, **RUN)  # fmt: skip


def _title(params) -> str:
    routing = params["routing"]
    if routing == "guaranteed":
        on = [g for g in GUARANTEES if params[g]]
        how = "guaranteed: " + (", ".join(on) if len(on) < 4 else "all four")
        how += f"; behind: {_BEHIND_LABELS[params['on_behind']]}"
    else:
        how = _ROUTING_LABELS[routing]
        if any(params[g] for g in GUARANTEES):
            how += " (the guarantees checked are not enforced)"
    fault = "" if params["fault"] == "none" else f", {_FAULT_LABELS[params['fault']]}"
    return f"Reads {how}; lag {params['lag_s']:g} s{fault}"


def _plot(result, params, figure=None):
    return session_timeline(result, title=_title(params), figure=figure)


@register("sessions")
def session_explorer() -> Explorer:
    """Choose how a client reads (primary, any replica, sticky, or with session guarantees
    enforced), what a replica that is behind does, the replication lag and a fault; see a small
    run's timeline, the sessions violating each guarantee and the price paid.

    >>> ex = session_explorer()
    >>> ex.update(routing="guaranteed", read_your_writes=True, fault="replica-cut")
    >>> ex.error is None, int(ex.last_result.summary["ryw_violations"].iloc[0])
    (True, 0)
    >>> ex.update(read_your_writes=False, monotonic_reads=False)
    >>> ex.error.startswith("routing 'guaranteed' enforces the guarantees checked")
    True
    """
    return Explorer(
        _run,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Session-guarantee explorer",
        description=(
            f"{RUN['clients']} clients each write their own key on the primary, then read it "
            f"back twice, {RUN['think_s'] * 1000:g} ms apart, {RUN['cycles']} times. Lanes: the "
            "primary (thick) and its replicas; ticks: a write applied, joined to where the "
            "primary took it; dots: reads on the node that answered, green fresh, blue stale. "
            "The guarantees checked are enforced when reads go <i>guaranteed</i>. "
            "<b>What to look for:</b> reading any replica, a client often misses the write it "
            "just made (rings: the first violation of a guarantee per session); sticky reads "
            "never go back in time but still miss their own writes; a session token "
            "(<i>guaranteed</i>) never misses them, and pays in waits, or in errors when the "
            "replica it needs is cut off. Under a primary crash, reading from the primary "
            "loses the acknowledged writes the promoted replica never received."
        ),
    )
