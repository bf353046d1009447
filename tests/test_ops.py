"""mr.ops and the tape: every differentiable op's VJP against central differences.

The reference test first, in the style of micrograd: one expression, its gradient by hand.
Then the property test: for each op, random inputs (hypothesis) and a random upstream
gradient ``δa``; the tape's gradient of ``f = Σ op(x…) ⊙ δa`` must match the central
differences of ``f`` for every element of every input, to ``TOLERANCE`` (float64).
Inputs stay away from the points where an op has no derivative (kinks, ties, 0 for
``sqrt``/``log``), by construction or with ``assume``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import TOLERANCE, arrays, bounded_floats, gradient_settings, nonzero_arrays, shapes

from minired import ops
from minired.autodiff import GradientTape, Tensor
from minired.gradcheck import numerical_gradient, relative_error


def test_a_tiny_expression_by_hand():
    """``L = Σ tanh(x W + b)``: δz = 1 − tanh², δW = xᵀ δz, δb = Σ δz, δx = δz Wᵀ."""
    x = np.array([[1.0, -2.0]])
    W = np.array([[0.5, -0.25], [0.1, 0.2]])
    b = np.array([0.1, -0.1])
    with GradientTape() as tape:
        xs = [tape.watch(v) for v in (x, W, b)]
        loss = ops.sum(ops.tanh(ops.add(ops.matmul(xs[0], xs[1]), xs[2])))
    grad_x, grad_W, grad_b = tape.gradient(loss, xs)
    delta_z = 1 - np.tanh(x @ W + b) ** 2
    np.testing.assert_allclose(grad_W, x.T @ delta_z)
    np.testing.assert_allclose(grad_b, delta_z.sum(axis=0))
    np.testing.assert_allclose(grad_x, delta_z @ W.T)


# -- the checker ------------------------------------------------------------------------------
def check_vjp(fn, inputs, h: float = 1e-6) -> None:
    """Tape gradients of ``Σ fn(*inputs) ⊙ δa`` against central differences, per input."""
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    with GradientTape() as tape:
        watched = [tape.watch(x) for x in inputs]
        out = fn(*watched)
    outs = out if isinstance(out, list) else [out]
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(np.shape(o)) for o in outs]
    analytic = tape.gradient(outs, watched, output_gradient=upstream)

    def f() -> float:
        result = fn(*inputs)
        results = result if isinstance(result, list) else [result]
        return float(sum(np.sum(r * u) for r, u in zip(results, upstream, strict=True)))

    for i, (x, grad) in enumerate(zip(inputs, analytic, strict=True)):
        assert grad.shape == x.shape, (i, grad.shape, x.shape)
        numeric = numerical_gradient(f, x, h)
        if max(np.max(np.abs(grad), initial=0), np.max(np.abs(numeric), initial=0)) < NOISE:
            # A gradient this small (0 for a target proportional to the prediction) is below
            # what a central difference resolves (~1e-16·|f|/h): compare absolutely.
            assert np.max(np.abs(grad - numeric), initial=0) < NOISE, f"input {i}"
            continue
        # The central difference itself is exact only to its rounding floor, about
        # eps·|f|/h per element: a gradient of 1e-6 (cos near 0) cannot be checked to 1e-6
        # relative. Differences below 100 times that floor are the reference's noise.
        floor = 100 * np.finfo(np.float64).eps * max(abs(f()), 1.0) / h
        if np.max(np.abs(grad - numeric), initial=0) < floor:
            continue
        error = relative_error(grad, numeric)
        assert error < TOLERANCE, f"input {i}: relative error {error:.2e}"


#: Below this, a whole gradient array is compared absolutely (see check_vjp).
NOISE = 1e-7


def distinct_arrays(shape, offset: int = 0) -> st.SearchStrategy[np.ndarray]:
    """Arrays of distinct values in [-2, 2], at least 1e-3 apart (no ties, by construction).

    ``offset=1`` draws odd thousandths, ``offset=0`` even ones: two such arrays never tie.
    """
    return hnp.arrays(np.int64, shape, elements=st.integers(-1000, 1000), unique=True).map(
        lambda a: (2 * a + offset) / 1000)


def axes(draw, ndim: int):
    """None, one axis (maybe negative) or a tuple of distinct axes of an ``ndim`` array."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


