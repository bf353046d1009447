"""Bidirectional: both directions and every merge mode, against finite differences and Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_recurrent import (
    assert_masked_call_equals_keras,
    keras_forward_and_gradients,
    legacy_paths,
    randomize,
    sequences,
    time_mask,
    weight_paths,
)

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error

MODES = ["concat", "sum", "ave", "mul", None]
OPTIONS = [{}, {"return_sequences": True}, {"return_state": True, "return_sequences": True}]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


@pytest.mark.parametrize("mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_gradients_match_finite_differences(float64, mode, name):
    rng = np.random.default_rng(0)
    x = sequences(rng)
    layer = mr.layers.Bidirectional(getattr(mr.layers, name)(3, return_sequences=True),
                                    merge_mode=mode)
    layer(x)
    randomize(layer, rng)
    results = check_layer(layer, x)
    assert len(results) == 1 + 6                 # δx, then 3 weights per direction
    for result in results:
        assert result.relative_error < 1e-7, str(result)


def test_merge_mode_none_and_states_gradients_match_finite_differences(float64):
    """Several outputs, one of them without a gradient (None), as in a graph."""
    rng = np.random.default_rng(1)
    x = sequences(rng)
    layer = mr.layers.Bidirectional(mr.layers.LSTM(3, return_state=True), merge_mode=None)
    outputs = layer(x)
    assert len(outputs) == 6                     # y, y_rev, h, c forward, h, c backward
    randomize(layer, rng)
    upstream = [rng.normal(size=o.shape) if i != 1 else None for i, o in enumerate(outputs)]

    def scalar() -> float:
        return float(sum(np.sum(o * u) for o, u in zip(layer(x), upstream, strict=True)
                         if u is not None))

    layer.zero_gradients()
    layer.forward(x)
    assert relative_error(layer.backward(upstream), numerical_gradient(scalar, x)) < 1e-7
    for weight, gradient in zip(layer.weights, layer.gradients, strict=True):
        assert relative_error(gradient, numerical_gradient(scalar, weight)) < 1e-7


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("options", OPTIONS, ids=["last", "sequences", "states"])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_forward_and_gradients_equal_keras_in_float64(keras_env, mode, options, name):
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(2)
    with keras_env.precision("float64"):
        x = sequences(rng, (4, 6, 5))
        layer = mr.layers.Bidirectional(getattr(mr.layers, name)(3, **options),
                                        merge_mode=mode)
        twin = keras.layers.Bidirectional(getattr(keras.layers, name)(3, **options),
                                          merge_mode=mode)
        layer(x)
        twin(x)
        randomize(layer, rng)
        twin.set_weights(layer.get_weights())
        layer.zero_gradients()
        outputs = layer.forward(x)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        upstream = [rng.normal(size=o.shape) for o in outputs]
        grad_x = layer.backward(upstream if len(upstream) > 1 else upstream[0])
        theirs, keras_grads = keras_forward_and_gradients(tf, twin, x, upstream)
        shapes = layer.compute_output_shape((None, 6, 5))
        keras_shapes = twin.compute_output_shape((None, 6, 5))
    for ours, keras_output in zip(outputs, theirs, strict=True):
        assert relative_error(ours, keras_output) < 1e-13
    for ours, keras_grad in zip([grad_x, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, keras_grad) < 1e-12
    keras_shapes = list(keras_shapes) if isinstance(keras_shapes[0], tuple) else keras_shapes
    assert shapes == keras_shapes


def test_names_weights_and_the_weights_argument_follow_keras(keras_env):
    keras = keras_env.keras
    layer = mr.layers.Bidirectional(mr.layers.GRU(3, name="gru"), name="bi")
    twin = keras.layers.Bidirectional(keras.layers.GRU(3, name="gru"), name="bi")
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_gru",
                                                                       "backward_gru")
    assert (twin.forward_layer.name, twin.backward_layer.name) == ("forward_gru",
                                                                     "backward_gru")
    layer.build((None, 4, 2))
    twin.build((None, 4, 2))
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in twin.weights]
    given = [np.full(w.shape, i, dtype="float32") for i, w in enumerate(layer.get_weights())]
    again = mr.layers.Bidirectional(mr.layers.GRU(3), weights=given)
    again(np.ones((1, 4, 2), dtype="float32"))
    for ours, expected in zip(again.get_weights(), given, strict=True):
        np.testing.assert_array_equal(ours, expected)


def model(library, mode="concat"):
    """The same names in both libraries (the files' paths hold them)."""
    layers = library.layers
    return library.Sequential([
        library.Input((6, 3)),
        layers.Bidirectional(layers.LSTM(4, return_sequences=True, name="lstm"),
                             merge_mode=mode, name="bi"),
        layers.Bidirectional(layers.GRU(3, name="gru"), name="bi_1"),
        layers.Dense(1, name="dense")], name="stacked")


@pytest.mark.parametrize("mode", ["concat"])
def test_three_epochs_of_fit_equal_keras(keras_env, mode):
    keras = keras_env.keras
    rng = np.random.default_rng(3)
    with keras_env.precision("float64"):
        x, y = rng.normal(size=(16, 6, 3)), rng.normal(size=(16, 1))
        ours, twin = model(mr, mode), model(keras, mode)
        assert ours.count_params() == twin.count_params()
        twin.set_weights(ours.get_weights())
        ours.compile(mr.optimizers.Adam(0.02), "mse")
        twin.compile(keras.optimizers.Adam(0.02), "mse")
        history = ours.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        keras_history = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert relative_error(np.array(history.history["loss"]),
                          np.array(keras_history.history["loss"])) < 1e-12
    for weight, keras_weight in zip(ours.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-11


def test_config_is_keras_config(keras_env):
    keras = keras_env.keras
    ours = mr.layers.Bidirectional(mr.layers.LSTM(4, return_sequences=True, dropout=0.1,
                                                  name="rnn"),
                                   merge_mode="mul", name="bi").get_config()
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True,
                                                          dropout=0.1, name="rnn"),
                                        merge_mode="mul", name="bi").get_config()
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
    again = mr.layers.Bidirectional.from_config(theirs)
    assert again.merge_mode == "mul" and again.backward_layer.go_backwards
    assert again.get_config() == ours


