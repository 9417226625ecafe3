"""The explorer: ipywidgets controls -> experiment -> plot -> PNG, and a registry of explorers.

An :class:`Explorer` is deliberately thin: the experiment (a pure function of its parameters)
and the plot (a pure function of the result) do all the work; the explorer only wires controls
to them, shows the figure, offers presets and turns an invalid combination of settings into a
readable message instead of a traceback.

>>> import ipywidgets as w
>>> from distlab.experiments.network import message_exchange
>>> from distlab.plots import exchange_figure
>>> ex = Explorer(
...     experiment=lambda loss, seed: message_exchange(loss=loss, seed=seed),
...     plot=lambda result, params: exchange_figure(result, title=f"loss={params['loss']}"),
...     controls={"loss": w.FloatSlider(value=0.1, min=0, max=0.5, step=0.05),
...               "seed": w.IntSlider(value=1, min=0, max=50)},
...     presets={"lossless": {"loss": 0.0}, "bad Wi-Fi": {"loss": 0.3}},
...     title="Lossy network",
... )
>>> ex.update(loss=0.2, seed=7)  # in a notebook, ``ex`` shows the controls and the figure
>>> ex.runs, ex.error
(2, None)
"""

from __future__ import annotations

import asyncio
import base64
import html
import importlib
import inspect
import math
import numbers
import pkgutil
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import traitlets
from IPython import get_ipython
from matplotlib.figure import Figure

from distlab._validate import check_int, is_hashable
from distlab.plots.display import figure_png

__all__ = ["Explorer", "all_explorers", "register"]

CUSTOM = "(custom)"  # preset dropdown entry shown when the controls match no preset
#: How long a change from the browser waits for later ones before it runs: key presses and a
#: dragged slider queue changes while a run is drawing; they all arrive within this, and only the
#: last one runs.
COALESCE_S = 0.01
#: How many pictures an explorer keeps by parameters: going back to one is instant.
FRAMES = 8

_WARNING_STYLE = (
    "background:#fff4e0;border-left:4px solid #E69F00;padding:6px 10px;"
    "color:#5a3d00;font-size:13px;line-height:1.4;"
)


