"""How distlab figures become pictures: PNG bytes, display in Jupyter without pyplot, and
figures an explorer redraws in place.

distlab builds figures with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
Jupyter's inline backend (which hooks in when pyplot is imported) would not know how to show
them. :func:`register_ipython_formatter` teaches IPython to show a ``Figure`` as a PNG, rendered
exactly as the inline backend renders (tight bounding box, the figure's own dpi); importing
:mod:`distlab.plots` inside IPython does it.

An explorer redraws its figure on every move of a control; the plot updates the figure it
returned last (its ``figure=`` argument) and, after each update, names to
:func:`keep_background` the artists that change from one update to the next (its *moving*
artists) and a key describing everything else (lanes, legend, labels...). The figure then draws
through a :class:`LiveCanvas`: the first picture draws everything and keeps the still parts as a
background; every later picture pastes that background and draws only the moving artists over it
(in their z-order, above every still part, in a new figure too), for as long as the key, the
figure's size, every axes' position and limits and every still artist stay the same (a still
artist changed is marked stale by matplotlib, and the next picture is drawn from nothing). Every
text's picture is kept too (drawing glyphs was most of the drawing time). A picture updated in
place is the one a new figure of the same plot gives. :func:`keep` and :func:`kept` let a plot
find the artists it updates; :func:`set_limits`, :func:`set_text` and :func:`set_titles` change
still parts only when they differ, so that the background is kept.

>>> from distlab.plots import new_figure
>>> fig, ax = new_figure()
>>> (line,) = ax.plot([0, 1], [0, 1])
>>> keep_background(fig, "one line", moving=[line])
>>> first = figure_png(fig)  # draws everything, keeps all but the line
>>> line.set_ydata([1, 0])
>>> figure_png(fig) != first, fig.canvas.full_draws  # pasted the rest, drew the line
(True, 1)
"""

from __future__ import annotations

import math
import struct
import zlib
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from io import BytesIO
from operator import attrgetter
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.text import Text

from distlab._validate import check_bool, check_hashable

__all__ = [
    "LiveCanvas",
    "check_figure",
    "clear_figure",
    "figure_png",
    "keep",
    "keep_background",
    "kept",
    "register_ipython_formatter",
    "round_up",
    "set_limits",
    "set_text",
    "set_titles",
    "text_artist",
    "tick_label_chars",
]


