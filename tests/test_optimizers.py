"""Optimizers and learning-rate schedules against their formulas and against Keras.

Most checks run in float64 against the update rules written out again below, step by
step. The hyperparameters Keras passes through ``ops.cast`` (SGD momentum, Adam's betas in
``beta^t``, weight decay, Adagrad's initial accumulator) are rounded to float32 by
TensorFlow even in float64 mode, so the formula tests pick values exact in float32
(0.5, 0.875, ...); ``test_float64_mode_rounds_cast_constants_to_float32`` covers the rounding.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import math
import os
import pickle
import signal
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minired import config, keras_numerics
from minired import optimizers as mo
from minired.optimizers import schedules
from minired.utils import interrupts, naming

STEPS = 5
SHAPES = [(3, 2), (2,)]


@pytest.fixture
def float64():
    """Run the test with floatx = float64 (float learning rates stored exactly)."""
    previous = config.floatx()
    config.set_floatx("float64")
    yield
    config.set_floatx(previous)


def make_problem(dtype="float64", seed=0, scale=1.0, shapes=SHAPES):
    """Starting weights and STEPS rounds of gradients for each shape."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [
        [(scale * rng.normal(size=s)).astype(dtype) for s in shapes] for _ in range(STEPS)
    ]
    return weights, grads


def run(optimizer, weights, grads):
    """Apply every round of gradients to copies of ``weights``; return the copies."""
    variables = [w.copy() for w in weights]
    for round_grads in grads:
        optimizer.apply_gradients(zip(round_grads, variables, strict=True))
    return variables


# --- reference update rules, in float64, textbook form --------------------------------------
def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False, wd=None):
    w = [x.copy() for x in w]
    v = [np.zeros_like(x) for x in w]
    for gs in grads:
        for i, g in enumerate(gs):
            if wd is not None:
                w[i] = w[i] - w[i] * wd * lr
            if momentum == 0:
                w[i] = w[i] - lr * g
            else:
                v[i] = momentum * v[i] - lr * g
                w[i] = w[i] + (momentum * v[i] - lr * g if nesterov else v[i])
    return w


def ref_rmsprop(w, grads, lr, rho, momentum, eps, centered):
    w = [x.copy() for x in w]
    s = [np.zeros_like(x) for x in w]
    mg = [np.zeros_like(x) for x in w]
    b = [np.zeros_like(x) for x in w]
    for gs in grads:
        for i, g in enumerate(gs):
            s[i] = rho * s[i] + (1 - rho) * g**2
            if centered:
                mg[i] = rho * mg[i] + (1 - rho) * g
                step = lr * g / np.sqrt(s[i] - mg[i] ** 2 + eps)
            else:
                step = lr * g / np.sqrt(s[i] + eps)
            if momentum > 0:
                b[i] = momentum * b[i] + step
                w[i] = w[i] - b[i]
            else:
                w[i] = w[i] - step
    return w


def ref_adagrad(w, grads, lr, initial, eps):
    w = [x.copy() for x in w]
    a = [np.full_like(x, initial) for x in w]
    for gs in grads:
        for i, g in enumerate(gs):
            a[i] = a[i] + g**2
            w[i] = w[i] - lr * g / np.sqrt(a[i] + eps)
    return w


def ref_adam(w, grads, lr, b1, b2, eps, amsgrad=False, wd=None):
    w = [x.copy() for x in w]
    m = [np.zeros_like(x) for x in w]
    v = [np.zeros_like(x) for x in w]
    vmax = [np.zeros_like(x) for x in w]
    for t, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            if wd is not None:
                w[i] = w[i] - w[i] * wd * lr
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            vmax[i] = np.maximum(vmax[i], v[i])
            alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            w[i] = w[i] - alpha * m[i] / (np.sqrt(vmax[i] if amsgrad else v[i]) + eps)
    return w


def ref_nadam(w, grads, lr, b1, b2, eps):
    # Keras writes 0.96 through ops.cast (float32-rounded) in the per-variable u_t, but as
    # a plain Python float in the shared product: hence two spellings of 0.96.
    decay = float(np.float32(0.96))
    w = [x.copy() for x in w]
    m = [np.zeros_like(x) for x in w]
    v = [np.zeros_like(x) for x in w]
    product = 1.0
    for t, gs in enumerate(grads, start=1):
        product *= b1 * (1 - 0.5 * 0.96**t)
        u_t = b1 * (1 - 0.5 * decay**t)
        u_next = b1 * (1 - 0.5 * decay ** (t + 1))
        for i, g in enumerate(gs):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            m_hat = u_next * m[i] / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
            v_hat = v[i] / (1 - b2**t)
            w[i] = w[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def assert_weights_close(actual, expected, rtol=1e-12):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-14)


# --- update rules -------------------------------------------------------------------------
@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.5}, {"momentum": 0.875, "nesterov": True}, {"weight_decay": 0.125}],
)
def test_sgd_matches_formula(kwargs):
    w0, grads = make_problem()
    got = run(mo.SGD(learning_rate=0.1, **kwargs), w0, grads)
    expected = ref_sgd(
        w0, grads, 0.1, kwargs.get("momentum", 0.0), kwargs.get("nesterov", False),
        kwargs.get("weight_decay"),
    )
    assert_weights_close(got, expected)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_formula(centered, momentum):
    w0, grads = make_problem()
    opt = mo.RMSprop(learning_rate=0.01, rho=0.9, momentum=momentum, centered=centered)
    expected = ref_rmsprop(w0, grads, 0.01, 0.9, momentum, 1e-7, centered)
    assert_weights_close(run(opt, w0, grads), expected)


