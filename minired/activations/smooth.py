"""Smooth activations: softplus, softsign, silu (swish), gelu, mish and exponential.

Same notation and contract as :mod:`minired.activations.activations`: ``a = f(z)``, and
``f.backward(z, a, δa, **the same arguments)`` returns ``δz``. Each derivative is written
the way TensorFlow's gradient computes it, so that the two agree to the last digits.
"""

from __future__ import annotations

import math

import numpy as np

from minired.activations.activations import _backward_of, sigmoid, tanh
from minired.keras_numerics import as_keras_constant


def softplus(x: np.ndarray) -> np.ndarray:
    """Softplus, a smooth relu: ``a = log(1 + e^z)``.

    Computed as TensorFlow's kernel does: with ``t = log(ε) + 2`` (ε the dtype's machine
    epsilon: ``t ≈ -13.9`` in float32, ``-34.0`` in float64), ``a = z`` for ``z > -t`` (where
    ``e^z`` may overflow but ``log(1 + e^z) = z`` to the last digit), ``a = e^z`` for
    ``z < t``, and ``log1p(e^z)`` in between.

    Backward: ``δz = δa · σ(z)``, the logistic sigmoid (written in its stable form, so that no
    ``e^{-z}`` overflows).

    Example:
        >>> softplus(np.array([0.0, 100.0]))
        array([  0.69314718, 100.        ])
    """
    t = np.log(np.finfo(x.dtype).eps).astype(x.dtype) + 2
    e = np.exp(np.minimum(x, -t))                       # never e^{large}: no overflow
    return np.where(x > -t, x, np.where(x < t, e, np.log1p(e)))


@_backward_of(softplus, reads_output=False)
def softplus_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * sigmoid(z)


def softsign(x: np.ndarray) -> np.ndarray:
    """Softsign: ``a = z / (|z| + 1)``, between -1 and 1 like tanh but with polynomial tails.

    Backward: ``δz = δa / (|z| + 1)²``.

    Example:
        >>> softsign(np.array([-3.0, 1.0]))
        array([-0.75,  0.5 ])
    """
    return x / (np.abs(x) + 1)


@_backward_of(softsign, reads_output=False)
def softsign_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad / np.square(np.abs(z) + 1)


def silu(x: np.ndarray) -> np.ndarray:
    """SiLU, also called swish: ``a = z σ(z)``, the input gated by its own sigmoid.

    Backward: ``δz = δa · σ(z) (1 + z (1 - σ(z)))``, TensorFlow's form of
    ``σ(z) + z σ(z)(1 - σ(z))``. Keras names it ``"silu"`` and accepts ``"swish"`` for the same
    function (``mr.activations.swish is mr.activations.silu``).

    Example:
        >>> silu(np.array([0.0, 1.0]))
        array([0.        , 0.73105858])
    """
    return x * sigmoid(x)


@_backward_of(silu, reads_output=False)
def silu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return grad * (s * (1 + z * (1 - s)))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])   # NumPy has no erf: the C library's
_SQRT_HALF = 0.7071067811865476                       # 1/√2
_SQRT_2_OVER_PI = 0.7978845608028654                  # √(2/π)
_GELU_CUBIC = 0.044715


def gelu(x: np.ndarray, approximate: bool = False) -> np.ndarray:
    """Gaussian error linear unit: ``a = z Φ(z)``, with ``Φ`` the standard normal CDF.

    Exact (Keras' default for ``activations.gelu``), through the complementary error function
    as TensorFlow writes it::

        a = 0.5 · z · erfc(-z/√2)                  (= z Φ(z), as Φ(z) = ½ erfc(-z/√2))
        δz = δa · (Φ(z) + z φ(z))                  φ(z) = e^{-z²/2} / √(2π)

    ``approximate=True`` uses the tanh form (the default of ``keras.ops.gelu``)::

        a = 0.5 · z · (1 + tanh(√(2/π) (z + 0.044715 z³)))
        δz = δa · (0.5 (1 + t) + 0.5 z (1 - t²) √(2/π) (1 + 3 · 0.044715 z²))

    with ``t`` the tanh. In float64 the constants ``1/√2`` and ``0.044715`` keep float32
    precision, as in Keras (``tf.cast`` of a Python float, see
    :func:`~minired.keras_numerics.as_keras_constant`).

    Example:
        >>> gelu(np.array([-1.0, 0.0, 1.0], dtype="float32"))
        array([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
    """
    if approximate:
        c = as_keras_constant(_GELU_CUBIC, x.dtype)
        return 0.5 * x * (1 + tanh(_SQRT_2_OVER_PI * (x + c * x**3)))
    u = -x * as_keras_constant(_SQRT_HALF, x.dtype)
    return 0.5 * x * _erfc(u).astype(x.dtype, copy=False)


