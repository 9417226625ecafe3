"""How distlab figures become pictures: PNG bytes, and display in Jupyter without pyplot.

distlab builds figures with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
Jupyter's inline backend (which hooks in when pyplot is imported) would not know how to show
them. :func:`register_ipython_formatter` teaches IPython to show a ``Figure`` as a PNG, rendered
exactly as the inline backend renders (tight bounding box, the figure's own dpi); importing
:mod:`distlab.plots` inside IPython does it.

A figure an explorer updates in place can be drawn faster: after each update its plot gives
:func:`keep_background` the artists that change from one update to the next and a key describing
everything else (lanes, legend, labels...). Then :func:`figure_png` draws the rest once, keeps it
as a picture, and on later calls only pastes that picture and draws the moving artists over it,
for as long as the key, the figure's size and every axes' position and limits stay the same. The
picture is the same as a full draw's.

>>> from distlab.plots import new_figure
>>> fig, ax = new_figure()
>>> figure_png(fig)[:4]
b'\\x89PNG'
>>> (line,) = ax.plot([0, 1], [0, 1])
>>> keep_background(fig, "one line", moving=[line])
>>> first = figure_png(fig)  # draws everything, keeps all but the line
>>> line.set_ydata([1, 0])
>>> figure_png(fig) != first  # pastes the rest, draws the line
True
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Hashable, Iterable
from io import BytesIO
from weakref import WeakKeyDictionary

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from distlab._validate import check_bool

__all__ = [
    "check_figure",
    "clear_figure",
    "figure_png",
    "keep_background",
    "register_ipython_formatter",
    "round_up",
    "set_titles",
    "tick_label_chars",
]

# figure -> the plot's key of its static parts; figure -> (full key, canvas, kept picture)
_KEYS: WeakKeyDictionary = WeakKeyDictionary()
_BACKGROUNDS: WeakKeyDictionary = WeakKeyDictionary()


def keep_background(
    fig: Figure,
    key: Hashable,
    *,
    moving: Iterable[Artist],
    moving_y: Iterable[Axes] = (),
) -> None:
    """Let :func:`figure_png` keep a picture of ``fig`` without the ``moving`` artists (those
    an explorer's update changes), and reuse it while ``key`` (what the plot says the rest
    depends on) stays the same. A plot calls it after every update, with the artists it moved.

    ``key`` must change whenever anything else changes, apart from the figure's size and its
    axes' positions and limits, which are checked too; except the y limits of the axes in
    ``moving_y``, where everything placed by the y data (the y axis too) must be moving. The
    figure itself is not changed: drawn or saved any other way, it shows everything. See the
    module for an example.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig={type(fig).__name__} must be a matplotlib Figure")
    try:
        hash(key)
    except TypeError:
        raise TypeError(f"key={key!r} must be hashable") from None
    axes = tuple(moving_y)
    if not all(ax in fig.axes for ax in axes):
        raise ValueError("moving_y must hold axes of fig")
    artists = list(moving)
    if not all(isinstance(a, Artist) for a in artists):
        raise TypeError("moving must hold matplotlib artists")
    _KEYS[fig] = (key, axes, artists)


def clear_figure(fig: Figure, figsize: tuple[float, float]) -> Axes:
    """Empty the one axes of ``fig`` (a figure of :func:`~distlab.plots.style.new_figure`) of
    what was drawn in it, drop the figure's legends, give it size ``figsize`` and return the
    axes: ready to draw a new picture in, much faster than a new figure.

    Its style, tick parameters and scales stay; what was drawn still counts in its data limits,
    so the plot sets both limits itself after drawing.

    >>> from distlab.plots import new_figure
    >>> fig, ax = new_figure()
    >>> _ = ax.plot([0, 1], [0, 1], label="a line"); _ = fig.legend()
    >>> ax = clear_figure(fig, (6.0, 3.0))
    >>> len(ax.lines), len(fig.legends), fig.get_size_inches().tolist()
    (0, 0, [6.0, 3.0])
    """
    if not isinstance(fig, Figure) or len(fig.axes) != 1:
        raise TypeError("fig must be a matplotlib Figure with one axes")
    (ax,) = fig.axes
    for group in (ax.collections, ax.lines, ax.patches, ax.texts, ax.images, ax.artists):
        for artist in list(group):
            artist.remove()
    for legend in list(fig.legends):
        legend.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    fig.set_size_inches(figsize)
    return ax


