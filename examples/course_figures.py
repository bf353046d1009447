"""The course's teaching figures, computed by minired's own code and drawn in Spanish.

Run:  .venv/bin/python examples/course_figures.py            (writes docs/img/*.png)
      .venv/bin/python examples/course_figures.py FOLDER     (writes FOLDER/*.png)

=============================  ============  ==================================================
file                           lesson        what it shows
=============================  ============  ==================================================
``activaciones.png``           3             each activation ``f`` and ``f.backward(z, a, 1)``
``descenso-del-gradiente.png`` 5 and 7       SGD, momentum, RMSprop and Adam on a long bowl;
                                             a learning rate that diverges
``grafo-backprop.png``         5             one ``Dense(1)``: forward numbers, gradients back
``dropout-mascaras.png``       8             three training masks of a 4-6-6-2 network
``regularizacion.png``         9 and 10      overfitting: plain, Dropout, L2, EarlyStopping
``grafo-residual.png``         13            mean |δ| at each tensor of a 4-layer network,
                                             with skip connections and without
``cinta-autodiff.png``         15            the tape of ``y = tanh(x @ W + b)``: three
                                             records forward, their VJPs walked backwards
``filtros-aprendidos.png``     16            the 3x3 kernels of a small convnet's first
                                             Conv2D, before and after training on the digits
``mapas-caracteristicas.png``  16            two digits and the feature maps of both Conv2D
                                             layers of that trained convnet
=============================  ============  ==================================================

Each figure is two functions: ``*_data()`` computes the numbers with minired (the optimizers'
``apply_gradients``, ``loss_and_gradients``, the Dropout masks, ``fit``) and returns them in
a dict, which ``tests/test_course_figures.py`` checks against hand formulas; ``*_figure(data)``
draws them and returns the matplotlib Figure. Seeded: the same PNG bytes on every run, in a
few seconds.
"""

import argparse
import functools
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import make_moons

import minired as mr

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
DPI = 110

TRAIN, VALIDATION, GRADIENT = "tab:blue", "tab:orange", "tab:red"


def number(value: float, digits: int = 3) -> str:
    """``-0.1471`` -> ``'−0.147'``: the typographic minus sign, as matplotlib's ticks."""
    return f"{value:.{digits}f}".replace("-", "−")


def number_e(value: float) -> str:
    """``0.000251`` -> ``'2.5e−04'``: two significant digits, for values of any size."""
    return f"{value:.1e}".replace("-", "−")


# -- 1. activations (lesson 3) ----------------------------------------------------------------

SOFTMAX_OTHER_LOGITS = (0.0, 0.0)   # z₂ and z₃, fixed while z₁ moves


def activation_data(z: np.ndarray | None = None) -> dict:
    """``{name: {"z", "a", "derivative"}}`` for linear, relu, sigmoid, tanh and softmax
    (whose entry also holds ``"cross_derivative"``, ``∂a₁/∂z₂``, and ``"a2"``, ``a₂``).

    The derivative is minired's backward with ``δa = 1``: ``f.backward(z, a, 1) = f'(z)``.
    Softmax is not element-wise: for ``a₁ = softmax(z₁, z₂, z₃)₁`` with ``z₂, z₃`` fixed,
    ``f.backward(z, a, δa=(1, 0, 0))`` returns the first row of the Jacobian,
    ``(∂a₁/∂z₁, ∂a₁/∂z₂, ∂a₁/∂z₃) = (a₁(1 - a₁), -a₁a₂, -a₁a₃)``.
    """
    z = np.linspace(-4.0, 4.0, 321) if z is None else np.asarray(z, dtype=np.float64)
    data = {}
    for name in ("linear", "relu", "sigmoid", "tanh"):
        f = mr.activations.get(name)
        a = f(z)
        data[name] = {"z": z, "a": a, "derivative": f.backward(z, a, np.ones_like(z))}
    softmax = mr.activations.get("softmax")
    logits = np.column_stack([z] + [np.full_like(z, other) for other in SOFTMAX_OTHER_LOGITS])
    a = softmax(logits)
    first_row = softmax.backward(logits, a, np.tile([1.0, 0.0, 0.0], (len(z), 1)))
    data["softmax"] = {"z": z, "a": a[:, 0], "derivative": first_row[:, 0],
                       "cross_derivative": first_row[:, 1], "a2": a[:, 1]}
    return data


ACTIVATION_TITLES = {
    "linear": "linear:  a = z",
    "relu": "relu:  a = max(z, 0)",
    "sigmoid": "sigmoid:  $a = 1 / (1 + e^{-z})$",
    "tanh": "tanh:  a = tanh(z)",
    "softmax": "softmax:  $a_1 = e^{z_1} / \\Sigma_j\\, e^{z_j}$,  con $z_2 = z_3 = 0$",
}
ACTIVATION_DERIVATIVES = {
    "linear": "f′(z) = 1",
    "relu": "f′(z) = 1[z > 0]",
    "sigmoid": "f′(z) = a(1 − a)",
    "tanh": "f′(z) = 1 − a²",
}


def activation_figure(data: dict) -> Figure:
    """Five panels, ``a = f(z)`` and its derivative; the softmax panel shows two entries of
    its Jacobian."""
    figure = plt.figure(figsize=(13, 7.6), layout="constrained")
    grid = figure.add_gridspec(2, 6)
    cells = [grid[0, 0:2], grid[0, 2:4], grid[0, 4:6], grid[1, 1:3], grid[1, 3:5]]
    for cell, (name, curves) in zip(cells, data.items(), strict=True):
        ax = figure.add_subplot(cell)
        z, a, derivative = curves["z"], curves["a"], curves["derivative"]
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.plot(z, a, color=TRAIN, linewidth=2.4,
                label="a₁ = softmax(z)₁" if name == "softmax" else "a = f(z)")
        if name == "relu":          # a jump at 0: draw the two sides, and the value taken at 0
            for side, label in ((z < 0, ACTIVATION_DERIVATIVES[name]), (z > 0, None)):
                ax.plot(z[side], derivative[side], color=GRADIENT, linewidth=2, linestyle="--",
                        label=label)
            ax.plot([0], [1], "o", color=GRADIENT, markerfacecolor="white", zorder=3)
            ax.plot([0], [0], "o", color=GRADIENT, zorder=3)
            ax.annotate("en z = 0 vale 0\n(como TensorFlow)", xy=(0, 0), xytext=(-3.7, 1.6),
                        fontsize=9, color=GRADIENT, arrowprops={"arrowstyle": "->",
                                                                "color": GRADIENT})
        elif name == "softmax":
            ax.plot(z, derivative, color=GRADIENT, linewidth=2, linestyle="--",
                    label="∂a₁/∂z₁ = a₁(1 − a₁)")
            ax.plot(z, curves["cross_derivative"], color="tab:purple", linewidth=1.6,
                    linestyle=":", label="∂a₁/∂z₂ = −a₁a₂")
        else:
            ax.plot(z, derivative, color=GRADIENT, linewidth=2, linestyle="--",
                    label=ACTIVATION_DERIVATIVES[name])
        ax.set(title=ACTIVATION_TITLES[name], xlabel="z", xlim=(z[0], z[-1]))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    figure.text(0.5, 0.005,
                "Azul: la función de minired, f(z). Rojo: su derivada, f.backward(z, a, δa = 1). "
                "El softmax no es elemento a elemento: con δa = (1, 0, 0), backward da la fila "
                "de la jacobiana (∂a₁/∂z₁, ∂a₁/∂z₂, ∂a₁/∂z₃).",
                ha="center", va="bottom", fontsize=9)
    figure.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))
    figure.suptitle("Las activaciones de minired y sus derivadas", fontsize=14)
    return figure


