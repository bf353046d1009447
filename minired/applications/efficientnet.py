"""EfficientNet B0 to B7, as ``keras.applications.efficientnet``.

The idea (Tan & Le, *EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks*, ICML 2019, https://arxiv.org/abs/1905.11946): take one small network found by
architecture search (B0) and grow it in width, depth and input resolution **together**,
with one coefficient each. B1..B7 are B0 with ``filters × width_coefficient`` (rounded to a
multiple of 8) and ``repeats × depth_coefficient`` (rounded up) at a larger default size.

B0 is a stem convolution, 16 **MBConv** blocks (the inverted residual of MobileNetV2 with
a squeeze-and-excitation gate) in 7 stages, then a 1×1 convolution to 1280 channels, global
average pooling, dropout and the classifier. One MBConv block, with ``σ`` the swish
activation ``σ(z) = z · sigmoid(z)``::

    h = σ(BN(x ⊛ W_expand))               1×1 convolution: C → e·C channels (e = expand_ratio)
    h = σ(BN(h ⊛ W_depthwise))            k×k depthwise convolution (stride 1 or 2)
    s = sigmoid(W₂ σ(W₁ mean_hw(h) + b₁) + b₂)     squeeze-and-excitation: one gate per channel
    h = h ⊙ s
    a = BN(h ⊛ W_project) [+ x]           1×1 convolution back to C_out; the skip when the
                                          shape is kept (dropped per sample in training)

Every piece is a minired layer, so the backward pass is each layer's (the chain rule through
the graph); the gate's backward is the product rule, ``δh = δ(h⊙s) ⊙ s`` plus the gradient
that reaches ``s`` (``Σ_hw δ(h⊙s) ⊙ h``) sent back through the two 1×1 convolutions.

The preprocessing is inside the model: ``Rescaling(1/255)`` then a ``Normalization`` whose
mean and variance are weights (loaded with ``weights="imagenet"``), so the model takes
pixels in [0, 255] and :func:`preprocess_input` does nothing.
"""

from __future__ import annotations

import copy
import inspect
import math

from minired import config, initializers, layers
from minired.applications import imagenet_utils, model_parts
from minired.applications.model_parts import image_input, model_inputs
from minired.models import Functional

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"

#: md5 hashes of Keras' files ``efficientnetb0.h5`` and ``efficientnetb0_notop.h5``, ...
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) -> dict:
    return {"kernel_size": kernel_size, "repeats": repeats, "filters_in": filters_in,
            "filters_out": filters_out, "expand_ratio": expand_ratio, "id_skip": True,
            "strides": strides, "se_ratio": 0.25}


#: B0's seven stages (Table 1 of the paper), Keras' ``DEFAULT_BLOCKS_ARGS``.
DEFAULT_BLOCKS_ARGS = [
    _stage(3, 1, 32, 16, 1, 1),
    _stage(3, 2, 16, 24, 6, 2),
    _stage(5, 2, 24, 40, 6, 2),
    _stage(3, 3, 40, 80, 6, 2),
    _stage(5, 3, 80, 112, 6, 1),
    _stage(5, 4, 112, 192, 6, 2),
    _stage(3, 1, 192, 320, 6, 1),
]

#: ImageNet's per-channel standard deviations (of pixels in [0, 1]).
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def conv_kernel_initializer() -> initializers.VarianceScaling:
    """Keras' ``CONV_KERNEL_INITIALIZER``: He-style truncated normal over the fan-out (a
    new instance per layer, as Keras deserializes its dict once per layer)."""
    return initializers.VarianceScaling(scale=2.0, mode="fan_out",
                                        distribution="truncated_normal")


def dense_kernel_initializer() -> initializers.VarianceScaling:
    """Keras' ``DENSE_KERNEL_INITIALIZER``: uniform with variance ``1/(3·fan_out)``."""
    return initializers.VarianceScaling(scale=1.0 / 3.0, mode="fan_out",
                                        distribution="uniform")


# Keras' messages for the weights checks of this part (model_parts.check_weights)
WEIGHTS_MESSAGE = ("The `weights` argument should be either `None` (random initialization), "
                   "`imagenet` (pre-training on ImageNet), or the path to the weights file to "
                   "be loaded. Received: weights={weights!r}")
CLASSES_MESSAGE = ('If using `weights="imagenet"` with `include_top` as true, `classes` should '
                   "be 1000. Received: classes={classes}")


