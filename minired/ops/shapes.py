"""Operations that move values without changing them: reshape, transpose, indexing...

Their VJP moves ``δa`` back the same way: ``reshape`` reshapes it back, ``transpose``
applies the inverse permutation, indexing scatters it into zeros (adding where an index
repeats).
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops.elementwise import _value


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one ``-1`` allowed). VJP: ``δx = reshape(δa, x.shape)``."""
    v = _value(x)
    return record(np.reshape(v, newshape), (x,), lambda g: (np.reshape(g, v.shape),))


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None).

    VJP: ``δx = transpose(δa, argsort(axes))``, the inverse permutation.
    """
    v = _value(x)
    axes = tuple(range(v.ndim))[::-1] if axes is None else tuple(axes)
    return record(np.transpose(v, axes), (x,), lambda g: (np.transpose(g, np.argsort(axes)),))


def getitem(x, key):
    """``x[key]``, any NumPy index. VJP: ``δa`` scattered into zeros of ``x``'s shape,
    added where an index repeats (``np.add.at``)."""
    v = _value(x)
    key = tuple(_index(k) for k in key) if isinstance(key, tuple) else _index(key)

    def vjp(g):
        grad = np.zeros(v.shape, dtype=g.dtype)
        np.add.at(grad, key, g)
        return (grad,)

    return record(v[key], (x,), vjp)


def _index(key):
    """An index as NumPy takes it: arrays plain, slices, ints, None and ``...`` as they are."""
    return key.view(np.ndarray) if isinstance(key, np.ndarray) else key


def expand_dims(x, axis):
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple).

    VJP: ``δx = reshape(δa, x.shape)``."""
    v = np.asarray(_value(x))
    axis = tuple(axis) if isinstance(axis, list) else axis
    return record(np.expand_dims(v, axis), (x,), lambda g: (np.reshape(g, v.shape),))


def squeeze(x, axis=None):
    """``x`` without its axes of size 1 (only ``axis`` when given).

    VJP: ``δx = reshape(δa, x.shape)``."""
    v = np.asarray(_value(x))
    axis = tuple(axis) if isinstance(axis, list) else axis
    return record(np.squeeze(v, axis), (x,), lambda g: (np.reshape(g, v.shape),))


def broadcast_to(x, shape):
    """``x`` repeated to ``shape`` by NumPy's broadcasting rules.

    VJP: ``δx = δa`` summed over the copies (the tape's ``unbroadcast`` does it)."""
    v = _value(x)
    return record(np.array(np.broadcast_to(v, shape)), (x,), lambda g: (g,))


def concatenate(xs, axis=0):
    """The arrays ``xs`` joined along an existing ``axis``.

    VJP: ``δa`` cut back into pieces of each input's length along ``axis``."""
    values = [np.asarray(_value(x)) for x in xs]
    a = np.concatenate(values, axis=axis)
    cuts = np.cumsum([v.shape[axis] for v in values])[:-1]
    return record(a, tuple(xs), lambda g: tuple(np.split(g, cuts, axis=axis)))


def stack(x, axis=0):
    """The arrays of the list ``x`` joined along a new ``axis``.

    VJP: ``δa`` taken apart along ``axis``: ``δxᵢ = δa[…, i, …]``."""
    values = [_value(item) for item in x]
    a = np.stack(values, axis=axis)
    return record(a, tuple(x), lambda g: tuple(np.moveaxis(g, axis, 0)))


def split(x, indices_or_sections, axis=0):
    """A list of pieces of ``x`` along ``axis`` (``np.split``'s ``indices_or_sections``).

    Each piece is recorded: its VJP puts ``δpiece`` back at its place in zeros of
    ``x``'s shape."""
    v = np.asarray(_value(x))
    pieces = np.split(v, indices_or_sections, axis=axis)
    axis = axis % v.ndim
    outputs, start = [], 0
    for piece in pieces:
        where = (slice(None),) * axis + (slice(start, start + piece.shape[axis]),)
        start += piece.shape[axis]

        def vjp(g, where=where):
            grad = np.zeros(v.shape, dtype=g.dtype)
            grad[where] = g
            return (grad,)

        outputs.append(record(piece, (x,), vjp))
    return outputs