def test_a_saved_model_has_keras_paths_and_cross_loads_both_ways(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    x = np.random.default_rng(4).normal(size=(4, 6, 3)).astype("float32")
    ours = model(mr, "sum")
    ours.save(tmp_path / "m.keras")
    twin = model(keras, "sum")
    twin.save(tmp_path / "twin.keras")
    assert weight_paths(tmp_path / "m.keras") == weight_paths(tmp_path / "twin.keras")
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32 roundings
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    for weight, expected in zip(back.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(weight, expected)


def test_legacy_h5_has_keras_paths_and_cross_loads_both_ways(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    x = np.random.default_rng(5).normal(size=(4, 6, 3)).astype("float32")
    ours = model(mr, "mul")
    ours.save(tmp_path / "m.h5")
    keras_model = keras.saving.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32 roundings
    model(keras, "mul").save(tmp_path / "twin.h5")      # a Keras model built in Keras
    assert legacy_paths(tmp_path / "m.h5") == legacy_paths(tmp_path / "twin.h5")
    keras_model.save(tmp_path / "k.h5")
    back = mr.models.load_model(tmp_path / "k.h5")
    for weight, expected in zip(back.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(weight, expected)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Invalid merge mode"):
        mr.layers.Bidirectional(mr.layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layers.*Dense"):
        mr.layers.Bidirectional(mr.layers.Dense(2))
    with pytest.raises(ValueError, match="different `go_backwards`"):
        mr.layers.Bidirectional(mr.layers.LSTM(2), backward_layer=mr.layers.LSTM(2))
    with pytest.raises(ValueError, match='"return_sequences"'):
        mr.layers.Bidirectional(mr.layers.LSTM(2), backward_layer=mr.layers.LSTM(
            2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="expected ndim=3"):
        mr.layers.Bidirectional(mr.layers.LSTM(2))(np.ones((2, 3), dtype="float32"))


@pytest.mark.parametrize("mode", ["concat", None])
def test_a_mask_reaches_both_directions_as_keras(keras_env, mode):
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(6)
    with keras_env.precision("float64"):
        x, mask = sequences(rng, (5, 6, 3)), time_mask(rng, 5)
        layer = mr.layers.Bidirectional(mr.layers.GRU(3, return_sequences=True),
                                        merge_mode=mode)
        twin = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True),
                                          merge_mode=mode)
        assert_masked_call_equals_keras(tf, layer, twin, x, mask, rng)
