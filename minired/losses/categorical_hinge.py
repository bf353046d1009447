"""Categorical hinge loss: the multi-class margin between the true class and the best other."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape


class CategoricalHinge(Loss):
    """``max(neg - pos + 1, 0)`` for one-hot targets ``y``: the true class's score ``pos``
    must beat the best wrong score ``neg`` by a margin of 1.

    Forward, per sample (no mean: one value per vector of classes)::

        pos = Σ_c y_c ŷ_c,     neg = max_c (1 - y_c) ŷ_c,     ℓ = max(neg - pos + 1, 0)

    Backward, where ``neg - pos + 1 ≥ 0`` (else 0)::

        ∂ℓ/∂ŷ_c = (1 - y_c) · [c attains neg] / k - y_c

    where ``k`` is the number of classes that attain the maximum (TensorFlow shares the
    gradient of a ``max`` equally among ties); at ``neg - pos + 1 = 0`` TensorFlow's
    ``maximum`` passes the gradient on, and so does minired.

    Keras: ``losses/losses.py::categorical_hinge``. Names: ``"categorical_hinge"``,
    ``"CategoricalHinge"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(CategoricalHinge()([[0.0, 1.0, 0.0]], [[0.6, 0.3, 0.1]]), 4)
        1.3
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "categorical_hinge",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        pos = np.sum(y_true * y_pred, axis=-1)
        neg = np.max((1 - y_true) * y_pred, axis=-1)
        return np.maximum(neg - pos + 1, 0)

    def gradients(self, y_true, y_pred, from_logits=False):
        others = (1 - y_true) * y_pred
        neg = np.max(others, axis=-1, keepdims=True)
        pos = np.sum(y_true * y_pred, axis=-1, keepdims=True)
        attains = (others == neg).astype(y_pred.dtype)   # the classes where the max is
        d_neg = (1 - y_true) * attains / np.sum(attains, axis=-1, keepdims=True)
        return (d_neg - y_true) * (neg - pos + 1 >= 0)


def categorical_hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample categorical hinge loss, ``max(max((1 - y) ŷ) - Σ y ŷ + 1, 0)``."""
    return CategoricalHinge().call(y_true, y_pred)
