"""Rescaling: ``y = x · scale + offset``, e.g. pixels from [0, 255] to [0, 1]."""

from __future__ import annotations

import numpy as np

from minired import keras_numerics
from minired.layers.layer import Layer


def _sum_to_shape(gradient: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``gradient`` over the axes that broadcasting added or stretched to reach it
    from ``shape`` (the rule for the gradient of a broadcast input)."""
    extra = gradient.ndim - len(shape)
    gradient = gradient.sum(axis=tuple(range(extra))) if extra > 0 else gradient
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and gradient.shape[i] != 1)
    return gradient.sum(axis=stretched, keepdims=True) if stretched else gradient


class Rescaling(Layer):
    """Multiply every input value by ``scale`` and add ``offset``, in training and inference.

    Forward and backward::

        y  = x · s + o          s = scale, o = offset (scalars, or arrays that broadcast)
        δx = δy · s             (o does not depend on x)

    ``scale=1/255`` maps pixels in [0, 255] to [0, 1]; ``scale=1/127.5, offset=-1`` maps
    them to [-1, 1]. Integer inputs (``uint8`` images) are converted to ``floatx`` first.

    As in Keras, ``scale`` and ``offset`` are cast to ``floatx`` the way TensorFlow casts
    a Python float, through float32: in float64, ``Rescaling(0.1)`` multiplies by
    0.10000000149011612 (see :func:`minired.keras_numerics.as_keras_constant`); pass
    ``np.float64(0.1)`` for the exact value. The layer has no weights.

    Args:
        scale: the factor ``s``.
        offset: the shift ``o`` (default 0.0).
        name: layer name.

    Example:
        >>> Rescaling(0.5, offset=-1.0)(np.array([[0, 2, 4]], dtype="uint8"))
        array([[-1.,  0.,  1.]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras
    _keras_build_config = True            # Keras writes the built input shape

    def __init__(self, scale, offset=0.0, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.scale = scale
        self.offset = offset

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        dtype = self._float_dtype()
        x = np.asarray(inputs).astype(dtype, copy=False)
        scale = keras_numerics.as_keras_constant(self.scale, dtype)
        offset = keras_numerics.as_keras_constant(self.offset, dtype)
        self.cache = (scale, x.shape)
        return x * scale + offset

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        scale, input_shape = self.cache
        return _sum_to_shape(grad_outputs * scale, input_shape)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``scale``, ``offset``."""
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
