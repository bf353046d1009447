"""``initial_state=`` of LSTM, GRU, SimpleRNN and Bidirectional: finite differences of δh₀/δc₀
(float64), Keras' numbers eagerly and in graphs, the keras-io seq2seq model (training,
inference models, ``.keras`` files both ways) and the errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error

#: (class name, kwargs) of the recurrent layers given initial states.
CASES = [
    ("LSTM", {}),
    ("LSTM", {"return_sequences": True, "return_state": True}),
    ("LSTM", {"go_backwards": True, "return_sequences": True}),
    ("GRU", {"return_state": True}),
    ("GRU", {"reset_after": False, "return_sequences": True}),
    ("SimpleRNN", {"go_backwards": True, "return_state": True}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in CASES]
N, T, F, UNITS = 3, 5, 4, 6


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


@pytest.fixture
def keras64(keras_env):
    """Keras (and minired) computing in float64 for the test (restored after)."""
    with keras_env.precision("float64"):
        yield keras_env


def data(name: str, seed: int = 0, count: int | None = None):
    rng = np.random.default_rng(seed)
    count = count or (2 if name == "LSTM" else 1)
    x = rng.normal(size=(N, T, F))
    states = [rng.normal(size=(N, UNITS)) for _ in range(count)]
    return x, states


def make(library, name: str, kwargs: dict, units: int = UNITS):
    return getattr(library.layers, name)(units, **kwargs)


def randomize(layer, seed: int = 1) -> None:
    """Biases away from zero, so every term of the cell counts."""
    rng = np.random.default_rng(seed)
    layer.set_weights([w + rng.normal(0, 0.3, w.shape) for w in layer.get_weights()])


def leading_padding_mask() -> np.ndarray:
    keep = np.ones((N, T), dtype=bool)
    keep[0, :2] = False           # padding first: output 0, the states stay h₀, c₀
    keep[1, 3:] = False           # padding at the end
    keep[2] = False               # all padding: the states are h₀, c₀ throughout
    return keep


# -- finite differences (float64) ---------------------------------------------------------------

def check_gradients(layer, x, states, mask=None, seed: int = 2) -> None:
    """∂(Σ outputs ⊙ δout)/∂(x, h₀, c₀, every weight) against ``backward``."""
    outputs = layer(x, initial_state=states, mask=mask)
    flat = outputs if isinstance(outputs, list) else [outputs]
    rng = np.random.default_rng(seed)
    upstream = [rng.normal(size=o.shape) for o in flat]

    def loss() -> float:
        out = layer(x, initial_state=states, mask=mask)
        out = out if isinstance(out, list) else [out]
        return float(sum(np.sum(o * u) for o, u in zip(out, upstream, strict=True)))

    layer(x, initial_state=states, mask=mask)
    layer.zero_gradients()
    grads = layer.backward(upstream if isinstance(outputs, list) else upstream[0])
    assert isinstance(grads, list) and len(grads) == 1 + len(states)
    for array, analytic in zip([x, *states], grads, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-7
    analytic_weights = [g.copy() for g in layer.gradients]
    for weight, analytic in zip(layer.weights, analytic_weights, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, weight)) < 1e-7


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_gradients_of_the_initial_states_match_finite_differences(float64, name, kwargs):
    layer = make(mr, name, kwargs)
    x, states = data(name)
    layer(x)
    randomize(layer)
    check_gradients(layer, x, states)


@pytest.mark.parametrize(("name", "kwargs"), CASES[:4], ids=CASE_IDS[:4])
def test_gradients_with_a_mask_match_finite_differences(float64, name, kwargs):
    layer = make(mr, name, kwargs)
    x, states = data(name, seed=3)
    layer(x)
    randomize(layer)
    check_gradients(layer, x, states, mask=leading_padding_mask())


def test_bidirectional_gradients_of_both_layers_states(float64):
    layer = mr.layers.Bidirectional(mr.layers.LSTM(UNITS, return_sequences=True,
                                                   return_state=True), merge_mode="mul")
    x, states = data("LSTM", seed=4, count=4)         # [h_f, c_f, h_b, c_b]
    layer(x)
    randomize(layer)
    check_gradients(layer, x, states)


def test_a_padding_step_before_any_real_one_outputs_zero(float64):
    """Keras' rule: the output of a padding step is the previous output, 0 at the start,
    while the states stay the given ones."""
    layer = mr.layers.GRU(UNITS, return_sequences=True, return_state=True)
    x, (h0,) = data("GRU", seed=5)
    outputs, h = layer(x, initial_state=[h0], mask=leading_padding_mask())
    np.testing.assert_array_equal(outputs[0, :2], 0.0)
    np.testing.assert_array_equal(outputs[2], 0.0)
    np.testing.assert_array_equal(h[2], h0[2])


def test_float32_layers_cast_the_states():
    layer = mr.layers.LSTM(UNITS, return_state=True)
    x, states = data("LSTM", seed=17)
    outputs = layer(x.astype("float32"), initial_state=states)        # float64 states
    assert all(o.dtype == np.float32 for o in outputs)
    grads = layer.backward([None, np.ones((N, UNITS), "float32"), None])
    assert [g.dtype for g in grads] == [np.float32] * 3


def test_a_state_given_as_one_tensor_and_the_default_zeros(float64):
    layer = mr.layers.SimpleRNN(UNITS)
    x, (h0,) = data("SimpleRNN", seed=6)
    np.testing.assert_array_equal(layer(x, initial_state=h0), layer(x, initial_state=[h0]))
    np.testing.assert_array_equal(layer(x, [h0]), layer(x, initial_state=[h0]))
    np.testing.assert_array_equal(layer(x, initial_state=[np.zeros_like(h0)]), layer(x))
    assert not np.allclose(layer(x, initial_state=[h0]), layer(x))


# -- Keras' numbers -----------------------------------------------------------------------------

def keras_gradients(keras_env, twin, x, states, upstream, mask=None):
    tf = keras_env.tf
    variables = [tf.Variable(a) for a in [x, *states]]
    with tf.GradientTape() as tape:
        kwargs = {} if mask is None else {"mask": tf.constant(mask)}
        outputs = twin(variables[0], initial_state=variables[1:], **kwargs)
        flat = outputs if isinstance(outputs, list | tuple) else [outputs]
        loss = tf.add_n([tf.reduce_sum(o * u) for o, u in zip(flat, upstream, strict=True)])
    grads = tape.gradient(loss, [*variables, *twin.trainable_variables])
    return [np.asarray(o) for o in flat], [np.asarray(g) for g in grads]


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=CASE_IDS)
def test_eager_outputs_and_gradients_equal_keras(float64, keras64, name, kwargs, masked):
    keras = keras64.keras
    layer, twin = make(mr, name, kwargs), make(keras, name, kwargs)
    x, states = data(name, seed=7)
    mask = leading_padding_mask() if masked else None
    layer(x)
    randomize(layer)
    twin(x)
    twin.set_weights(layer.get_weights())
    outputs = layer(x, initial_state=states, mask=mask)
    flat = outputs if isinstance(outputs, list) else [outputs]
    rng = np.random.default_rng(8)
    upstream = [rng.normal(size=o.shape) for o in flat]
    layer.zero_gradients()
    grads = layer.backward(upstream if isinstance(outputs, list) else upstream[0])
    theirs, keras_grads = keras_gradients(keras64, twin, x, states, upstream, mask)
    for ours, expected in zip(flat, theirs, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    for ours, expected in zip([*grads, *layer.gradients], keras_grads, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize(("merge_mode", "masked"), [("concat", False), (None, False),
                                                    ("sum", True)])
def test_bidirectional_eager_equals_keras(float64, keras64, merge_mode, masked):
    keras = keras64.keras
    layer = mr.layers.Bidirectional(mr.layers.GRU(UNITS, return_sequences=True,
                                                  return_state=True), merge_mode=merge_mode)
    twin = keras.layers.Bidirectional(keras.layers.GRU(UNITS, return_sequences=True,
                                                       return_state=True),
                                      merge_mode=merge_mode)
    x, states = data("GRU", seed=9, count=2)
    layer(x)
    randomize(layer)
    twin(x)
    twin.set_weights(layer.get_weights())
    mask = leading_padding_mask() if masked else None
    outputs = layer(x, initial_state=states, mask=mask)
    rng = np.random.default_rng(10)
    upstream = [rng.normal(size=o.shape) for o in outputs]
    layer.zero_gradients()
    grads = layer.backward(upstream)
    theirs, keras_grads = keras_gradients(keras64, twin, x, states, upstream, mask)
    for ours, expected in zip(outputs, theirs, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    for ours, expected in zip([*grads, *layer.gradients], keras_grads, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-11, atol=1e-12)


# -- graphs: the keras-io character-level seq2seq model -----------------------------------------

ENCODER_TOKENS, DECODER_TOKENS, LATENT = 5, 7, 8


def seq2seq(library):
    """The keras-io training model, returning it and its layers."""
    keras = library
    encoder_inputs = keras.Input(shape=(None, ENCODER_TOKENS))
    encoder = keras.layers.LSTM(LATENT, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, DECODER_TOKENS))
    decoder_lstm = keras.layers.LSTM(LATENT, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(DECODER_TOKENS, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
    return model, (encoder_inputs, encoder_states, decoder_lstm, decoder_dense)


def inference_models(library, parts):
    """The keras-io inference models, built from the trained layers."""
    keras = library
    encoder_inputs, encoder_states, decoder_lstm, decoder_dense = parts
    encoder_model = keras.Model(encoder_inputs, encoder_states)
    decoder_inputs = keras.Input(shape=(None, DECODER_TOKENS))
    decoder_states_inputs = [keras.Input(shape=(LATENT,)), keras.Input(shape=(LATENT,))]
    decoder_outputs, state_h, state_c = decoder_lstm(decoder_inputs,
                                                     initial_state=decoder_states_inputs)
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                                [decoder_outputs, state_h, state_c])
    return encoder_model, decoder_model


def one_hot_data(n: int = 16, seed: int = 11):
    rng = np.random.default_rng(seed)
    encoder_x = np.eye(ENCODER_TOKENS)[rng.integers(0, ENCODER_TOKENS, size=(n, 6))]
    targets = rng.integers(0, DECODER_TOKENS, size=(n, 5))
    decoder_x = np.eye(DECODER_TOKENS)[np.concatenate([np.zeros((n, 1), int),
                                                       targets[:, :-1]], axis=1)]
    decoder_y = np.eye(DECODER_TOKENS)[targets]
    return encoder_x, decoder_x, decoder_y


def test_seq2seq_gradients_match_finite_differences(float64):
    """The encoder's h and c reach the loss only through the decoder: its backward gets
    [None, δh, δc] and BPTT carries them back into the encoder's weights."""
    mr.utils.set_random_seed(0)
    model, _ = seq2seq(mr)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    encoder_x, decoder_x, decoder_y = one_hot_data(n=4)
    x = [encoder_x, decoder_x]
    _, grads = model.loss_and_gradients(x, decoder_y)

    def loss() -> float:
        return float(model.loss_and_gradients(x, decoder_y)[0])

    # h = 1e-5: the gradients are ~1e-2 of a loss ~2, so with h = 1e-6 the rounding of the
    # loss (~1e-16 · 2 / h) alone is ~1e-7 of them; at 1e-5 the checks sit near 1e-8.
    for weight, analytic in zip(model.weights, grads, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, weight, h=1e-5)) < 1e-7
    assert np.abs(grads[0]).max() > 0               # the encoder's kernel is reached


