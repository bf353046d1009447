"""Keras' loss catalog: MAE, MAPE, MSLE, Huber, LogCosh, hinge losses, KL divergence,
Poisson, cosine similarity and binary focal cross-entropy.

First one loss worked by hand, then every loss's value on tiny arrays from its formula, the
Keras details worth a test of their own (epsilons, label conversion, names, configs), the
gradients against finite differences (hypothesis, float64), and value and gradient against
Keras 3 on TensorFlow (``tf.GradientTape``) for every reduction and weight shape, ranks 1-3.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays, gradient_settings
from test_gradients import assert_gradients_match, assume_resolvable
from test_losses_nd import KERAS_TOLERANCE, WEIGHT_SHAPES, weight_cases

import minired as mr
from minired.gradcheck import check_loss, relative_error
from minired.losses import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
)

EPS = 1e-7


def test_mean_absolute_error_by_hand(float64):
    """Two samples, two outputs: ℓ_n = mean_d |y - ŷ|, L = mean_n ℓ_n, ∂L/∂ŷ = sign(ŷ - y)/(N·D)."""
    y = np.array([[1.0, 2.0], [0.0, -1.0]])
    p = np.array([[1.5, 1.0], [0.0, 1.0]])
    value, grad = MeanAbsoluteError().value_and_gradient(y, p)
    assert value == (0.5 + 1.0) / 2 / 2 + (0.0 + 2.0) / 2 / 2            # = 0.875
    np.testing.assert_array_equal(grad, [[0.25, -0.25], [0.0, 0.25]])     # sign(0) = 0


# -- values by hand ---------------------------------------------------------------------------

#: Keras' log 2 in log_cosh is float32's (see test_log_cosh_of_zero_is_minus_...).
LOG_2_FLOAT32 = np.float64(np.float32(np.log(2)))


def logcosh(x):
    """log(cosh(x)) as Keras gives it: with log 2 rounded to float32."""
    return np.log(np.cosh(x)) + np.log(2) - LOG_2_FLOAT32


#: (loss, y_true, y_pred, per-sample losses computed from the formula by hand)
BY_HAND = {
    "mae": (MeanAbsoluteError(), [[0.0, 2.0]], [[1.0, 1.0]], [1.0]),
    "mape": (MeanAbsolutePercentageError(), [[100.0, -200.0], [0.0, 1.0]],
             [[90.0, -150.0], [1e-3, 1.0]], [100 * (0.1 + 0.25) / 2, 100 * (1e-3 / EPS) / 2]),
    "msle": (MeanSquaredLogarithmicError(), [[1.0, 3.0]], [[3.0, -2.0]],
             [((np.log(4) - np.log(2)) ** 2
               + (np.log(1 + np.float64(np.float32(EPS))) - np.log(4)) ** 2) / 2]),
    "huber": (Huber(), [[0.0, 0.0, 0.0]], [[0.5, -1.0, 3.0]],
              [(0.125 + 0.5 + (3 - 0.5)) / 3]),
    "huber_delta": (Huber(delta=2.0), [[0.0, 0.0]], [[1.0, 3.0]], [(0.5 + (6 - 2)) / 2]),
    "log_cosh": (LogCosh(), [[0.0, 1.0]], [[0.5, -1.0]], [(logcosh(0.5) + logcosh(-2)) / 2]),
    # {0, 1} labels become {-1, 1}: margins 1 - (-1)(0.3) = 1.3 and 1 - 1·2 = -1 -> 0.
    "hinge_binary": (Hinge(), [[0.0, 1.0]], [[0.3, 2.0]], [(1.3 + 0.0) / 2]),
    "hinge_signed": (Hinge(), [[-1.0, 1.0]], [[0.3, 0.5]], [(1.3 + 0.5) / 2]),
    "squared_hinge": (SquaredHinge(), [[-1.0, 1.0]], [[0.3, 0.5]], [(1.69 + 0.25) / 2]),
    # pos = 0.3 (true class), neg = max(0.6, 0, -0.1) = 0.6: 0.6 - 0.3 + 1.
    "categorical_hinge": (CategoricalHinge(), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                          [[0.6, 0.3, -0.1], [3.0, 1.0, 0.5]], [1.3, 0.0]),
    # The target's 0 is clipped to ε: it contributes ε log(ε / 0.2), not 0.
    "kld": (KLDivergence(), [[1.0, 0.0]], [[0.8, 0.2]],
            [np.log(1 / 0.8) + EPS * np.log(EPS / 0.2)]),
    "poisson": (Poisson(), [[2.0, 0.0]], [[1.0, 0.5]],
                [((1 - 2 * np.log(1 + EPS)) + 0.5) / 2]),
    "cosine": (CosineSimilarity(), [[3.0, 4.0], [1.0, 0.0], [0.0, 0.0]],
               [[4.0, 3.0], [-2.0, 0.0], [1.0, 1.0]], [-24 / 25, 1.0, 0.0]),
    # y = 1, p = 0.8: p_t = 0.8, (1 - p_t)² = 0.04; y = 0, p = 0.4: p_t = 0.6, 0.16.
    "bfce": (BinaryFocalCrossentropy(), [[1.0, 0.0]], [[0.8, 0.4]],
             [(0.04 * -np.log(0.8) + 0.16 * -np.log(0.6)) / 2]),
    "bfce_balanced": (BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25),
                      [[1.0, 0.0]], [[0.8, 0.4]],
                      [(0.25 * 0.04 * -np.log(0.8) + 0.75 * 0.16 * -np.log(0.6)) / 2]),
}


@pytest.mark.parametrize("case", list(BY_HAND))
def test_values_by_hand(float64, case):
    loss, y, p, expected = BY_HAND[case]
    arguments = {"delta": loss.delta} if isinstance(loss, Huber) else {
        k: v for k, v in loss.get_config().items() if k not in ("name", "reduction")}
    unreduced = type(loss)(**arguments, reduction="none")
    np.testing.assert_allclose(unreduced(y, p), expected, rtol=1e-12, atol=1e-15)
    assert loss(y, p) == pytest.approx(np.mean(expected), rel=1e-12, abs=1e-15)


def test_gamma_zero_focal_loss_is_binary_crossentropy(float64):
    y, p = np.array([[1.0, 0.0, 0.3]]), np.array([[0.7, 0.2, 0.5]])
    for from_logits in (False, True):
        focal = BinaryFocalCrossentropy(gamma=0.0, from_logits=from_logits)
        plain = BinaryCrossentropy(from_logits=from_logits)
        np.testing.assert_allclose(focal.value_and_gradient(y, p)[1],
                                   plain.value_and_gradient(y, p)[1], rtol=1e-14)
        assert focal(y, p) == pytest.approx(plain(y, p), rel=1e-14)


def test_log_cosh_is_stable_where_cosh_overflows(float64):
    y, p = np.zeros((1, 2)), np.array([[1000.0, -1000.0]])
    value, grad = LogCosh().value_and_gradient(y, p)
    assert value == pytest.approx(1000 - LOG_2_FLOAT32, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.5, -0.5]])


# -- Keras details ----------------------------------------------------------------------------

def test_msle_epsilon_is_float32_even_in_float64(float64):
    """Keras converts epsilon to a tensor without a dtype there: float32(1e-7) = 1.0000000117e-7."""
    value = MeanSquaredLogarithmicError()([[1.0]], [[-1.0]])
    assert value == (np.log(np.float64(np.float32(EPS)) + 1) - np.log(2)) ** 2
    assert value != (np.log(EPS + 1) - np.log(2)) ** 2


def test_log_cosh_of_zero_is_minus_float32_rounding_of_log2_in_float64(float64):
    """Keras' log 2 is computed in float32: log_cosh(0) = log 2 - float32(log 2) = -1.9e-9."""
    assert LogCosh()([[0.0]], [[0.0]]) == np.log(2) - np.float64(np.float32(np.log(2)))
    mr.config.set_floatx("float32")
    assert LogCosh()([[0.0]], [[0.0]]) == 0.0


