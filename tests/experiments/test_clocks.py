"""experiments.clocks: the five time-and-order experiments of notebook 07: deterministic, the
lesson holds over seeds, the LWW simulation agrees with the closed form, bad input refused."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from distlab.clocks import lww_loss_probability
from distlab.experiments import Result
from distlab.experiments import clocks as ex

SEEDS = [0, 1, 2, 3]

SMALL = {
    ex.lamport_concurrency: {},
    ex.lww_skew: {"skews_s": [0.01], "gaps_s": [0.0, 0.01], "pairs": 200},
    ex.lww_daemon_died: {"duration_s": 60.0, "died_at_s": 20.0},
    ex.hlc_drift: {"duration_s": 0.3},
    ex.hlc_bounds: {"runs": 3, "duration_s": 0.1},
    ex.commit_wait: {"uncertainties_s": [0.004], "transactions": 20},
    ex.pruned_clocks: {"writers": [5, 15], "chains": 2, "versions": 20},
}


@pytest.mark.parametrize("experiment", list(SMALL), ids=lambda f: f.__name__)
def test_same_seed_same_result_other_seed_other_result(experiment):
    kwargs = SMALL[experiment]
    a, b = experiment(**kwargs, seed=3), experiment(**kwargs, seed=3)
    assert isinstance(a, Result)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.params == b.params and a.params["seed"] == 3
    other = experiment(**kwargs, seed=4)
    assert not a.frame.equals(other.frame)
    for value in a.summary.to_numpy().ravel():
        assert isinstance(value, (int, float, np.integer, np.floating, bool, np.bool_))


@pytest.mark.parametrize("seed", SEEDS)
def test_lamport_orders_concurrent_events_that_vectors_tell_apart(seed):
    r = ex.lamport_concurrency(seed=seed)
    s = r.summary.iloc[0]
    assert s["concurrent_pairs"] > 0 and s["lamport_misleads"] > 0
    assert s["ordered_pairs"] + s["concurrent_pairs"] == s["pairs"]
    if r.pair is not None:
        first, second = (r.frame.loc[i] for i in r.pair)
        assert first["lamport"] < second["lamport"] and first["time"] > second["time"]
        le = all(x <= y for x, y in zip(first["vector"], second["vector"]))
        ge = all(x >= y for x, y in zip(first["vector"], second["vector"]))
        assert not le and not ge  # the vectors say: concurrent
    assert r.processes == ("a", "b", "c")
    assert set(r.trace["node"]) == {"a", "b", "c"}


def test_lamport_finds_a_misleading_pair_in_most_seeds():
    found = [ex.lamport_concurrency(seed=s).pair is not None for s in range(8)]
    assert sum(found) >= 6


@pytest.mark.parametrize("seed", SEEDS)
def test_lww_simulation_agrees_with_the_closed_form(seed):
    pairs = 1500
    r = ex.lww_skew(pairs=pairs, seed=seed)
    s = r.summary
    # binomial noise: 4.5 standard deviations of a rate estimated from `pairs` pairs
    tolerance = 4.5 * np.sqrt(s["closed_form"] * (1 - s["closed_form"]) / pairs) + 1e-9
    assert ((s["loss_rate"] - s["closed_form"]).abs() <= tolerance + 0.005).all()
    assert (s.loc[(0.05, 0.0), "loss_rate"] > 0.4) and s.loc[(0.005, 0.05), "lost_writes"] == 0
    curve = r.curve[r.curve["skew_s"] == 0.02]
    assert curve["loss_probability"].tolist() == pytest.approx(
        lww_loss_probability(curve["gap_s"].to_numpy(), delta=0.02).tolist()
    )


def test_lww_with_synchronised_clocks_loses_as_the_sync_error_says():
    r = ex.lww_skew(
        skews_s=[0.5], gaps_s=[0.0, 0.002], sync_interval_s=1.0, sync_error_s=0.002, pairs=3000
    )
    rates = r.summary["loss_rate"].to_numpy()
    # after the first sync the offsets are the sync errors (uniform on +-2 ms), not the skew
    assert rates[1] == pytest.approx(lww_loss_probability(0.002, delta=0.002), abs=0.04)
    # the closed form takes the effective spread (the sync error), not the initial skew
    assert r.summary["spread_s"].tolist() == [0.002, 0.002]
    assert r.summary["closed_form"].to_numpy()[1] == pytest.approx(
        lww_loss_probability(0.002, delta=0.002)
    )


@pytest.mark.parametrize(
    ("skew", "drift", "interval", "error", "spread"),
    [
        (0.02, 0.0, None, 0.001, 0.02),  # no drift, no sync: the offsets as drawn
        (0.02, 5e-5, 16.0, 0.001, 0.0014),  # NTP on a LAN: the sync error + drift over 8 s
        (0.02, 5e-5, 16.0, 0.01, 0.0104),  # NTP over the internet
        (0.0, 5e-4, None, 0.001, 0.047),  # cheap clocks: 500 ppm over 94 s on average
    ],
)
def test_lww_closed_form_follows_the_effective_spread(skew, drift, interval, error, spread):
    r = ex.lww_skew(skews_s=[skew], gaps_s=[0.0, 0.01, 0.03], pairs=2000, drift=drift,
                    sync_interval_s=interval, sync_error_s=error, duration_s=60.0,
                    warmup_s=64.0, seed=0)  # fmt: skip
    s = r.summary
    assert s["spread_s"].tolist() == pytest.approx([spread] * 3)
    assert (s["loss_rate"] - s["closed_form"]).abs().max() < 0.03
    assert r.curve["spread_s"].tolist() == pytest.approx([spread] * len(r.curve))


def test_effective_spread_refuses_bad_input_by_name():
    with pytest.raises(ValueError, match="skew_s=-1"):
        ex.effective_spread(-1)
    with pytest.raises(ValueError, match="sync_interval_s=0"):
        ex.effective_spread(0.01, sync_interval_s=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_node_whose_sync_daemon_died_loses_its_writes(seed):
    r = ex.lww_daemon_died(seed=seed)
    s = r.summary
    others = s.drop(index=r.victim)
    assert s.loc[r.victim, "loss_rate_after"] > 4 * others["loss_rate_after"].max()
    assert s.loc[r.victim, "loss_rate_before"] < 3 * others["loss_rate_before"].max() + 0.02
    victim = r.trace[r.trace["node"] == r.victim]
    assert victim["error"].iloc[-1] < -0.04  # 200 ppm slow for 240 s: about 48 ms behind
    lost = r.frame[r.frame["outcome"] == "lost_write"]
    assert (lost["node"] == r.victim).mean() > 0.9


def _beaten_by_an_earlier_write(frame) -> list[bool]:
    """Brute force: a write is lost when a write made earlier has a timestamp at least as large."""
    made, stamps = frame["time"].to_numpy(), frame["clock"].to_numpy()
    return [bool(((made < t) & (stamps >= c)).any()) for t, c in zip(made, stamps)]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_write_is_lost_only_when_a_write_made_earlier_beats_it(seed):
    r = ex.lww_daemon_died(duration_s=60.0, died_at_s=20.0, seed=seed)
    f = r.frame
    assert (f["outcome"] == "lost_write").tolist() == _beaten_by_an_earlier_write(f)
    # writes overtaken on the way by a later write are discarded, and are not losses
    reordered = f["discarded"] & (f["outcome"] == "ok")
    assert reordered.sum() > 10
    assert r.summary["reordered"].sum() == reordered.sum()


def test_with_perfect_clocks_no_write_is_lost_though_the_network_reorders():
    r = ex.lww_daemon_died(sync_error_s=0.0, drift=0.0, victim_drift=0.0, seed=0)
    assert r.summary["lost_writes"].sum() == 0
    assert r.summary["reordered"].sum() > 30  # the store discarded these on arrival


@pytest.mark.parametrize("seed", SEEDS)
def test_hlc_stays_within_eps_while_the_naive_clock_drifts_away(seed):
    r = ex.hlc_drift(seed=seed)
    s = r.summary
    tick = r.params["tick_s"]
    assert s.loc["hlc", "max_ahead_s"] <= s.loc["hlc", "eps_s"] + tick + 1e-12
    assert s.loc["naive", "final_ahead_s"] > 100 * s.loc["hlc", "eps_s"]
    naive = r.frame[r.frame["variant"] == "naive"]
    half = naive["time"] < naive["time"].max() / 2
    assert naive.loc[~half, "ahead_s"].mean() > naive.loc[half, "ahead_s"].mean()  # it grows


def test_hlc_drift_with_a_slow_exchange_keeps_both_clocks_near_physical_time():
    r = ex.hlc_drift(messages_per_s=20.0, duration_s=1.0, seed=0)
    assert r.summary.loc["naive", "max_ahead_s"] < 0.02


@pytest.mark.parametrize("seed", [0, 1])
def test_hlc_bounds_hold_over_random_runs(seed):
    r = ex.hlc_bounds(runs=12, seed=seed)
    s = r.summary.iloc[0]
    assert s["runs"] == 12 and s["ahead_violations"] == 0 and s["counter_violations"] == 0
    assert 0 < s["worst_ahead_share"] <= 1
    assert r.frame["ahead_ok"].all()


@pytest.mark.parametrize("seed", SEEDS)
def test_commit_wait_costs_two_eps_and_prevents_violations(seed):
    r = ex.commit_wait(seed=seed)
    s = r.summary
    for eps in (0.001, 0.004, 0.007):
        assert s.loc[("commit_wait", eps), "violations"] == 0
        assert s.loc[("no_wait", eps), "violations"] > 0
        assert s.loc[("commit_wait", eps), "mean_wait_s"] == pytest.approx(2 * eps, rel=0.01)
        assert s.loc[("no_wait", eps), "mean_wait_s"] == 0
    assert s.loc[("no_wait", 0.007), "violations"] > s.loc[("no_wait", 0.001), "violations"]


@pytest.mark.parametrize("seed", SEEDS)
def test_pruned_clocks_report_ordered_versions_as_concurrent_beyond_max_entries(seed):
    r = ex.pruned_clocks(seed=seed)
    share = r.summary["share"]
    assert (share.loc[[2, 5, 10]] == 0).all()
    assert (share.loc[[11, 12, 15, 20, 30]] > 0).all()
    assert share.loc[30] > share.loc[11]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ex.lamport_concurrency(nodes=1), ValueError, r"nodes=1"),
        (lambda: ex.lamport_concurrency(rate_per_s=500), ValueError, r"rate_per_s=500"),
        (lambda: ex.lamport_concurrency(offset_spread_s=-1), ValueError, r"offset_spread_s=-1"),
        (lambda: ex.lww_skew(skews_s=[]), ValueError, r"skews_s=\(\) must hold"),
        (lambda: ex.lww_skew(gaps_s=[-1]), ValueError, r"gaps_s\[0\]=-1"),
        (lambda: ex.lww_skew(gaps_s="0.1"), TypeError, r"gaps_s='0.1' must be a list"),
        (lambda: ex.lww_skew(sync_interval_s=0), ValueError, r"sync_interval_s=0"),
        (lambda: ex.lww_skew(drift=0.01), ValueError, r"drift=0.01 is beyond physical sense"),
        (lambda: ex.lww_skew(correction="smear"), ValueError, r"correction='smear'"),
        (lambda: ex.lww_skew(pairs=10**6, gaps_s=[0.0] * 20), ValueError, r"pairs=1000000"),
        (lambda: ex.lww_daemon_died(died_at_s=500), ValueError, r"died_at_s=500"),
        (lambda: ex.lww_daemon_died(victim_drift=-0.1), ValueError, r"victim_drift=-0.1"),
        (lambda: ex.lww_daemon_died(nodes=True), TypeError, r"nodes=True"),
        (lambda: ex.hlc_drift(tick_s=0), ValueError, r"tick_s=0"),
        (lambda: ex.hlc_drift(messages_per_s=math.nan), ValueError, r"messages_per_s=nan"),
        (lambda: ex.hlc_drift(messages_per_s=90_000), ValueError, r"messages_per_s=90000"),
        (lambda: ex.hlc_bounds(runs=0), ValueError, r"runs=0"),
        (lambda: ex.commit_wait(uncertainties_s=[2.0]), ValueError, r"uncertainties_s\[0\]=2"),
        (lambda: ex.commit_wait(clients=0), ValueError, r"clients=0"),
        (lambda: ex.pruned_clocks(writers=[2.5]), TypeError, r"writers\[0\]=2.5"),
        (lambda: ex.pruned_clocks(writers=[]), ValueError, r"writers=\(\) must hold"),
        (lambda: ex.pruned_clocks(max_entries=0), ValueError, r"max_entries=0"),
        (lambda: ex.pruned_clocks(seed=-1), ValueError, r"seed=-1"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_lww_writes_start_after_the_warmup():
    r = ex.lww_skew(skews_s=[0.01], gaps_s=[0.0], pairs=50, warmup_s=100.0, duration_s=10.0)
    assert r.frame["first_time"].between(100.0, 110.0).all()
    with pytest.raises(ValueError, match=r"warmup_s=-1"):
        ex.lww_skew(warmup_s=-1)


def test_commit_wait_runs_only_the_variants_asked_for_with_the_same_numbers():
    both = ex.commit_wait(uncertainties_s=[0.004], transactions=30, seed=1)
    alone = ex.commit_wait(uncertainties_s=[0.004], transactions=30, variants="no_wait", seed=1)
    assert alone.summary.index.get_level_values("variant").unique().tolist() == ["no_wait"]
    pd.testing.assert_frame_equal(alone.summary, both.summary.loc[["no_wait"]])
    assert alone.params["variants"] == ("no_wait",)
    with pytest.raises(ValueError, match="variants item='wait' is not one of"):
        ex.commit_wait(variants=["wait"])
    with pytest.raises(ValueError, match="variants=\\(\\) is empty"):
        ex.commit_wait(variants=[])


def _lww_frame_through_a_world(seed, skew, gaps, pairs, drift, interval, error, warmup, duration):
    """The frame of one skew of lww_skew as a world of NodeClocks gives it, one clock at a time:
    the reference the vectorised reading of the step-corrected clocks must equal."""
    from distlab.sim import World
    from distlab.sim.clocks import NodeClock

    rng = np.random.default_rng([seed, 2, int(round(skew * 1e9))])
    offsets = rng.uniform(-skew, skew + 0.0, 2 * pairs)
    drifts = rng.uniform(-drift, drift + 0.0, 2 * pairs) if drift else np.zeros(2 * pairs)
    clocks = {f"w{k}": NodeClock(float(offsets[k]), float(drifts[k]), interval, error)
              for k in range(2 * pairs)}  # fmt: skip
    world = World(seed, clocks=clocks)
    starts = warmup + rng.uniform(0.0, duration + 0.0, pairs)
    gaps = np.asarray(gaps)
    first = np.array([world.clock_of(f"w{2 * k}").read(t) for k, t in enumerate(starts)])
    second = np.array(
        [world.clock_of(f"w{2 * k + 1}").read_many(t + gaps) for k, t in enumerate(starts)]
    )
    parts = [
        pd.DataFrame({
            "skew_s": skew, "gap_s": gap, "pair": np.arange(pairs),
            "first_node": [f"w{2 * k}" for k in range(pairs)],
            "second_node": [f"w{2 * k + 1}" for k in range(pairs)],
            "first_time": starts, "second_time": starts + gap,
            "first_clock": first, "second_clock": second[:, g],
            "outcome": np.where(second[:, g] < first, "lost_write", "ok"),
        })
        for g, gap in enumerate(gaps)
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31])
@pytest.mark.parametrize(
    ("drift", "interval", "error", "warmup"),
    [
        (0.0, None, 0.0, 0.0),
        (5e-4, None, 0.001, 64.0),
        (5e-5, 16.0, 0.001, 64.0),
        (1e-4, 1.0, 0.02, 0.0),
        (2e-4, 4.0, 0.0, 64.0),
        (1e-5, 64.0, 0.0005, 64.0),
        (1e-3, 0.05, 0.003, 5.0),
    ],
)
def test_lww_skew_frames_are_those_of_a_world_of_clocks(seed, drift, interval, error, warmup):
    skews, gaps, pairs = [0.0, 0.013, 0.05], [0.0, 0.002, 0.01, 0.1], 40
    r = ex.lww_skew(skews_s=skews, gaps_s=gaps, pairs=pairs, drift=drift, sync_interval_s=interval,
                    sync_error_s=error, warmup_s=warmup, duration_s=60.0, seed=seed)  # fmt: skip
    expected = pd.concat(
        [_lww_frame_through_a_world(seed, d, gaps, pairs, drift, interval, error, warmup, 60.0)
         for d in skews],
        ignore_index=True,
    )  # fmt: skip
    pd.testing.assert_frame_equal(r.frame, expected, check_exact=True)
