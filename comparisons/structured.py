"""Structured (tabular) data: HashedCrossing and FeatureSpace beside Keras.

- ``hashed_crossing``: the bins of crossed strings and integers (TensorFlow's
  SparseCrossHashed: FarmHash fingerprints folded by FingerprintCat64), in both output
  modes. Bins are integers: equal, or not.
- ``feature_space``: keras-io's "Structured data classification with FeatureSpace" data
  pipeline on a heart-disease-like table: every feature type and two crosses, adapted on
  a dict (minired) and on the same dict (Keras), and on batches (minired's PyDataset,
  Keras' tf.data); the encoded vectors in "concat" mode and the indices in "dict" mode.
  The only inexact column is the Normalization's in float32 (Keras adapts it with
  TensorFlow's reduce_mean, 1 ulp apart).
- ``feature_space_fit``: a Dense classifier fitted for 5 epochs on each library's encoded
  features: losses per epoch and final weights.
"""

from __future__ import annotations

import numpy as np

from comparisons.keras_env import keras, mr, precision, tf
from comparisons.registry import Outcome, case

N = 240


def heart_table(n: int = N, seed: int = 0) -> tuple[dict, np.ndarray]:
    """A table with the columns (and kinds) of keras-io's heart-disease data."""
    rng = np.random.default_rng(seed)
    table = {"sex": rng.integers(0, 2, n), "cp": rng.integers(0, 5, n),
             "fbs": rng.integers(0, 2, n), "restecg": rng.integers(0, 3, n),
             "exang": rng.integers(0, 2, n), "ca": rng.integers(0, 4, n),
             "thal": rng.choice(["fixed", "normal", "reversible", "1", "2"], n),
             "age": rng.normal(54, 9, n).round(), "trestbps": rng.normal(131, 17, n),
             "chol": rng.normal(246, 51, n), "thalach": rng.normal(150, 23, n),
             "oldpeak": rng.exponential(1.0, n).round(1), "slope": rng.integers(1, 4, n)}
    labels = (table["thalach"] + 20 * table["exang"] < 150).astype("float32")
    return table, labels


def heart_space(F, output_mode: str = "concat", categorical_mode: str = "one_hot"):
    """keras-io's FeatureSpace for the heart data, plus a hashed and a plain feature."""
    return F(features={
        "sex": F.integer_categorical(num_oov_indices=0, output_mode=categorical_mode,
                                     name="sex"),
        "cp": F.integer_categorical(num_oov_indices=0, name="cp"),
        "fbs": F.integer_categorical(num_oov_indices=0, name="fbs"),
        "restecg": F.integer_hashed(8, name="restecg"),
        "exang": F.integer_categorical(num_oov_indices=0, name="exang"),
        "ca": F.integer_categorical(num_oov_indices=0, output_mode=categorical_mode,
                                    name="ca"),
        "thal": F.string_categorical(num_oov_indices=0, output_mode=categorical_mode,
                                     name="thal"),
        "age": F.float_discretized(num_bins=30, output_mode=categorical_mode, name="age"),
        "trestbps": F.float_normalized(name="trestbps"),
        "chol": F.float_rescaled(scale=0.01, name="chol"),
        "thalach": F.float_normalized(name="thalach"),
        "oldpeak": F.float(name="oldpeak"),
        "slope": F.float_normalized(name="slope"),
    }, crosses=[F.cross(("sex", "age"), crossing_dim=64, output_mode=categorical_mode),
                F.cross(("thal", "ca"), crossing_dim=16, output_mode=categorical_mode)],
        output_mode=output_mode)


class TableBatches(mr.utils.PyDataset):
    """The table in batches of ``(features, labels)``, as ``tf.data...batch(size)``."""

    def __init__(self, table: dict, labels: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.table, self.labels, self.batch_size = table, labels, batch_size

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index: int):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return {k: v[rows] for k, v in self.table.items()}, self.labels[rows]


def as_float(value) -> np.ndarray:
    return np.asarray(value).astype(np.float64)


