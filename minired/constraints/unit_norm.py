"""UnitNorm: give the weights into each unit an L2 norm of 1."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.constraints.constraint import (
    Constraint,
    as_float_weights,
    check_axis,
    column_norms,
    numpy_axis,
)


class UnitNorm(Constraint):
    """Divide each weight vector by its L2 norm (plus ε), along ``axis``.

    The projection::

        n  = ‖w‖₂ along axis
        w ← w / (ε + n)                ε = 1e-7

    There is no backward pass: it runs after the optimizer's step.

    Args:
        axis: the axis (an int, or a list of ints) the norms run along (default 0: the
            inputs of a Dense kernel, so each unit's weight vector gets norm 1).

    Example:
        >>> UnitNorm()(np.array([[3.0, 0.0], [4.0, 2.0]])).round(6)
        array([[0.6, 0. ],
               [0.8, 1. ]])
    """

    def __init__(self, axis: int | list = 0) -> None:
        self.axis = check_axis(axis, "UnitNorm")

    def __call__(self, w: np.ndarray) -> np.ndarray:
        w = as_float_weights(w, "UnitNorm")
        norms = column_norms(w, numpy_axis(self.axis))
        eps = norms.dtype.type(config.epsilon())    # cast to the norms' dtype, as TensorFlow
        return w.astype(norms.dtype, copy=False) / (eps + norms)

    def get_config(self) -> dict:
        return {"axis": self.axis}


unit_norm = UnitNorm  # Keras also exports the class under its lowercase name
