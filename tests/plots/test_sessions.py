"""Figures of experiment 1 of notebook 05 (distlab.plots.sessions) and the replication timeline
of a read_routing run: what is drawn carries the run's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from distlab.experiments.read_routing import read_routing, ryw_grid
from distlab.plots.replication import replication_timeline, stale_read_rows
from distlab.plots.sessions import (
    FAULT_COLORS,
    PRICE_PANELS,
    guarantee_price_figure,
    ryw_rate_figure,
    session_timeline,
)

from .conftest import fig_title, figure_legend_labels, png

SMALL = {"clients": 2, "cycles": 6}


@pytest.fixture(scope="module")
def grid():
    return ryw_grid(["any", "primary"], lags_s=[0.05, 0.2], thinks_s=[0.0, 0.1, 0.3], cycles=8,
                    seed=0)  # fmt: skip


@pytest.fixture(scope="module")
def price_runs():
    variants = ["primary", "any", "read_your_writes"]
    return [read_routing(variants, fault=f, cycles=10, seed=0) for f in ("none", "replica-cut")]


def _panel_names(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == "variant"]


def test_ryw_rate_lines_carry_the_grid(grid):
    fig = ryw_rate_figure(grid)
    assert _panel_names(fig) == ["any", "primary"]
    for ax, variant in zip(fig.axes, ["any", "primary"]):
        solid = [line for line in ax.lines if line.get_linestyle() == "-"]
        assert [line.get_label() for line in solid] == ["lag 0.05 s", "lag 0.2 s"]
        for line, lag in zip(solid, [0.05, 0.2]):
            rows = grid.frame[(grid.frame["variant"] == variant) & (grid.frame["lag_s"] == lag)]
            assert list(line.get_xdata()) == sorted(rows["think_s"])
            assert np.allclose(line.get_ydata(), rows.sort_values("think_s")["ryw_violation_rate"])
    # exp(-think/lag) dashed, only where sessions read replicas unchecked
    dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    x, y = dashed[1].get_xdata(), dashed[1].get_ydata()
    assert np.allclose(y, (np.exp(-x / 0.2) + np.exp(-2 * x / 0.2)) / 2)
    assert not [line for line in fig.axes[1].lines if line.get_linestyle() == "--"]
    assert "dashed, in each lag's colour: its model\n(e^(-think/lag) + e^(-2 think/lag)) / 2" in (
        figure_legend_labels(fig)
    )
    assert "seed 0" in fig.axes[0].texts[-1].get_text()
    assert not [ln for ln in ryw_rate_figure(grid, model=False).axes[0].lines
                if ln.get_linestyle() == "--"]  # fmt: skip
    assert png(fig)


def test_ryw_rate_figure_rejects_bad_input(grid):
    with pytest.raises(ValueError, match="grid"):
        ryw_rate_figure(grid.frame.drop(columns="lag_s"))
    with pytest.raises(ValueError, match="no rows"):
        ryw_rate_figure(grid.frame.iloc[:0])
    with pytest.raises(TypeError, match="model"):
        ryw_rate_figure(grid, model="yes")
    with pytest.raises(TypeError, match="title"):
        ryw_rate_figure(grid, title=3)


def test_price_bars_carry_each_runs_summary(price_runs):
    fig = guarantee_price_figure(price_runs)
    assert len(fig.axes) == len(PRICE_PANELS)
    assert figure_legend_labels(fig) == ["no fault", "replica cut"]
    assert fig.axes[0].get_yticks().size == 3
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "primary", "any", "read_your_writes"]  # fmt: skip
    for ax, (column, _) in zip(fig.axes, PRICE_PANELS):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(bars) == 2 * 3
        scale = 1000.0 if column.endswith("_s") else 1.0
        for k, run in enumerate(price_runs):
            widths = [b.get_width() for b in bars[3 * k : 3 * k + 3]]
            assert np.allclose(widths, run.summary[column].to_numpy(float) * scale)
            assert all(b.get_facecolor()[:3] == bars[3 * k].get_facecolor()[:3]
                       for b in bars[3 * k: 3 * k + 3])  # fmt: skip
    p99 = [ln for ln in fig.axes[2].lines if ln.get_label() == "_p99"]
    assert np.allclose(p99[1].get_xdata(), price_runs[1].summary["read_latency_p99_s"] * 1000)
    # the lesson is on the figure: the token costs waits, and errors when its replica is cut
    s_cut = price_runs[1].summary
    assert s_cut.loc["read_your_writes", "waits"] > 0 and s_cut.loc["any", "waits"] == 0
    assert s_cut.loc["read_your_writes", "read_errors"] > 0
    assert "seed 0" in fig.axes[0].texts[-1].get_text()
    assert set(FAULT_COLORS) == {"none", "replica-cut", "replica-isolated", "primary-crash"}
    # the latency bars carry their values (a 4 ms bar on a 500 ms axis still reads)
    latency = fig.axes[[c for c, _ in PRICE_PANELS].index("read_latency_mean_s")]
    labels = [t.get_text() for t in latency.texts]
    means = np.concatenate([r.summary["read_latency_mean_s"].to_numpy(float) for r in price_runs])
    assert sorted(labels) == sorted(f"{m * 1000:.0f}" for m in means)


def test_price_figure_says_when_a_panel_is_empty(price_runs):
    fig = guarantee_price_figure(price_runs)
    for ax, (column, _) in zip(fig.axes, PRICE_PANELS):
        empty = all((r.summary[column] == 0).all() for r in price_runs)
        says = any(t.get_text() == "none in these runs" for t in ax.texts)
        assert says == empty
    redirects = fig.axes[[c for c, _ in PRICE_PANELS].index("redirects")]
    assert any(t.get_text() == "none in these runs" for t in redirects.texts)


def test_price_figure_takes_one_result_and_rejects_bad_input(price_runs):
    assert len(guarantee_price_figure(price_runs[0]).axes) == 6
    with pytest.raises(ValueError, match="empty"):
        guarantee_price_figure([])
    with pytest.raises(TypeError, match="results"):
        guarantee_price_figure("runs")
    with pytest.raises(TypeError, match=r"results\[1\]"):
        guarantee_price_figure([price_runs[0], 42])
    with pytest.raises(ValueError, match="one run per fault"):
        guarantee_price_figure([price_runs[0], price_runs[0]])


# -- the replication timeline of a read_routing run ---------------------------------------------


def test_replication_timeline_draws_a_read_routing_run_on_the_answering_node():
    r = read_routing(["guaranteed"], on_behind="primary", lag_s=0.3, **SMALL, seed=1)
    ops = r.frame
    assert ops["redirected"].any()
    fig = replication_timeline(r, compact=True)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    fresh = lines["fresh read"]
    lanes = {t.get_text(): y for t, y in zip(fig.axes[0].get_yticklabels(),
                                             fig.axes[0].get_yticks())}  # fmt: skip
    # every redirected read is drawn on the primary's lane, where it was answered
    reads = ops[(ops["f"] == "read") & (ops["outcome"] == "ok")]
    assert len(fresh.get_xdata()) == len(reads) and "stale read" not in lines
    on_primary = np.isclose(fresh.get_ydata(), lanes["n1"] + 0.18).sum()
    assert on_primary == int((reads["served_by"] == "n1").sum()) > 0
    ticks = lines["write applied"]
    assert len(ticks.get_xdata()) == len(r.applied)


def test_replication_timeline_rings_the_checkers_violations_of_a_read_routing_run():
    r = read_routing(["any"], **SMALL, seed=0)
    report = r.sessions["any"]
    assert report.violations
    fig = replication_timeline(r, compact=True)
    rings = [ln for ln in fig.axes[0].lines if ln.get_label() == "session guarantee violated"]
    assert len(rings[0].get_xdata()) == len(report.violations)
    stale = [ln for ln in fig.axes[0].lines if ln.get_label() == "stale read"][0]
    assert len(stale.get_xdata()) == len(stale_read_rows(r.frame)) > 0
    assert "seed 0" in fig.axes[0].texts[-1].get_text()


def test_replication_timeline_of_a_failover_shows_the_crash_and_the_promotion():
    r = read_routing(["primary"], fault="primary-crash", fault_at_s=0.6, fault_s=0.8, **SMALL,
                     seed=0)  # fmt: skip
    assert len(r.failovers) == 1 and len(r.crashes) == 1
    fig = replication_timeline(r, compact=True)
    labels = {line.get_label() for line in fig.axes[0].lines}
    assert "promoted to primary" in labels
    assert f"failover n1 -> {r.failovers['new'].iloc[0]}" in fig.axes[0].texts[-1].get_text()
    assert "(primary)" in fig_title(fig)


# -- the explorer's timeline --------------------------------------------------------------------


def _artists(fig) -> dict:
    return {line.get_label(): line for line in fig.axes[0].lines}


def test_session_timeline_shows_the_runs_counts_and_violations():
    r = read_routing(["any"], **SMALL, seed=0)
    fig = session_timeline(r)
    lines = _artists(fig)
    report, s = r.sessions["any"], r.summary.loc["any"]
    assert len(lines["guarantee violated"].get_xdata()) == len(report.violations) > 0
    assert len(lines["stale read"].get_xdata()) == len(stale_read_rows(r.frame)) > 0
    reads = int((r.frame["f"] == "read").sum())
    assert len(lines["fresh read"].get_xdata()) + len(lines["stale read"].get_xdata()) == reads
    assert len(lines["write applied"].get_xdata()) == len(r.applied)
    segments = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)][0]
    assert len(segments.get_segments()) == len(r.applied) - r.applied["stamp"].nunique()
    counts = fig.texts[0].get_text()
    violated = report.violated()
    assert f"RYW {violated['read_your_writes']}/2, MR {violated['monotonic_reads']}/2" in counts
    assert f"{int(s['waits'])} waits" in counts
    assert f"read {s['read_latency_mean_s'] * 1000:.0f} ms mean" in counts
    assert fig_title(fig) == "A session's reads: any"
    # the legend names only what occurs: no crash, no lost write, no promotion here
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "primary", "write applied", "fresh read", "stale read", "guarantee violated",
    ]  # fmt: skip
    # each ring says which guarantee broke in which session
    rings = [t.get_text() for t in fig.axes[0].texts if t.get_text()[:3] in ("RYW", "MR ")]
    assert sorted(rings) == sorted(
        f"{'RYW' if v.guarantee == 'read_your_writes' else 'MR'} {v.process}"
        for v in report.violations
    )


def test_session_timeline_updates_the_same_figure_in_place():
    first = read_routing(["any"], **SMALL, seed=0)
    fig = session_timeline(first)
    artists = _artists(fig)
    crash = read_routing(["guaranteed"], fault="primary-crash", fault_at_s=0.6, fault_s=0.8,
                         **SMALL, seed=0)  # fmt: skip
    assert session_timeline(crash, figure=fig, title="after") is fig
    lines = _artists(fig)
    assert all(lines[k] is artists[k] for k in artists)  # the same artists, new data
    assert len(lines["stale read"].get_xdata()) == 0  # all four guarantees: no stale read
    assert len(lines["guarantee violated"].get_xdata()) == 0
    new = crash.failovers["new"].iloc[0]
    lane = {t.get_text(): y for t, y in zip(fig.axes[0].get_yticklabels(),
                                            fig.axes[0].get_yticks())}  # fmt: skip
    assert list(lines["promoted to primary"].get_ydata()) == [lane[new]]
    bands = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(bands) == 1 and bands[0].get_x() == pytest.approx(0.6)
    # the old primary's thick line ends at its crash (0.6 s), not at the promotion
    primary_x = lines["primary"].get_xdata()
    assert primary_x[0] == 0.0 and primary_x[1] == pytest.approx(0.6)
    assert crash.failovers["time"].iloc[0] > 0.6
    assert fig_title(fig) == "after"
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["crash", "primary"]
    assert "promoted to primary" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert "guarantee violated" not in [t.get_text() for t in fig.legends[0].get_texts()]
    # back to a run without a fault: the band and the star go
    session_timeline(first, figure=fig)
    assert not [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(_artists(fig)["promoted to primary"].get_xdata()) == 0
    assert png(fig)


def test_session_timeline_rejects_bad_input():
    r = read_routing(["any", "sticky"], clients=1, cycles=2)
    with pytest.raises(TypeError, match="result"):
        session_timeline(r.frame)
    with pytest.raises(ValueError, match="variant='primary'"):
        session_timeline(r, variant="primary")
    with pytest.raises(TypeError, match="figure"):
        session_timeline(r, figure="fig")
    fig = session_timeline(r, variant="sticky")
    assert fig_title(fig).endswith("sticky") and not math.isnan(fig.axes[0].get_xlim()[1])


@pytest.mark.parametrize("seed", range(3))
def test_the_measured_rate_runs_above_the_dashed_model(seed):
    """What the figure's docstring says: a replica applies in order, so a write waits behind
    earlier ones and the measured rate is above the model of its own lag alone."""
    g = ryw_grid(["any", "sticky"], lags_s=[0.1, 0.5], thinks_s=[0.05, 0.2], cycles=15,
                 seed=seed)  # fmt: skip
    fig = ryw_rate_figure(g)
    for ax, variant in zip(fig.axes, ["any", "sticky"]):
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        for line, lag in zip(dashed, [0.1, 0.5]):
            rows = g.frame[(g.frame["variant"] == variant) & (g.frame["lag_s"] == lag)]
            model = np.interp(rows["think_s"], line.get_xdata(), line.get_ydata())
            gap = rows["ryw_violation_rate"].to_numpy() - model
            assert gap.min() > -0.05 and gap.mean() > 0.05, (variant, lag, gap)
