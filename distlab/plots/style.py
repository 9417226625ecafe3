"""The shared look of every distlab figure: palette, outcome and state colours, bands, layout.

One colour means one outcome in every notebook (Okabe-Ito, safe for colour-blind readers; the
words and colours are :mod:`distlab.outcomes`), and states such as a partition, a crashed node or
an OPEN breaker are translucent bands behind the events. Colours are looked up by exact word: an
outcome or a state that is not one of the project's words is a ``ValueError``, never a grey
guess. Figures are built with :class:`matplotlib.figure.Figure` directly, never with pyplot, so
nothing is kept in a global figure registry and no GUI backend is needed.

>>> fig, ax = new_figure()
>>> outcome_color("timeout"), band_color("OPEN")
('#E69F00', '#D55E00')
>>> fig = finish(fig, ax, title="Two calls", xlabel="call", ylabel="count")
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from distlab import outcomes
from distlab._validate import check_bool, check_frame

__all__ = [
    "DROP_COLORS",
    "END_STATE_COLORS",
    "OKABE_ITO",
    "OUTCOME_COLORS",
    "OUTCOME_ORDER",
    "QUIET_STATES",
    "STATE_COLORS",
    "STRATEGY_STYLES",
    "band_color",
    "check_figsize",
    "check_names",
    "check_result",
    "check_title",
    "finish",
    "new_figure",
    "outcome_color",
    "plain_log_scale",
    "shade_bands",
    "strategy_style",
]

#: The Okabe-Ito palette (:data:`distlab.outcomes.OKABE_ITO`), plus a neutral grey.
OKABE_ITO: dict[str, str] = outcomes.OKABE_ITO

#: Outcome -> colour (:data:`distlab.outcomes.COLORS`): the same in every figure.
OUTCOME_COLORS: dict[str, str] = outcomes.COLORS

#: Legend order for outcomes: successes first, then the ways things go wrong.
OUTCOME_ORDER: tuple[str, ...] = outcomes.ALL

#: State -> colour for the shaded bands behind events (breaker states, service health, network
#: faults). A band frame's ``state`` column holds exactly these keys.
STATE_COLORS: dict[str, str] = {
    "CLOSED": OKABE_ITO["bluish_green"],
    "OPEN": OKABE_ITO["vermillion"],
    "HALF_OPEN": OKABE_ITO["orange"],
    "up": OKABE_ITO["bluish_green"],
    "healed": OKABE_ITO["bluish_green"],
    "partitioned": OKABE_ITO["blue"],
    "down": OKABE_ITO["vermillion"],
    "crashed": OKABE_ITO["vermillion"],
    "slow": OKABE_ITO["orange"],
    "flaky": OKABE_ITO["reddish_purple"],
    "recovering": OKABE_ITO["sky_blue"],
    "loss_burst": OKABE_ITO["black"],
    "overloaded": OKABE_ITO["reddish_purple"],
}

#: How an order saga ended (:data:`distlab.sim.sagas.END_STATES`) -> colour, in every saga figure:
#: completed in the colour of ``ok``, cleanly compensated in blue, ``stuck`` (waiting, visibly,
#: for an operator) in reddish purple, ``half_done`` (PENDING forever, stock held: the course's
#: silent failure) in vermillion, ``inconsistent`` (cancelled but charged...) in black.
END_STATE_COLORS: dict[str, str] = {
    "completed": OKABE_ITO["bluish_green"],
    "compensated": OKABE_ITO["blue"],
    "stuck": OKABE_ITO["reddish_purple"],
    "half_done": OKABE_ITO["vermillion"],
    "inconsistent": OKABE_ITO["black"],
}

#: Band states that mean "nothing wrong": not shaded unless asked for.
QUIET_STATES: frozenset[str] = frozenset({"up", "healed"})

#: Why a message was dropped (the ``reason`` of a ``drop`` event) -> colour of its X in a
#: message-sequence diagram. A partition drop has the colour of the partition band, a
#: crashed-node drop the colour of the crashed band.
DROP_COLORS: dict[str, str] = {
    "loss": OUTCOME_COLORS[outcomes.DROPPED],
    "partition": STATE_COLORS["partitioned"],
    "crashed": STATE_COLORS["crashed"],
}

#: Retry strategy -> (colour, marker), the same in every figure that compares strategies. No jitter
#: is vermillion (the troublemaker), full jitter bluish green (the recommendation); markers make
#: the lines tell apart without colour too.
STRATEGY_STYLES: dict[str, tuple[str, str]] = {
    "none": (OKABE_ITO["black"], "x"),
    "constant": (OKABE_ITO["grey"], "s"),
    "exponential": (OKABE_ITO["vermillion"], "o"),
    "full": (OKABE_ITO["bluish_green"], "^"),
    "equal": (OKABE_ITO["sky_blue"], "v"),
    "decorrelated": (OKABE_ITO["reddish_purple"], "D"),
}


def strategy_style(name: str) -> tuple[str, str]:
    """(colour, marker) of a retry strategy; grey dots for one not in :data:`STRATEGY_STYLES`.

    >>> strategy_style("full")
    ('#009E73', '^')
    """
    return STRATEGY_STYLES.get(str(name), (OKABE_ITO["grey"], "."))


def outcome_color(word: str) -> str:
    """The colour of an outcome word of :mod:`distlab.outcomes` (``ValueError`` for any other).

    >>> outcome_color("ok") == outcome_color("delivered") == "#009E73"
    True
    >>> outcome_color("success")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: outcome='success' must be one of 'ok', 'error', 'timeout', ...
    """
    return outcomes.color(word)


def band_color(state: str) -> str:
    """The colour of a band in ``state``, an exact key of :data:`STATE_COLORS`.

    >>> band_color("HALF_OPEN") == STATE_COLORS["HALF_OPEN"]
    True
    >>> band_color("open")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: state='open' must be one of 'CLOSED', 'OPEN', 'HALF_OPEN', 'up', ...
    """
    if isinstance(state, str) and state in STATE_COLORS:
        return STATE_COLORS[state]
    allowed = ", ".join(repr(s) for s in STATE_COLORS)
    raise ValueError(f"state={state!r} must be one of {allowed}")


def check_result(name: str, value: object, fields: Iterable[str], *, what: str) -> object:
    """Return ``value`` if it has every one of ``fields`` (an experiment's result), else raise a
    ``TypeError`` naming ``name`` and ``what`` (the experiment whose result a figure draws).

    Plots never import experiments (layers), so a figure checks the result by its fields.

    >>> check_result("result", 42, ("frame", "summary"), what="clock_order()")
    Traceback (most recent call last):
    ...
    TypeError: result=int must be the result of clock_order() (with frame, summary)
    """
    fields = tuple(fields)
    if not all(hasattr(value, field) for field in fields):
        raise TypeError(
            f"{name}={type(value).__name__} must be the result of {what} (with {', '.join(fields)})"
        )
    return value


def check_title(title: object, *, param: str = "title") -> str | None:
    """Return ``title`` if it is a string or ``None``, else raise a ``TypeError`` naming it.

    >>> check_title(3)
    Traceback (most recent call last):
    ...
    TypeError: title=3 must be a string or None
    """
    if title is None or isinstance(title, str):
        return title
    raise TypeError(f"{param}={title!r} must be a string or None")


def check_names(param: str, names: object) -> list:
    """``names`` (node or lane names: strings or ints, each once) as a list, else a named error.

    >>> check_names("nodes", ["A", "B", "A"])
    Traceback (most recent call last):
    ...
    ValueError: nodes=['A', 'B', 'A'] names one twice
    """
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"{param}={names!r} must be a list of names, or None")
    for name in names:
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise TypeError(f"{param}={names!r} must be a list of names (strings)")
    if len(set(names)) != len(names):
        raise ValueError(f"{param}={list(names)!r} names one twice")
    return list(names)


def check_figsize(figsize: object) -> tuple[float, float] | None:
    """Return ``figsize`` as ``(width, height)`` in inches (each in (0, 50]), or ``None``.

    >>> check_figsize((9, 4))
    (9.0, 4.0)
    >>> check_figsize((9, 1e308))
    Traceback (most recent call last):
    ...
    ValueError: figsize=(9, 1e+308) must be (width, height) in inches, each in (0, 50]
    """
    if figsize is None:
        return None
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise TypeError(f"figsize={figsize!r} must be (width, height) in inches, or None")
    for size in figsize:
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            raise TypeError(f"figsize={figsize!r} must be (width, height) in inches, or None")
        if not 0 < size <= 50:  # also refuses NaN
            raise ValueError(
                f"figsize={tuple(figsize)!r} must be (width, height) in inches, each in (0, 50]"
            )
    return float(figsize[0]), float(figsize[1])


def shade_bands(
    ax: Axes,
    bands: pd.DataFrame | None,
    *,
    y: tuple[float, float] | None = None,
    until: float | None = None,
    alpha: float = 0.16,
    show_quiet: bool = False,
    zorder: float = 0.0,
) -> list[Rectangle]:
    """Shade time spans ``[start, end)`` of ``ax`` as translucent bands with legend entries.

    ``bands`` has columns ``start``, ``end`` (seconds) and ``state`` (an exact key of
    :data:`STATE_COLORS`, which gives the colour), and optionally ``label`` (the legend text;
    default: the state). A missing or infinite ``end`` means "until ``until``" (default: the
    right edge of the axes); with ``until``, bands are also cut there and those starting later
    are not drawn (nor listed in the legend). Bands in a quiet state (:data:`QUIET_STATES`) are
    skipped unless ``show_quiet``. With ``y=(low, high)`` (data coordinates) a band covers only
    that height, e.g. one node's line or one service's lane; otherwise the full height. Each
    label gets one legend entry; :func:`finish` also merges repeats across calls.

    >>> fig, ax = new_figure()
    >>> bands = pd.DataFrame({"start": [1.0], "end": [2.5], "state": ["partitioned"],
    ...                       "label": ["partition {A} | {B, C}"]})
    >>> [p.get_label() for p in shade_bands(ax, bands, until=3.0)]
    ['partition {A} | {B, C}']
    """
    show_quiet = check_bool("show_quiet", show_quiet)
    if bands is None:
        return []
    check_frame("bands", bands, ("start", "end", "state"))
    if len(bands) == 0:
        return []
    right = until if until is not None else ax.get_xlim()[1]
    left = ax.get_xlim()[0] if until is None else -math.inf
    labels = bands["label"] if "label" in bands.columns else bands["state"]
    patches: list[Rectangle] = []
    labelled: set[str] = set()
    for start, end, state, label in zip(bands["start"], bands["end"], bands["state"], labels):
        color = band_color(state)  # refuse an unknown state before drawing anything of it
        if not show_quiet and state in QUIET_STATES:
            continue
        label = (
            state if label is None or (isinstance(label, float) and math.isnan(label)) else label
        )
        label = str(label)
        span = _band_span(start, end, right=right, left=left, until=until)
        if span is None:
            continue  # empty, or entirely outside the time shown
        start, end = span
        legend_label = label if label not in labelled else "_nolegend_"
        labelled.add(label)
        common = dict(facecolor=color, alpha=alpha, linewidth=0, zorder=zorder, label=legend_label)
        patches.append(_band_patch(ax, start, end, y, common))
    _update_limits(ax, patches, y)
    return patches


def _band_patch(ax: Axes, start: float, end: float, y, common: dict) -> Rectangle:
    if y is None:  # full height: x in data, y in axes coordinates, as axvspan does
        patch = Rectangle(
            (start, 0.0), end - start, 1.0, transform=ax.get_xaxis_transform(), **common
        )
    else:
        patch = Rectangle((start, y[0]), end - start, y[1] - y[0], **common)
    # add_artist, then one data-limit update for all bands: add_patch/axvspan recompute the
    # limits band by band, which made figures with many state changes slow to build.
    ax.add_artist(patch)
    return patch


def _band_span(start, end, *, right: float, left: float, until: float | None):
    """The drawn ``(start, end)`` of a band, or None when nothing of it shows."""
    start = float(start)
    end = math.nan if end is None else float(end)
    if math.isnan(end) or math.isinf(end):
        end = max(right, start)
    if until is not None:
        end = min(end, until)
    if end <= start or start >= right or end <= left:
        return None
    return start, end


def _update_limits(ax: Axes, patches: list[Rectangle], y: tuple[float, float] | None) -> None:
    if not patches:
        return
    xs = [p.get_x() for p in patches] + [p.get_x() + p.get_width() for p in patches]
    if y is None:
        ax.update_datalim([(x, 0.0) for x in xs], updatey=False)
    else:
        ax.update_datalim([(x, level) for x in xs for level in y])
    ax.autoscale_view()


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] = (9.0, 4.0),
    dpi: float = 100,
    sharex: bool = False,
    sharey: bool = False,
    height_ratios: Iterable[float] | None = None,
) -> tuple[Figure, Axes | list[Axes]]:
    """A new styled figure (not registered with pyplot) and its axes.

    Returns ``(fig, ax)`` for one panel, ``(fig, [ax, ...])`` (flat list) for several.

    >>> fig, ax = new_figure()
    >>> fig, axes = new_figure(3, sharex=True, figsize=(9, 5))
    """
    # No layout engine: constrained layout costs a full extra draw (a third of the render time);
    # finish() sets the margins from the text it knows about instead.
    fig = Figure(figsize=figsize, dpi=dpi)
    axes = fig.subplots(
        nrows,
        ncols,
        sharex=sharex,
        sharey=sharey,
        squeeze=False,
        gridspec_kw={"height_ratios": list(height_ratios)} if height_ratios else None,
    )
    flat = list(axes.flat)
    for ax in flat:
        _style_axes(ax)
    return fig, (flat[0] if len(flat) == 1 else flat)


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#555555")
    ax.tick_params(labelsize=9, colors="#333333")
    ax.xaxis.label.set_size(10)
    ax.yaxis.label.set_size(10)
    ax.set_axisbelow(True)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)


def plain_log_scale(axis) -> None:
    """A log scale whose tick labels are plain numbers (1, 10, 100), not math text (10⁰, 10¹),
    and no minor ticks: easier to read, and much faster to draw.

    >>> fig, ax = new_figure()
    >>> plain_log_scale(ax.yaxis)
    """
    from matplotlib.ticker import FuncFormatter, NullLocator

    axis.axes.set_xscale("log") if axis is axis.axes.xaxis else axis.axes.set_yscale("log")
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axis.set_minor_locator(NullLocator())  # a log axis makes dozens of minor ticks, slow to draw


def finish(
    fig: Figure,
    ax: Axes,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    *,
    legend: str | None = "outside",
    legend_title: str | None = None,
    subtitle: str | None = None,
    handles: Iterable[Artist] = (),
) -> Figure:
    """Title, axis labels (say the units: "time (s)") and a tidy legend; returns ``fig``.

    ``legend`` is ``"outside"`` (to the right of the axes, never over the data), ``"inside"``
    (matplotlib's best spot) or ``None``. Legend entries with the same label are merged, so bands
    and markers drawn in several calls appear once. ``subtitle`` is a small grey line under the
    title, e.g. a count of what is shown. ``handles`` are extra legend entries (proxy artists
    with a label, e.g. ``matplotlib.patches.Patch(color=..., label="ok")``), listed first.

    >>> fig, ax = new_figure()
    >>> fig = finish(fig, ax, title="Calls to B", xlabel="time (s)", ylabel="call")
    """
    if legend is not None and legend not in ("outside", "inside"):
        raise ValueError(f"legend={legend!r} is not one of 'outside', 'inside', None")
    if title:
        ax.set_title(title, fontsize=11, loc="left", pad=17 if subtitle else 6)
    if subtitle:
        ax.text(
            0.0,
            1.015,
            subtitle,
            transform=ax.transAxes,
            fontsize=8.5,
            color="#555555",
            ha="left",
            va="bottom",
        )
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    entries, labels = _unique_legend_entries(fig, list(handles)) if legend else ([], [])
    outside = bool(entries) and legend == "outside"
    legend_width = _legend_width_in(labels, legend_title) if outside else 0.0
    _set_margins(fig, right_in=legend_width, title=bool(title), subtitle=bool(subtitle))
    _place_legend(fig, ax, entries, labels, outside=outside, width_in=legend_width,
                  title=legend_title)  # fmt: skip
    return fig


def _place_legend(fig, ax, entries, labels, *, outside: bool, width_in: float, title) -> None:
    if outside:
        # Beside the plot area, level with its top: below the title, so a long title never
        # runs into the legend.
        fig.legend(
            entries,
            labels,
            loc="upper left",
            fontsize=8.5,
            title=title,
            title_fontsize=9,
            frameon=False,
            alignment="left",
            bbox_to_anchor=(1.0 - width_in / fig.get_figwidth(), fig.subplotpars.top),
        )
    elif entries:
        ax.legend(entries, labels, fontsize=8.5, title=title, title_fontsize=9, framealpha=0.9)


# Approximate text metrics (DejaVu Sans): measuring real extents would need a draw, which is what
# makes constrained layout slow; these estimates err on the generous side.
def _text_width_in(text: str, fontsize: float) -> float:
    # the longest line of a wrapped text sets its width
    return max(len(line) for line in text.split("\n")) * 0.56 * fontsize / 72


def _legend_width_in(labels: list[str], title: str | None) -> float:
    widest = max([_text_width_in(lbl, 8.5) for lbl in labels] + [_text_width_in(title or "", 9)])
    return 0.15 + 0.4 + widest + 0.1


def _tick_labels(axis) -> list[str]:
    # Ask the formatter (fixed labels set with set_yticks come back too) rather than
    # get_ticklabels(), which builds and lays out every tick once more: slow for an explorer.
    locs = axis.get_majorticklocs()
    return list(axis.get_major_formatter().format_ticks(locs)) if len(locs) else []


def _set_margins(fig: Figure, *, right_in: float, title: bool, subtitle: bool) -> None:
    """Fix the subplot margins of ``fig`` (in inches) from its tick labels, labels and legend."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    left_in = 0.0
    for ax in fig.axes:
        ylabels = _tick_labels(ax.yaxis) if ax.yaxis.get_visible() else []
        tick_w = max([_text_width_in(t, 10) for t in ylabels] + [0.2])
        label_w = 0.0
        ylabel = ax.yaxis.label
        if ylabel.get_text():
            label_w = (
                _text_width_in(ylabel.get_text(), ylabel.get_size()) + 0.1
                if ylabel.get_rotation() == 0
                else 0.3
            )
        left_in = max(left_in, 0.15 + label_w + tick_w + 0.1)
    if getattr(fig, "_supylabel", None) is not None:
        left_in += 0.25
    bottom_in = 0.35 + (0.22 if any(ax.get_xlabel() for ax in fig.axes) else 0.0)
    top_in = 0.15 + (0.3 if title else 0.0) + (0.2 if subtitle else 0.0)
    right_in = max(right_in, 0.3)
    fig.subplots_adjust(
        left=min(left_in / width, 0.45),
        right=max(1.0 - right_in / width, 0.5),
        bottom=min(bottom_in / height, 0.4),
        top=max(1.0 - top_in / height, 0.6),
    )


def _unique_legend_entries(fig: Figure, extra: list[Artist]) -> tuple[list, list[str]]:
    handles: list = []
    labels: list[str] = []
    seen: set[str] = set()
    pairs = [(h, h.get_label()) for h in extra]
    for ax in fig.axes:
        pairs.extend(zip(*ax.get_legend_handles_labels()))
    for handle, label in pairs:
        if label not in seen and not label.startswith("_"):
            seen.add(label)
            handles.append(handle)
            labels.append(label)
    return handles, labels
