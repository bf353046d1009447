"""Convolution and pooling ops (Keras' ``ops.conv``, ``conv_transpose``, ``depthwise_conv``,
``separable_conv``, ``max_pool``, ``average_pool``), channels last.

No new patch code: each op calls the functions of minired's convolution and pooling layers
(:mod:`minired.layers.convolutional.im2col`, the depthwise passes of
:mod:`~minired.layers.convolutional.base_depthwise_conv`, the pooling layers' ``forward`` and
``backward``) and records their backward pass as its VJP:

- ``conv``: ``z = cols · W`` with ``cols = patches(x)``; VJP ``δW = colsᵀ δz``,
  ``δx = col2im(δz Wᵀ)``;
- ``conv_transpose``: ``z = col2im(x Wᵀ)``, the ``δx`` of a convolution run forward; VJP
  ``δx = patches(δz) · W``, ``δW = patches(δz)ᵀ x``;
- ``depthwise_conv``: ``z[…, c·M + m] = Σ_a x[o·s + a·d, c] W[a, c, m]``;
- ``separable_conv``: a depthwise convolution, then a 1×1 ``conv`` (the tape chains them);
- ``max_pool`` / ``average_pool``: a MaxPooling/AveragePooling layer's passes, for the
  input's dtype and any number of spatial axes.

Kernels use Keras' layouts: ``(*kernel_size, C_in, C_out)`` for ``conv``,
``(*kernel_size, C_out, C_in)`` for ``conv_transpose``, ``(*kernel_size, C, M)`` for
``depthwise_conv``.

Example:
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> conv(x, np.ones((2, 1, 1)))[0, :, 0]          # sums of neighbours
    array([1., 3., 5., 7.])
"""

from __future__ import annotations

import math

import numpy as np

from minired.autodiff.tape import record
from minired.layers.convolutional import im2col
from minired.layers.convolutional.base_conv import (
    _grouped_matmul_as_kernel,
    _matmul_as_kernel,
    grouped_view,
    scatter_grouped_patch_products,
    ungrouped,
)
from minired.layers.convolutional.base_conv_transpose import output_size as transpose_size
from minired.layers.convolutional.base_depthwise_conv import (
    depthwise_forward,
    depthwise_input_gradient,
    depthwise_kernel_gradient,
)
from minired.layers.pooling.average_pooling import _AveragePooling
from minired.layers.pooling.max_pooling import _MaxPooling
from minired.ops.elementwise import _value, result_dtype


def _check_format(data_format, op: str) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops.{op}: minired supports data_format='channels_last' only "
                         f"(inputs (batch, *spatial, channels)); got data_format="
                         f"{data_format!r}. Transpose with ops.moveaxis(x, 1, -1).")


def _check_padding(padding, op: str) -> str:
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"ops.{op}: `padding` must be 'valid' or 'same', got {padding!r}.")
    return padding.lower()


def _tuple(value, rank: int, name: str, op: str) -> tuple[int, ...]:
    values = (value,) * rank if np.ndim(value) == 0 else tuple(value)
    if len(values) != rank or not all(int(v) == v and v > 0 for v in values):
        raise ValueError(f"ops.{op}: `{name}` must be a positive int or {rank} positive ints, "
                         f"got {value!r}.")
    return tuple(int(v) for v in values)


