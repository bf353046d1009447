"""Conv3D: a 3-D convolution (volumes, videos), computed as one matrix product over the
patches."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_conv import BaseConv


class Conv3D(BaseConv):
    """3-D convolution: ``filters`` small kernels slide over a volume, each giving a volume.

    For ``x`` of shape ``(N, D, H, W, C)`` (depth, rows, columns: a scan's slices or a
    video's frames), a kernel ``W`` of shape ``(kd, kh, kw, C, F)`` and a bias of shape
    ``(F,)``::

        z[n, t, i, j, f] = Σ_{e<kd, a<kh, b<kw, c<C} x[n, t·s + e·d, i·s + a·d, j·s + b·d, c]
                                                    · W[e, a, b, c, f]  + bias[f]
        out = act(z)                                            z, out: (N, D', H', W', F)

    It is :class:`~minired.layers.convolutional.Conv2D` with a third spatial axis: the same
    im2col product ``z = cols · W + b`` with ``cols`` of shape ``(N·D'·H'·W', kd·kh·kw·C)``,
    the same backward (``δz = act'(z) ⊙ δout``, ``∂L/∂W = colsᵀ δz``,
    ``∂L/∂bias = Σ δz``, ``δx = col2im(δz Wᵀ)``) and the same output sizes per axis
    (``"valid"``: ``⌊(D - (kd-1)·d - 1)/s⌋ + 1``; ``"same"``: ``⌈D/s⌉``) and the same
    ``groups`` (kernel ``(kd, kh, kw, C/G, F)``, ``z_g = cols_g W_g``); see Conv2D.

    Args:
        filters: number of kernels ``F`` (output channels).
        kernel_size: ``(kd, kh, kw)``, or one int for all three.
        strides: ``(s_d, s_h, s_w)`` or one int: the step between windows.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: ``(d_d, d_h, d_w)`` or one int (not with ``strides > 1``).
        groups: ``G`` channel groups, each with its own ``F/G`` filters (see Conv2D);
            ``filters`` and the input channels must be divisible by it.
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: as for Conv2D (``kernel_constraint``, ``bias_constraint``...).

    Example:
        >>> layer = Conv3D(4, 3, padding="same", activation="relu")
        >>> layer(np.ones((2, 5, 6, 6, 1), dtype="float32")).shape
        (2, 5, 6, 6, 4)
        >>> layer.kernel.shape, layer.count_params()           # 3·3·3·1·4 + 4
        ((3, 3, 3, 1, 4), 112)
        >>> Conv3D(2, (1, 3, 3), strides=2).compute_output_shape((None, 4, 8, 8, 3))
        (None, 2, 3, 3, 2)
    """

    rank = 3

    # BaseConv's arguments, with Keras' 3-D defaults written out: strides=(1, 1, 1), ...
    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=(1, 1, 1),
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
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, name=name, trainable=trainable,
                         **kwargs)
