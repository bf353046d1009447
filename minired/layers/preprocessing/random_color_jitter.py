"""RandomColorJitter: brightness, contrast, saturation and hue changed at random, in turn."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_hue import RandomHue
from minired.layers.preprocessing.random_image_layer import RandomImageLayer
from minired.layers.preprocessing.random_saturation import RandomSaturation


class RandomColorJitter(RandomImageLayer):
    """Change the brightness, the contrast, the saturation and the hue of each image by
    random amounts while training, in that order; the identity at inference.

    Each step whose factor is given is the layer of that name, built with the same
    ``value_range`` and ``seed`` (Keras' ``random_brightness``, ``random_contrast``,
    ``random_saturation``, ``random_hue`` attributes), drawing from this layer's generator::

        a = hue(saturation(contrast(brightness(x))))

    Backward: the steps' backward passes in reverse order. RandomSaturation and RandomHue
    have none in TensorFlow (``HSVToRGB`` registers no gradient), so with either of them
    Keras' layer gives its input no gradient and minired's ``δx`` is 0; with brightness and
    contrast only, ``δx = δ_brightness(δ_contrast(δa))``.

    Args:
        value_range: ``(lo, hi)``, the range of the pixel values (default ``(0, 255)``).
        brightness_factor: RandomBrightness's ``factor`` (None: no brightness step).
        contrast_factor: RandomContrast's ``factor`` (None: no contrast step).
        saturation_factor: RandomSaturation's ``factor`` (None: no saturation step).
        hue_factor: RandomHue's ``factor`` (None: no hue step).
        seed: seed of the layer's :class:`~minired.random.SeedGenerator`.
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> x = np.array([[[[10., 20., 30.]]]], dtype="float32")
        >>> RandomColorJitter(brightness_factor=(0.1, 0.1))(x, training=True)   # + 25.5
        array([[[[35.5, 45.5, 55.5]]]], dtype=float32)
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed: int | None = None,
                 data_format=None, name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self.random_brightness = self.random_contrast = None
        self.random_saturation = self.random_hue = None
        steps = (("random_brightness", RandomBrightness, brightness_factor),
                 ("random_contrast", RandomContrast, contrast_factor),
                 ("random_saturation", RandomSaturation, saturation_factor),
                 ("random_hue", RandomHue, hue_factor))
        for attribute, layer_class, factor in steps:
            if factor is not None:
                step = layer_class(factor=factor, value_range=value_range, seed=seed)
                step.generator = self.generator        # Keras draws from the jitter's seeds
                setattr(self, attribute, step)

    def _steps(self) -> list:
        return [step for step in (self.random_brightness, self.random_contrast,
                                  self.random_saturation, self.random_hue)
                if step is not None]

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, list]:
        states = []
        for step in self._steps():
            images, state = step._augment(images)
            states.append((step, state))
        return images, states

    def _augment_backward(self, grad_outputs: np.ndarray, states: list) -> np.ndarray:
        for step, state in reversed(states):
            grad_outputs = step._augment_backward(grad_outputs, state)
        return grad_outputs

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``value_range``,
        ``brightness_factor``, ``contrast_factor``, ``saturation_factor``, ``hue_factor``,
        ``seed``."""
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor,
                "seed": self.seed}
