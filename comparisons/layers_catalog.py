"""The small layers real scripts use, beside Keras (area ``layers``).

- Reshaping (``repeat_vector``, ``permute``, ``cropping1d``, ``cropping2d``,
  ``up_sampling1d``, ``zero_padding1d``) and ``identity``: each layer alone in a one-layer
  ``Sequential`` and its Keras twin (:func:`comparisons.vision.layer_pairs`): the output and a
  vector-Jacobian product ``δx``, for every form of its arguments.
- ``lambda``: a model ``Dense → Lambda(f) → Dense`` whose ``f`` is written with operators
  only, so both libraries run the same function: the loss and every gradient, then 5 epochs
  of ``fit``.
- ``activity_regularization``: a model with an ``ActivityRegularization`` between two Dense
  layers: the loss (the penalty divided by the batch size, as Keras) and every gradient,
  then 5 epochs of ``fit``.
- ``dot``: ``Dot([x, Dense(4)(x)])`` in a functional model, along axes 1, 2 and (2, 1),
  normalized or not: the output, ``δx`` and the Dense weights' gradients (through both
  inputs of the Dot).
- ``gaussian_noise``, ``gaussian_dropout``: at inference (the identity) and, for the noise,
  ``δx`` in training (additive noise: ``δx = δa`` whatever the draw); the draws themselves
  are judged statistically (``*_statistics``), each library's against the distribution, in
  standard errors.
"""

from __future__ import annotations

import numpy as np

from comparisons.common import gradient_pairs, twins
from comparisons.data import random_data
from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case
from comparisons.sampling import mean_z, variance_z
from comparisons.training import compare_fit
from comparisons.vision import layer_pairs, vjp_pairs

N = 6                      # samples of the model cases
FEATURES = 4


def layer_case(name: str, doc: str, layer: str, settings: list[dict], input_shape: tuple,
               training: bool = False) -> None:
    """Register ``layers/<name>``: :func:`~comparisons.vision.layer_pairs` of
    ``mr.layers.<layer>(**kwargs)`` for each ``kwargs`` of ``settings``."""

    def compare(dtype: str) -> Outcome:
        pairs = []
        with precision(dtype):
            for i, kwargs in enumerate(settings):
                pairs += layer_pairs(lambda k=kwargs: getattr(mr.layers, layer)(**k),
                                     input_shape, dtype, f"{layer}({kwargs})",
                                     training=training, seed=i)
        return Outcome(pairs, notes=f"{len(settings)} settings")

    compare.__doc__ = doc
    case("layers", name)(compare)


layer_case("repeat_vector", "RepeatVector n = 1 and 3.", "RepeatVector",
           [{"n": 1}, {"n": 3}], (5,))
layer_case("permute", "Permute (2, 1, 3), (3, 1, 2) and (1, 2, 3).", "Permute",
           [{"dims": (2, 1, 3)}, {"dims": (3, 1, 2)}, {"dims": (1, 2, 3)}], (2, 3, 4))
layer_case("cropping1d", "Cropping1D 1, (2, 0) and (0, 3).", "Cropping1D",
           [{"cropping": 1}, {"cropping": (2, 0)}, {"cropping": (0, 3)}], (7, 3))
layer_case("cropping2d", "Cropping2D 1, (2, 1), ((1, 0), (2, 3)) and ((0, 2), 1).",
           "Cropping2D", [{"cropping": 1}, {"cropping": (2, 1)},
                          {"cropping": ((1, 0), (2, 3))}, {"cropping": ((0, 2), 1)}],
           (7, 6, 3))
layer_case("up_sampling1d", "UpSampling1D size 2 and 3.", "UpSampling1D",
           [{"size": 2}, {"size": 3}], (5, 3))
layer_case("zero_padding1d", "ZeroPadding1D 1, (0, 2) and (3, 1).", "ZeroPadding1D",
           [{"padding": 1}, {"padding": (0, 2)}, {"padding": (3, 1)}], (5, 3))
layer_case("identity", "Identity of (N, 3, 4) inputs.", "Identity", [{}], (3, 4))
layer_case("gaussian_noise", "GaussianNoise(0.5) at inference: the identity.",
           "GaussianNoise", [{"stddev": 0.5, "seed": 1}], (5,))
layer_case("gaussian_dropout", "GaussianDropout(0.4) at inference: the identity.",
           "GaussianDropout", [{"rate": 0.4, "seed": 1}], (5,))


@case("layers", "gaussian_noise_training_gradient")
def gaussian_noise_training_gradient(dtype):
    """GaussianNoise(0.5) in training: δx = δa (additive noise), whatever each draws."""
    with precision(dtype):
        x = random_data(dtype, N, (5,), 0)
        upstream = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
        layer = mr.layers.GaussianNoise(0.5, seed=0)
        layer(x, training=True)
        ours = layer.backward(upstream)
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(keras.layers.GaussianNoise(0.5)(tensor, training=True)
                                  * upstream)
        theirs = tape.gradient(total, tensor).numpy()
    return Outcome([("δx", ours, theirs)])