def keep_background(
    fig: Figure,
    key: Hashable,
    *,
    moving: Iterable[Artist],
    moving_y: Iterable[Axes] = (),
) -> None:
    """Name the ``moving`` artists of ``fig`` (those an explorer's update changes) and ``key``
    (what the plot says the rest depends on): from now on ``fig`` draws through a
    :class:`LiveCanvas`, which keeps a picture of the rest and reuses it while ``key`` stays
    the same and no still artist changed. A plot calls it after every update (the first one
    too), with the artists it moved; they are drawn above the still ones, in their own z-order.

    ``key`` must change whenever something changes that matplotlib does not mark stale (what
    the still artists show is checked, and so are the figure's size, its axes' positions and
    limits and which artists they hold); except the y limits of the axes in ``moving_y``,
    where everything placed by the y data (the y axis too) must be moving. See the module for
    an example.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig={type(fig).__name__} must be a matplotlib Figure")
    check_hashable("key", key)
    axes = tuple(moving_y)
    if not all(ax in fig.axes for ax in axes):
        raise ValueError("moving_y must hold axes of fig")
    artists = list(moving)
    if not all(isinstance(a, Artist) for a in artists):
        raise TypeError("moving must hold matplotlib artists")
    canvas = fig.canvas if isinstance(fig.canvas, LiveCanvas) else LiveCanvas(fig)
    canvas.moving(key, artists, axes)


class LiveCanvas(FigureCanvasAgg):
    """An Agg canvas that draws a figure's still parts once and, while they stay the same, only
    its moving artists over them (see :func:`keep_background`, which gives a figure one).

    :attr:`full_draws` counts the pictures drawn from nothing (the others pasted the background
    kept from the last one and drew the moving artists on it); :attr:`parts` what :func:`keep`
    was given.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> canvas = LiveCanvas(fig)
    >>> fig.canvas is canvas, canvas.full_draws
    (True, 0)
    """

    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self.full_draws = 0
        self.parts: tuple | None = None
        self._plot_key: Hashable = None
        self._moving: list[Artist] = []
        self._moving_y: tuple = ()
        self._background: Any = None
        self._background_key: tuple | None = None
        self._renderer_key: tuple | None = None

    def moving(self, key: Hashable, artists: list[Artist], moving_y: tuple) -> None:
        """What :func:`keep_background` was given: the moving artists are marked animated
        (matplotlib leaves them out of a draw, and their changes leave the rest unstale)."""
        for artist in self._moving:
            artist.set_animated(False)
        for artist in artists:
            artist.set_animated(True)
        self._plot_key, self._moving, self._moving_y = key, artists, moving_y

    def get_renderer(self) -> _TextCachingRenderer:
        """The renderer, kept while the figure's size and dpi stay the same (as Agg's own)."""
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        if self._renderer_key != key:
            self.renderer = _TextCachingRenderer(w, h, self.figure.dpi)
            self._renderer_key = key
        return self.renderer

    def draw(self) -> None:
        """Draw the figure: the still parts only when they changed, then the moving ones."""
        figure = self.figure
        renderer = self.get_renderer()
        key = self._still_key()
        # matplotlib's dry run for a tight bounding box replaces figure.draw to catch the
        # renderer: it must be called.
        replaced = "draw" in vars(figure)
        if replaced or key != self._background_key or _still_parts_changed(figure):
            self.full_draws += 1
            renderer.clear()
            saving = self._is_saving
            self._is_saving = False  # when saving, matplotlib would draw animated artists too
            try:
                figure.draw(renderer)
            finally:
                self._is_saving = saving
            self._background = self.copy_from_bbox(figure.bbox)
            self._background_key = key
            _mark_drawn(figure)
        else:
            self.restore_region(self._background)
        for artist in _moving_parts(figure):
            artist.draw(renderer)

    def _still_key(self) -> tuple:
        """What the kept background shows, apart from the still artists' own state."""
        figure = self.figure
        return (
            self._plot_key,
            self.get_width_height(physical=True),
            figure.dpi,
            tuple(figure.bbox.bounds),
            tuple(figure.patch.get_facecolor()),
            tuple(id(c) for c in figure.get_children() if not c.get_animated()),
            tuple(
                (
                    ax.get_position().bounds,
                    ax.get_xlim(),
                    None if ax in self._moving_y else ax.get_ylim(),
                    tuple(id(c) for c in ax.get_children() if not c.get_animated()),
                )
                for ax in figure.axes
            ),
        )

    def print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None, **_ignored) -> None:
        """Write the figure as PNG (what ``savefig(..., format="png")`` calls), drawn as
        :meth:`draw` does. ``savefig`` also passes what other formats use (``dpi``, the figure
        set to it already; ``facecolor``, ``orientation``...): ignored, as matplotlib's own Agg
        canvas does."""
        from matplotlib.image import imsave

        self.draw()
        imsave(
            filename_or_obj,
            self.buffer_rgba(),
            format="png",
            origin="upper",
            dpi=self.figure.dpi,
            metadata=metadata,
            pil_kwargs=pil_kwargs,
        )


