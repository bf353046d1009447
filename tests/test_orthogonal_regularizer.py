"""OrthogonalRegularizer: the penalty and its gradient beside the formula, central differences
and Keras/TensorFlow; its name, config and a saved model that carries it."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import numerical_gradient, relative_error

W = np.random.default_rng(0).normal(size=(5, 3))


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def mean_abs_cosine(vectors):
    """The mean |cos| over the pairs i<j of rows, written the obvious way (a reference)."""
    n = len(vectors)
    norm = np.linalg.norm
    cosines = [abs(vectors[i] @ vectors[j]) / norm(vectors[i]) / norm(vectors[j])
               for i in range(n) for j in range(i + 1, n)]
    return np.mean(cosines)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_penalty_is_factor_times_the_mean_absolute_cosine(mode):
    reg = mr.regularizers.OrthogonalRegularizer(factor=0.5, mode=mode)
    vectors = W if mode == "rows" else W.T
    assert reg(W) == pytest.approx(0.5 * mean_abs_cosine(vectors), rel=1e-13)


def test_orthogonal_rows_give_zero_and_parallel_rows_give_the_factor():
    reg = mr.regularizers.OrthogonalRegularizer(factor=2.0)
    assert reg(np.diag([1.0, 3.0, 0.5])) == 0.0
    assert reg(np.array([[1.0, 2.0], [-2.0, -4.0], [0.5, 1.0]])) == pytest.approx(2.0, rel=1e-15)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 2)])
def test_gradient_matches_central_differences_in_float64(mode, shape):
    w = np.random.default_rng(1).normal(size=shape)
    reg = mr.regularizers.OrthogonalRegularizer(factor=0.3, mode=mode)
    analytic = reg.gradient(w)
    numeric = numerical_gradient(lambda: reg(w), w)
    assert analytic.shape == w.shape and analytic.dtype == np.float64
    assert relative_error(analytic, numeric) < 1e-7


def test_gradient_is_orthogonal_to_each_row():
    """R depends on each row's direction only, so ∂R/∂w_i ⟂ w_i (the radial part is removed)."""
    reg = mr.regularizers.OrthogonalRegularizer(factor=1.0)
    np.testing.assert_allclose(np.sum(reg.gradient(W) * W, axis=1), 0.0, atol=1e-15)


def test_zero_row_and_single_row():
    reg = mr.regularizers.OrthogonalRegularizer()
    zeros = np.zeros((3, 3))
    assert reg(zeros) == 0.0
    np.testing.assert_array_equal(reg.gradient(zeros), zeros)  # sign(0) = 0, as TensorFlow
    assert np.isnan(reg(np.ones((1, 3))))                       # no pairs: 0/0, as Keras
    assert np.isnan(reg.gradient(np.ones((1, 3)))).all()


def test_float32_stays_float32():
    w = W.astype(np.float32)
    reg = mr.regularizers.OrthogonalRegularizer()
    assert reg(w).dtype == np.float32 and reg.gradient(w).dtype == np.float32


def test_names_config_and_errors():
    reg_type = mr.regularizers.OrthogonalRegularizer
    assert mr.regularizers.orthogonal_regularizer is reg_type
    assert type(mr.regularizers.get("orthogonal_regularizer")) is reg_type
    assert type(mr.regularizers.get("OrthogonalRegularizer")) is reg_type
    reg = reg_type()
    assert reg.get_config() == {"factor": 0.009999999776482582, "mode": "rows"}
    again = reg_type.from_config(reg_type(0.25, mode="columns").get_config())
    assert again.get_config() == {"factor": 0.25, "mode": "columns"}
    assert mr.regularizers.serialize(again) == {
        "module": "keras.regularizers", "class_name": "OrthogonalRegularizer",
        "config": {"factor": 0.25, "mode": "columns"}, "registered_name": None}
    assert mr.regularizers.deserialize(mr.regularizers.serialize(again)).mode == "columns"
    with pytest.raises(ValueError, match="Received: mode='cols'"):
        reg_type(mode="cols")
    with pytest.raises(ValueError, match="factor"):
        reg_type(factor=-1.0)
    with pytest.raises(ValueError, match=r"must have rank 2. Received: inputs.shape=\(3,\)"):
        reg(np.ones(3))
    with pytest.raises(TypeError, match="float array"):
        reg(np.ones((2, 2), dtype=int))


