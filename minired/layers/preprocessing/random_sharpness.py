"""RandomSharpness: blur or sharpen each image by a random amount."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer


def smooth(images: np.ndarray) -> np.ndarray:
    """Each channel convolved with Keras' 3×3 kernel ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]]/13``
    with zeros around the image (a depthwise convolution, ``padding="same"``). The kernel
    is symmetric, so this is also the backward pass of the smoothing."""
    dtype = images.dtype.type
    side, centre = dtype(1.0 / 13.0), dtype(5.0 / 13.0)
    height, width = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    total = np.zeros_like(images)
    for di in range(3):
        for dj in range(3):
            weight = centre if di == dj == 1 else side
            total = total + weight * padded[:, di:di + height, dj:dj + width]
    return total


class RandomSharpness(TransformationLayer):
    """Change the sharpness of each image by a random factor while training; the identity
    at inference.

    Forward, per image ``n`` with ``f_n ~ U[lower, upper)``, ``k_n = 2·f_n`` and ``S`` the
    3×3 smoothing of :func:`smooth` (``k = 1`` keeps the image, ``k < 1`` blurs it,
    ``k > 1`` sharpens it)::

        z = x + (1 - k_n)·(S x - x)
        a = clip(z, lo, hi)

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` (``S`` is its own adjoint: a symmetric kernel
    with zero padding)::

        δx = g + (1 - k_n)·(S g - g)

    Args:
        factor: a number ``f`` in [0, 1] draws ``f_n`` in ``[0, f]``; a pair
            ``(lower, upper)`` in ``[lower, upper]`` (``(0.5, 0.5)``: the identity).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.zeros((1, 3, 3, 1), dtype="float32"); x[0, 1, 1, 0] = 130.0
        >>> RandomSharpness((0.0, 0.0))(x, training=True)[0, :, :, 0]     # k = 0: blurred
        array([[10., 10., 10.],
               [10., 50., 10.],
               [10., 10., 10.]], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomSharpness")
        self.value_range = color_space.check_value_range(value_range, "RandomSharpness")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"factor": f}``, ``(N,)``."""
        return {"factor": self._uniform((self._batch(images),), self.factor[0],
                                        self.factor[1])}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        sharpness = self._cast(np.asarray(transformation["factor"]) * 2, images)
        sharpness = sharpness.reshape(-1, 1, 1, 1)
        z = images + (1.0 - sharpness) * (smooth(images) - images)
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (sharpness, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        sharpness, passes = state
        g = grad_outputs * passes
        return g + (1.0 - sharpness) * (smooth(g) - g)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
