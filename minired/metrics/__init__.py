"""Metrics: Keras' catalog, and how ``compile(metrics=[...])`` resolves a name.

A metric accumulates running sums over the batches of an epoch (``update_state``), turns
them into the reported number (``result``) and starts again (``reset_state``). The files
follow Keras': ``metric`` (the base class, ``Mean``, ``Sum``), ``accuracy_metrics``,
``regression_metrics``, ``confusion_metrics`` (counts, precision, recall, AUC, one rate at
another), ``f_score_metrics``, ``probabilistic_metrics`` (cross-entropies, KL, Poisson),
``hinge_metrics``, ``iou_metrics`` and ``correlation_metrics``.

The loss functions Keras also lists under ``keras.metrics`` (``binary_crossentropy``,
``hinge``, ``huber``...) are ``minired.losses``' own, re-exported here.
"""

from __future__ import annotations

import numpy as np

from minired.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
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
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from minired.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from minired.metrics.f_score_metrics import F1Score, FBetaScore
from minired.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from minired.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from minired.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from minired.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from minired.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
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
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives,
    ConcordanceCorrelation, PearsonCorrelation,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    F1Score, FBetaScore,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
)
# Keras' table: each class by its name and its snake_case name ("AUC" -> "auc",
# "F1Score" -> "f1_score", "IoU" -> "io_u"), plus a few short names. There is no "rmse"
# (and no "logcosh", "kld" or "huber": those are loss names only).
_BY_NAME = {cls.__name__: cls for cls in ALL_OBJECTS}
_BY_NAME.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
_BY_NAME.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})
_ACCURACY_NAMES = ("accuracy", "acc")


def _object_name(obj) -> str:
    """Keras' ``get_object_name``: ``obj.name`` (a loss object), else its function's or its
    class's name in snake case."""
    if hasattr(obj, "name"):
        return obj.name
    return to_snake_case(getattr(obj, "__name__", type(obj).__name__))


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
        # A function fn(y_true, y_pred) of per-sample values, or a loss object: its running
        # mean, named as Keras names it (get_object_name: a loss object by its name).
        return MeanMetricWrapper(identifier, name=_object_name(identifier))
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
    cls = _lookup(identifier)
    try:
        return cls()
    except TypeError as error:    # IoU, PrecisionAtRecall...: arguments a name cannot give
        raise TypeError(f"The metric {identifier!r} needs arguments ({error}): pass an object "
                        f"such as mr.metrics.{cls.__name__}(...) instead of its name.") from None


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
    "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "CosineSimilarity", "LogCoshError", "PearsonCorrelation", "ConcordanceCorrelation",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
    "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "kl_divergence", "poisson",
    "log_cosh", "hinge", "squared_hinge", "categorical_hinge", "huber",
    "pearson_correlation", "concordance_correlation",
    "get", "serialize", "deserialize", "check",
]