# --- against Keras ----------------------------------------------------------------------------
def keras_penalty_and_gradient(keras_env, w, factor, mode):
    """Keras' penalty and TensorFlow's gradient of it, for a weight variable."""
    tf = keras_env.tf
    theirs = keras_env.keras.regularizers.OrthogonalRegularizer(factor, mode=mode)
    if w.dtype == np.float64:
        # Keras' factor is a float32 tensor that TensorFlow refuses to multiply by float64
        # weights; give it the same float32-rounded value in float64 (what minired does).
        theirs.factor = tf.constant(float(theirs.factor), tf.float64)
    variable = tf.Variable(w)
    with tf.GradientTape() as tape:
        value = theirs(variable)
    return value.numpy(), tape.gradient(value, variable).numpy()


def test_keras_itself_refuses_float64_weights(keras_env):
    tf = keras_env.tf
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras_env.keras.regularizers.OrthogonalRegularizer()(tf.Variable(W))


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-14), ("float32", 1e-6)])
@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 4)])
def test_penalty_and_gradient_match_keras(keras_env, mode, shape, dtype, tolerance):
    # float32: TensorFlow's rsqrt and matmul round differently from NumPy's 1/sqrt and @ (a
    # few ulps), hence rtol 1e-6 there.
    w = np.random.default_rng(2).normal(size=shape).astype(dtype)
    ours = mr.regularizers.OrthogonalRegularizer(0.01, mode=mode)
    value, gradient = keras_penalty_and_gradient(keras_env, w, 0.01, mode)
    assert ours(w).dtype == value.dtype
    np.testing.assert_allclose(ours(w), value, rtol=tolerance)
    np.testing.assert_allclose(ours.gradient(w), gradient, rtol=tolerance,
                               atol=tolerance * np.abs(gradient).max())


def test_zero_rows_match_keras(keras_env):
    w = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5], [0.5, -1.0, 2.0]], dtype=np.float32)
    ours = mr.regularizers.OrthogonalRegularizer(0.5)
    value, gradient = keras_penalty_and_gradient(keras_env, w, 0.5, "rows")
    np.testing.assert_allclose(ours(w), value, rtol=1e-6)
    np.testing.assert_allclose(ours.gradient(w), gradient, rtol=1e-6, atol=1e-9)


def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    for args in [(), (0.25,), (0.1, "columns")]:
        ours = mr.regularizers.OrthogonalRegularizer(*args)
        theirs = keras.regularizers.OrthogonalRegularizer(*args)
        assert ours.get_config() == theirs.get_config()
        assert mr.regularizers.serialize(ours) == keras.regularizers.serialize(theirs)


def test_saved_models_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    x = np.random.default_rng(3).normal(size=(6, 4)).astype("float32")
    y = np.random.default_rng(4).normal(size=(6, 3)).astype("float32")
    reg = mr.regularizers.OrthogonalRegularizer(0.2, mode="columns")
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, kernel_regularizer=reg)])
    model.compile("sgd", "mse")
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert theirs.layers[0].kernel_regularizer.get_config() == reg.get_config()
    np.testing.assert_allclose(theirs.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    back = mr.saving.load_model(tmp_path / "ours.keras")
    assert back.layers[0].kernel_regularizer.get_config() == reg.get_config()

    keras_model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(
        3, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(0.3))])
    keras_model.compile("sgd", "mse")
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    loaded_reg = loaded.layers[0].kernel_regularizer
    assert isinstance(loaded_reg, mr.regularizers.OrthogonalRegularizer)
    assert loaded_reg.get_config() == {"factor": float(np.float32(0.3)), "mode": "rows"}
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0),
                               keras_model.evaluate(x, y, verbose=0), rtol=1e-6)
