"""distlab.plots: pure DataFrame -> Figure functions, with the project's shared colours."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver

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

COLUMNS = ["time", "kind", "node", "src", "dst", "msg_id", "reason", "detail"]


def _events(rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, r)) for r in rows], columns=COLUMNS)


@pytest.fixture
def events() -> pd.DataFrame:
    """3 nodes; 7 messages: 4 delivered, dropped by loss, by partition and at a crashed node."""
    n = None
    return _events(
        [
            (0.0, "send", "a", "a", "b", 0, n, n),
            (0.1, "deliver", "b", "a", "b", 0, n, n),
            (0.2, "send", "b", "b", "a", 1, n, n),
            (0.3, "deliver", "a", "b", "a", 1, n, n),
            (0.4, "send", "a", "a", "c", 2, n, n),
            (0.5, "drop", "c", "a", "c", 2, "loss", n),
            (1.0, "partition", n, n, n, n, n, "{c} | {a, b}"),
            (1.2, "send", "a", "a", "c", 3, n, n),
            (1.2, "drop", "a", "a", "c", 3, "partition", n),
            (2.0, "heal", n, n, n, n, n, n),
            (2.5, "crash", "b", n, n, n, n, n),
            (2.6, "send", "a", "a", "b", 4, n, n),
            (2.7, "drop", "b", "a", "b", 4, "crashed", n),
            (3.0, "restart", "b", n, n, n, n, n),
            (3.1, "send", "c", "c", "a", 5, n, n),
            (3.2, "deliver", "a", "c", "a", 5, n, n),
            (3.3, "send", "a", "a", "b", 6, n, n),
            (3.35, "deliver", "b", "a", "b", 6, n, n),
        ]
    )


@pytest.fixture
def calls() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "service": ["A", "A", "B", "C", "D", "D"],
            "start": [0.0, 0.5, 0.1, 0.2, 0.0, 0.3],
            "end": [0.05, 0.55, 0.1, 0.3, 1.0, 1.3],
            "outcome": ["ok", "error", "rejected", "ok", "timeout", "timeout"],
        }
    )


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _png(fig: Figure) -> bytes:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


# -- style -----------------------------------------------------------------------------------


def test_outcome_colors_are_the_project_palette():
    assert OUTCOME_COLORS["ok"] == OUTCOME_COLORS["success"] == OUTCOME_COLORS["delivered"]
    assert OUTCOME_COLORS["ok"] == "#009E73"
    assert OUTCOME_COLORS["error"] == OUTCOME_COLORS["failure"] == "#D55E00"
    assert OUTCOME_COLORS["timeout"] == "#E69F00"
    assert OUTCOME_COLORS["rejected"] == "#CC79A7"
    assert OUTCOME_COLORS["stale_read"] == "#56B4E9"
    assert OUTCOME_COLORS["lost_write"] == "#F0E442"
    assert OUTCOME_COLORS["dropped"] == "#000000"
    assert set(OUTCOME_COLORS.values()) <= set(OKABE_ITO.values())


@pytest.mark.parametrize(
    "name, key",
    [
        ("OK", "ok"),
        ("Timeout", "timeout"),
        ("stale read", "stale_read"),
        ("lost-write", "lost_write"),
        ("failed", "failure"),
        ("no such outcome", "other"),
    ],
)
def test_outcome_color_normalises_names(name, key):
    assert outcome_color(name) == OUTCOME_COLORS[key]


def test_band_color_understands_states_kinds_and_labels():
    assert band_color("half-open") == STATE_COLORS["HALF_OPEN"]
    assert band_color("Slow(factor=3)") == STATE_COLORS["slow"]
    assert band_color(None, "partition") == STATE_COLORS["partitioned"]
    assert band_color("nonsense") == OKABE_ITO["grey"]
    assert DROP_COLORS["partition"] == STATE_COLORS["partitioned"]


def test_shade_bands_one_legend_entry_per_label_and_skips_up():
    fig, ax = new_figure()
    ax.plot([0, 10], [0, 1])
    bands = pd.DataFrame(
        {
            "start": [1.0, 4.0, 6.0, 8.0],
            "end": [2.0, 5.0, 7.0, np.nan],
            "label": ["partitioned", "partitioned", "up", "OPEN"],
        }
    )
    patches = shade_bands(ax, bands, until=10.0)
    assert len(patches) == 3  # "up" is not shaded
    assert [p.get_label() for p in patches].count("partitioned") == 1
    assert to_hex(patches[0].get_facecolor()) == STATE_COLORS["partitioned"].lower()
    assert to_hex(patches[2].get_facecolor()) == STATE_COLORS["OPEN"].lower()
    finish(fig, ax, title="t", xlabel="time (s)", ylabel="y")
    assert _legend_labels(fig) == ["partitioned", "OPEN"]


def test_shade_bands_lane_height_and_bad_input():
    fig, ax = new_figure()
    (patch,) = shade_bands(
        ax, pd.DataFrame({"start": [0], "end": [1], "label": ["down"]}), y=(2, 3)
    )
    assert patch.get_y() == 2 and patch.get_height() == 1
    with pytest.raises(ValueError, match="missing column"):
        shade_bands(ax, pd.DataFrame({"start": [0]}))
    with pytest.raises(TypeError, match="DataFrame"):
        shade_bands(ax, [(0, 1)])
    assert shade_bands(ax, pd.DataFrame(columns=["start", "end", "label"])) == []


def test_finish_sets_title_labels_and_rejects_bad_legend():
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1], label="line")
    finish(fig, ax, title="Scenario", xlabel="time (s)", ylabel="calls", subtitle="2 points")
    assert ax.get_title(loc="left") == "Scenario"
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "calls"
    assert _legend_labels(fig) == ["line"]
    with pytest.raises(ValueError, match="legend='left'"):
        finish(fig, ax, legend="left")


# -- message_sequence ------------------------------------------------------------------------


def test_message_sequence_draws_one_arrow_per_delivery(events):
    fig = message_sequence(events, title="3 nodes, a partition and a crash")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "3 nodes, a partition and a crash"
    assert ax.get_xlabel() == "time (s)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quiver.U) == 4
    np.testing.assert_allclose(sorted(quiver.U), sorted([0.1, 0.1, 0.1, 0.05]))
    assert to_hex(quiver.get_facecolor()[0]) == OUTCOME_COLORS["delivered"].lower()
    assert len(_png(fig)) > 1000


def test_message_sequence_marks_each_drop_coloured_by_reason(events):
    fig = message_sequence(events)
    ax = fig.axes[0]
    marks = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(m.get_offsets()) for m in marks) == 3
    by_label = {m.get_label(): to_hex(m.get_facecolor()[0]) for m in marks}
    assert by_label == {
        "dropped: lost on the network": DROP_COLORS["loss"].lower(),
        "dropped: partition": DROP_COLORS["partition"].lower(),
        "dropped: node crashed": DROP_COLORS["crashed"].lower(),
    }
    # the crashed-node drop is on the receiver's line (b is y=1), at the drop time
    (crashed,) = [m for m in marks if m.get_label() == "dropped: node crashed"]
    np.testing.assert_allclose(crashed.get_offsets()[0], [2.7, 1.0])
    labels = _legend_labels(fig)
    for expected in ["delivered", "dropped: partition", "partitioned", "crashed"]:
        assert expected in labels


def test_message_sequence_shades_partition_and_crash(events):
    ax = message_sequence(events).axes[0]
    spans = {p.get_label(): p for p in ax.patches if not p.get_label().startswith("_")}
    part = spans["partitioned"]
    np.testing.assert_allclose(part.get_x(), 1.0)
    np.testing.assert_allclose(part.get_x() + part.get_width(), 2.0)
    crash = spans["crashed"]
    np.testing.assert_allclose([crash.get_x(), crash.get_width()], [2.5, 0.5])
    assert crash.get_y() < 1 < crash.get_y() + crash.get_height()  # on b's line only
    assert crash.get_height() < 1


def test_message_sequence_faults_from_fault_rows_when_no_network_rows():
    n = None
    ev = _events(
        [
            (0.0, "fault_start", n, n, n, n, n, "loss_burst loss=0.5"),
            (0.0, "send", "a", "a", "b", 0, n, n),
            (0.1, "deliver", "b", "a", "b", 0, n, n),
            (1.0, "fault_end", n, n, n, n, n, "loss_burst loss=0.5"),
        ]
    )
    ax = message_sequence(ev).axes[0]
    labels = [p.get_label() for p in ax.patches]
    assert "loss_burst loss=0.5" in labels


def test_message_sequence_limits_messages_and_says_so():
    rows = []
    for i in range(50):
        rows.append((i * 0.1, "send", "a", "a", "b", i, None, None))
        rows.append((i * 0.1 + 0.05, "deliver", "b", "a", "b", i, None, None))
    fig = message_sequence(_events(rows), max_messages=10, nodes=["b", "a"])
    ax = fig.axes[0]
    (quiver,) = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quiver.U) == 10
    assert any("first 10 of 50" in t.get_text() for t in ax.texts)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert ax.get_xlim()[1] < 2.0


def test_message_sequence_empty_and_bad_input():
    fig = message_sequence(pd.DataFrame(columns=COLUMNS), title="nothing happened")
    assert isinstance(fig, Figure)
    assert any("no messages" in t.get_text() for t in fig.axes[0].texts)
    _png(fig)
    with pytest.raises(ValueError, match="missing column.*kind"):
        message_sequence(pd.DataFrame({"time": [0.0]}))
    with pytest.raises(TypeError, match="DataFrame"):
        message_sequence([("send", 0.0)])
    with pytest.raises(ValueError, match="max_messages=0"):
        message_sequence(pd.DataFrame(columns=COLUMNS), max_messages=0)


def test_message_sequence_400_messages_stay_cheap():
    """Arrows are one quiver and drops one scatter per reason: no per-message artists."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(1000):
        t = float(i) * 0.01
        src, dst = rng.choice(["a", "b", "c", "d"], 2, replace=False)
        rows.append((t, "send", src, src, dst, i, None, None))
        if i % 10:
            rows.append((t + 0.02, "deliver", dst, src, dst, i, None, None))
        else:
            rows.append((t + 0.02, "drop", dst, src, dst, i, "loss", None))
    ax = message_sequence(_events(rows)).axes[0]
    assert len(ax.collections) <= 4
    assert len(ax.patches) + len(ax.lines) < 10


