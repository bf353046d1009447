"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate).

First values you can check by hand, then shapes and errors, then property-based gradient
checks (float64, every array to ``TOLERANCE``), and last the same arrays through Keras and
TensorFlow: outputs and ``δxᵢ`` from ``tf.GradientTape``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import STEP, gradient_settings, nonzero_arrays, seeds, shapes
from test_gradients import assert_gradients_match, assume_resolvable, vjp_magnitude

import minired as mr
from minired.gradcheck import check_layer
from minired.layers import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from minired.layers.merging import unbroadcast

ELEMENTWISE = [Add, Subtract, Multiply, Average, Maximum, Minimum]
ALL_LAYERS = [*ELEMENTWISE, Concatenate]


def run(layer, inputs: list[np.ndarray], grad_outputs: np.ndarray | None = None):
    """Build for the inputs' shapes, run forward, then backward (δa = 1 by default)."""
    layer.build([(None, *x.shape[1:]) for x in inputs])
    outputs = layer.forward(inputs)
    grads = layer.backward(np.ones_like(outputs) if grad_outputs is None else grad_outputs)
    return outputs, grads


def assert_arrays_equal(actual: list, expected: list) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, e)
        assert np.shape(a) == np.shape(e)


# -- values by hand -----------------------------------------------------------------------------

X1 = np.array([[1.0, 2.0, 3.0]])
X2 = np.array([[4.0, -1.0, 3.0]])
X3 = np.array([[2.0, 5.0, 0.5]])
UP = np.array([[1.0, 10.0, 100.0]])       # δa: a different power of 10 per element


def test_add_sums_the_inputs_and_passes_the_gradient_to_each():
    out, grads = run(Add(), [X1, X2, X3], UP)
    np.testing.assert_array_equal(out, [[7.0, 6.0, 6.5]])
    assert_arrays_equal(grads, [UP, UP, UP])


def test_subtract_is_x1_minus_x2_and_negates_the_second_gradient():
    out, grads = run(Subtract(), [X1, X2], UP)
    np.testing.assert_array_equal(out, [[-3.0, 3.0, 0.0]])
    assert_arrays_equal(grads, [UP, -UP])


def test_multiply_gradient_is_the_product_of_the_other_inputs():
    out, grads = run(Multiply(), [X1, X2, X3], UP)
    np.testing.assert_array_equal(out, [[8.0, -10.0, 4.5]])
    assert_arrays_equal(grads, [UP * X2 * X3, UP * X1 * X3, UP * X1 * X2])


def test_average_sums_then_divides_by_the_count():
    out, grads = run(Average(), [X1, X2, X3], UP)
    np.testing.assert_array_equal(out, (X1 + X2 + X3) / 3)
    assert_arrays_equal(grads, [UP / 3] * 3)


def test_average_rounds_as_keras_sum_then_one_division():
    """(x₁ + x₂ + x₃) / 3, not x₁/3 + x₂/3 + x₃/3 nor (x₁ + x₂ + x₃) · (1/3), in float32."""
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(1, 2000)).astype(np.float32) for _ in range(3)]
    out, _ = run(Average(), xs)
    np.testing.assert_array_equal(out, ((xs[0] + xs[1]) + xs[2]) / np.float32(3))
    assert not np.array_equal(out, (xs[0] + xs[1] + xs[2]) * np.float32(1 / 3))


def test_maximum_and_minimum_route_the_gradient_to_the_selected_input():
    out, grads = run(Maximum(), [X1, X2, X3], UP)
    np.testing.assert_array_equal(out, [[4.0, 5.0, 3.0]])
    # Element 3: x₁ = x₂ = 3, a tie: the first input gets the gradient.
    assert_arrays_equal(grads, [[[0, 0, 100.0]], [[1.0, 0, 0]], [[0, 10.0, 0]]])
    out, grads = run(Minimum(), [X1, X2, X3], UP)
    np.testing.assert_array_equal(out, [[1.0, -1.0, 0.5]])
    assert_arrays_equal(grads, [[[1.0, 0, 0]], [[0, 10.0, 0]], [[0, 0, 100.0]]])


