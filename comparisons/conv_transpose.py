"""Vision: the transposed convolutions, Conv1DTranspose and Conv2DTranspose.

Registered in the ``vision`` area with :mod:`comparisons.vision`'s helpers: each layer
alone (output, ``δx`` and the weights' gradients for a random ``δŷ``) over the settings
Keras allows, then a small convolutional autoencoder fitted a few epochs.

- The settings cover kernels 1-4 (odd and even), strides 1-3, ``output_padding`` None and
  every value below the stride, the bias on and off, three activations. A setting TensorFlow
  refuses ("same", an even kernel, ``output_padding=0``: the output would not map back to
  the input) is left out; minired refuses it too (``tests/test_conv_transpose.py``).
- TensorFlow's float64 transposed convolution has no CPU kernel for ``dilation_rate > 1``,
  so the dilated settings are a float32-only case.
"""

from __future__ import annotations

import itertools

import numpy as np

from comparisons.data import random_data
from comparisons.keras_env import mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import IMAGE, SEQUENCE, layer_case, layer_pairs


def transpose_settings(layer: str, padding: str, kernels: tuple, strides=(1, 2, 3),
                       dilations=(1,), input_shape: tuple = IMAGE):
    """``(label, make_layer)`` for each kernel × stride × dilation (not both above 1) ×
    output_padding (None, then 0 … stride-1), the bias on and off in turn, tanh, relu and
    linear in turn; the settings TensorFlow refuses are skipped."""

    def settings():
        out = []
        combos = [(k, s, d, op) for k, s, d in itertools.product(kernels, strides, dilations)
                  if not (s > 1 and d > 1) for op in (None, *range(s))]
        for i, (kernel, stride, dilation, output_padding) in enumerate(combos):
            use_bias, activation = i % 2 == 0, ("tanh", "relu", None)[i % 3]

            def make(k=kernel, s=stride, d=dilation, op=output_padding, b=use_bias,
                     a=activation):
                return getattr(mr.layers, layer)(
                    4, k, strides=s, padding=padding, output_padding=op, dilation_rate=d,
                    use_bias=b, activation=a, bias_initializer="random_normal")

            try:
                make().compute_output_shape((None, *input_shape))
            except ValueError:      # TensorFlow refuses these too
                continue
            out.append((f"kernel {kernel} strides {stride} dilation {dilation} "
                        f"output_padding {output_padding} "
                        f"{'bias' if use_bias else 'no bias'} {activation}", make))
        return out

    return settings


for _padding in ("valid", "same"):
    layer_case(f"conv2d_transpose_{_padding}",
               f"Conv2DTranspose padding='{_padding}': kernels 3×3, 2×3 and 4×4, strides 1-3, "
               "every output_padding.",
               transpose_settings("Conv2DTranspose", _padding, (3, (2, 3), 4)), IMAGE)
    layer_case(f"conv1d_transpose_{_padding}",
               f"Conv1DTranspose padding='{_padding}': kernels 1-4, strides 1-3, every "
               "output_padding.",
               transpose_settings("Conv1DTranspose", _padding, (1, 2, 3, 4),
                                  input_shape=SEQUENCE), SEQUENCE)


@case("vision", "conv_transpose_dilated", precisions=("float32",))
def conv_transpose_dilated(dtype):
    """Conv1DTranspose and Conv2DTranspose with dilation_rate 2 (strides 1), both paddings:
    float32 only, TensorFlow has no float64 CPU kernel for a dilated transposed convolution."""
    pairs, count = [], 0
    with precision(dtype):
        for padding in ("valid", "same"):
            for layer, kernels, shape in (("Conv2DTranspose", (3, (2, 3)), IMAGE),
                                          ("Conv1DTranspose", (2, 3), SEQUENCE)):
                settings = transpose_settings(layer, padding, kernels, strides=(1,),
                                              dilations=(2,), input_shape=shape)()
                for i, (label, make) in enumerate(settings):
                    pairs += layer_pairs(make, shape, dtype, f"{layer} {padding} {label}",
                                         seed=i)
                count += len(settings)
    return Outcome(pairs, notes=f"{count} settings")


@case("vision", "conv2d_transpose_autoencoder_fit", kind="training")
def conv2d_transpose_autoencoder_fit(dtype):
    """A convolutional autoencoder (Conv2D strided down, Conv2DTranspose strided up, an L2
    kernel penalty, a sigmoid output) fitted with Adam on binary cross-entropy: History and
    final weights."""
    with precision(dtype):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((8, 8, 1)),
            mr.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            mr.layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu",
                                      kernel_regularizer=mr.regularizers.L2(0.01)),
            mr.layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid"),
        ])
        model.compile(optimizer=mr.optimizers.Adam(0.01), loss="binary_crossentropy")
        x = np.clip(random_data(dtype, 32, (8, 8, 1)) * 0.25 + 0.5, 0, 1).astype(dtype)
        return compare_fit(model, x, x, batch_size=8)