class Explorer:
    """Controls that re-run an experiment and redraw its figure on every change.

    Parameters
    ----------
    experiment:
        ``callable(**params) -> result``; ``params`` has one entry per control.
    plot:
        ``callable(result, params) -> matplotlib.figure.Figure``. A plot taking a keyword
        ``figure`` is given the one it returned last (``None`` at first and after an error) and
        may update its artists instead of building a new figure.
    controls:
        ``{name: ipywidgets control}`` (sliders, dropdowns, checkboxes... anything with a
        ``value``). The name is the experiment's keyword argument.
    presets:
        ``{preset name: {control name: value}}``, offered as a "preset" dropdown; choosing one
        sets all its controls at once and runs the experiment once.
    title, description:
        Shown above the controls (description may contain HTML).
    cache:
        Experiment results kept by parameters (least recently used dropped), and the last
        ``FRAMES`` pictures; ``0`` keeps neither. The experiment must be pure (every distlab
        experiment is). After a slider step from the browser the next step is drawn (for a plot
        taking ``figure``: its experiment run) ahead while idle: pressing the key again is quick.

    A number control (slider, bounded text box) refuses a value outside its range with a
    ``ValueError`` naming the control, where ipywidgets alone would clamp it silently
    (``controls["seed"].value = 1000`` would become the slider's maximum).

    Every run calls the experiment with the current values (or takes its result from the cache),
    then the plot, renders the figure to PNG and shows it in an image widget. Changes that come
    from the browser while a run is drawing are coalesced: only the last value runs, so a slider
    dragged or a key held down never queues stale pictures. A ``ValueError``/``TypeError`` from
    the experiment or the plot is shown as a warning message (and kept in :attr:`error`) instead
    of a traceback; the next valid run clears it. Other exceptions are bugs and propagate.

    Attributes for tests and benchmarks: :attr:`controls`, :attr:`widget`, :attr:`last_params`,
    :attr:`last_result`, :attr:`last_figure`, :attr:`last_png` (from the last *successful* run),
    :attr:`runs` (runs, failed ones included), :attr:`cache_hits` (runs answered without the
    experiment: from a result kept, or a picture kept, whose ``timings`` then give no time to
    the experiment or rendering; a plot taking ``figure`` still updates it), :attr:`error`
    (message or ``None``), :attr:`timings` (``experiment_s``, ``plot_s``, ``render_s`` of the
    last successful run). The explorer runs once when it is built.

    >>> import ipywidgets as w
    >>> from distlab.experiments.challenges import clock_order
    >>> from distlab.plots import clock_order_figure
    >>> ex = Explorer(
    ...     lambda skew_s, seed: clock_order(skew_s=skew_s, seed=seed),
    ...     lambda result, params: clock_order_figure(result),
    ...     {"skew_s": w.FloatSlider(value=0.005, min=0, max=0.05, step=0.001),
    ...      "seed": w.IntSlider(value=0, min=0, max=50)},
    ... )
    >>> ex.controls["skew_s"].value = 0.01  # runs the experiment with skew_s=0.01
    >>> ex.runs, ex.last_params
    (2, {'skew_s': 0.01, 'seed': 0})
    >>> ex.controls["seed"].value = 1000
    Traceback (most recent call last):
    ...
    ValueError: controls['seed']: seed=1000 must be between 0 and 50 (the control's range)
    """

    def __init__(
        self,
        experiment: Callable[..., Any],
        plot: Callable[[Any, dict[str, Any]], Figure],
        controls: Mapping[str, widgets.Widget],
        *,
        presets: Mapping[str, Mapping[str, Any]] | None = None,
        title: str | None = None,
        description: str | None = None,
        cache: int = 32,
    ) -> None:
        if not callable(experiment):
            raise TypeError(f"experiment={experiment!r} must be callable")
        if not callable(plot):
            raise TypeError(f"plot={plot!r} must be callable")
        _check_controls(controls)
        for name, text in (("title", title), ("description", description)):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"{name}={text!r} must be a string or None")
        self._painter = _Painter(experiment, plot, check_int("cache", cache, 0, 10_000))
        self.experiment = experiment
        self.plot = plot
        self.controls: dict[str, widgets.Widget] = dict(controls)
        self.presets: dict[str, dict[str, Any]] = {}
        for preset, values in (presets or {}).items():
            if preset == CUSTOM:
                raise ValueError(f"preset name {CUSTOM!r} is reserved")
            if not isinstance(values, Mapping):
                raise TypeError(f"presets[{preset!r}] must be a dict of control name -> value")
            self._check_values(dict(values), where=f"preset {preset!r}")
            self.presets[str(preset)] = dict(values)
        for name, control in self.controls.items():
            _refuse_out_of_range(name, control)

        self.last_params: dict[str, Any] | None = None
        self.last_result: Any = None
        self.last_figure: Figure | None = None
        self.last_png: bytes | None = None
        self.runs = 0
        self.error: str | None = None
        self.timings: dict[str, float] = {}
        self._pending = _Later(lambda: self._on_change(**self._values()))
        self._ahead = _Later(self._draw_ahead)  # the next step of the slider last moved
        self._step: tuple[str, Any] | None = None
        self._held = False  # True while several controls are being set at once
        self.widget = self._build_widget(title, description)
        self._run()

    def _build_widget(self, title: str | None, description: str | None) -> widgets.VBox:
        """The header, preset dropdown, controls, message and output, wired to the controls."""
        for name, control in self.controls.items():
            if hasattr(control, "description") and not control.description:
                control.description = name
        header = ""
        if title:
            header += f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"
        if description:
            header += f"<div style='margin:0 0 6px 0'>{description}</div>"
        self.header = widgets.HTML(header)
        self.error_widget = widgets.HTML("", layout=widgets.Layout(display="none"))
        self.preset_dropdown: widgets.Dropdown | None = None
        if self.presets:
            self.preset_dropdown = widgets.Dropdown(
                options=[CUSTOM, *self.presets],
                value=CUSTOM,
                description="preset",
                layout=widgets.Layout(width="560px"),
            )
            self.preset_dropdown.observe(self._on_preset, names="value")
        self.controls_box = widgets.Box(
            list(self.controls.values()),
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        # The figure goes to an image widget: a new picture is one binary message and a new
        # src in the page (an Output widget would clear and re-render its output area each time).
        self.image = widgets.Image(format="png")
        for control in self.controls.values():
            control.observe(self._on_control, names="value")
        children = [self.header] if header else []
        if self.preset_dropdown is not None:
            children.append(self.preset_dropdown)
        children += [self.controls_box, self.error_widget, self.image]
        return widgets.VBox(children)

    # -- running ---------------------------------------------------------------------------

    def _on_control(self, change: dict) -> None:
        # From the browser: wait for the changes queued behind this one, then run the last.
        loop = None if self._held else _browser_change_loop()
        if loop is None:
            self._on_change(**self._values())
            return
        self._ahead.cancel()
        self._step = _step_ahead(self.controls, change)
        self._pending.action = lambda: self._browser_run(loop)
        self._pending.schedule(loop, COALESCE_S)

    @property
    def cache_hits(self) -> int:
        """How many runs were answered without running the experiment (from the caches)."""
        return self._painter.results.hits + self._painter.frame_hits

    def _on_change(self, **params: Any) -> None:
        # The browser echoes a float slider's value back rounded to its step (0.03 returns as
        # 0.030000000000000002): that is not a change, and must not run the experiment again.
        if not self._held and not (
            self.last_params is not None and _matches(params, self.last_params)
        ):
            self._run(params)

    def _run(self, params: dict[str, Any] | None = None) -> None:
        self._pending.cancel()
        params = dict(params) if params is not None else self._values()
        self.last_params = params
        self.runs += 1
        try:
            frame = self._painter.frame(params, self.last_figure)
        except (ValueError, TypeError) as exc:
            self.last_figure = None  # a plot may have left it half updated: start afresh
            self._show_error(str(exc))
        else:
            self.last_result, self.last_figure, self.last_png, self.timings = frame
            self.image.value = frame[2]
            self._show_error(None)
        self._sync_preset()

    def _browser_run(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run the last change from the browser; then draw the next step ahead, if idle."""
        self._on_change(**self._values())
        if self._step is not None and self.error is None:
            self._ahead.schedule(loop, 0.0)

    def _draw_ahead(self) -> None:
        if self._pending.handle is None and self._step is not None:  # no change is waiting
            name, value = self._step
            self._painter.ahead({**self._values(), name: value})

    def _show_error(self, message: str | None) -> None:
        """Show ``message`` instead of the picture, or (``None``) the picture again."""
        self.error = message
        self.image.layout.display = "none" if message else None
        if message is None:
            self.error_widget.value = ""
            self.error_widget.layout.display = "none"
        else:
            self.error_widget.value = (
                f"<div style='{_WARNING_STYLE}'>&#9888; <b>These settings do not work "
                f"together:</b> {html.escape(message)}</div>"
            )
            self.error_widget.layout.display = None

    # -- setting controls from Python --------------------------------------------------------

    def update(self, **values: Any) -> None:
        """Set several controls at once and run the experiment once.

        Unknown control names or values a control cannot take (outside a slider's range, not an
        option of a dropdown) raise ``ValueError`` before anything changes.

        >>> ex.update(loss=0.2, seed=3)  # doctest: +SKIP
        """
        self._check_values(values, where="update()")
        self._pending.cancel()
        self._set(values)
        self._run()

    def apply_preset(self, name: str) -> None:
        """Set every control named by preset ``name`` and run the experiment once.

        >>> ex.apply_preset("course text defaults")  # doctest: +SKIP
        """
        if name not in self.presets:
            known = ", ".join(repr(p) for p in self.presets) or "none"
            raise ValueError(f"preset={name!r} is not one of the presets: {known}")
        self._set(self.presets[name], preset=name)
        self._run()

    def _set(self, values: Mapping[str, Any], preset: str | None = None) -> None:
        self._held = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
            if preset is not None and self.preset_dropdown is not None:
                self.preset_dropdown.value = preset
        finally:
            self._held = False

    def _on_preset(self, change: dict) -> None:
        if self._held or change["new"] == CUSTOM:
            return
        self.apply_preset(change["new"])

    def _sync_preset(self) -> None:
        """Show the preset the controls match, or "(custom)" after a manual change."""
        if self.preset_dropdown is None:
            return
        current = self._values()
        selected = self.preset_dropdown.value
        if selected != CUSTOM and _matches(self.presets[selected], current):
            return
        match = next((p for p, v in self.presets.items() if _matches(v, current)), CUSTOM)
        self._held = True
        try:
            self.preset_dropdown.value = match
        finally:
            self._held = False

    def _values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _check_values(self, values: dict[str, Any], *, where: str) -> None:
        unknown = [n for n in values if n not in self.controls]
        if unknown:
            raise ValueError(
                f"{where}: unknown control(s) {', '.join(map(repr, unknown))}; "
                f"the controls are {', '.join(map(repr, self.controls))}"
            )
        for name, value in values.items():
            problem = _control_rejects(self.controls[name], value)
            if problem:
                raise ValueError(f"{where}: {name}={value!r} {problem}")

    # -- display ---------------------------------------------------------------------------

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """The live widget where a kernel runs it, and the current figure as a PNG for every
        viewer without one (GitHub, nbviewer, a notebook opened before its kernel starts).
        JupyterLab ranks the widget view above images, so a live session shows the explorer."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/plain"] = repr(self)
        if self.last_png:
            bundle["image/png"] = base64.b64encode(self.last_png).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self._values().items())
        return f"<Explorer {values} runs={self.runs}{' error' if self.error else ''}>"


