"""EfficientNetV2 B0-B3, S, M and L, as ``keras.applications.efficientnet_v2``.

The idea (Tan & Le, *EfficientNetV2: Smaller Models and Faster Training*, ICML 2021,
https://arxiv.org/abs/2104.00298): EfficientNet's depthwise convolutions are slow to train
in the early, high-resolution stages, so there a **Fused-MBConv** block replaces the 1×1
expansion and the depthwise k×k by one ordinary k×k convolution. The later stages keep the
MBConv block (with its squeeze-and-excitation gate). The S/M/L networks were found by a
search that also weighed training speed; B0-B3 are smaller ones scaled as in EfficientNet.

The two blocks, with ``σ`` the swish activation and ``F = C_in · expand_ratio``::

    MBConv:        h = σ(BN(x ⊛ W_expand))                1×1, C_in → F
                   h = σ(BN(h ⊛ W_dw))                    3×3 depthwise, stride s
                   h = h ⊙ sigmoid(σ(mean_hw(h) W₁ + b₁) W₂ + b₂)     squeeze-and-excitation
                   a = BN(h ⊛ W_project) [+ x]            1×1, F → C_out
    Fused-MBConv:  h = σ(BN(x ⊛ W_expand))                3×3, stride s, C_in → F
                   a = BN(h ⊛ W_project) [+ x]            1×1, F → C_out
                   (expand_ratio 1: one 3×3 convolution and a = σ(BN(x ⊛ W)) [+ x])

The skip ``+ x`` is used when the stride is 1 and ``C_in == C_out``; in training the
branch is dropped per sample (a Dropout with ``noise_shape=(N, 1, 1, 1)``). The backward
pass is each layer's own, combined by the chain rule through the graph.

The preprocessing is inside the model: B0-B3 rescale to [0, 1] and normalize with
ImageNet's mean and variance (constants); S/M/L rescale to [-1, 1]. So the model takes
pixels in [0, 255] and :func:`preprocess_input` does nothing.
"""

from __future__ import annotations

import copy
import inspect
import math

from minired import backend, config, initializers, layers
from minired.applications import imagenet_utils, model_parts
from minired.applications.efficientnet import (
    CLASSES_MESSAGE,
    WEIGHTS_MESSAGE,
    conv_kernel_initializer,
    dense_kernel_initializer,
)
from minired.applications.model_parts import image_input, model_inputs
from minired.models import Functional

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "efficientnet_v2/")

#: md5 hashes of Keras' files ``efficientnetv2-b0.h5`` and ``efficientnetv2-b0_notop.h5``...
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stages(*rows: tuple) -> list[dict]:
    """Stages from rows ``(kernel_size, num_repeat, input_filters, output_filters,
    expand_ratio, se_ratio, strides, conv_type)``; conv_type 1 is Fused-MBConv."""
    keys = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
            "se_ratio", "strides", "conv_type")
    return [dict(zip(keys, row, strict=True)) for row in rows]


_B_STAGES = _stages((3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1),
                    (3, 2, 32, 48, 4, 0, 2, 1), (3, 3, 48, 96, 4, 0.25, 2, 0),
                    (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0))

#: Each network's stages (Table 4 of the paper for S; Keras' ``DEFAULT_BLOCKS_ARGS``).
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages(
        (3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0)),
    "efficientnetv2-m": _stages(
        (3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)),
    "efficientnetv2-l": _stages(
        (3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)),
    "efficientnetv2-b0": _B_STAGES,
    "efficientnetv2-b1": _B_STAGES,
    "efficientnetv2-b2": _B_STAGES,
    "efficientnetv2-b3": _B_STAGES,
}


