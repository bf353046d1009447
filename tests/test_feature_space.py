"""FeatureSpace beside Keras: every feature type and crosses, "concat" and "dict" output,
adapt on a dict and on datasets (minired's PyDataset against Keras' tf.data), single
samples, the functional model built on get_inputs/get_encoded_features (keras-io's
"Structured data classification with FeatureSpace"), configs, .keras files both ways,
and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minired as mr
from minired.utils import FeatureSpace

N = 100
#: Enough samples for Discretization's quantile summaries to be compressed (more than
#: 1/epsilon = 100 values), so that how adapt batches the data changes the boundaries.
LARGE = 250


def make_data(n: int = N, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    return {"f": rng.normal(3, 2, n), "r": rng.normal(size=n), "p": rng.uniform(0, 1, n),
            "d": rng.normal(size=n), "i": rng.integers(0, 6, n),
            "s": rng.choice(["a", "bb", "ccc", "dd"], n), "ih": rng.integers(-50, 50, n),
            "sh": rng.choice(["x", "y", "z", "w", "v"], n)}


def make_space(F, output_mode: str = "concat", **modes):
    """Every feature type (named, so both libraries name their layers alike) and two
    crosses; ``modes`` overrides a feature's output_mode."""
    return F(features={
        "f": "float_normalized",
        "r": F.float_rescaled(scale=2.0, offset=1.0, name="r"),
        "p": "float",
        "d": F.float_discretized(num_bins=5, output_mode=modes.get("d", "one_hot"), name="d"),
        "i": F.integer_categorical(output_mode=modes.get("i", "one_hot"), name="i"),
        "s": F.string_categorical(max_tokens=4, output_mode=modes.get("s", "one_hot"),
                                  name="s"),
        "ih": F.integer_hashed(8, output_mode=modes.get("ih", "one_hot"), name="ih"),
        "sh": "string_hashed",
    }, crosses=[("i", "s"), F.cross(("d", "ih"), crossing_dim=16,
                                     output_mode=modes.get("d_X_ih", "one_hot"))],
        crossing_dim=8, hashing_dim=7, output_mode=output_mode)


#: Columns of the "concat" output from the Normalization of "f" (features sorted: d has 5
#: one-hot columns, then f). Keras adapts it batch by batch in float32 with TensorFlow's
#: reduce_mean and (1 - w) rounded from a double; minired's Normalization rounds these
#: 1 ulp apart, so this column alone is compared to 1e-6 (everything else exactly).
NORMALIZED_COLUMNS = [5]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("keras")
    from comparisons import keras_env

    return keras_env.keras


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def assert_concat_equal(ours: np.ndarray, theirs) -> None:
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    exact = [c for c in range(ours.shape[-1]) if c not in NORMALIZED_COLUMNS]
    np.testing.assert_array_equal(ours[..., exact], theirs[..., exact])
    np.testing.assert_allclose(ours[..., NORMALIZED_COLUMNS], theirs[..., NORMALIZED_COLUMNS],
                               rtol=1e-6, atol=1e-6)


# -- a first reading ---------------------------------------------------------------------------

def test_a_first_feature_space():
    data = {"price": np.array([1.0, 2.0, 3.0, 6.0]),
            "color": np.array(["red", "blue", "red", "red"])}
    space = FeatureSpace({"price": "float_normalized", "color": "string_categorical"})
    space.adapt(data)
    out = space(data)
    # sorted names: color ([UNK], red, blue), then price, standardized
    np.testing.assert_array_equal(out[:, :3], [[0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]])
    price = data["price"]
    np.testing.assert_allclose(out[:, 3], (price - price.mean()) / price.std(), rtol=1e-6)
    assert space.preprocessors["color"].get_vocabulary() == ["[UNK]", "red", "blue"]


