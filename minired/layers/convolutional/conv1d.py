"""Conv1D: a 1-D convolution (sequences), computed as one matrix product over the patches."""

from __future__ import annotations

from minired.layers.convolutional.base_conv import BaseConv


class Conv1D(BaseConv):
    """1-D convolution: ``filters`` kernels slide along the steps of a sequence.

    For ``x`` of shape ``(N, L, C)``, a kernel ``W`` of shape ``(k, C, F)`` and a bias of
    shape ``(F,)``::

        z[n, t, f] = Σ_{a<k, c<C} x[n, t·s + a·d, c] · W[a, c, f] + bias[f]   z: (N, L', F)
        out = act(z)

    It is :class:`~minired.layers.convolutional.Conv2D` with one spatial axis: the same
    im2col product ``z = cols · W + b`` with ``cols`` of shape ``(N·L', k·C)``, the same
    backward (``∂L/∂W = colsᵀ δz``, ``δx = col2im(δz Wᵀ)``), the same ``groups`` (kernel
    ``(k, C/G, F)``, ``z_g = cols_g W_g`` per channel group); see Conv2D for the details.

    ``padding="causal"`` (as Keras) puts all ``(k-1)·d`` zeros before the sequence, so
    ``z[:, t]`` depends on ``x[:, :t+1]`` only (for models that must not see the future).

    Args:
        filters: number of kernels ``F`` (output channels).
        kernel_size: ``k`` (an int or a tuple of one int).
        strides: the step ``s`` between windows.
        padding: ``"valid"``, ``"same"`` or ``"causal"``.
        data_format: ``None`` or ``"channels_last"`` (the only layout minired implements).
        dilation_rate: the gap ``d`` between the kernel's taps (not with ``strides > 1``).
        groups: ``G`` channel groups, each with its own ``F/G`` filters (see Conv2D);
            ``filters`` and the input channels must be divisible by it.
        activation: as for :class:`~minired.layers.Dense` (also ``use_bias``,
            ``kernel_initializer``, ``bias_initializer``, ``kernel_regularizer``,
            ``bias_regularizer``, ``name`` and ``trainable``).
        **kwargs: as for Conv2D.

    Example:
        >>> layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
        >>> layer(np.ones((4, 10, 3), dtype="float32")).shape
        (4, 10, 2)
        >>> layer.kernel.shape
        (3, 3, 2)
        >>> Conv1D(6, 3, groups=3)(np.ones((4, 10, 3), dtype="float32")).shape
        (4, 8, 6)
    """

    rank = 1
