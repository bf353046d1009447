"""Accuracy metrics: the fraction of samples predicted right."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses.loss import squeeze_or_expand_to_same_rank
from minired.metrics.metric import MeanMetricWrapper


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1 where ``1[ŷ > threshold]`` equals ``y`` (strictly greater, as Keras), else 0."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
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


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``1[ŷ > threshold]`` matches binary labels.

    Example:
        >>> m = BinaryAccuracy(); m.update_state([[1], [0]], [[0.9], [0.7]]); m.result()
        0.5
    """

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax ŷ`` matches the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax ŷ`` matches the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name=name)