def round_filters(filters: float, width_coefficient: float, min_depth: int | None,
                  depth_divisor: int) -> int:
    """``filters × width_coefficient`` to the nearest multiple of ``depth_divisor`` (at
    least ``min_depth``)."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth,
                   int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    """``repeats × depth_coefficient``, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def _squeeze_excite(x, filters: int, input_filters: int, se_ratio: float, activation,
                    name: str, bn_axis: int):
    """``x ⊙ sigmoid(σ(mean_hw(x) W₁ + b₁) W₂ + b₂)``: one gate in (0, 1) per channel."""
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
    se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                       kernel_initializer=conv_kernel_initializer(), name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                       kernel_initializer=conv_kernel_initializer(), name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, strides: int, input_filters: int, output_filters: int,
              survival_probability: float, name: str):
    """``x + inputs`` when the shape is kept, the branch dropped per sample in training with
    rate ``survival_probability`` (Keras' name for what is a drop rate)."""
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1),
                               name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(input_filters: int, output_filters: int, expand_ratio: int = 1,  # noqa: N802
                kernel_size: int = 3, strides: int = 1, se_ratio: float = 0.0,
                bn_momentum: float = 0.9, activation="swish",
                survival_probability: float = 0.8, name: str | None = None):
    """The MBConv block (mobile inverted residual bottleneck), Keras' ``MBConvBlock``.

    Returns a function ``apply(inputs)`` that adds the block's layers (named ``name`` +
    ``expand_conv``, ``dwconv2``, ``se_*``, ``project_conv``, ...); the formulas are in the
    module docstring.

    Example:
        >>> x = mr.Input((8, 8, 32))
        >>> MBConvBlock(32, 32, expand_ratio=4, se_ratio=0.25, name="demo_")(x).shape
        (None, 8, 8, 32)
    """
    bn_axis = 3 if config.image_data_format() == "channels_last" else 1
    if name is None:
        name = backend.get_uid("block0")      # Keras' default: a number, "1expand_conv"

    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = layers.Conv2D(filters, kernel_size=1, strides=1,
                              kernel_initializer=conv_kernel_initializer(), padding="same",
                              use_bias=False, name=f"{name}expand_conv")(inputs)
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                          name=f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        else:
            x = inputs
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides,
                                   depthwise_initializer=conv_kernel_initializer(),
                                   padding="same", use_bias=False, name=f"{name}dwconv2")(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name, bn_axis)
        x = layers.Conv2D(output_filters, kernel_size=1, strides=1,
                          kernel_initializer=conv_kernel_initializer(), padding="same",
                          use_bias=False, name=f"{name}project_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                      name=f"{name}project_bn")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def FusedMBConvBlock(input_filters: int, output_filters: int,  # noqa: N802
                     expand_ratio: int = 1, kernel_size: int = 3, strides: int = 1,
                     se_ratio: float = 0.0, bn_momentum: float = 0.9, activation="swish",
                     survival_probability: float = 0.8, name: str | None = None):
    """The Fused-MBConv block: one k×k convolution instead of 1×1 expansion + depthwise.

    Returns a function ``apply(inputs)`` that adds the block's layers; the formulas are in
    the module docstring.

    Example:
        >>> x = mr.Input((8, 8, 24))
        >>> FusedMBConvBlock(24, 48, expand_ratio=4, strides=2, name="demo_")(x).shape
        (None, 4, 4, 48)
    """
    bn_axis = 3 if config.image_data_format() == "channels_last" else 1
    if name is None:
        name = backend.get_uid("block0")      # Keras' default: a number, "1expand_conv"

    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = layers.Conv2D(filters, kernel_size=kernel_size, strides=strides,
                              kernel_initializer=conv_kernel_initializer(), padding="same",
                              use_bias=False, name=f"{name}expand_conv")(inputs)
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                          name=f"{name}expand_bn")(x)
            x = layers.Activation(activation=activation, name=f"{name}expand_activation")(x)
        else:
            x = inputs
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name, bn_axis)
        x = layers.Conv2D(output_filters, kernel_size=1 if expand_ratio != 1 else kernel_size,
                          strides=1 if expand_ratio != 1 else strides,
                          kernel_initializer=conv_kernel_initializer(), padding="same",
                          use_bias=False, name=f"{name}project_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum,
                                      name=f"{name}project_bn")(x)
        if expand_ratio == 1:
            x = layers.Activation(activation=activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)

    return apply


