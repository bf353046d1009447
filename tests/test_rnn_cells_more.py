"""``RNN`` over a list of cells with ``return_state``/``initial_state`` (Keras' nested
states), and ``Bidirectional(RNN(cell))`` for minired's cells and a cell of your own:
finite differences in float64, Keras' numbers and gradients (TensorFlow's tape), a short
fit, ``.keras`` files both ways and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error

N, T, F = 3, 5, 4


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def two_state_cell(library):
    """A cell of our own with two states of different sizes, the same source for both
    libraries: ``h_t = tanh(x_t W + h_{t-1} U + m_{t-1} V)``, ``m_t = m_{t-1} + h_t V'``."""
    ops = library.ops

    class TwoStateCell(library.layers.Layer):
        def __init__(self, units, memory=2, **kwargs):
            super().__init__(**kwargs)
            self.units, self.memory = units, memory
            self.state_size = [units, memory]
            self.output_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")
            self.memory_in = self.add_weight(shape=(self.memory, self.units), name="memory_in")
            self.memory_out = self.add_weight(shape=(self.units, self.memory),
                                              name="memory_out")

        def call(self, inputs, states):
            h, m = states
            h = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel)
                         + ops.matmul(m, self.memory_in))
            m = m + ops.matmul(h, self.memory_out)
            return h, [h, m]

        def get_config(self):
            return {**super().get_config(), "units": self.units, "memory": self.memory}

    register = library.saving.register_keras_serializable(package="test_rnn_cells_more")
    return register(TwoStateCell)


def stack(library, **kwargs):
    layers = library.layers
    return layers.RNN([layers.LSTMCell(4), layers.GRUCell(3, reset_after=False),
                       layers.SimpleRNNCell(2)], **kwargs)


def single(library, kind: str, **kwargs):
    layers = library.layers
    cell = {"LSTMCell": lambda: layers.LSTMCell(3), "GRUCell": lambda: layers.GRUCell(3),
            "SimpleRNNCell": lambda: layers.SimpleRNNCell(3),
            "custom": lambda: two_state_cell(library)(3)}[kind]()
    return layers.RNN(cell, **kwargs)


def stack_states(rng) -> list:
    """Keras' structure of a stack's initial states: one entry per cell."""
    return [[rng.normal(size=(N, 4)), rng.normal(size=(N, 4))], [rng.normal(size=(N, 3))],
            rng.normal(size=(N, 2))]


def flat(structure) -> list:
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flat(item)]
    return [structure]


def randomize(layer, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    layer.set_weights([w + rng.normal(0, 0.3, w.shape) for w in layer.get_weights()])


# -- finite differences (float64) -------------------------------------------------------------

def check_gradients(layer, x, states=None, mask=None, seed: int = 2) -> None:
    """∂(Σ outputs ⊙ δout)/∂(x, every initial state, every weight) against ``backward``."""
    kwargs = {} if states is None else {"initial_state": states}
    outputs = flat(layer(x, mask=mask, **kwargs))
    rng = np.random.default_rng(seed)
    upstream = [rng.normal(size=o.shape) for o in outputs]

    def loss() -> float:
        out = flat(layer(x, mask=mask, **kwargs))
        return float(sum(np.sum(o * u) for o, u in zip(out, upstream, strict=True)))

    layer(x, mask=mask, **kwargs)
    layer.zero_gradients()
    grads = layer.backward(upstream if len(upstream) > 1 else upstream[0])
    inputs = [x, *flat(states)] if states is not None else [x]
    grads = grads if states is not None else [grads]
    assert len(grads) == len(inputs)
    for array, analytic in zip(inputs, grads, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, array)) < 1e-7
    analytic_weights = [g.copy() for g in layer.gradients]
    for weight, analytic in zip(layer.weights, analytic_weights, strict=True):
        assert relative_error(analytic, numerical_gradient(loss, weight)) < 1e-7


@pytest.mark.parametrize("options", [{"return_state": True},
                                     {"return_state": True, "return_sequences": True,
                                      "go_backwards": True}])
