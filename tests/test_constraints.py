"""Weight constraints: the projections against Keras, their configs, and their place in
training (after every optimizer step, in ``fit`` and in a custom loop), against Keras.

A constraint has no backward pass (it is applied to the weights after the update, not to
the loss), so there is no gradient check here: the tests compare values.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import minired as mr
from minired.constraints.attached import constraint_of


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


# -- the projections --------------------------------------------------------------------------

# (factory taking a constraints module, shape): the same arguments in both libraries.
PROJECTIONS = [
    (lambda c: c.MaxNorm(), (5, 3)),
    (lambda c: c.MaxNorm(0.5, axis=1), (4, 6)),
    (lambda c: c.MaxNorm(1.0, axis=[0, 1, 2]), (3, 3, 2, 4)),
    (lambda c: c.MaxNorm(0.7, axis=-1), (2, 3, 4)),
    (lambda c: c.MinMaxNorm(), (6, 3)),
    (lambda c: c.MinMaxNorm(0.5, 1.5, rate=0.3, axis=1), (4, 6)),
    (lambda c: c.MinMaxNorm(min_value=1.0, max_value=2.0, axis=[0, 1]), (3, 2, 5)),
    (lambda c: c.NonNeg(), (4, 5)),
    (lambda c: c.UnitNorm(), (5, 3)),
    (lambda c: c.UnitNorm(axis=[1, 2]), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("make", "shape"), PROJECTIONS)
def test_each_constraint_gives_keras_values(keras_env, make, shape, dtype):
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(len(shape))
    for scale in (0.05, 1.0, 5.0):           # norms below, around and above the bounds
        w = (scale * rng.normal(size=shape)).astype(dtype)
        ours = make(mr.constraints)(w)
        theirs = np.asarray(make(keras.constraints)(tf.constant(w)))
        assert ours.dtype == theirs.dtype == np.dtype(dtype)      # float32 stays float32
        # float32: TensorFlow may sum the squares in another order than NumPy (a few ulps).
        rtol = 1e-12 if dtype == "float64" else 1e-6
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


def test_the_formulas_by_hand():
    w = np.array([[3.0, 0.0, 0.3], [4.0, 0.0, 0.4]])          # column norms 5, 0, 0.5
    eps = 1e-7
    np.testing.assert_allclose(mr.constraints.MaxNorm(1.0)(w),
                               w * np.array([1 / (eps + 5), 0, 0.5 / (eps + 0.5)]))
    np.testing.assert_array_equal(mr.constraints.MaxNorm(1.0)(w)[:, 1], 0.0)   # 0 stays 0
    np.testing.assert_allclose(mr.constraints.UnitNorm()(w),
                               w / (eps + np.array([5.0, 0.0, 0.5])))
    desired = 0.5 * np.clip([5.0, 0.0, 0.5], 1.0, 2.0) + 0.5 * np.array([5.0, 0.0, 0.5])
    np.testing.assert_allclose(mr.constraints.MinMaxNorm(1.0, 2.0, rate=0.5)(w),
                               w * desired / (eps + np.array([5.0, 0.0, 0.5])))
    np.testing.assert_array_equal(mr.constraints.NonNeg()(np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 2.0])
    assert mr.constraints.Constraint()(w) is w


def test_float32_epsilon_and_bounds_are_cast_as_tensorflow_does():
    w = np.array([[1.0], [1.0]], dtype="float32")
    out = mr.constraints.MinMaxNorm(0.1, 0.3, rate=0.7)(w)
    norms = np.float32(np.sqrt(2))
    desired = np.float32(0.7) * np.float32(0.3) + np.float32(1 - 0.7) * norms
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, w * (desired / (np.float32(1e-7) + norms)))


# -- configs, get, serialize, deserialize -----------------------------------------------------

ALL_NAMES = ["Constraint", "constraint", "MaxNorm", "max_norm", "MinMaxNorm", "min_max_norm",
             "NonNeg", "non_neg", "UnitNorm", "unit_norm"]


def test_configs_round_trip_and_equal_keras(keras_env):
    keras = keras_env.keras
    for make, _ in PROJECTIONS:
        ours, theirs = make(mr.constraints), make(keras.constraints)
        assert ours.get_config() == theirs.get_config()
        again = type(ours).from_config(ours.get_config())
        assert again.get_config() == ours.get_config()
        assert mr.constraints.serialize(ours) == keras.constraints.serialize(theirs)
        through_json = json.loads(json.dumps(mr.constraints.serialize(ours)))
        assert mr.constraints.deserialize(through_json).get_config() == \
            json.loads(json.dumps(ours.get_config()))
        assert type(keras.constraints.deserialize(through_json)).__name__ == type(ours).__name__


def test_get_accepts_what_keras_accepts(keras_env):
    keras = keras_env.keras
    for name in ALL_NAMES:
        ours, theirs = mr.constraints.get(name), keras.constraints.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config() == theirs.get_config()
    assert mr.constraints.get(None) is None
    instance = mr.constraints.MaxNorm(3)
    assert mr.constraints.get(instance) is instance
    assert isinstance(mr.constraints.get(mr.constraints.UnitNorm), mr.constraints.UnitNorm)
    assert mr.constraints.get({"class_name": "MaxNorm", "config": {"max_value": 4,
                                                                   "axis": 1}}).axis == 1

    def clip(w):
        return np.clip(w, -1, 1)

    assert mr.constraints.get(clip) is clip            # a plain function, as Keras
    assert mr.constraints.deserialize("non_neg").__class__ is mr.constraints.NonNeg
    assert mr.constraints.max_norm is mr.constraints.MaxNorm


def test_bad_identifiers_and_arguments_are_refused():
    with pytest.raises(ValueError, match="Unknown constraint 'max_nrom'.*'max_norm'"):
        mr.constraints.get("max_nrom")
    with pytest.raises(ValueError, match="`constraint` must be"):
        mr.constraints.get(3)
    with pytest.raises(TypeError, match="`max_value` must be a number"):
        mr.constraints.MaxNorm("2")
    with pytest.raises(TypeError, match="`rate` must be a number"):
        mr.constraints.MinMaxNorm(rate=None)
    with pytest.raises(TypeError, match="`axis` must be an int or a list of ints"):
        mr.constraints.UnitNorm(axis=0.5)
    with pytest.raises(TypeError, match="`w` must be a float array"):
        mr.constraints.NonNeg()(np.array([1, -2]))
    with pytest.raises(ValueError, match="Unknown constraint"):
        mr.layers.Dense(2, kernel_constraint="maxnorm")
    with pytest.raises(ValueError, match="Expected a callable"):
        mr.Variable(np.ones(2), constraint="non_neg")


# -- layers: arguments, configs and Keras --------------------------------------------------------

def test_dense_config_is_keras_and_rebuilds(keras_env):
    keras = keras_env.keras
    ours = mr.layers.Dense(3, kernel_constraint=mr.constraints.MaxNorm(3, axis=0),
                           bias_constraint="non_neg", name="d")
    theirs = keras.layers.Dense(3, kernel_constraint=keras.constraints.MaxNorm(3, axis=0),
                                bias_constraint="non_neg", name="d")
    for key in ("kernel_constraint", "bias_constraint"):
        assert ours.get_config()[key] == theirs.get_config()[key]
    again = mr.layers.Dense.from_config(json.loads(json.dumps(theirs.get_config())))
    assert again.kernel_constraint.get_config() == {"max_value": 3, "axis": 0}
    assert isinstance(again.bias_constraint, mr.constraints.NonNeg)
    assert mr.layers.Dense(2).get_config()["kernel_constraint"] is None


# (minired factory, Keras factory, inputs): each layer trained one SGD step in both.
def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


LAYERS = {
    "Dense": (lambda L, c: L.Dense(4, kernel_constraint=c.MaxNorm(0.3),
                                   bias_constraint=c.NonNeg()), (6, 5)),
    "Conv1D": (lambda L, c: L.Conv1D(2, 3, kernel_constraint=c.UnitNorm(axis=[0, 1]),
                                     bias_constraint=c.NonNeg()), (3, 7, 2)),
    "Conv2D": (lambda L, c: L.Conv2D(2, 3, kernel_constraint=c.MaxNorm(0.2, axis=[0, 1, 2]),
                                     bias_constraint=c.NonNeg()), (3, 5, 5, 2)),
    "Conv2DTranspose": (lambda L, c: L.Conv2DTranspose(
        2, 3, kernel_constraint=c.MaxNorm(0.2, axis=[0, 1, 3]),
        bias_constraint=c.NonNeg()), (3, 4, 4, 2)),
    "DepthwiseConv2D": (lambda L, c: L.DepthwiseConv2D(
        3, depthwise_constraint=c.MinMaxNorm(0.1, 0.2, axis=[0, 1]),
        bias_constraint=c.NonNeg()), (3, 5, 5, 2)),
    "SeparableConv2D": (lambda L, c: L.SeparableConv2D(
        2, 3, depthwise_constraint=c.MaxNorm(0.2, axis=[0, 1]),
        pointwise_constraint=c.UnitNorm(axis=2), bias_constraint=c.NonNeg()), (3, 5, 5, 2)),
    "BatchNormalization": (lambda L, c: L.BatchNormalization(
        gamma_constraint=c.MaxNorm(0.5, axis=0), beta_constraint=c.NonNeg()), (6, 3)),
    "LayerNormalization": (lambda L, c: L.LayerNormalization(
        gamma_constraint=c.NonNeg(), beta_constraint=c.NonNeg()), (6, 3)),
    "PReLU": (lambda L, c: L.PReLU(alpha_initializer="zeros", alpha_constraint=c.NonNeg()),
              (6, 3)),
    "SimpleRNN": (lambda L, c: L.SimpleRNN(3, kernel_constraint=c.MaxNorm(0.3),
                                           recurrent_constraint=c.UnitNorm(),
                                           bias_constraint=c.NonNeg()), (3, 4, 2)),
    "LSTM": (lambda L, c: L.LSTM(2, kernel_constraint=c.MaxNorm(0.3),
                                 recurrent_constraint=c.UnitNorm(axis=1),
                                 bias_constraint=c.NonNeg()), (3, 4, 2)),
    "GRU": (lambda L, c: L.GRU(2, kernel_constraint=c.MaxNorm(0.3),
                               recurrent_constraint=c.MinMaxNorm(0.2, 0.4),
                               bias_constraint=c.NonNeg()), (3, 4, 2)),
}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_each_layer_applies_its_constraints_as_keras(keras_env, kind):
    """float64, one SGD step of a large learning rate: every weight equals Keras', and the
    config (with its constraints) is Keras' own."""
    keras = keras_env.keras
    make, shape = LAYERS[kind]
    x = _x(shape)
    with keras_env.precision("float64"):
        models = []
        for lib in (mr, keras):
            inputs = lib.Input(shape[1:])
            layer = make(lib.layers, lib.constraints)
            outputs = lib.layers.Flatten()(layer(inputs)) if len(shape) > 2 or kind in (
                "SimpleRNN", "LSTM", "GRU") else layer(inputs)
            model = lib.Model(inputs, outputs)
            model.compile(optimizer=lib.optimizers.SGD(0.5), loss="mse")
            models.append((model, layer))
        (ours, our_layer), (theirs, their_layer) = models
        theirs.set_weights(ours.get_weights())
        config, keras_config = our_layer.get_config(), their_layer.get_config()
        keys = [k for k in keras_config if k.endswith("_constraint")]
        assert keys and all(config[k] == keras_config[k] for k in keys)
        # targets that push the NonNeg weights below 0 (PReLU's α: above the inputs < 0)
        offset = 3.0 if kind == "PReLU" else -3.0
        y = _x((shape[0], *ours.output_shape[1:]), seed=1) + offset
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
        for w, kw in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, kw, rtol=1e-10, atol=1e-12)


