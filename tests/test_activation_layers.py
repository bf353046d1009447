"""The activation layers ReLU, LeakyReLU, ELU, Softmax and PReLU.

First what each computes, by hand; then their arguments, errors and configs (against
Keras' own ``get_config()``); then every gradient against finite differences (float64,
hypothesis); then each layer side by side with Keras under ``tf.GradientTape``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import (
    KINK_MARGIN,
    STEP,
    TOLERANCE,
    arrays,
    gradient_settings,
    nonzero_arrays,
    shapes,
)

import minired as mr
from minired.gradcheck import check_layer

layers = mr.layers


# -- what they compute ----------------------------------------------------------------------------

def test_relu_layer_as_in_keras_docstring():
    layer = layers.ReLU(max_value=10, negative_slope=0.5, threshold=0)
    np.testing.assert_array_equal(layer(np.array([[-10.0, -5.0, 0.0, 5.0, 10.0]])),
                                  [[-5.0, -2.5, 0.0, 5.0, 10.0]])
    np.testing.assert_array_equal(layers.ReLU()(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])


def test_leaky_relu_layer_default_slope_is_0_3():
    out = layers.LeakyReLU()(np.array([[-10.0, 5.0]], dtype="float32"))
    np.testing.assert_array_equal(out, np.array([[-3.0, 5.0]], dtype="float32"))


def test_leaky_relu_accepts_keras_deprecated_alpha_with_a_warning():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_elu_layer_uses_alpha():
    out = layers.ELU(alpha=2.0)(np.array([[-1.0, 3.0]]))
    np.testing.assert_allclose(out, [[2.0 * (np.exp(-1.0) - 1), 3.0]], rtol=1e-6)


def test_softmax_layer_normalizes_over_its_axis():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    for axis in (-1, 1, [1, 2]):
        out = layers.Softmax(axis=axis)(x)
        summed_over = tuple(axis) if isinstance(axis, list) else (axis,)
        np.testing.assert_allclose(np.sum(out, axis=summed_over), 1.0, rtol=1e-6)


def test_prelu_by_hand_and_its_gradients_add_up():
    layer = layers.PReLU(alpha_initializer=mr.initializers.Constant(0.25))
    x = np.array([[-4.0, 2.0], [-2.0, -1.0]], dtype="float32")
    np.testing.assert_array_equal(layer(x), [[-1.0, 2.0], [-0.5, -0.25]])
    assert layer.alpha.shape == (2,) and layer.count_params() == 2
    assert layer.weights[0] is layer.alpha and layer.trainable_weights == [layer.alpha]
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, [[0.25, 1.0], [0.25, 0.25]])          # α below 0
    np.testing.assert_array_equal(layer.alpha_gradient, [-6.0, -1.0])       # Σ min(z, 0)
    layer(x)
    layer.backward(np.ones_like(x))                    # a second call adds its gradient
    np.testing.assert_array_equal(layer.gradients[0], [-12.0, -2.0])
    layer.zero_gradients()
    np.testing.assert_array_equal(layer.alpha_gradient, [0.0, 0.0])


def test_prelu_starts_as_a_relu_and_shares_alpha_along_shared_axes():
    layer = layers.PReLU(shared_axes=[1, 2])
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype("float32")
    np.testing.assert_array_equal(layer(x), np.maximum(x, 0))
    assert layer.alpha.shape == (1, 1, 5)
    assert layers.PReLU(shared_axes=1).shared_axes == [1]


def test_prelu_regularizer_is_a_loss_and_a_gradient():
    layer = layers.PReLU(alpha_initializer=mr.initializers.Constant(0.5),
                         alpha_regularizer=mr.regularizers.L2(0.01))
    layer(np.ones((1, 3), dtype="float32"))
    np.testing.assert_allclose(float(layer.losses[0]), 3 * np.float32(0.01) * 0.25, rtol=1e-6)
    layer.add_penalty_gradients()
    np.testing.assert_allclose(layer.alpha_gradient, 2 * np.float32(0.01) * 0.5, rtol=1e-6)


def test_prelu_learns_a_slope_in_a_model():
    """y = 0.3 z for z < 0 and z above: fit moves α from 0 towards 0.3."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 1)).astype("float32")
    y = np.where(x > 0, x, 0.3 * x)
    prelu = layers.PReLU()
    model = mr.Sequential([mr.Input((1,)), prelu])
    model.compile(optimizer=mr.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    # A learning test, not a formula check: 30 epochs of SGD bring α to 0.3 within 1e-3
    # (measured 0.3 to 5 digits; the exact gradient of α is checked to 1e-6 elsewhere).
    np.testing.assert_allclose(prelu.alpha, [0.3], atol=1e-3)


def test_softmax_layer_takes_the_logits_path_under_cross_entropy():
    """Saturated logits: the clipped-probability formula would give a gradient ~0; the fused
    path gives (p - y)/N exactly, as Keras does behind its Softmax layer."""
    model = mr.Sequential([mr.Input((2,)), layers.Dense(2, use_bias=False), layers.Softmax()])
    model.compile(loss="categorical_crossentropy")
    model.set_weights([np.array([[40.0, -40.0], [0.0, 0.0]], dtype="float32")])
    x, y = np.array([[1.0, 0.0]], dtype="float32"), np.array([[0.0, 1.0]], dtype="float32")
    loss, (grad,) = model.loss_and_gradients(x, y)
    assert loss == pytest.approx(80.0, rel=1e-6)                  # -log_softmax, unclipped
    np.testing.assert_allclose(grad, [[1.0, -1.0], [0.0, 0.0]], atol=1e-6)


# -- arguments, errors, configs -------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_value": -1.0}, "max_value of a ReLU layer cannot be a negative value"),
    ({"negative_slope": -0.1}, "negative_slope of a ReLU layer cannot be None or a negative"),
    ({"negative_slope": None}, "negative_slope of a ReLU layer cannot be None"),
    ({"threshold": -1.0}, "threshold of a ReLU layer cannot be None or a negative value"),
])
def test_relu_rejects_keras_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.ReLU(**kwargs)


