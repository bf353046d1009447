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


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
@pytest.mark.parametrize("shape", [(), (7,), (8, 16), (3, 65_536), (2, 300, 300), (5, 3, 2)])
def test_relu_gives_the_bits_of_np_maximum_at_every_size(dtype, shape):
    """relu reads its 0 from blocks of zeros (``maximum_with_zero``): within one block,
    over whole blocks (3 × 65,536), with a last partial block (180,000), transposed (not
    contiguous): every value, the sign of zero, NaN and the infinities as
    ``np.maximum(z, 0)``."""
    rng = np.random.default_rng(0)
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    if z.size > 6 and z.dtype.kind == "f":
        z.flat[:6] = [np.nan, -np.inf, np.inf, -0.0, 0.0, np.finfo(dtype).tiny]
    for x in (z, z.T):
        a = relu(x)
        expected = np.maximum(x, 0)
        assert a.dtype == x.dtype and a.shape == x.shape
        assert a.tobytes() == expected.tobytes()
        assert not np.shares_memory(a, x)


@pytest.mark.parametrize("size", [100, 200_000])       # one block of zeros, and several
def test_relu_of_a_traced_tensor_is_recorded_by_the_tape(size):
    from minired.autodiff.tape import GradientTape

    x0 = np.random.default_rng(0).standard_normal(size).astype(np.float32)
    with GradientTape() as tape:
        x = tape.watch(x0)
        a = relu(x)
        loss = (a * a).sum()
    np.testing.assert_array_equal(tape.gradient(loss, x), 2 * np.maximum(x0, 0))


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


def test_get_gives_a_callable_without_backward_one_from_the_tape():
    """Keras takes any callable; minired differentiates it with the tape (more cases in
    ``test_custom_callables.py``)."""
    f = mr.activations.get(np.exp)
    z, grad = np.array([[-1.0, 0.0, 2.0]]), np.array([[1.0, 2.0, 3.0]])
    assert f.__wrapped__ is np.exp
    np.testing.assert_array_equal(f(z), np.exp(z))
    np.testing.assert_allclose(f.backward(z, f(z), grad), np.exp(z) * grad, rtol=1e-15)


def test_get_rejects_a_non_callable():
    with pytest.raises(TypeError, match=r"`activation` must be a string, a function or None, "
                                        r"got int"):
        mr.activations.get(3)


# -- the rest of Keras' catalog -------------------------------------------------------------------
#
# Values by hand first, then what Keras' defaults and names are, then every derivative against
# finite differences (hypothesis, float64), then the side-by-side with Keras itself.

from functools import partial  # noqa: E402

from hypothesis import assume  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import KINK_MARGIN, STEP, TOLERANCE, gradient_settings  # noqa: E402

from minired.activations import (  # noqa: E402
    elu,
    exponential,
    gelu,
    hard_sigmoid,
    hard_silu,
    leaky_relu,
    mish,
    relu6,
    selu,
    silu,
    softplus,
    softsign,
)
from minired.gradcheck import check_function  # noqa: E402

ALL_NAMES = sorted({**mr.activations.ALL_ACTIVATIONS, **mr.activations.MORE_ACTIVATIONS,
                    **mr.activations.ALIASES})


def derivative(f, z, **arguments):
    """f'(z) element-wise: the backward pass with δa = 1."""
    z = np.asarray(z, dtype=np.float64)
    return f.backward(z, f(z, **arguments), np.ones_like(z), **arguments)


