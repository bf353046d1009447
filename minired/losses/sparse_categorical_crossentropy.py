"""Sparse categorical cross-entropy: integer class labels against class probabilities."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.activations import log_softmax, softmax
from minired.losses.categorical_crossentropy import log_softmax_and_softmax
from minired.losses.loss import Loss, squeeze_or_expand_to_same_rank


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

    **Ignored labels** (``ignore_class=k``, e.g. the "void" 255 of segmentation maps): a
    label ``k`` gets ``ℓ = 0`` and ``∂ℓ/∂ŷ = 0``, and, as in Keras, is left out of the
    mean: with ``"sum_over_batch_size"``, ``L = Σ_valid w ℓ / (number of valid labels)``
    (Keras' mask on the loss values, :func:`~minired.losses.loss.apply_mask`). Keras first
    multiplies ``y_pred`` by the labels' mask, so a softmax output loses its logits: the
    loss then reads the probabilities ``p`` (clipped), not ``z``, and so does minired.

    Args:
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label that gets no loss and no gradient, or None.
        reduction: see :class:`~minired.losses.Loss`.
        axis: the axis of the classes: only the last one (Keras on TensorFlow refuses
            any other).
        name: loss name.
        dtype: the dtype the loss computes in (None: ``mr.config.floatx()``, the only one
            minired accepts).

    Example:
        >>> round(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]]), 4)
        0.6931
        >>> round(SparseCategoricalCrossentropy(ignore_class=255)([1, 255], [[0.5, 0.5]] * 2), 4)
        0.6931
    """

    uses_output_logits = True

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction="sum_over_batch_size", axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class
        # Keras keeps `axis` among the function's arguments, not in the config; the base
        # class's `axis` (-1) stays: the labels have no class axis to move.
        self._class_axis = axis
        # Keras multiplies y_pred by the labels' mask first: the product has no logits.
        self.uses_output_logits = ignore_class is None

    def _labels(self, y_true, y_pred: np.ndarray) -> np.ndarray:
        """The labels, with Keras' ``(N, 1)`` -> ``(N,)`` squeeze."""
        labels = np.asarray(y_true)
        if labels.ndim == y_pred.ndim and labels.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]                              # (N, 1) -> (N,)
        return labels

    def _valid(self, labels: np.ndarray) -> np.ndarray | None:
        """True for the labels that count (not ``ignore_class``), or None without one."""
        if self.ignore_class is None:
            return None
        return labels != self.ignore_class

    def prepare(self, y_true, y_pred):
        y_pred = np.asarray(y_pred, dtype=config.floatx())
        axis = self._class_axis
        if axis != -1 and axis != y_pred.ndim - 1:
            raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
        labels = self._labels(y_true, y_pred)
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
        valid = self._valid(labels)
        counted = labels if valid is None else labels[valid]
        if counted.size and (counted.min() < 0 or counted.max() >= n_classes):
            ignored = "" if valid is None else f" (or the ignored {self.ignore_class})"
            raise ValueError(
                f"{self.name}: labels in `y_true` must lie in [0, {n_classes}){ignored} for "
                f"{n_classes} outputs, got values in [{counted.min()}, {counted.max()}]."
            )
        return labels.astype(np.int64, copy=False), y_pred

    def _split(self, y_true) -> tuple[tuple, np.ndarray | None]:
        """``(true_class, valid)``: the index of every label's own class in ``y_pred``
        (an ignored label points at class 0, as Keras' ``where(valid, y, 0)``) and the
        valid labels' mask (None without ``ignore_class``)."""
        valid = self._valid(y_true)
        labels = y_true if valid is None else np.where(valid, y_true, 0)
        return _true_class(labels), valid

    @staticmethod
    def _zero_ignored(valid, values: np.ndarray, grad: np.ndarray | None = None):
        """``ℓ`` and ``∂ℓ/∂ŷ`` set to 0 at the ignored labels (all of ``ŷ``'s vector)."""
        if valid is None:
            return values if grad is None else (values, grad)
        values = np.where(valid, values, values.dtype.type(0))
        if grad is None:
            return values
        return values, np.where(valid[..., None], grad, grad.dtype.type(0))

    def values(self, y_true, y_pred, from_logits=False):
        true_class, valid = self._split(y_true)           # p[true_class]: p_c of every label
        if from_logits:
            return self._zero_ignored(valid, -log_softmax(y_pred)[true_class])
        eps = y_pred.dtype.type(config.epsilon())
        p = np.clip(y_pred, eps, 1 - eps)
        return self._zero_ignored(valid, np.log(np.sum(p, axis=-1)) - np.log(p[true_class]))

    def gradients(self, y_true, y_pred, from_logits=False):
        true_class, valid = self._split(y_true)
        if from_logits:
            grad = softmax(y_pred)
            grad[true_class] -= 1                                   # p - one_hot(c)
        else:
            eps = y_pred.dtype.type(config.epsilon())
            p = np.clip(y_pred, eps, 1 - eps)
            inside = (y_pred >= eps) & (y_pred <= 1 - eps)           # clip passes the gradient
            grad = np.broadcast_to(1 / np.sum(p, axis=-1, keepdims=True), p.shape).copy()
            grad[true_class] -= 1 / p[true_class]
            grad = grad * inside
        return grad if valid is None else np.where(valid[..., None], grad, grad.dtype.type(0))

    def values_and_gradients(self, y_true, y_pred, from_logits=False):
        if not from_logits:
            return super().values_and_gradients(y_true, y_pred, from_logits)
        true_class, valid = self._split(y_true)
        log_p, p = log_softmax_and_softmax(y_pred)       # one e^{z - max z} for both
        p[true_class] -= 1                                          # p - one_hot(c)
        return self._zero_ignored(valid, -log_p[true_class], p)

    def compute(self, y_true, y_pred, sample_weight=None, from_logits=None,
                gradient=True, mask=None):
        """:meth:`Loss.compute`, the ignored labels joining the mask (Keras puts their mask
        on the loss values, and ``Loss.__call__`` ands it with the predictions' mask)."""
        if self.ignore_class is not None:
            valid = self._valid(self._labels(y_true, np.asarray(y_pred)))
            if mask is not None:
                mask, valid = squeeze_or_expand_to_same_rank(np.asarray(mask, dtype=bool),
                                                             valid)
                valid = mask & valid
            mask = valid
        return super().compute(y_true, y_pred, sample_weight, from_logits, gradient, mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


def _true_class(labels: np.ndarray) -> tuple:
    """The index of every label's own class in ``y_pred``: ``y_pred[_true_class(c)]`` has
    the shape of ``c``.

    For labels ``c`` of shape ``(N,)`` it is ``(arange(N), c)``, so ``p[_true_class(c)]`` is
    ``p[arange(N), c]``: row ``n``, column ``c_n``. For ``(N, T)`` labels it adds the time
    step: ``p[n, t, c_nt]``.
    """
    return (*np.indices(labels.shape, sparse=True), labels)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False,
                                    ignore_class: int | None = None,
                                    axis: int = -1) -> np.ndarray:
    """Per-sample sparse categorical cross-entropy (see
    :class:`SparseCategoricalCrossentropy`); an ``ignore_class`` label gets the loss 0."""
    return SparseCategoricalCrossentropy(from_logits, ignore_class,
                                         axis=axis).call(y_true, y_pred)
