"""UpSampling3D: repeat each slice, row and column of a volume (nearest-neighbour)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import standardize_data_format, standardize_tuple
from minired.layers.reshaping.arguments import RankCheckedLayer


class UpSampling3D(RankCheckedLayer):
    """Repeat every slice ``sd`` times, row ``sh`` times and column ``sw`` times:
    ``(N, D, H, W, C)`` to ``(N, sd·D, sh·H, sw·W, C)``.

    Forward and backward (the backward of a copy is a sum)::

        a[n, t, i, j, c]  = x[n, ⌊t / sd⌋, ⌊i / sh⌋, ⌊j / sw⌋, c]
        δx[n, t, i, j, c] = Σ_{e < sd, p < sh, q < sw} δa[n, t·sd + e, i·sh + p, j·sw + q, c]

    Args:
        size: ``(sd, sh, sw)``, or one int for all three.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> UpSampling3D((1, 1, 2))(np.array([1.0, 2.0]).reshape(1, 1, 1, 2, 1)).ravel()
        array([1., 1., 2., 2.], dtype=float32)
    """

    _spatial = 3

    def __init__(self, size=(2, 2, 2), data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "UpSampling3D")
        self.size = standardize_tuple(size, 3, "size", "UpSampling3D")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, *spatial, c = input_shape
        return (n, *(None if d is None else d * s
                     for d, s in zip(spatial, self.size, strict=True)), c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape
        sd, sh, sw = self.size
        return inputs.repeat(sd, axis=1).repeat(sh, axis=2).repeat(sw, axis=3)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        n, d, h, w, c = self.cache
        sd, sh, sw = self.size
        blocks = grad_outputs.reshape(n, d, sd, h, sh, w, sw, c)   # one block per input
        # undo the repeats in reverse order: columns, rows, then slices
        return blocks.sum(axis=6).sum(axis=4).sum(axis=2)

    _keras_build_config = True      # Keras records the input shape of an UpSampling3D

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
