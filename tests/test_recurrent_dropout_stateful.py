"""recurrent_dropout and stateful=True in LSTM, GRU and SimpleRNN.

Keras' random draws cannot be matched, so recurrent dropout is checked as the input dropout
is: its Keras twin is handed minired's masks (exact equality, float64), finite differences
through the masks, statistics of the draws, and inference without dropout. Statefulness is
checked against Keras' stateful layers over several predict and fit calls.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer, numerical_gradient, relative_error

#: (class name, kwargs): each cell, both GRU forms, and the loop's options.
DROPOUT_CASES = [
    ("LSTM", {"return_sequences": True}),
    ("LSTM", {"go_backwards": True, "use_bias": False}),
    ("GRU", {"return_sequences": True}),
    ("GRU", {"reset_after": False, "go_backwards": True, "return_sequences": True}),
    ("GRU", {"reset_after": False, "use_bias": False}),
    ("SimpleRNN", {"return_sequences": True}),
    ("SimpleRNN", {"go_backwards": True}),
]
DROPOUT_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})"
               for name, kw in DROPOUT_CASES]
NAMES = ["LSTM", "GRU", "SimpleRNN"]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def randomize(layer, rng, scale=0.5) -> None:
    layer.set_weights([rng.normal(0.0, scale, w.shape) for w in layer.get_weights()])


# -- recurrent_dropout: finite differences through the masks ----------------------------------

@pytest.mark.parametrize(("name", "kwargs"), DROPOUT_CASES, ids=DROPOUT_IDS)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_recurrent_dropout_gradients_match_finite_differences(float64, name, kwargs,
                                                              dropout):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 3))
    layer = getattr(mr.layers, name)(3, dropout=dropout, recurrent_dropout=0.4, seed=2,
                                     **kwargs)
    layer(x)
    randomize(layer, rng)
    layer(x, training=True)
    masks = layer.cache.recurrent_masks                   # the check runs through them
    assert masks is not None and (masks == 0).any() and (masks > 0).any()
    results = check_layer(layer, x, training=True)        # the same masks in every pass
    assert len(results) == 1 + len(layer.weights)
    for result in results:
        assert result.relative_error < 1e-7, str(result)


@pytest.mark.parametrize("name", NAMES)
def test_recurrent_dropout_with_a_time_mask_and_initial_state_gradients(float64, name):
    """δx, δs_0 and every ∂L/∂w through the masks, with padding steps and given states."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 2))
    keep = np.ones((3, 5), dtype=bool)
    keep[0, 3:], keep[1, :2] = False, False
    layer = getattr(mr.layers, name)(3, recurrent_dropout=0.5, seed=4, return_sequences=True)
    states = [rng.normal(size=(3, 3)) for _ in range(layer._state_count)]
    layer(x)
    randomize(layer, rng)
    upstream = rng.normal(size=(3, 5, 3))
    generator_state = layer.generator.bit_generator.state

    def scalar() -> float:
        layer.generator.bit_generator.state = generator_state     # the same masks
        return float(np.sum(layer(x, initial_state=states, mask=keep, training=True)
                            * upstream))

    scalar()
    layer.zero_gradients()
    layer.generator.bit_generator.state = generator_state
    layer(x, initial_state=states, mask=keep, training=True)
    assert layer.cache.recurrent_masks is not None
    grads = layer.backward(upstream)                      # [δx, δh_0(, δc_0)]
    for given, grad in zip([x, *states], grads, strict=True):
        assert relative_error(grad, numerical_gradient(scalar, given)) < 1e-7
    for weight, grad in zip(layer.weights, layer.gradients, strict=True):
        assert relative_error(grad, numerical_gradient(scalar, weight)) < 1e-7


# -- recurrent_dropout: Keras given the same masks --------------------------------------------

