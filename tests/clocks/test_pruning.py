"""Dynamo's truncated clocks: prune drops the oldest-updated entries; a chain of ordered
versions is reported concurrent once truncation bites, never before."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.clocks import Order, VersionEntry, compare_counts, prune, truncation_anomalies


def test_prune_drops_the_oldest_updated():
    clock = {f"n{i}": VersionEntry(i + 1, float(10 - i)) for i in range(5)}
    kept = prune(clock, max_entries=3)
    assert list(kept) == ["n0", "n1", "n2"]  # updated at 10, 9, 8: the newest three
    assert prune(clock, max_entries=10) == clock


def test_prune_breaks_ties_by_name():
    clock = {"b": VersionEntry(1, 0.0), "a": VersionEntry(1, 0.0), "c": VersionEntry(1, 0.0)}
    assert set(prune(clock, max_entries=2)) == {"b", "c"}


def test_no_anomaly_while_the_clock_fits():
    writers = [f"n{i % 10}" for i in range(50)]
    report = truncation_anomalies(writers, max_entries=10)
    assert report.false_concurrent == () and report.pairs == 50 * 49 // 2


def test_eleven_writers_and_ten_entries():
    report = truncation_anomalies([f"n{i}" for i in range(11)], max_entries=10)
    # version 10 has lost n0's entry: every earlier version (all know n0) looks concurrent
    assert report.false_concurrent == tuple((i, 10) for i in range(10))
    assert "n0" not in report.clocks[10] and len(report.clocks[10]) == 10
    for i, j in report.false_concurrent:
        assert compare_counts(report.clocks[i], report.clocks[j]) is Order.CONCURRENT


def test_more_writers_more_false_siblings():
    counts = [
        len(truncation_anomalies([f"n{i % k}" for i in range(40)], max_entries=10).false_concurrent)
        for k in (10, 11, 15, 40)
    ]
    assert counts[0] == 0 and counts[1] > 0 and counts == sorted(counts)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: truncation_anomalies("abc"), TypeError, "writers='abc' must be a sequence"),
        (lambda: truncation_anomalies(["a", ""]), ValueError, r"writers\[1\]=''"),
        (lambda: truncation_anomalies(["a"], max_entries=0), ValueError, "max_entries=0"),
        (lambda: truncation_anomalies(["a"] * 10_001), ValueError, "len\\(writers\\)=10001"),
        (lambda: prune({"a": (1, 0.0)}), TypeError, "must be a VersionEntry"),
        (lambda: prune([("a", 1)]), TypeError, "must be a mapping"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcdefghijklmn"), max_size=40), st.integers(1, 12))
def test_false_concurrency_iff_more_writers_than_entries(writers, max_entries):
    report = truncation_anomalies(writers, max_entries=max_entries)
    assert bool(report.false_concurrent) == (len(set(writers)) > max_entries)
    assert all(len(clock) <= max_entries for clock in report.clocks)
