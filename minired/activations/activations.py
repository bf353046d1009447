"""Activation functions, each written next to its backward pass.

Notation: ``z`` is the input of the activation (the pre-activation, or *logits*),
``a = f(z)`` its output and ``δa = ∂L/∂a`` the gradient arriving from above.
Each ``*_backward(z, a, δa)`` returns ``δz = ∂L/∂z``; it receives both ``z`` and
``a`` because some derivatives are cheapest written with the output
(``σ'(z) = a(1 - a)``).

All functions keep the dtype of their input (float32 stays float32).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _backward_of(forward: Callable) -> Callable:
    """Attach the decorated function to ``forward`` as ``forward.backward``."""

    def attach(backward: Callable) -> Callable:
        forward.backward = backward
        return backward

    return attach


def linear(x: np.ndarray) -> np.ndarray:
    """Identity: ``a = z``.  Backward: ``δz = δa``.

    Example:
        >>> linear(np.array([-1.0, 2.0]))
        array([-1.,  2.])
    """
    return x


@_backward_of(linear)
def linear_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit: ``a = max(z, 0)``.

    Backward: ``δz = δa · 1[z > 0]`` (the derivative at 0 is taken as 0, like TensorFlow).

    Example:
        >>> relu(np.array([-1.0, 2.0]))
        array([0., 2.])
    """
    return np.maximum(x, 0).astype(x.dtype, copy=False)


@_backward_of(relu)
def relu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * (z > 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid: ``a = 1 / (1 + e^{-z})``.

    Written in the stable form: for ``z >= 0`` use ``1 / (1 + e^{-z})``; for
    ``z < 0`` use ``e^{z} / (1 + e^{z})``, so ``e^{...}`` never overflows.

    Backward: ``δz = δa · a (1 - a)``.

    Example:
        >>> sigmoid(np.array([0.0]))
        array([0.5])
    """
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow for any z
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


@_backward_of(sigmoid)
def sigmoid_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * a * (1 - a)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent: ``a = tanh(z)``.  Backward: ``δz = δa · (1 - a²)``.

    Example:
        >>> tanh(np.array([0.0]))
        array([0.])
    """
    return np.tanh(x)


@_backward_of(tanh)
def tanh_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * (1 - a * a)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax over the last axis: ``a_i = e^{z_i} / Σ_j e^{z_j}``.

    Computed as ``e^{z - max z}``: the same value, and the exponentials cannot overflow.

    Backward (a Jacobian-vector product; the C×C Jacobian ``diag(a) - a aᵀ`` is never built):
    ``δz = a ⊙ (δa - Σ_j δa_j a_j)``.

    When a cross-entropy loss follows, minired (like Keras on TensorFlow) skips this
    backward and uses the fused gradient ``δz = a - y`` from the loss instead: see
    :mod:`minired.losses`.

    Example:
        >>> softmax(np.array([[0.0, 0.0]]))
        array([[0.5, 0.5]])
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


@_backward_of(softmax)
def softmax_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return a * (grad - np.sum(grad * a, axis=-1, keepdims=True))


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log of the softmax, computed stably: ``log a_i = (z_i - max z) - log Σ_j e^{z_j - max z}``.

    The cross-entropy losses use it on logits: it never takes ``log`` of a rounded-to-zero
    probability, which is why the logits path cannot produce ``-log(0) = inf``.

    Backward: ``δz = δa - softmax(z) Σ_j δa_j``.

    Example:
        >>> np.exp(log_softmax(np.array([[0.0, 0.0]])))
        array([[0.5, 0.5]])
    """
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@_backward_of(log_softmax)
def log_softmax_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad - np.exp(a) * np.sum(grad, axis=-1, keepdims=True)