@pytest.mark.usefixtures("float64")
def test_adagrad_matches_formula():
    w0, grads = make_problem()
    opt = mo.Adagrad(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=1e-3)
    assert_weights_close(run(opt, w0, grads), ref_adagrad(w0, grads, 0.1, 0.5, 1e-3))


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_formula(amsgrad):
    w0, grads = make_problem()
    # Shrinking gradients make v decrease, so AMSGrad's max(v̂, v) really differs from v.
    grads = [[g / (k + 1) ** 2 for g in gs] for k, gs in enumerate(grads)]
    opt = mo.Adam(0.01, beta_1=0.875, beta_2=0.9921875, epsilon=1e-3, amsgrad=amsgrad)
    expected = ref_adam(w0, grads, 0.01, 0.875, 0.9921875, 1e-3, amsgrad)
    assert_weights_close(run(opt, w0, grads), expected)
    if amsgrad:  # guard against a vacuous test
        plain = ref_adam(w0, grads, 0.01, 0.875, 0.9921875, 1e-3, amsgrad=False)
        assert not np.allclose(plain[0], expected[0], rtol=1e-9)


def test_adam_moments_use_the_incremental_form():
    # Keras: m <- m + (g - m)(1 - b1), not b1·m + (1 - b1)·g. Equal in exact arithmetic,
    # different roundings in float32.
    rng = np.random.default_rng(0)
    w = np.zeros(1000, dtype=np.float32)
    grads = [rng.normal(size=1000).astype(np.float32) for _ in range(3)]
    opt = mo.Adam()
    incremental = np.zeros(1000, dtype=np.float32)
    textbook = np.zeros(1000, dtype=np.float32)
    for g in grads:
        opt.apply_gradients([(g, w)])
        incremental += (g - incremental) * np.float32(1 - 0.9)
        textbook = np.float32(0.9) * textbook + np.float32(1 - 0.9) * g
    momentum = opt.variables[2]  # after iterations and the learning rate: Adam's m
    np.testing.assert_array_equal(momentum, incremental)
    assert not np.array_equal(momentum, textbook)


@pytest.mark.usefixtures("float64")
def test_adamw_decays_before_the_adam_step():
    w0, grads = make_problem()
    opt = mo.AdamW(0.01, weight_decay=0.25, beta_1=0.875, beta_2=0.9921875)
    expected = ref_adam(w0, grads, 0.01, 0.875, 0.9921875, 1e-7, wd=0.25)
    assert_weights_close(run(opt, w0, grads), expected)


@pytest.mark.usefixtures("float64")
def test_nadam_matches_formula():
    w0, grads = make_problem()
    opt = mo.Nadam(0.01, beta_1=0.875, beta_2=0.9921875, epsilon=1e-3)
    assert_weights_close(run(opt, w0, grads), ref_nadam(w0, grads, 0.01, 0.875, 0.9921875, 1e-3))


@pytest.mark.usefixtures("float64")
def test_float64_mode_rounds_cast_constants_to_float32():
    # Keras' ops.cast(0.9, "float64") is 0.8999999761581421 (TensorFlow goes through float32).
    w0, grads = make_problem()
    got = run(mo.SGD(0.1, momentum=0.9), w0, grads)
    assert_weights_close(got, ref_sgd(w0, grads, 0.1, momentum=float(np.float32(0.9))))
    exact = ref_sgd(w0, grads, 0.1, momentum=0.9)
    assert not np.allclose(got[0], exact[0], rtol=1e-12, atol=0)
    assert float(keras_numerics.as_keras_constant(0.9, np.float64)) == float(np.float32(0.9))
    assert float(keras_numerics.as_keras_constant(np.float64(0.9), np.float64)) == 0.9


