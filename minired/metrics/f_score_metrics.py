"""F-scores: the (weighted) harmonic mean of precision and recall, per class or averaged."""

from __future__ import annotations

import numpy as np

from minired import config
from minired.metrics.metric import Metric, as_result


class FBetaScore(Metric):
    """F-beta score of ``(N, C)`` labels and scores, from running per-class counts.

    A score is positive when ``ŷ > threshold``, or, with ``threshold=None``, when it is the
    row's maximum (ties all count) and ``|ŷ| > 1e-9``. With weighted counts TP, FP, FN per
    class (summed over classes for ``average="micro"``) and ``ε = 1e-7``::

        P = TP / (TP + FP + ε)     R = TP / (TP + FN + ε)
        F = (1 + β²) · P R / (β² P + R + ε)

    ``average``: ``None`` (one score per class), ``"micro"`` (one score from the summed
    counts), ``"macro"`` (the mean of the class scores) or ``"weighted"`` (the class scores
    weighted by each class's weighted count of positive labels, ``/ (Σ + ε)``).
    With one output column and ``threshold=None``, every score above 1e-9 is its row's
    maximum, so every such prediction counts as positive: pass a threshold for binary data.

    Args:
        average: ``None``, ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: a Python float > 0 (β < 1 favours precision, β > 1 recall).
        threshold: a Python float in (0, 1], or ``None`` (the row's top score).
        name, dtype: as every metric (default name ``"fbeta_score"``).

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5, average="micro")
        >>> m.update_state(np.array([[1, 0], [1, 1]]), np.array([[0.9, 0.8], [0.2, 0.7]]))
        >>> round(m.result(), 4)   # P = R = 2/3
        0.6667
    """

    _direction = "up"

    def __init__(self, average: str | None = None, beta: float = 1.0,
                 threshold: float | None = None, name: str = "fbeta_score",
                 dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._n_classes: int | None = None
        self.reset_state()

    def reset_state(self) -> None:
        shape = () if self.average == "micro" or self._n_classes is None else (
            self._n_classes,)
        self.true_positives, self.false_positives = self._zeros(shape), self._zeros(shape)
        self.false_negatives, self.intermediate_weights = self._zeros(shape), self._zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(y_true, dtype=self.dtype)
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={y_pred.shape}"
                             f" and y_true.shape={y_true.shape}.")
        if self._n_classes is None:
            self._n_classes = y_pred.shape[-1]
            self.reset_state()
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            positive = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > self.threshold
        y_pred = positive.astype(self.dtype)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=self.dtype)

        def weighted_sum(values):
            if weights is not None:
                values = values * weights[:, None]
            return np.sum(values, axis=self.axis)

        self.true_positives += weighted_sum(y_pred * y_true)
        self.false_positives += weighted_sum(y_pred * (1 - y_true))
        self.false_negatives += weighted_sum((1 - y_pred) * y_true)
        self.intermediate_weights += weighted_sum(y_true)

    def result(self):
        eps = config.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        mean = (precision * recall) / (self.beta ** 2 * precision + recall + eps)
        f_score = mean * (1 + self.beta ** 2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + eps)
            f_score = np.sum(f_score * weights)
        elif self.average is not None:
            f_score = np.mean(f_score)
        return as_result(f_score)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score ``2 P R / (P + R)`` (β = 1 of :class:`FBetaScore`, with its ε terms).

    Example:
        >>> m = F1Score(threshold=0.5, average="macro")
        >>> m.update_state(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.8], [0.2, 0.7]]))
        >>> round(m.result(), 4)   # class 0: P = R = 1; class 1: P = 1/2, R = 1
        0.8333
    """

    def __init__(self, average: str | None = None, threshold: float | None = None,
                 name: str = "f1_score", dtype: str | None = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self) -> dict:
        config_ = super().get_config()
        del config_["beta"]
        return config_
