"""Squared hinge loss: the hinge loss squared, smooth at the margin."""

from __future__ import annotations

import numpy as np

from minired.losses.hinge import convert_binary_labels_to_hinge
from minired.losses.loss import Loss, check_same_shape


class SquaredHinge(Loss):
    """Mean of ``max(1 - y ŷ, 0)²`` over the last axis, with labels ``y`` in ``{-1, 1}``.

    Labels given as ``{0, 1}`` are converted to ``{-1, 1}`` first, as for
    :class:`~minired.losses.Hinge`::

        m_d = 1 - y_d ŷ_d,      ℓ = (1/D) Σ_d max(m_d, 0)²

    Backward: ``∂ℓ/∂ŷ_d = -2 y_d max(m_d, 0) / D``, continuous (0 at the margin).

    Keras: ``losses/losses.py::squared_hinge``. Names: ``"squared_hinge"``,
    ``"SquaredHinge"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(SquaredHinge()([[0.0, 1.0]], [[0.3, 0.4]]), 4)
        1.025
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "squared_hinge",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return convert_binary_labels_to_hinge(y_true), y_pred

    def values(self, y_true, y_pred, from_logits=False):
        return np.mean(np.square(np.maximum(1 - y_true * y_pred, 0)), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        return -2 * y_true * np.maximum(1 - y_true * y_pred, 0) / y_pred.shape[-1]


def squared_hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample squared hinge loss, ``mean(max(1 - y_true · y_pred, 0)², axis=-1)``."""
    return SquaredHinge().call(y_true, y_pred)
