"""Running means: how Keras averages the loss and the metrics over an epoch."""

from __future__ import annotations

import numpy as np

from minired import config


class Mean:
    """Weighted running mean ``total / count``, accumulated in floatx like Keras.

    ``update_state(values, sample_weight)`` adds ``Σ w·v`` to ``total`` and ``Σ w`` to
    ``count`` (``count += len(values)`` without weights). ``fit`` feeds it each batch's loss
    with weight ``n_b`` (the batch size), so the epoch loss is
    ``Σ_b n_b L_b / Σ_b n_b``: a batch-size-weighted mean of the losses computed *before*
    each update.

    Example:
        >>> m = Mean(); m.update_state(2.0, sample_weight=3); m.update_state(1.0, sample_weight=1)
        >>> m.result()
        1.75
    """

    _direction = "down"

    def __init__(self, name: str = "mean") -> None:
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        self.total = np.zeros((), dtype=config.floatx())
        self.count = np.zeros((), dtype=config.floatx())

    def update_state(self, values, sample_weight=None) -> None:
        values = np.asarray(values, dtype=self.total.dtype)
        if sample_weight is None:
            self.total += np.sum(values)
            self.count += values.shape[0] if values.ndim >= 1 else 1
        else:
            weights = np.asarray(sample_weight, dtype=self.total.dtype)
            self.total += np.sum(values * weights)
            self.count += np.sum(weights) if weights.ndim else weights

    def result(self) -> float:
        if self.count == 0:
            return 0.0
        return float(self.total / self.count)


class MeanMetricWrapper(Mean):
    """A :class:`Mean` of per-sample values ``fn(y_true, y_pred)`` (e.g. 0/1 for accuracy)."""

    def __init__(self, fn, name: str, direction: str = "up", **kwargs) -> None:
        super().__init__(name=name)
        self._fn = fn
        self._fn_kwargs = kwargs
        self._direction = direction

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if values.ndim > 1:  # one value per sample: average over the other axes
            values = values.reshape(values.shape[0], -1).mean(axis=1)
        super().update_state(values, sample_weight)
