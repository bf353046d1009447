"""Losses on predictions of any rank: ``(N, T, C)`` sequences and ``(N, H, W, C)`` maps.

The last axis of ``y_pred`` holds one prediction (its outputs or classes); every other axis
indexes losses. ``(N, T, C)`` gives losses of shape ``(N, T)``, and the default reduction
divides ``Σ w ℓ`` by their number ``N·T`` (Keras' ``losses/loss.py::reduce_values``).

The first test works one small case by hand. The others compare value and gradient with
Keras 3 on TensorFlow (``tf.GradientTape``) in float64 and float32, for every loss, with
and without logits, for every shape of ``sample_weight`` Keras accepts, and check the
gradients against finite differences with hypothesis.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, gradient_settings
from test_gradients import assert_gradients_match, assume_resolvable

import minired as mr
from minired.gradcheck import check_loss, relative_error
from minired.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)


def test_a_sequence_loss_by_hand(float64):
    """N = 2 sequences of T = 3 steps with D = 2 outputs: 6 losses, one per (n, t)."""
    y = np.zeros((2, 3, 2))
    p = np.arange(12.0).reshape(2, 3, 2) / 10
    w = np.array([[1.0], [3.0]])                      # one weight per sample: shape (N, 1)
    losses = np.mean((y - p) ** 2, axis=-1)           # ℓ_nt, shape (2, 3)
    value, grad = MeanSquaredError().value_and_gradient(y, p, sample_weight=w)
    # L = Σ w ℓ / (N·T): divided by 6 (the number of losses), not by N = 2 nor by Σw = 4.
    assert value == pytest.approx(np.sum(w * losses) / 6, rel=1e-15)
    # ∂L/∂ŷ_ntd = (w_n / 6) · (2/D) (ŷ_ntd - y_ntd)
    np.testing.assert_allclose(grad, w[:, :, None] / 6 * (2 / 2) * (p - y), rtol=1e-15)
    # Per-time-step weights, shape (N, T), weigh each loss value on its own.
    w_nt = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]])
    assert MeanSquaredError()(y, p, w_nt) == pytest.approx(np.sum(w_nt * losses) / 6, rel=1e-15)


def test_integer_labels_per_time_step(float64):
    """Sparse labels of shape (N, T) pick ``p[n, t, c_nt]``."""
    z = np.array([[[0.0, 1.0, 2.0], [2.0, 0.0, 0.0]]])   # (N, T, C) = (1, 2, 3)
    labels = np.array([[2, 0]])
    log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    loss = SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    np.testing.assert_allclose(loss(labels, z), [[-log_p[0, 0, 2], -log_p[0, 1, 0]]],
                               rtol=1e-15)
    np.testing.assert_allclose(loss(labels[..., None], z), loss(labels, z), rtol=0)


# -- against Keras ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


#: name -> (minired class, constructor arguments, kind of targets)
CONFIGS = {
    "mse": (MeanSquaredError, {}, "regression"),
    "bce": (BinaryCrossentropy, {}, "binary"),
    "bce_smoothing": (BinaryCrossentropy, {"label_smoothing": 0.2}, "binary"),
    "bce_logits": (BinaryCrossentropy, {"from_logits": True}, "binary"),
    "cce": (CategoricalCrossentropy, {}, "categorical"),
    "cce_smoothing": (CategoricalCrossentropy, {"label_smoothing": 0.1}, "categorical"),
    "cce_logits": (CategoricalCrossentropy, {"from_logits": True}, "categorical"),
    "scce": (SparseCategoricalCrossentropy, {}, "sparse"),
    "scce_logits": (SparseCategoricalCrossentropy, {"from_logits": True}, "sparse"),
}
#: y_pred shapes by rank. N = 4 differs from every other axis, so that a weight broadcast
#: along the wrong axis fails instead of passing by accident.
SHAPES = {1: (5,), 2: (4, 5), 3: (4, 3, 5), 4: (4, 3, 2, 5)}
#: Shapes of sample_weight, as functions of the losses' shape S (S = y_pred.shape[:-1]).
WEIGHT_SHAPES = {
    "scalar": lambda s: (),
    "per_sample": lambda s: s[:1] + (1,) * (len(s) - 1),              # (N,), (N, 1), (N, 1, 1)
    "per_sample_extra_1": lambda s: s[:1] + (1,) * len(s),            # (N, 1), (N, 1, 1), ...
    "per_value": lambda s: s,                                         # (N, T), (N, T, U)
    "per_value_extra_1": lambda s: (*s, 1),                           # (N, T, 1), ...
    "per_step_shared": lambda s: (1, *s[1:]),                         # (1, T)
    "per_step": lambda s: s[:2] + (1,) * (len(s) - 2),                # (N, T, 1) for 4-D
}


def weight_cases(rank: int) -> list[tuple | None]:
    """No weights, then every distinct weight shape for y_pred of this rank."""
    loss_shape = SHAPES[rank][:-1]
    distinct = dict.fromkeys(make(loss_shape) for make in WEIGHT_SHAPES.values())
    return [None, *distinct]


def draw_case(kind: str, from_logits: bool, shape: tuple, rng) -> tuple:
    """(y_true, y_pred) of ``shape``, probabilities well inside the clip at [ε, 1 - ε]."""
    if kind == "regression":
        return rng.normal(size=shape), rng.normal(size=shape)
    if from_logits:
        y_pred = 2 * rng.normal(size=shape)
    elif kind == "categorical":           # unnormalised on purpose: the loss renormalises
        y_pred = rng.uniform(0.05, 1.0, shape)
    else:
        y_pred = rng.uniform(0.05, 0.95, shape)
    if kind == "binary":
        return rng.uniform(0, 1, shape), y_pred
    labels = rng.integers(0, shape[-1], shape[:-1])
    return (np.eye(shape[-1])[labels] if kind == "categorical" else labels), y_pred


def keras_loss(keras, config: str, reduction: str, dtype: str):
    cls, kwargs, _ = CONFIGS[config]
    return getattr(keras.losses, cls.__name__)(**kwargs, reduction=reduction, dtype=dtype)


def keras_value_and_gradient(keras, config, y_true, y_pred, sample_weight, reduction, dtype):
    """Keras' loss and ``∂L/∂y_pred`` from ``tf.GradientTape`` (no gradient for "none")."""
    import tensorflow as tf

    variable = tf.Variable(y_pred.astype(dtype))
    with tf.GradientTape() as tape:
        value = keras_loss(keras, config, reduction, dtype)(y_true, variable, sample_weight)
    gradient = None if reduction == "none" else tape.gradient(value, variable).numpy()
    return value.numpy(), gradient


