"""Sparse categorical cross-entropy: integer class labels against class probabilities."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.activations import log_softmax, softmax
from minired.losses.categorical_crossentropy import log_softmax_and_softmax
from minired.losses.loss import Loss


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy ``ℓ = -log p_c`` where ``c`` is the integer label of the sample.

    The same loss as :class:`CategoricalCrossentropy` with ``y = one_hot(c)``, without
    building the one-hot matrix.

    **From logits** ``z``::

        ℓ = -log softmax(z)_c,      ∂ℓ/∂z = softmax(z) - one_hot(c)

    **From probabilities** ``p`` (Keras clips, takes the log and hands that to the logits
    kernel, which renormalises)::

        p̃ = clip(p, ε, 1 - ε),      ℓ = log Σ_j p̃_j - log p̃_c
        ∂ℓ/∂p_j = (1 / Σ_k p̃_k - one_hot(c)_j / p̃_c) · 1[ε ≤ p_j ≤ 1 - ε]

    The labels have the shape of ``y_pred`` without its last axis: ``(N,)`` for ``(N, C)``
    probabilities, ``(N, T)`` for a sequence's ``(N, T, C)``, and one loss per label.

    Args:
        from_logits: whether ``y_pred`` holds logits.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> round(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]]), 4)
        0.6931
    """

    uses_output_logits = True

    def __init__(self, from_logits: bool = False, reduction="sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy"):
        super().__init__(name=name, reduction=reduction)
        self.from_logits = bool(from_logits)

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]                              # (N, 1) -> (N,)
        if labels.ndim != y_pred.ndim - 1 or labels.shape != y_pred.shape[:-1]:
            looks_one_hot = labels.shape == y_pred.shape
            hint = (" These look one-hot: use 'categorical_crossentropy' for one-hot labels."
                    if looks_one_hot else "")
            raise ValueError(
                f"{self.name}: `y_true` must hold integer labels of shape {y_pred.shape[:-1]}, "
                f"got shape {labels.shape}.{hint}"
            )
        whole = labels.dtype.kind in "iub"                       # integers: nothing to check
        if labels.size and not whole and not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"{self.name}: `y_true` must hold integer class labels, got "
                             f"non-integer values such as {labels[np.mod(labels, 1) != 0][0]}.")
        n_classes = y_pred.shape[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"{self.name}: labels in `y_true` must lie in [0, {n_classes}) for "
                f"{n_classes} outputs, got values in [{labels.min()}, {labels.max()}]."
            )
        return labels.astype(np.int64, copy=False), y_pred

    def values(self, y_true, y_pred, from_logits=False):
        true_class = _true_class(y_true)                  # p[true_class]: p_c of every label
        if from_logits:
            return -log_softmax(y_pred)[true_class]
        eps = y_pred.dtype.type(config.epsilon())
        p = np.clip(y_pred, eps, 1 - eps)
        return np.log(np.sum(p, axis=-1)) - np.log(p[true_class])

    def gradients(self, y_true, y_pred, from_logits=False):
        true_class = _true_class(y_true)
        if from_logits:
            grad = softmax(y_pred)
            grad[true_class] -= 1                                   # p - one_hot(c)
            return grad
        eps = y_pred.dtype.type(config.epsilon())
        p = np.clip(y_pred, eps, 1 - eps)
        inside = (y_pred >= eps) & (y_pred <= 1 - eps)               # clip passes the gradient
        grad = np.broadcast_to(1 / np.sum(p, axis=-1, keepdims=True), p.shape).copy()
        grad[true_class] -= 1 / p[true_class]
        return grad * inside

    def values_and_gradients(self, y_true, y_pred, from_logits=False):
        if not from_logits:
            return super().values_and_gradients(y_true, y_pred, from_logits)
        true_class = _true_class(y_true)
        log_p, p = log_softmax_and_softmax(y_pred)       # one e^{z - max z} for both
        p[true_class] -= 1                                          # p - one_hot(c)
        return -log_p[true_class], p

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}


def _true_class(labels: np.ndarray) -> tuple:
    """The index of every label's own class in ``y_pred``: ``y_pred[_true_class(c)]`` has
    the shape of ``c``.

    For labels ``c`` of shape ``(N,)`` it is ``(arange(N), c)``, so ``p[_true_class(c)]`` is
    ``p[arange(N), c]``: row ``n``, column ``c_n``. For ``(N, T)`` labels it adds the time
    step: ``p[n, t, c_nt]``.
    """
    return (*np.indices(labels.shape, sparse=True), labels)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> np.ndarray:
    """Per-sample sparse categorical cross-entropy."""
    return SparseCategoricalCrossentropy(from_logits).call(y_true, y_pred)
