"""Xception, as ``keras.applications.Xception``.

Chollet, *Xception: Deep Learning with Depthwise Separable Convolutions* (CVPR 2017),
https://arxiv.org/abs/1610.02357.

The idea ("extreme Inception"): an Inception module splits the channels into a few groups
and convolves each over space; push that to the limit, one group per channel, and the
module becomes a **depthwise separable convolution** (``SeparableConv2D``: a depthwise 3x3
then a pointwise 1x1). Xception is 36 of them in 14 blocks, with ResNet's **residual
connections** around every block: an entry flow (blocks 1-4, which shrink the image and
widen to 728 channels, the shortcut a strided 1x1 convolution), a middle flow (blocks 5-12,
three separable convolutions each, identity shortcut) and an exit flow (blocks 13-14).

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load.
"""

from __future__ import annotations

from minired import config, layers
from minired.applications import imagenet_utils, model_parts
from minired.models import Model

WEIGHTS_PATH = (model_parts.KERAS_APPLICATIONS_URL
                + "xception/xception_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = (model_parts.KERAS_APPLICATIONS_URL
                       + "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
#: md5 of Keras' pretrained files
WEIGHTS_HASH, WEIGHTS_HASH_NO_TOP = ("0a58e3b7378bc2990ea3b43d5981f1f6",
                                     "b0042744bf5b25fce3cb969f33bebb97")


def Xception(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None,  # noqa: N802
             pooling=None, classes: int = 1000, classifier_activation="softmax",
             name: str = "xception") -> Model:
    """Build Xception: two 3x3 convolutions, then 12 residual blocks of separable
    convolutions, then two more separable convolutions (1536 and 2048 channels).

    In the entry flow each block is ``[ReLU →] SepConv → BN → ReLU → SepConv → BN →
    MaxPool(3x3, stride 2)`` plus the shortcut ``Conv2D(1x1, stride 2) → BN``; in the middle
    flow ``3 × (ReLU → SepConv(728) → BN)`` plus the input itself. Every BatchNormalization
    uses Keras' defaults.

    Args:
        include_top: whether to add the classifier (global average pooling, Dense).
        weights: ``None`` (random initial weights), ``"imagenet"`` (Keras' pretrained file
            from Keras' cache ``~/.keras/models``, md5 checked; minired never downloads it)
            or the path of a weights file to load.
        input_tensor: a symbolic tensor (from ``Input`` or a layer) to use as the image input.
        input_shape: the image shape ``(rows, cols, 3)`` (``(3, rows, cols)`` for
            channels_first), sides at least 71; only needed without the top, or to change
            the default ``(299, 299, 3)``.
        pooling: without the top, ``None`` (4-D feature maps), ``"avg"`` or ``"max"``.
        classes: the number of classes (1000 with the ImageNet top).
        classifier_activation: the top's activation (``None`` gives the logits); only
            ``None`` or ``"softmax"`` with pretrained weights.
        name: the model's name.

    Returns:
        A functional :class:`~minired.Model`.

    Example:
        >>> model = Xception(input_shape=(71, 71, 3), weights=None, classes=4)
        >>> model.output.shape, model.count_params()
        ((None, 4), 20869676)
    """
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         "to the weights file to be loaded.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = model_parts.image_input(input_tensor, input_shape)
    channel_axis = 1 if config.image_data_format() == "channels_first" else -1

    def conv_bn_relu(x, filters, strides, name):
        x = layers.Conv2D(filters, (3, 3), strides=strides, use_bias=False, name=name)(x)
        x = layers.BatchNormalization(axis=channel_axis, name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_act")(x)

    def sepconv_bn(x, filters, name):
        x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False,
                                   name=name)(x)
        return layers.BatchNormalization(axis=channel_axis, name=f"{name}_bn")(x)

    def shortcut(x, filters):
        """The downsampling shortcut: ``Conv2D(1x1, stride 2) → BN`` (automatic names)."""
        residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same",
                                 use_bias=False)(x)
        return layers.BatchNormalization(axis=channel_axis)(residual)

    # entry flow
    x = conv_bn_relu(img_input, 32, (2, 2), "block1_conv1")
    x = conv_bn_relu(x, 64, (1, 1), "block1_conv2")

    residual = shortcut(x, 128)
    x = sepconv_bn(x, 128, "block2_sepconv1")
    x = layers.Activation("relu", name="block2_sepconv2_act")(x)
    x = sepconv_bn(x, 128, "block2_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block2_pool")(x)
    x = layers.add([x, residual])

    for block, filters in ((3, 256), (4, 728)):
        residual = shortcut(x, filters)
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
        x = sepconv_bn(x, filters, f"block{block}_sepconv1")
        x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
        x = sepconv_bn(x, filters, f"block{block}_sepconv2")
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same",
                                name=f"block{block}_pool")(x)
        x = layers.add([x, residual])

    # middle flow: 8 blocks with an identity shortcut
    for block in range(5, 13):
        residual = x
        for conv in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{conv}_act")(x)
            x = sepconv_bn(x, 728, f"block{block}_sepconv{conv}")
        x = layers.add([x, residual])

    # exit flow
    residual = shortcut(x, 1024)
    x = layers.Activation("relu", name="block13_sepconv1_act")(x)
    x = sepconv_bn(x, 728, "block13_sepconv1")
    x = layers.Activation("relu", name="block13_sepconv2_act")(x)
    x = sepconv_bn(x, 1024, "block13_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.add([x, residual])

    x = sepconv_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = sepconv_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    model = Model(model_parts.model_inputs(input_tensor, img_input), x, name=name)
    if include_top:
        fname, origin, file_hash = ("xception_weights_tf_dim_ordering_tf_kernels.h5",
                                    WEIGHTS_PATH, WEIGHTS_HASH)
    else:
        fname, origin, file_hash = ("xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                    WEIGHTS_PATH_NO_TOP, WEIGHTS_HASH_NO_TOP)
    model_parts.load_imagenet_or_file(model, weights, fname, origin, file_hash)
    return model


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels from [0, 255] to [-1, 1] (``x / 127.5 - 1``), as Xception was trained.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]))
        array([[[-1.,  0.,  1.]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["Xception", "preprocess_input", "decode_predictions"]
