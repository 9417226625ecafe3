"""The CAP explorers: each preset shows, at its seed, what its name promises."""

import pytest

from distlab.widgets import partition_explorer, use_case_explorer
from distlab.widgets.cap import PARTITION_PRESETS, USE_CASE_PRESETS


@pytest.fixture(scope="module")
def partition():
    return partition_explorer()


@pytest.fixture(scope="module")
def use_case():
    return use_case_explorer()


def _summary(explorer):
    assert explorer.error is None, explorer.error
    return explorer.last_result.summary.iloc[0]


def test_every_partition_preset_sets_every_control(partition):
    for name, values in PARTITION_PRESETS.items():
        assert set(values) == set(partition.controls), name


def test_preset_course_cpdatabase_shows_split_brain(partition):
    partition.apply_preset("course text's CPDatabase")
    s = _summary(partition)
    assert s["split_brain"] and s["availability_minority"] == 1.0
    assert s["verdict"] == "not-linearizable"


def test_preset_majority_quorum_is_linearizable_and_refuses_the_minority(partition):
    partition.apply_preset("majority quorum")
    s = _summary(partition)
    assert s["verdict"] == "linearizable" and s["availability_minority"] == 0.0
    assert s["availability_majority"] == 1.0


def test_preset_ap_answers_everyone_and_is_not_linearizable(partition):
    partition.apply_preset("AP with LWW")
    s = _summary(partition)
    assert s["availability_minority"] == s["availability_majority"] == 1.0
    assert s["verdict"] == "not-linearizable" and s["stale_reads"] > 0 and s["converged"]


def test_preset_quorum_overlap_without_write_back_is_not_linearizable(partition):
    # it used to run without loss and with anti-entropy: "linearizable" in every run it offered
    partition.apply_preset("majority quorum")  # whatever came before, the preset sets it all
    partition.update(loss=0.3, anti_entropy_s=0.5, read_share=0.2)
    partition.apply_preset("quorum overlap without write-back")
    assert partition.last_params["loss"] == 0.15 and partition.last_params["anti_entropy_s"] == 0
    assert _summary(partition)["verdict"] == "not-linearizable"
    partition.update(store="cp")  # the same run with the write-back
    assert _summary(partition)["verdict"] == "linearizable"


def test_loss_and_anti_entropy_reach_the_experiment(partition):
    partition.update(loss=0.3, anti_entropy_s=0.0)
    assert partition.last_result.params["loss"] == 0.3
    assert partition.last_result.params["anti_entropy_s"] == 0.0
    partition.update(anti_entropy_s=None)
    assert partition.last_result.params["anti_entropy_s"] is None


def _harm(explorer):
    table = explorer.last_result.frame
    return table[table["harmful"]].groupby("store")["count"].sum().to_dict()


def test_use_case_preset_inventory_cp_rejects_ap_oversells(use_case):
    use_case.apply_preset("inventory: CP against AP")
    table = use_case.last_result.frame.set_index(["store", "consequence"])["count"]
    assert table[("cp", "orders rejected")] > 0
    assert _harm(use_case) == {"cp": 0, "ap": _harm(use_case)["ap"]} and _harm(use_case)["ap"] > 0


def test_use_case_preset_social_media_cp_refuses_posts(use_case):
    use_case.apply_preset("social media: CP against AP")
    harm = _harm(use_case)
    assert harm["cp"] > 0 and harm["ap"] == 0  # refused posts hurt; a stale like does not


def test_use_case_preset_banking_course_cpdatabase_loses_money(use_case):
    use_case.apply_preset("banking: the course's CPDatabase")
    harm = _harm(use_case)
    assert harm["course-quorum"] > 0 and harm["cp"] == 0
    verdicts = use_case.last_result.frame.groupby("store")["verdict"].first()
    assert verdicts["course-quorum"] == "not-linearizable" and verdicts["cp"] == "linearizable"


def test_use_case_preset_banking_all_nodes_refuses_what_a_majority_serves(use_case):
    use_case.apply_preset("banking: all nodes against a majority")
    table = use_case.last_result.frame.set_index(["store", "consequence"])["count"]
    assert table[("all-nodes", "transactions rejected")] > table[("cp", "transactions rejected")]
    verdicts = use_case.last_result.frame.groupby("store")["verdict"].first()
    assert (verdicts == "linearizable").all()
    summary = use_case.last_result.summary
    assert summary.loc["all-nodes", "availability_majority"] == 0.0
    assert summary.loc["cp", "availability_majority"] == 1.0


def test_every_preset_has_a_lesson_test():
    tested = {
        "course text's CPDatabase",
        "majority quorum",
        "AP with LWW",
        "quorum overlap without write-back",
        "inventory: CP against AP",
        "social media: CP against AP",
        "banking: the course's CPDatabase",
        "banking: all nodes against a majority",
    }
    assert set(PARTITION_PRESETS) | set(USE_CASE_PRESETS) == tested
