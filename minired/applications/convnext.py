"""ConvNeXt Tiny, Small, Base, Large and XLarge, as ``keras.applications.convnext``.

The idea (Liu et al., *A ConvNet for the 2020s*, CVPR 2022, https://arxiv.org/abs/2201.03545):
modernize a ResNet step by step with the design choices of vision transformers, and a plain
convolutional network matches them. The network is a 4×4 stride-4 "patchify" stem, then four
stages of ConvNeXt blocks at 1/4, 1/8, 1/16 and 1/32 of the input's size, separated by a
LayerNormalization and a 2×2 stride-2 convolution. One block, on ``x`` of ``C`` channels::

    h = x ⊛ W_dw                      7×7 depthwise convolution (a Conv2D with groups=C)
    h = LayerNorm(h)                  over the channels of each pixel (ε = 1e-6)
    h = gelu(h W₁ + b₁)               C → 4C, a Dense on each pixel (a 1×1 convolution)
    h = h W₂ + b₂                     4C → C
    h = γ ⊙ h                         LayerScale: one learned factor per channel (1e-6 at first)
    a = x + StochasticDepth(h)        the residual; the branch is dropped per sample in
                                      training (with probability drop_path_rate)

The backward pass is each layer's own (LayerScale's and StochasticDepth's are below),
combined by the chain rule through the graph; at the residual ``δx = δa + δ(branch input)``.

The preprocessing is inside the model: a ``Normalization`` with ImageNet's mean and
variance of pixels in [0, 255], so :func:`preprocess_input` does nothing.

Keras writes the residual sum ``inputs + branch`` as an operation (``keras.ops.add``), not
a layer: it has a node in the graph and in a ``.keras`` file, but it is not in
``model.layers``. minired keeps it the same way (:class:`Add` below), so the two libraries
list the same layers and read each other's files.
"""

from __future__ import annotations

import inspect

import numpy as np

from minired import backend, config, initializers, layers
from minired.applications import imagenet_utils, model_parts
from minired.applications.efficientnet import WEIGHTS_MESSAGE
from minired.applications.keras_ops import Add  # Keras' `inputs + x` node in the graph
from minired.applications.model_parts import image_input
from minired.layers.layer import Layer
from minired.models import Functional, Sequential
from minired.saving import serialization_lib
from minired.utils.data_packing import get_source_inputs
from minired.utils.rng_utils import make_generator

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"

#: sha256 hashes of Keras' files ``convnext_tiny.h5`` and ``convnext_tiny_notop.h5``, ...
WEIGHTS_HASHES = {
    "convnext_tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}

#: Each variant's blocks per stage and channels per stage.
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768],
             "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768],
              "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024],
             "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536],
              "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048],
               "default_size": 224},
}

KERAS_MODULE = "keras.src.applications.convnext"      # where Keras defines the two layers


