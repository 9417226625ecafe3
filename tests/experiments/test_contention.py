"""The AWS contention experiment: its semantics on small cases, and every claim of the post.

The claims (REFERENCES.md, "The contention experiment") are checked on means over many seeds, with
the seeds fixed so the test is repeatable; the margins are several standard errors wide. Figures
measured when this file was written (300 seeds at 100 clients; 20 seeds at 10..190 clients):

=============  ======  ============  ===========================================
strategy       calls   completion s  log-log slope of calls vs clients (10..190)
=============  ======  ============  ===========================================
none           2426    2.03          1.73
exponential    1858    63.6          1.57
full            796    4.91          1.29
equal           812    6.55          1.26
decorrelated   1001    4.61          1.42
=============  ======  ============  ===========================================

One claim holds only in part: full and equal jitter cut the calls at 100 clients by more than half
(to 43 % and 44 % of exponential's), decorrelated jitter by 46 % (to 54 %), not by more than half.
"""

from __future__ import annotations

import heapq
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from distlab.experiments.contention import (
    STRATEGIES,
    _simulate,
    backoff_for,
    contention,
    contention_curves,
    contention_runs,
    contention_sweep,
)
from distlab.retry import ExponentialBackoff, NoBackoff

CLAIM_CLIENTS = 100
CLAIM_SEEDS = range(300)


def _rows(clients, strategy, seed=0, **kw):
    """The simulation's full record: contention()'s columns plus read_at / write_at."""
    backoff = backoff_for(strategy, **{k: v for k, v in kw.items() if "latency" not in k})
    _, _, rows = _simulate(clients, backoff, seed, kw.get("latency_mean_s", 0.01),
                           kw.get("latency_sd_s", 0.002), record=True)  # fmt: skip
    return pd.DataFrame(rows)


# -- semantics on small cases -------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_lone_client_succeeds_on_its_first_write(strategy):
    df = contention(strategy, clients=1, seed=3).frame
    assert list(df.columns) == ["client", "attempt", "start", "end", "outcome"]
    assert len(df) == 1
    row = df.iloc[0]
    assert (int(row["client"]), int(row["attempt"]), row["outcome"]) == (1, 1, "ok")
    assert row["start"] == 0.0
    # read there and back, write there and back: four messages of about 10 ms
    assert 0.02 < row["end"] < 0.06


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("clients", [2, 7, 25])
def test_every_client_ends_with_exactly_one_success_as_its_last_attempt(strategy, clients):
    for seed in range(3):
        df = contention(strategy, clients=clients, seed=seed).frame
        assert sorted(df["client"].unique()) == list(range(1, clients + 1))
        assert (df["start"] < df["end"]).all()
        assert (df["start"] >= 0).all()
        for _, g in df.groupby("client"):
            assert g["attempt"].tolist() == list(range(1, len(g) + 1))  # numbered from 1, in order
            assert g["outcome"].tolist() == ["error"] * (len(g) - 1) + ["ok"]
            # the next attempt starts after the previous one ended
            assert (g["start"].to_numpy()[1:] >= g["end"].to_numpy()[:-1]).all()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_write_succeeds_exactly_when_no_other_write_succeeded_since_its_read(strategy):
    """Optimistic concurrency, checked against the server's own timeline."""
    for clients, seed in [(2, 0), (2, 1), (2, 5), (12, 2), (40, 4)]:
        df = _rows(clients, strategy, seed)
        df["ok"] = df["outcome"] == "ok"
        # the server handles the writes in arrival order; each message takes time
        assert df["write_at"].is_monotonic_increasing
        assert ((df["start"] < df["read_at"]) & (df["read_at"] < df["write_at"])
                & (df["write_at"] < df["end"])).all()  # fmt: skip
        ok_times = df.loc[df["ok"], "write_at"].to_numpy()
        # the version a read returns = the successful writes that reached the server before it
        version_read = np.searchsorted(ok_times, df["read_at"].to_numpy())
        version_at_write = np.searchsorted(ok_times, df["write_at"].to_numpy())
        assert (df["ok"].to_numpy() == (version_read == version_at_write)).all()
        # at most one success per version: versions 0, 1, ..., clients - 1 each won once
        assert sorted(version_read[df["ok"].to_numpy()]) == list(range(clients))


