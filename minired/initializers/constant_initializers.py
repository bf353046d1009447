"""Initializers that fill the whole array with one value."""

from __future__ import annotations

import numpy as np

from minired import keras_numerics
from minired.initializers.initializer import Initializer, standardize_dtype, standardize_shape


class Zeros(Initializer):
    """All zeros: ``w = 0``. Keras' default for biases.

    Example:
        >>> Zeros()((2,), dtype="float32")
        array([0., 0.], dtype=float32)
    """

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        return np.zeros(standardize_shape(shape), dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """All ones: ``w = 1``.

    Example:
        >>> Ones()((2,), dtype="float32")
        array([1., 1.], dtype=float32)
    """

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        return np.ones(standardize_shape(shape), dtype=standardize_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to ``value``: ``w = value``.

    Computed as Keras does, ``cast(value, dtype) * ones(shape)``. TensorFlow makes a
    float32 tensor of a Python float before casting it, so ``Constant(0.1)(shape, "float64")``
    holds 0.10000000149011612; a NumPy value (``np.float64(0.1)``, an array) keeps its
    precision (see :func:`minired.keras_numerics.as_keras_constant`). ``value`` may be an
    array that broadcasts to ``shape``.

    Keras cannot build this initializer from the string ``"constant"`` (its ``from_config``
    needs a value), so neither can :func:`minired.initializers.get`.

    Args:
        value: the fill value (default 0.0).

    Example:
        >>> Constant(3.0)((2,), dtype="float32")
        array([3., 3.], dtype=float32)
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = standardize_dtype(dtype)
        value = keras_numerics.as_keras_constant(self.value, dtype)
        return value * np.ones(standardize_shape(shape), dtype=dtype)

    def get_config(self) -> dict:
        return {"value": self.value}


class Identity(Initializer):
    """The identity matrix times ``gain``: ``W = gain · I`` (ones on the main diagonal).

    Only for 2-D shapes. A non-square shape ``(rows, cols)`` gets ones at ``(i, i)`` for
    ``i < min(rows, cols)`` and zeros elsewhere, as ``np.eye(rows, cols)``. A Dense layer
    with this kernel (and a zero bias) starts as ``a = f(gain · x)``, passing its inputs
    through.

    ``get_config()`` returns ``{"gain": gain}``; Keras 3.15 returns ``{}``, so a Keras
    ``Identity(gain=2.0)`` comes back from its config with gain 1.0.

    Args:
        gain: the factor on the diagonal (default 1.0).

    Example:
        >>> Identity(gain=2.0)((2, 3), dtype="float32")
        array([[2., 0., 0.],
               [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        shape = standardize_shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        dtype = standardize_dtype(dtype)
        return (self.gain * np.eye(*shape, dtype=dtype)).astype(dtype, copy=False)

    def get_config(self) -> dict:
        return {"gain": self.gain}
