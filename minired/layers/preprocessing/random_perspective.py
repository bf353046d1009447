"""RandomPerspective: move each image's corners at random and warp it to match."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.random_image_layer import _is_number, parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer


def homographies(start_points: np.ndarray, end_points: np.ndarray) -> np.ndarray:
    """The ``(N, 8)`` projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]`` that send
    each ``end`` corner to its ``start`` corner (Keras' ``compute_homography_matrix``: the
    8×8 system of the four pairs, solved per image). An output pixel ``(x, y)`` then shows
    the input at ``((a0·x + a1·y + a2)/k, (b0·x + b1·y + b2)/k)``, ``k = c0·x + c1·y + 1``."""
    (sx, sy), (ex, ey) = np.moveaxis(start_points, -1, 0), np.moveaxis(end_points, -1, 0)
    zeros, ones = np.zeros_like(ex), np.ones_like(ex)
    rows_x = np.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    rows_y = np.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    matrix = np.stack([rows_x, rows_y], axis=2).reshape(-1, 8, 8)    # corner by corner
    target = np.stack([sx, sy], axis=-1).reshape(-1, 8)
    return np.linalg.solve(matrix, target[..., None])[..., 0]


class RandomPerspective(TransformationLayer):
    """Warp each image by a random perspective, with a random probability, while training;
    the identity at inference.

    Per image ``n``: ``p_n ~ U[lower, upper)``, ``b_n = 1[U[0, 1) < p_n]``
    (``apply_perspective``), and each corner ``s`` of the image (``(0, 0)``, ``(W-1, 0)``,
    ``(0, H-1)``, ``(W-1, H-1)``) moved to ``e = s + s·d``, ``d ~ U[-scale/2, scale/2)``
    per coordinate (the top-left corner never moves). The warp sends each ``e`` back to its
    ``s`` (:func:`homographies`); the output is the input read there, interpolated, and
    ``fill_value`` outside the image (Keras' ``start_points``/``end_points``; TensorFlow
    solves and samples in float32 whatever the dtype)::

        a = b_n·warp(x) + (1 - b_n)·x,       warp(x)[p] = Σ_k w_k·x[q_k] + fill·w_out

    Backward: for the drawn warp the output is linear in the image, and ``δx`` is its
    adjoint, ``b_n·Σ w_k·δa`` scattered back to the read pixels, plus ``(1 - b_n)·δa``
    (TensorFlow's registered gradient warps ``δa`` by the inverse instead, as for
    RandomRotation).

    Args:
        factor: a number ``f`` in [0, 1] draws ``p`` in ``[0, f]`` (default 1.0); a pair
            ``(lower, upper)`` in ``[lower, upper]``.
        scale: how far the corners move, in [0, 1] (default 1.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value outside the image (default 0.0).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
        >>> corners = np.array([[[0., 0.], [2., 0.], [0., 2.], [2., 2.]]])
        >>> t = {"apply_perspective": np.array([True]), "start_points": corners,
        ...      "end_points": corners * 2}                      # everything twice as large
        >>> RandomPerspective().transform_images(x, t)[0, :, :, 0]
        array([[0. , 0.5, 1. ],
               [1.5, 2. , 2.5],
               [3. , 3.5, 4. ]], dtype=float32)
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation: str = "bilinear",
                 fill_value=0.0, seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomPerspective")
        if not _is_number(scale) or scale < 0.0 or scale > 1.0:
            raise ValueError("RandomPerspective: the `scale` argument should be a number in "
                             f"the range [0,1]. Received: scale={scale!r}")
        if interpolation not in image_transform.INTERPOLATIONS:
            raise NotImplementedError(f"RandomPerspective: unknown `interpolation` "
                                      f"{interpolation!r}. Expected one of "
                                      f"{image_transform.INTERPOLATIONS}.")
        if not _is_number(fill_value):
            raise TypeError(f"RandomPerspective: `fill_value` must be a number, got "
                            f"{fill_value!r}.")
        self.scale = scale
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"apply_perspective": (N,), "start_points": (N, 4, 2), "end_points":
        (N, 4, 2)}``."""
        n, height, width = images.shape[:3]
        dtype = images.dtype.type
        probability = self._uniform((n,), self.factor[0], self.factor[1])
        apply = self._uniform((n,), 0.0, 1.0) < probability
        moves = self._uniform((n, 4, 2), -0.5 * self.scale, 0.5 * self.scale)
        start = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                          [width - 1, height - 1]], dtype=dtype)
        start = np.repeat(start[None], n, axis=0)
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * moves}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        start = np.asarray(transformation["start_points"], np.float64)
        end = np.asarray(transformation["end_points"], np.float64)
        transforms = homographies(start, end).astype(images.dtype)
        sampling = image_transform.sampling_plan(transforms, images.shape[1:3],
                                                 self.interpolation, "constant",
                                                 images.dtype.type)
        warped = image_transform.resample(images, sampling, self.fill_value)
        apply = np.asarray(transformation["apply_perspective"], bool)[:, None, None, None]
        return np.where(apply, warped, images), (sampling, apply)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        sampling, apply = state
        warped = image_transform.resample_adjoint(np.where(apply, grad_outputs, 0), sampling)
        return warped + np.where(apply, 0, grad_outputs)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``scale``, ``interpolation``, ``fill_value``, ``seed``."""
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value,
                "seed": self.seed}
