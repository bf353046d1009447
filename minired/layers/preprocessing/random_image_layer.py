"""The common part of the random image augmentation layers (RandomFlip, RandomRotation...)."""

from __future__ import annotations

import numpy as np

from minired import keras_numerics
from minired.autodiff import layer_calls
from minired.layers.layer import Layer
from minired.layers.pooling.windows import standardize_data_format
from minired.layers.preprocessing import image_transform
from minired.random.seed_generator import SeedGenerator, make_generator


def parse_factor(factor, bounds: tuple, owner: str, name: str = "factor") -> tuple:
    """Keras' ``_set_factor`` of the image layers: a number ``f`` means ``(max(-|f|, lo),
    |f|)``, a pair ``(a, b)`` means ``sorted((a, b))``; ``bounds = (lo, hi)`` is checked as
    Keras checks it."""
    message = (f"{owner}: the `{name}` argument should be a number (or a list of two "
               f"numbers) in the range [{bounds[0]}, {bounds[1]}]. Received: {name}={factor!r}")
    if isinstance(factor, tuple | list):
        if len(factor) != 2 or not all(_is_number(f) for f in factor):
            raise ValueError(message)
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(message)
        lower, upper = sorted(factor)
        return lower, upper
    if not _is_number(factor):
        raise ValueError(message)
    if factor < bounds[0] or factor > bounds[1]:
        raise ValueError(message)
    factor = abs(factor)
    return max(-factor, bounds[0]), factor


def parse_height_width_factor(factor, name: str, owner: str, low_open: bool) -> tuple:
    """Keras' ``_set_factor`` of RandomZoom and RandomTranslation: each number in
    ``[-1, 1]`` (``(-1, 1]`` when ``low_open``, a zoom by 0 being impossible); a number ``f``
    means ``(-|f|, |f|)``, a pair is sorted."""
    interval = "(-1.0, 1.0]" if low_open else "[-1.0, 1.0]"
    message = (f"{owner}: the `{name}` argument should be a number (or a list of two "
               f"numbers) in the range {interval}. Received: {name}={factor!r}")

    def check(number) -> None:
        if not _is_number(number) or number > 1.0 or number < -1.0 or (low_open
                                                                       and number == -1.0):
            raise ValueError(message)

    if isinstance(factor, tuple | list):
        if len(factor) != 2:
            raise ValueError(message)
        check(factor[0])
        check(factor[1])
        lower, upper = sorted(factor)
        return lower, upper
    check(factor)
    return -abs(factor), abs(factor)


def check_choice(value, choices: tuple, name: str, owner: str) -> None:
    if value not in choices:
        raise ValueError(f"{owner}: unknown `{name}` {value!r}; expected one of {choices}.")


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool)


class RandomImageLayer(Layer):
    """A layer that changes each image of a batch at random while training (Keras'
    ``BaseImagePreprocessingLayer``); a subclass writes ``_augment`` and ``_augment_backward``
    for a batch ``(N, H, W, C)``.

    - ``training=False`` (``predict``, ``evaluate``): the identity (integers become floats).
    - ``training=True`` (``fit``): new random parameters per image at each call, drawn from
      the layer's :class:`~minired.random.SeedGenerator` (``seed`` as Keras').
    - A plain call ``layer(x)``, outside any model, augments, as in Keras (whose ``call``
      has ``training=True`` as its default).

    Inputs are a batch ``(N, H, W, C)`` or one image ``(H, W, C)``; ``data_format`` is
    ``"channels_last"``. Keras' bounding boxes, labels and segmentation masks (a dict input)
    are not built: a dict input is refused, and ``bounding_box_format`` must be None.
    """

    def __init__(self, seed: int | None = None, data_format=None, name: str | None = None,
                 **kwargs) -> None:
        bounding_box_format = kwargs.pop("bounding_box_format", None)
        if bounding_box_format is not None:
            raise ValueError(f"{type(self).__name__}: bounding boxes are not implemented in "
                             "minired; `bounding_box_format` must be None, got "
                             f"{bounding_box_format!r}.")
        super().__init__(name=name, **kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.seed = seed
        self.generator = SeedGenerator(seed)

    def __call__(self, inputs, *args, training: bool | None = None, **kwargs):
        if isinstance(inputs, dict):
            raise TypeError(f"{type(self).__name__}: dict inputs (images with bounding "
                            "boxes, labels or masks) are not implemented in minired; call "
                            "the layer on an array of images.")
        if training is None and not layer_calls._TRAINING:
            training = True              # Keras' `call(self, data, training=True)` default
        return super().__call__(inputs, *args, training=training, **kwargs)

    def build(self, input_shape: tuple) -> None:
        self._check_call_shape(input_shape)
        super().build(input_shape)

    def _check_call_shape(self, input_shape) -> None:
        if len(input_shape) not in (3, 4):
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected images of rank 3 "
                             "(one image, (height, width, channels)) or 4 (a batch, (batch, "
                             f"height, width, channels)), got the shape {tuple(input_shape)}.")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def forward(self, inputs: np.ndarray, training: bool | None = False) -> np.ndarray:
        if training is None:    # a model called directly, model(x): Keras' default, True
            training = True
        x = np.asarray(inputs)
        self._check_call_shape(x.shape)
        x = x.astype(self._float_dtype(), copy=False)
        if not training:
            self.cache = None
            return x
        single = x.ndim == 3
        outputs, state = self._augment(x[None] if single else x)
        self.cache = (single, state)
        return outputs[0] if single else outputs

    def backward(self, grad_outputs: np.ndarray, input_gradient: bool = True):
        """``δx`` (None with ``input_gradient=False``: a model skips it for a layer that
        reads the model's inputs, where no one uses it)."""
        if not input_gradient:
            return None
        if self.cache is None:                                  # the call was the identity
            return grad_outputs
        single, state = self.cache
        grad = self._augment_backward(grad_outputs[None] if single else grad_outputs, state)
        return grad[0] if single else grad

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, object]:
        """``(outputs, state)`` for a batch; ``state`` is what the backward pass needs."""
        raise NotImplementedError

    def _augment_backward(self, grad_outputs: np.ndarray, state) -> np.ndarray:
        raise NotImplementedError

    def _uniform(self, shape: tuple, minval: float, maxval: float) -> np.ndarray:
        """``U[minval, maxval)`` in the layer's dtype, from the next seed of its generator
        (as Keras' ``random.uniform(..., seed=self.generator)``).

        As in Keras (``tf.cast(minval, dtype)``), Python-float bounds go through float32
        (see :func:`minired.keras_numerics.as_keras_constant`): in float64,
        ``RandomBrightness((0.1, 0.1))`` shifts by ``float32(0.1)·255``.
        """
        dtype = self._float_dtype()
        minval = keras_numerics.as_keras_constant(minval, dtype)
        maxval = keras_numerics.as_keras_constant(maxval, dtype)
        u = make_generator(self.generator).random(shape).astype(dtype)
        return u * (maxval - minval) + minval

    _keras_build_config = True      # Keras writes the built input shape of these layers

    def get_config(self) -> dict:
        """Keras' keys: ``name``, ``trainable``, ``dtype``, ``data_format``, then the layer's."""
        return {**super().get_config(), "data_format": self.data_format}


