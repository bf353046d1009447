"""Correlation metrics: Pearson's and Lin's concordance coefficient, averaged over the
samples seen.

As in Keras, each coefficient is computed **along ``axis``** (by default the last one: the
outputs of one sample, or the time steps of a sequence), giving one value per sample, and
the metric is the weighted running mean of those values, ``Σᵢ wᵢ rᵢ / Σᵢ wᵢ``. For one
coefficient over a whole column of targets, pass ``axis=0`` and the column as a batch.
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.metrics.metric import MeanMetricWrapper
from minired.metrics.regression_metrics import _matched


def pearson_correlation(y_true, y_pred, axis: int | tuple = -1) -> np.ndarray:
    """Pearson's correlation coefficient of ``y`` and ``ŷ`` along ``axis``.

    With the means ``ȳ``, ``p̄`` and the (population) standard deviations ``σ_y``, ``σ_p``
    taken along ``axis`` (``n`` values)::

        r = (1/n) Σ_d ((y_d - ȳ) / σ_y) ((ŷ_d - p̄) / σ_p)

    A constant ``y`` or ``ŷ`` (``σ = 0``) gives NaN, as in Keras.

    Example:
        >>> pearson_correlation([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]]).round(6)
        array([0.993399])
    """
    y_true, y_pred = _matched(y_true, y_pred)
    y_true_norm = y_true - np.mean(y_true, axis=axis, keepdims=True)
    y_pred_norm = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_true_norm = y_true_norm / np.std(y_true_norm, axis=axis, keepdims=True)
        y_pred_norm = y_pred_norm / np.std(y_pred_norm, axis=axis, keepdims=True)
    return np.mean(y_true_norm * y_pred_norm, axis=axis)


def concordance_correlation(y_true, y_pred, axis: int | tuple = -1) -> np.ndarray:
    """Lin's concordance correlation coefficient of ``y`` and ``ŷ`` along ``axis``, as
    Keras computes it.

    With means ``ȳ``, ``p̄`` and population variances ``σ²_y``, ``σ²_p`` along ``axis``
    (``n`` values) and ``ε = 1e-7``::

        c = (1/n) Σ_d 2 (y_d - p̄)(ŷ_d - p̄) / (σ²_y + σ²_p + (ȳ - p̄)² + ε)

    Lin's coefficient has ``(y_d - ȳ)`` in the numerator; Keras 3 writes ``(y_d - p̄)``
    (the mean of the *predictions*), and minired follows Keras so that the numbers agree.
    The two are equal when ``ȳ = p̄``.

    Example:
        >>> concordance_correlation([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]).round(6)
        array([1.])
    """
    y_true, y_pred = _matched(y_true, y_pred)
    y_true_mean = np.mean(y_true, axis=axis, keepdims=True)
    y_pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    y_true_var = np.var(y_true - y_true_mean, axis=axis, keepdims=True)
    y_pred_var = np.var(y_pred - y_pred_mean, axis=axis, keepdims=True)
    covar = (y_true - y_pred_mean) * (y_pred - y_pred_mean)
    norm = y_true_var + y_pred_var + np.square(y_true_mean - y_pred_mean)
    epsilon = y_pred.dtype.type(config.epsilon())
    return np.mean(2 * covar / (norm + epsilon), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Pearson's correlation coefficient, one per sample along ``axis``, averaged over
    every sample seen.

    Per sample (see :func:`pearson_correlation`)::

        rᵢ = (1/n) Σ_d ((y_d - ȳ) / σ_y) ((ŷ_d - p̄) / σ_p),    metric = Σᵢ wᵢ rᵢ / Σᵢ wᵢ

    1 is a perfect increasing linear relation, -1 a decreasing one, 0 none (higher is
    better).

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        axis: the axis (or axes) the coefficient is taken along.

    Example:
        >>> m = PearsonCorrelation()
        >>> m.update_state([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
        >>> m.result()   # (1 + (-1)) / 2
        0.0
    """

    _direction = "up"

    def __init__(self, name: str = "pearson_correlation", dtype: str | None = None,
                 axis: int | tuple = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Concordance correlation coefficient, one per sample along ``axis``, averaged over
    every sample seen (see :func:`concordance_correlation` for Keras' formula)::

        cᵢ = (1/n) Σ_d 2 (y_d - p̄)(ŷ_d - p̄) / (σ²_y + σ²_p + (ȳ - p̄)² + ε)
        metric = Σᵢ wᵢ cᵢ / Σᵢ wᵢ

    Unlike Pearson's coefficient it also falls when ``ŷ`` is shifted or scaled away from
    ``y``: 1 only for ``ŷ = y`` (higher is better).

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        axis: the axis (or axes) the coefficient is taken along.

    Example:
        >>> m = ConcordanceCorrelation()
        >>> m.update_state([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]])
        >>> round(m.result(), 6)
        1.0
    """

    _direction = "up"

    def __init__(self, name: str = "concordance_correlation", dtype: str | None = None,
                 axis: int | tuple = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
