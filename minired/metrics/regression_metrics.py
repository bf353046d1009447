"""Regression metrics: errors averaged over the samples seen, the cosine similarity, and
the R² score.

The per-sample functions here are the metrics' own (Keras shares them with its losses):
each returns one value per sample, the mean over the last axis, and the metric class is a
:class:`~minired.metrics.Mean` of them over every batch since the last reset.
"""

from __future__ import annotations

import warnings

import numpy as np

from minired import config
from minired.losses import cosine_similarity as cosine_similarity_loss
from minired.losses import log_cosh
from minired.losses.loss import squeeze_or_expand_to_same_rank
from minired.metrics.metric import Mean, MeanMetricWrapper, Metric, as_result


def _matched(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """``y_true`` in ``y_pred``'s dtype, ranks matched as Keras does (``(N,)`` vs ``(N, 1)``)."""
    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(config.floatx())
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """Per sample: ``mean_j (y_j - ŷ_j)²`` over the last axis."""
    y_true, y_pred = _matched(y_true, y_pred)
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """Per sample: ``mean_j |y_j - ŷ_j|`` over the last axis."""
    y_true, y_pred = _matched(y_true, y_pred)
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> np.ndarray:
    """Per sample: ``100 · mean_j |y_j - ŷ_j| / max(|y_j|, ε)`` with ``ε = 1e-7``."""
    y_true, y_pred = _matched(y_true, y_pred)
    epsilon = y_pred.dtype.type(config.epsilon())
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), epsilon))
    return y_pred.dtype.type(100.0) * np.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> np.ndarray:
    """Per sample: ``mean_j (log(max(ŷ_j, ε) + 1) - log(max(y_j, ε) + 1))²``.

    Keras makes ``ε`` a float32 tensor even in float64, so here too ``ε = float32(1e-7)``
    (``1.0000000116860974e-07``); it only matters for values below it.
    """
    y_true, y_pred = _matched(y_true, y_pred)
    epsilon = y_pred.dtype.type(np.float32(config.epsilon()))
    first_log = np.log(np.maximum(y_pred, epsilon) + 1.0)
    second_log = np.log(np.maximum(y_true, epsilon) + 1.0)
    return np.mean(np.square(first_log - second_log), axis=-1)


class _ErrorMetric(MeanMetricWrapper):
    """The mean, over every sample seen, of a per-sample error (lower is better)."""

    _direction = "down"
    _function = staticmethod(mean_squared_error)

    def __init__(self, name: str, dtype: str | None = None) -> None:
        super().__init__(type(self)._function, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_ErrorMetric):
    """Mean squared error ``Σᵢ wᵢ mean_j (y_ij - ŷ_ij)² / Σᵢ wᵢ`` over every sample seen.

    String names: ``"mse"``, ``"MSE"``, ``"mean_squared_error"``, ``"MeanSquaredError"``.

    Example:
        >>> m = MeanSquaredError(); m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> m.result()
        0.25
    """

    _function = staticmethod(mean_squared_error)

    def __init__(self, name: str = "mean_squared_error", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_ErrorMetric):
    """Mean absolute error ``Σᵢ wᵢ mean_j |y_ij - ŷ_ij| / Σᵢ wᵢ`` over every sample seen.

    String names: ``"mae"``, ``"MAE"``, ``"mean_absolute_error"``, ``"MeanAbsoluteError"``.

    Example:
        >>> m = MeanAbsoluteError(); m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> m.result()
        0.25
    """

    _function = staticmethod(mean_absolute_error)

    def __init__(self, name: str = "mean_absolute_error", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_ErrorMetric):
    """Mean absolute percentage error ``100 · Σᵢ wᵢ mean_j |y_ij - ŷ_ij| / max(|y_ij|, ε)
    / Σᵢ wᵢ``, with ``ε = 1e-7``.

    String names: ``"mape"``, ``"MAPE"``, ``"mean_absolute_percentage_error"``.

    Example:
        >>> m = MeanAbsolutePercentageError(); m.update_state([[2.0], [4.0]], [[1.0], [5.0]])
        >>> m.result()
        37.5
    """

    _function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, name: str = "mean_absolute_percentage_error",
                 dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_ErrorMetric):
    """Mean squared logarithmic error ``Σᵢ wᵢ mean_j (log(1 + ŷ_ij) - log(1 + y_ij))² / Σᵢ wᵢ``
    (values below ``ε = 1e-7`` are raised to it first).

    String names: ``"msle"``, ``"MSLE"``, ``"mean_squared_logarithmic_error"``.
    """

    _function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, name: str = "mean_squared_logarithmic_error",
                 dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)


