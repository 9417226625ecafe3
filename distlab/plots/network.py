"""The figure of the network explorer: the message diagram and the delivery statistics.

>>> from distlab.experiments.network import message_exchange
>>> fig = exchange_figure(message_exchange(messages=20, loss=0.2, seed=1))
"""

from __future__ import annotations

from matplotlib.figure import Figure

from distlab._validate import check_int
from distlab.plots.sequence import message_sequence
from distlab.plots.style import check_result, check_title

__all__ = ["exchange_figure"]

# Summary columns named in the title, and the words they are called there.
_COUNTS = (
    ("dropped_loss", "lost"),
    ("dropped_partition", "partitioned"),
    ("dropped_crashed", "crashed"),
    ("reordered", "reordered"),
)


def exchange_figure(
    result,
    *,
    title: str | None = None,
    max_messages: int = 400,
    figsize: tuple[float, float] | None = None,
    figure: Figure | None = None,
) -> Figure:
    """:func:`~distlab.plots.sequence.message_sequence` of an exchange, with its statistics.

    The title's second line gives what was lost, cut off by a partition or reordered, and the
    mean latency of the delivered messages. Nodes are drawn in name order, A at the top.

    ``result`` is an :class:`~distlab.experiments.network.ExchangeResult`. ``figsize`` (default:
    taller with more nodes) and ``figure`` (one this function returned before, updated in place
    where it can be) are ``message_sequence``'s.
    """
    check_result(
        "result", result, ("frame", "summary", "events", "faults"), what="message_exchange()"
    )
    max_messages = check_int("max_messages", max_messages, 1)
    check_title(title)
    row = result.summary.iloc[0]
    parts = [f"{int(row[column])} {words}" for column, words in _COUNTS if row[column]]
    mean = row["mean_latency_s"]
    if mean == mean:  # not NaN: something was delivered
        parts.append(f"mean latency {mean * 1000:.0f} ms")
    heading = "\n".join(line for line in (title, ", ".join(parts)) if line) or None
    nodes = sorted(set(result.frame["src"]) | set(result.frame["dst"]))
    return message_sequence(
        result.events,
        title=heading,
        nodes=nodes,
        faults=result.faults,
        max_messages=max_messages,
        figsize=figsize,
        figure=figure,
    )
