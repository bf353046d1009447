"""What a classifier does with the data: ``decision_boundary`` and ``confusion_matrix``.

Both turn the model's outputs into one class per sample the way the losses read them:
several outputs (softmax) give the class of the largest, ``argmax``; one output (sigmoid)
gives class 1 above ``threshold`` (0.5 for a probability; use 0.0 if the model outputs
logits). The targets ``y`` may be one-hot rows, integer labels or 0/1 labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minired.plot.canvas import one_axes, pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def decision_boundary(model: Any, x: np.ndarray, y: np.ndarray, ax: Axes | None = None,
                      resolution: int = 300, threshold: float = 0.5,
                      class_names: Sequence[str] | None = None) -> Figure:
    """Colour the plane by the class the model predicts there, and draw the points on top.

    For models of two input features: a grid of ``resolution × resolution`` points spanning
    ``x`` (plus a 10% margin) is classified, and each sample is drawn in its true class's
    colour. A point on the wrong colour is a training error; the boundary's shape shows how
    flexible the model is.

    Args:
        model: a model with two inputs (``predict`` on ``(N, 2)`` arrays).
        x: the samples, shape ``(N, 2)``.
        y: their classes: one-hot rows, integer labels or 0/1 labels.
        ax: an Axes to draw into; None makes a new figure.
        resolution: grid points along each axis.
        threshold: for a model of one output, the value above which it predicts class 1.
        class_names: a name for each class, for the legend.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> model = mr.Sequential([mr.Input((2,)), mr.layers.Dense(1, activation="sigmoid")])
        >>> x, y = np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([0, 1])
        >>> fig = mr.plot.decision_boundary(model, x, y, resolution=50)
        >>> fig.axes[0].images[0].get_array().shape     # the predicted class at each point
        (50, 50)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            f"decision_boundary: draws models of 2 input features, so `x` must have shape "
            f"(samples, 2); got {x.shape}. Pick two features (x[:, [i, j]]) and train a model "
            "on them, or look at confusion_matrix instead.")
    if len(x) == 0:
        raise ValueError("decision_boundary: `x` has no samples to draw.")
    true = true_classes(y, len(x), "decision_boundary")

    # The grid: column j has first feature g0[j], row i has second feature g1[i].
    low, high = x.min(axis=0), x.max(axis=0)
    margin = np.where(high > low, 0.1 * (high - low), 0.5)
    g0 = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    g1 = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid0, grid1 = np.meshgrid(g0, g1)
    points = np.column_stack([grid0.ravel(), grid1.ravel()])
    outputs = model.predict(points, batch_size=len(points), verbose=0)
    region = predicted_classes(outputs, threshold).reshape(grid0.shape)

    n_classes = max(_output_classes(outputs), int(true.max()) + 1, int(region.max()) + 1)
    _check_class_names(class_names, n_classes, "decision_boundary")
    colors = _class_colors(n_classes)
    ax = one_axes(ax, figsize=(5.5, 4.5))
    from matplotlib.colors import ListedColormap  # matplotlib is there: we have axes
    step0, step1 = g0[1] - g0[0], g1[1] - g1[0]        # each cell is centred on its point
    ax.imshow(region, origin="lower", interpolation="nearest", aspect="auto", alpha=0.3,
              cmap=ListedColormap(colors), vmin=-0.5, vmax=n_classes - 0.5,
              extent=(g0[0] - step0 / 2, g0[-1] + step0 / 2, g1[0] - step1 / 2, g1[-1] + step1 / 2))
    for c in np.unique(region)[1:]:         # a line around every class region but one
        ax.contour(g0, g1, region == c, levels=[0.5], colors="black", linewidths=0.8)
    for c in range(n_classes):
        mine = true == c
        if mine.any():
            ax.scatter(x[mine, 0], x[mine, 1], s=18, color=colors[c], edgecolor="black",
                       linewidth=0.4, label=_class_name(c, class_names))
    accuracy = np.mean(predicted_classes(model.predict(x, verbose=0), threshold) == true)
    ax.set(title=f"Decision boundary (accuracy {accuracy:.1%})", xlabel="x[:, 0]",
           ylabel="x[:, 1]")
    ax.legend(title="true class", fontsize="small")
    return ax.figure


