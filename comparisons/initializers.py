"""Initializers: minired draws its starting weights from the same distributions as Keras.

Every other area copies minired's weights into the Keras twin, so none of them can see a
wrong initializer. Here the two libraries draw independently, and each sample is judged
against the distribution that Keras' source defines (``keras/src/initializers/``), written
out below from its formulas, not taken from minired:

- a sample is :data:`KERNELS` kernels of shape (64, 32), one per seed, 524,288 values.
  ``fan_in = 64`` differs from ``fan_out = 32`` and from their mean 48, so a formula that
  uses the wrong fan is off by a factor of 1.3 to 2 in variance;
- each statistic (mean, variance, bounds, tails) is a z-score against the theory, for
  minired and for Keras, and minired against Keras (see :mod:`comparisons.sampling`); the
  case passes when every ``|z| < 5``. Keras passing too shows the theory is Keras';
- the truncated normals are checked the way Keras builds them: the stddev asked for is
  divided by 0.87962566103423978 (the standard deviation of N(0, 1) cut at ±2), no value
  lies beyond two of those stddevs, and the variance is that of the truncated
  distribution.

``Zeros``, ``Ones`` and ``Constant`` are deterministic and compared value for value.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from comparisons.keras_env import keras, mr, precision
from comparisons.registry import Outcome, case
from comparisons.sampling import (
    TWO_SIDED,
    Distribution,
    difference_z,
    impossible_z,
    normal,
    sample_zs,
    truncated_normal,
    uniform,
)

SHAPE = (64, 32)
FAN_IN, FAN_OUT = SHAPE
KERNELS = 256
# Keras divides a truncated normal's stddev by this (VarianceScaling.__call__), so that the
# truncated values have the variance asked for.
TRUNCATION = 0.87962566103423978


def draws(make: Callable, dtype: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:data:`KERNELS` arrays of ``shape`` from ``make(mr.initializers, seed)`` and from
    ``make(keras.initializers, seed)``, seeds 1, 2, ..., in ``dtype`` (as floatx)."""
    with precision(dtype):
        seeds = range(1, KERNELS + 1)
        ours = np.stack([make(mr.initializers, seed)(shape) for seed in seeds])
        theirs = np.stack([np.asarray(make(keras.initializers, seed)(shape)) for seed in seeds])
    return ours, theirs


def compare_draws(dtype: str, make: Callable, theory: Distribution,
                  shape: tuple[int, ...] = SHAPE) -> Outcome:
    """Draw from both libraries; every statistic of both samples against ``theory``, and
    minired against Keras, as z-scores."""
    ours, theirs = draws(make, dtype, shape)
    pairs = [("shape and dtype as asked (none other allowed)",
              impossible_z(int(ours.shape[1:] != shape) + int(ours.dtype != np.dtype(dtype))))]
    ours_zs, theirs_zs = dict(sample_zs(ours, theory)), dict(sample_zs(theirs, theory))
    for name in ours_zs:
        pairs.append((f"minired {name}, z", ours_zs[name]))
        pairs.append((f"Keras {name}, z", theirs_zs[name]))
        if name in TWO_SIDED:
            pairs.append((f"minired - Keras {name}, z",
                          difference_z(ours_zs[name], theirs_zs[name])))
    note = (f"{theory.description}: std {math.sqrt(theory.variance):.6g}; minired "
            f"{ours.std():.6g} in [{ours.min():.6g}, {ours.max():.6g}], Keras "
            f"{theirs.std():.6g} in [{theirs.min():.6g}, {theirs.max():.6g}]; "
            f"n = {ours.size} each")
    return Outcome([(label, np.array(z), np.array(0.0)) for label, z in pairs], notes=note)


def distribution_case(name: str, doc: str, make: Callable, theory: Distribution,
                      shape: tuple[int, ...] = SHAPE) -> None:
    """Register ``initializers/name``: ``make(module, seed)`` against ``theory``."""

    def compare(dtype: str) -> Outcome:
        return compare_draws(dtype, make, theory, shape)

    compare.__doc__ = doc
    case("initializers", name, kind="statistical")(compare)


# -- the named presets, with the formulas of their Keras docstrings -------------------------

def symmetric_uniform(limit: float) -> Distribution:
    """``U[-limit, limit]``."""
    return uniform(-limit, limit)


PRESETS = {  # case name: (class, its definition, the distribution it defines for SHAPE)
    "glorot_uniform": ("GlorotUniform", "U[-limit, limit], limit = sqrt(6/(fan_in + fan_out))",
                       symmetric_uniform(math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    "glorot_normal": ("GlorotNormal", "truncated N(0, σ²), σ = sqrt(2/(fan_in + fan_out))/0.8796",
                      truncated_normal(0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)) / TRUNCATION)),
    "he_uniform": ("HeUniform", "U[-limit, limit], limit = sqrt(6/fan_in)",
                   symmetric_uniform(math.sqrt(6 / FAN_IN))),
    "he_normal": ("HeNormal", "truncated N(0, σ²), σ = sqrt(2/fan_in)/0.8796",
                  truncated_normal(0.0, math.sqrt(2 / FAN_IN) / TRUNCATION)),
    "lecun_uniform": ("LecunUniform", "U[-limit, limit], limit = sqrt(3/fan_in)",
                      symmetric_uniform(math.sqrt(3 / FAN_IN))),
    "lecun_normal": ("LecunNormal", "truncated N(0, σ²), σ = sqrt(1/fan_in)/0.8796",
                     truncated_normal(0.0, math.sqrt(1 / FAN_IN) / TRUNCATION)),
}
for _name, (_class, _definition, _theory) in PRESETS.items():
    distribution_case(_name, f"{_class}: {_definition}.",
                      lambda i, seed, c=_class: getattr(i, c)(seed=seed), _theory)

