"""Figures updated in place (the explorers' path, distlab.plots.display) show what a new figure
shows, and only a change of a still part draws a figure from nothing.

Every plot an explorer updates in place is checked the same way: after each result of a
sequence, the figure updated in place gives the same PNG bytes as a new figure of that result,
and the same pixels as ``savefig`` of the new figure (so the kept background and the light PNG
encoder change nothing).
"""

from __future__ import annotations

import gc
import weakref
from io import BytesIO

import numpy as np
import pytest
from matplotlib.lines import Line2D
from PIL import Image

from distlab import plots
from distlab.experiments import breakers, cap
from distlab.experiments.challenges import partial_failures
from distlab.experiments.clocks import lww_skew
from distlab.experiments.contention import contention_runs
from distlab.experiments.network import message_exchange
from distlab.experiments.read_routing import read_routing
from distlab.experiments.retries import timeline
from distlab.experiments.sagas import saga_run
from distlab.experiments.staleness import pbs_staleness
from distlab.plots.display import (
    LiveCanvas,
    clear_figure,
    figure_png,
    keep,
    keep_background,
    kept,
    round_up,
    set_limits,
    set_text,
    set_titles,
)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(BytesIO(png)).convert("RGB"))


def saved(fig) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def assert_updates_match_new_figures(draw, results) -> int:
    """Update one figure through ``results``; return how many updates kept the figure."""
    figure, kept = None, 0
    for result in results:
        updated = draw(result, figure)
        kept += updated is figure
        figure = updated
        fresh = draw(result, None)
        assert figure_png(figure) == figure_png(fresh)
        assert np.array_equal(pixels(figure_png(figure)), pixels(saved(fresh)))
    # nothing global keeps a figure (what the plot keeps goes with it)
    ref = weakref.ref(figure)
    del figure, fresh, updated
    gc.collect()
    assert ref() is None
    return kept


