"""BaseConvTranspose: what Conv1DTranspose and Conv2DTranspose share.

The math is in :class:`~minired.layers.convolutional.Conv2DTranspose`'s docstring. A
transposed convolution runs a convolution's two passes the other way round, so this file
reuses the convolution's helpers (:mod:`~minired.layers.convolutional.im2col`) and adds no
new patch code:

- forward: ``z = col2im(x Wᵀ) + b``, the input-gradient of the convolution whose input has
  the output's shape (:func:`~.im2col.scatter_patch_products`, one kernel offset at a time);
  ``a = f(z)``;
- backward: ``cols = patches(δz)`` ``(N·in, k·F)`` (one copy, as a convolution's forward
  makes from its input), ``δx = cols · W`` (a plain convolution of ``δz``),
  ``∂L/∂W = colsᵀ x``, ``∂L/∂b = Σ δz``.

As Conv2D, the layer adds ∂L/∂W and ∂L/∂b to its gradient arrays through
:meth:`Layer._add_to_gradient`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minired import activations
from minired.layers.convolutional import im2col
from minired.layers.convolutional.base_conv import (
    BaseConv,
    ConvCache,
    _matmul_as_kernel,
    build_kernel_and_bias,
    channels_last,
    check_build_shape,
    check_call_ndim,
    check_channels,
    config_of,
    pop_constraints,
    positive_int,
    refuse_strides_with_dilation,
    set_options,
    standardize_padding,
    standardize_window,
    sum_of_rows,
)
from minired.layers.layer import Layer


class BaseConvTranspose(Layer):
    """A transposed convolution over ``rank`` spatial axes, channels last (see
    Conv1DTranspose and Conv2DTranspose)."""

    rank: int = 2
    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        output_padding=None,
        data_format: str | None = None,
        dilation_rate=1,
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
        given_constraints = pop_constraints(kwargs, "kernel_constraint", "bias_constraint")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.filters = positive_int(filters, "filters", cls)
        standardize_window(self, kernel_size, strides, dilation_rate)
        self.padding = standardize_padding(padding, ("valid", "same"), cls)
        self.output_padding = (None if output_padding is None else
                               _standardize_output_padding(output_padding, self.rank, cls))
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides, strict=True)):
                if op >= s:                       # Keras' message
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but "
                        f"`strides` is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}")
        self.data_format = channels_last(data_format, self.rank, cls)
        refuse_strides_with_dilation(self.strides, self.dilation_rate)
        set_options(self, activation=activation, use_bias=use_bias,
                    kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                    kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                    **given_constraints)

    _constrained_weights = BaseConv._constrained_weights

    # -- shapes -------------------------------------------------------------------------------
    _expected_shape = BaseConv._expected_shape

    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        check_build_shape(self, input_shape)
        self.compute_output_shape(input_shape)          # refuses an impossible output size
        kernel_shape = (*self.kernel_size, self.filters, input_shape[-1])   # Keras' layout
        build_kernel_and_bias(self, kernel_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """Keras' ``InputSpec(min_ndim=rank + 2, axes={-1: in_channels})``."""
        check_call_ndim(self, input_shape)
        check_channels(self, input_shape, self.kernel.shape[-1])
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, *out, filters)``, ``out`` per axis from :func:`output_size` (Keras'
        ``compute_conv_transpose_output_shape``)."""
        spatial = input_shape[1:-1]
        if len(spatial) != self.rank:
            raise ValueError(f"{type(self).__name__} {self.name!r}: inputs must have shape "
                             f"{self._expected_shape()}, got {tuple(input_shape)}.")
        paddings = self.output_padding or (None,) * self.rank
        out = tuple(output_size(n, k, s, d, self.padding, op) for n, k, s, d, op in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate, paddings, strict=True))
        for n, o, k, s, d in zip(spatial, out, self.kernel_size, self.strides,
                                 self.dilation_rate, strict=True):
            # TensorFlow computes the output as the input-gradient of the convolution that
            # maps `out` back to `n`, and refuses (an error deep in the op) when none does
            if n is not None and (o <= 0 or im2col.output_size(o, k, s, d, self.padding) != n):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: with kernel_size="
                    f"{self.kernel_size}, strides={self.strides}, padding={self.padding!r}, "
                    f"dilation_rate={self.dilation_rate} and output_padding="
                    f"{self.output_padding}, inputs of shape {tuple(input_shape)} would give "
                    f"{o} outputs along an axis of {n}, which the convolution it transposes "
                    f"does not map back to {n} (TensorFlow refuses it too). Use another "
                    "output_padding (or None).")
        return (input_shape[0], *out, self.filters)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(inputs).astype(self.kernel.dtype, copy=False)
        out_shape = self.compute_output_shape(x.shape)                 # (N, *out, F)
        # z = col2im(x Wᵀ): the δx of the convolution with kernel W from (N, *out, F) to x
        z = im2col.scatter_patch_products(x.reshape(-1, x.shape[-1]), self.kernel, out_shape,
                                          self.strides, self.dilation_rate, self.padding)
        if self.use_bias:
            z += self.bias                                             #   + b
        a = self.activation(z)                                         # a = f(z)
        kept_a = a if activations.backward_reads_output(self.activation) else None
        self.cache = ConvCache(x, z, kept_a)
        return a

    #: δz = f'(z) ⊙ δa, then :meth:`backward_from_z` (Conv2D's, the same lines)
    backward = BaseConv.backward

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z``; ``input_gradient=False`` skips ``δx``."""
        x = self.cache.x
        # cols = patches(δz): a convolution's patch matrix, with δz as its input
        cols, _ = self._patch_matrix(grad_z)                           # (N·in, k·F)
        x_rows = x.reshape(-1, x.shape[-1])                            # (N·in, C)
        self._add_to_gradient(self.kernel_gradient, _matmul_as_kernel,   # ∂L/∂W += colsᵀ x
                              cols.T, x_rows, self.kernel.shape)
        if self.use_bias:                                              # ∂L/∂b += Σ δz
            self._add_to_gradient(self.bias_gradient, sum_of_rows,
                                  grad_z.reshape(-1, self.filters))
        if not input_gradient:
            return None
        grad_x = cols @ self.kernel.reshape(-1, self.kernel.shape[-1])  # δx = cols W
        return grad_x.reshape(x.shape)

    #: Conv2D's patch matrix, read from ``self.kernel_size``, ``strides``, ``dilation_rate``
    #: and ``padding`` (the same attributes here): applied to ``δz`` it is the forward of
    #: the convolution whose input-gradient this layer's forward is.
    _patch_matrix = BaseConv._patch_matrix

    _weight_triples = BaseConv._weight_triples      # kernel, then bias (see Layer)

    def get_config(self) -> dict:
        """Keras' config for the layer."""
        return {
            **super().get_config(),
            **config_of(self, "filters", "kernel_size", "strides", "padding",
                        "output_padding", "data_format", "dilation_rate", "activation",
                        "use_bias", "kernel_initializer", "bias_initializer",
                        "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                        "kernel_constraint", "bias_constraint"),
        }


def output_size(size: int | None, kernel: int, stride: int = 1, dilation: int = 1,
                padding: str = "valid", output_padding: int | None = None) -> int | None:
    """Length of one output axis of a transposed convolution (Keras'
    ``_get_output_shape_given_tf_padding``); ``None`` stays ``None``.

    With ``e = (kernel - 1)·dilation + 1`` the kernel's extent and ``p`` the output padding::

        "valid":  (size - 1)·stride + e + p,   p = max(e, stride) - e when None
        "same":   size·stride                  when p is None
                  (size - 1)·stride + e % 2 + p

    Example:
        >>> output_size(5, 3), output_size(5, 3, 2, padding="same"), output_size(5, 2, 3)
        (7, 10, 15)
        >>> output_size(5, 4, 2, padding="same", output_padding=1)
        9
    """
    if size is None:
        return None
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(extent, stride) - extent
        return (size - 1) * stride + extent + output_padding
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + extent % 2 + output_padding


def _standardize_output_padding(value, rank: int, owner: str) -> tuple[int, ...]:
    """An int or ``rank`` ints ``>= 0``, as a tuple (Keras' ``standardize_tuple`` with
    ``allow_zero=True``)."""
    values = (value,) * rank if isinstance(value, int | np.integer) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != rank or not all(isinstance(v, int | np.integer)
                                      and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"{owner}: `output_padding` must be None, an int >= 0 or a tuple of "
                         f"{rank} ints >= 0, got {value!r}.")
    return tuple(int(v) for v in values)
