"""Inception v3, as ``keras.applications.InceptionV3``.

Szegedy et al., *Rethinking the Inception Architecture for Computer Vision* (CVPR 2016),
http://arxiv.org/abs/1512.00567.

The idea: an **Inception module** runs several branches side by side on the same input (a
1x1 convolution, a 5x5, two 3x3 in a row, a pooling followed by a 1x1) and concatenates
their outputs along the channels, so the next layer sees features at several scales.
Version 3 makes the branches cheaper: a 5x5 becomes two 3x3, and an ``n x n`` convolution
becomes ``1 x n`` then ``n x 1``. Every convolution is ``conv2d_bn``: ``Conv2D`` (no bias)
→ ``BatchNormalization(scale=False)`` → ReLU. The network: a stem of 5 convolutions and 2
poolings, then the modules ``mixed0`` to ``mixed10`` (35x35, 17x17 and 8x8 grids for a
299x299 image; ``mixed3`` and ``mixed8`` shrink the grid).

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load
(most layers have Keras' automatic names, ``conv2d_<n>``, ``batch_normalization_<n>``...,
numbered in the order Keras creates them: build the model in a fresh session, after
``minired.backend.clear_session()``, for the same numbers as in Keras).
"""

from __future__ import annotations

from minired import config, layers
from minired.applications import imagenet_utils, model_parts
from minired.models import Model

