"""L1 penalty: ``R(w) = l1 · Σ|w|``."""

from __future__ import annotations

import numpy as np

from minired.regularizers.regularizer import (
    Regularizer,
    as_float_array,
    coefficient,
    validate_float_arg,
)


class L1(Regularizer):
    """L1 weight penalty, which pushes weights to exactly zero (sparse weights).

    ::

        R(w)  = l1 · Σ |w_i|
        ∂R/∂w = l1 · sign(w)        (0 at w = 0, TensorFlow's choice at the kink)

    Keras keeps ``l1`` as a float32 tensor, so ``L1(0.01).l1`` (and ``get_config()``) is
    ``0.009999999776482582``; minired stores the same float32-rounded value.

    Args:
        l1: the factor (default 0.01; ``None`` also means 0.01). A finite number >= 0.

    Example:
        >>> L1(0.5)(np.array([1.0, -2.0]))
        np.float64(1.5)
    """

    def __init__(self, l1: float = 0.01) -> None:
        l1 = 0.01 if l1 is None else l1
        self.l1 = float(np.float32(validate_float_arg(l1, name="l1")))

    def __call__(self, x: np.ndarray) -> np.floating:
        x = as_float_array(x, "L1")
        return coefficient(self.l1, x.dtype) * np.sum(np.abs(x))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "L1")
        return coefficient(self.l1, x.dtype) * np.sign(x)

    def get_config(self) -> dict:
        return {"l1": self.l1}


l1 = L1  # Keras also exports the class under its lowercase name