def take(x, indices, axis=None):
    """The elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` if None);
    negative indices count from the end.

    VJP: ``δa`` added into zeros of ``x``'s shape at ``indices`` (repeats add up)."""
    v = np.asarray(_value(x))
    indices = np.asarray(_value(indices))
    a = np.take(v, indices, axis=axis)

    def vjp(g):
        if axis is None:
            grad = np.zeros(v.size, dtype=g.dtype)
            np.add.at(grad, indices, g)
            return (grad.reshape(v.shape),)
        along = axis % v.ndim
        grad = np.zeros(v.shape, dtype=g.dtype)
        moved = np.moveaxis(g, tuple(range(along, along + indices.ndim)),
                            tuple(range(indices.ndim)))
        np.add.at(np.moveaxis(grad, along, 0), indices, moved)
        return (grad,)

    return record(a, (x,), vjp)


def take_along_axis(x, indices, axis=None):
    """``x`` picked at ``indices`` along ``axis``, as ``np.take_along_axis`` (of the flattened
    ``x`` if None).

    VJP: ``δa`` added into zeros of ``x``'s shape at the picked positions."""
    v = np.asarray(_value(x))
    indices = np.asarray(_value(indices))
    flat = v.reshape(-1) if axis is None else v
    along = 0 if axis is None else axis % v.ndim
    key = _along_axis_key(flat.shape, indices, along)
    a = flat[key]

    def vjp(g):
        grad = np.zeros(flat.shape, dtype=g.dtype)
        np.add.at(grad, key, g)
        return (grad.reshape(v.shape),)

    return record(a, (x,), vjp)


def _along_axis_key(shape, indices, axis):
    """The fancy index that ``take_along_axis`` uses: ``indices`` on ``axis``, a range on
    every other axis (broadcast against each other)."""
    if indices.ndim != len(shape):
        raise ValueError(f"take_along_axis: `indices` must have x's rank {len(shape)}, got "
                         f"shape {indices.shape}.")
    indices = np.where(indices < 0, indices + shape[axis], indices)
    key = []
    for dim, n in enumerate(shape):
        if dim == axis:
            key.append(indices)
        else:
            view = [1] * len(shape)
            view[dim] = n
            key.append(np.arange(n).reshape(view))
    return tuple(key)


def tile(x, repeats):
    """``x`` repeated ``repeats[i]`` times along each axis ``i``.

    VJP: ``δa`` cut into the tiles, and the tiles summed."""
    v = np.asarray(_value(x))
    reps = (repeats,) if np.ndim(repeats) == 0 else tuple(repeats)
    ndim = max(v.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - v.ndim) + v.shape
    a = np.tile(v, reps)

    def vjp(g):
        split_shape = [size for pair in zip(reps, shape, strict=True) for size in pair]
        summed = np.reshape(g, split_shape).sum(axis=tuple(range(0, 2 * ndim, 2)))
        return (summed.reshape(v.shape),)

    return record(a, (x,), vjp)


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened ``x`` if None).

    VJP: ``δxᵢ = Σ`` of ``δa`` over the copies of ``xᵢ``."""
    v = np.asarray(_value(x))
    flat = v.reshape(-1) if axis is None else v
    along = 0 if axis is None else axis % v.ndim
    a = np.repeat(flat, repeats, axis=along)
    source = np.repeat(np.arange(flat.shape[along]), repeats)

    def vjp(g):
        grad = np.zeros(flat.shape, dtype=g.dtype)
        np.add.at(np.moveaxis(grad, along, 0), source, np.moveaxis(g, along, 0))
        return (grad.reshape(v.shape),)

    return record(a, (x,), vjp)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (every axis if None). VJP: ``δx = flip(δa, axis)``."""
    v = _value(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return record(np.flip(v, axis), (x,), lambda g: (np.flip(g, axis),))


def sort(x, axis=-1):
    """``x`` sorted in increasing order along ``axis``.

    VJP: each ``δa`` goes back to the position its value came from (the inverse of the
    sorting permutation, as ``take_along_axis``)."""
    v = np.asarray(_value(x))
    order = np.argsort(v, axis=axis, kind="stable")
    return take_along_axis(x, order, axis=axis)


def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (stable: ties keep their order), int32."""
    return np.argsort(_value(x), axis=axis, kind="stable").astype("int32")
