"""Figures of the leaderless store (notebook 05, issue 11): the simulated store against the PBS
Monte Carlo, the time to converge after a heal against the anti-entropy period, and the updates
last-writer-wins loses against siblings.

Each takes the result of its experiment in :mod:`distlab.experiments.quorums` or
:mod:`distlab.experiments.convergence`, or a list of them (several models, several seeds, or a
sweep of one parameter):

>>> from distlab.experiments import quorums, convergence
>>> fig = quorum_agreement_figure(quorums.quorum_visibility(trials=100, mc_trials=10_000))
>>> fig = convergence_figure(convergence.anti_entropy_convergence((0.1, 0.0), partition_s=0.5))
>>> fig = lost_updates_figure([convergence.lost_updates(clients=c, adds=3) for c in (2, 4)])
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from distlab.plots.style import OKABE_ITO, check_result, check_title, finish, new_figure

__all__ = ["convergence_figure", "lost_updates_figure", "quorum_agreement_figure"]

_GREY = "#555555"
_BLUE, _GREEN, _RED = OKABE_ITO["blue"], OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"]


def _results(param: str, value: Any, fields: tuple[str, ...], what: str) -> list:
    """``value`` (one result or a non-empty list of them) as a list, each checked."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"{param}=[] must hold at least one result of {what}")
    for item in items:
        check_result(param, item, fields, what=what)
    return items


def _same_params(param: str, results: list, free: tuple[str, ...]) -> None:
    """Every result was run with the same parameters, except those in ``free``."""
    first = {k: v for k, v in results[0].params.items() if k not in free}
    for other in results[1:]:
        theirs = {k: v for k, v in other.params.items() if k not in free}
        if theirs != first:
            differ = sorted(k for k in first.keys() | theirs.keys()
                            if first.get(k) != theirs.get(k))  # fmt: skip
            raise ValueError(
                f"{param}: the results differ in {differ}; only {list(free)} may differ"
            )


# -- the simulated store against the Monte Carlo --------------------------------------------------


def quorum_agreement_figure(result, *, title: str | None = None) -> Figure:
    """The simulated store's share of consistent reads at each read time ``t`` (points, with
    error bars of ± 2 standard errors) on the Monte Carlo's t-visibility curve for the same
    latency model (line), one panel per model. ``result``: what
    :func:`~distlab.experiments.quorums.quorum_visibility` returns, or a list of them (one per
    model). A point whose difference from the Monte Carlo exceeds the experiment's tolerance is
    drawn hollow and red, and the subtitle counts them.

    >>> from distlab.experiments.quorums import quorum_visibility
    >>> res = quorum_visibility("exponential", times_ms=(0.0, 2.0), trials=100, mc_trials=5000)
    >>> fig = quorum_agreement_figure(res)
    >>> fig.axes[0].texts[0].get_text()
    'exponential'
    """
    results = _results("result", result, ("frame", "summary", "curve", "params"),
                       "quorum_visibility()")  # fmt: skip
    check_title(title)
    models = [r.params["model"] for r in results]
    if len(set(models)) != len(models):
        raise ValueError(f"result: the list names a model twice ({models}); give one per model")
    fig, axes = new_figure(1, len(results), figsize=(4.2 * len(results) + 2.4, 3.9), sharey=True)
    axes = axes if isinstance(axes, list) else [axes]
    off, points = 0, 0
    for ax, res in zip(axes, results):
        s = res.summary.reset_index()
        ax.plot(res.curve["t_ms"], res.curve["mc_p"], color=_BLUE, linewidth=1.6,
                label="Monte Carlo (WARS)")  # fmt: skip
        for agrees, face, color, label in (
            (True, _GREEN, "black", "simulated store ± 2 se"),
            (False, "white", _RED, "simulated, disagrees"),
        ):
            rows = s[s["agrees"] == agrees]
            if len(rows):
                ax.errorbar(rows["t_ms"], rows["sim_p"], yerr=2 * rows["sim_se"], fmt="o",
                            markersize=5, color=color, markerfacecolor=face, ecolor=color,
                            elinewidth=1, capsize=3, zorder=3, label=label)  # fmt: skip
        off += int((~s["agrees"]).sum())
        points += len(s)
        ax.text(0.97, 0.05, res.params["model"], transform=ax.transAxes, ha="right",
                fontsize=10, color="#333333")  # fmt: skip
        ax.set_xlabel("read time after the commit (ms)")
    p = results[0].params
    subtitle = (
        f"N={p['n']} R={p['r']} W={p['w']}, {p['trials']:,} simulated writes per point, "
        f"{p['mc_trials']:,} Monte Carlo trials; {points - off} of {points} points agree"
    )
    return finish(fig, axes[0], title=title or "The simulated quorum store against PBS",
                  subtitle=subtitle, ylabel="share of reads that see the write")  # fmt: skip


