"""Figures redrawn in place: an explorer keeps its figure and only its changing parts are drawn.

A figure built by :func:`keep` draws through a :class:`LiveCanvas`: the artists marked
*animated* (the data, the title that names the settings, the counts) are the figure's moving
parts, everything else (axes, ticks, labels, legend) its still parts. The first picture draws
everything and keeps the still parts as a background; every later picture whose still parts have
not changed copies that background back and draws only the moving parts on top. When a still part
changes (new axis limits, a new legend), matplotlib marks it stale and the next picture draws
everything again, so a picture is always the one a fresh figure with the same artists gives.

The moving parts are drawn above the still ones (in their own z-order), also in a fresh figure:
a plot built with :func:`keep` looks the same whether it was built anew or updated.

>>> from matplotlib.lines import Line2D
>>> from distlab.plots.style import new_figure
>>> fig, ax = new_figure()
>>> line = ax.add_line(Line2D([0, 1], [0, 1], animated=True))
>>> parts = keep(fig, "demo", {"line": line})
>>> kept(fig, "demo") is parts, kept(fig, "other")
(True, None)
>>> from distlab.plots.display import figure_png
>>> first = figure_png(fig)
>>> line.set_data([0, 1], [1, 0])  # an update: only the line is drawn again
>>> second = figure_png(fig)
>>> fig.canvas.full_draws, first != second
(1, True)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from operator import attrgetter
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.text import Text

__all__ = ["LiveCanvas", "animate", "keep", "kept", "set_limits", "set_text", "text_artist"]


class LiveCanvas(FigureCanvasAgg):
    """An Agg canvas that redraws only a figure's animated artists when nothing else changed.

    :attr:`full_draws` counts the pictures drawn from nothing (the others copied the background
    kept from the last one and drew the animated artists on it). :attr:`kind` and :attr:`parts`
    are what :func:`keep` was given (kept here, they go with the figure).

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> canvas = LiveCanvas(fig)
    >>> fig.canvas is canvas, canvas.full_draws
    (True, 0)
    """

    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self.full_draws = 0
        self.kind: Hashable = None
        self.parts: dict[str, Any] = {}
        self._background: Any = None
        self._background_key: tuple | None = None
        self._renderer_key: tuple | None = None

    def get_renderer(self) -> _TextCachingRenderer:
        """The renderer, kept while the figure's size and dpi stay the same (as Agg's own)."""
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        if self._renderer_key != key:
            self.renderer = _TextCachingRenderer(w, h, self.figure.dpi)
            self._renderer_key = key
        return self.renderer

    def draw(self) -> None:
        """Draw the figure: the still parts only when they changed, then the animated ones."""
        figure = self.figure
        renderer = self.get_renderer()
        key = (
            self.get_width_height(physical=True),
            figure.dpi,
            tuple(figure.bbox.bounds),
            tuple(figure.patch.get_facecolor()),
        )
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
        else:
            self.restore_region(self._background)
        for artist in _moving_parts(figure):
            artist.draw(renderer)

    def print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None, **_ignored) -> None:
        """Write the figure as PNG (what ``savefig(..., format="png")`` calls), drawn as
        :meth:`draw` does. ``savefig`` also passes what other formats use (``dpi``, the figure
        set to it already; ``facecolor``, ``orientation``...): ignored, as matplotlib's own Agg
        canvas does."""
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
        found = _TEXTS.get(key)
        if found is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0.0, flags=self._hinting)
            w, h = font.get_width_height()
            found = _remember(key, (w / 64.0, h / 64.0, font.get_descent() / 64.0))
        return found

    def _get_font_height_metrics(self, prop) -> tuple:
        """(ascent, descent, line gap) of the font of ``prop`` in pixels, from its tables, as
        matplotlib's text layout computes them (it asks a renderer that has this method, which
        spares it finding the font again for every text)."""
        key = ("height", _font_key(prop), self._settings, self.dpi)
        found = _TEXTS.get(key)
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

    def _text_picture(self, s: str, prop, antialiased: bool) -> tuple:
        key = ("picture", s, _font_key(prop), self._settings, self.dpi, self._hinting,
               bool(antialiased))  # fmt: skip
        found = _TEXTS.get(key)
        if found is None:
            font = self._prepare_font(prop)
            font.set_text(s, 0, flags=self._hinting)
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            xo, yo = font.get_bitmap_offset()
            image = np.array(font.get_image(), dtype=np.uint8)
            found = _remember(key, (image, xo / 64.0, yo / 64.0, font.get_descent() / 64.0))
        return found


#: Text pictures and sizes, the most recently used kept (a few MB at most).
_TEXTS: OrderedDict = OrderedDict()
_TEXTS_KEPT = 4096


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
    # The figure's own patch is left out: savefig sets its colour (to the same) on every save;
    # the colour is in the background's key instead.
    return any(
        artist.stale
        for artist in figure.get_children()
        if artist is not figure.patch and not artist.get_animated()
    )


def _moving_parts(figure: Figure) -> list[Artist]:
    """The animated artists, each axes' in z-order, then the figure's own."""
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


def keep(figure: Figure, kind: Hashable, parts: dict[str, Any]) -> dict[str, Any]:
    """Give ``figure`` a :class:`LiveCanvas` and remember ``parts`` (the artists a plot updates)
    as built by a plot of ``kind``; returns ``parts``.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> keep(fig, ("timeline", 2), {"ax": ax})["ax"] is ax
    True
    """
    if not isinstance(figure, Figure):
        raise TypeError(f"figure={type(figure).__name__} must be a matplotlib Figure")
    if not isinstance(parts, dict):
        raise TypeError(f"parts={type(parts).__name__} must be a dict of name -> artist")
    canvas = LiveCanvas(figure)
    canvas.kind, canvas.parts = kind, parts
    return parts


def kept(figure: Figure | None, kind: Hashable) -> dict[str, Any] | None:
    """The parts :func:`keep` remembered for ``figure`` if a plot of ``kind`` built it, else
    ``None`` (no figure, another plot's, or one of another layout: build a new one).

    >>> kept(None, "timeline") is None
    True
    """
    if figure is None:
        return None
    if not isinstance(figure, Figure):
        raise TypeError(f"figure={type(figure).__name__} must be a matplotlib Figure or None")
    canvas = figure.canvas
    if not isinstance(canvas, LiveCanvas) or canvas.kind is None or canvas.kind != kind:
        return None
    return canvas.parts


def animate(artists: Iterable[Artist]) -> list[Artist]:
    """Mark ``artists`` as moving parts (drawn on every picture); returns them as a list.

    >>> from distlab.plots.style import new_figure
    >>> fig, ax = new_figure()
    >>> [a.get_animated() for a in animate([ax.title])]
    [True]
    """
    artists = list(artists)
    for artist in artists:
        artist.set_animated(True)
    return artists


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
