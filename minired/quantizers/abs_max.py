"""Absolute-max quantization: floats to small integers with one scale per row or group.

Symmetric (:func:`abs_max_quantize`): the largest magnitude along ``axis`` is mapped to the
top of the integer range, ``s = 127 / (max|x| + ε)``, and ``q = clip(round(x · s), -127,
127)``; ``x ≈ q / s``. Asymmetric, by groups (:func:`abs_max_quantize_grouped_with_zero_point`):
each group of rows gets a scale and a *zero point* ``z``, so that ``[min, max]`` (not
``[-max|x|, max|x|]``) fills the range: ``q = clip(round(x / s) + z, qmin, qmax)``,
``x ≈ (q - z) · s``.

``round`` is round-half-to-even (``np.round``, TensorFlow's ``tf.round``): 2.5 → 2, 3.5 → 4.
The result is cast to the integer dtype after clipping, so it always fits.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from minired import config

#: Keras' default epsilon, read once when Keras is imported (``backend.epsilon()``).
EPSILON = 1e-7


def _float_dtype(x: np.ndarray) -> np.dtype:
    """The dtype Keras computes a scale in: the input's if it is a float, else floatx."""
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(config.floatx())


def abs_max_quantize(inputs: ArrayLike, axis: int | tuple[int, ...] | None,
                     value_range: tuple = (-127, 127), dtype: str = "int8",
                     epsilon: float = EPSILON, to_numpy: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Quantize ``inputs`` symmetrically with one scale per slice along ``axis``.

    Forward, with ``(qmin, qmax) = value_range`` and the max over ``axis`` (kept as size-1
    axes so ``s`` broadcasts)::

        s = qmax / (max|x| + ε)                  (computed in x's dtype)
        q = clip(round_half_even(x · s), qmin, qmax)   cast to ``dtype``

    An all-zero slice gets ``s = qmax / ε`` and ``q = 0``. Dequantize with ``q / s``.
    No gradient: the result is integers (training through it uses
    :func:`fake_quant_with_min_max_vars`).

    Args:
        inputs: the array to quantize (float; an integer array gets a scale computed in
            floatx and then cast to its dtype, as Keras does).
        axis: the axis (int, tuple of ints, or None for all) the max is taken over.
        value_range: ``(qmin, qmax)``, the integer range.
        dtype: the dtype of the quantized values.
        epsilon: added to ``max|x|`` so an all-zero slice does not divide by zero.
        to_numpy: accepted for Keras' signature; Keras' host path gives the same numbers.

    Returns:
        ``(q, s)``: the quantized array and the scale, ``s`` in ``inputs``' dtype.

    Example:
        >>> q, s = abs_max_quantize(np.array([[1.0, -2.0, 0.5]], "float32"), axis=-1)
        >>> q, s
        (array([[  64, -127,   32]], dtype=int8), array([[63.5]], dtype=float32))
    """
    x = np.asarray(inputs)
    compute = _float_dtype(x)
    largest = np.max(np.abs(x), axis=axis, keepdims=True).astype(compute)
    with np.errstate(divide="ignore"):
        scale = compute.type(value_range[1]) / (largest + compute.type(epsilon))
    scale = scale.astype(x.dtype)
    outputs = np.clip(np.round(x * scale), value_range[0], value_range[1])
    return outputs.astype(dtype), scale


def abs_max_quantize_grouped_with_zero_point(inputs: ArrayLike, block_size: int,
                                             value_range: tuple = (-8, 7), dtype: str = "int8",
                                             epsilon: float = EPSILON,
                                             to_numpy: bool = False
                                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantize a 2-D kernel ``(input_dim, output_dim)`` asymmetrically, by groups of
    ``block_size`` rows, with a scale and a zero point per group and column.

    Rows are padded with zeros to a multiple of ``block_size`` and split into
    ``G = ceil(input_dim / block_size)`` groups. For each group and column, from its
    ``min`` and ``max`` (Keras' device path, ``to_numpy=False``)::

        if min == max:  min, max = min - 1, max + 1     (a flat group still gets a range)
        s = (max - min + ε) / (2^bits - 1)               bits = floor(log2(qmax - qmin + 1))
        z = clip(round(-min / s) - 2^(bits-1), -2^(bits-1), 2^(bits-1) - 1)
        q = clip(round(x / s) + z, qmin, qmax)

    ``round`` is half-to-even. With one group only (``block_size >= input_dim``) the padding
    rows do not count in ``min`` and ``max``. Keras' host path (``to_numpy=True``) differs,
    and this function follows it then: the padding always counts, a flat group keeps
    ``max - min = 0``, and ``s = (max - min + ε) / (qmax - qmin)``, ``z = clip(round(-min /
    s) + qmin, qmin, qmax)``. Dequantize with ``(q - z) · s``.

    Args:
        inputs: float array of shape ``(input_dim, output_dim)``.
        block_size: rows per group.
        value_range: ``(qmin, qmax)``; ``(-8, 7)`` is int4.
        dtype: the dtype of ``q``.
        epsilon: added to the range, so a flat group does not divide by zero.
        to_numpy: Keras' host path (see above).

    Returns:
        ``(q, s, z)``: ``q`` shaped like ``inputs``; ``s`` (``inputs``' dtype) and ``z``
        (int8) of shape ``(G, output_dim)``.

    Example:
        >>> w = np.array([[0.0, -1.0], [1.5, 1.0], [3.0, 2.0]], "float32")
        >>> q, s, z = abs_max_quantize_grouped_with_zero_point(w, block_size=2)
        >>> q
        array([[-8, -8],
               [ 7,  6],
               [ 7,  7]], dtype=int8)
        >>> z
        array([[-8, -1],
               [-8, -8]], dtype=int8)
    """
    x = np.asarray(inputs)
    if x.ndim != 2:
        raise ValueError("abs_max_quantize_grouped_with_zero_point: `inputs` must be 2-D "
                         f"(input_dim, output_dim), got shape {x.shape}.")
    if isinstance(block_size, bool) or not isinstance(block_size, int | np.integer) \
            or block_size <= 0:
        raise ValueError("abs_max_quantize_grouped_with_zero_point: `block_size` must be a "
                         f"positive int, got {block_size!r}.")
    input_dim, output_dim = x.shape
    qmin, qmax = value_range
    groups = math.ceil(input_dim / block_size)
    padded = np.concatenate([x, np.zeros((groups * block_size - input_dim, output_dim),
                                         x.dtype)])
    grouped = padded.reshape(groups, block_size, output_dim)
    # the statistics: with one group, Keras' device path reads the unpadded rows
    counted = grouped if (to_numpy or groups > 1) else x[None]
    low, high = counted.min(axis=1), counted.max(axis=1)
    dt = x.dtype.type
    if to_numpy:
        levels, zero_min, zero_max = qmax - qmin, qmin, qmax
    else:
        bits = int(math.log2(qmax - qmin + 1))
        levels, zero_min, zero_max = 2**bits - 1, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        flat = low == high
        low, high = np.where(flat, low - dt(1), low), np.where(flat, high + dt(1), high)
    spread = high - low
    if to_numpy or epsilon > 0:
        spread = spread + dt(epsilon)
    scale = spread / dt(levels)
    if not to_numpy:
        scale = np.where(scale <= 0, dt(1e-8), scale)
    zero = np.clip(np.round(-low / scale) + dt(zero_min), zero_min, zero_max).astype(np.int8)
    q = np.round(grouped / scale[:, None, :]) + zero[:, None, :].astype(x.dtype)
    q = np.clip(q, qmin, qmax).astype(dtype)
    return q.reshape(-1, output_dim)[:input_dim], scale.astype(x.dtype), zero
