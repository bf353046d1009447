"""RandomShear: slant each image by a random shear, along x and along y."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.random_image_layer import RandomAffineLayer, _is_number


def parse_shear_factor(factor, name: str) -> tuple:
    """Keras' ``RandomShear._set_factor_with_name``: a number ``f`` in [0, 1] means
    ``(-f, f)``, a pair in [0, 1] is sorted."""
    message = ("RandomShear: the `factor` argument should be a number (or a list of two "
               f"numbers) in the range [0, 1.0]. Received: {name}={factor!r}")
    numbers = list(factor) if isinstance(factor, tuple | list) else [factor]
    if (isinstance(factor, tuple | list) and len(factor) != 2) or not all(
            _is_number(f) and 0 <= f <= 1 for f in numbers):
        raise ValueError(message)
    if len(numbers) == 1:
        return -abs(factor), abs(factor)
    lower, upper = sorted(factor)
    return lower, upper


class RandomShear(RandomAffineLayer):
    """Shear each image by random factors while training; the identity at inference.

    Per image ``n``, with ``s_x ~ U[x_lower, x_upper)``, ``s_y ~ U[y_lower, y_upper)`` and
    one sign ``σ_n`` (``-1`` if ``U[0, 1) > ½``) for both (Keras' transformation
    ``{"shear_factor": σ·(s_x, s_y)}``, ``(N, 2)``), each output pixel ``(x, y)`` shows the
    input at (a shear about the top-left corner, not the centre)::

        x_in = x + σ·s_x·y
        y_in = σ·s_y·x + y

    interpolated and filled outside the image as in
    :mod:`~minired.layers.preprocessing.image_transform` (TensorFlow computes these
    coordinates in float32: dyadic factors are exact).

    Backward: for the drawn shear the output is linear in the image, ``a = Σ_k w_k·x[q_k]``,
    and ``δx`` is its adjoint, ``δx[q] = Σ w_k·δa`` over the outputs that read ``q``.
    (TensorFlow's registered gradient warps ``δa`` by the inverse shear instead, which
    equals the adjoint only when the shear moves whole pixels.)

    Args:
        x_factor: a number ``f`` in [0, 1] draws ``s_x`` in ``[-f, f]``; a pair
            ``(lower, upper)`` in [0, 1] in ``[lower, upper]`` (default 0.0).
        y_factor: the same for ``s_y`` (default 0.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside the image when ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.arange(6, dtype="float32").reshape(1, 2, 3, 1)
        >>> layer = RandomShear(x_factor=1.0, fill_mode="constant")
        >>> layer.transform_images(x, {"shear_factor": np.array([[1.0, 0.0]])})[0, :, :, 0]
        array([[0., 1., 2.],
               [4., 5., 0.]], dtype=float32)
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, data_format=None,
                 seed: int | None = None, name: str | None = None, **kwargs) -> None:
        for value, choices, what in ((fill_mode, image_transform.FILL_MODES, "fill_mode"),
                                     (interpolation, image_transform.INTERPOLATIONS,
                                      "interpolation")):
            if value not in choices:              # Keras raises NotImplementedError here
                raise NotImplementedError(f"RandomShear: unknown `{what}` {value!r}. "
                                          f"Expected one of {choices}.")
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, name=name, **kwargs)
        self.x_factor = parse_shear_factor(x_factor, "x_factor")
        self.y_factor = parse_shear_factor(y_factor, "y_factor")

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"shear_factor": σ·(s_x, s_y)}``, ``(N, 2)`` (the sign drawn first, then
        ``s_y``, then ``s_x``, as Keras)."""
        n = images.shape[0] if images.ndim == 4 else 1
        sign = np.where(self._uniform((n, 1), 0.0, 1.0) > 0.5, -1, 1).astype(images.dtype)
        shear_y = self._uniform((n, 1), self.y_factor[0], self.y_factor[1])
        shear_x = self._uniform((n, 1), self.x_factor[0], self.x_factor[1])
        return {"shear_factor": np.concatenate([shear_x, shear_y], axis=1) * sign}

    def transform_images(self, images, transformation: dict) -> np.ndarray:
        """Apply ``transformation`` to a batch (Keras' ``transform_images`` while training)."""
        images = np.asarray(images).astype(self._float_dtype(), copy=False)
        single = images.ndim == 3
        batch = images[None] if single else images
        transforms = shear_transforms(np.asarray(transformation["shear_factor"],
                                                 dtype=batch.dtype))
        sampling = image_transform.sampling_plan(transforms, batch.shape[1:3],
                                                 self.interpolation, self.fill_mode,
                                                 batch.dtype)
        outputs = image_transform.resample(batch, sampling, self.fill_value)
        return outputs[0] if single else outputs

    def _transforms(self, images: np.ndarray) -> np.ndarray:
        self.transformation = self.get_random_transformation(images)
        return shear_transforms(self.transformation["shear_factor"])

    transformation: dict | None = None
    """The parameters drawn by the last training call."""

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``x_factor``,
        ``y_factor``, ``fill_mode``, ``interpolation``, ``seed``, ``fill_value``."""
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor,
                "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


def shear_transforms(shear: np.ndarray) -> np.ndarray:
    """The ``(N, 8)`` transforms ``[1, s_x, 0, s_y, 1, 0, 0, 0]`` of shears ``(N, 2)``."""
    ones, zeros = np.ones_like(shear[:, 0]), np.zeros_like(shear[:, 0])
    return np.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros],
                    axis=1)
