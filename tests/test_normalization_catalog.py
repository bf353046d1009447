"""GroupNormalization, UnitNormalization, RMSNormalization, SpatialDropout1D/3D and AlphaDropout
against finite differences and Keras: outputs, gradients, configs, files and a short fit."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_recurrent import keras_forward_and_gradients

import minired as mr
from comparisons.sampling import binomial_z, mean_z, variance_z
from minired.gradcheck import check_layer
from minired.layers.regularization.alpha_dropout import ALPHA, SCALE

Z_BOUND = 5.0        # a 5-sigma test: a correct sampler fails it with probability 6e-7

#: ``(layer, kwargs, input shape per sample)``: every setting checked against Keras.
SETTINGS = [
    ("GroupNormalization", {"groups": 2}, (3, 6)),
    ("GroupNormalization", {"groups": 3, "epsilon": 1e-5}, (4, 4, 6)),
    ("GroupNormalization", {"groups": -1, "center": False}, (5, 4)),
    ("GroupNormalization", {"groups": 1, "scale": False}, (3, 4)),
    ("GroupNormalization", {"groups": 2, "axis": 1}, (4, 3)),
    ("GroupNormalization", {"groups": 2, "axis": -2, "gamma_regularizer": "l2"}, (3, 4, 2)),
    ("UnitNormalization", {}, (6,)),
    ("UnitNormalization", {"axis": [1, 2]}, (3, 4)),
    ("UnitNormalization", {"axis": 1}, (3, 4)),
    ("RMSNormalization", {}, (6,)),
    ("RMSNormalization", {"axis": [-2, -1], "epsilon": 1e-3}, (3, 4)),
    ("RMSNormalization", {"axis": 1}, (6,)),
]
IDS = [f"{name}{kwargs}" for name, kwargs, _ in SETTINGS]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def random_weights(layer, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(1.0, 0.5, w.shape) for w in layer.get_weights()])


def assert_pass_equals_keras(tf, ours, theirs, x, upstream_seed: int) -> None:
    """``ours`` and ``theirs`` built with the same weights: the output ``a``, ``δx`` and every
    ``∂L/∂w`` of ``L = Σ a ⊙ δa`` (``δa`` standard normal from ``upstream_seed``) equal
    Keras' (``tf.GradientTape``), relative to the largest value: float64 leaves roundings
    only; float32 the same formula summed in another order by TensorFlow, so float32's
    1e-5 step bound."""
    a = ours.forward(x)
    upstream = np.random.default_rng(upstream_seed).normal(size=a.shape).astype(x.dtype)
    ours.zero_gradients()
    grad_x = ours.backward(upstream)
    (expected_a,), expected = keras_forward_and_gradients(tf, theirs, x, [upstream])
    tolerance = 1e-12 if x.dtype == np.float64 else 1e-5
    for ours_v, theirs_v in zip([a, grad_x, *ours.trainable_gradients],
                                [expected_a, *expected], strict=True):
        assert ours_v.dtype == x.dtype and ours_v.shape == theirs_v.shape
        np.testing.assert_allclose(ours_v, theirs_v, rtol=0,
                                   atol=tolerance * np.abs(theirs_v).max())


# -- the normalizations -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "kwargs", "shape"), SETTINGS, ids=IDS)
def test_backward_matches_finite_differences(float64, name, kwargs, shape):
    layer = getattr(mr.layers, name)(**kwargs)
    x = np.random.default_rng(7).normal(2.0, 3.0, size=(3, *shape))
    layer.build((None, *shape))
    random_weights(layer)
    for result in check_layer(layer, x):
        assert result.relative_error < 1e-7, result


def test_each_group_of_each_sample_is_normalized_alone(float64):
    """Groups of 2 channels: mean 0, variance σ²/(σ² + ε) over the pixels and the group's
    channels; groups=1 is LayerNormalization over every non-batch axis."""
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 5, 4))
    a = mr.layers.GroupNormalization(groups=2, epsilon=1e-6)(x)
    grouped, out = x.reshape(2, 5, 2, 2), a.reshape(2, 5, 2, 2)
    variance = grouped.var(axis=(1, 3))
    np.testing.assert_allclose(out.mean(axis=(1, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(1, 3)), variance / (variance + 1e-6), rtol=1e-12)
    layer_norm = mr.layers.LayerNormalization(axis=[1, 2], epsilon=1e-6)(x)
    np.testing.assert_allclose(mr.layers.GroupNormalization(groups=1, epsilon=1e-6)(x),
                               layer_norm, rtol=1e-12, atol=1e-12)


def test_unit_and_rms_normalization_formulas(float64):
    x = np.random.default_rng(1).normal(size=(4, 6))
    a = mr.layers.UnitNormalization()(x)
    np.testing.assert_allclose(np.sum(a**2, axis=1), 1.0, rtol=1e-14)
    zero = mr.layers.UnitNormalization()
    assert np.array_equal(zero(np.zeros((1, 3))), np.zeros((1, 3)))        # no 0/0
    rms = mr.layers.RMSNormalization(epsilon=0.0)(x)
    np.testing.assert_allclose(np.mean(rms**2, axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize(("name", "kwargs", "shape"), SETTINGS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_outputs_and_gradients_equal_keras(keras_env, name, kwargs, shape, dtype):
    keras = keras_env.keras
    x = np.random.default_rng(2).normal(1.0, 2.0, size=(4, *shape)).astype(dtype)
    with keras_env.precision(dtype):
        ours = getattr(mr.layers, name)(**kwargs)
        theirs = getattr(keras.layers, name)(**kwargs)
        ours.build((None, *shape))
        theirs.build((None, *shape))
        random_weights(ours)
        theirs.set_weights(ours.get_weights())
        assert_pass_equals_keras(keras_env.tf, ours, theirs, x, upstream_seed=3)


def test_unit_normalization_of_a_zero_sample_equals_keras(keras_env):
    """``r`` capped at ``1/ε``: a zero sample stays 0 and gets ``δx = δa/ε``, as in Keras."""
    keras, tf = keras_env.keras, keras_env.tf
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], dtype="float32")
    upstream = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]], dtype="float32")
    layer = mr.layers.UnitNormalization()
    a = layer(x)
    grad_x = layer.backward(upstream)
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        expected_a = keras.layers.UnitNormalization()(tensor)
        total = tf.reduce_sum(expected_a * upstream)
    expected = tape.gradient(total, tensor).numpy()
    np.testing.assert_array_equal(a[0], 0.0)
    np.testing.assert_allclose(a, expected_a.numpy(), rtol=1e-6)
    np.testing.assert_allclose(grad_x, expected, rtol=1e-6)
    np.testing.assert_allclose(grad_x[0], upstream[0] * 1e12, rtol=1e-6)


def normalized_model(lib):
    inputs = lib.Input((4, 6))
    h = lib.layers.Dense(6, activation="tanh")(inputs)
    h = lib.layers.GroupNormalization(groups=3)(h)
    h = lib.layers.RMSNormalization()(lib.layers.Dense(4)(h))
    h = lib.layers.UnitNormalization()(h)
    return lib.Model(inputs, lib.layers.Dense(1)(lib.layers.Flatten()(h)))


def test_a_short_fit_equals_keras(keras_env):
    keras = keras_env.keras
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(16, 4, 6)), rng.normal(size=(16, 1))
    with keras_env.precision("float64"):
        ours, theirs = normalized_model(mr), normalized_model(keras)
        weights = theirs.get_weights()
        weights = [w + rng.normal(0, 0.3, w.shape) for w in weights]    # γ, β away from 1, 0
        theirs.set_weights(weights)
        ours.set_weights(weights)
        ours.compile(optimizer=mr.optimizers.Adam(0.01), loss="mse")
        theirs.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        kwargs = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
        history = ours.fit(x, y, **kwargs).history["loss"]
        expected = theirs.fit(x, y, **kwargs).history["loss"]
    np.testing.assert_allclose(history, expected, rtol=1e-12)
    for w, v in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(w, v, rtol=1e-10, atol=1e-13)


# -- configs and files ---------------------------------------------------------------------------

CONFIGS = [(name, kwargs, shape) for name, kwargs, shape in SETTINGS] + [
    ("GroupNormalization", {"groups": 2, "gamma_constraint": "non_neg"}, (3, 4)),
    ("SpatialDropout1D", {"rate": 0.3, "seed": 2}, (4, 3)),
    ("SpatialDropout3D", {"rate": 0.3}, (2, 2, 2, 3)),
    ("AlphaDropout", {"rate": 0.2, "noise_shape": [None, 1], "seed": 5}, (3,)),
]


@pytest.mark.parametrize(("name", "kwargs", "shape"), CONFIGS,
                         ids=[f"{n}{k}" for n, k, _ in CONFIGS])
def test_config_equals_keras(keras_env, name, kwargs, shape):
    keras = keras_env.keras
    ours = getattr(mr.layers, name)(**kwargs, name="x")
    theirs = getattr(keras.layers, name)(**kwargs, name="x")
    assert ours.get_config() == theirs.get_config()
    ours.build((None, *shape))
    theirs.build((None, *shape))
    # once built: groups=-1 becomes C, an axis a sorted list, as Keras
    assert ours.get_config() == json.loads(json.dumps(theirs.get_config()))
    # in a model, as a file writes it: build_config only where Keras builds on first call
    ours, theirs = (library.Sequential([library.Input(shape),
                                        getattr(library.layers, name)(**kwargs, name="x")])
                    for library in (mr, keras))
    assert (json.loads(json.dumps(ours.get_config()["layers"][1]))
            == json.loads(json.dumps(theirs.get_config()["layers"][1])))


def catalog_model(lib):
    inputs = lib.Input((4, 6))
    h = lib.layers.GroupNormalization(groups=2, epsilon=1e-5)(inputs)
    h = lib.layers.SpatialDropout1D(0.2, seed=1)(h)
    h = lib.layers.AlphaDropout(0.1, seed=2)(h)
    h = lib.layers.RMSNormalization(axis=[1, 2])(h)
    h = lib.layers.UnitNormalization()(h)
    h = lib.layers.Reshape((2, 2, 2, 3))(h)
    return lib.Model(inputs, lib.layers.SpatialDropout3D(0.1)(h))


def test_files_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    model = catalog_model(mr)
    random_weights(model)
    model.save(tmp_path / "ours.keras")
    x = np.random.default_rng(5).normal(size=(2, 4, 6)).astype("float32")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    loaded.save(tmp_path / "theirs.keras")
    back = mr.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in back.layers] == [
        type(layer).__name__ for layer in catalog_model(keras).layers]
    # the layers' configs, nodes and build configs as Keras writes them again
    assert layer_configs(tmp_path / "ours.keras") == layer_configs(tmp_path / "theirs.keras")


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


# -- the dropouts -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "shape", "mask_shape"), [
    ("SpatialDropout1D", (3, 5, 4), (3, 1, 4)),
    ("SpatialDropout3D", (2, 3, 2, 2, 4), (2, 1, 1, 1, 4))])
def test_spatial_dropout_drops_whole_channels(float64, name, shape, mask_shape):
    layer = getattr(mr.layers, name)(0.5, seed=3)
    x = np.random.default_rng(0).normal(size=shape)
    assert layer(x) is x                                     # inference: the identity
    a = layer(x, training=True)
    assert layer.mask.shape == mask_shape
    np.testing.assert_array_equal(a, x * 2.0 * layer.mask)   # 1/(1 - rate) = 2
    for result in check_layer(layer, x, training=True):
        assert result.relative_error < 1e-8, result


@pytest.mark.parametrize("name", ["SpatialDropout1D", "SpatialDropout3D"])
def test_spatial_dropout_keeps_the_rate_of_channels_like_keras(keras_env, name):
    """Each library's fraction of dropped channels against ``rate``, in standard errors."""
    keras = keras_env.keras
    shape = (400, 3, 50) if name == "SpatialDropout1D" else (400, 2, 1, 2, 50)
    x = np.ones(shape, dtype="float32")
    for library in (mr, keras):
        a = np.asarray(getattr(library.layers, name)(0.3, seed=4)(x, training=True))
        channels = a.reshape(400, -1, 50)
        assert np.all(channels == channels[:, :1])           # the same over the other axes
        assert abs(binomial_z(channels[:, 0] == 0, 0.3)) < Z_BOUND