def test_helper_layers_gradients_match_finite_differences(float64):
    """The two helpers with a backward pass: the identity of "float" features (δx = δa)
    and the concatenation (δa split back into one piece per feature)."""
    from minired.gradcheck import check_layer
    from minired.layers.preprocessing.feature_space import TFDConcat, TFDIdentity

    rng = np.random.default_rng(3)
    results = check_layer(TFDIdentity(dtype="float64"), rng.normal(size=(4, 1)))
    results += check_layer(TFDConcat(axis=-1), [rng.normal(size=(4, 1)),
                                                rng.normal(size=(4, 3)),
                                                rng.normal(size=(4, 2))])
    assert len(results) == 4
    assert max(r.relative_error for r in results) < 1e-7


# -- outputs beside Keras ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_concat_equals_keras(keras, dtype):
    from comparisons.keras_env import precision

    data = make_data(n=LARGE)
    with precision(dtype):
        ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
        ours.adapt(data)
        theirs.adapt(data)
        assert_concat_equal(ours(data), theirs(data))
        assert ours.preprocessors["s"].get_vocabulary() == [
            v.decode() if isinstance(v, bytes) else v
            for v in theirs.preprocessors["s"].get_vocabulary()]
        np.testing.assert_array_equal(ours.preprocessors["d"].bin_boundaries,
                                      theirs.preprocessors["d"].bin_boundaries)