# -- the cases: name -> draw(data) returning (function, inputs) -------------------------------
UNARY_SMOOTH = {
    "negative": ops.negative, "square": ops.square, "exp": ops.exp, "expm1": ops.expm1,
    "tanh": ops.tanh, "sin": ops.sin, "cos": ops.cos, "sigmoid": ops.sigmoid,
    "silu": ops.silu, "swish": ops.swish, "softplus": ops.softplus,
    "gelu": ops.gelu, "gelu_exact": lambda x: ops.gelu(x, approximate=False), "erf": ops.erf,
    "hard_sigmoid": ops.hard_sigmoid,       # inputs within ±2: away from its kinks at ±3
    "cast": lambda x: ops.cast(x, "float64"), "flip": ops.flip,
    "transpose": ops.transpose,
    "sinh": ops.sinh, "cosh": ops.cosh, "arctan": ops.arctan, "arcsinh": ops.arcsinh,
    "exp2": ops.exp2, "erfc": ops.erfc, "deg2rad": ops.deg2rad, "rad2deg": ops.rad2deg,
    "sinc": ops.sinc, "nan_to_num": ops.nan_to_num, "tan": lambda x: ops.tan(x / 2),
}
UNARY_UNIT = {       # drawn in [-0.9, 0.9]
    "arcsin": ops.arcsin, "arccos": ops.arccos, "arctanh": ops.arctanh,
}
UNARY_KINKED = {     # drawn with |x| >= 1e-3 (and |x| <= 2, so relu6 is never near 6)
    "abs": ops.abs, "relu": ops.relu, "relu6": ops.relu6, "leaky_relu": ops.leaky_relu,
    "leaky_relu_0.1": lambda x: ops.leaky_relu(x, negative_slope=0.1), "elu": ops.elu,
    "elu_alpha": lambda x: ops.elu(x, alpha=0.5), "selu": ops.selu,
    "softsign": ops.softsign,       # |x|'' jumps at 0: a central difference errs by O(h) there
    "fabs": ops.fabs,
}
UNARY_POSITIVE = {   # drawn in [0.5, 2]
    "sqrt": ops.sqrt, "log": ops.log, "log1p": ops.log1p, "reciprocal": ops.reciprocal,
    "log2": ops.log2, "log10": ops.log10, "rsqrt": ops.rsqrt, "cbrt": ops.cbrt,
    "cbrt_negative": lambda x: ops.cbrt(-x), "arccosh": lambda x: ops.arccosh(1 + x),
}
BINARY = {
    "add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply,
    "divide": ops.divide, "true_divide": ops.true_divide, "power": ops.power,
    "maximum": ops.maximum, "minimum": ops.minimum, "mod": ops.mod,
    "arctan2": ops.arctan2, "hypot": ops.hypot, "logaddexp": ops.logaddexp, "fmod": ops.fmod,
    "divide_no_nan": ops.divide_no_nan, "heaviside": ops.heaviside,
}
BROADCAST_SHAPES = [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 3, 4), (4,)), ((), (2, 3)),
                    ((2, 3), ()), ((2, 3), (2, 3)), ((1,), (3,))]
REDUCTIONS = {
    "sum": ops.sum, "mean": ops.mean, "max": ops.max, "min": ops.min, "prod": ops.prod,
    "var": ops.var, "std": ops.std, "logsumexp": ops.logsumexp,
    "amax": ops.amax, "amin": ops.amin, "ptp": ops.ptp, "median": ops.median,
}


def unary_case(name):
    def draw(data):
        shape = data.draw(shapes(0, 3))
        if name in UNARY_KINKED:
            x = data.draw(nonzero_arrays(shape, 1e-3, 2.0))
        elif name in UNARY_POSITIVE:
            x = data.draw(arrays(shape, 0.5, 2.0))
        elif name in UNARY_UNIT:
            x = data.draw(arrays(shape, -0.9, 0.9))
        else:
            x = data.draw(arrays(shape, -2.0, 2.0))
        table = {**UNARY_SMOOTH, **UNARY_KINKED, **UNARY_POSITIVE, **UNARY_UNIT}
        return table[name], [x]
    return draw


