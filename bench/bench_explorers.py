"""How fast each explorer reacts to a control change (simulation + figure + PNG), default settings.

Every explorer registered in :func:`distlab.widgets.all_explorers` is built (which runs it once,
untimed: imports and caches warm up), then one of its controls is changed ``changes`` times through
``Explorer.update`` and each change is timed with ``time.perf_counter`` (the wall time of the whole
update: experiment, plot and PNG render). The control is the first numeric slider (a control named
``seed`` last), else the first dropdown; its values walk away from the default by one step at a
time (at most ``_SPAN`` steps, staying near the default settings) and back, so the run starts and
ends at the defaults. The explorer's own ``timings`` split each run into ``experiment_s`` (the
simulation) and ``plot_s + render_s`` (drawing). A value met again is answered from the explorer's
caches (its picture, or its result), so the median of the changes to values not seen before
(``median_new_total_s``) is reported too: that is what a first move costs; the split into
simulation and drawing is that of these first visits. A change the explorer
answers with an error message instead of a figure is counted and reported, but not timed.

    python bench/bench_explorers.py            # prints one line per explorer
    python bench/bench_explorers.py saga       # only the explorers named

Budget (DESIGN.md): median update in the kernel <= 60 ms, new values included (a person feels
the browser's 150 ms, which includes this). The split into simulation and drawing is reported, not
judged: since figures are updated in place, drawing is often the smaller part.
"""

from __future__ import annotations

import contextlib
import io
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

BUDGET_TOTAL_S = 0.060
_SPAN = 5  # how many steps away from the default a slider walks


def _is_numeric_slider(control: Any) -> bool:
    import ipywidgets as widgets

    return isinstance(control, (widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider))


def _is_dropdown(control: Any) -> bool:
    import ipywidgets as widgets

    return isinstance(control, (widgets.Dropdown, widgets.SelectionSlider, widgets.ToggleButtons,
                                widgets.RadioButtons))  # fmt: skip


def choose_control(controls: dict[str, Any]) -> str | None:
    """The control to move: the first numeric slider (``seed`` last), else the first dropdown."""
    names = sorted(controls, key=lambda n: n == "seed")  # stable: keeps the explorer's order
    for name in names:
        if _is_numeric_slider(controls[name]):
            return name
    for name in names:
        if _is_dropdown(controls[name]) and len(controls[name].options) > 1:
            return name
    return None


def _neighbourhood(control: Any) -> tuple[list[Any], int]:
    """Allowed values near the control's default, and the default's index among them."""
    if _is_dropdown(control):
        values = list(control._options_values)
        return values, values.index(control.value)
    import ipywidgets as widgets

    value, step = control.value, control.step
    # Walk in the slider's own coordinate: the exponent for a log slider (min/max are exponents).
    log = isinstance(control, widgets.FloatLogSlider)
    position = math.log(value, control.base) if log else value
    eps = 1e-9 * max(1.0, abs(control.max - control.min))
    below = [position - k * step for k in range(_SPAN, 0, -1)]
    above = [position + k * step for k in range(1, _SPAN + 1)]
    below = [p for p in below if p >= control.min - eps]
    above = [p for p in above if p <= control.max + eps]

    def to_value(p: float) -> Any:
        if isinstance(control, widgets.IntSlider):
            return int(round(p))
        v = control.base**p if log else p
        return float(f"{v:.12g}")  # 0.1 + 3 * 0.1 drifts; 12 digits keep the step exact enough

    return [to_value(p) for p in below] + [value] + [to_value(p) for p in above], len(below)