def compare_with_keras(keras, config: str, rank: int, weight_shape, reduction: str,
                       dtype: str, seed: int = 0) -> tuple[float, float]:
    """Relative differences ``(value, gradient)`` between minired and Keras on one case.

    Both are ``max|ours - keras| / max|keras|`` over the array (the gradient check's
    definition, see ``mr.gradcheck.relative_error``).
    """
    cls, kwargs, kind = CONFIGS[config]
    rng = np.random.default_rng(seed)
    y_true, y_pred = draw_case(kind, kwargs.get("from_logits", False), SHAPES[rank], rng)
    y_pred = y_pred.astype(dtype)
    sample_weight = (None if weight_shape is None else
                     rng.uniform(0.1, 2.0, weight_shape).astype(dtype))
    mr.config.set_floatx(dtype)
    ours = cls(**kwargs, reduction=reduction)
    theirs_value, theirs_grad = keras_value_and_gradient(keras, config, y_true, y_pred,
                                                         sample_weight, reduction, dtype)
    if reduction == "none":
        values = ours(y_true, y_pred, sample_weight)
        assert values.shape == theirs_value.shape and values.dtype == theirs_value.dtype
        return relative_error(values, theirs_value), 0.0
    value, grad = ours.value_and_gradient(y_true, y_pred, sample_weight)
    assert grad.shape == y_pred.shape and grad.dtype == np.dtype(dtype)
    if kwargs.get("from_logits"):
        # The trainer's fused path: a loss built for probabilities, handed the logits.
        plain = cls(**{**kwargs, "from_logits": False}, reduction=reduction)
        fused = plain.compute(y_true, y_pred, sample_weight, from_logits=True)
        assert fused[0] == value and np.array_equal(fused[1], grad)
    return (relative_error(np.float64(value), theirs_value),
            relative_error(grad, theirs_grad))


#: float64 is the same math in another order: 1e-12. float32: a few ulps of 6e-8.
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}

CASES = [pytest.param(config, rank, weight_shape, id=f"{config}-{rank}d-w{weight_shape}")
         for config in CONFIGS for rank in SHAPES for weight_shape in weight_cases(rank)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "rank", "weight_shape"), CASES)
def test_value_and_gradient_match_keras(keras, config, rank, weight_shape, dtype):
    errors = compare_with_keras(keras, config, rank, weight_shape, "sum_over_batch_size", dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors


REDUCTION_CASES = [
    pytest.param(config, rank, weight_shape, reduction,
                 id=f"{config}-{rank}d-w{weight_shape}-{reduction}")
    for config in CONFIGS for rank in (2, 3, 4)
    for weight_shape in (None, WEIGHT_SHAPES["per_sample"](SHAPES[rank][:-1]),
                         SHAPES[rank][:-1])
    for reduction in ("sum", "mean_with_sample_weight", "none")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "rank", "weight_shape", "reduction"), REDUCTION_CASES)
