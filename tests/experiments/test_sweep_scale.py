"""Sweeps at scale: Dask and process pools, progress, Ctrl-C and failures named (issue 14).

No test sleeps or times anything: interruptions are a run raising ``KeyboardInterrupt``, and the
thread-pool test orders its runs with events. The Dask cluster is small (two worker processes of
one thread), waited for with generous timeouts, and closed at the end.
"""

import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from distlab.experiments import dask_sweep_settings, runner, sweep
from distlab.experiments.challenges import clock_order, timeout_ambiguity
from distlab.experiments.contention import contention_sweep
from distlab.experiments.runner import SweepRunError

GRID = {"timeout_s": [0.2, 0.5]}
SEEDS = range(3)

# In-process runs record themselves here (a process pool's runs cannot).
CALLS: list[tuple[int, int]] = []


def interrupted_at_two(*, x: int, seed: int):
    """clock_order, except that the run x=2, seed=1 is stopped by Ctrl-C."""
    CALLS.append((x, seed))
    if (x, seed) == (2, 1):
        raise KeyboardInterrupt
    return clock_order(events=5, seed=seed)


def fails_at_two(*, x: int, seed: int):
    """clock_order, except that every run with x=2 raises, and the run x=3, seed=0."""
    if x == 2 or (x, seed) == (3, 0):
        raise ZeroDivisionError(f"no run at x={x}")
    return clock_order(events=5, seed=seed)


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children()}


@pytest.fixture(scope="module")
def dask_client():
    import dask
    import distributed  # in the test extra (pyproject.toml): its absence is a failure

    # The settings the README starts a local cluster with; generous timeouts: two worker
    # processes start slowly on a loaded 2-core machine.
    with (
        dask.config.set({**dask_sweep_settings(), "distributed.comm.timeouts.connect": "120s"}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, timeout="120s") as client,
    ):
        client.wait_for_workers(2, timeout=120)
        yield client


def test_sweep_on_a_dask_local_cluster_gives_the_in_process_frame(dask_client):
    expected = sweep(timeout_ambiguity, GRID, seeds=SEEDS, requests=10)
    got = sweep(
        timeout_ambiguity, GRID, seeds=SEEDS, executor=dask_client.get_executor(), requests=10
    )
    pd.testing.assert_frame_equal(got, expected)
    assert len(dask_client.scheduler_info()["workers"]) == 2


def test_dask_sweep_settings_are_dask_settings_and_reach_the_workers(dask_client):
    import dask

    settings = dask_sweep_settings()
    defaults = dask.config.merge(*dask.config.defaults)
    for key in settings:  # a key Dask renamed would be set and silently ignored
        assert dask.config.get(key, config=defaults) is not None, key  # KeyError if unknown
    seen = dask_client.run(lambda: {key: dask.config.get(key) for key in settings})
    assert list(seen.values()) == [settings, settings]
    intervals_ms = dask_client.run(
        lambda dask_worker: {
            name: pc.callback_time
            for name, pc in dask_worker.periodic_callbacks.items()
            if name in ("profile", "tick", "monitor", "memory_monitor")
        }
    )
    expected = {"tick": 500, "monitor": 5000, "memory_monitor": 1000}  # no "profile"
    assert list(intervals_ms.values()) == [expected, expected]


def test_a_dask_sweep_names_its_failures_and_can_go_on(dask_client):
    grid = {"x": [1, 2, 3]}
    # the first failed run to finish stops the sweep: any of the three, as the workers go
    failing = r"the run with (x=2, seed=\d|x=3, seed=0) raised ZeroDivisionError"
    with pytest.raises(SweepRunError, match=failing) as info:
        sweep(fails_at_two, grid, seeds=[0, 1], executor=dask_client.get_executor())
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    df = sweep(
        fails_at_two, grid, seeds=[0, 1], executor=dask_client.get_executor(), on_error="continue"
    )
    expected = sweep(fails_at_two, [{"x": 1}], seeds=[0, 1])
    expected = pd.concat([expected, sweep(fails_at_two, [{"x": 3}], seeds=[1])], ignore_index=True)
    pd.testing.assert_frame_equal(df, expected)
    assert [(f["x"], f["seed"]) for f in df.attrs["failures"]] == [(2, 0), (2, 1), (3, 0)]


