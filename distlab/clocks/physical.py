"""Simulated physical clocks: an offset and a drift rate against true time.

A node's clock reads ``true_time * (1 + drift) + offset``. Quartz drifts about 1e-6 (some 86 ms
a day); Spanner assumes at most 200e-6 (200 us per second). A drift beyond :data:`MAX_DRIFT`
(1e-3, 1000 ppm) is not a clock that runs a little fast but a broken one, and is refused.

>>> clock = DriftingClock(offset=0.002, drift=1e-4)
>>> clock.read(10.0)
10.003
>>> clock.read_ticks(10.0, tick=1e-3)      # integer ticks, e.g. for a hybrid logical clock
10003
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from distlab._validate import check_number

__all__ = ["MAX_DRIFT", "DriftingClock", "check_drift"]

#: The largest drift rate (seconds gained or lost per second) a clock model accepts.
MAX_DRIFT = 1e-3


def check_drift(name: str, value: object, *, minimum: float = -MAX_DRIFT) -> float:
    """Return ``value`` if it is a drift rate a real clock can have, within ``[minimum, 1e-3]``."""
    drift = check_number(name, value)
    if not minimum <= drift <= MAX_DRIFT:
        raise ValueError(
            f"{name}={drift:g} is beyond physical sense: a clock drift rate must be within "
            f"[{minimum:g}, {MAX_DRIFT:g}] seconds per second (quartz: about 1e-6; Spanner "
            "assumes 2e-4)"
        )
    return drift


@dataclass(frozen=True)
class DriftingClock:
    """A node's physical clock: ``offset`` seconds off at true time 0, gaining ``drift``
    seconds per second."""

    offset: float = 0.0
    drift: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "offset", check_number("offset", self.offset))
        object.__setattr__(self, "drift", check_drift("drift", self.drift))

    def read(self, true_time: float) -> float:
        """What this clock shows at ``true_time`` (seconds)."""
        t = check_number("true_time", true_time)
        return t * (1.0 + self.drift) + self.offset

    def read_ticks(self, true_time: float, *, tick: float = 1e-9) -> int:
        """What this clock shows at ``true_time``, as whole ``tick``s (rounded down)."""
        tick = check_number("tick", tick, 0.0, min_inclusive=False)
        ticks = math.floor(round(self.read(true_time) / tick, 6))
        if ticks < 0:
            raise ValueError(
                f"true_time={true_time:g} reads {self.read(true_time):g} s on this clock, before "
                "its epoch: ticks must be >= 0"
            )
        return ticks

    def error(self, true_time: float) -> float:
        """How far this clock is off at ``true_time`` (positive: ahead)."""
        return self.read(true_time) - check_number("true_time", true_time)