def test_hinge_converts_labels_only_when_every_label_is_0_or_1(float64):
    """A 0 among {-1, 0, 1} labels stays 0 (Keras tests the whole batch at once)."""
    p = np.array([[0.5, 0.5, 0.5]])
    assert Hinge()([[0.0, 1.0, 1.0]], p) == pytest.approx((1.5 + 0.5 + 0.5) / 3)
    assert Hinge()([[0.0, 1.0, -1.0]], p) == pytest.approx((1.0 + 0.5 + 1.5) / 3)


def test_categorical_hinge_shares_the_gradient_of_a_tied_maximum(float64):
    """Two wrong classes at the maximum: each gets half, as TensorFlow's reduce_max gradient."""
    grad = CategoricalHinge().value_and_gradient([[1.0, 0.0, 0.0]], [[0.2, 0.7, 0.7]])[1]
    np.testing.assert_array_equal(grad, [[-1.0, 0.5, 0.5]])


def test_hinge_gradient_at_the_margin_is_that_of_the_active_side(float64):
    """At 1 - yŷ = 0 exactly, TensorFlow's maximum(x, 0) passes the gradient to x."""
    grad = Hinge().value_and_gradient([[1.0]], [[1.0]])[1]
    np.testing.assert_array_equal(grad, [[-1.0]])


