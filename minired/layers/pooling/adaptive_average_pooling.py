"""Adaptive average pooling: the mean of each of ``output_size`` bins per spatial axis
(AdaptiveAveragePooling1D, 2D, 3D)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.base_adaptive_pooling import BaseAdaptivePooling


class _AdaptiveAveragePooling(BaseAdaptivePooling):
    """Along each spatial axis in turn, for the bin ``B_i`` of output ``i`` (``|B_i|`` inputs;
    see :class:`BaseAdaptivePooling` for the bins)::

        a_i = (1/|B_i|) Σ_{j ∈ B_i} x_j              forward
        δx_j = Σ_{i: j ∈ B_i} δa_i / |B_i|             backward: δa_i spread evenly over B_i

    Both are one product with the ``(out, L)`` matrix ``P``, ``P[i, j] = 1/|B_i|`` for
    ``j ∈ B_i`` (0 elsewhere): ``a = P x`` and ``δx = Pᵀ δa`` along the axis (bins may
    overlap: an input in two bins gets both shares).
    """

    def _pool_axis(self, x, axis, starts, sizes):
        positions = np.arange(x.shape[axis])
        inside = (positions >= starts[:, None]) & (positions < (starts + sizes)[:, None])
        mean = (inside / sizes[:, None]).astype(x.dtype)          # P: (out, L)
        a = np.moveaxis(np.tensordot(mean, x, axes=([1], [axis])), 0, axis)    # a = P x
        return a, mean

    def _unpool_axis(self, grad, axis, mean):
        return np.moveaxis(np.tensordot(mean.T, grad, axes=([1], [axis])), 0, axis)  # Pᵀ δa


class AdaptiveAveragePooling1D(_AdaptiveAveragePooling):
    """Average pooling of sequences ``(N, steps, C)`` to ``output_size`` steps.

    Per axis, bin ``B_i`` (Keras' bins, see :class:`BaseAdaptivePooling`)::

        a_i = (1/|B_i|) Σ_{j ∈ B_i} x_j          δx_j = Σ_{i: j ∈ B_i} δa_i / |B_i|

    Args:
        output_size: the number of output steps (an int, or a tuple of one).
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> layer = AdaptiveAveragePooling1D(2)
        >>> layer(np.arange(5.0).reshape(1, 5, 1))[0, :, 0]      # bins [0, 1, 2], [2, 3, 4]
        array([1., 3.], dtype=float32)
    """

    spatial = 1


class AdaptiveAveragePooling2D(_AdaptiveAveragePooling):
    """Average pooling of images ``(N, H, W, C)`` to ``output_size`` rows and columns.

    Rows, then columns; per axis, bin ``B_i`` (Keras' bins, see :class:`BaseAdaptivePooling`)::

        a_i = (1/|B_i|) Σ_{j ∈ B_i} x_j          δx_j = Σ_{i: j ∈ B_i} δa_i / |B_i|

    Args:
        output_size: ``(rows, cols)``, or one int for both.
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> AdaptiveAveragePooling2D((2, 3))(np.ones((1, 7, 5, 2))).shape
        (1, 2, 3, 2)
    """

    spatial = 2


class AdaptiveAveragePooling3D(_AdaptiveAveragePooling):
    """Average pooling of volumes ``(N, D, H, W, C)`` to ``output_size`` positions.

    Depth, rows, then columns; per axis, bin ``B_i`` (see :class:`BaseAdaptivePooling`)::

        a_i = (1/|B_i|) Σ_{j ∈ B_i} x_j          δx_j = Σ_{i: j ∈ B_i} δa_i / |B_i|

    Args:
        output_size: ``(depth, rows, cols)``, or one int for all three.
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> AdaptiveAveragePooling3D(2)(np.ones((1, 3, 4, 5, 1))).shape
        (1, 2, 2, 2, 1)
    """

    spatial = 3
