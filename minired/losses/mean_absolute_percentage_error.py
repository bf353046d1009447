"""Mean absolute percentage error: the error relative to the size of the target."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class MeanAbsolutePercentageError(Loss):
    """``100 ×`` the mean of the relative absolute errors over the last axis.

    Forward, per sample with ``D`` outputs (Keras divides by ``max(|y|, ε)``, so a target
    of 0 gives a huge but finite loss, ``|ŷ| / ε · 100/D``)::

        m_d = max(|y_d|, ε),      ℓ = (100/D) Σ_d |y_d - ŷ_d| / m_d

    Backward: ``∂ℓ/∂ŷ_d = (100/D) sign(ŷ_d - y_d) / m_d`` (0 at the kink ``ŷ_d = y_d``).

    Keras: ``losses/losses.py::mean_absolute_percentage_error``. Names: ``"mape"``,
    ``"MAPE"``, ``"mean_absolute_percentage_error"``, ``"MeanAbsolutePercentageError"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(MeanAbsolutePercentageError()([[100.0, 200.0]], [[90.0, 210.0]]), 4)
        7.5
    """

    def __init__(self, reduction="sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def _scale(self, y_true):
        return np.maximum(np.abs(y_true), y_true.dtype.type(config.epsilon()))

    def values(self, y_true, y_pred, from_logits=False):
        return 100 * np.mean(np.abs((y_true - y_pred) / self._scale(y_true)), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        return 100 * np.sign(y_pred - y_true) / self._scale(y_true) / y_pred.shape[-1]


def mean_absolute_percentage_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean absolute percentage error, ``100 mean(|y - ŷ| / max(|y|, ε))``."""
    return MeanAbsolutePercentageError().call(y_true, y_pred)