class StochasticDepth(Layer):
    """Drop a residual branch for whole samples in training (Huang et al., 2016, "deep
    networks with stochastic depth"; timm's ``DropPath``).

    Forward, in training, with ``p = drop_path_rate``, ``q = 1 − p`` and one ``u ~ U[0, 1)``
    per sample (the same for all its values)::

        m = floor(q + u)            1 with probability q (keep), else 0 (drop)
        a = x / q · m               the expected value of a is x

    and ``a = x`` in inference. Backward: ``δx = δa / q · m`` (the same mask).

    Args:
        drop_path_rate: ``p``, the probability of dropping a sample's branch, in [0, 1].
        name: layer name.

    Example:
        >>> layer = StochasticDepth(0.5)
        >>> x = np.ones((4, 2), dtype="float32")
        >>> layer(x).tolist() == x.tolist()                # inference: the identity
        True
        >>> sorted(set(np.asarray(layer(x, training=True)).ravel().tolist())) in (
        ...     [0.0], [2.0], [0.0, 2.0])                   # each row: 0, or x / 0.5
        True
    """

    _keras_module = KERAS_MODULE       # how Keras names it in a file
    _keras_build_config = True         # Keras writes the shape it was built with

    def __init__(self, drop_path_rate: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate
        self.generator = make_generator(None, stream="dropout")

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        if not training:
            self.cache = None
            return inputs
        keep_prob = inputs.dtype.type(1 - self.drop_path_rate)          # q
        shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 1)          # one draw per sample
        mask = np.floor(keep_prob + self.generator.random(shape).astype(inputs.dtype))
        self.cache = (mask, keep_prob)
        return inputs / keep_prob * mask                               # a = x / q · m

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        if self.cache is None:                                         # the identity
            return grad_outputs
        mask, keep_prob = self.cache
        return grad_outputs / keep_prob * mask                         # δx = δa / q · m

    def get_config(self) -> dict:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """Multiply each channel by a learned factor, small at first (Touvron et al., 2021,
    "Going deeper with image transformers", https://arxiv.org/abs/2103.17239).

    Forward and backward, with ``γ`` of shape ``(projection_dim,)`` broadcast over every
    axis but the last::

        a = x ⊙ γ             δx = δa ⊙ γ          ∂L/∂γ = Σ δa ⊙ x   (over all but the last axis)

    Starting at ``γ = init_values`` (1e-6), a residual block first adds almost nothing, so a
    deep network starts close to a shallow one.

    Args:
        init_values: the starting value of every factor.
        projection_dim: the number of channels (the size of ``γ``).
        name: layer name.

    Example:
        >>> layer = LayerScale(0.5, 3)
        >>> layer(np.array([[2.0, 4.0, 6.0]], dtype="float32"))
        array([[1., 2., 3.]], dtype=float32)
    """

    _keras_module = KERAS_MODULE
    _keras_build_config = True

    def __init__(self, init_values: float, projection_dim: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: tuple) -> None:
        self.gamma = np.asarray(initializers.Constant(self.init_values)(
            (self.projection_dim,), dtype=self._float_dtype()))
        self.gamma_gradient = np.zeros_like(self.gamma)
        super().build(input_shape)

    def forward(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        self.cache = inputs
        return inputs * self.gamma                                     # a = x ⊙ γ

    def backward(self, grad_outputs: np.ndarray) -> np.ndarray:
        x = self.cache
        summed = tuple(range(x.ndim - 1))
        self.gamma_gradient += np.sum(grad_outputs * x, axis=summed)  # ∂L/∂γ += Σ δa ⊙ x
        return grad_outputs * self.gamma                               # δx = δa ⊙ γ

    def _weight_triples(self) -> list:
        if not self.built:
            return []
        return [(self.gamma, self.gamma_gradient, None)]

    def get_config(self) -> dict:
        return {**super().get_config(), "init_values": self.init_values,
                "projection_dim": self.projection_dim}


# Keras writes these two under its own module names; a file names them so (see
# serialization_lib.KERAS_INTERNAL_CLASSES), and minired reads them back from there.
for _class in (StochasticDepth, LayerScale):
    serialization_lib.KERAS_INTERNAL_CLASSES[(_class._keras_module, _class.__name__)] = _class


def ConvNeXtBlock(projection_dim: int, drop_path_rate: float = 0.0,  # noqa: N802
                  layer_scale_init_value: float | None = 1e-6, name: str | None = None):
    """One ConvNeXt block (formulas in the module docstring), Keras' ``ConvNeXtBlock``.

    Returns a function ``apply(inputs)`` that adds the block's layers, named ``name`` +
    ``_depthwise_conv``, ``_layernorm``, ``_pointwise_conv_1``, ``_gelu``,
    ``_pointwise_conv_2``, ``_layer_scale`` and ``_stochastic_depth`` (``_identity`` when
    ``drop_path_rate`` is 0).

    Example:
        >>> x = mr.Input((8, 8, 16))
        >>> ConvNeXtBlock(16, name="demo")(x).shape
        (None, 8, 8, 16)
    """
    if name is None:
        name = f"prestem{backend.get_uid('prestem')}"

    def apply(inputs):
        x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same",
                          groups=projection_dim, name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            layer = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            layer = layers.Activation("linear", name=f"{name}_identity")
        return Add()(inputs, layer(x))

    return apply


def PreStem(name: str | None = None):  # noqa: N802
    """Normalize pixels in [0, 255] with ImageNet's per-channel mean and variance."""
    if name is None:
        name = f"prestem{backend.get_uid('prestem')}"

    def apply(x):
        return layers.Normalization(
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
            name=f"{name}_prestem_normalization")(x)

    return apply


def Head(num_classes: int = 1000, classifier_activation=None, name: str | None = None):  # noqa: N802
    """The classifier: global average pooling, LayerNormalization, ``Dense(num_classes)``."""
    if name is None:
        name = str(backend.get_uid("head"))

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation,
                            name=f"{name}_head_dense")(x)

    return apply


