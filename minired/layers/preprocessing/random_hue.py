"""RandomHue: turn the colours of each image round the colour wheel by a random angle."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer, no_gradient


class RandomHue(TransformationLayer):
    """Shift the hue of each image by a random amount while training; the identity at
    inference.

    Forward, per image ``n`` with ``f_n ~ U[lower, upper)``, a sign ``σ_n = -1`` if
    ``U[0, 1) > ½`` else ``+1``, and ``δh_n = σ_n·f_n·½`` (Keras' transformation
    ``{"factor": δh}``), the images scaled to [0, 1] from ``value_range = (lo, hi)``::

        (H, S, V) = rgb_to_hsv((x - lo)/(hi - lo))
        H'        = H + δh_n,  then - 1 if H' > 1 and + 1 if H' < 0
        a         = clip(hsv_to_rgb(H', S, V), 0, 1)·(hi - lo) + lo

    computed in float32 whatever the layer's dtype when ``value_range`` is not ``(0, 1)``,
    as Keras does (its ``_transform_value_range`` casts to its default dtype, float32).
    (the conversions are :mod:`~minired.layers.preprocessing.color_space`'s, TensorFlow's).

    Backward: none. TensorFlow registers no gradient for ``HSVToRGB``, so Keras' layer gives
    its input no gradient (``None``); minired stops it: ``δx = 0``.

    Args:
        factor: a number ``f`` in [0, 1] draws the magnitude in ``[0, f]`` (a shift of at
            most ``f/2`` of the wheel, either way); a pair ``(lower, upper)`` in
            ``[lower, upper]``.
        value_range: ``(lo, hi)``, the range of the pixel values (default ``(0, 255)``,
            kept as given, as Keras does).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[255., 0., 0.]]]], dtype="float32")             # red
        >>> RandomHue(1.0).transform_images(x, {"factor": np.array([1 / 3])})
        array([[[[  0., 255.,   0.]]]], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomHue")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomHue: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        self.value_range = value_range

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"factor": σ·f·½}``, ``(N,)`` (the sign drawn first, then ``f``)."""
        n = self._batch(images)
        sign = np.where(self._uniform((n,), 0.0, 1.0) > 0.5, -1, 1).astype(images.dtype)
        factor = self._uniform((n,), self.factor[0], self.factor[1])
        return {"factor": sign * factor * images.dtype.type(0.5)}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, None]:
        color_space.check_channels(images, (3,), "RandomHue")
        # Keras' RandomHue leaves `_transform_value_range` at its default dtype, float32:
        # unless value_range is (0, 1), the colours are computed in float32 in any dtype.
        x = color_space.transform_value_range(images, self.value_range, (0, 1), np.float32)
        shift = self._cast(transformation["factor"], x)[:, None, None]
        hsv = color_space.rgb_to_hsv(x)
        hue = hsv[..., 0] + shift
        hue = np.where(hue > 1, hue - 1, hue)
        hue = np.where(hue < 0, hue + 1, hue)
        rgb = color_space.hsv_to_rgb(np.stack([hue, hsv[..., 1], hsv[..., 2]], axis=-1))
        rgb = np.clip(rgb, 0, 1)
        rgb = color_space.transform_value_range(rgb, (0, 1), self.value_range, np.float32)
        return rgb.astype(images.dtype), None

    def _augment_backward(self, grad_outputs: np.ndarray, state: None) -> np.ndarray:
        return no_gradient(grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
