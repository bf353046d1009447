"""SpatialDropout2D: drop whole feature maps (channels) while training."""

from __future__ import annotations

import numpy as np

from minired.layers.dropout import Dropout
from minired.layers.pooling.windows import check_rank, standardize_data_format


class SpatialDropout2D(Dropout):
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

    def __init__(self, rate: float, data_format=None, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(rate, seed=seed, name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, "SpatialDropout2D")

    def build(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, 2)
        super().build(input_shape)

    def _check_call_shape(self, input_shape: tuple) -> None:
        check_rank(self, input_shape, 2)

    def _mask_shape(self, input_shape: tuple) -> tuple:
        """One keep decision per sample and channel: ``(N, 1, 1, C)``."""
        return (input_shape[0], 1, 1, input_shape[-1])

    def get_config(self) -> dict:
        """Keras' keys (a SpatialDropout2D writes no ``trainable`` and a plain dtype name)."""
        return {"rate": self.rate, "seed": self.seed, "name": self.name,
                "dtype": str(np.dtype(self._float_dtype())), "data_format": self.data_format}
