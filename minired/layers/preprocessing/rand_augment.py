"""RandAugment: a few augmentations picked at random from a fixed list, applied in turn."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.auto_contrast import AutoContrast
from minired.layers.preprocessing.equalization import Equalization
from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_image_layer import RandomImageLayer, parse_factor
from minired.layers.preprocessing.random_posterization import RandomPosterization
from minired.layers.preprocessing.random_rotation import RandomRotation
from minired.layers.preprocessing.random_sharpness import RandomSharpness
from minired.layers.preprocessing.random_shear import RandomShear
from minired.layers.preprocessing.random_translation import RandomTranslation
from minired.layers.preprocessing.solarization import Solarization

#: Keras' ``RandAugment._AUGMENT_LAYERS``: the attribute of each operation, in its order.
AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
                  "random_color_degeneration", "random_contrast", "random_sharpness",
                  "random_posterization", "solarization", "auto_contrast", "equalization")


class RandAugment(RandomImageLayer):
    """Apply ``num_ops`` operations drawn at random (uniformly, with repetition) from 11
    augmentations while training, the same ones to the whole batch; the identity at
    inference.

    The operations are layers built with ``factor = (lower, upper)`` (Keras' list and
    arguments): RandomShear(x, y = factor), RandomTranslation(factor, factor),
    RandomRotation(factor), RandomBrightness, RandomColorDegeneration, RandomContrast,
    RandomSharpness (all ``factor``), RandomPosterization(max(1, int(8·upper))),
    Solarization(factor, factor), AutoContrast and Equalization; each draws its own random
    parameters, once per call (an operation picked twice applies the same parameters twice,
    as Keras' single transformation per layer)::

        a = op_{k_m}(… op_{k_1}(x)),     k_i ~ U{0, …, 10}

    Backward: the picked operations' backward passes in reverse order (δx = 0 through
    RandomPosterization, and through Equalization but for its unchanged channels, where
    TensorFlow has no gradient).

    Args:
        value_range: ``(lo, hi)`` (default ``(0, 255)``).
        num_ops: the number of operations per call (default 2).
        factor: a number ``f`` in [0, 1] means ``(0, f)``; a pair is sorted (default 0.5).
        interpolation: of the geometric operations, ``"bilinear"`` (default) or
            ``"nearest"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator` (and of its
            operations').
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> layer = RandAugment(num_ops=3, seed=0)
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
        >>> layer(x, training=True).shape, len(layer.last_operations)
        ((2, 8, 8, 3), 3)
    """

    def __init__(self, value_range=(0, 255), num_ops: int = 2, factor=0.5,
                 interpolation: str = "bilinear", seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        if isinstance(num_ops, bool) or not isinstance(num_ops, int | np.integer) or num_ops < 0:
            raise ValueError("RandAugment: `num_ops` must be a non-negative integer, got "
                             f"{num_ops!r}.")
        self.value_range = value_range
        self.num_ops = num_ops
        self.factor = parse_factor(factor, (0, 1), "RandAugment")
        self.interpolation = interpolation
        f = self.factor
        common = {"seed": seed, "data_format": data_format}
        self.random_shear = RandomShear(x_factor=f, y_factor=f, interpolation=interpolation,
                                        **common)
        self.random_translation = RandomTranslation(height_factor=f, width_factor=f,
                                                    interpolation=interpolation, **common)
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, **common)
        self.random_brightness = RandomBrightness(factor=f, value_range=value_range, **common)
        self.random_color_degeneration = RandomColorDegeneration(
            factor=f, value_range=value_range, **common)
        self.random_contrast = RandomContrast(factor=f, value_range=value_range, **common)
        self.random_sharpness = RandomSharpness(factor=f, value_range=value_range, **common)
        self.random_posterization = RandomPosterization(
            factor=max(1, int(8 * f[1])), value_range=value_range, **common)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f,
                                         value_range=value_range, **common)
        self.auto_contrast = AutoContrast(value_range=value_range, data_format=data_format)
        self.equalization = Equalization(value_range=value_range, data_format=data_format)
        for name_ in AUGMENT_LAYERS:                  # one stream of draws, as Keras
            getattr(self, name_).generator = self.generator
        self.last_operations: list[str] | None = None

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, list]:
        picks = np.floor(self._uniform((self.num_ops,), 0.0, 1.0).astype(np.float64)
                         * len(AUGMENT_LAYERS)).astype(int)
        self.last_operations = [AUGMENT_LAYERS[k] for k in picks]
        counters: dict[str, int] = {}
        states = []
        for name in self.last_operations:
            layer = getattr(self, name)
            if name in counters:               # picked again: the same draws again
                resume = int(self.generator.state[1])
                self.generator.state[1] = counters[name]
                images, state = layer._augment(images)
                self.generator.state[1] = resume
            else:
                counters[name] = int(self.generator.state[1])
                images, state = layer._augment(images)
            states.append((layer, state))
        return images, states

    def _augment_backward(self, grad_outputs: np.ndarray, states: list) -> np.ndarray:
        for layer, state in reversed(states):
            grad_outputs = layer._augment_backward(grad_outputs, state)
        return grad_outputs

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``value_range``,
        ``num_ops``, ``factor``, ``interpolation``, ``seed``."""
        return {**super().get_config(), "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor,
                "interpolation": self.interpolation, "seed": self.seed}