class _ResultCache:
    """``experiment(**params)``, remembered by parameters: the ``size`` most recently used."""

    def __init__(self, experiment: Callable[..., Any], size: int) -> None:
        self.experiment, self.size, self.hits = experiment, size, 0
        self.results: OrderedDict[tuple, Any] = OrderedDict()

    def __call__(self, params: dict[str, Any]) -> Any:
        key = _cache_key(params) if self.size else None
        if key is not None and key in self.results:
            self.results.move_to_end(key)
            self.hits += 1
            return self.results[key]
        result = self.experiment(**params)
        if key is not None:
            self.results[key] = result
            if len(self.results) > self.size:
                self.results.popitem(last=False)
        return result


class _Painter:
    """Parameters -> ``(result, figure, png, timings)``: the experiment (results cached), the
    plot and the PNG. Pictures already drawn are kept by parameters (``FRAMES`` of them), and
    :meth:`ahead` prepares one in advance.

    An incremental plot (one taking ``figure``) changes one figure in place: a picture kept is
    shown again after the plot has brought that figure back to its parameters (no rendering),
    and ahead of time only the experiment runs."""

    def __init__(self, experiment: Callable[..., Any], plot: Callable, cache: int) -> None:
        self.results = _ResultCache(experiment, cache)
        self.plot, self.takes_figure = plot, _takes_figure(plot)
        self.size = min(cache, FRAMES)
        self.frames: list[tuple[dict, tuple]] = []  # (params, (result, figure, png)), oldest first
        self.frame_hits = 0

    def frame(self, params: dict[str, Any], last_figure: Figure | None) -> tuple:
        found = self.drawn(params)
        if found is None:
            return self.draw(params, last_figure)
        self.frame_hits += 1
        result, fig, png = found
        plot_s = 0.0
        if self.takes_figure:  # the figure kept shows the last run: bring it back to these
            t0 = time.perf_counter()
            fig = self._plot(result, params, last_figure)
            plot_s = time.perf_counter() - t0
        return result, fig, png, {"experiment_s": 0.0, "plot_s": plot_s, "render_s": 0.0}

    def drawn(self, params: dict[str, Any]) -> tuple | None:
        for i, (seen, frame) in enumerate(self.frames):
            if seen.keys() == params.keys() and _matches(seen, params):
                self.frames.append(self.frames.pop(i))
                return frame
        return None

    def _plot(self, result: Any, params: dict[str, Any], last_figure: Figure | None) -> Figure:
        if self.takes_figure:
            fig = self.plot(result, dict(params), figure=last_figure)
        else:
            fig = self.plot(result, dict(params))
        if not isinstance(fig, Figure):
            raise TypeError(f"plot returned {type(fig).__name__}, expected a matplotlib Figure")
        return fig

    def draw(self, params: dict[str, Any], last_figure: Figure | None) -> tuple:
        t0 = time.perf_counter()
        result = self.results(params)
        t1 = time.perf_counter()
        fig = self._plot(result, params, last_figure)
        t2 = time.perf_counter()
        png = figure_png(fig)
        t3 = time.perf_counter()
        if self.size:
            self.frames = [*self.frames, (dict(params), (result, fig, png))][-self.size :]
        return result, fig, png, {"experiment_s": t1 - t0, "plot_s": t2 - t1, "render_s": t3 - t2}

    def ahead(self, params: dict[str, Any]) -> None:
        """Draw ``params`` now unless already drawn (for an incremental plot: run its experiment
        only, its figure being the one shown); an error is left for a real run to show."""
        if self.size and self.drawn(params) is None:
            try:
                if self.takes_figure:
                    self.results(params)
                else:
                    self.draw(params, None)
            except (ValueError, TypeError):
                pass