def binary_case(name):
    def draw(data):
        shape1, shape2 = data.draw(st.sampled_from(BROADCAST_SHAPES))
        # magnitudes >= 0.1: a gradient (the other operand, for multiply) far above the noise
        x1 = data.draw(nonzero_arrays(shape1, 0.1, 2))
        if name == "power":                  # x₁ in [0.1, 0.9] or [1.1, 1.9]: ln x₁ not ~0
            x1 = 1 + x1 * 0.9 / 2
        x2 = data.draw(arrays(shape2, 0.5, 2) if name in ("divide", "true_divide", "mod", "fmod",
                                                          "divide_no_nan")
                       else nonzero_arrays(shape2, 0.1, 2))
        if name in ("maximum", "minimum"):           # odd vs even thousandths: no ties
            x1 = data.draw(hnp.arrays(np.int64, shape1, elements=st.integers(-1000, 999))) * 2
            x2 = data.draw(hnp.arrays(np.int64, shape2, elements=st.integers(-1000, 999))) * 2
            x1, x2 = (x1 + 1) / 1000, x2 / 1000
        if name in ("mod", "fmod"):
            ratio = np.divide(x1, x2)
            assume(np.all(np.abs(ratio - np.round(ratio)) > 1e-3))      # no jumps
        return BINARY[name], [x1, x2]
    return draw


def reduction_case(name):
    def draw(data):
        shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2 if name == "std"
                                           else 1, max_side=4))
        axis = axes(data.draw, len(shape))
        keepdims = data.draw(st.booleans())
        if name == "prod":
            x = data.draw(nonzero_arrays(shape, 0.5, 1.5))
        elif name in ("max", "min", "std", "amax", "amin", "ptp", "median"):
            x = data.draw(distinct_arrays(shape))
        else:
            x = data.draw(arrays(shape, -2, 2))
        return (lambda v: REDUCTIONS[name](v, axis=axis, keepdims=keepdims)), [x]
    return draw


def softmax_case(function):
    def draw(data):
        shape = data.draw(shapes(1, 3))
        axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
        return (lambda v: function(v, axis=axis)), [data.draw(arrays(shape, -3, 3))]
    return draw


@st.composite
def _matmul_shapes(draw):
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return draw(st.sampled_from([((m, k), (k, n)), ((k,), (k, n)), ((m, k), (k,)),
                                 ((2, m, k), (k, n)), ((2, m, k), (1, k, n)), ((k,), (k,))]))


def matmul_case(function):
    def draw(data):
        shape1, shape2 = data.draw(_matmul_shapes())
        return function, [data.draw(arrays(shape1)), data.draw(arrays(shape2))]
    return draw


