"""Applications (part 2): MobileNet, MobileNetV2, MobileNetV3, Xception, InceptionV3 and
InceptionResNetV2 built in both libraries.

Each model is built by ``keras.applications`` and ``minired.applications`` with the same
arguments at the smallest size it accepts (32×32 for the MobileNets, 71 for Xception, 75
for the Inceptions), Keras' initial weights copied into minired with every 1-D weight
(biases, BatchNormalization's γ, β and moving statistics) drawn in [0.5, 1.5] so none of
them is a no-op. The images go through each family's ``preprocess_input`` in both
libraries (MobileNetV3 rescales inside the model), then the models run in inference mode;
the outputs are compared.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case


def application_pairs(dtype: str, name: str, module: str, side: int, **kwargs) -> list:
    """``name`` from both libraries (weights=None, ``side``×``side``), Keras' weights in
    both, two images preprocessed by ``module.preprocess_input``: the outputs of both."""
    shape = (side, side, 3)
    with precision(dtype):
        # fresh automatic names; no garbage collection (it takes longer than the model)
        keras.backend.clear_session(free_memory=False)
        mr.backend.clear_session(free_memory=False)
        keras_model = getattr(keras.applications, name)(weights=None, input_shape=shape,
                                                        **kwargs)
        model = getattr(mr.applications, name)(weights=None, input_shape=shape, **kwargs)
        rng = np.random.default_rng(0)
        keras_model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                                 if w.ndim == 1 else w for w in keras_model.get_weights()])
        model.set_weights(keras_model.get_weights())
        pixels = np.random.default_rng(1).uniform(0, 255, (2, *shape)).astype(dtype)
        x_keras = getattr(keras.applications, module).preprocess_input(pixels.copy())
        x_ours = getattr(mr.applications, module).preprocess_input(pixels.copy())
        theirs = np.asarray(keras_model(x_keras, training=False))
        ours = model.predict(x_ours, verbose=0)
    return [("preprocessed images", x_ours, x_keras), ("outputs", ours, theirs)]


@case("applications", "mobilenet_forward")
def mobilenet_forward(dtype):
    """MobileNet (alpha 0.25) with its top (1×1 conv classifier, 5 classes, softmax):
    depthwise separable blocks, ReLU6, the stride-2 zero padding."""
    return Outcome(application_pairs(dtype, "MobileNet", "mobilenet", 32, alpha=0.25,
                                     classes=5))


@case("applications", "mobilenetv2_forward")
def mobilenetv2_forward(dtype):
    """MobileNetV2 (alpha 0.35) without the top, global average pooling: inverted
    residual blocks, linear bottlenecks, correct_pad padding."""
    return Outcome(application_pairs(dtype, "MobileNetV2", "mobilenet_v2", 32, alpha=0.35,
                                     include_top=False, pooling="avg"))


@case("applications", "mobilenetv3small_forward")
def mobilenetv3small_forward(dtype):
    """MobileNetV3Small (alpha 0.75) returning logits (4 classes): Rescaling inside,
    hard-swish, squeeze-and-excite with Keras' ``x + 3``, ``* 1/6`` operations."""
    return Outcome(application_pairs(dtype, "MobileNetV3Small", "mobilenet_v3", 32,
                                     alpha=0.75, classes=4, classifier_activation=None))


@case("applications", "mobilenetv3large_forward")
def mobilenetv3large_forward(dtype):
    """MobileNetV3Large without the top, global max pooling (960 features): 15 blocks,
    5×5 depthwise kernels, squeeze-and-excite."""
    return Outcome(application_pairs(dtype, "MobileNetV3Large", "mobilenet_v3", 32,
                                     include_top=False, pooling="max"))


@case("applications", "xception_forward")
def xception_forward(dtype):
    """Xception at 71×71 without the top, global average pooling (2048 features):
    separable convolutions, residual shortcuts (strided 1×1 and identity)."""
    return Outcome(application_pairs(dtype, "Xception", "xception", 71, include_top=False,
                                     pooling="avg"))


@case("applications", "inceptionv3_forward")
def inceptionv3_forward(dtype):
    """InceptionV3 at 75×75 with its top (3 classes, softmax): Inception modules mixed0
    to mixed10, factored 1×n / n×1 convolutions, BatchNormalization without γ."""
    return Outcome(application_pairs(dtype, "InceptionV3", "inception_v3", 75, classes=3))


@case("applications", "inceptionresnetv2_forward")
def inceptionresnetv2_forward(dtype):
    """InceptionResNetV2 at 75×75 without the top, global max pooling (1536 features):
    40 Inception-ResNet blocks, residuals scaled by CustomScaleLayer."""
    return Outcome(application_pairs(dtype, "InceptionResNetV2", "inception_resnet_v2", 75,
                                     include_top=False, pooling="max"))
