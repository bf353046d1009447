"""DenseNet121, DenseNet169 and DenseNet201, as ``keras.applications.densenet``.

Huang, Liu, van der Maaten & Weinberger, *Densely Connected Convolutional Networks*
(CVPR 2017, https://arxiv.org/abs/1608.06993). The idea: inside a dense block every layer
sees the feature maps of *all* the layers before it, concatenated along the channels,
``x_l = [x_0, H_1(x_0), ..., H_l(x_{l-1})]``; each ``H`` adds only ``growth_rate`` = 32
new channels (BN → ReLU → 1×1 conv to 128 → BN → ReLU → 3×3 conv to 32), so features are
reused instead of relearned. Between blocks a transition (BN → ReLU → 1×1 conv halving the
channels → 2×2 average pooling) shrinks the map. DenseNet121/169/201 have
(6, 12, 24, 16), (6, 12, 32, 32) and (6, 12, 48, 32) layers in their four dense blocks.
Images are scaled to [0, 1] then normalised per channel (:func:`preprocess_input`,
``"torch"`` mode).
"""

from __future__ import annotations

from minired import config, layers
from minired.applications import imagenet_utils
from minired.applications.model_parts import (
    KERAS_APPLICATIONS_URL,
    bn_axis,
    image_input,
    load_imagenet_or_file,
    model_inputs,
)
from minired.applications.model_parts import _is_file as _weights_file_exists
from minired.models import Model

#: Keras' pretrained files' md5: (with the top, without), by the layers per block.
WEIGHTS_HASHES = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                      "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b",
                      "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                      "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
BN_EPSILON = 1.001e-5


def dense_block(x, blocks: int, name: str):
    """``blocks`` conv blocks, each adding 32 channels (``{name}_block1`` ...).

    Example:
        >>> import minired as mr
        >>> dense_block(mr.Input((8, 8, 16)), 2, name="d").shape
        (None, 8, 8, 80)
    """
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction: float, name: str):
    """BN → ReLU → 1×1 conv to ``reduction``·channels → 2×2 average pooling (stride 2).

    Example:
        >>> import minired as mr
        >>> transition_block(mr.Input((8, 8, 16)), 0.5, name="t").shape
        (None, 4, 4, 8)
    """
    axis = bn_axis()
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[axis] * reduction), 1, use_bias=False,
                      name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate: int, name: str):
    """One layer of a dense block: ``[x, H(x)]`` with ``H`` = BN → ReLU → 1×1 conv
    (4·growth_rate) → BN → ReLU → 3×3 conv (growth_rate), concatenated on the channels.

    Example:
        >>> import minired as mr
        >>> conv_block(mr.Input((8, 8, 16)), 32, name="c").shape
        (None, 8, 8, 48)
    """
    axis = bn_axis()
    x1 = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                       name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=axis, name=f"{name}_concat")([x, x1])


def DenseNet(blocks, include_top: bool = True, weights="imagenet",  # noqa: N802
             input_tensor=None, input_shape: tuple | None = None, pooling: str | None = None,
             classes: int = 1000, classifier_activation="softmax",
             name: str = "densenet") -> Model:
    """A DenseNet with ``blocks[i]`` conv blocks in dense block i+1 (stages conv2..conv5).

    The stem (7×7/2 convolution, 3×3/2 max pooling), four dense blocks with transitions
    ``pool2``..``pool4`` between them, then BN, ReLU and the top.

    Args:
        blocks: the number of conv blocks in each of the four dense blocks.

    The other arguments are :func:`DenseNet121`'s.

    Example:
        >>> DenseNet([1, 1, 1, 1], weights=None, input_shape=(32, 32, 3), classes=3).output.shape
        (None, 3)
    """
    if config.image_data_format() == "channels_first":
        raise ValueError("DenseNet does not support the `channels_first` image data format. "
                         "Switch to `channels_last` by editing your local config file at "
                         "~/.keras/keras.json")
    if not (weights in {"imagenet", None} or _weights_file_exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path "
                         "to the weights file to be loaded.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, '
                         "`classes` should be 1000")
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)
    axis = bn_axis()

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)

    x = dense_block(x, blocks[0], name="conv2")
    x = transition_block(x, 0.5, name="pool2")
    x = dense_block(x, blocks[1], name="conv3")
    x = transition_block(x, 0.5, name="pool3")
    x = dense_block(x, blocks[2], name="conv4")
    x = transition_block(x, 0.5, name="pool4")
    x = dense_block(x, blocks[3], name="conv5")
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = Model(model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet":
        if tuple(blocks) not in WEIGHTS_HASHES:
            raise ValueError("weights_path undefined")
        weights_name, top_hash, notop_hash = WEIGHTS_HASHES[tuple(blocks)]
        top = "" if include_top else "_notop"
        fname = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{top}.h5"
        load_imagenet_or_file(model, weights, fname,
                              f"{KERAS_APPLICATIONS_URL}densenet/{fname}",
                              top_hash if include_top else notop_hash)
    elif weights is not None:
        model.load_weights(weights)
    return model


_ARGS_DOC = """Args:
        include_top: keep the classifier (``avg_pool`` and the dense ``predictions``).
        weights: ``None`` (random), ``"imagenet"`` (Keras' file from its cache
            ``~/.keras/models``; minired never downloads) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(H, W, 3)`` with sides of at least 32; must be ``(224, 224, 3)``
            with ``include_top`` and ImageNet weights.
        pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``.
        classes: the number of classes (1000 with ImageNet weights and the top).
        classifier_activation: the activation of ``predictions`` (``None`` gives logits).
        name: the model's name."""


def DenseNet121(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape: tuple | None = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation="softmax",
                name: str = "densenet121") -> Model:
    """DenseNet121: dense blocks of (6, 12, 24, 16) layers.

    Preprocess with :func:`preprocess_input` (``"torch"`` mode).

    {args}

    Example:
        >>> model = DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.output.shape, model.count_params()
        ((None, 1, 1, 1024), 7037504)
    """
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet169(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape: tuple | None = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation="softmax",
                name: str = "densenet169") -> Model:
    """DenseNet169: dense blocks of (6, 12, 32, 32) layers.

    Preprocess with :func:`preprocess_input` (``"torch"`` mode).

    {args}

    Example:
        >>> DenseNet169(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        12642880
    """
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


def DenseNet201(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
                input_shape: tuple | None = None, pooling: str | None = None,
                classes: int = 1000, classifier_activation="softmax",
                name: str = "densenet201") -> Model:
    """DenseNet201: dense blocks of (6, 12, 48, 32) layers.

    Preprocess with :func:`preprocess_input` (``"torch"`` mode).

    {args}

    Example:
        >>> DenseNet201(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        18321984
    """
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name=name)


for _f in (DenseNet121, DenseNet169, DenseNet201):
    _f.__doc__ = _f.__doc__.replace("{args}", _ARGS_DOC)


def preprocess_input(x, data_format: str | None = None):
    """DenseNet's preprocessing: :func:`~.imagenet_utils.preprocess_input` in ``"torch"``
    mode, ``(x / 255 − mean_c) / std_c`` with ImageNet's RGB means and deviations.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 3), 255.0)).round(4)
        array([[2.2489, 2.4286, 2.64  ]])
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "preprocess_input",
           "decode_predictions"]
