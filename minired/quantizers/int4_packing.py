"""Two int4 values in one byte: :func:`pack_int4` and :func:`unpack_int4`.

An int4 value ``v ∈ [-8, 7]`` is stored as its 4-bit two's complement, the *nibble*
``v & 0xF`` (``-3 → 0b1101 = 13``). Along the packed axis, rows ``2i`` and ``2i+1`` share
byte ``i``::

    byte = (row[2i] & 0xF) | ((row[2i+1] & 0xF) << 4)      low nibble first

An odd length is padded with one zero row first. Unpacking takes the nibbles back,
``low = byte & 0xF``, ``high = (byte >> 4) & 0xF``, and makes them signed again with
``(n ^ 8) - 8`` (``13 → 5 - 8 = -3``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _check_dtype(dtype) -> np.dtype:
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    return np.dtype(dtype)


def pack_int4(arr: ArrayLike, axis: int = 0, dtype: str = "int8") -> tuple[np.ndarray, tuple, int]:
    """Pack int4 values (held one per int8) two per byte along ``axis``.

    ``packed[i] = (arr[2i] & 0xF) | (arr[2i+1] & 0xF) << 4``, in ``dtype`` arithmetic (a
    high nibble of 8 or more makes a negative int8). An odd length gets a zero row first.

    Args:
        arr: an ``int8`` (or ``uint8``, with ``dtype="uint8"``) array of values in [-8, 7].
        axis: the axis to pack along.
        dtype: ``"int8"`` or ``"uint8"``, the dtype of ``arr`` and of the result.

    Returns:
        ``(packed, packed.shape, original length along axis)``.

    Example:
        >>> packed, shape, n = pack_int4(np.array([[-3, 7], [2, -8], [1, 0]], "int8"))
        >>> packed, n
        (array([[  45, -121],
               [   1,    0]], dtype=int8), 3)
    """
    np_dtype = _check_dtype(dtype)
    arr = np.asarray(arr)
    if arr.dtype != np_dtype:
        raise TypeError(f"Expected {dtype} tensor for packing, got {arr.dtype}.")
    axis = axis + arr.ndim if axis < 0 else axis
    rows = np.moveaxis(arr, axis, 0)
    n = rows.shape[0]
    if n % 2 == 1:
        rows = np.concatenate([rows, np.zeros((1,) + rows.shape[1:], np_dtype)])
    mask = np_dtype.type(0x0F)
    low, high = rows[::2] & mask, rows[1::2] & mask
    packed = np.moveaxis((low | (high << np_dtype.type(4))).astype(np_dtype), 0, axis)
    return packed, tuple(packed.shape), n


def unpack_int4(packed: ArrayLike, orig_len: int, axis: int = 0, dtype: str = "int8") -> np.ndarray:
    """Unpack :func:`pack_int4`'s bytes back into one value per element along ``axis``.

    ``low = b & 0xF``, ``high = (b >> 4) & 0xF`` (an arithmetic shift, as TensorFlow's on
    int8), made signed by ``(n ^ 8) - 8`` when ``dtype="int8"`` (left as 0..15 for
    ``"uint8"``), interleaved ``low, high`` and cut to ``orig_len``.

    Args:
        packed: an int8 or uint8 array of packed bytes.
        orig_len: the length along ``axis`` before packing.
        axis: the packed axis.
        dtype: ``"int8"`` (values in [-8, 7]) or ``"uint8"`` (nibbles in [0, 15]).

    Example:
        >>> unpack_int4(np.array([[45, -121], [1, 0]], "int8"), 3)
        array([[-3,  7],
               [ 2, -8],
               [ 1,  0]], dtype=int8)
    """
    np_dtype = _check_dtype(dtype)
    packed = np.asarray(packed)
    if packed.dtype not in (np.int8, np.uint8):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {packed.dtype}")
    axis = axis + packed.ndim if axis < 0 else axis
    rows = np.moveaxis(packed, axis, 0)
    mask = packed.dtype.type(0x0F)
    low, high = rows & mask, (rows >> packed.dtype.type(4)) & mask
    if dtype == "int8":
        eight = packed.dtype.type(8)
        low, high = (low ^ eight) - eight, (high ^ eight) - eight
    both = np.stack([low.astype(np_dtype), high.astype(np_dtype)], axis=1)
    unpacked = both.reshape((-1,) + rows.shape[1:])[:orig_len]
    return np.moveaxis(unpacked, 0, axis)
