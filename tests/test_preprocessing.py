"""Normalization and Rescaling: formulas, gradients (float64 vector-Jacobian checks),
non-trainable weights, and Keras side by side (≤ 1e-12 in float64; here bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_function
from minired.layers import Normalization, Rescaling


def test_normalization_formula(float64):
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    layer = Normalization()
    layer.adapt(x)
    mean, variance, count = layer.get_weights()
    np.testing.assert_array_equal(mean, [3.0, 10.0])
    np.testing.assert_array_equal(variance, [8 / 3, 0.0])          # population variance
    assert count.dtype == np.int64 and count == 0                  # as Keras 3 keeps it
    y = layer(np.array([[5.0, 11.0]]))
    # σ = max(sqrt(variance), 1e-7): the constant feature is divided by 1e-7, not by 0.
    np.testing.assert_allclose(y, [[2 / np.sqrt(8 / 3), 1e7]], rtol=1e-12)
    inverse = Normalization(invert=True)
    inverse.adapt(x)
    np.testing.assert_allclose(inverse(layer(x)), x, atol=1e-6)


def test_normalization_weights_are_not_trainable():
    model = mr.Sequential([mr.Input((3,)), Normalization(), mr.layers.Dense(2)])
    model.layers[0].adapt(np.random.default_rng(0).normal(size=(20, 3)))
    assert len(model.get_weights()) == 5                          # mean, variance, count, W, b
    assert len(model.trainable_weights) == 2
    before = model.get_weights()[:3]
    model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.5), loss="mse")
    model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()[:3], strict=True):
        np.testing.assert_array_equal(a, b)


def test_normalization_given_statistics_and_axes(float64):
    x = np.arange(24.0).reshape(2, 3, 4)
    layer = Normalization(axis=(1, 2), mean=np.arange(4.0), variance=np.full(4, 4.0))
    np.testing.assert_array_equal(layer(x), (x - np.arange(4.0)) / 2)   # broadcast from the right
    assert layer.get_weights() == []
    scalar = Normalization(axis=None)
    scalar.adapt(x)
    assert scalar.get_weights()[0].shape == ()
    np.testing.assert_allclose(scalar(x).mean(), 0, atol=1e-12)


def test_normalization_adapt_on_batches_equals_adapt_on_the_array(float64):
    x = np.random.default_rng(0).normal(3, 2, size=(50, 4))
    whole, batched = Normalization(), Normalization()
    whole.adapt(x)
    batched.adapt([x[:7], x[7:30], x[30:]])
    for a, b in zip(whole.get_weights(), batched.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Normalization(mean=1.0), "both `mean` and `variance`"),
    (lambda: Normalization(mean=[1.0, 2.0], variance=[1.0]), "same shape"),
    (lambda: Normalization(axis=-1, mean=np.ones((2, 2)), variance=np.ones((2, 2))), "rank"),
    (lambda: Normalization(axis=3)(np.ones((2, 3))), "range"),
    (lambda: Normalization(axis=0)(np.ones((2, 3))), "known shape"),
])
def test_normalization_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_rescaling_formula():
    out = Rescaling(1 / 127.5, offset=-1.0)(np.array([[0, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[-1.0, 1.0]])
    assert Rescaling(2.0).get_weights() == []


# -- gradients ----------------------------------------------------------------------------------

def layer_function(layer):
    def f(x):
        return layer.forward(x)

    def backward(x, y, grad):
        layer.forward(x)
        return layer.backward(grad)

    return f, backward


@pytest.mark.parametrize("make", [
    lambda: Normalization(),
    lambda: Normalization(invert=True),
    lambda: Normalization(axis=(1, 2)),
    lambda: Normalization(axis=None),
    lambda: Normalization(mean=[0.5, -1.0, 2.0, 0.0], variance=[4.0, 0.25, 1.0, 0.0]),
    lambda: Rescaling(0.5, offset=3.0),
    lambda: Rescaling(np.array([1.0, -2.0, 0.5, 3.0])),
    lambda: Rescaling(np.array([[[2.0], [3.0], [-1.0]]])),   # broadcast over the last axis
])
def test_backward_is_the_gradient(float64, make):
    layer = make()
    x = np.random.default_rng(1).normal(size=(5, 3, 4))
    if isinstance(layer, Normalization) and layer.input_mean is None:
        layer.adapt(x * 3 + 1)
    else:
        layer(x)
    result = check_function(*layer_function(layer), x)
    assert result.relative_error < 1e-8, result


# -- against Keras ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env
    return keras_env


LAYERS = [
    ("Normalization", {}), ("Normalization", {"invert": True}),
    ("Normalization", {"axis": None}), ("Normalization", {"axis": (1, 2)}),
    ("Normalization", {"axis": 1}),
    ("Normalization", {"mean": 0.1, "variance": 0.3}),
    ("Normalization", {"mean": [0.1, 0.2, -0.3, 4.0], "variance": [1.0, 2.0, 0.5, 0.0]}),
    ("Normalization", {"axis": (1, 2), "mean": np.arange(4.0), "variance": np.ones(4) * 2}),
    ("Rescaling", {"scale": 1 / 255}), ("Rescaling", {"scale": 0.1, "offset": -0.7}),
    ("Rescaling", {"scale": np.float64(0.1), "offset": np.float64(0.2)}),
]


@pytest.mark.parametrize(("kind", "kwargs"), LAYERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_equals_keras(keras_env, kind, kwargs, dtype):
    rng = np.random.default_rng(2)
    data, x = rng.normal(3, 2, size=(40, 3, 4)), rng.normal(3, 2, size=(6, 3, 4))
    with keras_env.precision(dtype):
        ours = getattr(mr.layers, kind)(**kwargs)
        theirs = getattr(keras_env.keras.layers, kind)(**kwargs)
        if kind == "Normalization" and "mean" not in kwargs:
            ours.adapt(data)
            theirs.adapt(data)
        y_ours, y_theirs = ours(x), np.asarray(theirs(x))
        config, keras_config = ours.get_config(), theirs.get_config()
    assert y_ours.dtype == y_theirs.dtype
    np.testing.assert_allclose(y_ours, y_theirs, rtol=1e-12 if dtype == "float64" else 1e-6)
    weights_theirs = [np.asarray(w) for w in theirs.get_weights()]
    assert [w.dtype for w in ours.get_weights()] == [w.dtype for w in weights_theirs]
    for a, b in zip(ours.get_weights(), weights_theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sorted(config) == sorted(keras_config)
    for key in set(config) - {"name"}:
        assert np.array_equal(np.asarray(config[key], dtype=object),
                              np.asarray(keras_config[key], dtype=object)), key


def test_normalization_gradient_equals_tensorflow(keras_env, float64):
    """δx from minired's backward against tf.GradientTape through the Keras layer."""
    tf = keras_env.tf
    rng = np.random.default_rng(3)
    data, x, upstream = (rng.normal(size=(30, 4)), rng.normal(size=(5, 4)),
                         rng.normal(size=(5, 4)))
    with keras_env.precision("float64"):
        for invert in (False, True):
            ours, theirs = Normalization(invert=invert), keras_env.keras.layers.Normalization(
                invert=invert)
            ours.adapt(data)
            theirs.adapt(data)
            ours(x)
            x_tensor = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x_tensor)
                y = theirs(x_tensor)
            grad = tape.gradient(y, x_tensor, output_gradients=tf.constant(upstream))
            np.testing.assert_allclose(ours.backward(upstream), grad.numpy(), rtol=1e-14)