# --- clipping ------------------------------------------------------------------------------
@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("scale", [0.01, 10.0])  # below and above the clip threshold
@pytest.mark.parametrize("kind", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clipping(kind, scale):
    w0, grads = make_problem(scale=scale)
    c = 0.5
    clipped = []
    for gs in grads:
        if kind == "clipnorm":
            clipped.append([g * c / max(np.linalg.norm(g), c) for g in gs])
        elif kind == "clipvalue":
            clipped.append([np.clip(g, -c, c) for g in gs])
        else:
            n = math.sqrt(sum(np.sum(g**2) for g in gs))
            clipped.append([g * c / max(n, c) for g in gs])
    got = run(mo.SGD(0.1, **{kind: c}), w0, grads)
    assert_weights_close(got, ref_sgd(w0, clipped, 0.1))
    if scale > 1:  # the large gradients really were clipped
        assert not np.allclose(got[0], ref_sgd(w0, grads, 0.1)[0])


@pytest.mark.usefixtures("float64")
def test_zero_clip_means_no_clipping():
    w0, grads = make_problem(scale=10.0)
    for kind in ("clipnorm", "clipvalue", "global_clipnorm"):
        assert_weights_close(run(mo.SGD(0.1, **{kind: 0.0}), w0, grads), ref_sgd(w0, grads, 0.1))


def test_global_clipnorm_turns_non_finite_gradients_into_nan():
    w = np.ones(2)
    mo.SGD(0.1, global_clipnorm=1.0).apply_gradients([(np.array([np.inf, 1.0]), w)])
    assert np.isnan(w).all()


def test_global_clipnorm_with_zero_gradients_is_silent():
    w = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mo.SGD(0.1, global_clipnorm=1.0).apply_gradients([(np.zeros(2), w)])
    np.testing.assert_array_equal(w, np.ones(2))


# --- learning rate and schedules -------------------------------------------------------------
def test_float_learning_rate_is_stored_in_floatx(float64):
    assert mo.SGD(0.1).learning_rate == 0.1
    config.set_floatx("float32")
    assert mo.SGD(0.1).learning_rate == float(np.float32(0.1))


def test_learning_rate_setter_and_callable():
    opt = mo.SGD(0.1)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    opt.learning_rate = 1  # like Keras' variable.assign, an int is fine here
    assert opt.learning_rate == 1.0
    w = np.ones(1)
    opt = mo.SGD(lambda: 0.25)
    opt.apply_gradients([(np.ones(1), w)])
    np.testing.assert_array_equal(w, [0.75])
    opt.learning_rate = 0.5  # a float replaces the function
    assert opt.learning_rate == 0.5


@pytest.mark.usefixtures("float64")
def test_schedule_sees_the_step_before_the_increment():
    # ExponentialDecay(0.1, 1, 0.5): steps of 0.1, 0.05, 0.025 (Keras, verified).
    opt = mo.SGD(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    w = np.zeros(1)
    steps = []
    for _ in range(3):
        before = w.copy()
        assert opt.learning_rate == pytest.approx(0.1 * 0.5**opt.iterations, rel=1e-7)
        opt.apply_gradients([(np.ones(1), w)])
        steps.append(float(before[0] - w[0]))
    np.testing.assert_allclose(steps, [0.1, 0.05, 0.025], rtol=1e-7)
    assert opt.iterations == 3


@pytest.mark.usefixtures("float64")
def test_weight_decay_uses_the_scheduled_learning_rate():
    schedule = schedules.PiecewiseConstantDecay([0], [0.5, 0.25])
    w = np.array([1.0])
    opt = mo.SGD(schedule, weight_decay=0.5)
    opt.apply_gradients([(np.zeros(1), w)])  # lr 0.5: w *= 1 - 0.25
    opt.apply_gradients([(np.zeros(1), w)])  # lr 0.25: w *= 1 - 0.125
    np.testing.assert_allclose(w, [0.75 * 0.875], rtol=1e-15)


@pytest.mark.parametrize(
    "schedule, formula",
    [
        (schedules.ExponentialDecay(0.1, 3, 0.5), lambda s: 0.1 * 0.5 ** (s / 3)),
        (schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** (s // 3)),
        (schedules.InverseTimeDecay(0.1, 2, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 2)),
        (schedules.InverseTimeDecay(0.1, 2, 0.5, True), lambda s: 0.1 / (1 + 0.5 * (s // 2))),
        (
            schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
            lambda s: 1.0 if s <= 2 else (0.5 if s <= 5 else 0.1),
        ),
        (
            schedules.PolynomialDecay(0.1, 4, end_learning_rate=0.01, power=2.0),
            lambda s: (0.1 - 0.01) * (1 - min(s, 4) / 4) ** 2 + 0.01,
        ),
        (
            schedules.PolynomialDecay(0.1, 4, end_learning_rate=0.01, cycle=True),
            lambda s: (0.1 - 0.01) * (1 - s / (4 * max(1, math.ceil(s / 4)))) + 0.01,
        ),
        (
            schedules.CosineDecay(0.1, 4, alpha=0.1),
            lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 4) / 4)) + 0.1),
        ),
        (
            schedules.CosineDecay(0.0, 4, warmup_target=0.2, warmup_steps=2),
            lambda s: 0.2 * s / 2 if s < 2
            else 0.2 * 0.5 * (1 + math.cos(math.pi * min(s - 2, 4) / 4)),
        ),
    ],
)
def test_schedules_match_formula(schedule, formula):
    for step in range(12):
        value = schedule(step)
        assert value.dtype == np.float32  # Keras computes schedules in float32
        assert float(value) == pytest.approx(formula(step), rel=1e-6, abs=1e-8)


def test_schedule_with_numpy_float64_rate_computes_in_float64():
    value = schedules.ExponentialDecay(np.float64(0.1), 2, 0.5)(1)
    assert value.dtype == np.float64 and value == 0.1 * 0.5**0.5


def test_schedule_config_round_trip():
    opt = mo.Adam(schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3))
    clone = mo.Adam.from_config(opt.get_config())
    for step in range(15):
        assert clone._learning_rate(step) == opt._learning_rate(step)
    assert clone.get_config() == opt.get_config()


# --- state, dtype and in-place updates ---------------------------------------------------------
ALL_CONFIGS = [
    (mo.SGD, {}),
    (mo.SGD, {"momentum": 0.9}),
    (mo.SGD, {"momentum": 0.9, "nesterov": True}),
    (mo.RMSprop, {"momentum": 0.5, "centered": True}),
    (mo.Adagrad, {}),
    (mo.Adam, {"amsgrad": True}),
    (mo.AdamW, {}),
    (mo.Nadam, {}),
]


@pytest.mark.parametrize("cls, kwargs", ALL_CONFIGS)
def test_float32_updates_in_place_and_keep_dtype(cls, kwargs):
    w0, grads = make_problem("float32")
    variables = [w.copy() for w in w0]
    ids = [id(v) for v in variables]
    opt = cls(learning_rate=0.01, **kwargs)
    for gs in grads:
        opt.apply_gradients(zip(gs, variables, strict=True))
    assert [id(v) for v in variables] == ids
    assert all(v.dtype == np.float32 for v in variables)
    assert all(s.dtype == np.float32 for s in opt.variables if s is not opt.iterations)
    assert not np.array_equal(variables[0], w0[0])
    # The same run in float64 agrees to float32 precision.
    expected = run(cls(learning_rate=0.01, **kwargs), [w.astype("float64") for w in w0],
                   [[g.astype("float64") for g in gs] for gs in grads])
    for v, e in zip(variables, expected, strict=True):
        np.testing.assert_allclose(v, e, rtol=1e-5, atol=1e-6)


def test_slots_follow_the_array_not_the_position():
    # Passing the variables in another order must still find each one's momentum.
    a, b = np.zeros(2), np.zeros(3)
    opt = mo.SGD(0.1, momentum=0.5)
    opt.apply([np.ones(2), np.ones(3)], [a, b])
    opt.apply([np.ones(3), np.ones(2)], [b, a])
    np.testing.assert_allclose(a, [-0.25, -0.25])  # v: -0.1, then -0.15
    np.testing.assert_allclose(b, [-0.25] * 3)


def test_apply_without_variables_uses_the_built_list():
    w = np.zeros(2)
    opt = mo.SGD(0.5)
    opt.build([w])
    opt.apply([np.ones(2)])
    np.testing.assert_array_equal(w, [-0.5, -0.5])


def test_none_gradient_is_skipped_with_a_warning():
    a, b = np.zeros(2), np.zeros(2)
    opt = mo.SGD(0.5)
    with pytest.warns(UserWarning, match="positions \\[1\\]"):
        opt.apply_gradients([(np.ones(2), a), (None, b)])
    np.testing.assert_array_equal(a, [-0.5, -0.5])
    np.testing.assert_array_equal(b, [0.0, 0.0])
    assert opt.iterations == 1


def test_empty_gradient_list_is_a_no_op():
    opt = mo.SGD()
    opt.apply([])
    assert opt.iterations == 0 and not opt.built


def test_defaults_match_keras():
    assert mo.SGD().learning_rate == pytest.approx(0.01)
    for cls in (mo.Adam, mo.RMSprop, mo.Adagrad, mo.AdamW, mo.Nadam):
        assert cls().learning_rate == pytest.approx(0.001)
    adam = mo.Adam()
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    rms = mo.RMSprop()
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    assert (mo.Adagrad().initial_accumulator_value, mo.Adagrad().epsilon) == (0.1, 1e-7)
    assert mo.AdamW().weight_decay == 0.004
    assert mo.Nadam().epsilon == 1e-7
    assert (mo.SGD().momentum, mo.SGD().nesterov) == (0.0, False)


def test_default_names_match_keras(monkeypatch):
    # Keras 3.15.1 in a fresh session, [o().name for o in (SGD, SGD, RMSprop, AdamW, Adam,
    # Adagrad, Nadam, AdamW)], gives exactly this list (Keras' to_snake_case, then a counter).
    monkeypatch.setattr(naming, "_NAME_COUNTS", collections.defaultdict(int))
    classes = (mo.SGD, mo.SGD, mo.RMSprop, mo.AdamW, mo.Adam, mo.Adagrad, mo.Nadam, mo.AdamW)
    assert [cls().name for cls in classes] == [
        "sgd", "sgd_1", "rm_sprop", "adam_w", "adam", "adagrad", "nadam", "adam_w_1"]
    assert mo.SGD(name="mine").name == "mine" and mo.SGD().name == "sgd_2"


def test_get_config_round_trip():
    opt = mo.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, clipnorm=1.0, name="r")
    config_ = opt.get_config()
    assert config_["learning_rate"] == float(np.float32(0.01))  # as Keras reports it
    assert mo.RMSprop.from_config(config_).get_config() == config_


def test_get():
    assert type(mo.get("adam")) is mo.Adam
    assert type(mo.get("RMSprop")) is mo.RMSprop  # Keras lower-cases the name
    for name in ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"):
        assert type(mo.get(name)).__name__.lower() == name
    opt = mo.SGD()
    assert mo.get(opt) is opt
    assert mo.get(None) is None


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mo.SGD(1), "learning_rate"),
        (lambda: mo.SGD(np.float32(0.1)), "learning_rate"),
        (lambda: mo.SGD(momentum=0), "momentum"),
        (lambda: mo.SGD(momentum=1.5), "momentum"),
        (lambda: mo.AdamW(weight_decay=None), "weight_decay"),
        (lambda: mo.SGD(clipnorm=1.0, clipvalue=1.0), "only one"),
        (lambda: mo.SGD(clipnorm=0, global_clipnorm=1.0), "only one"),  # counted if not None
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: schedules.PolynomialDecay(0.1, -1), "decay_steps"),
        (lambda: schedules.CosineDecay(0.1, 0), "decay_steps"),
        (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0]), "one element fewer"),
        (lambda: mo.get("adan"), "Did you mean 'adam'"),
    ],
)
def test_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mo.SGD(clipnorm="1"), "clipnorm"),
        (lambda: mo.get(3), "optimizer"),
        (lambda: schedules.ExponentialDecay(0.1, "10", 0.5), "decay_steps"),
        (lambda: mo.SGD().apply([np.ones(2)], [[1.0, 2.0]]), "float NumPy array"),
        (lambda: mo.SGD().apply([np.ones(2)], [np.zeros(2, dtype=int)]), "float NumPy array"),
    ],
)
def test_type_errors(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_setting_a_number_on_a_schedule_raises():
    opt = mo.SGD(schedules.ExponentialDecay(0.1, 1, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.5
    with pytest.raises(TypeError, match="learning_rate"):
        mo.SGD().learning_rate = "fast"


def test_apply_errors():
    w = np.zeros(2)
    opt = mo.SGD()
    with pytest.raises(ValueError, match="not built"):
        opt.apply([np.ones(2)])
    with pytest.raises(ValueError, match="one gradient per variable"):
        opt.apply([np.ones(2), np.ones(2)], [w])
    with pytest.raises(ValueError, match="shape"):
        opt.apply([np.ones(3)], [w])
    with pytest.raises(ValueError, match="no gradients"):
        opt.apply([None], [w])
    opt.apply([np.ones(2)], [w])
    with pytest.raises(ValueError, match="never replaced"):  # a rebound array is a new array
        opt.apply([np.ones(2)], [w.copy()])
    with pytest.raises(ValueError, match="one gradient per variable"):
        opt.apply([np.ones(2), np.ones(2)])


def test_base_class_update_step_is_abstract():
    with pytest.raises(NotImplementedError):
        mo.Optimizer(0.1).apply([np.ones(1)], [np.zeros(1)])
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule().get_config()


# --- properties ----------------------------------------------------------------------------------
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(
    g=st.lists(finite, min_size=1, max_size=6),
    c=st.floats(0.01, 5),
)
def test_clipnorm_bounds_the_step(g, c):
    # SGD with lr 1 and clipnorm c moves the weights by at most c (plus rounding).
    w = np.zeros(len(g))
    mo.SGD(1.0, clipnorm=c).apply_gradients([(np.array(g), w)])
    assert np.linalg.norm(w) <= c * (1 + 1e-12)
    if np.linalg.norm(g) <= c:
        np.testing.assert_allclose(-w, g, rtol=1e-12, atol=1e-300)


@settings(max_examples=50, deadline=None)
@given(g=st.lists(st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3), min_size=1, max_size=6),
       lr=st.sampled_from([0.5, 0.1, 0.25]))
def test_first_adam_step_is_about_lr_times_sign(g, lr):
    # With m = (1-b1)g and v = (1-b2)g², step 1 is alpha·(1-b1)g / (sqrt(1-b2)|g| + eps)
    # ≈ lr·sign(g). Keras rounds the betas to float32 inside alpha's b^t (but not in 1-b).
    w = np.zeros(len(g))
    mo.Adam(lr, epsilon=1e-7).apply_gradients([(np.array(g), w)])
    g = np.array(g)
    b1, b2 = float(np.float32(0.9)), float(np.float32(0.999))
    alpha = float(np.float32(lr)) * math.sqrt(1 - b2) / (1 - b1)  # lr kept in floatx = float32
    expected = -alpha * (1 - 0.9) * g / (math.sqrt(1 - 0.999) * np.abs(g) + 1e-7)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    # The exact value is checked just above; this is the lesson's approximation. Its error is
    # eps / (sqrt(1-b2)·|g|) ≤ 1e-7 / (0.0316·1e-3) ≈ 3.2e-3 at the smallest |g| drawn.
    np.testing.assert_allclose(w, -lr * np.sign(g), rtol=5e-3)


# --- against Keras ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


KERAS_CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 1.0}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 1.0}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.01}),
    ("SGD", {"learning_rate": ("ExponentialDecay", (0.1, 2, 0.5))}),
    ("Adam", {"learning_rate": ("CosineDecay", (0.01, 4)), "weight_decay": 0.1}),
]


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", KERAS_CASES)
def test_matches_keras(keras, floatx, name, kwargs):
    def build(module, schedule_module):
        args = dict(kwargs)
        if isinstance(args["learning_rate"], tuple):
            schedule_name, schedule_args = args["learning_rate"]
            args["learning_rate"] = getattr(schedule_module, schedule_name)(*schedule_args)
        return getattr(module, name)(**args)

    previous_keras, previous_minired = keras.config.floatx(), config.floatx()
    keras.config.set_floatx(floatx)
    config.set_floatx(floatx)
    try:
        # Enough elements for float32 rounding differences to show up somewhere.
        w0, grads = make_problem(floatx, seed=1, shapes=[(20, 10), (10,)])
        keras_vars = [keras.Variable(w.copy()) for w in w0]
        keras_opt = build(keras.optimizers, keras.optimizers.schedules)
        for gs in grads:
            keras_opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs],
                                          keras_vars, strict=True))
        got = run(build(mo, schedules), w0, grads)
    finally:
        keras.config.set_floatx(previous_keras)
        config.set_floatx(previous_minired)
    for v, k in zip(got, keras_vars, strict=True):
        k = np.asarray(k.numpy())
        assert v.dtype == k.dtype
        if "clipnorm" in kwargs or "global_clipnorm" in kwargs:
            # ||g|| is a sum, and TensorFlow adds in another order than NumPy: the norm, and
            # so the clipped step, can differ in the last bit.
            ulp = np.finfo(floatx).eps * np.abs(k).max()
            np.testing.assert_allclose(v, k, rtol=0, atol=4 * ulp)
        else:
            np.testing.assert_array_equal(v, k)  # bit for bit


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
        ("InverseTimeDecay", (0.1, 3, 0.5), {}),
        ("PiecewiseConstantDecay", ([2, 5], [1.0, 0.5, 0.1]), {}),
        ("PolynomialDecay", (0.1, 4), {"power": 0.5, "cycle": True}),
        ("CosineDecay", (0.0, 4), {"alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 3}),
    ],
)
def test_schedules_match_keras(keras, name, args, kwargs):
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    for step in range(12):
        expected = np.asarray(theirs(step))
        # float32 cos in NumPy and TensorFlow may differ by an ulp.
        np.testing.assert_allclose(ours(step), expected, rtol=2e-7, atol=0)
        assert ours(step).dtype == expected.dtype


