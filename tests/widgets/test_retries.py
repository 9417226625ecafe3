"""The retry explorers of notebook 02: each preset, at its default seed, shows what its name
says."""

import pytest

from distlab.widgets.retries import (
    CONTENTION_PRESETS,
    TIMELINE_PRESETS,
    contention_explorer,
    retry_timeline_explorer,
)


def preset_results(explorer, presets):
    """Each preset applied in turn, none showing an error: its name -> the explorer's result."""
    results = {}
    for name in presets:
        explorer.apply_preset(name)
        assert explorer.error is None, f"{name}: {explorer.error}"
        results[name] = explorer.last_result
    return results


@pytest.fixture(scope="module")
def timeline_runs():
    return preset_results(retry_timeline_explorer(), TIMELINE_PRESETS)


def test_the_course_preset_waits_1_then_2_seconds_in_lockstep(timeline_runs):
    a = timeline_runs["course text: 3 attempts, 1 s, no jitter"].frame
    assert set(a["wait_before_s"]) == {0.0, 1.0, 2.0}
    first = a[a["call"] == 1]
    assert (first.groupby("attempt")["start"].agg(lambda s: s.max() - s.min()) < 0.05).all()


def test_the_recommended_preset_caps_jitters_and_stops_on_the_budget(timeline_runs):
    a = timeline_runs["recommended: full jitter, cap, budget"].frame
    assert a["wait_before_s"].max() <= 4.0
    assert "budget" in set(a["reason"])
    unbudgeted = timeline_runs["full jitter without a budget"].frame
    assert (a["attempt"] > 1).sum() < (unbudgeted["attempt"] > 1).sum()


def test_the_full_jitter_preset_spreads_the_retries_and_has_no_budget(timeline_runs):
    a = timeline_runs["full jitter without a budget"].frame
    assert "budget" not in set(a["reason"])
    retried = a[(a["call"] == 1) & (a["attempt"] == 2)]
    assert retried["start"].max() - retried["start"].min() > 0.25


def test_the_no_backoff_preset_retries_at_once(timeline_runs):
    a = timeline_runs["no backoff: retry at once"].frame
    assert (a["wait_before_s"] == 0).all() and (a["attempt"] > 1).any()


def test_the_timeline_explorer_passes_max_attempts():
    explorer = retry_timeline_explorer()
    explorer.update(max_attempts=2)
    assert explorer.last_result.params["max_attempts"] == 2
    assert explorer.last_result.frame["attempt"].max() == 2


@pytest.fixture(scope="module")
def contention_results():
    return preset_results(contention_explorer(), CONTENTION_PRESETS)


def test_the_all_strategies_preset_runs_all_five(contention_results):
    s = contention_results["all five strategies, 100 clients"].summary
    assert list(s.index) == ["none", "exponential", "full", "equal", "decorrelated"]
    assert (s["clients"] == 100).all()
    assert s["calls"].idxmax() == "none"


def test_the_no_jitter_preset_shows_jitter_doing_less_work_sooner(contention_results):
    s = contention_results["no jitter against full jitter"].summary
    assert s.loc["full", "calls"] < s.loc["exponential", "calls"]
    assert s.loc["full", "completion_s"] < s.loc["exponential", "completion_s"]


def test_the_three_jitters_preset(contention_results):
    result = contention_results["the three jitters"]
    assert list(result.summary.index) == ["full", "equal", "decorrelated"]
    done = result.frame[result.frame["outcome"] == "ok"].groupby("strategy").size()
    assert (done == 100).all()


def test_the_cap_dropdown_shows_no_cap_and_passes_none():
    # a Dropdown whose value is None shows an empty box: "no cap" must be a real option value
    explorer = retry_timeline_explorer()
    explorer.apply_preset("course text: 3 attempts, 1 s, no jitter")
    assert explorer.controls["cap_s"].label == "no cap"
    assert explorer.last_result.params["cap_s"] is None
    explorer.update(cap_s=2.0)
    assert explorer.last_result.params["cap_s"] == 2.0
