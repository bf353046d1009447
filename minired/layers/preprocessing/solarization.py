"""Solarization: invert the pixel values above a random threshold."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import color_space
from minired.layers.preprocessing.random_image_layer import _is_number
from minired.layers.preprocessing.transformation_layer import TransformationLayer


def parse_solarization_factor(factor, name: str) -> tuple:
    """Keras' ``Solarization._set_factor``: a number ``f`` in [0, 1] means ``(0, f)``, a
    pair in [0, 1] is sorted."""
    message = (f"Solarization: the `addition_factor` and `threshold_factor` arguments "
               f"should be a number (or a list of two numbers) in the range [0, 1]. "
               f"Received: {name}={factor!r}")
    numbers = list(factor) if isinstance(factor, tuple | list) else [factor]
    if (isinstance(factor, tuple | list) and len(factor) != 2) or not all(
            _is_number(f) and 0 <= f <= 1 for f in numbers):
        raise ValueError(message)
    if len(numbers) == 1:
        return 0, factor
    lower, upper = sorted(factor)
    return lower, upper


class Solarization(TransformationLayer):
    """Add a random amount to each image and invert the values above a random threshold,
    while training; the identity at inference.

    Forward, per image ``n`` with ``d_n ~ U[add_lower, 255·add_upper)`` and
    ``t_n ~ U[thr_lower, 255·thr_upper)`` (Keras scales only the upper ends by 255; the
    transformation ``{"additions": d, "thresholds": t}``), on the values scaled to
    [0, 255] from ``value_range = (lo, hi)`` (``x' = (x - lo)/(hi - lo)·255``)::

        z = x' + d_n,     r = clip(z, 0, 255)
        a = (r if r < t_n else 255 - r)·(hi - lo)/255 + lo

    With the defaults (both factors 0) every threshold is 0 and every pixel is inverted.

    Backward, with ``σ = -1`` where ``r ≥ t_n`` (inverted) and ``+1`` elsewhere::

        δx = δa·σ·1[0 ≤ z ≤ 255]                (times (hi-lo)/255 and 255/(hi-lo))

    Args:
        addition_factor: a number ``f`` in [0, 1] means ``(0, f)``; a pair
            ``(lower, upper)`` in [0, 1] (default 0.0).
        threshold_factor: the same for the threshold (default 0.0).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, stored sorted, as a list).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[10.], [100.], [200.]]]], dtype="float32")
        >>> t = {"additions": np.zeros((1, 1, 1, 1)), "thresholds": np.full((1, 1, 1, 1), 128)}
        >>> Solarization().transform_images(x, t)[0, 0, :, 0]
        array([ 10., 100.,  55.], dtype=float32)
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, name=name, **kwargs)
        self.addition_factor = parse_solarization_factor(addition_factor, "addition_factor")
        self.threshold_factor = parse_solarization_factor(threshold_factor,
                                                          "threshold_factor")
        self.value_range = color_space.check_value_range(value_range, "Solarization")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"additions": d, "thresholds": t}``, each ``(N, 1, 1, 1)`` (``d`` drawn first)."""
        shape = (self._batch(images), 1, 1, 1)
        additions = self._uniform(shape, self.addition_factor[0],
                                  self.addition_factor[1] * 255)
        thresholds = self._uniform(shape, self.threshold_factor[0],
                                   self.threshold_factor[1] * 255)
        return {"additions": additions, "thresholds": thresholds}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        additions = self._cast(transformation["additions"], images).reshape(-1, 1, 1, 1)
        thresholds = self._cast(transformation["thresholds"], images).reshape(-1, 1, 1, 1)
        x = color_space.transform_value_range(images, self.value_range, (0, 255))
        z = x + additions
        passes = (z >= 0) & (z <= 255)
        r = np.clip(z, 0, 255)
        kept = r < thresholds
        r = np.where(kept, r, 255 - r)
        outputs = color_space.transform_value_range(r, (0, 255), self.value_range)
        return outputs.astype(images.dtype, copy=False), (kept, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        kept, passes = state
        low, high = (grad_outputs.dtype.type(v) for v in self.value_range)
        g = grad_outputs
        if (low, high) != (0, 255):                 # through the scalings, TF's order
            g = g * (high - low) / 255
        g = np.where(kept, g, -g) * passes
        if (low, high) != (0, 255):
            g = g * 255 / (high - low)
        return g

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``,
        ``value_range``, ``addition_factor``, ``threshold_factor``, ``seed``."""
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "seed": self.seed}
