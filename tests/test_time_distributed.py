"""TimeDistributed: one layer applied to every time step, against finite differences and Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_normalization_catalog import assert_pass_equals_keras

import minired as mr
from minired.gradcheck import check_layer


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def scaled_tanh_class(lib):
    """A layer of one's own, written with ``ops`` in either library: ``tanh(x ⊙ w) + x``."""

    class ScaledTanh(lib.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return lib.ops.tanh(x * self.w) + x

        def compute_output_shape(self, input_shape):      # Keras' TimeDistributed needs it
            return input_shape

    return ScaledTanh


def inner_layers(lib):
    """``(label, make inner layer, input shape per sample)`` for the forms checked."""
    return [
        ("dense", lambda: lib.layers.Dense(3, activation="tanh"), (4, 5)),
        ("dense_on_3d_slices", lambda: lib.layers.Dense(2), (3, 2, 4)),
        ("conv2d", lambda: lib.layers.Conv2D(2, 3, padding="same", activation="relu"),
         (3, 5, 5, 2)),
        ("layer_norm", lambda: lib.layers.LayerNormalization(), (4, 5)),
        ("own_layer", lambda: scaled_tanh_class(lib)(), (4, 5)),
    ]


def random_weights(layer, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0.5, 0.5, w.shape) for w in layer.get_weights()])


# -- the numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(5), ids=[c[0] for c in inner_layers(mr)])
def test_backward_matches_finite_differences(float64, index):
    _, make, shape = inner_layers(mr)[index]
    layer = mr.layers.TimeDistributed(make())
    x = np.random.default_rng(3).normal(size=(2, *shape))
    layer.build((None, *shape))
    random_weights(layer)
    results = check_layer(layer, x)
    assert len(results) == 1 + len(layer.weights)          # δx, then every shared weight
    for result in results:
        assert result.relative_error < 1e-7, result


def test_each_step_is_the_inner_layer_on_that_slice_with_one_set_of_weights(float64):
    dense = mr.layers.Dense(3)
    layer = mr.layers.TimeDistributed(dense)
    x = np.random.default_rng(0).normal(size=(2, 4, 5))
    a = layer(x)
    assert a.shape == (2, 4, 3) and layer.count_params() == 5 * 3 + 3
    assert layer.weights[0] is dense.kernel
    for t in range(4):
        np.testing.assert_allclose(a[:, t], dense(x[:, t]), rtol=1e-14, atol=1e-15)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


@pytest.mark.parametrize("index", range(5), ids=[c[0] for c in inner_layers(mr)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_outputs_and_gradients_equal_keras(keras_env, index, dtype):
    keras = keras_env.keras
    _, make, shape = inner_layers(mr)[index]
    _, make_theirs, _ = inner_layers(keras)[index]
    x = np.random.default_rng(2).normal(size=(3, *shape)).astype(dtype)
    with keras_env.precision(dtype):
        ours = mr.layers.TimeDistributed(make())
        theirs = keras.layers.TimeDistributed(make_theirs())
        ours.build((None, *shape))
        theirs.build((None, *shape))
        random_weights(ours)
        theirs.set_weights(ours.get_weights())
        assert_pass_equals_keras(keras_env.tf, ours, theirs, x, upstream_seed=4)


def sequence_model(lib):
    return lib.Sequential([lib.Input((4, 5)),
                           lib.layers.TimeDistributed(lib.layers.Dense(3, activation="tanh")),
                           lib.layers.Flatten(), lib.layers.Dense(2)])


def test_a_short_fit_equals_keras(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(12, 4, 5)), rng.normal(size=(12, 2))
    with keras_env.precision("float64"):
        ours, theirs = sequence_model(mr), sequence_model(keras)
        ours.set_weights(theirs.get_weights())
        ours.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        theirs.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        kwargs = {"epochs": 3, "batch_size": 4, "shuffle": False, "verbose": 0}
        history = ours.fit(x, y, **kwargs).history["loss"]
        expected = theirs.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(w, v, rtol=1e-10, atol=1e-13)


def test_functional_model_of_video_frames_equals_keras(keras_env):
    """TimeDistributed(Conv2D) → TimeDistributed(Flatten) → TimeDistributed(Dense) in a
    functional model: the loss and every gradient as Keras' tape gives them."""
    keras, tf = keras_env.keras, keras_env.tf

    def build(lib):
        frames = lib.Input((3, 5, 5, 1))
        h = lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3, activation="relu"))(frames)
        h = lib.layers.TimeDistributed(lib.layers.Flatten())(h)
        h = lib.layers.TimeDistributed(lib.layers.Dense(2))(h)
        return lib.Model(frames, lib.layers.GlobalAveragePooling1D()(h))

    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(4, 3, 5, 5, 1)), rng.normal(size=(4, 2))
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras)
        ours.set_weights(theirs.get_weights())
        ours.compile(optimizer="sgd", loss="mse")
        loss, grads = ours.loss_and_gradients(x, y)
        with tf.GradientTape() as tape:
            expected_loss = keras.losses.mean_squared_error(y, theirs(x))
            expected_loss = tf.reduce_mean(expected_loss)
        expected = tape.gradient(expected_loss, theirs.trainable_variables)
    np.testing.assert_allclose(loss, float(expected_loss), rtol=1e-12)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=0, atol=1e-12 * np.abs(e).max())