def confusion_matrix(model: Any, x: np.ndarray, y: np.ndarray, ax: Axes | None = None,
                     threshold: float = 0.5, class_names: Sequence[str] | None = None
                     ) -> Figure:
    """Count how often each true class is predicted as each class.

    Row ``i``, column ``j`` holds the samples of true class ``i`` that the model put in
    class ``j`` (scikit-learn's convention): the diagonal is right, every other cell is a
    kind of mistake. The numbers are written in the cells.

    Args:
        model: a classifier.
        x: the samples.
        y: their classes: one-hot rows, integer labels or 0/1 labels.
        ax: an Axes to draw into; None makes a new figure.
        threshold: for a model of one output, the value above which it predicts class 1.
        class_names: a name for each class, for the ticks.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = mr.plot.confusion_matrix(model, x, y)
        >>> int(fig.axes[0].images[0].get_array().sum()) == len(x)   # every sample, once
        True
    """
    x = np.asarray(x)
    true = true_classes(y, len(x), "confusion_matrix")
    outputs = model.predict(x, verbose=0)
    predicted = predicted_classes(outputs, threshold)
    n_classes = max(_output_classes(outputs), int(true.max()) + 1, int(predicted.max()) + 1)
    _check_class_names(class_names, n_classes, "confusion_matrix")
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)             # counts[true, predicted] += 1

    side = 0.4 * max(n_classes, 5)                      # inches of the matrix itself
    ax = one_axes(ax, figsize=(side + 1.2, side + 1.0))
    ax.imshow(counts, cmap="Blues", vmin=0)
    for i, j in np.ndindex(counts.shape):
        dark = counts[i, j] > counts.max() / 2
        ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                color="white" if dark else "black", fontsize="small")
    names = [_class_name(c, class_names) for c in range(n_classes)]
    ax.set_xticks(range(n_classes), names)
    ax.set_yticks(range(n_classes), names)
    accuracy = np.trace(counts) / counts.sum()
    ax.set(title=f"Confusion matrix (accuracy {accuracy:.1%})", xlabel="predicted class",
           ylabel="true class")
    return ax.figure


def true_classes(y: np.ndarray, n_samples: int, function: str) -> np.ndarray:
    """One integer class per sample from one-hot rows, integer labels or 0/1 labels.

    Example:
        >>> true_classes(np.array([[0, 1], [1, 0]]), 2, "f"), true_classes([1.0, 0.0], 2, "f")
        (array([1, 0]), array([1, 0]))
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)                        # one-hot (or probabilities)
    elif y.ndim == 2:
        y = y[:, 0]                                     # (N, 1) labels
    if y.ndim != 1 or len(y) != n_samples:
        raise ValueError(f"{function}: `y` must hold one class per sample of x ({n_samples}), "
                         f"got shape {np.shape(y)}.")
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise ValueError(f"{function}: `y` must hold classes (numbers), got dtype {y.dtype}.")
    if np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError(f"{function}: `y` must hold classes: one-hot rows, or the integers "
                         f"0, 1, 2...; got values such as {y[(y < 0) | (y != np.round(y))][0]}.")
    return y.astype(int)


def predicted_classes(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The predicted class of each row: argmax of several outputs, or one output > threshold.

    Example:
        >>> predicted_classes(np.array([[0.1, 0.7, 0.2]])), predicted_classes(np.array([[0.8]]))
        (array([1]), array([1]))
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return np.argmax(outputs, axis=1)
    return (outputs.reshape(len(outputs)) > threshold).astype(int)


def _output_classes(outputs: np.ndarray) -> int:
    """How many classes the model can name: its outputs, or 2 for a single output."""
    return outputs.shape[1] if outputs.ndim == 2 and outputs.shape[1] > 1 else 2


def _check_class_names(class_names: Sequence[str] | None, n_classes: int, function: str
                       ) -> None:
    if class_names is not None and len(class_names) < n_classes:
        raise ValueError(f"{function}: `class_names` must name all {n_classes} classes, got "
                         f"{len(class_names)}: {list(class_names)}.")


def _class_name(c: int, class_names: Sequence[str] | None) -> str:
    return str(c) if class_names is None else str(class_names[c])


def _class_colors(n_classes: int) -> list:
    """Distinct colours, one per class (tab10, or tab20 beyond 10 classes)."""
    plt = pyplot()
    palette = plt.get_cmap("tab10" if n_classes <= 10 else "tab20").colors
    return [palette[c % len(palette)] for c in range(n_classes)]
