"""The figure of the network explorer: the message diagram and the delivery statistics.

>>> from distlab.experiments.network import message_exchange
>>> fig = exchange_figure(message_exchange(messages=20, loss=0.2, seed=1))
"""

from __future__ import annotations

from matplotlib.figure import Figure

from distlab.plots.sequence import message_sequence

__all__ = ["exchange_figure"]


def exchange_figure(result, *, title: str | None = None, max_messages: int = 400) -> Figure:
    """:func:`~distlab.plots.sequence.message_sequence` of an exchange, with its statistics.

    The title's second line gives what was lost, cut off by a partition or reordered, and the
    mean latency of the delivered messages. Nodes are drawn in name order, A at the top.

    ``result`` is an :class:`~distlab.experiments.network.ExchangeResult`.
    """
    stats = result.stats
    parts = []
    for fate in ("lost", "partitioned", "crashed", "reordered"):
        if stats.loc[fate, "count"]:
            parts.append(f"{stats.loc[fate, 'count']} {fate}")
    mean = result.messages["latency"].mean()
    if mean == mean:  # not NaN: something was delivered
        parts.append(f"mean latency {mean * 1000:.0f} ms")
    heading = "\n".join(line for line in (title, ", ".join(parts)) if line) or None
    nodes = sorted(set(result.messages["src"]) | set(result.messages["dst"]))
    return message_sequence(
        result.events, title=heading, nodes=nodes, faults=result.faults, max_messages=max_messages
    )
