"""AugMix: mix an image with several chains of random augmentations of it."""

from __future__ import annotations

import numpy as np

from minired.layers.preprocessing import image_transform
from minired.layers.preprocessing.auto_contrast import AutoContrast
from minired.layers.preprocessing.equalization import Equalization
from minired.layers.preprocessing.random_brightness import RandomBrightness
from minired.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from minired.layers.preprocessing.random_contrast import RandomContrast
from minired.layers.preprocessing.random_image_layer import RandomImageLayer, parse_factor
from minired.layers.preprocessing.random_posterization import RandomPosterization
from minired.layers.preprocessing.random_rotation import RandomRotation
from minired.layers.preprocessing.random_sharpness import RandomSharpness
from minired.layers.preprocessing.random_shear import RandomShear, shear_transforms
from minired.layers.preprocessing.random_translation import RandomTranslation
from minired.layers.preprocessing.solarization import Solarization
from minired.layers.preprocessing.transformation_layer import TransformationLayer
from minired.random.distributions import beta, gamma

#: Keras' ``AUGMENT_LAYERS`` (``all_ops=False``) and ``AUGMENT_LAYERS_ALL``, in its order.
AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation",
                  "random_posterization", "solarization", "auto_contrast", "equalization")
AUGMENT_LAYERS_ALL = AUGMENT_LAYERS + ("random_brightness", "random_color_degeneration",
                                       "random_contrast", "random_sharpness")


def _apply_step(layer, images: np.ndarray, transformation) -> tuple[np.ndarray, object]:
    """One chain step for a given transformation: ``(outputs, state)`` of the operation."""
    if isinstance(layer, TransformationLayer):
        return layer._apply(images, transformation)
    if isinstance(layer, RandomShear):
        transforms = shear_transforms(np.asarray(transformation["shear_factor"],
                                                 dtype=images.dtype))
        sampling = image_transform.sampling_plan(transforms, images.shape[1:3],
                                                 layer.interpolation, layer.fill_mode,
                                                 images.dtype)
        return image_transform.resample(images, sampling, layer.fill_value), sampling
    raise ValueError(f"AugMix: minired's {type(layer).__name__} has no two-step form (Keras' "
                     "transformation dict); call the layer to draw its parameters instead.")


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"AugMix: `{name}` must be a non-negative integer, got {value!r}.")
    return int(value)


