"""MobileNetV3 (Small and Large), as ``keras.applications.MobileNetV3Small/Large``.

Howard et al., *Searching for MobileNetV3* (ICCV 2019), https://arxiv.org/abs/1905.02244.

The idea: MobileNetV2's inverted residual blocks (expand 1x1, depthwise, project 1x1
linear), with the block sizes found by architecture search, plus two cheap tricks:

- **squeeze-and-excitation** in some blocks: a per-channel gate computed from the
  globally averaged feature map, ``s = hard_sigmoid(W₂ relu(W₁ mean(x)))``, ``x ⊙ s``;
- **hard-swish** ``x · relu6(x + 3) / 6``, a piecewise-linear swish, in the deeper layers
  (``hard_sigmoid(x) = relu6(x + 3) / 6``).

``minimalistic=True`` drops both (ReLU everywhere, 3x3 kernels, no squeeze-and-excite).
The model starts with ``Rescaling(1/127.5, offset=-1)`` (``include_preprocessing``), so it
takes pixels in [0, 255].

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load.
Keras writes ``hard_sigmoid`` with ``x + 3.0`` and ``* (1/6)`` on symbolic tensors; minired
records them with :mod:`minired.applications.keras_ops`: nodes of the graph written to files
as Keras writes its operations, and, as in Keras, not in ``model.layers``.
"""

from __future__ import annotations

import warnings

from minired import backend, config, layers
from minired.applications import imagenet_utils, keras_ops, model_parts
from minired.models import Model

BASE_WEIGHT_PATH = model_parts.KERAS_APPLICATIONS_URL + "mobilenet_v3/"
#: md5 of Keras' pretrained files: model name -> (with top, without top).
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb",
                             "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7",
                            "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c",
                                         "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7",
                             "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862",
                            "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37",
                                         "cde8136e733e811080d9fcd8a252f7e4"),
}

# The blocks: (expansion, filters, kernel, stride, squeeze-and-excite, activation).
# "k" is the kernel of the full model (5, or 3 when minimalistic), "se" its squeeze ratio
# (0.25, or none), "act" its activation (hard-swish, or relu).
SMALL_BLOCKS = [(1, 16, 3, 2, "se", "relu"),
                (72 / 16, 24, 3, 2, None, "relu"),
                (88 / 24, 24, 3, 1, None, "relu"),
                (4, 40, "k", 2, "se", "act"),
                (6, 40, "k", 1, "se", "act"),
                (6, 40, "k", 1, "se", "act"),
                (3, 48, "k", 1, "se", "act"),
                (3, 48, "k", 1, "se", "act"),
                (6, 96, "k", 2, "se", "act"),
                (6, 96, "k", 1, "se", "act"),
                (6, 96, "k", 1, "se", "act")]
LARGE_BLOCKS = [(1, 16, 3, 1, None, "relu"),
                (4, 24, 3, 2, None, "relu"),
                (3, 24, 3, 1, None, "relu"),
                (3, 40, "k", 2, "se", "relu"),
                (3, 40, "k", 1, "se", "relu"),
                (3, 40, "k", 1, "se", "relu"),
                (6, 80, 3, 2, None, "act"),
                (2.5, 80, 3, 1, None, "act"),
                (2.3, 80, 3, 1, None, "act"),
                (2.3, 80, 3, 1, None, "act"),
                (6, 112, 3, 1, "se", "act"),
                (6, 112, 3, 1, "se", "act"),
                (6, 160, "k", 2, "se", "act"),
                (6, 160, "k", 1, "se", "act"),
                (6, 160, "k", 1, "se", "act")]

