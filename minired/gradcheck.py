"""Gradient checking: compare backpropagation with finite differences.

The numerical derivative of a scalar function ``f`` at ``x``, one element at a time
(central difference, error ``O(h²)``)::

    ∂f/∂x_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h

A layer maps arrays to arrays, so it is checked through a vector-Jacobian product: draw a
random upstream gradient ``δout`` and check the scalar ``f(x) = Σ layer(x) ⊙ δout``, whose
gradient is exactly what ``layer.backward(δout)`` returns.

Errors are reported per array as
``max|a - n| / max(max|a|, max|n|, 1e-8)``: one element that nearly cancels cannot dominate.
Run checks in float64 (``mr.config.set_floatx("float64")``): in float32 the rounding error of
``f`` divided by ``2h`` swamps everything.

Example:
    >>> mr.config.set_floatx("float64")
    >>> results = check_layer(mr.layers.Dense(3, activation="tanh"), np.random.randn(4, 2))
    >>> max(r.relative_error for r in results) < 1e-6
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class GradCheckResult:
    """The comparison of one array's analytic and numerical gradient."""

    name: str
    relative_error: float
    worst_index: tuple
    analytic: np.ndarray
    numeric: np.ndarray

    def __str__(self) -> str:
        return (f"{self.name}: relative error {self.relative_error:.2e} "
                f"(worst element at {self.worst_index})")


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max|a - n| / max(max|a|, max|n|, 1e-8)`` over the whole array."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0), 1e-8)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is perturbed **in place**, one element at a time, and restored, so ``f`` may read
    it through any reference (a layer's kernel, a model's weight).

    Args:
        f: a function of no arguments returning a float that depends on ``x``.
        x: the array to differentiate with respect to (float64).
        h: the step.
    """
    _require_float64(x)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = f()
        x[i] = original - h
        f_minus = f()
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def compare(name: str, analytic: np.ndarray, numeric: np.ndarray) -> GradCheckResult:
    """Build a :class:`GradCheckResult`, locating the element with the largest difference."""
    diff = np.abs(np.asarray(analytic, np.float64) - np.asarray(numeric, np.float64))
    worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
    return GradCheckResult(name, relative_error(analytic, numeric),
                           tuple(int(i) for i in worst), analytic, numeric)


def check_function(f: Callable, backward: Callable, x: np.ndarray, seed: int = 0,
                   h: float = 1e-6) -> GradCheckResult:
    """Vector-Jacobian check of an array function ``y = f(x)`` against ``backward(x, y, δy)``.

    Works for activations (``backward = f.backward`` with ``(z, a, δa)``).
    """
    _require_float64(x)
    x = x.copy()
    y = f(x)
    upstream = np.random.default_rng(seed).standard_normal(y.shape)
    analytic = backward(x, y, upstream)
    numeric = numerical_gradient(lambda: float(np.sum(f(x) * upstream)), x, h)
    return compare(getattr(f, "__name__", "f"), analytic, numeric)


def check_layer(layer, inputs: np.ndarray | list[np.ndarray], training: bool = False,
                seed: int = 0, h: float = 1e-6) -> list[GradCheckResult]:
    """Check ``layer.backward`` (inputs and every weight) against finite differences.

    The checked scalar is ``Σ layer(x) ⊙ δout + Σ layer.losses``: ``backward`` adds the
    gradient of the layer's penalties (kernel/bias regularizers) to its weight gradients,
    so the penalties belong to the function being differentiated.

    ``inputs`` is one array, or a list of arrays for a layer that takes several (a merge
    layer, whose ``backward`` returns one ``δ`` per input).

    Returns one result for ``inputs`` (named ``layer/inputs``), or one per input of a list
    (``layer/inputs[0]``, ``layer/inputs[1]``, …), then one per weight array, in
    ``layer.weights`` order. A layer with a random ``generator`` (Dropout) is replayed with
    the same random state in every forward pass, so the same mask is used throughout.

    Example:
        >>> mr.config.set_floatx("float64")
        >>> x1, x2 = np.random.randn(3, 2), np.random.randn(3, 2)
        >>> results = check_layer(mr.layers.Multiply(), [x1, x2])
        >>> [result.name.split("/")[1] for result in results]
        ['inputs[0]', 'inputs[1]']
        >>> max(r.relative_error for r in results) < 1e-6
        True
    """
    several = isinstance(inputs, list | tuple)
    arrays = [np.array(x, dtype=np.float64) for x in (inputs if several else [inputs])]
    for x in arrays:
        _require_float64(x)
    layer_inputs = arrays if several else arrays[0]     # the same arrays: perturbing one
    if not layer.built:                                 # perturbs what the layer reads
        shapes = [(None, *x.shape[1:]) for x in arrays]
        layer.build(shapes if several else shapes[0])
    generator = getattr(layer, "generator", None)
    state = generator.bit_generator.state if generator is not None else None

    def forward() -> np.ndarray:
        if state is not None:
            generator.bit_generator.state = state
        return layer.forward(layer_inputs, training=training)

    upstream = np.random.default_rng(seed).standard_normal(forward().shape)
    forward()
    layer.zero_gradients()              # backward adds to the gradients: start from 0
    analytic_inputs = layer.backward(upstream)
    layer.add_penalty_gradients()       # ∂R/∂w, as the model adds it after its backward pass
    analytic_weights = [g.copy() for g in layer.gradients]
    names = ([f"{layer.name}/inputs[{i}]" for i in range(len(arrays))] if several
             else [f"{layer.name}/inputs"])
    if not several:
        analytic_inputs = [analytic_inputs]
    _require_input_shapes(names, analytic_inputs, arrays)

    def f() -> float:
        return float(np.sum(forward() * upstream)) + sum(float(p) for p in layer.losses)

    results = [compare(name, analytic, numerical_gradient(f, x, h))
               for name, analytic, x in zip(names, analytic_inputs, arrays, strict=True)]
    for i, (weight, analytic) in enumerate(zip(layer.weights, analytic_weights, strict=True)):
        results.append(compare(f"{layer.name}/weight_{i}", analytic,
                               numerical_gradient(f, weight, h)))
    return results


def _require_input_shapes(names: list[str], grads: list, arrays: list[np.ndarray]) -> None:
    """One gradient per input, each of its input's shape (else the comparison would
    broadcast a wrong shape silently)."""
    if len(grads) != len(arrays):
        raise ValueError(f"backward returned {len(grads)} gradients for {len(arrays)} inputs.")
    for name, grad, x in zip(names, grads, arrays, strict=True):
        if np.shape(grad) != x.shape:
            raise ValueError(f"{name}: backward returned a gradient of shape {np.shape(grad)} "
                             f"for an input of shape {x.shape}.")


def check_loss(loss, y_true: np.ndarray, y_pred: np.ndarray, sample_weight=None,
               from_logits: bool | None = None, h: float = 1e-6) -> GradCheckResult:
    """Check ``loss.value_and_gradient`` with respect to ``y_pred`` (or the logits)."""
    y_pred = np.array(y_pred, dtype=np.float64)
    analytic = loss.value_and_gradient(y_true, y_pred, sample_weight, from_logits)[1]
    numeric = numerical_gradient(
        lambda: loss.value_and_gradient(y_true, y_pred, sample_weight, from_logits)[0], y_pred, h)
    return compare(loss.name, analytic, numeric)


def check_model(model, x: np.ndarray, y: np.ndarray, sample_weight=None,
                h: float = 1e-6) -> list[GradCheckResult]:
    """Check ``model.loss_and_gradients`` for every weight array (``training=False``).

    Returns one result per array of ``model.get_weights()``, named ``layer/weight_i``.

    Example:
        >>> mr.config.set_floatx("float64")
        >>> model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
        >>> model.compile(optimizer="sgd", loss="categorical_crossentropy")
        >>> x, y = np.random.randn(5, 4), np.eye(3)[[0, 1, 2, 0, 1]]
        >>> results = check_model(model, x, y)
        >>> [result.name for result in results]
        ['dense/weight_0', 'dense/weight_1']
        >>> max(result.relative_error for result in results) < 1e-6
        True
    """
    _, analytic = model.loss_and_gradients(x, y, sample_weight=sample_weight)

    def f() -> float:
        return model.loss_and_gradients(x, y, sample_weight=sample_weight)[0]

    results = []
    # A layer used twice has one set of weights; a subclassed model lists all of them.
    for layer in getattr(model, "unique_layers", [model]):
        for i, weight in enumerate(layer.weights):
            _require_float64(weight)
            index = len(results)
            results.append(compare(f"{layer.name}/weight_{i}", analytic[index],
                                   numerical_gradient(f, weight, h)))
    return results


def _require_float64(array: np.ndarray) -> None:
    if np.asarray(array).dtype != np.float64:
        raise ValueError(
            f"gradient checks need float64 arrays, got {np.asarray(array).dtype}; call "
            "mr.config.set_floatx('float64') before building the model."
        )
