"""Orthogonality and spectral norm: OrthogonalRegularizer and SpectralNormalization beside
Keras (area ``layers``).

- ``orthogonal_regularizer_fit``: Dense(4, tanh, OrthogonalRegularizer(0.05, "rows")) →
  Dense(2, OrthogonalRegularizer(0.1, "columns")) fitted 4 epochs with SGD, batches of 4:
  the losses (penalty included), and the final weights. Keras' float32 ``factor`` cannot
  multiply float64 weights on TensorFlow, so in float64 the Keras twin's factor is given
  the same float32-rounded value as a float64 constant (what minired does);
- ``spectral_normalization``: SpectralNormalization alone around a Dense (1 and 3 power
  iterations) and a Conv2D, in training: the output (with the kernel divided by σ), ``δx``
  and the kernel's and bias' gradients for a random ``δŷ``, then the normalized kernel and
  the new ``vector_u``;
- ``spectral_normalization_fit``: SpectralNormalization(Conv2D) → Flatten →
  SpectralNormalization(Dense, 2 iterations) → Dense fitted 4 epochs with Adam, batches of
  4: the losses, and the final weights (``vector_u`` included).
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.mirror import to_keras
from comparisons.registry import Outcome, case
from comparisons.training import compare_fit
from comparisons.vision import random_data, vjp_pairs


def orthogonal_model(lib):
    regularizers = lib.regularizers
    return lib.Sequential([
        lib.Input((5,)),
        lib.layers.Dense(4, activation="tanh",
                         kernel_regularizer=regularizers.OrthogonalRegularizer(0.05)),
        lib.layers.Dense(2, kernel_regularizer=regularizers.OrthogonalRegularizer(
            0.1, mode="columns")),
    ])


@case("layers", "orthogonal_regularizer_fit", kind="training")
def orthogonal_regularizer_fit(dtype: str) -> Outcome:
    """Dense(4, tanh, OrthogonalRegularizer rows) → Dense(2, OrthogonalRegularizer columns),
    fitted 4 epochs with SGD(0.1), batches of 4: losses with the penalty, final weights."""
    with precision(dtype):
        rng = np.random.default_rng(3)
        x = rng.standard_normal((8, 5)).astype(dtype)
        y = rng.standard_normal((8, 2)).astype(dtype)
        keras_model = orthogonal_model(keras)
        if dtype == "float64":
            for layer in keras_model.layers:
                factor = float(layer.kernel_regularizer.factor)
                layer.kernel_regularizer.factor = tf.constant(factor, tf.float64)
        model = orthogonal_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.SGD(0.1), "mse")
        keras_model.compile(keras.optimizers.SGD(0.1), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)


#: ``(label, wrapped layer maker, power_iterations, input shape per sample)``.
SPECTRAL_SETTINGS = [
    ("Dense(3,tanh)", lambda: mr.layers.Dense(3, activation="tanh"), 1, (5,)),
    ("Dense(4),power_iterations=3", lambda: mr.layers.Dense(4), 3, (3, 5)),
    ("Conv2D(2,2,same)", lambda: mr.layers.Conv2D(2, 2, padding="same"), 1, (4, 3, 2)),
]


@case("layers", "spectral_normalization")
def spectral_normalization(dtype: str) -> Outcome:
    """SpectralNormalization(Dense / Conv2D) in training: outputs, δx, ∂L/∂W, ∂L/∂b, then
    the kernel divided by σ and the new vector_u."""
    pairs = []
    with precision(dtype):
        for i, (label, make, iterations, shape) in enumerate(SPECTRAL_SETTINGS):
            mr.utils.set_random_seed(i)
            layer = mr.layers.SpectralNormalization(make(), power_iterations=iterations)
            model = mr.Sequential([mr.Input(shape), layer])
            keras_model = to_keras(model)
            x = random_data(dtype, 4, shape, i)
            pairs += [(f"{label}: {name}", ours, theirs)
                      for name, ours, theirs in vjp_pairs(model, keras_model, x, training=True)]
            for name, ours, theirs in zip(("W/σ", "vector_u"), layer.get_weights()[:2],
                                          keras_model.layers[0].get_weights()[:2], strict=True):
                pairs.append((f"{label}: {name}", ours, theirs))
    return Outcome(pairs, notes=f"{len(SPECTRAL_SETTINGS)} settings")


def spectral_model(lib):
    layers = lib.layers
    return lib.Sequential([
        lib.Input((5, 4, 2)),
        layers.SpectralNormalization(layers.Conv2D(3, 2, activation="tanh")),
        layers.Flatten(),
        layers.SpectralNormalization(layers.Dense(4, activation="tanh"), power_iterations=2),
        layers.Dense(1),
    ])


@case("layers", "spectral_normalization_fit", kind="training")
def spectral_normalization_fit(dtype: str) -> Outcome:
    """SpectralNormalization(Conv2D) → Flatten → SpectralNormalization(Dense) → Dense, fitted
    4 epochs with Adam(0.01), batches of 4: losses, final weights (vector_u included)."""
    with precision(dtype):
        rng = np.random.default_rng(5)
        x = rng.standard_normal((8, 5, 4, 2)).astype(dtype)
        y = rng.standard_normal((8, 1)).astype(dtype)
        keras_model = spectral_model(keras)
        model = spectral_model(mr)
        model.set_weights(keras_model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        keras_model.compile(keras.optimizers.Adam(0.01), "mse")
        return compare_fit(model, x, y, keras_model=keras_model, epochs=4, batch_size=4)
