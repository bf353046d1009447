"""Property-based gradient checks: every analytic gradient against finite differences.

Each test draws random shapes, batch sizes and values (see ``strategies.py`` for the ranges
and the reasons behind them), computes in float64 and demands a relative error, as
``mr.gradcheck`` defines it (per array, ``max|a-n| / max(max|a|, max|n|, 1e-8)``), below
``TOLERANCE = 1e-6``.

The last tests check the fused softmax/sigmoid + cross-entropy path with *saturating* logits,
where finite differences are useless, against the exact logits formulas.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (
    ACTIVATION_NAMES,
    KINK_MARGIN,
    RELU_MARGIN,
    STEP,
    TOLERANCE,
    arrays,
    batch_sizes,
    class_counts,
    dense_parameters,
    feature_counts,
    gradient_settings,
    integer_labels,
    model_cases,
    nonzero_arrays,
    one_hot_labels,
    regularizers,
    sample_weights,
    seeds,
    shapes,
    unit_counts,
)

import minired as mr
from minired.gradcheck import (
    check_function,
    check_layer,
    check_loss,
    check_model,
    compare,
    numerical_gradient,
)


def assert_gradients_match(results) -> None:
    """Every array's relative error is below the tolerance (the message names the worst)."""
    results = results if isinstance(results, list) else [results]
    worst = max(results, key=lambda r: r.relative_error)
    assert worst.relative_error < TOLERANCE, str(worst)


def assume_resolvable(results, value: float) -> None:
    """Skip (near-)stationary points, where the numerical reference is only noise.

    A central difference carries a rounding error of about ``κ · 1e-16 · |f| / h``, where
    ``|f|`` is the size of the terms summed into ``f`` and ``κ`` (up to ~10 in a small model)
    the error growth of the forward pass: about ``1e-10 · |f|`` for ``h = 1e-5``. Where every
    gradient of an array is within ``1e-3 · max(|f|, 1)`` of zero (say ``ŷ = y`` exactly under
    MSE, ``σ(z) = y`` under BCE, or a symmetric model whose terms cancel), the relative error
    would measure that noise, not the code. Arrays that are exactly zero on both sides count.
    Only a few percent of random models are skipped (measured over 1,500 of them).
    """
    floor = 1e-3 * max(abs(value), 1.0)
    for r in results if isinstance(results, list) else [results]:
        scale = max(np.max(np.abs(r.analytic), initial=0.0),
                    np.max(np.abs(r.numeric), initial=0.0))
        assume(scale == 0.0 or scale > floor)


def vjp_magnitude(outputs: np.ndarray, seed: int) -> float:
    """``Σ |outputs ⊙ δout|``: the size of the terms of the scalar that check_function and
    check_layer differentiate (``δout`` drawn from ``seed`` as they draw it), which sets the
    rounding noise of the finite difference (for :func:`assume_resolvable`)."""
    upstream = np.random.default_rng(seed).standard_normal(outputs.shape)
    return float(np.sum(np.abs(outputs * upstream)))


def activation_input(name: str, shape: tuple) -> st.SearchStrategy[np.ndarray]:
    """relu is sampled away from its kink at 0; the others over a moderate range."""
    if name == "relu":
        return nonzero_arrays(shape, KINK_MARGIN, 4.0)
    return arrays(shape, -4.0, 4.0)


# -- activations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@gradient_settings
@given(data=st.data(), seed=seeds)
def test_activation_backward_matches_numerical_gradient(float64, name, data, seed):
    f = mr.activations.get(name)
    z = data.draw(shapes().flatmap(lambda shape: activation_input(name, shape)))
    result = check_function(f, f.backward, z, seed=seed, h=STEP)
    assume_resolvable(result, vjp_magnitude(f(z), seed))
    assert_gradients_match(result)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@gradient_settings
@given(data=st.data(), seed=seeds)
def test_activation_layer_backward_matches_numerical_gradient(float64, name, data, seed):
    x = data.draw(shapes(min_dims=2).flatmap(lambda shape: activation_input(name, shape)))
    layer = mr.layers.Activation(name)
    results = check_layer(layer, x, seed=seed, h=STEP)
    assume_resolvable(results, vjp_magnitude(layer.forward(x), seed))
    assert_gradients_match(results)


