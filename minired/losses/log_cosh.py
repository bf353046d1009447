"""Log-cosh: like the squared error for small errors, like the absolute error for large."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape

#: Keras computes ``log 2`` as ``ops.log(2.0)``, a float32 tensor, and casts it: in float64
#: the constant is ``float32(log 2)``, 1.9e-9 above ``log 2``, so Keras' ``log_cosh(0)`` is
#: ``-1.9e-9`` there, not 0. minired uses the same constant to match it.
LOG_2 = float(np.float32(np.log(2.0)))


class LogCosh(Loss):
    """Mean of ``log(cosh(ŷ - y))`` over the last axis.

    ``log cosh(x)`` is about ``x²/2`` for small ``x`` and ``|x| - log 2`` for large ``x``.
    ``cosh`` itself overflows beyond ``|x| ≈ 710``, so Keras writes it with a softplus,
    ``log cosh(x) = x + log(1 + e^{-2x}) - log 2``, exact at any ``x``::

        x_d = ŷ_d - y_d,      ℓ = (1/D) Σ_d [x_d + softplus(-2 x_d) - log 2]

    Backward: ``∂ℓ/∂ŷ_d = tanh(x_d) / D`` (``= (1 - 2 σ(-2x_d)) / D``, the derivative of
    the form above).

    Keras: ``losses/losses.py::log_cosh``. Names: ``"log_cosh"``, ``"LogCosh"``, and
    Keras 2's ``"logcosh"`` (which Keras 3's ``losses.get`` no longer knows).

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(LogCosh()([[0.0, 0.0]], [[1.0, -1.0]]), 6)
        0.433781
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        x = y_pred - y_true
        softplus = np.logaddexp(0, -2 * x)                    # log(1 + e^{-2x}), no overflow
        return np.mean(x + softplus - y_pred.dtype.type(LOG_2), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        return np.tanh(y_pred - y_true) / y_pred.shape[-1]


def log_cosh(y_true, y_pred) -> np.ndarray:
    """Per-sample log-cosh loss, ``mean(log(cosh(y_pred - y_true)), axis=-1)``."""
    return LogCosh().call(y_true, y_pred)