def noise_statistics(name: str, value: float, dtype: str, seed: int) -> Outcome:
    """Each library's draws for 20,000 values: mean and variance in standard errors."""
    x = np.ones((400, 50), dtype=dtype)
    with precision(dtype):
        ours = getattr(mr.layers, name)(value, seed=seed)(x, training=True)
        theirs = np.asarray(getattr(keras.layers, name)(value, seed=seed)(x, training=True))
    if name == "GaussianNoise":
        mean, variance = 0.0, value**2
        ours, theirs = ours - 1.0, theirs - 1.0
    else:
        mean, variance = 1.0, value / (1 - value)
    pairs = []
    for library, sample in (("minired", ours), ("keras", theirs)):
        pairs.append((f"{library}: mean z", np.array(mean_z(sample, mean, variance)), 0.0))
        pairs.append((f"{library}: variance z",
                      np.array(variance_z(sample, variance, 3 * variance**2)), 0.0))
    return Outcome(pairs, notes=f"N({mean}, {variance:.4g}) draws, 20,000 each")


@case("layers", "gaussian_noise_statistics", kind="statistical")
def gaussian_noise_statistics(dtype):
    """GaussianNoise(0.3): ε ~ N(0, 0.09), mean and variance of both libraries' draws."""
    return noise_statistics("GaussianNoise", 0.3, dtype, seed=3)


@case("layers", "gaussian_dropout_statistics", kind="statistical")
def gaussian_dropout_statistics(dtype):
    """GaussianDropout(0.4): m ~ N(1, 0.4/0.6), mean and variance of both libraries' draws."""
    return noise_statistics("GaussianDropout", 0.4, dtype, seed=4)


def soft_cube(x):
    """The Lambda cases' function: operators only, so it runs in both libraries."""
    return x * x * x * 0.1 + x * 0.5


def data(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, FEATURES)).astype(dtype),
            rng.standard_normal((N, 2)).astype(dtype))


def lambda_twins():
    """``Dense(3, tanh) → Lambda(soft_cube) → Dense(2)`` in both libraries, same weights."""
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((FEATURES,)), mr.layers.Dense(3, activation="tanh"),
                           mr.layers.Lambda(soft_cube), mr.layers.Dense(2)])
    model.compile(mr.optimizers.SGD(0.1), "mse")
    keras_model = keras.Sequential([keras.Input((FEATURES,)),
                                    keras.layers.Dense(3, activation="tanh"),
                                    keras.layers.Lambda(soft_cube), keras.layers.Dense(2)])
    keras_model.set_weights(model.get_weights())
    keras_model.compile(keras.optimizers.SGD(0.1), "mse")
    return model, keras_model


@case("layers", "lambda")
def lambda_layer(dtype):
    """Dense → Lambda(x³/10 + x/2) → Dense: the loss and every gradient."""
    with precision(dtype):
        x, y = data(dtype)
        model, keras_model = lambda_twins()
        return Outcome(gradient_pairs(model, keras_model, x, y))


@case("layers", "lambda_fit", kind="training")
def lambda_fit(dtype):
    """Dense → Lambda(x³/10 + x/2) → Dense fitted 5 epochs with SGD, batches of 2."""
    with precision(dtype):
        x, y = data(dtype)
        model, keras_model = lambda_twins()
        return compare_fit(model, x, y, keras_model=keras_model, batch_size=2)


def regularized_twins():
    return twins([mr.layers.Dense(3, activation="tanh"),
                  mr.layers.ActivityRegularization(l1=0.05, l2=0.2), mr.layers.Dense(2)],
                 "mse", input_dim=FEATURES, optimizer=mr.optimizers.SGD(0.1))


@case("layers", "activity_regularization")
def activity_regularization(dtype):
    """Dense → ActivityRegularization(l1=0.05, l2=0.2) → Dense: loss (penalty / N) and every
    gradient."""
    with precision(dtype):
        x, y = data(dtype)
        model, keras_model = regularized_twins()
        return Outcome(gradient_pairs(model, keras_model, x, y))


@case("layers", "activity_regularization_fit", kind="training")
def activity_regularization_fit(dtype):
    """Dense → ActivityRegularization → Dense fitted 5 epochs with SGD, batches of 4 and 2
    (the last batch is smaller: the penalty is divided by each batch's size)."""
    with precision(dtype):
        x, y = data(dtype)
        model, _ = regularized_twins()
        return compare_fit(model, x, y, batch_size=4)



def dot_twins(axes, normalize: bool):
    """``Dot([x, Dense(4)(x)])`` (the Dense output transposed for ``axes=(2, 1)``) in both
    libraries, the same weights. (Built by hand: tests/test_mirror.py keeps Dot as its
    example of a layer the mirror does not translate.)"""
    models = []
    for library in (mr, keras):
        x = library.Input((3, 4))
        other = library.layers.Dense(4)(x)
        if axes == (2, 1):
            other = library.layers.Permute((2, 1))(other)        # (N, 3, 4) · (N, 4, 3)
        models.append(library.Model(x, library.layers.Dot(axes, normalize=normalize)(
            [x, other])))
    models[1].set_weights(models[0].get_weights())
    return models


@case("layers", "dot")
def dot(dtype):
    """Dot([x, Dense(4)(x)]) along axes 1, 2, (2, 1), with and without normalize."""
    pairs = []
    with precision(dtype):
        for i, (axes, normalize) in enumerate([(1, False), (2, True), ((2, 1), False),
                                               (1, True)]):
            mr.utils.set_random_seed(i)
            model, keras_model = dot_twins(axes, normalize)
            data = random_data(dtype, 2, (3, 4), i)
            pairs += [(f"Dot(axes={axes}, normalize={normalize}): {label}", ours, theirs)
                      for label, ours, theirs in vjp_pairs(model, keras_model, data)]
    return Outcome(pairs, notes="4 settings")
