"""distlab.widgets.base: the Explorer wiring (controls -> experiment -> plot -> PNG), no browser."""

from __future__ import annotations

import asyncio

import ipywidgets as w
import pytest
from matplotlib.figure import Figure

from distlab.plots import finish, new_figure
from distlab.widgets import Explorer, all_explorers, register
from distlab.widgets import base as base_module


class Recorder:
    """A fake experiment that records its calls and rejects x > 8 like a real one would."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, x, mode, show):
        self.calls.append({"x": x, "mode": mode, "show": show})
        if x > 8:
            raise ValueError(f"x={x} must be at most 8 when mode={mode!r}")
        return [x, x + 1 if mode == "b" else 1, 2]


def fake_plot(result, params) -> Figure:
    fig, ax = new_figure(figsize=(2.0, 1.5), dpi=50)
    ax.bar(range(len(result)), result)
    return finish(fig, ax, title=f"x={params['x']}", legend=None)


def recorder_controls() -> dict[str, w.Widget]:
    """New controls for the Recorder's three parameters."""
    return {
        "x": w.IntSlider(value=1, min=0, max=10),
        "mode": w.Dropdown(options=["a", "b"], value="a"),
        "show": w.Checkbox(value=True),
    }


def make(**kwargs) -> tuple[Explorer, Recorder]:
    experiment = Recorder()
    presets = {"big": {"x": 6, "mode": "b", "show": False}, "small": {"x": 0}}
    ex = Explorer(
        experiment, fake_plot, recorder_controls(), presets=presets, title="Fake", **kwargs
    )
    return ex, experiment


def test_runs_once_at_construction():
    ex, experiment = make(description="<i>what it shows</i>")
    assert ex.runs == 1 and len(experiment.calls) == 1
    assert ex.last_params == {"x": 1, "mode": "a", "show": True}
    assert isinstance(ex.last_figure, Figure)
    assert ex.last_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert ex.last_result == [1, 1, 2]
    assert set(ex.timings) == {"experiment_s", "plot_s", "render_s"}
    assert all(t >= 0 for t in ex.timings.values())
    assert ex.error is None
    assert isinstance(ex.widget, w.VBox)
    assert ex.image in ex.widget.children and ex.error_widget in ex.widget.children
    assert "Fake" in ex.header.value and "what it shows" in ex.header.value


def test_setting_a_control_reruns_with_that_value():
    ex, experiment = make()
    png_before = ex.last_png
    ex.controls["x"].value = 3
    assert ex.runs == 2
    assert ex.last_params == {"x": 3, "mode": "a", "show": True}
    assert experiment.calls[-1]["x"] == 3
    assert ex.last_png != png_before
    assert ex.last_figure.axes[0].get_title(loc="left") == "x=3"


def test_update_sets_several_controls_and_runs_exactly_once():
    ex, experiment = make()
    ex.update(x=4, mode="b", show=False)
    assert ex.runs == 2 and len(experiment.calls) == 2
    assert experiment.calls[-1] == {"x": 4, "mode": "b", "show": False}
    assert ex.controls["mode"].value == "b"
    ex.update()  # nothing to change: still one run
    assert ex.runs == 3


def test_preset_sets_all_controls_and_runs_once():
    ex, experiment = make()
    ex.apply_preset("big")
    assert ex.runs == 2
    assert ex.last_params == {"x": 6, "mode": "b", "show": False}
    assert ex.preset_dropdown.value == "big"
    # choosing a preset in the dropdown does the same
    ex.preset_dropdown.value = "small"
    assert ex.runs == 3
    assert ex.last_params == {"x": 0, "mode": "b", "show": False}
    # moving a control away from the preset shows "(custom)" without running again
    ex.controls["x"].value = 2
    assert ex.runs == 4
    assert ex.preset_dropdown.value == base_module.CUSTOM


def test_error_is_shown_as_message_then_cleared():
    ex, _ = make()
    good_png = ex.last_png
    ex.controls["x"].value = 9
    assert ex.error == "x=9 must be at most 8 when mode='a'"
    assert ex.error_widget.layout.display != "none"
    assert "x=9 must be at most 8" in ex.error_widget.value
    assert ex.last_params["x"] == 9
    assert ex.last_png == good_png  # last successful figure is kept, not replaced
    ex.controls["x"].value = 2
    assert ex.error is None
    assert ex.error_widget.layout.display == "none"
    assert ex.last_params["x"] == 2


def test_type_error_from_plot_is_shown_too():
    def bad_plot(result, params):
        raise TypeError("plot needs a DataFrame")

    ex = Explorer(lambda x: x, bad_plot, {"x": w.IntSlider(value=1)})
    assert ex.error == "plot needs a DataFrame"
    assert ex.last_png is None


def test_other_exceptions_propagate():
    def broken(x):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        Explorer(broken, fake_plot, {"x": w.IntSlider()})