# -- 2. gradient descent paths (lessons 5 and 7) ----------------------------------------------

BOWL = np.array([0.2, 4.0])         # L(w) = ½ (0.2 w₁² + 4 w₂²): twenty times steeper in w₂
START = (-4.5, 1.5)
STEPS = 30
DIVERGING_STEPS = 12


def bowl_loss(w: np.ndarray) -> np.ndarray:
    """``L(w) = ½ Σ_i BOWL_i w_i²`` over the last axis: a long, narrow valley."""
    return 0.5 * np.sum(BOWL * np.square(w), axis=-1)


def bowl_gradient(w: np.ndarray) -> np.ndarray:
    """``∂L/∂w = BOWL ⊙ w``."""
    return BOWL * w


def descent_path(optimizer, steps: int = STEPS, start=START) -> np.ndarray:
    """The points ``w₀, w₁, ... w_steps`` that ``optimizer`` visits on the bowl, shape
    ``(steps + 1, 2)``: each step is ``optimizer.apply_gradients([(∂L/∂w, w)])``, which
    updates the 2-vector ``w`` in place."""
    w = np.array(start, dtype=np.float64)
    points = [w.copy()]
    for _ in range(steps):
        optimizer.apply_gradients([(bowl_gradient(w), w)])
        points.append(w.copy())
    return np.array(points)


def _descent(optimizer, steps: int = STEPS) -> dict:
    """``{"optimizer", "points", "loss"}``: where ``optimizer`` goes, and L at each point."""
    points = descent_path(optimizer, steps)
    return {"optimizer": optimizer, "points": points, "loss": bowl_loss(points)}


def descent_data() -> dict:
    """Paths of minired's optimizers on :func:`bowl_loss`, and the losses along them.

    ``"paths"``: name -> :func:`_descent` of SGD, SGD with momentum, RMSprop and Adam, each
    with a learning rate that suits it; ``"slow_sgd"``: plain SGD at momentum's learning
    rate, drawn beside it; ``"diverging"``: SGD with a learning rate above ``2 / 4`` (the
    limit set by the steep direction), which multiplies ``w₂`` by ``1 - 4·lr`` at each step.
    """
    return {
        "paths": {
            "SGD": _descent(mr.optimizers.SGD(learning_rate=0.4)),
            "SGD con momentum": _descent(mr.optimizers.SGD(learning_rate=0.05, momentum=0.9)),
            "RMSprop": _descent(mr.optimizers.RMSprop(learning_rate=0.15)),
            "Adam": _descent(mr.optimizers.Adam(learning_rate=0.3)),
        },
        "slow_sgd": _descent(mr.optimizers.SGD(learning_rate=0.05)),
        "diverging": _descent(mr.optimizers.SGD(learning_rate=0.55), DIVERGING_STEPS),
    }


def _optimizer_label(optimizer) -> str:
    """``"lr = 0.05, momentum = 0.9"``: the settings that matter on the figure."""
    label = f"lr = {optimizer.learning_rate:.2g}"
    if getattr(optimizer, "momentum", 0):
        label += f", momentum = {optimizer.momentum:g}"
    return label


def _bowl_contours(ax, extent: tuple[float, float, float, float]) -> None:
    w1, w2 = np.meshgrid(np.linspace(extent[0], extent[1], 300),
                         np.linspace(extent[2], extent[3], 300))
    loss = bowl_loss(np.stack([w1, w2], axis=-1))
    ax.contour(w1, w2, loss, levels=np.geomspace(0.01, loss.max(), 12), colors="0.6",
               linewidths=0.7)
    ax.plot([0], [0], "*", color="black", markersize=10)
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="w₁", ylabel="w₂")


def _draw_path(ax, points: np.ndarray, color: str, label: str, **style) -> None:
    style = {"marker": "o", "markersize": 3, "linewidth": 1.4, **style}
    ax.plot(points[:, 0], points[:, 1], color=color, label=label, **style)
    ax.plot(*points[0], "s", color=color, markersize=6)


PATH_COLORS = {"SGD": "tab:blue", "SGD con momentum": "tab:green", "RMSprop": "tab:purple",
               "Adam": "tab:red"}


def descent_figure(data: dict) -> Figure:
    """Four panels of paths on the same contours, the diverging path, and L per step."""
    figure, grid = plt.subplots(2, 3, figsize=(14, 7.6), layout="constrained")
    bowl_extent = (-5.0, 1.5, -2.0, 2.0)
    for ax, (name, path) in zip(grid[:, :2].ravel(), data["paths"].items(), strict=True):
        _bowl_contours(ax, bowl_extent)
        if name == "SGD con momentum":
            _draw_path(ax, data["slow_sgd"]["points"], "0.45",
                       f"sin momentum ({_optimizer_label(data['slow_sgd']['optimizer'])})",
                       linestyle="--")
        _draw_path(ax, path["points"], PATH_COLORS[name], name)
        ax.set_title(f"{name}  ({_optimizer_label(path['optimizer'])})")
        ax.legend(loc="lower right", fontsize=8)

    ax = grid[0, 2]
    diverging = data["diverging"]
    _bowl_contours(ax, (-5.0, 1.5, -12.0, 12.0))
    _draw_path(ax, diverging["points"], "black", "cada paso se pasa de largo")
    ax.set_title(f"SGD ({_optimizer_label(diverging['optimizer'])}): diverge")
    steep, lr = BOWL[1], diverging["optimizer"].learning_rate
    ax.text(0.97, 0.03, f"lr > 2/{steep:g}: en la dirección empinada\n"
            f"w₂ ← (1 − {steep:g}·lr)·w₂ = {number(1 - steep * lr, 1)}·w₂",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "0.7"})
    ax.legend(loc="upper left", fontsize=8)

    ax = grid[1, 2]
    for name, path in data["paths"].items():
        ax.plot(path["loss"], color=PATH_COLORS[name], label=name)
    ax.plot(diverging["loss"], color="black", label="SGD que diverge")
    ax.set(yscale="log", xlabel="paso", ylabel="L(w)", title="La pérdida en cada paso",
           ylim=(1e-4, 1e3))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.suptitle(f"Descenso del gradiente sobre L(w) = ½ ({BOWL[0]:g} w₁² + {BOWL[1]:g} w₂²) "
                    "con los optimizadores de minired (■ inicio, ★ mínimo)", fontsize=13)
    return figure


# -- 3. backpropagation through one Dense layer (lesson 5) ------------------------------------

GRAPH_EXAMPLE = {"x": 1.5, "w": 0.8, "b": -0.5, "y": 1.0, "lr": 0.1}


