"""The z-scores behind the statistical comparisons (``comparisons/sampling.py``) are right.

The ``initializers`` area judges minired's and Keras' draws in standard errors; a wrong
standard error would make it either blind or flaky. These tests check the theory against
numbers computed another way (numerical integration, repeated sampling), so they need
NumPy only, not Keras.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from comparisons import sampling
from comparisons.sampling import gap_z, mean_z, outside_z, sample_zs, variance_z

KERAS_TRUNCATION = 0.87962566103423978   # Keras' constant in VarianceScaling.__call__


def truncated(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` draws of N(0, 1) cut at ±2, by rejection."""
    z = rng.normal(0, 1, 3 * size)
    return z[np.abs(z) <= 2][:size]


def moments_by_integration(density, low: float, high: float) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment of ``density`` on [low, high], by the
    trapezoidal rule on a million points (the density need not be normalised)."""
    w = np.linspace(low, high, 1_000_001)
    f = density(w)
    total = np.trapezoid(f, w)
    mean = np.trapezoid(w * f, w) / total
    return (mean, np.trapezoid((w - mean) ** 2 * f, w) / total,
            np.trapezoid((w - mean) ** 4 * f, w) / total)


def test_the_truncated_normal_standard_deviation_is_keras_constant():
    assert math.sqrt(sampling.truncated_normal(0.0, 1.0).variance) == pytest.approx(
        KERAS_TRUNCATION, rel=1e-15)


@pytest.mark.parametrize(("theory", "density", "low", "high"), [
    (sampling.truncated_normal(0.3, 0.5), lambda w: np.exp(-((w - 0.3) / 0.5) ** 2 / 2),
     -0.7, 1.3),
    (sampling.uniform(-0.3, 0.1), np.ones_like, -0.3, 0.1),
])
def test_moments_agree_with_numerical_integration(theory, density, low, high):
    mean, variance, fourth = moments_by_integration(density, low, high)
    assert theory.mean == pytest.approx(mean, abs=1e-12)
    assert theory.variance == pytest.approx(variance, rel=1e-9)
    assert theory.fourth_moment == pytest.approx(fourth, rel=1e-9)
    assert (theory.low, theory.high) == pytest.approx((low, high))


@pytest.mark.parametrize(("theory", "draw"), [
    (sampling.uniform(-1.0, 1.0), lambda rng, size: rng.uniform(-1, 1, size)),
    (sampling.normal(0.0, 2.0), lambda rng, size: rng.normal(0, 2, size)),
    (sampling.truncated_normal(0.0, 1.0), lambda rng, size: truncated(rng, size)),
])
def test_z_scores_of_correct_samples_are_standard_normal(theory, draw):
    """Over 4,000 samples of 50 values, the mean and variance z-scores have standard
    deviation 1 (±5%): the standard errors fit the distribution's shape. With the normal's
    ``2σ⁴/(n-1)`` for every shape, the uniform's variance z would have std 0.63."""
    rng = np.random.default_rng(0)
    samples = [draw(rng, 50) for _ in range(4000)]
    mean_zs = [mean_z(s, theory.mean, theory.variance) for s in samples]
    variance_zs = [variance_z(s, theory.variance, theory.fourth_moment) for s in samples]
    assert np.std(mean_zs) == pytest.approx(1, abs=0.05)
    assert np.std(variance_zs) == pytest.approx(1, abs=0.05)
    assert abs(np.mean(variance_zs)) < 0.05        # s² (ddof=1) is unbiased


def test_gap_z_is_a_one_sided_tail_probability():
    n, density = 1000, 0.5
    assert gap_z(0.0, n, density) == 0.0                       # touching the bound
    assert gap_z(-1e-9, n, density) == 0.0                     # past it: outside_z's job
    assert 0 < gap_z(1 / (n * density), n, density) < 0.5      # the typical gap, 1/(n·f)
    # exp(-n·f·gap) = 2.87e-7, the one-sided tail of 5 standard errors.
    assert gap_z(-math.log(2.866515718791939e-7) / (n * density), n, density) == (
        pytest.approx(5.0, abs=1e-6))
    assert gap_z(0.1, n, density) > 5                          # bounds 10% too narrow
    assert gap_z(10.0, n, density) > 50                        # exp(-5000) underflows


def test_outside_z_allows_one_rounding_step_and_nothing_more():
    limit = np.float32(0.25)
    assert outside_z(np.array([-limit, limit]), -0.25, 0.25) == 0.0
    assert outside_z(np.array([np.nextafter(limit, np.float32(1))]), -0.25, 0.25) == 0.0
    beyond = np.nextafter(np.nextafter(limit, np.float32(1)), np.float32(1))
    assert outside_z(np.array([beyond]), -0.25, 0.25) == math.inf


def test_sample_zs_flag_a_sampler_with_the_wrong_width_or_no_truncation():
    rng = np.random.default_rng(1)
    n = 200_000
    uniform = sampling.uniform(-1.0, 1.0)
    assert max(abs(z) for _, z in sample_zs(rng.uniform(-1, 1, n), uniform)) < 5
    assert max(abs(z) for _, z in sample_zs(rng.uniform(-0.9, 0.9, n), uniform)) > 5
    cut = sampling.truncated_normal(0.0, 1.0)
    assert max(abs(z) for _, z in sample_zs(truncated(rng, n), cut)) < 5
    assert dict(sample_zs(rng.normal(0, 1, n), cut))["values off the support"] > 5
    normal = sampling.normal(0.0, 1.0)
    assert max(abs(z) for _, z in sample_zs(rng.normal(0, 1, n), normal)) < 5
    rescaled = truncated(rng, n) / math.sqrt(cut.variance)   # variance 1, but no tails
    assert dict(sample_zs(rescaled, normal))["fraction in the tails"] < -5
