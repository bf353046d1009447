"""Window functions: ``bartlett``, ``blackman``, ``hamming``, ``hanning``, ``kaiser``.

Each returns ``M`` weights ``w(n)``, ``n = 0 … M − 1`` (the symmetric windows of NumPy), in
the dtype Keras' TensorFlow backend gives: ``floatx`` for ``bartlett`` and ``blackman``,
float32 for the others (TensorFlow's ``tf.signal`` windows). They are constants: nothing to
differentiate.

Example:
    >>> from minired import ops
    >>> ops.bartlett(5)
    array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from minired import config


def _size(x) -> int:
    m = int(np.asarray(x))
    if m < 0:
        raise ValueError(f"The window size `x` must be non-negative, got {m}.")
    return m


def _window(function, x, *args, dtype=None) -> np.ndarray:
    m = _size(x)
    dtype = dtype or config.floatx()
    if m <= 1:
        return np.ones(m, dtype=dtype)
    return np.asarray(function(m, *args)).astype(dtype)


def bartlett(x) -> np.ndarray:
    """The triangle ``w(n) = 1 − |2n/(M − 1) − 1|`` (``floatx``; float32 for ``M ≤ 1``, as
    Keras' TensorFlow backend).

    Args:
        x: the number of points ``M``.

    Example:
        >>> bartlett(3)
        array([0., 1., 0.], dtype=float32)
    """
    return _window(np.bartlett, x, dtype=None if _size(x) > 1 else "float32")


def blackman(x) -> np.ndarray:
    """``w(n) = 0.42 − 0.5 cos(2πn/(M − 1)) + 0.08 cos(4πn/(M − 1))`` (``floatx``).

    Args:
        x: the number of points ``M``.

    Example:
        >>> blackman(3).round(6)
        array([-0.,  1., -0.], dtype=float32)
    """
    return _window(np.blackman, x)


def hamming(x) -> np.ndarray:
    """``w(n) = 0.54 − 0.46 cos(2πn/(M − 1))`` (float32, TensorFlow's window dtype).

    Args:
        x: the number of points ``M``.

    Example:
        >>> hamming(3)
        array([0.08, 1.  , 0.08], dtype=float32)
    """
    return _window(np.hamming, x, dtype="float32")


def hanning(x) -> np.ndarray:
    """The Hann window ``w(n) = 0.5 − 0.5 cos(2πn/(M − 1))`` (float32).

    Args:
        x: the number of points ``M``.

    Example:
        >>> hanning(3)
        array([0., 1., 0.], dtype=float32)
    """
    return _window(np.hanning, x, dtype="float32")


def kaiser(x, beta) -> np.ndarray:
    """``w(n) = I₀(β √(1 − (2n/(M − 1) − 1)²)) / I₀(β)`` (``I₀`` the Bessel function;
    float32).

    Args:
        x: the number of points ``M``.
        beta: the shape ``β`` (0 gives a rectangle; larger values a narrower bell).

    Example:
        >>> kaiser(3, 5.0)
        array([0.03671089, 1.        , 0.03671089], dtype=float32)
    """
    return _window(np.kaiser, x, float(beta), dtype="float32")