@pytest.mark.parametrize("given", [False, True])
def test_stack_states_gradients_match_finite_differences(float64, options, given):
    rng = np.random.default_rng(0)
    layer = stack(mr, **options)
    x = rng.normal(size=(N, T, F))
    layer(x)
    randomize(layer)
    check_gradients(layer, x, stack_states(rng) if given else None)


def test_stack_initial_state_without_return_state_and_with_a_mask(float64):
    rng = np.random.default_rng(3)
    layer = stack(mr, return_sequences=True)
    x = rng.normal(size=(N, T, F))
    mask = np.ones((N, T), dtype=bool)
    mask[0, 3:] = False
    layer(x)
    randomize(layer)
    check_gradients(layer, x, stack_states(rng), mask=mask)


@pytest.mark.parametrize("kind", ["LSTMCell", "custom"])
@pytest.mark.parametrize("mode", ["concat", "mul", None])
def test_bidirectional_rnn_gradients_match_finite_differences(float64, kind, mode):
    rng = np.random.default_rng(4)
    layer = mr.layers.Bidirectional(single(mr, kind, return_sequences=True,
                                           return_state=True), merge_mode=mode)
    x = rng.normal(size=(N, T, F))
    layer(x)
    randomize(layer)
    sizes = [3, 3] if kind == "LSTMCell" else [3, 2]
    states = [rng.normal(size=(N, s)) for s in sizes * 2]
    check_gradients(layer, x)
    check_gradients(layer, x, states)


# -- against Keras ----------------------------------------------------------------------------

def keras_gradients(keras_env, twin, x, states, upstream):
    """Keras' outputs and ∂(Σ outputs ⊙ δout)/∂(x, states, weights) by TensorFlow's tape."""
    tf = keras_env.tf
    tx = tf.constant(x)
    tstates = tf.nest.map_structure(tf.constant, states) if states is not None else None
    with tf.GradientTape() as tape:
        tape.watch(tx)
        if tstates is not None:
            tape.watch(tf.nest.flatten(tstates))
            out = twin(tx, initial_state=tstates)
        else:
            out = twin(tx)
        leaves = tf.nest.flatten(out)
        loss = sum(tf.reduce_sum(o * u) for o, u in zip(leaves, upstream, strict=True))
    sources = [tx, *(tf.nest.flatten(tstates) if tstates is not None else [])]
    grads = tape.gradient(loss, sources + list(twin.trainable_variables))
    return out, [np.asarray(g) for g in grads]


def compare(keras_env, ours, twin, x, states=None) -> None:
    ours(x) if states is None else ours(x, initial_state=states)
    twin(x) if states is None else twin(x, initial_state=states)
    randomize(ours)
    twin.set_weights(ours.get_weights())
    out = ours(x) if states is None else ours(x, initial_state=states)
    rng = np.random.default_rng(9)
    upstream = [rng.normal(size=o.shape) for o in flat(out)]
    theirs, keras_grads = keras_gradients(keras_env, twin, x, states, upstream)
    # the same nesting as Keras' eager call
    structure = keras_env.tf.nest.map_structure(lambda _: 0, theirs)
    assert keras_env.tf.nest.map_structure(lambda _: 0, tuple(out) if isinstance(
        out, list) else out) == structure
    for a, b in zip(flat(out), keras_env.tf.nest.flatten(theirs), strict=True):
        assert relative_error(a, np.asarray(b)) < 1e-12
    ours.zero_gradients()
    grads = ours.backward(upstream if len(upstream) > 1 else upstream[0])
    grads = grads if states is not None else [grads]
    ours_all = [*grads, *ours.gradients]
    assert len(ours_all) == len(keras_grads)
    for a, b in zip(ours_all, keras_grads, strict=True):
        assert relative_error(a, b) < 1e-11


@pytest.mark.parametrize("options", [{"return_state": True},
                                     {"return_state": True, "return_sequences": True,
                                      "go_backwards": True},
                                     {"return_sequences": True}])