def test_dict_output_with_int_modes_equals_keras(keras):
    data = make_data()
    modes = {"d": "int", "i": "int", "s": "int", "ih": "int", "d_X_ih": "int"}
    ours = make_space(FeatureSpace, "dict", **modes)
    theirs = make_space(keras.utils.FeatureSpace, "dict", **modes)
    ours.adapt(data)
    theirs.adapt(data)
    got, expected = ours(data), theirs(data)
    assert sorted(got) == sorted(expected)
    for name in got:
        want = np.asarray(expected[name])
        assert got[name].shape == want.shape, name
        assert got[name].dtype.kind == want.dtype.kind, name
        if name == "f":
            np.testing.assert_allclose(got[name], want, rtol=1e-6, atol=1e-6)  # see above
        else:
            np.testing.assert_array_equal(got[name], want, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_sample_of_python_scalars_equals_keras(keras, dtype):
    """Python floats become float32 on the way in, as TensorFlow converts them in Keras,
    even with floatx float64."""
    from comparisons.keras_env import precision

    data = make_data()
    with precision(dtype):
        ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
        ours.adapt(data)
        theirs.adapt(data)
        sample = {name: values[3].item() for name, values in data.items()}
        got = ours(sample)
        assert got.ndim == 1
        assert_concat_equal(got, theirs(sample))
        np.testing.assert_array_equal(got, ours({k: [v] for k, v in sample.items()})[0])


def test_python_and_numpy_scalars_convert_as_tensorflow(keras):
    """In float64: a NumPy float64 keeps its precision, a Python float (or a list of them)
    is rounded to float32 first, as TensorFlow converts them in Keras."""
    from comparisons.keras_env import precision

    data = {"x": np.array([0.1, 0.7, 0.3])}
    with precision("float64"):
        results = []
        for lib in (mr, keras):
            space = lib.utils.FeatureSpace({"x": "float_normalized"})
            space.adapt(data)
            results.append([np.asarray(space({"x": value}))
                            for value in (np.float64(0.3), 0.3, [0.3])])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert results[0][0] != results[0][1]          # the rounding is visible


def test_dict_mode_sample_loses_its_batch_axis_as_keras(keras):
    data = make_data()
    ours = make_space(FeatureSpace, "dict")
    theirs = make_space(keras.utils.FeatureSpace, "dict")
    ours.adapt(data)
    theirs.adapt(data)
    sample = {name: values[0].item() for name, values in data.items()}
    got, expected = ours(sample), theirs(sample)
    for name in got:
        assert got[name].shape == tuple(expected[name].shape), name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_docstring_example_with_python_lists(keras, tf, dtype):
    """Python lists of floats are float32 on the way in (TensorFlow's conversion), in
    adapt and in the call, whatever floatx is."""
    from comparisons.keras_env import precision

    raw_data = {"float_values": [0.0, 0.1, 0.2, 0.3],
                "string_values": ["zero", "one", "two", "three"], "int_values": [0, 1, 2, 3]}
    outputs = []
    with precision(dtype):
        for lib in (mr, keras):
            space = lib.utils.FeatureSpace(
                features={"float_values": "float_normalized",
                          "string_values": "string_categorical",
                          "int_values": "integer_categorical"},
                crosses=[("string_values", "int_values")], output_mode="concat")
            space.adapt(raw_data if lib is mr else tf.data.Dataset.from_tensor_slices(raw_data))
            outputs.append(np.asarray(space(raw_data)))
    assert outputs[0].dtype == outputs[1].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_a_cross_of_three_features(keras):
    """Keras' HashedCrossing hashes any number of inputs when called, but its
    compute_output_shape takes two only, so Keras' FeatureSpace fails on a cross of three
    at adapt; minired's works (a deliberate difference), with the bins Keras' layer gives
    the same indices."""
    data = {"a": np.array([1, 2, 3, 1]), "b": np.array([4, 5, 6, 4]),
            "c": np.array(["x", "y", "z", "y"])}
    space = FeatureSpace({"a": "integer_categorical", "b": "integer_categorical",
                          "c": "string_categorical"}, crosses=[("a", "b", "c")],
                         crossing_dim=16, output_mode="dict")
    space.adapt(data)
    indices = [space.preprocessors[name](data[name][:, None]) for name in "abc"]
    expected = np.asarray(keras.layers.HashedCrossing(16)(indices))
    np.testing.assert_array_equal(space(data)["a_X_b_X_c"].argmax(axis=-1), expected[:, 0])
    with pytest.raises(ValueError, match="2 tensors"):
        keras_space = keras.utils.FeatureSpace(
            {"a": "integer_categorical", "b": "integer_categorical",
             "c": "string_categorical"}, crosses=[("a", "b", "c")], output_mode="dict")
        keras_space.adapt(data)


def test_custom_preprocessors_as_keras_docstring(keras):
    """Keras' docstring example: a TF-IDF TextVectorization as a custom "float" feature;
    with it a Normalization given its mean and variance, which adapt leaves alone."""
    data = {"text": np.array(["1st string", "2nd string", "3rd string", "the 2nd one"]),
            "x": np.array([1.0, 2.0, 3.0, 4.0])}
    spaces = []
    for lib in (mr, keras):
        F = lib.utils.FeatureSpace
        space = F(features={
            "text": F.feature(preprocessor=lib.layers.TextVectorization(output_mode="tf_idf"),
                              dtype="string", output_mode="float"),
            "x": F.feature("float32", lib.layers.Normalization(mean=2.0, variance=4.0),
                           "float")}, output_mode="dict")
        space.adapt(data)
        spaces.append(space(data))
    ours, theirs = spaces
    for name in ("text", "x"):
        np.testing.assert_array_equal(ours[name], np.asarray(theirs[name]), err_msg=name)
    np.testing.assert_array_equal(ours["x"][:, 0], [-0.5, 0.0, 0.5, 1.0])


# -- adapt on datasets -------------------------------------------------------------------------

class Batches(mr.utils.PyDataset):
    """(features, labels) batches of a dict, as a keras-io script's tf.data pipeline."""

    def __init__(self, data: dict, labels: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.data, self.labels, self.batch_size = data, labels, batch_size

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index: int):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return {k: v[rows] for k, v in self.data.items()}, self.labels[rows]


def test_adapt_on_a_pydataset_equals_keras_on_tf_data(keras, tf):
    data, labels = make_data(n=LARGE), np.arange(LARGE) % 2
    ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
    ours.adapt(Batches(data, labels, batch_size=16))
    dataset = tf.data.Dataset.from_tensor_slices((data, labels)).batch(16)
    theirs.adapt(dataset.map(lambda x, _: x))
    assert_concat_equal(ours(data), theirs(data))
    np.testing.assert_array_equal(ours.preprocessors["d"].bin_boundaries,
                                  theirs.preprocessors["d"].bin_boundaries)


def test_adapt_on_single_samples_regroups_them_by_32_as_keras(keras, tf):
    data = make_data(n=LARGE)
    ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
    samples = [{k: v[i] for k, v in data.items()} for i in range(LARGE)]
    ours.adapt(iter(samples))                               # a generator of samples
    theirs.adapt(tf.data.Dataset.from_tensor_slices(data))
    assert_concat_equal(ours(data), theirs(data))
    np.testing.assert_array_equal(ours.preprocessors["d"].bin_boundaries,
                                  theirs.preprocessors["d"].bin_boundaries)


def test_adapt_on_a_dict_of_columns_is_one_batch_per_sample_as_keras(keras):
    """A dict of (N, 1) arrays: tf.data slices it into N elements of shape (1,), which
    Keras' adapt gives the layers one at a time (the quantiles differ from (N,) data)."""
    data = {"d": np.random.default_rng(5).normal(size=(LARGE, 1))}
    ours = FeatureSpace({"d": FeatureSpace.float_discretized(4, name="d")})
    theirs = keras.utils.FeatureSpace({"d": keras.utils.FeatureSpace.float_discretized(
        4, name="d")})
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_array_equal(ours.preprocessors["d"].bin_boundaries,
                                  theirs.preprocessors["d"].bin_boundaries)
    np.testing.assert_array_equal(ours(data), np.asarray(theirs(data)))


# -- the functional model (keras-io's tutorial) ------------------------------------------------

def test_model_on_encoded_features_matches_calling_the_space(keras):
    data, labels = make_data(), (np.arange(N) % 2).astype("float32")
    space = make_space(FeatureSpace)
    space.adapt(Batches(data, labels, batch_size=32))
    inputs, encoded = space.get_inputs(), space.get_encoded_features()
    assert sorted(inputs) == sorted(data)
    assert inputs["s"].dtype == "string" and inputs["i"].dtype == "int32"
    theirs = make_space(keras.utils.FeatureSpace)
    theirs.adapt(data)
    assert encoded.shape == tuple(theirs.get_encoded_features().shape)

    mr.utils.set_random_seed(0)
    hidden = mr.layers.Dense(8, activation="relu")(encoded)
    predictions = mr.layers.Dense(1, activation="sigmoid")(hidden)
    training_model = mr.Model(inputs=encoded, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy")
    training_model.fit(space(data), labels, epochs=2, batch_size=32, verbose=0)
    inference_model = mr.Model(inputs=inputs, outputs=predictions)
    expected = training_model.predict(space(data), verbose=0)
    np.testing.assert_allclose(inference_model.predict(data, verbose=0), expected, rtol=1e-6)
    sample = {name: np.array([values[0]]) for name, values in data.items()}
    np.testing.assert_allclose(inference_model.predict(sample, verbose=0), expected[:1],
                               rtol=1e-6)


# -- config and saving -------------------------------------------------------------------------

def _without_shared_ids(value):
    if isinstance(value, dict):
        return {k: _without_shared_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list | tuple):
        return [_without_shared_ids(v) for v in value]
    return value


def _plain_json(value) -> dict:
    return _without_shared_ids(json.loads(json.dumps(value, default=list)))


def test_config_equals_keras(keras):
    data = make_data()
    ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
    ours.adapt(data)
    theirs.adapt(data)
    got = _plain_json(mr.saving.serialize_keras_object(ours))
    expected = _plain_json(keras.saving.serialize_keras_object(theirs))
    assert got["module"] == expected["module"] == "keras.utils"
    assert got["class_name"] == "FeatureSpace"
    assert got["build_config"]["r"] == {"input_shape": [None, 1]}   # Rescaling's, as Keras
    assert got == expected
    again = FeatureSpace.from_config(ours.get_config())
    assert _plain_json(again.get_config()) == _plain_json(ours.get_config())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_file_is_read_by_keras_and_keras_file_by_minired(keras, tmp_path, dtype):
    from comparisons.keras_env import precision

    data = make_data()
    with precision(dtype):
        ours, theirs = make_space(FeatureSpace), make_space(keras.utils.FeatureSpace)
        ours.adapt(data)
        theirs.adapt(data)
        expected = ours(data)
        ours.save(tmp_path / "ours.keras")
        back = mr.models.load_model(tmp_path / "ours.keras")
        np.testing.assert_array_equal(back(data), expected)
        assert_concat_equal(expected, keras.models.load_model(tmp_path / "ours.keras")(data))
        theirs.save(tmp_path / "theirs.keras")
        from_keras = mr.models.load_model(tmp_path / "theirs.keras")
        np.testing.assert_array_equal(from_keras(data), np.asarray(theirs(data)))


@pytest.mark.filterwarnings("ignore:The structure of `inputs`:UserWarning")   # Keras' own
def test_inference_model_file_is_read_by_both(keras, tmp_path):
    """A model on get_inputs/get_encoded_features holds the space's layers (TFDIdentity
    and TFDConcat included, written under Keras' module): saved by either library, read
    by the other, same predictions."""
    data = {"p": np.array([0.1, 0.2, 0.3]), "s": np.array(["a", "b", "a"], dtype=object),
            "i": np.array([1, 2, 1])}
    predictions = {}
    for lib in (mr, keras):
        space = lib.utils.FeatureSpace({"p": "float", "s": "string_categorical",
                                        "i": "integer_categorical"}, crosses=[("s", "i")])
        space.adapt(data)
        model = lib.Model(space.get_inputs(),
                          lib.layers.Dense(1)(space.get_encoded_features()))
        predictions[lib.__name__] = np.asarray(model.predict(data, verbose=0))
        model.save(tmp_path / f"{lib.__name__}.keras")
    from_minired = keras.saving.load_model(tmp_path / "minired.keras")
    # a float32 Dense: TensorFlow's and NumPy's matmul may round the last bit apart
    np.testing.assert_allclose(from_minired.predict(data, verbose=0), predictions["minired"],
                               rtol=1e-6)
    from_keras = mr.saving.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(from_keras.predict(data, verbose=0), predictions["keras"],
                               rtol=1e-6)


def test_dict_mode_file_round_trips(tmp_path):
    data = make_data()
    space = make_space(FeatureSpace, "dict", i="int", s="int")
    space.adapt(data)
    space.save(tmp_path / "space.keras")
    back = mr.saving.load_model(tmp_path / "space.keras")
    got, expected = back(data), space(data)
    assert sorted(got) == sorted(expected)
    for name in got:
        np.testing.assert_array_equal(got[name], expected[name])


# -- errors ------------------------------------------------------------------------------------

def test_errors_as_keras(keras):
    data = make_data()
    for F in (FeatureSpace, keras.utils.FeatureSpace):
        with pytest.raises(ValueError, match="adapt"):
            F({"f": "float_normalized"})(data)
        with pytest.raises(ValueError, match="unknown features"):
            F({"f": "float_normalized"}, crosses=[("f", "x")])
        with pytest.raises(ValueError, match="output_mode"):
            F({"f": "float"}, output_mode="list")
        with pytest.raises(ValueError, match="Invalid feature type"):
            F({"f": "floating"})
        with pytest.raises(ValueError, match="cannot be None or empty"):
            F({})
        with pytest.raises(ValueError, match="integer dtype"):
            F({"f": F.feature("float32", mr.layers.Rescaling(1.0) if F is FeatureSpace
                              else keras.layers.Rescaling(1.0), "one_hot")}).adapt(data)
        with pytest.raises(ValueError, match="has not been encoded"):
            F({"i": F.integer_categorical(output_mode="int")}).adapt(data)
        with pytest.raises(ValueError, match="only be called with a dict"):
            F({"p": "float"})(data["p"])
        with pytest.raises(ValueError, match="adapt"):
            F({"f": "float_normalized"}).adapt([1, 2])
        with pytest.raises(ValueError, match="output_mode"):
            F.cross(("a", "b"), 4, output_mode="count")


def test_minired_errors_name_what_is_wrong():
    space = FeatureSpace({"p": "float", "q": "float"})
    with pytest.raises(ValueError, match=r"unknown \['x'\], missing \['q'\]"):
        space({"p": [1.0], "x": [2.0]})
    with pytest.raises(ValueError, match="no feature 'f'"):
        FeatureSpace({"f": "float_normalized"}).adapt({"g": np.ones(3)})
    with pytest.raises(ValueError, match="dict of arrays"):
        FeatureSpace({"f": "float_normalized"}).adapt([np.ones(3)])
