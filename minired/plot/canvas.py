"""Where the figures come from: matplotlib, imported only when a figure is drawn.

minired needs only NumPy; matplotlib is the optional extra ``minired[plot]``. So no module
of ``mr.plot`` imports it at the top: each function asks :func:`pyplot` for it when it
draws, and a missing matplotlib is reported then, with the command that installs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:                   # for the type hints only: no import at run time
    from matplotlib.axes import Axes

INSTALL_HINT = 'pip install "minired[plot]"'


def pyplot():
    """Return ``matplotlib.pyplot``, or raise ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"mr.plot draws with matplotlib, which is not installed: {INSTALL_HINT}"
        ) from error
    return plt


def one_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax`` itself, or the axes of a new figure of size ``figsize`` (inches)."""
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def panel_axes(function: str, row_lengths: list[int], axes: Sequence[Axes] | None,
               panel_size: tuple[float, float] = (4.2, 3.2), sharex: bool = False
               ) -> list[Axes]:
    """One Axes per panel: the ``axes`` given, or a new figure's grid.

    The new grid has one row per entry of ``row_lengths``, holding that many panels (the
    cells a shorter row does not use are removed). ``axes``, when given, must hold exactly
    ``sum(row_lengths)`` Axes, e.g. ``plt.subplots(1, 2)[1]``.
    """
    count = sum(row_lengths)
    if axes is not None:
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(axes) != count:
            raise ValueError(f"{function}: this figure has {count} panels, so `axes` must hold "
                             f"{count} Axes; got {len(axes)}. Or leave `axes=None` to get a "
                             "new figure.")
        return axes
    ncols = max(row_lengths)
    width, height = panel_size
    fig, grid = pyplot().subplots(len(row_lengths), ncols, squeeze=False, sharex=sharex,
                                  figsize=(width * ncols, height * len(row_lengths)),
                                  layout="constrained")
    used = []
    for row, length in zip(grid, row_lengths, strict=True):
        used += list(row[:length])
        for cell in row[length:]:
            fig.delaxes(cell)
    return used


def rows_of(count: int, ncols: int) -> list[int]:
    """Split ``count`` panels into rows of ``ncols``: ``rows_of(5, 3) == [3, 2]``."""
    full, rest = divmod(count, ncols)
    return [ncols] * full + ([rest] if rest else [])

