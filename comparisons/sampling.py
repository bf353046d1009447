"""Random draws judged in standard errors: every z-score the ``"statistical"`` cases report.

A statistical case cannot ask minired and Keras for the same numbers (NumPy cannot
reproduce TensorFlow's Philox streams). It asks each library for a large sample and
measures how far a statistic of the sample lies from its theoretical value, in standard
errors derived from the sample size ``n``:

=====================  =========================================  ==========================
statistic              standard error                             function
=====================  =========================================  ==========================
fraction p̂ of hits     ``sqrt(p(1-p)/n)`` (binomial)              :func:`binomial_z`
mean x̄                 ``σ/√n``                                    :func:`mean_z`
sample variance s²     ``sqrt((μ₄ - σ⁴(n-3)/(n-1))/n)`` (exact)    :func:`variance_z`
gap to a bound         ``n·f·gap ~ Exp(1)``, one-sided             :func:`gap_z`
value off the support  probability 0: ``z = ∞``                    :func:`outside_z`
=====================  =========================================  ==========================

``μ₄`` is the fourth central moment: ``3σ⁴`` for a normal, ``a⁴/5`` for a uniform on
``[-a, a]`` and the exact value for a truncated normal (:func:`truncated_normal`), so the
standard error of ``s²`` is right for each shape, not only for the normal.

The registry judges ``|z| < 5``: a correct sampler exceeds it with probability about 6e-7
per statistic. Each case reports minired against theory and Keras against theory (if Keras
fails, the theory written here is wrong, not minired), and, where both are two-sided
estimates of the same quantity from samples of the same size, minired against Keras:
``(z_minired - z_keras) / √2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# -- one statistic, in standard errors ------------------------------------------------------

def binomial_z(hits: np.ndarray, p: float) -> float:
    """``(p̂ - p) / sqrt(p(1-p)/n)``: the fraction of true entries of ``hits`` against ``p``."""
    n = np.asarray(hits).size
    return float((np.mean(hits) - p) / math.sqrt(p * (1 - p) / n))


def mean_z(sample: np.ndarray, mean: float, variance: float) -> float:
    """``(x̄ - μ) / (σ/√n)``: the sample mean against the distribution's mean."""
    x = np.asarray(sample, dtype=np.float64)
    return float((x.mean() - mean) / math.sqrt(variance / x.size))


def variance_z(sample: np.ndarray, variance: float, fourth_moment: float) -> float:
    """``(s² - σ²) / se(s²)``, with the unbiased ``s²`` and its exact standard error
    ``sqrt((μ₄ - σ⁴(n-3)/(n-1)) / n)`` (``μ₄``: fourth central moment)."""
    x = np.asarray(sample, dtype=np.float64)
    n = x.size
    standard_error = math.sqrt((fourth_moment - variance**2 * (n - 3) / (n - 1)) / n)
    return float((x.var(ddof=1) - variance) / standard_error)


def gap_z(gap: float, n: int, density: float) -> float:
    """How unlikely it is that no value of the sample came within ``gap`` of a bound.

    With density ``f`` at the bound, ``n`` draws all miss the strip of width ``gap`` with
    probability ``(1 - f·gap)^n ≈ exp(-n·f·gap)``. That tail probability is returned as the
    one-sided normal quantile with the same tail (``z = 5`` for ``p = 2.9e-7``). A small gap
    is never evidence against the distribution, so ``z`` is at least 0.
    """
    t = n * density * max(gap, 0.0)
    p = math.exp(-t)
    if p >= 0.5:
        return 0.0
    if p > 0.0:
        return -NormalDist().inv_cdf(p)
    return math.sqrt(2 * t)  # p underflowed: the tail's leading order, far above 5 anyway


def impossible_z(count: int) -> float:
    """Events of probability 0 (a value off the support, a broadcast mask split): ``z = 0``
    if none happened, else ``inf``, so that even one fails the case."""
    return 0.0 if count == 0 else math.inf


def outside_z(sample: np.ndarray, low: float, high: float) -> float:
    """:func:`impossible_z` of the values outside ``[low, high]``, the bounds widened by
    one rounding step of the sample's dtype."""
    x = np.asarray(sample)
    dtype = x.dtype.type
    low_bound = np.nextafter(dtype(low), dtype(-np.inf))
    high_bound = np.nextafter(dtype(high), dtype(np.inf))
    return impossible_z(int(np.count_nonzero((x < low_bound) | (x > high_bound))))