# -- layers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
@gradient_settings
@given(data=st.data(), n=batch_sizes, fan_in=feature_counts, units=unit_counts, seed=seeds)
def test_dense_backward_matches_numerical_gradient(float64, activation, use_bias, data, n,
                                                   fan_in, units, seed):
    """Inputs, kernel and bias, with random L1/L2/L1L2 penalties on kernel and bias.

    ``|x| >= 0.05``: with inputs near 0 the kernel gradient ``xᵀ δz`` sinks below the
    resolution of the finite difference (see ``assume_resolvable``).
    """
    x = data.draw(nonzero_arrays((n, fan_in), 0.05, 2.0))
    kernel, bias = data.draw(dense_parameters(fan_in, units))
    layer = mr.layers.Dense(
        units, activation=activation, use_bias=use_bias,
        kernel_regularizer=data.draw(regularizers()),
        bias_regularizer=data.draw(regularizers()) if use_bias else None)
    layer.build((None, fan_in))
    layer.kernel[...] = kernel
    if use_bias:
        layer.bias[...] = bias
    outputs = layer.forward(x)
    if activation == "relu":
        assume(np.min(np.abs(layer.cache.z)) > RELU_MARGIN)
    results = check_layer(layer, x, seed=seed, h=STEP)
    assume_resolvable(results, vjp_magnitude(outputs, seed) + sum(map(float, layer.losses)))
    assert [r.name for r in results] == [f"{layer.name}/inputs", f"{layer.name}/weight_0",
                                         *([f"{layer.name}/weight_1"] if use_bias else [])]
    assert_gradients_match(results)


@pytest.mark.parametrize("ndim", [3, 4])
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "softmax"])
@gradient_settings
@given(data=st.data(), n=batch_sizes, fan_in=feature_counts, units=unit_counts, seed=seeds)
def test_dense_on_inputs_with_more_axes_matches_numerical_gradient(float64, ndim, activation,
                                                                    data, n, fan_in, units,
                                                                    seed):
    """``x`` of shape ``(N, …, in)``: ∂L/∂W and ∂L/∂b sum over every leading axis."""
    middle = data.draw(st.tuples(*[st.integers(1, 3)] * (ndim - 2)))
    x = data.draw(nonzero_arrays((n, *middle, fan_in), 0.05, 2.0))
    kernel, bias = data.draw(dense_parameters(fan_in, units))
    layer = mr.layers.Dense(units, activation=activation,
                            kernel_regularizer=data.draw(regularizers()))
    layer.build((None, *middle, fan_in))
    layer.set_weights([kernel, bias])
    outputs = layer.forward(x)
    if activation == "relu":
        assume(np.min(np.abs(layer.cache.z)) > RELU_MARGIN)
    results = check_layer(layer, x, seed=seed, h=STEP)
    assume_resolvable(results, vjp_magnitude(outputs, seed) + sum(map(float, layer.losses)))
    assert_gradients_match(results)


@gradient_settings
@given(data=st.data(), rate=st.floats(0.0, 0.9), seed=seeds)
def test_dropout_backward_in_training_mode_matches_numerical_gradient(float64, data, rate, seed):
    x = data.draw(shapes(min_dims=2).flatmap(lambda shape: arrays(shape, -3.0, 3.0)))
    noise_shape = data.draw(st.sampled_from([None, (None,) + (1,) * (x.ndim - 1)]))
    layer = mr.layers.Dropout(rate, noise_shape=noise_shape, seed=seed)
    assert_gradients_match(check_layer(layer, x, training=True, seed=seed, h=STEP))


@gradient_settings
@given(data=st.data(), seed=seeds)
def test_flatten_backward_matches_numerical_gradient(float64, data, seed):
    x = data.draw(shapes(min_dims=2, max_dims=4).flatmap(lambda shape: arrays(shape)))
    assert_gradients_match(check_layer(mr.layers.Flatten(), x, seed=seed, h=STEP))


# -- regularizers ---------------------------------------------------------------------------------

@gradient_settings
@given(regularizer=regularizers().filter(lambda r: r is not None),
       w=shapes().flatmap(lambda shape: nonzero_arrays(shape, KINK_MARGIN, 3.0)))
def test_regularizer_gradient_matches_numerical_gradient(float64, regularizer, w):
    """L1 is kinked at 0: the weights are drawn with |w| >= 1e-3."""
    analytic = regularizer.gradient(w)
    numeric = numerical_gradient(lambda: float(regularizer(w)), w, h=STEP)
    assert_gradients_match(compare(type(regularizer).__name__, analytic, numeric))


# -- losses ---------------------------------------------------------------------------------------

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight"]


