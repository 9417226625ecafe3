"""The sliding windows a breaker decides over: the last N calls, or the last N seconds.

Both keep running totals (``calls``-like counts through :meth:`counts`) and ``seq``, the number
of calls recorded since the window was last cleared. Both hold at most one entry per recorded
failure or slow call (count) or per second that saw a call (time), never ``window_size``
preallocated slots, so any window size costs only what it holds.

>>> window = CountWindow(3)
>>> for failed in (True, False, False, False):
...     window.record(0.0, failed, slow=False)
>>> window.counts()        # the failure fell out: calls, failures, slow
(3, 0, 0)
>>> timed = TimeWindow(10)
>>> timed.record(0.5, True, False); timed.record(12.0, False, True)
>>> timed.counts()         # second 0 is more than 10 s old at t=12
(1, 0, 1)
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["CountWindow", "TimeWindow"]


class CountWindow:
    """The outcomes of the last ``size`` recorded calls: the sequence number of the newest call
    (``seq``) and those of the failed and slow calls still in the window, so that recording a
    success is one addition."""

    __slots__ = ("size", "seq", "_failed", "_slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self.seq = 0
        self._failed: deque[int] = deque()
        self._slow: deque[int] = deque()

    def clear(self) -> None:
        """Start empty (``seq`` back to 0)."""
        self.seq = 0
        self._failed.clear()
        self._slow.clear()

    def advance(self, now: float) -> None:
        """Nothing: a count window does not age."""

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one call's outcome (the oldest falls out once the window is full)."""
        self.seq = seq = self.seq + 1
        if failed:
            self._failed.append(seq)
        if slow:
            self._slow.append(seq)
        self._evict()

    def _evict(self) -> None:
        oldest_gone = self.seq - self.size
        failed, slow = self._failed, self._slow
        while failed and failed[0] <= oldest_gone:
            failed.popleft()
        while slow and slow[0] <= oldest_gone:
            slow.popleft()

    def counts(self) -> tuple[int, int, int]:
        """``(calls, failures, slow)`` in the window."""
        self._evict()
        return min(self.seq, self.size), len(self._failed), len(self._slow)


class TimeWindow:
    """The outcomes of the last ``size`` seconds, in one-second buckets (only the seconds that
    saw a call are kept, oldest first), with running totals."""

    __slots__ = ("size", "seq", "_buckets", "_latest", "_calls", "_failures", "_slow")

    def __init__(self, size: int) -> None:
        self.size = size
        self.clear()

    def clear(self) -> None:
        """Start empty (``seq`` back to 0)."""
        self.seq = 0
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures, slow]
        self._latest: int | None = None  # the newest second seen
        self._calls = self._failures = self._slow = 0

    def advance(self, now: float) -> None:
        """Forget the buckets that fell out of the window by time ``now``."""
        second = math.floor(now)
        if self._latest is not None and second <= self._latest:
            return
        self._latest = second
        oldest_kept = second - self.size
        buckets = self._buckets
        while buckets and buckets[0][0] <= oldest_kept:
            _, calls, failures, slow = buckets.popleft()
            self._calls -= calls
            self._failures -= failures
            self._slow -= slow

    def record(self, now: float, failed: bool, slow: bool) -> None:
        """Add one call's outcome in the bucket of second ``floor(now)`` (a time more than
        ``size`` seconds before the newest seen, from a clock gone back, is dropped)."""
        self.advance(now)
        self.seq += 1  # recorded, even if dropped below
        second = math.floor(now)
        if second <= self._latest - self.size:  # type: ignore[operator]
            return
        bucket = self._bucket(second)
        bucket[1] += 1
        bucket[2] += failed
        bucket[3] += slow
        self._calls += 1
        self._failures += failed
        self._slow += slow

    def _bucket(self, second: int) -> list[int]:
        buckets = self._buckets
        if buckets and buckets[-1][0] == second:
            return buckets[-1]
        if not buckets or buckets[-1][0] < second:
            buckets.append([second, 0, 0, 0])
            return buckets[-1]
        for i, bucket in enumerate(buckets):  # a clock gone back, within the window: rare
            if bucket[0] == second:
                return bucket
            if bucket[0] > second:
                buckets.insert(i, [second, 0, 0, 0])
                return buckets[i]
        raise AssertionError("unreachable")  # pragma: no cover

    def counts(self) -> tuple[int, int, int]:
        """``(calls, failures, slow)`` in the window (as of the last time it was advanced)."""
        return self._calls, self._failures, self._slow
