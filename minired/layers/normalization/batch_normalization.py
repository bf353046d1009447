"""BatchNormalization: normalize each channel with the batch's mean and variance."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minired import initializers
from minired.config import epsilon
from minired.layers.layer import Layer
from minired.layers.normalization.scale_offset import (
    SCALE_OFFSET_CONSTRAINTS,
    build_scale_offset,
    scale_offset_constraints_config,
    scale_offset_triples,
    set_scale_offset_arguments,
)
from minired.saving import serialization_lib
from minired.variables import Variable


class BatchNormalization(Layer):
    """Normalize each channel to mean 0 and variance 1, then scale by ``γ`` and shift by ``β``.

    A *channel* is one index of ``axis`` (a feature for ``(N, C)`` inputs, a colour channel
    for ``(N, H, W, C)`` images); its statistics are taken over every other axis, so each
    channel has ``m = x.size / C`` values per batch (``m = N`` for ``(N, C)``, ``N·H·W``
    for images).

    Forward, **training** (``fit``, or ``training=True``), per channel::

        μ  = (1/m) Σ x                       the batch mean                      (C,)
        σ² = (1/m) Σ (x − μ)²                the batch variance (biased: 1/m)    (C,)
        x̂  = (x − μ) / √(σ² + ε)             mean 0, variance ≈ 1                same as x
        a  = γ x̂ + β                         γ, β: (C,), trained

    and the moving statistics take a step toward the batch's (``momentum`` = 0.99)::

        moving_mean     ← moving_mean     · momentum + μ  · (1 − momentum)
        moving_variance ← moving_variance · momentum + σ² · (1 − momentum)

    Forward, **inference** (``predict``, ``evaluate``, ``training=False``, or a layer with
    ``trainable=False``, as in Keras 3): the same formulas with ``μ, σ²`` replaced by the
    moving statistics, so the output of a sample no longer depends on the rest of its batch.

    The code computes ``a`` as Keras (TensorFlow's ``tf.nn.batch_normalization``) does, folded
    into one multiply and one add per value, the same map written as ``a = x s + (β − μ s)``
    with ``s = γ / √(σ² + ε)``.

    Backward, given ``δa = ∂L/∂a`` (sums over the ``m`` values of each channel)::

        ∂L/∂γ = Σ δa ⊙ x̂                     (C,)
        ∂L/∂β = Σ δa                         (C,)

    **Inference**: ``μ`` and ``σ²`` are constants, so the layer is a fixed affine map::

        δx = δa · γ / √(σ² + ε)

    **Training**: ``μ`` and ``σ²`` depend on every ``x`` of the channel. Differentiating
    ``x̂_j = (x_j − μ)/√(σ² + ε)`` with ``∂μ/∂x_i = 1/m`` and ``∂σ²/∂x_i = 2 (x_i − μ)/m``::

        ∂x̂_j/∂x_i = (δ_ij − 1/m − x̂_i x̂_j / m) / √(σ² + ε)

    and summing ``δx_i = Σ_j (γ δa_j) ∂x̂_j/∂x_i``::

        δx = γ / (m √(σ² + ε)) · (m δa − Σ δa − x̂ Σ (δa ⊙ x̂))

    The two subtracted terms remove from ``δa`` its mean and its component along ``x̂``:
    moving all values of a channel together, or stretching them, does not change ``x̂``.
    (``m = 1``, a batch of one sample: ``x̂ = 0`` and ``δx = 0``.)

    **With a mask** (in a model, the mask of the input, ``(N, T)`` for ``(N, T, C)``; by
    hand ``layer(x, training=True, mask=m)``), Keras takes the batch statistics over the
    real positions only (``w = m`` stretched over the last axis, ``D = Σ w + ε₇`` with
    Keras' fuzz factor ``ε₇ = 1e-7``), and normalizes every position with them::

        μ  = Σ w x / D        σ² = Σ w (x − μ)² / D        a = γ (x − μ)/√(σ² + ε) + β

    Backward (``r = 1/√(σ² + ε)``, ``g = γ δa``; ``Σ w (x − μ) = μ ε₇``, not quite 0)::

        δx = r (g − (w/D) (Σ g + x̂ Σ (g ⊙ x̂) − r μ ε₇ Σ (g ⊙ x̂) / D))

    In inference the mask is not read (the moving statistics), as in Keras.

    Weights, in Keras' order: ``gamma`` (if ``scale``), ``beta`` (if ``center``), then the
    **non-trainable** ``moving_mean`` and ``moving_variance`` (:class:`~minired.variables.Variable`
    with ``trainable=False``): the optimizer never changes them, ``get_weights`` and saved
    files include them. They get no gradient (their gradient arrays stay 0).

    Args:
        axis: the channel axis (an int; -1, the last, for ``(N, C)``, ``(N, T, C)`` and
            ``(N, H, W, C)`` inputs).
        momentum: the weight of the old value in the moving averages.
        epsilon: ``ε``, added to the variance so that a constant channel does not divide by 0.
        center: whether to add ``β`` (no ``beta`` weight when False).
        scale: whether to multiply by ``γ`` (no ``gamma`` weight when False).
        beta_initializer, gamma_initializer: how ``β`` and ``γ`` start (zeros, ones).
        moving_mean_initializer, moving_variance_initializer: how the moving statistics
            start (zeros, ones).
        beta_regularizer, gamma_regularizer: penalties on ``β`` and ``γ``.
        beta_constraint, gamma_constraint: projections applied to ``β`` and ``γ`` after each
            optimizer step (see mr.constraints).
        renorm: Keras-only, accepted at Keras' default only (as are ``renorm_clipping``,
            ``renorm_momentum`` and ``synchronized``).
        name: layer name.
        trainable: False freezes the layer: no weight changes, and inference mode even in
            ``fit`` (Keras 3's rule for this layer).
        **kwargs: ``input_shape``/``input_dim`` on a first layer (see
            :class:`~minired.layers.Layer`).

    Example:
        >>> layer = BatchNormalization()
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], dtype="float32")
        >>> np.round(layer(x, training=True), 4)    # per column: μ = 2, 20; σ² = 1, 100
        array([[-0.9995, -1.    ],
               [ 0.9995,  1.    ]], dtype=float32)
        >>> mean, variance = layer.get_weights()[2:]     # one step of 0.01 toward μ, σ²
        >>> np.round(mean, 4), np.round(variance, 4)
        (array([0.02, 0.2 ], dtype=float32), array([1.  , 1.99], dtype=float32))
        >>> [w.name for w in layer.non_trainable_weights]
        ['moving_mean', 'moving_variance']
    """

    _supports_masking_default = True      # passes a mask on, as in Keras
    _keras_node_kwargs = {"mask": None}   # what Keras records for a call in a model

    _constrained_weights = SCALE_OFFSET_CONSTRAINTS

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm: bool = False,
        renorm_clipping=None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"BatchNormalization: `axis` must be an int (Keras 3 normalizes "
                            f"along one channel axis), got {axis!r}.")
        _refuse_keras_only(renorm=renorm, renorm_clipping=renorm_clipping,
                           renorm_momentum=renorm_momentum, synchronized=synchronized)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        set_scale_offset_arguments(self, center, scale, beta_initializer, gamma_initializer,
                                   beta_regularizer, gamma_regularizer, beta_constraint,
                                   gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis} is out of "
                             f"bounds for inputs of shape {tuple(input_shape)}.")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"BatchNormalization {self.name!r}: the channel axis {self.axis} "
                             f"of the inputs must have a known size, got {tuple(input_shape)}.")
        shape, dtype = (channels,), self._float_dtype()
        build_scale_offset(self, shape, dtype)
        self.moving_mean = Variable(self.moving_mean_initializer, shape=shape, dtype=dtype,
                                    trainable=False, name="moving_mean")
        self.moving_variance = Variable(self.moving_variance_initializer, shape=shape,
                                        dtype=dtype, trainable=False, name="moving_variance")
        self._channel_axis = self.axis % rank
        self._reduction_axes = tuple(i for i in range(rank) if i != self._channel_axis)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """A built layer takes inputs of the rank it was built for, with the same number of
        channels (Keras' ``InputSpec(ndim=rank, axes={axis: C})``)."""
        rank = len(self.input_shape)
        if len(input_shape) != rank:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={rank}, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}."
            )
        channels = self.moving_mean.shape[0]
        if input_shape[self.axis] not in (None, channels):
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected axis "
                f"{self.axis} of input shape to have value {channels}, but received input "
                f"with shape {tuple(input_shape)}."
            )

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False, mask=None) -> np.ndarray:
        x = np.asarray(inputs).astype(self._float_dtype(), copy=False)
        per_channel = self._per_channel_shape(x.ndim)        # (1, …, C, …, 1) to broadcast
        batch_statistics = bool(training) and self.trainable   # frozen: inference, as Keras
        if mask is not None and np.ndim(mask) != x.ndim - 1:
            raise ValueError("The mask provided should be one dimension less than the "
                             f"inputs. Received: mask.shape={np.shape(mask)}, "
                             f"inputs.shape={x.shape} (layer {self.name!r})")
        weights = count = None
        if batch_statistics and mask is not None:
            weights = np.broadcast_to(np.asarray(mask, dtype=bool)[..., None], x.shape)   # w
            mean, variance, count = _masked_moments(x, weights, self._reduction_axes,
                                                    per_channel)
        elif batch_statistics:
            mean = np.mean(x, axis=self._reduction_axes)                          # μ
            variance = np.mean(np.square(x - mean.reshape(per_channel)),
                               axis=self._reduction_axes)                        # σ² (1/m)
        if batch_statistics:
            # Keras' update, operation for operation (NumPy casts the Python floats to the
            # arrays' dtype, as TensorFlow does): moving · momentum + batch · (1 − momentum).
            self.moving_mean.assign(self.moving_mean.value * self.momentum
                                    + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance.value * self.momentum
                                        + variance * (1.0 - self.momentum))
        else:
            mean = self.moving_mean.value.copy()
            variance = self.moving_variance.value.copy()
        inv_std = 1.0 / np.sqrt(variance + self.epsilon)                         # 1/√(σ²+ε)
        # Keras' folded form: a = x s + (β − μ s), s = γ/√(σ²+ε): the map γ x̂ + β.
        s = inv_std * self.gamma if self.scale else inv_std
        shift = self.beta - mean * s if self.center else -mean * s
        a = x * s.reshape(per_channel) + shift.reshape(per_channel)
        self.cache = BatchNormalizationCache(x, mean, inv_std, batch_statistics, weights,
                                             count)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x, mean, inv_std, batch_statistics, weights, count = self.cache
        per_channel = self._per_channel_shape(x.ndim)
        x_hat = (x - mean.reshape(per_channel)) * inv_std.reshape(per_channel)      # x̂
        sum_grad = np.sum(grad_outputs, axis=self._reduction_axes)                  # Σ δa
        sum_grad_x_hat = np.sum(grad_outputs * x_hat, axis=self._reduction_axes)    # Σ δa ⊙ x̂
        if self.scale:
            self.gamma_gradient += sum_grad_x_hat                       # ∂L/∂γ += Σ δa ⊙ x̂
        if self.center:
            self.beta_gradient += sum_grad                              # ∂L/∂β += Σ δa
        s = inv_std * self.gamma if self.scale else inv_std             # γ/√(σ²+ε)
        if not batch_statistics:
            return grad_outputs * s.reshape(per_channel)                # δx = δa γ/√(σ²+ε)
        if weights is not None:      # masked: δx = r (g − (w/D)(Σg + x̂ Σg x̂ − r μ ε₇ Σg x̂ / D))
            gamma = np.reshape(self.gamma, per_channel) if self.scale else 1.0
            sum_g = (gamma * sum_grad.reshape(per_channel))                      # Σ g
            sum_g_x_hat = gamma * sum_grad_x_hat.reshape(per_channel)            # Σ g ⊙ x̂
            r, d = inv_std.reshape(per_channel), count.reshape(per_channel)
            correction = r * mean.reshape(per_channel) * epsilon() * sum_g_x_hat / d
            return r * (gamma * grad_outputs
                        - weights * ((sum_g + x_hat * sum_g_x_hat - correction) / d))
        m = x.size // s.size                                            # values per channel
        # δx = γ/(m √(σ²+ε)) · (m δa − Σ δa − x̂ Σ (δa ⊙ x̂))
        return (s / m).reshape(per_channel) * (
            m * grad_outputs - sum_grad.reshape(per_channel)
            - x_hat * sum_grad_x_hat.reshape(per_channel))

    def _per_channel_shape(self, rank: int) -> tuple:
        """``(1, …, C, …, 1)``: a per-channel array reshaped to broadcast against ``x``."""
        shape = [1] * rank
        shape[self._channel_axis] = -1
        return tuple(shape)

    # -- weights ------------------------------------------------------------------------------
    def _weight_triples(self) -> list:
        if not self.built:
            return []
        triples = scale_offset_triples(self)
        # non-trainable (Variable.trainable is False): the optimizer skips them
        triples.append((self.moving_mean, self.moving_mean.gradient, None))
        triples.append((self.moving_variance, self.moving_variance.gradient, None))
        return triples

    def get_config(self) -> dict:
        """Keras' BatchNormalization config (the Keras-only arguments at their defaults)."""
        serialize = serialization_lib.serialize_keras_object
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
            "beta_regularizer": serialize(self.beta_regularizer),
            "gamma_regularizer": serialize(self.gamma_regularizer),
            **scale_offset_constraints_config(self),
            **_KERAS_ONLY,
        }


