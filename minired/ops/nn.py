"""Neural-network ops (Keras' ``keras.ops.nn``): activations, softmax, one-hot, cross-entropies.

Each activation ``a = f(x)`` is element-wise, so its VJP is ``δx = δa ⊙ f'(x)``, written
next to it. The formulas are TensorFlow's (the backend the tests compare with), including
its choice of slope at a kink: ``relu'(0) = 0``, ``leaky_relu'(0) = negative_slope``,
``relu6'(6) = 0``, ``hard_sigmoid'(±3) = 0``.

The softmax is not element-wise: its Jacobian is ``diag(a) − a aᵀ``, and the VJP is
``δx = a ⊙ (δa − Σ δa ⊙ a)`` (never the element-wise ``a (1 − a)``).

The cross-entropies are written with the other ops, so the tape differentiates them; they
clip probabilities to ``[ε, 1 − ε]`` (``ε = mr.config.epsilon()``) exactly as Keras does.
"""

from __future__ import annotations

import math

import numpy as np

from minired import config
from minired.autodiff.tape import record
from minired.keras_numerics import as_keras_constant
from minired.ops import elementwise as ew
from minired.ops import reductions
from minired.ops.elementwise import _erfc, _float, _value
from minired.ops.shapes import expand_dims, reshape, split, squeeze, take_along_axis

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(v):
    """``1 / (1 + e^(−x))`` without overflow: ``eˣ / (1 + eˣ)`` for negative ``x``."""
    e = np.exp(-np.abs(v))
    return np.where(v >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid(x):
    """``a = σ(x) = 1 / (1 + e^(−x))``. VJP: ``δx = δa ⊙ a (1 − a)``."""
    a = _sigmoid(_float(x))
    return record(a, (x,), lambda g: (g * a * (1 - a),))


def relu(x):
    """``a = max(x, 0)``. VJP: ``δx = δa ⊙ [x > 0]`` (0 at ``x = 0``, as TensorFlow)."""
    v = _value(x)
    return record(np.maximum(v, 0).astype(np.result_type(v)), (x,), lambda g: (g * (v > 0),))


def relu6(x):
    """``a = min(max(x, 0), 6)``. VJP: ``δx = δa ⊙ [0 < x < 6]`` (0 at both kinks)."""
    v = _value(x)
    a = np.clip(v, 0, 6).astype(np.result_type(v))
    return record(a, (x,), lambda g: (g * ((v > 0) & (v < 6)),))


def leaky_relu(x, negative_slope=0.2):
    """``a = x`` for ``x > 0``, else ``s · x`` with ``s = negative_slope``.

    VJP: ``δx = δa`` for ``x > 0``, else ``s · δa`` (also at 0, as TensorFlow). As
    TensorFlow (an op attribute), ``s`` is a float32 number, also in float64.
    """
    v = _float(x)
    negative_slope = v.dtype.type(np.float32(negative_slope))
    positive = v > 0
    a = np.where(positive, v, negative_slope * v)
    return record(a, (x,), lambda g: (np.where(positive, g, negative_slope * g),))


def elu(x, alpha=1.0):
    """``a = x`` for ``x > 0``, else ``α (eˣ − 1)``. VJP: ``δx = δa`` for ``x > 0``, else
    ``δa ⊙ α eˣ``."""
    v = _float(x)
    positive = v > 0
    a = np.where(positive, v, alpha * np.expm1(np.minimum(v, 0)))
    return record(a, (x,), lambda g: (np.where(positive, g, g * alpha * np.exp(np.minimum(v, 0))),))


def selu(x):
    """``a = λ elu(x, α)`` with Klambauer et al.'s ``λ ≈ 1.0507``, ``α ≈ 1.6733``.

    VJP: ``δx = λ δa`` for ``x ≥ 0`` (TensorFlow's side at 0), else ``δa ⊙ λ α eˣ``."""
    v = _float(x)
    positive = v > 0
    negative = SELU_ALPHA * np.expm1(np.minimum(v, 0))
    a = SELU_SCALE * np.where(positive, v, negative)
    slope = SELU_SCALE * np.where(v >= 0, 1, SELU_ALPHA * np.exp(np.minimum(v, 0)))
    return record(a, (x,), lambda g: (g * slope,))


def gelu(x, approximate=True):
    """The Gaussian error linear unit, ``a = x Φ(x)`` (Keras' default is the tanh form).

    - ``approximate=True``: ``a = ½ x (1 + tanh u)``, ``u = √(2/π) (x + 0.044715 x³)``;
      VJP ``δx = δa ⊙ (½ (1 + tanh u) + ½ x (1 − tanh² u) √(2/π) (1 + 3 · 0.044715 x²))``.
    - ``approximate=False``: ``a = ½ x erfc(−x/√2)`` (TensorFlow's form of ``x Φ(x)``);
      VJP ``δx = δa ⊙ (Φ(x) + x φ(x))`` with ``φ(x) = e^(−x²/2) / √(2π)``.

    As TensorFlow, the constants ``0.044715`` and ``1/√2`` keep float32 precision in
    float64 (``tf.cast`` of a Python float; see ``minired.keras_numerics``).
    """
    v = _float(x)
    if approximate:
        c, k = math.sqrt(2 / math.pi), as_keras_constant(0.044715, v.dtype)
        t = np.tanh(c * (v + k * v**3))
        a = 0.5 * v * (1 + t)
        slope = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * k * v * v)
    else:
        k = as_keras_constant(0.7071067811865476, v.dtype)     # 1/√2
        u = -v * k
        cdf = 0.5 * _erfc(u).astype(v.dtype, copy=False)        # Φ(x) = ½ erfc(−x/√2)
        a = v * cdf
        slope = cdf + v * k / math.sqrt(math.pi) * np.exp(-u * u)
    return record(a.astype(v.dtype, copy=False), (x,), lambda g: (g * slope,))


