"""Run an experiment over a grid of parameters and seeds, on any ``concurrent.futures.Executor``.

Experiments are pure functions of (parameters, seed) returning a
:class:`~distlab.experiments.result.Result`, so a sweep is embarrassingly parallel: run it
in-process (the default), on a process pool of its own (``workers=2``), on your
``ProcessPoolExecutor``, or on a Dask cluster through ``distributed.Client(...).get_executor()``
(on a machine of few cores, start the cluster under :func:`dask_sweep_settings`). It stacks
each run's ``frame`` (or, with ``table="summary"``, each run's summary: one row per run and
variant, the table to draw spreads over seeds from).

``progress=True`` shows a progress bar (tqdm's: a widget in a notebook, text in a terminal) with
the runs done and the time left. Ctrl-C (a notebook's interrupt button) stops the sweep cleanly
and raises ``KeyboardInterrupt``; a run that raises is named with its parameters and seed
(:class:`~distlab.experiments.runner.SweepRunError`), or, with ``on_error="continue"``, recorded
in the result's ``attrs["failures"]``. See :mod:`distlab.experiments.runner`.

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
from distlab.experiments.runner import check_runner_options, run_tasks
from distlab.experiments.scenario import check_work

__all__ = ["MAX_RUNS", "dask_sweep_settings", "sweep"]

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
        if not pd.api.types.is_list_like(value):
            frame[name] = value
        elif name not in frame.columns:  # else a row per item (writers=[5, 10]): kept as made
            frame[name] = [_cell(value)] * len(frame)
    return frame


def _cell(value: Any) -> Any:
    """A list-like parameter as one cell of its column: a list becomes a tuple, so the column
    can be grouped on (``df.groupby("gaps_s")``); other values are kept as given."""
    return tuple(value) if isinstance(value, list) else value


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
    workers: int | None = None,
    progress: bool = False,
    on_error: str = "raise",
    **fixed: Any,
) -> pd.DataFrame:
    """Run ``experiment(**point, **fixed, seed=s)`` for every grid point and seed; concatenate.

    Args:
        experiment: a module-level function returning a :class:`Result` (picklable, so a process
            pool can run it).
        grid: ``{"name": [values...]}`` for a full product, or a list of parameter dicts.
        seeds: the seeds to run each point with.
        executor: any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, a Dask
            ``Client(...).get_executor()``); yours to shut down. ``None``: see ``workers``.
        table: ``"frame"`` (each run's main table) or ``"summary"`` (each run's summary, its
            index as a column).
        workers: with no ``executor``, run on a process pool of this many worker processes that
            the sweep starts and shuts down before it returns; ``None`` (the default) runs in this
            process.
        progress: show a progress bar with the runs done and the time left (tqdm: a widget bar in
            a notebook, a text bar in a terminal). Off by default, so that quick sweeps and
            executed notebooks print nothing.
        on_error: ``"raise"`` (the default): the first run that raises stops the sweep and raises
            :class:`~distlab.experiments.runner.SweepRunError` naming its parameters and seed,
            the run's exception chained as its ``__cause__`` (on an executor, the first failed
            run to finish: when several fail, which one depends on the workers' pace).
            ``"continue"``: the other runs go on; the result's ``attrs["failures"]`` lists the
            failed runs in grid and seed order, each a dict of its parameters, ``seed``,
            ``error`` (the exception's type name) and ``message``
            (``pd.DataFrame(df.attrs["failures"])`` is a table of them; read it from the returned
            frame, since pandas does not carry ``attrs`` through every operation).
        **fixed: parameters passed unchanged to every run.

    Returns:
        The runs' tables stacked, each with its parameters and ``seed`` as extra columns, in
        grid order then seed order whatever the executor; ``attrs["failures"]`` is ``[]`` when
        every run succeeded. A list-valued parameter (``gaps_s=[0.0, 0.01]``) fills its column
        with one tuple per row, so that the column can be grouped on, unless the table has a
        column of that name already (a row per item: that column stays as the run made it).

    Raises:
        KeyboardInterrupt: on Ctrl-C (a notebook's interrupt button), after the sweep stopped
            submitting runs, cancelled those not started and shut down the pool it started
            (waiting for the runs already started): an interrupted sweep returns nothing.

    >>> from distlab.experiments.challenges import clock_order
    >>> df = sweep(clock_order, {"skew_s": [0.0, -1.0]}, seeds=[0], events=10, on_error="continue")
    >>> len(df), df.attrs["failures"][0]["skew_s"], df.attrs["failures"][0]["error"]
    (10, -1.0, 'ValueError')
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
    check_runner_options(executor=executor, workers=workers, progress=progress, on_error=on_error)
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
    frames, failures = run_tasks(
        _run_one,
        tasks,
        describe=_describe,
        executor=executor,
        workers=workers,
        progress=progress,
        on_error=on_error,
        label=getattr(experiment, "__name__", "sweep"),
    )
    done = [frame for frame in frames if frame is not None]
    # Every run failed: no table to stack, so the columns are the parameters a row would carry.
    df = pd.concat(done, ignore_index=True) if done else pd.DataFrame(columns=list(tasks[0][1]))
    df.attrs["failures"] = failures
    return df


def _describe(task: tuple[Callable[..., Any], dict[str, Any], str]) -> dict[str, Any]:
    return dict(task[1])


def dask_sweep_settings() -> dict[str, Any]:
    """Dask settings that leave a local cluster's cores to the runs of a sweep.

    A Dask worker samples its running task's stack every 10 ms for the dashboard's profile
    page (on Python 3.12 and later, every server's event loop is sampled too), and every
    server of a cluster (scheduler, nannies, workers) wakes every 20 ms (the event loop's
    tick) and every 500 ms (the system monitor), the nannies and workers also every 100 ms
    (the memory monitor). A ``LocalCluster`` runs its scheduler and nannies in the sweep's
    process, its workers in processes of their own, all on this machine's cores: with few
    cores, that upkeep takes CPU the runs need. On 2 cores, 1,000 runs of ``message_exchange``
    took 6-19 % less time with these settings than at Dask's defaults (Python 3.11; ``make
    bench``, part ``sweep``, measures both).

    Turned off: the profiler (the dashboard's profile page stays empty) and the GIL
    contention monitor (which polls every 1 ms when ``gilknocker`` is installed). Slowed: the
    tick (to 500 ms: it only measures how responsive the event loop is), the memory monitor
    (to 1 s: a worker nearing its memory limit spills, pauses or is restarted up to a second
    later) and the system monitor (to 5 s: the dashboard's CPU and memory plots, and the
    memory each worker reports to the scheduler, are up to 5 s old). Nothing a sweep's runs
    depend on changes: the same runs, the same results. Give them to
    ``dask.config.set`` around the cluster's start, as its servers take their settings when
    they start. A real cluster's servers read their own configuration: these are for a
    ``LocalCluster``.

    >>> settings = dask_sweep_settings()
    >>> settings["distributed.worker.profile.enabled"]
    False

    With Dask installed::

        import dask
        from distributed import Client, LocalCluster

        with dask.config.set(dask_sweep_settings()), LocalCluster(n_workers=2) as cluster:
            with Client(cluster) as client:
                df = sweep(message_exchange, grid, executor=client.get_executor())
    """
    return {
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "500ms",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.admin.system-monitor.gil.enabled": False,
    }