def round_up(value: float, fraction: float = 0.2) -> float:
    """``value`` rounded up to a multiple of ``fraction`` of its power of ten (0.87 -> 0.88,
    2.31 -> 2.4, 141 -> 160; with ``fraction=0.1``, 12.2 -> 13): an axis ending there changes
    less often from one run to the next, so an explorer redraws it less often. ``value`` must be
    positive and finite, ``fraction`` one of 0.1, 0.2, 0.5 or 1.

    >>> round_up(0.87), round_up(2.31), round_up(141.0), round_up(12.2, 0.1)
    (0.88, 2.4, 160.0, 13.0)
    """
    if not (isinstance(value, (int, float)) and 0 < value < math.inf):
        raise ValueError(f"value={value!r} must be a positive finite number")
    if fraction not in (0.1, 0.2, 0.5, 1):
        raise ValueError(f"fraction={fraction!r} must be one of 0.1, 0.2, 0.5 or 1")
    step = 10 ** math.floor(math.log10(value)) * fraction
    return round(math.ceil(round(value / step, 9)) * step, 12)


def check_figure(figure: object) -> Figure | None:
    """Return ``figure`` if it is a matplotlib Figure or ``None`` (a plot's ``figure``
    argument: the figure to update in place), else raise a ``TypeError`` naming it.

    >>> check_figure("fig")
    Traceback (most recent call last):
    ...
    TypeError: figure=str must be a matplotlib Figure (one the plot returned before) or None
    """
    if figure is None or isinstance(figure, Figure):
        return figure
    raise TypeError(
        f"figure={type(figure).__name__} must be a matplotlib Figure (one the plot returned "
        "before) or None"
    )


def tick_label_chars(axis) -> int:
    """How many characters the longest tick label of ``axis`` (an ``ax.xaxis``/``ax.yaxis``)
    has at its current limits: :func:`~distlab.plots.style.finish` sets the margins from them, so
    a figure updated in place needs new margins when this changes.

    >>> from distlab.plots import new_figure
    >>> fig, ax = new_figure()
    >>> ax.set_ylim(0, 150); tick_label_chars(ax.yaxis)
    (0.0, 150.0)
    3
    """
    locs = axis.get_majorticklocs()
    labels = axis.get_major_formatter().format_ticks(locs) if len(locs) else []
    return max((len(label) for label in labels), default=0)


def set_titles(ax: Axes, title: str, subtitle: str | None = None) -> list[Text]:
    """Change the title and subtitle :func:`~distlab.plots.style.finish` gave ``ax`` (it must
    have given both, or the title only), drawn as ``finish`` draws them. Returns the texts (they
    change with each update of an explorer: they are among its moving artists).

    The title's height is set (1.0, as matplotlib would place it on every draw by measuring the
    axes' decorations: this needs no ticks or labels above the axes).

    >>> from distlab.plots import finish, new_figure
    >>> fig, ax = new_figure()
    >>> fig = finish(fig, ax, title="before", subtitle="2 calls")
    >>> [t.get_text() for t in set_titles(ax, "after", "3 calls")]
    ['after', '3 calls']
    """
    texts = [ax.set_title(title, fontsize=11, loc="left", pad=17 if subtitle else 6, y=1.0)]
    if subtitle is not None:
        under = [t for t in ax.texts if t.get_position() == (0.0, 1.015)]
        if not under:
            raise ValueError("set_titles: finish() gave this axes no subtitle to change")
        under[-1].set_text(subtitle)
        texts.append(under[-1])
    return texts