def _prepare(inputs, kernel, kernel_rank_extra: int, op: str, strides, dilation_rate,
             padding, data_format):
    """The float values of ``inputs`` and ``kernel``, and the window settings."""
    _check_format(data_format, op)
    dtype = result_dtype(inputs, kernel, need_float=True)
    x = np.asarray(_value(inputs)).astype(dtype, copy=False)
    w = np.asarray(_value(kernel)).astype(dtype, copy=False)
    rank = x.ndim - 2
    if rank < 1 or w.ndim != rank + kernel_rank_extra:
        raise ValueError(f"ops.{op}: expected inputs (batch, *spatial, channels) and a kernel "
                         f"with {rank + kernel_rank_extra} axes, got inputs of shape "
                         f"{x.shape} and a kernel of shape {w.shape}.")
    strides = _tuple(strides, rank, "strides", op)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", op)
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(f"ops.{op}: strides > 1 together with dilation_rate > 1 is not "
                         f"supported (TensorFlow refuses it too); got strides={strides}, "
                         f"dilation_rate={dilation}.")
    return x, w, rank, strides, dilation, _check_padding(padding, op)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """An N-D convolution (cross-correlation, as every framework), no bias.

    ``z[n, o, f] = Σ_{a, c} xp[n, o·s + a·d, c] · W[a, c, f]``, computed as
    ``z = cols · W`` with ``cols = patches(x)`` (one row per window).

    VJP: ``δW = colsᵀ δz``; ``δx = col2im(δz Wᵀ)`` (each input gets the sum over the windows
    that read it), as :class:`~minired.layers.Conv2D`'s backward.

    Args:
        inputs: ``(N, *spatial, C)``, 1 to 3 spatial axes.
        kernel: ``(*kernel_size, C, F)``; or ``(*kernel_size, C/G, F)`` for a grouped
            convolution of ``G`` groups, as Keras reads it: channel group ``g`` feeds filters
            ``g·F/G …`` only.
        strides, dilation_rate: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> x = np.ones((1, 3, 3, 1))
        >>> conv(x, np.ones((2, 2, 1, 1)), padding="same")[0, :, :, 0]
        array([[4., 4., 2.],
               [4., 4., 2.],
               [2., 2., 1.]])
    """
    x, w, rank, strides, dilation, padding = _prepare(
        inputs, kernel, 2, "conv", strides, dilation_rate, padding, data_format)
    groups = _groups(x.shape[-1], w.shape[-2], w.shape[-1])
    windows = im2col.patches(x, w.shape[:rank], strides, dilation, padding)
    out_shape = windows.shape[:rank + 1]
    if min(out_shape[1:], default=1) <= 0:
        raise ValueError(f"ops.conv: a kernel of size {w.shape[:rank]} does not fit in inputs "
                         f"of shape {x.shape} with padding={padding!r}.")
    filters, rows = w.shape[-1], math.prod(out_shape)
    if groups > 1:
        return _grouped_conv(inputs, kernel, x, w, windows, out_shape, groups, strides,
                             dilation, padding)
    cols = windows.reshape(rows, -1)                             # (N·out, k·C)
    z = (cols @ w.reshape(-1, filters)).reshape(*out_shape, filters)

    def vjp(grad):
        grad_z = grad.reshape(-1, filters)
        grad_w = _matmul_as_kernel(cols.T, grad_z, w.shape)                      # colsᵀ δz
        grad_x = im2col.scatter_patch_products(grad_z, w, x.shape, strides, dilation, padding)
        return grad_x, grad_w

    return record(z, (inputs, kernel), vjp)


