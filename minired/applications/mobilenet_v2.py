"""MobileNetV2, as ``keras.applications.MobileNetV2``.

Sandler et al., *MobileNetV2: Inverted Residuals and Linear Bottlenecks* (CVPR 2018),
https://arxiv.org/abs/1801.04381.

The idea: the **inverted residual block**. A thin tensor (the "bottleneck") is expanded by a
1x1 convolution to ``expansion`` (6) times more channels, filtered by a depthwise 3x3
convolution, and projected back to a thin tensor by a 1x1 convolution with **no**
activation (a ReLU in a thin space would destroy information: the "linear bottleneck").
When the block keeps the shape, its input is added to its output (the residual joins the
thin tensors, the inverse of ResNet's bottleneck, which joins the wide ones).

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load.
"""

from __future__ import annotations

import warnings

from minired import backend, config, layers
from minired.applications import imagenet_utils, model_parts
from minired.models import Model

BASE_WEIGHT_PATH = model_parts.KERAS_APPLICATIONS_URL + "mobilenet_v2/"
#: The square input sizes ImageNet weights exist for.
PRETRAINED_SIZES = (96, 128, 160, 192, 224)

#: (filters, stride, expansion) of the 17 inverted residual blocks, block_id 0 to 16.
BLOCKS = [(16, 1, 1),
          (24, 2, 6), (24, 1, 6),
          (32, 2, 6), (32, 1, 6), (32, 1, 6),
          (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
          (96, 1, 6), (96, 1, 6), (96, 1, 6),
          (160, 2, 6), (160, 1, 6), (160, 1, 6),
          (320, 1, 6)]


def MobileNetV2(input_shape=None, alpha: float = 1.0, include_top: bool = True,  # noqa: N802
                weights="imagenet", input_tensor=None, pooling=None, classes: int = 1000,
                classifier_activation="softmax", name: str | None = None) -> Model:
    """Build MobileNetV2: a 3x3 convolution, 17 inverted residual blocks, a 1x1 convolution.

    A block (``block_<id>_``; the first is ``expanded_conv_``, which has no expansion)::

        Conv2D(1x1, expansion * C_in) → BN → ReLU6           (expand)
        DepthwiseConv2D(3x3, stride)  → BN → ReLU6           (filter space)
        Conv2D(1x1, filters)          → BN                   (project, linear)
        + the block's input, when stride 1 and C_in == filters

    Every BatchNormalization uses ``epsilon=1e-3, momentum=0.999`` (TensorFlow's original).

    Args:
        input_shape: the image shape ``(rows, cols, 3)`` (``(3, rows, cols)`` for
            channels_first), sides at least 32; only needed without the top, or to
            change the default ``(224, 224, 3)``.
        alpha: the width multiplier: each block keeps ``_make_divisible(filters * alpha, 8)``
            filters; above 1 the last convolution grows too (ImageNet weights exist for 0.35,
            0.5, 0.75, 1.0, 1.3 and 1.4).
        include_top: whether to add the classifier (global average pooling, Dense).
        weights: ``None`` (random initial weights), ``"imagenet"`` (Keras' pretrained file
            from Keras' cache ``~/.keras/models``; minired never downloads it) or the path
            of a weights file to load.
        input_tensor: a symbolic tensor (from ``Input`` or a layer) to use as the image input.
        pooling: without the top, ``None`` (4-D feature maps), ``"avg"`` or ``"max"``.
        classes: the number of classes (1000 with the ImageNet top).
        classifier_activation: the top's activation (``None`` gives the logits); only
            ``None`` or ``"softmax"`` with pretrained weights.
        name: the model's name; ``None`` gives ``"mobilenetv2_<alpha:.2f>_<rows>"``.

    Returns:
        A functional :class:`~minired.Model`.

    Example:
        >>> model = MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=4)
        >>> model.name, model.output.shape, model.count_params()
        ('mobilenetv2_0.35_32', (None, 4), 415332)
    """
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded.  Received `weights={weights}`")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top` as true, '
                         f"`classes` should be 1000. Received `classes={classes}`")
    data_format = config.image_data_format()
    default_size = _default_size(input_shape, input_tensor, data_format)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=data_format,
        require_flatten=include_top, weights=weights)
    row_axis, col_axis = (0, 1) if data_format == "channels_last" else (1, 2)
    rows, cols = input_shape[row_axis], input_shape[col_axis]
    if weights == "imagenet":
        if alpha not in (0.35, 0.50, 0.75, 1.0, 1.3, 1.4):
            raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                             "`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                             f"`alpha={alpha}`")
        if rows != cols or rows not in PRETRAINED_SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[96, 128, 160, 192, 224]. Weights for input shape (224, 224) will "
                          "be loaded as the default.", stacklevel=2)

    img_input = model_parts.image_input(input_tensor, input_shape)
    channel_axis = _channel_axis()
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2),
                      padding="same", use_bias=False, name="Conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)

    # no alpha below 1 on the last convolution, as in the paper; above 1 it grows
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = Model(model_parts.model_inputs(input_tensor, img_input), x, name=name)

    fname = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
             f"{'' if include_top else '_no_top'}.h5")
    # Keras checks no hash for these files (file_hash=None)
    model_parts.load_imagenet_or_file(model, weights, fname, BASE_WEIGHT_PATH + fname,
                                      file_hash=None)
    return model


