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