def _step_ahead(controls: Mapping[str, widgets.Widget], change: dict) -> tuple[str, Any] | None:
    """``(name, value)`` one more step of a slider the same way it just moved, if allowed."""
    control, old, new = change["owner"], change["old"], change["new"]
    if not isinstance(control, (widgets.IntSlider, widgets.FloatSlider)) or old == new:
        return None
    value = new + (new - old)
    if _control_rejects(control, value) is not None:
        return None
    name = next((n for n, c in controls.items() if c is control), None)
    return None if name is None else (name, value)


class _Later:
    """One call of ``action`` scheduled on an event loop; scheduling again postpones it."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.handle: asyncio.TimerHandle | None = None

    def schedule(self, loop: asyncio.AbstractEventLoop, delay_s: float) -> None:
        self.cancel()
        self.handle = loop.call_later(delay_s, self.run)

    def run(self) -> None:
        self.handle = None
        self.action()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


def _takes_figure(plot: Callable) -> bool:
    """Whether ``plot`` accepts a ``figure`` keyword (the incremental path)."""
    try:
        parameters = inspect.signature(plot).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    figure = parameters.get("figure")
    return figure is not None and figure.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


def _cache_key(params: Mapping[str, Any]) -> tuple | None:
    """A hashable key for ``params``, or None when a value cannot be one (then no caching)."""
    key = tuple(sorted((name, type(value).__name__, value) for name, value in params.items()))
    return key if is_hashable(key) else None


def _browser_change_loop() -> asyncio.AbstractEventLoop | None:
    """The kernel's event loop when the current change came from the browser (a widget's comm
    message), else None: changes made by code in a cell or a test run at once, as written."""
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return None
    try:
        parent = kernel.get_parent()
        loop = asyncio.get_running_loop()
    except (RuntimeError, TypeError):
        return None
    header = (parent or {}).get("header") or {}
    return loop if header.get("msg_type") == "comm_msg" else None


def _matches(preset: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether ``current`` has every value of ``preset`` (floats within rounding)."""
    return all(_same(current.get(k), v) for k, v in preset.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        reals = (numbers.Real,)
        if isinstance(a, reals) and isinstance(b, reals) and not isinstance(a, bool):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _check_controls(controls: Any) -> None:
    if not isinstance(controls, Mapping) or not controls:
        raise ValueError(
            f"controls={controls!r} must be a non-empty dict of name -> ipywidgets control"
        )
    for name, control in controls.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"control name {name!r} must be a valid Python identifier")
        if not isinstance(control, widgets.Widget) or not control.has_trait("value"):
            raise TypeError(
                f"controls[{name!r}]={type(control).__name__} must be an ipywidgets control "
                "with a value (slider, dropdown, checkbox, text...)"
            )


