"""RandomSaturation: make the colours of each image paler or stronger, at random."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer, no_gradient


class RandomSaturation(TransformationLayer):
    """Scale the saturation of each image by a random factor while training; the identity
    at inference.

    Forward, per image ``n`` with ``u_n ~ U[lower, upper)`` and ``k_n = u_n/(1 - u_n + ε)``
    (``ε = 1e-7``; Keras' transformation ``{"factor": k}``; ``u = 0.5`` keeps the image,
    ``u → 1`` saturates it fully, ``u ≤ 0`` makes it gray)::

        (H, S, V) = rgb_to_hsv(x)
        a         = hsv_to_rgb(H, clip(S·k_n, lo, hi), V)

    Keras clips the saturation to ``value_range = (lo, hi)`` and converts the images as they
    come (the value ``V`` is not rescaled), so the default ``(0, 255)`` does not cut ``S``.

    Backward: none. TensorFlow registers no gradient for ``HSVToRGB``, so Keras' layer gives
    its input no gradient (``None``); minired stops it: ``δx = 0``.

    Args:
        factor: a number ``f`` in [-1, 1] draws ``u`` in ``[-|f|, |f|]``; a pair
            ``(lower, upper)`` in ``[lower, upper]`` (``(0.5, 0.5)``: the identity).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[200., 100., 100.]]]], dtype="float32")
        >>> RandomSaturation((0.0, 0.0))(x, training=True)                 # k = 0: gray
        array([[[[200., 200., 200.]]]], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (-1, 1), "RandomSaturation")
        self.value_range = color_space.check_value_range(value_range, "RandomSaturation")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"factor": u/(1 - u + ε)}``, ``(N,)``."""
        u = self._uniform((self._batch(images),), self.factor[0], self.factor[1])
        return {"factor": u / (1 - u + 1e-7)}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, None]:
        color_space.check_channels(images, (3,), "RandomSaturation")
        factor = self._cast(transformation["factor"], images)[:, None, None]
        hsv = color_space.rgb_to_hsv(images)
        saturation = np.clip(hsv[..., 1] * factor, self.value_range[0], self.value_range[1])
        hsv = np.stack([hsv[..., 0], saturation, hsv[..., 2]], axis=-1)
        return color_space.hsv_to_rgb(hsv), None

    def _augment_backward(self, grad_outputs: np.ndarray, state: None) -> np.ndarray:
        return no_gradient(grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