def test_reductions_match_keras(keras, config, rank, weight_shape, reduction, dtype):
    errors = compare_with_keras(keras, config, rank, weight_shape, reduction, dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors


def test_mean_with_sample_weight_divides_by_the_weights_as_given(float64):
    """Keras divides by Σw over the weights' own shape: (N, 1) weights on (N, T) losses give
    T times the weighted mean of the N·T losses."""
    y, p = np.zeros((2, 3, 1)), np.ones((2, 3, 1))            # every loss value is 1
    loss = MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(y, p, np.array([[1.0], [3.0]])) == pytest.approx((3 * 1 + 3 * 3) / 4)
    assert loss(y, p, np.array([[1.0, 1, 1], [3, 3, 3]])) == pytest.approx(1.0)


@pytest.mark.parametrize("config", ["mse", "cce_logits", "scce"])
@pytest.mark.parametrize(("rank", "weight_shape"), [(3, (4,)), (4, (4,)), (4, (4, 1)),
                                                    (3, (4, 3, 2))])
def test_weights_keras_cannot_apply_are_refused(keras, config, rank, weight_shape):
    """(N,) weights against (N, T) losses: Keras broadcasts from the right and fails; so
    does minired, saying which shape to give."""
    import tensorflow as tf

    cls, kwargs, kind = CONFIGS[config]
    y_true, y_pred = draw_case(kind, kwargs.get("from_logits", False), SHAPES[rank],
                               np.random.default_rng(0))
    weights = np.ones(weight_shape)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        keras_loss(keras, config, "sum_over_batch_size", "float64")(y_true, y_pred, weights)
    loss_shape = SHAPES[rank][:-1]
    per_sample = loss_shape[:1] + (1,) * (len(loss_shape) - 1)
    with pytest.raises(ValueError, match=rf"`sample_weight` must have shape "
                                         rf"{re_shape(per_sample)} \(one weight per sample\) or "
                                         rf"{re_shape(loss_shape)} \(one per loss value\), "
                                         rf"got {re_shape(weight_shape)}\."):
        cls(**kwargs)(y_true, y_pred, weights)


def re_shape(shape: tuple) -> str:
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_weights_keras_broadcasts_from_the_right_are_refused(keras, float64):
    """Where Keras does not fail, it broadcasts weights of fewer axes from the right. With
    T = N, (N,) weights then multiply ℓ_nt by w_t: they weigh the time steps, not the
    samples. minired refuses, and says how to weigh the samples. It also refuses (T,)
    weights shared by all samples (a deliberate difference, say (1, T) instead): one rule,
    "the rank of the losses, each axis its size or 1", and no guessing which axis is meant.
    """
    rng = np.random.default_rng(0)
    y, p, w = rng.normal(size=(3, 3, 2)), rng.normal(size=(3, 3, 2)), np.array([1.0, 2, 3])
    losses = np.mean((y - p) ** 2, axis=-1)
    keras_value = keras.losses.MeanSquaredError(dtype="float64")(y, p, w)
    assert float(keras_value) == pytest.approx(np.sum(losses * w[None, :]) / 9, rel=1e-12)
    with pytest.raises(ValueError, match=r"give per-sample weights the shape \(3, 1\), as in "
                                         r"`sample_weight\[:, None\]`"):
        MeanSquaredError()(y, p, w)
    assert MeanSquaredError()(y, p, w[:, None]) == pytest.approx(
        np.sum(losses * w[:, None]) / 9, rel=1e-12)
    assert MeanSquaredError()(y, p, w[None, :]) == pytest.approx(float(keras_value), rel=1e-12)
    y, p = y[:2], p[:2]                                        # N = 2, T = 3: w is (T,)
    keras_value = keras.losses.MeanSquaredError(dtype="float64")(y, p, w)
    assert float(keras_value) == pytest.approx(np.sum(losses[:2] * w) / 6, rel=1e-12)
    with pytest.raises(ValueError, match=r"must have shape \(2, 1\) .* got \(3,\)\.$"):
        MeanSquaredError()(y, p, w)


# -- against finite differences ---------------------------------------------------------------

@st.composite
def nd_loss_cases(draw, kind: str, from_logits: bool):
    """(y_true, y_pred, sample_weight) with y_pred of rank 1 to 4 and any accepted weights."""
    loss_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    shape = (*loss_shape, draw(st.integers(2, 4)))
    y_true, y_pred = draw_case(kind, from_logits, shape,
                               np.random.default_rng(draw(st.integers(0, 2**32 - 1))))
    weight_shape = draw(st.sampled_from([None, *WEIGHT_SHAPES.values()]))
    if weight_shape is None:
        return y_true, y_pred, None
    return y_true, y_pred, draw(arrays(weight_shape(loss_shape), 0.1, 2.0))


@pytest.mark.parametrize("config", list(CONFIGS))
@gradient_settings
@given(data=st.data(),
       reduction=st.sampled_from(["sum_over_batch_size", "sum", "mean_with_sample_weight"]))
def test_gradient_matches_numerical_gradient(float64, config, data, reduction):
    cls, kwargs, kind = CONFIGS[config]
    loss = cls(**kwargs, reduction=reduction)
    y_true, y_pred, sample_weight = data.draw(nd_loss_cases(kind, loss.from_logits))
    result = check_loss(loss, y_true, y_pred, sample_weight=sample_weight)   # h = 1e-6
    assume_resolvable(result, loss.value_and_gradient(y_true, y_pred, sample_weight)[0])
    assert_gradients_match(result)
