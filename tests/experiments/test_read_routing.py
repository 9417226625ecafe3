"""Experiment 1 of notebook 05: read-your-writes against lag and think time per read routing;
the price of each guarantee, with a replica cut off by a partition. Determinism, the lesson over
seeds, bad input, and a fuzz of the parameters."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from odd_values import refused_by_name_or_finite

from distlab.experiments import Result
from distlab.experiments.read_routing import (
    FAULTS,
    VARIANTS,
    ReadRoutingResult,
    RywGridResult,
    read_routing,
    ryw_grid,
)
from distlab.sessions import GUARANTEES

SEEDS = range(5)
SMALL = {"clients": 3, "cycles": 15}


def test_shape_and_determinism():
    r = read_routing(**SMALL, seed=3)
    assert isinstance(r, ReadRoutingResult) and isinstance(r, Result)
    assert r.summary.index.name == "variant"
    assert list(r.summary.index) == ["primary", "any", "sticky", "read_your_writes",
                                     "monotonic_reads"]  # fmt: skip
    assert len(r.frame) == 5 * 3 * 15 * 3
    assert set(r.frame["outcome"]) <= {"ok", "unavailable", "timeout"}
    assert r.params["seed"] == 3 and r.params["variants"][0] == "primary"
    again = read_routing(**SMALL, seed=3)
    assert r.frame.equals(again.frame) and r.summary.equals(again.summary)
    assert not r.frame.equals(read_routing(**SMALL, seed=4).frame)


@pytest.mark.parametrize("seed", SEEDS)
def test_reading_any_replica_misses_own_writes_and_the_primary_never_does(seed):
    s = read_routing(["primary", "any", "sticky", "read_your_writes", "guaranteed"],
                     **SMALL, seed=seed).summary  # fmt: skip
    assert s.loc["any", "ryw_violation_rate"] > 0.2
    assert s.loc["sticky", "ryw_violations"] > 0  # sticky to a replica: writes go elsewhere
    assert s.loc["sticky", "mr_violations"] == 0  # ... but one replica's log only moves on
    for v in ("primary", "read_your_writes", "guaranteed"):
        assert s.loc[v, "ryw_violations"] == 0 and s.loc[v, "sessions_read_your_writes"] == 0
    others = ("monotonic_reads", "writes_follow_reads", "monotonic_writes")
    assert (s.loc["guaranteed", [f"sessions_{g}" for g in others]] == 0).all()
    # the price: waits and a slower read
    assert s.loc["read_your_writes", "waits"] > 0
    assert s.loc["read_your_writes", "read_latency_mean_s"] > s.loc["any", "read_latency_mean_s"]


def test_the_frame_flags_agree_with_the_checker():
    r = read_routing(["any", "sticky"], **SMALL, seed=1)
    for variant, s in r.summary.iterrows():
        rows = r.frame[r.frame["variant"] == variant]
        sessions = rows.loc[rows["ryw_violation"], "client"].nunique()
        assert sessions == s["sessions_read_your_writes"]
        assert rows.loc[rows["mr_violation"], "client"].nunique() == s["sessions_monotonic_reads"]
    assert set(r.violations["variant"]) <= {"any", "sticky"}


@pytest.mark.parametrize("seed", range(3))
def test_a_replica_cut_off_costs_errors_waits_or_redirects_never_a_violation(seed):
    kw = {"fault": "replica-cut", **SMALL, "seed": seed}
    by = {
        ob: read_routing(["any", "read_your_writes"], on_behind=ob, **kw).summary
        for ob in ("wait", "error", "primary")
    }
    for ob, s in by.items():
        assert s.loc["read_your_writes", "ryw_violations"] == 0, ob
    assert by["wait"].loc["any", "fault_ryw_violations"] > 0
    err, wait, redirect = (by[ob].loc["read_your_writes"] for ob in ("error", "wait", "primary"))
    assert err["fault_read_errors"] > 0 and err["waits"] == 0
    assert wait["waits"] > 0 and wait["read_latency_p99_s"] >= 0.5
    assert redirect["redirects"] > 0 and redirect["read_errors"] == 0


def test_an_isolated_replica_times_out_reads_routed_to_it():
    s = read_routing(["any", "primary"], fault="replica-isolated", **SMALL, seed=0).summary
    assert s.loc["any", "fault_read_errors"] > 0
    assert s.loc["primary", "read_errors"] == 0


def test_the_grid_rises_with_lag_and_falls_with_think_time():
    g = ryw_grid(["any", "primary"], lags_s=[0.01, 0.1, 0.5], thinks_s=[0.0, 0.2, 1.0],
                 clients=2, cycles=15, seed=0)  # fmt: skip
    assert isinstance(g, RywGridResult)
    assert len(g.frame) == 2 * 3 * 3
    rate = g.frame[g.frame["variant"] == "any"].pivot(
        index="lag_s", columns="think_s", values="ryw_violation_rate"
    )
    assert rate.loc[0.5, 0.0] > rate.loc[0.1, 0.0] > rate.loc[0.01, 0.0]
    assert rate.loc[0.5, 0.0] > rate.loc[0.5, 0.2] > rate.loc[0.5, 1.0]
    assert (g.frame.loc[g.frame["variant"] == "primary", "ryw_violation_rate"] == 0).all()
    top, mean = g.summary.loc["any", ["max_violation_rate", "mean_violation_rate"]]
    assert top >= mean > 0
    any_rows = g.frame[g.frame["variant"] == "any"].set_index(["lag_s", "think_s"])
    assert math.isclose(any_rows.loc[(0.1, 0.2), "exp_model"], math.exp(-2))


def test_bad_input():
    with pytest.raises(ValueError, match="variants item='anywhere' is not one of"):
        read_routing("anywhere")
    with pytest.raises(ValueError, match="variants item='read_your_write' is not one of"):
        read_routing(["read_your_write"])
    with pytest.raises(ValueError, match="variants=.* names a variant twice"):
        read_routing(["any", "any"])
    with pytest.raises(ValueError, match="lag_s=-1 must be"):
        read_routing(lag_s=-1)
    with pytest.raises(ValueError, match="fault='split' is not one of"):
        read_routing(fault="split")
    with pytest.raises(ValueError, match="on_behind='later' is not one of"):
        read_routing(on_behind="later")
    with pytest.raises(ValueError, match="nodes=2 must be at least 3"):
        read_routing(nodes=2, fault="replica-cut")
    with pytest.raises(ValueError, match="asks for .* operations"):
        read_routing(clients=100, cycles=100_000)
    with pytest.raises(TypeError, match="seed=1.5 must be an int"):
        read_routing(seed=1.5)
    with pytest.raises(ValueError, match="lags_s item=-0.1 must be"):
        ryw_grid(lags_s=[-0.1])
    with pytest.raises(TypeError, match="thinks_s='0.1' must be a list"):
        ryw_grid(thinks_s="0.1")
    with pytest.raises(ValueError, match="lags_s=\\(\\) is empty"):
        ryw_grid(lags_s=[])
    with pytest.raises(TypeError, match="lag_s= is set by ryw_grid"):
        ryw_grid(lag_s=0.1)
    with pytest.raises(ValueError, match="asks for .* operations"):
        ryw_grid(lags_s=[0.1] * 50, thinks_s=[0.1] * 50)


ODD = [0, -1, 2**63, 1e308, -0.0, 5e-324, math.inf, math.nan, True, None, "1", [1]]
TINY = {"variants": ["any", "read_your_writes"], "clients": 1, "cycles": 2}
PARAMS = ["lag_s", "think_s", "clients", "cycles", "nodes", "latency_s", "gap_s", "wait_s",
          "timeout_s", "fault_at_s", "fault_s", "failover_s", "seed"]  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(PARAMS), value=st.sampled_from(ODD))
def test_fuzz_read_routing(name, value):
    refused_by_name_or_finite(read_routing, TINY, name, value, "read_routing")


def test_every_variant_and_partition_runs():
    for fault in FAULTS:
        r = read_routing(VARIANTS, clients=1, cycles=3, fault=fault, fault_at_s=0.1)
        assert list(r.summary.index) == list(VARIANTS)


def test_read_from_the_primary_is_not_always_up_to_date_under_failover():
    """The course's "read from master for critical operations: always up to date": a failover
    discards acknowledged writes, and a session reading the new primary misses its own write;
    with all four guarantees on, the session is refused instead (errors, never a violation)."""
    primary = guaranteed = lost = 0
    for seed in range(6):
        s = read_routing(["primary", "guaranteed"], fault="primary-crash", seed=seed).summary
        primary += s.loc["primary", "sessions_read_your_writes"]
        primary += s.loc["primary", "sessions_monotonic_writes"]
        lost += s.loc["primary", "lost_acknowledged"]
        g = s.loc["guaranteed"]
        guaranteed += sum(g[f"sessions_{name}"] for name in GUARANTEES)
        assert g["read_errors"] + g["write_errors"] > 0
    assert lost > 0 and primary > 0 and guaranteed == 0


def test_the_readme_numbers():
    """README, "Staleness, session guarantees and CRDTs": seed 0, default parameters."""
    s = read_routing(["any", "read_your_writes"], seed=0).summary
    assert round(s.loc["any", "ryw_violation_rate"], 2) == 0.70
    assert s.loc["read_your_writes", "ryw_violations"] == 0
    assert round(s.loc["read_your_writes", "read_latency_mean_s"] * 1000) == 65
    assert round(s.loc["any", "read_latency_mean_s"] * 1000) == 4


# -- the guarantees of the "guaranteed" variant; the tables a replication timeline draws ------


@pytest.mark.parametrize("seed", range(3))
def test_guaranteed_enforces_only_the_guarantees_given(seed):
    mr_only = read_routing(["guaranteed"], guarantees="monotonic_reads", **SMALL, seed=seed)
    s = mr_only.summary.loc["guaranteed"]
    assert tuple(mr_only.params["guarantees"]) == ("monotonic_reads",)
    assert s["mr_violations"] == 0 and s["ryw_violations"] > 0
    both = read_routing(["guaranteed"], guarantees=["read_your_writes", "monotonic_reads"],
                        **SMALL, seed=seed).summary.loc["guaranteed"]  # fmt: skip
    assert both["ryw_violations"] == 0 and both["mr_violations"] == 0
    # a single-guarantee variant is not affected by guarantees=
    one = read_routing(["read_your_writes"], guarantees="monotonic_reads", **SMALL, seed=seed)
    assert one.summary.loc["read_your_writes", "ryw_violations"] == 0


def test_guarantees_rejected_by_name():
    with pytest.raises(ValueError, match="guarantees"):
        read_routing(["guaranteed"], guarantees="read_your_write")
    with pytest.raises(ValueError, match="guarantees"):
        read_routing(["guaranteed"], guarantees=[])


def test_the_run_records_what_a_timeline_draws():
    r = read_routing(["any", "primary"], fault="primary-crash", fault_at_s=0.6, fault_s=0.8,
                     clients=2, cycles=6, seed=0)  # fmt: skip
    assert set(r.applied["variant"]) == {"any", "primary"}
    assert list(r.applied.columns) == ["variant", "node", "time", "key", "stamp", "value", "lost"]
    for variant in ("any", "primary"):
        ops = r.frame[r.frame["variant"] == variant]
        applied = r.applied[r.applied["variant"] == variant]
        written = {s for f, s, o in zip(ops["f"], ops["stamp"], ops["outcome"])
                   if f == "write" and o == "ok"}  # fmt: skip
        assert written <= set(applied["stamp"])  # every acknowledged write was applied once
        assert not applied.duplicated(["node", "stamp"]).any()
        lost = set(applied.loc[applied["lost"], "stamp"]) & written
        assert len(lost) == r.summary.loc[variant, "lost_acknowledged"]
        assert r.sessions[variant].violated() == {
            g: r.summary.loc[variant, f"sessions_{g}"] for g in GUARANTEES}  # fmt: skip
    assert list(r.failovers["variant"]) == ["any", "primary"]
    assert (r.failovers["old"] == "n1").all() and (r.failovers["time"] > 0.6).all()
    assert r.crashes[["start", "end", "node"]].values.tolist() == [[0.6, 1.4, "n1"]] * 2
    calm = read_routing(["any"], clients=1, cycles=2, seed=0)
    assert calm.crashes.empty and calm.failovers.empty and not calm.applied["lost"].any()