@_backward_of(gelu, reads_output=False)
def gelu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, approximate: bool = False
                  ) -> np.ndarray:
    if approximate:
        c = as_keras_constant(_GELU_CUBIC, z.dtype)
        t = tanh(_SQRT_2_OVER_PI * (z + c * z**3))
        slope = _SQRT_2_OVER_PI * (1 + 3 * c * z * z)                   # d/dz of tanh's argument
        return grad * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * slope)
    k = as_keras_constant(_SQRT_HALF, z.dtype)
    u = -z * k
    cdf = 0.5 * _erfc(u).astype(z.dtype, copy=False)                # Φ(z)
    density = k / math.sqrt(math.pi) * np.exp(-u * u)                # φ(z) = e^{-z²/2}/√(2π)
    return grad * (cdf + z * density)


def mish(x: np.ndarray) -> np.ndarray:
    """Mish: ``a = z tanh(softplus(z))``.

    Backward, with ``t = tanh(softplus(z))``: ``δz = δa · (t + z (1 - t²) σ(z))``, since
    ``softplus' = σ`` and ``tanh' = 1 - tanh²``.

    Example:
        >>> mish(np.array([0.0, 1.0]))
        array([0.        , 0.86509839])
    """
    return x * tanh(softplus(x))


@_backward_of(mish, reads_output=False)
def mish_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    t = tanh(softplus(z))
    return grad * t + grad * z * (1 - t * t) * sigmoid(z)


def exponential(x: np.ndarray) -> np.ndarray:
    """Exponential: ``a = e^z``.  Backward: ``δz = δa · a`` (``e^z`` is its own derivative).

    Example:
        >>> exponential(np.array([0.0, 1.0]))
        array([1.        , 2.71828183])
    """
    return np.exp(x)


@_backward_of(exponential)
def exponential_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad * a


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """Log of the sigmoid: ``a = log σ(z) = -softplus(-z)``, computed that way (as TensorFlow
    does), so neither ``e^{-z}`` overflows nor ``log`` meets a rounded-to-zero ``σ(z)``.

    Backward: ``δz = δa · σ(-z) = δa / (1 + e^z)`` (TensorFlow's softplus gradient, where
    ``e^z = inf`` rightly gives 0).

    Example:
        >>> log_sigmoid(np.array([-100.0, 0.0, 100.0]))
        array([-1.00000000e+02, -6.93147181e-01, -3.72007598e-44])
    """
    return -softplus(-x)


@_backward_of(log_sigmoid, reads_output=False)
def log_sigmoid_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):                  # e^z = inf for large z: δz = 0
        return grad / (np.exp(z) + 1)


def squareplus(x: np.ndarray, b: float = 4) -> np.ndarray:
    """Squareplus, a softplus without exponentials: ``a = (z + √(z² + b)) / 2``.

    ``b > 0`` sets how round the bend at 0 is (``b = 0`` gives relu). Backward, with
    ``s = √(z² + b)``: ``δz = δa/2 + (δa/2) · z / s`` (TensorFlow's chain: the division by 2,
    then the sum's two paths, the square root's ``1/(2s)`` and the square's ``2z``).

    Example:
        >>> squareplus(np.array([-3.0, 0.0, 3.0]))
        array([0.30277564, 1.        , 3.30277564])
    """
    return (x + np.sqrt(np.square(x) + np.asarray(b, dtype=x.dtype))) / 2


@_backward_of(squareplus, reads_output=False)
def squareplus_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, b: float = 4
                        ) -> np.ndarray:
    half = grad / 2
    s = np.sqrt(np.square(z) + np.asarray(b, dtype=z.dtype))
    return half + 0.5 * half / s * (z * 2)


def glu(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gated linear unit: split ``z`` in two halves ``u, v`` along ``axis`` and gate one by
    the sigmoid of the other, ``a = u ⊙ σ(v)``. The output has half the size along ``axis``.

    Backward (the product rule): ``δu = δa ⊙ σ(v)``, ``δv = (δa ⊙ u) ⊙ σ(v)(1 - σ(v))``,
    joined back along ``axis``.

    Args:
        x: the input; its size along ``axis`` must be even.
        axis: the axis to split.

    Example:
        >>> glu(np.array([[1.0, 2.0, 0.0, 100.0]]))
        array([[0.5, 2. ]])
    """
    u, v = _halves(x, axis)
    return u * sigmoid(v)


def _halves(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[axis] % 2 != 0:
        raise ValueError(f"glu: the size of `x` along axis={axis} must be divisible by 2, got "
                         f"x.shape={x.shape}.")
    u, v = np.split(x, 2, axis=axis)
    return u, v


@_backward_of(glu, reads_output=False)
def glu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, axis: int = -1) -> np.ndarray:
    u, v = _halves(z, axis)
    gate = sigmoid(v)
    return np.concatenate([grad * gate, sigmoid.backward(v, gate, grad * u)], axis=axis)
