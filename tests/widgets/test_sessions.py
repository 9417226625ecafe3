"""The session-guarantee explorer (notebook 05): each preset shows what its name says, over
several seeds; bad combinations give a readable message; the figure is updated in place."""

from __future__ import annotations

import pytest

from distlab.sessions import GUARANTEES
from distlab.widgets import all_explorers
from distlab.widgets.sessions import PRESETS, session_explorer

SEEDS = range(4)


@pytest.fixture(scope="module")
def explorer():
    return session_explorer()


def _preset(explorer, name, seed):
    explorer.apply_preset(name)
    explorer.update(seed=seed)
    assert explorer.error is None, explorer.error
    r = explorer.last_result
    (variant,) = r.summary.index
    return r.summary.loc[variant], r.sessions[variant].violated(), r


def test_registered_with_every_preset_running(explorer):
    assert all_explorers()["sessions"] is session_explorer
    for name in PRESETS:
        explorer.apply_preset(name)
        assert explorer.error is None, (name, explorer.error)
        assert explorer.preset_dropdown.value == name
        assert explorer.last_png


@pytest.mark.parametrize("seed", SEEDS)
def test_course_preset_reads_from_the_primary_and_sees_every_write(explorer, seed):
    s, violated, _ = _preset(explorer, "course: read from the primary", seed)
    assert s["ryw_violations"] == 0 and s["mr_violations"] == 0
    assert sum(violated.values()) == 0 and s["waits"] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_any_replica_preset_misses_own_writes(explorer, seed):
    s, violated, _ = _preset(explorer, "read any replica", seed)
    assert s["ryw_violations"] > 0 and violated["read_your_writes"] > 0
    assert s["waits"] == 0  # ... and pays nothing for it


@pytest.mark.parametrize("seed", SEEDS)
def test_sticky_preset_never_goes_back_in_time_but_misses_own_writes(explorer, seed):
    s, violated, _ = _preset(explorer, "sticky", seed)
    assert s["mr_violations"] == 0 and violated["monotonic_reads"] == 0
    assert s["ryw_violations"] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_session_token_preset_shows_zero_ryw_violations_and_its_price(explorer, seed):
    s, violated, r = _preset(explorer, "session token: read-your-writes", seed)
    assert tuple(r.params["guarantees"]) == ("read_your_writes",)
    assert s["ryw_violations"] == 0 and violated["read_your_writes"] == 0
    assert s["waits"] > 0
    assert "RYW 0/3" in explorer.last_figure.texts[0].get_text()


@pytest.mark.parametrize("seed", SEEDS)
def test_all_four_under_failover_hold_and_cost_availability(explorer, seed):
    s, violated, r = _preset(explorer, "all four under failover", seed)
    assert tuple(r.params["guarantees"]) == GUARANTEES and r.params["fault"] == "primary-crash"
    assert len(r.failovers) == 1
    assert sum(violated.values()) == 0 and s["ryw_violations"] == 0 and s["mr_violations"] == 0
    assert s["read_errors"] + s["write_errors"] > 0  # the price: refused, never silently wrong


def test_bad_combinations_give_a_readable_message(explorer):
    explorer.apply_preset("read any replica")
    explorer.update(routing="guaranteed")
    assert "none is: check at least one" in explorer.error
    explorer.update(read_your_writes=True)
    assert explorer.error is None
    explorer.update(routing="sticky")  # checked, not enforced: the title says so
    assert explorer.error is None
    assert "(the guarantees checked are not enforced)" in explorer.last_figure.axes[0].get_title(
        loc="left"
    )
    assert explorer.last_result.summary.loc["sticky", "ryw_violations"] > 0
    with pytest.raises(ValueError, match="lag_s"):
        explorer.update(lag_s=2.0)


def test_the_figure_is_built_once_and_updated(explorer):
    explorer.apply_preset("read any replica")
    fig = explorer.last_figure
    explorer.update(lag_s=0.3)
    assert explorer.last_figure is fig and explorer.error is None
    explorer.update(fault="replica-isolated", seed=5)
    assert explorer.last_figure is fig
    assert "replica isolated" in fig.axes[0].get_title(loc="left")


def test_failover_presets_name_a_seed_that_loses_a_write(explorer):
    explorer.apply_preset("course under failover (seed 5)")
    assert explorer.error is None and explorer.last_params["seed"] == 5
    s = explorer.last_result.summary.loc["primary"]
    assert s["lost_acknowledged"] >= 1 and s["ryw_violations"] >= 1  # "always up to date": no
    explorer.apply_preset("session token under failover (seed 5)")
    s = explorer.last_result.summary.loc["guaranteed"]
    assert s["lost_acknowledged"] >= 1 and s["ryw_violations"] == 0 and s["read_errors"] >= 1
