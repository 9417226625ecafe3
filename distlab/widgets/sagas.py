"""The saga explorer (notebook 04): where the order saga fails or crashes -> its timeline.

>>> from distlab.widgets.sagas import saga_explorer
>>> saga_explorer()  # in a notebook  # doctest: +SKIP
"""

from __future__ import annotations

import ipywidgets as w

from distlab.experiments.sagas import saga_run
from distlab.plots.sagas import saga_timeline
from distlab.widgets.base import Explorer, register

__all__ = ["PRESETS", "saga_explorer"]

_STYLE = {"description_width": "170px"}
_LAYOUT = w.Layout(width="420px")
#: "none" and not None in the dropdowns: a Dropdown whose value is None shows no selection.
NONE = "none"
_STEPS = ("create_order", "reserve_stock", "charge_payment")
_DRIVERS = [("distlab: durable log", "distlab"), ("course text: no saga log", "course")]


def _controls() -> dict[str, w.Widget]:
    def dropdown(options, value, label):
        return w.Dropdown(
            options=options, value=value, description=label, style=_STYLE, layout=_LAYOUT
        )

    def slider(cls, value, low, high, step, label, fmt=None):
        extra = {"readout_format": fmt} if fmt else {}
        return cls(value, min=low, max=high, step=step, description=label, style=_STYLE,
                   layout=_LAYOUT, **extra)  # fmt: skip

    return {
        "driver": dropdown(_DRIVERS, "distlab", "orchestrator"),
        "idempotency": w.Checkbox(
            True, description="idempotency keys (distlab)", style=_STYLE, layout=_LAYOUT
        ),
        "fail_step": dropdown(
            [(NONE, NONE), *[(f"{s} refused", s) for s in _STEPS]],
            "charge_payment",
            "where it fails",
        ),  # fmt: skip
        "crash_after_step": dropdown(
            [(NONE, NONE), *[(f"after {s}", s) for s in _STEPS]],
            "reserve_stock",
            "where it crashes",
        ),  # fmt: skip
        "fail_compensation_step": dropdown(
            [(NONE, NONE), *[(f"undo of {s}", s) for s in _STEPS]], NONE, "failing compensation"
        ),
        "duplicate": slider(w.FloatSlider, 0.1, 0.0, 0.5, 0.05, "duplicate rate", ".2f"),
        "loss": slider(w.FloatSlider, 0.0, 0.0, 0.3, 0.05, "loss", ".2f"),
        "orders": slider(w.IntSlider, 1, 1, 3, 1, "orders"),
        "seed": slider(w.IntSlider, 0, 0, 50, 1, "seed"),
    }


_CALM = {"duplicate": 0.0, "loss": 0.0, "orders": 1, "fail_compensation_step": NONE}
PRESETS = {
    "course text's saga": {
        **_CALM, "driver": "course", "idempotency": False, "fail_step": NONE,
        "crash_after_step": "reserve_stock",
    },
    "durable log and idempotency keys": {
        **_CALM, "driver": "distlab", "idempotency": True, "fail_step": NONE,
        "crash_after_step": "reserve_stock", "duplicate": 0.2,
    },
    "no idempotency keys": {
        **_CALM, "driver": "distlab", "idempotency": False, "fail_step": NONE,
        "crash_after_step": NONE, "duplicate": 0.3, "orders": 3,
    },
    "failing compensation": {
        **_CALM, "driver": "distlab", "idempotency": True, "fail_step": "charge_payment",
        "crash_after_step": NONE, "fail_compensation_step": "reserve_stock",
    },
}  # fmt: skip


def _step(value: str) -> str | None:
    return None if value == NONE else value


def _run(driver, idempotency, fail_step, crash_after_step, fail_compensation_step, duplicate,
         loss, orders, seed):  # fmt: skip
    return saga_run(
        driver, orders=orders, idempotency=idempotency, fail_step=_step(fail_step),
        fail_compensation_step=_step(fail_compensation_step),
        crash_after_step=_step(crash_after_step), duplicate=duplicate, loss=loss, seed=seed,
    )  # fmt: skip


def _title(params) -> str:
    who = "The course's saga" if params["driver"] == "course" else "distlab's saga"
    keys = "" if params["driver"] == "course" else (
        ", idempotency keys" if params["idempotency"] else ", no idempotency keys"
    )  # fmt: skip
    faults = [
        f"{params['fail_step']} refused" if params["fail_step"] != NONE else "",
        f"crash after {params['crash_after_step']}" if params["crash_after_step"] != NONE else "",
        f"undo of {params['fail_compensation_step']} fails"
        if params["fail_compensation_step"] != NONE else "",
    ]  # fmt: skip
    faults = [f for f in faults if f]
    return f"{who}{keys}: " + (", ".join(faults) if faults else "no fault")


def _plot(result, params, figure=None):
    # the figure shown last is updated in place (see saga_timeline)
    return saga_timeline(result, title=_title(params), compact=True, figure=figure)


@register("saga")
def saga_explorer() -> Explorer:
    """Choose the orchestrator and where the order saga fails, crashes or duplicates; see every
    request, the log's writes, the crashes and how each order ends.

    >>> ex = saga_explorer()
    >>> ex.apply_preset("failing compensation")
    >>> ex.last_result.end_states["end_state"].tolist()
    ['stuck']
    """
    return Explorer(
        _run,
        _plot,
        _controls(),
        presets=PRESETS,
        title="Saga explorer",
        description=(
            "An order saga: create the order (PENDING), reserve stock, charge the card, complete "
            "the order. Each bar is one request from the orchestrator to a participant, from "
            "sent to answered, coloured by what the orchestrator saw; hatched bars undo a step; "
            "hollow bars took no effect. <b>What to look for:</b> with the course's saga, a crash "
            "between steps leaves the order PENDING with stock held (<i>half_done</i>), nobody "
            "comes back for it; with distlab's, the restart reads the log (the ticks on top) and "
            "carries on. Without idempotency keys a duplicated request takes effect twice (a red "
            "X: charged twice); with them the duplicate is answered from the record (a ring). A "
            "compensation that keeps failing leaves distlab's saga <i>stuck</i>, visible to an "
            "operator; the course's tries it once and stops there: the order stays PENDING "
            "(<i>half_done</i>), and nobody is told which effects are still in place."
        ),
    )
