"""Inside the network: histograms of ``weights``, ``gradients`` and ``activations``.

What to look for:

- **dead ReLUs**: a ReLU unit whose output is 0 for every sample learns nothing (its
  gradient is 0 too). ``activations`` counts them.
- **vanishing gradients**: the gradients of the first layers are orders of magnitude
  smaller than those of the last ones, so the first layers barely learn. ``gradients``
  draws ``log10 |∂L/∂w|`` on one shared axis, so a layer far to the left stands out.
- **exploding gradients**: the opposite, far to the right (and soon a NaN loss).
- **saturation**: sigmoid or tanh outputs piled up at their limits (0 and 1, or -1 and
  1), where their derivative is nearly 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from minired.plot.canvas import panel_axes, rows_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def weights(model: Any, axes: Sequence[Axes] | None = None, bins: int = 30, log: bool = False
            ) -> Figure:
    """Histogram every weight array, one row of panels per layer (kernel, then bias).

    Each panel also gives the mean ``|w|`` and how many weights are exactly 0.

    Args:
        model: a built model.
        axes: one Axes per weight array to draw into; None makes a new figure.
        bins: bars per histogram.
        log: draw ``log10 |w|`` instead of ``w`` (exact zeros are then only counted).

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = mr.plot.weights(model)
        >>> [ax.get_title() for ax in fig.axes]
        ['dense/kernel (4, 3)', 'dense/bias (3,)']
    """
    rows = _per_layer(model, model.weights, "weights")
    return _histograms(rows, "weights", "w", axes, bins, log,
                       title=f"Weights of {model.name}")


def gradients(model: Any, x: np.ndarray, y: np.ndarray, axes: Sequence[Axes] | None = None,
              bins: int = 30, log: bool = True) -> Figure:
    """Histogram ``∂L/∂w`` of every weight array on ``(x, y)``, one row per layer.

    The gradients are those of one full-batch step, ``model.loss_and_gradients(x, y)``
    (no weight changes). By default the panels show ``log10 |∂L/∂w|`` on one shared axis:
    each step to the right is ten times larger, so layers whose gradients vanish or explode
    stand apart. Exact zeros have no logarithm: each panel counts them.

    Args:
        model: a compiled model.
        x: inputs.
        y: targets, as for ``fit``.
        axes: one Axes per weight array to draw into; None makes a new figure.
        bins: bars per histogram.
        log: draw ``log10 |∂L/∂w|`` (True) or ``∂L/∂w`` itself (False).

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> fig = mr.plot.gradients(model, x, y)
        >>> fig.axes[0].get_xlabel()
        'log10 |∂L/∂w|'
    """
    loss, grads = model.loss_and_gradients(x, y)
    rows = _per_layer(model, grads, "gradients")
    return _histograms(rows, "gradients", "∂L/∂w", axes, bins, log,
                       title=f"Gradients on {len(np.asarray(x))} samples (loss {loss:.4g})")


def activations(model: Any, x: np.ndarray, axes: Sequence[Axes] | None = None, bins: int = 30
                ) -> Figure:
    """Histogram the output ``a = f(z)`` of every Dense and Activation layer on ``x``.

    The model runs once on all of ``x`` (``training=False``), and each layer's output is
    read from the cache that forward pass left in ``model.calls``. ReLU panels give the
    share of zero outputs and the **dead units**: units that output 0 for every sample of
    ``x``. Other panels give the mean and standard deviation.

    Args:
        model: a model.
        x: inputs (all of them go through the model in one batch).
        axes: one Axes per Dense/Activation call to draw into; None makes a new figure.
        bins: bars per histogram.

    Returns:
        The matplotlib Figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(8, activation="relu"),
        ...                        mr.layers.Dense(3, activation="softmax")])
        >>> fig = mr.plot.activations(model, np.random.randn(50, 4))
        >>> [ax.get_title() for ax in fig.axes]
        ['dense (relu)', 'dense_1 (softmax)']
    """
    model(x)        # one forward pass: model.calls holds (layer, cache) for each call
    outputs = []
    calls = Counter()
    for layer, cache in model.calls:
        a = getattr(cache, "a", None)       # Dense and Activation keep their output a = f(z)
        if a is None:
            continue                        # Dropout, Flatten: nothing new to see
        calls[layer.name] += 1
        again = f", call {calls[layer.name]}" if calls[layer.name] > 1 else ""
        outputs.append((f"{layer.name} ({activation_name(layer)}{again})", layer, a))
    if not outputs:
        raise ValueError("activations: the model has no Dense or Activation layer, so there "
                         "is no activation to draw.")

    panels = panel_axes("activations", rows_of(len(outputs), min(len(outputs), 3)), axes,
                        panel_size=(4.0, 3.0))
    for ax, (title, layer, a) in zip(panels, outputs, strict=True):
        ax.hist(a.ravel(), bins=bins, color="tab:purple")
        if activation_name(layer) == "relu":
            dead = int(np.sum(np.all(a == 0, axis=0)))       # 0 for every sample
            note = (f"zeros: {np.mean(a == 0):.0%} of outputs\n"
                    f"dead units: {dead} of {a.shape[1]}")
        else:
            note = f"mean {np.mean(a):.3g}, std {np.std(a):.3g}"
        _corner_note(ax, note)
        ax.set(title=title, xlabel="a = f(z)", ylabel="count")
    figure = panels[0].figure
    if axes is None:
        figure.suptitle(f"Activations on {len(outputs[0][2])} samples")
    return figure


def activation_name(layer: Any) -> str:
    """The name of a layer's activation function (``"relu"``), or ``""`` if it has none."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return ""
    return getattr(activation, "__name__", type(activation).__name__)