def silu(x):
    """``a = x σ(x)`` (also called swish). VJP: ``δx = δa ⊙ (σ + x σ (1 − σ))``."""
    v = _float(x)
    s = _sigmoid(v)
    return record(v * s, (x,), lambda g: (g * (s + v * s * (1 - s)),))


swish = silu


def softplus(x):
    """``a = ln(1 + eˣ)``, computed as ``max(x, 0) + ln(1 + e^(−|x|))``. VJP: ``δx = δa ⊙ σ(x)``."""
    v = _float(x)
    a = np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))
    return record(a, (x,), lambda g: (g * _sigmoid(v),))


def softsign(x):
    """``a = x / (1 + |x|)``. VJP: ``δx = δa / (1 + |x|)²``."""
    v = _float(x)
    return record(v / (1 + np.abs(v)), (x,), lambda g: (g / np.square(1 + np.abs(v)),))


def hard_sigmoid(x):
    """``a = relu6(x + 3) / 6``: 0 below −3, 1 above 3, linear between.

    VJP: ``δx = δa / 6`` for ``−3 < x < 3``, else 0 (0 at ±3, as TensorFlow)."""
    v = _float(x)
    a = np.clip(v + 3, 0, 6) / 6
    return record(a, (x,), lambda g: (g * ((v > -3) & (v < 3)) / 6,))


def softmax(x, axis=-1):
    """``aᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)`` along ``axis`` (every axis when None), computed with
    ``x − max x`` (no overflow).

    VJP: ``δx = a ⊙ (δa − Σ δa ⊙ a)``, the Jacobian ``diag(a) − a aᵀ`` applied to ``δa``.
    """
    v = _float(x)
    e = np.exp(v - np.max(v, axis=axis, keepdims=True))
    a = e / np.sum(e, axis=axis, keepdims=True)
    return record(a, (x,), lambda g: (a * (g - np.sum(g * a, axis=axis, keepdims=True)),))


