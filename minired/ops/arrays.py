"""Building, splitting and joining arrays: ``array``, ``append``, ``array_split``, ``dstack``,
``diagflat``, ``diff``, ``vander``, ``logspace``, ``geomspace``, ``argpartition``...

Each is written with the ops of :mod:`~minired.ops.shapes`, :mod:`~minired.ops.core` and
:mod:`~minired.ops.elementwise` (reshape, concatenate, split, getitem, subtract, power), as
Keras' TensorFlow backend writes it, so the VJPs are theirs: pieces and joins move ``δa``
back to where each element came from, ``diff`` gives ``δxᵢ = δaᵢ₋₁ − δaᵢ``.

Example:
    >>> from minired import ops
    >>> ops.diff(np.array([1.0, 4.0, 9.0]))
    array([3., 5.])
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.ops import elementwise as ew
from minired.ops import shapes as sh
from minired.ops.core import cast, convert_to_tensor, linspace
from minired.ops.elementwise import _value


def _array(x) -> np.ndarray:
    return np.asarray(_value(x))


def array(x, dtype=None):
    """``x`` as an array (Keras' ``convert_to_tensor``: Python floats become ``floatx``).
    VJP of the cast, when ``dtype`` converts a float array: ``δx = δa``.

    Args:
        x: an array, a Python number or a (nested) list.
        dtype: the dtype to cast to (Keras' rules when None).

    Example:
        >>> array([1, 2])
        array([1, 2], dtype=int32)
    """
    return convert_to_tensor(x, dtype=dtype)


def empty_like(x, dtype=None) -> np.ndarray:
    """An array of ``x``'s shape (and dtype, unless ``dtype`` is given); minired fills it with
    zeros, as Keras' TensorFlow backend. A constant.

    Args:
        x: the array whose shape (and dtype) to take.
        dtype: the dtype, ``x``'s when None.

    Example:
        >>> empty_like(np.ones(2, dtype="int32"))
        array([0, 0], dtype=int32)
    """
    return np.zeros(np.shape(_array(x)), dtype=dtype or _array(x).dtype)


def get_item(x, key):
    """``x[key]``: the same as :func:`~minired.ops.shapes.getitem`.

    Args:
        x: the array.
        key: any NumPy index (ints, slices, arrays, ``None``, ``...``, or a tuple of them).

    Example:
        >>> get_item(np.arange(6).reshape(2, 3), (1, 2))
        array(5)
    """
    return sh.getitem(x, key)


def append(x1, x2, axis=None):
    """``x₂`` joined after ``x₁`` along ``axis`` (both flattened when None), in their common
    dtype. VJP: ``δa`` cut back into the two pieces.

    Args:
        x1, x2: the arrays.
        axis: the axis to join along (same shapes elsewhere); None flattens both.

    Example:
        >>> append(np.array([1.0, 2.0]), np.array([[3.0]]))
        array([1., 2., 3.])
    """
    dtype = ew.result_dtype(_array(x1), _array(x2))
    x1, x2 = (x if _array(x).dtype == dtype else cast(x, dtype) for x in (x1, x2))
    if axis is None:
        return sh.concatenate([sh.ravel(x1), sh.ravel(x2)], axis=0)
    return sh.concatenate([x1, x2], axis=axis)


def array_split(x, indices_or_sections, axis=0):
    """``x`` cut into ``indices_or_sections`` pieces along ``axis``, the first
    ``size mod sections`` of them one element longer (so any size splits).

    Args:
        x: the array.
        indices_or_sections: the number of pieces.
        axis: the axis to cut.

    Example:
        >>> array_split(np.arange(5.0), 2)
        [array([0., 1., 2.]), array([3., 4.])]
    """
    if not isinstance(indices_or_sections, int | np.integer) or isinstance(
            indices_or_sections, bool):
        raise TypeError(f"array_split: `indices_or_sections` must be an int (a number of "
                        f"pieces, as Keras), got {indices_or_sections!r}.")
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ValueError(f"array_split: `indices_or_sections` must be a positive integer, "
                         f"got {indices_or_sections}.")
    total = _array(x).shape[axis]
    size, extra = divmod(total, sections)
    sizes = [size + 1] * extra + [size] * (sections - extra)
    return sh.split(x, list(np.cumsum(sizes)[:-1]), axis=axis)


def vsplit(x, indices_or_sections):
    """:func:`~minired.ops.shapes.split` along axis 0.

    Args:
        x: an array of rank ≥ 2.
        indices_or_sections: a number of equal pieces, or the indices where to cut.

    Example:
        >>> vsplit(np.arange(4.0).reshape(2, 2), 2)
        [array([[0., 1.]]), array([[2., 3.]])]
    """
    return sh.split(x, indices_or_sections, axis=0)


def hsplit(x, indices_or_sections):
    """:func:`~minired.ops.shapes.split` along axis 1 (axis 0 for a 1-D ``x``).

    Args:
        x: the array.
        indices_or_sections: a number of equal pieces, or the indices where to cut.

    Example:
        >>> hsplit(np.arange(4.0), 2)
        [array([0., 1.]), array([2., 3.])]
    """
    return sh.split(x, indices_or_sections, axis=0 if _array(x).ndim == 1 else 1)


def dsplit(x, indices_or_sections):
    """:func:`~minired.ops.shapes.split` along axis 2.

    Args:
        x: an array of rank ≥ 3.
        indices_or_sections: a number of equal pieces, or the indices where to cut.

    Example:
        >>> [piece.shape for piece in dsplit(np.zeros((1, 1, 4)), 2)]
        [(1, 1, 2), (1, 1, 2)]
    """
    return sh.split(x, indices_or_sections, axis=2)


def dstack(xs):
    """The arrays joined along axis 2 (a 1-D ``(N,)`` counts as ``(1, N, 1)``, a 2-D ``(M, N)``
    as ``(M, N, 1)``).

    Args:
        xs: a list of arrays (same shapes once read as 3-D, except along axis 2).

    Example:
        >>> dstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
        array([[[1., 3.],
                [2., 4.]]])
    """
    shaped = []
    for x in xs:
        rank = _array(x).ndim
        if rank == 0:
            x = sh.reshape(x, (1, 1, 1))
        elif rank == 1:
            x = sh.reshape(x, (1, -1, 1))
        elif rank == 2:
            x = sh.expand_dims(x, 2)
        shaped.append(x)
    return sh.concatenate(shaped, axis=2)


def diagflat(x, k=0):
    """The matrix with the flattened ``x`` on diagonal ``k``, zeros elsewhere.

    Args:
        x: the array whose elements go on the diagonal.
        k: the diagonal (0 the main one, > 0 above, < 0 below).

    Example:
        >>> diagflat(np.array([[1.0, 2.0]]))
        array([[1., 0.],
               [0., 2.]])
    """
    return sh.diag(sh.ravel(x), k)


def diff(a, n=1, axis=-1):
    """The ``n``-th difference along ``axis``: ``aᵢ = xᵢ₊₁ − xᵢ``, applied ``n`` times
    (``≠`` for booleans). VJP: ``δxᵢ = δaᵢ₋₁ − δaᵢ`` (each ``x`` is used twice).

    Args:
        a: the array (rank ≥ 1).
        n: how many times to take differences (0 returns ``a``).
        axis: the axis along which.

    Example:
        >>> diff(np.array([1.0, 4.0, 9.0]), n=2)
        array([2.])
    """
    v = _array(a)
    if n < 0:
        raise ValueError(f"Order `n` must be non-negative. Received n={n}")
    if n == 0:
        return a
    if v.ndim == 0:
        raise ValueError("`diff` requires input that is at least one dimensional.")
    axis = axis % v.ndim
    later = (np.s_[:],) * axis + (np.s_[1:],)
    earlier = (np.s_[:],) * axis + (np.s_[:-1],)
    for _ in range(n):
        if _array(a).dtype == np.bool_:
            a = ew.not_equal(sh.getitem(a, later), sh.getitem(a, earlier))
        else:
            a = ew.subtract(sh.getitem(a, later), sh.getitem(a, earlier))
    return a


def vander(x, N=None, increasing=False):  # noqa: N803 (Keras' name)
    """The Vandermonde matrix of the 1-D ``x``: columns ``x^(N−1), …, x, 1`` (reversed with
    ``increasing``), in ``x``'s dtype (powers computed in floats).
    VJP: ``δxᵢ = Σⱼ δaᵢⱼ pⱼ xᵢ^(pⱼ − 1)``, through :func:`~minired.ops.elementwise.power`.

    Args:
        x: a 1-D array.
        N: the number of columns (``len(x)`` when None).
        increasing: powers ``0, 1, …`` from the left instead of decreasing.

    Example:
        >>> vander(np.array([2.0, 3.0]))
        array([[2., 1.],
               [3., 1.]])
    """
    v = _array(x)
    if v.ndim != 1:
        raise ValueError(f"vander: `x` must be 1-D, got shape {v.shape}.")
    n = v.shape[0] if N is None else int(N)
    compute = ew.result_dtype(v, np.zeros((), "float32"))
    powers = (np.arange(n) if increasing else np.arange(n - 1, -1, -1)).astype(compute)
    base = sh.expand_dims(x if v.dtype == compute else cast(x, compute), -1)
    a = ew.power(base, powers)
    return a if v.dtype == compute else cast(a, v.dtype)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``.
    VJP (array bounds): through ``power`` (``δt = δa ⊙ a ln base``) and ``linspace``.

    Args:
        start, stop: the exponents of the first and last values (numbers or arrays).
        num: how many values.
        endpoint: include ``base ** stop``.
        base: the base of the powers.
        dtype: the result dtype (``floatx`` by default).
        axis: where the new axis goes when the bounds are arrays.

    Example:
        >>> logspace(0.0, 2.0, 3)
        array([  1.,  10., 100.], dtype=float32)
    """
    t = linspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)
    return ew.power(np.asarray(base, dtype=_array(t).dtype), t)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers from ``start`` to ``stop`` evenly spaced on a log scale:
    ``sign(start) · 10^linspace(log₁₀|start|, log₁₀|stop|)`` (as Keras).
    VJP: through ``abs``, ``log`` and :func:`logspace`.

    Args:
        start, stop: the first and last values (same sign, not 0; numbers or arrays).
        num: how many values.
        endpoint: include ``stop``.
        dtype: the result dtype (``floatx`` by default).
        axis: where the new axis goes when the bounds are arrays.

    Example:
        >>> geomspace(1.0, 100.0, 3)
        array([  1.,  10., 100.], dtype=float32)
    """
    work = dtype or config.floatx()
    logs = []
    for bound in (start, stop):
        if isinstance(bound, np.ndarray):
            logs.append(ew.log(cast(ew.abs(bound), work)))
        else:
            logs.append(np.log(np.asarray(abs(bound), dtype=work)))
    ln10 = np.log(np.asarray(10.0, dtype=_array(logs[0]).dtype))
    a = logspace(ew.divide(logs[0], ln10), ew.divide(logs[1], ln10), num=num,
                 endpoint=endpoint, base=10, dtype=dtype, axis=axis)
    sign = np.sign(np.asarray(_value(start)).astype(_array(logs[0]).dtype)).astype(
        _array(a).dtype)
    return ew.multiply(a, sign)


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of the flat (row-major) ``indices``: one
    array per axis, in ``indices``' dtype.

    Args:
        indices: integer indices into the flattened array.
        shape: the array's shape.

    Example:
        >>> unravel_index(np.array([5, 7], dtype="int32"), (2, 4))
        (array([1, 1], dtype=int32), array([1, 3], dtype=int32))
    """
    v = _array(indices)
    if any(s is None for s in shape):
        raise ValueError(f"`shape` argument cannot contain `None`. Received: shape={shape}")
    coords = np.unravel_index(v.astype(np.int64), tuple(int(s) for s in shape))
    return tuple(np.asarray(c).astype(v.dtype) for c in coords)


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` along ``axis``: the ``kth + 1`` smallest first (in
    increasing order), then the others (in decreasing order), int32, as Keras' TensorFlow
    backend orders them (ties: the lower index first). No gradient.

    Args:
        x: the array.
        kth: the position that splits: ``kth + 1`` smallest elements come first.
        axis: the axis to partition (the flattened ``x`` when None).

    Example:
        >>> argpartition(np.array([7, 1, 5, 3]), 1)
        array([1, 3, 0, 2], dtype=int32)
    """
    v = _array(x)
    if axis is None:
        v, axis = v.reshape(-1), 0
    moved = np.moveaxis(v, axis, -1)
    n = moved.shape[-1]
    k = int(np.clip(kth, 0, n - 1))
    ascending = np.argsort(moved, axis=-1, kind="stable")
    bottom = ascending[..., :k + 1]
    rest = np.sort(ascending[..., k + 1:], axis=-1)              # by index, then by value ↓
    rest_values = np.take_along_axis(moved, rest, axis=-1)
    top = np.take_along_axis(rest, np.argsort(-rest_values, axis=-1, kind="stable"), axis=-1)
    out = np.concatenate([bottom, top], axis=-1)
    return np.moveaxis(out, -1, axis).astype("int32")
