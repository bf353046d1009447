"""Vision: grouped convolutions (Conv1D, Conv2D and Conv3D with ``groups > 1``).

Registered in the ``vision`` area with :mod:`comparisons.vision`'s helpers:

- ``vision/grouped_conv``: each layer alone (output, ``δx`` and every weight's gradient for
  a random ``δŷ``), groups 2, 3 and C (one channel a group), over the paddings Keras allows,
  strides, dilation, the bias on and off;
- ``vision/grouped_convnet``: a small convnet of grouped Conv2D layers, its output and
  gradients (every weight and ``δx``) against Keras' tape;
- ``vision/grouped_convnet_fit``: the same convnet fitted 4 epochs with Adam from the same
  weights (History and final weights).

TensorFlow computes a grouped convolution on the CPU through XLA (its own kernel is broken
there, Keras' TensorFlow backend says); minired groups the patch matrix and multiplies the
groups in one batched matmul.
"""

from __future__ import annotations

import numpy as np

from comparisons.data import random_data
from comparisons.keras_env import mr, precision
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import layer_pairs, vjp_pairs

#: (input shape, Conv<rank>D arguments): groups 2, 3 and C, every padding, strides,
#: dilation, odd and even sizes, the bias on and off, three activations.
SETTINGS = [
    ((9, 6), dict(filters=4, kernel_size=3, groups=2)),
    ((9, 6), dict(filters=6, kernel_size=2, groups=3, padding="same", strides=2,
                  activation="tanh")),
    ((9, 4), dict(filters=4, kernel_size=3, groups=2, padding="causal", dilation_rate=2,
                  use_bias=False)),
    ((8, 3), dict(filters=6, kernel_size=2, groups=3, activation="relu")),        # G = C
    ((7, 6, 6), dict(filters=6, kernel_size=3, groups=3, padding="same")),
    ((7, 6, 4), dict(filters=4, kernel_size=(2, 3), groups=2, strides=(2, 1),
                     activation="relu")),
    ((7, 7, 6), dict(filters=6, kernel_size=2, groups=2, padding="same", dilation_rate=2,
                     use_bias=False)),
    ((6, 6, 4), dict(filters=8, kernel_size=3, groups=4, strides=2, padding="same",
                     activation="tanh")),                                          # G = C
    ((4, 5, 4, 4), dict(filters=4, kernel_size=2, groups=2, padding="same")),
    ((3, 4, 5, 6), dict(filters=6, kernel_size=(2, 2, 3), groups=3, strides=(1, 2, 1),
                        use_bias=False, activation="relu")),
]


@case("vision", "grouped_conv")
def grouped_conv(dtype):
    """Conv1D, Conv2D and Conv3D with groups 2, 3 and C alone: output, δx and the kernel's
    and bias' gradients, over paddings, strides, dilation, with and without a bias."""
    pairs = []
    with precision(dtype):
        for i, (shape, kwargs) in enumerate(SETTINGS):
            layer = f"Conv{len(shape) - 1}D"

            def make(layer=layer, kwargs=kwargs):
                return getattr(mr.layers, layer)(**kwargs, bias_initializer="random_normal")

            label = f"{layer} {', '.join(f'{k}={v}' for k, v in kwargs.items())}"
            pairs += layer_pairs(make, shape, dtype, label, seed=i)
    return Outcome(pairs, notes=f"{len(SETTINGS)} settings")


def grouped_convnet() -> mr.Model:
    """Conv2D(8, groups=2) → Conv2D(8, groups=8, strided: one channel a group) → Conv2D(6,
    groups=2) → global average pooling → Dense softmax, with an L2 penalty on a kernel."""
    return mr.Sequential([
        mr.Input((8, 8, 4)),
        mr.layers.Conv2D(8, 3, groups=2, padding="same", activation="relu",
                         kernel_regularizer=mr.regularizers.L2(0.01)),
        mr.layers.Conv2D(8, 3, groups=8, strides=2, padding="same", activation="relu"),
        mr.layers.Conv2D(6, 2, groups=2, activation="tanh"),
        mr.layers.GlobalAveragePooling2D(),
        mr.layers.Dense(3, activation="softmax"),
    ])


@case("vision", "grouped_convnet")
def grouped_convnet_step(dtype):
    """The grouped convnet whole: output and gradients (every weight and δx) for a random
    δŷ, against Keras' tape."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = grouped_convnet()
        return Outcome(vjp_pairs(model, to_keras(model), random_data(dtype, 4, (8, 8, 4))))


@case("vision", "grouped_convnet_fit", kind="training")
def grouped_convnet_fit(dtype):
    """The grouped convnet fitted 4 epochs with Adam from the same weights: History and
    final weights."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = grouped_convnet()
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        x = random_data(dtype, 32, (8, 8, 4))
        y = np.eye(3, dtype=dtype)[np.random.default_rng(1).integers(0, 3, 32)]
        return compare_fit(model, x, y, batch_size=8, epochs=4)
