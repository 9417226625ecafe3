"""Run many independent tasks, in-process or on an executor: progress, Ctrl-C and failures.

The engine under :func:`distlab.experiments.sweep` and
:func:`~distlab.experiments.contention.contention_sweep`. :func:`run_tasks` calls ``function(task)``
for every task and returns the results in the order of the tasks, whatever the order they finish
in. On the way it

- shows a progress bar when asked (``progress=True``): tqdm's, through ``tqdm.auto``, so a
  notebook shows its widget bar and a terminal its text bar, with the runs done, the rate and the
  time left;
- sends tasks to an executor in chunks (:func:`chunk_size`: a submission costs a Dask cluster a
  few milliseconds) and keeps at most :data:`MAX_IN_FLIGHT` chunks submitted and unfinished, so
  that an interruption stops the submitting; a chunk's results come back pickled, as one
  ``bytes`` (:func:`run_chunk_pickled`), which an executor keeps and sends without looking inside
  (a ``ThreadPoolExecutor``'s threads share this process's memory: they get :func:`run_chunk`);
- on ``KeyboardInterrupt`` (Ctrl-C, or a notebook's interrupt button) stops submitting, cancels
  the submitted tasks that have not started, shuts down an executor it created itself (its worker
  processes ignore Ctrl-C so that only this process handles it) and re-raises: no half-done result
  is ever returned as if it were whole;
- when a task raises an ``Exception``, raises :class:`SweepRunError` naming the task's parameters
  (the original exception is its ``__cause__``), or with ``on_error="continue"`` records the
  failure and goes on.

>>> results, failures = run_tasks(
...     lambda x: 10 // x, [1, 2, 0, 5], describe=lambda x: {"x": x}, on_error="continue"
... )
>>> results
[10, 5, None, 2]
>>> failures[0]["x"], failures[0]["error"]
(0, 'ZeroDivisionError')
"""

from __future__ import annotations

import pickle
import queue
import signal
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from typing import Any

from distlab._validate import check_bool, check_choice, check_int

__all__ = [
    "MAX_CHUNK",
    "MAX_IN_FLIGHT",
    "MAX_WORKERS",
    "ON_ERROR",
    "RemoteTraceback",
    "SweepRunError",
    "check_runner_options",
    "chunk_size",
    "format_params",
    "make_pool",
    "run_chunk",
    "run_chunk_pickled",
    "run_tasks",
]

#: What to do when a run raises: stop and raise :class:`SweepRunError`, or record it and go on.
ON_ERROR = ("raise", "continue")
#: The most chunks of tasks submitted to an executor and not yet finished at any moment.
MAX_IN_FLIGHT = 128
#: The most tasks sent to an executor in one submission (see :func:`chunk_size`).
MAX_CHUNK = 20
#: The most worker processes a sweep starts for itself (``workers=``).
MAX_WORKERS = 256


class SweepRunError(RuntimeError):
    """One run of a sweep raised: the message names its parameters and seed.

    ``params`` holds them (a dict); the exception the run raised is ``__cause__``.

    >>> error = SweepRunError("run (x=0, seed=1) raised ZeroDivisionError", params={"x": 0})
    >>> error.params
    {'x': 0}
    """

    def __init__(self, message: str, *, params: dict[str, Any]) -> None:
        super().__init__(message)
        self.params = params

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only init: pickle it explicitly
        return (_rebuild_error, (str(self), self.params))


def _rebuild_error(message: str, params: dict[str, Any]) -> SweepRunError:
    return SweepRunError(message, params=params)


def format_params(params: dict[str, Any]) -> str:
    """``name=value, ...``, as a failure message shows the parameters of a run.

    >>> format_params({"timeout_s": 0.5, "seed": 3})
    'timeout_s=0.5, seed=3'
    """
    return ", ".join(f"{name}={value!r}" for name, value in params.items())


def _ignore_interrupts() -> None:
    """A worker process's initializer: Ctrl-C is for the process that runs the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that ignore Ctrl-C (SIGINT).

    A terminal's Ctrl-C (and a notebook's interrupt) reaches every process of the group; the
    workers leave it to the sweep, which cancels what has not started and shuts the pool down.

    >>> with make_pool(1) as pool:
    ...     pool.submit(abs, -3).result()
    3
    """
    workers = check_int("workers", workers, 1, MAX_WORKERS)
    return ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts)


