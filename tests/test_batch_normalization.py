"""BatchNormalization: its formulas, its gradients, its moving statistics, and Keras beside it.

Read first: ``test_training_forward_is_gamma_x_hat_plus_beta`` (the formulas by hand), then
the side-by-side tests with Keras (same weights, same inputs, TensorFlow's gradients from
``tf.GradientTape``), then the property-based gradient check.

Summation order, the one difference from TensorFlow: the batch mean and variance are sums
over the rows of each channel. NumPy adds the rows one after the other; TensorFlow's CPU
kernel (Eigen) does too when a channel has fewer than 16 rows or the channels do not fill a
SIMD packet (4 float64, 8 float32), and otherwise keeps 4 interleaved partial sums (rows
0, 4, 8…; 1, 5, 9…; …) that it adds at the end. So the statistics agree bit for bit in
the first case and to a few ulps in the second; both cases are tested below.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import STEP, TOLERANCE, arrays, gradient_settings

import minired as mr
from minired.gradcheck import check_layer
from minired.layers.normalization import BatchNormalization


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


@pytest.fixture
def exported(monkeypatch):
    """``mr.layers.BatchNormalization`` for the saving code, which finds layer classes there
    (a no-op once ``minired/layers/__init__.py`` exports it)."""
    monkeypatch.setattr(mr.layers, "BatchNormalization", BatchNormalization, raising=False)


def some_weights(layer, rng, dtype):
    """γ, β, moving mean and variance away from their initial ones, 0s and 1s."""
    channels = layer.moving_mean.shape[0]
    values = []
    if layer.scale:
        values.append(rng.uniform(0.5, 2.0, channels))
    if layer.center:
        values.append(rng.normal(size=channels))
    values += [rng.normal(size=channels), rng.uniform(0.5, 2.0, channels)]
    return [v.astype(dtype) for v in values]


# -- the formulas, by hand ------------------------------------------------------------------------

def test_training_forward_is_gamma_x_hat_plus_beta(float64):
    x = np.array([[1.0, 10.0], [3.0, 30.0], [8.0, -4.0]])
    layer = BatchNormalization(momentum=0.9, epsilon=0.01)
    layer.build((None, 2))
    layer.set_weights([np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.zeros(2), np.ones(2)])
    out = layer(x, training=True)
    mean, variance = x.mean(axis=0), x.var(axis=0)                   # biased: 1/m
    x_hat = (x - mean) / np.sqrt(variance + 0.01)
    np.testing.assert_allclose(out, [2.0, 0.5] * x_hat + [1.0, -1.0], rtol=1e-14)
    np.testing.assert_allclose(layer.moving_mean, 0.1 * mean, rtol=1e-14)
    np.testing.assert_allclose(layer.moving_variance, 0.9 + 0.1 * variance, rtol=1e-14)


def test_inference_uses_the_moving_statistics_and_changes_nothing(float64):
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    layer = BatchNormalization()
    layer.build((None, 2))
    weights = [np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.array([0.5, 5.0]),
               np.array([4.0, 9.0])]
    layer.set_weights(weights)
    out = layer(x)                                      # training=False by default
    expected = [2.0, 0.5] * (x - [0.5, 5.0]) / np.sqrt(np.array([4.0, 9.0]) + 1e-3)
    np.testing.assert_allclose(out, expected + [1.0, -1.0], rtol=1e-14)
    for mine, given_weight in zip(layer.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(mine, given_weight)


def test_training_backward_is_the_derived_formula(float64):
    rng = np.random.default_rng(0)
    x, grad = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    layer = BatchNormalization(gamma_initializer="ones")
    layer(x, training=True)
    grad_x = layer.backward(grad)
    m = 6
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    expected = (m * grad - grad.sum(0) - x_hat * (grad * x_hat).sum(0)) / (
        m * np.sqrt(x.var(0) + 1e-3))
    np.testing.assert_allclose(grad_x, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.gamma_gradient, (grad * x_hat).sum(0), rtol=1e-13)
    np.testing.assert_allclose(layer.beta_gradient, grad.sum(0), rtol=1e-14)
    np.testing.assert_allclose(grad_x.sum(0), 0.0, atol=1e-12)    # Σ δx = 0 per channel


def test_float32_stays_float32():
    layer = BatchNormalization()
    x = np.random.default_rng(0).normal(size=(4, 3, 2)).astype("float32")
    out = layer(x, training=True)
    grads = [layer.backward(np.ones_like(out)), *layer.gradients]
    assert {a.dtype for a in [out, *grads, *layer.weights]} == {np.dtype("float32")}


# -- weights, shapes, configuration -----------------------------------------------------------

@pytest.mark.parametrize(("center", "scale", "names"), [
    (True, True, ["gamma", "beta", "moving_mean", "moving_variance"]),
    (True, False, ["beta", "moving_mean", "moving_variance"]),
    (False, True, ["gamma", "moving_mean", "moving_variance"]),
    (False, False, ["moving_mean", "moving_variance"])])
def test_weights_in_keras_order_with_moving_statistics_non_trainable(center, scale, names):
    layer = BatchNormalization(center=center, scale=scale)
    layer.build((None, 5, 3))
    assert len(layer.weights) == len(names) == len(layer.gradients)
    assert [w.shape for w in layer.weights] == [(3,)] * len(names)
    trainable = layer.trainable_weights
    assert len(trainable) == len(names) - 2
    assert all(w is v for w, v in zip(trainable, layer.weights, strict=False))
    assert [id(w) for w in layer.non_trainable_weights] == [id(layer.moving_mean),
                                                            id(layer.moving_variance)]
    np.testing.assert_array_equal(layer.get_weights()[-2], 0.0)
    np.testing.assert_array_equal(layer.get_weights()[-1], 1.0)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == len(names)


@pytest.mark.parametrize(("shape", "axis"), [((None, 4), -1), ((None, 5, 4), -1),
                                             ((None, 6, 5, 4), -1), ((None, 4, 5, 6), 1),
                                             ((None, 5, 4), 2), ((None, 4, 5), -2)])
def test_any_rank_and_channel_axis(float64, shape, axis):
    layer = BatchNormalization(axis=axis)
    x = np.random.default_rng(1).normal(size=(3, *shape[1:])) * 4 + 2
    out = layer(x, training=True)
    assert out.shape == x.shape == layer.compute_output_shape((3, *shape[1:]))
    assert layer.moving_mean.shape == (4,)
    others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    np.testing.assert_allclose(out.mean(axis=others), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=others), x.var(axis=others) / (
        x.var(axis=others) + 1e-3), rtol=1e-12)


def test_shapes_are_checked_once_built():
    layer = BatchNormalization()
    layer(np.ones((2, 3), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(np.ones((2, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match="out of bounds"):
        BatchNormalization(axis=2).build((None, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        BatchNormalization(axis=3).compute_output_shape((None, 3))


def test_keras_only_arguments_are_refused_unless_at_their_default():
    BatchNormalization(beta_constraint=None, renorm=False, renorm_momentum=0.99,
                       synchronized=False)
    for argument in [{"renorm": True}, {"synchronized": True},
                     {"renorm_clipping": {"rmax": 2.0}}, {"renorm_momentum": 0.9}]:
        with pytest.raises(ValueError, match=f"`{next(iter(argument))}`.*not implemented"):
            BatchNormalization(**argument)
    with pytest.raises(TypeError, match="`axis` must be an int"):
        BatchNormalization(axis=[1, 2])          # Keras 3: int(axis), one channel axis


def test_get_config_is_keras_config_key_for_key(keras_env):
    keras = keras_env.keras
    arguments = [{}, {"axis": 1, "momentum": 0.9, "epsilon": 1e-5, "center": False,
                      "beta_initializer": "ones", "gamma_initializer": "zeros",
                      "moving_mean_initializer": "ones",
                      "moving_variance_initializer": "zeros", "gamma_regularizer": "l2",
                      "beta_regularizer": "l1", "trainable": False}]
    for kwargs in arguments:
        ours = BatchNormalization(name="bn", **kwargs)
        theirs = keras.layers.BatchNormalization(name="bn", **kwargs)
        assert ours.get_config() == theirs.get_config()
        assert list(ours.get_config()) == list(theirs.get_config())
        again = BatchNormalization.from_config(theirs.get_config())
        assert again.get_config() == ours.get_config()


# -- side by side with Keras ----------------------------------------------------------------------

#: float64: measured at most 9e-16 (relative to the largest |value|); float32: at most 8e-7.
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 2e-6}

CASES = [((8, 5), -1), ((32, 16), -1), ((7, 3, 4), -1), ((4, 5, 6, 3), -1),
         ((4, 3, 5, 6), 1), ((1, 3), -1)]


def keras_call(keras_env, layer, x, upstream, training):
    """Keras' outputs and ``[δx, *∂L/∂trainable]`` under tf.GradientTape."""
    tf = keras_env.tf
    variable = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = layer(variable, training=training)
    grads = tape.gradient(out, [variable, *layer.trainable_variables],
                          output_gradients=tf.constant(upstream))
    return np.asarray(out), [np.asarray(g) for g in grads]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("shape", "axis"), CASES)
