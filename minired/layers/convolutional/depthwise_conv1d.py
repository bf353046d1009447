"""DepthwiseConv1D: a 1-D convolution that filters each channel of a sequence on its own."""

from __future__ import annotations

from minired.layers.convolutional.base_depthwise_conv import BaseDepthwiseConv


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution: each channel gets its own ``depth_multiplier`` kernels.

    For ``x`` of shape ``(N, L, C)``, a kernel ``W`` of shape ``(k, C, M)`` and a bias of
    shape ``(C·M,)``, with ``xp`` the padded input::

        z[n, t, c·M + m] = Σ_{a<k} xp[n, t·s + a·d, c] · W[a, c, m] + bias[c·M + m]
        out = act(z)                                          z: (N, L', C·M)

    It is :class:`~minired.layers.convolutional.DepthwiseConv2D` with one spatial axis, the
    same passes (``∂L/∂W[a, c, m] = Σ_{n,t} xp[n, t·s + a·d, c] δz[n, t, c·M + m]``,
    ``δxp[n, t·s + a·d, c] += Σ_m δz[n, t, c·M + m] W[a, c, m]``); see it for the details.
    ``padding`` is ``"valid"`` or ``"same"`` (Keras has no ``"causal"`` here).

    Args:
        kernel_size: as for DepthwiseConv2D, and so are ``strides``, ``padding``,
            ``depth_multiplier``, ``data_format``, ``dilation_rate``, ``activation``,
            ``use_bias``, the initializers, the regularizers and ``**kwargs``, with one int
            (or a tuple of one) per spatial argument.

    Example:
        >>> layer = DepthwiseConv1D(3, depth_multiplier=2)
        >>> layer(np.ones((4, 10, 3), dtype="float32")).shape
        (4, 8, 6)
        >>> layer.kernel.shape
        (3, 3, 2)
    """

    rank = 1
