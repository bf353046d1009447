"""RandomInvert: turn some images of a batch to their negative, at random."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer


class RandomInvert(TransformationLayer):
    """Invert each image (``hi - x``) with a random probability while training; the identity
    at inference.

    Forward, per image ``n`` with ``p_n ~ U[lower, upper)``, ``t_n ~ U[0, 1)`` and
    ``s_n = 1[t_n < p_n]`` (so an image is inverted with probability ``E[p]``)::

        a = s_n·(hi - x) + (1 - s_n)·x          (hi = value_range[1])

    Backward: ``δx = (1 - 2·s_n)·δa`` (``-δa`` for the inverted images).

    Args:
        factor: a number ``f`` in [0, 1] draws ``p`` in ``[0, f]`` (default 1.0: each image
            inverted with probability ½); a pair ``(lower, upper)`` in ``[lower, upper]``.
        value_range: ``(lo, hi)``, the range of the pixel values (default ``(0, 255)``,
            kept as given, as Keras does).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[0.], [55.]]]], dtype="float32")
        >>> layer = RandomInvert()
        >>> layer.transform_images(x, {"apply_inversion": np.array([True])})[0, 0, :, 0]
        array([255., 200.], dtype=float32)
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed: int | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomInvert")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomInvert: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        self.value_range = value_range

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"apply_inversion": (N,) booleans}``: ``t < p`` (two draws, ``p`` first)."""
        n = self._batch(images)
        probability = self._uniform((n,), self.factor[0], self.factor[1])
        threshold = self._uniform((n,), 0.0, 1.0)
        return {"apply_inversion": threshold < probability}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, np.ndarray]:
        apply = np.asarray(transformation["apply_inversion"], dtype=bool)[:, None, None, None]
        high = images.dtype.type(self.value_range[1])
        return np.where(apply, high - images, images), apply

    def _augment_backward(self, grad_outputs: np.ndarray, apply: np.ndarray) -> np.ndarray:
        return np.where(apply, -grad_outputs, grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}