@pytest.mark.parametrize(("name", "kwargs"), DROPOUT_CASES, ids=DROPOUT_IDS)
def test_equals_keras_given_the_same_masks(keras_env, name, kwargs):
    """Keras' cell keeps the masks it holds until its call ends, so handed minired's masks
    (one per gate in LSTM and GRU) it computes the same outputs and gradients; inference
    (no dropout) is the same too."""
    from comparisons.recurrent import masked_layer_pairs

    keras = keras_env.keras
    rng = np.random.default_rng(2)
    with keras_env.precision("float64"):
        x = rng.normal(size=(4, 6, 5))
        kwargs = {"dropout": 0.3, "recurrent_dropout": 0.4, **kwargs}
        layer = getattr(mr.layers, name)(3, seed=5, **kwargs)
        twin = getattr(keras.layers, name)(3, **kwargs)
        layer(x)
        randomize(layer, rng)
        pairs = masked_layer_pairs("float64", name, layer, twin, x, rng)
    assert len(pairs) == 2 + 1 + len(layer.weights)
    for label, ours, theirs in pairs:
        assert ours.dtype == np.float64
        assert relative_error(ours, theirs) < 1e-12, label


def test_the_masks_are_not_keras_defaults_ignored(keras_env):
    """The equality above is not vacuous: with other masks Keras' outputs differ."""
    from comparisons.recurrent import inject_dropout_masks

    keras = keras_env.keras
    rng = np.random.default_rng(3)
    with keras_env.precision("float64"):
        x = rng.normal(size=(4, 6, 5))
        layer = mr.layers.LSTM(3, recurrent_dropout=0.5, seed=1)
        twin = keras.layers.LSTM(3, recurrent_dropout=0.5)
        twin(x)
        layer(x)
        twin.set_weights(layer.get_weights())
        ours = layer(x, training=True)
        layer.cache = layer.cache._replace(recurrent_masks=layer.cache.recurrent_masks[::-1])
        inject_dropout_masks(layer, twin)
        assert relative_error(ours, np.asarray(twin(x, training=True))) > 1e-3


# -- recurrent_dropout: the draws -------------------------------------------------------------

@pytest.mark.parametrize(("name", "count"), [("LSTM", 4), ("GRU", 3), ("SimpleRNN", 1)])
def test_the_masks_are_one_per_sequence_and_gate_with_keras_statistics(name, count):
    """Keras' rule: ``count`` masks (one per gate; 1 for SimpleRNN) of shape (N, units),
    values 0 (probability ``rate``) or 1/(1-rate), drawn afresh at each call; with
    recurrent_dropout the input dropout also draws one mask per gate."""
    rate, n, units = 0.3, 400, 50
    layer = getattr(mr.layers, name)(units, dropout=0.2, recurrent_dropout=rate, seed=7)
    x = np.ones((n, 2, 6), dtype="float32")
    layer(x, training=True)
    masks, input_masks = layer.cache.recurrent_masks, layer.cache.mask
    assert masks.shape == (count, n, units) and masks.dtype == np.float32
    assert input_masks.shape == ((count, n, 6) if count > 1 else (n, 6))
    assert set(np.unique(masks)) == {0.0, np.float32(1 / (1 - rate))}
    dropped = np.mean(masks == 0)
    sigma = np.sqrt(rate * (1 - rate) / masks.size)       # the binomial's standard deviation
    assert abs(dropped - rate) < 5 * sigma
    assert abs(masks.mean() - 1.0) < 5 * sigma / (1 - rate)   # E[m] = 1: inverted dropout
    if count > 1:                                          # independent gates
        assert not np.array_equal(masks[0], masks[1])
        agreement = np.mean((masks[0] == 0) == (masks[1] == 0))
        assert abs(agreement - (rate ** 2 + (1 - rate) ** 2)) < 0.02
    layer(x, training=True)
    assert not np.array_equal(layer.cache.recurrent_masks, masks)   # a new batch, new masks
    again = getattr(mr.layers, name)(units, dropout=0.2, recurrent_dropout=rate, seed=7)
    again(x, training=True)
    np.testing.assert_array_equal(again.cache.recurrent_masks, masks)  # the seed repeats


def test_without_recurrent_dropout_the_input_mask_stays_one_per_sequence():
    layer = mr.layers.LSTM(3, dropout=0.5, seed=1)
    layer(np.ones((4, 3, 2)), training=True)
    assert layer.cache.mask.shape == (4, 2) and layer.cache.recurrent_masks is None
    per_gate = mr.layers.LSTM(3, dropout=0.5, seed=1, implementation=1)   # Keras' rule too
    per_gate(np.ones((4, 3, 2)), training=True)
    assert per_gate.cache.mask.shape == (4, 4, 2)