def backprop_data(x: float = GRAPH_EXAMPLE["x"], w: float = GRAPH_EXAMPLE["w"],
                  b: float = GRAPH_EXAMPLE["b"], y: float = GRAPH_EXAMPLE["y"],
                  lr: float = GRAPH_EXAMPLE["lr"]) -> dict:
    """One sample through ``Dense(1, activation="sigmoid")`` with the ``mse`` loss, one output.

    Forward ``z = w·x + b``, ``a = σ(z)``, ``L = (a - y)²``; backward, all from minired:
    ``∂L/∂a`` from the loss, ``∂L/∂z`` from ``sigmoid.backward``, ``∂L/∂w`` and ``∂L/∂b``
    from ``loss_and_gradients``, ``∂L/∂x`` from the model's backward; then one SGD step
    (``train_on_batch``).
    """
    model = mr.Sequential([mr.Input((1,)), mr.layers.Dense(1, activation="sigmoid")],
                          name="una_neurona")
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=lr), loss="mse")
    model.set_weights([np.array([[w]]), np.array([b])])
    inputs, targets = np.array([[x]]), np.array([[y]])
    loss, (grad_kernel, grad_bias) = model.loss_and_gradients(inputs, targets)
    layer = model.layers[0]
    _, z, a = layer.cache                                   # what the forward pass kept
    _, grad_a = model.loss.value_and_gradient(targets, a)   # ∂L/∂a
    sigmoid_slope = layer.activation.backward(z, a, np.ones_like(a))   # σ'(z), δa = 1
    grad_z = layer.activation.backward(z, a, grad_a)        # ∂L/∂z = ∂L/∂a · σ'(z)
    grad_x = model.backward(grad_a)                         # ∂L/∂x, sent to the layer below
    model.train_on_batch(inputs, targets)                   # w ← w − lr·∂L/∂w
    new_w, new_b = model.get_weights()
    return {"x": x, "w": w, "b": b, "y": y, "lr": lr, "wx": w * x,
            "z": float(z[0, 0]), "a": float(a[0, 0]), "loss": float(loss),
            "sigmoid_slope": float(sigmoid_slope[0, 0]),
            "dL_da": float(grad_a[0, 0]), "dL_dz": float(grad_z[0, 0]),
            "dL_dw": float(grad_kernel[0, 0]), "dL_db": float(grad_bias[0]),
            "dL_dx": float(grad_x[0, 0]),
            "new_w": float(new_w[0, 0]), "new_b": float(new_b[0])}


def _operation(ax, xy, symbol, note, note_at=(0.0, 0.5), note_align="center"):
    """An operation as a circle, with its local derivative written near it in grey."""
    ax.text(*xy, symbol, ha="center", va="center", fontsize=15, zorder=3,
            bbox={"boxstyle": "circle,pad=0.3", "facecolor": "white", "edgecolor": "black",
                  "linewidth": 1.5})
    ax.text(xy[0] + note_at[0], xy[1] + note_at[1], note, ha=note_align,
            va="bottom" if note_at[1] > 0 else "top", fontsize=9, color="0.4")


def _edge(ax, points, value, gradient=None, shrink_start=0.0, shrink_end=0.38,
          label_segment=0, label_at=0.5, labels_right=False):
    """A path of straight segments ending in an arrowhead, carrying ``value`` forward (black,
    above the segment ``label_segment``) and ``gradient`` back (red, below it); with
    ``labels_right`` the value is written to the right of a vertical segment instead."""
    points = [np.asarray(point, float) for point in points]
    first = (points[1] - points[0]) / np.linalg.norm(points[1] - points[0])
    last = (points[-1] - points[-2]) / np.linalg.norm(points[-1] - points[-2])
    points[0], points[-1] = points[0] + shrink_start * first, points[-1] - shrink_end * last
    if len(points) > 2:
        ax.plot(*np.array(points[:-1]).T, color="black", linewidth=1.6)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.6,
                            "shrinkA": 0, "shrinkB": 0})
    start, end = points[label_segment], points[label_segment + 1]
    middle = start + label_at * (end - start)
    if labels_right:
        ax.text(middle[0] + 0.12, middle[1], value, ha="left", va="center", fontsize=11)
        return
    ax.text(middle[0], middle[1] + 0.14, value, ha="center", va="bottom", fontsize=11)
    if gradient is not None:
        ax.text(middle[0], middle[1] - 0.14, gradient, ha="center", va="top", fontsize=10.5,
                color=GRADIENT)


def backprop_figure(data: dict) -> Figure:
    """The circuit x, w → × → + (b) → σ → (a − y)² → L: on every arrow the value that goes
    forward (black) and ``∂L/∂`` of that value, coming back (red)."""
    n = {key: number(value) for key, value in data.items()}
    figure, ax = plt.subplots(figsize=(13.5, 6.0), layout="constrained")
    ax.set(xlim=(0, 14.2), ylim=(-0.9, 5.4))
    ax.axis("off")

    from matplotlib.patches import FancyBboxPatch
    for (left, width), label in (((3.0, 6.3), 'capa Dense(1, activation="sigmoid")'),
                                 ((10.9, 1.8), 'pérdida "mse"')):
        ax.add_patch(FancyBboxPatch((left, 0.0), width, 5.0, boxstyle="round,pad=0.1",
                                    facecolor="#f4f6f9", edgecolor="0.6", linestyle="--"))
        ax.text(left + width / 2, 4.9, label, ha="center", va="top", fontsize=10,
                color="0.35")

    row = 2.8
    times, plus, sigma, square = (4.0, row), (6.2, row), (8.6, row), (11.8, row)
    _operation(ax, times, "×", "∂(w·x)/∂w = x\n∂(w·x)/∂x = w", note_at=(0.45, -0.45),
               note_align="left")
    _operation(ax, plus, "+", "reparte el gradiente\na sus dos entradas")
    _operation(ax, sigma, "σ", f"σ′(z) = a(1 − a)\n= {n['sigmoid_slope']}")
    _operation(ax, square, "(·)²", "L = (a − y)²\n∂L/∂a = 2(a − y)")

    _edge(ax, [(0.2, 4.4), (4.0, 4.4), times], f"x = {number(data['x'], 1)}",
          f"∂L/∂x = {n['dL_dz']}·{number(data['w'], 1)} = {n['dL_dx']}", label_at=0.37)
    _edge(ax, [(0.2, 1.3), (3.0, 1.3), times], f"w = {number(data['w'], 1)}",
          f"∂L/∂w = {n['dL_dz']}·{number(data['x'], 1)} = {n['dL_dw']}", label_at=0.46)
    _edge(ax, [(0.2, 0.3), (6.2, 0.3), plus], f"b = {number(data['b'], 1)}",
          f"∂L/∂b = {n['dL_db']}", label_at=0.22)
    _edge(ax, [times, plus], f"w·x = {number(data['wx'], 1)}", n["dL_dz"], shrink_start=0.38)
    _edge(ax, [plus, sigma], f"z = {n['z']}", f"∂L/∂z = {n['dL_da']}·{n['sigmoid_slope']}"
          f"\n= {n['dL_dz']}", shrink_start=0.38)
    _edge(ax, [sigma, square], f"a = {n['a']}", f"∂L/∂a = {n['dL_da']}", shrink_start=0.38,
          label_at=0.47)
    _edge(ax, [(11.8, 0.35), square], f"y = {number(data['y'], 0)}", shrink_end=0.45,
          label_at=0.35, labels_right=True)
    _edge(ax, [square, (14.1, row)], f"L = {n['loss']}", "∂L/∂L = 1", shrink_start=0.5,
          shrink_end=0.0, label_at=0.6)

    ax.text(7.1, -0.75,
            f"minired: loss_and_gradients da ∂L/∂W = {n['dL_dw']} y ∂L/∂b = {n['dL_db']}.   "
            f"Un paso de SGD (lr = {data['lr']:g}): w ← {number(data['w'], 1)} − "
            f"{data['lr']:g}·({n['dL_dw']}) = {n['new_w']},  b ← {n['new_b']}.",
            ha="center", fontsize=10.5)
    ax.set_title("Backpropagation en una neurona: hacia delante, el valor (negro); hacia "
                 "atrás, ∂L/∂ de ese valor (rojo) = gradiente de arriba × derivada local",
                 fontsize=12.5)
    return figure


