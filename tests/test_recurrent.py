"""LSTM, GRU and SimpleRNN: finite differences (float64), Keras' numbers, training, saving."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error

#: (class name, kwargs): every option of the time loop and of each cell.
CASES = [
    ("LSTM", {}),
    ("LSTM", {"return_sequences": True}),
    ("LSTM", {"go_backwards": True}),
    ("LSTM", {"go_backwards": True, "return_sequences": True}),
    ("LSTM", {"use_bias": False}),
    ("LSTM", {"unit_forget_bias": False, "activation": "softsign"}),
    ("GRU", {}),
    ("GRU", {"return_sequences": True, "go_backwards": True}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"reset_after": False, "return_sequences": True}),
    ("GRU", {"use_bias": False}),
    ("GRU", {"reset_after": False, "use_bias": False, "recurrent_activation": "tanh"}),
    ("SimpleRNN", {}),
    ("SimpleRNN", {"return_sequences": True}),
    ("SimpleRNN", {"go_backwards": True, "return_sequences": True}),
    ("SimpleRNN", {"use_bias": False, "activation": "sigmoid"}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in CASES]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def randomize(layer, rng, scale=0.5) -> None:
    """Weights away from their initial zeros (bias) so every term of the backward counts."""
    layer.set_weights([rng.normal(0.0, scale, w.shape) for w in layer.get_weights()])


def sequences(rng, shape=(3, 5, 4)) -> np.ndarray:
    return rng.normal(0.0, 1.0, shape)


# -- finite differences ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_gradients_match_finite_differences(float64, name, kwargs):
    rng = np.random.default_rng(0)
    x = sequences(rng)
    layer = getattr(mr.layers, name)(3, **kwargs)
    layer(x)
    randomize(layer, rng)
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.weights)          # δx and every weight
    for result in results:
        assert result.relative_error < 1e-7, str(result)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_regularized_weights_and_dropout_gradients_match_finite_differences(float64, name):
    rng = np.random.default_rng(1)
    x = sequences(rng)
    layer = getattr(mr.layers, name)(3, kernel_regularizer=mr.regularizers.L2(0.01),
                                     recurrent_regularizer="l1", bias_regularizer="l2",
                                     dropout=0.4, seed=3)
    layer(x)
    randomize(layer, rng)
    for result in check_layer(layer, x, training=True):    # the same mask in every pass
        assert result.relative_error < 1e-7, str(result)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("given", [(True, True, True), (False, True, False), (True, False, True)])
def test_return_state_gradients_match_finite_differences(float64, name, given):
    """δ on the output and on the final states (some of them None, as in a graph)."""
    rng = np.random.default_rng(2)
    x = sequences(rng)
    layer = getattr(mr.layers, name)(3, return_state=True, return_sequences=True)
    outputs = layer(x)
    randomize(layer, rng)
    upstream = [rng.normal(size=o.shape) if keep else None
                for o, keep in zip(outputs, given, strict=False)]

    def scalar() -> float:
        return float(sum(np.sum(o * u) for o, u in zip(layer(x), upstream, strict=False)
                         if u is not None))

    layer.zero_gradients()
    layer.forward(x)
    grad_x = layer.backward(upstream)
    assert relative_error(grad_x, numerical_gradient(scalar, x)) < 1e-7
    for weight, gradient in zip(layer.weights, layer.gradients, strict=True):
        assert relative_error(gradient, numerical_gradient(scalar, weight)) < 1e-7


# -- Keras' numbers -------------------------------------------------------------------------------

def keras_forward_and_gradients(tf, twin, x, upstream: list, mask=None):
    """Keras' outputs and ``[δx, ∂L/∂w...]`` of ``L = Σ outputs ⊙ upstream`` (``mask``, if
    given, passed to the call)."""
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        outputs = twin(variable) if mask is None else twin(variable, mask=tf.constant(mask))
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        loss = sum(tf.reduce_sum(o * u) for o, u in zip(outputs, upstream, strict=True))
    grads = tape.gradient(loss, [variable, *twin.trainable_variables])
    return [np.asarray(o) for o in outputs], [np.asarray(tf.convert_to_tensor(g))
                                              for g in grads]


@pytest.mark.parametrize(("name", "kwargs"),
                         [*CASES, ("LSTM", {"return_state": True}),
                          ("GRU", {"return_state": True, "return_sequences": True}),
                          ("SimpleRNN", {"return_state": True, "go_backwards": True})],
                         ids=[*CASE_IDS, "LSTM(return_state)", "GRU(return_state,seq)",
                              "SimpleRNN(return_state,backwards)"])
def test_forward_and_gradients_equal_keras_in_float64(keras_env, name, kwargs):
    """Same weights, same numbers: both compute the same formulas in float64 (the only
    differences are roundings, a few 1e-16)."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(3)
    with keras_env.precision("float64"):
        x = sequences(rng, (4, 6, 5))
        layer = getattr(mr.layers, name)(3, **kwargs)
        twin = getattr(keras.layers, name)(3, **kwargs)
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
        assert ours.dtype == np.float64
        assert relative_error(ours, keras_output) < 1e-13
    for ours, keras_grad in zip([grad_x, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, keras_grad) < 1e-12


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_input_dropout_is_one_mask_per_sequence_as_keras(keras_env, name):
    """Keras draws one input mask per call and uses it at every step (its random numbers
    differ from minired's, so its layer without dropout gets the masked inputs)."""
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    with keras_env.precision("float64"):
        x = sequences(rng, (4, 6, 5))
        layer = getattr(mr.layers, name)(3, dropout=0.5, seed=1, return_sequences=True)
        twin = getattr(keras.layers, name)(3, return_sequences=True)
        twin(x)
        layer(x)
        twin.set_weights(layer.get_weights())
        outputs = layer(x, training=True)
        mask = layer.cache.mask
        assert mask.shape == (4, 5) and set(np.unique(mask)) == {0.0, 2.0}
        np.testing.assert_allclose(outputs, np.asarray(twin(x * mask[:, None, :])),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer(x), np.asarray(twin(x)), rtol=1e-12, atol=1e-15)


def test_float32_stays_float32():
    layer = mr.layers.LSTM(4, return_sequences=True)
    outputs = layer(np.ones((2, 3, 5)))            # float64 inputs are cast, as Keras
    assert outputs.dtype == np.float32
    layer.zero_gradients()
    assert layer.backward(np.ones_like(outputs)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.gradients)


# -- models: training, shapes, summary --------------------------------------------------------

def stacked(library, dropout=0.0):
    """The same names in both libraries (the files' paths hold them)."""
    layers = library.layers
    return library.Sequential([library.Input((6, 3)),
                               layers.LSTM(5, return_sequences=True, dropout=dropout,
                                           name="lstm"),
                               layers.GRU(4, return_sequences=True, name="gru"),
                               layers.SimpleRNN(3, name="simple_rnn"),
                               layers.Dense(1, name="dense")], name="stacked")


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_three_epochs_of_fit_equal_keras(keras_env, optimizer):
    """A stacked LSTM -> GRU -> SimpleRNN -> Dense, float64: History and weights."""
    keras = keras_env.keras
    rng = np.random.default_rng(5)
    with keras_env.precision("float64"):
        x, y = rng.normal(size=(24, 6, 3)), rng.normal(size=(24, 1))
        model, twin = stacked(mr), stacked(keras)
        twin.set_weights(model.get_weights())
        kwargs = {"learning_rate": 0.05}
        model.compile(getattr(mr.optimizers, optimizer)(**kwargs), "mse")
        twin.compile(getattr(keras.optimizers, optimizer)(**kwargs), "mse")
        ours = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert relative_error(np.array(ours.history["loss"]),
                          np.array(theirs.history["loss"])) < 1e-12
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-11


def test_float32_fit_follows_keras(keras_env):
    """The default precision: float32 roundings differ (TF's matmul order): measured 1e-7
    on the losses and 1e-6 on the weights after 2 epochs, so the tolerances are float32's
    (1e-6 and 1e-5), not 1e-12."""
    keras = keras_env.keras
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(32, 6, 3)).astype("float32"), rng.normal(size=(32, 1))
    mr.utils.set_random_seed(6)         # the same weights on every run: measured 0 on the
    model, twin = stacked(mr), stacked(keras)       # losses and 2.4e-6 on the weights
    twin.set_weights(model.get_weights())
    model.compile(mr.optimizers.Adam(0.01), "mse")
    twin.compile(keras.optimizers.Adam(0.01), "mse")
    ours = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    theirs = twin.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-6)
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-5