def test_the_waits_between_attempts_are_the_library_backoffs():
    base, cap = 0.010, 2.0
    for strategy in STRATEGIES:
        df = contention(strategy, clients=30, seed=1).frame
        for _, g in df.groupby("client"):
            gaps = g["start"].to_numpy()[1:] - g["end"].to_numpy()[:-1]
            n = g["attempt"].to_numpy()[:-1]  # gap k follows failed attempt k: retry number k
            v = np.minimum(cap, base * 2.0 ** (n - 1))
            if strategy == "none":
                assert (gaps == 0).all()  # the client restarts at once
            elif strategy == "exponential":
                np.testing.assert_allclose(gaps, v, rtol=0, atol=1e-12)
            elif strategy == "full":
                assert ((gaps >= 0) & (gaps <= v + 1e-12)).all()
            elif strategy == "equal":
                assert ((gaps >= v / 2 - 1e-12) & (gaps <= v + 1e-12)).all()
            else:  # decorrelated: s_n in [5 ms, min(cap, 3 s_(n-1))], s_0 = 5 ms
                previous = np.concatenate([[0.005], gaps[:-1]])
                assert (
                    (gaps >= 0.005 - 1e-12) & (gaps <= np.minimum(cap, 3 * previous) + 1e-12)
                ).all()


def test_the_first_retry_waits_the_posts_5_ms_times_2():
    """The post: min(cap, b·2^n), b = 5 ms, n = 1 first: distlab's base = 10 ms."""
    assert backoff_for("exponential").delay(1, None, None) == pytest.approx(0.005 * 2**1)
    assert backoff_for("exponential").delay(3, None, None) == pytest.approx(0.005 * 2**3)
    assert backoff_for("exponential").delay(20, None, None) == 2.0
    assert isinstance(backoff_for("none"), NoBackoff)
    assert backoff_for("decorrelated") == ExponentialBackoff(0.005, 2.0, "decorrelated")
    assert backoff_for("full", base_s=0.02, cap_s=1.0) == ExponentialBackoff(0.02, 1.0, "full")


def test_messages_take_abs_normal_10_ms_sd_2_ms():
    df = _rows(60, "full", seed=0)
    legs = np.concatenate([
        df["end"] - df["write_at"],  # the write's answer
        df.loc[df["attempt"] == 1, "read_at"] - df.loc[df["attempt"] == 1, "start"],  # a read
    ])  # fmt: skip
    assert legs.mean() == pytest.approx(0.010, abs=0.0003)
    assert legs.std() == pytest.approx(0.002, abs=0.0002)
    slow = _rows(5, "none", seed=0, latency_mean_s=0.1, latency_sd_s=0.0)
    np.testing.assert_allclose(slow["end"] - slow["write_at"], 0.1)


def test_the_same_seed_gives_the_same_frame_and_another_seed_another():
    for strategy in STRATEGIES:
        a = contention(strategy, clients=30, seed=11)
        b = contention(strategy, clients=30, seed=11)
        pd.testing.assert_frame_equal(a.frame, b.frame)
        pd.testing.assert_frame_equal(a.summary, b.summary)
        assert a.params == b.params
        assert not a.frame.equals(contention(strategy, clients=30, seed=12).frame)


