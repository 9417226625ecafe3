"""Argument checks shared by every public constructor and experiment.

Each check raises ``ValueError`` (or ``TypeError`` for the wrong kind of value) with a message
that names the parameter, the value given and what is allowed::

    >>> check_probability("loss", 1.5)
    Traceback (most recent call last):
    ValueError: loss=1.5 must be between 0 and 1
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Set
from typing import Any

__all__ = [
    "check_bool",
    "check_choice",
    "check_choices",
    "check_frame",
    "check_hashable",
    "check_int",
    "check_number",
    "check_probability",
    "check_seed",
    "is_hashable",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is a whole number within [minimum, maximum]."""
    if not _is_int(value):
        raise TypeError(f"{name}={value!r} must be an integer")
    value = int(value)
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name}={value} must be between {minimum} and {maximum}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} must be at most {maximum}")
    return value


def check_number(
    name: str,
    value: Any,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number within the given bounds.

    Bounds are inclusive unless ``min_inclusive`` / ``max_inclusive`` say otherwise.
    """
    if not _is_real(value):
        raise TypeError(f"{name}={value!r} must be a number")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name}={value} must be a finite number")
    low_ok = minimum is None or (value >= minimum if min_inclusive else value > minimum)
    high_ok = maximum is None or (value <= maximum if max_inclusive else value < maximum)
    if low_ok and high_ok:
        return value
    if minimum is not None and maximum is not None:
        left = "[" if min_inclusive else "("
        right = "]" if max_inclusive else ")"
        raise ValueError(f"{name}={value:g} must be in {left}{minimum:g}, {maximum:g}{right}")
    if not low_ok:
        word = "at least" if min_inclusive else "greater than"
        raise ValueError(f"{name}={value:g} must be {word} {minimum:g}")
    word = "at most" if max_inclusive else "less than"
    raise ValueError(f"{name}={value:g} must be {word} {maximum:g}")


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (numpy's included): a flag is never coerced with ``bool()``.

    >>> check_bool("check", "false")
    Traceback (most recent call last):
    TypeError: check='false' must be True or False
    """
    if isinstance(value, bool):
        return value
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):  # numpy 1 and 2
        return bool(value)
    raise TypeError(f"{name}={value!r} must be True or False")


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a probability in [0, 1]."""
    if not _is_real(value):
        raise TypeError(f"{name}={value!r} must be a number between 0 and 1")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name}={value:g} must be between 0 and 1")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}={value!r} is not one of {options}")
    return value


def check_choices(param: str, value: Any, allowed: tuple[Any, ...], *, noun: str = "one") -> tuple:
    """Return ``value`` as a tuple of names, each one of ``allowed`` and each once.

    One name (a string) is a list of one. A set or a dict is refused: results follow the order
    of the names, and a set's order changes from one process to the next. ``noun`` says what an
    item is in the message for a repeat (``noun="a variant"``: "names a variant twice").

    >>> check_choices("variants", "a", ("a", "b"))
    ('a',)
    >>> check_choices("variants", ["a", "a"], ("a", "b"), noun="a variant")
    Traceback (most recent call last):
    ValueError: variants=('a', 'a') names a variant twice
    >>> check_choices("variants", {"b", "a"}, ("a", "b"))
    Traceback (most recent call last):
    TypeError: variants={...} must be a list or tuple of names, in the order wanted (a set ...
    """
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, (Set, Mapping)):
        raise TypeError(
            f"{param}={value!r} must be a list or tuple of names, in the order wanted "
            "(a set or dict has none of its own)"
        )
    if not isinstance(value, Iterable):
        raise TypeError(f"{param}={value!r} must be a list of names from {allowed}")
    names = tuple(value)
    if not names:
        raise ValueError(f"{param}=() is empty: give at least one of {allowed}")
    for name in names:
        if not isinstance(name, str):
            options = ", ".join(repr(a) for a in allowed)
            raise TypeError(f"{param} item={name!r} must be a name, one of {options}")
        check_choice(f"{param} item", name, allowed)
    if len(set(names)) != len(names):
        raise ValueError(f"{param}={names!r} names {noun} twice")
    return names


def check_seed(value: Any) -> int:
    """Return ``value`` as an ``int`` seed (``numpy.random.default_rng`` needs a whole number
    >= 0)."""
    if not _is_int(value):
        raise TypeError(f"seed={value!r} must be an int (got {type(value).__name__})")
    if value < 0:
        raise ValueError(f"seed={value} must be a non-negative integer")
    return int(value)


def check_frame(name: str, value: Any, columns: Iterable[str], *, what: str = "") -> Any:
    """Return ``value`` if it is a pandas DataFrame with every one of ``columns``.

    ``what`` says where such a frame comes from, for the message (e.g. "World.events()").
    """
    import pandas as pd  # only callers that already work with DataFrames get here

    source = f" ({what})" if what else ""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name}={type(value).__name__} must be a pandas DataFrame{source}")
    missing = [str(c) for c in columns if c not in value.columns]
    if missing:
        have = ", ".join(map(str, value.columns)) or "no columns"
        raise ValueError(f"{name} is missing column(s) {', '.join(missing)}; it has {have}")
    return value


def is_hashable(value: Any) -> bool:
    """Whether ``value`` can be a dict key or a set member.

    >>> is_hashable((1, "a")), is_hashable([1])
    (True, False)
    """
    try:
        hash(value)
    except TypeError:
        return False
    return True


def check_hashable(name: str, value: Any) -> Any:
    """Return ``value`` if it is hashable, else ``TypeError`` naming ``name``.

    >>> check_hashable("key", ["a"])
    Traceback (most recent call last):
    TypeError: key=['a'] must be hashable
    """
    if not is_hashable(value):
        raise TypeError(f"{name}={value!r} must be hashable")
    return value
