"""RandomTranslation: shift each image by a random amount while training."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomAffineLayer


class RandomTranslation(RandomAffineLayer):
    """Shift each image by a random fraction of its size while training; the identity at
    inference.

    Per image, ``dy = U[lower, upper)·H`` from ``height_factor`` and ``dx = U[lower,
    upper)·W`` from ``width_factor`` (positive: down and right). The output pixel
    ``(x, y)`` shows the input at (Keras' matrix)::

        x_in = x - dx
        y_in = y - dy

    As in Keras the shifts are rounded to float32 ("translation matrices are always
    float32"). A shift by a fraction of a pixel interpolates (``"bilinear"``/``"nearest"``);
    the uncovered border is filled by ``fill_mode`` (see
    :mod:`~minired.layers.preprocessing.image_transform`).

    Backward: for the drawn shifts the output is linear in the image, and ``δx`` is the
    adjoint of the resampling (``δx[q] = Σ w_k·δa`` over the outputs that read ``q``).

    Args:
        height_factor: ``f`` in ``[-1, 1]`` draws ``dy/H`` in ``[-|f|, |f|]``; a pair
            ``(lower, upper)`` in ``[lower, upper]``.
        width_factor: the same for ``dx/W``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        fill_value: the value outside the image when ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
        >>> layer = RandomTranslation(0.0, (0.25, 0.25), fill_mode="constant")
        >>> layer(x, training=True)[0, 0, :, 0]                # one pixel to the right
        array([0., 0., 1., 2.], dtype=float32)
    """

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, name=name, **kwargs)
        self._set_height_width_factors(height_factor, width_factor, low_open=False)

    def _transforms(self, images: np.ndarray) -> np.ndarray:
        n, height, width = images.shape[:3]
        dy = self._uniform((n,), self.height_lower, self.height_upper) * height
        dx = self._uniform((n,), self.width_lower, self.width_upper) * width
        return translation_transforms(dx, dy)

    def get_config(self) -> dict:
        """Keras' keys (see :meth:`RandomAffineLayer._height_width_config`)."""
        return self._height_width_config()


def translation_transforms(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The ``(N, 8)`` transforms shifting by ``(dx, dy)``, in float32 as Keras'
    ``_get_translation_matrix``: ``x_in = x - dx``, ``y_in = y - dy``."""
    dx = np.asarray(dx, dtype=np.float32)
    dy = np.asarray(dy, dtype=np.float32)
    ones, zeros = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)