def ConvNeXt(  # noqa: N802 (Keras' name)
    depths: list[int],
    projection_dims: list[int],
    drop_path_rate: float = 0.0,
    layer_scale_init_value: float | None = 1e-6,
    default_size: int = 224,
    name: str = "convnext",
    include_preprocessing: bool = True,
    include_top: bool = True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    weights_name: str | None = None,
) -> Functional:
    """Build a ConvNeXt from its stages (Keras' ``ConvNeXt``).

    Args:
        depths: the number of blocks of each of the four stages.
        projection_dims: the channels of each stage.
        drop_path_rate: the largest stochastic-depth rate; the blocks' rates grow linearly
            from 0 to it (0 for no StochasticDepth layers).
        layer_scale_init_value: LayerScale's starting value (None for no LayerScale).
        default_size: the input side the pretrained weights were trained at.
        name, include_preprocessing, include_top, weights, input_tensor, input_shape,
        pooling, classes, classifier_activation: as for :func:`ConvNeXtTiny`.
        weights_name: the key of :data:`WEIGHTS_HASHES` (``"convnext_tiny"``...).

    Example:
        >>> model = ConvNeXt([1, 1, 1, 1], [8, 8, 16, 16], weights=None,
        ...                  input_shape=(32, 32, 3), classes=3)
        >>> model.output.shape, model.count_params()
        ((None, 3), 10291)
    """
    if config.image_data_format() == "channels_first":
        raise ValueError("ConvNeXt does not support the `channels_first` image data format. "
                         "Switch to `channels_last` by editing your local config file at "
                         "~/.keras/keras.json")
    model_parts.check_weights(
        weights, include_top, classes, WEIGHTS_MESSAGE,
        classes_message='If using `weights="imagenet"` with `include_top=True`, `classes` '
                        "should be 1000. Received classes={classes}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)
    inputs = img_input if input_tensor is None else get_source_inputs(input_tensor)[0]
    x = img_input

    if include_preprocessing and input_shape[-1] == 3:
        x = PreStem(name=name)(x)

    # The stem and the three downsampling layers, each a small Sequential model.
    stem = Sequential([
        layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
    ], name=f"{name}_stem")
    downsample_layers = [stem]
    for i in range(3):
        downsample_layers.append(Sequential([
            layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
            layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                          name=f"{name}_downsampling_conv_{i}"),
        ], name=f"{name}_downsampling_block_{i}"))

    # Stochastic depth: rates from 0 to drop_path_rate over all the blocks, as the original.
    depth_drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample_layers[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dim=projection_dims[i],
                              drop_path_rate=depth_drop_rates[cur + j],
                              layer_scale_init_value=layer_scale_init_value,
                              name=f"{name}_stage_{i}_block_{j}")(x)
        cur += depths[i]

    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Head(num_classes=classes, classifier_activation=classifier_activation,
                 name=name)(x)
    else:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)

    model = Functional(inputs=inputs, outputs=x, name=name)

    if weights == "imagenet":
        expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
        if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
            raise ValueError(
                f"Architecture configuration does not match {weights_name} variant. When "
                "using pre-trained weights, the model architecture must match the "
                f"pre-trained configuration exactly. Expected depths: {expected['depths']}, "
                f"got: {depths}. Expected projection_dims: {expected['projection_dims']}, "
                f"got: {projection_dims}.")
        if weights_name not in name:
            raise ValueError(
                f'Model name "{name}" does not match weights variant "{weights_name}". When '
                "using imagenet weights, model name must contain the weights variant (e.g., "
                f'"convnext_{weights_name.split("convnext_")[-1]}").')
        suffix, file_hash = ((".h5", WEIGHTS_HASHES[weights_name][0]) if include_top
                             else ("_notop.h5", WEIGHTS_HASHES[weights_name][1]))
        file_name = name + suffix
        model_parts.load_imagenet_or_file(model, weights, file_name,
                                          BASE_WEIGHTS_PATH + file_name, file_hash)
    else:
        model_parts.load_imagenet_or_file(model, weights, None, None, None)
    return model


