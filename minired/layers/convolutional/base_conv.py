"""BaseConv: what Conv1D and Conv2D share (a convolution over ``rank`` spatial axes).

The math is in :class:`~minired.layers.convolutional.Conv2D`'s docstring; this file holds
the code, which is the same for one or two spatial axes:

- forward: ``cols = patches(x)`` reshaped to ``(N·out, k·C)`` (one copy), then
  ``z = cols · W`` (one matmul) ``+ b``, ``a = f(z)``;
- backward: ``∂L/∂W = colsᵀ δz`` (one matmul, with ``cols`` made again from ``x``: the
  cache keeps ``x``, about ``k`` times smaller), ``∂L/∂b = Σ δz``,
  ``δcols = δz Wᵀ`` and ``δx = scatter_patches(δcols)`` (col2im), both done by
  ``scatter_patch_products`` one kernel offset at a time; without ``input_gradient`` (a
  first layer) ``δx`` is skipped.

With ``groups = G > 1`` (Keras' grouped convolution) input channel group ``g`` (channels
``g·C/G … (g+1)·C/G - 1``) feeds filters ``g·F/G … (g+1)·F/G - 1`` only, and the kernel is
``(*k, C/G, F)``: each group is the convolution above on its own channels, ``z_g = cols_g
W_g``, the ``G`` products done as one batched matmul (see :func:`grouped_view`).

As Dense, the layer adds ∂L/∂W and ∂L/∂b to its gradient arrays through
:meth:`Layer._add_to_gradient`: the first call of a training step writes them (no pass of
zeros, no temporary as large as the kernel), a second call of a shared layer adds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations, constraints, initializers, regularizers
from minired.layers import workspace
from minired.layers.convolutional import im2col
from minired.layers.layer import Layer
from minired.saving import serialization_lib

#: Keras arguments minired has no concept of, accepted at their default only (the
#: constructor refuses any other value; get_config writes them, as Keras does).
_LORA = ("lora_rank", "lora_alpha")      # Keras writes these only when LoRA is on
#: Inputs with at most this many channels get ``cols`` copied column by column (see
#: BaseConv._patch_matrix); with more, row by row.
FEW_CHANNELS = 3


class BaseConv(Layer):
    """A convolution over ``rank`` spatial axes, channels last (see Conv1D and Conv2D)."""

    rank: int = 2

    def __init_subclass__(cls, **kwargs) -> None:
        """Keras' convolutions call ``self.convolution_op(inputs, kernel)``, so a subclass may
        replace it (a standardized kernel, say). minired's forward and backward are written
        by hand and never call it: such a subclass would be silently ignored, so it is
        refused where it is written."""
        super().__init_subclass__(**kwargs)
        if "convolution_op" in vars(cls):
            raise TypeError(
                f"{cls.__name__}.convolution_op: minired's convolution layers do not call "
                "`convolution_op` (their forward and backward are written by hand), so it "
                "would never run. Change the input or the output in `call` instead, around "
                "super().call(inputs).")
    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=1,
        groups: int = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        cls = type(self).__name__
        refuse_keras_only(cls, kwargs, _LORA)
        given_constraints = pop_constraints(kwargs, "kernel_constraint", "bias_constraint")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.filters = positive_int(filters, "filters", cls)
        standardize_window(self, kernel_size, strides, dilation_rate)
        allowed = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        self.padding = standardize_padding(padding, allowed, cls)
        self.data_format = channels_last(data_format, self.rank, cls)
        self.groups = positive_int(groups, "groups", cls)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: the number of filters must be evenly divisible by the "
                             f"number of groups. Received: groups={self.groups}, "
                             f"filters={self.filters}.")       # Keras' message
        refuse_strides_with_dilation(self.strides, self.dilation_rate)
        set_options(self, activation=activation, use_bias=use_bias,
                    kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                    kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                    **given_constraints)

    _constrained_weights = (("kernel", "kernel_constraint"), ("bias", "bias_constraint"))

    # -- shapes -------------------------------------------------------------------------------
    def _expected_shape(self) -> str:
        return expected_shape(self.rank)

    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        check_build_shape(self, input_shape)
        self.compute_output_shape(input_shape)          # refuses a window that does not fit
        channels = input_shape[-1]
        if channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: the number of input channels must be evenly "
                f"divisible by the number of groups. Received groups={self.groups}, but the "
                f"input has {channels} channels (full input shape is {input_shape}).")
        kernel_shape = (*self.kernel_size, channels // self.groups, self.filters)  # Keras'
        build_kernel_and_bias(self, kernel_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """Keras' ``InputSpec(min_ndim=rank + 2, axes={-1: in_channels})``, and a window
        that fits in the input."""
        check_call_ndim(self, input_shape)
        check_channels(self, input_shape, self.kernel.shape[-2] * self.groups)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, *out, filters)`` with ``out`` from :func:`~.im2col.output_size` per axis."""
        return (input_shape[0], *output_spatial(self, input_shape), self.filters)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self.kernel.dtype, copy=False)
        if self.groups == 1:
            cols, out_shape = self._patch_matrix(x)              # (N·out, k·C), (N, *out)
            z = cols @ self.kernel.reshape(-1, self.filters)     # z = cols W: one matmul
        else:                                                    # z_g = cols_g W_g, per g
            cols, out_shape = self._grouped_patch_matrix(x)      # (G, N·out, k·C/G)
            z = ungrouped(cols @ grouped_view(self.kernel.reshape(-1, self.filters),
                                              self.groups))      # (N·out, F)
        if self.use_bias:
            z += self.bias                                       #   + b
        z = z.reshape(*out_shape, self.filters)
        a = self.activation(z)                                   # a = f(z)
        # a is as large as z: kept only for an f' that reads it (σ' = a(1 - a)). relu's
        # 1[z > 0] needs z alone, and the next layer, often a pooling, does not keep a
        # either, so its memory is free again as soon as that layer has read it.
        kept_a = a if activations.backward_reads_output(self.activation) else None
        self.cache = ConvCache(x, z, kept_a)     # x, not cols: backward makes cols again
        return a

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        grad_z = self.activation.backward(self.cache.z, self.cache.a, grad_outputs)  # δz
        if not input_gradient:     # (a subclass may take only δz: pass the flag if set)
            return self.backward_from_z(grad_z, input_gradient=False)
        return self.backward_from_z(grad_z)

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z`` (used directly when the loss gives ``δz``);
        ``input_gradient=False`` skips ``δx`` (see :meth:`Layer.backward`)."""
        x = self.cache.x
        grad_z = grad_z.reshape(-1, self.filters)                # (N·out, F)
        if self.groups > 1:
            return self._grouped_backward_from_z(x, grad_z, input_gradient)
        cols, _ = self._patch_matrix(x)        # the forward's cols again (one copy, as there)
        self._add_to_gradient(self.kernel_gradient, _matmul_as_kernel,   # ∂L/∂W += colsᵀδz
                              cols.T, grad_z, self.kernel.shape)
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, sum_of_rows, grad_z)  # ∂L/∂b += Σ δz
        if not input_gradient:
            return None
        # δx = col2im(δcols), δcols = δz Wᵀ: computed kernel offset by kernel offset,
        # without the whole (N·out, k·C) matrix δcols (the same numbers)
        return im2col.scatter_patch_products(grad_z, self.kernel, x.shape, self.strides,
                                             self.dilation_rate, self.padding)

    def _patch_matrix(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """``cols``, every window of ``x`` as one row ``(N·out, k·C)``, and ``(N, *out)``.

        The copy is fastest when its inner loop runs long. Row by row (the windows in
        order), it copies runs of ``kw·C`` values: 3 values for a 3×3 kernel over one
        channel. With at most ``FEW_CHANNELS`` (3: grayscale or RGB images, a first layer)
        ``cols`` is copied column by column instead, as ``colsᵀ`` ``(k·C, N·out)``, whose
        runs follow the image's rows (measured, 128×28×28×1 images: 0.17 ms against 1.26;
        with 3 channels 0.87 against 1.32; from 4 channels on, row by row is faster).
        ``cols`` is then the transpose of that array: the same matrix, which the matrix
        products read as fast. Either copy goes into :func:`~minired.layers.workspace.scratch`
        memory, reused by every step of a ``fit``: the callers multiply ``cols`` at once and
        keep nothing of it. For this layout the BLAS may add a product's terms in
        another order, so the last bits can differ (in the comparisons with Keras the
        worst differences stayed as small: up to 1.1e-14 in float64 and 3.8e-6 in float32,
        against tolerances of 1e-10 and 1e-5).
        """
        windows = im2col.patches(x, self.kernel_size, self.strides, self.dilation_rate,
                                 self.padding)                   # (N, *out, *k, C), a view
        out_shape = windows.shape[:self.rank + 1]                # (N, *out)
        rows = math.prod(out_shape)
        if x.shape[-1] <= FEW_CHANNELS:
            kernel_axes = range(self.rank + 1, 2 * self.rank + 2)            # *k, C
            windows = windows.transpose(*kernel_axes, *range(self.rank + 1))  # (*k, C, N, *out)
        # the copy, into memory reused from one training step to the next (see workspace)
        cols = workspace.scratch(self, "cols", windows.shape, windows.dtype)
        np.copyto(cols, windows)
        if x.shape[-1] > FEW_CHANNELS:
            return cols.reshape(rows, -1), out_shape                         # row by row
        return cols.reshape(-1, rows).T, out_shape                           # by column

    # -- groups > 1 -----------------------------------------------------------------------
    def _grouped_patch_matrix(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """``cols`` split by channel group, ``(G, N·out, k·C/G)``, and ``(N, *out)``: slice
        ``g`` is ``cols_g``, the windows of channels ``g·C/G … (g+1)·C/G - 1`` only (one
        copy into :func:`~minired.layers.workspace.scratch` memory, as
        :meth:`_patch_matrix`: the callers multiply it at once and keep nothing of it)."""
        windows = im2col.patches(x, self.kernel_size, self.strides, self.dilation_rate,
                                 self.padding)                   # (N, *out, *k, C), a view
        out_shape = windows.shape[:self.rank + 1]                # (N, *out)
        windows = windows.reshape(*windows.shape[:-1], self.groups, -1)   # C -> (G, C/G)
        windows = np.moveaxis(windows, -2, 0)                    # (G, N, *out, *k, C/G)
        cols = workspace.scratch(self, "cols", windows.shape, windows.dtype)
        np.copyto(cols, windows)
        return cols.reshape(self.groups, math.prod(out_shape), -1), out_shape

    def _grouped_backward_from_z(self, x: np.ndarray, grad_z: np.ndarray,
                                 input_gradient: bool) -> np.ndarray | None:
        """:meth:`backward_from_z` with ``groups = G > 1``, group by group (one batched
        matmul each)::

            ∂L/∂W_g = cols_gᵀ δz_g          (k·C/G, F/G): filters g·F/G … of the kernel
            ∂L/∂b   = Σ δz                  (F,), as with one group
            δx_g    = col2im(δz_g W_gᵀ)     channels g·C/G … of δx

        with ``δz_g = δz[:, g·F/G : (g+1)·F/G]`` (see :func:`scatter_grouped_patch_products`)."""
        cols, _ = self._grouped_patch_matrix(x)                  # (G, N·out, k·C/G)
        self._add_to_gradient(self.kernel_gradient, _grouped_matmul_as_kernel,
                              cols.transpose(0, 2, 1), grouped_view(grad_z, self.groups),
                              self.kernel.shape)
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, sum_of_rows, grad_z)  # ∂L/∂b += Σ δz
        if not input_gradient:
            return None
        return scatter_grouped_patch_products(grad_z, self.kernel, self.groups, x.shape,
                                              self.strides, self.dilation_rate, self.padding)

    def _weight_triples(self) -> list:
        return self._kernel_and_bias_triples()       # kernel, then bias (see Layer)

    def get_config(self) -> dict:
        """Keras' config for the layer (the Keras-only arguments written as None)."""
        return {
            **super().get_config(),
            **config_of(self, "filters", "kernel_size", "strides", "padding", "data_format",
                        "dilation_rate", "groups", "activation", "use_bias",
                        "kernel_initializer", "bias_initializer", "kernel_regularizer",
                        "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"),
        }