@pytest.mark.parametrize(
    "values, message",
    [
        ({"y": 1, "z": 2}, "unknown control.*'y', 'z'"),
        ({"x": 11}, r"x=11 must be between 0 and 10"),
        ({"mode": "c"}, "mode='c' is not one of the options"),
    ],
)
def test_update_rejects_unknown_names_and_values_out_of_range(values, message):
    ex, _ = make()
    with pytest.raises(ValueError, match=message):
        ex.update(**values)
    assert ex.runs == 1
    assert ex.controls["x"].value == 1  # nothing was changed (a slider would clamp silently)


def test_unknown_preset_names_it():
    ex, _ = make()
    with pytest.raises(ValueError, match="preset='nope'.*'big', 'small'"):
        ex.apply_preset("nope")


def test_bad_construction():
    with pytest.raises(ValueError, match="unknown control.*'q'"):
        Explorer(lambda x: x, fake_plot, {"x": w.IntSlider()}, presets={"p": {"q": 1}})
    with pytest.raises(TypeError, match="controls\\['x'\\]"):
        Explorer(lambda x: x, fake_plot, {"x": 3})
    with pytest.raises(ValueError, match="non-empty"):
        Explorer(lambda: 1, fake_plot, {})
    with pytest.raises(TypeError, match="experiment"):
        Explorer(None, fake_plot, {"x": w.IntSlider()})


def test_display_offers_the_live_widget_and_a_static_picture_of_the_figure():
    import base64

    ex, _ = make()
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == ex.last_png
    ex.update(x=7)
    assert base64.b64decode(ex._repr_mimebundle_()["image/png"]) == ex.last_png


def test_registry(monkeypatch):
    monkeypatch.setattr(base_module, "_REGISTRY", {})

    @register("fake")
    def fake_explorer():
        return make()[0]

    explorers = all_explorers()
    assert "fake" in explorers
    assert isinstance(explorers["fake"](), Explorer)
    with pytest.raises(ValueError, match="already registered"):
        register("fake")(lambda: None)
    with pytest.raises(ValueError, match="non-empty"):
        register("")


def test_a_float_echoed_back_rounded_is_not_a_change_and_keeps_the_preset():
    """The browser sends a float slider's value back rounded to its step; the explorer must not
    re-run for that, nor drop the preset it is showing."""

    def experiment(rate):
        return [rate]

    def plot(result, params):
        fig, ax = new_figure(figsize=(2.0, 1.5), dpi=50)
        ax.bar([0], result)
        return fig

    controls = {"rate": w.FloatSlider(value=0.05, min=0.0, max=1.0, step=0.005)}
    ex = Explorer(experiment, plot, controls, presets={"slow": {"rate": 0.03}})
    ex.apply_preset("slow")
    assert ex.error is None
    runs = ex.runs
    ex.controls["rate"].value = 0.030000000000000002  # what the front end sends back
    assert ex.runs == runs
    assert ex.preset_dropdown.value == "slow"
    ex.controls["rate"].value = 0.5  # a real change still runs
    assert ex.runs == runs + 1
    assert ex.preset_dropdown.value == "(custom)"


@pytest.mark.parametrize(
    "control, value, message",
    [
        (
            w.IntSlider(value=3, min=0, max=50),
            1000,
            r"controls\['c'\]: c=1000 must be between 0 and 50",
        ),
        (w.IntSlider(value=3, min=0, max=50), -1, "c=-1 must be between 0 and 50"),
        (w.FloatSlider(value=0.5, min=0.0, max=1.0), 1.5, "c=1.5 must be between 0 and 1"),
        (w.BoundedIntText(value=3, min=1, max=9), 10, "c=10 must be between 1 and 9"),
        (w.FloatLogSlider(value=10, min=0, max=3), 5000.0, "c=5000.0 must be between 0 and 3"),
    ],
)
def test_a_value_outside_a_controls_range_is_refused_not_clamped(control, value, message):
    # ipywidgets clamps silently: controls["seed"].value = 1000 used to run with seed=50.
    ex = Explorer(lambda c: [c], fake_plot_of("c"), {"c": control})
    before = control.value
    with pytest.raises(ValueError, match=message):
        control.value = value
    assert control.value == before and ex.runs == 1
    control.value = control.max  # the range itself is still accepted, and runs
    assert ex.runs == 2 and ex.last_params == {"c": control.max}


def test_range_sliders_keep_their_own_checks():
    control = w.IntRangeSlider(value=(2, 4), min=0, max=10)
    ex = Explorer(lambda c: list(c), fake_plot_of("c"), {"c": control})
    control.value = (3, 5)
    assert ex.last_params == {"c": (3, 5)}


