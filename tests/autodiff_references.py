"""Reference forwards written with ``mr.ops``, for ``test_autodiff_crosscheck.py``.

Every built-in activation, loss and layer of minired has a hand-written backward pass. Each
function below computes the **same forward** again, from Keras' formula (the TensorFlow
backend's, constants and clips included), with ``mr.ops`` only, so that the tape can
differentiate it. The cross-check then compares the two gradients: the hand-written one and
the one the tape derives from these lines. Nothing here calls a minired activation, loss or
layer.

Only elementary ops are used (``exp``, ``log1p``, ``where``, ``maximum``, ``matmul``...), not
the composite ones of ``mr.ops.nn`` (``softmax``, ``sigmoid``...), whose VJPs are written by
hand too: the tape must *derive* every gradient it is compared with.

A Python float constant that Keras passes through ``ops.cast(value, x.dtype)`` is rounded
to float32 first on TensorFlow (:func:`f32`); a Python float met by a tensor in ``x * 0.5``
keeps its float64 value. Each reference says which one Keras uses.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from minired import config, ops


def f32(value: float) -> float:
    """``ops.cast(value, "float64")`` of a Python float on TensorFlow: float32 precision."""
    return float(np.float32(value))


def eps() -> float:
    """``keras.backend.epsilon()``, read at call time (1e-7 unless a test changes it)."""
    return config.epsilon()


# ================================================================================================
# Activations: one reference per Keras name, with the same keyword arguments as minired's
# ================================================================================================
def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' ``ReLU.static_call`` (``keras/src/activations/activations.py``), step by step."""
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return leaky_relu(x, negative_slope=negative_slope)     # Keras' shortcut
    if negative_slope != 0.0:
        negative_part = ops.maximum(ops.add(ops.negative(x), threshold), 0.0)   # relu(-x + θ)
    clip_max = max_value is not None
    if threshold != 0:
        passes = ops.cast(ops.greater(x, f32(threshold)), "float64")    # ops.cast(θ, x.dtype)
        x = ops.multiply(x, passes)
    elif max_value == 6:
        x = relu6(x)                                                     # Keras' relu6 shortcut
        clip_max = False
    else:
        x = ops.maximum(x, 0.0)
    if clip_max:
        x = ops.clip(x, 0.0, f32(max_value))                             # ops.cast(m, x.dtype)
    if negative_slope != 0.0:
        x = ops.subtract(x, ops.multiply(negative_slope, negative_part))
    return x


def leaky_relu(x, negative_slope=0.2):
    """``tf.nn.leaky_relu``: its ``alpha`` is a float32 attribute of the op."""
    return ops.where(ops.greater(x, 0.0), x, ops.multiply(x, f32(negative_slope)))


def relu6(x):
    return ops.minimum(ops.maximum(x, 0.0), 6.0)


def sigmoid(x):
    """``1 / (1 + e^{-x})`` (the inputs stay moderate, so ``e^{-x}`` cannot overflow)."""
    return ops.divide(1.0, ops.add(1.0, ops.exp(ops.negative(x))))


def tanh(x):
    return ops.tanh(x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list | tuple) else axis


def softmax(x, axis=-1):
    """``e^{x - max x} / Σ e^{x - max x}``; the shift by the max is differentiated too (its
    contributions cancel)."""
    axis = _axis(axis)
    e = ops.exp(ops.subtract(x, ops.max(x, axis=axis, keepdims=True)))
    return ops.divide(e, ops.sum(e, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """``(x - max x) - log Σ e^{x - max x}``."""
    axis = _axis(axis)
    shifted = ops.subtract(x, ops.max(x, axis=axis, keepdims=True))
    return ops.subtract(shifted, ops.log(ops.sum(ops.exp(shifted), axis=axis, keepdims=True)))


def elu(x, alpha=1.0):
    """``tf.nn.elu`` (``e^x - 1``, the kernel's form, of ``min(x, 0)``), then Keras'
    ``where(x > 0, res, alpha * res)`` for ``alpha != 1``."""
    res = ops.where(ops.greater(x, 0.0), x, ops.subtract(ops.exp(ops.minimum(x, 0.0)), 1.0))
    if alpha == 1:
        return res
    return ops.where(ops.greater(x, 0.0), res, ops.multiply(alpha, res))


#: ``tf.nn.selu``'s constants: ``λ`` and ``λα``.
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123


def selu(x):
    """TensorFlow's kernel: ``λα (e^x - 1)`` for ``x < 0``, ``λ x`` otherwise."""
    negative = ops.multiply(SELU_SCALE_ALPHA, ops.subtract(ops.exp(ops.minimum(x, 0.0)), 1.0))
    return ops.where(ops.less(x, 0.0), negative, ops.multiply(SELU_SCALE, x))


def softplus(x):
    """TensorFlow's kernel: with ``t = log(ε_machine) + 2``, ``x`` above ``-t``, ``e^x`` below
    ``t``, ``log1p(e^x)`` between."""
    t = float(np.log(np.finfo(np.float64).eps)) + 2
    e = ops.exp(ops.minimum(x, -t))
    return ops.where(ops.greater(x, -t), x,
                     ops.where(ops.less(x, t), e, ops.log1p(e)))


def softsign(x):
    return ops.divide(x, ops.add(ops.abs(x), 1.0))


def silu(x):
    return ops.multiply(x, sigmoid(x))


def gelu(x, approximate=False):
    """``tf.nn.gelu``: its two constants go through ``math_ops.cast`` (float32 precision).

    Exact: ``½ x erfc(-x/√2)``, with ``erfc(u) = 1 - erf(u)`` (``mr.ops`` has no erfc)."""
    if approximate:
        cubic = ops.multiply(f32(0.044715), ops.power(x, 3))
        t = ops.tanh(ops.multiply(0.7978845608028654, ops.add(x, cubic)))
        return ops.multiply(ops.multiply(0.5, x), ops.add(1.0, t))
    u = ops.multiply(ops.negative(x), f32(0.7071067811865476))
    return ops.multiply(ops.multiply(0.5, x), ops.subtract(1.0, ops.erf(u)))


def hard_sigmoid(x):
    """Keras' TensorFlow backend: ``relu6(x + 3) / 6``."""
    return ops.divide(relu6(ops.add(x, 3.0)), 6.0)


def hard_silu(x):
    return ops.multiply(x, hard_sigmoid(x))


def exponential(x):
    return ops.exp(x)


def mish(x):
    return ops.multiply(x, ops.tanh(softplus(x)))


# -- Keras 3's newer activations (``keras/src/backend/tensorflow/nn.py``) ------------------------
def celu(x, alpha=1.0):
    """``max(x, 0) + α · expm1(min(x, 0) / α)`` (a Python ``α``: its float64 value)."""
    return ops.add(ops.maximum(x, 0.0),
                   ops.multiply(alpha, ops.expm1(ops.divide(ops.minimum(x, 0.0), alpha))))


def glu(x, axis=-1):
    """``tf.split`` in two halves ``u, v`` along ``axis``, then ``u · sigmoid(v)``."""
    u, v = ops.split(x, 2, axis=axis)
    return ops.multiply(u, sigmoid(v))


def hard_shrink(x, threshold=0.5):
    """``where(|x| > θ, x, 0)``."""
    return ops.where(ops.greater(ops.abs(x), threshold), x, 0.0)


def hard_tanh(x):
    """``tf.clip_by_value(x, -1, 1)`` (its gradient passes at both bounds)."""
    return ops.clip(x, -1.0, 1.0)


def log_sigmoid(x):
    """``tf.math.log_sigmoid``: ``-softplus(-x)``."""
    return ops.negative(softplus(ops.negative(x)))


def soft_shrink(x, threshold=0.5):
    """``where(x > θ, x - θ, where(x < -θ, x + θ, 0))``."""
    return ops.where(ops.greater(x, threshold), ops.subtract(x, threshold),
                     ops.where(ops.less(x, -threshold), ops.add(x, threshold), 0.0))


def sparse_plus(x):
    """``where(x <= -1, 0, where(x < 1, ¼ (x + 1)², x))`` (``tf.pow(x + 1, 2)``)."""
    quadratic = ops.multiply(0.25, ops.power(ops.add(x, 1.0), 2.0))
    return ops.where(ops.less_equal(x, -1.0), 0.0, ops.where(ops.less(x, 1.0), quadratic, x))


def sparse_sigmoid(x):
    """``where(x <= -1, 0, where(x >= 1, 1, ½ (x + 1)))``."""
    return ops.where(ops.less_equal(x, -1.0), 0.0,
                     ops.where(ops.greater_equal(x, 1.0), 1.0,
                               ops.multiply(0.5, ops.add(x, 1.0))))


def sparsemax(x, axis=-1):
    """Sparsemax as Keras writes it (sort decreasing, cumulative sums, the support
    ``z_(j) - (cumsum_j - 1)/j > 0``, ``τ``, ``max(x - τ, 0)``), with ``τ`` from the sum of
    the **sorted values** over the support, ``τ = (Σ_S z_(j) - 1)/k``: the paper's
    threshold and the fix of keras-team/keras issue 23425 (Keras 3.15 sums the cumulative
    sums there, see ``minired.activations.sparse.sparsemax``). The tape differentiates
    ``τ`` through the sort."""
    ranked = ops.negative(ops.sort(ops.negative(x), axis=axis))          # decreasing
    cumulative = ops.cumsum(ranked, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    j = np.arange(1, x.shape[axis] + 1, dtype=np.float64).reshape(shape)
    support = ops.greater(ops.subtract(ranked, ops.divide(ops.subtract(cumulative, 1.0), j)),
                          0.0)
    k = ops.sum(ops.cast(support, "float64"), axis=axis, keepdims=True)
    total = ops.sum(ops.where(support, ranked, 0.0), axis=axis, keepdims=True)
    tau = ops.divide(ops.subtract(total, 1.0), k)
    return ops.maximum(ops.subtract(x, tau), 0.0)


def squareplus(x, b=4):
    """``(x + √(x² + b)) / 2`` (``b`` converted to the inputs' dtype: exact for 4)."""
    return ops.divide(ops.add(x, ops.sqrt(ops.add(ops.square(x), float(b)))), 2.0)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return ops.subtract(x, ops.tanh(x))


def threshold(x, threshold, default_value):
    """``where(x > θ, x, default_value)``."""
    return ops.where(ops.greater(x, threshold), x, default_value)


#: Keras name -> reference. An alias (``swish``) is checked through its function's name.
ACTIVATIONS = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "leaky_relu": leaky_relu, "relu6": relu6, "elu": elu,
    "selu": selu, "softplus": softplus, "softsign": softsign, "silu": silu, "gelu": gelu,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "exponential": exponential,
    "mish": mish, "celu": celu, "glu": glu, "hard_shrink": hard_shrink, "hard_tanh": hard_tanh,
    "log_sigmoid": log_sigmoid, "soft_shrink": soft_shrink, "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid, "sparsemax": sparsemax, "squareplus": squareplus,
    "tanh_shrink": tanh_shrink, "threshold": threshold,
}


# ================================================================================================
# Losses: the per-sample values ℓ of ``keras/src/losses/losses.py``, with the same arguments
# as minired's loss classes (reduction and name aside)
# ================================================================================================
def mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    return ops.mean(ops.abs(ops.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``epsilon = ops.convert_to_tensor(backend.epsilon(), dtype=y_pred.dtype)``: exact."""
    scale = ops.maximum(ops.abs(y_true), eps())
    return ops.multiply(100.0, ops.mean(ops.abs(ops.divide(ops.subtract(y_true, y_pred), scale)),
                                        axis=-1))


def mean_squared_logarithmic_error(y_true, y_pred):
    """``epsilon = ops.convert_to_tensor(backend.epsilon())`` has no dtype: float32."""
    e = f32(eps())
    first = ops.log(ops.add(ops.maximum(y_pred, e), 1.0))
    second = ops.log(ops.add(ops.maximum(y_true, e), 1.0))
    return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


def _l2_normalize(x, axis):
    """Keras' ``ops.normalize(x, axis)`` (order 2): ``x · min(rsqrt(Σ x²), 1/ε)``."""
    inverse_norm = ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)))
    return ops.multiply(x, ops.minimum(inverse_norm, 1.0 / eps()))


def cosine_similarity(y_true, y_pred, axis=-1):
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis),
                                             _l2_normalize(y_pred, axis)), axis=axis))


def huber(y_true, y_pred, delta=1.0):
    """``delta`` and ``0.5`` are converted with ``dtype=y_pred.dtype``: exact."""
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(0.5, ops.square(error))
    linear_part = ops.subtract(ops.multiply(delta, abs_error), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(abs_error, delta), quadratic, linear_part), axis=-1)