def test_functional_return_state_shapes_and_param_counts_equal_keras(keras_env):
    keras = keras_env.keras

    def build(library):
        inputs = library.Input((7, 4))
        sequence, h, c = library.layers.LSTM(6, return_sequences=True,
                                             return_state=True)(inputs)
        last, state = library.layers.GRU(3, return_state=True, reset_after=False)(sequence)
        outputs = library.layers.Concatenate()([last, state, h, c])
        return library.Model(inputs, library.layers.Dense(2)(outputs))

    model, twin = build(mr), build(keras)
    assert [layer.count_params() for layer in model.layers] == \
           [layer.count_params() for layer in twin.layers]
    lstm = model.layers[1]
    assert lstm.compute_output_shape((None, 7, 4)) == [(None, 7, 6), (None, 6), (None, 6)]
    twin.set_weights(model.get_weights())
    x = np.random.default_rng(7).normal(size=(5, 7, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), twin.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)     # float32 roundings
    model.compile("adam", "mse")                         # the states get their gradients
    model.fit(x, np.zeros((5, 2)), epochs=1, verbose=0)


# -- config and saving ----------------------------------------------------------------------------

CONFIG_CASES = [
    ("LSTM", {"return_sequences": True, "go_backwards": True, "unit_forget_bias": False,
              "kernel_regularizer": "l2", "dropout": 0.25, "seed": 3, "unroll": True}),
    ("GRU", {"reset_after": False, "return_state": True, "recurrent_activation": "hard_sigmoid",
             "bias_regularizer": "l1", "use_cudnn": False}),
    ("SimpleRNN", {"activation": "relu", "use_bias": False, "seed": 2}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIG_CASES)
def test_config_is_keras_config(keras_env, name, kwargs):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(4, name="rnn", **kwargs).get_config()
    theirs = getattr(keras.layers, name)(4, name="rnn", **kwargs).get_config()
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(theirs))
    assert list(ours) == list(theirs)
    again = getattr(mr.layers, name).from_config(theirs)
    assert again.get_config() == ours


