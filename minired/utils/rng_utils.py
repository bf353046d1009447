"""Random seeds: one call makes a whole run reproducible.

Keras draws a seed for every unseeded initializer and Dropout layer when it is
*constructed*, from a global generator that ``keras.utils.set_random_seed`` resets.
minired does the same with a NumPy ``Generator``.
"""

from __future__ import annotations

import random

import numpy as np

_global_generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy generator and minired's generator.

    After this call, initializers, Dropout masks and the ``fit`` shuffle are reproducible.

    Args:
        seed: a non-negative integer.

    Example:
        >>> set_random_seed(42)
    """
    global _global_generator
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"set_random_seed: `seed` must be an int, got {type(seed).__name__}.")
    if seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be >= 0, got {seed}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _global_generator = np.random.default_rng(seed)


def global_generator() -> np.random.Generator:
    """Return minired's global generator (reset by :func:`set_random_seed`)."""
    return _global_generator


def draw_seed() -> int:
    """Draw a fresh integer seed from the global generator (as Keras does for seed=None)."""
    return int(_global_generator.integers(1, 10**9))


def make_generator(seed: int | None) -> np.random.Generator:
    """Return a generator for ``seed``; ``None`` draws one from the global generator."""
    if seed is None:
        seed = draw_seed()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"`seed` must be an int or None, got {type(seed).__name__}.")
    return np.random.default_rng(seed)
