"""Tversky loss: the Dice loss with separate weights for false positives and false negatives."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.dice import OverlapLoss


class Tversky(OverlapLoss):
    """``ℓ = 1 - I / (I + α FP + β FN + ε)`` over ``axis`` (Salehi et al., 2017).

    With sums over ``axis`` (all axes by default)::

        I = Σ y ŷ,    FP = Σ (1 - ŷ) y,    FN = Σ ŷ (1 - y)
        D = I + α FP + β FN + ε,    ℓ = 1 - I / D

    Keras' names, kept here: its ``fp`` sums ``(1 - ŷ) y`` (the true pixels the prediction
    missed) and its ``fn`` sums ``ŷ (1 - y)``. ``α = β = 0.5`` gives the
    :class:`~minired.losses.Dice` loss (up to where ``ε`` sits).

    Backward (``∂I/∂ŷ_k = y_k``, ``∂FP/∂ŷ_k = -y_k``, ``∂FN/∂ŷ_k = 1 - y_k``)::

        ∂D/∂ŷ_k = y_k - α y_k + β (1 - y_k)
        ∂ℓ/∂ŷ_k = -(y_k D - I ∂D/∂ŷ_k) / D²

    Keras: ``losses/losses.py::tversky``. Names: ``"tversky"``, ``"Tversky"``.

    Args:
        alpha: the weight ``α`` of ``FP``.
        beta: the weight ``β`` of ``FN``.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.
        axis: the axes the sums run over: None (all), an int or a tuple of ints.

    Example:
        >>> round(Tversky(alpha=0.7, beta=0.3)([[1.0, 0.0]], [[0.5, 0.5]]), 4)
        0.5
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction="sum_over_batch_size",
                 name: str = "tversky", axis=None, dtype=None):
        super().__init__(axis=axis, reduction=reduction, name=name, dtype=dtype)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def _terms(self, y_true, y_pred):
        """``(I, D)`` with a trailing axis of size 1, and ``(α, β)`` in y_pred's dtype."""
        dtype = y_pred.dtype.type
        alpha, beta = dtype(self.alpha), dtype(self.beta)
        intersection = np.sum(y_true * y_pred, axis=-1, keepdims=True)
        fp = np.sum((1 - y_pred) * y_true, axis=-1, keepdims=True)
        fn = np.sum(y_pred * (1 - y_true), axis=-1, keepdims=True)
        denominator = intersection + fp * alpha + fn * beta + dtype(config.epsilon())
        return intersection, denominator, alpha, beta

    def values(self, y_true, y_pred, from_logits=False):
        intersection, denominator, _, _ = self._terms(y_true, y_pred)
        return (1 - intersection / denominator)[..., 0]

    def gradients(self, y_true, y_pred, from_logits=False):
        intersection, denominator, alpha, beta = self._terms(y_true, y_pred)
        d_denominator = y_true - alpha * y_true + beta * (1 - y_true)
        return -(y_true * denominator - intersection * d_denominator) / denominator ** 2

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None) -> np.ndarray:
    """Tversky loss over ``axis`` (see :class:`Tversky`).

    Example:
        >>> float(np.round(tversky([[1.0, 0.0]], [[0.5, 0.5]]), 4))
        0.5
    """
    return Tversky(alpha, beta, axis=axis).call(y_true, y_pred)
