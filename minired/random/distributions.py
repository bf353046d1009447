"""More of Keras' ``keras.random``: ``gamma``, ``beta``, ``binomial`` and ``categorical``.

Same seeds as :mod:`minired.random.random`: an int (the same numbers at every call), a
:class:`~minired.random.seed_generator.SeedGenerator` (new numbers at every call) or None (a
seed drawn from minired's random streams). NumPy's generators draw the numbers, so they
differ from TensorFlow's; the distributions are the same.
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.random.seed_generator import make_generator


def _float_dtype(dtype, function: str) -> np.dtype:
    dtype = np.dtype(dtype or config.floatx())
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"{function}: `dtype` must be a float dtype, got {dtype}.")
    return dtype


def _positive(value, argument: str, function: str) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    if not np.all(value > 0):
        raise ValueError(f"{function}: `{argument}` must be > 0, got {value.tolist()}.")
    return value


def gamma(shape, alpha, dtype=None, seed=None) -> np.ndarray:
    """Samples of the Gamma distribution with shape ``α = alpha`` and scale 1: mean ``α``,
    variance ``α`` (the density is ``x^{α-1} e^{-x} / Γ(α)`` for ``x > 0``).

    Args:
        shape: the shape of the samples.
        alpha: ``α > 0``, a float or an array broadcastable to ``shape``.
        dtype: a float dtype (``floatx`` by default).
        seed: an int, a SeedGenerator or None.

    Example:
        >>> gamma((2, 3), alpha=2.0, seed=1).shape
        (2, 3)
    """
    dtype = _float_dtype(dtype, "gamma")
    alpha = _positive(alpha, "alpha", "gamma")
    return make_generator(seed).gamma(alpha, scale=1.0, size=shape).astype(dtype)


def beta(shape, alpha, beta, dtype=None, seed=None) -> np.ndarray:
    """Samples of the Beta distribution on ``(0, 1)``, mean ``α / (α + β)``: the fraction
    ``X / (X + Y)`` of two Gamma samples ``X ~ Γ(α)``, ``Y ~ Γ(β)``.

    Args:
        shape: the shape of the samples.
        alpha: ``α > 0``, a float or an array broadcastable to ``shape``.
        beta: ``β > 0``, a float or an array broadcastable to ``shape``.
        dtype: a float dtype (``floatx`` by default).
        seed: an int, a SeedGenerator or None.

    Example:
        >>> x = beta((1000,), alpha=2.0, beta=2.0, seed=1)
        >>> bool(np.all((0 < x) & (x < 1)))
        True
    """
    dtype = _float_dtype(dtype, "beta")
    a, b = _positive(alpha, "alpha", "beta"), _positive(beta, "beta", "beta")
    return make_generator(seed).beta(a, b, size=shape).astype(dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> np.ndarray:
    """Samples of the Binomial distribution: the number of successes in ``counts`` trials,
    each a success with probability ``p = probabilities`` (mean ``n p``, variance
    ``n p (1 - p)``). As in Keras the counts come back as floats (``floatx`` by default).

    Args:
        shape: the shape of the samples.
        counts: the number of trials ``n >= 0``, broadcastable with ``probabilities``.
        probabilities: ``p`` in ``[0, 1]``, broadcastable with ``counts``.
        dtype: a float dtype (``floatx`` by default).
        seed: an int, a SeedGenerator or None.

    Example:
        >>> binomial((4,), counts=10, probabilities=0.0, seed=1)
        array([0., 0., 0., 0.], dtype=float32)
    """
    dtype = _float_dtype(dtype, "binomial")
    counts = np.asarray(counts)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if not np.all(counts >= 0):
        raise ValueError(f"binomial: `counts` must be >= 0, got {counts.tolist()}.")
    if not np.all((probabilities >= 0) & (probabilities <= 1)):
        raise ValueError("binomial: `probabilities` must be in [0, 1], got "
                         f"{probabilities.tolist()}.")
    n = np.asarray(counts).astype(np.int64)
    return make_generator(seed).binomial(n, probabilities, size=shape).astype(dtype)


def categorical(logits, num_samples, dtype="int32", seed=None) -> np.ndarray:
    """Class indices drawn from each row of ``logits`` (unnormalized log-probabilities):
    ``P(class j) = softmax(logits)_j``.

    Drawn by the inverse of the cumulative distribution: with ``u`` uniform in ``[0, 1)``,
    the sample is the number of classes whose cumulative probability ``Σ_{i<=j} p_i`` is
    ``<= u``.

    Args:
        logits: a 2-D array ``(batch_size, num_classes)``.
        num_samples: the samples per row.
        dtype: an integer dtype (Keras' default ``"int32"``).
        seed: an int, a SeedGenerator or None.

    Returns:
        An array ``(batch_size, num_samples)`` of class indices.

    Example:
        >>> categorical(np.array([[0.0, -np.inf], [-np.inf, 0.0]]), 3, seed=1)
        array([[0, 0, 0],
               [1, 1, 1]], dtype=int32)
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, "
                         f"num_classes]. Received: logits of shape {logits.shape}")
    if not np.issubdtype(np.dtype(dtype), np.integer):
        raise ValueError(f"categorical: `dtype` must be an integer dtype, got {dtype}.")
    shifted = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    cumulative = np.cumsum(shifted / np.sum(shifted, axis=1, keepdims=True), axis=1)
    u = make_generator(seed).uniform(size=(logits.shape[0], num_samples))
    below = cumulative[:, None, :] <= u[:, :, None]         # (batch, samples, classes)
    index = np.minimum(np.sum(below, axis=2), logits.shape[1] - 1)   # rounding: cdf[-1] < 1
    return index.astype(dtype)
