"""RandomColorDegeneration: blend each image with its gray version by a random amount."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer


class RandomColorDegeneration(TransformationLayer):
    """Move each image towards its gray version by a random fraction while training; the
    identity at inference.

    Forward, per image ``n`` with ``f_n ~ U[lower, upper)`` and ``gray`` the luma of
    :func:`~minired.layers.preprocessing.color_space.rgb_to_grayscale`::

        z = x + f_n·(gray - x)
        a = clip(z, lo, hi)

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` and ``w = (0.2989, 0.5870, 0.1140)``::

        δx_c = (1 - f_n)·g_c + w_c·f_n·Σ_c' g_c'

    Args:
        factor: a number ``f`` in [-1, 1] draws ``f_n`` in ``[-|f|, |f|]`` (a negative
            fraction moves away from gray); a pair ``(lower, upper)`` in ``[lower, upper]``.
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[100., 50., 200.]]]], dtype="float32")           # gray 82.04
        >>> RandomColorDegeneration((1.0, 1.0))(x, training=True)[0, 0, 0]
        array([82.04, 82.04, 82.04], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (-1, 1), "RandomColorDegeneration")
        self.value_range = color_space.check_value_range(value_range,
                                                         "RandomColorDegeneration")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"factor": f}``, ``(N, 1, 1, 1)``."""
        return {"factor": self._uniform((self._batch(images), 1, 1, 1), self.factor[0],
                                        self.factor[1])}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        color_space.check_channels(images, (1, 3), "RandomColorDegeneration")
        factor = self._cast(transformation["factor"], images).reshape(-1, 1, 1, 1)
        z = images + factor * (color_space.rgb_to_grayscale(images) - images)
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (factor, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        factor, passes = state
        g = grad_outputs * passes
        grad_gray = np.sum(factor * g, axis=-1, keepdims=True)
        return g - factor * g + color_space.rgb_to_grayscale_backward(grad_gray, g.shape[-1])

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
