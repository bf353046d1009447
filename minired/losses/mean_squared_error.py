"""Mean squared error, the regression loss."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape


class MeanSquaredError(Loss):
    """Mean of the squared errors over the last axis.

    Forward, per sample with ``D`` outputs: ``ℓ = (1/D) Σ_d (y_d - ŷ_d)²``.

    Backward: ``∂ℓ/∂ŷ_d = (2/D) (ŷ_d - y_d)``.

    ``D`` is the size of the last axis: predictions of shape ``(N, T, D)`` give one loss
    per sample and time step, shape ``(N, T)``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_squared_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        return np.mean(np.square(y_true - y_pred), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        n_outputs = y_pred.shape[-1]
        return (2 / n_outputs) * (y_pred - y_true)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean squared error, ``mean((y_true - y_pred)², axis=-1)``."""
    return MeanSquaredError().call(y_true, y_pred)