# -- convergence after the heal ----------------------------------------------------------------


def _convergence_table(results: list) -> pd.DataFrame:
    frames = [r.frame.assign(seed=r.params["seed"]) for r in results]
    return pd.concat(frames, ignore_index=True)


def convergence_figure(result, *, title: str | None = None) -> Figure:
    """Time from the heal until every replica agrees, against the anti-entropy period (log
    axes), one point per run; with several seeds (a list of results differing only in
    ``seed``), the median of the runs that converged as a line. Runs that never converged
    within the horizon (anti-entropy off, or too slow) are drawn on a "never" row above the
    plot, in red: eventual consistency has no bound without a mechanism that provides one. The
    dotted line is one anti-entropy period. ``result``: what
    :func:`~distlab.experiments.convergence.anti_entropy_convergence` returns, or a list.

    >>> from distlab.experiments.convergence import anti_entropy_convergence
    >>> fig = convergence_figure(anti_entropy_convergence((0.2, 0.0), partition_s=0.5))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()][-1]
    'off'
    """
    results = _results("result", result, ("frame", "summary", "params"),
                       "anti_entropy_convergence()")  # fmt: skip
    check_title(title)
    _same_params("result", results, ("seed",))
    table = _convergence_table(results)
    periods = sorted(p for p in table["anti_entropy_s"].unique() if p > 0)
    x_off = periods[-1] * 2.5 if periods else 1.0
    xs = {p: p for p in periods} | {0.0: x_off}
    table["x"] = table["anti_entropy_s"].map(xs)
    done = table[table["converged"]]
    never = table[~table["converged"]]
    fig, ax = new_figure(figsize=(8.6, 4.2))
    ax.set_xscale("log")
    ax.set_yscale("log")
    low = float(done["converge_s"].min()) if len(done) else 0.01
    top = max(float(done["converge_s"].max()) if len(done) else 1.0, max(periods, default=1.0))
    y_never = top * 3
    if periods:
        ax.plot(periods, periods, ":", color=_GREY, linewidth=1, label="one anti-entropy period")
    ax.scatter(done["x"], done["converge_s"], s=26, color=_BLUE, zorder=3, alpha=0.8,
               label="a run (seed)" if len(results) > 1 else "time to converge")  # fmt: skip
    if len(results) > 1 and len(done):
        median = done.groupby("anti_entropy_s")["converge_s"].median()
        ax.plot(median.index, median.to_numpy(), color=_BLUE, linewidth=1.6,
                label="median of the runs that converged")  # fmt: skip
    if len(never):
        ax.scatter(never["x"], [y_never] * len(never), marker="X", s=60, color=_RED, zorder=3,
                   label=f"never (within {results[0].params['horizon_s']:g} s)")  # fmt: skip
        ax.axhline(y_never / 1.6, color="#bbbbbb", linewidth=0.8)
    row = [y_never] if len(never) else []
    ax.set_ylim(min(low, min(periods, default=low)) / 2, y_never * (1.8 if row else 0.6))
    bottom = ax.get_ylim()[0]
    yticks = [t for t in (0.001, 0.01, 0.1, 1, 10, 100, 1000) if bottom <= t < y_never / 1.6]
    ax.set_yticks([*yticks, *row], [f"{t:g}" for t in yticks] + ["never"] * len(row))
    off = [x_off] if (table["anti_entropy_s"] == 0).any() else []
    ax.set_xticks([*periods, *off], [f"{p:g}" for p in periods] + ["off"] * len(off))
    ax.xaxis.set_minor_locator(_null())
    ax.yaxis.set_minor_locator(_null())
    p = results[0].params
    runs = f"{len(results)} seeds" if len(results) > 1 else f"seed {p['seed']}"
    subtitle = (
        f"{p['nodes']} replicas, R = W = 1, no read repair; partition of "
        f"{p['partition_s']:g} s with {p['writes_per_s']:g} writes/s per side; {runs}"
    )
    return finish(fig, ax, title=title or "How long the replicas take to agree after the heal",
                  subtitle=subtitle, xlabel="anti-entropy period (s, log)",
                  ylabel="time to converge (s, log)")  # fmt: skip