# --- constructor: the shared arguments pass through **kwargs ----------------------------------
ALL_CLASSES = (mo.SGD, mo.Adam, mo.RMSprop, mo.Adagrad, mo.AdamW, mo.Nadam)


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_shared_arguments_reach_the_base_class(cls):
    opt = cls(learning_rate=0.5, weight_decay=0.25, clipvalue=2.0, name="mine")
    assert (opt.weight_decay, opt.clipvalue, opt.name) == (0.25, 2.0, "mine")
    assert opt.get_config()["clipvalue"] == 2.0
    # One template documents them in every optimizer, filled in where the class says.
    assert "{{" not in cls.__doc__
    assert "global_clipnorm: clip all gradients together" in cls.__doc__


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_an_unknown_argument_is_a_value_error_naming_it_and_the_optimizer(cls):
    """Keras raises ValueError too ("Argument(s) not recognized")."""
    with pytest.raises(ValueError, match=rf"^{cls.__name__} got an unexpected keyword argument "
                                        r"`clip_norm`\. Did you mean `clipnorm`\?$"):
        cls(clip_norm=1.0)


def test_unknown_argument_messages():
    with pytest.raises(ValueError, match=r"^SGD got an unexpected keyword argument `momentun`\. "
                                        r"Did you mean `momentum`\?"):
        mo.SGD(momentun=0.9)
    with pytest.raises(ValueError, match=r"unexpected keyword argument `foo`\.$"):
        mo.Adam(foo=1)
    with pytest.raises(ValueError, match=r"^Adam: `ema_momentum` must be a number in \[0, 1\]"):
        mo.Adam(use_ema=True, ema_momentum=2.0)
    # Keras 3 warns that Keras 2's `decay` is ignored, and goes on.
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        opt = mo.SGD(decay=0.01, name="s")
    assert opt.get_config() == mo.SGD(name="s").get_config()


