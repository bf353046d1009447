"""Inception-ResNet v2, as ``keras.applications.InceptionResNetV2``.

Szegedy et al., *Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning* (AAAI 2017), https://arxiv.org/abs/1602.07261.

The idea: Inception modules (branches side by side, concatenated) used as the residual
branch of a ResNet block. Each **Inception-ResNet block** concatenates its branches, maps
them back to the input's width with a 1x1 convolution ``up``, and adds them to its input,
**scaled down**: ``a = relu(x + scale · up)`` with ``scale`` 0.17, 0.1 or 0.2 (the paper's
fix for very deep residual Inception networks, whose training otherwise "died"). The
network: a stem, ``mixed_5b``, 10 ``block35`` (35x35 grid), the reduction ``mixed_6a``,
20 ``block17`` (17x17), the reduction ``mixed_7a``, 10 ``block8`` (8x8) and a 1x1
convolution to 1536 channels.

Layer names, sizes and arguments are Keras', so Keras' weights and ``.keras`` files load
(the branch convolutions have Keras' automatic names, ``conv2d_<n>``..., numbered in the
order Keras creates them: build in a fresh session, after
``minired.backend.clear_session()``, for Keras' numbers).
"""

from __future__ import annotations

import numpy as np

from minired import config, layers
from minired.applications import imagenet_utils, model_parts
from minired.layers.layer import Layer
from minired.models import Model
from minired.saving import serialization_lib

BASE_WEIGHT_URL = model_parts.KERAS_APPLICATIONS_URL + "inception_resnet_v2/"
#: md5 of Keras' pretrained files
WEIGHTS_HASH, WEIGHTS_HASH_NO_TOP = ("e693bd0210a403b3192acc6073ad2e96",
                                     "d19885ff4a710c122648d3b5c3b684e4")


def InceptionResNetV2(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                      input_shape=None, pooling=None, classes: int = 1000,
                      classifier_activation="softmax",
                      name: str = "inception_resnet_v2") -> Model:
    """Build Inception-ResNet v2: a stem, 40 scaled residual Inception blocks with two
    reductions between them, a 1x1 convolution, then global pooling and a classifier.

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
        >>> model = InceptionResNetV2(input_shape=(75, 75, 3), weights=None, classes=4)
        >>> model.output.shape, model.count_params()
        ((None, 4), 54342884)
    """
    if not (weights in {"imagenet", None} or model_parts._is_file(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         "to the weights file to be loaded.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights="imagenet"` with `include_top=True`, `classes` '
                         f"should be 1000. Received classes={classes}")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=75, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = model_parts.image_input(input_tensor, input_shape)
    channel_axis = 1 if config.image_data_format() == "channels_first" else 3

    # stem: 35 x 35 x 192
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    # mixed 5b (Inception-A block): 35 x 35 x 320
    branch_0 = conv2d_bn(x, 96, 1)
    branch_1 = conv2d_bn(x, 48, 1)
    branch_1 = conv2d_bn(branch_1, 64, 5)
    branch_2 = conv2d_bn(x, 64, 1)
    branch_2 = conv2d_bn(branch_2, 96, 3)
    branch_2 = conv2d_bn(branch_2, 96, 3)
    branch_pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    branch_pool = conv2d_bn(branch_pool, 64, 1)
    x = layers.Concatenate(axis=channel_axis, name="mixed_5b")(
        [branch_0, branch_1, branch_2, branch_pool])

    # 10x block35 (Inception-ResNet-A block): 35 x 35 x 320
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # mixed 6a (Reduction-A block): 17 x 17 x 1088
    branch_0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(x, 256, 1)
    branch_1 = conv2d_bn(branch_1, 256, 3)
    branch_1 = conv2d_bn(branch_1, 384, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=channel_axis, name="mixed_6a")([branch_0, branch_1,
                                                                branch_pool])

    # 20x block17 (Inception-ResNet-B block): 17 x 17 x 1088
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # mixed 7a (Reduction-B block): 8 x 8 x 2080
    branch_0 = conv2d_bn(x, 256, 1)
    branch_0 = conv2d_bn(branch_0, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(x, 256, 1)
    branch_1 = conv2d_bn(branch_1, 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(x, 256, 1)
    branch_2 = conv2d_bn(branch_2, 288, 3)
    branch_2 = conv2d_bn(branch_2, 320, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=channel_axis, name="mixed_7a")([branch_0, branch_1,
                                                                branch_2, branch_pool])

    # 10x block8 (Inception-ResNet-C block): 8 x 8 x 2080; the last one without activation
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8",
                               block_idx=10)

    # final convolution block: 8 x 8 x 1536
    x = conv2d_bn(x, 1536, 1, name="conv_7b")

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
        fname, file_hash = ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                            WEIGHTS_HASH)
    else:
        fname, file_hash = ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                            WEIGHTS_HASH_NO_TOP)
    model_parts.load_imagenet_or_file(model, weights, fname, BASE_WEIGHT_URL + fname,
                                      file_hash)
    return model