def test_relu_arguments_as_in_keras_docstring():
    x = np.array([-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(relu(x, negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0])
    np.testing.assert_array_equal(relu(x, max_value=5.0), [0.0, 0.0, 0.0, 5.0, 5.0])
    np.testing.assert_array_equal(relu(x, threshold=5.0), [0.0, 0.0, 0.0, 0.0, 10.0])
    # All three: s (z - θ) below θ = 2, z up to m = 8, then m.
    np.testing.assert_array_equal(relu(x, negative_slope=0.5, max_value=8.0, threshold=2.0),
                                  [-6.0, -3.5, -1.0, 5.0, 8.0])


def test_relu_derivatives_at_the_kinks_are_tensorflows():
    z = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    # θ = 1, m = 2: 0 at z = θ, 1 at z = m, slope s below θ.
    np.testing.assert_array_equal(
        derivative(relu, z, negative_slope=0.25, max_value=2.0, threshold=1.0),
        [0.25, 0.25, 0.0, 1.0, 0.0])
    # m = 6 without threshold is Keras' relu6: 0 at z = 6.
    np.testing.assert_array_equal(derivative(relu, [5.0, 6.0], max_value=6.0), [1.0, 0.0])
    np.testing.assert_array_equal(derivative(relu, [5.0, 6.0], max_value=5.0), [1.0, 0.0])
    # Only a slope: leaky_relu, whose derivative at 0 is the slope.
    np.testing.assert_array_equal(derivative(relu, [0.0], negative_slope=0.5), [0.5])


def test_relu_threshold_and_cap_keep_float32_precision_in_float64():
    """Keras casts θ and m with ops.cast: 0.1 becomes float32(0.1) = 0.10000000149..."""
    z = np.array([0.1000000001, 1.0])
    np.testing.assert_array_equal(relu(z, threshold=0.1), [0.0, 1.0])
    assert relu(np.array([1.0]), max_value=0.1)[0] == float(np.float32(0.1))


def test_leaky_relu_values_and_default_slope():
    z = np.array([-2.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(leaky_relu(z), np.array([-0.4, 3.0], dtype=np.float32))
    np.testing.assert_array_equal(leaky_relu(z, negative_slope=0.5), [-1.0, 3.0])
    np.testing.assert_array_equal(derivative(leaky_relu, [-1.0, 0.0, 1.0], negative_slope=0.5),
                                  [0.5, 0.5, 1.0])
    # TensorFlow's LeakyRelu takes the slope as a float32 attribute, even in float64.
    assert leaky_relu(np.array([-1.0]))[0] == -0.20000000298023224
    assert mr.layers.LeakyReLU().negative_slope == 0.3       # the layer's default differs


def test_relu6_values_and_derivative():
    np.testing.assert_array_equal(relu6(np.array([-1.0, 0.0, 3.0, 6.0, 7.0])),
                                  [0.0, 0.0, 3.0, 6.0, 6.0])
    np.testing.assert_array_equal(derivative(relu6, [-1.0, 0.0, 3.0, 6.0, 7.0]),
                                  [0.0, 0.0, 1.0, 0.0, 0.0])


def test_elu_and_selu_values_and_derivatives():
    e = math.exp(-1.0)
    np.testing.assert_allclose(elu(np.array([-1.0, 0.0, 2.0])), [e - 1, 0.0, 2.0], rtol=1e-15)
    np.testing.assert_allclose(elu(np.array([-1.0]), alpha=0.5), [0.5 * (e - 1)], rtol=1e-15)
    np.testing.assert_allclose(derivative(elu, [-1.0, 0.0, 2.0]), [e, 1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(derivative(elu, [-1.0, 0.0], alpha=0.5), [0.5 * e, 0.5],
                               rtol=1e-15)
    scale, scale_alpha = 1.0507009873554805, 1.7580993408473769
    np.testing.assert_allclose(selu(np.array([-1.0, 0.0, 1.0])),
                               [scale_alpha * (e - 1), 0.0, scale], rtol=1e-15)
    np.testing.assert_allclose(derivative(selu, [-1.0, 1.0]), [scale_alpha * e, scale],
                               rtol=1e-14)
    # Keras' docstring constants, λ = 1.05070098 and α = 1.67326324, to their 9 digits.
    np.testing.assert_allclose(scale_alpha / scale, 1.67326324, rtol=1e-8)


def test_smooth_functions_by_hand():
    np.testing.assert_allclose(softplus(np.array([0.0, 1.0])), [math.log(2), math.log1p(math.e)],
                               rtol=1e-15)
    np.testing.assert_allclose(derivative(softplus, [0.0]), [0.5], rtol=1e-15)
    np.testing.assert_array_equal(softsign(np.array([-3.0, 1.0])), [-0.75, 0.5])
    np.testing.assert_array_equal(derivative(softsign, [3.0, -1.0]), [1 / 16, 1 / 4])
    np.testing.assert_allclose(silu(np.array([1.0])), [1 / (1 + math.exp(-1))], rtol=1e-15)
    np.testing.assert_allclose(derivative(silu, [0.0]), [0.5], rtol=1e-15)
    np.testing.assert_allclose(exponential(np.array([1.0])), [math.e], rtol=1e-15)
    np.testing.assert_allclose(derivative(exponential, [1.0]), [math.e], rtol=1e-15)
    np.testing.assert_allclose(mish(np.array([1.0])), [math.tanh(math.log1p(math.e))],
                               rtol=1e-15)
    # mish'(0) = tanh(log 2) (the second term carries z = 0).
    np.testing.assert_allclose(derivative(mish, [0.0]), [math.tanh(math.log(2))], rtol=1e-15)


def test_gelu_exact_and_approximate():
    phi_1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))                 # Φ(1) = 0.8413...
    # (in float64 Keras' 1/√2 keeps float32 precision: a relative 2e-8 here)
    np.testing.assert_allclose(gelu(np.array([1.0, -1.0])), [phi_1, -(1 - phi_1)], rtol=1e-7)
    tanh_form = 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1 + 0.044715)))
    np.testing.assert_allclose(gelu(np.array([1.0]), approximate=True), [tanh_form], rtol=1e-8)
    assert abs(gelu(np.array([1.0]))[0] - tanh_form) > 1e-4          # two different functions
    np.testing.assert_allclose(derivative(gelu, [0.0]), [0.5], rtol=1e-15)
    np.testing.assert_allclose(derivative(gelu, [0.0], approximate=True), [0.5], rtol=1e-15)
    # gelu'(z) = Φ(z) + z φ(z)
    np.testing.assert_allclose(derivative(gelu, [1.0]),
                               [phi_1 + math.exp(-0.5) / math.sqrt(2 * math.pi)], rtol=1e-7)


def test_hard_sigmoid_and_hard_silu_by_hand():
    z = np.array([-4.0, -3.0, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_array_equal(hard_sigmoid(z), [0.0, 0.0, 0.5, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(derivative(hard_sigmoid, z), [0, 0, 1 / 6, 1 / 6, 0, 0],
                               rtol=1e-15)
    np.testing.assert_array_equal(hard_silu(z), [0.0, 0.0, 0.0, 1.125, 3.0, 4.0])
    # product rule at 1.5: hard_sigmoid(1.5) + 1.5/6 = 0.75 + 0.25
    np.testing.assert_allclose(derivative(hard_silu, [1.5, 4.0, -4.0]), [1.0, 1.0, 0.0],
                               rtol=1e-15)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_activation_keeps_float32_and_shape(name):
    z = np.array([[-5.0, -1.5, 0.25, 2.0], [7.0, -7.0, 3.5, 0.5]], dtype=np.float32)
    f = mr.activations.get(name)
    a = f(z)
    assert a.dtype == np.float32 and a.shape == z.shape
    assert f.backward(z, a, np.ones_like(z)).dtype == np.float32


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) - {"exponential"}))
def test_large_inputs_give_finite_values_and_gradients_without_warnings(name):
    f = mr.activations.get(name)
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = f(z)
        grad = f.backward(z, a, np.ones_like(z))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_name_resolves_and_serializes(name):
    f = mr.activations.get(name)
    assert callable(f.backward) and mr.activations.get(f) is f
    assert getattr(mr.activations, name) is f
    assert mr.activations.serialize(f) == {"swish": "silu", "hard_swish": "hard_silu"}.get(
        name, name)


def test_aliases_are_the_same_functions_as_in_keras():
    assert mr.activations.swish is mr.activations.silu
    assert mr.activations.hard_swish is mr.activations.hard_silu


def test_dense_accepts_every_new_activation_by_name():
    for name in mr.activations.MORE_ACTIVATIONS:
        layer = mr.layers.Dense(3, activation=name)
        assert layer(np.ones((2, 4), dtype="float32")).shape == (2, 3)
        assert layer.activation is getattr(mr.activations, name)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'gelu'"):
        mr.activations.get("gelus")


# -- every derivative against finite differences (float64) ---------------------------------------

#: (name, keyword arguments, kinks to keep away from, range): every function and argument.
GRADIENT_CASES = [
    ("relu", {"negative_slope": 0.1}, (0.0,), 4.0),
    ("relu", {"max_value": 2.5}, (0.0, 2.5), 4.0),
    ("relu", {"max_value": 6.0, "negative_slope": 0.2}, (0.0, 6.0), 8.0),
    ("relu", {"threshold": 0.5, "negative_slope": 0.3, "max_value": 3.0}, (0.5, 3.0), 4.0),
    ("leaky_relu", {}, (0.0,), 4.0),
    ("leaky_relu", {"negative_slope": 0.5}, (0.0,), 4.0),
    ("relu6", {}, (0.0, 6.0), 8.0),
    ("elu", {}, (0.0,), 4.0),            # f' is continuous at 0 but f'' is not
    ("elu", {"alpha": 0.5}, (0.0,), 4.0),
    ("selu", {}, (0.0,), 4.0),
    ("softplus", {}, (), 6.0),
    ("softsign", {}, (0.0,), 6.0),       # |z| has a kink; softsign' is continuous but f'' is not
    ("silu", {}, (), 6.0),
    ("gelu", {}, (), 6.0),
    # The tanh form adds 1 + tanh(·) ≈ 1 - 1 in its left tail: f carries a rounding error
    # of ε·|z| while f' falls to 1.6e-6 at z = -4.9, where finite differences (noise about
    # ε·|z|/h) cannot judge 1e-6 (hypothesis found z = -4.875: 1.34e-6). Its tail is
    # checked against Keras below (test_catalog_matches_keras).
    ("gelu", {"approximate": True}, (), 4.0),
    ("hard_sigmoid", {}, (-3.0, 3.0), 5.0),
    ("hard_silu", {}, (-3.0, 3.0), 5.0),
    ("exponential", {}, (), 4.0),
    ("mish", {}, (), 6.0),
]


@pytest.mark.parametrize(("name", "arguments", "kinks", "bound"), GRADIENT_CASES,
                         ids=[f"{n}-{a}" if a else n for n, a, _, _ in GRADIENT_CASES])
@gradient_settings
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_catalog_backward_matches_numerical_gradient(float64, name, arguments, kinks, bound,
                                                     data, seed):
    z = data.draw(shapes().flatmap(lambda shape: arrays(shape, -bound, bound)))
    for kink in kinks:
        assume(np.min(np.abs(z - kink)) > KINK_MARGIN)
    f = mr.activations.get(name)
    result = check_function(partial(f, **arguments), partial(f.backward, **arguments), z,
                            seed=seed, h=STEP)
    scale = max(np.max(np.abs(result.analytic)), np.max(np.abs(result.numeric)))
    assume(scale == 0 or scale > 1e-6)     # an all-flat region (relu below 0) has nothing to check
    assert result.relative_error < TOLERANCE, str(result)


#: The functions whose backward reads a = f(z); the others say they need z alone.
READS_OUTPUT = {"sigmoid", "tanh", "softmax", "log_softmax", "selu", "exponential"}


def test_backward_reads_output_is_said_by_exactly_the_functions_that_read_a():
    said = {name for name in ALL_NAMES
            if mr.activations.backward_reads_output(mr.activations.get(name))}
    assert said == READS_OUTPUT

    def own(z):               # a function of the user's: counted as reading a
        return z
    own.backward = lambda z, a, grad: grad
    assert mr.activations.backward_reads_output(own)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "arguments"),
                         [(name, {}) for name in sorted(set(ALL_NAMES) - READS_OUTPUT)]
                         + [(n, a) for n, a, _, _ in GRADIENT_CASES if n not in READS_OUTPUT])
