"""Random initializers: normal, truncated normal and uniform draws, and variance scaling.

NumPy cannot reproduce TensorFlow's random streams (Philox-based stateless kernels), so
minired matches Keras' *distributions*, not its numbers; to compare with Keras value for
value, copy Keras' initial weights into the model.

Seeds work as in Keras: an unseeded initializer draws its seed from minired's global
generator when it is *created*, so calling the same instance twice gives identical arrays,
and :func:`minired.utils.set_random_seed` makes the whole run reproducible.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from minired.initializers.initializer import Initializer, standardize_dtype, standardize_shape
from minired.utils.rng_utils import draw_seed, make_generator

# The standard deviation of N(0, 1) truncated to [-2, 2]. Dividing the requested stddev by
# it makes the *truncated* samples have the requested spread.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


class RandomInitializer(Initializer):
    """Base class of random initializers: holds the seed.

    Args:
        seed: an int for reproducible values, or ``None`` to draw one now from the global
            generator (fixed for this instance's lifetime).
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
        ):
            raise ValueError(
                f"{type(self).__name__}: `seed` must be an int or None, got {seed!r} "
                f"({type(seed).__name__})."
            )
        self._init_seed = seed
        self.seed = draw_seed() if seed is None else int(seed)

    def _generator(self) -> np.random.Generator:
        """A fresh generator from the fixed seed: every call draws the same numbers."""
        return make_generator(self.seed)

    def _float_dtype(self, dtype) -> np.dtype:
        dtype = standardize_dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(
                f"{type(self).__name__}: `dtype` must be a float dtype, got {dtype}."
            )
        return dtype

    def get_config(self) -> dict:
        # Keras serializes the seed as given: an unseeded initializer stays unseeded.
        return {"seed": self._init_seed}


def normal(rng, shape, mean: float, stddev: float, dtype: np.dtype) -> np.ndarray:
    """Samples of ``N(mean, stddev²)``: ``z·stddev + mean`` with ``z ~ N(0, 1)``."""
    z = rng.standard_normal(shape).astype(dtype)
    return z * dtype.type(stddev) + dtype.type(mean)


def truncated_normal(rng, shape, mean: float, stddev: float, dtype: np.dtype) -> np.ndarray:
    """Samples of ``N(mean, stddev²)`` restricted to ``mean ± 2·stddev``.

    Like TensorFlow: draw ``z ~ N(0, 1)`` and redraw every ``|z| > 2`` until none is left
    (about 4.6% of the draws each round), then return ``z·stddev + mean``. The standard
    deviation of the result is ``0.8796·stddev``, not ``stddev``.
    """
    z = rng.standard_normal(shape)
    outside = np.abs(z) > 2
    while outside.any():
        z[outside] = rng.standard_normal(np.count_nonzero(outside))
        outside = np.abs(z) > 2
    return z.astype(dtype) * dtype.type(stddev) + dtype.type(mean)


def uniform(rng, shape, minval: float, maxval: float, dtype: np.dtype) -> np.ndarray:
    """Samples of ``U[minval, maxval)``: ``u·(maxval - minval) + minval`` with ``u ~ U[0, 1)``."""
    # Draw u in the target precision: a float64 u just below 1 could round up to 1.0.
    draw_dtype = np.float32 if dtype.itemsize <= 4 else np.float64
    u = rng.random(shape, dtype=draw_dtype).astype(dtype)
    low, high = dtype.type(minval), dtype.type(maxval)
    return u * (high - low) + low


