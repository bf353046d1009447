"""Regularizers: values against the formulas, gradients against central differences."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minired import regularizers as mr

# Factors exact in float32, so the formulas need no float32 rounding (see test_coefficient_...).
FACTORS = st.sampled_from([0.0, 0.125, 0.5, 2.0, 3.0])

# Weights bounded away from 0: L1's |w| has a kink there, and a central difference that
# straddles it measures neither side's slope. With |w| >= 0.1 and h = 1e-6 it never does.
AWAY_FROM_ZERO = st.floats(0.1, 10.0) | st.floats(-10.0, -0.1)
WEIGHTS = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=AWAY_FROM_ZERO
)


def numeric_gradient(f, x, h=1e-6):
    """Central differences, every element: ∂f/∂x_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8))


@settings(max_examples=40, deadline=None)
@given(w=WEIGHTS, l1=FACTORS, l2=FACTORS)
def test_values_match_formulas(w, l1, l2):
    assert mr.L1(l1)(w) == pytest.approx(l1 * np.abs(w).sum(), rel=1e-12)
    assert mr.L2(l2)(w) == pytest.approx(l2 * (w**2).sum(), rel=1e-12)
    assert mr.L1L2(l1, l2)(w) == pytest.approx(l1 * np.abs(w).sum() + l2 * (w**2).sum(), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(w=WEIGHTS, l1=FACTORS, l2=FACTORS)
def test_gradients_match_central_differences(w, l1, l2):
    for reg in (mr.L1(l1), mr.L2(l2), mr.L1L2(l1, l2)):
        analytic = reg.gradient(w)
        numeric = numeric_gradient(reg, w.copy())
        assert analytic.shape == w.shape and analytic.dtype == w.dtype
        assert relative_error(analytic, numeric) < 1e-6, type(reg).__name__


def test_gradient_formulas():
    w = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(mr.L1(0.5).gradient(w), [-0.5, 0.0, 0.5])  # sign(0) = 0
    np.testing.assert_array_equal(mr.L2(0.5).gradient(w), [-2.0, 0.0, 3.0])  # 2·l2·w, no ½
    np.testing.assert_array_equal(mr.L1L2(0.5, 0.5).gradient(w), [-2.5, 0.0, 3.5])


@pytest.mark.parametrize("reg", [mr.L1(), mr.L2(), mr.L1L2(0.01, 0.01), mr.Regularizer()])
def test_float32_in_float32_out(reg):
    w = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    if type(reg) is not mr.Regularizer:  # the base class returns the Python float 0.0
        assert reg(w).dtype == np.float32
    g = reg.gradient(w)
    assert g.dtype == np.float32 and g.shape == w.shape


def test_coefficient_is_rounded_to_float32_like_keras():
    # Keras' ops.cast(0.01, "float64") goes through a float32 tensor.
    w = np.array([1.0, -1.0])
    assert mr.L2(0.01)(w) == 2 * float(np.float32(0.01))
    assert mr.L1(0.01)(w) == 2 * float(np.float32(0.01))
    np.testing.assert_array_equal(mr.L2(0.01).gradient(w), 2 * float(np.float32(0.01)) * w)


def test_defaults_and_config():
    assert mr.L2().l2 == 0.01
    assert mr.L2(None).l2 == 0.01
    assert mr.L1().l1 == float(np.float32(0.01))  # Keras stores l1 as a float32 tensor
    assert mr.L1().get_config() == {"l1": 0.009999999776482582}
    assert mr.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert mr.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert mr.L2(1).l2 == 1.0 and isinstance(mr.L2(1).l2, float)  # ints are accepted
    w = np.ones((2, 2))
    assert mr.L1L2()(w) == 0.0
    np.testing.assert_array_equal(mr.L1L2().gradient(w), np.zeros((2, 2)))
    for reg in (mr.L1(0.5), mr.L2(0.25), mr.L1L2(0.5, 0.25)):
        assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()
    assert mr.Regularizer()(w) == 0.0
    np.testing.assert_array_equal(mr.Regularizer().gradient(w), np.zeros((2, 2)))


def test_lowercase_aliases():
    assert mr.l1 is mr.L1 and mr.l2 is mr.L2 and mr.l1_l2 is mr.L1L2


def test_get():
    assert type(mr.get("l1")) is mr.L1 and type(mr.get("L1")) is mr.L1
    assert type(mr.get("l2")) is mr.L2 and type(mr.get("L2")) is mr.L2
    assert type(mr.get("l1l2")) is mr.L1L2 and type(mr.get("L1L2")) is mr.L1L2
    assert mr.get("l2").l2 == 0.01
    assert mr.get(None) is None
    reg = mr.L2(0.5)
    assert mr.get(reg) is reg
    assert type(mr.get(mr.L1)) is mr.L1


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mr.get("l1_l2"), "Unknown regularizer 'l1_l2'"),  # as Keras
        (lambda: mr.get("l3"), "Unknown regularizer"),
        (lambda: mr.L2(-0.1), "l2"),
        (lambda: mr.L2(float("inf")), "l2"),
        (lambda: mr.L1(float("nan")), "l1"),
        (lambda: mr.L1("0.1"), "l1"),
        (lambda: mr.L1L2(l1=0.1, l2=-1), "l2"),
    ],
)
def test_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mr.get(3), "regularizer"),
        (lambda: mr.get(lambda w: 0.0), "gradient"),  # minired needs .gradient
        (lambda: mr.L2()(np.array([1, 2])), "float array"),
        (lambda: mr.L1().gradient(np.array([1, 2])), "float array"),
        (lambda: mr.L1L2(0.1)(np.array([1, 2])), "float array"),
    ],
)
def test_type_errors(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_base_get_config_is_abstract():
    with pytest.raises(NotImplementedError):
        mr.Regularizer().get_config()


# --- against Keras ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, args", [("L1", (0.01,)), ("L2", (0.01,)), ("L1L2", (0.01, 0.02))])
def test_matches_keras(name, args, dtype):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    w = np.random.default_rng(0).normal(size=(5, 3)).astype(dtype)
    ours = getattr(mr, name)(*args)
    theirs = getattr(keras.regularizers, name)(*args)
    variable = tf.Variable(w)
    with tf.GradientTape() as tape:
        value = theirs(variable)
    gradient = tape.gradient(value, variable).numpy()
    # The sums may be added up in a different order: allow a few ulps on the value.
    np.testing.assert_allclose(ours(w), value.numpy(), rtol=4 * np.finfo(dtype).eps)
    assert np.asarray(ours(w)).dtype == value.numpy().dtype
    np.testing.assert_array_equal(ours.gradient(w), gradient)  # element-wise: bit for bit
