"""RandomZoom: zoom each image in or out by a random factor while training."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomAffineLayer


class RandomZoom(RandomAffineLayer):
    """Zoom each image about its centre by a random factor while training; the identity at
    inference.

    Per image, ``zy ~ U[1 + lower, 1 + upper)`` from ``height_factor`` and ``zx`` from
    ``width_factor`` (``zx = zy`` when ``width_factor`` is None: the aspect is kept). The
    output pixel ``(x, y)`` shows the input at (Keras' matrix)::

        x_in = zx·x + (W-1)/2·(1 - zx)          a factor z < 1 shows a smaller part of
        y_in = zy·y + (H-1)/2·(1 - zy)          the image: it zooms **in**; z > 1 zooms out

    so a *positive* factor zooms **out** and a negative one zooms in, as in Keras. As in
    Keras the zooms and offsets are rounded to float32 ("zoom matrices are always
    float32"), also when the layer computes in float64. Interpolation and ``fill_mode`` as
    :mod:`~minired.layers.preprocessing.image_transform`.

    Backward: for the drawn zooms the output is linear in the image, and ``δx`` is the
    adjoint of the resampling (``δx[q] = Σ w_k·δa`` over the outputs that read ``q``).

    Args:
        height_factor: ``f`` in ``(-1, 1]`` draws the vertical zoom in ``[1-|f|, 1+|f|]``; a
            pair ``(lower, upper)`` in ``[1+lower, 1+upper]``.
        width_factor: the same for the horizontal zoom, or None (the vertical zoom, kept
            proportional).
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        fill_value: the value outside the image when ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(5, dtype="float32").reshape(1, 1, 5, 1)
        >>> RandomZoom(0.0, (-0.5, -0.5))(x, training=True)[0, 0, :, 0]    # 2× zoom in
        array([1. , 1.5, 2. , 2.5, 3. ], dtype=float32)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, name=name, **kwargs)
        self._set_height_width_factors(height_factor, width_factor, low_open=True)

    def _transforms(self, images: np.ndarray) -> np.ndarray:
        n, height, width = images.shape[:3]
        height_zoom = self._uniform((n,), 1.0 + self.height_lower, 1.0 + self.height_upper)
        width_zoom = (height_zoom if self.width_factor is None else
                      self._uniform((n,), 1.0 + self.width_lower, 1.0 + self.width_upper))
        return zoom_transforms(width_zoom, height_zoom, height, width)

    def get_config(self) -> dict:
        """Keras' keys (see :meth:`RandomAffineLayer._height_width_config`)."""
        return self._height_width_config()


def zoom_transforms(width_zoom: np.ndarray, height_zoom: np.ndarray, height: int,
                    width: int) -> np.ndarray:
    """The ``(N, 8)`` transforms zooming by ``(zx, zy)`` about the centre, in float32 as
    Keras' ``_get_zoom_matrix``."""
    zx = np.asarray(width_zoom, dtype=np.float32)
    zy = np.asarray(height_zoom, dtype=np.float32)
    x_offset = ((np.float32(width) - np.float32(1.0)) / np.float32(2.0)) * (1 - zx)
    y_offset = ((np.float32(height) - np.float32(1.0)) / np.float32(2.0)) * (1 - zy)
    zeros = np.zeros_like(zx)
    return np.stack([zx, zeros, x_offset, zeros, zy, y_offset, zeros, zeros], axis=1)