# -- the network ----------------------------------------------------------------------------
def EfficientNet(  # noqa: N802 (Keras' name)
    width_coefficient: float,
    depth_coefficient: float,
    default_size: int,
    dropout_rate: float = 0.2,
    drop_connect_rate: float = 0.2,
    depth_divisor: int = 8,
    activation="swish",
    blocks_args="default",
    name: str = "efficientnet",
    include_top: bool = True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    weights_name: str | None = None,
) -> Functional:
    """Build an EfficientNet from its scaling coefficients (Keras' ``EfficientNet``).

    Args:
        width_coefficient: the factor on every stage's number of filters.
        depth_coefficient: the factor on every stage's number of blocks.
        default_size: the input side the pretrained weights were trained at.
        dropout_rate: the dropout rate before the classifier.
        drop_connect_rate: the largest rate of the per-sample dropout of a block's residual
            branch; block ``b`` of ``B`` drops with rate ``drop_connect_rate · b / B``.
        depth_divisor: filters are rounded to a multiple of it.
        activation: the activation of every block (swish).
        blocks_args: the stages, as :data:`DEFAULT_BLOCKS_ARGS`.
        name, include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation: as for :func:`EfficientNetB0`.
        weights_name: the key of :data:`WEIGHTS_HASHES` ("b0" to "b7").

    Example:
        >>> model = EfficientNet(0.1, 0.1, 224, weights=None, input_shape=(32, 32, 3),
        ...                      include_top=False, pooling="avg")
        >>> model.output.shape
        (None, 128)
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    model_parts.check_weights(weights, include_top, classes, WEIGHTS_MESSAGE,
                              CLASSES_MESSAGE)
    data_format = config.image_data_format()
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=data_format,
        require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)
    bn_axis = 3 if data_format == "channels_last" else 1

    def round_filters(filters: float, divisor: int = depth_divisor) -> int:
        """``filters × width_coefficient`` to the nearest multiple of ``divisor``, never
        more than 10% below it."""
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:
            new_filters += divisor
        return int(new_filters)

    def round_repeats(repeats: int) -> int:
        return int(math.ceil(depth_coefficient * repeats))

    # Stem: the preprocessing, then a stride-2 3×3 convolution.
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # The Normalization divides by sqrt(variance) = std; the original network divided by
        # the variance (tensorflow/tensorflow#49930). Keras' correction multiplies by
        # 1/sqrt(std) per channel, which is what its pretrained weights expect: kept as is.
        x = layers.Rescaling([1.0 / math.sqrt(std) for std in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    # The blocks: block j of stage i is named "block{i+1}{a, b, c...}_".
    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError("The number of repeats in `EfficientNet` must be > 0. "
                             f"Received: repeats={args['repeats']}")
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:          # only the first block of a stage strides and changes width
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    # Top: 1×1 convolution to 1280·width channels, then the classifier or the pooling.
    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(), name="top_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=dense_kernel_initializer(), name="predictions")(x)
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


def block(inputs, activation="swish", drop_rate: float = 0.0, name: str = "",
          filters_in: int = 32, filters_out: int = 16, kernel_size: int = 3, strides: int = 1,
          expand_ratio: int = 1, se_ratio: float = 0.0, id_skip: bool = True):
    """One MBConv block (inverted residual with squeeze-and-excitation), Keras' ``block``.

    Forward, with ``σ`` the activation and ``F = filters_in · expand_ratio``::

        h = σ(BN(x ⊛ W_expand))          1×1, filters_in → F      (skipped when expand_ratio=1)
        h = σ(BN(h ⊛ W_dw))              k×k depthwise, stride 1 or 2
        s = sigmoid(σ(mean_hw(h) W₁ + b₁) W₂ + b₂)     F → max(1, filters_in·se_ratio) → F
        h = h ⊙ s                        one gate per channel, broadcast over H and W
        a = BN(h ⊛ W_project)            1×1, F → filters_out
        a = a + x                        when id_skip, stride 1 and filters_in == filters_out;
                                         in training the branch is dropped per sample
                                         (Dropout with noise_shape (N, 1, 1, 1), rate drop_rate)

    Backward: each layer's own, and at the two merges the chain rule for a sum (``δx``
    gets ``δa`` directly, plus what comes back through the branch) and for a product
    (``δh = δ(h⊙s) ⊙ s``, ``δs = Σ_hw δ(h⊙s) ⊙ h``).

    Args:
        inputs: the block's input tensor ``(N, H, W, filters_in)``.
        activation: ``σ``.
        drop_rate: the rate of the per-sample dropout of the residual branch.
        name: the prefix of every layer's name (``"block2a_"``).
        filters_in, filters_out: channels in and out.
        kernel_size: the depthwise kernel's side.
        strides: the depthwise convolution's stride (2 halves H and W; its padding is
            then explicit, ``correct_pad``, as TensorFlow's "same").
        expand_ratio: the widening factor ``F / filters_in``.
        se_ratio: the squeeze width as a fraction of ``filters_in`` (0 for no gate).
        id_skip: whether to add the skip connection when the shape allows it.

    Returns:
        The block's output tensor.

    Example:
        >>> x = mr.Input((8, 8, 16))
        >>> block(x, filters_in=16, filters_out=16, expand_ratio=6, se_ratio=0.25,
        ...       name="demo_").shape
        (None, 8, 8, 16)
    """
    bn_axis = 3 if config.image_data_format() == "channels_last" else 1

    # Expansion phase
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                          kernel_initializer=conv_kernel_initializer(),
                          name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs

    # Depthwise convolution
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{name}dwconv_pad")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                               depthwise_initializer=conv_kernel_initializer(),
                               name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)

    # Squeeze and excitation
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
        se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
        se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                           kernel_initializer=conv_kernel_initializer(),
                           name=f"{name}se_reduce")(se)
        se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                           kernel_initializer=conv_kernel_initializer(),
                           name=f"{name}se_expand")(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")

    # Output phase
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False,
                      kernel_initializer=conv_kernel_initializer(),
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


# -- the eight variants ---------------------------------------------------------------------
#: (width_coefficient, depth_coefficient, default_size, dropout_rate) of B0..B7.
VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}

BASE_DOCSTRING = """\
The input is pixels in [0, 255]: the model rescales and normalizes them itself (a
``Rescaling`` and a ``Normalization`` layer), so :func:`preprocess_input` does nothing.
The forward and backward passes are those of its layers; see :func:`block` for one MBConv
block's formulas.

