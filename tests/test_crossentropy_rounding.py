"""The cross-entropies' gradients from probabilities, bit for bit against TensorFlow's.

When a categorical or binary cross-entropy reads probabilities (``from_logits=False`` and
no softmax/sigmoid logits to read), Keras on TensorFlow differentiates its own graph:
``p / Σp``, the clip, the log, the product with the targets, the sums. These tests take
``∂ℓ/∂p`` from ``tf.GradientTape`` on that graph and demand minired's ``gradients`` to the
last bit (see ``minired.keras_numerics``, item 9).

Float64 is compared everywhere. In float32 TensorFlow's ``reciprocal`` (the gradient of the
log) is computed, in packets of 8 values, with the processor's approximate reciprocal and
one Newton step: that value depends on the processor, minired's is the exact ``1/x``. The
float32 comparisons therefore take tensors of fewer than 8 values (TensorFlow divides
those exactly), and, on larger ones, the rows whose reciprocals TensorFlow found exact.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from minired import keras_numerics
from minired.losses import BinaryCrossentropy, CategoricalCrossentropy

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

EPS = 1e-7
#: Values at the clip's edges: ε, 1 - ε, and their float32 neighbours.
EDGES = [1e-7, 1.0000001e-7, 9.999999e-8, 1e-8, 1 - 1e-7, 0.99999994, 0.99999988, 1.0]


def probabilities(rng, shape, dtype, kind: str) -> np.ndarray:
    """Class probabilities: rows summing to 1, rows that do not, or rows with values at the
    clip's edges."""
    p = rng.random(shape) ** rng.uniform(0.5, 6)
    scale = rng.uniform(0.2, 3) if kind == "unnormalised" else 1 / p.sum(axis=-1, keepdims=True)
    p = p * scale
    if kind == "edges":
        at_edge = rng.random(shape) < 0.3
        p[at_edge] = rng.choice(EDGES, at_edge.sum())
    return p.astype(dtype)


def targets(rng, shape, dtype, soft: bool) -> np.ndarray:
    if soft:
        return rng.random(shape).astype(dtype)
    return np.eye(shape[-1], dtype=dtype)[rng.integers(0, shape[-1], shape[:-1])]