def test_get_config_keys_and_defaults_match_keras(keras):
    # The constructor refactoring must not change a single config entry; Keras is the judge.
    for cls in ALL_CLASSES:
        ours = cls(name="x").get_config()
        theirs = getattr(keras.optimizers, cls.__name__)(name="x").get_config()
        assert ours == {key: theirs[key] for key in ours}, cls.__name__


# --- copies: copy.deepcopy and pickle ----------------------------------------------------------
def fitted_model():
    """A small softmax model, compiled with Adam and fitted one epoch (4 steps)."""
    import minired as mr

    mr.utils.set_random_seed(0)
    model = mr.Sequential([mr.Input((4,)), mr.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=16)]
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    return model, x, y


@pytest.mark.parametrize(
    "copy_model",
    [copy.deepcopy, lambda model: pickle.loads(pickle.dumps(model))],
    ids=["deepcopy", "pickle"],
)
def test_a_copied_model_trains_on_as_the_original_would(copy_model):
    model, x, y = fitted_model()
    trained = [w.copy() for w in model.get_weights()]
    clone = copy_model(model)
    assert clone.optimizer is not model.optimizer and clone.optimizer.iterations == 4
    # The copy's optimizer holds the copy's own arrays (one copy of each array, shared).
    assert all(a is b for a, b in zip(clone.optimizer._trainable_variables,
                                      clone.trainable_weights, strict=True))
    clone.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert not np.array_equal(clone.get_weights()[0], trained[0])             # it trained
    for w, before in zip(model.get_weights(), trained, strict=True):
        np.testing.assert_array_equal(w, before)                              # original intact
    # The original, one more epoch: the same numbers as the copy (Adam's state was copied).
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert model.optimizer.iterations == clone.optimizer.iterations == 8


