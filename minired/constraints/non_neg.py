"""NonNeg: keep every weight at zero or above."""

from __future__ import annotations

import numpy as np

from minired.constraints.constraint import Constraint, as_float_weights


class NonNeg(Constraint):
    """Set the negative weights to zero: ``w ← max(w, 0)``, element by element.

    There is no backward pass: it runs after the optimizer's step.

    Args: none.

    Example:
        >>> NonNeg()(np.array([-1.5, 0.0, 2.0]))
        array([0., 0., 2.])
    """

    def __call__(self, w: np.ndarray) -> np.ndarray:
        w = as_float_weights(w, "NonNeg")
        return np.maximum(w, w.dtype.type(0))


non_neg = NonNeg  # Keras also exports the class under its lowercase name
