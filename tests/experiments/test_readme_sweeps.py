"""The README's "Bigger sweeps" examples run as written (on fewer seeds) and give what it says."""

import pandas as pd
import pytest

from distlab.experiments import sweep
from distlab.experiments.network import message_exchange

SECTION = "## Bigger sweeps"  # three examples: a process pool, Dask, failures
GRID = {"loss": [0.0, 0.1, 0.2, 0.3]}


def _run(code: str, ns: dict) -> dict:
    assert "seeds=range(250)" in code or "seeds=range(3)" in code
    code = code.replace("seeds=range(250)", "seeds=range(2)")  # the same code, fewer runs
    compiled = compile(code, "README.md (Bigger sweeps)", "exec")
    if "LocalCluster" not in code:
        exec(compiled, ns)
        return ns
    import dask
    import distributed  # noqa: F401  (the test extra) adds its settings before config.set saves

    # Generous: two worker processes start slowly on a loaded 2-core machine.
    with dask.config.set({"distributed.comm.timeouts.connect": "120s"}):
        exec(compiled, ns)
    return ns


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return sweep(message_exchange, GRID, seeds=range(2))


def test_the_process_pool_example_gives_the_in_process_table(readme_examples, expected):
    ns = _run(readme_examples(SECTION, 3)[0], {})
    pd.testing.assert_frame_equal(ns["runs"], expected)


def test_the_dask_example_gives_the_in_process_table(readme_examples, expected):
    ns = _run(
        readme_examples(SECTION, 3)[1], {"sweep": sweep, "message_exchange": message_exchange}
    )
    pd.testing.assert_frame_equal(ns["runs"], expected)


def test_the_failures_example_lists_three_value_errors(readme_examples):
    ns = _run(
        readme_examples(SECTION, 3)[2], {"sweep": sweep, "message_exchange": message_exchange}
    )
    failures = pd.DataFrame(ns["runs"].attrs["failures"])
    assert failures["loss"].tolist() == [1.5] * 3
    assert failures["seed"].tolist() == [0, 1, 2]
    assert set(failures["error"]) == {"ValueError"}
