"""Probabilistic metrics: the cross-entropies, the KL divergence and the Poisson loss,
averaged over every sample seen.

Each metric here is a :class:`~minired.metrics.MeanMetricWrapper` of a loss function of
``minired.losses``: the per-sample values are exactly the loss's (``ℓᵢ``), and the metric is
their weighted running mean ``Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ`` (not the loss's ``Σᵢ wᵢ ℓᵢ / N``). A metric
has no gradient: it is only reported. Called by you, these metrics read the probabilities
they are given. In ``fit`` and ``evaluate``, the cross-entropies read the logits ``z``
behind a softmax or sigmoid output instead (``update_state_from_logits``), as Keras on
TensorFlow does and as the losses do (see ``minired.keras_numerics``, item 5): the values
differ where the probabilities saturate, and ``"bce"`` on a softmax output is the sigmoid
cross-entropy of the softmax's ``z``.
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.losses import (
    binary_crossentropy,
    categorical_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from minired.losses.loss import apply_mask, check_label_smoothing
from minired.metrics.metric import MeanMetricWrapper


def _class_axis(axis: int, ndim: int, name: str) -> int:
    """``axis`` as a non-negative index into ``ndim`` axes, or a ValueError."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise ValueError(f"{name}: `axis` must be an int, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: `axis={axis}` is out of range for predictions with "
                         f"{ndim} axes.")
    return int(axis) % ndim


def _categorical_crossentropy_along(y_true, y_pred, from_logits: bool = False,
                                    label_smoothing: float = 0.0, axis: int = -1
                                    ) -> np.ndarray:
    """:func:`minired.losses.categorical_crossentropy` with the classes on ``axis``.

    The loss reads the classes on the last axis; another ``axis`` is moved last first.
    Keras smooths the labels with the size of the **last** axis whatever ``axis`` is
    (``losses.py``: ``num_classes = shape(y_true)[-1]``), so the smoothing is done here,
    with that size, before the move.
    """
    y_pred = np.asarray(y_pred, dtype=config.floatx())
    y_true = np.asarray(y_true, dtype=config.floatx())
    moved = _class_axis(axis, y_pred.ndim, "CategoricalCrossentropy")
    if moved == y_pred.ndim - 1:
        return categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing)
    if label_smoothing:
        s = check_label_smoothing("CategoricalCrossentropy", label_smoothing)
        y_true = y_true * (1 - s) + s / y_true.shape[-1]
    return categorical_crossentropy(np.moveaxis(y_true, moved, -1),
                                    np.moveaxis(y_pred, moved, -1), from_logits)


def _sparse_categorical_crossentropy_ignoring(y_true, y_pred, from_logits: bool = False,
                                              ignore_class: int | None = None,
                                              axis: int = -1):
    """:func:`minired.losses.sparse_categorical_crossentropy`, with Keras' ``ignore_class``.

    Labels equal to ``ignore_class`` get the loss 0 and a mask: ``(values, valid)``. Keras
    hands the mask on with the values, and its ``Mean`` uses it only with sample weights
    (``w · valid``); without weights the zeros are averaged in.
    """
    y_pred = np.asarray(y_pred, dtype=config.floatx())
    if _class_axis(axis, y_pred.ndim, "SparseCategoricalCrossentropy") != y_pred.ndim - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    if ignore_class is None:
        return sparse_categorical_crossentropy(y_true, y_pred, from_logits), None
    labels = np.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    valid = labels != labels.dtype.type(ignore_class)
    values = sparse_categorical_crossentropy(np.where(valid, labels, 0), y_pred, from_logits)
    return np.where(valid, values, values.dtype.type(0)), valid