@pytest.mark.parametrize("given", [False, True])
def test_stack_outputs_states_and_gradients_equal_keras(keras_env, options, given):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(N, T, F))
    with keras_env.precision("float64"):
        compare(keras_env, stack(mr, **options), stack(keras_env.keras, **options), x,
                stack_states(rng) if given else None)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "SimpleRNNCell", "custom"])
@pytest.mark.parametrize(("mode", "options"), [
    ("concat", {}), ("sum", {"return_sequences": True}),
    ("ave", {"return_state": True}), ("mul", {"return_sequences": True, "return_state": True}),
    (None, {"return_sequences": True, "return_state": True})])
def test_bidirectional_rnn_equals_keras(keras_env, kind, mode, options):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(N, T, F))
    with keras_env.precision("float64"):
        ours = mr.layers.Bidirectional(single(mr, kind, **options), merge_mode=mode)
        twin = keras_env.keras.layers.Bidirectional(single(keras_env.keras, kind, **options),
                                                    merge_mode=mode)
        compare(keras_env, ours, twin, x)
        count = {"LSTMCell": 2, "custom": 2}.get(kind, 1)
        sizes = [3, 2] if kind == "custom" else [3] * count
        states = [rng.normal(size=(N, s)) for s in sizes * 2]
        ours = mr.layers.Bidirectional(single(mr, kind, **options), merge_mode=mode)
        twin = keras_env.keras.layers.Bidirectional(single(keras_env.keras, kind, **options),
                                                    merge_mode=mode)
        compare(keras_env, ours, twin, x, states)


def test_symbolic_nesting_is_keras(keras_env):
    keras = keras_env.keras
    shapes = []
    for library in (mr, keras):
        out = stack(library, return_state=True)(library.Input((T, F)))
        shapes.append([type(o).__name__ == "list" for o in out])
        assert [tuple(t.shape) for t in flat(list(out))] == [(None, 2), (None, 4), (None, 4),
                                                              (None, 3), (None, 2)]
    assert shapes[0] == shapes[1] == [False, True, False, False]


def seq2seq_like(library):
    """A model using a stack's states and a bidirectional RNN(cell), for fit and files."""
    layers = library.layers
    inputs = library.Input((T, F))
    h1 = library.Input((4,))
    c1 = library.Input((4,))
    h2 = library.Input((3,))
    out, (h, c), h_gru = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)],
                                    return_sequences=True, return_state=True)(
        inputs, initial_state=[[h1, c1], h2])
    both = layers.Bidirectional(layers.RNN(two_state_cell(library)(3)), merge_mode="sum")(out)
    head = layers.Dense(1)(layers.Concatenate()([both, h, c, h_gru]))
    return library.Model([inputs, h1, c1, h2], head)


def model_data(seed: int = 7):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(8, T, F)), rng.normal(size=(8, 4)), rng.normal(size=(8, 4)),
          rng.normal(size=(8, 3))]
    return xs, rng.normal(size=(8, 1))