Args:
    include_top: whether to end with the classifier (global average pooling, dropout
        {dropout}, ``Dense(classes)``).
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
    name: the model's name.

Returns:
    A functional :class:`~minired.Model`.

Example:
    >>> model = EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=10)
    >>> model.output.shape, model.count_params()
    ((None, 10), 4062381)
"""


def _variant(key: str, include_top, weights, input_tensor, input_shape, pooling, classes,
             classifier_activation, name) -> Functional:
    width, depth, size, dropout = VARIANTS[key]
    return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top,
                        weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                        pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, weights_name=key)


def EfficientNetB0(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb0") -> Functional:
    """Build EfficientNetB0: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.0 and
    depth 1.0, for 224×224 images.
    """
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB1(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb1") -> Functional:
    """Build EfficientNetB1: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.0 and
    depth 1.1, for 240×240 images.
    """
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB2(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb2") -> Functional:
    """Build EfficientNetB2: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.1 and
    depth 1.2, for 260×260 images.
    """
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB3(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb3") -> Functional:
    """Build EfficientNetB3: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.2 and
    depth 1.4, for 300×300 images.
    """
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB4(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb4") -> Functional:
    """Build EfficientNetB4: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.4 and
    depth 1.8, for 380×380 images.
    """
    return _variant("b4", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB5(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb5") -> Functional:
    """Build EfficientNetB5: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.6 and
    depth 2.2, for 456×456 images.
    """
    return _variant("b5", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB6(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb6") -> Functional:
    """Build EfficientNetB6: EfficientNet (Tan & Le, ICML 2019) scaled by width 1.8 and
    depth 2.6, for 528×528 images.
    """
    return _variant("b6", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def EfficientNetB7(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                   input_shape=None, pooling=None, classes: int = 1000,
                   classifier_activation="softmax", name: str = "efficientnetb7") -> Functional:
    """Build EfficientNetB7: EfficientNet (Tan & Le, ICML 2019) scaled by width 2.0 and
    depth 3.1, for 600×600 images.
    """
    return _variant("b7", include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


for _function in (EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3,
                  EfficientNetB4, EfficientNetB5, EfficientNetB6, EfficientNetB7):
    _key = _function.__name__[-2:].lower()
    _width, _depth, _size, _dropout = VARIANTS[_key]
    _function.__doc__ = inspect.cleandoc(_function.__doc__) + "\n\n" + BASE_DOCSTRING.format(
        name=_function.__name__, width=_width, depth=_depth, size=_size, dropout=_dropout,
        file=f"efficientnet{_key}")


#: The model preprocesses its inputs itself: this one returns them unchanged.
preprocess_input = imagenet_utils.preprocess_input_unchanged


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
           "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
           "preprocess_input", "decode_predictions"]