def test_cosine_similarity_of_a_zero_vector_is_zero(float64):
    loss = CosineSimilarity(reduction="none")
    np.testing.assert_array_equal(loss([[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [0.0, 0.0]]),
                                  [0.0, 0.0])


@pytest.mark.parametrize(("cls", "keys"), [
    (MeanAbsoluteError, {"name", "reduction"}),
    (Huber, {"name", "reduction"}),                   # no delta: Keras' Huber forgets it
    (CosineSimilarity, {"name", "reduction"}),        # no axis, likewise
    (BinaryFocalCrossentropy, {"name", "reduction", "from_logits", "label_smoothing", "axis",
                               "apply_class_balancing", "alpha", "gamma"}),
])
def test_get_config_has_keras_keys(cls, keys):
    assert set(cls().get_config()) == keys


CATALOG = {
    "MeanAbsoluteError": ("mean_absolute_error", ["mae", "MAE"]),
    "MeanAbsolutePercentageError": ("mean_absolute_percentage_error", ["mape", "MAPE"]),
    "MeanSquaredLogarithmicError": ("mean_squared_logarithmic_error", ["msle", "MSLE"]),
    "CosineSimilarity": ("cosine_similarity", []),
    "Huber": ("huber", []),
    "LogCosh": ("log_cosh", ["logcosh"]),
    "Hinge": ("hinge", []),
    "SquaredHinge": ("squared_hinge", []),
    "CategoricalHinge": ("categorical_hinge", []),
    "KLDivergence": ("kl_divergence", ["kld", "KLD"]),
    "Poisson": ("poisson", []),
    "BinaryFocalCrossentropy": ("binary_focal_crossentropy", []),
    "BinaryCrossentropy": ("binary_crossentropy", ["bce", "BCE"]),
}


@pytest.mark.parametrize("class_name", list(CATALOG))
def test_every_name_resolves_and_compiles(class_name):
    function_name, aliases = CATALOG[class_name]
    cls = getattr(mr.losses, class_name)
    for name in [class_name, function_name, *aliases]:
        assert type(mr.losses.get(name)) is cls, name
        assert type(mr.losses.get(getattr(mr.losses, name, cls))) is cls, name
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=function_name)
    assert type(model.loss) is cls
    assert type(mr.losses.get(cls)) is cls                   # a class: built with defaults