def test_a_short_fit_equals_keras(keras_env):
    keras = keras_env.keras
    xs, y = model_data()
    with keras_env.precision("float64"):
        ours, twin = seq2seq_like(mr), seq2seq_like(keras)
        twin.set_weights(ours.get_weights())
        for model, library in ((ours, mr), (twin, keras)):
            model.compile(optimizer=library.optimizers.Adam(0.01), loss="mse")
        ours_history = ours.fit(xs, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        twin_history = twin.fit(xs, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        assert np.allclose(ours_history.history["loss"], twin_history.history["loss"],
                           rtol=1e-10, atol=0)
        for a, b in zip(ours.get_weights(), twin.get_weights(), strict=True):
            assert relative_error(a, b) < 1e-9


def test_keras_files_cross_load_both_ways(tmp_path, keras_env):
    keras = keras_env.keras
    xs, _ = model_data(8)
    xs = [a.astype("float32") for a in xs]
    ours = seq2seq_like(mr)
    ours.save(tmp_path / "ours.keras")
    loaded = keras.saving.load_model(tmp_path / "ours.keras")
    expected = ours.predict(xs, verbose=0)
    assert np.allclose(np.asarray(loaded.predict(xs, verbose=0)), expected, atol=1e-5)
    again = mr.saving.load_model(tmp_path / "ours.keras")
    assert np.array_equal(again.predict(xs, verbose=0), expected)
    twin = seq2seq_like(keras)
    twin.save(tmp_path / "theirs.keras")
    back = mr.saving.load_model(tmp_path / "theirs.keras")
    assert np.allclose(back.predict(xs, verbose=0), np.asarray(twin.predict(xs, verbose=0)),
                       atol=1e-5)


def test_bidirectional_config_is_keras_config(keras_env):
    ours = mr.layers.Bidirectional(mr.layers.RNN(mr.layers.GRUCell(2), return_state=True))
    theirs = keras_env.keras.layers.Bidirectional(
        keras_env.keras.layers.RNN(keras_env.keras.layers.GRUCell(2), return_state=True))
    a, b = ours.get_config(), theirs.get_config()
    assert set(a) == set(b)
    assert set(a["layer"]["config"]) == set(b["layer"]["config"])
    assert a["layer"]["config"]["cell"]["class_name"] == "GRUCell"
    assert mr.layers.Bidirectional.from_config(a).get_config()["layer"] == a["layer"]


def test_bad_arguments_are_refused():
    layers = mr.layers
    layer = stack(mr, return_state=True)
    x = np.ones((N, T, F), dtype="float32")
    with pytest.raises(ValueError, match="one per cell"):
        layer(x, initial_state=[np.zeros((N, 4)), np.zeros((N, 4))])
    with pytest.raises(ValueError, match=r"cell 0: `initial_state` must be a list of 2"):
        layer(x, initial_state=[np.zeros((N, 4)), np.zeros((N, 4)), np.zeros((N, 3))])
    with pytest.raises(ValueError, match=r"cell 1.*initial_state\[0\]"):
        layer(x, initial_state=[[np.zeros((N, 4))] * 2, np.zeros((N, 5)), np.zeros((N, 2))])
    with pytest.raises(ValueError, match="RNN over a stack of cells"):
        layers.Bidirectional(layers.RNN([layers.GRUCell(2), layers.GRUCell(2)]))
    with pytest.raises(ValueError, match="4 tensors"):
        layers.Bidirectional(layers.RNN(layers.LSTMCell(2)))(
            x, initial_state=[np.zeros((N, 2))] * 2)


@pytest.mark.parametrize("kind", ["GRUCell", "custom"])
@pytest.mark.parametrize("sequences", [False, True])
def test_bidirectional_rnn_with_a_mask_equals_keras(keras_env, kind, sequences):
    """A mask reaches both directions (Keras sets zero_output_for_mask = return_sequences)."""
    tf = keras_env.tf
    rng = np.random.default_rng(10)
    x = rng.normal(size=(N, T, F))
    keep = np.ones((N, T), dtype=bool)
    keep[0, 3:] = False
    keep[1, :2] = False
    with keras_env.precision("float64"):
        ours = mr.layers.Bidirectional(single(mr, kind, return_sequences=sequences))
        twin = keras_env.keras.layers.Bidirectional(
            single(keras_env.keras, kind, return_sequences=sequences))
        ours(x)
        twin(x)
        randomize(ours)
        twin.set_weights(ours.get_weights())
        out = ours(x, mask=keep)
        upstream = rng.normal(size=out.shape)
        tx = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tx)
            theirs = twin(tx, mask=tf.constant(keep))
            loss = tf.reduce_sum(theirs * upstream)
        keras_grads = tape.gradient(loss, [tx, *twin.trainable_variables])
        assert relative_error(out, np.asarray(theirs)) < 1e-12
        ours.zero_gradients()
        grads = [ours.backward(upstream), *ours.gradients]
        for a, b in zip(grads, keras_grads, strict=True):
            assert relative_error(a, np.asarray(b)) < 1e-11
