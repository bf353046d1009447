"""RandomElasticTransform: deform some images of a batch by a smooth random displacement."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.random_image_layer import _is_number, parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer

#: Keras' ``_SUPPORTED_FILL_MODES`` ("mirror" passes the constructor, as in Keras, but
#: ``elastic_transform`` refuses it when the layer is called).
FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


class RandomElasticTransform(TransformationLayer):
    """Deform each image by :func:`~minired.ops.image.elastic_transform`, with a random
    probability, while training; the identity at inference.

    Draws (Keras' order): per image ``p_n ~ U[f_lo, f_hi)`` and ``b_n = 1[U[0, 1) < p_n]``
    (``apply_transform``); per batch ``s ~ U[s_lo, s_hi)`` (``distortion_factor``) and a
    seed for the noise. For images ``H × W``, ``α = max(H, W)·(0.1·s)`` and
    ``σ = min(H, W)·(0.05·s)``; with ``E(x)`` the elastic transform (a weighted gather
    ``Σ_k w_k·x[q_k]``)::

        z = b_n·E(x) + (1 - b_n)·x
        a = clip(z, lo, hi)                       (every image, deformed or not)

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` and ``Eᵀ`` the gather's adjoint (the weighted
    scatter back, :func:`~minired.layers.preprocessing.image_transform.resample_adjoint`)::

        δx = b_n·Eᵀ(g) + (1 - b_n)·g

    Args:
        factor: the probability of deforming an image: a number ``f`` in [0, 1] draws it in
            ``[0, f]`` (default 1.0), a pair in ``[lower, upper]``.
        scale: the size of the deformation: a number ``s`` in [0, 1] draws it in
            ``[0, s]`` (default 1.0), a pair in ``[lower, upper]``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"constant"``, ``"nearest"`` or ``"wrap"``.
        fill_value: the value outside the image in constant mode (default 0.0).
        value_range: ``(lo, hi)`` (default ``(0, 255)``, kept as given, as Keras does).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(32, dtype="float32").reshape(2, 4, 4, 1)
        >>> t = {"apply_transform": np.array([True, False]),
        ...      "distortion_factor": np.float32(1.0), "seed": 0}
        >>> a = RandomElasticTransform().transform_images(x, t)
        >>> bool(np.array_equal(a[0], x[0])), bool(np.array_equal(a[1], x[1]))
        (False, True)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, value_range=(0, 255),
                 seed: int | None = None, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomElasticTransform")
        self.scale = parse_factor(scale, (0, 1), "RandomElasticTransform", name="scale")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of "
                                      "one ('nearest', 'bilinear').")
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                                      f"{FILL_MODES}.")
        if not _is_number(fill_value):
            raise TypeError("RandomElasticTransform: `fill_value` must be a number, got "
                            f"{fill_value!r}.")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomElasticTransform: `value_range` must be a pair (min, max),"
                             f" got {value_range!r}.")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, images: np.ndarray) -> dict | None:
        """``{"apply_transform": (N,) booleans, "distortion_factor": s, "seed": the layer's
        generator}``, or None when ``scale`` or ``factor`` can only be 0 (Keras')."""
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = self._batch(images)
        probability = self._uniform((n,), self.factor[0], self.factor[1])
        apply = self._uniform((n,), 0.0, 1.0) < probability
        distortion = self._uniform((), self.scale[0], self.scale[1])
        return {"apply_transform": apply, "distortion_factor": distortion,
                "seed": self.generator}

    def _apply(self, images: np.ndarray, transformation: dict | None) -> tuple[np.ndarray,
                                                                                 tuple | None]:
        # imported here: minired.ops.image reads the layers package, which reads this file
        from minired.ops import image_elastic

        if transformation is None:
            return images, None
        image_elastic.check_elastic_arguments(self.interpolation, self.fill_mode)
        dtype = images.dtype.type
        n, height, width = images.shape[:3]
        s = dtype(transformation["distortion_factor"])
        alpha = dtype(max(height, width)) * (dtype(0.1) * s)
        sigma = dtype(min(height, width)) * (dtype(0.05) * s)
        noise = image_elastic.draw_noise((n, height, width), images.dtype,
                                         transformation["seed"])
        sampling = image_elastic.elastic_sampling(noise, alpha, sigma, self.interpolation,
                                                  self.fill_mode)
        deformed = image_transform.resample(images, sampling, self.fill_value)
        apply = np.asarray(transformation["apply_transform"], bool)[:, None, None, None]
        z = np.where(apply, deformed, images)
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (sampling, apply, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple | None) -> np.ndarray:
        if state is None:
            return grad_outputs
        sampling, apply, passes = state
        g = grad_outputs * passes
        return np.where(apply, image_transform.resample_adjoint(g, sampling), g)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``scale``, ``interpolation``, ``fill_mode``, ``fill_value``, ``value_range``,
        ``seed``."""
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "value_range": self.value_range,
                "seed": self.seed}
