"""Conversions, dtypes, shapes and constants: the ops that hold no calculus.

``convert_to_tensor`` follows Keras: NumPy arrays keep their dtype, Python floats (and
lists of them) become ``floatx``, Python ints ``int32``. ``stop_gradient`` returns a
constant: the tape does not follow it. (One exception to "no calculus": ``linspace`` with
array bounds, written with the element-wise ops, passes gradients to its bounds.)
"""

from __future__ import annotations

import numbers

import numpy as np

from minired import config
from minired.autodiff.tape import record


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> np.ndarray:
    """``x`` as an array (a traced one stays traced); Python floats become floatx.

    Example:
        >>> convert_to_tensor([1.0, 2.0]).dtype
        dtype('float32')
    """
    if sparse or ragged:
        raise ValueError("minired has no sparse or ragged tensors: sparse and ragged must be "
                         "False or None.")
    if dtype is not None:
        return cast(x, dtype)
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x, dtype=python_dtype(x))


def convert_to_numpy(x) -> np.ndarray:
    """A plain NumPy array (a copy of a traced one, which the tape no longer follows)."""
    return np.array(x).view(np.ndarray)


def cast(x, dtype) -> np.ndarray:
    """``x`` converted to ``dtype``. Backward: ``δx = δa`` cast back (0 for integer x)."""
    x_dtype = x.dtype if isinstance(x, np.ndarray) else python_dtype(x)
    a = np.asarray(x, dtype=x_dtype).astype(dtype)

    def vjp(grad):
        return (grad.astype(x_dtype) if np.issubdtype(x_dtype, np.floating) else None,)

    return record(a, (x,), vjp)


def shape(x) -> tuple:
    """The shape as a tuple of ints (``ops.shape(x)[0]`` is the batch size)."""
    return tuple(np.shape(np.asarray(x)))   # asarray: a plain view, no dispatch back here


def ndim(x) -> int:
    """The number of axes."""
    return np.ndim(np.asarray(x))


def dtype(x) -> str:
    """The dtype's name, e.g. ``"float32"``."""
    return np.asarray(x).dtype.name


def stop_gradient(variable) -> np.ndarray:
    """The same values, as a constant for the tape: no gradient flows back through it."""
    return np.array(variable).view(np.ndarray)


def zeros(shape, dtype=None) -> np.ndarray:
    """An array of zeros (``floatx`` by default)."""
    return np.zeros(shape, dtype=dtype or config.floatx())


def ones(shape, dtype=None) -> np.ndarray:
    """An array of ones (``floatx`` by default)."""
    return np.ones(shape, dtype=dtype or config.floatx())


def full(shape, fill_value, dtype=None) -> np.ndarray:
    """An array filled with ``fill_value``."""
    return np.full(shape, fill_value, dtype=dtype or python_dtype(fill_value))


def zeros_like(x, dtype=None) -> np.ndarray:
    """Zeros of ``x``'s shape (and dtype, unless ``dtype`` is given)."""
    return np.zeros_like(np.asarray(x), dtype=dtype)


def ones_like(x, dtype=None) -> np.ndarray:
    """Ones of ``x``'s shape (and dtype, unless ``dtype`` is given)."""
    return np.ones_like(np.asarray(x), dtype=dtype)


def eye(N, M=None, k=0, dtype=None) -> np.ndarray:  # noqa: N803 (Keras' names)
    """The identity matrix (``floatx`` by default)."""
    return np.eye(N, M, k, dtype=dtype or config.floatx())


def arange(start, stop=None, step=1, dtype=None) -> np.ndarray:
    """Evenly spaced values, as ``np.arange`` (Keras' dtype rules: ints give int32)."""
    values = np.arange(start, stop, step)
    return values.astype(dtype or python_dtype(values.tolist()))


def python_dtype(value) -> np.dtype:
    """Keras' dtype for Python data: floatx for floats, int32 for ints, bool for bools."""
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype
    flat = np.asarray(value, dtype=object).ravel()
    if flat.size and all(isinstance(v, bool | np.bool_) for v in flat):
        return np.dtype(bool)
    if flat.size and all(isinstance(v, numbers.Integral) for v in flat):
        return np.dtype("int32")
    if flat.size and all(isinstance(v, np.ndarray | np.generic) for v in flat):
        return np.result_type(*flat)
    return np.dtype(config.floatx())


def full_like(x, fill_value, dtype=None) -> np.ndarray:
    """``fill_value`` in the shape (and dtype, unless ``dtype`` is given) of ``x``."""
    return np.full_like(np.asarray(x), fill_value, dtype=dtype)


def empty(shape, dtype=None) -> np.ndarray:
    """An array of ``shape`` (``floatx`` by default); minired fills it with zeros."""
    return zeros(shape, dtype)


def identity(n, dtype=None) -> np.ndarray:
    """The ``n × n`` identity matrix (``floatx`` by default)."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None) -> np.ndarray:  # noqa: N803 (Keras' names)
    """Ones at and below diagonal ``k``, zeros above (``floatx`` by default)."""
    return np.tri(N, M, k, dtype=dtype or config.floatx())


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (``floatx`` unless an array
    bound or ``dtype`` says otherwise); with ``retstep``, also the step ``(stop − start)/d``.

    ``a = start + t (stop − start)`` with ``t = i/d`` (``d = num − 1``, or ``num`` without
    the endpoint), written with the ops: array bounds get their gradient
    (``δstart = Σ δa (1 − t)``, ``δstop = Σ δa t``)."""
    from minired.ops import elementwise as ew
    from minired.ops.shapes import expand_dims

    if num < 0:
        raise ValueError(f"`num` must be a non-negative integer. Received: num={num}")
    bounds = [np.asarray(ew._value(b)) for b in (start, stop) if isinstance(b, np.ndarray)]
    dtype = np.dtype(dtype or np.result_type(*bounds, config.floatx()))
    work = dtype if np.issubdtype(dtype, np.floating) else np.dtype(config.floatx())
    start, stop = (cast(b, work) if isinstance(b, np.ndarray) else np.asarray(b, work)
                   for b in (start, stop))
    divisions = (num - 1 if endpoint else num) or 1
    shape = [1] * (np.broadcast(np.asarray(start), np.asarray(stop)).ndim + 1)
    shape[axis] = num
    t = (np.arange(num) / divisions).astype(work).reshape(shape)
    delta = ew.subtract(stop, start)
    step = ew.divide(delta, divisions)
    values = ew.add(expand_dims(start, axis), ew.multiply(expand_dims(delta, axis), t))
    values = values if dtype == work else cast(values, dtype)
    return (values, step) if retstep else values


def is_tensor(x) -> bool:
    """Whether ``x`` is one of minired's tensors: a NumPy array (traced or not)."""
    return isinstance(x, np.ndarray | np.generic)