EINSUMS = [("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("i,i->", (3,), (3,)),
           ("i,j->ij", (2,), (3,)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
           ("ij,ij->i", (2, 3), (2, 3)), ("...ij,jk->...ik", (2, 2, 3), (3, 2)),
           ("ijk->kj", (2, 3, 4), None), ("ij->", (2, 3), None), ("ij,j->i", (2, 3), (3,))]


def einsum_case(data):
    spec, *shapes_ = data.draw(st.sampled_from(EINSUMS))
    inputs = [data.draw(arrays(s)) for s in shapes_ if s is not None]
    return (lambda *xs: ops.einsum(spec, *xs)), inputs


def dot_case(data):
    shape1, shape2 = data.draw(st.sampled_from(
        [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
         ((2, 3), (2, 3, 4)), ((), (2, 3)), ((2, 3), ())]))
    return ops.dot, [data.draw(arrays(shape1)), data.draw(arrays(shape2))]


def norm_case(data):
    shape = data.draw(shapes(1, 3))
    ndim = len(shape)
    axis = data.draw(st.sampled_from([-1, 0] + ([None] if ndim <= 2 else [])
                                     + ([(0, 1), (-2, -1)] if ndim >= 2 else [])))
    ord_ = data.draw(st.sampled_from([None, 2] if np.ndim(axis) == 0 and axis is not None
                                     else [None] if axis is None else [None, "fro"]))
    keepdims = data.draw(st.booleans())
    x = data.draw(nonzero_arrays(shape, 0.1, 2.0))
    return (lambda v: ops.norm(v, ord=ord_, axis=axis, keepdims=keepdims)), [x]


SHAPE_PARAMETERS = {   # drawn once per example, before the function is built
    "expand_dims": [0, -1, 2], "tile": [2, (2, 1), (1, 2, 1, 2)], "repeat": [2, [1, 0, 3]],
    "flip_axis": [0, -1, (0, 2)], "cumsum": [None, 0, -1], "take": [None, 1, -1],
    "split": [2, [1, 3]],
    "getitem": [0, (slice(None), 1), (Ellipsis, -1), (np.array([0, 0, 1]),),
                (slice(None), slice(0, 2), np.array([3, 1])), (None, 1, slice(None, None, -1))],
}


def shape_case(name):
    def draw(data):
        x = data.draw(nonzero_arrays((2, 3, 4), 1e-3, 1.0) if name == "where"
                      else arrays((2, 3, 4)))
        p = data.draw(st.sampled_from(SHAPE_PARAMETERS.get(name, [None])))
        functions = {
            "reshape": lambda v: ops.reshape(v, (4, -1)),
            "transpose_axes": lambda v: ops.transpose(v, (1, 2, 0)),
            "expand_dims": lambda v: ops.expand_dims(v, p),
            "expand_dims_tuple": lambda v: ops.expand_dims(v, (0, 2)),
            "squeeze": lambda v: ops.squeeze(ops.reshape(v, (2, 1, 3, 4))),
            "squeeze_axis": lambda v: ops.squeeze(ops.reshape(v, (1, 2, 3, 4, 1)), axis=-1),
            "broadcast_to": lambda v: ops.broadcast_to(v[:, :1], (5, 2, 1, 4)),
            "tile": lambda v: ops.tile(v, p),
            "repeat": lambda v: ops.repeat(v, p, axis=1),
            "repeat_flat": lambda v: ops.repeat(v, 2),
            "flip_axis": lambda v: ops.flip(v, axis=p),
            "cumsum": lambda v: ops.cumsum(v, axis=p),
            "getitem": lambda v: v[p],
            "take": lambda v: ops.take(v, np.array([[2, 0], [-1, 2]]), axis=p),
            "take_along_axis": lambda v: ops.take_along_axis(
                v, np.array([[[0, 2, 1, 0]], [[2, 2, 0, 1]]]), axis=1),
            "split": lambda v: ops.split(v, p, axis=-1),
            "where": lambda v: ops.where(ops.greater(v, 0), v, ops.square(v)),
            "clip": lambda v: ops.clip(v, -0.5, 0.5),
        }
        if name == "clip":
            assume(np.all(np.abs(np.abs(x) - 0.5) > 1e-3))
        return functions[name], [x]
    return draw


def join_case(name):
    def draw(data):
        if name == "concatenate":
            axis = data.draw(st.sampled_from([0, 1, -1]))
            sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
            inputs = [data.draw(arrays(tuple(n if d == axis % 3 else 2 for d in range(3))))
                      for n in sizes]
            return (lambda *xs: ops.concatenate(list(xs), axis=axis)), inputs
        axis = data.draw(st.sampled_from([0, 1, -1]))
        inputs = [data.draw(arrays((2, 3))) for _ in range(data.draw(st.integers(1, 3)))]
        return (lambda *xs: ops.stack(list(xs), axis=axis)), inputs
    return draw


def sort_case(data):
    x = data.draw(distinct_arrays((3, 4)))
    axis = data.draw(st.sampled_from([None, 0, -1]))
    return (lambda v: ops.sort(v, axis=axis)), [x]


def moments_case(data):
    keepdims = data.draw(st.booleans())
    return (lambda v: list(ops.moments(v, (0, -1), keepdims=keepdims))), [
        data.draw(arrays((2, 3, 4)))]


def crossentropy_case(name):
    def draw(data):
        n, k = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 4))
        from_logits = data.draw(st.booleans())
        output = (data.draw(arrays((n, k), -3, 3)) if from_logits
                  else data.draw(arrays((n, k), 0.05, 0.95)))
        if name == "sparse_categorical_crossentropy":
            labels = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
            return (lambda o: ops.sparse_categorical_crossentropy(
                labels, o, from_logits=from_logits)), [output]
        target = data.draw(arrays((n, k), 0.0, 1.0))
        function = getattr(ops, name)
        return (lambda t, o: function(t, o, from_logits=from_logits)), [target, output]
    return draw


def catalog_case(function, shape=(2, 3, 4), low=-2.0, high=2.0, count=1):
    """``function`` of ``count`` arrays of ``shape`` drawn in ``[low, high]``."""
    def draw(data):
        return function, [data.draw(arrays(shape, low, high)) for _ in range(count)]
    return draw


def top_k_case(data):
    k, in_order = data.draw(st.integers(1, 4)), data.draw(st.booleans())
    return (lambda v: ops.top_k(v, k, sorted=in_order)[0]), [
        data.draw(distinct_arrays((3, 4)))]


def select_case(data):
    x, y = data.draw(arrays((2, 3, 4))), data.draw(arrays((2, 3, 4)))
    assume(np.all(np.abs(np.abs(x) - 0.5) > 1e-3))      # away from the jumps at ±0.5
    return (lambda x, y: ops.select([ops.greater(x, 0.5), ops.less(x, -0.5)],
                                    [y, ops.square(x)], default=x)), [x, y]


