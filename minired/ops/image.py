"""``mr.ops.image``: Keras' ``keras.ops.image`` on NumPy (channels last).

- :func:`resize` and :func:`affine_transform` (and :func:`perspective_transform`) reuse
  the preprocessing layers' code (:mod:`~minired.layers.preprocessing.resizing`:
  ``a = R_y x R_xᵀ``, VJP ``δx = R_yᵀ δa R_x``;
  :mod:`~minired.layers.preprocessing.image_transform`: a weighted gather, VJP the weighted
  scatter back);
- :func:`crop_images`, :func:`pad_images`, :func:`rgb_to_grayscale`, :func:`rgb_to_hsv`,
  :func:`hsv_to_rgb`, :func:`map_coordinates`, :func:`extract_patches`,
  :func:`gaussian_blur`, :func:`sobel_edges` and :func:`ssim` are written with the other
  ops (slicing, ``pad``, ``tensordot``, ``where``, ``take``, ``conv``, ``depthwise_conv``),
  so the tape differentiates them.

Example:
    >>> from minired.ops import image
    >>> image.resize(np.arange(4.0).reshape(1, 2, 2, 1), (1, 1))[0, :, :, 0]
    array([[1.5]])
"""

from __future__ import annotations

import itertools

import numpy as np

from minired.autodiff.tape import record
from minired.keras_numerics import keras_tensor_dtype
from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.random_perspective import homographies
from minired.layers.preprocessing.resizing import (
    aspect_crop_window,
    resize_adjoint,
    resize_images,
)
from minired.ops import elementwise as ew
from minired.ops import reductions
from minired.ops.core import cast, convert_to_tensor, eye
from minired.ops.elementwise import _value, result_dtype
from minired.ops.linalg import tensordot
from minired.ops.nn_conv import conv, depthwise_conv
from minired.ops.shapes import (
    expand_dims,
    getitem,
    moveaxis,
    pad,
    reshape,
    squeeze,
    stack,
    take,
)

__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches",
           "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
           "perspective_transform", "resize", "scale_and_translate",
           "rgb_to_grayscale", "rgb_to_hsv", "sobel_edges", "ssim"]


def _check_format(data_format, op: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops.image.{op}: minired supports data_format='channels_last' only "
                         f"(images (N, H, W, C)), got data_format={data_format!r}.")


def _check_rank(images, op: str) -> int:
    rank = np.ndim(images)
    if rank not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch "
                         f"of images). Received input with shape: images.shape="
                         f"{np.shape(images)} (ops.image.{op}).")
    return rank


def _batched(images):
    """``(images as (N, H, W, C), whether a batch axis was added)``."""
    return (expand_dims(images, 0), True) if np.ndim(images) == 3 else (images, False)


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Resize images to ``size = (height, width)`` (``tf.image.resize``'s half-pixel rule).

    Forward: ``a = R_y · x · R_xᵀ`` per image and channel, ``R`` the 1-D interpolation
    matrices of :func:`~minired.layers.preprocessing.resizing.resize_matrix`; VJP:
    ``δx = R_yᵀ · δa · R_x``. With ``crop_to_aspect_ratio`` (``pad_to_aspect_ratio``) the
    centred window is cut (the images padded with ``fill_value``) first, as the
    :class:`~minired.layers.Resizing` layer.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        size: ``(height, width)``.
        interpolation: ``"bilinear"`` or ``"nearest"`` (Keras' others are not implemented).
        antialias: must be False (no antialiasing filter in minired).
        crop_to_aspect_ratio, pad_to_aspect_ratio: as Keras (not both).
        fill_mode: ``"constant"`` only (as Keras); fill_value: the padding's value.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> resize(np.array([[[0.0], [1.0]]]), (1, 4))[0, :, 0]
        array([0.  , 0.25, 0.75, 1.  ])
    """
    _check_format(data_format, "resize")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"ops.image.resize: minired implements interpolation 'bilinear' and "
                         f"'nearest', got {interpolation!r}.")
    if antialias:
        raise ValueError("ops.image.resize: antialias=True is not implemented in minired.")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is "
                         f"supported. Received: fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
                         "`True`.")
    if len(tuple(size)) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    _check_rank(images, "resize")
    x, single = _batched(images)
    height, width = np.shape(x)[1:3]
    target = (int(size[0]), int(size[1]))
    if crop_to_aspect_ratio:
        top, left, rows, cols = aspect_crop_window(height, width, target)
        x = getitem(x, (slice(None), slice(top, top + rows), slice(left, left + cols)))
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(np.float32(width * target[0]) / np.float32(target[1])))
        pad_w = max(width, int(np.float32(height * target[1]) / np.float32(target[0])))
        top, left = int(np.float32(pad_h - height) / 2), int(np.float32(pad_w - width) / 2)
        x = pad(x, ((0, 0), (top, top), (left, left), (0, 0)), constant_values=fill_value)
    value = np.asarray(_value(x))
    dtype = result_dtype(x, need_float=True)
    resized, matrices = resize_images(value.astype(dtype, copy=False), target, interpolation)
    out = record(resized, (x,), lambda grad: (resize_adjoint(grad, matrices),))
    return squeeze(out, 0) if single else out


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Apply transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``: output pixel ``(x, y)`` shows the
    input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``
    (``k = 1`` for an affine map), interpolated (see
    :mod:`~minired.layers.preprocessing.image_transform`).

    Forward: ``a[p] = Σ_k w_k[p] x[q_k(p)] + fill_value · w_out[p]``; VJP (images only, as
    TensorFlow): ``δx[q] = Σ_{p,k: q_k(p) = q} w_k[p] δa[p]``, the exact adjoint of the
    forward (TensorFlow's registered gradient warps ``δa`` with the inverse transform
    instead, an approximation). Coordinates are computed in float32 and moved by
    ``fill_mode`` before interpolating, as TensorFlow's ``ImageProjectiveTransformV3``
    (the resampling itself is the augmentation layers' ``resample``); TensorFlow then
    interpolates in float32 whatever the dtype, minired in the images' dtype.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        transform: ``(8,)`` or ``(N, 8)``.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_mode: ``"constant"``, ``"nearest"``, ``"wrap"`` or ``"reflect"``.
        fill_value: the value outside the image in constant mode.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> shift = np.array([1.0, 0, -1, 0, 1, 0, 0, 0])          # one pixel right
        >>> affine_transform(np.array([[[1.0], [2.0], [3.0]]]), shift)[0, :, 0]
        array([0., 1., 2.])
    """
    _check_format(data_format, "affine_transform")
    _check_rank(images, "affine_transform")
    transform = np.asarray(_value(transform))
    if transform.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank "
                         "2 (batch of transforms). Received input with shape: "
                         f"transform.shape={transform.shape}")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"('nearest', 'bilinear'). Received: interpolation={interpolation}")
    if fill_mode not in ("constant", "nearest", "wrap", "reflect"):
        raise ValueError("Invalid value for argument `fill_mode`. Expected of one ('constant', "
                         f"'nearest', 'wrap', 'reflect'). Received: fill_mode={fill_mode}")
    x, single = _batched(images)
    value = np.asarray(_value(x))
    value = value.astype(result_dtype(x, need_float=True), copy=False)
    transforms = np.broadcast_to(np.atleast_2d(transform).astype(np.float32),
                                 (value.shape[0], 8))
    sampling = _projective_plan(transforms, value.shape[1:3], interpolation, fill_mode,
                                value.dtype)
    out = image_transform.resample(value, sampling, fill_value)
    out = record(out, (x,), lambda grad: (image_transform.resample_adjoint(grad, sampling),))
    return squeeze(out, 0) if single else out


