"""Activation layers with arguments: ReLU, LeakyReLU, ELU, Softmax, and PReLU (which learns).

``ReLU(max_value=6.0)`` is :class:`~minired.layers.Activation` with the function's keyword
arguments fixed: forward ``a = f(z, **arguments)``, backward
``δz = f.backward(z, a, δa, **arguments)``. PReLU has a weight, the slope ``α`` below 0,
and its backward adds ``∂L/∂α`` like Dense adds ``∂L/∂W``.

``get_config()`` returns Keras' keys for each class: ``name``, ``trainable``, ``dtype`` (as
Keras writes a dtype policy) and the layer's own arguments. ``Softmax`` also takes Keras'
``mask`` call argument (and reads the mask in a model).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.layers.activation import Activation, ActivationCache
from minired.layers.layer import Layer
from minired.saving import serialization_lib


class _ActivationWithArguments(Activation):
    """An Activation whose function takes keyword arguments (``self.arguments()``)."""

    def arguments(self) -> dict:
        """The keyword arguments passed to the function and to its backward."""
        return {}

    def get_config(self) -> dict:
        """Layer's keys (name, trainable, dtype), without Activation's ``activation``:
        the class fixes the function."""
        return Layer.get_config(self)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        z = inputs
        a = self.activation(z, **self.arguments())                  # a = f(z; arguments)
        self.cache = ActivationCache(z, a)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        z, a = self.cache
        return self.activation.backward(z, a, grad_outputs, **self.arguments())  # δz = f'(z) ⊙ δa


class ReLU(_ActivationWithArguments):
    """Rectified linear unit layer, with Keras' cap, slope and threshold.

    With a threshold ``θ``, a cap ``m`` and a slope ``s``::

        a = m            for z >= m
        a = z            for θ < z < m
        a = s (z - θ)    for z <= θ

    and ``δz = δa · (1[θ < z <= m] + s · 1[z < θ])``; see :func:`minired.activations.relu`
    (and TensorFlow's choices at the kinks there).

    Args:
        max_value: the cap ``m`` (a float >= 0), or ``None`` for none.
        negative_slope: ``s``, a float >= 0.
        threshold: ``θ``, a float >= 0.
        name: layer name.

    Example:
        >>> ReLU(max_value=10, negative_slope=0.5)(np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]]))
        array([[-5. , -2.5,  0. ,  5. , 10. ]], dtype=float32)
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, name: str | None = None, **kwargs) -> None:
        super().__init__(activations.relu, name=name, **kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative "
                             f"value. Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def arguments(self) -> dict:
        return {"negative_slope": self.negative_slope, "max_value": self.max_value,
                "threshold": self.threshold}

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_ActivationWithArguments):
    """Leaky relu layer: ``a = z`` for ``z > 0``, ``s·z`` otherwise; ``s`` defaults to 0.3.

    Backward: ``δz = δa`` for ``z > 0``, ``s·δa`` otherwise. The default slope is 0.3 here
    and 0.2 in the function :func:`minired.activations.leaky_relu`, as in Keras.

    Args:
        negative_slope: ``s``, a float >= 0. (Keras' deprecated name ``alpha`` is accepted,
            with a warning.)
        name: layer name.

    Example:
        >>> LeakyReLU()(np.array([[-10.0, 5.0]]))
        array([[-3.,  5.]], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.3, name: str | None = None, **kwargs) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(activations.leaky_relu, name=name, **kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def arguments(self) -> dict:
        return {"negative_slope": self.negative_slope}

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_ActivationWithArguments):
    """Exponential linear unit layer: ``a = z`` for ``z > 0``, ``α (e^z - 1)`` otherwise.

    Backward: ``δz = δa`` for ``z > 0``, ``δa · α e^z`` otherwise; see
    :func:`minired.activations.elu`.

    Args:
        alpha: ``α``: the outputs tend to ``-α`` as ``z → -∞``.
        name: layer name.

    Example:
        >>> ELU(alpha=0.5)(np.array([[-1.0, 2.0]]))
        array([[-0.3160603,  2.       ]], dtype=float32)
    """

    def __init__(self, alpha: float = 1.0, name: str | None = None, **kwargs) -> None:
        super().__init__(activations.elu, name=name, **kwargs)
        self.alpha = alpha

    def arguments(self) -> dict:
        return {"alpha": self.alpha}

    def get_config(self) -> dict:
        config = super().get_config()     # Keras' order: name, alpha, trainable, dtype
        return {"name": config.pop("name"), "alpha": self.alpha, **config}


class Softmax(_ActivationWithArguments):
    """Softmax layer: ``a_i = e^{z_i} / Σ_j e^{z_j}`` over ``axis`` (the last by default).

    Backward: ``δz = a ⊙ (δa - Σ_j δa_j a_j)``, the sum over the same axis. Like
    ``Activation("softmax")``, a cross-entropy after it reads its logits ``z`` (the fused
    gradient ``a - y``), as Keras does.

    With a mask ``m`` (Keras' call argument: broadcastable to ``z`` from its last axes,
    True, or a number > 0.5, to keep; in a model, the mask of the input), the masked
    positions get a large negative number ``c`` (-1e9; -3e4 in float16) before the softmax
    and 0 after it (0 too where a whole row is masked)::

        z' = where(m, z, c)      s = softmax(z')      a = where(m, s, 0)
        δs = where(m, δa, 0)     δz = where(m, s ⊙ (δs - Σ_j δs_j s_j), 0)

    Args:
        axis: the axis (an int, or a list of ints) to normalize over.
        name: layer name.

    Example:
        >>> Softmax()(np.array([[1.0, 2.0, 1.0]]))
        array([[0.21194156, 0.5761169 , 0.21194156]], dtype=float32)
        >>> Softmax()(np.array([[1.0, 2.0, 1.0]]), mask=np.array([[True, False, True]]))
        array([[0.5, 0. , 0.5]], dtype=float32)
    """

    def __init__(self, axis: int | list[int] = -1, name: str | None = None, **kwargs) -> None:
        super().__init__(activations.softmax, name=name, **kwargs)
        self.axis = axis

    def arguments(self) -> dict:
        return {"axis": tuple(self.axis) if isinstance(self.axis, list | tuple) else self.axis}

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    def _checked_call_mask(self, mask, inputs):
        """Keras' check of a mask given by hand: no more axes than ``inputs``, each of its
        last axes 1 or the input's size (numpy broadcasting from the right)."""
        return _softmax_mask(mask, inputs, self.name)

    def forward(self, inputs: np.ndarray, training: bool = False, mask=None) -> np.ndarray:
        if mask is None:
            return super().forward(inputs, training)
        z, m = inputs, _softmax_mask(mask, inputs, self.name)
        c = -3e4 if z.dtype == np.float16 else -1e9          # Keras' large negative number
        z_masked = np.where(m, z, np.asarray(c, dtype=z.dtype))       # z' = where(m, z, c)
        s = self.activation(z_masked, **self.arguments())            # s = softmax(z')
        a = np.where(m, s, np.zeros((), dtype=s.dtype))              # a = where(m, s, 0)
        self.cache = MaskedSoftmaxCache(z_masked, s, m)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if not isinstance(self.cache, MaskedSoftmaxCache):
            return super().backward(grad_outputs)
        z_masked, s, m = self.cache
        grad_s = np.where(m, grad_outputs, np.zeros((), grad_outputs.dtype))  # δs
        grad_z = self.activation.backward(z_masked, s, grad_s, **self.arguments())
        return self.backward_from_z(grad_z)

    def backward_from_z(self, grad_z: np.ndarray) -> np.ndarray:
        """``δx = δz'`` where the mask keeps ``x`` (without a mask, everywhere); 0 where
        ``x`` was replaced by the constant ``c``."""
        if not isinstance(self.cache, MaskedSoftmaxCache):
            return grad_z
        return np.where(self.cache.mask, grad_z, np.zeros((), grad_z.dtype))