def test_keras_names_match(keras):
    """Every name minired resolves, Keras resolves to the same loss (except Keras 2's
    "logcosh", which Keras 3 dropped)."""
    from keras.src.losses import ALL_OBJECTS_DICT

    for class_name, (function_name, aliases) in CATALOG.items():
        assert class_name in ALL_OBJECTS_DICT and function_name in ALL_OBJECTS_DICT
        for alias in aliases:
            if alias != "logcosh":
                assert ALL_OBJECTS_DICT[alias] is ALL_OBJECTS_DICT[function_name], alias
    assert "logcosh" not in ALL_OBJECTS_DICT


@pytest.mark.parametrize(("cls", "defaults"), [
    (Huber, {"delta": 1.0, "name": "huber_loss"}),
    (CosineSimilarity, {"axis": -1, "name": "cosine_similarity"}),
    (LogCosh, {"name": "log_cosh"}),
    (KLDivergence, {"name": "kl_divergence"}),
    (BinaryFocalCrossentropy, {"apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0,
                               "from_logits": False, "label_smoothing": 0.0, "axis": -1,
                               "name": "binary_focal_crossentropy"}),
])
def test_constructor_defaults_match_keras(keras, cls, defaults):
    import inspect

    ours = inspect.signature(cls).parameters
    theirs = inspect.signature(getattr(keras.losses, cls.__name__)).parameters
    for argument, value in defaults.items():
        assert ours[argument].default == theirs[argument].default == value
    assert list(ours) == list(theirs)


def test_a_python_function_is_a_loss_differentiated_by_the_tape(float64):
    """``compile(loss=fn)``: Keras wraps the function (LossFunctionWrapper) and reduces its
    values; the tape derives ∂L/∂ŷ. |y − ŷ| per output, averaged, is MAE for one output."""
    def my_loss(y_true, y_pred):
        return abs(y_true - y_pred)

    x = np.random.default_rng(0).normal(size=(6, 3))
    y = np.random.default_rng(1).normal(size=(6, 1))
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=my_loss)
    assert type(model.loss).__name__ == "LossFunctionWrapper" and model.loss.name == "my_loss"
    ours = model.loss_and_gradients(x, y)
    model.compile(optimizer="sgd", loss="mae")
    reference = model.loss_and_gradients(x, y)
    assert ours[0] == pytest.approx(reference[0], rel=1e-14)
    for a, b in zip(ours[1], reference[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_one_dimensional_arrays_give_one_loss_like_keras(keras, float64):
    """Keras averages 1-D arrays to one value and leaves it unreduced: (|−0.5| + 0 + 1)/3."""
    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])
    assert MeanAbsoluteError()(y, p) == pytest.approx(0.5, rel=1e-15)
    assert float(keras.losses.MeanAbsoluteError(dtype="float64")(y, p)) == 0.5
    # "sum" leaves it alone too: the 0-d loss is not summed over anything.
    assert MeanAbsoluteError(reduction="sum")(y, p) == 0.5
    value, grad = MeanAbsoluteError().value_and_gradient(y, p)
    np.testing.assert_allclose(grad, [1 / 3, 0.0, -1 / 3])


@pytest.mark.parametrize("cls", [BinaryFocalCrossentropy])
def test_label_smoothing_is_checked(cls):
    with pytest.raises(ValueError, match=r"`label_smoothing` must lie in \[0, 1\]"):
        cls(label_smoothing=1.5)


def test_axis_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"`axis=2` is out of range for predictions of shape"):
        CosineSimilarity(axis=2)(np.ones((2, 3)), np.ones((2, 3)))


# -- the configurations compared ------------------------------------------------------------

def _away_from(values, kink: float, margin: float = 0.05):
    """``values`` moved, where within ``margin`` of ``kink``, to ``kink ± 2·margin``."""
    near = np.abs(values - kink) < margin
    return np.where(near, kink + np.where(values >= kink, 2, -2) * margin, values)


