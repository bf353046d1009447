"""Keras 3's newer activations (``mr.activations.NEWER_ACTIVATIONS``): celu, glu, hard_shrink,
hard_tanh, log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid, sparsemax, squareplus,
tanh_shrink and threshold.

Each against finite differences (float64), against Keras and ``tf.GradientTape`` (values and
δz, float64 and float32, the kinks included), by name in Dense and Activation, and in a
``.keras`` file both libraries read.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_function

#: (name, keyword arguments, kinks to keep away from): every function and each argument.
CASES = [
    ("celu", {}, (0.0,)),
    ("celu", {"alpha": 0.3}, (0.0,)),
    ("glu", {}, ()),
    ("glu", {"axis": 0}, ()),
    ("hard_shrink", {}, (-0.5, 0.5)),
    ("hard_shrink", {"threshold": 1.5}, (-1.5, 1.5)),
    ("hard_tanh", {}, (-1.0, 1.0)),
    ("log_sigmoid", {}, ()),
    ("soft_shrink", {}, (-0.5, 0.5)),
    ("soft_shrink", {"threshold": 0.3}, (-0.3, 0.3)),
    ("sparse_plus", {}, (-1.0, 1.0)),
    ("sparse_sigmoid", {}, (-1.0, 1.0)),
    ("squareplus", {}, ()),
    ("squareplus", {"b": 0.3}, ()),
    ("tanh_shrink", {}, ()),
    ("threshold", {"threshold": 0.3, "default_value": -2.0}, (0.3,)),
]
IDS = [f"{n}-{a}" if a else n for n, a, _ in CASES]
#: The kinks (and both thresholds) planted in the inputs compared with Keras.
KINKS = [0.0, -0.5, 0.5, -1.0, 1.0, 0.3, -0.3, 1.5]


def away_from(kinks, seed: int, shape=(6, 8), bound: float = 4.0) -> np.ndarray:
    """float64 inputs in ±bound, each at least 1e-3 from every kink (finite differences with
    step 1e-6 must not straddle one)."""
    z = np.random.default_rng(seed).uniform(-bound, bound, size=shape)
    for kink in kinks:
        near = np.abs(z - kink) < 1e-3
        z[near] = kink + 2e-3
    return z


# -- the names -----------------------------------------------------------------------------

def test_every_newer_activation_is_exported_and_found_by_name():
    for name, fn in mr.activations.NEWER_ACTIVATIONS.items():
        assert getattr(mr.activations, name) is fn
        assert mr.activations.get(name) is fn
        assert mr.activations.serialize(fn) == name
        assert mr.activations.deserialize(name) is fn
        assert name in mr.activations.__all__


def test_keras_has_the_same_names_and_default_arguments():
    keras = pytest.importorskip("keras")
    import inspect

    for name, fn in mr.activations.NEWER_ACTIVATIONS.items():
        theirs = inspect.signature(getattr(keras.activations, name)).parameters
        ours = inspect.signature(fn).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name


# -- formulas ------------------------------------------------------------------------------

def test_values_at_a_few_points_follow_the_definitions():
    z = np.array([-2.0, -0.5, 0.0, 0.25, 1.0, 3.0])
    a = mr.activations
    np.testing.assert_allclose(a.celu(z, alpha=2.0),
                               np.where(z >= 0, z, 2.0 * (np.exp(z / 2.0) - 1)), rtol=1e-15)
    np.testing.assert_array_equal(a.hard_tanh(z), [-1.0, -0.5, 0.0, 0.25, 1.0, 1.0])
    np.testing.assert_array_equal(a.hard_shrink(z), [-2.0, 0.0, 0.0, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(a.soft_shrink(z), [-1.5, 0.0, 0.0, 0.0, 0.5, 2.5])
    np.testing.assert_array_equal(a.sparse_plus(z), [0.0, 0.0625, 0.25, 0.390625, 1.0, 3.0])
    np.testing.assert_array_equal(a.sparse_sigmoid(z), [0.0, 0.25, 0.5, 0.625, 1.0, 1.0])
    np.testing.assert_array_equal(a.threshold(z, 0.25, 9.0), [9.0, 9.0, 9.0, 9.0, 1.0, 3.0])
    np.testing.assert_allclose(a.squareplus(z), (z + np.sqrt(z * z + 4)) / 2, rtol=1e-15)
    np.testing.assert_allclose(a.tanh_shrink(z), z - np.tanh(z), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(a.log_sigmoid(z), np.log(1 / (1 + np.exp(-z))), rtol=1e-14)
    # glu: the first half gated by the sigmoid of the second.
    x = np.array([[1.0, -2.0, 0.0, 3.0]])
    np.testing.assert_allclose(a.glu(x), [[0.5, -2.0 / (1 + np.exp(-3.0))]], rtol=1e-15)


def test_log_sigmoid_stays_finite_and_exact_in_both_tails():
    z = np.array([-800.0, -40.0, 40.0, 800.0])
    a = mr.activations.log_sigmoid(z)
    np.testing.assert_allclose(a[:2], z[:2], rtol=1e-15)        # log σ(z) ≈ z far below 0
    np.testing.assert_allclose(a[2:], -np.exp(-z[2:]), rtol=1e-15)   # ≈ -e^{-z} far above
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # e^800 = inf: no warning
        grad = mr.activations.log_sigmoid.backward(z, a, np.ones_like(z))
    np.testing.assert_allclose(grad, [1.0, 1.0, np.exp(-40.0), 0.0], rtol=1e-15)


def test_sparsemax_is_a_distribution_with_exact_zeros():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(50, 7))
    p = mr.activations.sparsemax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(p >= 0) and np.any(p == 0)
    # τ moves with z: sparsemax(z + c) = sparsemax(z); a dominant score takes everything.
    np.testing.assert_allclose(mr.activations.sparsemax(z + 3.5), p, atol=1e-14)
    np.testing.assert_array_equal(mr.activations.sparsemax(np.array([[5.0, 1.0, 0.0]])),
                                  [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(mr.activations.sparsemax(z.T, axis=0), p.T, atol=1e-15)


def test_sparsemax_derivative_is_the_support_minus_its_mean():
    z = np.array([[1.0, 0.5, 0.0, -3.0]])                       # support {0, 1}: a = .75, .25
    grad = np.array([[1.0, 3.0, 5.0, 7.0]])
    np.testing.assert_allclose(mr.activations.sparsemax(z), [[0.75, 0.25, 0.0, 0.0]])
    np.testing.assert_array_equal(mr.activations.sparsemax.backward(z, None, grad),
                                  [[-1.0, 1.0, 0.0, 0.0]])


def test_derivatives_at_the_kinks_are_tensorflows():
    a = mr.activations

    def derivative(f, z, **arguments):
        z = np.asarray(z, dtype=np.float64)
        return f.backward(z, f(z, **arguments), np.ones_like(z), **arguments)

    # celu: max and min both pass the gradient on a tie, so 2 at z = 0.
    np.testing.assert_array_equal(derivative(a.celu, [-1e-300, 0.0, 1e-300]), [1.0, 2.0, 1.0])
    np.testing.assert_array_equal(derivative(a.hard_tanh, [-1.0, 1.0, 1.5]), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(derivative(a.hard_shrink, [-0.5, 0.5, 0.6]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(derivative(a.soft_shrink, [-0.5, 0.5, -0.6]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(derivative(a.sparse_sigmoid, [-1.0, 1.0, 0.0]), [0, 0, 0.5])
    np.testing.assert_array_equal(derivative(a.sparse_plus, [-1.0, 1.0]), [0.0, 1.0])
    np.testing.assert_array_equal(derivative(a.threshold, [0.3, 0.4], threshold=0.3,
                                             default_value=0.0), [0.0, 1.0])


def test_glu_refuses_an_odd_axis_and_halves_it():
    with pytest.raises(ValueError, match=r"axis=-1 must be divisible by 2.*\(2, 3\)"):
        mr.activations.glu(np.ones((2, 3)))
    assert mr.activations.glu(np.ones((4, 6)), axis=0).shape == (2, 6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "arguments", "kinks"), CASES, ids=IDS)
def test_float32_stays_float32(name, arguments, kinks, dtype):
    z = away_from(kinks, seed=1).astype(dtype)
    f = mr.activations.get(name)
    a = f(z, **arguments)
    assert a.dtype == z.dtype
    assert f.backward(z, a, np.ones_like(a), **arguments).dtype == z.dtype


# -- gradients against finite differences (float64) ------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "arguments", "kinks"), CASES, ids=IDS)
def test_backward_matches_numerical_gradient(name, arguments, kinks, seed):
    z = away_from(kinks, seed)
    f = mr.activations.get(name)
    result = check_function(partial(f, **arguments), partial(f.backward, **arguments), z,
                            seed=seed)
    assert result.relative_error < 1e-7, str(result)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_backward_matches_numerical_gradient(axis):
    z = np.random.default_rng(4).normal(size=(6, 8)) / 2      # supports of several elements
    f = mr.activations.sparsemax
    result = check_function(partial(f, axis=axis), partial(f.backward, axis=axis), z, seed=2)
    assert result.relative_error < 1e-7, str(result)


# -- side by side with Keras ---------------------------------------------------------------

@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


#: float64: measured at most 2e-15 (relative, per array); float32: at most 3e-7.
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


def _relative(mine: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(mine - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def _with_keras(keras_env, dtype, ours_fn, theirs_fn, z, upstream):
    """(a, δz) from minired and from Keras with tf.GradientTape on the same z and δa."""
    tf = keras_env.tf
    with keras_env.precision(dtype):
        ours = ours_fn(z)
        variable = tf.Variable(z)
        with tf.GradientTape() as tape:
            theirs = theirs_fn(variable)
        their_grad = tape.gradient(theirs, variable, output_gradients=tf.constant(upstream))
    return ours, np.asarray(theirs), np.asarray(their_grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "arguments", "kinks"), CASES, ids=IDS)
def test_values_and_gradients_match_keras(keras_env, name, arguments, kinks, dtype):
    rng = np.random.default_rng(7)
    z = rng.uniform(-4, 4, size=(16, 8)).astype(dtype)
    z[0] = KINKS                                                   # on every kink
    f = mr.activations.get(name)
    shape = f(z, **arguments).shape
    upstream = rng.normal(size=shape).astype(dtype)
    ours, theirs, their_grad = _with_keras(
        keras_env, dtype, lambda x: f(x, **arguments),
        lambda v: getattr(keras_env.keras.activations, name)(v, **arguments), z, upstream)
    grad = f.backward(z, ours, upstream, **arguments)
    assert ours.dtype == theirs.dtype == np.dtype(dtype)
    assert _relative(ours, theirs) <= KERAS_TOLERANCE[dtype]
    assert _relative(grad, their_grad) <= KERAS_TOLERANCE[dtype]


def test_sparsemax_matches_keras_where_its_support_has_one_element(keras_env):
    """Keras 3.15's τ is right when one score dominates each row (a one-hot output)."""
    z = np.random.default_rng(5).normal(size=(8, 6))
    z[np.arange(8), np.arange(8) % 6] += 4.0
    upstream = np.random.default_rng(6).normal(size=z.shape)
    ours, theirs, their_grad = _with_keras(keras_env, "float64", mr.activations.sparsemax,
                                           keras_env.keras.activations.sparsemax, z, upstream)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(mr.activations.sparsemax.backward(z, ours, upstream),
                               their_grad, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_matches_keras_formula_with_its_fix(keras_env, dtype, axis):
    """Against Keras' TensorFlow code with the τ of keras-team/keras#23469 (see
    comparisons/activations_catalog.py), on supports of several elements."""
    from comparisons.activations_catalog import _keras_sparsemax_fixed

    rng = np.random.default_rng(8)
    z = (rng.normal(size=(16, 8)) / 4).astype(dtype)
    upstream = rng.normal(size=z.shape).astype(dtype)
    ours, theirs, their_grad = _with_keras(keras_env, dtype,
                                           partial(mr.activations.sparsemax, axis=axis),
                                           partial(_keras_sparsemax_fixed, axis=axis), z,
                                           upstream)
    grad = mr.activations.sparsemax.backward(z, ours, upstream, axis=axis)
    assert np.all(np.sum(ours > 0, axis=axis) >= 2)          # several elements in each support
    assert _relative(ours, theirs) <= KERAS_TOLERANCE[dtype]
    assert _relative(grad, their_grad) <= KERAS_TOLERANCE[dtype]


# -- by name in layers, and in saved files ------------------------------------------------

@pytest.mark.parametrize("name", sorted(set(mr.activations.NEWER_ACTIVATIONS) - {"threshold"}))
def test_dense_and_activation_take_the_name(name):
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    dense = mr.layers.Dense(6, activation=name)
    units = 3 if name == "glu" else 6                       # glu halves the last axis
    assert dense(x).shape == (3, units)
    assert dense.get_config()["activation"] == name
    layer = mr.layers.Activation(name)
    np.testing.assert_array_equal(layer(x), getattr(mr.activations, name)(x))
    assert mr.layers.Activation.from_config(layer.get_config()).activation is layer.activation


def test_threshold_without_its_arguments_fails_as_in_keras():
    with pytest.raises(TypeError):
        mr.layers.Dense(2, activation="threshold")(np.ones((1, 3), dtype="float32"))


@pytest.mark.parametrize("name", ["celu", "hard_tanh", "log_sigmoid", "squareplus",
                                  "sparse_plus", "tanh_shrink", "soft_shrink"])
def test_dense_gradients_by_name_match_the_model_gradient_check(name):
    """A hidden Dense with the activation, under a linear output and MSE (float64)."""
    mr.config.set_floatx("float64")
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(5, activation=name),
                           mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(6, 4))
    y = np.random.default_rng(2).normal(size=(6, 2))
    for result in mr.gradcheck.check_model(model, x, y):
        assert result.relative_error < 1e-7, str(result)


def test_a_saved_model_cross_loads_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(6, activation="squareplus"),
                           mr.layers.Activation("soft_shrink"),
                           mr.layers.Dense(2, activation="celu")])
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)),
                               model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    keras_model = keras.Sequential([keras.Input((4,)),
                                    keras.layers.Dense(6, activation="log_sigmoid"),
                                    keras.layers.Activation("hard_tanh")])
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    assert loaded.layers[0].activation is mr.activations.log_sigmoid
    np.testing.assert_allclose(loaded.predict(x, verbose=0),
                               np.asarray(keras_model.predict(x, verbose=0)), rtol=1e-6,
                               atol=1e-6)
