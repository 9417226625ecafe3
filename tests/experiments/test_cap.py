"""The CAP experiment: properties over seeds and partition schedules, pinned regressions."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.experiments import cap

SHAPES = st.sampled_from(["majority-minority", "isolate-one", "bridge"])
SCHEDULE = dict(
    seed=st.integers(0, 10_000),
    partition=SHAPES,
    partition_at_s=st.floats(0.0, 1.0),
    partition_s=st.floats(0.2, 1.5),
)


@settings(max_examples=40, deadline=None)
@given(
    **SCHEDULE,
    clients=st.integers(3, 10),
    think_s=st.sampled_from([0.05, 0.15]),
    loss=st.sampled_from([0.0, 0.1]),
)
def test_cp_is_linearizable_and_the_minority_never_writes(
    seed, partition, partition_at_s, partition_s, clients, think_s, loss
):
    # many clients per node once found colliding ABD tags: keep that in the search space
    r = cap.run(
        "cp",
        partition=partition,
        partition_at_s=partition_at_s,
        partition_s=partition_s,
        clients=clients,
        think_s=think_s,
        loss=loss,
        seed=seed,
        check_timeout_s=5.0,
    )
    assert r.summary["verdict"] == "linearizable", r.check["x"].explanation
    assert r.summary["minority_writes_ok"] == 0 or partition == "bridge"
    ops = r.operations
    p0, p1 = partition_at_s, partition_at_s + partition_s
    minority = ops[
        (ops["side"] == "minority")
        & (ops["f"] == "write")
        & (ops["start"] >= p0)
        & (ops["end"] <= p1)
    ]
    assert (minority["type"] != "ok").all()
    assert r.summary["stale_reads"] == r.summary["lost_writes"] == 0
    assert r.summary["conflicting_writes"] == 0


@settings(max_examples=25, deadline=None)
@given(**SCHEDULE)
def test_ap_answers_everyone_and_converges(seed, partition, partition_at_s, partition_s):
    r = cap.run(
        "ap",
        partition=partition,
        partition_at_s=partition_at_s,
        partition_s=partition_s,
        seed=seed,
        check=False,
    )
    assert (r.operations["type"] != "info").all()
    assert set(r.operations["outcome"]) <= {"ok", "stale_read", "lost_write"}
    for side in r.sides:
        avail = r.summary[f"availability_{side}"]
        assert math.isnan(avail) or avail == 1.0
    assert r.summary["converged"]
    assert r.summary["converged_at_s"] >= partition_at_s + partition_s
    values = {tuple(sorted(v.items())) for v in r.replicas.values()}
    assert len(values) == 1


# -- pinned regressions -----------------------------------------------------------------------

NO_WRITEBACK = dict(partition="none", loss=0.15, read_share=0.7, anti_entropy_s=0, seed=1)


def test_regression_no_writeback_is_not_linearizable():
    bad = cap.run("cp-no-writeback", **NO_WRITEBACK)
    assert bad.summary["verdict"] == "not-linearizable"
    assert "cannot be placed" in bad.check["x"].explanation or bad.check["x"].explanation
    # the same workload with the write-back is linearizable
    assert cap.run("cp", **NO_WRITEBACK).summary["verdict"] == "linearizable"


def test_regression_course_quorum_split_brain():
    r = cap.run("course-quorum", seed=0)
    s = r.summary
    assert s["split_brain"] and s["writes_ok_majority"] > 0 and s["writes_ok_minority"] > 0
    assert s["availability_minority"] == 1.0
    assert s["conflicting_writes"] >= 1
    assert s["verdict"] == "not-linearizable"
    cp = cap.run("cp", seed=0).summary
    assert not cp["split_brain"] and cp["writes_ok_minority"] == 0


def test_regression_ap_loses_an_update_under_lww():
    r = cap.run("ap", seed=0)  # 20 ms clock skew: an older write wins by its clock
    assert r.summary["lost_writes"] >= 1
    assert (r.operations["outcome"] == "lost_write").sum() == r.summary["lost_writes"]
    cas = cap.run("ap", cas_share=0.3, read_share=0.3, clock_skew_s=0.0, seed=0)
    assert cas.summary["lost_writes"] >= 1  # read-modify-writes on both sides
    assert cas.summary["verdict"] == "not-linearizable"


# -- shape of the result ----------------------------------------------------------------------


def test_result_frames_and_summary():
    r = cap.run("cp", seed=3)
    assert list(r.operations.columns) == cap.OPERATION_COLUMNS
    assert set(r.operations["outcome"]) <= set(cap.OUTCOMES)
    assert set(r.operations["side"]) == {"majority", "minority"}
    assert list(r.partition.columns) == ["start", "end", "label"]
    assert r.partition.iloc[0]["start"] == 0.5 and r.partition.iloc[0]["end"] == 1.5
    assert len(r.history) == len(r.operations)
    assert {"partition", "heal"} <= set(r.events["kind"])
    assert r.availability["side"].tolist() == ["majority", "minority"]
    for key in (
        "verdict",
        "converged",
        "converged_at_s",
        "stale_reads",
        "lost_writes",
        "conflicting_writes",
        "availability_majority",
        "availability_minority",
    ):
        assert key in r.summary
    assert cap.run("cp", partition="none", seed=3).partition.empty


def test_bridge_cuts_halves_but_not_the_bridge():
    r = cap.run("cp", partition="bridge", seed=2)
    assert r.sides == {"left": ["n1", "n2"], "bridge": ["n3"], "right": ["n4", "n5"]}
    assert r.summary["availability_left"] == 1.0  # left + bridge is a majority
    assert r.summary["verdict"] == "linearizable"


def test_deterministic():
    a, b = cap.run("ap", seed=5), cap.run("ap", seed=5)
    pd.testing.assert_frame_equal(a.operations, b.operations)
    assert {k: v for k, v in a.summary.items() if not k.endswith("_s")} == {
        k: v for k, v in b.summary.items() if not k.endswith("_s")
    }
    assert not cap.run("ap", seed=6).operations.equals(a.operations)


def test_several_keys_checked_one_by_one():
    r = cap.run("cp", keys=3, seed=1)
    assert set(r.operations["key"]) <= {"k1", "k2", "k3"} and len(r.check) >= 2
    assert r.summary["verdict"] == "linearizable"


def test_fast_enough():
    r = cap.run("cp", seed=0)
    assert r.summary["sim_s"] + r.summary["check_s"] < 0.2
    assert len(r.operations) < 100


def test_use_cases():
    assert set(cap.USE_CASES) == {
        "banking",
        "social media",
        "e-commerce inventory",
        "e-commerce recommendations",
        "healthcare records",
        "analytics dashboard",
    }
    assert [u.choice for u in cap.USE_CASES.values()] == ["CP", "AP", "CP", "AP", "CP", "AP"]
    cp = cap.use_case_run("e-commerce inventory", seed=0)
    ap = cap.use_case_run("e-commerce inventory", "ap", seed=0)
    refused = cp.consequences.set_index("consequence")["count"]
    assert refused["orders rejected"] > 0
    harmful = ap.consequences[ap.consequences["harmful"]]["count"].sum()
    assert harmful > 0 and cp.consequences[cp.consequences["harmful"]]["count"].sum() == 0


def test_bad_input():
    with pytest.raises(ValueError, match="store='ca' is not one of"):
        cap.run("ca")
    with pytest.raises(ValueError, match="partition='split' is not one of"):
        cap.run("cp", partition="split")
    with pytest.raises(ValueError, match="cas_share=0.2 needs a store with compare-and-set"):
        cap.run("cp", cas_share=0.2)
    with pytest.raises(ValueError, match="must be at most 1"):
        cap.run("ap", read_share=0.8, cas_share=0.5)
    with pytest.raises(ValueError, match="nodes=2 must be at least 3"):
        cap.run("ap", nodes=2)
    with pytest.raises(ValueError, match="partition_s=0 must be in"):
        cap.run("ap", partition_s=0)
    with pytest.raises(TypeError, match="seed="):
        cap.run("ap", seed=1.5)
    with pytest.raises(ValueError, match="use_case='casino' is not one of"):
        cap.consequences("casino", {})
    with pytest.raises(ValueError, match="at most 5,000"):
        cap.run("ap", clients=50, think_s=0.001)
