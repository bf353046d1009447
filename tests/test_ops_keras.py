"""mr.ops against keras.ops (TensorFlow backend): the same values, dtypes and tie rules.

Each case is one function of the ops module, ``lambda o, a: o.add(a.x, a.y)``, run once
with ``mr.ops`` and once with ``keras.ops`` on the same inputs ``a``:

- in float64 the values agree to ``1e-12`` (relative to the largest value);
- in float32 the result dtypes are the same (and the values agree to float32 rounding);
- Python-scalar and integer operands give Keras' result dtypes;
- where TensorFlow picks a derivative at a kink or a tie (clip at its bounds, max ties,
  ``maximum`` ties, relu at 0, abs at 0...), the tape's gradient equals ``tf.GradientTape``'s.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from minired import ops
from minired.autodiff import GradientTape


@pytest.fixture(scope="module")
def keras_env():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env


def unary(name: str, argument: str = "x"):
    """The case ``o.name(a.argument)``."""
    return lambda o, a: getattr(o, name)(getattr(a, argument))


def binary(name: str):
    return lambda o, a: getattr(o, name)(a.x, a.y)


def reduction(name: str, axis, keepdims=None):
    if keepdims is None:
        return lambda o, a: getattr(o, name)(a.c, axis=axis)
    return lambda o, a: getattr(o, name)(a.c, axis=axis, keepdims=keepdims)


def inputs(dtype: str) -> SimpleNamespace:
    """The arrays every case draws from (seeded), in ``dtype``."""
    rng = np.random.default_rng(3)
    values = SimpleNamespace(
        x=rng.uniform(-3, 3, (3, 4)), y=rng.uniform(-3, 3, (1, 4)), col=rng.uniform(-3, 3, (3, 1)),
        p=rng.uniform(0.1, 3, (3, 4)), q=rng.uniform(0.05, 0.95, (3, 4)),
        c=rng.uniform(-2, 2, (2, 3, 4)), w=rng.uniform(-1, 1, (4, 5)),
        t=np.eye(4)[[0, 3, 1]], soft=rng.dirichlet(np.ones(4), 3),
    )
    values.x[0, :4] = [0.0, 3.0, -3.0, 6.0]       # the kinks of relu, hard_sigmoid, relu6
    for name, value in vars(values).items():
        setattr(values, name, value.astype(dtype))
    values.labels = np.array([0, 3, 1])
    values.idx = np.array([[2, 0], [-1, 3]])
    values.i32 = np.array([[1, -2, 3], [4, 5, -6]], dtype="int32")
    values.mask = values.x > 0
    return values


CASES = {
    # arithmetic, broadcasting (3, 4) with (1, 4) and (3, 1)
    "add": lambda o, a: o.add(a.x, a.y), "subtract": lambda o, a: o.subtract(a.col, a.y),
    "multiply": lambda o, a: o.multiply(a.x, a.col), "divide": lambda o, a: o.divide(a.x, a.p),
    "true_divide": lambda o, a: o.true_divide(a.y, a.p), "power": lambda o, a: o.power(a.p, a.x),
    "power_int": lambda o, a: o.power(a.x, 3), "maximum": lambda o, a: o.maximum(a.x, a.y),
    "minimum": lambda o, a: o.minimum(a.col, a.x), "mod": lambda o, a: o.mod(a.x, a.p),
    "floor_divide": lambda o, a: o.floor_divide(a.x, a.p),
    "negative": lambda o, a: o.negative(a.x), "reciprocal": lambda o, a: o.reciprocal(a.p),
    # element-wise functions
    **{name: unary(name) for name in (
        "square", "exp", "expm1", "tanh", "sin", "cos", "abs", "absolute", "sign", "round",
        "floor", "ceil", "sigmoid", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu",
        "silu", "swish", "softplus", "softsign", "hard_sigmoid", "erf", "isnan", "isfinite")},
    **{name: unary(name, "p") for name in ("sqrt", "log", "log1p")},
    "gelu_exact": lambda o, a: o.gelu(a.x, approximate=False),
    "leaky_relu_slope": lambda o, a: o.leaky_relu(a.x, negative_slope=0.05),
    "elu_alpha": lambda o, a: o.elu(a.x, alpha=0.5),
    "round_decimals": lambda o, a: o.round(a.x, decimals=1),
    # comparisons and logic
    **{name: binary(name) for name in (
        "equal", "not_equal", "greater", "greater_equal", "less", "less_equal")},
    "logical_and": lambda o, a: o.logical_and(a.mask, a.x < 1),
    "logical_or": lambda o, a: o.logical_or(a.mask, a.x < -1),
    "logical_not": lambda o, a: o.logical_not(a.mask),
    "where": lambda o, a: o.where(a.mask, a.x, a.y), "clip": lambda o, a: o.clip(a.x, -1.0, 2.0),
    # reductions
    **{f"{name}_{axis}_{keepdims}": reduction(name, axis, keepdims)
       for name in ("sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "any",
                    "all")
       for axis in (None, 0, -1, (0, 2), [1, 2]) for keepdims in (False, True)},
    **{f"{name}_{axis}": reduction(name, axis)
       for name in ("argmax", "argmin", "cumsum") for axis in (None, 0, -1)},
    "argsort": lambda o, a: o.argsort(a.x), "argsort_0": lambda o, a: o.argsort(a.x, axis=0),
    "sort": lambda o, a: o.sort(a.x), "sort_0": lambda o, a: o.sort(a.x, axis=0),
    "norm": lambda o, a: o.norm(a.x), "norm_axis": lambda o, a: o.norm(a.c, axis=-1),
    "norm_fro": lambda o, a: o.norm(a.x, ord="fro", keepdims=True),
    "norm_matrix_axes": lambda o, a: o.norm(a.c, axis=(0, 2)),
    "norm_1": lambda o, a: o.norm(a.x, ord=1, axis=0),
    # linear algebra
    "matmul": lambda o, a: o.matmul(a.x, a.w), "matmul_batched": lambda o, a: o.matmul(a.c, a.w),
    "dot": lambda o, a: o.dot(a.x, a.w), "dot_nd": lambda o, a: o.dot(a.c, a.w),
    "dot_vector": lambda o, a: o.dot(a.x, a.w[:, 0]), "dot_scalar": lambda o, a: o.dot(a.x, 2.0),
    "einsum": lambda o, a: o.einsum("ij,jk->ik", a.x, a.w),
    "einsum_batch": lambda o, a: o.einsum("bij,jk->bk", a.c, a.w),
    "einsum_ellipsis": lambda o, a: o.einsum("...j,jk->...k", a.c, a.w),
    "einsum_implicit": lambda o, a: o.einsum("ij,kj", a.x, a.x),
    # shapes
    "reshape": lambda o, a: o.reshape(a.c, (4, -1)),
    "transpose": lambda o, a: o.transpose(a.c, (2, 0, 1)),
    "expand_dims": lambda o, a: o.expand_dims(a.x, 1),
    "squeeze": lambda o, a: o.squeeze(a.col), "squeeze_axis": lambda o, a: o.squeeze(a.y, 0),
    "concatenate": lambda o, a: o.concatenate([a.x, a.y], axis=0),
    "concatenate_1": lambda o, a: o.concatenate([a.x, a.col], axis=-1),
    "stack": lambda o, a: o.stack([a.x, a.p], axis=1),
    "split": lambda o, a: o.split(a.x, 2, axis=1),
    "split_indices": lambda o, a: o.split(a.c, [1, 3], axis=-1),
    "take": lambda o, a: o.take(a.x, a.idx, axis=1), "take_flat": lambda o, a: o.take(a.x, a.idx),
    "take_along_axis": lambda o, a: o.take_along_axis(a.x, o.argsort(a.x, axis=1), axis=1),
    "broadcast_to": lambda o, a: o.broadcast_to(a.y, (2, 3, 4)),
    "tile": lambda o, a: o.tile(a.x, (2, 1)), "repeat": lambda o, a: o.repeat(a.x, 2, axis=0),
    "repeat_flat": lambda o, a: o.repeat(a.x, 2), "flip": lambda o, a: o.flip(a.c, axis=1),
    "flip_all": lambda o, a: o.flip(a.x), "cast": lambda o, a: o.cast(a.x, "int32"),
    # nn
    "softmax": lambda o, a: o.softmax(a.x), "softmax_0": lambda o, a: o.softmax(a.c, axis=0),
    "log_softmax": lambda o, a: o.log_softmax(a.x),
    "log_softmax_1": lambda o, a: o.log_softmax(a.c, axis=1),
    "one_hot": lambda o, a: o.one_hot(a.labels, 4),
    "moments": lambda o, a: list(o.moments(a.c, (0, 2))),
    "moments_keepdims": lambda o, a: list(o.moments(a.c, [1], keepdims=True)),
    "one_hot_axis": lambda o, a: o.one_hot(np.array([[0, 5], [-1, 2]]), 3, axis=0),
    "binary_crossentropy": lambda o, a: o.binary_crossentropy(a.soft, a.q),
    "binary_crossentropy_logits": lambda o, a: o.binary_crossentropy(a.soft, a.x,
                                                                     from_logits=True),
    "categorical_crossentropy": lambda o, a: o.categorical_crossentropy(a.t, a.soft),
    "categorical_crossentropy_unnormalized": lambda o, a: o.categorical_crossentropy(a.t, a.p),
    "categorical_crossentropy_logits": lambda o, a: o.categorical_crossentropy(
        a.soft, a.x, from_logits=True),
    "categorical_crossentropy_axis": lambda o, a: o.categorical_crossentropy(
        a.t.T, a.q.T, axis=0),
    "sparse_categorical_crossentropy": lambda o, a: o.sparse_categorical_crossentropy(
        a.labels, a.soft),
    "sparse_categorical_crossentropy_logits": lambda o, a: o.sparse_categorical_crossentropy(
        a.labels[:, None], a.x, from_logits=True),
}


def compare(ours, theirs, tolerance: float, dtype_too: bool = True) -> None:
    """Values within ``tolerance`` of the largest one; the same dtype when asked."""
    if isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs)
        for mine, their in zip(ours, theirs, strict=True):
            compare(mine, their, tolerance, dtype_too)
        return
    theirs = np.asarray(theirs)
    assert type(ours) is np.ndarray
    assert ours.shape == theirs.shape
    if dtype_too:
        assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    if theirs.dtype == bool or np.issubdtype(theirs.dtype, np.integer):
        np.testing.assert_array_equal(ours, theirs)
        return
    scale = max(np.max(np.abs(theirs), initial=0.0), 1e-300)
    assert np.max(np.abs(ours - theirs), initial=0.0) / scale <= tolerance


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_keras_in_float64(keras_env, name):
    """In float64 everything agrees to 1e-12 (measured: most cases exactly, at most a few
    1e-16; the difference is the order of a sum)."""
    a = inputs("float64")
    with keras_env.precision("float64"):
        compare(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), 1e-12)


#: float32: TensorFlow's kernels (Eigen's vectorized exp, tanh, erf; pairwise sums) round
#: differently from NumPy's, by a few float32 ulps.
FLOAT32_TOLERANCE = 1e-5


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes_and_values_match_keras_in_float32(keras_env, name):
    a = inputs("float32")
    with keras_env.precision("float32"):
        compare(CASES[name](ops, a), CASES[name](keras_env.keras.ops, a), FLOAT32_TOLERANCE)


SCALAR_CASES = {
    "float32 + 2.0": lambda o, a: o.add(a.x, 2.0), "float32 * 2": lambda o, a: o.multiply(a.x, 2),
    "int32 + 2.0": lambda o, a: o.add(a.i32, 2.0), "int32 + 2": lambda o, a: o.add(a.i32, 2),
    "2.0 - int32": lambda o, a: o.subtract(2.0, a.i32),
    "int32 / 2": lambda o, a: o.divide(a.i32, 2), "float32 ** 2": lambda o, a: o.power(a.x, 2),
    "int32 ** 2": lambda o, a: o.power(a.i32, 2),
    "float32 * float64": lambda o, a: o.multiply(a.x, a.x.astype("float64")),
    "maximum(float32, 0)": lambda o, a: o.maximum(a.x, 0),
    "maximum(int32, 0.5)": lambda o, a: o.maximum(a.i32, 0.5),
    "mean(int32)": lambda o, a: o.mean(a.i32), "sum(int32)": lambda o, a: o.sum(a.i32),
    "sum(bool)": lambda o, a: o.sum(a.mask), "mean(bool)": lambda o, a: o.mean(a.mask),
    "prod(int32)": lambda o, a: o.prod(a.i32), "var(int32)": lambda o, a: o.var(a.i32),
    "max(int32)": lambda o, a: o.max(a.i32), "cumsum(int32)": lambda o, a: o.cumsum(a.i32),
    "sqrt(int32)": lambda o, a: o.sqrt(o.abs(a.i32)), "exp(int32)": lambda o, a: o.exp(a.i32),
    "abs(int32)": lambda o, a: o.abs(a.i32), "sign(int32)": lambda o, a: o.sign(a.i32),
    "clip(int32, 0, 1)": lambda o, a: o.clip(a.i32, 0, 1),
    "where(mask, 1.0, 0.0)": lambda o, a: o.where(a.mask, 1.0, 0.0),
    "where(mask, float32, 0)": lambda o, a: o.where(a.mask, a.x, 0),
    "floor_divide(float32, 2)": lambda o, a: o.floor_divide(a.x, 2),
    "mod(int32, 4)": lambda o, a: o.mod(a.i32, 4),
    "equal(float32, 1.0)": lambda o, a: o.equal(a.x, 1.0),
    "one_hot(dtype=int32)": lambda o, a: o.one_hot(a.labels, 4, dtype="int32"),
}


@pytest.mark.parametrize("name", sorted(SCALAR_CASES))
def test_python_scalars_and_integers_give_keras_dtypes(keras_env, name):
    a = inputs("float32")
    with keras_env.precision("float32"):
        compare(SCALAR_CASES[name](ops, a), SCALAR_CASES[name](keras_env.keras.ops, a),
                FLOAT32_TOLERANCE)


# -- gradients where TensorFlow chooses: kinks and ties ---------------------------------------
GRADIENT_CASES = {
    "clip at its bounds": (lambda o, x: o.clip(x, -1.0, 1.0), [[-1.0, 1.0, 0.5, 2.0, -3.0]]),
    "max ties": (lambda o, x: o.max(x), [[1.0, 3.0, 3.0, -2.0]]),
    "max ties on an axis": (lambda o, x: o.max(x, axis=1),
                            [[[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]]),
    "min ties keepdims": (lambda o, x: o.min(x, axis=0, keepdims=True),
                          [[[1.0, 3.0, 3.0], [1.0, 2.0, 3.0]]]),
    "relu at 0": (lambda o, x: o.relu(x), [[0.0, 1.0, -1.0]]),
    "relu6 at 0 and 6": (lambda o, x: o.relu6(x), [[0.0, 6.0, 3.0, 7.0]]),
    "abs at 0": (lambda o, x: o.abs(x), [[0.0, 2.0, -2.0]]),
    "leaky_relu at 0": (lambda o, x: o.leaky_relu(x), [[0.0, 2.0, -2.0]]),
    "elu at 0": (lambda o, x: o.elu(x, alpha=0.5), [[0.0, 2.0, -2.0]]),
    "selu at 0": (lambda o, x: o.selu(x), [[0.0, 2.0, -2.0]]),
    "hard_sigmoid at -3 and 3": (lambda o, x: o.hard_sigmoid(x), [[-3.0, 3.0, 0.0, 4.0]]),
    "sort with ties": (lambda o, x: o.sort(x), [[1.0, 1.0, 0.0, 2.0]]),
    "prod with a zero": (lambda o, x: o.prod(x), [[0.0, 2.0, 3.0]]),
    "sign, round, floor": (lambda o, x: o.add(o.add(o.sign(x), o.round(x)), o.floor(x)),
                           [[0.0, 1.5, -2.5]]),
    "binary_crossentropy logits at 0": (
        lambda o, x: o.binary_crossentropy(np.array([0.0, 1.0, 0.3]), x, from_logits=True),
        [[0.0, 0.0, 0.0]]),
    "binary_crossentropy at the clip": (
        lambda o, x: o.binary_crossentropy(np.array([0.0, 1.0, 0.3]), x),
        [[0.0, 1.0, 0.5]]),
    "softplus": (lambda o, x: o.softplus(x), [[0.0, -30.0, 30.0]]),
}
BINARY_GRADIENT_CASES = {
    "maximum ties": (lambda o, x1, x2: o.maximum(x1, x2), [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]),
    "minimum ties": (lambda o, x1, x2: o.minimum(x1, x2), [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]),
    "clip bounds as arrays": (lambda o, x, lo: o.clip(x, lo, 1.0), [-1.0, 0.0, -2.0],
                              [-1.0, -1.0, -1.0]),
    "power at base 0": (lambda o, x1, x2: o.power(x1, x2), [0.0, 2.0], [2.0, 3.0]),
    "where": (lambda o, x1, x2: o.where(np.array([True, False, True]), x1, x2),
              [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]),
}


def _tape_and_tf_gradients(keras_env, function, values):
    tf = keras_env.tf
    upstream = np.random.default_rng(0).standard_normal(
        np.shape(function(ops, *[np.array(v) for v in values])))
    with GradientTape() as tape:
        xs = [tape.watch(np.array(v, dtype="float64")) for v in values]
        out = function(ops, *xs)
    ours = tape.gradient(out, xs, output_gradient=upstream)
    variables = [tf.Variable(np.array(v, dtype="float64")) for v in values]
    with tf.GradientTape() as tf_tape:
        theirs_out = function(keras_env.keras.ops, *variables)
    theirs = tf_tape.gradient(theirs_out, variables, output_gradients=tf.constant(upstream))
    theirs = [np.zeros(np.shape(v)) if t is None else np.asarray(t)
              for v, t in zip(values, theirs, strict=True)]
    return ours, theirs


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_at_kinks_and_ties_match_tensorflow(keras_env, name):
    function, values = GRADIENT_CASES[name]
    with keras_env.precision("float64"):
        ours, theirs = _tape_and_tf_gradients(keras_env, function, values)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(BINARY_GRADIENT_CASES))
def test_binary_gradients_at_ties_match_tensorflow(keras_env, name):
    function, *values = BINARY_GRADIENT_CASES[name]
    with keras_env.precision("float64"):
        ours, theirs = _tape_and_tf_gradients(keras_env, function, values)
    for mine, their in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, their, rtol=1e-12, atol=1e-15)


def test_every_op_has_a_keras_value_case():
    """Each name in mr.ops.__all__ is compared with Keras above (or is listed here with the
    reason it is not)."""
    elsewhere = {"arange", "convert_to_numpy", "convert_to_tensor", "dtype", "eye", "full",
                 "getitem", "ndim", "ones", "ones_like", "shape", "stop_gradient", "zeros",
                 "zeros_like"}   # core.py: conversions and constants, not new here
    from test_ops_keras_catalog import CASES as CATALOG_CASES  # the later ops' cases
    from test_ops_keras_catalog2 import CASES as CATALOG2_CASES
    from test_ops_keras_catalog3 import CASES as CATALOG3_CASES
    from test_ops_keras_catalog3 import REFUSED  # (refused with NotImplementedError)

    covered = {name.split("_")[0] if name.split("_")[0] in {"sum", "mean", "max", "min"} else
               name for name in CASES} | set(CATALOG_CASES) | set(CATALOG2_CASES) | set(
        CATALOG3_CASES)
    from test_ops_nn_image_control import OPS_COMPARED_WITH_KERAS, OPS_NOT_COMPARED_WITH_KERAS

    elsewhere |= OPS_COMPARED_WITH_KERAS | set(OPS_NOT_COMPARED_WITH_KERAS)
    elsewhere |= REFUSED
    missing = {name for name in set(ops.__all__) - elsewhere
               if not any(case == name or case.startswith(name + "_") for case in covered)}
    assert missing == set()
