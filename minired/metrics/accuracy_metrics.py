"""Accuracy metrics: the fraction of samples predicted right, ``Σ wᵢ·1[right]ᵢ / Σ wᵢ``."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import squeeze_or_expand_to_same_rank
from minired.metrics.metric import MeanMetricWrapper


def accuracy(y_true, y_pred) -> np.ndarray:
    """1 where ``ŷ == y`` exactly (element by element), else 0."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(config.floatx())


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1 where ``1[ŷ > threshold]`` equals ``y`` (strictly greater, as Keras), else 0.

    Keras turns the threshold into a float32 tensor, so in float64 a threshold of 0.3 is
    compared as ``float32(0.3) = 0.30000001192...``; the same is done here.
    """
    y_true, y_pred = squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
    threshold = np.float32(threshold) if isinstance(threshold, float) else threshold
    predicted = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == predicted).astype(config.floatx())


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where ``argmax ŷ == argmax y`` (ties go to the first index), else 0."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(config.floatx())


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where ``argmax ŷ`` equals the integer label, else 0."""
    labels = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return (np.argmax(y_pred, axis=-1) == labels).astype(config.floatx())


def in_top_k(targets: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """TensorFlow's ``in_top_k``: is ``predictions[i, targets[i]]`` among the k largest?

    Ties are generous: the target is in the top k when *fewer than k* classes score
    strictly higher, so every class tied at the boundary counts (``argsort`` would pick
    one). A row with a non-finite score, or a target outside ``[0, C)``, gives False.
    """
    predictions = np.asarray(predictions)
    targets = np.asarray(targets).astype(np.int64)
    n_classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < n_classes)
    target_scores = np.take_along_axis(predictions, np.where(valid, targets, 0)[:, None], 1)
    higher = np.sum(predictions > target_scores, axis=-1)
    finite = np.all(np.isfinite(predictions), axis=-1)
    return valid & finite & (higher < k)


def _top_k_matches(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """``in_top_k`` over any leading shape: ``y_pred`` is flattened to (-1, C), the labels
    to (-1,), and the matches are given back the labels' shape."""
    shape = labels.shape
    matches = in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.reshape(shape).astype(config.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the one-hot label's class is among the k highest scores (TF ties), else 0."""
    y_pred = np.asarray(y_pred)
    return _top_k_matches(np.argmax(np.asarray(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5,
                                      from_sorted_ids: bool = False) -> np.ndarray:
    """1 where the integer label is among the k highest scores (TF ties), else 0.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score (best first),
    and the label must be one of the first k.
    """
    y_pred = np.asarray(y_pred)
    if from_sorted_ids:
        labels = np.asarray(y_true, dtype=y_pred.dtype)
        flat = y_pred.reshape(-1, y_pred.shape[-1])
        matches = np.any(labels.reshape(-1, 1) == flat[:, :k], axis=1)
        return matches.reshape(labels.shape).astype(config.floatx())
    return _top_k_matches(np.asarray(y_true).astype(np.int32), y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often ``ŷ`` equals ``y`` exactly (for labels predicted as labels).

    Not what ``metrics=["accuracy"]`` gives: that name is resolved from the shapes
    (see :func:`minired.metrics.get`).
    """

    _direction = "up"

    def __init__(self, name: str = "accuracy", dtype: str | None = None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``1[ŷ > threshold]`` matches binary labels.

    Example:
        >>> m = BinaryAccuracy(); m.update_state([[1], [0]], [[0.9], [0.7]]); m.result()
        0.5
    """

    _direction = "up"

    def __init__(self, name: str = "binary_accuracy", dtype: str | None = None,
                 threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax ŷ`` matches the one-hot label."""

    _direction = "up"

    def __init__(self, name: str = "categorical_accuracy", dtype: str | None = None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax ŷ`` matches the integer label."""

    _direction = "up"

    def __init__(self, name: str = "sparse_categorical_accuracy",
                 dtype: str | None = None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest scores.

    Per sample: ``1[#{j : ŷⱼ > ŷ_c} < k]`` with ``c = argmax y``, TensorFlow's ``in_top_k``
    rule, so classes tied with the k-th score all count as in the top k.

    Example:
        >>> m = TopKCategoricalAccuracy(k=1)
        >>> m.update_state([[0, 1, 0], [1, 0, 0]], [[0.4, 0.4, 0.2], [0.1, 0.8, 0.1]])
        >>> m.result()   # the tie 0.4 = 0.4 counts as a hit
        0.5
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: str | None = None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores (``in_top_k`` ties).

    Per sample: ``1[#{j : ŷⱼ > ŷ_y} < k]``.
    """

    _direction = "up"

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: str | None = None, from_sorted_ids: bool = False) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict:
        config_ = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config_["from_sorted_ids"] = True
        return config_
