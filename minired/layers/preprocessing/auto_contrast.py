"""AutoContrast: stretch each channel of each image to the whole value range."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.transformation_layer import TransformationLayer


class AutoContrast(TransformationLayer):
    """Stretch each channel of each image so that its darkest pixel becomes ``lo`` and its
    brightest ``hi``. Nothing is random, and, as in Keras, the layer applies at inference
    too (``predict``, ``training=False``), not only while training.

    Forward, per image and channel, on the values scaled to [0, 255] from
    ``value_range = (lo, hi)`` (``x' = (x - lo)/(hi - lo)·255``), with ``m = min_ij x'``
    and ``M = max_ij x'``::

        s = 255/(M - m)          z = x'·s + (-m·s)          r = clip(z, 0, 255)
        a = r·(hi - lo)/255 + lo,     or a = x where that is NaN (a constant channel)

    Backward, for a channel that is not constant, with ``g = δa'·1[0 ≤ z ≤ 255]`` (``δa'``
    the gradient at ``r``), ``δs = Σ g·(x' - m)`` and ``s' = s/(M - m)``::

        δx' = g·s + 1[x' = M]/#{x' = M}·(-δs·s') + 1[x' = m]/#{x' = m}·(δs·s' - s·Σ g)

    (the minimum and the maximum pass their gradient to the pixels that reach them, shared
    equally among ties, as TensorFlow's ``reduce_min``/``reduce_max``). A constant channel
    is returned unchanged and gets ``δx = δa``: TensorFlow's gradient there is NaN
    (``0·∞`` in the discarded branch), minired's is the derivative of what it returns.

    Args:
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        name: layer name.

    Example:
        >>> x = np.array([[[[50.], [100.], [150.]]]], dtype="float32")
        >>> AutoContrast()(x, training=False)[0, 0, :, 0]
        array([  0. , 127.5, 255. ], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), name: str | None = None, **kwargs) -> None:
        if "seed" in kwargs:                         # nothing is drawn: Keras refuses it
            raise ValueError("Unrecognized keyword arguments passed to AutoContrast: "
                            f"{{'seed': {kwargs['seed']!r}}}")
        super().__init__(name=name, **kwargs)
        self.value_range = color_space.check_value_range(value_range, "AutoContrast")

    def forward(self, inputs: np.ndarray, training: bool | None = False) -> np.ndarray:
        """Keras' AutoContrast ignores ``training``: the stretch always applies."""
        return super().forward(inputs, training=True)

    def get_random_transformation(self, images: np.ndarray) -> None:
        """None: nothing is drawn."""
        return None

    def _apply(self, images: np.ndarray, transformation=None) -> tuple[np.ndarray, tuple]:
        x = color_space.transform_value_range(images, self.value_range, (0, 255))
        low = np.min(x, axis=(1, 2), keepdims=True)
        high = np.max(x, axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = x.dtype.type(255.0) / (high - low)
            offset = -low * scale
            z = x * scale + offset
        r = np.clip(z, 0.0, 255.0)
        r = color_space.transform_value_range(r, (0, 255), self.value_range)
        constant = np.isnan(r)
        outputs = np.where(constant, images, r).astype(images.dtype, copy=False)
        return outputs, (x, low, high, scale, (z >= 0) & (z <= 255), constant)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        x, low, high, scale, passes, constant = state
        dtype = grad_outputs.dtype.type
        lo, hi = (dtype(v) for v in self.value_range)
        stretched = (lo, hi) != (0, 255)
        g = np.where(constant, 0, grad_outputs)
        if stretched:                                          # r → a
            g = g * (hi - lo) / dtype(255)
        g = g * passes
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_scale = np.sum(g * (x - low), axis=(1, 2), keepdims=True)     # δs
            scale_slope = scale / (high - low)                                  # s'
            grad_high = -grad_scale * scale_slope
            grad_low = grad_scale * scale_slope - scale * np.sum(g, axis=(1, 2), keepdims=True)
            at_high, at_low = x == high, x == low
            grad_x = (g * scale
                      + at_high / np.sum(at_high, axis=(1, 2), keepdims=True) * grad_high
                      + at_low / np.sum(at_low, axis=(1, 2), keepdims=True) * grad_low)
        grad_x = np.where(constant, 0, grad_x)
        if stretched:                                          # x → x'
            grad_x = grad_x * dtype(255) / (hi - lo)
        return np.where(constant, grad_outputs, grad_x).astype(grad_outputs.dtype, copy=False)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``value_range``."""
        return {**super().get_config(), "value_range": self.value_range}
