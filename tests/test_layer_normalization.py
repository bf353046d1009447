"""LayerNormalization: each sample's own statistics, against finite differences and Keras."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer

SETTINGS = [{}, {"epsilon": 1e-6}, {"axis": [1, 2]}, {"axis": 1}, {"center": False},
            {"scale": False}, {"gamma_regularizer": "l2", "beta_regularizer": "l1"}]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def random_weights(layer, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(1.0, 0.5, w.shape) for w in layer.get_weights()])


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
def test_backward_matches_finite_differences(float64, kwargs):
    layer = mr.layers.LayerNormalization(**kwargs)
    # not the seed of check_layer's δa (0): δa = (x - 2)/3 would be a multiple of x̂
    x = np.random.default_rng(7).normal(2.0, 3.0, size=(4, 3, 5))
    layer.build((None, 3, 5))
    random_weights(layer)
    for result in check_layer(layer, x):
        assert result.relative_error < 1e-7, result


def test_each_sample_is_normalized_alone(float64):
    """μ = 0 and σ² = 1/(1 + ε/σ²) for every row whatever the others hold; training and
    inference give the same numbers."""
    x = np.array([[1.0, 2.0, 3.0, 4.0], [100.0, -100.0, 0.0, 50.0]])
    layer = mr.layers.LayerNormalization(epsilon=1e-6)
    a = layer(x)
    np.testing.assert_allclose(a.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(a.var(axis=1), x.var(axis=1) / (x.var(axis=1) + 1e-6),
                               rtol=1e-12)
    np.testing.assert_array_equal(layer(x[:1]), a[:1])
    np.testing.assert_array_equal(layer(x, training=True), a)


@pytest.mark.parametrize("kwargs", SETTINGS, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_outputs_and_gradients_equal_keras(keras_env, kwargs, dtype):
    keras, tf = keras_env.keras, keras_env.tf
    x = np.random.default_rng(2).normal(1.0, 2.0, size=(4, 3, 5)).astype(dtype)
    upstream = np.random.default_rng(3).normal(size=x.shape).astype(dtype)
    with keras_env.precision(dtype):
        ours = mr.layers.LayerNormalization(**kwargs)
        theirs = keras.layers.LayerNormalization(**kwargs)
        ours.build((None, 3, 5))
        theirs.build((None, 3, 5))
        random_weights(ours)
        theirs.set_weights(ours.get_weights())
        a = ours.forward(x)
        ours.zero_gradients()
        grad_x = ours.backward(upstream)
        tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            total = tf.reduce_sum(theirs(tensor) * upstream)
        expected = tape.gradient(total, [tensor, *theirs.trainable_variables])
    # relative to the largest value: float64 leaves roundings only; float32 the same formula
    # summed in another order by TensorFlow (measured ~3e-7), so float32's 1e-5 step bound
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    scale = np.abs(theirs(tf.constant(x)).numpy()).max()
    np.testing.assert_allclose(a, theirs(tf.constant(x)).numpy(), rtol=0, atol=tolerance * scale)
    for ours_g, theirs_g in zip([grad_x, *ours.trainable_gradients], expected, strict=True):
        np.testing.assert_allclose(ours_g, theirs_g.numpy(), rtol=0,
                                   atol=tolerance * np.abs(theirs_g.numpy()).max())


def transformer_like(lib):
    inputs = lib.Input((6, 4))
    h = lib.layers.Dense(4, activation="relu")(inputs)
    h = lib.layers.LayerNormalization(epsilon=1e-6)(lib.layers.Add()([inputs, h]))
    outputs = lib.layers.Dense(1)(lib.layers.GlobalAveragePooling1D()(h))
    return lib.Model(inputs, outputs)


def test_a_residual_block_trains_as_in_keras(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(20, 6, 4)), rng.normal(size=(20, 1))
    with keras_env.precision("float64"):
        ours, theirs = transformer_like(mr), transformer_like(keras)
        ours.set_weights(theirs.get_weights())
        ours.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        theirs.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        kwargs = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
        history = ours.fit(x, y, **kwargs).history["loss"]
        expected = theirs.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(w, v, rtol=1e-10, atol=1e-13)


def test_config_and_files_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    ours = mr.layers.LayerNormalization(axis=[-2, -1], epsilon=1e-6, center=False,
                                        gamma_regularizer="l2")
    theirs = keras.layers.LayerNormalization(axis=[-2, -1], epsilon=1e-6, center=False,
                                             gamma_regularizer="l2")

    def config(layer):
        return {k: v for k, v in layer.get_config().items() if k != "name"}

    assert config(ours) == config(theirs)
    ours.build((None, 3, 5))
    theirs.build((None, 3, 5))
    assert config(ours) == config(theirs)          # axis a sorted list once built
    model = mr.Sequential([mr.Input((3, 5)), mr.layers.LayerNormalization(epsilon=1e-6)])
    random_weights(model.layers[0])
    model.save(tmp_path / "ours.keras")
    x = np.random.default_rng(5).normal(size=(2, 3, 5)).astype("float32")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    loaded.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_arguments_and_inputs_are_refused():
    with pytest.raises(TypeError, match="'axis'"):
        mr.layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="rms_scaling"):
        mr.layers.LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        mr.layers.LayerNormalization(axis=3)(np.ones((2, 4)))
    layer = mr.layers.LayerNormalization()
    layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(np.ones((2, 5)))
