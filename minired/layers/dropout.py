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

    The cache of an active call is ``(m, 1/(1 - rate))``; ``self.mask`` reads ``m`` from it
    (0/1 values in the input dtype, ``None`` after an identity call) so a lesson can look at
    it and a comparison can feed it to Keras.

    Args:
        rate: fraction of units to drop, a float in [0, 1).
        noise_shape: shape of the mask, broadcast over the input (``None`` entries take the
            input's size); e.g. ``(None, 1)`` drops whole samples' features together.
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream
            that :func:`~minired.utils.set_random_seed` resets.
        name: layer name.

    Example:
        >>> layer = Dropout(0.5, seed=0)
        >>> layer(np.ones((1, 4), dtype="float32"), training=False)
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.integer | np.floating):
            raise TypeError(f"Dropout: `rate` must be a float in [0, 1), got {rate!r}.")
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: `rate` must be a float in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.generator = make_generator(seed, stream="dropout")

    def build(self, input_shape: tuple) -> None:
        if self.noise_shape is not None and len(self.noise_shape) != len(input_shape):
            raise ValueError(
                f"Dropout {self.name!r}: `noise_shape` must have the rank of the inputs "
                f"({len(input_shape)}, for inputs {tuple(input_shape)}), got "
                f"{self.noise_shape}. Use None for the axes that keep the input's size, "
                f"e.g. {(None,) * (len(input_shape) - 1) + (1,)}."
            )
        super().build(input_shape)

    def _mask_shape(self, input_shape: tuple) -> tuple:
        if self.noise_shape is None:
            return input_shape
        if len(self.noise_shape) != len(input_shape):
            self.build(input_shape)     # raises the error that explains the ranks
        return tuple(n if n is not None else d
                     for n, d in zip(self.noise_shape, input_shape, strict=True))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if self.passes_logits_through(training):
            self.cache = None                                   # identity: nothing to keep
            return inputs
        u = self.generator.random(self._mask_shape(inputs.shape))
        mask = (u >= self.rate).astype(inputs.dtype)            # m: 1 keeps, 0 drops
        scale = inputs.dtype.type(1 / (1 - self.rate))          # 1/(1-rate), in the input dtype
        self.cache = (mask, scale)
        return inputs * scale * mask

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if self.cache is None:                                  # the call was the identity
            return grad_outputs
        mask, scale = self.cache
        return grad_outputs * scale * mask

    @property
    def mask(self) -> np.ndarray | None:
        """The mask ``m`` of the last call, or None if that call was the identity."""
        return None if self.cache is None else self.cache[0]

    def passes_logits_through(self, training: bool) -> bool:
        """An inactive Dropout (``training=False`` or ``rate=0``) returns its input itself."""
        return not (training and self.rate > 0)

    _keras_build_config = False     # Keras writes no build_config for a Dropout
    _keras_node_kwargs = {"training": False}    # what Keras records for a call

    def get_config(self) -> dict:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": noise_shape}