def _default_size(input_shape, input_tensor, data_format: str) -> int:
    """The pretrained size to check ``input_shape`` against: the input's side when it is
    square and one of :data:`PRETRAINED_SIZES`, else 224 (Keras reads the side from
    ``input_tensor`` when no ``input_shape`` is given, after checking the two agree)."""
    if input_shape is not None and input_tensor is not None:
        if not backend.is_keras_tensor(input_tensor):
            raise ValueError("input_tensor is not a Keras tensor; Received "
                             f"`input_tensor={input_tensor}`")
        if data_format == "channels_first":
            if input_tensor.shape[1] != input_shape[1]:
                raise ValueError("input_shape[1] must equal shape(input_tensor)[1] when "
                                 "`image_data_format` is `channels_first`; Received "
                                 f"`input_tensor.shape={input_tensor.shape}`, "
                                 f"`input_shape={input_shape}`")
        elif input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, "
                             f"`input_shape={input_shape}`")
    if input_shape is None and input_tensor is not None:
        if not backend.is_keras_tensor(input_tensor):
            return 224
        sides = input_tensor.shape[2:4] if data_format == "channels_first" else \
            input_tensor.shape[1:3]
    elif input_shape is None:
        return 224
    else:
        sides = input_shape[1:3] if data_format == "channels_first" else input_shape[0:2]
    rows, cols = sides
    return rows if rows == cols and rows in PRETRAINED_SIZES else 224


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _inverted_res_block(inputs, expansion: int, stride: int, alpha: float, filters: int,
                        block_id: int):
    """Expand (1x1, ReLU6), filter (depthwise 3x3, ReLU6), project (1x1, linear), and add
    the input when the shape is kept."""
    channel_axis = _channel_axis()
    in_channels = inputs.shape[channel_axis]
    # the projection keeps a multiple of 8 filters
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                      name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3),
                                 name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=channel_axis, epsilon=1e-3, momentum=0.999,
                                  name=f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, and
    never more than 10% below ``v``), as TensorFlow's MobileNet code rounds channel counts.

    Example:
        >>> _make_divisible(32 * 0.35, 8), _make_divisible(1280 * 1.3, 8)
        (16, 1664)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:          # the rounding went down by more than 10%
        new_v += divisor
    return new_v


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels from [0, 255] to [-1, 1] (``x / 127.5 - 1``), as MobileNetV2 was trained.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]))
        array([[[-1.,  0.,  1.]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]