@pytest.mark.parametrize(("center", "scale"), [(True, True), (False, False)])
def test_values_and_gradients_match_keras(keras_env, dtype, training, shape, axis, center,
                                          scale):
    """Three calls in a row (the moving statistics move between them when training)."""
    keras = keras_env.keras
    rng = np.random.default_rng(len(shape) + shape[0])
    with keras_env.precision(dtype):
        ours = BatchNormalization(axis=axis, center=center, scale=scale)
        theirs = keras.layers.BatchNormalization(axis=axis, center=center, scale=scale)
        ours.build((None, *shape[1:]))
        theirs.build((None, *shape[1:]))
        weights = some_weights(ours, rng, dtype)
        ours.set_weights(weights)
        theirs.set_weights(weights)
        for _ in range(3):
            x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
            upstream = rng.normal(size=shape).astype(dtype)
            out = ours(x, training=training)
            ours.zero_gradients()
            grads = [ours.backward(upstream), *ours.trainable_gradients]
            their_out, their_grads = keras_call(keras_env, theirs, x, upstream, training)
            for mine, keras_value in zip([out, *grads], [their_out, *their_grads], strict=True):
                assert mine.dtype == keras_value.dtype == np.dtype(dtype)
                scale_of = max(float(np.max(np.abs(keras_value))), 1e-30)
                error = float(np.max(np.abs(mine - keras_value))) / scale_of
                assert error <= KERAS_TOLERANCE[dtype], (shape, axis, error)


