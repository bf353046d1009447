"""Activation functions: values against their formulas, stability, dtypes and name lookup.

(Their gradients are checked in ``test_gradients.py``.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import ACTIVATION_NAMES, arrays, shapes

import minired as mr
from minired.activations import linear, log_softmax, relu, sigmoid, softmax, tanh

values = shapes().flatmap(lambda shape: arrays(shape, -50.0, 50.0))


@settings(max_examples=40, deadline=None)
@given(z=values)
def test_elementwise_activations_match_their_formulas(z):
    np.testing.assert_array_equal(linear(z), z)
    np.testing.assert_array_equal(relu(z), np.where(z > 0, z, 0.0))
    expected_sigmoid = np.array([1 / (1 + math.exp(-v)) for v in z.ravel()]).reshape(z.shape)
    np.testing.assert_allclose(sigmoid(z), expected_sigmoid, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(tanh(z), np.vectorize(math.tanh)(z), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(z=values)
def test_softmax_is_a_distribution_over_the_last_axis(z):
    p = softmax(z)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(np.sum(p, axis=-1), 1.0, rtol=1e-12)
    # Monotone: sorting a row of z sorts its probabilities (ties may appear after rounding).
    order = np.argsort(z, axis=-1)
    assert np.all(np.diff(np.take_along_axis(p, order, axis=-1), axis=-1) >= 0)
    # Shift invariance: softmax(z + c) = softmax(z) for any c per row.
    np.testing.assert_allclose(softmax(z + 17.5), p, rtol=1e-9, atol=1e-300)


@settings(max_examples=40, deadline=None)
@given(z=shapes().flatmap(lambda shape: arrays(shape, -20.0, 20.0)))
def test_log_softmax_is_the_log_of_softmax(z):
    e = np.exp(z)
    expected = np.log(e / np.sum(e, axis=-1, keepdims=True))     # naive form: safe for |z| <= 20
    np.testing.assert_allclose(log_softmax(z), expected, rtol=1e-10, atol=1e-12)


def test_saturating_inputs_give_finite_results_without_warnings():
    z = np.array([[-1000.0, 0.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # an overflow in exp would raise here
        s, p, lp = sigmoid(z), softmax(z), log_softmax(z)
    np.testing.assert_array_equal(s, [[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(p, [[0.0, 0.0, 1.0]])
    # log_softmax stays exact where softmax has rounded to 0: log p = z - logsumexp(z).
    np.testing.assert_array_equal(lp, [[-2000.0, -1000.0, 0.0]])


def test_sigmoid_is_accurate_in_both_tails():
    """The two-branch form keeps relative accuracy where 1/(1+e^-z) would round to 0."""
    z = np.array([-700.0, -30.0, 30.0])
    np.testing.assert_allclose(sigmoid(z)[:2], np.exp(z[:2]) / (1 + np.exp(z[:2])), rtol=1e-14)
    assert sigmoid(z)[2] == 1 / (1 + math.exp(-30.0))


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activations_keep_float32(name):
    z = np.array([[-1.5, 0.25, 2.0]], dtype=np.float32)
    f = mr.activations.get(name)
    assert f(z).dtype == np.float32
    assert f.backward(z, f(z), np.ones_like(z)).dtype == np.float32


def test_relu_derivative_at_zero_is_zero_like_tensorflow():
    z = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(relu.backward(z, relu(z), np.ones(3)), [0.0, 0.0, 1.0])


def test_softmax_backward_is_the_jacobian_vector_product():
    """δz = J δa with the full Jacobian J = diag(p) - p pᵀ (built here, never in minired)."""
    rng = np.random.default_rng(1)
    z, grad = rng.normal(size=(1, 4)), rng.normal(size=(1, 4))
    p = softmax(z)[0]
    jacobian = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(softmax.backward(z, softmax(z), grad)[0], jacobian @ grad[0],
                               rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_get_returns_the_function_for_each_keras_name(name):
    f = mr.activations.get(name)
    assert f.__name__ == name and callable(f.backward)
    assert mr.activations.serialize(f) == name
    assert mr.activations.get(f) is f


def test_get_none_is_linear():
    assert mr.activations.get(None) is linear


def test_get_rejects_a_callable_without_backward():
    with pytest.raises(TypeError, match=r"activation .* has no `backward` attribute"):
        mr.activations.get(np.exp)


def test_get_rejects_a_non_callable():
    with pytest.raises(TypeError, match=r"`activation` must be a string, a function or None, "
                                        r"got int"):
        mr.activations.get(3)