def test_a_wrapped_softmax_gives_keras_clipped_cross_entropy(keras_env):
    """Keras' wrapper returns a new tensor (a stack of the steps), so a cross-entropy after
    TimeDistributed(Dense(softmax)) reads clipped probabilities, not the logits; minired's
    too: with saturated logits both give the same loss and gradients."""
    keras, tf = keras_env.keras, keras_env.tf

    def build(lib):
        dense = lib.layers.Dense(3, activation="softmax")
        return lib.Sequential([lib.Input((4, 5)), lib.layers.TimeDistributed(dense)])

    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(6, 4, 5)), np.eye(3)[rng.integers(0, 3, (6, 4))]
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras)
        weights = [rng.normal(0, 20, w.shape) for w in theirs.get_weights()]  # saturated
        ours.set_weights(weights)
        theirs.set_weights(weights)
        ours.compile("sgd", "categorical_crossentropy")
        loss, grads = ours.loss_and_gradients(x, y)
        with tf.GradientTape() as tape:
            expected_loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, theirs(x)))
        expected = tape.gradient(expected_loss, theirs.trainable_variables)
    assert loss > 5.0                                  # saturated: clipping decides the loss
    np.testing.assert_allclose(loss, float(expected_loss), rtol=1e-12)
    for g, e in zip(grads, expected, strict=True):
        np.testing.assert_allclose(g, np.asarray(e), rtol=0, atol=1e-12 * np.abs(e).max())


# -- training flag, masks ----------------------------------------------------------------------

def test_training_reaches_a_wrapped_dropout(float64):
    layer = mr.layers.TimeDistributed(mr.layers.Dropout(0.5, seed=1))
    x = np.ones((3, 4, 6))
    assert np.array_equal(layer(x), x)                           # inference: the identity
    a = layer(x, training=True)
    assert set(np.unique(a)) == {0.0, 2.0}                       # dropped, or kept × 1/(1-p)
    assert layer.layer.mask.shape == (12, 6)                     # one draw for N·T slices
    layer.generator = layer.layer.generator    # check_layer replays this generator's draws
    for result in check_layer(layer, np.random.default_rng(0).normal(size=(3, 4, 6)),
                              training=True):
        assert result.relative_error < 1e-8, result


def test_a_mask_passes_through_as_in_keras(keras_env):
    """Embedding(mask_zero) → TimeDistributed(Dense) → LSTM: the LSTM still skips the padded
    steps, and the outputs equal Keras'."""
    keras = keras_env.keras

    def build(lib):
        tokens = lib.Input((5,), dtype="int32")
        h = lib.layers.Embedding(7, 3, mask_zero=True)(tokens)
        h = lib.layers.TimeDistributed(lib.layers.Dense(4, activation="tanh"))(h)
        return lib.Model(tokens, lib.layers.LSTM(2)(h))

    x = np.array([[3, 1, 4, 0, 0], [2, 6, 0, 0, 0], [5, 5, 5, 5, 1]])
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras)
        ours.set_weights(theirs.get_weights())
        a = ours.predict(x, verbose=0)
        expected = theirs.predict(x, verbose=0)
        unmasked = ours.predict(np.where(x == 0, 6, x), verbose=0)
    np.testing.assert_allclose(a, expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(a[:2], unmasked[:2])                  # the mask was used
    layer = mr.layers.TimeDistributed(mr.layers.Dense(2))
    mask = np.array([[True, False, True]])
    assert layer.compute_mask(np.ones((1, 3, 4)), mask) is mask


def test_a_mask_reaching_a_layer_that_reads_it_is_refused():
    tokens = mr.Input((3, 4), dtype="int32")
    h = mr.layers.Embedding(5, 2, mask_zero=True)(tokens)        # (N, 3, 4, 2), mask (N, 3, 4)
    model = mr.Model(tokens, mr.layers.TimeDistributed(mr.layers.LSTM(2))(h))
    with pytest.raises(ValueError, match="reads masks"):
        model.predict(np.ones((2, 3, 4), dtype="int32"), verbose=0)
    layer = mr.layers.TimeDistributed(mr.layers.Dense(2))
    layer.build((None, 3, 4))
    with pytest.raises(ValueError, match="Expected mask shape prefix: \\(2, 3\\)"):
        layer.forward(np.ones((2, 3, 4)), mask=np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="at least 2D"):
        layer.forward(np.ones((2, 3, 4)), mask=np.ones((2,), dtype=bool))


# -- config, files ------------------------------------------------------------------------------

def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    ours = mr.layers.TimeDistributed(mr.layers.Dense(3, activation="relu", name="d"),
                                     name="td")
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="relu", name="d"),
                                          name="td")
    assert ours.get_config() == theirs.get_config()
    ours.build((None, 4, 5))
    theirs.build((None, 4, 5))
    # the inner layer's build_config too (Keras keeps a tuple until the JSON is written)
    assert ours.get_config() == json.loads(json.dumps(theirs.get_config()))
    again = mr.layers.TimeDistributed.from_config(theirs.get_config())
    assert isinstance(again.layer, mr.layers.Dense) and again.layer.units == 3


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_files_cross_load_with_keras(keras_env, tmp_path, kind):
    keras = keras_env.keras

    def build(lib):
        if kind == "sequential":
            return sequence_model(lib)
        frames = lib.Input((2, 4, 4, 1))
        h = lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3))(frames)
        h = lib.layers.TimeDistributed(lib.layers.LSTM(3))(
            lib.layers.Reshape((2, 4, 2))(h))                # an LSTM on each step's rows
        return lib.Model(frames, lib.layers.TimeDistributed(scaled_tanh_class(lib)())(h))

    model = build(mr)
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(size=w.shape).astype("float32")
                       for w in model.get_weights()])
    x = rng.normal(size=(2, *model.inputs[0].shape[1:])).astype("float32")
    model.save(tmp_path / "ours.keras")
    custom = {"ScaledTanh": scaled_tanh_class(keras)}
    loaded = keras.models.load_model(tmp_path / "ours.keras", custom_objects=custom)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    loaded.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras",
                                custom_objects={"ScaledTanh": scaled_tanh_class(mr)})
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    # the configs as Keras writes them again (but the last layer of the functional model:
    # Keras adds "autocast" and "activity_regularizer" to the config of a layer of yours)
    ours, theirs = layer_configs(tmp_path / "ours.keras"), layer_configs(tmp_path / "theirs.keras")
    count = len(ours) if kind == "sequential" else len(ours) - 1
    assert len(ours) == len(theirs) and ours[:count] == theirs[:count]