@pytest.mark.parametrize("name", NAMES)
def test_inference_and_rate_one_are_unchanged(name):
    """No masks outside training; a rate of 1 (Keras clips it) applies none either, as
    Keras' ``0 < rate < 1`` rule; the same weights without dropout give the same numbers."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 2)).astype("float32")
    plain = getattr(mr.layers, name)(3, return_sequences=True)
    plain(x)
    for rate in (0.5, 1.0, 3.0):
        layer = getattr(mr.layers, name)(3, recurrent_dropout=rate, return_sequences=True)
        layer(x)
        layer.set_weights(plain.get_weights())
        assert layer.recurrent_dropout == min(rate, 1.0)
        np.testing.assert_array_equal(layer(x), plain(x))
        assert layer.cache.recurrent_masks is None
        if rate >= 1:
            np.testing.assert_array_equal(layer(x, training=True), plain(x))
        else:
            assert not np.allclose(layer(x, training=True), plain(x))


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_through_the_masks(name):
    layer = getattr(mr.layers, name)(4, dropout=0.2, recurrent_dropout=0.3,
                                     return_sequences=True)
    outputs = layer(np.ones((2, 3, 5)), training=True)
    assert outputs.dtype == np.float32
    layer.zero_gradients()
    assert layer.backward(np.ones_like(outputs)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.gradients)


@pytest.mark.parametrize("name", NAMES)
def test_config_is_keras_config(keras_env, name):
    keras = keras_env.keras
    kwargs = {"recurrent_dropout": 0.25, "dropout": 0.1, "stateful": True}
    ours = getattr(mr.layers, name)(3, name="r", **kwargs).get_config()
    theirs = getattr(keras.layers, name)(3, name="r", **kwargs).get_config()
    assert ours["recurrent_dropout"] == theirs["recurrent_dropout"] == 0.25
    assert ours["stateful"] is theirs["stateful"] is True
    assert set(ours) == set(theirs)
    back = getattr(mr.layers, name).from_config(ours)
    assert back.recurrent_dropout == 0.25 and back.stateful


# -- stateful ---------------------------------------------------------------------------------

def stateful_model(library, name, batch=4):
    layers = library.layers
    return library.Sequential([
        library.Input(batch_shape=(batch, 5, 3)),
        getattr(layers, name)(4, stateful=True, return_sequences=True, name="first"),
        getattr(layers, name)(3, stateful=True, name="second"), layers.Dense(1, name="out")])


@pytest.mark.parametrize("name", NAMES)
def test_stateful_predict_fit_and_reset_equal_keras(keras_env, name):
    """Each batch continues from the states the previous batch left (rows matched one to
    one), across predict calls and through fit with shuffle=False; reset_states starts
    again from zeros; the carried states equal Keras' after every call."""
    keras = keras_env.keras
    rng = np.random.default_rng(5)
    with keras_env.precision("float64"):
        x, y = rng.normal(size=(12, 5, 3)), rng.normal(size=(12, 1))
        model, twin = stateful_model(mr, name), stateful_model(keras, name)
        twin.set_weights(model.get_weights())

        def check_states():
            for layer, keras_layer in zip(model.layers[:2], twin.layers[:2], strict=True):
                assert len(layer.states) == len(keras_layer.states)
                for ours, theirs in zip(layer.states, keras_layer.states, strict=True):
                    assert ours.shape == (4, layer.units)
                    assert relative_error(ours, np.asarray(theirs)) < 1e-12

        first = model.predict(x, batch_size=4, verbose=0)
        assert relative_error(first, twin.predict(x, batch_size=4, verbose=0)) < 1e-12
        check_states()
        second = model.predict(x, batch_size=4, verbose=0)
        assert relative_error(second, twin.predict(x, batch_size=4, verbose=0)) < 1e-12
        assert not np.allclose(first, second)             # the states were carried
        check_states()
        for layer, keras_layer in zip(model.layers[:2], twin.layers[:2], strict=True):
            layer.reset_states()
            keras_layer.reset_states()
            assert not np.any(layer.states[0])
        np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0), first)
        twin.predict(x, batch_size=4, verbose=0)
        model.compile(mr.optimizers.SGD(0.1), "mse")
        twin.compile(keras.optimizers.SGD(0.1), "mse")
        ours = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        assert relative_error(np.array(ours.history["loss"]),
                              np.array(theirs.history["loss"])) < 1e-12
        for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
            assert relative_error(weight, keras_weight) < 1e-11
        check_states()


