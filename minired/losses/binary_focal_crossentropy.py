"""Binary focal cross-entropy: binary cross-entropy that down-weights the easy examples."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.activations import sigmoid
from minired.losses.loss import Loss, check_label_smoothing, check_same_shape


class BinaryFocalCrossentropy(Loss):
    """Binary cross-entropy scaled by a focal factor ``(1 - p_t)^γ`` (Lin et al., 2018).

    With ``p`` the predicted probability of class 1 and ``y`` the (smoothed) target, per
    element::

        p_t = y p + (1 - y)(1 - p)           (the probability given to the right answer)
        f = (1 - p_t)^γ                      (≈ 0 for an easy example, ≈ 1 for a hard one)
        a = y α + (1 - y)(1 - α)             (only with apply_class_balancing, else a = 1)
        ℓ = mean over the last axis of  a · f · bce

    ``γ = 0`` and no balancing give :class:`~minired.losses.BinaryCrossentropy`. ``bce`` is
    computed as in that loss: **from logits** ``z`` (``from_logits=True``, or after a sigmoid
    output layer, whose logits Keras on TensorFlow reads), ``p = σ(z)`` and
    ``bce = max(z, 0) - z y + log(1 + e^{-|z|})``; **from probabilities**,
    ``bce = -[y log p̃ + (1 - y) log(1 - p̃)]`` with ``p̃ = clip(p, ε, 1 - ε)`` (while ``f``
    uses the unclipped ``p``).

    Backward, per element (``D`` outputs; ``1 - p_t`` has slope ``1 - 2y`` in ``p``)::

        ∂f/∂p = γ (1 - p_t)^{γ-1} (1 - 2y)
        from logits:         ∂ℓ/∂z = a [∂f/∂p · p(1 - p) · bce + f (p - y)] / D
        from probabilities:  ∂ℓ/∂p = a [∂f/∂p · bce - f (y/p̃ - (1-y)/(1-p̃)) · 1[ε ≤ p ≤ 1-ε]] / D

    Keras: ``losses/losses.py::binary_focal_crossentropy``. Names:
    ``"binary_focal_crossentropy"``, ``"BinaryFocalCrossentropy"``.

    Args:
        apply_class_balancing: whether to weigh class 1 by ``alpha`` and class 0 by
            ``1 - alpha``.
        alpha: the weight of class 1 when balancing.
        gamma: the focusing parameter ``γ ≥ 0``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``y ← y (1 - s) + s / 2``.
        axis: the axis the mean is taken over.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(BinaryFocalCrossentropy(gamma=2.0)([[1.0]], [[0.5]]), 4)
        0.1733
    """

    uses_output_logits = True

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction="sum_over_batch_size",
                 name: str = "binary_focal_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_label_smoothing(name, label_smoothing)
        self.axis = int(axis)

    def prepare(self, y_true, y_pred):
        y_true, y_pred = super().prepare(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def _terms(self, y_true, y_pred, from_logits):
        """``(y, p, bce, 1 - p_t, a)``: the smoothed targets and the pieces of ``ℓ``."""
        s = self.label_smoothing
        y = y_true * (1 - s) + 0.5 * s if s else y_true
        if from_logits:
            z = y_pred
            p = sigmoid(z)
            bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        else:
            p = y_pred
            eps = y_pred.dtype.type(config.epsilon())
            clipped = np.clip(p, eps, 1 - eps)
            bce = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
        one_minus_p_t = 1 - (y * p + (1 - y) * (1 - p))
        if self.apply_class_balancing:
            alpha = y_pred.dtype.type(self.alpha)
            a = y * alpha + (1 - y) * (1 - alpha)
        else:
            a = y_pred.dtype.type(1)
        return y, p, bce, one_minus_p_t, a

    def values(self, y_true, y_pred, from_logits=False):
        _, _, bce, one_minus_p_t, a = self._terms(y_true, y_pred, from_logits)
        return np.mean(a * (one_minus_p_t ** self.gamma * bce), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        y, p, bce, one_minus_p_t, a = self._terms(y_true, y_pred, from_logits)
        gamma = y_pred.dtype.type(self.gamma)
        focal = one_minus_p_t ** gamma
        with np.errstate(divide="ignore", invalid="ignore"):     # 0^(γ-1) for γ < 1
            d_focal = gamma * one_minus_p_t ** (gamma - 1) * (1 - 2 * y)
        if from_logits:
            grad = d_focal * p * (1 - p) * bce + focal * (p - y)
        else:
            eps = y_pred.dtype.type(config.epsilon())
            clipped = np.clip(p, eps, 1 - eps)
            inside = (p >= eps) & (p <= 1 - eps)                 # clip passes the gradient
            d_bce = -(y / clipped - (1 - y) / (1 - clipped)) * inside
            grad = d_focal * bce + focal * d_bce
        return a * grad / y_pred.shape[-1]

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing, "alpha": self.alpha,
                "gamma": self.gamma}


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0,
                              from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1) -> np.ndarray:
    """Per-sample binary focal cross-entropy (see :class:`BinaryFocalCrossentropy`)."""
    return BinaryFocalCrossentropy(apply_class_balancing, alpha, gamma, from_logits,
                                   label_smoothing, axis).call(y_true, y_pred)