def test_leaky_relu_rejects_a_negative_slope():
    with pytest.raises(ValueError, match="cannot be None or negative"):
        layers.LeakyReLU(negative_slope=-0.2)


def test_prelu_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shared axis 3"):
        layers.PReLU(shared_axes=3)(np.ones((2, 4), dtype="float32"))
    layer = layers.PReLU()
    layer(np.ones((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 4"):
        layer(np.ones((2, 5), dtype="float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(np.ones((2, 4, 1), dtype="float32"))
    shared = layers.PReLU(shared_axes=[1])
    shared(np.ones((2, 3, 4), dtype="float32"))
    assert shared(np.ones((1, 7, 4), dtype="float32")).shape == (1, 7, 4)   # axis 1 is free


def test_automatic_names_are_keras():
    mr.utils.naming._NAME_COUNTS.clear()
    names = [layer.name for layer in (layers.ReLU(), layers.LeakyReLU(), layers.ELU(),
                                      layers.Softmax(), layers.PReLU())]
    assert names == ["re_lu", "leaky_re_lu", "elu", "softmax", "p_re_lu"]


def make_pairs(keras):
    """(minired layer, Keras layer) built with the same arguments and names."""
    return [
        (layers.ReLU(name="a"), keras.layers.ReLU(name="a")),
        (layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="a"),
         keras.layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="a")),
        (layers.LeakyReLU(name="a"), keras.layers.LeakyReLU(name="a")),
        (layers.LeakyReLU(0.05, name="a"), keras.layers.LeakyReLU(0.05, name="a")),
        (layers.ELU(name="a"), keras.layers.ELU(name="a")),
        (layers.ELU(alpha=0.5, name="a"), keras.layers.ELU(alpha=0.5, name="a")),
        (layers.Softmax(name="a"), keras.layers.Softmax(name="a")),
        (layers.Softmax(axis=[1, 2], name="a"), keras.layers.Softmax(axis=[1, 2], name="a")),
        (layers.PReLU(name="a"), keras.layers.PReLU(name="a")),
        (layers.PReLU(alpha_initializer=mr.initializers.Constant(0.25),
                      alpha_regularizer=mr.regularizers.L2(0.01), shared_axes=(1, 2), name="a"),
         keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25),
                            alpha_regularizer=keras.regularizers.L2(0.01), shared_axes=(1, 2),
                            name="a")),
    ]


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def test_get_config_is_keras_config_key_for_key(keras_env):
    """The whole dict, in Keras' key order (ELU's auto-config puts ``alpha`` second)."""
    for ours, theirs in make_pairs(keras_env.keras):
        assert ours.get_config() == theirs.get_config()
        assert list(ours.get_config()) == list(theirs.get_config())


def test_from_config_round_trips():
    for layer in (layers.ReLU(max_value=2.0, threshold=0.1), layers.LeakyReLU(0.1),
                  layers.ELU(0.7), layers.Softmax(axis=1),
                  layers.PReLU(alpha_regularizer="l2", shared_axes=[1])):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()


# -- every gradient against finite differences (float64) -----------------------------------------

LAYERS = {
    "ReLU": (lambda: layers.ReLU(), (0.0,)),
    "ReLU_arguments": (lambda: layers.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.3),
                       (0.3, 1.5)),
    "LeakyReLU": (lambda: layers.LeakyReLU(), (0.0,)),
    "ELU": (lambda: layers.ELU(alpha=0.7), (0.0,)),
    "Softmax": (lambda: layers.Softmax(), ()),
    "Softmax_axis_1": (lambda: layers.Softmax(axis=1), ()),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@gradient_settings
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_activation_layer_backward_matches_numerical_gradient(float64, name, data, seed):
    make, kinks = LAYERS[name]
    # A kink at 0 only: drawn away from it (hypothesis likes 0, and filtering every array
    # that holds one fails its health check); other kinks are filtered out.
    inputs = ((lambda shape: nonzero_arrays(shape, 2 * KINK_MARGIN, 3.0)) if kinks == (0.0,)
              else (lambda shape: arrays(shape, -3.0, 3.0)))
    x = data.draw(shapes(min_dims=2).flatmap(inputs))
    for kink in kinks:
        assume(np.min(np.abs(x - kink)) > KINK_MARGIN)
    (result,) = check_layer(make(), x, seed=seed, h=STEP)
    scale = max(np.max(np.abs(result.analytic)), np.max(np.abs(result.numeric)))
    assume(scale == 0 or scale > 1e-6)     # all below a relu's kink: both are exactly 0
    assert result.relative_error < TOLERANCE, str(result)


@gradient_settings
@given(data=st.data(), shared=st.sampled_from([None, [1], [2], [1, 2]]),
       regularizer=st.sampled_from([None, "l1", "l2"]), seed=st.integers(0, 2**32 - 1))
def test_prelu_backward_matches_numerical_gradient(float64, data, shared, regularizer, seed):
    """Inputs and α, on (N, a, b) inputs, with shared axes and a penalty on α."""
    shape = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3)),
             data.draw(st.integers(1, 3)))
    x = data.draw(nonzero_arrays(shape, 0.05, 3.0))
    layer = layers.PReLU(alpha_regularizer=regularizer, shared_axes=shared)
    layer.build((None, *shape[1:]))
    layer.alpha[...] = data.draw(nonzero_arrays(layer.alpha.shape, 0.05, 1.0))
    results = check_layer(layer, x, seed=seed, h=STEP)
    assert [r.name.split("/")[1] for r in results] == ["inputs", "weight_0"]
    for result in results:
        scale = max(np.max(np.abs(result.analytic)), np.max(np.abs(result.numeric)))
        assume(scale == 0 or scale > 1e-6)
        assert result.relative_error < TOLERANCE, str(result)


