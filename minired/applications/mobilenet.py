"""MobileNet (v1), as ``keras.applications.MobileNet``.

Howard et al., *MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications* (2017), https://arxiv.org/abs/1704.04861.

The idea: split each 3x3 convolution into a **depthwise** 3x3 convolution (one filter per
channel, it mixes space) and a **pointwise** 1x1 convolution (it mixes channels). For
``C`` channels in and ``F`` out, that costs ``9C + CF`` weights instead of ``9CF``, about
8 to 9 times fewer. The network is one ordinary convolution then 13 such blocks, each
followed by BatchNormalization and ReLU6 (``min(max(z, 0), 6)``). Two knobs shrink it:
``alpha`` (the width multiplier: every block keeps ``int(F * alpha)`` filters) and
``depth_multiplier`` (the channels each depthwise filter makes per input channel).

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load.
"""

from __future__ import annotations

import warnings

from minired import config, layers
from minired.applications import imagenet_utils, model_parts
from minired.models import Model

BASE_WEIGHT_PATH = model_parts.KERAS_APPLICATIONS_URL + "mobilenet/"


def MobileNet(input_shape=None, alpha: float = 1.0, depth_multiplier: int = 1,  # noqa: N802
              dropout: float = 1e-3, include_top: bool = True, weights="imagenet",
              input_tensor=None, pooling=None, classes: int = 1000,
              classifier_activation="softmax", name: str | None = None) -> Model:
    """Build MobileNet: a 3x3 convolution, then 13 depthwise separable blocks.

    Each block computes ``DepthwiseConv2D(3x3) → BN → ReLU6 → Conv2D(1x1) → BN → ReLU6``;
    a stride-2 block first pads one row and column of zeros at the bottom and right
    (``conv_pad_<id>``) and then uses a "valid" depthwise convolution. The top is
    ``GlobalAveragePooling2D(keepdims) → Dropout → Conv2D(1x1, classes) → Reshape →
    Activation``.

    Args:
        input_shape: the image shape ``(rows, cols, 3)`` (``(3, rows, cols)`` for
            channels_first), sides at least 32; only needed without the top, or to
            change the default ``(224, 224, 3)``.
        alpha: the width multiplier: each layer keeps ``int(filters * alpha)`` filters
            (ImageNet weights exist for 0.25, 0.5, 0.75 and 1.0).
        depth_multiplier: the depthwise convolutions' channel multiplier (1 for the
            ImageNet weights).
        dropout: the rate of the Dropout before the classifier.
        include_top: whether to add the classifier (global pooling, 1x1 convolution).
        weights: ``None`` (random initial weights), ``"imagenet"`` (Keras' pretrained file
            from Keras' cache ``~/.keras/models``; minired never downloads it) or the path
            of a weights file to load.
        input_tensor: a symbolic tensor (from ``Input`` or a layer) to use as the image input.
        pooling: without the top, ``None`` (4-D feature maps), ``"avg"`` or ``"max"``
            (global pooling to a 2-D output).
        classes: the number of classes (1000 with the ImageNet top).
        classifier_activation: the top's activation (``None`` gives the logits); only
            ``None`` or ``"softmax"`` with pretrained weights.
        name: the model's name; ``None`` gives ``"mobilenet_<alpha:.2f>_<rows>"``.

    Returns:
        A functional :class:`~minired.Model`.

    Example:
        >>> model = MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=4)
        >>> model.name, model.output.shape, model.count_params()
        ('mobilenet_0.25_32', (None, 4), 219572)
    """
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the "
                         f"path to the weights file to be loaded. Received weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")
    data_format = config.image_data_format()
    row_axis, col_axis = (0, 1) if data_format == "channels_last" else (1, 2)
    default_size = 224          # the pretrained sizes: 128, 160, 192 or 224, square
    if input_shape is not None:
        rows, cols = input_shape[row_axis], input_shape[col_axis]
        if rows == cols and rows in (128, 160, 192, 224):
            default_size = rows
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32, data_format=data_format,
        require_flatten=include_top, weights=weights)
    rows, cols = input_shape[row_axis], input_shape[col_axis]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must "
                             f"be 1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in (0.25, 0.50, 0.75, 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of"
                             f"`0.25`, `0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        if rows != cols or rows not in (128, 160, 192, 224):
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                          "[128, 160, 192, 224]. Weights for input shape (224, 224) will be "
                          "loaded as the default.", stacklevel=2)

    img_input = model_parts.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    # (pointwise filters, stride) of the 13 depthwise separable blocks
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(blocks, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier,
                                  strides=(stride, stride), block_id=block_id)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Model(model_parts.model_inputs(input_tensor, img_input), x, name=name)

    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0"}.get(alpha, "2_5")
    fname = f"mobilenet_{alpha_text}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    # Keras checks no hash for these files (file_hash=None)
    model_parts.load_imagenet_or_file(model, weights, fname, BASE_WEIGHT_PATH + fname,
                                      file_hash=None)
    return model


def _channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else -1


def _conv_block(inputs, filters: int, alpha: float, kernel=(3, 3), strides=(1, 1)):
    """The first layer: ``Conv2D(int(filters * alpha), 3x3, "same") → BN → ReLU6``."""
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False,
                      strides=strides, name="conv1")(inputs)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters: int, alpha: float,
                          depth_multiplier: int = 1, strides=(1, 1), block_id: int = 1):
    """One depthwise separable block: ``DepthwiseConv2D(3x3) → BN → ReLU6`` (space),
    then ``Conv2D(1x1) → BN → ReLU6`` (channels)."""
    if strides == (1, 1):
        x = inputs
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides,
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same",
                      use_bias=False, strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels from [0, 255] to [-1, 1] (``x / 127.5 - 1``), as MobileNet was trained.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]))
        array([[[-1.,  0.,  1.]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["MobileNet", "preprocess_input", "decode_predictions"]