class RandomNormal(RandomInitializer):
    """Normal draws: ``w ~ N(mean, stddev²)``, not truncated.

    Args:
        mean: the mean (default 0.0).
        stddev: the standard deviation (default **0.05**, not 1).
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> RandomNormal(seed=0)((2, 3)).shape
        (2, 3)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = self._float_dtype(dtype)
        return normal(self._generator(), standardize_shape(shape), self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Truncated normal draws: ``w ~ N(mean, stddev²)`` restricted to ``mean ± 2·stddev``.

    Values beyond two standard deviations are redrawn, so the empirical standard deviation
    is ``0.88·stddev``.

    Args:
        mean: the mean (default 0.0).
        stddev: the standard deviation before truncation (default 0.05).
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = TruncatedNormal(stddev=1.0, seed=0)((1000,))
        >>> bool(np.abs(w).max() <= 2.0)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = self._float_dtype(dtype)
        return truncated_normal(
            self._generator(), standardize_shape(shape), self.mean, self.stddev, dtype
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform draws: ``w ~ U[minval, maxval)``.

    Args:
        minval: lower bound, included (default -0.05).
        maxval: upper bound, excluded (default 0.05).
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = RandomUniform(seed=0)((1000,))
        >>> bool(w.min() >= -0.05 and w.max() < 0.05)
        True
    """

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = self._float_dtype(dtype)
        return uniform(self._generator(), standardize_shape(shape), self.minval, self.maxval, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(
    shape: tuple[int, ...],
    input_axes: tuple[int, ...] | None = None,
    output_axes: tuple[int, ...] | None = None,
) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)``: how many inputs feed one unit, and how many units one
    input feeds.

    - Dense kernel ``(in, out)``: ``(in, out)``.
    - Conv kernel ``(*window, in_channels, out_channels)``: both multiplied by the window size.
    - 1-D shape ``(n,)``: ``(n, n)``; a scalar shape ``()``: ``(1, 1)``.
    - With ``input_axes`` and ``output_axes``: the products of those dimensions.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = math.prod(shape[axis] for axis in input_axes)
        fan_out = math.prod(shape[axis] for axis in output_axes)
    elif len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field_size = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


