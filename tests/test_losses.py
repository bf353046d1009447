"""Losses: values against the Keras formulas, label smoothing, reductions and sample weights.

Every expected value is computed in the test from the formula it names (KERAS_PARITY §3).
(Gradients are checked in ``test_gradients.py``; predictions of rank 1 to 4, against Keras,
in ``test_losses_nd.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    arrays,
    batch_sizes,
    class_counts,
    gradient_settings,
    integer_labels,
    one_hot_labels,
    unit_counts,
)

import minired as mr
from minired.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

EPS = 1e-7


def log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


@gradient_settings
@given(data=st.data(), n=batch_sizes, d=unit_counts)
def test_mean_squared_error_is_the_batch_mean_of_per_sample_means(float64, data, n, d):
    y, p = data.draw(arrays((n, d), -3, 3)), data.draw(arrays((n, d), -3, 3))
    per_sample = np.mean((y - p) ** 2, axis=-1)
    np.testing.assert_allclose(mr.losses.mean_squared_error(y, p), per_sample, rtol=1e-14)
    assert MeanSquaredError()(y, p) == pytest.approx(np.sum(per_sample) / n, rel=1e-14)


@gradient_settings
@given(data=st.data(), n=batch_sizes, d=unit_counts, smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_binary_crossentropy_from_probabilities_clips_at_eps(float64, data, n, d, smoothing):
    y, p = data.draw(arrays((n, d), 0, 1)), data.draw(arrays((n, d), 0, 1))
    y_s = y * (1 - smoothing) + 0.5 * smoothing
    q = np.clip(p, EPS, 1 - EPS)
    expected = np.mean(-(y_s * np.log(q) + (1 - y_s) * np.log(1 - q)), axis=-1)
    loss = BinaryCrossentropy(label_smoothing=smoothing, reduction="none")
    np.testing.assert_allclose(loss(y, p), expected, rtol=1e-12)


@gradient_settings
@given(data=st.data(), n=batch_sizes, d=unit_counts, smoothing=st.sampled_from([0.0, 0.2]))
def test_binary_crossentropy_from_logits_is_stable(float64, data, n, d, smoothing):
    y, z = data.draw(arrays((n, d), 0, 1)), data.draw(arrays((n, d), -1000, 1000))
    y_s = y * (1 - smoothing) + 0.5 * smoothing
    # -[y log σ(z) + (1-y) log(1-σ(z))] with log σ(z) = -logaddexp(0, -z), exact at any z.
    expected = np.mean(y_s * np.logaddexp(0, -z) + (1 - y_s) * np.logaddexp(0, z), axis=-1)
    loss = BinaryCrossentropy(from_logits=True, label_smoothing=smoothing, reduction="none")
    values = loss(y, z)
    assert np.all(np.isfinite(values))
    # TensorFlow's form max(z, 0) - z·y + log(1 + e^-|z|) cancels z - z·y: it is exact to
    # about ulp(|z|) <= 1.2e-13 in absolute terms, hence the atol.
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)


@gradient_settings
@given(data=st.data(), n=batch_sizes, c=class_counts, smoothing=st.sampled_from([0.0, 0.1]))
def test_categorical_crossentropy_from_logits(float64, data, n, c, smoothing):
    y, z = data.draw(one_hot_labels(n, c)), data.draw(arrays((n, c), -500, 500))
    y_s = y * (1 - smoothing) + smoothing / c
    expected = -np.sum(y_s * log_softmax(z), axis=-1)
    loss = CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
    assert loss(y, z) == pytest.approx(np.mean(expected), rel=1e-12, abs=1e-15)


@gradient_settings
@given(data=st.data(), n=batch_sizes, c=class_counts)
def test_categorical_crossentropy_from_probabilities_renormalises_then_clips(float64, data, n, c):
    y, p = data.draw(one_hot_labels(n, c)), data.draw(arrays((n, c), 1e-3, 1))
    q = np.clip(p / np.sum(p, axis=-1, keepdims=True), EPS, 1 - EPS)
    expected = -np.sum(y * np.log(q), axis=-1)
    np.testing.assert_allclose(mr.losses.categorical_crossentropy(y, p), expected, rtol=1e-12)
    # Renormalisation: scaling a row does not change its loss.
    np.testing.assert_allclose(mr.losses.categorical_crossentropy(y, 3 * p), expected, rtol=1e-12)


def test_categorical_crossentropy_probability_path_is_capped_at_minus_log_eps(float64):
    y = np.array([[0.0, 1.0]])
    assert CategoricalCrossentropy()(y, np.array([[1.0, 0.0]])) == pytest.approx(-np.log(EPS))


@gradient_settings
@given(data=st.data(), n=batch_sizes, c=class_counts, from_logits=st.booleans())
def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot(float64, data, n, c,
                                                                      from_logits):
    labels = data.draw(integer_labels(n, c))
    if from_logits:
        y_pred = data.draw(arrays((n, c), -20, 20))
    else:   # normalised rows inside [eps, 1 - eps]: both probability paths then agree
        y_pred = data.draw(arrays((n, c), 0.01, 1))
        y_pred = y_pred / y_pred.sum(axis=-1, keepdims=True)
    sparse = SparseCategoricalCrossentropy(from_logits=from_logits, reduction="none")
    dense = CategoricalCrossentropy(from_logits=from_logits, reduction="none")
    expected = dense(np.eye(c)[labels], y_pred)
    np.testing.assert_allclose(sparse(labels, y_pred), expected, rtol=1e-12)
    np.testing.assert_allclose(sparse(labels[:, None], y_pred), expected, rtol=1e-12)


def test_sparse_categorical_crossentropy_probability_path_renormalises_after_clipping(float64):
    """Keras passes log(clip(p)) to a softmax kernel: ℓ = log Σ clip(p) - log clip(p_c)."""
    p = np.array([[0.2, 0.2, 0.0]])                           # rows need not sum to 1
    clipped = np.clip(p, EPS, 1 - EPS)
    expected = np.log(clipped.sum()) - np.log(clipped[0, 1])
    assert SparseCategoricalCrossentropy()([1], p) == pytest.approx(expected, rel=1e-12)


# -- reductions and sample weights ------------------------------------------------------------

@gradient_settings
@given(data=st.data(), n=batch_sizes, d=unit_counts)
def test_reductions_and_sample_weights(float64, data, n, d):
    y, p = data.draw(arrays((n, d), -2, 2)), data.draw(arrays((n, d), -2, 2))
    w = data.draw(arrays((n,), 0.1, 3.0))
    per_sample = np.mean((y - p) ** 2, axis=-1)

    def loss(reduction):
        return MeanSquaredError(reduction=reduction)(y, p, sample_weight=w)

    # The default divides by N, not by Σw (Keras' "sum_over_batch_size"); "mean" is the same.
    assert loss("sum_over_batch_size") == pytest.approx(np.sum(w * per_sample) / n, rel=1e-12)
    assert loss("mean") == loss("sum_over_batch_size")
    assert loss("sum") == pytest.approx(np.sum(w * per_sample), rel=1e-12)
    assert loss("mean_with_sample_weight") == pytest.approx(
        np.sum(w * per_sample) / np.sum(w), rel=1e-12)
    np.testing.assert_allclose(loss("none"), w * per_sample, rtol=1e-12)
    np.testing.assert_allclose(loss(None), w * per_sample, rtol=1e-12)


def test_sample_weights_of_shape_n_by_1_are_accepted(float64):
    y, p = np.zeros((3, 2)), np.ones((3, 2))
    w = np.array([1.0, 2.0, 3.0])
    assert MeanSquaredError()(y, p, w[:, None]) == MeanSquaredError()(y, p, w) == 2.0
    # As in Keras, the (N,) losses gain the weights' trailing axis: "none" gives (N, 1).
    assert MeanSquaredError(reduction="none")(y, p, w[:, None]).shape == (3, 1)


def test_a_scalar_sample_weight_scales_every_loss(float64):
    y, p = np.zeros((3, 2)), np.ones((3, 2))
    assert MeanSquaredError()(y, p, 2.5) == 2.5
    # "mean_with_sample_weight" divides by Σw of the weights as given: here 2.5, not 3 · 2.5.
    assert MeanSquaredError(reduction="mean_with_sample_weight")(y, p, 2.5) == 3.0


def test_mean_with_sample_weight_and_all_zero_weights_is_zero_like_keras(float64):
    """Keras reduces with divide_no_nan: 0/0 gives 0, not NaN."""
    loss = MeanSquaredError(reduction="mean_with_sample_weight")
    y, p, w = np.zeros((2, 1)), np.ones((2, 1)), np.zeros(2)
    assert loss(y, p, w) == 0.0
    value, grad = loss.value_and_gradient(y, p, w)
    assert value == 0.0
    np.testing.assert_array_equal(grad, 0.0)


def test_rank_mismatch_of_one_trailing_axis_does_not_broadcast(float64):
    """y of shape (N,) against ŷ of shape (N, 1) is per sample, not an (N, N) broadcast."""
    y, p = np.array([0.0, 1.0, 2.0]), np.array([[1.0], [1.0], [1.0]])
    assert MeanSquaredError()(y, p) == pytest.approx((1 + 0 + 1) / 3)
    assert MeanSquaredError()(p, y) == pytest.approx((1 + 0 + 1) / 3)
    # Higher ranks: a trailing axis of 1 on y_true is squeezed.
    y3, p2 = np.arange(6.0).reshape(2, 3, 1), np.ones((2, 3))
    np.testing.assert_allclose(MeanSquaredError(reduction="none")(y3, p2),
                               np.mean((y3[..., 0] - p2) ** 2, axis=-1))


@pytest.mark.parametrize(("loss", "y", "z"), [
    (CategoricalCrossentropy(from_logits=True), [[1.0, 0.0]], [[0.0, 2000.0]]),
    (SparseCategoricalCrossentropy(from_logits=True), [0], [[0.0, 2000.0]]),
    (BinaryCrossentropy(from_logits=True), [[1.0]], [[-2000.0]]),
])
def test_logits_paths_never_take_log_of_zero(float64, loss, y, z):
    """e^-2000 underflows to 0, yet the loss is the exact 2000 (no log(0) = inf)."""
    value, grad = loss.value_and_gradient(np.array(y), np.array(z))
    assert value == 2000.0
    assert np.all(np.isfinite(grad)) and np.max(np.abs(grad)) == 1.0


def test_a_gradient_needs_a_reduced_loss():
    with pytest.raises(ValueError, match=r"`reduction` is 'none'"):
        MeanSquaredError(reduction="none").value_and_gradient(np.zeros((1, 1)), np.ones((1, 1)))


def test_loss_values_are_python_floats_in_floatx():
    value = MeanSquaredError()([[0.0]], [[0.5]])
    assert type(value) is float and value == 0.25


def test_docstring_values():
    assert BinaryCrossentropy()([[1.0]], [[0.5]]) == pytest.approx(np.log(2), rel=1e-6)
    assert CategoricalCrossentropy()([[0, 1]], [[0.5, 0.5]]) == pytest.approx(np.log(2), rel=1e-6)
    assert SparseCategoricalCrossentropy()([1], [[0.5, 0.5]]) == pytest.approx(np.log(2), rel=1e-6)


# -- construction -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "cls"), [
    ("mse", MeanSquaredError), ("MSE", MeanSquaredError), ("mean_squared_error", MeanSquaredError),
    ("MeanSquaredError", MeanSquaredError), ("binary_crossentropy", BinaryCrossentropy),
    ("categorical_crossentropy", CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", SparseCategoricalCrossentropy),
])
def test_get_by_keras_name(name, cls):
    loss = mr.losses.get(name)
    assert type(loss) is cls and loss.reduction == "sum_over_batch_size"


def test_get_by_function_and_instance():
    assert type(mr.losses.get(mr.losses.binary_crossentropy)) is BinaryCrossentropy
    loss = CategoricalCrossentropy(label_smoothing=0.1)
    assert mr.losses.get(loss) is loss


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=r"`loss` must be a Keras loss name, .* got 3"):
        mr.losses.get(3)


@pytest.mark.parametrize("cls", [BinaryCrossentropy, CategoricalCrossentropy])
@pytest.mark.parametrize("smoothing", [-0.1, 1.5])
def test_label_smoothing_must_lie_in_0_1(cls, smoothing):
    with pytest.raises(ValueError, match=rf"`label_smoothing` must lie in \[0, 1\], "
                                         rf"got {smoothing}"):
        cls(label_smoothing=smoothing)


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match=r"`reduction` must be one of .*got 'average'"):
        MeanSquaredError(reduction="average")


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match=r"`y_true` must have the shape of `y_pred` \(2, 3\), "
                                        r"got \(2, 2\)"):
        MeanSquaredError()(np.zeros((2, 2)), np.zeros((2, 3)))


def test_sample_weight_shape_is_checked():
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(2,\), got \(3,\)"):
        MeanSquaredError()(np.zeros((2, 1)), np.zeros((2, 1)), sample_weight=np.ones(3))
