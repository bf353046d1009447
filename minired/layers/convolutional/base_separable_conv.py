"""BaseSeparableConv: what SeparableConv1D and SeparableConv2D share.

The math is in :class:`~minired.layers.convolutional.SeparableConv2D`'s docstring: the
depthwise step is :mod:`~minired.layers.convolutional.base_depthwise_conv`'s (no bias), the
pointwise step a 1×1 convolution, i.e. one matrix product over every position (a Dense
layer on the channels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations
from minired.layers.convolutional.base_conv import (
    _matmul_as_kernel,
    build_bias,
    config_of,
    output_spatial,
    pop_constraints,
    positive_int,
    set_options,
    sum_of_rows,
)
from minired.layers.convolutional.base_depthwise_conv import (
    BaseDepthwiseConv,
    check_input_shape,
    check_spatial_arguments,
    depthwise_forward,
    depthwise_input_gradient,
    depthwise_kernel_gradient,
    padded_input,
    weight_triples,
)
from minired.layers.layer import Layer

#: Keras arguments minired has no concept of, accepted at their default only.


class SeparableCache(NamedTuple):
    """What one call of a separable convolution keeps for its backward pass."""

    xp: np.ndarray        #: the padded inputs (N, *padded, C): ∂L/∂W_d reads them
    d: np.ndarray         #: the depthwise outputs (N·out, C·M): ∂L/∂W_p = dᵀ δz
    z: np.ndarray         #: the pre-activation (N, *out, F): f'(z) needs it
    a: np.ndarray | None  #: the outputs f(z), if f's backward reads them
    windows: object       #: im2col's _Windows of this input's shape


class BaseSeparableConv(Layer):
    """A depthwise then pointwise convolution over ``rank`` spatial axes, channels last
    (see SeparableConv1D and SeparableConv2D)."""

    rank: int = 2
    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=1,
        depth_multiplier: int = 1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        cls = type(self).__name__
        given_constraints = pop_constraints(kwargs, "depthwise_constraint",
                                            "pointwise_constraint", "bias_constraint")
        super().__init__(name=name, trainable=trainable, **kwargs)
        self.filters = positive_int(filters, "filters", cls)
        check_spatial_arguments(self, kernel_size, strides, padding, data_format,
                                dilation_rate, depth_multiplier)
        set_options(self, activation=activation, use_bias=use_bias,
                    depthwise_initializer=depthwise_initializer,
                    pointwise_initializer=pointwise_initializer,
                    bias_initializer=bias_initializer,
                    depthwise_regularizer=depthwise_regularizer,
                    pointwise_regularizer=pointwise_regularizer,
                    bias_regularizer=bias_regularizer, **given_constraints)

    _constrained_weights = (("depthwise_kernel", "depthwise_constraint"),
                            ("pointwise_kernel", "pointwise_constraint"),
                            ("bias", "bias_constraint"))

    # -- shapes -------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        check_input_shape(self, input_shape, None)
        self.compute_output_shape(input_shape)          # refuses a window that does not fit
        dtype = self._float_dtype()
        channels, multiplier = input_shape[-1], self.depth_multiplier
        self.depthwise_kernel = np.asarray(self.depthwise_initializer(
            (*self.kernel_size, channels, multiplier), dtype=dtype))            # Keras' order
        self.pointwise_kernel = np.asarray(self.pointwise_initializer(
            (*(1,) * self.rank, channels * multiplier, self.filters), dtype=dtype))
        self.depthwise_kernel_gradient = np.zeros_like(self.depthwise_kernel)
        self.pointwise_kernel_gradient = np.zeros_like(self.pointwise_kernel)
        build_bias(self, self.filters, dtype)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_input_shape(self, tuple(input_shape), self.depthwise_kernel.shape[-2])
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, *out, filters)`` with ``out`` from :func:`~.im2col.output_size`."""
        return (input_shape[0], *output_spatial(self, input_shape), self.filters)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        xp, windows = padded_input(self, inputs, self.depthwise_kernel.dtype)
        d = depthwise_forward(xp, self.depthwise_kernel, windows)      # depthwise, no bias
        out_shape = d.shape[:-1]
        d = d.reshape(-1, d.shape[-1])                                 # (N·out, C·M)
        z = d @ self.pointwise_kernel.reshape(-1, self.filters)        # z = d W_p
        if self.use_bias:
            z += self.bias                                             #   + b
        z = z.reshape(*out_shape, self.filters)
        a = self.activation(z)                                         # a = f(z)
        kept_a = a if activations.backward_reads_output(self.activation) else None
        self.cache = SeparableCache(xp, d, z, kept_a, windows)
        return a

    #: δz = f'(z) ⊙ δa, then :meth:`backward_from_z` (DepthwiseConv2D's, the same lines)
    backward = BaseDepthwiseConv.backward

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z``; ``input_gradient=False`` skips ``δx``."""
        xp, d, windows = self.cache.xp, self.cache.d, self.cache.windows
        out_shape = grad_z.shape[:-1]
        grad_z = grad_z.reshape(-1, self.filters)                          # (N·out, F)
        self._add_to_gradient(self.pointwise_kernel_gradient, _matmul_as_kernel,   # dᵀ δz
                              d.T, grad_z, self.pointwise_kernel.shape)
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, sum_of_rows, grad_z)        # Σ δz
        grad_d = grad_z @ self.pointwise_kernel.reshape(-1, self.filters).T        # δz W_pᵀ
        grad_d = grad_d.reshape(*out_shape, -1)
        self._add_to_gradient(self.depthwise_kernel_gradient, depthwise_kernel_gradient,
                              xp, grad_d, windows, self.depthwise_kernel.shape)
        if not input_gradient:
            return None
        return depthwise_input_gradient(grad_d, self.depthwise_kernel, windows)   # δx

    def _weight_triples(self) -> list:
        """depthwise_kernel, pointwise_kernel, then bias (Keras' order), each with its
        regularizer."""
        return weight_triples(self, ("depthwise_kernel", "depthwise_regularizer"),
                              ("pointwise_kernel", "pointwise_regularizer"))

    def get_config(self) -> dict:
        """Keras' config for the layer (the Keras-only arguments written as None)."""
        return {
            **super().get_config(),
            **config_of(self, "depth_multiplier", "filters", "kernel_size", "strides",
                        "padding", "data_format", "dilation_rate", "activation", "use_bias",
                        "depthwise_initializer", "pointwise_initializer", "bias_initializer",
                        "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
                        "activity_regularizer", "depthwise_constraint", "pointwise_constraint",
                        "bias_constraint"),
        }