class AugMix(RandomImageLayer):
    """AugMix (Hendrycks et al., 2020) while training; the identity at inference.

    Per call, for the whole batch: chain weights ``w ~ Dirichlet(α, …, α)`` (``num_chains``
    Gamma draws divided by their sum), a mixing weight ``m ~ Beta(α, α)``, and
    ``num_chains`` chains of ``chain_depth`` steps, each step one of the operations or
    nothing, picked uniformly; each operation draws its own random parameters. With
    ``c_i(x)`` the i-th chain applied to the images::

        z = m·x + (1 - m)·Σ_i w_i·c_i(x)
        a = clip(z, lo, hi)

    The operations are layers built with ``factor = (lower, upper)`` (Keras' list and
    arguments): RandomShear(factor, factor), RandomTranslation(factor, factor),
    RandomRotation(factor), RandomPosterization(max(1, int(8·upper))),
    Solarization(factor, factor), AutoContrast, Equalization, and with ``all_ops`` also
    RandomBrightness, RandomColorDegeneration, RandomContrast, RandomSharpness.

    Backward, with ``g = δa·1[lo ≤ z ≤ hi]`` and ``c_iᵀ`` the chain's backward passes in
    reverse order (δx = 0 through RandomPosterization, as TensorFlow)::

        δx = m·g + (1 - m)·Σ_i w_i·c_iᵀ(g)

    Keras picks the operations with Python's ``random`` module (not seeded by the layer's
    ``seed``); minired draws them from the layer's generator, so a seeded layer repeats.

    Args:
        value_range: ``(lo, hi)`` (default ``(0, 255)``).
        num_chains: the number of chains mixed (default 3).
        chain_depth: the number of steps of each chain (default 3).
        factor: the operations' strength: a number ``f`` in [0, 1] means ``(0, f)``, a pair
            is sorted (default 0.3).
        alpha: the Dirichlet and Beta parameter (default 1.0).
        all_ops: also use the four colour operations (default True).
        interpolation: of the geometric operations, ``"bilinear"`` (default) or
            ``"nearest"``.
        seed: seed of the layer's :class:`~minired.random.SeedGenerator` (and of its
            operations').
        data_format: ``"channels_last"`` (or None).
        name: layer name.

    Example:
        >>> layer = AugMix(seed=0)
        >>> x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
        >>> layer(x, training=True).shape
        (2, 8, 8, 3)
        >>> sorted(layer.transformation)
        ['chain_mixing_weights', 'chain_transforms', 'weight_sample']
    """

    def __init__(self, value_range=(0, 255), num_chains: int = 3, chain_depth: int = 3,
                 factor=0.3, alpha: float = 1.0, all_ops: bool = True,
                 interpolation: str = "bilinear", seed: int | None = None, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        if not isinstance(value_range, tuple | list) or len(value_range) != 2:
            raise ValueError(f"AugMix: `value_range` must be a pair (min, max), got "
                             f"{value_range!r}.")
        self.value_range = value_range
        self.num_chains = _count(num_chains, "num_chains")
        self.chain_depth = _count(chain_depth, "chain_depth")
        self.factor = parse_factor(factor, (0, 1), "AugMix")
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
            raise ValueError(f"AugMix: `alpha` must be a positive number, got {alpha!r}.")
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        f = self.factor
        common = {"seed": seed, "data_format": data_format}
        self.random_shear = RandomShear(x_factor=f, y_factor=f, interpolation=interpolation,
                                        **common)
        self.random_translation = RandomTranslation(height_factor=f, width_factor=f,
                                                    interpolation=interpolation, **common)
        self.random_rotation = RandomRotation(factor=f, interpolation=interpolation, **common)
        self.solarization = Solarization(addition_factor=f, threshold_factor=f,
                                         value_range=value_range, **common)
        self.random_posterization = RandomPosterization(
            factor=max(1, int(8 * f[1])), value_range=value_range, **common)
        self.auto_contrast = AutoContrast(value_range=value_range, data_format=data_format)
        self.equalization = Equalization(value_range=value_range, data_format=data_format)
        self.augment_layers = AUGMENT_LAYERS_ALL if all_ops else AUGMENT_LAYERS
        if all_ops:
            self.random_brightness = RandomBrightness(factor=f, value_range=value_range,
                                                      **common)
            self.random_color_degeneration = RandomColorDegeneration(
                factor=f, value_range=value_range, **common)
            self.random_contrast = RandomContrast(factor=f, value_range=value_range, **common)
            self.random_sharpness = RandomSharpness(factor=f, value_range=value_range,
                                                    **common)
        for name_ in self.augment_layers:             # one stream of draws
            getattr(self, name_).generator = self.generator

    transformation: dict | None = None
    """The draws of the last training call: Keras' keys ``chain_mixing_weights``,
    ``weight_sample`` and ``chain_transforms`` (lists of ``{"layer_name",
    "transformation"}``; ``transformation`` is None for the operations without Keras' two
    steps in minired: RandomTranslation, RandomRotation, RandomBrightness, RandomContrast)."""

    def _mixing_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(w, m)``: Dirichlet chain weights (Gamma draws over their sum) and a Beta draw."""
        dtype = self._float_dtype()
        g = gamma((self.num_chains,), self.alpha, dtype=dtype, seed=self.generator)
        weights = g / np.sum(g, axis=-1, keepdims=True)
        return weights, beta((), self.alpha, self.alpha, dtype=dtype, seed=self.generator)

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, tuple]:
        weights, m = self._mixing_weights()
        choices = len(self.augment_layers) + 1            # the last choice: no operation
        picks = np.floor(self._uniform((self.num_chains, self.chain_depth), 0.0, 1.0)
                         .astype(np.float64) * choices).astype(int)
        mixed = np.zeros_like(images)
        chain_states, chain_transforms = [], []
        for i in range(self.num_chains):
            chain, states, steps = images, [], []
            for k in picks[i]:
                if k == len(self.augment_layers):
                    continue
                layer = getattr(self, self.augment_layers[k])
                chain, state = layer._augment(chain)           # the operation's own draws
                states.append((layer, state))
                steps.append({"layer_name": self.augment_layers[k],
                              "transformation": getattr(layer, "transformation", None)})
            mixed = mixed + chain * weights[i]
            chain_states.append(states)
            chain_transforms.append(steps)
        self.transformation = {"chain_mixing_weights": weights, "weight_sample": m,
                               "chain_transforms": chain_transforms}
        outputs, passes = self._mix(images, mixed, m)
        return outputs, (weights, m, chain_states, passes)

    def _apply(self, images: np.ndarray, transformation: dict) -> tuple[np.ndarray, tuple]:
        """``(outputs, state)`` for a given transformation (Keras' keys and format); only
        the operations with Keras' two steps in minired can appear in its chains."""
        dtype = images.dtype
        weights = np.asarray(transformation["chain_mixing_weights"]).astype(dtype)
        m = np.asarray(transformation["weight_sample"]).astype(dtype)
        mixed = np.zeros_like(images)
        chain_states = []
        for i, steps in enumerate(transformation["chain_transforms"]):
            chain, states = images, []
            for step in steps:
                layer = getattr(self, step["layer_name"])
                chain, state = _apply_step(layer, chain, step["transformation"])
                states.append((layer, state))
            mixed = mixed + chain * weights[i]
            chain_states.append(states)
        outputs, passes = self._mix(images, mixed, m)
        return outputs, (weights, m, chain_states, passes)

    def _mix(self, images: np.ndarray, mixed: np.ndarray, m) -> tuple[np.ndarray, np.ndarray]:
        """``clip(m·x + (1 - m)·mixed, lo, hi)`` and where the clip passes the gradient."""
        z = m * images + (1 - m) * mixed
        low, high = self.value_range
        passes = (z >= low) & (z <= high)
        return np.clip(z, low, high).astype(images.dtype, copy=False), passes

    def _augment_backward(self, grad_outputs: np.ndarray, state: tuple) -> np.ndarray:
        weights, m, chain_states, passes = state
        g = grad_outputs * passes
        mixed = np.zeros_like(g)
        for i, states in enumerate(chain_states):
            chain = g
            for layer, layer_state in reversed(states):
                chain = layer._augment_backward(chain, layer_state)
            mixed = mixed + chain * weights[i]
        return m * g + (1 - m) * mixed

    def transform_images(self, images, transformation: dict) -> np.ndarray:
        """Apply ``transformation`` (Keras' keys and format: the dict Keras' AugMix
        ``transform_images`` takes) to a batch or an image, in the layer's dtype."""
        images = np.asarray(images).astype(self._float_dtype(), copy=False)
        self._check_call_shape(images.shape)
        single = images.ndim == 3
        outputs = self._apply(images[None] if single else images, transformation)[0]
        return outputs[0] if single else outputs

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, ``value_range``,
        ``num_chains``, ``chain_depth``, ``factor``, ``alpha``, ``all_ops``,
        ``interpolation``, ``seed``."""
        return {**super().get_config(), "value_range": self.value_range,
                "num_chains": self.num_chains, "chain_depth": self.chain_depth,
                "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation, "seed": self.seed}
