"""BaseDepthwiseConv: what DepthwiseConv1D and DepthwiseConv2D share, and the depthwise
passes SeparableConv1D/2D reuse.

The math is in :class:`~minired.layers.convolutional.DepthwiseConv2D`'s docstring. Each
input channel has its own ``depth_multiplier`` kernels and is never mixed with another, so
the convolution is no matrix product over the patches (Conv2D's im2col ``cols · W``): it is
a sum over the kernel offsets ``(a, b)`` of the input shifted to that offset times the
offset's ``(C, M)`` weights, one vectorised operation per offset (over all samples, positions
and channels), as :func:`~minired.layers.convolutional.im2col.scatter_patch_products` does
for Conv2D's backward. The padding, the output size and where each offset reads are
im2col's (:func:`~minired.layers.convolutional.im2col.pad` and its ``_Windows``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from minired import activations
from minired.layers.convolutional import im2col
from minired.layers.convolutional.base_conv import (
    build_bias,
    channels_last,
    check_channels,
    config_of,
    expected_shape,
    output_spatial,
    pop_constraints,
    positive_int,
    set_options,
    standardize_window,
    sum_of_rows,
)
from minired.layers.layer import Layer

#: Keras arguments minired has no concept of, accepted at their default only (refused
#: otherwise; get_config writes them, as Keras does).


# -- the depthwise passes (also SeparableConv's first step) ----------------------------------

def depthwise_forward(xp: np.ndarray, kernel: np.ndarray, windows) -> np.ndarray:
    """``z[n, *o, c·M + m] = Σ_a xp[n, o·s + a·d, c] · W[a, c, m]`` (no bias).

    Args:
        xp: the padded inputs ``(N, *padded, C)`` (:func:`~.im2col.pad`).
        kernel: ``W``, shape ``(*kernel_size, C, M)``.
        windows: im2col's ``_Windows`` of the unpadded input (where each offset reads).

    Returns:
        ``z`` of shape ``(N, *out, C·M)`` (channel ``c``, multiplier ``m`` at ``c·M + m``).

    Example:
        >>> x = np.arange(4.0).reshape(1, 4, 1)
        >>> w = np.array([1.0, 10.0]).reshape(2, 1, 1)            # z[t] = x[t] + 10 x[t+1]
        >>> windows = im2col._Windows(x.shape, (2,), (1,), (1,), "valid")
        >>> depthwise_forward(x, w, windows)[0, :, 0].tolist()
        [10.0, 21.0, 32.0]
    """
    channels, multiplier = kernel.shape[-2:]
    out_shape = (xp.shape[0], *windows.out, channels, multiplier)
    z = np.zeros(out_shape, dtype=kernel.dtype)
    product = np.empty(out_shape, dtype=kernel.dtype)
    for offset, read in windows.offsets():
        # the inputs offset a read, (N, *out, C, 1), times its weights (C, M)
        np.multiply(xp[read][..., None], kernel[offset], out=product)
        z += product
    return z.reshape(*out_shape[:-2], channels * multiplier)


def depthwise_kernel_gradient(xp: np.ndarray, grad_z: np.ndarray, windows,
                              kernel_shape: tuple, out: np.ndarray | None = None
                              ) -> np.ndarray:
    """``∂L/∂W[a, c, m] = Σ_{n, o} xp[n, o·s + a·d, c] · δz[n, o, c·M + m]``, one einsum
    per kernel offset ``a``; written into ``out`` when given (see
    :meth:`Layer._add_to_gradient`).

    Example:
        >>> x, dz = np.arange(4.0).reshape(1, 4, 1), np.ones((1, 3, 1))
        >>> windows = im2col._Windows(x.shape, (2,), (1,), (1,), "valid")
        >>> depthwise_kernel_gradient(x, dz, windows, (2, 1, 1))[:, 0, 0].tolist()
        [3.0, 6.0]
    """
    if out is None:
        out = np.empty(kernel_shape, dtype=grad_z.dtype)
    grad_z = grad_z.reshape(*grad_z.shape[:-1], *kernel_shape[-2:])     # (N, *out, C, M)
    axes = "nopq"[:grad_z.ndim - 2]              # n and the spatial axes, summed over
    for offset, read in windows.offsets():
        np.einsum(f"{axes}c,{axes}cm->cm", xp[read], grad_z, out=out[offset])
    return out


def depthwise_input_gradient(grad_z: np.ndarray, kernel: np.ndarray, windows
                             ) -> np.ndarray:
    """``δx``: ``δxp[n, o·s + a·d, c] += Σ_m δz[n, o, c·M + m] · W[a, c, m]`` for each
    offset ``a`` (a pixel under several windows gets the sum), then the padding cut off.

    Example:
        >>> dz, w = np.ones((1, 3, 1)), np.array([1.0, 10.0]).reshape(2, 1, 1)
        >>> windows = im2col._Windows((1, 4, 1), (2,), (1,), (1,), "valid")
        >>> depthwise_input_gradient(dz, w, windows)[0, :, 0].tolist()
        [1.0, 11.0, 11.0, 10.0]
    """
    grad_z = grad_z.reshape(*grad_z.shape[:-1], *kernel.shape[-2:])     # (N, *out, C, M)
    grad_padded = np.zeros(windows.padded_shape, dtype=grad_z.dtype)
    product = np.empty(grad_z.shape, dtype=grad_z.dtype)
    for offset, read in windows.offsets():
        np.multiply(grad_z, kernel[offset], out=product)                 # δz W[a] per m
        # Σ_m (with M = 1, the one term: no sum, measured 1.5 times faster than einsum)
        grad_padded[read] += product[..., 0] if kernel.shape[-1] == 1 else product.sum(-1)
    return grad_padded[windows.crop]


class DepthwiseCache(NamedTuple):
    """What one call of a depthwise convolution keeps for its backward pass."""

    xp: np.ndarray        #: the padded inputs (N, *padded, C): ∂L/∂W reads them
    z: np.ndarray         #: the pre-activation (N, *out, C·M): f'(z) needs it
    a: np.ndarray | None  #: the outputs f(z), if f's backward reads them
    windows: object       #: im2col's _Windows of this input's shape


# -- the arguments both layer families check -------------------------------------------------

def check_spatial_arguments(layer: Layer, kernel_size, strides, padding, data_format,
                            dilation_rate, depth_multiplier) -> None:
    """Set ``kernel_size``, ``strides``, ``dilation_rate`` (tuples of ``rank`` positive
    ints), ``padding``, ``data_format`` and ``depth_multiplier`` on ``layer``, refusing what
    minired does not compute."""
    cls = type(layer).__name__
    layer.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", cls)
    standardize_window(layer, kernel_size, strides, dilation_rate)
    layer.padding = padding.lower() if isinstance(padding, str) else padding
    if layer.padding not in ("valid", "same"):
        raise ValueError(f"{cls}: `padding` must be 'valid' or 'same' (Keras' depthwise and "
                         f"separable convolutions have no 'causal'), got {padding!r}.")
    layer.data_format = channels_last(data_format, layer.rank, cls)


def check_input_shape(layer: Layer, input_shape: tuple, channels: int | None) -> None:
    """Keras' ``InputSpec(min_ndim=rank + 2, axes={-1: channels})``, and a window that fits."""
    if len(input_shape) != layer.rank + 2 or input_shape[-1] is None:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected "
            f"ndim={layer.rank + 2} {expected_shape(layer.rank)} with a known number of "
            f"channels, found shape {tuple(input_shape)}.")
    check_channels(layer, input_shape, channels)


