"""MaxPooling3D: keep the largest value of each 3-D window (volumes, videos)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.max_pooling import _MaxPooling
from minired.layers.pooling.windows import crop_spatial, pad_spatial


class MaxPooling3D(_MaxPooling):
    """Max pooling over depth, rows and columns: inputs ``(N, D, H, W, C)``, outputs
    ``(N, D_out, H_out, W_out, C)``, the largest value of each ``pool_size`` window.

    Forward, the same as :class:`~minired.layers.MaxPooling2D` with a third axis::

        a[n, t, i, j, c] = max_{e, p, q} x[n, t·sd + e, i·sh + p, j·sw + q, c]

    Backward: the window's gradient goes to its maximum. **Ties differ from the 1-D and
    2-D layers**: TensorFlow's ``MaxPool3DGrad`` (CPU) compares every value of the window
    with the maximum and gives the **whole** ``δa`` to each one equal to it (measured, TF
    2.21: two tied maxima in one window both get ``δa``), so, as Keras::

        δx[n, t·sd + e, i·sh + p, j·sw + q, c] += δa[n, t, i, j, c] · 1[x = a]   every (e, p, q)

    Without ties this is the gradient; with ties it counts ``δa`` once per tied value (no
    true gradient exists there). One loop over the window's offsets, each vectorised over
    every sample, position and channel. ``D_out`` and the padding (``-inf``, never a
    maximum) are as in 2-D: ``⌊(D - pd)/sd⌋ + 1`` ("valid") or ``⌈D/sd⌉`` ("same").

    Args:
        pool_size: ``(pd, ph, pw)``, or one int for all three.
        strides: ``(sd, sh, sw)``, or one int; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None); minired has no channels-first layout.
        name: layer name.

    Example:
        >>> x = np.arange(16.0).reshape(1, 2, 2, 4, 1)
        >>> MaxPooling3D()(x)[0, :, :, :, 0]
        array([[[13., 15.]]], dtype=float32)
        >>> layer = MaxPooling3D()
        >>> _ = layer(np.ones((1, 2, 2, 2, 1)))                   # eight tied maxima
        >>> float(layer.backward(np.ones((1, 1, 1, 1, 1), dtype="float32")).sum())
        8.0
    """

    spatial = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding: str = "valid",
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        a = super().forward(inputs, training)           # the maxima, as in 1-D and 2-D
        self.cache = (self._as_float(inputs), a)        # x and a: the ties of backward
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x, a = self.cache
        pads = self._pads(x.shape)
        padded = pad_spatial(x, pads, -np.inf)
        grad = np.zeros(padded.shape, dtype=grad_outputs.dtype)
        for offset in np.ndindex(*self.pool_size):      # prod(pool_size) offsets
            at = self._at(offset, a.shape)              # offset k of every window
            grad[at] += grad_outputs * (padded[at] == a)     # δa to every x_k = a
        return crop_spatial(grad, pads)
