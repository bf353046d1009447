"""RepeatVector: repeat each sample's vector ``n`` times, making a sequence."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.reshaping.arguments import check_ndim


class RepeatVector(Layer):
    """Repeat each vector ``n`` times: ``(N, F)`` to ``(N, n, F)``.

    Forward and backward::

        a[s, t, f] = x[s, f]                  for every step t < n
        δx[s, f]   = Σ_t δa[s, t, f]          (the backward of a copy is a sum)

    Args:
        n: the number of repetitions, a positive int.
        name: layer name.

    Example:
        >>> RepeatVector(3)(np.array([[1.0, 2.0]]))
        array([[[1., 2.],
                [1., 2.],
                [1., 2.]]], dtype=float32)
    """

    def __init__(self, n: int, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(n, int | np.integer) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: expected an integer value for `n`, got {n!r} of "
                            f"type {type(n).__name__}.")
        if n <= 0:
            raise ValueError(f"RepeatVector: argument `n` should be a positive integer. "
                             f"Received: n={n}")
        self.n = int(n)

    def build(self, input_shape: tuple) -> None:
        check_ndim(self, input_shape, 2, "(batch, features)")
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_ndim(self, input_shape, 2, "(batch, features)")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return np.repeat(inputs[:, None, :], self.n, axis=1)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs.sum(axis=1)

    _keras_build_config = True      # Keras records the input shape of a RepeatVector

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
