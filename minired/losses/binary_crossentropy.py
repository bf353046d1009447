"""Binary cross-entropy: targets in [0, 1] against independent probabilities."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.activations import sigmoid
from minired.losses.loss import Loss, check_label_smoothing, check_same_shape


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, averaged over the last axis.

    **From logits** ``z`` (``from_logits=True``, or after a sigmoid/softmax output layer,
    as Keras on TensorFlow does), per element::

        ℓ = max(z, 0) - z y + log(1 + e^{-|z|})       (= -[y log σ(z) + (1-y) log(1-σ(z))])
        ∂ℓ/∂z = σ(z) - y

    **From probabilities** ``p``::

        p̃ = clip(p, ε, 1 - ε),     ℓ = -[y log p̃ + (1 - y) log(1 - p̃)]

    Each sample's loss is the mean over its ``D`` outputs (the last axis, or ``axis``), so
    gradients carry ``1/D``; predictions of shape ``(N, T, D)`` give losses of shape
    ``(N, T)``.

    Args:
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``y ← y (1 - s) + s / 2``.
        axis: the axis the mean is taken over.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.
        dtype: the dtype the loss computes in (None: ``mr.config.floatx()``, the only one
            minired accepts).

    Example:
        >>> round(BinaryCrossentropy()([[1.0]], [[0.5]]), 4)
        0.6931
    """

    uses_output_logits = True

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction="sum_over_batch_size",
                 name: str = "binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_label_smoothing(name, label_smoothing)
        self.axis = axis

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        if y_true.size and (np.min(y_true) < 0 or np.max(y_true) > 1):
            raise ValueError(
                f"{self.name}: targets in `y_true` must lie in [0, 1], got values in "
                f"[{np.min(y_true)}, {np.max(y_true)}]."
            )
        return y_true, y_pred

    def _targets(self, y_true):
        s = self.label_smoothing
        return y_true * (1 - s) + 0.5 * s if s else y_true

    def values(self, y_true, y_pred, from_logits=False):
        y = self._targets(y_true)
        if from_logits:
            z = y_pred
            elementwise = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        else:
            eps = y_pred.dtype.type(config.epsilon())
            p = np.clip(y_pred, eps, 1 - eps)
            elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.mean(elementwise, axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        y = self._targets(y_true)
        n_outputs = y_pred.shape[-1]
        if from_logits:
            return (sigmoid(y_pred) - y) / n_outputs
        eps = y_pred.dtype.type(config.epsilon())
        p = np.clip(y_pred, eps, 1 - eps)
        inside = (y_pred >= eps) & (y_pred <= 1 - eps)               # clip passes the gradient
        # ∂ℓ/∂p̃ = -(1/D) [y · (1/p̃) - (1 - y) · (1/(1 - p̃))], the chain rule's factors in
        # TensorFlow's order (the mean's -1/D first; see keras_numerics, item 9)
        g = -(y_pred.dtype.type(1) / y_pred.dtype.type(n_outputs))
        return ((g * y) * (1 / p) - (g * (1 - y)) * (1 / (1 - p))) * inside

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


def binary_crossentropy(y_true, y_pred, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> np.ndarray:
    """Per-sample binary cross-entropy (see :class:`BinaryCrossentropy`), the mean taken
    over ``axis``."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)