def linspace_case(data):
    endpoint, axis = data.draw(st.booleans()), data.draw(st.sampled_from([0, -1]))
    return (lambda s, e: ops.linspace(s, e, 4, endpoint=endpoint, axis=axis)), [
        data.draw(arrays((3,))), data.draw(arrays((3,)))]


def quantile_case(data):
    method = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    q = data.draw(st.sampled_from([0.3, [0.0, 0.5, 1.0], np.array([[0.25], [0.9]])]))
    axis = data.draw(st.sampled_from([None, 1, (0, 2)]))
    keepdims = data.draw(st.booleans()) if np.ndim(q) == 0 else False
    return (lambda v: ops.quantile(v, q, axis=axis, method=method, keepdims=keepdims)), [
        data.draw(distinct_arrays((2, 3, 4)))]


def average_case(data):
    axis, one_d = data.draw(st.sampled_from([None, 0, -1])), data.draw(st.booleans())
    shape = ((3, 4)[axis],) if one_d and axis is not None else (3, 4)
    return (lambda x, w: ops.average(x, axis=axis, weights=w)), [
        data.draw(arrays((3, 4))), data.draw(arrays(shape, 0.5, 2.0))]


def solve_case(data):
    vector = data.draw(st.booleans())
    a = data.draw(arrays((2, 3, 3), -0.5, 0.5)) + 2 * np.eye(3)    # well conditioned
    return ops.solve, [a, data.draw(arrays((2, 3) if vector else (2, 3, 2)))]


def kinked_case(function):
    """``function`` of values at least 1e-3 away from 0, ±0.5, ±1 (the kinks of the shrinks,
    hard_tanh, sparse_plus, celu, threshold)."""
    def draw(data):
        x = data.draw(nonzero_arrays((2, 3, 4), 1e-3, 2.0))
        assume(np.all(np.abs(np.abs(x) - 0.5) > 1e-3) and np.all(np.abs(np.abs(x) - 1) > 1e-3))
        return function, [x]
    return draw


