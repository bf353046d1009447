"""RandomGaussianBlur: blur some images of a batch with a Gaussian kernel of random width."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_image_layer import _is_number, parse_factor
from minired.layers.preprocessing.transformation_layer import TransformationLayer


def gaussian_kernel(kernel_size: tuple, sigma: np.ndarray, dtype) -> np.ndarray:
    """Keras' (TensorFlow backend's) ``gaussian_blur`` kernel: ``g(t) = exp(-½(t/σ)²)`` at
    ``t = 0 - (k-1)/2, …, (k-1)/2``, normalized to sum 1, along x (``k_0``, ``σ_0``) and y
    (``k_1``, ``σ_1``); ``K = outer(g_y, g_x)`` laid out as ``(k_0, k_1)`` (Keras reshapes
    the ``(k_1, k_0)`` product, which only matters when the two sizes differ)."""
    def one_d(size: int, s) -> np.ndarray:
        t = np.arange(size, dtype=dtype) - dtype((size - 1) / 2)
        g = np.exp(dtype(-0.5) * (t / s) ** 2)
        return g / np.sum(g)

    sigma = np.asarray(sigma, dtype=dtype)
    kernel = np.multiply.outer(one_d(kernel_size[1], sigma[1]), one_d(kernel_size[0], sigma[0]))
    return kernel.reshape(kernel_size[0], kernel_size[1])


def correlate_same(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each channel correlated with ``kernel`` (odd sides), zeros around the image
    (``tf.nn.depthwise_conv2d(..., padding="SAME")``):
    ``a[i, j] = Σ_ab K[a, b]·x[i + a - p, j + b - q]``."""
    rows, cols = kernel.shape
    p, q = (rows - 1) // 2, (cols - 1) // 2
    height, width = images.shape[1:3]
    padded = np.pad(images, ((0, 0), (p, rows - 1 - p), (q, cols - 1 - q), (0, 0)))
    total = np.zeros_like(images)
    for a in range(rows):                           # a loop over the kernel, not the pixels
        for b in range(cols):
            total = total + kernel[a, b] * padded[:, a:a + height, b:b + width]
    return total


class RandomGaussianBlur(TransformationLayer):
    """Blur each image with a Gaussian kernel, with a random probability, while training;
    the identity at inference.

    Per batch (Keras' draws): ``σ = U[σ_lo, σ_hi) + 1e-6`` along x and along y (one pair for
    the whole batch, Keras' ``blur_factor``); per image ``p_n ~ U[lower, upper)`` and
    ``b_n = 1[U[0, 1) < p_n]`` (``should_apply_blur``). With ``K`` the normalized kernel of
    :func:`gaussian_kernel` and ``K ⋆ x`` the correlation of :func:`correlate_same`::

        z = b_n·(K ⋆ x) + (1 - b_n)·x
        a = clip(z, lo, hi)                       (every image, blurred or not)

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` and ``K'`` the kernel turned by 180°
    (the adjoint of a correlation is the correlation with the turned kernel)::

        δx = b_n·(K' ⋆ g) + (1 - b_n)·g

    Args:
        factor: a number ``f`` in [0, 1] draws ``p`` in ``[0, f]`` (default 1.0); a pair
            ``(lower, upper)`` in ``[lower, upper]``.
        kernel_size: an odd number ``k`` (``(k, k)``) or two odd numbers (default 3).
        sigma: a number ``s`` in [0, 1] draws ``σ`` in ``[0, s]`` (default 1.0); a pair in
            [0, 1] in ``[σ_lo, σ_hi]``.
        value_range: ``(lo, hi)`` (default ``(0, 255)``, kept as given, as Keras does).
        data_format: ``"channels_last"`` (or None).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        name: layer name.

    Example:
        >>> x = np.zeros((1, 3, 3, 1), dtype="float32"); x[0, 1, 1, 0] = 100.0
        >>> t = {"should_apply_blur": np.array([True]), "blur_factor": np.array([1e3, 1e3])}
        >>> RandomGaussianBlur().transform_images(x, t)[0, :, :, 0].round(2)    # σ → ∞
        array([[11.11, 11.11, 11.11],
               [11.11, 11.11, 11.11],
               [11.11, 11.11, 11.11]], dtype=float32)
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed: int | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.factor = parse_factor(factor, (0, 1), "RandomGaussianBlur")
        self.kernel_size = parse_kernel_size(kernel_size)
        self.sigma = parse_factor(sigma, (0, 1), "RandomGaussianBlur", name="sigma")
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError("RandomGaussianBlur: `value_range` must be a pair (min, max), "
                             f"got {value_range!r}.")
        self.value_range = value_range

    def get_random_transformation(self, images: np.ndarray) -> dict:
        """``{"should_apply_blur": (N,) booleans, "blur_factor": (σ_x, σ_y)}``."""
        n = self._batch(images)
        probability = self._uniform((n,), self.factor[0], self.factor[1])
        apply = self._uniform((n,), 0.0, 1.0) < probability
        sigma = self._uniform((2,), self.sigma[0], self.sigma[1]) + images.dtype.type(1e-6)
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        kernel = gaussian_kernel(self.kernel_size, transformation["blur_factor"],
                                 images.dtype.type)
        apply = np.asarray(transformation["should_apply_blur"], bool)[:, None, None, None]
        z = np.where(apply, correlate_same(images, kernel), images)
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), (kernel, apply, passes)

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        kernel, apply, passes = state
        g = grad_outputs * passes
        return np.where(apply, correlate_same(g, kernel[::-1, ::-1]), g)

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``factor``,
        ``kernel_size``, ``sigma``, ``value_range``, ``seed``."""
        return {**super().get_config(), "factor": self.factor,
                "kernel_size": self.kernel_size, "sigma": self.sigma,
                "value_range": self.value_range, "seed": self.seed}


def parse_kernel_size(kernel_size) -> tuple:
    """Keras' ``_set_kernel_size``: an odd number ``k`` means ``(k, k)``; a pair of odd
    numbers is kept."""
    message = ("RandomGaussianBlur: kernel_size must be an odd number (or a list of two "
               f"odd numbers). Received: kernel_size={kernel_size!r}")
    sizes = list(kernel_size) if isinstance(kernel_size, tuple | list) else [kernel_size]
    if (isinstance(kernel_size, tuple | list) and len(kernel_size) != 2) or not all(
            _is_number(k) and float(k).is_integer() and k > 0 and k % 2 == 1 for k in sizes):
        raise ValueError(message)
    if len(sizes) == 1:
        return kernel_size, kernel_size
    return kernel_size[0], kernel_size[1]