# -- call_timeline and latency_distribution ---------------------------------------------------


def test_call_timeline_one_bar_per_call_coloured_by_outcome(calls):
    fig = call_timeline(calls, title="Caller with a 1 s timeout")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Caller with a 1 s timeout"
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "service"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    (bars,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bars.get_paths()) == len(calls)
    colors = [to_hex(c) for c in bars.get_facecolor()]
    assert colors == [outcome_color(o).lower() for o in calls["outcome"]]
    assert _legend_labels(fig)[:4] == ["ok", "error", "timeout", "rejected"]
    # the zero-duration rejected call is still visible
    rejected = bars.get_paths()[2].vertices
    assert np.ptp(rejected[:, 0]) > 0
    # D's two calls overlap in time: stacked in two rows, not drawn on top of each other
    d0, d1 = (bars.get_paths()[i].vertices for i in (4, 5))
    assert d0[:, 1].max() <= d1[:, 1].min() or d1[:, 1].max() <= d0[:, 1].min()


def test_call_timeline_shades_health_per_lane(calls):
    health = pd.DataFrame(
        {
            "service": ["B", "D", "A"],
            "start": [0.0, 0.0, 0.0],
            "end": [2.0, 2.0, 2.0],
            "state": ["down", "slow", "up"],
            "label": ["down", "slow ×10", "up"],
        }
    )
    fig = call_timeline(calls, health=health)
    ax = fig.axes[0]
    shaded = {p.get_label(): p for p in ax.patches}
    assert set(shaded) == {"down", "slow ×10"}  # "up" not shaded
    assert shaded["down"].get_y() == 0.5 and shaded["down"].get_height() == 1.0  # B is lane 1
    assert to_hex(shaded["slow ×10"].get_facecolor()) == STATE_COLORS["slow"].lower()
    assert "down" in _legend_labels(fig)


