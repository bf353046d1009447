"""Vision: the depthwise and separable convolutions (DepthwiseConv1D/2D, SeparableConv1D/2D).

Registered in the ``vision`` area with :mod:`comparisons.vision`'s helpers: each layer
alone (output, ``δx`` and every weight's gradient for a random ``δŷ``) over the settings
Keras allows, then a small keras-io-like model (Xception/MobileNet blocks) fitted a few
epochs.

- The settings cover kernels odd and even, square and not, strides 1-2, dilation 1-2
  (both above 1 too: Keras computes it by a dilated stride-1 convolution subsampled, the
  same numbers), depth multipliers 1-3, the bias on and off, three activations.
- TensorFlow's float64 depthwise kernel takes equal strides on both axes only, so the 2-D
  settings use one stride for both; unequal strides are a float32-only case (its float32
  kernel computes them).
"""

from __future__ import annotations

import itertools

import numpy as np

from comparisons.data import random_data
from comparisons.keras_env import mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import IMAGE, SEQUENCE, layer_case, layer_pairs


def depthwise_settings(layer: str, padding: str, kernels: tuple):
    """``(label, make_layer)`` for each kernel × (strides, dilation) × depth multiplier,
    the bias on and off in turn, tanh, relu and linear in turn (separable layers: 4
    filters)."""

    def settings():
        out = []
        combos = [(1, 1), (2, 1), (1, 2), (2, 2)]
        for i, (kernel, (strides, dilation), multiplier) in enumerate(
                itertools.product(kernels, combos, (1, 2, 3))):
            use_bias, activation = i % 2 == 0, ("tanh", "relu", None)[i % 3]

            def make(k=kernel, s=strides, d=dilation, m=multiplier, b=use_bias,
                     a=activation):
                filters = (4,) if layer.startswith("Separable") else ()
                return getattr(mr.layers, layer)(
                    *filters, k, strides=s, padding=padding, dilation_rate=d,
                    depth_multiplier=m, use_bias=b, activation=a,
                    bias_initializer="random_normal")

            out.append((f"kernel {kernel} strides {strides} dilation {dilation} "
                        f"multiplier {multiplier} {'bias' if use_bias else 'no bias'} "
                        f"{activation}", make))
        return out

    return settings


for _padding in ("valid", "same"):
    for _layer, _kernels, _shape in (("DepthwiseConv2D", (3, (2, 3)), IMAGE),
                                     ("SeparableConv2D", (3, (2, 3)), IMAGE),
                                     ("DepthwiseConv1D", (2, 3), SEQUENCE),
                                     ("SeparableConv1D", (2, 3), SEQUENCE)):
        _name = _layer.replace("Conv", "_conv").lower()
        layer_case(f"{_name}_{_padding}",
                   f"{_layer} padding='{_padding}': kernels {_kernels}, strides 1-2, "
                   "dilation 1-2, depth multipliers 1-3.",
                   depthwise_settings(_layer, _padding, _kernels), _shape)


@case("vision", "depthwise_separable_unequal_strides", precisions=("float32",))
def depthwise_separable_unequal_strides(dtype):
    """DepthwiseConv2D and SeparableConv2D with strides (1, 2) and (2, 1), both paddings:
    float32 only, TensorFlow's float64 depthwise kernel refuses unequal strides."""
    pairs, count = [], 0
    with precision(dtype):
        for i, (layer, padding, strides) in enumerate(itertools.product(
                ("DepthwiseConv2D", "SeparableConv2D"), ("valid", "same"),
                ((1, 2), (2, 1)))):
            filters = (4,) if layer.startswith("Separable") else ()

            def make(layer=layer, padding=padding, strides=strides, filters=filters):
                return getattr(mr.layers, layer)(
                    *filters, (3, 2), strides=strides, padding=padding, depth_multiplier=2,
                    activation="tanh", bias_initializer="random_normal")

            pairs += layer_pairs(make, IMAGE, dtype, f"{layer} {padding} strides {strides}",
                                 seed=i)
            count += 1
    return Outcome(pairs, notes=f"{count} settings")


@case("vision", "separable_convnet_fit", kind="training")
def separable_convnet_fit(dtype):
    """A keras-io-like small model (SeparableConv2D, DepthwiseConv2D strided, a second
    SeparableConv2D with depth multiplier 2, penalties on every kind of weight, global
    average pooling, softmax) fitted with Adam: History and final weights."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((8, 8, 3)),
            mr.layers.SeparableConv2D(6, 3, padding="same", activation="relu",
                                      pointwise_regularizer=mr.regularizers.L2(0.01)),
            mr.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu",
                                      depthwise_regularizer=mr.regularizers.L2(0.01)),
            mr.layers.SeparableConv2D(4, 2, depth_multiplier=2, activation="tanh",
                                      depthwise_regularizer=mr.regularizers.L1(0.01),
                                      bias_regularizer=mr.regularizers.L2(0.01)),
            mr.layers.GlobalAveragePooling2D(),
            mr.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        x = random_data(dtype, 32, (8, 8, 3))
        y = np.eye(3, dtype=dtype)[np.random.default_rng(1).integers(0, 3, 32)]
        return compare_fit(model, x, y, batch_size=8, epochs=3)
