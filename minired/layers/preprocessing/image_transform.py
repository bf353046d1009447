"""Affine and projective resampling of images, shared by RandomRotation, RandomZoom,
RandomTranslation, RandomShear and RandomPerspective.

A transform of an image is written, as in Keras (``keras.ops.image.affine_transform``), as 8
numbers per image ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (``c0 = c1 = 0`` for an affine one;
otherwise a perspective). They map each **output** pixel ``(x, y)`` (column ``x``, row ``y``,
from 0) back to the point of the **input** it shows::

    x_in = (a0·x + a1·y + a2) / k
    y_in = (b0·x + b1·y + b2) / k          k = c0·x + c1·y + 1   (k = 1: affine)

That point is rarely a pixel centre, so the output value is interpolated from the input
pixels around it:

- ``"nearest"``: the closest pixel, ``x[round(y_in), round(x_in)]`` (round = ⌊· + ½⌋);
- ``"bilinear"``: the 4 pixels around it, ``x0 = ⌊x_in⌋, x1 = x0 + 1, fx = x_in - x0``
  (and the same for ``y``), weighted by how close they are::

      a = (1-fx)(1-fy)·x[y0, x0] + fx(1-fy)·x[y0, x1] + (1-fx)fy·x[y1, x0] + fx·fy·x[y1, x1]

A pixel index ``i`` outside ``0 … n-1`` (``n`` rows or columns) is read according to
``fill_mode``, as NumPy's ``np.pad`` modes that Keras' NumPy backend uses:

- ``"reflect"``: mirrored about the edge, ``(d c b a | a b c d | d c b a)``;
- ``"wrap"``: the opposite edge, ``(a b c d | a b c d | a b c d)``, i.e. ``i mod n``;
- ``"nearest"``: the edge pixel, ``(a a a a | a b c d | d d d d)``;
- ``"constant"``: the value ``fill_value``, ``(k k k k | a b c d | k k k k)``.

So each output value is a weighted sum of K input values (K = 1 or 4) plus, in constant
mode, ``fill_value`` times the weight of the corners that fall outside:
``a[p] = Σ_k w_k[p]·x[q_k(p)] + fill_value·w_out[p]``. :func:`sampling_plan` computes the
read positions ``q_k`` and the weights ``w_k`` (a :class:`Sampling`), :func:`resample`
applies them, and :func:`resample_adjoint` is the backward pass. For fixed ``q`` and ``w``
the forward is linear in ``x``, and its adjoint scatters each output gradient back to the
pixels it was read from, with the same weights::

    δx[q] = Σ_{p, k : q_k(p) = q} w_k[p]·δa[p]              (np.add.at: a pixel read by
                                                             several outputs sums them)

The positions and weights depend only on the transform, not on ``x``, so they get no
gradient (Keras draws the transform at random, it is not learned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


@dataclass
class Sampling:
    """Where each output pixel reads the input, for a batch ``(N, H, W)`` of outputs.

    Attributes:
        rows, cols: ``(K, N, H, W)`` integer row and column of the k-th input pixel read
            (already inside the image: mapped by the fill mode).
        weights: ``(K, N, H, W)`` weight ``w_k`` of that pixel (0 for a constant-mode
            corner outside the image).
        outside: ``(N, H, W)`` weight of ``fill_value`` (the constant-mode corners outside).
        input_size: ``(rows, cols)`` of the input images (the outputs' may differ: a resize).
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    outside: np.ndarray
    input_size: tuple[int, int]


def input_coordinates(transforms: np.ndarray, height: int, width: int,
                      dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(x_in, y_in)``, each ``(N, H, W)``: the input point each output pixel shows, for
    ``transforms`` of shape ``(N, 8)``, computed in ``dtype``."""
    transforms = np.asarray(transforms).astype(dtype)
    if transforms.ndim != 2 or transforms.shape[1] != 8:
        raise ValueError(f"transforms must have shape (batch, 8), got {transforms.shape}.")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transforms[:, i, None, None] for i in range(8))
    y, x = np.meshgrid(np.arange(height, dtype=dtype), np.arange(width, dtype=dtype),
                       indexing="ij")
    x_in, y_in = a0 * x + a1 * y + a2, b0 * x + b1 * y + b2
    if np.any(transforms[:, 6:] != 0):          # a perspective: divide by k (affine: k = 1)
        k = c0 * x + c1 * y + 1
        x_in, y_in = x_in / k, y_in / k
    return x_in, y_in


def _fill_index(index: np.ndarray, size: int, fill_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Map integer indices onto ``0 … size-1`` by ``fill_mode``; also return which were
    inside (only constant mode uses it: the others always read a pixel)."""
    inside = (index >= 0) & (index < size)
    if fill_mode == "reflect":              # period 2n: 0 1 … n-1 n-1 … 1 0
        index = np.mod(index, 2 * size)
        index = np.where(index < size, index, 2 * size - 1 - index)
    elif fill_mode == "wrap":
        index = np.mod(index, size)
    else:                                   # nearest, and a safe place for constant's reads
        index = np.clip(index, 0, size - 1)
    return index, inside


def sampling_plan(transforms: np.ndarray, image_size: tuple[int, int], interpolation: str,
                  fill_mode: str, dtype, output_size: tuple[int, int] | None = None) -> Sampling:
    """The read positions and weights of :func:`resample` for ``transforms`` ``(N, 8)`` on
    images of ``image_size = (H, W)`` (see the module docstring), for outputs of
    ``output_size`` (default: ``image_size``)."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {INTERPOLATIONS}, got "
                         f"{interpolation!r}.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"`fill_mode` must be one of {FILL_MODES}, got {fill_mode!r}.")
    height, width = image_size
    x_in, y_in = input_coordinates(transforms, *(output_size or image_size), dtype)
    if interpolation == "nearest":
        cols = np.floor(x_in + 0.5).astype(np.int64)[None]
        rows = np.floor(y_in + 0.5).astype(np.int64)[None]
        weights = np.ones_like(x_in)[None]
    else:
        x0, y0 = np.floor(x_in), np.floor(y_in)
        fx, fy = x_in - x0, y_in - y0               # the distances past the corner (x0, y0)
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        cols = np.stack([x0, x0 + 1, x0, x0 + 1])
        rows = np.stack([y0, y0, y0 + 1, y0 + 1])
        weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    rows, rows_inside = _fill_index(rows, height, fill_mode)
    cols, cols_inside = _fill_index(cols, width, fill_mode)
    outside = np.zeros_like(x_in)
    if fill_mode == "constant":
        inside = rows_inside & cols_inside
        outside = np.sum(np.where(inside, 0, weights), axis=0)
        weights = np.where(inside, weights, 0)
    return Sampling(rows, cols, weights.astype(dtype), outside.astype(dtype),
                    (height, width))


def _batch_index(sampling: Sampling) -> np.ndarray:
    """``n`` broadcast against ``(K, N, H, W)``: each output reads its own image."""
    return np.arange(sampling.rows.shape[1])[None, :, None, None]


def resample(images: np.ndarray, sampling: Sampling, fill_value: float = 0.0) -> np.ndarray:
    """``a[n, y, x, c] = Σ_k w_k·images[n, rows_k, cols_k, c] + fill_value·w_out``.

    Example:
        >>> shift = np.array([[1, 0, -1, 0, 1, 0, 0, 0]])     # x_in = x - 1: one pixel right
        >>> plan = sampling_plan(shift, (1, 3), "bilinear", "constant", np.float64)
        >>> resample(np.array([[[[1.], [2.], [3.]]]]), plan, fill_value=9.0)[0, 0, :, 0]
        array([9., 1., 2.])
    """
    gathered = images[_batch_index(sampling), sampling.rows, sampling.cols]   # (K, N, H, W, C)
    outputs = np.sum(sampling.weights[..., None] * gathered, axis=0)
    if fill_value != 0:
        outputs = outputs + sampling.outside[..., None] * images.dtype.type(fill_value)
    return outputs.astype(images.dtype, copy=False)


def resample_adjoint(grad_outputs: np.ndarray, sampling: Sampling) -> np.ndarray:
    """``δx``: each ``δa[p]`` scattered back to the pixels ``q_k(p)`` it read, times
    ``w_k[p]`` (summed where several outputs read one pixel: ``np.add.at``)."""
    n, channels = grad_outputs.shape[0], grad_outputs.shape[-1]
    grad_inputs = np.zeros((n, *sampling.input_size, channels), dtype=grad_outputs.dtype)
    contributions = sampling.weights[..., None] * grad_outputs[None]          # (K, N, H, W, C)
    np.add.at(grad_inputs, (_batch_index(sampling), sampling.rows, sampling.cols),
              contributions.astype(grad_outputs.dtype, copy=False))
    return grad_inputs