def eigen_row_sums(rows: np.ndarray) -> np.ndarray:
    """TensorFlow's CPU order for summing ``rows`` (R, C) over R when C fills SIMD packets:
    in order below 16 rows, else 4 interleaved partial sums added at the end, then the
    leftover rows."""
    if len(rows) < 16:
        return np.sum(rows, axis=0)            # NumPy adds the rows in order too
    partial = [np.zeros_like(rows[0]) for _ in range(4)]
    whole = len(rows) // 4 * 4
    for j in range(0, whole, 4):
        for k in range(4):
            partial[k] = partial[k] + rows[j + k]
    total = ((partial[0] + partial[1]) + partial[2]) + partial[3]
    for row in rows[whole:]:
        total = total + row
    return total


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("shape", "exact"), [((8, 5), True), ((7, 3, 4), None),
                                              ((4, 5, 6, 3), True), ((64, 8), False)])
def test_moving_statistics_match_keras(keras_env, dtype, shape, exact):
    """Five training calls. Bit for bit when TensorFlow sums the rows in order (fewer than 16
    rows, or fewer channels than a SIMD packet: (7, 3, 4) has 21 rows of 4 channels, a packet
    of float64s but not of float32s); else within a few ulps, and Keras' values are then
    exactly Keras' update formula with the sums taken in TensorFlow's order."""
    if exact is None:
        exact = dtype == "float32"
    keras = keras_env.keras
    rng = np.random.default_rng(7)
    momentum = 0.9
    with keras_env.precision(dtype):
        ours = BatchNormalization(momentum=momentum)
        theirs = keras.layers.BatchNormalization(momentum=momentum)
        ours.build((None, *shape[1:]))
        theirs.build((None, *shape[1:]))
        tf_order = [np.zeros(shape[-1], dtype), np.ones(shape[-1], dtype)]
        for _ in range(5):
            x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
            ours(x, training=True)
            theirs(x, training=True)
            if len(shape) == 2:                  # Keras' update, sums in TensorFlow's order
                mean = eigen_row_sums(x) / dtype_(dtype, shape[0])
                variance = eigen_row_sums(np.square(x - mean)) / dtype_(dtype, shape[0])
                tf_order = [tf_order[0] * momentum + mean * (1.0 - momentum),
                            tf_order[1] * momentum + variance * (1.0 - momentum)]
    keras_values = [np.asarray(v) for v in theirs.non_trainable_weights]
    for mine, keras_value, reference in zip(ours.get_weights()[-2:], keras_values, tf_order,
                                            strict=True):
        assert mine.dtype == keras_value.dtype == np.dtype(dtype)
        if exact:
            np.testing.assert_array_equal(mine, keras_value)
        else:
            # 8 ulps: TensorFlow sums the rows in another order here (see the docstring).
            np.testing.assert_allclose(mine, keras_value, rtol=8 * np.finfo(dtype).eps)
        if len(shape) == 2:
            np.testing.assert_array_equal(keras_value, reference)