def _map_coordinate(coordinate: np.ndarray, length: int, fill_mode: str) -> np.ndarray:
    """TensorFlow's ``MapCoordinate`` (in float32): an input coordinate moved inside
    ``[0, length − 1]`` by ``fill_mode`` before interpolating (``"constant"`` leaves it;
    ``"reflect"`` mirrors ``dcba|abcd|dcba``, ``"wrap"`` repeats ``abcd|abcd|abcd``)."""
    c = coordinate.astype(np.float32)
    if fill_mode == "constant":
        return c
    if length <= 1:
        return np.zeros_like(c)
    if fill_mode == "reflect":
        size2 = 2 * length
        low = size2 * np.trunc(-c / size2) + c
        low = np.where(low < -length, low + size2, -low - 1)
        high = c - size2 * np.trunc(c / size2)
        high = np.where(high >= length, size2 - high - 1, high)
        c = np.where(c < 0, low, np.where(c > length - 1, high, c))
    elif fill_mode == "wrap":
        size = length - 1
        low = c + length * (np.trunc(-c / size) + 1)
        high = c - length * np.trunc(c / size)
        c = np.where(c < 0, low, np.where(c > length - 1, high, c))
    return np.clip(c, 0, length - 1).astype(np.float32)


def _projective_plan(transforms: np.ndarray, size: tuple[int, int], interpolation: str,
                     fill_mode: str, dtype) -> image_transform.Sampling:
    """The read positions and weights of TensorFlow's ``ImageProjectiveTransformV3`` as an
    :class:`~minired.layers.preprocessing.image_transform.Sampling`: input coordinates in
    float32, moved by ``fill_mode``; then the nearest pixel (half away from zero) or the 4
    around it, weighted ``(x₀ + 1 − x)(y₀ + 1 − y)``...; a pixel outside the image reads
    ``fill_value``."""
    height, width = size
    t = transforms.astype(np.float32)
    y, x = np.meshgrid(np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32),
                       indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    projection = c0 * x + c1 * y + np.float32(1)
    at_infinity = projection == 0                       # reads fill_value, as TensorFlow
    projection = np.where(at_infinity, np.float32(1), projection)
    x_in = _map_coordinate((a0 * x + a1 * y + a2) / projection, width, fill_mode)
    y_in = _map_coordinate((b0 * x + b1 * y + b2) / projection, height, fill_mode)
    if interpolation == "nearest":
        cols, rows = np.floor(x_in + np.float32(0.5))[None], np.floor(y_in + np.float32(0.5))[None]
        weights = np.ones((1, *x_in.shape), dtype=dtype)
    else:
        x0, y0 = np.floor(x_in), np.floor(y_in)
        wx = [(x0 + 1 - x_in).astype(dtype), (x_in - x0).astype(dtype)]
        wy = [(y0 + 1 - y_in).astype(dtype), (y_in - y0).astype(dtype)]
        cols, rows = np.stack([x0, x0 + 1, x0, x0 + 1]), np.stack([y0, y0, y0 + 1, y0 + 1])
        weights = np.stack([wy[0] * wx[0], wy[0] * wx[1], wy[1] * wx[0], wy[1] * wx[1]])
    inside = (rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1)
    inside &= ~at_infinity
    weights = np.where(at_infinity, np.where(np.arange(len(weights)).reshape(-1, 1, 1, 1) == 0,
                                             1, 0), weights).astype(dtype)
    outside = np.sum(np.where(inside, 0, weights), axis=0)
    rows = np.clip(np.nan_to_num(rows), 0, height - 1).astype(np.int64)
    cols = np.clip(np.nan_to_num(cols), 0, width - 1).astype(np.int64)
    return image_transform.Sampling(rows, cols, np.where(inside, weights, 0).astype(dtype),
                                    outside.astype(dtype), (height, width))