def log_softmax(x, axis=-1):
    """``a = x − logsumexp(x)`` along ``axis`` (every axis when None).

    VJP: ``δx = δa − softmax(x) Σ δa``.
    """
    v = _float(x)
    shifted = v - np.max(v, axis=axis, keepdims=True)
    a = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return record(a, (x,), lambda g: (g - np.exp(a) * np.sum(g, axis=axis, keepdims=True),))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels as one-hot vectors of length ``num_classes`` on a new ``axis``
    (``floatx`` by default). A label outside ``[0, num_classes)`` gives a row of zeros, as in
    TensorFlow."""
    if sparse:
        raise ValueError("minired has no sparse tensors: sparse must be False.")
    labels = np.asarray(_value(x))
    hot = labels[..., None] == np.arange(num_classes)
    return np.moveaxis(hot, -1, axis).astype(dtype or config.floatx())


def moments(x, axes, keepdims=False, synchronized=False):
    """The mean and the (biased) variance of ``x`` over ``axes``, as ``tf.nn.moments``:
    ``μ = mean(x)``, ``σ² = mean((x − μ)²)`` with ``μ`` held constant in the second (the
    gradient through it is 0 anyway, since ``Σ (x − μ) = 0``). Written with the other ops.

    ``synchronized`` (across devices) changes nothing on one device.
    """
    from minired.ops.core import stop_gradient

    mean = reductions.mean(x, axis=axes, keepdims=True)
    variance = reductions.mean(ew.square(ew.subtract(x, stop_gradient(mean))), axis=axes,
                               keepdims=True)
    if not keepdims:
        mean, variance = squeeze(mean, axis=axes), squeeze(variance, axis=axes)
    return mean, variance


# -- cross-entropies: written with the ops above, so the tape differentiates them --------------
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise ``−(t ln p + (1 − t) ln(1 − p))``, no reduction.

    - probabilities: ``p`` clipped to ``[ε, 1 − ε]`` first (Keras' clip; the gradient is 0
      where it clips);
    - logits ``z``: ``max(z, 0) − z t + ln(1 + e^(−|z|))`` (TensorFlow's
      ``sigmoid_cross_entropy_with_logits``, exact for large ``|z|``).
    """
    _same_shape("binary_crossentropy", target, output)
    if from_logits:
        z = output
        positive = ew.greater_equal(z, 0)       # TensorFlow's `where`s: exact gradient at 0
        relu_z = ew.where(positive, z, 0.0)
        minus_abs_z = ew.where(positive, ew.negative(z), z)
        return ew.add(ew.subtract(relu_z, ew.multiply(z, target)),
                      ew.log1p(ew.exp(minus_abs_z)))
    eps = config.epsilon()
    p = ew.clip(output, eps, 1.0 - eps)
    bce = ew.add(ew.multiply(target, ew.log(p)),
                 ew.multiply(ew.subtract(1, target), ew.log(ew.subtract(1, p))))
    return ew.negative(bce)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``−Σ t ln p`` along ``axis``.

    - probabilities: ``p`` rescaled to sum to 1 along ``axis``, then clipped to
      ``[ε, 1 − ε]``, as Keras;
    - logits: ``p = softmax(output)``, i.e. ``−Σ t log_softmax(output)``.
    """
    _same_shape("categorical_crossentropy", target, output)
    if from_logits:
        log_p = log_softmax(output, axis=axis)
    else:
        eps = config.epsilon()
        p = ew.divide(output, reductions.sum(output, axis=axis, keepdims=True))
        log_p = ew.log(ew.clip(p, eps, 1.0 - eps))
    return ew.negative(reductions.sum(ew.multiply(target, log_p), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``−ln p[t]`` for integer labels ``t`` (a trailing axis of size 1 is dropped).

    As Keras: probabilities are clipped to ``[ε, 1 − ε]`` and their log treated as logits,
    so the result is ``−log_softmax(ln p)[t]`` (equal to ``−ln p[t]`` when ``p`` sums to 1).
    Only ``axis=-1`` is supported, as in Keras.
    """
    out_ndim = np.asarray(output).ndim
    if axis not in (-1, out_ndim - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    labels = np.asarray(_value(target)).astype("int64")
    if labels.ndim == out_ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != np.asarray(output).shape[:-1]:
        raise ValueError("Arguments `target` and `output` must have the same shape up until "
                         f"the last dimension: target.shape={labels.shape}, "
                         f"output.shape={np.asarray(output).shape}")
    logits = output
    if not from_logits:
        eps = config.epsilon()
        logits = ew.log(ew.clip(output, eps, 1 - eps))
    log_p = take_along_axis(log_softmax(logits, axis=-1), labels[..., None], axis=-1)
    return ew.negative(squeeze(log_p, axis=-1))


def _same_shape(name, target, output):
    target_shape, output_shape = np.asarray(target).shape, np.asarray(output).shape
    if target_shape != output_shape:
        raise ValueError(f"{name}: `target` and `output` must have the same shape, got "
                         f"{target_shape} and {output_shape}.")



# -- more activations -------------------------------------------------------------------------
def log_sigmoid(x):
    """``a = ln σ(x) = −softplus(−x)``, computed as ``min(x, 0) − ln(1 + e^(−|x|))``.
    VJP: ``δx = δa ⊙ σ(−x)``."""
    v = _float(x)
    a = np.minimum(v, 0) - np.log1p(np.exp(-np.abs(v)))
    return record(a, (x,), lambda g: (g * _sigmoid(-v),))


# The piecewise activations below are written with the ops, exactly as Keras' TensorFlow
# backend writes them, so that the tape's slope at each kink is TensorFlow's.
def hard_tanh(x):
    """``a = clip(x, −1, 1)``. VJP: ``δx = δa ⊙ [−1 ≤ x ≤ 1]`` (passes at ±1, as
    ``tf.clip_by_value``)."""
    return ew.clip(x, -1.0, 1.0)


def celu(x, alpha=1.0):
    """``a = max(x, 0) + α (e^(min(x, 0)/α) − 1)``. VJP: ``δx = δa`` for ``x > 0``,
    ``δa e^(x/α)`` for ``x < 0``, and ``2 δa`` at 0 (TensorFlow's: both ``max`` and ``min``
    give the tie to ``x``)."""
    return ew.add(ew.maximum(x, 0.0),
                  ew.multiply(alpha, ew.expm1(ew.divide(ew.minimum(x, 0.0), alpha))))


def glu(x, axis=-1):
    """The gated linear unit: ``x`` cut in halves ``x₁, x₂`` along ``axis``,
    ``a = x₁ ⊙ σ(x₂)``."""
    size = np.shape(_value(x))[axis]
    if size % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape="
                         f"{np.shape(_value(x))} with axis={axis}")
    first, second = split(x, 2, axis=axis)
    return ew.multiply(first, sigmoid(second))


