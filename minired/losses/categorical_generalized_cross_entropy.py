"""Generalized cross-entropy: a noise-robust loss between cross-entropy and MAE."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import Loss


class CategoricalGeneralizedCrossEntropy(Loss):
    """``ℓ = (1 - p_c^q) / q``, with ``p_c`` the probability given to the true class ``c``.

    From Zhang and Sabuncu (2018). As ``q → 0`` it tends to the cross-entropy ``-log p_c``;
    at ``q = 1`` it is ``1 - p_c``, the MAE of a probability vector up to a factor: labels
    that are wrong weigh less than under the cross-entropy. The labels are integers, as for
    :class:`~minired.losses.SparseCategoricalCrossentropy`; there is no clipping and no
    ``from_logits`` (the predictions must be probabilities). Labels of shape ``(N, 1)`` are
    read as ``(N,)``, as the Keras docstring promises (Keras 3.15's code broadcasts them
    into an ``(N, N)`` loss), and labels outside ``[0, C)`` are refused (Keras' one-hot
    would silently give them ``p_c = 0``).

    Backward::

        ∂ℓ/∂p_c = -p_c^{q-1},    ∂ℓ/∂p_j = 0 for j ≠ c

    Keras: ``losses/losses.py::categorical_generalized_cross_entropy``. Names:
    ``"categorical_generalized_cross_entropy"``, ``"CategoricalGeneralizedCrossEntropy"``.

    Args:
        q: the noise parameter, in ``(0, 1)``.
        reduction: see :class:`~minired.losses.Loss`.
        name: loss name.

    Example:
        >>> loss = CategoricalGeneralizedCrossEntropy(reduction="none")
        >>> loss([0, 1], [[0.25, 0.75], [0.36, 0.64]]).round(4)
        array([1. , 0.4], dtype=float32)
    """

    def __init__(self, q: float = 0.5, reduction="sum_over_batch_size",
                 name: str = "categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"{name}: `q` must be in the interval (0, 1), got {q!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.q = float(q)

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        labels = np.asarray(y_true)
        if y_pred.ndim and labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]                              # (N, 1) -> (N,)
        if y_pred.ndim == 0 or labels.shape != y_pred.shape[:-1]:
            raise ValueError(
                f"{self.name}: `y_true` must hold integer labels of shape {y_pred.shape[:-1]} "
                f"(or with a trailing axis of size 1) for predictions of shape "
                f"{y_pred.shape}, got shape {labels.shape}.")
        labels = labels.astype(np.int64)                         # Keras casts (truncates)
        if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
            raise ValueError(f"{self.name}: labels must lie in [0, {y_pred.shape[-1] - 1}], "
                             f"got values from {labels.min()} to {labels.max()}.")
        return labels, y_pred

    @staticmethod
    def _true_class_probability(labels, y_pred):
        return np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]

    def values(self, y_true, y_pred, from_logits=False):
        q = y_pred.dtype.type(self.q)
        return (1 - self._true_class_probability(y_true, y_pred) ** q) / q

    def gradients(self, y_true, y_pred, from_logits=False):
        q = y_pred.dtype.type(self.q)
        p = self._true_class_probability(y_true, y_pred)
        grad = np.zeros_like(y_pred)
        with np.errstate(divide="ignore"):                       # p = 0: -inf, as TensorFlow
            np.put_along_axis(grad, y_true[..., None], (-(p ** (q - 1)))[..., None], axis=-1)
        return grad

    def get_config(self) -> dict:
        return {**super().get_config(), "q": self.q}


def categorical_generalized_cross_entropy(y_true, y_pred, q: float) -> np.ndarray:
    """Per-sample generalized cross-entropy (see :class:`CategoricalGeneralizedCrossEntropy`).

    Example:
        >>> categorical_generalized_cross_entropy([1], [[0.0, 1.0]], q=0.5)
        array([0.], dtype=float32)
    """
    return CategoricalGeneralizedCrossEntropy(q).call(y_true, y_pred)
