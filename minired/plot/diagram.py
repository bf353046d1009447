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
    if type(model).__name__ == "Sequential":
        boxes = [("Input", "Input", f"output {tuple(model.input_shape)}")]
        shape = model.input_shape
        for layer in model.layers:
            shape = layer.compute_output_shape(shape)
            boxes.append((f"{layer.name}: {_kind(layer)}", type(layer).__name__,
                          f"output {tuple(shape)}  ·  {layer.count_params():,} params"))
        arrows = [(i - 1, i) for i in range(1, len(boxes))]
    else:
        boxes, arrows = _graph_boxes(model)

    ax = one_axes(ax, figsize=(4.6, 0.9 * len(boxes) + 0.5))
    from matplotlib.patches import FancyBboxPatch  # matplotlib is there: we have axes
    height = 0.64                                       # box i is centred at y = -i
    for i, (title, kind, details) in enumerate(boxes):
        ax.add_patch(FancyBboxPatch((0.05, -i - height / 2), 0.9, height,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=COLORS.get(kind, "#eeeeee"), edgecolor="0.35"))
        ax.text(0.5, -i + 0.12, title, ha="center", va="center", fontweight="bold")
        ax.text(0.5, -i - 0.14, details, ha="center", va="center", fontsize="small")
    for source, target in arrows:                       # straight down, or curved around
        straight = target == source + 1
        ax.annotate("", xy=(0.5 if straight else 0.95, -target + (height / 2 if straight else 0)),
                    xytext=(0.5 if straight else 0.95,
                            -source - (height / 2 if straight else 0)),
                    arrowprops={"arrowstyle": "-|>", "color": "0.35",
                                "connectionstyle": "arc3" if straight else "arc3,rad=-0.4"})
    skips = any(target != source + 1 for source, target in arrows)
    ax.set(xlim=(0, 1.25 if skips else 1), ylim=(-len(boxes) + 0.5, 0.5))
    ax.axis("off")
    ax.set_title(f"{model.name}: {model.count_params():,} parameters")
    return ax.figure


def _graph_boxes(model: Any) -> tuple[list, list]:
    """A functional model: one box per layer (InputLayers as "Input"), in Keras' order, and an
    arrow for every tensor a layer reads (curved when it skips boxes: a fork or a skip)."""
    layers = model._operations      # the layers, and the nodes of Keras operations (an add)
    position = {id(layer): i for i, layer in enumerate(layers)}
    own = set(map(id, model._nodes))
    boxes, arrows = [], []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind == "InputLayer":
            boxes.append((f"{layer.name}: Input", "Input", f"output {tuple(layer.batch_shape)}"))
            continue
        nodes = [n for n in layer._inbound_nodes if id(n) in own]
        shapes = [t.shape for t in nodes[0].outputs] if nodes else []
        shape = shapes[0] if len(shapes) == 1 else shapes
        boxes.append((f"{layer.name}: {_kind(layer)}", kind,
                      f"output {shape}  ·  {layer.count_params():,} params"))
        arrows += [(position[id(t._keras_history.operation)], i)
                   for n in nodes for t in n.input_tensors]
    return boxes, arrows


def _kind(layer: Any) -> str:
    """The layer's type, with what tells it apart: ``Dense, relu`` or ``Dropout, rate 0.2``."""
    kind = type(layer).__name__
    if activation_name(layer):
        return f"{kind}, {activation_name(layer)}"
    if hasattr(layer, "rate"):
        return f"{kind}, rate {layer.rate:g}"
    return kind