def test_a_copied_optimizer_alone_still_refuses_foreign_arrays():
    w = np.zeros(2)
    opt = mo.SGD(0.5, momentum=0.5)
    opt.apply([np.ones(2)], [w])
    clone = copy.deepcopy(opt)                      # copies its own w along
    with pytest.raises(ValueError, match="never replaced"):
        clone.apply([np.ones(2)], [w])              # the original's w is not the copy's
    clone.apply([np.ones(2)])                       # its own copy of w is
    np.testing.assert_array_equal(clone._trainable_variables[0], [-1.25, -1.25])
    np.testing.assert_array_equal(w, [-0.5, -0.5])


# --- all or nothing under Ctrl-C ---------------------------------------------------------------
class InterruptedSGD(mo.SGD):
    """SGD that receives a real SIGINT (Ctrl-C) right after writing its second variable."""

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if variable is self._trainable_variables[1]:
            signal.raise_signal(signal.SIGINT)


@pytest.fixture
def python_sigint_handler():
    """Python's default Ctrl-C handler (KeyboardInterrupt), whatever the test runner set."""
    assert threading.current_thread() is threading.main_thread(), (
        "signals reach the main thread only: this test would prove nothing elsewhere")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
def test_ctrl_c_during_an_update_lands_after_every_variable_is_written():
    variables = [np.zeros(2) for _ in range(4)]
    opt = InterruptedSGD(0.5)
    with pytest.raises(KeyboardInterrupt):
        opt.apply([np.ones(2)] * 4, variables)
    for v in variables:                             # all four written, not just two
        np.testing.assert_array_equal(v, [-0.5, -0.5])
    assert opt.iterations == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler restored


@pytest.mark.usefixtures("python_sigint_handler")
def test_without_the_deferral_ctrl_c_would_tear_the_update(monkeypatch):
    # The control: the same interrupt, with the protection switched off, stops mid-update.
    monkeypatch.setattr(interrupts, "defer_keyboard_interrupt", contextlib.nullcontext)
    variables = [np.zeros(2) for _ in range(4)]
    opt = InterruptedSGD(0.5)
    with pytest.raises(KeyboardInterrupt):
        opt.apply([np.ones(2)] * 4, variables)
    assert [float(v[0]) for v in variables] == [-0.5, -0.5, 0.0, 0.0]
    assert opt.iterations == 0


def test_updates_outside_the_main_thread_run_unprotected_but_run():
    w = np.zeros(2)
    errors = []

    def train():
        try:
            mo.SGD(0.5).apply([np.ones(2)], [w])
        except Exception as error:  # noqa: BLE001 - reported to the main thread below
            errors.append(error)

    handler = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=train)
    thread.start()
    thread.join()
    assert errors == []
    np.testing.assert_array_equal(w, [-0.5, -0.5])
    assert signal.getsignal(signal.SIGINT) is handler


