"""AlphaDropout: dropout for SELU networks, keeping the mean and variance of the inputs."""

from __future__ import annotations

import numpy as np

from minired.layers.layer import Layer
from minired.layers.regularization.gaussian_noise import check_fraction
from minired.utils.rng_utils import make_generator

#: SELU's constants (Klambauer et al., 2017): ``selu(x) = λ x`` or ``λ α (eˣ − 1)``.
ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Drop a fraction ``rate`` of the values to SELU's saturation value while training,
    then shift and scale so that inputs of mean 0 and variance 1 keep them.

    Plain dropout sets values to 0, which changes the variance of SELU activations and
    breaks their self-normalization. AlphaDropout sets them to ``α' = −λα ≈ −1.7581``, SELU's
    value at −∞, then applies the affine map that restores mean 0 and variance 1. Forward,
    when ``training=True`` (``p = rate``)::

        k  ~ Bernoulli(1 - p)                k = 1[u >= p], u ~ U[0, 1): 1 keeps, 0 drops
        x' = x k + α' (1 − k)
        A  = ((1 − p)(1 + p α'²))^(−1/2)     B = −A α' p
        a  = A x' + B

    Backward: ``δx = A k δa`` (a dropped value is the constant ``α'``: no gradient).

    With ``training=False`` (or ``rate=0``) the layer is the identity.

    Args:
        rate: the fraction dropped, a float in [0, 1) (Keras accepts 1 and then divides by
            zero at the first training call).
        noise_shape: shape of the keep mask ``k``, broadcast over the inputs (``None``
            entries take the input's size).
        seed: seed of this layer's generator; ``None`` draws one from the dropout stream.
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Example:
        >>> layer = AlphaDropout(0.2, seed=0)
        >>> x = np.zeros((1, 4), dtype="float32")
        >>> layer(x)                                    # inference: the identity
        array([[0., 0., 0., 0.]], dtype=float32)
        >>> np.round(layer(x, training=True), 4)       # kept: A·0 + B; dropped: A α' + B
        array([[ 0.309 ,  0.309 , -1.2362, -1.2362]], dtype=float32)
    """

    _supports_masking_default = True      # passes a mask on, as in Keras
    _keras_build_config = False           # Keras builds it at construction
    _keras_node_kwargs = {"training": False}    # what Keras records for a call

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate = check_fraction(rate, "rate", "AlphaDropout")
        if rate == 1:
            raise ValueError("AlphaDropout: `rate` must be below 1 (the scale "
                             "((1 - rate)(1 + rate α'²))^(-1/2) is infinite at 1). "
                             "Received: rate=1")
        self.noise_shape = None if noise_shape is None else list(noise_shape)
        self.seed = seed
        # Keras makes (and so seeds) a generator only when there is noise to draw.
        self.generator = make_generator(seed, stream="dropout") if rate > 0 else None

    def _mask_shape(self, input_shape: tuple) -> tuple:
        if self.noise_shape is None:
            return tuple(input_shape)
        if len(self.noise_shape) != len(input_shape):
            raise ValueError(f"AlphaDropout {self.name!r}: `noise_shape` must have the rank "
                             f"of the inputs {tuple(input_shape)}, got {self.noise_shape}.")
        return tuple(d if n is None else n
                     for n, d in zip(self.noise_shape, input_shape, strict=True))

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if self.passes_logits_through(training):
            self.cache = None                                  # identity
            return inputs
        dtype = inputs.dtype.type
        p = self.rate
        alpha_p = -ALPHA * SCALE                               # α' = −λα
        u = self.generator.random(self._mask_shape(inputs.shape))
        kept = (u >= p).astype(inputs.dtype)                   # k
        a = ((1 - p) * (1 + p * alpha_p**2)) ** -0.5           # A
        b = -a * alpha_p * p                                   # B
        x = inputs * kept + dtype(alpha_p) * (1 - kept)        # x' = x k + α'(1 − k)
        self.cache = (kept, dtype(a))
        return dtype(a) * x + dtype(b)                         # a = A x' + B

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if self.cache is None:
            return grad_outputs
        kept, a = self.cache
        return grad_outputs * kept * a                         # δx = A k δa

    def passes_logits_through(self, training: bool) -> bool:
        """An inactive call (``training=False`` or ``rate=0``) returns its input itself."""
        return not (training and self.rate > 0)

    @property
    def mask(self) -> np.ndarray | None:
        """The keep mask ``k`` of the last call, or None if that call was the identity."""
        return None if self.cache is None else self.cache[0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        """Keras' AlphaDropout config: rate, seed, noise_shape."""
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}