WEIGHTS_PATH = (model_parts.KERAS_APPLICATIONS_URL
                + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = (model_parts.KERAS_APPLICATIONS_URL
                       + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
#: md5 of Keras' pretrained files
WEIGHTS_HASH, WEIGHTS_HASH_NO_TOP = ("9a0d58056eeedaa3f26cb7ebd46da564",
                                     "bcbd6486424b2319ff4ef7d526e38f63")


def InceptionV3(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape=None, pooling=None, classes: int = 1000,
                classifier_activation="softmax", name: str = "inception_v3") -> Model:
    """Build Inception v3: a convolutional stem, then the Inception modules ``mixed0`` to
    ``mixed10``, then global average pooling and a Dense classifier.

    Args:
        include_top: whether to add the classifier (global average pooling, Dense).
        weights: ``None`` (random initial weights), ``"imagenet"`` (Keras' pretrained file
            from Keras' cache ``~/.keras/models``, md5 checked; minired never downloads it)
            or the path of a weights file to load.
        input_tensor: a symbolic tensor (from ``Input`` or a layer) to use as the image input.
        input_shape: the image shape ``(rows, cols, 3)`` (``(3, rows, cols)`` for
            channels_first), sides at least 75; only needed without the top, or to change
            the default ``(299, 299, 3)``.
        pooling: without the top, ``None`` (4-D feature maps), ``"avg"`` or ``"max"``.
        classes: the number of classes (1000 with the ImageNet top).
        classifier_activation: the top's activation (``None`` gives the logits); only
            ``None`` or ``"softmax"`` with pretrained weights.
        name: the model's name.

    Returns:
        A functional :class:`~minired.Model`.

    Example:
        >>> model = InceptionV3(input_shape=(75, 75, 3), weights=None, classes=4)
        >>> model.output.shape, model.count_params()
        ((None, 4), 21810980)
    """
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded; Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` '
                         f"should be 1000. Received classes={classes}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = model_parts.image_input(input_tensor, input_shape)
    channel_axis = 1 if config.image_data_format() == "channels_first" else 3

    def avg_pool_3x3(x):
        return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)

    # stem: 299x299x3 -> 35x35x192
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    # mixed 0, 1, 2: 35 x 35 x 256 (then 288); branches 1x1, 5x5, 3x3-3x3, pool-1x1
    for i, pool_filters in enumerate((32, 64, 64)):
        branch1x1 = conv2d_bn(x, 64, 1, 1)
        branch5x5 = conv2d_bn(x, 48, 1, 1)
        branch5x5 = conv2d_bn(branch5x5, 64, 5, 5)
        branch3x3dbl = conv2d_bn(x, 64, 1, 1)
        branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
        branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
        branch_pool = conv2d_bn(avg_pool_3x3(x), pool_filters, 1, 1)
        x = layers.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool],
                               axis=channel_axis, name=f"mixed{i}")

    # mixed 3: 17 x 17 x 768 (the grid shrinks: stride-2 branches and a max pooling)
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch3x3dbl, branch_pool], axis=channel_axis,
                           name="mixed3")

    # mixed 4, 5, 6, 7: 17 x 17 x 768; the 7x7 convolutions factored into 1x7 and 7x1
    for i, width in zip(range(4, 8), (128, 160, 160, 192), strict=True):
        branch1x1 = conv2d_bn(x, 192, 1, 1)
        branch7x7 = conv2d_bn(x, width, 1, 1)
        branch7x7 = conv2d_bn(branch7x7, width, 1, 7)
        branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
        branch7x7dbl = conv2d_bn(x, width, 1, 1)
        branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
        branch7x7dbl = conv2d_bn(branch7x7dbl, width, 1, 7)
        branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
        branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
        branch_pool = conv2d_bn(avg_pool_3x3(x), 192, 1, 1)
        x = layers.concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool],
                               axis=channel_axis, name=f"mixed{i}")

    # mixed 8: 8 x 8 x 1280
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([branch3x3, branch7x7x3, branch_pool], axis=channel_axis,
                           name="mixed8")

    # mixed 9, 10: 8 x 8 x 2048; the 3x3 branches end in 1x3 and 3x1 side by side
    for i in range(2):
        branch1x1 = conv2d_bn(x, 320, 1, 1)
        branch3x3 = conv2d_bn(x, 384, 1, 1)
        branch3x3_1 = conv2d_bn(branch3x3, 384, 1, 3)
        branch3x3_2 = conv2d_bn(branch3x3, 384, 3, 1)
        branch3x3 = layers.concatenate([branch3x3_1, branch3x3_2], axis=channel_axis,
                                       name=f"mixed9_{i}")
        branch3x3dbl = conv2d_bn(x, 448, 1, 1)
        branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3)
        branch3x3dbl_1 = conv2d_bn(branch3x3dbl, 384, 1, 3)
        branch3x3dbl_2 = conv2d_bn(branch3x3dbl, 384, 3, 1)
        branch3x3dbl = layers.concatenate([branch3x3dbl_1, branch3x3dbl_2],
                                          axis=channel_axis)
        branch_pool = conv2d_bn(avg_pool_3x3(x), 192, 1, 1)
        x = layers.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool],
                               axis=channel_axis, name=f"mixed{9 + i}")

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
        fname, origin, file_hash = ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                                    WEIGHTS_PATH, WEIGHTS_HASH)
    else:
        fname, origin, file_hash = ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                    WEIGHTS_PATH_NO_TOP, WEIGHTS_HASH_NO_TOP)
    model_parts.load_imagenet_or_file(model, weights, fname, origin, file_hash)
    return model


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding: str = "same",
              strides=(1, 1), name: str | None = None):
    """``Conv2D(filters, (num_row, num_col), use_bias=False) → BatchNormalization(scale=False)
    → ReLU``; with ``name``, the layers are ``name_conv``, ``name_bn`` and ``name``.

    (No bias, since the BatchNormalization's β shifts anyway, and no γ, since a ReLU
    follows: scaling before a ReLU can be folded into the next layer's weights.)
    """
    bn_name, conv_name = (f"{name}_bn", f"{name}_conv") if name is not None else (None, None)
    bn_axis = 1 if config.image_data_format() == "channels_first" else 3
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding,
                      use_bias=False, name=conv_name)(x)
    x = layers.BatchNormalization(axis=bn_axis, scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels from [0, 255] to [-1, 1] (``x / 127.5 - 1``), as Inception v3 was trained.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]))
        array([[[-1.,  0.,  1.]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["InceptionV3", "preprocess_input", "decode_predictions"]