@pytest.mark.parametrize("layer_class", [Maximum, Minimum])
def test_ties_go_to_the_first_input_holding_the_extreme(layer_class):
    """TensorFlow's rule: ``max(u, x)`` sends δ to ``u`` where ``u >= x`` (``u <= x`` for
    min), and ``u`` is the running result, so the earliest input wins every tie."""
    xs = [np.array([[1.0, 2.0, 2.0, 0.0]]), np.array([[1.0, 2.0, 3.0, 0.0]]),
          np.array([[1.0, 1.0, 3.0, 0.0]])]
    _, grads = run(layer_class(), xs, np.array([[1.0, 2.0, 3.0, 4.0]]))
    if layer_class is Maximum:       # maxima: 1 (all), 2 (x₁ x₂), 3 (x₂ x₃), 0 (all)
        expected = [[[1.0, 2.0, 0, 4.0]], [[0, 0, 3.0, 0]], [[0, 0, 0, 0]]]
    else:                            # minima: 1 (all), 1 (x₃), 2 (x₁), 0 (all)
        expected = [[[1.0, 0, 3.0, 4.0]], [[0, 0, 0, 0]], [[0, 2.0, 0, 0]]]
    assert_arrays_equal(grads, expected)


@pytest.mark.parametrize("layer_class", [Maximum, Minimum])
def test_after_a_nan_the_gradient_goes_to_the_later_inputs_as_in_tensorflow(layer_class):
    """``u >= x`` (``u <= x``) is false when either is NaN, so δ moves on to ``x``; the
    output is NaN, as ``tf.maximum``'s (measured against TensorFlow 2.21)."""
    xs = [np.array([[np.nan, 1.0, 2.0]]), np.array([[1.0, np.nan, np.nan]]),
          np.array([[0.0, 5.0, np.nan]])]
    out, grads = run(layer_class(), xs)
    assert np.all(np.isnan(out))
    assert_arrays_equal(grads, [np.zeros((1, 3)), np.zeros((1, 3)), np.ones((1, 3))])


def test_concatenate_joins_along_the_axis_and_slices_the_gradient():
    a, b = np.arange(6.0).reshape(1, 2, 3), np.arange(6.0, 9.0).reshape(1, 1, 3)
    out, grads = run(Concatenate(axis=1), [a, b], np.arange(9.0).reshape(1, 3, 3) * 10)
    np.testing.assert_array_equal(out, np.arange(9.0).reshape(1, 3, 3))
    assert_arrays_equal(grads, [a * 10, b * 10])
    out, grads = run(Concatenate(), [X1, X2[:, :1]], np.array([[1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0, 4.0]])
    assert_arrays_equal(grads, [[[1.0, 2.0, 3.0]], [[4.0]]])


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_a_single_input_comes_back_unchanged_except_for_subtract(layer_class):
    if layer_class is Subtract:
        with pytest.raises(ValueError, match=r"exactly 2 inputs"):
            run(layer_class(), [X1])
        return
    out, grads = run(layer_class(), [X1], UP)
    np.testing.assert_array_equal(out, X1)
    assert_arrays_equal(grads, [UP])


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_merge_layers_have_no_weights_and_keep_the_dtype(layer_class):
    layer = layer_class()
    xs = [X1.astype(np.float32), X2.astype(np.float32)]
    out, grads = run(layer, xs, UP.astype(np.float32))
    assert layer.weights == [] and layer.gradients == [] and layer.count_params() == 0
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert layer.built and layer.input_shape == [(None, 3), (None, 3)]


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_each_input_gradient_is_a_new_array(layer_class):
    """The model may add to a δ in place (an input used twice): no δ may alias another or
    the incoming δa."""
    up = UP.copy()
    _, grads = run(layer_class(), [X1, X2], up)
    for i, g in enumerate(grads):
        assert not np.shares_memory(g, up)
        assert not any(np.shares_memory(g, other) for other in grads[i + 1:])


# -- broadcasting (Keras' rule) -----------------------------------------------------------------

def test_unbroadcast_sums_the_stretched_and_the_inserted_axes():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (2, 1, 4)), grad.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(grad, (2, 3, 1)), grad.sum(axis=2, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(grad, (2, 4)), grad.sum(axis=1))   # as (2, 1, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (2, 1)), grad.sum(axis=(1, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(grad, (1, 3, 4)), grad.sum(axis=0, keepdims=True))
    same = unbroadcast(grad, grad.shape)
    np.testing.assert_array_equal(same, grad)
    assert not np.shares_memory(same, grad)


