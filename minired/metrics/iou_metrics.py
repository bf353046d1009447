"""Intersection over union (IoU): how well predicted classes overlap the true ones, per class.

The metrics here accumulate a weighted confusion matrix ``M`` (``M[i, j]``: the weight of
the elements of true class i predicted as class j) over every batch, then, for each class
``c``::

    TP_c = M[c, c],   FP_c = Σ_i M[i, c] - TP_c,   FN_c = Σ_j M[c, j] - TP_c
    IoU_c = TP_c / (TP_c + FP_c + FN_c + ε)

The result is the mean of ``IoU_c`` over the target classes that have been seen (a class
with ``TP + FP + FN = 0`` counts neither in the sum nor in the number of classes):
``Σ_c IoU_c / (#seen + ε)``, with ``ε = 1e-7``. It is the usual score of semantic
segmentation, where every pixel is one element.

As in Keras: the confusion matrix is kept in the metric's ``dtype``, which defaults to
**int64** (so float labels and weights are truncated toward 0: pass integer weights, or
``dtype="float32"``); labels or predictions outside ``[0, num_classes)`` are skipped
silently (so a "void" label such as 255 needs no ``ignore_class``); the result is a
float32 number whatever the dtype.
"""

from __future__ import annotations

import warnings

import numpy as np

from minired.metrics.metric import Metric, as_result

EPSILON = np.float32(1e-7)  # Keras' backend.epsilon(), added to float32 tensors


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int,
                     weights: np.ndarray, dtype) -> np.ndarray:
    """The ``(num_classes, num_classes)`` matrix ``M[i, j] = Σ w`` over the elements with
    label i and prediction j (both already in ``[0, num_classes)``).

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2,
        ...                  np.array([1, 1, 2]), "int64")
        array([[1, 0],
               [2, 1]])
    """
    matrix = np.zeros((num_classes, num_classes), dtype=dtype)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)),
              np.asarray(weights, dtype=dtype))
    return matrix