def _groups(channels: int, kernel_channels: int, filters: int) -> int:
    """``G = C / C_kernel``, the groups of a grouped convolution (1 for a plain one), as
    Keras reads them from the kernel; a ValueError when they do not divide ``C`` and ``F``."""
    if channels % kernel_channels or filters % (channels // kernel_channels):
        raise ValueError(
            f"ops.conv: the inputs' channels ({channels}) must be a multiple of the kernel's "
            f"input channels ({kernel_channels}): their ratio is the number of groups, which "
            f"must also divide the kernel's filters ({filters}).")
    return channels // kernel_channels


def _grouped_conv(inputs, kernel, x, w, windows, out_shape, groups, strides, dilation,
                  padding):
    """:func:`conv` with ``G`` groups, as the layers compute it
    (:class:`~minired.layers.Conv2D`'s ``groups``): ``z_g = cols_g W_g``, one batched
    matmul; VJP ``δW_g = cols_gᵀ δz_g``, ``δx_g = col2im(δz_g W_gᵀ)``."""
    filters, rows = w.shape[-1], math.prod(out_shape)
    by_group = np.moveaxis(windows.reshape(*windows.shape[:-1], groups, -1), -2, 0)
    cols = by_group.reshape(groups, rows, -1)                    # (G, N·out, k·C/G), a copy
    z = ungrouped(cols @ grouped_view(w.reshape(-1, filters), groups))
    z = z.reshape(*out_shape, filters)

    def vjp(grad):
        grad_z = grad.reshape(-1, filters)
        grad_w = _grouped_matmul_as_kernel(cols.transpose(0, 2, 1),
                                           grouped_view(grad_z, groups), w.shape)
        grad_x = scatter_grouped_patch_products(grad_z, w, groups, x.shape, strides, dilation,
                                                padding)
        return grad_x, grad_w

    return record(z, (inputs, kernel), vjp)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """An N-D transposed convolution: the input-gradient of ``conv`` run forward, no bias.

    ``z = col2im(x Wᵀ)``: each input value spreads ``x[n, i, c] · W[a, f, c]`` onto output
    ``i·s + a·d`` (minus the padding). Output length per axis as Keras'
    ``compute_conv_transpose_output_shape``.

    VJP (a convolution of ``δz``, as :class:`~minired.layers.Conv2DTranspose`):
    ``δx = patches(δz) · W``, ``δW = patches(δz)ᵀ x``.

    Args:
        inputs: ``(N, *spatial, C_in)``.
        kernel: ``(*kernel_size, C_out, C_in)`` (Keras' layout).
        strides, dilation_rate: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None, an int or one per axis: extra length of the output.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> conv_transpose(np.ones((1, 2, 1)), np.ones((2, 1, 1)))[0, :, 0]
        array([1., 2., 1.])
    """
    x, w, rank, strides, dilation, padding = _prepare(
        inputs, kernel, 2, "conv_transpose", strides, dilation_rate, padding, data_format)
    if w.shape[-1] != x.shape[-1]:
        raise ValueError(f"ops.conv_transpose: the kernel's last axis ({w.shape[-1]}) must "
                         f"equal the inputs' channels ({x.shape[-1]}).")
    extra = ((None,) * rank if output_padding is None
             else _tuple_zero(output_padding, rank))
    kernel_size = w.shape[:rank]
    out = tuple(transpose_size(n, k, s, d, padding, p) for n, k, s, d, p in zip(
        x.shape[1:-1], kernel_size, strides, dilation, extra, strict=True))
    for n, o, k, s, d in zip(x.shape[1:-1], out, kernel_size, strides, dilation, strict=True):
        if o <= 0 or im2col.output_size(o, k, s, d, padding) != n:
            raise ValueError(f"ops.conv_transpose: output_padding={output_padding} gives {o} "
                             f"outputs for an axis of {n}, which the convolution it transposes "
                             "does not map back (TensorFlow refuses it too).")
    out_shape = (x.shape[0], *out, w.shape[-2])
    x_rows = x.reshape(-1, x.shape[-1])                                   # (N·in, C_in)
    z = im2col.scatter_patch_products(x_rows, w, out_shape, strides, dilation, padding)

    def vjp(grad):
        windows = im2col.patches(grad, kernel_size, strides, dilation, padding)
        cols = windows.reshape(x_rows.shape[0], -1)                        # (N·in, k·C_out)
        grad_x = (cols @ w.reshape(-1, w.shape[-1])).reshape(x.shape)      # patches(δz) W
        grad_w = _matmul_as_kernel(cols.T, x_rows, w.shape)                # patches(δz)ᵀ x
        return grad_x, grad_w

    return record(z, (inputs, kernel), vjp)


def _tuple_zero(value, rank: int) -> tuple[int, ...]:
    values = (value,) * rank if np.ndim(value) == 0 else tuple(value)
    if len(values) != rank or not all(int(v) == v and v >= 0 for v in values):
        raise ValueError(f"ops.conv_transpose: `output_padding` must be None, an int >= 0 or "
                         f"{rank} of them, got {value!r}.")
    return tuple(int(v) for v in values)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """A depthwise convolution: each input channel convolved with its own ``M`` filters.

    ``z[n, o, c·M + m] = Σ_a xp[n, o·s + a·d, c] · W[a, c, m]``.

    VJP (as :class:`~minired.layers.DepthwiseConv2D`):
    ``δW[a, c, m] = Σ_{n, o} xp[n, o·s + a·d, c] δz[n, o, c·M + m]``,
    ``δxp[n, o·s + a·d, c] += Σ_m δz[n, o, c·M + m] W[a, c, m]``.

    Args:
        inputs: ``(N, *spatial, C)``, 1 or 2 spatial axes.
        kernel: ``(*kernel_size, C, M)`` (``M`` the depth multiplier).
        strides, dilation_rate: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> x = np.arange(4.0).reshape(1, 4, 1)
        >>> depthwise_conv(x, np.array([1.0, 10.0]).reshape(2, 1, 1))[0, :, 0]
        array([10., 21., 32.])
    """
    x, w, rank, strides, dilation, padding = _prepare(
        inputs, kernel, 2, "depthwise_conv", strides, dilation_rate, padding, data_format)
    if w.shape[-2] != x.shape[-1]:
        raise ValueError(f"ops.depthwise_conv: the kernel's axis -2 ({w.shape[-2]}) must equal "
                         f"the inputs' channels ({x.shape[-1]}).")
    args = (w.shape[:rank], strides, dilation, padding)
    xp, windows = im2col.pad(x, *args), im2col._Windows(x.shape, *args)
    if min(windows.out) <= 0:
        raise ValueError(f"ops.depthwise_conv: a kernel of size {w.shape[:rank]} does not fit "
                         f"in inputs of shape {x.shape} with padding={padding!r}.")
    z = depthwise_forward(xp, w, windows)

    def vjp(grad):
        grad = np.ascontiguousarray(grad)
        return (depthwise_input_gradient(grad, w, windows),
                depthwise_kernel_gradient(xp, grad, windows, w.shape))

    return record(z, (inputs, kernel), vjp)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a pointwise (1×1) one:
    ``z = conv(depthwise_conv(x, W_d), W_p)``; the tape chains the two VJPs.

    Args:
        inputs: ``(N, *spatial, C)``.
        depthwise_kernel: ``(*kernel_size, C, M)``.
        pointwise_kernel: ``(*ones, C·M, F)``.
        strides, padding, data_format, dilation_rate: of the depthwise step.

    Example:
        >>> x = np.ones((1, 3, 2))
        >>> separable_conv(x, np.ones((2, 2, 1)), np.ones((1, 2, 1)))[0, :, 0]
        array([4., 4.])
    """
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format,
                               dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


# -- pooling: the layers' passes --------------------------------------------------------------

class _OpPooling:
    """Mixin: a pooling layer with ``spatial`` axes set per call, computing in the dtype of
    the op's inputs (a layer computes in floatx)."""

    def __init__(self, spatial: int, dtype: np.dtype, *args, **kwargs) -> None:
        self.spatial, self._op_dtype = spatial, dtype
        super().__init__(*args, **kwargs)

    def _float_dtype(self) -> np.dtype:
        return self._op_dtype


class _MaxPool(_OpPooling, _MaxPooling):
    pass


class _AveragePool(_OpPooling, _AveragePooling):
    pass


def _pooling_layer(cls: type, inputs, pool_size, strides, padding, data_format, op: str):
    """A pooling layer of class ``cls`` for ``inputs``' rank and dtype, and the inputs."""
    _check_format(data_format, op)
    x = np.asarray(_value(inputs))
    x = x.astype(result_dtype(inputs, need_float=True), copy=False)
    if x.ndim < 3:
        raise ValueError(f"ops.{op}: inputs must be (batch, *spatial, channels), got shape "
                         f"{x.shape}.")
    layer = cls(x.ndim - 2, x.dtype, pool_size, strides, _check_padding(padding, op), name=op)
    layer.compute_output_shape(x.shape)                  # refuses a window that does not fit
    return layer, x


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum of each window: :class:`~minired.layers.MaxPooling2D`'s passes.

    ``a = max_{k ∈ W} x_k``; VJP: ``δx_{k*} += δa`` at the first maximum ``k*`` of each
    window (TensorFlow's tie rule); ``"same"`` pads with ``−∞``.

    Args:
        inputs: ``(N, *spatial, C)``, any number of spatial axes.
        pool_size: an int or one per spatial axis.
        strides: an int or one per axis; ``pool_size`` when None.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> max_pool(np.array([1.0, 3.0, 2.0, 0.0]).reshape(1, 4, 1), 2)[0, :, 0]
        array([3., 2.])
    """
    layer, x = _pooling_layer(_MaxPool, inputs, pool_size, strides, padding, data_format,
                              "max_pool")
    a = layer.forward(x)
    return record(a, (inputs,), lambda grad: (layer.backward(grad),))


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each window: :class:`~minired.layers.AveragePooling2D`'s passes.

    ``a = (1/n_W) Σ_{k ∈ W} x_k`` (``n_W`` counts real inputs only with ``"same"``, as
    TensorFlow); VJP: ``δx_k += δa / n_W`` for each ``k ∈ W``.

    Args:
        inputs: ``(N, *spatial, C)``, any number of spatial axes.
        pool_size: an int or one per spatial axis.
        strides: an int or one per axis; ``pool_size`` when None.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None) only.

    Example:
        >>> average_pool(np.array([1.0, 3.0, 2.0]).reshape(1, 3, 1), 2, padding="same")[0, :, 0]
        array([2., 2.])
    """
    layer, x = _pooling_layer(_AveragePool, inputs, pool_size, strides, padding,
                              data_format, "average_pool")
    a = layer.forward(x)
    return record(a, (inputs,), lambda grad: (layer.backward(grad),))


# -- unfold / fold (im2col / col2im, PyTorch's channels-first layout, as Keras) -----------------

def _pair(value, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    values = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(values) != 2 or not all(int(v) == v and v >= minimum for v in values):
        raise ValueError(f"ops.{op}: `{name}` must be an int >= {minimum} or two of them, got "
                         f"{value!r}.")
    return int(values[0]), int(values[1])


def _fold_settings(kernel_size, dilation, padding, stride, op: str):
    return (_pair(kernel_size, "kernel_size", op), _pair(dilation, "dilation", op),
            _pair(padding, "padding", op, minimum=0), _pair(stride, "stride", op))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Every sliding block of ``(N, C, H, W)`` images (channels first), as columns:
    ``(N, C·kH·kW, L)``, ``L`` the number of window positions ("im2col", PyTorch's layout).

    ``a[n, (c·kH + i)·kW + j, p] = xp[n, c, oy·s + i·d, ox·s + j·d]`` for position
    ``p = oy·W' + ox`` of the zero-padded ``xp``; computed by :func:`~.im2col.patches`.
    VJP: :func:`~.im2col.scatter_patches` ("col2im": overlapping blocks add), the padding
    cut off.

    Args:
        x: images ``(N, C, H, W)`` (channels first).
        kernel_size: an int or ``(kH, kW)``.
        dilation: the spacing of the block's points (int or pair).
        padding: zeros added on both sides of each axis (int or pair).
        stride: the step between blocks (int or pair).

    Example:
        >>> unfold(np.arange(4.0).reshape(1, 1, 2, 2), 1)[0]
        array([[0., 1., 2., 3.]])
    """
    value = np.asarray(_value(x))
    if value.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={value.shape}")
    kernel, dilation, pads, strides = _fold_settings(kernel_size, dilation, padding, stride,
                                                     "unfold")
    n, c = value.shape[:2]
    xp = np.pad(np.moveaxis(value, 1, -1), ((0, 0), (pads[0],) * 2, (pads[1],) * 2, (0, 0)))
    windows = im2col.patches(xp, kernel, strides, dilation)          # (N, oh, ow, kh, kw, C)
    out = windows.shape[1:3]
    columns = windows.transpose(0, 5, 3, 4, 1, 2).reshape(n, c * kernel[0] * kernel[1], -1)

    def vjp(grad):
        grad_windows = grad.reshape(n, c, *kernel, *out).transpose(0, 4, 5, 2, 3, 1)
        grad_xp = im2col.scatter_patches(grad_windows, xp.shape, kernel, strides, dilation)
        grad_x = grad_xp[:, pads[0]:xp.shape[1] - pads[0], pads[1]:xp.shape[2] - pads[1]]
        return (np.moveaxis(grad_x, -1, 1),)

    return record(columns, (x,), vjp)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of :func:`unfold` ("col2im"): columns ``(N, C·kH·kW, L)`` summed back into
    ``(N, C, oH, oW)`` images, overlapping blocks adding up, the padding cut off.

    Forward: :func:`~.im2col.scatter_patches`; VJP: :func:`~.im2col.patches` (``unfold``).

    Args:
        x: columns ``(N, C·kH·kW, L)``.
        output_size: ``(oH, oW)`` (or an int).
        kernel_size, dilation, padding, stride: as given to :func:`unfold`.

    Example:
        >>> fold(np.ones((1, 2, 2)), (1, 3), (1, 2))[0, 0]          # two blocks overlap
        array([[1., 2., 1.]])
    """
    value = np.asarray(_value(x))
    if value.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={value.shape}")
    kernel, dilation, pads, strides = _fold_settings(kernel_size, dilation, padding, stride,
                                                     "fold")
    size = _pair(output_size, "output_size", "fold")
    n, depth, blocks = value.shape
    c = depth // (kernel[0] * kernel[1])
    padded = (n, size[0] + 2 * pads[0], size[1] + 2 * pads[1], c)
    out = tuple(im2col.output_size(p, k, s, d) for p, k, s, d in zip(
        padded[1:3], kernel, strides, dilation, strict=True))
    if c * kernel[0] * kernel[1] != depth or out[0] * out[1] != blocks:
        raise ValueError(f"ops.fold: inputs of shape {value.shape} do not hold C·kH·kW = "
                         f"{depth} rows and {out[0]}·{out[1]} blocks for output_size={size}, "
                         f"kernel_size={kernel}.")
    windows = value.reshape(n, c, *kernel, *out).transpose(0, 4, 5, 2, 3, 1)
    images = im2col.scatter_patches(windows, padded, kernel, strides, dilation)
    images = np.moveaxis(images[:, pads[0]:padded[1] - pads[0], pads[1]:padded[2] - pads[1]],
                         -1, 1)

    def vjp(grad):
        grad_p = np.pad(np.moveaxis(grad, 1, -1),
                        ((0, 0), (pads[0],) * 2, (pads[1],) * 2, (0, 0)))
        grad_windows = im2col.patches(grad_p, kernel, strides, dilation)
        return (grad_windows.transpose(0, 5, 3, 4, 1, 2).reshape(value.shape),)

    return record(images, (x,), vjp)