_ARGS_DOC = """
    Args:
        input_shape: the image shape ``(rows, cols, 3)`` (``(3, rows, cols)`` for
            channels_first), sides at least 32; ``None`` takes any size.
        alpha: the width multiplier: each block keeps ``_depth(filters * alpha)`` filters
            (ImageNet weights exist for 0.75 and 1.0, and 1.0 when minimalistic).
        minimalistic: ReLU and 3x3 kernels everywhere, no squeeze-and-excitation.
        include_top: whether to add the classifier (pooling, two 1x1 convolutions).
        weights: ``None`` (random initial weights), ``"imagenet"`` (Keras' pretrained file
            from Keras' cache ``~/.keras/models``, md5 checked; minired never downloads it)
            or the path of a weights file to load.
        input_tensor: a symbolic tensor (from ``Input`` or a layer) to use as the image input.
        classes: the number of classes (1000 with the ImageNet top).
        pooling: without the top, ``None`` (4-D feature maps), ``"avg"`` or ``"max"``.
        dropout_rate: the rate of the Dropout before the last convolution (none if 0).
        classifier_activation: the top's activation (``None`` gives the logits); only
            ``None`` or ``"softmax"`` with pretrained weights.
        include_preprocessing: start with ``Rescaling(1/127.5, offset=-1)``, so the model
            takes pixels in [0, 255].
        name: the model's name.

    Returns:
        A functional :class:`~minired.Model`.
"""


def MobileNetV3Small(input_shape=None, alpha: float = 1.0, minimalistic: bool = False,  # noqa: N802
                     include_top: bool = True, weights="imagenet", input_tensor=None,
                     classes: int = 1000, pooling=None, dropout_rate: float = 0.2,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "MobileNetV3Small") -> Model:
    """Build MobileNetV3Small: a 3x3 convolution, 11 inverted residual blocks, a 1x1
    convolution to ``6 × C`` channels, then a top ``pool → Conv 1x1 (1024) → Dropout →
    Conv 1x1 (classes)``.
    {args}
    Example:
        >>> model = MobileNetV3Small(input_shape=(32, 32, 3), weights=None, classes=4)
        >>> model.output.shape, model.count_params()
        ((None, 4), 1534068)
    """
    return _mobilenet_v3(SMALL_BLOCKS, 1024, input_shape, alpha, "small", minimalistic,
                         include_top, weights, input_tensor, classes, pooling, dropout_rate,
                         classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape=None, alpha: float = 1.0, minimalistic: bool = False,  # noqa: N802
                     include_top: bool = True, weights="imagenet", input_tensor=None,
                     classes: int = 1000, pooling=None, dropout_rate: float = 0.2,
                     classifier_activation="softmax", include_preprocessing: bool = True,
                     name: str = "MobileNetV3Large") -> Model:
    """Build MobileNetV3Large: a 3x3 convolution, 15 inverted residual blocks, a 1x1
    convolution to ``6 × C`` channels, then a top ``pool → Conv 1x1 (1280) → Dropout →
    Conv 1x1 (classes)``.
    {args}
    Example:
        >>> model = MobileNetV3Large(input_shape=(32, 32, 3), weights=None, classes=4)
        >>> model.output.shape, model.count_params()
        ((None, 4), 4231556)
    """
    return _mobilenet_v3(LARGE_BLOCKS, 1280, input_shape, alpha, "large", minimalistic,
                         include_top, weights, input_tensor, classes, pooling, dropout_rate,
                         classifier_activation, include_preprocessing, name)


MobileNetV3Small.__doc__ = MobileNetV3Small.__doc__.replace("{args}", _ARGS_DOC)
MobileNetV3Large.__doc__ = MobileNetV3Large.__doc__.replace("{args}", _ARGS_DOC)


def _mobilenet_v3(blocks, last_point_ch: int, input_shape, alpha: float, model_type: str,
                  minimalistic: bool, include_top: bool, weights, input_tensor, classes: int,
                  pooling, dropout_rate: float, classifier_activation,
                  include_preprocessing: bool, name: str) -> Model:
    """Keras' ``MobileNetV3(stack_fn, last_point_ch, ...)``, the stack given as ``blocks``."""
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, '
                         f"`classes` should be 1000.  Received classes={classes}")
    channels_last = config.image_data_format() == "channels_last"
    input_shape = _input_shape(input_shape, input_tensor, channels_last)
    rows, cols = input_shape[0:2] if channels_last else input_shape[1:3]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError("Input size must be at least 32x32; Received `input_shape="
                         f"{input_shape}`")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of "
                             "`0.75`, `1.0` for non minimalistic or `1.0` for minimalistic "
                             "only.")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the default.",
                          stacklevel=3)

    img_input = model_parts.image_input(input_tensor, input_shape)
    channel_axis = -1 if channels_last else 1
    if minimalistic:
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, 0.25

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
                      name="conv")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name="conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha),
                                kernel if k == "k" else k, stride,
                                se_ratio if se else None,
                                activation if act == "act" else _relu, block_id)

    last_conv_ch = _depth(x.shape[channel_axis] * 6)
    if alpha > 1.0:                 # a wider network also widens the top
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name="conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                          name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = Model(model_parts.model_inputs(input_tensor, img_input), x, name=name)

    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    if include_top:
        fname, file_hash = f"weights_mobilenet_v3_{model_name}.h5", 0
    else:
        fname, file_hash = f"weights_mobilenet_v3_{model_name}_no_top_v2.h5", 1
    if weights == "imagenet":
        file_hash = WEIGHTS_HASHES[model_name][file_hash]
    model_parts.load_imagenet_or_file(model, weights, fname, BASE_WEIGHT_PATH + fname,
                                      file_hash=file_hash)
    return model