def test_call_timeline_lane_column_and_errors(calls):
    by_client = calls.rename(columns={"service": "client"})
    fig = call_timeline(by_client, lane="client")
    assert fig.axes[0].get_ylabel() == "client"
    with pytest.raises(ValueError, match="missing column.*service"):
        call_timeline(by_client)
    empty = call_timeline(calls.iloc[:0])
    assert any("no calls" in t.get_text() for t in empty.axes[0].texts)
    _png(empty)


def test_latency_distribution_panels_timeout_and_colours(calls):
    fig = latency_distribution(calls, by="service", timeout_s=1.0, title="Latency per service")
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title(loc="left") == "Latency per service"
    assert fig.axes[-1].get_xlabel() == "latency (s)"
    for ax in fig.axes:
        assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.lines)
    d_fill = [p for p in fig.axes[3].patches]
    assert {to_hex(p.get_facecolor()) for p in d_fill} == {outcome_color("timeout").lower()}
    labels = _legend_labels(fig)
    assert labels == ["ok", "error", "timeout", "rejected", "timeout = 1 s"]
    assert "median" in " ".join(t.get_text() for t in fig.axes[0].texts)
    _png(fig)


def test_same_outcome_same_colour_across_plots(calls):
    timeline = call_timeline(calls)
    (bars,) = [c for c in timeline.axes[0].collections if isinstance(c, PolyCollection)]
    timeline_timeout = to_hex(bars.get_facecolor()[4])
    hist = latency_distribution(calls, timeout_s=1.0)
    hist_timeout = to_hex(hist.axes[3].patches[0].get_facecolor())
    assert timeline_timeout == hist_timeout == OUTCOME_COLORS["timeout"].lower()
    seq_ok = OUTCOME_COLORS["delivered"]
    assert seq_ok == outcome_color("ok")


def test_latency_distribution_uses_latency_column_and_handles_empty(calls):
    with_latency = calls.assign(latency=[0.01] * len(calls)).drop(columns=["start", "end"])
    fig = latency_distribution(with_latency, by=None)
    assert len(fig.axes) == 1
    empty = latency_distribution(calls.iloc[:0])
    assert isinstance(empty, Figure)
    _png(empty)
    with pytest.raises(ValueError, match="timeout_s=0"):
        latency_distribution(calls, timeout_s=0)
    with pytest.raises(ValueError, match="missing column.*client"):
        latency_distribution(calls, by="client")


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