def _matmul_as_kernel(cols_t: np.ndarray, grad_z: np.ndarray, kernel_shape: tuple,
                      out: np.ndarray | None = None) -> np.ndarray:
    """``colsᵀ δz`` (a ``(k·C, F)`` matrix) in the kernel's layout ``(*k, C, F)``; with
    ``out``, written straight into it (:meth:`Layer._add_to_gradient`'s first write)."""
    if out is None:
        return (cols_t @ grad_z).reshape(kernel_shape)
    # build() made the gradient with zeros_like: contiguous, so the reshape is a view of out
    np.matmul(cols_t, grad_z, out=out.reshape(cols_t.shape[0], -1))
    return out


def grouped_view(matrix: np.ndarray, groups: int) -> np.ndarray:
    """A ``(rows, G·m)`` matrix as ``G`` matrices ``(G, rows, m)``, a view: slice ``g`` is
    the block of columns ``g·m … (g+1)·m - 1``. For a grouped convolution the kernel as a
    matrix ``(k·C/G, F)`` becomes the ``W_g`` of the ``G`` groups (``(G, k·C/G, F/G)``, the
    filters of group ``g`` are the ``g``-th block), and ``δz`` the ``δz_g``; ``cols_g W_g``
    for every ``g`` is then one ``np.matmul`` of the stacks.

    Example:
        >>> grouped_view(np.arange(8).reshape(2, 4), 2)[1]        # columns 2 and 3
        array([[2, 3],
               [6, 7]])
    """
    return matrix.reshape(matrix.shape[0], groups, -1).swapaxes(0, 1)