def test_a_lower_rank_input_gets_its_new_axes_after_the_batch_axis():
    """(N, 4) beside (N, 3, 4) acts as (N, 1, 4): NumPy alone would align N with the 3."""
    rng = np.random.default_rng(0)
    big, small = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4))
    up = rng.normal(size=(2, 3, 4))
    out, (grad_big, grad_small) = run(Multiply(), [big, small], up)
    np.testing.assert_allclose(out, big * small[:, None, :], rtol=1e-15)
    np.testing.assert_allclose(grad_big, up * small[:, None, :], rtol=1e-15)
    np.testing.assert_allclose(grad_small, np.sum(up * big, axis=1), rtol=1e-14)


@pytest.mark.parametrize(("shapes_in", "expected"), [
    ([(None, 3), (None, 3)], (None, 3)),
    ([(None, 1, 4), (None, 3, 4)], (None, 3, 4)),
    ([(None, 4), (None, 3, 1)], (None, 3, 4)),
    ([(None, 3, 4), (None,)], (None, 3, 4)),
    ([(5, 3), (None, 3)], (5, 3)),
    ([(None, None, 3), (None, 2, 3)], (None, None, 3)),
])
def test_elementwise_output_shape_follows_keras(shapes_in, expected):
    assert Add().compute_output_shape(shapes_in) == expected


@pytest.mark.parametrize(("axis", "shapes_in", "expected"), [
    (-1, [(None, 2), (None, 3)], (None, 5)),
    (1, [(None, 2, 3), (None, 4, 3), (None, 1, 3)], (None, 7, 3)),
    (-1, [(None, 2, None), (None, 2, 3)], (None, 2, None)),
    (0, [(None, 2), (None, 2)], (None, 2)),
])
def test_concatenate_output_shape_adds_the_sizes_along_the_axis(axis, shapes_in, expected):
    layer = Concatenate(axis=axis)
    layer.build(shapes_in)
    assert layer.compute_output_shape(shapes_in) == expected


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_class", ALL_LAYERS)
@pytest.mark.parametrize("bad", [(None, 3), [], "x", [(None, 3), 3]])
def test_build_needs_a_list_of_shapes(layer_class, bad):
    layer = layer_class(name="merge")
    with pytest.raises(ValueError, match=rf"{layer_class.__name__} 'merge': a merge layer should "
                                         r"be called on a list of inputs.*Received: input_shape="):
        layer.build(bad)
    assert not layer.built


@pytest.mark.parametrize("layer_class", ALL_LAYERS)
def test_forward_needs_a_list_of_arrays(layer_class):
    with pytest.raises(ValueError, match=r"should be called on a list of inputs, e\.g\. \[x1, x2\]"
                                         r"\. Received: an array of shape \(2, 3\)"):
        layer_class().forward(np.zeros((2, 3)))