# -- 4. dropout masks (lesson 8) --------------------------------------------------------------

DROPOUT_SIZES = (4, 6, 6, 2)
DROPOUT_RATE = 0.5
DROPOUT_SEEDS = (3, 7)              # one per Dropout layer: the masks below are these seeds'
DROPOUT_STEPS = 3


def dropout_data(steps: int = DROPOUT_STEPS) -> dict:
    """The masks a 4-6-6-2 network's two ``Dropout(0.5)`` layers draw on ``steps`` training
    calls (``training=True``), read from ``layer.mask``, and the inference call."""
    mr.utils.set_random_seed(0)
    dropouts = [mr.layers.Dropout(DROPOUT_RATE, seed=seed) for seed in DROPOUT_SEEDS]
    model = mr.Sequential([
        mr.Input((DROPOUT_SIZES[0],)),
        mr.layers.Dense(DROPOUT_SIZES[1], activation="relu"), dropouts[0],
        mr.layers.Dense(DROPOUT_SIZES[2], activation="relu"), dropouts[1],
        mr.layers.Dense(DROPOUT_SIZES[3]),
    ], name="red_4_6_6_2")
    x = np.ones((1, DROPOUT_SIZES[0]), dtype="float32")
    masks, scales = [], []
    for _ in range(steps):
        model(x, training=True)
        masks.append([layer.mask[0].copy() for layer in dropouts])
        scales.append([float(layer.cache[1]) for layer in dropouts])
    model(x, training=False)
    return {"sizes": DROPOUT_SIZES, "rate": DROPOUT_RATE, "seeds": DROPOUT_SEEDS,
            "masks": masks, "scales": scales,
            "inference_caches": [layer.cache for layer in dropouts]}


def _draw_network(ax, sizes, masks) -> None:
    """Units as circles, one column per layer; a unit whose mask is 0 greyed and crossed."""
    kept = [np.ones(sizes[0])] + [np.asarray(m) for m in masks] + [np.ones(sizes[-1])]
    positions = [np.linspace(-(size - 1) / 2, (size - 1) / 2, size)[::-1] for size in sizes]
    for column in range(len(sizes) - 1):
        for i, yi in enumerate(positions[column]):
            for j, yj in enumerate(positions[column + 1]):
                on = bool(kept[column][i] and kept[column + 1][j])
                ax.plot([column, column + 1], [yi, yj], color="0.35" if on else "0.88",
                        linewidth=0.9 if on else 0.6, zorder=1.5 if on else 1)
    colors = ["tab:green"] + [TRAIN] * (len(sizes) - 2) + [VALIDATION]
    for column, (ys, keep, color) in enumerate(zip(positions, kept, colors, strict=True)):
        for y, on in zip(ys, keep, strict=True):
            ax.scatter(column, y, s=330, color=color if on else "0.92", zorder=2,
                       edgecolors="black" if on else "0.7", linewidths=1.2)
            if not on:
                ax.scatter(column, y, s=120, marker="x", color="0.55", zorder=3)
    ax.set(xlim=(-0.5, len(sizes) - 0.5), ylim=(-3.4, 3.2))
    ax.axis("off")


def dropout_figure(data: dict) -> Figure:
    """One panel per training step with its masks, and the inference network."""
    sizes, rate = data["sizes"], data["rate"]
    panels = len(data["masks"]) + 1
    figure, axes = plt.subplots(1, panels, figsize=(3.4 * panels, 4.4), layout="constrained")
    for step, (ax, masks) in enumerate(zip(axes[:-1], data["masks"], strict=True)):
        _draw_network(ax, sizes, masks)
        kept = int(sum(m.sum() for m in masks))
        ax.set_title(f"Entrenamiento, paso {step + 1}\n(training=True): "
                     f"{kept} de {sum(sizes[1:-1])} activas")
    _draw_network(axes[-1], sizes, [np.ones(size) for size in sizes[1:-1]])
    axes[-1].set_title("Inferencia: predict, evaluate\n(training=False): todas, sin escala")
    labels = ["entrada", "oculta 1", "oculta 2", "salida"]
    for ax in axes:
        for column, label in enumerate(labels):
            ax.text(column, -3.2, label, ha="center", fontsize=8, color="0.3")
    scale = data["scales"][0][0]
    figure.suptitle(f"Dropout({rate:g}) tras cada capa oculta: en cada paso, una máscara nueva. "
                    f"Las unidades activas se multiplican por 1/(1 − {rate:g}) = {scale:g}",
                    fontsize=12)
    return figure


# -- 5. overfitting, and three ways to fight it (lessons 9 and 10) ----------------------------

MOONS = {"n_train": 100, "n_validation": 400, "noise": 0.3}
REGULARIZATION_EPOCHS = 500
L2_FACTOR = 0.003
EARLY_STOPPING_PATIENCE = 20
VARIANTS = ("sin regularizar", "dropout", "l2", "early_stopping")


def moons_split() -> tuple[np.ndarray, ...]:
    """100 noisy two-moons points to train on, 400 others to validate: easy to overfit."""
    n = MOONS["n_train"] + MOONS["n_validation"]
    x, y = make_moons(n_samples=n, noise=MOONS["noise"], random_state=0)
    x, y = x.astype("float32"), y.astype("float32")
    cut = MOONS["n_train"]
    return x[:cut], y[:cut], x[cut:], y[cut:]


