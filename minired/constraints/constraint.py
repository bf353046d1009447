"""The base class of weight constraints: a projection ``w ← c(w)`` after each update.

A layer with ``kernel_constraint=c`` has its kernel replaced by ``c(W)`` after every
optimizer step (Keras' ``variable.assign(variable.constraint(variable))``): the update is
taken, then the weights are moved back into the allowed set. Nothing is added to the loss
and nothing to the gradient: a constraint has no backward pass.
"""

from __future__ import annotations

import numbers

import numpy as np

from minired import config


class Constraint:
    """Base class: a function ``c(w)`` that returns the projected weights.

    Subclasses override ``__call__(w)`` and, if they take arguments, ``get_config()``. The
    base class itself leaves the weights as they are, as in Keras.

    Args: none.

    Example:
        >>> class NonPositive(Constraint):
        ...     def __call__(self, w):
        ...         return np.minimum(w, 0)
        >>> NonPositive()(np.array([-1.0, 2.0]))
        array([-1.,  0.])
        >>> Constraint()(np.array([3.0]))
        array([3.])
    """

    def __call__(self, w: np.ndarray) -> np.ndarray:
        """Return the projected weights (here, ``w`` unchanged)."""
        return w

    def get_config(self) -> dict:
        """The constructor's arguments, JSON-able (``{}`` for the base class)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        """Create the constraint from :meth:`get_config`'s output."""
        return cls(**config)


def column_norms(w: np.ndarray, axis) -> np.ndarray:
    """``‖w‖₂`` along ``axis`` (an int or a list of ints), kept as size-1 axes so that it
    broadcasts back against ``w``: Keras' ``sqrt(sum(square(w), axis, keepdims=True))``.

    Example:
        >>> column_norms(np.array([[3.0, 0.0], [4.0, 1.0]]), axis=0)
        array([[5., 1.]])
    """
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def as_float_weights(w, owner: str) -> np.ndarray:
    """``w`` as a float array (Keras' ``convert_to_tensor``), refusing other dtypes."""
    w = np.asarray(w)
    if not np.issubdtype(w.dtype, np.floating):
        raise TypeError(f"{owner}: `w` must be a float array, got dtype {w.dtype}.")
    return w


def scaled(w: np.ndarray, norms: np.ndarray, desired: np.ndarray) -> np.ndarray:
    """``w · desired / (ε + norms)``, Keras' rescaling to the ``desired`` norms, with Keras'
    ``ε = mr.config.epsilon()`` (1e-7) added to the norms so a zero column stays zero.

    As in TensorFlow, the Python float ε is cast to the norms' dtype before the sum, so
    float32 stays float32.
    """
    dt = norms.dtype.type
    return w.astype(norms.dtype, copy=False) * (desired / (dt(config.epsilon()) + norms))


def check_number(value, argument: str, owner: str):
    """Return ``value`` if it is a real number (not a bool), else raise TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: `{argument}` must be a number, got {value!r} "
                        f"({type(value).__name__}).")
    return value


def check_axis(axis, owner: str):
    """Return ``axis`` as given if it is an int or a list (or tuple) of ints, else raise
    TypeError. It is kept as given, as Keras keeps it (``get_config`` returns it)."""
    def is_int(a) -> bool:
        return isinstance(a, int | np.integer) and not isinstance(a, bool)

    if is_int(axis) or (isinstance(axis, list | tuple) and axis
                        and all(is_int(a) for a in axis)):
        return axis
    raise TypeError(f"{owner}: `axis` must be an int or a list of ints, got {axis!r}.")


def numpy_axis(axis):
    """``axis`` as NumPy takes it (a list becomes a tuple of ints)."""
    return tuple(int(a) for a in axis) if isinstance(axis, list | tuple) else int(axis)
