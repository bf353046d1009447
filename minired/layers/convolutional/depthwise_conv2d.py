"""DepthwiseConv2D: a 2-D convolution that filters each channel on its own."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_depthwise_conv import BaseDepthwiseConv


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution: each input channel gets its own ``depth_multiplier``
    kernels, and channels are never mixed (the first step of a separable convolution).

    **Definition.** For ``x`` of shape ``(N, H, W, C)``, a kernel ``W`` of shape
    ``(kh, kw, C, M)`` (``M = depth_multiplier``) and a bias of shape ``(C·M,)``, with
    strides ``s``, dilation ``d`` (one per axis; written once here) and ``xp`` the input
    padded as Conv2D pads it, output ``(i, j)`` of channel ``c``, multiplier ``m`` is::

        z[n, i, j, c·M + m] = Σ_{a<kh, b<kw} xp[n, i·s + a·d, j·s + b·d, c] · W[a, b, c, m]
                              + bias[c·M + m]
        out = act(z)                                        z, out: (N, H', W', C·M)

    The output channels are ordered as Keras/TensorFlow order them: channel ``c``'s ``M``
    maps side by side (``c·M + m``). ``H'`` and ``W'`` are Conv2D's (``"valid"``:
    ``floor((H - (kh-1)·d - 1)/s) + 1``; ``"same"``: ``ceil(H/s)``, TensorFlow's padding).

    **Computed** one kernel offset ``(a, b)`` at a time: ``xp_ab``, the ``(N, H', W', C)``
    inputs that offset reads, times its ``(C, M)`` weights, added to ``z`` (a sum of
    ``kh·kw`` vectorised products; no matrix product, since no channels are mixed).

    **Backward**, given ``δout = ∂L/∂out``, for each offset ``(a, b)``::

        δz                  = act'(z) ⊙ δout
        ∂L/∂W[a, b, c, m]   = Σ_{n,i,j} xp[n, i·s + a·d, j·s + b·d, c] · δz[n, i, j, c·M + m]
        ∂L/∂bias[k]         = Σ_{n,i,j} δz[n, i, j, k]
        δxp[n, i·s + a·d, j·s + b·d, c] += Σ_m δz[n, i, j, c·M + m] · W[a, b, c, m]
        δx                  = δxp without its padding

    (a pixel under several windows gets the sum, as Conv2D's col2im). As for Conv2D,
    ``backward`` *adds* ∂L/∂W and ∂L/∂bias to ``kernel_gradient`` and ``bias_gradient``.

    Args:
        kernel_size: ``(kh, kw)``, or one int for both.
        strides: ``(s_h, s_w)`` or one int: the step between windows.
        padding: ``"valid"`` (no padding) or ``"same"`` (zeros around, output ``ceil(H/s)``).
        depth_multiplier: ``M``, the output channels per input channel.
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: ``(d_h, d_w)`` or one int: the gap between the kernel's taps (with
            strides above 1 too, as Keras computes it).
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``, ``name`` and
            ``trainable``).
        depthwise_initializer: initializer of ``W`` (``"glorot_uniform"``);
            ``bias_initializer``: of the bias (``"zeros"``).
        depthwise_regularizer, bias_regularizer: penalties on ``W`` and the bias.
        **kwargs: ``input_shape`` on a first layer; ``depthwise_constraint`` and
            ``bias_constraint``, projections applied after each optimizer step (see
            mr.constraints); ``activity_regularizer``, a penalty on the outputs (see Layer).

    Example:
        >>> layer = DepthwiseConv2D(3, padding="same", depth_multiplier=2)
        >>> layer(np.ones((2, 8, 8, 3), dtype="float32")).shape
        (2, 8, 8, 6)
        >>> layer.kernel.shape, layer.count_params()           # 3·3·3·2 + 6
        ((3, 3, 3, 2), 60)
    """

    rank = 2

    # BaseDepthwiseConv's arguments, with Keras' 2-D defaults written out
    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate=(1, 1),
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
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, name=name, trainable=trainable,
                         **kwargs)
