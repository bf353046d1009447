"""The metric contract, and the running means and sums most metrics are made of.

A metric is a small accumulator: ``update_state(...)`` adds one batch to running sums (its
*state*), ``result()`` turns the sums into the number reported, ``reset_state()`` zeroes
them (``fit`` does it at the start of every epoch). A metric has no gradient: it is only
reported, never minimised. Keras keeps the state as variables in ``floatx``; here they are
NumPy arrays of the metric's ``dtype``, so the sums round as Keras' do.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from minired import config
from minired.losses.loss import Loss, squeeze_or_expand_to_same_rank
from minired.utils.naming import auto_name

if TYPE_CHECKING:
    from minired.variables import Variable


class Metric:
    """Base class: a name, a dtype, and the ``update_state`` / ``result`` /
    ``reset_state`` contract.

    Args:
        dtype: the dtype of the state and of the result; ``None`` means ``floatx()``.
        name: the name in the logs; ``None`` gives the snake_case class name, numbered from
            its second use in the session (``"precision"``, ``"precision_1"``), as Keras.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, name="count"):
        ...         super().__init__(name=name); self.reset_state()
        ...     def reset_state(self): self.n = 0
        ...     def update_state(self, y_true, y_pred, sample_weight=None): self.n += len(y_true)
        ...     def result(self): return float(self.n)
        >>> Count()([1, 2], [1, 2])
        2.0
    """

    #: Whether ``fit`` and ``evaluate`` hand this metric the logits ``z`` behind a softmax
    #: or sigmoid output instead of ``ŷ`` (:meth:`MeanMetricWrapper.update_state_from_logits`),
    #: as they do for a cross-entropy loss; True for the cross-entropies, see
    #: ``minired.keras_numerics`` item 5.
    uses_output_logits = False

    def __init__(self, dtype: str | None = None, name: str | None = None) -> None:
        self.name = name or auto_name(type(self).__name__)
        self.dtype = np.dtype(dtype or config.floatx()).name
        self._variables: list = []

    def add_variable(self, shape: tuple, initializer, dtype: str | None = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """A state Variable of this metric (a running sum, a count...), as Keras'
        ``Metric.add_variable``: :meth:`reset_state` sets it back to zeros.

        Args:
            shape: the Variable's shape (``()`` for one number).
            initializer: a Keras name (``"zeros"``), an ``mr.initializers`` object or an
                array: the starting value.
            dtype: ``None`` gives ``mr.config.floatx()``, as Keras (not the metric's dtype).
            aggregation: how a distributed run would combine copies; accepted and ignored.
            name: the Variable's name.

        Example:
            >>> class TruePositives(Metric):
            ...     def __init__(self, name="tp"):
            ...         super().__init__(name=name)
            ...         self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
            ...     def update_state(self, y_true, y_pred, sample_weight=None):
            ...         hits = (np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5)
            ...         self.tp.assign_add(hits.sum())
            ...     def result(self):
            ...         return self.tp
            >>> metric = TruePositives()
            >>> metric([1, 1, 0], [0.9, 0.2, 0.8])
            1.0
        """
        from minired.variables import Variable

        if initializer is None:     # Keras fails here too, with a TensorFlow message
            raise ValueError(f"Metric {self.name!r}: add_weight() and add_variable() need an "
                             "`initializer` (e.g. initializer='zeros'), got None.")
        variable = Variable(initializer, shape=shape, dtype=dtype, trainable=False, name=name)
        self.__dict__.setdefault("_variables", []).append(variable)
        return variable

    def add_weight(self, shape: tuple = (), initializer=None, dtype: str | None = None,
                   name: str | None = None) -> Variable:
        """Keras 2's name for :meth:`add_variable`, kept by Keras 3 with its defaults: one
        number (``shape=()``), so ``self.add_weight(name="n", initializer="zeros")`` makes
        a counter. ``initializer`` is still required.

        Example:
            >>> class Count(Metric):
            ...     def __init__(self, name="count"):
            ...         super().__init__(name=name)
            ...         self.n = self.add_weight(name="n", initializer="zeros")
            ...     def update_state(self, y_true, y_pred, sample_weight=None):
            ...         self.n.assign_add(1.0)
            ...     def result(self):
            ...         return self.n
            >>> Count()([1], [1])
            1.0
        """
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The Variables made by :meth:`add_variable`."""
        return list(self.__dict__.get("_variables", []))

    def reset_state(self) -> None:
        """Zero every Variable of the metric (a metric with other state overrides this)."""
        if not self.variables:
            raise NotImplementedError(f"{type(self).__name__} must implement reset_state() "
                                      "or keep its state in add_variable() Variables.")
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then ``result()`` (a float, or an array)."""
        self.update_state(*args, **kwargs)
        return as_result(self.result())

    def get_config(self) -> dict:
        """The constructor arguments, with Keras' keys (``name``, ``dtype``, ...)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def _zeros(self, shape=()) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)


def as_result(value):
    """A metric's result as Keras logs it: a Python float, or an array for vector results."""
    value = np.array(value)             # a copy: a Variable's later updates do not show
    return float(value) if value.ndim == 0 else value


def divide_no_nan(numerator, denominator) -> np.ndarray:
    """``numerator / denominator``, and 0 where the denominator is 0 (Keras' divide_no_nan)."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    if numerator.ndim == denominator.ndim == 0:
        # Two numbers (a running mean's total and count, every batch): the same division,
        # without broadcasting arrays for them.
        if denominator == 0:
            return np.zeros((), dtype=np.result_type(numerator, denominator))
        return np.asarray(numerator / denominator)
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    out = np.zeros(numerator.shape, dtype=np.result_type(numerator, denominator))
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype: str):
    """Keras' ``reduce_to_samplewise_values``: one value per sample, weighted.

    ``values`` is cast to ``dtype``. With weights, ranks are matched (a trailing axis of 1),
    the axes of ``values`` beyond the weights' rank are reduced, the weights are broadcast
    and multiplied in, and weights of rank > 1 are reduced to one per sample. Finally every
    axis after the first is reduced. ``reduce_fn`` is ``np.mean`` for :class:`Mean` and
    ``np.sum`` for :class:`Sum`.
    """
    values = np.asarray(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        if values.ndim == sample_weight.ndim == 0:
            # One number and its weight (fit's loss of a batch, weighted by its size):
            # nothing to match, reduce or broadcast.
            return values * sample_weight, sample_weight
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values.ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """Weighted running sum ``total = Σ w·v`` over every batch.

    Values of rank > 1 are first summed to one value per sample.

    Example:
        >>> m = Sum(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0]); m.result()
        4.0
    """

    def __init__(self, name: str = "sum", dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = self._zeros()

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = reduce_to_samplewise_values(values, sample_weight, np.sum, self.dtype)
        self.total += np.sum(values)

    def result(self) -> float:
        return float(self.total)


class Mean(Metric):
    """Weighted running mean ``total / count``, accumulated in the metric's dtype like Keras.

    ``update_state(values, sample_weight)`` reduces ``values`` to one value per sample (mean
    over the other axes), then adds ``Σ w·v`` to ``total`` and ``Σ w`` to ``count``
    (``count += len(values)`` without weights). Weights of lower rank than the values
    average the extra axes first, as Keras: ``update_state([1, 3], sample_weight=2)``
    adds ``2 · mean(1, 3)`` to ``total`` and 2 to ``count``. ``result()`` is
    ``total / count``, or 0 before any update.

    ``fit`` feeds one to each batch's loss with weight ``n_b`` (the batch size), so the
    epoch loss is ``Σ_b n_b L_b / Σ_b n_b``: a batch-size-weighted mean of the losses
    computed *before* each update.

    Example:
        >>> m = Mean(); m.update_state(2.0, sample_weight=3); m.update_state(1.0, sample_weight=1)
        >>> m.result()
        1.75
    """

    # Kept for the loss trackers, which are Means: a monitored "<output>_loss" is minimised.
    _direction = "down"

    def __init__(self, name: str = "mean", dtype: str | None = None) -> None:
        super().__init__(dtype=dtype, name=name)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = self._zeros()
        self.count = self._zeros()

    def update_state(self, values, sample_weight=None) -> None:
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, np.mean, self.dtype)
        if values.ndim == 0 and sample_weight is not None and sample_weight.ndim == 0:
            # fit's loss of a batch and its size: the sums of a 0-d array are the array
            self.total += values
            self.count += sample_weight
            return
        self.total += values.sum()
        if sample_weight is not None:
            self.count += sample_weight.sum()
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def result(self) -> float:
        return float(divide_no_nan(self.total, self.count))


class MeanMetricWrapper(Mean):
    """A :class:`Mean` of per-sample values ``fn(y_true, y_pred, **kwargs)``.

    The metric is ``Σᵢ wᵢ vᵢ / Σᵢ wᵢ`` over every sample seen since the last reset, where
    ``vᵢ`` is ``fn``'s value for sample i (averaged over any further axes), e.g. 0 or 1
    for an accuracy, ``|y - ŷ|`` averaged over the last axis for the mean absolute error.

    Args:
        fn: ``fn(y_true, y_pred, **kwargs) -> values`` (one value per sample, or more).
        name: the name in the logs.
        dtype: the dtype of the running sums (``None``: floatx).
        **kwargs: passed on to ``fn`` (e.g. ``threshold``, ``k``).
    """

    def __init__(self, fn, name: str | None = None, dtype: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        # metrics=[mr.losses.binary_crossentropy], or [mr.losses.BinaryCrossentropy()]
        if fn in _cross_entropies() or (isinstance(fn, Loss) and fn.uses_output_logits):
            self.uses_output_logits = True

    def update_state(self, y_true, y_pred, sample_weight=None, *, mask=None) -> None:
        """Add the values of a batch. ``mask`` is the mask of ``y_pred`` (Keras reads it
        from the predictions' ``_keras_mask``; a model's ``fit`` and ``evaluate`` pass it):
        the masked values get weight 0, ``w · m``, so the metric is the mean over the real
        time steps only (Keras' ``apply_mask`` with ``reduction="sum"``)."""
        self._add(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight, mask)

    def update_state_from_logits(self, y_true, logits, sample_weight=None, *,
                                 mask=None) -> None:
        """:meth:`update_state` for a cross-entropy (:attr:`uses_output_logits`) given the
        logits ``z`` behind a softmax or sigmoid output: the values are
        ``fn(y, z, from_logits=True)``, whatever this metric's own ``from_logits``.

        ``fit`` and ``evaluate`` call it where Keras on TensorFlow reads the output's
        ``_keras_logits`` (see ``minired.keras_numerics`` item 5). The formula stays the
        metric's: a binary cross-entropy on a softmax's ``z`` is the sigmoid one, as in
        TensorFlow.

        Example:
            >>> m = MeanMetricWrapper(mr.losses.binary_crossentropy)
            >>> m.update_state_from_logits([[1.0]], [[0.0]])    # σ(0) = 0.5
            >>> round(m.result(), 5)                              # log 2
            0.69315
        """
        if isinstance(self._fn, Loss):       # a loss object: its value, read on the logits
            values = self._fn.compute(y_true, logits, from_logits=True, gradient=False)[0]
        else:
            values = self._fn(y_true, logits, **{**self._fn_kwargs, "from_logits": True})
        self._add(values, sample_weight, mask)

    def _add(self, values, sample_weight, mask) -> None:
        """The running mean takes ``values``, weighted by ``sample_weight`` and ``mask``."""
        if mask is not None:
            from minired.losses.loss import apply_mask

            sample_weight = apply_mask(sample_weight, mask, self.dtype, "sum")
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": self._fn, **self._fn_kwargs}


@functools.cache
def _cross_entropies() -> tuple:
    """The loss functions that compute a cross-entropy with TensorFlow's kernels in Keras,
    so read the logits behind a softmax or sigmoid output (the categorical focal one does
    not: Keras writes it with ``log``)."""
    from minired import losses

    return (losses.binary_crossentropy, losses.categorical_crossentropy,
            losses.sparse_categorical_crossentropy, losses.binary_focal_crossentropy)