def test_an_overflow_from_an_experiment_is_a_bug_not_a_message():
    """Only ValueError/TypeError become messages: experiments must raise those for bad input."""

    def overflowing(x):
        raise OverflowError("int too large to convert to float")

    with pytest.raises(OverflowError):
        Explorer(overflowing, fake_plot, {"x": w.IntSlider()})


def fake_plot_of(name: str):
    def plot(result, params) -> Figure:
        fig, ax = new_figure(figsize=(2.0, 1.5), dpi=50)
        ax.bar(range(len(result)), result)
        return finish(fig, ax, title=f"{name}={params[name]}", legend=None)

    return plot


# -- speed: the result cache, the incremental plot path, coalesced browser changes -----------


def test_results_already_seen_come_from_the_cache_and_the_cache_is_bounded():
    ex, experiment = make(cache=2)
    ex.update(x=2)
    ex.update(x=3)
    assert len(experiment.calls) == 3 and ex.cache_hits == 0
    ex.update(x=2)  # seen: no new simulation, the same figure
    assert len(experiment.calls) == 3 and ex.cache_hits == 1 and ex.runs == 4
    assert ex.last_result == [2, 1, 2]
    assert ex.last_figure.axes[0].get_title(loc="left") == "x=2"
    ex.update(x=1)  # the caches hold two (x=3 and x=2): x=1 is run again
    assert len(experiment.calls) == 4 and experiment.calls[-1]["x"] == 1
    ex.update(x=9)  # errors are not remembered: the experiment is asked again
    ex.update(x=9)
    assert len(experiment.calls) == 6 and ex.error is not None


def test_cache_zero_runs_the_experiment_every_time_and_bad_sizes_are_refused():
    ex, experiment = make(cache=0)
    ex.update(x=1)
    ex.update(x=1)
    assert len(experiment.calls) == 3 and ex.cache_hits == 0
    with pytest.raises(ValueError, match="cache=-1 must be between 0 and 10000"):
        make(cache=-1)
    with pytest.raises(TypeError, match="cache=True must be an integer"):
        make(cache=True)


def test_cache_keys_tell_types_apart_and_skip_unhashable_values():
    assert base_module._cache_key({"xs": [1, 2]}) is None
    assert base_module._cache_key({"x": 1}) != base_module._cache_key({"x": 1.0})
    calls = []

    def experiment(xs):
        calls.append(list(xs))
        return [len(xs)]

    control = w.SelectMultiple(options=[1, 2, 3], value=(1,))
    ex = Explorer(experiment, fake_plot_of("xs"), {"xs": control})
    ex.update(xs=(1, 2))
    ex.update(xs=(1,))  # tuples hash: from the cache
    assert calls == [[1], [1, 2]] and ex.cache_hits == 1


def incremental_plot(given: list):
    """A plot taking ``figure``: bars updated in place; records the figure it is given."""

    def plot(result, params, *, figure=None):
        given.append(figure)
        if figure is None:
            figure, ax = new_figure(figsize=(2.0, 1.5), dpi=50)
            ax.bar(range(3), [0, 0, 0])
        for bar, height in zip(figure.axes[0].patches, result):
            bar.set_height(height)
        figure.axes[0].set_title(f"x={params['x']}", loc="left")
        return figure

    return plot


def test_a_plot_taking_figure_is_given_its_last_figure_to_update():
    given = []
    ex = Explorer(Recorder(), incremental_plot(given), recorder_controls())
    first, png = ex.last_figure, ex.last_png
    ex.update(x=5)
    assert given == [None, first] and ex.last_figure is first
    assert [p.get_height() for p in first.axes[0].patches] == [5, 1, 2]
    assert ex.last_png != png
    ex.update(x=9)  # an error: the next plot starts from a new figure
    ex.update(x=2)
    assert given[-1] is None and ex.last_figure is not first


def test_an_incremental_plot_shows_a_picture_kept_and_brings_its_figure_back(monkeypatch):
    given, renders = [], []
    monkeypatch.setattr(base_module, "figure_png", lambda fig: renders.append(fig) or b"png")
    ex = Explorer(Recorder(), incremental_plot(given), recorder_controls())
    ex.update(x=5)
    ex.update(x=1)  # seen: its picture again, and the figure updated back without rendering
    assert len(renders) == 2 and ex.cache_hits == 1 and given[-1] is ex.last_figure
    assert [p.get_height() for p in ex.last_figure.axes[0].patches] == [1, 1, 2]
    assert ex.last_figure.axes[0].get_title(loc="left") == "x=1"
    assert ex.timings["experiment_s"] == ex.timings["render_s"] == 0.0


@pytest.fixture
def browser_loop(monkeypatch):
    """An event loop standing for the kernel's: changes to the controls come "from the browser"
    and wait for the loop to run them (with no coalescing delay: COALESCE_S is 0)."""
    loop = asyncio.new_event_loop()
    monkeypatch.setattr(base_module, "_browser_change_loop", lambda: loop)
    monkeypatch.setattr(base_module, "COALESCE_S", 0.0)
    yield loop
    loop.close()


