"""Mean squared logarithmic error: the squared error of ``log(1 + ·)``, for positive targets."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class MeanSquaredLogarithmicError(Loss):
    """Mean of the squared differences of ``log(max(·, ε) + 1)`` over the last axis.

    Forward, per sample with ``D`` outputs (values below ``ε`` count as ``ε``)::

        a_d = log(max(ŷ_d, ε) + 1),   b_d = log(max(y_d, ε) + 1),   ℓ = (1/D) Σ_d (a_d - b_d)²

    Backward: ``∂ℓ/∂ŷ_d = (2/D) (a_d - b_d) / (ŷ_d + 1)`` where ``ŷ_d ≥ ε``, and 0 below
    (where the ``max`` holds ``ε``).

    Keras' ``ε`` here is ``float32(1e-7) = 1.0000000117e-07`` even in float64: unlike the
    other losses, ``mean_squared_logarithmic_error`` converts ``backend.epsilon()`` to a
    tensor without a dtype (``losses/losses.py``, ``epsilon = ops.convert_to_tensor(...)``),
    which makes it float32 first. minired rounds it the same way.

    Keras: ``losses/losses.py::mean_squared_logarithmic_error``. Names: ``"msle"``,
    ``"MSLE"``, ``"mean_squared_logarithmic_error"``, ``"MeanSquaredLogarithmicError"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(MeanSquaredLogarithmicError()([[0.0]], [[1.718281828]]), 6)
        1.0
    """

    def __init__(self, reduction="sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    @staticmethod
    def _epsilon(dtype) -> np.floating:
        return dtype.type(np.float32(config.epsilon()))     # float32(ε), as Keras (above)

    def _log_difference(self, y_true, y_pred):
        eps = self._epsilon(y_pred.dtype)
        return np.log(np.maximum(y_pred, eps) + 1) - np.log(np.maximum(y_true, eps) + 1)

    def values(self, y_true, y_pred, from_logits=False):
        return np.mean(np.square(self._log_difference(y_true, y_pred)), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        eps = self._epsilon(y_pred.dtype)
        inside = y_pred >= eps                      # max(ŷ, ε) passes the gradient to ŷ
        return (2 * self._log_difference(y_true, y_pred) / (np.maximum(y_pred, eps) + 1)
                * inside / y_pred.shape[-1])


def mean_squared_logarithmic_error(y_true, y_pred) -> np.ndarray:
    """Per-sample mean squared logarithmic error (see :class:`MeanSquaredLogarithmicError`)."""
    return MeanSquaredLogarithmicError().call(y_true, y_pred)
