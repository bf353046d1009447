"""RandomErasing: cover a random rectangle of each image with noise or a fixed value."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import _is_number, parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer
from minired.random.seed_generator import make_generator


class RandomErasing(TransformationLayer):
    """Erase a random rectangle of each image, with a random probability, while training;
    the identity at inference.

    Per image ``n`` (Keras' order of draws): the rectangle's relative sides
    ``(w_x, w_y) = sqrt(U[s_lo, s_hi))`` (so it covers about ``s`` of the area), its
    corners ``x0 = U[0, 1)·(W - w_x·W)``, ``x1 = x0 + w_x·W`` (and ``y0, y1`` from ``H``),
    an erasing probability ``p ~ U[lower, upper)`` and ``e_n = 1[U[0, 1) < p]``. The pixels
    with ``x0 ≤ column < x1`` and ``y0 ≤ row < y1`` form the mask ``m``; the fill ``f`` is
    ``fill_value`` (a number, or one per channel) or, with None, Gaussian noise
    ``N(0, 1)·hi`` per pixel, clipped to ``value_range = (lo, hi)``::

        a = f       where e_n·m = 1
            x       elsewhere

    Keras' transformation: ``{"apply_erasing": e (N,), "batch_masks": m (N, H, W, C),
    "fill_value": f (N, H, W, C)}``.

    Backward: ``δx = δa·(1 - e_n·m)`` (the fill does not depend on ``x``).

    Args:
        factor: a number ``f`` in [0, 1] draws ``p`` in ``[0, f]`` (default 1.0); a pair
            ``(lower, upper)`` in ``[lower, upper]``.
        scale: the erased fraction of the area, ``(s_lo, s_hi)`` in [0, 1] (default
            ``(0.02, 0.33)``; a number ``s`` means ``(0, s)``).
        fill_value: None (noise, the default), a number, or 3 numbers (one per channel).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, kept as given, as Keras does).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.ones((1, 2, 3, 1), dtype="float32")
        >>> mask = np.zeros((1, 2, 3, 1), bool); mask[0, :, 1] = True
        >>> t = {"apply_erasing": np.array([True]), "batch_masks": mask,
        ...      "fill_value": np.zeros((1, 2, 3, 1))}
        >>> RandomErasing().transform_images(x, t)[0, :, :, 0]
        array([[1., 0., 1.],
               [1., 0., 1.]], dtype=float32)
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None,
                 value_range=(0, 255), seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomErasing")
        self.scale = parse_factor(scale, (0, 1), "RandomErasing", name="scale")
        valid = fill_value is None or _is_number(fill_value) or (
            isinstance(fill_value, tuple | list) and len(fill_value) == 3
            and all(_is_number(v) for v in fill_value))
        if not valid:                         # Keras refuses it at the first call
            raise ValueError("RandomErasing: the `fill_value` argument should be a number "
                             f"(or a list of three numbers). Received: {fill_value!r}")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomErasing: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        self.fill_value = fill_value
        self.value_range = value_range

    def _bounds(self, n: int, length: int, ratio: np.ndarray, dtype) -> tuple:
        """Keras' ``_compute_crop_bounds``: ``start = U[0, 1)·(L - r·L)``, ``end = start +
        r·L``."""
        crop = (ratio * length).astype(dtype)
        start = self._uniform((n,), 0.0, 1.0) * (dtype(length) - crop)
        return start, start + crop

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"apply_erasing", "batch_masks", "fill_value"}`` (see the class docstring)."""
        n, height, width, channels = images.shape
        dtype = images.dtype.type
        sides = np.sqrt(self._uniform((n, 2), self.scale[0], self.scale[1]))
        x0, x1 = self._bounds(n, width, sides[:, 0], dtype)
        y0, y1 = self._bounds(n, height, sides[:, 1], dtype)
        rows = np.arange(height, dtype=dtype)[None, :, None, None]
        cols = np.arange(width, dtype=dtype)[None, None, :, None]
        x0, x1, y0, y1 = (v[:, None, None, None] for v in (x0, x1, y0, y1))
        masks = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        masks = np.repeat(masks, channels, axis=-1)
        probability = self._uniform((n,), self.factor[0], self.factor[1])
        apply = self._uniform((n,), 0.0, 1.0) < probability
        if self.fill_value is None:
            noise = make_generator(self.generator).standard_normal(images.shape)
            fill = noise.astype(dtype) * dtype(self.value_range[1])
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, dtype=dtype), images.shape)
        fill = np.clip(fill, self.value_range[0], self.value_range[1]).astype(dtype)
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": fill}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, np.ndarray]:
        apply = np.asarray(transformation["apply_erasing"], bool)[:, None, None, None]
        erased = apply & np.asarray(transformation["batch_masks"], bool)
        fill = self._cast(transformation["fill_value"], images)
        return np.where(erased, fill, images), erased

    def _augment_backward(self, grad_outputs: np.ndarray, erased: np.ndarray) -> np.ndarray:
        return np.where(erased, 0, grad_outputs).astype(grad_outputs.dtype, copy=False)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``scale``, ``fill_value``, ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}
