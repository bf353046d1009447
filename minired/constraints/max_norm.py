"""MaxNorm: cap the norm of the weights into each unit (Srivastava et al.'s max-norm)."""

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


class MaxNorm(Constraint):
    """Rescale each weight vector whose L2 norm exceeds ``max_value`` down to that norm.

    For a Dense kernel ``W`` of shape ``(in, units)`` and ``axis=0``, each column ``W[:, j]``
    (the weights into unit ``j``) is treated on its own::

        n_j    = ‖W[:, j]‖₂                                 (norms along `axis`)
        W[:, j] ← W[:, j] · clip(n_j, 0, max_value) / (ε + n_j)    ε = 1e-7

    A column already inside the ball keeps its direction and (up to ε) its length. Used
    with dropout, as Srivastava et al. (2014) did, it lets a large learning rate run without
    the weights blowing up. There is no backward pass: it runs after the optimizer's step.

    Args:
        max_value: the largest norm allowed (default 2).
        axis: the axis (an int, or a list of ints) the norms run along (default 0: a Dense
            kernel's inputs; ``[0, 1, 2]`` for each filter of a Conv2D kernel).

    Example:
        >>> w = np.array([[3.0, 0.3], [4.0, 0.4]])
        >>> MaxNorm(max_value=1.0)(w).round(6)        # column 0 had norm 5, column 1 0.5
        array([[0.6, 0.3],
               [0.8, 0.4]])
    """

    def __init__(self, max_value: float = 2, axis: int | list = 0) -> None:
        self.max_value = check_number(max_value, "max_value", "MaxNorm")
        self.axis = check_axis(axis, "MaxNorm")

    def __call__(self, w: np.ndarray) -> np.ndarray:
        w = as_float_weights(w, "MaxNorm")
        norms = column_norms(w, numpy_axis(self.axis))
        dt = norms.dtype.type         # TensorFlow casts the Python bounds to the norms' dtype
        desired = np.clip(norms, dt(0), dt(self.max_value))
        return scaled(w, norms, desired)

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


max_norm = MaxNorm  # Keras also exports the class under its lowercase name
