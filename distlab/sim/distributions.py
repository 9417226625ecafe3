"""Latency (and service-time) distributions, in seconds.

Each distribution has ``.sample(rng, size=None)`` (a float when ``size`` is None, an ndarray
otherwise), a ``.mean`` (``math.inf`` where it is not finite) and a readable ``repr``. All of them
only produce finite values >= 0, so they can be used as delays: parameters in seconds are at most
:data:`MAX_SECONDS`, a log-normal's ``sigma`` at most 40 and a Pareto's ``alpha`` at least 0.1
(beyond those, draws overflow to infinity). A plain number means :class:`Constant` (see
:func:`as_distribution`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> d = Mixture([(0.9, Exponential(0.01)), (0.1, Constant(0.5))])
>>> round(d.mean, 3)
0.059
>>> d.sample(rng, size=3).shape
(3,)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from distlab._validate import check_number

__all__ = [
    "at_most",
    "MAX_SAMPLES",
    "MAX_SECONDS",
    "Distribution",
    "Constant",
    "Uniform",
    "Exponential",
    "Normal",
    "LogNormal",
    "Pareto",
    "Mixture",
    "as_distribution",
]


#: The largest value any parameter in seconds may take (about 32 years).
MAX_SECONDS = 1e9
#: The most values one ``sample`` call may draw (80 MB of floats).
MAX_SAMPLES = 10_000_000


def at_most(name: str, value: float, maximum: float, why: str = "") -> float:
    """Return ``value`` if it is at most ``maximum``, else raise a ``ValueError`` naming ``name``.

    >>> at_most("size", 5, 3)
    Traceback (most recent call last):
    ValueError: size=5 must be at most 3
    """
    if value > maximum:
        raise ValueError(f"{name}={value:g} must be at most {maximum:g}{why}")
    return value


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    checked = check_number(name, value, minimum=0, min_inclusive=not positive)
    return at_most(name, checked, MAX_SECONDS, " s (MAX_SECONDS)")


class Distribution:
    """Base class of the distributions: subclasses implement ``_draw(rng, size)`` and ``mean``.

    >>> isinstance(Constant(1), Distribution)
    True
    """

    __slots__ = ()

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw one value (a ``float``) or, with ``size``, an ndarray of ``size`` values.

        >>> Uniform(1, 1).sample(np.random.default_rng(0))
        1.0
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng={rng!r} must be a numpy.random.Generator")
        if size is None:
            return float(self._draw(rng, 1)[0])
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"size={size!r} must be None or a non-negative integer")
        if size < 0:
            raise ValueError(f"size={size!r} must be None or a non-negative integer")
        if size > MAX_SAMPLES:
            raise ValueError(f"size={size!r} must be at most {MAX_SAMPLES} values per call")
        return self._draw(rng, int(size))

    @property
    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def _key(self) -> tuple[Any, ...]:  # pragma: no cover
        raise NotImplementedError


class Constant(Distribution):
    """Always the same value (seconds, in [0, MAX_SECONDS]).

    >>> Constant(0.02).sample(np.random.default_rng(0))
    0.02
    """

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = _seconds("value", value)

    @property
    def mean(self) -> float:
        return self.value

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def _key(self) -> tuple[Any, ...]:
        return (self.value,)

    def __repr__(self) -> str:
        return f"Constant({self.value:g})"


class Uniform(Distribution):
    """Uniform between ``low`` and ``high`` (0 <= low <= high <= MAX_SECONDS).

    >>> Uniform(0.01, 0.03).mean
    0.02
    """

    __slots__ = ("low", "high")

    def __init__(self, low: float, high: float) -> None:
        self.low = _seconds("low", low)
        self.high = at_most("high", check_number("high", high), MAX_SECONDS, " s (MAX_SECONDS)")
        if self.high < self.low:
            raise ValueError(f"high={self.high:g} must be at least low={self.low:g}")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def _key(self) -> tuple[Any, ...]:
        return (self.low, self.high)

    def __repr__(self) -> str:
        return f"Uniform(low={self.low:g}, high={self.high:g})"


class Exponential(Distribution):
    """Exponential with the given ``mean`` (in (0, MAX_SECONDS]): memoryless, many short and a few
    long values.

    >>> Exponential(mean=0.05).mean
    0.05
    """

    __slots__ = ("_mean",)

    def __init__(self, mean: float) -> None:
        self._mean = _seconds("mean", mean, positive=True)

    @property
    def mean(self) -> float:
        return self._mean

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self._mean, size)

    def _key(self) -> tuple[Any, ...]:
        return (self._mean,)

    def __repr__(self) -> str:
        return f"Exponential(mean={self._mean:g})"


class Normal(Distribution):
    """``|Normal(mean, sd)|``: a normal draw folded at 0 (its absolute value), as in REFERENCES.md.

    Folding keeps every value >= 0 without resampling. ``.mean`` is the exact mean of the folded
    distribution, which equals the ``mean`` parameter to within 1e-6 relative whenever
    ``mean >= 5 * sd``; the parameters themselves are ``.mu`` and ``.sd``.

    >>> round(Normal(mean=0.010, sd=0.002).mean, 9)
    0.01
    >>> round(Normal(mean=0, sd=1).mean, 4)   # sqrt(2 / pi)
    0.7979
    """

    __slots__ = ("mu", "sd")

    def __init__(self, mean: float, sd: float) -> None:
        self.mu = _seconds("mean", mean)
        self.sd = _seconds("sd", sd)

    @property
    def mean(self) -> float:
        mu, sd = self.mu, self.sd
        if sd == 0:
            return mu
        z = mu / sd
        tail = sd * math.sqrt(2 / math.pi) * math.exp(-z * z / 2)
        return tail + mu * math.erf(z / math.sqrt(2))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.abs(rng.normal(self.mu, self.sd, size))

    def _key(self) -> tuple[Any, ...]:
        return (self.mu, self.sd)

    def __repr__(self) -> str:
        return f"Normal(mean={self.mu:g}, sd={self.sd:g})"


class LogNormal(Distribution):
    """Log-normal with the given ``median`` (in (0, MAX_SECONDS]) and shape ``sigma`` (in
    [0, 40]): a long right tail.

    ``mean = median * exp(sigma**2 / 2)`` (``math.inf`` when that overflows a float).

    >>> LogNormal(median=1, sigma=40).mean
    inf

    >>> round(LogNormal(median=0.01, sigma=1.0).mean, 5)
    0.01649
    """

    __slots__ = ("median", "sigma")

    def __init__(self, median: float, sigma: float) -> None:
        self.median = _seconds("median", median, positive=True)
        self.sigma = at_most("sigma", check_number("sigma", sigma, minimum=0), 40)

    @property
    def mean(self) -> float:
        try:
            return self.median * math.exp(self.sigma**2 / 2)
        except OverflowError:
            return math.inf

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(math.log(self.median), self.sigma, size)

    def _key(self) -> tuple[Any, ...]:
        return (self.median, self.sigma)

    def __repr__(self) -> str:
        return f"LogNormal(median={self.median:g}, sigma={self.sigma:g})"


class Pareto(Distribution):
    """Pareto (type I) with minimum ``scale`` (in (0, MAX_SECONDS]) and tail index ``alpha``
    (>= 0.1; smaller tails overflow to infinite draws): heavy tail.

    ``mean = alpha * scale / (alpha - 1)`` for ``alpha > 1``, otherwise ``math.inf``.

    >>> Pareto(scale=0.01, alpha=3).mean
    0.015
    >>> Pareto(scale=0.01, alpha=1).mean
    inf
    """

    __slots__ = ("scale", "alpha")

    def __init__(self, scale: float, alpha: float) -> None:
        self.scale = _seconds("scale", scale, positive=True)
        self.alpha = check_number("alpha", alpha, minimum=0, min_inclusive=False)
        if self.alpha < 0.1:
            raise ValueError(
                f"alpha={self.alpha:g} must be at least 0.1 (a thinner tail index gives infinite "
                "draws)"
            )

    @property
    def mean(self) -> float:
        if self.alpha <= 1:
            return math.inf
        return self.alpha * self.scale / (self.alpha - 1)

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # numpy's pareto() is the Lomax (Pareto II) form starting at 0; shift it to start at 1.
        return self.scale * (1.0 + rng.pareto(self.alpha, size))

    def _key(self) -> tuple[Any, ...]:
        return (self.scale, self.alpha)

    def __repr__(self) -> str:
        return f"Pareto(scale={self.scale:g}, alpha={self.alpha:g})"


class Mixture(Distribution):
    """A weighted mixture: each draw picks a component with probability weight / sum(weights).

    Components may be distributions or plain numbers (constants). Weights must be >= 0 with a
    positive sum; they are normalised and kept in ``.weights``.

    >>> slow_tail = Mixture([(0.99, 0.010), (0.01, 1.0)])
    >>> round(slow_tail.mean, 4)
    0.0199
    """

    __slots__ = ("weights", "components")

    def __init__(self, components: Iterable[tuple[float, Any]]) -> None:
        if isinstance(components, (str, bytes)) or not isinstance(components, Iterable):
            raise TypeError(
                f"components={components!r} must be a list of (weight, distribution) pairs"
            )
        pairs = list(components)
        if not pairs:
            raise ValueError("components=[] must hold at least one (weight, distribution) pair")
        weights: list[float] = []
        dists: list[Distribution] = []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise TypeError(f"components[{i}]={pair!r} must be a (weight, distribution) pair")
            weights.append(check_number(f"components[{i}] weight", pair[0], minimum=0))
            dists.append(as_distribution(pair[1], name=f"components[{i}] distribution"))
        total = sum(weights)
        if total <= 0:
            raise ValueError(f"weights={weights} must have a positive sum")
        if math.isinf(total):  # huge weights: scale them down first, or they would all become 0
            top = max(weights)
            weights = [w / top for w in weights]
            total = sum(weights)
        self.weights: tuple[float, ...] = tuple(w / total for w in weights)
        self.components: tuple[Distribution, ...] = tuple(dists)

    @property
    def mean(self) -> float:
        return float(sum(w * d.mean for w, d in zip(self.weights, self.components) if w > 0))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        which = rng.choice(len(self.components), size=size, p=self.weights)
        out = np.empty(size)
        for k, dist in enumerate(self.components):
            mask = which == k
            count = int(mask.sum())
            if count:
                out[mask] = dist.sample(rng, count)
        return out

    def _key(self) -> tuple[Any, ...]:
        return (self.weights, self.components)

    def __repr__(self) -> str:
        parts = ", ".join(f"({w:g}, {d!r})" for w, d in zip(self.weights, self.components))
        return f"Mixture([{parts}])"


def as_distribution(value: Any, *, name: str = "latency") -> Distribution:
    """Return ``value`` if it is a :class:`Distribution`, or ``Constant(value)`` for a plain number.

    >>> as_distribution(0.05)
    Constant(0.05)
    >>> as_distribution(Exponential(0.05))
    Exponential(mean=0.05)
    """
    if isinstance(value, Distribution):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{name}={value!r} must be a number of seconds or a distribution "
            "(Constant, Uniform, Exponential, Normal, LogNormal, Pareto, Mixture)"
        )
    return Constant(_seconds(name, value))