INDICES = np.array([[0, 1], [1, 3], [0, 1]])
CATALOG = {
    "tril": catalog_case(lambda v: ops.tril(v, k=-1)), "triu": catalog_case(ops.triu),
    "pad": catalog_case(lambda v: ops.pad(v, ((0, 1), (2, 0), (1, 1)), constant_values=3.0)),
    "pad_reflect": catalog_case(lambda v: ops.pad(v, ((1, 1), (0, 0), (2, 3)), mode="reflect")),
    "moveaxis": catalog_case(lambda v: ops.moveaxis(v, (0, 2), (1, 0))),
    "swapaxes": catalog_case(lambda v: ops.swapaxes(v, 0, -1)), "ravel": catalog_case(ops.ravel),
    "unstack": catalog_case(lambda v: ops.unstack(v, axis=1)),
    "roll": catalog_case(lambda v: ops.roll(v, (1, -1), axis=(0, 2))),
    "hstack": catalog_case(lambda *xs: ops.hstack(list(xs)), (2, 3), count=2),
    "vstack": catalog_case(lambda *xs: ops.vstack(list(xs)), (3,), count=2),
    "copy": catalog_case(ops.copy), "linspace": linspace_case,
    "meshgrid": catalog_case(lambda *xs: ops.meshgrid(*xs), (3,), count=2),
    "diag": catalog_case(lambda v: ops.diag(v, k=1), (3,)),
    "diagonal": catalog_case(lambda v: ops.diagonal(v, 1, 2, 1)),
    "trace": catalog_case(lambda v: ops.trace(v, -1, 0, 2)),
    "slice": catalog_case(lambda v: ops.slice(v, (1, 0, 2), (1, 2, 2))),
    "slice_update": catalog_case(lambda v, u: ops.slice_update(v, (0, 1, 1), u[:, :2, :3]),
                                 count=2),
    "scatter": catalog_case(lambda u: ops.scatter(INDICES, u, (2, 4, 5)), (3, 5)),
    "scatter_update": catalog_case(lambda v, u: ops.scatter_update(v, INDICES[1:], u[0, :2]),
                                   (2, 4, 5), count=2),
    "scatter_update_add": catalog_case(lambda v, u: ops.scatter_update(
        v, INDICES, u[:, 0], reduction="add"), (3, 4, 4), count=2),
    "flipud": catalog_case(ops.flipud), "fliplr": catalog_case(ops.fliplr),
    "rot90": catalog_case(lambda v: ops.rot90(v, 3, axes=(2, 0))),
    "select": select_case,
    "top_k": top_k_case,
    "quantile": quantile_case, "percentile": lambda data: (
        lambda v: ops.percentile(v, [20, 70], axis=-1), [data.draw(distinct_arrays((3, 5)))]),
    "average": average_case,
    "cumprod": catalog_case(lambda v: ops.cumprod(v, axis=1)),
    "cumprod_flat": catalog_case(ops.cumprod, (2, 3)),
    "tensordot": catalog_case(lambda x, y: ops.tensordot(x, y, ([0, 2], [2, 0])), (2, 3, 2),
                              count=2),
    "tensordot_int": catalog_case(lambda x, y: ops.tensordot(x, y, 1), (3, 3), count=2),
    "outer": catalog_case(ops.outer, (2, 3), count=2),
    "inner": catalog_case(ops.inner, (2, 3), count=2),
    "vdot": catalog_case(ops.vdot, (2, 3), count=2),
    "kron": catalog_case(ops.kron, (2, 3), count=2),
    "inv": catalog_case(lambda v: ops.inv(v + 2 * np.eye(3)), (2, 3, 3), -0.5, 0.5),
    "det": catalog_case(lambda v: ops.det(v + 2 * np.eye(3)), (2, 3, 3), -0.5, 0.5),
    "solve": solve_case,
    "cross": catalog_case(lambda x, y: ops.cross(x, y, axisa=0, axisb=-1, axisc=0), (3, 3),
                          count=2),
    "cross_2d": catalog_case(ops.cross, (4, 2), count=2),
    "log_sigmoid": catalog_case(ops.log_sigmoid, low=-3.0, high=3.0),
    "tanh_shrink": catalog_case(ops.tanh_shrink), "squareplus": catalog_case(
        lambda v: ops.squareplus(v, b=2)),
    "glu": catalog_case(lambda v: ops.glu(v, axis=1), (2, 4, 3)),
    **{name: kinked_case(getattr(ops, name)) for name in (
        "hard_tanh", "celu", "sparse_plus", "soft_shrink", "hard_shrink")},
    "celu_alpha": kinked_case(lambda v: ops.celu(v, alpha=0.7)),
    "threshold": kinked_case(lambda v: ops.threshold(v, 0.5, -2.0)),
    "rms_normalization": catalog_case(lambda v, s: ops.rms_normalization(
        v, s[0, 0], epsilon=1e-3), count=2),
    "layer_normalization": catalog_case(lambda v, g, b: ops.layer_normalization(
        v, g[0, 0], b[0, 0]), count=3),
    "layer_normalization_axes": catalog_case(lambda v, g: ops.layer_normalization(
        v, g[0], axis=(1, 2), rms_scaling=True), count=2),
    "batch_normalization": catalog_case(lambda v, m, s: ops.batch_normalization(
        v, m[0, :, 0], ops.square(s[0, :, 0]), axis=1, offset=m[1, :, 1], scale=s[1, :, 1]),
        count=3),
    "normalize": catalog_case(ops.normalize, low=0.1),   # (0: where the norm is clamped)
    "normalize_1": catalog_case(lambda v: ops.normalize(v, axis=0, order=3), low=0.1),
}

CASES = {
    **CATALOG,
    **{name: unary_case(name) for name in {**UNARY_SMOOTH, **UNARY_KINKED, **UNARY_POSITIVE,
                                           **UNARY_UNIT}},
    **{name: binary_case(name) for name in BINARY},
    **{name: reduction_case(name) for name in REDUCTIONS},
    "softmax": softmax_case(ops.softmax), "log_softmax": softmax_case(ops.log_softmax),
    "matmul": matmul_case(ops.matmul), "matmul_operator": matmul_case(lambda a, b: a @ b),
    "dot": dot_case, "einsum": einsum_case, "norm": norm_case, "sort": sort_case,
    **{name: shape_case(name) for name in (
        "reshape", "transpose_axes", "expand_dims", "expand_dims_tuple", "squeeze",
        "squeeze_axis", "broadcast_to", "tile", "repeat", "repeat_flat", "flip_axis", "cumsum",
        "getitem", "take", "take_along_axis", "split", "where", "clip")},
    "moments": moments_case,
    "concatenate": join_case("concatenate"), "stack": join_case("stack"),
    **{name: crossentropy_case(name) for name in (
        "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")},
}


@pytest.mark.parametrize("name", sorted(CASES))
@settings(parent=gradient_settings, max_examples=20,
          suppress_health_check=[*gradient_settings.suppress_health_check,
                                 HealthCheck.filter_too_much])
@given(data=st.data())
def test_vjp_matches_central_differences(name, data):
    function, inputs = CASES[name](data)
    check_vjp(function, inputs)