def test_seq2seq_forward_and_gradients_equal_keras(float64, keras64):
    keras, tf = keras64.keras, keras64.tf
    model, _ = seq2seq(mr)
    twin, _ = seq2seq(keras)
    twin.set_weights(model.get_weights())
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    encoder_x, decoder_x, decoder_y = one_hot_data(n=6)
    x = [encoder_x, decoder_x]
    loss, grads = model.loss_and_gradients(x, decoder_y)
    with tf.GradientTape() as tape:
        predictions = twin(x)
        keras_loss = tf.reduce_mean(keras.losses.categorical_crossentropy(decoder_y,
                                                                          predictions))
    keras_grads = tape.gradient(keras_loss, twin.trainable_variables)
    np.testing.assert_allclose(model.predict(x, verbose=0), predictions.numpy(),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(loss, keras_loss.numpy(), rtol=1e-12)
    for ours, theirs in zip(grads, keras_grads, strict=True):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-10, atol=1e-13)


def test_seq2seq_training_and_inference_models_equal_keras(float64, keras64):
    keras = keras64.keras
    model, parts = seq2seq(mr)
    twin, twin_parts = seq2seq(keras)
    twin.set_weights(model.get_weights())
    for m, library in ((model, mr), (twin, keras)):
        m.compile(optimizer=library.optimizers.RMSprop(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    encoder_x, decoder_x, decoder_y = one_hot_data()
    fit = {"batch_size": 4, "epochs": 3, "shuffle": False, "verbose": 0,
           "validation_split": 0.25}
    ours = model.fit([encoder_x, decoder_x], decoder_y, **fit)
    theirs = twin.fit([encoder_x, decoder_x], decoder_y, **fit)
    assert sorted(ours.history) == sorted(theirs.history)
    for key in ours.history:
        np.testing.assert_allclose(ours.history[key], theirs.history[key], rtol=1e-10)
    for w, v in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-12)

    # keras-io's decoding loop: encode once, then feed the decoder one step at a time.
    encoder_model, decoder_model = inference_models(mr, parts)
    twin_encoder, twin_decoder = inference_models(keras, twin_parts)
    states = encoder_model.predict(encoder_x[:3], verbose=0)
    twin_states = twin_encoder.predict(encoder_x[:3], verbose=0)
    target = np.zeros((3, 1, DECODER_TOKENS))
    target[:, 0, 0] = 1.0
    for _ in range(4):
        tokens, h, c = decoder_model.predict([target, *states], verbose=0)
        expected, twin_h, twin_c = twin_decoder.predict([target, *twin_states], verbose=0)
        for a, b in ((tokens, expected), (h, twin_h), (c, twin_c)):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        target = np.eye(DECODER_TOKENS)[tokens[:, -1].argmax(axis=-1)][:, None]
        states, twin_states = [h, c], [twin_h, twin_c]


def lstm_nodes(config: dict) -> list:
    return [layer["inbound_nodes"] for layer in config["layers"]
            if layer["class_name"] == "LSTM"]


def test_seq2seq_keras_files_cross_load_both_ways(tmp_path, keras_env):
    keras = keras_env.keras
    mr.utils.set_random_seed(2)
    model, _ = seq2seq(mr)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    encoder_x, decoder_x, decoder_y = (a.astype("float32") for a in one_hot_data(n=8))
    x = [encoder_x, decoder_x]
    model.fit(x, decoder_y, epochs=1, verbose=0)
    twin, _ = seq2seq(keras)
    # The nodes as Keras writes them: the decoder call's kwargs hold initial_state only.
    ours_nodes = lstm_nodes(json.loads(json.dumps(model.get_config())))
    keras_nodes = lstm_nodes(json.loads(json.dumps(twin.get_config())))

    def history_free(nodes):
        return json.dumps(nodes).replace(model.layers[2].name, "E").replace(
            twin.layers[2].name, "E")

    assert set(ours_nodes[1][0]["kwargs"]) == set(keras_nodes[1][0]["kwargs"]) == {
        "initial_state"}
    assert ours_nodes[0][0]["kwargs"] == {"training": False, "mask": None}   # plain call
    assert keras_nodes[0][0]["kwargs"] == {"training": False, "mask": None}
    assert [[t["config"]["keras_history"][1:] for t in n[0]["kwargs"]["initial_state"]]
            for n in ours_nodes[1:]] == [[[0, 1], [0, 2]]]
    assert history_free(ours_nodes[1]).count("__keras_tensor__") == \
        history_free(keras_nodes[1]).count("__keras_tensor__") == 3

    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    loaded.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    for ours, theirs in zip(back.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)
    back.fit(x, decoder_y, epochs=1, verbose=0)           # the optimizer state came too
    again = mr.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("how", ["keyword_one_tensor", "positional_list"])
def test_a_node_records_the_states_as_keras(keras_env, how):
    """Keras keeps ``initial_state`` where and how it was given; both configs load."""
    keras = keras_env.keras

    def build(library):
        x, h = library.Input((None, F), name="x"), library.Input((UNITS,), name="h")
        layer = library.layers.GRU(UNITS, name="gru")
        y = layer(x, initial_state=h) if how == "keyword_one_tensor" else layer(x, [h])
        return library.Model([x, h], y)

    ours, theirs = build(mr), build(keras)
    node, keras_node = (m.get_config()["layers"][-1]["inbound_nodes"][0]
                        for m in (ours, theirs))
    assert json.dumps(node, sort_keys=True) == json.dumps(keras_node, sort_keys=True)
    again = mr.Model.from_config(theirs.get_config())
    x, (h0,) = data("GRU", seed=12)
    x, h0 = x.astype("float32"), h0.astype("float32")
    again.set_weights(ours.get_weights())
    np.testing.assert_array_equal(again.predict([x, h0], verbose=0),
                                  ours.predict([x, h0], verbose=0))


def test_bidirectional_in_a_graph_equals_keras_and_loads(float64, keras64, tmp_path):
    keras, tf = keras64.keras, keras64.tf

    def build(library):
        x = library.Input((None, F))
        states = [library.Input((UNITS,)) for _ in range(4)]
        y = library.layers.Bidirectional(library.layers.LSTM(UNITS))(x, initial_state=states)
        return library.Model([x, *states], library.layers.Dense(1)(y))

    model, twin = build(mr), build(keras)
    twin.set_weights(model.get_weights())
    x, states = data("LSTM", seed=13, count=4)
    y = np.random.default_rng(14).normal(size=(N, 1))
    model.compile(optimizer="sgd", loss="mse")
    loss, grads = model.loss_and_gradients([x, *states], y)
    with tf.GradientTape() as tape:
        keras_loss = tf.reduce_mean(keras.losses.mean_squared_error(y, twin([x, *states])))
    keras_grads = tape.gradient(keras_loss, twin.trainable_variables)
    np.testing.assert_allclose(loss, keras_loss.numpy(), rtol=1e-12)
    for ours, theirs in zip(grads, keras_grads, strict=True):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-10, atol=1e-13)
    node = model.get_config()["layers"][5]["inbound_nodes"][0]
    assert set(node["kwargs"]) == {"initial_state"} and len(node["kwargs"]["initial_state"]) == 4
    model.save(tmp_path / "b.keras")
    loaded = keras.saving.load_model(tmp_path / "b.keras")
    np.testing.assert_allclose(loaded.predict([x, *states], verbose=0),
                               model.predict([x, *states], verbose=0), rtol=1e-12)


