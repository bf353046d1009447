"""Operations that move values without changing them: reshape, transpose, indexing...

Their VJP moves ``δa`` back the same way: ``reshape`` reshapes it back, ``transpose``
applies the inverse permutation, indexing scatters it into zeros (adding where an index
repeats). Most of the later ones (``moveaxis``, ``roll``, ``rot90``, ``tril``, ``diagonal``,
``pad``...) share one helper, ``_rearrange``: it runs the NumPy function on the *positions*
of ``x``, then gathers, and its VJP scatters ``δa`` back to those positions.
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops.elementwise import _value

# This module defines Keras' ``slice``: Python's is written ``np.s_[a:b]`` here.


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
    from minired.ops.elementwise import result_dtype

    values = [np.asarray(_value(x)) for x in xs]
    a = np.concatenate(values, axis=axis, dtype=result_dtype(*values) if values else None)
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
        where = (np.s_[:],) * axis + (np.s_[start:start + piece.shape[axis]],)
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


# -- rearrangements: each output element is one element of x (or a fill value) ---------------
def _rearrange(x, forward, fill=0):
    """``a = forward(x)`` for any ``forward`` that only moves, copies or drops elements, or puts
    ``fill`` in new places (transposes, rolls, diagonals, triangles, padding...).

    ``forward`` runs once on the *positions* ``0 … n−1`` of ``x`` (an int array shaped like
    ``x``; it writes ``n`` where ``fill`` goes), then ``a = [x…, fill][positions]``.
    VJP: ``δa`` added back at the positions it came from (repeats add up; ``fill`` gets none).
    """
    v = np.asarray(_value(x))
    n = v.size
    positions = np.asarray(forward(np.arange(n).reshape(v.shape), n))
    source = np.append(v.reshape(-1), np.asarray(fill, dtype=v.dtype))
    a = source[positions]

    def vjp(g):
        grad = np.zeros(n + 1, dtype=g.dtype)
        np.add.at(grad, positions, g)
        return (grad[:n].reshape(v.shape),)

    return record(a, (x,), vjp)


def moveaxis(x, source, destination):
    """The axes ``source`` moved to ``destination`` (the others keep their order)."""
    return _rearrange(x, lambda p, n: np.moveaxis(p, source, destination))


def swapaxes(x, axis1, axis2):
    """The axes ``axis1`` and ``axis2`` exchanged."""
    return _rearrange(x, lambda p, n: np.swapaxes(p, axis1, axis2))


def ravel(x):
    """``x`` flattened to one axis (row-major order)."""
    return _rearrange(x, lambda p, n: p.reshape(-1))


def copy(x):
    """A copy of ``x``. VJP: ``δx = δa``."""
    return record(np.array(_value(x)), (x,), lambda g: (g,))


def roll(x, shift, axis=None):
    """The elements shifted by ``shift`` along ``axis`` (of the flattened ``x`` when None),
    wrapping around. VJP: ``δx = roll(δa, −shift)``."""
    return _rearrange(x, lambda p, n: np.roll(p, shift, axis))


def flipud(x):
    """``x`` reversed along axis 0."""
    return flip(x, 0)


def fliplr(x):
    """``x`` reversed along axis 1."""
    return flip(x, 1)


def rot90(array, k=1, axes=(0, 1)):
    """``array`` rotated by ``k`` quarter turns in the plane of ``axes`` (from the first axis
    towards the second)."""
    return _rearrange(array, lambda p, n: np.rot90(p, k, axes))


def tril(x, k=0):
    """The lower triangle of the last two axes (zeros above diagonal ``k``).
    VJP: ``δx = tril(δa, k)``."""
    return _rearrange(x, lambda p, n: np.where(_triangle(p.shape, k), p, n))


def triu(x, k=0):
    """The upper triangle of the last two axes (zeros below diagonal ``k``).
    VJP: ``δx = triu(δa, k)``."""
    return _rearrange(x, lambda p, n: np.where(_triangle(p.shape, k - 1), n, p))


def _triangle(shape, k):
    """``[j ≤ i + k]`` over the last two axes of ``shape``."""
    if len(shape) < 2:
        raise ValueError(f"tril/triu need an array of rank >= 2, got shape {shape}.")
    return np.tri(shape[-2], shape[-1], k, dtype=bool)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal ``offset`` of the plane ``(axis1, axis2)``, as a new last axis."""
    return _rearrange(x, lambda p, n: np.diagonal(p, offset, axis1, axis2))


