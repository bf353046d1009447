"""Integer ops: bitwise ``and``/``or``/``xor``/``not``, shifts, ``gcd`` and ``lcm``.

Their inputs and outputs are integers (or booleans), so they have no gradient: the results
are constants for the tape. Two arrays meet in Keras' result dtype (NumPy 2's rules, a
Python int staying "weak").

Example:
    >>> from minired import ops
    >>> ops.bitwise_and(np.array([12, 10], dtype="int32"), 6)
    array([4, 2], dtype=int32)
"""

from __future__ import annotations

import numpy as np

from minired.ops.elementwise import _binary, _value


def _integers(name: str, *values) -> None:
    for v in values:
        dtype = np.result_type(v)
        if not (np.issubdtype(dtype, np.integer) or dtype == np.bool_):
            raise TypeError(f"{name}: the arguments must be integers or booleans, got dtype "
                            f"{dtype}.")


def _bitwise(name, function, x, y):
    v1, v2, dt = _binary(x, y)
    _integers(name, v1, v2)
    return np.asarray(function(v1, v2)).astype(dt, copy=False)


def bitwise_and(x, y):
    """``x & y`` bit by bit (no gradient).

    Args:
        x, y: integer or boolean arrays (or Python ints), broadcast together.

    Example:
        >>> bitwise_and(np.array([12, 10], dtype="int32"), 6)
        array([4, 2], dtype=int32)
    """
    return _bitwise("bitwise_and", np.bitwise_and, x, y)


def bitwise_or(x, y):
    """``x | y`` bit by bit (no gradient).

    Args:
        x, y: integer or boolean arrays (or Python ints), broadcast together.

    Example:
        >>> bitwise_or(np.array([12, 10], dtype="int32"), 6)
        array([14, 14], dtype=int32)
    """
    return _bitwise("bitwise_or", np.bitwise_or, x, y)


def bitwise_xor(x, y):
    """``x ^ y`` bit by bit (no gradient).

    Args:
        x, y: integer or boolean arrays (or Python ints), broadcast together.

    Example:
        >>> bitwise_xor(np.array([12, 10], dtype="int32"), 6)
        array([10, 12], dtype=int32)
    """
    return _bitwise("bitwise_xor", np.bitwise_xor, x, y)


def bitwise_invert(x):
    """``~x``: every bit flipped (``−x − 1`` for signed ints; ``not`` for booleans).

    Args:
        x: an integer or boolean array.

    Example:
        >>> bitwise_invert(np.array([0, 5], dtype="int32"))
        array([-1, -6], dtype=int32)
    """
    v = np.asarray(_value(x))
    _integers("bitwise_invert", v)
    return np.asarray(np.invert(v))


bitwise_not = bitwise_invert


def bitwise_left_shift(x, y):
    """``x << y``: ``x · 2ʸ`` in ``x``'s integer type (no gradient).

    Args:
        x: an integer array.
        y: the number of bits to shift by (an integer array or Python int).

    Example:
        >>> bitwise_left_shift(np.array([1, 3], dtype="int32"), 2)
        array([ 4, 12], dtype=int32)
    """
    return _bitwise("bitwise_left_shift", np.left_shift, x, y)


def bitwise_right_shift(x, y):
    """``x >> y``: ``⌊x / 2ʸ⌋`` (no gradient).

    Args:
        x: an integer array.
        y: the number of bits to shift by (an integer array or Python int).

    Example:
        >>> bitwise_right_shift(np.array([8, 7], dtype="int32"), 1)
        array([4, 3], dtype=int32)
    """
    return _bitwise("bitwise_right_shift", np.right_shift, x, y)


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def gcd(x1, x2):
    """The greatest common divisor of ``|x₁|`` and ``|x₂|`` element-wise (integers only; no
    gradient).

    Args:
        x1, x2: integer arrays (or Python ints), broadcast together.

    Example:
        >>> gcd(np.array([12, -18], dtype="int32"), 8)
        array([4, 2], dtype=int32)
    """
    v1, v2, dt = _binary(x1, x2)
    if not np.issubdtype(dt, np.integer):
        raise TypeError(f"gcd: the arguments must be integers, got dtype {dt}.")
    return np.asarray(np.gcd(v1, v2)).astype(dt, copy=False)


def lcm(x1, x2):
    """The least common multiple of ``|x₁|`` and ``|x₂|`` element-wise (0 if either is 0;
    integers only; no gradient).

    Args:
        x1, x2: integer arrays (or Python ints), broadcast together.

    Example:
        >>> lcm(np.array([4, 6], dtype="int32"), 10)
        array([20, 30], dtype=int32)
    """
    v1, v2, dt = _binary(x1, x2)
    if not np.issubdtype(dt, np.integer):
        raise TypeError(f"lcm: the arguments must be integers, got dtypes "
                        f"{np.result_type(v1)} and {np.result_type(v2)}.")
    return np.asarray(np.lcm(v1, v2)).astype(dt, copy=False)
