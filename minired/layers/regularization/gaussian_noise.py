"""GaussianNoise: add zero-mean Gaussian noise to the inputs while training."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.utils.rng_utils import make_generator


def check_fraction(value, name: str, owner: str) -> float:
    """``value`` as a float in ``[0, 1]`` (Keras' check of ``stddev`` and ``rate``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{owner}: `{name}` must be a float between 0 and 1, got {value!r} of "
                        f"type {type(value).__name__}.")
    if not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float "
                         f"value between 0 and 1. Received: {name}={value}")
    return value


class GaussianNoise(Layer):
    """Add Gaussian noise of standard deviation ``σ`` (``stddev``) while training.

    Forward, when ``training=True``::

        ε ~ N(0, σ²), one draw per value      a = x + ε

    Backward: ``δx = δa`` (the noise is added: it does not depend on ``x``).

    With ``training=False`` (``evaluate``, ``predict``, a plain call) the layer is the
    identity. The noise comes from the layer's own generator, seeded by ``seed`` or, for
    ``seed=None``, from the dropout stream that :func:`~minired.utils.set_random_seed`
    resets; ``self.noise`` shows the last ``ε`` (None after an identity call).

    Args:
        stddev: ``σ``, a float in [0, 1].
        seed: seed of this layer's generator.
        name: layer name.

    Example:
        >>> layer = GaussianNoise(0.1, seed=0)
        >>> x = np.zeros((1, 3), dtype="float32")
        >>> layer(x, training=False)
        array([[0., 0., 0.]], dtype=float32)
        >>> bool(np.all(layer(x, training=True) == layer.noise))
        True
    """

    _supports_masking_default = True      # passes a mask on, as in Keras

    def __init__(self, stddev: float, seed: int | None = None, name: str | None = None,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.stddev = check_fraction(stddev, "stddev", "GaussianNoise")
        self.seed = seed
        # Keras makes (and so seeds) a generator only when there is noise to draw.
        self.generator = make_generator(seed, stream="dropout") if stddev > 0 else None

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if self.passes_logits_through(training):
            self.cache = None                                  # identity
            return inputs
        noise = self.generator.standard_normal(inputs.shape, dtype=inputs.dtype)
        noise *= inputs.dtype.type(self.stddev)                # ε ~ N(0, σ²)
        self.cache = noise
        return inputs + noise

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        return grad_outputs                                    # δx = δa

    def passes_logits_through(self, training: bool) -> bool:
        """An inactive call (``training=False`` or ``stddev=0``) returns its input itself."""
        return not (training and self.stddev > 0)

    @property
    def noise(self) -> np.ndarray | None:
        """The noise ``ε`` of the last call, or None if that call was the identity."""
        return self.cache

    _keras_build_config = False     # Keras writes no build_config for a GaussianNoise
    _keras_node_kwargs = {"training": False}    # what Keras records for a call

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}
