"""Metrics: accuracy rules, how "accuracy" is resolved from shapes, and running means."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, batch_sizes, class_counts, integer_labels

import minired as mr
from minired.metrics import (
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    SparseCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)


def test_binary_accuracy_threshold_is_strict():
    """A prediction counts as positive only when ŷ > 0.5: exactly 0.5 is a 0."""
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.5], [0.5], [0.51], [0.49]])
    np.testing.assert_array_equal(binary_accuracy(y, p), [[0.0], [1.0], [1.0], [1.0]])
    np.testing.assert_array_equal(binary_accuracy(y[:, 0], p, threshold=0.3),
                                  [[1.0], [0.0], [1.0], [0.0]])


def test_categorical_accuracy_ties_go_to_the_first_index():
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    p = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]])
    np.testing.assert_array_equal(categorical_accuracy(y, p), [1.0, 0.0])


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=batch_sizes, c=class_counts)
def test_sparse_and_categorical_accuracy_agree(data, n, c):
    labels = data.draw(integer_labels(n, c))
    p = data.draw(arrays((n, c), 0, 1))
    expected = (np.argmax(p, axis=-1) == labels).astype(np.float32)
    np.testing.assert_array_equal(sparse_categorical_accuracy(labels, p), expected)
    np.testing.assert_array_equal(sparse_categorical_accuracy(labels[:, None], p), expected)
    np.testing.assert_array_equal(categorical_accuracy(np.eye(c)[labels], p), expected)


@pytest.mark.parametrize(("y_shape", "p_shape", "cls"), [
    ((8, 1), (8, 1), BinaryAccuracy),
    ((8,), (8, 1), BinaryAccuracy),
    ((8,), (8, 3), SparseCategoricalAccuracy),
    ((8, 1), (8, 3), SparseCategoricalAccuracy),
    ((8, 3), (8, 3), CategoricalAccuracy),
])
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
def test_accuracy_is_resolved_from_the_shapes_and_keeps_its_name(y_shape, p_shape, cls, name):
    metric = mr.metrics.get(name, np.zeros(y_shape), np.zeros(p_shape))
    assert type(metric) is cls
    assert metric.name == name


@pytest.mark.parametrize(("name", "cls"), [
    ("binary_accuracy", BinaryAccuracy), ("CategoricalAccuracy", CategoricalAccuracy),
    ("sparse_categorical_accuracy", SparseCategoricalAccuracy),
])
def test_get_by_name(name, cls):
    metric = mr.metrics.get(name)
    assert type(metric) is cls and metric._direction == "up"


def test_get_passes_metric_objects_through():
    metric = BinaryAccuracy(threshold=0.7)
    assert mr.metrics.get(metric) is metric


def test_get_rejects_other_types():
    with pytest.raises(TypeError, match=r"`metrics` entries must be names or metric objects, "
                                        r"got 3"):
        mr.metrics.get(3)


def test_mean_is_a_weighted_running_mean():
    m = Mean()
    assert m.result() == 0.0                                  # divide_no_nan, as Keras
    m.update_state(2.0, sample_weight=3)
    m.update_state(1.0, sample_weight=1)
    assert m.result() == pytest.approx((2 * 3 + 1 * 1) / 4)
    m.update_state(np.array([4.0, 6.0]))                      # unweighted: count += 2
    assert m.result() == pytest.approx((6 + 1 + 10) / 6)
    m.reset_state()
    assert m.result() == 0.0


def test_mean_accumulates_in_floatx():
    assert Mean().total.dtype == np.float32


def test_accuracy_metric_accumulates_over_batches_and_weights():
    metric = CategoricalAccuracy()
    metric.update_state(np.eye(3), np.eye(3))                 # 3 right
    metric.update_state(np.eye(3)[[0]], np.eye(3)[[1]])       # 1 wrong
    assert metric.result() == pytest.approx(3 / 4)
    weighted = CategoricalAccuracy()
    weighted.update_state(np.eye(2), np.eye(2)[[0, 0]], sample_weight=np.array([1.0, 3.0]))
    assert weighted.result() == pytest.approx(1 / 4)


def test_binary_accuracy_docstring_example():
    m = BinaryAccuracy()
    m.update_state([[1], [0]], [[0.9], [0.7]])
    assert m.result() == 0.5
