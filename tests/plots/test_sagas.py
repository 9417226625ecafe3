"""Figures of notebook 04 (sagas): distlab.plots.sagas. The artists carry the data."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

from distlab import plots
from distlab.experiments.sagas import saga_end_states, saga_run
from distlab.plots.sagas import LANES
from distlab.plots.style import END_STATE_COLORS, STATE_COLORS, outcome_color
from distlab.sim.sagas import END_STATES

from .conftest import fig_title, figure_legend_labels, png, same_color


@pytest.fixture(scope="module")
def crashed():
    """distlab's saga: the card is declined after a crash; duplicates on the network."""
    return saga_run(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.2,
                    seed=1)  # fmt: skip


def _bars(fig):
    """(lane, op, outcome, filled, x0, x1) of every bar, from the collections' paths."""
    ax = fig.axes[0]
    rows = []
    for coll in ax.collections:
        if not isinstance(coll, PolyCollection):
            continue
        op = "compensation" if coll.get_hatch() else "action"
        filled = len(coll.get_facecolor()) > 0 and coll.get_facecolor()[0][3] > 0
        for path in coll.get_paths():
            xs, ys = path.vertices[:, 0], path.vertices[:, 1]
            lane = LANES[len(LANES) - 1 - int(ys.mean())]
            rows.append((lane, op, coll.get_edgecolor()[0] if not filled else
                         coll.get_facecolor()[0], filled, xs.min(), xs.max()))  # fmt: skip
    return rows


def test_timeline_draws_one_bar_per_request_in_its_lane_coloured_by_outcome(crashed):
    fig = plots.saga_timeline(crashed)
    bars = _bars(fig)
    frame = crashed.frame
    assert len(bars) == len(frame)
    per_lane = pd.Series([b[0] for b in bars]).value_counts().to_dict()
    assert per_lane == frame["participant"].value_counts().to_dict()
    expected = sorted(zip(frame["participant"], frame["op"], frame["took_effect"], frame["sent"]))
    assert sorted((b[0], b[1], b[3], pytest.approx(b[4])) for b in bars) == expected
    for lane, op, color, _filled, x0, _x1 in bars:
        row = frame[(frame["participant"] == lane) & (frame["op"] == op)
                    & (frame["sent"].sub(x0).abs() < 1e-9)].iloc[0]  # fmt: skip
        assert same_color(color, outcome_color(row["outcome"]))
    # the declined charge took no effect: hollow, in the colour of an error
    refused = [b for b in bars if b[0] == "payment" and b[1] == "action"]
    assert [b[3] for b in refused] == [False] and same_color(refused[0][2], outcome_color("error"))


def test_timeline_shades_the_crash_ticks_the_log_and_marks_duplicates(crashed):
    fig = plots.saga_timeline(crashed, title="a crash")
    ax = fig.axes[0]
    (start, end), = crashed.crashes[["start", "end"]].itertuples(index=False)  # fmt: skip
    down = [p for p in ax.patches + ax.artists if isinstance(p, Rectangle)
            and p.get_label() == "orchestrator down" and p.get_visible()]  # fmt: skip
    assert len(down) == 1
    assert down[0].get_x() == pytest.approx(start)
    assert down[0].get_width() == pytest.approx(end - start)
    assert same_color(down[0].get_facecolor(), STATE_COLORS["crashed"])
    marks = {line.get_label(): line.get_xdata() for line in ax.lines}
    assert list(marks["log write"]) == pytest.approx(crashed.log_writes["time"].tolist())
    assert list(marks["restart"]) == [pytest.approx(end)]
    duplicates = crashed.frame[crashed.frame["duplicate"]]
    assert len(duplicates) >= 1
    assert list(marks["duplicate, from the record"]) == duplicates["ended"].tolist()
    labels = figure_legend_labels(fig)
    assert {"ok", "error", "compensation", "hollow: no effect", "orchestrator down",
            "log write", "restart"} <= set(labels)  # fmt: skip
    assert fig_title(fig) == "a crash"
    texts = {t.get_text(): t for t in ax.texts}
    assert same_color(texts["o0: compensated"].get_color(), END_STATE_COLORS["compensated"])
    assert png(fig).startswith(b"\x89PNG")


