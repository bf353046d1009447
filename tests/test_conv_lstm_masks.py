"""Masked ConvLSTM1D/2D/3D and Bidirectional(ConvLSTM): Keras' rule for masks (a masked step
keeps its states and output), forward and backward, against finite differences (float64),
Keras with TensorFlow's tape, a short fit, and ``.keras`` files that Keras loads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_recurrent import assert_masked_call_equals_keras, randomize, time_mask

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error

#: (class name, input shape (N, T, *spatial, C), kwargs): the loop's options under a time
#: mask (padding at the end, at the start, scattered, none, and a sequence all padding).
CASES = [
    ("ConvLSTM2D", (5, 4, 5, 5, 2), {}),
    ("ConvLSTM2D", (5, 4, 5, 5, 2), {"return_sequences": True, "padding": "same"}),
    ("ConvLSTM2D", (5, 4, 5, 5, 2), {"go_backwards": True, "return_sequences": True,
                                     "return_state": True}),
    ("ConvLSTM2D", (5, 4, 5, 5, 2), {"return_sequences": True, "zero_output_for_mask": True}),
    ("ConvLSTM2D", (5, 4, 6, 5, 2), {"strides": 2, "return_state": True}),
    ("ConvLSTM1D", (5, 4, 7, 2), {"return_sequences": True, "dilation_rate": 2}),
    ("ConvLSTM3D", (5, 3, 3, 4, 3, 2), {"kernel_size": 2, "return_state": True,
                                        "go_backwards": True}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})"
            for name, _, kw in CASES]
MODES = ["concat", "sum", "ave", "mul", None]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def make(library, name: str, kwargs: dict):
    return getattr(library.layers, name)(2, **{"kernel_size": 3, **kwargs})


def position_mask(rng, shape: tuple) -> np.ndarray:
    """A mask per time step and position ``(N, T, *spatial)``, what Masking gives."""
    return rng.random(shape) < 0.6


# -- a mask of the time steps, or of every position, against Keras -----------------------------

@pytest.mark.parametrize(("name", "shape", "kwargs"), CASES, ids=CASE_IDS)
def test_a_time_mask_keeps_the_states_as_keras(keras_env, name, shape, kwargs):
    """Outputs (every step's, the last, the states), δx and every weight gradient equal
    Keras' given the same explicit ``(N, T)`` mask (float64: roundings only)."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(0)
    with keras_env.precision("float64"):
        x, mask = rng.normal(size=shape), time_mask(rng, shape[0], shape[1])
        assert_masked_call_equals_keras(tf, make(mr, name, kwargs), make(keras, name, kwargs),
                                        x, mask, rng)


@pytest.mark.parametrize(("name", "shape", "kwargs"), [
    ("ConvLSTM2D", (3, 4, 4, 5, 2), {"padding": "same", "return_sequences": True,
                                     "go_backwards": True}),
    ("ConvLSTM1D", (3, 4, 6, 2), {"padding": "same", "return_state": True}),
], ids=["2D", "1D"])
def test_a_mask_per_position_keeps_each_position_as_keras(keras_env, name, shape, kwargs):
    """A mask ``(N, T, *spatial)`` (a Masking layer's) keeps each position of h and c on
    its own where ``h`` has the input's size: Keras tiles it over the filters."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(1)
    with keras_env.precision("float64"):
        x, mask = rng.normal(size=shape), position_mask(rng, shape[:-1])
        assert_masked_call_equals_keras(tf, make(mr, name, kwargs), make(keras, name, kwargs),
                                        x, mask, rng)


def test_masked_steps_repeat_the_previous_output_and_states(float64):
    """The rule itself: a masked step repeats output_{t-1} (0 before any real step) and
    the states; zero_output_for_mask outputs 0 there."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 4, 4, 1))
    mask = np.array([[False, True, False, True], [True, True, True, False]])
    layer = mr.layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True,
                                 return_state=True)
    out, h, c = layer(x, mask=mask)
    np.testing.assert_array_equal(out[0, 0], 0)                  # before any real step
    np.testing.assert_array_equal(out[0, 2], out[0, 1])          # repeats step 1
    np.testing.assert_array_equal(out[1, 3], out[1, 2])
    np.testing.assert_array_equal(h, out[:, -1])
    alone, h1, c1 = layer(x[1:, :3])                             # the real steps alone
    # the same numbers, computed in a batch of another size (roundings only)
    np.testing.assert_allclose(c[1], c1[0], rtol=1e-13, atol=1e-15)
    zeroed = mr.layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True,
                                  zero_output_for_mask=True)
    zeroed(x)
    zeroed.set_weights(layer.get_weights())
    np.testing.assert_array_equal(zeroed(x, mask=mask)[1, 3], 0)


# -- backpropagation through time with the mask: finite differences (float64) ---------------

