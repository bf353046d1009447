"""MixUp: blend each image with another image of the batch."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.transformation_layer import TransformationLayer
from minired.random.seed_generator import make_generator


class MixUp(TransformationLayer):
    """Blend each image with another image of the same batch while training; the identity
    at inference.

    Per batch, a random permutation ``π`` of the images and per image ``λ_n ~ Beta(α, α)``
    (Keras' transformation ``{"mix_weight": λ, "permutation_order": π}``)::

        a[n] = λ_n·x[n] + (1 - λ_n)·x[π(n)]

    Backward (each image is read by its own output and by the output that mixes it in)::

        δx[m] = λ_m·δa[m] + Σ_{n: π(n) = m} (1 - λ_n)·δa[n]

    Keras' MixUp also mixes the labels of a dict input ``{"images", "labels"}`` with the
    same ``λ`` and ``π``; minired's image layers take images only, so its MixUp mixes the
    images (use ``transformation`` to mix your labels the same way).

    Args:
        alpha: the parameter of the Beta distribution (default 0.2: most ``λ`` near 0 or 1).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.array([[[[0.]]], [[[10.]]]], dtype="float32")
        >>> t = {"mix_weight": np.array([0.75, 0.5]), "permutation_order": np.array([1, 0])}
        >>> MixUp().transform_images(x, t).ravel()
        array([2.5, 5. ], dtype=float32)
    """

    def __init__(self, alpha: float = 0.2, data_format=None, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
            raise ValueError(f"MixUp: `alpha` must be a positive number, got {alpha!r}.")
        self.alpha = alpha

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"mix_weight": λ (N,), "permutation_order": π (N,)}`` (``π`` drawn first)."""
        n = self._batch(images)
        permutation = make_generator(self.generator).permutation(n)
        weights = make_generator(self.generator).beta(self.alpha, self.alpha, n)
        return {"mix_weight": weights.astype(images.dtype), "permutation_order": permutation}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        weight = self._cast(transformation["mix_weight"], images).reshape(-1, 1, 1, 1)
        order = np.asarray(transformation["permutation_order"]).astype(np.int64)
        outputs = weight * images + (1.0 - weight) * images[order]
        return outputs.astype(images.dtype, copy=False), (weight, order)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        weight, order = state
        grad = weight * grad_outputs
        np.add.at(grad, order, (1.0 - weight) * grad_outputs)
        return grad

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``alpha``,
        ``seed``."""
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}
