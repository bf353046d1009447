"""SeparableConv2D: a depthwise convolution, then a 1×1 convolution that mixes channels."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_separable_conv import BaseSeparableConv


class SeparableConv2D(BaseSeparableConv):
    """2-D separable convolution: each channel filtered on its own (depthwise), then the
    channels mixed by a 1×1 convolution (pointwise). Far fewer weights than a Conv2D of the
    same size (``kh·kw·C·M + C·M·F`` against ``kh·kw·C·F``).

    **Definition.** For ``x`` of shape ``(N, H, W, C)``, a depthwise kernel ``W_d`` of shape
    ``(kh, kw, C, M)`` (``M = depth_multiplier``), a pointwise kernel ``W_p`` of shape
    ``(1, 1, C·M, F)`` and a bias of shape ``(F,)``, with ``xp`` the padded input::

        d[n, i, j, c·M + m] = Σ_{a, b} xp[n, i·s + a·d, j·s + b·d, c] · W_d[a, b, c, m]
        z[n, i, j, f]       = Σ_k d[n, i, j, k] · W_p[0, 0, k, f] + bias[f]
        out = act(z)                                         z, out: (N, H', W', F)

    ``d`` is :class:`~minired.layers.convolutional.DepthwiseConv2D`'s output without bias
    (the strides, padding and dilation act there); ``z`` a Dense layer on its channels,
    one matrix product ``z = d W_p + bias`` over the ``N·H'·W'`` rows.

    **Backward**, given ``δout = ∂L/∂out`` (``d`` kept from the forward pass)::

        δz        = act'(z) ⊙ δout
        ∂L/∂W_p   = dᵀ δz                 (C·M, F), reshaped to (1, 1, C·M, F)
        ∂L/∂bias  = Σ_{n,i,j} δz[n, i, j]
        δd        = δz W_pᵀ               (N, H', W', C·M)

    then DepthwiseConv2D's backward from ``δd``::

        ∂L/∂W_d[a, b, c, m] = Σ_{n,i,j} xp[n, i·s + a·d, j·s + b·d, c] · δd[n, i, j, c·M + m]
        δxp[n, i·s + a·d, j·s + b·d, c] += Σ_m δd[n, i, j, c·M + m] · W_d[a, b, c, m]
        δx        = δxp without its padding

    ``backward`` *adds* the three gradients to ``depthwise_kernel_gradient``,
    ``pointwise_kernel_gradient`` and ``bias_gradient``.

    Args:
        filters: ``F``, the output channels.
        kernel_size: ``(kh, kw)`` of the depthwise kernel, or one int for both.
        strides, padding, data_format, dilation_rate, depth_multiplier: as for
            :class:`~minired.layers.convolutional.DepthwiseConv2D` (``"valid"`` or
            ``"same"``; channels last only).
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``, ``name`` and
            ``trainable``).
        depthwise_initializer, pointwise_initializer: initializers of ``W_d`` and ``W_p``
            (``"glorot_uniform"``); ``bias_initializer``: of the bias (``"zeros"``).
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: penalties on
            ``W_d``, ``W_p`` and the bias.
        **kwargs: ``input_shape`` on a first layer; ``depthwise_constraint``,
            ``pointwise_constraint`` and ``bias_constraint``, projections applied after each
            optimizer step (see mr.constraints); ``activity_regularizer``, a penalty on
            the outputs (see Layer).

    Example:
        >>> layer = SeparableConv2D(8, 3, padding="same", activation="relu")
        >>> layer(np.ones((2, 16, 16, 4), dtype="float32")).shape
        (2, 16, 16, 8)
        >>> [w.shape for w in layer.weights], layer.count_params()   # 36 + 32 + 8
        ([(3, 3, 4, 1), (1, 1, 4, 8), (8,)], 76)
    """

    rank = 2

    # BaseSeparableConv's arguments, with Keras' 2-D defaults written out
    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=(1, 1),
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
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, name=name, trainable=trainable,
                         **kwargs)
