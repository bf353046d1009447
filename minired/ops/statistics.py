"""Counting, binning and statistics: ``searchsorted``, ``digitize``, ``bincount``,
``histogram``, ``trapezoid``, ``corrcoef``, ``correlate``, ``cdist``.

Indices and counts are constants for the tape. ``trapezoid``, ``corrcoef``, ``correlate`` and
``cdist`` are written with the differentiable ops (products, sums, square roots), as Keras'
TensorFlow backend writes them, so their VJPs follow from those ops'.

Example:
    >>> from minired import ops
    >>> ops.trapezoid(np.array([1.0, 2.0, 3.0]))
    array(4.)
"""

from __future__ import annotations

import numpy as np

from minired.autodiff.tape import record
from minired.ops import elementwise as ew
from minired.ops import linalg as la
from minired.ops import reductions as rd
from minired.ops import shapes as sh
from minired.ops.core import cast
from minired.ops.elementwise import _value


def _array(x) -> np.ndarray:
    return np.asarray(_value(x))


def searchsorted(sorted_sequence, values, side="left"):
    """Where each of ``values`` would go in the 1-D ascending ``sorted_sequence`` to keep it
    sorted (before equal elements with ``side="left"``, after with ``"right"``), int32.

    Args:
        sorted_sequence: a 1-D array in increasing order.
        values: the values to place.
        side: ``"left"`` or ``"right"``: where an equal value goes.

    Example:
        >>> searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]))
        array([1, 2], dtype=int32)
    """
    seq = _array(sorted_sequence)
    if seq.ndim != 1:
        raise ValueError(f"`searchsorted` only supports 1-D sorted sequences. Received: "
                         f"sorted_sequence.shape={seq.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: `side` must be 'left' or 'right', got {side!r}.")
    return np.asarray(np.searchsorted(seq, _array(values), side=side), dtype="int32")


def digitize(x, bins):
    """The index of the bin of each element: ``i`` with ``bins[i−1] ≤ x < bins[i]`` (0 below
    the first edge, ``len(bins)`` from the last), int32.

    Args:
        x: the values.
        bins: the increasing edges (a list or a 1-D array).

    Example:
        >>> digitize(np.array([0.5, 1.0, 2.5]), [1.0, 2.0])
        array([0, 1, 2], dtype=int32)
    """
    edges = np.asarray([float(b) for b in np.asarray(_value(bins)).reshape(-1)])
    if np.any(np.diff(edges) < 0):
        raise ValueError("digitize: `bins` must be sorted in increasing order.")
    return np.asarray(np.digitize(_array(x), edges), dtype="int32")


def bincount(x, weights=None, minlength=0, sparse=False):
    """How many times each value ``0, 1, …`` occurs in the non-negative integers ``x`` (of
    each row of a 2-D ``x``); with ``weights``, the sum of their weights instead.

    Without weights int32; with weights their dtype. VJP (weights): ``δwᵢ = δa[xᵢ]``, the
    gradient of the bin each weight went to.

    Args:
        x: a 1-D or 2-D array of non-negative integers (2-D: one count per row).
        weights: an array shaped like ``x``, or None.
        minlength: the least number of bins.
        sparse: must be False (minired has no sparse tensors).

    Example:
        >>> bincount(np.array([0, 2, 2]), weights=np.array([0.5, 1.0, 2.0]))
        array([0.5, 0. , 3. ])
    """
    if sparse:
        raise ValueError("bincount: minired has no sparse tensors: `sparse` must be False.")
    v = _array(x).astype(np.int64)
    if v.ndim not in (1, 2) or (v.size and v.min() < 0):
        raise ValueError(f"bincount: `x` must be a 1-D or 2-D array of non-negative integers, "
                         f"got shape {v.shape}.")
    length = max(int(v.max()) + 1 if v.size else 0, int(minlength))
    rows = v.reshape(-1, v.shape[-1]) if v.ndim == 2 else v.reshape(1, -1)
    key = (np.arange(rows.shape[0])[:, None], rows)
    shape = (rows.shape[0], length)
    if weights is None:
        counts = np.zeros(shape, dtype="int32")
        np.add.at(counts, key, 1)
        return counts.reshape((length,) if v.ndim == 1 else shape)
    w = _array(weights)
    dtype = ew.result_dtype(_array(x), w)
    sums = np.zeros(shape, dtype=dtype)
    np.add.at(sums, key, w.reshape(rows.shape))
    a = sums.reshape((length,) if v.ndim == 1 else shape)
    return record(a, (weights,), lambda g: (np.reshape(g, shape)[key].reshape(w.shape),))


