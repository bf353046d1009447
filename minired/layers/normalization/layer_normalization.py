"""LayerNormalization: normalize each sample over its features, with its own mean and variance."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired.layers.layer import Layer
from minired.layers.normalization.scale_offset import (
    SCALE_OFFSET_CONSTRAINTS,
    build_scale_offset,
    scale_offset_constraints_config,
    scale_offset_triples,
    set_scale_offset_arguments,
)
from minired.saving import serialization_lib


class LayerNormalization(Layer):
    """Normalize each sample to mean 0 and variance 1 over ``axis``, then scale and shift.

    Unlike :class:`BatchNormalization`, the statistics are those of **one sample** (one
    position of a sequence, for ``(N, T, C)`` inputs), taken over the ``m`` values of the
    normalized axes (``m = C`` for the default ``axis=-1``): nothing depends on the rest of
    the batch, and training and inference compute the same thing. Forward, for each sample::

        μ  = (1/m) Σ x                       its mean over the normalized axes
        σ² = (1/m) Σ (x − μ)²                its variance (biased: 1/m)
        x̂  = (x − μ) / √(σ² + ε)             mean 0, variance ≈ 1
        a  = γ x̂ + β                         γ, β: one value per normalized position, trained

    computed as Keras does, in one multiply and one add per value:
    ``a = x s + (β − μ s)`` with ``s = γ / √(σ² + ε)``.

    Backward, given ``δa = ∂L/∂a`` (Σ over the normalized axes of one sample; Σ_N over
    every sample for the weights)::

        ∂L/∂γ = Σ_N δa ⊙ x̂                    ∂L/∂β = Σ_N δa
        g     = γ δa                          the gradient reaching x̂
        δx    = 1/(m √(σ² + ε)) · (m g − Σ g − x̂ Σ (g ⊙ x̂))

    the same formula as batch normalization's, with the roles of the axes swapped: ``μ`` and
    ``σ²`` depend on every value of the sample, so shifting or stretching a sample's values
    together does not change ``x̂`` and gets no gradient.

    Args:
        axis: the normalized axis, or a list of them (default -1, the features).
        epsilon: ``ε``, added to the variance (Keras' default 1e-3; the keras-io transformers
            use 1e-6).
        center: whether to add ``β`` (no ``beta`` weight when False).
        scale: whether to multiply by ``γ`` (no ``gamma`` weight when False).
        beta_initializer, gamma_initializer: how ``β`` and ``γ`` start (zeros, ones).
        beta_regularizer, gamma_regularizer: penalties on ``β`` and ``γ``.
        beta_constraint, gamma_constraint: projections applied to ``β`` and ``γ`` after each
            optimizer step (see mr.constraints).
        name: layer name.
        trainable: whether the optimizer updates ``γ`` and ``β``.
        **kwargs: the deprecated ``rms_scaling`` (False only), ``input_shape`` on a first layer.

    Example:
        >>> layer = LayerNormalization()
        >>> x = np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]], dtype="float32")
        >>> np.round(layer(x), 4)            # each row: mean 0, variance ≈ 1
        array([[-1.2238,  0.    ,  1.2238],
               [-0.7071, -0.7071,  1.4142]], dtype=float32)
        >>> [w.shape for w in layer.get_weights()]      # γ, β
        [(3,), (3,)]
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        if kwargs.pop("rms_scaling", False):
            raise ValueError("LayerNormalization: `rms_scaling=True` is deprecated in Keras "
                             "(it scales by the variance, not the root mean square) and not "
                             "implemented in minired; leave it False.")
        super().__init__(name=name, trainable=trainable, **kwargs)
        if isinstance(axis, list | tuple):
            self.axis = [_int_axis(a) for a in axis]
        else:
            self.axis = _int_axis(axis)
        self.epsilon = float(epsilon)
        set_scale_offset_arguments(self, center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint)

    _constrained_weights = SCALE_OFFSET_CONSTRAINTS

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"LayerNormalization {self.name!r}: axis {a} is out of "
                                 f"bounds for inputs of shape {tuple(input_shape)}.")
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(f"LayerNormalization {self.name!r}: the normalized axes {axes} "
                             f"must have a known size, got inputs of shape "
                             f"{tuple(input_shape)}.")
        self.axis = axes                        # as Keras: a sorted list once built
        dtype = self._float_dtype()
        build_scale_offset(self, shape, dtype)
        self._normalized_axes = tuple(sorted(a % rank for a in axes))
        self._weight_shape = shape
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """A built layer takes inputs of its rank with the normalized axes' sizes."""
        rank = len(self.input_shape)
        sizes = tuple(input_shape[a] for a in self._normalized_axes) if len(
            input_shape) == rank else None
        if sizes is None or any(s not in (None, w) for s, w in zip(sizes, self._weight_shape,
                                                                   strict=True)):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"it was built for inputs of shape {tuple(self.input_shape)} "
                             f"(normalizing axes {self.axis}), got {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= a < len(input_shape):
                raise ValueError(f"Axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        axes = self._normalized_axes
        mean = np.mean(x, axis=axes, keepdims=True)                            # μ per sample
        variance = np.mean(np.square(x - mean), axis=axes, keepdims=True)      # σ² (1/m)
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)                       # 1/√(σ²+ε)
        # Keras' folded form: s = γ/√(σ²+ε), a = x s + (β − μ s): the map γ x̂ + β.
        s = inv_std * self._broadcast(self.gamma) if self.scale else inv_std
        shift = -mean * s
        if self.center:
            shift = shift + self._broadcast(self.beta)
        self.cache = LayerNormalizationCache(x, mean, inv_std)
        return x * s + shift

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x, mean, inv_std = self.cache
        axes = self._normalized_axes
        others = tuple(i for i in range(x.ndim) if i not in axes)      # the samples' axes
        x_hat = (x - mean) * inv_std                                    # x̂
        if self.scale:
            self.gamma_gradient += np.sum(grad_outputs * x_hat, axis=others).reshape(
                self._weight_shape)                                     # ∂L/∂γ += Σ_N δa ⊙ x̂
        if self.center:
            self.beta_gradient += np.sum(grad_outputs, axis=others).reshape(
                self._weight_shape)                                     # ∂L/∂β += Σ_N δa
        g = grad_outputs * self._broadcast(self.gamma) if self.scale else grad_outputs
        m = int(np.prod([x.shape[a] for a in axes]))                    # values per sample
        sum_g = np.sum(g, axis=axes, keepdims=True)                     # Σ g
        sum_g_x_hat = np.sum(g * x_hat, axis=axes, keepdims=True)       # Σ g ⊙ x̂
        # δx = 1/(m √(σ²+ε)) · (m g − Σ g − x̂ Σ (g ⊙ x̂))
        return (inv_std / m) * (m * g - sum_g - x_hat * sum_g_x_hat)

    def _broadcast(self, weight: np.ndarray) -> np.ndarray:
        """``γ`` or ``β`` shaped to broadcast against the inputs: 1 on the samples' axes."""
        shape = [1] * len(self.input_shape)
        for a, size in zip(self._normalized_axes, self._weight_shape, strict=True):
            shape[a] = size
        return weight.reshape(shape)

    # -- weights ------------------------------------------------------------------------------
    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return scale_offset_triples(self)

    def get_config(self) -> dict:
        """Keras' LayerNormalization config."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": False,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "beta_regularizer": serialize(self.beta_regularizer),
            "gamma_regularizer": serialize(self.gamma_regularizer),
            **scale_offset_constraints_config(self),
        }


def _int_axis(axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but "
                        f"received: {axis!r}")
    return int(axis)


class LayerNormalizationCache(NamedTuple):
    """What one call of a LayerNormalization keeps for its backward pass."""

    x: np.ndarray                #: the inputs: x̂ is recomputed from them
    mean: np.ndarray             #: μ of each sample (keepdims)
    inv_std: np.ndarray          #: 1/√(σ² + ε) of each sample (keepdims)
