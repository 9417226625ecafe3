"""sweep: a grid of parameters and seeds on any executor, same result whatever the executor."""

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from distlab.experiments import sweep
from distlab.experiments.challenges import clock_order, timeout_ambiguity
from distlab.experiments.runner import SweepRunError


def test_sweep_runs_every_point_and_seed_and_labels_the_rows():
    df = sweep(clock_order, {"skew_s": [0.0, 0.01]}, seeds=[1, 2], events=50)
    assert len(df) == 4 * 50
    assert df.groupby(["skew_s", "seed"]).size().to_dict() == {
        (0.0, 1): 50,
        (0.0, 2): 50,
        (0.01, 1): 50,
        (0.01, 2): 50,
    }
    assert (df["events"] == 50).all()
    assert not df.loc[df["skew_s"] == 0.0, "misordered"].any()


def test_each_run_equals_the_experiment_called_directly():
    df = sweep(clock_order, {"skew_s": [0.004]}, seeds=[7], events=30)
    direct = clock_order(events=30, skew_s=0.004, seed=7).frame
    pd.testing.assert_frame_equal(df[direct.columns], direct)


def test_summary_table_stacks_one_row_per_run_with_its_parameters():
    df = sweep(clock_order, {"skew_s": [0.0, 0.01]}, seeds=[1, 2], table="summary", events=50)
    assert list(df.columns[:4]) == ["run", "events", "misordered", "misordered_share"]
    assert len(df) == 4 and (df["run"] == "clocks").all()
    assert df.loc[df["skew_s"] == 0.0, "misordered"].tolist() == [0, 0]
    direct = clock_order(events=50, skew_s=0.01, seed=2).summary
    row = df[(df["skew_s"] == 0.01) & (df["seed"] == 2)]
    assert row["misordered"].item() == direct.loc["clocks", "misordered"]


@pytest.mark.parametrize("make_executor", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_executors_give_the_same_frame_as_in_process(make_executor):
    expected = sweep(timeout_ambiguity, {"timeout_s": [0.2, 0.5]}, seeds=range(3), requests=10)
    with make_executor(max_workers=2) as executor:
        got = sweep(
            timeout_ambiguity,
            {"timeout_s": [0.2, 0.5]},
            seeds=range(3),
            executor=executor,
            requests=10,
        )
    pd.testing.assert_frame_equal(got, expected)


def test_sweep_accepts_a_list_of_points_and_results_with_a_frame():
    from distlab.experiments.network import message_exchange

    df = sweep(message_exchange, [{"loss": 0.0}, {"loss": 1.0}], seeds=[0], messages=20)
    assert (df.loc[df["loss"] == 1.0, "fate"] == "dropped").all()
    assert (df.loc[df["loss"] == 1.0, "reason"] == "loss").all()
    assert (df.loc[df["loss"] == 0.0, "fate"] == "delivered").all()


def test_sweep_refuses_bad_grids_and_seeds():
    with pytest.raises(ValueError, match=r"seeds=\[\] must name at least one seed"):
        sweep(clock_order, {"skew_s": [0.0]}, seeds=[])
    with pytest.raises(TypeError, match=r"seeds\[0\]=0.5 must be a whole number >= 0"):
        sweep(clock_order, {"skew_s": [0.0]}, seeds=[0.5])
    with pytest.raises(TypeError, match=r"grid\['skew_s'\]=0.1 must be a list"):
        sweep(clock_order, {"skew_s": 0.1})
    with pytest.raises(ValueError, match=r"\['events'\] are given both in grid and as fixed"):
        sweep(clock_order, {"events": [10]}, events=20)
    # Only running it tells: the run is named, the TypeError chained.
    with pytest.raises(SweepRunError, match="returned int; sweep needs an experiment that") as info:
        sweep(lambda seed, x: 42, {"x": [1]}, seeds=[0])
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(ValueError, match="table='rows' must be one of 'frame', 'summary'"):
        sweep(clock_order, {"skew_s": [0.0]}, table="rows")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        # Each failed inside pandas or Python with a message that named nothing the caller passed.
        ({"experiment": clock_order, "grid": []}, ValueError, r"grid=\[\] has no points"),
        ({"experiment": clock_order, "grid": {"skew_s": []}}, ValueError, r"grid\['skew_s'\]=\[\]"),
        ({"experiment": None, "grid": {"skew_s": [0.0]}}, TypeError, "experiment=None must be"),
        ({"experiment": clock_order, "grid": None}, TypeError, "grid=None must be a dict"),
        ({"experiment": clock_order, "grid": [0.1]}, TypeError, r"grid\[0\]=0.1 must be a dict"),
        ({"experiment": clock_order, "grid": {1: [0.1]}}, TypeError, "grid key 1 must be"),
        ({"experiment": clock_order, "grid": {"skew_s": [0]}, "seeds": 3}, TypeError, "seeds=3"),
        ({"experiment": clock_order, "grid": {"seed": [1]}}, ValueError, "seeds=\\[...\\]"),
        (
            {"experiment": clock_order, "grid": {"skew_s": [0]}, "executor": 2},
            TypeError,
            "executor=2",
        ),
    ],
)
def test_bad_experiment_grid_seeds_and_executor_are_named(kwargs, error, message):
    calls = []

    def spy(**params):  # nothing runs before the arguments are checked
        calls.append(params)
        return clock_order(**params)

    if kwargs["experiment"] is clock_order:
        kwargs = {**kwargs, "experiment": spy}
    with pytest.raises(error, match=message):
        sweep(**kwargs)
    assert calls == []


def test_sweep_bounds_the_runs_it_asks_for_before_running_any():
    with pytest.raises(ValueError, match="seeds has more than 100,000 values"):
        sweep(clock_order, {"skew_s": [0.0]}, seeds=range(10**12))  # used to hang
    with pytest.raises(ValueError, match=r"20 points x 10,000 seeds|asks for 200,000 runs"):
        sweep(clock_order, {"skew_s": [0.001] * 20}, seeds=range(10_000))
    with pytest.raises(ValueError, match="grid .1000 skew_s, 1000 events. asks for 1,000,000 runs"):
        sweep(clock_order, {"skew_s": [0.0] * 1000, "events": [10] * 1000}, seeds=[0])


def test_list_valued_parameters_become_one_tuple_per_row():
    from distlab.experiments.clocks import lww_skew

    grid = {"gaps_s": [[0.0, 0.01], (0.0,)]}
    df = sweep(lww_skew, grid, seeds=[0, 1], table="summary", skews_s=[0.01], pairs=200)
    assert df.groupby("gaps_s", sort=False).size().to_dict() == {(0.0, 0.01): 4, (0.0,): 2}
    assert df["skews_s"].tolist() == [(0.01,)] * len(df)
    direct = lww_skew(gaps_s=[0.0, 0.01], skews_s=[0.01], pairs=200, seed=1).summary
    rows = df[df["gaps_s"].map((0.0, 0.01).__eq__) & (df["seed"] == 1)]
    assert rows["loss_rate"].tolist() == direct["loss_rate"].tolist()


def test_a_list_parameter_the_table_reports_per_row_keeps_the_tables_column():
    from distlab.experiments.clocks import pruned_clocks

    df = sweep(pruned_clocks, {}, seeds=[0], table="summary", chains=1, writers=[5, 12])
    assert df["writers"].tolist() == [5, 12]
