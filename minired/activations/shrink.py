"""Shrinkage activations: hard_shrink, soft_shrink, tanh_shrink and threshold.

Each one pulls small inputs to (or towards) a fixed value and lets large ones through, as a
denoiser would. Same notation and contract as :mod:`minired.activations.activations`:
``a = f(z)``, and ``f.backward(z, a, δa, **the same arguments)`` returns ``δz``. Every
comparison is strict (``>``, ``<``), as TensorFlow's Keras writes them, so at a kink the
derivative is that of the flat side.
"""

from __future__ import annotations

import numpy as np

from minired.activations.activations import _backward_of, tanh


def hard_shrink(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Hard shrink: ``a = z`` where ``|z| > θ``, 0 otherwise (``θ = threshold``).

    Backward: ``δz = δa · 1[|z| > θ]`` (0 at ``z = ±θ``).

    Example:
        >>> hard_shrink(np.array([-1.0, 0.2, 0.5, 0.7]))
        array([-1. ,  0. ,  0. ,  0.7])
    """
    return np.where(np.abs(x) > threshold, x, 0).astype(x.dtype, copy=False)


@_backward_of(hard_shrink, reads_output=False)
def hard_shrink_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray,
                         threshold: float = 0.5) -> np.ndarray:
    return np.where(np.abs(z) > threshold, grad, 0).astype(grad.dtype, copy=False)


def soft_shrink(x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Soft shrink: ``a = z - θ`` for ``z > θ``, ``z + θ`` for ``z < -θ``, 0 between.

    Every input moves ``θ`` towards 0, and those closer than ``θ`` stop there. Backward:
    ``δz = δa · 1[|z| > θ]`` (0 at ``z = ±θ``).

    Example:
        >>> soft_shrink(np.array([-1.0, 0.2, 0.7]))
        array([-0.5,  0. ,  0.2])
    """
    return np.where(x > threshold, x - threshold,
                    np.where(x < -threshold, x + threshold, 0)).astype(x.dtype, copy=False)


@_backward_of(soft_shrink, reads_output=False)
def soft_shrink_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray,
                         threshold: float = 0.5) -> np.ndarray:
    return np.where((z > threshold) | (z < -threshold), grad, 0).astype(grad.dtype, copy=False)


def tanh_shrink(x: np.ndarray) -> np.ndarray:
    """Tanh shrink: ``a = z - tanh(z)``: flat (``≈ z³/3``) near 0, ``z ∓ 1`` far from it.

    Backward: ``δz = δa - δa (1 - tanh²(z))``, the two paths of the subtraction summed as
    TensorFlow sums them (``= δa tanh²(z)``).

    Example:
        >>> tanh_shrink(np.array([0.0, 1.0]))
        array([0.        , 0.23840584])
    """
    return x - tanh(x)


@_backward_of(tanh_shrink, reads_output=False)
def tanh_shrink_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad + tanh.backward(z, tanh(z), -grad)


def threshold(x: np.ndarray, threshold: float, default_value: float) -> np.ndarray:
    """Threshold: ``a = z`` for ``z > θ``, ``default_value`` otherwise.

    Both arguments are required, as in Keras: it is called with them, and
    ``Dense(activation="threshold")`` fails in both libraries for lack of them.
    Backward: ``δz = δa · 1[z > θ]``.

    Example:
        >>> threshold(np.array([-1.0, 0.5, 2.0]), threshold=0.5, default_value=-9.0)
        array([-9., -9.,  2.])
    """
    return np.where(x > threshold, x, default_value).astype(x.dtype, copy=False)


@_backward_of(threshold, reads_output=False)
def threshold_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, threshold: float,
                       default_value: float) -> np.ndarray:
    return np.where(z > threshold, grad, 0).astype(grad.dtype, copy=False)
