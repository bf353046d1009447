"""Conv1DTranspose: a 1-D transposed convolution (upsampling sequences)."""

from __future__ import annotations

from minired.layers.convolutional.base_conv_transpose import BaseConvTranspose


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution: each step stamps a weighted kernel on the output.

    For ``x`` of shape ``(N, L, C)``, a kernel ``W`` of shape ``(k, F, C)`` (Keras' layout,
    the last two axes swapped against Conv1D's) and a bias of shape ``(F,)``, with ``p`` the
    padding of the convolution going back (0 for ``"valid"``)::

        z[n, t·s + a·d - p, f] += Σ_c x[n, t, c] · W[a, f, c]   for every t and tap a < k
        z += bias[f],   out = act(z)                            z, out: (N, L', F)

    It is :class:`~minired.layers.convolutional.Conv2DTranspose` with one spatial axis:
    the forward ``z = col2im(x Wᵀ) + b`` (a Conv1D's input-gradient), the backward
    ``cols = im2col(δz)``, ``δx = cols W`` (a Conv1D of ``δz``), ``∂L/∂W = colsᵀ x``,
    ``∂L/∂b = Σ δz``; and the same output length ``L'`` (see Conv2DTranspose).

    Args:
        filters: number of output channels ``F``.
        kernel_size: ``k`` (an int or a tuple of one int).
        strides: the output step ``s`` between two input steps.
        padding: ``"valid"`` or ``"same"`` (Keras has no ``"causal"`` here either).
        output_padding: None or an int smaller than ``strides``.
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: the gap ``d`` between the kernel's taps (not with ``strides > 1``).
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: as for Conv2DTranspose.

    Example:
        >>> layer = Conv1DTranspose(2, 3, strides=2)
        >>> layer(np.ones((4, 10, 3), dtype="float32")).shape     # (10 - 1)·2 + 3
        (4, 21, 2)
        >>> layer.kernel.shape
        (3, 2, 3)
    """

    rank = 1
