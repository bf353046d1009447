"""UpSampling1D: repeat each step of a sequence."""

from __future__ import annotations

import numpy as np

from minired.layers.reshaping.arguments import RankCheckedLayer


class UpSampling1D(RankCheckedLayer):
    """Repeat every step ``s`` times: ``(N, T, C)`` to ``(N, s·T, C)``.

    Forward and backward::

        a[n, t, c]  = x[n, ⌊t / s⌋, c]
        δx[n, t, c] = Σ_{p < s} δa[n, t·s + p, c]     (the backward of a copy is a sum)

    Args:
        size: the upsampling factor ``s``, a positive int.
        name: layer name.

    Example:
        >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]]))[0, :, 0]
        array([1., 1., 2., 2.], dtype=float32)
    """

    def __init__(self, size: int = 2, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if not isinstance(size, int | np.integer) or isinstance(size, bool):
            raise TypeError(f"UpSampling1D: expected an integer value for `size`, got "
                            f"{size!r} of type {type(size).__name__}.")
        if size <= 0:
            raise ValueError("UpSampling1D: argument `size` should be a positive integer. "
                             f"Received: size={size}")
        self.size = int(size)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, t, c = input_shape
        return (n, None if t is None else t * self.size, c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return inputs.repeat(self.size, axis=1)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        n, steps, c = grad_outputs.shape
        return grad_outputs.reshape(n, steps // self.size, self.size, c).sum(axis=2)

    _keras_build_config = True      # Keras records the input shape of an UpSampling1D

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}