def test_a_dask_client_itself_is_refused_with_what_to_pass(dask_client):
    with pytest.raises(TypeError, match=r"executor=.* pass client.get_executor\(\)"):
        sweep(timeout_ambiguity, GRID, seeds=SEEDS, executor=dask_client)


def test_sweep_on_a_process_pool_gives_the_in_process_summary():
    expected = sweep(timeout_ambiguity, GRID, seeds=SEEDS, table="summary", requests=10)
    with ProcessPoolExecutor(max_workers=2) as pool:
        got = sweep(
            timeout_ambiguity, GRID, seeds=SEEDS, table="summary", executor=pool, requests=10
        )
    pd.testing.assert_frame_equal(got, expected)


def test_workers_runs_on_a_pool_of_its_own_and_leaves_no_process_behind():
    before = _children()
    expected = sweep(timeout_ambiguity, GRID, seeds=SEEDS, requests=10)
    got = sweep(timeout_ambiguity, GRID, seeds=SEEDS, workers=2, requests=10)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["failures"] == []
    assert _children() <= before


def test_ctrl_c_in_process_stops_at_once_and_raises():
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        sweep(interrupted_at_two, {"x": [1, 2, 3]}, seeds=[0, 1, 2])
    # Grid order, then seed order: nothing after the interrupted run was started.
    assert CALLS == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]


def test_ctrl_c_on_the_sweeps_own_pool_shuts_it_down_and_raises():
    before = _children()
    with pytest.raises(KeyboardInterrupt):
        sweep(interrupted_at_two, {"x": [1, 2, 3]}, seeds=[0, 1, 2], workers=2)
    assert _children() <= before  # the pool's workers have exited


def test_ctrl_c_on_your_executor_stops_submitting_and_cancels_what_has_not_started(monkeypatch):
    """Run 0 is interrupted once a window of 8 runs is submitted; run 1, started by then on the
    one worker thread, waits until the sweep has returned: every other submitted run must have
    been cancelled, and no run past the window submitted."""
    window = 8
    monkeypatch.setattr(runner, "MAX_IN_FLIGHT", window)
    window_full, release = threading.Event(), threading.Event()
    ran: list[int] = []

    class Recording(ThreadPoolExecutor):
        submitted: list = []

        def submit(self, fn, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            self.submitted.append(future)
            if len(self.submitted) == window:
                window_full.set()
            return future

    def run(*, i, seed):
        ran.append(i)
        if i == 0:
            assert window_full.wait(timeout=120)
            raise KeyboardInterrupt
        assert release.wait(timeout=120)
        return clock_order(events=5, seed=seed)

    runs = 30  # few enough to go one run per submission (runner.chunk_size)
    assert runner.chunk_size(runs) == 1
    with Recording(max_workers=1) as pool:
        try:
            with pytest.raises(KeyboardInterrupt):
                sweep(run, {"i": range(runs)}, seeds=[0], executor=pool)
        finally:
            release.set()
    assert len(pool.submitted) == window < runs
    assert ran == [0, 1]
    assert sum(f.cancelled() for f in pool.submitted) == window - 2


def test_runs_go_to_an_executor_in_chunks_and_come_back_in_order():
    submissions = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submissions.append(len(args[1]))
            return super().submit(fn, *args, **kwargs)

    grid = {"skew_s": [0.0, 0.01, 0.02, 0.03]}
    expected = sweep(clock_order, grid, seeds=range(60), events=5)
    with Counting(max_workers=2) as pool:
        got = sweep(clock_order, grid, seeds=range(60), events=5, executor=pool)
    pd.testing.assert_frame_equal(got, expected)
    assert submissions == [3] * 80  # 240 runs: chunks of 3


class KeepingResults(Executor):
    """An executor (threads inside, not a ThreadPoolExecutor to the sweep, so it gets what any
    other executor gets) that keeps what each submitted call returned, in ``results``."""

    def __init__(self, max_workers: int):
        self._pool = ThreadPoolExecutor(max_workers=max_workers)
        self.results = []

    def submit(self, fn, *args, **kwargs):
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda f: self.results.append(f.result()))
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_each_chunk_comes_back_from_an_executor_as_one_pickled_bytes():
    """So that a Dask worker measures one bytes per chunk, not every column of ten frames."""
    seeds = range(150)  # 300 runs: chunks of 3 (runner.chunk_size)
    assert runner.chunk_size(len(GRID["timeout_s"]) * len(seeds)) == 3
    expected = sweep(timeout_ambiguity, GRID, seeds=seeds, requests=2)
    with KeepingResults(max_workers=2) as pool:
        got = sweep(timeout_ambiguity, GRID, seeds=seeds, requests=2, executor=pool)
    pd.testing.assert_frame_equal(got, expected)
    assert len(pool.results) == 100  # one result per chunk of 3 runs
    assert all(isinstance(result, bytes) for result in pool.results)


