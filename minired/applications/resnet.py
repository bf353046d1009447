"""ResNet50, ResNet101 and ResNet152, as ``keras.applications.resnet``: residual learning.

He, Zhang, Ren & Sun, *Deep Residual Learning for Image Recognition* (CVPR 2016,
https://arxiv.org/abs/1512.03385). The idea: each block learns a *correction* F(x) to its
input and outputs ``relu(x + F(x))``; the shortcut ``x`` carries the signal, and the
gradient ``∂L/∂x = δ + δ·∂F/∂x``, straight through a hundred layers. F is a
"bottleneck": a 1×1 convolution down to ``filters`` channels, a 3×3 one, a 1×1 one up to
``4·filters``, each followed by batch normalization. The first block of a stage changes
the size (stride 2, except in conv2) and the channel count, so its shortcut is a 1×1
convolution too.

The stem (7×7 convolution with stride 2, 3×3 max pooling with stride 2) then four stages
conv2..conv5 of (3, 4, 6, 3) blocks for ResNet50, (3, 4, 23, 3) for ResNet101 and
(3, 8, 36, 3) for ResNet152. ResNetV2 (:mod:`.resnet_v2`) moves the normalization before
each convolution ("pre-activation").
"""

from __future__ import annotations

from minired import config, layers
from minired.applications import imagenet_utils
from minired.applications.model_parts import (
    KERAS_APPLICATIONS_URL,
    bn_axis,
    check_weights,
    image_input,
    load_imagenet_or_file,
    model_inputs,
)
from minired.models import Model

#: md5 of Keras' pretrained files ``<name>_weights_tf_dim_ordering_tf_kernels[_notop].h5``:
#: (with the top, without).
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
BN_EPSILON = 1.001e-5                       # every BatchNormalization of the ResNets


