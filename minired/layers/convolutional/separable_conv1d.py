"""SeparableConv1D: a depthwise 1-D convolution, then a pointwise one that mixes channels."""

from __future__ import annotations

from minired.layers.convolutional.base_separable_conv import BaseSeparableConv


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution: each channel filtered on its own, then mixed (1×1).

    For ``x`` of shape ``(N, L, C)``, a depthwise kernel ``W_d`` ``(k, C, M)``, a pointwise
    kernel ``W_p`` ``(1, C·M, F)`` and a bias ``(F,)``, with ``xp`` the padded input::

        d[n, t, c·M + m] = Σ_{a<k} xp[n, t·s + a·d, c] · W_d[a, c, m]
        z[n, t, f]       = Σ_k d[n, t, k] · W_p[0, k, f] + bias[f]
        out = act(z)                                          z: (N, L', F)

    It is :class:`~minired.layers.convolutional.SeparableConv2D` with one spatial axis, the
    same passes (``∂L/∂W_p = dᵀ δz``, ``δd = δz W_pᵀ``, then the depthwise backward from
    ``δd``); see it for the details. ``padding`` is ``"valid"`` or ``"same"``.

    Args:
        filters: as for SeparableConv2D, and so are ``kernel_size``, ``strides``,
            ``padding``, ``data_format``, ``dilation_rate``, ``depth_multiplier``,
            ``activation``, ``use_bias``, the initializers, the regularizers and
            ``**kwargs``, with one int (or a tuple of one) per spatial argument.

    Example:
        >>> layer = SeparableConv1D(4, 3, padding="same", depth_multiplier=2)
        >>> layer(np.ones((2, 10, 3), dtype="float32")).shape
        (2, 10, 4)
        >>> [w.shape for w in layer.weights]
        [(3, 3, 2), (1, 6, 4), (4,)]
    """

    rank = 1