#: ``ops.log(2.0)`` is a float32 tensor, then cast to the predictions' dtype.
LOG_2 = f32(np.log(2.0))


def log_cosh(y_true, y_pred):
    """``x + softplus(-2x) - log 2`` with ``x = ŷ - y``."""
    x = ops.subtract(y_pred, y_true)
    return ops.mean(ops.subtract(ops.add(x, softplus(ops.multiply(x, -2.0))), LOG_2), axis=-1)


def _hinge_labels(y_true):
    """Keras' ``convert_binary_labels_to_hinge``: {0, 1} -> {-1, 1} when every label is 0 or 1."""
    y = np.asarray(y_true)
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


def hinge(y_true, y_pred):
    margin = ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred))
    return ops.mean(ops.maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    margin = ops.subtract(1.0, ops.multiply(_hinge_labels(y_true), y_pred))
    return ops.mean(ops.square(ops.maximum(margin, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)


def kl_divergence(y_true, y_pred):
    """``ops.clip(·, backend.epsilon(), 1)``: TensorFlow converts the bounds exactly."""
    y = ops.clip(y_true, eps(), 1.0)
    p = ops.clip(y_pred, eps(), 1.0)
    return ops.sum(ops.multiply(y, ops.log(ops.divide(y, p))), axis=-1)


def poisson(y_true, y_pred):
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.add(y_pred, eps())))),
                    axis=-1)


