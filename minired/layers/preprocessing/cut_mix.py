"""CutMix: paste a random rectangle of another image of the batch into each image."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer
from minired.random.seed_generator import make_generator


class CutMix(TransformationLayer):
    """Replace a random rectangle of each image by the same rectangle of another image of
    the batch while training; the identity at inference (and for a single image).

    Per batch, ``α ~ U[lower, upper) + 1e-6`` and a permutation ``π``; per image
    ``λ_n ~ Beta(α, α)``, a rectangle of relative sides ``r = sqrt(1 - λ_n)`` (area
    ``1 - λ_n``) at ``x0 = U[0, 1)·(W - r·W)``, ``x1 = x0 + r·W`` (``y0, y1`` from ``H``),
    and the mask ``m`` of the pixels with ``x0 ≤ column < x1`` and ``y0 ≤ row < y1``
    (Keras' transformation ``{"permutation_order": π, "batch_masks": m, "mix_weight":
    1 - box area}``)::

        a[n] = m_n·x[π(n)] + (1 - m_n)·x[n]

    Backward: ``δx[k] = (1 - m_k)·δa[k] + Σ_{n: π(n) = k} m_n·δa[n]``.

    Keras' CutMix also mixes the labels of a dict input by ``mix_weight``; minired's image
    layers take images only (``transformation`` holds the weights to mix your labels).

    Args:
        factor: a number ``f`` in [0, 1] draws ``α`` in ``[0, f]`` (default 1.0); a pair
            ``(lower, upper)`` in ``[lower, upper]``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1))]).astype("float32")
        >>> mask = np.zeros((2, 2, 2, 1), bool); mask[:, 0, 0] = True
        >>> t = {"permutation_order": np.array([1, 0]), "batch_masks": mask}
        >>> CutMix().transform_images(x, t)[0, :, :, 0]
        array([[1., 0.],
               [0., 0.]], dtype=float32)
    """

    def __init__(self, factor=1.0, seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "CutMix")

    def _bounds(self, n: int, length: int, ratio: np.ndarray, dtype) -> tuple:
        crop = (ratio * length).astype(dtype)
        start = self._uniform((n,), 0.0, 1.0) * (dtype(length) - crop)
        return start, start + crop

    def get_random_transformation(self, images: np.ndarray) -> dict | None:
        """``{"permutation_order", "batch_masks", "mix_weight"}`` (see the class docstring;
        None for a single image, as Keras)."""
        if images.ndim == 3:
            return None
        n, height, width, channels = images.shape
        dtype = images.dtype.type
        alpha = self._uniform((), self.factor[0], self.factor[1]) + dtype(1e-6)
        weights = make_generator(self.generator).beta(alpha, alpha, n).astype(dtype)
        ratio = np.sqrt(dtype(1.0) - weights)
        x0, x1 = self._bounds(n, width, ratio, dtype)
        y0, y1 = self._bounds(n, height, ratio, dtype)
        rows = np.arange(height, dtype=dtype)[None, :, None, None]
        cols = np.arange(width, dtype=dtype)[None, None, :, None]
        corners = [v[:, None, None, None] for v in (x0, x1, y0, y1)]
        masks = ((cols >= corners[0]) & (cols < corners[1]) & (rows >= corners[2])
                 & (rows < corners[3]))
        masks = np.repeat(masks, channels, axis=-1)
        mix_weight = dtype(1.0) - (x1 - x0) * (y1 - y0) / dtype(width * height)
        permutation = make_generator(self.generator).permutation(n)
        return {"permutation_order": permutation, "batch_masks": masks,
                "mix_weight": mix_weight}

    def _apply(self, images: np.ndarray, transformation: dict | None) -> tuple[np.ndarray,
                                                                              tuple | None]:
        if transformation is None:
            return images, None
        order = np.asarray(transformation["permutation_order"]).astype(np.int64)
        masks = np.asarray(transformation["batch_masks"], bool)
        return np.where(masks, images[order], images), (order, masks)

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, object]:
        # the base class hands a single image over as a batch of one: Keras leaves it as is
        if images.shape[0] == 1 and self._single_call:
            self.transformation = None
            return images, None
        return super()._augment(images)

    _single_call = False

    def forward(self, inputs: np.ndarray, training: bool | None = False) -> np.ndarray:
        self._single_call = np.ndim(inputs) == 3
        return super().forward(inputs, training=training)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple | None) -> np.ndarray:
        if state is None:
            return grad_outputs
        order, masks = state
        grad = np.where(masks, 0, grad_outputs)
        np.add.at(grad, order, np.where(masks, grad_outputs, 0))
        return grad

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``seed``."""
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
