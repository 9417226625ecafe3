"""The AWS contention experiment: optimistic concurrency, backoff and jitter (notebook 02).

Marc Brooker's "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015) measures how many
calls, and how much time, it takes ``clients`` writers to each update one record once when they all
start together. This module reproduces that experiment exactly as REFERENCES.md describes it
(and as the post's public simulator runs it):

- one record with a version; every client, starting at t = 0, sends a read, gets the current
  version back, sends a write conditioned on that version and gets back success or failure;
- the server handles messages instantly, one at a time, in arrival order: a write whose version is
  stale (another write succeeded since this client's read reached the server) fails;
- after a failure the client waits its backoff, then starts over with a read; it stops at its first
  success;
- every message, either way, takes ``|Normal(latency_mean_s, latency_sd_s)|``.

Calls are the write requests the server handled (the rows of :func:`contention`); completion is the
time the last client learns that its write succeeded. The backoffs are distlab's own
:class:`~distlab.retry.ExponentialBackoff` and :class:`~distlab.retry.NoBackoff`, the objects the
library ships, so the experiment measures the library.

What it shows (means over 300 seeds at 100 clients): no backoff 2426 calls in 2.0 s; exponential
without jitter 1858 calls in 64 s; full jitter 796 calls in 4.9 s; equal jitter 812 calls in 6.6 s;
decorrelated jitter 1001 calls in 4.6 s. Every claim of the post holds, with one nuance: full and
equal jitter cut exponential's calls by more than half, decorrelated jitter by 46 %.

Why :func:`contention_sweep` is not :func:`distlab.experiments.sweep`: the notebook's curves
need a thousand runs in a few seconds, so the sweep runs :func:`contention`'s bare simulation
(no per-attempt table, no :class:`~distlab.experiments.Result`) and keeps only calls and
completion per run; it takes any ``concurrent.futures.Executor`` as ``sweep`` does.

>>> from distlab.experiments.contention import contention
>>> df = contention("full", clients=20, seed=1).frame
>>> int((df["outcome"] == "ok").sum())       # every client succeeds exactly once
20
>>> len(df) > 20                             # ... after some failed writes
True
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import outcomes
from distlab._validate import (
    check_choice,
    check_choices,
    check_frame,
    check_int,
    check_number,
    check_seed,
)
from distlab.experiments.result import Result, plain_params, summary_row
from distlab.experiments.runner import check_runner_options, run_tasks
from distlab.experiments.scenario import check_work
from distlab.retry import Backoff, ExponentialBackoff, NoBackoff

__all__ = [
    "MAX_CLIENTS",
    "STRATEGIES",
    "ContentionResult",
    "ContentionRunsResult",
    "backoff_for",
    "contention",
    "contention_curves",
    "contention_runs",
    "contention_sweep",
]

STRATEGIES = ("none", "exponential", "full", "equal", "decorrelated")
#: The most clients one run simulates: the work grows with the square of the clients (about
#: 0.24 clients² calls without backoff, a million at this bound).
MAX_CLIENTS = 2000
#: The most write attempts (estimated) one :func:`contention_sweep` simulates.
MAX_SWEEP_CALLS = 100_000_000
#: The longest message latency (mean or spread) and backoff cap a run accepts, in seconds.
MAX_SECONDS = 3600.0

_JITTER = {"exponential": None, "full": "full", "equal": "equal", "decorrelated": "decorrelated"}
_OK, _ERROR = outcomes.OK, outcomes.ERROR
_BLOCK = 4096  # random numbers drawn from the generator at a time
_COLUMNS = ["client", "attempt", "start", "end", "outcome"]
_DEFAULTS = {"base_s": 0.010, "cap_s": 2.0, "decorrelated_base_s": 0.005,
             "latency_mean_s": 0.010, "latency_sd_s": 0.002}  # fmt: skip


def backoff_for(
    strategy: str, *, base_s: float = 0.010, cap_s: float = 2.0, decorrelated_base_s: float = 0.005
) -> Backoff:
    """The :mod:`distlab.retry` backoff a contention ``strategy`` uses.

    The post writes the wait as ``min(cap, b·2^n)`` with ``n = 1`` for the first retry and
    ``b = 5 ms``: in distlab's convention (the first retry waits ``base``) that is ``base = 10 ms``.
    Its decorrelated jitter starts from ``s_0 = b = 5 ms``, hence ``decorrelated_base_s``.

    >>> backoff_for("equal")
    ExponentialBackoff(base=0.01, cap=2.0, jitter='equal')
    >>> backoff_for("decorrelated").base
    0.005
    >>> backoff_for("none")
    NoBackoff()
    """
    check_choice("strategy", strategy, STRATEGIES)
    if strategy == "none":
        return NoBackoff()
    base = decorrelated_base_s if strategy == "decorrelated" else base_s
    return ExponentialBackoff(base, cap_s, _JITTER[strategy])


class _BlockUniform:
    """``uniform(low, high)`` from blocks of ``rng.random()``: what ``Generator.uniform`` computes
    (``low + (high - low) * U[0, 1)``), without a numpy call per draw."""

    __slots__ = ("_rng", "_buf", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def uniform(self, low: float, high: float) -> float:
        i = self._i
        if i == len(self._buf):
            self._buf = self._rng.random(_BLOCK).tolist()
            i = 0
        self._i = i + 1
        return low + (high - low) * self._buf[i]


# Why not SimPy: the same model written as SimPy processes (one per client, a timeout per
# message) ran about 6x slower at 100 clients (bench/bench_contention.py), and a message-by-message
# heapq (four events per attempt) 2-3x slower; the notebook's sweep (1000 runs) must fit in a few
# seconds.
def _simulate(
    clients: int,
    backoff: Backoff,
    seed: int,
    latency_mean_s: float,
    latency_sd_s: float,
    record: bool,
) -> tuple[int, float, dict[str, list[Any]] | None]:
    """Run one experiment; return (calls, completion_s, columns or None).

    A discrete-event simulation on a ``heapq`` of the server's write arrivals. A write succeeds
    exactly when the last successful write reached the server before this client's read did, so
    each attempt is one event (its write reaching the server) carrying its read's arrival time:
    the same outcomes as the message-by-message model (tests compare the two) at a quarter of
    the heap traffic. Recorded: :func:`contention`'s columns plus ``read_at`` and ``write_at``.
    """
    rng = np.random.default_rng(seed)
    mean, sd = latency_mean_s, latency_sd_s

    def latencies() -> list[float]:
        return np.abs(rng.normal(mean, sd, _BLOCK)).tolist()

    uniform = _BlockUniform(rng)
    delay = _delay_function(backoff)
    heap, lat, li = _first_writes(clients, latencies)

    pop, push = heapq.heappop, heapq.heappush
    last_ok = -math.inf  # when the latest successful write reached the server
    calls = 0
    completion = 0.0
    rows: dict[str, list[Any]] | None = None
    if record:
        rows = {k: [] for k in (*_COLUMNS, "read_at", "write_at")}
        r_client, r_attempt, r_start, r_end, r_ok, r_read, r_write = rows.values()
    while heap:
        write_at, c, read_at, start, attempt, previous = pop(heap)
        calls += 1
        if li + 4 > _BLOCK:
            lat, li = latencies(), 0
        end = write_at + lat[li]  # the answer travels back
        ok = read_at > last_ok
        if record:
            r_client.append(c + 1)
            r_attempt.append(attempt)
            r_start.append(start)
            r_end.append(end)
            r_ok.append(_OK if ok else _ERROR)
            r_read.append(read_at)
            r_write.append(write_at)
        if ok:
            last_ok = write_at
            if end > completion:
                completion = end
            li += 1
            continue
        wait = delay(attempt, previous, uniform)
        start = end + wait
        read_at = start + lat[li + 1]
        push(heap, (read_at + lat[li + 2] + lat[li + 3], c, read_at, start, attempt + 1, wait))
        li += 4
    return calls, completion, rows


def _delay_function(backoff: Backoff) -> Callable[[int, float | None, Any], float]:
    """``backoff.delay``, or, when the wait has no randomness, a lookup of the same values
    (computed by the backoff object itself, once per retry number)."""
    if not (
        isinstance(backoff, NoBackoff)
        or (isinstance(backoff, ExponentialBackoff) and backoff.jitter is None)
    ):
        return backoff.delay
    table: list[float] = [0.0]

    def delay(n: int, previous: float | None, rng: Any) -> float:
        while len(table) <= n:
            table.append(backoff.delay(len(table), None, None))
        return table[n]

    return delay


def _first_writes(
    clients: int, latencies: Callable[[], list[float]]
) -> tuple[list[tuple[float, int, float, float, int, float | None]], list[float], int]:
    """Every client's first attempt, its read leaving at t = 0, as a heap of write arrivals;
    also the latency block in use and the position in it."""
    lat = latencies()
    li = 0
    heap: list[tuple[float, int, float, float, int, float | None]] = []
    for c in range(clients):
        if li + 3 > _BLOCK:
            lat, li = latencies(), 0
        read_at = lat[li]
        heap.append((read_at + lat[li + 1] + lat[li + 2], c, read_at, 0.0, 1, None))
        li += 3
    heapq.heapify(heap)
    return heap, lat, li


def _check(
    clients: Any, strategy: Any, seed: Any, base_s: Any, cap_s: Any, decorrelated_base_s: Any,
    latency_mean_s: Any, latency_sd_s: Any,
) -> tuple[int, Backoff, int, float, float]:  # fmt: skip
    clients = check_int("clients", clients, 1, MAX_CLIENTS)
    if not isinstance(strategy, str):
        raise TypeError(f"strategy={strategy!r} must be one of {', '.join(map(repr, STRATEGIES))}")
    check_choice("strategy", strategy, STRATEGIES)
    seed = check_seed(seed)
    base_s = check_number("base_s", base_s, 0.0, MAX_SECONDS, min_inclusive=False)
    cap_s = check_number("cap_s", cap_s, 0.0, MAX_SECONDS, min_inclusive=False)
    if cap_s < base_s:
        raise ValueError(f"cap_s={cap_s:g} must be at least base_s={base_s:g}")
    decorrelated_base_s = check_number(
        "decorrelated_base_s", decorrelated_base_s, 0.0, min_inclusive=False
    )
    if cap_s < decorrelated_base_s:
        raise ValueError(
            f"cap_s={cap_s:g} must be at least decorrelated_base_s={decorrelated_base_s:g}"
        )
    mean = check_number("latency_mean_s", latency_mean_s, 0.0, MAX_SECONDS, min_inclusive=False)
    sd = check_number("latency_sd_s", latency_sd_s, 0.0, MAX_SECONDS) + 0.0  # -0.0 -> 0.0
    backoff = backoff_for(
        strategy, base_s=base_s, cap_s=cap_s, decorrelated_base_s=decorrelated_base_s
    )
    return clients, backoff, seed, mean, sd


@dataclass(frozen=True)
class ContentionResult(Result):
    """What :func:`contention` returns.

    ``frame``: one row per write attempt, in the order the server handled them: ``client`` (1,
    2, ...), ``attempt`` (1-based, per client), ``start`` (when the client sent this attempt's
    read), ``end`` (when it learned the write's outcome), ``outcome`` (``ok``: the write
    succeeded; ``error``: its version was stale).

    ``summary``: one row indexed by the strategy: ``clients``, ``calls`` (write attempts the
    server handled, ``len(frame)``) and ``completion_s`` (when the last client learned that its
    write succeeded).
    """


def contention(
    strategy: str = "full",
    *,
    clients: int = 100,
    base_s: float = 0.010,
    cap_s: float = 2.0,
    decorrelated_base_s: float = 0.005,
    latency_mean_s: float = 0.010,
    latency_sd_s: float = 0.002,
    seed: int = 0,
) -> ContentionResult:
    """``clients`` writers each update one versioned record once, retrying with ``strategy``.

    Args:
        strategy: ``"none"`` (retry at once), ``"exponential"`` (no jitter), ``"full"``,
            ``"equal"`` or ``"decorrelated"`` jitter (see :func:`backoff_for`).
        clients: how many clients start together at t = 0 (1 to :data:`MAX_CLIENTS`).
        base_s: the first retry's wait before jitter (10 ms: the post's 5 ms·2^1).
        cap_s: the longest wait (2 s).
        decorrelated_base_s: decorrelated jitter's base and s_0 (5 ms, as in the post).
        latency_mean_s, latency_sd_s: each message takes ``|Normal(mean, sd)|`` seconds.
        seed: every random draw (latencies, jitter) comes from ``numpy.random.default_rng(seed)``.

    >>> run = contention("exponential", clients=3, seed=0)
    >>> list(run.frame.columns)
    ['client', 'attempt', 'start', 'end', 'outcome']
    >>> run.frame.groupby("client")["outcome"].apply(lambda o: (o == "ok").sum()).tolist()
    [1, 1, 1]
    >>> contention("none", clients=1).frame[["attempt", "outcome"]].values.tolist()  # alone
    [[1, 'ok']]
    """
    clients, backoff, seed, mean, sd = _check(
        clients, strategy, seed, base_s, cap_s, decorrelated_base_s, latency_mean_s, latency_sd_s
    )
    calls, completion, rows = _simulate(clients, backoff, seed, mean, sd, record=True)
    assert rows is not None
    params = plain_params(strategy=strategy, clients=clients, base_s=float(base_s),
                          cap_s=float(cap_s), decorrelated_base_s=float(decorrelated_base_s),
                          latency_mean_s=mean, latency_sd_s=sd, seed=seed)  # fmt: skip
    return ContentionResult(
        frame=pd.DataFrame({k: rows[k] for k in _COLUMNS}),
        summary=summary_row(
            strategy, "strategy", clients=clients, calls=calls, completion_s=completion
        ),  # fmt: skip
        params=params,
    )


def _sweep_task(task: tuple[str, int, tuple[int, ...], dict[str, float]]) -> list[tuple[Any, ...]]:
    strategy, clients, seeds, params = task
    backoff = backoff_for(strategy, base_s=params["base_s"], cap_s=params["cap_s"],
                          decorrelated_base_s=params["decorrelated_base_s"])  # fmt: skip
    out = []
    for seed in seeds:
        calls, completion, _ = _simulate(
            clients, backoff, seed, params["latency_mean_s"], params["latency_sd_s"], record=False
        )
        out.append((strategy, clients, seed, calls, completion))
    return out


def _describe_sweep_task(task: tuple[str, int, tuple[int, ...], dict[str, float]]) -> dict:
    strategy, clients, seeds, _ = task
    return {"strategy": strategy, "clients": clients, "seeds": list(seeds)}


def contention_sweep(
    clients: Iterable[int] = range(10, 200, 20),
    strategies: Iterable[str] = STRATEGIES,
    seeds: Iterable[int] = range(20),
    executor: Executor | None = None,
    progress: bool = False,
    **params: float,
) -> pd.DataFrame:
    """:func:`contention` for every number of clients, strategy and seed: calls and completion.

    Runs like :func:`distlab.experiments.sweep` (in-process by default, or on any
    ``concurrent.futures.Executor``, e.g. a ``ProcessPoolExecutor``), one task per (strategy,
    clients) running all its seeds, largest first so that a pool stays busy; the result does not
    depend on the executor. ``progress=True`` shows a progress bar counting runs, and Ctrl-C
    stops it cleanly, as for :func:`~distlab.experiments.sweep`. ``**params`` are
    :func:`contention`'s keyword parameters (``base_s``, ``cap_s``, ...).

    Returns:
        One row per (strategy, clients, seed): ``strategy, clients, seed, calls, completion_s``,
        in the order of ``strategies``, then ``clients``, then ``seeds``.

    >>> df = contention_sweep(clients=[5, 10], strategies=["none", "full"], seeds=range(2))
    >>> df.shape
    (8, 5)
    >>> bool((df["calls"] >= df["clients"]).all())
    True
    """
    check_runner_options(executor=executor, workers=None, progress=progress, on_error="raise")
    strategies = list(_check_strategies(strategies))
    clients, seeds = _check_clients_and_seeds(clients, seeds)
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"contention_sweep got unknown parameter(s) {', '.join(unknown)}; "
                        f"it takes {', '.join(_DEFAULTS)}")  # fmt: skip
    settings = {**_DEFAULTS, **params}
    for strategy in strategies:  # the same checks and messages as contention()
        _check(clients[0], strategy, seeds[0], **settings)
    settings = {k: float(v) for k, v in settings.items()}
    # about 0.24 clients² write attempts per run without backoff, fewer with it
    work = 0.24 * len(seeds) * len(strategies) * sum(n * n for n in clients)
    asked_by = f"{len(strategies)} strategies x clients={clients} x {len(seeds)} seeds"
    check_work("write attempts (estimated)", work, MAX_SWEEP_CALLS, asked_by)

    tasks = [(s, n, seeds, settings) for s in strategies for n in clients]
    # Largest first: "none" costs ~clients², jittered strategies ~clients^1.6 (per seed).
    cost = {"none": 2.0, "exponential": 1.0}
    order = sorted(range(len(tasks)), key=lambda i: -cost.get(tasks[i][0], 0.5) * tasks[i][1] ** 2)
    results, _ = run_tasks(
        _sweep_task,
        [tasks[i] for i in order],
        describe=_describe_sweep_task,
        executor=executor,
        progress=progress,
        runs_per_task=len(seeds),
        label="contention_sweep",
    )
    by_task: list[list[tuple[Any, ...]]] = [[] for _ in tasks]
    for i, rows in zip(order, results):
        by_task[i] = rows
    df = pd.DataFrame(
        [row for rows in by_task for row in rows],
        columns=["strategy", "clients", "seed", "calls", "completion_s"],
    )
    return df


@dataclass(frozen=True)
class ContentionRunsResult(Result):
    """What :func:`contention_runs` returns.

    ``frame``: :func:`contention`'s frames stacked, with a ``strategy`` column first.
    ``summary``: one row per strategy (indexed by it): ``clients``, ``calls``, ``completion_s``.
    """


def contention_runs(
    strategies: Iterable[str] | str = STRATEGIES,
    *,
    clients: int = 100,
    seed: int = 0,
    **params: float,
) -> ContentionRunsResult:
    """:func:`contention` once per strategy with the same clients and seed (the contention
    explorer's experiment). ``strategies`` is a list of names, or one name; ``**params`` are
    :func:`contention`'s other keyword parameters (``base_s``, ``cap_s``, ...).

    >>> runs = contention_runs(("exponential", "full"), clients=20, seed=1)
    >>> runs.summary.index.tolist(), runs.frame["strategy"].unique().tolist()
    (['exponential', 'full'], ['exponential', 'full'])
    """
    names = _check_strategies(strategies)
    unknown = sorted(set(params) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"contention_runs got unknown parameter(s) {', '.join(unknown)}; "
                        f"it takes {', '.join(_DEFAULTS)}")  # fmt: skip
    for strategy in names:  # every check before any run
        _check(clients, strategy, seed, **{**_DEFAULTS, **params})
    runs = [contention(strategy, clients=clients, seed=seed, **params) for strategy in names]
    frame = pd.concat(
        [run.frame.assign(strategy=name) for name, run in zip(names, runs)], ignore_index=True
    )
    return ContentionRunsResult(
        frame=frame[["strategy", *_COLUMNS]],
        summary=pd.concat([run.summary for run in runs]),
        params=plain_params(strategies=names, **runs[0].params),
    )


def _check_strategies(strategies: Any) -> tuple[str, ...]:
    """``strategies`` as a tuple of names (one name is a list of one), checked."""
    return check_choices("strategies", strategies, STRATEGIES, noun="a strategy")


def _check_clients_and_seeds(clients: Any, seeds: Any) -> tuple[list[int], tuple[int, ...]]:
    if isinstance(clients, numbers.Integral):
        clients = [clients]
    if not isinstance(clients, Iterable) or isinstance(clients, str):
        raise TypeError(f"clients={clients!r} must be a number of clients or a list of them")
    if not isinstance(seeds, Iterable) or isinstance(seeds, str):
        raise TypeError(f"seeds={seeds!r} must be a list of int seeds")
    clients = [check_int("clients", n, 1, MAX_CLIENTS) for n in clients]
    if not clients:
        raise ValueError("clients=[] must name at least one number of clients")
    seeds = tuple(check_seed(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds=[] must name at least one seed")
    return clients, seeds


def contention_curves(sweep_df: pd.DataFrame) -> pd.DataFrame:
    """Mean calls and completion time per (strategy, clients), with their standard errors.

    Args:
        sweep_df: what :func:`contention_sweep` returns.

    Returns:
        One row per (strategy, clients), strategies in :data:`STRATEGIES` order: ``strategy,
        clients, runs, calls, calls_sem, completion_s, completion_sem`` (means over the seeds;
        ``*_sem`` is the standard error of the mean, 0 for a single run).

    >>> sweep = contention_sweep(clients=[10], strategies=["full"], seeds=range(3))
    >>> curves = contention_curves(sweep)
    >>> curves[["strategy", "clients", "runs"]].values.tolist()
    [['full', 10, 3]]
    """
    check_frame("sweep_df", sweep_df, ["strategy", "clients", "calls", "completion_s"],
                what="contention_sweep()")  # fmt: skip
    grouped = sweep_df.groupby(["strategy", "clients"], sort=False)
    out = grouped.agg(
        runs=("calls", "size"),
        calls=("calls", "mean"),
        calls_sem=("calls", "sem"),
        completion_s=("completion_s", "mean"),
        completion_sem=("completion_s", "sem"),
    ).reset_index()
    out[["calls_sem", "completion_sem"]] = out[["calls_sem", "completion_sem"]].fillna(0.0)
    rank = {s: i for i, s in enumerate(STRATEGIES)}
    out = out.sort_values(
        ["strategy", "clients"],
        key=lambda col: col.map(rank) if col.name == "strategy" else col,
        kind="stable",
    )
    return out.reset_index(drop=True)
