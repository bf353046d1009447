"""Average pooling: the mean of each window (AveragePooling1D, AveragePooling2D)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.base_pooling import BasePooling
from minired.layers.pooling.windows import crop_spatial, pad_spatial, scatter_windows, windows


class _AveragePooling(BasePooling):
    """Forward, for each window ``W`` of the input (one channel)::

        a = (1 / n_W) · Σ_{k ∈ W} x_k           n_W = the number of real inputs in W

    Backward: every input of the window gets an equal share, ``δx_k += δa / n_W`` for each
    ``k ∈ W`` (overlapping windows add their shares).

    ``n_W`` is ``prod(pool_size)``, except with ``padding="same"`` where a window that hangs
    over the border holds fewer real values: as TensorFlow, the padded zeros are not counted
    (a corner 2×2 window with one real row averages 2 values, not 4).

    The cache is ``n_W`` for every output position and the padding.
    """

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = self._as_float(inputs)
        pads = self._pads(x.shape)
        padded = pad_spatial(x, pads, 0.0)
        # n_W: slide the same windows over ones that are padded with zeros, and sum.
        ones = pad_spatial(np.ones((1, *x.shape[1:-1], 1), x.dtype), pads, 0.0)
        counts = windows(ones, self.pool_size, self.strides).sum(axis=self._window_axes())
        window_sums = windows(padded, self.pool_size, self.strides).sum(axis=self._window_axes())
        self.cache = (counts, padded.shape, pads)
        return window_sums / counts

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        counts, padded_shape, pads = self.cache
        share = grad_outputs / counts                           # δa / n_W, (N, *out, C)
        extra = (1,) * self.spatial
        grad_windows = np.broadcast_to(share.reshape(*share.shape, *extra),
                                       (*share.shape, *self.pool_size))
        return crop_spatial(scatter_windows(grad_windows, padded_shape, self.strides), pads)


class AveragePooling2D(_AveragePooling):
    """Average pooling over rows and columns: inputs ``(N, H, W, C)``, outputs
    ``(N, H_out, W_out, C)``, the mean of each ``pool_size`` window, per channel.

    Forward and backward, per window (see ``_AveragePooling`` for "same" padding)::

        a[n, i, j, c] = (1 / n_ij) · Σ_{p, q} x[n, i·sh + p, j·sw + q, c]
        δx[n, i·sh + p, j·sw + q, c]  +=  δa[n, i, j, c] / n_ij      for every (p, q)

    ``n_ij = ph · pw`` except at a "same"-padded border, where it counts the real values.
    ``H_out = ⌊(H - ph) / sh⌋ + 1`` ("valid") or ``⌈H / sh⌉`` ("same").

    Args:
        pool_size: ``(ph, pw)``, or one int for both (required, as in Keras).
        strides: ``(sh, sw)``, or one int; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[1., 2., 0., 1.],
        ...               [3., 4., 1., 5.]]).reshape(1, 2, 4, 1)
        >>> AveragePooling2D(pool_size=(2, 2))(x)[0, :, :, 0]
        array([[2.5 , 1.75]], dtype=float32)
        >>> AveragePooling2D(pool_size=(2, 2), padding="same")(x[:, :1])[0, :, :, 0]
        array([[1.5, 0.5]], dtype=float32)
    """

    spatial = 2

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_AveragePooling):
    """Average pooling along time: inputs ``(N, L, C)``, outputs ``(N, L_out, C)``.

    Forward and backward::

        a[n, i, c] = (1 / n_i) · Σ_{p < pool} x[n, i·stride + p, c]
        δx[n, i·stride + p, c]  +=  δa[n, i, c] / n_i

    Args:
        pool_size: the window length (required, as in Keras).
        strides: the step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([1., 3., 2., 0., 5.]).reshape(1, 5, 1)
        >>> AveragePooling1D(pool_size=2, padding="same")(x)[0, :, 0]
        array([2., 1., 5.], dtype=float32)
    """

    spatial = 1

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)