@pytest.mark.parametrize("name", NAMES)
def test_the_gradient_stops_at_the_carried_states(float64, name):
    """Truncated backpropagation through time: the second batch's gradients are those of a
    layer started from the first batch's final states as constants (no δ reaches them)."""
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(size=(2, 3, 4, 2))
    layer = getattr(mr.layers, name)(3, stateful=True, return_sequences=True)
    plain = getattr(mr.layers, name)(3, return_sequences=True)
    layer(x1)
    randomize(layer, rng)
    plain(x1)
    plain.set_weights(layer.get_weights())
    layer(x1)
    carried = [s.copy() for s in layer.states]
    upstream = rng.normal(size=(3, 4, 3))
    layer.zero_gradients()
    outputs = layer.forward(x2)
    grad_x = layer.backward(upstream)
    assert isinstance(grad_x, np.ndarray)               # δx only: no δ for the states
    plain.zero_gradients()
    expected = plain(x2, initial_state=carried)
    np.testing.assert_array_equal(outputs, expected)
    plain_grads = plain.backward(upstream)
    np.testing.assert_array_equal(grad_x, plain_grads[0])
    for ours, theirs in zip(layer.gradients, plain.gradients, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    # and those gradients are the finite differences of this batch with the states fixed
    def scalar() -> float:
        return float(np.sum(plain(x2, initial_state=carried) * upstream))

    assert relative_error(grad_x, numerical_gradient(scalar, x2)) < 1e-7
    for weight, grad in zip(plain.weights, layer.gradients, strict=True):
        assert relative_error(grad, numerical_gradient(scalar, weight)) < 1e-7


@pytest.mark.parametrize("name", NAMES)
def test_stateful_layer_calls_equal_keras_with_mask_and_initial_state(keras_env, name):
    """Layer calls on arrays (the batch taken from the first call, as Keras builds on it):
    a time mask keeps the states at padding steps, and a given initial_state replaces the
    carried states for that call, its final states carried on."""
    keras = keras_env.keras
    rng = np.random.default_rng(7)
    with keras_env.precision("float64"):
        layer = getattr(mr.layers, name)(3, stateful=True, return_sequences=True)
        twin = getattr(keras.layers, name)(3, stateful=True, return_sequences=True)
        x = rng.normal(size=(2, 4, 2))
        layer(x)
        twin(x)
        layer.reset_state()
        twin.reset_state()
        twin.set_weights(layer.get_weights())
        keep = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)
        given = [rng.normal(size=(2, 3)) for _ in range(layer._state_count)]
        for call in range(4):
            x = rng.normal(size=(2, 4, 2))
            if call == 2:
                ours, theirs = layer(x, initial_state=given), twin(x, initial_state=given)
            else:
                ours, theirs = layer(x, mask=keep), twin(x, mask=keep)
            assert relative_error(ours, np.asarray(theirs)) < 1e-12
            for state, keras_state in zip(layer.states, twin.states, strict=True):
                assert relative_error(state, np.asarray(keras_state)) < 1e-12


