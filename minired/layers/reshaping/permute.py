"""Permute: reorder the axes of each sample."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.reshaping.arguments import check_ndim


class Permute(Layer):
    """Reorder the axes of each sample by ``dims`` (1-based, the batch axis stays first):
    ``Permute((2, 1))`` turns ``(N, T, C)`` into ``(N, C, T)``.

    Forward and backward, with ``π = (0, *dims)``::

        a  = transpose(x, π)            a[i_π(0), i_π(1), ...] = x[i_0, i_1, ...]
        δx = transpose(δa, π⁻¹)         the inverse permutation puts each gradient back

    Args:
        dims: a permutation of ``1, ..., rank - 1`` (one entry per axis of a sample).
        name: layer name.

    Example:
        >>> Permute((2, 1))(np.zeros((4, 10, 3))).shape
        (4, 3, 10)
    """

    def __init__(self, dims, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            raise TypeError(f"Permute: `dims` must be a tuple of ints, got {dims!r}.") from None
        if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set "
                             "of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")
        self.dims = tuple(int(d) for d in dims)
        self._axes = (0, *self.dims)
        self._inverse = tuple(int(i) for i in np.argsort(self._axes))

    def _expected(self) -> str:
        return f"(batch, {', '.join(f'd{i}' for i in range(1, len(self.dims) + 1))})"

    def build(self, input_shape: tuple) -> None:
        check_ndim(self, input_shape, len(self.dims) + 1, self._expected())
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_ndim(self, input_shape, len(self.dims) + 1, self._expected())

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape[axis] for axis in self._axes)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs.transpose(self._axes)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs.transpose(self._inverse)

    _keras_build_config = True      # Keras records the input shape of a Permute

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}
