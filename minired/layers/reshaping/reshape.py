"""Reshape: give each sample a new shape with the same number of values."""

from __future__ import annotations

import math

import numpy as np

from minired.layers.layer import Layer


class Reshape(Layer):
    """Reshape each sample to ``target_shape``: ``(N, *in)`` to ``(N, *target_shape)``.

    Forward and backward only move values, in row-major (C) order::

        a  = x.reshape(N, *target_shape)
        δx = δa.reshape(x.shape)

    One entry of ``target_shape`` may be ``-1``: it is worked out from the sample size
    (``Reshape((-1, 2))`` on samples of 12 values gives ``(6, 2)``).

    Args:
        target_shape: the new shape of one sample (the batch axis is not part of it).
        name: layer name.

    Example:
        >>> Reshape((3, -1))(np.zeros((2, 12), dtype="float32")).shape
        (2, 3, 4)
    """

    def __init__(self, target_shape, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        try:
            target_shape = tuple(target_shape)
        except TypeError:
            raise ValueError(f"Reshape: `target_shape` must be a tuple of ints (one sample's "
                             f"new shape, e.g. (3, 4)), got {target_shape!r}.") from None
        if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= -1
                   for d in target_shape):
            raise ValueError(f"Reshape: each dimension in `target_shape` must be a "
                             f"non-negative integer, or -1 for a single unknown dimension. "
                             f"Received: target_shape={target_shape!r}.")
        if target_shape.count(-1) > 1:
            raise ValueError(f"Reshape: there must be at most one unknown dimension (-1) in "
                             f"`target_shape`. Received: target_shape={target_shape!r}.")
        self.target_shape = tuple(int(d) for d in target_shape)

    def build(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)          # raises if the sizes do not fit
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sample = tuple(input_shape[1:])
        if None in sample:                              # unknown size: -1 stays unknown
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        size = math.prod(sample)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise self._size_error(sample)
            shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        elif known != size:
            raise self._size_error(sample)
        else:
            shape = self.target_shape
        return (input_shape[0], *shape)

    def _size_error(self, sample: tuple) -> ValueError:
        return ValueError(f"Reshape {self.name!r}: the total size of a sample must be "
                          f"unchanged, but samples of shape {sample} hold {math.prod(sample)} "
                          f"values and target_shape={self.target_shape} cannot hold them.")

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape                       # backward reshapes back to it
        return inputs.reshape(self.compute_output_shape(inputs.shape))

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs.reshape(self.cache)

    _keras_build_config = False     # Keras builds a Reshape at construction

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}