def test_in_a_graph_a_call_with_initial_state_gets_no_mask_as_keras(float64, keras64):
    """Keras fills in the mask only for a call on one tensor: after Embedding(mask_zero)
    a call with initial_state runs unmasked (and its output keeps the mask)."""
    keras = keras64.keras

    def build(library):
        ids, h = library.Input((None,), dtype="int32"), library.Input((3,))
        sequence = library.layers.Embedding(10, 4, mask_zero=True)(ids)
        y = library.layers.GRU(3, return_sequences=True)(sequence, initial_state=[h])
        return library.Model([ids, h], library.layers.GlobalAveragePooling1D()(y))

    model, twin = build(mr), build(keras)
    twin.set_weights(model.get_weights())
    ids = np.array([[1, 2, 0, 0], [0, 3, 4, 5]])
    h0 = np.ones((2, 3))
    np.testing.assert_allclose(model.predict([ids, h0], verbose=0),
                               twin.predict([ids, h0], verbose=0), rtol=1e-12)


# -- errors ---------------------------------------------------------------------------------------

def test_wrong_states_are_refused_clearly():
    x = np.ones((2, 5, 3), dtype="float32")
    h, c = np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32")
    lstm = mr.layers.LSTM(4)
    with pytest.raises(ValueError, match=r"list of 2 tensor\(s\) \[h, c\].*got 1"):
        lstm(x, initial_state=[h])
    with pytest.raises(ValueError, match=r"initial_state\[1\]` must have shape \(batch, 4\)"):
        lstm(x, initial_state=[h, np.zeros((2, 5), "float32")])
    with pytest.raises(ValueError, match=r"initial_state\[0\].*got shape \(3, 4\)"):
        lstm(x, initial_state=[np.zeros((3, 4), "float32"), c])   # another batch
    with pytest.raises(ValueError, match=r"initial_state\[0\].*got shape \(4,\)"):
        lstm(x, initial_state=[np.zeros(4, "float32"), c])
    with pytest.raises(ValueError, match=r"initial_state\[0\]"):
        lstm(mr.Input((5, 3)), initial_state=[mr.Input((5,)), mr.Input((4,))])
    with pytest.raises(TypeError, match="unexpected call arguments \\['constants'\\]"):
        lstm(x, initial_state=[h, c], constants=[h])
    with pytest.raises(TypeError, match="unexpected call arguments \\['initial_state'\\]"):
        lstm(x, [h, c], initial_state=[h, c])
    with pytest.raises(TypeError, match="mix of symbolic tensors and arrays"):
        lstm(mr.Input((5, 3)), initial_state=[h, c])
    with pytest.raises(ValueError, match=r"list of 1 tensor\(s\) \[h\]"):
        mr.layers.GRU(4)(x, initial_state=[h, c])
    bidirectional = mr.layers.Bidirectional(mr.layers.LSTM(4))
    with pytest.raises(ValueError, match="must be a list of 4 tensors, the forward layer's "
                                         r"\[h, c\] then the backward layer's; got 2"):
        bidirectional(x, initial_state=[h, c])