def _null():
    from matplotlib.ticker import NullLocator

    return NullLocator()


# -- lost updates --------------------------------------------------------------------------------

_SWEPT = ("partition_s", "clients")
_MODE_STYLE = {"lww": (_RED, "last-writer-wins"),
               "siblings": (_GREEN, "siblings (version vectors), merged by union"),
               "crdt": (_BLUE, "a CRDT (OR-set) merged by the store")}  # fmt: skip


def _swept(results: list, x: str | None) -> str:
    if x is not None:
        if x not in _SWEPT:
            raise ValueError(f"x={x!r} must be one of {list(_SWEPT)} or None")
        return x
    varying = [k for k in _SWEPT if len({r.params[k] for r in results}) > 1]
    if len(varying) > 1:
        raise ValueError(f"result: the results vary both {varying}; sweep one of them")
    return varying[0] if varying else "partition_s"


def lost_updates_figure(result, *, x: str | None = None, title: str | None = None) -> Figure:
    """The share of acknowledged adds missing from the final cart under last-writer-wins and
    under siblings, against the partition length or the number of clients: one point per run,
    a line through the mean at each x. ``result``: what
    :func:`~distlab.experiments.convergence.lost_updates` returns, or a list of them differing
    in ``partition_s`` or ``clients`` (``x``, found from the list if None) and in ``seed``.

    >>> from distlab.experiments.convergence import lost_updates
    >>> fig = lost_updates_figure([lost_updates(adds=3, partition_s=s) for s in (0.0, 0.5)])
    >>> fig.axes[0].get_xlabel()
    'partition length (s)'
    """
    results = _results("result", result, ("frame", "summary", "params"), "lost_updates()")
    check_title(title)
    x = _swept(results, x)
    _same_params("result", results, (x, "seed"))
    rows = [dict(s, variant=v, x=r.params[x]) for r in results
            for v, s in r.summary.to_dict("index").items()]  # fmt: skip
    table = pd.DataFrame(rows)
    fig, ax = new_figure(figsize=(8.6, 4.0))
    for mode in dict.fromkeys(table["variant"]):
        color, label = _MODE_STYLE.get(mode, (_GREY, mode))
        runs = table[table["variant"] == mode]
        mean = runs.groupby("x")["lost_share"].mean()
        ax.plot(mean.index, mean.to_numpy() * 100, "-", color=color, linewidth=1.6, label=label)
        ax.scatter(runs["x"], runs["lost_share"] * 100, s=24, color=color, zorder=3)
        for xi, share in mean.items():
            at = runs[runs["x"] == xi]
            text = f"{at['lost'].mean():.3g} of {at['adds_acked'].mean():.3g}"
            # beside the mean, to its right: the seeds' dots sit at the same x, above and below
            ax.annotate(text, (xi, share * 100), fontsize=7, color=color, ha="left",
                        va="center", xytext=(7, 0), textcoords="offset points", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", facecolor="white",
                                  edgecolor="none", alpha=0.85))  # fmt: skip
    ax.set_ylim(-3, max(10.0, float(table["lost_share"].max()) * 100 * 1.15))
    ax.set_xticks(sorted(table["x"].unique()))
    ax.margins(x=0.12)
    p = results[0].params
    fixed = (f"{p['clients']} clients" if x == "partition_s"
             else f"a partition of {p['partition_s']:g} s")  # fmt: skip
    seeds = len({r.params["seed"] for r in results})
    subtitle = (f"{fixed}, {p['adds']} adds each, R = W = 1 on {p['nodes']} nodes; "
                f"labels: adds lost of acknowledged; {seeds} seed{'s' * (seeds > 1)}")  # fmt: skip
    xlabel = "partition length (s)" if x == "partition_s" else "concurrent clients"
    return finish(
        fig,
        ax,
        title=title or "Acknowledged adds lost from the cart",
        subtitle=subtitle,
        xlabel=xlabel,
        ylabel="lost (% of acknowledged adds)",
    )
