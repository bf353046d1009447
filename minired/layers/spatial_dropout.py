"""SpatialDropout1D, 2D and 3D: drop whole feature maps (channels) while training."""

from __future__ import annotations

import numpy as np

from minired.layers.dropout import Dropout
from minired.layers.pooling.windows import standardize_data_format

_SHAPES = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)",
           3: "(batch, dim1, dim2, dim3, channels)"}


class SpatialDropout(Dropout):
    """The shared code of :class:`SpatialDropout1D`, :class:`SpatialDropout2D` and
    :class:`SpatialDropout3D` (Keras' ``BaseSpatialDropout``): inverted dropout whose mask
    has one value per sample and channel, broadcast over the ``spatial`` axes.

    Forward, when ``training=True``, for inputs ``(N, *spatial axes, C)``::

        m ~ Bernoulli(1 - rate), of shape (N, 1, ..., 1, C)    m = 1[u >= rate]
        a = x · 1/(1 - rate) · m                               m broadcast over the axes

    Backward: ``δx = δa · 1/(1 - rate) · m``. With ``training=False``: the identity.

    Args:
        rate: fraction of channels to drop, a float in [0, 1).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        name: layer name.

    Example:
        >>> class SpatialDropout4D(SpatialDropout):
        ...     spatial = 4
        >>> SpatialDropout4D(0.5)._mask_shape((3, 5, 5, 5, 5, 2))
        (3, 1, 1, 1, 1, 2)
    """

    #: The number of spatial axes between the batch and the channels.
    spatial = 0

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(rate, seed=seed, name=name, **kwargs)

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        """Keras' InputSpec: inputs of rank ``spatial + 2`` only."""
        if len(input_shape) != self.spatial + 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={self.spatial + 2}, found ndim={len(input_shape)}. Full shape "
                f"received: {tuple(input_shape)}. {type(self).__name__} takes inputs of "
                f"shape {_SHAPES.get(self.spatial, '(batch, ..., channels)')}.")

    def _mask_shape(self, input_shape: tuple) -> tuple:
        """One keep decision per sample and channel: ``(N, 1, ..., 1, C)``."""
        return (input_shape[0], *(1,) * self.spatial, input_shape[-1])

    def get_config(self) -> dict:
        """Keras' keys (a spatial dropout writes no ``trainable`` and a plain dtype name)."""
        return {"rate": self.rate, "seed": self.seed, "name": self.name,
                "dtype": str(np.dtype(self._float_dtype()))}


class SpatialDropout1D(SpatialDropout):
    """Dropout that silences whole channels of ``(N, T, C)`` sequences during training.

    One keep decision per sample and channel, applied to all ``T`` steps: the mask has
    shape ``(N, 1, C)`` (see :class:`SpatialDropout` for the formulas). Keras'
    SpatialDropout1D takes no ``data_format``.

    Args:
        rate: fraction of channels to drop, a float in [0, 1).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        name: layer name.

    Example:
        >>> layer = SpatialDropout1D(0.5, seed=1)
        >>> out = layer(np.ones((2, 3, 4), dtype="float32"), training=True)
        >>> layer.mask.shape
        (2, 1, 4)
        >>> bool(np.all(out == out[:, :1]))          # the same for every time step
        True
    """

    spatial = 1


class SpatialDropout2D(SpatialDropout):
    """Dropout that silences whole channels of ``(N, H, W, C)`` inputs during training.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single
    pixels (plain :class:`~minired.layers.Dropout`) hardly regularizes a convolutional
    network: the neighbours carry the same information. SpatialDropout2D draws one keep
    decision per sample and channel and applies it to the whole ``H × W`` map.

    Forward, when ``training=True`` (inverted dropout, as Keras)::

        m ~ Bernoulli(1 - rate), of shape (N, 1, 1, C)    m = 1[u >= rate], u ~ U[0, 1)
        a = x · 1/(1 - rate) · m                          m broadcast over H and W

    Backward: ``δx = δa · 1/(1 - rate) · m`` (the same mask and scale).

    With ``training=False`` the layer is the identity. The mask ``(N, 1, 1, C)`` is
    Keras' ``noise_shape``; ``self.mask`` shows the last one (see :class:`Dropout`).

    Args:
        rate: fraction of channels to drop, a float in [0, 1).
        data_format: ``"channels_last"`` (or None).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        name: layer name.

    Example:
        >>> layer = SpatialDropout2D(0.5, seed=1)
        >>> out = layer(np.ones((1, 2, 2, 4), dtype="float32"), training=True)
        >>> layer.mask.shape
        (1, 1, 1, 4)
        >>> bool(np.all((out == 0) | (out == 2)))      # whole channels are 0 or 1/(1-rate)
        True
    """

    spatial = 2

    def __init__(self, rate: float, data_format=None, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(rate, seed=seed, name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Dropout that silences whole channels of ``(N, D1, D2, D3, C)`` volumes (videos,
    3-D scans) during training: the mask has shape ``(N, 1, 1, 1, C)`` (see
    :class:`SpatialDropout` for the formulas).

    Args:
        rate: fraction of channels to drop, a float in [0, 1).
        data_format: ``"channels_last"`` (or None).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        name: layer name.

    Example:
        >>> layer = SpatialDropout3D(0.5, seed=1)
        >>> _ = layer(np.ones((2, 2, 2, 2, 3), dtype="float32"), training=True)
        >>> layer.mask.shape
        (2, 1, 1, 1, 3)
    """

    spatial = 3
