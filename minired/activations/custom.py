"""An activation function of yours: its derivative comes from the tape.

A built-in activation has its backward written by hand beside it: ``tanh.backward(z, a, δa)``
returns ``δz = δa ⊙ (1 - a²)``. A function you write, such as::

    def squashed(x):
        return ops.tanh(x) ** 2

has no such formula, and it need not: :func:`with_tape_backward` gives it a ``backward`` that
runs the function again on ``z`` while a :class:`~minired.autodiff.GradientTape` records,
then walks the tape back from ``δa`` (the tape's vector-Jacobian product ``δz = f'(z) ⊙ δa``).
Write it with ``mr.ops`` or NumPy ufuncs (``np.tanh``, ``x ** 2``...), which the tape sees.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from minired.autodiff.tape import GradientTape, is_traced


def with_tape_backward(fn: Callable) -> Callable:
    """``fn`` as an activation: the same forward, and ``backward(z, a, δa) -> δz`` from the tape.

    A built-in activation has its backward written by hand (``tanh.backward``); a function
    of yours gets its derivative from the tape: ``backward`` runs ``fn`` on ``z`` again while
    a GradientTape records, and walks the tape back from ``δa``: ``δz = f'(z) ⊙ δa``.

    The wrapper keeps ``fn`` as ``__wrapped__`` (and its ``__name__``, ``__module__``): what
    saving reads to write the function's name.

    Args:
        fn: a function of one array, written with ``mr.ops`` or NumPy ufuncs (or a layer).

    Example:
        >>> from minired import ops
        >>> f = with_tape_backward(lambda x: ops.tanh(x) ** 2)
        >>> z = np.array([0.0, 1.0])
        >>> f.backward(z, f(z), np.ones(2))       # 2 tanh(z)(1 - tanh²(z))
        array([0.        , 0.63970001])
    """

    def activation(x: np.ndarray) -> np.ndarray:
        return _in_dtype_of(x, fn(x))                       # a = f(z)

    def backward(z: np.ndarray, a: np.ndarray | None, grad: np.ndarray) -> np.ndarray:
        with GradientTape() as tape:                        # f(z) once more, recorded
            watched = tape.watch(z)
            output = fn(watched)
        if not is_traced(output):
            raise TypeError(
                f"activation {_name(fn)!r}: its output is not computed from its input with "
                "operations minired can differentiate (mr.ops, NumPy ufuncs and operators); "
                f"got a {type(output).__name__}. Avoid np.asarray() or float() inside it.")
        return _in_dtype_of(z, tape.gradient(output, watched, grad))   # δz = f'(z) ⊙ δa

    functools.update_wrapper(activation, fn, updated=())   # __name__, __doc__, __wrapped__
    activation.backward = backward
    backward.reads_output = False        # it runs fn again on z: a layer need not keep a
    return activation


def _in_dtype_of(x: np.ndarray, value):
    """``value`` in ``x``'s float dtype: Keras computes an activation in the layer's dtype, so
    ``np.float64(2) * x`` stays float32 in a float32 layer."""
    dtype = np.asarray(x).dtype
    if (isinstance(value, np.ndarray) and value.dtype != dtype
            and np.issubdtype(dtype, np.floating)):
        return value.astype(dtype)            # a Tensor's astype is mr.ops.cast: still traced
    return value


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", type(fn).__name__)
