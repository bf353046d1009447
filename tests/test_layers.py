"""Layers: forward values, shapes, weights, penalties, dropout masks and naming.

(Their gradients are checked in ``test_gradients.py``.)
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    arrays,
    batch_sizes,
    feature_counts,
    gradient_settings,
    shapes,
    unit_counts,
)

import minired as mr
from minired.layers import Activation, Dense, Dropout, Flatten, Input


@gradient_settings
@given(data=st.data(), n=batch_sizes, fan_in=feature_counts, units=unit_counts,
       activation=st.sampled_from(["linear", "relu", "tanh", "softmax"]))
def test_dense_forward_is_activation_of_x_w_plus_b(float64, data, n, fan_in, units, activation):
    x = data.draw(arrays((n, fan_in)))
    layer = Dense(units, activation=activation, bias_initializer="ones")
    out = layer(x)
    z = x @ layer.kernel + 1.0
    assert out.shape == (n, units) == layer.compute_output_shape((n, fan_in))
    np.testing.assert_allclose(layer.cache.z, z, rtol=1e-14)
    np.testing.assert_allclose(out, mr.activations.get(activation)(z), rtol=1e-14)


def test_dense_weights_shapes_order_and_count():
    layer = Dense(3)
    layer.build((None, 5))
    kernel, bias = layer.weights
    assert kernel.shape == (5, 3) and bias.shape == (3,)
    assert layer.count_params() == 5 * 3 + 3
    np.testing.assert_array_equal(bias, 0.0)                  # bias_initializer="zeros"
    assert kernel.dtype == bias.dtype == np.float32            # floatx by default


def test_dense_without_bias_has_only_a_kernel():
    layer = Dense(2, use_bias=False)
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    out = layer(x)
    assert len(layer.weights) == 1 and len(layer.gradients) == 1
    np.testing.assert_allclose(out, x @ layer.kernel)


def test_dense_weights_follow_floatx(float64):
    layer = Dense(2)
    layer.build((None, 3))
    assert layer.kernel.dtype == np.float64
    assert layer(np.ones((1, 3), dtype=np.float32)).dtype == np.float64


def test_layer_call_casts_float_inputs_to_floatx():
    """Keras autocasts: float64 inputs become float32 in a float32 layer."""
    layer = Dense(2)
    assert layer(np.ones((1, 3), dtype=np.float64)).dtype == np.float32


def test_dense_glorot_uniform_initial_kernel_is_within_its_limit():
    mr.utils.set_random_seed(3)
    layer = Dense(40)
    layer.build((None, 60))
    limit = np.sqrt(6 / (60 + 40))
    assert np.max(np.abs(layer.kernel)) <= limit
    assert np.max(np.abs(layer.kernel)) > 0.9 * limit         # the range is actually used


def test_dense_regularizers_add_penalties_to_layer_losses(float64):
    layer = Dense(2, kernel_regularizer=mr.regularizers.L2(0.5),
                  bias_regularizer=mr.regularizers.L1(0.25), bias_initializer="ones")
    layer.build((None, 3))
    kernel_penalty, bias_penalty = layer.losses
    assert kernel_penalty == pytest.approx(0.5 * np.sum(layer.kernel ** 2), rel=1e-12)
    assert bias_penalty == pytest.approx(0.25 * 2, rel=1e-12)
    assert Dense(2).losses == []


@pytest.mark.parametrize("units", [0, -1, 2.0, True, "3"])
def test_dense_units_must_be_a_positive_int(units):
    with pytest.raises(ValueError, match=r"`units` must be a positive int, got"):
        Dense(units)


@pytest.mark.parametrize("middle", [(3,), (2, 3)])
def test_dense_acts_on_the_last_axis_of_inputs_with_more_axes(float64, middle):
    """(N, …, in) -> (N, …, units): the same x W + b at every position of the middle axes."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, *middle, 5))
    layer = Dense(2, activation="tanh", bias_initializer="ones")
    out = layer(x)
    assert out.shape == (4, *middle, 2) == layer.compute_output_shape(x.shape)
    assert layer.kernel.shape == (5, 2)                         # only the last axis counts
    rows = x.reshape(-1, 5)
    np.testing.assert_allclose(out.reshape(-1, 2), np.tanh(rows @ layer.kernel + 1.0),
                               rtol=1e-14)
    grad_z = rng.normal(size=(4, *middle, 2))
    layer.zero_gradients()
    grad_x = layer.backward_from_z(grad_z)
    np.testing.assert_allclose(grad_x, grad_z @ layer.kernel.T, rtol=1e-14)
    expected_kernel = sum(np.outer(x[i], grad_z[i]) for i in np.ndindex(x.shape[:-1]))
    np.testing.assert_allclose(layer.kernel_gradient, expected_kernel, rtol=1e-12)
    np.testing.assert_allclose(layer.bias_gradient, grad_z.reshape(-1, 2).sum(axis=0),
                               rtol=1e-12)