def padded_input(layer: Layer, inputs, dtype) -> tuple[np.ndarray, object]:
    """``(xp, windows)``: the inputs padded as ``layer.padding`` says, and im2col's
    ``_Windows`` (where each kernel offset reads in ``xp``)."""
    x = np.asarray(inputs).astype(dtype, copy=False)
    args = (layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding)
    return im2col.pad(x, *args), im2col._Windows(x.shape, *args)


class BaseDepthwiseConv(Layer):
    """A depthwise convolution over ``rank`` spatial axes, channels last (see
    DepthwiseConv1D and DepthwiseConv2D)."""

    rank: int = 2
    _writes_gradients = True       # backward adds through _add_to_gradient (see Layer)

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate=1,
        activation: str | Callable | None = None,
        use_bias: bool = True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs,
    ) -> None:
        given_constraints = pop_constraints(kwargs, "depthwise_constraint", "bias_constraint")
        super().__init__(name=name, trainable=trainable, **kwargs)
        check_spatial_arguments(self, kernel_size, strides, padding, data_format,
                                dilation_rate, depth_multiplier)
        set_options(self, activation=activation, use_bias=use_bias,
                    depthwise_initializer=depthwise_initializer,
                    bias_initializer=bias_initializer,
                    depthwise_regularizer=depthwise_regularizer,
                    bias_regularizer=bias_regularizer, **given_constraints)

    _constrained_weights = (("kernel", "depthwise_constraint"), ("bias", "bias_constraint"))

    # -- shapes -------------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        check_input_shape(self, input_shape, None)
        self.compute_output_shape(input_shape)          # refuses a window that does not fit
        dtype = self._float_dtype()
        channels = input_shape[-1]
        shape = (*self.kernel_size, channels, self.depth_multiplier)      # Keras' layout
        self.kernel = np.asarray(self.depthwise_initializer(shape, dtype=dtype))
        self.kernel_gradient = np.zeros_like(self.kernel)
        build_bias(self, channels * self.depth_multiplier, dtype)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_input_shape(self, tuple(input_shape), self.kernel.shape[-2])
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """``(N, *out, C·depth_multiplier)`` with ``out`` from :func:`~.im2col.output_size`."""
        out = output_spatial(self, input_shape)
        channels = input_shape[-1]
        return (input_shape[0], *out,
                None if channels is None else channels * self.depth_multiplier)

    # -- the two passes -----------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        xp, windows = padded_input(self, inputs, self.kernel.dtype)
        z = depthwise_forward(xp, self.kernel, windows)          # z = Σ_a xp_a W[a]
        if self.use_bias:
            z += self.bias                                       #   + b
        a = self.activation(z)                                   # a = f(z)
        kept_a = a if activations.backward_reads_output(self.activation) else None
        self.cache = DepthwiseCache(xp, z, kept_a, windows)
        return a

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        grad_z = self.activation.backward(self.cache.z, self.cache.a, grad_outputs)  # δz
        return self.backward_from_z(grad_z, input_gradient=input_gradient)

    def backward_from_z(self, grad_z: np.ndarray, input_gradient: bool = True) -> np.ndarray:
        """Backward pass from ``δz = ∂L/∂z``; ``input_gradient=False`` skips ``δx``."""
        xp, windows = self.cache.xp, self.cache.windows
        self._add_to_gradient(self.kernel_gradient, depthwise_kernel_gradient,   # ∂L/∂W
                              xp, grad_z, windows, self.kernel.shape)
        if self.use_bias:
            self._add_to_gradient(self.bias_gradient, sum_of_rows,               # ∂L/∂b
                                  grad_z.reshape(-1, grad_z.shape[-1]))
        if not input_gradient:
            return None
        return depthwise_input_gradient(grad_z, self.kernel, windows)           # δx

    def _weight_triples(self) -> list:
        """kernel, then bias (Keras' order), with ``depthwise_regularizer`` on the kernel."""
        return weight_triples(self, ("kernel", "depthwise_regularizer"))

    def get_config(self) -> dict:
        """Keras' config for the layer (the Keras-only arguments written as None)."""
        return {
            **super().get_config(),
            **config_of(self, "depth_multiplier", "kernel_size", "strides", "padding",
                        "data_format", "dilation_rate", "activation", "use_bias",
                        "depthwise_initializer", "bias_initializer", "depthwise_regularizer",
                        "bias_regularizer", "activity_regularizer", "depthwise_constraint",
                        "bias_constraint"),
        }


