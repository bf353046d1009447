"""RandomBrightness: add a random amount to every pixel of each image."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomImageLayer, parse_factor


class RandomBrightness(RandomImageLayer):
    """Brighten or darken each image by a random amount while training; the identity at
    inference.

    Forward, per image ``n`` with ``d_n = U[lower, upper)·(hi - lo)`` (the same shift for
    all its pixels and channels), clipped to ``value_range = (lo, hi)``::

        z = x + d_n
        a = clip(z, lo, hi)

    Backward: ``δx = δa·1[lo ≤ z ≤ hi]`` (the clip passes the gradient where it does not
    cut, its edges included, as TensorFlow's ``clip_by_value``).

    Args:
        factor: a number ``f`` in [-1, 1] draws the shift in ``[-|f|, |f|]`` of the range;
            a pair ``(lower, upper)`` in ``[lower, upper]`` (``(0.1, 0.1)``: always +10 %).
        value_range: ``(lo, hi)``, the range of the pixel values (default ``(0, 255)``,
            stored sorted, as a list, as Keras does).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[0.2], [0.95]]]], dtype="float32")
        >>> RandomBrightness((0.1, 0.1), value_range=(0, 1))(x, training=True)[0, 0, :, 0]
        array([0.3, 1. ], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (-1, 1), "RandomBrightness")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomBrightness: the `value_range` argument should be a list "
                             f"of two numbers. Received: value_range={value_range!r}")
        self.value_range = sorted(value_range)

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, tuple]:
        low, high = self.value_range
        shift = self._uniform((images.shape[0], 1, 1, 1), self.factor[0], self.factor[1])
        shift = shift * (high - low)                                        # d_n
        z = images + shift
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (shift, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        _, passes = state
        return grad_outputs * passes

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
