"""GlobalAveragePooling3D and GlobalMaxPooling3D: one value per channel of a volume."""

from __future__ import annotations

from minired.layers.pooling.global_pooling import _GlobalAveragePooling, _GlobalMaxPooling


class GlobalAveragePooling3D(_GlobalAveragePooling):
    """The mean of each channel over depth, rows and columns: ``(N, D, H, W, C)`` to
    ``(N, C)``.

    Forward and backward::

        a[n, c]           = (1 / (D·H·W)) · Σ_{t, i, j} x[n, t, i, j, c]
        δx[n, t, i, j, c] = δa[n, c] / (D·H·W)

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axes with size 1, giving ``(N, 1, 1, 1, C)``.
        name: layer name.

    Example:
        >>> x = np.arange(16.0).reshape(1, 2, 2, 2, 2)
        >>> GlobalAveragePooling3D()(x)
        array([[7., 8.]], dtype=float32)
    """

    spatial = 3


class GlobalMaxPooling3D(_GlobalMaxPooling):
    """The largest value of each channel over depth, rows and columns: ``(N, D, H, W, C)``
    to ``(N, C)``.

    Forward and backward (ties split the gradient equally, as TensorFlow's ``reduce_max``)::

        a[n, c]           = max_{t, i, j} x[n, t, i, j, c]
        δx[n, t, i, j, c] = δa[n, c] / t[n, c]   where x[n, t, i, j, c] = a[n, c], else 0

    Args:
        data_format: ``"channels_last"`` (or None).
        keepdims: keep the pooled axes with size 1, giving ``(N, 1, 1, 1, C)``.
        name: layer name.

    Example:
        >>> GlobalMaxPooling3D(keepdims=True)(np.arange(8.0).reshape(1, 2, 2, 2, 1)).ravel()
        array([7.], dtype=float32)
    """

    spatial = 3