@pytest.mark.usefixtures("python_sigint_handler")
def test_inside_one_installed_handler_updates_stay_whole_and_other_ctrl_c_acts_at_once():
    # fit installs the handler once (deferring_handler); each update only counts itself in.
    variables = [np.zeros(2) for _ in range(4)]
    opt = InterruptedSGD(0.5)
    with interrupts.deferring_handler() as handler:
        assert signal.getsignal(signal.SIGINT) is handler
        with pytest.raises(KeyboardInterrupt):
            opt.apply([np.ones(2)] * 4, variables)
        for v in variables:                         # all four written, not just two
            np.testing.assert_array_equal(v, [-0.5, -0.5])
        assert opt.iterations == 1 and handler.depth == 0
        with pytest.raises(KeyboardInterrupt):      # outside an update: at once
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is handler   # still installed for the next
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_installed_handler_hands_a_ctrl_c_to_an_ignoring_one():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        w = np.zeros(2)
        with interrupts.deferring_handler():
            with interrupts.defer_keyboard_interrupt():
                signal.raise_signal(signal.SIGINT)    # held, then ignored as before
                w += 1
            signal.raise_signal(signal.SIGINT)        # ignored at once
        np.testing.assert_array_equal(w, [1.0, 1.0])
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
def test_fit_interrupted_during_an_update_keeps_a_whole_step():
    class InterruptedAdam(mo.Adam):
        """Adam that gets a Ctrl-C after its second variable, at the third step."""

        def update_step(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, learning_rate)
            if self.iterations == 2 and variable is self._trainable_variables[1]:
                signal.raise_signal(signal.SIGINT)

    import minired as mr
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = x.sum(axis=1, keepdims=True)
    model = mr.Sequential([mr.Input((3,)), mr.layers.Dense(4), mr.layers.Dense(1)])
    model.compile(InterruptedAdam(0.1), "mse")
    reference = mr.models.clone_model(model)
    reference.set_weights(model.get_weights())
    reference.compile(mo.Adam(0.1), "mse")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert model.optimizer.iterations == 3          # the third update went through whole
    reference.fit(x[:12], y[:12], batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- which numbers each argument accepts: exactly Keras' choice ---------------------------------
KINDS = {
    "float": 0.5, "int": 1, "bool": True, "np.float32": np.float32(0.5),
    "np.float64": np.float64(0.5), "np.int64": np.int64(1),
}
EVERY_KIND = set(KINDS)
FLOATS = {"float", "np.float64"}  # Keras' isinstance(x, float): np.float64 subclasses float


def one_step(module, optimizer):
    """Apply one gradient with ``optimizer`` (a minired or a Keras one) to a fresh variable."""
    if module is mo:
        optimizer.apply_gradients([(np.ones(3, "float32"), np.ones(3, "float32"))])
    else:
        optimizer.apply_gradients([(np.ones(3, "float32"), module.Variable(np.ones(3, "float32")))])


def set_rate(optimizer, value):
    optimizer.learning_rate = value
    return optimizer


# (what, build(module, value), the kinds minired accepts, the kinds Keras 3.15.1 accepts).
# `module` is minired (`mo` for optimizers) or keras; build raises if the value is refused.
ACCEPTANCE = [
    ("SGD(learning_rate=v)", lambda m, v: one_step(m, opt(m).SGD(learning_rate=v)),
     FLOATS, FLOATS),
    ("Adam(learning_rate=v)", lambda m, v: one_step(m, opt(m).Adam(learning_rate=v)),
     FLOATS, FLOATS),
    ("optimizer.learning_rate = v", lambda m, v: one_step(m, set_rate(opt(m).SGD(0.1), v)),
     EVERY_KIND, EVERY_KIND),
    ("SGD(momentum=v)", lambda m, v: one_step(m, opt(m).SGD(momentum=v)), FLOATS, FLOATS),
    ("RMSprop(momentum=v, rho=v)",
     lambda m, v: one_step(m, opt(m).RMSprop(momentum=v, rho=v)), EVERY_KIND, EVERY_KIND),
    ("Adam(beta_1=v, beta_2=v, epsilon=v)",
     lambda m, v: one_step(m, opt(m).Adam(beta_1=v, beta_2=v, epsilon=v)),
     EVERY_KIND, EVERY_KIND),
    ("Adagrad(initial_accumulator_value=v)",
     lambda m, v: one_step(m, opt(m).Adagrad(initial_accumulator_value=v)),
     EVERY_KIND, EVERY_KIND),
    ("AdamW(weight_decay=v)", lambda m, v: one_step(m, opt(m).AdamW(weight_decay=v)),
     EVERY_KIND, EVERY_KIND),
    ("SGD(clipnorm=v)", lambda m, v: one_step(m, opt(m).SGD(clipnorm=v)),
     EVERY_KIND, EVERY_KIND),
    ("SGD(clipvalue=v)", lambda m, v: one_step(m, opt(m).SGD(clipvalue=v)),
     EVERY_KIND, EVERY_KIND),
    # Keras takes them, then fails at the first step in float32 ("cannot compute AddV2 as
    # input #1 was expected to be a double tensor"): minired computes.
    ("SGD(global_clipnorm=v)", lambda m, v: one_step(m, opt(m).SGD(global_clipnorm=v)),
     EVERY_KIND, EVERY_KIND - {"np.float64", "np.int64"}),
    ("Nadam(beta_1=v)", lambda m, v: one_step(m, opt(m).Nadam(beta_1=v)),
     EVERY_KIND, EVERY_KIND - {"np.float64"}),
    # Keras accepts an int rate and computes the schedule in ints (ExponentialDecay(1, 3, 0.5)
    # gives 1, 0, 0...): minired refuses it with a TypeError that says why.
    ("ExponentialDecay(initial_learning_rate=v)",
     lambda m, v: sched(m).ExponentialDecay(v, 3, 0.5)(2),
     FLOATS | {"np.float32"}, EVERY_KIND - {"bool"}),
    ("ExponentialDecay(decay_steps=v, decay_rate=v)",
     lambda m, v: sched(m).ExponentialDecay(0.1, v, v)(2), EVERY_KIND, EVERY_KIND),
    ("PolynomialDecay(end_learning_rate=v, power=v)",
     lambda m, v: sched(m).PolynomialDecay(0.1, 3, end_learning_rate=v, power=v)(2),
     EVERY_KIND, EVERY_KIND),
    ("CosineDecay(alpha=v)", lambda m, v: sched(m).CosineDecay(0.1, 3, alpha=v)(2),
     EVERY_KIND, EVERY_KIND),
]


def opt(module):
    return mo if module is mo else module.optimizers


def sched(module):
    return schedules if module is mo else module.optimizers.schedules


def accepted_kinds(module, build) -> set[str]:
    kinds = set()
    for kind, value in KINDS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                build(module, value)
        except (TypeError, ValueError) as error:
            assert module is not mo or "`" in str(error), error  # minired names the argument
            continue
        except Exception:  # noqa: BLE001 - Keras' late dtype errors count as refusals
            if module is mo:
                raise
            continue
        kinds.add(kind)
    return kinds


@pytest.mark.parametrize("what, build, ours, _", ACCEPTANCE, ids=[a[0] for a in ACCEPTANCE])
def test_accepted_numbers(what, build, ours, _):
    assert accepted_kinds(mo, build) == ours


@pytest.mark.parametrize("what, build, _, theirs", ACCEPTANCE, ids=[a[0] for a in ACCEPTANCE])
def test_accepted_numbers_are_what_keras_accepts(keras, what, build, _, theirs):
    assert accepted_kinds(keras, build) == theirs


@pytest.mark.parametrize("floatx", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("ExponentialDecay", (np.float64(0.1), 3, 0.9), {}),
        ("InverseTimeDecay", (np.float64(0.1), 3, 0.3), {}),
        ("PolynomialDecay", (np.float64(0.1), 3), {"end_learning_rate": 0.01, "power": 0.3}),
        ("PolynomialDecay", (np.float64(0.1), 3.3), {"end_learning_rate": 0.01, "cycle": True}),
        ("CosineDecay", (np.float64(0.1), 3), {"warmup_target": 0.3, "warmup_steps": 2}),
        ("ExponentialDecay", (np.float32(0.1), 3, np.float64(0.9)), {}),
    ],
)
def test_schedules_with_numpy_rates_match_keras(keras, floatx, name, args, kwargs):
    # A NumPy float64 rate makes Keras compute in float64, with its Python-float constants
    # (0.9, 0.01, 0.3...) rounded through float32 on the way: bit for bit the same here.
    previous = keras.config.floatx()
    keras.config.set_floatx(floatx)
    config.set_floatx(floatx)
    try:
        ours = getattr(schedules, name)(*args, **kwargs)
        theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
        for step in range(8):
            expected = np.asarray(theirs(step))
            assert ours(step).dtype == expected.dtype
            np.testing.assert_array_equal(ours(step), expected)
    finally:
        keras.config.set_floatx(previous)


