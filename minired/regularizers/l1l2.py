"""Both penalties at once: ``R(w) = l1 · Σ|w| + l2 · Σw²``."""

from __future__ import annotations

import numpy as np

from minired.regularizers.regularizer import (
    Regularizer,
    as_float_array,
    coefficient,
    validate_float_arg,
)


class L1L2(Regularizer):
    """L1 and L2 penalties together ("elastic net").

    ::

        R(w)  = l1 · Σ |w_i| + l2 · Σ w_i²
        ∂R/∂w = l1 · sign(w) + 2 · l2 · w

    Both factors default to **0** here (unlike ``L1``/``L2``, which default to 0.01), so
    ``L1L2()`` and the string ``"l1l2"`` give no penalty at all.

    Args:
        l1: the L1 factor (default 0.0; ``None`` also means 0).
        l2: the L2 factor (default 0.0; ``None`` also means 0).

    Example:
        >>> L1L2(l1=0.5, l2=0.5)(np.array([1.0, -2.0]))
        np.float64(4.0)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        self.l1 = validate_float_arg(l1, name="l1")
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x: np.ndarray) -> np.floating:
        x = as_float_array(x, "L1L2")
        penalty = x.dtype.type(0.0)
        if self.l1 != 0.0:
            penalty += coefficient(self.l1, x.dtype) * np.sum(np.abs(x))
        if self.l2 != 0.0:
            penalty += coefficient(self.l2, x.dtype) * np.sum(np.square(x))
        return penalty

    def gradient(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "L1L2")
        grad = np.zeros_like(x)
        if self.l1 != 0.0:
            grad += coefficient(self.l1, x.dtype) * np.sign(x)
        if self.l2 != 0.0:
            grad += 2 * coefficient(self.l2, x.dtype) * x
        return grad

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


l1_l2 = L1L2  # Keras exports this alias, yet get("l1_l2") is an error (see get)