def check_runner_options(
    *, executor: Any, workers: Any, progress: Any, on_error: Any
) -> tuple[Executor | None, int | None, bool, str]:
    """Validate :func:`run_tasks`'s options (before any work), naming the one that is wrong.

    >>> check_runner_options(executor=None, workers=2, progress=False, on_error="raise")
    (None, 2, False, 'raise')
    """
    check_choice("on_error", on_error, ON_ERROR)
    check_bool("progress", progress)
    if workers is not None:
        workers = check_int("workers", workers, 1, MAX_WORKERS)
        if executor is not None:
            raise ValueError(
                f"workers={workers} asks for a process pool of the sweep's own and executor="
                f"{executor!r} for yours: give one of them"
            )
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor={executor!r} must be a concurrent.futures.Executor or None")
    if executor is not None and callable(getattr(executor, "get_executor", None)):
        raise TypeError(
            f"executor={executor!r} is a Dask client, whose futures are Dask's: pass "
            "client.get_executor(), a concurrent.futures.Executor"
        )
    return executor, workers, progress, on_error


def run_tasks(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    describe: Callable[[Any], dict[str, Any]],
    executor: Executor | None = None,
    workers: int | None = None,
    progress: bool = False,
    on_error: str = "raise",
    runs_per_task: int = 1,
    label: str = "sweep",
) -> tuple[list[Any], list[dict[str, Any]]]:
    """``[function(task) for task in tasks]``, on ``executor``, with progress and named failures.

    Args:
        function: a module-level function of one task (picklable, for a process pool).
        tasks: the tasks, each picklable.
        describe: ``task -> {parameter: value}``, the parameters a failure message names.
        executor: any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, a Dask client's
            ``get_executor()``); it is the caller's to shut down. ``None``: see ``workers``.
        workers: with no ``executor``, run on a process pool of this many workers that this call
            starts and shuts down; ``None`` runs in this process.
        progress: show a progress bar (tqdm) counting runs.
        on_error: ``"raise"``: the first run that raises (on an executor, the first failed run
            to finish) stops the rest and raises :class:`SweepRunError`; ``"continue"``: failed
            runs give ``None`` and a record.
        runs_per_task: how many runs each task is, for the progress bar.
        label: the bar's description.

    Returns:
        ``(results, failures)``: one result per task, in task order (``None`` for a failed one);
        one record per failed task, in task order: its parameters, ``error`` (the exception's
        type name) and ``message``.
    """
    executor, workers, progress, on_error = check_runner_options(
        executor=executor, workers=workers, progress=progress, on_error=on_error
    )
    results: list[Any] = [None] * len(tasks)
    failed: dict[int, BaseException] = {}
    bar = _progress_bar(progress, len(tasks) * runs_per_task, label)
    own = make_pool(workers) if workers is not None else None
    if executor is None and own is None:
        outcomes: Iterator[tuple[int, Any, BaseException | None]] = _in_process(function, tasks)
    else:
        outcomes = _on_executor(function, tasks, executor or own)
    try:
        for i, result, error in outcomes:
            if error is not None:
                failed[i] = error
                if on_error == "raise":
                    _raise_failure(tasks[i], describe, error)
            else:
                results[i] = result
            if bar is not None:
                bar.update(runs_per_task)
    finally:
        outcomes.close()  # cancels what was submitted and has not started
        if bar is not None:
            bar.close()
        if own is not None:  # waits for the runs already started, then the workers exit
            own.shutdown(wait=True, cancel_futures=True)
    failures = [_record(tasks[i], describe, failed[i]) for i in sorted(failed)]
    return results, failures


def _in_process(
    function: Callable[[Any], Any], tasks: Sequence[Any]
) -> Iterator[tuple[int, Any, BaseException | None]]:
    for i, task in enumerate(tasks):
        try:
            result = function(task)
        except Exception as error:
            yield i, None, error
        else:
            yield i, result, None


