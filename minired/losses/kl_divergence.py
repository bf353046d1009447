"""Kullback-Leibler divergence: how far the predicted distribution is from the target one."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class KLDivergence(Loss):
    """``Σ_c y_c log(y_c / ŷ_c)`` over the last axis, both clipped to ``[ε, 1]``.

    Forward, per vector (a sum, not a mean)::

        ỹ = clip(y, ε, 1),    p̃ = clip(ŷ, ε, 1),    ℓ = Σ_c ỹ_c log(ỹ_c / p̃_c)

    The clip keeps ``log(0)`` out: a target of 0 contributes ``ε log(ε / p̃) ≈ 0``.

    Backward: ``∂ℓ/∂ŷ_c = -ỹ_c / p̃_c`` where ``ε ≤ ŷ_c ≤ 1``, and 0 outside, where the clip
    holds the prediction still.

    Keras: ``losses/losses.py::kl_divergence``. Names: ``"kld"``, ``"KLD"``,
    ``"kl_divergence"``, ``"KLDivergence"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]]), 4)
        0.1438
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "kl_divergence",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        eps = y_pred.dtype.type(config.epsilon())
        y, p = np.clip(y_true, eps, 1), np.clip(y_pred, eps, 1)
        return np.sum(y * np.log(y / p), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        eps = y_pred.dtype.type(config.epsilon())
        y, p = np.clip(y_true, eps, 1), np.clip(y_pred, eps, 1)
        inside = (y_pred >= eps) & (y_pred <= 1)                 # clip passes the gradient
        return -y / p * inside


def kl_divergence(y_true, y_pred) -> np.ndarray:
    """Per-sample KL divergence, ``Σ clip(y) log(clip(y) / clip(ŷ))`` (clipped to [ε, 1])."""
    return KLDivergence().call(y_true, y_pred)
