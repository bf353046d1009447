"""Lambda: a function as a layer, differentiated by the tape, saved as Keras saves it,
never loaded from bytecode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minired as mr
from minired import ops
from minired.gradcheck import check_layer

X = np.random.default_rng(0).normal(size=(6, 3))
Y = np.random.default_rng(1).normal(size=(6, 2))


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def soft_cube(x):
    """A named module-level function both libraries can run (operators only)."""
    return x * x * x * 0.1 + x


def scaled(x, factor=1.0):
    return x * factor


# -- forward, backward, shapes ----------------------------------------------------------------

def test_gradient_of_a_lambda_matches_finite_differences(float64):
    layer = mr.layers.Lambda(lambda x: ops.tanh(x) * ops.square(x) + ops.sin(x))
    results = check_layer(layer, X)
    assert max(r.relative_error for r in results) < 1e-7


def test_arguments_and_several_inputs_reach_the_function(float64):
    layer = mr.layers.Lambda(scaled, arguments={"factor": 3.0})
    np.testing.assert_array_equal(layer(X), 3.0 * X)
    merge = mr.layers.Lambda(lambda xs: xs[0] * xs[1])
    results = check_layer(merge, [X, X[::-1].copy()])
    assert len(results) == 2 and max(r.relative_error for r in results) < 1e-7


def test_training_is_passed_to_a_function_that_names_it():
    seen = []

    def record(x, training=None):
        seen.append(training)
        return x

    model = mr.Sequential([mr.Input((3,)), mr.layers.Lambda(record), mr.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(X.astype("float32"), Y[:, :1].astype("float32"), epochs=1, verbose=0)
    model.predict(X.astype("float32"), verbose=0)
    assert True in seen and seen[-1] is False


def test_output_shape_inferred_given_or_computed():
    x = mr.Input((4, 3))
    assert mr.layers.Lambda(lambda t: ops.sum(t, axis=1))(x).shape == (None, 3)
    assert mr.layers.Lambda(lambda t: t, output_shape=(4, 3))(x).shape == (None, 4, 3)
    assert mr.layers.Lambda(lambda t: t, output_shape=lambda s: s)(x).shape == (None, 4, 3)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="`function` must be callable"):
        mr.layers.Lambda(3)
    with pytest.raises(TypeError, match="`arguments` must be a dict"):
        mr.layers.Lambda(soft_cube, arguments=[1])
    with pytest.raises(TypeError, match="`output_shape` must be a tuple"):
        mr.layers.Lambda(soft_cube, output_shape="wide")
    with pytest.raises(NotImplementedError, match="specify the `output_shape`"):
        mr.layers.Lambda(lambda t: t.no_such_thing)(mr.Input((3,)))


def test_a_mask_function_gives_the_output_mask():
    layer = mr.layers.Lambda(soft_cube, mask=lambda inputs, mask: inputs[..., 0] > 0)
    assert layer.supports_masking
    np.testing.assert_array_equal(layer.compute_mask(X, None), X[:, 0] > 0)
    assert not mr.layers.Lambda(soft_cube).supports_masking


# -- Keras: forward, gradients, training ------------------------------------------------------

def test_forward_and_gradient_equal_keras(keras_env, float64):
    keras, tf = keras_env.keras, keras_env.tf
    with keras_env.precision("float64"):
        ours = mr.layers.Lambda(lambda x: ops.tanh(x) * ops.exp(-ops.square(x)))
        theirs = keras.layers.Lambda(
            lambda x: keras.ops.tanh(x) * keras.ops.exp(-keras.ops.square(x)))
        upstream = np.random.default_rng(2).normal(size=X.shape)
        out = ours(X)
        grad = ours.backward(upstream)
        tensor = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            k_out = theirs(tensor)
            total = tf.reduce_sum(k_out * upstream)
        k_grad = tape.gradient(total, tensor).numpy()
    np.testing.assert_allclose(out, k_out.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad, k_grad, rtol=1e-12, atol=1e-15)


def test_a_model_with_a_lambda_trains_as_in_keras(keras_env, tmp_path):
    keras = keras_env.keras
    with keras_env.precision("float64"):
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4), mr.layers.Lambda(soft_cube),
                               mr.layers.Dense(2)])
        model.compile(mr.optimizers.SGD(0.05), "mse")
        model.save(tmp_path / "m.keras")
        twin = keras.saving.load_model(tmp_path / "m.keras",
                                       custom_objects={"soft_cube": soft_cube})
        ours = model.fit(X, Y, epochs=4, batch_size=3, shuffle=False, verbose=0)
        theirs = twin.fit(X, Y, epochs=4, batch_size=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-12)
    for w, k in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(w, k, rtol=1e-12, atol=1e-14)


# -- config and saving ------------------------------------------------------------------------

def test_config_equals_keras(keras_env):
    keras = keras_env.keras
    for kwargs in ({}, {"output_shape": (3,), "arguments": {"factor": 2.0}}):
        ours = mr.layers.Lambda(scaled, name="l", **kwargs).get_config()
        theirs = keras.layers.Lambda(scaled, name="l", **kwargs).get_config()
        assert ours == theirs
    ours = mr.layers.Lambda(lambda t: t * 2, name="l").get_config()
    theirs = keras.layers.Lambda(lambda t: t * 2, name="l").get_config()
    assert ours.keys() == theirs.keys()
    assert ours["function"]["class_name"] == theirs["function"]["class_name"] == "__lambda__"


def test_named_function_round_trips_through_custom_objects_and_registration(tmp_path):
    model = mr.Sequential([mr.Input((3,)), mr.layers.Lambda(soft_cube, output_shape=(3,))])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown function 'soft_cube'"):
        mr.saving.load_model(tmp_path / "m.keras")
    loaded = mr.saving.load_model(tmp_path / "m.keras", custom_objects={"soft_cube": soft_cube})
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.layers[0].get_config() == model.layers[0].get_config()

    @mr.saving.register_keras_serializable(package="lambdatest")
    def halved(x):
        return x * 0.5

    model = mr.Sequential([mr.Input((3,)), mr.layers.Lambda(halved)])
    model.save(tmp_path / "r.keras")
    loaded = mr.saving.load_model(tmp_path / "r.keras")
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_lambda_saved_as_bytecode_is_refused_with_keras_error(tmp_path):
    model = mr.Sequential([mr.Input((3,)), mr.layers.Lambda(lambda t: t * 2)])
    model.save(tmp_path / "m.keras")
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="never runs code") as error:
            mr.saving.load_model(tmp_path / "m.keras", safe_mode=safe_mode)
        if safe_mode:
            assert "carries a potential risk of arbitrary code execution" in str(error.value)
    config = mr.layers.Lambda(lambda t: t * 2).get_config()
    with pytest.raises(ValueError, match="Requested the deserialization of a `Lambda`"):
        mr.layers.Lambda.from_config(config)


def test_keras_loads_minired_lambdas_and_minired_loads_keras_named_ones(keras_env, tmp_path):
    keras = keras_env.keras
    model = mr.Sequential([mr.Input((3,)), mr.layers.Lambda(lambda t: t * t + 1.0),
                           mr.layers.Lambda(soft_cube)])
    model.save(tmp_path / "ours.keras")
    with pytest.raises(ValueError, match="arbitrary code execution"):
        keras.saving.load_model(tmp_path / "ours.keras",
                                custom_objects={"soft_cube": soft_cube})
    theirs = keras.saving.load_model(tmp_path / "ours.keras", safe_mode=False,
                                     custom_objects={"soft_cube": soft_cube})
    x = X.astype("float32")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)

    inputs = keras.Input((3,))
    named = keras.Model(inputs, keras.layers.Lambda(scaled, arguments={"factor": 3.0})(inputs))
    named.save(tmp_path / "named.keras")
    loaded = mr.saving.load_model(tmp_path / "named.keras", custom_objects={"scaled": scaled})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), 3.0 * x, rtol=1e-7)

    code = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    code.save(tmp_path / "code.keras")
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="never runs code"):
            mr.saving.load_model(tmp_path / "code.keras", safe_mode=safe_mode)


def test_masks_are_dropped_or_passed_on_as_in_keras(keras_env):
    """Without `mask` a Lambda drops the mask (Keras' warning); with a mask function its
    output mask is what the function returns (here the input's: the average skips padding)."""
    keras = keras_env.keras
    tokens = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])

    def make(library, mask):
        layers = library.layers
        return library.Sequential([
            library.Input((4,), dtype="int32"), layers.Embedding(10, 3, mask_zero=True),
            layers.Lambda(lambda x: x * 2.0, mask=mask), layers.GlobalAveragePooling1D()])

    for mask in (None, lambda inputs, previous: previous):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours, theirs = make(mr, mask), make(keras, mask)
            theirs.set_weights(ours.get_weights())
            predicted = ours.predict(tokens, verbose=0)
            expected = theirs.predict(tokens, verbose=0)
        dropped = [w for w in caught if "does not support masking" in str(w.message)
                   and "keras" not in w.filename]
        assert bool(dropped) == (mask is None)
        np.testing.assert_allclose(predicted, expected, rtol=1e-6)


def test_a_fixed_mask_and_a_named_output_shape_function_round_trip():
    mask = np.array([[True, False, True]])
    layer = mr.layers.Lambda(soft_cube, output_shape=_same_shape, mask=mask, name="l")
    config = mr.layers.serialize(layer)
    again = mr.layers.deserialize(config, custom_objects={"soft_cube": soft_cube,
                                                          "_same_shape": _same_shape})
    np.testing.assert_array_equal(again.compute_mask(X, None), mask)
    assert again.compute_output_shape((None, 3)) == (None, 3)
    assert again.get_config() == layer.get_config()


def _same_shape(shape):
    return shape


def test_a_legacy_h5_config_names_its_function_or_is_refused():
    legacy = {"name": "l", "trainable": True, "dtype": "float32", "function": "soft_cube",
              "function_type": "function", "module": "tests", "output_shape": None,
              "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}
    with mr.saving.custom_object_scope({"soft_cube": soft_cube}):
        layer = mr.layers.Lambda.from_config(legacy)
    assert layer.function is soft_cube
    code = {**legacy, "function": ["4wEAAAAA", None, None], "function_type": "lambda"}
    with pytest.raises(ValueError, match="never runs code"):
        mr.layers.Lambda.from_config(code)
