"""The replication timeline (distlab.plots.replication): the artists carry the run's data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from distlab import plots
from distlab.experiments.failover import failover_run
from distlab.plots.replication import stale_read_rows
from distlab.plots.style import STATE_COLORS, outcome_color

from .conftest import fig_title, figure_legend_labels, png, same_color


@pytest.fixture(scope="module")
def run():
    return failover_run(seed=0)


def _lines(fig) -> dict:
    return {line.get_label(): line for line in fig.axes[0].lines}


def _lane_y(fig) -> dict:
    ax = fig.axes[0]
    return {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}


def _cut(table, variant):
    return table[table["variant"] == variant].reset_index(drop=True)


def test_every_apply_is_a_tick_on_its_node_lane_and_joined_to_where_it_started(run):
    fig = plots.replication_timeline(run, variant="async")
    applied = _cut(run.applied, "async")
    y = _lane_y(fig)
    assert list(y) == ["n1", "n2", "n3"] and y["n1"] > y["n2"] > y["n3"]
    ticks = _lines(fig)["write applied"]
    drawn = sorted(zip(ticks.get_xdata(), ticks.get_ydata()))
    expected = sorted(zip(applied["time"], applied["node"].map(y)))
    assert np.allclose(drawn, expected)
    (segments,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(segments.get_segments()) == len(applied) - applied["stamp"].nunique()


def test_after_a_failover_a_write_propagates_from_the_new_primary_not_the_dead_one(run):
    # lsn 14 reached n3 before the crash and n2 only at 1.56 s, shipped by the new primary n3
    fig = plots.replication_timeline(run, variant="async")
    y = _lane_y(fig)
    failover = _cut(run.failovers, "async").iloc[0]
    assert (failover.old, failover.new) == ("n1", "n3")
    (segments,) = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    after = [seg for seg in segments.get_segments() if seg[1][0] >= failover.time]
    assert after, "some writes reach a replica after the failover"
    assert all(seg[0][1] == y["n3"] for seg in after if seg[1][1] == y["n2"])
    applied = _cut(run.applied, "async")
    lsn14 = applied[(applied["lsn"] == 14) & (applied["node"] == "n2")]
    t14 = float(lsn14["time"].iloc[0])
    assert t14 > failover.time
    (seg,) = [seg for seg in after if np.isclose(seg[1][0], t14) and seg[1][1] == y["n2"]]
    assert seg[0][1] == y["n3"]


def test_reads_are_fresh_or_stale_as_the_frame_says_and_lost_writes_are_crossed(run):
    fig = plots.replication_timeline(run, variant="async")
    frame = _cut(run.frame, "async")
    lines = _lines(fig)
    stale = frame[frame["outcome"] == "stale_read"]
    fresh = frame[(frame["f"] == "read") & (frame["outcome"] == "ok")]
    assert len(stale) == 3
    assert len(lines["stale read"].get_xdata()) == len(stale)
    assert len(lines["fresh read"].get_xdata()) == len(fresh)
    assert same_color(lines["stale read"].get_color(), outcome_color("stale_read"))
    assert same_color(lines["fresh read"].get_color(), outcome_color("ok"))
    # the stale reads sit on the new primary's lane, after the failover
    y = _lane_y(fig)
    assert set(np.round(lines["stale read"].get_ydata() - 0.18, 6)) == {y["n3"]}
    assert min(lines["stale read"].get_xdata()) > run.failovers["time"].iloc[0]
    crossed = lines["acknowledged write lost"]
    lost = _cut(run.applied, "async").query("lost")
    assert sorted(crossed.get_xdata()) == pytest.approx(sorted(lost["time"]))
    assert set(crossed.get_ydata()) == {y["n1"]}  # only the old primary ever had them
    assert same_color(crossed.get_color(), outcome_color("lost_write"))
    assert any("4 acknowledged writes lost" in t.get_text() for t in fig.axes[0].texts)


def test_crash_promotion_roles_and_violations_are_marked(run):
    fig = plots.replication_timeline(run, variant="async", title="async failover")
    ax = fig.axes[0]
    y = _lane_y(fig)
    (band,) = [p for p in ax.patches + ax.artists if isinstance(p, Rectangle)
               and p.get_label() == "crash n1"]  # fmt: skip
    assert band.get_x() == pytest.approx(1.0) and band.get_width() == pytest.approx(2.0)
    assert band.get_y() < y["n1"] < band.get_y() + band.get_height()
    assert same_color(band.get_facecolor(), STATE_COLORS["crashed"])
    lines = _lines(fig)
    star = lines["promoted to primary"]
    assert list(star.get_xdata()) == [pytest.approx(1.5)] and list(star.get_ydata()) == [y["n3"]]
    primary = lines["primary"]
    xs, ys = primary.get_xdata(), primary.get_ydata()
    # n1 is the primary until its crash at 1 s, not until the promotion at 1.5 s
    assert (xs[0], xs[1], ys[0]) == (0.0, pytest.approx(1.0), y["n1"])
    assert (xs[3], ys[3]) == (pytest.approx(1.5), y["n3"])
    rings = lines["session guarantee violated"]
    assert len(rings.get_xdata()) == len(run.sessions["async"].violations) == 2
    assert fig_title(fig) == "async failover"
    labels = figure_legend_labels(fig)
    assert {"crash n1", "primary", "replica", "write applied", "propagation", "fresh read",
            "stale read", "acknowledged write lost", "promoted to primary",
            "session guarantee violated"} <= set(labels)  # fmt: skip
    assert png(fig).startswith(b"\x89PNG")


def test_sync_marks_unavailable_writes_and_no_ring_without_violations(run):
    fig = plots.replication_timeline(run, variant="sync", compact=True)
    assert fig.dpi == 80
    lines = _lines(fig)
    frame = _cut(run.frame, "sync")
    unavailable = lines["unavailable (at its start)"]
    assert len(unavailable.get_xdata()) == int((frame["outcome"] == "unavailable").sum()) == 8
    assert same_color(unavailable.get_color(), outcome_color("unavailable"))
    assert "session guarantee violated" not in lines
    assert "acknowledged write lost" not in lines
    assert "discarded, never acknowledged" in lines  # applied at the old primary, never acked
    assert "(sync)" in fig_title(fig)


def test_an_explicit_report_is_drawn_and_one_without_violations_hides_the_rings(run):
    from distlab.sessions import check_sessions

    clean = check_sessions(run.histories["sync"])
    fig = plots.replication_timeline(run, variant="async", report=clean)
    assert "session guarantee violated" not in _lines(fig)


def test_a_run_without_variants_failovers_or_crashes_draws_too():
    """What a session experiment has: operations and applies only; stale reads computed."""
    frame = pd.DataFrame({
        "client": ["c1", "c1", "c1"], "node": ["n1", "n2", "n2"], "f": ["write", "read", "read"],
        "key": ["x"] * 3, "stamp": [(1, 1, 1), None, (1, 1, 1)], "start": [0.0, 0.1, 0.6],
        "end": [0.01, 0.11, 0.61], "outcome": ["ok", "ok", "ok"],
    })  # fmt: skip
    applied = pd.DataFrame({"node": ["n1", "n2"], "time": [0.005, 0.5], "key": ["x", "x"],
                            "stamp": [(1, 1, 1), (1, 1, 1)]})  # fmt: skip
    fig = plots.replication_timeline(SimpleNamespace(frame=frame, applied=applied))
    lines = _lines(fig)
    assert list(lines["stale read"].get_xdata()) == [pytest.approx(0.105)]
    assert list(lines["fresh read"].get_xdata()) == [pytest.approx(0.605)]
    assert "promoted to primary" not in lines
    assert stale_read_rows(frame) == [1]


def test_stale_reads_of_the_figure_are_the_experiments(run):
    for variant in ("async", "semi-sync", "sync"):
        frame = _cut(run.frame, variant)
        expected = frame.index[frame["outcome"] == "stale_read"].tolist()
        assert stale_read_rows(frame) == expected


def test_refuses_what_it_cannot_draw(run):
    with pytest.raises(TypeError, match="result="):
        plots.replication_timeline(run.summary)
    with pytest.raises(ValueError, match="variant='semisync'"):
        plots.replication_timeline(run, variant="semisync")
    with pytest.raises(TypeError, match="title"):
        plots.replication_timeline(run, title=3)
    with pytest.raises(TypeError, match="compact"):
        plots.replication_timeline(run, compact="yes")
    with pytest.raises(TypeError, match="report="):
        plots.replication_timeline(run, report="all")
    broken = SimpleNamespace(frame=run.frame.drop(columns=["stamp"]), applied=run.applied)
    with pytest.raises(ValueError, match="result.frame is missing column"):
        plots.replication_timeline(broken)
    broken = SimpleNamespace(frame=run.frame, applied=run.applied.drop(columns=["time"]))
    with pytest.raises(ValueError, match="result.applied is missing column"):
        plots.replication_timeline(broken)
    broken = SimpleNamespace(frame=run.frame.assign(outcome="success"), applied=run.applied)
    with pytest.raises(ValueError, match="success"):
        plots.replication_timeline(broken)
    with pytest.raises(ValueError, match="frame"):
        stale_read_rows(run.frame.drop(columns=["key"]))


@pytest.fixture(scope="module")
def sweep_summaries():
    from distlab.experiments import sweep

    return sweep(failover_run, {"replication_lag_s": [0.0, 0.2]}, seeds=range(3), table="summary")


def test_cost_figure_draws_the_mean_over_seeds_per_mode_and_lag(sweep_summaries):
    from distlab.plots.replication import REPLICATION_STYLES

    fig = plots.failover_cost_figure(sweep_summaries)
    assert len(fig.axes) == 3
    columns = ["lost_acknowledged", "write_p99_s", "write_outage_s"]
    means = sweep_summaries.groupby(["variant", "replication_lag_s"])[columns].mean()
    for ax, column in zip(fig.axes, columns):
        lines = {line.get_label(): line for line in ax.lines}
        for mode in ("async", "semi-sync", "sync"):
            line = lines[mode]
            assert list(line.get_xdata()) == [0.0, 0.2]
            assert np.allclose(line.get_ydata(), means.loc[mode, column].to_numpy())
            assert same_color(line.get_color(), REPLICATION_STYLES[mode][0])
        seeds = [line for line in ax.lines if line.get_label() == "_seeds"]
        assert sum(len(line.get_xdata()) for line in seeds) == len(sweep_summaries)
    lost = {line.get_label(): line.get_ydata() for line in fig.axes[0].lines}
    assert lost["async"][1] > 0 and list(lost["semi-sync"]) == list(lost["sync"]) == [0, 0]
    assert figure_legend_labels(fig) == ["async", "semi-sync", "sync"]
    assert "3 runs per mode and lag" in fig.axes[0].texts[0].get_text()
    assert png(fig).startswith(b"\x89PNG")


def test_cost_figure_marks_latency_points_that_rest_on_few_writes():
    from distlab.experiments import sweep
    from distlab.plots.replication import FEW_ACKNOWLEDGED

    runs = sweep(failover_run, {"replication_lag_s": [0.0, 0.5]}, seeds=range(2), table="summary")
    fig = plots.failover_cost_figure(runs)
    latency = fig.axes[1]
    hollow = [line for line in latency.lines if line.get_label() == "_few"]
    n = runs.groupby(["variant", "replication_lag_s"])["acknowledged"].median()
    few = n[n < FEW_ACKNOWLEDGED]
    assert len(few) >= 1 and all(lag == 0.5 for _, lag in few.index)  # sync at a long lag
    assert sum(len(line.get_xdata()) for line in hollow) == len(few)
    labels = [t.get_text() for t in latency.texts]
    # each label counts the writes behind its point: the runs with a latency, and their writes
    expected = set()
    for (mode, lag), _ in few.items():
        rows = runs[(runs["variant"] == mode) & (runs["replication_lag_s"] == lag)]
        measured = rows[rows["write_p99_s"].notna()]
        if len(measured):
            writes = int(measured["acknowledged"].sum())
            expected.add(f"{writes} write{'s' if writes != 1 else ''}, in {len(measured)} of "
                         f"{len(rows)} runs")  # fmt: skip
    assert expected and expected == set(labels)
    assert not any(line.get_label() == "_few" for line in fig.axes[0].lines)
    assert "hollow: under 5 acknowledged per run" in fig.axes[0].texts[0].get_text()


def test_cost_figure_refuses_what_it_cannot_draw(run, sweep_summaries):
    with pytest.raises(ValueError, match="summaries is missing column.*replication_lag_s"):
        plots.failover_cost_figure(run.summary.reset_index())
    with pytest.raises(TypeError, match="summaries="):
        plots.failover_cost_figure(run)
    with pytest.raises(ValueError, match="no rows"):
        plots.failover_cost_figure(sweep_summaries.iloc[:0])
    with pytest.raises(ValueError, match="variant='quorum'"):
        plots.failover_cost_figure(sweep_summaries.assign(variant="quorum"))
    with pytest.raises(TypeError, match="title"):
        plots.failover_cost_figure(sweep_summaries, title=1)