def dtype_(dtype: str, value: int):
    return np.dtype(dtype).type(value)


def test_tensorflow_sums_rows_with_four_partial_sums(keras_env):
    """Why the moving statistics can differ in the last bits (see the module docstring)."""
    tf = keras_env.tf
    rows = np.random.default_rng(3).normal(size=(37, 8)) * 3 + 1
    tf_mean = tf.reduce_mean(tf.constant(rows), axis=0).numpy()
    np.testing.assert_array_equal(tf_mean, eigen_row_sums(rows) / 37)
    assert np.any(tf_mean != rows.mean(axis=0))            # NumPy's order: another rounding


# -- training a model in both libraries ------------------------------------------------------------

def fit_both(keras_env, optimizer: str, functional: bool, frozen: bool = False):
    """Dense(use_bias=False) → BN → relu → Dense(softmax), 5 epochs, float64. (No bias before
    the BN: its gradient is rounding noise, see KERAS_PARITY item 28.)"""
    keras = keras_env.keras
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)) * 2 + 1
    y = np.eye(3)[rng.integers(0, 3, size=40)]
    make = {"SGD": lambda o: o.SGD(0.1, momentum=0.9), "Adam": lambda o: o.Adam(0.01)}[optimizer]

    def build(lib):
        layers = lib.layers
        hidden = [layers.Dense(6, use_bias=False),
                  layers.BatchNormalization(momentum=0.8) if lib is keras
                  else BatchNormalization(momentum=0.8),
                  layers.Activation("relu"), layers.Dense(3, activation="softmax")]
        if functional:
            inputs = lib.Input((4,))
            outputs = inputs
            for layer in hidden:
                outputs = layer(outputs)
            model = lib.Model(inputs, outputs)
        else:
            model = lib.Sequential([lib.Input((4,)), *hidden])
        hidden[1].trainable = not frozen
        model.compile(optimizer=make(lib.optimizers), loss="categorical_crossentropy")
        return model

    with keras_env.precision("float64"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mr.utils.set_random_seed(0)
        model, twin = build(mr), build(keras)
        weights = model.get_weights()
        weights[1:5] = [rng.uniform(0.5, 2, 6), rng.normal(size=6) * 0.1,
                        rng.normal(size=6), rng.uniform(0.5, 2, 6)]
        model.set_weights(weights)
        twin.set_weights(weights)
        ours = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
        predictions = model.predict(x, verbose=0), twin.predict(x, verbose=0)
    return model, twin, weights, ours.history["loss"], theirs.history["loss"], predictions


@pytest.mark.parametrize(("optimizer", "functional"), [("SGD", False), ("Adam", True)])
def test_a_model_trains_like_keras(keras_env, optimizer, functional):
    model, twin, start, ours, theirs, (p, q) = fit_both(keras_env, optimizer, functional)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-14)
    for mine, keras_weight, before in zip(model.get_weights(), twin.get_weights(), start,
                                          strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-10, atol=1e-13)
        assert not np.array_equal(mine, before)      # γ, β and the moving statistics moved
    assert len(model.trainable_weights) == len(twin.trainable_weights) == 5


