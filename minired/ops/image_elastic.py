"""``mr.ops.image.elastic_transform``: move every pixel by a smooth random displacement.

As Keras' TensorFlow backend computes it, for images ``(N, H, W, C)``:

1. noise ``u ~ N(0, 1)`` of shape ``(N, H, W)``, times ``σ``; TensorFlow draws the
   horizontal and the vertical field from **the same seed**, so they are the same field
   (every pixel moves along the diagonal), and minired draws one field for both;
2. the field blurred by a Gaussian of width ``σ`` and side ``k = 6·int(σ) | 1``
   (:func:`~minired.ops.image.gaussian_blur`, zeros around): ``d = G_σ ⋆ (σ·u)``;
3. each output pixel ``(y, x)`` reads the input at ``(y + α·d, x + α·d)``, interpolated
   as :func:`~minired.ops.image.map_coordinates` (``order`` 0 or 1) with Keras' fill
   rules; as a plan of read positions and weights
   (:class:`~minired.layers.preprocessing.image_transform.Sampling`), so the forward and
   backward passes are the affine layers' ``resample`` and ``resample_adjoint``::

       a[p] = Σ_k w_k[p]·x[q_k(p)] + fill_value·w_out[p]
       δx[q] = Σ_{p, k : q_k(p) = q} w_k[p]·δa[p]

The displacement depends only on the random draw, not on ``x``: it gets no gradient.
"""

from __future__ import annotations

import itertools

import numpy as np

from minired.autodiff.tape import record
from minired.layers.preprocessing import image_transform
from minired.ops.elementwise import _value
from minired.ops.image import _batched, _check_format, _check_rank, _fix_index, gaussian_blur
from minired.ops.shapes import squeeze
from minired.random.random import normal

#: Keras' ``AFFINE_TRANSFORM_INTERPOLATIONS`` (the position is map_coordinates' ``order``)
#: and ``AFFINE_TRANSFORM_FILL_MODES``.
INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("constant", "nearest", "wrap", "reflect")


def check_elastic_arguments(interpolation: str, fill_mode: str) -> None:
    """Keras' errors for an unknown ``interpolation`` or ``fill_mode``."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{INTERPOLATIONS}. Received: interpolation={interpolation}")
    if fill_mode not in FILL_MODES:
        raise ValueError("Invalid value for argument `fill_mode`. Expected of one "
                         f"{FILL_MODES}. Received: fill_mode={fill_mode}")


def displacement(noise: np.ndarray, sigma) -> np.ndarray:
    """``d = G_σ ⋆ (σ·u)`` for standard normal ``noise`` ``u`` of shape ``(N, H, W)``, in
    its dtype: the Gaussian of side ``6·int(σ) | 1`` (``int`` truncates, as TensorFlow's
    cast), zeros around the image."""
    dtype = noise.dtype.type
    sigma = dtype(sigma)
    side = 6 * int(sigma) | 1
    blurred = gaussian_blur((noise * sigma)[..., None], kernel_size=(side, side),
                            sigma=(sigma, sigma))
    return np.asarray(blurred)[..., 0]


def elastic_sampling(noise: np.ndarray, alpha, sigma, interpolation: str,
                     fill_mode: str) -> image_transform.Sampling:
    """The read plan of :func:`elastic_transform` for ``noise`` ``(N, H, W)``: the point
    ``(y + α·d, x + α·d)`` of each output pixel, its 1 (``"nearest"``: rounded half to even,
    as ``tf.round``) or 4 (``"bilinear"``: ``⌊c⌋, ⌊c⌋ + 1`` per axis, weights ``1 - f, f``)
    input pixels, moved inside the image by ``fill_mode`` (Keras' TensorFlow rules)."""
    dtype = noise.dtype.type
    d = displacement(noise, sigma)
    n, height, width = noise.shape
    rows, cols = np.meshgrid(np.arange(height, dtype=dtype), np.arange(width, dtype=dtype),
                             indexing="ij")
    alpha = dtype(alpha)
    per_axis = []
    for coordinate, size in ((rows + alpha * d, height), (cols + alpha * d, width)):
        if interpolation == "nearest":
            nodes = [(np.round(coordinate).astype(np.int64), np.ones_like(coordinate))]
        else:
            lower = np.floor(coordinate)
            upper_weight = coordinate - lower
            nodes = [(lower.astype(np.int64), 1 - upper_weight),
                     (lower.astype(np.int64) + 1, upper_weight)]
        per_axis.append([(*_fix_index(index, size, fill_mode), w) for index, w in nodes])
    corners = list(itertools.product(*per_axis))        # (row node, column node) pairs
    rows_k = np.stack([r for (r, _, _), _ in corners])
    cols_k = np.stack([c for _, (c, _, _) in corners])
    weights = np.stack([wr * wc for (_, _, wr), (_, _, wc) in corners]).astype(dtype)
    valid = np.stack([vr & vc for (_, vr, _), (_, vc, _) in corners])
    outside = np.sum(np.where(valid, 0, weights), axis=0).astype(dtype)
    return image_transform.Sampling(rows_k, cols_k, np.where(valid, weights, 0).astype(dtype),
                                    outside, (height, width))


def draw_noise(shape: tuple, dtype, seed) -> np.ndarray:
    """The standard normal field ``u`` (one draw of ``seed``, used for both directions)."""
    return normal(shape, dtype=dtype, seed=seed)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Deform images by a smooth random displacement field (Keras'
    ``keras.ops.image.elastic_transform``).

    Forward (see the module docstring): ``d = G_σ ⋆ (σ·u)``, ``u ~ N(0, 1)`` per pixel;
    output pixel ``(y, x)`` reads the input at ``(y + α·d, x + α·d)``:
    ``a[p] = Σ_k w_k[p]·x[q_k(p)] + fill_value·w_out[p]``. VJP (images only):
    ``δx[q] = Σ_{p,k: q_k(p) = q} w_k[p]·δa[p]``.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``, floating point (Keras' TensorFlow
            backend cannot draw the noise in an integer dtype either).
        alpha: the size of the displacement (default 20.0).
        sigma: the width of the Gaussian smoothing the field (default 5.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"constant"``, ``"nearest"`` or ``"wrap"``.
        fill_value: the value outside the image in constant mode.
        seed: an int (the same field at each call), a
            :class:`~minired.random.SeedGenerator` or None.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> x = np.arange(12.0).reshape(3, 4, 1)
        >>> bool(np.array_equal(elastic_transform(x, alpha=0.0), x))     # α = 0: no move
        True
        >>> elastic_transform(x, seed=1).shape
        (3, 4, 1)
    """
    _check_format(data_format, "elastic_transform")
    check_elastic_arguments(interpolation, fill_mode)
    _check_rank(images, "elastic_transform")
    x, single = _batched(images)
    value = np.asarray(_value(x))
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError("ops.image.elastic_transform: images must be floating point (the "
                        f"noise is drawn in the images' dtype), got dtype {value.dtype}.")
    noise = draw_noise(value.shape[:3], value.dtype, seed)
    sampling = elastic_sampling(noise, alpha, sigma, interpolation, fill_mode)
    out = image_transform.resample(value, sampling, fill_value)
    out = record(out, (x,), lambda grad: (image_transform.resample_adjoint(grad, sampling),))
    return squeeze(out, 0) if single else out
