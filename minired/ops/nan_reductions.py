"""Reductions that skip NaN: ``nansum``, ``nanmean``, ``nanmax``, ``nanvar``, ``nanquantile``...

Each one is its plain reduction on ``x`` with the NaNs replaced by the value that does not
change the result (0 for a sum, 1 for a product, −∞ for a maximum), written, as Keras'
TensorFlow backend writes it, with :func:`~minired.ops.elementwise.where` and the
reductions of :mod:`~minired.ops.reductions`. So the VJP is theirs, and a NaN element gets
no gradient: ``δx = δa_plain ⊙ [x is not NaN]``. A slice that is all NaN gives NaN (``-1``
for ``nanargmax``/``nanargmin``).

Example:
    >>> from minired import ops
    >>> ops.nanmean(np.array([1.0, np.nan, 3.0]))
    array(2.)
"""

from __future__ import annotations

import numpy as np

from minired import config
from minired.autodiff.tape import record
from minired.ops import elementwise as ew
from minired.ops import reductions as rd
from minired.ops.elementwise import _value


def _array(x) -> np.ndarray:
    return np.asarray(_value(x))


def _floating(v) -> bool:
    return np.issubdtype(v.dtype, np.floating)


def _select(condition, x1, x2):
    """``where(condition, x₁, x₂)`` with TensorFlow's VJP, a selection:
    ``δx₁ = δa`` where ``condition`` else exactly 0 (even where ``δa`` is NaN or ∞, which a
    product ``δa ⊙ [condition]`` would spread: an all-NaN slice divides 0 by 0)."""
    c = np.asarray(condition, dtype=bool)
    v1, v2 = _value(x1), _value(x2)
    dtype = np.result_type(v1, v2)
    a = np.where(c, v1, v2).astype(dtype, copy=False)
    zero = np.zeros((), dtype=dtype)
    return record(a, (x1, x2), lambda g: (np.where(c, g, zero), np.where(c, zero, g)))


def _fill_nan(x, fill):
    """``where(isnan(x), fill, x)``: the VJP sends ``δa`` to the kept elements only."""
    v = _array(x)
    return _select(np.isnan(v), np.asarray(fill, dtype=v.dtype), x)


def _all_nan(v, axis, keepdims):
    return np.all(np.isnan(v), axis=rd._axis(axis), keepdims=keepdims)