def difference_z(z_ours: float, z_theirs: float) -> float:
    """minired against Keras: two independent estimates from samples of the same size have
    the same standard error, so their difference is ``(z_ours - z_theirs) / √2`` of its own."""
    return (z_ours - z_theirs) / math.sqrt(2)


# -- the distributions initializers draw from -------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """What the statistics need to know of a continuous distribution.

    Attributes:
        description: a formula for the report, e.g. ``"U[-0.25, 0.25]"``.
        mean, variance: its first two moments.
        fourth_moment: its fourth central moment ``E[(w - mean)⁴]``.
        low, high: its support (``±inf`` when unbounded).
        edge_density: the density at ``low`` and at ``high`` (0 when unbounded).
        tail: ``(distance, p)``: a fraction ``p`` of the values lie farther than
            ``distance`` from the mean (used for unbounded distributions).
    """

    description: str
    mean: float
    variance: float
    fourth_moment: float
    low: float = -math.inf
    high: float = math.inf
    edge_density: float = 0.0
    tail: tuple[float, float] | None = None

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def uniform(low: float, high: float) -> Distribution:
    """``U[low, high]``: variance ``(high-low)²/12``, fourth moment ``(high-low)⁴/80``."""
    width = high - low
    return Distribution(f"U[{low:.6g}, {high:.6g}]", (low + high) / 2, width**2 / 12,
                        width**4 / 80, low, high, edge_density=1 / width)


def normal(mean: float, stddev: float) -> Distribution:
    """``N(mean, stddev²)``: fourth moment ``3σ⁴``; a fraction ``1 - erf(√2)`` (4.55%) of
    the values lie beyond two standard deviations."""
    return Distribution(f"N({mean:.6g}, {stddev:.6g}²)", mean, stddev**2, 3 * stddev**4,
                        tail=(2 * stddev, 1 - math.erf(2 / math.sqrt(2))))


def truncated_normal(mean: float, stddev: float, cut: float = 2.0) -> Distribution:
    """``N(mean, stddev²)`` restricted to ``mean ± cut·stddev`` (redrawn outside), as
    TensorFlow's ``truncated_normal``.

    For the standard normal on ``[-c, c]``, with ``Z = erf(c/√2)`` the mass kept and ``φ``
    the normal density, integrating by parts gives the even moments
    ``E[z^k] = (k-1)·E[z^(k-2)] - 2·c^(k-1)·φ(c)/Z``. So the variance is
    ``1 - 2cφ(c)/Z`` (0.7737 for c = 2: its square root is Keras' 0.87962566103423978)
    and the fourth moment ``3·E[z²] - 2c³φ(c)/Z``.
    """
    mass = math.erf(cut / math.sqrt(2))
    edge = math.exp(-cut**2 / 2) / math.sqrt(2 * math.pi)
    second = 1 - 2 * cut * edge / mass
    fourth = 3 * second - 2 * cut**3 * edge / mass
    return Distribution(f"N({mean:.6g}, {stddev:.6g}²) truncated at ±{cut:g}σ", mean,
                        second * stddev**2, fourth * stddev**4,
                        mean - cut * stddev, mean + cut * stddev,
                        edge_density=edge / mass / stddev)


def sample_zs(sample: np.ndarray, theory: Distribution) -> list[tuple[str, float]]:
    """Every statistic of ``sample`` against ``theory``, as ``(name, z)`` pairs.

    Always the mean and the variance. For a bounded distribution: no value off the
    support, and the gaps between the extreme values and the bounds (a sampler whose
    bounds are too narrow leaves a gap far wider than ``1/(n·f)``). For an unbounded one:
    the fraction of values in the tails (a sampler that truncates has too few).
    """
    x = np.asarray(sample, dtype=np.float64).ravel()
    zs = [("mean", mean_z(x, theory.mean, theory.variance)),
          ("variance", variance_z(x, theory.variance, theory.fourth_moment))]
    if theory.bounded:
        zs += [("values off the support", outside_z(sample, theory.low, theory.high)),
               ("gap from the lower bound to the minimum",
                gap_z(float(x.min()) - theory.low, x.size, theory.edge_density)),
               ("gap from the maximum to the upper bound",
                gap_z(theory.high - float(x.max()), x.size, theory.edge_density))]
    if theory.tail is not None:
        distance, p = theory.tail
        zs.append(("fraction in the tails", binomial_z(np.abs(x - theory.mean) > distance, p)))
    return zs


# Statistics that are two-sided estimates, so that minired and Keras can be compared directly.
TWO_SIDED = ("mean", "variance", "fraction in the tails")
