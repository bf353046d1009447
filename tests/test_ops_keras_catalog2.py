"""The NumPy-like and linear-algebra ops of the second catalogue against ``keras.ops``.

The checks of :mod:`test_ops_keras_catalog` (same helpers, same inputs, plus NaNs, integers,
symmetric positive definite and tall matrices):

- in float64 the values agree to ``1e-12`` (``1e-10`` for the factorisations, see
  ``LINALG_TOLERANCE``); in float32 the dtypes are Keras' and the values agree to float32
  rounding; integer operands give Keras' dtypes;
- for every case in ``DIFFERENTIABLE``, the tape's gradient with respect to every float input
  equals ``tf.GradientTape``'s (random upstream gradient, float64);
- for a sample of them, the tape's gradient equals central finite differences.

A factorisation is unique only up to signs (``U``, ``V``, ``Q`` columns, eigenvectors): the
cases fix them the same way in both libraries (``sign`` has no gradient) before comparing.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from test_ops_keras import FLOAT32_TOLERANCE, compare, keras_env  # noqa: F401 (fixture)
from test_ops_keras_catalog import (
    catalog_inputs,
    float_names,
    float_outputs,
    tape_and_tensorflow_gradients,
)

from minired import ops
from minired.autodiff import GradientTape
from minired.gradcheck import numerical_gradient, relative_error

#: LAPACK (NumPy) and Eigen (TensorFlow) factorise with different sequences of rotations and
#: reflections: in float64 their results differ by a few hundred ulps of the largest value.
LINALG_TOLERANCE = 1e-10


def inputs2(dtype: str) -> SimpleNamespace:
    """:func:`test_ops_keras_catalog.catalog_inputs`, plus NaNs and matrices to factorise."""
    a = catalog_inputs(dtype)
    rng = np.random.default_rng(11)
    nan = rng.uniform(-2, 2, (3, 4))
    nan[0, 1] = nan[1, 3] = np.nan
    nan[2, :] = np.nan                         # an all-NaN row
    a.nan = nan.astype(dtype)
    nan3 = rng.uniform(-2, 2, (2, 3, 4))
    nan3[0, 1, 2] = nan3[1, 0, 0] = nan3[1, 2, 3] = np.nan
    a.nan3 = nan3.astype(dtype)
    g = rng.uniform(-1, 1, (3, 3))
    a.spd = (g @ g.T + 3 * np.eye(3)).astype(dtype)
    a.tall = rng.uniform(-1, 1, (5, 3)).astype(dtype)
    a.rhs = rng.uniform(-1, 1, (5, 2)).astype(dtype)
    a.low = (np.tril(rng.uniform(-1, 1, (3, 3))) + 2 * np.eye(3)).astype(dtype)
    a.g4 = np.random.default_rng(2).standard_normal((4, 4)).astype(dtype)  # pivots: a 3-cycle
    a.wide = rng.uniform(-1, 1, (3, 5)).astype(dtype)
    a.sorted = np.sort(rng.uniform(-2, 2, 6)).astype(dtype)
    a.ints = np.array([3, 0, 7, 3, 12, 5], dtype="int32")
    a.ints2 = np.array([[1, 0, 2], [2, 2, 3]], dtype="int32")
    a.u8 = np.array([0, 1, 200, 255], dtype="uint8")
    a.big_range = np.array([-300.0, -1.5, 0.4, 200.7, 1e5], dtype=dtype)
    return a


def _gauge_svd(o, x, **kwargs):
    """``U, s, Vh`` with each pair of singular vectors signed so that ``U``'s first row is
    non-negative (the same choice in both libraries)."""
    u, s, vh = o.svd(x, **kwargs)
    sign = o.sign(o.sign(u[:1, :]) + 0.5)
    return [o.multiply(u, sign), s, o.multiply(vh[:o.shape(sign)[-1]], o.transpose(sign))]


def _gauge_columns(o, vectors):
    return o.multiply(vectors, o.sign(o.sign(vectors[:1, :]) + 0.5))


CASES = {
    # -- NaN reductions -----------------------------------------------------------------------
    **{f"{name}_{axis}_{keepdims}": lambda o, a, name=name, axis=axis, keepdims=keepdims:
       getattr(o, name)(a.nan3 if axis != 1 else a.nan, axis=axis, keepdims=keepdims)
       for name in ("nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin")
       for axis in (None, 1, (0, 2)) for keepdims in (False, True)},
    "nanmax_all_nan_row": lambda o, a: o.nanmax(a.nan, axis=1),
    "nanmin_all_nan_row": lambda o, a: o.nanmin(a.nan, axis=1),
    "nanmean_all_nan_row": lambda o, a: o.nanmean(a.nan, axis=1),
    **{f"{name}_{axis}": lambda o, a, name=name, axis=axis: getattr(o, name)(a.nan, axis=axis)
       for name in ("nanargmax", "nanargmin") for axis in (None, 0, 1)},
    "nancumsum": lambda o, a: o.nancumsum(a.nan, axis=1),
    "nancumsum_flat": lambda o, a: o.nancumsum(a.nan3),
    "nancumprod": lambda o, a: o.nancumprod(a.nan, axis=0),
    **{f"nanquantile_{method}": lambda o, a, method=method: o.nanquantile(
        a.nan3, np.array([0.0, 0.3, 0.5, 1.0]), axis=2, method=method)
       for method in ("linear", "lower", "higher", "midpoint", "nearest")},
    "nanquantile_scalar_all": lambda o, a: o.nanquantile(a.nan3, 0.25),
    "nanquantile_keepdims": lambda o, a: o.nanquantile(a.nan3, 0.7, axis=(0, 2),
                                                       keepdims=True),
    "nanquantile_all_nan_row": lambda o, a: o.nanquantile(a.nan, 0.6, axis=1),  # (a list q
    #                         with an all-NaN row: Keras raises, a shape bug in its map_fn)
    "nanmedian": lambda o, a: o.nanmedian(a.nan3, axis=-1),
    "nanmedian_keepdims": lambda o, a: o.nanmedian(a.nan3, axis=1, keepdims=True),
    "nanpercentile": lambda o, a: o.nanpercentile(a.nan3, [10.0, 75.0], axis=0,
                                                  method="nearest"),
    # -- tests ----------------------------------------------------------------------------------
    "isclose": lambda o, a: o.isclose(a.x, o.add(a.x, o.multiply(a.mask, 1e-3))),
    "isclose_nan": lambda o, a: o.isclose(a.nan, a.nan, equal_nan=True),
    "isclose_tolerances": lambda o, a: o.isclose(a.x, a.y, rtol=0.5, atol=0.5),
    "allclose": lambda o, a: o.allclose(a.x, o.add(a.x, 1e-9)),
    "allclose_false": lambda o, a: o.allclose(a.x, a.y),
    "allclose_nan": lambda o, a: o.allclose(a.nan, a.nan, equal_nan=True),
    "isin": lambda o, a: o.isin(a.ints, np.array([3, 5, 9], dtype="int32")),
    "isin_invert": lambda o, a: o.isin(a.ints2, a.ints, invert=True),
    "isneginf": lambda o, a: o.isneginf(o.log(o.multiply(a.p, a.mask))),
    "isposinf": lambda o, a: o.isposinf(o.negative(o.log(o.multiply(a.p, a.mask)))),
    "isreal": lambda o, a: o.isreal(a.x), "signbit": lambda o, a: o.signbit(a.x),
    "signbit_zero": lambda o, a: o.signbit(np.array([0.0, -0.0, -1.0, 2.0], dtype=a.x.dtype)),
    "searchsorted": lambda o, a: o.searchsorted(a.sorted, a.x.reshape(-1)),
    "searchsorted_right": lambda o, a: o.searchsorted(a.sorted, a.sorted, side="right"),
    "digitize": lambda o, a: o.digitize(a.x, [-1.0, 0.0, 0.5, 2.0]),
    "bincount": lambda o, a: o.bincount(a.ints),
    "bincount_weights": lambda o, a: o.bincount(a.ints, weights=a.x.reshape(-1)[:6]),
    "bincount_minlength": lambda o, a: o.bincount(a.ints2, minlength=6),
    "histogram": lambda o, a: list(o.histogram(a.x.reshape(-1), bins=5)),
    "histogram_range": lambda o, a: list(o.histogram(a.x.reshape(-1), bins=4,
                                                     range=(-1.0, 2.0))),
    # -- building, joining, splitting ------------------------------------------------------------
    "diff": lambda o, a: o.diff(a.x), "diff_2_axis0": lambda o, a: o.diff(a.c, n=2, axis=1),
    "diff_bool": lambda o, a: o.diff(a.mask, axis=0),
    "append": lambda o, a: o.append(a.x, a.y), "append_axis": lambda o, a: o.append(
        a.x, a.y, axis=0),
    "array": lambda o, a: o.array(a.x),
    "array_dtype": lambda o, a: o.array(a.x, dtype="float64"),
    "empty_like": lambda o, a: o.add(o.multiply(o.empty_like(a.x), 0), 1),
    "array_split": lambda o, a: o.array_split(a.c, 3, axis=2),
    "vsplit": lambda o, a: o.vsplit(a.tall, [1, 3]), "hsplit": lambda o, a: o.hsplit(a.x, 2),
    "hsplit_1d": lambda o, a: o.hsplit(a.u, 2), "dsplit": lambda o, a: o.dsplit(a.c, [1]),
    "dstack": lambda o, a: o.dstack([a.x, a.p]), "dstack_1d": lambda o, a: o.dstack([a.u, a.u]),
    "diagflat": lambda o, a: o.diagflat(a.x[:2, :2]), "diagflat_k": lambda o, a: o.diagflat(
        a.v, k=-1),
    "vander": lambda o, a: o.vander(a.v), "vander_n": lambda o, a: o.vander(a.u, N=3,
                                                                               increasing=True),
    "logspace": lambda o, a: o.logspace(0.0, 2.0, 5),
    "logspace_base": lambda o, a: o.logspace(-1.0, 1.0, 4, endpoint=False, base=2),
    "logspace_arrays": lambda o, a: o.logspace(a.v, o.add(a.v, 1.0), 3, axis=1),
    "geomspace": lambda o, a: o.geomspace(1.0, 1000.0, 4),
    "geomspace_negative": lambda o, a: o.geomspace(-2.0, -32.0, 5),
    "geomspace_arrays": lambda o, a: o.geomspace(a.p[0], o.add(a.p[0], 2.0), 3),
    "get_item": lambda o, a: o.get_item(a.c, (1, np.s_[::2])),
    "unravel_index": lambda o, a: list(o.unravel_index(a.ints, (3, 5))),
    "argpartition": lambda o, a: o.argpartition(np.array([7, 1, 5, 3, 9, 0, 4]), 3),
    "argpartition_kth0": lambda o, a: o.argpartition(np.array([2, 2, 1, 6, 0]), 0),
    # -- element-wise ----------------------------------------------------------------------------
    "fmax": lambda o, a: o.fmax(a.nan, a.x), "fmin": lambda o, a: o.fmin(a.x, a.nan),
    "fmax_broadcast": lambda o, a: o.fmax(a.x, a.col),
    "ldexp": lambda o, a: o.ldexp(a.x[:2, :3], a.i32),
    "nextafter": lambda o, a: o.nextafter(a.x, a.y),
    "logaddexp2": lambda o, a: o.logaddexp2(a.x, a.y),
    "i0": lambda o, a: o.i0(a.x), "i0_large": lambda o, a: o.i0(o.multiply(a.x, 8.0)),
    "erfinv": lambda o, a: o.erfinv(a.unit),
    "real": lambda o, a: o.real(a.x), "imag": lambda o, a: o.imag(a.x),
    "conj": lambda o, a: o.conj(a.x), "conjugate": lambda o, a: o.conjugate(a.x),
    "angle": lambda o, a: o.angle(a.x),
    "saturate_cast": lambda o, a: o.saturate_cast(a.big_range, "uint8"),
    "saturate_cast_int8": lambda o, a: o.saturate_cast(a.big_range, "int8"),
    "saturate_cast_float": lambda o, a: o.saturate_cast(a.x, "float64"),
    "view": lambda o, a: o.view(a.x, "int32" if a.x.dtype == np.float32 else "int64"),
    "view_smaller": lambda o, a: o.view(a.i32, "uint8"),
    "view_larger": lambda o, a: o.view(a.u8, "int32"),
    # -- integers --------------------------------------------------------------------------------
    **{name: lambda o, a, name=name: getattr(o, name)(a.ints2, a.ints[:3])
       for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm")},
    **{name: lambda o, a, name=name: getattr(o, name)(a.ints2, 2)
       for name in ("bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift")},
    "bitwise_invert": lambda o, a: o.bitwise_invert(a.i32),
    "bitwise_not": lambda o, a: o.bitwise_not(a.u8),
    "gcd_negative": lambda o, a: o.gcd(a.i32, a.i32 * 3 + 1),
    "lcm_zero": lambda o, a: o.lcm(a.ints, np.int32(4)),
    # -- windows, statistics -------------------------------------------------------------------
    **{name: lambda o, a, name=name: [getattr(o, name)(m) for m in (0, 1, 6, 7)]
       for name in ("bartlett", "blackman", "hamming", "hanning")},
    "kaiser": lambda o, a: [o.kaiser(m, 5.0) for m in (1, 6, 7)],
    "trapezoid": lambda o, a: o.trapezoid(a.c), "trapezoid_dx": lambda o, a: o.trapezoid(
        a.x, dx=0.5, axis=0),
    "trapezoid_x": lambda o, a: o.trapezoid(a.x, x=o.cumsum(a.p, axis=1)),
    "corrcoef": lambda o, a: o.corrcoef(a.x),
    "correlate": lambda o, a: o.correlate(a.x[0], a.v),
    "correlate_full": lambda o, a: o.correlate(a.x[1], a.v, mode="full"),
    "correlate_same": lambda o, a: o.correlate(a.x[2], a.y[0, :2], mode="same"),
    "cdist": lambda o, a: o.cdist(a.x, a.tall[:, :1] * a.u),
    "cdist_batch": lambda o, a: o.cdist(a.c, a.c[:, :2] + 1.0),
    # -- linear algebra --------------------------------------------------------------------------
    "cholesky": lambda o, a: o.cholesky(a.spd),
    "cholesky_upper": lambda o, a: o.cholesky(a.spd, upper=True),
    "cholesky_inverse": lambda o, a: o.cholesky_inverse(a.low),
    "cholesky_inverse_upper": lambda o, a: o.cholesky_inverse(o.transpose(a.low), upper=True),
    "solve_triangular": lambda o, a: o.solve_triangular(a.low, a.x[:, :2], lower=True),
    "solve_triangular_upper": lambda o, a: o.solve_triangular(a.m, a.v),
    "qr": lambda o, a: list(o.qr(a.tall)), "qr_square": lambda o, a: list(o.qr(a.m)),
    "qr_wide": lambda o, a: list(o.qr(a.wide)),
    "qr_complete": lambda o, a: list(o.qr(a.m, mode="complete")),
    "svd": lambda o, a: _gauge_svd(o, a.m),
    "svd_reduced": lambda o, a: _gauge_svd(o, a.tall, full_matrices=False),
    "svd_values": lambda o, a: o.svd(a.tall, compute_uv=False),
    "eigh": lambda o, a: (lambda w, v: [w, _gauge_columns(o, v)])(*o.eigh(a.spd)),
    "eigh_values_lower": lambda o, a: o.eigh(o.add(a.spd, o.triu(a.m, 1)))[0],
    "slogdet": lambda o, a: list(o.slogdet(a.m)),
    "slogdet_negative": lambda o, a: list(o.slogdet(o.negative(a.m))),
    "logdet": lambda o, a: o.logdet(a.spd),
    "pinv": lambda o, a: o.pinv(a.tall), "pinv_square": lambda o, a: o.pinv(a.m),
    "lstsq": lambda o, a: o.lstsq(a.tall, a.rhs), "lstsq_vector": lambda o, a: o.lstsq(
        a.tall, a.rhs[:, 0]),
    "matrix_rank": lambda o, a: o.matrix_rank(a.m),
    "matrix_rank_low": lambda o, a: o.matrix_rank(o.outer(a.v, a.u)),
    "eig_values": lambda o, a: o.sort(o.real(o.eig(a.low)[0])),   # (Keras: complex arrays)
    "lu_factor": lambda o, a: list(o.lu_factor(a.m)),
    "lu_factor_pivots": lambda o, a: list(o.lu_factor(a.x[:, :3])),
    "lu_factor_cycle": lambda o, a: list(o.lu_factor(a.g4)),
}

def compare_nan(ours, theirs, tolerance: float) -> None:
    """:func:`test_ops_keras.compare`, with NaN where Keras has NaN (the other values
    compared as there), and arrays of zeros or of no elements equal exactly."""
    if isinstance(theirs, list | tuple):
        assert isinstance(ours, list | tuple) and len(ours) == len(theirs)
        for mine, their in zip(ours, theirs, strict=True):
            compare_nan(mine, their, tolerance)
        return
    theirs = np.asarray(theirs)
    assert type(ours) is np.ndarray and ours.dtype == theirs.dtype, (type(ours), ours.dtype,
                                                                      theirs.dtype)
    if np.issubdtype(theirs.dtype, np.floating):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        ours = np.asarray(np.nan_to_num(ours, nan=0.0))
        theirs = np.asarray(np.nan_to_num(theirs, nan=0.0))
        if not np.any(theirs):
            np.testing.assert_array_equal(ours, theirs)
            return
    compare(ours, theirs, tolerance)


_FACTORISATIONS = ("cholesky", "qr", "svd", "eigh", "slogdet", "logdet", "pinv", "lstsq",
                   "lu_factor", "solve_triangular")


def _tolerance(name: str) -> float:
    if name in ("hamming", "hanning", "kaiser"):
        return FLOAT32_TOLERANCE     # float32 in Keras whatever floatx is (tf.signal's)
    return LINALG_TOLERANCE if name.startswith(_FACTORISATIONS) else 1e-12


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_keras_in_float64(keras_env, name):  # noqa: F811 (the fixture)
    a = inputs2("float64")
    with keras_env.precision("float64"), np.errstate(all="ignore"):
        compare_nan(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), _tolerance(name))


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes_and_values_match_keras_in_float32(keras_env, name):  # noqa: F811
    a = inputs2("float32")
    with keras_env.precision("float32"), np.errstate(all="ignore"):
        compare_nan(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a),
                    FLOAT32_TOLERANCE)


SCALAR_CASES = {
    **{f"{name}(int32)": lambda o, a, name=name: getattr(o, name)(a.i32, axis=1)
       for name in ("nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanargmax",
                    "nancumsum")},
    "nansum(bool)": lambda o, a: o.nansum(a.mask), "nanmax(bool)": lambda o, a: o.nanmax(
        a.mask, axis=0),
    "nanvar(int32)": lambda o, a: o.nanvar(a.i32), "i0(int32)": lambda o, a: o.i0(a.i32),
    "array(list)": lambda o, a: o.array([1.5, 2.0]),   # (float64 floatx: see the report)
    "angle(int32)": lambda o, a: o.angle(a.i32), "real(int32)": lambda o, a: o.real(a.i32),
    "vander(int32)": lambda o, a: o.vander(a.i32[0]),
    "diff(int32)": lambda o, a: o.diff(a.i32), "append(int32, float32)": lambda o, a: o.append(
        a.i32, a.v),
    "dstack(int32, float32)": lambda o, a: o.dstack([a.i32, a.x[:2, :3]]),
    "fmax(int32, 2)": lambda o, a: o.fmax(a.i32, 2), "fmin(float32, 0.5)": lambda o, a: o.fmin(
        a.x, 0.5),
    "ldexp(int32, int32)": lambda o, a: o.ldexp(a.i32, a.i32),
    "logaddexp2(int32, int32)": lambda o, a: o.logaddexp2(a.i32, a.i32 + 1),
    "nextafter(int32, float32)": lambda o, a: o.nextafter(a.i32, a.x[:2, :3]),
    "isclose(int32, int32)": lambda o, a: o.isclose(a.i32, a.i32 + a.i32 % 2),
    "isin(float32, int32)": lambda o, a: o.isin(a.x, a.i32),
    "signbit(int32)": lambda o, a: o.signbit(a.i32), "isneginf(int32)": lambda o, a: o.isneginf(
        a.i32),
    "corrcoef(int32)": lambda o, a: o.corrcoef(a.ints2 * np.array([1, 3, 2], dtype="int32")),
    "correlate(int32)": lambda o, a: o.correlate(a.ints, a.ints[:3]),
    "trapezoid(int32)": lambda o, a: o.trapezoid(a.i32),
    "bincount(int32, float32 weights)": lambda o, a: o.bincount(a.ints2, weights=a.x[:2, :3]),
    "saturate_cast(int32, uint8)": lambda o, a: o.saturate_cast(a.i32 * 100, "uint8"),
    "saturate_cast(float32, int16)": lambda o, a: o.saturate_cast(a.big_range * 1e6, "int16"),
    "saturate_cast(float32, int32)": lambda o, a: o.saturate_cast(a.big_range * 1e3, "int32"),
    "bitwise_and(uint8, int32)": lambda o, a: o.bitwise_and(a.u8, np.int32(7)),
    "matrix_rank(float32)": lambda o, a: o.matrix_rank(a.tall),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_python_scalars_and_integers_give_keras_dtypes(keras_env, name):  # noqa: F811
    a = inputs2("float32")
    with keras_env.precision("float32"):
        compare_nan(SCALAR_CASES[name](ops, a), SCALAR_CASES[name](keras_env.keras.ops, a),
                    FLOAT32_TOLERANCE)


# -- gradients ---------------------------------------------------------------------------------
DIFFERENTIABLE = sorted(
    [name for name in CASES if name.startswith(("nansum", "nanprod", "nanmean", "nanvar",
                                                "nanstd", "nanmax", "nanmin", "nancum",
                                                "nanquantile", "nanmedian", "nanpercentile"))]
    + ["diff", "diff_2_axis0", "append", "append_axis", "array", "array_dtype", "array_split",
       "vsplit", "hsplit", "hsplit_1d", "dsplit", "dstack", "dstack_1d", "diagflat",
       "diagflat_k", "vander", "vander_n", "logspace_arrays", "geomspace_arrays", "get_item",
       "fmax", "fmin", "fmax_broadcast", "ldexp", "logaddexp2", "i0", "i0_large", "erfinv",
       "real", "conj", "conjugate", "saturate_cast_float", "trapezoid",
       "trapezoid_dx", "trapezoid_x", "corrcoef", "correlate", "correlate_full",
       "correlate_same", "cdist", "cdist_batch", "cholesky", "cholesky_upper",
       "cholesky_inverse", "cholesky_inverse_upper", "solve_triangular",
       "solve_triangular_upper", "qr", "qr_square", "qr_complete", "svd", "svd_reduced",
       "svd_values", "eigh", "eigh_values_lower", "slogdet", "slogdet_negative", "logdet",
       "pinv", "pinv_square", "lstsq", "lstsq_vector", "qr_wide"])
# (bincount with weights and lu_factor have a gradient in minired, checked by finite
# differences below; TensorFlow has none: its tape raises LookupError for Lu and Bincount.)


def _gradients(keras_env, name):  # noqa: F811 (the fixture)
    """The tape's and TensorFlow's gradients of the case ``name`` (see
    :func:`tape_and_tensorflow_gradients`; a NaN output gets no upstream gradient)."""
    return tape_and_tensorflow_gradients(keras_env, CASES[name], inputs2("float64"),
                                         nan_outputs_get_none=True)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_match_tensorflow(keras_env, name):  # noqa: F811
    names, ours, theirs, _ = _gradients(keras_env, name)
    nonzero = 0
    for n, mine, their in zip(names, ours, theirs, strict=True):
        np.testing.assert_allclose(mine, their, rtol=1e-10, atol=1e-12, err_msg=n)
        nonzero += bool(np.any(their != 0))
    assert nonzero, "the case reaches no float input: nothing was compared"


FINITE_DIFFERENCE_CASES = ("nanvar_1_False", "nanquantile_linear", "nanmax_(0, 2)_True",
                           "corrcoef", "correlate_same", "erfinv", "i0_large", "cholesky_upper",
                           "qr", "qr_wide", "lu_factor_cycle", "svd_reduced", "eigh", "pinv",
                           "lstsq", "slogdet",
                           "cholesky_inverse", "logaddexp2", "vander", "trapezoid_x",
                           "bincount_weights")


@pytest.mark.parametrize("name", FINITE_DIFFERENCE_CASES)
def test_tape_gradients_match_finite_differences(name):
    """The tape's VJP against central differences of ``Σ δa ⊙ f(x)`` (float64, each
    element of every float input the case reads)."""
    plain = inputs2("float64")
    rng = np.random.default_rng(1)
    with np.errstate(all="ignore"):
        outs = float_outputs(CASES[name](ops, plain))
    upstream = [np.nan_to_num(rng.standard_normal(np.shape(o)) * ~np.isnan(o)) for o in outs]
    names = float_names(plain)
    with GradientTape() as tape, np.errstate(all="ignore"):
        watched = SimpleNamespace(**vars(plain))
        for n in names:
            setattr(watched, n, tape.watch(getattr(plain, n)))
        out = float_outputs(CASES[name](ops, watched))
    grads = tape.gradient(out, [getattr(watched, n) for n in names], output_gradient=upstream)

    def objective() -> float:
        with np.errstate(all="ignore"):
            values = float_outputs(CASES[name](ops, plain))
        return float(sum(np.nansum(u * v) for u, v in zip(upstream, values, strict=True)))

    checked = 0
    for n, grad in zip(names, grads, strict=True):
        if not np.any(grad):
            continue
        numeric = numerical_gradient(objective, getattr(plain, n))
        if name.startswith("cholesky_upper"):
            # cholesky reads the lower triangle only, so the differences of its elements
            # above the diagonal are 0 and those below count twice; TensorFlow's (and the
            # tape's) gradient is the symmetric one, the same for symmetric perturbations:
            numeric = (numeric + numeric.T) / 2
        finite = ~np.isnan(getattr(plain, n))
        assert relative_error(grad[finite], numeric[finite]) < 1e-7, n
        checked += 1
    assert checked


def test_argpartition_partitions_floats_by_their_values():
    """Keras' TensorFlow backend casts ``x`` to int32 first (``[0.2, 0.9, 0.5]`` all become
    0); minired partitions the values themselves, as NumPy's contract says."""
    x = np.array([0.9, 0.2, 0.7, 0.5, -0.3])
    order = ops.argpartition(x, 2)
    assert sorted(x[order[:3]]) == [-0.3, 0.2, 0.5]
    assert np.all(x[order[3:]] >= 0.5)