def _check_masked_gradients(layer, inputs: list, mask, upstream: list) -> tuple:
    """``δ`` of every input and weight of ``Σ layer(*inputs, mask) ⊙ upstream`` against
    finite differences; returns the hand-written δ of the inputs."""
    def call():
        if len(inputs) == 1:
            return layer(inputs[0], mask=mask)
        return layer(inputs[0], initial_state=inputs[1:], mask=mask)

    def scalar() -> float:
        outputs = call()
        outputs = outputs if isinstance(outputs, list) else [outputs]
        return float(sum(np.sum(o * u) for o, u in zip(outputs, upstream, strict=True)))

    layer.zero_gradients()
    call()
    grads = layer.backward(upstream if len(upstream) > 1 else upstream[0])
    grads = grads if isinstance(grads, list) else [grads]
    for array, grad in zip(inputs, grads, strict=True):
        assert relative_error(grad, numerical_gradient(scalar, array)) < 1e-7
    for weight, gradient in zip(layer.weights, layer.gradients, strict=True):
        assert relative_error(gradient, numerical_gradient(scalar, weight)) < 1e-7
    return grads


def test_masked_gradients_match_finite_differences(float64):
    """A time mask, δ on every step's output and on the final states, and [h_0, c_0]."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 4, 4, 4, 1))
    mask = time_mask(rng, 4, 4)
    layer = mr.layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True,
                                 return_state=True)
    layer(x)
    randomize(layer, rng)
    states = [rng.normal(size=(4, 4, 4, 2)) for _ in range(2)]
    upstream = [rng.normal(size=s) for s in [(4, 4, 4, 4, 2), (4, 4, 4, 2), (4, 4, 4, 2)]]
    grad_x, grad_h0, grad_c0 = _check_masked_gradients(layer, [x, *states], mask, upstream)
    assert np.all(grad_x[1, :2] == 0)                   # padding steps get no δx
    assert np.any(grad_c0[0] != 0)                      # c_0 reaches the real steps


@pytest.mark.parametrize("zero_output", [False, True])
def test_position_mask_gradients_match_finite_differences(float64, zero_output):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 5, 2))
    mask = position_mask(rng, (3, 4, 5))
    layer = mr.layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True,
                                 go_backwards=True, zero_output_for_mask=zero_output)
    layer(x)
    randomize(layer, rng)
    _check_masked_gradients(layer, [x], mask, [rng.normal(size=(3, 4, 5, 2))])


def test_bidirectional_masked_gradients_match_finite_differences(float64):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4, 5, 2))
    mask = time_mask(rng, 3, 4)
    layer = mr.layers.Bidirectional(mr.layers.ConvLSTM1D(2, 3, return_sequences=True),
                                    merge_mode="mul")
    layer(x)
    randomize(layer, rng)
    _check_masked_gradients(layer, [x], mask, [rng.normal(size=(3, 4, 3, 2))])


# -- initial states with a mask ------------------------------------------------------------------

def test_initial_state_and_mask_equal_keras(keras_env):
    """``layer(x, initial_state=[h_0, c_0], mask=m)``: outputs (0 at a leading padding step,
    even from a given h_0, as Keras), the final states, and the gradients of x, h_0, c_0 and
    every weight."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(6)
    with keras_env.precision("float64"):
        x, mask = rng.normal(size=(5, 4, 5, 5, 2)), time_mask(rng, 5, 4)
        kwargs = {"padding": "same", "return_sequences": True, "return_state": True}
        layer, twin = make(mr, "ConvLSTM2D", kwargs), make(keras, "ConvLSTM2D", kwargs)
        layer(x)
        twin(x)
        randomize(layer, rng)
        twin.set_weights(layer.get_weights())
        states = [rng.normal(size=(5, 5, 5, 2)) for _ in range(2)]
        layer.zero_gradients()
        outputs = layer(x, initial_state=states, mask=mask)
        upstream = [rng.normal(size=o.shape) for o in outputs]
        grads = layer.backward(upstream)
        variables = [tf.Variable(a) for a in (x, *states)]
        with tf.GradientTape() as tape:
            theirs = twin(variables[0], initial_state=variables[1:], mask=tf.constant(mask))
            loss = sum(tf.reduce_sum(o * u) for o, u in zip(theirs, upstream, strict=True))
        keras_grads = tape.gradient(loss, [*variables, *twin.trainable_variables])
    np.testing.assert_array_equal(outputs[0][1, 0], 0)            # mask[1, 0] is padding
    for ours, keras_output in zip(outputs, theirs, strict=True):
        assert relative_error(ours, np.asarray(keras_output)) < 1e-13
    for ours, keras_grad in zip([*grads, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, np.asarray(keras_grad)) < 1e-12


def test_bidirectional_initial_state_and_mask_equal_keras(keras_env):
    """Bidirectional's ``[h_f, c_f, h_b, c_b]`` split as Keras splits it, with a mask."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(7)
    with keras_env.precision("float64"):
        x, mask = rng.normal(size=(5, 3, 6, 2)), time_mask(rng, 5, 3)
        kwargs = {"return_sequences": True, "return_state": True}
        layer = mr.layers.Bidirectional(make(mr, "ConvLSTM1D", kwargs), merge_mode="sum")
        twin = keras.layers.Bidirectional(make(keras, "ConvLSTM1D", kwargs), merge_mode="sum")
        layer(x)
        twin(x)
        randomize(layer, rng)
        twin.set_weights(layer.get_weights())
        states = [rng.normal(size=(5, 4, 2)) for _ in range(4)]
        layer.zero_gradients()
        outputs = layer(x, initial_state=states, mask=mask)
        upstream = [rng.normal(size=o.shape) for o in outputs]
        grads = layer.backward(upstream)
        variables = [tf.Variable(a) for a in (x, *states)]
        with tf.GradientTape() as tape:
            theirs = twin(variables[0], initial_state=variables[1:], mask=tf.constant(mask))
            loss = sum(tf.reduce_sum(o * u) for o, u in zip(theirs, upstream, strict=True))
        keras_grads = tape.gradient(loss, [*variables, *twin.trainable_variables])
    assert len(outputs) == 5 and len(grads) == 5            # [a, 4 states]; [δx, 4 δs_0]
    for ours, keras_output in zip(outputs, theirs, strict=True):
        assert relative_error(ours, np.asarray(keras_output)) < 1e-13
    for ours, keras_grad in zip([*grads, *layer.gradients], keras_grads, strict=True):
        assert relative_error(ours, np.asarray(keras_grad)) < 1e-12


# -- Bidirectional(ConvLSTM) -----------------------------------------------------------------------

@pytest.mark.parametrize("masked", [True, False], ids=["mask", "no mask"])
@pytest.mark.parametrize("options", [{}, {"return_sequences": True},
                                     {"return_sequences": True, "return_state": True}],
                         ids=["last", "sequences", "sequences+states"])
@pytest.mark.parametrize("mode", MODES)
def test_bidirectional_conv_lstm_equals_keras(keras_env, mode, options, masked):
    """Every merge mode, the last output or the sequence (with the states): outputs, δx
    and both layers' weight gradients equal Keras', with a time mask or none."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(8)
    with keras_env.precision("float64"):
        x = rng.normal(size=(5, 3, 5, 4, 2))
        mask = time_mask(rng, 5, 3) if masked else np.ones((5, 3), dtype=bool)
        layer = mr.layers.Bidirectional(make(mr, "ConvLSTM2D", options), merge_mode=mode)
        twin = keras.layers.Bidirectional(make(keras, "ConvLSTM2D", options), merge_mode=mode)
        assert_masked_call_equals_keras(tf, layer, twin, x, mask, rng)
        shapes = layer.compute_output_shape((None, 3, 5, 4, 2))
        keras_shapes = twin.compute_output_shape((None, 3, 5, 4, 2))
    keras_shapes = list(keras_shapes) if isinstance(keras_shapes[0], tuple) else keras_shapes
    assert shapes == keras_shapes


def test_bidirectional_conv_lstm_names_and_config_follow_keras(keras_env):
    keras = keras_env.keras
    layer = mr.layers.Bidirectional(mr.layers.ConvLSTM2D(2, 3, name="clstm"), name="bi")
    twin = keras.layers.Bidirectional(keras.layers.ConvLSTM2D(2, 3, name="clstm"), name="bi")
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_clstm",
                                                                       "backward_clstm")
    assert (twin.forward_layer.name, twin.backward_layer.name) == ("forward_clstm",
                                                                     "backward_clstm")
    layer.build((None, 3, 5, 5, 1))
    twin.build((None, 3, 5, 5, 1))
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in twin.weights]
    config = layer.get_config()
    keras_config = json.loads(json.dumps(twin.get_config()))     # tuples as JSON lists
    assert list(config) == list(keras_config)
    assert json.loads(json.dumps(config["layer"])) == keras_config["layer"]
    again = mr.layers.Bidirectional.from_config(config)
    assert isinstance(again.backward_layer, mr.layers.ConvLSTM2D)
    assert again.backward_layer.go_backwards


