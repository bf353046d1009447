"""``gradcheck``: the relative error of each array of a gradient check, on a log scale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from minired.gradcheck import GradCheckResult
from minired.plot.canvas import one_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RIGHT = 1e-7    # at or below: backward is right (float64 rounding is all that differs)
WRONG = 1e-2    # above: backward is wrong
FLOOR = 1e-16   # an error of exactly 0 has no logarithm: its bar stops here


def gradcheck(report: GradCheckResult | Sequence[GradCheckResult], ax: Axes | None = None
              ) -> Figure:
    """Draw the relative error of every checked array, on a log scale, against two guides.

    The error of an array is ``max|a - n| / max(max|a|, max|n|)`` between its analytic
    gradient ``a`` (backpropagation) and its numerical one ``n`` (finite differences).

    ``report`` is what ``mr.gradcheck.check_model`` or ``check_layer`` returns (or one
    result of ``check_function``/``check_loss``). As CS231n puts it: about 1e-7 or below
    (green) the analytic gradient is right; above 1e-2 (red) it is wrong; in between
    (orange) look closer, e.g. a ReLU kink crossed by the finite difference.

    Args:
        report: a list of :class:`~minired.gradcheck.GradCheckResult`, or one.
        ax: an Axes to draw into; None makes a new figure.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> mr.config.set_floatx("float64")
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
        >>> model.compile(optimizer="sgd", loss="categorical_crossentropy")
        >>> x, y = np.random.randn(5, 4), np.eye(3)[[0, 1, 2, 0, 1]]
        >>> report = mr.gradcheck.check_model(model, x, y)
        >>> fig = mr.plot.gradcheck(report)
        >>> fig.axes[0].get_yscale()
        'log'
    """
    results = [report] if isinstance(report, GradCheckResult) else list(report)
    if not results:
        raise ValueError("gradcheck: the report is empty: nothing was checked.")
    errors = np.array([result.relative_error for result in results], dtype=np.float64)
    colors = ["tab:green" if e <= RIGHT else "tab:orange" if e <= WRONG else "tab:red"
              for e in errors]

    ax = one_axes(ax, figsize=(max(4.0, 0.7 * len(results) + 2.5), 4.0))
    positions = np.arange(len(results))
    heights = np.maximum(errors, FLOOR)
    bars = ax.bar(positions, heights, color=colors)
    ax.bar_label(bars, [f"{e:.0e}" if e > 0 else "0" for e in errors], fontsize="small")
    ax.set_yscale("log")
    ax.axhline(RIGHT, color="tab:green", linestyle="--", label="1e-7: right below")
    ax.axhline(WRONG, color="tab:red", linestyle="--", label="1e-2: wrong above")
    ax.set_ylim(min(heights.min(), 1e-10) / 10, max(heights.max(), 1.0) * 10)  # guides in view
    ax.set_xticks(positions, [result.name for result in results], rotation=30, ha="right")
    ax.set(title=f"Gradient check: worst relative error {errors.max():.1e}",
           ylabel="relative error")
    ax.legend(fontsize="small", loc="upper left")
    return ax.figure
