"""UpSampling2D: repeat each row and column (nearest-neighbour upsampling)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import standardize_data_format, standardize_tuple
from minired.layers.reshaping.arguments import RankCheckedLayer

#: What Keras accepts for ``interpolation``; minired implements "nearest" only.
KERAS_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


class UpSampling2D(RankCheckedLayer):
    """Repeat every row ``sh`` times and every column ``sw`` times:
    ``(N, H, W, C)`` to ``(N, sh·H, sw·W, C)``.

    Forward and backward::

        a[n, i, j, c]  = x[n, ⌊i / sh⌋, ⌊j / sw⌋, c]
        δx[n, i, j, c] = Σ_{p < sh, q < sw} δa[n, i·sh + p, j·sw + q, c]

    Each input value is copied into an ``sh × sw`` block, so its gradient is the sum of the
    block's gradients (the backward of a copy is a sum).

    Args:
        size: ``(sh, sw)``, or one int for both.
        data_format: ``"channels_last"`` (or None).
        interpolation: ``"nearest"``, the only one minired implements (Keras also has
            "bilinear", "bicubic", "lanczos3" and "lanczos5").
        name: layer name.

    Example:
        >>> UpSampling2D(size=(1, 2))(np.array([[[[1.], [2.]]]]))[0, :, :, 0]
        array([[1., 1., 2., 2.]], dtype=float32)
    """

    _spatial = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest",
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.size = standardize_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = standardize_data_format(data_format, "UpSampling2D")
        if not isinstance(interpolation, str) or interpolation.lower() != "nearest":
            known = isinstance(interpolation, str) and interpolation.lower() in KERAS_INTERPOLATIONS
            raise ValueError(
                f"UpSampling2D: interpolation={interpolation!r} is "
                f"{'a Keras option that minired does not implement' if known else 'unknown'}; "
                "minired's UpSampling2D supports interpolation='nearest' only.")
        self.interpolation = interpolation.lower()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0],
                None if w is None else w * self.size[1], c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape
        return inputs.repeat(self.size[0], axis=1).repeat(self.size[1], axis=2)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        n, h, w, c = self.cache
        sh, sw = self.size
        blocks = grad_outputs.reshape(n, h, sh, w, sw, c)       # one sh × sw block per input
        # Undo the column repeat, then the row repeat (the reverse of forward, and the order
        # in which TensorFlow sums: bit-identical to Keras' gradient).
        return blocks.sum(axis=4).sum(axis=2)

    _keras_build_config = True      # Keras records the input shape of an UpSampling2D

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
