"""More of ``keras.ops`` in ``mr.ops``: the same values, dtypes and gradients as Keras.

The checks of :mod:`test_ops_keras` (same helpers, same inputs), for the ops added after its
first catalogue:

- in float64 the values agree to ``1e-12``; in float32 the dtypes are Keras' and the values
  agree to float32 rounding; Python-scalar and integer operands give Keras' dtypes;
- for **every** case with a float result, the tape's gradient with respect to every float
  input equals ``tf.GradientTape``'s (random upstream gradient, float64, ``1e-12``), so ties
  and kinks in the inputs (``top_k`` ties, ``x = 0`` for the shrinks...) follow TensorFlow.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest
from test_ops_keras import (  # noqa: F401 (keras_env: the fixture)
    FLOAT32_TOLERANCE,
    binary,
    compare,
    inputs,
    keras_env,
    unary,
)

from minired import ops
from minired.autodiff import GradientTape


def catalog_inputs(dtype: str) -> SimpleNamespace:
    """:func:`test_ops_keras.inputs`, plus a square matrix ``m``, a vector ``v`` and ties."""
    a = inputs(dtype)
    rng = np.random.default_rng(5)
    a.m = (rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)).astype(dtype)
    a.bm = (rng.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)).astype(dtype)
    a.v = rng.uniform(-2, 2, (3,)).astype(dtype)
    a.u = rng.uniform(-2, 2, (4,)).astype(dtype)
    a.ties = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, 0.5, -1.0]], dtype=dtype)
    a.unit = rng.uniform(-0.9, 0.9, (3, 4)).astype(dtype)
    a.big = rng.uniform(1.1, 3.0, (3, 4)).astype(dtype)
    a.kinks = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0], dtype=dtype)
    return a


CASES = {
    # -- shapes and indexing ------------------------------------------------------------------
    "tril": lambda o, a: o.tril(a.c), "tril_k": lambda o, a: o.tril(a.x, k=1),
    "triu": lambda o, a: o.triu(a.c), "triu_k": lambda o, a: o.triu(a.x, k=-1),
    "pad": lambda o, a: o.pad(a.x, ((1, 2), (0, 1))),
    "pad_constant_values": lambda o, a: o.pad(a.c, ((0, 0), (1, 1), (2, 0)),
                                              constant_values=-1.5),
    "pad_reflect": lambda o, a: o.pad(a.x, ((1, 1), (2, 1)), mode="reflect"),
    "pad_symmetric": lambda o, a: o.pad(a.x, ((1, 1), (2, 1)), mode="symmetric"),
    "moveaxis": lambda o, a: o.moveaxis(a.c, 0, -1),
    "moveaxis_tuple": lambda o, a: o.moveaxis(a.c, (0, 1), (2, 0)),
    "swapaxes": lambda o, a: o.swapaxes(a.c, 0, 2), "ravel": lambda o, a: o.ravel(a.c),
    "unstack": lambda o, a: o.unstack(a.c, axis=1), "unstack_num": lambda o, a: o.unstack(a.x, 3),
    "roll": lambda o, a: o.roll(a.x, 2), "roll_axis": lambda o, a: o.roll(a.c, -1, axis=2),
    "roll_axes": lambda o, a: o.roll(a.c, (1, 2), axis=(0, 2)),
    "hstack": lambda o, a: o.hstack([a.x, a.col]), "hstack_1d": lambda o, a: o.hstack([a.v, a.u]),
    "vstack": lambda o, a: o.vstack([a.x, a.y]),
    "copy": lambda o, a: o.copy(a.x), "full_like": lambda o, a: o.full_like(a.x, 2.5),
    "full_like_dtype": lambda o, a: o.full_like(a.x, 2, dtype="int32"),
    "identity": lambda o, a: o.identity(3),
    "empty": lambda o, a: o.add(o.multiply(o.empty((2, 3)), 0), 1),
    "linspace": lambda o, a: o.linspace(0.0, 1.0, 7),
    "linspace_noend": lambda o, a: o.linspace(-1, 2, 5, endpoint=False),
    "linspace_arrays": lambda o, a: o.linspace(a.v, a.v + 1, 4, axis=1),
    "linspace_retstep": lambda o, a: list(o.linspace(0.0, 3.0, 4, retstep=True)),
    "meshgrid": lambda o, a: o.meshgrid(a.v, a.u), "meshgrid_ij": lambda o, a: o.meshgrid(
        a.v, a.u, a.v[:2], indexing="ij"),
    "meshgrid_xy3": lambda o, a: o.meshgrid(a.v, a.u, a.v[:2]),
    "diag": lambda o, a: o.diag(a.v), "diag_k": lambda o, a: o.diag(a.v, k=-1),
    "diag_matrix": lambda o, a: o.diag(a.x, k=1),
    "diagonal": lambda o, a: o.diagonal(a.x), "diagonal_axes": lambda o, a: o.diagonal(
        a.c, offset=1, axis1=1, axis2=2),
    "trace": lambda o, a: o.trace(a.x), "trace_axes": lambda o, a: o.trace(
        a.c, offset=-1, axis1=2, axis2=1),
    "slice": lambda o, a: o.slice(a.c, (1, 0, 1), (1, 2, 3)),
    "slice_update": lambda o, a: o.slice_update(a.x, (1, 1), a.y[:, :2]),
    "scatter": lambda o, a: o.scatter(np.array([[0, 1], [2, 3], [0, 1]]), a.v, (3, 4)),
    "scatter_rows": lambda o, a: o.scatter(np.array([[1], [0]]), a.x[:2], (3, 4)),
    "scatter_update": lambda o, a: o.scatter_update(a.x, np.array([[0, 1], [2, 3]]), a.v[:2]),
    "scatter_update_rows": lambda o, a: o.scatter_update(a.c, np.array([[1, 2]]), a.y),
    "scatter_update_add": lambda o, a: o.scatter_update(
        a.x, np.array([[0, 1], [0, 1], [2, 2]]), a.v, reduction="add"),
    "tri": lambda o, a: o.tri(3, 4), "tri_k": lambda o, a: o.tri(4, k=-1, dtype="int32"),
    "flipud": lambda o, a: o.flipud(a.x), "fliplr": lambda o, a: o.fliplr(a.c),
    "rot90": lambda o, a: o.rot90(a.x), "rot90_k": lambda o, a: o.rot90(a.c, k=3, axes=(1, 2)),
    "rot90_2": lambda o, a: o.rot90(a.m, k=-2),   # (square: see the report on k even)
    "select": lambda o, a: o.select([a.x > 1, a.x < -1], [a.x, o.square(a.x)], default=a.p),
    "select_default": lambda o, a: o.select([a.mask], [a.x]),
    "nonzero": lambda o, a: list(o.nonzero(a.mask)),
    "unique": lambda o, a: o.unique(np.array([3, 1, 3, 2, 1])),
    "unique_all": lambda o, a: list(o.unique(np.array([3.0, 1.0, 3.0, 2.0]), return_index=True,
                                             return_inverse=True, return_counts=True)),
    "unique_2d_unsorted": lambda o, a: list(o.unique(np.array([[3, 1], [3, 2]]), sorted=False,
                                                     return_inverse=True, return_counts=True)),
    "top_k": lambda o, a: list(o.top_k(a.x, 2)),
    "top_k_ties": lambda o, a: list(o.top_k(a.ties, 3)),
    "top_k_unsorted": lambda o, a: o.sort(o.top_k(a.c, 2, sorted=False)[0]),  # order: TF's
    "in_top_k": lambda o, a: o.in_top_k(a.labels, a.x, 2),
    "in_top_k_ties": lambda o, a: o.in_top_k(np.array([2, 0]), a.ties, 1),
    "size": lambda o, a: o.size(a.c),
    "is_tensor": lambda o, a: np.array([o.is_tensor(o.convert_to_tensor(a.x)),
                                        o.is_tensor([1.0, 2.0])]),
    # -- element-wise math ---------------------------------------------------------------------
    **{name: unary(name) for name in (
        "tan", "sinh", "cosh", "arctan", "arcsinh", "exp2", "cbrt", "erfc", "fabs", "deg2rad",
        "rad2deg", "sinc", "trunc", "isinf")},
    **{name: unary(name, "unit") for name in ("arcsin", "arccos", "arctanh")},
    **{name: unary(name, "p") for name in ("log2", "log10", "rsqrt")},
    "arccosh": unary("arccosh", "big"),
    "cbrt_negative": lambda o, a: o.cbrt(o.negative(a.p)),
    "sinc_0": lambda o, a: o.sinc(o.multiply(a.x, a.mask)),
    "sinc_away_from_0": lambda o, a: o.sinc(a.p),
    **{name: binary(name) for name in ("arctan2", "hypot", "logaddexp", "fmod")},
    "fmod_negative": lambda o, a: o.fmod(o.negative(a.x), a.p),
    "divide_no_nan": lambda o, a: o.divide_no_nan(a.x, o.multiply(a.col, a.mask)),
    "heaviside": lambda o, a: o.heaviside(a.x, a.y),
    "logical_xor": lambda o, a: o.logical_xor(a.mask, a.x < 1),
    "nan_to_num": lambda o, a: o.nan_to_num(o.divide(a.x, o.multiply(a.x, a.mask))),
    "nan_to_num_values": lambda o, a: o.nan_to_num(
        o.log(o.multiply(a.x, a.mask)), nan=-1.0, posinf=5.0, neginf=-5.0),
    # -- reductions -----------------------------------------------------------------------------
    **{f"{name}_{axis}_{keepdims}": lambda o, a, name=name, axis=axis, keepdims=keepdims:
       getattr(o, name)(a.c, axis=axis, keepdims=keepdims)
       for name in ("amax", "amin", "ptp", "median") for axis in (None, 1, (0, 2))
       for keepdims in (False, True)},
    "amax_ties": lambda o, a: o.amax(a.ties, axis=1), "ptp_ties": lambda o, a: o.ptp(a.ties),
    "median_ties": lambda o, a: o.median(a.ties, axis=-1),
    "average": lambda o, a: o.average(a.c), "average_axis": lambda o, a: o.average(a.c, axis=1),
    "average_weights": lambda o, a: o.average(a.x, axis=0, weights=a.p),
    "average_weights_1d": lambda o, a: o.average(a.c, axis=2, weights=a.u),
    "average_weights_all": lambda o, a: o.average(a.x, weights=a.q),
    "count_nonzero": lambda o, a: o.count_nonzero(a.x),
    "count_nonzero_axis": lambda o, a: o.count_nonzero(a.mask, axis=(0, 1)),
    **{f"quantile_{method}": lambda o, a, method=method: o.quantile(
        a.c, np.array([0.0, 0.3, 0.5, 1.0]), axis=1, method=method)
       for method in ("linear", "lower", "higher", "midpoint", "nearest")},
    "quantile_scalar": lambda o, a: o.quantile(a.x, 0.25),
    "quantile_keepdims": lambda o, a: o.quantile(a.c, 0.7, axis=(0, 2), keepdims=True),
    "quantile_keepdims_all": lambda o, a: o.quantile(a.x, [0.1, 0.9], keepdims=True),
    "quantile_ties": lambda o, a: o.quantile(a.ties, 0.4, axis=-1),
    "percentile": lambda o, a: o.percentile(a.c, 40, axis=-1),
    "percentile_nearest": lambda o, a: o.percentile(a.x, [10.0, 75.0], axis=0,
                                                    method="nearest"),
    "cumprod": lambda o, a: o.cumprod(a.c, axis=1), "cumprod_flat": lambda o, a: o.cumprod(a.p),
    "cumprod_zero": lambda o, a: o.cumprod(a.x, axis=1),   # (values; gradient: see below)
    "cumprod_last": lambda o, a: o.cumprod(a.p, axis=-1),
    # -- linear algebra -------------------------------------------------------------------------
    "tensordot": lambda o, a: o.tensordot(a.c, a.x, axes=([1, 2], [0, 1])),
    "tensordot_int": lambda o, a: o.tensordot(a.c, a.w, axes=1),
    "tensordot_0": lambda o, a: o.tensordot(a.v, a.u, axes=0),
    "outer": lambda o, a: o.outer(a.v, a.x), "inner": lambda o, a: o.inner(a.c, a.x),
    "inner_vectors": lambda o, a: o.inner(a.u, a.u), "inner_scalar": lambda o, a: o.inner(
        a.x, a.v[0]),
    "vdot": lambda o, a: o.vdot(a.x, a.p), "kron": lambda o, a: o.kron(a.x, a.m),
    "kron_ranks": lambda o, a: o.kron(a.v, a.c),
    "inv": lambda o, a: o.inv(a.m), "inv_batch": lambda o, a: o.inv(a.bm),
    "det": lambda o, a: o.det(a.m), "det_batch": lambda o, a: o.det(a.bm),
    "solve": lambda o, a: o.solve(a.m, a.x[:, :2]), "solve_vector": lambda o, a: o.solve(
        a.bm, a.x[:2, :3]),
    "cross": lambda o, a: o.cross(a.x[:, :3], a.y[:, 1:]),
    "cross_axis": lambda o, a: o.cross(a.c[:, :, :3], a.m, axisa=-1, axisb=0, axisc=1),
    "cross_2d": lambda o, a: o.cross(a.x[:, :2], a.y[:, 2:]),
    "cross_2_3": lambda o, a: o.cross(a.x[:, :2], a.m),
    # -- nn -------------------------------------------------------------------------------------
    **{name: unary(name) for name in (
        "log_sigmoid", "hard_tanh", "celu", "sparse_plus", "soft_shrink", "hard_shrink",
        "tanh_shrink", "squareplus")},
    "kinks": lambda o, a: [getattr(o, name)(a.kinks)
                           for name in ("hard_tanh", "celu", "sparse_plus", "soft_shrink",
                                        "hard_shrink")],
    "log_sigmoid_large": lambda o, a: o.log_sigmoid(o.multiply(a.x, 30.0)),
    "celu_alpha": lambda o, a: o.celu(a.x, alpha=0.5),
    "glu": lambda o, a: o.glu(a.x), "glu_axis": lambda o, a: o.glu(a.c[:, :2], axis=1),
    "soft_shrink_threshold": lambda o, a: o.soft_shrink(a.x, threshold=1.0),
    "hard_shrink_threshold": lambda o, a: o.hard_shrink(a.x, threshold=3.0),
    "squareplus_b": lambda o, a: o.squareplus(a.x, b=1),
    "threshold": lambda o, a: o.threshold(a.x, 0.0, -1.0),
    "threshold_array": lambda o, a: o.threshold(a.x, a.y, a.col),
    "multi_hot": lambda o, a: o.multi_hot(np.array([[0, 2], [1, 1], [3, 0]]), 4),
    "multi_hot_1d": lambda o, a: o.multi_hot(np.array([0, 2]), 3, dtype="int32"),
    "rms_normalization": lambda o, a: o.rms_normalization(a.c),
    "rms_normalization_scale": lambda o, a: o.rms_normalization(a.c, a.u, epsilon=1e-3),
    "rms_normalization_axes": lambda o, a: o.rms_normalization(a.c, axis=(0, 2)),
    "layer_normalization": lambda o, a: o.layer_normalization(a.c),
    "layer_normalization_weights": lambda o, a: o.layer_normalization(a.c, a.u, a.u[::-1]),
    "layer_normalization_axes": lambda o, a: o.layer_normalization(
        a.c, a.v, a.v * 2, axis=1, epsilon=1e-2),
    "layer_normalization_rms": lambda o, a: o.layer_normalization(a.c, a.u, rms_scaling=True),
    "batch_normalization": lambda o, a: o.batch_normalization(
        a.x, a.y[0], a.p[0], axis=-1, offset=a.u, scale=a.q[1]),
    "batch_normalization_axis": lambda o, a: o.batch_normalization(
        a.c, a.v, a.p[:, 0], axis=1, scale=a.v),
    "batch_normalization_plain": lambda o, a: o.batch_normalization(
        a.c, a.u, a.p[0], -1, epsilon=1e-5),
    "normalize": lambda o, a: o.normalize(a.c), "normalize_axis": lambda o, a: o.normalize(
        a.x, axis=0), "normalize_1": lambda o, a: o.normalize(a.c, axis=1, order=1),
    "normalize_3": lambda o, a: o.normalize(a.x, order=3),
    "normalize_zero": lambda o, a: o.add(o.normalize(o.multiply(a.x, a.mask)), 1.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_keras_in_float64(keras_env, name):  # noqa: F811 (the fixture)
    a = catalog_inputs("float64")
    with keras_env.precision("float64"):
        compare(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), 1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes_and_values_match_keras_in_float32(keras_env, name):  # noqa: F811
    a = catalog_inputs("float32")
    with keras_env.precision("float32"):
        compare(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), FLOAT32_TOLERANCE)


def test_vstack_of_vectors_and_even_rot90_follow_numpy():
    """Two places where Keras' TensorFlow backend differs from its NumPy and JAX backends
    (and from its docstrings): ``vstack`` of 1-D arrays (TF concatenates them into one long
    vector) and ``rot90`` with ``k`` even on a non-square plane (TF reshapes instead of
    transposing). minired follows NumPy there."""
    a = catalog_inputs("float64")
    np.testing.assert_array_equal(ops.vstack([a.u, a.u]), np.vstack([a.u, a.u]))
    for k in (2, -2, 4, 3):
        np.testing.assert_array_equal(ops.rot90(a.c, k, axes=(2, 0)),
                                      np.rot90(a.c, k, axes=(2, 0)))


def test_cumprod_gradient_is_exact_at_a_zero():
    """``a = (x₀, x₀x₁, x₀x₁x₂)`` at ``x = (0, 2, 3)``: ``∂Σa/∂x₀ = 1 + x₁ + x₁x₂ = 9``,
    ``∂Σa/∂x₁ = x₀ + x₀x₂ = 0``, ``∂Σa/∂x₂ = x₀x₁ = 0``. (TensorFlow's ``Σ δa a / x``
    formula gives 0 for ``x₀``.)"""
    with GradientTape() as tape:
        x = tape.watch(np.array([0.0, 2.0, 3.0]))
        y = ops.sum(ops.cumprod(x))
    np.testing.assert_array_equal(tape.gradient(y, x), [9.0, 0.0, 0.0])


def test_hypot_and_logaddexp_at_ties_have_their_true_symmetric_slopes():
    """Both are smooth where ``|x₁| = |x₂|`` (``x₁ = x₂``): the slopes are ``xᵢ/a`` and ``½``.
    TensorFlow computes them through ``maximum``/``minimum`` and gives the whole tie to
    ``x₁`` (``(√2, 0)`` and ``(1, 0)``); minired keeps the true derivative."""
    with GradientTape() as tape:
        x1, x2 = tape.watch(np.array([1.0, -2.0])), tape.watch(np.array([1.0, 2.0]))
        h = ops.hypot(x1, x2)
    np.testing.assert_allclose(tape.gradient(h, [x1, x2]),
                               [[2 ** -0.5, -(2 ** -0.5)], [2 ** -0.5, 2 ** -0.5]], rtol=1e-15)
    with GradientTape() as tape:
        x1, x2 = tape.watch(np.array([0.0, 3.0])), tape.watch(np.array([0.0, 3.0]))
        s = ops.logaddexp(x1, x2)
    np.testing.assert_allclose(tape.gradient(s, [x1, x2]), [[0.5, 0.5], [0.5, 0.5]],
                               rtol=1e-15)


def test_sinc_has_slope_0_at_0():
    """TensorFlow's ``where(x = 0, 1, sin(πx)/(πx))`` has a NaN gradient at 0; the true
    slope there is 0 (sinc is even and smooth), which minired gives."""
    with GradientTape() as tape:
        x = tape.watch(np.array([0.0, 0.5]))
        y = ops.sinc(x)
    np.testing.assert_allclose(tape.gradient(y, x), [0.0, -4 / np.pi], rtol=1e-15)


SCALAR_CASES = {
    "add(int32, float32)": lambda o, a: o.add(a.i32, a.x[:2, :3]),
    "multiply(bool, float32)": lambda o, a: o.multiply(a.mask, a.x),
    "pad(int32)": lambda o, a: o.pad(a.i32, ((1, 0), (0, 1)), constant_values=7),
    "tril(int32)": lambda o, a: o.tril(a.i32), "roll(bool)": lambda o, a: o.roll(a.mask, 1),
    "trace(int32)": lambda o, a: o.trace(a.i32), "full_like(int32, 2.5)": lambda o, a: o.full_like(
        a.i32, 2.5),
    "linspace(int)": lambda o, a: o.linspace(0, 10, 5), "diag(int32)": lambda o, a: o.diag(
        a.i32[0]),
    "top_k(int32)": lambda o, a: list(o.top_k(a.i32, 2)),
    "select(int32, 0)": lambda o, a: o.select([a.i32 > 0], [a.i32]),
    "hstack(int32, float32)": lambda o, a: o.hstack([a.i32, a.x[:2, :3]]),
    "scatter(int32)": lambda o, a: o.scatter(np.array([[0], [2]]), a.i32[0, :2], (4,)),
    **{f"{name}(int32)": unary(name, "i32") for name in (
        "tan", "sinh", "cosh", "arctan", "arcsinh", "exp2", "cbrt", "fabs", "deg2rad",
        "rad2deg", "sinc", "trunc", "isinf", "nan_to_num")},
    **{f"{name}(int32, int32)": lambda o, a, name=name: getattr(o, name)(a.i32, a.i32 + 7)
       for name in ("arctan2", "hypot", "logaddexp", "fmod", "divide_no_nan", "heaviside")},
    "fmod(float32, 2)": lambda o, a: o.fmod(a.x, 2), "hypot(float32, 1.0)": lambda o, a: o.hypot(
        a.x, 1.0),
    "log2(int32)": lambda o, a: o.log2(o.abs(a.i32)), "trunc(bool)": lambda o, a: o.trunc(a.mask),
    **{f"{name}(int32)": lambda o, a, name=name: getattr(o, name)(a.i32, axis=1)
       for name in ("amax", "ptp", "median", "cumprod", "average", "count_nonzero")},
    "quantile(int32)": lambda o, a: o.quantile(a.i32, 0.3),
    "average(int32, float32 weights)": lambda o, a: o.average(a.i32, 0, a.x[:2, :3]),
    "tensordot(int32, int32)": lambda o, a: o.tensordot(a.i32, a.i32, ([0], [0])),
    "outer(int32, float32)": lambda o, a: o.outer(a.i32, a.v),
    "inner(int32)": lambda o, a: o.inner(a.i32, a.i32),
    "vdot(int32)": lambda o, a: o.vdot(a.i32, a.i32), "kron(int32)": lambda o, a: o.kron(
        a.i32, a.i32),
    "cross(int32)": lambda o, a: o.cross(a.i32, a.i32[::-1]),
    "det(float32)": lambda o, a: o.det(a.m), "solve(float32)": lambda o, a: o.solve(a.m, a.v),
    "multi_hot(bool)": lambda o, a: o.multi_hot(np.array([[0, 2]]), 3, dtype="bool"),
    "threshold(float32, int)": lambda o, a: o.threshold(a.x, 0, 2),
    "layer_normalization(float32)": lambda o, a: o.layer_normalization(a.x, a.u),
    "normalize(float32)": lambda o, a: o.normalize(a.x, order=1),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_python_scalars_and_integers_give_keras_dtypes(keras_env, name):  # noqa: F811
    a = catalog_inputs("float32")
    with keras_env.precision("float32"):
        compare(SCALAR_CASES[name](ops, a), SCALAR_CASES[name](keras_env.keras.ops, a),
                FLOAT32_TOLERANCE)


# -- gradients: every case with a float result, against tf.GradientTape -----------------------
def float_outputs(out) -> list:
    """The floating outputs of a case (one array, or a list or tuple of them)."""
    outs = out if isinstance(out, list | tuple) else [out]
    return [o for o in outs if np.issubdtype(np.asarray(o).dtype, np.floating)]


def float_names(a) -> list[str]:
    """The names of a case's floating inputs (the ones gradients are taken for)."""
    return sorted(n for n, v in vars(a).items() if np.issubdtype(v.dtype, np.floating))


