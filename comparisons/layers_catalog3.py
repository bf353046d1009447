"""EinsumDense and the adaptive poolings beside Keras (area ``layers``).

- ``einsum_dense``: each equation alone in a one-layer ``Sequential`` and its Keras twin
  (:func:`comparisons.vision.layer_pairs`): the output, ``δx`` and the kernel's and bias'
  gradients for a random ``δŷ`` ("ab,bc->ac", "abc,cd->abd", "abc,cde->abde" with a bias
  on "de", "abcd,cde->abe", "abc,cd->ad" (b summed alone), and the two ``"..."`` forms);
- ``einsum_dense_fit``: two EinsumDense layers and a Dense fitted 4 epochs with Adam;
- ``adaptive_average_pooling``, ``adaptive_max_pooling``: each layer alone, as above, for
  output sizes that divide the input and that do not (bins of two sizes, overlapping), and
  larger than the input; the 3-D layers in float32 only (TensorFlow has no float64
  AvgPool3D/MaxPool3D kernel on CPU);
- ``adaptive_pooling_fit``: Conv2D → AdaptiveMaxPooling2D → AdaptiveAveragePooling1D →
  Dense fitted 4 epochs with Adam.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import layer_pairs

#: ``(kwargs, input shape per sample)`` of each EinsumDense setting.
EINSUM_SETTINGS = [
    (dict(equation="ab,bc->ac", output_shape=4, bias_axes="c", activation="tanh"), (3,)),
    (dict(equation="abc,cd->abd", output_shape=(None, 4), bias_axes="d"), (3, 5)),
    (dict(equation="abc,cde->abde", output_shape=(3, 2, 4), bias_axes="de",
          activation="sigmoid"), (3, 5)),
    (dict(equation="abcd,cde->abe", output_shape=(3, 4), bias_axes="e"), (3, 2, 5)),
    (dict(equation="abc,cd->ad", output_shape=3), (4, 2)),
    (dict(equation="...b,bc->...c", output_shape=3, bias_axes="c"), (2, 4, 5)),
    (dict(equation="ab...,bc->ac...", output_shape=3, bias_axes="c"), (4, 2)),
]


@case("layers", "einsum_dense")
def einsum_dense(dtype: str) -> Outcome:
    """EinsumDense: 7 equations (plain, "..." on the left and on the right, a letter summed
    alone), biases over one or two output letters, with and without an activation."""
    pairs = []
    with precision(dtype):
        for i, (kwargs, shape) in enumerate(EINSUM_SETTINGS):
            pairs += layer_pairs(lambda k=kwargs: mr.layers.EinsumDense(**k), shape, dtype,
                                 f"EinsumDense({kwargs})", seed=i)
    return Outcome(pairs, notes=f"{len(EINSUM_SETTINGS)} settings")


def einsum_model(lib):
    layers = lib.layers
    return lib.Sequential([
        lib.Input((3, 4)),
        layers.EinsumDense("abc,cde->abde", (3, 2, 5), bias_axes="de", activation="tanh"),
        layers.EinsumDense("abcd,cde->abe", (3, 2), bias_axes="e"),
        layers.Flatten(),
        layers.Dense(1),
    ])


@case("layers", "einsum_dense_fit", kind="training")
def einsum_dense_fit(dtype):
    """EinsumDense("abc,cde->abde") → EinsumDense("abcd,cde->abe") → Flatten → Dense, fitted
    4 epochs with Adam, batches of 4."""
    with precision(dtype):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((8, 3, 4)).astype(dtype)
        y = rng.standard_normal((8, 1)).astype(dtype)
        keras_model = einsum_model(keras)
        model = einsum_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        keras_model.compile(keras.optimizers.Adam(0.01), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)


#: ``(dimensions, output_size, input shape per sample)`` of each adaptive pooling setting.
ADAPTIVE_SETTINGS = [(1, 3, (6, 2)), (1, 3, (7, 2)), (1, 5, (3, 2)), (2, (3, 2), (7, 5, 2)),
                     (2, 4, (4, 6, 1)), (3, (2, 3, 2), (3, 5, 4, 2))]


def adaptive_case(kind: str) -> None:
    """Register ``layers/<snake kind>``: :func:`layer_pairs` of each adaptive setting."""

    def compare(dtype: str) -> Outcome:
        pairs = []
        settings = [s for s in ADAPTIVE_SETTINGS if s[0] < 3 or dtype == "float32"]
        with precision(dtype):
            for i, (dims, size, shape) in enumerate(settings):
                layer = getattr(mr.layers, f"{kind}{dims}D")
                pairs += layer_pairs(lambda c=layer, s=size: c(s), shape, dtype,
                                     f"{kind}{dims}D({size})", seed=i)
        return Outcome(pairs, notes=f"{len(settings)} settings")

    compare.__doc__ = (f"{kind}1D/2D/3D: output sizes that divide the input, that do not, and "
                       "larger than it (3-D in float32 only: no float64 pool3d in TensorFlow).")
    name = "adaptive_average_pooling" if "Average" in kind else "adaptive_max_pooling"
    case("layers", name)(compare)


adaptive_case("AdaptiveAveragePooling")
adaptive_case("AdaptiveMaxPooling")


def pooling_model(lib):
    layers = lib.layers
    return lib.Sequential([
        lib.Input((7, 5, 2)),
        layers.Conv2D(3, 2, activation="tanh"),
        layers.AdaptiveMaxPooling2D((3, 2)),
        layers.Reshape((6, 3)),
        layers.AdaptiveAveragePooling1D(4),
        layers.Flatten(),
        layers.Dense(1),
    ])


@case("layers", "adaptive_pooling_fit", kind="training")
def adaptive_pooling_fit(dtype):
    """Conv2D → AdaptiveMaxPooling2D((3, 2)) → Reshape → AdaptiveAveragePooling1D(4) → Dense,
    fitted 4 epochs with Adam, batches of 4."""
    with precision(dtype):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((8, 7, 5, 2)).astype(dtype)
        y = rng.standard_normal((8, 1)).astype(dtype)
        keras_model = pooling_model(keras)
        model = pooling_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        keras_model.compile(keras.optimizers.Adam(0.01), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)
