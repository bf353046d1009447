"""Cropping1D: drop steps at the start and end of each sequence."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.pooling.windows import crop_spatial, pad_spatial
from minired.layers.reshaping.arguments import check_ndim, non_negative_tuple


class Cropping1D(Layer):
    """Drop ``b`` steps at the start and ``e`` at the end: ``(N, T, C)`` to
    ``(N, T - b - e, C)``.

    Forward and backward::

        a[n, t, c]      = x[n, b + t, c]
        δx[n, b + t, c] = δa[n, t, c]      the cropped steps get 0 (they did not count)

    Args:
        cropping: an int (the same at both ends) or ``(b, e)``.
        name: layer name.

    Example:
        >>> Cropping1D((1, 2))(np.arange(5.0).reshape(1, 5, 1))[0, :, 0]
        array([1., 2.], dtype=float32)
    """

    def __init__(self, cropping=(1, 1), name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.cropping = non_negative_tuple(cropping, 2, "cropping", "Cropping1D")

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_ndim(self, input_shape, 3, "(batch, steps, channels)")
        if input_shape[1] is not None and sum(self.cropping) >= input_shape[1]:
            raise ValueError("`cropping` parameter of `Cropping1D` layer must be smaller than "
                             f"the input length. Received: input_shape={tuple(input_shape)}, "
                             f"cropping={self.cropping}")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        length = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], length, input_shape[2])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_call_shape(inputs.shape)
        return crop_spatial(inputs, [self.cropping])

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return pad_spatial(grad_outputs, [self.cropping], 0.0)

    _keras_build_config = True      # Keras records the input shape of a Cropping1D

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping}