# -- in models: a Masking layer's mask, a short fit, .keras files ------------------------------

def masked_frames(rng, n: int = 6) -> np.ndarray:
    """Frames ``(N, 4, 5, 5, 2)`` with padding: whole frames (end, start), and pixels."""
    x = rng.normal(size=(n, 4, 5, 5, 2))
    x[0, 3:], x[1, :1] = 0.0, 0.0
    x[2, 1, :2, :3] = 0.0                       # some positions of one frame
    return x


def masked_model(library):
    layers = library.layers
    return library.Sequential([
        library.Input((4, 5, 5, 2)), layers.Masking(0.0, name="masking"),
        layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True, name="clstm"),
        layers.Bidirectional(layers.ConvLSTM2D(2, 3, padding="same", name="inner"),
                             merge_mode="ave",
                             name="bi"),
        layers.Flatten(name="flatten"), layers.Dense(1, name="dense")])


def test_a_masking_layer_feeds_both_layers_and_a_fit_equals_keras(keras_env):
    """Masking -> ConvLSTM2D(sequences) -> Bidirectional(ConvLSTM2D) -> Dense: the mask per
    position reaches both layers (the first passes it on); predictions, the gradients and 2
    epochs of SGD equal Keras' in float64."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(9)
    x = masked_frames(rng)
    with keras_env.precision("float64"):
        y = rng.normal(size=(6, 1))
        model, twin = masked_model(mr), masked_model(keras)
        twin.set_weights(model.get_weights())
        assert relative_error(model.predict(x, verbose=0), twin.predict(x, verbose=0)) < 1e-13
        model.compile(mr.optimizers.SGD(0.1, momentum=0.5), "mse")
        twin.compile(keras.optimizers.SGD(0.1, momentum=0.5), "mse")
        _, grads = model.loss_and_gradients(x, y)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, twin(x)))
        keras_grads = tape.gradient(loss, twin.trainable_variables)
        for ours, keras_grad in zip(grads, keras_grads, strict=True):
            assert relative_error(ours, np.asarray(keras_grad)) < 1e-12
        unmasked = mr.Sequential(model.layers[1:])           # the same layers, no Masking
        assert relative_error(model.predict(x, verbose=0),
                              unmasked.predict(x, verbose=0)) > 1e-3    # the mask matters
        ours = model.fit(x, y, epochs=2, batch_size=3, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=2, batch_size=3, shuffle=False, verbose=0)
    assert relative_error(np.array(ours.history["loss"]),
                          np.array(theirs.history["loss"])) < 1e-12
    for weight, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        assert relative_error(weight, keras_weight) < 1e-11


def test_a_keras_file_round_trips_and_keras_loads_it(tmp_path, keras_env):
    """The masked model saved by minired: Keras loads it (same predictions), minired loads
    it and Keras' own file back."""
    keras = keras_env.keras
    rng = np.random.default_rng(10)
    x = masked_frames(rng, 3).astype("float32")
    mr.utils.set_random_seed(0)
    model = masked_model(mr)
    model.compile("adam", "mse")
    model.fit(x, np.ones((3, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    expected = model.predict(x, verbose=0)
    keras_model = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(keras_model.predict(x, verbose=0), expected, rtol=1e-5,
                               atol=1e-6)             # float32: TensorFlow's own roundings
    back = mr.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), expected)
    keras_model.save(tmp_path / "k.keras")
    again = mr.models.load_model(tmp_path / "k.keras")
    for weight, keras_weight in zip(again.get_weights(), keras_model.get_weights(),
                                    strict=True):
        np.testing.assert_array_equal(weight, keras_weight)
    assert isinstance(again.get_layer("bi").forward_layer, mr.layers.ConvLSTM2D)


def test_output_masks_follow_keras():
    """compute_mask: the sequence keeps its mask, the last output and the states none."""
    mask = np.ones((2, 3), dtype=bool)
    x = np.ones((2, 3, 5, 5, 1), dtype="float32")
    layer = mr.layers.ConvLSTM2D(2, 3, return_sequences=True, return_state=True)
    assert layer.compute_mask(x, mask)[0] is mask
    assert layer.compute_mask(x, mask)[1:] == [None, None]
    assert mr.layers.ConvLSTM2D(2, 3).compute_mask(x, [mask]) is None
    bi = mr.layers.Bidirectional(mr.layers.ConvLSTM2D(2, 3, return_sequences=True),
                                 merge_mode=None)
    assert bi.compute_mask(x, mask) == [mask, mask]


def test_bad_masks_are_refused():
    """A mask of other steps, or per position when h has another size (Keras' tf.where
    fails there too)."""
    x = np.ones((2, 3, 5, 5, 1), dtype="float32")
    layer = mr.layers.ConvLSTM2D(2, 3)                            # h: (3, 3)
    layer(x)
    for mask in (np.ones((2, 4)), np.ones((2, 3, 5, 5)), np.ones((2, 3, 5))):
        with pytest.raises(ValueError, match="mask"):
            layer(x, mask=mask)
    bi = mr.layers.Bidirectional(mr.layers.ConvLSTM2D(2, 3))
    with pytest.raises(ValueError, match="`mask` must have shape"):
        bi(x, mask=np.ones((2, 3, 5, 5), dtype=bool))
