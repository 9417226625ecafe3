"""How a breaker decides: on rates over a window (resilience4j) or on failures in a row (the
course text). The breaker's state machine asks its policy; the policy never changes the state.

>>> from distlab.breaker.config import BreakerConfig
>>> from distlab.breaker.model import BreakerMetrics, BreakerState
>>> policy = decision_policy(BreakerConfig(minimum_calls=2, window_size=2))
>>> policy.record(BreakerState.CLOSED, 0.0, failed=True, slow=False) is None
True
>>> policy.record(BreakerState.CLOSED, 1.0, failed=True, slow=False)
<BreakerState.OPEN: 'OPEN'>
"""

from __future__ import annotations

from distlab.breaker.config import BreakerConfig
from distlab.breaker.model import BreakerMetrics, BreakerState
from distlab.breaker.windows import CountWindow, TimeWindow

__all__ = ["ConsecutivePolicy", "RatePolicy", "decision_policy"]

_CLOSED, _OPEN, _HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
_METRICS_ONLY = BreakerState.METRICS_ONLY


class RatePolicy:
    """resilience4j's decision: the failure and slow-call rates over a sliding window in CLOSED,
    over ``permitted_calls_in_half_open`` probes in HALF_OPEN.

    ``recorded`` counts every call recorded since creation or :meth:`reset_totals`, in any state
    (``recorded_apart`` those no longer, or never, in the window).
    """

    #: A call exactly at the end of the wait in OPEN is still rejected.
    admits_at_deadline = False

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        size = config.window_size
        self.window: CountWindow | TimeWindow = (
            TimeWindow(size) if config.window_type == "time" else CountWindow(size)
        )
        self.min_calls = config.min_calls
        self.recorded_apart = 0
        self.permits = 0  # HALF_OPEN permits handed out
        self.probe_calls = self.probe_failures = self.probe_slow = 0

    @property
    def recorded(self) -> int:
        """Calls recorded since creation or :meth:`reset_totals`."""
        return self.recorded_apart + self.window.seq

    def reset_totals(self) -> None:
        """Forget the recorded total (the window is cleared by :meth:`new_window`)."""
        self.recorded_apart = 0

    def new_window(self) -> None:
        """Start an empty window (on entering CLOSED or METRICS_ONLY)."""
        self.recorded_apart += self.window.seq
        self.window.clear()

    def restart_count(self) -> None:
        """Entering CLOSED: nothing to restart here (the window is cleared apart)."""

    def start_half_open(self) -> None:
        """No permits handed out, no probe back yet."""
        self.permits = 0
        self.probe_calls = self.probe_failures = self.probe_slow = 0

    def take_permit(self) -> bool:
        """Admit one more probe in HALF_OPEN, if the limit allows."""
        if self.permits >= self.config.permitted_calls_in_half_open:
            return False
        self.permits += 1
        return True

    def give_back_permit(self) -> None:
        """An ignored probe will never be recorded: resilience4j gives its permit back."""
        if self.permits > self.probe_calls:
            self.permits -= 1

    def counts(self, state: BreakerState) -> tuple[int, int, int]:
        """``(calls, failures, slow)`` that decide in ``state``."""
        if state is _HALF_OPEN:
            return self.probe_calls, self.probe_failures, self.probe_slow
        return self.window.counts()

    def rates(self, state: BreakerState) -> tuple[float | None, float | None]:
        """Failure and slow-call rates (percent) in ``state``; ``None`` below the minimum."""
        calls, failures, slow = self.counts(state)
        minimum = (
            self.config.permitted_calls_in_half_open if state is _HALF_OPEN else self.min_calls
        )
        if calls < minimum or not calls:
            return None, None
        return 100.0 * failures / calls, 100.0 * slow / calls

    def over_threshold(self, state: BreakerState) -> bool:
        """Whether a rate is at or above its threshold in ``state``."""
        failure_rate, slow_rate = self.rates(state)
        if failure_rate is None:
            return False
        config = self.config
        return (
            failure_rate >= config.failure_rate_threshold
            or slow_rate >= config.slow_call_rate_threshold  # type: ignore[operator]
        )

    def snapshot(
        self, state: BreakerState, *, admitted: int, ignored: int, rejected: int, failures: int,
        slow: int,
    ) -> BreakerMetrics:  # fmt: skip
        """The metrics in ``state``, with the breaker's own counters."""
        calls, window_failures, window_slow = self.counts(state)
        failure_rate, slow_rate = self.rates(state)
        recorded = self.recorded
        return BreakerMetrics(
            state=state,
            failure_rate=failure_rate,
            slow_call_rate=slow_rate,
            window_calls=calls,
            window_failures=window_failures,
            window_slow=window_slow,
            admitted=admitted,
            recorded=recorded,
            ignored=ignored,
            in_flight=admitted - recorded - ignored,
            rejected=rejected,
            successes=recorded - failures,
            failures=failures,
            slow=slow,
        )

    def record(
        self, state: BreakerState, now: float, failed: bool, slow: bool
    ) -> BreakerState | None:
        """Record a completed call in ``state``; return the state it calls for, if any."""
        if state is _CLOSED or state is _METRICS_ONLY:
            self.window.record(now, failed, slow)
            if state is _CLOSED and self.over_threshold(state):
                return _OPEN
            return None
        self.recorded_apart += 1
        if state is _HALF_OPEN:
            self.probe_calls += 1
            self.probe_failures += failed
            self.probe_slow += slow
            if self.probe_calls >= self.config.permitted_calls_in_half_open:
                return _OPEN if self.over_threshold(state) else _CLOSED
        # An outcome in OPEN or FORCED_OPEN (a call admitted before it opened) or in DISABLED
        # is counted but decides nothing.
        return None


