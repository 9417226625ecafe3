"""The leaderless store against PBS: the SimPy quorum store, run with a WARS latency model,
agrees with :mod:`distlab.pbs`'s Monte Carlo (issue 11).

:func:`quorum_visibility` writes a fresh key once per trial through a ``"leaderless"`` store
(``n`` replicas, quorums ``r``/``w``, no read repair, no anti-entropy) and reads it ``t`` after
the write committed, for each ``t`` of ``times_ms``. The coordinators are store nodes outside the
key's preference list (as in WARS, where no replica answers for free), one for writes and one for
reads, and every link carries one WARS part: write coordinator -> replica W, replica -> write
coordinator A, read coordinator -> replica R, replica -> read coordinator S. The client sits at
both coordinators (links of zero latency), so it hears of the commit when it happens and its read
reaches the read coordinator ``t`` later. PBS's milliseconds become the simulation's seconds
times 1e-3 (:func:`sim_latency`). The share of reads that return the value written is compared,
at each ``t``, with :func:`distlab.pbs.t_visibility` on the same model.

>>> res = quorum_visibility("LNKD-DISK", times_ms=(0.0, 20.0), trials=300, mc_trials=20_000)
>>> res.summary[["sim_p", "mc_p"]].round(2).to_dict("list")
{'sim_p': [0.49, 0.99], 'mc_p': [0.44, 0.99]}
>>> bool(res.summary["agrees"].all())
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from distlab import pbs
from distlab._validate import check_choice, check_int, check_number, check_seed
from distlab.experiments.result import Result, plain_params
from distlab.experiments.scenario import check_work
from distlab.sim import Exponential, Mixture, Network, Pareto, ReplicatedStore, World
from distlab.sim.distributions import Distribution

__all__ = [
    "CURVE_POINTS",
    "MODELS",
    "QuorumVisibilityResult",
    "Z_TOLERANCE",
    "quorum_visibility",
    "sim_latency",
]

#: The latency models (milliseconds) :func:`quorum_visibility` takes: the PBS presets and
#: ``"exponential"`` (every one-way delay exponential with a mean of 1 ms).
MODELS: Mapping[str, pbs.WARS] = {
    **pbs.PRESETS,
    "exponential": pbs.WARS(*(Exponential(1.0),) * 4, name="exponential"),
}
#: The simulation and the Monte Carlo agree at a time when their shares differ by less than
#: this many standard errors of the difference.
Z_TOLERANCE = 4.0
#: How many points :attr:`QuorumVisibilityResult.curve` has.
CURVE_POINTS = 201
#: Most simulated trials times read times per run.
MAX_READS = 400_000
_MS = 1e-3


def sim_latency(part: Any) -> Distribution:
    """One WARS part (milliseconds: a :class:`distlab.pbs.LatencyMix` or an exponential) as a
    :mod:`distlab.sim` distribution in seconds.

    >>> sim_latency(pbs.PRESETS["LNKD-SSD"].w)
    Mixture([(0.9122, Pareto(scale=0.000235, alpha=10)), (0.0878, Exponential(mean=0.00060241))])
    """
    if isinstance(part, pbs.LatencyMix):
        return Mixture(
            [
                (part.pareto_weight, Pareto(scale=part.xm * _MS, alpha=part.alpha)),
                (1 - part.pareto_weight, Exponential(_MS / part.rate)),
            ]
        )
    if isinstance(part, Exponential):
        return Exponential(part.mean * _MS)
    raise TypeError(f"part={part!r} must be a LatencyMix or an Exponential (milliseconds)")


@dataclass(frozen=True)
class QuorumVisibilityResult(Result):
    """What :func:`quorum_visibility` returns.

    ``frame``: one row per simulated read: ``trial``, ``t_ms``, ``commit_ms`` (the write's
    latency to its commit), ``consistent`` (the read returned the value written) and ``outcome``.
    ``summary``: one row per ``t_ms``: ``reads``, ``sim_p`` and ``sim_se`` (the simulation's
    share of consistent reads and its standard error), ``mc_p`` and ``mc_se`` (the Monte
    Carlo's, from ``mc_trials`` trials), ``z`` (the difference in standard errors of the
    difference) and ``agrees`` (``|z| < Z_TOLERANCE``).
    ``curve``: the Monte Carlo's t-visibility curve for the figure, :data:`CURVE_POINTS` rows
    ``t_ms``, ``mc_p`` from 0 to the last of ``times_ms``.
    """

    curve: pd.DataFrame


def _check(model, times_ms, n, r, w, trials, mc_trials, seed) -> dict[str, Any]:
    model = check_choice("model", model, MODELS)
    if isinstance(times_ms, (str, bytes)) or not hasattr(times_ms, "__iter__"):
        raise TypeError(f"times_ms={times_ms!r} must be a sequence of times (ms)")
    times = tuple(check_number("times_ms", t, 0.0, 60_000.0) for t in times_ms)
    if not 1 <= len(times) <= 50 or len(set(times)) != len(times):
        raise ValueError(f"times_ms={times_ms!r} must hold 1 to 50 distinct times")
    n = check_int("n", n, 1, 10)
    for name, value in (("r", r), ("w", w)):
        if not 1 <= check_int(name, value) <= n:
            raise ValueError(f"{name}={value} must be between 1 and n={n}")
    trials = check_int("trials", trials, 1)
    asked = f"trials={trials} at {len(times)} times_ms"
    check_work("simulated reads", trials * len(times), MAX_READS, asked)
    mc_trials = check_int("mc_trials", mc_trials, 1, pbs.MAX_TRIALS)
    return dict(
        model=model, times_ms=times, n=n, r=int(r), w=int(w), trials=trials,
        mc_trials=mc_trials, seed=check_seed(seed),
    )  # fmt: skip


def quorum_visibility(
    model: str = "LNKD-DISK",
    *,
    times_ms: Any = (0.0, 1.0, 5.0, 10.0, 20.0, 50.0),
    n: int = 3,
    r: int = 1,
    w: int = 1,
    trials: int = 1000,
    mc_trials: int = 200_000,
    seed: int = 0,
) -> QuorumVisibilityResult:
    """Simulate write-then-read-after-t on the leaderless store and compare with the WARS Monte
    Carlo (see the module docstring). ``model``: a name of :data:`MODELS`; ``times_ms``: the
    read times after the commit (ms); ``n``, ``r``, ``w``: the quorums; ``trials``: simulated
    writes (each read at every time); ``mc_trials``: Monte Carlo trials.

    >>> res = quorum_visibility("exponential", times_ms=(0.0,), trials=200, mc_trials=10_000)
    >>> res.summary.loc[0.0, ["sim_p", "mc_p"]].round(2).tolist()
    [0.75, 0.75]
    """
    p = _check(model, times_ms, n, r, w, trials, mc_trials, seed)
    rows = _simulate(MODELS[model], p)
    frame = pd.DataFrame(
        rows, columns=["trial", "t_ms", "commit_ms", "consistent", "outcome"]
    ).sort_values(["trial", "t_ms"], ignore_index=True)
    vis = pbs.t_visibility(
        MODELS[model], nodes=n, read_quorum=r, write_quorum=w, trials=mc_trials, seed=p["seed"]
    )
    summary = _compare(frame, vis, p["times_ms"], mc_trials)
    grid = np.linspace(0.0, max(p["times_ms"]), CURVE_POINTS)
    curve = pd.DataFrame({"t_ms": grid, "mc_p": vis.consistent_probability(grid)})
    return QuorumVisibilityResult(
        frame=frame, summary=summary, params=plain_params(**p), curve=curve
    )


def _simulate(model: pbs.WARS, p: dict[str, Any]) -> list[tuple]:
    n, trials, times = p["n"], p["trials"], p["times_ms"]
    world = World(seed=p["seed"])
    net = Network(world, latency=0.0)
    replicas = [f"n{i}" for i in range(1, n + 1)]
    store = ReplicatedStore(
        net, "leaderless", [*replicas, "cw", "cr"], n=n, r=p["r"], w=p["w"],
        read_repair=False, anti_entropy_s=0, phase_timeout_s=3600.0,
    )  # fmt: skip
    for replica in replicas:
        for coord, out, back in (("cw", model.w, model.a), ("cr", model.r, model.s)):
            net.set_link(coord, replica, latency=sim_latency(out), symmetric=False)
            net.set_link(replica, coord, latency=sim_latency(back), symmetric=False)
    store.attach_client("c", "cw")
    keys = _keys(store.protocol, replicas[0], trials)
    rows: list[tuple] = []
    env = world.env

    def trial(i: int, key: str):
        write = yield store.request("c", "write", key, value=i, timeout_s=7200.0)
        commit = write.end

        def read(t_ms: float):
            yield env.timeout(t_ms * _MS)
            res = yield store.request("c", "read", key, node="cr", timeout_s=7200.0)
            ok = res.result == i
            rows.append((i, t_ms, (commit - write.start) / _MS, ok, res.outcome))

        for t_ms in times:
            env.process(read(t_ms))

    for i, key in enumerate(keys):
        env.process(trial(i, key))
    world.run()
    return rows


def _keys(protocol: Any, first: str, count: int) -> list[str]:
    """``count`` keys whose preference list starts at ``first`` (the replicas, in order)."""
    keys, i = [], 0
    while len(keys) < count:
        key = f"k{i}"
        if protocol.preference_list(key)[0] == first:
            keys.append(key)
        i += 1
    return keys


def _compare(frame: pd.DataFrame, vis: pbs.Visibility, times, mc_trials: int) -> pd.DataFrame:
    rows = []
    for t_ms in times:
        hits = frame.loc[frame["t_ms"] == t_ms, "consistent"]
        reads = len(hits)
        sim_p = float(hits.mean())
        mc_p = float(vis.consistent_probability(t_ms))
        # the variance of a share, floored at half a count so that p = 1 still has an error
        var = max(mc_p * (1 - mc_p), 0.5 / reads)
        sim_se = math.sqrt(var / reads)
        mc_se = math.sqrt(var / mc_trials)
        z = (sim_p - mc_p) / math.sqrt(sim_se**2 + mc_se**2)
        rows.append(
            dict(
                t_ms=t_ms,
                reads=reads,
                sim_p=sim_p,
                sim_se=sim_se,
                mc_p=mc_p,
                mc_se=mc_se,
                z=z,
                agrees=bool(abs(z) < Z_TOLERANCE),
            )  # fmt: skip
        )
    return pd.DataFrame(rows).set_index("t_ms")
