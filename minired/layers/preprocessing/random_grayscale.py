"""RandomGrayscale: turn some images of a batch to gray, at random."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import _is_number
from minired.layers.preprocessing.transformation_layer import TransformationLayer


class RandomGrayscale(TransformationLayer):
    """Turn each image to gray with probability ``factor`` while training; the identity at
    inference. A gray image keeps its 3 channels, all equal to its luma.

    Forward, per image ``n`` with ``u_n ~ U[0, 1)`` and ``s_n = 1[u_n < factor]``::

        gray = 0.2989·R + 0.5870·G + 0.1140·B          (tf.image.rgb_to_grayscale)
        a    = s_n·gray + (1 - s_n)·x                  (gray broadcast to the 3 channels)

    Backward: ``δx_c = s_n·w_c·Σ_c' δa_c' + (1 - s_n)·δa_c`` (``w = (0.2989, 0.5870,
    0.1140)``). Images of 1 channel are returned as they are (as Keras).

    Args:
        factor: the probability of turning an image gray, in [0, 1] (default 0.5).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator` (not in Keras'
            config, so not in minired's).
        name: layer name.

    Example:
        >>> x = np.array([[[[100., 50., 200.]]]], dtype="float32")
        >>> RandomGrayscale(1.0)(x, training=True)[0, 0, 0]
        array([82.04, 82.04, 82.04], dtype=float32)
    """

    def __init__(self, factor: float = 0.5, data_format=None, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        if not _is_number(factor) or factor < 0 or factor > 1:
            raise ValueError("RandomGrayscale: `factor` should be between 0 and 1. "
                             f"Received: factor={factor!r}")
        self.factor = factor

    def get_random_transformation(self, images: np.ndarray) -> np.ndarray:
        """Keras' transformation here is not a dict: the ``(N, 1, 1, 1)`` booleans
        ``u < factor`` (the images to turn gray)."""
        u = self._uniform((self._batch(images),), 0.0, 1.0)
        return (u < self.factor)[:, None, None, None]

    def _apply(self, images: np.ndarray, transformation) -> tuple[np.ndarray, np.ndarray]:
        color_space.check_channels(images, (1, 3), "RandomGrayscale")
        apply = np.asarray(transformation, dtype=bool).reshape(-1, 1, 1, 1)
        gray = color_space.rgb_to_grayscale(images)
        return np.where(apply, gray, images).astype(images.dtype, copy=False), apply

    def _augment_backward(self, grad_outputs: np.ndarray, apply: np.ndarray) -> np.ndarray:
        grad_gray = np.sum(np.where(apply, grad_outputs, 0), axis=-1, keepdims=True)
        grad_gray = color_space.rgb_to_grayscale_backward(grad_gray, grad_outputs.shape[-1])
        return np.where(apply, 0, grad_outputs) + grad_gray

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``."""
        return {**super().get_config(), "factor": self.factor}