def test_stateful_bidirectional_equals_keras(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(8)
    with keras_env.precision("float64"):
        layer = mr.layers.Bidirectional(mr.layers.GRU(3, stateful=True))
        twin = keras.layers.Bidirectional(keras.layers.GRU(3, stateful=True))
        x = rng.normal(size=(2, 4, 2))
        layer(x)
        twin(x)
        twin.reset_states()
        layer.reset_states()
        twin.set_weights(layer.get_weights())
        assert layer.stateful
        for _ in range(2):
            x = rng.normal(size=(2, 4, 2))
            assert relative_error(layer(x), np.asarray(twin(x))) < 1e-12
        layer.reset_states()
        twin.reset_states()
        assert relative_error(layer(x), np.asarray(twin(x))) < 1e-12
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        mr.layers.Bidirectional(mr.layers.GRU(3)).reset_state()


def test_stateful_errors_are_keras_errors():
    with pytest.raises(ValueError, match="batch size must be static.*batch_shape"):
        mr.Sequential([mr.Input((5, 3)), mr.layers.LSTM(3, stateful=True)])
    model = stateful_model(mr, "GRU")
    with pytest.raises(ValueError, match=r"Expected batch size: 4\n- Received batch size: 2"):
        model.predict(np.ones((10, 5, 3)), batch_size=4, verbose=0)   # a last batch of 2
    layer = mr.layers.SimpleRNN(2, stateful=True)
    layer(np.ones((3, 4, 1)))
    with pytest.raises(ValueError, match="Received batch size: 5"):
        layer(np.ones((5, 4, 1)))
    plain = mr.layers.LSTM(2)
    assert plain.states is None
    plain.reset_state()                                  # nothing to reset, as Keras


def test_a_stateful_model_saves_loads_and_cross_loads(tmp_path, keras_env):
    """The config keeps stateful and the batch size; the carried states are no weights (as
    in Keras: not saved, zeros after loading)."""
    keras = keras_env.keras
    x = np.random.default_rng(9).normal(size=(8, 5, 3)).astype("float32")
    model = stateful_model(mr, "LSTM")
    model.compile("sgd", "mse")
    model.predict(x, batch_size=4, verbose=0)
    assert len(model.weights) == 2 * 3 + 2
    model.save(tmp_path / "m.keras")
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert theirs.layers[0].stateful
    for layer in model.layers[:2]:
        layer.reset_states()
    np.testing.assert_allclose(theirs.predict(x, batch_size=4, verbose=0),
                               model.predict(x, batch_size=4, verbose=0), rtol=1e-5,
                               atol=1e-6)            # float32: TF's roundings
    theirs.save(tmp_path / "k.keras")
    back = mr.models.load_model(tmp_path / "k.keras")
    assert back.layers[0].stateful and back.layers[0].states[0].shape == (4, 4)
    assert not np.any(back.layers[0].states[0])
    for layer in model.layers[:2]:
        layer.reset_states()
    np.testing.assert_array_equal(back.predict(x, batch_size=4, verbose=0),
                                  model.predict(x, batch_size=4, verbose=0))


# -- RNN(cell): the cells, a stack of them, and a cell of your own -----------------------------

def cell_rnn(library, kind: str, **kwargs):
    """``RNN`` of one kind of cell, built the same way in minired and in Keras."""
    from comparisons.recurrent import minimal_cell

    layers = library.layers
    cells = {"LSTMCell": lambda: layers.LSTMCell(3),
             "GRUCell": lambda: layers.GRUCell(3, reset_after=False),
             "SimpleRNNCell": lambda: layers.SimpleRNNCell(3),
             "stack": lambda: [layers.LSTMCell(4), layers.GRUCell(3), layers.SimpleRNNCell(2)],
             "custom": lambda: minimal_cell(library)(3)}[kind]()
    return layers.RNN(cells, **kwargs)


CELL_KINDS = ["LSTMCell", "GRUCell", "SimpleRNNCell", "stack", "custom"]
LOOP_OPTIONS = [{}, {"return_sequences": True, "go_backwards": True},
                {"return_sequences": True, "zero_output_for_mask": True}]


@pytest.mark.parametrize("kind", CELL_KINDS)
@pytest.mark.parametrize("options", LOOP_OPTIONS, ids=["last", "backwards", "zero_output"])
def test_rnn_of_cells_equals_keras_with_a_mask(keras_env, kind, options):
    """Outputs, δx and every ∂L/∂w, with padding steps: the cells' hand-written steps, the
    stack run cell after cell, a cell of your own differentiated by the tape."""
    from tests.test_recurrent import keras_forward_and_gradients

    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(10)
    with keras_env.precision("float64"):
        x = rng.normal(size=(4, 6, 5))
        layer, twin = cell_rnn(mr, kind, **options), cell_rnn(keras, kind, **options)
        layer(x)
        twin(x)
        randomize(layer, rng)
        twin.set_weights(layer.get_weights())
        keep = np.ones((4, 6), dtype=bool)
        keep[0, 4:], keep[1, :2], keep[2, 3] = False, False, False
        layer.zero_gradients()
        outputs = layer(x, mask=keep)
        upstream = rng.normal(size=outputs.shape)
        grad_x = layer.backward(upstream)
        theirs, keras_grads = keras_forward_and_gradients(tf, twin, x, [upstream], mask=keep)
    assert relative_error(outputs, theirs[0]) < 1e-12
    assert len(keras_grads) == 1 + len(layer.weights)
    for ours, keras_grad in zip([grad_x, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, keras_grad) < 1e-12


@pytest.mark.parametrize("kind", ["stack", "custom"])
def test_rnn_of_cells_gradients_match_finite_differences(float64, kind):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 5, 2))
    layer = cell_rnn(mr, kind, return_sequences=True, go_backwards=True)
    layer(x)
    randomize(layer, rng)
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.weights)
    for result in results:
        assert result.relative_error < 1e-7, str(result)