def test_every_differentiable_op_is_checked():
    """The catalog and the cases move together: an op without a case fails here."""
    no_gradient = {
        "arange", "argmax", "argmin", "argsort", "all", "any", "ceil", "convert_to_numpy",
        "convert_to_tensor", "dtype", "equal", "eye", "floor", "floor_divide", "full",
        "greater", "greater_equal", "isfinite", "isnan", "less", "less_equal", "logical_and",
        "logical_not", "logical_or", "ndim", "not_equal", "one_hot", "ones", "ones_like", "round",
        "shape", "sign", "stop_gradient", "zeros", "zeros_like", "absolute",
        "size", "full_like", "empty", "identity", "tri", "nonzero", "unique", "in_top_k",
        "is_tensor", "trunc", "isinf", "logical_xor", "count_nonzero",
        "multi_hot"}
    checked = set(CASES) | {"transpose", "expand_dims", "flip", "cast", "getitem"}
    from test_ops_nn_image_control import OPS_GRADIENT_CHECKED  # (ctc_decode: ints)

    no_gradient |= {"ctc_decode", "image", "numpy"}
    checked |= OPS_GRADIENT_CHECKED
    from test_ops_keras_catalog2 import NO_GRADIENT, WITH_GRADIENT  # (checked there)

    no_gradient |= NO_GRADIENT
    checked |= WITH_GRADIENT
    from test_ops_keras_catalog3 import NO_GRADIENT as NO_GRADIENT3  # (checked there)
    from test_ops_keras_catalog3 import WITH_GRADIENT as WITH_GRADIENT3

    no_gradient |= NO_GRADIENT3
    checked |= WITH_GRADIENT3
    assert set(ops.__all__) - no_gradient - checked == set()


@gradient_settings
@given(x=nonzero_arrays((2, 3), 0.5, 2), scalar=bounded_floats(0.5, 2))
def test_python_scalars_are_constants(x, scalar):
    for function in (lambda v: v * scalar, lambda v: scalar / v, lambda v: v ** 2,
                     lambda v: 2.0 - v, lambda v: ops.power(1 + scalar, v)):
        check_vjp(function, [x])


# -- the plumbing -----------------------------------------------------------------------------
@pytest.mark.parametrize("function", [
    lambda x: ops.add(x, 1.0), lambda x: ops.sum(x), lambda x: ops.softmax(x),
    lambda x: ops.split(x, 2)[0], lambda x: ops.max(x, axis=0), lambda x: ops.equal(x, x),
    lambda x: ops.einsum("ij->", x), lambda x: ops.sort(x), lambda x: ops.argmax(x),
    lambda x: ops.norm(x), lambda x: ops.where(x > 0, x, 0.0), lambda x: ops.sign(x[0, 0]),
])
def test_outside_a_tape_ops_return_plain_arrays(function):
    x = np.arange(4.0).reshape(2, 2)
    assert type(function(x)) is np.ndarray
    assert type(function(GradientTape().watch(x))) is np.ndarray   # traced, but no tape


def test_tensor_operators_and_methods_record():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(3, 2)), rng.normal(size=(2, 4)), rng.normal(size=(4,))

    def f(x, w, b):
        z = np.exp(x @ w + b).T.reshape(2, 6)
        return z.sum(axis=0) * x[:, 0].mean() - abs(z).max() + np.sqrt(z).sum()

    check_vjp(f, [x, w, b])
    with GradientTape() as tape:
        xs = [tape.watch(v) for v in (x, w, b)]
        out = f(*xs)
    assert isinstance(out, Tensor)
    assert len(tape.records) > 10


def test_numpy_functions_dispatch_to_ops():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    functions = [lambda v: np.sum(v, axis=1), lambda v: np.concatenate([v, v], axis=0),
                 lambda v: np.maximum(v, 0.3), lambda v: np.clip(v, -0.6, 1.0),
                 lambda v: np.mean(v ** 2), lambda v: np.where(v > 0, v, -v), np.tanh,
                 np.negative, lambda v: np.stack([v, v])]
    for function in functions:
        check_vjp(function, [x])


def test_an_undifferentiable_numpy_call_raises_type_error():
    with GradientTape() as tape:
        x = tape.watch(np.array([1.0, 2.0]))
        with pytest.raises(TypeError, match="not differentiable"):
            np.spacing(x)              # (a ufunc mr.ops does not have)
        with pytest.raises(TypeError, match="not differentiable"):
            np.interp(x, x, x)         # (a function mr.ops does not have)


