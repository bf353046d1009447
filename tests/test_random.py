"""mr.random: distributions, seeding and dropout.

minired cannot reproduce TensorFlow's random numbers (different generators), so the tests
check what Keras promises: shapes, dtypes, the distributions' statistics (within five
standard errors of the sample, so a correct sampler fails about once in 1.7 million runs),
how seeds behave, and dropout's keep fraction, scaling and gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired import ops
from minired.autodiff import GradientTape
from minired.random import (
    SeedGenerator,
    dropout,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from minired.utils import rng_utils

N = 200_000          # samples per statistics check
Z = 5.0              # standard errors allowed


def assert_mean_and_std(samples, mean: float, std: float) -> None:
    """Sample mean within Z·σ/√n, sample std within Z·σ/√(2n) (normal-theory errors; the
    uniform's std error is smaller, so the bound is conservative there)."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    n = samples.size
    assert abs(samples.mean() - mean) < Z * std / np.sqrt(n)
    assert abs(samples.std() - std) < Z * std / np.sqrt(2 * n)


@pytest.mark.parametrize("function", [normal, uniform, truncated_normal])
def test_shapes_and_dtypes(function):
    assert function((2, 3), seed=1).shape == (2, 3)
    assert function((2, 3), seed=1).dtype == np.float32          # floatx
    assert function((4,), dtype="float64", seed=1).dtype == np.float64
    mr.config.set_floatx("float64")
    assert function((4,), seed=1).dtype == np.float64
    assert type(function((4,), seed=1)) is np.ndarray


def test_randint_shape_dtype_and_range():
    values = randint((N,), 2, 7, seed=3)
    assert values.dtype == np.int32 and values.shape == (N,)
    assert values.min() == 2 and values.max() == 6                # maxval excluded
    counts = np.bincount(values - 2, minlength=5)
    p = 1 / 5                                                     # each count is binomial
    assert np.all(np.abs(counts - N * p) < Z * np.sqrt(N * p * (1 - p)))


def test_normal_statistics():
    assert_mean_and_std(normal((N,), mean=1.5, stddev=0.5, dtype="float64", seed=0), 1.5, 0.5)


def test_uniform_statistics_and_range():
    values = uniform((N,), minval=-2.0, maxval=4.0, dtype="float64", seed=0)
    assert values.min() >= -2.0 and values.max() < 4.0
    assert_mean_and_std(values, 1.0, 6 / np.sqrt(12))


def test_truncated_normal_statistics_and_range():
    """Within two standard deviations; the std of N(0, 1) cut at ±2 is 0.87962."""
    values = truncated_normal((N,), mean=1.0, stddev=2.0, dtype="float64", seed=0)
    assert np.all(np.abs(values - 1.0) <= 4.0)
    assert_mean_and_std(values, 1.0, 2.0 * 0.8796256610)


def test_an_int_seed_gives_the_same_numbers_at_every_call():
    np.testing.assert_array_equal(normal((5,), seed=7), normal((5,), seed=7))
    assert not np.array_equal(normal((5,), seed=7), normal((5,), seed=8))


def test_a_seed_generator_gives_new_numbers_at_every_call_reproducibly():
    gen, twin = SeedGenerator(42), SeedGenerator(42)
    first, second = uniform((5,), seed=gen), uniform((5,), seed=gen)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, uniform((5,), seed=twin))
    np.testing.assert_array_equal(second, uniform((5,), seed=twin))
    np.testing.assert_array_equal(gen.state, [42, 2])          # Keras' [seed, counter]


def test_unseeded_calls_differ_but_replay_after_set_random_seed():
    rng_utils.set_random_seed(11)
    first = [normal((3,)), uniform((3,)), dropout(np.ones(8), 0.5), SeedGenerator().state]
    assert not np.array_equal(first[0], normal((3,)))
    rng_utils.set_random_seed(11)
    again = [normal((3,)), uniform((3,)), dropout(np.ones(8), 0.5), SeedGenerator().state]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", [1.5, "7", True])
def test_a_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed"):
        normal((2,), seed=seed)
    with pytest.raises(ValueError, match="seed"):
        SeedGenerator(seed)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_keeps_one_minus_rate_and_scales_the_kept_values(rate):
    x = np.full((N,), 2.0, dtype="float32")
    out = dropout(x, rate, seed=5)
    assert out.dtype == np.float32 and type(out) is np.ndarray
    kept = out != 0
    np.testing.assert_allclose(out[kept], np.float32(2.0) * np.float32(1 / (1 - rate)))
    p = 1 - rate                                          # the kept count is binomial
    assert abs(kept.sum() - N * p) < Z * np.sqrt(N * p * (1 - p))
    assert abs(out.mean() - 2.0) < Z * 2.0 * np.sqrt(rate / (1 - rate) / N)   # unbiased


def test_dropout_rate_zero_and_one():
    x = np.arange(4.0)
    np.testing.assert_array_equal(dropout(x, 0.0, seed=1), x)
    np.testing.assert_array_equal(dropout(x, 1.0, seed=1), np.zeros(4))
    with pytest.raises(ValueError, match="rate"):
        dropout(x, 1.5)


def test_dropout_noise_shape_drops_whole_slices():
    x = np.ones((50, 3, 8))
    out = dropout(x, 0.5, noise_shape=(None, 1, 8), seed=2)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :], x.shape))
    assert 0 < np.mean(out == 0) < 1


def test_dropout_gradient_is_the_same_mask():
    """δx = δa ⊙ m: the tape records dropout as a product with a constant mask."""
    x = np.random.default_rng(0).normal(size=(4, 6))
    upstream = np.random.default_rng(1).normal(size=(4, 6))
    with GradientTape() as tape:
        v = tape.watch(x)
        out = dropout(v, 0.4, seed=SeedGenerator(3))
    grad = tape.gradient(out, v, output_gradient=upstream)
    mask = dropout(np.ones_like(x), 0.4, seed=SeedGenerator(3))
    np.testing.assert_allclose(np.asarray(out), x * mask)
    np.testing.assert_allclose(grad, upstream * mask)


def test_shuffle_permutes_along_an_axis_and_records():
    x = np.arange(12.0).reshape(4, 3)
    rows = shuffle(x, seed=4)
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, x.tolist()))
    columns = shuffle(x, axis=1, seed=4)
    np.testing.assert_array_equal(np.sort(columns, axis=1), x)
    with GradientTape() as tape:
        v = tape.watch(x)
        loss = ops.sum(ops.multiply(shuffle(v, seed=4), np.arange(4.0)[:, None]))
    grad = tape.gradient(loss, v)
    np.testing.assert_array_equal(np.sort(grad[:, 0]), np.arange(4.0))