@pytest.mark.parametrize(("cell", "layer", "kwargs"), [
    ("LSTMCell", "LSTM", {"unit_forget_bias": False, "dropout": 0.2, "recurrent_dropout": 0.3}),
    ("GRUCell", "GRU", {"reset_after": False, "recurrent_dropout": 0.3}),
    ("SimpleRNNCell", "SimpleRNN", {"dropout": 0.4, "recurrent_dropout": 0.2}),
])
def test_rnn_of_a_cell_is_its_layer(float64, cell, layer, kwargs):
    """``RNN(LSTMCell(u, ...), loop options)`` is ``LSTM(u, ..., loop options)``: the same
    step and loop, so the same numbers, dropout masks (same seed) and gradients, and the
    states given as ``initial_state`` get the same δ."""
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 5, 2))
    states = [rng.normal(size=(3, 4)) for _ in range(2 if cell == "LSTMCell" else 1)]
    loop = {"return_sequences": True, "return_state": True, "go_backwards": True}
    ours = mr.layers.RNN(getattr(mr.layers, cell)(4, seed=3, **kwargs), **loop)
    plain = getattr(mr.layers, layer)(4, seed=3, **kwargs, **loop)
    ours(x)
    randomize(ours, rng)
    plain(x)
    plain.set_weights(ours.get_weights())
    for model in (ours, plain):
        model.zero_gradients()
    a = ours(x, initial_state=states, training=True)
    b = plain(x, initial_state=states, training=True)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    upstream = [rng.normal(size=o.shape) for o in a]
    for u, v in zip(ours.backward(upstream), plain.backward(upstream), strict=True):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(ours.gradients, plain.gradients, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "SimpleRNNCell"])
def test_a_cell_called_on_one_step_equals_keras(keras_env, name):
    keras = keras_env.keras
    rng = np.random.default_rng(13)
    with keras_env.precision("float64"):
        cell, twin = getattr(mr.layers, name)(3), getattr(keras.layers, name)(3)
        x = rng.normal(size=(4, 5))
        states = [rng.normal(size=(4, 3)) for _ in range(2 if name == "LSTMCell" else 1)]
        h, new_states = cell(x, states)
        twin.build((4, 5))
        randomize(cell, rng)
        twin.set_weights(cell.get_weights())
        h, new_states = cell(x, states)
        keras_h, keras_states = twin(x, states)
    assert relative_error(h, np.asarray(keras_h)) < 1e-13
    assert len(new_states) == len(keras_states)
    for ours, theirs in zip(new_states, keras_states, strict=True):
        assert relative_error(ours, np.asarray(theirs)) < 1e-13
    assert cell.state_size == twin.state_size


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "SimpleRNNCell", "stack"])
def test_rnn_config_is_keras_config(keras_env, kind):
    keras = keras_env.keras
    options = {"return_sequences": True, "stateful": False, "go_backwards": True}
    ours = cell_rnn(mr, kind, **options).get_config()
    theirs = cell_rnn(keras, kind, **options).get_config()
    assert set(ours) == set(theirs)
    assert ours["cell"]["class_name"] == theirs["cell"]["class_name"]
    ours_cells = ours["cell"]["config"].get("cells", [ours["cell"]])
    theirs_cells = theirs["cell"]["config"].get("cells", [theirs["cell"]])
    for mine, keras_cell in zip(ours_cells, theirs_cells, strict=True):
        assert mine["class_name"] == keras_cell["class_name"]
        assert set(mine["config"]) == set(keras_cell["config"])
    back = mr.layers.RNN.from_config(ours)
    assert back.go_backwards and type(back.cell).__name__ == ours["cell"]["class_name"]


