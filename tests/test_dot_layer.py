"""Dot beside Keras: batch dot products along any axes, normalized or not."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer

# (shape of x, shape of y, axes, normalize), samples without the batch axis
CASES = [
    ((4,), (4,), 1, False),
    ((4,), (4,), -1, True),
    ((3, 5), (10, 3), (1, 2), False),
    ((3, 5), (10, 3), (1, 2), True),
    ((2, 3, 4), (4,), (3, 1), True),
    ((4,), (2, 4, 3), (1, 2), False),
    ((3, 4), (3, 2), 1, True),
    ((3, 4), (2, 4), [-1, -1], False),
]
IDS = [f"{s1}x{s2}-axes{axes}-{'norm' if norm else 'plain'}" for s1, s2, axes, norm in CASES]


@pytest.fixture
def keras_env():
    """``comparisons.keras_env``: ``keras`` and ``tf`` with TensorFlow quietened."""
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def inputs(s1, s2, seed=0, batch=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, *s1)), rng.normal(size=(batch, *s2))]


@pytest.mark.parametrize(("s1", "s2", "axes", "normalize"), CASES, ids=IDS)
def test_gradients_match_finite_differences(float64, s1, s2, axes, normalize):
    results = check_layer(mr.layers.Dot(axes, normalize=normalize), inputs(s1, s2))
    assert max(r.relative_error for r in results) < 1e-7


@pytest.mark.parametrize(("s1", "s2", "axes", "normalize"), CASES, ids=IDS)
def test_outputs_gradients_and_shapes_equal_keras(keras_env, s1, s2, axes, normalize):
    keras, tf = keras_env.keras, keras_env.tf
    x, y = inputs(s1, s2)
    with keras_env.precision("float64"):
        layer = mr.layers.Dot(axes, normalize=normalize)
        out = layer([x, y])
        upstream = np.random.default_rng(1).normal(size=out.shape)
        grad_x, grad_y = layer.backward(upstream)
        tx, ty = tf.constant(x), tf.constant(y)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(tx)
            tape.watch(ty)
            k_out = keras.layers.Dot(axes, normalize=normalize)([tx, ty])
            total = tf.reduce_sum(k_out * upstream)
        k_x, k_y = tape.gradient(total, [tx, ty])
    np.testing.assert_allclose(out, k_out.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_x, k_x.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_y, k_y.numpy(), rtol=1e-12, atol=1e-14)
    shapes = [(None, *s1), (None, *s2)]
    assert layer.compute_output_shape(shapes) == tuple(
        keras.layers.Dot(axes).compute_output_shape(shapes))


def test_float32_stays_float32_and_zero_vectors_normalize_to_zero():
    x = np.zeros((2, 3), dtype="float32")
    y = np.ones((2, 3), dtype="float32")
    layer = mr.layers.Dot(1, normalize=True)
    out = layer([x, y])
    assert out.dtype == np.float32 and not np.any(out)
    grad_x, grad_y = layer.backward(np.ones_like(out))
    assert grad_x.dtype == grad_y.dtype == np.float32
    assert np.all(np.isfinite(grad_x)) and np.all(np.isfinite(grad_y))


def test_config_and_saved_files_cross_load_with_keras(keras_env, tmp_path):
    keras = keras_env.keras
    for axes, normalize in ((1, False), ((2, 1), True)):
        ours = mr.layers.Dot(axes, normalize=normalize, name="d").get_config()
        assert ours == keras.layers.Dot(axes, normalize=normalize, name="d").get_config()
    a, b = mr.Input((3, 4)), mr.Input((4,))
    model = mr.Model([a, b], mr.layers.dot([a, b], axes=(2, 1), normalize=True))
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    xs = [x.astype("float32") for x in inputs((3, 4), (4,))]
    np.testing.assert_allclose(theirs.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6, atol=1e-7)
    ka, kb = keras.Input((3, 4)), keras.Input((4,))
    keras_model = keras.Model([ka, kb], keras.layers.Dot((2, 1))([ka, kb]))
    keras_model.save(tmp_path / "theirs.keras")
    loaded = mr.saving.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), keras_model.predict(xs, verbose=0),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: mr.layers.Dot("1"), TypeError, "should be a list or an int"),
    (lambda: mr.layers.Dot((1, 2, 3)), ValueError, "should contain two elements"),
    (lambda: mr.layers.Dot((1, 1.5)), ValueError, "list elements should be integers"),
    (lambda: mr.layers.Dot(1, normalize="yes"), TypeError, "`normalize` must be True or False"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(("axes", "shapes", "message"), [
    (1, [(3,), (4,)], "Incompatible input shapes: axis values 3"),
    (0, [(3,), (3,)], "Cannot perform batch_dot over axis 0"),
    (1, [(3,)], "should be called on a list of 2 inputs"),
    (1, [(3,), (3,), (3,)], "should be called on a list of 2 inputs"),
])
def test_bad_inputs_are_refused_symbolically_and_eagerly(axes, shapes, message):
    with pytest.raises(ValueError, match=message):
        mr.layers.Dot(axes)([mr.Input(s) for s in shapes])
    with pytest.raises(ValueError, match=message):
        mr.layers.Dot(axes)([np.zeros((2, *s), dtype="float32") for s in shapes])