def _cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per sample: the cosine ``Σ_d ȳ_d p_d`` of the L2-normalised vectors, the negative of
    the loss :func:`minired.losses.cosine_similarity` (Keras' metric function)."""
    return -cosine_similarity_loss(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """Cosine of the angle between ``y`` and ``ŷ`` along ``axis``, averaged over every
    sample seen (higher is better).

    Per sample, minus the loss :func:`minired.losses.cosine_similarity`, with Keras' L2
    normalisation ``x · min(1/‖x‖, 1/ε)`` (a zero vector stays zero)::

        sᵢ = Σ_d (y_d / ‖y‖)(ŷ_d / ‖ŷ‖),      metric = Σᵢ wᵢ sᵢ / Σᵢ wᵢ

    As in Keras, ``get_config()`` does not record ``axis``.

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        axis: the axis the cosine is taken along.

    Example:
        >>> m = CosineSimilarity()
        >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        >>> round(m.result(), 6)   # (0 + 1) / 2
        0.5
    """

    _direction = "up"

    def __init__(self, name: str = "cosine_similarity", dtype: str | None = None,
                 axis: int = -1) -> None:
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class LogCoshError(MeanMetricWrapper):
    """Log-cosh error, averaged over every sample seen (lower is better).

    Per sample, the loss :func:`minired.losses.log_cosh` over the ``D`` outputs::

        ℓᵢ = (1/D) Σ_d log cosh(ŷ_d - y_d),      metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Its default name is Keras' ``"logcosh"``; the string names in ``compile`` are
    ``"log_cosh_error"`` and ``"LogCoshError"``.

    Example:
        >>> m = LogCoshError()
        >>> m.update_state([[0.0, 0.0]], [[1.0, -1.0]])
        >>> round(m.result(), 6)
        0.433781
    """

    _direction = "down"

    def __init__(self, name: str = "logcosh", dtype: str | None = None) -> None:
        super().__init__(log_cosh, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """Root mean squared error ``sqrt(Σᵢ wᵢ mean_j (y_ij - ŷ_ij)² / Σᵢ wᵢ)``.

    The running mean is of the squared errors; the root is taken only in ``result()``, so
    the epoch value is not the mean of per-batch RMSEs. No short string name (Keras has no
    ``"rmse"``): ``"root_mean_squared_error"`` or ``"RootMeanSquaredError"``.

    Example:
        >>> m = RootMeanSquaredError(); m.update_state([[0.0], [0.0]], [[3.0], [4.0]])
        >>> round(m.result(), 6)   # sqrt((9 + 16) / 2)
        3.535534
    """

    _direction = "down"

    def __init__(self, name: str = "root_mean_squared_error", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(y_true, dtype=self.dtype)
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        return float(np.sqrt(np.dtype(self.dtype).type(super().result())))


class R2Score(Metric):
    """The coefficient of determination R² of each output, from running sums.

    For output j, over every sample i seen (weights ``wᵢ``, 1 by default)::

        SS_res = Σᵢ wᵢ (y_ij - ŷ_ij)²
        SS_tot = Σᵢ wᵢ y_ij² - (Σᵢ wᵢ y_ij)² / Σᵢ wᵢ
        R²_j   = 1 - SS_res / SS_tot          (0 where that is ±inf: a constant target)

    ``class_aggregation``: ``"uniform_average"`` (the mean over outputs),
    ``"variance_weighted_average"`` (``Σ_j SS_tot_j R²_j / Σ_j SS_tot_j``) or ``None`` (one
    per output). With ``num_regressors = p > 0`` the adjusted score
    ``1 - (1 - R²)(n - 1) / (n - p - 1)`` is returned, where Keras counts ``n`` as the
    number of *values* seen (samples × outputs), not samples; when ``p ≥ n - 1`` it warns
    and returns the plain R². Inputs must be 2-D ``(samples, outputs)``.

    Example:
        >>> m = R2Score(); m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])
        >>> m.result()   # 1 - 1/2
        0.5
    """

    _direction = "up"

    def __init__(self, class_aggregation: str | None = "uniform_average",
                 num_regressors: int = 0, name: str = "r2_score",
                 dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"R2Score: `class_aggregation` must be one of {valid}, got "
                             f"{class_aggregation!r}.")
        if num_regressors < 0:
            raise ValueError(f"R2Score: `num_regressors` must be >= 0, got {num_regressors}.")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self._n_outputs: int | None = None
        self.reset_state()

    def reset_state(self) -> None:
        self.num_samples = self._zeros()
        shape = () if self._n_outputs is None else (self._n_outputs,)
        self.squared_sum, self.sum = self._zeros(shape), self._zeros(shape)
        self.total_mse, self.count = self._zeros(shape), self._zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(y_true, dtype=self.dtype)
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim), "
                             f"got y_true {y_true.shape} and y_pred {y_pred.shape}.")
        if self._n_outputs is None:
            self._n_outputs = y_pred.shape[-1]
            self.reset_state()
        weights = np.asarray(1 if sample_weight is None else sample_weight, dtype=self.dtype)
        if weights.ndim == 1:
            weights = weights[:, None]
        weights = np.broadcast_to(weights, y_true.shape)
        weighted_y_true = y_true * weights
        self.sum += np.sum(weighted_y_true, axis=0)
        self.squared_sum += np.sum(y_true * weighted_y_true, axis=0)
        self.total_mse += np.sum((y_true - y_pred) ** 2 * weights, axis=0)
        self.count += np.sum(weights, axis=0)
        self.num_samples += y_true.size

    def result(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum / self.count
            total = self.squared_sum - self.sum * mean
            raw_scores = 1 - self.total_mse / total
        raw_scores = np.where(np.isinf(raw_scores), 0.0, raw_scores).astype(self.dtype)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw_scores) / np.sum(total)
        else:
            score = raw_scores
        p, n = self.num_regressors, self.num_samples
        if p != 0:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            else:   # Keras computes n and p in float32
                n32, p32 = np.float32(n), np.float32(p)
                numerator = (1.0 - score) * (n32 - np.float32(1.0))
                score = 1.0 - numerator / ((n32 - p32) - np.float32(1.0))
        return as_result(np.asarray(score, dtype=self.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
