"""Piecewise-linear ("hard") versions of sigmoid and silu: cheap to compute, no exponential.

Same notation and contract as :mod:`minired.activations.activations`: ``a = f(z)``, and
``f.backward(z, a, δa)`` returns ``δz``.
"""

from __future__ import annotations

import numpy as np

from minired.activations.activations import _backward_of
from minired.activations.rectifiers import relu6


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    """Hard sigmoid: ``a = relu6(z + 3) / 6``: 0 below -3, 1 above 3, ``z/6 + 1/2`` between.

    Backward: ``δz = δa / 6 · 1[0 < z + 3 < 6]`` (0 at the kinks ``z = ±3``, as TensorFlow).

    Example:
        >>> hard_sigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))
        array([0.  , 0.5 , 0.75, 1.  ])
    """
    return relu6(x + 3) / 6


@_backward_of(hard_sigmoid, reads_output=False)
def hard_sigmoid_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return relu6.backward(z + 3, None, grad / 6)


def hard_silu(x: np.ndarray) -> np.ndarray:
    """Hard SiLU, also called hard swish: ``a = z · hard_sigmoid(z)``.

    0 below -3, ``z`` above 3, ``z (z + 3) / 6`` between. Backward (the product rule):
    ``δz = δa · hard_sigmoid(z) + δa · z / 6 · 1[-3 < z < 3]``. Keras names it
    ``"hard_silu"`` and accepts ``"hard_swish"`` for the same function.

    Example:
        >>> hard_silu(np.array([-4.0, 1.5, 4.0]))
        array([-0.   ,  1.125,  4.   ])
    """
    return x * hard_sigmoid(x)


@_backward_of(hard_silu, reads_output=False)
def hard_silu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * hard_sigmoid(z) + hard_sigmoid.backward(z, None, grad * z)


def hard_tanh(x: np.ndarray) -> np.ndarray:
    """Hard tanh: ``a = clip(z, -1, 1)``: -1 below -1, 1 above 1, ``z`` between.

    Backward: ``δz = δa · 1[-1 <= z <= 1]`` (TensorFlow's ``clip_by_value`` passes the
    gradient at both kinks).

    Example:
        >>> hard_tanh(np.array([-3.0, 0.5, 2.0]))
        array([-1. ,  0.5,  1. ])
    """
    return np.clip(x, -1, 1).astype(x.dtype, copy=False)


@_backward_of(hard_tanh, reads_output=False)
def hard_tanh_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return np.where((z >= -1) & (z <= 1), grad, 0).astype(grad.dtype, copy=False)
