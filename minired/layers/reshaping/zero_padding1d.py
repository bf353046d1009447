"""ZeroPadding1D: add zero steps at the start and end of each sequence."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import (
    crop_spatial,
    pad_spatial,
    standardize_data_format,
)
from minired.layers.reshaping.arguments import RankCheckedLayer, non_negative_tuple


class ZeroPadding1D(RankCheckedLayer):
    """Add ``b`` zero steps at the start and ``e`` at the end: ``(N, T, C)`` to
    ``(N, b + T + e, C)``.

    Forward and backward::

        a[n, b + t, c] = x[n, t, c]          the added steps of a are 0
        δx[n, t, c]    = δa[n, b + t, c]     (the added steps' gradient is dropped)

    Args:
        padding: an int (the same at both ends) or ``(b, e)``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> ZeroPadding1D((1, 2))(np.ones((1, 2, 1)))[0, :, 0]
        array([0., 1., 1., 0., 0.], dtype=float32)
    """

    def __init__(self, padding=1, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "ZeroPadding1D")
        self.padding = non_negative_tuple(padding, 2, "padding", "ZeroPadding1D")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, t, c = input_shape
        return (n, None if t is None else t + sum(self.padding), c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return pad_spatial(inputs, [self.padding], 0.0)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return crop_spatial(grad_outputs, [self.padding])

    _keras_build_config = True      # Keras records the input shape of a ZeroPadding1D

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}