def alpha_constants(rate: float) -> tuple[float, float, float]:
    """``α'``, ``A``, ``B`` of AlphaDropout, from the SELU paper's formulas."""
    alpha_p = -ALPHA * SCALE
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    return alpha_p, a, -a * alpha_p * rate


def test_alpha_dropout_formula_and_gradient(float64):
    layer = mr.layers.AlphaDropout(0.3, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 7))
    assert layer(x) is x                                     # inference: the identity
    out = layer(x, training=True)
    k = layer.mask
    alpha_p, a, b = alpha_constants(0.3)
    np.testing.assert_allclose(out, a * (x * k + alpha_p * (1 - k)) + b, rtol=1e-15)
    for result in check_layer(layer, x, training=True):
        assert result.relative_error < 1e-8, result
    shaped = mr.layers.AlphaDropout(0.5, noise_shape=(None, 1), seed=2)
    shaped(x, training=True)
    assert shaped.mask.shape == (5, 1)


@pytest.mark.parametrize("rate", [0.1, 0.4])
def test_alpha_dropout_keeps_mean_0_and_variance_1_in_both_libraries(keras_env, rate):
    """For x ~ N(0, 1): a has mean 0 and variance 1 (the point of AlphaDropout), and both
    libraries drop the fraction ``rate`` and use the same two values ``A x + B``, ``A α' + B``."""
    keras = keras_env.keras
    x = np.random.default_rng(3).standard_normal((400, 50)).astype("float32")
    alpha_p, a, b = alpha_constants(rate)
    c = rate * alpha_p                                      # E[x'], x' = x k + α'(1 − k)
    fourth = a**4 * ((1 - rate) * (3 + 6 * c**2 + c**4) + rate * (alpha_p * (1 - rate))**4)
    outputs = {}
    for library in (mr, keras):
        out = np.asarray(library.layers.AlphaDropout(rate, seed=5)(x, training=True))
        dropped = np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-6)
        np.testing.assert_allclose(out[~dropped], (a * x + b)[~dropped], rtol=0, atol=1e-6)
        assert abs(binomial_z(dropped, rate)) < Z_BOUND
        assert abs(mean_z(out, 0.0, 1.0)) < Z_BOUND
        assert abs(variance_z(out, 1.0, fourth)) < Z_BOUND
        outputs[library.__name__] = out
    assert not math.isclose(float(np.mean(outputs["minired"] == outputs["keras"])), 1.0)