def diag(x, k=0):
    """A 1-D ``x``: the matrix with ``x`` on diagonal ``k``, zeros elsewhere; a 2-D ``x``:
    its diagonal ``k``."""
    rank = np.ndim(_value(x))
    if rank not in (1, 2):
        raise ValueError(f"diag: `x` must be 1-D or 2-D, got rank {rank}.")
    if rank == 2:
        return diagonal(x, k)
    return _rearrange(x, lambda p, n: np.diag(p - n, k) + n)


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` with ``pad_width`` (NumPy's: ``((before, after), …)`` per axis) elements added.

    Modes ``"constant"`` (``constant_values``, 0 by default), ``"reflect"``, ``"symmetric"``,
    ``"edge"``, ``"wrap"``. VJP: ``δa`` of the copied elements added back to their source.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: `mode` must be one of {_PAD_MODES}, got {mode!r}.")
    pad_width = np.asarray(pad_width, dtype=int)
    if mode != "constant":
        if constant_values is not None:
            raise ValueError("pad: `constant_values` can only be used with mode='constant'.")
        return _rearrange(x, lambda p, n: np.pad(p, pad_width, mode=mode))
    fill = 0 if constant_values is None else constant_values
    return _rearrange(x, lambda p, n: np.pad(p, pad_width, constant_values=n), fill=fill)


_PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def slice(inputs, start_indices, shape):  # noqa: A001 (Keras' name)
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices`` (one per axis)."""
    return getitem(inputs, _block(start_indices, shape))


def _block(start_indices, shape):
    starts = [int(s) for s in np.asarray(_value(start_indices)).reshape(-1)]
    sizes = [int(s) for s in np.asarray(shape).reshape(-1)]
    if len(starts) != len(sizes):
        raise ValueError(f"`start_indices` ({len(starts)} values) and `shape` ({len(sizes)}) "
                         "must give one number per axis.")
    return tuple(np.s_[s:s + n] for s, n in zip(starts, sizes, strict=True))


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    VJP: ``δinputs = δa`` with zeros in the block, ``δupdates = δa[block]``."""
    v, u = np.asarray(_value(inputs)), np.asarray(_value(updates))
    block = _block(start_indices, u.shape)
    a = v.copy()
    a[block] = u

    def vjp(g):
        grad = np.array(g)
        grad[block] = 0
        return grad, g[block]

    return record(a, (inputs, updates), vjp)


def _scatter_key(indices, ndim):
    """``indices`` of shape ``(…, k)`` as a NumPy index of the first ``k`` of ``ndim`` axes."""
    indices = np.asarray(_value(indices)).astype(np.int64)
    if indices.ndim == 0 or indices.shape[-1] > ndim:
        raise ValueError(f"`indices` must have shape (..., k) with k <= {ndim}, got "
                         f"{indices.shape}.")
    return tuple(np.moveaxis(indices, -1, 0))


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (``(…, k)`` index tuples; repeats
    add up, as ``tf.scatter_nd``). VJP: ``δvalues = δa[indices]``."""
    v = np.asarray(_value(values))
    shape = tuple(int(s) for s in shape)
    key = _scatter_key(indices, len(shape))
    a = np.zeros(shape, dtype=v.dtype)
    np.add.at(a, key, v)
    return record(a, (values,), lambda g: (g[key],))


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``inputs[indices] = updates`` (``(…, k)`` index tuples), or
    ``+= updates`` with ``reduction="add"``.

    VJP: ``δupdates = δa[indices]``; ``δinputs = δa``, with zeros at the replaced places
    (none for ``"add"``)."""
    if reduction not in (None, "add"):
        raise ValueError(f"scatter_update: minired supports reduction=None or 'add', got "
                         f"{reduction!r}.")
    v, u = np.asarray(_value(inputs)), np.asarray(_value(updates))
    key = _scatter_key(indices, v.ndim)
    a = v.copy()
    if reduction == "add":
        np.add.at(a, key, u.astype(v.dtype, copy=False))
    else:
        a[key] = u

    def vjp(g):
        grad = np.array(g)
        if reduction is None:
            grad[key] = 0
        return grad, g[key]

    return record(a, (inputs, updates), vjp)


def unstack(x, num=None, axis=0):
    """The list of slices of ``x`` along ``axis`` (each recorded, as :func:`split`)."""
    v = np.asarray(_value(x))
    if num is not None and num != v.shape[axis]:
        raise ValueError(f"unstack: `num`={num} differs from the size {v.shape[axis]} of axis "
                         f"{axis}.")
    return [_rearrange(x, lambda p, n, i=i: np.take(p, i, axis))
            for i in range(v.shape[axis])]


def hstack(xs):
    """The arrays joined along axis 1 (axis 0 for 1-D arrays), as ``np.hstack``."""
    return concatenate(xs, axis=0 if np.ndim(_value(xs[0])) == 1 else 1)


def vstack(xs):
    """The arrays joined along axis 0 (1-D arrays become rows), as ``np.vstack``."""
    return concatenate([reshape(x, (1, -1)) if np.ndim(_value(x)) < 2 else x for x in xs],
                       axis=0)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D arrays, as ``np.meshgrid`` (``"xy"`` or ``"ij"``).
    Each grid is a broadcast of one input (its VJP sums over the copies)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij', got {indexing!r}.")
    sizes = [np.size(_value(item)) for item in x]
    grid = list(sizes)
    if indexing == "xy" and len(sizes) >= 2:
        grid[0], grid[1] = grid[1], grid[0]
    grids = []
    for i, item in enumerate(x):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and len(sizes) >= 2 else i
        view = [1] * len(sizes)
        view[axis] = sizes[i]
        grids.append(broadcast_to(reshape(item, view), grid))
    return grids


def top_k(x, k, sorted=True):  # noqa: A002 (Keras' name)
    """The ``k`` largest values along the last axis, and their indices (int32). A tie picks
    the lower index first, as ``tf.math.top_k``.

    VJP: ``δa`` goes back to the picked positions (``take_along_axis``)."""
    v = np.asarray(_value(x))
    indices = np.argsort(-v, axis=-1, kind="stable")[..., :k]
    if not sorted:
        indices = np.sort(indices, axis=-1)
    return take_along_axis(x, indices, axis=-1), indices.astype("int32")


def in_top_k(targets, predictions, k):
    """Whether each ``predictions[i, targets[i]]`` is among the ``k`` largest of its row: fewer
    than ``k`` predictions are strictly larger (ties at the boundary count as in, as
    ``tf.math.in_top_k``; a non-finite prediction is never in)."""
    p = np.asarray(_value(predictions))
    t = np.asarray(_value(targets)).astype(np.int64)
    picked = np.take_along_axis(p, t[:, None], axis=1)
    larger = np.sum(p > picked, axis=1)
    return np.asarray((larger < k) & np.all(np.isfinite(p), axis=1))


def select(condlist, choicelist, default=0):
    """``choicelist[i]`` where ``condlist[i]`` is the first true condition, else ``default``.
    Written with :func:`~minired.ops.elementwise.where` (its VJP routes ``δa``)."""
    from minired.ops.elementwise import where

    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices.")
    result = default
    for condition, choice in zip(condlist[::-1], choicelist[::-1], strict=True):
        result = where(condition, choice, result)
    return result


# -- no gradient ------------------------------------------------------------------------------
def nonzero(x):
    """The indices of the non-zero elements, one int32 array per axis."""
    return tuple(i.astype("int32") for i in np.nonzero(np.asarray(_value(x))))


def size(x) -> np.ndarray:
    """The number of elements (an int32 scalar, as Keras)."""
    return np.asarray(np.size(np.asarray(x)), dtype="int32")


def unique(x, sorted=True, return_index=False, return_inverse=False,  # noqa: A002
           return_counts=False, axis=None, size=None, fill_value=None):
    """The distinct elements of the flattened ``x`` (ascending, or in order of first
    appearance with ``sorted=False``), plus the first indices, the inverse (shaped like
    ``x``) and the counts (int32) when asked. No gradient. ``axis``, ``size`` and
    ``fill_value`` are refused."""
    if axis is not None or size is not None or fill_value is not None:
        raise ValueError("unique: minired supports axis=None, size=None and fill_value=None "
                         "only.")
    v = np.asarray(_value(x))
    values, first, inverse, counts = np.unique(v.reshape(-1), return_index=True,
                                               return_inverse=True, return_counts=True)
    if not sorted:
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        values, first, counts, inverse = values[order], first[order], counts[order], \
            rank[inverse]
    extras = [e.astype("int32") for e, asked in ((first, return_index),
              (inverse.reshape(v.shape), return_inverse), (counts, return_counts)) if asked]
    return (values, *extras) if extras else values