class RandomAffineLayer(RandomImageLayer):
    """A random image layer that moves pixels by an affine transform drawn per image
    (RandomRotation, RandomZoom, RandomTranslation): a subclass writes ``_transforms``, the
    ``(N, 8)`` Keras transforms of a batch; the resampling and its backward pass are
    :mod:`~minired.layers.preprocessing.image_transform`'s.

    Forward ``a = Σ_k w_k·x[q_k] + fill_value·w_out``; backward ``δx[q] = Σ w_k·δa`` over
    the outputs that read ``q`` (the adjoint, for the drawn transform).
    """

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None,
                 name: str | None = None, **kwargs) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        owner = type(self).__name__
        check_choice(fill_mode, image_transform.FILL_MODES, "fill_mode", owner)
        check_choice(interpolation, image_transform.INTERPOLATIONS, "interpolation", owner)
        if not _is_number(fill_value):
            raise TypeError(f"{owner}: `fill_value` must be a number, got {fill_value!r}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _set_height_width_factors(self, height_factor, width_factor,
                                  low_open: bool) -> None:
        """Keep ``height_factor`` and ``width_factor`` as given (for the config) and their
        ranges, ``height_lower/upper`` and ``width_lower/upper``, as
        :func:`parse_height_width_factor` reads them (RandomTranslation and RandomZoom; a
        ``width_factor`` of None, RandomZoom's, has no range)."""
        owner = type(self).__name__
        self.height_factor = height_factor
        self.height_lower, self.height_upper = parse_height_width_factor(
            height_factor, "height_factor", owner, low_open=low_open)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = parse_height_width_factor(
                width_factor, "width_factor", owner, low_open=low_open)

    def _height_width_config(self) -> dict:
        """Keras' config of RandomTranslation and RandomZoom: ``name``, ``trainable``,
        ``dtype``, ``data_format``, ``height_factor``, ``width_factor``, ``fill_mode``,
        ``interpolation``, ``seed``, ``fill_value``."""
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value}

    def _transforms(self, images: np.ndarray) -> np.ndarray:
        """The ``(N, 8)`` transforms ``[a0, a1, a2, b0, b1, b2, 0, 0]`` of a batch."""
        raise NotImplementedError

    def _augment(self, images: np.ndarray) -> tuple[np.ndarray, image_transform.Sampling]:
        transforms = self._transforms(images)
        sampling = image_transform.sampling_plan(transforms, images.shape[1:3],
                                                 self.interpolation, self.fill_mode,
                                                 images.dtype)
        return image_transform.resample(images, sampling, self.fill_value), sampling

    def _augment_backward(self, grad_outputs: np.ndarray,
                          sampling: image_transform.Sampling) -> np.ndarray:
        return image_transform.resample_adjoint(grad_outputs, sampling)

    @property
    def sampling(self) -> image_transform.Sampling | None:
        """The read positions and weights of the last call (None after an identity call)."""
        return None if self.cache is None else self.cache[1]
