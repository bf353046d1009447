"""HashedCrossing beside Keras: the bins of crossed integers and strings (TensorFlow's
SparseCrossHashed: FarmHash fingerprints folded by FingerprintCat64), both output modes,
every input shape, its config, a saved model read by both libraries, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import minired as mr
from minired.layers.preprocessing.hashed_crossing import HASH_KEY, fingerprint_cat64

WORDS = np.array(["", "a", "abc", "hello", "sixteen bytes!!!", "ü" * 12, "x" * 40,
                  "long " * 30, "cat", "a"], dtype=object)
INTS = np.array([3, -12, 100000007, 0, 42, 7, 3, 9, -2**63, 2**63 - 1])


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


# -- a first reading ---------------------------------------------------------------------------

def test_keras_docstring_example():
    layer = mr.layers.HashedCrossing(num_bins=5)
    feat1 = np.array(["A", "B", "A", "B", "A"])
    feat2 = np.array([101, 101, 101, 102, 102])
    np.testing.assert_array_equal(layer((feat1, feat2)), [1, 4, 1, 1, 3])
    one_hot = mr.layers.HashedCrossing(num_bins=5, output_mode="one_hot")((feat1, feat2))
    np.testing.assert_array_equal(one_hot.argmax(axis=-1), [1, 4, 1, 1, 3])
    assert one_hot.dtype == np.float32


def test_fingerprint_cat64_is_not_commutative():
    a, b = np.uint64(1), np.uint64(2)
    assert fingerprint_cat64(a, b) != fingerprint_cat64(b, a)


def test_raw_hashes_equal_tensorflow():
    """With num_buckets=0, TensorFlow returns the folded hash itself (mod 2⁶³ - 1): the
    whole 64-bit chain is checked, not only its last digits."""
    tf = pytest.importorskip("tensorflow")
    from minired.layers.preprocessing.hashing import fingerprint64

    ints = INTS.astype(np.int64)
    ours = fingerprint_cat64(fingerprint_cat64(np.full(INTS.shape, HASH_KEY),
                                               ints.view(np.uint64)),
                             fingerprint64(WORDS))
    ours = (ours % np.uint64(2**63 - 1)).astype(np.int64)
    theirs = tf.sparse.to_dense(tf.sparse.cross_hashed(
        [tf.constant(ints[:, None]), tf.constant(WORDS.astype(str)[:, None])], 0)).numpy()
    np.testing.assert_array_equal(ours, theirs[:, 0])


# -- the bins beside Keras ---------------------------------------------------------------------

@pytest.mark.parametrize("columns", ["strings-ints", "ints-strings", "ints-ints",
                                     "three", "unicode-int32"])
@pytest.mark.parametrize("num_bins", [1, 5, 97, 2**40])
def test_bins_equal_keras(keras, columns, num_bins):
    rng = np.random.default_rng(0)
    small = rng.integers(-1000, 1000, WORDS.size).astype(np.int32)
    inputs = {"strings-ints": (WORDS, INTS), "ints-strings": (INTS, WORDS),
              "ints-ints": (INTS, small), "three": (WORDS, WORDS[::-1], INTS),
              "unicode-int32": (WORDS.astype(str), small)}[columns]
    ours = mr.layers.HashedCrossing(num_bins)(inputs)
    theirs = np.asarray(keras.layers.HashedCrossing(num_bins)(inputs))
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype == np.int64


@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
@pytest.mark.parametrize("shape", ["scalar", "(N,)", "(N, 1)"])
def test_shapes_and_modes_equal_keras(keras, output_mode, shape):
    words, ints = np.array(["A", "B", "C", "über"]), np.array([101, 101, -5, 7])
    if shape == "scalar":
        inputs = ("A", 101)
    elif shape == "(N,)":
        inputs = (words, ints)
    else:
        inputs = (words[:, None], ints[:, None])
    ours = mr.layers.HashedCrossing(7, output_mode=output_mode)(inputs)
    theirs = np.asarray(keras.layers.HashedCrossing(7, output_mode=output_mode)(inputs))
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_bytes_and_object_strings_hash_as_their_utf8(keras):
    text = np.array(["é", "b"])
    as_bytes = np.array(["é".encode(), b"b"], dtype=object)
    ints = np.array([1, 2])
    layer = mr.layers.HashedCrossing(11)
    np.testing.assert_array_equal(layer((as_bytes, ints)), layer((text, ints)))
    np.testing.assert_array_equal(layer((text, ints)),
                                  np.asarray(keras.layers.HashedCrossing(11)((text, ints))))


def test_symbolic_output_shape_equals_keras(keras):
    for mode, expected in (("int", (None, 1)), ("one_hot", (None, 6))):
        a, b = mr.Input((1,), dtype="string"), mr.Input((1,), dtype="int64")
        ours = mr.layers.HashedCrossing(6, output_mode=mode)([a, b])
        ka, kb = keras.Input((1,), dtype="string"), keras.Input((1,), dtype="int64")
        theirs = keras.layers.HashedCrossing(6, output_mode=mode)([ka, kb])
        assert ours.shape == tuple(theirs.shape) == expected


def test_symbolic_inputs_of_different_sizes_are_refused(keras):
    a, b = mr.Input((1,), dtype="string"), mr.Input((2,), dtype="int64")
    with pytest.raises(ValueError, match="identical shapes"):
        mr.layers.HashedCrossing(6)([a, b])
    ka, kb = keras.Input((1,), dtype="string"), keras.Input((2,), dtype="int64")
    with pytest.raises(ValueError, match="identical shapes"):
        keras.layers.HashedCrossing(6)([ka, kb])


# -- config and saving -------------------------------------------------------------------------

@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
def test_config_equals_keras(keras, output_mode):
    ours = mr.layers.HashedCrossing(9, output_mode=output_mode, name="cross")
    theirs = keras.layers.HashedCrossing(9, output_mode=output_mode, name="cross")
    assert ours.get_config() == theirs.get_config()
    again = mr.layers.HashedCrossing.from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()


def test_saved_model_is_read_by_keras_and_back(keras, tmp_path):
    """A model that crosses a string and an integer input, one-hot encodes the cross and
    feeds a Dense: saved by minired, loaded by Keras (and the other way), same outputs."""
    a = mr.Input((1,), dtype="string", name="color")
    b = mr.Input((1,), dtype="int64", name="size")
    crossed = mr.layers.HashedCrossing(8, output_mode="one_hot")([a, b])
    model = mr.Model([a, b], mr.layers.Dense(2, kernel_initializer="glorot_uniform")(crossed))
    colors = np.array([["red"], ["blue"], ["red"], ["green"]])
    sizes = np.array([[1], [2], [3], [1]])
    expected = model.predict([colors, sizes], verbose=0)
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(theirs([colors, sizes])), expected, rtol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    back = mr.saving.load_model(tmp_path / "theirs.keras")
    np.testing.assert_array_equal(back.predict([colors, sizes], verbose=0), expected)


# -- errors, as Keras raises them --------------------------------------------------------------

@pytest.mark.parametrize("inputs, match", [
    (np.array(["A", "B"]), "list or tuple"),
    ([np.array(["A", "B"])], "at least two inputs"),
    ((np.ones(2, "float32"), np.array([1, 2])), "integer or string dtype"),
    ((np.array([True, False]), np.array([1, 2])), "integer or string dtype"),
    ((np.ones((2, 2), int), np.ones((2, 2), int)), "should have shape"),
    ((np.ones((2, 1, 1), int), np.ones((2, 1, 1), int)), "should have shape"),
    ((np.array(["A", "B"]), np.array([1, 2, 3])), "equal shape"),
])
def test_bad_inputs_raise_as_keras(keras, inputs, match):
    with pytest.raises(ValueError, match=match):
        mr.layers.HashedCrossing(5)(inputs)
    with pytest.raises(ValueError, match=match):
        keras.layers.HashedCrossing(5)(inputs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="output_mode"):
        mr.layers.HashedCrossing(5, output_mode="count")
    with pytest.raises(ValueError, match="num_bins"):
        mr.layers.HashedCrossing(0)
    with pytest.raises(ValueError, match="sparse"):
        mr.layers.HashedCrossing(5, output_mode="one_hot", sparse=True)
