"""ConvLSTM1D/2D/3D: forward, backpropagation through time, config and saving against Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_recurrent import keras_forward_and_gradients, randomize, weight_paths

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error

#: (class name, input shape, kwargs): every option of the loop and of the convolutions.
CASES = [
    ("ConvLSTM2D", (2, 3, 5, 5, 2), {}),
    ("ConvLSTM2D", (2, 3, 5, 5, 2), {"return_sequences": True, "padding": "same"}),
    ("ConvLSTM2D", (2, 3, 5, 5, 2), {"go_backwards": True, "return_sequences": True}),
    ("ConvLSTM2D", (2, 3, 5, 5, 2), {"return_state": True, "strides": 2, "padding": "same"}),
    ("ConvLSTM2D", (2, 3, 6, 5, 2), {"strides": (2, 1), "kernel_size": (2, 3),
                                     "go_backwards": True}),
    ("ConvLSTM2D", (2, 3, 6, 6, 2), {"dilation_rate": 2, "padding": "same",
                                     "use_bias": False, "return_state": True}),
    ("ConvLSTM2D", (2, 3, 5, 5, 2), {"unit_forget_bias": False, "activation": "softsign",
                                     "recurrent_activation": "hard_sigmoid"}),
    ("ConvLSTM1D", (2, 3, 7, 2), {"return_sequences": True, "padding": "same"}),
    ("ConvLSTM3D", (2, 2, 4, 4, 3, 2), {"return_state": True, "kernel_size": 2}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})"
            for name, _, kw in CASES]


@pytest.fixture
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def make(library, name: str, kwargs: dict):
    kwargs = {"kernel_size": 3, **kwargs}
    return getattr(library.layers, name)(2, **kwargs)


# -- finite differences (float64) --------------------------------------------------------------

@pytest.mark.parametrize(("name", "shape", "kwargs"), CASES[:7:2] + CASES[7:], ids=CASE_IDS[:7:2]
                         + CASE_IDS[7:])
def test_gradients_match_finite_differences(float64, name, shape, kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    layer = make(mr, name, {**kwargs, "return_state": False})
    layer(x)
    randomize(layer, rng)
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.weights)          # δx and every weight
    for result in results:
        assert result.relative_error < 1e-7, str(result)


def test_dropout_and_regularizer_gradients_match_finite_differences(float64):
    """Per-gate input and recurrent masks (the same masks in every pass), and penalties."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 5, 5, 2))
    layer = mr.layers.ConvLSTM2D(2, 3, padding="same", dropout=0.3, recurrent_dropout=0.4,
                                 kernel_regularizer="l2", recurrent_regularizer="l1", seed=2)
    layer(x)
    randomize(layer, rng)
    for result in check_layer(layer, x, training=True):
        assert result.relative_error < 1e-7, str(result)
    layer(x, training=True)
    assert layer.cache.input_masks.shape == (4, 2, 5, 5, 2)          # one per gate
    assert layer.cache.recurrent_masks.shape == (4, 2, 5, 5, 2)


