"""``split_dataset``: cut arrays (or a tuple of arrays) into a left and a right part."""

from __future__ import annotations

import random

import numpy as np


def _check_type(size, name: str) -> None:
    """An int, a float or None: ``bool`` and NumPy numbers are refused, as
    ``type(size) in [int, float]`` refuses them in Keras."""
    if size is not None and type(size) not in (int, float):
        raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                        f"Received: type({name})={type(size)}.")


def _check_range(size, name: str, total: int) -> None:
    """An int in ``(0, total)`` or a float in ``(0, 1)``, both ends excluded."""
    if (type(size) is int and not 0 < size < total) or (
            type(size) is float and not 0 < size < 1):
        raise ValueError(f"`{name}` should be either a positive integer smaller than {total}, "
                         f"or a float within the range `[0, 1]`. Received: {name}={size}")


def split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """The number of samples on each side, as Keras computes them.

    A float is a fraction of ``total``, rounded with Python's ``round`` (half to even:
    ``round(0.5 * 5) == 2``); ``None`` is the complement of the other side. Samples
    left over when both sizes are given (``left + right < total``) are in neither part.

    Example:
        >>> split_sizes(0.8, None, 10), split_sizes(None, 3, 10), split_sizes(2, 5, 10)
        ((8, 2), (7, 3), (2, 5))
    """
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    _check_type(left_size, "left_size")
    _check_type(right_size, "right_size")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the "
                         "split sizes must be non-zero.")
    _check_range(left_size, "left_size", total)
    _check_range(right_size, "right_size", total)
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"{total}. Received: left_size + right_size = {left + right} and "
                         f"total_length = {total}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and "
                             f"`right_size`={right}. Resulting {side} side dataset split will "
                             "be empty. Adjust any of the aforementioned parameters")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False,
                  seed: int | None = None):
    """Split an array, or a tuple/list of arrays with one row per sample, in two.

    The samples (rows) are optionally shuffled, then the first ``left`` go left and the
    **last** ``right`` go right (see :func:`split_sizes` for how the sizes are read)::

        left, right = split_dataset(x, left_size=0.8)                  # arrays
        (x_train, y_train), (x_test, y_test) = split_dataset((x, y), left_size=0.8)

    With ``shuffle=True`` the order is Python's ``random.Random(seed).shuffle``, the very
    permutation Keras uses, so the same seed gives the same split in both libraries.
    (Keras seeds Python's global ``random`` module to do it; minired leaves it alone.
    ``seed=None`` draws a seed from the global ``random``, as Keras does.)

    Keras returns two ``tf.data.Dataset`` of single samples; minired returns the arrays
    themselves: an array for an array, a tuple of arrays for a tuple or a list of arrays.

    Args:
        dataset: an array, or a tuple/list of arrays of equal length.
        left_size: an int (samples) in ``(0, N)``, a float (fraction) in ``(0, 1)``, or
            ``None`` for the complement of ``right_size``.
        right_size: the same for the right part.
        shuffle: whether to shuffle the samples before splitting.
        seed: the shuffling seed.

    Returns:
        ``(left, right)``.

    Example:
        >>> left, right = split_dataset(np.arange(10), left_size=0.8)
        >>> left, right
        (array([0, 1, 2, 3, 4, 5, 6, 7]), array([8, 9]))
    """
    if isinstance(dataset, np.ndarray):
        arrays, several = [dataset], False
    elif isinstance(dataset, list | tuple):
        kind = type(dataset).__name__
        if not dataset:
            raise ValueError(f"Received an empty {kind} dataset. Please provide a non-empty "
                             f"{kind} of arrays.")
        for i, element in enumerate(dataset):
            if not isinstance(element, np.ndarray):
                raise ValueError(f"Expected a {kind} of `numpy.ndarray` objects, Received: "
                                 f"{type(element)} at index {i}.")
            if element.shape[:1] != dataset[0].shape[:1]:
                raise ValueError(f"Received a {kind} of NumPy arrays with different lengths. "
                                 f"Mismatch found at index {i}, Expected shape="
                                 f"{dataset[0].shape} Received shape={element.shape}. Please "
                                 f"provide a {kind} of NumPy arrays of the same length.")
        arrays, several = list(dataset), True
    else:
        raise TypeError("The `dataset` argument must be either a `tf.data.Dataset` object, or "
                        f"a list/tuple of arrays. Received: dataset={dataset} of type "
                        f"{type(dataset)}")
    total = len(arrays[0])
    if total == 0:
        raise ValueError("Received an empty dataset. Argument `dataset` must be a non-empty "
                         "list/tuple of `numpy.ndarray` objects or `tf.data.Dataset` objects.")
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(order)   # the permutation random.seed + shuffle give
    left, right = split_sizes(left_size, right_size, total)
    left_rows, right_rows = np.array(order[:left]), np.array(order[-right:])
    lefts = tuple(a[left_rows] for a in arrays)
    rights = tuple(a[right_rows] for a in arrays)
    return (lefts, rights) if several else (lefts[0], rights[0])
