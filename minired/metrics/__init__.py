"""Metrics: Keras' catalog, and how ``compile(metrics=[...])`` resolves a name.

A metric accumulates running sums over the batches of an epoch (``update_state``), turns
them into the reported number (``result``) and starts again (``reset_state``). The files
follow Keras': ``metric`` (the base class, ``Mean``, ``Sum``), ``accuracy_metrics``,
``regression_metrics``, ``confusion_metrics`` (counts, precision, recall, AUC) and
``f_score_metrics``.
"""

from __future__ import annotations

import numpy as np

from minired.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from minired.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from minired.metrics.f_score_metrics import F1Score, FBetaScore
from minired.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from minired.metrics.regression_metrics import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from minired.utils.naming import lookup, to_snake_case

ALL_OBJECTS = (
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
)
# Keras' table: each class by its name and its snake_case name ("AUC" -> "auc",
# "F1Score" -> "f1_score"), plus a few short names. There is no "rmse".
_BY_NAME = {cls.__name__: cls for cls in ALL_OBJECTS}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
_BY_NAME.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})
_ACCURACY_NAMES = ("accuracy", "acc")


def get(identifier, y_true: np.ndarray | None = None, y_pred: np.ndarray | None = None):
    """Return a metric object for a Keras name, a metric instance, or a function
    ``fn(y_true, y_pred)`` (wrapped in a :class:`MeanMetricWrapper` named after it).

    A name gives a new instance with default arguments and its default name
    (``get("mae").name == "mean_absolute_error"``; ``compile`` then renames it to the
    string typed, so the logs say ``mae``).

    Given the shapes (``compile`` passes a batch's ``y_true`` and ``y_pred``),
    ``"accuracy"``/``"acc"`` (any case) is resolved from them, as Keras does (not from the
    loss): ``y_pred`` with one output gives BinaryAccuracy; integer labels (``y_true`` of
    lower rank, or a last axis of 1 against several outputs) give
    SparseCategoricalAccuracy; otherwise CategoricalAccuracy, each named as typed. Without
    shapes, ``"accuracy"`` is the class :class:`Accuracy` (exact equality) and ``"acc"`` is
    unknown, as in ``keras.metrics.get``.
    """
    if isinstance(identifier, Metric):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        # A function fn(y_true, y_pred) of per-sample values: its running mean, as Keras.
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    if not isinstance(identifier, str):
        raise TypeError("`metrics` entries must be names, metric objects or functions "
                        f"fn(y_true, y_pred), got {identifier!r}.")
    shapes_given = y_true is not None and y_pred is not None
    if shapes_given and identifier.lower() in _ACCURACY_NAMES:  # "Accuracy" works too
        if y_pred.shape[-1] == 1:
            return BinaryAccuracy(name=identifier)
        if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
            return SparseCategoricalAccuracy(name=identifier)
        return CategoricalAccuracy(name=identifier)
    return _lookup(identifier)()


def _lookup(name: str):
    return lookup("metric", name, _BY_NAME)


def check(identifier) -> None:
    """Raise now if ``identifier`` is neither a metric object nor a known name (what
    ``compile`` checks before any data is seen), without building the metric."""
    if isinstance(identifier, Metric) or (callable(identifier)
                                          and not isinstance(identifier, type)):
        return
    if not isinstance(identifier, str):
        raise TypeError("`metrics` entries must be names, metric objects or functions "
                        f"fn(y_true, y_pred), got {identifier!r}.")
    if identifier.lower() not in _ACCURACY_NAMES:
        _lookup(identifier)


def serialize(metric) -> dict:
    """``metric`` as Keras' JSON-able dict (:func:`~minired.saving.serialize_keras_object`)."""
    from minired.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(metric)


def deserialize(config, custom_objects: dict | None = None):
    """The metric that ``config`` (a :func:`serialize` dict, or a name) describes; your
    classes come from ``custom_objects`` or the registered ones, as Keras."""
    from minired.saving.serialization_lib import deserialize_in

    return deserialize_in("metrics", config, custom_objects)


__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "R2Score",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "Precision", "Recall", "AUC", "F1Score", "FBetaScore",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "get", "serialize", "deserialize", "check",
]