class _IoUBase(Metric):
    """The confusion matrix the IoU metrics share; see the module docstring."""

    _direction = "up"

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) \
                or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: `num_classes` must be an int >= 1, got "
                             f"{num_classes!r}.")
        super().__init__(dtype=dtype or "int", name=name)
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.reset_state()

    def reset_state(self) -> None:
        self.total_cm = self._zeros((self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch: ``y_true`` and ``y_pred`` hold class ids (or, when not sparse,
        scores whose ``argmax`` along ``axis`` is taken), of any shape with the same number
        of elements; ``sample_weight`` is one number or one weight per element."""
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        dtype = np.dtype(self.dtype)
        y_true = y_true.astype(dtype).reshape(-1)
        y_pred = y_pred.astype(dtype).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: `y_true` and `y_pred` must have the same "
                             f"number of elements (class ids), got {y_true.size} and "
                             f"{y_pred.size}.")
        if sample_weight is None:
            weights = np.ones_like(y_true)
        else:
            if np.asarray(sample_weight).dtype.kind == "f" and dtype.kind in "iu" and \
                    hasattr(sample_weight, "dtype"):
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This "
                              "may result in an incorrect weight due to type casting Consider "
                              "using integer weights.", stacklevel=2)
            weights = np.asarray(sample_weight).astype(dtype).reshape(-1)
            if weights.size not in (1, y_true.size):
                raise ValueError(f"{type(self).__name__}: `sample_weight` must be one number "
                                 f"or one weight per element ({y_true.size}), got "
                                 f"{np.shape(sample_weight)}.")
            weights = np.broadcast_to(weights, y_true.shape)
        n = dtype.type(self.num_classes)
        in_range = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            in_range &= y_true != dtype.type(self.ignore_class)
        self.total_cm = self.total_cm + confusion_matrix(
            y_true[in_range], y_pred[in_range], self.num_classes, weights[in_range], dtype)


class IoU(_IoUBase):
    """Intersection over union of the classes ``target_class_ids``, averaged over them.

    From the running confusion matrix (see the module docstring), for each class c::

        IoU_c = TP_c / (TP_c + FP_c + FN_c + ε)
        result = Σ_{c ∈ targets, seen} IoU_c / (#{c ∈ targets, seen} + ε)

    Args:
        num_classes: the number of classes (the confusion matrix is num_classes²).
        target_class_ids: the classes to average over (``[c]`` gives the IoU of class c).
        name: the name in the logs (default ``"io_u"``, numbered like Keras').
        dtype: the dtype of the confusion matrix; ``None`` is int64, as in Keras.
        ignore_class: a label whose elements are skipped (e.g. a "void" class), or None.
        sparse_y_true: labels are class ids; ``False``: scores, ``argmax`` on ``axis``.
        sparse_y_pred: predictions are class ids; ``False``: scores, ``argmax`` on ``axis``.
        axis: the axis of the classes when not sparse.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(m.result(), 6)   # class 0: TP 1, FP 1, FN 1
        0.333333
    """

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None,
                 sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)
        target_class_ids = list(target_class_ids)
        if not target_class_ids:
            raise ValueError(f"{type(self).__name__}: `target_class_ids` must list at least "
                             "one class id, got [].")
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        if min(target_class_ids) < 0:
            raise ValueError(f"{type(self).__name__}: `target_class_ids` must lie in "
                             f"[0, {num_classes}), got {min(target_class_ids)}.")
        self.target_class_ids = target_class_ids

    def result(self) -> float:
        total = self.total_cm
        dtype = np.dtype(self.dtype)
        sum_over_row = np.sum(total, axis=0).astype(dtype)
        sum_over_col = np.sum(total, axis=1).astype(dtype)
        true_positives = np.diag(total).astype(dtype)
        denominator = sum_over_row + sum_over_col - true_positives
        targets = np.asarray(self.target_class_ids)
        true_positives = true_positives[targets].astype(np.float32)
        denominator = denominator[targets].astype(np.float32)
        valid = denominator > np.float32(1e-9)
        num_valid = np.sum(valid.astype(np.float32))
        iou = np.where(valid, true_positives / (denominator + EPSILON), np.float32(0))
        return as_result(np.sum(iou) / (num_valid + EPSILON))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of a binary task: a score ``ŷ ≥ threshold`` is class 1, else class 0.

    Then as :class:`IoU` with ``num_classes=2``: the IoU of class 0 and/or class 1,
    averaged over ``target_class_ids``. The scores are compared in float32 (as Keras).

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both).
        threshold: scores at or above it are class 1.
        name: the name in the logs (default ``"binary_io_u"``).
        dtype: the dtype of the confusion matrix; ``None`` is int64.

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(m.result(), 6)   # class 0: 1/3, class 1: 1/3
        0.333333
    """

    def __init__(self, target_class_ids=(0, 1), threshold: float = 0.5,
                 name: str | None = None, dtype: str | None = None) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(y_true).astype(self.dtype)
        predicted = np.asarray(y_pred, dtype=np.float32) >= np.float32(self.threshold)
        super().update_state(y_true, predicted.astype(self.dtype), sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean of the IoUs of all ``num_classes`` classes (those seen).

    ``Σ_c IoU_c / (#seen + ε)`` over every class: see :class:`IoU`.

    Args:
        num_classes: the number of classes.
        name: the name in the logs (default ``"mean_io_u"``).
        dtype: the dtype of the confusion matrix; ``None`` is int64.
        ignore_class, sparse_y_true, sparse_y_pred, axis: as :class:`IoU`.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(m.result(), 6)
        0.333333
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(num_classes=num_classes,
                         target_class_ids=list(range(num_classes)) if isinstance(
                             num_classes, int | np.integer) else [0],
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels: the class of each label is its ``argmax`` on
    ``axis``, and so is each prediction's (unless ``sparse_y_pred``).

    Args:
        num_classes: the number of classes (the size of the one-hot axis).
        target_class_ids: the classes to average over.
        name: the name in the logs (default ``"one_hot_io_u"``).
        dtype: the dtype of the confusion matrix; ``None`` is int64.
        ignore_class: a class id to skip, or None.
        sparse_y_pred: predictions are class ids (default False: scores).
        axis: the axis of the classes.

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state(np.eye(3)[[0, 0, 1, 2]], np.eye(3)[[0, 1, 1, 2]])
        >>> round(m.result(), 6)   # class 0: 1/2, class 2: 1
        0.75
    """

    def __init__(self, num_classes: int, target_class_ids, name: str | None = None,
                 dtype: str | None = None, ignore_class: int | None = None,
                 sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids,
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (``argmax`` on ``axis``, as :class:`OneHotIoU`).

    Args:
        num_classes: the number of classes.
        name: the name in the logs (default ``"one_hot_mean_io_u"``).
        dtype: the dtype of the confusion matrix; ``None`` is int64.
        ignore_class, sparse_y_pred, axis: as :class:`OneHotIoU`.

    Example:
        >>> m = OneHotMeanIoU(num_classes=3)
        >>> m.update_state(np.eye(3)[[0, 0, 1, 2]], np.eye(3)[[0, 1, 1, 2]])
        >>> round(m.result(), 6)   # (1/2 + 1/2 + 1) / 3
        0.666667
    """

    def __init__(self, num_classes: int, name: str | None = None, dtype: str | None = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
