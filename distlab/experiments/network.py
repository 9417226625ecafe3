"""Messages across an unreliable network: loss, delay, reordering and partitions.

The first experiment of the course: a few nodes send each other messages over a
:class:`~distlab.sim.Network` whose latency, loss and partitions you choose, and every message's
fate is recorded.

>>> from distlab.experiments.network import message_exchange
>>> result = message_exchange(nodes=3, messages=20, loss=0.1, seed=1)
>>> sorted(result.messages["outcome"].unique())
['delivered', 'lost']
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from distlab._validate import check_choice, check_int, check_number, check_probability, check_seed
from distlab.sim import (
    Constant,
    Exponential,
    FaultSchedule,
    LogNormal,
    Network,
    Normal,
    Pareto,
    Partition,
    Uniform,
    World,
)

__all__ = [
    "LATENCY_SHAPES",
    "PARTITION_SHAPES",
    "ExchangeResult",
    "delivery_stats",
    "latency_distribution",
    "message_exchange",
]

LATENCY_SHAPES = ("constant", "uniform", "normal", "exponential", "lognormal", "pareto")
PARTITION_SHAPES = ("none", "split", "isolate")


def latency_distribution(shape: str, mean_s: float):
    """A latency distribution of the given ``shape`` whose mean is ``mean_s`` seconds.

    Shapes, from tame to wild: ``constant``; ``uniform`` on [0, 2·mean]; ``normal`` with
    sd = mean/4; ``exponential``; ``lognormal`` with sigma 1; ``pareto`` with alpha 1.5 (a heavy
    tail: most messages are fast, a few are very slow).

    >>> latency_distribution("pareto", 0.03).mean
    0.03
    """
    check_choice("latency", shape, LATENCY_SHAPES)
    mean_s = check_number("mean_latency_s", mean_s, 0.0, min_inclusive=False)
    if shape == "constant":
        return Constant(mean_s)
    if shape == "uniform":
        return Uniform(0.0, 2 * mean_s)
    if shape == "normal":
        return Normal(mean_s, mean_s / 4)
    if shape == "exponential":
        return Exponential(mean_s)
    if shape == "lognormal":
        sigma = 1.0
        return LogNormal(mean_s / np.exp(sigma**2 / 2), sigma)
    alpha = 1.5
    return Pareto(mean_s * (alpha - 1) / alpha, alpha)


@dataclass(frozen=True)
class ExchangeResult:
    """What :func:`message_exchange` returns.

    Attributes:
        messages: one row per message: ``msg_id, src, dst, seq, sent, arrived, latency,
            outcome`` (``delivered``, ``lost``, ``partitioned``, ``crashed``) and ``reordered``
            (delivered before a message sent earlier on the same link).
        events: the world's event log (``send``, ``deliver``, ``drop``, ``fault_start``...).
        faults: the partition periods as bands (``start, end, kind, label``) for shading.
    """

    messages: pd.DataFrame
    events: pd.DataFrame
    faults: pd.DataFrame

    @property
    def frame(self) -> pd.DataFrame:
        """The per-message table (what :func:`distlab.experiments.sweep` stacks)."""
        return self.messages

    @property
    def stats(self) -> pd.DataFrame:
        """Delivery statistics, see :func:`delivery_stats`."""
        return delivery_stats(self.messages)


def _partition_groups(names: list[str], shape: str) -> list[list[str]]:
    if shape == "split":
        majority = len(names) // 2 + 1
        return [names[:majority], names[majority:]]
    return [names[:1], names[1:]]


def message_exchange(
    nodes: int = 3,
    messages: int = 30,
    *,
    interval_s: float = 0.05,
    latency: str = "exponential",
    mean_latency_s: float = 0.05,
    loss: float = 0.0,
    partition: str = "none",
    partition_at_s: float = 0.5,
    partition_for_s: float = 0.5,
    seed: int = 0,
) -> ExchangeResult:
    """Send ``messages`` between ``nodes`` nodes, one every ``interval_s``, and record each fate.

    Each message goes from a random node to a random other node. Latency follows ``latency``
    (a shape from :data:`LATENCY_SHAPES`) with mean ``mean_latency_s``; each message is lost with
    probability ``loss``. With ``partition`` ``"split"`` (a majority and a minority) or
    ``"isolate"`` (the first node alone), the network is cut at ``partition_at_s`` for
    ``partition_for_s`` seconds.

    >>> r = message_exchange(nodes=4, messages=50, partition="split", seed=3)
    >>> int((r.messages["outcome"] == "partitioned").sum()) > 0
    True
    """
    nodes = check_int("nodes", nodes, 2, 26)
    messages = check_int("messages", messages, 1, 100_000)
    interval_s = check_number("interval_s", interval_s, 0.0, min_inclusive=False)
    loss = check_probability("loss", loss)
    check_choice("partition", partition, PARTITION_SHAPES)
    partition_at_s = check_number("partition_at_s", partition_at_s, 0.0)
    partition_for_s = check_number("partition_for_s", partition_for_s, 0.0, min_inclusive=False)
    seed = check_seed(seed)

    world = World(seed=seed)
    net = Network(world, latency=latency_distribution(latency, mean_latency_s), loss=loss)
    names = list(string.ascii_uppercase[:nodes])
    for name in names:
        net.add_node(name)
    schedule = FaultSchedule([])
    if partition != "none":
        groups = _partition_groups(names, partition)
        schedule = FaultSchedule([Partition(partition_at_s, partition_for_s, groups)])
        schedule.apply(net)

    sources = world.rng.integers(0, nodes, size=messages)
    hops = world.rng.integers(1, nodes, size=messages)  # dst != src
    destinations = (sources + hops) % nodes

    def sender():
        for i in range(messages):
            net.send(names[sources[i]], names[destinations[i]], i)
            yield world.env.timeout(interval_s)

    world.env.process(sender())
    world.run()
    events = world.events()
    return ExchangeResult(_message_table(events), events, schedule.bands())


def _message_table(events: pd.DataFrame) -> pd.DataFrame:
    sent = events.loc[events["kind"] == "send", ["msg_id", "src", "dst", "time"]]
    sent = sent.rename(columns={"time": "sent"})
    ends = events.loc[
        events["kind"].isin(["deliver", "drop"]), ["msg_id", "time", "kind", "reason"]
    ]
    table = sent.merge(ends, on="msg_id", how="left")
    outcome = table["reason"].map(
        {"loss": "lost", "partition": "partitioned", "crashed": "crashed"}
    )
    table["outcome"] = outcome.where(table["kind"] == "drop", "delivered")
    delivered = table["outcome"] == "delivered"
    table["arrived"] = table["time"].where(delivered)
    table["latency"] = table["arrived"] - table["sent"]
    table = table.sort_values("sent", kind="stable").reset_index(drop=True)
    table["seq"] = table.groupby(["src", "dst"]).cumcount()
    # A message is reordered if an earlier message on the same link arrived after it.
    latest_before = table["arrived"].fillna(-np.inf).groupby([table["src"], table["dst"]]).cummax()
    latest_before = latest_before.groupby([table["src"], table["dst"]]).shift(1)
    table["reordered"] = delivered & (table["arrived"] < latest_before.fillna(-np.inf))
    columns = ["msg_id", "src", "dst", "seq", "sent", "arrived", "latency", "outcome", "reordered"]
    return table[columns]


def delivery_stats(messages: pd.DataFrame) -> pd.DataFrame:
    """Count and share of messages by fate, and how many arrived out of order.

    >>> int(delivery_stats(message_exchange(messages=10, seed=0).messages).loc["delivered", "count"])
    10
    """
    total = len(messages)
    rows = {}
    for fate in ("delivered", "lost", "partitioned", "crashed"):
        rows[fate] = int((messages["outcome"] == fate).sum())
    rows["reordered"] = int(messages["reordered"].sum())
    stats = pd.DataFrame({"count": pd.Series(rows)})
    stats["share"] = stats["count"] / total if total else np.nan
    return stats
