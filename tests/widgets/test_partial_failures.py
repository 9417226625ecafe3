"""The partial-failure explorer (notebook 01)."""

from distlab.widgets import partial_failure_explorer


def test_partial_failure_explorer_d_state_reaches_the_experiment():
    explorer = partial_failure_explorer()
    explorer.update(d_state="down")
    assert set(explorer.last_result.frame.query("service == 'D'")["outcome"]) == {"error"}
    explorer.apply_preset("course text: A up, B down, C up, D slow")
    assert "timeout" in set(explorer.last_result.frame.query("service == 'D'")["outcome"])


def test_slow_d_hurts_a_more_than_dead_d_in_the_presets():
    explorer = partial_failure_explorer()
    explorer.apply_preset("course text: A up, B down, C up, D slow")
    slow = explorer.last_result.summary.loc["A", "p99_latency_s"]
    explorer.apply_preset("D dead instead of slow")
    dead = explorer.last_result.summary.loc["A", "p99_latency_s"]
    assert slow > dead
