"""``mr.utils.bounding_boxes``: Keras' ``keras.utils.bounding_boxes`` on NumPy arrays.

A bounding box is 4 numbers; the **format** says which. Every function goes through the
corner format ``"xyxy"`` (``[left, top, right, bottom]``, in pixels):

- ``"xyxy"``, ``"yxyx"`` (``[top, left, bottom, right]``);
- ``"xywh"`` (``[left, top, width, height]``);
- ``"center_xywh"`` (``[cx, cy, w, h]``), ``"center_yxhw"`` (``[cy, cx, h, w]``);
- ``"rel_xyxy"``, ``"rel_yxyx"``, ``"rel_xywh"``, ``"rel_center_xywh"``: the same, divided
  by the image's ``width`` (x's) and ``height`` (y's).

Boxes are ``(N, 4)`` or ``(batch, N, 4)``; the functions take and return NumPy arrays
(Keras' return tensors, and are differentiable through TensorFlow; these are plain NumPy,
outside minired's tape).

Example:
    >>> boxes = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])
    >>> convert_format(boxes, source="xyxy", target="xywh")
    array([[10., 20., 20., 20.],
           [50., 60., 20., 20.]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["affine_transform", "clip_to_image_size", "compute_ciou", "compute_iou",
           "convert_format", "crop", "decode_deltas_to_boxes", "encode_box_to_deltas", "pad"]

#: Keras' ``SUPPORTED_FORMATS``.
SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy",
                     "rel_yxyx", "rel_xywh", "rel_center_xywh")
#: ``keras.backend.epsilon()``.
EPSILON = 1e-7


def _sides(boxes: np.ndarray) -> list[np.ndarray]:
    """The 4 columns of ``(..., 4)`` boxes, each ``(..., 1)`` (Keras' ``split``)."""
    return np.split(boxes, 4, axis=-1)


def _to_xyxy(boxes: np.ndarray, source: str, height, width) -> np.ndarray:
    """Boxes of format ``source`` as corners ``[x1, y1, x2, y2]`` (Keras' formulas)."""
    a, b, c, d = _sides(boxes)
    if source == "xyxy":
        return boxes
    if source == "yxyx":
        return np.concatenate([b, a, d, c], axis=-1)
    if source == "xywh":
        return np.concatenate([a, b, a + c, b + d], axis=-1)
    if source in ("center_xywh", "center_yxhw"):
        cx, cy, w, h = (a, b, c, d) if source == "center_xywh" else (b, a, d, c)
        half_w, half_h = w / 2.0, h / 2.0
        return np.concatenate([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)
    if source == "rel_xyxy":
        return np.concatenate([a * width, b * height, c * width, d * height], axis=-1)
    if source == "rel_yxyx":
        return np.concatenate([b * width, a * height, d * width, c * height], axis=-1)
    if source == "rel_xywh":
        return np.concatenate([a * width, b * height, (a + c) * width, (b + d) * height],
                              axis=-1)
    half_w, half_h = c / 2.0, d / 2.0                                   # rel_center_xywh
    return np.concatenate([(a - half_w) * width, (b - half_h) * height, (a + half_w) * width,
                           (b + half_h) * height], axis=-1)


def _from_xyxy(boxes: np.ndarray, target: str, height, width) -> np.ndarray:
    """Corner boxes ``[x1, y1, x2, y2]`` in the format ``target`` (Keras' formulas)."""
    x1, y1, x2, y2 = _sides(boxes)
    if target == "xyxy":
        return boxes
    if target == "yxyx":
        return np.concatenate([y1, x1, y2, x2], axis=-1)
    if target == "xywh":
        return np.concatenate([x1, y1, x2 - x1, y2 - y1], axis=-1)
    if target in ("center_xywh", "center_yxhw"):
        cx, cy = x1 + ((x2 - x1) / 2.0), y1 + ((y2 - y1) / 2.0)
        w, h = x2 - x1, y2 - y1
        parts = [cx, cy, w, h] if target == "center_xywh" else [cy, cx, h, w]
        return np.concatenate(parts, axis=-1)
    if target == "rel_xyxy":
        return np.concatenate([x1 / width, y1 / height, x2 / width, y2 / height], axis=-1)
    if target == "rel_yxyx":
        return np.concatenate([y1 / height, x1 / width, y2 / height, x2 / width], axis=-1)
    if target == "rel_xywh":
        return np.concatenate([x1 / width, y1 / height, (x2 - x1) / width,
                               (y2 - y1) / height], axis=-1)
    return np.concatenate([(x1 + ((x2 - x1) / 2.0)) / width,                # rel_center_xywh
                           (y1 + ((y2 - y1) / 2.0)) / height, (x2 - x1) / width,
                           (y2 - y1) / height], axis=-1)


def convert_format(boxes, source: str, target: str, height=None, width=None,
                   dtype="float32"):
    """Convert boxes from the format ``source`` to ``target`` (case-insensitive), through
    the corners ``"xyxy"``, in ``dtype``; e.g. ``xywh → xyxy``: ``[x, y, x + w, y + h]``,
    ``xyxy → rel_xyxy``: ``[x1/W, y1/H, x2/W, y2/H]``.

    Args:
        boxes: ``(..., 4)`` boxes, or a dict whose ``"boxes"`` are converted (a new dict,
            the other keys kept).
        source, target: formats (see the module docstring).
        height, width: the image's size (needed by the ``rel_`` formats).
        dtype: the output's dtype (default ``"float32"``, as Keras).

    Example:
        >>> convert_format(np.array([[10, 20, 30, 40]]), "xyxy", "rel_xyxy", height=200,
        ...                width=100)
        array([[0.1, 0.1, 0.3, 0.2]], dtype=float32)
    """
    if isinstance(boxes, dict):
        return {**boxes, "boxes": convert_format(boxes["boxes"], source, target, height, width,
                                                 dtype)}
    boxes = np.asarray(boxes)
    if boxes.shape[-1:] != (4,):
        raise ValueError("`boxes` must be a tensor with the last dimension of 4. Received: "
                         f"boxes.shape={boxes.shape}")
    source, target = source.lower(), target.lower()
    if source not in SUPPORTED_FORMATS or target not in SUPPORTED_FORMATS:
        raise ValueError(f"Invalid source or target format. Supported formats: "
                         f"{SUPPORTED_FORMATS}")
    if (source.startswith("rel_") or target.startswith("rel_")) and (width is None
                                                                    or height is None):
        raise ValueError("convert_format() must receive `height` and `width` transforming "
                         f"between relative and absolute formats. convert_format() received "
                         f"source=`{source}`, target=`{target}, but height={height} and "
                         f"width={width}.")
    dtype = np.dtype(dtype).type
    boxes = boxes.astype(dtype)
    if source == target:
        return boxes
    width = None if width is None else dtype(width)
    height = None if height is None else dtype(height)
    if source.startswith("rel_") and target.startswith("rel_"):   # no need for the size
        source, target = source[4:], target[4:]
    return _from_xyxy(_to_xyxy(boxes, source, height, width), target, height, width)


def clip_to_image_size(bounding_boxes: dict, height=None, width=None,
                       bounding_box_format: str = "xyxy") -> dict:
    """Clip the corners into the image, ``x ∈ [0, W]``, ``y ∈ [0, H]`` (``[0, 1]`` for
    ``"rel_xyxy"``); the label of a box left with no area becomes -1.

    Args:
        bounding_boxes: a dict with ``"boxes"`` ``(..., N, 4)`` (and optional ``"labels"``
            ``(..., N)``); a new dict is returned.
        height, width: the image's size (needed for ``"xyxy"``).
        bounding_box_format: ``"xyxy"`` (default) or ``"rel_xyxy"``.

    Example:
        >>> out = clip_to_image_size({"boxes": np.array([[-10., -20, 150, 160],
        ...                                               [50, 40, 70, 80]]),
        ...                           "labels": np.array([0, 1])}, height=100, width=120)
        >>> out["boxes"]
        array([[  0.,   0., 120., 100.],
               [ 50.,  40.,  70.,  80.]])
    """
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError(f"clip_to_image_size: bounding_box_format must be 'xyxy' "
                                  f"or 'rel_xyxy', got {bounding_box_format!r}.")
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("`height` and `width` must be set if `format='xyxy'`.")
    boxes = np.asarray(bounding_boxes["boxes"])
    labels = bounding_boxes.get("labels")
    if bounding_box_format == "xyxy":
        high_x, high_y = np.asarray(width, boxes.dtype), np.asarray(height, boxes.dtype)
    else:
        high_x = high_y = 1.0
    x1, y1, x2, y2 = _sides(boxes)
    boxes = np.concatenate([np.clip(x1, 0, high_x), np.clip(y1, 0, high_y),
                            np.clip(x2, 0, high_x), np.clip(y2, 0, high_y)], axis=-1)
    result = {**bounding_boxes, "boxes": boxes}
    if labels is not None:
        x1, y1, x2, y2 = _sides(boxes)
        areas = np.squeeze((x2 - x1) * (y2 - y1), axis=-1)
        result["labels"] = np.where(areas > 0, labels, -1)
    return result


def _inverse_affine_matrices(center_x, center_y, angle, translate_x, translate_y, scale,
                             shear_x, shear_y, height, width) -> np.ndarray:
    """Keras' ``_compute_inverse_affine_matrix``: ``(B, 3, 3)`` matrices, in ``angle``'s
    dtype (angles and shears in degrees, translations and centres in fractions)."""
    angle = np.asarray(angle)
    dtype = angle.dtype.type
    angle, shear_x, shear_y = -angle, -np.asarray(shear_x, dtype), -np.asarray(shear_y, dtype)
    cx = np.multiply(center_x, width - 1).astype(dtype)
    cy = np.multiply(center_y, height - 1).astype(dtype)
    rot = angle * dtype(1.0 / 180.0 * math.pi)
    tx = -np.asarray(translate_x, dtype) * dtype(width - 1)
    ty = -np.asarray(translate_y, dtype) * dtype(height - 1)
    sx, sy = shear_x * dtype(1.0 / 180.0 * math.pi), shear_y * dtype(1.0 / 180.0 * math.pi)
    cos_sy, tan_sx = np.cos(sy), np.tan(sx)
    a = np.cos(rot - sy) / cos_sy
    b = a * tan_sx + np.sin(rot)
    c = -np.sin(rot - sy) / cos_sy
    d = np.cos(rot) - c * tan_sx
    scale = np.asarray(scale, dtype)
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros, ones = np.zeros_like(a0), np.ones_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros, ones], axis=-1).reshape(-1, 3, 3)


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height,
                     width, center_x=None, center_y=None, bounding_box_format: str = "xyxy"):
    """Move boxes with the images of an affine augmentation: each box's 4 corners are
    mapped by the ``2 × 3`` affine matrix of image ``b`` (rotation ``angle``°, shears,
    ``scale`` and translation about the centre ``(center_x, center_y)``, fractions
    default 0.5, as RandomRotation/RandomTranslation/RandomZoom/RandomShear draw them), and
    the new box is the smallest one holding them: ``[min x, min y, max x, max y]``.

    Args:
        boxes: ``(B, N, 4)`` corner boxes.
        angle, translate_x, translate_y, scale, shear_x, shear_y: ``(B,)`` arrays (the
            angles in degrees, the translations in fractions of the size).
        height, width: the images' size.
        center_x, center_y: the centre, in fractions (default 0.5).
        bounding_box_format: ``"xyxy"`` only (as Keras).

    Example:
        >>> turned = affine_transform(np.array([[[0.0, 0.0, 2.0, 1.0]]]), np.array([90.0]),
        ...                           np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1),
        ...                           np.zeros(1), height=3, width=3)
        >>> np.round(turned, 6) + 0.0
        array([[[0., 0., 1., 2.]]])
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"affine_transform: bounding_box_format must be 'xyxy', got "
                                  f"{bounding_box_format!r}.")
    matrix = _inverse_affine_matrices(0.5 if center_x is None else center_x,
                                      0.5 if center_y is None else center_y, angle,
                                      translate_x, translate_y, scale, shear_x, shear_y,
                                      height, width)
    boxes = np.asarray(boxes).astype(matrix.dtype)
    batch, n = boxes.shape[:2]
    x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
    corners = np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1).reshape(batch, n, 4, 2)
    corners = np.concatenate([corners, np.ones((batch, n, 4, 1), corners.dtype)], axis=-1)
    moved = np.einsum("bnxy,byz->bnxz", corners, np.transpose(matrix[:, :2, :], (0, 2, 1)))
    return np.concatenate([np.min(moved, axis=2), np.max(moved, axis=2)], axis=-1)


def crop(boxes, top, left, height, width, bounding_box_format: str = "xyxy"):
    """Boxes in the window ``height × width`` whose top-left corner is ``(left, top)``:
    ``[x1 - left, y1 - top, x2 - left, y2 - top]`` clipped to ``[0, width] × [0, height]``.

    Example:
        >>> crop(np.array([[10, 20, 50, 60], [70, 80, 100, 120]]), top=10, left=20,
        ...      height=40, width=30)
        array([[ 0, 10, 30, 40],
               [30, 40, 30, 40]])
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"crop: bounding_box_format must be 'xyxy', got "
                                  f"{bounding_box_format!r}.")
    x1, y1, x2, y2 = _sides(np.asarray(boxes))
    return np.concatenate([np.clip(x1 - left, 0, width), np.clip(y1 - top, 0, height),
                           np.clip(x2 - left, 0, width), np.clip(y2 - top, 0, height)],
                          axis=-1)


