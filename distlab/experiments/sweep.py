"""Run an experiment over a grid of parameters and seeds, on any ``concurrent.futures.Executor``.

Experiments are pure functions of (parameters, seed), so a sweep is embarrassingly parallel: run it
in-process (the default), on a ``ProcessPoolExecutor``, or on a Dask cluster through
``distributed.Client(...).get_executor()``.

>>> from distlab.experiments import sweep
>>> from distlab.experiments.challenges import timeout_ambiguity
>>> df = sweep(timeout_ambiguity, {"timeout_s": [0.2, 0.5]}, seeds=range(3))
>>> sorted(df["timeout_s"].unique().tolist())
[0.2, 0.5]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import pandas as pd

from distlab._validate import check_seed

__all__ = ["sweep"]


def _as_frame(result: Any) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    frame = getattr(result, "frame", None)
    if isinstance(frame, pd.DataFrame):
        return frame
    raise TypeError(
        f"sweep needs an experiment that returns a DataFrame (or a result with a .frame "
        f"DataFrame), got {type(result).__name__}"
    )


def _run_one(task: tuple[Callable[..., Any], dict[str, Any]]) -> pd.DataFrame:
    experiment, params = task
    frame = _as_frame(experiment(**params)).copy()
    for name, value in params.items():
        frame[name] = value
    return frame


def _grid(grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(grid, Mapping):
        names = list(grid)
        for name in names:
            if isinstance(grid[name], (str, bytes)) or not isinstance(grid[name], Iterable):
                raise TypeError(f"grid[{name!r}]={grid[name]!r} must be a list of values to try")
        return [dict(zip(names, values)) for values in itertools.product(*grid.values())]
    return [dict(point) for point in grid]


def sweep(
    experiment: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
    *,
    seeds: Iterable[int] = range(5),
    executor: Executor | None = None,
    **fixed: Any,
) -> pd.DataFrame:
    """Run ``experiment(**point, **fixed, seed=s)`` for every grid point and seed; concatenate.

    Args:
        experiment: a module-level function returning a DataFrame (picklable, so a process pool
            can run it).
        grid: ``{"name": [values...]}`` for a full product, or a list of parameter dicts.
        seeds: the seeds to run each point with.
        executor: any ``concurrent.futures.Executor``; ``None`` runs in this process.
        **fixed: parameters passed unchanged to every run.

    Returns:
        The runs' DataFrames stacked, each with its parameters and ``seed`` as extra columns, in
        grid order then seed order whatever the executor.
    """
    seeds = [check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds=[] must name at least one seed")
    points = _grid(grid)
    overlap = set(fixed) & {name for point in points for name in point}
    if overlap:
        raise ValueError(f"parameters {sorted(overlap)} are given both in grid and as fixed values")
    tasks = [(experiment, {**fixed, **point, "seed": seed}) for point in points for seed in seeds]
    runner = map if executor is None else executor.map
    frames = list(runner(_run_one, tasks))
    return pd.concat(frames, ignore_index=True)