def tape_and_tensorflow_gradients(keras_env, case, plain,  # noqa: F811 (the fixture)
                                  nan_outputs_get_none=False):
    """``(names, ours, theirs, upstream)``: the gradients of ``case``'s float outputs with
    respect to each float input of ``plain`` (float64), from minired's tape and from
    ``tf.GradientTape``, for one random upstream gradient (seed 0). TensorFlow's None (no
    gradient) comes back as zeros. ``nan_outputs_get_none``: the upstream gradient is 0
    where an output is NaN (the nan-reductions), and NumPy's warnings are silenced."""
    tf = keras_env.tf
    names = float_names(plain)
    errors = np.errstate(all="ignore") if nan_outputs_get_none else contextlib.nullcontext()
    with keras_env.precision("float64"), errors:
        rng = np.random.default_rng(0)
        upstream = [rng.standard_normal(np.shape(o)) for o in float_outputs(case(ops, plain))]
        if nan_outputs_get_none:
            upstream = [np.nan_to_num(u * ~np.isnan(o)) for u, o in
                        zip(upstream, float_outputs(case(ops, plain)), strict=True)]
        with GradientTape() as tape:
            ours_in = SimpleNamespace(**vars(plain))
            for n in names:
                setattr(ours_in, n, tape.watch(getattr(plain, n)))
            ours_out = float_outputs(case(ops, ours_in))
        ours = tape.gradient(ours_out, [getattr(ours_in, n) for n in names],
                             output_gradient=upstream)
        theirs_in = SimpleNamespace(**vars(plain))
        for n in names:
            setattr(theirs_in, n, tf.constant(getattr(plain, n)))
        with tf.GradientTape() as tf_tape:
            tf_tape.watch([getattr(theirs_in, n) for n in names])
            theirs_out = float_outputs(case(keras_env.keras.ops, theirs_in))
        theirs = tf_tape.gradient(theirs_out, [getattr(theirs_in, n) for n in names],
                                  output_gradients=[tf.constant(u) for u in upstream])
    theirs = [np.zeros(np.shape(getattr(plain, n))) if t is None else np.asarray(
        tf.convert_to_tensor(t)) for n, t in zip(names, theirs, strict=True)]
    return names, ours, theirs, upstream


DIFFERENTIABLE = sorted(name for name in CASES if float_outputs(CASES[name](
    ops, catalog_inputs("float64"))) and name not in {
        "identity", "empty", "tri", "linspace", "linspace_noend", "linspace_retstep",
        "full_like", "unique_all", "trunc", "multi_hot",   # constants: nothing to
        #                                                    differentiate
        "sinc", "sinc_0",   # at x = 0 TensorFlow's gradient is NaN, ours the limit 0 (below)
        "cumprod_zero",     # at x = 0 TensorFlow's gradient is wrong (0); ours exact (below)
        "slice_update"})    # TensorFlow has no gradient for it (XlaDynamicUpdateSlice): see
                            # test_ops.py's finite differences


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradients_match_tensorflow(keras_env, name):  # noqa: F811
    names, ours, theirs, _ = tape_and_tensorflow_gradients(keras_env, CASES[name],
                                                           catalog_inputs("float64"))
    nonzero = 0
    for n, mine, their in zip(names, ours, theirs, strict=True):
        np.testing.assert_allclose(mine, their, rtol=1e-12, atol=1e-14, err_msg=n)
        nonzero += bool(np.any(their != 0))
    assert nonzero, "the case reaches no float input: nothing was compared"
