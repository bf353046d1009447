"""Segment reductions: ``segment_sum``, ``segment_max``, ``segment_min``, ``segment_prod``.

Row ``i`` of ``data`` belongs to segment ``s = segment_ids[i]``; each output row ``a[s]``
reduces the rows of its segment: ``a[s] = Σ_{i: idᵢ = s} xᵢ`` (or max, min, product).

As Keras' TensorFlow backend:

- ``sorted=True`` (``tf.math.segment_*``): ``segment_ids`` must be non-decreasing and
  non-negative, ``num_segments`` must be None, there are ``max(id) + 1`` segments, and an
  empty segment gives 0 (1 for the product);
- ``sorted=False`` (``tf.math.unsorted_segment_*``): ``num_segments`` defaults to
  ``max(id) + 1`` (for ``segment_sum``: the number of *distinct* ids, as Keras), rows with a
  negative id are dropped, and an empty segment gives 0 for the sum, 1 for the product, the
  lowest value of the dtype for the max and the largest for the min.

VJPs (TensorFlow's): ``δxᵢ = δa[idᵢ]`` for the sum (a gather); for max/min the gradient of
a segment is shared equally by its tied extrema, ``δxᵢ = δa[idᵢ] [xᵢ = a[idᵢ]] / nᵢ``; for
the product ``δxᵢ = δa[idᵢ] Π_{j≠i, idⱼ = idᵢ} xⱼ`` (computed as ``a/xᵢ`` without zeros,
the product of the others for the one zero of a segment, 0 when a segment has two zeros).
A dropped row (negative id) gets 0.

Example:
    >>> from minired import ops
    >>> ops.segment_sum(np.array([1.0, 2.0, 10.0]), np.array([0, 0, 1]))
    array([ 3., 10.])
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops.elementwise import _value


def _prepare(name: str, data, segment_ids, num_segments, sorted: bool, default_count):
    """The data, int ids, number of segments and the mask of the rows that are kept."""
    x = np.asarray(_value(data))
    ids = np.asarray(_value(segment_ids))
    if ids.ndim != 1:
        raise ValueError(f"{name}: argument `segment_ids` should be a 1-D vector, got shape "
                         f"{ids.shape}.")
    if not (np.issubdtype(ids.dtype, np.integer) or ids.size == 0):
        raise TypeError(f"{name}: `segment_ids` must be integers, got dtype {ids.dtype}.")
    ids = ids.astype(np.int64)
    if x.ndim == 0 or x.shape[0] != ids.shape[0]:
        raise ValueError(f"{name}: argument `segment_ids` and `data` should have the same "
                         f"leading dimension. Got {ids.shape} vs. {x.shape}.")
    if sorted:
        if num_segments is not None:
            raise ValueError(f"{name}: argument `num_segments` cannot be set when sorted is "
                             f"True (Keras' TensorFlow backend). Received: "
                             f"num_segments={num_segments}, sorted={sorted}.")
        if np.any(ids < 0) or np.any(np.diff(ids) < 0):
            raise ValueError(f"{name}: with sorted=True, `segment_ids` must be non-negative "
                             f"and non-decreasing, got {ids.tolist()}.")
        count = int(ids[-1]) + 1 if ids.size else 0
    else:
        if num_segments is None:
            count = default_count(ids)
        else:
            count = int(num_segments)
            if count < 0:
                raise ValueError(f"{name}: `num_segments` must be non-negative, got "
                                 f"{num_segments}.")
        if np.any(ids >= count):
            raise ValueError(f"{name}: `segment_ids` must be < num_segments={count}, got "
                             f"{ids.tolist()}.")
    kept = ids >= 0
    return x, ids, count, kept


def _max_plus_one(ids: np.ndarray) -> int:
    return int(ids.max()) + 1 if ids.size else 0


def _reduce(x, ids, kept, count, ufunc, initial):
    out = np.full((count, *x.shape[1:]), initial, dtype=x.dtype)
    ufunc.at(out, ids[kept], x[kept])
    return out


def _gather(values, ids, kept):
    """``values[idᵢ]`` for each row, 0 for a dropped row (negative id)."""
    if values.shape[0] == 0:
        return np.zeros((ids.shape[0], *values.shape[1:]), dtype=values.dtype)
    rows = values[np.maximum(ids, 0)]
    mask = kept.reshape((-1,) + (1,) * (values.ndim - 1))
    return np.where(mask, rows, np.zeros((), dtype=values.dtype))


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """``a[s] = Σ_{i: idᵢ = s} xᵢ``: the sum of each segment's rows. VJP: ``δxᵢ = δa[idᵢ]``.

    Args:
        data: the array; its first axis is segmented.
        segment_ids: the 1-D int segment of each row of ``data``.
        num_segments: the number of output rows (only with ``sorted=False``); if None, the
            number of distinct ids (as Keras' TensorFlow backend).
        sorted: whether ``segment_ids`` is sorted (then ``max(id) + 1`` segments).

    Example:
        >>> segment_sum(np.array([1.0, 2.0, 10.0, 20.0]), np.array([0, 0, 2, 2]), 3)
        array([ 3.,  0., 30.])
    """
    x, ids, count, kept = _prepare("segment_sum", data, segment_ids, num_segments, sorted,
                                   lambda i: int(np.unique(i).size))
    a = _reduce(x, ids, kept, count, np.add, 0)
    return record(a, (data,), lambda g: (_gather(np.asarray(g), ids, kept),))


def _extremum(name, data, segment_ids, num_segments, sorted, ufunc, empty):
    x, ids, count, kept = _prepare(name, data, segment_ids, num_segments, sorted,
                                   _max_plus_one)
    if np.issubdtype(x.dtype, np.floating):
        info = np.finfo(x.dtype)
    else:
        info = np.iinfo(x.dtype) if x.dtype != np.bool_ else None
    initial = (info.min if empty == "lowest" else info.max) if info is not None else (
        empty != "lowest")
    a = _reduce(x, ids, kept, count, ufunc, initial)
    if sorted:                                   # tf.math.segment_max/min: 0 if empty
        present = np.zeros(count, dtype=bool)
        present[ids] = True
        a[~present] = 0

    def vjp(g):
        g = np.asarray(g)
        selected = (x == _gather(a, ids, kept)) & kept.reshape((-1,) + (1,) * (x.ndim - 1))
        n = _reduce(selected.astype(g.dtype), ids, kept, count, np.add, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = g / n
        return (np.where(selected, _gather(share, ids, kept), np.zeros((), dtype=g.dtype)),)

    return record(a, (data,), vjp)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """``a[s] = max_{i: idᵢ = s} xᵢ``. VJP: ``δa[s]`` shared equally by the segment's maxima:
    ``δxᵢ = δa[idᵢ] [xᵢ = a[idᵢ]] / #{j: idⱼ = idᵢ, xⱼ = a[idᵢ]}``.

    An empty segment gives 0 with ``sorted=True``, the dtype's lowest value otherwise.

    Args:
        data: the array; its first axis is segmented.
        segment_ids: the 1-D int segment of each row of ``data``.
        num_segments: the number of output rows (only with ``sorted=False``); if None,
            ``max(segment_ids) + 1``.
        sorted: whether ``segment_ids`` is sorted.

    Example:
        >>> segment_max(np.array([1.0, 5.0, 10.0, -3.0]), np.array([0, 0, 1, 1]))
        array([ 5., 10.])
    """
    return _extremum("segment_max", data, segment_ids, num_segments, sorted, np.maximum,
                     "lowest")


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """``a[s] = min_{i: idᵢ = s} xᵢ``. VJP: ``δa[s]`` shared equally by the segment's minima.

    An empty segment gives 0 with ``sorted=True``, the dtype's largest value otherwise.

    Args:
        data: the array; its first axis is segmented.
        segment_ids: the 1-D int segment of each row of ``data``.
        num_segments: the number of output rows (only with ``sorted=False``); if None,
            ``max(segment_ids) + 1``.
        sorted: whether ``segment_ids`` is sorted.

    Example:
        >>> segment_min(np.array([1.0, 5.0, 10.0, -3.0]), np.array([0, 0, 1, 1]))
        array([ 1., -3.])
    """
    return _extremum("segment_min", data, segment_ids, num_segments, sorted, np.minimum,
                     "largest")


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """``a[s] = Π_{i: idᵢ = s} xᵢ`` (1 for an empty segment).
    VJP: ``δxᵢ = δa[idᵢ] Π_{j≠i, idⱼ = idᵢ} xⱼ``.

    Written as TensorFlow's gradient: ``a[idᵢ] / xᵢ`` in a segment without zeros; in a
    segment with one zero, the product of the others for the zero and 0 for the rest; 0
    everywhere in a segment with two zeros or more.

    Args:
        data: the array; its first axis is segmented.
        segment_ids: the 1-D int segment of each row of ``data``.
        num_segments: the number of output rows (only with ``sorted=False``); if None,
            ``max(segment_ids) + 1``.
        sorted: whether ``segment_ids`` is sorted.

    Example:
        >>> segment_prod(np.array([2.0, 3.0, 4.0]), np.array([1, 1, 0]))
        array([4., 6.])
    """
    x, ids, count, kept = _prepare("segment_prod", data, segment_ids, num_segments, sorted,
                                   _max_plus_one)
    a = _reduce(x, ids, kept, count, np.multiply, 1)

    def vjp(g):
        g = np.asarray(g)
        zero = x == 0
        zeros = _reduce(zero.astype(np.int64), ids, kept, count, np.add, 0)
        g = np.where(zeros > 1, np.zeros((), dtype=g.dtype), g)
        nonzero = np.where(zero, np.ones((), dtype=x.dtype), x)
        nonzero_prod = _reduce(nonzero, ids, kept, count, np.multiply, 1)
        partial = np.where(zero, _gather(nonzero_prod, ids, kept),
                           _gather(a, ids, kept) / nonzero)
        return (_gather(g, ids, kept) * partial,)

    return record(a, (data,), vjp)
