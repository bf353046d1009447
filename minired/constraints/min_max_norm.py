"""MinMaxNorm: keep the norm of the weights into each unit between two bounds."""

from __future__ import annotations

import numpy as np

from minired.constraints.constraint import (
    Constraint,
    as_float_weights,
    check_axis,
    check_number,
    column_norms,
    numpy_axis,
    scaled,
)


class MinMaxNorm(Constraint):
    """Move each weight vector's L2 norm into ``[min_value, max_value]``, by ``rate``.

    With ``n`` the norms along ``axis`` (one per unit for a Dense kernel and ``axis=0``)::

        desired = rate · clip(n, min_value, max_value) + (1 - rate) · n
        w       ← w · desired / (ε + n)                            ε = 1e-7

    ``rate=1`` enforces the bounds at once; a smaller rate moves the norms only part of the
    way at each step. There is no backward pass: it runs after the optimizer's step.

    Args:
        min_value: the smallest norm allowed (default 0.0).
        max_value: the largest norm allowed (default 1.0).
        rate: how far to move towards the bounds at each step, in [0, 1] (default 1.0).
        axis: the axis (an int, or a list of ints) the norms run along (default 0).

    Example:
        >>> w = np.array([[3.0, 0.3], [4.0, 0.4]])        # column norms 5 and 0.5
        >>> MinMaxNorm(min_value=1.0, max_value=2.0)(w).round(6)
        array([[1.2, 0.6],
               [1.6, 0.8]])
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | list = 0) -> None:
        self.min_value = check_number(min_value, "min_value", "MinMaxNorm")
        self.max_value = check_number(max_value, "max_value", "MinMaxNorm")
        self.rate = check_number(rate, "rate", "MinMaxNorm")
        self.axis = check_axis(axis, "MinMaxNorm")

    def __call__(self, w: np.ndarray) -> np.ndarray:
        w = as_float_weights(w, "MinMaxNorm")
        norms = column_norms(w, numpy_axis(self.axis))
        dt = norms.dtype.type    # as TensorFlow: each Python number cast to the norms' dtype
        clipped = np.clip(norms, dt(self.min_value), dt(self.max_value))
        desired = dt(self.rate) * clipped + dt(1 - self.rate) * norms   # 1 - rate in Python
        return scaled(w, norms, desired)

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


min_max_norm = MinMaxNorm  # Keras also exports the class under its lowercase name
