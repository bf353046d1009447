"""Float8 scaling: the helpers of Keras' float8 training (delayed scaling).

A float8 number has 8 bits: a sign, ``E`` exponent bits and ``M`` mantissa bits.
``float8_e4m3fn`` (E=4, M=3) reaches ±448 with 3 significant bits; ``float8_e5m2`` (E=5,
M=2) reaches ±57344 with 2. To use that small range, a tensor is divided by a scale ``s``
before the cast and multiplied by it after; ``s`` comes from the largest magnitudes seen
in the last steps (the *amax history*)::

    s = amax / (dtype_max / 2^margin)            (compute_float8_scale)
    x̂ = float8(clip(x / s, -dtype_max, dtype_max)) · s   (quantize_and_dequantize)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from minired.keras_numerics import keras_tensor_dtype

#: name -> (mantissa bits, smallest normal exponent, largest finite value)
FLOAT8_FORMATS = {
    "float8_e4m3fn": (3, -6, 448.0),
    "float8_e5m2": (2, -14, 57344.0),
}


def _format(name) -> tuple[int, int, float]:
    if str(name) not in FLOAT8_FORMATS:
        raise ValueError(f"quantized_dtype must be one of {sorted(FLOAT8_FORMATS)}, got "
                         f"{name!r}.")
    return FLOAT8_FORMATS[str(name)]


def round_to_float8(x: ArrayLike, name: str) -> np.ndarray:
    """The float8 value nearest to each ``x`` (ties to even), kept in ``x``'s dtype: a cast
    to float8 and back, for values within the format's range.

    With ``e = max(floor(log2|x|), e_min)`` the exponent of the leading bit (``e_min``
    keeps subnormals on the finest grid), the representable neighbours of ``x`` are
    multiples of ``u = 2^(e - M)``, so ``float8(x) = round_half_even(x / u) · u`` (both
    steps exact in float32 and float64). ``x`` is rounded once, from its own precision.

    Example:
        >>> round_to_float8(np.float32([1.0625, 1.1875, 300.0, 0.001]), "float8_e4m3fn")
        array([1.000000e+00, 1.250000e+00, 2.880000e+02, 1.953125e-03],
              dtype=float32)
    """
    mantissa, min_exponent, _ = _format(name)
    x = np.asarray(x)
    _, exponent = np.frexp(x)                      # x = m · 2^exponent, 0.5 <= |m| < 1
    unit = np.ldexp(np.ones_like(x), np.maximum(exponent - 1, min_exponent) - mantissa)
    return np.round(x / unit) * unit


def quantize_and_dequantize(inputs: ArrayLike, scale: ArrayLike, quantized_dtype: str,
                            compute_dtype: str | np.dtype) -> np.ndarray:
    """Round ``inputs / scale`` to float8 and scale back: what a float8 matmul sees.

    Forward (in ``compute_dtype``)::

        x̂ = float8(clip(x / s, -dtype_max, dtype_max)) · s

    (``float8`` is :func:`round_to_float8`, ties to even.) Used with a straight-through
    gradient in float8 training, not differentiated here.

    Args:
        inputs: float array.
        scale: the scale ``s`` (a scalar or broadcastable array).
        quantized_dtype: ``"float8_e4m3fn"`` or ``"float8_e5m2"``.
        compute_dtype: the float dtype of the arithmetic and the result; ``inputs`` must
            not be wider (Keras' TensorFlow backend refuses a float64 input with float32).

    Example:
        >>> quantize_and_dequantize(np.float32([1.0, 1000.0]), np.float32(0.5),
        ...                         "float8_e4m3fn", "float32")
        array([  1., 224.], dtype=float32)
    """
    _, _, largest = _format(quantized_dtype)
    compute = np.dtype(compute_dtype)
    x = np.asarray(inputs)
    if np.result_type(x.dtype, compute) != compute:
        raise TypeError(f"quantize_and_dequantize: inputs of dtype {x.dtype} cannot be "
                        f"computed in compute_dtype={compute}.")
    scale = np.asarray(scale).astype(compute)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.clip(x / scale, -compute.type(largest), compute.type(largest))
        return (round_to_float8(x, quantized_dtype).astype(compute) * scale).astype(compute)


def compute_float8_scale(amax: ArrayLike, scale: ArrayLike, dtype_max: float,
                         margin: int = 0) -> np.ndarray:
    """The new scale from the amax history's largest value (NVIDIA Transformer Engine's
    rule, written on the reciprocal of the scale).

    Forward::

        sf = (dtype_max / amax) / 2^margin      if amax > 0 and amax is finite
        sf = 1 / scale                          otherwise (keep the old scale)
        new scale = 1 / sf

    Args:
        amax: the largest magnitude (a scalar array).
        scale: the current scale.
        dtype_max: the float8 format's largest value (448 for e4m3fn).
        margin: powers of two of headroom.

    Example:
        >>> compute_float8_scale(np.float32(896.0), np.float32(1.0), 448.0)
        np.float32(2.0)
        >>> compute_float8_scale(np.float32(0.0), np.float32(3.0), 448.0)
        np.float32(3.0)
    """
    amax = np.asarray(amax, dtype=keras_tensor_dtype(amax))
    scale = np.asarray(scale, dtype=keras_tensor_dtype(scale))
    dtype = np.result_type(amax, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        old = dtype.type(1) / scale
        sf = (dtype.type(dtype_max) / amax) / dtype.type(2**margin)
        sf = np.where(amax > 0.0, sf, old)
        sf = np.where(np.isfinite(amax), sf, old)
        return (dtype.type(1) / sf)[()]


def compute_float8_amax_history(x: ArrayLike, amax_history: ArrayLike) -> np.ndarray:
    """Push ``max|x|`` into the amax history, as Keras does.

    Forward: ``h ← roll(h, -1)``, then ``h[0] = max|x|`` (cast to ``h``'s dtype). The
    oldest value (the old ``h[0]``) moves to the end and the old ``h[1]`` is overwritten,
    which is Keras' arithmetic, kept as it is.

    Example:
        >>> compute_float8_amax_history(np.float32([-3.0, 2.0]), np.float32([1, 2, 4]))
        array([3., 4., 1.], dtype=float32)
    """
    history = np.asarray(amax_history)
    updated = np.roll(history, -1)
    updated[0] = np.max(np.abs(np.asarray(x))).astype(history.dtype)
    return updated
