"""Applications (part 3): EfficientNet, EfficientNetV2, ConvNeXt and NASNet in both libraries.

The smallest variant of each family is built by ``keras.applications`` and
``minired.applications`` with the same arguments at 32×32, Keras' initial weights copied
into minired with every 1-D weight (biases, BatchNormalization's γ, β and moving
statistics, EfficientNet's Normalization statistics, ConvNeXt's LayerScale γ) drawn in
[0.5, 1.5] so none of them is a no-op. The images go through each family's
``preprocess_input`` (a pass-through for the first three, whose models rescale and
normalize inside; ``"tf"`` mode for NASNet), then the models run in inference mode; the
outputs are compared.

Keras' ``Normalization`` keeps using the statistics it had when it was built (or adapted)
until its ``finalize_state()``, which Keras' weight loading calls; ``set_weights`` alone
does not, so after copying the weights Keras' layers are finalized here as a loaded file
would be (minired's layer always reads its current weights).

One more case differentiates a small ConvNeXt (a few channels, one block per stage, with
StochasticDepth in inference mode): ``model.backward`` against TensorFlow's gradients, for
the input and every weight, which covers LayerScale's and the residual ``add``'s backward.
"""

from __future__ import annotations

import numpy as np

from comparisons.applications_core import SMALL
from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.vision import vjp_pairs


def application_pairs(dtype: str, name: str, module: str, **kwargs) -> list:
    """``name`` from both libraries (weights=None, 32×32), Keras' weights (1-D ones drawn in
    [0.5, 1.5]) in both, two images preprocessed by ``module.preprocess_input``: the
    preprocessed images and the outputs of both models."""
    with precision(dtype):
        keras.backend.clear_session()
        mr.backend.clear_session()
        keras_model = getattr(keras.applications, name)(weights=None, input_shape=SMALL,
                                                        **kwargs)
        model = getattr(mr.applications, name)(weights=None, input_shape=SMALL, **kwargs)
        rng = np.random.default_rng(0)
        keras_model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                                 if w.ndim == 1 else w for w in keras_model.get_weights()])
        for layer in keras_model.layers:       # as loading a file does (see above)
            if hasattr(layer, "finalize_state"):
                layer.finalize_state()
        model.set_weights(keras_model.get_weights())
        pixels = np.random.default_rng(1).uniform(0, 255, (2, *SMALL)).astype(dtype)
        x_keras = getattr(keras.applications, module).preprocess_input(pixels.copy())
        x_ours = getattr(mr.applications, module).preprocess_input(pixels.copy())
        theirs = np.asarray(keras_model(x_keras, training=False))
        ours = model.predict(x_ours, verbose=0)
    return [("preprocessed images", x_ours, x_keras), ("outputs", ours, theirs)]


@case("applications", "efficientnetb0_forward")
def efficientnetb0_forward(dtype):
    """EfficientNetB0 without the top, global average pooling: Rescaling and Normalization
    inside, 16 MBConv blocks (depthwise convolutions, squeeze-and-excitation, swish)."""
    return Outcome(application_pairs(dtype, "EfficientNetB0", "efficientnet",
                                     include_top=False, pooling="avg"))


@case("applications", "efficientnetv2b0_forward")
def efficientnetv2b0_forward(dtype):
    """EfficientNetV2B0 with its top returning logits (6 classes): Fused-MBConv and MBConv
    blocks, the ImageNet mean/variance normalization inside."""
    return Outcome(application_pairs(dtype, "EfficientNetV2B0", "efficientnet_v2",
                                     include_top=True, classes=6, classifier_activation=None))


@case("applications", "convnext_tiny_forward")
def convnext_tiny_forward(dtype):
    """ConvNeXtTiny with its top (5 classes, softmax): 7×7 grouped convolutions,
    LayerNormalization, gelu, LayerScale, the residual add operation, nested Sequentials."""
    return Outcome(application_pairs(dtype, "ConvNeXtTiny", "convnext", include_top=True,
                                     classes=5))


@case("applications", "nasnet_mobile_forward")
def nasnet_mobile_forward(dtype):
    """NASNetMobile without the top, global max pooling, tf preprocessing: normal and
    reduction cells (separable convolutions, poolings, factorized reductions)."""
    return Outcome(application_pairs(dtype, "NASNetMobile", "nasnet", include_top=False,
                                     pooling="max"))


@case("applications", "convnext_small_gradients")
def convnext_small_gradients(dtype):
    """A ConvNeXt of 8-16 channels and one block per stage (drop_path_rate 0.2, inference):
    the output, δx and every weight's gradient for a random δŷ."""
    from keras.src.applications.convnext import ConvNeXt as KerasConvNeXt

    from minired.applications.convnext import ConvNeXt

    kwargs = {"depths": [1, 1, 1, 1], "projection_dims": [8, 8, 16, 16],
              "drop_path_rate": 0.2, "weights": None, "input_shape": SMALL, "classes": 3}
    with precision(dtype):
        keras.backend.clear_session()
        mr.backend.clear_session()
        keras_model = KerasConvNeXt(**kwargs)
        model = ConvNeXt(**kwargs)
        rng = np.random.default_rng(0)
        keras_model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
                                 if w.ndim == 1 else w for w in keras_model.get_weights()])
        model.set_weights(keras_model.get_weights())
        x = np.random.default_rng(1).uniform(0, 255, (2, *SMALL)).astype(dtype)
        pairs = vjp_pairs(model, keras_model, x)
    return Outcome(pairs)