def weight_paths(archive) -> list[str]:
    import h5py

    with zipfile.ZipFile(archive) as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
        paths = []
        f.visititems(lambda path, item: paths.append(path) if hasattr(item, "shape") else None)
    return sorted(p for p in paths if not p.startswith("optimizer"))


def test_a_saved_model_has_keras_paths_and_cross_loads_both_ways(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    x = np.random.default_rng(8).normal(size=(4, 6, 3)).astype("float32")
    model = stacked(mr, dropout=0.2)
    model.compile("adam", "mse")
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    twin = stacked(keras, dropout=0.2)
    twin.compile("adam", "mse")
    twin.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    twin.save(tmp_path / "twin.keras")
    assert weight_paths(tmp_path / "m.keras") == weight_paths(tmp_path / "twin.keras")

    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_model.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    for ours, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert back.layers[0].dropout == 0.2
    again = mr.models.load_model(tmp_path / "m.keras")       # minired's own round trip
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_legacy_h5_round_trip_and_keras_reads_it(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(1)
    x = np.random.default_rng(9).normal(size=(4, 6, 3)).astype("float32")
    model = stacked(mr)
    model.save(tmp_path / "m.h5")
    again = mr.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    keras_model = keras.saving.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    keras_model.save(tmp_path / "k.h5")
    assert legacy_paths(tmp_path / "m.h5") == legacy_paths(tmp_path / "k.h5")
    back = mr.models.load_model(tmp_path / "k.h5")
    for ours, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def legacy_paths(filepath) -> list[str]:
    """The weights' paths in a legacy .h5 file (``…/lstm/lstm_cell/kernel`` in Keras')."""
    import h5py

    with h5py.File(filepath) as f:
        paths = []
        f["model_weights"].visititems(
            lambda path, item: paths.append(path) if hasattr(item, "shape") else None)
    return sorted(paths)


# -- refused input ---------------------------------------------------------------------------

def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match=r"expected ndim=3.*found ndim=2"):
        mr.layers.LSTM(4)(np.ones((2, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"expected ndim=3.*found ndim=2"):
        mr.Sequential([mr.Input((5,)), mr.layers.GRU(4)])
    layer = mr.layers.SimpleRNN(4)
    layer(np.ones((2, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"axis -1 of input shape to have value 3"):
        layer(np.ones((2, 5, 2), dtype="float32"))
    with pytest.raises(ValueError, match="no time steps"):
        layer(np.ones((2, 0, 3), dtype="float32"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"recurrent_dropout": "high"}, "recurrent_dropout"),
    ({"use_cudnn": "yes"}, "use_cudnn"),
    ({"units": 0}, "units"),
    ({"dropout": "high"}, "dropout"),
])
def test_unsupported_arguments_are_refused(kwargs, message):
    kwargs = {"units": 4, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        mr.layers.LSTM(**kwargs)


def test_unknown_call_arguments_and_bad_masks_are_refused():
    layer = mr.layers.LSTM(4)        # initial_state: tests/test_recurrent_initial_state.py
    x = np.ones((2, 5, 3), dtype="float32")
    with pytest.raises(TypeError, match="constants"):
        layer(x, constants=[np.zeros((2, 4))])
    with pytest.raises(ValueError, match="mask"):        # masks come with the tensors
        layer(mr.Input((5, 3)), mask=np.ones((2, 5), dtype=bool))
    with pytest.raises(ValueError, match="`mask` must have"):
        layer(x, mask=np.ones((2, 4), dtype=bool))
    assert layer(x, mask=None).shape == (2, 4)          # no mask: as Keras


# -- masks (given in the call; minired does not propagate them between layers) -------------

def time_mask(rng, n: int = 4, steps: int = 6) -> np.ndarray:
    """Padding at the end, at the start, scattered, none, and a sequence all padding."""
    mask = np.ones((n, steps), dtype=bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    mask[2] = rng.random(steps) < 0.5
    if n > 4:
        mask[4] = False
    return mask


MASK_CASES = [
    ("LSTM", {}), ("LSTM", {"return_sequences": True}),
    ("LSTM", {"go_backwards": True, "return_sequences": True, "return_state": True}),
    ("LSTM", {"return_sequences": True, "zero_output_for_mask": True}),
    ("GRU", {"return_sequences": True}), ("GRU", {"reset_after": False, "go_backwards": True}),
    ("GRU", {"zero_output_for_mask": True}),
    ("SimpleRNN", {"return_sequences": True, "zero_output_for_mask": True}),
    ("SimpleRNN", {"return_state": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), MASK_CASES)
def test_a_mask_keeps_the_states_as_keras(keras_env, name, kwargs):
    """A masked step keeps the previous states and outputs (zeros with
    zero_output_for_mask), forward and backward, as Keras with the same explicit mask."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(10)
    with keras_env.precision("float64"):
        x, mask = sequences(rng, (5, 6, 3)), time_mask(rng, 5)
        layer = getattr(mr.layers, name)(3, **kwargs)
        twin = getattr(keras.layers, name)(3, **kwargs)
        assert_masked_call_equals_keras(tf, layer, twin, x, mask, rng)


def assert_masked_call_equals_keras(tf, layer, twin, x, mask, rng) -> None:
    """Same random weights in both; ``layer(x, mask=mask)``'s outputs, ``δx`` and weight
    gradients for a random ``δa`` equal Keras' (float64: roundings only)."""
    layer(x)
    twin(x)
    randomize(layer, rng)
    twin.set_weights(layer.get_weights())
    layer.zero_gradients()
    outputs = layer(x, mask=mask)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    upstream = [rng.normal(size=o.shape) for o in outputs]
    grad_x = layer.backward(upstream if len(upstream) > 1 else upstream[0])
    theirs, keras_grads = keras_forward_and_gradients(tf, twin, x, upstream, mask)
    for ours, keras_output in zip(outputs, theirs, strict=True):
        assert relative_error(ours, keras_output) < 1e-13
    for ours, keras_grad in zip([grad_x, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, keras_grad) < 1e-12


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_masked_gradients_match_finite_differences(float64, name):
    rng = np.random.default_rng(11)
    x, mask = sequences(rng, (4, 6, 3)), time_mask(rng)
    layer = getattr(mr.layers, name)(3, return_sequences=True)
    layer(x)
    randomize(layer, rng)
    upstream = rng.normal(size=(4, 6, 3))

    def scalar() -> float:
        return float(np.sum(layer(x, mask=mask) * upstream))

    layer.zero_gradients()
    layer(x, mask=mask)
    grad_x = layer.backward(upstream)
    assert relative_error(grad_x, numerical_gradient(scalar, x)) < 1e-7
    assert np.all(grad_x[0, 4:] == 0)                   # padding steps get no δx
    for weight, gradient in zip(layer.weights, layer.gradients, strict=True):
        assert relative_error(gradient, numerical_gradient(scalar, weight)) < 1e-7


def test_a_mask_from_embedding_flows_through_stacked_layers_as_keras(keras_env):
    """Embedding(mask_zero=True) -> Bidirectional(LSTM) -> GRU -> SimpleRNN -> Dense: the
    mask reaches every recurrent layer (compute_mask passes it along the sequences);
    predictions and 3 epochs of SGD equal Keras' in float64."""
    keras = keras_env.keras
    rng = np.random.default_rng(12)
    x = rng.integers(1, 20, size=(6, 8))
    x[0, 5:], x[1, :3], x[2, ::2] = 0, 0, 0                # padding: end, start, scattered

    def build(library, mask_zero=True):
        layers = library.layers
        return library.Sequential([
            library.Input((8,), dtype="int32"), layers.Embedding(20, 5, mask_zero=mask_zero),
            layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
            layers.GRU(3, return_sequences=True), layers.SimpleRNN(2), layers.Dense(1)])

    with keras_env.precision("float64"):
        y = rng.normal(size=(6, 1))
        model, twin = build(mr), build(keras)
        twin.set_weights(model.get_weights())
        assert relative_error(model.predict(x, verbose=0), twin.predict(x, verbose=0)) < 1e-13
        unmasked = build(mr, mask_zero=False)                 # the same weights, no mask
        unmasked.set_weights(model.get_weights())
        assert relative_error(model.predict(x, verbose=0),
                              unmasked.predict(x, verbose=0)) > 1e-3      # the mask matters
        model.compile(mr.optimizers.SGD(0.1, momentum=0.5), "mse")
        twin.compile(keras.optimizers.SGD(0.1, momentum=0.5), "mse")
        ours = model.fit(x, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=3, shuffle=False, verbose=0)
    assert relative_error(np.array(ours.history["loss"]),
                          np.array(theirs.history["loss"])) < 1e-12
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-11
