"""Colour conversions of the colour augmentation layers (RandomGrayscale, RandomHue,
RandomSaturation...), written as TensorFlow computes them (``tf.image.rgb_to_grayscale``,
``tf.image.rgb_to_hsv``, ``tf.image.hsv_to_rgb``), on images ``(..., 3)`` channels last.

Grayscale (luma, the weights of ``tf.image.rgb_to_grayscale``)::

    gray = 0.2989·R + 0.5870·G + 0.1140·B

HSV (hue, saturation, value; all three in [0, 1] for RGB in [0, 1])::

    V = max(R, G, B)          range = V - min(R, G, B)          S = range / V  (0 if V = 0)
    H = (G - B)/(6·range)           if R = V
        (B - R)/(6·range) + 2/6     if G = V (and R ≠ V)
        (R - G)/(6·range) + 4/6     otherwise;    0 if range = 0;    then + 1 if H < 0

and back, with ``d = 6·H``::

    R = (1 - S + S·clip(|d - 3| - 1, 0, 1))·V
    G = (1 - S + S·clip(2 - |d - 2|, 0, 1))·V
    B = (1 - S + S·clip(2 - |d - 4|, 0, 1))·V

TensorFlow registers no gradient for ``HSVToRGB``: a layer that goes through HSV (RandomHue,
RandomSaturation) gives no gradient to its input in Keras.
"""

from __future__ import annotations

import numpy as np

#: ``tf.image.rgb_to_grayscale``'s weights of R, G and B.
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def check_value_range(value_range, owner: str) -> list:
    """Keras' ``_set_value_range``: a pair, stored sorted (as a list)."""
    if not isinstance(value_range, tuple | list) or len(value_range) != 2:
        raise ValueError(f"{owner}: the `value_range` argument should be a list of two "
                         f"numbers. Received: value_range={value_range!r}")
    return sorted(value_range)


def check_channels(images: np.ndarray, allowed: tuple, owner: str) -> None:
    if images.shape[-1] not in allowed:
        expected = " or ".join(str(c) for c in allowed)
        raise ValueError(f"{owner}: expected images with {expected} channels (RGB), got the "
                         f"shape {images.shape}.")


def transform_value_range(images: np.ndarray, original: tuple, target: tuple,
                          dtype=None) -> np.ndarray:
    """Keras' ``_transform_value_range``: ``(x - lo)/(hi - lo)·(hi' - lo') + lo'`` (the
    images unchanged, dtype included, when the ranges are equal), in ``dtype`` (default:
    the images')."""
    if original[0] == target[0] and original[1] == target[1]:
        return images
    dtype = np.dtype(dtype or images.dtype).type
    images = images.astype(dtype, copy=False)
    low, high = dtype(original[0]), dtype(original[1])
    target_low, target_high = dtype(target[0]), dtype(target[1])
    return (images - low) / (high - low) * (target_high - target_low) + target_low


def rgb_to_grayscale(images: np.ndarray) -> np.ndarray:
    """``(..., 1)``: the luma of RGB images (an image of 1 channel is returned as is)."""
    if images.shape[-1] == 1:
        return images
    weights = np.asarray(GRAY_WEIGHTS, dtype=images.dtype)
    return (images @ weights)[..., None]


def rgb_to_grayscale_backward(grad_gray: np.ndarray, channels: int) -> np.ndarray:
    """``δx_c = w_c·δgray`` (the identity for 1 channel)."""
    if channels == 1:
        return grad_gray
    return grad_gray * np.asarray(GRAY_WEIGHTS, dtype=grad_gray.dtype)


def rgb_to_hsv(images: np.ndarray) -> np.ndarray:
    """``(..., 3)`` HSV of RGB images, in TensorFlow's order of operations."""
    dtype = images.dtype.type
    red, green, blue = images[..., 0], images[..., 1], images[..., 2]
    value = np.max(images, axis=-1)
    spread = value - np.min(images, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        saturation = np.where(value > 0, spread / value, dtype(0))
        norm = (dtype(1) / spread) * (dtype(1) / dtype(6))
        hue = np.where(red == value, norm * (green - blue),
                       np.where(green == value, norm * (blue - red) + dtype(2) / dtype(6),
                                norm * (red - green) + dtype(4) / dtype(6)))
    hue = np.where(spread > 0, hue, dtype(0))
    hue = np.where(hue < 0, hue + dtype(1), hue)
    return np.stack([hue, saturation, value], axis=-1).astype(images.dtype, copy=False)


def hsv_to_rgb(images: np.ndarray) -> np.ndarray:
    """``(..., 3)`` RGB of HSV images, in TensorFlow's order of operations."""
    dtype = images.dtype.type
    hue, saturation, value = images[..., 0], images[..., 1], images[..., 2]
    d = hue * dtype(6)
    red = np.clip(np.abs(d - dtype(3)) - dtype(1), 0, 1)
    green = np.clip(-np.abs(d - dtype(2)) + dtype(2), 0, 1)
    blue = np.clip(-np.abs(d - dtype(4)) + dtype(2), 0, 1)
    one_minus_s = -saturation + dtype(1)
    out = [(one_minus_s + saturation * c) * value for c in (red, green, blue)]
    return np.stack(out, axis=-1).astype(images.dtype, copy=False)