def test_saturate_cast_of_large_float32_to_int32_saturates():
    """Keras computes the limit ``min(float32 max, 2³¹ − 1)`` in float32, where it rounds to
    2³¹, and its ``limit > 2³¹ − 1`` test is made in float32 too, so it is not nudged down:
    1e11 casts to −2³¹. minired compares exactly and keeps the largest float32 below 2³¹."""
    x = np.array([1e11, -1e11, 3e9, 7.0], dtype="float32")
    np.testing.assert_array_equal(ops.saturate_cast(x, "int32"),
                                  [2147483520, -2147483648, 2147483520, 7])


def test_unravel_index_of_a_2d_array_is_row_major():
    """Keras' TensorFlow backend unravels indices of rank > 1 in column-major order (a bug:
    its 1-D path is row-major); minired is row-major for every rank, as NumPy."""
    indices = np.array([[0, 7], [11, 5]], dtype="int32")
    for mine, numpy in zip(ops.unravel_index(indices, (3, 4)),
                           np.unravel_index(indices, (3, 4)), strict=True):
        np.testing.assert_array_equal(mine, numpy)


def test_complex_inputs_and_complex_eigenvalues_are_refused():
    with pytest.raises(TypeError, match="complex"):
        ops.real(np.array([1 + 2j]))
    with pytest.raises(ValueError, match="complex eigenvalues"):
        ops.eig(np.array([[0.0, -1.0], [1.0, 0.0]]))
    w, v = ops.eig(np.array([[2.0, 1.0], [0.0, 3.0]]))
    np.testing.assert_allclose(np.array([[2.0, 1.0], [0.0, 3.0]]) @ v, v * w, atol=1e-14)