class _TextCachingRenderer(RendererAgg):
    """Agg, with each text's picture kept (by text, font, size, dpi): an explorer shows the same
    labels picture after picture, and FreeType rendering every glyph each time was most of the
    drawing time. A text is drawn as one bitmap of the whole string (FreeType's layout, as Agg
    drew it up to matplotlib 3.10), its size measured the same way, so text and box agree."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        # The settings that choose and hint fonts, read once (a figure is drawn with one set).
        self._settings = (
            tuple(tuple(rcParams[f"font.{f}"]) for f in ("family", "sans-serif", "serif",
                                                         "monospace")),
            rcParams["text.hinting_factor"],
        )  # fmt: skip
        self._hinting = get_hinting_flag()

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None) -> None:
        if ismath:
            super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
            return
        image, xo, yo, descent = self._text_picture(s, prop, gc.get_antialiased())
        # The descent is adjusted for the angle; the picture is rotated in raster space.
        x = round(x + xo + descent * math.sin(math.radians(angle)))
        y = round(y + yo + descent * math.cos(math.radians(angle)))
        self._renderer.draw_text_image(image, x, y + 1, angle, gc)

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = ("size", s, _font_key(prop), self._settings, self.dpi, self._hinting)
        found = _recall(key)
        if found is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0.0, flags=self._hinting)
            w, h = font.get_width_height()
            found = _remember(key, (w / 64.0, h / 64.0, font.get_descent() / 64.0))
            # A text is measured before it is drawn: its (antialiased) picture now spares
            # laying the string out again, which costs as much as measuring it.
            picture_key = self._picture_key(s, prop, True)
            if picture_key not in _TEXTS:
                _remember(picture_key, _glyphs_picture(font, True))
        return found

    def _get_font_height_metrics(self, prop) -> tuple:
        """(ascent, descent, line gap) of the font of ``prop`` in pixels, from its tables, as
        matplotlib's text layout computes them (it asks a renderer that has this method, which
        spares it finding the font again for every text)."""
        key = ("height", _font_key(prop), self._settings, self.dpi)
        found = _recall(key)
        if found is None:
            font = self._prepare_font(prop)
            found = (None, None, None)
            for name, gap, ascent, descent in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                ("hhea", "lineGap", "ascent", "descent"),
            ):
                table = font.get_sfnt_table(name)
                if table is None:
                    continue
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * prop.get_size_in_points() * self.dpi / 72
                found = (table[ascent] * scale, -table[descent] * scale, table[gap] * scale)
                break
            _remember(key, found)
        return found

    def _picture_key(self, s: str, prop, antialiased: bool) -> tuple:
        return ("picture", s, _font_key(prop), self._settings, self.dpi, self._hinting,
                bool(antialiased))  # fmt: skip

    def _text_picture(self, s: str, prop, antialiased: bool) -> tuple:
        key = self._picture_key(s, prop, antialiased)
        found = _recall(key)
        if found is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=self._hinting)
            found = _remember(key, _glyphs_picture(font, antialiased))
        return found


def _glyphs_picture(font, antialiased: bool) -> tuple:
    """The picture of the text ``font`` was last given (``set_text``), its offsets and descent."""
    font.draw_glyphs_to_bitmap(antialiased=bool(antialiased))
    xo, yo = font.get_bitmap_offset()
    image = np.array(font.get_image(), dtype=np.uint8)
    return image, xo / 64.0, yo / 64.0, font.get_descent() / 64.0


#: Text pictures and sizes, the most recently used kept (a few MB at most).
_TEXTS: OrderedDict = OrderedDict()
_TEXTS_KEPT = 4096


def _recall(key: tuple) -> Any:
    """What :func:`_remember` kept under ``key`` (now the most recently used), or None."""
    found = _TEXTS.get(key)
    if found is not None:
        _TEXTS.move_to_end(key)
    return found


def _remember(key: tuple, value: Any) -> Any:
    _TEXTS[key] = value
    if len(_TEXTS) > _TEXTS_KEPT:
        _TEXTS.popitem(last=False)
    return value


def _font_key(prop) -> tuple:
    """What picks and sizes a font, of its properties."""
    return (
        tuple(prop.get_family()), prop.get_style(), prop.get_variant(), prop.get_weight(),
        prop.get_stretch(), prop.get_size_in_points(), prop.get_file(),
    )  # fmt: skip


def _still_parts_changed(figure: Figure) -> bool:
    """Whether an artist the kept background shows (or one inside it: a legend's text) was
    changed: matplotlib marked it stale. The axes' own marks are left out (a moving artist's
    change marks them; what else marks them is in the background's key)."""
    todo = [a for a in figure.get_children() if a is not figure.patch]  # savefig sets its colour
    while todo:
        artist = todo.pop()
        if artist.get_animated():
            continue
        if artist.stale and not isinstance(artist, Axes):
            return True
        todo.extend(artist.get_children())
    return False


def _mark_drawn(figure: Figure) -> None:
    """Mark every still artist as drawn (some a draw leaves stale: empty texts, hidden ones)."""
    todo = figure.get_children()
    while todo:
        artist = todo.pop()
        if not artist.get_animated():
            artist.stale = False
            todo.extend(artist.get_children())


def _moving_parts(figure: Figure) -> list[Artist]:
    """The moving (animated) artists, each axes' in z-order, then the figure's own."""
    parts: list[Artist] = []
    for ax in figure.axes:
        parts += sorted(
            (a for a in ax.get_children() if a.get_animated() and a.get_visible()),
            key=attrgetter("zorder"),
        )
    parts += sorted(
        (a for a in figure.get_children() if a.get_animated() and a.get_visible()),
        key=attrgetter("zorder"),
    )
    return parts


def keep(figure: Figure, kind: Hashable, parts: Any) -> Any:
    """Remember ``parts`` (the artists a plot updates, e.g. a dict of them) of ``figure``,
    built by a plot of ``kind``; returns ``parts``. They are kept with the figure (its canvas):
    freed with it.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> keep(fig, ("timeline", 2), {"ax": ax})["ax"] is ax
    True
    >>> kept(fig, ("timeline", 2))["ax"] is ax, kept(fig, "other")
    (True, None)
    """
    if not isinstance(figure, Figure):
        raise TypeError(f"figure={type(figure).__name__} must be a matplotlib Figure")
    check_hashable("kind", kind)
    canvas = figure.canvas if isinstance(figure.canvas, LiveCanvas) else LiveCanvas(figure)
    canvas.parts = (kind, parts)  # kept with the figure (a global table would keep it alive)
    return parts


def kept(figure: Figure | None, kind: Hashable) -> Any:
    """The parts :func:`keep` remembered for ``figure`` if a plot of ``kind`` built it, else
    ``None`` (no figure, another plot's, or one of another layout: build a new one).

    >>> kept(None, "timeline") is None
    True
    """
    figure = check_figure(figure)
    found = getattr(figure.canvas, "parts", None) if figure is not None else None
    if found is None or found[0] != kind:
        return None
    return found[1]


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


_TITLE_GID = "distlab-title"


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
    pad = 17 if subtitle else 6
    # Once set here, the title is only given its new text: setting a title resets the placement
    # of all three, which would make the kept background stale.
    done = [t for t in ax.get_children() if isinstance(t, Text) and t.get_gid() == _TITLE_GID]
    if done and getattr(done[0], "distlab_pad", None) == pad:
        set_text(done[0], title)
        texts = [done[0]]
    else:
        texts = [ax.set_title(title, fontsize=11, loc="left", pad=pad, y=1.0)]
        texts[0].set_gid(_TITLE_GID)
        texts[0].distlab_pad = pad
    if subtitle is not None:
        under = [t for t in ax.texts if t.get_position() == (0.0, 1.015)]
        if not under:
            raise ValueError("set_titles: finish() gave this axes no subtitle to change")
        under[-1].set_text(subtitle)
        texts.append(under[-1])
    return texts


def set_limits(ax: Axes, x: tuple[float, float] | None = None,
               y: tuple[float, float] | None = None) -> None:  # fmt: skip
    """Set the axes' limits only where they differ: setting equal limits would still mark the
    axes stale, and the next picture would be drawn from nothing.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> set_limits(ax, x=(0, 10), y=(0, 1))
    >>> ax.get_xlim(), ax.get_ylim()
    ((np.float64(0.0), np.float64(10.0)), (np.float64(0.0), np.float64(1.0)))
    """
    if x is not None and tuple(ax.get_xlim()) != (float(x[0]), float(x[1])):
        ax.set_xlim(*x)
    if y is not None and tuple(ax.get_ylim()) != (float(y[0]), float(y[1])):
        ax.set_ylim(*y)


def text_artist(ax: Axes, text: str) -> Text:
    """The text artist of ``ax`` (its titles included) showing ``text``: how a plot finds the
    title or subtitle :func:`~distlab.plots.style.finish` wrote, to update it later.

    >>> from distlab.plots.style import finish, new_figure
    >>> fig, ax = new_figure()
    >>> fig = finish(fig, ax, title="T", subtitle="S")
    >>> text_artist(ax, "T") is not text_artist(ax, "S")
    True
    """
    for artist in ax.get_children():
        if isinstance(artist, Text) and artist.get_text() == text:
            return artist
    raise ValueError(f"text={text!r} is not shown by the axes")


def set_text(artist: Text, text: str | None, xy: tuple[float, float] | None = None) -> None:
    """Show ``text`` (``None``: hide it) at ``xy`` (``None``: where it is), changing only what
    differs: a still text set to what it shows already does not redraw the figure from nothing.
    Text is the dearest thing to draw, so a text that rarely changes is better a still part.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> label = ax.text(0, 0, "")
    >>> set_text(label, "down", (1.0, 2.0))
    >>> label.get_text(), label.get_position(), label.get_visible()
    ('down', (1.0, 2.0), True)
    """
    visible = text is not None
    if artist.get_visible() != visible:
        artist.set_visible(visible)
    if not visible:
        return
    if artist.get_text() != text:
        artist.set_text(text)
    if xy is not None and tuple(artist.get_position()) != (float(xy[0]), float(xy[1])):
        artist.set_position((float(xy[0]), float(xy[1])))


def figure_png(fig: Figure, *, tight: bool = False, fast: bool = True) -> bytes:
    """The figure as PNG bytes at its own dpi; ``tight`` crops it to what is drawn (slower).

    ``fast`` compresses lightly: an explorer redraws on every move of a control and never stores
    the picture, so a few kilobytes more are worth the milliseconds saved. A fast picture draws
    through a :class:`LiveCanvas` (given to ``fig`` if it has none): only the moving artists
    when it can, every text from its kept picture.

    >>> from distlab.plots import new_figure
    >>> figure_png(new_figure()[0])[:4]
    b'\\x89PNG'
    """
    tight, fast = check_bool("tight", tight), check_bool("fast", fast)
    if not isinstance(fig, Figure):
        raise TypeError(f"fig={type(fig).__name__} must be a matplotlib Figure")
    if fast and not tight:
        canvas = fig.canvas if isinstance(fig.canvas, LiveCanvas) else LiveCanvas(fig)
        canvas.draw()
        return _encode(np.asarray(canvas.buffer_rgba()))
    buffer = BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=fig.dpi,
        bbox_inches="tight" if tight else None,
        pil_kwargs={"compress_level": 1} if fast else None,
    )
    return buffer.getvalue()


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
