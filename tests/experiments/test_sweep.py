"""sweep: a grid of parameters and seeds on any executor, same result whatever the executor."""

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from distlab.experiments import sweep
from distlab.experiments.challenges import clock_order, timeout_ambiguity


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
    direct = clock_order(events=30, skew_s=0.004, seed=7)
    pd.testing.assert_frame_equal(df[direct.columns], direct)


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
    assert (df.loc[df["loss"] == 1.0, "outcome"] == "lost").all()
    assert (df.loc[df["loss"] == 0.0, "outcome"] == "delivered").all()


def test_sweep_refuses_bad_grids_and_seeds():
    with pytest.raises(ValueError, match=r"seeds=\[\] must name at least one seed"):
        sweep(clock_order, {"skew_s": [0.0]}, seeds=[])
    with pytest.raises(TypeError, match="seed=0.5 must be an int"):
        sweep(clock_order, {"skew_s": [0.0]}, seeds=[0.5])
    with pytest.raises(TypeError, match=r"grid\['skew_s'\]=0.1 must be a list"):
        sweep(clock_order, {"skew_s": 0.1})
    with pytest.raises(ValueError, match=r"\['events'\] are given both in grid and as fixed"):
        sweep(clock_order, {"events": [10]}, events=20)
    with pytest.raises(TypeError, match="returns a DataFrame"):
        sweep(lambda seed, x: 42, {"x": [1]}, seeds=[0])