def layer_configs(path) -> list:
    """The ``layers`` of a ``.keras`` file's config.json, without Keras' object ids."""
    import zipfile

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "shared_object_id"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    with zipfile.ZipFile(path) as archive:
        return strip(json.loads(archive.read("config.json"))["config"]["layers"])


def test_a_model_as_the_wrapped_layer(keras_env, tmp_path):
    """TimeDistributed(Sequential([Dense, Dense])): outputs as Keras', a file both read."""
    keras = keras_env.keras

    def build(lib):
        inner = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, activation="tanh"),
                                lib.layers.Dense(2)])
        frames = lib.Input((5, 4))
        return lib.Model(frames, lib.layers.TimeDistributed(inner)(frames))

    x = np.random.default_rng(10).normal(size=(3, 5, 4))
    with keras_env.precision("float64"):
        ours, theirs = build(mr), build(keras)
        ours.set_weights(theirs.get_weights())
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=1e-12, atol=1e-14)
        for result in check_layer(ours.layers[1], x):
            assert result.relative_error < 1e-7, result
        ours.save(tmp_path / "ours.keras")
        loaded = keras.models.load_model(tmp_path / "ours.keras")
        np.testing.assert_allclose(loaded.predict(x, verbose=0), ours.predict(x, verbose=0),
                                   rtol=1e-12, atol=1e-14)


# -- what is refused ----------------------------------------------------------------------------

def test_bad_arguments_and_inputs_are_refused():
    with pytest.raises(ValueError, match="Layer` instance"):
        mr.layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match="takes a list of inputs"):
        mr.layers.TimeDistributed(mr.layers.Add())
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        mr.layers.TimeDistributed(mr.layers.Dense(2))(np.ones((4, 3)))
    layer = mr.layers.TimeDistributed(mr.layers.Dense(2))
    layer(np.ones((1, 3, 4)))
    with pytest.raises(ValueError, match="incompatible"):
        layer(np.ones((1, 3, 5)))                          # the kernel takes 4 features
    with pytest.raises(ValueError, match="one output"):
        mr.layers.TimeDistributed(mr.layers.LSTM(2, return_state=True)).compute_output_shape(
            (None, 3, 4, 5))


def test_what_one_merged_batch_cannot_compute_is_refused(float64):
    norm = mr.layers.TimeDistributed(mr.layers.BatchNormalization())
    x = np.random.default_rng(8).normal(size=(2, 3, 4))
    norm(x)                                                 # inference: per sample, allowed
    with pytest.raises(ValueError, match="BatchNormalization"):
        norm(x, training=True)

    class Penalized(mr.layers.Layer):
        def call(self, x):
            self.add_loss(mr.ops.mean(x))
            return x

    with pytest.raises(ValueError, match="adds losses"):
        mr.layers.TimeDistributed(Penalized())(x)
