"""Figures for distlab: pandas DataFrame in, :class:`matplotlib.figure.Figure` out.

Pure functions: they never run a simulation, and they build figures without pyplot, so nothing is
kept in pyplot's global registry and any backend (or none) works. Every figure uses the shared
style of :mod:`distlab.plots.style`: one Okabe-Ito colour per outcome everywhere, states shaded
as bands, a title, axis labels with units and a legend.

>>> from distlab.plots import message_sequence, call_timeline, latency_distribution
>>> fig = message_sequence(world.events(), title="Two nodes, loss=0.2")  # doctest: +SKIP
>>> fig.savefig("sequence.png")  # doctest: +SKIP
"""

from distlab.plots import breakers  # noqa: F401 - plots.breakers.<figure>, as the notebooks write
from distlab.plots.breakers import (
    breaker_retry_figure,
    breaker_timeline,
    half_open_figure,
    state_diagram,
    with_and_without_figure,
)
from distlab.plots.calls import call_timeline, latency_distribution
from distlab.plots.cap import cap_timeline, history_intervals, tradeoff_figure, use_case_figure
from distlab.plots.challenges import (
    ambiguity_figure,
    clock_order_figure,
    partial_failure_figure,
    write_race_figure,
)
from distlab.plots.clocks import hlc_drift_figure, lww_loss_figure, space_time_figure
from distlab.plots.consistency import (
    cart_figure,
    counter_figure,
    k_staleness_figure,
    latency_tradeoff_figure,
    pbs_figure,
    visibility_figure,
)
from distlab.plots.display import figure_png, register_ipython_formatter
from distlab.plots.network import exchange_figure
from distlab.plots.quorums import convergence_figure, lost_updates_figure, quorum_agreement_figure
from distlab.plots.replication import failover_cost_figure, replication_timeline
from distlab.plots.retries import (
    amplification_figure,
    backoff_figure,
    budget_figure,
    contention_figure,
    contention_run_figure,
    idempotency_figure,
    retry_timeline,
    storm_figure,
)
from distlab.plots.sagas import end_states_figure, saga_timeline
from distlab.plots.sequence import message_sequence
from distlab.plots.sessions import guarantee_price_figure, ryw_rate_figure, session_timeline
from distlab.plots.style import (
    DROP_COLORS,
    END_STATE_COLORS,
    OKABE_ITO,
    OUTCOME_COLORS,
    OUTCOME_ORDER,
    STATE_COLORS,
    STRATEGY_STYLES,
    band_color,
    finish,
    new_figure,
    outcome_color,
    plain_log_scale,
    shade_bands,
    strategy_style,
)

__all__ = [
    "DROP_COLORS",
    "OKABE_ITO",
    "OUTCOME_COLORS",
    "OUTCOME_ORDER",
    "STATE_COLORS",
    "STRATEGY_STYLES",
    "ambiguity_figure",
    "amplification_figure",
    "backoff_figure",
    "band_color",
    "breaker_retry_figure",
    "breaker_timeline",
    "budget_figure",
    "call_timeline",
    "cap_timeline",
    "clock_order_figure",
    "contention_figure",
    "contention_run_figure",
    "exchange_figure",
    "figure_png",
    "half_open_figure",
    "history_intervals",
    "finish",
    "idempotency_figure",
    "latency_distribution",
    "message_sequence",
    "new_figure",
    "outcome_color",
    "partial_failure_figure",
    "plain_log_scale",
    "register_ipython_formatter",
    "retry_timeline",
    "shade_bands",
    "state_diagram",
    "storm_figure",
    "with_and_without_figure",
    "strategy_style",
    "tradeoff_figure",
    "use_case_figure",
    "write_race_figure",
    "END_STATE_COLORS",
    "end_states_figure",
    "saga_timeline",
    "space_time_figure",
    "lww_loss_figure",
    "hlc_drift_figure",
    "replication_timeline",
    "failover_cost_figure",
    "visibility_figure",
    "k_staleness_figure",
    "latency_tradeoff_figure",
    "pbs_figure",
    "cart_figure",
    "counter_figure",
    "ryw_rate_figure",
    "guarantee_price_figure",
    "session_timeline",
    "quorum_agreement_figure",
    "convergence_figure",
    "lost_updates_figure",
]

register_ipython_formatter()