def ungrouped(stack: np.ndarray) -> np.ndarray:
    """The inverse of :func:`grouped_view`: ``(G, rows, m)`` -> ``(rows, G·m)``, the ``G``
    blocks side by side (a copy): ``z = [z_0 | z_1 | … | z_{G-1}]``.

    Example:
        >>> ungrouped(grouped_view(np.arange(8).reshape(2, 4), 2)).tolist()
        [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    return stack.swapaxes(0, 1).reshape(stack.shape[1], -1)


def _grouped_matmul_as_kernel(cols_t: np.ndarray, grad_z: np.ndarray, kernel_shape: tuple,
                              out: np.ndarray | None = None) -> np.ndarray:
    """``cols_gᵀ δz_g`` for every group ``g`` (stacks ``(G, k·C/G, N·out)`` and
    ``(G, N·out, F/G)``) in the kernel's layout ``(*k, C/G, F)``, group ``g``'s product in
    filters ``g·F/G …``; with ``out`` (the kernel's gradient), written straight into it."""
    groups, rows = cols_t.shape[0], cols_t.shape[1]
    if out is None:
        return ungrouped(np.matmul(cols_t, grad_z)).reshape(kernel_shape)   # (k·C/G, F)
    np.matmul(cols_t, grad_z, out=grouped_view(out.reshape(rows, -1), groups))
    return out


def scatter_grouped_patch_products(grad_z: np.ndarray, kernel: np.ndarray, groups: int,
                                   input_shape: tuple, strides, dilation,
                                   padding: str) -> np.ndarray:
    """``δx`` of a grouped convolution: :func:`~.im2col.scatter_patch_products` per group,
    the ``G`` groups in one batched matmul per kernel offset ``a``::

        δxp[n, i·s + a·d, g·C/G + c] += (δz_g W_g[a]ᵀ)[n, i, c]     for each a, g

    ``δz_g W_g[a]ᵀ`` is ``(N·out, C/G)``: the gradient of the inputs of group ``g`` only
    (the other channels were not read by its filters).

    Args:
        grad_z: ``δz``, shape ``(N·out, F)``.
        kernel: ``W``, shape ``(*kernel_size, C/G, F)``.
        groups: ``G``.
        input_shape: the shape of ``x``, ``(N, *spatial, C)``.
        strides, dilation, padding: as given to :func:`~.im2col.patches`.

    Example:
        >>> dz, w = np.ones((2, 2)), np.array([[[1.0, 2.0]], [[3.0, 4.0]]])  # G = F = C = 2
        >>> scatter_grouped_patch_products(dz, w, 2, (1, 3, 2), 1, 1, "valid")[0].tolist()
        [[1.0, 2.0], [4.0, 6.0], [3.0, 4.0]]
    """
    rank = len(input_shape) - 2
    windows = im2col._Windows(input_shape, kernel.shape[:rank], strides, dilation, padding)
    grad_padded = np.zeros(windows.padded_shape, dtype=grad_z.dtype)
    grad_z_groups = grouped_view(grad_z, groups)                       # (G, N·out, F/G)
    out_shape = (input_shape[0], *windows.out, input_shape[-1])        # (N, *out, C)
    for offset, read in windows.offsets():
        w_t = grouped_view(kernel[offset], groups).transpose(0, 2, 1)  # W_g[a]ᵀ (G, F/G, C/G)
        grad_padded[read] += ungrouped(grad_z_groups @ w_t).reshape(out_shape)
    return grad_padded[windows.crop]


def sum_of_rows(matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``Σ_n matrix[n, :]``, the sum of the rows of a 2-D array: ``∂L/∂b = Σ δz``.

    The same sum as ``matrix.sum(axis=0)``, written as the product ``1ᵀ · matrix`` with a
    vector of ones, which the BLAS does 2.5-4 times faster on a convolution's ``δz``: one
    row per sample and position, ``F`` values each, and NumPy's reduction over the first
    axis adds one short row at a time (measured, one thread: 86,528 × 32, 1.68 ms against
    0.43; 15,488 × 64, 0.42 against 0.16). The terms are added in another order, so the
    last bits may differ. (Dense keeps ``sum(axis=0)``: its ``δz`` has one row per sample,
    and its sum is then the tape's, bit for bit, as lesson 15 shows.)

    Example:
        >>> sum_of_rows(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        array([ 9., 12.])
    """
    return np.matmul(_ones(matrix.shape[0], matrix.dtype), matrix, out=out)


@functools.lru_cache(maxsize=16)
def _ones(length: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``length`` ones, made once per length and dtype (a new one in
    every step was a new allocation in the middle of it, measured slower). Each is ``F``
    times smaller than the ``δz`` it sums; a ``fit`` needs about two per convolution (the
    full batches and the last one)."""
    ones = np.ones(length, dtype=dtype)
    ones.flags.writeable = False
    return ones


class ConvCache(NamedTuple):
    """What one call of a convolution keeps for its backward pass."""

    x: np.ndarray         #: the inputs, (N, *spatial, C): cols again for ∂L/∂W = colsᵀ δz
    z: np.ndarray         #: the pre-activation, (N, *out, F): f'(z) needs it
    a: np.ndarray | None  #: the outputs f(z), (N, *out, F), if f's backward reads them


def _standardize_tuple(value, rank: int, argument: str, owner: str) -> tuple[int, ...]:
    """An int or ``rank`` positive ints, as a tuple (Keras' ``standardize_tuple``)."""
    values = (value,) * rank if isinstance(value, int | np.integer) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != rank or not all(isinstance(v, int | np.integer)
                                      and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{owner}: `{argument}` must be a positive int or a tuple of {rank} "
                         f"positive ints, got {value!r}.")
    return tuple(int(v) for v in values)


# -- the argument checks, shape checks and config all the convolution layers share -----------
# (BaseConv here; BaseConvTranspose, BaseDepthwiseConv and BaseSeparableConv import them)

def refuse_keras_only(cls: str, kwargs: dict, keys) -> None:
    """Pop Keras' arguments ``keys`` (LoRA) from ``kwargs``, refusing any value but None."""
    for key in keys:
        if kwargs.pop(key, None) is not None:
            raise ValueError(f"{cls}: `{key}` is not implemented in minired; leave it as None.")


def pop_constraints(kwargs: dict, *names: str) -> dict:
    """Pop the constraint arguments ``names`` (``kernel_constraint``...) from ``kwargs``,
    None for those not given, for :func:`set_options`."""
    return {name: kwargs.pop(name, None) for name in names}


def positive_int(value, argument: str, cls: str) -> int:
    """``value`` as an int, refusing anything but a positive int (``filters``, ``groups``,
    ``depth_multiplier``).

    Example:
        >>> positive_int(np.int64(4), "filters", "Conv2D")
        4
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{cls}: `{argument}` must be a positive int, got {value!r}.")
    return int(value)


def standardize_window(layer: Layer, kernel_size, strides, dilation_rate) -> None:
    """Set ``kernel_size``, ``strides`` and ``dilation_rate`` on ``layer``, each as a tuple
    of ``layer.rank`` positive ints (Keras' ``standardize_tuple``)."""
    cls, rank = type(layer).__name__, layer.rank
    layer.kernel_size = _standardize_tuple(kernel_size, rank, "kernel_size", cls)
    layer.strides = _standardize_tuple(strides, rank, "strides", cls)
    layer.dilation_rate = _standardize_tuple(dilation_rate, rank, "dilation_rate", cls)


def standardize_padding(padding, allowed: tuple, cls: str) -> str:
    """``padding`` in lower case, refused unless one of ``allowed``.

    Example:
        >>> standardize_padding("SAME", ("valid", "same"), "Conv2D")
        'same'
    """
    lowered = padding.lower() if isinstance(padding, str) else padding
    if lowered not in allowed:
        raise ValueError(f"{cls}: `padding` must be one of {allowed}, got {padding!r}.")
    return lowered


def channels_last(data_format, rank: int, cls: str) -> str:
    """``"channels_last"``, the only ``data_format`` minired implements (None means it);
    any other value is refused."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{cls}: only data_format='channels_last' (inputs of shape "
                         f"{expected_shape(rank)}) is implemented in minired, got "
                         f"{data_format!r}. Move the channels last with "
                         "np.moveaxis(x, 1, -1).")
    return "channels_last"


def refuse_strides_with_dilation(strides: tuple, dilation_rate: tuple) -> None:
    """Refuse ``strides > 1`` together with ``dilation_rate > 1`` (Keras' message:
    TensorFlow cannot do both at once)."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation_rate}")


def set_options(layer: Layer, **options) -> None:
    """Set each option on ``layer``, in the order given, looked up as its name says:
    ``activation`` by ``activations.get``, ``use_bias`` as a bool, ``*_initializer`` and
    ``*_regularizer`` by ``initializers.get`` and ``regularizers.get``, ``*_constraint`` by
    ``constraints.get``."""
    for name, value in options.items():
        if name == "activation":
            value = activations.get(value)
        elif name == "use_bias":
            value = bool(value)
        elif name.endswith("_initializer"):
            value = initializers.get(value)
        elif name.endswith("_regularizer"):
            value = regularizers.get(value)
        elif name.endswith("_constraint"):
            value = constraints.get(value)
        else:
            raise TypeError(f"set_options: unknown option {name!r}.")
        setattr(layer, name, value)


def expected_shape(rank: int) -> str:
    """The inputs' shape, in words, for the error messages.

    Example:
        >>> expected_shape(1)
        '(batch, steps, channels)'
    """
    return {1: "(batch, steps, channels)", 3: "(batch, depth, rows, cols, channels)"}.get(
        rank, "(batch, rows, cols, channels)")


def check_build_shape(layer: Layer, input_shape: tuple) -> None:
    """Refuse to build on inputs of another rank, or with an unknown number of channels."""
    if len(input_shape) != layer.rank + 2 or input_shape[-1] is None:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: inputs must have shape "
            f"{expected_shape(layer.rank)} with a known number of channels, got {input_shape}.")


def build_kernel_and_bias(layer: Layer, kernel_shape: tuple) -> None:
    """Make ``layer.kernel`` of ``kernel_shape`` and, with ``use_bias``, ``layer.bias`` of
    ``(filters,)``, from their initializers, each with a gradient array of zeros."""
    dtype = layer._float_dtype()
    layer.kernel = np.asarray(layer.kernel_initializer(kernel_shape, dtype=dtype))
    layer.kernel_gradient = np.zeros_like(layer.kernel)
    build_bias(layer, layer.filters, dtype)


def build_bias(layer: Layer, size: int, dtype) -> None:
    """With ``use_bias``, make ``layer.bias`` of ``(size,)`` from ``bias_initializer``, and
    its gradient array of zeros (without, nothing)."""
    if layer.use_bias:
        layer.bias = np.asarray(layer.bias_initializer((size,), dtype=dtype))
        layer.bias_gradient = np.zeros_like(layer.bias)


def check_call_ndim(layer: Layer, input_shape: tuple) -> None:
    """Keras' ``InputSpec(min_ndim=rank + 2)`` (its message)."""
    if len(input_shape) != layer.rank + 2:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected "
            f"ndim={layer.rank + 2} {expected_shape(layer.rank)}, found "
            f"ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}.")


def check_channels(layer: Layer, input_shape: tuple, channels: int | None) -> None:
    """Keras' ``InputSpec(axes={-1: channels})`` (its message): the inputs have the
    ``channels`` the layer was built with (nothing is checked while ``channels`` or the
    inputs' last axis is None)."""
    if channels is not None and input_shape[-1] not in (None, channels):
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected axis "
            f"-1 of input shape to have value {channels} (the channels it was built with), "
            f"but received input with shape {tuple(input_shape)}.")


def output_spatial(layer: Layer, input_shape: tuple) -> tuple:
    """``out`` per spatial axis (:func:`~.im2col.output_size`), refusing a window that does
    not fit (Keras' message)."""
    spatial = input_shape[1:-1]
    if len(spatial) != layer.rank:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: inputs must have shape "
                         f"{expected_shape(layer.rank)}, got {tuple(input_shape)}.")
    out = tuple(im2col.output_size(n, k, s, d, layer.padding) for n, k, s, d in zip(
        spatial, layer.kernel_size, layer.strides, layer.dilation_rate, strict=True))
    if any(o is not None and o <= 0 for o in out):
        raise ValueError(
            "Computed output size would be zero or negative. Received "
            f"`inputs shape={tuple(input_shape)}`, `kernel_size={layer.kernel_size}`, "
            f"`dilation_rate={layer.dilation_rate}`, `strides={layer.strides}`, "
            f"`padding={layer.padding}`. Use padding='same' or a smaller kernel.")
    return out


def config_of(layer: Layer, *names: str) -> dict:
    """``{name: getattr(layer, name)}`` for Keras' config, in the order given: the activation as
    Keras names it, initializers, regularizers and constraints serialized, the rest as they
    are."""
    serialize = serialization_lib.serialize_keras_object
    config = {}
    for name in names:
        value = getattr(layer, name)
        if name == "activation":
            value = serialization_lib.serialize_activation(value)
        elif name.endswith(("_initializer", "_regularizer", "_constraint")):
            value = serialize(value)
        config[name] = value
    return config