def _message_by_message(clients, strategy, seed):
    """An independent reference: every message an event on a heap, as in the post's simulator."""
    rng = np.random.default_rng(seed)
    backoff = backoff_for(strategy)

    def latency():
        return abs(rng.normal(0.010, 0.002))

    version, calls, queue = 0, 0, []
    attempt, previous = [1] * clients, [None] * clients
    for c in range(clients):
        heapq.heappush(queue, (latency(), c, "read", None))
    now = 0.0
    while queue:
        now, c, kind, payload = heapq.heappop(queue)
        if kind == "read":  # at the server
            heapq.heappush(queue, (now + latency(), c, "version", version))
        elif kind == "version":  # back at the client: write, conditioned on that version
            heapq.heappush(queue, (now + latency(), c, "write", payload))
        elif kind == "write":  # at the server
            calls += 1
            ok = payload == version
            version += ok
            heapq.heappush(queue, (now + latency(), c, "answer", ok))
        elif not payload:  # a failed write's answer: back off, read again
            wait = backoff.delay(attempt[c], previous[c], rng)
            attempt[c] += 1
            previous[c] = wait
            heapq.heappush(queue, (now + wait + latency(), c, "read", None))
    return calls, now  # the last event is the last client learning its success


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_same_statistics_as_a_message_by_message_simulation(strategy):
    seeds = range(150)
    ref = np.array([_message_by_message(30, strategy, s) for s in seeds])
    ours = contention_sweep(clients=[30], strategies=[strategy], seeds=seeds)[
        ["calls", "completion_s"]
    ].to_numpy()
    for j in range(2):
        se = math.sqrt(ref[:, j].var(ddof=1) / len(ref) + ours[:, j].var(ddof=1) / len(ours))
        assert abs(ref[:, j].mean() - ours[:, j].mean()) < 4 * se + 1e-9


# -- sweep and curves ---------------------------------------------------------------------------


def test_sweep_rows_are_the_single_runs():
    df = contention_sweep(clients=[3, 8], strategies=["equal", "none"], seeds=[4, 2])
    assert list(df.columns) == ["strategy", "clients", "seed", "calls", "completion_s"]
    assert df[["strategy", "clients", "seed"]].values.tolist() == [
        ["equal", 3, 4], ["equal", 3, 2], ["equal", 8, 4], ["equal", 8, 2],
        ["none", 3, 4], ["none", 3, 2], ["none", 8, 4], ["none", 8, 2],
    ]  # fmt: skip
    for row in df.itertuples():
        result = contention(row.strategy, clients=row.clients, seed=row.seed)
        run = result.frame
        assert row.calls == len(run) == result.summary["calls"].iloc[0]
        assert row.completion_s == run.loc[run["outcome"] == "ok", "end"].max()
        assert row.completion_s == result.summary["completion_s"].iloc[0]
    custom = contention_sweep(clients=[6], strategies=["full"], seeds=[1], base_s=0.05, cap_s=0.4)
    run = contention("full", clients=6, seed=1, base_s=0.05, cap_s=0.4).frame
    assert int(custom["calls"].iloc[0]) == len(run)


