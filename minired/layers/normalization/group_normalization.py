"""GroupNormalization: normalize each sample over groups of its channels."""

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


class GroupNormalization(Layer):
    """Split the ``C`` channels into ``groups`` groups and normalize each group of each sample.

    The channels axis (``axis``) of ``x`` is cut into ``G = groups`` groups of ``C/G``
    channels; the statistics of one group of one sample run over its ``C/G`` channels and
    every other non-batch axis (the pixels, the time steps): ``m = (C/G)·H·W`` values for
    ``(N, H, W, C)`` inputs. ``G = 1`` is LayerNormalization over all the non-batch axes with
    one ``γ`` per channel; ``G = C`` (``groups=-1``) is instance normalization. Forward, for
    each sample and group::

        μ  = (1/m) Σ x                       the group's mean
        σ² = (1/m) Σ (x − μ)²                its variance (biased: 1/m)
        x̂  = (x − μ) / √(σ² + ε)
        a  = γ x̂ + β                         γ, β: one value per channel, trained

    computed as Keras does: ``a = x s + (β − μ s)`` with ``s = γ / √(σ² + ε)``.

    Backward, given ``δa`` (Σ_g over the ``m`` values of one group of one sample; Σ_N over
    the samples and the other axes, per channel, for the weights)::

        ∂L/∂γ = Σ_N δa ⊙ x̂                    ∂L/∂β = Σ_N δa
        g     = γ δa
        δx    = 1/(m √(σ² + ε)) · (m g − Σ_g g − x̂ Σ_g (g ⊙ x̂))

    LayerNormalization's formula, one group at a time.

    Args:
        groups: the number of groups ``G`` (default 32); it must divide the channels. -1 means
            one group per channel (set to ``C`` at the build, as Keras).
        axis: the channels axis, an int (default -1). Not the batch axis 0.
        epsilon: ``ε``, added to the variance (1e-3).
        center: whether to add ``β`` (no ``beta`` weight when False).
        scale: whether to multiply by ``γ`` (no ``gamma`` weight when False).
        beta_initializer, gamma_initializer: how ``β`` and ``γ`` start (zeros, ones).
        beta_regularizer, gamma_regularizer: penalties on ``β`` and ``γ``.
        beta_constraint, gamma_constraint: projections applied to ``β`` and ``γ`` after each
            optimizer step (see mr.constraints).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> layer = GroupNormalization(groups=2)
        >>> x = np.array([[1.0, 3.0, 10.0, 30.0]], dtype="float32")
        >>> np.round(layer(x), 4)       # groups [1, 3] and [10, 30], each to mean 0
        array([[-0.9995,  0.9995, -1.    ,  1.    ]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ) -> None:
        if isinstance(groups, bool) or not isinstance(groups, int) or (
                groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a "
                             "positive integer (or `-1` for instance normalization). "
                             f"Received: groups={groups}")
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError("GroupNormalization: `axis` must be one int, the channels axis "
                            f"(Keras indexes the shape with it). Received: axis={axis!r}")
        if axis == 0:
            raise ValueError("GroupNormalization: `axis` is the channels axis; 0 is the batch "
                             "axis. Received: axis=0")
        super().__init__(**kwargs)
        self.groups = groups
        self.axis = int(axis)
        self.epsilon = float(epsilon)
        set_scale_offset_arguments(self, center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint)

    _constrained_weights = SCALE_OFFSET_CONSTRAINTS

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"GroupNormalization {self.name!r}: axis {self.axis} is not a "
                             f"channels axis of inputs of shape {tuple(input_shape)}.")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             "dimension but the layer received an input with shape "
                             f"{tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = channels                  # one group per channel, as Keras
        if channels < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the "
                             f"number of channels ({channels}).")
        if channels % self.groups != 0:
            # (Keras' message says "multiple"; the number of channels must be a multiple of
            # the number of groups.)
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the "
                             f"number of channels ({channels}).")
        build_scale_offset(self, (channels,), self._float_dtype())
        self._channel_axis = self.axis % rank
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """A built layer takes inputs of its rank and number of channels (Keras' InputSpec)."""
        rank = len(self.input_shape)
        if len(input_shape) != rank or input_shape[self._channel_axis] not in (
                None, self.input_shape[self._channel_axis]):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"it was built for inputs of shape {tuple(self.input_shape)} "
                             f"(channels on axis {self.axis}), got {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    # -- the two passes -----------------------------------------------------------------------
    def _grouped_shape(self, shape: tuple) -> tuple:
        """``(..., C, ...)`` → ``(..., G, C/G, ...)``: the groups get their own axis."""
        c = self._channel_axis
        return (*shape[:c], self.groups, shape[c] // self.groups, *shape[c + 1:])

    def _group_axes(self, ndim: int) -> tuple:
        """The axes of one group's statistics in the grouped array: all but the batch axis
        and the groups' axis."""
        return tuple(a for a in range(1, ndim + 1) if a != self._channel_axis)

    def _per_channel(self, weight: np.ndarray, ndim: int) -> np.ndarray:
        """``γ`` or ``β`` shaped ``(1, ..., G, C/G, ..., 1)`` to broadcast over grouped x."""
        shape = [1] * (ndim + 1)
        shape[self._channel_axis] = self.groups
        shape[self._channel_axis + 1] = weight.shape[0] // self.groups
        return weight.reshape(shape)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        xg = x.reshape(self._grouped_shape(x.shape))                   # (..., G, C/G, ...)
        axes = self._group_axes(x.ndim)
        mean = np.mean(xg, axis=axes, keepdims=True)                   # μ per sample, group
        variance = np.mean(np.square(xg - mean), axis=axes, keepdims=True)     # σ² (1/m)
        inv_std = 1.0 / np.sqrt(variance + xg.dtype.type(self.epsilon))        # 1/√(σ²+ε)
        s = inv_std * self._per_channel(self.gamma, x.ndim) if self.scale else inv_std
        shift = -mean * s
        if self.center:
            shift = shift + self._per_channel(self.beta, x.ndim)
        self.cache = GroupNormalizationCache(xg, mean, inv_std)
        return (xg * s + shift).reshape(x.shape)                      # x s + (β − μ s)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        xg, mean, inv_std = self.cache
        ndim = xg.ndim - 1
        d_a = grad_outputs.reshape(xg.shape)
        axes = self._group_axes(ndim)
        channels = (self._channel_axis, self._channel_axis + 1)
        others = tuple(a for a in range(xg.ndim) if a not in channels)  # N and the pixels
        x_hat = (xg - mean) * inv_std                                   # x̂
        if self.scale:
            self.gamma_gradient += np.sum(d_a * x_hat, axis=others).reshape(-1)   # Σ δa ⊙ x̂
        if self.center:
            self.beta_gradient += np.sum(d_a, axis=others).reshape(-1)            # Σ δa
        g = d_a * self._per_channel(self.gamma, ndim) if self.scale else d_a
        m = xg[0].size // self.groups                                   # values per group
        sum_g = np.sum(g, axis=axes, keepdims=True)                     # Σ_g g
        sum_g_x_hat = np.sum(g * x_hat, axis=axes, keepdims=True)       # Σ_g g ⊙ x̂
        # δx = 1/(m √(σ²+ε)) · (m g − Σ_g g − x̂ Σ_g (g ⊙ x̂))
        d_x = (inv_std / m) * (m * g - sum_g - x_hat * sum_g_x_hat)
        return d_x.reshape(grad_outputs.shape)

    # -- weights ------------------------------------------------------------------------------
    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return scale_offset_triples(self)

    def get_config(self) -> dict:
        """Keras' GroupNormalization config."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "beta_regularizer": serialize(self.beta_regularizer),
            "gamma_regularizer": serialize(self.gamma_regularizer),
            **scale_offset_constraints_config(self),
        }


class GroupNormalizationCache(NamedTuple):
    """What one call of a GroupNormalization keeps for its backward pass."""

    xg: np.ndarray               #: the inputs, grouped ``(..., G, C/G, ...)``
    mean: np.ndarray             #: μ of each sample and group (keepdims)
    inv_std: np.ndarray          #: 1/√(σ² + ε) of each sample and group (keepdims)