BASE_DOCSTRING = """\
With ``include_preprocessing`` (the default) the model takes pixels in [0, 255] and
normalizes them itself with ImageNet's mean and variance, so :func:`preprocess_input` does
nothing. The forward and backward passes are those of its layers; see the module docstring
for one block's formulas.

Args:
    include_top: whether to end with the classifier (global average pooling,
        LayerNormalization, ``Dense(classes)``).
    include_preprocessing: whether the model starts with its ``Normalization`` layer.
    weights: ``None`` (random initialization), ``"imagenet"`` (Keras' pretrained file
        ``{file}.h5``, read from Keras' cache ``~/.keras/models``; minired never
        downloads, so a missing file raises ``FileNotFoundError``) or the path of a
        weights file.
    input_tensor: a symbolic tensor (from ``mr.Input``) to use as the model's input.
    input_shape: the shape of one image, ``(H, W, 3)`` with sides of at least 32 (only
        without the top, or with ``weights=None``); ``(224, 224, 3)`` by default.
    pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``
        (global pooling to a 2-D output); a LayerNormalization follows in every case.
    classes: the number of classes of the top (1000 with ImageNet weights).
    classifier_activation: the top's activation (``None`` for logits); only ``None`` or
        ``"softmax"`` with pretrained weights.
    name: the model's name (with ``weights="imagenet"`` it must contain ``"{file}"``).

Returns:
    A functional :class:`~minired.Model`.

Example:
    >>> model = ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10)
    >>> len(model.layers), model.count_params()
    (135, 27827818)
"""


def _variant(size: str, include_top, include_preprocessing, weights, input_tensor,
             input_shape, pooling, classes, classifier_activation, name) -> Functional:
    model_config = MODEL_CONFIGS[size]
    return ConvNeXt(weights_name=f"convnext_{size}", depths=model_config["depths"],
                    projection_dims=model_config["projection_dims"], drop_path_rate=0.0,
                    layer_scale_init_value=1e-6, default_size=model_config["default_size"],
                    name=name, include_top=include_top,
                    include_preprocessing=include_preprocessing, weights=weights,
                    input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                    classes=classes, classifier_activation=classifier_activation)


def ConvNeXtTiny(include_top: bool = True, include_preprocessing: bool = True,  # noqa: N802
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes: int = 1000, classifier_activation="softmax",
                 name: str = "convnext_tiny") -> Functional:
    """Build ConvNeXtTiny: ConvNeXt (Liu et al., CVPR 2022), stages of [3, 3, 9, 3] blocks
    with [96, 192, 384, 768] channels.
    """
    return _variant("tiny", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


def ConvNeXtSmall(include_top: bool = True, include_preprocessing: bool = True,  # noqa: N802
                  weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                  classes: int = 1000, classifier_activation="softmax",
                  name: str = "convnext_small") -> Functional:
    """Build ConvNeXtSmall: ConvNeXt (Liu et al., CVPR 2022), stages of [3, 3, 27, 3] blocks
    with [96, 192, 384, 768] channels.
    """
    return _variant("small", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


def ConvNeXtBase(include_top: bool = True, include_preprocessing: bool = True,  # noqa: N802
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes: int = 1000, classifier_activation="softmax",
                 name: str = "convnext_base") -> Functional:
    """Build ConvNeXtBase: ConvNeXt (Liu et al., CVPR 2022), stages of [3, 3, 27, 3] blocks
    with [128, 256, 512, 1024] channels.
    """
    return _variant("base", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


def ConvNeXtLarge(include_top: bool = True, include_preprocessing: bool = True,  # noqa: N802
                  weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                  classes: int = 1000, classifier_activation="softmax",
                  name: str = "convnext_large") -> Functional:
    """Build ConvNeXtLarge: ConvNeXt (Liu et al., CVPR 2022), stages of [3, 3, 27, 3] blocks
    with [192, 384, 768, 1536] channels.
    """
    return _variant("large", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


def ConvNeXtXLarge(include_top: bool = True, include_preprocessing: bool = True,  # noqa: N802
                   weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                   classes: int = 1000, classifier_activation="softmax",
                   name: str = "convnext_xlarge") -> Functional:
    """Build ConvNeXtXLarge: ConvNeXt (Liu et al., CVPR 2022), stages of [3, 3, 27, 3] blocks
    with [256, 512, 1024, 2048] channels.
    """
    return _variant("xlarge", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


for _function, _size in ((ConvNeXtTiny, "tiny"), (ConvNeXtSmall, "small"),
                         (ConvNeXtBase, "base"), (ConvNeXtLarge, "large"),
                         (ConvNeXtXLarge, "xlarge")):
    _function.__doc__ = inspect.cleandoc(_function.__doc__) + "\n\n" + BASE_DOCSTRING.format(
        name=_function.__name__, depths=MODEL_CONFIGS[_size]["depths"],
        dims=MODEL_CONFIGS[_size]["projection_dims"], file=f"convnext_{_size}")


#: The model preprocesses its inputs itself: this one returns them unchanged.
preprocess_input = imagenet_utils.preprocess_input_unchanged


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge",
           "preprocess_input", "decode_predictions"]
