"""Patch extraction ("im2col") and its adjoint ("col2im"), shared by convolution and pooling.

A convolution or a pooling layer looks at the input through a window that slides over the
spatial axes. These helpers turn that sliding into array operations, for inputs laid out
``(N, *spatial, C)`` (channels last) with any number of spatial axes (1 for sequences, 2 for
images):

- :func:`pad_amounts` and :func:`output_size`: how much padding each side of one axis gets,
  and how many window positions fit (TensorFlow's rules, which Keras follows).
- :func:`patches`: every window at once, as a *view* of shape ``(N, *out, *kernel, C)``:
  ``patches(x)[n, i, j, a, b, c] = x_padded[n, i·s + a·d, j·s + b·d, c]``.
- :func:`scatter_patches`: the backward of :func:`patches`: each window's gradient is added
  back where the window read its values (windows overlap, so the sums add up);
  :func:`scatter_patch_products` does it for a convolution's ``δz Wᵀ`` without forming it.

Example:
    >>> x = np.arange(5.0).reshape(1, 5, 1)              # one sequence 0, 1, 2, 3, 4
    >>> patches(x, (3,), strides=(2,))[0, :, :, 0]       # windows of 3, every 2nd step
    array([[0., 1., 2.],
           [2., 3., 4.]])
    >>> pad_amounts(5, 3, stride=2, dilation=1, padding="same")
    (1, 1)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minired.layers import workspace

PADDINGS = ("valid", "same", "causal")


def pad_amounts(size: int, kernel: int, stride: int = 1, dilation: int = 1,
                padding: str = "valid") -> tuple[int, int]:
    """Zeros added ``(before, after)`` one spatial axis of ``size`` elements.

    The window spans ``e = (kernel - 1)·dilation + 1`` elements. With ``"valid"`` nothing is
    added. With ``"same"`` (TensorFlow's rule) the output has ``ceil(size / stride)``
    positions, so the padded axis needs ``(ceil(size/stride) - 1)·stride + e`` elements::

        total  = max((ceil(size / stride) - 1)·stride + e - size, 0)
        before = total // 2,   after = total - before      (the odd one goes after)

    With ``"causal"`` (Conv1D) all ``e - 1`` zeros go before: output ``t`` sees inputs up to
    ``t`` only.

    Example:
        >>> pad_amounts(4, 3, padding="same"), pad_amounts(4, 4, padding="same")
        ((1, 1), (1, 2))
        >>> pad_amounts(6, 3, dilation=2, padding="causal")
        (4, 0)
    """
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(size / stride) - 1) * stride + extent - size, 0)
        return total // 2, total - total // 2
    if padding == "causal":
        return extent - 1, 0
    raise ValueError(f"`padding` must be one of {PADDINGS}, got {padding!r}.")


def output_size(size: int | None, kernel: int, stride: int = 1, dilation: int = 1,
                padding: str = "valid") -> int | None:
    """Number of window positions along one axis (``None`` stays ``None``: unknown size).

    ``"valid"``: ``floor((size - e) / stride) + 1`` with ``e = (kernel - 1)·dilation + 1``
    (0 or less when the window does not fit); ``"same"`` and ``"causal"``:
    ``ceil(size / stride)``.

    Example:
        >>> output_size(28, 3), output_size(28, 3, stride=2, padding="same")
        (26, 14)
    """
    if size is None:
        return None
    if padding == "valid":
        return (size - (kernel - 1) * dilation - 1) // stride + 1
    if padding in ("same", "causal"):
        return math.ceil(size / stride)
    raise ValueError(f"`padding` must be one of {PADDINGS}, got {padding!r}.")


def _as_tuple(value, rank: int) -> tuple[int, ...]:
    return (int(value),) * rank if np.ndim(value) == 0 else tuple(int(v) for v in value)


def pad(x: np.ndarray, kernel_size, strides=1, dilation=1, padding: str = "valid",
        pad_value: float = 0.0) -> np.ndarray:
    """``x`` of shape ``(N, *spatial, C)`` with the padding of :func:`pad_amounts` on every
    spatial axis (``x`` itself when there is none)."""
    rank = x.ndim - 2
    kernel_size, strides, dilation = (_as_tuple(v, rank) for v in (kernel_size, strides,
                                                                    dilation))
    widths = [pad_amounts(n, k, s, d, padding)
              for n, k, s, d in zip(x.shape[1:-1], kernel_size, strides, dilation, strict=True)]
    if not any(before or after for before, after in widths):
        return x
    return np.pad(x, [(0, 0), *widths, (0, 0)], constant_values=pad_value)


def patches(x: np.ndarray, kernel_size, strides=1, dilation=1, padding: str = "valid",
            pad_value: float = 0.0) -> np.ndarray:
    """Every window of ``x``: a read-only view of shape ``(N, *out, *kernel_size, C)``.

    For 2-D inputs ``(N, H, W, C)``, with ``xp`` the padded input::

        patches[n, i, j, a, b, c] = xp[n, i·s_h + a·d_h, j·s_w + b·d_w, c]

    of shape ``(N, H', W', kh, kw, C)``; ``H'`` and ``W'`` are :func:`output_size`.
    Nothing is copied but the padding (``np.pad``); reshaping the view to a matrix
    ``(N·H'·W', kh·kw·C)`` makes the copy that the convolution multiplies.

    Args:
        x: inputs ``(N, *spatial, C)``.
        kernel_size, strides, dilation: an int or one int per spatial axis.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (see :func:`pad_amounts`).
        pad_value: the value of the padding (0 for a convolution; pooling may want another).

    Example:
        >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
        >>> p = patches(x, (2, 2), strides=(2, 2))
        >>> p.shape, p[0, 1, 0, :, :, 0].tolist()                # the bottom-left 2×2 block
        ((1, 2, 2, 2, 2, 1), [[8.0, 9.0], [12.0, 13.0]])
    """
    rank = x.ndim - 2
    kernel_size, strides, dilation = (_as_tuple(v, rank) for v in (kernel_size, strides,
                                                                    dilation))
    xp = pad(x, kernel_size, strides, dilation, padding, pad_value)
    spatial = tuple(range(1, rank + 1))
    extents = tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation, strict=True))
    # windows[n, *p, c, *e] = xp[n, *(p + e), c] for every position p and offset e < extent
    windows = sliding_window_view(xp, extents, axis=spatial)
    # keep the positions p = i·s and, inside a window, the offsets e = a·d
    keep = (slice(None), *(slice(None, None, s) for s in strides), slice(None),
            *(slice(None, None, d) for d in dilation))
    windows = windows[keep]
    # (N, *out, C, *kernel) -> (N, *out, *kernel, C)
    return windows.transpose(0, *spatial, *range(rank + 2, 2 * rank + 2), rank + 1)


def scatter_patches(grad_patches: np.ndarray, input_shape: tuple, kernel_size, strides=1,
                    dilation=1, padding: str = "valid") -> np.ndarray:
    """The backward of :func:`patches` ("col2im"): ``δx`` of shape ``input_shape``.

    Each input element sits in every window that covers it, so its gradient is the sum of
    the gradients of those window entries::

        δxp[n, i·s + a·d, j·s + b·d, c] += δpatches[n, i, j, a, b, c]   for all i, j, a, b

    One vectorised addition per kernel offset ``(a, b)`` (over all samples and positions;
    for a fixed offset the positions ``i·s + a·d`` are distinct, so ``+=`` adds each once),
    then the padding is cut off: its gradient goes nowhere.

    Args:
        grad_patches: ``∂L/∂patches``, shape ``(N, *out, *kernel_size, C)``.
        input_shape: the shape of ``x``, ``(N, *spatial, C)``.
        kernel_size, strides, dilation, padding: as given to :func:`patches`.

    Example:
        >>> x = np.zeros((1, 3, 1))
        >>> g = scatter_patches(np.ones((1, 2, 2, 1)), x.shape, (2,))   # windows [0,1], [1,2]
        >>> g[0, :, 0].tolist()                                         # x[1] is in both
        [1.0, 2.0, 1.0]
    """
    rank = len(input_shape) - 2
    windows = _Windows(input_shape, kernel_size, strides, dilation, padding)
    grad_padded = np.zeros(windows.padded_shape, dtype=grad_patches.dtype)
    for offset, read in windows.offsets():
        grad_padded[read] += grad_patches[(slice(None), *(slice(None),) * rank, *offset,
                                           slice(None))]
    return grad_padded[windows.crop]


def scatter_patch_products(grad_z: np.ndarray, kernel: np.ndarray, input_shape: tuple,
                           strides=1, dilation=1, padding: str = "valid") -> np.ndarray:
    """``δx`` of a convolution: ``scatter_patches(δz Wᵀ)``, one kernel offset at a time.

    ``δcols = δz Wᵀ`` holds, for each window, a row of ``k·C`` values: as large as the
    patches (``k`` times the input). Offset ``(a, b)`` of the kernel only needs its own
    columns, ``δz W[a, b]ᵀ`` (``(N·out, C)``, the size of the input), which go to the inputs
    that offset read::

        δxp[n, i·s + a·d, j·s + b·d, :] += (δz W[a, b]ᵀ)[n, i, j, :]   for each (a, b)

    Each value is the same dot product, added in the same order as in
    :func:`scatter_patches`: the same numbers, with temporaries ``k`` times smaller that
    stay in the CPU's cache. The one temporary, ``δz W[a, b]ᵀ``, lives in
    :func:`~minired.layers.workspace.scratch` memory (reused from step to step in ``fit``).

    Args:
        grad_z: ``δz``, shape ``(N·out, F)`` (one row per window).
        kernel: ``W``, shape ``(*kernel_size, C, F)``.
        input_shape: the shape of ``x``, ``(N, *spatial, C)``.
        strides, dilation, padding: as given to :func:`patches`.

    Example:
        >>> dz, w = np.ones((2, 1)), np.full((2, 1, 1), 0.5)    # 2 windows of 2, F = 1
        >>> scatter_patch_products(dz, w, (1, 3, 1))[0, :, 0].tolist()
        [0.5, 1.0, 0.5]
    """
    rank = len(input_shape) - 2
    windows = _Windows(input_shape, kernel.shape[:rank], strides, dilation, padding)
    grad_padded = np.zeros(windows.padded_shape, dtype=grad_z.dtype)
    product = workspace.scratch(scatter_patch_products, "product",
                                (grad_z.shape[0], input_shape[-1]), grad_z.dtype)
    out_shape = (input_shape[0], *windows.out, input_shape[-1])        # (N, *out, C)
    for offset, read in windows.offsets():
        np.matmul(grad_z, kernel[offset].T, out=product)                # δz W[a, b]ᵀ
        grad_padded[read] += product.reshape(out_shape)
    return grad_padded[windows.crop]


class _Windows:
    """Where the windows of :func:`patches` read, for the two scatters: the padded shape,
    the input's place in it, and per kernel offset the positions that offset read."""

    def __init__(self, input_shape: tuple, kernel_size, strides, dilation, padding: str
                 ) -> None:
        rank = len(input_shape) - 2
        self.kernel_size, self.strides, self.dilation = (
            _as_tuple(v, rank) for v in (kernel_size, strides, dilation))
        spatial = input_shape[1:-1]
        widths = [pad_amounts(n, k, s, d, padding) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation, strict=True)]
        self.padded_shape = (input_shape[0], *(n + b + a for n, (b, a) in zip(
            spatial, widths, strict=True)), input_shape[-1])
        self.out = tuple(output_size(n, k, s, d, padding) for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation, strict=True))
        #: the input inside the padded array (its padding's gradient goes nowhere)
        self.crop = (slice(None), *(slice(b, b + n) for n, (b, _) in zip(spatial, widths,
                                                                          strict=True)),
                     slice(None))

    def offsets(self) -> Iterator[tuple[tuple[int, ...], tuple]]:
        """``(offset, index)`` per kernel offset, in row-major order: ``index`` picks, in the
        padded array, the positions ``o·s + a·d`` that offset ``a`` read (``o < out``)."""
        for offset in itertools.product(*(range(k) for k in self.kernel_size)):
            read = tuple(slice(a * d, a * d + s * (o - 1) + 1, s) for a, d, s, o in zip(
                offset, self.dilation, self.strides, self.out, strict=True))
            yield offset, (slice(None), *read, slice(None))