def _input_shape(input_shape, input_tensor, channels_last: bool) -> tuple:
    """The input shape, as Keras chooses it: ``input_shape``, else the one of
    ``input_tensor`` (its two sides, written ``(cols, rows, 3)`` as Keras writes them),
    else ``(None, None, 3)``; checks that ``input_shape`` agrees with ``input_tensor``."""
    if input_shape is not None and input_tensor is not None:
        if not backend.is_keras_tensor(input_tensor):
            raise ValueError("input_tensor specified: ", input_tensor, "is not a keras tensor")
        if not channels_last and input_tensor.shape[1] != input_shape[1]:
            raise ValueError("When backend.image_data_format()=channels_first, "
                             "input_shape[1] must equal input_tensor.shape[1].  Received "
                             f"input_shape={input_shape}, "
                             f"input_tensor.shape={input_tensor.shape}")
        if channels_last and input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_shape[1] must equal input_tensor.shape[2].  Received "
                             f"input_shape={input_shape}, "
                             f"input_tensor.shape={input_tensor.shape}")
    if input_shape is None and input_tensor is not None and backend.is_keras_tensor(
            input_tensor):
        if channels_last:
            rows, cols = input_tensor.shape[1], input_tensor.shape[2]
            input_shape = (cols, rows, 3)
        else:
            rows, cols = input_tensor.shape[2], input_tensor.shape[3]
            input_shape = (3, cols, rows)
    if input_shape is None:
        input_shape = (None, None, 3) if channels_last else (3, None, None)
    return input_shape


def _relu(x):
    return layers.ReLU()(x)


def _hard_sigmoid(x):
    """``relu6(x + 3) / 6``, with Keras' two operations (an ``add`` and a ``multiply``)."""
    return keras_ops.Multiply()(layers.ReLU(6.0)(keras_ops.Add()(x, 3.0)), 1.0 / 6.0)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _depth(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, never
    more than 10% below ``v``), as TensorFlow's MobileNet code rounds channel counts.

    Example:
        >>> _depth(16 * 0.75), _depth(96 * 6)
        (16, 576)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:          # the rounding went down by more than 10%
        new_v += divisor
    return new_v


def _se_block(inputs, filters: int, se_ratio: float, prefix: str):
    """Squeeze-and-excitation: ``x ⊙ hard_sigmoid(W₂ relu(W₁ mean(x)))``, the mean over
    the image (``keepdims``), ``W₁``, ``W₂`` 1x1 convolutions with biases."""
    x = layers.GlobalAveragePooling2D(keepdims=True,
                                      name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same",
                      name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion: float, filters: int, kernel_size: int, stride: int,
                        se_ratio, activation, block_id: int):
    """Expand (1x1), filter (depthwise), optionally squeeze-and-excite, project (1x1,
    linear), and add the input when the shape is kept (as in MobileNetV2)."""
    channel_axis = 1 if config.image_data_format() == "channels_first" else -1
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[channel_axis]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                      name=f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride,
                               padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
                      name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def preprocess_input(x, data_format: str | None = None):
    """Return ``x`` unchanged: MobileNetV3 rescales its input itself (its first layer is
    ``Rescaling``); kept for Keras' API, as in Keras.

    Example:
        >>> preprocess_input([0.0, 255.0])
        [0.0, 255.0]
    """
    return x


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["MobileNetV3Small", "MobileNetV3Large", "preprocess_input", "decode_predictions"]