class MaskedSoftmaxCache(NamedTuple):
    """What one masked call of a Softmax keeps for its backward pass."""

    z: np.ndarray      #: the masked logits ``z' = where(m, z, c)``
    a: np.ndarray      #: ``s = softmax(z')`` (before the masked positions are zeroed)
    mask: np.ndarray   #: ``m``, boolean, broadcastable to ``z``


def _softmax_mask(mask, inputs, owner: str) -> np.ndarray:
    """``mask`` as booleans, checked as Keras' Softmax checks it: broadcastable to
    ``inputs`` from the right, with no more axes; a numeric mask keeps where it is
    ``> 0.5`` cast to its dtype (> 0 for integers, as Keras)."""
    mask, shape = np.asarray(mask), np.shape(inputs)
    if mask.ndim > len(shape):
        raise ValueError("The `mask` must be broadcastable to `inputs` and must not have "
                         f"more dimensions. Received: inputs.shape={shape}, "
                         f"mask.shape={mask.shape} (layer {owner!r})")
    for m_dim, i_dim in zip(mask.shape[::-1], shape[::-1], strict=False):
        if m_dim not in (1, i_dim):
            raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask "
                             "dimension must be 1 or match the corresponding input dimension. "
                             f"Received: inputs.shape={shape}, mask.shape={mask.shape} "
                             f"(layer {owner!r})")
    if mask.dtype != bool:
        mask = mask > np.asarray(0.5).astype(mask.dtype)
    return mask