def _errors(rng, shape, low=0.05, high=2.0):
    """Errors of random sign with ``low <= |e| <= high`` (away from the kink at 0)."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)


def _draw_regression(shape, rng):
    y = rng.normal(size=shape)
    return y, y + _errors(rng, shape)


def _draw_mape(shape, rng):
    y = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 3.0, shape)
    return y, y + _errors(rng, shape)


def _draw_msle(shape, rng):
    # Some predictions below 0: there the max(ŷ, ε) holds ε and the gradient is 0.
    return rng.uniform(0.0, 3.0, shape), _away_from(rng.uniform(-0.5, 3.0, shape), 0.0)


def _draw_huber(delta):
    def draw(shape, rng):
        y = rng.normal(size=shape)
        e = _errors(rng, shape, 0.05, 3 * delta)
        e = np.sign(e) * _away_from(np.abs(e), delta)          # off the transition |e| = δ
        return y, y + e
    return draw


def _draw_hinge(labels):
    def draw(shape, rng):
        y = rng.choice(labels, shape)
        signed = 2 * y - 1 if 0.0 in labels else y
        margin = _errors(rng, shape, 0.05, 1.5)                # 1 - y ŷ, away from 0
        return y, signed * (1 - margin)
    return draw


def _draw_categorical_hinge(shape, rng):
    y = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return y, rng.normal(size=shape)


def _draw_kld(shape, rng):
    y = rng.uniform(0.0, 1.0, shape)
    y = y / y.sum(axis=-1, keepdims=True)
    return y, rng.uniform(0.05, 1.0, shape)


def _draw_poisson(shape, rng):
    return rng.integers(0, 4, shape).astype(float), rng.uniform(0.2, 3.0, shape)


def _draw_binary(from_logits):
    def draw(shape, rng):
        y_pred = 2 * rng.normal(size=shape) if from_logits else rng.uniform(0.05, 0.95, shape)
        return rng.uniform(0.0, 1.0, shape), y_pred
    return draw


#: name -> (minired class, constructor arguments, draw(shape, rng) -> (y_true, y_pred))
CONFIGS = {
    "mae": (MeanAbsoluteError, {}, _draw_regression),
    "mape": (MeanAbsolutePercentageError, {}, _draw_mape),
    "msle": (MeanSquaredLogarithmicError, {}, _draw_msle),
    "huber": (Huber, {}, _draw_huber(1.0)),
    "huber_delta": (Huber, {"delta": 0.4}, _draw_huber(0.4)),
    "log_cosh": (LogCosh, {}, _draw_regression),
    "hinge": (Hinge, {}, _draw_hinge([0.0, 1.0])),
    "hinge_signed": (Hinge, {}, _draw_hinge([-1.0, 1.0])),
    "squared_hinge": (SquaredHinge, {}, _draw_hinge([0.0, 1.0])),
    "categorical_hinge": (CategoricalHinge, {}, _draw_categorical_hinge),
    "kld": (KLDivergence, {}, _draw_kld),
    "poisson": (Poisson, {}, _draw_poisson),
    "cosine": (CosineSimilarity, {}, _draw_regression),
    "bfce": (BinaryFocalCrossentropy, {}, _draw_binary(False)),
    "bfce_balanced": (BinaryFocalCrossentropy,
                      {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
                      _draw_binary(False)),
    "bfce_smoothing": (BinaryFocalCrossentropy, {"label_smoothing": 0.1}, _draw_binary(False)),
    "bfce_logits": (BinaryFocalCrossentropy, {"from_logits": True, "gamma": 3.0},
                    _draw_binary(True)),
    "bfce_logits_balanced": (BinaryFocalCrossentropy,
                             {"from_logits": True, "apply_class_balancing": True},
                             _draw_binary(True)),
}
SHAPES = {1: (5,), 2: (4, 5), 3: (4, 3, 5)}


# -- against finite differences -------------------------------------------------------------

@st.composite
def loss_cases(draw, config: str):
    """(y_true, y_pred, sample_weight) with y_pred of rank 1 to 3 and any accepted weights."""
    loss_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    shape = (*loss_shape, draw(st.integers(2, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y_true, y_pred = CONFIGS[config][2](shape, rng)
    if config == "categorical_hinge":          # off the kinks: ties in the max, the margin
        others = np.sort((1 - y_true) * y_pred, axis=-1)
        margin = np.max(others, -1) - np.sum(y_true * y_pred, -1) + 1
        assume(np.all(others[..., -1] - others[..., -2] > 1e-3) and np.all(np.abs(margin) > 1e-3))
    weight_shape = draw(st.sampled_from([None, *WEIGHT_SHAPES.values()]))
    if weight_shape is None:
        return y_true, y_pred, None
    return y_true, y_pred, draw(arrays(weight_shape(loss_shape), 0.1, 2.0))


@pytest.mark.parametrize("config", list(CONFIGS))
@gradient_settings
@given(data=st.data(),
       reduction=st.sampled_from(["sum_over_batch_size", "sum", "mean_with_sample_weight"]))
def test_gradient_matches_numerical_gradient(float64, config, data, reduction):
    cls, kwargs, _ = CONFIGS[config]
    loss = cls(**kwargs, reduction=reduction)
    y_true, y_pred, sample_weight = data.draw(loss_cases(config))
    result = check_loss(loss, y_true, y_pred, sample_weight=sample_weight)   # h = 1e-6
    assume_resolvable(result, loss.value_and_gradient(y_true, y_pred, sample_weight)[0])
    assert_gradients_match(result)


@pytest.mark.parametrize(("cls", "kwargs"), [(CosineSimilarity, {"axis": 0}),
                                             (CosineSimilarity, {"axis": 1}),
                                             (BinaryFocalCrossentropy, {"axis": 1})])
def test_gradient_along_another_axis(float64, cls, kwargs):
    rng = np.random.default_rng(0)
    y, p = rng.uniform(0.05, 0.95, (4, 3, 2)), rng.uniform(0.05, 0.95, (4, 3, 2))
    assert_gradients_match(check_loss(cls(**kwargs), y, p))


# -- against Keras ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def keras_value_and_gradient(keras_loss, y_true, y_pred, sample_weight, reduction):
    """Keras' loss and ``∂L/∂y_pred`` from ``tf.GradientTape`` (no gradient for "none")."""
    import tensorflow as tf

    variable = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = keras_loss(y_true, variable, sample_weight)
    gradient = None if reduction == "none" else tape.gradient(value, variable).numpy()
    return value.numpy(), gradient


