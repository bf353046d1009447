"""Two scalar operations computed the way TensorFlow computes them.

Keras' formulas are mirrored operation by operation; these are the two places where NumPy's
default arithmetic and TensorFlow's round differently, so the optimizers, schedules and
regularizers share them.
"""

from __future__ import annotations

import numpy as np


def tf_cast(value: float, dtype: np.dtype | type) -> np.floating:
    """Keras' ``ops.cast(value, dtype)`` of a Python float, as TensorFlow evaluates it.

    TensorFlow first turns the Python float into a *float32* tensor, then casts it, so in
    float64 mode ``ops.cast(0.9, "float64")`` is 0.8999999761581421, not 0.9. In float32
    mode this is just ``float32(value)``. (``ops.multiply(x, 0.9)`` and ``x + 0.9`` convert
    0.9 straight to x's dtype: those constants use ``dtype(value)``.) A NumPy scalar keeps
    its own precision: ``tf_cast(np.float64(0.9), np.float64)`` is 0.9.

    Example:
        >>> float(tf_cast(0.9, np.float64))
        0.8999999761581421
    """
    if not isinstance(value, np.generic):
        value = np.float32(value)
    return np.dtype(dtype).type(value)


def tf_pow(base: np.floating, exponent: np.floating) -> np.floating:
    """``base ** exponent`` in ``base``'s dtype, rounded once from double precision.

    TensorFlow's float32 ``pow`` is (nearly always) correctly rounded; NumPy's float32
    ``pow`` is off by one ulp for about one input in six (``0.9**4``, for example). Computing
    in float64 and rounding once reproduces TensorFlow.

    Example:
        >>> tf_pow(np.float32(0.9), np.float32(4))
        np.float32(0.6560999)
    """
    return type(base)(np.float64(base) ** np.float64(exponent))
