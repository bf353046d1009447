"""GaussianNoise, GaussianDropout, ActivityRegularization and Identity beside Keras: the noise
judged statistically (in standard errors), gradients, penalties, configs and saved files."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minired as mr
from comparisons.sampling import mean_z, variance_z
from minired.gradcheck import check_layer

X = np.random.default_rng(0).normal(size=(4, 5))
Y = np.random.default_rng(1).normal(size=(4, 2))
Z_BOUND = 5.0        # a 5-sigma test: a correct sampler fails it with probability 6e-7


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- the noise, statistically ----------------------------------------------------------------

@pytest.mark.parametrize("stddev", [0.05, 0.3, 1.0])
def test_gaussian_noise_has_mean_0_and_variance_stddev_squared(stddev):
    layer = mr.layers.GaussianNoise(stddev, seed=3)
    x = np.full((400, 50), 2.0, dtype="float32")
    noise = layer(x, training=True).astype(np.float64) - 2.0
    assert abs(mean_z(noise, 0.0, stddev**2)) < Z_BOUND
    assert abs(variance_z(noise, stddev**2, 3 * stddev**4)) < Z_BOUND


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_gaussian_dropout_factors_have_mean_1_and_variance_rate_over_1_minus_rate(rate):
    layer = mr.layers.GaussianDropout(rate, seed=4)
    m = layer(np.ones((400, 50), dtype="float32"), training=True).astype(np.float64)
    variance = rate / (1 - rate)
    assert abs(mean_z(m, 1.0, variance)) < Z_BOUND
    assert abs(variance_z(m, variance, 3 * variance**2)) < Z_BOUND


@pytest.mark.parametrize(("name", "value"), [("GaussianNoise", 0.4), ("GaussianDropout", 0.3)])
def test_keras_draws_pass_the_same_statistical_test(keras_env, name, value):
    keras = keras_env.keras
    x = np.ones((400, 50), dtype="float32")
    theirs = np.asarray(getattr(keras.layers, name)(value, seed=1)(x, training=True))
    if name == "GaussianNoise":
        sample, mean, variance = theirs - 1.0, 0.0, value**2
    else:
        sample, mean, variance = theirs, 1.0, value / (1 - value)
    assert abs(mean_z(sample, mean, variance)) < Z_BOUND
    assert abs(variance_z(sample, variance, 3 * variance**2)) < Z_BOUND


@pytest.mark.parametrize("make", [lambda: mr.layers.GaussianNoise(0.5, seed=0),
                                  lambda: mr.layers.GaussianDropout(0.5, seed=0)])
def test_noise_is_identity_at_inference_new_at_each_call_and_seeded(make):
    x = X.astype("float32")
    layer = make()
    assert layer(x) is x and layer(x, training=False) is x
    first, second = layer(x, training=True), layer(x, training=True)
    assert first.dtype == np.float32 and not np.array_equal(first, second)
    np.testing.assert_array_equal(make()(x, training=True), first)


def test_seedless_noise_layers_are_reproducible_with_set_random_seed():
    x = X.astype("float32")
    mr.utils.set_random_seed(7)
    a = mr.layers.GaussianNoise(0.5)(x, training=True)
    mr.utils.set_random_seed(7)
    np.testing.assert_array_equal(mr.layers.GaussianNoise(0.5)(x, training=True), a)


# -- gradients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: mr.layers.GaussianNoise(0.5, seed=0),
    lambda: mr.layers.GaussianDropout(0.4, seed=0),
    lambda: mr.layers.ActivityRegularization(l1=0.3, l2=0.7),
    lambda: mr.layers.ActivityRegularization(l2=0.2),
    mr.layers.Identity,
])
@pytest.mark.parametrize("training", [False, True])
def test_gradients_match_finite_differences(float64, make, training):
    results = check_layer(make(), X, training=training)
    assert max(r.relative_error for r in results) < 1e-7


def test_backward_formulas():
    x = X.astype("float32")
    upstream = np.random.default_rng(2).normal(size=x.shape).astype("float32")
    noise = mr.layers.GaussianNoise(0.5, seed=0)
    noise(x, training=True)
    np.testing.assert_array_equal(noise.backward(upstream), upstream)          # δx = δa
    dropout = mr.layers.GaussianDropout(0.5, seed=0)
    out = dropout(x, training=True)
    np.testing.assert_array_equal(out, x * dropout.mask)
    np.testing.assert_array_equal(dropout.backward(upstream), upstream * dropout.mask)


def test_activity_regularization_penalty_and_gradient_equal_keras(keras_env, float64):
    keras, tf = keras_env.keras, keras_env.tf
    upstream = np.random.default_rng(3).normal(size=X.shape)
    with keras_env.precision("float64"):
        layer = mr.layers.ActivityRegularization(l1=0.3, l2=0.7)
        out = layer(X)
        penalty = float(layer.losses[0])
        grad = layer.backward(upstream)
        twin = keras.layers.ActivityRegularization(l1=0.3, l2=0.7)
        tensor = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            k_out = twin(tensor)
            total = tf.reduce_sum(k_out * upstream) + tf.add_n(twin.losses)
        k_grad = tape.gradient(total, tensor).numpy()
    # Keras rounds the coefficients to float32 (TensorFlow's cast of a Python float).
    l1, l2 = float(np.float32(0.3)), float(np.float32(0.7))
    expected = (l1 * np.abs(X).sum() + l2 * np.square(X).sum()) / len(X)
    np.testing.assert_array_equal(out, X)
    np.testing.assert_allclose(penalty, float(twin.losses[0]), rtol=1e-14)
    np.testing.assert_allclose(penalty, expected, rtol=1e-14)
    np.testing.assert_allclose(grad, k_grad, rtol=1e-13, atol=1e-15)


def test_noise_gradients_in_training_equal_keras_where_keras_is_deterministic(keras_env):
    """GaussianNoise's δx does not depend on the draw (additive): equal to Keras' own."""
    keras, tf = keras_env.keras, keras_env.tf
    upstream = np.random.default_rng(3).normal(size=X.shape)
    with keras_env.precision("float64"):
        layer = mr.layers.GaussianNoise(0.5, seed=0)
        layer(X, training=True)
        ours = layer.backward(upstream)
        tensor = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(keras.layers.GaussianNoise(0.5)(tensor, training=True)
                                  * upstream)
    np.testing.assert_array_equal(ours, tape.gradient(total, tensor).numpy())


def test_models_with_these_layers_train_as_in_keras(keras_env, tmp_path):
    """At inference the noise layers are the identity; in a fit with noise the draws differ,
    so the model is fitted with the noise layers at 0 and an ActivityRegularization."""
    keras = keras_env.keras
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([
            mr.Input((5,)), mr.layers.Dense(4, activation="tanh"),
            mr.layers.GaussianNoise(0.0), mr.layers.ActivityRegularization(l1=0.01, l2=0.05),
            mr.layers.GaussianDropout(0.0), mr.layers.Identity(), mr.layers.Dense(2)])
        model.compile(mr.optimizers.SGD(0.1), "mse")
        model.save(tmp_path / "m.keras")
        twin = keras.saving.load_model(tmp_path / "m.keras")
        ours = model.fit(X, Y, epochs=5, batch_size=2, shuffle=False, verbose=0)
        theirs = twin.fit(X, Y, epochs=5, batch_size=2, shuffle=False, verbose=0)
        np.testing.assert_allclose(model.evaluate(X, Y, verbose=0),
                                   twin.evaluate(X, Y, verbose=0), rtol=1e-12)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-12, atol=1e-14)


# -- configs and files --------------------------------------------------------------------------

CONFIGS = [("GaussianNoise", {"stddev": 0.2, "seed": 3}), ("GaussianNoise", {"stddev": 0.1}),
           ("GaussianDropout", {"rate": 0.25}), ("ActivityRegularization", {"l1": 0.1}),
           ("ActivityRegularization", {"l1": 0.1, "l2": 0.02}), ("Identity", {})]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_config_equals_keras(keras_env, name, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(name="layer", **kwargs).get_config()
    theirs = getattr(keras.layers, name)(name="layer", **kwargs).get_config()
    assert ours == theirs
    assert getattr(mr.layers, name).from_config(theirs).get_config() == ours


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_saved_models_cross_load_with_keras(keras_env, tmp_path, name, kwargs):
    keras = keras_env.keras
    x = X.astype("float32")
    model = mr.Sequential([mr.Input((5,)), getattr(mr.layers, name)(**kwargs),
                           mr.layers.Dense(2)])
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert theirs.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    keras_model = keras.Sequential([keras.Input((5,)), getattr(keras.layers, name)(**kwargs),
                                    keras.layers.Dense(2)])
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].get_config() == keras_model.layers[0].get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: mr.layers.GaussianNoise(1.5), ValueError, "Expected a float value between 0 and 1"),
    (lambda: mr.layers.GaussianNoise(-0.1), ValueError, "Received: stddev=-0.1"),
    (lambda: mr.layers.GaussianNoise("0.1"), TypeError, "`stddev` must be a float"),
    (lambda: mr.layers.GaussianDropout(2), ValueError, "Received: rate=2"),
    (lambda: mr.layers.GaussianDropout(1), ValueError, "`rate` must be below 1"),
    (lambda: mr.layers.GaussianDropout(0.5, seed=1.5), TypeError, "`seed` must be an int"),
    (lambda: mr.layers.ActivityRegularization(l1=-1), ValueError, "expected a non-negative"),
    (lambda: mr.layers.ActivityRegularization(l2="0.1"), ValueError, "`l2`: expected a non-neg"),
    (lambda: mr.layers.Identity(units=3), ValueError, "Unrecognized keyword arguments"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_penalty_is_normalized_by_the_batch_size():
    layer = mr.layers.ActivityRegularization(l2=1.0)
    layer(np.ones((2, 3), dtype="float32"))
    two = float(layer.losses[0])
    layer(np.ones((8, 3), dtype="float32"))
    assert two == float(layer.losses[0]) == 3.0
    assert math.isfinite(two)