def regularization_model(variant: str) -> mr.Sequential:
    """A 2-64-64-1 network, much larger than 100 points need; ``"dropout"`` adds a
    ``Dropout(0.5)`` after each hidden layer, ``"l2"`` an L2 penalty on each kernel.

    Built after ``set_random_seed(0)`` it starts from the same weights in every variant
    (Dropout layers draw no initial weights; the L2 penalty does not change them).
    """
    mr.utils.set_random_seed(0)
    l2 = mr.regularizers.L2(L2_FACTOR) if variant == "l2" else None
    layers = [mr.Input((2,))]
    for _ in range(2):
        layers.append(mr.layers.Dense(64, activation="relu", kernel_regularizer=l2))
        if variant == "dropout":
            layers.append(mr.layers.Dropout(0.5))
    layers.append(mr.layers.Dense(1, activation="sigmoid"))
    model = mr.Sequential(layers, name=f"lunas_{variant}")
    model.compile(optimizer=mr.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy")
    return model


def regularization_data(epochs: int = REGULARIZATION_EPOCHS) -> dict:
    """Train the four variants, full batch (one step per epoch: smooth curves).

    Per variant: ``"loss"`` and ``"val_loss"`` as ``fit`` logs them; ``"final_epoch"``, the
    epoch (from 0) whose weights the model ends with (the last one, or the best one that
    EarlyStopping restored); ``"gap"``, ``val_loss - loss`` at that epoch; and
    ``"final_val_loss"``, what ``evaluate`` says with the weights the model ends with.
    """
    x_train, y_train, x_val, y_val = moons_split()
    results = {}
    for variant in VARIANTS:
        model = regularization_model(variant)       # "early_stopping": the plain network
        stop = (mr.callbacks.EarlyStopping(monitor="val_loss", patience=EARLY_STOPPING_PATIENCE,
                                           restore_best_weights=True)
                if variant == "early_stopping" else None)
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=len(x_train),
                            validation_data=(x_val, y_val), callbacks=[stop] if stop else [],
                            verbose=0)
        loss = np.array(history.history["loss"])
        val_loss = np.array(history.history["val_loss"])
        final = stop.best_epoch if stop else len(loss) - 1
        results[variant] = {"loss": loss, "val_loss": val_loss, "final_epoch": int(final),
                            "gap": float(val_loss[final] - loss[final]),
                            "final_val_loss": float(model.evaluate(x_val, y_val, verbose=0))}
        if stop:
            results[variant].update(stopped_epoch=int(stop.stopped_epoch),
                                    best_epoch=int(stop.best_epoch))
    return results


REGULARIZATION_TITLES = {
    "sin regularizar": "Sin regularización",
    "dropout": "Dropout(0.5) tras cada capa oculta",
    "l2": f"L2({L2_FACTOR:g}) en los kernels",
    "early_stopping": f"EarlyStopping(patience={EARLY_STOPPING_PATIENCE}, "
                      "restore_best_weights=True)",
}
REGULARIZATION_NOTES = {
    "dropout": "la pérdida de entrenamiento se mide con el dropout activo",
    "l2": "las dos pérdidas incluyen la penalización l2·ΣW²",
}


def regularization_figure(data: dict) -> Figure:
    """Four panels of training and validation loss; the gap between them shaded."""
    figure, grid = plt.subplots(2, 2, figsize=(12, 7.6), sharex=True, sharey=True,
                                layout="constrained")
    plain = data["sin regularizar"]
    for ax, (variant, run) in zip(grid.ravel(), data.items(), strict=True):
        epochs = np.arange(1, len(run["loss"]) + 1)
        if variant != "sin regularizar":
            ax.plot(np.arange(1, len(plain["val_loss"]) + 1), plain["val_loss"], color="0.6",
                    linestyle="--", linewidth=1, label="validación sin regularizar")
        ax.fill_between(epochs, run["loss"], run["val_loss"], color=VALIDATION, alpha=0.15)
        ax.plot(epochs, run["loss"], color=TRAIN, label="entrenamiento")
        ax.plot(epochs, run["val_loss"], color=VALIDATION, label="validación")
        final = run["final_epoch"]
        if variant == "early_stopping":
            ax.axvline(run["best_epoch"] + 1, color="tab:green", linestyle=":", linewidth=2,
                       label=f"mejor época: {run['best_epoch'] + 1} (pesos restaurados)")
            ax.axvline(run["stopped_epoch"] + 1, color=GRADIENT, linestyle="--",
                       label=f"paró en la época {run['stopped_epoch'] + 1}")
        where = "en la mejor época" if variant == "early_stopping" else "al final"
        ax.text(0.97, 0.55, f"{where}:\nvalidación {number(run['val_loss'][final], 2)}\n"
                f"hueco {number(run['gap'], 2)}", transform=ax.transAxes, ha="right",
                va="top", fontsize=10, bbox={"facecolor": "white", "edgecolor": "0.7"})
        title = REGULARIZATION_TITLES[variant]
        if variant in REGULARIZATION_NOTES:
            title += f"\n({REGULARIZATION_NOTES[variant]})"
        ax.set(title=title, ylim=(0, 1.2))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8.5)
    for ax in grid[1]:
        ax.set_xlabel("época")
    for ax in grid[:, 0]:
        ax.set_ylabel("pérdida (entropía cruzada)")
    figure.suptitle(f"Una red 2-64-64-1 con {MOONS['n_train']} puntos de make_moons "
                    f"(ruido {MOONS['noise']:g}): sobreajusta, y tres formas de frenarlo",
                    fontsize=13)
    return figure


# -- 6. gradients through a residual graph (lesson 13) ----------------------------------------

RESIDUAL = {"blocks": 4, "width": 8, "samples": 32}


def residual_model(skips: bool, blocks: int = RESIDUAL["blocks"],
                   width: int = RESIDUAL["width"]) -> mr.Model:
    """``blocks`` layers ``Dense(width, "sigmoid")`` named ``capa_k`` and a ``Dense(1)``
    named ``salida``, with the ``mse`` loss. With ``skips`` each layer sits in a residual
    block ``s + F(s)`` (an ``Add`` named ``suma_k``); without, the layers form a chain.

    Built after ``set_random_seed(0)``: both variants start from the same weights (Add has
    none).
    """
    mr.utils.set_random_seed(0)
    inputs = mr.Input((width,), name="x")
    s = inputs
    for k in range(1, blocks + 1):
        branch = mr.layers.Dense(width, activation="sigmoid", name=f"capa_{k}")(s)
        s = mr.layers.add([s, branch], name=f"suma_{k}") if skips else branch
    model = mr.Model(inputs, mr.layers.Dense(1, name="salida")(s),
                     name="residual" if skips else "cadena")
    model.compile(optimizer="sgd", loss="mse")
    return model


def watched_backward(model: mr.Model, x: np.ndarray, y: np.ndarray) -> dict:
    """``model.loss_and_gradients(x, y)`` with every layer's ``backward`` watched.

    The model's backward hands each layer ``δa``, the gradient of the tensor that layer
    made, already summed over the layers that read the tensor; the layer returns ``δx``
    (a list for a merge layer): what it sends back to each of its inputs. The watch is an
    attribute set on each layer object, which hides the class's method until it is deleted
    again. The gradient of the model's input is what ``model.backward`` returns.

    Returns ``{"loss", "grads", "delta", "sent"}``: ``delta`` maps each tensor, named after
    the layer that made it (``"x"`` for the input), to its ``δ``; ``sent`` maps each layer
    to the ``δx`` it returned.
    """
    delta, sent = {}, {}
    for layer in model.unique_layers:
        def watched(grad_outputs, layer=layer, backward=layer.backward, **options):
            delta[layer.name] = grad_outputs
            sent[layer.name] = backward(grad_outputs, **options)
            return sent[layer.name]
        layer.backward = watched
    try:
        loss, grads = model.loss_and_gradients(x, y)
    finally:
        for layer in model.unique_layers:
            del layer.backward
    delta["x"] = model.backward(delta[model.output_names[0]])   # δ of the model's input
    return {"loss": loss, "grads": grads, "delta": delta, "sent": sent}