@pytest.mark.parametrize("shape", [(None,), (4,), (None, 3, None), (None, None)])
def test_dense_needs_a_batch_axis_and_a_known_last_axis(shape):
    with pytest.raises(ValueError, match=r"Dense 'd': inputs must have shape \(batch, \.\.\., "
                                        r"features\) with a known number of features \(the last "
                                        rf"axis\), got {re.escape(str(shape))}"):
        Dense(2, name="d").build(shape)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dense_on_a_3d_input_matches_keras(dtype):
    """Outputs, δx, ∂L/∂W and ∂L/∂b of the same Dense on (N, T, in), against
    ``tf.GradientTape`` on ``keras.layers.Dense`` (measured: 3e-16 in float64, 2e-7 in
    float32, from tanh's last bit)."""
    pytest.importorskip("keras")
    from comparisons.keras_env import keras, precision, tf

    rng = np.random.default_rng(1)
    with precision(dtype):
        x = rng.normal(size=(4, 5, 3)).astype(dtype)
        layer = Dense(6, activation="tanh", bias_initializer="random_normal")
        layer.build((None, 5, 3))
        out = layer.forward(x)
        upstream = rng.normal(size=out.shape).astype(dtype)
        layer.zero_gradients()
        grad_x = layer.backward(upstream)
        keras_layer = keras.layers.Dense(6, activation="tanh")
        keras_layer.build((None, 5, 3))
        keras_layer.set_weights(layer.get_weights())
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            keras_out = keras_layer(x_tensor)
            total = tf.reduce_sum(keras_out * upstream)
        keras_grads = tape.gradient(total, [x_tensor, keras_layer.kernel, keras_layer.bias])
    tolerance = {"float64": 1e-12, "float32": 1e-5}[dtype]
    pairs = [("outputs", out, keras_out), ("δx", grad_x, keras_grads[0]),
             ("∂L/∂W", layer.kernel_gradient, keras_grads[1]),
             ("∂L/∂b", layer.bias_gradient, keras_grads[2])]
    for label, ours, theirs in pairs:
        theirs = np.asarray(theirs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, label
        difference = np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))
        assert difference <= tolerance, f"{label}: relative difference {difference:.2e}"


def test_backward_does_not_change_weights(float64):
    layer = Dense(3, activation="tanh", kernel_regularizer="l2")
    x = np.random.default_rng(0).normal(size=(4, 2))
    layer(x)
    before = layer.get_weights()
    layer.backward(np.ones((4, 3)))
    for w, b in zip(layer.weights, before, strict=True):
        np.testing.assert_array_equal(w, b)


def test_activation_layer_equals_dense_activation(float64):
    x = np.random.default_rng(1).normal(size=(5, 3))
    dense = Dense(4, activation="softmax")
    dense.build((None, 3))
    linear = Dense(4)
    linear.build((None, 3))
    linear.set_weights(dense.get_weights())
    np.testing.assert_allclose(Activation("softmax")(linear(x)), dense(x), rtol=1e-14)
    assert Activation("relu").weights == []


# -- Dropout ----------------------------------------------------------------------------------

def test_dropout_is_the_identity_outside_training():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    layer = Dropout(0.5, seed=0)
    assert layer(x) is x
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_in_training_zeroes_a_fraction_rate_and_scales_the_rest():
    x = np.ones((200, 50), dtype=np.float32)
    rate = 0.3
    layer = Dropout(rate, seed=1)
    out = layer(x, training=True)
    kept = out != 0
    assert abs(1 - kept.mean() - rate) < 0.02                 # 10,000 draws: ±0.02 is > 4 σ
    np.testing.assert_allclose(out[kept], np.float32(1 / (1 - rate)))
    np.testing.assert_array_equal(layer.mask, kept.astype(np.float32))
    # Backward uses the same mask and scale.
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), out)


def test_dropout_draws_a_new_mask_each_call_and_is_seeded():
    x = np.ones((4, 25), dtype=np.float32)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    assert not np.array_equal(first, a(x, training=True))


def test_dropout_noise_shape_shares_the_mask_along_broadcast_axes():
    x = np.ones((6, 5), dtype=np.float32)
    out = Dropout(0.5, noise_shape=(None, 1), seed=2)(x, training=True)
    for row in out:
        assert len(set(row.tolist())) == 1                    # a whole row is kept or dropped


def test_dropout_rate_zero_is_the_identity_even_in_training():
    x = np.ones((3, 3), dtype=np.float32)
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)


# -- Flatten, Input, names --------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(shape=shapes(min_dims=2, max_dims=4))
def test_flatten_reshapes_each_sample_and_back(shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    layer = Flatten()
    out = layer(x)
    assert out.shape == (shape[0], int(np.prod(shape[1:]))) == layer.compute_output_shape(shape)
    np.testing.assert_array_equal(out.ravel(), x.ravel())     # C order, as Keras
    np.testing.assert_array_equal(layer.backward(out), x)


def test_input_is_a_symbolic_tensor_of_the_batch_shape():
    assert Input((4,)).shape == (None, 4)
    assert Input(3).shape == (None, 3)
    assert Input((2, 5), batch_size=8).shape == (8, 2, 5)
    assert Input((None, 8)).shape == (None, None, 8)
    assert Input(batch_shape=(4, 3), dtype="float64").dtype == "float64"


def test_layers_get_unique_keras_style_names():
    names = {Dense(1).name, Dense(1).name, Dense(1).name}
    assert len(names) == 3 and all(n.startswith("dense") for n in names)
    assert Dropout(0.1).name.startswith("dropout")
    assert Dense(1, name="out").name == "out"


def test_layer_set_weights_copies_in_place_and_checks_shapes():
    layer = Dense(2)
    layer.build((None, 3))
    kernel = layer.kernel
    new = [np.full((3, 2), 0.5), np.array([1.0, 2.0])]
    layer.set_weights(new)
    assert layer.kernel is kernel                             # same array: optimizers keep it
    np.testing.assert_array_equal(layer.kernel, 0.5)
    with pytest.raises(ValueError, match=r"weight 0 must have shape \(3, 2\), got \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match=r"`weights` must be a list of 2 arrays .*got 1"):
        layer.set_weights([np.zeros((3, 2))])
