"""GaussianDropout: multiply the inputs by Gaussian noise of mean 1 while training."""

from __future__ import annotations

import math

import numpy as np

from minired.layers.layer import Layer
from minired.layers.regularization.gaussian_noise import check_fraction
from minired.utils.rng_utils import make_generator


class GaussianDropout(Layer):
    """Multiply every value by Gaussian noise of mean 1 while training.

    Forward, when ``training=True``::

        m ~ N(1, rate / (1 - rate)), one draw per value      a = x · m

    Backward: ``δx = δa · m`` (the same ``m``).

    The variance ``rate/(1 - rate)`` is that of inverted dropout's factor ``1/(1-rate)·b``,
    ``b ~ Bernoulli(1 - rate)``: the same mean and variance, without exact zeros. With
    ``training=False`` the layer is the identity. ``self.mask`` shows the last ``m``.

    Args:
        rate: the equivalent drop probability, a float in [0, 1) (Keras accepts 1 and then
            divides by zero at the first training call).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        name: layer name.

    Example:
        >>> layer = GaussianDropout(0.5, seed=0)
        >>> x = np.ones((1, 3), dtype="float32")
        >>> layer(x, training=False)
        array([[1., 1., 1.]], dtype=float32)
        >>> bool(np.all(layer(x, training=True) == layer.mask))
        True
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.rate = check_fraction(rate, "rate", "GaussianDropout")
        if rate == 1:
            raise ValueError("GaussianDropout: `rate` must be below 1 (the noise's variance "
                             "rate/(1 - rate) is infinite at 1). Received: rate=1")
        self.seed = seed
        # Keras makes (and so seeds) a generator only when there is noise to draw.
        self.generator = make_generator(seed, stream="dropout") if rate > 0 else None

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if self.passes_logits_through(training):
            self.cache = None                                  # identity
            return inputs
        stddev = inputs.dtype.type(math.sqrt(self.rate / (1.0 - self.rate)))
        mask = self.generator.standard_normal(inputs.shape, dtype=inputs.dtype)
        mask *= stddev
        mask += inputs.dtype.type(1)                           # m ~ N(1, rate/(1-rate))
        self.cache = mask
        return inputs * mask

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if self.cache is None:
            return grad_outputs
        return grad_outputs * self.cache                       # δx = δa · m

    def passes_logits_through(self, training: bool) -> bool:
        """An inactive call (``training=False`` or ``rate=0``) returns its input itself."""
        return not (training and self.rate > 0)

    @property
    def mask(self) -> np.ndarray | None:
        """The factors ``m`` of the last call, or None if that call was the identity."""
        return self.cache

    _keras_build_config = False     # Keras writes no build_config for a GaussianDropout
    _keras_node_kwargs = {"training": False}    # what Keras records for a call

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
