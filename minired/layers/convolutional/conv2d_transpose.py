"""Conv2DTranspose: a 2-D transposed convolution (upsampling images), a convolution run
backwards: its forward is Conv2D's input-gradient, its input-gradient a Conv2D."""

from __future__ import annotations

from collections.abc import Callable

from minired.layers.convolutional.base_conv_transpose import BaseConvTranspose


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution: each input pixel stamps a weighted kernel on the output.

    It goes the opposite way of a :class:`~minired.layers.convolutional.Conv2D` with the
    same ``kernel_size``, ``strides``, ``padding`` and ``dilation_rate``: from something of
    the shape of that convolution's output back to something of the shape of its input
    (decoders, GANs' generators, segmentation heads: ``strides=2`` doubles the size).

    **Definition.** For a batch ``x`` of shape ``(N, H, W, C)``, a kernel ``W`` of shape
    ``(kh, kw, F, C)`` (Keras' layout: filters *before* input channels, the last two axes
    swapped against Conv2D's) and a bias of shape ``(F,)``, input pixel ``(i, j)`` adds
    ``x[n, i, j, :] · W[a, b, f, :]`` at output pixel ``(i·s + a·d - p_h, j·s + b·d - p_w)``
    for every kernel tap ``(a, b)``; ``p`` is the padding the convolution going back would
    use (TensorFlow's rule, see :func:`~minired.layers.convolutional.im2col.pad_amounts`;
    0 for ``"valid"``), and outputs falling outside ``(H', W')`` are dropped::

        z[n, i·s + a·d - p_h, j·s + b·d - p_w, f] += Σ_c x[n, i, j, c] · W[a, b, f, c]
        z += bias[f],   out = act(z)                              z, out: (N, H', W', F)

    The output size per axis is Keras' (``e = (k-1)·d + 1`` the kernel's extent, ``o`` the
    ``output_padding``, see :func:`~.base_conv_transpose.output_size`)::

        "valid": H' = (H - 1)·s + max(e, s)      with o: (H - 1)·s + e + o
        "same":  H' = H·s                        with o: (H - 1)·s + e % 2 + o

    **As the backward of a convolution.** Call ``conv`` the Conv2D with kernel ``W``
    (read as ``(kh, kw, F, C)``: ``F`` inputs, ``C`` outputs) from ``(N, H', W', F)`` to
    ``(N, H, W, C)``. This layer's forward is exactly ``conv``'s input-gradient with
    ``δz := x`` (Conv2D's docstring, its last two lines)::

        cols_x = x Wᵀ                    (N·H·W, kh·kw·F): x as rows, W as (kh·kw·F, C)
        z      = col2im(cols_x) + bias   (N, H', W', F): each row's taps added where they land

    (computed one kernel tap at a time, without the whole ``cols_x``:
    :func:`~minired.layers.convolutional.im2col.scatter_patch_products`).

    **Backward**, given ``δout = ∂L/∂out``: the forward is linear in ``x`` (and in ``W``),
    so its input-gradient is ``conv``'s forward, a plain convolution of ``δz``::

        δz     = act'(z) ⊙ δout
        cols   = im2col(δz)              (N·H·W, kh·kw·F): every window of δz as a row
        δx     = cols · W                (N, H, W, C) = conv(δz) without its bias
        ∂L/∂W  = colsᵀ x                 (kh·kw·F, C), reshaped to (kh, kw, F, C)
        ∂L/∂bias = Σ_{n,i,j} δz[n, i, j] (F,)

    As for Dense, ``backward`` *adds* ∂L/∂W and ∂L/∂bias to ``kernel_gradient`` and
    ``bias_gradient``.

    Args:
        filters: number of output channels ``F``.
        kernel_size: ``(kh, kw)``, or one int for both.
        strides: ``(s_h, s_w)`` or one int: the output step between two input pixels.
        padding: ``"valid"`` or ``"same"`` (output ``H·s`` when ``output_padding`` is None).
        output_padding: None, or ``(o_h, o_w)`` or one int, each smaller than its stride:
            the output size as above (for sizes that ``strides`` leaves ambiguous).
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: ``(d_h, d_w)`` or one int (Keras refuses ``strides > 1`` together
            with ``dilation_rate > 1``).
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: ``input_shape`` on a first layer; ``kernel_constraint`` and
            ``bias_constraint``, projections applied after each optimizer step (see
            mr.constraints); ``activity_regularizer``, a penalty on the outputs (see Layer).

    Example:
        >>> layer = Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")
        >>> layer(np.ones((2, 5, 6, 8), dtype="float32")).shape     # twice as large
        (2, 10, 12, 4)
        >>> layer.kernel.shape, layer.count_params()                # 3·3·4·8 + 4
        ((3, 3, 4, 8), 292)
        >>> Conv2DTranspose(4, 3, strides=2).compute_output_shape((None, 5, 6, 8))
        (None, 11, 13, 4)
    """

    rank = 2

    # BaseConvTranspose's arguments, with Keras' 2-D defaults written out
    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        output_padding=None,
        data_format: str | None = None,
        dilation_rate=(1, 1),
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
