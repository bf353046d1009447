"""Huber loss: squared error for small errors, absolute error for large ones."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape


class Huber(Loss):
    """Quadratic within ``delta`` of the target, linear beyond, averaged over the last axis.

    Forward, per sample with ``D`` outputs and errors ``e_d = ŷ_d - y_d``::

        h(e) = ½ e²                 if |e| ≤ δ
               δ |e| - ½ δ²         otherwise          ℓ = (1/D) Σ_d h(e_d)

    Backward: ``∂ℓ/∂ŷ_d = e_d / D`` if ``|e_d| ≤ δ``, else ``δ sign(e_d) / D``: the error
    itself, clipped to ``[-δ, δ]``. Both pieces meet with the same value and slope at
    ``|e| = δ``, so an outlier pulls with a force of at most ``δ``.

    Keras: ``losses/losses.py::huber``. Names: ``"huber"``, ``"Huber"`` (the object's
    name is ``"huber_loss"``). As in Keras, ``get_config()`` does not record ``delta``.

    Args:
        delta: where the loss changes from quadratic to linear.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> Huber()([[0.0, 0.0]], [[0.5, 3.0]])
        1.3125
    """

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size",
                 name: str = "huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = float(delta)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        delta = y_pred.dtype.type(self.delta)
        error = y_pred - y_true
        quadratic = 0.5 * np.square(error)
        linear = delta * np.abs(error) - 0.5 * np.square(delta)
        return np.mean(np.where(np.abs(error) <= delta, quadratic, linear), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        delta = y_pred.dtype.type(self.delta)
        error = y_pred - y_true
        slope = np.where(np.abs(error) <= delta, error, delta * np.sign(error))
        return slope / y_pred.shape[-1]


def huber(y_true, y_pred, delta: float = 1.0) -> np.ndarray:
    """Per-sample Huber loss (see :class:`Huber`)."""
    return Huber(delta=delta).call(y_true, y_pred)
