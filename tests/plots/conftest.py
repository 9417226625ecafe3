"""Shared inputs of the plot tests: a small event log and a small calls table."""

from __future__ import annotations

from io import BytesIO

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

COLUMNS = ["time", "kind", "node", "src", "dst", "msg_id", "reason", "detail"]


def figure_legend_labels(fig: Figure) -> list[str]:
    """The texts of the figure-level legends (beside the plot)."""
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def all_legend_labels(fig: Figure) -> list[str]:
    """The texts of every legend, the figure's and each axes'."""
    axes = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    return figure_legend_labels(fig) + axes


def fig_title(fig: Figure) -> str:
    """The left titles of every axes, joined."""
    return " ".join(ax.get_title(loc="left") for ax in fig.axes)


def png(fig: Figure) -> bytes:
    """The figure rendered as PNG at its own dpi."""
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def same_color(a, b) -> bool:
    """Whether two matplotlib colours are the same RGB (alpha ignored)."""
    return np.allclose(mcolors.to_rgba(a)[:3], mcolors.to_rgba(b)[:3])


def event_log(rows) -> pd.DataFrame:
    """An event log (World.events() columns) from tuples in COLUMNS order."""
    return pd.DataFrame([dict(zip(COLUMNS, r)) for r in rows], columns=COLUMNS)


@pytest.fixture
def events() -> pd.DataFrame:
    """3 nodes; 7 messages: 4 delivered, dropped by loss, by partition and at a crashed node."""
    n = None
    return event_log(
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
