"""Categorical cross-entropy: one-hot (or soft) targets against class probabilities."""

from __future__ import annotations

import warnings

import numpy as np

from minired import config, keras_numerics
from minired.activations import log_softmax, softmax
from minired.losses.loss import Loss, check_label_smoothing, check_same_shape


class CategoricalCrossentropy(Loss):
    """Cross-entropy ``ℓ = -Σ_c y_c log p_c`` for one-hot targets ``y``.

    **From logits** ``z`` (``from_logits=True``, or when the model's output layer is a
    softmax/sigmoid: Keras on TensorFlow then reads the logits hidden behind the
    probabilities, and so does minired)::

        ℓ = -Σ_c y_c log softmax(z)_c          (log_softmax: no log(0) is ever taken)
        ∂ℓ/∂z = softmax(z) Σ_c y_c - y         (= p - y for one-hot y)

    **From probabilities** ``p`` (a bare array, e.g. ``loss(y, probs)``), Keras first
    renormalises and clips::

        q = p / Σ_c p_c,    q̃ = clip(q, ε, 1 - ε),    ℓ = -Σ_c y_c log q̃_c

    so one sample can never cost more than ``-log ε ≈ 16.1``. Its gradient is zero where
    the clip is active: a saturated wrong prediction stops learning. That is why the logits
    path is the one training uses.

    The classes are the last axis (``axis=-1``): predictions of shape ``(N, T, C)`` (a
    class per time step) give losses of shape ``(N, T)``. ``axis=1`` reads channels-first
    predictions ``(N, C, H, W)`` and gives losses ``(N, H, W)``: the sums above and the
    softmax run along that axis instead.

    Args:
        from_logits: whether ``y_pred`` holds logits instead of probabilities.
        label_smoothing: ``y ← y (1 - s) + s / C``. As in Keras, ``C`` is the size of the
            *last* axis even when ``axis`` names another one.
        axis: the axis of the classes.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.
        dtype: the dtype the loss computes in (None: ``mr.config.floatx()``, the only one
            minired accepts).

    Example:
        >>> round(CategoricalCrossentropy()([[0, 1]], [[0.5, 0.5]]), 4)
        0.6931
    """

    uses_output_logits = True

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction="sum_over_batch_size",
                 name: str = "categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_label_smoothing(name, label_smoothing)
        self.axis = axis

    def _targets(self, y_true, y_pred):
        if self.label_smoothing:
            s = self.label_smoothing
            y_true = y_true * (1 - s) + s / _last_axis_size(y_pred, self.axis)
        return y_true

    def prepare(self, y_true, y_pred):
        if isinstance(self.axis, bool) or not isinstance(self.axis, int | np.integer):
            raise ValueError("`axis` must be of type `int`. "
                             f"Received: axis={self.axis} of type {type(self.axis)}")
        y_true, y_pred = super().prepare(y_true, y_pred)
        if y_pred.shape[-1] == 1:
            # Softmax over one class is always 1 and the loss always 0: nothing is learnt.
            warnings.warn(
                "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, "
                f"num_classes) with num_classes > 1. Received: y_pred.shape={y_pred.shape}. "
                "Consider using 'binary_crossentropy' if you only have 2 classes.",
                SyntaxWarning, stacklevel=3)
        integer_labels = y_true.ndim == y_pred.ndim - 1 or (
            y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1 and y_pred.shape[-1] > 1
            and np.all(np.mod(y_true, 1) == 0))
        if y_true.shape != y_pred.shape and integer_labels:
            raise ValueError(
                f"{self.name}: `y_true` must be one-hot with shape {y_pred.shape}, got integer "
                f"labels of shape {y_true.shape}. Use 'sparse_categorical_crossentropy' for "
                "integer labels, or one-hot encode them with mr.utils.to_categorical."
            )
        check_same_shape(self.name, y_true, y_pred)
        return y_true, y_pred

    def values(self, y_true, y_pred, from_logits=False):
        y = self._targets(y_true, y_pred)
        if from_logits:
            return -np.sum(y * log_softmax(y_pred), axis=-1)
        eps = y_pred.dtype.type(config.epsilon())
        q = np.clip(y_pred / np.sum(y_pred, axis=-1, keepdims=True), eps, 1 - eps)
        return -np.sum(y * np.log(q), axis=-1)

    def gradients(self, y_true, y_pred, from_logits=False):
        y = self._targets(y_true, y_pred)
        if from_logits:
            return softmax(y_pred) * np.sum(y, axis=-1, keepdims=True) - y
        eps = y_pred.dtype.type(config.epsilon())
        classes_at = self.axis % y_pred.ndim       # the classes' axis in Keras' own tensor
        total = keras_numerics.tensorflow_sum(y_pred, classes_at)  # Σp, as TensorFlow adds
        q = y_pred / total
        inside = (q >= eps) & (q <= 1 - eps)                       # clip passes the gradient
        grad_q = -y * (1 / np.clip(q, eps, 1 - eps)) * inside      # -y · ∂log q̃/∂q̃
        # q = p / Σp:  ∂ℓ/∂p_k = (∂ℓ/∂q_k - Σ_j ∂ℓ/∂q_j q_j) / Σp, in TensorFlow's order
        return keras_numerics.quotient_gradient(grad_q, y_pred, total, classes_at)

    def values_and_gradients(self, y_true, y_pred, from_logits=False):
        if not from_logits:
            return super().values_and_gradients(y_true, y_pred, from_logits)
        y = self._targets(y_true, y_pred)
        log_p, p = log_softmax_and_softmax(y_pred)       # one e^{z - max z} for both
        return -np.sum(y * log_p, axis=-1), p * np.sum(y, axis=-1, keepdims=True) - y

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


def _last_axis_size(y_pred: np.ndarray, axis: int) -> int:
    """The size of the last axis of ``y_pred`` as the caller gave it, once ``axis`` was
    moved last (:meth:`Loss._prepare_along_axis`): Keras' ``num_classes`` of label smoothing,
    ``shape(y_true)[-1]``, read before any move (a moved axis shifts the old last one to -2)."""
    if y_pred.ndim < 2 or axis == -1 or axis % y_pred.ndim == y_pred.ndim - 1:
        return y_pred.shape[-1]
    return y_pred.shape[-2]


def log_softmax_and_softmax(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log_softmax(z), softmax(z))`` over the last axis, sharing one ``e^{z - max z}``.

    A training step needs both: the loss value reads the log-probabilities, its gradient
    ``p - y`` the probabilities. These are the operations of
    :func:`~minired.activations.log_softmax` and :func:`~minired.activations.softmax`, in
    the same order, so the numbers are theirs to the last bit; only the shared part (the
    shift, the exponentials and their sum) is computed once instead of twice.

    Example:
        >>> log_p, p = log_softmax_and_softmax(np.array([[0.0, 0.0]]))
        >>> np.exp(log_p), p
        (array([[0.5, 0.5]]), array([[0.5, 0.5]]))
    """
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=-1, keepdims=True)
    return shifted - np.log(total), e / total


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> np.ndarray:
    """Per-sample categorical cross-entropy (see :class:`CategoricalCrossentropy`), the
    classes along ``axis``."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(y_true, y_pred)
