"""Conv3DTranspose: a 3-D transposed convolution (upsampling volumes), a Conv3D run
backwards: its forward is Conv3D's input-gradient, its input-gradient a Conv3D."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_conv_transpose import BaseConvTranspose


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution: each input voxel stamps a weighted kernel on the output.

    For ``x`` of shape ``(N, D, H, W, C)``, a kernel ``W`` of shape ``(kd, kh, kw, F, C)``
    (Keras' layout: filters *before* input channels) and a bias of shape ``(F,)``, with
    ``p`` the padding of the convolution going back (0 for ``"valid"``)::

        z[n, t·s + e·d - p_d, i·s + a·d - p_h, j·s + b·d - p_w, f]
            += Σ_c x[n, t, i, j, c] · W[e, a, b, f, c]     for every voxel and tap (e, a, b)
        z += bias[f],   out = act(z)                         z, out: (N, D', H', W', F)

    It is :class:`~minired.layers.convolutional.Conv2DTranspose` with a third spatial axis:
    the forward ``z = col2im(x Wᵀ) + b`` (a Conv3D's input-gradient), the backward
    ``δz = act'(z) ⊙ δout``, ``cols = im2col(δz)``, ``δx = cols W`` (a Conv3D of ``δz``),
    ``∂L/∂W = colsᵀ x``, ``∂L/∂bias = Σ δz``; and the same output size per axis
    (``"valid"``: ``(D - 1)·s + max(e, s)``, ``"same"``: ``D·s``, with ``e = (k-1)·d + 1``;
    see Conv2DTranspose for ``output_padding``).

    Args:
        filters: number of output channels ``F``.
        kernel_size: ``(kd, kh, kw)``, or one int for all three.
        strides: ``(s_d, s_h, s_w)`` or one int: the output step between two input voxels.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        output_padding: None, or one int or three, each smaller than its stride.
        dilation_rate: ``(d_d, d_h, d_w)`` or one int (not with ``strides > 1``).
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: as for Conv2DTranspose (``kernel_constraint``, ``bias_constraint``...).

    (Keras' Conv3DTranspose takes ``data_format`` before ``output_padding``, unlike its
    Conv2DTranspose: the same order here.)

    Example:
        >>> layer = Conv3DTranspose(2, 3, strides=2, padding="same")
        >>> layer(np.ones((1, 2, 3, 4, 5), dtype="float32")).shape     # twice as large
        (1, 4, 6, 8, 2)
        >>> layer.kernel.shape
        (3, 3, 3, 2, 5)
    """

    rank = 3

    # BaseConvTranspose's arguments, in Keras' 3-D order, with its defaults written out
    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
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
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, name=name, trainable=trainable,
                         **kwargs)