def figure_png(fig: Figure, *, tight: bool = False, fast: bool = True) -> bytes:
    """The figure as PNG bytes at its own dpi; ``tight`` crops it to what is drawn (slower).

    ``fast`` compresses lightly: an explorer redraws on every move of a control and never stores
    the picture, so a few kilobytes more are worth the milliseconds saved. A fast picture of a
    figure given to :func:`keep_background` redraws only its moving artists when it can.
    """
    tight, fast = check_bool("tight", tight), check_bool("fast", fast)
    if not isinstance(fig, Figure):
        raise TypeError(f"fig={type(fig).__name__} must be a matplotlib Figure")
    if fast and not tight:
        return _encode(_pixels(fig))
    buffer = BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=fig.dpi,
        bbox_inches="tight" if tight else None,
        pil_kwargs={"compress_level": 1} if fast else None,
    )
    return buffer.getvalue()


def _pixels(fig: Figure) -> np.ndarray:
    """The figure drawn, as an RGBA array: reusing its kept background where it may."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fig not in _KEYS:
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())
    plot_key, axes, moving = _KEYS[fig]
    # Animated artists are left out of a draw: the moving ones are, while this draws.
    _set_animated(moving, True)
    try:
        on_top = _drawn_on_top(fig)
        if on_top is None:
            _BACKGROUNDS.pop(fig, None)
            _set_animated(moving, False)
            canvas.draw()
        else:
            _draw_on_background(fig, canvas, on_top, plot_key, axes)
    finally:
        _set_animated(moving, False)
    return np.asarray(canvas.buffer_rgba())


def _draw_on_background(fig: Figure, canvas, on_top: list, plot_key, axes) -> None:
    """Paste the kept background (or draw and keep it), then draw ``on_top`` over it."""
    static = [a for a in on_top if not a.get_animated()]
    key = (
        plot_key,
        tuple(map(id, static)),
        tuple(fig.get_size_inches()),
        fig.dpi,
        tuple(
            (ax.get_position().bounds, ax.get_xlim(), None if ax in axes else ax.get_ylim())
            for ax in fig.axes
        ),
    )
    kept = _BACKGROUNDS.get(fig)
    if kept is None or kept[0] != key or kept[1] is not canvas:
        # Everything but what is drawn on top (the static artists among it left out as well).
        _set_animated(static, True)
        try:
            canvas.draw()
        finally:
            _set_animated(static, False)
        kept = (key, canvas, canvas.copy_from_bbox(fig.bbox))
        _BACKGROUNDS[fig] = kept
    else:
        canvas.restore_region(kept[2])
    renderer = canvas.get_renderer()
    for artist in on_top:
        artist.draw(renderer)


def _drawn_on_top(fig: Figure) -> list | None:
    """What to draw over the kept background, in the order a full draw draws it: in each axes,
    then in the figure itself, every artist from the lowest animated one up (by zorder; the
    static ones among them are left out of the background). None when that would be an axes."""
    found = []
    for parent in [*sorted(fig.axes, key=lambda a: a.get_zorder()), fig]:  # stable, as a draw's
        children = [c for c in parent.get_children() if c is not parent.patch and c.get_visible()]
        moving = [c.get_zorder() for c in children if c.get_animated()]
        if moving:
            lowest = min(moving)
            found += sorted(
                (c for c in children if c.get_zorder() >= lowest), key=lambda c: c.get_zorder()
            )
    if any(isinstance(a, Axes) for a in found):
        return None
    return found


def _set_animated(artists: list, value: bool) -> None:
    for artist in artists:
        artist.set_animated(value)


def _encode(rgba: np.ndarray) -> bytes:
    """PNG of an RGBA array, compressed lightly (zlib level 1, no row filter): an RGB picture
    when it is opaque (every figure with a facecolour), which is smaller and twice as quick to
    make as Pillow's."""
    height, width = rgba.shape[:2]
    opaque = bool(rgba[..., 3].min() == 255)
    pixels = rgba[..., :3] if opaque else rgba
    rows = np.empty((height, 1 + width * pixels.shape[2]), np.uint8)
    rows[:, 0] = 0  # filter type 0 ("none") for every row
    rows[:, 1:] = pixels.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _inline_png(fig: Figure) -> bytes:
    # Pictures shown in notebooks are committed with them: compress them fully.
    return figure_png(fig, tight=True, fast=False)


def register_ipython_formatter() -> bool:
    """Show ``Figure`` objects as PNG in the running IPython; return whether one was running."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the lab extra
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, _inline_png)
    return True