class PReLU(Layer):
    """Parametric relu: a leaky relu whose slope ``α`` is learned, one per input feature.

    Forward, Keras' form (``α`` broadcast over the batch and the ``shared_axes``)::

        a = max(z, 0) - α ⊙ max(-z, 0)      (= z for z > 0, α z otherwise)

    Backward, given ``δa``::

        δz     = δa for z > 0, α ⊙ δa otherwise   (0 at z = 0, as TensorFlow)
        ∂L/∂α  = -Σ δa ⊙ max(-z, 0)               summed over the batch and the shared axes

    ``backward`` *adds* ∂L/∂α to ``alpha_gradient`` (see :class:`~minired.layers.Layer`).

    Args:
        alpha_initializer: how ``α`` starts (default ``"Zeros"``: a relu at first).
        alpha_regularizer: penalty on ``α``.
        alpha_constraint: projection applied to ``α`` after each optimizer step,
            ``α ← c(α)`` (e.g. ``"non_neg"``; see mr.constraints).
        shared_axes: axes (1 = the first after the batch) along which one ``α`` is shared,
            e.g. ``[1, 2]`` for one slope per channel of ``(batch, height, width, channels)``.
        name: layer name.
        trainable: whether the optimizer updates ``α``.

    Example:
        >>> layer = PReLU(alpha_initializer=mr.initializers.Constant(0.25))
        >>> layer(np.array([[-4.0, 2.0]], dtype="float32"))
        array([[-1.,  2.]], dtype=float32)
        >>> layer.alpha.shape
        (2,)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    _constrained_weights = (("alpha", "alpha_constraint"),)

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes: int | list[int] | None = None, name: str | None = None,
                 trainable: bool = True, **kwargs) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, list | tuple):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape: tuple) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(shape):
                raise ValueError(f"PReLU {self.name!r}: shared axis {axis} is not an axis of "
                                 f"inputs of shape {tuple(input_shape)} (1 is the first after "
                                 "the batch).")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"PReLU {self.name!r}: every axis but the batch and the shared "
                             f"ones must be known, got inputs of shape {tuple(input_shape)}.")
        self.alpha = np.asarray(self.alpha_initializer(tuple(shape), dtype=self._float_dtype()))
        self.alpha_gradient = np.zeros_like(self.alpha)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """Keras' ``InputSpec``: the same rank, and the same size on each unshared axis."""
        built = self.input_shape
        if len(input_shape) != len(built):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim={len(built)}, found ndim={len(input_shape)}. "
                             f"Full shape received: {tuple(input_shape)}.")
        for axis in range(1, len(built)):
            if axis in (self.shared_axes or []) or input_shape[axis] in (None, built[axis]):
                continue
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected axis {axis} of input shape to have value "
                             f"{built[axis]}, but received input with shape "
                             f"{tuple(input_shape)}.")

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        z = np.asarray(inputs).astype(self.alpha.dtype, copy=False)
        a = np.maximum(z, 0) - self.alpha * np.maximum(-z, 0)    # a = max(z,0) - α max(-z,0)
        self.cache = PReLUCache(z)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        z = self.cache.z
        summed = (0, *(self.shared_axes or []))                  # batch and shared axes
        grad_alpha = -np.sum(grad_outputs * np.maximum(-z, 0), axis=summed, keepdims=True)
        self.alpha_gradient += grad_alpha[0]                     # ∂L/∂α += -Σ δa max(-z, 0)
        return np.where(z > 0, grad_outputs, np.where(z < 0, self.alpha * grad_outputs, 0))

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return [(self.alpha, self.alpha_gradient, self.alpha_regularizer)]

    def get_config(self) -> dict:
        serialize = serialization_lib.serialize_keras_object
        return {**super().get_config(),
                "alpha_initializer": serialize(self.alpha_initializer),
                "alpha_regularizer": serialize(self.alpha_regularizer),
                "alpha_constraint": serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class PReLUCache(NamedTuple):
    """What one call of a PReLU keeps for its backward pass."""

    z: np.ndarray   #: the inputs: both δz and ∂L/∂α depend on their sign
