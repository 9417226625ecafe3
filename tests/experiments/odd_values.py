"""What every fuzz test of an experiment checks: a call with an odd value either raises a
ValueError/TypeError naming the parameter, or returns a Result whose tables are finite."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Extreme, tiny, non-finite, wrong-typed and numpy-typed values: what a caller may pass by mistake.
ODD_VALUES = [0, -1, 1, 2**31, 2**63, 10**30, 0.0, -0.0, -1.5, 0.5, 5e-324, 1e-300, 1e308,
              -1e308, math.inf, -math.inf, math.nan, True, None, "1", "", [1], (0.1, 0.2),
              np.int64(3), np.float64(0.25)]  # fmt: skip


def assert_finite(table: pd.DataFrame, where: str) -> None:
    numbers = table.select_dtypes(include="number").to_numpy(dtype=float)
    assert not np.isinf(numbers).any(), f"{where} has an infinite number"


def assert_names(error: Exception, name: str) -> None:
    message = str(error)
    # grid[0]=... and "conflicts item=..." name an item of grid, of conflicts
    named = f"{name}=" in message or f"{name}[" in message or f"{name} item=" in message
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


# name -> (experiment, its small settings, the parameters to give an odd value)
Experiments = dict[str, tuple[Callable[..., Any], dict[str, Any], list[str]]]


def fuzz_experiments(
    experiments: Experiments, max_examples: int, values: list[Any] = ODD_VALUES
) -> Callable[[Callable[..., None]], Any]:
    """The settings and strategies of a test ``(experiment, data, value)`` that gives one
    parameter of one of ``experiments`` an odd value from ``values`` (see :func:`odd_value_run`)."""

    runs = settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    draws = given(
        experiment=st.sampled_from(sorted(experiments)),
        data=st.data(),
        value=st.sampled_from(values),
    )

    def decorate(test: Callable[..., None]) -> Any:
        return runs(draws(test))  # as @settings(...) above @given(...)

    return decorate


def odd_value_run(experiments: Experiments, experiment: str, data: Any, value: Any) -> Any:
    """Give ``value`` to a parameter of ``experiment`` drawn from ``data``: the result, its
    tables checked finite, or ``None`` if the value was refused naming the parameter."""
    function, base, names = experiments[experiment]
    name = data.draw(st.sampled_from(names), label="parameter")
    return refused_by_name_or_finite(function, base, name, value, experiment)