def EfficientNetV2(  # noqa: N802 (Keras' name)
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    dropout_rate: float = 0.2,
    drop_connect_rate: float = 0.2,
    depth_divisor: int = 8,
    min_depth: int = 8,
    bn_momentum: float = 0.9,
    activation="swish",
    blocks_args="default",
    name: str = "efficientnetv2",
    include_top: bool = True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    include_preprocessing: bool = True,
    weights_name: str | None = None,
) -> Functional:
    """Build an EfficientNetV2 from its scaling coefficients (Keras' ``EfficientNetV2``).

    Args:
        width_coefficient, depth_coefficient: the factors on the filters and the repeats.
        default_size: the input side the pretrained weights were trained at.
        dropout_rate: the dropout rate before the classifier.
        drop_connect_rate: the largest per-sample drop rate of a block's residual branch
            (block ``b`` of ``B``: ``drop_connect_rate · b / B``).
        depth_divisor, min_depth: filters are rounded to a multiple of ``depth_divisor``,
            at least ``min_depth``.
        bn_momentum: the BatchNormalization momentum.
        activation: the blocks' activation (swish).
        blocks_args: the stages, as in :data:`DEFAULT_BLOCKS_ARGS`; ``"default"`` takes the
            variant's (Keras looks them up by ``name``; minired by ``weights_name``, so a
            model of your own name builds too).
        name, include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, include_preprocessing: as for :func:`EfficientNetV2B0`.
        weights_name: the key of :data:`WEIGHTS_HASHES` ("b0".."b3", "-s", "-m", "-l").

    Example:
        >>> model = EfficientNetV2(0.25, 0.2, 224, weights=None, input_shape=(32, 32, 3),
        ...                        include_top=False, weights_name="b0")
        >>> model.output.shape
        (None, 1, 1, 320)
    """
    variant = f"efficientnetv2-{(weights_name or '').lstrip('-')}"
    if blocks_args == "default":
        if variant not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(f"EfficientNetV2: no default blocks for weights_name="
                             f"{weights_name!r}; pass `blocks_args` or one of "
                             f"{sorted(WEIGHTS_HASHES)}.")
        blocks_args = DEFAULT_BLOCKS_ARGS[variant]
    model_parts.check_weights(weights, include_top, classes, WEIGHTS_MESSAGE,
                              CLASSES_MESSAGE)
    data_format = config.image_data_format()
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=data_format,
        require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)
    bn_axis = 3 if data_format == "channels_last" else 1

    x = img_input
    if include_preprocessing:
        num_channels = input_shape[bn_axis - 1]
        if variant.split("-")[-1].startswith("b") and num_channels == 3:
            # B0-B3: EfficientNet (V1)'s preprocessing, ImageNet's mean and variance.
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406],
                                     variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def filters_of(filters: int) -> int:
        return round_filters(filters, width_coefficient, min_depth, depth_divisor)

    # Stem: a stride-2 3×3 convolution.
    x = layers.Conv2D(filters_of(blocks_args[0]["input_filters"]), kernel_size=3, strides=2,
                      kernel_initializer=conv_kernel_initializer(), padding="same",
                      use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    # The blocks: block j of stage i is named "block{i+1}{a, b, c...}_".
    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. "
                             f"Received: num_repeat={args['num_repeat']}")
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        repeats = round_repeats(args.pop("num_repeat"), depth_coefficient)
        for j in range(repeats):
            if j > 0:          # only the first block of a stage strides and changes width
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)(x)
            b += 1

    # Top: 1×1 convolution to 1280·width channels, then the classifier or the pooling.
    x = layers.Conv2D(filters_of(1280), kernel_size=1, strides=1,
                      kernel_initializer=conv_kernel_initializer(), padding="same",
                      data_format=data_format, use_bias=False, name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=dense_kernel_initializer(),
                         bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = Functional(model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet":
        suffix, file_hash = ((".h5", WEIGHTS_HASHES[weights_name][0]) if include_top
                             else ("_notop.h5", WEIGHTS_HASHES[weights_name][1]))
        file_name = name + suffix
        model_parts.load_imagenet_or_file(model, weights, file_name,
                                          BASE_WEIGHTS_PATH + file_name, file_hash)
    else:
        model_parts.load_imagenet_or_file(model, weights, None, None, None)
    return model


# -- the seven variants ---------------------------------------------------------------------
#: (width_coefficient, depth_coefficient, default_size) of each variant, by weights_name.
VARIANTS = {
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300),
    "-s": (1.0, 1.0, 384),
    "-m": (1.0, 1.0, 480),
    "-l": (1.0, 1.0, 480),
}

BASE_DOCSTRING = """\
With ``include_preprocessing`` (the default) the model takes pixels in [0, 255] and
{preprocessing} itself, so :func:`preprocess_input` does nothing; without it, the model
expects pixels in [-1, 1]. The forward and backward passes are those of its layers; see the
module docstring for the MBConv and Fused-MBConv blocks' formulas.

Args:
    include_top: whether to end with the classifier (global average pooling, dropout 0.2,
        ``Dense(classes)``).
    weights: ``None`` (random initialization), ``"imagenet"`` (Keras' pretrained file
        ``{file}.h5``, read from Keras' cache ``~/.keras/models``; minired never
        downloads, so a missing file raises ``FileNotFoundError``) or the path of a
        weights file.
    input_tensor: a symbolic tensor (from ``mr.Input``) to use as the model's input.
    input_shape: the shape of one image, ``(H, W, 3)`` with sides of at least 32 (only
        without the top, or with ``weights=None``); ``({size}, {size}, 3)`` by default.
    pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``
        (global pooling to a 2-D output).
    classes: the number of classes of the top (1000 with ImageNet weights).
    classifier_activation: the top's activation (``None`` for logits); only ``None`` or
        ``"softmax"`` with pretrained weights.
    include_preprocessing: whether the model starts with its preprocessing layers.
    name: the model's name.

Returns:
    A functional :class:`~minired.Model`.

Example:
    >>> model = EfficientNetV2B0(weights=None, input_shape=(32, 32, 3), classes=10)
    >>> model.output.shape, model.count_params()
    ((None, 10), 5932122)
"""


def _variant(key: str, include_top, weights, input_tensor, input_shape, pooling, classes,
             classifier_activation, include_preprocessing, name) -> Functional:
    width, depth, size = VARIANTS[key]
    return EfficientNetV2(width_coefficient=width, depth_coefficient=depth, default_size=size,
                          name=name, include_top=include_top, weights=weights,
                          input_tensor=input_tensor, input_shape=input_shape,
                          pooling=pooling, classes=classes,
                          classifier_activation=classifier_activation,
                          include_preprocessing=include_preprocessing, weights_name=key)


def EfficientNetV2B0(include_top: bool = True, weights="imagenet",  # noqa: N802
                     input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b0") -> Functional:
    """Build EfficientNetV2B0: EfficientNetV2 (Tan & Le, ICML 2021) for 224×224 images.
    """
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2B1(include_top: bool = True, weights="imagenet",  # noqa: N802
                     input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b1") -> Functional:
    """Build EfficientNetV2B1: EfficientNetV2 (Tan & Le, ICML 2021) for 240×240 images.
    """
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2B2(include_top: bool = True, weights="imagenet",  # noqa: N802
                     input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b2") -> Functional:
    """Build EfficientNetV2B2: EfficientNetV2 (Tan & Le, ICML 2021) for 260×260 images.
    """
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2B3(include_top: bool = True, weights="imagenet",  # noqa: N802
                     input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b3") -> Functional:
    """Build EfficientNetV2B3: EfficientNetV2 (Tan & Le, ICML 2021) for 300×300 images.
    """
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2S(include_top: bool = True, weights="imagenet",  # noqa: N802
                    input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                    classifier_activation="softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-s") -> Functional:
    """Build EfficientNetV2S: EfficientNetV2 (Tan & Le, ICML 2021) for 384×384 images.
    """
    return _variant("-s", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2M(include_top: bool = True, weights="imagenet",  # noqa: N802
                    input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                    classifier_activation="softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-m") -> Functional:
    """Build EfficientNetV2M: EfficientNetV2 (Tan & Le, ICML 2021) for 480×480 images.
    """
    return _variant("-m", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


def EfficientNetV2L(include_top: bool = True, weights="imagenet",  # noqa: N802
                    input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                    classifier_activation="softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-l") -> Functional:
    """Build EfficientNetV2L: EfficientNetV2 (Tan & Le, ICML 2021) for 480×480 images.
    """
    return _variant("-l", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name)


for _function, _key in ((EfficientNetV2B0, "b0"), (EfficientNetV2B1, "b1"),
                        (EfficientNetV2B2, "b2"), (EfficientNetV2B3, "b3"),
                        (EfficientNetV2S, "-s"), (EfficientNetV2M, "-m"),
                        (EfficientNetV2L, "-l")):
    _function.__doc__ = inspect.cleandoc(_function.__doc__) + "\n\n" + BASE_DOCSTRING.format(
        name=_function.__name__, size=VARIANTS[_key][2],
        file=f"efficientnetv2-{_key.lstrip('-')}",
        preprocessing=("rescales them to [0, 1] and normalizes them with ImageNet's mean and "
                       "variance" if _key.startswith("b") else "rescales them to [-1, 1]"))


#: The model preprocesses its inputs itself: this one returns them unchanged.
preprocess_input = imagenet_utils.preprocess_input_unchanged


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
           "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L", "preprocess_input",
           "decode_predictions"]
