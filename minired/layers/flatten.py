"""Flatten: turn each sample into a vector."""

from __future__ import annotations

import math

import numpy as np

from minired import config
from minired.layers.layer import Layer


class Flatten(Layer):
    """Reshape ``(N, d1, d2, ...)`` to ``(N, d1·d2·...)``; backward reshapes back.

    With ``data_format="channels_first"`` the inputs are ``(N, C, d1, d2, ...)``: as in
    Keras they are first moved to channels last, ``(N, d1, d2, ..., C)``, then flattened, so
    the output lists the channels of each position together (the order a channels-last
    model gives, which keeps the Dense weights after it interchangeable)::

        forward:   a = reshape(transpose(x, (0, 2, ..., 1)), (N, -1))
        backward:  δx = transpose(reshape(δa, (N, d1, ..., C)), (0, k, 1, ..., k-1))

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``; None reads
            ``mr.config.image_data_format()`` (``"channels_last"`` unless set).

    Example:
        >>> Flatten()(np.zeros((2, 8, 8), dtype="float32")).shape
        (2, 64)
        >>> x = np.arange(8, dtype="float32").reshape(1, 2, 4)   # 2 channels, 4 positions
        >>> Flatten(data_format="channels_first")(x)
        array([[0., 4., 1., 5., 2., 6., 3., 7.]], dtype=float32)
    """

    def __init__(self, data_format: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data_format = _standardize_data_format(data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, d1·d2·...)``; unknown (None) when any ``d`` is unknown, as Keras."""
        sizes = input_shape[1:]
        if not sizes:
            return (input_shape[0], 1)
        return (input_shape[0], None if None in sizes else math.prod(sizes))

    def _channels_first(self, ndim: int) -> bool:
        return self.data_format == "channels_first" and ndim > 2

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape                       # backward reshapes back to it
        if self._channels_first(inputs.ndim):
            inputs = np.moveaxis(inputs, 1, -1)         # (N, C, d1, ...) -> (N, d1, ..., C)
        return inputs.reshape(inputs.shape[0], -1)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        shape = self.cache
        if not self._channels_first(len(shape)):
            return grad_outputs.reshape(shape)
        moved = grad_outputs.reshape(shape[0], *shape[2:], shape[1])
        return np.moveaxis(moved, -1, 1)               # back to (N, C, d1, ...)

    _keras_build_config = True      # Keras records the input shape of a Flatten

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


def _standardize_data_format(data_format) -> str:
    """Keras' ``standardize_data_format``: None -> the global image data format."""
    if data_format is None:
        return config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("The `data_format` argument must be one of "
                         "{'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format}")
    return data_format