# Other shapes: a convolution kernel multiplies the fans by its receptive field (3·3), and
# a vector (a bias) has fan_in = fan_out = its length.
CONV_SHAPE = (3, 3, 8, 16)
distribution_case(
    "glorot_uniform_conv_kernel",
    "GlorotUniform on a (3, 3, 8, 16) kernel: fan_in = 3·3·8, fan_out = 3·3·16.",
    lambda i, seed: i.GlorotUniform(seed=seed),
    symmetric_uniform(math.sqrt(6 / (72 + 144))), shape=CONV_SHAPE)
distribution_case(
    "he_normal_vector", "HeNormal on a (50,) vector: fan_in = 50.",
    lambda i, seed: i.HeNormal(seed=seed),
    truncated_normal(0.0, math.sqrt(2 / 50) / TRUNCATION), shape=(50,))

# -- plain random initializers: defaults (stddev 0.05, not 1) and given parameters ------------

distribution_case(
    "random_uniform", "RandomUniform(): U[-0.05, 0.05].",
    lambda i, seed: i.RandomUniform(seed=seed), uniform(-0.05, 0.05))
distribution_case(
    "random_uniform_asymmetric", "RandomUniform(-0.3, 0.1): the mean is -0.1.",
    lambda i, seed: i.RandomUniform(minval=-0.3, maxval=0.1, seed=seed), uniform(-0.3, 0.1))
distribution_case(
    "random_normal", "RandomNormal(): N(0, 0.05²), not truncated.",
    lambda i, seed: i.RandomNormal(seed=seed), normal(0.0, 0.05))
distribution_case(
    "random_normal_shifted", "RandomNormal(mean=0.2, stddev=0.3).",
    lambda i, seed: i.RandomNormal(mean=0.2, stddev=0.3, seed=seed), normal(0.2, 0.3))
distribution_case(
    "truncated_normal", "TruncatedNormal(): N(0, 0.05²) cut at ±0.1 (no 0.8796 correction).",
    lambda i, seed: i.TruncatedNormal(seed=seed), truncated_normal(0.0, 0.05))
distribution_case(
    "truncated_normal_shifted", "TruncatedNormal(mean=-0.1, stddev=0.2): cut at -0.1 ± 0.4.",
    lambda i, seed: i.TruncatedNormal(mean=-0.1, stddev=0.2, seed=seed),
    truncated_normal(-0.1, 0.2))


# -- VarianceScaling: every mode and distribution --------------------------------------------

def variance_scaling(scale: float, fan: float, distribution: str) -> Distribution:
    """Keras' ``VarianceScaling.__call__``, written out: ``s = scale / max(1, fan)``."""
    s = scale / max(1.0, fan)
    if distribution in ("truncated_normal", "normal"):
        return truncated_normal(0.0, math.sqrt(s) / TRUNCATION)
    if distribution == "untruncated_normal":
        return normal(0.0, math.sqrt(s))
    return symmetric_uniform(math.sqrt(3 * s))


SCALE = 1.7
FANS = {"fan_in": FAN_IN, "fan_out": FAN_OUT, "fan_avg": (FAN_IN + FAN_OUT) / 2}
for _mode, _fan in FANS.items():
    for _distribution in ("truncated_normal", "untruncated_normal", "uniform"):
        distribution_case(
            f"variance_scaling_{_mode}_{_distribution}",
            f"VarianceScaling(scale={SCALE}, mode='{_mode}', distribution='{_distribution}'):"
            f" variance {SCALE}/{_fan:g}.",
            lambda i, seed, m=_mode, d=_distribution: i.VarianceScaling(
                scale=SCALE, mode=m, distribution=d, seed=seed),
            variance_scaling(SCALE, _fan, _distribution))
distribution_case(
    "variance_scaling_normal_alias",
    "VarianceScaling(distribution='normal') is the truncated normal.",
    lambda i, seed: i.VarianceScaling(scale=SCALE, mode="fan_avg", distribution="normal",
                                      seed=seed),
    variance_scaling(SCALE, FANS["fan_avg"], "normal"))


# -- constants: value for value --------------------------------------------------------------

def _constant_case(name: str, doc: str, make: Callable) -> None:
    def compare(dtype: str) -> Outcome:
        with precision(dtype):
            ours = make(mr.initializers)(SHAPE)
            theirs = np.asarray(make(keras.initializers)(SHAPE))
        return Outcome([(f"{name}{SHAPE}", ours, theirs)])

    compare.__doc__ = doc
    case("initializers", name)(compare)


_constant_case("zeros", "Zeros: every entry 0.", lambda i: i.Zeros())
_constant_case("ones", "Ones: every entry 1.", lambda i: i.Ones())
_constant_case("constant", "Constant(0.1): a Python float passes through float32 first.",
               lambda i: i.Constant(0.1))
_constant_case("constant_numpy_value",
               "Constant(np.float64(0.1)): a NumPy value keeps its precision.",
               lambda i: i.Constant(np.float64(0.1)))