def test_timeline_of_the_course_without_keys_marks_double_effects_and_no_log():
    r = saga_run("course", orders=3, duplicate=0.3, seed=2)
    fig = plots.saga_timeline(r, compact=True)
    ax = fig.axes[0]
    assert fig.dpi == 80
    assert "no saga log: nothing to recover from" in [t.get_text() for t in ax.texts]
    twice = int((r.frame["effects"] >= 2).sum())
    assert twice >= 1
    marks = {line.get_label(): line.get_xdata() for line in ax.lines}
    assert len(marks["took effect twice"]) == twice
    assert "log write" not in marks
    ends = [t.get_text() for t in ax.texts if t.get_text().startswith("o")]
    assert ends == [f"{s}: {e}" for s, e in zip(r.end_states["saga_id"], r.end_states["end_state"])]
    assert png(fig).startswith(b"\x89PNG")


def test_timeline_refuses_what_it_cannot_draw(crashed):
    with pytest.raises(TypeError, match="saga_run"):
        plots.saga_timeline(saga_end_states(runs=1, scenarios="no fault"))
    with pytest.raises(TypeError, match="title"):
        plots.saga_timeline(crashed, title=3)
    with pytest.raises(TypeError, match="compact"):
        plots.saga_timeline(crashed, compact="yes")
    broken = _replaced(crashed, frame=crashed.frame.drop(columns=["outcome"]))
    with pytest.raises(ValueError, match="result.frame is missing column"):
        plots.saga_timeline(broken)
    broken = _replaced(crashed, frame=crashed.frame.assign(outcome="success"))
    with pytest.raises(ValueError, match="success"):
        plots.saga_timeline(broken)
    broken = _replaced(crashed, end_states=crashed.end_states.assign(end_state="fine"))
    with pytest.raises(ValueError, match="end_state='fine'"):
        plots.saga_timeline(broken)


def _replaced(result, **tables):
    return type(result)(**{**result.__dict__, **tables})


def test_end_state_colours_are_the_simulations_end_states():
    assert tuple(END_STATE_COLORS) == END_STATES
    assert plots.END_STATE_COLORS is END_STATE_COLORS
    assert len(set(END_STATE_COLORS.values())) == len(END_STATES)


def test_end_states_figure_stacks_each_scenario_in_the_end_state_colours():
    result = saga_end_states(runs=3, seed=0)
    fig = plots.end_states_figure(result, title="end states")
    variants = list(result.params["variants"])
    scenarios = list(result.params["scenarios"])
    assert len(fig.axes) == len(variants)
    for ax, variant in zip(fig.axes, variants):
        assert ax.get_xlabel().startswith(variant)
        containers = {c.get_label(): c for c in ax.containers}
        assert list(containers) == list(END_STATES)
        for state, bars in containers.items():
            assert len(bars) == len(scenarios)
            widths = [p.get_width() for p in bars]
            assert widths == result.table.loc[variant, state].reindex(scenarios).tolist()
            assert all(same_color(p.get_facecolor(), END_STATE_COLORS[state]) for p in bars)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == scenarios[::-1] or labels == scenarios
    assert figure_legend_labels(fig) == list(END_STATES)
    assert fig_title(fig).startswith("end states")
    assert png(fig).startswith(b"\x89PNG")


def test_end_states_figure_refuses_other_results():
    with pytest.raises(TypeError, match="saga_end_states"):
        plots.end_states_figure(saga_run())
    result = saga_end_states(runs=1, scenarios="no fault")
    broken = type(result)(**{**result.__dict__, "table": result.table.drop(columns=["stuck"])})
    with pytest.raises(ValueError, match="stuck"):
        plots.end_states_figure(broken)
    with pytest.raises(TypeError, match="title"):
        plots.end_states_figure(result, title=["x"])


def _label_overflow_px(fig):
    """How far each end-state label reaches past the plot area's right edge, in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    ax = fig.axes[0]
    right = ax.get_window_extent().x1
    labels = [t for t in ax.texts if t.get_text().startswith("o")]
    return [t.get_window_extent().x1 - right for t in labels]


@pytest.mark.parametrize("compact", [True, False])
def test_end_state_labels_stay_inside_the_plot_area(compact):
    for kwargs in (
        dict(fail_step="charge_payment", crash_after_step="reserve_stock", duplicate=0.1),
        dict(orders=3, idempotency=False, duplicate=0.3),
    ):
        fig = plots.saga_timeline(saga_run(**kwargs), compact=compact)
        overflow = _label_overflow_px(fig)
        assert overflow and max(overflow) < 0, (kwargs, overflow)


def test_subtitle_says_when_log_writes_share_a_tick():
    r = saga_run(crash_after_step="reserve_stock")
    ticks = len(r.log_writes[["saga_id", "time"]].drop_duplicates())
    assert ticks < len(r.log_writes)
    subtitle = [
        t.get_text() for t in plots.saga_timeline(r).axes[0].texts if "log writes" in t.get_text()
    ]
    assert f"{len(r.log_writes)} log writes ({ticks} ticks" in subtitle[0]