def conv2d_bn(x, filters: int, kernel_size, strides=1, padding: str = "same",
              activation="relu", use_bias: bool = False, name: str | None = None):
    """``Conv2D`` → ``BatchNormalization(scale=False)`` (without ``use_bias``) →
    ``Activation`` (unless ``activation`` is None); with ``name``, the layers are
    ``name``, ``name_bn`` and ``name_ac``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name)(x)
    if not use_bias:
        bn_axis = 1 if config.image_data_format() == "channels_first" else 3
        bn_name = None if name is None else f"{name}_bn"
        x = layers.BatchNormalization(axis=bn_axis, scale=False, name=bn_name)(x)
    if activation is not None:
        ac_name = None if name is None else f"{name}_ac"
        x = layers.Activation(activation, name=ac_name)(x)
    return x


class CustomScaleLayer(Layer):
    """The scaled residual sum ``a = x + scale · r`` of an Inception-ResNet block, called on
    ``[x, r]`` (Keras' ``keras.src.applications.inception_resnet_v2.CustomScaleLayer``).

    Backward: ``δx = δa``, ``δr = scale · δa``.

    Args:
        scale: the factor on the residual branch ``r``.
        **kwargs: the other arguments of :class:`~minired.layers.Layer` (``name``...).

    Example:
        >>> layer = CustomScaleLayer(0.5)
        >>> layer([np.array([[1.0, 2.0]]), np.array([[4.0, -2.0]])]).tolist()
        [[3.0, 1.0]]
        >>> layer.backward(np.array([[1.0, 1.0]]))
        [array([[1., 1.]]), array([[0.5, 0.5]])]
    """

    _takes_several_inputs = True
    _keras_module = "keras.src.applications.inception_resnet_v2"
    _keras_build_config = True            # Keras writes the shapes it was built with

    def __init__(self, scale: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale = scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def forward(self, inputs: list, training: bool = False) -> np.ndarray:
        x, r = inputs
        return x + r * self.scale            # a = x + scale · r (r · scale, as Keras)

    def backward(self, grad_outputs: np.ndarray) -> list:
        return [grad_outputs, grad_outputs * self.scale]     # δx = δa, δr = scale · δa

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


serialization_lib.KERAS_INTERNAL_CLASSES[
    (CustomScaleLayer._keras_module, "CustomScaleLayer")] = CustomScaleLayer


def inception_resnet_block(x, scale: float, block_type: str, block_idx: int,
                           activation="relu"):
    """One Inception-ResNet block: ``a = activation(x + scale · up)``, where ``up`` is a 1x1
    convolution (with bias, no BatchNormalization) of the concatenated branches.

    Args:
        x: the input tensor.
        scale: the factor on the residual branch.
        block_type: ``"block35"`` (3 branches), ``"block17"`` or ``"block8"`` (2 branches
            with factored 1xn, nx1 convolutions); the names start with
            ``<block_type>_<block_idx>``.
        block_idx: the block's number, for the names.
        activation: the block's final activation (``None`` for none).
    """
    if block_type == "block35":
        branch_0 = conv2d_bn(x, 32, 1)
        branch_1 = conv2d_bn(x, 32, 1)
        branch_1 = conv2d_bn(branch_1, 32, 3)
        branch_2 = conv2d_bn(x, 32, 1)
        branch_2 = conv2d_bn(branch_2, 48, 3)
        branch_2 = conv2d_bn(branch_2, 64, 3)
        branches = [branch_0, branch_1, branch_2]
    elif block_type == "block17":
        branch_0 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(x, 128, 1)
        branch_1 = conv2d_bn(branch_1, 160, [1, 7])
        branch_1 = conv2d_bn(branch_1, 192, [7, 1])
        branches = [branch_0, branch_1]
    elif block_type == "block8":
        branch_0 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(branch_1, 224, [1, 3])
        branch_1 = conv2d_bn(branch_1, 256, [3, 1])
        branches = [branch_0, branch_1]
    else:
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", '
                         f'"block17" or "block8", but got: {block_type}')

    block_name = f"{block_type}_{block_idx}"
    channel_axis = 1 if config.image_data_format() == "channels_first" else 3
    mixed = layers.Concatenate(axis=channel_axis, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[channel_axis], 1, activation=None, use_bias=True,
                   name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def preprocess_input(x, data_format: str | None = None):
    """Scale pixels from [0, 255] to [-1, 1] (``x / 127.5 - 1``), as the network was trained.

    Example:
        >>> preprocess_input(np.array([[[0.0, 127.5, 255.0]]]))
        array([[[-1.,  0.,  1.]]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["InceptionResNetV2", "preprocess_input", "decode_predictions"]