def _per_layer(model: Any, arrays: list[np.ndarray], function: str
               ) -> list[list[tuple[str, np.ndarray]]]:
    """Group ``arrays`` (in ``get_weights()`` order) by layer: ``[[(title, array)...]...]``."""
    rows, start = [], 0
    for layer in model.unique_layers:
        count = len(layer.weights)
        if count:
            names = _weight_names(layer)
            rows.append([(f"{layer.name}/{name} {array.shape}", array)
                         for name, array in zip(names, arrays[start:start + count], strict=True)])
        start += count
    if not rows:
        raise ValueError(f"{function}: the model has no weights yet. Start it with mr.Input("
                         "shape), or call model.build(input_shape), fit or predict once.")
    return rows


def _weight_names(layer: Any) -> list[str]:
    """``kernel``/``bias`` for the arrays a layer keeps under those names, else ``weight_i``
    (the names ``mr.gradcheck`` uses)."""
    names = []
    for i, weight in enumerate(layer.weights):
        named = [attr for attr in ("kernel", "bias") if getattr(layer, attr, None) is weight]
        names.append(named[0] if named else f"weight_{i}")
    return names


def _histograms(rows: list[list[tuple[str, np.ndarray]]], function: str, symbol: str,
                axes: Sequence[Axes] | None, bins: int, log: bool, title: str) -> Figure:
    """One histogram per array, with its mean magnitude and its count of exact zeros."""
    panels = panel_axes(function, [len(row) for row in rows], axes, panel_size=(4.0, 2.8),
                        sharex=log)
    arrays = [(name, np.asarray(array, dtype=np.float64).ravel()) for row in rows
              for name, array in row]
    if log:     # the same bars for every panel, so that their heights compare
        exponents = np.concatenate([np.log10(np.abs(v[v != 0])) for _, v in arrays])
        bins = np.linspace(exponents.min(), exponents.max(), bins + 1) if exponents.size else bins
    for ax, (name, values) in zip(panels, arrays, strict=True):
        zeros = int(np.sum(values == 0))
        if log:
            ax.hist(np.log10(np.abs(values[values != 0])), bins=bins, color="tab:blue")
            ax.set_xlabel(f"log10 |{symbol}|")
        else:
            ax.hist(values, bins=bins, color="tab:blue")
            ax.set_xlabel(symbol)
        share = f" ({zeros / values.size:.0%})" if zeros else ""
        _corner_note(ax, f"mean |{symbol}| {np.mean(np.abs(values)):.2g}\n"
                         f"zeros: {zeros} of {values.size}{share}")
        ax.set(title=name, ylabel="count")
    if log:                                         # sharex hides the upper rows' labels
        for ax in panels:
            ax.xaxis.set_tick_params(labelbottom=True)
    figure = panels[0].figure
    if axes is None:
        figure.suptitle(title)
    return figure


def _corner_note(ax: Axes, text: str) -> None:
    """Write ``text`` in the top right corner of ``ax``, above the bars."""
    ax.set_ylim(0, ax.get_ylim()[1] * 1.4)              # room for the note
    ax.text(0.97, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize="small",
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"})
