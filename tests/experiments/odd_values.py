"""What every fuzz test of an experiment checks: a call with an odd value either raises a
ValueError/TypeError naming the parameter, or returns a Result whose tables are finite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def assert_finite(table: pd.DataFrame, where: str) -> None:
    numbers = table.select_dtypes(include="number").to_numpy(dtype=float)
    assert not np.isinf(numbers).any(), f"{where} has an infinite number"


def assert_names(error: Exception, name: str) -> None:
    message = str(error)
    named = f"{name}=" in message or f"{name}[" in message  # grid[0]=... names an item of grid
    assert named, f"{type(error).__name__} does not name {name}: {error}"


def refused_by_name_or_finite(
    function: Callable[..., Any], base: dict[str, Any], name: str, value: Any, label: str
) -> Any:
    """Call ``function(**base, name=value)``: the result if it ran (its frame and summary
    checked finite), ``None`` if it refused ``value`` naming ``name``."""
    try:
        result = function(**{**base, name: value})
    except (ValueError, TypeError) as error:
        assert_names(error, name)
        return None
    assert_finite(result.frame, f"{label}({name}={value!r}).frame")
    assert_finite(result.summary, f"{label}({name}={value!r}).summary")
    return result