def compare_with_keras(keras, cls, kwargs, y_true, y_pred, sample_weight, reduction: str,
                       dtype: str) -> tuple[float, float]:
    """Relative differences ``(value, gradient)``, ``max|ours - keras| / max|keras|``."""
    y_pred = y_pred.astype(dtype)
    sample_weight = None if sample_weight is None else sample_weight.astype(dtype)
    mr.config.set_floatx(dtype)
    ours = cls(**kwargs, reduction=reduction)
    theirs = getattr(keras.losses, cls.__name__)(**kwargs, reduction=reduction, dtype=dtype)
    theirs_value, theirs_grad = keras_value_and_gradient(theirs, y_true, y_pred, sample_weight,
                                                         reduction)
    if reduction == "none":
        values = ours(y_true, y_pred, sample_weight)
        assert values.shape == theirs_value.shape and values.dtype == theirs_value.dtype
        return relative_error(values, theirs_value), 0.0
    value, grad = ours.value_and_gradient(y_true, y_pred, sample_weight)
    assert grad.shape == y_pred.shape and grad.dtype == np.dtype(dtype)
    if kwargs.get("from_logits"):
        # The trainer's path: a loss built for probabilities, handed a sigmoid's logits.
        plain = cls(**{**kwargs, "from_logits": False}, reduction=reduction)
        fused = plain.compute(y_true, y_pred, sample_weight, from_logits=True)
        assert fused[0] == value and np.array_equal(fused[1], grad)
    return (relative_error(np.float64(value), theirs_value),
            relative_error(grad, theirs_grad))


