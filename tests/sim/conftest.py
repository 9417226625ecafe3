"""Fixtures for the simulated-world tests."""

from __future__ import annotations

import pandas as pd
import pytest

from distlab.sim import Network, World


@pytest.fixture
def world() -> World:
    return World(seed=11)


@pytest.fixture
def net(world: World) -> Network:
    """A network of nodes a, b, c, d with a constant 10 ms latency and no loss."""
    network = Network(world, latency=0.01)
    for name in "abcd":
        network.add_node(name)
    return network


def _message_fates(events: pd.DataFrame) -> pd.DataFrame:
    """One row per message id: src, dst, send time, fate (deliver/drop), fate time, reason."""
    sends = events[events["kind"] == "send"].set_index("msg_id")[["src", "dst", "time"]]
    ends = events[events["kind"].isin(["deliver", "drop"])].set_index("msg_id")
    out = sends.rename(columns={"time": "sent"})
    out["fate"] = ends["kind"]
    out["at"] = ends["time"]
    out["reason"] = ends["reason"]
    return out


@pytest.fixture
def message_fates():
    """The function ``message_fates(events) -> DataFrame`` (one row per message id)."""
    return _message_fates
