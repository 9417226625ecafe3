"""plots.network: the network explorer's figure."""

from __future__ import annotations

import pytest

from distlab import plots
from distlab.experiments.network import message_exchange

from .conftest import fig_title


def test_exchange_figure_states_the_statistics_and_orders_nodes_by_name():
    result = message_exchange(nodes=4, messages=40, loss=0.2, seed=1)
    fig = plots.exchange_figure(result, title="scenario")
    lost = int(result.summary.loc["exchange", "dropped_loss"])
    assert "scenario" in fig_title(fig) and f"{lost} lost" in fig_title(fig)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    assert ax.yaxis_inverted()  # so A, the first, is drawn at the top


def test_exchange_figure_refuses_what_is_not_an_exchange():
    with pytest.raises(TypeError, match=r"result=DataFrame must be the result of message_exchange"):
        plots.exchange_figure(message_exchange(messages=5, seed=0).frame)
    with pytest.raises(ValueError, match="max_messages=0 must be at least 1"):
        plots.exchange_figure(message_exchange(messages=5, seed=0), max_messages=0)
