"""Run an experiment over a grid of parameters and seeds, on any ``concurrent.futures.Executor``.

Experiments are pure functions of (parameters, seed) returning a
:class:`~distlab.experiments.result.Result`, so a sweep is embarrassingly parallel: run it
in-process (the default), on a ``ProcessPoolExecutor``, or on a Dask cluster through
``distributed.Client(...).get_executor()``. It stacks each run's ``frame`` (or, with
``table="summary"``, each run's summary: one row per run and variant, the table to draw spreads
over seeds from).

>>> from distlab.experiments import sweep
>>> from distlab.experiments.challenges import timeout_ambiguity
>>> df = sweep(timeout_ambiguity, {"timeout_s": [0.2, 0.5]}, seeds=range(3))
>>> sorted(df["timeout_s"].unique().tolist())
[0.2, 0.5]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import pandas as pd

from distlab._validate import check_seed
from distlab.experiments.result import TABLES, Result
from distlab.experiments.scenario import check_work

__all__ = ["MAX_RUNS", "sweep"]

#: The most experiment runs (grid points times seeds) one sweep does.
MAX_RUNS = 100_000


def _run_one(task: tuple[Callable[..., Any], dict[str, Any], str]) -> pd.DataFrame:
    experiment, params, table = task
    result = experiment(**params)
    if not isinstance(result, Result):
        raise TypeError(
            f"experiment={getattr(experiment, '__name__', experiment)!r} returned "
            f"{type(result).__name__}; sweep needs an experiment that returns a "
            "distlab.experiments.Result"
        )
    frame = result.table(table).copy()
    for name, value in params.items():
        frame[name] = [value] * len(frame) if isinstance(value, tuple) else value
    return frame


def _grid(grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(grid, Mapping):
        names = list(grid)
        columns = []
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"grid key {name!r} must be a parameter name (str)")
            values = grid[name]
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise TypeError(f"grid[{name!r}]={values!r} must be a list of values to try")
            columns.append(_bounded_list(f"grid[{name!r}]", values))
            if not columns[-1]:
                raise ValueError(f"grid[{name!r}]=[] has no values: give at least one to try")
        sizes = ", ".join(f"{len(c)} {n}" for n, c in zip(names, columns))
        check_work("runs", math.prod(len(c) for c in columns), MAX_RUNS, f"grid ({sizes})")
        return [dict(zip(names, values)) for values in itertools.product(*columns)]
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
        raise TypeError(
            f"grid={grid!r} must be a dict of parameter -> list of values, or a list of dicts"
        )
    points = _bounded_list("grid", grid)
    if not points:
        raise ValueError(f"grid={grid!r} has no points: give at least one dict of parameters")
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise TypeError(f"grid[{i}]={point!r} must be a dict of parameter values")
    return [dict(point) for point in points]


def _bounded_list(name: str, values: Iterable[Any]) -> list[Any]:
    """``values`` as a list, refused before it grows past :data:`MAX_RUNS` items."""
    items = list(itertools.islice(values, MAX_RUNS + 1))
    if len(items) > MAX_RUNS:
        raise ValueError(
            f"{name} has more than {MAX_RUNS:,} values; a sweep runs at most that many"
        )
    return items


def _seeds(seeds: Iterable[int]) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds={seeds!r} must be a list of seeds (whole numbers >= 0)")
    checked = []
    for i, seed in enumerate(_bounded_list("seeds", seeds)):
        try:
            checked.append(check_seed(seed))
        except (TypeError, ValueError) as error:  # name the item of seeds, not a "seed="
            raise type(error)(f"seeds[{i}]={seed!r} must be a whole number >= 0 (a seed)") from None
    seeds = checked
    if not seeds:
        raise ValueError("seeds=[] must name at least one seed")
    return seeds


def sweep(
    experiment: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
    *,
    seeds: Iterable[int] = range(5),
    executor: Executor | None = None,
    table: str = "frame",
    **fixed: Any,
) -> pd.DataFrame:
    """Run ``experiment(**point, **fixed, seed=s)`` for every grid point and seed; concatenate.

    Args:
        experiment: a module-level function returning a :class:`Result` (picklable, so a process
            pool can run it).
        grid: ``{"name": [values...]}`` for a full product, or a list of parameter dicts.
        seeds: the seeds to run each point with.
        executor: any ``concurrent.futures.Executor``; ``None`` runs in this process.
        table: ``"frame"`` (each run's main table) or ``"summary"`` (each run's summary, its
            index as a column).
        **fixed: parameters passed unchanged to every run.

    Returns:
        The runs' tables stacked, each with its parameters and ``seed`` as extra columns, in
        grid order then seed order whatever the executor.
    """
    if not callable(experiment):
        raise TypeError(
            f"experiment={experiment!r} must be a function of (parameters, seed) returning a "
            "distlab.experiments.Result"
        )
    if table not in TABLES:
        allowed = ", ".join(repr(t) for t in TABLES)
        raise ValueError(f"table={table!r} must be one of {allowed}")
    seeds = _seeds(seeds)
    points = _grid(grid)
    if executor is not None and not callable(getattr(executor, "map", None)):
        raise TypeError(f"executor={executor!r} must be a concurrent.futures.Executor or None")
    check_work(
        "runs", len(points) * len(seeds), MAX_RUNS, f"{len(points)} points x {len(seeds)} seeds"
    )
    named = {name for point in points for name in point}
    if "seed" in named or "seed" in fixed:
        raise ValueError("seed is not a grid or fixed parameter: give the seeds as seeds=[...]")
    overlap = set(fixed) & named
    if overlap:
        raise ValueError(f"parameters {sorted(overlap)} are given both in grid and as fixed values")
    tasks = [
        (experiment, {**fixed, **point, "seed": seed}, table) for point in points for seed in seeds
    ]
    runner = map if executor is None else executor.map
    frames = list(runner(_run_one, tasks))
    return pd.concat(frames, ignore_index=True)
