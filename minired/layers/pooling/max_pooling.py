"""Max pooling: keep the largest value of each window (MaxPooling1D, MaxPooling2D)."""

from __future__ import annotations

import numpy as np

from minired.layers import workspace
from minired.layers.pooling.base_pooling import BasePooling
from minired.layers.pooling.windows import crop_spatial, pad_spatial


class _MaxPooling(BasePooling):
    """Forward, for each window ``W`` of the input (one channel, ``pool_size`` values)::

        a = max_{k ∈ W} x_k                     k* = the position of that maximum

    Backward: the window's gradient goes to its maximum only, ``δx_{k*} += δa`` (the max
    does not move when another value changes a little, so their gradient is 0). Windows
    that overlap (``strides < pool_size``) can pick the same ``k*``: the gradients add up.

    **Ties**: when several values of a window equal its maximum, the gradient goes to the
    **first** of them in row-major order inside the window (row by row, then column by
    column), as TensorFlow's ``MaxPoolGrad`` does (measured, TF 2.21).

    With ``padding="same"`` the input is padded with ``-inf`` (as TensorFlow), so padding
    never wins a window.

    Both passes loop over the few offsets ``k`` inside a window (``prod(pool_size)``
    iterations, each one vectorised over every sample, position and channel): the values
    at offset ``k`` of all windows are one strided slice of the input. The forward keeps,
    next to the running maximum, the offset that first reached it (``k*``, one byte per
    window): the backward routes ``δa`` with it and never reads the input again. The
    passes' temporaries are :func:`~minired.layers.workspace.scratch` arrays, reused from
    step to step in ``fit``.
    """

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = self._as_float(inputs)
        pads = self._pads(x.shape)
        padded = pad_spatial(x, pads, -np.inf)               # padding never wins a window
        out = self.compute_output_shape(x.shape)               # (N, *out, C)
        offsets = list(np.ndindex(*self.pool_size))          # row-major order
        a = padded[self._at(offsets[0], out)].copy()           # the first offset's values
        winner = np.zeros(out, dtype=np.min_scalar_type(len(offsets) - 1))   # k* = 0 so far
        beats = workspace.scratch(self, "beats", out, bool)
        k_where_beats = workspace.scratch(self, "k_where_beats", out, winner.dtype)
        for k, offset in enumerate(offsets[1:], start=1):
            values = padded[self._at(offset, out)]
            np.greater(values, a, out=beats)       # strictly: on a tie the first k stays
            # k* = k where x_k beats a: k is above every earlier k*, so max(k*, k·beats)
            # says it in one fast pass (np.copyto(..., where=) is ~50 times slower)
            np.multiply(beats, winner.dtype.type(k), out=k_where_beats)
            np.maximum(winner, k_where_beats, out=winner)
            np.maximum(a, values, out=a)                       # a = max over the offsets
        self.cache = (winner, padded.shape, pads)
        return a

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        winner, padded_shape, pads = self.cache
        if all(s >= p for s, p in zip(self.strides, self.pool_size, strict=True)):
            # Windows do not overlap: each input is in one window at most, so offset k
            # of every window is written once: δx_k = δa where k = k*, 0 elsewhere.
            grad = _empty_but_uncovered(padded_shape, self.pool_size, self.strides,
                                        winner.shape, grad_outputs.dtype)
            won = workspace.scratch(self, "won", winner.shape, bool)
            for k, offset in enumerate(np.ndindex(*self.pool_size)):
                np.equal(winner, k, out=won)                    # the windows where k* = k
                np.multiply(grad_outputs, won, out=grad[self._at(offset, winner.shape)])
            return crop_spatial(grad, pads)
        # Overlapping windows may share a winner: scatter-add window after window,
        # TensorFlow's order (bit-identical to Keras).
        grad = np.zeros(padded_shape, dtype=grad_outputs.dtype)
        offsets = np.unravel_index(winner, self.pool_size)
        n, *starts, c = np.indices(winner.shape, sparse=True)
        positions = [start * stride + offset
                     for start, stride, offset in zip(starts, self.strides, offsets, strict=True)]
        np.add.at(grad, (n, *positions, c), grad_outputs)
        return crop_spatial(grad, pads)

    def _at(self, offset: tuple, out: tuple) -> tuple:
        """The index of the values at window offset ``offset`` of every window: positions
        ``o·stride + offset`` for the ``out`` window positions of each spatial axis."""
        return (slice(None), *(slice(k, k + (o - 1) * s + 1, s) for k, o, s in
                               zip(offset, out[1:-1], self.strides, strict=True)), slice(None))


def _empty_but_uncovered(shape: tuple, pool_size: tuple, strides: tuple, out: tuple,
                         dtype) -> np.ndarray:
    """An array for δx that the windows will write: uninitialised when they tile the input
    (every value gets written: no pass of zeros), else zeros (gaps, or rows and columns
    past the last window, get no gradient)."""
    tiles = all(s == p and o * s == n for s, p, o, n in zip(strides, pool_size, out[1:-1],
                                                             shape[1:-1], strict=True))
    return np.empty(shape, dtype) if tiles else np.zeros(shape, dtype)


class MaxPooling2D(_MaxPooling):
    """Max pooling over rows and columns: inputs ``(N, H, W, C)``, outputs
    ``(N, H_out, W_out, C)``, the largest value of each ``pool_size`` window, per channel.

    Forward and backward, per window ``W`` (see ``_MaxPooling`` for ties and padding)::

        a[n, i, j, c] = max over (p, q) in the window of x[n, i·sh + p, j·sw + q, c]
        δx at the window's first maximum  +=  δa[n, i, j, c]        (0 elsewhere)

    ``H_out = ⌊(H - ph) / sh⌋ + 1`` with ``padding="valid"``, ``⌈H / sh⌉`` with
    ``padding="same"`` (the same for ``W``).

    Args:
        pool_size: ``(ph, pw)``, or one int for both: the window.
        strides: ``(sh, sw)``, or one int; ``None`` means ``pool_size`` (windows that touch
            without overlapping).
        padding: ``"valid"`` (windows inside the input only) or ``"same"`` (pad with -inf
            so that every input position starts a window when ``strides=1``).
        data_format: ``"channels_last"`` (or None); minired has no channels-first layout.
        name: layer name.

    Example:
        >>> x = np.array([[1., 2., 0., 1.],
        ...               [3., 4., 1., 5.]]).reshape(1, 2, 4, 1)
        >>> MaxPooling2D(pool_size=(2, 2))(x)[0, :, :, 0]
        array([[4., 5.]], dtype=float32)
    """

    spatial = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid",
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling1D(_MaxPooling):
    """Max pooling along time: inputs ``(N, L, C)``, outputs ``(N, L_out, C)``.

    Forward and backward (see ``_MaxPooling`` for ties and padding)::

        a[n, i, c] = max_{p < pool} x[n, i·stride + p, c]
        δx at the window's first maximum  +=  δa[n, i, c]

    ``L_out = ⌊(L - pool) / stride⌋ + 1`` ("valid") or ``⌈L / stride⌉`` ("same").

    Args:
        pool_size: the window length (an int, or a tuple of one int).
        strides: the step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([1., 3., 2., 0., 5.]).reshape(1, 5, 1)
        >>> MaxPooling1D(pool_size=2, strides=1)(x)[0, :, 0]
        array([3., 3., 2., 5.], dtype=float32)
    """

    spatial = 1

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)
