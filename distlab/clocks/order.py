"""How two timestamps of a partial order relate: before, after, equal or concurrent.

>>> compare_counts({"a": 1, "b": 0}, {"a": 1, "b": 2})
<Order.BEFORE: 'before'>
>>> compare_counts({"a": 2}, {"b": 1})
<Order.CONCURRENT: 'concurrent'>

Vector clocks and version vectors compare entry by entry (a missing entry counts as 0): ``a`` is
before ``b`` when every entry of ``a`` is at most ``b``'s and one is smaller.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

__all__ = ["Order", "compare_counts"]


class Order(enum.Enum):
    """The four answers to "how are these two events (or versions) ordered?"."""

    BEFORE = "before"
    AFTER = "after"
    EQUAL = "equal"
    CONCURRENT = "concurrent"

    def reverse(self) -> Order:
        """The answer with the two sides swapped.

        >>> Order.BEFORE.reverse(), Order.CONCURRENT.reverse()
        (<Order.AFTER: 'after'>, <Order.CONCURRENT: 'concurrent'>)
        """
        return _REVERSE[self]


_REVERSE = {
    Order.BEFORE: Order.AFTER,
    Order.AFTER: Order.BEFORE,
    Order.EQUAL: Order.EQUAL,
    Order.CONCURRENT: Order.CONCURRENT,
}


def compare_counts(a: Mapping[str, int], b: Mapping[str, int]) -> Order:
    """Compare two vectors given as ``{process: count}`` (missing entries count as 0)."""
    less = greater = False
    for key in a.keys() | b.keys():
        x, y = a.get(key, 0), b.get(key, 0)
        if x < y:
            less = True
        elif x > y:
            greater = True
        if less and greater:
            return Order.CONCURRENT
    if less:
        return Order.BEFORE
    if greater:
        return Order.AFTER
    return Order.EQUAL