@st.composite
def loss_cases(draw, loss_name: str, from_logits: bool):
    """(y_true, y_pred) for a loss; probabilities stay away from the clip at eps and 1 - eps."""
    n = draw(batch_sizes)
    if loss_name == "mean_squared_error":
        shape = (n, draw(unit_counts))
        return draw(arrays(shape, -3.0, 3.0)), draw(arrays(shape, -3.0, 3.0))
    if loss_name == "binary_crossentropy":
        shape = (n, draw(unit_counts))
        y_pred = draw(arrays(shape, -3.0, 3.0) if from_logits else arrays(shape, 0.05, 0.95))
        return draw(arrays(shape, 0.0, 1.0)), y_pred
    n_classes = draw(class_counts)
    if from_logits:
        y_pred = draw(arrays((n, n_classes), -3.0, 3.0))
    elif loss_name == "categorical_crossentropy":
        # Unnormalised on purpose: the loss renormalises, and the gradient must follow.
        y_pred = draw(arrays((n, n_classes), 0.05, 1.0))
    else:
        y_pred = draw(arrays((n, n_classes), 0.05, 0.95))
    if loss_name == "categorical_crossentropy":
        return draw(one_hot_labels(n, n_classes)), y_pred
    return draw(integer_labels(n, n_classes)), y_pred


LOSS_CONFIGS = [
    ("mean_squared_error", False, 0.0),
    *[(name, from_logits, smoothing)
      for name in ("binary_crossentropy", "categorical_crossentropy")
      for from_logits in (False, True) for smoothing in (0.0, 0.2)],
    ("sparse_categorical_crossentropy", False, 0.0),
    ("sparse_categorical_crossentropy", True, 0.0),
]


@pytest.mark.parametrize(("loss_name", "from_logits", "label_smoothing"), LOSS_CONFIGS)
@gradient_settings
@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS))
def test_loss_gradient_matches_numerical_gradient(float64, loss_name, from_logits,
                                                  label_smoothing, data, reduction):
    loss_class = type(mr.losses.get(loss_name))
    kwargs = {"reduction": reduction}
    if loss_name != "mean_squared_error":
        kwargs["from_logits"] = from_logits
    if label_smoothing:
        kwargs["label_smoothing"] = label_smoothing
    loss = loss_class(**kwargs)
    y_true, y_pred = data.draw(loss_cases(loss_name, from_logits))
    sample_weight = data.draw(sample_weights(len(y_pred)))
    result = check_loss(loss, y_true, y_pred, sample_weight=sample_weight)  # h = 1e-6
    assume_resolvable(result, loss.value_and_gradient(y_true, y_pred, sample_weight)[0])
    assert_gradients_match(result)


# -- whole models ---------------------------------------------------------------------------------

def relu_inputs_clear_of_kink(model: mr.Sequential, x: np.ndarray) -> bool:
    """Whether every relu in the model sees pre-activations at least RELU_MARGIN from 0."""
    model.forward(x)
    for layer in model.layers:
        activation = getattr(layer, "activation", None)
        if activation is not None and activation.__name__ == "relu" and np.min(
                np.abs(layer.cache.z), initial=np.inf) <= RELU_MARGIN:
            return False
    return True


@settings(gradient_settings, max_examples=50)
@given(case=model_cases())
def test_random_model_gradients_match_numerical_gradients(float64, case):
    model = case.build()
    assume(relu_inputs_clear_of_kink(model, case.x))
    results = check_model(model, case.x, case.y, sample_weight=case.sample_weight,
                          h=STEP)
    value = model.loss_and_gradients(case.x, case.y, sample_weight=case.sample_weight)[0]
    assume_resolvable(results, value)
    assert len(results) == len(model.get_weights())
    assert_gradients_match(results)


# -- the fused softmax/sigmoid + cross-entropy path, with saturating logits -----------------------

def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def one_layer_model(activation: str, loss, kernel: np.ndarray, bias: np.ndarray):
    model = mr.Sequential([mr.Input((kernel.shape[0],)),
                           mr.layers.Dense(kernel.shape[1], activation=activation)])
    model.compile(optimizer=mr.optimizers.SGD(0.1), loss=loss)
    model.set_weights([kernel, bias])
    return model


@gradient_settings
@given(data=st.data(), n=batch_sizes, fan_in=feature_counts, n_classes=class_counts,
       scale=st.floats(50.0, 500.0), sparse=st.booleans())
def test_fused_softmax_crossentropy_is_exact_with_saturating_logits(float64, data, n, fan_in,
                                                                    n_classes, scale, sparse):
    """Loss = -Σ y log_softmax(z) from the logits, gradient δz = (p - y)/N, even at z ~ ±500."""
    x = data.draw(arrays((n, fan_in)))
    kernel = data.draw(arrays((fan_in, n_classes))) * scale
    bias = data.draw(arrays((n_classes,))) * scale
    labels = data.draw(integer_labels(n, n_classes))
    y_one_hot = np.eye(n_classes)[labels]
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    model = one_layer_model("softmax", loss, kernel, bias)

    value, (grad_kernel, grad_bias) = model.loss_and_gradients(x, labels if sparse else y_one_hot)

    z = x @ kernel + bias
    expected_value = float(np.mean(-np.sum(y_one_hot * log_softmax(z), axis=-1)))
    grad_z = (np.exp(log_softmax(z)) - y_one_hot) / n
    assert np.isfinite(value) and np.all(np.isfinite(grad_kernel))
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_kernel, x.T @ grad_z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_bias, grad_z.sum(axis=0), rtol=1e-10, atol=1e-12)
    evaluated = model.evaluate(x, labels if sparse else y_one_hot, verbose=0)
    np.testing.assert_allclose(evaluated, expected_value, rtol=1e-12, atol=1e-12)