def pad(boxes, top, left, height=None, width=None, bounding_box_format: str = "xyxy"):
    """Boxes of an image padded by ``top`` rows and ``left`` columns:
    ``[x1 + left, y1 + top, x2 + left, y2 + top]`` (``height`` and ``width`` unused, as
    Keras).

    Example:
        >>> pad(np.array([[1, 2, 3, 4]]), top=10, left=5)
        array([[ 6, 12,  8, 14]])
    """
    if bounding_box_format != "xyxy":
        raise NotImplementedError(f"pad: bounding_box_format must be 'xyxy', got "
                                  f"{bounding_box_format!r}.")
    x1, y1, x2, y2 = _sides(np.asarray(boxes))
    return np.concatenate([x1 + left, y1 + top, x2 + left, y2 + top], axis=-1)


def _check_variance(variance):
    if variance is None:
        return None
    variance = np.asarray(variance, np.float32)
    if variance.shape[-1:] != (4,):
        raise ValueError(f"`variance` must be length 4, got {variance}")
    return variance


def _image_size(image_shape) -> tuple:
    return (None, None) if image_shape is None else tuple(image_shape[:2])


def encode_box_to_deltas(anchors, boxes, anchor_format: str, box_format: str,
                         encoding_format: str = "center_yxhw", variance=None,
                         image_shape=None):
    """The deltas of ``boxes`` from ``anchors``, both in ``encoding_format`` (centres ``c``
    and sizes ``s``, in float32): ``[(c_box - c_anchor)/s_anchor, log(s_box/s_anchor)]``,
    sizes floored at 1e-7, divided by ``variance`` when given.

    Args:
        anchors: ``(N, 4)`` in ``anchor_format``.
        boxes: ``(N, 4)`` or ``(B, N, 4)`` in ``box_format``.
        anchor_format, box_format: formats (see the module docstring).
        encoding_format: ``"center_yxhw"`` (default) or ``"center_xywh"``.
        variance: 4 numbers, or None.
        image_shape: ``(height, width, channels)`` for relative formats.

    Example:
        >>> encode_box_to_deltas(np.array([[0., 0, 10, 10]]), np.array([[5., 5, 15, 25]]),
        ...                      "xyxy", "xyxy")
        array([[1.       , 0.5      , 0.6931472, 0.       ]], dtype=float32)
    """
    variance = _check_variance(variance)
    if encoding_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoding_format` should be one of 'center_xywh' or 'center_yxhw', "
                         f"got {encoding_format}")
    height, width = _image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_sizes = np.maximum(anchors[..., 2:], np.float32(EPSILON))
    box_sizes = np.maximum(boxes[..., 2:], np.float32(EPSILON))
    deltas = np.concatenate([(boxes[..., :2] - anchors[..., :2]) / anchor_sizes,
                             np.log(box_sizes / anchor_sizes)], axis=-1)
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format: str, box_format: str,
                           encoded_format: str = "center_yxhw", variance=None,
                           image_shape=None):
    """Boxes from their deltas (the inverse of :func:`encode_box_to_deltas`): with the
    deltas times ``variance``, ``c = δ_c·s_anchor + c_anchor``, ``s = exp(δ_s)·s_anchor``,
    then converted to ``box_format``. ``anchors`` and ``boxes_delta`` may be dicts of
    levels (the same keys): a dict of boxes is returned.

    Example:
        >>> decode_deltas_to_boxes(np.array([[0., 0, 10, 10]]),
        ...                        np.array([[1., 0.5, np.log(2), 0]]), "xyxy", "xyxy")
        array([[ 5.,  5., 15., 25.]], dtype=float32)
    """
    variance = _check_variance(variance)
    if encoded_format not in ("center_xywh", "center_yxhw"):
        raise ValueError("`encoded_format` should be 'center_xywh' or 'center_yxhw', but got "
                         f"'{encoded_format}'.")
    height, width = _image_size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = np.asarray(delta)
        if variance is not None:
            delta = delta * variance
        box = np.concatenate([delta[..., :2] * anchor[..., 2:] + anchor[..., :2],
                              np.exp(delta[..., 2:]) * anchor[..., 2:]], axis=-1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)


def compute_iou(boxes1, boxes2, bounding_box_format: str, use_masking: bool = False,
                mask_val=-1, image_shape=None):
    """The IoU of every pair: ``|b1 ∩ b2| / (|b1| + |b2| - |b1 ∩ b2| + 1e-7)``, ``(M, N)``
    for ``(M, 4)`` and ``(N, 4)`` boxes (``(B, M, N)`` when either is batched), in float32.
    With ``use_masking``, pairs with a box whose 4 numbers are all negative (a padding box)
    get ``mask_val``.

    Example:
        >>> compute_iou(np.array([[0., 0, 2, 2]]), np.array([[1., 1, 3, 3], [0, 0, 2, 2]]),
        ...             "xyxy")
        array([[0.14285715, 1.        ]], dtype=float32)
    """
    ranks = np.ndim(boxes1), np.ndim(boxes2)
    for name, rank in (("boxes1", ranks[0]), ("boxes2", ranks[1])):
        if rank not in (2, 3):
            raise ValueError(f"compute_iou() expects {name} to be batched, or to be unbatched. "
                             f"Received len(boxes1.shape)={ranks[0]}, len(boxes2.shape)="
                             f"{ranks[1]}. Expected either len({name}.shape)=2 AND or "
                             f"len({name}.shape)=3.")
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         "`image_shape` argument must be provided.Received `image_shape`: "
                         f"{image_shape}")
    height, width = _image_size(image_shape)
    boxes1 = convert_format(boxes1, bounding_box_format, "yxyx", height, width)
    boxes2 = convert_format(boxes2, bounding_box_format, "yxyx", height, width)
    top1, left1, bottom1, right1 = _sides(boxes1)
    top2, left2, bottom2, right2 = (np.swapaxes(side, -1, -2) for side in _sides(boxes2))
    rows = np.maximum(np.float32(0), np.minimum(bottom1, bottom2) - np.maximum(top1, top2))
    cols = np.maximum(np.float32(0), np.minimum(right1, right2) - np.maximum(left1, left2))
    intersection = rows * cols
    area1 = (bottom1 - top1) * (right1 - left1)                           # (..., M, 1)
    area2 = (bottom2 - top2) * (right2 - left2)                           # (..., 1, N)
    iou = intersection / (area1 + area2 - intersection + np.float32(EPSILON))
    if not use_masking:
        return iou
    background = np.logical_or(np.max(boxes1, axis=-1, keepdims=True) < 0,
                               np.swapaxes(np.max(boxes2, axis=-1, keepdims=True) < 0, -1, -2))
    return np.where(background, np.asarray(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format: str, image_shape=None):
    """The Complete IoU of paired boxes (``(..., 4)`` each, in float32): the IoU minus
    the squared distance of the centres over the squared diagonal of the box holding both,
    minus ``α·v`` for the aspect ratios, ``v = 4/π²·(atan(w₂/h₂) - atan(w₁/h₁))²``,
    ``α = v/(v - IoU + 1 + ε)`` (heights and areas padded by ``ε = 1e-7`` as Keras).

    Example:
        >>> compute_ciou(np.array([[0., 0, 2, 2]]), np.array([[1., 0, 3, 2]]), "xyxy")
        array([0.25641027], dtype=float32)
    """
    if "rel" in bounding_box_format:
        raise ValueError("When using relative bounding box formats (e.g. `rel_yxyx`) the "
                         "`image_shape` argument must be provided.Received `image_shape`: "
                         f"{image_shape}")
    height, width = _image_size(image_shape)
    x_min1, y_min1, x_max1, y_max1 = _sides(convert_format(boxes1, bounding_box_format,
                                                           "xyxy", height, width))
    x_min2, y_min2, x_max2, y_max2 = _sides(convert_format(boxes2, bounding_box_format,
                                                           "xyxy", height, width))
    eps = np.float32(EPSILON)
    width_1, height_1 = x_max1 - x_min1, y_max1 - y_min1 + eps
    width_2, height_2 = x_max2 - x_min2, y_max2 - y_min2 + eps
    intersection = (np.maximum(np.minimum(x_max1, x_max2) - np.maximum(x_min1, x_min2), 0)
                    * np.maximum(np.minimum(y_max1, y_max2) - np.maximum(y_min1, y_min2), 0))
    union = width_1 * height_1 + width_2 * height_2 - intersection + eps
    iou = np.squeeze(intersection / (union + eps), axis=-1)
    convex_width = np.maximum(x_max1, x_max2) - np.minimum(x_min1, x_min2)
    convex_height = np.maximum(y_max1, y_max2) - np.minimum(y_min1, y_min2)
    diagonal = np.squeeze(convex_width**2 + convex_height**2 + eps, axis=-1)
    centers = np.squeeze(((x_min1 + x_max1) / 2 - (x_min2 + x_max2) / 2) ** 2
                         + ((y_min1 + y_max1) / 2 - (y_min2 + y_max2) / 2) ** 2, axis=-1)
    v = np.squeeze(np.float32(4 / math.pi**2) * np.power(
        np.arctan(width_2 / height_2) - np.arctan(width_1 / height_1), 2), axis=-1)
    alpha = v / (v - iou + np.float32(1 + EPSILON))
    return iou - (centers / diagonal + v * alpha)