def histogram(x, bins=10, range=None):  # noqa: A002 (Keras' name)
    """The counts of the 1-D ``x`` in ``bins`` equal bins from ``min x`` to ``max x`` (or
    ``range``; the last bin includes its right edge), and the ``bins + 1`` edges, both in
    ``x``'s dtype. Constants: no gradient.

    Args:
        x: a 1-D array.
        bins: the number of equal bins.
        range: ``(low, high)``; values outside are left out (min and max of ``x`` if None).

    Example:
        >>> histogram(np.array([0.0, 1.0, 1.5, 4.0]), bins=2)
        (array([3., 1.]), array([0., 2., 4.]))
    """
    v = _array(x)
    if v.ndim != 1:
        raise ValueError(f"histogram: `x` must be 1-D, got shape {v.shape}.")
    if range is None:
        low, high = v.min(), v.max()
    else:   # Python bounds are float32 for TensorFlow's linspace, as in Keras
        low, high = (np.asarray(b, dtype=np.result_type(b) if isinstance(b, np.ndarray | np.generic)
                                else np.float32) for b in range)
    kept = v[(v >= low) & (v <= high)]
    edges = np.linspace(low, high, int(bins) + 1, dtype=np.result_type(low, high)).astype(
        v.dtype)
    index = np.searchsorted(edges[1:-1], kept, side="right")
    counts = np.zeros(int(bins), dtype=v.dtype)
    np.add.at(counts, index, 1)
    return counts, edges


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The trapezoid rule along ``axis``: ``a = Σᵢ ½ (yᵢ + yᵢ₊₁) Δxᵢ`` (``Δx = diff(x)``, or
    ``dx``). VJP: ``δyᵢ = ½ δa (Δxᵢ₋₁ + Δxᵢ)``, ``δxᵢ = ½ δa (yᵢ₋₁ − yᵢ₊₁)`` (ends one-sided),
    through the ops it is written with.

    Args:
        y: the values to integrate.
        x: the sample points (shaped like ``y``, or 1-D along ``axis``), or None.
        dx: the spacing when ``x`` is None.
        axis: the axis to integrate along.

    Example:
        >>> trapezoid(np.array([1.0, 2.0, 3.0]), dx=0.5)
        array(2.)
    """
    from minired.ops.arrays import diff

    v = _array(y)
    dtype = ew.result_dtype(v, 1.0)
    y = y if v.dtype == dtype else cast(y, dtype)
    if x is None:
        step = np.asarray(dx, dtype=dtype)
    else:
        x = x if _array(x).dtype == dtype else cast(x, dtype)
        step = sh.moveaxis(diff(x, axis=axis), axis, -1) if _array(x).ndim > 1 else diff(x)
    y = sh.moveaxis(y, axis, -1)
    heights = ew.multiply(ew.add(y[..., 1:], y[..., :-1]), np.asarray(0.5, dtype))
    return rd.sum(ew.multiply(heights, step), axis=-1)


def corrcoef(x):
    """The correlation matrix of the rows of ``x`` (variables in rows, observations in
    columns): ``Rᵢⱼ = Cᵢⱼ / √(Cᵢᵢ Cⱼⱼ)``, ``C = x̃ x̃ᵀ / (n − 1)`` with ``x̃`` the centred
    rows, clipped to ``[−1, 1]``. Integers give ``floatx``. VJP: through the ops.

    Args:
        x: a 2-D array, one variable per row.

    Example:
        >>> corrcoef(np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0]]))
        array([[ 1. , -0.5],
               [-0.5,  1. ]])
    """
    v = _array(x)
    dtype = ew.result_dtype(v, need_float=True)
    x = x if v.dtype == dtype else cast(x, dtype)
    if v.ndim != 2:
        raise ValueError(f"corrcoef: `x` must be 2-D (variables in rows), got shape {v.shape}.")
    centered = ew.subtract(x, rd.mean(x, axis=-1, keepdims=True))
    n = np.asarray(v.shape[-1] - 1, dtype=dtype)
    covariance = ew.divide(la.matmul(centered, sh.transpose(centered)), n)
    scale = ew.sqrt(sh.diagonal(covariance))
    correlation = ew.divide(covariance, la.outer(scale, scale))
    return ew.clip(correlation, np.asarray(-1.0, dtype), np.asarray(1.0, dtype))


_CORRELATE_MODES = ("valid", "same", "full")


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two 1-D arrays: ``aₖ = Σⱼ x₁[k + j] x₂[j]`` over the
    positions where ``x₂`` fits (``"valid"``), all overlaps (``"full"``, ``x₁`` padded with
    zeros) or the centred ``max(n, m)`` of them (``"same"``). float32 unless an input is
    float64 (int64 gives float64, as Keras).

    Written as a matrix product: the windows of ``x₁`` (a ``take``) times ``x₂``; so
    ``δx₂ = windowsᵀ δa`` and ``δx₁`` adds ``δaₖ x₂[j]`` at each ``k + j``.

    Args:
        x1, x2: 1-D arrays (``x2`` no longer than ``x1`` for ``"valid"``).
        mode: ``"valid"``, ``"same"`` or ``"full"``.

    Example:
        >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0]))
        array([3., 5.])
    """
    if mode not in _CORRELATE_MODES:
        raise ValueError(f"Invalid mode: '{mode}'. Mode must be one of: 'full', 'same', "
                         "'valid'.")
    v1, v2 = _array(x1), _array(x2)
    if v1.ndim != 1 or v2.ndim != 1:
        raise ValueError(f"correlate: both arrays must be 1-D, got shapes {v1.shape} and "
                         f"{v2.shape}.")
    common = ew.result_dtype(v1, v2)
    dtype = np.dtype("float64") if common in (np.int64, np.float64) else np.dtype("float32")
    x1, x2 = (x if _array(x).dtype == dtype else cast(x, dtype) for x in (x1, x2))
    n, m = v1.shape[0], v2.shape[0]
    if mode != "valid":
        x1 = sh.pad(x1, [(m - 1, m - 1)])
    length = _array(x1).shape[0] - m + 1
    if length < 1:
        raise ValueError(f"correlate: x2 (length {m}) is longer than x1 (length {n}).")
    windows = sh.take(x1, np.arange(length)[:, None] + np.arange(m)[None, :])
    a = la.matmul(windows, x2)
    if mode == "same":
        size = max(n, m)
        start = (n + m - 1 - size) // 2
        a = a[start:start + size]
    return a


def cdist(x, y):
    """The Euclidean distances between the rows of ``x`` (``(…, P, D)``) and of ``y``
    (``(…, R, D)``): ``aₚᵣ = ‖xₚ − yᵣ‖``. VJP: ``δxₚ = Σᵣ δaₚᵣ (xₚ − yᵣ)/aₚᵣ``,
    ``δyᵣ = −Σₚ δaₚᵣ (xₚ − yᵣ)/aₚᵣ``, through the ops.

    Args:
        x: points in rows, shape ``(…, P, D)``.
        y: points in rows, shape ``(…, R, D)``.

    Example:
        >>> cdist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]))
        array([[5., 1.]])
    """
    vx, vy = _array(x), _array(y)
    if vx.ndim < 2 or vy.ndim < 2:
        raise ValueError("`cdist` inputs must have rank >= 2")
    if vx.shape[-1] != vy.shape[-1]:
        raise ValueError("Last dimension of inputs to `cdist` must match")
    gaps = ew.subtract(sh.expand_dims(x, -2), sh.expand_dims(y, -3))
    return ew.sqrt(rd.sum(ew.square(gaps), axis=-1))