def residual_data() -> dict:
    """The same 4-layer sigmoid network with and without skip connections, in float64, on
    32 random examples: ``{"residual": ..., "cadena": ...}``, each the
    :func:`watched_backward` of its model plus ``"model"``, ``"x"``, ``"y"`` and
    ``"size"``: ``{tensor name: mean |δ|}``."""
    previous = mr.config.floatx()
    mr.config.set_floatx("float64")
    try:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(RESIDUAL["samples"], RESIDUAL["width"]))
        y = rng.normal(size=(RESIDUAL["samples"], 1))
        data = {}
        for skips in (True, False):
            model = residual_model(skips)
            run = watched_backward(model, x, y)
            run.update(model=model, x=x, y=y,
                       size={name: float(np.mean(np.abs(grad)))
                             for name, grad in run["delta"].items()})
            data[model.name] = run
    finally:
        mr.config.set_floatx(previous)
    return data


def _layer_box(ax, xy, text, facecolor, circle=False, **style):
    """A layer as a box (a circle for an Add), filled with ``facecolor``; white letters on a
    dark fill."""
    dark = np.dot(matplotlib.colors.to_rgb(facecolor), [0.3, 0.59, 0.11]) < 0.5
    ax.text(*xy, text, ha="center", va="center", fontsize=13 if circle else 10.5, zorder=3,
            color="white" if dark else "black",
            bbox={"boxstyle": "circle,pad=0.25" if circle else "round,pad=0.45",
                  "facecolor": facecolor, "edgecolor": "black", "linewidth": 1.2, **style})


def _arrow(ax, start, end, connection="arc3", color="black"):
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 1.4,
                            "shrinkA": 0, "shrinkB": 0, "connectionstyle": connection})


def residual_figure(data: dict) -> Figure:
    """Two rows, the residual network and the chain: a box per layer, coloured by the mean
    |δ| of the tensor it makes, and that number written in red under the arrow that carries
    the tensor; in the residual row, each skip arc carries the δ the Add copies back."""
    from matplotlib.colors import LogNorm

    blocks, width = RESIDUAL["blocks"], RESIDUAL["width"]
    sizes = [s for run in data.values() for s in run["size"].values()]
    norm = LogNorm(vmin=min(sizes) / 2, vmax=max(sizes) * 2)
    cmap = plt.get_cmap("Reds")
    figure, axes = plt.subplots(2, 1, figsize=(15, 5.6), layout="constrained",
                                gridspec_kw={"height_ratios": [1.8, 1.0]})
    step = 1.25
    column = {"x": 0.0, "salida": (2 * blocks + 1) * step, "L": (2 * blocks + 2) * step}
    for k in range(1, blocks + 1):
        column[f"capa_{k}"], column[f"suma_{k}"] = (2 * k - 1) * step, 2 * k * step
    half = {"x": 0.2, "capa": 0.42, "suma": 0.2, "salida": 0.42, "L": 0.3}   # half widths

    def edge(name, side):
        return column[name] + side * half[name.split("_")[0]]

    for ax, (name, run) in zip(axes, data.items(), strict=True):
        skips = name == "residual"
        ax.set(xlim=(-0.5, column["L"] + 0.5), ylim=(-0.45, 1.2 if skips else 0.35))
        ax.axis("off")
        size = run["size"]
        chain = ["x"] + [f"{kind}_{k}" for k in range(1, blocks + 1)
                         for kind in (("capa", "suma") if skips else ("capa",))] + ["salida"]
        for layer in chain:
            _layer_box(ax, (column[layer], 0), "+" if layer.startswith("suma") else layer,
                       cmap(norm(size[layer])), circle=layer.startswith("suma"))
        _layer_box(ax, (column["L"], 0), "L", "white", linestyle="--")
        for here, there in zip(chain, chain[1:] + ["L"], strict=True):
            _arrow(ax, (edge(here, 1), 0), (edge(there, -1), 0))
            ax.text((edge(here, 1) + edge(there, -1)) / 2, -0.12, number_e(size[here]),
                    ha="center", va="top", fontsize=10, color=GRADIENT)
        if skips:
            for k in range(1, blocks + 1):
                source = "x" if k == 1 else f"suma_{k - 1}"
                start = (column[source] + 0.05, 0.2)
                end = (column[f"suma_{k}"] - 0.05, 0.25)
                _arrow(ax, start, end, connection="arc3,rad=-0.4", color="0.35")
                copied = run["sent"][f"suma_{k}"][0]      # what the Add sends down the skip
                ax.text((start[0] + end[0]) / 2, 0.78,
                        f"salto: {number_e(np.mean(np.abs(copied)))}",
                        ha="center", va="bottom", fontsize=9, color=GRADIENT)
        ratio = number_e(size["x"] / size["salida"])
        title = ("Con conexiones residuales: cada suma_k calcula s + capa_k(s)" if skips
                 else "Sin conexiones residuales: las mismas capas en cadena")
        title += f".   |δ| en x / |δ| en ŷ = {ratio}"
        ax.set_title(title, fontsize=12)
    colorbar = figure.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes,
                               shrink=0.85, pad=0.01)
    colorbar.set_label("media de |δ| del tensor que sale de la capa")
    figure.suptitle(f"El gradiente en cada tensor: capa_k = Dense({width}, sigmoid), + = Add, "
                    f"pérdida mse, float64, {RESIDUAL['samples']} ejemplos. En rojo, la media "
                    "de |δ| = |∂L/∂tensor| que vuelve por cada flecha", fontsize=12.5)
    return figure


# -- 7. the tape of automatic differentiation (lesson 15) -------------------------------------

TAPE_EXAMPLE = {"x": [[1.0, -0.5], [0.2, 0.8]], "W": [[0.6, -0.4], [0.3, 0.9]],
                "b": [0.1, -0.2], "t": [[0.5, -0.5], [0.0, 1.0]]}


