"""A breaker's settings: :class:`BreakerConfig`, validated once, read-only after.

>>> config = BreakerConfig(failure_rate_threshold=50, minimum_calls=10, window_size=20)
>>> config.window_size, config.wait_for(1)
(20, 60.0)
>>> BreakerConfig(window_type="sliding")
Traceback (most recent call last):
ValueError: window_type='sliding' is not one of 'count', 'time'
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from distlab._validate import check_bool, check_choice, check_int, check_number

__all__ = ["BreakerConfig", "WINDOW_TYPES", "exponential_wait"]

#: The kinds of sliding window: the last N calls, or the last N seconds.
WINDOW_TYPES = ("count", "time")


def exponential_wait(
    initial: float = 1.0, multiplier: float = 2.0, maximum: float = 300.0
) -> Callable[[int], float]:
    """A ``wait_in_open`` that grows with each opening in a row: initial · multiplier^(n-1),
    capped at ``maximum``.

    >>> wait = exponential_wait(10, 2, 60)
    >>> [wait(n) for n in (1, 2, 3, 4)]
    [10.0, 20.0, 40.0, 60.0]
    """
    initial = check_number("initial", initial, 0.0, min_inclusive=False)
    multiplier = check_number("multiplier", multiplier, 1.0)
    maximum = check_number("maximum", maximum, 0.0)
    if maximum < initial:
        raise ValueError(f"maximum={maximum:g} must be at least initial={initial:g}")

    def wait(openings: int) -> float:
        exponent = max(0, openings - 1)
        try:
            seconds = initial * multiplier**exponent
        except OverflowError:
            return maximum
        return maximum if seconds > maximum else seconds

    return wait


def exception_predicate(name: str, spec: Any) -> Callable[[BaseException], bool]:
    """``spec`` (an exception type, a tuple or list of them, or a predicate) as a predicate.

    >>> exception_predicate("ignore", KeyError)(KeyError("k"))
    True
    """
    if isinstance(spec, (list, set, frozenset)):
        spec = tuple(spec)
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return lambda exc: isinstance(exc, spec)
    if isinstance(spec, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in spec
    ):
        return (lambda exc: isinstance(exc, spec)) if spec else (lambda exc: False)
    if callable(spec) and not isinstance(spec, type):
        return lambda exc: bool(spec(exc))
    raise TypeError(
        f"{name}={spec!r} must be an exception type, a tuple of them, or a predicate exc -> bool"
    )


@dataclass(frozen=True)
class BreakerConfig:
    """The settings of a :class:`~distlab.breaker.CircuitBreaker` (resilience4j's names).

    Attributes:
        failure_rate_threshold: percent of recorded calls that failed, in (0, 100], that opens it.
        slow_call_rate_threshold: percent of recorded calls that were slow, in (0, 100].
        slow_call_duration: seconds; a call strictly longer than this is slow.
        minimum_calls: recorded calls needed before any decision (for a count window, at most
            ``window_size`` are needed).
        window_type: ``"count"`` (the last ``window_size`` calls) or ``"time"`` (the last
            ``window_size`` seconds).
        window_size: calls or seconds, at least 1.
        wait_in_open: seconds in OPEN before a probe is admitted, or a function of the number of
            openings in a row (1, 2, ...) returning seconds (see :func:`exponential_wait`).
        permitted_calls_in_half_open: probes admitted in HALF_OPEN. A probe whose exception is
            ignored gives its permit back (it was not recorded), as in resilience4j.
        max_wait_in_half_open: seconds after which HALF_OPEN reopens if its probes have not all
            completed (``None``: wait forever).
        automatic_transition: move from OPEN to HALF_OPEN as soon as the wait is over (dated at
            the deadline, as a timer would; applied when the breaker is next used or read).
        record_on: exceptions that count as failures (types, a tuple, or a predicate); any other
            ``Exception`` counts as a success, as in resilience4j. A ``BaseException`` that is not
            an ``Exception`` stops the call rather than failing it: not recorded unless
            ``record_on`` names it.
        ignore: exceptions that are not recorded at all (they win over ``record_on``).
        consecutive_failures: ``None`` for the rate-based decision above; a count for the course
            text's breaker (see :meth:`~distlab.breaker.CircuitBreaker.consecutive`), which then
            ignores the rates, the window and the probe limit.
    """

    failure_rate_threshold: float = 50.0
    slow_call_rate_threshold: float = 100.0
    slow_call_duration: float = 60.0
    minimum_calls: int = 100
    window_type: str = "count"
    window_size: int = 100
    wait_in_open: float | Callable[[int], float] = 60.0
    permitted_calls_in_half_open: int = 10
    max_wait_in_half_open: float | None = None
    automatic_transition: bool = False
    record_on: Any = Exception
    ignore: Any = ()
    consecutive_failures: int | None = None
    _records: Callable[[BaseException], bool] = field(init=False, repr=False, compare=False)
    _ignores: Callable[[BaseException], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put(
            "failure_rate_threshold",
            check_number(
                "failure_rate_threshold", self.failure_rate_threshold, 0.0, 100.0,
                min_inclusive=False,
            ),
        )  # fmt: skip
        put(
            "slow_call_rate_threshold",
            check_number(
                "slow_call_rate_threshold", self.slow_call_rate_threshold, 0.0, 100.0,
                min_inclusive=False,
            ),
        )  # fmt: skip
        put("slow_call_duration", check_number("slow_call_duration", self.slow_call_duration, 0.0))
        put("minimum_calls", check_int("minimum_calls", self.minimum_calls, 1))
        put("window_type", check_choice("window_type", self.window_type, WINDOW_TYPES))
        put("window_size", check_int("window_size", self.window_size, 1))
        if not self._wait_is_function():
            put("wait_in_open", check_number("wait_in_open", self.wait_in_open, 0.0))
        put(
            "permitted_calls_in_half_open",
            check_int("permitted_calls_in_half_open", self.permitted_calls_in_half_open, 1),
        )
        if self.max_wait_in_half_open is not None:
            put(
                "max_wait_in_half_open",
                check_number(
                    "max_wait_in_half_open", self.max_wait_in_half_open, 0.0, min_inclusive=False
                ),
            )
        check_bool("automatic_transition", self.automatic_transition)
        put("_records", exception_predicate("record_on", self.record_on))
        put("_ignores", exception_predicate("ignore", self.ignore))
        if self.consecutive_failures is not None:
            put("consecutive_failures", check_int("failures", self.consecutive_failures, 1))
        self.wait_for(1)  # a wait function that is wrong from the start fails here, not later

    def _wait_is_function(self) -> bool:
        wait = self.wait_in_open
        return callable(wait) and not isinstance(wait, (bool, numbers.Number))

    @property
    def min_calls(self) -> int:
        """The recorded calls a decision needs: ``minimum_calls``, at most ``window_size`` for a
        count window."""
        if self.window_type == "count":
            return min(self.minimum_calls, self.window_size)
        return self.minimum_calls

    def wait_for(self, openings: int) -> float:
        """Seconds in OPEN for the ``openings``-th opening in a row (1, 2, ...)."""
        if not self._wait_is_function():
            return self.wait_in_open  # type: ignore[return-value]
        wait = self.wait_in_open(openings)  # type: ignore[operator]
        if isinstance(wait, bool) or not isinstance(wait, numbers.Real):
            raise TypeError(
                f"wait_in_open({openings}) returned {wait!r}: it must return a number of seconds"
            )
        wait = float(wait)
        if not wait >= 0.0:
            raise ValueError(f"wait_in_open({openings}) returned {wait!r}: it must be >= 0 seconds")
        return wait

    def is_ignored(self, exc: BaseException) -> bool:
        """Whether ``exc`` matches ``ignore`` (the call is not recorded)."""
        return self._ignores(exc)

    def is_recorded_failure(self, exc: BaseException) -> bool:
        """Whether ``exc`` matches ``record_on`` (the call is a failure)."""
        return self._records(exc)


class ConfigAttributes:
    """Read-only attributes for the settings of ``self.config`` (a :class:`BreakerConfig`)."""

    config: BreakerConfig

    @property
    def failure_rate_threshold(self) -> float:
        """See :class:`BreakerConfig`."""
        return self.config.failure_rate_threshold

    @property
    def slow_call_rate_threshold(self) -> float:
        """See :class:`BreakerConfig`."""
        return self.config.slow_call_rate_threshold

    @property
    def slow_call_duration(self) -> float:
        """See :class:`BreakerConfig`."""
        return self.config.slow_call_duration

    @property
    def minimum_calls(self) -> int:
        """See :class:`BreakerConfig`."""
        return self.config.minimum_calls

    @property
    def window_type(self) -> str:
        """See :class:`BreakerConfig`."""
        return self.config.window_type

    @property
    def window_size(self) -> int:
        """See :class:`BreakerConfig`."""
        return self.config.window_size

    @property
    def wait_in_open(self) -> float | Callable[[int], float]:
        """See :class:`BreakerConfig`."""
        return self.config.wait_in_open

    @property
    def permitted_calls_in_half_open(self) -> int:
        """See :class:`BreakerConfig`."""
        return self.config.permitted_calls_in_half_open

    @property
    def max_wait_in_half_open(self) -> float | None:
        """See :class:`BreakerConfig`."""
        return self.config.max_wait_in_half_open

    @property
    def automatic_transition(self) -> bool:
        """See :class:`BreakerConfig`."""
        return self.config.automatic_transition
