"""Dropout: randomly silence units while training (inverted dropout)."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.utils.rng_utils import make_generator


class Dropout(Layer):
    """Set a random fraction ``rate`` of the inputs to 0 during training.

    Forward, when ``training=True`` (inverted dropout, as Keras)::

        m ~ Bernoulli(1 - rate)          keep mask: m = 1[u >= rate], u ~ U[0, 1)
        a = x · 1/(1 - rate) · m         the kept values are scaled up so that E[a] = x

    Backward: ``δx = δa · 1/(1 - rate) · m`` (the same mask and scale).

    With ``training=False`` (``evaluate``, ``predict``, a plain call) the layer is the
    identity: no mask and no scaling, because the scaling already happened in training.

    The mask drawn on the last training call is kept in ``self.mask`` (0/1 values in the
    input dtype) so a lesson can look at it and a comparison can feed it to Keras.

    Args:
        rate: fraction of units to drop, a float in [0, 1).
        noise_shape: shape of the mask, broadcast over the input (``None`` entries take the
            input's size); e.g. ``(None, 1)`` drops whole samples' features together.
        seed: seed of this layer's generator; ``None`` draws one from the global generator.

    Example:
        >>> layer = Dropout(0.5, seed=0)
        >>> layer(np.ones((1, 4), dtype="float32"), training=False)
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None,
                 name: str | None = None) -> None:
        super().__init__(name=name)
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.floating):
            raise TypeError(f"Dropout: `rate` must be a float in [0, 1), got {rate!r}.")
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: `rate` must be a float in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.generator = make_generator(seed)
        self.mask: np.ndarray | None = None

    def _mask_shape(self, input_shape: tuple) -> tuple:
        if self.noise_shape is None:
            return input_shape
        return tuple(n if n is not None else d
                     for n, d in zip(self.noise_shape, input_shape, strict=True))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.training = bool(training) and self.rate > 0
        if not self.training:
            return inputs
        u = self.generator.random(self._mask_shape(inputs.shape))
        self.mask = (u >= self.rate).astype(inputs.dtype)      # m: 1 keeps, 0 drops
        self.scale = inputs.dtype.type(1 / (1 - self.rate))     # 1/(1-rate), in the input dtype
        return inputs * self.scale * self.mask

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if not self.training:
            return grad_outputs
        return grad_outputs * self.scale * self.mask
