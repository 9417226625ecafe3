"""plots.style: exact outcome and state colours, bands, layout, and display without pyplot."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from distlab import outcomes
from distlab.plots import (
    DROP_COLORS,
    OKABE_ITO,
    OUTCOME_COLORS,
    STATE_COLORS,
    band_color,
    call_timeline,
    finish,
    latency_distribution,
    message_sequence,
    new_figure,
    outcome_color,
    shade_bands,
)

from .conftest import figure_legend_labels


def test_outcome_colors_are_the_project_palette():
    assert OUTCOME_COLORS is outcomes.COLORS and OKABE_ITO is outcomes.OKABE_ITO
    assert OUTCOME_COLORS["ok"] == OUTCOME_COLORS["delivered"] == "#009E73"
    assert OUTCOME_COLORS["error"] == "#D55E00"
    assert OUTCOME_COLORS["timeout"] == "#E69F00"
    assert OUTCOME_COLORS["rejected"] == "#CC79A7"
    assert OUTCOME_COLORS["stale_read"] == "#56B4E9"
    assert OUTCOME_COLORS["lost_write"] == "#F0E442"
    assert OUTCOME_COLORS["dropped"] == "#000000"
    assert set(OUTCOME_COLORS) == set(outcomes.ALL)
    assert set(OUTCOME_COLORS.values()) <= set(OKABE_ITO.values())


@pytest.mark.parametrize("word", outcomes.ALL)
def test_outcome_color_of_every_outcome_word(word):
    assert outcome_color(word) == outcomes.COLORS[word]


@pytest.mark.parametrize(
    "name", ["success", "failure", "fail", "OK", "Timeout", "stale read", "lost", "other", None, 3]
)
def test_outcome_color_refuses_anything_but_the_exact_words(name):
    # These used to be "normalised" or fell back to grey: a typo drew a figure in the wrong colour.
    with pytest.raises(ValueError, match=r"outcome=.* must be one of 'ok', 'error'"):
        outcome_color(name)


def test_band_color_takes_exact_state_keys_only():
    assert band_color("HALF_OPEN") == STATE_COLORS["HALF_OPEN"]
    assert band_color("slow") == STATE_COLORS["slow"]
    assert band_color("partitioned") == STATE_COLORS["partitioned"]
    assert band_color("recovering") == STATE_COLORS["recovering"]
    assert DROP_COLORS["partition"] == STATE_COLORS["partitioned"]
    # Spellings the old fuzzy lookup parsed: each is now refused, naming the state.
    for name in ["half-open", "open", "Slow(factor=3)", "slow_b_x5", "partition", "nonsense"]:
        with pytest.raises(ValueError, match=re.escape(f"state={name!r} must be one of 'CLOSED'")):
            band_color(name)


def test_state_colors_keys_are_the_band_states_of_the_house_style():
    assert set(STATE_COLORS) == {
        "CLOSED", "OPEN", "HALF_OPEN", "up", "down", "slow", "flaky", "recovering",
        "partitioned", "crashed", "loss_burst", "overloaded", "healed",
    }  # fmt: skip


def test_shade_bands_one_legend_entry_per_label_and_skips_up():
    fig, ax = new_figure()
    ax.plot([0, 10], [0, 1])
    bands = pd.DataFrame(
        {
            "start": [1.0, 4.0, 6.0, 8.0],
            "end": [2.0, 5.0, 7.0, np.nan],
            "state": ["partitioned", "partitioned", "up", "OPEN"],
            "label": ["partitioned", "partitioned", "up", "OPEN"],
        }
    )
    patches = shade_bands(ax, bands, until=10.0)
    assert len(patches) == 3  # "up" is not shaded
    assert [p.get_label() for p in patches].count("partitioned") == 1
    assert to_hex(patches[0].get_facecolor()) == STATE_COLORS["partitioned"].lower()
    assert to_hex(patches[2].get_facecolor()) == STATE_COLORS["OPEN"].lower()
    finish(fig, ax, title="t", xlabel="time (s)", ylabel="y")
    assert figure_legend_labels(fig) == ["partitioned", "OPEN"]


def test_shade_bands_colour_comes_from_the_state_not_the_label():
    fig, ax = new_figure()
    bands = pd.DataFrame(
        {"start": [0.0], "end": [1.0], "state": ["slow"], "label": ["partition {a} | {b}"]}
    )
    (patch,) = shade_bands(ax, bands, until=2.0)
    assert patch.get_label() == "partition {a} | {b}"
    assert to_hex(patch.get_facecolor()) == STATE_COLORS["slow"].lower()
    without_label = bands.drop(columns=["label"])
    (patch,) = shade_bands(ax, without_label, until=2.0)
    assert patch.get_label() == "slow"


def test_shade_bands_lane_height_and_bad_input():
    fig, ax = new_figure()
    (patch,) = shade_bands(
        ax, pd.DataFrame({"start": [0], "end": [1], "state": ["down"]}), y=(2, 3)
    )
    assert patch.get_y() == 2 and patch.get_height() == 1
    with pytest.raises(ValueError, match="missing column"):
        shade_bands(ax, pd.DataFrame({"start": [0]}))
    with pytest.raises(ValueError, match="missing column.*state"):
        shade_bands(ax, pd.DataFrame({"start": [0], "end": [1], "label": ["partitioned"]}))
    with pytest.raises(ValueError, match="state='partition' must be one of"):
        shade_bands(ax, pd.DataFrame({"start": [0], "end": [1], "state": ["partition"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        shade_bands(ax, [(0, 1)])
    assert shade_bands(ax, pd.DataFrame(columns=["start", "end", "state"])) == []


def test_finish_sets_title_labels_and_rejects_bad_legend():
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1], label="line")
    finish(fig, ax, title="Scenario", xlabel="time (s)", ylabel="calls", subtitle="2 points")
    assert ax.get_title(loc="left") == "Scenario"
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "calls"
    assert figure_legend_labels(fig) == ["line"]
    with pytest.raises(ValueError, match="legend='left'"):
        finish(fig, ax, legend="left")


def test_plots_do_not_touch_pyplot(events, calls):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    message_sequence(events)
    call_timeline(calls)
    latency_distribution(calls)
    assert plt.get_fignums() == before


def test_figures_display_as_png_in_ipython_without_pyplot():
    """A distlab Figure shown in a notebook must render as a picture even if pyplot was never
    imported (the inline backend only hooks in when it is)."""
    from IPython.core.interactiveshell import InteractiveShell

    from distlab.plots import figure_png, new_figure, register_ipython_formatter

    shell = InteractiveShell.instance()
    try:
        assert register_ipython_formatter() is True
        fig, ax = new_figure()
        ax.plot([0, 1], [0, 1])
        data, _ = shell.display_formatter.format(fig)
        assert data["image/png"][:4] == b"\x89PNG"
        assert data["image/png"] == figure_png(fig, tight=True, fast=False)
    finally:
        InteractiveShell.clear_instance()
    assert register_ipython_formatter() is False  # no shell running any more


def test_flags_are_checked_not_coerced():
    fig, ax = new_figure()
    bands = pd.DataFrame({"start": [0.0], "end": [1.0], "state": ["up"]})
    with pytest.raises(TypeError, match="show_quiet='no' must be True or False"):
        shade_bands(ax, bands, show_quiet="no")  # bool("no") is True: it used to shade "up"
    from distlab.plots import figure_png

    with pytest.raises(TypeError, match="tight='false' must be True or False"):
        figure_png(fig, tight="false")
    with pytest.raises(TypeError, match="fig=str must be a matplotlib Figure"):
        figure_png("figure")