class ConsecutivePolicy(RatePolicy):
    """The course text's decision: ``consecutive_failures`` failures in a row open it; in
    HALF_OPEN every call goes through, one success closes it and one failure reopens it (even
    from OPEN, as the course's code does). Durations and rates play no part."""

    admits_at_deadline = True  # the course: `if (Date.now() < nextAttempt) throw`

    def __init__(self, config: BreakerConfig) -> None:
        super().__init__(config)
        self.threshold: int = config.consecutive_failures  # type: ignore[assignment]
        self.failure_count = 0

    def restart_count(self) -> None:
        """Entering CLOSED starts the count of failures in a row again."""
        self.failure_count = 0

    def take_permit(self) -> bool:
        """HALF_OPEN lets every call through."""
        return True

    def give_back_permit(self) -> None:
        """No permits to give back."""

    def rates(self, state: BreakerState) -> tuple[float | None, float | None]:
        """No rates: it counts failures in a row."""
        return None, None

    def over_threshold(self, state: BreakerState) -> bool:
        """Never: only :meth:`record` decides."""
        return False

    def record(
        self, state: BreakerState, now: float, failed: bool, slow: bool
    ) -> BreakerState | None:
        """The course's onSuccess / onFailure."""
        self.recorded_apart += 1
        if state is BreakerState.DISABLED or state is BreakerState.FORCED_OPEN:
            return None
        if failed:
            self.failure_count += 1
            if self.failure_count >= self.threshold and state is not _METRICS_ONLY:
                return _OPEN  # the course sets OPEN and a new deadline, even if already OPEN
            return None
        self.failure_count = 0
        if state is not _CLOSED and state is not _METRICS_ONLY:
            return _CLOSED  # even from OPEN: `this.state = 'CLOSED'`
        return None


def decision_policy(config: BreakerConfig) -> RatePolicy:
    """The policy ``config`` asks for: :class:`ConsecutivePolicy` when it sets
    ``consecutive_failures``, else :class:`RatePolicy`."""
    if config.consecutive_failures is not None:
        return ConsecutivePolicy(config)
    return RatePolicy(config)