def test_a_frozen_layer_runs_in_inference_mode_in_fit(keras_env):
    """Keras 3: ``trainable=False`` on a BatchNormalization means inference mode, so the
    moving statistics and γ, β stay as they were while the Dense layers train."""
    model, twin, start, ours, theirs, _ = fit_both(keras_env, "SGD", False, frozen=True)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    after = model.get_weights()
    for index in range(1, 5):
        np.testing.assert_array_equal(after[index], start[index])
        np.testing.assert_array_equal(twin.get_weights()[index], start[index])
    assert not np.array_equal(after[0], start[0])


# -- gradients against finite differences (float64) ------------------------------------------------

@st.composite
def bn_cases(draw):
    rank = draw(st.integers(2, 4))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    axis = draw(st.integers(-rank, rank - 1))
    assume(axis % rank != 0)                   # the batch axis is never the channel axis
    return shape, axis


@gradient_settings
@given(data=st.data(), case=bn_cases(), training=st.booleans(),
       center=st.booleans(), scale=st.booleans(),
       regularizer=st.sampled_from([None, "l2"]), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_numerical_gradient(float64, data, case, training, center, scale,
                                             regularizer, seed):
    """δx, ∂L/∂γ, ∂L/∂β in both modes (training: through μ and σ² of the batch). The moving
    statistics are checked only when training, where the output does not depend on them
    (0 = 0); in inference they are constants of the layer, which gets no gradient for them."""
    shape, axis = case
    x = data.draw(arrays(shape, -3.0, 3.0))
    others = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    if training and x.size > x.shape[axis]:
        # A channel of (nearly) equal values has x̂ ≈ 0 and gradients that are 0 up to
        # rounding: a relative error means nothing there (the one-value case is below).
        assume(np.min(np.var(x, axis=others)) > 1e-3)
    layer = BatchNormalization(axis=axis, center=center, scale=scale, epsilon=0.01,
                               gamma_regularizer=regularizer, beta_regularizer=regularizer)
    layer.build((None, *shape[1:]))
    layer.set_weights([data.draw(arrays(w.shape, 0.5, 2.0)) for w in layer.weights])
    results = check_layer(layer, x, training=training, seed=seed, h=STEP)
    checked = results if training else results[:len(results) - 2]
    if training and x.size == x.shape[axis]:
        # One value per channel: x̂ = 0, the output is β whatever x is, and δx is exactly
        # 0; the finite differences see only rounding (~1e-12), so no relative error.
        inputs = checked.pop(0)
        assert np.all(inputs.analytic == 0) and np.max(np.abs(inputs.numeric)) < 1e-9
    for result in checked:
        assert result.relative_error < TOLERANCE, str(result)


# -- saving ----------------------------------------------------------------------------------------

def test_saving_keeps_the_moving_statistics(tmp_path, exported):
    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4, use_bias=False),
                           BatchNormalization(), mr.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "bn.keras")
    loaded = mr.models.load_model(tmp_path / "bn.keras")
    assert isinstance(loaded.layers[1], BatchNormalization)
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(loaded.layers[1].moving_mean, 0.0)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_reads_the_file(tmp_path, keras_env, exported):
    keras = keras_env.keras
    model = mr.Sequential([mr.Input((3,)), BatchNormalization(gamma_regularizer="l2")])
    model(np.random.default_rng(0).normal(size=(5, 3)).astype("float32"), training=True)
    model.save(tmp_path / "bn.keras")
    keras_model = keras.saving.load_model(tmp_path / "bn.keras")
    assert [w.path.split("/")[-1] for w in keras_model.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]
    for a, b in zip(keras_model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert keras_model.layers[0].get_config() == model.layers[0].get_config()
