"""mr.gradcheck itself: its error measure, its numerical derivative, and that it catches bugs."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import (
    check_function,
    check_layer,
    check_loss,
    check_model,
    compare,
    numerical_gradient,
    relative_error,
)
from minired.layers import Dense


def test_relative_error_is_max_difference_over_max_magnitude():
    a = np.array([1.0, -4.0, 2.0])
    n = np.array([1.5, -4.0, 2.0])
    assert relative_error(a, n) == 0.5 / 4.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1e-9]), np.array([0.0])) == 1e-9 / 1e-8   # the 1e-8 floor


def test_one_cancelling_element_does_not_dominate():
    """Per array, not per element: 1e-9 vs 2e-9 next to O(1) entries is a tiny error."""
    a, n = np.array([1.0, 1e-9]), np.array([1.0, 2e-9])
    assert relative_error(a, n) == pytest.approx(1e-9)


def test_compare_locates_the_worst_element():
    result = compare("w", np.zeros((2, 3)), np.array([[0, 0, 0], [0, 0.5, 0.1]]))
    assert result.worst_index == (1, 1)
    assert result.relative_error == 1.0
    assert str(result) == "w: relative error 1.00e+00 (worst element at (1, 1))"


def test_numerical_gradient_of_a_quadratic_is_exact_and_restores_x():
    """Central differences are exact for polynomials of degree 2 (up to rounding)."""
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    original = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x ** 2) + 3 * x[0, 1]), x)
    np.testing.assert_allclose(grad, 2 * original + np.array([[0, 3], [0, 0]]), atol=1e-8)
    np.testing.assert_array_equal(x, original)


def test_float32_arrays_are_refused():
    with pytest.raises(ValueError, match=r"gradient checks need float64 arrays, got float32; "
                                        r"call mr\.config\.set_floatx\('float64'\)"):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))
    model = mr.Sequential([mr.Input((2,)), Dense(1)])      # built in float32
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"gradient checks need float64"):
        check_model(model, np.zeros((1, 2)), np.zeros((1, 1)))


def test_check_function_passes_a_right_backward_and_fails_a_wrong_one(float64):
    x = np.random.default_rng(0).normal(size=(3, 4))

    def square(z):
        return z ** 2

    assert check_function(square, lambda z, a, g: 2 * z * g, x).relative_error < 1e-8
    assert check_function(square, lambda z, a, g: z * g, x).relative_error > 0.4


class ForgetfulDense(Dense):
    """A Dense whose bias gradient is off by the classic mistake: the batch sum is missing."""

    def backward_from_z(self, grad_z):
        grad_inputs = super().backward_from_z(grad_z)
        self.bias_gradient[...] = grad_z[0]
        return grad_inputs


def test_check_layer_reports_the_broken_array(float64):
    x = np.random.default_rng(1).normal(size=(5, 3))
    good = check_layer(Dense(2, activation="tanh", bias_initializer="ones"), x)
    assert max(r.relative_error for r in good) < 1e-8
    broken = check_layer(ForgetfulDense(2, activation="tanh", bias_initializer="ones"), x)
    errors = {r.name.split("/")[1]: r.relative_error for r in broken}
    assert errors["inputs"] < 1e-8 and errors["weight_0"] < 1e-8
    assert errors["weight_1"] > 0.1


def test_check_layer_includes_the_penalties(float64):
    """backward adds ∂R/∂W, so the checked function must contain R(W)."""
    layer = Dense(3, kernel_regularizer=mr.regularizers.L2(0.5))
    results = check_layer(layer, np.random.default_rng(2).normal(size=(4, 2)))
    assert max(r.relative_error for r in results) < 1e-8


class ForgetfulMultiply(mr.layers.Multiply):
    """A Multiply that passes δa straight to every input, as if it were an Add."""

    def backward(self, grad_outputs):
        return [grad_outputs.copy() for _ in self.cache.shapes]


class UnsummedAdd(mr.layers.Add):
    """An Add that forgets to sum δ over the axes a broadcast input was stretched along."""

    def backward(self, grad_outputs):
        return [grad_outputs.copy() for _ in self.cache]


def test_check_layer_takes_a_list_of_inputs_and_names_each(float64):
    rng = np.random.default_rng(4)
    x1, x2 = rng.normal(size=(3, 2)), rng.uniform(2.0, 3.0, size=(3, 2))
    good = check_layer(mr.layers.Multiply(name="times"), [x1, x2])
    assert [r.name for r in good] == ["times/inputs[0]", "times/inputs[1]"]
    assert max(r.relative_error for r in good) < 1e-8
    broken = check_layer(ForgetfulMultiply(), [x1, x2])
    assert broken[0].relative_error > 0.1 and broken[1].relative_error > 0.1
    with pytest.raises(ValueError, match=r"add_1/inputs\[1\]: backward returned a gradient of "
                                         r"shape \(3, 2\) for an input of shape \(3, 1\)"):
        check_layer(UnsummedAdd(name="add_1"), [x1, x2[:, :1]])


def test_check_loss_and_check_model(float64):
    rng = np.random.default_rng(3)
    y, p = np.eye(3)[[0, 2]], rng.uniform(0.1, 0.9, size=(2, 3))
    assert check_loss(mr.losses.CategoricalCrossentropy(), y, p).relative_error < 1e-8
    model = mr.Sequential([mr.Input((2,)), Dense(3, activation="tanh"), ForgetfulDense(2)])
    model.compile(loss="mse")
    x, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    results = check_model(model, x, y)
    assert [r.name for r in results] == [f"{layer.name}/weight_{i}"
                                         for layer in model.layers for i in range(2)]
    assert max(r.relative_error for r in results[:3]) < 1e-8
    assert results[3].relative_error > 0.1                  # the broken bias
