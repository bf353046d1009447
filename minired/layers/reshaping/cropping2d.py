"""Cropping2D: drop rows and columns at the borders of each image."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import (
    check_rank,
    crop_spatial,
    pad_spatial,
    standardize_data_format,
)
from minired.layers.reshaping.arguments import non_negative_tuple


class Cropping2D(Layer):
    """Drop ``t`` rows on top, ``b`` at the bottom, ``l`` columns left and ``r`` right:
    ``(N, H, W, C)`` to ``(N, H - t - b, W - l - r, C)``.

    Forward and backward::

        a[n, i, j, c]          = x[n, t + i, l + j, c]
        δx[n, t + i, l + j, c] = δa[n, i, j, c]     the cropped border gets 0

    Args:
        cropping: an int (the same on all four sides), ``(rows, cols)`` (each symmetric),
            or ``((t, b), (l, r))``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> Cropping2D(((1, 0), (0, 1)))(np.arange(6.0).reshape(1, 2, 3, 1))[0, :, :, 0]
        array([[3., 4.]], dtype=float32)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "Cropping2D")
        if isinstance(cropping, int | np.integer) and not isinstance(cropping, bool):
            cropping = (cropping, cropping)
        if not isinstance(cropping, list | tuple) or len(cropping) != 2:
            raise ValueError("Cropping2D: `cropping` should be either an int, a tuple of 2 ints "
                             "(symmetric_height_crop, symmetric_width_crop), or a tuple of 2 "
                             "tuples of 2 ints ((top_crop, bottom_crop), (left_crop, "
                             f"right_crop)). Received: cropping={cropping!r}.")
        self.cropping = (non_negative_tuple(cropping[0], 2, "1st entry of cropping", "Cropping2D"),
                         non_negative_tuple(cropping[1], 2, "2nd entry of cropping", "Cropping2D"))

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, 2)
        if any(size is not None and sum(crop) >= size
               for size, crop in zip(input_shape[1:3], self.cropping, strict=True)):
            raise ValueError("Values in `cropping` argument should be smaller than the "
                             "corresponding spatial dimension of the input. Received: "
                             f"input_shape={tuple(input_shape)}, cropping={self.cropping}")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.cropping
        return (n, None if h is None else h - top - bottom,
                None if w is None else w - left - right, c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_call_shape(inputs.shape)
        return crop_spatial(inputs, list(self.cropping))

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return pad_spatial(grad_outputs, list(self.cropping), 0.0)

    _keras_build_config = True      # Keras records the input shape of a Cropping2D

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}
