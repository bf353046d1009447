"""Relatives of relu: linear for ``z > 0``, something else below (or above) it.

Same notation and contract as :mod:`minired.activations.activations`: ``a = f(z)``, and
``f.backward(z, a, δa, **the same arguments)`` returns ``δz``. The derivative at a kink is
TensorFlow's choice, named in each docstring.
"""

from __future__ import annotations

import numpy as np

from minired.activations.activations import _backward_of, _leaky_slope


def leaky_relu(x: np.ndarray, negative_slope: float = 0.2) -> np.ndarray:
    """Leaky relu: ``a = z`` for ``z > 0``, ``a = s·z`` otherwise (``s = negative_slope``).

    Backward: ``δz = δa`` for ``z > 0``, ``s·δa`` otherwise (at 0 the slope is ``s``, as
    TensorFlow). The function's default slope is 0.2, the
    :class:`~minired.layers.LeakyReLU` layer's 0.3, as in Keras. In float64 ``s`` keeps
    float32 precision: TensorFlow's ``LeakyRelu`` takes it as a float32 attribute.

    Example:
        >>> leaky_relu(np.array([-2.0, 3.0], dtype="float32"))
        array([-0.4,  3. ], dtype=float32)
    """
    return np.where(x > 0, x, x * _leaky_slope(negative_slope, x.dtype))


@_backward_of(leaky_relu, reads_output=False)
def leaky_relu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray,
                        negative_slope: float = 0.2) -> np.ndarray:
    return np.where(z > 0, grad, grad * _leaky_slope(negative_slope, z.dtype))


def relu6(x: np.ndarray) -> np.ndarray:
    """Relu capped at 6: ``a = min(max(z, 0), 6)``.

    Backward: ``δz = δa · 1[0 < z < 6]`` (0 at both kinks, as TensorFlow's ``Relu6Grad``).

    Example:
        >>> relu6(np.array([-1.0, 3.0, 8.0]))
        array([0., 3., 6.])
    """
    return np.minimum(np.maximum(x, 0), 6).astype(x.dtype, copy=False)


@_backward_of(relu6, reads_output=False)
def relu6_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * ((z > 0) & (z < 6))


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: ``a = z`` for ``z > 0``, ``a = α (e^z - 1)`` otherwise.

    Backward: ``δz = δa`` for ``z > 0``, ``δa · α e^z`` otherwise (``α`` at 0, as
    TensorFlow). ``e^z - 1`` is written as TensorFlow's kernel writes it (not ``expm1``),
    and ``e^z`` is only taken of ``min(z, 0)``, so a large ``z`` cannot overflow.

    Example:
        >>> elu(np.array([-1.0, 0.0, 2.0]))
        array([-0.63212056,  0.        ,  2.        ])
    """
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


@_backward_of(elu, reads_output=False)
def elu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, alpha: float = 1.0
                 ) -> np.ndarray:
    return np.where(z > 0, grad, alpha * grad * np.exp(np.minimum(z, 0)))


#: SELU's constants as TensorFlow writes them: ``λ`` and the product ``λα`` (Keras' docstring
#: rounds them to ``α = 1.67326324``, ``λ = 1.05070098``).
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123


def selu(x: np.ndarray) -> np.ndarray:
    """Scaled exponential linear unit: ``a = λ z`` for ``z >= 0``, ``λα (e^z - 1)`` below.

    ``λ ≈ 1.0507`` and ``α ≈ 1.6733`` (:data:`SELU_SCALE`, :data:`SELU_SCALE_ALPHA` ``= λα``)
    keep the mean and variance of the activations fixed from layer to layer (with
    ``lecun_normal`` weights). Backward, cheapest from the output: ``δz = δa · λ`` where
    ``a >= 0``, ``δa · (a + λα)`` where ``a < 0`` (since ``d/dz λα(e^z - 1) = λα e^z = a + λα``).

    Example:
        >>> selu(np.array([-1.0, 1.0]))
        array([-1.11133074,  1.05070099])
    """
    return np.where(x < 0, SELU_SCALE_ALPHA * (np.exp(np.minimum(x, 0)) - 1), SELU_SCALE * x)


@_backward_of(selu)
def selu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return np.where(a < 0, grad * (a + SELU_SCALE_ALPHA), grad * SELU_SCALE)


def celu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Continuously differentiable elu: ``a = z`` for ``z >= 0``, ``α (e^{z/α} - 1)`` below.

    Unlike :func:`elu` its slope at 0 is 1 for every ``α`` (the two pieces meet smoothly).
    Written as TensorFlow's Keras writes it: ``a = max(z, 0) + α · expm1(min(z, 0) / α)``.

    Backward: ``δz = δa · 1[z >= 0] + (δa · α) · e^{min(z, 0)/α} / α · 1[z <= 0]``: each of
    ``max`` and ``min`` passes the gradient on a tie, so at ``z = 0`` both pieces do and
    ``δz = 2 δa`` (TensorFlow's choice at the kink).

    Example:
        >>> celu(np.array([-1.0, 0.0, 2.0]), alpha=2.0)
        array([-0.78693868,  0.        ,  2.        ])
    """
    return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha)


@_backward_of(celu, reads_output=False)
def celu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, alpha: float = 1.0
                  ) -> np.ndarray:
    below = grad * alpha * np.exp(np.minimum(z, 0) / alpha) / alpha
    return np.where(z >= 0, grad, 0) + np.where(z <= 0, below, 0)
