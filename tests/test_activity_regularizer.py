"""Any layer's ``activity_regularizer``: the penalty ``R = r(a)/N`` on its outputs, added to the
loss at every call, and its gradient ``r'(a)/N`` added to ``δa``: beside Keras, in graphs,
in your own layers and models, in files."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_model
from minired.layers.activity import activity_penalty

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 5))
Y = RNG.integers(0, 3, 6)
IMAGES = RNG.normal(size=(4, 6, 6, 2))
SEQUENCES = RNG.normal(size=(4, 5, 3))


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def dense_model():
    return mr.Sequential([
        mr.Input((5,)),
        mr.layers.Dense(8, activation="relu", activity_regularizer=mr.regularizers.L1(0.05)),
        mr.layers.Dense(4, activation="tanh",
                        activity_regularizer=mr.regularizers.L1L2(l1=0.01, l2=0.1)),
        mr.layers.Dense(3, activation="softmax", activity_regularizer="l2"),
    ])


def conv_model():
    return mr.Sequential([
        mr.Input((6, 6, 2)),
        mr.layers.Conv2D(3, 3, activation="relu", activity_regularizer=mr.regularizers.L1(0.02)),
        mr.layers.Flatten(),
        mr.layers.Dense(3, activation="softmax"),
    ])


def recurrent_model():
    return mr.Sequential([
        mr.Input((5, 3)),
        mr.layers.LSTM(4, return_sequences=True, activity_regularizer=mr.regularizers.L2(0.05)),
        mr.layers.GRU(3, activity_regularizer=mr.regularizers.L1(0.01)),
        mr.layers.Dense(3, activation="softmax"),
    ])


def functional_model():
    """A fork (one regularized output read twice) and a regularized layer used twice."""
    inputs = mr.Input((5,))
    shared = mr.layers.Dense(5, activation="tanh", activity_regularizer=mr.regularizers.L1(0.03))
    h = shared(inputs)
    h = shared(h)
    left = mr.layers.Dense(4, activation="relu", activity_regularizer="l1")(h)
    right = mr.layers.Dense(4)(h)
    joined = mr.layers.Add()([left, right])
    return mr.Model(inputs, mr.layers.Dense(3, activation="softmax")(joined))


MODELS = {"dense": (dense_model, X), "conv": (conv_model, IMAGES),
          "recurrent": (recurrent_model, SEQUENCES), "functional": (functional_model, X)}


# -- the penalty and its gradient ----------------------------------------------------------------

def test_penalty_is_r_of_a_over_the_batch_size():
    a = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    value, backward = activity_penalty(mr.regularizers.L1L2(l1=0.1, l2=0.2), a)
    l1, l2 = float(np.float32(0.1)), float(np.float32(0.2))   # Keras' float32 coefficients
    assert float(value) == pytest.approx((l1 * np.abs(a).sum() + l2 * (a * a).sum()) / 3,
                                         rel=1e-15)
    np.testing.assert_allclose(backward(np.float64(1.0)),
                               (l1 * np.sign(a) + 2 * l2 * a) / 3, rtol=1e-15)
    empty, _ = activity_penalty(mr.regularizers.L1(0.1), np.zeros((0, 2)))
    assert float(empty) == 0.0                                   # divide_no_nan
    one = np.zeros((2,), np.float32)
    assert activity_penalty(mr.regularizers.L2(), one)[0].dtype == np.float32


@pytest.mark.parametrize("name", sorted(MODELS))
def test_gradients_match_finite_differences(float64, name):
    make, x = MODELS[name]
    mr.utils.set_random_seed(1)
    model = make()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    results = check_model(model, x, Y[:len(x)])
    assert max(r.relative_error for r in results) < 1e-6, results


def test_the_penalty_reaches_the_gradient():
    """Without the regularizer the gradients differ: δa really carries ∂R/∂a."""
    mr.utils.set_random_seed(2)
    model = dense_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss, grads = model.loss_and_gradients(X, Y)
    for layer in model.layers:
        layer.activity_regularizer = None
    plain_loss, plain = model.loss_and_gradients(X, Y)
    assert loss > plain_loss
    assert all(not np.allclose(g, p) for g, p in zip(grads[:4], plain[:4], strict=True))


# -- beside Keras ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_train_as_in_keras(keras_env, tmp_path, name):
    keras = keras_env.keras
    make, x = MODELS[name]
    y = Y[:len(x)]
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(3)
        model = make()
        model.compile(mr.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model.save(tmp_path / "m.keras")
        twin = keras.saving.load_model(tmp_path / "m.keras")
        ours_out, theirs_out = model(x), twin(x)
        ours_losses = [float(v) for v in model.losses]
        theirs_losses = [float(v) for v in twin.losses]
        ours = model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        ours_eval = model.evaluate(x, y, verbose=0)
        theirs_eval = twin.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(ours_out, theirs_out, rtol=1e-13, atol=1e-15)
    assert len(ours_losses) == len(theirs_losses) > 0
    np.testing.assert_allclose(sorted(ours_losses), sorted(theirs_losses), rtol=1e-13)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    np.testing.assert_allclose(ours_eval, theirs_eval, rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-11, atol=1e-13)


def test_float32_training_matches_keras(keras_env, tmp_path):
    keras = keras_env.keras
    x = X.astype("float32")
    mr.utils.set_random_seed(4)
    model = dense_model()
    model.compile(mr.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.save(tmp_path / "m.keras")
    twin = keras.saving.load_model(tmp_path / "m.keras")
    ours = model.fit(x, Y, epochs=4, batch_size=3, shuffle=False, verbose=0)
    theirs = twin.fit(x, Y, epochs=4, batch_size=3, shuffle=False, verbose=0)
    # float32: the sums of the penalties and of the matrix products round in another order
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=2e-6)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-4, atol=2e-6)


def test_a_layer_called_on_its_own_has_keras_losses(keras_env):
    keras = keras_env.keras
    with keras_env.precision("float64"):
        ours = mr.layers.Dense(3, activity_regularizer=mr.regularizers.L1L2(0.1, 0.2))
        ours(X)
        twin = keras.layers.Dense(3, activity_regularizer=keras.regularizers.L1L2(0.1, 0.2))
        twin(X)
        twin.set_weights(ours.get_weights())
        twin(X)
        ours(X)                                   # the losses are the last call's
        assert len(ours.losses) == 1 == len(twin.losses)
        np.testing.assert_allclose(float(ours.losses[0]), float(twin.losses[0]), rtol=1e-14)


def test_your_own_layers_and_models_get_the_penalty_through_the_tape(keras_env):
    """A built-in layer called in your ``call``, and your own layer with a regularizer."""
    keras = keras_env.keras

    def classes(lib):
        class Scale(lib.layers.Layer):
            def build(self, input_shape):
                self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, inputs):
                return inputs * self.s

        class Net(lib.Model):
            def __init__(self):
                super().__init__()
                self.hidden = lib.layers.Dense(4, activation="tanh",
                                               activity_regularizer=lib.regularizers.L1(0.1))
                self.scale = Scale(activity_regularizer=lib.regularizers.L2(0.2))
                self.out = lib.layers.Dense(3, activation="softmax")

            def call(self, inputs):
                return self.out(self.scale(self.hidden(inputs)))
        return Net

    with keras_env.precision("float64"):
        mr.utils.set_random_seed(5)
        model, twin = classes(mr)(), classes(keras)()
        model(X)
        twin(X)
        twin.set_weights(model.get_weights())
        for net, opt in ((model, mr.optimizers.SGD(0.1)), (twin, keras.optimizers.SGD(0.1))):
            net.compile(opt, "sparse_categorical_crossentropy")
        ours = model.fit(X, Y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        theirs = twin.fit(X, Y, epochs=3, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-11, atol=1e-13)


LAYERS = [
    ("Dense", {"units": 3}), ("Conv1D", {"filters": 2, "kernel_size": 2}),
    ("Conv2D", {"filters": 2, "kernel_size": 2}),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2}),
    ("DepthwiseConv2D", {"kernel_size": 2}),
    ("SeparableConv2D", {"filters": 2, "kernel_size": 2}),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 3}),
    ("Embedding", {"input_dim": 5, "output_dim": 2}), ("LSTM", {"units": 2}),
    ("GRU", {"units": 2}), ("BatchNormalization", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), LAYERS)
def test_config_equals_keras_and_loads_back(keras_env, name, kwargs):
    keras = keras_env.keras
    regularizer = {"l1": 0.01, "l2": 0.02}
    ours = getattr(mr.layers, name)(
        name="layer", activity_regularizer=mr.regularizers.L1L2(**regularizer), **kwargs)
    theirs = getattr(keras.layers, name)(
        name="layer", activity_regularizer=keras.regularizers.L1L2(**regularizer), **kwargs)
    config = ours.get_config()
    assert config["activity_regularizer"] == keras.regularizers.serialize(
        theirs.activity_regularizer)
    assert config.keys() == theirs.get_config().keys()
    again = getattr(mr.layers, name).from_config(theirs.get_config())
    assert again.activity_regularizer.get_config() == ours.activity_regularizer.get_config()
    # without one, the key is written as Keras writes it (or not at all)
    plain = getattr(mr.layers, name)(name="layer", **kwargs).get_config()
    keras_plain = getattr(keras.layers, name)(name="layer", **kwargs).get_config()
    assert plain.get("activity_regularizer") == keras_plain.get("activity_regularizer")
    assert ("activity_regularizer" in plain) == ("activity_regularizer" in keras_plain)


def test_simple_rnn_keeps_its_regularizer_where_keras_drops_it(keras_env):
    """Keras 3.15's SimpleRNN takes ``activity_regularizer`` and never passes it on, so it
    writes None and penalizes nothing; minired applies it (a deliberate difference)."""
    keras = keras_env.keras
    theirs = keras.layers.SimpleRNN(2, activity_regularizer="l2")
    assert theirs.activity_regularizer is None
    ours = mr.layers.SimpleRNN(2, activity_regularizer="l2")
    assert ours.get_config()["activity_regularizer"]["class_name"] == "L2"
    ours(SEQUENCES)
    assert len(ours.losses) == 1 and float(ours.losses[0]) > 0


def test_a_name_that_is_no_regularizer_is_refused():
    with pytest.raises(ValueError, match="regularizer"):
        mr.layers.Dense(2, activity_regularizer="l3")


def test_multi_head_attention_refuses_it_clearly():
    """Keras regularizes the outputs of its four projections, which minired does not."""
    with pytest.raises(ValueError, match="projections"):
        mr.layers.MultiHeadAttention(2, 2, activity_regularizer="l2")
    config = mr.layers.MultiHeadAttention(2, 2).get_config()
    assert config["activity_regularizer"] is None


def test_wrappers_refuse_a_wrapped_layer_with_one():
    """Keras calls the wrapped layer as a layer (its penalty counts); minired's wrappers run
    its forward pass, so they refuse it rather than drop the penalty."""
    with pytest.raises(ValueError, match="activity_regularizer"):
        mr.layers.Bidirectional(mr.layers.LSTM(2, activity_regularizer="l2"))
    with pytest.raises(ValueError, match="activity_regularizer"):
        mr.layers.SpectralNormalization(mr.layers.Dense(2, activity_regularizer="l2"))
    wrapper = mr.layers.Bidirectional(mr.layers.LSTM(2), activity_regularizer="l2")
    wrapper(SEQUENCES)
    assert len(wrapper.losses) == 1