@pytest.mark.parametrize("make_executor", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_sweep_gives_the_same_frame_on_an_executor(make_executor):
    kw = dict(clients=[5, 20], strategies=["exponential", "decorrelated"], seeds=range(3))
    expected = contention_sweep(**kw)
    with make_executor(max_workers=2) as executor:
        pd.testing.assert_frame_equal(contention_sweep(**kw, executor=executor), expected)


def test_curves_are_means_per_strategy_and_clients():
    df = contention_sweep(clients=[10, 20], strategies=["full", "none"], seeds=range(4))
    curves = contention_curves(df)
    assert curves[["strategy", "clients"]].values.tolist() == [
        ["none", 10],
        ["none", 20],
        ["full", 10],
        ["full", 20],
    ]  # STRATEGIES order
    row = curves.iloc[2]
    sub = df[(df["strategy"] == "full") & (df["clients"] == 10)]
    assert row["runs"] == 4
    assert row["calls"] == pytest.approx(sub["calls"].mean())
    assert row["completion_s"] == pytest.approx(sub["completion_s"].mean())
    assert row["calls_sem"] == pytest.approx(sub["calls"].sem())
    one = contention_curves(contention_sweep(clients=[5], strategies=["full"], seeds=[0]))
    assert one["calls_sem"].iloc[0] == 0.0


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(clients=0, strategy="full"), ValueError, "clients=0"),
        (dict(clients=2.5, strategy="full"), TypeError, "clients=2.5"),
        (dict(clients=True, strategy="full"), TypeError, "clients=True"),
        (
            dict(clients=5, strategy="jittery"),
            ValueError,
            "strategy='jittery' is not one of 'none'",
        ),
        (dict(clients=5, strategy=None), TypeError, "strategy=None"),
        (dict(clients=5, strategy="full", seed=-1), ValueError, "seed=-1"),
        (dict(clients=5, strategy="full", seed=1.5), TypeError, "seed=1.5"),
        (dict(clients=5, strategy="full", base_s=0), ValueError, "base_s=0"),
        (
            dict(clients=5, strategy="full", cap_s=0.001),
            ValueError,
            "cap_s=0.001 must be at least base_s",
        ),
        (
            dict(clients=5, strategy="decorrelated", decorrelated_base_s=-1),
            ValueError,
            "decorrelated_base_s=-1",
        ),
        (dict(clients=5, strategy="full", latency_mean_s=0), ValueError, "latency_mean_s=0"),
        (dict(clients=5, strategy="full", latency_sd_s=-0.1), ValueError, "latency_sd_s=-0.1"),
        (dict(clients=5, strategy="full", latency_sd_s="big"), TypeError, "latency_sd_s='big'"),
        # reliability: each of these used to hang
        (dict(clients=10**6, strategy="none"), ValueError, "clients=1000000 must be between"),
        (
            dict(clients=20, strategy="full", latency_sd_s=1e308),
            ValueError,
            "latency_sd_s=1e\\+308",
        ),
        (dict(clients=20, strategy="full", latency_mean_s=1e308), ValueError, "latency_mean_s="),
        (dict(clients=20, strategy="exponential", cap_s=1e308), ValueError, "cap_s=1e\\+308"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(".", r"\.")):
        contention(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(strategies=["fast"]), ValueError, "strategies item='fast'"),
        (dict(strategies=[]), ValueError, "strategies=()"),
        (dict(clients=[10**6]), ValueError, "clients=1000000 must be between 1 and 2000"),
        (dict(clients=[]), ValueError, "clients=[]"),
        (dict(clients=[10, -1]), ValueError, "clients=-1"),
        (dict(seeds=[]), ValueError, "seeds=[]"),
        (dict(seeds=["a"]), TypeError, "seed='a'"),
        (dict(base=0.01), TypeError, "unknown parameter(s) base"),
        (dict(cap_s=-1.0), ValueError, "cap_s=-1"),
    ],
)
def test_bad_sweep_arguments_name_the_parameter(kwargs, error, words):
    with pytest.raises(error) as info:
        contention_sweep(**{"clients": [5], "seeds": [0], **kwargs})
    assert words in str(info.value)


def test_curves_need_a_sweep_frame():
    with pytest.raises(TypeError, match="sweep_df"):
        contention_curves([1, 2])
    with pytest.raises(ValueError, match="completion_s"):
        contention_curves(pd.DataFrame({"strategy": ["full"], "clients": [3], "calls": [4]}))


# -- the post's claims --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def at_100():
    """Mean calls and completion at 100 clients over 300 seeds, per strategy (~2 s)."""
    df = contention_sweep(clients=[CLAIM_CLIENTS], seeds=CLAIM_SEEDS)
    return contention_curves(df).set_index("strategy")


@pytest.fixture(scope="module")
def curves():
    """The notebook's sweep: 10..190 clients, 20 seeds (~1.5 s)."""
    return contention_curves(contention_sweep(clients=range(10, 200, 20), seeds=range(20)))


def _slope(curves, strategy):
    g = curves[curves["strategy"] == strategy]
    return float(np.polyfit(np.log(g["clients"]), np.log(g["calls"]), 1)[0])


def test_claim_work_grows_roughly_with_the_square_of_the_clients(curves):
    # measured: none 1.73, exponential 1.57 (full 1.29, equal 1.26, decorrelated 1.42)
    for strategy in ("none", "exponential"):
        assert 1.5 < _slope(curves, strategy) < 2.5, strategy
    # jitter does not just lower the curve, it bends it: less than quadratic growth
    for strategy in ("full", "equal", "decorrelated"):
        assert _slope(curves, strategy) < _slope(curves, "exponential") - 0.1, strategy


def test_claim_jitter_cuts_the_calls_at_100_clients(at_100):
    exponential = at_100.loc["exponential", "calls"]
    # measured: full 0.43, equal 0.44 of exponential's calls: cut by more than half
    assert at_100.loc["full", "calls"] < 0.5 * exponential
    assert at_100.loc["equal", "calls"] < 0.5 * exponential
    # decorrelated: 0.54 of exponential's; a cut of 46 %, not "more than half" (see module doc)
    assert at_100.loc["decorrelated", "calls"] < 0.6 * exponential


