"""ZeroPadding2D: add rows and columns of zeros around each image."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import standardize_data_format
from minired.layers.reshaping.arguments import RankCheckedLayer


def _standardize_padding(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' three forms as ``((top, bottom), (left, right))``."""
    def amount(value) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 0

    if amount(padding):
        return ((int(padding),) * 2, (int(padding),) * 2)
    if isinstance(padding, list | tuple) and len(padding) == 2:
        if all(amount(p) for p in padding):                            # (rows, cols)
            return ((int(padding[0]),) * 2, (int(padding[1]),) * 2)
        if all(isinstance(p, list | tuple) and len(p) == 2 and all(amount(v) for v in p)
               for p in padding):                                      # ((t, b), (l, r))
            return tuple(tuple(int(v) for v in p) for p in padding)
    raise ValueError("ZeroPadding2D: `padding` must be a non-negative int, a tuple of 2 ints "
                     "(symmetric_height_pad, symmetric_width_pad), or a tuple of 2 tuples of "
                     f"2 ints ((top_pad, bottom_pad), (left_pad, right_pad)); got {padding!r}.")


class ZeroPadding2D(RankCheckedLayer):
    """Add zeros around each image: ``(N, H, W, C)`` to ``(N, t + H + b, l + W + r, C)``.

    Forward and backward::

        a[n, t + i, l + j, c] = x[n, i, j, c]          the border of a is 0
        δx[n, i, j, c]        = δa[n, t + i, l + j, c]  (the border's gradient is dropped)

    Args:
        padding: an int (the same on all four sides), ``(rows, cols)`` (``rows`` on top and
            bottom, ``cols`` left and right), or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> ZeroPadding2D(((1, 0), (0, 2)))(np.ones((1, 1, 2, 1)))[0, :, :, 0]
        array([[0., 0., 0., 0.],
               [1., 1., 0., 0.]], dtype=float32)
    """

    _spatial = 2

    def __init__(self, padding=(1, 1), data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.padding = _standardize_padding(padding)
        self.data_format = standardize_data_format(data_format, "ZeroPadding2D")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        (top, bottom), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else top + h + bottom,
                None if w is None else left + w + right, c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs.shape
        return np.pad(inputs, [(0, 0), *self.padding, (0, 0)])

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        _, h, w, _ = self.cache
        (top, _), (left, _) = self.padding
        return grad_outputs[:, top:top + h, left:left + w, :]

    _keras_build_config = True      # Keras records the input shape of a ZeroPadding2D

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}
