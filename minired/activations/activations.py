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

from minired.keras_numerics import as_keras_constant


def _backward_of(forward: Callable, reads_output: bool = True) -> Callable:
    """Attach the decorated function to ``forward`` as ``forward.backward``.

    ``reads_output=False`` says the backward never reads ``a`` (relu's ``1[z > 0]`` needs
    only ``z``): a layer may then drop ``a`` from its cache (see
    :func:`backward_reads_output`), and ``f.backward(z, None, δa)`` is allowed.
    """

    def attach(backward: Callable) -> Callable:
        backward.reads_output = reads_output
        forward.backward = backward
        return backward

    return attach


def backward_reads_output(f: Callable) -> bool:
    """Whether ``f.backward(z, a, δa)`` reads ``a = f(z)``: True unless ``f`` is one of
    minired's functions that need only ``z`` (relu, elu, gelu, ...). A function of your own
    counts as reading ``a``, so a layer keeps it.

    Example:
        >>> backward_reads_output(relu), backward_reads_output(sigmoid)   # σ' = a(1 - a)
        (False, True)
    """
    return getattr(f.backward, "reads_output", True)


def linear(x: np.ndarray) -> np.ndarray:
    """Identity: ``a = z``.  Backward: ``δz = δa``.

    Example:
        >>> linear(np.array([-1.0, 2.0]))
        array([-1.,  2.])
    """
    return x


@_backward_of(linear, reads_output=False)
def linear_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return grad


def relu(x: np.ndarray, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> np.ndarray:
    """Rectified linear unit: ``a = max(z, 0)``.

    Backward: ``δz = δa · 1[z > 0]`` (the derivative at 0 is taken as 0, like TensorFlow).

    Keras' three optional arguments (those of the :class:`~minired.layers.ReLU` layer) bend
    it, in this order: with a threshold ``θ``, a cap ``m`` and a slope ``s``::

        a = z if z > θ else 0        (threshold: only values above θ pass)
        a = min(a, m)                (max_value)
        a = a - s · max(θ - z, 0)    (negative_slope: a slope s below the threshold)

    so ``a = s (z - θ)`` for ``z <= θ``, ``z`` for ``θ < z < m`` and ``m`` above, and
    ``δz = δa · (1[θ < z <= m] + s · 1[z < θ])``, TensorFlow's choices at the kinks: 0 at
    ``z = θ``, 1 at ``z = m`` (but 0 at ``m = 6`` without threshold, where Keras calls
    :func:`~minired.activations.relu6`). With only ``negative_slope``, Keras calls
    :func:`~minired.activations.leaky_relu` instead, whose derivative at 0 is ``s``. In
    float64, ``θ`` (in ``z > θ``) and ``m`` keep float32 precision, as in Keras
    (:func:`~minired.keras_numerics.as_keras_constant`).

    Example:
        >>> relu(np.array([-1.0, 2.0]))
        array([0., 2.])
        >>> relu(np.array([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5, max_value=8.0)
        array([-5. , -2.5,  0. ,  5. ,  8. ])
    """
    if negative_slope == 0 and max_value is None and threshold == 0:
        return maximum_with_zero(x)                            # max(z, 0), read just below
    if max_value is None and threshold == 0:                   # Keras' leaky_relu shortcut
        return np.where(x > 0, x, x * _leaky_slope(negative_slope, x.dtype))
    if threshold != 0:
        a = np.where(x > as_keras_constant(threshold, x.dtype), x, 0).astype(x.dtype, copy=False)
    else:
        a = maximum_with_zero(x)
    if max_value is not None:
        a = np.minimum(a, as_keras_constant(max_value, x.dtype))
    if negative_slope != 0:
        a = a - negative_slope * np.maximum(threshold - x, 0)
    return a


@_backward_of(relu, reads_output=False)
def relu_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, negative_slope: float = 0.0,
                  max_value: float | None = None, threshold: float = 0.0) -> np.ndarray:
    if negative_slope == 0 and max_value is None and threshold == 0:
        return grad * (z > 0)
    if max_value is None and threshold == 0:                   # leaky_relu: slope s at z <= 0
        return np.where(z > 0, grad, grad * _leaky_slope(negative_slope, z.dtype))
    passes = z > (as_keras_constant(threshold, z.dtype) if threshold != 0 else 0)
    if max_value is not None:       # tf.minimum passes δa at z = m; Keras' relu6 (m = 6) does not
        relu6_shortcut = max_value == 6 and threshold == 0
        passes &= (z < 6) if relu6_shortcut else (z <= as_keras_constant(max_value, z.dtype))
    below = threshold - z > 0                                  # where -s·max(θ - z, 0) acts
    return np.where(passes, grad, np.where(below, grad * negative_slope, 0))


