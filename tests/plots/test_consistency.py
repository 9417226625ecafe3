"""plots.consistency: t-visibility, k-staleness, the latency trade-off, the PBS explorer's figure
(updated in place), the cart and the counter."""

from __future__ import annotations

import numpy as np
import pytest

from distlab import plots
from distlab.experiments import crdt_anomalies, staleness

from .conftest import all_legend_labels, fig_title, png


@pytest.fixture(scope="module")
def run():
    return staleness.pbs_staleness(quorums=[(3, 1, 1), (3, 1, 2)], trials=20_000, points=30)


def _lines(ax):
    return [line for line in ax.get_lines() if line.get_label().endswith("Monte Carlo")]


def test_visibility_draws_each_quorum_beside_its_closed_form_and_the_papers_point(run):
    fig = plots.visibility_figure(run, model="LNKD-DISK")
    ax = fig.axes[0]
    labels = all_legend_labels(fig)
    for variant in ("N=3 R=1 W=1", "N=3 R=1 W=2", "N=3 R=2 W=2"):
        assert f"{variant}: Monte Carlo" in labels and f"{variant}: closed form 1 - p_s" in labels
    assert any(label.startswith("paper") for label in labels)
    assert ax.get_xscale() == "log" and "LNKD-DISK" in fig_title(fig)
    curve = _lines(ax)[0]
    frame = run.frame[(run.frame["model"] == "LNKD-DISK") & (run.frame["variant"] == "N=3 R=1 W=1")]
    assert np.allclose(curve.get_ydata(), frame["consistent"])
    assert png(fig).startswith(b"\x89PNG")


def test_visibility_without_the_papers_point_when_the_paper_has_none():
    r = staleness.pbs_staleness(["YMMR"], quorums=[(5, 1, 1)], trials=5000, points=10)
    labels = all_legend_labels(plots.visibility_figure(r))
    assert not any(label.startswith("paper") for label in labels)


def test_k_staleness_leaves_strict_quorums_out(run):
    fig = plots.k_staleness_figure(run)
    labels = all_legend_labels(fig)
    assert "N=3 R=1 W=1: p_s^k" in labels and "N=3 R=1 W=2: Monte Carlo" in labels
    assert not any("R=2 W=2" in label for label in labels)
    assert fig.axes[0].get_yscale() == "log"


def test_latency_tradeoff_has_a_panel_per_model_and_a_point_per_quorum(run):
    fig = plots.latency_tradeoff_figure(run)
    models = ["LNKD-SSD", "LNKD-DISK", "YMMR"]
    assert [ax.get_xlabel() for ax in fig.axes] == [f"{m}: write + read p99.9 (ms)" for m in models]
    # no panel title above the panels, where the figure's title and subtitle run
    assert all(ax.get_title(loc=loc) == "" for ax in fig.axes[1:] for loc in ("left", "right"))
    assert fig.axes[0].get_title(loc="right") == ""
    for ax, model in zip(fig.axes, ["LNKD-SSD", "LNKD-DISK", "YMMR"]):
        points = ax.collections[0].get_offsets()
        rows = run.summary.loc[model]
        assert len(points) == len(rows)
        assert np.allclose(points[:, 1], rows["t_999_s"] * 1000)


def test_pbs_figure_is_updated_in_place():
    first = staleness.pbs_staleness(["LNKD-SSD"], quorums=[(3, 1, 1)], trials=5000, points=20)
    second = staleness.pbs_staleness(["YMMR"], quorums=[(5, 2, 1)], trials=5000, points=20)
    fig = plots.pbs_figure(first)
    left = fig.axes[0]
    before = left.get_lines()[0].get_ydata().copy()
    title = fig.texts[0].get_text() if fig.texts else ""
    again = plots.pbs_figure(second, figure=fig)
    assert again is fig and len(fig.axes) == 2
    assert not np.array_equal(left.get_lines()[0].get_ydata(), before)
    texts = " ".join(t.get_text() for t in fig.texts) + fig.get_suptitle()
    assert "YMMR, N=5 R=2 W=1" in texts and texts != title
    assert "Monte Carlo of 5,000 trials" in texts  # the explorer's figures say their precision
    assert png(again).startswith(b"\x89PNG")


def test_pbs_figure_of_a_strict_quorum_says_it_is_never_stale():
    strict = staleness.pbs_staleness(["LNKD-DISK"], quorums=[(3, 2, 2)], trials=2000, points=10)
    fig = plots.pbs_figure(strict)
    assert "no read is stale" in " ".join(t.get_text() for t in fig.axes[1].texts)
    assert len(fig.axes[1].get_lines()[0].get_xdata()) == 0
    assert "every read sees the last write" in fig.get_suptitle()


def test_pbs_figure_builds_afresh_from_a_foreign_figure(run):
    from distlab.plots import new_figure

    other, _ = new_figure()
    assert plots.pbs_figure(run, figure=other) is not other
    with pytest.raises(TypeError, match="figure=3 must be a Figure"):
        plots.pbs_figure(run, figure=3)


def test_cart_and_counter_figures():
    cart = crdt_anomalies.cart_partition(carts=30)
    fig = plots.cart_figure(cart)
    bars = fig.axes[0].patches
    assert len(bars) == 4
    labels = all_legend_labels(fig)
    assert "deleted item back (its removal lost)" in labels
    assert not any("lost_write" in label for label in labels)
    widths = sorted(b.get_width() for b in bars)
    assert widths[-1] == max(
        cart.summary["resurrected"].max(), cart.summary["concurrent_kept"].max()
    )
    counter = crdt_anomalies.counter_redelivery()
    fig = plots.counter_figure(counter)
    labels = all_legend_labels(fig)
    assert {"merged by sum", "G-counter"} <= set(labels)
    assert not any("max" in label for label in labels)  # exercise 1 asks for the merge rule


@pytest.mark.parametrize(
    "figure", ["visibility_figure", "k_staleness_figure", "latency_tradeoff_figure", "pbs_figure"]
)
def test_wrong_input_is_refused_by_name(figure, run):
    with pytest.raises(TypeError, match="pbs_staleness"):
        getattr(plots, figure)(42)
    with pytest.raises(TypeError, match="title=3"):
        getattr(plots, figure)(run, title=3)


def test_an_unknown_model_is_refused(run):
    with pytest.raises(ValueError, match="model='X' is not one of"):
        plots.visibility_figure(run, model="X")