def test_multi_head_attention_constrains_its_four_kernels(keras_env):
    keras = keras_env.keras
    x = _x((2, 4, 5))
    with keras_env.precision("float64"):
        models = []
        for lib in (mr, keras):
            inputs = lib.Input((4, 5))
            layer = lib.layers.MultiHeadAttention(
                2, 3, kernel_constraint=lib.constraints.MaxNorm(0.2),
                bias_constraint=lib.constraints.NonNeg())
            model = lib.Model(inputs, layer(inputs, inputs))
            model.compile(optimizer=lib.optimizers.SGD(0.5), loss="mse")
            models.append((model, layer))
        (ours, our_layer), (theirs, their_layer) = models
        theirs.set_weights(ours.get_weights())
        for key in ("kernel_constraint", "bias_constraint"):
            assert our_layer.get_config()[key] == their_layer.get_config()[key]
        y = _x((2, 4, 5), seed=1)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
        for w, kw in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, kw, rtol=1e-10, atol=1e-12)


# -- training ---------------------------------------------------------------------------------

def dense_models(keras, optimizer: str, dtype: str):
    mr.utils.set_random_seed(0)
    models = []
    for lib in (mr, keras):
        model = lib.Sequential([
            lib.Input((5,)),
            lib.layers.Dense(8, activation="tanh", kernel_constraint=lib.constraints.MaxNorm(1.0)),
            lib.layers.Dense(2, kernel_constraint=lib.constraints.MaxNorm(0.5, axis=0),
                             bias_constraint="non_neg"),
        ])
        opt = (lib.optimizers.SGD(0.3, momentum=0.9) if optimizer == "sgd"
               else lib.optimizers.Adam(0.1))
        model.compile(optimizer=opt, loss="mse")
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(24, 5)).astype(dtype), 3 * rng.normal(size=(24, 2)).astype(dtype)
    return models, x, y


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dense_with_max_norm_trains_as_keras(keras_env, optimizer, dtype):
    with keras_env.precision(dtype):
        (ours, theirs), x, y = dense_models(keras_env.keras, optimizer, dtype)
        kernel = ours.layers[0].kernel
        ours_loss = ours.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        theirs_loss = theirs.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        assert ours.layers[0].kernel is kernel and kernel.dtype == np.dtype(dtype)  # in place
        # float32: 9 steps of rounding, each a few ulps apart in TensorFlow's sums.
        rtol = 1e-10 if dtype == "float64" else 1e-5
        np.testing.assert_allclose(ours_loss.history["loss"], theirs_loss.history["loss"],
                                   rtol=rtol)
        for w, kw in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, kw, rtol=rtol, atol=rtol)
        norms = np.linalg.norm(ours.layers[0].kernel, axis=0)
        assert norms.max() <= 1.0 + 1e-6 and np.sum(norms > 1 - 1e-4) > 0   # it bites
        assert ours.layers[1].bias.min() >= 0