def draw_config(config: str, rank: int, weight_shape, seed: int = 0):
    rng = np.random.default_rng(seed)
    y_true, y_pred = CONFIGS[config][2](SHAPES[rank], rng)
    weights = None if weight_shape is None else rng.uniform(0.1, 2.0, weight_shape)
    return y_true, y_pred, weights


CASES = [pytest.param(config, rank, weight_shape, id=f"{config}-{rank}d-w{weight_shape}")
         for config in CONFIGS for rank in SHAPES for weight_shape in weight_cases(rank)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "rank", "weight_shape"), CASES)
def test_value_and_gradient_match_keras(keras, config, rank, weight_shape, dtype):
    cls, kwargs, _ = CONFIGS[config]
    errors = compare_with_keras(keras, cls, kwargs, *draw_config(config, rank, weight_shape),
                                "sum_over_batch_size", dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors


REDUCTION_CASES = [
    pytest.param(config, rank, weight_shape, reduction,
                 id=f"{config}-{rank}d-w{weight_shape}-{reduction}")
    for config in CONFIGS for rank in (1, 2, 3)
    for weight_shape in dict.fromkeys((None, WEIGHT_SHAPES["per_sample"](SHAPES[rank][:-1]),
                                       SHAPES[rank][:-1]))
    for reduction in ("sum", "mean", "mean_with_sample_weight", "none")]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "rank", "weight_shape", "reduction"), REDUCTION_CASES)
def test_reductions_match_keras(keras, config, rank, weight_shape, reduction, dtype):
    cls, kwargs, _ = CONFIGS[config]
    errors = compare_with_keras(keras, cls, kwargs, *draw_config(config, rank, weight_shape),
                                reduction, dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("config", "axis", "weight_shape"), [
    ("cosine", 0, None), ("cosine", 1, None), ("cosine", 1, (4, 5)), ("cosine", -2, (4, 1)),
    ("bfce", 1, None), ("bfce", 0, (3, 5)), ("bfce_logits", 1, (4, 5)),
])
def test_another_axis_matches_keras(keras, config, axis, weight_shape, dtype):
    """The loss reduces ``axis``; the other axes (here of a (4, 3, 5) prediction) index the
    loss values, and the weights are shaped like them."""
    cls, kwargs, _ = CONFIGS[config]
    y_true, y_pred, weights = draw_config(config, 3, weight_shape)
    errors = compare_with_keras(keras, cls, {**kwargs, "axis": axis}, y_true, y_pred, weights,
                                "sum_over_batch_size", dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", ["msle", "kld", "bfce", "cosine"])
def test_clipped_regions_match_keras(keras, config, dtype):
    """Predictions beyond the clips (MSLE's ε, KLD's [ε, 1], BCE's [ε, 1-ε]) and tiny cosine
    vectors (norm below ε, where the 1/ε cap holds, and 0): value and gradient as Keras'."""
    rng = np.random.default_rng(1)
    cls, kwargs, draw = CONFIGS[config]
    y_true, _ = draw((6, 4), rng)
    y_pred = rng.choice([-0.5, 0.0, 3e-8, 0.5, 1.0, 1.5], (6, 4))
    if config == "cosine":
        y_pred = rng.normal(size=(6, 4)) * np.array([[1e-9], [1e-8], [1.0], [1e-7], [2.0], [0]])
    errors = compare_with_keras(keras, cls, kwargs, y_true, y_pred, None,
                                "sum_over_batch_size", dtype)
    assert max(errors) <= KERAS_TOLERANCE[dtype], errors