def test_clone_model_keeps_the_initial_state(float64):
    model, _ = seq2seq(mr)
    x = list(one_hot_data(n=3)[:2])
    for clone in (mr.models.clone_model(model),
                  mr.models.clone_model(model, clone_function=lambda layer: layer)):
        clone.set_weights(model.get_weights())
        np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_inside_a_layer_of_your_own_the_tape_carries_the_states_gradients(float64):
    """A ``call`` that starts an LSTM from states it computes: the LSTM runs as one op on
    the tape, whose VJP returns [δx, δh₀, δc₀]."""
    class Seeded(mr.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.to_h = mr.layers.Dense(UNITS)
            self.to_c = mr.layers.Dense(UNITS)
            self.lstm = mr.layers.LSTM(UNITS)

        def call(self, inputs):
            summary = mr.ops.mean(inputs, axis=1)
            return self.lstm(inputs, initial_state=[self.to_h(summary), self.to_c(summary)])

    inputs = mr.Input((T, F))
    model = mr.Model(inputs, mr.layers.Dense(1)(Seeded()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x, _ = data("LSTM", seed=15)
    y = np.random.default_rng(16).normal(size=(N, 1))
    _, grads = model.loss_and_gradients(x, y)

    def loss() -> float:
        return float(model.loss_and_gradients(x, y)[0])

    for weight, analytic in zip(model.weights, grads, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, weight)) < 1e-7
    assert all(np.abs(g).max() > 0 for g in grads)    # to_h and to_c are reached