def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warp images so that the 4 ``start_points`` land on the 4 ``end_points`` (each
    ``(4, 2)`` or ``(N, 4, 2)``, ``(x, y)`` pairs): the homography ``H`` mapping each end
    point to its start point solves the 8 × 8 linear system of Keras' TensorFlow backend
    (in float32), then :func:`affine_transform` with ``H`` and constant fill. The VJP (for
    the images) is that of :func:`affine_transform`.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        start_points, end_points: ``(4, 2)`` or ``(N, 4, 2)`` corner coordinates ``(x, y)``.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        fill_value: the value outside the image.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> square = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
        >>> image = np.arange(16.0).reshape(4, 4, 1)
        >>> bool(np.allclose(perspective_transform(image, square, square), image))
        True
    """
    _check_format(data_format, "perspective_transform")
    start = np.asarray(_value(start_points), dtype=np.float32)
    end = np.asarray(_value(end_points), dtype=np.float32)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or points.shape[-2:] != (4, 2):
            raise ValueError(f"Invalid {name} shape: expected (4,2) for a single image or "
                             f"(N,4,2) for a batch. Received shape: {points.shape}")
    if start.shape != end.shape:
        raise ValueError("start_points and end_points must have the same shape. Received "
                         f"start_points.shape={start.shape}, end_points.shape={end.shape}")
    # the 8 × 8 system of RandomPerspective's homographies, solved in float32 as TensorFlow
    homography = homographies(start.reshape(-1, 4, 2), end.reshape(-1, 4, 2))
    return affine_transform(images, homography.astype(np.float32), interpolation, "constant",
                            fill_value)


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Cut ``images`` to ``target_height × target_width`` (two of ``top_cropping``,
    ``bottom_cropping``, ``target_height`` given, and two of the width's). A slice: its
    VJP puts ``δa`` back in place, zeros around.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        top_cropping, left_cropping, bottom_cropping, right_cropping: rows or columns cut.
        target_height, target_width: the output's size.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> crop_images(np.arange(9.0).reshape(3, 3, 1), 1, 1, target_height=2,
        ...             target_width=1)[:, :, 0]
        array([[4.],
               [7.]])
    """
    _check_format(data_format, "crop_images")
    rank = _check_rank(images, "crop_images")
    _exactly_two("cropping", top_cropping, bottom_cropping, target_height, "top", "bottom",
                 "height")
    _exactly_two("cropping", left_cropping, right_cropping, target_width, "left", "right",
                 "width")
    height, width = np.shape(images)[-3:-1]
    if top_cropping is None:
        top_cropping = height - target_height - bottom_cropping
    if target_height is None:
        target_height = height - bottom_cropping - top_cropping
    if left_cropping is None:
        left_cropping = width - target_width - right_cropping
    if target_width is None:
        target_width = width - right_cropping - left_cropping
    for name, value in (("top_cropping", top_cropping), ("target_height", target_height),
                        ("left_cropping", left_cropping), ("target_width", target_width)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    rows = slice(top_cropping, top_cropping + target_height)
    cols = slice(left_cropping, left_cropping + target_width)
    return getitem(images, ((slice(None),) if rank == 4 else ()) + (rows, cols))


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Pad ``images`` with zeros to ``target_height × target_width`` (two of
    ``top_padding``, ``bottom_padding``, ``target_height`` given, and two of the width's).
    Written with ``pad``: the VJP crops ``δa``.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        top_padding, left_padding, bottom_padding, right_padding: rows or columns of zeros.
        target_height, target_width: the output's size.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> pad_images(np.ones((1, 1, 1)), 1, 0, target_height=3, target_width=2)[:, :, 0]
        array([[0., 0.],
               [1., 0.],
               [0., 0.]])
    """
    _check_format(data_format, "pad_images")
    rank = _check_rank(images, "pad_images")
    _exactly_two("padding", top_padding, bottom_padding, target_height, "top", "bottom",
                 "height")
    _exactly_two("padding", left_padding, right_padding, target_width, "left", "right",
                 "width")
    height, width = np.shape(images)[-3:-1]
    if top_padding is None:
        top_padding = target_height - bottom_padding - height
    if bottom_padding is None:
        bottom_padding = target_height - top_padding - height
    if left_padding is None:
        left_padding = target_width - right_padding - width
    if right_padding is None:
        right_padding = target_width - left_padding - width
    for name, value in (("top_padding", top_padding), ("left_padding", left_padding),
                        ("right_padding", right_padding), ("bottom_padding", bottom_padding)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    widths = ((top_padding, bottom_padding), (left_padding, right_padding), (0, 0))
    return pad(images, (((0, 0),) if rank == 4 else ()) + widths)


def _exactly_two(kind: str, first, second, target, a: str, b: str, dim: str) -> None:
    if [first, second, target].count(None) != 1:
        raise ValueError(f"Must specify exactly two of {a}_{kind}, {b}_{kind}, target_{dim}. "
                         f"Received: {a}_{kind}={first}, {b}_{kind}={second}, "
                         f"target_{dim}={target}")
    for name, value in ((f"{a}_{kind}", first), (f"{b}_{kind}", second),
                        (f"target_{dim}", target)):
        if value is not None and value < 0:
            raise ValueError(f"Expected {name} to be a non-negative integer. Received "
                             f"{name}={value}")


#: ITU-R 601 luma weights, as ``tf.image.rgb_to_grayscale``.
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def rgb_to_grayscale(images, data_format=None):
    """``gray = 0.2989 R + 0.5870 G + 0.1140 B`` (one channel kept); a ``tensordot``, so
    ``δRGB = δgray · (0.2989, 0.5870, 0.1140)``. Integer images come back in their dtype
    (truncated, as Keras); one-channel images are returned unchanged.

    Args:
        images: ``(N, H, W, 3)`` or ``(H, W, 3)`` (or one channel).
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> rgb_to_grayscale(np.array([[[1.0, 1.0, 1.0]]]))[0, 0]
        array([0.9999])
    """
    _check_format(data_format, "rgb_to_grayscale")
    _check_rank(images, "rgb_to_grayscale")
    channels = np.shape(images)[-1]
    if channels not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received "
                         f"input with shape: images.shape={np.shape(images)}")
    images = convert_to_tensor(images)
    if channels == 1:
        return images
    original = np.asarray(images).dtype
    x = images if np.issubdtype(original, np.floating) else cast(images, "float32")
    weights = np.asarray(GRAY_WEIGHTS, dtype=np.asarray(x).dtype)
    gray = expand_dims(tensordot(x, weights, axes=([-1], [-1])), -1)
    return gray if gray.dtype == original else cast(gray, original)


def _check_float(images, op: str):
    images = convert_to_tensor(images)
    _check_rank(images, op)
    if not np.issubdtype(np.asarray(images).dtype, np.floating):
        raise ValueError("Invalid images dtype: expected float dtype. Received: images.dtype="
                         f"{np.asarray(images).dtype}")
    return images


def rgb_to_hsv(images, data_format=None):
    """RGB in ``[0, 1]`` to hue, saturation, value (TensorFlow's ``RGBToHSV`` kernel):

    ``V = max(R, G, B)``, ``Δ = V − min(R, G, B)``, ``S = Δ / V`` (0 where ``V = 0``),
    ``H = (G − B)/(6Δ)`` where ``R = V``, ``(B − R)/(6Δ) + 1/3`` where ``G = V``,
    ``(R − G)/(6Δ) + 2/3`` else, ``+ 1`` when negative, 0 where ``Δ = 0``. Written with
    ``max``, ``min``, ``where``, ``divide``: the tape differentiates it.

    Args:
        images: float ``(N, H, W, 3)`` or ``(H, W, 3)`` RGB in ``[0, 1]``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> rgb_to_hsv(np.array([[[1.0, 0.0, 0.0]]]))[0, 0]
        array([0., 1., 1.])
    """
    _check_format(data_format, "rgb_to_hsv")
    x = _check_float(images, "rgb_to_hsv")
    r, g, b = (getitem(x, (Ellipsis, i)) for i in range(3))
    value = reductions.max(x, axis=-1)
    spread = ew.subtract(value, reductions.min(x, axis=-1))
    v, d = np.asarray(value), np.asarray(spread)
    saturation = ew.where(v > 0, ew.divide(spread, ew.where(v > 0, value, 1)), 0)
    norm = ew.divide(1.0 / 6.0, ew.where(d > 0, spread, 1))
    hue = ew.where(np.asarray(r) == v, ew.multiply(norm, ew.subtract(g, b)),
                   ew.where(np.asarray(g) == v,
                            ew.add(ew.multiply(norm, ew.subtract(b, r)), 2.0 / 6.0),
                            ew.add(ew.multiply(norm, ew.subtract(r, g)), 4.0 / 6.0)))
    hue = ew.where(d > 0, hue, 0)
    hue = ew.where(np.asarray(hue) < 0, ew.add(hue, 1), hue)
    return stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value to RGB (TensorFlow's ``HSVToRGB`` kernel): ``c = S V``,
    ``m = V − c``, ``h' = 6 H`` in sector ``⌊h'⌋``, ``x = c (1 − |h' mod 2 − 1|)``, then
    ``(R, G, B) = (c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)`` by sector
    (0 outside sectors 0–5), ``+ m``. Written with the ops: the tape differentiates it.

    Args:
        images: float ``(N, H, W, 3)`` or ``(H, W, 3)`` HSV in ``[0, 1]``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> hsv_to_rgb(np.array([[[0.0, 1.0, 1.0]]]))[0, 0]
        array([1., 0., 0.])
    """
    _check_format(data_format, "hsv_to_rgb")
    x = _check_float(images, "hsv_to_rgb")
    h, s, v = (getitem(x, (Ellipsis, i)) for i in range(3))
    c = ew.multiply(s, v)
    m = ew.subtract(v, c)
    dh = ew.multiply(h, 6)
    sector = np.floor(np.asarray(dh))
    # TensorFlow: fmodu = dh moved into (0, 2] by steps of 2
    fmodu = ew.subtract(dh, 2 * (np.ceil(np.asarray(dh) / 2) - 1))
    between = ew.multiply(c, ew.subtract(1, ew.abs(ew.subtract(fmodu, 1))))
    zero = ew.multiply(c, 0)
    pattern = {0: (c, between, zero), 1: (between, c, zero), 2: (zero, c, between),
               3: (zero, between, c), 4: (between, zero, c), 5: (c, zero, between)}
    channels = []
    for k in range(3):
        value = zero
        for category, parts in pattern.items():
            value = ew.where(sector == category, parts[k], value)
        channels.append(ew.add(value, m))
    return stack(channels, axis=-1)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """``inputs`` read at the points ``coordinates`` (``(rank, *out)``), with nearest
    (``order=0``) or linear (``order=1``) interpolation, as Keras' TensorFlow backend:

    ``a = Σ_corners Π_d w_d · x[i_corner]`` with ``w = 1 − f, f`` for the two indices
    ``⌊c⌋, ⌊c⌋ + 1`` of each axis (``f = c − ⌊c⌋``); in ``"constant"`` mode a corner outside
    reads ``fill_value``. Written with ``take`` and the element-wise ops: the gradient
    flows to ``inputs`` and (through the weights) to ``coordinates``.

    Args:
        inputs: the array read.
        coordinates: ``(inputs.ndim, *output_shape)``.
        order: 0 or 1.
        fill_mode: ``"constant"``, ``"nearest"``, ``"wrap"``, ``"mirror"`` or ``"reflect"``
            (``"mirror"`` as SciPy and Keras' NumPy/JAX backends, ``d c b | a b c d | c b a``;
            Keras' TensorFlow backend computes it as ``"reflect"`` without its shift, which
            can index one past the end).
        fill_value: the value outside in constant mode.

    Example:
        >>> map_coordinates(np.array([0.0, 10.0, 20.0]), np.array([[0.5, 1.25]]), 1)
        array([ 5. , 12.5])
    """
    modes = ("constant", "nearest", "wrap", "mirror", "reflect")
    if fill_mode not in modes:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected one of {modes}. "
                         f"Received: fill_mode={fill_mode}")
    shape = np.shape(inputs)
    if np.ndim(coordinates) < 2 or np.shape(coordinates)[0] != len(shape):
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`."
                         f" Received inputs with shape: {shape} and coordinate leading dim of "
                         f"{np.shape(coordinates)[0] if np.ndim(coordinates) else None}")
    if order not in (0, 1):
        raise NotImplementedError("map_coordinates currently requires order<=1")
    input_dtype = np.asarray(inputs).dtype
    coordinates = convert_to_tensor(coordinates)
    per_axis = []
    for axis, size in enumerate(shape):
        coordinate = getitem(coordinates, axis)
        c = np.asarray(coordinate)
        if order == 0:
            index = (c if np.issubdtype(c.dtype, np.integer) else np.round(c)).astype(np.int64)
            nodes = [(index, None)]
        else:
            lower = np.floor(c)
            upper_weight = ew.subtract(coordinate, lower)
            nodes = [(lower.astype(np.int64), ew.subtract(1, upper_weight)),
                     (lower.astype(np.int64) + 1, upper_weight)]
        per_axis.append([(*_fix_index(index, size, fill_mode), weight)
                         for index, weight in nodes])
    flat = reshape(inputs, (-1,))
    strides = np.cumprod((1, *shape[:0:-1]))[::-1]
    total = None
    for corner in itertools.product(*per_axis):
        flat_index = sum(index * stride for (index, _, _), stride in zip(corner, strides,
                                                                          strict=True))
        gathered = take(flat, flat_index)
        if not np.issubdtype(np.asarray(gathered).dtype, np.floating):
            gathered = cast(gathered, result_dtype(coordinates, need_float=True))
        if fill_mode == "constant":
            valid = np.logical_and.reduce([v for _, v, _ in corner])
            gathered = ew.where(valid, gathered, np.asarray(fill_value,
                                                            np.asarray(gathered).dtype))
        weight = None
        for _, _, w in corner:
            if w is not None:
                weight = w if weight is None else ew.multiply(weight, w)
        term = gathered if weight is None else ew.multiply(weight, gathered)
        total = term if total is None else ew.add(total, term)
    if np.issubdtype(input_dtype, np.integer):
        total = ew.round(total)
    return total if np.asarray(total).dtype == input_dtype else cast(total, input_dtype)


def _fix_index(index: np.ndarray, size: int, fill_mode: str):
    """``(index inside 0 … size − 1, valid)`` for ``fill_mode`` (Keras' TensorFlow rules)."""
    if fill_mode == "constant":
        return np.clip(index, 0, size - 1), (index >= 0) & (index < size)
    valid = np.ones(index.shape, dtype=bool)
    if fill_mode == "nearest":
        return np.clip(index, 0, size - 1), valid
    if fill_mode == "wrap":
        return np.mod(index, size), valid
    if fill_mode == "mirror":            # about the edge pixels' centres: d c b | a b c d | c b a
        period = max(size - 1, 1)
        return np.abs((index + period) % (2 * period) - period), valid
    index = np.abs(index)
    mod = np.mod(index, 2 * size)
    under = mod < size
    fixed = np.where(under, mod, 2 * size - mod)
    if fill_mode == "reflect":
        fixed = np.where(~under, fixed - 1, fixed)
    return fixed, valid


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Every ``size`` patch of the images, flattened into the channels:
    ``(N, H, W, C) → (N, H', W', ph·pw·C)``; as Keras, a ``conv`` with an identity kernel
    (so the VJP is the convolution's, which puts each patch's gradient back in place).

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)`` (2-D patches; ``size`` of length 3 for
            3-D volumes ``(N, D, H, W, C)``).
        size: an int or a tuple.
        strides: the patches' step; ``size`` when None.
        dilation_rate, padding: as :func:`~minired.ops.conv`.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> extract_patches(np.arange(4.0).reshape(2, 2, 1), 2)[0, 0]
        array([0., 1., 2., 3.])
    """
    _check_format(data_format, "extract_patches")
    if isinstance(size, int):
        size = (size, size)
    size = tuple(size)
    if len(size) not in (2, 3):
        raise TypeError("Invalid `size` argument. Expected an int or a tuple of length 2. "
                        f"Received: size={size}")
    channels = np.shape(images)[-1]
    out_dim = int(np.prod(size)) * channels
    dtype = np.asarray(images).dtype
    kernel = reshape(eye(out_dim, dtype=dtype if np.issubdtype(dtype, np.floating)
                         else "float32"), (*size, channels, out_dim))
    unbatched = np.ndim(images) == len(size) + 1
    x = expand_dims(images, 0) if unbatched else images
    patches = conv(x, np.asarray(kernel), strides=strides or size, padding=padding,
                   dilation_rate=dilation_rate)
    return squeeze(patches, 0) if unbatched else patches


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Every ``size`` patch of volumes ``(N, D, H, W, C)`` (or ``(D, H, W, C)``), flattened
    into the channels: :func:`extract_patches` with a 3-D ``size`` (an int: a cube).

    Args:
        volumes: ``(N, D, H, W, C)`` or ``(D, H, W, C)``.
        size: an int or ``(pd, ph, pw)``.
        strides: the patches' step; ``size`` when None.
        dilation_rate, padding: as :func:`~minired.ops.conv`.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> extract_patches_3d(np.arange(8.0).reshape(2, 2, 2, 1), 2)[0, 0, 0]
        array([0., 1., 2., 3., 4., 5., 6., 7.])
    """
    if isinstance(size, int):
        size = (size, size, size)
    if len(tuple(size)) != 3:
        raise TypeError("Invalid `size` argument. Expected an int or a tuple of length 3. "
                        f"Received: size={size}")
    if isinstance(strides, int):
        strides = (strides,) * 3
    return extract_patches(volumes, tuple(size), strides, dilation_rate, padding, data_format)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur with a Gaussian kernel, channel by channel (a ``depthwise_conv``, ``"same"``
    padding with zeros, so its VJP is the depthwise convolution's).

    The kernel, as Keras' TensorFlow backend: ``g_s,σ(i) ∝ exp(−½ ((i − (s − 1)/2) / σ)²)``
    normalised to sum 1, ``K = g_{s₁,σ₁} ⊗ g_{s₀,σ₀}`` (the outer product) laid out as
    ``kernel_size``, computed in the images' dtype.

    Args:
        images: ``(N, H, W, C)`` or ``(H, W, C)``.
        kernel_size: the kernel's ``(s₀, s₁)``.
        sigma: the standard deviations ``(σ₀, σ₁)``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> blurred = gaussian_blur(np.ones((5, 5, 1)))
        >>> round(float(blurred[2, 2, 0]), 12)          # inside, a weighted mean of ones
        1.0
    """
    _check_format(data_format, "gaussian_blur")
    _check_rank(images, "gaussian_blur")
    x, single = _batched(images)
    dtype = result_dtype(x, need_float=True)
    size = np.asarray(kernel_size, dtype=dtype)
    sigma = np.asarray(sigma, dtype=dtype)

    def gaussian(length, deviation):
        i = np.arange(int(length), dtype=dtype) - (length - 1) / 2
        g = np.exp(-0.5 * (i / deviation) ** 2)
        return g / np.sum(g)

    kernel = np.tensordot(gaussian(size[1], sigma[1]), gaussian(size[0], sigma[0]), axes=0)
    kernel = kernel.reshape(int(size[0]), int(size[1]), 1, 1)
    kernel = np.tile(kernel, (1, 1, np.shape(x)[-1], 1)).astype(dtype)
    blurred = depthwise_conv(x if np.asarray(x).dtype == dtype else cast(x, dtype), kernel,
                             padding="same")
    return squeeze(blurred, 0) if single else blurred


#: ``tf.image.sobel_edges``' two kernels: the vertical then the horizontal derivative.
SOBEL = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])


def sobel_edges(images, data_format=None):
    """The Sobel derivatives of ``(N, H, W, C)`` images: ``(N, H, W, C, 2)``, ``[..., 0]``
    along the rows (``dy``), ``[..., 1]`` along the columns (``dx``), as
    ``tf.image.sobel_edges``: reflect-padded by one pixel, then a ``depthwise_conv`` with
    the two 3×3 kernels (so the VJP is the convolution's, then the padding's).

    Args:
        images: ``(N, H, W, C)``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> ramp = np.tile(np.arange(4.0), (4, 1)).reshape(1, 4, 4, 1)   # x = column index
        >>> sobel_edges(ramp)[0, 1, 1, 0]                                # (dy, dx)
        array([0., 8.])
    """
    _check_format(data_format, "sobel_edges")
    if np.ndim(images) != 4:
        raise ValueError(f"ops.image.sobel_edges: images must be (N, H, W, C), got shape "
                         f"{np.shape(images)}.")
    dtype = result_dtype(images, need_float=True)
    x = images if np.asarray(images).dtype == dtype else cast(images, dtype)
    channels = np.shape(x)[-1]
    kernel = np.tile(np.transpose(SOBEL, (1, 2, 0))[:, :, None, :], (1, 1, channels, 1))
    padded = pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    edges = depthwise_conv(padded, kernel.astype(dtype), padding="valid")
    return reshape(edges, (*np.shape(x), 2))


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """The structural similarity of two images (per image, averaged over the channels),
    Keras' formula, written with the ops (so the tape differentiates it):

    ``μ`` and the (co)variances ``σ₁², σ₂², σ₁₂`` are Gaussian-weighted local means
    (``filter_size`` window, ``filter_sigma``, a "valid" ``conv`` per channel), and
    ``SSIM = mean((2 μ₁μ₂ + c₁)(2 σ₁₂ + c₂) / ((μ₁² + μ₂² + c₁)(σ₁² + σ₂² + c₂)))`` with
    ``c₁ = (k₁ max_val)²``, ``c₂ = (k₂ max_val)²``.

    Args:
        image1, image2: ``(N, H, W, C)`` or ``(H, W, C)``.
        max_val: the dynamic range of the pixels.
        filter_size, filter_sigma: the Gaussian window's size and standard deviation.
        k1, k2: the stabilising constants' factors.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> x = np.random.default_rng(0).uniform(size=(12, 12, 1))
        >>> round(float(ssim(x, x)), 12)                       # identical images
        1.0
    """
    from minired import ops

    _check_format(data_format, "ssim")
    for name, image in (("image1", image1), ("image2", image2)):
        if np.ndim(image) not in (3, 4):
            raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 "
                             f"(batch of images). Received input with shape: {name}.shape="
                             f"{np.shape(image)}")
    original = np.asarray(image1).dtype
    dtype = result_dtype(image1, need_float=True)
    image1, image2 = cast(image1, dtype), cast(image2, dtype)
    unbatched = np.ndim(image1) == 3
    if unbatched:
        image1, image2 = expand_dims(image1, 0), expand_dims(image2, 0)
    batch, height, width, channels = np.shape(image1)
    x = ops.arange(filter_size, dtype=dtype) - (filter_size - 1) / 2.0
    gauss = ops.exp(-(x**2) / (2.0 * filter_sigma**2))
    gauss = gauss / ops.sum(gauss)
    kernel = ops.reshape(ops.outer(gauss, gauss), (filter_size, filter_size, 1, 1))
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    one1 = reshape(ops.transpose(image1, (0, 3, 1, 2)), (-1, height, width, 1))
    one2 = reshape(ops.transpose(image2, (0, 3, 1, 2)), (-1, height, width, 1))

    def local_mean(v):
        return conv(v, kernel, strides=1, padding="valid")

    mu1, mu2 = local_mean(one1), local_mean(one2)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = local_mean(one1 * one1) - mu1_sq
    sigma2_sq = local_mean(one2 * one2) - mu2_sq
    sigma12 = local_mean(one1 * one2) - mu1_mu2
    numerator = (2.0 * mu1_mu2 + c1) * (2.0 * sigma12 + c2)
    denominator = (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    per_channel = ops.mean(numerator / denominator, axis=[1, 2, 3])
    result = ops.mean(reshape(per_channel, (batch, channels)), axis=-1)
    if unbatched:
        result = squeeze(result, 0)
    return result if np.asarray(result).dtype == original else cast(result, original)


def _triangle(x: np.ndarray) -> np.ndarray:
    return np.maximum(0, 1 - np.abs(x))


def _keys_cubic(x: np.ndarray) -> np.ndarray:
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius: float, x: np.ndarray) -> np.ndarray:
    y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
    out = np.where(x > 1e-3, y / np.where(x != 0, np.pi**2 * x**2, 1), 1)
    return np.where(x > radius, 0.0, out)


#: Keras' names of the scale_and_translate kernels.
SCALE_AND_TRANSLATE_KERNELS = {
    "linear": _triangle, "bilinear": _triangle, "trilinear": _triangle, "triangle": _triangle,
    "cubic": _keys_cubic, "bicubic": _keys_cubic, "tricubic": _keys_cubic,
    "lanczos3": lambda x: _lanczos(3.0, x), "lanczos5": lambda x: _lanczos(5.0, x)}


def _scale_weights(input_size: int, output_size: int, scale, translation, kernel,
                   antialias: bool) -> np.ndarray:
    """The ``(input_size, output_size)`` matrix ``W`` of one axis (Keras' TensorFlow
    ``_compute_weight_mat``): output ``j`` samples input position
    ``s_j = (j + ½)/scale − translation/scale − ½`` with ``kernel(|s_j − i| / k)``,
    ``k = max(1/scale, 1)`` with antialiasing, each column normalised to sum 1 (0 where the
    sum is about 0 or ``s_j`` falls outside ``[−½, input_size − ½]``)."""
    dtype = np.result_type(scale, translation)
    inv_scale = 1.0 / scale
    kernel_scale = np.maximum(inv_scale, 1.0) if antialias else 1.0
    sample = ((np.arange(output_size, dtype=dtype) + 0.5) * inv_scale
              - translation * inv_scale - 0.5)
    weights = kernel(np.abs(sample[None, :] - np.arange(input_size, dtype=dtype)[:, None])
                     / kernel_scale)
    total = np.sum(weights, axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                       weights / np.where(total != 0, total, 1), 0)
    inside = (sample >= -0.5) & (sample <= input_size - 0.5)
    return np.where(inside[None, :], weights, 0).astype(dtype)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Resample ``images`` to ``output_shape`` with a scale and a translation along
    ``spatial_dims`` (JAX's ``scale_and_translate``, as Keras): one weight matrix ``W_d`` per
    axis (Keras' ``_compute_weight_mat``: a linear, cubic or Lanczos kernel), applied with
    ``tensordot`` axis after axis, so the VJP (for the images) is ``δx = δa · W_dᵀ`` per axis.
    The weights are computed with NumPy in the dtype of ``scale`` and ``translation``
    (float32 for Python floats, as TensorFlow makes them): no gradient reaches those two.

    Args:
        images: the array resampled.
        output_shape: the shape of the result (``images``' outside ``spatial_dims``).
        scale, translation: one value per axis of ``spatial_dims``.
        spatial_dims: the axes resampled.
        method: ``"linear"`` (``"bilinear"``, ``"trilinear"``, ``"triangle"``), ``"cubic"``
            (``"bicubic"``, ``"tricubic"``), ``"lanczos3"`` or ``"lanczos5"``.
        antialias: widen the kernel by ``1/scale`` when shrinking.

    Example:
        >>> scale_and_translate(np.array([0.0, 1.0]), (4,), [2.0], [0.0], (0,), "linear")
        array([0.  , 0.25, 0.75, 1.  ])
    """
    if method not in SCALE_AND_TRANSLATE_KERNELS or method == "triangle":
        raise ValueError("Invalid value for argument `method`. Expected of one "
                         f"{sorted(set(SCALE_AND_TRANSLATE_KERNELS) - {'triangle'})}. "
                         f"Received: method={method}")
    kernel = SCALE_AND_TRANSLATE_KERNELS[method]
    # as TensorFlow, Python floats (lists of them) become float32 tensors, whatever floatx
    scale, translation = (np.asarray(_value(v) if isinstance(v, np.ndarray) else v,
                                     dtype=keras_tensor_dtype(v)) for v in (scale, translation))
    dtype = np.result_type(scale.dtype, translation.dtype)
    scale, translation = scale.astype(dtype), translation.astype(dtype)
    x = convert_to_tensor(images)
    integer = not np.issubdtype(np.asarray(x).dtype, np.floating)
    out = cast(x, "float32") if integer else x
    ndim = np.ndim(x)
    for i, d in enumerate(spatial_dims):
        d = d % ndim
        w = _scale_weights(np.shape(x)[d], output_shape[d], scale[i], translation[i], kernel,
                           antialias).astype(np.asarray(out).dtype)
        out = moveaxis(tensordot(out, w, axes=([d], [0])), -1, d)
    if integer:
        value = np.asarray(x)
        out = cast(np.clip(np.round(np.asarray(out)), value.min(), value.max()), value.dtype)
    return out


# elastic_transform lives in its own module (it reads this one's helpers).
from minired.ops.image_elastic import elastic_transform  # noqa: E402
