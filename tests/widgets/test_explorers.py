"""Every registered explorer, driven from Python as a person would drive it in the browser."""

import pytest

from distlab.widgets import all_explorers

EXPLORERS = all_explorers()


def _another_value(control):
    options = getattr(control, "options", None)
    if options:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        if isinstance(control.value, tuple):  # a multiple selection: pick another subset
            subset = tuple(values[:2])
            return subset if subset != control.value else tuple(values[:1])
        return next(v for v in values if v != control.value)
    if isinstance(control.value, bool):
        return not control.value
    return control.max if control.value != control.max else control.min


def test_the_course_explorers_are_registered():
    assert {"network", "partial failures", "retry timeline", "contention"} <= set(EXPLORERS)


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_explorer_shows_a_figure_at_once_without_error(name):
    explorer = EXPLORERS[name]()
    assert explorer.runs == 1
    assert explorer.error is None
    assert explorer.last_png.startswith(b"\x89PNG")


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_moving_each_control_reruns_the_experiment_with_that_value(name):
    for control_name in EXPLORERS[name]().controls:
        explorer = EXPLORERS[name]()  # from the defaults: a control may matter only in some states
        control = explorer.controls[control_name]
        before_png, before_runs = explorer.last_png, explorer.runs
        value = _another_value(control)
        control.value = value
        assert explorer.error is None, f"{control_name}={value!r}: {explorer.error}"
        assert explorer.runs == before_runs + 1
        assert explorer.last_params[control_name] == value
        assert explorer.last_png != before_png, f"moving {control_name} did not change the figure"


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_every_preset_runs_once_with_its_values(name):
    explorer = EXPLORERS[name]()
    assert explorer.presets, "an explorer offers at least one preset"
    for preset, values in explorer.presets.items():
        runs = explorer.runs
        explorer.apply_preset(preset)
        assert explorer.error is None, f"preset {preset!r}: {explorer.error}"
        assert explorer.runs <= runs + 1
        for key, value in values.items():
            assert explorer.last_params[key] == value