class BinaryCrossentropy(MeanMetricWrapper):
    """Binary cross-entropy, averaged over every sample seen.

    Per sample, the loss :func:`minired.losses.binary_crossentropy` (the mean over the
    last axis of the ``D`` outputs), with ``p̃ = clip(ŷ, ε, 1 - ε)``::

        ℓᵢ = -(1/D) Σ_d [y_d log p̃_d + (1 - y_d) log(1 - p̃_d)]
        metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    From logits ``z`` (``from_logits=True``): ``ℓ = mean_d [max(z, 0) - z y + log(1 + e^{-|z|})]``.

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``y ← y (1 - s) + s / 2``.

    Example:
        >>> m = BinaryCrossentropy()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        0.81492
    """

    _direction = "down"
    uses_output_logits = True

    def __init__(self, name: str = "binary_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, label_smoothing: float = 0) -> None:
        check_label_smoothing(name, label_smoothing)
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Categorical cross-entropy of one-hot labels, averaged over every sample seen.

    Per sample, the loss :func:`minired.losses.categorical_crossentropy` over the classes
    on ``axis``: ``q = ŷ / Σ_c ŷ_c``, ``q̃ = clip(q, ε, 1 - ε)``::

        ℓᵢ = -Σ_c y_c log q̃_c          (from logits: -Σ_c y_c log softmax(z)_c)
        metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: ``y ← y (1 - s) + s / C``, with ``C`` the size of the last axis
            (as Keras, even when ``axis`` is another one).
        axis: the axis of the classes.

    Example:
        >>> m = CategoricalCrossentropy()
        >>> m.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(m.result(), 5)   # (-log 0.95 - log 0.1) / 2
        1.17694
    """

    _direction = "down"
    uses_output_logits = True

    def __init__(self, name: str = "categorical_crossentropy", dtype: str | None = None,
                 from_logits: bool = False, label_smoothing: float = 0,
                 axis: int = -1) -> None:
        check_label_smoothing(name, label_smoothing)
        super().__init__(_categorical_crossentropy_along, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Cross-entropy of integer labels, averaged over every sample seen.

    Per sample, the loss :func:`minired.losses.sparse_categorical_crossentropy` of the
    label ``c``, with ``p̃ = clip(ŷ, ε, 1 - ε)``::

        ℓᵢ = log Σ_j p̃_j - log p̃_c       (from logits: -log softmax(z)_c)
        metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    With ``ignore_class=k``, a label ``k`` gives ``ℓᵢ = 0``; as in Keras it is left out of
    the mean (``wᵢ = 0``) only when sample weights are given, and counted as a 0 otherwise.

    Args:
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label whose samples get the loss 0 (e.g. a "void" class), or None.
        axis: the axis of the classes; only -1 (as Keras on TensorFlow).

    Example:
        >>> m = SparseCategoricalCrossentropy()
        >>> m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(m.result(), 5)
        1.17694
    """

    _direction = "down"

    def __init__(self, name: str = "sparse_categorical_crossentropy",
                 dtype: str | None = None, from_logits: bool = False,
                 ignore_class: int | None = None, axis: int = -1) -> None:
        super().__init__(_sparse_categorical_crossentropy_ignoring, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        # Keras multiplies y_pred by the labels' mask first: the product has no logits.
        self.uses_output_logits = ignore_class is None

    def _add(self, values_and_valid, sample_weight, mask) -> None:
        values, valid = values_and_valid
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, self.dtype, "sum")
        if valid is not None and sample_weight is not None:
            # Keras' Mean reads the mask the loss put on its values, with weights only
            sample_weight = apply_mask(sample_weight, valid, self.dtype, "sum")
        super()._add(values, sample_weight, None)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}


class KLDivergence(MeanMetricWrapper):
    """Kullback-Leibler divergence, averaged over every sample seen.

    Per sample, the loss :func:`minired.losses.kl_divergence`, with ``ỹ = clip(y, ε, 1)``
    and ``p̃ = clip(ŷ, ε, 1)``::

        ℓᵢ = Σ_c ỹ_c log(ỹ_c / p̃_c),      metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Example:
        >>> m = KLDivergence()
        >>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(m.result(), 5)
        0.45814
    """

    _direction = "down"

    def __init__(self, name: str = "kl_divergence", dtype: str | None = None) -> None:
        super().__init__(kl_divergence, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    """Poisson loss, averaged over every sample seen.

    Per sample, the loss :func:`minired.losses.poisson` over the ``D`` outputs::

        ℓᵢ = (1/D) Σ_d [ŷ_d - y_d log(ŷ_d + ε)],      metric = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ

    Example:
        >>> m = Poisson()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(m.result(), 5)
        0.5
    """

    _direction = "down"

    def __init__(self, name: str = "poisson", dtype: str | None = None) -> None:
        super().__init__(poisson, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}
