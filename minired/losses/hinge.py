"""Hinge loss: the margin loss of support vector machines, for labels -1 and 1."""

from __future__ import annotations

import numpy as np

from minired.losses.loss import Loss, check_same_shape


def convert_binary_labels_to_hinge(y_true: np.ndarray) -> np.ndarray:
    """Labels ``{0, 1}`` become ``{-1, 1}`` (``2y - 1``); any other labels are kept.

    As Keras (``losses/losses.py::convert_binary_labels_to_hinge``), the test is made on
    the whole array at once: only if *every* label is 0 or 1 are they converted. In ``fit``
    that is each batch.

    Example:
        >>> convert_binary_labels_to_hinge(np.array([0.0, 1.0]))
        array([-1.,  1.])
    """
    if np.all((y_true == 0) | (y_true == 1)):
        return 2 * y_true - 1
    return y_true


class Hinge(Loss):
    """Mean of ``max(1 - y ŷ, 0)`` over the last axis, with labels ``y`` in ``{-1, 1}``.

    Labels given as ``{0, 1}`` are converted to ``{-1, 1}`` first
    (:func:`convert_binary_labels_to_hinge`). A prediction on the right side of the margin
    (``y ŷ ≥ 1``) costs nothing; inside it or on the wrong side it costs linearly::

        m_d = 1 - y_d ŷ_d,      ℓ = (1/D) Σ_d max(m_d, 0)

    Backward: ``∂ℓ/∂ŷ_d = -y_d / D`` where ``m_d ≥ 0``, else 0. At the kink ``m_d = 0``
    TensorFlow's ``maximum`` passes the gradient to its first argument, so minired takes
    ``-y_d / D`` there too.

    Keras: ``losses/losses.py::hinge``. Names: ``"hinge"``, ``"Hinge"``.

    Args:
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(Hinge()([[0.0, 1.0]], [[0.3, 0.4]]), 4)
        0.95
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return convert_binary_labels_to_hinge(y_true), y_pred

    def values(self, y_true, y_pred, from_logits=False):
        return np.mean(np.maximum(1 - y_true * y_pred, 0), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        active = 1 - y_true * y_pred >= 0
        return -y_true * active / y_pred.shape[-1]


def hinge(y_true, y_pred) -> np.ndarray:
    """Per-sample hinge loss, ``mean(max(1 - y_true · y_pred, 0), axis=-1)``."""
    return Hinge().call(y_true, y_pred)
