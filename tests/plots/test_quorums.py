"""plots.quorums: the simulated quorum store against the Monte Carlo, convergence after the heal
against the anti-entropy period, and the adds lost under last-writer-wins against siblings."""

from __future__ import annotations

import numpy as np
import pytest

from distlab import plots
from distlab.experiments import convergence, quorums

from .conftest import all_legend_labels, fig_title, png


@pytest.fixture(scope="module")
def visibility():
    return quorums.quorum_visibility(times_ms=(0.0, 5.0, 20.0), trials=150, mc_trials=20_000)


@pytest.fixture(scope="module")
def converge():
    return [
        convergence.anti_entropy_convergence((0.1, 0.5, 0.0), partition_s=0.5, seed=s)
        for s in (0, 1)
    ]


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_agreement_draws_the_curve_and_each_simulated_point_with_2_se(visibility):
    fig = plots.quorum_agreement_figure(visibility)
    ax = fig.axes[0]
    (line,) = ax.get_lines()[:1]
    assert np.allclose(line.get_ydata(), visibility.curve["mc_p"])
    assert np.allclose(line.get_xdata(), visibility.curve["t_ms"])
    bars = ax.containers[0]
    s = visibility.summary
    assert np.allclose(bars.lines[0].get_ydata(), s["sim_p"])
    segments = bars.lines[2][0].get_segments()
    assert np.allclose([seg[1][1] - seg[0][1] for seg in segments], 4 * s["sim_se"])
    assert "LNKD-DISK" in _texts(ax) and "3 of 3 points agree" in " ".join(_texts(ax))
    assert "simulated store ± 2 se" in all_legend_labels(fig)
    assert png(fig).startswith(b"\x89PNG")


def test_agreement_has_one_panel_per_model_and_marks_a_disagreeing_point(visibility):
    other = quorums.quorum_visibility("exponential", times_ms=(0.0, 2.0), trials=100,
                                      mc_trials=5000)  # fmt: skip
    broken = other.summary.copy()
    broken["agrees"] = [True, False]
    forged = type(other)(frame=other.frame, summary=broken, params=other.params,
                         curve=other.curve)  # fmt: skip
    fig = plots.quorum_agreement_figure([visibility, forged])
    assert len(fig.axes) == 2 and "exponential" in _texts(fig.axes[1])
    assert "simulated, disagrees" in all_legend_labels(fig)
    assert "4 of 5 points agree" in " ".join(_texts(fig.axes[0]))


def test_convergence_draws_a_point_per_run_and_off_as_never(converge):
    fig = plots.convergence_figure(converge)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["0.1", "0.5", "off"]
    assert "never" in [t.get_text() for t in ax.get_yticklabels()]
    done, never = ax.collections[:2]
    expected = sorted(v for r in converge for v in r.frame["converge_s"] if v == v)
    assert np.allclose(sorted(done.get_offsets()[:, 1]), expected)
    assert len(never.get_offsets()) == 2  # anti-entropy off, both seeds
    labels = all_legend_labels(fig)
    assert "never (within 60 s)" in labels and "median of the runs that converged" in labels
    assert "2 seeds" in " ".join(_texts(ax)) and "agree" in fig_title(fig)


def test_convergence_of_one_run_has_no_median_line(converge):
    labels = all_legend_labels(plots.convergence_figure(converge[0]))
    assert "time to converge" in labels and not any("median" in x for x in labels)


def test_lost_updates_against_clients_draws_lww_losing_and_siblings_keeping():
    runs = [convergence.lost_updates(clients=c, adds=4, partition_s=0.5) for c in (1, 3)]
    fig = plots.lost_updates_figure(runs)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "concurrent clients"
    lww, siblings = ax.get_lines()[:2]
    for line, mode in ((lww, "lww"), (siblings, "siblings")):
        shares = [r.summary.loc[mode, "lost_share"] * 100 for r in runs]
        assert np.allclose(line.get_ydata(), shares) and list(line.get_xdata()) == [1, 3]
    assert lww.get_ydata()[-1] > 0 and not siblings.get_ydata().any()
    assert all_legend_labels(fig)[:1] == ["last-writer-wins"]


def test_lost_updates_mean_labels_sit_beside_the_seed_dots_not_on_them():
    runs = [convergence.lost_updates(adds=4, partition_s=0.5, seed=s) for s in range(3)]
    fig = plots.lost_updates_figure(runs)
    ax = fig.axes[0]
    labels = [t for t in ax.texts if hasattr(t, "xyann")]
    assert len(labels) == 2  # one per mode at the one partition length
    for label in labels:
        # offset to the right of the mean (the dots share its x), centred on it vertically
        assert label.xyann[0] > 0 and label.xyann[1] == 0
        assert label.get_horizontalalignment() == "left"


def test_lost_updates_against_partition_length_by_default():
    fig = plots.lost_updates_figure(convergence.lost_updates(adds=3))
    assert fig.axes[0].get_xlabel() == "partition length (s)"


def test_bad_input_is_rejected_with_the_parameter_named(visibility, converge):
    with pytest.raises(TypeError, match="result=int must be the result of quorum_visibility"):
        plots.quorum_agreement_figure(3)
    with pytest.raises(ValueError, match="names a model twice"):
        plots.quorum_agreement_figure([visibility, visibility])
    with pytest.raises(ValueError, match=r"result=\[\]"):
        plots.convergence_figure([])
    other = convergence.anti_entropy_convergence((0.1, 0.5, 0.0), partition_s=1.0)
    with pytest.raises(ValueError, match="differ in \\['partition_s'\\]"):
        plots.convergence_figure([converge[0], other])
    a = convergence.lost_updates(clients=2, adds=2, partition_s=0.0)
    b = convergence.lost_updates(clients=3, adds=2, partition_s=0.5)
    with pytest.raises(ValueError, match="vary both"):
        plots.lost_updates_figure([a, b])
    with pytest.raises(ValueError, match="x='seed'"):
        plots.lost_updates_figure(a, x="seed")
    with pytest.raises(TypeError, match="title=1"):
        plots.lost_updates_figure(a, title=1)


def test_convergence_without_off_has_no_off_tick_and_no_never_row():
    run = convergence.anti_entropy_convergence((0.1, 0.2), partition_s=0.5)
    ax = plots.convergence_figure(run).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.2"]
    assert not any(label.startswith("never") for label in all_legend_labels(ax.figure))
    assert "never" not in [t.get_text() for t in ax.get_yticklabels()]


def test_lost_updates_figure_draws_the_crdt_mode_in_its_own_colour():
    from distlab.experiments.convergence import lost_updates
    from distlab.plots.quorums import lost_updates_figure

    result = lost_updates(("lww", "crdt"), seed=0)
    fig = lost_updates_figure(result)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    crdt = lines["a CRDT (OR-set) merged by the store"]
    assert crdt.get_color() != lines["last-writer-wins"].get_color()
    assert list(crdt.get_ydata()) == [0.0]  # the store merges: nothing lost