def sparse_plus(x):
    """``a = 0`` for ``x ≤ −1``, ``¼ (x + 1)²`` for ``−1 < x < 1``, ``x`` for ``x ≥ 1``.
    VJP: ``δx = δa ⊙ {0, ½ (x + 1), 1}`` on those pieces."""
    quadratic = ew.multiply(0.25, ew.square(ew.add(x, 1.0)))
    return ew.where(ew.less_equal(x, -1.0), 0.0, ew.where(ew.less(x, 1.0), quadratic, x))


def soft_shrink(x, threshold=0.5):
    """``a = x − t`` for ``x > t``, ``x + t`` for ``x < −t``, else 0 (``t = threshold``).
    VJP: ``δx = δa ⊙ [|x| > t]``."""
    inner = ew.where(ew.less(x, -threshold), ew.add(x, threshold), 0.0)
    return ew.where(ew.greater(x, threshold), ew.subtract(x, threshold), inner)


def hard_shrink(x, threshold=0.5):
    """``a = x`` where ``|x| > threshold``, else 0. VJP: ``δx = δa ⊙ [|x| > threshold]``."""
    return ew.where(ew.greater(ew.abs(x), threshold), x, 0.0)


def tanh_shrink(x):
    """``a = x − tanh x``. VJP: ``δx = δa ⊙ tanh² x``."""
    return ew.subtract(x, ew.tanh(x))


def squareplus(x, b=4):
    """``a = (x + √(x² + b)) / 2``. VJP: ``δx = δa ⊙ (1 + x/√(x² + b)) / 2``."""
    v = _float(x)
    b = np.asarray(b, dtype=v.dtype)
    return ew.divide(ew.add(x, ew.sqrt(ew.add(ew.square(x), b))), 2.0)


def threshold(x, threshold, default_value):
    """``a = x`` where ``x > threshold``, else ``default_value``.
    VJP: ``δx = δa ⊙ [x > threshold]``."""
    return ew.where(ew.greater(x, threshold), x, default_value)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Integer labels, one row of labels per sample, as one vector of length ``num_classes``
    with a 1 at each label (``floatx`` by default): the largest of their one-hot vectors."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise ValueError(f"multi_hot: unknown arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("multi_hot: give `num_classes`.")
    hot = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return np.max(hot, axis=1 if np.ndim(_value(inputs)) > 1 else 0)