def test_in_place_update_of_a_traced_array_raises_type_error():
    """Writing into a recorded array (``out=``) would change a value the backward pass
    needs; ``x += 1`` instead makes a new recorded array, as on a TensorFlow tensor."""
    with GradientTape() as tape:
        x = tape.watch(np.array([1.0, 2.0]))
        y = x * 2
        with pytest.raises(TypeError, match="in-place"):
            np.add(y, 1, out=y)
        with pytest.raises(TypeError, match="in-place"):
            np.multiply(x, 3, out=x)
        y += x
        y *= x
    np.testing.assert_array_equal(tape.gradient(y, x), 6 * np.array([1.0, 2.0]))


def test_split_pieces_each_carry_their_gradient():
    x = np.arange(6.0)
    with GradientTape() as tape:
        v = tape.watch(x)
        first, second = ops.split(v, 2)
        loss = ops.add(ops.sum(first), ops.multiply(3.0, ops.sum(second)))
    np.testing.assert_array_equal(tape.gradient(loss, v), [1, 1, 1, 3, 3, 3])


def test_ties_of_max_share_the_gradient_and_maximum_gives_it_to_x1():
    with GradientTape() as tape:
        x = tape.watch(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
        loss = ops.sum(ops.max(x, axis=1))
    np.testing.assert_allclose(tape.gradient(loss, x), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    with GradientTape() as tape:
        a, b = tape.watch(np.array([1.0, 2.0])), tape.watch(np.array([1.0, 3.0]))
        loss = ops.sum(ops.maximum(a, b))
    np.testing.assert_array_equal(tape.gradient(loss, [a, b]), [[1, 0], [0, 1]])


def test_prod_gradient_is_exact_with_a_zero():
    with GradientTape() as tape:
        x = tape.watch(np.array([0.0, 2.0, 3.0]))
        loss = ops.prod(x)
    np.testing.assert_array_equal(tape.gradient(loss, x), [6.0, 0.0, 0.0])


@pytest.mark.parametrize("axis", [None, 0, -1, 1, (0, 2), [2, 0], (-3, -1, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std",
                                  "logsumexp", "any", "all", "argmax"])
def test_reductions_accept_every_kind_of_axis(name, axis, keepdims):
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    if name == "argmax":
        if isinstance(axis, tuple | list) or keepdims:
            return
        np.testing.assert_array_equal(ops.argmax(x, axis=axis), np.argmax(x, axis=axis))
        return
    ours = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    axis_ = tuple(axis) if isinstance(axis, list) else axis
    if name == "logsumexp":
        reference = np.log(np.sum(np.exp(x), axis=axis_, keepdims=keepdims))
    else:
        reference = getattr(np, name)(x, axis=axis_, keepdims=keepdims)
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


def test_stop_gradient_blocks_the_gradient():
    with GradientTape() as tape:
        x = tape.watch(np.array([1.0, -2.0]))
        loss = ops.sum(ops.multiply(x, ops.stop_gradient(x)))
    np.testing.assert_array_equal(tape.gradient(loss, x), [1.0, -2.0])


def test_norm_without_a_gradient_raises_on_a_tape():
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    assert float(ops.norm(x, ord=1)) == pytest.approx(np.linalg.norm(x, 1))
    with GradientTape() as tape:
        v = tape.watch(x)
        with pytest.raises(NotImplementedError, match="ord=1"):
            ops.norm(v, ord=1)


def test_einsum_refuses_a_diagonal():
    with pytest.raises(ValueError, match="repeated"):
        ops.einsum("ii->i", np.eye(2))


@pytest.mark.parametrize("name", sorted({**UNARY_SMOOTH, **UNARY_KINKED, **UNARY_POSITIVE,
                                         **BINARY, **REDUCTIONS}.keys() - {"cast"}))
def test_float32_in_float32_out_and_float32_gradients(name):
    """No float64 sneaks in: values and gradients keep the inputs' float32 (also with a
    Python int or float operand)."""
    function = {**UNARY_SMOOTH, **UNARY_KINKED, **UNARY_POSITIVE, **REDUCTIONS}.get(name)
    x = np.linspace(0.5, 1.5, 6, dtype="float32").reshape(2, 3)
    if function is None:
        operand = 3 if name == "power" else 2.0
        function = lambda v: BINARY[name](v, operand)  # noqa: E731
    with GradientTape() as tape:
        v = tape.watch(x)
        out = function(v)
    assert out.dtype == np.float32
    assert tape.gradient(out, v).dtype == np.float32