# -- side by side with Keras ----------------------------------------------------------------------

#: float64: measured at most 5e-16 (relative, per array); float32: at most 2.2e-7.
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("index", range(10))
def test_layer_matches_keras_values_and_gradients(keras_env, index, dtype):
    """Outputs, δx and (PReLU) ∂L/∂α under tf.GradientTape, on (N, 3, 4) inputs."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(index)
    x = rng.uniform(-3, 3, size=(5, 3, 4)).astype(dtype)
    x[0, 0, :3] = [0.0, 0.5, 6.0]                         # the kinks of the ReLU above
    upstream = rng.normal(size=x.shape).astype(dtype)
    with keras_env.precision(dtype):
        ours, theirs = make_pairs(keras)[index]
        ours.build((None, 3, 4))
        theirs.build((None, 3, 4))
        if ours.weights:                                   # α varied, not Keras' zeros
            alpha = rng.uniform(-0.5, 1.5, size=ours.alpha.shape).astype(dtype)
            ours.set_weights([alpha])
            theirs.set_weights([alpha])
        out = ours(x)
        grad_x = ours.backward(upstream)
        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            their_out = theirs(variable)
        their_grads = tape.gradient([their_out], [variable, *theirs.trainable_variables],
                                    output_gradients=[tf.constant(upstream)])
    pairs = [(out, their_out, None), (grad_x, their_grads[0], None)]
    if ours.weights:
        # ∂L/∂α sums up to 15 terms, in another order than TensorFlow's: measure the error
        # against the sum of their magnitudes (the scale of a sum's rounding error).
        summed = (0, *(ours.shared_axes or []))
        terms = np.sum(np.abs(upstream * np.minimum(x, 0)), axis=summed)
        pairs.append((ours.alpha_gradient, their_grads[1], np.max(terms)))
    for mine, keras_value, scale in pairs:
        keras_value = np.asarray(keras_value)
        assert mine.dtype == keras_value.dtype == np.dtype(dtype)
        scale = np.max(np.abs(keras_value)) if scale is None else scale
        relative = np.max(np.abs(mine - keras_value)) / scale
        assert relative <= KERAS_TOLERANCE[dtype], (type(ours).__name__, relative)


def test_dense_then_layers_fit_like_keras(keras_env):
    """Two epochs of SGD through Dense, PReLU, Dense, LeakyReLU, Dense, Softmax (float64)."""
    keras = keras_env.keras
    with keras_env.precision("float64"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((4,)), layers.Dense(6), layers.PReLU(),
                               layers.Dense(5), layers.LeakyReLU(), layers.Dense(3),
                               layers.Softmax()])
        model.compile(optimizer=mr.optimizers.SGD(0.1), loss="categorical_crossentropy")
        twin = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6),
                                 keras.layers.PReLU(), keras.layers.Dense(5),
                                 keras.layers.LeakyReLU(), keras.layers.Dense(3),
                                 keras.layers.Softmax()])
        twin.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
        weights = model.get_weights()
        weights[2] = np.linspace(-0.5, 0.5, 6)
        model.set_weights(weights)
        twin.set_weights(weights)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 4))
        y = np.eye(3)[rng.integers(0, 3, size=32)]
        ours = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        theirs = twin.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-10)
    for mine, keras_weight in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-9, atol=1e-12)
