"""Figures redrawn in place (distlab.plots.live): only the moving parts drawn again, and an
updated figure gives the same picture as one built anew, whatever came before."""

from __future__ import annotations

import pytest
from matplotlib.lines import Line2D

from distlab.experiments import breakers, cap
from distlab.experiments.sagas import saga_run
from distlab.plots import breaker_timeline, cap_timeline, saga_timeline, use_case_figure
from distlab.plots.display import figure_png
from distlab.plots.live import LiveCanvas, animate, keep, kept, set_limits, set_text
from distlab.plots.style import finish, new_figure


def _figure():
    fig, ax = new_figure()
    line = ax.add_line(Line2D([0, 1], [0, 1]))
    label = ax.text(0.5, 0.5, "still")
    animate([line])
    finish(fig, ax, title="t")
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


def test_a_tight_picture_and_a_plain_one_of_the_same_figure_agree():
    fig, *_ = _figure()
    plain = figure_png(fig)
    assert figure_png(fig, tight=True) != plain  # cropped: drawn from nothing, at its own size
    assert figure_png(fig) == plain


def test_kept_parts_belong_to_their_kind_only():
    fig, *_, parts = _figure()
    assert kept(fig, "demo") is parts
    assert kept(fig, "other") is None and kept(None, "demo") is None
    plain, _ = new_figure()
    assert kept(plain, "demo") is None
    with pytest.raises(TypeError, match="figure=str"):
        kept("fig", "demo")
    with pytest.raises(TypeError, match="parts=list"):
        keep(plain, "demo", [])


def _same_as_new(plot, runs):
    """Each run drawn on the figure of the one before gives the picture a new figure gives."""
    figure = None
    for run in runs:
        updated = plot(run, figure)
        fresh = plot(run, None)
        assert updated is not fresh
        assert figure_png(updated) == figure_png(fresh), run
        figure = updated
    return figure


def test_breaker_timeline_updated_in_place_looks_new():
    runs = [
        breakers.transitions(seed=0, duration_s=60),
        breakers.transitions(seed=1, duration_s=60),  # same layout: kept
        breakers.transitions(breaker="course", seed=0, duration_s=60),  # no rates: a new one
        breakers.transitions(seed=2, duration_s=90),
        breakers.transitions(seed=2, duration_s=90, schedule="slow"),
    ]
    kept_ = []

    def plot(run, figure):
        fig = breaker_timeline(run, compact=True, title=f"seed {run.params['seed']}",
                               figure=figure)  # fmt: skip
        kept_.append(fig is figure)
        return fig

    _same_as_new(plot, runs)
    # the updates (each run is drawn twice): a breaker keeping rates after one keeping none is
    # another layout
    assert kept_[2::2] == [True, False, False, True]


def test_saga_timeline_updated_in_place_looks_new():
    runs = [
        saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.1),
        saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.3),
        saga_run("course", crash_after_step="reserve_stock"),
        saga_run(orders=3, idempotency=False, duplicate=0.3, seed=2),
        saga_run(orders=3, duplicate=0.3, seed=4, loss=0.1),
    ]
    _same_as_new(lambda run, fig: saga_timeline(run, compact=True, figure=fig), runs)


def test_cap_timeline_updated_in_place_looks_new():
    runs = [
        cap.run("cp", seed=0),
        cap.run("cp", seed=1, nodes=3),  # fewer lanes: the same figure, shorter
        cap.run("cp", seed=1, nodes=7),
        cap.run("ap", seed=0),
        cap.run("cp", seed=0, partition="none"),
    ]
    last = _same_as_new(lambda run, fig: cap_timeline(run, figure=fig), runs)
    assert len(last.axes[0].get_yticklabels()) == 5


def test_use_case_figure_updated_in_place_looks_new():
    tables = [
        cap.compare_use_case("e-commerce inventory", ("cp", "ap"), seed=seed).frame
        for seed in (0, 1, 2)
    ]
    tables.append(cap.compare_use_case("banking", ("cp", "course-quorum", "ap"), seed=0).frame)
    tables.append(cap.compare_use_case("banking", ("cp", "course-quorum", "ap"), seed=3).frame)
    _same_as_new(lambda table, fig: use_case_figure(table, figure=fig), tables)


def test_a_kept_figure_is_freed_with_its_last_reference():
    import gc
    import weakref

    fig, *_ = _figure()
    figure_png(fig)
    ref = weakref.ref(fig)
    del fig, _
    gc.collect()
    assert ref() is None  # nothing global holds it (its parts live on its own canvas)
