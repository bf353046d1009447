"""RandomPosterization: keep only the top bits of each pixel value, a random number of them."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer, no_gradient

MAX_FACTOR = 8                                   # the bits of a uint8 pixel


class RandomPosterization(TransformationLayer):
    """Reduce each image to ``b`` bits per channel (``2^b`` levels) while training; the
    identity at inference.

    Forward, per image ``n`` with ``b_n`` an integer drawn uniformly in ``[lower, upper)``
    (``lower`` when the two are equal) and the shift ``s_n = 8 - b_n`` (Keras'
    transformation ``{"shift_factor": s}``), on the values scaled to [0, 255] from
    ``value_range = (lo, hi)``::

        q = uint8(x·255/(hi - lo))              (TensorFlow's cast: truncated, modulo 256)
        a = ((q >> s_n) << s_n)·(hi - lo)/255   (the low s_n bits set to 0)

    Backward: none. The cast to integers has no gradient in TensorFlow (``None``); minired
    stops it: ``δx = 0``.

    Args:
        factor: an integer ``f`` in [1, 8] draws ``b`` in ``[1, f)`` (Keras' ``randint``
            excludes the upper end; ``f = 1`` always gives 1); a pair ``(lower, upper)`` in
            ``[lower, upper)`` (a fixed ``b`` when equal).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[0.], [100.], [200.], [255.]]]], dtype="float32")
        >>> RandomPosterization((1, 1))(x, training=True)[0, 0, :, 0]        # 1 bit
        array([  0.,   0., 128., 128.], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (1, MAX_FACTOR), "RandomPosterization")
        self.value_range = color_space.check_value_range(value_range, "RandomPosterization")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"shift_factor": 8 - b}``, ``(N,)`` uint8."""
        n = self._batch(images)
        lower, upper = self.factor
        if lower != upper:
            u = self._uniform((n,), 0.0, 1.0).astype(np.float64)
            bits = np.floor(lower + u * (upper - lower)).astype(np.uint8)
        else:
            bits = np.full((n,), lower, dtype=np.uint8)
        return {"shift_factor": (MAX_FACTOR - bits).astype(np.uint8)}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, None]:
        shift = np.asarray(transformation["shift_factor"]).astype(np.uint8)[:, None, None, None]
        x = color_space.transform_value_range(images, self.value_range, (0, 255))
        levels = (np.trunc(x).astype(np.int64) % 256).astype(np.uint8)    # tf.cast to uint8
        levels = np.left_shift(np.right_shift(levels, shift), shift)
        return color_space.transform_value_range(levels.astype(images.dtype), (0, 255),
                                                 self.value_range), None

    def _augment_backward(self, grad_outputs: np.ndarray, state: None) -> np.ndarray:
        return no_gradient(grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