def _option_values(control: widgets.Widget) -> list | None:
    """The values a selection control offers (its ``options``, labels dropped), or None."""
    if not control.has_trait("options"):
        return None
    options = control.options
    if isinstance(options, Mapping):
        return list(options.values())
    return [o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in options]


def _control_rejects(control: widgets.Widget, value: Any) -> str | None:
    """Why ``control`` cannot take ``value`` (sliders would clamp silently), or None."""
    options = _option_values(control)
    if options is not None:
        if isinstance(control, widgets.SelectMultiple):
            bad = [v for v in value if v not in options]
            return f"has values not among the options {options!r}" if bad else None
        if value not in options:
            return f"is not one of the options {options!r}"
        return None
    low, high = getattr(control, "min", None), getattr(control, "max", None)
    if isinstance(low, numbers.Real) and isinstance(high, numbers.Real):
        items = value if isinstance(value, (tuple, list)) else [value]
        for item in items:
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                return f"must be a number between {low:g} and {high:g}"
            if not low <= item <= high:
                return f"must be between {low:g} and {high:g} (the control's range)"
    return None


def _refuse_out_of_range(name: str, control: widgets.Widget) -> None:
    """Make a bounded number control refuse, not clamp, a value outside [min, max].

    Only single-number controls: a range slider's own validator (lower <= upper) stays.
    """
    if not (control.has_trait("min") and control.has_trait("max")):
        return
    if isinstance(control.value, bool) or not isinstance(control.value, numbers.Real):
        return

    def refuse(widget: widgets.Widget, proposal: Any) -> Any:
        value = proposal["value"]
        problem = _control_rejects(widget, value)
        if problem:
            raise ValueError(f"controls[{name!r}]: {name}={value!r} {problem}")
        return value

    # traitlets' add_traits gives this one control a subclass whose value validator refuses
    # instead of clamping (ipywidgets' own add_traits expects traits to sync, not a validator).
    traitlets.HasTraits.add_traits(control, _validate_value=traitlets.validate("value")(refuse))