def test_a_backward_that_says_it_needs_z_alone_gives_the_same_without_a(name, arguments, dtype):
    """A convolution drops a from its cache when the backward says it does not read it
    (``backward_reads_output``): the backward must then give the same δz without it."""
    rng = np.random.default_rng(0)
    z = (rng.normal(size=(64, 7)) * 4).astype(dtype)
    z[0, :4] = [0.0, 6.0, -3.0, 3.0]                    # on the kinks of relu, relu6, hard_*
    grad = rng.normal(size=z.shape).astype(dtype)
    f = mr.activations.get(name)
    with_a = f.backward(z, f(z, **arguments), grad, **arguments)
    np.testing.assert_array_equal(f.backward(z, None, grad, **arguments), with_a)


# -- side by side with Keras: values, and δz from tf.GradientTape ------------------------------

@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


#: float64: measured at most 5.6e-15 (relative, per array); float32: at most 6e-7 for |z| <= 4.
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "arguments"),
                         [(n, a) for n, a, _, _ in GRADIENT_CASES]
                         + [("swish", {}), ("hard_swish", {}), ("relu", {})],
                         ids=lambda v: str(v) if isinstance(v, dict) and v else None)
def test_catalog_matches_keras(keras_env, name, arguments, dtype):
    """Inputs within ±4 in float32: beyond ~7.9 TensorFlow's float32 tanh rounds to exactly
    ±1 (Eigen's fast tanh), which moves mish' and the tanh-form gelu' by a few 1e-6."""
    keras, tf = keras_env.keras, keras_env.tf
    rng = np.random.default_rng(7)
    bound = 8.0 if dtype == "float64" else 4.0
    z = rng.uniform(-bound, bound, size=(16, 8)).astype(dtype)
    z[0, :6] = [0.0, -3.0, 3.0, 2.5, 0.5, 6.0 if dtype == "float64" else 1.0]   # the kinks
    upstream = rng.normal(size=z.shape).astype(dtype)
    with keras_env.precision(dtype):
        f = mr.activations.get(name)
        ours = f(z, **arguments)
        grad = f.backward(z, ours, upstream, **arguments)
        variable = tf.Variable(z)
        with tf.GradientTape() as tape:
            theirs = keras.activations.get(name)(variable, **arguments)
        their_grad = np.asarray(tape.gradient(theirs, variable,
                                              output_gradients=tf.constant(upstream)))
    theirs = np.asarray(theirs)
    assert ours.dtype == theirs.dtype == np.dtype(dtype)
    for mine, keras_value in ((ours, theirs), (grad, their_grad)):
        relative = np.max(np.abs(mine - keras_value)) / np.max(np.abs(keras_value))
        assert relative <= KERAS_TOLERANCE[dtype], (name, arguments, relative)
