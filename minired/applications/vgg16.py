"""VGG16, as ``keras.applications.vgg16``: ImageNet's plain deep stack of 3×3 convolutions.

Simonyan & Zisserman, *Very Deep Convolutional Networks for Large-Scale Image Recognition*
(ICLR 2015, https://arxiv.org/abs/1409.1556). The idea: only 3×3 convolutions ("same"
padding, ReLU), in five blocks separated by 2×2 max pooling that halves the image while the
channels double (64, 128, 256, 512, 512); two stacked 3×3 layers see a 5×5 patch, three a
7×7 one, with fewer weights and more nonlinearities. On top: Flatten and three dense layers
(4096, 4096, classes). VGG19 (:mod:`.vgg19`) has one more convolution in blocks 3 to 5.
"""

from __future__ import annotations

from minired import config, layers
from minired.applications import imagenet_utils
from minired.applications.model_parts import (
    KERAS_APPLICATIONS_URL,
    check_weights,
    image_input,
    load_imagenet_or_file,
    model_inputs,
)
from minired.models import Model

#: Keras' pretrained files: (file name in ~/.keras/models, md5) with and without the top.
WEIGHTS = {
    "vgg16": (("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
               "64373286793e3c8b2b4e3219cbf3544b"),
              ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
               "6d6bbae143d832006294945121d1f1fc")),
    "vgg19": (("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
               "cbe5617147190e668d6c5d5026f83318"),
              ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
               "253f8cb515780f3b799900260a226db6")),
}


def VGG16(include_top: bool = True, weights="imagenet", input_tensor=None,  # noqa: N802
          input_shape: tuple | None = None, pooling: str | None = None, classes: int = 1000,
          classifier_activation="softmax", name: str = "vgg16") -> Model:
    """The VGG16 network: 13 convolutions in 5 blocks, then 3 dense layers.

    Each convolution is ``a = relu(x ∗ W + b)`` with 3×3 kernels; the layer names
    (``block1_conv1`` ... ``block5_pool``, ``fc1``, ``fc2``, ``predictions``) are Keras', so
    Keras' pretrained file and ``.keras`` files load. Call :func:`preprocess_input`
    (RGB → BGR, minus ImageNet's mean pixel) on images in [0, 255] first.

    Args:
        include_top: keep the classifier (Flatten, ``fc1``, ``fc2``, ``predictions``).
        weights: ``None`` (random), ``"imagenet"`` (Keras' file from its cache
            ``~/.keras/models``; minired never downloads) or the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: ``(H, W, 3)`` with sides of at least 32; must be ``(224, 224, 3)``
            with ``include_top`` and ImageNet weights.
        pooling: without the top, ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``
            (global pooling to a vector).
        classes: the number of classes (1000 with ImageNet weights and the top).
        classifier_activation: the activation of ``predictions`` (``None`` gives logits).
        name: the model's name.

    Example:
        >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
        >>> model.output.shape, model.count_params()
        ((None, 1, 1, 512), 14714688)
    """
    return vgg(convs_per_block=(2, 2, 3, 3, 3), include_top=include_top, weights=weights,
               input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
               classes=classes, classifier_activation=classifier_activation, name=name,
               weights_name="vgg16")


def vgg(convs_per_block: tuple, include_top: bool, weights, input_tensor, input_shape,
        pooling, classes: int, classifier_activation, name: str, weights_name: str) -> Model:
    """A VGG network with ``convs_per_block[i]`` 3×3 convolutions in block i+1."""
    check_weights(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=config.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = image_input(input_tensor, input_shape)

    x = img_input
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block,
                                                 strict=True), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)

    if include_top:                                   # the classifier
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)

    model = Model(model_inputs(input_tensor, img_input), x, name=name)
    fname, file_hash = WEIGHTS[weights_name][0 if include_top else 1]
    load_imagenet_or_file(model, weights, fname, f"{KERAS_APPLICATIONS_URL}{weights_name}/"
                          f"{fname}", file_hash)
    return model


def preprocess_input(x, data_format: str | None = None):
    """VGG's preprocessing: :func:`~.imagenet_utils.preprocess_input` in ``"caffe"`` mode
    (RGB → BGR, then minus ImageNet's mean pixel; no scaling).

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 128.0, "float32")).round(3)
        array([[[[24.061, 11.221,  4.32 ]]]], dtype=float32)
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions   # the same for every ImageNet family


__all__ = ["VGG16", "preprocess_input", "decode_predictions"]