# -- normalizations: written with the ops ------------------------------------------------------
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``a = (x − μ) γ / √(σ² + ε) + β`` with the given ``mean`` μ, ``variance`` σ², ``scale``
    γ and ``offset`` β (vectors along ``axis``), computed as ``tf.nn.batch_normalization``:
    ``inv = γ / √(σ² + ε)``, ``a = x inv + (β − μ inv)``."""
    ndim = np.ndim(_value(x))
    if axis not in (-1, ndim - 1):
        shape = [1] * ndim
        shape[axis] = np.shape(_value(mean))[0]
        mean, variance, offset, scale = (None if t is None else reshape(t, shape)
                                         for t in (mean, variance, offset, scale))
    return _normalize(x, mean, variance, epsilon, scale, offset)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``a = (x − μ) γ / √(σ² + ε) + β`` with ``μ``, ``σ²`` the :func:`moments` of ``x`` over
    ``axis`` (an int or a list), as Keras: ``inv = γ / √(σ² + ε)``, ``a = x inv − μ inv + β``.
    ``rms_scaling=True`` (a keyword) uses ``x / √(σ² + ε) γ`` instead."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise ValueError(f"layer_normalization: unknown arguments {sorted(kwargs)}.")
    epsilon = config.epsilon() if epsilon is None else epsilon
    axes, gamma, beta = _normalized_axes(x, axis, gamma, beta)
    if rms_scaling:
        inv = ew.rsqrt(ew.add(reductions.var(x, axis=axes, keepdims=True), epsilon))
        out = ew.multiply(x, inv)
        return out if gamma is None else ew.multiply(out, gamma)
    mean, variance = moments(x, axes, keepdims=True)
    return _normalize(x, mean, variance, epsilon, gamma, beta)


def _normalize(x, mean, variance, epsilon, scale, offset):
    """``a = x inv + (β − μ inv)`` with ``inv = γ / √(σ² + ε)`` (``γ``, ``β`` skipped when
    None): the formula :func:`batch_normalization` and :func:`layer_normalization` share,
    written with the ops (so it is differentiable)."""
    inv = ew.rsqrt(ew.add(variance, epsilon))
    if scale is not None:
        inv = ew.multiply(inv, scale)
    shift = ew.negative(ew.multiply(mean, inv))
    if offset is not None:
        shift = ew.add(offset, shift)
    return ew.add(ew.multiply(x, inv), shift)


def _normalized_axes(x, axis, *weights):
    """``axis`` as a sorted list, and the weights reshaped to broadcast along it (Keras'
    ``_broadcast``)."""
    ndim = np.ndim(_value(x))
    axes = sorted(int(a) % ndim for a in np.atleast_1d(axis))
    shape = [1] * ndim
    for a in axes:
        shape[a] = np.shape(_value(x))[a]
    return axes, *(w if w is None or np.ndim(_value(w)) == ndim or axes == [ndim - 1]
                   else reshape(w, shape) for w in weights)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``a = x / √(mean(x²) + ε) ⊙ scale`` over ``axis`` (Zhang & Sennrich's RMSNorm)."""
    epsilon = config.epsilon() if epsilon is None else epsilon
    axes = sorted(int(a) % max(np.ndim(_value(x)), 1) for a in np.atleast_1d(axis))
    rrms = ew.rsqrt(ew.add(reductions.mean(ew.square(x), axis=axes, keepdims=True), epsilon))
    out = ew.multiply(x, rrms)
    return out if scale is None else ew.multiply(out, scale)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``a = x / ‖x‖`` along ``axis``: for ``order=2`` as ``x · min(1/√Σx², 1/ε)``, for other
    orders ``x / max(‖x‖_order, ε)`` (Keras' formulas)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    epsilon = config.epsilon() if epsilon is None else epsilon
    if np.ndim(_value(x)) == 0:
        x = expand_dims(x, 0)
    if order == 2:
        inv_norm = ew.rsqrt(reductions.sum(ew.square(x), axis=axis, keepdims=True))
        return ew.multiply(x, ew.minimum(inv_norm, 1.0 / epsilon))
    norm = reductions.sum(ew.power(ew.abs(x), order), axis=axis, keepdims=True)
    norm = ew.power(norm, 1.0 / order)
    return ew.divide(x, ew.maximum(norm, epsilon))


# Keras' ``keras.ops.nn`` also holds ops written in other files (conv, pools, CTC, attention):
# ``mr.ops.nn.<name>`` answers for them with ``mr.ops.<name>`` (see keras_namespaces.py).
from minired.ops.keras_namespaces import NN, namespace_hooks  # noqa: E402

__all__ = list(NN)
__getattr__, __dir__ = namespace_hooks(__name__, NN, globals())