def tape_data(example: dict = TAPE_EXAMPLE) -> dict:
    """``y = tanh(x @ W + b)`` and ``L = mean((y − t)²)`` on a GradientTape, in float64.

    Returns the forward values (``z1``, ``z``, ``y``, ``loss``), the names of the tape's
    records in order (``records``), the gradients ``tape.gradient`` gives (``dW``, ``db``,
    ``dx``) and every ``δ`` of the backward walk, each computed by calling the VJP kept in
    its record (``delta_y``, ``delta_z``, ``delta_z1``, and the VJP's outputs ``vjp_add``,
    ``vjp_matmul``), so the figure shows what the tape holds.
    """
    x, W, b, t = (np.array(example[key], dtype=np.float64) for key in ("x", "W", "b", "t"))
    with mr.autodiff.GradientTape() as tape:
        leaves = {"x": tape.watch(x), "W": mr.Variable(W, dtype="float64", name="W"),
                  "b": mr.Variable(b, dtype="float64", name="b")}
        z1 = mr.ops.matmul(leaves["x"], leaves["W"])
        z = z1 + leaves["b"]
        y = mr.ops.tanh(z)
        loss = mr.ops.mean(mr.ops.square(y - t))
    names = [record.vjp.__qualname__.split(".")[0] for record in tape.records]
    dx, dW, db, delta_y = tape.gradient(loss, [leaves["x"], leaves["W"], leaves["b"], y])
    by_output = {id(record.output): record for record in tape.records}
    (delta_z,) = by_output[id(y)].vjp(delta_y)            # record 3: tanh
    vjp_add = by_output[id(z)].vjp(delta_z)                # record 2: add, (δz₁, δb before Σ)
    vjp_matmul = by_output[id(z1)].vjp(vjp_add[0])         # record 1: matmul, (δx, δW)
    plain = {key: np.asarray(value, dtype=np.float64).copy()
             for key, value in {"z1": z1, "z": z, "y": y}.items()}
    return {"x": x, "W": W, "b": b, "t": t, **plain, "loss": float(loss), "records": names,
            "delta_y": np.asarray(delta_y), "delta_z": np.asarray(delta_z),
            "delta_z1": np.asarray(vjp_add[0]), "vjp_add": vjp_add, "vjp_matmul": vjp_matmul,
            "dx": dx, "dW": dW, "db": db}


def matrix(array: np.ndarray, digits: int = 2) -> str:
    """A small array as text, one row per line, with typographic minus signs."""
    rows = np.atleast_2d(array)
    return "\n".join("[" + "  ".join(f"{v:+.{digits}f}".replace("-", "−") for v in row) + "]"
                     for row in rows)


def tape_figure(data: dict) -> Figure:
    """The three records of ``y = tanh(x @ W + b)`` as a circuit: forward, each value (black,
    above its arrow) with its shape; backward, the δ of each value (red, below), which the
    VJP of the record that made it turned into the δ of its inputs."""
    figure, ax = plt.subplots(figsize=(14, 6.8), layout="constrained")
    ax.set(xlim=(0, 15.2), ylim=(-2.5, 6.0))
    ax.axis("off")
    row = 2.4
    matmul, add, tanh, loss = (3.7, row), (7.1, row), (10.4, row), (13.3, row)
    notes = {matmul: "registro 1:  z₁ = x @ W\nVJP:  δz₁ ↦ (δz₁ Wᵀ,  xᵀ δz₁)",
             add: "registro 2:  z = z₁ + b\nVJP:  δz ↦ (δz,  δz)\n(b, sumado a cada fila: "
                  "Σ filas)",
             tanh: "registro 3:  y = tanh(z)\nVJP:  δy ↦ δy ⊙ (1 − y²)",
             loss: "la pérdida (3 registros más)\nL = media((y − t)²)\nδy = 2(y − t) / 4"}
    for (xy, note), symbol in zip(notes.items(), ("@", "+", "tanh", "L"), strict=True):
        _operation(ax, xy, symbol, "")
        ax.text(xy[0], 4.55, note, ha="center", va="bottom", fontsize=10, color="0.25",
                bbox={"boxstyle": "round,pad=0.35", "facecolor": "#f4f6f9",
                      "edgecolor": "0.6", "linestyle": "--"})
        ax.annotate("", xy=(xy[0], xy[1] + 0.45), xytext=(xy[0], 4.45),
                    arrowprops={"arrowstyle": "-", "color": "0.6", "linestyle": ":"})

    def label(name, value, shape=""):
        return f"{name}  {shape}\n{matrix(value)}".replace("  \n", "\n")

    _edge(ax, [(0.2, 3.9), (2.4, 3.9), (2.4, row + 0.4), (3.3, row + 0.18)],
          label("x", data["x"], "(2, 2)"), label("δx = δz₁ Wᵀ", data["dx"]),
          label_at=0.5, shrink_end=0.1)
    _edge(ax, [(0.2, 0.6), (2.4, 0.6), (2.4, row - 0.4), (3.3, row - 0.18)],
          label("W", data["W"], "(2, 2)"), label("∂L/∂W = xᵀ δz₁", data["dW"]),
          label_at=0.5, shrink_end=0.1)
    _edge(ax, [(4.9, -0.7), (7.1, -0.7), add], label("b", data["b"], "(2,)"),
          label("∂L/∂b = Σ filas δz", data["db"]), label_at=0.5, shrink_end=0.4)
    _edge(ax, [matmul, add], label("z₁", data["z1"], "(2, 2)"),
          label("δz₁ = δz", data["delta_z1"]), shrink_start=0.4, shrink_end=0.4)
    _edge(ax, [add, tanh], label("z", data["z"], "(2, 2)"),
          label("δz = δy ⊙ (1 − y²)", data["delta_z"]), shrink_start=0.4, shrink_end=0.62)
    _edge(ax, [tanh, loss], label("y", data["y"], "(2, 2)"), label("δy", data["delta_y"]),
          shrink_start=0.62, shrink_end=0.4)
    _edge(ax, [loss, (15.1, row)], f"L = {number(data['loss'])}", "δL = 1",
          shrink_start=0.4, shrink_end=0.0)

    order = " → ".join(data["records"])
    ax.text(7.6, -2.45, f"La cinta, en orden: {order}.\ntape.gradient(L, [x, W, b]) la "
            "recorre al revés: cada registro recibe el δ de su salida, ya completo, y su VJP "
            "lo reparte entre sus entradas.", ha="center", va="bottom", fontsize=10.5)
    ax.set_title("La cinta de y = tanh(x @ W + b): hacia delante, cada operación deja un "
                 "registro y su valor (negro); hacia atrás, cada VJP da el δ de sus entradas "
                 "(rojo)", fontsize=12.5)
    return figure


# -- 8. a small convnet on the digits: learned filters and feature maps (lesson 16) -----------

CONVNET = {"filters": (8, 16), "epochs": 20, "shown": (1, 9)}   # shown: test images drawn