@pytest.mark.parametrize("layer_class", ELEMENTWISE)
def test_shapes_that_do_not_broadcast_are_refused(layer_class):
    with pytest.raises(ValueError, match=r"inputs have incompatible shapes\. Received shapes "
                                         r"\(3,\) and \(4,\) \(batch axis left out\)"):
        layer_class(name="m").build([(None, 3), (None, 4)])
    with pytest.raises(ValueError, match=r"incompatible shapes\. Received shapes \(2, 3\) and "
                                         r"\(4,\)"):
        layer_class().build([(None, 2, 3), (None, 4)])       # right-aligned: 3 against 4


@pytest.mark.parametrize("layer_class", ELEMENTWISE)
def test_different_batch_sizes_are_refused(layer_class):
    with pytest.raises(ValueError, match=r"cannot merge tensors with different batch sizes\. "
                                         r"Received tensors with shapes \[\(2, 3\), \(5, 3\)\]"):
        layer_class().build([(2, 3), (5, 3)])


def test_subtract_needs_exactly_two_inputs():
    layer = Subtract(name="diff")
    with pytest.raises(ValueError, match=r"Subtract 'diff': a `Subtract` layer should be called "
                                         r"on exactly 2 inputs\. Received: input_shape="):
        layer.build([(None, 2)] * 3)
    assert not layer.built
    with pytest.raises(ValueError, match=r"exactly 2 inputs\. Received: 3 inputs"):
        Subtract().forward([X1, X2, X3])


@pytest.mark.parametrize("shapes_in", [
    [(None, 2, 3), (None, 3, 3)],          # another axis differs
    [(None, 2), (None, 2, 1)],             # ranks differ
])
def test_concatenate_needs_matching_shapes_except_along_the_axis(shapes_in):
    with pytest.raises(ValueError, match=r"a `Concatenate` layer requires inputs with matching "
                                         r"shapes except for the concatenation axis \(-1\)"):
        Concatenate().build(shapes_in)
    Concatenate(axis=1).build([(None, 2, 3), (None, 3, 3)])   # along axis 1 they fit
    Concatenate().build([(None, None, 3), (None, 2, 4)])       # None matches any size


def test_concatenate_axis_must_exist():
    with pytest.raises(ValueError, match=r"`axis` must lie in \[-2, 2\) for inputs of rank 2, "
                                         r"got axis=2"):
        Concatenate(axis=2).build([(None, 2), (None, 3)])


# -- Keras' lowercase functions -------------------------------------------------------------------

FUNCTIONS = [(mr.layers.add, Add), (mr.layers.subtract, Subtract),
             (mr.layers.multiply, Multiply), (mr.layers.average, Average),
             (mr.layers.maximum, Maximum), (mr.layers.minimum, Minimum),
             (mr.layers.concatenate, Concatenate)]


@pytest.mark.parametrize(("function", "layer_class"), FUNCTIONS)
def test_each_function_calls_a_new_layer_on_the_inputs(monkeypatch, function, layer_class):
    calls = []
    monkeypatch.setattr(layer_class, "__call__",
                        lambda self, inputs, training=False: calls.append((self, inputs)))
    inputs = [X1, X2]
    function(inputs, name="merged")
    (layer, received), = calls
    assert type(layer) is layer_class and layer.name == "merged" and received is inputs


def test_concatenate_function_passes_the_axis(monkeypatch):
    calls = []
    monkeypatch.setattr(Concatenate, "__call__",
                        lambda self, inputs, training=False: calls.append(self.axis))
    mr.layers.concatenate([X1, X2], axis=1)
    assert calls == [1]


def _eager_lists_work() -> bool:
    """Whether ``layer([x1, x2])`` runs a merge layer (it needs Layer.__call__ on lists)."""
    try:
        return Add()([X1, X2]).shape == X1.shape
    except (ValueError, TypeError):
        return False


@pytest.mark.skipif(not _eager_lists_work(), reason="Layer.__call__ does not take lists yet")
@pytest.mark.parametrize(("function", "layer_class"), FUNCTIONS)
def test_eager_calls_on_lists_of_arrays(float64, function, layer_class):
    inputs = [X1, X2]
    expected = layer_class().forward(inputs)
    np.testing.assert_array_equal(layer_class()(inputs), expected)
    np.testing.assert_array_equal(function(inputs), expected)