class VarianceScaling(RandomInitializer):
    """Random weights whose variance is ``scale / fan``: the family behind Glorot, He, LeCun.

    With ``n = fan_in``, ``fan_out`` or ``(fan_in + fan_out)/2`` (``mode``) and
    ``s = scale / max(1, n)``::

        "truncated_normal":    N(0, σ²) truncated at ±2σ, σ = sqrt(s) / 0.8796...
                               (so the truncated samples have variance s)
        "untruncated_normal":  N(0, s)
        "uniform":             U[-sqrt(3s), sqrt(3s))        (a uniform of variance s)

    ``distribution="normal"`` is read as ``"truncated_normal"``, as in Keras.

    Keeping ``Var(w) = 1/fan_in`` keeps the variance of activations roughly constant from
    layer to layer; ``1/fan_out`` does the same for gradients; ``fan_avg`` compromises.

    Args:
        scale: multiplies the variance (> 0; default 1.0).
        mode: ``"fan_in"`` (default), ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (default), ``"untruncated_normal"``,
            ``"normal"`` (same as truncated) or ``"uniform"``; case-insensitive.
        seed: an int, or ``None`` (drawn once, at creation).
        input_axes, output_axes: for unusual kernel layouts, the axes whose sizes multiply
            into fan_in and fan_out (both must be given).

    Example:
        >>> w = VarianceScaling(scale=2.0, distribution="uniform", seed=0)((100, 10))
        >>> bool(np.abs(w).max() <= np.sqrt(3 * 2.0 / 100))
        True
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes: tuple[int, ...] | None = None,
        output_axes: tuple[int, ...] | None = None,
    ) -> None:
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(f"VarianceScaling: `scale` must be a float > 0, got {scale!r}.")
        allowed_modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in allowed_modes:
            raise ValueError(
                f"VarianceScaling: `mode` must be one of {allowed_modes}, got {mode!r}."
            )
        allowed_distributions = ("truncated_normal", "untruncated_normal", "normal", "uniform")
        if not isinstance(distribution, str) or distribution.lower() not in allowed_distributions:
            raise ValueError(
                f"VarianceScaling: `distribution` must be one of {allowed_distributions}, "
                f"got {distribution!r}."
            )
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = self._float_dtype(dtype)
        shape = standardize_shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, fan[self.mode])
        rng = self._generator()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV
            return truncated_normal(rng, shape, 0.0, stddev, dtype)
        if self.distribution == "untruncated_normal":
            return normal(rng, shape, 0.0, math.sqrt(variance), dtype)
        limit = math.sqrt(3.0 * variance)
        return uniform(rng, shape, -limit, limit, dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _PresetVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed scale/mode/distribution (Glorot, He and LeCun)."""

    SCALE: float = 1.0
    MODE: str = "fan_in"
    DISTRIBUTION: str = "truncated_normal"

    def __init__(
        self,
        seed: int | None = None,
        input_axes: tuple[int, ...] | None = None,
        output_axes: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(
            scale=self.SCALE,
            mode=self.MODE,
            distribution=self.DISTRIBUTION,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict:
        return {
            "seed": self._init_seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_PresetVarianceScaling):
    """Glorot (Xavier) uniform: ``w ~ U[-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Keras' default kernel initializer (``Dense``, ``Conv``).

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = GlorotUniform(seed=0)((4, 2))
        >>> bool(np.abs(w).max() <= 1.0)      # sqrt(6 / 6)
        True
    """

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_PresetVarianceScaling):
    """Glorot (Xavier) normal: truncated ``N(0, σ²)``, ``σ = sqrt(2/(fan_in + fan_out)) / 0.8796``.

    After truncation at ±2σ the samples have standard deviation ``sqrt(2/(fan_in + fan_out))``.

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> GlorotNormal(seed=0)((4, 2)).dtype
        dtype('float32')
    """

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeNormal(_PresetVarianceScaling):
    """He normal: truncated ``N(0, σ²)``, ``σ = sqrt(2 / fan_in) / 0.8796`` (for ReLU layers).

    After truncation the samples have standard deviation ``sqrt(2 / fan_in)``.

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> HeNormal(seed=0)((4, 2)).shape
        (4, 2)
    """

    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class HeUniform(_PresetVarianceScaling):
    """He uniform: ``w ~ U[-limit, limit)``, ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = HeUniform(seed=0)((6, 2))
        >>> bool(np.abs(w).max() <= 1.0)      # sqrt(6 / 6)
        True
    """

    SCALE, MODE, DISTRIBUTION = 2.0, "fan_in", "uniform"


class LecunNormal(_PresetVarianceScaling):
    """LeCun normal: truncated ``N(0, σ²)``, ``σ = sqrt(1 / fan_in) / 0.8796`` (for SELU).

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> LecunNormal(seed=0)((4, 2)).shape
        (4, 2)
    """

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


class LecunUniform(_PresetVarianceScaling):
    """LeCun uniform: ``w ~ U[-limit, limit)``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = LecunUniform(seed=0)((3, 2))
        >>> bool(np.abs(w).max() <= 1.0)      # sqrt(3 / 3)
        True
    """

    SCALE, MODE, DISTRIBUTION = 1.0, "fan_in", "uniform"


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times ``gain``: ``Wᵀ W = gain² I`` (or ``W Wᵀ``).

    For a shape ``(*leading, cols)`` with ``rows = prod(leading)``, as Keras does::

        A ~ N(0, 1) of shape (max(rows, cols), min(rows, cols))
        Q, R = qr(A)                   Q: orthonormal columns, R: upper triangular
        Q = Q · sign(diag(R))          flip column signs: Q is then uniform (Haar)
        W = gain · reshape(Q, shape)   (Qᵀ first when rows < cols)

    So the columns of ``W`` are orthonormal when ``rows >= cols`` and its rows are when
    ``rows < cols``: a Dense kernel ``(in, out)`` with ``in >= out`` keeps the norm of
    every input, ``‖x W‖ = gain·‖x‖`` for ``x`` in the span of its columns, which keeps
    signals (and, in recurrent networks, gradients) from growing or vanishing.

    Args:
        gain: the factor applied to the orthogonal matrix (default 1.0).
        seed: an int, or ``None`` (drawn once, at creation).

    Example:
        >>> w = Orthogonal(seed=0)((5, 3), dtype="float64")
        >>> bool(np.allclose(w.T @ w, np.eye(3)))
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        dtype = self._float_dtype(dtype)
        shape = standardize_shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        num_rows, num_cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (max(num_rows, num_cols), min(num_rows, num_cols))
        a = normal(self._generator(), flat_shape, 0.0, 1.0, dtype)
        q, r = np.linalg.qr(a)              # reduced: q (max, min), r (min, min)
        q = q * np.sign(np.diag(r))         # column j times the sign of r_jj
        if num_rows < num_cols:
            q = q.T
        return dtype.type(self.gain) * q.reshape(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}