def test_state_and_initial_state_gradients_match_finite_differences(float64):
    """δ on the output and the final states, and the gradients of [h_0, c_0]."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 5, 5, 2))
    layer = mr.layers.ConvLSTM2D(2, 3, return_state=True, return_sequences=True)
    h0, c0 = rng.normal(size=(2, 3, 3, 2)), rng.normal(size=(2, 3, 3, 2))
    outputs = layer(x, initial_state=[h0, c0])
    randomize(layer, rng)
    upstream = [rng.normal(size=o.shape) for o in outputs]

    def scalar() -> float:
        return float(sum(np.sum(o * u) for o, u in zip(layer(x, initial_state=[h0, c0]),
                                                       upstream, strict=True)))

    layer.zero_gradients()
    layer(x, initial_state=[h0, c0])
    grad_x, grad_h0, grad_c0 = layer.backward(upstream)
    for ours, wrt in ((grad_x, x), (grad_h0, h0), (grad_c0, c0),
                      *zip(layer.gradients, layer.weights, strict=True)):
        assert relative_error(ours, numerical_gradient(scalar, wrt)) < 1e-7


# -- Keras' numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "shape", "kwargs"), CASES, ids=CASE_IDS)
def test_forward_and_gradients_equal_keras_in_float64(keras_env, name, shape, kwargs):
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(3)
    with keras_env.precision("float64"):
        x = rng.normal(size=shape)
        layer, twin = make(mr, name, kwargs), make(keras, name, kwargs)
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
    for ours, keras_output in zip(outputs, theirs, strict=True):
        assert ours.shape == keras_output.shape and ours.dtype == np.float64
        assert relative_error(ours, keras_output) < 1e-13
    for ours, keras_grad in zip([grad_x, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, keras_grad) < 1e-12


def test_input_dropout_masks_are_keras_per_gate_masks(keras_env):
    """Keras' cell multiplies x_t by one mask per gate (the same at every step): its layer
    without dropout, given minired's masks through its cell, computes the same outputs."""
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    with keras_env.precision("float64"):
        x = rng.normal(size=(2, 3, 5, 5, 2))
        layer = mr.layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.25, seed=1,
                                     return_sequences=True)
        twin = keras.layers.ConvLSTM2D(2, 3, dropout=0.5, recurrent_dropout=0.25,
                                       return_sequences=True)
        layer(x)
        twin(x)
        twin.set_weights(layer.get_weights())
        outputs = layer(x, training=True)
        masks, recurrent_masks = list(layer.cache.input_masks), list(
            layer.cache.recurrent_masks)
        twin.cell.get_dropout_mask = lambda _: masks
        twin.cell.get_recurrent_dropout_mask = lambda _: recurrent_masks
        np.testing.assert_allclose(outputs, np.asarray(twin(x, training=True)),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer(x), np.asarray(twin(x)), rtol=1e-12, atol=1e-14)


