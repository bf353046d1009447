"""ZeroPadding3D: add slices, rows and columns of zeros around each volume."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.windows import crop_spatial, pad_spatial, standardize_data_format
from minired.layers.reshaping.arguments import RankCheckedLayer, non_negative_tuple

_ORDINALS = ("1st", "2nd", "3rd")


def pairs_per_axis(value, name: str, owner: str) -> tuple[tuple[int, int], ...]:
    """Keras' three forms of a 3-D ``padding`` or ``cropping`` as
    ``((d0, d1), (h0, h1), (w0, w1))``: an int for all six, three ints (each symmetric), or
    three pairs.

    Example:
        >>> pairs_per_axis((1, 2, (0, 3)), "padding", "ZeroPadding3D")
        ((1, 1), (2, 2), (0, 3))
    """
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{owner}: `{name}` cannot be negative. Received: {name}={value}.")
        return ((int(value),) * 2,) * 3
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(
            f"{owner}: `{name}` should be either an int, a tuple of 3 ints (symmetric_dim1, "
            "symmetric_dim2, symmetric_dim3), or a tuple of 3 tuples of 2 ints ((left_dim1, "
            "right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3)). Received: "
            f"{name}={value!r}.")
    return tuple(non_negative_tuple(v, 2, f"{ordinal} entry of {name}", owner)
                 for v, ordinal in zip(value, _ORDINALS, strict=True))


class ZeroPadding3D(RankCheckedLayer):
    """Add zeros around each volume: ``(N, D, H, W, C)`` to
    ``(N, d0 + D + d1, h0 + H + h1, w0 + W + w1, C)``.

    Forward and backward::

        a[n, d0 + t, h0 + i, w0 + j, c] = x[n, t, i, j, c]     the border of a is 0
        δx[n, t, i, j, c] = δa[n, d0 + t, h0 + i, w0 + j, c]   (the border's gradient is
                                                                 dropped)

    Args:
        padding: an int (the same on all six sides), ``(d, h, w)`` (each symmetric), or
            ``((d0, d1), (h0, h1), (w0, w1))``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> ZeroPadding3D(((0, 0), (0, 0), (1, 2)))(np.ones((1, 1, 1, 1, 1))).ravel()
        array([0., 1., 0., 0.], dtype=float32)
    """

    _spatial = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "ZeroPadding3D")
        self.padding = pairs_per_axis(padding, "padding", "ZeroPadding3D")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, *spatial, c = input_shape
        return (n, *(None if size is None else size + sum(pad)
                     for size, pad in zip(spatial, self.padding, strict=True)), c)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        return pad_spatial(inputs, list(self.padding), 0.0)

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return crop_spatial(grad_outputs, list(self.padding))

    _keras_build_config = True      # Keras records the input shape of a ZeroPadding3D

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}
