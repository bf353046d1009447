"""L2 penalty (weight decay through the loss): ``R(w) = l2 · Σw²``."""

from __future__ import annotations

import numpy as np

from minired.regularizers.regularizer import (
    Regularizer,
    as_float_array,
    coefficient,
    validate_float_arg,
)


class L2(Regularizer):
    """L2 weight penalty, which shrinks large weights.

    ::

        R(w)  = l2 · Σ w_i²          (no ½: Keras' convention)
        ∂R/∂w = 2 · l2 · w

    Through plain SGD this is "weight decay" by ``2·lr·l2`` per step; with Adam it is not
    (the penalty's gradient gets rescaled): use ``AdamW`` for decoupled decay.

    Args:
        l2: the factor (default 0.01; ``None`` also means 0.01). A finite number >= 0.

    Example:
        >>> L2(0.5)(np.array([1.0, -2.0]))
        np.float64(2.5)
    """

    def __init__(self, l2: float = 0.01) -> None:
        l2 = 0.01 if l2 is None else l2
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x: np.ndarray) -> np.floating:
        x = as_float_array(x, "L2")
        return coefficient(self.l2, x.dtype) * np.sum(np.square(x))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "L2")
        return 2 * coefficient(self.l2, x.dtype) * x

    def get_config(self) -> dict:
        return {"l2": self.l2}


l2 = L2  # Keras also exports the class under its lowercase name
