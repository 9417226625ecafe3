"""Messages across an unreliable network: loss, delay, reordering and partitions.

The first experiment of the course: a few nodes send each other messages over a
:class:`~distlab.sim.Network` whose latency, loss and partitions you choose, and every message's
fate is recorded.

>>> from distlab.experiments.network import message_exchange
>>> result = message_exchange(nodes=3, messages=20, loss=0.1, seed=1)
>>> sorted(result.frame["fate"].unique())
['delivered', 'dropped']
>>> result.frame.loc[result.frame["fate"] == "dropped", "reason"].unique().tolist()
['loss']
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import check_choice, check_int, check_number, check_probability, check_seed
from distlab.experiments.result import Result, plain_params, summary_row
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
    "DROP_REASONS",
    "LATENCY_SHAPES",
    "MAX_SECONDS",
    "PARTITION_SHAPES",
    "ExchangeResult",
    "latency_distribution",
    "message_exchange",
]

LATENCY_SHAPES = ("constant", "uniform", "normal", "exponential", "lognormal", "pareto")
PARTITION_SHAPES = ("none", "split", "isolate")
#: Why the network drops a message (the ``reason`` beside a ``dropped`` fate).
DROP_REASONS = ("loss", "partition", "crashed")
#: The longest latency, interval or fault time the experiments here accept, in seconds (a day):
#: longer ones say nothing more about a network and only risk times that overflow.
MAX_SECONDS = 86_400.0


def latency_distribution(shape: str, mean_s: float):
    """A latency distribution of the given ``shape`` whose mean is ``mean_s`` seconds.

    Shapes, from tame to wild: ``constant``; ``uniform`` on [0, 2·mean]; ``normal`` with
    sd = mean/4; ``exponential``; ``lognormal`` with sigma 1; ``pareto`` with alpha 1.5 (a heavy
    tail: most messages are fast, a few are very slow).

    >>> latency_distribution("pareto", 0.03).mean
    0.03
    """
    check_choice("shape", shape, LATENCY_SHAPES)
    mean_s = check_number("mean_s", mean_s, 0.0, MAX_SECONDS, min_inclusive=False)
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
class ExchangeResult(Result):
    """What :func:`message_exchange` returns.

    Attributes:
        frame: one row per message: ``msg_id, src, dst, seq, sent, arrived, latency`` (seconds;
            ``NaN`` for a dropped message), ``fate`` (``delivered`` or ``dropped``, words of
            :mod:`distlab.outcomes`), ``reason`` (why it was dropped: one of
            :data:`DROP_REASONS`; missing when delivered) and ``reordered`` (delivered before a
            message sent earlier on the same link).
        summary: one row (index ``run``, label ``"exchange"``): ``messages``, ``delivered``,
            ``dropped``, the drops by reason (``dropped_loss``, ``dropped_partition``,
            ``dropped_crashed``), ``reordered``, the same as shares of all messages
            (``delivered_share``, ...) and ``mean_latency_s`` of the delivered messages.
        params: the parameters, seed included.
        events: the world's event log (``send``, ``deliver``, ``drop``, ``partition``...).
        faults: the partition periods as bands (``start, end, state, label`` with state
            ``partitioned``) for shading.
    """

    events: pd.DataFrame
    faults: pd.DataFrame


def _partition_groups(names: list[str], shape: str) -> list[list[str]]:
    if shape == "split":
        majority = len(names) // 2 + 1
        return [names[:majority], names[majority:]]
    return [names[:1], names[1:]]


def _check_exchange(nodes, messages, interval_s, mean_latency_s, loss, partition, **times):
    nodes = check_int("nodes", nodes, 2, 26)
    messages = check_int("messages", messages, 1, 100_000)
    interval_s = check_number("interval_s", interval_s, 0.0, MAX_SECONDS, min_inclusive=False)
    mean_latency_s = check_number(
        "mean_latency_s", mean_latency_s, 0.0, MAX_SECONDS, min_inclusive=False
    )
    loss = check_probability("loss", loss)
    check_choice("partition", partition, PARTITION_SHAPES)
    if partition == "split" and nodes < 3:
        raise ValueError(
            f"partition='split' needs nodes >= 3 (a majority and a minority); nodes={nodes} "
            "(use partition='isolate' to cut one node off)"
        )
    at_s = check_number("partition_at_s", times["partition_at_s"], 0.0, MAX_SECONDS)
    for_s = check_number(
        "partition_for_s", times["partition_for_s"], 0.0, MAX_SECONDS, min_inclusive=False
    )
    return nodes, messages, interval_s, mean_latency_s, loss, at_s, for_s


def message_exchange(
    nodes: int = 3,
    *,
    messages: int = 30,
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
    probability ``loss``. With ``partition`` ``"split"`` (a majority and a minority, so at least
    3 nodes) or ``"isolate"`` (the first node alone), the network is cut at ``partition_at_s``
    for ``partition_for_s`` seconds. Times are at most :data:`MAX_SECONDS`.

    >>> r = message_exchange(nodes=4, messages=50, partition="split", seed=3)
    >>> int(r.summary.loc["exchange", "dropped_partition"]) > 0
    True
    """
    nodes, messages, interval_s, mean_latency_s, loss, partition_at_s, partition_for_s = (
        _check_exchange(
            nodes,
            messages,
            interval_s,
            mean_latency_s,
            loss,
            partition,
            partition_at_s=partition_at_s,
            partition_for_s=partition_for_s,
        )
    )
    distribution = latency_distribution(
        check_choice("latency", latency, LATENCY_SHAPES), mean_latency_s
    )
    seed = check_seed(seed)

    events, bands = _simulate_exchange(
        nodes, messages, interval_s, distribution, loss, partition, partition_at_s,
        partition_for_s, seed,
    )  # fmt: skip
    frame = _message_table(events)
    params = plain_params(
        nodes=nodes,
        messages=messages,
        interval_s=interval_s,
        latency=latency,
        mean_latency_s=mean_latency_s,
        loss=loss,
        partition=partition,
        partition_at_s=partition_at_s,
        partition_for_s=partition_for_s,
        seed=seed,
    )
    return ExchangeResult(frame, _exchange_summary(frame), params, events, bands)


