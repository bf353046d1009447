"""TextVectorization, StringLookup, IntegerLookup, CategoryEncoding, Discretization, Resizing
and CenterCrop beside Keras: vocabularies learned by adapt, outputs in every output mode,
configs, saved files (both ways), gradients of the image layers, and errors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import minired as mr
from minired.gradcheck import check_layer

SENTENCES = ["The cat sat on the mat.", "The DOG sat; the cat ran!", "A dog? A cat, a mat...",
             "Don't stop: it's the end", "ÉCOLE über café-au-lait", "the  end\tof\nit"]
QUERIES = ["the cat ate a fish!", "Dog-days: the END", "", "über École mat"]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


def as_numpy(value) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind in "OS":
        return np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v,
                            otypes=[str])(value)
    return value


def tf_constant(value):
    import tensorflow as tf

    return tf.constant(value)


def plain(vocabulary: list) -> list:
    return [v.item() if hasattr(v, "item") else v for v in vocabulary]


def json_of(config: dict) -> str:
    return json.dumps(config, sort_keys=True, default=str)


# -- a first reading: what the layers do -------------------------------------------------------

def test_text_vectorization_reads_like_keras_tutorials():
    layer = mr.layers.TextVectorization(output_sequence_length=5)
    layer.adapt(["The cat sat.", "The dog sat!", "A cat"])
    # ties (count 2: the, sat, cat) are broken by the larger token first, as Keras
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "sat", "cat", "dog", "a"]
    np.testing.assert_array_equal(layer(["The CAT flew."]), [[2, 4, 1, 0, 0]])


def test_lowercasing_is_ascii_only_and_punctuation_is_string_punctuation():
    layer = mr.layers.TextVectorization(vocabulary=["école", "École", "dont", "a"])
    # tf.strings.lower leaves "É" as it is; "'" and "-" are punctuation, "é" is not
    np.testing.assert_array_equal(layer(["École DON'T a-a école"]), [[3, 4, 1, 2]])


# -- TextVectorization against Keras -----------------------------------------------------------

TV_SETTINGS = [
    {},
    {"max_tokens": 8},
    {"standardize": "lower"},
    {"standardize": "strip_punctuation"},
    {"standardize": None},
    {"split": "character", "max_tokens": 12},
    {"ngrams": 2},
    {"ngrams": (1, 3), "max_tokens": 15},
    {"output_sequence_length": 4},
    {"output_sequence_length": 9},
    {"output_mode": "multi_hot"},
    {"output_mode": "count", "ngrams": 2},
    {"output_mode": "tf_idf"},
    {"output_mode": "tf_idf", "max_tokens": 6, "pad_to_max_tokens": True},
    {"output_mode": "count", "max_tokens": 20, "pad_to_max_tokens": True},
]


@pytest.mark.parametrize("settings", TV_SETTINGS, ids=lambda s: json_of(s))
def test_text_vectorization_adapt_and_outputs_equal_keras(keras, settings):
    theirs = keras.layers.TextVectorization(**settings)
    theirs.adapt(SENTENCES)
    ours = mr.layers.TextVectorization(**settings)
    ours.adapt(SENTENCES)
    assert ours.get_vocabulary() == plain(theirs.get_vocabulary())
    expected = as_numpy(theirs(np.array(QUERIES)))
    got = ours(np.array(QUERIES))
    assert got.shape == expected.shape
    if settings.get("output_mode") == "tf_idf":
        np.testing.assert_allclose(got, expected, rtol=1e-6)   # float32 log: 1 ulp apart
        assert got.dtype == expected.dtype
    else:
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
    assert json_of(ours.get_config() | {"name": ""}) == json_of(
        theirs.get_config() | {"name": ""})


def test_text_vectorization_given_vocabulary_and_idf_equal_keras(keras):
    vocabulary, idf = ["the", "cat", "sat", "dog"], [0.5, 1.0, 1.5, 2.0]
    for mode, extra in (("int", {}), ("multi_hot", {}), ("tf_idf", {"idf_weights": idf})):
        theirs = keras.layers.TextVectorization(output_mode=mode, vocabulary=vocabulary,
                                                **extra)
        ours = mr.layers.TextVectorization(output_mode=mode, vocabulary=vocabulary, **extra)
        np.testing.assert_allclose(ours(QUERIES), as_numpy(theirs(QUERIES)), rtol=1e-7)
        assert json_of(ours.get_config() | {"name": ""}) == json_of(
            theirs.get_config() | {"name": ""})


def test_text_vectorization_callables_receive_numpy_strings():
    layer = mr.layers.TextVectorization(standardize=lambda t: np.char.upper(t),
                                        split=lambda t: [s.split(",") for s in t])
    layer.adapt(["a,b", "b,c", "b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    np.testing.assert_array_equal(layer(["c,a,z", "b"]), [[3, 4, 1], [2, 0, 0]])


def test_text_vectorization_takes_n_by_1_arrays_and_batches(keras):
    ours = mr.layers.TextVectorization()
    ours.adapt(iter([np.array(SENTENCES[:3]), np.array(SENTENCES[3:])]))
    theirs = keras.layers.TextVectorization()
    theirs.adapt(SENTENCES)
    assert ours.get_vocabulary() == plain(theirs.get_vocabulary())
    column = np.array(QUERIES)[:, None]
    np.testing.assert_array_equal(ours(column), as_numpy(theirs(column)))


# -- StringLookup and IntegerLookup against Keras ----------------------------------------------

TOKENS = np.array([["b", "a", "c", "a"], ["c", "d", "b", "a"], ["e", "", "b", "a"]])
QUERY_TOKENS = np.array([["a", "z", "", "e"], ["d", "d", "b", "q"]])

SL_SETTINGS = [
    {},
    {"max_tokens": 4},
    {"mask_token": ""},
    {"mask_token": "", "output_mode": "multi_hot"},
    {"output_mode": "one_hot"},
    {"output_mode": "count"},
    {"output_mode": "count", "max_tokens": 9, "pad_to_max_tokens": True},
    {"output_mode": "tf_idf"},
    {"mask_token": "", "output_mode": "tf_idf"},
    {"num_oov_indices": 0, "mask_token": ""},
    {"num_oov_indices": 3},
    {"num_oov_indices": 2, "mask_token": "", "output_mode": "count"},
]


@pytest.mark.parametrize("settings", SL_SETTINGS, ids=lambda s: json_of(s))
def test_string_lookup_adapt_and_outputs_equal_keras(keras, settings):
    theirs = keras.layers.StringLookup(**settings)
    theirs.adapt(TOKENS)
    ours = mr.layers.StringLookup(**settings)
    ours.adapt(TOKENS)
    assert ours.get_vocabulary() == plain(theirs.get_vocabulary())
    assert ours.vocabulary_size() == theirs.vocabulary_size()
    queries = QUERY_TOKENS if settings.get("num_oov_indices") != 0 else TOKENS
    if settings.get("output_mode") == "one_hot":
        queries = queries[:, :1]
    expected = as_numpy(theirs(queries))
    got = ours(queries)
    np.testing.assert_allclose(got, expected, rtol=1e-6)     # tf_idf: float32 log
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert json_of(ours.get_config() | {"name": ""}) == json_of(
        theirs.get_config() | {"name": ""})


def test_string_lookup_invert_and_set_vocabulary_equal_keras(keras):
    vocabulary = ["", "[UNK]", "x", "y", "z"]   # with the special tokens first: recognised
    ours = mr.layers.StringLookup(vocabulary=vocabulary, invert=True, mask_token="")
    theirs = keras.layers.StringLookup(vocabulary=vocabulary, invert=True, mask_token="")
    indices = np.array([[0, 1, 2, 3, 4, 9]])
    np.testing.assert_array_equal(ours(indices), as_numpy(theirs(indices)))
    forward = mr.layers.StringLookup()
    forward.set_vocabulary(["[UNK]", "x", "y"])
    keras_forward = keras.layers.StringLookup()
    keras_forward.set_vocabulary(["[UNK]", "x", "y"])
    assert forward.get_vocabulary() == plain(keras_forward.get_vocabulary())
    np.testing.assert_array_equal(forward(["y", "w"]), as_numpy(keras_forward(["y", "w"])))


IL_SETTINGS = [
    {},
    {"mask_token": 0},
    {"num_oov_indices": 3},
    {"max_tokens": 4, "output_mode": "multi_hot"},
    {"output_mode": "count", "mask_token": 0},
    {"output_mode": "tf_idf"},
    {"num_oov_indices": 4, "oov_method": "farmhash"},
]


@pytest.mark.parametrize("settings", IL_SETTINGS, ids=lambda s: json_of(s))
def test_integer_lookup_adapt_and_outputs_equal_keras(keras, settings):
    data = np.array([[12, 1138, 42, 0], [42, 1000, 36, 42], [7, 12, 36, -5]])
    queries = np.array([[12, 5, 0, 42], [-7, 36, 1000, 99]])
    theirs = keras.layers.IntegerLookup(**settings)
    theirs.adapt(data)
    ours = mr.layers.IntegerLookup(**settings)
    ours.adapt(data)
    assert ours.get_vocabulary() == plain(theirs.get_vocabulary())
    expected = as_numpy(theirs(queries))
    got = ours(queries)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.dtype == expected.dtype
    assert json_of(ours.get_config() | {"name": ""}) == json_of(
        theirs.get_config() | {"name": ""})


def test_integer_lookup_invert_equal_keras(keras):
    ours = mr.layers.IntegerLookup(vocabulary=[7, 3, 9], invert=True, mask_token=0)
    theirs = keras.layers.IntegerLookup(vocabulary=[7, 3, 9], invert=True, mask_token=0)
    indices = np.array([[0, 1, 2, 3, 4, 8]])
    np.testing.assert_array_equal(ours(indices), as_numpy(theirs(indices)))


# -- Hashing: TensorFlow's FarmHash fingerprint -----------------------------------------------

def test_fingerprint64_equals_tensorflow_for_every_length():
    tf = pytest.importorskip("tensorflow")
    from minired.layers.preprocessing.hashing import fingerprint64

    rng = np.random.default_rng(0)
    # every length class of FarmHash: 0, 1-3, 4-7, 8-16, 17-32, 33-64 and the 64-byte loop
    words = ["".join(chr(c) for c in rng.integers(32, 700, n)) for n in range(0, 140)]
    words += ["a" * n for n in (63, 64, 65, 128, 129, 200)]
    theirs = tf.fingerprint(tf.constant(words), method="farmhash64").numpy()
    np.testing.assert_array_equal(fingerprint64(np.array(words)),
                                  theirs.view("<u8").reshape(-1))


@pytest.mark.parametrize("settings", [{}, {"mask_value": "cat"}, {"output_mode": "count"},
                                      {"output_mode": "one_hot"},
                                      {"output_mode": "multi_hot", "mask_value": ""}])
def test_hashing_strings_equal_keras(keras, settings):
    x = np.array([["cat", "dog", ""], ["über", "cat", "a much longer token than the others"]],
                 dtype=object)
    if settings.get("output_mode") == "one_hot":
        x = x[:, :1]
    theirs = keras.layers.Hashing(7, **settings)
    ours = mr.layers.Hashing(7, **settings)
    expected = as_numpy(theirs(x))
    np.testing.assert_array_equal(ours(x), expected)
    assert ours(x).dtype == expected.dtype
    assert json_of(ours.get_config() | {"name": ""}) == json_of(
        theirs.get_config() | {"name": ""})


def test_hashing_numbers_equal_keras(keras):
    x = np.array([[3, -12, 100000007], [0, 42, 3]])
    for settings in ({}, {"mask_value": 0}):
        np.testing.assert_array_equal(mr.layers.Hashing(5, **settings)(x),
                                      as_numpy(keras.layers.Hashing(5, **settings)(x)))
    floats = np.array([[1.7, -2.2]], dtype="float32")      # cast to int64 first, as Keras
    np.testing.assert_array_equal(mr.layers.Hashing(9)(floats),
                                  as_numpy(keras.layers.Hashing(9)(floats)))


# -- CategoryEncoding and Discretization -------------------------------------------------------

@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_equals_keras(keras, mode):
    for x in (np.array([[0, 3, 3], [2, 1, 0]]), np.array([[1], [3]]), np.array([2, 0, 2])):
        theirs = keras.layers.CategoryEncoding(4, output_mode=mode)
        ours = mr.layers.CategoryEncoding(4, output_mode=mode)
        expected = as_numpy(theirs(x))
        np.testing.assert_array_equal(ours(x), expected)
        assert ours(x).dtype == expected.dtype
        assert ours.compute_output_shape((None, *x.shape[1:])) == tuple(
            theirs.compute_output_shape((None, *x.shape[1:])))
        assert json_of(ours.get_config() | {"name": ""}) == json_of(
            theirs.get_config() | {"name": ""})


@pytest.mark.parametrize("num_bins, epsilon", [(4, 0.01), (5, 0.1), (3, 0.001)])
def test_discretization_adapt_equals_keras(keras, num_bins, epsilon):
    data = np.random.default_rng(num_bins).normal(size=(600, 1))
    batches = [data[:250], data[250:]]
    for given in (data, batches):
        theirs = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
        theirs.adapt(given)
        ours = mr.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
        ours.adapt(given)
        assert ours.bin_boundaries == theirs.bin_boundaries
        assert ours.get_config() | {"name": ""} == theirs.get_config() | {"name": ""}


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_outputs_equal_keras(keras, mode):
    x = np.array([[-1.5, 0.0, 0.5, 2.0], [3.0, 1.0, 0.999, -0.1]], dtype="float32")
    theirs = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
    ours = mr.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
    expected = as_numpy(theirs(x))
    np.testing.assert_array_equal(ours(x), expected)
    assert ours(x).dtype == expected.dtype


# -- Resizing and CenterCrop -------------------------------------------------------------------

def pixels(shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)


RESIZES = [((4, 4), (8, 8), {}), ((8, 6), (4, 3), {}), ((5, 7), (3, 4), {}),
           ((5, 7), (9, 2), {"interpolation": "nearest"}),
           ((6, 4), (3, 3), {"crop_to_aspect_ratio": True}),
           ((6, 4), (4, 4), {"pad_to_aspect_ratio": True, "fill_value": 7.0}),
           ((4, 6), (4, 4), {"pad_to_aspect_ratio": True})]


@pytest.mark.parametrize("size, target, settings", RESIZES)
def test_resizing_values_and_gradients_equal_tensorflow(keras, size, target, settings):
    import tensorflow as tf

    x = pixels((2, *size, 3))
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = keras.layers.Resizing(*target, **settings)(tensor)
        upstream = (np.random.default_rng(1).integers(-8, 9, out.shape) / 4).astype("float32")
        total = tf.reduce_sum(out * upstream)
    layer = mr.layers.Resizing(*target, **settings)
    # TensorFlow interpolates in float32, as minired does in float32: 1 ulp of 255
    np.testing.assert_allclose(layer(x), np.asarray(out), rtol=0, atol=1e-4)
    np.testing.assert_allclose(layer.backward(upstream), np.asarray(tape.gradient(total, tensor)),
                               rtol=0, atol=1e-5)
    assert json_of(layer.get_config() | {"name": ""}) == json_of(
        keras.layers.Resizing(*target, **settings).get_config() | {"name": ""})


@pytest.mark.parametrize("size, target", [((6, 6), (4, 2)), ((5, 8), (2, 3)), ((3, 3), (4, 4)),
                                          ((4, 8), (6, 3))])
def test_center_crop_values_and_gradients_equal_tensorflow(keras, size, target):
    import tensorflow as tf

    x = pixels((2, *size, 2), seed=3)
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        out = keras.layers.CenterCrop(*target)(tensor)
        upstream = (np.random.default_rng(2).integers(-8, 9, out.shape) / 4).astype("float32")
        total = tf.reduce_sum(out * upstream)
    layer = mr.layers.CenterCrop(*target)
    # a crop larger than the image resizes, in float32 as TensorFlow: a few ulp of 255
    np.testing.assert_allclose(layer(x), np.asarray(out), rtol=0, atol=1e-4)
    np.testing.assert_allclose(layer.backward(upstream), np.asarray(tape.gradient(total, tensor)),
                               rtol=0, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: mr.layers.Resizing(5, 3),
    lambda: mr.layers.Resizing(3, 7, interpolation="nearest"),
    lambda: mr.layers.Resizing(3, 3, crop_to_aspect_ratio=True),
    lambda: mr.layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5),
    lambda: mr.layers.CenterCrop(2, 3),
    lambda: mr.layers.CenterCrop(6, 5),
])
def test_image_layers_gradients_match_finite_differences(float64, make):
    x = np.random.default_rng(4).normal(size=(2, 4, 6, 2))
    results = check_layer(make(), x)
    assert max(r.relative_error for r in results) < 1e-7


def test_resize_backward_is_the_adjoint(float64):
    """⟨R x, δa⟩ = ⟨x, Rᵀ δa⟩ for the bilinear resize (the definition of the adjoint)."""
    layer = mr.layers.Resizing(7, 3)
    x = np.random.default_rng(5).normal(size=(1, 4, 5, 2))
    upstream = np.random.default_rng(6).normal(size=(1, 7, 3, 2))
    assert np.isclose(np.sum(layer(x) * upstream), np.sum(x * layer.backward(upstream)),
                      rtol=1e-12)


# -- in a model: strings through predict, fit and .keras files ---------------------------------

def text_model(module, vectorizer):
    inputs = module.Input(shape=(1,), dtype="string")
    hidden = module.layers.Dense(3, activation="relu")(vectorizer(inputs))
    return module.Model(inputs, module.layers.Dense(1)(hidden))


def test_strings_flow_through_fit_and_refuse_float_layers():
    mr.utils.set_random_seed(0)
    vectorizer = mr.layers.TextVectorization(output_mode="multi_hot")
    vectorizer.adapt(SENTENCES)
    model = text_model(mr, vectorizer)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.array(SENTENCES), np.arange(6.0), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(np.array(QUERIES), verbose=0).shape == (4, 1)
    with pytest.raises(TypeError, match="array of strings.*TextVectorization"):
        mr.layers.Dense(2)(np.array([["a"]]))
    with pytest.raises(TypeError, match="array of strings for the model's string input"):
        model.predict(np.ones((2, 1)), verbose=0)


def test_sequential_text_classifier_trains_from_strings():
    mr.utils.set_random_seed(0)
    vectorizer = mr.layers.TextVectorization(max_tokens=12, output_sequence_length=5)
    vectorizer.adapt(SENTENCES)
    model = mr.Sequential([mr.Input(shape=(1,), dtype="string"), vectorizer,
                           mr.layers.Embedding(12, 3), mr.layers.GlobalAveragePooling1D(),
                           mr.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()[0].copy()
    model.fit(np.array(SENTENCES)[:, None], np.arange(6) % 2, epochs=1, batch_size=3,
              verbose=0)
    assert model.output_shape == (None, 1)
    assert not np.array_equal(model.get_weights()[0], before)     # the embedding learned


@pytest.mark.parametrize("mode", ["int", "tf_idf"])
def test_saved_files_cross_load_with_keras(keras, tmp_path, mode):
    mr.utils.set_random_seed(1)
    settings = {"output_sequence_length": 6} if mode == "int" else {"output_mode": "tf_idf"}
    vectorizer = mr.layers.TextVectorization(**settings)
    vectorizer.adapt(SENTENCES)
    inputs = mr.Input(shape=(1,), dtype="string")
    vectors = vectorizer(inputs)
    if mode == "int":
        vectors = mr.layers.Flatten()(mr.layers.Embedding(20, 2)(vectors))
    model = mr.Model(inputs, mr.layers.Dense(1)(vectors))
    model.save(tmp_path / "ours.keras")
    with zipfile.ZipFile(tmp_path / "ours.keras") as zf:
        vocabulary = zf.read("assets/layers/text_vectorization/vocabulary.txt").decode()
        assert vocabulary.split("\n") == vectorizer.get_vocabulary()
        assert "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt" in zf.namelist()
    queries = np.array(QUERIES, dtype=object)     # Keras' predict refuses NumPy's str dtype
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    expected = model.predict(queries, verbose=0)
    # float32 sums in another order: judged relative to the largest output, as comparisons/
    np.testing.assert_allclose(theirs.predict(queries, verbose=0), expected, rtol=0,
                               atol=1e-6 * np.abs(expected).max())
    theirs.save(tmp_path / "theirs.keras")
    back = mr.saving.load_model(tmp_path / "theirs.keras")
    assert back.layers[1].get_vocabulary() == vectorizer.get_vocabulary()
    np.testing.assert_allclose(back.predict(queries, verbose=0),
                               model.predict(queries, verbose=0), rtol=1e-6)


def test_hashing_and_category_layers_cross_load_with_keras(keras, tmp_path):
    words, numbers = mr.Input(shape=(3,), dtype="string"), mr.Input(shape=(2,))
    discretize = mr.layers.Discretization(num_bins=3)
    discretize.adapt(np.random.default_rng(0).normal(size=(50, 2)))
    outputs = [mr.layers.Hashing(6, mask_value="")(words),
               mr.layers.CategoryEncoding(3, output_mode="count")(discretize(numbers))]
    model = mr.Model([words, numbers], outputs)
    model.save(tmp_path / "ours.keras")
    x = [np.array([["a", "", "b"], ["c", "a", "d"]], dtype=object),
         np.array([[-1.0, 0.1], [2.0, 0.0]], dtype="float32")]
    expected = model.predict(x, verbose=0)
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    back = mr.saving.load_model(tmp_path / "ours.keras")
    # Keras' predict refuses a list holding a string array: its model is called directly
    for got in (theirs([tf_constant(x[0]), tf_constant(x[1])]), back.predict(x, verbose=0)):
        for ours, other in zip(expected, got, strict=True):
            np.testing.assert_array_equal(ours, np.asarray(other))


def test_string_and_integer_lookup_round_trip(tmp_path):
    lookup = mr.layers.StringLookup(output_mode="count")
    # no "" token: as in Keras, a last token "" would be lost from vocabulary.txt
    lookup.adapt(np.where(TOKENS == "", "f", TOKENS))
    ids = mr.layers.IntegerLookup(output_mode="multi_hot")
    ids.adapt(np.array([[3, 3, 8], [1, 8, 8]]))
    words, numbers = mr.Input(shape=(4,), dtype="string"), mr.Input(shape=(3,), dtype="int64")
    model = mr.Model([words, numbers], [lookup(words), ids(numbers)])
    model.save(tmp_path / "m.keras")
    back = mr.saving.load_model(tmp_path / "m.keras")
    x = [QUERY_TOKENS, np.array([[8, 1, 5], [3, 3, 3]])]
    for ours, theirs in zip(model.predict(x, verbose=0), back.predict(x, verbose=0),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: mr.layers.StringLookup(output_mode="multi_hot", sparse=True), ValueError,
     "sparse"),
    (lambda: mr.layers.StringLookup(salt=3), ValueError, "SipHash"),
    (lambda: mr.layers.Hashing(4, salt=3), ValueError, "SipHash"),
    (lambda: mr.layers.Hashing(0), ValueError, "num_bins"),
    (lambda: mr.layers.StringLookup(invert=True, output_mode="count"), ValueError, "invert"),
    (lambda: mr.layers.StringLookup(output_mode="bag"), ValueError, "output_mode"),
    (lambda: mr.layers.StringLookup(vocabulary=["a", "a"]), ValueError, "repeated"),
    (lambda: mr.layers.StringLookup(vocabulary=["a", "[UNK]"]), ValueError, "OOV token"),
    (lambda: mr.layers.StringLookup(max_tokens=2, vocabulary=["a", "b"]), ValueError,
     "larger than the maximum"),
    (lambda: mr.layers.StringLookup(output_mode="tf_idf", vocabulary=["a"]), ValueError,
     "idf_weights"),
    (lambda: mr.layers.TextVectorization(output_mode="count", output_sequence_length=3),
     ValueError, "output_sequence_length"),
    (lambda: mr.layers.TextVectorization(split="comma"), ValueError, "split"),
    (lambda: mr.layers.TextVectorization(ragged=True), ValueError, "ragged"),
    (lambda: mr.layers.CategoryEncoding(), ValueError, "num_tokens"),
    (lambda: mr.layers.Discretization(), ValueError, "num_bins"),
    (lambda: mr.layers.Discretization(bin_boundaries=[0.0], num_bins=2), ValueError, "Both"),
    (lambda: mr.layers.Resizing(2, 2, antialias=True), ValueError, "antialias"),
    (lambda: mr.layers.Resizing(2, 2, interpolation="bicubic"), ValueError, "interpolation"),
    (lambda: mr.layers.CenterCrop(0, 2), ValueError, "height"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_calls_are_refused():
    with pytest.raises(RuntimeError, match="vocabulary before calling"):
        mr.layers.StringLookup(output_mode="multi_hot")(np.array([["a"]]))
    with pytest.raises(ValueError, match="all inputs should be in vocabulary"):
        mr.layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"]))
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        mr.layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="expected strings"):
        mr.layers.StringLookup(vocabulary=["a"])(np.array([1.5]))
    with pytest.raises(ValueError, match="Cannot adapt"):
        mr.layers.StringLookup(vocabulary=["a"]).adapt(["a"])
    with pytest.raises(ValueError, match="bin_boundaries"):
        mr.layers.Discretization(num_bins=3)(np.zeros((1, 1)))


@pytest.mark.parametrize("make", [lambda layers: layers.Rescaling(0.5, offset=1.0),
                                  lambda layers: layers.Discretization(bin_boundaries=[0.0, 1.0])],
                         ids=["Rescaling", "Discretization"])
def test_the_built_input_shape_is_written_as_keras_writes_it(keras, make):
    """Keras records the shape these layers were built with (its build_config): a `.keras`
    file of minired's then reads as Keras' own, entry for entry."""
    x = np.linspace(-1, 2, 8, dtype="float32").reshape(2, 4)
    ours, theirs = make(mr.layers), make(keras.layers)
    assert ours.get_build_config() is None and theirs.get_build_config() is None   # unbuilt
    mr.Sequential([mr.Input((4,)), ours]), keras.Sequential([keras.Input((4,)), theirs])
    assert ours.get_build_config() == {"input_shape": (None, 4)} == theirs.get_build_config()
    clone = type(ours).from_config(ours.get_config())
    clone.build_from_config(ours.get_build_config())
    assert clone.built and np.array_equal(clone(x), ours(x))