# -- gradient checks ------------------------------------------------------------------------------

@st.composite
def broadcastable_shapes(draw, count: int) -> list[tuple]:
    """``count`` shapes that broadcast by Keras' rule: a common batch size; each shape drops
    some leading non-batch axes of a full shape and may have 1 in place of any other size."""
    full = draw(shapes(min_dims=2, max_dims=4, max_side=3))
    result = []
    for _ in range(count):
        dropped = draw(st.integers(0, len(full) - 2))
        rest = [size if draw(st.booleans()) else 1 for size in full[1 + dropped:]]
        result.append((full[0], *rest))
    return result


@st.composite
def distinct_inputs(draw, input_shapes: list[tuple]) -> list[np.ndarray]:
    """Arrays whose elements are all different, at least 2e-3 apart (no input ties with
    another within 200 finite-difference steps): values k/500 for distinct integers k."""
    sizes = [int(np.prod(shape)) for shape in input_shapes]
    values = draw(hnp.arrays(np.int64, sum(sizes), elements=st.integers(-1000, 1000),
                             unique=True)) / 500.0
    pieces = np.split(values, np.cumsum(sizes)[:-1])
    return [piece.reshape(shape) for piece, shape in zip(pieces, input_shapes, strict=True)]


@pytest.mark.parametrize("layer_class", ELEMENTWISE)
@gradient_settings
@given(data=st.data(), seed=seeds)
def test_elementwise_backward_matches_numerical_gradient(float64, layer_class, data, seed):
    """Every input's δ, with 1-4 inputs (exactly 2 for Subtract) of broadcasting shapes.

    Multiply draws ``|x| >= 0.5``: its δ is a product of the other inputs, which must stay
    above the resolution of the finite difference. Maximum and Minimum draw inputs whose
    values never tie (ties are tested against TensorFlow below).
    """
    count = 2 if layer_class is Subtract else data.draw(st.integers(1, 4))
    input_shapes = data.draw(broadcastable_shapes(count))
    if layer_class in (Maximum, Minimum):
        inputs = data.draw(distinct_inputs(input_shapes))
    else:
        low = 0.5 if layer_class is Multiply else 0.05
        inputs = [data.draw(nonzero_arrays(shape, low, 2.0)) for shape in input_shapes]
    layer = layer_class()
    results = check_layer(layer, inputs, seed=seed, h=STEP)
    assert [r.name for r in results] == [f"{layer.name}/inputs[{i}]" for i in range(count)]
    assume_resolvable(results, vjp_magnitude(layer.forward(inputs), seed))
    assert_gradients_match(results)


@gradient_settings
@given(data=st.data(), seed=seeds)
def test_concatenate_backward_matches_numerical_gradient(float64, data, seed):
    shape = data.draw(shapes(min_dims=2, max_dims=4, max_side=3))
    axis = data.draw(st.integers(-len(shape) + 1, len(shape) - 1).filter(lambda a: a != 0))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    input_shapes = [shape[:axis % len(shape)] + (size,) + shape[axis % len(shape) + 1:]
                    for size in sizes]
    inputs = [data.draw(nonzero_arrays(s, 0.05, 2.0)) for s in input_shapes]
    results = check_layer(Concatenate(axis=axis), inputs, seed=seed, h=STEP)
    assert len(results) == len(inputs)
    assert_gradients_match(results)


# -- against Keras and TensorFlow ---------------------------------------------------------------

