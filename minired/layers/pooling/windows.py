"""The windows a pooling layer slides over its input, and the way back.

A pooling layer on inputs ``(N, *spatial, C)`` (``spatial`` is ``(L,)`` for the 1D layers and
``(H, W)`` for the 2D ones) looks at windows of ``pool_size`` values, moved by ``strides``:

- :func:`pad_amounts` says how much ``"same"`` padding puts before and after each spatial
  axis (TensorFlow's rule: the output has ``ceil(size / stride)`` positions, and the odd
  value of padding goes **after**);
- :func:`windows` returns every window as a view ``(N, *out, C, *pool_size)``, without
  copying, so ``windows(x).max(axis=(-2, -1))`` is a whole 2D max pooling;
- :func:`scatter_windows` is the backward of :func:`windows`: it adds each window's
  gradient back onto the input positions it came from (overlapping windows add up).
"""

from __future__ import annotations

import math

import numpy as np


def standardize_tuple(value, n: int, name: str, owner: str) -> tuple[int, ...]:
    """``value`` (an int, or ``n`` ints) as a tuple of ``n`` positive ints, as Keras."""
    values = (value,) * n if isinstance(value, int | np.integer) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (values is None or len(values) != n
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) and v > 0
                       for v in values)):
        example = 2 if n == 1 else (2,) * n
        raise ValueError(f"{owner}: `{name}` must be a positive int or a tuple of {n} positive "
                         f"int{'s' * (n > 1)}, e.g. {example!r}; got {name}={value!r}.")
    return tuple(int(v) for v in values)


def standardize_padding(padding, owner: str) -> str:
    """``"valid"`` or ``"same"`` (any case, as Keras), else a ValueError."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{owner}: `padding` must be 'valid' (no padding) or 'same' (pad so "
                         f"that the output has ceil(size / stride) positions); got "
                         f"padding={padding!r}.")
    return padding


def standardize_data_format(data_format, owner: str) -> str:
    """minired's layers take ``channels_last`` inputs ``(N, ..., C)`` only."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{owner}: minired supports data_format='channels_last' only (inputs "
                         f"of shape (batch, ..., channels)); got data_format={data_format!r}. "
                         "Transpose channels-first inputs, e.g. np.moveaxis(x, 1, -1).")
    return "channels_last"


def check_rank(layer, input_shape, spatial: int) -> None:
    """Refuse inputs that are not ``(batch, *spatial axes, channels)`` (Keras' InputSpec)."""
    if len(input_shape) != spatial + 2:
        expected = {1: "(batch, steps, channels)", 3: "(batch, depth, rows, cols, channels)"
                    }.get(spatial, "(batch, rows, cols, channels)")
        raise ValueError(f"Input 0 of layer {layer.name!r} is incompatible with the layer: "
                         f"expected ndim={spatial + 2}, found ndim={len(input_shape)}. Full "
                         f"shape received: {tuple(input_shape)}. {type(layer).__name__} takes "
                         f"inputs of shape {expected}.")


def output_size(size: int | None, pool: int, stride: int, padding: str) -> int | None:
    """Positions along one axis: ``⌊(size - pool) / stride⌋ + 1`` ("valid") or
    ``⌈size / stride⌉`` ("same"); None for an unknown size."""
    if size is None:
        return None
    if padding.lower() == "same":
        return math.ceil(size / stride)
    return (size - pool) // stride + 1


def pad_amounts(size: int, pool: int, stride: int, padding: str) -> tuple[int, int]:
    """``(before, after)`` for one axis: none for "valid"; for "same" the total
    ``max((out - 1)·stride + pool - size, 0)``, split with the extra one after (TensorFlow)."""
    if padding.lower() == "valid":
        return (0, 0)
    total = max((output_size(size, pool, stride, padding) - 1) * stride + pool - size, 0)
    return (total // 2, total - total // 2)


def pad_spatial(x: np.ndarray, pads: list[tuple[int, int]], value: float) -> np.ndarray:
    """Pad the spatial axes of ``(N, *spatial, C)`` with ``value`` (no copy if no padding)."""
    if not any(before or after for before, after in pads):
        return x
    return np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)


def windows(x: np.ndarray, pool_size: tuple, strides: tuple) -> np.ndarray:
    """Every window of ``(N, *spatial, C)`` as a read-only view ``(N, *out, C, *pool_size)``.

    ``windows(x, (2, 2), (2, 2))[n, i, j, c]`` is the 2×2 block
    ``x[n, 2i:2i+2, 2j:2j+2, c]``.
    """
    axes = tuple(range(1, len(pool_size) + 1))
    every = np.lib.stride_tricks.sliding_window_view(x, pool_size, axis=axes)  # stride 1
    return every[(slice(None), *(slice(None, None, s) for s in strides))]


def scatter_windows(grad_windows: np.ndarray, input_shape: tuple, strides: tuple) -> np.ndarray:
    """The backward of :func:`windows`: add each window's gradient back onto its inputs.

    ``grad_windows`` has the shape of ``windows(x)``, ``(N, *out, C, *pool_size)``. For each
    offset ``k`` inside the window (a few iterations: ``prod(pool_size)``, never one per
    sample or pixel), every window's value at ``k`` lands on input position
    ``o·stride + k``; windows that overlap (stride < pool) add up there.
    """
    pool_size = grad_windows.shape[-len(strides):]
    out = grad_windows.shape[1:1 + len(strides)]
    grad = np.zeros(input_shape, dtype=grad_windows.dtype)
    for offset in np.ndindex(*pool_size):
        rows = tuple(slice(k, k + (o - 1) * s + 1, s)
                     for k, o, s in zip(offset, out, strides, strict=True))
        grad[(slice(None), *rows)] += grad_windows[(..., *offset)]
    return grad


def crop_spatial(x: np.ndarray, pads: list[tuple[int, int]]) -> np.ndarray:
    """Undo :func:`pad_spatial`: drop ``pads`` from the spatial axes of ``(N, *spatial, C)``."""
    return x[(slice(None), *(slice(before, size - after)
                             for (before, after), size in zip(pads, x.shape[1:-1],
                                                               strict=True)))]