# -- what is refused ----------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: mr.layers.GroupNormalization(groups=0), ValueError, "`groups`"),
    (lambda: mr.layers.GroupNormalization(groups=2.0), ValueError, "`groups`"),
    (lambda: mr.layers.GroupNormalization(axis=[1, 2]), TypeError, "`axis`"),
    (lambda: mr.layers.GroupNormalization(axis=0), ValueError, "batch axis"),
    (lambda: mr.layers.UnitNormalization(axis="last"), TypeError, "`axis`"),
    (lambda: mr.layers.RMSNormalization(axis=1.5), TypeError, "`axis`"),
    (lambda: mr.layers.AlphaDropout(1.5), ValueError, "`rate`"),
    (lambda: mr.layers.AlphaDropout(1.0), ValueError, "below 1"),
    (lambda: mr.layers.SpatialDropout1D(-0.1), ValueError, "`rate`"),
    (lambda: mr.layers.SpatialDropout3D(0.1, data_format="channels_first"), ValueError,
     "channels_last"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="must be a multiple"):
        mr.layers.GroupNormalization(groups=4)(np.ones((2, 6)))       # 4 does not divide 6
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        mr.layers.GroupNormalization(groups=8)(np.ones((2, 6)))
    with pytest.raises(ValueError, match="defined dimension"):
        mr.layers.GroupNormalization(groups=2).build((None, 3, None))
    layer = mr.layers.GroupNormalization(groups=2)
    layer(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(np.ones((2, 3, 6)))
    with pytest.raises(ValueError, match="out of bounds"):
        mr.layers.RMSNormalization(axis=2)(np.ones((2, 4)))
    with pytest.raises(ValueError, match="must be the last ones"):     # Keras: a broadcast
        mr.layers.RMSNormalization(axis=1)(np.ones((2, 3, 4)))       # error, or a wrong axis
    with pytest.raises(ValueError, match="out of bounds"):
        mr.layers.UnitNormalization(axis=3)(np.ones((2, 4)))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        mr.layers.SpatialDropout1D(0.5)(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
        mr.layers.SpatialDropout3D(0.5)(np.ones((2, 3, 4, 5)))
