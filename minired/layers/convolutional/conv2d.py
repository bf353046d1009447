"""Conv2D: a 2-D convolution (images), computed as one matrix product over the patches."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_conv import BaseConv


class Conv2D(BaseConv):
    """2-D convolution: ``filters`` small kernels slide over the image, each giving a map.

    **Definition.** For a batch ``x`` of shape ``(N, H, W, C)``, a kernel ``W`` of shape
    ``(kh, kw, C, F)`` and a bias of shape ``(F,)``, with strides ``s`` and dilation ``d``
    (one per axis; written once here), output ``(i, j)`` of filter ``f`` is a weighted sum
    of the window whose top-left corner is ``(i·s, j·s)``, tap ``(a, b)`` of the kernel
    reading ``d`` pixels apart::

        z[n, i, j, f] = Σ_{a<kh, b<kw, c<C} x[n, i·s + a·d, j·s + b·d, c] · W[a, b, c, f]
                        + bias[f]
        out = act(z)                                        z, out: (N, H', W', F)

    With ``padding="valid"``, ``x`` is read as it is and ``H' = floor((H - (kh-1)·d - 1)/s) + 1``;
    with ``"same"`` it is first padded with zeros so that ``H' = ceil(H / s)`` (TensorFlow's
    rule, the odd zero after: see :func:`~minired.layers.convolutional.im2col.pad_amounts`).

    **As one matmul (im2col).** Gather every window into a row: the ``(kh, kw, C)`` values
    under output position ``(n, i, j)`` make one row of ``cols``, of shape
    ``(N·H'·W', kh·kw·C)``. The kernel reshaped to ``(kh·kw·C, F)`` is a Dense kernel, and::

        z = cols · W + bias              (N·H'·W', F), reshaped to (N, H', W', F)

    **Backward**, given ``δout = ∂L/∂out`` (as Dense's, on the rows of ``cols``)::

        δz     = act'(z) ⊙ δout
        ∂L/∂W  = colsᵀ δz                (kh·kw·C, F), reshaped to (kh, kw, C, F)
        ∂L/∂bias = Σ_{n,i,j} δz[n, i, j] (F,)
        δcols  = δz Wᵀ                   (N·H'·W', kh·kw·C)
        δx     = col2im(δcols)           (N, H, W, C)

    ``col2im`` adds each window's gradient back where the window read: an input pixel
    under several windows gets the sum (see
    :func:`~minired.layers.convolutional.im2col.scatter_patches`). The layer computes the
    last two lines one kernel offset at a time, without the whole ``δcols``
    (:func:`~minired.layers.convolutional.im2col.scatter_patch_products`). As for Dense,
    ``backward`` *adds* ∂L/∂W and ∂L/∂bias to ``kernel_gradient`` and ``bias_gradient``.

    **Groups.** With ``groups=G`` (``C`` and ``F`` both divisible by ``G``) the channels are
    split into ``G`` groups of ``C/G``, and group ``g`` (channels ``g·C/G … (g+1)·C/G - 1``)
    is convolved with its own ``F/G`` filters (``g·F/G … (g+1)·F/G - 1``): the kernel is
    ``(kh, kw, C/G, F)`` (``G`` times fewer weights) and, with ``cols_g`` the columns of
    ``cols`` that read group ``g`` and ``W_g`` the kernel's filters of group ``g``::

        z_g = cols_g · W_g               (N·H'·W', F/G), z = [z_0 | … | z_{G-1}] + bias
        ∂L/∂W_g = cols_gᵀ δz_g,          δx_g = col2im(δz_g W_gᵀ)   (channels of group g)

    ``groups=C`` gives each channel its own ``F/C`` filters (a depthwise convolution).

    Args:
        filters: number of kernels ``F`` (output channels).
        kernel_size: ``(kh, kw)``, or one int for both.
        strides: ``(s_h, s_w)`` or one int: the step between windows.
        padding: ``"valid"`` (no padding) or ``"same"`` (zeros around, output ``ceil(H/s)``).
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: ``(d_h, d_w)`` or one int: the gap between the kernel's taps
            (Keras refuses ``strides > 1`` together with ``dilation_rate > 1``).
        groups: ``G``, the number of channel groups (see **Groups**; 1: a plain
            convolution); ``filters`` and the input channels must be divisible by it.
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: ``input_shape`` on a first layer; ``kernel_constraint`` and
            ``bias_constraint``, projections applied after each optimizer step (see
            mr.constraints); ``activity_regularizer``, a penalty on the outputs (see Layer).

    Example:
        >>> layer = Conv2D(4, 3, padding="same", activation="relu")
        >>> layer(np.ones((2, 8, 8, 1), dtype="float32")).shape
        (2, 8, 8, 4)
        >>> layer.kernel.shape, layer.count_params()           # 3·3·1·4 + 4
        ((3, 3, 1, 4), 40)
        >>> Conv2D(4, 3, strides=2).compute_output_shape((None, 8, 8, 1))
        (None, 3, 3, 4)
        >>> grouped = Conv2D(4, 3, groups=2)                     # 6 channels: 2 groups of 3
        >>> grouped(np.ones((2, 8, 8, 6), dtype="float32")).shape, grouped.kernel.shape
        ((2, 6, 6, 4), (3, 3, 3, 4))
    """

    rank = 2

    # BaseConv's arguments, with Keras' 2-D defaults written out: strides=(1, 1), ...
    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=(1, 1),
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
