"""RandomContrast: scale each image's deviations from its mean by a random factor."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import RandomImageLayer, parse_factor


class RandomContrast(RandomImageLayer):
    """Change the contrast of each image by a random factor while training; the identity at
    inference.

    Forward, per image ``n`` with ``c_n ~ U[1 - lower, 1 + upper)`` and ``m`` the mean of
    each channel over the pixels (Keras' formula, clipped to ``value_range = (lo, hi)``)::

        m[n, c] = 1/(H·W) Σ_ij x[n, i, j, c]
        z       = (x - m)·c_n + m
        a       = clip(z, lo, hi)

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` (the clip passes the gradient where it does
    not cut, its edges included, as TensorFlow's ``clip_by_value``)::

        δx = c_n·g + (1 - c_n)·mean_ij(g)          (m moves with every pixel of its channel)

    Note Keras' reading of ``factor``: a number ``f`` becomes ``(lower, upper) = (0, f)``
    (the bounds are [0, 1]), so ``c`` is drawn in ``[1, 1 + f]``: Keras 3's RandomContrast
    only raises the contrast. A pair ``(a, b)`` is sorted into ``(lower, upper)`` and ``c``
    drawn in ``[1 - lower, 1 + upper]``: ``(-0.3, 0.3)`` always gives ``c = 1.3``.

    Args:
        factor: a number in [0, 1], or a pair ``(lower, upper)`` (see above).
        value_range: ``(lo, hi)``, the range of the pixel values (default ``(0, 255)``):
            the output is clipped to it.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[10.], [30.]]]], dtype="float32")       # mean 20
        >>> RandomContrast((-0.5, 0.5))(x, training=True)[0, 0, :, 0]    # c = 1.5
        array([ 5., 35.], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomContrast")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomContrast: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        self.value_range = value_range

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, tuple]:
        contrast = self._uniform((images.shape[0], 1, 1, 1), 1.0 - self.factor[0],
                                 1.0 + self.factor[1])
        mean = np.mean(np.mean(images, axis=1, keepdims=True), axis=2, keepdims=True)
        z = (images - mean) * contrast + mean
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (contrast, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        contrast, passes = state
        g = grad_outputs * passes
        return contrast * g + (1 - contrast) * np.mean(g, axis=(1, 2), keepdims=True)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