@functools.cache
def convnet_data() -> dict:
    """A small convnet trained on the 8x8 digits (``load_digits``, the split of
    ``examples/digits.py``): ``Conv2D(8, 3, "same", relu)`` named ``conv_1``,
    ``MaxPooling2D(2)``, ``Conv2D(16, 3, "same", relu)`` named ``conv_2``, ``MaxPooling2D(2)``,
    ``Flatten``, ``Dense(10, softmax)``; Adam, ``CONVNET["epochs"]`` epochs.

    Returns the first layer's kernel and bias before training (``kernel_before``) and after
    (``kernel_1``, ``bias_1``), the second's (``kernel_2``, ``bias_2``), the test accuracy,
    and, for the test images ``CONVNET["shown"]``, the images, their labels and predictions
    and the feature maps of both layers (``maps_1`` ``(k, 8, 8, 8)``, ``maps_2``
    ``(k, 4, 4, 16)``), read with a functional model over the same layers (lesson 13).
    Cached: both figures of lesson 16 draw the same training run.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    mr.utils.set_random_seed(0)
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]          # (N, 8, 8, 1)
    y = mr.utils.to_categorical(digits.target, num_classes=10)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target)
    first, second = CONVNET["filters"]
    model = mr.Sequential([
        mr.Input((8, 8, 1)),
        mr.layers.Conv2D(first, 3, padding="same", activation="relu", name="conv_1"),
        mr.layers.MaxPooling2D(2),
        mr.layers.Conv2D(second, 3, padding="same", activation="relu", name="conv_2"),
        mr.layers.MaxPooling2D(2),
        mr.layers.Flatten(),
        mr.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    kernel_before = model.get_layer("conv_1").get_weights()[0].copy()
    model.fit(x_train, y_train, epochs=CONVNET["epochs"], batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    shown = list(CONVNET["shown"])
    images = x_test[shown]
    extractor = mr.Model(model.inputs, [model.get_layer("conv_1").output,
                                        model.get_layer("conv_2").output])
    maps_1, maps_2 = extractor.predict(images, verbose=0)
    kernel_1, bias_1 = model.get_layer("conv_1").get_weights()
    kernel_2, bias_2 = model.get_layer("conv_2").get_weights()
    return {"kernel_before": kernel_before, "kernel_1": kernel_1, "bias_1": bias_1,
            "kernel_2": kernel_2, "bias_2": bias_2, "accuracy": float(accuracy),
            "epochs": CONVNET["epochs"], "images": images,
            "labels": np.argmax(y_test[shown], axis=1),
            "predicted": np.argmax(model.predict(images, verbose=0), axis=1),
            "maps_1": np.asarray(maps_1), "maps_2": np.asarray(maps_2)}


def _kernel_panel(ax, kernel: np.ndarray, limit: float, title: str) -> None:
    """A 3x3 kernel as coloured cells (blue negative, red positive) with its numbers."""
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), value in np.ndenumerate(kernel):
        ax.text(j, i, number(value, 2), ha="center", va="center", fontsize=8.5,
                color="white" if abs(value) > 0.6 * limit else "black")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def filters_figure(data: dict) -> Figure:
    """The 3x3 kernels of ``conv_1``: each column one filter, before training (top row) and
    after (bottom row), on one colour scale, each cell with its weight."""
    before, after = data["kernel_before"][:, :, 0, :], data["kernel_1"][:, :, 0, :]
    filters = after.shape[-1]
    limit = float(max(np.abs(before).max(), np.abs(after).max()))
    figure, axes = plt.subplots(2, filters, figsize=(15, 5.4), layout="constrained")
    for f in range(filters):
        _kernel_panel(axes[0, f], before[:, :, f], limit, f"filtro {f}")
        _kernel_panel(axes[1, f], after[:, :, f], limit,
                      f"filtro {f}, sesgo {number(data['bias_1'][f], 2)}")
    axes[0, 0].set_ylabel("al empezar\n(glorot_uniform)", fontsize=11)
    axes[1, 0].set_ylabel(f"tras {data['epochs']} épocas", fontsize=11)
    figure.colorbar(plt.cm.ScalarMappable(norm=plt.Normalize(-limit, limit), cmap="RdBu_r"),
                    ax=axes, shrink=0.8, pad=0.01, label="peso")
    figure.suptitle(f"Los {filters} filtros 3x3 de la primera Conv2D, kernel (3, 3, 1, "
                    f"{filters}): al empezar, números al azar; tras entrenar con los dígitos de "
                    f"8x8 (exactitud en test {data['accuracy']:.1%}),\nla mayoría, una zona "
                    "positiva (roja) frente a una negativa (azul): responden a bordes y trazos "
                    "en una dirección", fontsize=12.5)
    return figure


def feature_maps_figure(data: dict) -> Figure:
    """For each shown digit: the image, the 8 maps of ``conv_1`` (8x8) and, below, the 16
    maps of ``conv_2`` (4x4, after a MaxPooling2D), each map on its own grey scale."""
    first, second = data["maps_1"].shape[-1], data["maps_2"].shape[-1]
    shown = len(data["images"])
    figure = plt.figure(figsize=(15, 8), layout="constrained")
    grid = figure.add_gridspec(2 * shown, 2 + second, height_ratios=[2, 1] * shown)
    for k in range(shown):
        image = figure.add_subplot(grid[2 * k:2 * k + 2, 0:2])
        image.imshow(data["images"][k, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        image.set_title(f"entrada (8, 8, 1): un {data['labels'][k]}\n"
                        f"la red dice {data['predicted'][k]}", fontsize=10)
        image.set_xticks([])
        image.set_yticks([])
        for f in range(first):
            ax = figure.add_subplot(grid[2 * k, 2 + 2 * f:4 + 2 * f])
            ax.imshow(data["maps_1"][k, :, :, f], cmap="magma")
            ax.set_title(f"conv_1, mapa {f}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        for f in range(second):
            ax = figure.add_subplot(grid[2 * k + 1, 2 + f])
            ax.imshow(data["maps_2"][k, :, :, f], cmap="magma")
            ax.set_title(f"conv_2, {f}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    figure.suptitle(f"Mapas de características: arriba, la salida ({8}, {8}, {first}) de "
                    f"conv_1, un mapa por filtro (tras relu); debajo, la de conv_2 (4, 4, "
                    f"{second}),\nque lee los mapas de conv_1 reducidos a 4x4 por "
                    "MaxPooling2D. Cada mapa con su escala: claro = activación alta, negro = 0",
                    fontsize=12.5)
    return figure


# -- all of them -------------------------------------------------------------------------------

FIGURES = {
    "activaciones.png": (activation_data, activation_figure),
    "descenso-del-gradiente.png": (descent_data, descent_figure),
    "grafo-backprop.png": (backprop_data, backprop_figure),
    "dropout-mascaras.png": (dropout_data, dropout_figure),
    "regularizacion.png": (regularization_data, regularization_figure),
    "grafo-residual.png": (residual_data, residual_figure),
    "cinta-autodiff.png": (tape_data, tape_figure),
    "filtros-aprendidos.png": (convnet_data, filters_figure),
    "mapas-caracteristicas.png": (convnet_data, feature_maps_figure),
}


def save(figure: Figure, target) -> None:
    """Write ``figure`` as PNG to a path or a binary file, and close it."""
    figure.savefig(target, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(figure)


def main(folder: Path = DOCS_IMG) -> dict[str, dict]:
    """Compute and draw every figure into ``folder``; return ``{file name: its data}``."""
    matplotlib.use("Agg")               # no window: the figures go to files
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {}
    for name, (compute, draw) in FIGURES.items():
        drawn[name] = compute()
        save(draw(drawn[name]), folder / name)
    print("wrote", ", ".join(str(folder / name) for name in drawn))
    return drawn


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write the course's teaching figures (PNG).")
    parser.add_argument("folder", nargs="?", type=Path, default=DOCS_IMG,
                        help="where to write them (default: docs/img/)")
    main(parser.parse_args().folder)