# --- the per-step fast path: checks once, scalars once, no new arrays ------------------------
@pytest.mark.parametrize(
    "cls, kwargs",
    [*ALL_CONFIGS, (mo.RMSprop, {}), (mo.SGD, {"momentum": 0.5, "weight_decay": 0.1})],
)
def test_a_step_allocates_no_array_the_size_of_a_variable(cls, kwargs):
    # The updates write into scratch arrays made at build, so after the first step a step
    # allocates nothing near the size of a variable (one temporary would be 800 kB here).
    w = np.zeros(100_000)
    g = np.full(100_000, 0.5)
    opt = cls(learning_rate=0.01, **kwargs)
    opt.apply([g], [w])
    tracemalloc.start()
    try:
        opt.apply([g], [w])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w.nbytes / 10
    assert opt.iterations == 2


def test_step_scalars_are_computed_once_per_step_and_dtype(monkeypatch):
    opt = mo.Adam(0.01)
    computed = []
    compute = opt._compute_scalars
    monkeypatch.setattr(opt, "_compute_scalars",
                        lambda dt, lr: computed.append(dt) or compute(dt, lr))
    variables = [np.zeros(2), np.zeros(3), np.zeros(2, dtype="float32")]
    for _ in range(3):
        opt.apply([np.ones(2), np.ones(3), np.ones(2, dtype="float32")], variables)
    # each step: once per dtype (from the second step the float64 pair goes as one group)
    steps = [computed[i:i + 2] for i in range(0, len(computed), 2)]
    assert [sorted(step, key=str) for step in steps] == [[np.float32, np.float64]] * 3


def test_after_the_first_step_the_arguments_are_still_checked():
    w = np.zeros(2)
    opt = mo.Adam(0.1)
    opt.apply([np.ones(2)], [w])
    with pytest.raises(ValueError, match="shape"):
        opt.apply([np.ones(1)], [w])             # would broadcast silently into w's shape
    with pytest.raises(ValueError, match="never replaced"):
        opt.apply([np.ones(2)], [w.copy()])
    with pytest.raises(ValueError, match="one gradient per variable"):
        opt.apply([np.ones(2), np.ones(2)], [w])
    assert opt.iterations == 1
    opt.apply([[1.0, 1.0]], (w,))                # a list as gradient, a tuple of variables
    opt.apply(iter([np.ones(2)]), iter([w]))     # any iterables
    assert opt.iterations == 3


@pytest.mark.parametrize("cls, kwargs", ALL_CONFIGS)
def test_scratch_arrays_are_neither_state_nor_saved_nor_copied(cls, kwargs):
    variables = [np.zeros((3, 2)), np.zeros(2), np.zeros((), dtype="float32")]
    grads = [np.ones((3, 2)), np.ones(2), np.ones((), dtype="float32")]
    opt = cls(learning_rate=0.1, **kwargs)
    opt.apply(grads, variables)
    scratch = [array for arrays in opt._scratch for array in arrays]
    # one tuple per variable, then one per group of small variables updated together
    updated = [*variables, *(group.weights for group in opt._groups)]
    assert scratch and all(a.shape == v.shape and a.dtype == v.dtype
                           for arrays, v in zip(opt._scratch, updated, strict=True)
                           for a in arrays)
    assert not any(np.shares_memory(a, b) for a in scratch for b in [*opt.variables, *variables])
    store = {}
    opt.save_own_variables(store)
    # iterations, learning rate, the slots (and Nadam's running product): nothing else
    slots = [a for group in opt._keras_slot_order for name in group
             for a in getattr(opt, name)[:len(variables)]]
    assert len(store) == 2 + len(slots) + len(opt._keras_scalar_state)
    assert opt.__getstate__()["_scratch"] == []
    clone = pickle.loads(pickle.dumps(opt))
    clone_variables = clone._trainable_variables
    clone.apply(grads)
    opt.apply(grads, variables)
    for ours, theirs in zip(variables, clone_variables, strict=True):
        np.testing.assert_array_equal(ours, theirs)