def test_stateful_calls_carry_the_states_as_keras(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(5)
    with keras_env.precision("float64"):
        x1, x2 = rng.normal(size=(2, 2, 2, 4, 4, 2))
        layer = mr.layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
        twin = keras.layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
        layer(x1)
        twin(x1)
        twin.set_weights(layer.get_weights())
        layer.reset_state()
        twin.reset_state()
        for x in (x1, x2):
            np.testing.assert_allclose(layer(x), np.asarray(twin(x)), rtol=1e-12, atol=1e-14)
        layer.reset_state()
        twin.reset_state()
        np.testing.assert_allclose(layer(x2), np.asarray(twin(x2)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_initial_weights_have_keras_shapes_and_bias(keras_env, unit_forget_bias):
    keras = keras_env.keras
    x = np.ones((1, 2, 5, 5, 3), dtype="float32")
    layer = mr.layers.ConvLSTM2D(2, (3, 2), unit_forget_bias=unit_forget_bias)
    twin = keras.layers.ConvLSTM2D(2, (3, 2), unit_forget_bias=unit_forget_bias)
    layer(x)
    twin(x)
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in twin.weights]
    np.testing.assert_array_equal(layer.bias, np.asarray(twin.cell.bias))   # [0, 1, 0, 0]·F
    assert layer.count_params() == twin.count_params()


def test_float32_stays_float32():
    layer = mr.layers.ConvLSTM2D(2, 3, return_sequences=True)
    outputs = layer(np.ones((2, 3, 5, 5, 2)))
    assert outputs.dtype == np.float32
    layer.zero_gradients()
    assert layer.backward(np.ones_like(outputs)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.gradients)


# -- models: training ---------------------------------------------------------------------

def small_model(library):
    layers = library.layers
    return library.Sequential([library.Input((3, 5, 5, 2)),
                               layers.ConvLSTM2D(2, 3, padding="same", name="conv_lstm2d"),
                               layers.Flatten(name="flatten"),
                               layers.Dense(1, name="dense")], name="model")


def test_fit_trains_and_equals_keras(keras_env):
    """float64, 3 epochs of Adam from the same weights: History and every final weight."""
    keras = keras_env.keras
    rng = np.random.default_rng(6)
    with keras_env.precision("float64"):
        x = rng.normal(size=(8, 3, 5, 5, 2))
        y = np.sin(x.sum(axis=(1, 2, 3, 4)))[:, None]
        model, twin = small_model(mr), small_model(keras)
        twin.set_weights(model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        twin.compile(keras.optimizers.Adam(0.01), "mse")
        ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert ours.history["loss"][-1] < ours.history["loss"][0]
    assert relative_error(np.array(ours.history["loss"]),
                          np.array(theirs.history["loss"])) < 1e-12
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-11


# -- config and saving ----------------------------------------------------------------------

CONFIG_CASES = [
    ("ConvLSTM2D", {"strides": (2, 1), "padding": "same", "return_sequences": True,
                    "go_backwards": True, "unit_forget_bias": False,
                    "kernel_regularizer": "l2", "dropout": 0.25, "seed": 3}),
    ("ConvLSTM1D", {"dilation_rate": 2, "recurrent_activation": "hard_sigmoid",
                    "use_bias": False, "return_state": True, "stateful": True}),
    ("ConvLSTM3D", {"kernel_constraint": "non_neg", "recurrent_dropout": 0.1,
                    "activation": "relu"}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIG_CASES)
def test_config_is_keras_config(keras_env, name, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(4, 3, name="rnn", **kwargs).get_config()
    theirs = getattr(keras.layers, name)(4, 3, name="rnn", **kwargs).get_config()
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
    assert list(ours) == list(theirs)
    again = getattr(mr.layers, name).from_config(theirs)
    assert again.get_config() == ours


def test_a_saved_model_cross_loads_with_keras(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    x = np.random.default_rng(8).normal(size=(4, 3, 5, 5, 2)).astype("float32")
    model = small_model(mr)
    model.compile("adam", "mse")
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    twin = small_model(keras)
    twin.compile("adam", "mse")
    twin.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    twin.save(tmp_path / "twin.keras")
    assert weight_paths(tmp_path / "m.keras") == weight_paths(tmp_path / "twin.keras")

    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)       # float32 roundings (TF's conv)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    for ours, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    again = mr.models.load_model(tmp_path / "m.keras")       # minired's own round trip
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"data_format": "channels_first"}, "channels_last"),
    ({"padding": "causal"}, "`padding`"),
    ({"filters": 0}, "`filters`"),
    ({"kernel_size": (3, 3, 3)}, "`kernel_size`"),
    ({"strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ({"dropout": "half"}, "`dropout`"),
])
def test_bad_arguments_are_refused(kwargs, message):
    kwargs = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        mr.layers.ConvLSTM2D(**kwargs)


def test_bad_inputs_are_refused():
    layer = mr.layers.ConvLSTM2D(2, 3)
    with pytest.raises(ValueError, match="expected ndim=5"):
        layer(np.ones((2, 5, 5, 2)))
    with pytest.raises(ValueError, match="zero or negative"):
        layer(np.ones((2, 3, 2, 2, 2)))
    layer(np.ones((2, 3, 5, 5, 2)))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.ones((2, 3, 5, 5, 3)))
    with pytest.raises(ValueError, match="spatial shape"):      # Keras' cell's InputSpec
        layer(np.ones((2, 3, 6, 6, 2)))
    assert layer(np.ones((1, 4, 5, 5, 2))).shape == (1, 3, 3, 2)   # other N and T: fine
    for mask in (np.ones((2, 4), dtype=bool), np.ones((2, 3, 5, 5), dtype=bool)):
        with pytest.raises(ValueError, match="`mask` must have shape"):   # h is (3, 3)
            layer(np.ones((2, 3, 5, 5, 2)), mask=mask)
    with pytest.raises(ValueError, match="initial_state"):
        layer(np.ones((2, 3, 5, 5, 2)), initial_state=[np.zeros((2, 5, 5, 2))] * 2)


def test_legacy_h5_round_trip_and_keras_reads_it(tmp_path, keras_env):
    from test_recurrent import legacy_paths

    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    x = np.random.default_rng(9).normal(size=(4, 3, 5, 5, 2)).astype("float32")
    model = small_model(mr)
    model.save(tmp_path / "m.h5")
    again = mr.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    keras_model = keras.saving.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)       # float32 roundings (TF's conv)
    keras_model.save(tmp_path / "k.h5")
    assert legacy_paths(tmp_path / "m.h5") == legacy_paths(tmp_path / "k.h5")
    back = mr.models.load_model(tmp_path / "k.h5")
    for ours, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