def weight_triples(layer: Layer, *kernels: tuple[str, str]) -> list:
    """``_weight_triples`` of a depthwise or separable convolution: for each
    ``(kernel, regularizer)`` attribute name pair the kernel, its ``*_gradient`` and the
    regularizer, then (with ``use_bias``) the bias, and a subclass's own variables around
    them; the gradients no backward wrote are filled with zeros first."""
    if not layer.built:
        return []
    layer._fill_unwritten_gradients()      # see Layer.zero_gradients
    triples = [(getattr(layer, kernel), getattr(layer, f"{kernel}_gradient"),
                getattr(layer, regularizer)) for kernel, regularizer in kernels]
    if layer.use_bias:
        triples.append((layer.bias, layer.bias_gradient, layer.bias_regularizer))
    return own_variables_around(layer, triples)


def own_variables_around(layer: Layer, triples: list) -> list:
    """A subclass's own ``mr.Variable`` s around the built-in weights: trainable ones
    first, non-trainable ones last (as :meth:`Layer._kernel_and_bias_triples`)."""
    if not layer._own_variables:
        return triples
    own = [(v, v.gradient, v.regularizer) for v in layer._own_variables]
    return ([t for t in own if t[0].trainable] + triples
            + [t for t in own if not t[0].trainable])