def test_claim_full_and_equal_jitter_do_about_the_same_work(at_100):
    full, equal = at_100.loc["full", "calls"], at_100.loc["equal", "calls"]
    assert abs(full - equal) < 0.15 * full  # measured: 2 %


def test_claim_decorrelated_does_somewhat_more_work_than_full(at_100):
    ratio = at_100.loc["decorrelated", "calls"] / at_100.loc["full", "calls"]
    assert 1.05 < ratio < 1.6  # measured: 1.26


def test_claim_without_jitter_completion_takes_far_longer(at_100):
    slowest_jitter = max(at_100.loc[s, "completion_s"] for s in ("full", "equal", "decorrelated"))
    assert at_100.loc["exponential", "completion_s"] > 3 * slowest_jitter  # measured: 9.7x


def test_claim_equal_jitter_takes_clearly_longer_than_full(at_100):
    ratio = at_100.loc["equal", "completion_s"] / at_100.loc["full", "completion_s"]
    assert ratio > 1.15  # measured: 1.33


def test_claim_full_jitter_less_work_than_decorrelated_but_slightly_longer(at_100):
    full, dec = at_100.loc["full"], at_100.loc["decorrelated"]
    assert full["calls"] < dec["calls"]
    # measured: 4.91 s vs 4.61 s (+6.5 %, about 4.6 standard errors of the difference)
    se = math.hypot(full["completion_sem"], dec["completion_sem"])
    assert full["completion_s"] - dec["completion_s"] > 2.5 * se
    assert full["completion_s"] < 1.2 * dec["completion_s"]  # slightly


def test_claim_no_backoff_finishes_soonest_and_does_the_most_work(at_100, curves):
    others = [s for s in STRATEGIES if s != "none"]
    assert all(at_100.loc["none", "completion_s"] < at_100.loc[s, "completion_s"] for s in others)
    assert all(at_100.loc["none", "calls"] > at_100.loc[s, "calls"] for s in others)
    # from 30 clients on at every point of the notebook's sweep (at 10 it ties with exponential)
    wide = curves[curves["clients"] >= 30].pivot(index="clients", columns="strategy")
    assert (wide["calls"].idxmax(axis=1) == "none").all()
    assert (wide["completion_s"].idxmin(axis=1) == "none").all()


def test_contention_runs_takes_one_name_or_a_list():
    one = contention_runs("full", clients=20, seed=1)  # not read letter by letter
    assert one.summary.index.tolist() == ["full"]
    pd.testing.assert_frame_equal(one.frame, contention_runs(["full"], clients=20, seed=1).frame)
    both = contention_runs(("exponential", "full"), clients=20, seed=1)
    assert both.frame["strategy"].unique().tolist() == ["exponential", "full"]
    full = both.frame[both.frame["strategy"] == "full"].drop(columns="strategy")
    pd.testing.assert_frame_equal(
        full.reset_index(drop=True), contention("full", clients=20, seed=1).frame
    )
    assert both.params["strategies"] == ("exponential", "full") and both.params["seed"] == 1
    assert set(both.frame["outcome"]) == {"ok", "error"}


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(strategies="f"), ValueError, "strategies item='f' is not one of"),
        (dict(strategies=["full", "full"]), ValueError, "names a strategy twice"),
        (dict(strategies=[3]), TypeError, "strategies item=3 must be a name"),
        (dict(strategies=5), TypeError, "strategies=5"),
        (dict(strategies=["none", "jitter"]), ValueError, "strategies item='jitter'"),
        (dict(clients=5000), ValueError, "clients=5000"),
        (dict(base=1.0), TypeError, "unknown parameter(s) base"),
    ],
)
def test_bad_contention_runs_arguments_name_the_parameter(kwargs, error, words):
    with pytest.raises(error) as info:
        contention_runs(**{"strategies": ["full"], "clients": 5, **kwargs})
    assert words in str(info.value)
