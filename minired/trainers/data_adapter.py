"""Cutting arrays into batches, and the other data chores of ``fit``, as Keras does them."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator

import numpy as np


def check_batch_size(batch_size, default: int = 32) -> int:
    """Return ``batch_size`` (``None`` → 32, Keras' default) after checking it.

    Example:
        >>> check_batch_size(None), check_batch_size(np.int64(8))
        (32, 8)
    """
    if batch_size is None:
        return default
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive int or None, got {batch_size!r}.")
    return int(batch_size)


def num_samples(x) -> int:
    """The number of samples of an array, or of a list of arrays (one per model input).

    Example:
        >>> num_samples(np.zeros((5, 2))), num_samples([np.zeros((3, 1)), np.zeros((3, 4))])
        (5, 3)
    """
    return len(x[0]) if isinstance(x, list) else len(x)


def take(arrays, index: np.ndarray | slice):
    """The samples ``index`` of an array, or of each array of a list (``None`` stays).

    An index array gathers a copy; a ``slice`` (the batches of an unshuffled pass, see
    :func:`batch_ranges`) gives read-only views: no sample is copied, and no layer can
    write into the caller's data through them.

    Example:
        >>> take([np.arange(4), None], np.array([3, 0]))
        [array([3, 0]), None]
    """
    if arrays is None:
        return None
    if isinstance(arrays, list):
        return [take(a, index) for a in arrays]
    batch = arrays[index]
    if isinstance(index, slice):    # a view of the caller's data: reading only
        batch.flags.writeable = False
    return batch


class BatchBuffers:
    """Gather the training batches into arrays made once per batch size, and reused.

    ``x[index]`` makes a new array per batch. At batch 512 of 784 float32 features that is
    1.6 MB per step, which the C allocator hands back to the system and faults in again
    (about 370 page faults per step, a tenth of the epoch's time). ``np.take(..., out=)``
    writes the same samples into the array of the previous batch of that size instead.

    So a batch is valid only until the next one is gathered: ``fit`` uses one for its step
    and is done with it (a layer that keeps its inputs past the step must copy them).
    Only shuffled training batches come here: an unshuffled pass (``predict``, ``evaluate``,
    ``fit(shuffle=False)``) reads slices of the data, views that stay valid
    (:func:`batch_ranges`).

    Example:
        >>> buffers = BatchBuffers()
        >>> data = np.arange(10.0)
        >>> first = buffers.take(data, np.array([3, 1]))
        >>> first
        array([3., 1.])
        >>> second = buffers.take(data, np.array([0, 2]))
        >>> second is first, first
        (True, array([0., 2.]))
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[int, int], np.ndarray] = {}

    def take(self, arrays, index: np.ndarray):
        """:func:`take`, written into this object's array for that data and batch size."""
        if arrays is None:
            return None
        if isinstance(arrays, list):
            return [self.take(a, index) for a in arrays]
        if isinstance(index, slice):          # consecutive samples: a view, nothing to gather
            return take(arrays, index)
        key = (id(arrays), len(index))
        out = self._arrays.get(key)
        if out is None:
            out = self._arrays[key] = np.empty((len(index), *arrays.shape[1:]), arrays.dtype)
        # The indices are a permutation's: always in range. mode="clip" skips the bounds
        # check; with the default mode="raise", NumPy writes a temporary copy first.
        return arrays.take(index, axis=0, out=out, mode="clip")


def num_batches(n_samples: int, batch_size: int) -> int:
    """``ceil(N / batch_size)``: the last, smaller batch is kept.

    Example:
        >>> num_batches(100, 32)              # 32 + 32 + 32 + 4
        4
    """
    return math.ceil(n_samples / batch_size)


def batch_indices(order: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Yield the sample indices of each batch: consecutive pieces of ``order`` (a shuffled
    pass's permutation) of at most ``batch_size`` indices.

    Example:
        >>> [batch.tolist() for batch in batch_indices(np.arange(5), 2)]
        [[0, 1], [2, 3], [4]]
    """
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def batch_ranges(n_samples: int, batch_size: int) -> Iterator[slice]:
    """Yield the batches of samples ``0 … N-1`` in order, as slices: an unshuffled pass
    (``predict``, ``evaluate``, ``fit(shuffle=False)``) reads views of the data, where a
    gather by index (:func:`batch_indices`) would copy every sample (all of ``x`` per pass).

    Example:
        >>> list(batch_ranges(5, 2))
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    for start in range(0, n_samples, batch_size):
        yield slice(start, min(start + batch_size, n_samples))


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Hold out the **last** ``validation_split`` fraction, before any shuffling.

    ``split_at = floor(N · (1 - validation_split))``; samples ``[:split_at]`` train,
    ``[split_at:]`` validate (Keras' rule, so the same samples are held out in both).

    Example:
        >>> (x_train, y_train), (x_val, y_val) = train_validation_split(
        ...     (np.arange(10), np.arange(10) % 2), 0.2)
        >>> x_train.tolist(), x_val.tolist()
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9])
    """
    if (isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or not 0 <= validation_split < 1):
        raise ValueError(
            f"`validation_split` must be a float in [0, 1), got {validation_split!r}."
        )
    first = arrays[0]
    while isinstance(first, list | tuple):    # several inputs: the first input's array
        first = first[0]
    n = len(first)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"`validation_split={validation_split}` leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'}: the data has only {n} samples."
        )
    return _slice(arrays, slice(None, split_at)), _slice(arrays, slice(split_at, None))


def _slice(arrays, part: slice):
    """``part`` of each array in a (nested) tuple or list; ``None`` stays ``None``."""
    if isinstance(arrays, tuple | list):
        return type(arrays)(_slice(a, part) for a in arrays)
    return None if arrays is None else arrays[part]


def check_class_weight(class_weight) -> None:
    """``class_weight`` must be a dict ``{class: weight}``."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class: weight}}, got {class_weight!r}.")


def class_weight_to_sample_weights(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Per-sample weights from ``{class: weight}``; missing classes weigh 1.

    The class of a sample is ``argmax`` of a one-hot row, or the rounded value of an
    integer or binary label.

    Example:
        >>> class_weight_to_sample_weights(np.array([0, 1, 1, 2]), {1: 5.0})
        array([1., 5., 5., 1.])
    """
    check_class_weight(class_weight)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        classes = np.argmax(y, axis=-1)
    else:
        classes = np.round(y.reshape(len(y))).astype(np.int64)
    weights = np.ones(len(y))
    for cls, weight in class_weight.items():
        weights[classes == int(cls)] = weight
    return weights