def tf_gradient(keras_loss, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``∂(Σ ℓ)/∂p`` on TensorFlow: the gradient of every loss value, with upstream 1."""
    p_tensor = tf.constant(p)
    with tf.GradientTape() as tape:
        tape.watch(p_tensor)
        losses = keras_loss(tf.constant(y), p_tensor)
    return tape.gradient(losses, p_tensor).numpy()


def tf_exact_reciprocal_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` whose every ``tf.math.reciprocal`` equals ``1 / x`` exactly."""
    return np.all(tf.math.reciprocal(x).numpy() == 1 / x, axis=-1)


CCE = (keras.losses.categorical_crossentropy, CategoricalCrossentropy())
BCE = (keras.losses.binary_crossentropy, BinaryCrossentropy())
# Across the widths where TensorFlow's sums change order: one by one below 8 float32 (4
# float64) values, registers of 8 (4), four registers at once from 32 (16) on.
CLASSES = [2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 64, 70, 129]
BATCHES = [(1,), (3,), (4, 2)]
KINDS = ["normalised", "unnormalised", "edges"]


def cases(seed: int, dtype, classes=CLASSES):
    rng = np.random.default_rng(seed)
    for n_classes in classes:
        for batch in BATCHES:
            for kind in KINDS:
                for soft in (False, True):
                    shape = batch + (n_classes,)
                    yield (targets(rng, shape, dtype, soft),
                           probabilities(rng, shape, dtype, kind))


@pytest.mark.parametrize("losses", [CCE, BCE], ids=["categorical", "binary"])
def test_float64_gradient_is_tensorflow_bit_for_bit(losses):
    keras_loss, loss = losses
    compared = 0
    for y, p in cases(0, np.float64):
        theirs, ours = tf_gradient(keras_loss, y, p), loss.gradients(y, p)
        assert ours.dtype == theirs.dtype == np.float64
        np.testing.assert_array_equal(ours, theirs, err_msg=f"shape {p.shape}")
        compared += p.size
    assert compared > 10_000


SMALL_SHAPES = [(1, 2), (1, 3), (2, 3), (1, 5), (1, 7), (3, 2), (2, 1, 3)]


@pytest.mark.parametrize(("losses", "shapes"), [(CCE, SMALL_SHAPES),
                                                (BCE, SMALL_SHAPES + [(2, 2, 1), (7, 1)])],
                         ids=["categorical", "binary"])
def test_float32_gradient_of_small_tensors_is_tensorflow_bit_for_bit(losses, shapes):
    """Fewer than 8 values: TensorFlow's reciprocal is an exact division, as minired's."""
    keras_loss, loss = losses
    rng = np.random.default_rng(1)
    for shape in shapes:
        for kind in KINDS:
            for soft in (False, True):
                for _ in range(12):
                    y = targets(rng, shape, np.float32, soft)
                    p = probabilities(rng, shape, np.float32, kind)
                    theirs, ours = tf_gradient(keras_loss, y, p), loss.gradients(y, p)
                    assert ours.dtype == theirs.dtype == np.float32
                    np.testing.assert_array_equal(ours, theirs, err_msg=f"p={p!r}, y={y!r}")


def test_float32_categorical_rows_are_tensorflow_bit_for_bit_where_its_reciprocal_is_exact():
    keras_loss, loss = CCE
    rows = 0
    for y, p in cases(2, np.float32, classes=[2, 3, 4, 5, 7, 8, 9, 16, 33]):
        q = np.clip(p / keras_numerics.tensorflow_sum(p), np.float32(EPS), np.float32(1 - EPS))
        exact = tf_exact_reciprocal_rows(q)
        theirs, ours = tf_gradient(keras_loss, y, p), loss.gradients(y, p)
        np.testing.assert_array_equal(ours[exact], theirs[exact], err_msg=f"shape {p.shape}")
        rows += exact.sum()
    assert rows >= 50                       # the comparison is not empty


def test_float32_binary_elements_are_tensorflow_bit_for_bit_where_its_reciprocals_are_exact():
    keras_loss, loss = BCE
    elements = 0
    for y, p in cases(3, np.float32, classes=[2, 5, 8, 9, 33]):
        clipped = np.clip(p, np.float32(EPS), np.float32(1 - EPS))
        exact = ((tf.math.reciprocal(clipped).numpy() == 1 / clipped)
                 & (tf.math.reciprocal(1 - clipped).numpy() == 1 / (1 - clipped)))
        theirs, ours = tf_gradient(keras_loss, y, p), loss.gradients(y, p)
        np.testing.assert_array_equal(ours[exact], theirs[exact], err_msg=f"shape {p.shape}")
        elements += exact.sum()
    assert elements >= 500


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorflow_sum_is_tf_reduce_sum_bit_for_bit(dtype):
    rng = np.random.default_rng(4)
    for n in [*range(1, 70), 127, 128, 129, 300, 1000, 4096]:
        for shape in [(n,), (5, n), (2, 3, n)]:
            x = (rng.random(shape) ** 3 * rng.choice([-1, 1], shape)).astype(dtype)
            theirs = tf.reduce_sum(x, axis=-1, keepdims=True).numpy()
            np.testing.assert_array_equal(keras_numerics.tensorflow_sum(x), theirs,
                                          err_msg=f"shape {shape}")


# The classes at another axis: one by one below 16 classes, four accumulators from 16 on for
# the outputs TensorFlow computes by whole registers, across register and row boundaries.
OTHER_AXES = [((3, 5, 4), 1), ((3, 17, 4), 1), ((3, 17, 9), 1), ((2, 40, 13), 1),
              ((1, 20, 16), 1), ((20, 7), 0), ((33, 9), 0), ((2, 18, 3, 5), 1),
              ((4, 64, 2, 2), 1), ((5, 16, 1), 1), ((2, 3, 30, 8), 2), ((7, 50, 33), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorflow_sum_along_another_axis_is_tf_reduce_sum_bit_for_bit(dtype):
    rng = np.random.default_rng(6)
    for shape, axis in OTHER_AXES:
        x = (rng.random(shape) ** 3).astype(dtype)
        theirs = tf.reduce_sum(x, axis=axis, keepdims=True).numpy()
        ours = keras_numerics.tensorflow_sum(np.moveaxis(x, axis, -1), classes_at=axis)
        np.testing.assert_array_equal(np.moveaxis(ours, -1, axis), theirs,
                                      err_msg=f"shape {shape}, axis {axis}")


# (5, 16, 1) with axis=1: Keras and minired both warn about the size-1 last axis.
@pytest.mark.filterwarnings("ignore:In loss categorical_crossentropy:SyntaxWarning")
def test_float64_categorical_gradient_along_another_axis_is_tensorflow_bit_for_bit(float64):
    rng = np.random.default_rng(7)
    for shape, axis in OTHER_AXES:
        for kind in KINDS:
            y = np.moveaxis(targets(rng, np.moveaxis(np.empty(shape), axis, -1).shape,
                                    np.float64, soft=True), -1, axis)
            p = np.moveaxis(probabilities(rng, np.moveaxis(np.empty(shape), axis, -1).shape,
                                          np.float64, kind), -1, axis)
            theirs = tf_gradient(
                lambda t, o, axis=axis: keras.losses.categorical_crossentropy(t, o, axis=axis),
                y, p)
            loss = CategoricalCrossentropy(axis=axis, reduction="sum")
            ours = loss.compute(y, p)[1]       # "sum": ∂L/∂ℓ = 1 for every loss value
            np.testing.assert_array_equal(ours, theirs, err_msg=f"shape {shape}, axis {axis}")


@pytest.mark.parametrize("n_classes", [2, 9, 40])
def test_float64_gradient_is_the_derivative(float64, n_classes):
    """The reordered formulas still are ∂L/∂p: central differences of the loss agree."""
    from minired.gradcheck import check_loss

    rng = np.random.default_rng(5)
    for loss in (CategoricalCrossentropy(), BinaryCrossentropy()):
        y = targets(rng, (3, n_classes), np.float64, soft=True)
        p = probabilities(rng, (3, n_classes), np.float64, "unnormalised").clip(0.05, 0.9)
        assert check_loss(loss, y, p).relative_error < 1e-7
