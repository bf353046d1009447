"""Orthogonal and Identity, VarianceScaling on N-D kernels, compute_fans and get_config,
against Keras.

Random values come from NumPy, not TensorFlow, so random initializers are compared by
their distributions (z-scores, as ``tests/test_initializer_statistics.py`` explains) and by
the exact properties that hold for every draw (``WᵀW = gain²·I``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparisons.sampling import mean_z, truncated_normal, uniform, variance_z
from minired import initializers as mi

# -- Orthogonal: exact properties --------------------------------------------------------------

@pytest.mark.parametrize(("shape", "rows"), [((6, 4), 6), ((4, 6), 4), ((5, 5), 5),
                                             ((3, 3, 2, 8), 18), ((2, 2, 2, 16), 8)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_is_orthogonal_times_gain(shape, rows, gain):
    w = mi.Orthogonal(gain=gain, seed=3)(shape, dtype="float64")
    assert w.shape == shape and w.dtype == np.float64
    flat = w.reshape(rows, shape[-1])
    gram = flat.T @ flat if rows >= shape[-1] else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, shape[-1])), atol=1e-12)


def test_orthogonal_seeds_dtype_and_errors():
    init = mi.Orthogonal()
    np.testing.assert_array_equal(init((4, 3)), init((4, 3)))       # seed fixed at creation
    assert init((4, 3)).dtype == np.float32
    assert not np.array_equal(mi.Orthogonal(seed=1)((4, 3)), mi.Orthogonal(seed=2)((4, 3)))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        mi.Orthogonal()((3,))
    assert type(mi.get("orthogonal")) is mi.Orthogonal
    assert type(mi.get("OrthogonalInitializer")) is mi.Orthogonal


def test_orthogonal_is_haar_distributed():
    """Without the ``sign(diag(R))`` correction, ``Q[0, 0]`` would always have one sign
    (LAPACK's Householder QR makes it negative): its mean over seeds must be 0 within 5
    standard errors, and each entry of a (64, 32) draw has variance 1/64."""
    first = np.array([mi.Orthogonal(seed=s)((64, 32), dtype="float64")[0, 0]
                      for s in range(1, 513)])
    assert abs(mean_z(first, 0.0, 1 / 64)) < 5
    n = 64     # the coordinates of a uniform unit vector in R^n: E[w⁴] = 3 / (n (n + 2))
    columns = np.concatenate([mi.Orthogonal(seed=s)((64, 1), dtype="float64").ravel()
                              for s in range(1, 513)])
    assert abs(variance_z(columns, 1 / n, 3 / (n * (n + 2)))) < 5


# -- Identity ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_identity(shape):
    np.testing.assert_array_equal(mi.Identity()(shape, dtype="float64"), np.eye(*shape))
    w = mi.Identity(gain=0.5)(shape)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, 0.5 * np.eye(*shape, dtype="float32"))
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        mi.Identity()((2, 2, 2))
    assert type(mi.get("identity")) is mi.Identity
    assert mi.Identity(gain=2.0).get_config() == {"gain": 2.0}


# -- VarianceScaling on N-D kernels --------------------------------------------------------------

@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_uses_the_receptive_field(mode, distribution):
    shape = (3, 5, 8, 16)             # fan_in = 3·5·8 = 120, fan_out = 3·5·16 = 240
    fan = {"fan_in": 120, "fan_out": 240, "fan_avg": 180}[mode]
    w = mi.VarianceScaling(2.0, mode, distribution, seed=7)(shape, dtype="float64").ravel()
    s = 2.0 / fan
    if distribution == "truncated_normal":
        theory = truncated_normal(0.0, math.sqrt(s) / 0.87962566103423978)
    elif distribution == "uniform":
        theory = uniform(-math.sqrt(3 * s), math.sqrt(3 * s))
    else:
        theory = None
    fourth = theory.fourth_moment if theory else 3 * s**2
    assert abs(mean_z(w, 0.0, s)) < 5
    assert abs(variance_z(w, s, fourth)) < 5
    if theory is not None:
        assert theory.low <= w.min() and w.max() <= theory.high


# -- against Keras ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras
    return keras


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 6), max_size=5).map(tuple))
def test_compute_fans_matches_keras(shape):
    pytest.importorskip("keras")
    from keras.src.initializers.random_initializers import compute_fans
    assert mi.compute_fans(shape) == compute_fans(shape)


CONFIGURED = [
    lambda m: m.RandomNormal(mean=0.1, stddev=0.2, seed=3),
    lambda m: m.RandomUniform(minval=-0.3, maxval=0.1),
    lambda m: m.TruncatedNormal(stddev=0.3, seed=1),
    lambda m: m.VarianceScaling(scale=2.0, mode="fan_avg", distribution="uniform", seed=4),
    lambda m: m.GlorotUniform(seed=5),
    lambda m: m.HeNormal(),
    lambda m: m.Orthogonal(gain=2.0, seed=6),
    lambda m: m.Orthogonal(),
    lambda m: m.Constant(0.5),
    lambda m: m.Zeros(),
]


@pytest.mark.parametrize("make", CONFIGURED)
def test_get_config_has_keras_keys_and_values(keras, make):
    assert make(mi).get_config() == make(keras.initializers).get_config()


def test_identity_config_keeps_the_gain_keras_loses(keras):
    assert keras.initializers.Identity(gain=2.0).get_config() == {}   # Keras 3.15
    assert mi.Identity(gain=2.0).get_config() == {"gain": 2.0}


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identity_equals_keras(keras, shape, dtype):
    theirs = np.asarray(keras.initializers.Identity(gain=1.5)(shape, dtype=dtype))
    ours = mi.Identity(gain=1.5)(shape, dtype=dtype)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal_has_keras_properties(keras, shape, dtype):
    """The same Gram matrix (gain² on the diagonal, 0 off it) and shape as Keras' draw."""
    rows = math.prod(shape[:-1])

    def gram(w):
        flat = np.asarray(w, dtype=np.float64).reshape(rows, shape[-1])
        return flat.T @ flat if rows >= shape[-1] else flat @ flat.T

    theirs = np.asarray(keras.initializers.Orthogonal(gain=1.5, seed=2)(shape, dtype=dtype))
    ours = mi.Orthogonal(gain=1.5, seed=2)(shape, dtype=dtype)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(gram(ours), gram(theirs), atol=tolerance)