def _simulate_exchange(
    nodes, messages, interval_s, distribution, loss, partition, at_s, for_s, seed
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the exchange; return the world's event log and the partition bands."""
    world = World(seed=seed)
    net = Network(world, latency=distribution, loss=loss)
    names = list(string.ascii_uppercase[:nodes])
    for name in names:
        net.add_node(name)
    schedule = FaultSchedule([])
    if partition != "none":
        groups = _partition_groups(names, partition)
        schedule = FaultSchedule([Partition(at_s, for_s, groups)])
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
    return world.events(), schedule.bands()[["start", "end", "state", "label"]]


def _message_table(events: pd.DataFrame) -> pd.DataFrame:
    sent = events.loc[events["kind"] == "send", ["msg_id", "src", "dst", "time"]]
    sent = sent.rename(columns={"time": "sent"})
    ends = events.loc[
        events["kind"].isin(["deliver", "drop"]), ["msg_id", "time", "kind", "reason"]
    ]
    table = sent.merge(ends, on="msg_id", how="left")
    delivered = table["kind"] == "deliver"
    table["fate"] = np.where(delivered, outcomes.DELIVERED, outcomes.DROPPED)
    table["reason"] = table["reason"].where(~delivered, None)
    table["arrived"] = table["time"].where(delivered)
    table["latency"] = table["arrived"] - table["sent"]
    table = table.sort_values("sent", kind="stable").reset_index(drop=True)
    delivered = table["fate"] == outcomes.DELIVERED
    table["seq"] = table.groupby(["src", "dst"]).cumcount()
    # A message is reordered if an earlier message on the same link arrived after it.
    latest_before = table["arrived"].fillna(-np.inf).groupby([table["src"], table["dst"]]).cummax()
    latest_before = latest_before.groupby([table["src"], table["dst"]]).shift(1)
    table["reordered"] = delivered & (table["arrived"] < latest_before.fillna(-np.inf))
    columns = [
        "msg_id", "src", "dst", "seq", "sent", "arrived", "latency", "fate", "reason", "reordered"
    ]  # fmt: skip
    return table[columns]


def _exchange_summary(frame: pd.DataFrame) -> pd.DataFrame:
    total = len(frame)
    dropped = frame["fate"] == outcomes.DROPPED
    counts = {
        "messages": total,
        "delivered": int((~dropped).sum()),
        "dropped": int(dropped.sum()),
        **{f"dropped_{r}": int((dropped & (frame["reason"] == r)).sum()) for r in DROP_REASONS},
        "reordered": int(frame["reordered"].sum()),
    }
    shares = {f"{name}_share": counts[name] / total for name in list(counts)[1:]}
    mean = frame["latency"].mean()
    return summary_row("exchange", **counts, **shares, mean_latency_s=float(mean))
