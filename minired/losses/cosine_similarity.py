"""Cosine similarity, negated: a loss that only cares about the direction of the prediction."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss, check_same_shape


class CosineSimilarity(Loss):
    """Minus the cosine of the angle between ``y`` and ``ŷ`` along ``axis``.

    The loss lies in ``[-1, 1]``: ``-1`` when ``ŷ`` points the same way as ``y``, ``0``
    when they are orthogonal (or either is the zero vector), ``1`` when opposite.

    Forward, per vector, with Keras' L2 normalisation (``ops.nn.normalize``, which
    multiplies by a clipped ``rsqrt`` so that a zero vector stays zero instead of 0/0)::

        r(x) = min(1 / sqrt(Σ_d x_d²), 1/ε)          (x · r(x) = x / ‖x‖ unless ‖x‖ < ε)
        ȳ = y · r(y),    p = ŷ · r(ŷ),    ℓ = -Σ_d ȳ_d p_d

    Backward, where ``‖ŷ‖ ≥ ε`` (``r`` not clipped)::

        ∂ℓ/∂ŷ_d = -r(ŷ) (ȳ_d + ℓ p_d)        (the part of ȳ orthogonal to ŷ, over ‖ŷ‖)

    and ``∂ℓ/∂ŷ_d = -ȳ_d / ε`` where ``‖ŷ‖ < ε`` (``r`` is the constant ``1/ε`` there),
    an exactly zero ``ŷ`` included, as TensorFlow gives it.

    Keras: ``losses/losses.py::cosine_similarity``. Names: ``"cosine_similarity"``,
    ``"CosineSimilarity"``. As in Keras, ``get_config()`` does not record ``axis``.

    Args:
        axis: the axis along which the similarity is computed (the features axis).
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]), 4)
        -0.5
    """

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size",
                 name: str = "cosine_similarity", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = int(axis)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    @staticmethod
    def _inverse_norm(x) -> tuple[np.ndarray, np.ndarray]:
        """``(r(x), whether the clip at 1/ε is inactive)`` along the last axis."""
        with np.errstate(divide="ignore"):                       # 1/sqrt(0) = inf, clipped
            raw = 1 / np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True))
        cap = x.dtype.type(1 / config.epsilon())
        return np.minimum(raw, cap), raw <= cap

    def values(self, y_true, y_pred, from_logits=False):
        y_bar = y_true * self._inverse_norm(y_true)[0]
        p = y_pred * self._inverse_norm(y_pred)[0]
        return -np.sum(y_bar * p, axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        y_bar = y_true * self._inverse_norm(y_true)[0]
        r, unclipped = self._inverse_norm(y_pred)
        p = y_pred * r
        loss = -np.sum(y_bar * p, axis=-1, keepdims=True)
        return np.where(unclipped, -r * (y_bar + loss * p), -y_bar * r)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per-sample cosine similarity loss, ``-Σ l2_normalize(y) · l2_normalize(ŷ)``."""
    return CosineSimilarity(axis=axis).call(y_true, y_pred)