#: (name, layer class, kwargs, input shapes, integer values): integer values from {-1, 0, 1}
#: make Maximum and Minimum meet ties everywhere.
KERAS_CASES = [
    ("add", Add, {}, [(4, 3), (4, 3), (4, 3)], False),
    ("add_broadcast", Add, {}, [(4, 3, 2), (4, 2), (4, 1, 2)], False),
    ("subtract", Subtract, {}, [(4, 3), (4, 3)], False),
    ("subtract_broadcast", Subtract, {}, [(4, 3), (4, 1)], False),
    ("multiply", Multiply, {}, [(4, 3), (4, 3), (4, 3), (4, 3)], False),
    ("multiply_broadcast", Multiply, {}, [(4, 2, 3), (4, 3), (4, 2, 1)], False),
    ("average", Average, {}, [(4, 5), (4, 5), (4, 5)], False),
    ("average_broadcast", Average, {}, [(4, 2, 3), (4, 1, 3), (4, 3)], False),
    ("maximum", Maximum, {}, [(4, 3), (4, 3), (4, 3)], False),
    ("maximum_ties", Maximum, {}, [(6, 5), (6, 5), (6, 5)], True),
    ("maximum_ties_broadcast", Maximum, {}, [(6, 2, 5), (6, 5), (6, 2, 1)], True),
    ("minimum", Minimum, {}, [(4, 3), (4, 3)], False),
    ("minimum_ties", Minimum, {}, [(6, 5), (6, 5), (6, 5)], True),
    ("minimum_ties_broadcast", Minimum, {}, [(6, 2, 5), (6, 5), (6, 2, 1)], True),
    ("concatenate", Concatenate, {}, [(4, 2), (4, 3), (4, 1)], False),
    ("concatenate_axis1", Concatenate, {"axis": 1}, [(4, 2, 3), (4, 1, 3)], False),
]
#: Largest relative difference per array, ``max|ours - keras| / max|keras|`` (every case
#: measured 0, bit-identical, in both precisions with TensorFlow 2.21).
KERAS_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}


def relative_difference(ours: np.ndarray, theirs: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-30)
    return float(np.max(np.abs(np.asarray(ours, np.float64) - theirs), initial=0.0) / scale)


def merge_against_keras(name: str, dtype: str) -> dict[str, float]:
    """Run one case of ``KERAS_CASES`` in both libraries; the relative difference of the
    output and of each ``δxᵢ``."""
    from comparisons.keras_env import keras, precision, tf

    _, layer_class, kwargs, input_shapes, ties = next(c for c in KERAS_CASES if c[0] == name)
    rng = np.random.default_rng(sum(map(ord, name)))
    with precision(dtype):
        if ties:
            inputs = [rng.integers(-1, 2, size=s).astype(dtype) for s in input_shapes]
        else:
            inputs = [rng.normal(size=s).astype(dtype) for s in input_shapes]
        layer = layer_class(**kwargs)
        layer.build([(None, *x.shape[1:]) for x in inputs])
        outputs = layer.forward(inputs)
        upstream = rng.normal(size=outputs.shape).astype(dtype)
        grads = layer.backward(upstream)

        tensors = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            keras_outputs = getattr(keras.layers, layer_class.__name__)(**kwargs)(tensors)
            total = tf.reduce_sum(keras_outputs * upstream)
        keras_grads = tape.gradient(total, tensors)
    assert str(keras_outputs.dtype.name) == dtype and outputs.dtype == dtype
    differences = {"outputs": relative_difference(outputs, keras_outputs.numpy())}
    for i, (g, kg) in enumerate(zip(grads, keras_grads, strict=True)):
        assert g.shape == tuple(kg.shape) and g.dtype == dtype
        differences[f"δx{i + 1}"] = relative_difference(g, kg.numpy())
    return differences


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", [case[0] for case in KERAS_CASES])
def test_merge_layers_match_keras(name, dtype):
    pytest.importorskip("keras")
    differences = merge_against_keras(name, dtype)
    worst = max(differences, key=differences.get)
    assert differences[worst] <= KERAS_TOLERANCE[dtype], (
        f"{name} ({dtype}): {worst} differs by {differences[worst]:.2e}")
