"""Initializers: shapes, dtypes, distributions, seeding, and names (NumPy cannot reproduce
TensorFlow's random numbers, so the comparisons are statistical)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minired import config
from minired import initializers as mi
from minired.utils import set_random_seed

SHAPE = (300, 400)  # 120,000 draws: the sample std is within ~0.3% of the true one
FAN_IN, FAN_OUT = SHAPE
TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]

# name -> (kind, the standard deviation of the samples, the bound on |w| or None)
EXPECTED = {
    "glorot_uniform": (
        "uniform", math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))
    ),
    "he_uniform": ("uniform", math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "lecun_uniform": ("uniform", math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
    "glorot_normal": ("truncated", math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    "he_normal": ("truncated", math.sqrt(2 / FAN_IN), None),
    "lecun_normal": ("truncated", math.sqrt(1 / FAN_IN), None),
    "random_uniform": ("uniform", 0.05 / math.sqrt(3), 0.05),
    "random_normal": ("normal", 0.05, None),
    "truncated_normal": ("truncated", 0.05 * TRUNC, None),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_distribution_statistics(name):
    kind, std, bound = EXPECTED[name]
    w = type(mi.get(name))(seed=123)(SHAPE)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)  # 5 standard errors
    assert w.std() == pytest.approx(std, rel=0.02)
    if kind == "uniform":
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.99 * bound  # and the bound is reached: the range is right
    elif kind == "truncated":
        cut = 2 * std / TRUNC  # ±2σ of the normal before truncation
        assert np.abs(w).max() <= cut * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * cut
    else:
        assert np.abs(w).max() > 4 * std  # an untruncated normal has tails beyond 2σ


@pytest.mark.parametrize(
    "distribution", ["truncated_normal", "normal", "untruncated_normal", "uniform"]
)
@pytest.mark.parametrize(
    "mode, shape",  # each shape gives the mode's fan = 200
    [("fan_in", (200, 600)), ("fan_out", (600, 200)), ("fan_avg", (100, 300))],
)
def test_variance_scaling_modes(distribution, mode, shape):
    w = mi.VarianceScaling(0.5, mode, distribution, seed=1)(shape)
    std = math.sqrt(0.5 / 200)  # every distribution has variance scale / fan
    assert w.std() == pytest.approx(std, rel=0.03)
    if distribution in ("normal", "truncated_normal"):  # "normal" is read as truncated
        assert np.abs(w).max() <= 2 * std / TRUNC * (1 + 1e-6)
    assert mi.VarianceScaling(distribution="Normal").distribution == "truncated_normal"


@pytest.mark.parametrize(
    "shape, fans",
    [((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)), ((3, 3, 16, 32), (144, 288)),
     ((2, 4, 6), (8, 12))],
)
def test_compute_fans(shape, fans):
    assert mi.compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert mi.compute_fans((2, 3, 4), input_axes=(0, 1), output_axes=(2,)) == (6, 4)
    w = mi.VarianceScaling(1.0, "fan_in", "uniform", seed=0, input_axes=(0, 1),
                           output_axes=(2,))((10, 10, 5))
    assert np.abs(w).max() <= math.sqrt(3 / 100)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dtypes(name):
    init = mi.get(name)
    assert init((2, 3)).dtype == np.float32  # floatx by default
    assert init((2, 3), dtype="float64").dtype == np.float64
    previous = config.floatx()
    config.set_floatx("float64")
    try:
        assert init((2, 3)).dtype == np.float64
    finally:
        config.set_floatx(previous)


def test_same_instance_twice_gives_identical_arrays():
    for name in EXPECTED:
        init = mi.get(name)  # unseeded: the seed is drawn once, at creation
        np.testing.assert_array_equal(init((4, 5)), init((4, 5)))
    assert not np.array_equal(mi.GlorotUniform()((4, 5)), mi.GlorotUniform()((4, 5)))


def test_seeds_are_reproducible():
    np.testing.assert_array_equal(mi.HeNormal(seed=7)((4, 5)), mi.HeNormal(seed=7)((4, 5)))
    assert not np.array_equal(mi.HeNormal(seed=7)((4, 5)), mi.HeNormal(seed=8)((4, 5)))
    set_random_seed(42)
    first = [mi.GlorotUniform()((3, 3)), mi.RandomNormal()((3,))]
    set_random_seed(42)
    second = [mi.GlorotUniform()((3, 3)), mi.RandomNormal()((3,))]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_config_and_clone():
    seeded = mi.RandomUniform(-1.0, 2.0, seed=5)
    assert seeded.get_config() == {"seed": 5, "minval": -1.0, "maxval": 2.0}
    np.testing.assert_array_equal(seeded.clone()((3,)), seeded((3,)))
    unseeded = mi.GlorotNormal()
    assert unseeded.get_config() == {"seed": None, "input_axes": None, "output_axes": None}
    assert not np.array_equal(unseeded.clone()((3, 3)), unseeded((3, 3)))  # a new seed
    vs = mi.VarianceScaling(2.0, "fan_avg", "uniform", seed=3)
    assert mi.VarianceScaling.from_config(vs.get_config()).get_config() == vs.get_config()
    assert mi.Constant(2.5).get_config() == {"value": 2.5}
    assert mi.Zeros().get_config() == {}


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 5), max_size=3).map(tuple),
       dtype=st.sampled_from(["float32", "float64"]))
def test_constants(shape, dtype):
    np.testing.assert_array_equal(mi.Zeros()(shape, dtype), np.zeros(shape, dtype))
    np.testing.assert_array_equal(mi.Ones()(shape, dtype), np.ones(shape, dtype))
    out = mi.Constant(-1.5)(shape, dtype)
    assert out.shape == shape and out.dtype == dtype
    np.testing.assert_array_equal(out, np.full(shape, -1.5, dtype))


def test_constant_goes_through_float32_like_keras():
    assert mi.Constant(0.1)((1,), "float64")[0] == float(np.float32(0.1))
    assert mi.Constant(np.float64(0.1))((1,), "float64")[0] == 0.1  # NumPy values are kept
    np.testing.assert_array_equal(mi.Constant(np.array([1.0, 2.0]))((3, 2), "float64"),
                                  [[1.0, 2.0]] * 3)
    assert mi.Zeros()((2,), "int32").dtype == np.int32  # constants allow any dtype


def test_get():
    assert type(mi.get("glorot_uniform")) is mi.GlorotUniform
    assert type(mi.get("GlorotUniform")) is mi.GlorotUniform
    assert type(mi.get("zero")) is mi.Zeros and type(mi.get("one")) is mi.Ones
    assert type(mi.get("normal")) is mi.RandomNormal
    assert type(mi.get("uniform")) is mi.RandomUniform
    assert type(mi.get("variance_scaling")) is mi.VarianceScaling
    init = mi.HeNormal()
    assert mi.get(init) is init
    assert mi.get(None) is None
    assert type(mi.get(mi.Ones)) is mi.Ones

    def fill(shape, dtype=None):
        return np.full(shape, 7.0, dtype=dtype)

    assert mi.get(fill) is fill


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mi.get("constant"), "Unknown initializer 'constant'"),  # as Keras (KeyError there)
        (lambda: mi.get("glorot"), "Unknown initializer"),
        (lambda: mi.VarianceScaling(scale=0), "scale"),
        (lambda: mi.VarianceScaling(scale=-1.0), "scale"),
        (lambda: mi.VarianceScaling(mode="fan_max"), "mode"),
        (lambda: mi.VarianceScaling(distribution="cauchy"), "distribution"),
        (lambda: mi.RandomNormal(seed=1.5), "seed"),
        (lambda: mi.GlorotUniform(seed="1"), "seed"),
        (lambda: mi.GlorotUniform()((2, 2), dtype="int32"), "float dtype"),
        (lambda: mi.Zeros()((2, -1)), "shape"),
    ],
)
def test_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: mi.get(3), "initializer"),
        (lambda: mi.get(int), "initializer"),
        (lambda: mi.Ones()(3), "shape"),
        (lambda: mi.Ones()((2.5, 1)), "shape"),
        (lambda: mi.HeNormal()("ab"), "shape"),
    ],
)
def test_type_errors(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_base_class_call_is_abstract():
    with pytest.raises(NotImplementedError):
        mi.Initializer()((2,))


# --- against Keras ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_distribution_as_keras(name):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras")
    theirs = np.asarray(keras.initializers.get(name).__class__(seed=1)(SHAPE))
    ours = type(mi.get(name))(seed=1)(SHAPE)
    assert type(mi.get(name)).__name__ == type(keras.initializers.get(name)).__name__
    assert ours.dtype == theirs.dtype
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.2)
