"""Random numbers, as Keras' ``keras.random``: ``normal``, ``uniform``, ``truncated_normal``,
``randint``, ``shuffle`` and ``dropout``.

``seed`` is an int (the same numbers at every call), a
:class:`~minired.random.seed_generator.SeedGenerator` (new numbers at every call) or None
(a seed drawn from minired's random streams: reproducible after
``mr.utils.set_random_seed``). The numbers come from NumPy's generators, so they differ
from TensorFlow's; their distributions are the same.
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.random.seed_generator import make_generator


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> np.ndarray:
    """Samples of the normal distribution ``N(mean, stddev²)`` (``floatx`` by default).

    Example:
        >>> normal((2, 3), seed=1).shape
        (2, 3)
    """
    values = make_generator(seed).normal(mean, stddev, size=shape)
    return values.astype(dtype or config.floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> np.ndarray:
    """Samples of the uniform distribution on ``[minval, maxval)`` (``floatx`` by default)."""
    dtype = np.dtype(dtype or config.floatx())
    if not np.issubdtype(dtype, np.floating):
        raise ValueError("uniform: `dtype` must be a float dtype (use randint for integers), "
                         f"got {dtype}.")
    return make_generator(seed).uniform(minval, maxval, size=shape).astype(dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> np.ndarray:
    """Normal samples, each redrawn until it lies within two ``stddev`` of ``mean``."""
    rng = make_generator(seed)
    values = rng.standard_normal(size=shape)
    outside = np.abs(values) > 2
    while np.any(outside):
        values[outside] = rng.standard_normal(size=int(np.sum(outside)))
        outside = np.abs(values) > 2
    return (mean + stddev * values).astype(dtype or config.floatx())


def randint(shape, minval, maxval, dtype="int32", seed=None) -> np.ndarray:
    """Integers drawn uniformly from ``[minval, maxval)`` (``maxval`` excluded)."""
    return make_generator(seed).integers(minval, maxval, size=shape).astype(dtype)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order (recorded on a tape, as a
    ``take``)."""
    from minired import ops

    order = make_generator(seed).permutation(np.asarray(x).shape[axis])
    return ops.take(x, order, axis=axis)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout: each value kept with probability ``1 − rate`` and scaled by
    ``1 / (1 − rate)``, the others set to 0 (the expected value is unchanged).

    Written as ``inputs ⊙ m`` with the constant mask ``m = [u ≥ rate] / (1 − rate)``
    (``u`` uniform), so a tape differentiates it: ``δinputs = δa ⊙ m``, the same mask.

    Args:
        inputs: the array.
        rate: the probability of dropping a value, in ``[0, 1]``.
        noise_shape: the shape of the mask, broadcast against ``inputs`` (e.g.
            ``(batch, 1, features)`` drops whole features); ``None`` entries are read from
            ``inputs``' shape.
        seed: an int, a SeedGenerator or None.
    """
    from minired import ops
    from minired.random.seed_generator import draw_seed

    if not 0 <= rate <= 1:
        raise ValueError(f"dropout: `rate` must be in [0, 1], got {rate}.")
    value = np.asarray(inputs)          # a plain view: shape and dtype, without the tape
    if rate == 1:
        return ops.multiply(inputs, np.zeros((), dtype=value.dtype))
    if rate == 0:
        return inputs
    shape = value.shape
    if noise_shape is None:
        noise_shape = shape
    else:
        noise_shape = tuple(shape[len(shape) - len(noise_shape) + i] if n is None else n
                            for i, n in enumerate(noise_shape))
    if seed is None:          # unseeded dropout draws from the dropout stream, as layers do
        seed = int(draw_seed(None, stream="dropout")[0])
    keep = make_generator(seed).uniform(size=noise_shape) >= rate
    mask = (keep * (1 / (1 - rate))).astype(value.dtype)
    return ops.multiply(inputs, mask)