@gradient_settings
@given(data=st.data(), n=batch_sizes, fan_in=feature_counts, units=unit_counts,
       scale=st.floats(50.0, 500.0))
def test_fused_sigmoid_binary_crossentropy_is_exact_with_saturating_logits(float64, data, n,
                                                                           fan_in, units, scale):
    """Loss = mean(max(z,0) - z y + log(1 + e^-|z|)), gradient δz = (σ(z) - y)/(N·D)."""
    x = data.draw(arrays((n, fan_in)))
    kernel = data.draw(arrays((fan_in, units))) * scale
    bias = data.draw(arrays((units,))) * scale
    y = data.draw(arrays((n, units), 0.0, 1.0))
    model = one_layer_model("sigmoid", "binary_crossentropy", kernel, bias)

    value, (grad_kernel, grad_bias) = model.loss_and_gradients(x, y)

    z = x @ kernel + bias
    expected_value = float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))
    sigma = np.exp(-np.logaddexp(0.0, -z))                 # σ(z) without overflow
    grad_z = (sigma - y) / (n * units)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_kernel, x.T @ grad_z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_bias, grad_z.sum(axis=0), rtol=1e-10, atol=1e-12)


def test_fused_path_is_not_capped_by_the_probability_clip(float64):
    """A confidently wrong softmax costs more than -log(eps) = 16.1, the clipped maximum."""
    kernel = np.array([[200.0, -200.0]])
    model = one_layer_model("softmax", "categorical_crossentropy", kernel, np.zeros(2))
    x, y = np.array([[1.0]]), np.array([[0.0, 1.0]])
    value, (grad_kernel, _) = model.loss_and_gradients(x, y)
    assert value == pytest.approx(400.0)                       # logsumexp(200, -200) + 200
    assert value > -np.log(mr.config.epsilon())
    np.testing.assert_allclose(grad_kernel, [[1.0, -1.0]])     # p - y = (1, 0) - (0, 1)
    # The same probabilities handed to the loss as a plain array take the clipped path.
    probabilities = model.predict(x, verbose=0)
    clipped = mr.losses.CategoricalCrossentropy()(y, probabilities)
    assert clipped == pytest.approx(-np.log(mr.config.epsilon()))


@pytest.mark.parametrize(("activation", "loss_class", "y"), [
    ("softmax", mr.losses.CategoricalCrossentropy, np.eye(3)[[0, 2, 1, 2]]),
    ("softmax", mr.losses.SparseCategoricalCrossentropy, np.array([0, 2, 1, 2])),
    ("sigmoid", mr.losses.BinaryCrossentropy, np.array([[1.0, 0, 1], [0, 0, 1], [1, 1, 0],
                                                        [0, 1, 0]])),
])
def test_from_logits_true_on_a_probability_output_warns_and_uses_the_real_logits(
        float64, activation, loss_class, y):
    """Keras warns and uses the layer's logits, so the value equals from_logits=False."""
    rng = np.random.default_rng(0)
    x, kernel, bias = rng.normal(size=(4, 2)), rng.normal(size=(2, 3)) * 30, rng.normal(size=3)
    plain = one_layer_model(activation, loss_class(from_logits=False), kernel, bias)
    confused = one_layer_model(activation, loss_class(from_logits=True), kernel, bias)
    expected_loss, expected_grads = plain.loss_and_gradients(x, y)
    with pytest.warns(UserWarning, match="from_logits=True"):
        loss, grads = confused.loss_and_gradients(x, y)
    assert loss == expected_loss
    for g, e in zip(grads, expected_grads, strict=True):
        np.testing.assert_array_equal(g, e)
    with pytest.warns(UserWarning, match="from_logits=True"):
        assert confused.evaluate(x, y, verbose=0) == pytest.approx(expected_loss, rel=1e-12)
    # Treating the probabilities themselves as logits would have given another number.
    probabilities = plain.predict(x, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert loss_class(from_logits=True)(y, probabilities) != pytest.approx(expected_loss)
