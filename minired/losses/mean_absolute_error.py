"""Mean absolute error: the regression loss that grows linearly with the error."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape


class MeanAbsoluteError(Loss):
    """Mean of the absolute errors over the last axis.

    Forward, per sample with ``D`` outputs: ``ℓ = (1/D) Σ_d |y_d - ŷ_d|``.

    Backward: ``∂ℓ/∂ŷ_d = sign(ŷ_d - y_d) / D``, with ``sign(0) = 0`` at the kink
    ``ŷ_d = y_d`` (TensorFlow's gradient of ``abs``).

    Keras: ``losses/losses.py::mean_absolute_error``. Names: ``"mae"``, ``"MAE"``,
    ``"mean_absolute_error"``, ``"MeanAbsoluteError"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 1.0]])
        0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_absolute_error",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        return np.mean(np.abs(y_true - y_pred), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        return np.sign(y_pred - y_true) / y_pred.shape[-1]


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean absolute error, ``mean(|y_true - y_pred|, axis=-1)``."""
    return MeanAbsoluteError().call(y_true, y_pred)
