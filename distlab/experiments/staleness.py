"""How stale partial quorums are, and what their speed buys (notebook 05, experiment 3).

:func:`pbs_staleness` runs the WARS Monte Carlo of :mod:`distlab.pbs` for each latency preset
and each ``(N, R, W)``: the t-visibility curve (the probability that a read started ``t`` after
the commit sees the write) beside the closed form ``1 - p_s`` (the same quorums picked at random
with no propagation beyond the W replicas: the floor the curve starts above), the t by which
99.9 % of reads are consistent, and the write and read latencies of the same draws. Each
``(model, N)`` is also run with the strict majority quorum ``R = W = N // 2 + 1``, the
baseline against which the latency saved by a partial quorum is counted. k-staleness (a read
at least k versions old) is given by its closed form ``p_s ** k`` and by a Monte Carlo of
random quorums side by side.

Times are in seconds in every table (the presets are fitted in milliseconds; ``t_s = ms / 1000``).

>>> r = pbs_staleness(["LNKD-DISK"], quorums=[(3, 1, 1)], trials=20_000)
>>> row = r.summary.loc[("LNKD-DISK", "N=3 R=1 W=1")]
>>> round(float(row["consistent_at_0"]), 2), round(float(row["closed_form_at_0"]), 2)
(0.44, 0.33)
>>> round(float(row["saved_p999_s"]) * 1000)  # ms saved at the 99.9th percentile, write plus read
10
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab._validate import check_int, check_seed
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work
from distlab.pbs import (
    PAPER,
    PRESETS,
    Visibility,
    k_stale_monte_carlo,
    k_stale_probability,
    stale_read_probability,
    t_visibility_quorums,
    wars_draws,
)

__all__ = [
    "MAX_TRIALS",
    "PERCENTILES",
    "RunCache",
    "StalenessResult",
    "pbs_staleness",
    "quorum_label",
]

#: The most Monte Carlo trials one call runs, over all its (model, quorum) runs.
MAX_TRIALS = 20_000_000
#: The latency percentiles the summary reports (``write_p50_s``, ``write_p99_s``...).
PERCENTILES = {"p50": 0.5, "p99": 0.99, "p999": 0.999}
_MS = 1e-3


def quorum_label(nodes: int, read_quorum: int, write_quorum: int) -> str:
    """The ``variant`` label of a quorum configuration.

    >>> quorum_label(3, 1, 2)
    'N=3 R=1 W=2'
    """
    return f"N={nodes} R={read_quorum} W={write_quorum}"


@dataclass(frozen=True)
class StalenessResult(Result):
    """What :func:`pbs_staleness` returns (every time in seconds).

    Attributes:
        frame: the t-visibility curves, one row per ``(model, variant, t_s)``: ``nodes,
            read_quorum, write_quorum``, ``consistent`` (Monte Carlo: the share of reads started
            ``t_s`` after the commit that see the write) and ``closed_form`` (``1 - p_s``, the
            same share with no propagation beyond the write quorum).
        summary: one row per ``(model, variant)``: ``nodes, read_quorum, write_quorum,
            strict`` (R + W > N), ``consistent_at_0`` and ``closed_form_at_0``, ``t_999_s``
            (the smallest t with 99.9 % consistent reads), ``write_p50_s`` ... ``read_p999_s``
            (the commit time and the R-th response, from the same trials), ``saved_p999_s``
            (the strict majority quorum's write plus read 99.9th percentile minus this one's),
            and the paper's ``paper_consistent_at_0`` and ``paper_t_999_s`` where the paper
            reports them (N = 3, R = W = 1; else NaN).
        k_staleness: one row per ``(variant, k)``: ``nodes, read_quorum, write_quorum``,
            ``closed_form`` (``p_s ** k``) and ``monte_carlo`` (random quorums, ``trials`` reads).
    """

    k_staleness: pd.DataFrame


def _quorums(quorums: Any) -> tuple[tuple[int, int, int], ...]:
    if isinstance(quorums, (str, bytes)) or not isinstance(quorums, Sequence) or not quorums:
        raise TypeError(f"quorums={quorums!r} must be a non-empty list of (N, R, W) triples")
    out = []
    for i, item in enumerate(quorums):
        if not isinstance(item, Sequence) or isinstance(item, (str, bytes)) or len(item) != 3:
            raise TypeError(f"quorums[{i}]={item!r} must be an (N, R, W) triple")
        n, r, w = item
        try:
            stale_read_probability(nodes=n, read_quorum=r, write_quorum=w)  # validates all three
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"quorums[{i}]={tuple(item)!r}: {exc}") from None
        out.append((int(n), int(r), int(w)))
    if len(set(out)) != len(out):
        raise ValueError(f"quorums={quorums!r} names a quorum twice")
    return tuple(out)


def _models(models: Any) -> tuple[str, ...]:
    if isinstance(models, str):
        models = (models,)
    if not isinstance(models, Sequence) or not models:
        raise TypeError(f"models={models!r} must be a non-empty list of preset names")
    for i, model in enumerate(models):
        if model not in PRESETS:
            raise ValueError(f"models[{i}]={model!r} is not one of {', '.join(map(repr, PRESETS))}")
    if len(set(models)) != len(models):
        raise ValueError(f"models={tuple(models)!r} names a model twice")
    return tuple(models)


def _with_baselines(quorums: tuple) -> tuple:
    """``quorums`` plus the strict majority quorum of each N, appended when missing."""
    extra = [(n, n // 2 + 1, n // 2 + 1) for n in dict.fromkeys(q[0] for q in quorums)]
    return quorums + tuple(q for q in extra if q not in quorums)


def _sub_seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])


def _row(model: str, vis: Visibility) -> dict[str, Any]:
    n, r, w = vis.nodes, vis.read_quorum, vis.write_quorum
    row: dict[str, Any] = {
        "model": model, "variant": quorum_label(n, r, w), "nodes": n, "read_quorum": r,
        "write_quorum": w, "strict": r + w > n,
        "consistent_at_0": vis.consistent_probability(0.0),
        "closed_form_at_0": 1.0 - stale_read_probability(nodes=n, read_quorum=r, write_quorum=w),
        "t_999_s": vis.t_for(0.999) * _MS,
    }  # fmt: skip
    for side, values in (("write", vis.write_latencies), ("read", vis.read_latencies)):
        for name, q in PERCENTILES.items():
            row[f"{side}_{name}_s"] = float(np.quantile(values, q)) * _MS
    return row


class RunCache:
    """Monte Carlo runs of :func:`pbs_staleness` kept for its later calls (``cache=``): the WARS
    draws of the last ``draws`` (model, N, trials, seed), and the last ``runs`` quorums evaluated
    on them and k-staleness runs. A call answered from it returns what it would have computed
    (the same draws, the same numbers): an explorer moving R or W evaluates only the new quorum.

    >>> cache = RunCache()
    >>> first = pbs_staleness(["YMMR"], quorums=[(3, 1, 1)], trials=5000, cache=cache)
    >>> again = pbs_staleness(["YMMR"], quorums=[(3, 2, 1)], trials=5000, cache=cache)
    >>> cache.hits  # the draws of N = 3 (twice), the strict quorum's run and its k-staleness
    4
    """

    def __init__(self, draws: int = 2, runs: int = 256) -> None:
        self.draws = check_int("draws", draws, 1, 1000)
        self.runs = check_int("runs", runs, 1, 100_000)
        self.hits = 0
        self._draws: OrderedDict[Hashable, Any] = OrderedDict()
        self._runs: OrderedDict[Hashable, Any] = OrderedDict()

    def _get(self, kept: OrderedDict, size: int, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in kept:
            kept.move_to_end(key)
            self.hits += 1
            return kept[key]
        kept[key] = value = compute()
        if len(kept) > size:
            kept.popitem(last=False)
        return value

    def run(self, model: str, quorum: tuple, trials: int, seed: int) -> dict[str, Any]:
        """``{"row": ..., "vis": ...}`` of ``quorum`` (N, R, W) on the draws of ``seed``."""
        nodes, r, w = quorum

        def draws() -> Any:
            return wars_draws(model, nodes=nodes, trials=trials, seed=seed)

        def evaluate() -> dict[str, Any]:
            key = (model, nodes, trials, seed)
            vis = self._get(self._draws, self.draws, key, draws).visibility(r, w)
            return {"row": _row(model, vis), "vis": vis}

        found = self._get(self._runs, self.runs, ("run", model, *quorum, trials, seed), evaluate)
        return {"row": dict(found["row"]), "vis": found["vis"]}

    def k_stale(self, k_max: int, quorum: tuple, trials: int, seed: int) -> np.ndarray:
        """:func:`~distlab.pbs.k_stale_monte_carlo` of ``quorum`` (N, R, W), kept."""
        n, r, w = quorum

        def compute() -> np.ndarray:
            return k_stale_monte_carlo(k_max, nodes=n, read_quorum=r, write_quorum=w,
                                       trials=trials, seed=seed)  # fmt: skip

        return self._get(self._runs, self.runs, ("k", k_max, *quorum, trials, seed), compute).copy()


def _runs(model: str, quorums: tuple, trials: int, seed: int, cache: RunCache | None) -> list:
    """One run per quorum, in the order given; the quorums of one N share their WARS draws."""
    if cache is not None:
        return [cache.run(model, q, trials, _sub_seed(seed, 0, q[0])) for q in quorums]
    found = {}
    for nodes in dict.fromkeys(q[0] for q in quorums):
        pairs = [(r, w) for n, r, w in quorums if n == nodes]
        runs = t_visibility_quorums(model, nodes=nodes, quorums=pairs, trials=trials,
                                    seed=_sub_seed(seed, 0, nodes))  # fmt: skip
        found.update({(nodes, *pair): vis for pair, vis in runs.items()})
    return [{"row": _row(model, found[q]), "vis": found[q]} for q in quorums]


def _curves(model: str, runs: list[dict], points: int) -> pd.DataFrame:
    """The runs' curves on one grid: 0, then ``points - 1`` times spaced evenly on a log scale
    up to 1.5 times the latest t for 99.9 % (at least 1 ms)."""
    horizon_ms = max(1.0, 1.5 * max(run["row"]["t_999_s"] / _MS for run in runs))
    grid_ms = np.concatenate([[0.0], np.geomspace(horizon_ms / 1e4, horizon_ms, points - 1)])
    parts = []
    for run in runs:
        row = run["row"]
        parts.append(
            pd.DataFrame({
                "model": model, "variant": row["variant"], "nodes": row["nodes"],
                "read_quorum": row["read_quorum"], "write_quorum": row["write_quorum"],
                "t_s": grid_ms * _MS,
                "consistent": run["vis"].consistent_probability(grid_ms),
                "closed_form": row["closed_form_at_0"],
            })
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _summary(rows: list[dict]) -> pd.DataFrame:
    summary = pd.DataFrame(rows).set_index(["model", "variant"])
    total = summary["write_p999_s"] + summary["read_p999_s"]
    base = [
        total.loc[(m, quorum_label(n, n // 2 + 1, n // 2 + 1))]
        for m, n in zip(summary.index.get_level_values("model"), summary["nodes"])
    ]
    summary["saved_p999_s"] = np.asarray(base) - total.to_numpy()
    paper = [
        PAPER[m] if m in PAPER and (n, r, w) == (3, 1, 1) else None
        for m, n, r, w in zip(
            summary.index.get_level_values("model"), summary["nodes"], summary["read_quorum"],
            summary["write_quorum"],
        )
    ]  # fmt: skip
    summary["paper_consistent_at_0"] = [p.consistent_at_0 if p else np.nan for p in paper]
    summary["paper_t_999_s"] = [p.t_999_ms * _MS if p else np.nan for p in paper]
    return summary


def _k_staleness(
    quorums: tuple, k_max: int, trials: int, seed: int, cache: RunCache | None
) -> pd.DataFrame:
    parts = []
    for i, (n, r, w) in enumerate(quorums):
        ks = np.arange(1, k_max + 1)
        if cache is not None:
            mc = cache.k_stale(k_max, (n, r, w), trials, _sub_seed(seed, 1, i))
        else:
            mc = k_stale_monte_carlo(k_max, nodes=n, read_quorum=r, write_quorum=w,
                                     trials=trials, seed=_sub_seed(seed, 1, i))  # fmt: skip
        closed = [k_stale_probability(int(k), nodes=n, read_quorum=r, write_quorum=w) for k in ks]
        parts.append(
            pd.DataFrame({
                "variant": quorum_label(n, r, w), "nodes": n, "read_quorum": r,
                "write_quorum": w, "k": ks, "closed_form": closed, "monte_carlo": mc,
            })
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def pbs_staleness(
    models: Sequence[str] = tuple(PRESETS),
    *,
    quorums: Sequence[tuple[int, int, int]] = ((3, 1, 1), (3, 1, 2), (3, 2, 1)),
    trials: int = 100_000,
    points: int = 121,
    k_max: int = 6,
    seed: int = 0,
    cache: RunCache | None = None,
) -> StalenessResult:
    """t-visibility, k-staleness and latency for each latency preset in ``models`` (names of
    :data:`distlab.pbs.PRESETS`) and each ``(N, R, W)`` in ``quorums``, plus the strict
    majority quorum of each N. See :class:`StalenessResult` and the module's docstring.

    Each Monte Carlo run has ``trials`` trials; the quorums of one N are evaluated on the
    same WARS draws (their seed drawn from ``seed`` and N), so their latencies and
    staleness compare without the noise of separate draws;
    ``points`` is the number of times on each curve, ``k_max`` the largest k. A
    :class:`RunCache` given as ``cache`` keeps the Monte Carlo runs for later calls (the result
    is the same with or without it).

    >>> r = pbs_staleness(["LNKD-SSD"], quorums=[(3, 1, 1)], trials=20_000, k_max=2)
    >>> r.summary["strict"].tolist(), r.k_staleness["closed_form"].round(3).tolist()
    ([False, True], [0.667, 0.444, 0.0, 0.0])
    """
    models = _models(models)
    quorums = _with_baselines(_quorums(quorums))
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    points = check_int("points", points, 2, 10_000)
    k_max = check_int("k_max", k_max, 1, 100)
    seed = check_seed(seed)
    if cache is not None and not isinstance(cache, RunCache):
        raise TypeError(f"cache={cache!r} must be a RunCache or None")
    runs = len(models) * len(quorums)
    check_work("trials", trials * runs, MAX_TRIALS,
               f"trials={trials:,} x {runs} (model, quorum) runs")  # fmt: skip
    check_work("k-staleness draws", trials * k_max * len(quorums), MAX_TRIALS * 10,
               f"trials={trials:,} x k_max={k_max} x {len(quorums)} quorums")  # fmt: skip
    curves, rows = [], []
    for model in models:
        done = _runs(model, quorums, trials, seed, cache)
        curves.append(_curves(model, done, points))
        rows += [run["row"] for run in done]
    params = plain_params(models=models, quorums=quorums, trials=trials, points=points,
                          k_max=k_max, seed=seed)  # fmt: skip
    return StalenessResult(
        pd.concat(curves, ignore_index=True),
        _summary(rows),
        params,
        _k_staleness(quorums, k_max, trials, seed, cache),
    )
