"""Reductions: ``sum``, ``mean``, ``max``, ``min``, ``prod``, ``var``, ``std``, ``logsumexp``...

A reduction's VJP spreads ``δa`` back over the reduced axes: ``sum`` copies it to every
element (each one counted once), ``mean`` divides it by the count. ``keepdims_like``
re-inserts the reduced axes so that ``δa`` broadcasts against ``x``.

``axis`` may be None (every axis), an int (negative counts from the end), or a tuple or
list of ints, as in Keras.
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops.elementwise import _float, _value


def keepdims_like(grad, x_ndim: int, axis, keepdims: bool):
    """``grad`` with the reduced axes back as size 1, so that it broadcasts to ``x``."""
    if keepdims or axis is None and np.ndim(grad) == 0:
        return grad if np.ndim(grad) == x_ndim else np.reshape(grad, (1,) * x_ndim)
    axes = tuple(range(x_ndim)) if axis is None else np.atleast_1d(axis)
    return np.expand_dims(grad, tuple(int(a) % x_ndim for a in axes))


def _spread(g, v, axis, keepdims):
    """``δa`` broadcast back to the shape of ``x`` (the VJP of ``sum``)."""
    return np.broadcast_to(keepdims_like(g, v.ndim, axis, keepdims), v.shape)


def sum(x, axis=None, keepdims=False):  # noqa: A001 (Keras' name)
    """``a = Σ x`` over ``axis``. VJP: ``δx = δa`` copied to every element summed.

    Booleans sum to int32, as in Keras.
    """
    v = np.asarray(_value(x))
    v = v.astype("int32") if v.dtype == np.bool_ else v
    axis = _axis(axis)
    a = np.sum(v, axis=axis, keepdims=keepdims, dtype=v.dtype)   # int32 stays int32
    return record(a, (x,), lambda g: (_spread(g, v, axis, keepdims),))


def mean(x, axis=None, keepdims=False):
    """``a = (1/n) Σ x`` over ``axis`` (``n`` elements). VJP: ``δx = δa / n``.

    Integers average to ``floatx``, as in Keras.
    """
    v = _float(x)
    axis = _axis(axis)
    a = np.mean(v, axis=axis, keepdims=keepdims)
    count = v.size // (np.size(a) or 1) if v.size else 1
    return record(a, (x,), lambda g: (_spread(g, v, axis, keepdims) / count,))


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 (Keras' name)
    """``a = max x`` over ``axis``.

    VJP: ``δa`` shared **equally among the tied maxima** (``δx = δa ⊙ [x = a] / #ties``),
    as TensorFlow's ``reduce_max`` gradient.
    """
    return _extremum(np.max, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 (Keras' name)
    """``a = min x`` over ``axis``. VJP: as :func:`max`, shared equally among tied minima."""
    return _extremum(np.min, x, axis, keepdims, initial)


def _extremum(function, x, axis, keepdims, initial):
    v = np.asarray(_value(x))
    axis = _axis(axis)
    kwargs = {} if initial is None else {"initial": initial}
    a = function(v, axis=axis, keepdims=keepdims, **kwargs)

    def vjp(g):
        hit = v == keepdims_like(a, v.ndim, axis, keepdims)
        ties = np.sum(hit, axis=axis, keepdims=True).astype(g.dtype)
        return (hit * keepdims_like(g, v.ndim, axis, keepdims) / ties,)

    return record(a, (x,), vjp)


def prod(x, axis=None, keepdims=False, dtype=None):
    """``a = Π x`` over ``axis``.

    VJP: ``δxᵢ = δa ⊙ Π_{j≠i} xⱼ``, the product of the *other* elements (computed from
    running products on each side, so that a zero among the ``x`` is handled exactly,
    unlike ``a / xᵢ``).
    """
    v = np.asarray(_value(x))
    if dtype is not None:
        v = v.astype(dtype)
    axis = _axis(axis)
    a = np.prod(v, axis=axis, keepdims=keepdims, dtype=v.dtype)

    def vjp(g):
        return (_spread(g, v, axis, keepdims) * _product_of_others(v, axis),)

    return record(a, (x,), vjp)


def _product_of_others(v, axis):
    """For each element, the product of the other elements of its reduction."""
    axes = tuple(range(v.ndim)) if axis is None else tuple(
        int(a) % v.ndim for a in np.atleast_1d(axis))
    if v.ndim == 0:
        return np.ones_like(v)
    inner = tuple(range(v.ndim - len(axes), v.ndim))
    moved = np.moveaxis(v, axes, inner)
    flat = moved.reshape(moved.shape[:v.ndim - len(axes)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=v.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((left * right).reshape(moved.shape), inner, axes)


def var(x, axis=None, keepdims=False):
    """``a = (1/n) Σ (x − x̄)²`` over ``axis`` (the biased variance, as Keras').

    VJP: ``δx = δa ⊙ 2 (x − x̄) / n`` (the ``x̄`` term cancels: ``Σ (x − x̄) = 0``).
    """
    v = _float(x)
    axis = _axis(axis)
    centered = v - np.mean(v, axis=axis, keepdims=True)
    a = np.mean(np.square(centered), axis=axis, keepdims=keepdims)
    count = v.size // (np.size(a) or 1) if v.size else 1
    return record(a, (x,), lambda g: (_spread(g, v, axis, keepdims) * 2 * centered / count,))


def std(x, axis=None, keepdims=False):
    """``a = √var(x)``. VJP: ``δx = δa ⊙ (x − x̄) / (n a)``."""
    v = _float(x)
    axis = _axis(axis)
    centered = v - np.mean(v, axis=axis, keepdims=True)
    a = np.sqrt(np.mean(np.square(centered), axis=axis, keepdims=keepdims))
    count = v.size // (np.size(a) or 1) if v.size else 1

    def vjp(g):
        return (_spread(g / a, v, axis, keepdims) * centered / count,)

    return record(a, (x,), vjp)


def logsumexp(x, axis=None, keepdims=False):
    """``a = ln Σ eˣ`` over ``axis``, computed as ``m + ln Σ e^(x − m)`` with ``m = max x``
    (no overflow). VJP: ``δx = δa ⊙ e^(x − a)``, i.e. ``δa`` times the softmax."""
    v = _float(x)
    axis = _axis(axis)
    m = np.max(v, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    a = np.log(np.sum(np.exp(v - m), axis=axis, keepdims=True)) + m
    full = a
    if not keepdims:
        a = np.squeeze(a, axis=tuple(range(v.ndim)) if axis is None else axis)

    return record(a, (x,), lambda g: (_spread(g, v, axis, keepdims) * np.exp(v - full),))


def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (of the flattened ``x`` when None).

    VJP: ``δxᵢ = Σ_{j ≥ i} δaⱼ``, the running sum of ``δa`` taken from the end.
    """
    v = np.asarray(_value(x))
    if dtype is not None:
        v = v.astype(dtype)
    a = np.cumsum(v, axis=axis, dtype=v.dtype)

    def vjp(g):
        along = 0 if axis is None else axis
        grad = np.flip(np.cumsum(np.flip(g, along), axis=along), along)
        return (grad.reshape(v.shape),)

    return record(a, (x,), vjp)


# -- no gradient ------------------------------------------------------------------------------
def argmax(x, axis=None, keepdims=False):
    """The index of the largest value (the first one of a tie), as int32."""
    return np.asarray(np.argmax(_value(x), axis=axis, keepdims=keepdims), dtype="int32")


def argmin(x, axis=None, keepdims=False):
    """The index of the smallest value (the first one of a tie), as int32."""
    return np.asarray(np.argmin(_value(x), axis=axis, keepdims=keepdims), dtype="int32")


def any(x, axis=None, keepdims=False):  # noqa: A001 (Keras' name)
    """Whether any element along ``axis`` is true (non-zero)."""
    return np.asarray(np.any(_value(x), axis=_axis(axis), keepdims=keepdims))


def all(x, axis=None, keepdims=False):  # noqa: A001 (Keras' name)
    """Whether every element along ``axis`` is true (non-zero)."""
    return np.asarray(np.all(_value(x), axis=_axis(axis), keepdims=keepdims))


def _axis(axis):
    """Keras takes an int, a tuple or a list for ``axis``; NumPy wants an int or a tuple."""
    return tuple(axis) if isinstance(axis, list) else axis



def trace(x, offset=0, axis1=0, axis2=1):
    """``a = Σᵢ x[i, i + offset]`` in the plane ``(axis1, axis2)``: the sum of
    :func:`~minired.ops.shapes.diagonal` (whose VJP puts ``δa`` back on the diagonal)."""
    from minired.ops.shapes import diagonal

    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


amax = max
amin = min


def ptp(x, axis=None, keepdims=False):
    """``a = max x − min x`` over ``axis`` (the VJPs of both, ties shared)."""
    from minired.ops.elementwise import subtract

    return subtract(max(x, axis, keepdims), min(x, axis, keepdims))


def average(x, axis=None, weights=None):
    """``a = Σ w x / Σ w`` over ``axis`` (the mean when ``weights`` is None); 1-D
    ``weights`` go along ``axis``. Written with the ops (gradients to ``x`` and ``w``)."""
    from minired.ops import elementwise as ew
    from minired.ops.shapes import reshape

    if weights is None:
        return mean(x, axis=axis)
    v, w = np.asarray(_value(x)), np.asarray(_value(weights))
    if w.ndim != v.ndim:
        if axis is None or w.ndim != 1 or np.ndim(axis) != 0:
            raise ValueError(f"average: `weights` of shape {w.shape} must have x's shape "
                             f"{v.shape}, or be 1-D along one `axis`.")
        view = [1] * v.ndim
        view[axis] = w.size
        weights = reshape(weights, view)
    dtype = ew.result_dtype(v, w, need_float=True)
    x, weights = _as(x, dtype), _as(weights, dtype)
    total = sum(ew.multiply(x, weights), axis=axis)
    return ew.divide(total, sum(weights, axis=axis))


def _as(x, dtype):
    """``x`` cast to ``dtype`` (recorded) unless it is already."""
    from minired.ops.core import cast

    return x if np.asarray(_value(x)).dtype == dtype else cast(x, dtype)


def count_nonzero(x, axis=None):
    """The number of non-zero elements along ``axis`` (int32). No gradient."""
    return np.asarray(np.count_nonzero(_value(x), axis=_axis(axis)), dtype="int32")


def cumprod(x, axis=None, dtype=None):
    """Running products along ``axis`` (of the flattened ``x`` when None).

    VJP: ``δxᵢ = Σ_{j ≥ i} δaⱼ Π_{k ≤ j, k ≠ i} xₖ``, computed exactly (also where an ``x`` is
    0, where TensorFlow's ``Σ δa a / x`` gives NaN): for each ``i`` the running products of
    ``x`` with ``xᵢ`` replaced by 1 (an ``n × n`` table along the axis)."""
    v = np.asarray(_value(x))
    if dtype is not None:
        v = v.astype(dtype)
    v = v.astype("int32") if v.dtype == np.bool_ else v
    flat = v.reshape(-1) if axis is None else v
    along = 0 if axis is None else axis % v.ndim
    a = np.cumprod(flat, axis=along, dtype=flat.dtype)

    def vjp(g):
        moved = np.moveaxis(flat, along, -1)
        n = moved.shape[-1]
        table = np.repeat(moved[..., None, :], n, axis=-2)          # (…, i, k)
        table[..., np.arange(n), np.arange(n)] = 1
        others = np.cumprod(table, axis=-1) * np.triu(np.ones((n, n), dtype=bool))
        grad = np.sum(others * np.moveaxis(g, along, -1)[..., None, :], axis=-1)
        return (np.moveaxis(grad, -1, along).reshape(v.shape),)

    return record(a, (x,), vjp)


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``0 ≤ q ≤ 1``, a number or an array, whose axes come first)
    along ``axis``, as TensorFlow computes them: sort, then pick (``"lower"``, ``"higher"``,
    ``"nearest"``) or interpolate (``"linear"``, ``"midpoint"``) neighbours.

    Written with :func:`~minired.ops.shapes.sort` and ``take``: ``δa`` goes to the picked
    elements (for ``"linear"`` with weights ``1 − f`` and ``f``); NaN anywhere along the axis
    gives NaN."""
    from minired.ops import elementwise as ew
    from minired.ops.shapes import expand_dims, moveaxis, reshape, sort, take, transpose

    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: `method` must be one of {_QUANTILE_METHODS}, got "
                         f"{method!r}.")
    v = _float(x)
    x = _as(x, v.dtype)
    qs = np.asarray(_value(q))
    if not isinstance(q, np.ndarray | np.generic) and qs.dtype == np.float64:
        qs = qs.astype(np.float32)          # as tf.convert_to_tensor: Python floats are float32
    qs = qs.astype(np.float64)
    axes = list(range(v.ndim)) if axis is None else [int(a) % v.ndim for a in
                                                      np.atleast_1d(axis)]
    other = [i for i in range(v.ndim) if i not in axes]
    y = reshape(transpose(x, other + axes), [v.shape[i] for i in other] + [-1])
    y = sort(y, axis=-1)
    d = int(np.prod([v.shape[i] for i in axes]))
    exact = (d - 1) * qs

    def picked(indices):
        return take(y, np.clip(indices.astype(int), 0, d - 1), axis=-1)

    if method == "lower":
        a = picked(np.floor(exact))
    elif method == "higher":
        a = picked(np.ceil(exact))
    elif method == "nearest":
        a = picked(np.round(exact))
    elif method == "midpoint":
        a = ew.multiply(ew.add(picked(np.floor(exact)), picked(np.ceil(exact))), 0.5)
    else:
        larger = np.clip(np.ceil(exact).astype(int), 0, d - 1)
        smaller = np.maximum(larger - 1, 0)
        larger = np.minimum(smaller + 1, d - 1)
        fraction = (larger - exact).astype(v.dtype)
        a = ew.add(ew.multiply(picked(larger), 1 - fraction),
                   ew.multiply(picked(smaller), fraction))
    nan = np.any(np.isnan(v), axis=tuple(axes)).reshape(
        [v.shape[i] for i in other] + [1] * qs.ndim)
    a = ew.where(nan, np.asarray(np.nan, dtype=v.dtype), a)
    if keepdims:
        a = expand_dims(a, sorted(axes)) if axis is not None else reshape(
            a, qs.shape + (1,) * v.ndim)
        return a if axis is None else _rotate(a, qs.ndim, moveaxis)
    return _rotate(a, qs.ndim, moveaxis)


def _rotate(a, count, moveaxis):
    """The last ``count`` axes moved to the front (TensorFlow's ``rotate_transpose``)."""
    n = np.ndim(a)
    if count == 0 or n < 2:
        return a
    return moveaxis(a, list(range(n - count, n)), list(range(count)))


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """:func:`quantile` with ``q`` in percent (divided by 100 in ``floatx``, as Keras)."""
    from minired import config

    q = np.asarray(_value(q), dtype=config.floatx())
    return quantile(x, q / q.dtype.type(100), axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    """The middle value along ``axis`` (the mean of the two middle ones for an even count):
    ``quantile(x, 0.5)``."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)