def _binary_crossentropy_elementwise(target, output, from_logits):
    """Keras' TensorFlow ``binary_crossentropy`` op, element by element.

    Logits: ``tf.nn.sigmoid_cross_entropy_with_logits``,
    ``relu(z) - z t + log1p(e^{-|z|})`` with TensorFlow's two ``where``s. Probabilities:
    ``p`` clipped to ``[ε, 1 - ε]``, then ``-(t log p + (1 - t) log(1 - p))``."""
    if from_logits:
        z = output
        positive = ops.greater_equal(z, 0.0)
        relu_z = ops.where(positive, z, 0.0)
        minus_abs_z = ops.where(positive, ops.negative(z), z)
        return ops.add(ops.subtract(relu_z, ops.multiply(z, target)),
                       ops.log1p(ops.exp(minus_abs_z)))
    p = ops.clip(output, eps(), 1.0 - eps())
    bce = ops.add(ops.multiply(target, ops.log(p)),
                  ops.multiply(ops.subtract(1.0, target), ops.log(ops.subtract(1.0, p))))
    return ops.negative(bce)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    y = y_true
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(_binary_crossentropy_elementwise(y, y_pred, from_logits), axis=-1)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Keras' ``binary_focal_crossentropy``. From logits it computes ``p = sigmoid(z)`` and
    calls ``ops.binary_crossentropy(y, p, from_logits=False)``; on TensorFlow that op reads
    the logits kept on the sigmoid's output (``_keras_logits``), so the cross-entropy is the
    logits formula, while the focal factor uses ``p``."""
    y = y_true
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = sigmoid(y_pred)
        bce = _binary_crossentropy_elementwise(y, y_pred, from_logits=True)
    else:
        p = y_pred
        bce = _binary_crossentropy_elementwise(y, y_pred, from_logits=False)
    p_t = ops.add(ops.multiply(y, p), ops.multiply(1.0 - y, ops.subtract(1.0, p)))
    focal_bce = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma), bce)
    if apply_class_balancing:
        focal_bce = ops.multiply(y * alpha + (1.0 - y) * (1.0 - alpha), focal_bce)
    return ops.mean(focal_bce, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Logits: ``tf.nn.softmax_cross_entropy_with_logits``, ``-Σ y log_softmax(z)``.
    Probabilities: rescaled to sum to 1, clipped to ``[ε, 1 - ε]``, ``-Σ y log p``."""
    y = y_true
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    if from_logits:
        log_p = log_softmax(y_pred)
    else:
        p = ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
        log_p = ops.log(ops.clip(p, eps(), 1.0 - eps()))
    return ops.negative(ops.sum(ops.multiply(y, log_p), axis=-1))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """``tf.nn.sparse_softmax_cross_entropy_with_logits``; probabilities are clipped to
    ``[ε, 1 - ε]`` and their log handed to it as logits."""
    labels = np.asarray(y_true).astype(np.int64)
    if labels.ndim == y_pred.ndim:            # (N, 1) labels
        labels = labels[..., 0]
    logits = y_pred if from_logits else ops.log(ops.clip(y_pred, eps(), 1.0 - eps()))
    picked = ops.take_along_axis(log_softmax(logits), labels[..., None], axis=-1)
    return ops.negative(ops.squeeze(picked, axis=-1))


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``softmax`` over ``axis`` for logits, then rescaled to sum to 1, clipped to
    ``[ε, 1 - ε]``, and ``Σ_axis (1 - o)^γ · α · (-y log o)``; a list ``α`` multiplies the
    **last** axis, as a float32 tensor."""
    y = y_true
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    if isinstance(alpha, list | tuple):
        alpha = np.asarray(alpha, dtype=np.float32).astype(np.float64)
    p = softmax(y_pred, axis=axis) if from_logits else y_pred
    output = ops.clip(ops.divide(p, ops.sum(p, axis=axis, keepdims=True)), eps(), 1.0 - eps())
    cce = ops.multiply(ops.negative(y), ops.log(output))
    weighting = ops.multiply(ops.power(ops.subtract(1.0, output), gamma), alpha)
    return ops.sum(ops.multiply(weighting, cce), axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q=0.5):
    """``p = Σ ŷ · one_hot(y)``, ``(1 - p^q) / q`` (labels ``(N, 1)`` read as ``(N,)``, as
    Keras' docstring promises)."""
    labels = np.asarray(y_true).astype(np.int64)
    if labels.ndim == y_pred.ndim:
        labels = labels[..., 0]
    one_hot = (labels[..., None] == np.arange(y_pred.shape[-1])).astype(np.float64)
    p = ops.sum(ops.multiply(y_pred, one_hot), axis=-1)
    return ops.divide(ops.subtract(1.0, ops.power(p, q)), q)


def _overlap_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true, y_pred, axis=None):
    """``1 - 2 Σ y ŷ / (Σ y + Σ ŷ + ε)``, the sums over ``axis`` (all axes for None)."""
    axis = _overlap_axis(axis)
    intersection = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    total = ops.add(ops.add(ops.sum(y_true, axis=axis), ops.sum(y_pred, axis=axis)), eps())
    return ops.subtract(1.0, ops.divide(ops.multiply(2.0, intersection), total))


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + α FP + β FN + ε)`` with ``TP = Σ y ŷ``, ``FP = Σ (1 - ŷ) y``,
    ``FN = Σ ŷ (1 - y)`` over ``axis`` (Keras' names: its "fp" counts the targets missed)."""
    axis = _overlap_axis(axis)
    intersection = ops.sum(ops.multiply(y_true, y_pred), axis=axis)
    fp = ops.sum(ops.multiply(ops.subtract(1.0, y_pred), y_true), axis=axis)
    fn = ops.sum(ops.multiply(y_pred, ops.subtract(1.0, y_true)), axis=axis)
    denominator = ops.add(ops.add(ops.add(intersection, ops.multiply(fp, alpha)),
                                  ops.multiply(fn, beta)), eps())
    return ops.subtract(1.0, ops.divide(intersection, denominator))


def _masked_logsumexp(x, mask):
    """``tf.math.reduce_logsumexp`` over axis 1 of ``where(mask, x, -inf)``: the shift by the
    row's finite maximum is a constant (TensorFlow's ``stop_gradient``)."""
    masked = ops.where(mask, x, -np.inf)
    top = np.max(np.where(mask, np.asarray(x), -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    total = ops.sum(ops.exp(ops.subtract(masked, top)), axis=1)
    return ops.add(ops.log(total), top[:, 0])


def circle(y_true, y_pred, gamma=80.0, margin=0.4, remove_diagonal=True):
    """Keras' ``circle`` of a batch against itself: cosine distances
    ``d = max(1 - Y Yᵀ, 0)``, the positive and negative masks (same label, without the
    diagonal when ``remove_diagonal``; different label), the weighted distances, one masked
    logsumexp per row for each, and ``softplus(p + n)`` (TensorFlow's softplus)."""
    labels = np.asarray(y_true).reshape(-1).astype(np.int32)
    positive = labels[:, None] == labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~np.eye(len(labels), dtype=bool)
    distance = ops.maximum(ops.subtract(1.0, ops.matmul(y_pred, ops.transpose(y_pred))), 0.0)
    pos_weights = ops.maximum(ops.multiply(ops.add(margin, distance), positive * 1.0), 0.0)
    neg_weights = ops.maximum(ops.multiply(ops.subtract(1 + margin, distance), negative * 1.0),
                              0.0)
    pos_dists = ops.subtract(margin, distance)
    neg_dists = ops.subtract(1 - margin, distance)
    pos_wdists = ops.multiply(ops.multiply(-1 * gamma, pos_weights), pos_dists)
    neg_wdists = ops.multiply(ops.multiply(gamma, neg_weights), neg_dists)
    p_loss = _masked_logsumexp(pos_wdists, positive)
    n_loss = _masked_logsumexp(neg_wdists, negative)
    return softplus(ops.add(p_loss, n_loss))


def ctc(y_true, y_pred):
    """``-log P(y | z)``, the CTC likelihood of the labels ``y`` (``(N, L)``, 0-padded; 0 is
    the blank) under the logits ``z`` (``(N, T, C)``), by the forward recursion in
    probability space (``tf.nn.ctc_loss`` runs it in log space: the same function; T is
    small here, so nothing underflows). With ``y' = (0, y_1, 0, …, y_L, 0)`` and
    ``q_t(s) = softmax(z_t)_{y'_s}``: ``α_0 = q_0 ⊙ [s ≤ 1]``,
    ``α_t(s) = q_t(s) (α_{t-1}(s) + α_{t-1}(s-1) + [skip] α_{t-1}(s-2))``,
    ``P = α_{T-1}(2L) + α_{T-1}(2L - 1)``. Each sample's transitions are a 0/1 matrix."""
    labels = np.asarray(y_true).astype(np.int64)
    n, length = labels.shape
    size = 2 * length + 1
    extended = np.zeros((n, size), dtype=np.int64)
    extended[:, 1::2] = labels
    lengths = np.sum(labels != 0, axis=1)
    valid = np.arange(size)[None, :] < (2 * lengths + 1)[:, None]            # (N, S)
    moves = np.zeros((n, size, size))                                        # from s to r
    for r in range(size):
        moves[:, r, r] = 1.0
        if r >= 1:
            moves[:, r - 1, r] = 1.0
        if r >= 2:
            moves[:, r - 2, r] = (extended[:, r] != 0) & (extended[:, r] != extended[:, r - 2])
    moves *= valid[:, None, :] * valid[:, :, None]
    one_hot = (extended[..., None] == np.arange(y_pred.shape[-1])).astype(np.float64)
    q = ops.einsum("ntc,nsc->nts", softmax(y_pred, axis=-1), one_hot)       # (N, T, S)
    start = (np.arange(size)[None, :] <= np.minimum(lengths, 1)[:, None]) * 1.0
    alpha = ops.multiply(ops.getitem(q, (slice(None), 0)), start)
    for t in range(1, y_pred.shape[1]):
        alpha = ops.multiply(ops.getitem(q, (slice(None), t)),
                             ops.einsum("ns,nsr->nr", alpha, moves))
    last = 2 * lengths
    end = np.zeros((n, size))
    end[np.arange(n), last] = 1.0
    end[np.arange(n)[lengths > 0], last[lengths > 0] - 1] = 1.0
    return ops.negative(ops.log(ops.sum(ops.multiply(alpha, end), axis=-1)))


#: minired loss class name -> reference of its per-sample values.
LOSSES = {
    "MeanSquaredError": mean_squared_error,
    "MeanAbsoluteError": mean_absolute_error,
    "MeanAbsolutePercentageError": mean_absolute_percentage_error,
    "MeanSquaredLogarithmicError": mean_squared_logarithmic_error,
    "CosineSimilarity": cosine_similarity,
    "Huber": huber,
    "LogCosh": log_cosh,
    "Hinge": hinge,
    "SquaredHinge": squared_hinge,
    "CategoricalHinge": categorical_hinge,
    "KLDivergence": kl_divergence,
    "Poisson": poisson,
    "BinaryCrossentropy": binary_crossentropy,
    "BinaryFocalCrossentropy": binary_focal_crossentropy,
    "CategoricalCrossentropy": categorical_crossentropy,
    "SparseCategoricalCrossentropy": sparse_categorical_crossentropy,
    "CategoricalFocalCrossentropy": categorical_focal_crossentropy,
    "CategoricalGeneralizedCrossEntropy": categorical_generalized_cross_entropy,
    "Dice": dice,
    "Tversky": tversky,
    "Circle": circle,
    "CTC": ctc,
}
#: Keras' mask on a loss' values (``backend.set_keras_mask``), which the reduction joins to
#: the sample weights: Circle masks the samples whose loss is 0 (no positive or negative).
LOSS_MASKS = {"Circle": lambda values: np.asarray(values) > 0}


def reduce_losses(losses, sample_weight, reduction: str, mask=None):
    """Keras' ``reduce_weighted_values``: ``Σ w ℓ`` divided by the number of weighted loss
    values (``sum_over_batch_size``), by 1 (``sum``) or by ``Σ w``
    (``mean_with_sample_weight``).

    Keras' corners: a ``mask`` on the values joins the weights (``apply_mask``: with
    ``sum_over_batch_size`` each unmasked value weighs ``total / valid``), and weights of
    one more axis than the values, of size 1, are squeezed first (``(1,)`` weights on a 0-d
    loss); a 0-d result is returned as it is, undivided."""
    losses_shape = np.shape(losses)
    if mask is not None:
        mask = np.asarray(mask, dtype=np.float64)
        if reduction == "sum_over_batch_size":
            valid = np.sum(mask)
            mask = mask * (mask.size / valid if valid else 0.0)
        sample_weight = mask if sample_weight is None else mask * sample_weight
    weights = np.ones(losses_shape) if sample_weight is None else np.asarray(sample_weight)
    if weights.ndim == len(losses_shape) + 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]                        # squeeze_or_expand_to_same_rank
    weighted = ops.multiply(losses, weights)
    total = ops.sum(weighted)
    if reduction == "sum" or np.ndim(weighted) == 0:
        return total
    if reduction == "mean_with_sample_weight":
        return ops.divide(total, float(np.sum(weights)))
    return ops.divide(total, float(np.size(weighted)))


# ================================================================================================
# Regularizers and layers: Keras' ``call`` of each layer, on the weights handed in (the watched
# copies of the layer's trainable weights, in ``layer.trainable_weights`` order)
# ================================================================================================
def penalty(regularizer, w):
    """Keras' ``L1``/``L2``/``L1L2``: ``ops.cast(l, x.dtype) · Σ|w|`` and ``· Σ w²``;
    ``OrthogonalRegularizer``: see :func:`orthogonal_penalty`."""
    if hasattr(regularizer, "mode"):
        return orthogonal_penalty(regularizer, w)
    terms = []
    if getattr(regularizer, "l1", 0.0):
        terms.append(ops.multiply(f32(regularizer.l1), ops.sum(ops.abs(w))))
    if getattr(regularizer, "l2", 0.0):
        terms.append(ops.multiply(f32(regularizer.l2), ops.sum(ops.square(w))))
    total = terms[0]
    for term in terms[1:]:
        total = ops.add(total, term)
    return total


def orthogonal_penalty(regularizer, w):
    """Keras' ``OrthogonalRegularizer``: the rows (or columns) of ``w`` normalized
    (``ops.normalize``), their Gram matrix without its diagonal, ``factor · ½ · Σ|·| /
    (n(n-1)/2)``."""
    rows = regularizer.mode == "rows"
    unit = ops.normalize(w, axis=1 if rows else 0)
    product = (ops.matmul(unit, ops.transpose(unit)) if rows
               else ops.matmul(ops.transpose(unit), unit))
    size = w.shape[0] if rows else w.shape[1]
    off_diagonal = ops.multiply(product, 1.0 - np.eye(size))
    total = ops.multiply(f32(regularizer.factor) * 0.5, ops.sum(ops.abs(off_diagonal)))
    return ops.divide(total, size * (size - 1.0) / 2.0)


def dense(layer, x, weights):
    z = ops.matmul(x, weights[0])
    if layer.use_bias:
        z = ops.add(z, weights[1])
    return ACTIVATIONS[layer.activation.__name__](z)


def activation(layer, x, weights):
    return ACTIVATIONS[layer.activation.__name__](x)


def relu_layer(layer, x, weights):
    return relu(x, negative_slope=layer.negative_slope, max_value=layer.max_value,
                threshold=layer.threshold)


def leaky_relu_layer(layer, x, weights):
    return leaky_relu(x, negative_slope=layer.negative_slope)


def elu_layer(layer, x, weights):
    return elu(x, alpha=layer.alpha)


def softmax_layer(layer, x, weights):
    return softmax(x, axis=layer.axis)


def prelu(layer, x, weights):
    """Keras: ``relu(x) - α · relu(-x)``."""
    (alpha,) = weights
    return ops.subtract(ops.maximum(x, 0.0), ops.multiply(alpha, ops.maximum(ops.negative(x), 0.0)))


def dropout(layer, x, weights):
    """``tf.nn.dropout``: ``x · 1/(1 - rate)``, times the keep mask, replayed from the cache
    of the hand-written call (None when that call was the identity)."""
    if layer.cache is None:
        return x
    mask, scale = layer.cache
    return ops.multiply(ops.multiply(x, scale), mask)


def random_flip(layer, x, weights):
    """RandomFlip: ``where(f, flip(x), x)`` for the images the hand-written call flipped
    (its cache), horizontally (axis -2) and/or vertically (axis -3)."""
    if layer.cache is None:
        return x
    _, flips = layer.cache
    if layer.mode in ("horizontal", "horizontal_and_vertical"):
        x = ops.where(flips, ops.flip(x, axis=-2), x)
    if layer.mode in ("vertical", "horizontal_and_vertical"):
        x = ops.where(flips, ops.flip(x, axis=-3), x)
    return x


def random_affine(layer, x, weights):
    """RandomRotation/RandomZoom/RandomTranslation for the drawn transforms (the cache's read
    positions ``q_k`` and weights ``w_k``): ``Σ_k w_k·x[q_k] + fill_value·w_out``, each pixel
    read with ``take`` from the flattened batch."""
    if layer.cache is None:
        return x
    _, plan = layer.cache
    return _resample(x, plan, layer.fill_value)


def _resample(x, plan, fill_value=0.0):
    """``Σ_k w_k·x[q_k] + fill_value·w_out`` for a Sampling ``plan`` (outputs ``(N, H', W')``
    read from inputs ``(N, H, W)``)."""
    k, n, out_rows, out_cols = plan.rows.shape
    rows, cols = plan.input_size
    flat = ops.reshape(x, (n * rows * cols, x.shape[-1]))
    index = (np.arange(n)[None, :, None, None] * rows + plan.rows) * cols + plan.cols
    read = ops.reshape(ops.take(flat, index.reshape(-1), axis=0),
                       (k, n, out_rows, out_cols, x.shape[-1]))
    outputs = ops.sum(ops.multiply(read, plan.weights[..., None]), axis=0)
    return ops.add(outputs, plan.outside[..., None] * fill_value)


def random_crop(layer, x, weights):
    """RandomCrop, the window of the hand-written call (``x[:, top:top+h, left:left+w]``),
    then, in Keras' fallback for small images, its bilinear resize."""
    if layer.cache is None:
        return x
    _, (_, (top, left, rows, cols), plan) = layer.cache
    window = ops.getitem(x, (slice(None), slice(top, top + rows), slice(left, left + cols)))
    return window if plan is None else _resample(window, plan)


def random_contrast(layer, x, weights):
    """RandomContrast (Keras' ``_adjust_contrast``, then the clip), the contrast ``c`` of
    the hand-written call: ``clip((x - m)·c + m)``, ``m`` the mean over rows then columns."""
    if layer.cache is None:
        return x
    _, (contrast, _) = layer.cache
    mean = ops.mean(ops.mean(x, axis=-3, keepdims=True), axis=-2, keepdims=True)
    z = ops.add(ops.multiply(ops.subtract(x, mean), contrast), mean)
    return ops.clip(z, *layer.value_range)


def random_brightness(layer, x, weights):
    """RandomBrightness, the shift ``d`` of the hand-written call: ``clip(x + d)``."""
    if layer.cache is None:
        return x
    _, (shift, _) = layer.cache
    return ops.clip(ops.add(x, shift), *layer.value_range)


def flatten(layer, x, weights):
    return ops.reshape(x, (x.shape[0], -1))


def masking(layer, x, weights):
    """Keras' ``Masking.call``: ``where(any(x ≠ mask_value, axis=-1, keepdims=True), x, 0)``."""
    keep = ops.any(ops.not_equal(x, layer.mask_value), axis=-1, keepdims=True)
    return ops.where(keep, x, 0.0)


def _same_rank(inputs):
    """Keras' merge rule: a lower-rank input gains axes of size 1 right after the batch."""
    rank = max(x.ndim for x in inputs)
    out = []
    for x in inputs:
        for _ in range(rank - x.ndim):
            x = ops.expand_dims(x, axis=1)
        out.append(x)
    return out


def _fold(function, inputs):
    xs = _same_rank(inputs)
    a = xs[0]
    for x in xs[1:]:
        a = function(a, x)
    return a


def add(layer, inputs, weights):
    return _fold(ops.add, inputs)


def subtract(layer, inputs, weights):
    return _fold(ops.subtract, inputs)


def multiply(layer, inputs, weights):
    return _fold(ops.multiply, inputs)


def average(layer, inputs, weights):
    return ops.divide(_fold(ops.add, inputs), float(len(inputs)))


def maximum(layer, inputs, weights):
    return _fold(ops.maximum, inputs)


def minimum(layer, inputs, weights):
    return _fold(ops.minimum, inputs)


def concatenate(layer, inputs, weights):
    return ops.concatenate(list(inputs), axis=layer.axis)


def rescaling(layer, x, weights):
    """``x · cast(scale) + cast(offset)``: a Python float goes through float32 (a NumPy
    float64, a subclass of float, keeps its value)."""
    def cast(value):
        return f32(value) if type(value) is float else np.asarray(value, dtype=np.float64)

    return ops.add(ops.multiply(x, cast(layer.scale)), cast(layer.offset))


def normalization(layer, x, weights, mean=None, variance=None):
    """``(x - mean) / max(√variance, ε)`` (``mean + x · max(√variance, ε)`` inverted), with
    the adapted statistics as constants (Keras does not train them)."""
    if mean is None:
        mean, variance = (np.asarray(w, dtype=np.float64) for w in layer.weights[:2])
    sigma = np.maximum(np.sqrt(variance), eps())
    if layer.invert:
        return ops.add(mean, ops.multiply(x, sigma))
    return ops.divide(ops.subtract(x, mean), sigma)


# ================================================================================================
# Convolution, pooling, normalization, reshaping: the padding rule is written out here (not
# imported from minired), and every window is a slice of the padded input
# ================================================================================================
def _same_padding(size: int, extent: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ``ceil(size/stride)`` outputs, the odd zero after."""
    total = max((math.ceil(size / stride) - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _pad_axis(x, axis: int, before: int, after: int, value: float = 0.0):
    """``x`` with ``before``/``after`` constants ``value`` along ``axis`` (a concatenation:
    its VJP drops the gradient of the padding)."""
    if not before and not after:
        return x

    def block(n):
        return np.full((*x.shape[:axis], n, *x.shape[axis + 1:]), value)

    return ops.concatenate([block(before), x, block(after)], axis=axis)


def _window_slices(extents, strides, outputs, dilations=None):
    """For each tap ``(a, b, …)`` of the window (row-major order), the index of
    ``x_padded[:, a·d : a·d + s·(out-1) + 1 : s, …, :]``: the values that tap sees in every
    window."""
    dilations = dilations or (1,) * len(extents)
    for tap in itertools.product(*(range(k) for k in extents)):
        rows = (slice(a * d, a * d + s * (o - 1) + 1, s)
                for a, d, s, o in zip(tap, dilations, strides, outputs, strict=True))
        yield tap, (slice(None), *rows, slice(None))


def conv(layer, x, weights):
    """Conv1D/Conv2D from the definition: pad with zeros (TensorFlow's rule), then
    ``z = Σ_taps x[:, a·d : a·d + s·(out-1) + 1 : s, ...] · W[a, ...] + b``, one matmul per
    kernel tap (the hand-written layer does one matmul over all the patches), ``a = f(z)``.
    With ``groups = G``, each tap's product is made per group, channels ``g·C/G …`` times
    filters ``g·F/G …`` of ``W[a]`` (``(C/G, F)``), the G products concatenated."""
    kernel = weights[0]
    axes = list(zip(layer.kernel_size, layer.strides, layer.dilation_rate, strict=True))
    for axis, (k, s, d) in enumerate(axes, start=1):
        extent = (k - 1) * d + 1
        if layer.padding == "same":
            before, after = _same_padding(x.shape[axis], extent, s)
        elif layer.padding == "causal":
            before, after = extent - 1, 0
        else:
            before, after = 0, 0
        x = _pad_axis(x, axis, before, after)
    outputs = [(x.shape[axis] - (k - 1) * d - 1) // s + 1
               for axis, (k, s, d) in enumerate(axes, start=1)]
    z = None
    for tap, index in _window_slices(layer.kernel_size, layer.strides, outputs,
                                     layer.dilation_rate):
        term = _grouped_matmul(ops.getitem(x, index), ops.getitem(kernel, tap),
                               getattr(layer, "groups", 1))
        z = term if z is None else ops.add(z, term)
    if layer.use_bias:
        z = ops.add(z, weights[1])
    return ACTIVATIONS[layer.activation.__name__](z)


def _grouped_matmul(x, w, groups: int):
    """``x · w`` for ``groups = 1``; else ``[x_0 · w_0 | … | x_{G-1} · w_{G-1}]``, with
    ``x_g`` the channels ``g·C/G …`` of ``x`` and ``w_g`` the columns ``g·F/G …`` of ``w``."""
    if groups == 1:
        return ops.matmul(x, w)
    c, f = w.shape[0], w.shape[1] // groups
    lead = (slice(None),) * (len(x.shape) - 1)
    return ops.concatenate([
        ops.matmul(ops.getitem(x, (*lead, slice(g * c, (g + 1) * c))),
                   ops.getitem(w, (slice(None), slice(g * f, (g + 1) * f))))
        for g in range(groups)], axis=-1)


def _depthwise(layer, x, kernel):
    """DepthwiseConv's ``Σ_taps x_padded[:, a·d : … : s, …, c] · W[a, c, m]`` without bias,
    channel ``c``, multiplier ``m`` at ``c·M + m`` (one broadcast product per kernel tap)."""
    axes = list(zip(layer.kernel_size, layer.strides, layer.dilation_rate, strict=True))
    for axis, (k, s, d) in enumerate(axes, start=1):
        extent = (k - 1) * d + 1
        before, after = _same_padding(x.shape[axis], extent, s) if layer.padding == "same" \
            else (0, 0)
        x = _pad_axis(x, axis, before, after)
    outputs = [(x.shape[axis] - (k - 1) * d - 1) // s + 1
               for axis, (k, s, d) in enumerate(axes, start=1)]
    channels, multiplier = kernel.shape[-2:]
    z = None
    for tap, index in _window_slices(layer.kernel_size, layer.strides, outputs,
                                     layer.dilation_rate):
        seen = ops.reshape(ops.getitem(x, index), (x.shape[0], *outputs, channels, 1))
        term = ops.multiply(seen, ops.getitem(kernel, tap))        # (N, *out, C, M)
        z = term if z is None else ops.add(z, term)
    return ops.reshape(z, (x.shape[0], *outputs, channels * multiplier))


def depthwise_conv(layer, x, weights):
    """DepthwiseConv1D/2D from the definition: ``z = Σ_taps x_tap ⊙ W[tap] + b``,
    ``a = f(z)``."""
    z = _depthwise(layer, x, weights[0])
    if layer.use_bias:
        z = ops.add(z, weights[1])
    return ACTIVATIONS[layer.activation.__name__](z)


def separable_conv(layer, x, weights):
    """SeparableConv1D/2D from the definition: the depthwise sum (no bias), then
    ``z = d · W_p[0, …] + b`` (a 1×1 convolution: one matmul), ``a = f(z)``."""
    d = _depthwise(layer, x, weights[0])
    pointwise = weights[1]
    z = ops.matmul(d, ops.reshape(pointwise, pointwise.shape[-2:]))
    if layer.use_bias:
        z = ops.add(z, weights[2])
    return ACTIVATIONS[layer.activation.__name__](z)


def conv_transpose(layer, x, weights):
    """Conv1DTranspose/Conv2DTranspose from the definition: input position ``i`` and kernel
    tap ``a`` add ``x[:, i] · W[a]ᵀ`` at ``i·s + a·d`` of a long array (each tap's product
    spread ``s`` apart with zeros in between, then shifted by ``a·d``), which is cropped to
    Keras' output size after TensorFlow's "same" padding of it (the odd zero after)."""
    kernel = weights[0]
    axes = list(zip(x.shape[1:-1], layer.kernel_size, layer.strides, layer.dilation_rate,
                    layer.output_padding or (None,) * (x.ndim - 2), strict=True))
    crops, lengths = [], []
    for n, k, s, d, o in axes:
        extent = (k - 1) * d + 1
        if layer.padding == "valid":
            size = (n - 1) * s + extent + (max(extent, s) - extent if o is None else o)
            before = 0
        else:
            size = n * s if o is None else (n - 1) * s + extent % 2 + o
            before = _same_padding(size, extent, s)[0]
        crops.append(slice(before, before + size))
        lengths.append(max((n - 1) * s + extent, before + size))
    z = None
    for tap in itertools.product(*(range(k) for k in layer.kernel_size)):
        term = ops.matmul(x, ops.transpose(ops.getitem(kernel, tap)))    # (N, *n, F)
        for axis, ((n, _, s, d, _), length) in enumerate(zip(axes, lengths, strict=True),
                                                         start=1):
            if s > 1:      # t[i] at i·s, zeros between: stack with zeros, then flatten
                zeros = np.zeros(term.shape)
                term = ops.stack([term, *[zeros] * (s - 1)], axis=axis + 1)
                shape = list(term.shape)
                shape[axis:axis + 2] = [n * s]
                term = ops.reshape(term, shape)
                term = ops.getitem(term, (slice(None),) * axis + (slice(0, (n - 1) * s + 1),))
            shift = tap[axis - 1] * d
            term = _pad_axis(term, axis, shift, length - shift - ((n - 1) * s + 1))
        z = term if z is None else ops.add(z, term)
    z = ops.getitem(z, (slice(None), *crops))
    if layer.use_bias:
        z = ops.add(z, weights[1])
    return ACTIVATIONS[layer.activation.__name__](z)


def _pooling_windows(layer, x, pad_value):
    """The padded input's window slices, stacked on a new last axis ``(N, *out, C, K)``
    (taps in row-major order), and the padding of each axis."""
    pads, axes = [], list(zip(layer.pool_size, layer.strides, strict=True))
    for axis, (p, s) in enumerate(axes, start=1):
        pads.append(_same_padding(x.shape[axis], p, s) if layer.padding == "same" else (0, 0))
        x = _pad_axis(x, axis, *pads[-1], value=pad_value)
    outputs = [(x.shape[axis] - p) // s + 1
               for axis, (p, s) in enumerate(axes, start=1)]
    taps = [ops.getitem(x, index)
            for _, index in _window_slices(layer.pool_size, layer.strides, outputs)]
    return ops.stack(taps, axis=-1), pads


def max_pooling(layer, x, weights):
    """The max of each window, padded with -inf ("same": padding never wins). ``ops.max``
    splits a tie equally, so the inputs must have none (see :func:`max_pooling_first`)."""
    stacked, _ = _pooling_windows(layer, x, -np.inf)
    return ops.max(stacked, axis=-1)


def max_pooling_first(layer, x, weights):
    """TensorFlow's tie rule, written out: each window's value is taken at the **first**
    maximum in row-major order (an index computed from the values: a constant for the
    tape, which sends the whole gradient there)."""
    stacked, _ = _pooling_windows(layer, x, -np.inf)
    first = np.argmax(ops.convert_to_numpy(stacked), axis=-1)[..., None]
    return ops.squeeze(ops.take_along_axis(stacked, first, axis=-1), axis=-1)


def max_pooling_every_tie(layer, x, weights):
    """TensorFlow's ``MaxPool3DGrad`` rule (CPU), where every value equal to its window's
    maximum ``a`` gets the **whole** ``δa``, written as a forward whose VJP that is:
    ``Σ_k x_k·1[x_k = a] − (n − 1)·a`` with ``n`` the number of ties, the ties and ``a``
    constants for the tape: the value is ``a``, and each tied ``x_k`` gets ``δa``."""
    stacked, _ = _pooling_windows(layer, x, -np.inf)
    values = ops.convert_to_numpy(stacked)
    top = np.max(values, axis=-1, keepdims=True)
    ties = values == top
    extra = (np.sum(ties, axis=-1) - 1) * top[..., 0]
    return ops.subtract(ops.sum(ops.where(ties, stacked, 0.0), axis=-1), extra)


def average_pooling(layer, x, weights):
    """The sum of each window over the number of its **real** inputs (TensorFlow's "same":
    the padded zeros are not counted); the counts are constants."""
    stacked, pads = _pooling_windows(layer, x, 0.0)
    ones = np.ones((1, *x.shape[1:-1], 1))
    for axis, pad in enumerate(pads, start=1):
        ones = np.pad(ones, [(0, 0)] * axis + [pad] + [(0, 0)] * (ones.ndim - axis - 1))
    outputs = stacked.shape[1:-2]
    counts = sum(ones[index] for _, index in _window_slices(layer.pool_size, layer.strides,
                                                             outputs))
    return ops.divide(ops.sum(stacked, axis=-1), counts)


def global_average_pooling(layer, x, weights):
    return ops.mean(x, axis=tuple(range(1, x.ndim - 1)), keepdims=layer.keepdims)


def global_max_pooling(layer, x, weights):
    """``reduce_max`` over the positions: a tie shares the gradient equally (``ops.max``'s
    VJP, TensorFlow's rule), so tied inputs are checked too."""
    return ops.max(x, axis=tuple(range(1, x.ndim - 1)), keepdims=layer.keepdims)


def batch_normalization(layer, x, weights):
    """Keras' (``tf.nn.batch_normalization``'s) folded form, ``a = x·s + (β − μ·s)`` with
    ``s = γ / √(σ² + ε)``: training mode with the batch's ``μ = mean x`` and
    ``σ² = mean (x − μ)²`` (functions of ``x``: the tape differentiates through them), else
    the moving statistics as constants."""
    axis = layer.axis % x.ndim
    reduction = tuple(i for i in range(x.ndim) if i != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    if layer.cache.batch_statistics:
        mean = ops.mean(x, axis=reduction)
        variance = ops.mean(ops.square(ops.subtract(x, ops.reshape(mean, shape))),
                            axis=reduction)
    else:
        mean = np.array(layer.moving_mean, dtype=np.float64)
        variance = np.array(layer.moving_variance, dtype=np.float64)
    weights = list(weights)
    s = ops.divide(1.0, ops.sqrt(ops.add(variance, layer.epsilon)))
    if layer.scale:
        s = ops.multiply(s, weights.pop(0))
    shift = ops.negative(ops.multiply(mean, s))
    if layer.center:
        shift = ops.add(weights.pop(0), shift)
    return ops.add(ops.multiply(x, ops.reshape(s, shape)), ops.reshape(shift, shape))


def layer_normalization(layer, x, weights):
    """Keras' ``ops.layer_normalization``: each sample's ``μ`` and ``σ²`` over the normalized
    axes (functions of ``x``), then ``a = x·s + (β − μ·s)`` with ``s = γ / √(σ² + ε)``."""
    axes = tuple(a % x.ndim for a in layer.axis)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    mean = ops.mean(x, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(ops.subtract(x, mean)), axis=axes, keepdims=True)
    weights = list(weights)
    s = ops.divide(1.0, ops.sqrt(ops.add(variance, layer.epsilon)))
    if layer.scale:
        s = ops.multiply(s, ops.reshape(weights.pop(0), shape))
    shift = ops.negative(ops.multiply(mean, s))
    if layer.center:
        shift = ops.add(ops.reshape(weights.pop(0), shape), shift)
    return ops.add(ops.multiply(x, s), shift)


def batch_normalization_textbook(layer, x, weights):
    """The same map unfolded, ``γ (x − μ)/√(σ² + ε) + β`` (training mode): another
    summation order of the same gradient."""
    axis = layer.axis % x.ndim
    reduction = tuple(i for i in range(x.ndim) if i != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    centered = ops.subtract(x, ops.reshape(ops.mean(x, axis=reduction), shape))
    variance = ops.mean(ops.square(centered), axis=reduction)
    x_hat = ops.divide(centered, ops.reshape(ops.sqrt(ops.add(variance, layer.epsilon)), shape))
    weights = list(weights)
    if layer.scale:
        x_hat = ops.multiply(x_hat, ops.reshape(weights.pop(0), shape))
    if layer.center:
        x_hat = ops.add(x_hat, ops.reshape(weights.pop(0), shape))
    return x_hat


def reshape(layer, x, weights):
    return ops.reshape(x, (x.shape[0], *layer.target_shape))


def zero_padding_2d(layer, x, weights):
    """ZeroPadding2D and ZeroPadding3D: zeros before and after each spatial axis."""
    for axis, (before, after) in enumerate(layer.padding, start=1):
        x = _pad_axis(x, axis, before, after)
    return x


def up_sampling_2d(layer, x, weights):
    """Nearest neighbour: every row repeated ``sh`` times, then every column ``sw`` times."""
    return ops.repeat(ops.repeat(x, layer.size[0], axis=1), layer.size[1], axis=2)


def up_sampling_3d(layer, x, weights):
    """Nearest neighbour: Keras' ``ops.repeat`` along the depth, rows, then columns."""
    for axis, size in enumerate(layer.size, start=1):
        x = ops.repeat(x, size, axis=axis)
    return x


def up_sampling_1d(layer, x, weights):
    """Keras' ``ops.repeat(x, size, axis=1)``."""
    return ops.repeat(x, layer.size, axis=1)


def zero_padding_1d(layer, x, weights):
    return _pad_axis(x, 1, *layer.padding)


def cropping(layer, x, weights):
    """Keras' slices ``x[:, b:-e]`` (1D), ``x[:, t:-b, l:-r]`` (2D), and so on (3D)."""
    crops = [layer.cropping] if isinstance(layer.cropping[0], int) else layer.cropping
    index = tuple(slice(before, size - after)
                  for (before, after), size in zip(crops, x.shape[1:], strict=False))
    return x[(slice(None), *index)]


def repeat_vector(layer, x, weights):
    """Keras' ``ops.repeat(ops.reshape(x, (N, 1, F)), n, axis=1)``."""
    return ops.repeat(ops.expand_dims(x, 1), layer.n, axis=1)


def permute(layer, x, weights):
    return ops.transpose(x, (0, *layer.dims))


def identity(layer, x, weights):
    return x


def gaussian_noise(layer, x, weights):
    """``x + ε``, the noise replayed from the hand-written call (None: the identity)."""
    return x if layer.cache is None else ops.add(x, layer.cache)


def dot(layer, xs, weights):
    """Keras' ``batch_dot`` (axis i of x moved last, axis j of y second, a matmul), after
    ``ops.normalize`` of both inputs when ``normalize``."""
    x, y = xs
    axis1, axis2 = layer._axes_for(x.ndim, y.ndim)
    if layer.normalize:
        x, y = _l2_normalize(x, axis1), _l2_normalize(y, axis2)
    xm, ym = ops.moveaxis(x, axis1, -1), ops.moveaxis(y, axis2, 1)
    n, k = xm.shape[0], xm.shape[-1]
    a = ops.matmul(ops.reshape(xm, (n, -1, k)), ops.reshape(ym, (n, k, -1)))
    shape = (n, *xm.shape[1:-1], *ym.shape[2:])
    return ops.reshape(a, shape if len(shape) > 1 else (n, 1))


def gaussian_dropout(layer, x, weights):
    """``x · m``, the factors replayed from the hand-written call (None: the identity)."""
    return x if layer.cache is None else ops.multiply(x, layer.cache)


def recurrent(layer, x, weights, initial_states=None):
    """SimpleRNN, LSTM and GRU (and their cells run by ``RNN``) as Keras' cells write them,
    one step at a time over ``x`` (reversed for ``go_backwards``), from zero states or from
    ``initial_states`` (constants: a stateful layer's carried states). Input dropout replays
    the hand-written call's mask (``layer.cache.mask``): one mask ``(N, in)`` on ``x``
    (implementation 2), or, with recurrent dropout (Keras' implementation 1), one per gate
    ``(k, N, in)`` on ``x`` before each gate's kernel; recurrent dropout replays
    ``layer.cache.recurrent_masks`` ``(k, N, units)``, one per gate on ``h_{t-1}``."""
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if layer.use_bias else None
    u = layer.units
    name = type(layer).__name__.removesuffix("Cell")
    f = ACTIVATIONS[layer.activation.__name__]
    sigma = (ACTIVATIONS[layer.recurrent_activation.__name__]
             if hasattr(layer, "recurrent_activation") else None)
    if layer.go_backwards:
        x = ops.flip(x, axis=1)
    cache = layer.cache
    in_masks = None if cache is None else cache.mask
    rec_masks = None if cache is None else cache.recurrent_masks
    if in_masks is not None and in_masks.ndim == 2:          # one mask for every gate
        x = ops.multiply(x, ops.expand_dims(in_masks, axis=1))
        in_masks = None
    h = ops.zeros((x.shape[0], u), dtype=x.dtype)
    c, outputs = h, []
    if initial_states:
        h, c = initial_states[0], initial_states[-1]

    def cols(a, start, stop):
        return ops.getitem(a, (slice(None), slice(start * u, stop * u)))

    def x_times_kernel(x_t, start, stop):
        """``x_t W`` for the gates start..stop-1, each gate's inputs with its own mask."""
        if in_masks is None:
            return ops.matmul(x_t, cols(kernel, start, stop))
        return ops.concatenate([ops.matmul(ops.multiply(x_t, in_masks[g]), cols(kernel, g, g + 1))
                                for g in range(start, stop)], axis=1)

    def h_times_kernel(h, start, stop, h_factor=None):
        """``h U`` for the gates start..stop-1, each gate's ``h`` with its own mask (and
        times ``h_factor``: GRU's reset gate before the product)."""
        blocks = []
        for g in range(start, stop):
            h_g = h if rec_masks is None else ops.multiply(h, rec_masks[g])
            h_g = h_g if h_factor is None else ops.multiply(h_factor, h_g)
            blocks.append(ops.matmul(h_g, cols(recurrent_kernel, g, g + 1)))
        return blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=1)

    for t in range(x.shape[1]):
        x_t = ops.getitem(x, (slice(None), t))
        if name == "SimpleRNN":
            z = x_times_kernel(x_t, 0, 1)
            z = ops.add(z, bias) if bias is not None else z
            h = f(ops.add(z, h_times_kernel(h, 0, 1)))
        elif name == "LSTM":
            z = ops.add(x_times_kernel(x_t, 0, 4), h_times_kernel(h, 0, 4))
            z = ops.add(z, bias) if bias is not None else z
            i, g = sigma(cols(z, 0, 1)), f(cols(z, 2, 3))
            c = ops.add(ops.multiply(sigma(cols(z, 1, 2)), c), ops.multiply(i, g))
            h = ops.multiply(sigma(cols(z, 3, 4)), f(c))
        else:                                                   # GRU
            a = x_times_kernel(x_t, 0, 3)
            if bias is not None:
                a = ops.add(a, ops.getitem(bias, 0) if layer.reset_after else bias)
            if layer.reset_after:
                q = h_times_kernel(h, 0, 3)
                q = ops.add(q, ops.getitem(bias, 1)) if bias is not None else q
            else:
                q = h_times_kernel(h, 0, 2)
            z = sigma(ops.add(cols(a, 0, 1), cols(q, 0, 1)))
            r = sigma(ops.add(cols(a, 1, 2), cols(q, 1, 2)))
            if layer.reset_after:
                inner = ops.multiply(r, cols(q, 2, 3))
            else:
                inner = h_times_kernel(h, 2, 3, h_factor=r)      # (r ⊙ h) U_h
            hh = f(ops.add(cols(a, 2, 3), inner))
            h = ops.add(ops.multiply(z, h), ops.multiply(ops.subtract(1.0, z), hh))
        outputs.append(h)
    return ops.stack(outputs, axis=1) if layer.return_sequences else h


def conv_lstm(layer, x, weights, initial_states=None):
    """ConvLSTM1D/2D/3D as Keras' ConvLSTMCell writes it, one step at a time over ``x``
    (reversed for ``go_backwards``), gate by gate: ``x_g = (x_t ⊙ m_g) ∗ W_g + b_g`` with
    :func:`conv` (the layer's strides, padding and dilation) and ``h_g = (h ⊙ r_g) ∗ U_g``
    (stride 1, "same"), ``i, f, o = σ(x_· + h_·)``, ``c = f c + i act(x_c + h_c)``,
    ``h = o act(c)``; from zero states or ``initial_states`` (constants: a stateful layer's
    carried states). Dropout replays the hand-written call's masks
    (``layer.cache.input_masks`` ``(4, N, *spatial, C)``, ``recurrent_masks``
    ``(4, N, *out, F)``)."""
    from types import SimpleNamespace

    rank, filters = layer.rank, layer.filters
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if layer.use_bias else None
    act = ACTIVATIONS[layer.activation.__name__]
    sigma = ACTIVATIONS[layer.recurrent_activation.__name__]
    linear = SimpleNamespace(__name__="linear")
    input_conv = SimpleNamespace(kernel_size=layer.kernel_size, strides=layer.strides,
                                 dilation_rate=layer.dilation_rate, padding=layer.padding,
                                 use_bias=False, activation=linear)
    recurrent_conv = SimpleNamespace(kernel_size=layer.kernel_size, strides=(1,) * rank,
                                     dilation_rate=(1,) * rank, padding="same",
                                     use_bias=False, activation=linear)
    cache = layer.cache
    in_masks = None if cache is None else cache.input_masks
    rec_masks = None if cache is None else cache.recurrent_masks
    if layer.go_backwards:
        x = ops.flip(x, axis=1)

    def gate(array, g):
        """Gate g's filters (the last axis, F of 4F)."""
        return ops.getitem(array, (slice(None),) * (array.ndim - 1)
                           + (slice(g * filters, (g + 1) * filters),))

    h = c = None
    outputs = []
    for t in range(x.shape[1]):
        x_t = ops.getitem(x, (slice(None), t))
        z = []
        for g in range(4):
            x_g = x_t if in_masks is None else ops.multiply(x_t, in_masks[g])
            z_g = conv(input_conv, x_g, [gate(kernel, g)])
            z_g = z_g if bias is None else ops.add(z_g, gate(bias, g))
            if h is None:                   # the first step: h_0, c_0
                zeros = np.zeros(z_g.shape)
                h, c = initial_states if initial_states else (zeros, zeros)
            h_g = h if rec_masks is None else ops.multiply(h, rec_masks[g])
            z.append(ops.add(z_g, conv(recurrent_conv, h_g, [gate(recurrent_kernel, g)])))
        i, forget, o = sigma(z[0]), sigma(z[1]), sigma(z[3])
        c = ops.add(ops.multiply(forget, c), ops.multiply(i, act(z[2])))
        h = ops.multiply(o, act(c))
        outputs.append(h)
    return ops.stack(outputs, axis=1) if layer.return_sequences else h


def rnn(layer, x, weights):
    """Keras' RNN: its cell over the sequence; a stack of cells runs them in turn at every
    step, which equals the first cell over the sequence, then the next over its outputs."""
    cells = layer.cell.cells if hasattr(layer.cell, "cells") else [layer.cell]
    start = 0
    for cell in cells:
        count = len(cell.trainable_weights)
        x = recurrent(cell, x, weights[start:start + count])
        start += count
    return x


def bidirectional(layer, x, weights):
    """Keras' Bidirectional: the backward layer's sequence flipped back, then merged."""
    half = len(weights) // 2
    y = recurrent(layer.forward_layer, x, weights[:half])
    y_rev = recurrent(layer.backward_layer, x, weights[half:])
    if layer.return_sequences:
        y_rev = ops.flip(y_rev, axis=1)
    merge = {"concat": lambda: ops.concatenate([y, y_rev], axis=-1),
             "sum": lambda: ops.add(y, y_rev), "mul": lambda: ops.multiply(y, y_rev),
             "ave": lambda: ops.divide(ops.add(y, y_rev), 2.0)}
    return merge[layer.merge_mode]()


def multi_head_attention(layer, inputs, weights):
    """Keras' MultiHeadAttention on ``[x_q, x_v]`` or ``[x_q, x_v, x_k]``: the projections
    as einsums, then, as the hand-written call chose (its cache: ``explicit`` for dropout
    or returned scores), ``softmax((Q/√d)·Kᵀ)`` masked with -1e9 and zeroed afterwards, or
    ``softmax((Q Kᵀ)/√d)`` masked with -0.7·3.38953e38; the mask and dropout mask are
    replayed from that cache."""
    x_q, x_v = inputs[0], inputs[1]
    x_k = inputs[2] if len(inputs) > 2 else x_v
    it = iter(weights)

    def project(x, equation):
        z = ops.einsum(equation, x, next(it))
        return ops.add(z, next(it)) if layer.use_bias else z

    q = project(x_q, "abc,cde->abde")
    k = project(x_k, "abc,cde->abde")
    v = project(x_v, "abc,cde->abde")
    cache, scale = layer.cache, f32(1.0 / math.sqrt(layer.key_dim))
    if cache.explicit:
        scores = ops.einsum("bsnh,btnh->bnts", k, ops.multiply(q, scale))
        if cache.mask is not None:
            scores = ops.where(cache.mask, scores, -1e9)
        probs = softmax(scores, axis=-1)
        if cache.mask is not None:
            probs = ops.where(cache.mask, probs, 0.0)
    else:
        scores = ops.multiply(ops.einsum("btnh,bsnh->bnts", q, k), scale)
        if cache.mask is not None:
            scores = ops.where(cache.mask, scores, 3.38953e38 * -0.7)
        probs = softmax(scores, axis=-1)
    if cache.dropout_mask is not None:
        probs = ops.multiply(ops.multiply(probs, cache.dropout_scale), cache.dropout_mask)
    return project(ops.einsum("bnts,bsnh->btnh", probs, v), "abcd,cde->abe")


def dot_attention(layer, inputs, weights):
    """Keras' Attention/AdditiveAttention on ``[q, v]`` or ``[q, v, k]``: the scores (dot
    ``q kᵀ·s``, concat ``c Σ tanh(s(q_i + k_j))``, additive ``Σ s tanh(q_i + k_j)``), minus
    1e9 where a key is masked, softmax, the dropout mask, ``P̃ v``, hidden query rows set
    to 0; the masks and the dropout mask are replayed from the hand-written call's cache."""
    q, v = inputs[0], inputs[1]
    k = inputs[2] if len(inputs) > 2 else v
    it = iter(weights)
    scale = next(it) if layer.use_scale else None
    if type(layer).__name__ == "AdditiveAttention":
        t = ops.tanh(ops.add(ops.expand_dims(q, 2), ops.expand_dims(k, 1)))
        scores = ops.sum(ops.multiply(scale, t) if scale is not None else t, axis=-1)
    elif layer.score_mode == "dot":
        scores = ops.matmul(q, ops.swapaxes(k, -2, -1))
        scores = ops.multiply(scores, scale) if scale is not None else scores
    else:
        u = ops.add(ops.expand_dims(q, 2), ops.expand_dims(k, 1))
        t = ops.tanh(ops.multiply(scale, u) if scale is not None else u)
        scores = ops.multiply(next(it), ops.sum(t, axis=-1))
    cache = layer.cache
    if cache.keep is not None:
        scores = ops.where(cache.keep, scores, ops.subtract(scores, 1.0e9))
    probs = softmax(scores, axis=-1)
    if cache.dropout_mask is not None:
        probs = ops.multiply(ops.multiply(probs, cache.dropout_scale), cache.dropout_mask)
    outputs = ops.matmul(probs, v)
    if cache.query_keep is not None:
        outputs = ops.where(cache.query_keep, outputs, 0.0)
    return outputs


# -- Keras 3's newer layers -----------------------------------------------------------------------
def time_distributed(layer, x, weights, inner):
    """Keras' TimeDistributed: the wrapped layer called on every time step ``x[:, t]`` (``T``
    calls with the same weights; ``inner`` is the wrapped layer's reference), stacked on
    axis 1."""
    steps = [inner(layer.layer, ops.getitem(x, (slice(None), t)), weights)
             for t in range(x.shape[1])]
    return ops.stack(steps, axis=1)


def spectral_normalization(layer, x, weights, inner):
    """Keras' SpectralNormalization: in training it *assigns* ``W/σ`` to the kernel variable
    and then runs the wrapped layer, which reads the variable; so the function TensorFlow
    differentiates is the wrapped layer (``inner``, its reference) at the kernel as stored
    after the assignment, and no gradient flows through ``σ``. (The normalization itself,
    ``σ`` and the new ``u``, is compared with Keras in tests/test_spectral_normalization.py.)"""
    return inner(layer.layer, x, weights)


def group_normalization(layer, x, weights):
    """Keras' GroupNormalization: ``x`` reshaped to ``(..., G, C/G, ...)`` (the groups axis
    inserted before the channels), ``μ``, ``σ²`` of each sample and group over every axis but
    the batch and groups ones (``ops.moments``: functions of ``x``), ``inv = rsqrt(σ² + ε)·γ``,
    ``a = x·inv + (β − μ·inv)``, reshaped back."""
    axis = layer.axis % x.ndim
    g = layer.groups
    grouped = [*x.shape[:axis], g, x.shape[axis] // g, *x.shape[axis + 1:]]
    xg = ops.reshape(x, tuple(grouped))
    reduction = tuple(a for a in range(1, x.ndim + 1) if a != axis)
    mean = ops.mean(xg, axis=reduction, keepdims=True)
    variance = ops.mean(ops.square(ops.subtract(xg, mean)), axis=reduction, keepdims=True)
    broadcast = [1] * (x.ndim + 1)
    broadcast[axis], broadcast[axis + 1] = g, x.shape[axis] // g
    weights = list(weights)
    inv = ops.rsqrt(ops.add(variance, layer.epsilon))
    if layer.scale:
        inv = ops.multiply(inv, ops.reshape(weights.pop(0), tuple(broadcast)))
    res = ops.multiply(ops.negative(mean), inv)
    if layer.center:
        res = ops.add(res, ops.reshape(weights.pop(0), tuple(broadcast)))
    return ops.reshape(ops.add(ops.multiply(xg, inv), res), x.shape)


def rms_normalization(layer, x, weights):
    """Keras' ``ops.rms_normalization``: ``x · rsqrt(mean(x²) + ε) · γ`` (the mean over the
    normalized axes, ``γ`` broadcast against the last axes)."""
    mean_square = ops.mean(ops.square(x), axis=tuple(layer.axis), keepdims=True)
    rrms = ops.rsqrt(ops.add(mean_square, layer.epsilon))
    return ops.multiply(ops.multiply(x, rrms), weights[0])


def unit_normalization(layer, x, weights):
    """Keras' ``ops.normalize(x, axis, order=2, epsilon=1e-12)``:
    ``x · min(rsqrt(Σ x²), 1/ε)`` (a vector of norm below ε is scaled by the constant 1/ε)."""
    axis = tuple(layer.axis) if isinstance(layer.axis, list) else layer.axis
    inv_norm = ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return ops.multiply(x, ops.minimum(inv_norm, 1.0 / 1e-12))


#: SELU's α and λ, as Keras' AlphaDropout writes them.
ALPHA_DROPOUT_ALPHA = 1.6732632423543772848170429916717
ALPHA_DROPOUT_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(layer, x, weights):
    """Keras' AlphaDropout in training: ``A (x k + α'(1 − k)) + B`` with ``α' = −λα``,
    ``A = ((1 − p)(1 + p α'²))^(−1/2)``, ``B = −A α' p`` (Python floats), the keep mask ``k``
    replayed from the hand-written call (None: the identity)."""
    if layer.cache is None:
        return x
    kept = layer.cache[0]
    p = layer.rate
    alpha_p = -ALPHA_DROPOUT_ALPHA * ALPHA_DROPOUT_SCALE
    a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5
    b = -a * alpha_p * p
    dropped = ops.add(ops.multiply(x, kept), ops.multiply(alpha_p, ops.subtract(1.0, kept)))
    return ops.add(ops.multiply(a, dropped), b)


def _half_pixel_positions(n_in: int, n_out: int) -> np.ndarray:
    """TensorFlow's resize kernels' source positions ``(i + ½)·s`` of the outputs, with
    ``s = n_in / n_out``, in float32 as the kernels compute them."""
    return (np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * np.float32(n_in / n_out)


def _resize_axis(x, axis: int, n_out: int, interpolation: str):
    """One axis of ``tf.image.resize`` (half-pixel centres, no antialiasing): ``nearest``
    reads ``x[min(⌊(i + ½)·s⌋, n - 1)]``; ``bilinear``, at ``p = (i + ½)·s − ½``,
    ``lo + (hi − lo)·f`` with ``lo = x[max(⌊p⌋, 0)]``, ``hi = x[min(⌈p⌉, n − 1)]``,
    ``f = p − ⌊p⌋`` (the kernel's lerp)."""
    n_in = x.shape[axis]
    centres = _half_pixel_positions(n_in, n_out)
    if interpolation == "nearest":
        return ops.take(x, np.minimum(np.floor(centres), n_in - 1).astype(np.int64), axis=axis)
    position = centres - np.float32(0.5)
    low = ops.take(x, np.maximum(np.floor(position), 0).astype(np.int64), axis=axis)
    high = ops.take(x, np.minimum(np.ceil(position), n_in - 1).astype(np.int64), axis=axis)
    shape = [1] * x.ndim
    shape[axis] = n_out
    fraction = (position - np.floor(position)).astype(np.float64).reshape(shape)
    return ops.add(low, ops.multiply(ops.subtract(high, low), fraction))


def _resize(x, height: int, width: int, interpolation: str = "bilinear"):
    """``tf.image.resize`` of ``(N, H, W, C)`` images: the columns, then the rows."""
    return _resize_axis(_resize_axis(x, 2, width, interpolation), 1, height, interpolation)


def _aspect_window(height: int, width: int, target: tuple):
    """Keras' centred crop window with the target's aspect ratio (``smart_resize`` and
    ``Resizing(crop_to_aspect_ratio=True)``): ``(top, left, rows, cols)``."""
    rows = max(min(height, int(float(width * target[0]) / target[1])), 1)
    cols = max(min(width, int(float(height * target[1]) / target[0])), 1)
    return int(float(height - rows) / 2), int(float(width - cols) / 2), rows, cols


def resizing(layer, x, weights):
    """Keras' Resizing (TensorFlow backend): the centred aspect-ratio crop, or the padding
    with ``fill_value`` (the same amount on both sides), then ``tf.image.resize``."""
    height, width = x.shape[1], x.shape[2]
    target = (layer.height, layer.width)
    if layer.crop_to_aspect_ratio:
        top, left, rows, cols = _aspect_window(height, width, target)
        x = ops.getitem(x, (slice(None), slice(top, top + rows), slice(left, left + cols)))
    elif layer.pad_to_aspect_ratio:
        pad_height = max(height, int(float(width * target[0]) / target[1]))
        pad_width = max(width, int(float(height * target[1]) / target[0]))
        top, left = int(float(pad_height - height) / 2), int(float(pad_width - width) / 2)
        x = _pad_axis(_pad_axis(x, 1, top, top, layer.fill_value), 2, left, left,
                      layer.fill_value)
    return _resize(x, layer.height, layer.width, layer.interpolation)


def center_crop(layer, x, weights):
    """Keras' CenterCrop: the centred ``height × width`` window when the images are at least
    that large, else ``smart_resize`` (the centred window of the target's aspect ratio,
    resized bilinearly)."""
    height, width = x.shape[1], x.shape[2]
    if height >= layer.height and width >= layer.width:
        top, left = (height - layer.height) // 2, (width - layer.width) // 2
        return ops.getitem(x, (slice(None), slice(top, top + layer.height),
                               slice(left, left + layer.width)))
    top, left, rows, cols = _aspect_window(height, width, (layer.height, layer.width))
    window = ops.getitem(x, (slice(None), slice(top, top + rows), slice(left, left + cols)))
    return _resize(window, layer.height, layer.width)


# -- Keras 3's newer image augmentation layers ----------------------------------------------------
# Each reference replays the draws of the hand-written call: ``layer.transformation`` (the
# parameters Keras' ``get_random_transformation`` names) or the state the call left in
# ``layer.cache``; a masks or a sampling plan is a constant of the reference, never the
# hand-written outputs. ``_<name>(layer, x, state)`` takes the state of one ``_augment``
# call, so that RandomColorJitter and RandAugment can replay their steps with it.
#: ``tf.image.rgb_to_grayscale``'s weights of R, G and B.
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def _replayed(apply):
    """The reference of a layer from its ``_apply``-like ``apply(layer, x, state)``: the
    identity after an identity call (``cache`` None), else the state of ``cache``."""
    def reference(layer, x, weights):
        if layer.cache is None:
            return x
        return apply(layer, x, layer.cache[1])
    reference.__doc__ = apply.__doc__
    reference.__name__ = apply.__name__.lstrip("_")
    return reference


def _gray(x):
    """``Σ_c w_c·x_c`` (keepdims), or ``x`` for one channel."""
    if x.shape[-1] == 1:
        return x
    return ops.sum(ops.multiply(x, np.asarray(GRAY_WEIGHTS)), axis=-1, keepdims=True)


def _value_range(x, source, target):
    """Keras' ``_transform_value_range``: ``(x - lo)/(hi - lo)·(hi' - lo') + lo'`` (``x``
    unchanged between equal ranges)."""
    if source[0] == target[0] and source[1] == target[1]:
        return x
    scaled = ops.divide(ops.subtract(x, float(source[0])), float(source[1] - source[0]))
    return ops.add(ops.multiply(scaled, float(target[1] - target[0])), float(target[0]))


def _random_grayscale(layer, x, state):
    """RandomGrayscale: ``where(s, gray(x), x)`` for the images ``s`` the call turned gray."""
    return ops.where(layer.transformation.reshape(-1, 1, 1, 1), _gray(x), x)


def _random_color_degeneration(layer, x, state):
    """RandomColorDegeneration: ``clip(x + f·(gray(x) - x))`` with the drawn ``f``."""
    factor = np.asarray(layer.transformation["factor"]).reshape(-1, 1, 1, 1)
    z = ops.add(x, ops.multiply(factor, ops.subtract(_gray(x), x)))
    return ops.clip(z, *layer.value_range)


def _correlate_same(x, kernel):
    """``Σ_ab K[a, b]·x_padded[:, i + a, j + b]`` on each channel, zeros around the image
    (``tf.nn.depthwise_conv2d(..., padding="SAME")`` with odd sides), one term per tap."""
    rows, cols = kernel.shape
    p, q = (rows - 1) // 2, (cols - 1) // 2
    height, width = x.shape[1], x.shape[2]
    padded = _pad_axis(_pad_axis(x, 1, p, rows - 1 - p), 2, q, cols - 1 - q)
    z = None
    for a in range(rows):
        for b in range(cols):
            window = ops.getitem(padded, (slice(None), slice(a, a + height),
                                          slice(b, b + width)))
            term = ops.multiply(window, float(kernel[a, b]))
            z = term if z is None else ops.add(z, term)
    return z


#: Keras' RandomSharpness smoothing kernel.
SHARPNESS_KERNEL = np.array([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0


def _random_sharpness(layer, x, state):
    """RandomSharpness: ``clip(x + (1 - 2f)·(S x - x))``, ``S`` the 3×3 smoothing."""
    sharpness = 2.0 * np.asarray(layer.transformation["factor"]).reshape(-1, 1, 1, 1)
    blend = ops.multiply(1.0 - sharpness, ops.subtract(_correlate_same(x, SHARPNESS_KERNEL), x))
    return ops.clip(ops.add(x, blend), *layer.value_range)


def _random_invert(layer, x, state):
    """RandomInvert: ``where(s, hi - x, x)`` for the images ``s`` the call inverted."""
    apply = np.asarray(layer.transformation["apply_inversion"], bool).reshape(-1, 1, 1, 1)
    return ops.where(apply, ops.subtract(float(layer.value_range[1]), x), x)


def _solarization(layer, x, state):
    """Solarization: ``x'`` scaled to [0, 255], ``r = clip(x' + d)``,
    ``where(r < t, r, 255 - r)``, scaled back (``d``, ``t`` the drawn additions and
    thresholds)."""
    additions = np.asarray(layer.transformation["additions"]).reshape(-1, 1, 1, 1)
    thresholds = np.asarray(layer.transformation["thresholds"]).reshape(-1, 1, 1, 1)
    r = ops.clip(ops.add(_value_range(x, layer.value_range, (0, 255)), additions), 0.0, 255.0)
    r = ops.where(ops.less(r, thresholds), r, ops.subtract(255.0, r))
    return _value_range(r, (0, 255), layer.value_range)


def _random_brightness(layer, x, state):
    """RandomBrightness with the drawn shift ``d``: ``clip(x + d)``."""
    shift, _ = state
    return ops.clip(ops.add(x, shift), *layer.value_range)


def _random_contrast(layer, x, state):
    """RandomContrast with the drawn contrast ``c``: ``clip((x - m)·c + m)``."""
    contrast, _ = state
    mean = ops.mean(ops.mean(x, axis=-3, keepdims=True), axis=-2, keepdims=True)
    return ops.clip(ops.add(ops.multiply(ops.subtract(x, mean), contrast), mean),
                    *layer.value_range)


def _random_color_jitter(layer, x, states):
    """RandomColorJitter: its steps' references in turn, each with its drawn state."""
    for step, state in states:
        x = STEP_REFERENCES[type(step).__name__](step, x, state)
    return x


def _auto_contrast(layer, x, state):
    """AutoContrast: on ``x'`` scaled to [0, 255], per image and channel,
    ``s = 255/(M - m)``, ``clip(x'·s + (-m·s), 0, 255)`` (``m``, ``M`` the min and max, which
    the tape differentiates), scaled back (the inputs have no constant channel)."""
    scaled = _value_range(x, layer.value_range, (0, 255))
    low = ops.min(scaled, axis=(1, 2), keepdims=True)
    high = ops.max(scaled, axis=(1, 2), keepdims=True)
    scale = ops.divide(255.0, ops.subtract(high, low))
    z = ops.add(ops.multiply(scaled, scale), ops.multiply(ops.negative(low), scale))
    return _value_range(ops.clip(z, 0.0, 255.0), (0, 255), layer.value_range)


def _random_erasing(layer, x, state):
    """RandomErasing: ``where(e·m, fill, x)`` with the drawn masks and fill."""
    t = layer.transformation
    erased = np.asarray(t["apply_erasing"], bool)[:, None, None, None] & t["batch_masks"]
    return ops.where(erased, np.asarray(t["fill_value"], np.float64), x)


def _gaussian_kernel(kernel_size, sigma):
    """Keras' normalized Gaussian ``outer(g_y, g_x)`` at ``t = i - (k-1)/2``, for the drawn
    ``σ`` (a constant of the reference)."""
    def one_d(size, s):
        t = np.arange(size, dtype=np.float64) - (size - 1) / 2
        g = np.exp(-0.5 * (t / s) ** 2)
        return g / np.sum(g)
    kernel = np.multiply.outer(one_d(kernel_size[1], sigma[1]), one_d(kernel_size[0], sigma[0]))
    return kernel.reshape(kernel_size[0], kernel_size[1])


def _random_gaussian_blur(layer, x, state):
    """RandomGaussianBlur: ``clip(where(b, K ⋆ x, x))``, ``K ⋆ x`` the depthwise
    correlation (zero padding) with the kernel of the drawn ``σ``."""
    t = layer.transformation
    kernel = _gaussian_kernel(layer.kernel_size, np.asarray(t["blur_factor"], np.float64))
    apply = np.asarray(t["should_apply_blur"], bool)[:, None, None, None]
    return ops.clip(ops.where(apply, _correlate_same(x, kernel), x), *layer.value_range)


def _resampled(layer, x, sampling):
    """RandomShear/RandomRotation/RandomTranslation/RandomZoom with the drawn Sampling."""
    return _resample(x, sampling, layer.fill_value)


def _random_perspective(layer, x, state):
    """RandomPerspective: ``where(b, warp(x), x)``, ``warp`` the drawn Sampling (the cache's)."""
    sampling, _ = state
    apply = np.asarray(layer.transformation["apply_perspective"], bool)[:, None, None, None]
    return ops.where(apply, _resample(x, sampling, layer.fill_value), x)


def _mix_up(layer, x, state):
    """MixUp: ``λ·x + (1 - λ)·x[π]`` (a gather by the drawn permutation)."""
    t = layer.transformation
    weight = np.asarray(t["mix_weight"], np.float64).reshape(-1, 1, 1, 1)
    mixed = ops.take(x, np.asarray(t["permutation_order"], np.int64), axis=0)
    return ops.add(ops.multiply(weight, x), ops.multiply(1.0 - weight, mixed))


def _cut_mix(layer, x, state):
    """CutMix: ``where(m, x[π], x)`` with the drawn masks and permutation."""
    t = layer.transformation
    if t is None:
        return x
    mixed = ops.take(x, np.asarray(t["permutation_order"], np.int64), axis=0)
    return ops.where(np.asarray(t["batch_masks"], bool), mixed, x)


def _posterized(layer, x, state):
    """RandomPosterization: ``x'`` scaled to [0, 255], ``tf.cast`` to uint8 (no gradient),
    the bits shifted out and in, scaled back; the tape's cast gives ``δx = 0`` as
    TensorFlow's."""
    shift = np.asarray(layer.transformation["shift_factor"], np.uint8)[:, None, None, None]
    levels = ops.cast(_value_range(x, layer.value_range, (0, 255)), "uint8")
    levels = ops.left_shift(ops.right_shift(levels, shift), shift)
    return _value_range(ops.cast(levels, "float64"), (0, 255), layer.value_range)


def _stopped(layer, x, state):
    """RandomHue/RandomSaturation (through ``HSVToRGB``, which has no gradient in
    TensorFlow): the layer's images for the drawn transformation, a constant behind
    ``stop_gradient`` (``δx = 0``); the forward itself is checked against Keras in the
    layer's tests, here only that no gradient passes."""
    images = layer.transform_images(np.asarray(x), layer.transformation)
    return ops.add(ops.multiply(ops.stop_gradient(x), 0.0), images)


def _equalization(layer, x, state):
    """Equalization: the histogram table lookup at an integer index (no gradient in
    TensorFlow: the layer's values, behind ``stop_gradient``), except in the channels it
    returns unchanged (``state``), which are ``x`` through the two scalings."""
    kept = state
    equalized = ops.add(ops.multiply(ops.stop_gradient(x), 0.0),
                        layer.transform_images(np.asarray(x), None))
    return ops.where(kept, x, equalized)


def _rand_augment(layer, x, states):
    """RandAugment: the picked operations' references in turn, each with its drawn state."""
    for step, state in states:
        x = STEP_REFERENCES[type(step).__name__](step, x, state)
    return x


#: The augmentation references by layer class, taking one ``_augment`` state.
STEP_REFERENCES = {
    "RandomGrayscale": _random_grayscale, "RandomColorDegeneration": _random_color_degeneration,
    "RandomSharpness": _random_sharpness, "RandomInvert": _random_invert,
    "Solarization": _solarization, "RandomBrightness": _random_brightness,
    "RandomContrast": _random_contrast, "RandomColorJitter": _random_color_jitter,
    "AutoContrast": _auto_contrast, "RandomErasing": _random_erasing,
    "RandomGaussianBlur": _random_gaussian_blur, "RandomShear": _resampled,
    "RandomRotation": _resampled, "RandomTranslation": _resampled, "RandomZoom": _resampled,
    "RandomPerspective": _random_perspective, "MixUp": _mix_up, "CutMix": _cut_mix,
    "RandomPosterization": _posterized, "RandomHue": _stopped, "RandomSaturation": _stopped,
    "Equalization": _equalization, "RandAugment": _rand_augment,
}
random_grayscale = _replayed(_random_grayscale)
random_color_degeneration = _replayed(_random_color_degeneration)
random_sharpness = _replayed(_random_sharpness)
random_invert = _replayed(_random_invert)
solarization = _replayed(_solarization)
random_color_jitter = _replayed(_random_color_jitter)
auto_contrast = _replayed(_auto_contrast)
random_erasing = _replayed(_random_erasing)
random_gaussian_blur = _replayed(_random_gaussian_blur)
random_perspective = _replayed(_random_perspective)
mix_up = _replayed(_mix_up)
cut_mix = _replayed(_cut_mix)
random_posterization = _replayed(_posterized)
no_gradient_layer = _replayed(_stopped)
equalization = _replayed(_equalization)
rand_augment = _replayed(_rand_augment)

#: Whole layers (the cache's state) for Pipeline.
LAYER_REFERENCES = {
    "RandomFlip": random_flip, "RandomCrop": random_crop,
    **{name: _replayed(step) for name, step in STEP_REFERENCES.items()},
}


def pipeline(layer, x, weights):
    """Pipeline: its layers' references in turn, each replaying that layer's last call."""
    for inner in layer.layers:
        x = LAYER_REFERENCES[type(inner).__name__](inner, x, [])
    return x


# -- EinsumDense and the adaptive poolings ---------------------------------------------------
def einsum_dense(layer, x, weights):
    """EinsumDense, Keras' call: ``a = f(einsum(equation, x, W) + b)``."""
    z = ops.einsum(layer.equation, x, weights[0])
    if layer.use_bias:
        z = ops.add(z, weights[1])
    return ACTIVATIONS[layer.activation.__name__](z)


def adaptive_average_pooling(layer, x, weights):
    """Keras' call: ``ops.adaptive_average_pool(x, output_size)``."""
    return ops.adaptive_average_pool(x, layer.output_size)


def adaptive_max_pooling(layer, x, weights):
    """Keras' call: ``ops.adaptive_max_pool(x, output_size)`` (inputs are drawn without ties,
    so the rule for ties does not matter here)."""
    return ops.adaptive_max_pool(x, layer.output_size)


# -- audio layers' references ------------------------------------------------------------------

def stft_spectrogram(layer, x, weights):
    """STFTSpectrogram, Keras' call: each channel a signal, framed by strided slices (one per
    tap of the frame, zero-padded with TensorFlow's "same" rule), ``re = X W_re`` and
    ``im = X W_im``, then the mode: the power ``re² + im²`` with ``√max(p, ε)``,
    ``log max(·, ε)``, Keras' psd ``p + pad(p[1:-1])``, ``atan2``, or the parts; arranged as
    Keras' ``_adjust_shapes``."""
    if layer.data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, length = x.shape
    signals = ops.reshape(x, (batch * channels, length))
    size, step = layer.frame_length, layer._frame_step
    if layer.padding == "same":
        signals = _pad_axis(signals, 1, *_same_padding(length, size, step))
    count = (signals.shape[1] - size) // step + 1
    frames = ops.stack([ops.getitem(signals, (slice(None), slice(t, t + step * (count - 1) + 1,
                                                                  step)))
                        for t in range(size)], axis=-1)                   # (B·C, frames, T)
    sides = [side for side in ("real", "imag") if side in layer._sides()]
    parts = {side: ops.matmul(frames, ops.getitem(w, (slice(None), 0)))
             for side, w in zip(sides, weights, strict=True)}
    re, im = parts.get("real"), parts.get("imag")
    if layer.mode == "real":
        out = re
    elif layer.mode == "imag":
        out = im
    elif layer.mode == "angle":
        out = ops.arctan2(im, re)
    elif layer.mode == "stft":
        out = ops.concatenate([re, im], axis=-1)
    else:
        power = ops.add(ops.square(re), ops.square(im))
        if layer.mode == "psd":
            inner = ops.getitem(power, (Ellipsis, slice(1, -1)))
            out = ops.add(power, _pad_axis(inner, 2, 1, 1))
        else:
            out = ops.sqrt(ops.maximum(power, eps()))
            if layer.mode == "log":
                out = ops.log(ops.maximum(out, eps()))
    freq = out.shape[-1]
    out = ops.reshape(out, (batch, channels, count, freq))
    if layer.data_format == "channels_last":
        if layer.expand_dims:
            return ops.transpose(out, (0, 2, 3, 1))
        return ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (batch, count, channels * freq))
    if layer.expand_dims:
        return out
    return ops.reshape(ops.transpose(out, (0, 1, 3, 2)), (batch, channels * freq, count))


def mel_spectrogram(layer, x, weights):
    """MelSpectrogram, Keras' call: ``ops.stft`` (centred, the layer's window), the magnitude
    ``√(re² + im²)`` to the power ``mag_exp``, times the mel filter bank (a float32 constant,
    from ``mel_scale``), then the decibels ``10 log10 max(E, min_power) − 10 log10 max(|ref|,
    min_power)`` floored at ``max − top_db`` (the max over the batch), bands before frames."""
    from minired.layers.preprocessing import mel_scale

    re, im = ops.stft(x, layer.sequence_length, layer.sequence_stride, layer.fft_length,
                      window=layer.window, center=True)
    spec = ops.power(ops.sqrt(ops.add(ops.square(re), ops.square(im))), layer.mag_exp)
    matrix = mel_scale.linear_to_mel_weight_matrix(layer.num_mel_bins, re.shape[-1],
                                                   layer.sampling_rate, layer.min_freq,
                                                   layer.max_freq).astype(config.floatx())
    out = ops.tensordot(spec, matrix, axes=1)
    if layer.power_to_db:
        log10 = ops.divide(ops.log(ops.maximum(out, layer.min_power)), math.log(10.0))
        ref = max(abs(layer.ref_power), layer.min_power)
        db = ops.subtract(ops.multiply(log10, 10.0), 10.0 * math.log(ref) / math.log(10.0))
        out = ops.maximum(db, ops.subtract(ops.max(db), layer.top_db))
    return ops.swapaxes(out, -1, -2)



# -- image layers' references ------------------------------------------------------------------
# RandomElasticTransform and AugMix replay the draws of the hand-written call (the state in
# ``layer.cache``); MaxNumBoundingBoxes is the identity on images.


def _random_elastic_transform(layer, x, state):
    """RandomElasticTransform: ``clip(where(b, warp(x), x))``, ``warp`` the drawn read plan
    (a constant of the reference, like the noise it comes from)."""
    if state is None:                                     # nothing drawn: the images
        return x
    sampling, apply, _ = state
    return ops.clip(ops.where(apply, _resample(x, sampling, layer.fill_value), x),
                    *layer.value_range)


def _aug_mix(layer, x, state):
    """AugMix: ``clip(m·x + (1 - m)·Σ_i w_i·c_i(x))``, each chain ``c_i`` its operations'
    references in turn (each with the parameters that step drew: the chain's record)."""
    weights, m, chain_states, _ = state
    mixed = ops.multiply(x, 0.0)
    for i, (states, steps) in enumerate(zip(chain_states,
                                            layer.transformation["chain_transforms"],
                                            strict=True)):
        chain = x
        for (step, step_state), record in zip(states, steps, strict=True):
            if record["transformation"] is not None:       # an operation used twice
                step.transformation = record["transformation"]
            chain = STEP_REFERENCES[type(step).__name__](step, chain, step_state)
        mixed = ops.add(mixed, ops.multiply(chain, float(weights[i])))
    z = ops.add(ops.multiply(x, float(m)), ops.multiply(mixed, 1.0 - float(m)))
    return ops.clip(z, *layer.value_range)


random_elastic_transform = _replayed(_random_elastic_transform)
aug_mix = _replayed(_aug_mix)


def max_num_bounding_boxes(layer, x, weights):
    """MaxNumBoundingBoxes on images alone: the identity."""
    return x



# -- structured data layers' references --------------------------------------------------------


# -- masked ConvLSTM references ----------------------------------------------------------------


def masked_conv_lstm(layer, x, weights):
    """ConvLSTM1D/2D/3D with a mask, as Keras' ``backend.rnn`` runs its cell: the mask
    (``layer.cache.keep``, replayed from the hand-written call, in processing order;
    ``(N, T)`` or ``(N, T, *out)``) keeps, where ``m_t`` is False, the states and the
    output of step t-1 (``output_0 = 0``; 0 with ``zero_output_for_mask``)::

        z = (x_t ∗ W + b) + h ∗ U     i, f, o = σ(z_i, z_f, z_o)   c' = f c + i act(z_c)
        h' = o act(c')     c = where(m_t, c', c)   h = where(m_t, h', h)
        output_t = where(m_t, h', output_{t-1})

    (all four gates in one convolution; no dropout)."""
    from types import SimpleNamespace

    assert layer.cache.input_masks is None and layer.cache.recurrent_masks is None
    keep, filters, rank = layer.cache.keep, layer.filters, layer.rank
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if layer.use_bias else None
    act = ACTIVATIONS[layer.activation.__name__]
    sigma = ACTIVATIONS[layer.recurrent_activation.__name__]
    linear = SimpleNamespace(__name__="linear")
    input_conv = SimpleNamespace(kernel_size=layer.kernel_size, strides=layer.strides,
                                 dilation_rate=layer.dilation_rate, padding=layer.padding,
                                 use_bias=False, activation=linear)
    recurrent_conv = SimpleNamespace(kernel_size=layer.kernel_size, strides=(1,) * rank,
                                     dilation_rate=(1,) * rank, padding="same",
                                     use_bias=False, activation=linear)
    if layer.go_backwards:
        x = ops.flip(x, axis=1)
    h = c = output = zeros = None
    outputs = []
    for t in range(x.shape[1]):
        z = conv(input_conv, ops.getitem(x, (slice(None), t)), [kernel])
        z = z if bias is None else ops.add(z, bias)
        if h is None:                                       # h_0 = c_0 = output_0 = 0
            h = c = output = zeros = np.zeros((*z.shape[:-1], filters))
        z = ops.add(z, conv(recurrent_conv, h, [recurrent_kernel]))

        def gate(g, z=z):
            return ops.getitem(z, (slice(None),) * (z.ndim - 1)
                               + (slice(g * filters, (g + 1) * filters),))

        c_new = ops.add(ops.multiply(sigma(gate(1)), c), ops.multiply(sigma(gate(0)),
                                                                      act(gate(2))))
        h_new = ops.multiply(sigma(gate(3)), act(c_new))
        m = keep[:, t]
        m = m.reshape(m.shape + (1,) * (h_new.ndim - m.ndim))
        c, h = ops.where(m, c_new, c), ops.where(m, h_new, h)
        output = ops.where(m, h_new, zeros if layer.zero_output_for_mask else output)
        outputs.append(output)
    return ops.stack(outputs, axis=1) if layer.return_sequences else output


def masked_bidirectional_conv_lstm(layer, x, weights):
    """Keras' Bidirectional over masked ConvLSTMs (:func:`masked_conv_lstm` each, their
    ``zero_output_for_mask`` set to ``return_sequences``): the backward layer's sequence
    flipped back, then merged."""
    half = len(weights) // 2
    y = masked_conv_lstm(layer.forward_layer, x, weights[:half])
    y_rev = masked_conv_lstm(layer.backward_layer, x, weights[half:])
    if layer.return_sequences:
        y_rev = ops.flip(y_rev, axis=1)
    merge = {"concat": lambda: ops.concatenate([y, y_rev], axis=-1),
             "sum": lambda: ops.add(y, y_rev), "mul": lambda: ops.multiply(y, y_rev),
             "ave": lambda: ops.divide(ops.add(y, y_rev), 2.0)}
    return merge[layer.merge_mode]()


# -- GroupedQueryAttention and ReversibleEmbedding references -----------------------------------
def grouped_query_attention(layer, inputs, weights):
    """Keras' GroupedQueryAttention on ``[x_q, x_v]`` or ``[x_q, x_v, x_k]``: the projections
    as einsums, the key and value heads repeated ``num_query_heads / num_key_value_heads``
    times (``ops.repeat`` on the heads' axis), then Keras' two paths as in
    :func:`multi_head_attention` (the path, mask and dropout mask replayed from the cache)."""
    x_q, x_v = inputs[0], inputs[1]
    x_k = inputs[2] if len(inputs) > 2 else x_v
    it = iter(weights)

    def project(x, equation):
        z = ops.einsum(equation, x, next(it))
        return ops.add(z, next(it)) if layer.use_bias else z

    q = project(x_q, "bqm,muh->bquh")
    k = ops.repeat(project(x_k, "bkm,mvh->bkvh"), layer.num_repeats, axis=2)
    v = ops.repeat(project(x_v, "bkm,mvh->bkvh"), layer.num_repeats, axis=2)
    cache, scale = layer.cache, f32(1.0 / math.sqrt(layer.head_dim))
    if cache.explicit:
        scores = ops.einsum("bquh,bkuh->buqk", ops.multiply(q, scale), k)
        if cache.mask is not None:
            scores = ops.where(cache.mask, scores, -1e9)
        probs = softmax(scores, axis=-1)
        if cache.mask is not None:
            probs = ops.where(cache.mask, probs, 0.0)
    else:
        scores = ops.multiply(ops.einsum("bquh,bkuh->buqk", q, k), scale)
        if cache.mask is not None:
            scores = ops.where(cache.mask, scores, 3.38953e38 * -0.7)
        probs = softmax(scores, axis=-1)
    if cache.dropout_mask is not None:
        probs = ops.multiply(ops.multiply(probs, cache.dropout_scale), cache.dropout_mask)
    return project(ops.einsum("buqk,bkuh->bquh", probs, v), "bquh,uhm->bqm")


def reversible_embedding(layer, x, weights):
    """Keras' ReversibleEmbedding with ``reverse=True``: ``z = x Wᵀ`` (tied) or ``x R``,
    then ``c·tanh(z/c)`` with ``logit_soft_cap`` c."""
    kernel = ops.transpose(weights[0]) if layer.tie_weights else weights[1]
    logits = ops.matmul(x, kernel)
    if layer.logit_soft_cap is not None:
        cap = layer.logit_soft_cap
        logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
    return logits