def chunk_size(tasks: int) -> int:
    """How many tasks go to an executor together: about 100 chunks, at most :data:`MAX_CHUNK`.

    Each submission costs the executor something (a Dask cluster a few milliseconds); grouping
    runs keeps that small beside the runs, while leaving enough chunks to share among workers.

    >>> chunk_size(50), chunk_size(1000), chunk_size(100_000)
    (1, 10, 20)
    """
    return max(1, min(MAX_CHUNK, -(-tasks // 100)))


class RemoteTraceback(Exception):
    """Where a run raised, in the worker: the ``__cause__`` of the exception it raised."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def run_chunk(
    function: Callable[[Any], Any], tasks: Sequence[Any], token: str = ""
) -> list[tuple[Any, Exception | None, str]]:
    """``(result, None, "")`` or ``(None, exception, its traceback)`` per task: what a worker runs.

    An ``Exception`` is returned with its traceback as text (pickling an exception drops its
    traceback), so the other tasks of the chunk still run; anything else (``KeyboardInterrupt``)
    propagates. ``token`` is not used: each :func:`run_tasks` call passes its own, so that an
    executor naming a task by a hash of its arguments (Dask's, by default) never takes a run of
    one sweep for the same run of another (an earlier one, cancelled or failed).

    >>> [(result, type(error).__name__) for result, error, _ in run_chunk(lambda x: 1 / x, [1, 0])]
    [(1.0, 'NoneType'), (None, 'ZeroDivisionError')]
    """
    out: list[tuple[Any, Exception | None, str]] = []
    for task in tasks:
        try:
            out.append((function(task), None, ""))
        except Exception as error:
            out.append((None, error, "".join(traceback.format_exception(error))))
    return out


def run_chunk_pickled(
    function: Callable[[Any], Any], tasks: Sequence[Any], token: str = ""
) -> bytes | list[tuple[Any, Exception | None, str]]:
    """:func:`run_chunk`'s outcomes, pickled: what an executor's worker runs and sends back.

    A Dask worker measures every result it keeps (``dask.sizeof``), walking each column of each
    DataFrame: with chunks of ten small frames (a sweep of notebook 00's message exchange) its
    workers used 1.49x the CPU of a process pool's for the same runs, 1.11-1.15x with one
    ``bytes`` per chunk (paired rounds at Dask's defaults), which it measures at once and sends
    as it is. Outcomes that cannot be pickled are returned as they are, for an executor that
    needs no pickling to hand over, or to refuse as it would have.

    >>> import pickle
    >>> pickle.loads(run_chunk_pickled(abs, [-2, 3]))
    [(2, None, ''), (3, None, '')]
    >>> run_chunk_pickled(lambda x: lambda: x, [1])[0][0]()  # a lambda does not pickle: as it is
    1
    """
    outcomes = run_chunk(function, tasks, token)
    try:
        return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # pickle raises PicklingError, TypeError or AttributeError, by object
        return outcomes


def _on_executor(
    function: Callable[[Any], Any], tasks: Sequence[Any], executor: Executor
) -> Iterator[tuple[int, Any, BaseException | None]]:
    """Outcomes as chunks of tasks finish; at most :data:`MAX_IN_FLIGHT` chunks unfinished.

    Whatever ends the iteration early (an interruption, a failure raised by the caller, the
    caller dropping the generator) cancels every submitted chunk that has not started.
    """
    size = chunk_size(len(tasks))
    token = uuid.uuid4().hex  # see run_chunk
    # threads share this process's memory: their outcomes need no pickling (nor lose tracebacks)
    work = run_chunk if isinstance(executor, ThreadPoolExecutor) else run_chunk_pickled
    chunks = [range(i, min(i + size, len(tasks))) for i in range(0, len(tasks), size)]
    finished: queue.SimpleQueue[tuple[int, Future]] = queue.SimpleQueue()
    pending: dict[int, Future] = {}
    following = iter(range(len(chunks)))

    def submit_more() -> None:
        for c in following:
            chunk = [tasks[i] for i in chunks[c]]
            future = executor.submit(work, function, chunk, token)
            pending[c] = future
            future.add_done_callback(lambda f, c=c: finished.put((c, f)))
            if len(pending) >= MAX_IN_FLIGHT:
                return

    try:
        submit_more()
        while pending:
            c, future = finished.get()
            del pending[c]
            if future.cancelled():  # by someone else: the executor shut down, a Dask client closed
                error: BaseException | None = CancelledError(
                    "the run was cancelled before it ended"
                )
            else:
                error = future.exception()
            if error is not None and not isinstance(error, Exception):
                raise error  # KeyboardInterrupt, SystemExit from a run: stop everything
            runs = len(chunks[c])
            outcomes = [(None, error, "")] * runs if error else _unpickled(future, runs)
            for i, (result, failure, where) in zip(chunks[c], outcomes):
                if where and failure.__cause__ is None:
                    failure.__cause__ = RemoteTraceback(where)
                yield i, result, failure
            submit_more()
    finally:
        for future in pending.values():
            future.cancel()


def _unpickled(future: Future, size: int) -> list[tuple[Any, Exception | None, str]]:
    """A chunk's outcomes; each of its ``size`` tasks failed with the error if they cannot be
    rebuilt here (e.g. an object of a class this process cannot import)."""
    outcomes = future.result()
    if not isinstance(outcomes, bytes):
        return outcomes
    try:
        return pickle.loads(outcomes)
    except Exception as error:
        return [(None, error, "")] * size


def _raise_failure(task: Any, describe: Callable[[Any], dict[str, Any]], error: BaseException):
    params = describe(task)
    raise SweepRunError(
        f"the run with {format_params(params)} raised {type(error).__name__}: {error}",
        params=params,
    ) from error


def _record(
    task: Any, describe: Callable[[Any], dict[str, Any]], error: BaseException
) -> dict[str, Any]:
    return {**describe(task), "error": type(error).__name__, "message": str(error)}


def _progress_bar(progress: bool, total: int, label: str) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm  # only when asked: importing it loads ipywidgets in a notebook

    return tqdm(total=total, desc=label, unit="run")