def test_a_model_of_cells_trains_saves_and_cross_loads_as_keras(tmp_path, keras_env):
    """Stacked and single cells: fit equals Keras (float64), the file's weight paths are
    Keras' (``rnn/cell/cells/<name>/vars``), and both load each other's files."""
    keras = keras_env.keras

    def build(library):
        layers = library.layers
        return library.Sequential([
            library.Input((5, 3)),
            layers.RNN(layers.LSTMCell(4, name="lstm_cell"), return_sequences=True,
                       name="rnn"),
            layers.RNN([layers.GRUCell(3, name="gru_cell"),
                        layers.SimpleRNNCell(2, name="simple_rnn_cell")], name="rnn_1"),
            layers.Dense(1, name="dense")], name="cells")

    rng = np.random.default_rng(14)
    with keras_env.precision("float64"):
        x, y = rng.normal(size=(12, 5, 3)), rng.normal(size=(12, 1))
        model, twin = build(mr), build(keras)
        twin.set_weights(model.get_weights())
        model.compile(mr.optimizers.Adam(0.01), "mse")
        twin.compile(keras.optimizers.Adam(0.01), "mse")
        ours = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        assert relative_error(np.array(ours.history["loss"]),
                              np.array(theirs.history["loss"])) < 1e-12
        for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
            assert relative_error(weight, keras_weight) < 1e-11
        model.save(tmp_path / "m.keras")
        twin.save(tmp_path / "k.keras")
        from tests.test_recurrent import weight_paths

        assert weight_paths(tmp_path / "m.keras") == weight_paths(tmp_path / "k.keras")
        loaded = keras.saving.load_model(tmp_path / "m.keras")
        back = mr.models.load_model(tmp_path / "k.keras")
        for other in (loaded, back):
            assert relative_error(np.asarray(other.predict(x, verbose=0)),
                                  model.predict(x, verbose=0)) < 1e-12
        assert [type(c).__name__ for c in back.layers[1].cell.cells] == ["GRUCell",
                                                                         "SimpleRNNCell"]


def keras_reset(twin) -> None:
    """``twin.reset_states()``; Keras' own fails on a stack of cells (its states are nested
    lists: 'ListWrapper' object has no attribute 'assign'), so those are zeroed here."""
    for state in twin.states:
        for variable in (state if isinstance(state, list | tuple) else [state]):
            variable.assign(np.zeros(variable.shape))


@pytest.mark.parametrize("kind", ["GRUCell", "stack", "custom"])
def test_a_stateful_rnn_of_cells_equals_keras(keras_env, kind):
    keras = keras_env.keras
    rng = np.random.default_rng(15)
    with keras_env.precision("float64"):
        layer = cell_rnn(mr, kind, stateful=True, return_sequences=True)
        twin = cell_rnn(keras, kind, stateful=True, return_sequences=True)
        x = rng.normal(size=(2, 4, 3))
        layer(x)
        twin(x)
        layer.reset_states()
        keras_reset(twin)
        randomize(layer, rng)
        twin.set_weights(layer.get_weights())
        results = []
        for _ in range(2):
            x = rng.normal(size=(2, 4, 3))
            results.append((layer(x), np.asarray(twin(x))))
        layer.reset_states()
        keras_reset(twin)
        results.append((layer(x), np.asarray(twin(x))))
    for ours, theirs in results:
        assert relative_error(ours, theirs) < 1e-12
    assert not np.allclose(results[1][0], results[2][0])       # the reset mattered
    with pytest.raises(ValueError, match="Expected batch size: 2"):
        layer(np.ones((3, 4, 3)))


def test_rnn_refusals_name_what_came():
    from comparisons.recurrent import minimal_cell

    with pytest.raises(TypeError, match="not a cell: use LSTMCell"):
        mr.layers.RNN(mr.layers.LSTM(3))
    with pytest.raises(TypeError, match="got a str"):
        mr.layers.RNN("lstm")
    with pytest.raises(ValueError, match="return_sequences"):
        mr.layers.LSTMCell(3, return_sequences=True)
    with pytest.raises(TypeError, match="StackedRNNCells: minired stacks its own cells"):
        mr.layers.StackedRNNCells([minimal_cell(mr)(2)])
    with pytest.raises(ValueError, match="wrap it: mr.layers.RNN"):
        mr.layers.GRUCell(2)(mr.Input((3,)))
    bad = minimal_cell(mr)(2)
    bad.state_size = "two"
    with pytest.raises(ValueError, match="state_size"):
        mr.layers.RNN(bad)
    with pytest.raises(ValueError, match="ndim=3"):
        mr.layers.RNN(mr.layers.GRUCell(2))(np.ones((2, 3)))