def ResNet(stack_fn, preact: bool, use_bias: bool, include_top: bool = True,  # noqa: N802
           weights="imagenet", input_tensor=None, input_shape: tuple | None = None,
           pooling: str | None = None, classes: int = 1000, classifier_activation="softmax",
           name: str = "resnet", weights_name: str | None = None) -> Model:
    """A ResNet around ``stack_fn``: the stem, ``stack_fn``'s stages, then the top.

    Args:
        stack_fn: a function from the stem's output to the last stage's output.
        preact: ResNetV2's pre-activation layout (no normalization after the stem's
            convolution; ``post_bn``/``post_relu`` after the last stage).
        use_bias: whether the stem's convolution has a bias.
        weights_name: the key of :data:`WEIGHTS_HASHES` whose file ``"imagenet"`` loads.

    The other arguments are :func:`ResNet50`'s.

    Example:
        >>> def stack_fn(x):
        ...     return stack_residual_blocks_v1(x, 8, 1, stride1=1, name="conv2")
        >>> model = ResNet(stack_fn, False, True, weights=None, include_top=False,
        ...                input_shape=(32, 32, 3), pooling="avg")
        >>> model.output.shape
        (None, 32)
    """
    check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)

    # The stem: 7×7/2 convolution, 3×3/2 max pooling (a 224 image becomes 56×56).
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=bn_axis(), epsilon=BN_EPSILON, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    x = stack_fn(x)

    if preact:
        x = layers.BatchNormalization(axis=bn_axis(), epsilon=BN_EPSILON, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    model = Model(model_inputs(input_tensor, img_input), x, name=name)
    if weights == "imagenet" and weights_name in WEIGHTS_HASHES:
        top = "" if include_top else "_notop"
        fname = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{top}.h5"
        load_imagenet_or_file(model, weights, fname,
                              f"{KERAS_APPLICATIONS_URL}resnet/{fname}",
                              WEIGHTS_HASHES[weights_name][0 if include_top else 1])
    elif weights is not None:
        model.load_weights(weights)
    return model


def residual_block_v1(x, filters: int, kernel_size: int = 3, stride: int = 1,
                      conv_shortcut: bool = True, name: str | None = None):
    """A bottleneck residual block: ``relu(shortcut(x) + F(x))``.

    ``F`` = 1×1 conv (``filters``, stride) → BN → ReLU → ``kernel_size`` conv → BN → ReLU
    → 1×1 conv (``4·filters``) → BN; the shortcut is ``x`` itself, or a strided 1×1 conv
    + BN to ``4·filters`` channels when ``conv_shortcut``.

    Example:
        >>> import minired as mr
        >>> residual_block_v1(mr.Input((8, 8, 16)), 4, stride=2, name="b").shape
        (None, 4, 4, 16)
    """
    axis = bn_axis()
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON,
                                             name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters: int, blocks: int, stride1: int = 2,
                             name: str | None = None):
    """One stage: a block with a convolution shortcut and stride ``stride1``, then
    ``blocks − 1`` identity-shortcut blocks (named ``{name}_block1`` ...)."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters: int, kernel_size: int = 3, stride: int = 1,
                      conv_shortcut: bool = False, name: str | None = None):
    """A pre-activation bottleneck block (ResNetV2): ``shortcut + F(relu(BN(x)))``, with
    no activation after the sum.

    ``F`` = 1×1 conv → BN → ReLU → pad 1 → ``kernel_size`` conv (stride) → BN → ReLU →
    1×1 conv (``4·filters``). The shortcut is a 1×1 conv of the pre-activation when
    ``conv_shortcut``, else ``x`` (subsampled by a 1×1 max pooling when ``stride > 1``).

    Example:
        >>> import minired as mr
        >>> residual_block_v2(mr.Input((8, 8, 16)), 4, stride=2, name="b").shape
        (None, 4, 4, 16)
    """
    axis = bn_axis()
    preact = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON,
                                       name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride,
                                 name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters: int, blocks: int, stride1: int = 2,
                             name: str | None = None):
    """One ResNetV2 stage: a block with a convolution shortcut, ``blocks − 2`` identity
    blocks, and a last block with stride ``stride1`` (V2 subsamples at the end of a stage)."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _resnet_v1(blocks: tuple, weights_name: str, **kwargs) -> Model:
    """A ResNet (v1) with ``blocks`` residual blocks in the stages conv2..conv5."""
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, blocks[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, blocks[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, blocks[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, blocks[3], name="conv5")
    return ResNet(stack_fn, preact=False, use_bias=True, weights_name=weights_name, **kwargs)


_ARGS_DOC = """
    Args:
        include_top: keep the classifier (``avg_pool`` and the dense ``predictions``).
        weights: ``None`` (random), ``"imagenet"`` (Keras' file from its cache
            ``~/.keras/models``; minired never downloads) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(H, W, 3)`` with sides of at least 32; must be ``(224, 224, 3)``
            with ``include_top`` and ImageNet weights.
        pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``.
        classes: the number of classes (1000 with ImageNet weights and the top).
        classifier_activation: the activation of ``predictions`` (``None`` gives logits).
        name: the model's name.
"""


def ResNet50(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
             input_shape: tuple | None = None, pooling: str | None = None,
             classes: int = 1000, classifier_activation="softmax",
             name: str = "resnet50") -> Model:
    """ResNet50: the stem, then (3, 4, 6, 3) bottleneck blocks in the stages conv2..conv5.

    Preprocess with :func:`preprocess_input` (``"caffe"``: BGR minus the mean pixel).

    {args}

    Example:
        >>> model = ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.output.shape, model.count_params()
        ((None, 1, 1, 2048), 23587712)
    """
    return _resnet_v1((3, 4, 6, 3), "resnet50", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def ResNet101(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
              input_shape: tuple | None = None, pooling: str | None = None,
              classes: int = 1000, classifier_activation="softmax",
              name: str = "resnet101") -> Model:
    """ResNet101: the stem, then (3, 4, 23, 3) bottleneck blocks in the stages conv2..conv5.

    Preprocess with :func:`preprocess_input` (``"caffe"``: BGR minus the mean pixel).

    {args}

    Example:
        >>> ResNet101(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        42658176
    """
    return _resnet_v1((3, 4, 23, 3), "resnet101", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def ResNet152(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
              input_shape: tuple | None = None, pooling: str | None = None,
              classes: int = 1000, classifier_activation="softmax",
              name: str = "resnet152") -> Model:
    """ResNet152: the stem, then (3, 8, 36, 3) bottleneck blocks in the stages conv2..conv5.

    Preprocess with :func:`preprocess_input` (``"caffe"``: BGR minus the mean pixel).

    {args}

    Example:
        >>> ResNet152(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
        58370944
    """
    return _resnet_v1((3, 8, 36, 3), "resnet152", include_top=include_top, weights=weights,
                      input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


for _f in (ResNet50, ResNet101, ResNet152):
    _f.__doc__ = _f.__doc__.replace("{args}", _ARGS_DOC.strip())


def preprocess_input(x, data_format: str | None = None):
    """ResNet's preprocessing: :func:`~.imagenet_utils.preprocess_input` in ``"caffe"`` mode
    (RGB → BGR, then minus ImageNet's mean pixel; no scaling).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.zeros((1, 1, 3), "float32"))
        array([[[-103.939, -116.779, -123.68 ]]], dtype=float32)
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]
