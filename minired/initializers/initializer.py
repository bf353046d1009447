"""The base class of weight initializers: ``initializer(shape, dtype) -> array``."""

from __future__ import annotations

import operator

import numpy as np

from minired import config


class Initializer:
    """Base class: a callable that returns the starting values of a weight array.

    Subclasses implement ``__call__(shape, dtype=None)``; ``dtype=None`` means
    :func:`minired.config.floatx`.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return np.full(standardize_shape(shape), 2, dtype=standardize_dtype(dtype))
        >>> Twos()((2,), dtype="float64")
        array([2., 2.])
    """

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype).")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """Create the initializer from :meth:`get_config`'s output."""
        return cls(**config)

    def clone(self) -> Initializer:
        """A new initializer with the same configuration (an unseeded one gets a new seed)."""
        return type(self).from_config(self.get_config())


def standardize_shape(shape) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of non-negative ints, or raise."""
    if isinstance(shape, str) or not hasattr(shape, "__iter__"):
        raise TypeError(f"`shape` must be a tuple of ints, got {shape!r}.")
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"`shape` must be a tuple of ints, got {shape!r}.") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"`shape` entries must be >= 0, got {shape!r}.")
    return dims


def standardize_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype; ``None`` means :func:`minired.config.floatx`."""
    return np.dtype(config.floatx() if dtype is None else dtype)
