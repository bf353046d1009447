"""AveragePooling3D: the mean of each 3-D window (volumes, videos)."""

from __future__ import annotations

from minired.layers.pooling.average_pooling import _AveragePooling


class AveragePooling3D(_AveragePooling):
    """Average pooling over depth, rows and columns: inputs ``(N, D, H, W, C)``, outputs
    ``(N, D_out, H_out, W_out, C)``, the mean of each ``pool_size`` window, per channel.

    Forward and backward, as :class:`~minired.layers.AveragePooling2D` with a third axis::

        a[n, t, i, j, c] = (1 / n_tij) · Σ_{e, p, q} x[n, t·sd + e, i·sh + p, j·sw + q, c]
        δx[n, t·sd + e, i·sh + p, j·sw + q, c]  +=  δa[n, t, i, j, c] / n_tij

    ``n_tij = pd · ph · pw`` except at a "same"-padded border, where it counts the real
    values only (as TensorFlow). ``D_out = ⌊(D - pd)/sd⌋ + 1`` ("valid") or ``⌈D/sd⌉``.

    Args:
        pool_size: ``(pd, ph, pw)``, or one int for all three (required, as in Keras).
        strides: ``(sd, sh, sw)``, or one int; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(16.0).reshape(1, 2, 2, 4, 1)
        >>> AveragePooling3D(2)(x)[0, :, :, :, 0]
        array([[[6.5, 8.5]]], dtype=float32)
    """

    spatial = 3

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)
