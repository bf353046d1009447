"""Metrics, and how ``compile(metrics=["accuracy"])`` picks one from the shapes."""

from __future__ import annotations

import numpy as np

from minired.metrics.accuracy_metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from minired.metrics.metric import Mean, MeanMetricWrapper
from minired.utils.naming import lookup

_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "BinaryAccuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "CategoricalAccuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy,
}
_ACCURACY_NAMES = ("accuracy", "acc")


def get(identifier, y_true: np.ndarray | None = None, y_pred: np.ndarray | None = None):
    """Return a metric object for a Keras name or a metric instance.

    ``"accuracy"``/``"acc"`` is resolved from the shapes, as Keras does (not from the loss):
    ``y_pred`` with one output gives BinaryAccuracy; integer labels (``y_true`` of lower rank,
    or a last axis of 1 against several outputs) give SparseCategoricalAccuracy; otherwise
    CategoricalAccuracy. The metric keeps the name typed (``"accuracy"``).
    """
    if isinstance(identifier, Mean):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"`metrics` entries must be names or metric objects, got {identifier!r}.")
    if identifier.lower() in _ACCURACY_NAMES:  # Keras lower-cases here: "Accuracy" works too
        if y_true is None or y_pred is None:
            raise ValueError("'accuracy' is resolved from the shapes of y_true and y_pred.")
        if y_pred.shape[-1] == 1:
            return BinaryAccuracy(name=identifier)
        if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
            return SparseCategoricalAccuracy(name=identifier)
        return CategoricalAccuracy(name=identifier)
    # The accuracy names were resolved above; they are in the table so an error lists them.
    known = {**_BY_NAME, **dict.fromkeys(_ACCURACY_NAMES)}
    return lookup("metric", identifier, known)()


__all__ = [
    "Mean", "MeanMetricWrapper", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "get",
]