# -- registry ------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[[], Explorer]] = {}


def register(name: str) -> Callable[[Callable[[], Explorer]], Callable[[], Explorer]]:
    """Decorator: record a zero-argument factory building an explorer under ``name``.

    >>> @register("network_loss")
    ... def network_loss_explorer() -> Explorer:
    ...     return Explorer(...)  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name={name!r} must be a non-empty string")

    def decorator(factory: Callable[[], Explorer]) -> Callable[[], Explorer]:
        if not callable(factory):
            raise TypeError(f"register({name!r}) must decorate a callable, not {factory!r}")
        existing = _REGISTRY.get(name)
        if existing is not None and _qualname(existing) != _qualname(factory):
            raise ValueError(
                f"explorer name {name!r} is already registered by {_qualname(existing)}"
            )
        _REGISTRY[name] = factory
        return factory

    return decorator


def _qualname(f: Callable) -> str:
    return f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"


def all_explorers() -> dict[str, Callable[[], Explorer]]:
    """Every registered explorer: ``{name: factory}``; ``factory()`` builds a fresh Explorer.

    Imports every module of :mod:`distlab.widgets` first, so explorers defined there are
    registered without anyone having to import them.

    >>> for name, make in all_explorers().items():  # doctest: +SKIP
    ...     ex = make(); ex.update(seed=2)
    """
    package = importlib.import_module("distlab.widgets")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"distlab.widgets.{module.name}")
    return dict(_REGISTRY)