def nansum(x, axis=None, keepdims=False):
    """``a = Σ x`` over the non-NaN elements. VJP: ``δx = δa ⊙ [x not NaN]``.

    Booleans and small ints sum to int32 (unsigned ones to uint32), as Keras.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nansum(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([5., 8.])
    """
    v = _array(x)
    if v.dtype in (np.bool_, np.int8, np.int16, np.uint8, np.uint16):
        wide = "uint32" if v.dtype.kind == "u" else "int32"
        return rd.sum(v.astype(wide), axis=axis, keepdims=keepdims)
    if not _floating(v):
        return rd.sum(x, axis=axis, keepdims=keepdims)
    return rd.sum(_fill_nan(x, 0), axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """``a = Π x`` over the non-NaN elements (NaN counts as 1).
    VJP: ``δxᵢ = δa Π_{j≠i} xⱼ`` for a kept ``xᵢ``, 0 for a NaN.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanprod(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([ 4., 12.])
    """
    if not _floating(_array(x)):
        return rd.prod(x, axis=axis, keepdims=keepdims)
    return rd.prod(_fill_nan(x, 1), axis=axis, keepdims=keepdims)


def _extremum(x, axis, keepdims, reduce, fill, logical):
    v = _array(x)
    if v.dtype == np.bool_:
        return logical(v, axis=rd._axis(axis), keepdims=keepdims)
    if not _floating(v):
        return reduce(x, axis=axis, keepdims=keepdims)
    a = reduce(_fill_nan(x, fill), axis=axis, keepdims=keepdims)
    return _select(_all_nan(v, axis, keepdims), np.asarray(np.nan, dtype=v.dtype), a)


def nanmax(x, axis=None, keepdims=False):
    """``a = max x`` over the non-NaN elements (NaN where all are NaN).
    VJP: ``δa`` shared among the tied maxima, as :func:`~minired.ops.reductions.max`.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanmax(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([4., 6.])
    """
    return _extremum(x, axis, keepdims, rd.max, -np.inf, np.any)


def nanmin(x, axis=None, keepdims=False):
    """``a = min x`` over the non-NaN elements (NaN where all are NaN).
    VJP: ``δa`` shared among the tied minima.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanmin(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([1., 2.])
    """
    return _extremum(x, axis, keepdims, rd.min, np.inf, np.all)


def _nan_float(x):
    """``x`` as floats, Keras' ``result_type(x.dtype, float)`` (ints give ``floatx``)."""
    from minired.ops.core import cast

    v = _array(x)
    return x if _floating(v) else cast(x, config.floatx())


def nanmean(x, axis=None, keepdims=False):
    """``a = Σ x / n`` over the ``n`` non-NaN elements. VJP: ``δx = δa ⊙ [x not NaN] / n``.

    Integers average in float32 (Keras' TensorFlow backend).

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanmean(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([2.5, 4. ])
    """
    from minired.ops.core import cast

    v = _array(x)
    if axis in ((), []):
        return x
    if not _floating(v):
        return rd.mean(cast(x, "float32"), axis=axis, keepdims=keepdims)
    count = np.sum(~np.isnan(v), axis=rd._axis(axis), keepdims=keepdims).astype(v.dtype)
    with np.errstate(invalid="ignore"):          # an all-NaN slice: 0 / 0 = NaN, as Keras
        return ew.divide(nansum(x, axis=axis, keepdims=keepdims), count)


def nanvar(x, axis=None, keepdims=False):
    """``a = Σ (x − x̄)² / n`` over the ``n`` non-NaN elements (``x̄`` their mean).
    VJP: ``δx = δa ⊙ 2 (x − x̄) / n`` on the kept elements (the ``x̄`` term cancels).

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanvar(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([2.25, 4.  ])
    """
    x = _nan_float(x)
    v = _array(x)
    valid = ~np.isnan(v)
    centered = _select(valid, ew.subtract(x, nanmean(x, axis=axis, keepdims=True)),
                       np.zeros((), dtype=v.dtype))
    count = np.sum(valid, axis=rd._axis(axis), keepdims=keepdims).astype(v.dtype)
    with np.errstate(invalid="ignore"):          # an all-NaN slice: 0 / 0 = NaN, as Keras
        return ew.divide(rd.sum(ew.square(centered), axis=axis, keepdims=keepdims), count)


def nanstd(x, axis=None, keepdims=False):
    """``a = √nanvar(x)``. VJP: ``δx = δa ⊙ (x − x̄) / (n a)`` on the kept elements.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanstd(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([1.5, 2. ])
    """
    return ew.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_arg(x, axis, keepdims, function, fill):
    v = _array(x)
    if not _floating(v):
        return rd.argmax(v, axis, keepdims) if function is np.argmax else rd.argmin(
            v, axis, keepdims)
    index = function(np.where(np.isnan(v), fill, v), axis=axis, keepdims=keepdims)
    return np.asarray(np.where(_all_nan(v, axis, keepdims), -1, index), dtype="int32")


def nanargmax(x, axis=None, keepdims=False):
    """The index of the largest non-NaN value (``-1`` where all are NaN), int32.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanargmax(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([2, 1], dtype=int32)
    """
    return _nan_arg(x, axis, keepdims, np.argmax, -np.inf)


def nanargmin(x, axis=None, keepdims=False):
    """The index of the smallest non-NaN value (``-1`` where all are NaN), int32.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanargmin(np.array([[1.0, np.nan, 4.0], [2.0, 6.0, np.nan]]), axis=1)
        array([0, 0], dtype=int32)
    """
    return _nan_arg(x, axis, keepdims, np.argmin, np.inf)


def nancumsum(x, axis=None, dtype=None):
    """Running sums with NaN counted as 0 (``cumsum(nan_to_num(x))``).
    VJP: ``δxᵢ = Σ_{j ≥ i} δaⱼ`` for a kept ``xᵢ``, 0 for a NaN.

    Args:
        x: the array.
        axis: the axis of the running sums (the flattened ``x`` if None).
        dtype: the dtype to sum in (``x``'s by default).

    Example:
        >>> nancumsum(np.array([1.0, np.nan, 2.0]))
        array([1., 1., 3.])
    """
    return rd.cumsum(ew.nan_to_num(x), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    """Running products with NaN counted as 1 (``cumprod(nan_to_num(x, nan=1))``).
    VJP: as :func:`~minired.ops.reductions.cumprod`, 0 for a NaN.

    Args:
        x: the array.
        axis: the axis of the running products (the flattened ``x`` if None).
        dtype: the dtype to multiply in (``x``'s by default).

    Example:
        >>> nancumprod(np.array([2.0, np.nan, 3.0]))
        array([2., 2., 6.])
    """
    return rd.cumprod(ew.nan_to_num(x, nan=1.0), axis=axis, dtype=dtype)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles of the non-NaN elements along ``axis`` (NaN where all are NaN);
    the axes of ``q`` come first, as Keras'.

    Each slice is sorted with its NaNs last; with ``n`` valid values the picked positions are
    ``(n − 1) q`` (``"lower"``, ``"higher"``, ``"nearest"``), or their neighbours interpolated
    (``"linear"``: ``a = (1 − f) y_⌈⌉ + f y_⌈⌉₋₁``, ``"midpoint"``). Written with
    :func:`~minired.ops.shapes.sort` and ``take_along_axis``, whose VJPs send ``δa`` back to
    the picked elements (weights ``1 − f`` and ``f``).

    Args:
        x: a float array.
        q: the quantile(s), in ``[0, 1]`` (a number or an array).
        axis: the axis or axes along which to take them; every axis if None.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanquantile(np.array([1.0, np.nan, 3.0, 2.0]), 0.25)
        array(1.5)
    """
    from minired.ops.shapes import expand_dims, moveaxis, reshape, sort, take_along_axis, transpose

    if method not in rd._QUANTILE_METHODS:
        raise ValueError(f"nanquantile: `method` must be one of {rd._QUANTILE_METHODS}, got "
                         f"{method!r}.")
    v = _array(x)
    if not _floating(v):
        raise TypeError(f"nanquantile: `x` must be a float array (integers have no NaN: use "
                        f"ops.quantile), got dtype {v.dtype}.")
    if axis in ((), []):
        return x
    qs = np.asarray(_value(q), dtype=config.floatx()).astype(np.float64)
    axes = list(range(v.ndim)) if axis is None else [int(a) % v.ndim for a in
                                                      np.atleast_1d(axis)]
    other = [i for i in range(v.ndim) if i not in axes]
    other_shape = [v.shape[i] for i in other]
    y = sort(reshape(transpose(x, other + axes), other_shape + [-1]), axis=-1)  # NaN last
    d = int(np.prod([v.shape[i] for i in axes]))
    n = np.sum(~np.isnan(_array(y)), axis=-1).astype(np.float64)       # (*other,)
    n_q = n.reshape(n.shape + (1,) * qs.ndim)                           # (*other, *q)
    exact = (n_q - 1) * qs
    flat_q = int(np.prod(qs.shape))
    shape_q = tuple(other_shape) + qs.shape

    def picked(indices):
        last = np.clip(np.minimum(indices, n_q - 1), 0, d - 1).astype(int)
        got = take_along_axis(y, last.reshape(tuple(other_shape) + (flat_q,)), axis=-1)
        return reshape(got, shape_q)

    if method == "lower":
        a = picked(np.floor(exact))
    elif method == "higher":
        a = picked(np.ceil(exact))
    elif method == "nearest":
        a = picked(np.round(exact))
    elif method == "midpoint":
        a = ew.multiply(ew.add(picked(np.floor(exact)), picked(np.ceil(exact))),
                        np.asarray(0.5, v.dtype))
    else:
        larger = np.minimum(np.ceil(exact), n_q - 1)
        smaller = np.maximum(larger - 1, 0)
        larger = np.minimum(smaller + 1, n_q - 1)
        fraction = (larger - exact).astype(v.dtype)
        a = ew.add(ew.multiply(picked(larger), 1 - fraction),
                   ew.multiply(picked(smaller), fraction))
    a = _select(np.broadcast_to(n_q == 0, shape_q), np.asarray(np.nan, dtype=v.dtype), a)
    count = qs.ndim
    if count and other:                     # q's axes first
        a = moveaxis(a, list(range(len(other), len(other) + count)), list(range(count)))
    if keepdims:
        if axis is None:
            return reshape(a, qs.shape + (1,) * v.ndim)
        for ax in sorted(axes):
            a = expand_dims(a, ax + count)
    return a


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """:func:`nanquantile` with ``q`` in percent (divided by 100 in ``floatx``, as Keras).

    Args:
        x: a float array.
        q: the percentile(s), in ``[0, 100]``.
        axis, method, keepdims: as :func:`nanquantile`.

    Example:
        >>> nanpercentile(np.array([1.0, np.nan, 3.0, 2.0]), [50.0, 100.0])
        array([2., 3.])
    """
    q = np.asarray(_value(q), dtype=config.floatx())
    return nanquantile(x, q / q.dtype.type(100), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """The middle of the non-NaN values along ``axis``: ``nanquantile(x, 0.5)``.

    Args:
        x: the array.
        axis: the axis or axes to reduce (an int, a tuple or a list); every axis if None.
        keepdims: keep the reduced axes with size 1.

    Example:
        >>> nanmedian(np.array([1.0, np.nan, 3.0, 2.0]))
        array(2.)
    """
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)
