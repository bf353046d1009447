"""Equalization: spread each channel's values evenly over the range by its histogram."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.transformation_layer import TransformationLayer


def histograms(channels: np.ndarray, bins: int) -> np.ndarray:
    """``(C, bins)`` counts of each channel's values in [0, 255], as Keras bins them: in
    float32, ``index = trunc(v·(bins - 1)/255)`` clipped to ``[0, bins - 1]``."""
    values = channels.astype(np.float32)
    scaled = (values - np.float32(0)) * np.float32(bins - 1) / (np.float32(255)
                                                                - np.float32(0))
    indices = np.clip(scaled.astype(np.int32), 0, bins - 1).reshape(-1, channels.shape[-1])
    offsets = np.arange(channels.shape[-1]) * bins           # one bincount for every channel
    counts = np.bincount((indices + offsets).ravel(), minlength=bins * channels.shape[-1])
    return counts.reshape(channels.shape[-1], bins)


class Equalization(TransformationLayer):
    """Equalize the histogram of each channel while training; the identity at inference.

    As Keras computes it, the histogram of a channel counts the values of **every image of
    the batch** (the batch is equalized as a whole), on the values scaled to [0, 255]
    from ``value_range``. For a channel with counts ``h`` over ``bins`` bins, the
    cumulative counts ``F_k = Σ_{j≤k} h_j``, ``F_min`` the first non-zero one and
    ``D = F_last - F_min`` (1 if 0), each value ``v`` is replaced by the table entry of its
    bin::

        T_k = clip(round((F_k - F_min)·255 / D), 0, 255)          (round half to even)
        a   = T[trunc(clip(v/255·(bins - 1), 0, bins - 1))]

    A channel whose values all fall in one bin is returned unchanged.

    Backward: the output is a table lookup at an integer index, which has no gradient in
    TensorFlow; only the channels returned unchanged pass it on (through Keras'
    ``where``): ``δx = δa`` there and 0 elsewhere.

    Args:
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        bins: the number of bins of the histograms (default 256).
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[0.], [0.], [10.], [200.]]]], dtype="float32")
        >>> Equalization()(x, training=True)[0, 0, :, 0]
        array([  0.,   0., 128., 255.], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), bins: int = 256, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        if "seed" in kwargs:                         # nothing is drawn: Keras refuses it
            raise ValueError("Unrecognized keyword arguments passed to Equalization: "
                            f"{{'seed': {kwargs['seed']!r}}}")
        super().__init__(data_format=data_format, name=name, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
            raise ValueError(f"Equalization: `bins` must be a positive integer, got {bins!r}.")
        self.bins = bins
        self.value_range = color_space.check_value_range(value_range, "Equalization")

    def get_random_transformation(self, images: np.ndarray) -> None:
        """None: nothing is drawn."""
        return None

    def _scale(self, values: np.ndarray, source, target) -> np.ndarray:
        """Keras' ``_scale_values``: ``v·s + (lo' - lo·s)``, ``s = (hi' - lo')/(hi - lo)``
        (applied even between equal ranges, where it is exact: ``s = 1``)."""
        scale = (target[1] - target[0]) / (source[1] - source[0])
        return values * values.dtype.type(scale) + values.dtype.type(target[0]
                                                                      - source[0] * scale)

    def _apply(self, images: np.ndarray, transformation=None) -> tuple[np.ndarray, np.ndarray]:
        dtype = images.dtype.type
        channels = self._scale(images, self.value_range, (0, 255))
        counts = histograms(channels, self.bins)                              # (C, bins)
        cumulative = np.cumsum(counts, axis=1)
        first = np.argmax(cumulative > 0, axis=1)
        lowest = np.take_along_axis(cumulative, first[:, None], axis=1)       # F_min
        denominator = cumulative[:, -1:] - lowest
        denominator = np.where(denominator == 0, 1, denominator)
        table = ((cumulative - lowest) * 255).astype(dtype) / denominator.astype(dtype)
        table = np.clip(np.round(table), 0, 255)                              # (C, bins)
        scaled = channels / dtype(255.0) * dtype(self.bins - 1)
        indices = np.clip(scaled, 0, self.bins - 1).astype(np.int32)          # (N, H, W, C)
        equalized = table[np.arange(channels.shape[-1]), indices]
        kept = np.count_nonzero(counts, axis=1) <= 1                          # (C,)
        outputs = np.where(kept, channels, equalized)
        outputs = self._scale(outputs, (0, 255), self.value_range)
        return outputs.astype(images.dtype, copy=False), kept

    def _augment_backward(self, grad_outputs: np.ndarray, kept: np.ndarray) -> np.ndarray:
        dtype = grad_outputs.dtype.type
        low, high = self.value_range
        g = grad_outputs * dtype((high - low) / 255)          # through the two scalings
        g = g * dtype(255 / (high - low))
        return np.where(kept, g, 0).astype(grad_outputs.dtype, copy=False)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``bins``,
        ``value_range``."""
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}
