"""Normalization: ``y = (x - mean) / sqrt(variance)``, with the statistics from ``adapt``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minired import config, keras_numerics
from minired.layers.layer import Layer


def _is_one_array(data: Any) -> bool:
    """An array or a nested list of numbers, as opposed to an iterable of batches.

    Keras reads every list as a list of batches (and refuses one whose items have no
    ``.shape``); minired reads a list of numbers or of lists as one array.
    """
    if isinstance(data, np.ndarray) or not hasattr(data, "__iter__"):
        return True
    return isinstance(data, list | tuple) and bool(data) and not isinstance(
        data[0], np.ndarray | tuple)


class Normalization(Layer):
    """Standardize features: subtract a mean and divide by a standard deviation.

    Forward and backward, with ``σ = max(sqrt(variance), ε)`` (``ε`` =
    :func:`minired.config.epsilon`, 1e-7, so a constant feature does not divide by 0)::

        y  = (x - mean) / σ         δx = δy / σ
        invert=True:
        y  = mean + x · σ           δx = δy · σ       (undoes the normalization)

    ``mean`` and ``variance`` have one value per index of the kept ``axis`` (per feature
    for the default ``axis=-1``) and are broadcast over the other axes. They come from
    the constructor, or from :meth:`adapt`, which computes them from data::

        mean     = mean of x over every axis but the kept ones
        variance = mean of (x - mean)² over the same axes     (population variance)

    Adapted statistics are stored as three **non-trainable** weights, in Keras' order:
    ``mean``, ``variance`` and ``count`` (an int64 scalar that Keras 3 keeps at 0, a
    leftover of older versions), so ``get_weights()`` matches Keras' and the optimizer
    never changes them. Before ``adapt`` they are 0 and 1 (the layer is the identity).
    Each call reads the current weights, so ``set_weights`` takes effect at once (an
    adapted Keras layer keeps using the statistics it had when ``adapt`` finished).
    Given ``mean``/``variance`` are constants, not weights; a Python float among them is
    rounded to float32 first, as Keras does (see
    :func:`minired.keras_numerics.as_keras_constant`).

    Args:
        axis: the axis (or tuple of axes) with a separate mean and variance per index;
            ``None`` uses one scalar mean and variance for everything.
        mean: the means, or ``None`` to use :meth:`adapt`; broadcast to the kept axes.
        variance: the variances (given together with ``mean``, of the same shape).
        invert: apply the inverse, ``mean + x · σ``.
        name: layer name.

    Example:
        >>> layer = Normalization()
        >>> layer.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
        >>> layer(np.array([[0.0, 7.0]]))
        array([[-1., -1.]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, axis: int | tuple[int, ...] | None = -1, mean=None, variance=None,
                 invert: bool = False, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must "
                                 f"have the same shape. Received: mean shape {np.shape(mean)} "
                                 f"and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")
        # The adapted statistics (weights), or the given ones (constants), and their
        # gradients: zeros that stay zeros, as the layer is not trained.
        self._stats: list[np.ndarray] = []
        self._zero_gradients: list[np.ndarray] = []
        self._constants: tuple[np.ndarray, np.ndarray] | None = None

    # -- shapes -------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Work out the kept and reduced axes; create mean, variance and count (zeros, ones,
        0) when they are to be adapted, or broadcast the given ones."""
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={input_shape}, "
                                 f"with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        stats_shape = tuple(input_shape[d] for d in self._keep_axis)
        dtype = self._float_dtype()
        if self.input_mean is None:
            self._stats = [np.zeros(stats_shape, dtype), np.ones(stats_shape, dtype),
                           np.zeros((), np.int64)]
            self._zero_gradients = [np.zeros_like(w) for w in self._stats]
        else:
            self._constants = (self._broadcast_given(self.input_mean, dtype),
                               self._broadcast_given(self.input_variance, dtype))
        super().build(input_shape)

    def _broadcast_given(self, value, dtype: np.dtype) -> np.ndarray:
        """A given mean or variance as an array of the broadcast shape; its axes line up
        with the kept axes from the right, as in Keras."""
        value = np.asarray(keras_numerics.as_keras_constant(value, dtype))
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(expanded), self._broadcast_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        shape = tuple(input_shape)
        built = self.input_shape
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError(f"Normalization {self.name!r} was built for inputs of shape "
                             f"{built} (axis={self.axis}), got {shape}: the kept axes must "
                             "have the same sizes.")

    # -- adapt --------------------------------------------------------------------------------
    def adapt(self, data: Any) -> None:
        """Compute the mean and variance of ``data`` and store them as the layer's weights.

        Args:
            data: an array of samples (``(N, features)`` for the default axis), or an
                iterable of such batches (a list of arrays, a generator), or of
                ``(x, y)`` tuples; the batches are combined exactly (Keras' running
                formula, below).

        With batches, the running mean ``m`` and variance ``v`` over ``n`` values take in a
        batch of ``b`` values with mean ``m_b`` and variance ``v_b`` as::

            w  = b / (n + b)
            m' = (1 - w) m + w m_b
            v' = (1 - w) (v + (m - m')²) + w (v_b + (m_b - m')²)
        """
        if _is_one_array(data):
            data = np.asarray(data)
            self._build_for(data.shape)
            mean = np.mean(data, axis=self._reduce_axis)
            variance = np.var(data, axis=self._reduce_axis)
        else:
            mean, variance = self._adapt_batches(data)
        self._stats[0][...] = mean
        self._stats[1][...] = variance

    def _build_for(self, shape: tuple) -> None:
        if not self.built:
            self.build(shape)
        elif any(shape[d] != self.input_shape[d] for d in self._keep_axis):
            raise ValueError(f"The layer was built with input_shape={self.input_shape}, but "
                             "adapt() is being called with data with an incompatible shape, "
                             f"data.shape={shape}")
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r} was given `mean` and `variance`; "
                             "adapt() is for a layer created without them.")

    def _adapt_batches(self, batches) -> tuple[np.ndarray, np.ndarray]:
        mean = variance = None
        count = 0
        for batch in batches:
            batch = batch[0] if isinstance(batch, tuple) else batch
            batch = np.asarray(batch).astype(self._float_dtype(), copy=False)
            self._build_for(batch.shape)
            if mean is None:
                mean = np.zeros(self._stats[0].shape, batch.dtype)
                variance = np.zeros(self._stats[0].shape, batch.dtype)
            batch_mean = np.mean(batch, axis=self._reduce_axis)
            batch_variance = np.var(batch, axis=self._reduce_axis)
            batch_count = math.prod(batch.shape[d] for d in self._reduce_axis)
            count += batch_count
            w = batch.dtype.type(batch_count / count)
            new_mean = mean * (1 - w) + batch_mean * w
            variance = ((variance + (mean - new_mean) ** 2) * (1 - w)
                        + (batch_variance + (batch_mean - new_mean) ** 2) * w)
            mean = new_mean
        if mean is None:
            raise ValueError("adapt() received an empty iterable (no batches). Expected at "
                             "least one batch.")
        return mean, variance

    # -- the two passes -----------------------------------------------------------------------
    def _mean_and_sigma(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """``mean`` and ``σ = max(sqrt(variance), ε)``, shaped to broadcast over the inputs."""
        if self._constants is not None:
            mean, variance = self._constants
        else:
            mean = self._stats[0].reshape(self._broadcast_shape)
            variance = self._stats[1].reshape(self._broadcast_shape)
        mean, variance = mean.astype(dtype, copy=False), variance.astype(dtype, copy=False)
        return mean, np.maximum(np.sqrt(variance), dtype.type(config.epsilon()))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        dtype = self._float_dtype()
        x = np.asarray(inputs).astype(dtype, copy=False)
        mean, sigma = self._mean_and_sigma(dtype)
        self.cache = sigma
        if self.invert:
            return mean + x * sigma
        return (x - mean) / sigma

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        sigma = self.cache
        return grad_outputs * sigma if self.invert else grad_outputs / sigma

    # -- weights: non-trainable ---------------------------------------------------------------
    def _weight_triples(self) -> list:
        return [(w, g, None) for w, g in zip(self._stats, self._zero_gradients, strict=True)]

    def _trainable_pairs(self) -> list:
        """None: mean, variance and count are set by :meth:`adapt`, not trained (so
        ``trainable_weights`` is empty and ``non_trainable_weights`` holds all three)."""
        return []

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``axis``, ``invert``, ``mean``,
        ``variance`` (the given ones, as lists, or None)."""
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist()}