#: How many zeros :func:`maximum_with_zero` keeps per dtype (256 KiB of float32: with the
#: block of ``z`` and of ``a`` it reads and writes, it stays in a CPU core's L2 cache).
ZERO_BLOCK = 65_536
_zero_blocks: dict[np.dtype, np.ndarray] = {}


def maximum_with_zero(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, elementwise: exactly ``np.maximum(x, 0)``, faster on large arrays.

    NumPy (2.4) runs ``np.maximum`` with the CPU's vector instructions when both operands
    are arrays, but one value at a time against a scalar (float32, one core: 128×256 values
    in 10.3 µs against 3.3; 128×26×26×32 in 0.84 ms against 0.36; about even at 1,000
    values, 0.2 µs slower below). So the 0 is read from an array of zeros, a block of
    :data:`ZERO_BLOCK` kept per dtype, and a larger ``x`` is taken block by block. Both
    ways give the same bits (NaN stays NaN). A :class:`~minired.autodiff.tensor.Tensor`
    takes ``np.maximum(x, 0)`` itself, which the tape records.

    Example:
        >>> maximum_with_zero(np.array([-1.5, 0.0, 2.0], dtype=np.float32))
        array([0., 0., 2.], dtype=float32)
    """
    if type(x) is not np.ndarray or (x.size > ZERO_BLOCK and not x.flags.c_contiguous):
        # a Tensor under a tape (np.maximum sends it to mr.ops, which records it), or a
        # large strided array that cannot be cut into flat blocks
        return np.maximum(x, 0).astype(x.dtype, copy=False)
    zeros = _zero_blocks.get(x.dtype)
    if zeros is None:
        zeros = _zero_blocks[x.dtype] = np.zeros(ZERO_BLOCK, x.dtype)
        zeros.flags.writeable = False
    if x.size <= ZERO_BLOCK:
        return np.maximum(x, zeros[:x.size].reshape(x.shape))
    a = np.empty_like(x)
    flat_x, flat_a = x.reshape(-1), a.reshape(-1)
    for start in range(0, x.size, ZERO_BLOCK):
        block = slice(start, min(start + ZERO_BLOCK, x.size))
        np.maximum(flat_x[block], zeros[:block.stop - start], out=flat_a[block])
    return a


def _leaky_slope(negative_slope: float, dtype: np.dtype) -> np.floating:
    """The slope TensorFlow's ``LeakyRelu`` multiplies by: its ``alpha`` is a float32
    attribute, so in float64 ``0.2`` acts as ``0.20000000298023224``."""
    return np.dtype(dtype).type(np.float32(negative_slope))


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
    """Softmax over the last axis (or ``axis``): ``a_i = e^{z_i} / Σ_j e^{z_j}``.

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
    x = np.asarray(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


@_backward_of(softmax)
def softmax_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, axis: int = -1
                     ) -> np.ndarray:
    return a * (grad - np.sum(grad * a, axis=axis, keepdims=True))


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
def log_softmax_backward(z: np.ndarray, a: np.ndarray, grad: np.ndarray, axis: int = -1
                         ) -> np.ndarray:
    return grad - np.exp(a) * np.sum(grad, axis=axis, keepdims=True)
