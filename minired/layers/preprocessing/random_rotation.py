"""RandomRotation: turn each image by a random angle about its centre while training."""

from __future__ import annotations

import math

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomAffineLayer, parse_factor


class RandomRotation(RandomAffineLayer):
    """Rotate each image by a random angle ``θ`` while training; the identity at inference.

    The angle is a fraction of a full turn: ``θ_n ~ U[lower·360°, upper·360°)``, one per
    image (positive: counter-clockwise). Each output pixel ``(x, y)`` shows the input at
    the point turned about the centre ``(cx, cy) = ((W-1)/2, (H-1)/2)`` (Keras' matrix)::

        x_in = cos θ·x - sin θ·y + (cx - cx·cos θ + cy·sin θ)
        y_in = sin θ·x + cos θ·y + (cy - cx·sin θ - cy·cos θ)

    interpolated (``"bilinear"``/``"nearest"``) and filled outside the image by
    ``fill_mode`` (see :mod:`~minired.layers.preprocessing.image_transform`).

    Backward: for the drawn angles the output is linear in the image,
    ``a = Σ_k w_k·x[q_k]``, and ``δx`` is its adjoint, ``δx[q] = Σ w_k·δa`` over the
    outputs that read ``q``. (TensorFlow's registered gradient instead rotates ``δa`` back
    by ``-θ``, which equals the adjoint only when the rotation moves whole pixels.)

    Args:
        factor: a fraction of 2π: ``f`` draws ``θ`` in ``[-f·360°, f·360°]``, a pair
            ``(lower, upper)`` in ``[lower·360°, upper·360°]`` (``(0.1, 0.1)`` always 36°).
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        fill_value: the value outside the image when ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
        >>> layer = RandomRotation((0.25, 0.25), interpolation="nearest")   # always 90°
        >>> layer(x, training=True)[0, :, :, 0]
        array([[2., 5., 8.],
               [1., 4., 7.],
               [0., 3., 6.]], dtype=float32)
    """

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (-1, 1), "RandomRotation")

    def _transforms(self, images: np.ndarray) -> np.ndarray:
        n, height, width = images.shape[:3]
        degrees = self._uniform((n,), self.factor[0] * 360.0, self.factor[1] * 360.0)
        return rotation_transforms(degrees, height, width)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``fill_mode``, ``fill_value``, ``interpolation``, ``seed``."""
        return {**super().get_config(), "factor": self.factor, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "interpolation": self.interpolation,
                "seed": self.seed}


def rotation_transforms(degrees: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ``(N, 8)`` transforms turning images by ``degrees`` about their centres, in the
    dtype of ``degrees`` and in the order of Keras' ``_compute_affine_matrix``."""
    dtype = degrees.dtype.type
    angle = degrees * dtype(math.pi / 180.0)
    cx = dtype(0.5) * (dtype(width) - 1)
    cy = dtype(0.5) * (dtype(height) - 1)
    cos, sin = np.cos(angle), np.sin(angle)
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    zeros = np.zeros_like(angle)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
