"""Applications (part 1): VGG, ResNet, ResNetV2 and DenseNet built in both libraries.

Each family's model is built by ``keras.applications`` and ``minired.applications`` with the
same arguments at 32×32 (the smallest size they accept), Keras' initial weights copied into
minired with every 1-D weight (biases, BatchNormalization's γ, β and moving statistics)
drawn in [0.5, 1.5] so none of them is a no-op. The images go through each family's own
``preprocess_input`` (caffe, tf or torch mode) in both libraries, then the models run in
inference mode; the outputs are compared.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case

SMALL = (32, 32, 3)


def application_pairs(dtype: str, name: str, module: str, **kwargs) -> list:
    """``name`` from both libraries (weights=None, 32×32), Keras' weights in both, two
    images preprocessed by ``module.preprocess_input``: the outputs of both models."""
    with precision(dtype):
        keras.backend.clear_session()
        mr.backend.clear_session()
        keras_model = getattr(keras.applications, name)(weights=None, input_shape=SMALL,
                                                        **kwargs)
        model = getattr(mr.applications, name)(weights=None, input_shape=SMALL, **kwargs)
        rng = np.random.default_rng(0)
        keras_model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                                 if w.ndim == 1 else w for w in keras_model.get_weights()])
        model.set_weights(keras_model.get_weights())
        pixels = np.random.default_rng(1).uniform(0, 255, (2, *SMALL)).astype(dtype)
        x_keras = getattr(keras.applications, module).preprocess_input(pixels.copy())
        x_ours = getattr(mr.applications, module).preprocess_input(pixels.copy())
        theirs = np.asarray(keras_model(x_keras, training=False))
        ours = model.predict(x_ours, verbose=0)
    return [("preprocessed images", x_ours, x_keras), ("outputs", ours, theirs)]


@case("applications", "vgg16_forward")
def vgg16_forward(dtype):
    """VGG16 with its top (Flatten, fc1, fc2, 5 classes, softmax), caffe preprocessing."""
    return Outcome(application_pairs(dtype, "VGG16", "vgg16", include_top=True, classes=5))


@case("applications", "resnet50_forward")
def resnet50_forward(dtype):
    """ResNet50 without the top, global average pooling (2048 features), caffe
    preprocessing: bottleneck blocks, convolution and identity shortcuts, BatchNorm."""
    return Outcome(application_pairs(dtype, "ResNet50", "resnet50", include_top=False,
                                     pooling="avg"))


@case("applications", "resnet50v2_forward")
def resnet50v2_forward(dtype):
    """ResNet50V2 with its top returning logits (7 classes), tf preprocessing:
    pre-activation blocks, the 1×1 max-pooling shortcuts, post_bn."""
    return Outcome(application_pairs(dtype, "ResNet50V2", "resnet_v2", include_top=True,
                                     classes=7, classifier_activation=None))


@case("applications", "densenet121_forward")
def densenet121_forward(dtype):
    """DenseNet121 without the top, global max pooling, torch preprocessing: 58 conv
    blocks concatenated, three transitions with average pooling."""
    return Outcome(application_pairs(dtype, "DenseNet121", "densenet", include_top=False,
                                     pooling="max"))
