"""Hinge metrics: the margin losses of ``minired.losses``, averaged over every sample seen.

Each metric is a :class:`~minired.metrics.MeanMetricWrapper` of the loss function of the
same name: the per-sample values are the loss's ``ℓᵢ``, the metric their weighted running
mean ``Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ``. Labels ``{0, 1}`` are turned into ``{-1, 1}`` by the losses
(each batch as a whole: see :func:`minired.losses.hinge.convert_binary_labels_to_hinge`).
"""

from __future__ import annotations

from minired.losses import categorical_hinge, hinge, squared_hinge
from minired.metrics.metric import MeanMetricWrapper


class _HingeMetric(MeanMetricWrapper):
    """A running mean of a hinge loss (lower is better); config: name and dtype."""

    _direction = "down"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class Hinge(_HingeMetric):
    """Hinge loss, averaged over every sample seen.

    Per sample, :func:`minired.losses.hinge` over the ``D`` outputs, labels ``y ∈ {-1, 1}``::

        ℓᵢ = (1/D) Σ_d max(1 - y_d ŷ_d, 0),      metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Example:
        >>> m = Hinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        1.3
    """

    def __init__(self, name: str = "hinge", dtype: str | None = None) -> None:
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(_HingeMetric):
    """Squared hinge loss, averaged over every sample seen.

    Per sample, :func:`minired.losses.squared_hinge`, labels ``y ∈ {-1, 1}``::

        ℓᵢ = (1/D) Σ_d max(1 - y_d ŷ_d, 0)²,     metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Example:
        >>> m = SquaredHinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        1.86
    """

    def __init__(self, name: str = "squared_hinge", dtype: str | None = None) -> None:
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(_HingeMetric):
    """Categorical hinge loss, averaged over every sample seen.

    Per sample, :func:`minired.losses.categorical_hinge` of one-hot labels ``y``::

        pos = Σ_c y_c ŷ_c,   neg = max_c (1 - y_c) ŷ_c,   ℓᵢ = max(neg - pos + 1, 0)
        metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Example:
        >>> m = CategoricalHinge()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        1.4
    """

    def __init__(self, name: str = "categorical_hinge", dtype: str | None = None) -> None:
        super().__init__(categorical_hinge, name=name, dtype=dtype)