def with_a_function(*, f, seed: int):
    """clock_order, with a parameter that is a function (which need not pickle, on threads)."""
    return clock_order(events=5 + f(), seed=seed)


def test_results_that_do_not_pickle_still_come_back_from_an_executor_that_needs_no_pickling():
    def one():  # a local function: pickle refuses it, and its column holds it
        return 1

    expected = sweep(with_a_function, {"f": [one]}, seeds=SEEDS)
    with KeepingResults(max_workers=2) as pool:
        got = sweep(with_a_function, {"f": [one]}, seeds=SEEDS, executor=pool)
    pd.testing.assert_frame_equal(got, expected)
    assert pool.results and not any(isinstance(r, bytes) for r in pool.results)  # as they were


def _refuse_to_come_back():
    raise RuntimeError("this object cannot be rebuilt here")


class CannotComeBack:
    """Pickles, but unpickling it raises (as an object of a class the receiver lacks would)."""

    def __reduce__(self):
        return (_refuse_to_come_back, ())


def returns_what_cannot_come_back(*, x: int, seed: int):
    """clock_order, except that the runs with x=2 carry a CannotComeBack in their table."""
    result = clock_order(events=5, seed=seed)
    if x == 2:
        result.frame["token"] = [CannotComeBack()] * len(result.frame)
    return result


def test_an_outcome_that_cannot_be_rebuilt_is_a_named_failure_of_its_run():
    grid = {"x": [1, 2, 3]}
    with ProcessPoolExecutor(max_workers=2) as pool:
        with pytest.raises(SweepRunError, match=r"x=2, seed=\d raised RuntimeError: this object"):
            sweep(returns_what_cannot_come_back, grid, seeds=[0, 1], executor=pool)
        df = sweep(returns_what_cannot_come_back, grid, seeds=[0, 1], executor=pool,
                   on_error="continue")  # fmt: skip
    expected = sweep(returns_what_cannot_come_back, {"x": [1, 3]}, seeds=[0, 1])
    pd.testing.assert_frame_equal(df, expected)
    assert [(f["x"], f["seed"], f["error"]) for f in df.attrs["failures"]] == [
        (2, 0, "RuntimeError"), (2, 1, "RuntimeError"),
    ]  # fmt: skip


