"""RandomFlip: mirror images left-right and/or top-bottom at random while training."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomImageLayer, check_choice

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"
MODES = (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)


class RandomFlip(RandomImageLayer):
    """Flip each image with probability ½ while training; the identity at inference.

    Forward, for a batch ``x`` of shape ``(N, H, W, C)``, with one draw per image
    ``u_n ~ U[0, 1)`` and ``f_n = [u_n ≤ ½]`` (Keras' rule)::

        "horizontal":  a[n, i, j] = x[n, i, W-1-j]   if f_n   else x[n, i, j]
        "vertical":    a[n, i, j] = x[n, H-1-i, j]   if f_n   else x[n, i, j]

    ``"horizontal_and_vertical"`` (the default) applies both flips to the images with
    ``f_n``, i.e. turns them by 180°; as in Keras the one draw decides both, so an image is
    never flipped one way only.

    Backward: a flip only moves values, and flipping twice is the identity, so
    ``δx = flip(δa)`` for the flipped images and ``δx = δa`` for the others.

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (top-bottom) or
            ``"horizontal_and_vertical"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator` (None: drawn from
            minired's random stream, reproducible after ``mr.utils.set_random_seed``).
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(3, dtype="float32").reshape(1, 1, 3, 1)
        >>> RandomFlip("horizontal")(x, training=False)[0, 0, :, 0]
        array([0., 1., 2.], dtype=float32)
        >>> out = RandomFlip("horizontal", seed=1)(x, training=True)[0, 0, :, 0]
        >>> out.tolist() in ([0.0, 1.0, 2.0], [2.0, 1.0, 0.0])
        True
    """

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed: int | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        check_choice(mode, MODES, "mode", "RandomFlip")
        self.mode = mode

    def _flip(self, images: np.ndarray, flips: np.ndarray) -> np.ndarray:
        """Flip the images where ``flips`` ``(N, 1, 1, 1)`` is True."""
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            images = np.where(flips, images[:, :, ::-1], images)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            images = np.where(flips, images[:, ::-1], images)
        return images

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flips = self._uniform((images.shape[0], 1, 1, 1), 0.0, 1.0) <= 0.5
        return self._flip(images, flips), flips

    def _augment_backward(self, grad_outputs: np.ndarray, flips: np.ndarray) -> np.ndarray:
        return self._flip(grad_outputs, flips)          # each flip is its own inverse

    @property
    def flips(self) -> np.ndarray | None:
        """Which images the last call flipped, ``(N,)`` booleans (None after an identity
        call)."""
        return None if self.cache is None else self.cache[1].reshape(-1)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``seed``,
        ``mode``."""
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}
