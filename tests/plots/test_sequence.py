"""plots.sequence: the message-sequence diagram of an event log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver

from distlab.plots import DROP_COLORS, OUTCOME_COLORS, STATE_COLORS, message_sequence

from .conftest import COLUMNS, event_log, figure_legend_labels, png


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
    assert len(png(fig)) > 1000


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
    labels = figure_legend_labels(fig)
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


def _fault_log(state):
    n = None
    ev = event_log(
        [
            (0.0, "fault_start", n, n, n, n, n, "loss 50%"),
            (0.0, "send", "a", "a", "b", 0, n, n),
            (0.1, "deliver", "b", "a", "b", 0, n, n),
            (1.0, "fault_end", n, n, n, n, n, "loss 50%"),
        ]
    )
    if state is not None:
        ev["state"] = [state, None, None, state]
    return ev


def test_message_sequence_faults_from_fault_rows_when_no_network_rows():
    ax = message_sequence(_fault_log("loss_burst")).axes[0]
    (band,) = [p for p in ax.patches if p.get_label() == "loss 50%"]
    assert to_hex(band.get_facecolor()) == STATE_COLORS["loss_burst"].lower()


def test_message_sequence_fault_rows_need_their_state():
    with pytest.raises(ValueError, match="fault_start/fault_end rows without a state column"):
        message_sequence(_fault_log(None))
    with pytest.raises(ValueError, match="state='loss' must be one of"):
        message_sequence(_fault_log("loss"))


def test_message_sequence_of_a_faulty_simulated_run_uses_the_logged_states():
    from distlab.sim import Crash, FaultSchedule, LossBurst, Network, SlowNode, World

    world = World(seed=0)
    net = Network(world, latency=0.01)
    for name in ("a", "b"):
        net.add_node(name)
    schedule = FaultSchedule(
        [LossBurst(0.2, 0.3, loss=0.5), Crash(0.6, 0.2, node="b"), SlowNode(0.1, 0.2, "a", 3)]
    )
    schedule.apply(net)

    def traffic():
        for i in range(20):
            net.send("a", "b", i)
            yield world.env.timeout(0.05)

    world.env.process(traffic())
    world.run()
    for faults in (None, schedule.bands()):
        ax = message_sequence(world.events(), faults=faults).axes[0]
        colors = {p.get_label(): to_hex(p.get_facecolor()) for p in ax.patches}
        assert colors["loss 50%"] == STATE_COLORS["loss_burst"].lower()
        assert colors["crashed"] == STATE_COLORS["crashed"].lower()
        assert colors["slow"] == STATE_COLORS["slow"].lower()


def test_message_sequence_limits_messages_and_says_so():
    rows = []
    for i in range(50):
        rows.append((i * 0.1, "send", "a", "a", "b", i, None, None))
        rows.append((i * 0.1 + 0.05, "deliver", "b", "a", "b", i, None, None))
    fig = message_sequence(event_log(rows), max_messages=10, nodes=["b", "a"])
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
    png(fig)
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
    ax = message_sequence(event_log(rows)).axes[0]
    assert len(ax.collections) <= 4
    assert len(ax.patches) + len(ax.lines) < 10
