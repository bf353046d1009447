"""Input: declares the shape of one sample, as ``keras.Input``."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer


class InputLayer(Layer):
    """Placeholder that fixes the model's input shape; it computes nothing.

    Args:
        shape: shape of one sample, without the batch dimension, e.g. ``(4,)``.
        batch_size: optional fixed batch size (only shown in ``summary``).
    """

    def __init__(self, shape: tuple | int, batch_size: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(name=name)
        if isinstance(shape, int | np.integer):
            shape = (int(shape),)
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"Input: `shape` must be a tuple of ints, got {shape!r}.") from None
        if not all(isinstance(d, int | np.integer) and d > 0 for d in shape):
            raise ValueError(f"Input: `shape` must be a tuple of positive ints, got {shape!r}.")
        self.shape = tuple(int(d) for d in shape)
        self.batch_size = batch_size
        self.build((batch_size, *self.shape))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs


def Input(shape: tuple | int, batch_size: int | None = None, name: str | None = None) -> InputLayer:  # noqa: N802
    """Declare the input shape of a model: ``Sequential([Input((4,)), Dense(3)])``.

    Args:
        shape: shape of one sample, without the batch dimension.
        batch_size: optional fixed batch size.
        name: layer name.

    Example:
        >>> mr.Input((4,)).input_shape
        (None, 4)
    """
    return InputLayer(shape, batch_size=batch_size, name=name)
