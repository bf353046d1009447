"""Orthogonality penalty: the mean |cosine| between the rows (or columns) of a matrix."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.regularizers.regularizer import (
    Regularizer,
    as_float_array,
    coefficient,
    validate_float_arg,
)

_MODES = ("rows", "columns")


class OrthogonalRegularizer(Regularizer):
    """Penalty pushing the rows (or columns) of a 2-D weight matrix to be orthogonal.

    For ``mode="rows"`` and ``W`` of shape ``(n, m)`` with rows ``w_i`` (the columns case
    is the same on ``Wᵀ``)::

        u_i   = w_i · r_i,   r_i = min(1/√(Σ_k w_ik²), 1/ε)     (unit rows, ε = 1e-7)
        P     = U Uᵀ                                          (P_ij = cos(w_i, w_j))
        R(W)  = factor · ½ · Σ_{i≠j} |P_ij| / (n(n-1)/2)
              = factor · mean over the n(n-1)/2 pairs i<j of |cos(w_i, w_j)|

    Backward, with ``c = factor · ½ / (n(n-1)/2)``, ``I`` the identity, ``g_i`` the rows
    of ``∂R/∂U``::

        ∂R/∂P = c · sign(P) ∘ (1 - I)
        ∂R/∂U = (∂R/∂P + ∂R/∂Pᵀ) U
        ∂R/∂w_i = r_i · (g_i - u_i (u_i · g_i))      (the part of g_i orthogonal to u_i)
        ∂R/∂w_i = r_i · g_i                          (a row whose norm is below ε: r_i = 1/ε)

    ``sign(0) = 0`` (TensorFlow's gradient of ``|x|`` at 0). A ``Dense`` kernel has shape
    ``(input_dim, units)``, so ``"rows"`` compares the vectors each input writes into the
    output, ``"columns"`` the ``units`` weight vectors of the neurons.

    As in Keras, ``factor`` is kept rounded to float32 (``get_config()["factor"]`` is
    ``0.009999999776482582`` for 0.01), a matrix with a single row (``"rows"``) or column
    (``"columns"``) has no pairs and gives NaN, and a zero row gives a zero penalty.
    Keras on TensorFlow refuses float64 weights (its float32 ``factor`` cannot multiply
    them); minired computes in float64 with the float32-rounded factor.

    Args:
        factor: the factor (default 0.01). A finite number >= 0.
        mode: ``"rows"`` (default) or ``"columns"``: which vectors should be orthogonal.

    Example:
        >>> W = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
        >>> round(float(OrthogonalRegularizer(factor=1.0)(W)), 6)  # cosines 1/√2, 0, 1/√2
        0.471405
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = float(np.float32(validate_float_arg(factor, name="factor")))
        if mode not in _MODES:
            raise ValueError(
                'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def _unit_vectors(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(U, r, clamped)``: the rows of ``x`` over their norms, as Keras'
        ``ops.normalize`` (``x · min(rsqrt(Σx²), 1/ε)``), with ``r`` and where the floor held."""
        x = as_float_array(x, "OrthogonalRegularizer")
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={x.shape}"
            )
        rows = x if self.mode == "rows" else x.T
        with np.errstate(divide="ignore"):
            rsqrt = 1 / np.sqrt(np.sum(np.square(rows), axis=1, keepdims=True))
        cap = x.dtype.type(1.0 / config.epsilon())
        return rows * np.minimum(rsqrt, cap), np.minimum(rsqrt, cap), rsqrt > cap

    def _scale(self, n: int, dtype: np.dtype) -> np.floating:
        """``c = factor · ½ / (n(n-1)/2)`` in Keras' order (NaN when there are no pairs)."""
        num_pairs = n * (n - 1.0) / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return coefficient(self.factor, dtype) * dtype.type(0.5) / dtype.type(num_pairs)

    def __call__(self, x: np.ndarray) -> np.floating:
        units, _, _ = self._unit_vectors(x)
        n = units.shape[0]
        off_diagonal = (units @ units.T) * (1 - np.eye(n, dtype=units.dtype))
        factor = coefficient(self.factor, units.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return factor * units.dtype.type(0.5) * np.sum(np.abs(off_diagonal)) / (
                units.dtype.type(n * (n - 1.0) / 2.0))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        units, r, clamped = self._unit_vectors(x)
        n = units.shape[0]
        with np.errstate(invalid="ignore"):  # no pairs (n = 1): NaN, as Keras
            d_products = self._scale(n, units.dtype) * np.sign(units @ units.T)
            d_products *= 1 - np.eye(n, dtype=units.dtype)
        d_units = (d_products + d_products.T) @ units
        radial = units * np.sum(units * d_units, axis=1, keepdims=True)
        d_rows = r * np.where(clamped, d_units, d_units - radial)
        return d_rows if self.mode == "rows" else d_rows.T

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


orthogonal_regularizer = OrthogonalRegularizer  # Keras also exports this lowercase alias
