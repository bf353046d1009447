"""The base class of weight penalties: ``R(w)`` is added to the loss, ``∂R/∂w`` to the gradient.

A layer with ``kernel_regularizer=R`` adds ``R(W)`` to the training loss (unscaled: no
division by the batch size) and ``R.gradient(W)`` to ``∂L/∂W`` in its backward pass.
"""

from __future__ import annotations

import math

import numpy as np

from minired import keras_numerics


class Regularizer:
    """Base class: a penalty ``R(x)`` on a weight array and its gradient ``∂R/∂x``.

    Subclasses implement ``__call__(x)``, ``gradient(x)`` and ``get_config()``. The base
    class itself is the zero penalty, as in Keras.

    Example:
        >>> Regularizer()(np.ones(3))
        0.0
    """

    def __call__(self, x: np.ndarray) -> np.floating | float:
        """Return the penalty ``R(x)``: a scalar in ``x``'s dtype."""
        return 0.0

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Return ``∂R/∂x``, an array of ``x``'s shape and dtype."""
        return np.zeros_like(x)

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """Create the regularizer from :meth:`get_config`'s output."""
        return cls(**config)


def validate_float_arg(value, name: str) -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise ValueError.

    Keras' rule, ``isinstance(value, (float, int))``: an int is accepted and converted
    (``L2(1)`` means ``L2(1.0)``), and so is ``np.float64`` (a subclass of float), while
    ``np.float32`` and NumPy ints are refused.

    Example:
        >>> validate_float_arg(1, name="l2"), validate_float_arg(np.float64(0.5), name="l2")
        (1.0, 0.5)
    """
    if (
        not isinstance(value, float | int)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a non-negative float, "
            f"got {name}={value!r}."
        )
    return float(value)


def as_float_array(x, owner: str) -> np.ndarray:
    """Return ``x`` as a NumPy array, refusing non-float dtypes (a penalty needs floats)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{owner}: `x` must be a float array, got dtype {x.dtype}.")
    return x


def coefficient(value: float, dtype: np.dtype) -> np.floating:
    """The penalty factor as Keras applies it: ``ops.cast(value, x.dtype)``.

    TensorFlow turns the Python float into a float32 tensor before casting, so the factor
    is rounded to float32 even for float64 weights: ``L2(0.01)`` multiplies float64 weights
    by 0.009999999776482582 (see :func:`minired.keras_numerics.as_keras_constant`). The
    constructors store Python floats, so this always applies.

    Example:
        >>> float(coefficient(0.01, np.dtype("float64")))
        0.009999999776482582
    """
    return keras_numerics.as_keras_constant(value, dtype)