@case("structured", "hashed_crossing")
def hashed_crossing(dtype):
    """HashedCrossing: strings × integers, integers × integers, three inputs, scalars, and
    the one-hot mode (bins of 2, 7, 1000 and 2⁴⁰)."""
    words = np.array(["", "a", "abc", "hello", "sixteen bytes!!!", "ü" * 12, "x" * 40,
                      "long " * 30, "cat", "a"], dtype=object)
    ints = np.array([3, -12, 100000007, 0, 42, 7, 3, 9, -2**63, 2**63 - 1])
    small = np.arange(10, dtype=np.int32) * 37 - 100
    pairs = []
    with precision(dtype):
        for label, inputs in (("strings x ints", (words, ints)), ("ints x ints", (ints, small)),
                              ("three inputs", (words, words[::-1], ints)),
                              ("(N, 1) inputs", (words[:, None], small[:, None])),
                              ("scalars", ("thal", 3))):
            for bins in (2, 7, 1000, 2**40):
                ours = mr.layers.HashedCrossing(bins)(inputs)
                theirs = keras.layers.HashedCrossing(bins)(inputs)
                pairs.append((f"{label}, {bins} bins", as_float(ours), as_float(theirs)))
        ours = mr.layers.HashedCrossing(9, output_mode="one_hot")((words, ints))
        theirs = keras.layers.HashedCrossing(9, output_mode="one_hot")((words, ints))
        pairs.append(("one_hot", as_float(ours), as_float(theirs)))
    return Outcome(pairs)


@case("structured", "feature_space")
def feature_space(dtype):
    """FeatureSpace on keras-io's heart columns: concat after adapt on a dict and on
    batches (PyDataset / tf.data), dict mode with int indices, and one sample."""
    table, labels = heart_table()
    pairs = []
    with precision(dtype):
        ours, theirs = heart_space(mr.utils.FeatureSpace), heart_space(keras.utils.FeatureSpace)
        ours.adapt(table)
        theirs.adapt(table)
        pairs.append(("concat, adapted on a dict", ours(table), np.asarray(theirs(table))))
        sample = {name: values[7].item() for name, values in table.items()}
        pairs.append(("one sample", ours(sample), np.asarray(theirs(sample))))

        ours, theirs = heart_space(mr.utils.FeatureSpace), heart_space(keras.utils.FeatureSpace)
        ours.adapt(TableBatches(table, labels, batch_size=32))
        theirs.adapt(tf.data.Dataset.from_tensor_slices((table, labels)).batch(32)
                     .map(lambda x, _: x))
        pairs.append(("concat, adapted on batches", ours(table), np.asarray(theirs(table))))

        ours = heart_space(mr.utils.FeatureSpace, "dict", categorical_mode="int")
        theirs = heart_space(keras.utils.FeatureSpace, "dict", categorical_mode="int")
        ours.adapt(table)
        theirs.adapt(table)
        got, expected = ours(table), theirs(table)
        for name in sorted(expected):
            pairs.append((f"dict[{name!r}]", as_float(got[name]), as_float(expected[name])))
    return Outcome(pairs)


@case("structured", "feature_space_fit", kind="training")
def feature_space_fit(dtype):
    """A Dense classifier on each library's FeatureSpace encoding of the heart columns,
    fitted 5 epochs with SGD (same initial weights): losses per epoch, final weights."""
    from comparisons.mirror import to_keras

    table, labels = heart_table()
    with precision(dtype):
        ours, theirs = heart_space(mr.utils.FeatureSpace), heart_space(keras.utils.FeatureSpace)
        ours.adapt(TableBatches(table, labels, batch_size=32))
        theirs.adapt(tf.data.Dataset.from_tensor_slices(table).batch(32))
        x, keras_x = ours(table), np.asarray(theirs(table))
        mr.utils.set_random_seed(0)
        model = mr.Sequential([mr.Input((x.shape[1],)),
                               mr.layers.Dense(8, activation="relu"),
                               mr.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=mr.optimizers.SGD(learning_rate=0.05),
                      loss="binary_crossentropy")
        keras_model = to_keras(model)
        history = model.fit(x, labels, epochs=5, batch_size=32, shuffle=False,
                            verbose=0).history["loss"]
        keras_history = keras_model.fit(keras_x, labels, epochs=5, batch_size=32,
                                        shuffle=False, verbose=0).history["loss"]
        pairs = [("encoded features", x, keras_x),
                 ("loss per epoch", np.array(history), np.array(keras_history))]
        for i, (w, v) in enumerate(zip(model.get_weights(), keras_model.get_weights(),
                                       strict=True)):
            pairs.append((f"final weight {i}", w, v))
    return Outcome(pairs, curves={"minired": list(history), "keras": list(keras_history)})