def test_factorisations_without_a_gradient_refuse_under_a_tape():
    """As TensorFlow, which has no gradient for them: U and Vh of a non-square SVD with
    full_matrices=True, the complete QR of a tall matrix, eig."""
    with GradientTape() as tape:
        with pytest.raises(NotImplementedError, match="full_matrices"):
            ops.svd(tape.watch(np.ones((3, 2))))
        with pytest.raises(NotImplementedError, match="complete QR"):
            ops.qr(tape.watch(np.ones((3, 2))), mode="complete")
        with pytest.raises(NotImplementedError, match="eig"):
            ops.eig(tape.watch(np.eye(2)))


#: The ops of this catalogue whose results are constants for the tape (booleans, integers,
#: windows, bits, and eig/matrix_rank), and those with a VJP, each checked above against
#: TensorFlow or finite differences (``test_every_op_with_a_gradient_is_checked``).
NO_GRADIENT = {
    "isclose", "allclose", "isin", "isneginf", "isposinf", "isreal", "signbit", "searchsorted",
    "digitize", "histogram", "empty_like", "unravel_index", "argpartition", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert", "bitwise_left_shift",
    "bitwise_right_shift", "left_shift", "right_shift", "gcd", "lcm", "nextafter", "imag",
    "angle", "view", "bartlett", "blackman", "hamming", "hanning", "kaiser", "eig",
    "matrix_rank", "nanargmax", "nanargmin"}
