"""Fakes shared by the retry tests: a clock that only moves when the code under test sleeps,
and scripted functions that fail or succeed in a given order. Nothing here sleeps for real.

Imported by the tests as ``retry_fakes`` (pytest puts tests/retry on sys.path)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from distlab.retry import ConstantBackoff, RetryPolicy


class FakeTime:
    """``clock`` / ``sleep`` / ``async_sleep`` for a RetryPolicy; time moves only when told.

    ``oversleep`` is added to every wait, like a real ``sleep`` that wakes up late.
    """

    def __init__(self, start: float = 1000.0, oversleep: float = 0.0) -> None:
        self.now = start
        self.oversleep = oversleep
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay + self.oversleep

    async def async_sleep(self, delay: float) -> None:
        self.sleep(delay)

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def policy_kwargs(self) -> dict[str, Any]:
        return {"clock": self.clock, "sleep": self.sleep, "async_sleep": self.async_sleep}


def make(fake: FakeTime, **kwargs: Any) -> RetryPolicy:
    """A RetryPolicy on ``fake``'s clock and sleeps; ``backoff`` a constant 1 s unless given."""
    kwargs.setdefault("backoff", ConstantBackoff(1.0))
    return RetryPolicy(**kwargs, **fake.policy_kwargs())


class Script:
    """A function whose n-th call raises or returns the n-th outcome (an exception *instance*
    is raised, anything else returned); each call takes ``duration`` seconds of fake time and
    records when it started. Every exception raised is kept, in order, for identity checks."""

    def __init__(
        self, outcomes: Iterable[Any], time: FakeTime | None = None, duration: float = 0.0
    ):
        self.outcomes = list(outcomes)
        self.time = time
        self.duration = duration
        self.starts: list[float] = []
        self.raised: list[BaseException] = []

    @property
    def calls(self) -> int:
        return len(self.starts)

    def _next(self) -> Any:
        i = len(self.starts)
        self.starts.append(self.time.now if self.time else float(i))
        if self.time:
            self.time.advance(self.duration)
        outcome = self.outcomes[min(i, len(self.outcomes) - 1)]
        if isinstance(outcome, type) and issubclass(outcome, BaseException):
            outcome = outcome(f"attempt {i + 1}")  # a fresh instance per attempt
        if isinstance(outcome, BaseException):
            self.raised.append(outcome)
            raise outcome
        return outcome

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._next()

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        return self._next()