def test_a_failed_run_is_named_with_its_parameters_and_seed():
    with pytest.raises(SweepRunError) as info:
        sweep(fails_at_two, {"x": [1, 2]}, seeds=[0, 1], table="summary")
    error = info.value
    assert str(error).startswith("the run with x=2, seed=0 raised ZeroDivisionError: no run at x=2")
    assert error.params == {"x": 2, "seed": 0}
    assert isinstance(error.__cause__, ZeroDivisionError)


def test_a_failed_run_on_a_process_pool_is_named_and_chains_the_original():
    with ProcessPoolExecutor(max_workers=2) as pool:
        with pytest.raises(SweepRunError, match="x=3, seed=0 raised ZeroDivisionError") as info:
            sweep(fails_at_two, {"x": [1, 3]}, seeds=[0, 1], executor=pool)
    cause = info.value.__cause__
    assert isinstance(cause, ZeroDivisionError)
    assert "in fails_at_two" in str(cause.__cause__)  # where it raised, in the worker


def test_on_error_continue_keeps_the_other_runs_and_lists_the_failures():
    df = sweep(fails_at_two, {"x": [1, 2, 3]}, seeds=[0, 1], on_error="continue")
    good = [{"x": 1, "seed": 0}, {"x": 1, "seed": 1}, {"x": 3, "seed": 1}]
    expected = pd.concat(
        [sweep(fails_at_two, [{"x": g["x"]}], seeds=[g["seed"]]) for g in good], ignore_index=True
    )
    pd.testing.assert_frame_equal(df, expected)
    failures = pd.DataFrame(df.attrs["failures"])
    assert failures[["x", "seed", "error"]].values.tolist() == [
        [2, 0, "ZeroDivisionError"],
        [2, 1, "ZeroDivisionError"],
        [3, 0, "ZeroDivisionError"],
    ]
    assert failures["message"].tolist() == ["no run at x=2", "no run at x=2", "no run at x=3"]


def test_on_error_continue_when_every_run_fails_gives_an_empty_frame_and_the_failures():
    df = sweep(fails_at_two, {"x": [2]}, seeds=[0, 1], on_error="continue")
    assert df.empty and list(df.columns) == ["x", "seed"]
    assert [f["seed"] for f in df.attrs["failures"]] == [0, 1]


def test_progress_bar_counts_runs_in_a_terminal(capsys):
    sweep(clock_order, {"skew_s": [0.0, 0.01]}, seeds=range(3), events=5, progress=True)
    err = capsys.readouterr().err
    assert "clock_order" in err and "6/6" in err and "run" in err
    contention_sweep(clients=[5], strategies=["full", "none"], seeds=range(4), progress=True)
    err = capsys.readouterr().err
    assert "contention_sweep" in err and "8/8" in err  # runs, not tasks: 2 tasks of 4 seeds


def test_no_progress_bar_unless_asked(capsys):
    sweep(clock_order, {"skew_s": [0.0]}, seeds=range(2), events=5)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"on_error": "ignore"}, ValueError, "on_error='ignore' is not one of 'raise', 'continue'"),
        ({"progress": "yes"}, TypeError, "progress='yes' must be True or False"),
        ({"progress": 1}, TypeError, "progress=1 must be True or False"),
        ({"workers": 0}, ValueError, "workers=0"),
        ({"workers": 2.5}, TypeError, "workers=2.5"),
        ({"workers": 10**6}, ValueError, "workers=1000000"),
        ({"workers": 2, "executor": ThreadPoolExecutor(1)}, ValueError, "give one of them"),
        ({"executor": object()}, TypeError, "executor=<object"),
    ],
)
def test_bad_options_are_named_before_any_run(kwargs, error, message):
    CALLS.clear()
    with pytest.raises(error, match=message):
        sweep(interrupted_at_two, {"x": [1]}, seeds=[0], **kwargs)
    assert CALLS == []


def test_contention_sweep_names_a_bad_progress_flag():
    with pytest.raises(TypeError, match="progress='yes' must be True or False"):
        contention_sweep(clients=[5], seeds=[0], progress="yes")