WITH_GRADIENT = {
    "nansum", "nanprod", "nanmax", "nanmin", "nanmean", "nanvar", "nanstd", "nancumsum",
    "nancumprod", "nanquantile", "nanpercentile", "nanmedian", "diff", "append", "array",
    "array_split", "vsplit", "hsplit", "dsplit", "dstack", "diagflat", "vander", "logspace",
    "geomspace", "get_item", "trapezoid", "corrcoef", "correlate", "cdist", "fmax", "fmin",
    "ldexp", "logaddexp2", "i0", "erfinv", "real", "conj", "conjugate", "saturate_cast",
    "bincount", "cholesky", "cholesky_inverse", "qr", "svd", "eigh", "lstsq", "slogdet",
    "logdet", "pinv", "solve_triangular", "lu_factor"}


def test_every_op_with_a_gradient_is_checked():
    from minired.ops import (
        arrays,
        bitwise,
        elementwise_more,
        linalg_more,
        nan_reductions,
        statistics,
        windows,
    )

    modules = (arrays, bitwise, elementwise_more, linalg_more, nan_reductions, statistics,
               windows)
    names = {n for m in modules for n, f in vars(m).items() if n in ops.__all__
             and getattr(f, "__module__", None) == m.__name__}
    assert names == NO_GRADIENT | WITH_GRADIENT and not NO_GRADIENT & WITH_GRADIENT
    checked = set(DIFFERENTIABLE) | set(FINITE_DIFFERENCE_CASES)
    unchecked = {n for n in WITH_GRADIENT
                 if not any(c == n or c.startswith(n + "_") for c in checked)}
    assert unchecked == set()


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: ops.gcd(np.array([1.5]), 2), TypeError, "integers"),
    (lambda: ops.bitwise_and(np.array([1.5]), 1), TypeError, "integers or booleans"),
    (lambda: ops.ldexp(np.array([1.0]), np.array([0.5])), TypeError, "exponent `x2`"),
    (lambda: ops.searchsorted(np.ones((2, 2)), 1.0), ValueError, "1-D sorted"),
    (lambda: ops.correlate(np.ones(3), np.ones(2), mode="wide"), ValueError, "Invalid mode"),
    (lambda: ops.nanquantile(np.ones(3), 0.5, method="cubic"), ValueError, "`method`"),
    (lambda: ops.nanquantile(np.ones(3, dtype="int32"), 0.5), TypeError, "float array"),
    (lambda: ops.array_split(np.ones(4), [1, 2]), TypeError, "indices_or_sections"),
    (lambda: ops.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]])), ValueError, "positive definite"),
    (lambda: ops.qr(np.eye(2), mode="r"), ValueError, "`mode`"),
    (lambda: ops.view(np.ones(3, dtype="float32"), "float64"), ValueError, "last axis"),
    (lambda: ops.bincount(np.array([-1, 2])), ValueError, "non-negative"),
    (lambda: ops.diff(np.ones(3), n=-1), ValueError, "non-negative"),
])
def test_bad_arguments_are_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
