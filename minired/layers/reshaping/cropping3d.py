"""Cropping3D: drop slices, rows and columns at the borders of each volume."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import (
    check_rank,
    crop_spatial,
    pad_spatial,
    standardize_data_format,
)
from minired.layers.reshaping.arguments import RankCheckedLayer
from minired.layers.reshaping.zero_padding3d import pairs_per_axis


class Cropping3D(RankCheckedLayer):
    """Drop ``(d0, d1)`` slices, ``(h0, h1)`` rows and ``(w0, w1)`` columns at the borders:
    ``(N, D, H, W, C)`` to ``(N, D - d0 - d1, H - h0 - h1, W - w0 - w1, C)``.

    Forward and backward (the inverse of :class:`ZeroPadding3D`)::

        a[n, t, i, j, c]                 = x[n, d0 + t, h0 + i, w0 + j, c]
        δx[n, d0 + t, h0 + i, w0 + j, c] = δa[n, t, i, j, c]    the cropped border gets 0

    Args:
        cropping: an int (the same on all six sides), ``(d, h, w)`` (each symmetric), or
            ``((d0, d1), (h0, h1), (w0, w1))``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> Cropping3D(((0, 0), (0, 0), (1, 2)))(np.arange(4.0).reshape(1, 1, 1, 4, 1)).ravel()
        array([1.], dtype=float32)
    """

    _spatial = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "Cropping3D")
        self.cropping = pairs_per_axis(cropping, "cropping", "Cropping3D")

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, 3)
        self.compute_output_shape(input_shape)          # refuses a crop that leaves nothing

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, *spatial, c = input_shape
        out = tuple(None if size is None else size - sum(crop)
                    for size, crop in zip(spatial, self.cropping, strict=True))
        if any(size is not None and size <= 0 for size in out):
            raise ValueError("Values in `cropping` argument should be smaller than the "
                             "corresponding spatial dimension of the input. Received: "
                             f"input_shape={tuple(input_shape)}, cropping={self.cropping}")
        return (n, *out, c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return crop_spatial(inputs, list(self.cropping))

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return pad_spatial(grad_outputs, list(self.cropping), 0.0)

    _keras_build_config = True      # Keras records the input shape of a Cropping3D

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}