def turns(loop, n):
    """Let ``loop`` run what is ready ``n`` times."""
    for _ in range(n):
        loop.run_until_complete(asyncio.sleep(0))


def test_ahead_of_an_incremental_plot_only_the_experiment_runs(browser_loop):
    given, experiment = [], Recorder()
    ex = Explorer(experiment, incremental_plot(given), recorder_controls())
    ex.controls["x"].value = 2
    turns(browser_loop, 3)
    assert [c["x"] for c in experiment.calls] == [1, 2, 3] and len(given) == 2
    assert ex.last_figure.axes[0].get_title(loc="left") == "x=2"  # not drawn ahead
    ex.update(x=3)  # its result is kept: only the plot and the picture
    assert [c["x"] for c in experiment.calls] == [1, 2, 3] and ex.last_result == [3, 1, 2]


def test_changes_from_the_browser_are_coalesced_and_the_last_one_runs(browser_loop):
    ex, experiment = make()
    for x in (2, 3, 4, 5):  # key presses queued while a run was drawing
        ex.controls["x"].value = x
    assert ex.runs == 1  # nothing ran yet: they wait for the ones behind them
    turns(browser_loop, 1)
    assert ex.runs == 2 and ex.last_params["x"] == 5
    assert [c["x"] for c in experiment.calls] == [1, 5, 6]  # x=6: the next step, ahead
    ex.controls["x"].value = 0
    ex.update(x=7)  # code setting values runs at once and drops the waiting change
    turns(browser_loop, 1)
    assert [c["x"] for c in experiment.calls] == [1, 5, 6, 7] and ex.runs == 3


def test_after_a_slider_step_from_the_browser_the_next_step_is_drawn_ahead(browser_loop):
    ex, experiment = make()
    ex.controls["x"].value = 2  # a step to the right
    turns(browser_loop, 3)
    assert [c["x"] for c in experiment.calls] == [1, 2, 3]  # x=3 drawn ahead
    assert ex.last_params["x"] == 2 and ex.runs == 2
    ex.controls["x"].value = 3  # the next step: its picture is already there
    turns(browser_loop, 3)
    assert ex.last_params["x"] == 3 and ex.cache_hits == 1
    assert ex.last_figure.axes[0].get_title(loc="left") == "x=3"
    assert ex.timings == {"experiment_s": 0.0, "plot_s": 0.0, "render_s": 0.0}
    assert [c["x"] for c in experiment.calls] == [1, 2, 3, 4]  # and x=4 ahead
    ex.controls["x"].value = 10  # the end of the slider: nothing beyond to draw
    turns(browser_loop, 3)
    assert [c["x"] for c in experiment.calls] == [1, 2, 3, 4, 10]
    assert ex.error is not None  # x=10 is refused by the experiment, shown as a message


class FakeTimer:
    def __init__(self, callback):
        self.callback, self.off = callback, False

    def cancel(self):
        self.off = True

    def cancelled(self):
        return self.off


class FakeLoop:
    """Records call_later; the test fires the callbacks itself, in the order it chooses."""

    def __init__(self):
        self.timers: list[FakeTimer] = []

    def call_later(self, delay, callback):
        self.timers.append(FakeTimer(callback))
        return self.timers[-1]

    def fire(self, index: int) -> None:
        if not self.timers[index].cancelled():
            self.timers[index].callback()


def test_a_change_from_the_browser_cancels_the_step_ahead(monkeypatch):
    loop = FakeLoop()
    monkeypatch.setattr(base_module, "_browser_change_loop", lambda: loop)
    ex, experiment = make()
    ex.controls["x"].value = 2
    loop.fire(0)  # runs x=2, and schedules drawing x=3 ahead (timer 1)
    assert len(loop.timers) == 2 and not loop.timers[1].cancelled()
    ex.controls["x"].value = 0  # a change arrives first: the step ahead is called off
    assert loop.timers[1].cancelled()
    loop.fire(2)  # runs x=0; the next step left would be x=-1, below the slider: none
    assert [c["x"] for c in experiment.calls] == [1, 2, 0] and len(loop.timers) == 3


def test_changes_made_by_code_run_at_once_outside_a_kernel():
    assert base_module._browser_change_loop() is None
    ex, _ = make()
    ex.controls["x"].value = 4
    assert ex.runs == 2 and ex.last_params["x"] == 4


def test_an_error_hides_the_picture_and_the_next_figure_shows_it_again():
    ex, _ = make()
    assert ex.image.value == ex.last_png
    ex.update(x=9)
    assert ex.image.layout.display == "none"
    ex.update(x=3)
    assert ex.image.layout.display is None and ex.image.value == ex.last_png
