"""``model``: a diagram of a model's layers, from the input at the top to the output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minired.plot.canvas import one_axes
from minired.plot.inside import activation_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Box colours by layer type; other types are grey.
COLORS = {"Input": "#e0e0e0", "Dense": "#cfe2f3", "Activation": "#d9ead3",
          "Dropout": "#fce5cd", "Flatten": "#ead1dc"}


def model(model: Any, ax: Axes | None = None) -> Figure:
    """Draw the layers as boxes from top to bottom: name, type, output shape, parameters.

    The same facts as ``model.summary()``, drawn: the Input first, then one box per layer
    with its name and type (and activation, or dropout rate), the shape of its output
    (``None`` is the batch size) and how many numbers it learns.

    Args:
        model: a built model (start it with ``mr.Input(shape)``, or call ``build``).
        ax: an Axes to draw into; None makes a new figure.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = mr.plot.model(model)
        >>> [t.get_text() for t in fig.axes[0].texts][:2]
        ['Input', 'output (None, 4)']
    """
    if not model.built:
        raise ValueError("model: the model is not built yet, so its shapes are unknown. "
                         "Start it with mr.Input(shape), or call model.build(input_shape), "
                         "fit or predict once.")
    boxes = [("Input", "Input", f"output {tuple(model.input_shape)}")]
    shape = model.input_shape
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        boxes.append((f"{layer.name}: {_kind(layer)}", type(layer).__name__,
                      f"output {tuple(shape)}  ·  {layer.count_params():,} params"))

    ax = one_axes(ax, figsize=(4.6, 0.9 * len(boxes) + 0.5))
    from matplotlib.patches import FancyBboxPatch  # matplotlib is there: we have axes
    height, gap = 0.64, 1.0                             # box i is centred at y = -i
    for i, (title, kind, details) in enumerate(boxes):
        ax.add_patch(FancyBboxPatch((0.05, -i - height / 2), 0.9, height,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=COLORS.get(kind, "#eeeeee"), edgecolor="0.35"))
        ax.text(0.5, -i + 0.12, title, ha="center", va="center", fontweight="bold")
        ax.text(0.5, -i - 0.14, details, ha="center", va="center", fontsize="small")
        if i > 0:                                       # an arrow from the box above
            ax.annotate("", xy=(0.5, -i + height / 2), xytext=(0.5, -i + gap - height / 2),
                        arrowprops={"arrowstyle": "-|>", "color": "0.35"})
    ax.set(xlim=(0, 1), ylim=(-len(boxes) + 0.5, 0.5))
    ax.axis("off")
    ax.set_title(f"{model.name}: {model.count_params():,} parameters")
    return ax.figure


def _kind(layer: Any) -> str:
    """The layer's type, with what tells it apart: ``Dense, relu`` or ``Dropout, rate 0.2``."""
    kind = type(layer).__name__
    if activation_name(layer):
        return f"{kind}, {activation_name(layer)}"
    if hasattr(layer, "rate"):
        return f"{kind}, rate {layer.rate:g}"
    return kind