#: Keras' arguments that minired does not implement, with the default they must keep.
_KERAS_ONLY = {"synchronized": False,
               "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}


def _refuse_keras_only(**given) -> None:
    for key, value in given.items():
        if value != _KERAS_ONLY[key]:
            raise ValueError(f"BatchNormalization: `{key}`={value!r} is not implemented in "
                             f"minired (batch renormalization and multi-device "
                             f"statistics are Keras-only); leave it at {_KERAS_ONLY[key]!r}.")


def _masked_moments(x: np.ndarray, weights: np.ndarray, axes: tuple, per_channel: tuple):
    """Keras' ``_moments`` with a mask: ``μ = Σ w x / D``, ``σ² = Σ w (x − μ)² / D`` with
    ``D = Σ w + ε₇``, operation for operation; returns ``(μ, σ², D)``, each ``(C,)``."""
    zero = np.zeros((), dtype=x.dtype)
    count = np.sum(weights, axis=axes, dtype=x.dtype) + epsilon()            # D = Σ w + ε₇
    mean = np.sum(np.where(weights, x, zero), axis=axes) / count              # μ
    difference = np.where(weights, x - mean.reshape(per_channel), zero)      # w (x − μ)
    variance = np.sum(np.square(difference), axis=axes) / count              # σ²
    return mean, variance, count


class BatchNormalizationCache(NamedTuple):
    """What one call of a BatchNormalization keeps for its backward pass."""

    x: np.ndarray                #: the inputs: x̂ is recomputed from them
    mean: np.ndarray             #: μ used, (C,): the batch's or the moving one
    inv_std: np.ndarray          #: 1/√(σ² + ε), (C,)
    batch_statistics: bool       #: True: training mode (μ, σ² depend on x)
    weights: np.ndarray | None = None   #: w, the mask stretched to x (masked training only)
    count: np.ndarray | None = None     #: D = Σ w + ε₇, (C,) (masked training only)