def test_network_figure_updated_in_place_matches_a_new_one():
    results = [
        message_exchange(nodes=3, loss=0.1, seed=0),
        message_exchange(nodes=3, loss=0.2, seed=0),
        message_exchange(nodes=4, loss=0.2, seed=0),  # the node lines move
        message_exchange(nodes=5, partition="split", seed=1),  # shading: a new background
        message_exchange(nodes=2, messages=5, loss=0.6, seed=2),
        message_exchange(nodes=3, seed=0),
    ]

    def draw(result, figure):
        return plots.exchange_figure(result, title="t", figsize=(9.0, 3.4), figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 4


def test_network_figure_of_the_default_size_updated_in_place_matches_a_new_one():
    results = [message_exchange(nodes=n, seed=3) for n in (3, 5, 3)]

    def draw(result, figure):
        return plots.exchange_figure(result, figure=figure)

    assert assert_updates_match_new_figures(draw, results) == 2  # a new size: cleared, kept


def test_partial_failure_figure_updated_in_place_matches_a_new_one():
    results = [
        partial_failures("slow", slow_factor=40, seed=0),
        partial_failures("slow", slow_factor=41, seed=0),
        partial_failures("down", seed=0),
        partial_failures("up", workers=8, seed=3),
    ]

    def draw(result, figure):
        return plots.partial_failure_figure(result, title="t", timeout_s=1.0, figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 1


def test_retry_timeline_updated_in_place_matches_a_new_one():
    results = [
        timeline(base_s=1.0, seed=0),
        timeline(base_s=1.2, seed=0),
        timeline("full", base_s=0.5, cap_s=4.0, max_attempts=6, budget=True, seed=0),
        timeline(clients=8, seed=1),  # more lanes: a new figure
        timeline(clients=8, outage_s=0.0, seed=1),
    ]

    def draw(result, figure):
        return plots.retry_timeline(result, title="t", figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 2


def test_contention_figure_updated_in_place_matches_a_new_one():
    every = ("none", "exponential", "full", "equal", "decorrelated")
    results = [
        contention_runs(every, clients=40, seed=0),
        contention_runs(every, clients=50, seed=0),
        contention_runs(("full", "exponential"), clients=50, seed=0),
        contention_runs(("full", "exponential"), clients=20, seed=2),
    ]

    def draw(result, figure):
        return plots.contention_run_figure(result, figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 1


def test_lww_loss_figure_updated_in_place_matches_a_new_one():
    gaps = (0.0, 0.01, 0.02, 0.05)
    results = [
        lww_skew(skews_s=[0.02], gaps_s=gaps, pairs=100, seed=0),
        lww_skew(skews_s=[0.021], gaps_s=gaps, pairs=100, seed=0),
        lww_skew(skews_s=[0.005], gaps_s=gaps, pairs=100, drift=5e-4, seed=1),
    ]

    def draw(result, figure):
        return plots.lww_loss_figure(result, mark_gap_s=0.01, title="t", figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 1


def test_a_kept_background_gives_the_picture_of_a_full_draw():
    fig, ax = plots.new_figure(figsize=(3.0, 2.0), dpi=50)
    ax.axhline(0.5, zorder=3)  # still, above the moving line in z-order: drawn under it
    (line,) = ax.plot([0, 1], [0, 1], zorder=2)
    keep_background(fig, "key", moving=[line])
    first = figure_png(fig)
    assert figure_png(fig) == first and fig.canvas.full_draws == 1  # the background is kept
    line.set_ydata([1, 0])
    assert np.array_equal(pixels(figure_png(fig)), pixels(saved(fig)))
    ax.set_xlim(0, 2)  # the limits are part of the key
    assert np.array_equal(pixels(figure_png(fig)), pixels(saved(fig)))
    assert fig.canvas.full_draws == 2  # the new limits: drawn from nothing
    keep_background(fig, "key", moving=[])
    assert not line.get_animated()  # no longer moving: drawn as any other artist


def test_keep_background_refuses_what_it_cannot_use():
    fig, ax = plots.new_figure()
    other, other_ax = plots.new_figure()
    with pytest.raises(TypeError, match=r"key=\[1\] must be hashable"):
        keep_background(fig, [1], moving=[])
    with pytest.raises(TypeError, match="moving must hold matplotlib artists"):
        keep_background(fig, 1, moving=["line"])
    with pytest.raises(ValueError, match="moving_y must hold axes of fig"):
        keep_background(fig, 1, moving=[], moving_y=[other_ax])
    with pytest.raises(TypeError, match="fig=str must be a matplotlib Figure"):
        keep_background("fig", 1, moving=[])


def test_round_up_rounds_to_a_fraction_of_the_power_of_ten():
    assert [round_up(v) for v in (0.87, 2.31, 10.0, 141.0)] == [0.88, 2.4, 10.0, 160.0]
    assert round_up(12.2, 0.1) == 13.0 and round_up(12.2, 0.5) == 15.0
    with pytest.raises(ValueError, match="value=0 must be a positive finite number"):
        round_up(0)
    with pytest.raises(ValueError, match="fraction=0.3 must be one of"):
        round_up(1.0, 0.3)


def test_set_titles_changes_what_finish_drew_and_clear_figure_empties_the_axes():
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1], label="a")
    plots.finish(fig, ax, title="before", subtitle="2 calls")
    title, subtitle = set_titles(ax, "after", "3 calls")
    assert ax.get_title(loc="left") == "after" and subtitle.get_text() == "3 calls"
    ax = clear_figure(fig, (5.0, 2.0))
    assert not ax.lines and not fig.legends and not ax.texts
    with pytest.raises(ValueError, match="gave this axes no subtitle"):
        set_titles(ax, "title", "subtitle")


@pytest.mark.parametrize(
    "draw",
    [
        lambda figure: plots.exchange_figure(message_exchange(messages=5), figure=figure),
        lambda figure: plots.partial_failure_figure(partial_failures(duration_s=2), figure=figure),
        lambda figure: plots.retry_timeline(timeline(clients=2), figure=figure),
        lambda figure: plots.contention_run_figure(
            contention_runs("full", clients=10), figure=figure
        ),
        lambda figure: plots.lww_loss_figure(lww_skew(pairs=10), figure=figure),
    ],
)
def test_the_figure_to_update_must_be_a_figure(draw):
    with pytest.raises(TypeError, match="figure=str must be a matplotlib Figure"):
        draw("figure")
    other, _ = plots.new_figure()  # a figure another plot made: this plot draws a new one
    assert draw(other) is not other


def _figure():
    fig, ax = plots.new_figure()
    line = ax.add_line(Line2D([0, 1], [0, 1]))
    label = ax.text(0.5, 0.5, "still")
    plots.finish(fig, ax, title="t")
    keep_background(fig, "demo", moving=[line])
    return fig, ax, line, label, keep(fig, "demo", {"line": line})


def test_only_a_change_of_a_still_part_draws_the_figure_from_nothing():
    fig, ax, line, label, _ = _figure()
    first = figure_png(fig)
    assert isinstance(fig.canvas, LiveCanvas) and fig.canvas.full_draws == 1
    line.set_data([0, 1], [1, 0])
    moved = figure_png(fig)
    assert fig.canvas.full_draws == 1 and moved != first
    set_limits(ax, x=ax.get_xlim())  # the same limits: nothing changes
    set_text(label, "still")
    assert figure_png(fig) == moved and fig.canvas.full_draws == 1
    set_text(label, "moved")  # a still part changed: drawn again, from nothing
    assert figure_png(fig) != moved and fig.canvas.full_draws == 2
    set_limits(ax, x=(0, 2))
    figure_png(fig)
    assert fig.canvas.full_draws == 3
    fig.legends[0].get_texts()[0].set_text("renamed") if fig.legends else label.set_color("red")
    figure_png(fig)  # a change inside a still artist (a legend's text) is seen too
    assert fig.canvas.full_draws == 4


def test_a_tight_picture_and_a_plain_one_of_the_same_figure_agree():
    fig, *_ = _figure()
    plain = figure_png(fig)
    assert figure_png(fig, tight=True) != plain  # cropped: drawn from nothing, at its own size
    assert figure_png(fig) == plain


def test_kept_parts_belong_to_their_kind_only():
    fig, *_, parts = _figure()
    assert kept(fig, "demo") is parts
    assert kept(fig, "other") is None and kept(None, "demo") is None
    plain, _ = plots.new_figure()
    assert kept(plain, "demo") is None
    with pytest.raises(TypeError, match="figure=str"):
        kept("fig", "demo")
    with pytest.raises(TypeError, match=r"kind=\['demo'\] must be hashable"):
        keep(plain, ["demo"], {})


def test_a_kept_figure_is_freed_with_its_last_reference():
    fig, *_ = _figure()
    figure_png(fig)
    ref = weakref.ref(fig)
    del fig, _
    gc.collect()
    assert ref() is None  # nothing global holds it


def test_breaker_timeline_updated_in_place_matches_a_new_one():
    results = [
        breakers.transitions(seed=0, duration_s=60),
        breakers.transitions(seed=1, duration_s=60),  # same layout: kept
        breakers.transitions(breaker="course", seed=0, duration_s=60),  # no rates: a new one
        breakers.transitions(seed=2, duration_s=90),
        breakers.transitions(seed=2, duration_s=90, schedule="slow"),
    ]

    def draw(result, figure):
        return plots.breaker_timeline(result, compact=True, title=f"seed {result.params['seed']}",
                                      figure=figure)  # fmt: skip

    # a breaker keeping rates after one keeping none is another layout
    assert assert_updates_match_new_figures(draw, results) == 2


def test_saga_timeline_updated_in_place_matches_a_new_one():
    results = [
        saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.1),
        saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.3),
        saga_run("course", crash_after_step="reserve_stock"),
        saga_run(orders=3, idempotency=False, duplicate=0.3, seed=2),
        saga_run(orders=3, duplicate=0.3, seed=4, loss=0.1),
    ]

    def draw(result, figure):
        return plots.saga_timeline(result, compact=True, figure=figure)

    assert assert_updates_match_new_figures(draw, results) >= 2


def test_cap_timeline_updated_in_place_matches_a_new_one():
    results = [
        cap.run("cp", seed=0),
        cap.run("cp", seed=1, nodes=3),  # fewer lanes: the same figure, shorter
        cap.run("cp", seed=1, nodes=7),
        cap.run("ap", seed=0),
        cap.run("cp", seed=0, partition="none"),
    ]
    lanes = []

    def draw(result, figure):
        figure = plots.cap_timeline(result, figure=figure)
        lanes.append(len(figure.axes[0].get_yticklabels()))
        return figure

    assert assert_updates_match_new_figures(draw, results) >= 2
    assert lanes[-1] == 5


def test_use_case_figure_updated_in_place_matches_a_new_one():
    tables = [
        cap.compare_use_case("e-commerce inventory", ("cp", "ap"), seed=seed).frame
        for seed in (0, 1, 2)
    ]
    tables.append(cap.compare_use_case("banking", ("cp", "course-quorum", "ap"), seed=0).frame)
    tables.append(cap.compare_use_case("banking", ("cp", "course-quorum", "ap"), seed=3).frame)

    def draw(table, figure):
        return plots.use_case_figure(table, figure=figure)

    assert assert_updates_match_new_figures(draw, tables) >= 3


def test_pbs_figure_updated_in_place_matches_a_new_one():
    results = [
        pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], trials=20_000, seed=0),
        pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], trials=20_000, seed=1),
        pbs_staleness(["LNKD-SSD"], quorums=[(3, 2, 1)], trials=20_000, seed=0),
        pbs_staleness(["YMMR"], quorums=[(3, 2, 2)], trials=20_000, seed=0),  # strict
        # a new N: the legend loses the paper's stars, the k panel's y limits move
        pbs_staleness(["YMMR"], quorums=[(4, 1, 1)], trials=20_000, seed=0),
        pbs_staleness(["YMMR"], quorums=[(5, 1, 2)], trials=20_000, seed=0),
        pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], trials=20_000, seed=0),  # stars again
    ]

    def draw(result, figure):
        return plots.pbs_figure(result, figure=figure)

    assert assert_updates_match_new_figures(draw, results) == 6
    figure = None
    for result in results:  # the moving legend and y axis spare drawing the figure anew
        figure = draw(result, figure)
    assert figure.canvas.full_draws <= 2


def test_session_timeline_updated_in_place_matches_a_new_one():
    results = [
        read_routing("any", clients=2, cycles=5, seed=0),
        read_routing("any", clients=2, cycles=5, seed=1),
        read_routing("primary", clients=3, cycles=6, fault="primary-crash", seed=0),
        read_routing("any", clients=2, cycles=5, nodes=4, seed=0),  # another node: a new one
    ]

    def draw(result, figure):
        return plots.session_timeline(result, figure=figure)

    assert assert_updates_match_new_figures(draw, results) == 2


def test_session_timeline_keeps_its_background_while_the_legend_stays_the_same():
    result = read_routing("any", clients=2, cycles=5, seed=0)
    fig = plots.session_timeline(result)
    first = figure_png(fig)
    drawn = fig.canvas.full_draws
    plots.session_timeline(result, figure=fig)  # the same entries: no new legend, no full draw
    assert figure_png(fig) == first and fig.canvas.full_draws == drawn
