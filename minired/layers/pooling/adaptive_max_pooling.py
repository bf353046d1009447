"""Adaptive max pooling: the largest value of each of ``output_size`` bins per spatial axis
(AdaptiveMaxPooling1D, 2D, 3D)."""

from __future__ import annotations

import numpy as np

from minired.layers.pooling.base_adaptive_pooling import BaseAdaptivePooling, bin_gather_index


class _AdaptiveMaxPooling(BaseAdaptivePooling):
    """Along each spatial axis in turn, for the bin ``B_i`` of output ``i`` (see
    :class:`BaseAdaptivePooling` for the bins)::

        a_i = max_{j ∈ B_i} x_j        j*_i = the position of that maximum       forward
        δx_{j*_i} += δa_i                                                        backward

    (bins may overlap, so one input can win two bins: the gradients add up).

    **Ties**, as Keras computes it on TensorFlow (each axis is a stride-1 ``tf.nn.pool``
    and a gather): in 1-D and 2-D the pool is a ``MaxPool``, whose gradient goes to the
    **first** maximum of the bin; in 3-D it is a ``MaxPool3D``, whose gradient
    (``MaxPool3DGrad``) gives the **whole** ``δa_i`` to **every** value equal to the
    maximum (as :class:`~minired.layers.MaxPooling3D`).

    Vectorised with one ``take``: the ``(out, K)`` positions of :func:`bin_gather_index`
    give every bin's values at once, ``(..., out, K, ...)``; the forward reduces them, and
    keeps which of them receive ``δa_i`` (a mask of the same shape); the backward
    scatter-adds ``δa_i`` through that mask to the positions (``np.add.at``).
    """

    #: True: each tied maximum gets all of δa (TensorFlow's MaxPool3DGrad); False: the first.
    _every_tie = False

    def _pool_axis(self, x, axis, starts, sizes):
        index = bin_gather_index(starts, sizes)                 # (out, K) positions
        values = np.take(x, index, axis=axis)                   # (..., out, K, ...)
        a = values.max(axis=axis + 1)                           # a_i = max over the bin
        offsets = np.arange(index.shape[1])
        if self._every_tie:                                     # every x_j = a_i in the bin
            in_bin = _along((offsets < sizes[:, None]), axis, values.ndim)   # not the repeats
            wins = (values == np.expand_dims(a, axis + 1)) & in_bin
        else:                                                   # the first x_j = a_i
            first = np.expand_dims(values.argmax(axis=axis + 1), axis + 1)
            k = offsets.reshape([-1 if d == axis + 1 else 1 for d in range(values.ndim)])
            wins = k == first
        return a, (x.shape, index, wins)

    def _unpool_axis(self, grad, axis, cache):
        shape, index, wins = cache
        share = np.where(wins, np.expand_dims(grad, axis + 1), 0).astype(grad.dtype)
        grids = list(np.indices(wins.shape, sparse=True))
        positions = _along(index, axis, wins.ndim)              # j of each (i, k)
        where = (*grids[:axis], positions, *grids[axis + 2:])
        grad_x = np.zeros(shape, dtype=grad.dtype)
        np.add.at(grad_x, where, share)                         # δx_{j*} += δa_i
        return grad_x


def _along(matrix: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """An ``(out, K)`` array shaped to broadcast against ``(..., out, K, ...)`` arrays of
    ``ndim`` axes with ``out`` at ``axis``."""
    return matrix.reshape([1] * axis + list(matrix.shape) + [1] * (ndim - axis - 2))


class AdaptiveMaxPooling1D(_AdaptiveMaxPooling):
    """Max pooling of sequences ``(N, steps, C)`` to ``output_size`` steps.

    Per axis, bin ``B_i`` (Keras' bins, see :class:`BaseAdaptivePooling`)::

        a_i = max_{j ∈ B_i} x_j                  δx_{j*_i} += δa_i   (j*_i: the first maximum)

    Args:
        output_size: the number of output steps (an int, or a tuple of one).
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> layer = AdaptiveMaxPooling1D(2)
        >>> layer(np.array([1.0, 3.0, 2.0, 0.0, 5.0]).reshape(1, 5, 1))[0, :, 0]
        array([3., 5.], dtype=float32)
    """

    spatial = 1


class AdaptiveMaxPooling2D(_AdaptiveMaxPooling):
    """Max pooling of images ``(N, H, W, C)`` to ``output_size`` rows and columns.

    Rows, then columns; per axis, bin ``B_i`` (Keras' bins, see :class:`BaseAdaptivePooling`)::

        a_i = max_{j ∈ B_i} x_j                  δx_{j*_i} += δa_i   (j*_i: the first maximum)

    Args:
        output_size: ``(rows, cols)``, or one int for both.
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> AdaptiveMaxPooling2D((2, 3))(np.ones((1, 7, 5, 2))).shape
        (1, 2, 3, 2)
    """

    spatial = 2


class AdaptiveMaxPooling3D(_AdaptiveMaxPooling):
    """Max pooling of volumes ``(N, D, H, W, C)`` to ``output_size`` positions.

    Depth, rows, then columns; per axis, bin ``B_i`` (see :class:`BaseAdaptivePooling`)::

        a_i = max_{j ∈ B_i} x_j                  δx_j += δa_i  for every j with x_j = a_i

    (ties follow TensorFlow's ``MaxPool3DGrad``: each tied maximum gets the whole ``δa_i``).

    Args:
        output_size: ``(depth, rows, cols)``, or one int for all three.
        data_format: ``"channels_last"`` (or None) only.
        name: layer name.

    Example:
        >>> AdaptiveMaxPooling3D(2)(np.ones((1, 3, 4, 5, 1))).shape
        (1, 2, 2, 2, 1)
    """

    spatial = 3
    _every_tie = True