def value_walk(control: Any, changes: int) -> tuple[list[Any], list[Any]]:
    """``changes`` values to set (away from the default and back), then the untimed way home."""
    values, d = _neighbourhood(control)
    if len(values) < 2:
        return [], []
    up = values[d + 1 :]
    down = values[:d][::-1]
    # There and back on the side with room (both sides: up, back, down, back).
    cycle: list[Any] = []
    if up:
        cycle += up + up[-2::-1] + [values[d]]
    if down:
        cycle += down + down[-2::-1] + [values[d]]
    walk = (cycle * (changes // len(cycle) + 1))[:changes]
    home: list[Any] = []
    if walk and walk[-1] != values[d]:
        home = [values[d]]
    return walk, home


def bench_explorer(factory: Callable[[], Any], changes: int = 20) -> dict[str, Any]:
    """Build one explorer and time ``changes`` updates; figures in seconds."""
    # Outside IPython, ipywidgets' interactive_output "clears" its Output by printing terminal
    # escape codes on stdout: keep them out of the table.
    with contextlib.redirect_stdout(io.StringIO()):
        return _bench_explorer(factory, changes)


def _bench_explorer(factory: Callable[[], Any], changes: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    explorer = factory()
    build_s = time.perf_counter() - t0
    name = choose_control(explorer.controls)
    if name is None:
        raise ValueError(f"no numeric slider or dropdown among controls {list(explorer.controls)}")
    control = explorer.controls[name]
    default = control.value
    walk, home = value_walk(control, changes)
    if not walk:
        raise ValueError(f"control {name!r} has a single allowed value")
    totals, experiments, drawings, errors, new_totals = [], [], [], [], []
    seen = {repr(default)}
    for value in walk:
        t = time.perf_counter()
        explorer.update(**{name: value})
        elapsed = time.perf_counter() - t
        first_visit = repr(value) not in seen
        seen.add(repr(value))
        if explorer.error:
            # Shown as a message, not a figure: neither its time nor explorer.timings (which belong
            # to the last successful run) would describe a real update.
            errors.append(f"{name}={value!r}: {explorer.error}")
            continue
        totals.append(elapsed)
        if first_visit:  # the split of a change answered from a cache would be all zeros
            new_totals.append(elapsed)
            timings = explorer.timings
            experiments.append(timings["experiment_s"])
            drawings.append(timings["plot_s"] + timings["render_s"])
    for value in home:
        explorer.update(**{name: value})
    _close_figures(explorer)
    if not totals:
        raise ValueError(f"every change of {name!r} showed an error, e.g. {errors[0]}")
    med = statistics.median
    return {
        "control": name,
        "default": default,
        "values": sorted({repr(v) for v in walk}),
        "changes": len(walk),
        "timed_changes": len(totals),  # changes that drew a figure (the others showed an error)
        "build_s": build_s,
        "median_total_s": med(totals),
        # Values not shown before: an explorer answers the others from its caches.
        "median_new_total_s": med(new_totals) if new_totals else None,
        "new_changes": len(new_totals),
        "max_total_s": max(totals),
        "median_experiment_s": med(experiments) if experiments else None,
        "median_drawing_s": med(drawings) if drawings else None,
        "errors": errors,
        "back_at_default": control.value == default,
    }


def _close_figures(explorer: Any) -> None:
    try:
        import matplotlib.pyplot as plt

        fig = getattr(explorer, "last_figure", None)
        if fig is not None:
            plt.close(fig)
    except Exception:
        pass


def measure(changes: int = 20, only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{explorer name: figures}`` for every registered explorer; a failure is ``{"error": msg}``.

    >>> figures = measure(changes=4)  # doctest: +SKIP
    """
    from distlab.widgets import all_explorers

    results: dict[str, dict[str, Any]] = {}
    for name, factory in sorted(all_explorers().items()):
        if only and name not in only:
            continue
        try:
            results[name] = bench_explorer(factory, changes)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


if __name__ == "__main__":
    import sys

    # names of explorers to measure (all without), e.g. python bench/bench_explorers.py saga
    for name, fig in measure(only=sys.argv[1:] or None).items():
        if "error" in fig:
            print(f"{name:30} ERROR {fig['error']}")
        else:
            print(
                f"{name:30} {fig['control']:>14} total {1000 * fig['median_total_s']:7.1f} ms  "
                f"new values {1000 * (fig['median_new_total_s'] or 0):7.1f} ms  "
                f"simulation {1000 * (fig['median_experiment_s'] or 0):7.1f} ms  "
                f"drawing {1000 * (fig['median_drawing_s'] or 0):7.1f} ms"
            )
