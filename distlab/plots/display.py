"""How distlab figures become pictures: PNG bytes, and display in Jupyter without pyplot.

distlab builds figures with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
Jupyter's inline backend (which hooks in when pyplot is imported) would not know how to show
them. :func:`register_ipython_formatter` teaches IPython to show a ``Figure`` as a PNG, rendered
exactly as the inline backend renders (tight bounding box, the figure's own dpi); importing
:mod:`distlab.plots` inside IPython does it.

>>> from distlab.plots import new_figure
>>> fig, ax = new_figure()
>>> figure_png(fig)[:4]
b'\\x89PNG'
"""

from __future__ import annotations

from io import BytesIO

from matplotlib.figure import Figure

from distlab._validate import check_bool

__all__ = ["figure_png", "register_ipython_formatter"]


def figure_png(fig: Figure, *, tight: bool = False, fast: bool = True) -> bytes:
    """The figure as PNG bytes at its own dpi; ``tight`` crops it to what is drawn (slower).

    ``fast`` compresses lightly: an explorer redraws on every move of a control and never stores
    the picture, so a few kilobytes more are worth the milliseconds saved.
    """
    tight, fast = check_bool("tight", tight), check_bool("fast", fast)
    if not isinstance(fig, Figure):
        raise TypeError(f"fig={type(fig).__name__} must be a matplotlib Figure")
    buffer = BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=fig.dpi,
        bbox_inches="tight" if tight else None,
        pil_kwargs={"compress_level": 1} if fast else None,
    )
    return buffer.getvalue()


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
