"""Poisson loss: the negative log-likelihood of counts with predicted rate ``ŷ``."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class Poisson(Loss):
    """Mean of ``ŷ - y log(ŷ + ε)`` over the last axis.

    For counts ``y`` drawn from a Poisson distribution of rate ``ŷ``, this is the negative
    log-likelihood up to a term that does not depend on ``ŷ``. The ``ε`` keeps
    ``log(0)`` out when ``ŷ = 0``; ``ŷ`` should be positive (an ``exp`` or ``softplus``
    output)::

        ℓ = (1/D) Σ_d [ŷ_d - y_d log(ŷ_d + ε)]

    Backward: ``∂ℓ/∂ŷ_d = (1 - y_d / (ŷ_d + ε)) / D``, zero where ``ŷ_d + ε = y_d``.

    Keras: ``losses/losses.py::poisson``. Names: ``"poisson"``, ``"Poisson"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(Poisson()([[2.0, 0.0]], [[1.0, 1.0]]), 4)
        1.0
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        eps = y_pred.dtype.type(config.epsilon())
        return np.mean(y_pred - y_true * np.log(y_pred + eps), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        eps = y_pred.dtype.type(config.epsilon())
        return (1 - y_true / (y_pred + eps)) / y_pred.shape[-1]


def poisson(y_true, y_pred) -> np.ndarray:
    """Per-sample Poisson loss, ``mean(y_pred - y_true · log(y_pred + ε), axis=-1)``."""
    return Poisson().call(y_true, y_pred)
