"""to_categorical, normalize, pad_sequences and split_dataset, value for value against
``keras.utils`` (split_dataset's tf.data datasets are read back into arrays)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minired.utils import normalize, pad_sequences, split_dataset, to_categorical
from minired.utils.dataset_utils import split_sizes


def test_to_categorical_shapes():
    assert to_categorical([1, 0]).shape == (2, 2)
    assert to_categorical([[1], [2]]).shape == (2, 3)            # (N, 1): the 1 is dropped
    assert to_categorical([[1, 2], [0, 1]]).shape == (2, 2, 3)   # any rank
    np.testing.assert_array_equal(to_categorical(3, num_classes=4), [0, 0, 0, 1])
    with pytest.raises(ValueError, match="labels must lie in"):
        to_categorical([-1, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        to_categorical([0.5])


def test_normalize():
    np.testing.assert_allclose(normalize(np.array([[3.0, 4.0], [0.0, 0.0]])),
                               [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(np.array([[3.0, 4.0], [0.0, 2.0]]), axis=0),
                               [[1.0, 4 / 20**0.5], [0.0, 2 / 20**0.5]])
    np.testing.assert_allclose(normalize(np.array([1.0, -3.0]), order=1), [0.25, -0.75])
    assert normalize(np.array([1.0, 2.0])).shape == (2,)
    assert normalize(np.ones(2, np.float32)).dtype == np.float32


def test_pad_sequences():
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3], [4]]), [[1, 2, 3], [0, 0, 4]])
    np.testing.assert_array_equal(
        pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post", truncating="post",
                      value=-1), [[1, 2], [4, -1]])
    assert pad_sequences([[[1, 2]], []], maxlen=3).shape == (2, 3, 2)
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")


def test_split_dataset():
    x, y = np.arange(10), np.arange(10) * 10
    (xl, yl), (xr, yr) = split_dataset((x, y), left_size=0.7)
    np.testing.assert_array_equal(xl, x[:7])
    np.testing.assert_array_equal(yr, y[7:])
    left, right = split_dataset(x, left_size=2, right_size=3)     # the middle 5 are dropped
    np.testing.assert_array_equal(left, [0, 1])
    np.testing.assert_array_equal(right, [7, 8, 9])
    left, right = split_dataset(x, right_size=0.25, shuffle=True, seed=4)
    order = list(range(10))
    random.Random(4).shuffle(order)
    np.testing.assert_array_equal(np.concatenate([left, right]), order)
    assert split_sizes(0.25, None, 10) == (2, 8)                  # round half to even


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({}, ValueError, "At least one of"),
    ({"left_size": 10}, ValueError, "smaller than 10"),
    ({"left_size": 1.0}, ValueError, "within the range"),
    ({"left_size": np.int64(3)}, TypeError, "Invalid `left_size` Type"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "greater than 1"),
    ({"left_size": 0.01}, ValueError, "left side dataset split will be empty"),
])
def test_split_dataset_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(np.arange(10), **kwargs)
    with pytest.raises(ValueError, match="different lengths"):
        split_dataset((np.arange(3), np.arange(4)), left_size=1)


# -- against Keras -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def utils():
    pytest.importorskip("keras")
    from comparisons.keras_env import keras
    return keras.utils


@pytest.mark.parametrize(("labels", "num_classes"), [
    ([0, 2, 1], None), ([[1], [3]], 5), ([[1, 2], [0, 1]], None), (np.array(2), 4),
    (np.arange(6).reshape(2, 3, 1), 0)])
def test_to_categorical_equals_keras(utils, labels, num_classes):
    theirs = utils.to_categorical(labels, num_classes)
    ours = to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)                   # values; dtype is floatx


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([(4, 3), (2, 3, 5), (6, 1)]),
       axis=st.sampled_from([-1, 1, -2]), order=st.sampled_from([1, 2, 3, np.inf]),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 100))
def test_normalize_equals_keras(shape, axis, order, dtype, seed):
    pytest.importorskip("keras")
    from keras import utils as keras_utils
    x = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    x[0] = 0                                                       # a zero row stays zero
    theirs = keras_utils.normalize(x, axis=axis, order=order)
    ours = normalize(x, axis=axis, order=order)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_normalize_differs_from_keras_only_where_keras_is_wrong(utils):
    x = np.array([[3.0, 4.0], [0.0, 2.0]])
    assert utils.normalize(np.array([3.0, 4.0])).shape == (1, 2)   # Keras adds an axis
    assert not np.allclose(utils.normalize(x, axis=0), normalize(x, axis=0))
    np.testing.assert_allclose(np.linalg.norm(normalize(x, axis=0), axis=0), [1, 1])


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(0, 6), min_size=1, max_size=5),
       maxlen=st.one_of(st.none(), st.integers(1, 7)),
       padding=st.sampled_from(["pre", "post"]), truncating=st.sampled_from(["pre", "post"]),
       dtype=st.sampled_from(["int32", "float32", "float64"]), value=st.sampled_from([0.0, -1.5]),
       element=st.sampled_from([(), (2,)]))
def test_pad_sequences_equals_keras(lengths, maxlen, padding, truncating, dtype, value, element):
    pytest.importorskip("keras")
    from keras import utils as keras_utils
    if max(lengths) == 0 and maxlen is None:
        maxlen = 3
    rng = np.random.default_rng(sum(lengths))
    sequences = [rng.normal(size=(n, *element)) * 10 for n in lengths]
    args = {"maxlen": maxlen, "padding": padding, "truncating": truncating, "dtype": dtype,
            "value": value}
    theirs = keras_utils.pad_sequences(sequences, **args)
    ours = pad_sequences(sequences, **args)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def to_arrays(dataset):
    """A tf.data dataset of single samples, read back as one array (or a tuple of them)."""
    samples = list(dataset.as_numpy_iterator())
    if isinstance(samples[0], tuple):
        return tuple(np.stack(parts) for parts in zip(*samples, strict=True))
    return np.stack(samples)


@pytest.mark.parametrize(("left_size", "right_size"), [
    (0.8, None), (None, 0.3), (3, None), (None, 4), (2, 5), (0.25, 0.5), (0.5, 3)])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_split_dataset_equals_keras(utils, left_size, right_size, shuffle, as_tuple):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 3, size=10)
    dataset = (x, y) if as_tuple else x
    theirs = utils.split_dataset(dataset, left_size, right_size, shuffle=shuffle, seed=11)
    ours = split_dataset(dataset, left_size, right_size, shuffle=shuffle, seed=11)
    for our_side, their_side in zip(ours, theirs, strict=True):
        their_side = to_arrays(their_side)
        if as_tuple:
            for a, b in zip(our_side, their_side, strict=True):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(our_side, their_side)


@pytest.mark.parametrize("kwargs", [
    {}, {"left_size": 10}, {"left_size": 1.0}, {"left_size": np.int64(3)},
    {"left_size": 0.6, "right_size": 0.6}, {"left_size": 0.01}, {"left_size": 0, "right_size": 0}])
def test_split_dataset_errors_equal_keras(utils, kwargs):
    with pytest.raises((ValueError, TypeError)) as theirs:
        utils.split_dataset(np.arange(10.0), **kwargs)
    with pytest.raises(theirs.type) as ours:
        split_dataset(np.arange(10.0), **kwargs)
    # The same words; Keras' messages miss a few spaces between sentences.
    assert "".join(str(ours.value).split()) == "".join(str(theirs.value).split())