def test_a_custom_loop_with_apply_gradients_applies_the_constraints(keras_env):
    keras, tf = keras_env.keras, keras_env.tf
    with keras_env.precision("float64"):
        (ours, theirs), x, y = dense_models(keras, "sgd", "float64")
        our_opt, their_opt = mr.optimizers.SGD(0.5), keras.optimizers.SGD(0.5)
        for _ in range(4):
            _, grads = ours.loss_and_gradients(x, y)
            our_opt.apply_gradients(zip(grads, ours.trainable_weights, strict=True))
            with tf.GradientTape() as tape:
                loss = keras.losses.mean_squared_error(y, theirs(x))
                loss = tf.reduce_mean(loss)
            their_grads = tape.gradient(loss, theirs.trainable_weights)
            their_opt.apply_gradients(zip(their_grads, theirs.trainable_weights, strict=True))
        for w, kw in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_allclose(w, kw, rtol=1e-10, atol=1e-12)
        assert np.linalg.norm(ours.layers[0].kernel, axis=0).max() <= 1.0 + 1e-12


def test_variables_and_add_weight_carry_a_constraint():
    w = mr.Variable(np.array([-1.0, 2.0]), constraint=mr.constraints.NonNeg())
    mr.optimizers.SGD(0.1).apply_gradients([(np.array([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.value, [0.0, 1.9])            # -1.1 projected to 0
    layer = mr.layers.Layer()
    v = layer.add_weight(shape=(3,), initializer="ones", constraint="non_neg")
    assert isinstance(v.constraint, mr.constraints.NonNeg) and constraint_of(v) is v.constraint
    v.constraint = None
    assert constraint_of(v) is None
    assert copy.deepcopy(w).constraint is not None


def test_copies_and_unconstrained_weights():
    layer = mr.layers.Dense(2, kernel_constraint="non_neg")
    layer.build((None, 3))
    assert isinstance(constraint_of(layer.kernel), mr.constraints.NonNeg)
    assert constraint_of(layer.bias) is None
    twin = copy.deepcopy(layer)                   # new arrays: the constraint goes with them
    assert twin.kernel is not layer.kernel
    assert isinstance(constraint_of(twin.kernel), mr.constraints.NonNeg)
    assert constraint_of(np.array(layer.kernel)) is None      # a copy of the numbers is not


# -- .keras files -----------------------------------------------------------------------------

def test_keras_files_cross_load_with_their_constraints(keras_env, tmp_path):
    keras = keras_env.keras
    (ours, theirs), x, y = dense_models(keras, "sgd", "float32")
    ours.save(tmp_path / "ours.keras")
    loaded = keras.saving.load_model(tmp_path / "ours.keras")
    assert loaded.layers[0].kernel_constraint.get_config() == {"max_value": 1.0, "axis": 0}
    assert type(loaded.layers[1].bias_constraint).__name__ == "NonNeg"
    theirs.save(tmp_path / "theirs.keras")
    back = mr.saving.load_model(tmp_path / "theirs.keras")
    assert back.layers[1].kernel_constraint.get_config() == {"max_value": 0.5, "axis": 0}
    assert isinstance(back.layers[1].bias_constraint, mr.constraints.NonNeg)
    back.fit(x, y, epochs=1, batch_size=8, verbose=0)         # and they apply after loading
    assert np.linalg.norm(back.layers[0].kernel, axis=0).max() <= 1.0 + 1e-6
    assert back.layers[1].bias.min() >= 0
